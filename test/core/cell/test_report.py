"""Cell run summaries: confusion against folder labels, latency percentiles, graph overhead."""

from inspection_nodes.core.cell.report import UnitRecord, format_table, report


def _record(i: int, folder: str, verdict: str, c2v: float, engine: float) -> UnitRecord:
    return UnitRecord(
        unit_id=f"u{i}",
        image=f"data/test/{folder}/{i:03d}.png",
        stamp_ns=1000 - i,  # out of order on purpose: the report sorts by capture stamp
        verdict=verdict,
        score=float(i),
        camera_to_verdict_ms=c2v,
        engine_ms=engine,
    )


def test_report_counts_escapes_false_rejects_and_missing_units() -> None:
    records = [
        _record(0, "good", "PASS", 30.0, 10.0),
        _record(1, "good", "FAIL", 32.0, 11.0),
        _record(2, "crack", "FAIL", 34.0, 12.0),
        _record(3, "crack", "PASS", 36.0, 13.0),
        _record(4, "crack", "", float("nan"), float("nan")),
    ]
    summary = report(records, expected_units=6)
    assert summary["units"] == 5 and summary["expected_units"] == 6
    assert summary["confusion"] == {
        "good_pass": 1,
        "good_fail": 1,
        "defect_pass": 1,
        "defect_fail": 1,
    }
    assert [v["unit_id"] for v in summary["verdicts"]] == ["u4", "u3", "u2", "u1", "u0"]
    assert summary["verdicts"][0]["verdict"] == "MISSING"
    lat = summary["latency_ms"]
    assert lat["camera_to_verdict"]["p50"] == 33.0 and lat["engine"]["p50"] == 11.5
    assert lat["graph_overhead_p50"] == 21.5
    table = format_table(summary, root="data/test")
    assert "units 5 of 6 images" in table and "graph overhead ms   p50 21.5" in table


def test_overhead_is_none_without_verdicts() -> None:
    summary = report([_record(0, "good", "", float("nan"), float("nan"))], expected_units=1)
    assert summary["latency_ms"]["graph_overhead_p50"] is None

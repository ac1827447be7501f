"""`inspection bench drift` end to end on the tiny model (short phases): the report has the
issue's keys, the darkening is seen, and the recalibrated versions form a lineage."""

from __future__ import annotations

import json

from inspection_nodes.cli.main import main


def test_drift_bench_reports_the_required_numbers(tiny_model, bottle_subset, tmp_path) -> None:
    out = tmp_path / "drift.json"
    args = ["bench", "drift", "--model", str(tiny_model), "--data", str(bottle_subset)]
    args += ["--json", str(out), "--units-before-shift", "35", "--max-delay", "40"]
    args += ["--units-after", "32", "--versions", str(tmp_path / "versions")]
    assert main(args) == 0
    r = json.loads(out.read_text())
    assert r["units_before_shift"] == 35 and isinstance(r["false_alerts"], int)
    assert set(r["detect_delay_units"]) == {"brightness", "geometry"}
    assert 1 <= r["detect_delay_units"]["brightness"] <= 40  # -25 % light: luminance alone
    after = r["after_recalibration"]
    assert isinstance(after["false_alerts"], int) and 0.0 <= after["image_auroc"] <= 1.0
    assert 0.0 <= r["image_auroc_unshifted"] <= 1.0
    first, second = after["models"]
    r2 = json.loads((tmp_path / "versions" / f"{tiny_model.name}.r2" / "manifest.json").read_text())
    assert (
        r2["parent_version"] == first["model_version"]
        and second["model_version"] == r2["model_version"]
    )
    assert len(r["trace"]["unchanged"]["index"]) == 35


def test_drift_bench_refuses_a_missing_model(bottle_subset, tmp_path, capsys) -> None:
    args = ["bench", "drift", "--model", str(tmp_path / "none"), "--data", str(bottle_subset)]
    assert main([*args, "--json", str(tmp_path / "x.json")]) == 2
    assert "error" in capsys.readouterr().err and not (tmp_path / "x.json").exists()

"""Summaries of a cell run: per-unit rows, confusion against folder labels, latency percentiles."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class UnitRecord:
    unit_id: str
    image: str
    stamp_ns: int
    verdict: str = ""
    score: float = float("nan")
    reasons: list[str] = field(default_factory=list)
    camera_to_verdict_ms: float = float("nan")
    engine_ms: float = float("nan")
    stages: dict[str, float] = field(default_factory=dict)


def folder_label(image: str) -> str:
    """MVTec layout: test/good/x.png is good, test/<defect>/x.png is a defect."""
    parent = Path(image).parent.name
    return "good" if parent == "good" else "defect" if parent else "unknown"


def percentiles(values: Iterable[float]) -> dict[str, float | None]:
    arr = np.asarray([v for v in values if v == v], dtype=np.float64)
    if arr.size == 0:
        return {"p50": None, "p99": None}
    return {
        "p50": round(float(np.percentile(arr, 50)), 3),
        "p99": round(float(np.percentile(arr, 99)), 3),
    }


def confusion(records: Sequence[UnitRecord]) -> dict[str, int]:
    """Counts of (label, verdict): a defect that PASSes is an escape, a good that FAILs a false
    reject."""
    out = {"good_pass": 0, "good_fail": 0, "defect_pass": 0, "defect_fail": 0}
    for r in records:
        label = folder_label(r.image)
        if label in ("good", "defect") and r.verdict in ("PASS", "FAIL"):
            out[f"{label}_{r.verdict.lower()}"] += 1
    return out


def graph_overhead_ms(camera_to_verdict: dict, engine: dict) -> float | None:
    """camera->verdict p50 minus engine p50: what the node graph adds around the engine
    (transport, ROI, gate), the figure the latency target is about."""
    if camera_to_verdict["p50"] is None or engine["p50"] is None:
        return None
    return round(camera_to_verdict["p50"] - engine["p50"], 3)


def report(records: Sequence[UnitRecord], expected_units: int) -> dict:
    ordered = sorted(records, key=lambda r: r.stamp_ns)
    camera_to_verdict = percentiles(r.camera_to_verdict_ms for r in ordered)
    engine = percentiles(r.engine_ms for r in ordered)
    return {
        "units": len(ordered),
        "expected_units": expected_units,
        "verdicts": [
            {
                "unit_id": r.unit_id,
                "image": r.image,
                "verdict": r.verdict or "MISSING",
                "score": None if r.score != r.score else round(r.score, 5),
                "reasons": r.reasons,
                "stamp_ns": r.stamp_ns,
                "camera_to_verdict_ms": None
                if r.camera_to_verdict_ms != r.camera_to_verdict_ms
                else round(r.camera_to_verdict_ms, 3),
                "stages_ms": {k: round(v, 3) for k, v in r.stages.items()},
            }
            for r in ordered
        ],
        "confusion": confusion(ordered),
        "latency_ms": {
            "camera_to_verdict": camera_to_verdict,
            "engine": engine,
            "graph_overhead_p50": graph_overhead_ms(camera_to_verdict, engine),
            "stages": {
                stage: percentiles(r.stages.get(stage, float("nan")) for r in ordered)
                for stage in sorted({s for r in ordered for s in r.stages})
            },
        },
    }


def format_table(summary: dict, root: str = "") -> str:
    lines = [f"{'unit':<14} {'verdict':<7} {'score':>8}  image / reasons"]
    for v in summary["verdicts"]:
        image = (
            v["image"][len(root) :].lstrip("/")
            if root and v["image"].startswith(root)
            else v["image"]
        )
        score = "-" if v["score"] is None else f"{v['score']:.3f}"
        reason = ("; " + "; ".join(v["reasons"])) if v["reasons"] and v["verdict"] != "PASS" else ""
        lines.append(f"{v['unit_id']:<14} {v['verdict']:<7} {score:>8}  {image}{reason[:90]}")
    c = summary["confusion"]
    lat = summary["latency_ms"]
    lines += [
        "",
        f"units {summary['units']} of {summary['expected_units']} images",
        "confusion (rows = folder label):   PASS   FAIL",
        f"  good                           {c['good_pass']:>5}  {c['good_fail']:>5}",
        f"  defect                         {c['defect_pass']:>5}  {c['defect_fail']:>5}",
        "camera->verdict ms  p50 {p50}  p99 {p99}".format(**lat["camera_to_verdict"]),
        "engine ms           p50 {p50}  p99 {p99}".format(**lat["engine"]),
        f"graph overhead ms   p50 {lat['graph_overhead_p50']}  (camera->verdict - engine)",
    ]
    return "\n".join(lines)

"""Cell messages as JSON-ready dicts: one conversion shared by the recorder (evidence), the
bridge (MQTT payloads) and the foxglove and metrics nodes, so all describe a unit the same way."""

from __future__ import annotations

from typing import Any

from diagnostic_msgs.msg import DiagnosticArray

from inspection_msgs.msg import (
    ActuatorEvent,
    AnomalyResult,
    Disposition,
    StabilityReport,
    Verdict,
)
from inspection_nodes.core.bridge.payloads import finite_or_none
from inspection_nodes.nodes.convert import stamp_to_ns, timings_dict

DECISIONS = {Verdict.FAIL: "FAIL", Verdict.PASS: "PASS"}
OUTCOMES = {
    ActuatorEvent.FIRED: "FIRED",
    ActuatorEvent.LATE: "LATE",
    ActuatorEvent.MISSED: "MISSED",
    ActuatorEvent.DUPLICATE: "DUPLICATE",
    ActuatorEvent.SKIPPED: "SKIPPED",
}
LEVELS = {
    StabilityReport.OK: "OK",
    StabilityReport.WATCH: "WATCH",
    StabilityReport.RECALIBRATE: "RECALIBRATE",
}


def verdict_body(msg: Verdict) -> dict[str, Any]:
    return {
        "unit_id": msg.unit_id,
        "stamp_ns": stamp_to_ns(msg.header.stamp),
        "source": msg.source,
        "decision": DECISIONS.get(msg.decision, "FAIL"),
        "reasons": list(msg.reasons),
        "score": finite_or_none(msg.score),
        "image_threshold": finite_or_none(msg.image_threshold),
        "model_version": msg.model_version,
        "config_version": msg.config_version,
        "decided_at_ms": finite_or_none(msg.decided_at_ms),
        "timings_ms": {k: finite_or_none(v) for k, v in timings_dict(msg.timings).items()},
    }


def actuator_body(msg: ActuatorEvent) -> dict[str, Any]:
    return {
        "unit_id": msg.unit_id,
        "stamp_ns": stamp_to_ns(msg.header.stamp),
        "outcome": OUTCOMES.get(msg.outcome, "MISSED"),
        "backend": msg.backend,
        "scheduled_delay_ms": finite_or_none(msg.scheduled_delay_ms),
        "timing_error_ms": finite_or_none(msg.timing_error_ms),
        "pulse_width_ms": finite_or_none(msg.pulse_width_ms),
        "detail": msg.detail,
    }


def stability_body(msg: StabilityReport) -> dict[str, Any]:
    return {
        "stamp_ns": stamp_to_ns(msg.header.stamp),
        "model_version": msg.model_version,
        "window_units": int(msg.window_units),
        "index": finite_or_none(msg.index),
        "level": LEVELS.get(msg.level, "RECALIBRATE"),
        "components": [
            {
                "name": c.name,
                "value": finite_or_none(c.value),
                "normalised": finite_or_none(c.normalised),
            }
            for c in msg.components
        ],
        "rhythm": {
            "state": msg.rhythm_state or "learning",
            "alert": bool(msg.rhythm_alert),
            "period_s": finite_or_none(msg.rhythm_period_s),
            "periodicity": finite_or_none(msg.rhythm_periodicity),
            "gap_s": finite_or_none(msg.rhythm_gap_s),
            "missing_units": int(msg.rhythm_missing_units),
            "stops": int(msg.rhythm_stops),
            "detail": msg.rhythm_detail,
        },
    }


DISPOSITIONS = {
    Disposition.CONFIRMED: "CONFIRMED",
    Disposition.FALSE_REJECT: "FALSE_REJECT",
    Disposition.ESCAPE: "ESCAPE",
}


def anomaly_body(msg: AnomalyResult) -> dict[str, Any]:
    return {
        "unit_id": msg.unit_id,
        "stamp_ns": stamp_to_ns(msg.header.stamp),
        "model_version": msg.model_version,
        "method": msg.method,
        "score": finite_or_none(msg.score),
        "image_threshold": finite_or_none(msg.image_threshold),
        "pixel_threshold": finite_or_none(msg.pixel_threshold),
        "max_pixel_score": finite_or_none(msg.max_pixel_score),
        "area_px": int(msg.area_px),
        "largest_region_px": int(msg.largest_region_px),
        "map_size": [int(msg.map_height), int(msg.map_width)],
        "peak": [int(msg.peak_row), int(msg.peak_col)],
        "nearest_normals": list(msg.nearest_normals),
        "timings_ms": {k: finite_or_none(v) for k, v in timings_dict(msg.timings).items()},
    }


def disposition_body(msg: Disposition) -> dict[str, Any]:
    return {
        "unit_id": msg.unit_id,
        "stamp_ns": stamp_to_ns(msg.header.stamp),
        "disposition": DISPOSITIONS.get(msg.disposition, "UNKNOWN"),
        "defect_class": msg.defect_class,
        "operator_id": msg.operator_id,
        "note": msg.note,
    }


def diagnostics_bodies(msg: DiagnosticArray) -> list[dict[str, Any]]:
    """One JSON object per node status of a DiagnosticArray (Foxglove's diagnostics channel)."""
    stamp = stamp_to_ns(msg.header.stamp)
    return [
        {
            "stamp_ns": stamp,
            "node": status.name,
            "level": status.level[0] if isinstance(status.level, bytes) else int(status.level),
            "message": status.message,
            "values": {kv.key: kv.value for kv in status.values},
        }
        for status in msg.status
    ]

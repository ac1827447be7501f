"""Messages as JSON bodies (recorder evidence, bridge payloads): schema-valid, NaN as null, and
the message codes named like the core enums that produce them."""

import math

from inspection_msgs.msg import (
    ActuatorEvent,
    AnomalyResult,
    Disposition,
    StabilityComponent,
    StabilityReport,
    Verdict,
)
from inspection_nodes.core.actuation.scheduler import Outcome
from inspection_nodes.core.bridge.payloads import envelope, validator
from inspection_nodes.core.evidence.dispositions import DispositionKind
from inspection_nodes.core.stability.index import Level
from inspection_nodes.nodes.convert import ns_to_stamp, timing
from inspection_nodes.nodes.msg_json import (
    DISPOSITIONS,
    LEVELS,
    OUTCOMES,
    actuator_body,
    anomaly_body,
    disposition_body,
    stability_body,
    verdict_body,
)


def test_message_codes_are_named_like_the_core_enums():
    assert {code: name for code, name in OUTCOMES.items()} == {o.value: o.name for o in Outcome}
    assert {level.value: level.name for level in Level} == LEVELS
    assert {kind.value: kind.name for kind in DispositionKind} == DISPOSITIONS


def test_bodies_are_schema_valid_and_carry_no_nan():
    verdict = Verdict(unit_id="u1", decision=Verdict.PASS, score=math.nan, reasons=["ok"])
    verdict.header.stamp = ns_to_stamp(7)
    verdict.timings = [timing("gate", 0.2)]
    body = verdict_body(verdict)
    assert (body["decision"], body["score"], body["stamp_ns"]) == ("PASS", None, 7)
    validator("verdict").validate(envelope("verdict", "cell-1", "k", body))
    event = ActuatorEvent(unit_id="u1", outcome=ActuatorEvent.LATE, backend="modbus")
    assert actuator_body(event)["outcome"] == "LATE"
    validator("actuator_event").validate(envelope("actuator_event", "c", "k", actuator_body(event)))
    report = StabilityReport(model_version="m", level=StabilityReport.WATCH, index=0.7)
    report.components = [StabilityComponent(name="luminance", value=-0.1, normalised=1.0)]
    validator("stability").validate(envelope("stability", "c", "k", stability_body(report)))
    assert stability_body(report)["level"] == "WATCH"
    report.rhythm_state, report.rhythm_alert, report.rhythm_missing_units = "missing", True, 1
    report.rhythm_period_s, report.rhythm_periodicity = 0.5, math.nan
    rhythm = stability_body(report)["rhythm"]
    assert (rhythm["state"], rhythm["alert"], rhythm["periodicity"]) == ("missing", True, None)
    validator("stability").validate(envelope("stability", "c", "k", stability_body(report)))


def test_unknown_codes_fall_back_to_the_safe_name():
    assert verdict_body(Verdict(decision=9))["decision"] == "FAIL"
    assert actuator_body(ActuatorEvent(outcome=9))["outcome"] == "MISSED"
    assert disposition_body(Disposition(disposition=9))["disposition"] == "UNKNOWN"
    body = anomaly_body(AnomalyResult(unit_id="u", map_height=4, map_width=5, score=2.0))
    assert body["map_size"] == [4, 5] and body["score"] == 2.0

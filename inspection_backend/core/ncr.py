"""Non-conformance report (NCR): its fields, its states and the rules for moving between them.

draft -> analysis -> open -> done, never backwards:
- draft: created by the critical-defect workflow with the unit's evidence and the hold id;
- analysis: the root-cause agent's ranked hypotheses are attached;
- open: a quality engineer signed the disposition (scrap / rework / use as is / return to
  supplier) with a CAPA owner and due date: corrective action is under way;
- done: an engineer signed that the corrective action is complete.

A signature binds a person to the exact content they approved: the SHA-256 of the NCR's
canonical fields at signing time is stored with it, so a later edit is visible.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any


class NcrState(StrEnum):
    DRAFT = "draft"
    ANALYSIS = "analysis"
    OPEN = "open"
    DONE = "done"


class NcrDisposition(StrEnum):
    SCRAP = "scrap"
    REWORK = "rework"
    USE_AS_IS = "use_as_is"
    RETURN_TO_SUPPLIER = "return_to_supplier"


class ApprovalMeaning(StrEnum):
    """What a signature on an NCR means (21 CFR 11 style: the meaning is part of the record)."""

    DISPOSITION = "disposition"  # analysis -> open
    CLOSURE = "closure"  # open -> done


_NEXT: dict[NcrState, NcrState] = {
    NcrState.DRAFT: NcrState.ANALYSIS,
    NcrState.ANALYSIS: NcrState.OPEN,
    NcrState.OPEN: NcrState.DONE,
}
APPROVAL_TARGET = {
    ApprovalMeaning.DISPOSITION: NcrState.OPEN,
    ApprovalMeaning.CLOSURE: NcrState.DONE,
}


class NcrError(ValueError):
    """A transition or approval that the rules do not allow; the message says why."""


@dataclass(frozen=True)
class DispositionDecision:
    disposition: NcrDisposition
    capa_owner: str
    capa_due: date
    note: str = ""

    def __post_init__(self) -> None:
        if not self.capa_owner.strip():
            raise NcrError("a CAPA owner is required")


def next_state(current: NcrState) -> NcrState:
    try:
        return _NEXT[current]
    except KeyError:
        raise NcrError(f"an NCR in state {current} is closed") from None


def check_transition(current: NcrState, target: NcrState, fields: Mapping[str, Any]) -> None:
    """Raise NcrError unless `current -> target` is the next step and its fields are filled."""
    if target != next_state(current):
        raise NcrError(f"NCR cannot go from {current} to {target} (next is {next_state(current)})")
    if target is NcrState.ANALYSIS and not fields.get("root_cause"):
        raise NcrError("analysis needs a root cause statement")
    if target is NcrState.OPEN:
        missing = [k for k in ("disposition", "capa_owner", "capa_due") if not fields.get(k)]
        if missing:
            raise NcrError(f"opening needs {', '.join(missing)}")


def check_approval(state: NcrState, meaning: ApprovalMeaning) -> NcrState:
    """The state a signature of this meaning moves the NCR to; NcrError when out of order."""
    target = APPROVAL_TARGET[meaning]
    if next_state(state) != target:
        raise NcrError(f"a {meaning} signature is not expected while the NCR is {state}")
    return target


def content_digest(fields: Mapping[str, Any]) -> str:
    """SHA-256 over the NCR's fields as canonical JSON (what a signature approves)."""
    text = json.dumps(dict(fields), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ncr_number(year: int, sequence: int) -> str:
    return f"NCR-{year}-{sequence:06d}"

"""Review decisions and case states: what a person can say about a unit, and what follows.

The review page sends one key per decision (P pass, F fail, R re-inspect, 1-9 a defect class);
the workflow waiting on the case receives it. A PASS means the FAIL was a false alarm, a FAIL
(with or without a class) confirms it, a re-inspection sends the part back to be measured again
and keeps the case open.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from inspection_backend.core.thresholds import Outcome


class CaseState(StrEnum):
    LOGGED = "logged"
    AWAITING_REVIEW = "awaiting_review"
    ESCALATED = "escalated"
    REINSPECT = "reinspect"
    HOLD = "hold"  # critical: line held, RCA and NCR running
    ALERTED = "alerted"  # recurring: maintenance alerted
    RESOLVED = "resolved"


class ReviewVerdict(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    REINSPECT = "reinspect"


@dataclass(frozen=True)
class ReviewDecision:
    verdict: ReviewVerdict
    reviewer: str
    defect_class: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        if not self.reviewer:
            raise ValueError("a review decision needs the reviewer")
        if self.verdict is not ReviewVerdict.FAIL and self.defect_class:
            raise ValueError("only a FAIL carries a defect class")

    @property
    def outcome(self) -> Outcome | None:
        """The label this decision gives the unit (None: not decided yet, re-inspect)."""
        if self.verdict is ReviewVerdict.PASS:
            return Outcome.FALSE_POSITIVE
        if self.verdict is ReviewVerdict.FAIL:
            return Outcome.TRUE_POSITIVE
        return None

    def as_message(self) -> dict[str, str]:
        """The JSON form sent to the waiting workflow."""
        return {
            "verdict": str(self.verdict),
            "reviewer": self.reviewer,
            "defect_class": self.defect_class,
            "note": self.note,
        }

    @classmethod
    def from_message(cls, message: dict[str, str]) -> ReviewDecision:
        return cls(
            ReviewVerdict(message["verdict"]),
            message["reviewer"],
            message.get("defect_class", ""),
            message.get("note", ""),
        )

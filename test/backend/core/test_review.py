"""Review decisions: the label each gives, and the message that wakes the workflow."""

from __future__ import annotations

import pytest

from inspection_backend.core.review import ReviewDecision, ReviewVerdict
from inspection_backend.core.thresholds import Outcome


def test_outcomes():
    assert ReviewDecision(ReviewVerdict.PASS, "ann").outcome is Outcome.FALSE_POSITIVE
    assert ReviewDecision(ReviewVerdict.FAIL, "ann", "crack").outcome is Outcome.TRUE_POSITIVE
    assert ReviewDecision(ReviewVerdict.REINSPECT, "ann").outcome is None


def test_round_trip_through_the_message():
    decision = ReviewDecision(ReviewVerdict.FAIL, "ann", "crack", "edge")
    assert ReviewDecision.from_message(decision.as_message()) == decision


@pytest.mark.parametrize("args", [(ReviewVerdict.PASS, ""), (ReviewVerdict.PASS, "ann", "crack")])
def test_invalid_decisions(args):
    with pytest.raises(ValueError):
        ReviewDecision(*args)

"""FAIL reasons as Prometheus labels: one short rule name per reason text.

The gate's reasons carry values ("score: 2.5 > 2", "rejected by roi: blank frame"); a label
with the values would make a new time series per unit. The rule names are those of the gate's
rule table (README, gate): rejection by stage, deadline, malformed, model version, gate error,
score, area, class, persistence.
"""

from __future__ import annotations

import re

_PREFIXES = (
    ("deadline", "deadline"),
    ("malformed", "malformed"),
    ("model version", "model_version"),
    ("detector version", "model_version"),
    ("gate error", "gate_error"),
    ("overflow", "gate_error"),
    ("score", "score"),
    ("area", "area"),
    ("class ", "class"),
    ("persistence", "persistence"),
)
_REJECTED = re.compile(r"rejected by ([a-z_]+)")


def reason_label(reason: str) -> str:
    """`rejected_by_<stage>`, a rule name, or `other` (never the raw text)."""
    text = reason.strip().lower()
    rejected = _REJECTED.match(text)
    if rejected:
        return f"rejected_by_{rejected.group(1)}"
    for prefix, label in _PREFIXES:
        if text.startswith(prefix):
            return label
    return "other"

"""A threshold change requested at run time (`gate/set_threshold`), checked before it applies.

    change = change_threshold(gate.config, "score_threshold", 30.0, "anna", "new lot")
    audit.append("threshold_change", change.audit_body(node_name), actor=change.requested_by)
    gate.set_config(change.config)      # only after the audit entry is on disk

The new configuration is validated as a whole (recipe overrides included); who asked is
required, so the audit log always names a person or a system.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inspection_nodes.core.gate.rules import GateConfig


@dataclass(frozen=True)
class ThresholdChange:
    """A checked change: the configuration to apply and what the audit entry records."""

    name: str
    old_value: float
    requested_by: str
    reason: str
    before: GateConfig
    config: GateConfig

    @property
    def new_value(self) -> float:
        return self.config.value(self.name)

    def audit_body(self, node: str) -> dict[str, Any]:
        return {
            "node": node,
            "name": self.name,
            "recipe": self.before.recipe,
            "old": self.old_value,
            "new": self.new_value,
            "reason": self.reason,
            "old_config_version": self.before.version,
            "new_config_version": self.config.version,
        }


def change_threshold(
    config: GateConfig, name: str, value: float, requested_by: str, reason: str
) -> ThresholdChange:
    """Check a change of `name` to `value`; ValueError says why it is refused."""
    old_value = config.value(name)  # names the allowed thresholds when `name` is not one
    if not requested_by.strip():
        raise ValueError("requested_by is required (who changes the threshold)")
    return ThresholdChange(
        name, old_value, requested_by, reason, config, config.with_value(name, value)
    )

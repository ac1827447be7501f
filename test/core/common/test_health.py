"""Health levels are diagnostic_msgs' codes, so nodes can convert them byte for byte."""

from diagnostic_msgs.msg import DiagnosticStatus

from inspection_nodes.core.common.health import HealthLevel


def test_levels_are_the_diagnostic_status_codes():
    for level in HealthLevel:
        assert bytes([level]) == getattr(DiagnosticStatus, level.name)

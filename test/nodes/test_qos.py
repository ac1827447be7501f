"""The cell's QoS profiles: unit images and results reliable and latched for late joiners,
debug images best effort, outside commands volatile; history, depth and reliability overridable."""

from rclpy.qos import DurabilityPolicy, ReliabilityPolicy

from inspection_nodes.nodes.qos import (
    COMMAND_QOS,
    DEBUG_IMAGE_QOS,
    RESULT_QOS,
    STATUS_QOS,
    UNIT_IMAGE_QOS,
    overridable,
)


def test_profiles():
    for profile in (UNIT_IMAGE_QOS, RESULT_QOS, STATUS_QOS):
        assert profile.reliability == ReliabilityPolicy.RELIABLE
        assert profile.durability == DurabilityPolicy.TRANSIENT_LOCAL
    assert DEBUG_IMAGE_QOS.reliability == ReliabilityPolicy.BEST_EFFORT
    assert COMMAND_QOS.durability == DurabilityPolicy.VOLATILE
    assert STATUS_QOS.depth == 1 and RESULT_QOS.depth >= UNIT_IMAGE_QOS.depth
    kinds = {k.name for k in overridable().policy_kinds}
    assert kinds == {"HISTORY", "DEPTH", "RELIABILITY"}

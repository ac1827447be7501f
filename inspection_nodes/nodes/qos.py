"""QoS profiles of the cell, defined once.

Debug images are best effort (a viewer wants the newest frame). The images that carry a unit
through the pipeline (camera -> roi -> embedding) are reliable: a dropped frame would be a unit
the gate must FAIL for a missing result, and reliable publishers still serve best-effort viewers
such as rqt_image_view. Results, verdicts and events are reliable; status is latched.

Every publisher and subscription also passes QoSOverridingOptions so integrators can change
reliability, history or depth per topic from the params YAML (`qos_overrides./topic...`).
"""

from __future__ import annotations

from rclpy.qos import (
    DurabilityPolicy,
    HistoryPolicy,
    QoSProfile,
    ReliabilityPolicy,
)
from rclpy.qos_overriding_options import QoSOverridingOptions

# Debug images (heatmap overlay, verdict overlay): the newest frame matters, a late one is useless.
DEBUG_IMAGE_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=5,
    reliability=ReliabilityPolicy.BEST_EFFORT,
    durability=DurabilityPolicy.VOLATILE,
)

# Unit images (camera/image_raw, roi/image): every unit must be inspected; a small depth bounds
# memory at 2-5 MB a frame while the reliable protocol throttles a camera that runs ahead.
# Transient local: a stage whose subscription is matched a moment after the first frames (DDS
# discovery between processes is asynchronous) still receives them instead of losing units.
UNIT_IMAGE_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=10,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)

# The unit pipeline (capture events, embeddings, results, verdicts, events): every unit must
# arrive. Depth is generous so a slow stage queues units instead of dropping them; transient
# local for the same late-match reason as unit images (a restarted consumer also gets the last
# units again; verdicts and actuation are idempotent per unit, so repeats are harmless).
RESULT_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=100,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)

# Inputs from outside the cell (PLC trigger): volatile, so a plain reliable publisher of any
# integrator's node matches (a transient-local subscription would refuse a volatile publisher).
COMMAND_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=10,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)

# Status that a late joiner needs at once (stability report, model version).
STATUS_QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=1,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)


def overridable() -> QoSOverridingOptions:
    """Let reliability, history and depth of a topic be set from parameters (rclpy's default
    overridable policies; durability stays as the profile says)."""
    return QoSOverridingOptions.with_default_policies()

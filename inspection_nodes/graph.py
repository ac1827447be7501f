"""The node table of the cell: the one list both `inspection run` and `cell.launch.py` start.

Kept free of rclpy and launch imports so setup.py, the launch file and the runner can all read it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class NodeSpec:
    """One node of the graph: its ROS name, the console script that runs it, its job."""

    name: str
    module: str
    class_name: str
    job: str
    optional: bool = False

    @property
    def executable(self) -> str:
        return f"{self.name}_node"

    @property
    def entry_point(self) -> str:
        return f"inspection_nodes.nodes.{self.module}:main"

    def node_class(self) -> type:
        """The rclpy node class (imports its module, and with it rclpy)."""
        import importlib

        return getattr(
            importlib.import_module(f"inspection_nodes.nodes.{self.module}"), self.class_name
        )


NODES: tuple[NodeSpec, ...] = (
    NodeSpec(
        "camera", "camera_node", "CameraNode", "frames from a folder, video, V4L2 device or bag"
    ),
    NodeSpec(
        "roi", "roi_node", "RoiNode", "crop, mask, resize; rejects unusable frames with a reason"
    ),
    NodeSpec("embedding", "embedding_node", "EmbeddingNode", "backbone patch features"),
    NodeSpec(
        "scoring", "scoring_node", "ScoringNode", "PatchCore/PaDiM anomaly score, map and heatmap"
    ),
    NodeSpec(
        "detector", "detector_node", "DetectorNode", "YOLO known-defect detection", optional=True
    ),
    NodeSpec("gate", "gate_node", "GateNode", "deterministic PASS/FAIL with fail-safe deadlines"),
    NodeSpec(
        "actuator", "actuator_node", "ActuatorNode", "reject pulse on Modbus TCP coil or GPIO"
    ),
    NodeSpec("recorder", "recorder_node", "RecorderNode", "evidence ring buffer"),
    NodeSpec("stability", "stability_node", "StabilityNode", "drift monitor and stability index"),
    NodeSpec(
        "bridge", "bridge_node", "BridgeNode", "MQTT bridge through a durable outbox", optional=True
    ),
)


# (producer, consumer, topic): when both nodes share a process, the consumer's callback gets
# the producer's messages in-process (nodes/intra_process.py) instead of subscribing. Handlers
# of one topic run in this order: scoring caches the ROI before the embedding node's features
# (computed inside its ROI handler) reach it.
INTRA_PROCESS_EDGES: tuple[tuple[str, str, str], ...] = (
    ("camera", "roi", "camera/image_raw"),
    ("roi", "scoring", "roi/image"),
    ("roi", "embedding", "roi/image"),
    ("embedding", "scoring", "embedding/patches"),
)
CONTAINER_EXECUTABLE = "container_node"
CONTAINER_ENTRY_POINT = "inspection_nodes.nodes.container:main"


def node_spec(name: str) -> NodeSpec:
    """Look a node up by its ROS name; a clear error names the known ones."""
    for spec in NODES:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in NODES)
    raise KeyError(f"unknown node {name!r}; known nodes: {known}")

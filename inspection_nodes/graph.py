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
    job: str
    optional: bool = False

    @property
    def executable(self) -> str:
        return f"{self.name}_node"

    @property
    def entry_point(self) -> str:
        return f"inspection_nodes.nodes.{self.module}:main"


NODES: tuple[NodeSpec, ...] = (
    NodeSpec("camera", "camera_node", "frames from a folder, video, V4L2 device or bag"),
    NodeSpec("roi", "roi_node", "crop, mask, resize; rejects unusable frames with a reason"),
    NodeSpec("embedding", "embedding_node", "backbone patch features"),
    NodeSpec("scoring", "scoring_node", "PatchCore/PaDiM anomaly score, map and heatmap"),
    NodeSpec("detector", "detector_node", "YOLO known-defect detection", optional=True),
    NodeSpec("gate", "gate_node", "deterministic PASS/FAIL with fail-safe deadlines"),
    NodeSpec("actuator", "actuator_node", "reject pulse on Modbus TCP coil or GPIO"),
    NodeSpec("recorder", "recorder_node", "evidence ring buffer"),
    NodeSpec("stability", "stability_node", "drift monitor and stability index"),
    NodeSpec("bridge", "bridge_node", "MQTT bridge through a durable outbox", optional=True),
)


def node_spec(name: str) -> NodeSpec:
    """Look a node up by its ROS name; a clear error names the known ones."""
    for spec in NODES:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in NODES)
    raise KeyError(f"unknown node {name!r}; known nodes: {known}")

"""The node table of the cell: the one list both `inspection run` and `cell.launch.py` start.

Kept free of rclpy and launch imports so setup.py, the launch file and the runner can all read it.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
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
    NodeSpec(
        "metrics", "metrics_node", "MetricsNode", "Prometheus /metrics of the cell", optional=True
    ),
    NodeSpec(
        "foxglove",
        "foxglove_node",
        "FoxgloveNode",
        "Foxglove WebSocket bridge for live debugging",
        optional=True,
    ),
)


# (producer, consumer, topic): when both nodes share a process, the consumer's callback gets
# the producer's messages in-process (nodes/intra_process.py) instead of subscribing. The order
# of this table does not matter: `intra_process_edges` orders each topic's handlers.
INTRA_PROCESS_EDGES: tuple[tuple[str, str, str], ...] = (
    ("camera", "roi", "camera/image_raw"),
    ("roi", "embedding", "roi/image"),
    ("roi", "scoring", "roi/image"),
    ("embedding", "scoring", "embedding/patches"),
)
CONTAINER_EXECUTABLE = "container_node"
CONTAINER_ENTRY_POINT = "inspection_nodes.nodes.container:main"


def intra_process_edges(
    names: Collection[str], edges: Sequence[tuple[str, str, str]] = INTRA_PROCESS_EDGES
) -> list[tuple[str, str, str]]:
    """The in-process edges among `names`, in the order their handlers must be connected.

    A producer calls a topic's handlers one after the other, and a handler may publish in-process
    itself (the embedding node computes features inside its ROI handler and hands them to the
    scoring node at once). So a consumer that also takes another consumer's output in-process
    must get the shared input first: scoring caches the ROI before the embedding's features for
    that ROI reach it. Ordered by that rule (a topological order per topic); table order breaks
    ties. Raises ValueError on a cycle.
    """
    local = [e for e in edges if e[0] in names and e[1] in names]
    feeds = {(producer, consumer) for producer, consumer, _ in local}
    ordered: list[tuple[str, str, str]] = []
    for key in dict.fromkeys((producer, topic) for producer, _, topic in local):
        waiting = [e for e in local if (e[0], e[2]) == key]
        while waiting:
            # the first consumer (in table order) that feeds no other waiting consumer
            ready = [e for e in waiting if not any((e[1], o[1]) in feeds for o in waiting)]
            if not ready:
                raise ValueError(f"in-process handlers of {key[1]} feed each other in a cycle")
            ordered.append(ready[0])
            waiting.remove(ready[0])
    return ordered


def node_spec(name: str) -> NodeSpec:
    """Look a node up by its ROS name; a clear error names the known ones."""
    for spec in NODES:
        if spec.name == name:
            return spec
    known = ", ".join(s.name for s in NODES)
    raise KeyError(f"unknown node {name!r}; known nodes: {known}")

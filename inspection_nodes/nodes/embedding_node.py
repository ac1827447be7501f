"""embedding: backbone patch features of each ROI (ONNX Runtime, TensorRT or torch)."""

from __future__ import annotations

import time
from collections.abc import Collection
from enum import StrEnum

import numpy as np
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from sensor_msgs.msg import Image

from inspection_msgs.msg import PatchEmbedding
from inspection_nodes.core.common.health import HealthLevel
from inspection_nodes.core.io.image_encoding import ImageFormatError, to_rgb8
from inspection_nodes.nodes.common import (
    Autostart,
    Health,
    ParamSpec,
    Rejections,
    declare_parameters,
    run_node,
)
from inspection_nodes.nodes.convert import (
    float32_array,
    image_to_array,
    ms_since,
    stamp_to_ns,
    timing,
)
from inspection_nodes.nodes.intra_process import Handler, IntraProcessNode
from inspection_nodes.nodes.qos import RESULT_QOS, UNIT_IMAGE_QOS, overridable
from inspection_nodes.nodes.unit_ids import follow_unit_ids

BACKENDS = ("onnxruntime", "tensorrt", "torch")


class EmbeddingCounter(StrEnum):
    EMBEDDINGS = "embeddings"
    REJECTED_ROIS = "rejected_rois"  # bad image, engine error, or the node is not active


PARAMETERS: tuple[ParamSpec, ...] = (
    Autostart.AUTOSTART,
    ParamSpec(
        "model_dir", "", "model artifact directory (from `inspection enroll`)", read_only=True
    ),
    ParamSpec("backend", "onnxruntime", "backbone runtime", choices=BACKENDS, read_only=True),
    ParamSpec("device", "cpu", "cpu or cuda (torch and TensorRT backends)", read_only=True),
    ParamSpec(
        "spin",
        False,
        "ONNX Runtime worker threads busy-wait between the backbone's layers: faster where the "
        "node has cores to itself, slower where the other nodes share them (2-core dev CPU: "
        "embedding 10 ms without, 13-14 ms with)",
        read_only=True,
    ),
)


class EmbeddingNode(Autostart, IntraProcessNode, LifecycleNode):
    """Loads the backbone in configure so activate, and the first frame, are fast. ROIs come
    over DDS or, composed with the roi node, in-process; features go to a composed scoring
    node the same way (nodes/intra_process.py)."""

    INTRA_PROCESS_INPUTS = ("roi/image",)

    def __init__(self, local_inputs: Collection[str] = (), **kwargs) -> None:
        super().__init__("embedding", local_inputs=local_inputs, **kwargs)
        self.params = declare_parameters(self, PARAMETERS)
        self.health = Health(self, EmbeddingCounter)
        self.engine = None

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        from inspection_nodes.core.anomaly.engine import AnomalyEngine, EngineError

        p = self.params
        try:
            self.engine = AnomalyEngine.load(
                p["model_dir"], backend=p["backend"], device=p["device"], spin=p["spin"]
            )
            size = self.engine.input_size
            self.engine.embed(np.zeros((size, size, 3), np.uint8))  # warm-up
        except (EngineError, OSError, ValueError) as exc:
            self.get_logger().error(f"cannot load model: {exc}")
            self.health.set_status(HealthLevel.ERROR, f"no model: {exc}")
            return TransitionCallbackReturn.FAILURE
        qos = overridable()
        self._pub = self.create_lifecycle_publisher(
            PatchEmbedding, "embedding/patches", RESULT_QOS, qos_overriding_options=qos
        )
        self._rejections = Rejections(self, self.health, "embedding")
        self._unit_ids = follow_unit_ids(self)
        # Subscribed from configure on, so the camera can see the stage is ready; frames that
        # arrive while inactive are rejected (the gate FAILs them), never silently dropped.
        self._active = False
        self._sub = self.subscribe_input(Image, "roi/image", self._on_roi, UNIT_IMAGE_QOS)
        self.health.set_status(
            HealthLevel.OK, f"model {self.engine.model_version} on {p['backend']}"
        )
        return TransitionCallbackReturn.SUCCESS

    def intra_process_inputs(self) -> dict[str, Handler]:
        return {"roi/image": self._on_roi}

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._active = True
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._active = False
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self._sub is not None:
            self.destroy_subscription(self._sub)
        self._rejections.destroy()
        self.engine = None
        return TransitionCallbackReturn.SUCCESS

    def _reject(self, msg: Image, reason: str) -> None:
        unit_id = self._unit_ids.get(stamp_to_ns(msg.header.stamp))
        self._rejections.publish(msg.header, unit_id, EmbeddingCounter.REJECTED_ROIS, reason)

    def _on_roi(self, msg: Image) -> None:
        if not self._active:
            self._reject(msg, "embedding: node not active")
            return
        arrived_ms = ms_since(stamp_to_ns(msg.header.stamp))
        start = time.perf_counter()
        try:
            rgb = to_rgb8(image_to_array(msg), msg.encoding)
            features = self.engine.embed(rgb)
        except ImageFormatError as exc:
            self._reject(msg, f"embedding: {exc}")
            return
        except Exception as exc:
            self._reject(msg, f"embedding error: {exc!r}")
            return
        elapsed_ms = (time.perf_counter() - start) * 1e3
        h, w, c = features.shape
        out = PatchEmbedding(
            header=msg.header,
            unit_id=self._unit_ids.get(stamp_to_ns(msg.header.stamp)),
            model_version=self.engine.model_version,
            backend=self.params["backend"],
            roi_height=msg.height,
            roi_width=msg.width,
            height=h,
            width=w,
            channels=c,
            timings=[timing("camera_to_embedding", arrived_ms), timing("embedding", elapsed_ms)],
        )
        out.data = float32_array(features)
        self.intra.publish(self._pub, out)
        self.health.counters.inc(EmbeddingCounter.EMBEDDINGS)


def main(args: list[str] | None = None) -> None:
    run_node(EmbeddingNode, args)

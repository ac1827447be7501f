"""scoring: PatchCore / PaDiM anomaly score, area over threshold and a heatmap overlay per unit."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Collection
from enum import StrEnum

import numpy as np
from rcl_interfaces.msg import SetParametersResult
from rclpy.node import Node
from sensor_msgs.msg import Image

from inspection_msgs.msg import AnomalyResult, PatchEmbedding
from inspection_nodes.core.common.health import HealthLevel
from inspection_nodes.core.io.image_encoding import ImageFormatError, to_rgb8
from inspection_nodes.nodes.common import (
    Health,
    ParamSpec,
    Rejections,
    declare_parameters,
    run_node,
)
from inspection_nodes.nodes.convert import array_to_image, image_to_array, stamp_to_ns, timing
from inspection_nodes.nodes.intra_process import Handler, IntraProcessNode
from inspection_nodes.nodes.qos import DEBUG_IMAGE_QOS, RESULT_QOS, UNIT_IMAGE_QOS, overridable


class ScoringCounter(StrEnum):
    RESULTS = "results"
    REJECTED_EMBEDDINGS = "rejected_embeddings"  # wrong model version, shape or scoring error
    HEATMAPS_WITHOUT_ROI = "heatmaps_without_roi"  # the unit's ROI left the cache first
    HEATMAP_ERRORS = "heatmap_errors"


PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "model_dir",
        "",
        "model artifact directory (from `inspection enroll`); set at run time to switch to a "
        "recalibrated version or back (loaded first: on error the running model stays)",
    ),
    ParamSpec(
        "publish_heatmap",
        True,
        "publish anomaly/heatmap overlays (only while someone subscribes)",
        read_only=True,
    ),
)

ROI_CACHE = 32  # ROIs kept for overlays; embeddings arrive within a few frames of their ROI


def load_scorer(model_dir: str):
    """A scoring-only engine, warmed up: the first search and map allocate, which must not land
    on the first unit after start-up or after a model switch. Raises EngineError."""
    from inspection_nodes.core.anomaly.engine import AnomalyEngine

    engine = AnomalyEngine.load(model_dir, backend="none")
    size = engine.input_size
    engine.score(np.zeros(engine.feature_shape, np.float32), (size, size))
    return engine


class ScoringNode(IntraProcessNode, Node):
    """Patch features from embedding/patches (and, for heatmaps, ROIs from roi/image), over DDS
    or, composed with their producers, in-process (`local_inputs`, see nodes/intra_process.py)."""

    INTRA_PROCESS_INPUTS = ("embedding/patches", "roi/image")

    def __init__(self, local_inputs: Collection[str] = (), **kwargs) -> None:
        super().__init__("scoring", local_inputs=local_inputs, **kwargs)
        self.params = declare_parameters(self, PARAMETERS)
        self.health = Health(self, ScoringCounter)
        # A missing or incompatible model is fatal at start-up: the error names the cause.
        self.engine = load_scorer(self.params["model_dir"])
        self._accepts = self.engine.artifact.manifest.accepted_embeddings
        self.add_on_set_parameters_callback(self._on_set_parameters)
        qos = overridable()
        self._result_pub = self.create_publisher(
            AnomalyResult, "anomaly/result", RESULT_QOS, qos_overriding_options=qos
        )
        self._rejections = Rejections(self, self.health, "scoring")
        self.subscribe_input(PatchEmbedding, "embedding/patches", self._on_patches, RESULT_QOS)
        self._rois: OrderedDict[int, Image] = OrderedDict()
        if self.params["publish_heatmap"]:
            self._heatmap_pub = self.create_publisher(
                Image, "anomaly/heatmap", DEBUG_IMAGE_QOS, qos_overriding_options=qos
            )
            self.subscribe_input(Image, "roi/image", self._on_roi, UNIT_IMAGE_QOS)
        self.health.set_status(
            HealthLevel.OK, f"model {self.engine.model_version} ({self.engine.method})"
        )

    def intra_process_inputs(self) -> dict[str, Handler]:
        """Features always; ROIs only when they are kept for heatmaps."""
        handlers: dict[str, Handler] = {"embedding/patches": self._on_patches}
        if self.params["publish_heatmap"]:
            handlers["roi/image"] = self._on_roi
        return handlers

    def _on_set_parameters(self, params: list) -> SetParametersResult:
        """Reload hook (recalibration, rollback): a new `model_dir` is loaded and checked before
        it replaces the running model between two units; a model that fails to load is refused
        with the reason. Recalibrated versions keep the backbone, so they also accept the
        running embedding node's features (`accepted_embeddings` of their manifest)."""
        from inspection_nodes.core.anomaly.engine import EngineError

        for param in params:
            if param.name != "model_dir":
                continue
            try:
                engine = load_scorer(param.value)
            except EngineError as exc:
                return SetParametersResult(successful=False, reason=str(exc))
            self.engine, self._accepts = engine, engine.artifact.manifest.accepted_embeddings
            self.get_logger().info(f"model_dir {param.value}: now scoring {engine.model_version}")
            self.health.set_status(
                HealthLevel.OK, f"model {engine.model_version} ({engine.method})"
            )
        return SetParametersResult(successful=True)

    def _on_roi(self, msg: Image) -> None:
        self._rois[stamp_to_ns(msg.header.stamp)] = msg
        while len(self._rois) > ROI_CACHE:
            self._rois.popitem(last=False)

    def _reject(self, msg: PatchEmbedding, reason: str) -> None:
        counter = ScoringCounter.REJECTED_EMBEDDINGS
        self._rejections.publish(msg.header, msg.unit_id, counter, reason)

    def _on_patches(self, msg: PatchEmbedding) -> None:
        start = time.perf_counter()
        engine = self.engine
        if msg.model_version not in self._accepts:
            self._reject(
                msg,
                f"scoring: embedding from model {msg.model_version!r}, "
                f"scorer has {engine.model_version!r}",
            )
            return
        try:
            patches = np.frombuffer(msg.data, dtype=np.float32).reshape(
                msg.height, msg.width, msg.channels
            )
            result = engine.score(patches, (msg.roi_height, msg.roi_width))
        except Exception as exc:
            self._reject(msg, f"scoring: {exc}")
            return
        elapsed_ms = (time.perf_counter() - start) * 1e3
        out = AnomalyResult(
            header=msg.header,
            unit_id=msg.unit_id,
            model_version=engine.model_version,
            method=engine.method,
            score=result.score,
            image_threshold=engine.image_threshold,
            pixel_threshold=engine.pixel_threshold,
            max_pixel_score=result.max_pixel_score,
            area_px=result.area_px,
            largest_region_px=result.largest_region_px,
            map_height=result.anomaly_map.shape[0],
            map_width=result.anomaly_map.shape[1],
            peak_row=result.peak[0],
            peak_col=result.peak[1],
            nearest_normals=list(result.nearest_normals),
            timings=[*msg.timings, timing("scoring", elapsed_ms)],
        )
        self._result_pub.publish(out)
        self.health.counters.inc(ScoringCounter.RESULTS)
        self._publish_heatmap(msg, result.anomaly_map)

    def _publish_heatmap(self, msg: PatchEmbedding, anomaly_map: np.ndarray) -> None:
        if not self.params["publish_heatmap"] or self._heatmap_pub.get_subscription_count() == 0:
            return
        roi = self._rois.pop(stamp_to_ns(msg.header.stamp), None)
        if roi is None:
            self.health.counters.inc(ScoringCounter.HEATMAPS_WITHOUT_ROI)
            return
        try:
            overlay = self.engine.overlay(to_rgb8(image_to_array(roi), roi.encoding), anomaly_map)
        except (ImageFormatError, ValueError) as exc:
            self.health.reject(ScoringCounter.HEATMAP_ERRORS, str(exc))
            return
        self._heatmap_pub.publish(array_to_image(overlay, msg.header, "rgb8"))


def main(args: list[str] | None = None) -> None:
    run_node(ScoringNode, args)

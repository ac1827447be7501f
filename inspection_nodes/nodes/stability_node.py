"""stability: drift monitor (stability index) and guided recalibration of the scoring model.

Thin wrapper over core/stability/index.py (index), core/stability/baseline.py (what normal
looked like at enrollment) and core/anomaly/recalibration.py (new model version). It hosts
`scoring/recalibrate`
because the capture and the rebuild take seconds, which the scoring node's hot path must not
wait for; the new version reaches the scoring node through its `model_dir` parameter
(rcl_interfaces SetParameters), and this node follows whatever version the results carry.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
from rcl_interfaces.srv import SetParameters
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.task import Future
from sensor_msgs.msg import Image

from inspection_msgs.msg import (
    AnomalyResult,
    Disposition,
    PatchEmbedding,
    StabilityComponent,
    StabilityReport,
)
from inspection_msgs.srv import Recalibrate
from inspection_nodes.core.anomaly import registry as model_registry
from inspection_nodes.core.anomaly.artifact import ArtifactError, read_manifest
from inspection_nodes.core.common.provenance import utc_now
from inspection_nodes.core.io.image_encoding import ImageFormatError, to_rgb8
from inspection_nodes.core.stability.baseline import Baseline, BaselineError, load_baseline
from inspection_nodes.core.stability.index import LEVELS, StabilityConfig, StabilityMonitor
from inspection_nodes.core.stability.plot import render_index
from inspection_nodes.nodes.common import Health, ParamSpec, declare_parameters, run_node
from inspection_nodes.nodes.convert import array_to_image, image_to_array, stamp_to_ns
from inspection_nodes.nodes.qos import (
    DEBUG_IMAGE_QOS,
    RESULT_QOS,
    STATUS_QOS,
    UNIT_IMAGE_QOS,
    overridable,
)

FOLLOW_AFTER = 3  # consecutive results of another model version before the monitor follows it


def _limit(name: str, default: float, what: str, hi: float) -> ParamSpec:
    return ParamSpec(name, default, f"{what} that counts as 1.0", range=(1e-3, hi), read_only=True)


PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "model_dir",
        "",
        "model directory: its baseline.npz is the reference (none: the first reference_units "
        "units) and it is the parent of a recalibration",
        read_only=True,
    ),
    ParamSpec(
        "registry",
        "",
        "model registry JSON (empty: registry.json beside model_dir): versions and the active one",
        read_only=True,
    ),
    ParamSpec("window", 30, "rolling window in units", range=(5, 100000), read_only=True),
    ParamSpec(
        "reference_units",
        30,
        "units after start or a model switch that form the reference window",
        range=(5, 100000),
        read_only=True,
    ),
    _limit("score_p50_limit", 1.0, "rise of the p50 score in gaps (threshold - baseline p50)", 1e2),
    _limit("score_p95_limit", 2.5, "rise of the p95 score in gaps", 100.0),
    _limit("centroid_limit", 1.5, "feature-centroid distance from the baseline", 100.0),
    _limit("change_limit", 1.0, "feature-centroid distance from the reference window", 100.0),
    _limit("luminance_limit", 0.10, "relative change of the mean ROI luminance", 10.0),
    _limit("colour_limit", 0.05, "chromaticity shift of the mean ROI colour", 1.0),
    _limit("false_reject_limit", 0.05, "FALSE_REJECT dispositions per unit", 1.0),
    ParamSpec(
        "watch_at", 0.5, "index from which the level is watch", range=(0.01, 100.0), read_only=True
    ),
    ParamSpec(
        "recalibrate_at",
        1.0,
        "index from which the level is recalibrate",
        range=(0.01, 100.0),
        read_only=True,
    ),
    ParamSpec(
        "report_period_s",
        1.0,
        "seconds between StabilityReports",
        range=(0.05, 3600.0),
        read_only=True,
    ),
    ParamSpec(
        "plot_history",
        120,
        "reports drawn in the stability/plot image",
        range=(2, 100000),
        read_only=True,
    ),
    ParamSpec(
        "capture_timeout_s",
        600.0,
        "scoring/recalibrate gives up (changing nothing) if the units do not arrive by then",
        range=(1.0, 86400.0),
        read_only=True,
    ),
)


@dataclass
class Capture:
    """The next `units` units (ROI + embeddings joined by capture stamp) for a recalibration."""

    units: int
    deadline: float
    done: Future = field(default_factory=Future)
    rois: dict[int, np.ndarray] = field(default_factory=dict)
    features: dict[int, np.ndarray] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    def complete(self) -> list[int]:
        """Stamps with both parts, oldest first."""
        return sorted(self.rois.keys() & self.features.keys())

    def add(self, stamp: int, name: str, roi=None, feats=None) -> None:
        if roi is not None:
            self.rois[stamp] = roi
        if feats is not None:
            self.features[stamp] = feats
        if name:
            self.names[stamp] = name
        # A unit whose other half never comes (rejected upstream) must not grow memory.
        for part in (self.rois, self.features):
            while len(part) > 2 * self.units + 20:
                part.pop(min(part))
        if len(self.complete()) >= self.units and not self.done.done():
            self.done.set_result(True)


class StabilityNode(Node):
    def __init__(self, **kwargs) -> None:
        super().__init__("stability", **kwargs)
        p = declare_parameters(self, PARAMETERS)
        self.params = p
        self.config = StabilityConfig(
            **{f.name: p[f.name] for f in fields(StabilityConfig)}
        )  # ValueError with the reason on bad limits
        self.health = Health(self)
        self._model_dir: Path | None = Path(p["model_dir"]) if p["model_dir"] else None
        self._registry = Path(p["registry"]) if p["registry"] else None
        if self._registry is None and self._model_dir is not None:
            self._registry = self._model_dir.parent / "registry.json"
        baseline, self._version = None, ""
        if self._model_dir is not None:
            # Not fatal: monitoring is not in the gate path, and a cell started with another
            # model (`inspection cell --model`) is followed through the registry anyway.
            try:
                self._version = read_manifest(self._model_dir).model_version
                baseline = load_baseline(self._model_dir)
            except (ArtifactError, BaselineError) as exc:
                self.health.reject("unusable_model_dir", f"{exc}; reference window instead")
                self._model_dir = None
        self.monitor = StabilityMonitor(self.config, baseline)
        self._other: tuple[str, int] = ("", 0)  # another version seen, how many in a row
        self._left = ""  # version switched away from whose results may still be in flight
        self._history: deque[float] = deque(maxlen=p["plot_history"])
        self._capture: Capture | None = None
        self._busy = False
        qos = overridable()
        self._pub = self.create_publisher(
            StabilityReport, "stability", STATUS_QOS, qos_overriding_options=qos
        )
        self._plot_pub = self.create_publisher(
            Image, "stability/plot", DEBUG_IMAGE_QOS, qos_overriding_options=qos
        )
        for msg_type, topic, callback, profile in (
            (AnomalyResult, "anomaly/result", self._on_result, RESULT_QOS),
            (Image, "roi/image", self._on_roi, UNIT_IMAGE_QOS),
            (PatchEmbedding, "embedding/patches", self._on_patches, RESULT_QOS),
            (Disposition, "disposition", self._on_disposition, RESULT_QOS),
        ):
            self.create_subscription(msg_type, topic, callback, profile, qos_overriding_options=qos)
        self._param_client = self.create_client(SetParameters, "scoring/set_parameters")
        # Its own callback group: while the request awaits its units, the subscriptions (in the
        # default group) must keep running to deliver them.
        self.create_service(
            Recalibrate,
            "scoring/recalibrate",
            self._on_recalibrate,
            callback_group=MutuallyExclusiveCallbackGroup(),
        )
        self.create_timer(p["report_period_s"], self._publish)
        self._set_status()

    @property
    def model_version(self) -> str:
        """Model version the window belongs to ("" until the first result without model_dir)."""
        return self._version

    @property
    def capturing(self) -> bool:
        """True while a recalibration waits for its units."""
        return self._capture is not None

    def _set_status(self) -> None:
        source = self.monitor.baseline.source if self.monitor.baseline else "reference window"
        self.health.set_status(b"\x00", f"model {self._version or '?'}, baseline {source}")

    # -- inputs -------------------------------------------------------------------------------

    def _on_result(self, msg: AnomalyResult) -> None:
        version = msg.model_version
        self._version = self._version or version
        if version != self._version and (version == self._left or not self._follow(version)):
            self.health.counters.inc("results_of_other_model")
            return
        self._left, self._other = "", ("", 0)  # the old version's results are through
        self.monitor.add_result(float(msg.score), float(msg.image_threshold))

    def _follow(self, version: str) -> bool:
        """Switch to a model version the scoring node now uses (rollback, manual switch) once
        FOLLOW_AFTER results in a row carry it; results in flight from the old one are ignored."""
        seen = self._other[1] + 1 if self._other[0] == version else 1
        self._other = (version, seen)
        if seen < FOLLOW_AFTER:
            return False
        found = model_registry.find_version(self._registry, version) if self._registry else None
        baseline = None
        if found is not None:
            try:
                baseline = load_baseline(found)
            except BaselineError as exc:
                self.health.reject("bad_baselines", str(exc))
        self._activate(version, found, baseline)
        self.get_logger().info(
            f"following model {version} ({found or 'not in the registry'}): "
            f"baseline {baseline.source if baseline else 'reference window'}"
        )
        return True

    def _activate(self, version: str, model_dir: Path | None, baseline: Baseline | None) -> None:
        """Monitor a new model version from now on; results of the one left behind that are
        still in flight are ignored until the new version's first result arrives."""
        self._left, self._version, self._model_dir = self._version, version, model_dir
        self._other = ("", 0)
        self.monitor.reset(baseline)
        self._set_status()

    def _on_roi(self, msg: Image) -> None:
        try:
            rgb = to_rgb8(image_to_array(msg), msg.encoding)
            self.monitor.add_roi(rgb)
        except (ImageFormatError, ValueError) as exc:
            self.health.reject("bad_roi_images", str(exc))
            return
        if self._capture is not None:
            self._capture.add(stamp_to_ns(msg.header.stamp), "", roi=rgb.copy())

    def _on_patches(self, msg: PatchEmbedding) -> None:
        try:
            patches = np.frombuffer(msg.data, dtype=np.float32).reshape(
                msg.height, msg.width, msg.channels
            )
            self.monitor.add_embedding(patches)
        except ValueError as exc:
            self.health.reject("bad_embeddings", str(exc))
            return
        if self._capture is not None:
            name = msg.unit_id or str(stamp_to_ns(msg.header.stamp))
            self._capture.add(stamp_to_ns(msg.header.stamp), name, feats=patches.copy())

    def _on_disposition(self, msg: Disposition) -> None:
        self.monitor.add_disposition(msg.disposition == Disposition.FALSE_REJECT)

    # -- outputs ------------------------------------------------------------------------------

    def _publish(self) -> None:
        capture = self._capture
        if capture is not None and time.monotonic() > capture.deadline and not capture.done.done():
            capture.done.set_result(False)
        state = self.monitor.state()
        self._history.append(state.index)
        report = StabilityReport(
            model_version=self._version,
            window_units=state.units,
            index=float(state.index),
            level=LEVELS.index(state.level),
            components=[
                StabilityComponent(name=n, value=float(v), normalised=float(k))
                for n, (v, k) in state.components.items()
            ],
        )
        report.header.stamp = self.get_clock().now().to_msg()
        self._pub.publish(report)
        if self._plot_pub.get_subscription_count() > 0:
            picture = render_index(list(self._history), state, self.config)
            self._plot_pub.publish(array_to_image(picture, report.header, "rgb8"))

    # -- guided recalibration -----------------------------------------------------------------

    async def _on_recalibrate(self, request: Recalibrate.Request, response: Recalibrate.Response):
        """Capture the next N units (or read a folder), build a new version, switch scoring."""
        response.success, response.model_version = False, self._version
        if self._busy:
            response.message = "a recalibration is already running; nothing changed"
            return response
        if self._model_dir is None:
            response.message = (
                f"model {self._version or '?'} has no known directory: set model_dir (or "
                "register the version); nothing changed"
            )
            return response
        # Imported here: the engine's libraries would add seconds to every start-up.
        from inspection_nodes.core.anomaly import recalibration
        from inspection_nodes.core.anomaly.engine import EngineError
        from inspection_nodes.core.io import mvtec

        self._busy = True
        try:
            response.message = await self._recalibrate(request, response)
        except (
            recalibration.RecalibrationError,
            EngineError,
            mvtec.DatasetError,
            ArtifactError,
            BaselineError,
            OSError,
        ) as exc:
            response.message = f"recalibration failed, nothing changed: {exc}"
        finally:
            self._busy, self._capture = False, None
        if response.success:
            self.get_logger().info(f"scoring/recalibrate: {response.message}")
        else:
            self.get_logger().error(f"scoring/recalibrate: {response.message}")
        return response

    async def _recalibrate(self, request: Recalibrate.Request, response) -> str:
        from inspection_nodes.core.anomaly import recalibration
        from inspection_nodes.core.io import mvtec

        parent, by = self._model_dir, request.requested_by.strip()
        features, digest = None, None
        if request.units > 0:
            self._capture = capture = Capture(
                int(request.units), time.monotonic() + self.params["capture_timeout_s"]
            )
            if not await capture.done:
                got = len(capture.complete())
                return f"only {got} of {request.units} units arrived in time; nothing changed"
            stamps = capture.complete()[: request.units]
            images = [capture.rois[s] for s in stamps]
            features = np.stack([capture.features[s] for s in stamps])
            names = [capture.names.get(s, str(s)) for s in stamps]
            source = f"next {request.units} units after {utc_now()}"
        elif request.data_dir:
            paths = recalibration.good_image_paths(Path(request.data_dir))
            images = [mvtec.read_rgb(path) for path in paths]
            names, digest = [path.name for path in paths], mvtec.dataset_hash(paths)
            source = f"folder {request.data_dir}"
        else:
            return "give units > 0 (capture) or data_dir (folder); nothing changed"
        result = recalibration.recalibrate(
            parent,
            recalibration.next_version_dir(parent),
            images,
            names,
            requested_by=by,
            source=source,
            dataset_hash=digest,
            features=features,
            registry=self._registry,
        )
        version = result.manifest.model_version
        ok, reason = await self._switch_scoring(result.model_dir)
        if not ok:
            return (
                f"new version {version} written to {result.model_dir} but the scoring node did "
                f"not load it ({reason}); the cell still runs {self._version}"
            )
        model_registry.set_active(self._registry, result.model_dir, result.manifest)
        self._activate(version, result.model_dir, load_baseline(result.model_dir))
        response.success, response.model_version = True, version
        return (
            f"{version} active ({result.model_dir}): {len(images)} images, image threshold "
            f"{result.threshold_before:.3f} -> {result.threshold_after:.3f}, histogram "
            f"{result.histogram}"
        )

    async def _switch_scoring(self, model_dir: Path) -> tuple[bool, str]:
        if not self._param_client.service_is_ready():
            return False, "service scoring/set_parameters is not available"
        request = SetParameters.Request(
            parameters=[Parameter("model_dir", value=str(model_dir)).to_parameter_msg()]
        )
        result = (await self._param_client.call_async(request)).results[0]
        return bool(result.successful), result.reason


def main(args: list[str] | None = None) -> None:
    run_node(StabilityNode, args)

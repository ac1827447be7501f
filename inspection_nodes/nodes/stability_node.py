"""stability: drift monitor (stability index), line rhythm and guided recalibration of the
scoring model.

Thin wrapper over core/stability/ (index, baseline, version following, unit capture, rhythm) and
core/anomaly/recalibration.py (new model version). It hosts `stability/recalibrate`: the capture
and the rebuild take seconds, which the scoring node's hot path must not wait for; the new
version reaches the scoring node through its `model_dir` parameter (rcl_interfaces
SetParameters), and this node follows whatever version the results carry
(core/stability/following.py).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import fields
from enum import StrEnum
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
    CaptureEvent,
    Disposition,
    PatchEmbedding,
    StabilityComponent,
    StabilityReport,
)
from inspection_msgs.srv import Recalibrate
from inspection_nodes.core.anomaly import registry as model_registry
from inspection_nodes.core.anomaly.artifact import ArtifactError, read_manifest
from inspection_nodes.core.common.health import HealthLevel
from inspection_nodes.core.common.provenance import utc_now
from inspection_nodes.core.io.image_encoding import ImageFormatError, to_rgb8
from inspection_nodes.core.stability.baseline import Baseline, BaselineError, load_baseline
from inspection_nodes.core.stability.capture import UnitCapture
from inspection_nodes.core.stability.following import Follow, VersionFollower
from inspection_nodes.core.stability.index import StabilityConfig, StabilityMonitor
from inspection_nodes.core.stability.plot import render_index
from inspection_nodes.core.stability.rhythm import RhythmConfig, RhythmMonitor, RhythmReport
from inspection_nodes.nodes.common import Health, ParamSpec, declare_parameters, run_node
from inspection_nodes.nodes.convert import array_to_image, image_to_array, stamp_to_ns
from inspection_nodes.nodes.qos import (
    DEBUG_IMAGE_QOS,
    RESULT_QOS,
    STATUS_QOS,
    UNIT_IMAGE_QOS,
    overridable,
)

RECALIBRATE_SERVICE = "stability/recalibrate"


class StabilityCounter(StrEnum):
    RESULTS_OF_OTHER_MODEL = "results_of_other_model"  # ignored while following (core docs)
    UNUSABLE_MODEL_DIR = "unusable_model_dir"
    BAD_BASELINES = "bad_baselines"
    BAD_ROI_IMAGES = "bad_roi_images"
    BAD_EMBEDDINGS = "bad_embeddings"
    RHYTHM_ALERTS = "rhythm_alerts"  # transitions into overdue/stopped/missing/irregular


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
        "rhythm",
        True,
        "judge the line rhythm from camera/unit (false for batch runs paced by the cell)",
        read_only=True,
    ),
    ParamSpec(
        "rhythm_window",
        64,
        "units whose arrivals give the line period",
        range=(8, 10000),
        read_only=True,
    ),
    ParamSpec(
        "rhythm_overdue_periods",
        1.5,
        "no unit for this many periods: overdue (a stop or a missing unit, while it happens)",
        range=(1.05, 9.9),
        read_only=True,
    ),
    ParamSpec(
        "rhythm_max_hold_s",
        0.0,
        "the belt holding a unit longer than this is a stop (0 = 4 periods)",
        range=(0.0, 86400.0),
        read_only=True,
    ),
    ParamSpec(
        "rhythm_min_periodicity",
        0.5,
        "autocorrelation of the arrivals at lag period below which the rhythm is irregular",
        range=(0.0, 0.99),
        read_only=True,
    ),
    ParamSpec(
        "rhythm_check_s",
        0.1,
        "how often the rhythm is judged; a change of state is reported at once",
        range=(0.01, 10.0),
        read_only=True,
    ),
    ParamSpec(
        "capture_timeout_s",
        600.0,
        "stability/recalibrate gives up (changing nothing) if the units do not arrive by then",
        range=(1.0, 86400.0),
        read_only=True,
    ),
)


class StabilityNode(Node):
    def __init__(self, **kwargs) -> None:
        super().__init__("stability", **kwargs)
        p = declare_parameters(self, PARAMETERS)
        self.params = p
        self.config = StabilityConfig(
            **{f.name: p[f.name] for f in fields(StabilityConfig)}
        )  # ValueError with the reason on bad limits
        self.health = Health(self, StabilityCounter)
        self._model_dir: Path | None = Path(p["model_dir"]) if p["model_dir"] else None
        self._registry = Path(p["registry"]) if p["registry"] else None
        if self._registry is None and self._model_dir is not None:
            self._registry = self._model_dir.parent / "registry.json"
        version, baseline = self._start_model()
        self.follower = VersionFollower(version)
        self.monitor = StabilityMonitor(self.config, baseline)
        self.rhythm = RhythmMonitor(
            RhythmConfig(
                window=p["rhythm_window"],
                overdue_periods=p["rhythm_overdue_periods"],
                max_hold_s=p["rhythm_max_hold_s"],
                min_periodicity=p["rhythm_min_periodicity"],
            )
        )  # ValueError with the reason on a bad combination
        self._rhythm_report: RhythmReport | None = None
        self._history: deque[float] = deque(maxlen=p["plot_history"])
        self._capture: UnitCapture | None = None
        self._captured: Future | None = None
        self._busy = False
        self._create_entities()
        self._set_status()

    def _start_model(self) -> tuple[str, Baseline | None]:
        """Version and baseline of model_dir. Not fatal when unusable: monitoring is not in the
        gate path, and a cell started with another model (`inspection cell --model`) is
        followed through the registry anyway."""
        if self._model_dir is None:
            return "", None
        try:
            return read_manifest(self._model_dir).model_version, load_baseline(self._model_dir)
        except (ArtifactError, BaselineError) as exc:
            self.health.reject(
                StabilityCounter.UNUSABLE_MODEL_DIR, f"{exc}; reference window instead"
            )
            self._model_dir = None
            return "", None

    def _create_entities(self) -> None:
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
            RECALIBRATE_SERVICE,
            self._on_recalibrate,
            callback_group=MutuallyExclusiveCallbackGroup(),
        )
        self.create_timer(self.params["report_period_s"], self._publish)
        if self.params["rhythm"]:
            self.create_subscription(
                CaptureEvent,
                "camera/unit",
                lambda msg: self.rhythm.add_unit(stamp_to_ns(msg.header.stamp)),
                RESULT_QOS,
                qos_overriding_options=qos,
            )
            self.create_timer(self.params["rhythm_check_s"], self._check_rhythm)

    @property
    def model_version(self) -> str:
        """Model version the window belongs to ("" until the first result without model_dir)."""
        return self.follower.version

    @property
    def capturing(self) -> bool:
        """True while a recalibration waits for its units."""
        return self._capture is not None

    def _set_status(self) -> None:
        rhythm = self._rhythm_report
        if rhythm is not None and rhythm.alert:
            self.health.set_status(HealthLevel.WARN, f"line rhythm {rhythm.state}: {rhythm.detail}")
            return
        source = self.monitor.baseline.source if self.monitor.baseline else "reference window"
        version = self.follower.version or "?"
        self.health.set_status(HealthLevel.OK, f"model {version}, baseline {source}")

    def _check_rhythm(self) -> None:
        """Judge the line rhythm; a change of state is logged and reported at once."""
        report = self.rhythm.check(self.get_clock().now().nanoseconds)
        previous, self._rhythm_report = self._rhythm_report, report
        if previous is not None and previous.state == report.state:
            return
        if report.alert:
            self.health.counters.inc(StabilityCounter.RHYTHM_ALERTS)
            self.get_logger().warning(f"line rhythm {report.state}: {report.detail}")
        elif previous is not None and previous.alert:
            self.get_logger().info(f"line rhythm {report.state} again")
        self._set_status()
        self._publish()

    # -- inputs -------------------------------------------------------------------------------

    def _on_result(self, msg: AnomalyResult) -> None:
        step = self.follower.observe(msg.model_version)
        if step is Follow.IGNORE:
            self.health.counters.inc(StabilityCounter.RESULTS_OF_OTHER_MODEL)
            return
        if step is Follow.SWITCH:
            self._follow(msg.model_version)
        self.monitor.add_result(float(msg.score), float(msg.image_threshold))

    def _follow(self, version: str) -> None:
        """The scoring node runs another version now (rollback, manual switch): a new window
        against that version's baseline, found through the registry."""
        found = model_registry.find_version(self._registry, version) if self._registry else None
        baseline = None
        if found is not None:
            try:
                baseline = load_baseline(found)
            except BaselineError as exc:
                self.health.reject(StabilityCounter.BAD_BASELINES, str(exc))
        self._model_dir = found
        self.monitor.reset(baseline)
        self._set_status()
        self.get_logger().info(
            f"following model {version} ({found or 'not in the registry'}): "
            f"baseline {baseline.source if baseline else 'reference window'}"
        )

    def _on_roi(self, msg: Image) -> None:
        try:
            rgb = to_rgb8(image_to_array(msg), msg.encoding)
            self.monitor.add_roi(rgb)
        except (ImageFormatError, ValueError) as exc:
            self.health.reject(StabilityCounter.BAD_ROI_IMAGES, str(exc))
            return
        if self._capture is not None:
            self._captured_if(self._capture.add(stamp_to_ns(msg.header.stamp), roi=rgb.copy()))

    def _on_patches(self, msg: PatchEmbedding) -> None:
        try:
            patches = np.frombuffer(msg.data, dtype=np.float32).reshape(
                msg.height, msg.width, msg.channels
            )
            self.monitor.add_embedding(patches)
        except ValueError as exc:
            self.health.reject(StabilityCounter.BAD_EMBEDDINGS, str(exc))
            return
        if self._capture is not None:
            stamp = stamp_to_ns(msg.header.stamp)
            name = msg.unit_id or str(stamp)
            self._captured_if(self._capture.add(stamp, name, feats=patches.copy()))

    def _on_disposition(self, msg: Disposition) -> None:
        self.monitor.add_disposition(msg.disposition == Disposition.FALSE_REJECT)

    # -- outputs ------------------------------------------------------------------------------

    def _publish(self) -> None:
        if self._capture is not None and self._capture.expired(time.monotonic()):
            self._captured_if(False, done=True)
        state = self.monitor.state()
        self._history.append(state.index)
        report = StabilityReport(
            model_version=self.follower.version,
            window_units=state.units,
            index=float(state.index),
            level=int(state.level),
            components=[
                StabilityComponent(name=n, value=float(v), normalised=float(k))
                for n, (v, k) in state.components.items()
            ],
        )
        report.header.stamp = self.get_clock().now().to_msg()
        if self._rhythm_report is not None:
            fill_rhythm(report, self._rhythm_report)
        self._pub.publish(report)
        if self._plot_pub.get_subscription_count() > 0:
            picture = render_index(list(self._history), state, self.config)
            self._plot_pub.publish(array_to_image(picture, report.header, "rgb8"))

    # -- guided recalibration -----------------------------------------------------------------

    def _captured_if(self, full: bool, done: bool = False) -> None:
        """Resolve the waiting request: True once the capture is full, False at its deadline."""
        if (full or done) and self._captured is not None and not self._captured.done():
            self._captured.set_result(full)

    async def _on_recalibrate(self, request: Recalibrate.Request, response: Recalibrate.Response):
        """Capture the next N units (or read a folder), build a new version, switch scoring."""
        response.success, response.model_version = False, self.follower.version
        if self._busy:
            response.message = "a recalibration is already running; nothing changed"
            return response
        if self._model_dir is None:
            response.message = (
                f"model {self.follower.version or '?'} has no known directory: set model_dir "
                "(or register the version); nothing changed"
            )
            return response
        # Imported here: the engine's libraries would add seconds to every start-up.
        from inspection_nodes.core.anomaly import recalibration
        from inspection_nodes.core.anomaly.engine import EngineError
        from inspection_nodes.core.io.mvtec import DatasetError

        self._busy = True
        try:
            response.message = await self._recalibrate(request, response)
        except (
            recalibration.RecalibrationError,
            EngineError,
            DatasetError,
            ArtifactError,
            BaselineError,
            OSError,
        ) as exc:
            response.message = f"recalibration failed, nothing changed: {exc}"
        finally:
            self._busy, self._capture, self._captured = False, None, None
        if response.success:  # one call site per severity (rclpy refuses to mix them)
            self.get_logger().info(f"{RECALIBRATE_SERVICE}: {response.message}")
        else:
            self.get_logger().error(f"{RECALIBRATE_SERVICE}: {response.message}")
        return response

    async def _recalibrate(self, request: Recalibrate.Request, response) -> str:
        from inspection_nodes.core.anomaly import recalibration

        parent, features, digest = self._model_dir, None, None
        if request.units > 0:
            deadline = time.monotonic() + self.params["capture_timeout_s"]
            self._capture, self._captured = UnitCapture(int(request.units), deadline), Future()
            if not await self._captured:
                got = len(self._capture.complete())
                return f"only {got} of {request.units} units arrived in time; nothing changed"
            images, features, names = self._capture.take()
            source = f"next {request.units} units after {utc_now()}"
        elif request.data_dir:
            good = recalibration.read_good_images(Path(request.data_dir))
            images, names, digest = good.images, good.names, good.dataset_hash
            source = f"folder {request.data_dir}"
        else:
            return "give units > 0 (capture) or data_dir (folder); nothing changed"
        result = recalibration.recalibrate(
            parent,
            recalibration.next_version_dir(parent),
            images,
            names,
            requested_by=request.requested_by.strip(),
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
                f"not load it ({reason}); the cell still runs {self.follower.version}"
            )
        model_registry.set_active(self._registry, result.model_dir, result.manifest)
        self.follower.switch_to(version)
        self._model_dir = result.model_dir
        self.monitor.reset(load_baseline(result.model_dir))
        self._set_status()
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


def fill_rhythm(msg: StabilityReport, rhythm: RhythmReport) -> None:
    msg.rhythm_state, msg.rhythm_alert = str(rhythm.state), rhythm.alert
    msg.rhythm_period_s, msg.rhythm_periodicity = rhythm.period_s, rhythm.periodicity
    msg.rhythm_gap_s, msg.rhythm_detail = rhythm.gap_s, rhythm.detail
    msg.rhythm_missing_units, msg.rhythm_stops = rhythm.missing_units, rhythm.stops


def main(args: list[str] | None = None) -> None:
    run_node(StabilityNode, args)

"""What every node of the cell shares: declared parameters, counters as diagnostics, main()."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.lifecycle import LifecycleNode
from rclpy.node import Node
from rclpy.signals import SignalHandlerOptions

from inspection_msgs.msg import UnitRejection
from inspection_nodes.core.common.counters import EventCounters
from inspection_nodes.core.common.health import HealthLevel
from inspection_nodes.nodes.qos import RESULT_QOS, overridable


@dataclass(frozen=True)
class ParamSpec:
    """One declared parameter; the README's parameter tables are checked against these."""

    name: str
    default: Any
    description: str
    range: tuple[float, float] | None = None
    read_only: bool = False
    choices: tuple[str, ...] = ()

    @property
    def type_name(self) -> str:
        names = {bool: "bool", int: "int", float: "double", str: "string"}
        if isinstance(self.default, list | tuple):
            return names.get(type(self.default[0]), "?") + "[]" if self.default else "string[]"
        return names.get(type(self.default), "?")

    def descriptor(self) -> ParameterDescriptor:
        desc = ParameterDescriptor(description=self.description, read_only=self.read_only)
        if self.range is not None and isinstance(self.default, float):
            lo, hi = self.range
            desc.floating_point_range = [FloatingPointRange(from_value=lo, to_value=hi)]
        elif self.range is not None and isinstance(self.default, int):
            lo, hi = self.range
            desc.integer_range = [IntegerRange(from_value=int(lo), to_value=int(hi), step=1)]
        if self.choices:
            desc.additional_constraints = "one of: " + ", ".join(self.choices)
        return desc


def declare_parameters(node: Node, specs: Sequence[ParamSpec]) -> dict[str, Any]:
    """Declare every spec and return the values in force (launch overrides applied)."""
    values: dict[str, Any] = {}
    for spec in specs:
        default = list(spec.default) if isinstance(spec.default, tuple) else spec.default
        param = node.declare_parameter(spec.name, default, spec.descriptor())
        values[spec.name] = param.value
        if spec.choices and param.value not in spec.choices:
            raise ValueError(
                f"parameter {spec.name}={param.value!r} is not one of {', '.join(spec.choices)}"
            )
    return values


AUDIT_PATH = ParamSpec(
    "audit_path",
    "evidence/audit.log",
    "hash-chained audit log, one chain shared by gate, recorder and bridge",
    read_only=True,
)


class Rejections:
    """A stage's `rejections` output: a unit it cannot use is counted, logged (throttled) and
    published with the reason, so the gate FAILs it at once instead of waiting for its deadline.

    A plain publisher, also in lifecycle nodes: rejections must reach the gate even while the
    node is inactive.
    """

    def __init__(self, node: Node, health: Health, stage: str) -> None:
        self._health, self._stage, self._node = health, stage, node
        self._pub = node.create_publisher(
            UnitRejection, "rejections", RESULT_QOS, qos_overriding_options=overridable()
        )

    def publish(self, header, unit_id: str, counter: str, reason: str, detail: str = "") -> None:
        """Count `counter`, log `detail` (default: the reason), publish the rejection."""
        self._health.reject(counter, detail or reason)
        self._pub.publish(
            UnitRejection(header=header, unit_id=unit_id, stage=self._stage, reason=reason)
        )

    def destroy(self) -> None:
        self._node.destroy_publisher(self._pub)


CPU_GAUGE = "process_cpu_s"


class Health:
    """Counters, gauges and a status line published on `diagnostics` once a second.

    `counters` are the names the node declares (its counter enums): they are reported from
    start-up on, at 0 until the first event. Gauges are levels a node sets (the bridge's outbox
    depth); `process_cpu_s`, the CPU seconds of the node's process (all its threads; composed
    nodes share one), is always among them, so CPU per node reaches the metrics node and any
    diagnostics viewer without knowing process ids.
    """

    def __init__(self, node: Node, counters: Iterable[str], period_s: float = 1.0) -> None:
        self._node = node
        self.counters = EventCounters(counters)
        self._gauges: dict[str, float] = {}
        self._level = HealthLevel.OK
        self._message = "starting"
        self._pub = node.create_publisher(DiagnosticArray, "diagnostics", 10)
        self._timer = node.create_timer(period_s, self.publish)

    def set_status(self, level: HealthLevel, message: str) -> None:
        self._level, self._message = HealthLevel(level), message

    def set_gauge(self, name: str, value: float) -> None:
        self._gauges[name] = value

    def reject(self, counter: str, reason: str) -> None:
        """Count a rejected input and log why (throttled, so a flood cannot stall the node)."""
        self.counters.inc(counter)
        self._node.get_logger().warning(
            f"{counter}: {reason}", throttle_duration_sec=1.0, skip_first=False
        )

    def publish(self) -> None:
        status = DiagnosticStatus(
            level=bytes([self._level]),
            name=f"{self._node.get_name()}",
            message=self._message,
            hardware_id="inspection_cell",
            values=[KeyValue(key=k, value=str(v)) for k, v in self.counters.snapshot().items()]
            + [KeyValue(key=k, value=f"{v:g}") for k, v in self._gauges.items()]
            + [KeyValue(key=CPU_GAUGE, value=f"{time.process_time():.3f}")],
        )
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = self._node.get_clock().now().to_msg()
        self._pub.publish(msg)


def run_node(factory: Callable[..., Node], args: list[str] | None = None) -> None:
    """The nodes' main(): init as a context, build, spin; only shutdown signals end it quietly."""
    run_nodes([factory], args)


def run_nodes(
    factories: Sequence[Callable[..., Node]],
    args: list[str] | None = None,
    wire: Callable[[list[Node]], None] | None = None,
) -> None:
    """Build the nodes in order (then `wire` them), autostart them and spin them in one thread.

    A node that cannot start (bad parameter, missing model) exits 1 with one clear line instead
    of a traceback, so `inspection run` and launch logs show the cause. SIGINT or SIGTERM ends
    the spin (`StopRequest`); then the nodes are shut down in reverse order while ROS is still
    up (`shut_down`), and the process exits 0.
    """
    with rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO):
        executor = SingleThreadedExecutor()
        stop = StopRequest(executor)
        nodes: list[Node] = []
        try:
            for factory in factories:
                if stop.requested.is_set():
                    return
                nodes.append(build_node(factory))
            if wire is not None:
                wire(nodes)
            for node in nodes:
                executor.add_node(node)
            for node in nodes:
                autostart = getattr(node, "autostart", None)
                if autostart is not None and not stop.requested.is_set():
                    autostart()
            while not stop.requested.is_set():
                executor.spin_once()
        except ExternalShutdownException:
            pass
        finally:
            shut_down(nodes)


def build_node(factory: Callable[..., Node]) -> Node:
    """One node, or exit 1 with the reason on one line."""
    try:
        return factory()
    except Exception as exc:
        name = getattr(factory, "__name__", None) or factory.func.__name__  # a partial
        print(f"[FATAL] {name}: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None


class StopRequest:
    """SIGINT and SIGTERM end the node's spin loop at once, exactly once, and quietly.

    Instead of rclpy's handlers, which shut the ROS context down inside the signal, before a
    lifecycle node can take its shutdown transition (the transition event cannot be published
    any more, so the actuator's embedded Modbus server outlived the process), and then raise
    KeyboardInterrupt wherever the main thread is. Ctrl-C in the terminal of `ros2 launch`
    reaches every node twice (the terminal's process group, then launch itself); the second
    SIGINT used to land in the middle of the shutdown and end the node with -2, which launch
    reports as a crash. Here the first signal sets `requested` and wakes the executor (the C
    signal handler writes to a pipe; a thread reading it hands the executor a task, so a node
    blocked in its wait stops at once); later SIGINTs are ignored; a later SIGTERM (launch's
    and the runner's escalation) ends the process as usual.
    """

    def __init__(self, executor: SingleThreadedExecutor) -> None:
        self.requested = threading.Event()
        self._executor = executor
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)
        threading.Thread(target=self._wake_on_signal, args=(read_fd,), daemon=True).start()

    def _wake_on_signal(self, read_fd: int) -> None:
        os.read(read_fd, 1)
        # A task, not just executor.wake(): a wake alone is absorbed inside spin_once's wait,
        # which returns only when some callback ran (here: a 1 Hz diagnostics timer later).
        self._executor.create_task(self.requested.set)

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.requested.set()
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


# Primary lifecycle states with a shutdown transition (not `finalized`).
LIVE = ("unconfigured", "inactive", "active")


def lifecycle_state(node: LifecycleNode) -> str:
    """The node's primary state label (rclpy has no public getter)."""
    return node._state_machine.current_state[1]


def shut_down(nodes: Sequence[Node]) -> None:
    """Release what the nodes hold, newest first, while ROS is still up: a lifecycle node takes
    its shutdown transition (the actuator reports pending pulses and stops its embedded Modbus
    server, the camera its reader thread), then every node is destroyed (the recorder closes
    its store, the bridge its link)."""
    for node in reversed(nodes):
        if isinstance(node, LifecycleNode) and node.context.ok() and lifecycle_state(node) in LIVE:
            node.trigger_shutdown()
        node.destroy_node()


class Autostart:
    """Mixin for LifecycleNodes: with `autostart` true, configure and activate at start-up.

    `inspection run` and plain `ros2 launch` have no lifecycle manager, so a hardware node brings
    itself up unless the integrator sets autostart false and drives the transitions.
    """

    AUTOSTART = ParamSpec("autostart", True, "configure and activate at start-up", read_only=True)

    def autostart(self) -> None:
        from rclpy.lifecycle import TransitionCallbackReturn

        if not self.get_parameter("autostart").value:
            return
        if self.trigger_configure() != TransitionCallbackReturn.SUCCESS:
            self.get_logger().error("configure failed; node stays unconfigured")
            return
        if self.trigger_activate() != TransitionCallbackReturn.SUCCESS:
            self.get_logger().error("activate failed; node stays inactive")

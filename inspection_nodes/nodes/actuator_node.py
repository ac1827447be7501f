"""actuator: one reject pulse per failed unit at capture + delay, on a Modbus coil/register or GPIO.

Timing-critical work runs in core/actuation's scheduler thread; this node converts messages,
runs the fail-safe/watchdog tick and the optional PLC handshake, and publishes what happened.
"""

from __future__ import annotations

import queue
import time
from enum import StrEnum

from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from std_msgs.msg import Header

from inspection_msgs.msg import ActuatorEvent, CaptureEvent, Verdict
from inspection_nodes.core.actuation.actuator import BACKENDS, Actuator, ActuatorConfig, Clocks
from inspection_nodes.core.actuation.gpio import GpioOutput
from inspection_nodes.core.actuation.modbus import TARGETS, ModbusOutput, ModbusTarget
from inspection_nodes.core.actuation.modbus_server import ServerProcess
from inspection_nodes.core.actuation.output import OutputCounter, OutputError, ReconnectingOutput
from inspection_nodes.core.actuation.plc_handshake import HandshakeError, PlcHandshake
from inspection_nodes.core.actuation.scheduler import ActuationEvent, Outcome, PulseScheduler
from inspection_nodes.core.actuation.status import actuator_status
from inspection_nodes.core.common.health import HealthLevel
from inspection_nodes.nodes.common import Autostart, Health, ParamSpec, declare_parameters, run_node
from inspection_nodes.nodes.convert import ns_to_stamp, stamp_to_ns, wall_ns
from inspection_nodes.nodes.qos import COMMAND_QOS, RESULT_QOS, overridable

TICK_PERIOD_S = 0.01  # fail-safe and watchdog resolution; events are published at this pace

PARAMETERS: tuple[ParamSpec, ...] = (
    Autostart.AUTOSTART,
    ParamSpec("backend", "modbus", "reject output", choices=BACKENDS, read_only=True),
    ParamSpec(
        "delay_ms",
        500.0,
        "conveyor travel time from camera to reject station: the pulse "
        "starts this long after the capture stamp",
        range=(1.0, 60000.0),
        read_only=True,
    ),
    ParamSpec(
        "pulse_width_ms",
        20.0,
        "how long the reject line is held on",
        range=(1.0, 10000.0),
        read_only=True,
    ),
    ParamSpec(
        "late_tolerance_ms",
        5.0,
        "an edge later than this is not driven; reported LATE",
        range=(0.0, 1000.0),
        read_only=True,
    ),
    ParamSpec(
        "verdict_timeout_ms",
        400.0,
        "fail-safe: reject a captured unit with no verdict this long after capture (< delay_ms)",
        range=(1.0, 60000.0),
        read_only=True,
    ),
    ParamSpec(
        "gate_watchdog_ms",
        500.0,
        "no gate/heartbeat this long: gate lost (reported, PLC ERROR)",
        range=(10.0, 60000.0),
        read_only=True,
    ),
    ParamSpec(
        "dedup_capacity",
        4096,
        "handled units remembered to drop duplicate verdicts",
        range=(1, 10_000_000),
        read_only=True,
    ),
    ParamSpec("modbus_host", "127.0.0.1", "PLC (or embedded server) address", read_only=True),
    ParamSpec("modbus_port", 15020, "Modbus TCP port", range=(1, 65535), read_only=True),
    ParamSpec("modbus_unit_id", 1, "Modbus unit (device) id", range=(0, 247), read_only=True),
    ParamSpec(
        "modbus_target",
        "coil",
        "reject line is a coil or a holding register",
        choices=TARGETS,
        read_only=True,
    ),
    ParamSpec(
        "modbus_address",
        0,
        "coil or register address of the reject line",
        range=(0, 65535),
        read_only=True,
    ),
    ParamSpec(
        "modbus_on_value",
        1,
        "register value while the line is on (register target)",
        range=(1, 65535),
        read_only=True,
    ),
    ParamSpec(
        "modbus_timeout_ms", 50.0, "Modbus request timeout", range=(1.0, 10000.0), read_only=True
    ),
    ParamSpec(
        "embedded_server",
        True,
        "start a pymodbus server on modbus_host:modbus_port (false when pointing at a real PLC)",
        read_only=True,
    ),
    ParamSpec("gpio_chip", "gpiochip0", "libgpiod chip name", read_only=True),
    ParamSpec(
        "gpio_line",
        0,
        "libgpiod line offset, or BOARD pin with Jetson.GPIO",
        range=(0, 1023),
        read_only=True,
    ),
    ParamSpec(
        "handshake", False, "run the PLC handshake register block (see docs)", read_only=True
    ),
    ParamSpec(
        "handshake_base",
        100,
        "first holding register of the handshake block",
        range=(0, 65528),
        read_only=True,
    ),
    ParamSpec(
        "handshake_poll_ms", 20.0, "handshake exchange period", range=(5.0, 10000.0), read_only=True
    ),
)


class ActuatorCounter(StrEnum):
    VERDICT_WHILE_INACTIVE = "verdict_while_inactive"  # not actuated (the fail-safe covers it)
    ACTUATOR_ERROR = "actuator_error"
    GATE_WATCHDOG_TRIPS = "gate_watchdog_trips"
    HANDSHAKE_ERRORS = "handshake_errors"
    PLC_TRIGGERS = "plc_triggers"
    # one per Outcome: what happened to each unit
    FIRED = "fired"
    LATE = "late"
    MISSED = "missed"
    DUPLICATE = "duplicate"
    SKIPPED = "skipped"


OUTCOME_COUNTERS = {o: ActuatorCounter(o.name.lower()) for o in Outcome}


class ActuatorNode(Autostart, LifecycleNode):
    """Device and threads are opened in configure, pulses flow while active."""

    def __init__(self, **kwargs) -> None:
        super().__init__("actuator", **kwargs)
        self.params = declare_parameters(self, PARAMETERS)
        self.health = Health(self, (*ActuatorCounter, *OutputCounter))
        self.actuator: Actuator | None = None
        self.output: ReconnectingOutput | None = None
        self.server: ServerProcess | None = None
        self._scheduler: PulseScheduler | None = None
        self._handshake: PlcHandshake | None = None
        self._events: queue.SimpleQueue[ActuationEvent] = queue.SimpleQueue()
        self._entities: list = []
        self._active = False

    # -- lifecycle -----------------------------------------------------------------------------

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        p = self.params
        try:
            config = ActuatorConfig(
                delay_ms=p["delay_ms"],
                pulse_width_ms=p["pulse_width_ms"],
                late_tolerance_ms=p["late_tolerance_ms"],
                verdict_timeout_ms=p["verdict_timeout_ms"],
                gate_watchdog_ms=p["gate_watchdog_ms"],
                dedup_capacity=p["dedup_capacity"],
            ).validate()
            target = ModbusTarget(
                host=p["modbus_host"],
                port=p["modbus_port"],
                unit_id=p["modbus_unit_id"],
                target=p["modbus_target"],
                address=p["modbus_address"],
                on_value=p["modbus_on_value"],
                timeout_ms=p["modbus_timeout_ms"],
            ).validate()
            if p["backend"] == "modbus" and p["embedded_server"]:
                self.server = ServerProcess(target.host, target.port)
                self.server.start()
            device = (
                ModbusOutput(target)
                if p["backend"] == "modbus"
                else GpioOutput(p["gpio_chip"], p["gpio_line"])
            )
            if p["handshake"]:
                self._handshake = PlcHandshake(target, p["handshake_base"])
        except (ValueError, OSError, OutputError) as exc:
            self.get_logger().error(f"configure failed: {exc}")
            self.health.set_status(HealthLevel.ERROR, str(exc))
            self._release()
            return TransitionCallbackReturn.FAILURE
        self.output = ReconnectingOutput(device, self.health.counters, self._on_output_change)
        self._scheduler = PulseScheduler(
            self.output, int(config.late_tolerance_ms * 1e6), self._events.put
        )
        self.actuator = Actuator(config, self._scheduler)
        self._create_entities()
        self.output.start()
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._scheduler.start()
        self._active = True
        if self._handshake is not None:
            self._handshake.state.ready = True
        self.health.set_status(HealthLevel.OK, "active")
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._active = False
        if self._handshake is not None:
            self._handshake.state.ready = False
        self._scheduler.stop()
        self._on_tick()
        return super().on_deactivate(state)

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self._active:
            self._active = False
            self._scheduler.stop()
        self._release()
        return TransitionCallbackReturn.SUCCESS

    def _create_entities(self) -> None:
        self._event_pub = self.create_lifecycle_publisher(
            ActuatorEvent, "actuator/event", RESULT_QOS, qos_overriding_options=overridable()
        )
        self._trigger_pub = self.create_lifecycle_publisher(
            Header, "camera/trigger", COMMAND_QOS, qos_overriding_options=overridable()
        )
        subs = (
            (Verdict, "verdict", self._on_verdict),
            (CaptureEvent, "camera/unit", self._on_capture),
            (Header, "gate/heartbeat", self._on_heartbeat),
        )
        self._entities = [
            self.create_subscription(t, n, cb, RESULT_QOS, qos_overriding_options=overridable())
            for t, n, cb in subs
        ]
        self._entities.append(self.create_timer(TICK_PERIOD_S, self._on_tick))
        if self._handshake is not None:
            period = self.params["handshake_poll_ms"] / 1000.0
            self._entities.append(self.create_timer(period, self._on_handshake))

    def _release(self) -> None:
        """Undo configure: entities, output (left off), handshake, embedded server."""
        for entity in self._entities:
            if hasattr(entity, "cancel"):
                entity.cancel()
                self.destroy_timer(entity)
            else:
                self.destroy_subscription(entity)
        self._entities = []
        if hasattr(self, "_event_pub"):
            self.destroy_lifecycle_publisher(self._event_pub)
            self.destroy_lifecycle_publisher(self._trigger_pub)
            del self._event_pub, self._trigger_pub
        if self.output is not None:
            self.output.stop()
        if self._handshake is not None:
            self._handshake.close()
        if self.server is not None:
            self.server.stop()
        self.output = self.server = self._handshake = self._scheduler = self.actuator = None

    # -- callbacks (never raise) ---------------------------------------------------------------

    def _on_verdict(self, msg: Verdict) -> None:
        stamp = stamp_to_ns(msg.header.stamp)
        if not self._active:
            self.health.reject(
                ActuatorCounter.VERDICT_WHILE_INACTIVE, f"unit {msg.unit_id} not actuated"
            )
            return
        try:
            event = self.actuator.on_verdict(
                stamp, msg.unit_id, msg.decision == Verdict.PASS, self._clocks()
            )
        except Exception as exc:  # report, never raise: the fail-safe tick still covers it
            self.health.reject(ActuatorCounter.ACTUATOR_ERROR, f"{type(exc).__name__}: {exc}")
            return
        if event is not None:
            self._events.put(event)
        if self._handshake is not None:
            self._handshake.result(msg.decision == Verdict.PASS)

    def _on_capture(self, msg: CaptureEvent) -> None:
        if self._active:
            self.actuator.on_capture(stamp_to_ns(msg.header.stamp), msg.unit_id)

    def _on_heartbeat(self, _msg: Header) -> None:
        self.actuator.on_heartbeat(time.monotonic_ns())

    def _on_tick(self) -> None:
        if self._active:
            try:
                events, change = self.actuator.tick(self._clocks())
            except Exception as exc:
                self.health.reject(ActuatorCounter.ACTUATOR_ERROR, f"{type(exc).__name__}: {exc}")
                events, change = [], None
            for event in events:
                self._events.put(event)
            if change is not None:
                self._on_gate_change(change)
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                break
            self._publish(event)

    def _on_gate_change(self, lost: bool) -> None:
        if lost:
            self.health.counters.inc(ActuatorCounter.GATE_WATCHDOG_TRIPS)
            self.get_logger().error(
                f"gate heartbeat lost for {self.params['gate_watchdog_ms']:g} ms: units without "
                "a verdict get a fail-safe reject"
            )
        else:
            self.get_logger().info("gate heartbeat back")
        self._update_status()

    def _on_output_change(self, up: bool, detail: str) -> None:
        """Called from the output's threads: log and flag only."""
        if up:
            self.get_logger().info(f"reject output {self.output and self.output.name} up")
        else:
            self.get_logger().error(f"reject output down: {detail}; reconnecting")
        self._update_status()

    def _update_status(self) -> None:
        status = actuator_status(
            gate_lost=self.actuator is not None and self.actuator.gate_lost,
            output_down=self.output is not None and not self.output.up,
        )
        self.health.set_status(status.level, status.message)
        if self._handshake is not None:
            self._handshake.state.error = status.plc_error

    def _on_handshake(self) -> None:
        state = self._handshake.state
        state.busy = self.actuator.awaiting > 0
        try:
            triggers = self._handshake.poll()
        except HandshakeError as exc:
            self.health.reject(ActuatorCounter.HANDSHAKE_ERRORS, str(exc))
            return
        for _ in range(triggers):
            self._trigger_pub.publish(Header(stamp=ns_to_stamp(wall_ns()), frame_id="plc"))
        self.health.counters.inc(ActuatorCounter.PLC_TRIGGERS, triggers)

    def _publish(self, event: ActuationEvent) -> None:
        self.health.counters.inc(OUTCOME_COUNTERS[event.outcome])
        if event.outcome in (Outcome.LATE, Outcome.MISSED):
            self.get_logger().warning(
                f"unit {event.unit_id}: {event.outcome.name} ({event.detail})",
                throttle_duration_sec=1.0,
            )
        msg = ActuatorEvent(
            unit_id=event.unit_id,
            outcome=int(event.outcome),
            backend=self.params["backend"],
            scheduled_delay_ms=self.params["delay_ms"],
            timing_error_ms=event.timing_error_ms,
            pulse_width_ms=event.pulse_width_ms,
            detail=event.detail,
        )
        msg.header.stamp = ns_to_stamp(event.stamp_ns)
        self._event_pub.publish(msg)

    @staticmethod
    def _clocks() -> Clocks:
        return Clocks(wall_ns=wall_ns(), mono_ns=time.monotonic_ns())


def main(args: list[str] | None = None) -> None:
    run_node(ActuatorNode, args)

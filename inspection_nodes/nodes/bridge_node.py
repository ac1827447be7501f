"""bridge: forwards verdicts, actuator events and stability reports to the orchestration backend
over MQTT through a durable outbox, and applies authorised backend commands.

ROS callbacks only write to the local outbox (never the network), so a broker outage cannot hold
up the executor; `MqttLink` drains the outbox on its own thread. Commands arrive on the paho
thread and are queued; a timer on the executor thread validates, audits and applies them.
"""

from __future__ import annotations

import collections
import os
from enum import StrEnum
from pathlib import Path
from typing import Any

from rclpy.node import Node
from std_msgs.msg import Bool

from inspection_msgs.msg import ActuatorEvent, StabilityReport, Verdict
from inspection_msgs.srv import Recalibrate, SetThreshold
from inspection_nodes.core.bridge.commands import (
    COMMAND_TYPES,
    CommandDecision,
    CommandPolicy,
    CommandType,
    result_message,
)
from inspection_nodes.core.bridge.mqtt_link import (
    LinkCounter,
    MqttLink,
    MqttSettings,
    bridge_status,
)
from inspection_nodes.core.bridge.outbox import DEFAULT_MAX_MESSAGES, Outbox
from inspection_nodes.core.bridge.payloads import PayloadType, encode, envelope, fact_key, topic
from inspection_nodes.core.common.health import HealthLevel
from inspection_nodes.core.evidence.audit import AuditLog
from inspection_nodes.nodes.common import (
    AUDIT_PATH,
    Health,
    ParamSpec,
    declare_parameters,
    run_node,
)
from inspection_nodes.nodes.msg_json import actuator_body, stability_body, verdict_body
from inspection_nodes.nodes.qos import RESULT_QOS, STATUS_QOS, overridable

PARAMETERS: tuple[ParamSpec, ...] = (
    ParamSpec("cell_id", "cell-1", "cell name in MQTT topics and message ids", read_only=True),
    ParamSpec("topic_prefix", "inspection", "first MQTT topic level", read_only=True),
    ParamSpec("outbox_path", "evidence/outbox.db", "SQLite outbox file", read_only=True),
    ParamSpec(
        "outbox_max_messages",
        DEFAULT_MAX_MESSAGES,
        "oldest messages are dropped (and counted) beyond this many",
        range=(1, 1_000_000_000),
        read_only=True,
    ),
    ParamSpec("mqtt_host", "127.0.0.1", "broker host", read_only=True),
    ParamSpec("mqtt_port", 1883, "broker port", range=(1, 65535), read_only=True),
    ParamSpec("mqtt_client_id", "", "MQTT client id (empty: broker assigns)", read_only=True),
    ParamSpec("mqtt_username", "", "MQTT user name (empty: anonymous)", read_only=True),
    ParamSpec(
        "mqtt_password_env",
        "INSPECTION_MQTT_PASSWORD",
        "environment variable holding the MQTT password (kept out of parameter files)",
        read_only=True,
    ),
    ParamSpec("mqtt_tls", False, "connect with TLS", read_only=True),
    ParamSpec("mqtt_ca_file", "", "CA bundle for TLS (empty: system CAs)", read_only=True),
    ParamSpec("mqtt_cert_file", "", "client certificate for TLS client auth", read_only=True),
    ParamSpec("mqtt_key_file", "", "client key for TLS client auth", read_only=True),
    ParamSpec("mqtt_keepalive_s", 30, "MQTT keepalive", range=(5, 3600), read_only=True),
    ParamSpec(
        "backoff_initial_s", 0.5, "first reconnect delay", range=(0.05, 60.0), read_only=True
    ),
    ParamSpec(
        "backoff_max_s",
        10.0,
        "reconnect delay cap (doubles up to it)",
        range=(0.1, 600.0),
        read_only=True,
    ),
    ParamSpec(
        "max_inflight", 100, "QoS 1 messages awaiting PUBACK", range=(1, 65535), read_only=True
    ),
    ParamSpec(
        "allowed_commands",
        "",
        "comma-separated command types the backend may send (empty: none)",
        read_only=True,
    ),
    ParamSpec(
        "allowed_issuers",
        "",
        "comma-separated issued_by values accepted (empty: any)",
        read_only=True,
    ),
    AUDIT_PATH,
)


class BridgeCounter(StrEnum):
    VERDICT_QUEUED = "verdict_queued"
    ACTUATOR_EVENT_QUEUED = "actuator_event_queued"
    STABILITY_QUEUED = "stability_queued"
    OUTBOX_WRITE_FAILED = "outbox_write_failed"
    COMMAND_REJECTED = "command_rejected"  # refused by the policy (answered with the reason)
    COMMAND_FAILED = "command_failed"
    AUDIT_FAILED = "audit_failed"
    # accepted commands by type (COMMAND_COUNTERS)
    COMMAND_LINE_HOLD = "command_line_hold"
    COMMAND_LINE_RELEASE = "command_line_release"
    COMMAND_THRESHOLD_UPDATE = "command_threshold_update"
    COMMAND_RECALIBRATION = "command_recalibration"


COMMAND_COUNTERS = {kind: BridgeCounter(f"command_{kind}") for kind in COMMAND_TYPES}
FORWARDED = (PayloadType.VERDICT, PayloadType.ACTUATOR_EVENT, PayloadType.STABILITY)
QUEUED_COUNTERS = {kind: BridgeCounter(f"{kind}_queued") for kind in FORWARDED}


def _csv(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


class BridgeNode(Node):
    """ROS side of the backend link: outbox writer, command applier, diagnostics."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("bridge", **kwargs)
        p = declare_parameters(self, PARAMETERS)
        self.cell_id, self.prefix = p["cell_id"], p["topic_prefix"]
        settings = MqttSettings(
            host=p["mqtt_host"],
            port=p["mqtt_port"],
            client_id=p["mqtt_client_id"],
            username=p["mqtt_username"],
            password=os.environ.get(p["mqtt_password_env"], ""),
            tls=p["mqtt_tls"],
            ca_file=p["mqtt_ca_file"],
            cert_file=p["mqtt_cert_file"],
            key_file=p["mqtt_key_file"],
            keepalive_s=p["mqtt_keepalive_s"],
            backoff_initial_s=p["backoff_initial_s"],
            backoff_max_s=p["backoff_max_s"],
            max_inflight=p["max_inflight"],
        )
        self.policy = CommandPolicy(
            self.cell_id, _csv(p["allowed_commands"]), _csv(p["allowed_issuers"])
        )
        self.audit = AuditLog(Path(p["audit_path"]))
        self.outbox = Outbox(Path(p["outbox_path"]), p["outbox_max_messages"])
        self.health = Health(self, (*BridgeCounter, *LinkCounter))
        self._commands: collections.deque[bytes] = collections.deque(maxlen=1000)
        self.hold_pub = self.create_publisher(
            Bool, "line/hold", STATUS_QOS, qos_overriding_options=overridable()
        )
        self.threshold_client = self.create_client(SetThreshold, "gate/set_threshold")
        self.recalibrate_client = self.create_client(Recalibrate, "stability/recalibrate")
        for msg_type, name, qos, kind, body in (
            (Verdict, "verdict", RESULT_QOS, PayloadType.VERDICT, verdict_body),
            (
                ActuatorEvent,
                "actuator/event",
                RESULT_QOS,
                PayloadType.ACTUATOR_EVENT,
                actuator_body,
            ),
            (StabilityReport, "stability", STATUS_QOS, PayloadType.STABILITY, stability_body),
        ):
            self.create_subscription(
                msg_type,
                name,
                self._forwarder(kind, body),
                qos,
                qos_overriding_options=overridable(),
            )
        self.link = MqttLink(
            self.outbox.path,
            settings,
            (topic(self.prefix, self.cell_id, "cmd"),),
            lambda _topic, payload: self._commands.append(payload),
            counters=self.health.counters,
        )
        self.create_timer(0.05, self._apply_commands)
        self.create_timer(1.0, self._report)
        self.link.start()

    def destroy_node(self) -> None:
        self.link.stop()
        self.outbox.close()
        super().destroy_node()

    def _forwarder(self, kind: PayloadType, body_fn):
        counter = QUEUED_COUNTERS[kind]

        def callback(msg) -> None:
            try:
                body = body_fn(msg)
                self._enqueue(envelope(kind, self.cell_id, fact_key(body), body), kind)
                self.health.counters.inc(counter)
            except Exception as exc:  # a disk error must not take the executor down
                self.health.reject(BridgeCounter.OUTBOX_WRITE_FAILED, f"{kind}: {exc}")

        return callback

    def _enqueue(self, message: dict[str, Any], kind: str) -> None:
        self.outbox.put(message["id"], topic(self.prefix, self.cell_id, kind), encode(message))
        self.link.notify()

    def _apply_commands(self) -> None:
        while self._commands:
            raw = self._commands.popleft()
            try:
                self._apply(self.policy.decide(raw))
            except Exception as exc:  # never let one command stop the executor
                self.health.reject(BridgeCounter.COMMAND_FAILED, str(exc))

    def _apply(self, decision: CommandDecision) -> None:
        if not decision.accepted:
            self.health.reject(BridgeCounter.COMMAND_REJECTED, decision.reason)
            self._answer(decision, decision.reason)
            return
        self.health.counters.inc(COMMAND_COUNTERS[decision.type])
        params = decision.params
        if decision.type in (CommandType.LINE_HOLD, CommandType.LINE_RELEASE):
            hold = decision.type == CommandType.LINE_HOLD
            self.hold_pub.publish(Bool(data=hold))
            self._answer(decision, f"line/hold set to {hold}")
        elif decision.type == CommandType.THRESHOLD_UPDATE:
            request = SetThreshold.Request(
                name=params["name"],
                value=float(params["value"]),
                requested_by=decision.requested_by,
                reason=params["reason"],
            )
            self._call(self.threshold_client, request, decision)
        else:
            request = Recalibrate.Request(
                units=int(params["units"]),
                data_dir=params.get("data_dir", ""),
                requested_by=decision.requested_by,
            )
            self._call(self.recalibrate_client, request, decision)

    def _call(self, client, request, decision: CommandDecision) -> None:
        if not client.service_is_ready():
            self._answer(decision, f"service {client.srv_name} is not available; not applied")
            return
        future = client.call_async(request)

        def done(fut) -> None:
            try:
                response = fut.result()
                reason = f"{client.srv_name}: success={response.success} {response.message}"
            except Exception as exc:  # a failed call is an answer, not a crash
                reason = f"{client.srv_name} failed: {exc}"
            self._answer(decision, reason)

        future.add_done_callback(done)

    def _answer(self, decision: CommandDecision, outcome: str) -> None:
        """Audit the command with its outcome and send the result back through the outbox."""
        try:
            self.audit.append(
                "command",
                {
                    "command_id": decision.command_id,
                    "type": decision.type,
                    "params": decision.params,
                    "accepted": decision.accepted,
                    "outcome": outcome,
                },
                actor=decision.issued_by or "unknown",
            )
        except Exception as exc:
            self.health.reject(BridgeCounter.AUDIT_FAILED, str(exc))
        try:
            message = result_message(self.cell_id, decision, outcome)
            self._enqueue(message, PayloadType.COMMAND_RESULT)
        except Exception as exc:
            self.health.reject(BridgeCounter.OUTBOX_WRITE_FAILED, f"command_result: {exc}")

    def _report(self) -> None:
        try:
            depth, dropped = self.outbox.depth(), self.outbox.dropped()
        except Exception as exc:
            self.health.set_status(HealthLevel.ERROR, f"outbox unreadable: {exc}")
            return
        link = self.link
        self.health.set_status(*bridge_status(link.connected, link.last_error, depth, dropped))
        self.health.set_gauge("outbox_depth", depth)  # the metrics node exports it
        self.health.set_gauge("outbox_dropped", dropped)


def main(args: list[str] | None = None) -> None:
    run_node(BridgeNode, args)


if __name__ == "__main__":
    main()

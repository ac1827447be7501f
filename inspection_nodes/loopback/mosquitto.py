"""A throw-away mosquitto broker on loopback for tests and benchmarks (no system service).

It gets a free port, a generated config and its own persistence directory, so a stop/start keeps
persistent sessions and their queued QoS 1 messages, like a real broker restart. It is stopped by
its own pid only.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

# Debian installs the broker in sbin, which is not on a normal user's PATH.
_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])


def mosquitto_binary() -> str | None:
    """Path of the mosquitto executable ($MOSQUITTO overrides), or None when not installed."""
    return os.environ.get("MOSQUITTO") or shutil.which("mosquitto", path=_SEARCH_PATH)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mosquitto:
    """Start/stop one loopback broker; `port` stays the same across restarts."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        binary = mosquitto_binary()
        if binary is None:
            raise FileNotFoundError(
                "mosquitto is not installed (Debian: apt-get install mosquitto; "
                "scripts/setup_env.sh does it)"
            )
        self.binary = binary
        self.workdir = Path(workdir)
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config = self.workdir / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.workdir}/\n"
            "max_queued_messages 1000000\n"
            "max_inflight_messages 100\n"
            "log_dest none\n"
            # Started as root, mosquitto would drop to user "mosquitto" and could not write its
            # persistence file into our directory; stay the user that owns the directory.
            f"user {getpass.getuser()}\n"
        )

    def start(self, timeout_s: float = 10.0) -> None:
        log = (self.workdir / "mosquitto.log").open("ab")
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}; see its log")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"mosquitto did not listen on port {self.port} in {timeout_s} s")

    def stop(self, timeout_s: float = 10.0) -> None:
        """SIGTERM (mosquitto saves its persistence file on the way out), SIGKILL if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout_s)

    def __enter__(self) -> Mosquitto:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class CountingSubscriber:
    """A QoS 1 subscriber with a persistent session that counts message ids (the receiver side of
    the bench and tests): what arrived, what arrived twice, and in which order."""

    def __init__(self, port: int, topic: str, client_id: str) -> None:
        import paho.mqtt.client as mqtt

        self.ids: list[str] = []
        self._lock = threading.Lock()
        self._topic = topic
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False
        )
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.reconnect_delay_set(0.2, 1.0)
        self._client.connect("127.0.0.1", port, keepalive=10)
        self._client.loop_start()

    def _on_connect(self, client, _userdata, _flags, reason, _props) -> None:
        if not reason.is_failure:
            client.subscribe(self._topic, qos=1)

    def _on_message(self, _client, _userdata, message) -> None:
        try:
            msg_id = json.loads(message.payload)["id"]
        except (ValueError, KeyError, TypeError):
            msg_id = "<malformed>"
        with self._lock:
            self.ids.append(msg_id)

    def snapshot(self) -> list[str]:
        with self._lock:
            return list(self.ids)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

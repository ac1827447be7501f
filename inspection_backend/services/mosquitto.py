"""An embedded mosquitto broker on loopback (the backend's default when no MQTT_URL is set).

Persistent sessions and queued QoS 1 messages survive a broker restart (persistence file in
its directory). With `users` it refuses anonymous clients and applies an ACL like the plant's:
a cell writes only under `inspection/<its id>/` (never `cmd`) and reads its `cmd` topic; the
backend reads everything and is the only writer of `inspection/+/cmd`.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

_SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])
MESSAGE_SIZE_LIMIT = 8 * 1024 * 1024  # above the evidence limit, so ingest sees oversize ones


def mosquitto_binary() -> str | None:
    return os.environ.get("MOSQUITTO") or shutil.which("mosquitto", path=_SEARCH_PATH)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def acl_text(backend_user: str, cell_users: Mapping[str, str], plant_user: str = "") -> str:
    """ACL: `cell_users` maps MQTT user -> cell id."""
    lines = [
        f"user {backend_user}",
        "topic read inspection/#",
        "topic read plant/#",
        "topic write inspection/+/cmd",
        "",
    ]
    for user, cell_id in sorted(cell_users.items()):
        lines += [
            f"user {user}",
            *(
                f"topic write inspection/{cell_id}/{kind}"
                for kind in ("verdict", "actuator_event", "stability", "command_result", "evidence")
            ),
            f"topic read inspection/{cell_id}/cmd",
            "",
        ]
    if plant_user:
        lines += [f"user {plant_user}", "topic write plant/#", ""]
    return "\n".join(lines)


class EmbeddedBroker:
    """Start/stop one loopback mosquitto; the port stays the same across restarts."""

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        users: Mapping[str, str] | None = None,
        acl: str = "",
    ) -> None:
        binary = mosquitto_binary()
        if binary is None:
            raise FileNotFoundError(
                "mosquitto is not installed (Debian: apt-get install mosquitto)"
            )
        self.binary = binary
        self.workdir = Path(workdir).resolve()
        self.workdir.mkdir(parents=True, exist_ok=True)
        port_file = self.workdir / "port"
        if port is None and port_file.is_file():
            port = int(port_file.read_text())
        self.port = port or free_port()
        port_file.write_text(str(self.port))
        self.proc: subprocess.Popen | None = None
        self.config = self.workdir / "mosquitto.conf"
        self.config.write_text(self._config_text(users or {}, acl))

    def _config_text(self, users: Mapping[str, str], acl: str) -> str:
        lines = [
            f"listener {self.port} 127.0.0.1",
            "persistence true",
            f"persistence_location {self.workdir}/",
            "autosave_interval 1",
            "max_queued_messages 2000000",
            "max_inflight_messages 1000",
            f"message_size_limit {MESSAGE_SIZE_LIMIT}",
            "persistent_client_expiration 14d",
            "log_dest none",
            # As root mosquitto would switch to user "mosquitto" and could not write here.
            f"user {getpass.getuser()}",
        ]
        if users:
            passwords = self.workdir / "passwords"
            passwords.write_text("")
            os.chmod(passwords, 0o600)
            for user, password in users.items():
                subprocess.run(
                    ["mosquitto_passwd", "-b", str(passwords), user, password],
                    check=True,
                    capture_output=True,
                )
            lines += ["allow_anonymous false", f"password_file {passwords}"]
            if acl:
                (self.workdir / "acl").write_text(acl)
                lines.append(f"acl_file {self.workdir / 'acl'}")
        else:
            lines.append("allow_anonymous true")
        return "\n".join(lines) + "\n"

    def start(self, timeout_s: float = 10.0) -> None:
        with (self.workdir / "mosquitto.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
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

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

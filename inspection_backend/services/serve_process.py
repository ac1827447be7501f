"""`inspection-backend serve` as a child process: started with an environment, ready when its
DATA_DIR/serve.json names its pid, killed with -9 or stopped with SIGTERM. The benchmark, the
demo and the reliability tests all run the backend this way."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[2]


class ServeProcess:
    def __init__(self, data_dir: Path, env: dict[str, str], log: Path, http_port: int = 0) -> None:
        self.data_dir = data_dir
        self.env = env
        self.log = log
        self.http_port = http_port
        self.proc: subprocess.Popen | None = None
        self.info: dict = {}
        self.peak_rss = 0

    def start(self, timeout_s: float = 90.0) -> ServeProcess:
        endpoints = self.data_dir / "serve.json"
        endpoints.unlink(missing_ok=True)
        env = {**os.environ, **self.env, "DATA_DIR": str(self.data_dir), "PYTHONPATH": str(REPO)}
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "inspection_backend.cli.main", "serve",
                 "--http-port", str(self.http_port)],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited with {self.proc.returncode}:\n{self.tail()}")
            if endpoints.is_file():
                info = json.loads(endpoints.read_text())
                if info.get("pid") == self.proc.pid:
                    self.info = info
                    return self
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"serve did not come up within {timeout_s} s:\n{self.tail()}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.info['http_port']}"

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def sample_rss(self) -> None:
        if self.running():
            with contextlib.suppress(psutil.Error):  # it just exited
                self.peak_rss = max(self.peak_rss, psutil.Process(self.proc.pid).memory_info().rss)

    def kill9(self) -> None:
        if self.running():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout_s: float = 30.0) -> None:
        if not self.running():
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

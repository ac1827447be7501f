"""Run the `inspection` command in a subprocess; on timeout stop it (and so its graph) cleanly."""

from __future__ import annotations

import signal
import subprocess
import sys


def run_inspection(*args: str, timeout: float = 240.0) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "inspection_nodes.cli.main", *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # the command stops its node processes itself
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        raise AssertionError(
            f"{' '.join(args[:1])} timed out after {timeout} s\n{out[-3000:]}"
        ) from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def start_inspection(*args: str) -> subprocess.Popen:
    """The `inspection` command running in the background (stop it with SIGINT), output kept."""
    cmd = [sys.executable, "-m", "inspection_nodes.cli.main", *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

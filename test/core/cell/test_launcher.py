"""The process launcher: command lines for single nodes and containers, and a process graph
of real child processes that is stopped (SIGINT, then harder) with its output kept."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from inspection_nodes.core.cell.launcher import (
    NODE_ENV,
    ProcessGraph,
    executable_path,
    process_command,
    ros_arg_value,
)
from inspection_nodes.graph import node_spec


def test_parameter_values_are_written_as_ros_parses_them():
    assert [ros_arg_value(v) for v in (True, 3, 0.5, "x", "", "a:b")] == [
        "true",
        "3",
        "0.5",
        "x",
        "''",
        "'a:b'",
    ]
    assert ros_arg_value([1, "a b"]) == "[1, 'a b']"


def test_one_node_runs_its_executable_and_several_share_a_container(tmp_path: Path):
    params = tmp_path / "p.yaml"
    single = process_command([node_spec("gate")], params, {"gate": {"deadline_ms": 150.0}})
    assert Path(single[0]).name == "gate_node"
    assert single[1:] == [
        "--ros-args",
        "--params-file",
        str(params),
        "-p",
        "gate:deadline_ms:=150.0",
    ]
    composed = process_command([node_spec("camera"), node_spec("roi")], params)
    assert Path(composed[0]).name == "container_node" and composed[1:3] == ["camera", "roi"]
    assert executable_path("no-such-tool") == "no-such-tool"


def test_a_graph_of_processes_is_started_echoed_and_stopped(tmp_path: Path):
    sleeper = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]
    quick = [sys.executable, "-c", "import os; print(os.environ['MALLOC_MMAP_THRESHOLD_'])"]
    echoed: list[str] = []
    graph = ProcessGraph([("sleeper", sleeper), ("quick", quick)], echo=echoed.append)
    graph.start()
    deadline = time.monotonic() + 10
    while (len(echoed) < 2 or not graph.exited()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert graph.exited() == [("quick", 0)]
    codes = graph.stop(timeout_s=5.0)
    assert codes["quick"] == 0 and codes["sleeper"] != 0
    assert "[sleeper] up" in echoed and f"[quick] {NODE_ENV['MALLOC_MMAP_THRESHOLD_']}" in echoed
    assert echoed[-1] == "[sleeper] KeyboardInterrupt"  # SIGINT first, as Ctrl-C would

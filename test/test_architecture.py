"""The arrows of docs/ARCHITECTURE.md, checked on the source: core knows no ROS, its stage
packages import only the stages they are allowed to, nodes run no ML library themselves, the
cell never imports the backend, counters are declared, functions stay short."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "inspection_nodes"
CORE = PACKAGE / "core"

# stage package -> core packages it may import (besides itself); docs/ARCHITECTURE.md
ALLOWED = {
    "common": set(),
    "io": {"common"},
    "inference": {"common"},
    "stability": {"common"},
    "anomaly": {"common", "io", "inference", "stability"},
    "detector": {"common", "io", "inference"},
    "gate": {"common"},
    "actuation": {"common"},
    "evidence": {"common"},
    "bridge": {"common"},
    "cell": {"common"},
    "metrics": {"common"},
    "foxglove": {"common", "io", "evidence"},
}
ROS = ("rclpy", "rcl_interfaces", "builtin_interfaces", "std_msgs", "sensor_msgs")
ROS += ("diagnostic_msgs", "inspection_msgs", "launch", "launch_ros")
ML = ("torch", "faiss", "onnxruntime", "ultralytics", "anomalib", "timm", "cv2", "tensorrt")
MAX_FUNCTION_LINES = 80


def _sources(root: Path) -> list[Path]:
    return sorted(root.rglob("*.py"))


def _imports(path: Path) -> list[str]:
    """Every imported module name of a file, including imports inside functions."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def _top(name: str) -> str:
    return name.split(".")[0]


def test_every_core_package_is_known():
    packages = {p.name for p in CORE.iterdir() if (p / "__init__.py").is_file()}
    assert packages == set(ALLOWED)
    assert [p.name for p in CORE.glob("*.py")] == ["__init__.py"], "no flat modules in core/"


@pytest.mark.parametrize("path", _sources(CORE), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_core_imports_no_ros_and_only_allowed_stages(path: Path):
    stage = path.relative_to(CORE).parts[0]
    for name in _imports(path):
        assert _top(name) not in ROS, f"{name}: core knows no ROS"
        parts = name.split(".")
        if parts[:2] == ["inspection_nodes", "core"] and len(parts) > 2 and parts[2] != stage:
            assert parts[2] in ALLOWED[stage], f"{stage} may not import core.{parts[2]}"
        elif _top(name) == "inspection_nodes" and len(parts) > 1 and parts[1] != "core":
            assert name == "inspection_nodes.graph" and stage == "cell", f"core imports {name}"


@pytest.mark.parametrize("path", _sources(PACKAGE / "nodes"), ids=lambda p: p.name)
def test_nodes_run_no_ml_library_themselves(path: Path):
    for name in _imports(path):
        assert _top(name) not in ML, f"{name}: a node calls core, core runs the network"


@pytest.mark.parametrize("path", _sources(PACKAGE), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_cell_never_imports_the_backend(path: Path):
    assert all(_top(name) != "inspection_backend" for name in _imports(path))


def _counted_names(path: Path) -> list[ast.expr]:
    """First arguments of `.inc(...)` and `.reject(...)` calls (counters and Health)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("inc", "reject")
            and node.args
        ):
            found.append(node.args[0])
    return found


@pytest.mark.parametrize(
    "path",
    _sources(CORE) + _sources(PACKAGE / "nodes"),
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_counters_are_declared_names_not_strings(path: Path):
    """Every counter is a member of a declared counter enum (node module or core piece), so a
    node's diagnostics list every series from start-up and a typo cannot make a new one."""
    for arg in _counted_names(path):
        literal = isinstance(arg, ast.JoinedStr) or (
            isinstance(arg, ast.Constant) and isinstance(arg.value, str)
        )
        assert not literal, f"line {arg.lineno}: count a declared enum member, not a string"


@pytest.mark.parametrize(
    "path",
    _sources(CORE) + _sources(PACKAGE / "nodes"),
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_functions_stay_short(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            lines = node.end_lineno - node.lineno + 1
            assert lines <= MAX_FUNCTION_LINES, f"{node.name} is {lines} lines"

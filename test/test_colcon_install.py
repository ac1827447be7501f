"""The robot path of the README, with the real tools that install here: `colcon build` of this
repository and `inspection_msgs` in a temporary workspace, executables where launch_ros and
`ros2 run` look (`<prefix>/lib/inspection_nodes/`), and a node started the way launch_ros starts
it (`-r __node:=... -r __ns:=... --params-file ...`) holding the station's values in a namespace.
launch/launch_ros themselves are not installable from PyPI; their command line is reproduced.
pip ignores setup.cfg's script directories, so `.venv/bin/<node>_node` keeps working."""

from __future__ import annotations

import importlib
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
import rclpy
from helpers.ros import executor_of, remote_parameters

from inspection_nodes.core.cell.config import load_cell_config
from inspection_nodes.graph import CONTAINER_EXECUTABLE, NODES

pytestmark = pytest.mark.launch

REPO = Path(__file__).resolve().parents[1]
# What a clone of this repository holds for colcon (tests, caches and models stay behind).
SOURCES = ("setup.py", "setup.cfg", "package.xml", "resource", "inspection_nodes", "launch")
SOURCES += ("config", "msg", "srv", "inspection_msgs", "cmake")
STATION = REPO / "config" / "bottle.yaml"
NAMESPACE = "/cellns"


def copy_sources(dst: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    dst.mkdir(parents=True)
    for name in SOURCES:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, dst / name, ignore=ignore)
        else:
            shutil.copy2(src, dst / name)


def colcon_build(workspace: Path) -> subprocess.CompletedProcess:
    """The README's command, plus the include-directory fix scripts/build_interfaces.sh passes
    (the ROS wheels' CMake targets name the machine that built them)."""
    env_dir = Path(sys.prefix)
    source = workspace / "src" / "inspection_cell"
    env = {
        **os.environ,
        "AMENT_PREFIX_PATH": str(env_dir),
        "CMAKE_PREFIX_PATH": str(env_dir),
        "LD_LIBRARY_PATH": f"{env_dir / 'lib'}:{os.environ.get('LD_LIBRARY_PATH', '')}",
        "PATH": f"{env_dir / 'bin'}:{os.environ['PATH']}",
    }
    cmd = [str(env_dir / "bin" / "colcon"), "build"]
    cmd += ["--base-paths", str(source), str(source / "inspection_msgs")]
    cmd += ["--cmake-args", "-DBUILD_TESTING=OFF", f"-DPython3_EXECUTABLE={sys.executable}"]
    cmd += [f"-DPython3_INCLUDE_DIR={sysconfig.get_paths()['include']}"]
    cmd += [f"-DINSPECTION_PYTHON_PREFIX={sys.base_prefix}"]
    cmd += [f"-DCMAKE_PROJECT_INCLUDE={source / 'cmake' / 'fix_wheel_include_dirs.cmake'}"]
    return subprocess.run(
        cmd, cwd=workspace, env=env, capture_output=True, text=True, timeout=900, check=False
    )


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    if shutil.which("cmake") is None:
        pytest.fail("cmake is needed to build inspection_msgs (scripts/setup_env.sh uses it too)")
    ws = tmp_path_factory.mktemp("colcon_ws")
    copy_sources(ws / "src" / "inspection_cell")
    result = colcon_build(ws)
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return ws


def sourced(workspace: Path, command: list[str]) -> list[str]:
    """`command` run in a shell that sourced the workspace, as on a robot."""
    setup = workspace / "install" / "setup.bash"
    return ["bash", "-c", f'source "{setup}" && exec "$@"', "bash", *command]


def test_every_executable_is_where_launch_ros_looks(workspace):
    install = workspace / "install"
    libexec = install / "inspection_nodes" / "lib" / "inspection_nodes"
    for name in [spec.executable for spec in NODES] + [CONTAINER_EXECUTABLE]:
        assert os.access(libexec / name, os.X_OK), f"{name} missing from {libexec}"
    assert (install / "setup.bash").is_file()
    share = install / "inspection_nodes" / "share"
    assert (share / "ament_index" / "resource_index" / "packages" / "inspection_nodes").is_file()
    assert (share / "inspection_nodes" / "launch" / "cell.launch.py").is_file()
    assert (share / "inspection_nodes" / "config" / "bottle.yaml").is_file()


def test_the_workspace_code_is_what_runs(workspace, tmp_path):
    """After `source install/setup.bash` the package and its messages come from the workspace
    (not from the development environment's editable install)."""
    probe = "import inspection_nodes, inspection_msgs.msg as m; "
    probe += "print(inspection_nodes.__file__); print(m.__file__)"
    out = subprocess.run(
        sourced(workspace, [sys.executable, "-c", probe]),
        cwd=tmp_path,  # not the repository, whose package would be found first
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout.split()
    assert all(path.startswith(str(workspace / "install")) for path in out), out


@pytest.mark.parametrize("name", ["gate", "roi"])
def test_a_node_started_as_launch_ros_starts_it_gets_the_station_values(
    workspace, ros_context, tmp_path, name
):
    executable = workspace / "install" / "inspection_nodes" / "lib" / "inspection_nodes"
    command = [str(executable / f"{name}_node"), "--ros-args", "-r", f"__node:={name}"]
    command += ["-r", f"__ns:={NAMESPACE}", "--params-file", str(STATION)]
    expected = load_cell_config(STATION).node_parameters(name, NAMESPACE)
    node = subprocess.Popen(
        sourced(workspace, command),
        cwd=tmp_path,  # the station's relative paths (audit log) land here
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    probe = rclpy.create_node("probe", context=ros_context)
    try:
        declared = importlib.import_module(f"inspection_nodes.nodes.{name}_node").PARAMETERS
        names = sorted(set(expected) & {p.name for p in declared})
        got = remote_parameters(
            executor_of(ros_context, probe), probe, f"{NAMESPACE}/{name}", names, 60.0
        )
    finally:
        probe.destroy_node()
        node.send_signal(signal.SIGINT)
        output, _ = node.communicate(timeout=30)
    assert got == {n: expected[n] for n in names}, output[-2000:]
    if name == "gate":
        assert got["deadline_ms"] == 1000.0  # the station's, not the 200 ms default
    assert node.returncode == 0, output[-2000:]


@pytest.mark.parametrize("build", ["build_wheel", "build_editable"])
def test_pip_keeps_console_scripts_in_bin(tmp_path, build):
    """setup_env.sh installs the package editable with pip, which writes console scripts to bin/
    from the wheel's entry points (where `.venv/bin/<node>_node` and the runner's
    core/cell/launcher.executable_path find them): setup.cfg's script directories must not reach
    the wheel. Built with setuptools' PEP 517/660 hooks only; installing anything here would
    replace the shared environment's editable install."""
    source, out = tmp_path / "src", tmp_path / "dist"
    copy_sources(source)
    out.mkdir()
    hook = f"from setuptools import build_meta; print(build_meta.{build}({str(out)!r}))"
    result = subprocess.run(
        [sys.executable, "-c", hook], cwd=source, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    wheel_name = result.stdout.split()[-1]
    with zipfile.ZipFile(out / wheel_name) as wheel:
        names = wheel.namelist()
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        scripts = wheel.read(entry_points).decode()
    for spec in NODES:
        assert f"{spec.executable} = {spec.entry_point}" in scripts
    assert not [n for n in names if ".data/scripts/" in n or "lib/inspection_nodes/" in n]


MIXED_SECTIONS = """
/**/gate:
  ros__parameters: {deadline_ms: 1000.0, heartbeat_ms: 40.0, recipe: a}
/**:
  ros__parameters: {deadline_ms: 5.0, audit_path: a.log}
gate:
  ros__parameters: {recipe: b}
/line1/gate:
  ros__parameters: {heartbeat_ms: 30.0}
/*/gate:
  ros__parameters: {views_per_unit: 2}
"""


@pytest.mark.parametrize("namespace", ["", "/line1", "/line2", "/plant/line1"])
def test_the_runner_reads_sections_as_rclpy_applies_them(ros_context, tmp_path, namespace):
    """Section keys of every form, in an order where later sections override earlier ones:
    what core/cell/config.py computes for a node is what a real rclpy node gets."""
    path = tmp_path / "station.yaml"
    path.write_text(MIXED_SECTIONS)
    args = ["--ros-args", "--params-file", str(path)]
    if namespace:
        args += ["-r", f"__ns:={namespace}"]
    node = rclpy.create_node(
        "gate",
        context=ros_context,
        cli_args=args,
        automatically_declare_parameters_from_overrides=True,
    )
    try:
        got = {
            name: param.value
            for name, param in node.get_parameters_by_prefix("").items()
            if name not in ("use_sim_time", "start_type_description_service")
        }
    finally:
        node.destroy_node()
    assert got == load_cell_config(path).node_parameters("gate", namespace)

"""Test isolation: DDS traffic stays on this machine and apart from other runs; caches in tmp."""

from __future__ import annotations

import itertools
import os
import random
import tempfile
from pathlib import Path

import pytest

# DDS stays on this machine; each test picks its own domain (isolated_ros_domain below).
os.environ["ROS_AUTOMATIC_DISCOVERY_RANGE"] = "LOCALHOST"
_CACHE = Path(tempfile.mkdtemp(prefix="inspection-test-cache-"))
for var in ("YOLO_CONFIG_DIR", "MPLCONFIGDIR", "XDG_CACHE_HOME"):
    os.environ.setdefault(var, str(_CACHE / var.lower()))
os.environ.setdefault("YOLO_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("INSPECTION_DATA_DIR", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"shared data not found at {DATA} (set INSPECTION_DATA_DIR)")
    return DATA


_DOMAINS = itertools.count(random.Random(os.getpid()).randrange(232))


@pytest.fixture(autouse=True)
def isolated_ros_domain(monkeypatch) -> int:
    """Every test gets a DDS domain of its own (1..232), inherited by the processes it starts,
    so a node left over from one test can never feed another."""
    domain = 1 + next(_DOMAINS) % 232
    monkeypatch.setenv("ROS_DOMAIN_ID", str(domain))
    return domain


@pytest.fixture
def ros_context(isolated_ros_domain):
    """A fresh rclpy context per test on the test's own domain, shut down afterwards."""
    import rclpy

    context = rclpy.Context()
    rclpy.init(context=context, domain_id=isolated_ros_domain)
    yield context
    if context.ok():
        rclpy.shutdown(context=context)


@pytest.fixture(scope="session")
def bottle_subset(shared_data, tmp_path_factory) -> Path:
    """A small MVTec-layout copy of bottle: 10 train/good, 2 test/good, 2 test/broken_large."""
    import shutil

    src = shared_data / "mvtec_ad" / "bottle"
    dst = tmp_path_factory.mktemp("bottle_subset")
    picks = {
        "train/good": sorted((src / "train" / "good").glob("*.png"))[:10],
        "test/good": sorted((src / "test" / "good").glob("*.png"))[:2],
        "test/broken_large": sorted((src / "test" / "broken_large").glob("*.png"))[:2],
    }
    for rel, files in picks.items():
        (dst / rel).mkdir(parents=True)
        for f in files:
            shutil.copy(f, dst / rel / f.name)
    (dst / "ground_truth" / "broken_large").mkdir(parents=True)
    for f in picks["test/broken_large"]:
        mask = src / "ground_truth" / "broken_large" / f"{f.stem}_mask.png"
        shutil.copy(mask, dst / "ground_truth" / "broken_large" / mask.name)
    return dst


@pytest.fixture(scope="session")
def tiny_model(bottle_subset, tmp_path_factory) -> Path:
    """A PatchCore model enrolled with the real CLI on the bottle subset (shared by tests)."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("models") / "bottle_tiny"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "inspection_nodes.cli.main",
            "enroll",
            "--data",
            str(bottle_subset),
            "--out",
            str(out),
        ],
        check=True,
        cwd=REPO,
        timeout=300,
    )
    return out

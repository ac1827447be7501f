"""Test isolation: DDS traffic stays on this machine and apart from other runs; caches in tmp."""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path

import pytest

# One ROS domain per test session (set before rclpy is imported anywhere), localhost only.
os.environ.setdefault("ROS_DOMAIN_ID", str(random.Random(os.getpid()).randint(1, 100)))
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


@pytest.fixture
def ros_context():
    """A fresh rclpy context per test, shut down afterwards."""
    import rclpy

    context = rclpy.Context()
    rclpy.init(context=context)
    yield context
    if context.ok():
        rclpy.shutdown(context=context)

"""Installs the inspection_nodes package, its node executables and the `inspection` tool."""

import sys
from glob import glob
from pathlib import Path

from setuptools import find_packages, setup

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inspection_nodes.graph import CONTAINER_ENTRY_POINT, CONTAINER_EXECUTABLE, NODES

PACKAGE = "inspection_nodes"
BACKEND = "inspection_backend"

setup(
    name=PACKAGE,
    version="0.1.0",
    # The plant backend ships from the same repository (the cell never imports it).
    packages=find_packages(include=[PACKAGE, f"{PACKAGE}.*", BACKEND, f"{BACKEND}.*"]),
    package_data={
        PACKAGE: ["schemas/*.json", "web/static/*"],
        BACKEND: [
            "schemas/*.json",
            "db/migrations/*.py",
            "db/migrations/*.mako",
            "db/migrations/versions/*.py",
            "web/templates/*.html",
            "web/static/*",
        ],
    },
    data_files=[
        ("share/ament_index/resource_index/packages", [f"resource/{PACKAGE}"]),
        (f"share/{PACKAGE}", ["package.xml"]),
        (f"share/{PACKAGE}/launch", glob("launch/*.launch.py")),
        (f"share/{PACKAGE}/config", glob("config/*.yaml")),
        (f"share/{PACKAGE}/msg", glob("msg/*.msg")),
        (f"share/{PACKAGE}/srv", glob("srv/*.srv")),
    ],
    install_requires=["setuptools"],
    zip_safe=False,
    maintainer="Inspection cell team",
    maintainer_email="inspection-cell@example.com",
    description="ROS 2 node graph of an automated visual inspection cell",
    license="Apache-2.0",
    entry_points={
        "console_scripts": [f"{spec.executable} = {spec.entry_point}" for spec in NODES]
        + [f"{CONTAINER_EXECUTABLE} = {CONTAINER_ENTRY_POINT}"]
        + ["inspection = inspection_nodes.cli.main:main"]
        + ["inspection-backend = inspection_backend.cli.main:main"],
    },
)

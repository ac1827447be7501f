"""Automated visual inspection cell: pure logic in `core`, thin rclpy wrappers in `nodes`."""

from pathlib import Path

__version__ = "0.1.0"

# The package directory, for files shipped with it (schemas/); in a checkout its parent is the
# repository root (msg/, ../shared/data). Named once so moving a module cannot break a path.
PACKAGE_DIR = Path(__file__).resolve().parent

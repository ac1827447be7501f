"""Where an artifact came from: creation time and code version, written into every manifest.

Model versions embed the creation time in a compact form (`compact_stamp`) so they sort by time
and stay usable in file names; every version and job id is built from these helpers.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime

from inspection_nodes import PACKAGE_DIR, __version__


def utc_now() -> str:
    """The current UTC time as ISO 8601 to the second (`2026-12-02T12:55:38Z`)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def compact_stamp(created: str) -> str:
    """`2026-12-02T12:55:38Z` -> `20261202T125538Z`: sortable, and safe in names."""
    return created.replace(":", "").replace("-", "")


def code_version() -> str:
    """Package version plus the git commit of the checkout, when there is one."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PACKAGE_DIR.parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return f"{__version__}+{commit or 'unknown'}"

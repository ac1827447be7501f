"""The health level every node reports, one enum for the whole cell.

The codes are diagnostic_msgs/DiagnosticStatus's (OK 0, WARN 1, ERROR 2, STALE 3); the nodes
convert them at the message boundary (nodes/common.py `Health`).
"""

from __future__ import annotations

from enum import IntEnum


class HealthLevel(IntEnum):
    OK = 0
    WARN = 1
    ERROR = 2
    STALE = 3

"""Helpers for in-process node tests: spin until a condition holds, collect messages."""

from __future__ import annotations

import time
from collections.abc import Callable

from rclpy.executors import SingleThreadedExecutor


def spin_until(
    executor: SingleThreadedExecutor, predicate: Callable[[], bool], timeout_s: float = 10.0
) -> bool:
    """Spin in small steps until predicate() is true or the timeout passes; return predicate()."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        executor.spin_once(timeout_sec=0.05)
    return predicate()


class Collector:
    """Subscription callback that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list = []

    def __call__(self, msg) -> None:
        self.messages.append(msg)


def executor_of(context, *nodes) -> SingleThreadedExecutor:
    """A single-threaded executor of the test's context spinning `nodes`."""
    executor = SingleThreadedExecutor(context=context)
    for node in nodes:
        executor.add_node(node)
    return executor


def node_with(cls: type, context, **params):
    """A node of `cls` on the test's context, its parameters overridden by name."""
    from rclpy.parameter import Parameter

    overrides = [Parameter(name, value=value) for name, value in params.items()]
    return cls(context=context, parameter_overrides=overrides)

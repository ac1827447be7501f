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


def remote_parameters(
    executor: SingleThreadedExecutor, probe, node_fqn: str, names: list[str], timeout_s: float
) -> dict:
    """The values another process's node holds, asked over its real parameter services."""
    from rclpy.parameter import parameter_value_to_python
    from rclpy.parameter_client import AsyncParameterClient

    client = AsyncParameterClient(probe, node_fqn)
    deadline = time.monotonic() + timeout_s
    while not client.services_are_ready():
        assert time.monotonic() < deadline, f"{node_fqn} offers no parameter services"
        executor.spin_once(timeout_sec=0.1)
    future = client.get_parameters(names)
    assert spin_until(executor, future.done, max(1.0, deadline - time.monotonic()))
    values = future.result().values
    return {n: parameter_value_to_python(v) for n, v in zip(names, values, strict=True)}

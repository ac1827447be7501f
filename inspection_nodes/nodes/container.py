"""container: several nodes of the cell in one process, spun by one executor thread.

    container_node camera roi --ros-args --params-file config/bottle.yaml

The rclpy counterpart of an rclcpp component container. Each node keeps its own name,
parameters, topics and diagnostics; only the process is shared. Producer/consumer pairs of
`graph.INTRA_PROCESS_EDGES` in one container are wired intra-process (nodes/intra_process.py),
in the handler order of `graph.intra_process_edges`: the consumer does not subscribe, the
producer calls its callback with each message. Which nodes share a process is the params file's
`cell.compose` (core/cell/config.py).
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Sequence

from rclpy.node import Node

from inspection_nodes.graph import intra_process_edges, node_spec
from inspection_nodes.nodes.common import run_nodes
from inspection_nodes.nodes.intra_process import IntraProcessNode


def factories(names: Sequence[str]) -> list[Callable[..., Node]]:
    """One constructor per node; consumers of a local edge are told not to subscribe to it."""
    edges = intra_process_edges(names)
    result = []
    for name in names:
        factory = node_spec(name).node_class()
        local = tuple(topic for _, consumer, topic in edges if consumer == name)
        result.append(functools.partial(factory, local_inputs=local) if local else factory)
    return result


def wire(nodes: list[Node]) -> None:
    """Connect each local edge, in handler order: the producer's messages go straight to the
    consumer's callback."""
    by_name = {node.get_name(): node for node in nodes}
    for producer, consumer, topic in intra_process_edges(list(by_name)):
        source, sink = by_name[producer], by_name[consumer]
        if not (isinstance(source, IntraProcessNode) and isinstance(sink, IntraProcessNode)):
            raise TypeError(f"{producer} -> {consumer} ({topic}): not an IntraProcessNode pair")
        handler = sink.intra_process_inputs().get(topic)
        if handler is not None:  # e.g. no ROI handler in a scoring node without heatmaps
            source.intra.connect(source.resolve_topic_name(topic), handler)


def main(args: list[str] | None = None) -> None:
    argv = sys.argv if args is None else args
    end = argv.index("--ros-args") if "--ros-args" in argv else len(argv)
    names = argv[1:end]
    if not names or len(set(names)) != len(names):
        print(
            f"usage: {argv[0]} NODE [NODE ...] [--ros-args ...] (distinct names)", file=sys.stderr
        )
        raise SystemExit(2)
    try:
        constructors = factories(names)
    except KeyError as exc:
        print(f"[FATAL] container: {exc.args[0]}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    run_nodes(constructors, argv, wire)

"""The node table and the in-process edges: names, entry points, and the handler-order rule."""

import pytest

from inspection_nodes.graph import (
    INTRA_PROCESS_EDGES,
    NODES,
    intra_process_edges,
    node_spec,
)

HOT_PATH = ["camera", "roi", "embedding", "scoring"]


def test_node_specs_name_their_executables_and_classes():
    spec = node_spec("scoring")
    assert (spec.executable, spec.entry_point) == (
        "scoring_node",
        "inspection_nodes.nodes.scoring_node:main",
    )
    assert [s.name for s in NODES if s.optional] == ["detector", "bridge", "metrics", "foxglove"]
    with pytest.raises(KeyError, match="known nodes: camera"):
        node_spec("lidar")


@pytest.mark.parametrize("table", [INTRA_PROCESS_EDGES, tuple(reversed(INTRA_PROCESS_EDGES))])
def test_a_consumer_fed_by_another_consumer_of_the_same_topic_gets_it_first(table):
    """The ordering rule: the embedding node publishes features in-process from inside its ROI
    handler, so the scoring node's ROI handler must have run (cached the ROI) by then, whatever
    order the table lists the edges in."""
    edges = intra_process_edges(HOT_PATH, table)
    roi_handlers = [consumer for producer, consumer, topic in edges if topic == "roi/image"]
    assert roi_handlers == ["scoring", "embedding"]
    assert sorted(edges) == sorted(INTRA_PROCESS_EDGES)


def test_only_edges_between_composed_nodes_and_cycles_are_refused():
    assert intra_process_edges(["camera", "roi", "gate"]) == [("camera", "roi", "camera/image_raw")]
    assert intra_process_edges(["roi", "scoring"]) == [("roi", "scoring", "roi/image")]
    cycle = (("p", "a", "t"), ("p", "b", "t"), ("a", "b", "u"), ("b", "a", "v"))
    with pytest.raises(ValueError, match="cycle"):
        intra_process_edges(["p", "a", "b"], cycle)


def test_every_in_process_consumer_declares_its_input():
    for producer, consumer, topic in INTRA_PROCESS_EDGES:
        assert topic in node_spec(consumer).node_class().INTRA_PROCESS_INPUTS, (consumer, topic)
        assert hasattr(node_spec(producer).node_class(), "subscribe_input"), producer

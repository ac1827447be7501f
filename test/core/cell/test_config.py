import pytest

from inspection_nodes.core.cell.config import ConfigError, load_cell_config


def _cell(nodes: str, compose: str) -> str:
    return f"cell:\n  ros__parameters:\n    nodes: {nodes}\n    compose: {compose}\n"


def test_compose_groups_nodes_into_processes_in_listed_order(tmp_path):
    path = tmp_path / "station.yaml"
    path.write_text(_cell("[camera, gate, roi, embedding, scoring]", '["roi + camera"]'))
    processes = [[n.name for n in group] for group in load_cell_config(path).processes]
    assert processes == [["roi", "camera"], ["gate"], ["embedding"], ["scoring"]]


def test_without_compose_every_node_is_its_own_process(tmp_path):
    path = tmp_path / "station.yaml"
    path.write_text("cell:\n  ros__parameters:\n    nodes: [camera, roi]\n")
    assert [len(g) for g in load_cell_config(path).processes] == [1, 1]


def test_shipped_config_lists_known_nodes(repo_root):
    config = load_cell_config(repo_root / "config" / "bottle.yaml")
    assert [n.name for n in config.nodes][:3] == ["camera", "roi", "embedding"]
    assert config.node_parameters("camera")["source_type"] == "folder"
    assert config.node_parameters("embedding")["model_dir"] == "models/bottle"  # from /**


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("camera: [1, 2", "not valid YAML"),
        ("- a\n- b\n", "expected a mapping"),
        ("camera:\n  rate_hz: 3\n", "ros__parameters"),
        ("cell:\n  ros__parameters:\n    nodes: [camera, lidar]\n", "unknown node 'lidar'"),
        (_cell("[camera, roi]", '["camera+gate"]'), r"\['gate'\] not in cell.nodes"),
        (_cell("[camera, roi]", '["camera"]'), "two or more distinct nodes"),
        (_cell("[camera, roi]", '["camera+camera"]'), "two or more distinct nodes"),
        (_cell("[camera, roi, gate]", '["camera+roi", "roi+gate"]'), "listed in two processes"),
        (_cell("[camera, roi]", "[[camera, roi]]"), "list of strings"),
    ],
)
def test_bad_configs_name_the_problem(tmp_path, text, match):
    path = tmp_path / "station.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_cell_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_cell_config(tmp_path / "none.yaml")

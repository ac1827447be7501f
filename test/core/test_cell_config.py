import pytest

from inspection_nodes.core.cell_config import ConfigError, load_cell_config


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

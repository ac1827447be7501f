import pytest

from inspection_nodes.core.cell.config import ConfigError, load_cell_config, section_matches


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
    assert config.node_parameters("gate", "/line1")["deadline_ms"] == 1000.0


def test_shipped_configs_write_node_sections_that_survive_a_namespace(repo_root):
    """`gate:` would match only /gate: under `namespace:=line1` the gate would run on its
    defaults (deadline 200 ms instead of the station's 1000 ms)."""
    for path in sorted((repo_root / "config").glob("*.yaml")):
        config = load_cell_config(path)
        for key in config.parameters:
            assert key == "/**" or key.startswith("/**/"), f"{path.name}: section {key!r}"


@pytest.mark.parametrize(
    ("key", "fqn", "applies"),
    [
        ("/**", "/gate", True),
        ("/**", "/line1/gate", True),
        ("/**/gate", "/gate", True),
        ("/**/gate", "/plant/line1/gate", True),
        ("gate", "/gate", True),
        ("gate", "/line1/gate", False),
        ("/gate", "/line1/gate", False),
        ("/line1/gate", "/line1/gate", True),
        ("/line1/gate", "/line2/gate", False),
        ("/*/gate", "/line1/gate", True),
        ("/*/gate", "/gate", False),
        ("/**/gate", "/line1/gateway", False),
        ("/**/ga.e", "/gate", False),  # a dot is a dot, not a pattern
    ],
)
def test_sections_match_node_names_as_rcl_does(key, fqn, applies):
    assert section_matches(key, fqn) is applies


def test_matching_sections_apply_in_file_order_later_ones_winning(tmp_path):
    path = tmp_path / "station.yaml"
    path.write_text(
        "/**/gate:\n  ros__parameters: {deadline_ms: 1000.0, heartbeat_ms: 40.0}\n"
        "/**:\n  ros__parameters: {deadline_ms: 5.0, audit_path: a.log}\n"
        "/line1/gate:\n  ros__parameters: {heartbeat_ms: 30.0}\n"
    )
    config = load_cell_config(path)
    assert config.node_parameters("gate") == {
        "deadline_ms": 5.0,
        "heartbeat_ms": 40.0,
        "audit_path": "a.log",
    }
    assert config.node_parameters("gate", "/line1")["heartbeat_ms"] == 30.0


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

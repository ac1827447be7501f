"""The README's two commands, and its parameter tables against what the nodes declare."""

import importlib

import pytest

from inspection_nodes.cli.docs import marker, update_text
from inspection_nodes.graph import NODES


def test_first_lines_are_the_two_commands(repo_root):
    lines = (repo_root / "README.md").read_text().splitlines()
    block = lines[lines.index("```bash") + 1 : lines.index("```")]
    assert [line.split("#")[0].strip() for line in block] == ["make demo", "make test"]


def test_every_node_has_an_up_to_date_parameter_table(repo_root):
    readme = (repo_root / "README.md").read_text()
    for spec in NODES:
        assert marker(spec.name)[0] in readme, f"README lacks the parameter table of {spec.name}"
    assert update_text(readme) == readme, (
        "README tables are stale: run `inspection docs --update README.md`"
    )


@pytest.mark.parametrize("spec", NODES, ids=lambda s: s.name)
def test_declared_parameters_are_the_documented_ones(ros_context, spec, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nodes with default paths (evidence/, outbox) write here
    module = importlib.import_module(f"inspection_nodes.nodes.{spec.module}")
    documented = {p.name for p in module.PARAMETERS}
    cls = next(
        v
        for k, v in vars(module).items()
        if k.endswith("Node")
        and k != "LifecycleNode"
        and isinstance(v, type)
        and v.__module__ == module.__name__
    )
    try:
        node = cls(context=ros_context)
    except Exception as exc:
        pytest.skip(f"{spec.name} cannot start without its model/hardware: {exc}")
    declared = {name for name in node._parameters if not name.startswith("qos_overrides.")}
    declared -= {"use_sim_time", "start_type_description_service"}  # rclpy built-ins
    node.destroy_node()
    assert declared == documented

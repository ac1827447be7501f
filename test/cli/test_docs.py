"""`inspection docs`: parameter tables from the declared ParamSpecs, README blocks rewritten."""

from pathlib import Path

from inspection_nodes.cli.docs import marker, parameter_table, update_text
from inspection_nodes.cli.main import main


def test_tables_list_every_declared_parameter():
    table = parameter_table("gate")
    assert table.startswith("| Name | Type | Default | Range | Description |")
    assert "| `deadline_ms` | double | `200.0` | 1 .. 60000 |" in table


def test_update_rewrites_only_the_marked_blocks(tmp_path: Path):
    start, end = marker("roi")
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{start}\nstale\n{end}\noutro\n")
    assert main(["docs", "--update", str(readme)]) == 0
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "stale" not in text
    assert "`output_size`" in text and update_text(text) == text

"""`inspection demo` refuses a folder that is not an MVTec-layout category before doing work
(the full demo is `make demo`, run by hand and in CI)."""

from pathlib import Path

from inspection_nodes.cli.main import main


def test_a_wrong_data_folder_is_refused(tmp_path: Path, capsys):
    argv = ["demo", "--data", str(tmp_path), "--model", str(tmp_path / "m")]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    assert "not an MVTec-layout category" in capsys.readouterr().out
    assert not (tmp_path / "m").exists()

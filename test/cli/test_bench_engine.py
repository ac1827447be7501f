"""`inspection bench engine` on a tiny synthetic category (this engine only): one isolated
enrollment + evaluation per data set, a Markdown table and a JSON report."""

import json
from pathlib import Path

from helpers.anomaly_data import make_category

from inspection_nodes.cli.main import main


def test_a_short_run_writes_the_table_and_the_json(tmp_path: Path, capsys):
    make_category(tmp_path / "data", n_train=6, n_test_good=2, n_defect=2)
    out = tmp_path / "bench" / "engine.json"
    argv = ["bench", "engine", "--skip-anomalib", "--data-dir", str(tmp_path / "data")]
    assert main([*argv, "--datasets", "synthetic", "--json", str(out)]) == 0
    result = json.loads(out.read_text())["synthetic"]["ours"]
    assert result["image_auroc"] == 1.0 and result["n_images"] == 4
    assert 0 < result["latency_ms"]["p50"] <= result["latency_ms"]["p99"]
    assert result["bank_size"] > 0 and result["peak_rss_mb"] > 0
    table = (tmp_path / "bench" / "engine.md").read_text()
    assert "| synthetic | this engine (ONNX Runtime) | 1.0000 |" in table
    assert "written" in capsys.readouterr().out


def test_a_failing_data_set_is_a_row_not_a_crash(tmp_path: Path):
    out = tmp_path / "engine.json"
    argv = ["bench", "engine", "--skip-anomalib", "--data-dir", str(tmp_path)]
    assert main([*argv, "--datasets", "missing", "--json", str(out)]) == 0
    assert "not an MVTec-layout category" in json.loads(out.read_text())["missing"]["ours"]["error"]

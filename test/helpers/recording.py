"""Record the bottle subset through the real cell with `inspection record` (for bag tests)."""

from __future__ import annotations

from helpers.cli import run_inspection
from helpers.station import station_config

CELL_NODES = ["camera", "roi", "embedding", "scoring", "gate"]


def record_subset(tmp_path, model, subset):
    """Record the bottle subset through the cell; returns the station config and the bag."""
    config = station_config(tmp_path, model, subset / "test", nodes=CELL_NODES)
    bag = tmp_path / "run.mcap.d"
    rec = run_inspection(
        "record",
        "--model",
        str(model),
        "--images",
        str(subset / "test"),
        "--config",
        str(config),
        "--out",
        str(bag),
        "--quiet",
    )
    assert rec.returncode == 0, rec.stdout[-2000:] + rec.stderr[-2000:]
    return config, bag

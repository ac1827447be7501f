"""Plant configuration: the shipped file loads; mistakes are named."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspection_backend.core.plant import PlantConfig

REPO = Path(__file__).resolve().parents[3]


def test_shipped_plant_config_loads():
    plant = PlantConfig.load(REPO / "config" / "backend" / "plant.yaml")
    assert plant.cell("cell-1").line_id == "line-1"
    assert plant.policy_for("cell-3").station == "metal_plate"
    assert plant.station_classes["bottle"][0] == "broken_large"
    assert plant.lines == {"line-1", "line-2"}


def _write(tmp_path: Path, plant: str, policy: str | None = "station: s\nversion: 1\n") -> Path:
    (tmp_path / "routing").mkdir(exist_ok=True)
    if policy is not None:
        (tmp_path / "routing" / "s.yaml").write_text(policy)
    path = tmp_path / "plant.yaml"
    path.write_text(plant)
    return path


@pytest.mark.parametrize(
    ("plant", "policy", "message"),
    [
        ("lines: []\n", "station: s\nversion: 1\n", "non-empty list"),
        ("lines: [{cells: [{id: c, station: s}]}]\n", "station: s\nversion: 1\n", "needs an id"),
        ("lines: [{id: l, cells: [{id: c}]}]\n", "station: s\nversion: 1\n", "id and station"),
        (
            "lines: [{id: l, cells: [{id: c, station: s}, {id: c, station: s}]}]\n",
            "station: s\nversion: 1\n",
            "unique",
        ),
        ("lines: [{id: l, cells: [{id: c, station: s}]}]\n", None, "routing policy of station"),
        ("lines: [{id: l, cells: [{id: c, station: s}]}]\n", "station: t\nversion: 1\n", "is for"),
    ],
)
def test_mistakes_are_named(tmp_path, plant, policy, message):
    with pytest.raises(ValueError, match=message):
        PlantConfig.load(_write(tmp_path, plant, policy))

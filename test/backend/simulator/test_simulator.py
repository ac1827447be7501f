"""The simulated cell's payloads and evidence follow the cell's conventions and schemas."""

from __future__ import annotations

from helpers.backend_data import parser

from inspection_backend.core.messages import Accepted
from inspection_backend.simulator import messages as m
from inspection_backend.simulator.evidence import mask_features, unit_pictures


def test_ids_are_stable_and_payloads_valid():
    a = m.verdict("cell-1", "u1", 7, "PASS", 1.0, 2.0)
    assert a["id"] == m.verdict("cell-1", "u1", 7, "FAIL", 9.0, 2.0)["id"] == "cell-1:verdict:u1:7"
    result = parser().parse("inspection/cell-1/verdict", m.encode(a))
    assert isinstance(result, Accepted)


def test_evidence_from_the_shared_data(shared_data):
    bottle = shared_data / "mvtec_ad" / "bottle"
    mask = bottle / "ground_truth" / "broken_large" / "000_mask.png"
    image, heatmap = unit_pictures(bottle / "test" / "broken_large" / "000.png", mask)
    assert image.startswith(b"\x89PNG") and heatmap.startswith(b"\x89PNG")
    features = mask_features(mask)
    assert features["regions"] >= 1 and 0 < features["area_ratio"] < 0.5
    assert features["map_width"] == 224
    msg = m.evidence("cell-1", "u", "heatmap", heatmap, "image/png")
    assert isinstance(parser().parse("inspection/cell-1/evidence", m.encode(msg)), Accepted)

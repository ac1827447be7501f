"""`inspection record`: a short run on real images through the real cell into an MCAP bag."""

import pytest
from helpers.recording import record_subset

from inspection_nodes.core.io.bags import read_messages

pytestmark = pytest.mark.launch


def test_a_run_is_recorded_with_every_unit(tmp_path, tiny_model, bottle_subset):
    _config, bag = record_subset(tmp_path, tiny_model, bottle_subset)
    images = read_messages(bag, "camera/image_raw")
    units = read_messages(bag, "camera/unit")
    verdicts = read_messages(bag, "verdict")
    assert len(images) == len(units) == len(verdicts) == 4
    assert sorted(v.unit_id for v in verdicts) == sorted(u.unit_id for u in units)

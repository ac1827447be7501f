"""MVTec layout discovery and image loading errors, on synthetic and real files."""

from pathlib import Path

import numpy as np
import pytest
from helpers.anomaly_data import make_category

from inspection_nodes.core.io import mvtec

BOTTLE = mvtec.default_data_dir() / "mvtec_ad" / "bottle"


def test_synthetic_layout(tmp_path: Path) -> None:
    cat = make_category(tmp_path, n_train=4, n_test_good=2, n_defect=2)
    assert len(mvtec.list_train_images(cat)) == 4
    samples = mvtec.list_test_samples(cat)
    assert [s.label for s in samples] == [0, 0, 1, 1]
    assert samples[2].mask_path.name == "000_mask.png"
    mask = mvtec.read_mask(samples[2].mask_path, (32, 32))
    assert mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 1} and mask.any()


def test_wrong_layout_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(mvtec.DatasetError, match="train/good"):
        mvtec.list_train_images(tmp_path)
    with pytest.raises(mvtec.DatasetError, match="test/"):
        mvtec.list_test_samples(tmp_path)
    cat = make_category(tmp_path, n_train=2, n_test_good=1, n_defect=1)
    (cat / "ground_truth" / "stain" / "000_mask.png").unlink()
    with pytest.raises(mvtec.DatasetError, match="missing mask"):
        mvtec.list_test_samples(cat)


def test_corrupt_and_missing_images(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG garbage")
    with pytest.raises(mvtec.DatasetError, match="cannot decode"):
        mvtec.read_rgb(bad)
    with pytest.raises(mvtec.DatasetError, match="not found"):
        mvtec.read_rgb(tmp_path / "nope.png")


@pytest.mark.skipif(not BOTTLE.is_dir(), reason="shared data not present")
def test_real_bottle_layout() -> None:
    samples = mvtec.list_test_samples(BOTTLE)
    assert len(mvtec.list_train_images(BOTTLE)) == 60
    assert sum(s.label for s in samples) == 63
    img = mvtec.read_rgb(samples[0].path, 224)
    assert img.shape == (224, 224, 3) and img.dtype == np.uint8

"""YOLO layout reading: data.yaml, label lines back to pixels, strict errors, counts, hashes."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from inspection_nodes.core.detector import yolo_dataset
from inspection_nodes.core.detector.deeppcb import LabelError
from inspection_nodes.core.io.mvtec import DatasetError


def make_layout(root: Path, labels: dict[str, str], names=("scratch", "dent")) -> Path:
    """images/{train,val}/<stem>.png (64x32) and labels/...; labels maps 'split/stem' -> text."""
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
    for key, text in labels.items():
        split, stem = key.split("/")
        cv2.imwrite(str(root / "images" / split / f"{stem}.png"), np.zeros((32, 64, 3), np.uint8))
        if text is not None:
            (root / "labels" / split / f"{stem}.txt").write_text(text)
    lines = ["train: images/train", "val: images/val", "names:"]
    lines += [f"  {i}: {n}" for i, n in enumerate(names)]
    (root / "data.yaml").write_text("\n".join(lines) + "\n")
    return root


def test_read_split_gives_pixel_boxes(tmp_path: Path) -> None:
    root = make_layout(
        tmp_path,
        {"train/a": "0 0.5 0.5 0.5 0.5\n1 0.25 0.25 0.5 0.5\n", "train/b": None, "val/c": ""},
    )
    spec = yolo_dataset.read_data_yaml(root)
    assert spec.class_names == ("scratch", "dent") and spec.input_mode == "plain"
    samples = {s.image.stem: s for s in yolo_dataset.read_split(spec, "train")}
    np.testing.assert_allclose(samples["a"].boxes, [[16, 8, 48, 24], [0, 0, 32, 16]])
    assert samples["a"].classes.tolist() == [0, 1]
    assert len(samples["b"].boxes) == 0  # no label file = defect-free image
    assert yolo_dataset.count_boxes(spec, "train") == {"scratch": 1, "dent": 1}


def test_hashes_follow_labels(tmp_path: Path) -> None:
    root = make_layout(tmp_path, {"train/a": "0 0.5 0.5 0.5 0.5\n", "val/c": ""})
    spec = yolo_dataset.read_data_yaml(root)
    before, val_before = yolo_dataset.dataset_hash(spec), yolo_dataset.split_hash(spec, "val")
    (root / "labels/train/a.txt").write_text("1 0.5 0.5 0.5 0.5\n")
    assert yolo_dataset.dataset_hash(spec) != before
    assert yolo_dataset.split_hash(spec, "val") == val_before


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("0 0.5 0.5 0.5", "expected 5 fields"),
        ("a 0.5 0.5 0.5 0.5", "non-numeric"),
        ("2 0.5 0.5 0.5 0.5", "unknown class 2"),
        ("0 0.9 0.5 0.5 0.5", "outside the image"),
        ("0 0.5 0.5 0 0.5", "outside the image"),
    ],
)
def test_bad_yolo_label_lines(tmp_path: Path, line: str, message: str) -> None:
    root = make_layout(tmp_path, {"train/a": f"0 0.5 0.5 0.1 0.1\n{line}\n", "val/c": ""})
    spec = yolo_dataset.read_data_yaml(root)
    with pytest.raises(LabelError, match=rf"a\.txt:2: .*{message}"):
        yolo_dataset.read_split(spec, "train")


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("train: images/train\nval: images/val\n", "'names' must list"),
        ("train: images/train\nnames: [a]\n", "'train' and 'val'"),
        ("train: [\n", "invalid YAML"),
        ("train: a\nval: b\nnames: {1: a}\n", "indexed 0..0"),
    ],
)
def test_bad_data_yaml(tmp_path: Path, yaml_text: str, message: str) -> None:
    (tmp_path / "data.yaml").write_text(yaml_text)
    with pytest.raises(DatasetError, match=message):
        yolo_dataset.read_data_yaml(tmp_path)


def test_not_a_yolo_layout(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"no data\.yaml"):
        yolo_dataset.read_data_yaml(tmp_path)


def test_label_path() -> None:
    assert yolo_dataset.label_path(Path("d/images/train/x.png")) == Path("d/labels/train/x.txt")

"""DeepPCB -> YOLO conversion on real DeepPCB files, and label files that must be refused."""

from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers.detector_data import GROUP, deeppcb_root, make_deeppcb_subset

from inspection_nodes.core.detector import deeppcb, yolo_dataset
from inspection_nodes.core.io.mvtec import DatasetError, read_rgb


def test_official_split_of_the_shared_subset_uses_only_present_groups(shared_data: Path) -> None:
    split = deeppcb.official_split(shared_data / "deeppcb")  # the PCBData/ child is found
    assert (len(split["train"]), len(split["test"])) == (350, 57)  # the subset's README table
    groups = {p.key.split("/")[0] for pairs in split.values() for p in pairs}
    assert groups == {"group00041", "group50600", "group77000"}
    assert not {p.key for p in split["train"]} & {p.key for p in split["test"]}
    assert deeppcb.unlisted_pairs(shared_data / "deeppcb", split) == []


def test_convert_keeps_every_box_of_real_pairs(shared_data: Path, tmp_path: Path) -> None:
    data = make_deeppcb_subset(shared_data, tmp_path / "pcb")
    report = deeppcb.convert(data, tmp_path / "yolo", "plain")
    assert report.images == {"train": 4, "val": 2} and report.unlisted == []
    spec = yolo_dataset.read_data_yaml(report.data_yaml)
    assert spec.class_names == deeppcb.CLASS_NAMES and spec.input_mode == "plain"
    total = 0
    for split, keys in (("train", ("00041000", "00041003")), ("val", ("00041200",))):
        samples = {s.image.stem: s for s in yolo_dataset.read_split(spec, split)}
        for key in keys:
            source = data / f"group00041/00041_not/{key}.txt"
            expected = deeppcb.parse_label_text(source.read_text(), str(source), 640, 640)
            got = samples[key]
            assert len(got.boxes) == len(expected) > 0
            want = np.array([(b.x1, b.y1, b.x2, b.y2) for b in expected])
            np.testing.assert_allclose(got.boxes, want, atol=0.01)  # 6 decimals of 640 px
            assert got.classes.tolist() == [b.class_id for b in expected]
    for split in ("train", "val"):
        total += sum(len(s.boxes) for s in yolo_dataset.read_split(spec, split))
    assert total == sum(report.boxes.values()) == 10 + 6 + 7 + 6 + 5 + 5
    assert sum(report.boxes_per_class["train"].values()) == report.boxes["train"]
    tested = data / GROUP / "00041000_test.jpg"
    assert (tmp_path / "yolo/images/train/00041000.jpg").read_bytes() == tested.read_bytes()


def test_template_mode_stacks_tested_template_and_difference(
    shared_data: Path, tmp_path: Path
) -> None:
    data = make_deeppcb_subset(shared_data, tmp_path / "pcb", ("00041000",), ("00041200",))
    report = deeppcb.convert(data, tmp_path / "yolo", "template")
    rgb = read_rgb(tmp_path / "yolo/images/train/00041000.png")  # lossless PNG
    tested = deeppcb.read_gray(data / GROUP / "00041000_test.jpg")
    template = deeppcb.read_gray(data / GROUP / "00041000_temp.jpg")
    np.testing.assert_array_equal(rgb[..., 0], tested)
    np.testing.assert_array_equal(rgb[..., 1], template)
    np.testing.assert_array_equal(rgb[..., 2], cv2.absdiff(tested, template))
    np.testing.assert_array_equal(rgb, deeppcb.compose(tested, template, "template"))
    assert yolo_dataset.read_data_yaml(report.data_yaml).input_mode == "template"
    # the difference is bright where the labelled defects are
    boxes = deeppcb.read_pair_boxes(deeppcb.official_split(data)["train"][0])
    inside = max(rgb[int(b.y1) : int(b.y2), int(b.x1) : int(b.x2), 2].max() for b in boxes)
    assert inside == 255


def test_dataset_hash_changes_with_a_label(shared_data: Path, tmp_path: Path) -> None:
    data = make_deeppcb_subset(shared_data, tmp_path / "pcb", ("00041000",), ("00041200",))
    first = deeppcb.convert(data, tmp_path / "a").dataset_hash
    label = data / "group00041/00041_not/00041000.txt"
    label.write_text(label.read_text() + "1 1 5 5 1\n")
    assert deeppcb.convert(data, tmp_path / "b").dataset_hash != first


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("10 10 20", "expected 5 fields"),
        ("10 10 20 20 3 7", "expected 5 fields"),
        ("10 ten 20 20 3", "non-numeric"),
        ("10 10 20 20 x", "non-numeric"),
        ("10 10 20 20 0", "unknown class 0"),
        ("10 10 20 20 7", "unknown class 7"),
        ("600 600 641 620 1", "outside the 640x640 image"),
        ("-1 10 20 20 1", "outside"),
        ("20 10 10 20 1", "empty box"),
    ],
)
def test_bad_label_lines_name_file_and_line(line: str, message: str) -> None:
    text = "1 1 9 9 2\n\n" + line + "\n"
    with pytest.raises(deeppcb.LabelError, match=rf"^x\.txt:3: .*{message}"):
        deeppcb.parse_label_text(text, "x.txt", 640, 640)


def test_a_bad_label_file_stops_the_conversion(shared_data: Path, tmp_path: Path) -> None:
    data = make_deeppcb_subset(shared_data, tmp_path / "pcb")
    label = data / "group00041/00041_not/00041001.txt"
    lines = label.read_text().splitlines()
    lines[2] = lines[2] + " 9"
    label.write_text("\n".join(lines) + "\n")
    with pytest.raises(deeppcb.LabelError, match=r"00041001\.txt:3: expected 5 fields"):
        deeppcb.convert(data, tmp_path / "yolo")


def test_a_missing_image_of_a_present_group_is_an_error(shared_data: Path, tmp_path: Path) -> None:
    data = make_deeppcb_subset(shared_data, tmp_path / "pcb")
    (data / GROUP / "00041201_temp.jpg").unlink()
    with pytest.raises(DatasetError, match=r"test\.txt:3: .*00041201_temp\.jpg is missing"):
        deeppcb.official_split(data)


def test_a_pair_in_both_lists_is_an_error(shared_data: Path, tmp_path: Path) -> None:
    data = make_deeppcb_subset(shared_data, tmp_path / "pcb")
    with (data / "test.txt").open("a") as f:
        f.write(f"{GROUP}/00041000.jpg group00041/00041_not/00041000.txt\n")
    with pytest.raises(DatasetError, match="already in the train split"):
        deeppcb.official_split(data)


def test_unlisted_pairs_are_reported(shared_data: Path, tmp_path: Path) -> None:
    data = make_deeppcb_subset(shared_data, tmp_path / "pcb", ("00041000",), ("00041200",))
    src = deeppcb_root(shared_data) / GROUP / "00041005_test.jpg"
    (data / GROUP / src.name).write_bytes(src.read_bytes())
    report = deeppcb.convert(data, tmp_path / "yolo")
    assert report.unlisted == [f"{GROUP}/00041005"]


def test_not_a_deeppcb_layout(tmp_path: Path) -> None:
    assert not deeppcb.is_deeppcb(tmp_path)
    with pytest.raises(DatasetError, match="not a DeepPCB layout"):
        deeppcb.official_split(tmp_path)


def test_compose_checks_mode_and_sizes() -> None:
    tested = np.zeros((4, 4), np.uint8)
    assert deeppcb.compose(tested, None, "plain").shape == (4, 4, 3)
    with pytest.raises(ValueError, match="unknown input mode"):
        deeppcb.compose(tested, tested, "stacked")
    with pytest.raises(ValueError, match="needs the template"):
        deeppcb.compose(tested, None, "template")
    with pytest.raises(ValueError, match="differ in size"):
        deeppcb.compose(tested, np.zeros((5, 4), np.uint8), "template")

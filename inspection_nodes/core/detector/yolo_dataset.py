"""YOLO txt layout: data.yaml, images/<split>/, labels/<split>/ with `class cx cy w h` lines.

Read for evaluation (boxes back in pixels) and for the retrain trigger (box counts per class).
Label lines are checked as strictly as the DeepPCB converter checks its input: a bad line raises
`LabelError` naming the file and line, nothing is dropped. An image without a label file is a
defect-free image (the ultralytics convention).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from inspection_nodes.core.detector.deeppcb import LabelError
from inspection_nodes.core.io.mvtec import IMAGE_SUFFIXES, DatasetError


@dataclass(frozen=True)
class DataSpec:
    """A parsed data.yaml: split name -> image directory, class names, input mode."""

    yaml_path: Path
    root: Path
    splits: dict[str, Path]
    class_names: tuple[str, ...]
    input_mode: str


@dataclass(frozen=True)
class LabelledImage:
    """One image and its boxes: `boxes` float (N, 4) x1 y1 x2 y2 in pixels, `classes` int (N,)."""

    image: Path
    label: Path
    boxes: np.ndarray
    classes: np.ndarray


def find_data_yaml(path: Path) -> Path:
    """`path` itself when it is a YAML file, else `path/data.yaml`."""
    path = Path(path)
    if path.is_file() and path.suffix in (".yaml", ".yml"):
        return path
    if (path / "data.yaml").is_file():
        return path / "data.yaml"
    raise DatasetError(f"{path}: not a YOLO layout (no data.yaml)")


def read_data_yaml(path: Path) -> DataSpec:
    """Parse data.yaml; `path:` (optional) is taken relative to the yaml's directory."""
    yaml_path = find_data_yaml(path)
    try:
        data = yaml.safe_load(yaml_path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise DatasetError(f"{yaml_path}: invalid YAML ({exc})") from None
    names = data.get("names")
    if isinstance(names, dict):
        if sorted(names) != list(range(len(names))):
            raise DatasetError(f"{yaml_path}: names must be indexed 0..{len(names) - 1}")
        names = [names[i] for i in range(len(names))]
    if not isinstance(names, list) or not names:
        raise DatasetError(f"{yaml_path}: 'names' must list the class names")
    root = yaml_path.parent / str(data.get("path") or ".")
    splits = {
        name: (root / str(data[name])).resolve()
        for name in ("train", "val", "test")
        if isinstance(data.get(name), str)
    }
    if "train" not in splits or "val" not in splits:
        raise DatasetError(f"{yaml_path}: 'train' and 'val' image directories are required")
    return DataSpec(
        yaml_path.resolve(),
        root.resolve(),
        splits,
        tuple(str(n) for n in names),
        str(data.get("input_mode", "plain")),
    )


def label_path(image: Path) -> Path:
    """`.../images/<split>/<stem>.<ext>` -> `.../labels/<split>/<stem>.txt`."""
    parts = list(image.parts)
    index = len(parts) - 1 - parts[::-1].index("images")
    parts[index] = "labels"
    return Path(*parts).with_suffix(".txt")


def list_images(folder: Path) -> list[Path]:
    """Sorted images of a split directory (recursive)."""
    if not folder.is_dir():
        raise DatasetError(f"{folder}: image directory is missing")
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


def parse_yolo_labels(
    text: str, source: str, num_classes: int, width: int, height: int
) -> tuple[np.ndarray, np.ndarray]:
    """`class cx cy w h` lines (normalised) -> pixel boxes (N, 4) x1 y1 x2 y2 and classes (N,).

    Raises:
        LabelError: wrong field count, non-numeric field, unknown class, or a box outside the
            image (1e-3 of slack for rounding), named `source:line`.
    """
    boxes, classes = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        where = f"{source}:{number}"
        if len(fields) != 5:
            raise LabelError(f"{where}: expected 5 fields 'class cx cy w h', got {len(fields)}")
        try:
            cls = int(fields[0])
            cx, cy, w, h = (float(v) for v in fields[1:])
        except ValueError:
            raise LabelError(f"{where}: non-numeric field in {line.strip()!r}") from None
        if not 0 <= cls < num_classes:
            raise LabelError(f"{where}: unknown class {cls} (0..{num_classes - 1} expected)")
        x1, y1, x2, y2 = cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2
        if not (w > 0 and h > 0) or min(x1, y1) < -1e-3 or max(x2, y2) > 1 + 1e-3:
            raise LabelError(f"{where}: box {cx:g} {cy:g} {w:g} {h:g} outside the image")
        boxes.append((x1 * width, y1 * height, x2 * width, y2 * height))
        classes.append(cls)
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4), np.asarray(classes, dtype=np.int64)


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image file; raises DatasetError when it cannot be read."""
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise DatasetError(f"{path}: missing or undecodable image")
    return image.shape[1], image.shape[0]


def read_split(spec: DataSpec, split: str) -> list[LabelledImage]:
    """Every image of a split with its boxes in pixels (sizes read from the images)."""
    if split not in spec.splits:
        raise DatasetError(f"{spec.yaml_path}: no '{split}' split")
    samples = []
    for image in list_images(spec.splits[split]):
        label = label_path(image)
        text = label.read_text() if label.is_file() else ""
        width, height = image_size(image)
        boxes, classes = parse_yolo_labels(text, str(label), len(spec.class_names), width, height)
        samples.append(LabelledImage(image, label, boxes, classes))
    return samples


def count_boxes(spec: DataSpec, split: str) -> dict[str, int]:
    """Boxes per class name in a split (labels only; no image is decoded)."""
    counts = dict.fromkeys(spec.class_names, 0)
    for image in list_images(spec.splits[split]):
        label = label_path(image)
        if not label.is_file():
            continue
        _, classes = parse_yolo_labels(label.read_text(), str(label), len(spec.class_names), 1, 1)
        for cls in classes:
            counts[spec.class_names[cls]] += 1
    return counts


def split_hash(spec: DataSpec, split: str) -> str:
    """SHA-256 over relative names and bytes of a split's images and label files."""
    digest = hashlib.sha256()
    folder = spec.splits[split]
    for image in list_images(folder):
        digest.update(str(image.relative_to(folder)).encode())
        digest.update(image.read_bytes())
        label = label_path(image)
        digest.update(label.read_bytes() if label.is_file() else b"")
    return digest.hexdigest()


def dataset_hash(spec: DataSpec) -> str:
    """Hash of the train and val splits together (what a trained model depends on)."""
    return hashlib.sha256(
        (split_hash(spec, "train") + split_hash(spec, "val")).encode()
    ).hexdigest()

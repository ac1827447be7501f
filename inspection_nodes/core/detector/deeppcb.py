"""DeepPCB layout -> YOLO txt layout, honouring the official trainval/test split lists.

DeepPCB (Tang et al. 2019) layout under a root that holds `trainval.txt` and `test.txt`::

    groupGGGGG/GGGGG/NNNNNNNN_temp.jpg   defect-free template (grayscale)
    groupGGGGG/GGGGG/NNNNNNNN_test.jpg   aligned, binarised tested image
    groupGGGGG/GGGGG_not/NNNNNNNN.txt    one box per line: "x1 y1 x2 y2 type", type 1..6

The split lists name every group of the full dataset; only the groups present under the root are
used (a subset is the normal case), and a pair in a present group that a list names but whose
files are missing is an error, not a silent skip. Every box of a converted pair reaches the YOLO
labels: a bad line raises `LabelError` naming the file and line instead of being dropped.

Two input modes (`INPUT_MODES`), chosen once per model because training and inference must agree:

- `plain`: the tested image alone, as grey RGB;
- `template`: the defect-free template as extra input, one RGB image with R = tested,
  G = template, B = |tested - template| (the difference makes a missing or extra copper blob
  bright wherever the board differs from the template).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from inspection_nodes.core.io.mvtec import DatasetError

CLASS_NAMES: tuple[str, ...] = ("open", "short", "mousebite", "spur", "spurious_copper", "pin_hole")
INPUT_MODES: tuple[str, ...] = ("plain", "template")
SPLIT_LISTS: dict[str, str] = {"train": "trainval.txt", "test": "test.txt"}


class LabelError(DatasetError):
    """A label file that cannot be converted; the message names the file and line."""


@dataclass(frozen=True)
class Box:
    """One labelled defect: 0-based `class_id` into CLASS_NAMES, corners in pixels."""

    class_id: int
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Pair:
    """One DeepPCB sample; `key` is `groupG/G/N` (unique over the whole dataset)."""

    key: str
    tested: Path
    template: Path
    label: Path

    @property
    def name(self) -> str:
        """File stem used in the YOLO layout (the 8-digit pair number is unique per group)."""
        return Path(self.key).name


@dataclass
class ConversionReport:
    """What `convert` wrote, per split, so the caller can print and record it."""

    out_dir: Path
    input_mode: str
    images: dict[str, int] = field(default_factory=dict)
    boxes: dict[str, int] = field(default_factory=dict)
    boxes_per_class: dict[str, dict[str, int]] = field(default_factory=dict)
    unlisted: list[str] = field(default_factory=list)
    dataset_hash: str = ""

    @property
    def data_yaml(self) -> Path:
        return self.out_dir / "data.yaml"


def find_root(path: Path) -> Path:
    """The directory holding the split lists: `path` itself or its `PCBData/` child."""
    path = Path(path)
    for candidate in (path, path / "PCBData"):
        if all((candidate / name).is_file() for name in SPLIT_LISTS.values()):
            return candidate
    raise DatasetError(
        f"{path}: not a DeepPCB layout (no {' and '.join(SPLIT_LISTS.values())} here or in "
        "PCBData/)"
    )


def is_deeppcb(path: Path) -> bool:
    """True when `path` (or its `PCBData/`) holds the DeepPCB split lists."""
    try:
        find_root(path)
    except DatasetError:
        return False
    return True


def parse_label_text(text: str, source: str, width: int, height: int) -> list[Box]:
    """Parse DeepPCB label lines (`x1 y1 x2 y2 type`); blank lines are allowed.

    Raises:
        LabelError: wrong field count, a non-numeric field, an unknown class, an empty box or a
            box outside the (width, height) image; the message is `source:line: reason`.
    """
    boxes = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.replace(",", " ").split()
        if not fields:
            continue
        where = f"{source}:{number}"
        if len(fields) != 5:
            raise LabelError(f"{where}: expected 5 fields 'x1 y1 x2 y2 type', got {len(fields)}")
        try:
            x1, y1, x2, y2 = (float(v) for v in fields[:4])
            kind = int(fields[4])
        except ValueError:
            raise LabelError(f"{where}: non-numeric field in {line.strip()!r}") from None
        if not 1 <= kind <= len(CLASS_NAMES):
            raise LabelError(f"{where}: unknown class {kind} (1..{len(CLASS_NAMES)} expected)")
        if not (x2 > x1 and y2 > y1):
            raise LabelError(f"{where}: empty box ({x1:g}, {y1:g}, {x2:g}, {y2:g})")
        if x1 < 0 or y1 < 0 or x2 > width or y2 > height:
            raise LabelError(
                f"{where}: box ({x1:g}, {y1:g}, {x2:g}, {y2:g}) outside the {width}x{height} image"
            )
        boxes.append(Box(kind - 1, x1, y1, x2, y2))
    return boxes


def read_gray(path: Path) -> np.ndarray:
    """uint8 (H, W) image; raises DatasetError naming the file when missing or undecodable."""
    if not Path(path).is_file():
        raise DatasetError(f"{path}: missing image")
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise DatasetError(f"{path}: cannot decode image")
    return image


def compose(tested: np.ndarray, template: np.ndarray | None, mode: str) -> np.ndarray:
    """Model input (H, W, 3) uint8 RGB from grey tested/template images, for `mode`."""
    tested = _gray(tested)
    if mode == "plain":
        return np.repeat(tested[:, :, None], 3, axis=2)
    if mode != "template":
        raise ValueError(f"unknown input mode {mode!r}; choose one of {', '.join(INPUT_MODES)}")
    if template is None:
        raise ValueError("input mode 'template' needs the template image")
    template = _gray(template)
    if template.shape != tested.shape:
        raise ValueError(f"template {template.shape} and tested {tested.shape} differ in size")
    return np.dstack([tested, template, cv2.absdiff(tested, template)])


def _gray(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def read_pair_boxes(pair: Pair) -> list[Box]:
    """Boxes of a pair, checked against the tested image's size."""
    if not pair.label.is_file():
        raise LabelError(f"{pair.label}: missing label file")
    height, width = read_gray(pair.tested).shape
    return parse_label_text(pair.label.read_text(), str(pair.label), width, height)


def _parse_list_line(root: Path, list_file: Path, number: int, line: str) -> Pair | None:
    """One split-list line `groupG/G/N.jpg groupG/G_not/N.txt` -> Pair (None if group absent)."""
    fields = line.split()
    if len(fields) != 2:
        raise DatasetError(f"{list_file}:{number}: expected 'IMAGE LABEL', got {line.strip()!r}")
    image_rel, label_rel = fields
    group = image_rel.split("/", 1)[0]
    if not (root / group).is_dir():
        return None
    stem = str(Path(image_rel).with_suffix(""))
    pair = Pair(
        key=stem,
        tested=root / f"{stem}_test.jpg",
        template=root / f"{stem}_temp.jpg",
        label=root / label_rel,
    )
    for path in (pair.tested, pair.template, pair.label):
        if not path.is_file():
            raise DatasetError(f"{list_file}:{number}: {path.relative_to(root)} is missing")
    return pair


def official_split(path: Path) -> dict[str, list[Pair]]:
    """{"train": pairs of trainval.txt, "test": pairs of test.txt}, groups present only.

    Raises:
        DatasetError: no split lists, a malformed list line, a listed pair of a present group
            with a missing file, a pair listed twice, or no pairs at all.
    """
    root = find_root(path)
    split: dict[str, list[Pair]] = {}
    seen: dict[str, str] = {}
    for name, list_name in SPLIT_LISTS.items():
        list_file = root / list_name
        pairs = []
        for number, line in enumerate(list_file.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            pair = _parse_list_line(root, list_file, number, line)
            if pair is None:
                continue
            if pair.key in seen:
                raise DatasetError(
                    f"{list_file}:{number}: {pair.key} is already in the {seen[pair.key]} split"
                )
            seen[pair.key] = name
            pairs.append(pair)
        split[name] = pairs
    if not any(split.values()):
        raise DatasetError(f"{root}: no group of the split lists is present")
    return split


def unlisted_pairs(path: Path, split: dict[str, list[Pair]]) -> list[str]:
    """Keys of tested images present under the root that neither split list names."""
    root = find_root(path)
    listed = {p.key for pairs in split.values() for p in pairs}
    present = (
        str(p.relative_to(root)).removesuffix("_test.jpg") for p in root.glob("group*/*/*_test.jpg")
    )
    return sorted(k for k in present if k not in listed)


def pairs_hash(pairs: Iterable[Pair]) -> str:
    """SHA-256 over keys and bytes of the tested, template and label files (order independent)."""
    digest = hashlib.sha256()
    for pair in sorted(pairs, key=lambda p: p.key):
        digest.update(pair.key.encode())
        for path in (pair.tested, pair.template, pair.label):
            digest.update(path.read_bytes())
    return digest.hexdigest()


def yolo_label_lines(boxes: Iterable[Box], width: int, height: int) -> list[str]:
    """YOLO txt lines `class cx cy w h`, normalised to the image size."""
    return [
        f"{b.class_id} {(b.x1 + b.x2) / 2 / width:.6f} {(b.y1 + b.y2) / 2 / height:.6f} "
        f"{(b.x2 - b.x1) / width:.6f} {(b.y2 - b.y1) / height:.6f}"
        for b in boxes
    ]


def write_data_yaml(out_dir: Path, splits: Iterable[str], input_mode: str) -> Path:
    """data.yaml in the ultralytics format (path relative to the yaml, names by index)."""
    splits = list(splits)
    lines = [
        "# written by inspection_nodes.core.detector.deeppcb (DeepPCB, research use only)",
        f"train: images/{'train' if 'train' in splits else splits[0]}",
        f"val: images/{'val' if 'val' in splits else splits[-1]}",
        f"input_mode: {input_mode}",
        "names:",
        *(f"  {i}: {name}" for i, name in enumerate(CLASS_NAMES)),
    ]
    path = out_dir / "data.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def convert(
    source: Path,
    out_dir: Path,
    input_mode: str = "plain",
    limit: int | None = None,
) -> ConversionReport:
    """Write the YOLO layout of a DeepPCB root: official trainval -> `train`, test -> `val`.

    `out_dir/images/{train,val}/N.jpg|png`, `out_dir/labels/{train,val}/N.txt`, `data.yaml`.
    Plain mode copies the tested JPEG bytes unchanged; template mode writes lossless PNG (the
    difference channel must survive). `limit` keeps the first pairs of each split (quick tests).
    The output directory is replaced, so a rerun never mixes two conversions.
    """
    if input_mode not in INPUT_MODES:
        raise ValueError(f"unknown input mode {input_mode!r}; choose one of {INPUT_MODES}")
    split = official_split(source)
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    report = ConversionReport(out_dir, input_mode, unlisted=unlisted_pairs(source, split))
    used: list[Pair] = []
    for name, yolo_name in (("train", "train"), ("test", "val")):
        pairs = split[name][:limit] if limit else split[name]
        image_dir, label_dir = out_dir / "images" / yolo_name, out_dir / "labels" / yolo_name
        image_dir.mkdir(parents=True)
        label_dir.mkdir(parents=True)
        per_class = dict.fromkeys(CLASS_NAMES, 0)
        for pair in pairs:
            tested = read_gray(pair.tested)
            height, width = tested.shape
            boxes = parse_label_text(pair.label.read_text(), str(pair.label), width, height)
            if input_mode == "plain":
                shutil.copyfile(pair.tested, image_dir / f"{pair.name}.jpg")
            else:
                rgb = compose(tested, read_gray(pair.template), "template")
                cv2.imwrite(str(image_dir / f"{pair.name}.png"), rgb[:, :, ::-1])
            lines = yolo_label_lines(boxes, width, height)
            (label_dir / f"{pair.name}.txt").write_text("".join(f"{x}\n" for x in lines))
            for box in boxes:
                per_class[CLASS_NAMES[box.class_id]] += 1
        report.images[yolo_name] = len(pairs)
        report.boxes[yolo_name] = sum(per_class.values())
        report.boxes_per_class[yolo_name] = per_class
        used.extend(pairs)
    report.dataset_hash = pairs_hash(used)
    write_data_yaml(out_dir, ("train", "val"), input_mode)
    return report

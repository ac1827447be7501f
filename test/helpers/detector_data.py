"""Small DeepPCB and YOLO layouts made from real DeepPCB pairs, and a tiny trained detector."""

from __future__ import annotations

import shutil
from pathlib import Path

from helpers.cli import run_inspection

GROUP = "group00041/00041"
# pairs of group 00041 named by the official lists (trainval: 00041000.., test: 00041200..)
TRAIN_KEYS = ("00041000", "00041001", "00041002", "00041003")
TEST_KEYS = ("00041200", "00041201")
ABSENT_LINE = "group99999/99999/99999000.jpg group99999/99999_not/99999000.txt\n"


def deeppcb_root(shared_data: Path) -> Path:
    return shared_data / "deeppcb" / "PCBData"


def make_deeppcb_subset(
    shared_data: Path,
    dst: Path,
    train_keys: tuple[str, ...] = TRAIN_KEYS,
    test_keys: tuple[str, ...] = TEST_KEYS,
) -> Path:
    """A DeepPCB root with a few real pairs of group 00041 and split lists that also name a
    group that is not present (as the real lists do)."""
    src = deeppcb_root(shared_data)
    group, number = GROUP.split("/")
    (dst / GROUP).mkdir(parents=True)
    (dst / group / f"{number}_not").mkdir()
    lists = {"trainval.txt": ABSENT_LINE, "test.txt": ABSENT_LINE}
    for list_name, keys in (("trainval.txt", train_keys), ("test.txt", test_keys)):
        for key in keys:
            for suffix in ("_test.jpg", "_temp.jpg"):
                shutil.copy(src / GROUP / f"{key}{suffix}", dst / GROUP / f"{key}{suffix}")
            label = f"{group}/{number}_not/{key}.txt"
            shutil.copy(src / label, dst / label)
            lists[list_name] += f"{GROUP}/{key}.jpg {label}\n"
    for name, text in lists.items():
        (dst / name).write_text(text)
    return dst


_TRAINED: dict[str, Path] = {}


def tiny_detector(shared_data: Path, work: Path, input_mode: str = "plain") -> Path:
    """A real YOLO model trained 1 epoch on 4 pairs at 160 px with `inspection train-detector`
    (about 10 s on 2 cores); trained once per test session and mode. The ultralytics run stays
    in `work/run_<mode>/run` (its last.pt packages again with --from-checkpoint)."""
    if input_mode in _TRAINED:
        return _TRAINED[input_mode]
    data = make_deeppcb_subset(shared_data, work / f"deeppcb_{input_mode}")
    out = work / "models" / f"tiny_{input_mode}"
    result = run_inspection(
        "train-detector",
        "--data", str(data),
        "--out", str(out),
        "--input-mode", input_mode,
        "--epochs", "1",
        "--imgsz", "160",
        "--batch", "4",
        "--no-val",
        "--work-dir", str(work / f"run_{input_mode}"),
        timeout=240,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    _TRAINED[input_mode] = out
    return out

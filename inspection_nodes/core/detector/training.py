"""Train an ultralytics YOLO detector offline and export it to ONNX.

ultralytics (AGPL-3.0) downloads fonts, weights and settings on first use; a cell has no network.
`prepare_offline` points its config directory into the work directory, switches off downloads,
auto-installs and telemetry, and provides the font it plots with (DejaVuSans copied as Arial).
It must run before the first `import ultralytics` of the process, which reads those settings once.

The network is built from `yolo11n.yaml` (random initialisation: no weights can be fetched).
The model written is the LAST epoch's, not ultralytics' best.pt: the val split is the test split
here, so picking the best epoch on it would leak test data into model selection.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from inspection_nodes.core.detector import deeppcb, yolo_dataset
from inspection_nodes.core.io.mvtec import DatasetError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


class TrainingError(RuntimeError):
    """Training or export failed (ultralytics error, missing font, no weights written)."""


@dataclass(frozen=True)
class TrainConfig:
    """Training settings; every field is recorded in the model's manifest."""

    architecture: str = "yolo11n.yaml"
    epochs: int = 30
    imgsz: int = 640
    batch: int = 8
    seed: int = 0
    device: str = "cpu"
    threads: int = 2
    fraction: float = 1.0
    close_mosaic: int = 10
    validate_every_epoch: bool = True
    precision: str = "auto"
    nominal_batch: int = 16

    def validate(self) -> TrainConfig:
        checks = (
            ("epochs", self.epochs >= 1, "must be >= 1"),
            ("imgsz", self.imgsz >= 32 and self.imgsz % 32 == 0, "must be a multiple of 32"),
            ("batch", self.batch >= 1, "must be >= 1"),
            ("threads", self.threads >= 1, "must be >= 1"),
            ("fraction", 0.0 < self.fraction <= 1.0, "must be in (0, 1]"),
            ("close_mosaic", self.close_mosaic >= 0, "must be >= 0"),
            ("device", self.device in ("cpu", "cuda"), "must be cpu or cuda"),
            ("precision", self.precision in PRECISIONS, f"must be one of {PRECISIONS}"),
            ("nominal_batch", self.nominal_batch >= self.batch, "must be >= batch"),
        )
        for name, ok, why in checks:
            if not ok:
                raise ValueError(f"{name}={getattr(self, name)!r} {why}")
        return self


@dataclass
class PreparedData:
    """A YOLO-layout dataset ready for ultralytics (absolute paths in `train_yaml`)."""

    spec: yolo_dataset.DataSpec
    train_yaml: Path
    dataset_hash: str
    source_layout: str
    counts: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class TrainResult:
    """What training produced; `weights` is the last epoch's checkpoint."""

    weights: Path
    onnx: Path
    train_s: float
    epochs_run: int
    history: list[dict[str, float]]


def font_file() -> Path:
    """DejaVuSans.ttf shipped with matplotlib (an ultralytics dependency, so always present)."""
    import matplotlib

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    if not path.is_file():
        raise TrainingError(f"{path} is missing: ultralytics needs a font to plot offline")
    return path


def prepare_offline(config_dir: Path) -> Path:
    """Set the ultralytics environment for an offline run; returns its settings directory."""
    config_dir = Path(config_dir).resolve()
    user_dir = config_dir / "Ultralytics"  # ultralytics appends this to YOLO_CONFIG_DIR
    user_dir.mkdir(parents=True, exist_ok=True)
    for name in ("Arial.ttf", "Arial.Unicode.ttf"):
        if not (user_dir / name).is_file():
            shutil.copyfile(font_file(), user_dir / name)
    os.environ["YOLO_CONFIG_DIR"] = str(config_dir)
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ["YOLO_AUTOINSTALL"] = "0"
    os.environ.setdefault("MPLCONFIGDIR", str(config_dir / "matplotlib"))
    return user_dir


def prepare_data(data: Path, work_dir: Path, input_mode: str | None) -> PreparedData:
    """YOLO layout as is, or DeepPCB converted into `work_dir/yolo` (official split).

    `input_mode` None takes the dataset's own (a YOLO data.yaml's `input_mode`, plain for
    DeepPCB). A YOLO layout cannot be re-composed, so asking another mode for it is an error.
    """
    data, work_dir = Path(data), Path(work_dir)
    if deeppcb.is_deeppcb(data):
        mode = input_mode or "plain"
        report = deeppcb.convert(data, work_dir / "yolo", mode)
        spec = yolo_dataset.read_data_yaml(report.data_yaml)
        layout, digest = "deeppcb", f"{report.dataset_hash}:{mode}"
        counts = report.boxes_per_class
    else:
        spec = yolo_dataset.read_data_yaml(data)
        if input_mode and input_mode != spec.input_mode:
            raise DatasetError(
                f"{spec.yaml_path}: dataset input_mode is {spec.input_mode!r}, not {input_mode!r}"
            )
        layout, digest = "yolo", yolo_dataset.dataset_hash(spec)
        counts = {s: yolo_dataset.count_boxes(spec, s) for s in ("train", "val")}
    work_dir.mkdir(parents=True, exist_ok=True)
    train_yaml = work_dir / "train_data.yaml"
    lines = [
        f"train: {spec.splits['train']}",
        f"val: {spec.splits['val']}",
        "names:",
        *(f"  {i}: {name}" for i, name in enumerate(spec.class_names)),
    ]
    train_yaml.write_text("\n".join(lines) + "\n")
    return PreparedData(spec, train_yaml, digest, layout, counts)


def augmentation(input_mode: str) -> dict[str, float]:
    """Augmentations that keep the input's meaning.

    No hue/saturation jitter (in template mode the channels are tested/template/difference, and
    a hue shift would mix them); flips both ways (a PCB defect has no orientation); no rotation or
    shear beyond the default 0 (boxes are axis-aligned). Brightness jitter only in plain mode.
    """
    return {
        "hsv_h": 0.0,
        "hsv_s": 0.0,
        "hsv_v": 0.4 if input_mode == "plain" else 0.0,
        "fliplr": 0.5,
        "flipud": 0.5,
        "mixup": 0.0,
    }


def resolve_precision(config: TrainConfig) -> str:
    """The precision `auto` means here: fp16 AMP on CUDA, bf16 on a CPU with native bf16.

    On this project's AVX512-BF16 CPU one yolo11n step (batch 8, 640 px) measured 2.15 s in
    fp32 and 0.76 s in bf16 with channels-last; autocast keeps weights, optimizer state and the
    softmax/loss reductions in fp32, so only convolution and matmul inputs are rounded.
    """
    if config.precision != "auto":
        return config.precision
    if config.device == "cuda":
        return "fp16"
    import torch

    return "bf16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "fp32"


@contextlib.contextmanager
def cpu_bf16_training(model) -> Iterator[None]:
    """Let ultralytics' trainer run `model` with bf16 autocast and channels-last on the CPU.

    ultralytics' `autocast` helper accepts bf16 only on CUDA and its trainer keeps the model
    NCHW off CUDA; both are CUDA policies, not limits of torch. The trainer module's `autocast`
    name is swapped for the duration of the run, and the model is made channels-last when
    training starts (after the optimizer holds the parameters: `.to()` keeps them the same
    objects).
    """
    import torch
    import ultralytics.engine.trainer as trainer_module

    def autocast(
        enabled: bool | torch.dtype, device: str = "cpu"
    ) -> contextlib.AbstractContextManager:
        return torch.amp.autocast("cpu", dtype=torch.bfloat16, enabled=bool(enabled))

    def channels_last(trainer) -> None:
        trainer.model.to(memory_format=torch.channels_last)

    model.add_callback("on_train_start", channels_last)
    original = trainer_module.autocast
    trainer_module.autocast = autocast
    try:
        yield
    finally:
        trainer_module.autocast = original


def train(prepared: PreparedData, run_dir: Path, config: TrainConfig) -> TrainResult:
    """Train from the architecture yaml and export the last checkpoint to ONNX at `imgsz`.

    Call `prepare_offline` first. torch threads are capped at `config.threads` (ultralytics
    would otherwise take every core but one).
    """
    config.validate()
    import ultralytics.utils.torch_utils as torch_utils
    from ultralytics import YOLO, settings

    settings.update({"sync": False})
    torch_utils.NUM_THREADS = config.threads  # ultralytics re-applies it in select_device
    run_dir = Path(run_dir).resolve()
    precision = resolve_precision(config)
    model = YOLO(config.architecture)
    cpu_bf16 = precision == "bf16" and config.device == "cpu"
    started = time.perf_counter()
    try:
        with cpu_bf16_training(model) if cpu_bf16 else contextlib.nullcontext():
            model.train(
                data=str(prepared.train_yaml),
                epochs=config.epochs,
                imgsz=config.imgsz,
                batch=config.batch,
                seed=config.seed,
                deterministic=True,
                device="cpu" if config.device == "cpu" else 0,
                workers=0 if config.device == "cpu" else 4,
                fraction=config.fraction,
                close_mosaic=config.close_mosaic,
                val=config.validate_every_epoch,
                project=str(run_dir.parent),
                name=run_dir.name,
                exist_ok=True,
                pretrained=False,
                amp={"fp32": False, "fp16": True, "bf16": "bf16"}[precision],
                nbs=config.nominal_batch,
                plots=False,
                verbose=False,
                **augmentation(prepared.spec.input_mode),
            )
    except Exception as exc:  # ultralytics raises plain Exceptions of many kinds
        raise TrainingError(f"training failed: {exc}") from exc
    train_s = time.perf_counter() - started
    weights = run_dir / "weights" / "last.pt"
    if not weights.is_file():
        raise TrainingError(f"training wrote no {weights}")
    history = read_history(run_dir)
    return TrainResult(weights, export_onnx(weights, config.imgsz), train_s, len(history), history)


def from_checkpoint(weights: Path, imgsz: int) -> tuple[TrainResult, dict]:
    """Package a checkpoint trained elsewhere (a GPU box) or stopped early: ONNX export, history
    from the run's results.csv beside `weights/`, and the training arguments it carries.

    Returns the TrainResult (train_s = the run's cumulative training time) and those arguments.
    """
    import torch

    weights = Path(weights).resolve()
    try:
        ckpt = torch.load(weights, map_location="cpu", weights_only=False)
        train_args = dict(ckpt["train_args"])
    except (OSError, KeyError, TypeError, RuntimeError) as exc:
        raise TrainingError(f"{weights}: not an ultralytics checkpoint ({exc})") from None
    history = read_history(weights.parent.parent)
    epoch = int(ckpt.get("epoch", -1))  # 0-based; -1 once ultralytics finished the run
    epochs_run = epoch + 1 if epoch >= 0 else len(history)
    history = history[:epochs_run]  # a run stopped between results.csv and last.pt
    result = TrainResult(
        weights=weights,
        onnx=export_onnx(weights, imgsz),
        train_s=history[-1].get("time", 0.0) if history else 0.0,
        epochs_run=epochs_run,
        history=history,
    )
    return result, train_args


def export_onnx(weights: Path, imgsz: int) -> Path:
    """Fixed-size (1, 3, imgsz, imgsz) ONNX export of a checkpoint, next to it."""
    from ultralytics import YOLO

    try:
        path = YOLO(str(weights)).export(
            format="onnx", imgsz=imgsz, dynamic=False, simplify=False, half=False, device="cpu"
        )
    except Exception as exc:
        raise TrainingError(f"ONNX export of {weights} failed: {exc}") from exc
    return Path(path)


def read_history(run_dir: Path) -> list[dict[str, float]]:
    """Per-epoch rows of ultralytics' results.csv (losses, val mAP, time), numbers only."""
    import csv

    path = Path(run_dir) / "results.csv"
    if not path.is_file():
        return []
    rows = []
    with path.open() as f:
        for row in csv.DictReader(f):
            parsed = {}
            for key, value in row.items():
                try:
                    parsed[key.strip()] = float(value)
                except (TypeError, ValueError):
                    continue
            rows.append(parsed)
    return rows

"""`inspection train-detector`: train YOLO offline, export ONNX, evaluate, register the model."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from inspection_nodes.core.detector.deeppcb import INPUT_MODES
from inspection_nodes.core.detector.training import PRECISIONS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train-detector",
        help="train a YOLO detector (YOLO or DeepPCB layout) into a model directory",
    )
    parser.add_argument(
        "--data", required=True, type=Path, help="YOLO layout (data.yaml) or DeepPCB root"
    )
    parser.add_argument("--out", required=True, type=Path, help="model directory to write")
    parser.add_argument(
        "--input-mode",
        choices=INPUT_MODES,
        default=None,
        help="plain tested image or template-as-extra-input (default: the dataset's; plain)",
    )
    add_training_options(parser)
    parser.add_argument(
        "--fraction", type=float, default=1.0, help="fraction of the train split to use"
    )
    parser.add_argument("--close-mosaic", type=int, default=10, help="last epochs without mosaic")
    parser.add_argument(
        "--no-val", action="store_true", help="validate only after the last epoch (faster)"
    )
    parser.add_argument(
        "--from-checkpoint",
        type=Path,
        default=None,
        help="package an ultralytics last.pt (trained elsewhere or stopped early) instead",
    )
    parser.add_argument(
        "--work-dir", type=Path, default=None, help="keep the ultralytics run here (default: temp)"
    )
    parser.add_argument(
        "--registry",
        type=Path,
        default=None,
        help="detector registry JSON (default: OUT/../detector_registry.json)",
    )
    parser.set_defaults(func=run)


def add_training_options(parser: argparse.ArgumentParser) -> None:
    """Options shared with retrain-detector (same names and defaults)."""
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--imgsz", type=int, default=640)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch / ONNX Runtime CPU threads")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="training precision (auto: bf16 on a CPU with native bf16, fp16 AMP on CUDA)",
    )
    parser.add_argument(
        "--nominal-batch",
        type=int,
        default=16,
        help="images per optimizer step (gradients of batch-sized steps are accumulated)",
    )
    parser.add_argument(
        "--int8-images",
        type=int,
        default=32,
        help="train images that calibrate the INT8 model (0 = no INT8 model)",
    )


def _train_config(args: argparse.Namespace):
    from inspection_nodes.core.detector.training import TrainConfig

    return TrainConfig(
        epochs=args.epochs,
        imgsz=args.imgsz,
        batch=args.batch,
        seed=args.seed,
        device=args.device,
        threads=args.threads,
        fraction=args.fraction,
        close_mosaic=args.close_mosaic,
        validate_every_epoch=not args.no_val,
        precision=args.precision,
        nominal_batch=args.nominal_batch,
    ).validate()


def _train_or_package(args: argparse.Namespace, prepared, work_dir: Path, config):
    """A fresh training, or a checkpoint trained elsewhere; with the settings to record."""
    from inspection_nodes.core.detector import training

    if args.from_checkpoint is None:
        result = training.train(prepared, work_dir / "run", config)
        settings = {
            **asdict(config),
            "precision": training.resolve_precision(config),
            "weights": "last epoch",
        }
        return result, settings
    result, train_args = training.from_checkpoint(args.from_checkpoint, config.imgsz)
    keys = ("epochs", "imgsz", "batch", "seed", "close_mosaic", "fraction", "optimizer")
    settings = {
        **{k: train_args.get(k) for k in keys},
        "weights": f"checkpoint {args.from_checkpoint.name} after epoch {result.epochs_run}",
    }
    return result, settings


def _manifest(args: argparse.Namespace, prepared, config, result, settings: dict) -> dict:
    import ultralytics

    return {
        "architecture": Path(config.architecture).stem,
        "class_names": list(prepared.spec.class_names),
        "input_mode": prepared.spec.input_mode,
        "imgsz": config.imgsz,
        "dataset": {
            "path": str(args.data),
            "layout": prepared.source_layout,
            "hash": prepared.dataset_hash,
            "boxes_per_class": prepared.counts,
        },
        "training": {
            **settings,
            "train_s": round(result.train_s, 1),
            "epochs_run": result.epochs_run,
            "epoch_s": round(result.train_s / max(1, result.epochs_run), 1),
            "ultralytics": ultralytics.__version__,
            "history": result.history,
        },
    }


def _evaluate(args: argparse.Namespace, prepared, model) -> dict:
    """Metrics of the FP32 model (and the INT8 one, quantized here when asked)."""
    from inspection_nodes.core.detector.evaluation import evaluate, load_samples
    from inspection_nodes.core.detector.yolo import DetectorConfig, YoloDetector

    if args.int8_images > 0:
        from inspection_nodes.core.detector.quantization import quantize_int8
        from inspection_nodes.core.detector.yolo_dataset import list_images
        from inspection_nodes.core.io.mvtec import read_rgb

        calibration = list_images(prepared.spec.splits["train"])[: args.int8_images]
        images = (read_rgb(path) for path in calibration)
        quantize_int8(model.onnx_path, model.int8_path, images, model.imgsz)
    split_data = args.data if prepared.source_layout == "deeppcb" else prepared.spec.yaml_path
    samples = load_samples(split_data, model.class_names)
    sections = {}
    for precision in ("fp32", "int8") if args.int8_images > 0 else ("fp32",):
        config_ = DetectorConfig(threads=args.threads, precision=precision, spin=True)
        key = "metrics" if precision == "fp32" else "metrics_int8"
        sections[key] = evaluate(YoloDetector(model, config_), samples)
    return sections


def train_and_register(args: argparse.Namespace, work_dir: Path) -> dict:
    """The whole job: data -> training -> model directory -> evaluation -> registry entry."""
    from inspection_nodes.core.detector import training
    from inspection_nodes.core.detector.registry import (
        DetectorRegistry,
        ModelStatus,
        save_model,
        update_manifest,
    )

    config = _train_config(args)
    training.prepare_offline(work_dir / "ultralytics")
    prepared = training.prepare_data(args.data, work_dir, args.input_mode)
    result, settings = _train_or_package(args, prepared, work_dir, config)
    manifest = _manifest(args, prepared, config, result, settings)
    model = save_model(args.out, result.onnx, result.weights, manifest)
    model = update_manifest(model, **_evaluate(args, prepared, model))
    default_registry = args.out.resolve().parent / "detector_registry.json"
    DetectorRegistry(args.registry or default_registry).record(model, ModelStatus.TRAINED)
    return model.manifest


def run(args: argparse.Namespace) -> int:
    from inspection_nodes.core.detector.registry import DetectorArtifactError
    from inspection_nodes.core.detector.training import TrainingError
    from inspection_nodes.core.detector.yolo import DetectorError
    from inspection_nodes.core.io.mvtec import DatasetError

    try:
        if args.work_dir is not None:
            args.work_dir.mkdir(parents=True, exist_ok=True)
            manifest = train_and_register(args, args.work_dir.resolve())
        else:
            with tempfile.TemporaryDirectory(prefix="train-detector-") as tmp:
                manifest = train_and_register(args, Path(tmp))
    except (DatasetError, TrainingError, DetectorError, DetectorArtifactError, ValueError) as exc:
        print(f"inspection train-detector: error: {exc}", file=sys.stderr)
        return 2
    m, t = manifest["metrics"], manifest["training"]
    print(
        f"trained {manifest['model_version']} ({manifest['input_mode']}) in {t['train_s']:.0f} s "
        f"({t['epochs_run']} epochs): mAP50 {m['map50']:.4f}  mAP50-95 {m['map50_95']:.4f}  "
        f"latency p50 {m['latency_ms']['p50']:.1f} ms -> {args.out}"
    )
    print(json.dumps(m["per_class_ap50"]))
    if "metrics_int8" in manifest:
        q = manifest["metrics_int8"]
        print(
            f"INT8: mAP50 {q['map50']:.4f}  mAP50-95 {q['map50_95']:.4f}  "
            f"latency p50 {q['latency_ms']['p50']:.1f} ms"
        )
    return 0

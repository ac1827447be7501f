"""`inspection retrain-detector`: retrain when a class has enough new labels; deploy if not worse.

Meant to run periodically (cron, a systemd timer, the backend) over the labelled dataset the
operators' confirmed labels flow into. Exit status: 0 nothing to do or deployed, 3 candidate
rejected (kept in the registry, not deployed), 2 error or failed job.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from inspection_nodes.cli.train_detector import add_training_options


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "retrain-detector",
        help="retrain on new confirmed labels, evaluate on a fixed val split, deploy if not worse",
    )
    parser.add_argument(
        "--data", required=True, type=Path, help="YOLO layout whose train split gets new labels"
    )
    parser.add_argument(
        "--models-dir", required=True, type=Path, help="candidates go to MODELS_DIR/<job id>"
    )
    parser.add_argument(
        "--val",
        type=Path,
        default=None,
        help="fixed validation data (YOLO layout or DeepPCB root; default: --data's val split)",
    )
    parser.add_argument(
        "--registry",
        type=Path,
        default=None,
        help="detector registry (default: MODELS_DIR/detector_registry.json)",
    )
    parser.add_argument("--min-new-labels", type=int, default=20, help="per class (default 20)")
    parser.add_argument(
        "--tolerance", type=float, default=0.0, help="allowed mAP50 drop for deployment"
    )
    parser.add_argument(
        "--deploy-dir",
        type=Path,
        default=None,
        help="copy a deployed model here (the detector node's model_path)",
    )
    parser.add_argument("--dry-run", action="store_true", help="only report whether a job is due")
    add_training_options(parser)
    parser.set_defaults(func=run)


def install(model_dir: Path, target: Path) -> None:
    """Replace `target` with a copy of `model_dir` (copy beside it, then swap)."""
    target = Path(target)
    staging = target.with_name(target.name + ".new")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(model_dir, staging)
    old = target.with_name(target.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)


def run(args: argparse.Namespace) -> int:
    from inspection_nodes.cli.train_detector import train_and_register
    from inspection_nodes.core.detector import yolo_dataset
    from inspection_nodes.core.detector.evaluation import evaluate, load_samples, samples_hash
    from inspection_nodes.core.detector.registry import DetectorRegistry
    from inspection_nodes.core.detector.retrain import RetrainPolicy, RetrainStatus, RetrainTrigger
    from inspection_nodes.core.detector.yolo import DetectorConfig, YoloDetector
    from inspection_nodes.core.io.mvtec import DatasetError

    try:
        spec = yolo_dataset.read_data_yaml(args.data)
        val_data = args.val or spec.yaml_path
        registry = DetectorRegistry(args.registry or args.models_dir / "detector_registry.json")
        trigger = RetrainTrigger(registry, RetrainPolicy(args.min_new_labels, args.tolerance))
        val_hash = samples_hash(load_samples(val_data, list(spec.class_names)))
        counts = yolo_dataset.count_boxes(spec, "train")
        job = trigger.check(counts, yolo_dataset.dataset_hash(spec), val_hash)
    except (DatasetError, ValueError) as exc:
        print(f"inspection retrain-detector: error: {exc}", file=sys.stderr)
        return 2
    if job is None:
        print(f"no retrain due (threshold {args.min_new_labels} new labels per class)")
        return 0
    print(f"retrain due: {json.dumps(job.new_labels)} -> classes {', '.join(job.due_classes)}")
    if args.dry_run:
        return 0

    def train(job) -> Path:
        out = args.models_dir / job.job_id
        train_args = argparse.Namespace(
            **{
                k: getattr(args, k)
                for k in (
                    "epochs",
                    "imgsz",
                    "batch",
                    "seed",
                    "threads",
                    "int8_images",
                    "device",
                    "precision",
                    "nominal_batch",
                )
            },
            data=args.data,
            out=out,
            input_mode=None,
            fraction=1.0,
            close_mosaic=10,
            no_val=True,
            from_checkpoint=None,
            registry=registry.path,
        )
        work = args.models_dir / ".work" / job.job_id
        work.mkdir(parents=True, exist_ok=True)
        try:
            train_and_register(train_args, work.resolve())
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return out

    def evaluate_on_val(model_dir: Path) -> dict:
        detector = YoloDetector.load(model_dir, DetectorConfig(threads=args.threads))
        return evaluate(detector, load_samples(val_data, detector.class_names))

    outcome = trigger.run(job, train, evaluate_on_val)
    print(f"{outcome.status}: {outcome.reason} ({outcome.candidate})")
    if outcome.status == RetrainStatus.DEPLOYED and args.deploy_dir is not None:
        install(outcome.candidate, args.deploy_dir)
        print(f"installed into {args.deploy_dir}")
    return {RetrainStatus.DEPLOYED: 0, RetrainStatus.REJECTED: 3}.get(outcome.status, 2)

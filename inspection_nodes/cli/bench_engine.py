"""`inspection bench engine`: this engine vs anomalib's PatchcoreModel, side by side.

Same backbone (EfficientNet-Lite0 blocks.2 + blocks.4, shipped ImageNet weights), same 224 px
input (area resize of the whole image, core/roi.resize), mean = std = 0.5, coreset 10 %,
anomalib with 9 neighbours; both evaluated by the same code (pixel AUROC at 224 px). Writes a
Markdown table.
Not part of the tests (minutes of CPU).
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from pathlib import Path

DATASETS = ("mvtec_ad/bottle", "mpdd/metal_plate", "aws_lookout_cookies/cookies")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("engine", help="anomaly engine vs anomalib PatchCore")
    parser.add_argument("--data-dir", type=Path, default=None, help="default ../shared/data")
    parser.add_argument("--json", type=Path, default=Path("out/bench/engine.json"))
    parser.add_argument("--out", type=Path, default=None, help="Markdown (default: JSON .md)")
    parser.add_argument("--datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--skip-anomalib", action="store_true")
    parser.add_argument(
        "--memory-cap-gb",
        type=float,
        default=12.0,
        help="stop an engine's child process above this RSS (the machine is shared)",
    )
    parser.set_defaults(func=run)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _anomalib(category: Path, size: int) -> dict:
    """Enroll and evaluate anomalib's PatchcoreModel (torch, CPU) with our weights."""
    import numpy as np
    import torch
    from anomalib.models.image.patchcore.torch_model import PatchcoreModel

    from inspection_nodes.core.anomaly import metrics
    from inspection_nodes.core.anomaly.backbone import load_positional, load_weights
    from inspection_nodes.core.common.timing import percentile_ms
    from inspection_nodes.core.io import mvtec

    model = PatchcoreModel(
        layers=["blocks.2", "blocks.4"],
        backbone="efficientnet_lite0",
        pre_trained=False,
        num_neighbors=9,
    )
    import timm

    full = timm.create_model("efficientnet_lite0", pretrained=False)
    load_positional(full, load_weights("efficientnet_lite0"))
    target = model.feature_extractor.feature_extractor.state_dict()
    weights = {k: v for k, v in full.state_dict().items() if k in target}
    missing, _ = model.feature_extractor.feature_extractor.load_state_dict(weights, strict=False)
    if missing:
        raise RuntimeError(f"anomalib backbone weights not loaded: {missing[:3]}")

    def tensor(img: np.ndarray) -> torch.Tensor:
        return (torch.from_numpy(img).permute(2, 0, 1).float()[None] / 255.0 - 0.5) / 0.5

    train = [mvtec.read_rgb(p, size) for p in mvtec.list_train_images(category)]
    t0 = time.perf_counter()
    model.train()
    for i in range(0, len(train), 8):
        model(torch.cat([tensor(x) for x in train[i : i + 8]]))
    model.subsample_embedding(0.1)
    enroll_s = time.perf_counter() - t0
    model.eval()
    samples = mvtec.list_test_samples(category)
    scores, maps, lat = [], [], []
    with torch.no_grad():
        for s in samples:
            x = tensor(mvtec.read_rgb(s.path, size))
            t = time.perf_counter()
            out = model(x)
            lat.append(time.perf_counter() - t)
            scores.append(float(out.pred_score))
            maps.append(out.anomaly_map[0, 0].numpy())
    labels = np.array([s.label for s in samples])
    masks = np.stack([mvtec.read_mask(s.mask_path, (size, size)) for s in samples])
    return {
        "image_auroc": metrics.auroc(labels, scores),
        "pixel_auroc": metrics.auroc(masks, np.stack(maps)),
        "margin": metrics.score_margin(labels, scores),
        "latency_ms": {
            "p50": percentile_ms(lat, 50),
            "p99": percentile_ms(lat, 99),
        },
        "enroll_s": enroll_s,
        "bank_size": int(model.memory_bank.shape[0]),
        "bank_mb": model.memory_bank.numel() * 4 / 1e6,
        "peak_rss_mb": _peak_rss_mb(),
    }


def _ours(category: Path, model_dir: Path) -> dict:
    from inspection_nodes.cli.evaluate import evaluate_engine
    from inspection_nodes.core.anomaly.engine import AnomalyEngine
    from inspection_nodes.core.anomaly.enrollment import enroll_images
    from inspection_nodes.core.io import mvtec

    paths = mvtec.list_train_images(category)
    images = [mvtec.read_rgb(p) for p in paths]
    t0 = time.perf_counter()
    enroll_images(images, [p.name for p in paths], model_dir)
    enroll_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    engine = AnomalyEngine.load(model_dir, spin=True)  # as `inspection evaluate`
    load_s = time.perf_counter() - t0
    result = evaluate_engine(engine, category)
    result.update(
        enroll_s=enroll_s,
        load_s=load_s,
        bank_mb=engine.memory_bytes / 1e6,
        peak_rss_mb=_peak_rss_mb(),
    )
    return result


def _rss_gb(pid: int) -> float:
    """Resident set of a live process (Linux /proc), 0 when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1e6
    except OSError:
        pass
    return 0.0


def _isolated(kind: str, category: Path, model_dir: Path, memory_cap_gb: float) -> dict:
    """Run one engine in a child process: torch's threads cannot slow the other engine, and an
    engine that dies or outgrows `memory_cap_gb` (anomalib's coreset reached 23 GB on cookies
    here, and the kernel's OOM killer may pick another process) costs one row, not the
    benchmark or the machine."""
    import subprocess
    import sys

    cmd = [
        sys.executable,
        "-m",
        "inspection_nodes.cli.bench_engine",
        kind,
        str(category),
        str(model_dir),
    ]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, text=True)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, _rss_gb(proc.pid))
            if peak > memory_cap_gb:
                proc.kill()
                proc.wait()
                return {"error": f"{kind} stopped at {peak:.1f} GB RSS (cap {memory_cap_gb} GB)"}
            time.sleep(0.2)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if proc.returncode != 0:
        tail = (stderr or stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": f"{kind} exited with code {proc.returncode}: {tail[0][:200]}"}
    return json.loads(stdout.strip().splitlines()[-1])


def _table(rows: list[tuple[str, str, dict]]) -> str:
    head = (
        "| data set | engine | image AUROC | pixel AUROC | margin | p50 ms | p99 ms | "
        "enroll s | bank rows | bank MB | peak RSS MB |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for name, who, r in rows:
        if "error" in r:
            lines.append(f"| {name} | {who} | {r['error']} |" + " |" * 8)
            continue
        lines.append(
            f"| {name} | {who} | {r['image_auroc']:.4f} | {r['pixel_auroc']:.4f} | "
            f"{r['margin']:+.3f} | {r['latency_ms']['p50']:.2f} | {r['latency_ms']['p99']:.2f} | "
            f"{r['enroll_s']:.1f} | {r['bank_size']} | {r['bank_mb']:.1f} | "
            f"{r['peak_rss_mb']:.0f} |"
        )
    return head + "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    from inspection_nodes.core.io.mvtec import default_data_dir

    data_dir = args.data_dir or default_data_dir()
    rows: list[tuple[str, str, dict]] = []
    raw: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets:
            category = data_dir / name
            short = Path(name).name
            raw[short] = {
                "ours": _isolated("ours", category, Path(tmp) / short, args.memory_cap_gb)
            }
            rows.append((short, "this engine (ONNX Runtime)", raw[short]["ours"]))
            if not args.skip_anomalib:
                raw[short]["anomalib"] = _isolated(
                    "anomalib", category, Path(tmp) / short, args.memory_cap_gb
                )
                rows.append((short, "anomalib PatchcoreModel (torch)", raw[short]["anomalib"]))
                if "error" not in raw[short]["anomalib"] and "error" not in raw[short]["ours"]:
                    raw[short]["speedup_p50"] = (
                        raw[short]["anomalib"]["latency_ms"]["p50"]
                        / raw[short]["ours"]["latency_ms"]["p50"]
                    )
            print(_table(rows[-2:] if not args.skip_anomalib else rows[-1:]), flush=True)
    table = _table(rows)
    speed = "".join(
        f"- {k}: p50 speed-up x{v['speedup_p50']:.1f}\n"
        for k, v in raw.items()
        if "speedup_p50" in v
    )
    markdown = args.out or args.json.with_suffix(".md")
    for path in (markdown, args.json):
        path.parent.mkdir(parents=True, exist_ok=True)
    markdown.write_text("# Anomaly engine benchmark\n\n" + table + "\n" + speed)
    args.json.write_text(json.dumps(raw, indent=2, default=float) + "\n")
    print(table + speed + f"written {markdown} and {args.json}")
    return 0


if __name__ == "__main__":
    # Worker mode of _isolated(): `python -m ... {ours|anomalib} CATEGORY MODEL_DIR`, JSON out.
    import sys

    _kind, _category, _model_dir = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    if _kind == "anomalib":
        import torch

        torch.set_num_threads(2)
        _result = _anomalib(_category, 224)
    else:
        _result = _ours(_category, _model_dir)
    print(json.dumps(_result, default=float))

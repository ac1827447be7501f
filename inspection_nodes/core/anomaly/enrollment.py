"""Enrollment: a new station's model directory from its normal images.

    manifest = enroll_images(images, names, "models/bottle", EnrollConfig(), data_hash=...)

1. export the backbone to ONNX in the model directory and embed every image with the chosen
   backend (the file the cell runs is the one that made the bank);
2. fit the model on the images not held out (`holdout_fraction` of them, at least one);
3. score the held-out images and calibrate thresholds (core/anomaly/thresholds.py);
4. add the held-out images to the model incrementally, so no good image is wasted;
5. save the artifact (core/anomaly/artifact.py) with its manifest (core/anomaly/manifest.py) and
   the stability baseline (core/stability/baseline.py: held-out scores, feature and image
   statistics), which the stability node compares production against.

A running station gets new versions from core/anomaly/recalibration.py instead.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspection_nodes.core.anomaly import thresholds
from inspection_nodes.core.anomaly.artifact import ModelState, read_manifest, save_artifact
from inspection_nodes.core.anomaly.backends import create_backend
from inspection_nodes.core.anomaly.engine import (
    EngineError,
    Scorer,
    build_scorer,
    check_roi,
    preprocess,
)
from inspection_nodes.core.anomaly.feature_aggregation import aggregate_batch
from inspection_nodes.core.anomaly.manifest import (
    BackboneInfo,
    BuildSettings,
    DatasetInfo,
    Method,
    ModelManifest,
    ModelMetrics,
    make_version,
)
from inspection_nodes.core.anomaly.padim import model as padim
from inspection_nodes.core.anomaly.patchcore import fit as patchcore
from inspection_nodes.core.anomaly.patchcore.anomaly_map import AnomalyMapGenerator
from inspection_nodes.core.anomaly.patchcore.model import configure_search_threads
from inspection_nodes.core.common.provenance import code_version, utc_now
from inspection_nodes.core.inference.backends import BackendError, FeatureBackend
from inspection_nodes.core.stability import baseline as stability_baseline

# EnrollConfig fields recorded as they are in the manifest's BuildSettings
SHARED_SETTINGS = ("coreset_ratio", "holdout_fraction", "quantile", "margin", "seed")


@dataclass(frozen=True)
class EnrollConfig:
    """Enrollment settings; the defaults are the one configuration used for every data set."""

    # what is built
    method: Method = Method.PATCHCORE
    backbone: str = "efficientnet_lite0"
    input_size: int = 224
    coreset_ratio: float = 0.1
    holdout_fraction: float = 0.2
    quantile: float = 0.99
    margin: float = 0.25
    seed: int = 0
    # where the backbone runs while embedding the images
    backend: str = "onnxruntime"
    device: str = "cpu"


def embed_images(
    backend: FeatureBackend, images: Sequence[np.ndarray], input_size: int, batch: int = 8
) -> np.ndarray:
    """uint8 RGB images -> float32 (N, h, w, c) features, in batches."""
    chunks = []
    buf = np.empty((batch, 3, input_size, input_size), dtype=np.float32)
    for start in range(0, len(images), batch):
        part = images[start : start + batch]
        for i, img in enumerate(part):
            check_roi(img)
            preprocess(img, input_size, buf[i])
        chunks.append(aggregate_batch(backend(buf[: len(part)])))
    return np.concatenate(chunks)


def holdout_scores(
    scorer: Scorer, feats: np.ndarray, input_size: int
) -> tuple[list[float], list[np.ndarray]]:
    """Image scores and (S, S) anomaly maps of held-out features (N, h, w, c), for thresholds."""
    maps = AnomalyMapGenerator(input_size)
    _, h, w, c = feats.shape
    scores, pixels = [], []
    for feat in feats:
        pixel, image, _ = scorer.score_patches(feat.reshape(h * w, c))
        pixels.append(maps(pixel.reshape(h, w), (input_size, input_size)))
        scores.append(maps.image_score(image.reshape(h, w)))
    return scores, pixels


@dataclass(frozen=True)
class _Backbone:
    """The exported backbone: what the manifest records and the backend that embeds."""

    info: BackboneInfo
    shallow_channels: int
    onnx_path: Path
    runner: FeatureBackend


def _export_backbone(config: EnrollConfig, out: Path) -> _Backbone:
    import torch

    from inspection_nodes.core.anomaly import backbone as bb
    from inspection_nodes.core.anomaly.onnx_export import export_onnx

    try:
        spec = bb.get_spec(config.backbone)
        # One torch thread: the export is small, and torch's idle OpenMP threads spin on the
        # cores ONNX Runtime embeds the images with next (measured: embedding phase 2.2-3.8 s
        # with one thread, 3.6-9.1 s with two, interleaved on the 2-core dev VM). Before the
        # core-by-stage layout this held by accident (faiss's thread call reached torch's
        # OpenMP runtime); it is explicit here.
        torch.set_num_threads(1)
        onnx_path = export_onnx(
            bb.build_backbone(config.backbone), out / "backbone.onnx", config.input_size
        )
        runner = create_backend(config.backend, onnx_path, config.backbone, config.device)
    except (bb.BackboneError, BackendError) as exc:
        raise EngineError(str(exc)) from exc
    info = BackboneInfo(
        name=config.backbone,
        layers=tuple(spec.layers),
        weights=bb.weights_version(config.backbone),
        mean=tuple(spec.mean),
        std=tuple(spec.std),
    )
    return _Backbone(info, spec.channels[0], onnx_path, runner)


def patchcore_config(config: EnrollConfig, shallow_channels: int) -> patchcore.PatchCoreConfig:
    """The PatchCore settings of an enrollment (the rest are PatchCoreConfig's defaults)."""
    return patchcore.PatchCoreConfig(
        coreset_ratio=config.coreset_ratio, shallow_channels=shallow_channels, seed=config.seed
    )


def _fit(
    config: EnrollConfig, feats: np.ndarray, names: list[str], shallow_channels: int
) -> ModelState:
    if config.method == Method.PATCHCORE:
        return patchcore.fit_patchcore(feats, names, patchcore_config(config, shallow_channels))
    return padim.fit_padim(feats, seed=config.seed)


def _add_normals(
    config: EnrollConfig, state: ModelState, feats: np.ndarray, names: list[str], shallow: int
) -> ModelState:
    if config.method == Method.PATCHCORE:
        return patchcore.add_normals(state, feats, names, patchcore_config(config, shallow))
    return padim.add_normals(state, feats)


def _manifest(
    config: EnrollConfig,
    backbone: _Backbone,
    feature_shape: tuple[int, ...],
    dataset: DatasetInfo,
    metrics: ModelMetrics,
) -> ModelManifest:
    created = utc_now()
    pc_config = patchcore_config(config, backbone.shallow_channels)
    return ModelManifest(
        model_version=make_version(
            config.method, config.backbone, dataset.hash or "nohash", created
        ),
        method=Method(config.method),
        backbone=backbone.info,
        input_size=config.input_size,
        feature_shape=tuple(int(v) for v in feature_shape),
        dataset=dataset,
        code_version=code_version(),
        created=created,
        config=BuildSettings(
            **{name: getattr(config, name) for name in SHARED_SETTINGS},
            shallow_weight=pc_config.shallow_weight,
            search_dim=pc_config.search_dim,
            enroll_backend=config.backend,
        ),
        metrics=metrics,
    )


def enroll_images(
    images: Sequence[np.ndarray],
    names: Sequence[str],
    out_dir: str | Path,
    config: EnrollConfig | None = None,
    data_path: str | None = None,
    data_hash: str | None = None,
) -> ModelManifest:
    """Build a model directory from normal images and return its manifest (steps above).

    Args:
        images: uint8 RGB (H, W, 3) normal images (resized to input_size).
        names: one name per image (reported as nearest normals).
        data_path, data_hash: where the images came from, recorded in the manifest.

    Raises:
        EngineError: bad images, too few images, or a backend that cannot run here.
    """
    config = config or EnrollConfig()
    if config.method not in tuple(Method):
        raise EngineError(f"unknown method {config.method!r}; choose patchcore or padim")
    if len(images) != len(names) or len(images) < 2:
        raise EngineError(f"need at least 2 normal images with names, got {len(images)}")
    configure_search_threads()  # before torch and faiss start their thread pools
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    backbone = _export_backbone(config, out)
    feats = embed_images(backbone.runner, images, config.input_size)
    t_embed = time.perf_counter() - t0
    fit_idx, hold_idx = thresholds.split_holdout(len(images), config.holdout_fraction, config.seed)
    names = list(names)
    shallow = backbone.shallow_channels
    state = _fit(config, feats[fit_idx], [names[i] for i in fit_idx], shallow)
    feature_shape = feats.shape[1:]
    hold_scores, hold_maps = holdout_scores(
        build_scorer(state, feature_shape), feats[hold_idx], config.input_size
    )
    calib = thresholds.calibrate(
        np.array(hold_scores), np.stack(hold_maps), config.quantile, config.margin
    )
    state = _add_normals(config, state, feats[hold_idx], [names[i] for i in hold_idx], shallow)
    metrics = ModelMetrics(
        enroll_s=round(time.perf_counter() - t0, 3),
        embed_s=round(t_embed, 3),
        bank_size=state.size,
        bank_bytes=state.nbytes,
        holdout_image_max=calib.holdout_image_max,
    )
    dataset = DatasetInfo(len(images), len(hold_idx), data_path, data_hash)
    manifest = _manifest(config, backbone, feature_shape, dataset, metrics)
    save_artifact(out, manifest, calib, backbone.onnx_path.read_bytes(), state)
    stability_baseline.save_baseline(
        out,
        stability_baseline.baseline_from_images(
            "enrollment", manifest.model_version, images, feats, hold_scores, calib.image
        ),
    )
    return read_manifest(out)

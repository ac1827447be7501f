"""Anomaly engine facade used by the embedding and scoring nodes, the CLI and the benchmark.

    engine = AnomalyEngine.load("models/bottle")           # EngineError if missing/incompatible
    patches = engine.embed(roi_rgb)                         # (28, 28, 152) float32, embedding node
    result = engine.score(patches, roi_rgb.shape[:2])       # AnomalyScore, scoring node
    picture = engine.overlay(roi_rgb, result.anomaly_map)   # uint8 RGB for rqt / evidence

`enroll_images` builds a model directory from normal images (the `inspection enroll` command and
an enroll service call it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from threadpoolctl import threadpool_limits

from inspection_nodes.core import heatmap
from inspection_nodes.core.components.backends import BackendError, FeatureBackend, create_backend
from inspection_nodes.core.components.feature_aggregation import aggregate, aggregate_batch
from inspection_nodes.core.io.roi import resize
from inspection_nodes.core.model_artifact import Artifact, ArtifactError, load_artifact
from inspection_nodes.core.padim.model import PadimModel
from inspection_nodes.core.patchcore.anomaly_map import AnomalyMapGenerator
from inspection_nodes.core.patchcore.model import PatchCoreModel

NEAREST_NORMALS = 3


class EngineError(Exception):
    """Clear, user-facing failure: missing or incompatible model, bad image or feature shape."""


@dataclass(frozen=True)
class AnomalyScore:
    """Result of scoring one ROI (see module docstring)."""

    score: float
    anomaly_map: np.ndarray
    max_pixel_score: float
    area_px: int
    largest_region_px: int
    peak: tuple[int, int]
    nearest_normals: tuple[str, ...]


def preprocess(roi_rgb: np.ndarray, size: int, out: np.ndarray) -> np.ndarray:
    """uint8 RGB (H, W, 3) -> `out` float32 (3, size, size) in [0, 1] (the roi node's area
    resize, for ROIs not already at the model size)."""
    if roi_rgb.shape[:2] != (size, size):
        roi_rgb = resize(roi_rgb, (size, size), cv2.INTER_AREA)
    np.multiply(roi_rgb.transpose(2, 0, 1), np.float32(1.0 / 255.0), out=out)
    return out


def check_roi(roi_rgb: np.ndarray) -> None:
    """Raise EngineError unless roi is uint8 (H, W, 3) with H, W >= 8."""
    if not isinstance(roi_rgb, np.ndarray) or roi_rgb.dtype != np.uint8:
        raise EngineError(
            f"ROI must be a uint8 numpy array, got {getattr(roi_rgb, 'dtype', type(roi_rgb))}"
        )
    if roi_rgb.ndim != 3 or roi_rgb.shape[2] != 3 or min(roi_rgb.shape[:2]) < 8:
        raise EngineError(f"ROI must be RGB (H, W, 3) with H, W >= 8, got shape {roi_rgb.shape}")


def build_scorer(artifact: Artifact) -> PatchCoreModel | PadimModel:
    """The kNN (PatchCore) or Mahalanobis (PaDiM) scorer of a loaded artifact."""
    h, w, _ = artifact.manifest["feature_shape"]
    if artifact.patchcore is not None:
        return PatchCoreModel(artifact.patchcore, num_patches=h * w)
    return PadimModel(artifact.padim)


class AnomalyEngine:
    """Backbone backend + scorer + thresholds of one model directory. Not thread-safe."""

    def __init__(self, artifact: Artifact, backend: FeatureBackend | None) -> None:
        manifest = artifact.manifest
        self.artifact = artifact
        self.model_dir = artifact.path
        self.input_size: int = int(manifest["input_size"])
        self.model_version: str = str(manifest["model_version"])
        self.method: str = artifact.method
        self.backend: str = backend.name if backend is not None else "none"
        self.image_threshold: float = float(artifact.thresholds.image)
        self.pixel_threshold: float = float(artifact.thresholds.pixel)
        self.feature_shape: tuple[int, int, int] = tuple(int(v) for v in manifest["feature_shape"])
        self._backend = backend
        self._scorer = build_scorer(artifact)
        self._maps = AnomalyMapGenerator(self.input_size)
        self._input = np.empty((1, 3, self.input_size, self.input_size), dtype=np.float32)
        # One BLAS thread for the process: the per-image GEMMs are small, and OpenBLAS's idle
        # threads busy-wait on the cores ONNX Runtime needs next (measured: backbone 7.0 ms
        # with two BLAS threads, 4.0 ms with one).
        threadpool_limits(1, user_api="blas")

    @classmethod
    def load(
        cls,
        model_dir: str | Path,
        backend: str = "onnxruntime",
        device: str = "cpu",
        spin: bool = False,
    ) -> AnomalyEngine:
        """Load a model directory and create the backbone backend.

        backend "none" loads only the scorer (for a scoring-only process); `spin` is for a
        process that embeds and scores back to back and owns the CPU (see OnnxRuntimeBackend).

        Raises:
            EngineError: missing/incompatible model or a backend that cannot run here.
        """
        try:
            artifact = load_artifact(Path(model_dir))
            runner = None
            if backend != "none":
                runner = create_backend(
                    backend,
                    artifact.onnx_path,
                    artifact.manifest["backbone"]["name"],
                    device,
                    spin=spin,
                )
            return cls(artifact, runner)
        except (ArtifactError, BackendError, ValueError) as exc:
            raise EngineError(str(exc)) from exc

    @property
    def bank_size(self) -> int:
        """Memory bank rows (PatchCore) or Gaussians (PaDiM)."""
        return self._scorer.size

    @property
    def memory_bytes(self) -> int:
        """Bytes held by the scorer (bank, index copy, covariances)."""
        return self._scorer.nbytes

    def embed(self, roi_rgb: np.ndarray) -> np.ndarray:
        """uint8 RGB (H, W, 3) -> float32 C-contiguous (h, w, c) locally aware patch features."""
        check_roi(roi_rgb)
        if self._backend is None:
            raise EngineError("this engine was loaded without a backbone backend")
        preprocess(roi_rgb, self.input_size, self._input[0])
        return aggregate(self._backend(self._input))

    def embed_batch(self, images: np.ndarray) -> np.ndarray:
        """float32 (N, 3, S, S) in [0, 1] -> (N, h, w, c); used by enrollment."""
        if self._backend is None:
            raise EngineError("this engine was loaded without a backbone backend")
        return aggregate_batch(self._backend(images))

    def score(self, patches: np.ndarray, roi_shape: tuple[int, int]) -> AnomalyScore:
        """(h, w, c) patch features -> AnomalyScore with the map at roi_shape (H, W)."""
        if not isinstance(patches, np.ndarray) or patches.shape != self.feature_shape:
            shape = getattr(patches, "shape", None)
            raise EngineError(f"patch features must have shape {self.feature_shape}, got {shape}")
        if len(roi_shape) < 2 or min(int(roi_shape[0]), int(roi_shape[1])) < 1:
            raise EngineError(f"roi_shape must be (H, W) with H, W >= 1, got {roi_shape}")
        h, w, c = self.feature_shape
        flat = np.ascontiguousarray(patches.reshape(h * w, c), dtype=np.float32)
        pixel, image, _ = self._scorer.score_patches(flat)
        grid = pixel.reshape(h, w).astype(np.float32, copy=False)
        amap = self._maps(grid, (int(roi_shape[0]), int(roi_shape[1])))
        score = self._maps.image_score(image.reshape(h, w).astype(np.float32, copy=False))
        peak_flat = int(np.argmax(amap))
        peak = divmod(peak_flat, amap.shape[1])
        mask = (amap > self.pixel_threshold).view(np.uint8)
        area = int(np.count_nonzero(mask))
        largest = 0
        if area:
            _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
            largest = int(stats[1:, cv2.CC_STAT_AREA].max())
        top_patch = int(np.argmax(pixel))
        return AnomalyScore(
            score=float(score),
            anomaly_map=amap,
            max_pixel_score=float(amap.flat[peak_flat]),
            area_px=area,
            largest_region_px=largest,
            peak=(int(peak[0]), int(peak[1])),
            nearest_normals=self._scorer.nearest_images(flat[top_patch], NEAREST_NORMALS),
        )

    def overlay(self, roi_rgb: np.ndarray, anomaly_map: np.ndarray) -> np.ndarray:
        """uint8 RGB heatmap overlay anchored to the pixel threshold (see core/heatmap.py)."""
        check_roi(roi_rgb)
        return heatmap.overlay(roi_rgb, anomaly_map, self.pixel_threshold)


def embed_images(
    backend: FeatureBackend,
    images: Sequence[np.ndarray],
    input_size: int,
    batch: int = 8,
    on_image: Callable[[int], None] | None = None,
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
        if on_image is not None:
            on_image(start + len(part))
    return np.concatenate(chunks)


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    """(result, seconds) of fn()."""
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


@dataclass(frozen=True)
class EnrollConfig:
    """Enrollment settings; the defaults are the one configuration used for every data set."""

    method: str = "patchcore"
    backbone: str = "efficientnet_lite0"
    backend: str = "onnxruntime"
    device: str = "cpu"
    input_size: int = 224
    coreset_ratio: float = 0.1
    holdout_fraction: float = 0.2
    quantile: float = 0.99
    margin: float = 0.25
    seed: int = 0


def enroll_images(
    images: Sequence[np.ndarray],
    names: Sequence[str],
    out_dir: str | Path,
    config: EnrollConfig | None = None,
    dataset: dict | None = None,
) -> dict:
    """Build a model directory from normal images and return its manifest.

    1. export the backbone to ONNX in out_dir and embed every image with the chosen backend;
    2. fit the model on the images not held out (holdout_fraction of them, at least one);
    3. score the held-out images and calibrate thresholds (core/thresholds.py);
    4. add the held-out images to the model incrementally, so no good image is wasted;
    5. save the artifact (core/model_artifact.py) and the stability baseline
       (core/stability_baseline.py: held-out scores, feature and image statistics).

    Args:
        images: uint8 RGB (H, W, 3) normal images (resized to input_size).
        names: one name per image (reported as nearest normals).
        dataset: optional {"path", "hash"} recorded in the manifest.

    Raises:
        EngineError: bad images, too few images, or a backend that cannot run here.
    """
    import torch

    from inspection_nodes.core import model_artifact, stability_baseline, thresholds
    from inspection_nodes.core.components import backbone as bb
    from inspection_nodes.core.components.onnx_export import export_onnx
    from inspection_nodes.core.padim import model as padim
    from inspection_nodes.core.patchcore.enroll import PatchCoreConfig, add_normals, fit_patchcore

    config = config or EnrollConfig()
    if config.method not in model_artifact.METHODS:
        raise EngineError(f"unknown method {config.method!r}; choose patchcore or padim")
    if len(images) != len(names) or len(images) < 2:
        raise EngineError(f"need at least 2 normal images with names, got {len(images)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    try:
        spec = bb.get_spec(config.backbone)
        torch.set_num_threads(max(1, torch.get_num_threads()))
        onnx_path = export_onnx(
            bb.build_backbone(config.backbone), out / "backbone.onnx", config.input_size
        )
        runner = create_backend(config.backend, onnx_path, config.backbone, config.device)
    except (bb.BackboneError, BackendError) as exc:
        raise EngineError(str(exc)) from exc
    feats = embed_images(runner, images, config.input_size)
    t_embed = time.perf_counter() - t0
    fit_idx, hold_idx = thresholds.split_holdout(len(images), config.holdout_fraction, config.seed)
    names = list(names)
    feature_shape = list(feats.shape[1:])
    pc_config = PatchCoreConfig(
        coreset_ratio=config.coreset_ratio, shallow_channels=spec.channels[0], seed=config.seed
    )
    if config.method == "patchcore":
        state = fit_patchcore(feats[fit_idx], [names[i] for i in fit_idx], pc_config)
        art = Artifact(out, {}, None, patchcore=state)  # type: ignore[arg-type]
    else:
        state = padim.fit_padim(feats[fit_idx], seed=config.seed)
        art = Artifact(out, {}, None, padim=state)  # type: ignore[arg-type]
    art.manifest = {"feature_shape": feature_shape}
    scorer = build_scorer(art)
    maps = AnomalyMapGenerator(config.input_size)
    h, w, c = feature_shape
    hold_scores, hold_pixels = [], []
    for i in hold_idx:
        pixel, image, _ = scorer.score_patches(feats[i].reshape(h * w, c))
        hold_pixels.append(maps(pixel.reshape(h, w), (config.input_size, config.input_size)))
        hold_scores.append(maps.image_score(image.reshape(h, w)))
    calib = thresholds.calibrate(
        np.array(hold_scores), np.stack(hold_pixels), config.quantile, config.margin
    )
    if config.method == "patchcore":
        state = add_normals(state, feats[hold_idx], [names[i] for i in hold_idx], pc_config)
        bank_size, bank_bytes = len(state.bank), state.nbytes
    else:
        state = padim.add_normals(state, feats[hold_idx])
        bank_size, bank_bytes = int(state.mean.shape[0]), int(state.mean.nbytes + state.cov.nbytes)
    enroll_s = time.perf_counter() - t0
    dataset = dict(dataset or {})
    created = model_artifact.utc_now()
    manifest = {
        "model_version": f"{config.method}-{config.backbone}-"
        f"{str(dataset.get('hash', 'nohash'))[:8]}-{created.replace(':', '').replace('-', '')}",
        "method": config.method,
        "backbone": {
            "name": config.backbone,
            "layers": list(spec.layers),
            "weights": bb.weights_version(config.backbone),
            "normalisation": {"mean": list(spec.mean), "std": list(spec.std)},
        },
        "input_size": config.input_size,
        "feature_shape": feature_shape,
        "dataset": {**dataset, "n_images": len(images), "n_holdout": len(hold_idx)},
        "code_version": model_artifact.code_version(),
        "created": created,
        "config": {
            "coreset_ratio": config.coreset_ratio,
            "shallow_weight": pc_config.shallow_weight,
            "search_dim": pc_config.search_dim,
            "holdout_fraction": config.holdout_fraction,
            "quantile": config.quantile,
            "margin": config.margin,
            "seed": config.seed,
            "enroll_backend": config.backend,
        },
        "metrics": {
            "enroll_s": round(enroll_s, 3),
            "embed_s": round(t_embed, 3),
            "bank_size": bank_size,
            "bank_bytes": bank_bytes,
            "holdout_image_max": calib.holdout_image_max,
        },
    }
    model_artifact.save_artifact(
        out,
        manifest,
        calib,
        onnx_path.read_bytes(),
        patchcore=state if config.method == "patchcore" else None,
        padim=state if config.method == "padim" else None,
    )
    # Hook of the stability index (issue 7): what normal looked like at enrollment.
    stability_baseline.save_baseline(
        out,
        stability_baseline.baseline_from_images(
            "enrollment", manifest["model_version"], images, feats, hold_scores, calib.image
        ),
    )
    return model_artifact.read_manifest(out)

"""Anomaly engine facade used by the embedding and scoring nodes, the CLI and the benchmark.

    engine = AnomalyEngine.load("models/bottle")           # EngineError if missing/incompatible
    patches = engine.embed(roi_rgb)                         # (28, 28, 152) float32, embedding node
    result = engine.score(patches, roi_rgb.shape[:2])       # AnomalyScore, scoring node
    picture = engine.overlay(roi_rgb, result.anomaly_map)   # uint8 RGB for rqt / evidence

Models are built by core/anomaly/enrollment.py (new station) and core/anomaly/recalibration.py
(new version of a running station).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from threadpoolctl import threadpool_limits

from inspection_nodes.core.anomaly import heatmap
from inspection_nodes.core.anomaly.artifact import (
    Artifact,
    ArtifactError,
    ModelState,
    load_artifact,
)
from inspection_nodes.core.anomaly.backends import create_backend
from inspection_nodes.core.anomaly.feature_aggregation import aggregate
from inspection_nodes.core.anomaly.manifest import Method
from inspection_nodes.core.anomaly.padim.model import PadimModel, PadimStats
from inspection_nodes.core.anomaly.patchcore.anomaly_map import AnomalyMapGenerator
from inspection_nodes.core.anomaly.patchcore.model import PatchCoreModel, configure_search_threads
from inspection_nodes.core.inference.backends import BackendError, FeatureBackend
from inspection_nodes.core.io.roi import resize

NEAREST_NORMALS = 3
Scorer = PatchCoreModel | PadimModel


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


def build_scorer(state: ModelState, feature_shape: tuple[int, int, int]) -> Scorer:
    """The kNN (PatchCore) or Mahalanobis (PaDiM) scorer of a learned state."""
    if isinstance(state, PadimStats):
        return PadimModel(state)
    configure_search_threads()  # before the index is trained, as its results depend on it
    h, w, _ = feature_shape
    return PatchCoreModel(state, num_patches=h * w)


def limit_threads() -> None:
    """Process-wide thread limits for scoring, set where an engine is built (never at import).

    One BLAS thread: the per-image GEMMs are small, and OpenBLAS's idle threads busy-wait on the
    cores ONNX Runtime needs next (measured: backbone 7.0 ms with two BLAS threads, 4.0 ms with
    one). faiss: one OpenMP thread and its BLAS threshold (patchcore/model.py).
    """
    configure_search_threads()
    threadpool_limits(1, user_api="blas")


class AnomalyEngine:
    """Backbone backend + scorer + thresholds of one model directory. Not thread-safe.

    Building one limits the process's BLAS and faiss threads (`limit_threads`): the engine is
    what a process runs per unit, so its threading decides the process's latency.
    """

    def __init__(self, artifact: Artifact, backend: FeatureBackend | None) -> None:
        manifest = artifact.manifest
        self.artifact = artifact
        self.model_dir = artifact.path
        self.input_size: int = manifest.input_size
        self.model_version: str = manifest.model_version
        self.method: Method = manifest.method
        self.backend: str = backend.name if backend is not None else "none"
        self.image_threshold: float = float(artifact.thresholds.image)
        self.pixel_threshold: float = float(artifact.thresholds.pixel)
        self.feature_shape: tuple[int, int, int] = manifest.feature_shape
        self._backend = backend
        self._scorer = build_scorer(artifact.state, manifest.feature_shape)
        self._maps = AnomalyMapGenerator(self.input_size)
        self._input = np.empty((1, 3, self.input_size, self.input_size), dtype=np.float32)
        limit_threads()

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
                    artifact.manifest.backbone.name,
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
        """uint8 RGB heatmap overlay anchored to the pixel threshold (core/anomaly/heatmap.py)."""
        check_roi(roi_rgb)
        return heatmap.overlay(roi_rgb, anomaly_map, self.pixel_threshold)

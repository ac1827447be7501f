"""Guided recalibration: a new model version = the parent's normals + new good units, and rollback.

    result = recalibrate(parent_dir, out_dir, rois, names, requested_by="anna", source="...")
    set_active(registry, result.model_dir, result.manifest)     # the station uses it
    rollback(registry, result.model_dir)                        # back to the parent

Steps (the parent directory is never modified; the new version is a new directory):
1. embed the new good images with the parent's backbone (or take features already computed by
   the running cell's embedding node: the same ONNX file gives the same features);
2. calibrate the thresholds (core/anomaly/thresholds.py, the parent's quantile and margin) on the
   scores of `holdout_fraction` of the new images (the parent's enrollment setting) under a
   model of the other new images alone, in the parent's search space. Not under old + new
   normals: the technician's known-good parts are often the very parts enrolled before, and
   their enrolled twins would score the held-out ones near zero and put the threshold below
   every new production part. Old normals can only lower a score, so the threshold errs
   toward the new normal's own spread;
3. add all new images to the parent's memory bank incrementally (PatchCore `add_normals`,
   PaDiM pairwise update): the old normals stay, so parts that still look like enrollment keep
   passing;
4. write the new directory: artifact, stability baseline of the new normal, a manifest naming
   who, when, how many images, their hash and the parent version, and `recalibration.png`, a
   histogram of the new images' scores under the parent (before) and of the held-out ones under
   the calibration model (after) with both thresholds;
5. register it, and its parent if missing, so it can be rolled back (models/registry.json);
   activating it is the caller's step, after the running scoring node has accepted it.

Embeddings are compatible along a lineage (the backbone file is copied unchanged), so a new
version lists its ancestors in `embedding_versions` and the scoring node accepts features an
embedding node running any of them produced (`ModelManifest.accepted_embeddings`).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from inspection_nodes.core.anomaly import registry as model_registry
from inspection_nodes.core.anomaly import thresholds
from inspection_nodes.core.anomaly.artifact import (
    Artifact,
    ModelState,
    read_manifest,
    save_artifact,
)
from inspection_nodes.core.anomaly.engine import AnomalyEngine
from inspection_nodes.core.anomaly.manifest import (
    DatasetInfo,
    ModelManifest,
    RecalibrationInfo,
    make_version,
)
from inspection_nodes.core.anomaly.padim import model as padim
from inspection_nodes.core.anomaly.patchcore import fit as patchcore
from inspection_nodes.core.anomaly.patchcore.model import PatchCoreBank
from inspection_nodes.core.common.provenance import code_version, utc_now
from inspection_nodes.core.io import mvtec
from inspection_nodes.core.stability import baseline as stability_baseline
from inspection_nodes.core.stability.plot import render_histogram

MIN_IMAGES = 10
HISTOGRAM_FILE = "recalibration.png"


class RecalibrationError(ValueError):
    """Bad request (too few images, existing output, unknown version): nothing was changed."""


@dataclass(frozen=True)
class RecalibrationResult:
    """What a recalibration wrote and the evidence of what changed."""

    model_dir: Path
    manifest: ModelManifest
    histogram: Path
    scores_before: np.ndarray  # every new image under the parent model
    scores_after: np.ndarray  # the held-out new images under the calibration model (step 2)
    threshold_before: float
    threshold_after: float


def images_hash(names: Sequence[str], images: Sequence[np.ndarray]) -> str:
    """SHA-256 over names, shapes and pixels of captured units (order independent)."""
    digest = hashlib.sha256()
    for name, img in sorted(zip(names, images, strict=True), key=lambda item: item[0]):
        digest.update(name.encode())
        digest.update(str(img.shape).encode())
        digest.update(np.ascontiguousarray(img).tobytes())
    return digest.hexdigest()


def next_version_dir(parent_dir: Path) -> Path:
    """Next free sibling: `models/bottle` -> `models/bottle.r1`, `bottle.r1` -> `bottle.r2`."""
    parent_dir = Path(parent_dir)
    stem = re.sub(r"\.r\d+$", "", parent_dir.name)
    k = 1
    while (parent_dir.parent / f"{stem}.r{k}").exists():
        k += 1
    return parent_dir.parent / f"{stem}.r{k}"


def good_image_paths(folder: Path) -> list[Path]:
    """Good images of a folder: DIR/train/good of an MVTec-layout category, else DIR's images.

    Raises:
        mvtec.DatasetError: no such folder or no images in it.
    """
    folder = Path(folder)
    if (folder / "train" / "good").is_dir():
        return mvtec.list_train_images(folder)
    if not folder.is_dir():
        raise mvtec.DatasetError(f"{folder}: no such folder")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in mvtec.IMAGE_SUFFIXES)
    if not paths:
        raise mvtec.DatasetError(f"{folder}: no images ({', '.join(mvtec.IMAGE_SUFFIXES)})")
    return paths


@dataclass(frozen=True)
class GoodImages:
    """Good images read from a folder for a recalibration, with their names and files' hash."""

    images: list[np.ndarray]
    names: list[str]
    dataset_hash: str


def read_good_images(folder: Path) -> GoodImages:
    """The good images of `folder` (see `good_image_paths`) as uint8 RGB.

    Raises:
        mvtec.DatasetError: no such folder, no images, or an unreadable image.
    """
    paths = good_image_paths(folder)
    return GoodImages(
        [mvtec.read_rgb(path) for path in paths], [p.name for p in paths], mvtec.dataset_hash(paths)
    )


def _check_output(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise RecalibrationError(f"{out_dir} exists and is not empty; versions are never replaced")


def _features(parent: AnomalyEngine, images: Sequence[np.ndarray], features) -> np.ndarray:
    if features is None:
        return np.stack([parent.embed(img) for img in images])
    features = np.asarray(features, np.float32)
    if features.shape != (len(images), *parent.feature_shape):
        raise RecalibrationError(
            f"features must be {(len(images), *parent.feature_shape)}, got {features.shape}"
        )
    return features


def _grow(artifact: Artifact, feats: np.ndarray, names: list[str], fresh: bool) -> ModelState:
    """The artifact's state with new normals added (fresh: the new normals alone, in the
    parent's search space / channel selection)."""
    state = artifact.state
    if isinstance(state, PatchCoreBank):
        config = artifact.manifest.config
        pc_config = patchcore.PatchCoreConfig(coreset_ratio=config.coreset_ratio, seed=config.seed)
        if fresh:
            state = replace(state, bank=state.bank[:0], sources=state.sources[:0], image_names=[])
        return patchcore.add_normals(state, feats, names, pc_config)
    if fresh:
        return padim.fit_padim_subset(feats, state.channels)
    return padim.add_normals(state, feats)


def _score(artifact: Artifact, feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Image scores (N,) and anomaly maps (N, S, S) at the model input size."""
    engine = AnomalyEngine(artifact, None)
    size = (engine.input_size, engine.input_size)
    results = [engine.score(f, size) for f in feats]
    return np.array([r.score for r in results]), np.stack([r.anomaly_map for r in results])


def _check_request(images, names, requested_by: str, out_dir: Path) -> None:
    if len(images) != len(names):
        raise RecalibrationError(f"{len(images)} images but {len(names)} names")
    if len(images) < MIN_IMAGES:
        raise RecalibrationError(
            f"need at least {MIN_IMAGES} good images to recalibrate, got {len(images)}"
        )
    if not requested_by.strip():
        raise RecalibrationError("requested_by is empty: a recalibration must name who asked")
    _check_output(out_dir)


@dataclass(frozen=True)
class _Calibration:
    """Steps 2 and 3: the new thresholds and the grown state, with the scores behind them."""

    scores_before: np.ndarray
    scores_after: np.ndarray
    thresholds: thresholds.Thresholds
    state: ModelState
    n_holdout: int


def _calibrate(parent: AnomalyEngine, feats: np.ndarray, names: list[str]) -> _Calibration:
    settings = parent.artifact.manifest.config
    fit, hold = thresholds.split_holdout(len(feats), settings.holdout_fraction, settings.seed)
    scores_before, _ = _score(parent.artifact, feats)
    fresh = _grow(parent.artifact, feats[fit], [names[i] for i in fit], fresh=True)
    scores_after, maps = _score(replace(parent.artifact, state=fresh), feats[hold])
    old = parent.artifact.thresholds
    calib = thresholds.calibrate(scores_after, maps, old.quantile, old.margin)
    final = _grow(parent.artifact, feats, names, fresh=False)
    return _Calibration(scores_before, scores_after, calib, final, len(hold))


def _new_manifest(
    parent_dir: Path,
    pm: ModelManifest,
    calibration: _Calibration,
    n_images: int,
    requested_by: str,
    source: str,
    digest: str,
    old_threshold: float,
) -> ModelManifest:
    created = utc_now()
    calib = calibration.thresholds
    return replace(
        pm,
        model_version=make_version(pm.method, pm.backbone.name, digest, created),
        parent_version=pm.model_version,
        lineage=pm.root_version,
        embedding_versions=tuple(sorted(pm.accepted_embeddings)),
        created=created,
        code_version=code_version(),
        dataset=DatasetInfo(n_images, calibration.n_holdout, source, digest, parent=pm.dataset),
        recalibration=RecalibrationInfo(
            requested_by=requested_by,
            created=created,
            source=source,
            n_images=n_images,
            n_holdout=calibration.n_holdout,
            dataset_hash=digest,
            parent_version=pm.model_version,
            parent_dir=str(parent_dir),
            image_threshold_before=old_threshold,
            image_threshold_after=calib.image,
        ),
        metrics=replace(
            pm.metrics,
            bank_size=calibration.state.size,
            bank_bytes=calibration.state.nbytes,
            holdout_image_max=calib.holdout_image_max,
        ),
    )


def _write_version(
    out_dir: Path,
    manifest: ModelManifest,
    parent: AnomalyEngine,
    calibration: _Calibration,
    images: Sequence[np.ndarray],
    feats: np.ndarray,
) -> None:
    """Step 4, built beside the target and renamed into place: a failure leaves no
    half-written version."""
    partial = out_dir.with_name(f".{out_dir.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    old, new = parent.artifact.thresholds.image, calibration.thresholds.image
    try:
        save_artifact(
            partial,
            manifest,
            calibration.thresholds,
            parent.artifact.onnx_path.read_bytes(),
            calibration.state,
        )
        baseline = stability_baseline.baseline_from_images(
            "recalibration", manifest.model_version, images, feats, calibration.scores_after, new
        )
        stability_baseline.save_baseline(partial, baseline)
        picture = render_histogram(
            calibration.scores_before,
            calibration.scores_after,
            old,
            new,
            f"recalibration {parent.model_version[-16:]} -> {manifest.model_version[-16:]}",
        )
        if not cv2.imwrite(str(partial / HISTOGRAM_FILE), picture[..., ::-1]):
            raise OSError(f"cannot write {partial / HISTOGRAM_FILE}")
        if out_dir.is_dir():
            out_dir.rmdir()  # empty (checked above)
        partial.rename(out_dir)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def recalibrate(
    parent_dir: Path,
    out_dir: Path,
    images: Sequence[np.ndarray],
    names: Sequence[str],
    *,
    requested_by: str,
    source: str,
    dataset_hash: str | None = None,
    features: np.ndarray | None = None,
    registry: Path | None = None,
    backend: str = "onnxruntime",
) -> RecalibrationResult:
    """Build and register a new model version from a parent version and new good images.

    Args:
        parent_dir: model directory the station runs now.
        out_dir: new, empty (or missing) directory for the new version.
        images: uint8 RGB good images (ROIs), at least MIN_IMAGES.
        names: one name per image (unit ids or file names; nearest-normal explanations).
        requested_by: who asked (recorded in the manifest).
        source: where the images came from ("folder DIR", "next 50 units", ...).
        dataset_hash: hash of the images' files; default: hash of the pixels (`images_hash`).
        features: (N, h, w, C) embeddings already computed with the parent's backbone, or None
            to embed here with `backend`.
        registry: registry JSON to add the version to (default: beside out_dir).

    Raises:
        RecalibrationError, EngineError: bad request or unusable parent model; nothing written.
    """
    out_dir = Path(out_dir)
    _check_request(images, names, requested_by, out_dir)
    parent = AnomalyEngine.load(parent_dir, backend="none" if features is not None else backend)
    pm = parent.artifact.manifest
    feats = _features(parent, images, features)
    names = list(names)
    calibration = _calibrate(parent, feats, names)
    digest = dataset_hash or images_hash(names, images)
    old = parent.artifact.thresholds.image
    manifest = _new_manifest(
        Path(parent_dir), pm, calibration, len(images), requested_by, source, digest, old
    )
    _write_version(out_dir, manifest, parent, calibration, images, feats)
    manifest = read_manifest(out_dir)
    registry = registry or out_dir.parent / "registry.json"
    if model_registry.find_version(registry, pm.model_version) is None:
        model_registry.update_registry(registry, Path(parent_dir), pm)  # so it can be rolled back
    model_registry.update_registry(registry, out_dir, manifest)
    return RecalibrationResult(
        out_dir,
        manifest,
        out_dir / HISTOGRAM_FILE,
        calibration.scores_before,
        calibration.scores_after,
        old,
        calibration.thresholds.image,
    )


def rollback(registry: Path, model_dir: Path) -> Path:
    """Make the parent of `model_dir` the active version of its lineage; returns its directory.

    Raises:
        RecalibrationError: model_dir is an original enrollment, or its parent is not registered
            (the registry is unchanged).
    """
    parent_version = read_manifest(Path(model_dir)).parent_version
    if not parent_version:
        raise RecalibrationError(f"{model_dir} is an original enrollment: nothing to roll back to")
    parent_dir = model_registry.find_version(registry, parent_version)
    if parent_dir is None or not parent_dir.is_dir():
        raise RecalibrationError(f"parent version {parent_version} is not in {registry}")
    model_registry.set_active(registry, parent_dir, read_manifest(parent_dir))
    return parent_dir

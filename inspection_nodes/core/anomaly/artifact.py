"""Model artifact: one directory per model, loadable in well under a second.

    MODEL_DIR/
      manifest.json        format, method, backbone + weights version, input size, feature shape,
                           dataset hash, code version, created time, enrollment metrics
      backbone.onnx        the feature extractor (TensorRT engines get cached beside it)
      thresholds.json      image and pixel thresholds and how they were calibrated
      bank.npy             PatchCore: float32 (M, C) memory bank
      bank_sources.npy     PatchCore: int32 (M, 2) source image index and patch index per row
      search.npz           PatchCore: channel weight, PCA mean and basis of the search space
      image_names.json     PatchCore: enrollment image names (index = bank_sources[:, 0])
      padim.npz            PaDiM: channels, count, mean, covariance
      baseline.npz         optional: normal statistics for the stability index
                           (core/stability/baseline.py; older models have none)

The manifest is typed in core/anomaly/manifest.py; the registry of versions is
core/anomaly/registry.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inspection_nodes.core.anomaly.manifest import ManifestError, Method, ModelManifest
from inspection_nodes.core.anomaly.padim.model import PadimStats
from inspection_nodes.core.anomaly.patchcore.model import PatchCoreBank
from inspection_nodes.core.anomaly.thresholds import Thresholds
from inspection_nodes.core.common.files import write_json_atomic

MANIFEST = "manifest.json"
ONNX_FILE = "backbone.onnx"

ModelState = PatchCoreBank | PadimStats
"""What a method learned from the normal images: a PatchCore memory bank or PaDiM statistics."""


class ArtifactError(ValueError):
    """Missing, incomplete or incompatible model directory."""


def state_method(state: ModelState) -> Method:
    """The method a learned state belongs to."""
    return Method.PATCHCORE if isinstance(state, PatchCoreBank) else Method.PADIM


@dataclass
class Artifact:
    """A loaded model directory."""

    path: Path
    manifest: ModelManifest
    thresholds: Thresholds
    state: ModelState

    @property
    def onnx_path(self) -> Path:
        return self.path / ONNX_FILE


def save_artifact(
    model_dir: Path,
    manifest: ModelManifest,
    thresholds: Thresholds,
    onnx_bytes: bytes,
    state: ModelState,
) -> Path:
    """Write a model directory (created if needed; files are replaced atomically one by one)."""
    model_dir = Path(model_dir)
    if state_method(state) != manifest.method:
        raise ArtifactError(f"a {state_method(state)} state cannot be saved as {manifest.method}")
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / ONNX_FILE).write_bytes(onnx_bytes)
    if isinstance(state, PatchCoreBank):
        np.save(model_dir / "bank.npy", state.bank.astype(np.float32))
        np.save(model_dir / "bank_sources.npy", state.sources.astype(np.int32))
        np.savez(
            model_dir / "search.npz",
            channel_weight=state.channel_weight,
            proj_mean=state.proj_mean,
            proj=state.proj,
        )
        write_json_atomic(model_dir / "image_names.json", {"image_names": state.image_names})
    else:
        np.savez(
            model_dir / "padim.npz",
            channels=state.channels,
            count=np.int64(state.count),
            mean=state.mean,
            cov=state.cov,
        )
    write_json_atomic(model_dir / "thresholds.json", thresholds.to_dict())
    write_json_atomic(model_dir / MANIFEST, manifest.to_dict())
    return model_dir


def read_manifest(model_dir: Path) -> ModelManifest:
    """Manifest of a model directory; raises ArtifactError if missing, unreadable or of a format
    this code does not read (the message names the file and the field)."""
    path = Path(model_dir) / MANIFEST
    if not path.is_file():
        raise ArtifactError(f"{model_dir}: not a model directory (no {MANIFEST})")
    try:
        return ModelManifest.from_dict(json.loads(path.read_text()))
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path}: unreadable manifest ({exc})") from exc
    except ManifestError as exc:
        raise ArtifactError(f"{path}: {exc}") from exc


def _load_patchcore(model_dir: Path, feature_dim: int) -> PatchCoreBank:
    search = np.load(model_dir / "search.npz")
    names = json.loads((model_dir / "image_names.json").read_text())["image_names"]
    bank = PatchCoreBank(
        bank=np.load(model_dir / "bank.npy"),
        sources=np.load(model_dir / "bank_sources.npy"),
        image_names=list(names),
        channel_weight=search["channel_weight"],
        proj_mean=search["proj_mean"],
        proj=search["proj"],
    )
    if bank.bank.ndim != 2 or bank.bank.shape[1] != feature_dim:
        raise ArtifactError(
            f"{model_dir}: bank shape {bank.bank.shape} does not match {feature_dim} channels"
        )
    return bank


def _load_padim(model_dir: Path) -> PadimStats:
    data = np.load(model_dir / "padim.npz")
    return PadimStats(data["channels"], int(data["count"]), data["mean"], data["cov"])


def load_artifact(model_dir: Path) -> Artifact:
    """Load and check a model directory (memory bank and statistics are read fully)."""
    model_dir = Path(model_dir)
    manifest = read_manifest(model_dir)
    try:
        thresholds = Thresholds.from_dict(json.loads((model_dir / "thresholds.json").read_text()))
        if not (model_dir / ONNX_FILE).is_file():
            raise FileNotFoundError(str(model_dir / ONNX_FILE))
        if manifest.method == Method.PATCHCORE:
            state: ModelState = _load_patchcore(model_dir, manifest.feature_shape[2])
        else:
            state = _load_padim(model_dir)
    except ArtifactError:
        raise
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise ArtifactError(f"{model_dir}: incomplete or corrupt model ({exc})") from exc
    return Artifact(model_dir, manifest, thresholds, state)

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
                           (core/stability_baseline.py; older models have none)

A registry JSON (by default `registry.json` beside the model directories, e.g.
`models/registry.json`) lists every model with its version and key metrics; recalibrated
versions name their parent, and `active` records the version in use per lineage (the chain of
versions grown from one enrollment), so a recalibration can be rolled back.
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from inspection_nodes import PACKAGE_DIR
from inspection_nodes.core.padim.model import PadimStats
from inspection_nodes.core.patchcore.model import PatchCoreBank
from inspection_nodes.core.thresholds import Thresholds

FORMAT_VERSION = 1
METHODS = ("patchcore", "padim")
MANIFEST = "manifest.json"
ONNX_FILE = "backbone.onnx"


class ArtifactError(ValueError):
    """Missing, incomplete or incompatible model directory."""


@dataclass
class Artifact:
    """A loaded model directory."""

    path: Path
    manifest: dict
    thresholds: Thresholds
    patchcore: PatchCoreBank | None = None
    padim: PadimStats | None = None

    @property
    def onnx_path(self) -> Path:
        return self.path / ONNX_FILE

    @property
    def method(self) -> str:
        return str(self.manifest["method"])


def code_version() -> str:
    """Package version plus the git commit of the checkout, when there is one."""
    from inspection_nodes import __version__

    root = PACKAGE_DIR.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    return f"{__version__}+{commit or 'unknown'}"


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def save_artifact(
    model_dir: Path,
    manifest: dict,
    thresholds: Thresholds,
    onnx_bytes: bytes,
    patchcore: PatchCoreBank | None = None,
    padim: PadimStats | None = None,
) -> Path:
    """Write a model directory (created if needed; files are replaced atomically one by one)."""
    model_dir = Path(model_dir)
    if (patchcore is None) == (padim is None):
        raise ArtifactError("give exactly one of patchcore or padim")
    model_dir.mkdir(parents=True, exist_ok=True)
    (model_dir / ONNX_FILE).write_bytes(onnx_bytes)
    if patchcore is not None:
        np.save(model_dir / "bank.npy", patchcore.bank.astype(np.float32))
        np.save(model_dir / "bank_sources.npy", patchcore.sources.astype(np.int32))
        np.savez(
            model_dir / "search.npz",
            channel_weight=patchcore.channel_weight,
            proj_mean=patchcore.proj_mean,
            proj=patchcore.proj,
        )
        _write_json(model_dir / "image_names.json", {"image_names": patchcore.image_names})
    else:
        np.savez(
            model_dir / "padim.npz",
            channels=padim.channels,
            count=np.int64(padim.count),
            mean=padim.mean,
            cov=padim.cov,
        )
    _write_json(model_dir / "thresholds.json", thresholds.to_dict())
    _write_json(model_dir / MANIFEST, {**manifest, "format_version": FORMAT_VERSION})
    return model_dir


def read_manifest(model_dir: Path) -> dict:
    """Manifest of a model directory; raises ArtifactError if missing or unreadable."""
    path = Path(model_dir) / MANIFEST
    if not path.is_file():
        raise ArtifactError(f"{model_dir}: not a model directory (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path}: unreadable manifest ({exc})") from exc
    if manifest.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(
            f"{path}: format_version {manifest.get('format_version')!r} is not supported "
            f"(this code reads {FORMAT_VERSION}); re-enroll the model"
        )
    if manifest.get("method") not in METHODS:
        raise ArtifactError(f"{path}: unknown method {manifest.get('method')!r}")
    return manifest


def load_artifact(model_dir: Path) -> Artifact:
    """Load and check a model directory (memory bank and statistics are read fully)."""
    model_dir = Path(model_dir)
    manifest = read_manifest(model_dir)
    feature_dim = int(manifest["feature_shape"][2])
    try:
        thresholds = Thresholds.from_dict(json.loads((model_dir / "thresholds.json").read_text()))
        if not (model_dir / ONNX_FILE).is_file():
            raise FileNotFoundError(str(model_dir / ONNX_FILE))
        artifact = Artifact(model_dir, manifest, thresholds)
        if manifest["method"] == "patchcore":
            search = np.load(model_dir / "search.npz")
            names = json.loads((model_dir / "image_names.json").read_text())["image_names"]
            artifact.patchcore = PatchCoreBank(
                bank=np.load(model_dir / "bank.npy"),
                sources=np.load(model_dir / "bank_sources.npy"),
                image_names=list(names),
                channel_weight=search["channel_weight"],
                proj_mean=search["proj_mean"],
                proj=search["proj"],
            )
            if artifact.patchcore.bank.ndim != 2 or artifact.patchcore.bank.shape[1] != feature_dim:
                raise ArtifactError(
                    f"{model_dir}: bank shape {artifact.patchcore.bank.shape} does not match "
                    f"feature_shape {manifest['feature_shape']}"
                )
        else:
            data = np.load(model_dir / "padim.npz")
            artifact.padim = PadimStats(
                data["channels"], int(data["count"]), data["mean"], data["cov"]
            )
    except (OSError, KeyError, ValueError, TypeError) as exc:
        if isinstance(exc, ArtifactError):
            raise
        raise ArtifactError(f"{model_dir}: incomplete or corrupt model ({exc})") from exc
    return artifact


def read_registry(registry: Path) -> dict:
    """Registry content ({"models": [...], "active": {...}}); empty if missing or unreadable."""
    registry = Path(registry)
    data: dict = {}
    if registry.is_file():
        try:
            data = json.loads(registry.read_text())
        except json.JSONDecodeError:
            data = {}
    data.setdefault("models", [])
    data.setdefault("active", {})
    return data


def _registry_path(registry: Path, model_dir: Path) -> str:
    try:
        return os.path.relpath(Path(model_dir).resolve(), Path(registry).resolve().parent)
    except ValueError:
        return str(model_dir)


def lineage(manifest: dict) -> str:
    """Version of the enrollment a model descends from (its own version for an enrollment)."""
    return str(manifest.get("lineage") or manifest.get("model_version"))


def embedding_versions(manifest: dict) -> frozenset[str]:
    """Versions whose patch embeddings this model can score: itself and, for a recalibrated
    version, its ancestors (they share the backbone file byte for byte)."""
    return frozenset([str(manifest["model_version"]), *manifest.get("embedding_versions", [])])


def update_registry(registry: Path, model_dir: Path, manifest: dict) -> None:
    """Add or replace the entry of `model_dir` in a registry JSON (created if missing)."""
    registry = Path(registry)
    data = read_registry(registry)
    rel = _registry_path(registry, model_dir)
    entry = {
        "path": rel,
        "model_version": manifest.get("model_version"),
        "parent_version": manifest.get("parent_version"),
        "lineage": lineage(manifest),
        "method": manifest.get("method"),
        "backbone": manifest.get("backbone", {}).get("name"),
        "dataset_hash": manifest.get("dataset", {}).get("hash"),
        "created": manifest.get("created"),
        "metrics": manifest.get("metrics", {}),
    }
    data["models"] = [m for m in data["models"] if m.get("path") != rel] + [entry]
    registry.parent.mkdir(parents=True, exist_ok=True)
    _write_json(registry, data)


def set_active(registry: Path, model_dir: Path, manifest: dict) -> None:
    """Record `model_dir` (already registered) as the version in use of its lineage."""
    registry = Path(registry)
    data = read_registry(registry)
    rel = _registry_path(registry, model_dir)
    if not any(m.get("path") == rel for m in data["models"]):
        raise ArtifactError(f"{model_dir} is not in {registry}; register it first")
    data["active"][lineage(manifest)] = rel
    _write_json(registry, data)


def find_version(registry: Path, model_version: str) -> Path | None:
    """Model directory of a registered version, or None."""
    for entry in read_registry(registry)["models"]:
        if entry.get("model_version") == model_version:
            return Path(registry).parent / entry["path"]
    return None

"""Detector model directory and the detector registry.

    MODEL_DIR/
      manifest.json   format, model_version, architecture, class_names, input_mode, imgsz,
                      dataset (layout, hash, box counts), training (config, time, per-epoch
                      history), metrics (our ONNX Runtime evaluation), code version, created
      model.onnx      fixed-size (1, 3, imgsz, imgsz) export, what the cell runs
      model.int8.onnx the same, INT8-quantized for CPUs (optional, core/detector/quantization.py)
      model.pt        the ultralytics checkpoint (torch backend; source of TensorRT is the ONNX)

The registry (a JSON file, by default `detector_registry.json` beside the model directories) lists
every trained model with dataset hash, validation-split hash, metrics, version and status, and
names the deployed one; the retrain trigger (core/detector/retrain.py) reads and writes it.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from inspection_nodes.core.common.files import write_json_atomic
from inspection_nodes.core.common.provenance import code_version, compact_stamp, utc_now

FORMAT = "inspection-detector"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ONNX_FILE = "model.onnx"
INT8_FILE = "model.int8.onnx"
WEIGHTS_FILE = "model.pt"


class ModelStatus(StrEnum):
    """Where a registered detector model stands."""

    TRAINED = "trained"  # registered, never compared
    DEPLOYED = "deployed"  # the one the cell runs (one at a time)
    REJECTED = "rejected"  # worse than the deployed model on the fixed validation split
    RETIRED = "retired"  # was deployed, replaced by a newer one


STATUSES = tuple(ModelStatus)


class DetectorArtifactError(ValueError):
    """Missing, incomplete or incompatible detector model directory."""


@dataclass(frozen=True)
class DetectorModel:
    """A detector model directory as the detector node and evaluate-detector load it."""

    path: Path
    manifest: dict

    @property
    def onnx_path(self) -> Path:
        return self.path / ONNX_FILE

    @property
    def int8_path(self) -> Path:
        return self.path / INT8_FILE

    @property
    def weights_path(self) -> Path:
        return self.path / WEIGHTS_FILE

    @property
    def class_names(self) -> list[str]:
        return list(self.manifest["class_names"])

    @property
    def input_mode(self) -> str:
        return str(self.manifest["input_mode"])

    @property
    def imgsz(self) -> int:
        return int(self.manifest["imgsz"])

    @property
    def version(self) -> str:
        return str(self.manifest["model_version"])


def model_version(dataset_hash: str, created: str) -> str:
    """`det-<UTC time>-<dataset hash prefix>`: sortable, and names the data it learned from."""
    return f"det-{compact_stamp(created).rstrip('Z')}-{dataset_hash[:8]}"


def save_model(model_dir: Path, onnx: Path, weights: Path | None, manifest: dict) -> DetectorModel:
    """Write a model directory; fills format, version, code version and created time."""
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(onnx, model_dir / ONNX_FILE)
    if weights is not None:
        shutil.copyfile(weights, model_dir / WEIGHTS_FILE)
    created = manifest.get("created") or utc_now()
    full = {
        **manifest,
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created": created,
        "code_version": code_version(),
        "model_version": manifest.get("model_version")
        or model_version(manifest["dataset"]["hash"].split(":")[0], created),
    }
    write_json_atomic(model_dir / MANIFEST, full)
    return DetectorModel(model_dir, full)


def update_manifest(model: DetectorModel, **sections: dict) -> DetectorModel:
    """Replace top-level sections of a model's manifest (e.g. metrics after evaluation)."""
    manifest = {**model.manifest, **sections}
    write_json_atomic(model.path / MANIFEST, manifest)
    return DetectorModel(model.path, manifest)


def load_model(model_dir: Path) -> DetectorModel:
    """Read and check a detector model directory (the ONNX file must exist)."""
    model_dir = Path(model_dir)
    path = model_dir / MANIFEST
    if not path.is_file():
        raise DetectorArtifactError(f"{model_dir}: not a detector model directory (no {MANIFEST})")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DetectorArtifactError(f"{path}: unreadable manifest ({exc})") from None
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise DetectorArtifactError(
            f"{path}: not a {FORMAT} v{FORMAT_VERSION} manifest "
            f"(format {manifest.get('format')!r} v{manifest.get('format_version')!r})"
        )
    required = ("class_names", "input_mode", "imgsz", "model_version")
    missing = [k for k in required if k not in manifest]
    if missing:
        raise DetectorArtifactError(f"{path}: missing {', '.join(missing)}")
    if not (model_dir / ONNX_FILE).is_file():
        raise DetectorArtifactError(f"{model_dir}: {ONNX_FILE} is missing")
    return DetectorModel(model_dir, manifest)


class DetectorRegistry:
    """The registry JSON: `{"models": [entry, ...], "deployed": path or null}`.

    Entry paths are relative to the registry file, so a models/ folder can move as a whole.
    Every write replaces the file atomically.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def read(self) -> dict:
        if not self.path.is_file():
            return {"models": [], "deployed": None}
        try:
            data = json.loads(self.path.read_text())
        except json.JSONDecodeError as exc:
            raise DetectorArtifactError(f"{self.path}: corrupt registry ({exc})") from None
        return {"models": list(data.get("models", [])), "deployed": data.get("deployed")}

    def _rel(self, model_dir: Path) -> str:
        try:
            return os.path.relpath(Path(model_dir).resolve(), self.path.resolve().parent)
        except ValueError:  # another drive (Windows); keep it absolute
            return str(Path(model_dir).resolve())

    def resolve(self, entry: dict) -> Path:
        """Model directory of a registry entry."""
        return (self.path.parent / entry["path"]).resolve()

    def record(
        self, model: DetectorModel, status: ModelStatus = ModelStatus.TRAINED, **extra
    ) -> dict:
        """Add or replace the entry of a model; `extra` adds fields (val_hash, reason, ...)."""
        if status not in STATUSES:
            raise ValueError(f"status {status!r} is not one of {STATUSES}")
        data = self.read()
        rel = self._rel(model.path)
        m = model.manifest
        entry = {
            "path": rel,
            "model_version": m.get("model_version"),
            "architecture": m.get("architecture"),
            "input_mode": m.get("input_mode"),
            "dataset_hash": m.get("dataset", {}).get("hash"),
            "boxes_per_class": m.get("dataset", {}).get("boxes_per_class", {}).get("train", {}),
            "created": m.get("created"),
            "metrics": {
                k: v for k, v in m.get("metrics", {}).items() if k in ("map50", "map50_95")
            },
            "status": status,
            **extra,
        }
        data["models"] = [e for e in data["models"] if e.get("path") != rel] + [entry]
        if status == ModelStatus.DEPLOYED:
            for other in data["models"]:
                if other["path"] != rel and other.get("status") == ModelStatus.DEPLOYED:
                    other["status"] = ModelStatus.RETIRED
            data["deployed"] = rel
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.path, data)
        return entry

    def deployed(self) -> dict | None:
        """Entry of the deployed model, or None before the first deployment."""
        data = self.read()
        return next((e for e in data["models"] if e["path"] == data["deployed"]), None)

"""The registry of anomaly model versions: one JSON file beside the model directories.

    models/registry.json   {"models": [entry, ...], "active": {root version: path}}

Every enrolled or recalibrated version has an entry (path relative to the registry, version,
parent, key metrics); `active` records the version in use per lineage (the chain of versions
grown from one enrollment, keyed by its root version), so a recalibration can be rolled back
(core/anomaly/recalibration.py) and the stability node can find the directory of a version the
scoring node switched to.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from inspection_nodes.core.anomaly.artifact import ArtifactError
from inspection_nodes.core.anomaly.manifest import ModelManifest
from inspection_nodes.core.common.files import write_json_atomic


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


def update_registry(registry: Path, model_dir: Path, manifest: ModelManifest) -> None:
    """Add or replace the entry of `model_dir` in a registry JSON (created if missing)."""
    registry = Path(registry)
    data = read_registry(registry)
    rel = _registry_path(registry, model_dir)
    entry = {
        "path": rel,
        "model_version": manifest.model_version,
        "parent_version": manifest.parent_version,
        "lineage": manifest.root_version,
        "method": str(manifest.method),
        "backbone": manifest.backbone.name,
        "dataset_hash": manifest.dataset.hash,
        "created": manifest.created,
        "metrics": manifest.metrics.to_dict(),
    }
    data["models"] = [m for m in data["models"] if m.get("path") != rel] + [entry]
    registry.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(registry, data)


def set_active(registry: Path, model_dir: Path, manifest: ModelManifest) -> None:
    """Record `model_dir` (already registered) as the version in use of its lineage."""
    registry = Path(registry)
    data = read_registry(registry)
    rel = _registry_path(registry, model_dir)
    if not any(m.get("path") == rel for m in data["models"]):
        raise ArtifactError(f"{model_dir} is not in {registry}; register it first")
    data["active"][manifest.root_version] = rel
    write_json_atomic(registry, data)


def find_version(registry: Path, model_version: str) -> Path | None:
    """Model directory of a registered version, or None."""
    for entry in read_registry(registry)["models"]:
        if entry.get("model_version") == model_version:
            return Path(registry).parent / entry["path"]
    return None

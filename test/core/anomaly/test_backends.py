"""The backbone's runtimes agree: ONNX Runtime vs the torch reference (and FP16 where a GPU
exists).

Tolerance: ONNX Runtime vs torch FP32 must agree within 1e-3 absolute + 1e-3 relative on the raw
layer outputs (observed max difference ~1e-5); FP16 backends within 5e-2 relative of the
feature norm.
"""

from pathlib import Path

import numpy as np
import pytest

from inspection_nodes.core.anomaly import backbone as bb
from inspection_nodes.core.anomaly.backends import TorchBackend, create_backend
from inspection_nodes.core.anomaly.onnx_export import export_onnx
from inspection_nodes.core.inference.backends import BackendError, OnnxRuntimeBackend


@pytest.fixture(scope="module")
def onnx_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("onnx") / "backbone.onnx"
    return export_onnx(bb.build_backbone(), path, 224)


@pytest.fixture(scope="module")
def images() -> np.ndarray:
    return np.random.default_rng(0).random((2, 3, 224, 224), dtype=np.float32)


def test_onnxruntime_matches_torch(onnx_path: Path, images: np.ndarray) -> None:
    ort_out = OnnxRuntimeBackend(onnx_path)(images)
    torch_out = TorchBackend("efficientnet_lite0")(images)
    assert [o.shape for o in ort_out] == [(2, 40, 28, 28), (2, 112, 14, 14)]
    for a, b in zip(ort_out, torch_out, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-3, rtol=1e-3)


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


def test_unknown_backend_is_named(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="unknown backend 'tflite'"):
        create_backend("tflite", tmp_path / "x.onnx", "efficientnet_lite0")
    runner = create_backend(
        "onnxruntime",
        export_onnx(bb.build_backbone(), tmp_path / "b.onnx", 64),
        "efficientnet_lite0",
    )
    assert runner.name == "onnxruntime" and runner.device == "cpu"

"""The backbone's three runtimes, by name: ONNX Runtime, TensorRT (both run the exported ONNX
file, core/inference/backends.py) and torch (the network rebuilt from its weights package).

    runner = create_backend("onnxruntime", model_dir / "backbone.onnx", "efficientnet_lite0")
    features = runner(images)   # float32 (N, 3, S, S) in [0, 1] -> per layer (N, C_i, h_i, w_i)
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inspection_nodes.core.inference.backends import (
    BACKEND_NAMES,
    BackendError,
    FeatureBackend,
    OnnxRuntimeBackend,
    TensorRTBackend,
)


class TorchBackend:
    """The torch backbone itself: FP32 on CPU (the reference), FP16 on CUDA by default."""

    name = "torch"

    def __init__(self, backbone: str, device: str = "cpu", fp16: bool | None = None) -> None:
        import torch

        from inspection_nodes.core.anomaly.backbone import build_backbone

        if device == "cuda" and not torch.cuda.is_available():
            raise BackendError("torch backend asked for cuda but no CUDA device is available")
        self._torch = torch
        self.device = device
        self.fp16 = (device == "cuda") if fp16 is None else fp16
        self.model = build_backbone(backbone).to(device)
        if self.fp16:
            self.model = self.model.half()
        self._dtype = torch.float16 if self.fp16 else torch.float32

    def __call__(self, images: np.ndarray) -> list[np.ndarray]:
        torch = self._torch
        with torch.inference_mode():
            x = torch.from_numpy(images).to(self.device, self._dtype)
            return [f.float().cpu().numpy() for f in self.model(x)]


def create_backend(
    kind: str, onnx_path: Path, backbone: str, device: str = "cpu", spin: bool = False
) -> FeatureBackend:
    """Create a backend by name; raises BackendError with the reason when it cannot run here.

    `spin` applies to ONNX Runtime's thread pool only (see OnnxRuntimeBackend).
    """
    if kind == "onnxruntime":
        return OnnxRuntimeBackend(onnx_path, device=device, spin=spin)
    if kind == "tensorrt":
        return TensorRTBackend(onnx_path)
    if kind == "torch":
        return TorchBackend(backbone, device=device)
    raise BackendError(f"unknown backend {kind!r}; choose one of {', '.join(BACKEND_NAMES)}")

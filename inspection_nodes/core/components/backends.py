"""Feature backends behind one interface: ONNX Runtime, TensorRT, torch.

Every backend maps float32 images (N, 3, S, S) in [0, 1] to the chosen layer outputs, a list of
float32 (N, C_i, h_i, w_i) numpy arrays in the order of `BackboneSpec.layers`. The ONNX file is the
single source of truth: ONNX Runtime runs it directly, TensorRT builds an FP16 engine from it, and
the torch backend rebuilds the same network from the shipped weights (reference, and CUDA FP16
where a GPU exists).

Measured agreement (test/core/components/test_backends.py): ONNX Runtime vs torch FP32 within
1e-3 absolute on features of magnitude ~1-10; FP16 backends (TensorRT, torch CUDA) are expected
within about 5e-2 relative.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from inspection_nodes.core.components.onnx_export import INPUT_NAME, file_sha256

BACKEND_NAMES = ("onnxruntime", "tensorrt", "torch")


class BackendError(RuntimeError):
    """A backend cannot be created here (missing library, no GPU, bad model file)."""


class FeatureBackend(Protocol):
    """Runs the backbone. `name` is one of BACKEND_NAMES; `device` is 'cpu' or 'cuda'."""

    name: str
    device: str

    def __call__(self, images: np.ndarray) -> list[np.ndarray]:
        """float32 (N, 3, S, S) in [0, 1] -> per layer float32 (N, C_i, h_i, w_i)."""
        ...


def default_threads() -> int:
    """Intra-op threads: all cores up to 4 (more only adds sync overhead for a small CNN)."""
    return max(1, min(4, os.cpu_count() or 1))


class OnnxRuntimeBackend:
    """ONNX Runtime session created once and reused for every image."""

    name = "onnxruntime"

    def __init__(
        self,
        onnx_path: Path,
        device: str = "cpu",
        threads: int | None = None,
        spin: bool = False,
    ) -> None:
        """`spin`: let the worker threads busy-wait between the graph's parallel sections.

        Faster for a process that owns the CPU (the engine benchmark: 0.8 ms of 7 per image
        on 2 cores), slower where other processes need the same cores right after a run (the
        node graph, where the scorer is another process), so off by default.
        """
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or default_threads()
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
        providers = ["CPUExecutionProvider"]
        if device == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise BackendError("onnxruntime here has no CUDAExecutionProvider; use device=cpu")
            providers.insert(0, "CUDAExecutionProvider")
        try:
            self.session = ort.InferenceSession(str(onnx_path), options, providers=providers)
        except Exception as exc:  # onnxruntime raises several private exception types
            raise BackendError(f"cannot load ONNX model {onnx_path}: {exc}") from exc
        self.device = device
        self._outputs = [o.name for o in self.session.get_outputs()]

    def __call__(self, images: np.ndarray) -> list[np.ndarray]:
        return self.session.run(self._outputs, {INPUT_NAME: images})


class TorchBackend:
    """The torch module itself: FP32 on CPU (the reference), FP16 on CUDA by default."""

    name = "torch"

    def __init__(self, backbone: str, device: str = "cpu", fp16: bool | None = None) -> None:
        import torch

        from inspection_nodes.core.components.backbone import build_backbone

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


def tensorrt_engine_path(onnx_path: Path, trt_version: str, fp16: bool = True) -> Path:
    """Cache path next to the ONNX file, keyed by the ONNX content and the TensorRT version.

    A changed ONNX file or an upgraded TensorRT gives a new name, so a stale engine is never
    deserialised (TensorRT engines are not portable across versions or GPUs).
    """
    onnx_path = Path(onnx_path)
    tag = f"trt{trt_version}.{file_sha256(onnx_path)[:16]}.{'fp16' if fp16 else 'fp32'}"
    return onnx_path.with_name(f"{onnx_path.stem}.{tag}.engine")


class TensorRTBackend:
    """TensorRT engine built from the ONNX file with FP16, cached next to it.

    Device buffers are torch CUDA tensors (no pycuda needed); input batch 1..max_batch.
    """

    name = "tensorrt"

    def __init__(self, onnx_path: Path, fp16: bool = True, max_batch: int = 8) -> None:
        try:
            import tensorrt as trt
        except ImportError as exc:
            raise BackendError(f"tensorrt is not installed here ({exc})") from exc
        import torch

        if not torch.cuda.is_available():
            raise BackendError("tensorrt backend needs a CUDA device")
        self._trt, self._torch = trt, torch
        self.device = "cuda"
        self.logger = trt.Logger(trt.Logger.WARNING)
        self.engine_path = tensorrt_engine_path(onnx_path, trt.__version__, fp16)
        if not self.engine_path.exists():
            self._build(Path(onnx_path), fp16, max_batch)
        runtime = trt.Runtime(self.logger)
        self.engine = runtime.deserialize_cuda_engine(self.engine_path.read_bytes())
        if self.engine is None:
            raise BackendError(f"cannot deserialise TensorRT engine {self.engine_path}")
        self.context = self.engine.create_execution_context()
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        self._outputs = [
            n for n in names if self.engine.get_tensor_mode(n) == trt.TensorIOMode.OUTPUT
        ]
        self._stream = torch.cuda.Stream()

    def _build(self, onnx_path: Path, fp16: bool, max_batch: int) -> None:
        trt = self._trt
        builder = trt.Builder(self.logger)
        network = builder.create_network(0)
        parser = trt.OnnxParser(network, self.logger)
        if not parser.parse(onnx_path.read_bytes()):
            errors = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
            raise BackendError(f"TensorRT cannot parse {onnx_path}: {errors}")
        config = builder.create_builder_config()
        if fp16:
            config.set_flag(trt.BuilderFlag.FP16)
        shape = tuple(network.get_input(0).shape)[1:]
        profile = builder.create_optimization_profile()
        profile.set_shape(INPUT_NAME, (1, *shape), (1, *shape), (max_batch, *shape))
        config.add_optimization_profile(profile)
        serialized = builder.build_serialized_network(network, config)
        if serialized is None:
            raise BackendError(f"TensorRT engine build failed for {onnx_path}")
        tmp = self.engine_path.with_suffix(".tmp")
        tmp.write_bytes(bytes(serialized))
        os.replace(tmp, self.engine_path)

    def __call__(self, images: np.ndarray) -> list[np.ndarray]:
        torch = self._torch
        x = torch.from_numpy(np.ascontiguousarray(images)).cuda()
        self.context.set_input_shape(INPUT_NAME, tuple(x.shape))
        self.context.set_tensor_address(INPUT_NAME, x.data_ptr())
        outs = []
        for name in self._outputs:
            out = torch.empty(tuple(self.context.get_tensor_shape(name)), device="cuda")
            self.context.set_tensor_address(name, out.data_ptr())
            outs.append(out)
        with torch.cuda.stream(self._stream):
            self.context.execute_async_v3(self._stream.cuda_stream)
        self._stream.synchronize()
        return [o.cpu().numpy() for o in outs]


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

"""ONNX runtimes shared by the embedding backbone (core/anomaly/) and the YOLO detector
(core/detector/): ONNX Runtime directly, TensorRT through an FP16 engine built from the same file.

Every backend maps a float32 batch (N, 3, S, S) to the graph's outputs, a list of float32 numpy
arrays in output order (the backbone: one (N, C_i, h_i, w_i) per layer of `BackboneSpec.layers`).
The ONNX file is the single source of truth; the backbone's torch reference backend is in
core/anomaly/backends.py.

Measured agreement (test/core/anomaly/test_backends.py): ONNX Runtime vs torch FP32 within
1e-3 absolute on features of magnitude ~1-10; FP16 backends (TensorRT, torch CUDA) are expected
within about 5e-2 relative.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import numpy as np

from inspection_nodes.core.common.files import file_sha256

BACKEND_NAMES = ("onnxruntime", "tensorrt", "torch")
INPUT_NAME = "images"  # the input of every ONNX graph the cell runs (backbone and detector)


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

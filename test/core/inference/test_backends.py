"""ONNX runtimes shared by the backbone and the detector: loading errors, the TensorRT cache key."""

from pathlib import Path

import numpy as np
import pytest

from inspection_nodes.core.inference import backends


def test_bad_onnx_is_a_backend_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not onnx")
    with pytest.raises(backends.BackendError, match="cannot load"):
        backends.OnnxRuntimeBackend(bad)


def test_runs_any_onnx_graph_with_its_named_input(tmp_path: Path) -> None:
    """A two-output graph built with the onnx helper runs through the same backend."""
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, ["n", 2])
    outs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["n", 2]) for n in ("a", "b")]
    graph = helper.make_graph(
        [helper.make_node("Relu", ["images"], ["a"]), helper.make_node("Neg", ["images"], ["b"])],
        "g",
        [x],
        outs,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, tmp_path / "g.onnx")
    backend = backends.OnnxRuntimeBackend(tmp_path / "g.onnx", threads=1)
    a, b = backend(np.array([[-1.0, 2.0]], np.float32))
    np.testing.assert_array_equal(a, [[0.0, 2.0]])
    np.testing.assert_array_equal(b, [[1.0, -2.0]])
    assert 1 <= backends.default_threads() <= 4


def test_tensorrt_cache_key_changes_with_onnx_and_version(tmp_path: Path) -> None:
    onnx = tmp_path / "m.onnx"
    onnx.write_bytes(b"a")
    first = backends.tensorrt_engine_path(onnx, "10.0")
    assert first.parent == tmp_path and first.suffix == ".engine"
    assert backends.tensorrt_engine_path(onnx, "10.1") != first
    onnx.write_bytes(b"b")
    assert backends.tensorrt_engine_path(onnx, "10.0") != first

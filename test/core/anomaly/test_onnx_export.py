"""ONNX export of the backbone: one named output per layer, any batch size."""

from pathlib import Path

import numpy as np
import onnxruntime as ort

from inspection_nodes.core.anomaly import backbone as bb
from inspection_nodes.core.anomaly.onnx_export import export_onnx, output_names
from inspection_nodes.core.inference.backends import INPUT_NAME


def test_export_names_every_layer_and_keeps_the_batch_dynamic(tmp_path: Path) -> None:
    extractor = bb.build_backbone()
    path = export_onnx(extractor, tmp_path / "deep" / "backbone.onnx", 64)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == [INPUT_NAME]
    assert [o.name for o in session.get_outputs()] == output_names(extractor)
    assert output_names(extractor) == ["blocks_2", "blocks_4"]
    batch = np.zeros((3, 3, 64, 64), np.float32)
    outs = session.run(None, {INPUT_NAME: batch})
    assert [o.shape for o in outs] == [(3, 40, 8, 8), (3, 112, 4, 4)]

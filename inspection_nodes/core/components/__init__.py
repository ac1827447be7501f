"""Shared parts of the anomaly models: backbone, ONNX export, backends, sampling, aggregation.

Submodules are imported on demand (torch is only needed by backbone/onnx_export/torch backend).
"""

__all__ = ["backbone", "backends", "feature_aggregation", "onnx_export", "sampling"]

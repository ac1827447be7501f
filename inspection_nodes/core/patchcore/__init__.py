"""PatchCore: memory bank of locally aware patch features, kNN scoring, smoothed anomaly map."""

from inspection_nodes.core.patchcore.anomaly_map import AnomalyMapGenerator
from inspection_nodes.core.patchcore.enroll import PatchCoreConfig, add_normals, fit_patchcore
from inspection_nodes.core.patchcore.model import PatchCoreBank, PatchCoreModel

__all__ = [
    "AnomalyMapGenerator",
    "PatchCoreBank",
    "PatchCoreConfig",
    "PatchCoreModel",
    "add_normals",
    "fit_patchcore",
]

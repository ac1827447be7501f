"""PaDiM: per-position Gaussian of patch features, Mahalanobis anomaly map."""

from inspection_nodes.core.padim.model import PadimModel, PadimStats, add_normals, fit_padim

__all__ = ["PadimModel", "PadimStats", "add_normals", "fit_padim"]

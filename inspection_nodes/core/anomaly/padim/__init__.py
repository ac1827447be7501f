"""PaDiM: per-position Gaussian of patch features, Mahalanobis anomaly map."""

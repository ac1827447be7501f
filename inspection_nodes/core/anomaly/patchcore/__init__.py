"""PatchCore: memory bank of locally aware patch features, kNN scoring, smoothed anomaly map."""

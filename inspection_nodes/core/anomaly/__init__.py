"""Anomaly scoring, the embedding and scoring nodes' logic: backbone (torch weights, ONNX export,
the three runtimes), patch features, PatchCore and PaDiM, thresholds, heatmaps; the model
directory (artifact, typed manifest, registry of versions) and how versions are made
(enrollment of a new station, recalibration of a running one); the engine that runs a model."""

"""Where the networks run: ONNX Runtime and TensorRT runners shared by the embedding backbone
(core/anomaly/) and the YOLO detector (core/detector/)."""

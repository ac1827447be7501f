"""Known-defect detection, the detector node's logic: the YOLO detector and its model directory
and registry, DeepPCB and YOLO data layouts, training, INT8 quantization, mAP evaluation, and the
retrain trigger that deploys a candidate only when it is not worse."""

"""Images in: camera sources (folder, video, device, bag), pacing of the camera, ROI extraction
and the area resize, sensor_msgs/Image encodings as numpy, MCAP bags without ROS, the MVTec
layout of the shared data sets, and the capture-stamp -> unit-id table."""

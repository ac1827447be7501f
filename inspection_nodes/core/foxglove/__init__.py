"""Live debugging in Foxglove: which topics the foxglove node offers, with which ROS 2 schema
(channels), and the light JPEG form of images for clients on a slow link (channels)."""

"""Thin rclpy wrappers, one module per node; all logic lives in inspection_nodes.core."""

"""Automated visual inspection cell: pure logic in `core`, thin rclpy wrappers in `nodes`."""

__version__ = "0.1.0"

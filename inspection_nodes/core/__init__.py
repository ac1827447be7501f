"""Pure logic of the cell: plain Python and numpy, no rclpy and no message types."""

"""Reject actuation: when to pulse (scheduler), whether (dedup, fail-safe), and where (outputs).

Pure Python apart from the optional hardware libraries each output imports; no rclpy here.
"""

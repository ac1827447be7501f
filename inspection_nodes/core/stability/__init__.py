"""Drift of a station's normal, the stability node's logic: the stability index over a rolling
window (index) against what normal looked like (baseline), the pictures for rqt and for a
recalibration (plot), which model version the window belongs to (following), and the units
captured for a recalibration (capture). New model versions themselves are made in
core/anomaly/recalibration.py."""

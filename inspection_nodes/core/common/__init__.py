"""What every stage shares: event counters, health levels, provenance, small file helpers."""

"""What every stage shares: declared event counters, the health level, provenance (time, code
version, version stamps), atomic JSON files and file hashes, the SQLite connection, latency
percentiles."""

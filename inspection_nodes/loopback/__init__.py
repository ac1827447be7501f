"""Services the project starts for itself on loopback: a throw-away mosquitto broker for tests,
the bridge benchmark and the backend's embedded default. Not used by the cell at run time."""

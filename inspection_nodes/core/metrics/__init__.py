"""Cell KPIs for the plant's monitoring: what the metrics node exports on `/metrics` for
Prometheus (exporter), and the low-cardinality label of a FAIL reason (reasons)."""

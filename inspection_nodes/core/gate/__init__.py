"""PASS/FAIL per unit, the gate node's logic: unit bookkeeping with deadlines and views (gate),
the rules that judge one view and the station configuration (rules), and run-time threshold
changes (threshold_change)."""

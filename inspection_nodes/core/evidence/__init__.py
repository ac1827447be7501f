"""Evidence and accountability, the recorder's logic: every unit's images, results, verdict,
actuator event and dispositions joined by capture stamp (pending), encrypted at rest (crypto) in
a size- and age-bounded SQLite store (store); operator dispositions (dispositions); and the
hash-chained audit log shared by gate, recorder and bridge (audit)."""

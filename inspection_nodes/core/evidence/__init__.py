"""Evidence of every unit (images, results, verdict, actuator event, dispositions), encrypted at
rest in a size- and age-bounded SQLite store."""

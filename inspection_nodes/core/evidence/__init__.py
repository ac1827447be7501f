"""Evidence of every unit (images, results, verdict, actuator event, dispositions), encrypted at
rest in a size- and age-bounded SQLite store."""

from inspection_nodes.core.evidence.crypto import Cipher, EvidenceKeyError, load_key
from inspection_nodes.core.evidence.store import EvictionReport, EvidenceItem, EvidenceStore

__all__ = [
    "Cipher",
    "EvictionReport",
    "EvidenceItem",
    "EvidenceKeyError",
    "EvidenceStore",
    "load_key",
]

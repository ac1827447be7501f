"""Event counters: declared names start at 0, counting is thread-safe, snapshots are sorted."""

import threading
from enum import StrEnum

from inspection_nodes.core.common.counters import EventCounters


class Counter(StrEnum):
    FRAMES = "frames"
    REJECTED = "rejected"


def test_declared_counters_are_reported_at_zero_from_the_start():
    counters = EventCounters(Counter)
    assert counters.snapshot() == {"frames": 0, "rejected": 0}
    assert counters.declared == {"frames", "rejected"}
    counters.inc(Counter.REJECTED, 3)
    assert counters.get(Counter.REJECTED) == counters.get("rejected") == 3
    assert list(counters.snapshot()) == ["frames", "rejected"]


def test_counting_from_many_threads_loses_nothing():
    counters = EventCounters(Counter)

    def work() -> None:
        for _ in range(2000):
            counters.inc(Counter.FRAMES)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counters.get(Counter.FRAMES) == 8000

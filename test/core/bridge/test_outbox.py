"""Outbox: ordering, idempotent ids, overflow accounting, acks in any order, and a reopen that
loses nothing (the MQTT drain is in test_mqtt_link.py)."""

from __future__ import annotations

from pathlib import Path

from helpers.outbox import fill

from inspection_nodes.core.bridge.outbox import Outbox


def test_put_is_ordered_and_idempotent(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    fill(box, 5)
    assert not box.put("m00002", "t", b"again")
    assert [m.msg_id for m in box.after(0, 10)] == [f"m{i:05d}" for i in range(5)]
    second = box.after(0, 10)[1].seq
    assert [m.msg_id for m in box.after(second, 2)] == ["m00002", "m00003"]


def test_ack_out_of_order_and_survive_reopen(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db")
    fill(box, 4)
    seqs = [m.seq for m in box.after(0, 10)]
    box.ack([seqs[2], seqs[0]])
    box.close()
    again = Outbox(tmp_path / "o.db")
    assert [m.msg_id for m in again.after(0, 10)] == ["m00001", "m00003"]


def test_overflow_drops_oldest_and_counts(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", max_messages=3)
    fill(box, 5)
    assert [m.msg_id for m in box.after(0, 10)] == ["m00002", "m00003", "m00004"]
    assert box.dropped() == 2

"""The fake plant systems behave like the real ones where it matters: idempotency keys,
counted calls, injected failures, 400 without a key."""

from __future__ import annotations

import httpx


def test_idempotency_key_counts_and_failures(fakes):
    base = f"http://127.0.0.1:{fakes.port}"
    body = {"hold_id": "h1", "line_id": "l", "cell_id": "c", "reason": "r"}
    one = httpx.post(f"{base}/mes/holds", json=body, headers={"Idempotency-Key": "h1"})
    two = httpx.post(f"{base}/mes/holds", json=body, headers={"Idempotency-Key": "h1"})
    assert one.json() == two.json() == {"ref": "MES-h1"}
    assert httpx.post(f"{base}/mes/holds", json=body).status_code == 400
    httpx.post(f"{base}/_fail?count=1&status=500", json={})
    failed = httpx.post(f"{base}/notify", json={"event": "e"}, headers={"Idempotency-Key": "n"})
    assert failed.status_code == 500
    state = httpx.get(f"{base}/_state").json()
    assert state["calls"] == {"POST /mes/holds": 3, "POST /notify": 1}
    assert list(state["holds"]) == ["h1"] and state["notifications"] == []

"""REST calls: retried on 5xx and transport errors with the same idempotency key, refused on
4xx at once, given up after the last attempt (the fake counts every call)."""

from __future__ import annotations

import httpx
import pytest

from inspection_backend.adapters.http import AdapterError, RestClient
from inspection_backend.services.postgres import free_port


def test_retries_on_503_with_the_same_key_and_the_effect_once(fakes):
    httpx.post(f"http://127.0.0.1:{fakes.port}/_fail?count=2&status=503", json={})
    client = RestClient(fakes.url("qms"), "QMS", attempts=4, backoff_s=0.01)
    answer = client.call("POST", "/ncrs", "ncr:N-1", {"number": "N-1", "state": "draft"})
    again = client.call("POST", "/ncrs", "ncr:N-1", {"number": "N-1", "state": "draft"})
    state = fakes.state.snapshot()
    assert answer == again == {"ref": "QMS-1"}
    assert state["calls"]["POST /qms/ncrs"] == 4 and len(state["ncrs"]) == 1


def test_client_errors_are_final(fakes):
    client = RestClient(fakes.url("qms"), "QMS", attempts=5, backoff_s=0.01)
    with pytest.raises(AdapterError, match="refused: HTTP 404"):
        client.call("PATCH", "/ncrs/unknown", "k", {"state": "open"})
    assert fakes.state.snapshot()["calls"]["PATCH /qms/ncrs/unknown"] == 1


def test_unreachable_system_fails_after_every_attempt():
    client = RestClient(f"http://127.0.0.1:{free_port()}", "MES", attempts=3, backoff_s=0.01)
    with pytest.raises(AdapterError, match="failed 3 times: ConnectError"):
        client.call("POST", "/holds", "hold:x", {})

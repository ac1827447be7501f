"""REST calls to plant systems: retried with backoff, each carrying an idempotency key.

A workflow step that is re-run after a crash repeats its call with the same key, so the other
system can recognise it (the usual `Idempotency-Key` header of payment and ticket APIs) and
answer with what it did the first time instead of doing it again. Connection errors, timeouts,
429 and 5xx are retried; other 4xx answers are final and raise.
"""

from __future__ import annotations

import time
from typing import Any

import httpx


class AdapterError(RuntimeError):
    """The other system refused the call or stayed unreachable after every retry."""


class RestClient:
    def __init__(
        self,
        base_url: str,
        system: str,
        timeout_s: float = 5.0,
        attempts: int = 5,
        backoff_s: float = 0.2,
        token: str = "",
    ) -> None:
        if attempts < 1:
            raise ValueError("attempts must be >= 1")
        self.system = system
        self._attempts = attempts
        self._backoff_s = backoff_s
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=timeout_s, headers=headers
        )

    def call(
        self, method: str, path: str, idempotency_key: str, payload: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """One logical call, retried; returns the JSON answer ({} when it has no body)."""
        delay = self._backoff_s
        last = ""
        for attempt in range(1, self._attempts + 1):
            try:
                response = self._client.request(
                    method, path, json=payload, headers={"Idempotency-Key": idempotency_key}
                )
            except httpx.TransportError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code < 400:
                    return response.json() if response.content else {}
                last = f"HTTP {response.status_code}: {response.text[:200]}"
                if response.status_code != 429 and response.status_code < 500:
                    raise AdapterError(f"{self.system} {method} {path} refused: {last}")
            if attempt < self._attempts:
                time.sleep(delay)
                delay = min(delay * 2, 5.0)
        raise AdapterError(f"{self.system} {method} {path} failed {self._attempts} times: {last}")

    def close(self) -> None:
        self._client.close()

"""Small real HTTP stand-ins for the plant's MES, QMS, ERP and notifier (we cannot run theirs).

One stdlib HTTP server on loopback serves `/mes`, `/qms`, `/erp` and `/notify` with the paths
of `adapters.plant_systems`. Like the real systems it honours idempotency keys: a repeated key
gets the first answer and changes nothing. It counts every call (repeats included) and keeps
what it holds (holds, NCRs, rework orders, notifications), readable at `GET /_state`, so tests
and the demo can check "exactly one NCR per case". `POST /_fail?count=N&status=503` makes the
next N calls fail, to exercise retries.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class FakeState:
    calls: Counter = field(default_factory=Counter)  # "POST /qms/ncrs" -> count, repeats too
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key -> answer
    holds: dict[str, dict[str, Any]] = field(default_factory=dict)
    ncrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    rework_orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    fail_next: int = 0
    fail_status: int = 503
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "calls": dict(self.calls),
                "holds": dict(self.holds),
                "ncrs": dict(self.ncrs),
                "rework_orders": dict(self.rework_orders),
                "notifications": list(self.notifications),
            }


def _apply(state: FakeState, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """What each system does with a (first-time) call; returns its JSON answer."""
    parts = path.strip("/").split("/")
    if parts[:2] == ["mes", "holds"] and len(parts) == 2:
        state.holds[body["hold_id"]] = {**body, "state": "held"}
        return {"ref": f"MES-{body['hold_id']}"}
    if parts[:2] == ["mes", "holds"] and parts[-1] == "release":
        hold = state.holds.setdefault(parts[2], {"hold_id": parts[2]})
        hold.update(state="released", released_by=body.get("by"))
        return {"ref": f"MES-{parts[2]}"}
    if parts[:2] == ["mes", "rework-orders"]:
        state.rework_orders[body["ncr"]] = body
        return {"ref": f"RW-{len(state.rework_orders)}"}
    if parts[:2] == ["qms", "ncrs"] and method == "POST":
        ref = f"QMS-{len(state.ncrs) + 1}"
        state.ncrs[body["number"]] = {**body, "qms_ref": ref, "history": [body.get("state")]}
        return {"ref": ref}
    if parts[:2] == ["qms", "ncrs"] and method == "PATCH":
        ncr = state.ncrs.get(parts[2])
        if ncr is None:
            raise KeyError(parts[2])
        ncr.update(body)
        ncr["history"].append(body.get("state"))
        return {"ref": ncr["qms_ref"]}
    if parts == ["erp", "scrap-cost"]:
        return {"cost": 12.5 if body.get("defect_class") else 0.0, "currency": "EUR"}
    if parts == ["notify"]:
        state.notifications.append(body)
        return {}
    raise KeyError(path)


def _handler(state: FakeState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_args: Any) -> None:  # quiet: tests read /_state instead
            return

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/_state":
                self._send(200, state.snapshot())
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:
            self._call("POST")

        def do_PATCH(self) -> None:
            self._call("PATCH")

        def _call(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                self._send(400, {"error": "not JSON"})
                return
            if url.path == "/_fail":
                query = parse_qs(url.query)
                with state.lock:
                    state.fail_next = int(query.get("count", ["1"])[0])
                    state.fail_status = int(query.get("status", ["503"])[0])
                self._send(200, {})
                return
            status, answer = self._answer(method, url.path, body)
            self._send(status, answer)

        def _answer(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, dict]:
            key = self.headers.get("Idempotency-Key", "")
            with state.lock:
                state.calls[f"{method} {path}"] += 1
                if state.fail_next > 0:
                    state.fail_next -= 1
                    return state.fail_status, {"error": "injected failure"}
                if not key:
                    return 400, {"error": "Idempotency-Key header required"}
                if key in state.answers:
                    return 200, state.answers[key]
                try:
                    answer = _apply(state, method, path, body)
                except KeyError as exc:
                    return 404, {"error": f"unknown {exc}"}
                state.answers[key] = answer
                return 200, answer

    return Handler


class FakePlantSystems:
    """The fake server on a free loopback port; `url('qms')` is the base URL for an adapter."""

    def __init__(self, port: int = 0) -> None:
        self.state = FakeState()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self.state))
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, system: str) -> str:
        return f"http://127.0.0.1:{self.port}/{system}"

    def start(self) -> FakePlantSystems:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakePlantSystems:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

"""The plant systems a workflow talks to, behind small interfaces: MES (hold, release, rework
order), QMS (NCRs), ERP (scrap cost) and a notifier (webhook for chat or SMS gateways).

Each has a REST implementation and a "not configured" one (no URL set): a plant without a QMS
still gets NCRs in the backend, the step gets None (no reference) and goes on. The REST paths are
the contract the fakes in `inspection_backend/fakes/` implement; a real plant maps them in a
small gateway or replaces the class.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from inspection_backend.adapters.http import RestClient


class Mes(Protocol):
    def hold(self, hold_id: str, line_id: str, cell_id: str, reason: str) -> str | None: ...
    def release(self, hold_id: str, released_by: str) -> str | None: ...
    def rework_order(self, ncr_number: str, unit_id: str, note: str) -> str | None: ...


class Qms(Protocol):
    def create_ncr(self, ncr: dict[str, Any]) -> str | None: ...
    def update_ncr(self, number: str, state: str, fields: dict[str, Any]) -> str | None: ...


class Erp(Protocol):
    def scrap_cost(self, key: str, sku: str | None, defect_class: str) -> float | None: ...


class Notifier(Protocol):
    def notify(self, key: str, event: str, text: str) -> str | None: ...


class RestMes:
    def __init__(self, client: RestClient) -> None:
        self._c = client

    def hold(self, hold_id: str, line_id: str, cell_id: str, reason: str) -> str:
        body = {"hold_id": hold_id, "line_id": line_id, "cell_id": cell_id, "reason": reason}
        return str(self._c.call("POST", "/holds", hold_id, body).get("ref", ""))

    def release(self, hold_id: str, released_by: str) -> str:
        answer = self._c.call(
            "POST", f"/holds/{hold_id}/release", f"release:{hold_id}", {"by": released_by}
        )
        return str(answer.get("ref", ""))

    def rework_order(self, ncr_number: str, unit_id: str, note: str) -> str:
        body = {"ncr": ncr_number, "unit_id": unit_id, "note": note}
        return str(
            self._c.call("POST", "/rework-orders", f"rework:{ncr_number}", body).get("ref", "")
        )


class RestQms:
    def __init__(self, client: RestClient) -> None:
        self._c = client

    def create_ncr(self, ncr: dict[str, Any]) -> str:
        return str(self._c.call("POST", "/ncrs", f"ncr:{ncr['number']}", ncr).get("ref", ""))

    def update_ncr(self, number: str, state: str, fields: dict[str, Any]) -> str:
        answer = self._c.call(
            "PATCH", f"/ncrs/{number}", f"ncr:{number}:{state}", {"state": state, **fields}
        )
        return str(answer.get("ref", ""))


class RestErp:
    def __init__(self, client: RestClient) -> None:
        self._c = client

    def scrap_cost(self, key: str, sku: str | None, defect_class: str) -> float | None:
        body = {"sku": sku or "", "defect_class": defect_class}
        cost = self._c.call("POST", "/scrap-cost", key, body).get("cost")
        return float(cost) if cost is not None else None


class WebhookNotifier:
    def __init__(self, client: RestClient) -> None:
        self._c = client

    def notify(self, key: str, event: str, text: str) -> str:
        self._c.call("POST", "", key, {"event": event, "text": text})
        return "sent"


class Unconfigured:
    """Stands in for a system the plant has not configured: calls nothing, returns None."""

    def hold(self, *_args: Any) -> None:
        return None

    release = rework_order = create_ncr = update_ncr = notify = hold

    scrap_cost = hold


@dataclass(frozen=True)
class PlantSystems:
    mes: Mes
    qms: Qms
    erp: Erp
    notifier: Notifier

    @classmethod
    def from_urls(cls, mes: str, qms: str, erp: str, notify: str) -> PlantSystems:
        def rest(url: str, system: str, kind: type) -> Any:
            return kind(RestClient(url, system)) if url else Unconfigured()

        return cls(
            mes=rest(mes, "MES", RestMes),
            qms=rest(qms, "QMS", RestQms),
            erp=rest(erp, "ERP", RestErp),
            notifier=rest(notify, "notifier", WebhookNotifier),
        )

"""The REST adapters against the fake plant systems; unconfigured systems call nothing."""

from __future__ import annotations

from inspection_backend.adapters.plant_systems import PlantSystems, Unconfigured


def test_adapters_speak_the_fakes_paths(fakes):
    systems = PlantSystems.from_urls(
        fakes.url("mes"), fakes.url("qms"), fakes.url("erp"), fakes.url("notify")
    )
    assert systems.mes.hold("hold:1", "line-1", "cell-1", "crack") == "MES-hold:1"
    assert systems.mes.release("hold:1", "erin") == "MES-hold:1"
    assert systems.mes.rework_order("NCR-1", "u1", "rework") == "RW-1"
    assert systems.qms.create_ncr({"number": "NCR-1", "state": "draft"}) == "QMS-1"
    assert systems.qms.update_ncr("NCR-1", "open", {"disposition": "rework"}) == "QMS-1"
    assert systems.erp.scrap_cost("cost:NCR-1", "SKU", "crack") == 12.5
    assert systems.notifier.notify("n:1", "line_hold", "held") == "sent"
    state = fakes.state.snapshot()
    assert state["holds"]["hold:1"]["state"] == "released"
    assert state["ncrs"]["NCR-1"]["history"] == ["draft", "open"]
    assert state["notifications"] == [{"event": "line_hold", "text": "held"}]


def test_unconfigured_systems_return_none():
    systems = PlantSystems.from_urls("", "", "", "")
    assert all(isinstance(s, Unconfigured) for s in vars(systems).values())
    assert systems.qms.create_ncr({"number": "x"}) is None
    assert systems.erp.scrap_cost("k", None, "c") is None

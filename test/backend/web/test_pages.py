"""The quality engineer's page in a real headless Chromium (Debian chromium driven by PyPI
playwright): keyboard review, NCR signature, line-hold banner and release, roles and CSRF.
Screenshots go to tmp_path; with BACKEND_SCREENSHOTS=1 they are also copied to docs/images."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from helpers.backend_services import REPO, add_user, wait_until

from inspection_backend.settings import MqttSettings
from inspection_backend.simulator import messages as m
from inspection_backend.simulator.cell import SimulatedCell
from inspection_backend.simulator.evidence import mask_features, unit_pictures

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORDS = {"erin": "engineer-pass-1", "olga": "operator-pass-1"}


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        pytest.skip("no browser: /usr/bin/chromium is not installed (apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def plant(serve, database_url, shared_data):
    """A running backend with users, three units to review and one critical unit with its
    evidence (real MVTec bottle images; the heatmap is drawn from the ground-truth mask)."""
    add_user(database_url, "erin", PASSWORDS["erin"], "engineer")
    add_user(database_url, "olga", PASSWORDS["olga"], "operator")
    backend = serve()
    cell = SimulatedCell(
        MqttSettings("127.0.0.1", backend.info["mqtt_port"]), ["cell-1"], backend.info["public_key"]
    ).start()
    bottle = shared_data / "mvtec_ad" / "bottle"
    now = time.time_ns()
    for i, name in enumerate(("000", "001", "002")):
        image, _ = unit_pictures(bottle / "test" / "good" / f"{name}.png", None)
        ev = m.evidence("cell-1", f"r{i}", "image", image, "image/png")
        cell.publish_cell(ev)
        cell.publish_cell(
            m.verdict(
                "cell-1",
                f"r{i}",
                now + i,
                "FAIL",
                2.1 + i * 0.05,
                2.0,
                evidence={"image_sha256": ev["body"]["sha256"]},
            )
        )
    defect = bottle / "test" / "broken_large" / "000.png"
    mask = bottle / "ground_truth" / "broken_large" / "000_mask.png"
    image, heatmap = unit_pictures(defect, mask)
    ev_image = m.evidence("cell-1", "crit", "image", image, "image/png")
    ev_heat = m.evidence("cell-1", "crit", "heatmap", heatmap, "image/png")
    for message in (ev_image, ev_heat):
        cell.publish_cell(message)
    cell.publish_cell(
        m.verdict(
            "cell-1",
            "crit",
            now + 10,
            "FAIL",
            6.5,
            2.0,
            anomaly=mask_features(mask),
            evidence={
                "image_sha256": ev_image["body"]["sha256"],
                "heatmap_sha256": ev_heat["body"]["sha256"],
            },
        )
    )
    yield backend, cell
    cell.stop()


def login(browser, backend, username: str):
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(backend.url + "/cases")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORDS[username])
    page.click("button[type=submit]")
    page.wait_for_url("**/cases")
    return page


def shot(page, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"backend-{name}.png"
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(path))
    if os.environ.get("BACKEND_SCREENSHOTS") == "1":
        shutil.copy(path, REPO / "docs" / "images" / path.name)


def states(engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT unit_id, state, outcome, confirmed_class FROM cases"))
        return {r.unit_id: (r.state, r.outcome, r.confirmed_class) for r in rows}


def test_review_queue_is_driven_by_keys(browser, plant, engine, tmp_path):
    backend, _cell = plant
    wait_until(lambda: len(states(engine)) == 4, 30)
    page = login(browser, backend, "olga")
    page.goto(backend.url + "/review")
    items = page.locator("[data-review-item]")
    assert items.count() == 3
    assert items.nth(0).get_attribute("class") == "current"
    page.keyboard.press("f")  # r0: fail, auto-advance to r1
    page.keyboard.press("2")  # r1: fail with the station's 2nd class
    page.keyboard.press("ArrowUp")  # back on r1 (decided), then down to r2
    page.keyboard.press("ArrowDown")
    page.keyboard.press("p")  # r2: a false alarm
    page.wait_for_function(
        "() => document.querySelector('[data-review-queue]').reviewKeys.latencies.length === 3"
    )
    latencies = page.evaluate(
        "() => document.querySelector('[data-review-queue]').reviewKeys.latencies"
    )
    assert all(0 < ms < 5000 for ms in latencies)
    assert page.inner_text("[data-review-latency]").endswith("ms")
    shot(page, tmp_path, "review")
    got = states(engine)
    assert got["r0"] == ("resolved", "true_positive", None)
    assert got["r1"] == ("resolved", "true_positive", "broken_small")
    assert got["r2"] == ("resolved", "false_positive", None)
    page.goto(backend.url + "/review")
    assert page.locator("[data-review-item]").count() == 0


def test_ncr_signed_on_its_page_and_line_released_from_the_banner(browser, plant, engine, tmp_path):
    backend, cell = plant
    number = wait_until(
        lambda: (
            engine.connect()
            .execute(sa.text("SELECT number FROM ncrs WHERE state = 'analysis'"))
            .scalar()
        ),
        60,
    )
    page = login(browser, backend, "erin")
    assert "LINE HELD" in page.inner_text(".hold-banner")
    shot(page, tmp_path, "cases")
    page.goto(f"{backend.url}/ncrs/{number}")
    shot(page, tmp_path, "ncr")
    for alt in ("unit image", "anomaly heatmap"):
        width = page.evaluate(f"() => document.querySelector('img[alt=\"{alt}\"]').naturalWidth")
        assert width == 224
    page.select_option("select[name=disposition]", "rework")
    page.fill("input[name=capa_owner]", "erin")
    page.fill("input[name=capa_due]", "2027-02-15")
    page.fill("form[data-sign-form] input[name=password]", PASSWORDS["erin"])
    page.click("form[data-sign-form] button[type=submit]")
    page.wait_for_url(f"**/ncrs/{number}")
    assert "open" in page.inner_text("h1")
    assert "erin" in page.inner_text("table:has-text('Content SHA-256')")
    page.fill(".hold-banner input[name=reason]", "parts quarantined, cause found")
    page.click(".hold-banner button")
    wait_until(lambda: cell.received("line_release"), 30)
    page.goto(backend.url + "/cases")
    assert page.locator(".hold-banner").count() == 0


def test_operator_cannot_release_and_csrf_is_required(browser, plant, engine):
    backend, _cell = plant
    wait_until(
        lambda: engine.connect().execute(sa.text("SELECT count(*) FROM line_holds")).scalar()
    )
    page = login(browser, backend, "olga")
    assert "an engineer must release it" in page.inner_text(".hold-banner")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    hold = engine.connect().execute(sa.text("SELECT hold_id FROM line_holds")).scalar()
    with httpx.Client(base_url=backend.url, cookies=cookies) as client:
        no_token = client.post(f"/holds/{hold}/release", data={"reason": "x"})
        assert no_token.status_code == 403
        no_login = httpx.post(f"{backend.url}/api/review/x", json={"decision": "pass"})
        assert no_login.status_code == 303

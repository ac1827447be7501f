"""`inspection-backend demo`: the backend on embedded defaults with a simulated cell, end to end.

The cell side is simulated (running the real cell with a model takes minutes to enroll): it
publishes exactly the payloads the cell's bridge publishes, with real MVTec bottle images as
evidence (the heatmap is drawn from the data set's defect mask), plus the MES context (supplier
batch, shift) and a filler's temperature stream. One supplier batch is planted as bad. What
the newcomer sees: units turn into cases, a critical FAIL holds the line (the signed
`line_hold` is verified by the simulated cell with the backend's public key), the root-cause
agent names the bad batch, an NCR lands in the fake QMS, and the line stays held until a
person releases it on the page. With `--auto-release-after S` the demo signs and releases
itself after S seconds, so `make demo-backend` ends on its own.
"""

from __future__ import annotations

import argparse
import random
import shutil
import time
from pathlib import Path

import sqlalchemy as sa

from inspection_backend.core.auth import Role
from inspection_backend.db import users_store
from inspection_backend.db.engine import make_engine
from inspection_backend.fakes.plant_systems import FakePlantSystems
from inspection_backend.services.serve_process import ServeProcess
from inspection_backend.settings import MqttSettings
from inspection_backend.simulator import messages as m
from inspection_backend.simulator.cell import SimulatedCell
from inspection_backend.simulator.evidence import mask_features, unit_pictures

REPO = Path(__file__).resolve().parents[2]
USERS = {
    "engineer": ("engineer-demo-1", Role.ENGINEER),
    "operator": ("operator-demo-1", Role.OPERATOR),
}
BAD_BATCH, GOOD_BATCH = "B-102", "B-101"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="backend + simulated cell, end to end")
    parser.add_argument("--data-dir", type=Path, default=Path("out/demo-backend"))
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--http-port", type=int, default=8080)
    parser.add_argument("--units", type=int, default=240)
    parser.add_argument(
        "--auto-release-after", type=float, default=None,
        help="sign the NCR and release the line after this many seconds (else wait for you)",
    )  # fmt: skip
    parser.add_argument("--wait-minutes", type=float, default=30.0)
    parser.set_defaults(func=_run)


def say(text: str) -> None:
    print(f"[demo] {text}", flush=True)


def _start_backend(args: argparse.Namespace, fakes: FakePlantSystems) -> ServeProcess:
    env = {
        "MES_URL": fakes.url("mes"),
        "QMS_URL": fakes.url("qms"),
        "ERP_URL": fakes.url("erp"),
        "NOTIFY_URL": fakes.url("notify"),
        "DATABASE_URL": "",  # embedded defaults, whatever the caller's environment says
        "MQTT_URL": "",
    }
    log = args.data_dir / "serve.log"
    return ServeProcess(args.data_dir, env, log, http_port=args.http_port).start(timeout_s=120)


def _publish_plant(cell: SimulatedCell, data: Path, units: int) -> tuple[str, str]:
    """Units of an hour on line-1: context, temperatures, verdicts; returns the critical unit."""
    rng = random.Random(4)
    bottle = data / "mvtec_ad" / "bottle" / "test"
    smalls = sorted((bottle / "broken_small").glob("*.png"))
    start = time.time_ns() - units * 15 * 10**9
    for i in range(units):
        stamp = start + i * 15 * 10**9
        cell_id = "cell-1" if i % 2 == 0 else "cell-2"
        batch = BAD_BATCH if (i // 40) % 2 == 1 else GOOD_BATCH
        unit = f"u{i:04d}"
        cell.publish_plant(
            m.context(
                "line-1",
                cell_id,
                unit,
                stamp,
                supplier="Glassworks",
                supplier_batch=batch,
                sku="BTL-500",
                lot=f"L{i // 60}",
            )
        )
        if i % 10 == 0:
            temp = 181.0 + rng.gauss(0, 1.5)
            cell.publish_plant(m.process("line-1", "filler-1", stamp, {"temperature_c": temp}))
        failed = rng.random() < (0.22 if batch == BAD_BATCH else 0.03)
        if not failed:
            cell.publish_cell(m.verdict(cell_id, unit, stamp, "PASS", rng.uniform(0.6, 1.7), 2.0))
            continue
        path = smalls[i % len(smalls)]
        image, _ = unit_pictures(path, None)
        ev = m.evidence(cell_id, unit, "image", image, "image/png")
        cell.publish_cell(ev)
        score = rng.choice([rng.uniform(2.02, 2.25), rng.uniform(2.5, 3.5)])
        cell.publish_cell(
            m.verdict(
                cell_id,
                unit,
                stamp,
                "FAIL",
                score,
                2.0,
                reasons=[f"score {score:.2f} > 2.00"],
                evidence={"image_sha256": ev["body"]["sha256"]},
            )
        )
    return _publish_critical(cell, data, start + units * 15 * 10**9)


def _publish_critical(cell: SimulatedCell, data: Path, stamp: int) -> tuple[str, str]:
    bottle = data / "mvtec_ad" / "bottle"
    mask = bottle / "ground_truth" / "broken_large" / "000_mask.png"
    image, heatmap = unit_pictures(bottle / "test" / "broken_large" / "000.png", mask)
    ev_image = m.evidence("cell-1", "u-crit", "image", image, "image/png")
    ev_heat = m.evidence("cell-1", "u-crit", "heatmap", heatmap, "image/png")
    cell.publish_plant(
        m.context(
            "line-1",
            "cell-1",
            "u-crit",
            stamp,
            supplier="Glassworks",
            supplier_batch=BAD_BATCH,
            sku="BTL-500",
            lot="L4",
        )
    )
    cell.publish_cell(ev_image)
    cell.publish_cell(ev_heat)
    cell.publish_cell(m.verdict(
        "cell-1", "u-crit", stamp, "FAIL", 7.4, 2.0, reasons=["score 7.40 > 2.00"],
        anomaly=mask_features(mask),
        evidence={"image_sha256": ev_image["body"]["sha256"],
                  "heatmap_sha256": ev_heat["body"]["sha256"]},
    ))  # fmt: skip
    say("cell-1 u-crit FAIL: broken bottle, score 7.40 (3.7 x threshold) -> critical")
    return "cell-1", "u-crit"


def _wait(what: str, check, timeout_s: float):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise TimeoutError(f"{what} did not happen within {timeout_s:.0f} s")


def _auto_sign_and_release(url: str, number: str, hold_id: str) -> None:
    """What the engineer does on the page, done over the same HTTP routes."""
    import re

    import httpx

    password = USERS["engineer"][0]
    with httpx.Client(base_url=url, timeout=30) as http:
        token = re.search(r'name="login_csrf" value="([^"]+)"', http.get("/login").text).group(1)
        http.post(
            "/login", data={"username": "engineer", "password": password, "login_csrf": token}
        )
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/cases").text).group(1)
        http.post(f"/ncrs/{number}/sign", data={
            "meaning": "disposition", "disposition": "return_to_supplier", "capa_owner": "engineer",
            "capa_due": "2027-01-31", "password": password, "csrf_token": csrf,
            "note": "batch quarantined, supplier informed"})  # fmt: skip
        http.post(
            f"/holds/{hold_id}/release",
            data={"reason": "suspect batch quarantined", "csrf_token": csrf},
        )


def _run(args: argparse.Namespace) -> int:
    if not (args.data / "mvtec_ad" / "bottle").is_dir():
        print(f"shared data not found at {args.data} (set --data)")
        return 2
    shutil.rmtree(args.data_dir, ignore_errors=True)
    args.data_dir.mkdir(parents=True)
    fakes = FakePlantSystems().start()
    backend = None
    try:
        say("starting the backend (embedded PostgreSQL + mosquitto) ...")
        backend = _start_backend(args, fakes)
        info = backend.info
        engine = make_engine(info["database_url"], pool_size=2)
        with engine.begin() as conn:
            for name, (password, role) in USERS.items():
                users_store.add_user(conn, name, password, role, actor="demo")
        url = f"http://127.0.0.1:{info['http_port']}"
        logins = ", ".join(f"{name} / {password}" for name, (password, _r) in USERS.items())
        say(f"page: {url}/  users: {logins}")
        settings = MqttSettings("127.0.0.1", info["mqtt_port"])
        cell = SimulatedCell(settings, ["cell-1", "cell-2"], info["public_key"]).start()
        try:
            _walkthrough(args, engine, url, cell, fakes)
        finally:
            cell.stop()
            engine.dispose()
        say("done")
        return 0
    finally:
        if backend is not None:
            backend.stop(timeout_s=60)
        fakes.stop()


def _walkthrough(args, engine: sa.Engine, url: str, cell: SimulatedCell, fakes) -> None:
    say(f"simulated cells publish {args.units} units of line-1 (batch {BAD_BATCH} is bad)")
    cell_id, unit = _publish_plant(cell, args.data, args.units)
    hold = _wait("line_hold", lambda: cell.received("line_hold"), 120)[0]
    say(
        f"LINE HELD: cell received {hold.document['id']} "
        f"(signature verified with the backend's key: {hold.verified})"
    )
    number = _wait(
        "the NCR", lambda: _scalar(engine, "SELECT number FROM ncrs WHERE state = 'analysis'"), 120
    )
    qms = fakes.state.snapshot()["ncrs"][number]
    root = _scalar(engine, "SELECT root_cause FROM ncrs")
    say(f"{number} in the fake QMS as {qms['qms_ref']}; root cause: {root}")
    with engine.connect() as conn:
        routes = dict(conn.execute(sa.text("SELECT route, count(*) FROM cases GROUP BY 1")).all())
    say(f"cases by route: {routes}; review queue: {url}/review ; NCR: {url}/ncrs/{number}")
    if args.auto_release_after is not None:
        say(
            f"signing and releasing automatically in {args.auto_release_after:g} s "
            "(run without --auto-release-after to do it yourself on the page)"
        )
        time.sleep(args.auto_release_after)
        _auto_sign_and_release(url, number, f"hold:unit:{cell_id}:{unit}")
    else:
        say("the line stays held until you release it: log in as engineer, use the red banner")
    _wait("the release", lambda: cell.received("line_release"), args.wait_minutes * 60)
    released_by = _scalar(engine, "SELECT released_by FROM line_holds")
    say(f"line released by {released_by}; cell-1 held = {cell.held['cell-1']}")
    _wait(
        "the QMS update",
        lambda: fakes.state.snapshot()["ncrs"][number]["state"] != "analysis",
        args.wait_minutes * 60,
    )
    state = fakes.state.snapshot()
    say(
        f"fake QMS: {len(state['ncrs'])} NCR, history {state['ncrs'][number]['history']}; "
        f"MES holds: {list(state['holds'])}"
    )


def _scalar(engine: sa.Engine, sql: str):
    with engine.connect() as conn:
        return conn.execute(sa.text(sql)).scalar()

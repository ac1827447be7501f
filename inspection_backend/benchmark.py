"""Backend benchmark: sustained ingest from N simulated cells with a workflow for every FAIL,
a backend kill -9 and a broker restart in the middle of the run, and the latency from a
critical FAIL leaving the cell to the signed `line_hold` arriving back at it.

The PostgreSQL cluster and the broker belong to the benchmark (they must outlive the backend
it kills); the backend is a real `inspection-backend serve` process. Loss and duplicates are
counted from the database and the cell's side, never assumed.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import os
import random
import shutil
import statistics
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil
import sqlalchemy as sa

from inspection_backend.core.commands import SigningKey
from inspection_backend.db.engine import make_engine
from inspection_backend.services.mosquitto import EmbeddedBroker
from inspection_backend.services.postgres import EmbeddedPostgres
from inspection_backend.services.serve_process import ServeProcess
from inspection_backend.settings import MqttSettings
from inspection_backend.simulator import messages
from inspection_backend.simulator.cell import SimulatedCell

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class BenchPlan:
    cells: int = 8
    rate: float = 2500.0  # offered verdicts per second, all cells together
    duration_s: float = 60.0
    fail_rate: float = 0.10
    critical_share: float = 0.005  # of FAILs
    borderline_share: float = 0.20  # of FAILs: review route
    kill_at: float = 0.30  # fraction of the run when the backend gets kill -9
    broker_restart_at: float = 0.60
    seed: int = 1
    split: bool = True  # an ingest process and a workflows process (else one `all` process)


@dataclass
class BenchResult:
    verdicts: int = 0
    fails: int = 0
    criticals: int = 0
    ingest_per_s: float = 0.0
    ingest_per_s_before_faults: float = 0.0
    publish_per_s: float = 0.0
    lost: int = 0
    duplicates: int = 0
    lost_detail: dict[str, int] = field(default_factory=dict)
    duplicates_detail: dict[str, int] = field(default_factory=dict)
    hold_p50_ms: float = 0.0
    hold_p99_ms: float = 0.0
    hold_max_ms: float = 0.0
    hold_p99_ms_before_faults: float = 0.0
    hold_breakdown_p50_ms: dict[str, float] = field(default_factory=dict)
    holds_measured: int = 0
    holds_during_faults: int = 0
    workflows_done_s: float = 0.0
    cpu_s: dict[str, float] = field(default_factory=dict)
    cpu_ms_per_verdict: float = 0.0
    peak_rss_mb: float = 0.0
    postgres_rss_mb: float = 0.0
    broker_rss_mb: float = 0.0
    conditions: dict[str, object] = field(default_factory=dict)


def _plant_config(workdir: Path, cells: int) -> Path:
    routing = workdir / "routing"
    shutil.copytree(REPO / "config" / "backend" / "routing", routing, dirs_exist_ok=True)
    lines = {"line-a": [], "line-b": []}
    for i in range(cells):
        lines["line-a" if i % 2 == 0 else "line-b"].append(
            f"      - {{id: bench-{i}, station: bottle, machine: m-{i}}}"
        )
    text = ["plant: bench", "routing_dir: routing", "lines:"]
    for line, entries in lines.items():
        text += [f"  - id: {line}", "    cells:", *entries]
    path = workdir / "plant.yaml"
    path.write_text("\n".join(text) + "\n")
    return path


class BackendGroup:
    """The backend processes of the run: one `all`, or `ingest` + `workflows` side by side."""

    def __init__(self, workdir: Path, env: dict[str, str], split: bool) -> None:
        roles = ("workflows", "ingest") if split else ("all",)
        self.processes = []
        for role in roles:
            data_dir = workdir / f"serve-{role}"
            data_dir.mkdir()
            role_env = {**env, "ROLE": role, "EXECUTOR_ID": f"bench-{role}"}
            self.processes.append(ServeProcess(data_dir, role_env, workdir / f"serve-{role}.log"))

    @property
    def info(self) -> dict:
        return self.processes[0].info

    def start(self) -> None:
        for process in self.processes:
            process.start()

    def kill9(self) -> None:
        for process in self.processes:
            process.kill9()

    def stop(self) -> None:
        for process in self.processes:
            process.stop()

    def pids(self) -> list[int]:
        return [p.proc.pid for p in self.processes if p.running()]

    def sample_rss(self) -> None:
        for process in self.processes:
            process.sample_rss()

    @property
    def peak_rss(self) -> int:
        return sum(p.peak_rss for p in self.processes)


def _units(plan: BenchPlan) -> list[tuple[dict, str]]:
    """Every verdict of the run with its kind: pass / fail / borderline / critical."""
    rng = random.Random(plan.seed)
    total = int(plan.rate * plan.duration_s)
    base = time.time_ns()
    out = []
    for i in range(total):
        cell = f"bench-{i % plan.cells}"
        stamp = base + i * 1000
        kind = "pass"
        score = rng.uniform(0.5, 1.8)
        if rng.random() < plan.fail_rate:
            draw = rng.random()
            if draw < plan.critical_share:
                kind, score = "critical", rng.uniform(4.5, 8.0)
            elif draw < plan.critical_share + plan.borderline_share:
                kind, score = "borderline", rng.uniform(2.02, 2.25)
            else:
                kind, score = "fail", rng.uniform(2.4, 3.8)
        decision = "PASS" if kind == "pass" else "FAIL"
        out.append((messages.verdict(cell, f"u{i}", stamp, decision, score, 2.0), kind))
    return out


class _CpuMeter:
    """CPU seconds used by processes, summed over every process seen (a killed backend's time
    counts up to its last sample); a load-independent measure of cost on a shared machine."""

    def __init__(self) -> None:
        self.seen: dict[int, float] = {}

    def sample(self, pid: int | None, with_children: bool = False) -> None:
        if pid is None:
            return
        try:
            root = psutil.Process(pid)
            times = root.cpu_times()
            total = times.user + times.system + times.children_user + times.children_system
            if with_children:
                for child in root.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        t = child.cpu_times()
                        total += t.user + t.system
            self.seen[pid] = max(self.seen.get(pid, 0.0), total)
        except psutil.Error:
            pass  # gone: keep its last sample

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


def _postmaster_pid(pg: EmbeddedPostgres) -> int | None:
    try:
        return int((pg.data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


class _Sampler(threading.Thread):
    """Counts stored verdicts, samples RSS and CPU time every 0.5 s."""

    def __init__(self, engine: sa.Engine, backend: BackendGroup, pg, broker) -> None:
        super().__init__(daemon=True)
        self.engine, self.backend, self.pg, self.broker = engine, backend, pg, broker
        self.series: list[tuple[float, int]] = []
        self.stop_event = threading.Event()
        self.cpu = {"backend": _CpuMeter(), "postgres": _CpuMeter(), "broker": _CpuMeter()}

    def sample_cpu(self) -> None:
        for pid in self.backend.pids():
            self.cpu["backend"].sample(pid)
        self.cpu["postgres"].sample(_postmaster_pid(self.pg), with_children=True)
        proc = self.broker.proc
        self.cpu["broker"].sample(proc.pid if proc is not None and proc.poll() is None else None)

    def run(self) -> None:
        while not self.stop_event.wait(0.5):
            self.backend.sample_rss()
            self.sample_cpu()
            try:
                with self.engine.connect() as conn:
                    count = conn.execute(sa.text("SELECT count(*) FROM verdicts")).scalar_one()
                self.series.append((time.monotonic(), count))
            except sa.exc.SQLAlchemyError:
                pass


def _fault(action, fault_windows: list[tuple[float, float]]) -> threading.Thread:
    """Run a fault (and the recovery from it) beside the publisher, which keeps publishing;
    its window, plus 2 s to settle, is excluded from the hold latency."""

    def body() -> None:
        t0 = time.monotonic()
        action()
        fault_windows.append((t0, time.monotonic() + 2.0))

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread


def _publish(plan, cell, units, backend, broker, fault_windows, published_at) -> float:
    """Publish at the offered rate; kill the backend and restart the broker on the way."""
    total = len(units)
    kill_index, broker_index = int(total * plan.kill_at), int(total * plan.broker_restart_at)

    def kill_and_restart() -> None:
        backend.kill9()
        backend.start()

    def restart_broker() -> None:
        broker.stop()
        time.sleep(1.0)
        broker.start()

    faults = []
    start = time.monotonic()
    for i, (message, kind) in enumerate(units):
        delay = start + i / plan.rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        if i == kill_index:
            faults.append(_fault(kill_and_restart, fault_windows))
        if i == broker_index:
            faults.append(_fault(restart_broker, fault_windows))
        if kind == "critical":
            published_at[message["body"]["unit_id"]] = (
                message["cell_id"],
                time.monotonic(),
                time.time(),
            )
        cell.publish_cell(message)
    elapsed = time.monotonic() - start
    for thread in faults:
        thread.join(120)
    return elapsed


def _count(engine: sa.Engine, sql: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar_one())


def run(plan: BenchPlan, workdir: Path, log=print) -> BenchResult:
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    os.chmod(workdir, 0o755)  # the embedded cluster's user must reach its data
    result = BenchResult()
    pg = EmbeddedPostgres(workdir / "postgres")
    broker = EmbeddedBroker(workdir / "broker")
    pg.start()
    broker.start()
    engine = make_engine(pg.url(), pool_size=2)
    key = workdir / "command_key.pem"
    public = SigningKey.generate(key)
    env = {
        "DATABASE_URL": pg.url(),
        "MQTT_URL": f"mqtt://127.0.0.1:{broker.port}",
        "COMMAND_KEY": str(key),
        "PLANT_CONFIG": str(_plant_config(workdir, plan.cells)),
    }
    backend = BackendGroup(workdir, env, plan.split)
    cell = None
    sampler = None
    try:
        backend.start()
        cells = [f"bench-{i}" for i in range(plan.cells)]
        cell = SimulatedCell(MqttSettings("127.0.0.1", broker.port), cells, public).start()
        units = _units(plan)
        result.conditions = {
            "cpu_count": os.cpu_count(),
            "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
            "offered_rate": plan.rate,
            "cells": plan.cells,
            "duration_s": plan.duration_s,
            "fail_rate": plan.fail_rate,
            "backend_processes": "ingest + workflows" if plan.split else "one (all)",
        }
        sampler = _Sampler(engine, backend, pg, broker)
        sampler.start()
        fault_windows: list[tuple[float, float]] = []
        published_at: dict[str, tuple[str, float]] = {}
        log(f"publishing {len(units)} verdicts from {plan.cells} cells at {plan.rate:g}/s ...")
        t_start = time.monotonic()
        elapsed = _publish(plan, cell, units, backend, broker, fault_windows, published_at)
        result.publish_per_s = len(units) / elapsed
        unacked = cell.wait_acknowledged(120)
        log(f"published in {elapsed:.1f} s ({unacked} not acknowledged by the broker); draining")
        _drain(engine, len(units), units, backend, timeout_s=600)
        t_stored = _time_all_stored(sampler, len(units)) or time.monotonic()
        result.ingest_per_s = len(units) / (t_stored - t_start)
        result.ingest_per_s_before_faults = _rate_before(sampler.series, fault_windows)
        result.workflows_done_s = time.monotonic() - t_start
        _wait_holds(cell, published_at, timeout_s=120)
        _count_results(result, engine, units, cell, published_at, fault_windows)
        result.hold_breakdown_p50_ms = _hold_breakdown(engine, published_at, cell, fault_windows)
        sampler.sample_cpu()
        result.cpu_s = {name: round(m.seconds, 1) for name, m in sampler.cpu.items()}
        result.cpu_ms_per_verdict = 1000.0 * sum(result.cpu_s.values()) / len(units)
        result.peak_rss_mb = backend.peak_rss / 2**20
        result.postgres_rss_mb = _tree_pss(pg) / 2**20
        result.broker_rss_mb = (
            psutil.Process(broker.proc.pid).memory_info().rss / 2**20 if broker.proc else 0.0
        )
    finally:
        if sampler is not None:
            sampler.stop_event.set()
        if cell is not None:
            cell.stop()
        backend.stop()
        engine.dispose()
        broker.stop()
        pg.stop()
    return result


def _drain(engine, total, units, backend, timeout_s: float) -> None:
    """Wait until every verdict is stored and every FAIL has its workflow."""
    fails = sum(1 for _m, kind in units if kind != "pass")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        backend.sample_rss()
        stored = _count(engine, "SELECT count(*) FROM verdicts")
        started = _count(
            engine, "SELECT count(*) FROM dbos.workflow_status WHERE name = 'unit_case'"
        )
        if stored >= total and started >= fails:
            return
        time.sleep(0.5)


def _time_all_stored(sampler: _Sampler, total: int) -> float | None:
    return next((t for t, count in sampler.series if count >= total), None)


def _rate_before(series: list[tuple[float, int]], faults: list[tuple[float, float]]) -> float:
    """Stored verdicts per second over the steady part before the first fault."""
    first_fault = faults[0][0] if faults else float("inf")
    points = [(t, c) for t, c in series if t < first_fault and c > 0]
    if len(points) < 3:
        return 0.0
    (t0, c0), (t1, c1) = points[1], points[-1]
    return (c1 - c0) / (t1 - t0) if t1 > t0 else 0.0


def _wait_holds(cell, published_at, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = {c.document["id"] for c in cell.received("line_hold")}
        if all(f"hold:unit:{c}:{u}" in got for u, (c, *_t) in published_at.items()):
            return
        time.sleep(0.2)


def _count_results(result, engine, units, cell, published_at, fault_windows) -> None:
    ids = {m["id"] for m, _k in units}
    fail_units = {(m["cell_id"], m["body"]["unit_id"]) for m, k in units if k != "pass"}
    with engine.connect() as conn:
        stored = [r[0] for r in conn.execute(sa.text("SELECT message_id FROM verdicts"))]
        workflows = [
            r[0]
            for r in conn.execute(
                sa.text("SELECT workflow_uuid FROM dbos.workflow_status WHERE name = 'unit_case'")
            )
        ]
    expected_workflows = {f"unit:{c}:{u}" for c, u in fail_units}
    holds = [c for c in cell.received("line_hold")]
    applied_holds = [h.document["id"] for h in holds if h.verified]
    result.verdicts = len(units)
    result.fails = len(fail_units)
    result.criticals = len(published_at)
    result.lost_detail = {
        "verdicts": len(ids - set(stored)),
        "fail_workflows": len(expected_workflows - set(workflows)),
        "holds": sum(
            1 for u, (c, *_t) in published_at.items() if f"hold:unit:{c}:{u}" not in applied_holds
        ),
    }
    result.duplicates_detail = {
        "verdict_rows": len(stored) - len(set(stored)),
        "unit_workflows": len(workflows) - len(set(workflows)),
        "holds_applied_twice": len(cell.applied) - len(set(cell.applied)),
    }
    result.lost = sum(result.lost_detail.values())
    result.duplicates = sum(result.duplicates_detail.values())
    first_hold = {}
    for h in holds:
        first_hold.setdefault(h.document["id"], h.received_at)
    clean, before, faulted = [], [], 0
    first_fault = min((a for a, _b in fault_windows), default=float("inf"))
    for unit, (cell_id, sent, _wall) in published_at.items():
        got = first_hold.get(f"hold:unit:{cell_id}:{unit}")
        if got is None:
            continue
        if any(a <= sent <= b for a, b in fault_windows):
            faulted += 1
            continue
        clean.append((got - sent) * 1000.0)
        if got < first_fault:
            before.append((got - sent) * 1000.0)
    result.hold_p99_ms_before_faults = _p99(before)
    result.holds_measured, result.holds_during_faults = len(clean), faulted
    if clean:
        clean.sort()
        result.hold_p50_ms = statistics.median(clean)
        result.hold_p99_ms = _p99(clean)
        result.hold_max_ms = clean[-1]


def _p99(values: list[float]) -> float:
    """Nearest-rank 99th percentile (the maximum below 100 samples)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


_BREAKDOWN_SQL = sa.text(
    """
    SELECT c.unit_id, c.cell_id,
           extract(epoch FROM v.received_at) AS stored,
           extract(epoch FROM c.created_at) AS routed,
           h.created_at / 1000.0 AS hold_started
    FROM cases c
    JOIN verdicts v ON v.message_id = c.verdict_id
    LEFT JOIN dbos.workflow_status h ON h.workflow_uuid = 'hold:' || c.case_id
    WHERE c.route = 'critical'
    """
)


def _hold_breakdown(engine, published_at, cell, fault_windows) -> dict[str, float]:
    """Median time of each stage from publish to the cell's receipt (wall clocks, one host):
    ingest (publish -> committed), route (-> case), start (-> hold workflow created), command
    (-> the signed hold is at the cell: lock, hold row, sign, publish)."""
    received = {}
    for c in cell.received("line_hold"):
        received.setdefault(c.document["id"], c.received_wall)
    stages: dict[str, list[float]] = {}
    with engine.connect() as conn:
        for r in conn.execute(_BREAKDOWN_SQL):
            sent = published_at.get(r.unit_id)
            got = received.get(f"hold:unit:{r.cell_id}:{r.unit_id}")
            if sent is None or got is None or r.hold_started is None:
                continue
            if any(a <= sent[1] <= b for a, b in fault_windows):
                continue
            marks = [sent[2], float(r.stored), float(r.routed), float(r.hold_started), got]
            for name, (a, b) in zip(
                ("ingest", "route", "start", "command"),
                itertools.pairwise(marks),
                strict=True,
            ):
                stages.setdefault(name, []).append((b - a) * 1000.0)
    return {name: round(statistics.median(v), 1) for name, v in stages.items()}


def _tree_pss(pg: EmbeddedPostgres) -> int:
    """Proportional set size of the cluster's processes (shared buffers counted once)."""
    try:
        pid = int((pg.data_dir / "postmaster.pid").read_text().split()[0])
        root = psutil.Process(pid)
        return sum(p.memory_full_info().pss for p in [root, *root.children(recursive=True)])
    except (OSError, ValueError, psutil.Error):
        return 0


def write_json(result: BenchResult, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(asdict(result), indent=2) + "\n")

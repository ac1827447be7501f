"""`inspection bench rhythm`: how soon does the line-rhythm monitor see a broken rhythm, and
does it stay quiet on a steady line?

A sequence of unit arrival times is replayed through core/stability/rhythm.py, checked every
`--check-ms` as the stability node does (simulated time, so the numbers are exact and the run
takes a second): the camera/unit stamps of a recorded bag (`--bag`, from `inspection record`),
or a synthetic line at `--period-s` with Gaussian jitter (`--jitter`, fraction of the period,
seeded). Four runs of the same sequence:

  unchanged   as recorded: every alert is a false alert
  stop        the belt holds for `--stop-s` after unit `--at`: the following units come later
  missing     unit `--at` never arrives
  irregular   from unit `--at` on the spacing is random (uniform 0.1-1.9 periods)

Detection delay = first alert minus the moment the fault became visible: when the held or
missing unit was due (previous arrival + period), or the first irregular arrival.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from inspection_nodes.core.stability.rhythm import NS, RhythmConfig, replay

TOPIC = "/camera/unit"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("rhythm", help="line-rhythm alerts: stop, missing, irregular")
    parser.add_argument("--bag", type=Path, help="recorded run: arrival times of camera/unit")
    parser.add_argument("--units", type=int, default=200, help="synthetic line: units")
    parser.add_argument("--period-s", type=float, default=1.0, help="synthetic line: period")
    parser.add_argument("--jitter", type=float, default=0.03, help="synthetic: sigma / period")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--at", type=int, default=0, help="unit index of the faults (0: middle)")
    parser.add_argument("--stop-s", type=float, default=10.0)
    parser.add_argument("--check-ms", type=float, default=100.0, help="check period")
    parser.add_argument("--json", type=Path, help="write the result here")
    parser.set_defaults(func=run)


def arrivals_of(args: argparse.Namespace) -> list[int]:
    if args.bag is not None:
        from inspection_nodes.core.io.bags import read_messages

        stamps = [
            m.header.stamp.sec * NS + m.header.stamp.nanosec for m in read_messages(args.bag, TOPIC)
        ]
        return sorted(stamps)
    rng = np.random.default_rng(args.seed)
    intervals = args.period_s * (1.0 + args.jitter * rng.standard_normal(args.units - 1))
    start = 1_700_000_000 * NS
    return [start, *(start + np.cumsum(np.maximum(intervals, 0.01) * NS).astype(np.int64))]


def planted(arrivals: list[int], at: int, period_ns: int, stop_s: float, seed: int) -> dict:
    """The four sequences and, for each fault, when it became visible."""
    a = np.asarray(arrivals, dtype=np.int64)
    held = a.copy()
    held[at + 1 :] += int(stop_s * NS)
    rng = np.random.default_rng(seed + 1)
    erratic = a[: at + 1].tolist()
    for _ in range(len(a) - at - 1):
        erratic.append(erratic[-1] + int(rng.uniform(0.1, 1.9) * period_ns))
    return {
        "unchanged": (a.tolist(), None),
        "stop": (held.tolist(), int(a[at] + period_ns)),
        "missing": (np.delete(a, at + 1).tolist(), int(a[at] + period_ns)),
        "irregular": (erratic, int(erratic[at + 1])),
    }


def run(args: argparse.Namespace) -> int:
    arrivals = arrivals_of(args)
    config = RhythmConfig()
    if len(arrivals) < 2 * config.window:
        print(
            f"error: {len(arrivals)} arrivals; the bench needs {2 * config.window}", file=sys.stderr
        )
        return 2
    period = int(np.median(np.diff(arrivals)))
    at = args.at or len(arrivals) // 2
    step = int(args.check_ms * 1e6)
    result: dict = {
        "source": str(args.bag) if args.bag else "synthetic",
        "units": len(arrivals),
        "period_s": period / NS,
        "fault_at_unit": at,
        "check_ms": args.check_ms,
        "runs": {},
    }
    for name, (sequence, visible_ns) in planted(
        arrivals, at, period, args.stop_s, args.seed
    ).items():
        result["runs"][name] = judge_run(sequence, visible_ns, config, step, period)
    print(json.dumps(summary(result), indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return 0


def judge_run(
    sequence: list[int], visible_ns: int | None, config: RhythmConfig, step: int, period: int
) -> dict:
    """Alerts of one replay, and for a planted fault the delay of the first alert of each kind.
    The replay runs two periods past the last unit; what it says after one period past the end
    (the sequence simply stops) is not counted."""
    changes = replay(sequence, config, step, sequence[-1] + 2 * period)
    alerts = [(t, r) for t, r in changes if r.alert and t < sequence[-1] + period]
    entry: dict = {
        "alerts": [
            {"t_s": (t - sequence[0]) / NS, "state": str(r.state), "detail": r.detail}
            for t, r in alerts
        ]
    }
    if visible_ns is None:
        entry["false_alerts"] = len(alerts)
        return entry
    after = [(t, r) for t, r in alerts if t >= visible_ns]
    entry["false_alerts_before"] = len(alerts) - len(after)
    entry["delay_s"] = (after[0][0] - visible_ns) / NS if after else None
    entry["delay_periods"] = (after[0][0] - visible_ns) / period if after else None
    entry["first_alert_s_by_state"] = {}
    for t, r in after:
        entry["first_alert_s_by_state"].setdefault(str(r.state), (t - visible_ns) / NS)
    return entry


def summary(result: dict) -> dict:
    """What the README quotes: delays and false alerts, without the alert lists."""
    runs = {
        name: {k: v for k, v in entry.items() if k != "alerts"}
        for name, entry in result["runs"].items()
    }
    return {k: v for k, v in result.items() if k != "runs"} | {"runs": runs}

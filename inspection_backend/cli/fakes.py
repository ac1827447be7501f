"""`inspection-backend fakes --port 8090`: the fake MES/QMS/ERP/notifier until Ctrl-C/SIGTERM."""

from __future__ import annotations

import argparse
import contextlib
import signal
import threading

from inspection_backend.fakes.plant_systems import FakePlantSystems


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("fakes", help="run the fake plant systems on loopback")
    parser.add_argument("--port", type=int, default=0)
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with FakePlantSystems(args.port) as fakes:
        for system in ("mes", "qms", "erp", "notify"):
            print(f"{system.upper()}_URL={fakes.url(system)}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            done.wait()
    return 0

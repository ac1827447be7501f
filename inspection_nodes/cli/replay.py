"""`inspection replay BAG`: regression testing with bags recorded by `inspection record`.

Feed the bag's camera images through the graph again and compare the new verdicts with
the recorded ones, unit by unit in capture order; any difference exits 1. Same bag + same model
must give the same verdicts bit for bit (decision, score, reasons).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from inspection_nodes.cli.cell import DEFAULT_CONFIG, execute


def register(subparsers: argparse._SubParsersAction) -> None:
    rep = subparsers.add_parser("replay", help="replay a bag's images and compare verdicts")
    rep.add_argument("bag", type=Path)
    rep.add_argument("--model", type=Path, required=True, help="model directory")
    rep.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    rep.add_argument("--json", type=Path, help="write the comparison here")
    rep.add_argument("--timeout", type=float, default=600.0)
    rep.add_argument("--quiet", action="store_true")
    rep.set_defaults(func=replay, rate=0.0, max_in_flight=1, heatmaps=None)


def comparable(verdict) -> tuple:
    """What must be identical on replay: the decision, the exact score and the reasons."""
    return (int(verdict.decision), float(verdict.score).hex(), tuple(verdict.reasons))


def replay(args: argparse.Namespace) -> int:
    from inspection_nodes.core.io.bags import read_messages

    if not args.bag.exists():
        print(f"error: bag not found: {args.bag}")
        return 2
    image_stamps = {
        (m.header.stamp.sec, m.header.stamp.nanosec)
        for m in read_messages(args.bag, "camera/image_raw")
    }
    recorded = sorted(
        (
            m
            for m in read_messages(args.bag, "verdict")
            if (m.header.stamp.sec, m.header.stamp.nanosec) in image_stamps
        ),
        key=lambda m: (m.header.stamp.sec, m.header.stamp.nanosec),
    )
    if not recorded:
        print(f"error: {args.bag} has no verdicts for recorded camera images")
        return 2
    new_bag = args.bag.with_name(args.bag.name + ".replay")
    if new_bag.exists():
        import shutil

        shutil.rmtree(new_bag)
    camera = {
        "source_type": "bag",
        "source": str(args.bag),
        "bag_topic": "/camera/image_raw",
        "loop": False,
    }
    summary, ok = execute(args, camera, len(image_stamps), record=new_bag)
    if summary is None:
        return 2
    fresh = sorted(
        read_messages(new_bag, "verdict"),
        key=lambda m: (m.header.stamp.sec, m.header.stamp.nanosec),
    )
    differences = []
    for i, (old, new) in enumerate(zip(recorded, fresh, strict=False)):
        if comparable(old) != comparable(new):
            differences.append(
                {
                    "index": i,
                    "unit_id": old.unit_id,
                    "recorded": comparable(old),
                    "replayed": comparable(new),
                }
            )
    if len(fresh) != len(recorded):
        differences.append({"recorded_units": len(recorded), "replayed_units": len(fresh)})
    result = {"units": len(recorded), "differences": differences, "complete": ok}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    for d in differences:
        print(f"DIFF {d}")
    print(
        f"replayed {len(fresh)} of {len(recorded)} units: "
        f"{'identical' if not differences else f'{len(differences)} differences'}"
    )
    return 0 if ok and not differences else 1

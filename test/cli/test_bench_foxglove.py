"""`inspection bench foxglove` on a short run: every frame reaches the client in both phases,
and with nobody watching the node does not even subscribe."""

from __future__ import annotations

import json

from inspection_nodes.cli.main import main


def test_foxglove_bench_reports_cost_per_frame_and_no_work_unwatched(tmp_path):
    out = tmp_path / "foxglove.json"
    assert main(["bench", "foxglove", "--frames", "30", "--rate", "60", "--json", str(out)]) == 0
    phases = json.loads(out.read_text())["phases"]
    assert phases["raw"]["node_ms_per_frame"]["n"] == 30
    assert phases["raw"]["frames_received"] == 30
    assert phases["raw+jpeg"]["frames_received"] == 60  # raw and JPEG of each frame
    assert phases["nobody watching"] == {"subscribers_of_the_topic": 0, "node_callbacks": 0}

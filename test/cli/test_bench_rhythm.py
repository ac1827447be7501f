"""`inspection bench rhythm`: a planted 10 s stop and a missing unit are alerted within one
period of the moment they became visible; the unchanged sequence raises nothing."""

from __future__ import annotations

import json

import pytest

from inspection_nodes.cli.main import main


@pytest.mark.parametrize("period_s", [0.2, 1.0, 3.0])
def test_rhythm_bench_alerts_within_a_period_and_not_on_the_steady_line(tmp_path, period_s):
    out = tmp_path / "rhythm.json"
    args = ["bench", "rhythm", "--period-s", str(period_s), "--jitter", "0.05"]
    assert main([*args, "--check-ms", str(period_s * 50), "--json", str(out)]) == 0
    runs = json.loads(out.read_text())["runs"]
    assert runs["unchanged"]["false_alerts"] == 0
    for fault, kind in (("stop", "stopped"), ("missing", "missing")):
        assert runs[fault]["false_alerts_before"] == 0
        assert 0.0 <= runs[fault]["delay_periods"] <= 1.0, runs[fault]
        assert kind in runs[fault]["first_alert_s_by_state"]
    assert "irregular" in runs["irregular"]["first_alert_s_by_state"]


def test_rhythm_bench_replays_the_camera_stamps_of_a_recorded_bag(tmp_path):
    from inspection_nodes.core.io.bags import BagRecorder, cell_typestore

    store = cell_typestore()
    capture = store.types["inspection_msgs/msg/CaptureEvent"]
    header, time = store.types["std_msgs/msg/Header"], store.types["builtin_interfaces/msg/Time"]
    bag = tmp_path / "run"
    recorder = BagRecorder(bag)
    recorder.add_topic("/camera/unit", "inspection_msgs/msg/CaptureEvent")
    for i in range(150):
        stamp = 1_700_000_000 * 10**9 + i * 400_000_000
        msg = capture(header(time(stamp // 10**9, stamp % 10**9), "camera"), f"u{i}", i, "x.png")
        raw = store.serialize_cdr(msg, "inspection_msgs/msg/CaptureEvent")
        recorder.write("/camera/unit", stamp, raw)
    recorder.close()
    out = tmp_path / "rhythm.json"
    assert main(["bench", "rhythm", "--bag", str(bag), "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["units"] == 150 and result["period_s"] == pytest.approx(0.4)
    assert result["runs"]["missing"]["delay_periods"] <= 1.0


def test_rhythm_bench_needs_enough_units(capsys):
    assert main(["bench", "rhythm", "--units", "50"]) == 2
    assert "needs 128" in capsys.readouterr().err

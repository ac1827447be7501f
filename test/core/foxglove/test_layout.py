"""The shipped Foxglove layout is the one the code builds, and every topic it opens is a
channel the foxglove node advertises (message paths included)."""

from __future__ import annotations

import json

from inspection_nodes.core.foxglove.channels import COMPRESSED_SUFFIX, DIAGNOSTICS, FORWARDED
from inspection_nodes.core.foxglove.layout import layout_json

LAYOUT = "config/foxglove/inspection_cell_layout.json"


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def test_the_shipped_layout_is_the_built_one(repo_root):
    shipped = (repo_root / LAYOUT).read_text()
    assert shipped == layout_json(), (
        f"regenerate: python -m inspection_nodes.core.foxglove.layout > {LAYOUT}"
    )


def test_every_topic_of_the_layout_is_advertised(repo_root):
    channels = {f"/{f.topic}" for f in FORWARDED} | {f"/{DIAGNOSTICS}"}
    channels |= {f"/{f.topic}{COMPRESSED_SUFFIX}" for f in FORWARDED if f.is_image}
    layout = json.loads((repo_root / LAYOUT).read_text())
    topics = [s.split(".")[0] for s in _strings(layout) if s.startswith("/")]
    assert len(topics) >= 6
    assert set(topics) <= channels, set(topics) - channels


def test_message_paths_name_real_fields():
    from inspection_msgs.msg import StabilityReport, Verdict

    layout = json.loads(layout_json())
    paths = [s for s in _strings(layout) if s.startswith("/") and "." in s]
    types = {"/verdict": Verdict, "/stability": StabilityReport}
    for path in paths:
        topic, field = path.split(".", 1)
        assert field in types[topic].get_fields_and_field_types(), path

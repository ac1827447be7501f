"""Creation time, compact stamps for versions, and the code version of a checkout."""

import re

from inspection_nodes import __version__
from inspection_nodes.core.common.provenance import code_version, compact_stamp, utc_now


def test_utc_now_is_iso_to_the_second_and_compacts_to_a_sortable_stamp():
    now = utc_now()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", now)
    assert compact_stamp("2026-12-02T12:55:38Z") == "20261202T125538Z"
    assert compact_stamp("2026-01-02T00:00:00Z") < compact_stamp("2026-12-02T00:00:00Z")


def test_code_version_names_the_package_and_the_commit():
    version = code_version()
    assert version.startswith(f"{__version__}+")
    assert re.fullmatch(r"[0-9a-f]{4,40}|unknown", version.split("+", 1)[1])

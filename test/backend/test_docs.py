"""docs/backend.md's configuration table names every setting with its default and meaning."""

from __future__ import annotations

from dataclasses import fields

from helpers.backend_services import REPO

from inspection_backend.settings import DEFAULTS, DESCRIPTIONS, Settings


def test_configuration_table_matches_the_settings():
    doc = (REPO / "docs" / "backend.md").read_text()
    rows = {
        line.split("|")[1].strip().strip("`"): line
        for line in doc.splitlines()
        if line.startswith("| `")
    }
    for f in fields(Settings):
        row = rows.get(f.name.upper())
        assert row is not None, f"docs/backend.md lacks {f.name.upper()}"
        default = getattr(DEFAULTS, f.name)
        shown = "(empty)" if str(default) in ("", ".") else f"`{default}`"
        assert shown in row and DESCRIPTIONS[f.name].replace("|", "\\|") in row, row

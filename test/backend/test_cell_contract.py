"""The contract read from the cell package: its schemas and the shared review assets."""

from __future__ import annotations

from inspection_backend.cell_contract import CELL_MESSAGE_TYPES, cell_schema, shared_static_dir


def test_cell_schemas_load():
    for kind in CELL_MESSAGE_TYPES:
        assert cell_schema(kind)["$id"] == f"inspection/{kind}/1"


def test_shared_review_assets_are_in_the_cell_package():
    static = shared_static_dir()
    script = (static / "review_keys.js").read_text()
    assert "data-review-queue" in script and "X-CSRF-Token" in script
    assert (static / "review.css").is_file()

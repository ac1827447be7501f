"""Atomic JSON writes and file hashes."""

import hashlib
import json
from pathlib import Path

from inspection_nodes.core.common.files import file_sha256, write_json_atomic


def test_json_is_written_sorted_and_replaced_whole(tmp_path: Path):
    path = tmp_path / "m.json"
    write_json_atomic(path, {"b": 1, "a": [1, 2]})
    assert path.read_text() == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}\n'
    write_json_atomic(path, {"c": 3})
    assert json.loads(path.read_text()) == {"c": 3}
    assert [p.name for p in tmp_path.iterdir()] == ["m.json"]  # no temporary file left


def test_file_sha256_reads_in_chunks(tmp_path: Path):
    data = bytes(range(256)) * 10000  # 2.5 MB: several chunks
    (tmp_path / "blob").write_bytes(data)
    assert file_sha256(tmp_path / "blob") == hashlib.sha256(data).hexdigest()

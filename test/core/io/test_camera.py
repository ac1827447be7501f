from pathlib import Path

import cv2
import numpy as np
import pytest

from inspection_nodes.core.io.camera import SourceError, folder_frames, list_images, open_source


def _write(path: Path, value: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((8, 8, 3), value, np.uint8))


def test_folder_is_recursive_sorted_and_reports_corrupt_files(tmp_path):
    _write(tmp_path / "b" / "1.png", 10)
    _write(tmp_path / "a" / "2.png", 20)
    (tmp_path / "a" / "3.png").write_bytes(b"not a png")
    frames = list(folder_frames(tmp_path))
    assert [Path(f.source).relative_to(tmp_path).as_posix() for f in frames] == [
        "a/2.png",
        "a/3.png",
        "b/1.png",
    ]
    assert frames[0].pixels[0, 0, 0] == 20
    assert frames[1].pixels is None and "cannot decode" in frames[1].error


def test_loop_repeats(tmp_path):
    _write(tmp_path / "x.png", 1)
    frames = folder_frames(tmp_path, loop=True)
    assert [next(frames).source for _ in range(3)] == [str(tmp_path / "x.png")] * 3


def test_missing_or_empty_sources_raise(tmp_path):
    with pytest.raises(SourceError, match="not found"):
        list_images(tmp_path / "nope")
    with pytest.raises(SourceError, match="no images"):
        list_images(tmp_path)
    with pytest.raises(SourceError, match="unknown source_type"):
        open_source("gige", str(tmp_path))


def test_video_source_reads_every_frame(tmp_path):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5, (16, 16))
    for i in range(4):
        writer.write(np.full((16, 16, 3), i * 40, np.uint8))
    writer.release()
    frames = list(open_source("video", str(path)))
    assert [f.source.rsplit("#", 1)[1] for f in frames] == ["0", "1", "2", "3"]

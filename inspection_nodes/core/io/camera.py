"""Frame sources of the camera node: a folder of images, a video file, a V4L2 device, a bag.

A source yields `Frame`s; a frame it cannot decode still yields (with `error` set) because a
unit was presented to the cell and the gate must FAIL it with the reason, not forget it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
SOURCE_TYPES = ("folder", "video", "device", "bag")


class SourceError(RuntimeError):
    """The source cannot be opened at all (missing folder, no device, unreadable bag)."""


@dataclass(frozen=True)
class Frame:
    """One captured frame: BGR uint8 pixels, or an error saying why there are none."""

    source: str
    pixels: np.ndarray | None = None
    error: str = ""


def list_images(folder: Path, recursive: bool = True) -> list[Path]:
    """Image files under `folder`, sorted by relative path so every run sees the same order."""
    if not folder.is_dir():
        raise SourceError(f"image folder not found: {folder}")
    pattern = "**/*" if recursive else "*"
    files = [p for p in folder.glob(pattern) if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    if not files:
        raise SourceError(f"no images ({', '.join(IMAGE_SUFFIXES)}) under {folder}")
    return sorted(files, key=lambda p: p.relative_to(folder).as_posix())


def read_image(path: Path) -> Frame:
    """Decode one file; corrupt or unreadable files give a Frame with the reason."""
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError as exc:
        return Frame(str(path), error=f"cannot read {path.name}: {exc.strerror}")
    pixels = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if pixels is None:
        return Frame(str(path), error=f"cannot decode {path.name} ({data.size} bytes)")
    return Frame(str(path), pixels=pixels)


def folder_frames(folder: Path, loop: bool = False, recursive: bool = True) -> Iterator[Frame]:
    """Checks the folder now (so configure fails early), then yields frames lazily."""
    files = list_images(folder, recursive)

    def frames() -> Iterator[Frame]:
        while True:
            for path in files:
                yield read_image(path)
            if not loop:
                return

    return frames()


def video_frames(path: Path, loop: bool = False) -> Iterator[Frame]:
    if not path.is_file():
        raise SourceError(f"video file not found: {path}")
    return _video_frames(path, loop)


def _video_frames(path: Path, loop: bool) -> Iterator[Frame]:
    while True:
        capture = cv2.VideoCapture(str(path))
        if not capture.isOpened():
            raise SourceError(f"cannot open video {path}")
        index = 0
        try:
            while True:
                ok, pixels = capture.read()
                if not ok:
                    break
                yield Frame(f"{path}#{index}", pixels=pixels)
                index += 1
        finally:
            capture.release()
        if not loop or index == 0:
            return


def device_frames(device: str) -> Iterator[Frame]:
    """A V4L2 device by index ("0") or path ("/dev/video0"); a failed grab is a failed unit."""
    capture = cv2.VideoCapture(int(device) if device.isdigit() else device, cv2.CAP_V4L2)
    if not capture.isOpened():
        raise SourceError(f"cannot open camera device {device!r}")
    return _device_frames(capture, device)


def _device_frames(capture: cv2.VideoCapture, device: str) -> Iterator[Frame]:
    index = 0
    try:
        while True:
            ok, pixels = capture.read()
            yield Frame(
                f"{device}#{index}",
                pixels=pixels if ok else None,
                error="" if ok else "device returned no frame",
            )
            index += 1
    finally:
        capture.release()


def bag_frames(path: Path, topic: str, loop: bool = False) -> Iterator[Frame]:
    """sensor_msgs/Image messages of one topic of a ROS 2 bag (MCAP or sqlite3)."""
    from inspection_nodes.core.io.bags import read_images

    if not path.exists():
        raise SourceError(f"bag not found: {path}")
    return _bag_frames(path, topic, loop, read_images)


def _bag_frames(path: Path, topic: str, loop: bool, read_images) -> Iterator[Frame]:
    while True:
        count = 0
        for index, pixels_or_error in read_images(path, topic):
            count += 1
            if isinstance(pixels_or_error, str):
                yield Frame(f"{path}:{topic}#{index}", error=pixels_or_error)
            else:
                yield Frame(f"{path}:{topic}#{index}", pixels=pixels_or_error)
        if not loop or count == 0:
            return


def open_source(
    source_type: str, source: str, loop: bool = False, topic: str = ""
) -> Iterator[Frame]:
    """Build the frame iterator for the camera's `source_type` parameter."""
    if source_type == "folder":
        return folder_frames(Path(source), loop)
    if source_type == "video":
        return video_frames(Path(source), loop)
    if source_type == "device":
        return device_frames(source)
    if source_type == "bag":
        return bag_frames(Path(source), topic or "/camera/image_raw", loop)
    raise SourceError(f"unknown source_type {source_type!r}; one of {', '.join(SOURCE_TYPES)}")

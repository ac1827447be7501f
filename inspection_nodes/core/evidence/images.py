"""Images as evidence: compressed with OpenCV (PNG lossless or JPEG), exactly as seen.

8- and 16-bit images are encoded with cv2 (RGB is swapped to OpenCV's BGR order first so any
viewer shows true colours); float maps such as raw anomaly maps are kept as .npy, since PNG/JPEG
would quantise them.
"""

from __future__ import annotations

import io

import cv2
import numpy as np

FORMATS = ("png", "jpg")


def encode_image(
    pixels: np.ndarray, encoding: str, fmt: str = "png", quality: int = 90
) -> tuple[str, bytes]:
    """(media_type, bytes) of an (H, W[, C]) image; raises ValueError when cv2 refuses it."""
    if fmt not in FORMATS:
        raise ValueError(f"image format must be one of {FORMATS}, got {fmt!r}")
    if pixels.dtype not in (np.uint8, np.uint16):
        buf = io.BytesIO()
        np.save(buf, pixels, allow_pickle=False)
        return "application/x-npy", buf.getvalue()
    if encoding.startswith("rgb"):
        pixels = cv2.cvtColor(
            pixels, cv2.COLOR_RGB2BGR if pixels.shape[-1] == 3 else cv2.COLOR_RGBA2BGRA
        )
    if fmt == "jpg" and pixels.dtype == np.uint8:
        ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        media = "image/jpeg"
    else:
        ok, data = cv2.imencode(".png", pixels)
        media = "image/png"
    if not ok:
        raise ValueError(f"cv2 could not encode a {pixels.shape} {pixels.dtype} image")
    return media, data.tobytes()


def decode_image(media_type: str, data: bytes) -> np.ndarray:
    """Pixels back from `encode_image` (colour images come back in OpenCV's BGR order)."""
    if media_type == "application/x-npy":
        return np.load(io.BytesIO(data), allow_pickle=False)
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None:
        raise ValueError(f"cannot decode {media_type} evidence")
    return pixels

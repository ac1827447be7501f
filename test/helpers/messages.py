"""Fill any generated message with deterministic non-default values, for round-trip tests."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]


def custom_message_types() -> list[type]:
    """Every message class generated from msg/*.msg."""
    module = importlib.import_module("inspection_msgs.msg")
    return [getattr(module, p.stem) for p in sorted((REPO / "msg").glob("*.msg"))]


def _value(type_name: str, seed: int):
    base = type_name.split("[")[0].split("<")[0]
    if base in ("float", "double"):
        return 0.5 + seed
    if base == "boolean":
        return seed % 2 == 1
    if base in ("octet", "uint8", "char"):
        return (seed * 7 + 1) % 256
    if base.startswith("int") or base.startswith("uint"):
        return seed * 3 + 1
    if base == "string":
        return f"value-{seed}"
    raise TypeError(base)


def filled(cls, seed: int = 1):
    """An instance of `cls` where every field (nested ones too) differs from its default."""
    msg = cls()
    for i, (name, type_name) in enumerate(cls.get_fields_and_field_types().items()):
        s = seed + i
        is_seq = type_name.startswith("sequence<") or type_name.endswith("]")
        inner = type_name[len("sequence<") : -1] if type_name.startswith("sequence<") else type_name
        inner = inner.split("[")[0]
        if "/" in inner:
            pkg, sub = inner.split("/")
            sub_cls = getattr(importlib.import_module(f"{pkg}.msg"), sub)
            value = [filled(sub_cls, s), filled(sub_cls, s + 10)] if is_seq else filled(sub_cls, s)
        elif is_seq:
            n = 4 if "[4]" in type_name else 3
            value = [_value(inner, s + k) for k in range(n)]
            if inner == "float":
                value = np.asarray(value, dtype=np.float32)
        else:
            value = _value(inner, s)
        setattr(msg, name, value)
    return msg


def image_msg(pixels: np.ndarray, encoding: str, sec: int):
    """A sensor_msgs/Image stamped `sec` (the unit's join key), `encoding` taken as given, so
    tests can also send pixels under a wrong or unsupported encoding."""
    from builtin_interfaces.msg import Time
    from std_msgs.msg import Header

    from inspection_nodes.nodes.convert import array_to_image

    return array_to_image(pixels, Header(stamp=Time(sec=sec)), encoding)

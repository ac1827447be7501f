"""A fast yes/no JSON Schema check for the keywords the message schemas use.

`jsonschema` walks a schema with a general machinery that costs ~85 us per verdict on an idle
core of this machine (several times that under load); ingest checks every message. This module
compiles a schema once into nested Python closures that answer only "valid or not" (~10x
faster); invalid messages then go through `jsonschema` for its precise error message, so the
fast path never decides on its own what a refusal says. Schemas that use a keyword not listed
in SUPPORTED are not compiled (the caller keeps `jsonschema`). Tests compare both on valid and
mutated messages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Predicate = Callable[[Any], bool]

SUPPORTED = frozenset(
    {
        "$schema", "$id", "title", "description",
        "type", "properties", "required", "additionalProperties", "enum", "const",
        "minimum", "maximum", "minLength", "maxLength", "pattern", "items", "minItems",
        "maxItems", "propertyNames", "minProperties", "maxProperties",
    }
)  # fmt: skip


class Unsupported(ValueError):
    """The schema uses a keyword this compiler does not implement."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_TYPES: dict[str, Predicate] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "number": _is_number,
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _equal(a: Any, b: Any) -> bool:
    """JSON equality: 1 == 1.0, but True is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _type_check(spec: str | list[str]) -> Predicate:
    names = [spec] if isinstance(spec, str) else list(spec)
    checks = [_TYPES[n] for n in names]
    return lambda v: any(c(v) for c in checks)


def _object_checks(schema: dict[str, Any]) -> list[Predicate]:
    checks: list[Predicate] = []
    props = {k: compile_predicate(s) for k, s in schema.get("properties", {}).items()}
    required = tuple(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    extra_check = compile_predicate(extra) if isinstance(extra, dict) else None
    names_check = compile_predicate(schema["propertyNames"]) if "propertyNames" in schema else None
    low, high = schema.get("minProperties", 0), schema.get("maxProperties")

    def check(v: Any) -> bool:
        if not isinstance(v, dict):
            return True
        if any(k not in v for k in required) or len(v) < low:
            return False
        if high is not None and len(v) > high:
            return False
        for key, value in v.items():
            if names_check is not None and not names_check(key):
                return False
            rule = props.get(key)
            if rule is not None:
                if not rule(value):
                    return False
            elif extra is False or (extra_check is not None and not extra_check(value)):
                return False
        return True

    checks.append(check)
    return checks


def _scalar_checks(schema: dict[str, Any]) -> list[Predicate]:
    checks: list[Predicate] = []
    if "enum" in schema:
        options = schema["enum"]
        checks.append(lambda v: any(_equal(v, o) for o in options))
    if "const" in schema:
        const = schema["const"]
        checks.append(lambda v: _equal(v, const))
    if "minimum" in schema:
        low = schema["minimum"]
        checks.append(lambda v: not _is_number(v) or v >= low)
    if "maximum" in schema:
        high = schema["maximum"]
        checks.append(lambda v: not _is_number(v) or v <= high)
    if "minLength" in schema or "maxLength" in schema:
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        checks.append(
            lambda v: not isinstance(v, str) or (low <= len(v) and (high is None or len(v) <= high))
        )
    if "pattern" in schema:
        pattern = re.compile(schema["pattern"])
        checks.append(lambda v: not isinstance(v, str) or pattern.search(v) is not None)
    return checks


def _array_checks(schema: dict[str, Any]) -> list[Predicate]:
    items = compile_predicate(schema["items"]) if "items" in schema else None
    low, high = schema.get("minItems", 0), schema.get("maxItems")

    def check(v: Any) -> bool:
        if not isinstance(v, list):
            return True
        if len(v) < low or (high is not None and len(v) > high):
            return False
        return items is None or all(items(x) for x in v)

    return [check]


def compile_predicate(schema: dict[str, Any] | bool) -> Predicate:
    """Schema -> predicate; raises Unsupported for keywords outside SUPPORTED."""
    if schema is True:
        return lambda _v: True
    if schema is False:
        return lambda _v: False
    unknown = set(schema) - SUPPORTED
    if unknown:
        raise Unsupported(f"keywords {sorted(unknown)}")
    checks: list[Predicate] = []
    if "type" in schema:
        checks.append(_type_check(schema["type"]))
    checks += _scalar_checks(schema)
    if {"properties", "required", "additionalProperties", "propertyNames"} & set(schema) or {
        "minProperties",
        "maxProperties",
    } & set(schema):
        checks += _object_checks(schema)
    if {"items", "minItems", "maxItems"} & set(schema):
        checks += _array_checks(schema)
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(c(v) for c in checks)

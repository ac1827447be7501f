"""JSON schemas of every message the backend accepts: the cell's (read from the cell package,
the contract) and the backend's own for evidence and plant context (`*.json` here)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from inspection_backend.cell_contract import cell_schema
from inspection_backend.core.fastschema import Unsupported, compile_predicate
from inspection_backend.core.messages import CELL_KINDS, Kind, SchemaCheck

_OWN = (Kind.EVIDENCE, Kind.CONTEXT, Kind.PROCESS, Kind.LABEL)


def backend_schema(name: str) -> dict[str, Any]:
    text = resources.files(__name__).joinpath(f"{name}.json").read_text(encoding="utf-8")
    return json.loads(text)


def schema_check(schema: dict[str, Any]) -> SchemaCheck:
    """A compiled check as a function: None when valid, else where and what is wrong.

    Valid documents are recognised by the fast predicate (core.fastschema); anything it
    refuses is judged by jsonschema, which also words the error."""
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)
    try:
        fast = compile_predicate(schema)
    except Unsupported:
        fast = validator.is_valid

    def check(doc: Any) -> str | None:
        if fast(doc):
            return None
        error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
        if error is None:
            return None
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        return f"{where}: {error.message}"[:1000]

    return check


@cache
def load_checks() -> dict[Kind, SchemaCheck]:
    checks = {kind: schema_check(cell_schema(str(kind))) for kind in CELL_KINDS if kind not in _OWN}
    checks.update({kind: schema_check(backend_schema(str(kind))) for kind in _OWN})
    return checks

"""Payloads of scenario files against the OCA schemas: paths, sub-schemas, stand-ins.

The loader checks the payloads a scenario writes with the same validators the run uses
(``rpc.validation``); these helpers walk a schema along a violation's path and put a value
the schema accepts where the run will supply one (a ``${variable}``, a field the station
fills), so that every problem of a payload is found, each at its own field.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mockpoint.datapaths import NOT_THERE, key_in

#: A payload cannot break its schema in more ways than it has values; this only bounds a
#: check that a stand-in could not quiet.
MAX_ROUNDS = 200


def resolve_ref(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow a local ``$ref`` (the security whitepaper's schemas use them)."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for name in ref[2:].split("/"):
            target = target[name]
        return resolve_ref(target, root)
    return schema


def schema_at(
    root: dict[str, Any], parts: Sequence[Any], start: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """The schema of the value at ``parts`` below ``start`` (default: ``root``)."""
    schema: Any = root if start is None else start
    for part in parts:
        schema = resolve_ref(schema, root)
        key = "items" if isinstance(part, int) else None
        schema = schema.get(key) if key else schema.get("properties", {}).get(part)
        if not isinstance(schema, dict):
            return None
    return resolve_ref(schema, root)


def value_at(value: Any, parts: Sequence[Any]) -> Any:
    for part in parts:
        key = key_in(value, part)
        if key is NOT_THERE:
            return None
        value = value[key]
    return value


def placeholder(schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """A value ``schema`` accepts, to stand in for a value the run will supply."""
    schema = resolve_ref(schema, root)
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "string":
        if schema.get("format") == "date-time":
            return "2025-01-01T00:00:00Z"
        return "x" * max(1, int(schema.get("minLength", 1)))
    if kind in ("integer", "number"):
        return max(0, int(schema.get("minimum", 0)))
    if kind == "boolean":
        return False
    if kind == "array":
        return [placeholder(schema.get("items", {}), root)] * int(schema.get("minItems", 0))
    if kind == "object":
        properties = schema.get("properties", {})
        return {k: placeholder(properties.get(k, {}), root) for k in schema.get("required", [])}
    return None


def without_variables(value: Any, schema: dict[str, Any] | None, root: dict[str, Any]) -> Any:
    """A copy of ``value`` where each string holding ``${`` (resolved when the step runs)
    is a stand-in its schema accepts; strings of unknown fields stay, to be reported."""
    if isinstance(value, str) and "${" in value and schema is not None:
        return placeholder(schema, root)
    if isinstance(value, dict):
        return {
            key: without_variables(item, schema and schema_at(root, [key], schema), root)
            for key, item in value.items()
        }
    if isinstance(value, list):
        items = schema and schema_at(root, [0], schema)
        return [without_variables(item, items, root) for item in value]
    return value

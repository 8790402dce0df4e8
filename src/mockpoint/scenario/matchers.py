"""Subset matching for ``expect`` and ``expect_state``, and ``${variable}`` resolution.

``expect`` is a subset match (docs/scenario-format.md, ``expect``): a scalar must be equal
(and of the same JSON type: ``1`` does not match ``true`` or ``"1"``), a mapping matches
recursively and may leave keys out, a list must have the same length and match item by
item, and a value may be a matcher: ``{$in: [...]}``, ``{$regex: ...}`` (a full match),
``{$type: integer}``, ``{$exists: true}``. Several matcher keys in one mapping must all
hold. ``${name}`` is resolved by :func:`mockpoint.variables.resolve`, re-exported here.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

# ``${name}`` is mockpoint.variables' syntax; these stay importable from here.
from mockpoint.variables import UnknownVariable as UnknownVariable
from mockpoint.variables import resolve as resolve

_MISSING = object()

_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "null": (type(None),),
}

MATCHERS = ("$in", "$regex", "$type", "$exists", "$gt", "$gte", "$lt", "$lte")
#: The bounds a number may be given: (operator, what a failure says).
_BOUNDS: dict[str, tuple[Callable[[Any, Any], bool], str]] = {
    "$gt": (operator.gt, "more than"),
    "$gte": (operator.ge, "at least"),
    "$lt": (operator.lt, "less than"),
    "$lte": (operator.le, "at most"),
}


def match(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Every way ``actual`` fails ``expected``, as "path: expected ..., got ..." lines."""
    if isinstance(expected, dict) and expected and all(k in MATCHERS for k in expected):
        return _match_operators(expected, actual, path)
    if actual is _MISSING:
        return [f"{path or 'value'}: missing, expected {_show(expected)}"]
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path or 'value'}: expected an object, got {_show(actual)}"]
        problems: list[str] = []
        for key, wanted in expected.items():
            problems += match(wanted, actual.get(key, _MISSING), _join(path, key))
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path or 'value'}: expected {_show(expected)}, got {_show(actual)}"]
        problems = []
        for index, (wanted, got) in enumerate(zip(expected, actual, strict=True)):
            problems += match(wanted, got, f"{path}[{index}]")
        return problems
    if not _equal(expected, actual):
        return [f"{path or 'value'}: expected {_show(expected)}, got {_show(actual)}"]
    return []


def _match_operators(ops: dict[str, Any], actual: Any, path: str) -> list[str]:
    where = path or "value"
    problems = []
    exists = ops.get("$exists")
    if exists is not None:
        if bool(exists) != (actual is not _MISSING):
            state = "missing" if actual is _MISSING else f"present ({_show(actual)})"
            problems.append(
                f"{where}: expected it to {'exist' if exists else 'be absent'}, {state}"
            )
        if actual is _MISSING:
            return problems
    if actual is _MISSING:
        return [f"{where}: missing, expected {_show(ops)}"]
    if "$in" in ops:
        choices = ops["$in"] if isinstance(ops["$in"], list) else [ops["$in"]]
        if not any(_equal(choice, actual) for choice in choices):
            problems.append(f"{where}: expected one of {_show(choices)}, got {_show(actual)}")
    if "$regex" in ops:
        pattern = str(ops["$regex"])
        if not isinstance(actual, str) or re.fullmatch(pattern, actual) is None:
            problems.append(f"{where}: expected to match /{pattern}/, got {_show(actual)}")
    for key, (holds, said) in _BOUNDS.items():
        if key not in ops:
            continue
        bound = ops[key]
        if not _is_number(bound):
            problems.append(f"{where}: {key} takes a number, not {_show(bound)}")
        elif not _is_number(actual) or not holds(actual, bound):
            problems.append(f"{where}: expected {said} {_show(bound)}, got {_show(actual)}")
    if "$type" in ops:
        name = str(ops["$type"])
        kinds = _TYPES.get(name)
        if kinds is None:
            problems.append(f"{where}: unknown $type {name!r} (one of {', '.join(_TYPES)})")
        elif not _is_type(actual, name, kinds):
            problems.append(f"{where}: expected a {name}, got {_show(actual)}")
    return problems


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_type(value: Any, name: str, kinds: tuple[type, ...]) -> bool:
    if isinstance(value, bool) and name != "boolean":
        return False
    return isinstance(value, kinds)


def _equal(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return expected == actual
    return type(expected) is type(actual) and bool(expected == actual)


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _show(value: Any) -> str:
    if value is _MISSING:
        return "nothing"
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


# --- paths ---------------------------------------------------------------------------------


def extract(data: Any, path: str) -> Any:
    """The value at dotted ``path`` in ``data`` (``idTagInfo.status``, ``items.0.key``)."""
    current = data
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            raise KeyError(f"{path}: no {part!r} in {_show(current)}")
    return current

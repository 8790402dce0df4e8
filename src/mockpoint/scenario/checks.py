"""What a scenario means, checked before anything connects: the mistakes the models'
types cannot see, which would otherwise fail a run against a live CSMS, or pass it for the
wrong reason.

- a connector a step names, or ``expect_state.connectors`` compares, that the charge point
  does not have (``charge_point.connectors``);
- a key ``expect_state`` cannot compare: of a connector's state, or a configuration key
  that is neither a standard one (OCPP 1.6 chapter 9, ``ocpp16.configuration_keys``) nor
  one ``charge_point.configuration`` sets;
- a CALLERROR code that OCPP-J 1.6 §4.2.3 does not have, in ``expect_error``,
  ``reply_error`` and a fault step's ``expect.callerror`` (the run would compare against a
  code no CSMS sends, or answer GenericError);
- an ``expect`` field the payload cannot have, by the OCA schema: the answer of the
  request a step sends, or the request an ``await`` waits for.

The checks read the scenario as written (the decoded YAML, before the models) and skip what
they cannot judge: a value of the wrong type or an unknown action (the loader reports those),
a ``${variable}`` (resolved at run time). Each finding is a path into that data, placed at
its ``file:line:column`` by the loader.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pydantic

from mockpoint.datapaths import json_path
from mockpoint.errors import ErrorCode
from mockpoint.modelerrors import did_you_mean
from mockpoint.ocpp16.actions import ACTIONS
from mockpoint.ocpp16.configuration_keys import KEYS
from mockpoint.ocpp16.schemas import load_schema
from mockpoint.scenario.matchers import MATCHERS
from mockpoint.scenario.model import CONNECTOR_STATE_KEYS, step_kind
from mockpoint.scenario.payloads import resolve_ref

__all__ = ["ERROR_CODES", "Finding", "did_you_mean", "findings"]

#: The CALLERROR codes of OCPP-J 1.6 §4.2.3, and the double-r spelling the run accepts too
#: (``ErrorCode.parse``).
ERROR_CODES: tuple[str, ...] = (*ErrorCode, "OccurrenceConstraintViolation")

#: Station steps whose ``connector`` must be one the charge point has.
_CONNECTOR_STEPS = (
    "plug_in",
    "unplug",
    "start_transaction",
    "charge",
    "stop_transaction",
    "fault",
    "clear_fault",
    "set_availability",
    "session",
)
#: Station steps that send a request and may ``expect`` its answer.
_STATION_REQUESTS = {
    "authorize": "Authorize",
    "start_transaction": "StartTransaction",
    "stop_transaction": "StopTransaction",
}
#: Steps whose ``expect_error`` is a CALLERROR code.
_EXCHANGES = ("send", *_STATION_REQUESTS)
#: Fault steps, whose ``expect.callerror`` is a CALLERROR code.
_FAULT_STEPS = ("send_raw", "duplicate", "violate_one_call_rule")
_FOLDED_KEYS = {name.lower(): name for name in KEYS}
_INTEGER = pydantic.TypeAdapter(int)

Path = tuple[Any, ...]


@dataclass(frozen=True)
class Finding:
    """One problem: where in the scenario as written (``at_key``: the last key of ``path``
    itself, not its value), and what."""

    path: Path
    message: str
    at_key: bool = False


def findings(data: dict[Any, Any]) -> list[Finding]:
    """Every finding of the checks above, in step order."""
    steps = data.get("steps")
    if not isinstance(steps, list):
        return []
    connectors = _connector_count(data.get("charge_point"))
    custom = _custom_keys(data.get("charge_point"))
    found: list[Finding] = []
    for index, step in enumerate(steps):
        kind = step_kind(step)
        if kind is None or not isinstance(step, dict):
            continue  # the loader says what is wrong with the step itself
        at: Path = ("steps", index)
        if connectors is not None:
            found += _connector_of(step, kind, connectors, at)
        if kind == "expect_state":
            found += _expected_state(step[kind], connectors, custom, (*at, kind))
        found += _error_codes(step, kind, at)
        found += _expected_fields(step, kind, at)
    return found


# --- connectors ------------------------------------------------------------------------------


def _connector_count(spec: object) -> int | None:
    """``charge_point.connectors`` when it is valid (else the models report it)."""
    if spec is None:
        return 1
    count = _number(spec.get("connectors", 1)) if isinstance(spec, dict) else None
    return count if count is not None and 1 <= count <= 100 else None


def _number(value: object) -> int | None:
    """An integer as the models read it (``"2"`` as a mapping key is 2), or None."""
    try:
        return _INTEGER.validate_python(value)
    except pydantic.ValidationError:
        return None


def _beyond(number: int, count: int) -> str:
    """Why the charge point has no connector ``number``."""
    if number < 0:
        return f"connector {number}: connectors are numbered from 0 (the charge point as a whole)"
    plural = "connector" if count == 1 else "connectors"
    return f"connector {number}: the charge point has {count} {plural} (charge_point.connectors)"


def _connector_of(step: dict[Any, Any], kind: str, count: int, at: Path) -> Iterator[Finding]:
    if kind not in _CONNECTOR_STEPS or not isinstance(step[kind], dict):
        return
    value = step[kind].get("connector")
    if isinstance(value, int) and not isinstance(value, bool) and value > count:
        yield Finding((*at, kind, "connector"), f"{kind}.connector: {_beyond(value, count)}")


# --- expect_state ----------------------------------------------------------------------------


def _custom_keys(spec: object) -> set[str]:
    """The keys ``charge_point.configuration`` sets that are not standard ones."""
    overrides = spec.get("configuration") if isinstance(spec, dict) else None
    if not isinstance(overrides, dict):
        return set()
    return {str(key) for key in overrides if str(key).lower() not in _FOLDED_KEYS}


def _is_matcher(value: object) -> bool:
    return isinstance(value, dict) and bool(value) and all(key in MATCHERS for key in value)


def _expected_state(
    spec: object, count: int | None, custom: set[str], at: Path
) -> Iterator[Finding]:
    if not isinstance(spec, dict):
        return
    connectors = spec.get("connectors")
    if isinstance(connectors, dict):
        for key, state in connectors.items():
            yield from _connector_state(key, state, count, (*at, "connectors", key))
    configuration = spec.get("configuration")
    if isinstance(configuration, dict) and not _is_matcher(configuration):
        for key in configuration:
            message = _configuration_key(key, custom)
            if message:
                yield Finding((*at, "configuration", key), message, True)


def _connector_state(key: object, state: object, count: int | None, at: Path) -> Iterator[Finding]:
    """``expect_state.connectors.<key>``: a connector the charge point has, and keys the
    run compares (``CONNECTOR_STATE_KEYS``)."""
    number = _number(key)
    if count is not None and number is not None and not 0 <= number <= count:
        yield Finding(at, f"expect_state.connectors: {_beyond(number, count)}", True)
    if not isinstance(state, dict) or _is_matcher(state):
        return
    for name in state:
        if name not in CONNECTOR_STATE_KEYS:
            hint = did_you_mean(str(name), CONNECTOR_STATE_KEYS)
            message = f"unknown key {name!r} in expect_state.connectors.{key}{hint}"
            yield Finding((*at, name), message, True)


def _configuration_key(key: object, custom: set[str]) -> str | None:
    """What is wrong with a key ``expect_state.configuration`` compares: the run compares
    the names exactly, although OCPP keys are case-insensitive (§2.2, CiString)."""
    if not isinstance(key, str) or "${" in key or key in KEYS or key in custom:
        return None
    standard = _FOLDED_KEYS.get(key.lower())
    if standard is not None:
        return (
            f"expect_state.configuration: the key is written {standard}, not {key!r}"
            " (configuration keys are compared as the charge point names them)"
        )
    hint = did_you_mean(key, [*KEYS, *sorted(custom)])
    known = "; it compares the standard OCPP 1.6 keys and those charge_point.configuration sets"
    return f"expect_state.configuration: unknown configuration key {key!r}{hint or known}"


# --- CALLERROR codes -------------------------------------------------------------------------


def _error_codes(step: dict[Any, Any], kind: str, at: Path) -> Iterator[Finding]:
    if kind in _EXCHANGES:
        yield from _error_code(step.get("expect_error"), (*at, "expect_error"))
    elif kind == "await":
        reply = step.get("reply_error")
        if isinstance(reply, dict):
            yield from _error_code(reply.get("code"), (*at, "reply_error", "code"))
        else:
            yield from _error_code(reply, (*at, "reply_error"))
    elif kind in _FAULT_STEPS and isinstance(step.get("expect"), dict):
        yield from _error_code(step["expect"].get("callerror"), (*at, "expect", "callerror"))


def _error_code(code: object, path: Path) -> Iterator[Finding]:
    if not isinstance(code, str) or "${" in code or ErrorCode.parse(code) is not None:
        return
    label = json_path(path[2:])
    known = ", ".join(ErrorCode)
    hint = did_you_mean(code, ERROR_CODES)
    yield Finding(path, f"{label}: {code!r} is not a CALLERROR code of OCPP-J 1.6 ({known}){hint}")


# --- expect against the OCA schemas ----------------------------------------------------------


def _expected_fields(step: dict[Any, Any], kind: str, at: Path) -> Iterator[Finding]:
    """``expect`` of a request's answer (``send`` and the station steps that send one) or
    of an awaited request, field by field against its OCA schema."""
    expected = step.get("expect")
    if not isinstance(expected, dict):
        return
    if kind in _STATION_REQUESTS:
        action, response = _STATION_REQUESTS[kind], True
    elif kind in ("send", "await") and isinstance(step[kind], str):
        action, response = step[kind], kind == "send"
        info = ACTIONS.get(action)
        if info is None or not (
            info.sent_by_charge_point() if response else info.sent_by_central_system()
        ):
            return  # an unknown action, or one of the other side: the loader says so
    else:
        return
    root = load_schema(action, response)
    whose = f"{action}'s answer" if response else f"the {action} request"
    for parts, name, known in _unknown_fields(expected, root, root, ()):
        hint = did_you_mean(str(name), known)
        message = f"expect.{json_path(parts)}: {whose} has no field {name!r}{hint}"
        yield Finding((*at, "expect", *parts), message, True)


def _unknown_fields(
    expected: Any, schema: dict[str, Any], root: dict[str, Any], parts: Path
) -> Iterator[tuple[Path, object, list[str]]]:
    """(path, name, the fields there) of each key of ``expected`` that its schema does not
    allow; matchers are values, not fields, and a ``${variable}`` key is left alone."""
    schema = resolve_ref(schema, root)
    if isinstance(expected, list):
        items = schema.get("items")
        if isinstance(items, dict):
            for index, item in enumerate(expected):
                yield from _unknown_fields(item, items, root, (*parts, index))
        return
    if not isinstance(expected, dict) or _is_matcher(expected):
        return
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return
    for name, value in expected.items():
        if isinstance(name, str) and "${" in name:
            continue
        if name in properties:
            yield from _unknown_fields(value, properties[name], root, (*parts, name))
        elif schema.get("additionalProperties") is False:
            yield (*parts, name), name, list(properties)

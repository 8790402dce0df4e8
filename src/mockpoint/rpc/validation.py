"""Validation of payloads against the OCA OCPP 1.6 JSON schemas.

Each schema is compiled once (with ``fastjsonschema``, into plain Python) the first time
an action is seen in a direction, then reused. A payload that breaks its schema gives a
:class:`Violation` that carries the CALLERROR code OCPP-J 1.6 §4.2.3 prescribes for that
kind of breach.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import fastjsonschema

from mockpoint.errors import ErrorCode
from mockpoint.ocpp16.schemas import load_schema

# Which CALLERROR answers which broken schema keyword (docs/behaviour.md, "CALLERROR codes").
_CODE_BY_RULE: dict[str, ErrorCode] = {
    "required": ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
    "type": ErrorCode.TYPE_CONSTRAINT_VIOLATION,
    "additionalProperties": ErrorCode.FORMATION_VIOLATION,
    "enum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "maxLength": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "minLength": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "format": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "pattern": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "minimum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "maximum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "exclusiveMinimum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "exclusiveMaximum": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "multipleOf": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
    "minItems": ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
    "maxItems": ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
    "uniqueItems": ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
}


# RFC 3339 §5.6 date-time. fastjsonschema's own pattern also takes "+0200" offsets, leap
# seconds and non-ASCII digits, which RFC 3339 refuses and parse_timestamp cannot read.
_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?"
    r"(?:[Zz]|[+-](?:[01]\d|2[0-3]):[0-5]\d)",
    re.ASCII,
)


@functools.lru_cache(maxsize=1024)
def _is_date_time(text: str) -> bool:
    # Cached: a CSMS stamps its answers with the same few seconds over and over.
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        return False
    try:
        datetime.date(*map(int, match.groups()))
    except ValueError:  # no such day, or year 0
        return False
    return True


@dataclass(frozen=True, slots=True)
class Violation:
    """How a payload breaks its schema."""

    code: ErrorCode
    #: human-readable, names the field: "idTag must be shorter than or equal to 20 characters"
    message: str
    #: the JSON path of the offending field, "" for the payload itself
    path: str
    #: the schema keyword that failed ("required", "type", "enum", ...)
    rule: str

    def details(self) -> dict[str, Any]:
        """errorDetails for a CALLERROR built from this violation."""
        return {"path": self.path, "rule": self.rule} if self.path else {"rule": self.rule}


def check_request(action: str, payload: dict[str, Any]) -> Violation | None:
    """How ``payload`` breaks the request schema of ``action``, or None if it is valid.

    ``action`` must be a known 1.6 action (see :data:`mockpoint.ocpp16.actions.ACTIONS`).
    """
    return _check(_validator(action, False), payload)


def check_response(action: str, payload: dict[str, Any]) -> Violation | None:
    """How ``payload`` breaks the response schema of ``action``, or None if it is valid."""
    return _check(_validator(action, True), payload)


@functools.cache
def _validator(action: str, response: bool) -> Callable[[Any], Any]:
    validate: Callable[[Any], Any] = fastjsonschema.compile(
        load_schema(action, response), formats={"date-time": _is_date_time}
    )
    return validate


def _json_path(parts: list[Any]) -> str:
    """``meterValue[0].sampledValue[1].value`` from fastjsonschema's ``["data", ...]``."""
    path = ""
    for part in parts[1:]:
        index = isinstance(part, int) or (isinstance(part, str) and part.isdigit())
        path += f"[{part}]" if index else (f".{part}" if path else str(part))
    return path


def _check(validate: Callable[[Any], Any], payload: dict[str, Any]) -> Violation | None:
    try:
        validate(payload)
    except OverflowError:
        # fastjsonschema checks multipleOf by dividing by a float: an integer beyond the
        # float range (a peer can send 10**400) overflows. No OCPP quantity is that large.
        message = "a number is too large for its field"
        return Violation(ErrorCode.PROPERTY_CONSTRAINT_VIOLATION, message, "", "multipleOf")
    except fastjsonschema.JsonSchemaValueException as exc:
        rule = exc.rule or ""
        path = _json_path(exc.path or [])
        code = _CODE_BY_RULE.get(rule, ErrorCode.FORMATION_VIOLATION)
        if rule == "required" and isinstance(exc.value, dict) and isinstance(exc.definition, dict):
            missing = [key for key in exc.definition.get("required", []) if key not in exc.value]
            where = f"{path}." if path else ""
            fields = ", ".join(f"{where}{key}" for key in missing)
            return Violation(code, f"required field missing: {fields}", path, rule)
        if rule == "additionalProperties" and isinstance(exc.value, dict):
            # fastjsonschema names the extra keys as a set, whose order changes from run to
            # run; CALLERROR descriptions must not (docs/behaviour.md, "CALLERROR codes").
            known = exc.definition.get("properties", {}) if isinstance(exc.definition, dict) else {}
            where = f"{path}." if path else ""
            fields = ", ".join(f"{where}{key}" for key in exc.value if key not in known)
            return Violation(code, f"unknown field: {fields}", path, rule)
        message = exc.message or str(exc)
        message = message[len("data.") :] if message.startswith("data.") else message
        message = (
            "the payload " + message[len("data ") :] if message.startswith("data ") else message
        )
        return Violation(code, message, path, rule)
    except ValueError:
        # The same multipleOf division on a NaN (a local payload; parse refuses NaN).
        message = "a number is not finite"
        return Violation(ErrorCode.PROPERTY_CONSTRAINT_VIOLATION, message, "", "multipleOf")
    return None

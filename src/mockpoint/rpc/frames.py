"""OCPP-J message frames: parse text into values, encode values into text.

OCPP-J 1.6 §4.1: every message is a JSON array whose first element is the message type:

- CALL ``[2, "<uniqueId>", "<Action>", {payload}]`` (§4.2.1)
- CALLRESULT ``[3, "<uniqueId>", {payload}]`` (§4.2.2)
- CALLERROR ``[4, "<uniqueId>", "<errorCode>", "<errorDescription>", {errorDetails}]``
  (§4.2.3)

:func:`parse` never raises: text that is not a well-formed frame becomes a
:class:`MalformedFrame` value that says why and, when it can be read, the unique id, so the
caller can answer it with a CALLERROR.
"""

from __future__ import annotations

import enum
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

#: OCPP-J 1.6 §4.1.3: a unique id is a string of at most 36 characters.
MAX_UNIQUE_ID_LENGTH = 36


#: Which way a frame crossed the connection, from this side's point of view: "out" for what
#: it sent, "in" for what it received.
Direction = Literal["in", "out"]


class MessageType(enum.IntEnum):
    CALL = 2
    CALLRESULT = 3
    CALLERROR = 4


@dataclass(frozen=True, slots=True)
class Call:
    unique_id: str
    action: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallResult:
    unique_id: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CallError:
    unique_id: str
    error_code: str
    error_description: str = ""
    error_details: dict[str, Any] = field(default_factory=dict)


Frame = Call | CallResult | CallError


class BinaryText(str):
    """The text of a binary WebSocket message, decoded as UTF-8 (bad bytes replaced).

    OCPP-J 1.6 §3 carries every frame in a text message. A transport that receives a binary
    one hands its text up as this type, so that the session reads the frame and also reports
    the violation.
    """

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class MalformedFrame:
    """Text that is not a well-formed OCPP-J frame."""

    text: str
    reason: str
    #: the unique id, when it could be read despite the damage
    unique_id: str | None = None
    #: the message type, when it could be read
    message_type: int | None = None
    #: the decoded JSON value, when the text is JSON at all (None when it is not, or is null)
    data: Any = None


@dataclass(frozen=True, slots=True)
class WireFrame:
    """One frame as it crossed the connection, decoded once: what fault rules, frame logs,
    reports and statistics read (nobody parses the text again).

    ``action`` is a CALL's own action, or for an answer the action of the CALL it answers
    (``answers``), when this side knows that CALL; None otherwise.
    """

    direction: Direction
    text: str
    frame: Frame | MalformedFrame
    action: str | None = None
    answers: Call | None = None

    @property
    def kind(self) -> MessageType | None:
        """CALL, CALLRESULT or CALLERROR; None for a frame that is none of them."""
        frame = self.frame
        if isinstance(frame, Call):
            return MessageType.CALL
        if isinstance(frame, CallResult):
            return MessageType.CALLRESULT
        if isinstance(frame, CallError):
            return MessageType.CALLERROR
        return None

    @property
    def unique_id(self) -> str | None:
        return self.frame.unique_id

    def data(self) -> Any:
        """The frame as JSON data (the array of OCPP-J §4.1), or its text when it is not
        JSON: what a frame log writes."""
        frame = self.frame
        if isinstance(frame, MalformedFrame):
            return self.text if frame.data is None and self.text.strip() != "null" else frame.data
        return as_array(frame)


# A broken frame often still starts well: `[2, "abc", ...`. Reading the id from it lets us
# answer with a CALLERROR instead of leaving the peer waiting for its timeout.
# An id is at most 36 characters once decoded; escaped (\u0000, \ud800\udc00) it may be
# up to twelve times as long.
_LEADING_ID = re.compile(r'^\s*\[\s*(\d+)\s*,\s*"((?:[^"\\]|\\.){1,432})"')


def parse(text: str) -> Frame | MalformedFrame:
    """Parse one WebSocket text message into a frame value; never raises."""
    try:
        data = _decode(text)
    except (ValueError, RecursionError) as exc:
        return _salvage(text, f"not valid JSON: {exc}")
    if not isinstance(data, list):
        return MalformedFrame(
            text, f"a frame must be a JSON array, got {_json_type(data)}", data=data
        )
    if len(data) < 3:
        return MalformedFrame(
            text,
            f"a frame has at least 3 elements, got {len(data)}",
            *_readable_head(data),
            data=data,
        )
    unique_id, message_type = _readable_head(data)
    if message_type is None:
        return MalformedFrame(
            text,
            "the message type must be the integer 2, 3 or 4",
            unique_id,
            message_type,
            data=data,
        )
    if unique_id is None:
        return MalformedFrame(
            text,
            f"the unique id must be a string of 1 to {MAX_UNIQUE_ID_LENGTH} characters",
            None,
            message_type,
            data=data,
        )
    if message_type == MessageType.CALL:
        return _parse_call(text, data, unique_id)
    if message_type == MessageType.CALLRESULT:
        return _parse_call_result(text, data, unique_id)
    if message_type == MessageType.CALLERROR:
        return _parse_call_error(text, data, unique_id)
    return MalformedFrame(
        text,
        f"unknown message type {message_type} (expected 2, 3 or 4)",
        unique_id,
        message_type,
        data=data,
    )


def readable_id(text: str) -> str | None:
    """The unique id of ``text`` when one can be read, well-formed frame or not."""
    frame = parse(text)
    return frame.unique_id


def as_array(frame: Frame) -> list[Any]:
    """The JSON array of ``frame`` (OCPP-J 1.6 §4.1)."""
    if isinstance(frame, Call):
        return [MessageType.CALL.value, frame.unique_id, frame.action, frame.payload]
    if isinstance(frame, CallResult):
        return [MessageType.CALLRESULT.value, frame.unique_id, frame.payload]
    return [
        MessageType.CALLERROR.value,
        frame.unique_id,
        frame.error_code,
        frame.error_description,
        frame.error_details,
    ]


def encode(frame: Frame) -> str:
    """The OCPP-J text of ``frame``: compact JSON, keys in the payload's order."""
    body = as_array(frame)
    text = _encode(body)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (a peer may send "\ud800" as an id or a value) cannot go in a
        # text message, which must be UTF-8 (RFC 6455 §5.6); as an escape it is the same
        # JSON string.
        text = _encode_ascii(body)
    return text


def _parse_call(text: str, data: list[Any], unique_id: str) -> Call | MalformedFrame:
    if len(data) != 4:
        return _bad(text, f"a CALL has 4 elements, got {len(data)}", unique_id, 2, data)
    _, _, action, payload = data
    if not isinstance(action, str) or not action:
        return _bad(text, "the action of a CALL must be a non-empty string", unique_id, 2, data)
    if not isinstance(payload, dict):
        return _bad(
            text,
            f"the payload of a CALL must be an object, got {_json_type(payload)}",
            unique_id,
            2,
            data,
        )
    return Call(unique_id, action, payload)


def _parse_call_result(text: str, data: list[Any], unique_id: str) -> CallResult | MalformedFrame:
    if len(data) != 3:
        return _bad(text, f"a CALLRESULT has 3 elements, got {len(data)}", unique_id, 3, data)
    payload = data[2]
    if not isinstance(payload, dict):
        return _bad(
            text,
            f"the payload of a CALLRESULT must be an object, got {_json_type(payload)}",
            unique_id,
            3,
            data,
        )
    return CallResult(unique_id, payload)


def _parse_call_error(text: str, data: list[Any], unique_id: str) -> CallError | MalformedFrame:
    if len(data) != 5:
        return _bad(text, f"a CALLERROR has 5 elements, got {len(data)}", unique_id, 4, data)
    _, _, code, description, details = data
    if not isinstance(code, str) or not isinstance(description, str):
        return _bad(
            text,
            "the error code and description of a CALLERROR must be strings",
            unique_id,
            4,
            data,
        )
    if not isinstance(details, dict):
        return _bad(
            text,
            f"the error details of a CALLERROR must be an object, got {_json_type(details)}",
            unique_id,
            4,
            data,
        )
    return CallError(unique_id, code, description, details)


def _bad(
    text: str, reason: str, unique_id: str, message_type: int, data: list[Any]
) -> MalformedFrame:
    return MalformedFrame(text, reason, unique_id, message_type, data)


def _readable_head(data: list[Any]) -> tuple[str | None, int | None]:
    """The unique id and message type of a decoded array, where they are well-typed."""
    message_type = data[0] if data else None
    if isinstance(message_type, bool) or not isinstance(message_type, int):
        message_type = None
    unique_id = data[1] if len(data) > 1 else None
    if not isinstance(unique_id, str) or not 0 < len(unique_id) <= MAX_UNIQUE_ID_LENGTH:
        unique_id = None
    return unique_id, message_type


def _not_json(constant: str) -> Any:
    # Python's json reads NaN and Infinity; RFC 8259 §6 does not allow them, and a NaN
    # that got through would break validation and the reports downstream.
    raise ValueError(f"{constant} is not a JSON value")


# Made once: json.loads / json.dumps with options build a new decoder / encoder per call,
# which showed in the load runner's profile.
_decode = json.JSONDecoder(parse_constant=_not_json).decode
_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_encode_ascii = json.JSONEncoder(separators=(",", ":")).encode


def _salvage(text: str, reason: str) -> MalformedFrame:
    match = _LEADING_ID.match(text)
    if match is None:
        return MalformedFrame(text, reason)
    try:
        unique_id = json.loads(f'"{match.group(2)}"')
    except ValueError:
        return MalformedFrame(text, reason)
    if not 0 < len(unique_id) <= MAX_UNIQUE_ID_LENGTH:
        return MalformedFrame(text, reason)
    return MalformedFrame(text, reason, unique_id, int(match.group(1)))


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"

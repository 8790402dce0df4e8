"""OCPP-J framing, validation and call bookkeeping, sans I/O (OCPP-J 1.6 §4)."""

from mockpoint.rpc.frames import Call, CallError, CallResult, Frame, MalformedFrame, encode, parse
from mockpoint.rpc.session import (
    CallReceived,
    CallTimedOut,
    ErrorReceived,
    Event,
    InvalidAnswer,
    RemoteViolation,
    ResultReceived,
    RpcSession,
)
from mockpoint.rpc.validation import Violation, check_request, check_response

__all__ = [
    "Call",
    "CallError",
    "CallReceived",
    "CallResult",
    "CallTimedOut",
    "ErrorReceived",
    "Event",
    "Frame",
    "InvalidAnswer",
    "MalformedFrame",
    "RemoteViolation",
    "ResultReceived",
    "RpcSession",
    "Violation",
    "check_request",
    "check_response",
    "encode",
    "parse",
]

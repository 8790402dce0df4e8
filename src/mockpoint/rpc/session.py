"""OCPP-J call bookkeeping for one connection, sans I/O.

An :class:`RpcSession` is fed the text that arrived (:meth:`RpcSession.receive`) and the
time (:meth:`RpcSession.expire`); it returns events, and queues the text to send, which the
I/O layer collects with :meth:`RpcSession.data_to_send`. It never touches a socket, a
clock or an event loop, so it is driven the same way by a WebSocket, by an in-memory pair
and by a unit test.

Rules it enforces (OCPP-J 1.6 §4):

- at most one CALL of its own in flight; further calls wait in order until the one in
  flight is answered or times out (§4.1.1);
- every frame, both directions, is validated against the OCA 1.6 schemas; a received CALL
  that breaks its schema, names an unknown action, or names one this side does not handle
  is answered with the matching CALLERROR by the session itself (§4.2.3);
- a received frame that cannot be used never raises: it becomes a :class:`RemoteViolation`
  event, answered with a CALLERROR when its unique id can be read.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from mockpoint.errors import ErrorCode, LocalProtocolError
from mockpoint.ids import IdGenerator, SeededIds
from mockpoint.ocpp16.actions import ACTIONS
from mockpoint.rpc.frames import (
    BinaryText,
    Call,
    CallError,
    CallResult,
    Direction,
    Frame,
    MalformedFrame,
    MessageType,
    WireFrame,
    encode,
    parse,
)
from mockpoint.rpc.validation import Violation, check_request, check_response


@dataclass(frozen=True, slots=True)
class CallReceived:
    """The peer sent a valid request this side handles; answer it with ``reply``."""

    call: Call


@dataclass(frozen=True, slots=True)
class ResultReceived:
    """A valid CALLRESULT answered ``call``."""

    call: Call
    result: CallResult


@dataclass(frozen=True, slots=True)
class ErrorReceived:
    """A CALLERROR answered ``call``."""

    call: Call
    error: CallError


@dataclass(frozen=True, slots=True)
class InvalidAnswer:
    """The CALLRESULT that answered ``call`` breaks the response schema."""

    call: Call
    result: CallResult
    violation: Violation


@dataclass(frozen=True, slots=True)
class CallTimedOut:
    """No answer to ``call`` arrived before its deadline."""

    call: Call


@dataclass(frozen=True, slots=True)
class RemoteViolation:
    """The peer sent something OCPP-J does not allow; ``reply`` is how we answered, if at all."""

    text: str
    description: str
    reply: CallError | None = None
    #: the request, when the violation is a CALL whose action or payload we refused
    call: Call | None = None


@dataclass(frozen=True, slots=True)
class RawAnswerReceived:
    """The answer to a frame sent outside the bookkeeping (:meth:`RpcSession.send_raw`),
    whose id was announced with :meth:`RpcSession.expect_answer` (fault injection)."""

    answer: CallResult | CallError


Event = (
    CallReceived
    | ResultReceived
    | ErrorReceived
    | InvalidAnswer
    | CallTimedOut
    | RemoteViolation
    | RawAnswerReceived
)


@dataclass(slots=True)
class _InFlight:
    call: Call
    deadline: float
    timeout: float


@dataclass(slots=True)
class _Pending:
    call: Call
    timeout: float


@dataclass(slots=True)
class RpcSession:
    """Call bookkeeping of one side of one OCPP-J connection.

    ``handles`` lists the actions whose requests this side answers; a known action outside it
    is refused with NotSupported, an unknown one with NotImplemented.
    """

    handles: Collection[str]
    ids: IdGenerator = field(default_factory=SeededIds)
    default_timeout: float = 30.0
    _in_flight: _InFlight | None = field(default=None, init=False)
    # A list, not a deque: rarely more than one CALL waits, and an empty deque costs 760
    # bytes, a load run's thousands of sessions each.
    _queue: list[_Pending] = field(default_factory=list, init=False)
    _unanswered: dict[str, Call] = field(default_factory=dict, init=False)
    _outgoing: list[WireFrame] = field(default_factory=list, init=False)
    _raw_expected: set[str] = field(default_factory=set, init=False)

    # --- sending -------------------------------------------------------------------------

    def call(
        self,
        action: str,
        payload: dict[str, Any],
        now: float,
        *,
        timeout: float | None = None,
        validate: bool = True,
    ) -> Call:
        """Queue a CALL; it goes on the wire as soon as no other CALL is in flight.

        Raises :class:`LocalProtocolError` when ``payload`` breaks the schema, unless
        ``validate`` is false (a scenario that sends an invalid message on purpose).
        """
        if validate:
            if action not in ACTIONS:
                raise LocalProtocolError(f"{action} is not an OCPP 1.6 action")
            violation = check_request(action, payload)
            if violation is not None:
                raise LocalProtocolError(f"{action} request: {violation.message}")
        call = Call(self.ids(), action, payload)
        self._queue.append(_Pending(call, self.default_timeout if timeout is None else timeout))
        self._pump(now)
        return call

    def reply(self, call: Call, payload: dict[str, Any], *, validate: bool = True) -> CallResult:
        """Answer a received request with a CALLRESULT."""
        if validate:
            violation = check_response(call.action, payload)
            if violation is not None:
                raise LocalProtocolError(f"{call.action} response: {violation.message}")
        self._unanswered.pop(call.unique_id, None)
        result = CallResult(call.unique_id, payload)
        self._outgoing.append(WireFrame("out", encode(result), result, call.action, call))
        return result

    def reply_error(
        self,
        call: Call,
        code: ErrorCode | str,
        description: str = "",
        details: dict[str, Any] | None = None,
    ) -> CallError:
        """Answer a received request with a CALLERROR."""
        self._unanswered.pop(call.unique_id, None)
        return self._send_error(call.unique_id, code, description, details, call)

    def forget(self, call: Call) -> None:
        """Leave a received request without an answer, on purpose."""
        self._unanswered.pop(call.unique_id, None)

    def send_raw(self, text: str) -> None:
        """Put ``text`` on the wire as it is, outside any bookkeeping (fault injection)."""
        self._outgoing.append(self.read(text, "out"))

    def expect_answer(self, unique_id: str) -> None:
        """An answer with ``unique_id`` to a raw frame is expected: report it as a
        :class:`RawAnswerReceived` instead of a violation (once)."""
        self._raw_expected.add(unique_id)

    def data_to_send(self) -> list[str]:
        """The texts to write to the connection, in order; each is returned once."""
        return [frame.text for frame in self.frames_to_send()]

    def frames_to_send(self) -> list[WireFrame]:
        """The frames to write to the connection, in order; each is returned once."""
        out, self._outgoing = self._outgoing, []
        return out

    # --- receiving -----------------------------------------------------------------------

    def read(self, text: str, direction: Direction = "in") -> WireFrame:
        """Decode one text message (the only place a frame is parsed) and name its action:
        a CALL's own, an answer's from the CALL in flight it answers (a received frame) or
        from the request it answers (a raw frame this side sends). Changes nothing."""
        frame = parse(text)
        if isinstance(frame, Call):
            return WireFrame(direction, text, frame, frame.action)
        if isinstance(frame, MalformedFrame):
            return WireFrame(direction, text, frame)
        if direction == "in":
            flight = self._in_flight
            if flight is not None and flight.call.unique_id == frame.unique_id:
                return WireFrame(direction, text, frame, flight.call.action, flight.call)
            return WireFrame(direction, text, frame)
        request = self._unanswered.get(frame.unique_id)
        if request is not None:
            return WireFrame(direction, text, frame, request.action, request)
        return WireFrame(direction, text, frame)

    def receive(self, text: str, now: float) -> list[Event]:
        """Digest one received text message."""
        return self.digest(self.read(text), now)

    def digest(self, wire: WireFrame, now: float) -> list[Event]:
        """Digest one received frame, as :meth:`read` decoded it."""
        text, frame = wire.text, wire.frame
        if isinstance(text, BinaryText):
            binary = RemoteViolation(text, "a binary WebSocket message (OCPP-J uses text only)")
            return [binary, *self.digest(WireFrame("in", str(text), frame), now)]
        if isinstance(frame, MalformedFrame):
            return [self._malformed(frame)]
        if isinstance(frame, Call):
            return [self._request(text, frame)]
        return self._answer(text, frame, now)

    # --- time ----------------------------------------------------------------------------

    def next_deadline(self) -> float | None:
        """When the CALL in flight times out, if one is in flight."""
        return self._in_flight.deadline if self._in_flight else None

    def expire(self, now: float) -> list[Event]:
        """Time out the CALL in flight if its deadline has passed."""
        flight = self._in_flight
        if flight is None or now < flight.deadline:
            return []
        self._in_flight = None
        self._pump(now)
        return [CallTimedOut(flight.call)]

    # --- state ---------------------------------------------------------------------------

    @property
    def in_flight(self) -> Call | None:
        return self._in_flight.call if self._in_flight else None

    @property
    def unanswered(self) -> list[Call]:
        """Requests received and not answered yet."""
        return list(self._unanswered.values())

    def abandon(self) -> list[Call]:
        """Forget every CALL not answered yet (the connection is gone); returns them in order."""
        calls = [self._in_flight.call] if self._in_flight else []
        calls.extend(pending.call for pending in self._queue)
        self._in_flight = None
        self._queue.clear()
        self._unanswered.clear()
        self._outgoing.clear()
        return calls

    # --- internals -----------------------------------------------------------------------

    def _pump(self, now: float) -> None:
        if self._in_flight is None and self._queue:
            pending = self._queue.pop(0)
            call = pending.call
            self._in_flight = _InFlight(call, now + pending.timeout, pending.timeout)
            self._outgoing.append(WireFrame("out", encode(call), call, call.action))

    def _send_error(
        self,
        unique_id: str,
        code: ErrorCode | str,
        description: str,
        details: dict[str, Any] | None = None,
        call: Call | None = None,
    ) -> CallError:
        error = CallError(unique_id, str(code), description, details or {})
        action = call.action if call is not None else None
        self._outgoing.append(WireFrame("out", encode(error), error, action, call))
        return error

    def _malformed(self, frame: MalformedFrame) -> RemoteViolation:
        # Only a CALL (or something that is no known message type) expects an answer; a
        # broken CALLRESULT or CALLERROR is not answered with another frame.
        answerable = frame.unique_id is not None and frame.message_type not in (
            MessageType.CALLRESULT,
            MessageType.CALLERROR,
        )
        reply = None
        if answerable and frame.unique_id is not None:
            reply = self._send_error(frame.unique_id, ErrorCode.FORMATION_VIOLATION, frame.reason)
        return RemoteViolation(frame.text, frame.reason, reply)

    def _request(self, text: str, call: Call) -> Event:
        info = ACTIONS.get(call.action)
        if info is None:
            reply = self._send_error(
                call.unique_id,
                ErrorCode.NOT_IMPLEMENTED,
                f"{call.action} is not an OCPP 1.6 action",
                call=call,
            )
            return RemoteViolation(text, reply.error_description, reply, call)
        if call.action not in self.handles:
            reply = self._send_error(
                call.unique_id,
                ErrorCode.NOT_SUPPORTED,
                f"{call.action} is not supported here",
                call=call,
            )
            return RemoteViolation(text, reply.error_description, reply, call)
        violation = check_request(call.action, call.payload)
        if violation is not None:
            reply = self._send_error(
                call.unique_id,
                violation.code,
                f"{call.action} request: {violation.message}",
                violation.details(),
                call,
            )
            return RemoteViolation(text, reply.error_description, reply, call)
        self._unanswered[call.unique_id] = call
        return CallReceived(call)

    def _answer(self, text: str, frame: CallResult | CallError, now: float) -> list[Event]:
        flight = self._in_flight
        in_flight = flight is not None and flight.call.unique_id == frame.unique_id
        if not in_flight and frame.unique_id in self._raw_expected:
            self._raw_expected.discard(frame.unique_id)
            return [RawAnswerReceived(frame)]
        if flight is None or flight.call.unique_id != frame.unique_id:
            kind = "CALLRESULT" if isinstance(frame, CallResult) else "CALLERROR"
            return [
                RemoteViolation(
                    text, f"{kind} for unique id {frame.unique_id!r}, which no CALL in flight has"
                )
            ]
        self._in_flight = None
        self._pump(now)
        call = flight.call
        if isinstance(frame, CallError):
            return [ErrorReceived(call, frame)]
        violation = check_response(call.action, frame.payload) if call.action in ACTIONS else None
        if violation is not None:
            return [InvalidAnswer(call, frame, violation)]
        return [ResultReceived(call, frame)]


__all__ = [
    "CallReceived",
    "CallTimedOut",
    "ErrorReceived",
    "Event",
    "Frame",
    "InvalidAnswer",
    "RawAnswerReceived",
    "RemoteViolation",
    "ResultReceived",
    "RpcSession",
]

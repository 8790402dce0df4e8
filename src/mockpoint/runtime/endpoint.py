"""One side of an OCPP-J connection on an event loop: an :class:`RpcSession` over a
:class:`Transport`.

The session decides everything (framing, validation, one CALL in flight, timeouts); the
endpoint moves text between it and the transport and nothing waits in between: the
transport pushes each message into :meth:`Endpoint.received`, which reads it once into a
:class:`~mockpoint.rpc.frames.WireFrame`, lets the session digest it, answers requests and
settles calls from that same callback, and writes what the session queued. A CALL's outcome
goes to a callback (:meth:`Endpoint.send_call`) or, for a coroutine, to a future
(:meth:`Endpoint.call`). The charge point runner and the mock CSMS both sit on it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from mockpoint.errors import (
    CallErrorReceived,
    CallTimeout,
    ConnectionLost,
    InternalOcppError,
    LocalProtocolError,
    MockpointError,
    OcppError,
    RemoteProtocolError,
)
from mockpoint.rpc.frames import Call, CallError, CallResult, Direction, WireFrame
from mockpoint.rpc.session import (
    CallReceived,
    CallTimedOut,
    ErrorReceived,
    Event,
    InvalidAnswer,
    RawAnswerReceived,
    RemoteViolation,
    ResultReceived,
    RpcSession,
)
from mockpoint.runtime.timers import Timer, Timers
from mockpoint.transport.base import Transport

logger = logging.getLogger(__name__)

__all__ = [
    "CallDone",
    "CallMeter",
    "Direction",
    "Endpoint",
    "FrameObserver",
    "RequestHandler",
    "Unanswered",
]

#: Answers a received request with a response payload, raises an OcppError (answered with
#: a CALLERROR), or raises :class:`Unanswered` (no answer at all); or returns an awaitable
#: that does one of these later (the answer then goes out when it is done).
RequestHandler = Callable[[Call], "dict[str, Any] | Awaitable[dict[str, Any]]"]

#: Told how a CALL ended: its CALLRESULT's payload, or what went wrong (CallErrorReceived,
#: CallTimeout, RemoteProtocolError, ConnectionLost).
CallDone = Callable[[dict[str, Any] | None, MockpointError | None], None]


class Unanswered(Exception):
    """A handler's decision to leave a request without any answer (OCPP 1.6 §4.2: a charge
    point whose boot is Rejected answers no request of the Central System)."""


class FrameObserver(Protocol):
    """Told about every frame that crosses the connection, and every peer violation."""

    def frame(self, wire: WireFrame) -> None: ...

    def violation(self, event: RemoteViolation | InvalidAnswer) -> None: ...


class CallMeter(Protocol):
    """Told how each CALL of this side ended and how long its answer took (the load
    runner's statistics). ``outcome`` is None for a CALLRESULT, the error code of a
    CALLERROR, or "timeout", "lost" or "invalid" (the answer broke its schema)."""

    def call_finished(self, action: str, latency: float, outcome: str | None) -> None: ...


@dataclass(slots=True)
class _Waiting:
    action: str
    started: float
    done: CallDone


def _outcome(error: MockpointError | None) -> str | None:
    if error is None:
        return None
    if isinstance(error, CallErrorReceived):
        return error.code
    if isinstance(error, CallTimeout):
        return "timeout"
    if isinstance(error, RemoteProtocolError):
        return "invalid"
    return "lost"


def _keep_all(_wire: WireFrame) -> bool:
    return True


class Endpoint:
    # Slots: a load run holds thousands of these.
    __slots__ = (
        "_expiry",
        "_expiry_at",
        "_handler",
        "_lost",
        "_lost_waiter",
        "_monotonic",
        "_observer",
        "_on_lost",
        "_raw_waiters",
        "_tasks",
        "_timers",
        "_waiting",
        "keep",
        "meter",
        "session",
        "transport",
    )

    def __init__(
        self,
        transport: Transport,
        session: RpcSession,
        handler: RequestHandler,
        *,
        observer: FrameObserver | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        timers: Timers | None = None,
        on_lost: Callable[[ConnectionLost], None] | None = None,
    ) -> None:
        self.transport = transport
        self.session = session
        self._handler = handler
        self._observer = observer
        self._monotonic = monotonic
        self._timers = timers if timers is not None else Timers()
        self._waiting: dict[str, _Waiting] = {}
        #: the timer of the in-flight CALL's deadline
        self._expiry: Timer | None = None
        self._expiry_at: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._lost: ConnectionLost | None = None
        self._lost_waiter: asyncio.Future[ConnectionLost] | None = None
        self._on_lost = on_lost
        self._raw_waiters: dict[str, asyncio.Future[CallResult | CallError]] = {}
        self.meter: CallMeter | None = None
        #: fault injection: returns False for a frame that must be dropped
        self.keep: Callable[[WireFrame], bool] = _keep_all

    # --- public --------------------------------------------------------------------------

    def open(self) -> None:
        """Start receiving: the transport pushes every message into :meth:`received`."""
        self.transport.start(self)

    async def run(self) -> ConnectionLost:
        """:meth:`open`, then wait until the connection is gone; returns why it ended."""
        if self._lost is None and self._lost_waiter is None:
            self._lost_waiter = asyncio.get_running_loop().create_future()
            self.open()
        if self._lost is not None:
            return self._lost
        assert self._lost_waiter is not None
        return await asyncio.shield(self._lost_waiter)

    def send_call(
        self,
        action: str,
        payload: dict[str, Any],
        done: CallDone,
        *,
        timeout: float | None = None,
        validate: bool = True,
    ) -> None:
        """Send a CALL; ``done`` is told how it ended, once (possibly before this returns,
        when the connection turns out to be gone).

        Raises :class:`ConnectionLost` when the connection is already gone and
        :class:`LocalProtocolError` when ``payload`` breaks the schema (``validate`` on).
        """
        if self._lost is not None:
            raise ConnectionLost(str(self._lost))
        now = self._monotonic()
        call = self.session.call(action, payload, now, timeout=timeout, validate=validate)
        self._waiting[call.unique_id] = _Waiting(action, now, done)
        self._schedule_expiry()
        self._flush()

    async def call(
        self,
        action: str,
        payload: dict[str, Any],
        *,
        timeout: float | None = None,
        validate: bool = True,
    ) -> dict[str, Any]:
        """Send a CALL and return the payload of its CALLRESULT.

        Raises :class:`CallErrorReceived`, :class:`CallTimeout`,
        :class:`RemoteProtocolError` (the answer broke its schema), :class:`ConnectionLost`
        or :class:`LocalProtocolError` (``payload`` breaks the schema and ``validate`` is on).
        """
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

        def done(result: dict[str, Any] | None, error: MockpointError | None) -> None:
            if future.done():
                return
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result if result is not None else {})

        self.send_call(action, payload, done, timeout=timeout, validate=validate)
        return await future

    async def send_raw(
        self, text: str, answer_id: str | None = None
    ) -> asyncio.Future[CallResult | CallError] | None:
        """Write ``text`` as it is (fault injection); with ``answer_id``, a future for the
        peer's answer to it."""
        future: asyncio.Future[CallResult | CallError] | None = None
        if answer_id is not None:
            future = asyncio.get_running_loop().create_future()
            self._raw_waiters[answer_id] = future
            self.session.expect_answer(answer_id)
        self.session.send_raw(text)
        self._flush()
        if self._lost is not None:
            raise ConnectionLost(str(self._lost))
        return future

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.transport.close(code, reason)

    def abort(self) -> None:
        """Drop the connection without a closing handshake; the loss then comes, as it does
        for any connection that goes away."""
        self.transport.abort()

    @property
    def lost(self) -> ConnectionLost | None:
        return self._lost

    # --- the transport's side (transport.base.Receiver) ----------------------------------

    def received(self, text: str) -> None:
        if self._lost is not None:
            return
        session = self.session
        wire = session.read(text)
        if not self.keep(wire):
            return  # lost on the way, as far as this side can tell
        if self._observer is not None:
            self._observer.frame(wire)
        for event in session.digest(wire, self._monotonic()):
            self._dispatch(event)
        self._schedule_expiry()
        self._flush()

    def connection_lost(self, reason: ConnectionLost) -> None:
        self._connection_lost(reason)

    # --- internals -----------------------------------------------------------------------

    def _dispatch(self, event: Event) -> None:
        if isinstance(event, ResultReceived):
            self._settle(event.call, event.result.payload, None)
        elif isinstance(event, CallReceived):
            self._answer(event.call)
        elif isinstance(event, ErrorReceived):
            error = event.error
            self._settle(
                event.call,
                None,
                CallErrorReceived(error.error_code, error.error_description, error.error_details),
            )
        elif isinstance(event, RawAnswerReceived):
            waiter = self._raw_waiters.pop(event.answer.unique_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(event.answer)
        elif isinstance(event, CallTimedOut):
            self._settle(event.call, None, CallTimeout(f"no answer to {event.call.action}"))
        elif isinstance(event, InvalidAnswer):
            self._notify_violation(event)
            self._settle(
                event.call,
                None,
                RemoteProtocolError(
                    f"{event.call.action} answer breaks the OCA schema: {event.violation.message}"
                ),
            )
        else:
            self._notify_violation(event)

    def _settle(
        self, call: Call, result: dict[str, Any] | None, error: MockpointError | None
    ) -> None:
        waiting = self._waiting.pop(call.unique_id, None)
        if waiting is None:
            return
        meter = self.meter
        if meter is not None:
            meter.call_finished(
                waiting.action, self._monotonic() - waiting.started, _outcome(error)
            )
        waiting.done(result, error)

    def _answer(self, call: Call) -> None:
        """Answer a request: at once when the handler can, else when its awaitable is done."""
        try:
            answer = self._handler(call)
        except Exception as exc:
            self._reply(call, None, exc)
            return
        if isinstance(answer, dict):
            self._reply(call, answer, None)
            return
        task = asyncio.ensure_future(self._answer_later(call, answer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer_later(self, call: Call, answer: Awaitable[dict[str, Any]]) -> None:
        try:
            payload = await answer
        except Exception as exc:
            self._reply(call, None, exc)
        else:
            self._reply(call, payload, None)
        self._flush()

    def _reply(self, call: Call, payload: dict[str, Any] | None, exc: Exception | None) -> None:
        session = self.session
        if isinstance(exc, Unanswered):
            session.forget(call)
        elif isinstance(exc, OcppError):
            session.reply_error(call, exc.code, exc.description, exc.details)
        elif exc is not None:  # a handler bug must not leave the peer waiting
            logger.error(
                "handler for %s failed", call.action, exc_info=(type(exc), exc, exc.__traceback__)
            )
            error = InternalOcppError(f"{type(exc).__name__} while handling {call.action}")
            session.reply_error(call, error.code, error.description)
        else:
            try:
                session.reply(call, payload if payload is not None else {})
            except LocalProtocolError as invalid:
                logger.error("invalid answer to %s: %s", call.action, invalid)
                session.reply_error(call, InternalOcppError.code, str(invalid))

    def _flush(self) -> None:
        frames = self.session.frames_to_send()
        if not frames:
            return
        transport, observer, keep = self.transport, self._observer, self.keep
        for wire in frames:
            if self._lost is not None:
                return
            if keep is not _keep_all and not keep(wire):
                continue
            if observer is not None:
                observer.frame(wire)
            try:
                transport.write(wire.text)
            except ConnectionLost as exc:
                self._connection_lost(exc)
                return

    def _schedule_expiry(self) -> None:
        """A timer for the in-flight CALL's deadline, in the shared timer heap.

        The deadline moves with every CALL; the timer does not follow it: one set for an
        earlier deadline is left to fire, finds nothing expired and is set again for the
        deadline of then. A charge point calling back to back so sets one timer per call
        timeout, not one per call."""
        deadline = self.session.next_deadline()
        if deadline is None or self._lost is not None:
            return
        expiry = self._expiry
        if expiry is not None and expiry.active and self._expiry_at is not None:
            if self._expiry_at <= deadline:
                return
            self._timers.cancel(expiry)
        self._expiry_at = deadline
        self._expiry = self._timers.call_later(deadline - self._monotonic(), self._expire)

    def _expire(self) -> None:
        self._expiry = None
        self._expiry_at = None
        if self._lost is not None:
            return
        for event in self.session.expire(self._monotonic()):
            self._dispatch(event)
        self._schedule_expiry()
        self._flush()  # the next queued CALL may be ready to go

    def _connection_lost(self, exc: ConnectionLost) -> None:
        if self._lost is not None:
            return
        self._lost = exc
        self._timers.cancel(self._expiry)
        self._expiry = None
        self._expiry_at = None
        for call in self.session.abandon():
            self._settle(call, None, ConnectionLost(f"{exc} before {call.action} was answered"))
        waiting, self._waiting = self._waiting, {}
        for pending in waiting.values():
            pending.done(None, ConnectionLost(str(exc)))
        for task in self._tasks:
            task.cancel()
        for future in self._raw_waiters.values():
            future.cancel()
        self._raw_waiters.clear()
        if self._lost_waiter is not None and not self._lost_waiter.done():
            self._lost_waiter.set_result(exc)
        if self._on_lost is not None:
            self._on_lost(exc)

    def _notify_violation(self, event: RemoteViolation | InvalidAnswer) -> None:
        if self._observer is not None:
            self._observer.violation(event)

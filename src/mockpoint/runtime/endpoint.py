"""One side of an OCPP-J connection on an event loop: an :class:`RpcSession` over a
:class:`Transport`.

The session decides everything (framing, validation, one CALL in flight, timeouts); the
endpoint only moves text between it and the transport, wakes it when a deadline passes, and
turns its events into awaited results for callers and handler calls for requests. The
charge point runner and the mock CSMS both sit on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

from mockpoint.errors import (
    CallErrorReceived,
    CallTimeout,
    ConnectionLost,
    InternalOcppError,
    LocalProtocolError,
    OcppError,
    RemoteProtocolError,
)
from mockpoint.rpc.frames import Call, CallError, CallResult
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
from mockpoint.transport.base import Transport

logger = logging.getLogger(__name__)

Direction = Literal["in", "out"]

#: Answers a received request with a response payload, raises an OcppError (answered with
#: a CALLERROR), or raises :class:`Unanswered` (no answer at all).
RequestHandler = Callable[[Call], Awaitable[dict[str, Any]]]


class Unanswered(Exception):
    """A handler's decision to leave a request without any answer (OCPP 1.6 §4.2: a charge
    point whose boot is Rejected answers no request of the Central System)."""


class FrameObserver(Protocol):
    """Told about every text that crosses the connection, and every peer violation."""

    def frame(self, direction: Direction, text: str) -> None: ...

    def violation(self, event: RemoteViolation | InvalidAnswer) -> None: ...


class CallMeter(Protocol):
    """Told how each CALL of this side ended and how long its answer took (the load
    runner's statistics). ``outcome`` is None for a CALLRESULT, the error code of a
    CALLERROR, or "timeout", "lost" or "invalid" (the answer broke its schema)."""

    def call_finished(self, action: str, latency: float, outcome: str | None) -> None: ...


class Endpoint:
    def __init__(
        self,
        transport: Transport,
        session: RpcSession,
        handler: RequestHandler,
        *,
        observer: FrameObserver | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.transport = transport
        self.session = session
        self._handler = handler
        self._observer = observer
        self._monotonic = monotonic
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._write_lock = asyncio.Lock()
        #: the timer of the in-flight CALL's deadline, and that deadline
        self._expiry: asyncio.TimerHandle | None = None
        self._expiry_at: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._lost: ConnectionLost | None = None
        self._raw_waiters: dict[str, asyncio.Future[CallResult | CallError]] = {}
        self.meter: CallMeter | None = None
        #: fault injection: returns False for a frame that must be dropped
        self.keep: Callable[[Direction, str], bool] = lambda _direction, _text: True

    # --- public --------------------------------------------------------------------------

    async def run(self) -> ConnectionLost:
        """Receive until the connection is gone; returns why it ended."""
        try:
            while True:
                try:
                    text = await self.transport.receive()
                except ConnectionLost as exc:
                    self._connection_lost(exc)
                    return exc
                if not self.keep("in", text):
                    continue  # lost on the way, as far as this side can tell
                self._notify_frame("in", text)
                for event in self.session.receive(text, self._monotonic()):
                    self._dispatch(event)
                try:
                    await self._flush()
                except ConnectionLost as exc:  # the peer left before our answer went out
                    return exc
        finally:
            if self._expiry is not None:
                self._expiry.cancel()
                self._expiry = None
            if self._lost is None:
                self._connection_lost(ConnectionLost("connection closed"))

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
        if self._lost is not None:
            raise ConnectionLost(str(self._lost))
        call = self.session.call(
            action, payload, self._monotonic(), timeout=timeout, validate=validate
        )
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[call.unique_id] = future
        self._schedule_expiry()
        meter = self.meter
        started = self._monotonic()
        try:
            await self._flush()
        except ConnectionLost:
            self._waiting.pop(call.unique_id, None)
            if future.done() and not future.cancelled():
                future.exception()  # retrieved: the caller gets the one raised here
            future.cancel()
            if meter is not None:
                meter.call_finished(action, self._monotonic() - started, "lost")
            raise
        if meter is None:
            return await future
        outcome: str | None = None
        try:
            return await future
        except CallErrorReceived as exc:
            outcome = exc.code
            raise
        except CallTimeout:
            outcome = "timeout"
            raise
        except RemoteProtocolError:
            outcome = "invalid"
            raise
        except ConnectionLost:
            outcome = "lost"
            raise
        finally:
            # A call cancelled with its caller (the run is over) has no outcome to count.
            if not future.cancelled():
                meter.call_finished(action, self._monotonic() - started, outcome)

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
        await self._flush()
        return future

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.transport.close(code, reason)

    def abort(self) -> None:
        """Drop the connection without a closing handshake; :meth:`run` then ends with the
        loss, as it does for any connection that goes away."""
        self.transport.abort()

    @property
    def lost(self) -> ConnectionLost | None:
        return self._lost

    # --- internals -----------------------------------------------------------------------

    def _dispatch(self, event: Event) -> None:
        if isinstance(event, CallReceived):
            task = asyncio.create_task(self._answer(event.call))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif isinstance(event, ResultReceived):
            self._settle(event.call, result=event.result.payload)
        elif isinstance(event, ErrorReceived):
            error = event.error
            self._settle(
                event.call,
                exc=CallErrorReceived(
                    error.error_code, error.error_description, error.error_details
                ),
            )
        elif isinstance(event, RawAnswerReceived):
            waiter = self._raw_waiters.pop(event.answer.unique_id, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(event.answer)
        elif isinstance(event, CallTimedOut):
            self._settle(event.call, exc=CallTimeout(f"no answer to {event.call.action}"))
        elif isinstance(event, InvalidAnswer):
            self._notify_violation(event)
            self._settle(
                event.call,
                exc=RemoteProtocolError(
                    f"{event.call.action} answer breaks the OCA schema: {event.violation.message}"
                ),
            )
        else:
            self._notify_violation(event)
        self._schedule_expiry()

    def _settle(
        self,
        call: Call,
        *,
        result: dict[str, Any] | None = None,
        exc: BaseException | None = None,
    ) -> None:
        future = self._waiting.pop(call.unique_id, None)
        if future is None or future.done():
            return
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result if result is not None else {})

    async def _answer(self, call: Call) -> None:
        try:
            payload = await self._handler(call)
        except Unanswered:
            self.session.forget(call)
            return
        except OcppError as exc:
            self.session.reply_error(call, exc.code, exc.description, exc.details)
        except Exception as exc:  # a handler bug must not leave the peer waiting
            logger.exception("handler for %s failed", call.action)
            error = InternalOcppError(f"{type(exc).__name__} while handling {call.action}")
            self.session.reply_error(call, error.code, error.description)
        else:
            try:
                self.session.reply(call, payload)
            except LocalProtocolError as exc:
                logger.error("invalid answer to %s: %s", call.action, exc)
                self.session.reply_error(call, InternalOcppError.code, str(exc))
        with contextlib.suppress(ConnectionLost):
            await self._flush()

    async def _flush(self) -> None:
        async with self._write_lock:
            for text in self.session.data_to_send():
                if self._lost is not None:
                    return
                if not self.keep("out", text):
                    continue
                self._notify_frame("out", text)
                try:
                    await self.transport.send(text)
                except ConnectionLost as exc:
                    self._connection_lost(exc)
                    raise

    def _schedule_expiry(self) -> None:
        """A timer for the in-flight CALL's deadline (one loop timer, not a task: a load
        run has thousands of endpoints, and this moves with every CALL)."""
        deadline = self.session.next_deadline()
        if deadline == self._expiry_at:
            return
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        self._expiry_at = deadline
        if deadline is not None and self._lost is None:
            delay = max(0.0, deadline - self._monotonic())
            self._expiry = asyncio.get_running_loop().call_later(delay, self._expire)

    def _expire(self) -> None:
        self._expiry = None
        self._expiry_at = None
        events = self.session.expire(self._monotonic())
        for event in events:
            self._dispatch(event)
        self._schedule_expiry()
        if events:  # the next queued CALL may be ready to go
            task = asyncio.create_task(self._flush_quietly())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _flush_quietly(self) -> None:
        with contextlib.suppress(ConnectionLost):
            await self._flush()

    def _connection_lost(self, exc: ConnectionLost) -> None:
        if self._lost is not None:
            return
        self._lost = exc
        for call in self.session.abandon():
            self._settle(call, exc=ConnectionLost(f"{exc} before {call.action} was answered"))
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(ConnectionLost(str(exc)))
        self._waiting.clear()
        for task in self._tasks:
            task.cancel()

    def _notify_frame(self, direction: Direction, text: str) -> None:
        if self._observer is not None:
            self._observer.frame(direction, text)

    def _notify_violation(self, event: RemoteViolation | InvalidAnswer) -> None:
        if self._observer is not None:
            self._observer.violation(event)

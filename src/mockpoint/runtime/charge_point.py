"""A station on an event loop: connects it, sends its outbox, fires its timers.

:class:`ChargePoint` is the one driver of a :class:`~mockpoint.station.Station`, shared by
the scenario runner, the load runner and the shell. Charge-point-initiated traffic leaves
through one sequential executor, in outbox order, one CALL at a time. Background work is
due in virtual time: at clock speed 0 it fires only while :meth:`ChargePoint.advance_to`
moves the clock (so runs are deterministic and take no real time); at any other speed a
timer task fires it as real time passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from mockpoint.clock import Clock, VirtualClock
from mockpoint.errors import (
    CallErrorReceived,
    CallFailed,
    CallTimeout,
    ConnectError,
    ConnectionLost,
    LocalProtocolError,
    MockpointError,
    NotSupportedAction,
    OcppError,
    RemoteProtocolError,
)
from mockpoint.faults.rules import FaultRules, frame_action
from mockpoint.faults.transport import InjectedDisconnect
from mockpoint.ids import IdGenerator, SeededIds
from mockpoint.ocpp16.actions import CENTRAL_SYSTEM_REQUESTS
from mockpoint.ocpp16.enums import RegistrationStatus
from mockpoint.rpc.frames import Call, CallError, CallResult, encode
from mockpoint.rpc.session import InvalidAnswer, RemoteViolation, RpcSession
from mockpoint.runtime.endpoint import CallMeter, Direction, Endpoint, Unanswered
from mockpoint.runtime.signal import Signal
from mockpoint.station.handlers import HANDLERS, NOT_WHILE_PENDING, handle
from mockpoint.station.station import Message, Reboot, Reconnect, Station
from mockpoint.transport.base import Transport

logger = logging.getLogger(__name__)

Connect = Callable[[], Awaitable[Transport]]
#: May answer a CSMS request instead of the station model (a scenario's ``reply``):
#: returns a response payload, raises an OcppError, or returns None to let the station answer.
Interceptor = Callable[[Call], Awaitable[dict[str, Any] | None]]


class Observer(Protocol):
    """What watches a charge point's traffic (``observer`` of :class:`ChargePoint` and of
    the Python API's ``charge_point()``): ``frame(direction, text)`` is told every text that
    crosses the connection, ``direction`` "out" for what the charge point sent and "in" for
    what it received, in wire order.

    It may also have ``violation(event)``, told of each protocol violation of the CSMS (a
    :class:`~mockpoint.rpc.session.RemoteViolation` or an
    :class:`~mockpoint.rpc.session.InvalidAnswer`); an observer without one is fine, and the
    violation still fails the step that sees it. An observer that raises is a bug of its
    own: keep it quick and quiet, it runs inside the connection's loop.
    """

    def frame(self, direction: Direction, text: str) -> None: ...


@dataclass
class Received:
    """A request of the Central System and how it was answered."""

    call: Call
    response: dict[str, Any] | None = None
    error: OcppError | None = None
    #: left unanswered: it came while the boot was Rejected (§4.2)
    ignored: bool = False

    @property
    def not_supported(self) -> bool:
        """Answered NotSupported by the station: an action mockpoint does not implement
        (PRODUCT.md, "Charge point behaviour": "not supported here", never a failure)."""
        return isinstance(self.error, NotSupportedAction) and self.call.action not in HANDLERS


def tally(received: list[Received]) -> tuple[dict[str, int], dict[str, int]]:
    """The requests answered NotSupported, and those left unanswered while the boot was
    Rejected: action -> how many, each in first-arrival order (for the reports)."""
    not_supported: dict[str, int] = {}
    ignored: dict[str, int] = {}
    for record in received:
        action = record.call.action
        if record.ignored:
            ignored[action] = ignored.get(action, 0) + 1
        elif record.not_supported:
            not_supported[action] = not_supported.get(action, 0) + 1
    return not_supported, ignored


class ChargePoint:
    """Drives one station over connections made by ``connect``."""

    def __init__(
        self,
        station: Station,
        connect: Connect,
        *,
        clock: Clock,
        ids: IdGenerator | None = None,
        call_timeout: float = 30.0,
        connect_timeout: float = 10.0,
        observer: Observer | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.station = station
        self.clock = clock
        self.call_timeout = call_timeout
        self.connect_timeout = connect_timeout
        self.interceptor: Interceptor | None = None
        #: every request of the Central System, in arrival order
        self.received: list[Received] = []
        #: what the Central System did wrong, and background messages that failed
        self.problems: list[str] = []
        self._connect = connect
        self._ids = ids or SeededIds(0)
        self._observer = observer
        self._monotonic = monotonic
        self._endpoint: Endpoint | None = None
        self._connected = Signal()
        # One event per waiter: clearing a shared one would lose another's wake-up.
        self._wake_executor = Signal()
        #: the loop timer of the station's next timer, and when that is due (virtual time)
        self._timer: asyncio.TimerHandle | None = None
        self._timer_due: float | None = None
        self._wake_steps = Signal()
        self._idle = Signal()
        self._received_changed = Signal()
        self._waiters: dict[Message, asyncio.Future[dict[str, Any]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._rebooting = False
        #: closing to reconnect with new credentials (a Reconnect directive)
        self._reconnecting = False
        #: offline on purpose (a scenario's `disconnect`): no reconnecting until allowed
        self._offline = False
        #: virtual time at which an offline charge point reconnects (None: when told)
        self._reconnect_at: float | None = None
        self._reconnect_now = Signal()
        #: offline after a power cut: the charge point boots when back
        self._power_lost = False
        #: a close the scenario caused or expects is not a failure
        self._loss_expected = False
        self._lost_event = Signal()
        #: when (monotonic) the last BootNotification was answered or failed: its retry waits
        #: ``station.boot_retry_delay`` from then, in wall time (§4.2)
        self._boot_settled_at: float | None = None
        #: fault injection switched on by scenario steps
        self.faults = FaultRules()
        #: told how each CALL of the charge point ended (the load runner's statistics)
        self.meter: CallMeter | None = None
        #: told when the connection is lost without anyone meaning it to be
        self.on_connection_lost: Callable[[str], None] | None = None
        self._actions_by_id: dict[str, str] = {}
        #: told of every change of the station, before anything else hears of it (a state
        #: file marks itself dirty here; see runtime/state_file.py)
        self.on_change: list[Callable[[], None]] = []
        #: told when what the Central System knows must be on record: just before each CALL
        #: of the station goes out, after its answer or failure, and before an answer to a
        #: request of the Central System goes out
        self.on_checkpoint: list[Callable[[], None]] = []
        station.notify = self._changed

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self, *, auto_boot: bool = True) -> None:
        """Connect (retrying up to ``connect_timeout``) and start sending.

        Raises :class:`ConnectError` when the Central System cannot be reached.
        """
        self._auto_boot = auto_boot
        await self._open_connection(first=True)
        self._tasks = [
            asyncio.create_task(self._supervise(), name="supervise"),
            asyncio.create_task(self._execute(), name="execute"),
        ]
        self._schedule_timer()

    async def stop(self) -> None:
        """Stop everything and close the connection."""
        self._stopping = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception:  # a crashed task must not keep the connection open
                logger.exception("%s task failed", task.get_name())
        if self._endpoint is not None:
            await self._endpoint.close()
        self.station.on_disconnected()

    async def __aenter__(self) -> ChargePoint:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    @property
    def ids(self) -> IdGenerator:
        """The generator of this charge point's message ids (a state file keeps its place
        in the sequence across restarts, as a charger's non-volatile memory would)."""
        return self._ids

    @property
    def in_flight_action(self) -> str | None:
        """The action of the CALL waiting for its answer, if any."""
        call = self._endpoint.session.in_flight if self._endpoint else None
        return call.action if call else None

    # --- what steps use --------------------------------------------------------------------

    async def outcome(self, message: Message) -> dict[str, Any]:
        """The answer to ``message`` once it has been sent and answered.

        Raises what the exchange raised: CallErrorReceived, CallTimeout, RemoteProtocolError,
        ConnectionLost, LocalProtocolError.
        """
        if message.response is not None:
            return message.response
        if message.error is not None:
            raise message.error
        future = self._waiters.get(message)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiters[message] = future
        return await future

    async def wait_idle(self) -> None:
        """Until nothing sendable is queued and nothing is in flight."""
        while not self._idle.is_set() or (not self._offline and self.station.has_sendable()):
            self._wake_executor.set()
            await self._idle.wait()
            await asyncio.sleep(0)

    async def advance_to(self, when: float) -> None:
        """Let virtual time reach ``when``, with every timer due before it fired in order."""
        clock = self.clock
        if isinstance(clock, VirtualClock) and clock.speed == 0:
            while True:
                await self.wait_idle()
                due = self.station.next_timer()
                back = self._reconnect_at if self._offline else None
                if back is not None and back <= when and (due is None or back <= due):
                    clock.advance_to(back)
                    await self.reconnect()
                    continue
                if due is None or due > when:
                    break
                clock.advance_to(due)
                self.station.on_timer(due)
            clock.advance_to(when)
            await self.wait_idle()
            return
        delay = clock.real_delay(when) if isinstance(clock, VirtualClock) else when - clock.now()
        if delay > 0:
            await asyncio.sleep(delay)

    async def advance(self, seconds: float) -> None:
        await self.advance_to(self.clock.now() + seconds)

    async def wait_registered(self, timeout: float) -> None:
        """Until a boot is accepted; Pending / Rejected boots are retried in virtual time."""
        async with asyncio.timeout(timeout):
            while not self.station.accepted:
                await self.wait_idle()
                if self.station.accepted:
                    break
                due = self.station.next_timer()
                if due is not None:
                    await self.advance_to(due)
                else:
                    self._wake_steps.clear()
                    await self._wake_steps.wait()

    async def wait_received(self, start: int = 0) -> int:
        """Until a request beyond index ``start`` of :attr:`received` arrives."""
        while len(self.received) <= start:
            self._received_changed.clear()
            await self._received_changed.wait()
        return len(self.received)

    async def send_raw(self, text: str) -> None:
        if self._endpoint is None:
            raise ConnectionLost("not connected")
        await self._endpoint.send_raw(text)

    async def send_raw_expecting(self, text: str, answer_id: str) -> None:
        """Send ``text`` as it is; its answer, when it comes, is taken quietly."""
        if self._endpoint is None or not self.connected:
            raise ConnectionLost("not connected")
        await self._endpoint.send_raw(text, answer_id)

    async def raw_exchange(
        self, text: str, answer_id: str | None, timeout: float
    ) -> CallResult | CallError | ConnectionLost | None:
        """Send ``text`` as it is and see what the CSMS does within ``timeout``: its answer
        (when ``answer_id`` is the frame's id), the connection it closes, or nothing.

        A close here is expected, not a failure; the charge point reconnects as after any
        lost connection (no new boot)."""
        endpoint = self._endpoint
        if endpoint is None or not self.connected:
            raise ConnectionLost("not connected")
        self._loss_expected = True
        try:
            answer = await endpoint.send_raw(text, answer_id)
            closed = asyncio.ensure_future(self._lost_event.wait())
            waiting: set[asyncio.Future[Any]] = {closed}
            if answer is not None:
                waiting.add(answer)
            done, _ = await asyncio.wait(
                waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            closed.cancel()
            if answer is not None and answer in done:
                return answer.result()
            if closed in done:
                return endpoint.lost or ConnectionLost("connection closed")
            return None
        finally:
            if self.connected:
                self._loss_expected = False

    def call_text(self, action: str, payload: dict[str, Any]) -> tuple[str, str]:
        """A CALL frame with the next unique id, outside the bookkeeping: (id, text)."""
        unique_id = self._ids()
        return unique_id, encode(Call(unique_id, action, payload))

    async def close_connection(self, code: int, reason: str) -> None:
        """Close the WebSocket with ``code`` and reconnect at once, without a boot."""
        self._loss_expected = True
        if self._endpoint is not None:
            await self._endpoint.close(code, reason)
        while self.connected:
            self._wake_steps.clear()
            await self._wake_steps.wait()
        while not self.connected:
            self._wake_steps.clear()
            await self._wake_steps.wait()

    async def disconnect(self, code: int = 1000, reason: str = "") -> None:
        if self._endpoint is not None:
            await self._endpoint.close(code, reason)

    async def go_offline(self, reconnect_after: float | None = None) -> None:
        """Drop the connection on purpose and stay offline for ``reconnect_after`` seconds of
        virtual time, or until :meth:`reconnect`. Meanwhile transaction messages queue up
        (OCPP 1.6 §4.7, §4.10); back online, they go first, in order, with no new boot."""
        self._offline = True
        self._reconnect_now.clear()
        self._reconnect_at = None if reconnect_after is None else self.clock.now() + reconnect_after
        if self._endpoint is not None:
            await self._endpoint.close(1000, "going offline")
        while self.connected:
            self._wake_steps.clear()
            await self._wake_steps.wait()
        self._changed()

    async def lose_connection(self, *, power: bool = False) -> None:
        """The connection drops without a closing handshake and stays down until
        :meth:`reconnect`: a network partition, or with ``power`` a power cut, after which
        the transactions have ended with reason PowerLoss and the charge point boots again
        (docs/load-fleets.md, "Events"). Transaction messages wait, as offline, and go out
        once back (§4.7)."""
        self._offline = True
        self._reconnect_now.clear()
        self._reconnect_at = None
        if power:
            self._power_lost = True
            self.station.power_lost()
        if self._endpoint is not None:
            self._endpoint.abort()
        while self.connected:
            self._wake_steps.clear()
            await self._wake_steps.wait()
        self._changed()

    async def reconnect(self) -> None:
        """End an offline period; returns once connected again."""
        self._reconnect_now.set()
        while not self.connected:
            self._wake_steps.clear()
            await self._wake_steps.wait()

    @property
    def offline(self) -> bool:
        """Offline on purpose (see :meth:`go_offline`)."""
        return self._offline

    # --- internals -------------------------------------------------------------------------

    def _changed(self) -> None:
        for listener in self.on_change:
            listener()
        self._wake_executor.set()
        self._wake_steps.set()
        if self._tasks and not self._stopping:
            self._schedule_timer()

    async def _sleep_virtual(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass inside the executor (a retry's wait).

        At speed 0 nothing else could move the clock while the executor waits, so it jumps,
        firing the station's timers due on the way (their messages queue behind).
        """
        clock = self.clock
        target = clock.now() + seconds
        if isinstance(clock, VirtualClock) and clock.speed == 0:
            while (due := self.station.next_timer()) is not None and due <= target:
                clock.advance_to(due)
                self.station.on_timer(due)
            clock.advance_to(target)
            return
        delay = clock.real_delay(target) if isinstance(clock, VirtualClock) else seconds
        await asyncio.sleep(delay)

    async def _wait_until_back_online(self) -> None:
        clock = self.clock
        while not self._reconnect_now.is_set():
            back = self._reconnect_at
            paused = isinstance(clock, VirtualClock) and clock.speed == 0
            if back is None or paused:
                # At speed 0 the steps move the clock and call reconnect() when it is time.
                await self._reconnect_now.wait()
                break
            delay = clock.real_delay(back) if isinstance(clock, VirtualClock) else 0.0
            if delay <= 0:
                break
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._reconnect_now.wait()
        self._offline = False
        self._reconnect_at = None

    async def _open_connection(self, *, first: bool) -> None:
        deadline = self._monotonic() + self.connect_timeout
        delay = 0.05
        while True:
            try:
                transport = await self._connect()
                break
            except ConnectError as exc:
                remaining = deadline - self._monotonic()
                if remaining <= 0 or exc.permanent:
                    raise
                logger.info("connect failed (%s); retrying in %.2f s", exc, min(delay, remaining))
                await asyncio.sleep(min(delay, remaining))
                delay = min(delay * 2, 2.0)
        # Every request a CSMS may legally send reaches the station, which answers those it
        # does not implement NotSupported; only unknown actions and requests of the wrong
        # direction are refused by the session as violations.
        session = RpcSession(
            CENTRAL_SYSTEM_REQUESTS, ids=self._ids, default_timeout=self.call_timeout
        )
        self._endpoint = Endpoint(
            transport, session, self._answer, observer=_Observer(self), monotonic=self._monotonic
        )
        self._endpoint.keep = self._keep
        self._endpoint.meter = self.meter
        self._lost_event.clear()
        self._connected.set()
        self.station.on_connected(auto_boot=self._auto_boot)
        self._changed()
        # Only the first boot may be a scenario's own; after a Reset the station boots by
        # itself (PRODUCT.md, "Booting").
        self._auto_boot = True

    async def _supervise(self) -> None:
        while not self._stopping:
            endpoint = self._endpoint
            assert endpoint is not None
            lost = await endpoint.run()
            self._connected.clear()
            self._lost_event.set()
            self.station.on_disconnected()
            if self._stopping:
                return
            self._changed()
            injected = isinstance(lost, InjectedDisconnect) or isinstance(
                endpoint.lost, InjectedDisconnect
            )
            if self._rebooting:
                self._rebooting = False
                self.station.rebooted()
            elif self._offline:
                await self._wait_until_back_online()
                if self._power_lost:
                    self._power_lost = False
                    self.station.rebooted()
            elif self._reconnecting:
                self._reconnecting = False
            elif self._loss_expected or injected:
                self._loss_expected = False
            else:
                self.problems.append(f"connection lost: {lost}")
                if self.on_connection_lost is not None:
                    self.on_connection_lost(str(lost))
            try:
                await self._open_connection(first=False)
            except ConnectError as exc:
                self.problems.append(f"could not reconnect: {exc}")
                return

    async def _execute(self) -> None:
        while True:
            if not self.connected:
                # Nothing can go out; what is queued waits for the connection. Offline on
                # purpose, that is the station's rest state; otherwise it is on its way back.
                if self._offline:
                    self._idle.set()
                await self._connected.wait()
                continue
            item = self.station.next_item()
            if item is None:
                self._idle.set()
                self._wake_executor.clear()
                await self._wake_executor.wait()
                continue
            self._idle.clear()
            if isinstance(item, Reboot):
                await self._reboot()
                continue
            if isinstance(item, Reconnect):
                await self._reconnect(item.reason)
                continue
            await self._send(item)

    def _checkpoint(self) -> None:
        for listener in self.on_checkpoint:
            listener()

    async def _send(self, message: Message) -> None:
        """One message to its answer; transaction messages survive a lost connection and are
        retried after a CALLERROR or no answer (OCPP 1.6 §4.10, PRODUCT.md: retried
        TransactionMessageAttempts times, TransactionMessageRetryInterval x the retry number
        apart)."""
        try:
            await self._send_until_done(message)
        finally:
            self._checkpoint()

    async def _send_until_done(self, message: Message) -> None:
        retries = 0
        while True:
            if message.retry:
                await self._hold_boot_retry()
            if not self.connected:
                self.station.requeue(message)
                return
            endpoint = self._endpoint
            assert endpoint is not None
            self._checkpoint()
            try:
                response = await endpoint.call(
                    message.action,
                    message.payload,
                    validate=message.validate,
                    timeout=message.timeout,
                )
            except ConnectionLost:
                # Known gone before the supervisor notices: wait for it to reconnect. The
                # message goes first once back online; a Heartbeat has nothing to say then.
                self._connected.clear()
                if message.action != "Heartbeat" or message in self._waiters:
                    self.station.requeue(message)
                else:
                    self.station.dropped(message)
                return
            except (CallTimeout, CallErrorReceived) as exc:
                configuration = self.station.configuration
                if message.transactional and retries < configuration.get_int(
                    "TransactionMessageAttempts"
                ):
                    retries += 1
                    interval = configuration.get_int("TransactionMessageRetryInterval")
                    await self._sleep_virtual(interval * retries)
                    continue
                if message.transactional:
                    self.station.undeliverable.append(message)
                    self.problems.append(
                        f"{message.action} not delivered after {retries + 1} attempt(s): {exc}"
                    )
                self._fail(message, exc)
            except (CallFailed, RemoteProtocolError, LocalProtocolError) as exc:
                self._fail(message, exc)
            else:
                if message.action == "BootNotification":
                    self._boot_settled_at = self._monotonic()
                self.station.on_result(message, response)
                future = self._waiters.pop(message, None)
                if future is not None and not future.done():
                    future.set_result(response)
            return

    async def _hold_boot_retry(self) -> None:
        """Wait until the CSMS's retry interval has passed in wall time, whatever the clock
        speed (§4.2; PRODUCT.md: clock speed 0 never hammers a CSMS)."""
        if self._boot_settled_at is None:
            return
        remaining = self._boot_settled_at + self.station.boot_retry_delay - self._monotonic()
        if remaining > 0:
            await asyncio.sleep(remaining)

    def _fail(self, message: Message, exc: MockpointError) -> None:
        if message.action == "BootNotification":
            self._boot_settled_at = self._monotonic()
        self.station.on_failure(message, exc)
        future = self._waiters.pop(message, None)
        if future is not None and not future.done():
            future.set_exception(exc)
        else:
            self.problems.append(f"{message.action}: {exc}")

    async def _reconnect(self, reason: str) -> None:
        """Close and open the connection again, with whatever credentials now apply."""
        self._reconnecting = True
        if self._endpoint is not None:
            await self._endpoint.close(1000, reason)
        self._connected.clear()
        await self._connected.wait()

    async def _reboot(self) -> None:
        self._rebooting = True
        if self._endpoint is not None:
            await self._endpoint.close(1000, "reset")
        self._connected.clear()
        await self._connected.wait()

    def _schedule_timer(self) -> None:
        """Arm one loop timer for the station's next timer (heartbeat, meter sample...).

        A loop timer rather than a task: a load run holds thousands of charge points, and
        every change of the station may move the next due time. At clock speed 0 a timer
        in the future fires only through :meth:`advance_to`."""
        clock = self.clock
        due = self.station.next_timer()
        paused = isinstance(clock, VirtualClock) and clock.speed == 0
        if due is None or paused and due > clock.now() or not self.connected:
            due = None  # offline, timers wait: reconnecting is a change and re-arms this
        if due == self._timer_due and (due is None or self._timer is not None):
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_due = due
        if due is None:
            return
        delay = clock.real_delay(due) if isinstance(clock, VirtualClock) else due - clock.now()
        self._timer = asyncio.get_running_loop().call_later(max(0.0, delay), self._timer_fired)

    def _timer_fired(self) -> None:
        self._timer = None
        self._timer_due = None
        clock = self.clock
        due = self.station.next_timer()
        if due is not None and due <= clock.now() and self.connected and not self._stopping:
            self.station.on_timer(clock.now())
        if not self._stopping:
            self._schedule_timer()

    def _keep(self, direction: Direction, text: str) -> bool:
        """Fault injection: whether a frame gets through (see FaultRules.drops)."""
        if not self.faults.drops:
            return True
        unique_id, action = frame_action(text, self._actions_by_id)
        if unique_id is not None and action is not None and text.lstrip().startswith("[2"):
            if len(self._actions_by_id) > 10_000:
                self._actions_by_id.clear()
            self._actions_by_id[unique_id] = action
        return not self.faults.drops_frame(direction, action)

    async def _answer(self, call: Call) -> dict[str, Any]:
        record = Received(call)
        self.received.append(record)
        self._received_changed.set()
        registration = self.station.registration
        if registration is RegistrationStatus.REJECTED:
            # §4.2: while Rejected the charge point answers no request of the Central System.
            record.ignored = True
            raise Unanswered(f"{call.action} while the boot is Rejected (§4.2)")
        if registration is RegistrationStatus.PENDING and call.action in NOT_WHILE_PENDING:
            self.problems.append(
                f"CSMS protocol violation: {call.action} while the boot is Pending (OCPP 1.6 "
                "§4.2 allows neither RemoteStartTransaction nor RemoteStopTransaction then); "
                "answered Rejected"
            )
        if self.faults.ignores(call.action):
            await asyncio.Event().wait()  # never answered; cancelled with the connection
        delay = self.faults.delay_of(call.action)
        if delay:
            await asyncio.sleep(delay)
        try:
            response = None
            if self.interceptor is not None:
                response = await self.interceptor(call)
            if response is None:
                response = handle(self.station, call.action, call.payload)
        except OcppError as exc:
            record.error = exc
            raise
        record.response = response
        # Not every request changes the outbox (SendLocalList, ClearCache), so say it here;
        # the Central System takes the answer as done, so it is on record first.
        self._changed()
        self._checkpoint()
        return response


class _Observer:
    """Forwards frames to the user's observer and records the CSMS's violations."""

    def __init__(self, owner: ChargePoint) -> None:
        self._owner = owner

    def frame(self, direction: Direction, text: str) -> None:
        if self._owner._observer is not None:
            self._owner._observer.frame(direction, text)

    def violation(self, event: RemoteViolation | InvalidAnswer) -> None:
        if isinstance(event, InvalidAnswer):
            text = f"{event.call.action} answer breaks the OCA schema: {event.violation.message}"
        else:
            text = event.description
            if event.reply is not None:
                text += f" (answered {event.reply.error_code})"
            shown = event.text if len(event.text) <= 200 else event.text[:199] + "…"
            text += f"; what arrived: {shown!r}"
        self._owner.problems.append(f"CSMS protocol violation: {text}")
        # ``violation`` is optional for a user's observer (see Observer).
        told = getattr(self._owner._observer, "violation", None)
        if told is not None:
            told(event)

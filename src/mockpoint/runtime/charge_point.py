"""A station on an event loop: connects it, sends its outbox, fires its timers.

:class:`ChargePoint` is the one driver of a :class:`~mockpoint.station.Station`, shared by
the scenario runner, the load runner and the shell. Nothing of it waits in a task: what the
CSMS sends arrives through the transport's callback, the station's outbox is pumped from
callbacks (one CALL at a time, in outbox order, the next when the last is answered), and
the station's next timer is one entry in a heap of timers (:mod:`.timers`) that a load run's
charge points share. Background work is due in virtual time: at clock speed 0 it fires only
while :meth:`ChargePoint.advance_to` moves the clock (so runs are deterministic and take no
real time); at any other speed the timer fires it as real time passes.

The connection is a state machine (:class:`Link`): what each :class:`LinkEvent` does in
each state is the table :data:`LINK_TABLE`.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from mockpoint.clock import DrivingClock
from mockpoint.errors import (
    CallErrorReceived,
    CallTimeout,
    ConnectError,
    ConnectionLost,
    LocalProtocolError,
    MockpointError,
    NotSupportedAction,
    OcppError,
)
from mockpoint.faults.rules import FaultRules
from mockpoint.faults.transport import InjectedDisconnect
from mockpoint.ids import IdGenerator, SeededIds
from mockpoint.ocpp16.actions import CENTRAL_SYSTEM_REQUESTS
from mockpoint.ocpp16.enums import RegistrationStatus
from mockpoint.rpc.frames import Call, CallError, CallResult, Direction, WireFrame, encode
from mockpoint.rpc.session import InvalidAnswer, RemoteViolation, RpcSession
from mockpoint.runtime.endpoint import CallMeter, Endpoint, Unanswered
from mockpoint.runtime.signal import Signal
from mockpoint.runtime.timers import Timer, Timers
from mockpoint.station.handlers import HANDLERS, NOT_WHILE_PENDING, handle
from mockpoint.station.station import Message, Reboot, Reconnect, Station
from mockpoint.transport.base import Transport

logger = logging.getLogger(__name__)

Connect = Callable[[], Awaitable[Transport]]
#: May answer a CSMS request instead of the station model (a scenario's ``reply``):
#: returns a response payload, raises an OcppError, or returns None to let the station answer.
Interceptor = Callable[[Call], dict[str, Any] | None]


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


class WireObserver(Protocol):
    """mockpoint's own observers (the scenario recorder, the load meter): told each frame as
    the connection decoded it, with ``violation(event)`` as :class:`Observer` may have it."""

    def wire(self, wire: WireFrame) -> None: ...

    def violation(self, event: RemoteViolation | InvalidAnswer) -> None: ...


@dataclass
class Received:
    """A request of the Central System and how it was answered."""

    call: Call
    response: dict[str, Any] | None = None
    error: OcppError | None = None
    #: left unanswered: it came while the boot was Rejected (§4.2)
    ignored: bool = False
    #: how many problems the charge point had when it arrived: those after it came later
    #: (a step that awaited it is judged up to its arrival)
    problems_at: int = 0

    @property
    def not_supported(self) -> bool:
        """Answered NotSupported by the station: an action mockpoint does not implement
        (docs/behaviour.md, "Requests mockpoint does not implement": never a failure)."""
        return isinstance(self.error, NotSupportedAction) and self.call.action not in HANDLERS


@dataclass(frozen=True, slots=True)
class IdleMoment:
    """The moment a charge point had nothing left to send or wait for (see
    :meth:`ChargePoint.wait_idle`)."""

    #: how many problems it had then
    problems: int
    #: what the waiter asked to capture then
    captured: Any = None


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


class Link(enum.Enum):
    """Where a charge point's connection to the CSMS stands."""

    #: dialling (at the start, or again after a loss)
    CONNECTING = "connecting"
    OPEN = "open"
    #: closing on purpose to open again at once, without a boot: a Reconnect directive
    #: (new credentials), or a close a scenario step asked for
    RECONNECTING = "reconnecting"
    #: closing for a Reset (§5.14): once closed, the station reboots and dials again
    REBOOTING = "rebooting"
    #: down on purpose (a `disconnect` step, a fleet's blackout or partition) until
    #: :meth:`ChargePoint.reconnect` or the planned time
    OFFLINE = "offline"
    STOPPING = "stopping"
    #: stopped, or could not connect again
    CLOSED = "closed"


class LinkEvent(enum.Enum):
    OPENED = "opened"
    #: the connection went (closed by either side, or dropped)
    LOST = "lost"
    #: the station asked to reconnect (a Reconnect directive) or a step closes to reconnect
    RECONNECT = "reconnect"
    #: the station asked to reboot (a Reboot directive)
    REBOOT = "reboot"
    #: going offline on purpose
    OFFLINE = "offline"
    #: back online
    BACK = "back"
    #: could not connect again within the connect timeout
    FAILED = "failed"
    STOP = "stop"


#: What each event does in each state: the next state, and the step taken on the way (a
#: method of ChargePoint, which may itself move on, e.g. to dial). A pair that is not here
#: changes nothing (a second loss, a stop while stopped...).
LINK_TABLE: dict[tuple[Link, LinkEvent], tuple[Link, str | None]] = {
    (Link.CONNECTING, LinkEvent.OPENED): (Link.OPEN, "_on_open"),
    (Link.CONNECTING, LinkEvent.FAILED): (Link.CLOSED, "_on_failed"),
    (Link.CONNECTING, LinkEvent.OFFLINE): (Link.OFFLINE, "_on_offline"),
    (Link.OPEN, LinkEvent.LOST): (Link.CONNECTING, "_on_unasked_loss"),
    (Link.OPEN, LinkEvent.RECONNECT): (Link.RECONNECTING, "_on_close_to_reconnect"),
    (Link.OPEN, LinkEvent.REBOOT): (Link.REBOOTING, "_on_reboot"),
    (Link.OPEN, LinkEvent.OFFLINE): (Link.OFFLINE, "_on_offline"),
    (Link.RECONNECTING, LinkEvent.LOST): (Link.CONNECTING, "_dial"),
    (Link.RECONNECTING, LinkEvent.OFFLINE): (Link.OFFLINE, "_on_offline"),
    (Link.REBOOTING, LinkEvent.LOST): (Link.CONNECTING, "_on_rebooted"),
    (Link.OFFLINE, LinkEvent.LOST): (Link.OFFLINE, "_on_down"),
    (Link.OFFLINE, LinkEvent.BACK): (Link.RECONNECTING, "_on_back"),
    (Link.OFFLINE, LinkEvent.OFFLINE): (Link.OFFLINE, "_on_offline"),
    **{(state, LinkEvent.STOP): (Link.STOPPING, None) for state in Link if state != Link.CLOSED},
    (Link.STOPPING, LinkEvent.LOST): (Link.CLOSED, None),
    (Link.STOPPING, LinkEvent.FAILED): (Link.CLOSED, None),
}


#: a connection lost sooner than this after it opened counts as lost at once
QUICK_LOSS = 2.0
#: the pause before the second quick redial in a row; it doubles up to MAX_REDIAL_PAUSE
FIRST_REDIAL_PAUSE = 0.1
MAX_REDIAL_PAUSE = 10.0


class ChargePoint:
    """Drives one station over connections made by ``connect``."""

    # Slots: a load run holds thousands of charge points, and an instance dict of this
    # many attributes costs a kilobyte and a half each.
    __slots__ = (
        "_auto_boot",
        "_back_timer",
        "_boot_settled_at",
        "_connect",
        "_current",
        "_dialling",
        "_opened_at",
        "_quick_losses",
        "_endpoint",
        "_frames",
        "_hold",
        "_idle",
        "_idle_capture",
        "_idle_moment",
        "_idle_waiting",
        "_ids",
        "_link",
        "_loss_expected",
        "_lost_event",
        "_monotonic",
        "_observer",
        "_power_lost",
        "_pump_soon",
        "_received_changed",
        "_reconnect_at",
        "_timer",
        "_timer_due",
        "_timers",
        "_waiters",
        "_wake_steps",
        "call_timeout",
        "clock",
        "connect_timeout",
        "faults",
        "interceptor",
        "meter",
        "on_change",
        "on_checkpoint",
        "on_connected_change",
        "on_connection_lost",
        "on_news",
        "problems",
        "received",
        "station",
    )

    def __init__(
        self,
        station: Station,
        connect: Connect,
        *,
        clock: DrivingClock,
        ids: IdGenerator | None = None,
        call_timeout: float = 30.0,
        connect_timeout: float = 10.0,
        observer: Observer | WireObserver | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        timers: Timers | None = None,
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
        self._frames = _Observer(self)
        self._monotonic = monotonic
        #: the heap the station's timer, retries and call deadlines wait in (a load run's
        #: charge points share one)
        self._timers = timers if timers is not None else Timers()
        self._endpoint: Endpoint | None = None
        self._link = Link.CONNECTING
        #: told True when the link opens and False when it stops being open (a load
        #: shard counts its connected charge points so)
        self.on_connected_change: Callable[[bool], None] | None = None
        self._dialling: asyncio.Task[None] | None = None
        #: when (monotonic) the connection opened, and how many connections in a row were
        #: lost soon after (see _pause_after_loss)
        self._opened_at = 0.0
        self._quick_losses = 0
        self._auto_boot = True
        #: the timer of the station's next timer, and when that is due (virtual time)
        self._timer: Timer | None = None
        self._timer_due: float | None = None
        #: the message on its way (sent, or holding for a retry), and the timer it holds on
        self._current: Message | None = None
        self._hold: Timer | None = None
        self._pump_soon = False
        #: steps wait on these: any change, nothing left to send, a new request, a loss
        self._wake_steps = Signal()
        self._idle = Signal()
        #: the first idle moment since wait_idle began, and what it captures then
        self._idle_moment: IdleMoment | None = None
        self._idle_capture: Callable[[], Any] | None = None
        self._idle_waiting = False
        self._received_changed = Signal()
        self._lost_event = Signal()
        self._waiters: dict[Message, asyncio.Future[dict[str, Any]]] = {}
        #: OFFLINE: virtual time at which it comes back (None: when told), and whether the
        #: power went with the connection (it boots when back)
        self._reconnect_at: float | None = None
        self._back_timer: Timer | None = None
        self._power_lost = False
        #: a close the scenario caused or expects is not a failure
        self._loss_expected = False
        #: when (monotonic) the last BootNotification was answered or failed: its retry waits
        #: ``station.boot_retry_delay`` from then, in wall time (§4.2)
        self._boot_settled_at: float | None = None
        #: fault injection switched on by scenario steps
        self.faults = FaultRules()
        #: told how each CALL of the charge point ended (the load runner's statistics)
        self.meter: CallMeter | None = None
        #: told when :attr:`received` or :attr:`problems` grew (a load shard drains them)
        self.on_news: Callable[[], None] | None = None
        #: told when the connection is lost without anyone meaning it to be
        self.on_connection_lost: Callable[[str], None] | None = None
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
        transport = await self._open_transport()
        self._event(LinkEvent.OPENED, transport)

    async def stop(self) -> None:
        """Stop everything and close the connection."""
        self._event(LinkEvent.STOP)
        self._timers.cancel(self._timer)
        self._timers.cancel(self._hold)
        self._timers.cancel(self._back_timer)
        self._timer = self._hold = self._back_timer = None
        dialling = self._dialling
        if dialling is not None:
            dialling.cancel()
            await asyncio.gather(dialling, return_exceptions=True)
        endpoint = self._endpoint
        if endpoint is not None:
            endpoint.meter = None  # calls cut short by the end of the run are no outcome
            await endpoint.close()
        self._set_link(Link.CLOSED)
        self.station.on_disconnected()

    async def __aenter__(self) -> ChargePoint:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def connected(self) -> bool:
        return self._link is Link.OPEN

    @property
    def link(self) -> Link:
        """Where the connection stands (see :data:`LINK_TABLE`)."""
        return self._link

    def _set_link(self, link: Link) -> None:
        was_open = self._link is Link.OPEN
        self._link = link
        if was_open != (link is Link.OPEN) and self.on_connected_change is not None:
            self.on_connected_change(not was_open)

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

    async def outcome(self, message: Message, within: float | None = None) -> dict[str, Any]:
        """The answer to ``message`` once it has been sent and answered.

        Raises what the exchange raised: CallErrorReceived, CallTimeout, RemoteProtocolError,
        ConnectionLost, LocalProtocolError; and TimeoutError when ``within`` real seconds
        pass first (a timer in the shared heap, not a timeout scope per message).
        """
        if message.response is not None:
            return message.response
        if message.error is not None:
            raise message.error
        future = self._waiters.get(message)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiters[message] = future
        if within is None:
            return await future
        timer = self._timers.call_later(within, functools.partial(_time_out, future))
        try:
            return await future
        finally:
            self._timers.cancel(timer)

    async def wait_idle(self, capture: Callable[[], Any] | None = None) -> IdleMoment:
        """Until nothing sendable is queued and nothing is in flight.

        Returns the first moment that was so: how many :attr:`problems` there were then,
        and what ``capture`` returned then. A CSMS may send its next request right behind
        an answer, and what that request causes before this returns comes after the moment
        a step waited for (docs/scenario-format.md, ``expect_state``)."""
        self._idle_moment = None
        self._idle_capture = capture
        self._idle_waiting = True
        try:
            while not self._idle.is_set() or (
                self._link is not Link.OFFLINE and self.station.has_sendable()
            ):
                self._idle.clear()
                self._request_pump()
                await self._idle.wait()
                await asyncio.sleep(0)
            moment = self._idle_moment
        finally:
            self._idle_moment = None
            self._idle_capture = None
            self._idle_waiting = False
        if moment is None:  # idle already when asked
            moment = IdleMoment(len(self.problems), capture() if capture is not None else None)
        return moment

    def _set_idle(self) -> None:
        if self._idle_waiting and self._idle_moment is None:
            capture = self._idle_capture
            captured = capture() if capture is not None else None
            self._idle_moment = IdleMoment(len(self.problems), captured)
        self._idle.set()

    async def advance_to(self, when: float) -> None:
        """Let virtual time reach ``when``, with every timer due before it fired in order."""
        clock = self.clock
        if clock.paused:
            while True:
                await self.wait_idle()
                due = self.station.next_timer()
                back = self._reconnect_at if self._link is Link.OFFLINE else None
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
        delay = clock.real_delay(when)
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
            if answer is not None and answer in done and not answer.cancelled():
                return answer.result()
            if closed in done or endpoint.lost is not None:
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
        while not self.connected and self._link is not Link.CLOSED:
            self._wake_steps.clear()
            await self._wake_steps.wait()

    async def disconnect(self, code: int = 1000, reason: str = "") -> None:
        if self._endpoint is not None:
            await self._endpoint.close(code, reason)

    async def go_offline(self, reconnect_after: float | None = None) -> None:
        """Drop the connection on purpose and stay offline for ``reconnect_after`` seconds of
        virtual time, or until :meth:`reconnect`. Meanwhile transaction messages queue up
        (OCPP 1.6 §4.7, §4.10); back online, they go first, in order, with no new boot."""
        at = None if reconnect_after is None else self.clock.now() + reconnect_after
        self._event(LinkEvent.OFFLINE, at)
        if self._endpoint is not None:
            await self._endpoint.close(1000, "going offline")
        await self._until_down()

    async def lose_connection(self, *, power: bool = False) -> None:
        """The connection drops without a closing handshake and stays down until
        :meth:`reconnect`: a network partition, or with ``power`` a power cut, after which
        the transactions have ended with reason PowerLoss and the charge point boots again
        (docs/load-fleets.md, "Events"). Transaction messages wait, as offline, and go out
        once back (§4.7)."""
        self._event(LinkEvent.OFFLINE, None)
        if power:
            self._power_lost = True
            self.station.power_lost()
        if self._endpoint is not None:
            self._endpoint.abort()
        await self._until_down()

    async def reconnect(self) -> None:
        """End an offline period; returns once connected again."""
        self._event(LinkEvent.BACK)
        while not self.connected and self._link is not Link.CLOSED:
            self._wake_steps.clear()
            await self._wake_steps.wait()

    @property
    def offline(self) -> bool:
        """Offline on purpose (see :meth:`go_offline`)."""
        return self._link is Link.OFFLINE

    def _problem(self, text: str) -> None:
        self.problems.append(text)
        if self.on_news is not None:
            self.on_news()

    # --- the link's state machine ------------------------------------------------------------

    def _event(self, event: LinkEvent, *args: Any) -> None:
        """Apply ``event`` to the link through :data:`LINK_TABLE`."""
        found = LINK_TABLE.get((self._link, event))
        if found is None:
            logger.debug("%s while %s: nothing to do", event.value, self._link.value)
            return
        self._set_link(found[0])
        step = found[1]
        if step is not None:
            getattr(self, step)(*args)

    def _on_open(self, transport: Transport) -> None:
        # Every request a CSMS may legally send reaches the station, which answers those it
        # does not implement NotSupported; only unknown actions and requests of the wrong
        # direction are refused by the session as violations.
        session = RpcSession(
            CENTRAL_SYSTEM_REQUESTS, ids=self._ids, default_timeout=self.call_timeout
        )
        endpoint = Endpoint(
            transport,
            session,
            self._answer,
            observer=self._frames,
            monotonic=self._monotonic,
            timers=self._timers,
            on_lost=self._on_endpoint_lost,
        )
        endpoint.keep = self._keep
        endpoint.meter = self.meter
        self._endpoint = endpoint
        self._opened_at = self._monotonic()
        self._lost_event.clear()
        self.station.on_connected(auto_boot=self._auto_boot)
        # Only the first boot may be a scenario's own; after a Reset the station boots by
        # itself (docs/behaviour.md, "Booting").
        self._auto_boot = True
        self._changed()
        endpoint.open()

    def _on_endpoint_lost(self, lost: ConnectionLost) -> None:
        if self._endpoint is None or self._endpoint.lost is not lost:
            return  # an earlier connection's, already dealt with
        if self._link is Link.STOPPING or self._link is Link.CLOSED:
            self._set_link(Link.CLOSED)
            return
        self._lost_event.set()
        self.station.on_disconnected()
        self._event(LinkEvent.LOST, lost)
        self._changed()

    def _on_unasked_loss(self, lost: ConnectionLost) -> None:
        pause = 0.0
        if self._loss_expected or isinstance(lost, InjectedDisconnect):
            self._loss_expected = False
        else:
            self._problem(f"connection lost: {lost}")
            if self.on_connection_lost is not None:
                self.on_connection_lost(str(lost))
            pause = self._pause_after_loss()
        self._dial(pause=pause)

    def _pause_after_loss(self) -> float:
        """How long to wait before dialling again after a loss nobody asked for: nothing the
        first time, then, while each new connection is lost within :data:`QUICK_LOSS` of
        opening (a CSMS that closes at some message), twice as long each time up to
        :data:`MAX_REDIAL_PAUSE`, as a real charge point backs off rather than hammer its
        CSMS."""
        lived = self._monotonic() - self._opened_at
        self._quick_losses = self._quick_losses + 1 if lived < QUICK_LOSS else 0
        if self._quick_losses < 2:
            return 0.0
        return float(min(FIRST_REDIAL_PAUSE * 2 ** (self._quick_losses - 2), MAX_REDIAL_PAUSE))

    def _on_close_to_reconnect(self, reason: str) -> None:
        self._closing(1000, reason)

    def _on_reboot(self) -> None:
        self._closing(1000, "reset")

    def _on_rebooted(self, _lost: ConnectionLost) -> None:
        self.station.rebooted()
        self._dial()

    def _on_offline(self, at: float | None) -> None:
        """Going offline: back at virtual time ``at``, or when told (None)."""
        self._reconnect_at = at
        self._timers.cancel(self._back_timer)
        self._back_timer = None
        endpoint = self._endpoint
        if endpoint is None or endpoint.lost is not None:
            self._on_down()
        # else the close is on its way, and its loss comes to _on_down

    def _on_down(self, *_lost: ConnectionLost) -> None:
        """Offline and the connection gone: wait to be back."""
        back = self._reconnect_at
        if back is not None and not self.clock.paused and self._back_timer is None:
            # At speed 0 the steps move the clock and call reconnect() when it is time.
            delay = self.clock.real_delay(back)
            self._back_timer = self._timers.call_later(delay, self._back_now)
        self._set_idle()

    def _back_now(self) -> None:
        self._back_timer = None
        self._event(LinkEvent.BACK)

    def _on_back(self) -> None:
        self._timers.cancel(self._back_timer)
        self._back_timer = None
        self._reconnect_at = None
        endpoint = self._endpoint
        if endpoint is not None and endpoint.lost is None:
            return  # still closing: its loss dials (RECONNECTING)
        self._set_link(Link.CONNECTING)
        self._dial()

    def _on_failed(self, exc: ConnectError) -> None:
        self._problem(f"could not reconnect: {exc}")

    def _closing(self, code: int, reason: str) -> None:
        endpoint = self._endpoint
        if endpoint is None:
            return
        task = asyncio.ensure_future(endpoint.close(code, reason))
        task.add_done_callback(_quiet)

    def _dial(self, *_lost: Any, pause: float = 0.0) -> None:
        """Open a new connection (CONNECTING), after ``pause`` seconds; a power cut's reboot
        first."""
        self._set_link(Link.CONNECTING)
        if self._power_lost:
            self._power_lost = False
            self.station.rebooted()
        if self._dialling is None or self._dialling.done():
            self._dialling = asyncio.ensure_future(self._redial(pause))

    async def _redial(self, pause: float = 0.0) -> None:
        if pause > 0:
            await asyncio.sleep(pause)
        try:
            transport = await self._open_transport()
        except ConnectError as exc:
            self._event(LinkEvent.FAILED, exc)
            self._changed()
            return
        if self._link is not Link.CONNECTING:  # stopped, or offline, meanwhile
            await transport.close(1000, "")
            return
        self._event(LinkEvent.OPENED, transport)

    async def _open_transport(self) -> Transport:
        deadline = self._monotonic() + self.connect_timeout
        delay = 0.05
        while True:
            try:
                return await self._connect()
            except ConnectError as exc:
                remaining = deadline - self._monotonic()
                if remaining <= 0 or exc.permanent:
                    raise
                logger.info("connect failed (%s); retrying in %.2f s", exc, min(delay, remaining))
                await asyncio.sleep(min(delay, remaining))
                delay = min(delay * 2, 2.0)

    async def _until_down(self) -> None:
        while self._endpoint is not None and self._endpoint.lost is None:
            self._wake_steps.clear()
            await self._wake_steps.wait()
        self._changed()

    # --- sending the outbox ------------------------------------------------------------------

    def _changed(self) -> None:
        for listener in self.on_change:
            listener()
        self._wake_steps.set()
        self._request_pump()

    def _request_pump(self) -> None:
        """Pump the outbox and re-arm the station's timer soon: once for any number of
        changes, and never inside the callback that changed something (an answer to the
        CSMS goes out before what it caused, §5.17)."""
        if not self._pump_soon:
            self._pump_soon = True
            self._timers.loop.call_soon(self._pump)

    def _pump(self) -> None:
        self._pump_soon = False
        if self._link is Link.STOPPING or self._link is Link.CLOSED:
            return
        self._schedule_timer()
        if self._link is not Link.OPEN:
            # Nothing can go out; what is queued waits for the connection. Offline on
            # purpose, that is the station's rest state; otherwise it is on its way back.
            if self._link is Link.OFFLINE:
                self._set_idle()
            return
        if self._current is not None:
            return
        item = self.station.next_item()
        if item is None:
            self._set_idle()
            return
        self._idle.clear()
        if isinstance(item, Reboot):
            self._event(LinkEvent.REBOOT)
        elif isinstance(item, Reconnect):
            self._event(LinkEvent.RECONNECT, item.reason)
        else:
            self._send(item, 0)

    def _send(self, message: Message, retries: int) -> None:
        """One message to its answer; transaction messages survive a lost connection and are
        retried after a CALLERROR or no answer (OCPP 1.6 §4.10, docs/scenario-format.md:
        retried TransactionMessageAttempts times, TransactionMessageRetryInterval x the
        retry number apart)."""
        self._current = message
        self._hold = None
        if message.retry and self._boot_settled_at is not None:
            # Not before the CSMS's retry interval has passed in wall time, whatever the
            # clock speed (§4.2: clock speed 0 never hammers a CSMS).
            remaining = self._boot_settled_at + self.station.boot_retry_delay
            remaining -= self._monotonic()
            if remaining > 0:
                self._hold = self._timers.call_later(
                    remaining, functools.partial(self._send_now, message, retries)
                )
                return
        self._send_now(message, retries)

    def _send_now(self, message: Message, retries: int) -> None:
        self._hold = None
        endpoint = self._endpoint
        if self._link is not Link.OPEN or endpoint is None:
            self._requeue(message)
            return
        self._checkpoint()
        try:
            endpoint.send_call(
                message.action,
                message.payload,
                functools.partial(self._answered, message, retries),
                validate=message.validate,
                timeout=message.timeout,
            )
        except ConnectionLost:
            self._requeue(message)
        except LocalProtocolError as exc:
            self._fail(message, exc)
            self._done(message)

    def _answered(
        self,
        message: Message,
        retries: int,
        response: dict[str, Any] | None,
        error: MockpointError | None,
    ) -> None:
        if error is None:
            if message.action == "BootNotification":
                self._boot_settled_at = self._monotonic()
            self.station.on_result(message, response or {})
            future = self._waiters.pop(message, None)
            if future is not None and not future.done():
                future.set_result(response or {})
        elif isinstance(error, ConnectionLost):
            self._requeue(message)
            return
        elif isinstance(error, CallTimeout | CallErrorReceived):
            configuration = self.station.configuration
            if message.transactional and retries < configuration.get_int(
                "TransactionMessageAttempts"
            ):
                interval = configuration.get_int("TransactionMessageRetryInterval")
                self._later(interval * (retries + 1), message, retries + 1)
                return
            if message.transactional:
                self.station.undeliverable.append(message)
                self._problem(
                    f"{message.action} not delivered after {retries + 1} attempt(s): {error}"
                )
            self._fail(message, error)
        else:
            self._fail(message, error)
        self._done(message)

    def _requeue(self, message: Message) -> None:
        """The connection went with ``message``: it goes first once back online; a
        Heartbeat has nothing to say then."""
        if message.action != "Heartbeat" or message in self._waiters:
            self.station.requeue(message)
        else:
            self.station.dropped(message)
        self._done(message)

    def _done(self, message: Message) -> None:
        if self._current is message:
            self._current = None
        self._checkpoint()
        self._request_pump()

    def _later(self, seconds: float, message: Message, retries: int) -> None:
        """Send ``message`` again after ``seconds`` of virtual time (a retry's wait).

        At speed 0 nothing else could move the clock meanwhile, so it jumps, firing the
        station's timers due on the way (their messages queue behind)."""
        clock = self.clock
        target = clock.now() + seconds
        resend = functools.partial(self._send_now, message, retries)
        if clock.paused:
            while (due := self.station.next_timer()) is not None and due <= target:
                clock.advance_to(due)
                self.station.on_timer(due)
            clock.advance_to(target)
            self._hold = self._timers.call_later(0.0, resend)
            return
        self._hold = self._timers.call_later(clock.real_delay(target), resend)

    def _checkpoint(self) -> None:
        for listener in self.on_checkpoint:
            listener()

    def _fail(self, message: Message, exc: MockpointError) -> None:
        if message.action == "BootNotification":
            self._boot_settled_at = self._monotonic()
        self.station.on_failure(message, exc)
        future = self._waiters.pop(message, None)
        if future is not None and not future.done():
            future.set_exception(exc)
        else:
            self._problem(f"{message.action}: {exc}")

    def _schedule_timer(self) -> None:
        """Keep one entry in the timer heap for the station's next timer (heartbeat, meter
        sample...). At clock speed 0 a timer in the future fires only through
        :meth:`advance_to`."""
        clock = self.clock
        due = self.station.next_timer()
        if due is None or clock.paused and due > clock.now() or self._link is not Link.OPEN:
            due = None  # offline, timers wait: reconnecting is a change and re-arms this
        if due == self._timer_due and (due is None or self._timer is not None):
            return
        self._timers.cancel(self._timer)
        self._timer = None
        self._timer_due = due
        if due is not None:
            self._timer = self._timers.call_later(clock.real_delay(due), self._timer_fired)

    def _timer_fired(self) -> None:
        self._timer = None
        self._timer_due = None
        if self._link is not Link.OPEN:
            return
        now = self.clock.now()
        due = self.station.next_timer()
        if due is not None and due <= now:
            self.station.on_timer(now)
        self._request_pump()

    # --- answering the CSMS ------------------------------------------------------------------

    def _keep(self, wire: WireFrame) -> bool:
        """Fault injection: whether a frame gets through (see FaultRules.drops)."""
        if not self.faults.drops:
            return True
        return not self.faults.drops_frame(wire.direction, wire.action)

    def _answer(self, call: Call) -> dict[str, Any] | Awaitable[dict[str, Any]]:
        """The endpoint's request handler: the answer at once, or an awaitable when a fault
        rule holds it back."""
        record = Received(call, problems_at=len(self.problems))
        self.received.append(record)
        self._received_changed.set()
        if self.on_news is not None:
            self.on_news()
        registration = self.station.registration
        if registration is RegistrationStatus.REJECTED:
            # §4.2: while Rejected the charge point answers no request of the Central System.
            record.ignored = True
            raise Unanswered(f"{call.action} while the boot is Rejected (§4.2)")
        if registration is RegistrationStatus.PENDING and call.action in NOT_WHILE_PENDING:
            self._problem(
                f"CSMS protocol violation: {call.action} while the boot is Pending (OCPP 1.6 "
                "§4.2 allows neither RemoteStartTransaction nor RemoteStopTransaction then); "
                "answered Rejected"
            )
        if self.faults.ignores(call.action):
            return _never()  # cancelled with the connection
        delay = self.faults.delay_of(call.action)
        if delay:
            return self._answer_later(record, delay)
        return self._station_answer(record)

    async def _answer_later(self, record: Received, delay: float) -> dict[str, Any]:
        await asyncio.sleep(delay)
        return self._station_answer(record)

    def _station_answer(self, record: Received) -> dict[str, Any]:
        """The answer of the scenario's ``reply`` (the interceptor), else the station's."""
        call = record.call
        try:
            response = self.interceptor(call) if self.interceptor is not None else None
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


def _time_out(future: asyncio.Future[dict[str, Any]]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


async def _never() -> dict[str, Any]:
    await asyncio.get_running_loop().create_future()
    raise AssertionError("unreachable")


def _quiet(task: asyncio.Future[None]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved: a close that failed leaves the loss to say why


class _Observer:
    """Forwards frames to the user's observer and records the CSMS's violations.

    The observers of mockpoint itself take the decoded frame (a ``wire(frame)`` method);
    a user's takes ``frame(direction, text)`` (see :class:`Observer`)."""

    def __init__(self, owner: ChargePoint) -> None:
        self._owner = owner
        observer = owner._observer
        self._wire: Callable[[WireFrame], None] | None = getattr(observer, "wire", None)
        self._text: Callable[[Direction, str], None] | None = (
            None if self._wire is not None else getattr(observer, "frame", None)
        )

    def frame(self, wire: WireFrame) -> None:
        if self._wire is not None:
            self._wire(wire)
        elif self._text is not None:
            self._text(wire.direction, wire.text)

    def violation(self, event: RemoteViolation | InvalidAnswer) -> None:
        if isinstance(event, InvalidAnswer):
            text = f"{event.call.action} answer breaks the OCA schema: {event.violation.message}"
        else:
            text = event.description
            if event.reply is not None:
                text += f" (answered {event.reply.error_code})"
            shown = event.text if len(event.text) <= 200 else event.text[:199] + "…"
            text += f"; what arrived: {shown!r}"
        self._owner._problem(f"CSMS protocol violation: {text}")
        # ``violation`` is optional for a user's observer (see Observer).
        told = getattr(self._owner._observer, "violation", None)
        if told is not None:
            told(event)

"""One shard of a load run: a slice of the charge points on one asyncio loop.

Every charge point is the scenario runner's: the same :class:`Station`, :class:`ChargePoint`
and steps (:func:`mockpoint.scenario.runner.run_steps`), over the picows transport. What a
load run adds is counting instead of recording: each CALL's outcome and latency, each
connection and step, go into the shard's :class:`LoadStats`, which merge exactly with the
other shards'. A charge point's failed step is counted, never fatal to the run.

Failure never makes a charge point spin (docs/load.md, "Failures"). With ``--loop``, a charge
point whose pass failed recovers to a clean state (:func:`recover`: its transactions
stopped, cables out, faults cleared) and pauses (:class:`Backoff`) before its next pass; one
that cannot recover, or fails :data:`GIVE_UP_AFTER` passes in a row, leaves the run, counted
with why. Without ``--loop``, a charge point done with its steps stays connected until the
run ends, its clock at real time so that its heartbeats keep the CSMS's interval.

Time: every shard gets the same plan, with the wall-clock instant the run starts, so the
shards of a run (in worker processes, on a Ray cluster, or in separate jobs joined by
``mockpoint merge``) ramp up as one and their timelines line up second by second.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import random
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from mockpoint.assembly import Target, assemble, new_clock
from mockpoint.errors import ConnectError, MockpointError, UsageError
from mockpoint.ids import CounterIds
from mockpoint.load.addresses import source_for
from mockpoint.load.arrivals import Arrivals
from mockpoint.load.fleet import EventPlan, FleetPlan, RollingReboot, Surge, load_fleet
from mockpoint.load.stats import LoadStats
from mockpoint.ocpp16.enums import ChargePointStatus, Reason
from mockpoint.rpc.frames import WireFrame
from mockpoint.rpc.session import InvalidAnswer, RemoteViolation
from mockpoint.runtime.charge_point import ChargePoint
from mockpoint.runtime.timers import Timers
from mockpoint.scenario import model
from mockpoint.scenario.loader import is_fleet, load_scenario
from mockpoint.scenario.outcome import Status, StepOutcome
from mockpoint.scenario.runner import boots_by_itself
from mockpoint.scenario.stepping import NO_FRAMES, run_steps, step_labels
from mockpoint.scenario.steps import StepContext
from mockpoint.transport import picows_transport
from mockpoint.transport.security import Dial

logger = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_ID_PATTERN = "CP-{n:05d}"
#: WebSocket handshakes one shard keeps in flight at once: thousands of SYNs at the same
#: instant overflow a server's listen backlog, and a dropped SYN costs a 1 s retransmit.
HANDSHAKES_IN_FLIGHT = 200
#: How long the charge points get to close their connections when the run ends.
CLOSE_GRACE = 5.0
#: A charge point whose pass failed pauses before its next: this long after its first
#: failure, twice as long after each further failure in a row, never longer than the cap
#: (seconds, wall time).
BACKOFF = 1.0
BACKOFF_CAP = 30.0
#: Up to this fraction of each pause is taken off at random ("equal jitter"), so that
#: charge points that failed together do not all come back together.
JITTER = 0.5
#: A charge point leaves the run after this many failed passes in a row.
GIVE_UP_AFTER = 5
#: How often a charge point waiting to recover looks whether it is connected again.
RECONNECT_POLL = 0.1
#: The shard's timers (heartbeats, meter samples, call deadlines) fire on multiples of this
#: many seconds, up to that much late: a thousand timers a second wake the loop a hundred
#: times instead of a thousand.
TIMER_RESOLUTION = 0.01


@dataclass(frozen=True)
class ShardPlan:
    """What one shard runs; the same for every shard of a run but ``shard``. Picklable, so
    it travels to worker processes and Ray actors as it is."""

    scenario: str
    #: charge points in the whole run, numbered ``first``, ``first + 1``, ...
    count: int
    csms_url: str
    #: this plan's slice: every ``shards``-th charge point from the ``shard``-th (0-based, an
    #: index of the code; what users see is :attr:`label`)
    shard: int = 0
    shards: int = 1
    first: int = 1
    id_pattern: str = DEFAULT_ID_PATTERN
    #: charge points started per second over the whole run; None: all at once
    ramp_up: float | None = None
    #: how charge points arrive (docs/load-fleets.md, "Arrivals"); None: ``ramp_up``
    arrivals: Arrivals | None = None
    #: the source addresses to connect from, the charge point's by its number (see
    #: :mod:`mockpoint.load.addresses`); empty: the system's choice
    source_addresses: tuple[str, ...] = ()
    #: seconds from ``start_at`` to the end of the run; None: when every charge point has
    #: taken its steps (once)
    duration: float | None = None
    #: take the steps again and again until the run ends
    loop: bool = False
    seed: int = 0
    #: clock speed of every charge point; None: the scenario's
    speed: float | None = None
    #: wall-clock (epoch) instant the run starts; 0: when the shard starts
    start_at: float = 0.0
    variables: dict[str, str] = field(default_factory=dict)
    connect_timeout: float = 10.0
    #: with ``loop``, a charge point whose pass failed recovers and pauses before its next
    #: (see :class:`Backoff`), and leaves the run after ``give_up_after`` failures in a row
    backoff: float = BACKOFF
    backoff_cap: float = BACKOFF_CAP
    give_up_after: int = GIVE_UP_AFTER
    #: the ``--shard I/N`` of the command (1-based, as typed; 1 of 1 without ``--shard``),
    #: which ``shard`` of ``shards`` splits further over the local workers: the statistics
    #: say which shard of the run they hold, and ``mockpoint merge`` checks them
    run_shard: int = 1
    run_shards: int = 1

    @property
    def label(self) -> str:
        """The plan as its user counts, from 1: ``worker 2 of 3``, and in a run of
        ``--shard 2/4`` ``shard 2/4, worker 2 of 3``."""
        workers = max(1, self.shards // self.run_shards)
        worker = f"worker {self.shard // self.run_shards + 1} of {workers}"
        if self.run_shards == 1:
            return worker
        return f"shard {self.run_shard}/{self.run_shards}, {worker}"

    def numbers(self, surged: int = 0) -> range:
        """The charge point numbers of this shard: every ``shards``-th, so that ramping up
        spreads evenly over the shards; with ``surged``, also those of a fleet's surges,
        numbered after the others."""
        return range(self.first + self.shard, self.first + self.count + surged, self.shards)

    def charge_point_id(self, number: int) -> str:
        return self.id_pattern.format(n=number)


def check_id_pattern(pattern: str, count: int, first: int = 1) -> None:
    """Raise UsageError unless ``pattern`` makes ``count`` distinct ids from ``{n}``."""
    try:
        one = pattern.format(n=first)
        last = pattern.format(n=first + count - 1)
        two = pattern.format(n=first + 1)
    except (KeyError, IndexError, ValueError) as exc:
        raise UsageError(
            f"--id-pattern {pattern!r}: {exc!r}; use {{n}} for the number, e.g. "
            f"{DEFAULT_ID_PATTERN!r}"
        ) from None
    if one == two:
        raise UsageError(f"--id-pattern {pattern!r} gives every charge point the same id {one!r}")
    if not one or not last:
        raise UsageError(f"--id-pattern {pattern!r} gives an empty id")


class _Meter:
    """A charge point's frames and calls, counted into the shard's statistics and, in a
    fleet, its group's too; no frame is kept (a load run would hold gigabytes)."""

    def __init__(self, sinks: Sequence[LoadStats]) -> None:
        self._sinks = tuple(sinks)

    def wire(self, wire: WireFrame) -> None:
        incoming = wire.direction == "in"
        for stats in self._sinks:
            if incoming:
                stats.messages_in += 1
            else:
                stats.messages_out += 1

    def violation(self, event: RemoteViolation | InvalidAnswer) -> None:
        pass  # the step that sees it fails, and is counted

    def call_finished(self, action: str, latency: float, outcome: str | None) -> None:
        now = time.time()
        for stats in self._sinks:
            stats.call_finished(action, latency, outcome, now)


@dataclass
class _Group:
    """What a group of charge points runs (the one scenario of a plain run, or a fleet's
    group) and where its figures go: ``sinks`` are the shard's statistics and, in a fleet,
    the group's own."""

    name: str
    scenario: model.Scenario
    path: Path
    loop: bool
    labels: Any
    sinks: tuple[LoadStats, ...]
    meter: _Meter


class Shard:
    """Runs a plan; :meth:`snapshot` may be read at any time for live progress."""

    def __init__(self, plan: ShardPlan, scenario: model.Scenario | None = None) -> None:
        self.plan = plan
        path = Path(plan.scenario)
        started = plan.start_at or time.time()
        self.stats = LoadStats(0, started)
        self.stats.shard_of = plan.run_shards
        self.stats.shard_numbers = frozenset({plan.run_shard})
        #: a fleet's plan (docs/load-fleets.md); None for a run of one scenario file
        self.fleet: FleetPlan | None = None
        self._groups: list[_Group] = []
        if scenario is None and is_fleet(path):
            self.fleet = load_fleet(path).plan(plan.count)
            for group in self.fleet:
                own = LoadStats(0, started)
                own.shard_of, own.shard_numbers = plan.run_shards, frozenset({plan.run_shard})
                self.stats.scenarios[group.name] = own
                sinks: tuple[LoadStats, ...] = (self.stats, own)
                loop = plan.loop if group.loop is None else group.loop
                self._groups.append(
                    _Group(
                        group.name,
                        group.scenario,
                        group.scenario_path,
                        loop,
                        step_labels(group.scenario.steps),
                        sinks,
                        _Meter(sinks),
                    )
                )
        else:
            scenario = scenario if scenario is not None else load_scenario(path)
            sinks = (self.stats,)  # one scenario: its figures are the run's
            self._groups.append(
                _Group(
                    path.stem,
                    scenario,
                    path,
                    plan.loop,
                    step_labels(scenario.steps),
                    sinks,
                    _Meter(sinks),
                )
            )
        # by name: comparing group plans would compare their scenarios field by field
        self._by_name = {group.name: group for group in self._groups}
        surged = self.fleet.surged if self.fleet is not None else 0
        self._numbers = plan.numbers(surged)
        #: the fleet's events, each with its hits on this shard's charge points
        self._timeline: list[EventPlan] = []
        if self.fleet is not None:
            mine = set(self._numbers)
            self._timeline = [
                EventPlan(
                    event.index, event.event, tuple(h for h in event.hits if h.number in mine)
                )
                for event in self.fleet.timeline(plan.seed)
            ]
        #: the charge points of the start (a surge's are counted as they arrive)
        self.stats.target = len(plan.numbers())
        for number in plan.numbers():
            for stats in self._group(number)[0].sinks[1:]:
                stats.target += 1
        self._charge_points: dict[int, ChargePoint] = {}
        #: the charge points done with their steps, waiting for the run's end, and those of
        #: them that received a request or had a problem since the last drain
        self._resting: dict[int, tuple[ChargePoint, StepContext, Sequence[LoadStats]]] = {}
        self._news: set[int] = set()
        #: one heap for the timers of every charge point of the shard (runtime/timers.py)
        self._timers = Timers(resolution=TIMER_RESOLUTION)
        #: charge points connected now, in all and by group
        self._connected = 0
        self._connected_by_group = dict.fromkeys(self._by_name, 0)
        self._handshakes = asyncio.Semaphore(HANDSHAKES_IN_FLIGHT)
        #: charge points an event keeps offline (a blackout, a partition), and those whose
        #: power it cut (their steps stop until the power is back)
        self._held: set[int] = set()
        self._powered_off: dict[int, asyncio.Event] = {}
        self._passes_of: dict[int, asyncio.Task[bool]] = {}

    def _group(self, number: int) -> tuple[_Group, str]:
        """The group of charge point ``number`` and its id."""
        if self.fleet is None:
            return self._groups[0], self.plan.charge_point_id(number)
        group, n = self.fleet.member(number)
        return self._by_name[group.name], group.charge_point_id(n)

    @property
    def connected(self) -> int:
        """Charge points connected right now."""
        return self._connected

    def _connection_changed(self, group: str, connected: bool) -> None:
        change = 1 if connected else -1
        self._connected += change
        self._connected_by_group[group] += change

    def snapshot(self) -> dict[str, Any]:
        """The statistics so far, as JSON-safe data, with the charge points connected now."""
        # No timeline (it grows with the run), no percentiles (the reader merges first)
        data = self.stats.to_dict(timeline=False, derived=False)
        data["connected"] = self.connected
        return data

    async def run(self) -> LoadStats:
        plan = self.plan
        start_at = plan.start_at or time.time()
        end_at = start_at + plan.duration if plan.duration is not None else None
        self.stats.started_at = start_at
        for own in self.stats.scenarios.values():
            own.started_at = start_at
        self.stats.rss_baseline_bytes = resident_memory()
        arrivals = self._arrivals()
        # A set the tasks leave when done: a list would keep every finished task (a few
        # hundred bytes each) until the end of the run.
        running: set[asyncio.Task[None]] = set()
        all_done = asyncio.Event()
        failures: list[BaseException] = []

        def finished(task: asyncio.Task[None]) -> None:
            running.discard(task)
            if not task.cancelled() and task.exception() is not None:
                failures.append(task.exception())  # type: ignore[arg-type]
            if not running:
                all_done.set()

        for number in self._numbers:
            task = asyncio.create_task(
                self._charge_point(number, start_at + arrivals[number], end_at)
            )
            running.add(task)
            task.add_done_callback(finished)
        if not running:
            all_done.set()
        sampler = asyncio.create_task(self._sample())
        events = [
            asyncio.create_task(self._event(event, start_at, end_at)) for event in self._timeline
        ]
        try:
            if end_at is None:
                await all_done.wait()
                if failures:
                    raise failures[0]
            else:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout_at(_loop_time_of(end_at)):
                        await all_done.wait()
                # Those done with their steps stay until the end; a run none is left in ends.
                remaining = end_at - time.time()
                if remaining > 0 and self._charge_points:
                    await asyncio.sleep(remaining)
        finally:
            left = [*events, *running]
            for task in left:
                task.cancel()
            await asyncio.gather(*left, return_exceptions=True)
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
            self._sample_now()
            self._drain_resting()
            self.stats.rss_bytes = resident_memory()
            await self._close_all()
            self.stats.finished_at = time.time()
            for own in self.stats.scenarios.values():
                own.finished_at = self.stats.finished_at
        return self.stats

    def _arrivals(self) -> dict[int, float]:
        plan = self.plan
        offsets: dict[int, float] = {}
        surges: dict[int, float] = {}
        for event in self._timeline:
            if event.kind == "surge":
                surges.update((hit.number, hit.at) for hit in event.hits)
        process = plan.arrivals
        every = process.offsets(plan.count, plan.seed) if process is not None else None
        for number in self._numbers:
            index = number - plan.first
            if number in surges:
                offsets[number] = surges[number]
            elif every is not None:
                offsets[number] = every[index]
            else:
                offsets[number] = index / plan.ramp_up if plan.ramp_up else 0.0
        return offsets

    async def _sample(self) -> None:
        """The connected gauge, once a second, on the second (so shards line up), and the
        requests the resting charge points received counted."""
        while True:
            now = time.time()
            await asyncio.sleep(1.0 - now % 1.0)
            self._sample_now()
            self._drain_resting()

    def _drain_resting(self) -> None:
        """Count and forget what the resting charge points with news received."""
        news, self._news = self._news, set()
        for number in news:
            entry = self._resting.get(number)
            if entry is None:
                continue  # still taking its steps, which drain it
            cp, ctx, sinks = entry
            self._drain(cp, ctx, sinks)
            if self._charge_points.get(number) is not cp:
                del self._resting[number]  # it left the run

    def _sample_now(self) -> None:
        now = time.time()
        self.stats.sample_connected(now, self.connected)
        if self.fleet is not None:
            for name, own in self.stats.scenarios.items():
                own.sample_connected(now, self._connected_by_group[name])

    async def _close_all(self) -> None:
        charge_points = list(self._charge_points.values())
        self._charge_points.clear()
        if not charge_points:
            return
        stops = [asyncio.ensure_future(cp.stop()) for cp in charge_points]
        _done, pending = await asyncio.wait(stops, timeout=CLOSE_GRACE)
        for task in pending:
            task.cancel()
        await asyncio.gather(*stops, return_exceptions=True)

    async def _charge_point(self, number: int, arrive_at: float, end_at: float | None) -> None:
        plan = self.plan
        group, cp_id = self._group(number)
        scenario, sinks = group.scenario, group.sinks
        delay = arrive_at - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        if end_at is not None and time.time() >= end_at:
            return
        if number - plan.first >= plan.count:  # a surge's: it joins the run now
            for stats in sinks:
                stats.target += 1
        # A load run's clock starts now (its ids count per charge point, seedless).
        _seed, clock = new_clock(scenario.clock, 0, embedded=False, speed=plan.speed)
        variables: dict[str, Any] = dict(plan.variables)
        member = _Member(self, number, group.name, sinks)
        dial: Dial = functools.partial(member.connect, picows_transport.connect)
        if plan.source_addresses:
            dial = functools.partial(
                member.connect,
                functools.partial(
                    picows_transport.connect, local_addr=source_for(number, plan.source_addresses)
                ),
            )
        target = Target(
            plan.csms_url,
            scenario.target,
            folder=group.path.parent,
            source=str(group.path),
            variables=variables,
            faults=scenario.faults,
        )
        cp = assemble(
            scenario.charge_point,
            cp_id,
            clock,
            target,
            ids=CounterIds(),
            call_timeout=scenario.timeout,
            connect_timeout=plan.connect_timeout,
            observer=group.meter,
            timers=self._timers,
            dial=dial,
        )
        station = cp.station
        cp.meter = group.meter
        cp.on_connection_lost = member.dropped
        cp.on_connected_change = member.connection_changed
        cp.on_news = member.news
        boots_itself = boots_by_itself(scenario)
        try:
            await cp.start(auto_boot=boots_itself)
        except ConnectError:
            return  # counted by member.connect()
        self._charge_points[number] = cp
        ctx = StepContext(cp, station, scenario.timeout, variables=variables)
        boot = group.path if boots_itself else None
        while True:
            passes = asyncio.create_task(self._passes(number, group, ctx, boot, end_at))
            self._passes_of[number] = passes
            try:
                await asyncio.wait([passes])
            finally:
                passes.cancel()
                self._passes_of.pop(number, None)
            power = self._powered_off.get(number)
            if not passes.cancelled() or power is None:
                if not passes.result() or end_at is None:
                    return
                break
            # A blackout cut the power mid-pass: the steps start over once it is back,
            # from a clean state (docs/load-fleets.md, "Events").
            await power.wait()
            boot = None
            why = await recover(ctx)
            self._drain(cp, ctx, sinks)
            if why is not None:
                await self._leave(number, cp, f"could not recover after a power cut: {why}", sinks)
                return
            if not group.loop:
                break
        # Done with the steps: stay connected until the run ends, heartbeats flowing at the
        # CSMS's interval in wall time (OCPP 1.6 §4.6), counting what the CSMS sends
        # meanwhile (:meth:`_drain_resting`, once a second for all). The clock runs at real
        # time from here, whatever its speed: at speed 0 it would never reach the next
        # heartbeat, at 60 they would come 60 times as often. No task waits for it: its
        # timers are entries in the shard's heap, its frames arrive by callback.
        clock.set_speed(1.0)
        station.notify()  # the driver re-arms the station's timers for the new speed
        if end_at is not None and number in self._charge_points:
            self._resting[number] = (cp, ctx, sinks)
            self._news.add(number)

    async def _passes(
        self, number: int, group: _Group, ctx: StepContext, boot: Path | None, end_at: float | None
    ) -> bool:
        """The scenario's steps, once, or with ``loop`` again and again until ``end_at``;
        whether the charge point is still in the run (it left if it could not go on)."""
        plan, sinks, cp = self.plan, group.sinks, ctx.cp
        backoff = Backoff(plan.backoff, plan.backoff_cap, f"{plan.seed}/{number}")
        last_failure = ""

        def finished(result: StepOutcome) -> None:
            nonlocal last_failure
            if result.status is Status.PASSED:
                for stats in sinks:
                    stats.step_finished(True, result.label)
            elif result.status is Status.FAILED:
                for stats in sinks:
                    stats.step_finished(False, _failure(result))
                if not result.tolerated:
                    last_failure = _failure(result)

        while True:
            status = await run_steps(
                ctx, group.scenario.steps, NO_FRAMES, finished, boot=boot, labels=group.labels
            )
            for stats in sinks:
                stats.iteration_finished()
            self._drain(cp, ctx, sinks)
            boot = None
            if not group.loop or end_at is None:
                return True
            if status is not Status.FAILED:
                backoff.reset()
                await asyncio.sleep(0)  # a pass that never waits must not starve the others
                continue
            # The next pass starts from a clean state, after a pause: a pass that fails at
            # once must not spin (docs/load.md, "Failures").
            while number in self._held:  # an event keeps it offline: recover once back
                await asyncio.sleep(RECONNECT_POLL)
            why = await recover(ctx)
            self._drain(cp, ctx, sinks)
            if why is None:
                for stats in sinks:
                    stats.recovered()
            delay = backoff.next_delay()
            if why is not None:
                why = f"could not recover: {why}"
            elif backoff.failures >= plan.give_up_after:
                why = f"{backoff.failures} passes in a row failed; the last: {last_failure}"
            if why is not None:
                await self._leave(number, cp, why.splitlines()[0], sinks)
                return False
            await asyncio.sleep(max(0.0, min(delay, end_at - time.time())))
            if time.time() >= end_at:
                return True

    async def _event(self, event: EventPlan, start_at: float, end_at: float | None) -> None:
        """Apply one fleet event to this shard's charge points at their times
        (docs/load-fleets.md, "Events"), and record it for the reports."""
        kind, hits = event.kind, event.hits
        if not hits:
            return
        at = start_at + event.event.at
        backs = [hit.back_at for hit in hits if hit.back_at is not None]
        until = start_at + max(backs) if backs else None
        if kind == "rolling_reboot":
            until = start_at + max(hit.at for hit in hits)
        self.stats.event_applied(kind, at, until, len(hits), _event_label(event))
        if kind == "surge":
            return  # its charge points arrive by themselves, at the surge
        effect = event.event.effect
        hard = isinstance(effect, RollingReboot) and effect.type == "Hard"
        returns: list[asyncio.Task[None]] = []
        try:
            for hit in sorted(hits, key=lambda h: h.at):
                delay = start_at + hit.at - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                cp = self._charge_points.get(hit.number)
                if cp is None or hit.number in self._held:
                    continue  # not (yet, or any more) in the run, or already cut off
                if kind == "rolling_reboot":
                    cp.station.request_reboot(hard=hard)  # as a Reset.req would (§5.14)
                    continue
                back_at = start_at + (hit.back_at or hit.at)
                returns.append(
                    asyncio.create_task(self._cut_off(hit.number, cp, kind == "blackout", back_at))
                )
            await asyncio.gather(*returns)
        finally:
            for task in returns:
                task.cancel()
            await asyncio.gather(*returns, return_exceptions=True)

    async def _cut_off(self, number: int, cp: ChargePoint, power: bool, back_at: float) -> None:
        """The connection of ``number`` drops without a close frame (and, with ``power``,
        its power goes: its steps stop) until ``back_at``, wall time; then it reconnects,
        transaction messages queued meanwhile going first (§4.7)."""
        self._held.add(number)
        back = asyncio.Event()
        if power:
            self._powered_off[number] = back
            passes = self._passes_of.get(number)
            if passes is not None:
                passes.cancel()
        try:
            await cp.lose_connection(power=power)
            delay = back_at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            self._held.discard(number)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(cp.connect_timeout + 1):
                    await cp.reconnect()
        finally:
            self._held.discard(number)
            self._powered_off.pop(number, None)
            back.set()

    async def _leave(
        self, number: int, cp: ChargePoint, reason: str, sinks: Sequence[LoadStats]
    ) -> None:
        """A charge point that cannot go on leaves the run: it closes its connection
        normally and is counted with ``reason``."""
        for stats in sinks:
            stats.charge_point_abandoned(reason)
        self._charge_points.pop(number, None)
        stopping = asyncio.ensure_future(cp.stop())
        _done, pending = await asyncio.wait([stopping], timeout=CLOSE_GRACE)
        for task in pending:
            task.cancel()
        await asyncio.gather(stopping, return_exceptions=True)

    def _drain(self, cp: ChargePoint, ctx: StepContext, sinks: Sequence[LoadStats]) -> None:
        """Count the CSMS's requests and forget them, with the problems already counted as
        failed steps: a charge point holds nothing that grows with the length of the run."""
        for received in cp.received:
            for stats in sinks:
                stats.request_received(received.call.action, not_supported=received.not_supported)
        del cp.received[:]
        del cp.problems[:]
        ctx.inbox_cursor = 0
        ctx.problems_carry = ctx.problems_until = None

    def backlog(self) -> int:
        """Requests and problems the charge points hold right now (bounded by :meth:`_drain`;
        for tests and diagnostics)."""
        return sum(len(cp.received) + len(cp.problems) for cp in self._charge_points.values())


class _Member:
    """One charge point's ties to its shard: how it connects (counted into the statistics)
    and what it tells the shard. One small object rather than a closure for each."""

    __slots__ = ("group", "number", "shard", "sinks")

    def __init__(self, shard: Shard, number: int, group: str, sinks: Sequence[LoadStats]) -> None:
        self.shard = shard
        self.number = number
        self.group = group
        self.sinks = sinks

    async def connect(self, dial: Dial, *args: Any, **kwargs: Any) -> Any:
        """``dial`` under the shard's limit of handshakes in flight, counted."""
        shard, sinks = self.shard, self.sinks
        try:
            async with shard._handshakes:
                transport = await dial(*args, **kwargs)
        except ConnectError as exc:
            for stats in sinks:
                stats.connection_failed(_reason(str(exc)))
            raise
        for stats in sinks:
            stats.connection_opened()
            if self.number not in shard._charge_points:  # its first connection: ramping up
                stats.ramp_seconds = max(stats.ramp_seconds, time.time() - shard.stats.started_at)
        return transport

    def dropped(self, _reason: str) -> None:
        for stats in self.sinks:
            stats.connection_dropped()

    def connection_changed(self, connected: bool) -> None:
        self.shard._connection_changed(self.group, connected)

    def news(self) -> None:
        self.shard._news.add(self.number)


def _loop_time_of(epoch: float) -> float:
    """The running loop's time at wall-clock instant ``epoch``."""
    return asyncio.get_running_loop().time() + (epoch - time.time())


def _event_label(event: EventPlan) -> str:
    """What the reports call an event: ``blackout of 50% for 30s``, the same on every
    shard."""
    effect = event.event.effect
    of = f" of {effect.group}" if effect.group else ""
    if isinstance(effect, Surge):
        return f"surge of {effect.count} charge points{of}"
    share = f"{effect.fraction:.0%}{of}"
    if isinstance(effect, RollingReboot):
        return f"rolling {effect.type.lower()} reboot of {share} over {_seconds(effect.over)}"
    return f"{event.kind} of {share} for {_seconds(effect.for_)}"


def _seconds(value: float) -> str:
    whole = int(round(value))
    return f"{whole}s" if whole < 120 or whole % 60 else f"{whole // 60}m"


class Backoff:
    """The pauses of one charge point between failed passes: ``first`` seconds after the
    first failure, doubling with each further failure in a row up to ``cap``, each less up
    to :data:`JITTER` of itself at random; a clean pass starts over (:meth:`reset`).

    The random part replays: each draw comes from a generator seeded with ``seed`` (the
    plan's seed and the charge point's number) and the draw's number. No generator is kept
    between draws: its state is 2.5 KB, and a load run has thousands of charge points.
    """

    __slots__ = ("cap", "draws", "failures", "first", "seed")

    def __init__(self, first: float, cap: float, seed: str) -> None:
        self.first = first
        self.cap = cap
        self.seed = seed
        #: failed passes in a row
        self.failures = 0
        self.draws = 0

    def next_delay(self) -> float:
        """Count one more failed pass; the seconds to pause before the next pass."""
        self.failures += 1
        nominal = min(self.cap, self.first * 2.0 ** min(self.failures - 1, 64))
        draw = random.Random(f"{self.seed}/{self.draws}").random()
        self.draws += 1
        return nominal * (1.0 - JITTER * draw)

    def reset(self) -> None:
        """A pass went through: the next failure pauses ``first`` seconds again."""
        self.failures = 0


async def recover(ctx: StepContext) -> str | None:
    """Bring a charge point whose pass failed back to a clean state for its next pass;
    None when done, else why it could not (one line).

    Back online, every transaction stopped with reason Other (OCPP 1.6 §7.36 Reason),
    every cable out, every fault cleared, each through the station's own operation (so
    its queue and offline rules hold), then until everything queued is answered, all
    within the scenario's timeout. Reservations are left to expire.
    """
    cp, station = ctx.cp, ctx.station
    # An `await` armed by the step that failed would answer a request of the next pass.
    cp.interceptor = None
    ctx.armed = None
    seconds = ctx.timeout
    try:
        async with asyncio.timeout(seconds):
            if cp.offline:  # the pass failed between a `disconnect` and its `reconnect`
                await cp.reconnect()
            while not cp.connected:  # lost, and on its way back
                await asyncio.sleep(RECONNECT_POLL)
            stops = [
                station.stop_transaction(number, Reason.OTHER)
                for number in sorted(station.transactions)
            ]
            for number, connector in sorted(station.connectors.items()):
                if connector.plugged:
                    station.unplug(number)
            for number, connector in sorted(station.connectors.items()):
                if connector.status is ChargePointStatus.FAULTED:
                    station.clear_fault(number)
            await cp.wait_idle()
    except TimeoutError:
        if not cp.connected:
            return f"not connected after {seconds:g} s"
        in_flight = cp.in_flight_action
        waiting = f" (waiting for the answer to {in_flight})" if in_flight else ""
        return f"the station was still busy after {seconds:g} s{waiting}"
    except MockpointError as exc:  # the station refused an operation
        return str(exc)
    for stop in stops:
        if stop.error is not None:
            return f"StopTransaction not delivered: {stop.error}"
    return None


def resident_memory() -> int:
    """This process's resident memory in bytes (Linux: VmRSS; elsewhere the peak)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource  # Unix only; Linux took the branch above

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def _failure(result: StepOutcome) -> str:
    first_line = (result.message or "failed").splitlines()[0]
    return f"{result.label} ({result.location}): {first_line}"


def _reason(message: str) -> str:
    """A connection failure's reason without the charge point's URL, so that failures of
    many charge points count under one reason."""
    _, sep, rest = message.partition(": ")
    return rest if sep else message


def run_plan(
    plan: ShardPlan,
    on_snapshot: Callable[[dict[str, Any]], None] | None = None,
    *,
    interval: float = 1.0,
) -> dict[str, Any]:
    """Run one shard on a fresh event loop (uvloop where it is installed) and return its
    statistics as data; ``on_snapshot`` gets :meth:`Shard.snapshot` every ``interval``
    seconds. What worker processes call."""

    async def main() -> dict[str, Any]:
        shard = Shard(plan)
        # Thousands of charge points are millions of long-lived objects; the collector's
        # full passes over them cost more than the cycles they would find (measured: a third
        # more connections per second during ramp-up without them).
        gc.freeze()
        gc.set_threshold(100_000, 50, 100)
        reporting = None
        if on_snapshot is not None:
            reporting = asyncio.create_task(_report(shard, on_snapshot, interval))
        try:
            stats = await shard.run()
        finally:
            if reporting is not None:
                reporting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reporting
        return stats.to_dict()

    return run_loop(main())


async def _report(
    shard: Shard, on_snapshot: Callable[[dict[str, Any]], None], interval: float
) -> None:
    while True:
        await asyncio.sleep(interval)
        on_snapshot(shard.snapshot())


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on uvloop where it is installed (a third more round trips per core
    in benchmarks/bench_load.py), else on asyncio's own loop."""
    try:
        import uvloop
    except ImportError:  # e.g. Windows, which uvloop does not support
        return asyncio.run(main)
    return uvloop.run(main)

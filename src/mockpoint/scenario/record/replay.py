"""Replaying a recorded session through a shadow station: which frames become which steps.

:func:`record_scenario` takes the :class:`~mockpoint.scenario.record.reading.Record` s of
one charge point and gives a :class:`Recording`: the scenario as a plain dict in the style
of ``examples/`` (the step kinds of docs/scenario-format.md), which
:func:`~mockpoint.scenario.record.writing.to_yaml` turns into the file's text, and what
could not be reproduced. The ``charge_point`` block comes from the boot's payload and the
configuration :mod:`~mockpoint.scenario.record.configuration` guesses.

How frames become steps. A *shadow* station, the same sans-I/O :class:`Station` that the
replay will run, is driven through the recorded session: it sees every answer of the CSMS
and every CSMS request, and its timers fire as the recorded virtual time passes. Then:

- A CALL of the charge point that the shadow would send by itself at that point (the status
  reports after a boot, heartbeats, sampled meter values, the StartTransaction that follows
  an accepted RemoteStartTransaction, ...) becomes no step: the replay sends it by itself.
- Otherwise, a station step when one produces exactly that frame (``plug_in``, ``unplug``,
  ``fault``, ``clear_fault``, ``authorize``, ``start_transaction``, ``stop_transaction``),
  which keeps the station's state in step with the original; else ``send: ACTION`` with
  the payload as sent (``invalid: true`` when it breaks the OCA schema).
- The CSMS's CALLRESULT becomes the step's ``expect``, its CALLERROR ``expect_error``.
- A request of the CSMS becomes ``await: ACTION`` with ``expect`` of its payload; a
  ``reply`` (or ``reply_error``) only where the charge point's recorded answer differs from
  what the station model would answer.
- Virtual time that passes becomes ``wait``; time in which a transaction's meter went up
  becomes ``charge`` at the power the recorded readings show (Power.Active.Import when it is
  sampled, else the energy over the time, rounded to the plainest power that reproduces
  every reading): ``charge`` with a ``duration`` while one connector charges, and while
  several do, background charges (``charge`` without ``duration``, ``power: 0`` when one
  stops drawing) and ``wait``.

Volatile values. In ``expect``: ``currentTime`` and every RFC 3339 time become
``{$type: string}``; the ``transactionId`` the CSMS assigns becomes ``{$type: integer}``
and is saved (``save: {tx: transactionId}``, then ``tx2``, ...) so that later payloads say
``${tx}`` and the replay works against a CSMS that assigns other ids. Everything else the
CSMS answered is kept: a recording is a regression test. In ``await``'s ``expect`` the same
holds for the request's times and transaction ids.

Ids and time. ``clock: {start, speed: 0}`` is the virtual time of the first frame, so
timestamps in payloads come out the same. Unique ids come from the scenario's seed: the
recorder finds the seed whose first id is the recorded first id (seeds 0 to 9,999) and
writes it, so the replay's ids are the recorded ones. The mock CSMS's log has no virtual
time of the charge point (its ``virtual_time`` is the CSMS's clock): there the times are
read from the charge point's own timestamps, and a frame without one takes the time at
which the shadow would send it.

The CSMS's part. For a replay against the embedded mock CSMS the scenario gets a
``mock_csms`` block (docs/scenario-format.md): each CSMS request is sent ``on_request``
after the charge point's request that the CSMS answered just before it (so it arrives at
the same point), boot answers other than Accepted / 300 s become ``boot``, and id tags the
CSMS refused are listed under ``id_tags``. A real CSMS ignores the block.

A clock that ran. A session at any clock speed but 0 (the shell at its default real time)
cannot be replayed to the millisecond: every frame went out a little after its cause and
the station's timers drift with the event loop. Such a session is told by its frames (a
transcript's answers come later in virtual time than their requests; a frame log's times
are not whole seconds apart) and recorded as a person would have written it: the clock
starts at a whole second; the time from one step (or from a charge's last sample) to the
next is rounded to whole seconds, to the minute when within 2 % of one (a ``wait 1m``
typed a second late is ``1m``), never up to a timer of the shadow, so the station's own
frames keep their place; a heartbeat or meter sample that jitter moved is taken as the
timer's, two that fell due together in either order; frames are compared with their
times left out and their meter readings within 3 %, so the station's own frames and
station steps are recognised as they are at speed 0; and a charge's power is the plainest
that gives the energy between the recorded readings (which carry the station's own times),
in whole watts. The replay's timestamps are the rounded ones.

What cannot be reproduced (frames the shadow would send that the original did not, ...) is
written as faithfully as possible and reported in :attr:`Recording.warnings`.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from mockpoint.clock import VirtualClock, format_timestamp, parse_timestamp
from mockpoint.errors import CallErrorReceived, MockpointError, OcppError, UsageError
from mockpoint.ids import SeededIds
from mockpoint.ocpp16.actions import ACTIONS
from mockpoint.rpc.validation import check_request
from mockpoint.scenario.record.configuration import infer_configuration
from mockpoint.scenario.record.reading import (
    _CALL,
    _ERROR,
    _RESULT,
    Origin,
    Record,
    _clock_ran,
    _reading,
    charge_points,
    is_time,
    parse_time,
    payload_time,
)
from mockpoint.scenario.record.writing import Flow, duration_text, loose, power_text
from mockpoint.station.configuration import Configuration, ConfigurationError
from mockpoint.station.handlers import handle
from mockpoint.station.station import Identity, Message, Reboot, Reconnect, Station

#: Seeds tried when looking for the one that made the recorded unique ids.
SEED_SEARCH = 10_000

#: A running clock: how far apart two meter readings may be and still be the same frame
#: (the rounded times move the replay's a little), and what a charge's power may miss by.
_WITHIN = 0.03
_DEFAULT_BOOT = ("Accepted", 300)
#: idTagInfo status -> the mock CSMS's id_tags list, and the prefix it refuses by itself
#: (README, "The embedded mock CSMS")
_LISTS = {
    "Blocked": "blocked",
    "Expired": "expired",
    "Invalid": "invalid",
    "ConcurrentTx": "concurrent_tx",
}
_PREFIXES = {
    "Blocked": "BLOCKED",
    "Expired": "EXPIRED",
    "Invalid": "INVALID",
    "ConcurrentTx": "CONCURRENT",
}


@dataclass
class Recording:
    """A scenario (plain data, ready for YAML) and what could not be reproduced exactly."""

    scenario: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


# --- recording ----------------------------------------------------------------------------


def record_scenario(
    records: Sequence[Record],
    *,
    origin: Origin = "transcript",
    cp: str | None = None,
    name: str | None = None,
    source: str | None = None,
    seed: int | None = None,
) -> Recording:
    """The scenario that reproduces the charge point ``cp``'s side of ``records``.

    ``seed``: the seed the recorded charge point ran with, when the caller knows it (the
    shell's ``save``); otherwise it is searched for (seeds below 10,000)."""
    ids = charge_points(records)
    if cp is None:
        if len(ids) > 1:
            raise UsageError(
                f"{len(ids)} charge points in the transcript ({_some(ids)}); pick one with --cp"
            )
        cp = ids[0] if ids else None
    elif cp not in ids:
        raise UsageError(f"no frames of charge point {cp!r} (there are: {_some(ids)})")
    mine = [record for record in records if record.cp == cp]
    if not mine or cp is None:
        raise UsageError("no frames to record")
    return _Recorder(mine, cp, origin).run(name, source, seed)


def find_seed(first_id: str, limit: int = SEED_SEARCH) -> int | None:
    """The scenario seed whose first unique id is ``first_id``, if one below ``limit`` is."""
    for seed in range(limit):
        if SeededIds(seed)() == first_id:
            return seed
    return None


def _some(ids: list[str]) -> str:
    """A few of ``ids`` and the last, for a message: a load test's transcript has
    thousands."""
    if len(ids) <= 4:
        return ", ".join(ids)
    return f"{', '.join(ids[:3])}, ... {ids[-1]}"


@dataclass
class _Sent:
    """A CALL of the charge point waiting for its answer."""

    message: Message
    step: dict[str, Any] | None


@dataclass
class _Segment:
    """Virtual time to pass; meanwhile each connector of ``powers`` draws its watts (> 0)."""

    seconds: float
    powers: tuple[tuple[int, float], ...] = ()


#: What tells a connector's transaction from the next one there (the shadow station is
#: copied at times, so not its identity): when it started, its id tag, its meterStart.
_Key = tuple[float, str, int]


def _key(station: Station, connector: int) -> _Key | None:
    """The key of the connector's running transaction; None when none runs."""
    transaction = station.transactions.get(connector)
    if transaction is None or transaction.stopping:
        return None
    return (transaction.started_at, transaction.id_tag, transaction.meter_start)


class _Recorder:
    def __init__(self, records: list[Record], cp: str, origin: Origin) -> None:
        self.records = records
        self.cp = cp
        self.origin = origin
        self.warnings: list[str] = []
        self.times = [self._time_of(record) for record in records]
        self.steps: list[dict[str, Any]] = []
        self.pending: list[_Segment] = []
        self.sent: dict[str, _Sent] = {}
        self.answered: set[str] = set()
        #: transaction id -> the variable saved from its StartTransaction answer
        self.variables: dict[int, str] = {}
        self.last_answered: tuple[str, Any] | None = None
        self.triggers: list[dict[str, Any]] = []
        self.boots: list[tuple[str, int]] = []
        self.refused: dict[str, str] = {}
        #: CALLs of the charge point seen so far (what an on_request match must not hit)
        self.calls_seen: list[tuple[str, Any]] = []
        #: frames the station sent by itself since the last step
        self.auto_since_step = False
        #: connector -> (its transaction's key, watts) of the background charges the replay
        #: runs between steps
        self.background: dict[int, tuple[_Key, float]] = {}
        #: the clock ran by itself in the session (see the module docstring)
        self.running = _clock_ran(records, origin, self.times)
        #: running clock: the last frame placed, (its recorded time, its shadow time)
        self.anchor = (0.0, 0.0)
        #: running clock: the same of what the time to the next step is rounded from: the
        #: last step, or a later frame that ended a stretch of charging (a meter sample)
        self.since = (0.0, 0.0)
        #: running clock: how far the rounding has moved the shadow off the recording
        self.slack = 0.0
        self.shadow: Station

    # --- the header ----------------------------------------------------------------------

    def _time_of(self, record: Record) -> float | None:
        if self.origin == "transcript":
            return parse_timestamp(record.virtual_time) if record.virtual_time else None
        if record.direction != "out" or record.kind != _CALL or len(record.frame) < 4:
            return None
        return payload_time(str(record.frame[2]), record.frame[3])

    def _calls(self) -> Iterator[tuple[int, str, dict[str, Any]]]:
        for index, record in enumerate(self.records):
            frame = record.frame
            if record.direction == "out" and record.kind == _CALL and len(frame) >= 4:
                if isinstance(frame[3], dict):
                    yield index, str(frame[2]), frame[3]

    def _header(self) -> dict[str, Any]:
        boot = next(
            (payload for _, action, payload in self._calls() if action == "BootNotification"), None
        )
        if boot is None:
            raise UsageError(
                f"no BootNotification of {self.cp} in the frames: a recording starts at a boot"
            )
        spec: dict[str, Any] = {"id": self.cp}
        for key, wire in (
            ("vendor", "chargePointVendor"),
            ("model", "chargePointModel"),
            ("serial_number", "chargePointSerialNumber"),
            ("firmware_version", "firmwareVersion"),
        ):
            if isinstance(boot.get(wire), str):
                spec[key] = boot[wire]
        connectors = max(
            [1]
            + [
                payload["connectorId"]
                for _, action, payload in self._calls()
                if isinstance(payload.get("connectorId"), int)
                and action in ("StatusNotification", "StartTransaction", "MeterValues")
            ]
        )
        spec["connectors"] = connectors
        configuration = infer_configuration(list(self._calls()), self.times)
        if configuration:
            spec["configuration"] = configuration
        return spec

    def _start(self) -> float:
        known = [time for time in self.times if time is not None]
        if known:
            return known[0] if self.origin == "transcript" else min(known)
        first = self.records[0].virtual_time
        return parse_timestamp(first) if first else 0.0

    # --- the pass --------------------------------------------------------------------------

    def run(self, name: str | None, source: str | None, known_seed: int | None) -> Recording:
        spec = self._header()
        recorded_start = self._start()
        start = math.floor(recorded_start) if self.running else recorded_start
        self.anchor = self.since = (recorded_start, start)
        identity = Identity(
            self.cp,
            vendor=spec.get("vendor", "mockpoint"),
            model=spec.get("model", "Simulator"),
            serial_number=spec.get("serial_number"),
            firmware_version=spec.get("firmware_version"),
            connectors=spec["connectors"],
        )
        try:
            configuration = Configuration(
                spec.get("configuration"), number_of_connectors=spec["connectors"]
            )
        except ConfigurationError as exc:
            self.warnings.append(f"configuration not reproduced: {exc}")
            spec.pop("configuration", None)
            configuration = Configuration(number_of_connectors=spec["connectors"])
        self.shadow = Station(identity, VirtualClock(start, 0), configuration)
        self.shadow.on_connected(auto_boot=False)
        first_boot = True
        for index, record in enumerate(self.records):
            kind = record.kind
            if kind is None:
                self._raw(record)
            elif record.direction == "out" and kind == _CALL:
                if first_boot and record.frame[2] != "BootNotification":
                    continue  # nothing goes out before the boot in the replay
                first_boot = False
                self._cp_call(index, record)
            elif record.direction == "out":
                if record.unique_id not in self.answered:
                    self.warnings.append(f"line {record.line}: an answer to no request, left out")
            elif kind == _CALL:
                self._csms_call(index, record)
            else:
                self._csms_answer(record)
        self._flush()
        if self.auto_since_step and self.steps and next(iter(self.steps[-1])) in ("send", "await"):
            # What the station does by itself after the last step: let it finish.
            self.steps.append({"wait": "0s"})
        if self.shadow.has_sendable():
            item = self.shadow.next_item()
            what = item.action if isinstance(item, Message) else type(item).__name__
            self.warnings.append(f"the replay sends a {what} at the end that the original did not")
        scenario: dict[str, Any] = {"name": name or f"Recorded session of {self.cp}"}
        origin = "the mock CSMS's frame log" if self.origin == "csms-log" else "a transcript"
        scenario["description"] = (
            f"Recorded from {origin} ({source or 'frames'}, {len(self.records)} frames)."
        )
        mock = self._mock_csms()
        if mock:
            scenario["mock_csms"] = mock
        scenario["charge_point"] = spec
        scenario["clock"] = {"start": format_timestamp(start), "speed": 0}
        first_call = next(
            (r for r in self.records if r.direction == "out" and r.kind == _CALL), None
        )
        first_id = first_call.frame[1] if first_call and first_call.unique_id else None
        if known_seed is not None and first_id is not None and SeededIds(known_seed)() == first_id:
            seed: int | None = known_seed
        else:
            seed = find_seed(first_id) if first_id is not None else None
        if seed is None:
            # Left out rather than 0: a real CSMS then gets fresh ids on every run.
            self.warnings.append(
                "no seed below 10000 makes the recorded unique ids: ids will differ"
            )
        else:
            scenario["seed"] = seed
        scenario["steps"] = self.steps
        return Recording(scenario, self.warnings)

    # --- time ----------------------------------------------------------------------------

    @property
    def now(self) -> float:
        return self.shadow.clock.now()

    def _advance(self, to: float, index: int) -> None:
        """Let the shadow's time reach ``to``, its timers firing on the way."""
        while (due := self.shadow.next_timer()) is not None and due <= to:
            self._move(due, index)
            self.shadow.on_timer(due)
        self._move(to, index)

    def _move(self, to: float, index: int) -> None:
        seconds = to - self.now
        if seconds <= 0:
            return
        powers = self._powers(index)
        for number, transaction in self.shadow.transactions.items():
            if not transaction.stopping:
                self.shadow.set_power(number, dict(powers).get(number, 0.0))
        assert isinstance(self.shadow.clock, VirtualClock)
        self.shadow.clock.advance_to(to)
        last = self.pending[-1] if self.pending else None
        if last is not None and last.powers == powers:
            last.seconds += seconds
        else:
            self.pending.append(_Segment(seconds, powers))

    def _powers(self, index: int) -> tuple[tuple[int, float], ...]:
        """The connectors that charge from now on, each with its power, by connector."""
        charging: list[tuple[int, float]] = []
        for number, transaction in sorted(self.shadow.transactions.items()):
            if transaction.stopping:
                continue
            power = self._power_of(number, index)
            if power > 0:
                charging.append((number, power))
        return tuple(charging)

    def _power_of(self, connector: int, index: int) -> float:
        reading = self._next_reading(connector, index)
        if reading is None:
            return 0.0
        if self.running:
            return self._steady_power(connector, index, reading)
        when, energy, sampled_power = reading
        meter = self.shadow.meters[connector]
        now = self.now
        if when <= now:
            return 0.0

        def fits(watts: float) -> bool:
            trial = copy.deepcopy(meter)
            trial.set_power(watts, now)
            return trial.meter_wh(when) == energy

        exact = (Fraction(energy) - Fraction(meter.register_wh(now))) * 3600 / Fraction(when - now)
        if exact <= 0 and fits(0):
            return 0.0
        # The sampled power first, 0 too: after an EV stops drawing, the register rounded to
        # whole Wh may still step up once, which a small power would explain as well.
        candidates = [sampled_power] if sampled_power is not None else []
        candidates += [float(round(exact / unit) * unit) for unit in (1000, 100, 10, 1)]
        candidates.append(float(exact))
        for watts in candidates:
            if watts >= 0 and fits(watts):
                return watts
        self.warnings.append(
            f"connector {connector}: no constant power gives the reading of {energy} Wh at "
            f"{format_timestamp(when)}"
        )
        return max(float(exact), 0.0)

    def _steady_power(
        self, connector: int, index: int, reading: tuple[float, int, float | None]
    ) -> float:
        """Running clock: the power that gives the energy between the recorded readings
        around now (to the whole Wh they are rounded to), the plainest first: the power
        drawn so far (a heartbeat between two samples splits no charge), none, the sampled
        one, then rounded to kW, 100 W, 10 W, 1 W. The readings carry the station's own
        times, so jitter plays no part, and the shadow's register, which the rounded
        times moved a little, none either: frames are compared within 3 %."""
        when, energy, sampled_power = reading
        meter = self.shadow.meters[connector]
        now = self.now
        if self._shadow_time(when) <= now:
            return 0.0
        before = self._previous_reading(connector, index, when)
        if before is None:  # a transaction from before the recording: the shadow's register
            before = (when - (self._shadow_time(when) - now), meter.register_wh(now))
        span = when - before[0]
        if span <= 0:
            return 0.0
        drawn = energy - before[1]
        exact = drawn * 3600 / span
        plain = [meter.power_w(now), 0.0] + ([sampled_power] if sampled_power is not None else [])
        rounded = [round(exact / unit) * unit for unit in (1000, 100, 10, 1)]
        # A plain power may miss by what a step typed a moment after the sample moved
        # (within 3 %, as frames are compared); a rounded one only by the rounding of the
        # readings to whole Wh.
        slack = max(1.0, _WITHIN * abs(drawn))
        tries = [(watts, slack) for watts in plain] + [(watts, 1.0) for watts in rounded]
        for watts, within in tries:
            if watts >= 0 and abs(watts - exact) * span / 3600 <= within:
                return float(watts)
        return float(max(round(exact), 0))

    def _previous_reading(
        self, connector: int, index: int, before: float
    ) -> tuple[float, float] | None:
        """(time, Wh) of the last recorded reading of ``connector``'s transaction earlier
        than ``before``: a sample, else its StartTransaction's meterStart."""
        for record in reversed(self.records[:index]):
            frame = record.frame
            if record.direction != "out" or record.kind != _CALL or len(frame) < 4:
                continue
            payload = frame[3]
            if not isinstance(payload, dict) or payload.get("connectorId") != connector:
                continue
            if frame[2] == "MeterValues":
                for value in reversed(payload.get("meterValue", [])):
                    found = _reading(value)
                    if found is not None and found[0] < before:
                        return found[0], float(found[1])
            elif frame[2] == "StartTransaction":
                stamp, start = payload.get("timestamp"), payload.get("meterStart")
                when = parse_time(stamp) if isinstance(stamp, str) else None
                if when is None or not isinstance(start, int) or when >= before:
                    return None
                return when, float(start)
        return None

    def _next_reading(self, connector: int, index: int) -> tuple[float, int, float | None] | None:
        """The next energy reading of ``connector``'s transaction after now, from ``index``
        (its recorded time, which :meth:`_shadow_time` puts on the shadow's clock)."""
        transaction = self.shadow.transactions.get(connector)
        for record in self.records[index:]:
            frame = record.frame
            if record.direction != "out" or record.kind != _CALL or len(frame) < 4:
                continue
            action, payload = frame[2], frame[3]
            if not isinstance(payload, dict):
                continue
            if action == "MeterValues" and payload.get("connectorId") == connector:
                for value in payload.get("meterValue", []):
                    found = _reading(value)
                    if found is not None and self._shadow_time(found[0]) > self.now:
                        return found
            elif action == "StopTransaction" and transaction is not None:
                if payload.get("transactionId") in (transaction.transaction_id, None):
                    stamp = payload.get("timestamp")
                    stop = payload.get("meterStop")
                    if isinstance(stamp, str) and isinstance(stop, int):
                        return parse_time(stamp) or 0.0, stop, None
                    return None
            elif action == "StartTransaction" and payload.get("connectorId") == connector:
                return None
        return None

    def _flush(self) -> None:
        """The time passed so far as wait and charge steps (the next step happens after).

        While at most one connector charges and nothing charges in the background, a
        segment is a ``wait`` or a foreground ``charge`` (with ``duration``); otherwise
        background charges set each connector's power where it changes, then a ``wait``
        lets the time pass (docs/scenario-format.md, ``charge``).
        """
        self._end_background()
        for segment in self.pending:
            duration = duration_text(segment.seconds)
            powers = dict(segment.powers)
            if not self.background and len(powers) <= 1:
                if not powers:
                    self.steps.append({"wait": duration})
                for number, watts in powers.items():
                    charge = Flow(connector=number, power=power_text(watts), duration=duration)
                    self.steps.append({"charge": charge})
                continue
            for number in sorted(set(self.background) | set(powers)):
                watts = powers.get(number, 0.0)
                key = _key(self.shadow, number)
                if key is None or self.background.get(number, (key, 0.0))[1] == watts:
                    continue
                self.steps.append({"charge": Flow(connector=number, power=power_text(watts))})
                if watts:
                    self.background[number] = (key, watts)
                else:
                    del self.background[number]
            self.steps.append({"wait": duration})
        # A foreground charge ends drawing nothing; a background one goes on.
        for number, transaction in self.shadow.transactions.items():
            if not transaction.stopping:
                _, watts = self.background.get(number, (None, 0.0))
                self.shadow.set_power(number, watts)
        self.pending = []

    def _end_background(self) -> None:
        """Forget the background charges the replay has ended since the last step: their
        transaction stopped (a stop, a Reset, ...) or the cable was unplugged."""
        for number, (key, _) in list(self.background.items()):
            if _key(self.shadow, number) != key or not self.shadow.connectors[number].plugged:
                del self.background[number]

    # --- the charge point's requests ------------------------------------------------------

    def _cp_call(self, index: int, record: Record) -> None:
        frame = record.frame
        action = str(frame[2]) if len(frame) > 2 else ""
        payload = frame[3] if len(frame) > 3 and isinstance(frame[3], dict) else {}
        when = self.times[index]
        item: Message | None
        if self.running and when is not None:
            item = self._take(action, payload)
            if item is None and not self.shadow.has_sendable():
                item = self._timer_message(index, action, payload, when)
            if item is None:
                stray = self._next_message()
                if stray is not None:
                    self._mismatch(record, stray, action, payload)
                self._advance(self._place(when), index)
                item = self._next_message()
            self.anchor = (when, self.now)
        elif when is not None:
            self._advance(max(when, self.now), index)
            item = self._next_message()
        else:
            bound = next((t for t in self.times[index:] if t is not None), math.inf)
            while not self.shadow.has_sendable():
                due = self.shadow.next_timer()
                if due is None or due > bound:
                    break
                self._advance(due, index)
            item = self._next_message()
        if item is not None:
            if self._alike(item, action, payload):
                if self.running and when is not None and self.pending and self.pending[-1].powers:
                    self.since = (when, self.now)  # a charge's durations keep to its samples
                self.sent[str(frame[1])] = _Sent(item, None)
                self.calls_seen.append((action, payload))
                self.auto_since_step = True
                return
            self._mismatch(record, item, action, payload)
        self._flush()
        if self.running and when is not None:
            self.since = (when, self.now)
        self.calls_seen.append((action, payload))
        self.auto_since_step = False
        if self._station_step(frame[1], action, payload):
            return
        step: dict[str, Any] = {"send": action}
        if payload or action == "BootNotification":
            step["payload"] = Flow(self._payload(action, payload))
        info = ACTIONS.get(action)
        if info is None or not info.sent_by_charge_point() or check_request(action, payload):
            step["invalid"] = True
        message = self.shadow.send(action, copy.deepcopy(payload), validate=False)
        taken = self._next_message()
        if taken is not message:
            self.warnings.append(f"line {record.line}: {action} does not go out next in the replay")
        self.steps.append(step)
        self.sent[str(frame[1])] = _Sent(message, step)

    def _mismatch(
        self, record: Record, item: Message, action: str, payload: dict[str, Any]
    ) -> None:
        self.warnings.append(
            f"line {record.line}: the replay sends {item.action} {_short(item.payload)} "
            f"here, the original sent {action} {_short(payload)}"
        )

    def _alike(self, message: Message, action: str, payload: dict[str, Any]) -> bool:
        """Whether ``message`` is that frame: to the order of its keys at clock speed 0,
        times and meter readings aside when the clock ran."""
        if self.running:
            return message.action == action and _alike(message.payload, payload)
        return _same(message, action, payload)

    # --- a running clock ------------------------------------------------------------------

    def _shadow_time(self, recorded: float) -> float:
        """A recorded time on the shadow's clock (the same at clock speed 0)."""
        if not self.running:
            return recorded
        was, now = self.anchor
        return now + (recorded - was)

    def _timer_message(
        self, index: int, action: str, payload: dict[str, Any], when: float
    ) -> Message | None:
        """The frame of a shadow's timer due about ``when`` (a heartbeat, a meter sample
        that jitter moved) if it is this one; the shadow is then past the timer. Timers
        whose frame is another are left for later: the user's step came first."""
        gap = max(when - self.anchor[0], 0.0)
        limit = self._shadow_time(when) + 2.0 + 0.02 * gap + self.slack
        saved = (self.shadow, copy.deepcopy(self.pending), len(self.warnings))
        self.shadow = copy.deepcopy(self.shadow)
        while (due := self.shadow.next_timer()) is not None and due <= limit:
            self._advance(max(due, self.now), index)
            item = self._take(action, payload)
            if item is not None:
                return item
            if self.shadow.has_sendable():
                break
        self.shadow, self.pending = saved[0], saved[1]
        del self.warnings[saved[2] :]
        return None

    def _take(self, action: str, payload: dict[str, Any]) -> Message | None:
        """The shadow's next frame if it is this one, or the frame after it: two timers due
        at once (a heartbeat and a sample the rounding brought together) go out in either
        order in real time, and in the replay's order with no step between them."""
        first = self._next_message()
        if first is None or self._alike(first, action, payload):
            return first
        second = self._next_message()
        if second is not None and self._alike(second, action, payload):
            self.shadow.requeue(first)
            return second
        if second is not None:
            self.shadow.requeue(second)
        self.shadow.requeue(first)
        return None

    def _place(self, when: float) -> float:
        """The shadow time of a step recorded at ``when``: the time since the last step (or
        the last sample of a charge since) rounded (:func:`_nice`, else to the whole second,
        else the last whole second before the shadow's next timer), not before the frames
        since, never at or past that timer, whose frame came later."""
        was, then = self.since
        gap = max(when - was, 0.0)
        exact = self._shadow_time(when)
        due = self.shadow.next_timer()
        options = [then + _nice(gap), then + round(gap)]
        if due is not None:
            options += [then + math.ceil(due - then) - 1, self.now + math.ceil(due - self.now) - 1]
        chosen = next(
            (t for t in options if t >= self.now and (due is None or t < due)),
            max(exact, self.now),
        )
        self.slack += abs(chosen - exact)
        return chosen

    def _next_message(self) -> Message | None:
        """The shadow's next frame, carrying out reboots and reconnects on the way."""
        while self.shadow.has_sendable():
            item = self.shadow.next_item()
            if isinstance(item, Message):
                return item
            if isinstance(item, Reboot):
                self.shadow.on_disconnected()
                self.shadow.rebooted()
                self.shadow.on_connected()
            elif isinstance(item, Reconnect):
                self.shadow.on_disconnected()
                self.shadow.on_connected()
        return None

    def _station_step(self, unique_id: str, action: str, payload: dict[str, Any]) -> bool:
        """A station step whose frame is exactly this one, if there is one: taken."""
        options: list[tuple[dict[str, Any], Callable[[Station], object]]] = []
        connector = payload.get("connectorId")
        if action == "StatusNotification" and isinstance(connector, int):
            error = payload.get("errorCode")
            if error not in (None, "NoError"):
                fault: dict[str, Any] = {"connector": connector, "error_code": error}
                if "info" in payload:
                    fault["info"] = payload["info"]
                if "vendorErrorCode" in payload:
                    fault["vendor_error_code"] = payload["vendorErrorCode"]
                options.append(
                    (
                        {"fault": Flow(fault)},
                        lambda s: s.fault(
                            connector, error, payload.get("info"), payload.get("vendorErrorCode")
                        ),
                    )
                )
            else:
                if connector >= 1:
                    options.append(
                        ({"plug_in": Flow(connector=connector)}, lambda s: s.plug_in(connector))
                    )
                    options.append(
                        ({"unplug": Flow(connector=connector)}, lambda s: s.unplug(connector))
                    )
                options.append(
                    (
                        {"clear_fault": Flow(connector=connector)},
                        lambda s: s.clear_fault(connector),
                    )
                )
        elif action == "Authorize" and isinstance(payload.get("idTag"), str):
            id_tag: str = payload["idTag"]
            options.append(({"authorize": Flow(id_tag=id_tag)}, lambda s: s.authorize(id_tag)))
        elif action == "StartTransaction" and isinstance(connector, int):
            tag = payload.get("idTag")
            reservation = payload.get("reservationId")
            start: dict[str, Any] = {"connector": connector, "id_tag": tag}
            if reservation is not None:
                start["reservation_id"] = reservation
            options.append(
                (
                    {"start_transaction": Flow(start)},
                    lambda s: s.start_transaction(connector, tag, reservation_id=reservation),
                )
            )
        elif action == "StopTransaction":
            wanted = payload.get("transactionId")
            reason = payload.get("reason", "Local")
            for number, transaction in self.shadow.transactions.items():
                if transaction.transaction_id == wanted and not transaction.stopping:
                    stop = Flow(connector=number, reason=reason)
                    options.append(({"stop_transaction": stop}, _stopping(number, reason)))
        for step, operation in options:
            trial = copy.deepcopy(self.shadow)
            try:
                operation(trial)
            except (MockpointError, ValueError, KeyError):
                continue
            saved, self.shadow = self.shadow, trial
            message = self._next_message()
            if message is not None and self._alike(message, action, payload):
                exchange = action in ("Authorize", "StartTransaction", "StopTransaction")
                self.steps.append(step)
                self.sent[unique_id] = _Sent(message, step if exchange else None)
                return True
            self.shadow = saved
        return False

    def _payload(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The payload as the step writes it: the CSMS's transaction ids as variables."""
        written = dict(payload)
        wanted = payload.get("transactionId")
        if action in ("MeterValues", "StopTransaction") and isinstance(wanted, int):
            if wanted in self.variables:
                written["transactionId"] = f"${{{self.variables[wanted]}}}"
            else:
                without = {k: v for k, v in payload.items() if k != "transactionId"}
                if self.shadow.default_payload(action, without).get("transactionId") == wanted:
                    written = without  # the station fills in its open transaction's id
        return written

    # --- the CSMS's answers ---------------------------------------------------------------

    def _csms_answer(self, record: Record) -> None:
        sent = self.sent.pop(record.unique_id or "", None)
        if sent is None:
            self.warnings.append(f"line {record.line}: an answer to no request, left out")
            return
        message, step, frame = sent.message, sent.step, record.frame
        if record.kind == _RESULT:
            payload = frame[2] if len(frame) > 2 and isinstance(frame[2], dict) else {}
            self._note_answer(message, payload)
            if step is not None:
                expect = loose(payload, self.variables)
                if message.action == "StartTransaction" and isinstance(
                    payload.get("transactionId"), int
                ):
                    name = "tx" if not self.variables else f"tx{len(self.variables) + 1}"
                    self.variables[payload["transactionId"]] = name
                    step["save"] = Flow(**{name: "transactionId"})
                if expect:
                    step["expect"] = Flow(expect)
                    if "save" in step:
                        step["save"] = step.pop("save")
            self.shadow.on_result(message, payload)
        else:
            code = str(frame[2]) if len(frame) > 2 else "GenericError"
            description = str(frame[3]) if len(frame) > 3 else ""
            if step is not None:
                step["expect_error"] = code
            self.shadow.on_failure(message, CallErrorReceived(code, description))
        self.last_answered = (message.action, message.payload)

    def _note_answer(self, message: Message, payload: dict[str, Any]) -> None:
        """What the mock CSMS must be told to answer the same way."""
        if message.action == "BootNotification":
            self.boots.append((str(payload.get("status")), int(payload.get("interval", 0))))
        info = payload.get("idTagInfo")
        tag = message.payload.get("idTag")
        if isinstance(info, dict) and isinstance(tag, str):
            status = str(info.get("status"))
            if status in _LISTS and not tag.startswith(_PREFIXES[status]):
                self.refused.setdefault(tag, status)

    # --- the CSMS's requests --------------------------------------------------------------

    def _csms_call(self, index: int, record: Record) -> None:
        frame = record.frame
        unique_id, action = str(frame[1]), str(frame[2]) if len(frame) > 2 else ""
        payload = frame[3] if len(frame) > 3 and isinstance(frame[3], dict) else {}
        when = self.times[index]
        if when is not None:
            self._advance(self._place(when) if self.running else max(when, self.now), index)
            if self.running:
                self.anchor = self.since = (when, self.now)
        self._flush()
        answer = next(
            (
                r
                for r in self.records[index + 1 :]
                if r.direction == "out" and r.kind in (_RESULT, _ERROR) and r.unique_id == unique_id
            ),
            None,
        )
        latest = max(
            (t.transaction_id for t in self.shadow.transactions.values() if t.transaction_id),
            default=None,
        )
        trial = copy.deepcopy(self.shadow)
        model: tuple[str, Any]
        try:
            model = ("result", handle(trial, action, copy.deepcopy(payload)))
        except OcppError as exc:
            model = ("error", exc.code.value)
        step: dict[str, Any] = {"await": action}
        expect = loose(payload, self.variables, request=True)
        if expect:
            step["expect"] = Flow(expect)
        if answer is None:
            self.warnings.append(
                f"line {record.line}: {action} was never answered; the replay answers it"
            )
            self.shadow = trial
        else:
            self.answered.add(unique_id)
            recorded: tuple[str, Any] = (
                ("result", answer.frame[2] if len(answer.frame) > 2 else {})
                if answer.kind == _RESULT
                else ("error", str(answer.frame[2]) if len(answer.frame) > 2 else "GenericError")
            )
            if recorded == model:
                self.shadow = trial
            elif recorded[0] == "result" and isinstance(recorded[1], dict):
                step["reply"] = Flow(recorded[1])
                if recorded[1].get("status", "Accepted") == "Accepted" and model[0] == "result":
                    self.shadow = trial  # the station carries the request out
            else:
                step["reply_error"] = recorded[1]
        self.steps.append(step)
        self.auto_since_step = False
        self._trigger(action, payload, latest)

    def _trigger(self, action: str, payload: dict[str, Any], latest: int | None) -> None:
        """An ``on_request`` entry that makes the mock CSMS send this request at this point;
        ``latest`` is the charge point's latest open transaction when it arrived."""
        if self.last_answered is None:
            self.warnings.append(f"{action}: the mock CSMS has nothing to send it after")
            return
        when_action, when_payload = self.last_answered
        match = {k: v for k, v in when_payload.items() if not isinstance(v, dict | list)}
        earlier = self.calls_seen[:-1]
        if any(a == when_action and _contains(p, match) for a, p in earlier):
            match = copy.deepcopy(when_payload)  # the scalars alone would fire it too early
        sent = dict(payload)
        if latest is not None and sent.get("transactionId") == latest:
            sent["transactionId"] = "${transaction_id}"
        self.triggers.append(
            {
                "when": Flow(action=when_action, match=match),
                "send": Flow(action=action, payload=sent),
            }
        )

    def _mock_csms(self) -> dict[str, Any]:
        mock: dict[str, Any] = {}
        if any(boot != _DEFAULT_BOOT for boot in self.boots):
            mock["boot"] = Flow(
                status=[status for status, _ in self.boots],
                interval=[interval for _, interval in self.boots],
            )
        if self.refused:
            lists: dict[str, list[str]] = {}
            for tag, status in self.refused.items():
                lists.setdefault(_LISTS[status], []).append(tag)
            mock["id_tags"] = Flow(lists)
        if self.triggers:
            mock["on_request"] = self.triggers
        return mock

    def _raw(self, record: Record) -> None:
        if record.direction == "out":
            self._flush()
            self.steps.append({"send_raw": str(record.frame)})
            self.warnings.append(f"line {record.line}: a frame that is no OCPP-J message, sent raw")


# --- helpers -------------------------------------------------------------------------------


def _stopping(connector: int, reason: str) -> Callable[[Station], object]:
    return lambda station: station.stop_transaction(connector, reason)


def _nice(seconds: float) -> int:
    """``seconds`` as a person would have written the wait: whole seconds, and a whole
    hour or minute when within 0.5 % or 2 % (at least 2 s) of one."""
    whole = round(seconds)
    for unit, share in ((3600, 0.005), (60, 0.02)):
        near = round(whole / unit) * unit
        if near and abs(near - whole) <= max(2.0, share * whole):
            return near
    return whole


def _alike(ours: Any, theirs: Any, key: str = "") -> bool:
    """``ours`` and ``theirs`` equal but for times (any two) and meter readings (within 3 %,
    at least 2 Wh): the frames of one station at a clock that ran."""
    if isinstance(ours, dict):
        if not isinstance(theirs, dict) or ours.keys() != theirs.keys():
            return False
        # An instantaneous power read as the EV started or stopped drawing: the energy
        # register beside it says whether the charge is the same.
        power = str(ours.get("measurand", "")).startswith("Power.")
        return all(
            (power and name == "value" and None not in (_number(value), _number(theirs[name])))
            or _alike(value, theirs[name], name)
            for name, value in ours.items()
        )
    if isinstance(ours, list):
        return (
            isinstance(theirs, list)
            and len(ours) == len(theirs)
            and all(_alike(a, b) for a, b in zip(ours, theirs, strict=True))
        )
    if is_time(ours) and is_time(theirs):
        return True
    if key in ("value", "meterStart", "meterStop"):
        a, b = _number(ours), _number(theirs)
        if a is not None and b is not None:
            return abs(a - b) <= max(2.0, _WITHIN * max(abs(a), abs(b)))
    return bool(ours == theirs)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _same(message: Message, action: str, payload: dict[str, Any]) -> bool:
    """Whether ``message`` is that frame, to the order of its keys."""
    return message.action == action and json.dumps(message.payload) == json.dumps(payload)


def _contains(payload: Any, wanted: Any) -> bool:
    """The mock CSMS's ``on_request`` match: mappings a subset, everything else equal."""
    if isinstance(wanted, dict):
        return isinstance(payload, dict) and all(
            key in payload and _contains(payload[key], value) for key, value in wanted.items()
        )
    return bool(payload == wanted) and type(payload) is type(wanted)


def _short(payload: Any) -> str:
    text = json.dumps(payload, separators=(",", ":"))
    return text if len(text) <= 80 else text[:79] + "…"

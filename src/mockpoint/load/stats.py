"""Statistics of a load run: what one shard measured, mergeable exactly with every other's.

Every number kept is a count, a sum or a histogram of counts, so merging two shards adds them
and a merge of shards equals one run that measured everything in one place. Rates,
percentiles and throughput are derived from those counts when asked for, never stored or
averaged: an average of per-shard p99s is not a p99.

Latencies go into :class:`Histogram`, our own sparse log-linear histogram, rather than the
``hdrhistogram`` package, because a per-second timeline needs hundreds of small histograms
and that package allocates a dense counts array for each one.

The runner calls the recording methods (:meth:`LoadStats.call_finished` and its siblings)
on its hot path. Measured with ``timeit`` on CPython 3.11, on a machine where ``d[k] += 1``
takes 66 ns: ``call_finished`` 1.1 to 1.3 µs for an answered call (its two histogram
records included), 0.35 µs for a timeout, lost or invalid call; ``connection_*``,
``step_finished``, ``iteration_finished`` and ``request_received`` 0.07 to 0.17 µs
(``recovered`` and ``charge_point_abandoned`` are their kind, and rare);
``sample_connected`` 0.4 µs, once a second.

A run of a fleet (docs/load-fleets.md) keeps, besides the run's figures, each group's own in
:attr:`LoadStats.scenarios`, and the events the shard applied in :attr:`LoadStats.events`;
both merge as the rest does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockpoint.load.thresholds import ThresholdResult

__all__ = [
    "EVENT_KINDS",
    "FORMAT",
    "INVALID",
    "LOST",
    "MAX_KEYS",
    "OTHER",
    "TIMEOUT",
    "ActionStats",
    "EventRecord",
    "Histogram",
    "LoadStats",
    "TimelinePoint",
]

#: The ``format`` tag of :meth:`LoadStats.to_dict`; a change of the document's shape bumps it.
FORMAT = "mockpoint-load/1"

#: Outcomes of :meth:`LoadStats.call_finished` that are not CALLERROR codes.
TIMEOUT, LOST, INVALID = "timeout", "lost", "invalid"

#: At most this many distinct keys in a dict whose keys a peer or a failure text chooses
#: (CALLERROR codes, step failures, refusal reasons, received actions): a CSMS that sends a
#: new error code with every answer must not make a shard's memory grow without bound.
MAX_KEYS = 100
#: Where the counts of keys past :data:`MAX_KEYS` go.
OTHER = "(other)"

#: The kinds of a fleet's events, as the fleet file writes them (docs/load-fleets.md,
#: "Events").
EVENT_KINDS = ("blackout", "rolling_reboot", "surge", "partition")

# --- the histogram ------------------------------------------------------------------------

#: Sub-buckets per power of two (2**_SUB_BITS): a bucket is at most 1/128 of its lower bound
#: wide, so a percentile read as its bucket's upper bound is within 0.8 % of the true value.
_SUB_BITS = 7
#: Values below 2 * 128 µs get a bucket each; the bucket of a larger value keeps its top 8 bits.
_TOP_BITS = _SUB_BITS + 1
_EXACT_BELOW = 1 << _TOP_BITS


def _bucket(us: int) -> int:
    """The bucket index of ``us``: the value itself below 256, else the power of two and the
    top 8 bits, packed so that indexes sort as values do. Integers and shifts only."""
    shift = us.bit_length() - _TOP_BITS
    return us if shift <= 0 else (shift << _SUB_BITS) + (us >> shift)


def bucket_bounds(index: int) -> tuple[int, int]:
    """The smallest and largest value (µs) of bucket ``index``: the inverse of :func:`_bucket`."""
    if index < _EXACT_BELOW:
        return index, index
    shift = (index >> _SUB_BITS) - 1
    top = index - (shift << _SUB_BITS)
    return top << shift, ((top + 1) << shift) - 1


class Histogram:
    """Latencies in integer microseconds, in log-linear buckets of ~1 % relative width.

    Stored sparse (bucket index -> count), so a histogram of one second with a handful of
    calls costs a few dict entries; ``min``, ``max`` and ``total`` are exact. Merging adds
    counts, so it is exact: merged histograms equal one that saw every value.
    """

    __slots__ = ("buckets", "count", "max", "min", "total")

    def __init__(self) -> None:
        #: bucket index (see :func:`_bucket`) -> how many values fell in it
        self.buckets: dict[int, int] = {}
        self.count = 0
        #: exact smallest and largest value; 0 while empty
        self.min = 0
        self.max = 0
        #: exact sum of the values, for the mean
        self.total = 0

    def record(self, us: int) -> None:
        """Count one value of ``us`` microseconds (not negative)."""
        if us < 0:
            raise ValueError(f"a latency cannot be negative: {us} µs")
        # _bucket(us), inline: this is the runner's hot path.
        shift = us.bit_length() - 8
        self._add(us if shift <= 0 else (shift << 7) + (us >> shift), us)

    def _add(self, index: int, us: int) -> None:
        """Count ``us`` (≥ 0) in bucket ``index``, which must be ``_bucket(us)``: lets a
        caller that records one value in two histograms compute its bucket once."""
        buckets = self.buckets
        buckets[index] = buckets.get(index, 0) + 1
        if not self.count:
            self.min = self.max = us
        elif us > self.max:
            self.max = us
        elif us < self.min:
            self.min = us
        self.count += 1
        self.total += us

    def merge(self, other: Histogram) -> None:
        """Add ``other``'s counts to this histogram (in place)."""
        if not other.count:
            return
        buckets = self.buckets
        for index, n in other.buckets.items():
            buckets[index] = buckets.get(index, 0) + n
        if self.count:
            self.min = min(self.min, other.min)
            self.max = max(self.max, other.max)
        else:
            self.min, self.max = other.min, other.max
        self.count += other.count
        self.total += other.total

    @property
    def mean(self) -> float:
        """The exact mean in µs; raises ValueError when empty."""
        if not self.count:
            raise ValueError("the mean of an empty histogram is undefined")
        return self.total / self.count

    def percentile(self, q: float) -> int:
        """The ``q``-th percentile (0-100) in µs: the upper bound of the bucket holding the
        value of rank ceil(q/100 * count), clamped to the exact ``min`` and ``max``.

        Never below the true value and at most 0.8 % above it. Raises ValueError when empty:
        a percentile of no values is undefined, and a caller that shows 0 would lie.
        """
        if not 0 <= q <= 100:
            raise ValueError(f"a percentile is between 0 and 100, not {q}")
        if not self.count:
            raise ValueError("the percentile of an empty histogram is undefined")
        # Exact decimal arithmetic: 99.9 % of 1000 values is rank 999, not 1000.
        rank = max(1, math.ceil(Fraction(str(q)) * self.count / 100))
        seen = 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                return max(self.min, min(bucket_bounds(index)[1], self.max))
        return self.max  # not reached: the counts add up to self.count

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Histogram):
            return NotImplemented
        return (self.count, self.min, self.max, self.total, self.buckets) == (
            other.count,
            other.min,
            other.max,
            other.total,
            other.buckets,
        )

    def __repr__(self) -> str:
        return f"<Histogram count={self.count} min={self.min} max={self.max}>"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: buckets are keyed by their lower bound in µs, as a string, in order, so
        a reader needs no knowledge of the bucket scheme to plot them."""
        return {
            "count": self.count,
            "min": self.min,
            "max": self.max,
            "sum": self.total,
            "buckets": {
                str(bucket_bounds(index)[0]): self.buckets[index] for index in sorted(self.buckets)
            },
        }

    @classmethod
    def from_dict(cls, data: object, *, source: str | None = None) -> Histogram:
        """The histogram :meth:`to_dict` wrote; ValueError names what is wrong."""
        from mockpoint.load.stats_reader import Reader  # it builds these classes

        return Reader(source).histogram(data, "histogram")


class ActionStats:
    """The calls of one OCPP action that the charge points sent (OCPP-J 1.6 §4.2).

    Every completed call is exactly one of: ok (CALLRESULT), a CALLERROR (by code), a
    timeout, lost (the connection went away while it was in flight) or invalid (the answer
    broke the schema or the protocol). Latencies are those of answered calls, CALLRESULTs and
    CALLERRORs alike: a timeout's "latency" is the timeout, and would only hide the answers.
    """

    __slots__ = ("callerrors", "count", "histogram", "invalid", "lost", "ok", "timeouts")

    def __init__(self) -> None:
        self.count = 0
        self.ok = 0
        self.timeouts = 0
        self.lost = 0
        self.invalid = 0
        #: CALLERROR code (OCPP-J 1.6 §4.2.3) -> count, at most MAX_KEYS codes
        self.callerrors: dict[str, int] = {}
        self.histogram = Histogram()

    @property
    def errors(self) -> int:
        """Calls that did not end in a CALLRESULT."""
        return self.count - self.ok

    def merge(self, other: ActionStats) -> None:
        self.count += other.count
        self.ok += other.ok
        self.timeouts += other.timeouts
        self.lost += other.lost
        self.invalid += other.invalid
        _merge_capped(self.callerrors, other.callerrors)
        self.histogram.merge(other.histogram)

    def to_dict(self, *, derived: bool = True) -> dict[str, Any]:
        return {
            "count": self.count,
            "ok": self.ok,
            "errors": self.errors,
            "timeouts": self.timeouts,
            "lost": self.lost,
            "invalid": self.invalid,
            "callerrors": _sorted(self.callerrors),
            **(_latency_summary(self.histogram) if derived else {}),
            "histogram": self.histogram.to_dict(),
        }


class TimelinePoint:
    """One wall-clock second: the calls that completed in it and the charge points connected.

    ``connected`` is a gauge the shard samples about once a second; None when no sample fell
    in this second. Merging shards adds the gauges of a second: their charge points are
    disjoint, so the sum is how many were connected in all.
    """

    __slots__ = ("calls", "connected", "errors", "histogram")

    def __init__(self) -> None:
        self.calls = 0
        self.errors = 0
        self.connected: int | None = None
        self.histogram = Histogram()

    def merge(self, other: TimelinePoint) -> None:
        self.calls += other.calls
        self.errors += other.errors
        if other.connected is not None:
            self.connected = (self.connected or 0) + other.connected
        self.histogram.merge(other.histogram)


@dataclass(frozen=True)
class EventRecord:
    """A fleet's event as shards applied it (docs/load-fleets.md, "Events").

    ``at`` and ``until`` are epoch seconds: when it struck, and when the last charge point
    it touched was let back (power or network back, reconnected; None when that does not
    apply, as for a surge). ``charge_points``: how many it touched. ``label``: what it was,
    the same text on every shard (``blackout of 50% for 30s``). The shards' records of one
    event, the same kind and label at the same second, merge into one
    (:meth:`LoadStats.merge`).
    """

    kind: str
    at: float
    until: float | None
    charge_points: int
    label: str

    @property
    def duration(self) -> float | None:
        """Seconds from ``at`` to ``until``; None without ``until``."""
        return None if self.until is None else max(0.0, self.until - self.at)

    def key(self) -> tuple[str, str, int]:
        """What the records of one event share: its kind, its label and its second."""
        return self.kind, self.label, math.floor(self.at + 0.5)

    def merged(self, other: EventRecord) -> EventRecord:
        """The record of one event that two shards applied (the same :meth:`key`)."""
        untils = [u for u in (self.until, other.until) if u is not None]
        return EventRecord(
            kind=self.kind,
            at=min(self.at, other.at),
            until=max(untils) if untils else None,
            charge_points=self.charge_points + other.charge_points,
            label=self.label,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "at": self.at,
            "until": self.until,
            "charge_points": self.charge_points,
            "label": self.label,
        }


class LoadStats:
    """Everything one shard, or a merge of shards, knows about a load run.

    The runner calls the recording methods as things happen and increments ``messages_in``
    and ``messages_out`` itself; it sets ``finished_at`` at the end. Times are epoch seconds
    from the runner's clock: nothing here reads a clock, so tests drive it.
    """

    __slots__ = (
        "_last_sample",
        "abandoned",
        "abandoned_reasons",
        "actions",
        "dropped",
        "events",
        "failed",
        "finished_at",
        "iterations",
        "messages_in",
        "messages_out",
        "not_supported",
        "opened",
        "ramp_seconds",
        "received",
        "recoveries",
        "rss_baseline_bytes",
        "rss_bytes",
        "scenarios",
        "shard_numbers",
        "shard_of",
        "started_at",
        "step_failures",
        "steps_failed",
        "steps_passed",
        "target",
        "timeline",
        "workers",
    )

    def __init__(self, target: int, started_at: float) -> None:
        #: charge points planned
        self.target = target
        self.started_at = started_at
        self.finished_at = started_at
        #: how many workers' statistics are merged in here (worker processes, Ray actors, or
        #: the one loop of ``--workers 0``)
        self.workers = 1
        #: which shards of a run of ``--shard I/N`` these are: N, and the I's (1-based, as
        #: typed); 1 of 1 for a run without ``--shard``. ``shard_of`` is None for results of
        #: earlier versions, which do not say.
        self.shard_of: int | None = 1
        self.shard_numbers: frozenset[int] = frozenset({1})
        #: per action the charge points sent
        self.actions: dict[str, ActionStats] = {}
        #: connections opened, refused (reason -> count) and lost while open, not on purpose
        self.opened = 0
        self.failed: dict[str, int] = {}
        self.dropped = 0
        #: WebSocket text messages received and sent
        self.messages_in = 0
        self.messages_out = 0
        self.steps_passed = 0
        self.steps_failed = 0
        #: failing step's description -> count, at most MAX_KEYS descriptions
        self.step_failures: dict[str, int] = {}
        #: scenario passes completed
        self.iterations = 0
        #: a charge point whose pass failed recovers before its next (its transactions
        #: stopped, cables out, faults cleared): recoveries done; charge points that could
        #: not recover, or failed too many passes in a row, and left the run, by why (the
        #: first line; at most MAX_KEYS reasons)
        self.recoveries = 0
        self.abandoned = 0
        self.abandoned_reasons: dict[str, int] = {}
        #: CSMS-initiated requests received, by action
        self.received: dict[str, int] = {}
        #: those of them mockpoint does not implement, answered NotSupported: "not supported
        #: here", never a failure (docs/behaviour.md, "Requests mockpoint does not implement")
        self.not_supported: dict[str, int] = {}
        #: epoch second -> what happened in it
        self.timeline: dict[int, TimelinePoint] = {}
        #: what running cost: resident memory of the shards' processes with every charge
        #: point connected and before the first connected (bytes, summed over shards), and
        #: seconds from the start to the last connection opened (the slowest shard's)
        self.rss_bytes = 0
        self.rss_baseline_bytes = 0
        self.ramp_seconds = 0.0
        #: in a run of a fleet, each group's own statistics by its name, figures the run's
        #: include (their own ``scenarios`` empty); empty for a run of one scenario file
        self.scenarios: dict[str, LoadStats] = {}
        #: the fleet's events the charge points went through, by time (:meth:`event_applied`)
        self.events: list[EventRecord] = []
        self._last_sample: tuple[int, int] | None = None

    @property
    def connect_rate(self) -> float:
        """Connections opened per second while ramping up (0 when unknown)."""
        return self.opened / self.ramp_seconds if self.ramp_seconds > 0 else 0.0

    # --- recording (hot path) -------------------------------------------------------------

    def call_finished(self, action: str, latency_s: float, outcome: str | None, now: float) -> None:
        """A call the charge point sent completed at ``now``, ``latency_s`` after it was sent.

        ``outcome``: None for a CALLRESULT, :data:`TIMEOUT`, :data:`LOST`, :data:`INVALID`,
        or else the CALLERROR's code.
        """
        stats = self.actions.get(action)
        if stats is None:
            stats = self.actions[action] = ActionStats()
        stats.count += 1
        second = int(now)
        point = self.timeline.get(second)
        if point is None:
            point = self.timeline[second] = TimelinePoint()
        point.calls += 1
        if outcome is None:
            stats.ok += 1
        else:
            point.errors += 1
            if outcome == TIMEOUT:
                stats.timeouts += 1
                return
            if outcome == LOST:
                stats.lost += 1
                return
            if outcome == INVALID:
                stats.invalid += 1
                return
            codes = stats.callerrors
            if outcome in codes:
                codes[outcome] += 1
            else:
                _add_capped(codes, outcome, 1)
        # Rounded to the µs. A wall clock stepped back can make a latency negative: it counts
        # as 0 rather than stopping the run.
        us = int(latency_s * 1_000_000 + 0.5)
        if us < 0:
            us = 0
        shift = us.bit_length() - 8
        index = us if shift <= 0 else (shift << 7) + (us >> shift)
        stats.histogram._add(index, us)
        point.histogram._add(index, us)

    def connection_opened(self) -> None:
        self.opened += 1

    def connection_failed(self, reason: str) -> None:
        """A connection attempt failed: refused, DNS, TLS, upgrade, timeout (``reason``)."""
        failed = self.failed
        if reason in failed:
            failed[reason] += 1
        else:
            _add_capped(failed, reason, 1)

    def connection_dropped(self) -> None:
        """An open connection was lost, and not because the scenario closed it."""
        self.dropped += 1

    def step_finished(self, passed: bool, description: str) -> None:
        if passed:
            self.steps_passed += 1
            return
        self.steps_failed += 1
        failures = self.step_failures
        if description in failures:
            failures[description] += 1
        else:
            _add_capped(failures, description, 1)

    def iteration_finished(self) -> None:
        self.iterations += 1

    def recovered(self) -> None:
        """A charge point recovered after a failed pass (see ``load/shard.py``)."""
        self.recoveries += 1

    def charge_point_abandoned(self, reason: str) -> None:
        """A charge point left the run: it could not recover, or failed too many passes in
        a row (``reason``, one line)."""
        self.abandoned += 1
        reasons = self.abandoned_reasons
        if reason in reasons:
            reasons[reason] += 1
        else:
            _add_capped(reasons, reason, 1)

    def request_received(self, action: str, *, not_supported: bool = False) -> None:
        """The CSMS sent a request (a CALL) of ``action`` to a charge point; with
        ``not_supported``, one mockpoint does not implement (answered NotSupported)."""
        for counts in (self.received, self.not_supported) if not_supported else (self.received,):
            if action in counts:
                counts[action] += 1
            else:
                _add_capped(counts, action, 1)

    def event_applied(
        self, kind: str, at: float, until: float | None, charge_points: int, label: str
    ) -> None:
        """The shard applied a fleet's event (see :class:`EventRecord`): ``kind`` one of
        :data:`EVENT_KINDS`, at ``at``, touching ``charge_points`` of its charge points, the
        last of them let back at ``until``. Recorded twice, one event counts once, with the
        charge points of both."""
        if kind not in EVENT_KINDS:
            raise ValueError(f"an event is one of {', '.join(EVENT_KINDS)}, not {kind!r}")
        if charge_points < 0:
            raise ValueError(f"an event touches 0 or more charge points, not {charge_points}")
        _add_event(self.events, EventRecord(kind, at, until, charge_points, label))

    def sample_connected(self, now: float, connected: int) -> None:
        """``connected`` charge points of this shard are connected at ``now``.

        Meant to be called about once a second. A sampler that drifts can skip a second
        (x.99 then x+2.00): the seconds skipped since the last sample get that sample's
        value, so merged shards do not show a dip that never happened.
        """
        second = int(now)
        timeline = self.timeline
        last = self._last_sample
        if last is not None:
            for skipped in range(last[0] + 1, second):
                point = timeline.get(skipped)
                if point is None:
                    point = timeline[skipped] = TimelinePoint()
                point.connected = last[1]
        point = timeline.get(second)
        if point is None:
            point = timeline[second] = TimelinePoint()
        point.connected = connected
        self._last_sample = (second, connected)

    # --- merging --------------------------------------------------------------------------

    def merge(self, other: LoadStats) -> None:
        """Add ``other``'s statistics to these (in place); exact. Scenarios merge by name
        (one only ``other`` has is copied), events as :meth:`event_applied` adds them."""
        if other is self:
            raise ValueError("statistics cannot be merged into themselves")
        self.shard_of, self.shard_numbers = _merged_shards(self, other)
        self.target += other.target
        self.workers += other.workers
        self.started_at = min(self.started_at, other.started_at)
        self.finished_at = max(self.finished_at, other.finished_at)
        for name, theirs in other.actions.items():
            mine = self.actions.get(name)
            if mine is None:
                mine = self.actions[name] = ActionStats()
            mine.merge(theirs)
        self.opened += other.opened
        _merge_capped(self.failed, other.failed)
        self.dropped += other.dropped
        self.messages_in += other.messages_in
        self.messages_out += other.messages_out
        self.steps_passed += other.steps_passed
        self.steps_failed += other.steps_failed
        _merge_capped(self.step_failures, other.step_failures)
        self.iterations += other.iterations
        self.recoveries += other.recoveries
        self.abandoned += other.abandoned
        _merge_capped(self.abandoned_reasons, other.abandoned_reasons)
        _merge_capped(self.received, other.received)
        _merge_capped(self.not_supported, other.not_supported)
        self.rss_bytes += other.rss_bytes
        self.rss_baseline_bytes += other.rss_baseline_bytes
        self.ramp_seconds = max(self.ramp_seconds, other.ramp_seconds)
        for second, point in other.timeline.items():
            own = self.timeline.get(second)
            if own is None:
                own = self.timeline[second] = TimelinePoint()
            own.merge(point)
        for name, group in other.scenarios.items():
            own_group = self.scenarios.get(name)
            if own_group is None:
                self.scenarios[name] = LoadStats.merged([group])
            else:
                own_group.merge(group)
        for record in other.events:
            _add_event(self.events, record)

    @classmethod
    def merged(cls, stats: Iterable[LoadStats]) -> LoadStats:
        """A new LoadStats holding the merge of ``stats`` (at least one); none is changed."""
        items = iter(stats)
        first = next(items, None)
        if first is None:
            raise ValueError("there are no statistics to merge")
        result = cls(target=0, started_at=first.started_at)
        result.finished_at = first.finished_at
        result.workers = 0
        result.shard_of, result.shard_numbers = first.shard_of, frozenset()
        result.merge(first)
        for item in items:
            result.merge(item)
        return result

    # --- derived --------------------------------------------------------------------------

    @property
    def calls(self) -> int:
        """Calls the charge points sent that completed, whatever their outcome."""
        return sum(action.count for action in self.actions.values())

    @property
    def ok(self) -> int:
        return sum(action.ok for action in self.actions.values())

    @property
    def errors(self) -> int:
        return sum(action.errors for action in self.actions.values())

    @property
    def timeouts(self) -> int:
        return sum(action.timeouts for action in self.actions.values())

    @property
    def lost(self) -> int:
        return sum(action.lost for action in self.actions.values())

    @property
    def invalid(self) -> int:
        return sum(action.invalid for action in self.actions.values())

    @property
    def error_rate(self) -> float:
        """Errors as a fraction of calls (0 to 1); 0.0 without calls."""
        calls = self.calls
        return self.errors / calls if calls else 0.0

    @property
    def connect_failures(self) -> int:
        return sum(self.failed.values())

    @property
    def connection_attempts(self) -> int:
        return self.opened + self.connect_failures

    @property
    def duration(self) -> float:
        return max(0.0, self.finished_at - self.started_at)

    @property
    def throughput(self) -> float:
        """Calls answered with a CALLRESULT per second of the run; 0.0 without a duration."""
        duration = self.duration
        return self.ok / duration if duration > 0 else 0.0

    def histogram(self) -> Histogram:
        """The latencies of every action's answered calls, merged into a new histogram."""
        result = Histogram()
        for action in self.actions.values():
            result.merge(action.histogram)
        return result

    # --- the JSON document ----------------------------------------------------------------

    def to_dict(
        self,
        thresholds: Sequence[ThresholdResult] | None = None,
        *,
        timeline: bool = True,
        derived: bool = True,
    ) -> dict[str, Any]:
        """The ``mockpoint-load/1`` document: the raw counts, which :meth:`from_dict` reads
        back, and derived fields (summary, percentiles, errors) for human readers, which
        :meth:`from_dict` ignores. Keys are sorted wherever data chooses them, so the same
        statistics always give the same text.

        ``timeline=False`` writes ``"timeline": null``: a live-progress snapshot taken every
        second needs no timeline, which grows by a histogram per second of the run, and
        ``derived=False`` leaves out the percentiles, which its reader computes from the
        merged histograms anyway.

        ``events`` is always there (``[]`` without a fleet); ``scenarios``, each group's own
        document without a timeline, events or scenarios of its own, only for a fleet, in
        snapshots too.
        """
        document: dict[str, Any] = {
            "format": FORMAT,
            "target": self.target,
            "workers": self.workers,
            "shard": None
            if self.shard_of is None
            else {"of": self.shard_of, "numbers": sorted(self.shard_numbers)},
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration": round(self.duration, 6),
            "summary": {
                "calls": self.calls,
                "ok": self.ok,
                "errors": self.errors,
                "error_rate": round(self.error_rate, 6),
                "throughput": round(self.throughput, 3),
                **(_latency_summary(self.histogram()) if derived else {}),
            },
            "actions": {
                name: self.actions[name].to_dict(derived=derived) for name in sorted(self.actions)
            },
            "connections": {
                "opened": self.opened,
                "failed": _sorted(self.failed),
                "dropped": self.dropped,
            },
            "messages": {"in": self.messages_in, "out": self.messages_out},
            "steps": {
                "passed": self.steps_passed,
                "failed": self.steps_failed,
                "failures": _sorted(self.step_failures),
                "iterations": self.iterations,
            },
            "charge_points": {
                "recoveries": self.recoveries,
                "abandoned": self.abandoned,
                "abandoned_reasons": _sorted(self.abandoned_reasons),
            },
            "received": _sorted(self.received),
            "not_supported": _sorted(self.not_supported),
            "resources": {
                "rss_bytes": self.rss_bytes,
                "rss_baseline_bytes": self.rss_baseline_bytes,
                "ramp_seconds": round(self.ramp_seconds, 6),
                "connect_rate": round(self.connect_rate, 3),
            },
            "events": [record.to_dict() for record in self.events],
            "timeline": None
            if not timeline
            else [
                {
                    "t": second,
                    "connected": point.connected,
                    "calls": point.calls,
                    "errors": point.errors,
                    "histogram": point.histogram.to_dict(),
                }
                for second, point in sorted(self.timeline.items())
            ],
        }
        if self.scenarios:
            document["scenarios"] = {
                name: self.scenarios[name]._scenario_dict(derived)
                for name in sorted(self.scenarios)
            }
        if thresholds is not None:
            document["thresholds"] = [result.to_dict() for result in thresholds]
        return document

    def _scenario_dict(self, derived: bool = True) -> dict[str, Any]:
        """The document of a group's statistics inside the run's: no timeline (the run's
        has one), no events (the run's has them), no scenarios of its own."""
        document = self.to_dict(timeline=False, derived=derived)
        del document["events"]
        document.pop("scenarios", None)
        return document

    @classmethod
    def from_dict(cls, data: object, *, source: str | None = None) -> LoadStats:
        """The statistics of a :meth:`to_dict` document (``mockpoint merge`` reads shards'
        files with it). Raises ValueError naming ``source`` and the field for anything
        malformed or inconsistent, e.g. ``shard-2.json: actions.Heartbeat.ok: ...``."""
        from mockpoint.load.stats_reader import Reader  # it builds these classes

        return Reader(source).load_stats(data)


def _merged_shards(one: LoadStats, other: LoadStats) -> tuple[int | None, frozenset[int]]:
    """The shards two statistics hold together: the same N, the I's of both (the workers of
    one shard share its number). Unknown when one of them does not say (an earlier
    version's result); ValueError for shards of runs split differently."""
    if one.shard_of is None or other.shard_of is None:
        return None, frozenset()
    if one.shard_of != other.shard_of:
        raise ValueError(
            f"shards of {one.shard_of} and shards of {other.shard_of} are not of one run"
        )
    return one.shard_of, one.shard_numbers | other.shard_numbers


def _add_event(events: list[EventRecord], record: EventRecord) -> None:
    """Add ``record`` to ``events`` (kept by time, then kind and label), merged into the
    record of the same event if there is one: so shards' records merge in any order."""
    key = record.key()
    for index, known in enumerate(events):
        if known.key() == key:
            events[index] = known.merged(record)
            break
    else:
        events.append(record)
    events.sort(key=lambda r: (r.at, r.kind, r.label))


def _latency_summary(histogram: Histogram) -> dict[str, float | None]:
    """p50, p95, p99 and max in ms (to the µs) for readers; None without answered calls."""
    if not histogram.count:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "p50_ms": histogram.percentile(50) / 1000,
        "p95_ms": histogram.percentile(95) / 1000,
        "p99_ms": histogram.percentile(99) / 1000,
        "max_ms": histogram.max / 1000,
    }


# --- bounded counters ---------------------------------------------------------------------


def _add_capped(counts: dict[str, int], key: str, n: int) -> None:
    """Add ``n`` to ``counts[key]`` keeping at most MAX_KEYS keys besides OTHER.

    When full, the keys kept are the ones that sort first, and a key pushed out gives its
    count to OTHER. The kept set is then the MAX_KEYS smallest keys ever seen, each with its
    exact count, whatever the order of events or of merges: merging stays exact.
    """
    if key in counts:
        counts[key] += n
        return
    if key == OTHER:
        counts[OTHER] = n
        return
    if len(counts) - (OTHER in counts) < MAX_KEYS:
        counts[key] = n
        return
    largest = max(k for k in counts if k != OTHER)
    if key < largest:
        counts[OTHER] = counts.get(OTHER, 0) + counts.pop(largest)
        counts[key] = n
    else:
        counts[OTHER] = counts.get(OTHER, 0) + n


def _merge_capped(counts: dict[str, int], other: Mapping[str, int]) -> None:
    for key, n in other.items():
        _add_capped(counts, key, n)


def _sorted(counts: Mapping[str, int]) -> dict[str, int]:
    return {key: counts[key] for key in sorted(counts)}


# --- reading a document back --------------------------------------------------------------

"""Reading a ``mockpoint-load/1`` document back into :class:`LoadStats` (``mockpoint merge``,
the shards' results), with an error that names the source and the field for anything
malformed."""

from __future__ import annotations

from typing import Any, NoReturn

from mockpoint.load.stats import (
    EVENT_KINDS,
    FORMAT,
    ActionStats,
    EventRecord,
    Histogram,
    LoadStats,
    TimelinePoint,
    _add_capped,
    _add_event,
    _bucket,
    bucket_bounds,
)


class Reader:
    """Reads a ``mockpoint-load/1`` document, failing with the source and the field's path.

    Derived fields are not read: they are recomputed, so a hand-edited summary cannot
    disagree with the counts. The counts are checked against each other instead.
    """

    def __init__(self, source: str | None, within: str = "") -> None:
        self.source = source
        self.prefix = f"{source}: " if source else ""
        #: the path of the document read inside the source's (``scenarios.NAME``), or ""
        self.within = within

    def fail(self, path: str, problem: str) -> NoReturn:
        where = f"{self.within}.{path}" if self.within else path
        raise ValueError(f"{self.prefix}{where}: {problem}")

    def mapping(self, value: object, path: str) -> dict[str, Any]:
        if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
            self.fail(path, f"expected an object, got {_kind(value)}")
        return value

    def field(self, data: dict[str, Any], key: str, path: str) -> Any:
        if key not in data:
            self.fail(f"{path}.{key}" if path else key, "missing")
        return data[key]

    def count(self, data: dict[str, Any], key: str, path: str = "") -> int:
        value = self.field(data, key, path)
        where = f"{path}.{key}" if path else key
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            self.fail(where, f"expected a whole number ≥ 0, got {value!r}")
        return value

    def time(self, data: dict[str, Any], key: str) -> float:
        value = self.field(data, key, "")
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not _plausible_epoch(value)
        ):
            self.fail(key, f"expected epoch seconds (0 to 1e11), got {value!r}")
        return float(value)

    def counts(self, value: object, path: str) -> dict[str, int]:
        data = self.mapping(value, path)
        result: dict[str, int] = {}
        for key in data:
            _add_capped(result, key, self.count(data, key, path))
        return result

    def histogram(self, value: object, path: str) -> Histogram:
        data = self.mapping(value, path)
        histogram = Histogram()
        histogram.count = self.count(data, "count", path)
        histogram.min = self.count(data, "min", path)
        histogram.max = self.count(data, "max", path)
        histogram.total = self.count(data, "sum", path)
        buckets = self.mapping(self.field(data, "buckets", path), f"{path}.buckets")
        for text, n in buckets.items():
            where = f"{path}.buckets.{text}"
            # Digits only, and few: int() of thousands of digits raises a message of its own.
            lower = int(text) if text.isascii() and text.isdigit() and len(text) < 30 else -1
            index = _bucket(lower) if lower >= 0 else -1
            if index < 0 or bucket_bounds(index)[0] != lower:
                self.fail(where, "not the lower bound of a bucket (µs)")
            if (
                not isinstance(n, int)
                or isinstance(n, bool)
                or n <= 0
                or index in histogram.buckets
            ):
                self.fail(where, f"expected a count ≥ 1, got {n!r}")
            histogram.buckets[index] = n
        self.check_histogram(histogram, path)
        return histogram

    def check_histogram(self, histogram: Histogram, path: str) -> None:
        counted = sum(histogram.buckets.values())
        if counted != histogram.count:
            self.fail(path, f"count is {histogram.count} but the buckets hold {counted}")
        if not histogram.count:
            if histogram.min or histogram.max or histogram.total:
                self.fail(path, "an empty histogram has min, max and sum 0")
            return
        if _bucket(histogram.min) != min(histogram.buckets):
            self.fail(f"{path}.min", "not in the lowest bucket")
        if _bucket(histogram.max) != max(histogram.buckets):
            self.fail(f"{path}.max", "not in the highest bucket")
        if (
            not histogram.min * histogram.count
            <= histogram.total
            <= histogram.max * histogram.count
        ):
            self.fail(f"{path}.sum", "not between count × min and count × max")

    def action(self, value: object, path: str) -> ActionStats:
        data = self.mapping(value, path)
        stats = ActionStats()
        stats.count = self.count(data, "count", path)
        stats.ok = self.count(data, "ok", path)
        stats.timeouts = self.count(data, "timeouts", path)
        stats.lost = self.count(data, "lost", path)
        stats.invalid = self.count(data, "invalid", path)
        stats.callerrors = self.counts(self.field(data, "callerrors", path), f"{path}.callerrors")
        stats.histogram = self.histogram(self.field(data, "histogram", path), f"{path}.histogram")
        callerrors = sum(stats.callerrors.values())
        outcomes = stats.ok + stats.timeouts + stats.lost + stats.invalid + callerrors
        if outcomes != stats.count:
            self.fail(
                f"{path}.count",
                f"is {stats.count} but ok, callerrors, timeouts, lost and invalid add up to "
                f"{outcomes}",
            )
        if stats.histogram.count != stats.ok + callerrors:
            self.fail(
                f"{path}.histogram.count",
                f"is {stats.histogram.count} but {stats.ok + callerrors} calls were answered "
                "(ok and CALLERRORs)",
            )
        return stats

    def timeline(self, value: object, stats: LoadStats) -> None:
        if value is None:
            return  # left out on purpose (a progress snapshot)
        if not isinstance(value, list):
            self.fail("timeline", f"expected a list, got {_kind(value)}")
        for position, item in enumerate(value):
            path = f"timeline[{position}]"
            data = self.mapping(item, path)
            second = self.field(data, "t", path)
            if (
                not isinstance(second, int)
                or isinstance(second, bool)
                or not _plausible_epoch(second)
            ):
                self.fail(f"{path}.t", f"expected an epoch second (0 to 1e11), got {second!r}")
            if second in stats.timeline:
                self.fail(f"{path}.t", f"second {second} appears twice")
            point = TimelinePoint()
            point.calls = self.count(data, "calls", path)
            point.errors = self.count(data, "errors", path)
            connected = self.field(data, "connected", path)
            if connected is not None:
                point.connected = self.count(data, "connected", path)
            point.histogram = self.histogram(
                self.field(data, "histogram", path), f"{path}.histogram"
            )
            if point.errors > point.calls or point.histogram.count > point.calls:
                self.fail(path, "more errors or latencies than calls")
            stats.timeline[second] = point
        for name, total, counted in (
            ("calls", stats.calls, sum(p.calls for p in stats.timeline.values())),
            ("errors", stats.errors, sum(p.errors for p in stats.timeline.values())),
        ):
            if total != counted:
                self.fail("timeline", f"holds {counted} {name}, the actions {total}")

    def shard(self, value: object) -> tuple[int | None, frozenset[int]]:
        """``{"of": N, "numbers": [I, ...]}``: which shards of a ``--shard I/N`` run (1-based);
        (None, {}) for null or absent, as results of earlier versions have it."""
        if value is None:
            return None, frozenset()
        data = self.mapping(value, "shard")
        of = self.count(data, "of", "shard")
        if of < 1:
            self.fail("shard.of", f"expected a number of shards ≥ 1, got {of}")
        numbers = self.field(data, "numbers", "shard")
        if not isinstance(numbers, list) or not numbers:
            self.fail("shard.numbers", f"expected a list of shard numbers, got {numbers!r}")
        seen: set[int] = set()
        for index, number in enumerate(numbers):
            where = f"shard.numbers[{index}]"
            if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= of:
                self.fail(where, f"expected a shard number from 1 to {of}, got {number!r}")
            if number in seen:
                self.fail(where, f"shard {number} appears twice")
            seen.add(number)
        return of, frozenset(seen)

    def charge_points(self, value: object, stats: LoadStats) -> None:
        """Recoveries and charge points that left the run; results of earlier versions have
        no ``charge_points`` and count 0 of each."""
        if value is None:
            return
        data = self.mapping(value, "charge_points")
        stats.recoveries = self.count(data, "recoveries", "charge_points")
        stats.abandoned = self.count(data, "abandoned", "charge_points")
        stats.abandoned_reasons = self.counts(
            self.field(data, "abandoned_reasons", "charge_points"),
            "charge_points.abandoned_reasons",
        )
        if sum(stats.abandoned_reasons.values()) != stats.abandoned:
            self.fail(
                "charge_points.abandoned_reasons",
                f"do not add up to charge_points.abandoned ({stats.abandoned})",
            )

    def events(self, value: object, stats: LoadStats) -> None:
        """The fleet's events; results of earlier versions have none."""
        if value is None:
            return
        if not isinstance(value, list):
            self.fail("events", f"expected a list, got {_kind(value)}")
        for position, item in enumerate(value):
            path = f"events[{position}]"
            data = self.mapping(item, path)
            kind = self.field(data, "kind", path)
            if kind not in EVENT_KINDS:
                self.fail(f"{path}.kind", f"expected one of {', '.join(EVENT_KINDS)}, got {kind!r}")
            at = self.field(data, "at", path)
            if not isinstance(at, int | float) or isinstance(at, bool) or not _plausible_epoch(at):
                self.fail(f"{path}.at", f"expected epoch seconds (0 to 1e11), got {at!r}")
            until = self.field(data, "until", path)
            if until is not None and (
                not isinstance(until, int | float)
                or isinstance(until, bool)
                or not at <= until < 1e11
            ):
                self.fail(f"{path}.until", f"expected null or epoch seconds from at, got {until!r}")
            label = self.field(data, "label", path)
            if not isinstance(label, str):
                self.fail(f"{path}.label", f"expected a text, got {_kind(label)}")
            record = EventRecord(
                kind=kind,
                at=float(at),
                until=None if until is None else float(until),
                charge_points=self.count(data, "charge_points", path),
                label=label,
            )
            _add_event(stats.events, record)

    def scenarios(self, value: object, stats: LoadStats) -> None:
        """Each group's statistics in a run of a fleet, read as documents of their own;
        results of runs of one scenario, and of earlier versions, have none."""
        if value is None:
            return
        for name, item in self.mapping(value, "scenarios").items():
            where = f"scenarios.{name}"
            if not name:
                self.fail(where, "a scenario's name is not empty")
            data = self.mapping(item, where)
            for key in ("scenarios", "events"):
                if key in data:
                    self.fail(f"{where}.{key}", "a scenario's statistics have none: the run's do")
            stats.scenarios[name] = Reader(self.source, where).load_stats(data)

    def load_stats(self, value: object) -> LoadStats:
        data = self.mapping(value, "document")
        tag = data.get("format")
        if tag != FORMAT:
            self.fail(
                "format", f"expected {FORMAT!r} (a `mockpoint load --json` file), got {tag!r}"
            )
        stats = LoadStats(
            target=self.count(data, "target"), started_at=self.time(data, "started_at")
        )
        stats.finished_at = self.time(data, "finished_at")
        # "shards": what results of earlier versions call their workers
        workers = "workers" if "workers" in data or "shards" not in data else "shards"
        stats.workers = self.count(data, workers)
        if stats.workers < 1:
            self.fail(workers, "at least one worker made these statistics")
        stats.shard_of, stats.shard_numbers = self.shard(data.get("shard"))
        actions = self.mapping(self.field(data, "actions", ""), "actions")
        for name in sorted(actions):
            stats.actions[name] = self.action(actions[name], f"actions.{name}")
        connections = self.mapping(self.field(data, "connections", ""), "connections")
        stats.opened = self.count(connections, "opened", "connections")
        stats.failed = self.counts(
            self.field(connections, "failed", "connections"), "connections.failed"
        )
        stats.dropped = self.count(connections, "dropped", "connections")
        messages = self.mapping(self.field(data, "messages", ""), "messages")
        stats.messages_in = self.count(messages, "in", "messages")
        stats.messages_out = self.count(messages, "out", "messages")
        steps = self.mapping(self.field(data, "steps", ""), "steps")
        stats.steps_passed = self.count(steps, "passed", "steps")
        stats.steps_failed = self.count(steps, "failed", "steps")
        stats.step_failures = self.counts(self.field(steps, "failures", "steps"), "steps.failures")
        if sum(stats.step_failures.values()) != stats.steps_failed:
            self.fail("steps.failures", f"do not add up to steps.failed ({stats.steps_failed})")
        stats.iterations = self.count(steps, "iterations", "steps")
        self.charge_points(data.get("charge_points"), stats)
        stats.received = self.counts(self.field(data, "received", ""), "received")
        if "not_supported" in data:  # absent from results of earlier versions
            stats.not_supported = self.counts(data["not_supported"], "not_supported")
        resources = data.get("resources")  # absent from results of earlier versions
        if resources is not None:
            resources = self.mapping(resources, "resources")
            stats.rss_bytes = self.count(resources, "rss_bytes", "resources")
            stats.rss_baseline_bytes = self.count(resources, "rss_baseline_bytes", "resources")
            ramp = self.field(resources, "ramp_seconds", "resources")
            if not isinstance(ramp, int | float) or isinstance(ramp, bool) or not 0 <= ramp < 1e9:
                self.fail("resources.ramp_seconds", f"expected seconds ≥ 0, got {ramp!r}")
            stats.ramp_seconds = float(ramp)
        self.timeline(self.field(data, "timeline", ""), stats)
        self.events(data.get("events"), stats)
        self.scenarios(data.get("scenarios"), stats)
        return stats


def _plausible_epoch(seconds: float) -> bool:
    """Plausible epoch seconds: not NaN, not before 1970, not past the year 5000 (a larger
    value would make durations overflow to infinity, which JSON cannot hold)."""
    return 0 <= seconds < 1e11


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__

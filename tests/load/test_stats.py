"""Load statistics: the histogram's precision, the counters, and exact merging of shards."""

from __future__ import annotations

import json
import math
import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockpoint.load.stats import (
    EVENT_KINDS,
    FORMAT,
    INVALID,
    LOST,
    MAX_KEYS,
    OTHER,
    TIMEOUT,
    EventRecord,
    Histogram,
    LoadStats,
)

START = 1_700_000_000.0

# --- Histogram ----------------------------------------------------------------------------


def exact_percentile(values: list[int], q: float) -> int:
    """The value of rank ceil(q/100 * n) of the sorted values: what percentile() estimates."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered) / 100 - 1e-9))
    return ordered[rank - 1]


def histogram_of(values: list[int]) -> Histogram:
    histogram = Histogram()
    for value in values:
        histogram.record(value)
    return histogram


latencies = st.lists(
    st.one_of(st.integers(0, 300), st.integers(0, 60_000_000)), min_size=1, max_size=300
)


@given(latencies, st.sampled_from([1, 10, 50, 90, 95, 99, 99.9, 100]))
def test_percentile_within_one_percent_of_the_exact_value(values: list[int], q: float) -> None:
    estimate = histogram_of(values).percentile(q)
    exact = exact_percentile(values, q)
    # Never below the true value (the bucket's upper bound) and at most 1 % above it.
    assert exact <= estimate <= exact * 1.01


def test_percentile_precision_over_a_wide_range() -> None:
    values = [int(1.37**k) + k for k in range(60)]  # 1 µs to about 2 hours
    histogram = histogram_of(values)
    for q in range(1, 101):
        exact = exact_percentile(values, q)
        assert exact <= histogram.percentile(q) <= exact * 1.01, q


def test_small_values_are_exact() -> None:
    histogram = histogram_of(list(range(256)))
    assert [histogram.percentile(q) for q in (1, 50, 100)] == [2, 127, 255]


def test_percentile_ranks_are_decimal_exact() -> None:
    # 99.9 % of 1000 values is rank 999; binary floating point would make it 1000.
    histogram = histogram_of(list(range(1, 1001)))
    assert histogram.percentile(99.9) == 999
    assert histogram.percentile(100) == 1000


def test_percentile_is_clamped_to_the_exact_max_and_min() -> None:
    histogram = histogram_of([1_000_001])
    assert histogram.percentile(99) == histogram.percentile(1) == 1_000_001
    assert (histogram.min, histogram.max) == (1_000_001, 1_000_001)


def test_empty_histogram_has_no_percentile_or_mean() -> None:
    histogram = Histogram()
    with pytest.raises(ValueError, match="empty"):
        histogram.percentile(50)
    with pytest.raises(ValueError, match="empty"):
        _ = histogram.mean
    with pytest.raises(ValueError, match="between 0 and 100"):
        histogram_of([1]).percentile(101)


def test_negative_latency_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        Histogram().record(-1)


def test_storage_is_sparse() -> None:
    histogram = Histogram()
    assert histogram.buckets == {}
    for _ in range(10_000):
        histogram.record(12_345)
    assert len(histogram.buckets) == 1
    histogram.record(12_346)  # the same 1 % bucket
    histogram.record(50_000_000)
    assert len(histogram.buckets) == 2
    assert histogram.count == 10_002


@given(st.lists(st.integers(0, 10**9)))
def test_buckets_are_keyed_by_lower_bounds_within_one_percent(values: list[int]) -> None:
    for value in values:
        (lower,) = (int(key) for key in histogram_of([value]).to_dict()["buckets"])
        assert lower <= value <= lower + lower / 128


@given(latencies, latencies)
def test_histogram_merge_is_exact(first: list[int], second: list[int]) -> None:
    merged = histogram_of(first)
    merged.merge(histogram_of(second))
    assert merged == histogram_of(first + second)
    assert merged.total == sum(first + second)


def test_merge_into_and_from_empty() -> None:
    histogram = Histogram()
    histogram.merge(Histogram())
    assert histogram == Histogram()
    histogram.merge(histogram_of([5, 700]))
    assert (histogram.min, histogram.max, histogram.count) == (5, 700, 2)


@given(latencies)
def test_histogram_dict_round_trip(values: list[int]) -> None:
    histogram = histogram_of(values)
    data = json.loads(json.dumps(histogram.to_dict()))
    assert Histogram.from_dict(data) == histogram


def test_histogram_equality() -> None:
    assert histogram_of([1, 2]) == histogram_of([2, 1])
    assert histogram_of([1, 2]) != histogram_of([1, 3])
    assert histogram_of([1]) != "a histogram"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"count": 3}, "count is 3 but the buckets hold 2"),
        ({"buckets": {"12a": 2}}, "histogram.buckets.12a: not the lower bound"),
        ({"buckets": {"257": 2}}, "histogram.buckets.257: not the lower bound"),
        ({"buckets": {"100": 0, "1000": 2}}, "expected a count ≥ 1"),
        ({"min": 3}, "histogram.min: not in the lowest bucket"),
        ({"max": 5000}, "histogram.max: not in the highest bucket"),
        ({"sum": 1}, "histogram.sum: not between"),
        ({"count": True}, "histogram.count: expected a whole number ≥ 0, got True"),
        ({"buckets": [1]}, "histogram.buckets: expected an object, got list"),
        ({"buckets": {"9" * 5000: 2}}, "not the lower bound of a bucket"),
    ],
)
def test_malformed_histogram_is_named(change: dict[str, Any], message: str) -> None:
    data = {**histogram_of([100, 1000]).to_dict(), **change}
    with pytest.raises(ValueError, match=message):
        Histogram.from_dict(data, source="x.json")


def test_missing_histogram_field() -> None:
    data = histogram_of([1]).to_dict()
    del data["sum"]
    with pytest.raises(ValueError, match=r"^x\.json: histogram\.sum: missing$"):
        Histogram.from_dict(data, source="x.json")


# --- recording ----------------------------------------------------------------------------


def test_call_outcomes_are_counted_once_each() -> None:
    stats = LoadStats(target=2, started_at=START)
    stats.call_finished("Heartbeat", 0.0123, None, START + 0.5)
    stats.call_finished("Heartbeat", 0.020, "NotImplemented", START + 0.7)
    stats.call_finished("Heartbeat", 30.0, TIMEOUT, START + 1.2)
    stats.call_finished("Heartbeat", 1.0, LOST, START + 1.3)
    stats.call_finished("Heartbeat", 0.005, INVALID, START + 1.4)
    stats.call_finished("Authorize", 0.001, None, START + 1.5)
    heartbeat = stats.actions["Heartbeat"]
    assert (heartbeat.count, heartbeat.ok, heartbeat.errors) == (5, 1, 4)
    assert (heartbeat.timeouts, heartbeat.lost, heartbeat.invalid) == (1, 1, 1)
    assert heartbeat.callerrors == {"NotImplemented": 1}
    # Only answered calls have a latency: the CALLRESULT and the CALLERROR.
    assert heartbeat.histogram.count == 2
    assert (heartbeat.histogram.min, heartbeat.histogram.max) == (12_300, 20_000)
    assert (stats.calls, stats.ok, stats.errors) == (6, 2, 4)
    assert stats.error_rate == pytest.approx(4 / 6)
    first, second = int(START), int(START) + 1
    assert sorted(stats.timeline) == [first, second]
    assert (stats.timeline[first].calls, stats.timeline[first].errors) == (2, 1)
    assert (stats.timeline[second].calls, stats.timeline[second].errors) == (4, 3)
    assert stats.timeline[second].histogram.count == 1
    assert stats.histogram().count == 3


def test_latency_rounds_to_the_microsecond_and_never_goes_negative() -> None:
    stats = LoadStats(target=1, started_at=START)
    stats.call_finished("Heartbeat", 0.0000015, None, START)
    stats.call_finished("Heartbeat", -0.25, None, START)  # a wall clock stepped back
    assert (stats.histogram().min, stats.histogram().max) == (0, 2)


def test_recoveries_and_charge_points_that_left() -> None:
    stats = LoadStats(target=3, started_at=START)
    stats.recovered()
    stats.recovered()
    stats.charge_point_abandoned("5 passes in a row failed; the last: send Heartbeat")
    stats.charge_point_abandoned("5 passes in a row failed; the last: send Heartbeat")
    stats.charge_point_abandoned("could not recover: not connected after 30 s")
    assert (stats.recoveries, stats.abandoned) == (2, 3)
    assert stats.abandoned_reasons == {
        "5 passes in a row failed; the last: send Heartbeat": 2,
        "could not recover: not connected after 30 s": 1,
    }


def test_results_of_earlier_versions_count_no_recoveries() -> None:
    document = sample().to_dict()
    del document["charge_points"]  # written before charge points recovered
    stats = LoadStats.from_dict(document)
    assert (stats.recoveries, stats.abandoned, stats.abandoned_reasons) == (0, 0, {})
    assert stats.steps_failed == 1


def test_connections_messages_steps_received() -> None:
    stats = LoadStats(target=3, started_at=START)
    stats.connection_opened()
    stats.connection_opened()
    stats.connection_failed("refused")
    stats.connection_failed("refused")
    stats.connection_failed("tls")
    stats.connection_dropped()
    stats.messages_in += 7
    stats.messages_out += 9
    stats.step_finished(True, "send Heartbeat")
    stats.step_finished(False, "expect Accepted, got Rejected")
    stats.step_finished(False, "expect Accepted, got Rejected")
    stats.iteration_finished()
    stats.request_received("RemoteStopTransaction")
    stats.request_received("SetChargingProfile", not_supported=True)
    assert (stats.opened, stats.failed, stats.dropped) == (2, {"refused": 2, "tls": 1}, 1)
    assert (stats.connect_failures, stats.connection_attempts) == (3, 5)
    assert (stats.steps_passed, stats.steps_failed, stats.iterations) == (1, 2, 1)
    assert stats.step_failures == {"expect Accepted, got Rejected": 2}
    assert stats.received == {"RemoteStopTransaction": 1, "SetChargingProfile": 1}
    assert stats.not_supported == {"SetChargingProfile": 1}


def test_distinct_failures_are_capped_keeping_those_that_sort_first() -> None:
    stats = LoadStats(target=1, started_at=START)
    descriptions = [f"failure {i:03d}" for i in range(MAX_KEYS + 50)]
    for description in reversed(descriptions):  # the largest arrive first and are pushed out
        stats.step_finished(False, description)
        stats.step_finished(False, description)
    assert len(stats.step_failures) == MAX_KEYS + 1
    assert sorted(k for k in stats.step_failures if k != OTHER) == descriptions[:MAX_KEYS]
    assert stats.step_failures[OTHER] == 2 * 50
    assert sum(stats.step_failures.values()) == stats.steps_failed == 2 * (MAX_KEYS + 50)


def test_peer_chosen_keys_are_capped_too() -> None:
    stats = LoadStats(target=1, started_at=START)
    for i in range(MAX_KEYS * 3):
        stats.call_finished("Heartbeat", 0.01, f"Code{i:04d}", START)
        stats.request_received(f"Action{i:04d}")
        stats.connection_failed(f"reason {i:04d}")
    for counts in (stats.actions["Heartbeat"].callerrors, stats.received, stats.failed):
        assert len(counts) == MAX_KEYS + 1
        assert counts[OTHER] == 2 * MAX_KEYS
        assert sum(counts.values()) == 3 * MAX_KEYS


def test_connected_gauge_fills_skipped_seconds() -> None:
    stats = LoadStats(target=10, started_at=START)
    stats.sample_connected(START + 0.99, 4)
    stats.sample_connected(START + 3.01, 9)  # the sampler drifted over two seconds
    stats.sample_connected(START + 3.50, 10)  # twice in a second: the last one counts
    connected = {t - int(START): p.connected for t, p in stats.timeline.items()}
    assert connected == {0: 4, 1: 4, 2: 4, 3: 10}


def test_merging_adds_gauges_of_the_same_second() -> None:
    one = LoadStats(target=5, started_at=START)
    two = LoadStats(target=5, started_at=START)
    one.sample_connected(START, 5)
    two.sample_connected(START, 3)
    two.sample_connected(START + 1, 4)
    one.call_finished("Heartbeat", 0.01, None, START + 2)  # a second nobody sampled
    merged = LoadStats.merged([one, two])
    connected = [p.connected for _t, p in sorted(merged.timeline.items())]
    assert connected == [8, 4, None]


# --- merging ------------------------------------------------------------------------------

ACTIONS = ["Authorize", "Heartbeat", "MeterValues", "StartTransaction"]
OUTCOMES = [None, None, None, TIMEOUT, LOST, INVALID, "NotImplemented", "InternalError"]

events = st.one_of(
    st.tuples(
        st.just("call"),
        st.sampled_from(ACTIONS),
        st.floats(0, 120, allow_nan=False),
        st.sampled_from(OUTCOMES),
        st.floats(START, START + 20, allow_nan=False),
    ),
    st.tuples(st.just("opened")),
    st.tuples(st.just("failed"), st.sampled_from(["refused", "tls", "timeout"])),
    st.tuples(st.just("dropped")),
    st.tuples(st.just("step"), st.booleans(), st.integers(0, 129).map(lambda i: f"step {i}")),
    st.tuples(st.just("iteration")),
    st.tuples(st.just("received"), st.sampled_from(["Reset", "RemoteStopTransaction"])),
    st.tuples(st.just("unsupported"), st.sampled_from(["SetChargingProfile", "UpdateFirmware"])),
    st.tuples(st.just("in")),
    st.tuples(st.just("out")),
    st.tuples(st.just("recovered")),
    st.tuples(st.just("abandoned"), st.integers(0, 129).map(lambda i: f"gave up {i}")),
)


def apply(stats: LoadStats, event: tuple[Any, ...]) -> None:
    kind, *args = event
    if kind == "call":
        stats.call_finished(*args)
    elif kind == "opened":
        stats.connection_opened()
    elif kind == "failed":
        stats.connection_failed(*args)
    elif kind == "dropped":
        stats.connection_dropped()
    elif kind == "step":
        stats.step_finished(*args)
    elif kind == "iteration":
        stats.iteration_finished()
    elif kind == "received":
        stats.request_received(*args)
    elif kind == "unsupported":
        stats.request_received(*args, not_supported=True)
    elif kind == "recovered":
        stats.recovered()
    elif kind == "abandoned":
        stats.charge_point_abandoned(*args)
    elif kind == "in":
        stats.messages_in += 1
    else:
        stats.messages_out += 1


@given(
    st.lists(st.tuples(events, st.integers(0, 3)), max_size=400),
    st.integers(1, 4),
    st.permutations(range(4)),
)
def test_merged_shards_equal_one_run_that_saw_everything(
    stream: list[tuple[tuple[Any, ...], int]], k: int, order: list[int]
) -> None:
    whole = LoadStats(target=4 * k, started_at=START)
    shards = [LoadStats(target=4, started_at=START + i) for i in range(k)]
    for event, index in stream:
        apply(whole, event)
        apply(shards[index % k], event)
    for i, shard in enumerate(shards):
        shard.finished_at = START + 30 + i
    whole.finished_at = START + 30 + k - 1
    # The order of the merge does not matter either.
    merged = LoadStats.merged(shards[i] for i in order if i < k)
    whole.workers = k  # the one difference, by design: how many workers made the numbers
    assert merged.to_dict() == whole.to_dict()


@given(st.lists(events, max_size=300))
def test_dict_round_trip(stream: list[tuple[Any, ...]]) -> None:
    stats = LoadStats(target=7, started_at=START)
    for event in stream:
        apply(stats, event)
    stats.sample_connected(START + 3, 5)
    stats.finished_at = START + 25.5
    document = json.loads(json.dumps(stats.to_dict()))
    assert LoadStats.from_dict(document).to_dict() == stats.to_dict()


@given(
    st.permutations([f"failure {i:03d}" for i in range(MAX_KEYS + 30)]),
    st.lists(st.integers(0, MAX_KEYS + 29).map(lambda i: f"failure {i:03d}"), max_size=200),
    st.randoms(use_true_random=False),
)
def test_capped_failures_merge_exactly(
    distinct: list[str], repeats: list[str], rng: random.Random
) -> None:
    # Always more distinct failures than the cap, in any order, spread over three shards.
    whole = LoadStats(target=3, started_at=START)
    shards = [LoadStats(target=1, started_at=START) for _ in range(3)]
    for description in distinct + repeats:
        whole.step_finished(False, description)
        rng.choice(shards).step_finished(False, description)
    merged = LoadStats.merged(shards)
    assert OTHER in whole.step_failures
    assert merged.step_failures == whole.step_failures


def test_merged_leaves_its_inputs_alone() -> None:
    one = LoadStats(target=1, started_at=START)
    one.call_finished("Heartbeat", 0.01, None, START)
    before = one.to_dict()
    LoadStats.merged([one, one.from_dict(one.to_dict())])
    assert one.to_dict() == before


def test_merge_rules() -> None:
    with pytest.raises(ValueError, match="no statistics"):
        LoadStats.merged([])
    stats = LoadStats(target=1, started_at=START)
    with pytest.raises(ValueError, match="themselves"):
        stats.merge(stats)
    late = LoadStats(target=2, started_at=START + 5)
    late.finished_at = START + 60
    stats.finished_at = START + 10
    merged = LoadStats.merged([late, stats])
    assert (merged.target, merged.workers) == (3, 2)
    assert (merged.started_at, merged.finished_at, merged.duration) == (START, START + 60, 60)


def test_cap_merges_exactly_whatever_the_order() -> None:
    one = LoadStats(target=1, started_at=START)
    two = LoadStats(target=1, started_at=START)
    for i in range(MAX_KEYS + 20):
        one.step_finished(False, f"a {i:03d}")
        two.step_finished(False, f"b {i:03d}")
    two.step_finished(False, "a 000")
    forward = LoadStats.merged([one, two]).step_failures
    backward = LoadStats.merged([two, one]).step_failures
    assert forward == backward
    assert forward["a 000"] == 2
    assert forward[OTHER] == 2 * (MAX_KEYS + 20) + 1 - 101


# --- derived numbers and the document -----------------------------------------------------


def test_throughput_and_duration() -> None:
    stats = LoadStats(target=1, started_at=START)
    assert (stats.duration, stats.throughput, stats.error_rate) == (0.0, 0.0, 0.0)
    for _ in range(30):
        stats.call_finished("Heartbeat", 0.01, None, START + 1)
    stats.call_finished("Heartbeat", 0.01, TIMEOUT, START + 1)
    stats.finished_at = START + 10
    assert stats.throughput == 3.0  # CALLRESULTs only
    stats.finished_at = START - 1  # a clock stepped back: no negative duration
    assert stats.duration == 0.0


def sample() -> LoadStats:
    stats = LoadStats(target=10, started_at=START)
    for i in range(100):
        stats.call_finished("Heartbeat", 0.001 * (i + 1), None, START + i / 10)
    stats.call_finished("Heartbeat", 0.5, "NotImplemented", START + 3)
    stats.call_finished("StartTransaction", 30, TIMEOUT, START + 4)
    stats.connection_opened()
    stats.connection_failed("refused")
    stats.step_finished(False, "expect Accepted")
    stats.recovered()
    stats.charge_point_abandoned("could not recover: StopTransaction not delivered")
    stats.sample_connected(START + 1, 1)
    stats.finished_at = START + 10
    return stats


def test_document_shape_and_derived_fields() -> None:
    data = sample().to_dict()
    assert data["format"] == FORMAT == "mockpoint-load/1"
    assert list(data) == [
        "format",
        "target",
        "workers",
        "shard",
        "started_at",
        "finished_at",
        "duration",
        "summary",
        "actions",
        "connections",
        "messages",
        "steps",
        "charge_points",
        "received",
        "not_supported",
        "resources",
        "events",
        "timeline",
    ]
    assert data["events"] == []  # no fleet, no events; and no "scenarios" at all
    assert (data["workers"], data["shard"]) == (1, {"of": 1, "numbers": [1]})
    assert data["resources"] == {
        "rss_bytes": 0,
        "rss_baseline_bytes": 0,
        "ramp_seconds": 0.0,
        "connect_rate": 0.0,
    }
    assert data["summary"] == {
        "calls": 102,
        "ok": 100,
        "errors": 2,
        "error_rate": round(2 / 102, 6),
        "throughput": 10.0,
        # 101 answered calls (1 to 100 ms and the CALLERROR's 500 ms): ranks 51, 96 and
        # 100, each read as the upper bound of its bucket, 512 µs wide at that size.
        "p50_ms": 51.199,
        "p95_ms": 96.255,
        "p99_ms": 100.351,
        "max_ms": 500.0,
    }
    heartbeat = data["actions"]["Heartbeat"]
    assert (heartbeat["count"], heartbeat["errors"], heartbeat["callerrors"]) == (
        101,
        1,
        {"NotImplemented": 1},
    )
    start = data["actions"]["StartTransaction"]
    assert (start["timeouts"], start["p99_ms"], start["histogram"]["count"]) == (1, None, 0)
    assert data["connections"] == {"opened": 1, "failed": {"refused": 1}, "dropped": 0}
    assert data["steps"]["failures"] == {"expect Accepted": 1}
    assert data["charge_points"] == {
        "recoveries": 1,
        "abandoned": 1,
        "abandoned_reasons": {"could not recover: StopTransaction not delivered": 1},
    }
    assert data["timeline"][0]["t"] == int(START)
    assert [p["t"] for p in data["timeline"]] == sorted(p["t"] for p in data["timeline"])
    assert "thresholds" not in data


def test_derived_fields_are_recomputed_not_trusted() -> None:
    data = sample().to_dict()
    data["summary"]["calls"] = 1
    data["actions"]["Heartbeat"]["errors"] = 99
    data["actions"]["Heartbeat"]["p99_ms"] = 0.001
    data["duration"] = 1e9
    assert LoadStats.from_dict(data).to_dict() == sample().to_dict()


def test_timeline_can_be_left_out_of_a_snapshot() -> None:
    data = sample().to_dict(timeline=False)
    assert data["timeline"] is None
    stats = LoadStats.from_dict(data)
    assert stats.timeline == {}
    assert stats.calls == 102


def with_change(path: str, value: Any) -> dict[str, Any]:
    data = sample().to_dict()
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    where: Any = int(last) if isinstance(node, list) else last
    if value is KeyError:
        del node[where]
    else:
        node[where] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("format", "mockpoint-run/1", "format: expected 'mockpoint-load/1'"),
        ("target", -1, "target: expected a whole number ≥ 0, got -1"),
        ("started_at", "yesterday", "started_at: expected epoch seconds"),
        ("finished_at", float("nan"), "finished_at: expected epoch seconds"),
        ("workers", 0, "workers: at least one worker"),
        ("shard", [1], "shard: expected an object, got list"),
        ("shard.of", 0, r"shard\.of: expected a number of shards ≥ 1, got 0"),
        ("shard.numbers", [], r"shard\.numbers: expected a list of shard numbers, got \[\]"),
        ("shard.numbers", KeyError, r"shard\.numbers: missing"),
        ("shard.numbers.0", 0, r"shard\.numbers\[0\]: expected a shard number from 1 to 1"),
        ("shard.numbers.0", True, r"shard\.numbers\[0\]: expected a shard number"),
        ("actions", [], "actions: expected an object, got list"),
        ("actions.Heartbeat.ok", 7, r"actions\.Heartbeat\.count: is 101 but ok, callerrors"),
        ("actions.Heartbeat.lost", KeyError, r"actions\.Heartbeat\.lost: missing"),
        ("actions.Heartbeat.histogram.count", 5, r"actions\.Heartbeat\.histogram: count is 5"),
        ("actions.Heartbeat.callerrors", {"NotImplemented": 2}, r"actions\.Heartbeat\.count: is"),
        ("connections.failed", {"refused": 1.5}, r"connections\.failed\.refused: expected"),
        ("messages.in", None, r"messages\.in: expected a whole number"),
        ("steps.failed", 4, r"steps\.failures: do not add up to steps\.failed \(4\)"),
        ("charge_points", [], "charge_points: expected an object, got list"),
        ("charge_points.recoveries", -1, r"charge_points\.recoveries: expected a whole number"),
        ("charge_points.abandoned", KeyError, r"charge_points\.abandoned: missing"),
        (
            "charge_points.abandoned",
            2,
            r"charge_points\.abandoned_reasons: do not add up to charge_points\.abandoned \(2\)",
        ),
        ("received", "x", "received: expected an object, got str"),
        ("timeline", {}, "timeline: expected a list, got dict"),
        ("timeline.0.t", 1.5, r"timeline\[0\]\.t: expected an epoch second"),
        ("timeline.1.t", int(START), r"timeline\[1\]\.t: second \d+ appears twice"),
        ("timeline.0.calls", 11, "timeline: holds 103 calls, the actions 102"),
        ("timeline.0.calls", 0, r"timeline\[0\]: more errors or latencies than calls"),
    ],
)
def test_malformed_document_names_source_and_field(path: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=f"^shard-2\\.json: {message}"):
        LoadStats.from_dict(with_change(path, value), source="shard-2.json")


def test_not_a_document_at_all() -> None:
    with pytest.raises(ValueError, match="^document: expected an object, got list"):
        LoadStats.from_dict([1, 2])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else []
    )
    for key, child in children:
        found += paths(child, (*prefix, key))
    return found


@given(st.data(), json_values)
def test_any_broken_document_is_a_value_error(data: st.DataObject, value: Any) -> None:
    document = sample().to_dict()
    path = data.draw(st.sampled_from(paths(document)[1:]))
    node = document
    for key in path[:-1]:
        node = node[key]
    if data.draw(st.booleans()) and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = value
    try:
        LoadStats.from_dict(document, source="f.json")
    except ValueError as error:
        assert str(error).startswith("f.json: ")


# --- a fleet: each group's statistics and the events --------------------------------------

GROUPS = ["ac-depot", "dc-highway"]
#: Times and labels that meet: 60.4 and 60.6 s are different seconds, 60.6 and 61.2 one.
fleet_events = st.tuples(
    st.just("event"),
    st.sampled_from(EVENT_KINDS),
    st.sampled_from([60.0, 60.4, 60.6, 61.2, 120.0]),
    st.one_of(st.none(), st.floats(0, 90, allow_nan=False)),
    st.integers(0, 50),
    st.sampled_from(["blackout of 50% for 30s", "surge of 100 into ac-depot"]),
)


def record(stats: LoadStats, event: tuple[Any, ...], group: int) -> None:
    """What a shard of a fleet does: a figure into the run's statistics and its group's,
    an event into the run's."""
    if event[0] == "event":
        _, kind, at, back, n, label = event
        stats.event_applied(kind, START + at, None if back is None else START + at + back, n, label)
        return
    apply(stats, event)
    apply(stats.scenarios[GROUPS[group % 2]], event)


def fleet_shard(target: int, started_at: float) -> LoadStats:
    stats = LoadStats(target=target, started_at=started_at)
    for name in GROUPS:
        stats.scenarios[name] = LoadStats(target=target // 2, started_at=started_at)
    return stats


def finish(stats: LoadStats, at: float) -> None:
    for item in (stats, *stats.scenarios.values()):
        item.finished_at = at


@given(
    st.lists(st.tuples(st.one_of(events, fleet_events), st.integers(0, 3)), max_size=300),
    st.integers(1, 4),
    st.permutations(range(4)),
)
def test_merged_shards_of_a_fleet_equal_one_run_that_saw_everything(
    stream: list[tuple[tuple[Any, ...], int]], k: int, order: list[int]
) -> None:
    whole = fleet_shard(4 * k, START)
    shards = [fleet_shard(4, START + i) for i in range(k)]
    for event, index in stream:
        record(whole, event, index)
        record(shards[index % k], event, index)
    for i, shard in enumerate(shards):
        finish(shard, START + 30 + i)
    finish(whole, START + 30 + k - 1)
    merged = LoadStats.merged(shards[i] for i in order if i < k)
    for item in (whole, *whole.scenarios.values()):
        item.workers = k
    assert merged.to_dict() == whole.to_dict()
    assert list(merged.to_dict()["scenarios"]) == GROUPS
    assert [r.at for r in merged.events] == sorted(r.at for r in merged.events)


@given(st.lists(st.tuples(st.one_of(events, fleet_events), st.integers(0, 1)), max_size=200))
def test_dict_round_trip_of_a_fleet(stream: list[tuple[tuple[Any, ...], int]]) -> None:
    stats = fleet_shard(8, START)
    for event, group in stream:
        record(stats, event, group)
    stats.sample_connected(START + 3, 5)
    finish(stats, START + 25.5)
    document = json.loads(json.dumps(stats.to_dict()))
    again = LoadStats.from_dict(document)
    assert again.to_dict() == document
    assert again.events == stats.events
    # A group's statistics are kept whole but for their timeline, which the run's holds.
    for name, group in stats.scenarios.items():
        assert again.scenarios[name].actions.keys() == group.actions.keys()
        assert again.scenarios[name].steps_failed == group.steps_failed
        assert again.scenarios[name].timeline == {}


def fleet_sample() -> LoadStats:
    stats = sample()
    depot = stats.scenarios["ac-depot"] = sample()
    depot.target = 7
    stats.scenarios["dc-highway"] = LoadStats(target=3, started_at=START)
    stats.event_applied("blackout", START + 2, START + 5.5, 3, "blackout of 50% for 3s")
    stats.event_applied("surge", START + 4, None, 2, "surge of 2")
    return stats


def test_a_fleets_document() -> None:
    data = fleet_sample().to_dict()
    assert list(data)[-2:] == ["timeline", "scenarios"]
    assert list(data["scenarios"]) == ["ac-depot", "dc-highway"]
    depot = data["scenarios"]["ac-depot"]
    assert depot["target"] == 7
    assert depot["timeline"] is None
    assert "events" not in depot and "scenarios" not in depot
    assert depot["actions"] == data["actions"]  # sample() twice: the same figures
    assert data["events"] == [
        {
            "kind": "blackout",
            "at": START + 2,
            "until": START + 5.5,
            "charge_points": 3,
            "label": "blackout of 50% for 3s",
        },
        {
            "kind": "surge",
            "at": START + 4,
            "until": None,
            "charge_points": 2,
            "label": "surge of 2",
        },
    ]
    # A live snapshot keeps the breakdown, without timelines.
    snapshot = fleet_sample().to_dict(timeline=False)
    assert snapshot["timeline"] is None
    assert snapshot["scenarios"]["ac-depot"] == depot
    assert LoadStats.from_dict(snapshot).scenarios["ac-depot"].calls == 102


def test_results_without_scenarios_or_events_load() -> None:
    document = sample().to_dict()
    del document["events"]  # written before fleets
    stats = LoadStats.from_dict(document)
    assert (stats.scenarios, stats.events) == ({}, [])
    assert "scenarios" not in stats.to_dict()
    assert stats.to_dict()["events"] == []


def test_events_of_one_event_merge_into_one_record() -> None:
    one = LoadStats(target=2, started_at=START)
    two = LoadStats(target=2, started_at=START)
    one.event_applied("partition", START + 60.2, START + 105.0, 4, "partition of 20% for 45s")
    two.event_applied("partition", START + 59.9, START + 105.3, 5, "partition of 20% for 45s")
    two.event_applied("partition", START + 61.0, None, 1, "partition of 20% for 45s")  # later
    two.event_applied("blackout", START + 60.0, None, 1, "partition of 20% for 45s")  # a kind
    one.event_applied("rolling_reboot", START + 10, None, 3, "rolling reboot over 2m")
    one.event_applied("rolling_reboot", START + 10, START + 130, 2, "rolling reboot over 2m")
    merged = LoadStats.merged([one, two])
    assert merged.events == [
        EventRecord("rolling_reboot", START + 10, START + 130, 5, "rolling reboot over 2m"),
        EventRecord("partition", START + 59.9, START + 105.3, 9, "partition of 20% for 45s"),
        EventRecord("blackout", START + 60.0, None, 1, "partition of 20% for 45s"),
        EventRecord("partition", START + 61.0, None, 1, "partition of 20% for 45s"),
    ]
    assert merged.events[1].duration == pytest.approx(45.4)
    assert merged.events[2].duration is None
    with pytest.raises(ValueError, match="an event is one of blackout, rolling_reboot"):
        one.event_applied("meteor", START, None, 1, "meteor")
    with pytest.raises(ValueError, match="0 or more charge points"):
        one.event_applied("surge", START, None, -1, "surge")


def test_a_scenario_only_one_side_has_is_copied() -> None:
    run = LoadStats(target=1, started_at=START)
    fleet = fleet_sample()
    before = fleet.to_dict()
    merged = LoadStats.merged([run, fleet])
    assert list(merged.scenarios) == ["ac-depot", "dc-highway"]
    assert merged.scenarios["ac-depot"] is not fleet.scenarios["ac-depot"]
    merged.merge(fleet)
    assert merged.scenarios["ac-depot"].calls == 2 * fleet.scenarios["ac-depot"].calls
    assert merged.events[0].charge_points == 6
    assert fleet.to_dict() == before  # the inputs are left alone


def fleet_change(path: str, value: Any) -> dict[str, Any]:
    data = fleet_sample().to_dict()
    *parents, last = path.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    where: Any = int(last) if isinstance(node, list) else last
    if value is KeyError:
        del node[where]
    else:
        node[where] = value
    return data


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("scenarios", [], "scenarios: expected an object, got list"),
        ("scenarios.ac-depot", 3, r"scenarios\.ac-depot: expected an object, got int"),
        ("scenarios.ac-depot.target", -1, r"scenarios\.ac-depot\.target: expected a whole"),
        (
            "scenarios.ac-depot.actions.Heartbeat.ok",
            7,
            r"scenarios\.ac-depot\.actions\.Heartbeat\.count: is 101 but ok",
        ),
        ("scenarios.dc-highway.steps", KeyError, r"scenarios\.dc-highway\.steps: missing"),
        ("scenarios.dc-highway.format", "x", r"scenarios\.dc-highway\.format: expected"),
        ("scenarios.dc-highway.events", [], r"scenarios\.dc-highway\.events: a scenario's"),
        ("scenarios.dc-highway.scenarios", {}, r"scenarios\.dc-highway\.scenarios: a scenario's"),
        ("events", {}, "events: expected a list, got dict"),
        ("events.0", "blackout", r"events\[0\]: expected an object, got str"),
        ("events.0.kind", "meteor", r"events\[0\]\.kind: expected one of blackout, rolling_"),
        ("events.0.at", -5, r"events\[0\]\.at: expected epoch seconds"),
        ("events.0.until", START, r"events\[0\]\.until: expected null or epoch seconds from at"),
        ("events.1.charge_points", 1.5, r"events\[1\]\.charge_points: expected a whole number"),
        ("events.1.label", None, r"events\[1\]\.label: expected a text, got null"),
        ("events.1.label", KeyError, r"events\[1\]\.label: missing"),
    ],
)
def test_malformed_fleet_document_names_the_field(path: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=f"^shard-2\\.json: {message}"):
        LoadStats.from_dict(fleet_change(path, value), source="shard-2.json")


@given(st.data(), json_values)
def test_any_broken_fleet_document_is_a_value_error(data: st.DataObject, value: Any) -> None:
    document = fleet_sample().to_dict()
    path = data.draw(st.sampled_from(paths(document)[1:]))
    node = document
    for key in path[:-1]:
        node = node[key]
    if data.draw(st.booleans()) and isinstance(node, dict):
        del node[path[-1]]
    else:
        node[path[-1]] = value
    try:
        LoadStats.from_dict(document, source="f.json")
    except ValueError as error:
        assert str(error).startswith("f.json: ")

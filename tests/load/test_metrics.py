"""Live metrics of a load run: scraped over HTTP on 127.0.0.1 and read with prometheus_client's
own parsers, in the classic text format and in OpenMetrics."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from conftest import UNIT
from mockpoint.errors import UsageError
from mockpoint.load.metrics import LATENCY_BUCKETS, MAX_LABEL, MetricsServer, metric_families
from mockpoint.load.stats import INVALID, LOST, TIMEOUT, LoadStats

START = 1_700_000_000.0
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"

#: Answered Heartbeat latencies (s), none within 1 % below a bucket's bound, one above 30 s.
HEARTBEATS = (0.0004, 0.0009, 0.002, 0.002, 0.007, 0.04, 0.3, 0.3, 1.7, 12.0, 45.0)


def scrape(url: str, accept: str | None = None) -> tuple[str, str]:
    """The body and content type of one GET of ``url``."""
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request, timeout=10 * UNIT) as response:
        return response.read().decode(), response.headers["Content-Type"]


def samples(text: str, *, openmetrics: bool = False) -> dict[str, dict[frozenset[str], float]]:
    """Every sample of the exposition ``text``: name -> {labels as "k=v" -> value}."""
    parse = openmetrics_families if openmetrics else text_string_to_metric_families
    result: dict[str, dict[frozenset[str], float]] = {}
    for family in parse(text):
        for sample in family.samples:
            result.setdefault(sample.name, {})[_key(sample)] = sample.value
    return result


def _key(sample: Sample) -> frozenset[str]:
    return frozenset(f"{k}={v}" for k, v in sample.labels.items())


def key(**labels: str) -> frozenset[str]:
    return frozenset(f"{k}={v}" for k, v in labels.items())


def shard(target: int) -> LoadStats:
    return LoadStats(target=target, started_at=START)


def busy_shard() -> LoadStats:
    """A shard that saw a bit of everything."""
    stats = shard(30)
    for latency in HEARTBEATS:
        stats.call_finished("Heartbeat", latency, None, START + 1)
    stats.call_finished("Heartbeat", 0.045, "NotImplemented", START + 1)
    for outcome in (TIMEOUT, LOST, INVALID):
        stats.call_finished("Heartbeat", 30.0, outcome, START + 2)
    stats.call_finished("StatusNotification", 0.003, "GenericError", START + 2)
    stats.call_finished("StatusNotification", 0.004, "GenericError", START + 2)
    for _ in range(3):
        stats.connection_opened()
    stats.connection_failed("refused: connection refused")
    long_reason = "upgrade: the CSMS answered HTTP 503 " + "x" * 150
    stats.connection_failed(long_reason + "a")
    stats.connection_failed(long_reason + "b")  # the same reason once cut to MAX_LABEL
    stats.connection_dropped()
    for passed in (True, True, True, False):
        stats.step_finished(passed, "step 2: expected Accepted")
    stats.messages_in, stats.messages_out = 40, 42
    stats.request_received("Reset")
    stats.request_received("Reset")
    stats.request_received("DataTransfer", not_supported=True)
    return stats


@pytest.fixture
def server() -> Iterator[tuple[MetricsServer, list[tuple[LoadStats, int] | None]]]:
    """A server on a free port whose source is the last item of a list the test appends to,
    as the load loop replaces its merged snapshot."""
    snapshots: list[tuple[LoadStats, int] | None] = [None]
    with MetricsServer(lambda: snapshots[-1], port=0) as metrics:
        yield metrics, snapshots


def test_before_the_first_snapshot_every_series_is_zero(
    server: tuple[MetricsServer, list[tuple[LoadStats, int] | None]],
) -> None:
    metrics, _snapshots = server
    assert metrics.url.startswith("http://127.0.0.1:") and metrics.url.endswith("/metrics")
    text, content_type = scrape(metrics.url)
    assert content_type.startswith("text/plain")
    found = samples(text)
    for name in (
        "mockpoint_load_charge_points_connected",
        "mockpoint_load_charge_points_target",
        "mockpoint_load_start_time_seconds",
        "mockpoint_load_connections_opened_total",
        "mockpoint_load_connections_dropped_total",
    ):
        assert found[name] == {frozenset(): 0.0}, name
    assert found["mockpoint_load_messages_total"] == {
        key(direction="in"): 0,
        key(direction="out"): 0,
    }
    assert found["mockpoint_load_steps_total"] == {key(result="passed"): 0, key(result="failed"): 0}
    # Series labelled by action or reason appear with their first value; their families are
    # declared from the start.
    assert "# TYPE mockpoint_load_calls_total counter" in text
    assert "# TYPE mockpoint_load_call_latency_seconds histogram" in text
    assert "mockpoint_load_calls_total{" not in text


def test_a_scrape_shows_the_merged_statistics(
    server: tuple[MetricsServer, list[tuple[LoadStats, int] | None]],
) -> None:
    metrics, snapshots = server
    merged = LoadStats.merged([busy_shard(), shard(20)])
    snapshots.append((merged, 17))
    found = samples(scrape(metrics.url)[0])

    assert found["mockpoint_load_charge_points_connected"] == {frozenset(): 17}
    assert found["mockpoint_load_charge_points_target"] == {frozenset(): 50}
    assert found["mockpoint_load_start_time_seconds"] == {frozenset(): START}
    assert found["mockpoint_load_calls_total"] == {
        key(action="Heartbeat", outcome="ok"): len(HEARTBEATS),
        key(action="Heartbeat", outcome="callerror"): 1,
        key(action="Heartbeat", outcome="timeout"): 1,
        key(action="Heartbeat", outcome="lost"): 1,
        key(action="Heartbeat", outcome="invalid"): 1,
        key(action="StatusNotification", outcome="ok"): 0,
        key(action="StatusNotification", outcome="callerror"): 2,
        key(action="StatusNotification", outcome="timeout"): 0,
        key(action="StatusNotification", outcome="lost"): 0,
        key(action="StatusNotification", outcome="invalid"): 0,
    }
    assert found["mockpoint_load_callerrors_total"] == {
        key(action="Heartbeat", code="NotImplemented"): 1,
        key(action="StatusNotification", code="GenericError"): 2,
    }
    assert found["mockpoint_load_connections_opened_total"] == {frozenset(): 3}
    cut = ("upgrade: the CSMS answered HTTP 503 " + "x" * 150)[: MAX_LABEL - 1] + "…"
    assert found["mockpoint_load_connection_failures_total"] == {
        key(reason="refused: connection refused"): 1,
        key(reason=cut): 2,
    }
    assert found["mockpoint_load_connections_dropped_total"] == {frozenset(): 1}
    assert found["mockpoint_load_messages_total"] == {
        key(direction="in"): 40,
        key(direction="out"): 42,
    }
    assert found["mockpoint_load_steps_total"] == {key(result="passed"): 3, key(result="failed"): 1}
    assert found["mockpoint_load_csms_requests_total"] == {
        key(action="Reset"): 2,
        key(action="DataTransfer"): 1,
    }

    # The histogram of answered calls (CALLRESULTs and the CALLERROR), counted from the
    # latencies themselves: none lies within a sub-bucket below a bound.
    answered = [*HEARTBEATS, 0.045]
    buckets = found["mockpoint_load_call_latency_seconds_bucket"]
    for le in LATENCY_BUCKETS:
        expected = sum(1 for latency in answered if latency <= le)
        assert buckets[key(action="Heartbeat", le=repr(le))] == expected, le
    assert buckets[key(action="Heartbeat", le="+Inf")] == len(answered)
    assert buckets[key(action="Heartbeat", le="0.001")] == 2
    assert buckets[key(action="Heartbeat", le="30.0")] == len(answered) - 1  # not the 45 s
    heartbeat = key(action="Heartbeat")
    assert found["mockpoint_load_call_latency_seconds_count"][heartbeat] == len(answered)
    total_us = sum(round(latency * 1_000_000) for latency in answered)
    assert found["mockpoint_load_call_latency_seconds_sum"][heartbeat] == total_us / 1_000_000
    status = key(action="StatusNotification")
    assert found["mockpoint_load_call_latency_seconds_count"][status] == 2
    assert buckets[key(action="StatusNotification", le="0.0025")] == 0
    assert buckets[key(action="StatusNotification", le="0.005")] == 2


def test_openmetrics_when_the_scraper_asks_for_it(
    server: tuple[MetricsServer, list[tuple[LoadStats, int] | None]],
) -> None:
    metrics, snapshots = server
    snapshots.append((busy_shard(), 4))
    text, content_type = scrape(metrics.url, OPENMETRICS)
    assert content_type.startswith("application/openmetrics-text")
    assert text.endswith("# EOF\n")
    assert "# UNIT mockpoint_load_call_latency_seconds seconds" in text
    families = {family.name: family for family in openmetrics_families(text)}
    assert families["mockpoint_load_calls"].type == "counter"
    assert families["mockpoint_load_call_latency_seconds"].unit == "seconds"
    found = samples(text, openmetrics=True)
    assert found["mockpoint_load_charge_points_connected"] == {frozenset(): 4}
    assert found["mockpoint_load_calls_total"][key(action="Heartbeat", outcome="ok")] == len(
        HEARTBEATS
    )
    buckets = found["mockpoint_load_call_latency_seconds_bucket"]
    # OpenMetrics writes bounds as Prometheus does, and the parser reads them as written.
    assert buckets[key(action="Heartbeat", le="0.0025")] == 4
    assert buckets[key(action="Heartbeat", le="+Inf")] == len(HEARTBEATS) + 1
    # The classic format of the same statistics says the same.
    classic = samples(scrape(metrics.url)[0])
    assert classic["mockpoint_load_call_latency_seconds_bucket"] == buckets


def test_a_later_scrape_sees_the_counters_grow(
    server: tuple[MetricsServer, list[tuple[LoadStats, int] | None]],
) -> None:
    metrics, snapshots = server
    one, two = busy_shard(), shard(20)
    snapshots.append((LoadStats.merged([one, two]), 10))
    first = samples(scrape(metrics.url)[0])
    for _ in range(5):
        two.call_finished("Heartbeat", 0.002, None, START + 3)
    two.call_finished("Authorize", 0.004, TIMEOUT, START + 3)
    two.connection_opened()
    two.messages_out += 6
    snapshots.append((LoadStats.merged([one, two]), 11))
    second = samples(scrape(metrics.url)[0])

    ok = key(action="Heartbeat", outcome="ok")
    calls = "mockpoint_load_calls_total"
    assert second[calls][ok] == first[calls][ok] + 5
    assert second[calls][key(action="Authorize", outcome="timeout")] == 1
    assert key(action="Authorize", outcome="timeout") not in first[calls]
    opened = "mockpoint_load_connections_opened_total"
    assert second[opened][frozenset()] == first[opened][frozenset()] + 1
    messages = "mockpoint_load_messages_total"
    assert second[messages][key(direction="out")] == first[messages][key(direction="out")] + 6
    le = key(action="Heartbeat", le="0.0025")
    bucket = "mockpoint_load_call_latency_seconds_bucket"
    assert second[bucket][le] == first[bucket][le] + 5
    assert second["mockpoint_load_charge_points_connected"][frozenset()] == 11
    # Scraping only reads: the shards' statistics are as they were recorded.
    assert two.actions["Heartbeat"].count == 5 and one.opened == 3


def test_recoveries_and_charge_points_that_left_are_counted(
    server: tuple[MetricsServer, list[tuple[LoadStats, int] | None]],
) -> None:
    metrics, snapshots = server
    one, two = shard(2), shard(2)
    one.recovered()
    two.recovered()
    two.charge_point_abandoned("5 passes in a row failed")
    snapshots.append((LoadStats.merged([one, two]), 3))
    seen = samples(scrape(metrics.url)[0])
    assert seen["mockpoint_load_recoveries_total"][frozenset()] == 2
    left = seen["mockpoint_load_charge_points_abandoned_total"]
    assert left == {key(reason="5 passes in a row failed"): 1}


def test_a_port_in_use_is_a_usage_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        metrics = MetricsServer(lambda: None, port=port)
        with pytest.raises(UsageError, match=rf"127\.0\.0\.1:{port}: the port is already in use"):
            metrics.start()


def test_a_port_out_of_range_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="between 0 and 65535, not 70000"):
        MetricsServer(lambda: None, port=70000)


def test_stop_frees_the_port() -> None:
    metrics = MetricsServer(lambda: None, port=0)
    metrics.start()
    url = metrics.url
    port = int(url.split(":")[2].split("/")[0])
    scrape(url)
    metrics.stop()
    metrics.stop()  # a second stop does nothing
    with pytest.raises(urllib.error.URLError):
        scrape(url)
    with pytest.raises(RuntimeError, match="not started"):
        _ = metrics.url
    # Another server can listen on the same port at once.
    with MetricsServer(lambda: (busy_shard(), 1), port=port) as again:
        assert again.url == url
        assert "mockpoint_load_calls_total{" in scrape(url)[0]


@given(
    st.lists(
        st.one_of(
            st.integers(0, 40_000_000),
            # values at and just below the bounds, where the rounding shows
            st.sampled_from([round(le * 1e6) for le in LATENCY_BUCKETS]).flatmap(
                lambda bound: st.integers(bound - bound // 100, bound)
            ),
        ),
        min_size=1,
        max_size=60,
    )
)
def test_histogram_buckets_are_within_one_percent_of_the_bounds(latencies_us: list[int]) -> None:
    """A bucket never counts a latency above its bound, and counts every latency at least
    1 % below it (docs/load-metrics.md)."""
    stats = shard(1)
    for us in latencies_us:
        stats.call_finished("Heartbeat", us / 1_000_000, None, START)
    families = {family.name: family for family in metric_families(stats, 0)}
    histogram = families["mockpoint_load_call_latency_seconds"]
    buckets = {s.labels["le"]: s.value for s in histogram.samples if s.name.endswith("_bucket")}
    for le in LATENCY_BUCKETS:
        bound = round(le * 1_000_000)
        at_most = sum(1 for us in latencies_us if us <= bound)
        surely = sum(1 for us in latencies_us if us < bound * 0.99)
        assert surely <= buckets[repr(le)] <= at_most, le
    assert buckets["+Inf"] == len(latencies_us)
    count = [s.value for s in histogram.samples if s.name.endswith("_count")]
    assert count == [len(latencies_us)]

"""Threshold expressions: what they accept, how they refuse, and how they judge a run."""

from __future__ import annotations

from fractions import Fraction

import pytest

from mockpoint.errors import ExitCode, UsageError
from mockpoint.load.stats import LOST, TIMEOUT, LoadStats
from mockpoint.load.thresholds import (
    ThresholdError,
    ThresholdResult,
    evaluate_all,
    parse_threshold,
)

START = 1_700_000_000.0


@pytest.mark.parametrize(
    ("text", "action", "metric", "op", "limit", "percent"),
    [
        ("p99<500ms", None, "p99", "<", 500_000, False),
        ("errors<0.1%", None, "errors", "<", Fraction(1, 10), True),
        ("errors<=5", None, "errors", "<=", 5, False),
        ("StartTransaction.p95<300ms", "StartTransaction", "p95", "<", 300_000, False),
        ("max<2s", None, "max", "<", 2_000_000, False),
        ("timeouts==0", None, "timeouts", "==", 0, False),
        ("connect_failures<1%", None, "connect_failures", "<", 1, True),
        ("dropped<10", None, "dropped", "<", 10, False),
        ("failed_steps==0", None, "failed_steps", "==", 0, False),
        ("throughput>1000", None, "throughput", ">", 1000, False),
        ("throughput >= 2.5/s", None, "throughput", ">=", Fraction(5, 2), False),
        ("p99.9 < 1.5 s", None, "p99.9", "<", 1_500_000, False),
        ("Heartbeat.p99.9<800us", "Heartbeat", "p99.9", "<", 800, False),
        ("mean<=0.25ms", None, "mean", "<=", 250, False),
        ("p75<10ms", None, "p75", "<", 10_000, False),
        ("MeterValues.errors<0.5%", "MeterValues", "errors", "<", Fraction(1, 2), True),
        ("  calls > 100 ", None, "calls", ">", 100, False),
    ],
)
def test_parse(
    text: str, action: str | None, metric: str, op: str, limit: Fraction | int, percent: bool
) -> None:
    threshold = parse_threshold(text)
    assert (threshold.action, threshold.metric, threshold.op) == (action, metric, op)
    assert (threshold.limit, threshold.percent) == (limit, percent)
    assert threshold.expression == text.strip()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", r"empty threshold: write \[ACTION\.\]METRIC OP NUMBER\[UNIT\]"),
        ("p99 500ms", r"has no comparison \(<, <=, >, >=, ==\)"),
        ("p99=500ms", "'=' is not a comparison; write '=='"),
        ("p99=<500ms", "write '<='"),
        ("p99!=5ms", "use <, <=, >, >= or =="),
        ("p99<500", "a latency needs a unit: ms, s or us, e.g. p99<500ms"),
        ("p99<5min", "a latency needs a unit, ms, s or us .* not 'min'"),
        ("p99<-5ms", "'-5ms' is not a number ≥ 0"),
        ("p0<1ms", "a percentile is above 0 and at most 100"),
        ("p100.5<1ms", "a percentile is above 0 and at most 100"),
        (
            "StartTransation.p95<300ms",
            "'StartTransation' is not an OCPP 1.6 action the charge "
            "point sends; did you mean StartTransaction",
        ),
        ("heartbeat.p95<3ms", "did you mean Heartbeat\\?"),
        ("Frobnicate.p95<3ms", "expected one of Authorize, BootNotification"),
        ("RemoteStartTransaction.p95<1s", "RemoteStartTransaction is sent by the Central System"),
        ("Heartbeat<500ms", "Heartbeat is an action; add a metric, e.g. Heartbeat.p95<500ms"),
        ("latency<5ms", "unknown metric 'latency'; expected one of p50, p90"),
        ("eror<1%", "unknown metric 'eror'; did you mean errors"),
        ("P99<5ms", "did you mean p99"),
        ("errors<5ms", "errors is a count, a bare number .* or a percentage of calls"),
        ("calls<1%", "calls is a count, a bare number \\(calls<=5\\); not '%'"),
        ("errors<1.5", "a count is a whole number"),
        ("errors<101%", "a percentage is at most 100%"),
        ("throughput>5%", "throughput is in calls per second"),
        (
            "Heartbeat.dropped<1",
            "dropped is a metric of the whole run, not of one action; write dropped<1",
        ),
        ("p99<<5ms", "is not a number"),
    ],
)
def test_errors_say_what_is_wrong_and_what_is_right(text: str, message: str) -> None:
    with pytest.raises(ThresholdError, match=message):
        parse_threshold(text)


def test_threshold_error_is_a_usage_error_and_a_value_error() -> None:
    with pytest.raises(ValueError) as caught:
        parse_threshold("nonsense")
    assert isinstance(caught.value, UsageError)
    assert caught.value.exit_code is ExitCode.USAGE


def run(ms: list[float], *, action: str = "Heartbeat") -> LoadStats:
    stats = LoadStats(target=1, started_at=START)
    for latency in ms:
        stats.call_finished(action, latency / 1000, None, START)
    stats.finished_at = START + 10
    return stats


def check(text: str, stats: LoadStats) -> ThresholdResult:
    return parse_threshold(text).evaluate(stats)


def test_latency() -> None:
    stats = run([float(ms) for ms in range(1, 101)])
    assert check("p99<500ms", stats) == ThresholdResult("p99<500ms", "99.33ms", True)
    assert check("p50<=20ms", stats) == ThresholdResult("p50<=20ms", "50.17ms", False)
    assert check("max<0.1s", stats) == ThresholdResult("max<0.1s", "0.1s", False)
    assert check("max<=0.1s", stats).passed
    assert check("mean<60000us", stats) == ThresholdResult("mean<60000us", "50500us", True)
    assert check("Heartbeat.p95>1ms", stats).passed


def test_latency_without_answers_fails() -> None:
    stats = run([5.0], action="Heartbeat")
    assert check("StartTransaction.p95<1s", stats) == ThresholdResult(
        "StartTransaction.p95<1s", "no calls", False
    )
    stats.call_finished("StartTransaction", 30, TIMEOUT, START)
    assert check("StartTransaction.p95<1s", stats).actual == "no answers"
    assert check("p95<1s", LoadStats(target=1, started_at=START)).actual == "no calls"


def test_rates_are_exact() -> None:
    stats = run([1.0] * 997)
    for _ in range(3):
        stats.call_finished("Heartbeat", 30, TIMEOUT, START)
    # 3 of 1000 is 0.3 % exactly; 3 / 1000 * 100 in floating point is 0.30000000000000004.
    assert check("errors<=0.3%", stats) == ThresholdResult(
        "errors<=0.3%", "0.3% (3 of 1,000 calls)", True
    )
    assert not check("errors<0.3%", stats).passed
    assert check("timeouts==3", stats) == ThresholdResult("timeouts==3", "3", True)
    assert check("lost==0", stats).passed
    assert check("calls>=1000", stats).passed


def test_per_action_counts_and_rates() -> None:
    stats = run([1.0] * 9)
    stats.call_finished("Heartbeat", 1.0, LOST, START)
    stats.call_finished("StartTransaction", 0.1, "InternalError", START)
    assert check("Heartbeat.errors<=10%", stats).actual == "10% (1 of 10 calls)"
    assert check("Heartbeat.lost==1", stats).passed
    assert check("StartTransaction.errors==1", stats).passed
    assert check("Authorize.errors==0", stats).passed  # never sent: no errors
    assert check("Authorize.errors<1%", stats) == ThresholdResult(
        "Authorize.errors<1%", "no calls", False
    )


def test_run_metrics() -> None:
    stats = run([1.0] * 50)
    for _ in range(99):
        stats.connection_opened()
    stats.connection_failed("refused")
    stats.connection_dropped()
    stats.step_finished(True, "send")
    stats.step_finished(False, "expect Accepted")
    assert check("connect_failures<1%", stats).actual == "1% (1 of 100 connection attempts)"
    assert not check("connect_failures<1%", stats).passed
    assert check("connect_failures<=1", stats).passed
    assert check("dropped<10", stats) == ThresholdResult("dropped<10", "1", True)
    assert check("dropped<2%", stats).actual == "1.01% (1 of 99 opened connections)"
    assert check("failed_steps==0", stats) == ThresholdResult("failed_steps==0", "1", False)
    assert check("failed_steps<=50%", stats).passed


def test_throughput() -> None:
    stats = run([1.0] * 50)  # 50 CALLRESULTs in 10 s
    stats.call_finished("Heartbeat", 30, TIMEOUT, START)
    assert check("throughput>=5", stats) == ThresholdResult("throughput>=5", "5/s", True)
    assert not check("throughput>5/s", stats).passed
    assert check("StartTransaction.throughput>0", stats).actual == "0/s"
    stats.finished_at = stats.started_at
    assert check("throughput>0", stats) == ThresholdResult("throughput>0", "no duration", False)


def test_evaluate_all_keeps_the_order() -> None:
    stats = run([1.0])
    texts = ["p99<1s", "errors>0", "calls==1"]
    results = evaluate_all([parse_threshold(text) for text in texts], stats)
    assert [(r.expression, r.passed) for r in results] == [
        ("p99<1s", True),
        ("errors>0", False),
        ("calls==1", True),
    ]
    # The actual value reads in the expression's unit.
    assert results[0].to_dict() == {"expression": "p99<1s", "actual": "0.001s", "passed": True}

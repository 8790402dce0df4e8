"""Threshold expressions: what they accept, how they refuse, and how they judge a run."""

from __future__ import annotations

from fractions import Fraction

import pytest

from mockpoint.errors import ExitCode, UsageError
from mockpoint.load.stats import LOST, TIMEOUT, LoadStats
from mockpoint.load.thresholds import (
    DEFAULT_FAILED_STEPS,
    Silence,
    ThresholdError,
    ThresholdResult,
    evaluate_all,
    parse_threshold,
    silence,
    with_defaults,
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


# --- verdicts without an expression -------------------------------------------------------


def test_without_a_failed_steps_threshold_no_step_may_fail() -> None:
    given = [parse_threshold("p99<1s")]
    thresholds = with_defaults(given)
    assert [t.expression for t in thresholds] == ["p99<1s", DEFAULT_FAILED_STEPS]
    assert [t.default for t in thresholds] == [False, True]
    stats = run([1.0])
    stats.step_finished(True, "send Heartbeat")
    assert evaluate_all(thresholds, stats)[1].to_dict() == {
        "expression": "failed_steps==0",
        "actual": "0",
        "passed": True,
        "default": True,
    }
    stats.step_finished(False, "send Heartbeat: no answer")
    result = evaluate_all(thresholds, stats)[1]
    assert (result.passed, result.metric, result.default) == (False, "failed_steps", True)
    # A threshold on failed steps, of the scenario or the command line, sets the tolerance.
    tolerant = with_defaults([parse_threshold("failed_steps<=50%")])
    assert [t.expression for t in tolerant] == ["failed_steps<=50%"]
    assert evaluate_all(tolerant, stats)[0].passed
    assert with_defaults([])[0].expression == DEFAULT_FAILED_STEPS


def timeline(answered: dict[int, int], unanswered: dict[int, int], connected: range) -> LoadStats:
    """A run's seconds from START: ``answered`` and ``unanswered`` calls completed in each,
    charge points connected in the seconds of ``connected``."""
    stats = LoadStats(target=10, started_at=START)
    for second in connected:
        stats.sample_connected(START + second + 0.5, 10)
    for second, n in answered.items():
        for _ in range(n):
            stats.call_finished("Heartbeat", 0.01, None, START + second + 0.5)
    for second, n in unanswered.items():
        for _ in range(n):
            stats.call_finished("Heartbeat", 1.0, TIMEOUT, START + second + 0.5)
    stats.finished_at = START + max(connected) + 0.9
    return stats


def test_a_csms_that_stops_answering_is_silent() -> None:
    # Connected in seconds 0-9; answers in 0-2, then every call times out after 1 s.
    stats = timeline({0: 20, 1: 10, 2: 10}, {s: 10 for s in range(4, 10)}, range(10))
    found = silence(stats, 1.0)
    # Seconds 3-9 had a call waiting in vain and no answer: 7 of the 10.
    assert found == Silence(seconds=7, of=10, unanswered=60)
    assert found.failed
    # A CALLERROR is an answer: a CSMS that refuses everything is not silent.
    stats.call_finished("Heartbeat", 0.01, "InternalError", START + 5.5)
    assert silence(stats, 1.0).seconds == 6


def test_a_slow_or_idle_run_is_not_silent() -> None:
    # A CSMS that answers every call, 5 s late: long gaps, but no call went unanswered.
    slow = timeline({0: 10, 5: 10, 10: 10}, {}, range(12))
    assert silence(slow, 30.0) == Silence(seconds=0, of=12, unanswered=0)
    # Connected charge points with nothing to send for most of the run.
    idle = timeline({0: 10}, {}, range(600))
    assert not silence(idle, 30.0).failed
    # One Heartbeat timed out at 330 s: the 30 s it waited (and the one it timed out in).
    idle = timeline({0: 10}, {330: 1}, range(600))
    assert silence(idle, 30.0) == Silence(seconds=31, of=600, unanswered=1)


def test_silence_counts_from_the_first_connection() -> None:
    # Ramped up from second 3, answers never came: all 5 seconds from then on were silent.
    stats = timeline({}, {s: 1 for s in range(4, 8)}, range(3, 8))
    assert silence(stats, 1.0) == Silence(seconds=5, of=5, unanswered=4)
    # Half the seconds is not more than half.
    assert not Silence(seconds=5, of=10, unanswered=1).failed
    assert silence(LoadStats(target=1, started_at=START), 1.0) == Silence(0, 0, 0)

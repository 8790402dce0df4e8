"""Pass/fail thresholds of a load run: ``p99<500ms``, ``errors<0.1%``, ``dropped<10``.

Grammar: ``[ACTION.]METRIC OP NUMBER[UNIT]``, OP one of ``<  <=  >  >=  ==``.

===================  =========================  =====================================
metric               unit                       measures
===================  =========================  =====================================
``p50`` … ``p99.9``  ``ms``, ``s``, ``us``      latency percentile of answered calls
``max``, ``mean``    ``ms``, ``s``, ``us``      slowest / mean answered call
``errors``           none (count) or ``%``      calls without a CALLRESULT, % of calls
``timeouts``         none or ``%``              calls never answered, % of calls
``lost``             none or ``%``              calls whose connection went away
``invalid``          none or ``%``              answers that broke the schema or OCPP-J
``calls``            none                       calls completed
``throughput``       none or ``/s``             CALLRESULTs per second of the run
``connect_failures`` none or ``%``              failed connection attempts (run only)
``dropped``          none or ``%``              connections lost, % of those opened (run only)
``failed_steps``     none or ``%``              scenario steps failed, % of steps (run only)
===================  =========================  =====================================

ACTION is an OCPP 1.6 action that the charge point sends (OCPP 1.6 §4); without it a
metric covers every action. Comparisons are exact (fractions, not floats), so
``errors<=0.3%`` holds for 3 errors in 1000 calls.

Two verdicts hold without being asked for (docs/load.md, "Verdict and exit code": a load
run is honest about failure):

- a run with no threshold on ``failed_steps`` is held to ``failed_steps==0``
  (:func:`with_defaults`): any failed step fails it, and a threshold such as
  ``failed_steps<1%`` sets the tolerance instead;
- a run in which, for more than half of its seconds, calls waited for an answer that never
  came fails (:func:`silence`): a CSMS that stopped answering must not pass.
"""

from __future__ import annotations

import difflib
import math
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Literal

from mockpoint.errors import UsageError
from mockpoint.load.stats import ActionStats, Histogram, LoadStats
from mockpoint.ocpp16.actions import ACTIONS

__all__ = [
    "DEFAULT_FAILED_STEPS",
    "Silence",
    "Threshold",
    "ThresholdError",
    "ThresholdResult",
    "evaluate_all",
    "parse_threshold",
    "silence",
    "with_defaults",
]

Kind = Literal["latency", "count", "throughput"]

_OPERATORS: dict[str, Callable[[Fraction, Fraction], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}

#: Microseconds per latency unit.
_LATENCY_UNITS = {"us": 1, "µs": 1, "ms": 1000, "s": 1_000_000}

#: Count metrics, and what their ``%`` is a percentage of.
_COUNTS: dict[str, str] = {
    "errors": "calls",
    "timeouts": "calls",
    "lost": "calls",
    "invalid": "calls",
    "calls": "",
    "connect_failures": "connection attempts",
    "dropped": "opened connections",
    "failed_steps": "steps",
}
#: Metrics of the whole run, which no single action has.
_RUN_ONLY = frozenset({"connect_failures", "dropped", "failed_steps"})

#: The metric names an error message suggests (any pNN is accepted).
_METRICS = ("p50", "p90", "p95", "p99", "p99.9", "max", "mean", *_COUNTS, "throughput")

#: Actions whose calls a load run measures: those the charge point sends.
_CP_ACTIONS: tuple[str, ...] = tuple(
    sorted(name for name, info in ACTIONS.items() if info.sent_by_charge_point())
)

_FORM = "[ACTION.]METRIC OP NUMBER[UNIT], e.g. p99<500ms or StartTransaction.errors<1%"
_SPLIT = re.compile(r"(<=|>=|==|!=|=<|=>|<|>|=)")
_LEFT = re.compile(r"(?:(?P<action>[A-Za-z]\w*)\.)?(?P<metric>p\d+(?:\.\d+)?|[A-Za-z_]\w*)")
_RIGHT = re.compile(r"(?P<number>\d+(?:\.\d+)?|\.\d+)\s*(?P<unit>\S*)")
_PERCENTILE = re.compile(r"p(\d+(?:\.\d+)?)")

#: What a run that names no ``failed_steps`` threshold is held to: no step may fail.
DEFAULT_FAILED_STEPS = "failed_steps==0"


class ThresholdError(UsageError, ValueError):
    """A threshold expression that cannot be read; the message says what would be right.

    A :class:`~mockpoint.errors.UsageError` (exit code 2: nothing was run wrongly, the
    command line is wrong) that is also a ValueError, since it is a bad value.
    """


@dataclass(frozen=True)
class ThresholdResult:
    """One threshold checked against a run."""

    expression: str
    #: the measured value for a human, with its unit: ``12.3ms``, ``0.12% (3 of 2500 calls)``
    actual: str
    passed: bool
    #: the metric checked (``p99``, ``failed_steps``), for a report that explains it; read
    #: from the expression, so not compared
    metric: str = field(default="", compare=False)
    #: applied without being asked for (:func:`with_defaults`)
    default: bool = False

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {
            "expression": self.expression,
            "actual": self.actual,
            "passed": self.passed,
        }
        if self.default:
            data["default"] = True
        return data


@dataclass(frozen=True)
class Threshold:
    """A parsed threshold. ``limit`` is exact and in the metric's base unit: µs for
    latencies, percent when ``percent``, else a count or calls per second."""

    expression: str
    action: str | None
    metric: str
    op: str
    limit: Fraction
    kind: Kind
    #: the unit written, used to show the actual value the same way (``ms``, ``%``, ``/s``)
    unit: str = ""
    percent: bool = False
    #: applied without being asked for (:func:`with_defaults`)
    default: bool = False

    def evaluate(self, stats: LoadStats) -> ThresholdResult:
        value, actual = self._measure(stats)
        # An undefined value (no calls to take a percentile or a rate of) fails: the run did
        # not show that the bound holds, and a CSMS that answered nothing must not pass a
        # latency or error-rate gate.
        passed = value is not None and bool(_OPERATORS[self.op](value, self.limit))
        return ThresholdResult(self.expression, actual, passed, self.metric, self.default)

    def _measure(self, stats: LoadStats) -> tuple[Fraction | None, str]:
        action = self._action_stats(stats)
        if self.kind == "latency":
            histogram = action.histogram if action is not None else stats.histogram()
            calls = action.count if action is not None else stats.calls
            return self._latency(histogram, calls)
        if self.kind == "throughput":
            ok = action.ok if action is not None else stats.ok
            if stats.duration <= 0:
                return None, "no duration"
            rate = Fraction(ok) / Fraction(stats.duration)
            return rate, f"{_decimal(rate, 1)}/s"
        count, whole = self._count(stats, action)
        if not self.percent:
            return Fraction(count), f"{count:,}"
        noun = _COUNTS[self.metric]
        if not whole:
            return None, f"no {noun}"
        share = Fraction(100 * count, whole)
        return share, f"{_decimal(share, 3)}% ({count:,} of {whole:,} {noun})"

    def _action_stats(self, stats: LoadStats) -> ActionStats | None:
        if self.action is None:
            return None
        # An action the run never sent has no calls: its counts are 0, its latencies none.
        return stats.actions.get(self.action) or ActionStats()

    def _latency(self, histogram: Histogram, calls: int) -> tuple[Fraction | None, str]:
        if not histogram.count:
            return None, "no answers" if calls else "no calls"
        if self.metric == "max":
            value = Fraction(histogram.max)
        elif self.metric == "mean":
            value = Fraction(histogram.total, histogram.count)
        else:
            value = Fraction(histogram.percentile(float(self.metric[1:])))
        scale = _LATENCY_UNITS[self.unit]
        decimals = {1: 0, 1000: 2, 1_000_000: 3}[scale]
        return value, f"{_decimal(value / scale, decimals)}{self.unit}"

    def _count(self, stats: LoadStats, action: ActionStats | None) -> tuple[int, int]:
        """The metric's count and what its percentage is of."""
        source: ActionStats | LoadStats = action if action is not None else stats
        if self.metric == "connect_failures":
            return stats.connect_failures, stats.connection_attempts
        if self.metric == "dropped":
            return stats.dropped, stats.opened
        if self.metric == "failed_steps":
            return stats.steps_failed, stats.steps_passed + stats.steps_failed
        calls = source.count if isinstance(source, ActionStats) else source.calls
        count: int = calls if self.metric == "calls" else getattr(source, self.metric)
        return count, calls


def evaluate_all(thresholds: Iterable[Threshold], stats: LoadStats) -> list[ThresholdResult]:
    """Every threshold checked against ``stats``, in the order given."""
    return [threshold.evaluate(stats) for threshold in thresholds]


def with_defaults(thresholds: Sequence[Threshold]) -> list[Threshold]:
    """``thresholds``, then :data:`DEFAULT_FAILED_STEPS` (marked ``default``) unless one of
    them bounds ``failed_steps``: a run in which a step failed never passes unasked."""
    if any(threshold.metric == "failed_steps" for threshold in thresholds):
        return list(thresholds)
    implied = replace(parse_threshold(DEFAULT_FAILED_STEPS), default=True)
    return [*thresholds, implied]


@dataclass(frozen=True)
class Silence:
    """How long a run's calls went unanswered (:func:`silence`)."""

    #: seconds in which a call waited for an answer that never came and no call was answered
    seconds: int
    #: seconds of the run from the first connection (or call) to the last second measured
    of: int
    #: calls that got no answer: timed out, lost with their connection, or answered with a
    #: frame that broke the schema or OCPP-J
    unanswered: int

    @property
    def failed(self) -> bool:
        """True when the silent seconds are more than half the run's."""
        return 2 * self.seconds > self.of


def silence(stats: LoadStats, call_timeout: float) -> Silence:
    """The seconds of the run in which no call was answered while one was waiting in vain.

    From the per-second timeline: a second *s* is silent when no call completed in it with
    an answer (a CALLRESULT or a CALLERROR, OCPP-J 1.6 §4.2) and a call that got no answer
    (timed out, lost or invalid) completed within ``call_timeout`` after *s* — so it was
    waiting during *s*. A CSMS that is merely slow, or a run whose charge points have
    nothing to send, has no silent second: only calls that went unanswered make one. The
    run's seconds are those from the first with a connected charge point or a completed
    call to the last one measured.
    """
    timeline = stats.timeline
    started = [
        second
        for second, point in timeline.items()
        if point.calls or (point.connected is not None and point.connected > 0)
    ]
    if not started:
        return Silence(0, 0, 0)
    first, last = min(started), max(timeline)
    reach = max(0, math.ceil(call_timeout))
    waiting: set[int] = set()
    unanswered = 0
    for second, point in timeline.items():
        missed = point.calls - point.histogram.count
        if missed > 0:
            unanswered += missed
            waiting.update(range(second - reach, second + 1))
    silent = sum(
        1
        for second in waiting
        if first <= second <= last
        and (second not in timeline or timeline[second].histogram.count == 0)
    )
    return Silence(silent, last - first + 1, unanswered)


def parse_threshold(text: str) -> Threshold:
    """Read one threshold expression; ThresholdError says what is wrong and what is right."""
    expression = text.strip()
    if not expression:
        raise ThresholdError(f"empty threshold: write {_FORM}")
    parts = _SPLIT.split(expression, maxsplit=1)
    if len(parts) != 3:
        raise ThresholdError(
            f"threshold {expression!r} has no comparison (<, <=, >, >=, ==): write {_FORM}"
        )
    left, op, right = (part.strip() for part in parts)
    if op not in _OPERATORS:
        fixed = {"=": "==", "=<": "<=", "=>": ">="}.get(op)
        hint = f"write {fixed!r}" if fixed else "use <, <=, >, >= or =="
        raise ThresholdError(f"threshold {expression!r}: {op!r} is not a comparison; {hint}")
    match = _LEFT.fullmatch(left)
    if match is None:
        raise ThresholdError(f"threshold {expression!r}: {left!r} is not [ACTION.]METRIC; {_FORM}")
    action, metric = match["action"], match["metric"]
    if action is not None:
        _check_action(expression, action)
    kind = _check_metric(expression, metric, action)
    number = _RIGHT.fullmatch(right)
    if number is None:
        raise ThresholdError(
            f"threshold {expression!r}: {right!r} is not a number ≥ 0 with an optional unit; "
            f"{_FORM}"
        )
    value, unit = Fraction(number["number"]), number["unit"]
    return _with_unit(expression, action, metric, op, value, unit, kind)


def _check_action(expression: str, action: str) -> None:
    info = ACTIONS.get(action)
    if info is not None and not info.sent_by_charge_point():
        raise ThresholdError(
            f"threshold {expression!r}: {action} is sent by the Central System, and a load "
            f"run measures the calls the charge point sends: {', '.join(_CP_ACTIONS)}"
        )
    if info is None:
        raise ThresholdError(
            f"threshold {expression!r}: {action!r} is not an OCPP 1.6 action the charge "
            f"point sends; {_suggest(action, _CP_ACTIONS)}"
        )


def _check_metric(expression: str, metric: str, action: str | None) -> Kind:
    percentile = _PERCENTILE.fullmatch(metric)
    if percentile is not None:
        if not 0 < Fraction(percentile[1]) <= 100:
            raise ThresholdError(
                f"threshold {expression!r}: a percentile is above 0 and at most 100 "
                f"(p50, p99.9), not {metric}"
            )
        return "latency"
    if metric in ("max", "mean"):
        return "latency"
    if metric == "throughput":
        return "throughput"
    if metric in _COUNTS:
        if metric in _RUN_ONLY and action is not None:
            raise ThresholdError(
                f"threshold {expression!r}: {metric} is a metric of the whole run, not of "
                f"one action; write {expression.split('.', 1)[1]}"
            )
        return "count"
    if metric in ACTIONS:
        raise ThresholdError(
            f"threshold {expression!r}: {metric} is an action; add a metric, e.g. "
            f"{metric}.p95<500ms"
        )
    raise ThresholdError(
        f"threshold {expression!r}: unknown metric {metric!r}; {_suggest(metric, _METRICS)}"
    )


def _with_unit(
    expression: str,
    action: str | None,
    metric: str,
    op: str,
    value: Fraction,
    unit: str,
    kind: Kind,
) -> Threshold:
    def threshold(limit: Fraction, percent: bool = False) -> Threshold:
        return Threshold(expression, action, metric, op, limit, kind, unit, percent)

    if kind == "latency":
        if unit not in _LATENCY_UNITS:
            raise ThresholdError(
                f"threshold {expression!r}: a latency needs a unit, ms, s or us "
                f"(e.g. {metric}<500ms), not {unit!r}"
                if unit
                else f"threshold {expression!r}: a latency needs a unit: ms, s or us, "
                f"e.g. {expression}ms"
            )
        return threshold(value * _LATENCY_UNITS[unit])
    if kind == "throughput":
        if unit not in ("", "/s"):
            raise ThresholdError(
                f"threshold {expression!r}: throughput is in calls per second, written as a "
                f"bare number or with /s (throughput>1000), not {unit!r}"
            )
        return threshold(value)
    if unit == "%" and metric != "calls":
        if value > 100:
            raise ThresholdError(f"threshold {expression!r}: a percentage is at most 100%")
        return threshold(value, percent=True)
    if unit:
        of = f", or a percentage of {_COUNTS[metric]} ({metric}<1%)" if _COUNTS[metric] else ""
        raise ThresholdError(
            f"threshold {expression!r}: {metric} is a count, a bare number ({metric}<=5){of}; "
            f"not {unit!r}"
        )
    if value.denominator != 1:
        raise ThresholdError(f"threshold {expression!r}: a count is a whole number")
    return threshold(value)


def _suggest(name: str, choices: tuple[str, ...]) -> str:
    """``did you mean X?`` with the closest names, or every name when none is close."""
    by_lower = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.6)
    if close:
        return f"did you mean {' or '.join(by_lower[c] for c in close)}?"
    return f"expected one of {', '.join(choices)}"


def _decimal(value: Fraction, decimals: int) -> str:
    """``value`` rounded to ``decimals`` places, trailing zeros dropped: ``12.3``, ``500``."""
    text = f"{float(value):.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text

"""Arrival processes (docs/load-fleets.md): what ``--arrivals`` accepts and refuses, and
when the charge points arrive: a ramp's fixed gaps, a Poisson process's seeded random ones."""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys

import pytest

from conftest import UNIT
from mockpoint.errors import ExitCode, UsageError
from mockpoint.load.arrivals import Arrivals, parse_arrivals, parse_rate


@pytest.mark.parametrize(
    ("text", "kind", "rate"),
    [
        ("ramp:200/s", "ramp", 200.0),
        ("ramp:200", "ramp", 200.0),
        ("poisson:6000/m", "poisson", 100.0),
        ("poisson:6000/min", "poisson", 100.0),
        ("poisson:720000/h", "poisson", 200.0),
        (" Poisson : 0.5/s ", "poisson", 0.5),
        ("all-at-once", "all-at-once", None),
    ],
)
def test_the_processes_and_rates_written(text: str, kind: str, rate: float | None) -> None:
    arrivals = parse_arrivals(text)
    assert (arrivals.kind, arrivals.rate) == (kind, rate)
    assert parse_arrivals(str(arrivals)) == arrivals  # as the report may print it


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("poisson", "give the rate, e.g. poisson:200/s"),
        ("ramp:", "give the rate, e.g. ramp:200/s"),
        ("poisson:0/s", "more than 0"),
        ("poisson:-5", "more than 0"),
        ("poisson:inf", "finite"),
        ("poisson:fast", "'fast' is not a rate"),
        ("poisson:5/d", "per second (/s), minute (/m) or hour (/h)"),
        ("burst:5/s", "not an arrival process: write ramp:200/s, poisson:200/s"),
        ("all-at-once:5/s", "all-at-once takes no rate"),
        ("", "not an arrival process"),
    ],
)
def test_what_is_refused_and_why(text: str, words: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_arrivals(text)
    assert str(caught.value).startswith("--arrivals: ")
    assert words in str(caught.value)
    assert caught.value.exit_code == ExitCode.USAGE


def test_a_rate_alone() -> None:
    assert parse_rate("100") == parse_rate("100/s") == parse_rate("6000/m") == 100.0
    with pytest.raises(ValueError, match="more than 0"):
        parse_rate("0")


def test_a_ramp_starts_one_every_1_over_rate_seconds_from_the_start() -> None:
    # what --ramp-up does: the k-th charge point (from 0) starts k / rate after the start
    ramp = parse_arrivals("ramp:4/s")
    assert ramp.offsets(6, seed=1) == [0.0, 0.25, 0.5, 0.75, 1.0, 1.25]
    assert ramp.offsets(6, seed=2) == ramp.offsets(6, seed=1)
    assert [ramp.offset(k) for k in range(6)] == ramp.offsets(6)


def test_all_at_once_starts_everyone_at_the_start() -> None:
    assert parse_arrivals("all-at-once").offsets(3, seed=5) == [0.0, 0.0, 0.0]
    assert parse_arrivals("all-at-once").offset(2) == 0.0


def test_poisson_arrivals_are_seeded() -> None:
    poisson = parse_arrivals("poisson:50/s")
    first = poisson.offsets(1000, seed=7)
    assert poisson.offsets(1000, seed=7) == first
    assert poisson.offsets(1000, seed=8) != first
    assert first == sorted(first) and first[0] > 0.0
    # the k-th arrival does not depend on how many follow
    assert poisson.offsets(10, seed=7) == first[:10]
    assert poisson.offset(999, seed=7) == first[999]
    with pytest.raises(IndexError):
        poisson.offset(-1)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_poisson_arrivals_come_at_the_rate_with_exponential_gaps(seed: int) -> None:
    rate, count = 200.0, 10_000
    offsets = Arrivals("poisson", rate).offsets(count, seed)
    gaps = [b - a for a, b in zip([0.0, *offsets], offsets, strict=False)]
    # The sum of 10,000 exponential gaps of mean 1/200 s: mean 50 s, standard deviation
    # sqrt(10,000) / 200 = 0.5 s. Six deviations either side.
    assert abs(offsets[-1] - count / rate) < 6 * math.sqrt(count) / rate
    # An exponential distribution's deviation equals its mean (a ramp's would be 0); the
    # estimate's relative error for 10,000 gaps is about 1.4 %.
    mean, deviation = statistics.fmean(gaps), statistics.pstdev(gaps)
    assert 0.92 < deviation / mean < 1.08
    # P(gap > mean) = 1/e for an exponential distribution; standard error about 0.5 %.
    beyond = sum(gap > 1 / rate for gap in gaps) / count
    assert abs(beyond - math.exp(-1)) < 0.03
    # Counted per tenth of a second, as the CSMS sees them: about 500 counts of mean 20,
    # whose variance equals their mean (a Poisson count's); standard error about 6 %.
    counts = [0] * math.ceil(offsets[-1] * 10)
    for offset in offsets:
        counts[int(offset * 10)] += 1
    whole = counts[:-1]  # the last tenth is cut short
    assert 0.75 < statistics.pvariance(whole) / statistics.fmean(whole) < 1.25


def test_poisson_arrivals_are_the_same_in_another_process() -> None:
    code = (
        "from mockpoint.load.arrivals import parse_arrivals\n"
        "print(repr(parse_arrivals('poisson:200/s').offsets(50_000, 42)[-3:]))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "987"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60 * UNIT,
        check=True,
    )
    expected = parse_arrivals("poisson:200/s").offsets(50_000, 42)[-3:]
    assert done.stdout == f"{expected!r}\n"

"""Injected time (VirtualClock, RFC 3339 timestamps) and unique-id generators."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockpoint.clock import SystemClock, VirtualClock, format_timestamp, parse_timestamp
from mockpoint.ids import CounterIds, SeededIds
from mockpoint.rpc.frames import MAX_UNIQUE_ID_LENGTH

START = 1_748_764_800.0  # 2025-06-01T08:00:00Z


class FakeMonotonic:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- VirtualClock --------------------------------------------------------------------------


def test_speed_zero_moves_only_by_advance() -> None:
    real = FakeMonotonic()
    clock = VirtualClock(START, speed=0, monotonic=real)
    real.now += 3600
    assert clock.now() == START
    clock.advance(90)
    assert clock.now() == START + 90
    clock.advance_to(START + 1000)
    assert clock.now() == START + 1000
    real.now += 50
    assert clock.now() == START + 1000


def test_speed_zero_does_not_wait() -> None:
    clock = VirtualClock(START, speed=0, monotonic=FakeMonotonic())
    assert clock.real_delay(START + 3600) == 0.0


@pytest.mark.parametrize("speed", [1.0, 60.0, 0.5])
def test_positive_speed_follows_the_monotonic_clock(speed: float) -> None:
    real = FakeMonotonic()
    clock = VirtualClock(START, speed=speed, monotonic=real)
    assert clock.now() == START
    real.now += 10
    assert clock.now() == pytest.approx(START + 10 * speed)
    clock.advance(100)  # a jump, then real time keeps counting from there
    assert clock.now() == pytest.approx(START + 10 * speed + 100)
    real.now += 2
    assert clock.now() == pytest.approx(START + 12 * speed + 100)


def test_real_delay_scales_with_speed() -> None:
    real = FakeMonotonic()
    clock = VirtualClock(START, speed=60, monotonic=real)
    assert clock.real_delay(START + 120) == pytest.approx(2.0)
    real.now += 1
    assert clock.real_delay(START + 120) == pytest.approx(1.0)
    assert clock.real_delay(START) == 0.0  # in the past: no waiting


@pytest.mark.parametrize("speed", [0.0, 1.0, 60.0])
def test_advance_never_goes_backwards(speed: float) -> None:
    real = FakeMonotonic()
    clock = VirtualClock(START, speed=speed, monotonic=real)
    clock.advance(100)
    before = clock.now()
    clock.advance_to(START)
    assert clock.now() == before
    clock.advance(-50)
    assert clock.now() == before
    real.now += 1
    assert clock.now() >= before


@settings(max_examples=50)
@given(st.lists(st.tuples(st.floats(-1e6, 1e6), st.floats(0, 100)), max_size=20))
def test_virtual_time_is_monotonic(steps: list[tuple[float, float]]) -> None:
    real = FakeMonotonic()
    clock = VirtualClock(START, speed=2.0, monotonic=real)
    last = clock.now()
    for jump, elapsed in steps:
        clock.advance_to(START + jump)
        real.now += elapsed
        assert clock.now() >= last
        last = clock.now()


def test_negative_speed_is_refused() -> None:
    with pytest.raises(ValueError, match="speed"):
        VirtualClock(START, speed=-1)


def test_system_clock_is_the_wall_clock() -> None:
    before = datetime.now(UTC).timestamp()
    now = SystemClock().now()
    assert before - 1 <= now <= datetime.now(UTC).timestamp() + 1


# --- timestamps ----------------------------------------------------------------------------


def test_format_whole_seconds_without_fraction() -> None:
    assert format_timestamp(START) == "2025-06-01T08:00:00Z"
    assert format_timestamp(0) == "1970-01-01T00:00:00Z"


def test_format_milliseconds_only_when_present() -> None:
    assert format_timestamp(START + 0.5) == "2025-06-01T08:00:00.500Z"
    assert format_timestamp(START + 0.001) == "2025-06-01T08:00:00.001Z"
    assert format_timestamp(START + 0.0004) == "2025-06-01T08:00:00Z"
    assert format_timestamp(START + 59.9996) == "2025-06-01T08:01:00Z"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-06-01T08:00:00Z", START),
        ("2025-06-01T08:00:00z", START),
        ("2025-06-01T08:00:00.250Z", START + 0.25),
        ("2025-06-01T10:00:00+02:00", START),
        ("2025-06-01T03:30:00-04:30", START),
        ("2025-06-01T08:00:00", START),  # naive: taken as UTC
    ],
)
def test_parse_timestamp(text: str, expected: float) -> None:
    assert parse_timestamp(text) == pytest.approx(expected)


def test_parse_rejects_garbage() -> None:
    with pytest.raises(ValueError):
        parse_timestamp("yesterday")


@given(st.integers(min_value=0, max_value=4_102_444_800_000))  # up to 2100, in ms
def test_format_parse_round_trip(millis: int) -> None:
    text = format_timestamp(millis / 1000)
    assert text.endswith("Z")
    assert round(parse_timestamp(text) * 1000) == millis
    assert format_timestamp(parse_timestamp(text)) == text
    fraction = text[len("2025-06-01T08:00:00") : -1]
    assert fraction == ("" if millis % 1000 == 0 else f".{millis % 1000:03d}")


# --- ids -----------------------------------------------------------------------------------


def test_seeded_ids_are_deterministic_per_seed() -> None:
    first, second = SeededIds(7), SeededIds(7)
    assert [first() for _ in range(20)] == [second() for _ in range(20)]
    assert SeededIds("cp-1")() == SeededIds("cp-1")()


def test_seeded_ids_differ_across_seeds() -> None:
    assert [SeededIds(0)() for _ in range(3)] != [SeededIds(1)() for _ in range(3)]
    assert SeededIds("a")() != SeededIds("b")()


def test_seeded_ids_leave_global_random_alone() -> None:
    import random

    random.seed(42)
    expected = random.random()
    random.seed(42)
    SeededIds(1)()
    assert random.random() == expected


def test_seeded_ids_are_short_and_unique() -> None:
    ids = SeededIds(3)
    values = [ids() for _ in range(10_000)]
    assert len(set(values)) == len(values)
    assert all(0 < len(value) <= MAX_UNIQUE_ID_LENGTH for value in values)


def test_counter_ids() -> None:
    ids = CounterIds()
    assert [ids(), ids(), ids()] == ["1", "2", "3"]
    prefixed = CounterIds("cp7-", start=10)
    assert [prefixed(), prefixed()] == ["cp7-10", "cp7-11"]

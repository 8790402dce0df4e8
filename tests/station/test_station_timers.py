"""The station's timers (``station/timers.py``): values of their own, a schedule with named
operations, the names the state file keeps, and a table that says what each kind does."""

from __future__ import annotations

import pytest

from mockpoint.station.station import ON_TIMER
from mockpoint.station.timers import NUMBERED, StationTimer, StationTimers, TimerKind


def test_every_kind_has_something_to_do_and_says_what_it_is_numbered_by() -> None:
    assert set(ON_TIMER) == set(TimerKind)
    assert set(NUMBERED) == set(TimerKind)


@pytest.mark.parametrize(
    ("timer", "name"),
    [
        (StationTimer.BOOT, "boot"),
        (StationTimer.HEARTBEAT, "heartbeat"),
        (StationTimer.ALIGNED, "aligned"),
        (StationTimer.sample(1), "sample:1"),
        (StationTimer.connection_timeout(2), "connection_timeout:2"),
        (StationTimer.reservation(9), "reservation:9"),
        (StationTimer.reservation(-3), "reservation:-3"),  # reservationId has no minimum
    ],
)
def test_names_are_those_the_state_file_has_always_kept(timer: StationTimer, name: str) -> None:
    assert timer.name == name
    assert StationTimer.parse(name) == timer
    assert hash(StationTimer.parse(name)) == hash(timer)


@pytest.mark.parametrize(
    "name", ["", "soon", "boot:1", "sample", "sample:", "sample:x", "sample:01", "sample: 1"]
)
def test_a_name_no_timer_has_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="not a timer of this station"):
        StationTimer.parse(name)


def test_a_numbered_kind_needs_its_number_and_the_others_take_none() -> None:
    with pytest.raises(ValueError, match="needs a number"):
        StationTimer(TimerKind.SAMPLE)
    with pytest.raises(ValueError, match="takes no number"):
        StationTimer(TimerKind.HEARTBEAT, 1)


def test_the_number_is_read_as_what_it_is() -> None:
    assert StationTimer.sample(3).connector_id == 3
    assert StationTimer.connection_timeout(2).connector_id == 2
    assert StationTimer.reservation(7).reservation_id == 7
    with pytest.raises(ValueError, match="not for a connector"):
        _ = StationTimer.reservation(7).connector_id
    with pytest.raises(ValueError, match="not for a reservation"):
        _ = StationTimer.sample(1).reservation_id


def test_per_connector_timers_are_made_once() -> None:
    """Sampling sets a timer per MeterValues: that allocates nothing."""
    assert StationTimer.sample(1) is StationTimer.sample(1)
    assert StationTimer.connection_timeout(1) is StationTimer.connection_timeout(1)
    assert StationTimer.sample(1) != StationTimer.connection_timeout(1)


def test_the_schedule_knows_its_earliest_due_time() -> None:
    timers = StationTimers()
    assert timers.next_due() is None
    timers.set(StationTimer.HEARTBEAT, 300)
    timers.set(StationTimer.sample(1), 60)
    assert timers.next_due() == 60
    assert timers.is_set(StationTimer.sample(1))
    timers.set(StationTimer.sample(1), 400)  # moved later: the heartbeat is next
    assert timers.next_due() == 300
    timers.cancel(StationTimer.HEARTBEAT)
    timers.cancel(StationTimer.BOOT)  # not set: nothing happens
    assert timers.next_due() == 400
    timers.clear()
    assert timers.next_due() is None
    assert not timers.is_set(StationTimer.sample(1))


def test_due_timers_come_earliest_first_then_by_name() -> None:
    """Ties go by the state file's name, as they always have: "reservation:10" before
    "reservation:9", "sample:10" before "sample:2"."""
    timers = StationTimers()
    for timer in (
        StationTimer.sample(2),
        StationTimer.reservation(9),
        StationTimer.sample(10),
        StationTimer.reservation(10),
        StationTimer.HEARTBEAT,
    ):
        timers.set(timer, 100)
    timers.set(StationTimer.ALIGNED, 50)
    timers.set(StationTimer.BOOT, 101)
    due = timers.pop_due(100)
    assert [timer.name for timer in due] == [
        "aligned",
        "heartbeat",
        "reservation:10",
        "reservation:9",
        "sample:10",
        "sample:2",
    ]
    assert timers.pop_due(100) == []
    assert timers.next_due() == 101


def test_the_state_is_by_name_and_loads_back_with_its_earliest_time() -> None:
    timers = StationTimers()
    timers.set(StationTimer.sample(1), 90)
    timers.set(StationTimer.HEARTBEAT, 300)
    timers.set(StationTimer.ALIGNED, 900)
    state = timers.to_state()
    assert list(state.items()) == [("aligned", 900), ("heartbeat", 300), ("sample:1", 90)]
    loaded = StationTimers()
    assert loaded.next_due() is None  # known and empty: loading must not keep that
    loaded.load({StationTimer.parse(name): when for name, when in state.items()})
    assert loaded.next_due() == 90
    assert loaded.to_state() == state

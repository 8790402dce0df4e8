"""The shared timer heap: order, cancellation, ticks, and a bounded heap."""

from __future__ import annotations

import asyncio
import math

from mockpoint.runtime.timers import Timers


async def test_timers_fire_in_due_order_each_once() -> None:
    timers = Timers()
    fired: list[str] = []
    loop = asyncio.get_running_loop()
    now = loop.time()
    for name, delay in [("c", 0.03), ("a", 0.01), ("b", 0.02)]:
        timers.call_at(now + delay, lambda name=name: fired.append(name))
    async with asyncio.timeout(5):
        while len(fired) < 3:
            await asyncio.sleep(0.01)
    assert fired == ["a", "b", "c"]
    assert len(timers) == 0


async def test_a_cancelled_timer_never_fires_and_an_earlier_one_rearms_the_loop() -> None:
    timers = Timers()
    fired: list[str] = []
    late = timers.call_later(1.0, lambda: fired.append("late"))
    gone = timers.call_later(0.02, lambda: fired.append("gone"))
    timers.call_later(0.01, lambda: fired.append("early"))  # earlier than the armed one
    timers.cancel(gone)
    timers.cancel(gone)  # twice is fine
    assert gone.active is False and late.active is True
    async with asyncio.timeout(5):
        while not fired:
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    assert fired == ["early"]  # "gone" was due 30 ms ago
    async with asyncio.timeout(5):
        while len(fired) < 2:
            await asyncio.sleep(0.05)
    assert fired == ["early", "late"]


async def test_a_timer_set_while_firing_waits_for_the_next_wake_up() -> None:
    timers = Timers()
    past = asyncio.get_running_loop().time() - 1
    fired: list[str] = []

    def first() -> None:
        fired.append("first")
        timers.call_at(past, lambda: fired.append("set by first"))  # already due

    timers.call_at(past, first)
    timers.call_at(past, lambda: fired.append("second"))
    timers._fire()  # one wake-up, as the loop would make it
    assert fired == ["first", "second"]
    async with asyncio.timeout(5):
        while len(fired) < 3:
            await asyncio.sleep(0.01)
    assert fired == ["first", "second", "set by first"]


async def test_with_a_resolution_timers_due_within_one_tick_fire_together_never_early() -> None:
    timers = Timers(resolution=0.05)
    loop = asyncio.get_running_loop()
    fired: list[float] = []
    # Three timers in one tick: after a multiple of 0.05 s of the loop's clock, before the next.
    tick = math.ceil(loop.time() / 0.05) * 0.05
    for offset in (0.001, 0.01, 0.02):
        due = tick + offset
        timers.call_at(due, lambda due=due: fired.append(loop.time() - due))
    await asyncio.sleep(tick + 0.15 - loop.time())
    assert len(fired) == 3
    assert all(lateness >= -0.002 for lateness in fired)  # the loop's clock is ms-grained
    # One wake-up fired all three: their lateness differs by their spacing only.
    assert abs((fired[0] - fired[2]) - 0.019) < 0.005


async def test_cancelled_entries_are_dropped_once_they_outnumber_the_live_ones() -> None:
    timers = Timers()
    keep = [timers.call_later(60, lambda: None) for _ in range(10)]
    for _ in range(1000):
        timers.cancel(timers.call_later(30, lambda: None))
    assert len(timers) == 10
    assert len(timers._heap) < 200  # not 1,010: the heap stays near its live size
    timers.close()
    assert all(timer.active for timer in keep)  # closing forgets them without firing

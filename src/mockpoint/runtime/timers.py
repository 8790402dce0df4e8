"""The timers of many charge points in one heap, behind one event-loop timer.

A load run holds thousands of charge points, each with a next station timer (heartbeat,
meter sample, ...) and the deadline of the CALL it has in flight; both move with nearly
every message. One loop timer each, cancelled and armed again at every move, cost a handle
per move and a wake-up per timer. Here a move is a push onto a heap, the loop holds one
timer for the earliest entry, and entries due together fire in one wake-up.

Times are the event loop's (:meth:`asyncio.AbstractEventLoop.time`). Cancelling marks an
entry dead where it lies; dead entries are dropped when they reach the top, and the heap is
rebuilt without them when they outnumber the live ones, so it stays bounded by about three
entries per live timer.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import math
from collections.abc import Callable

logger = logging.getLogger(__name__)

#: Entries due within this many seconds of the earliest fire in the same wake-up (the
#: event loop's own timers have a resolution of about a millisecond).
SLACK = 0.001


class Timer:
    """One scheduled callback; :meth:`cancel` it or let it fire (once)."""

    __slots__ = ("callback", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback: Callable[[], None] | None = callback

    def cancel(self) -> None:
        self.callback = None

    @property
    def active(self) -> bool:
        return self.callback is not None


class Timers:
    """A heap of :class:`Timer` entries on one event loop.

    With a ``resolution`` (seconds), the loop wakes on multiples of it only, and each
    wake-up fires every timer due by then: timers fire up to that much late, and a thousand
    timers a second cost a hundred wake-ups at 10 ms instead of a thousand.
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop | None = None, *, resolution: float = 0.0
    ) -> None:
        self._loop = loop
        self._resolution = resolution
        self._heap: list[tuple[float, int, Timer]] = []
        self._order = itertools.count()
        self._handle: asyncio.TimerHandle | None = None
        self._armed_for: float | None = None
        self._dead = 0

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def time(self) -> float:
        return self.loop.time()

    def call_at(self, when: float, callback: Callable[[], None]) -> Timer:
        """Call ``callback`` once the loop's time reaches ``when``."""
        timer = Timer(when, callback)
        heapq.heappush(self._heap, (when, next(self._order), timer))
        wake = self._wake_for(when)
        if self._armed_for is None or wake < self._armed_for:
            self._arm(wake)
        return timer

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return self.call_at(self.loop.time() + max(0.0, delay), callback)

    def cancel(self, timer: Timer | None) -> None:
        """Cancel ``timer`` (None and a fired or cancelled timer are fine)."""
        if timer is None or timer.callback is None:
            return
        timer.callback = None
        self._dead += 1
        if self._dead > 64 and self._dead > 2 * (len(self._heap) - self._dead):
            self._heap = [entry for entry in self._heap if entry[2].callback is not None]
            heapq.heapify(self._heap)
            self._dead = 0

    def __len__(self) -> int:
        """Timers waiting to fire."""
        return len(self._heap) - self._dead

    def close(self) -> None:
        """Forget every timer."""
        if self._handle is not None:
            self._handle.cancel()
        self._handle = None
        self._armed_for = None
        self._heap.clear()
        self._dead = 0

    def _wake_for(self, when: float) -> float:
        resolution = self._resolution
        if not resolution:
            return when
        return math.ceil(when / resolution) * resolution

    def _arm(self, when: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._armed_for = when
        self._handle = self.loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._handle = None
        self._armed_for = None
        heap = self._heap
        limit = self.loop.time() + SLACK
        due: list[Timer] = []
        while heap and heap[0][0] <= limit:
            timer = heapq.heappop(heap)[2]
            if timer.callback is None:
                self._dead -= 1
            else:
                due.append(timer)
        # Timers set by these callbacks wait for the next wake-up, even when due at once.
        for timer in due:
            callback = timer.callback
            if callback is None:  # cancelled by an earlier callback of this wake-up, and
                self._dead -= 1  # counted dead though no longer in the heap
                continue
            timer.callback = None
            try:
                callback()
            except Exception:  # one charge point's bug must not stop the others' timers
                logger.exception("timer callback failed")
        while heap and heap[0][2].callback is None:
            heapq.heappop(heap)
            self._dead -= 1
        if heap:
            wake = self._wake_for(heap[0][0])
            if self._armed_for is None or wake < self._armed_for:
                self._arm(wake)

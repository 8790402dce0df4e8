"""Injected time.

The OCPP core and the station model never read the wall clock: they are handed a
:class:`Clock`. Scenarios run on a :class:`VirtualClock` whose ``speed`` says how virtual
time relates to real time (0: it moves only when advanced, so a 10-hour session takes no
real time; 1: real time; 60: a minute per real second). Times are POSIX seconds (float).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """What the core needs of time: the current (possibly virtual) POSIX time."""

    def now(self) -> float: ...


class DrivingClock(Clock, Protocol):
    """What a charge point's driver needs of time: whether it moves by itself, how long to
    really wait for an instant, and moving it on when it does not."""

    @property
    def paused(self) -> bool:
        """True when time moves only through :meth:`advance_to` (virtual, at speed 0)."""
        ...

    def real_delay(self, when: float) -> float:
        """Real seconds until ``when``; 0 when paused (the driver jumps instead)."""
        ...

    def advance_to(self, when: float) -> None: ...


class SystemClock:
    """The wall clock."""

    paused = False

    def now(self) -> float:
        return time.time()

    def real_delay(self, when: float) -> float:
        return max(0.0, when - time.time())

    def advance_to(self, when: float) -> None:
        """The wall clock cannot be moved: nothing to do (time gets there by itself)."""


class VirtualClock:
    """Virtual time that starts at ``start`` and runs at ``speed`` times real time.

    At speed 0 it moves only through :meth:`advance_to`; at any other speed it also moves
    with the real monotonic clock, and :meth:`real_delay` says how long to really wait for a
    virtual instant.
    """

    # Slots: a load run holds thousands of these.
    __slots__ = ("_anchor", "_base", "_monotonic", "speed")

    def __init__(
        self,
        start: float,
        speed: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed < 0:
            raise ValueError("clock speed must be >= 0")
        self.speed = speed
        self._monotonic = monotonic
        self._base = start
        self._anchor = monotonic()

    def now(self) -> float:
        if self.speed == 0:
            return self._base
        return self._base + (self._monotonic() - self._anchor) * self.speed

    @property
    def paused(self) -> bool:
        """Moves only through :meth:`advance_to` (speed 0)."""
        return self.speed == 0

    def advance_to(self, when: float) -> None:
        """Jump forward to ``when`` (never backwards)."""
        if when > self.now():
            self._base = when
            self._anchor = self._monotonic()

    def advance(self, seconds: float) -> None:
        self.advance_to(self.now() + seconds)

    def set_speed(self, speed: float) -> None:
        """Run at ``speed`` from now on; the time already reached stays. A driver that
        arms timers from :meth:`real_delay` must re-arm them."""
        if speed < 0:
            raise ValueError("clock speed must be >= 0")
        self._base = self.now()
        self._anchor = self._monotonic()
        self.speed = speed

    def real_delay(self, when: float) -> float:
        """Real seconds until virtual ``when``; 0 at speed 0 (the caller jumps instead)."""
        if self.speed == 0:
            return 0.0
        return max(0.0, (when - self.now()) / self.speed)


def parse_timestamp(text: str) -> float:
    """POSIX seconds of an RFC 3339 timestamp; a naive one is taken as UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def format_timestamp(when: float) -> str:
    """RFC 3339 in UTC with a ``Z``: whole seconds, or milliseconds when there are any."""
    millis = round(when * 1000)
    seconds, ms = divmod(millis, 1000)
    moment = _second(seconds)
    return f"{moment}.{ms:03d}Z" if ms else f"{moment}Z"


@functools.lru_cache(maxsize=64)
def _second(seconds: int) -> str:
    # A load run's charge points stamp thousands of messages in the same few seconds.
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")

"""The station's own timers: what it does when virtual time reaches a moment.

A charge point keeps background work on a schedule: the boot retry after a Pending or
Rejected BootNotification (OCPP 1.6 §4.2), the Heartbeat (§4.6), sampled meter values per
connector (§4.7, MeterValueSampleInterval), clock-aligned meter data (§4.7,
ClockAlignedDataInterval), the ConnectionTimeOut of a remote start waiting for a cable
(§5.11) and the expiry of a reservation (§5.13). Each is a :class:`StationTimer`: a
:class:`TimerKind` and, for the kinds :data:`NUMBERED` says, the connector or reservation it
is for. A station holds at most one timer of each value; :class:`StationTimers` is its
schedule, and ``Station.on_timer`` looks the kind of each due timer up in the station's
table of what to do (``station.ON_TIMER``).

The state file (``persist.py``) keeps the schedule under ``timers`` with each timer's
:attr:`StationTimer.name` as the key (``"heartbeat"``, ``"sample:1"``,
``"reservation:9"``); :meth:`StationTimer.parse` reads it back. Nothing else builds or splits
those names.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import ClassVar, NamedTuple

__all__ = ["NUMBERED", "StationTimer", "StationTimers", "TimerKind"]


class TimerKind(StrEnum):
    """What a timer is for; the value starts its name in the state file."""

    #: BootNotification again after a Pending / Rejected / failed one (§4.2)
    BOOT = "boot"
    #: Heartbeat.req every HeartbeatInterval (§4.6)
    HEARTBEAT = "heartbeat"
    #: a transaction's MeterValues.req every MeterValueSampleInterval (§4.7)
    SAMPLE = "sample"
    #: a remote start's wait for a cable ends after ConnectionTimeOut (§5.11)
    CONNECTION_TIMEOUT = "connection_timeout"
    #: a reservation's expiryDate (§5.13)
    RESERVATION = "reservation"
    #: the end of a ClockAlignedDataInterval (§4.7)
    ALIGNED = "aligned"


_K = TimerKind
# Read in the hot path: an enum member read from its class costs a descriptor call.
_RESERVATION = TimerKind.RESERVATION

#: What a timer's number is, by kind: a connector id, a reservationId, or None for the kinds
#: a station has one timer of.
NUMBERED: dict[TimerKind, str | None] = {
    _K.BOOT: None,
    _K.HEARTBEAT: None,
    _K.SAMPLE: "connector",
    _K.CONNECTION_TIMEOUT: "connector",
    _K.RESERVATION: "reservation",
    _K.ALIGNED: None,
}


class _Timer(NamedTuple):
    kind: TimerKind
    number: int | None


class StationTimer(_Timer):
    """One timer of a station: ``StationTimer(TimerKind.CONNECTION_TIMEOUT, 1)``.

    An immutable value (a named tuple underneath, so that hashing and comparing it in the
    schedule costs what a string key did: nothing of it runs in Python). Use the class
    attributes and constructors (:attr:`HEARTBEAT`, :meth:`sample`, ...): the per-connector
    ones are made once and shared by every station, so setting a timer for a MeterValues
    sample allocates nothing.
    """

    __slots__ = ()

    BOOT: ClassVar[StationTimer]
    HEARTBEAT: ClassVar[StationTimer]
    ALIGNED: ClassVar[StationTimer]

    def __new__(cls, kind: TimerKind, number: int | None = None) -> StationTimer:
        kind = TimerKind(kind)
        numbered = NUMBERED[kind] is not None
        if numbered != (number is not None) or isinstance(number, bool):
            needs = "needs a number" if numbered else "takes no number"
            raise ValueError(f"a {kind} timer {needs}, got {number!r}")
        return super().__new__(cls, kind, number)

    def __repr__(self) -> str:
        return f"StationTimer({self.kind.name}, {self.number})"

    @property
    def name(self) -> str:
        """The key in the state file (``persist.py``): ``"heartbeat"``, ``"sample:1"``."""
        kind = self.kind.value
        return kind if self.number is None else f"{kind}:{self.number}"

    @classmethod
    def sample(cls, connector_id: int) -> StationTimer:
        """The connector's next sampled MeterValues (§4.7)."""
        timer = _SAMPLES.get(connector_id)
        if timer is None:
            timer = _SAMPLES[connector_id] = cls(_K.SAMPLE, connector_id)
        return timer

    @classmethod
    def connection_timeout(cls, connector_id: int) -> StationTimer:
        """The end of a remote start's wait for a cable on the connector (§5.11)."""
        timer = _CONNECTION_TIMEOUTS.get(connector_id)
        if timer is None:
            timer = _CONNECTION_TIMEOUTS[connector_id] = cls(_K.CONNECTION_TIMEOUT, connector_id)
        return timer

    @classmethod
    def reservation(cls, reservation_id: int) -> StationTimer:
        """The reservation's expiryDate (§5.13)."""
        return cls(_K.RESERVATION, reservation_id)

    @classmethod
    def parse(cls, name: str) -> StationTimer:
        """The timer a state file names ``name``; ValueError for a name no timer has."""
        kind_name, colon, number = name.partition(":")
        try:
            kind = TimerKind(kind_name)
            timer = cls(kind, int(number)) if colon else cls(kind)
        except ValueError:
            raise ValueError(f"not a timer of this station: {name!r}") from None
        if timer.name != name:  # "sample:01", "sample: 1"
            raise ValueError(f"not a timer of this station: {name!r}")
        return timer

    @property
    def connector_id(self) -> int:
        """The connector of a :attr:`TimerKind.SAMPLE` or CONNECTION_TIMEOUT timer."""
        number = self.number
        if number is None or self.kind is _RESERVATION:
            raise ValueError(f"a {self.kind} timer is not for a connector")
        return number

    @property
    def reservation_id(self) -> int:
        """The reservationId of a :attr:`TimerKind.RESERVATION` timer."""
        number = self.number
        if number is None or self.kind is not _RESERVATION:
            raise ValueError(f"a {self.kind} timer is not for a reservation")
        return number


StationTimer.BOOT = StationTimer(_K.BOOT)
StationTimer.HEARTBEAT = StationTimer(_K.HEARTBEAT)
StationTimer.ALIGNED = StationTimer(_K.ALIGNED)
# Shared by every station: connector ids are few, so these stay small.
_SAMPLES: dict[int, StationTimer] = {}
_CONNECTION_TIMEOUTS: dict[int, StationTimer] = {}


class StationTimers:
    """A station's schedule: when each of its timers is due, in virtual time (POSIX s).

    The driver asks :meth:`next_due` after every change, so the earliest due time is kept
    while it is known and computed again only after a timer it may have been was cancelled,
    moved or fired.
    """

    # Slots: a load run holds thousands of these.
    __slots__ = ("_due", "_earliest", "_known")

    def __init__(self) -> None:
        self._due: dict[StationTimer, float] = {}
        self._earliest: float | None = None
        self._known = True

    def set(self, timer: StationTimer, when: float) -> None:
        """Make ``timer`` due at ``when``, replacing its previous due time if it had one."""
        if timer in self._due:
            self._known = False
        elif self._known and (self._earliest is None or when < self._earliest):
            self._earliest = when
        self._due[timer] = when

    def cancel(self, timer: StationTimer) -> None:
        """Forget ``timer``; nothing if it was not set."""
        if self._due.pop(timer, None) is not None:
            self._known = False

    def is_set(self, timer: StationTimer) -> bool:
        return timer in self._due

    def next_due(self) -> float | None:
        """The earliest due time of any timer, or None when none is set."""
        if not self._known:
            self._earliest = min(self._due.values(), default=None)
            self._known = True
        return self._earliest

    def pop_due(self, now: float) -> list[StationTimer]:
        """Take the timers due at ``now``, earliest first; ties by name (deterministic)."""
        due = [timer for timer, when in self._due.items() if when <= now]
        if not due:
            return due
        if len(due) > 1:
            due.sort(key=self._order)
        for timer in due:
            del self._due[timer]
        self._known = False
        return due

    def _order(self, timer: StationTimer) -> tuple[float, str]:
        return self._due[timer], timer.name

    def clear(self) -> None:
        """Forget every timer (the station rebooted)."""
        self._due.clear()
        self._earliest = None
        self._known = True

    def to_state(self) -> dict[str, float]:
        """The schedule as the state file keeps it: name -> due time, by name."""
        return {timer.name: when for timer, when in sorted(self._due.items(), key=_by_name)}

    def load(self, due: Mapping[StationTimer, float]) -> None:
        """Replace the schedule with ``due`` (a state file read back)."""
        self._due = dict(due)
        self._known = False


def _by_name(item: tuple[StationTimer, float]) -> str:
    return item[0].name

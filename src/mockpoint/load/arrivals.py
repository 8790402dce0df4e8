"""When the charge points of a load run arrive: ``--arrivals`` and a fleet's ``arrivals:``
(docs/load-fleets.md).

- ``ramp:RATE``: one every ``1/RATE`` seconds, from the start (the fixed ``--ramp-up``);
- ``poisson:RATE``: a Poisson process of ``RATE`` arrivals per second on average, the gaps
  between arrivals drawn from an exponential distribution;
- ``all-at-once``: every charge point at the start.

``RATE`` is charge points per second, ``200`` or ``200/s``, or per minute or hour: ``6000/m``,
``6000/min``, ``720000/h``.

Offsets are seconds from the start of the run, the k-th for the k-th charge point of the run
(in the order of their numbers). They depend on the seed alone: ``random.Random(seed)``,
never the global generator, so every shard of a run, in whatever process or machine, computes
the same offsets and takes those of its own charge points.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Literal

from mockpoint.errors import UsageError

__all__ = ["KINDS", "Arrivals", "parse_arrivals", "parse_rate"]

Kind = Literal["ramp", "poisson", "all-at-once"]
#: The arrival processes, as written.
KINDS: tuple[Kind, ...] = ("ramp", "poisson", "all-at-once")

#: Seconds per unit of a rate: ``/s``, ``/m`` (or ``/min``) and ``/h``.
_PER = {"s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_EXAMPLE = "ramp:200/s, poisson:200/s, poisson:6000/m or all-at-once"


def parse_rate(text: str) -> float:
    """Charge points per second of ``200``, ``200/s``, ``6000/m``, ``6000/min`` or
    ``720000/h``; raises ValueError naming what is wrong."""
    number, slash, unit = text.strip().partition("/")
    per = _PER.get(unit.strip().lower()) if slash else 1.0
    if per is None:
        raise ValueError(f"{text!r}: a rate is per second (/s), minute (/m) or hour (/h)")
    try:
        rate = float(number) / per
    except ValueError:
        raise ValueError(f"{text!r} is not a rate: write a number per second, e.g. 200/s") from None
    if not rate > 0 or math.isinf(rate):
        raise ValueError(f"{text!r}: a rate must be more than 0 and finite")
    return rate


@dataclass(frozen=True)
class Arrivals:
    """An arrival process: its kind and, but for ``all-at-once``, its rate (charge points
    per second). Picklable, so it travels to worker processes with the shard's plan."""

    kind: Kind
    rate: float | None = None

    @classmethod
    def parse(cls, text: str) -> Arrivals:
        """The process ``text`` writes (see the module docstring); raises ValueError."""
        if not isinstance(text, str):
            raise ValueError(f"arrivals are written as text: {_EXAMPLE}")
        kind, colon, rate = text.strip().partition(":")
        kind = kind.strip().lower()
        if kind == "all-at-once":
            if colon:
                raise ValueError(f"{text!r}: all-at-once takes no rate")
            return cls("all-at-once")
        if kind not in ("ramp", "poisson"):
            raise ValueError(f"{text!r} is not an arrival process: write {_EXAMPLE}")
        if not rate.strip():
            raise ValueError(f"{text!r}: give the rate, e.g. {kind}:200/s")
        return cls(kind, parse_rate(rate))  # type: ignore[arg-type]

    def __str__(self) -> str:
        return self.kind if self.rate is None else f"{self.kind}:{self.rate:g}/s"

    def offsets(self, count: int, seed: int = 0) -> list[float]:
        """Seconds from the start of the run at which each of ``count`` charge points
        arrives, in order: the same for the same seed in every process."""
        if self.kind == "all-at-once" or self.rate is None:
            return [0.0] * count
        if self.kind == "ramp":
            return [index / self.rate for index in range(count)]
        # A Poisson process: independent exponential gaps of mean 1/rate, the first one
        # before the first arrival.
        rng = random.Random(seed)
        offsets, at = [], 0.0
        for _ in range(count):
            at += rng.expovariate(self.rate)
            offsets.append(at)
        return offsets

    def offset(self, index: int, seed: int = 0) -> float:
        """The offset of the ``index``-th (0-based) charge point: a ramp's and all at once
        without a list. A Poisson process draws every gap before it (50,000 take about
        10 ms), so take :meth:`offsets` once to look up many. Offsets do not depend on how
        many charge points follow: ``offsets(n)[k] == offset(k)`` for every ``n > k``."""
        if index < 0:
            raise IndexError(f"arrival {index}")
        if self.kind == "all-at-once" or self.rate is None:
            return 0.0
        if self.kind == "ramp":
            return index / self.rate
        return self.offsets(index + 1, seed)[index]


def parse_arrivals(text: str, source: str = "--arrivals") -> Arrivals:
    """The arrival process of ``--arrivals`` (or of ``source``); raises UsageError."""
    try:
        return Arrivals.parse(text)
    except ValueError as exc:
        raise UsageError(f"{source}: {exc}") from None

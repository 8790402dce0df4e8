"""Seeded random faults over a whole run: a :class:`~mockpoint.transport.Transport` wrapper.

Every decision comes from one ``random.Random(seed)``, taken in frame order, so the same
scenario with the same seed loses the same frames and drops the connection at the same
frame every time; only the latency is real time.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from mockpoint.errors import ConnectionLost
from mockpoint.transport.base import Transport


class InjectedDisconnect(ConnectionLost):
    """The connection was dropped on purpose by fault injection (not a CSMS failure)."""


@dataclass(frozen=True)
class RandomFaults:
    seed: int = 0
    #: real seconds added before each frame is sent: uniform in [min, max]
    latency: tuple[float, float] | None = None
    #: probability that a frame (either way) is lost
    drop: float = 0.0
    #: probability, per frame sent, that the connection drops instead
    disconnect: float = 0.0


class FaultyTransport:
    """Wraps a transport with the faults of ``faults``, drawn from ``rng``."""

    def __init__(self, inner: Transport, faults: RandomFaults, rng: random.Random) -> None:
        self._inner = inner
        self._faults = faults
        self._rng = rng
        self.dropped = 0

    async def send(self, text: str) -> None:
        faults, rng = self._faults, self._rng
        if faults.latency is not None:
            await asyncio.sleep(rng.uniform(*faults.latency))
        if faults.disconnect and rng.random() < faults.disconnect:
            await self._inner.close(1001, "fault injection")
            raise InjectedDisconnect("connection dropped by fault injection")
        if faults.drop and rng.random() < faults.drop:
            self.dropped += 1
            return
        await self._inner.send(text)

    async def receive(self) -> str:
        while True:
            try:
                text = await self._inner.receive()
            except InjectedDisconnect:
                raise
            except ConnectionLost as exc:
                if self._inner.closed and "fault injection" in str(exc):
                    raise InjectedDisconnect(str(exc)) from exc
                raise
            if self._faults.drop and self._rng.random() < self._faults.drop:
                self.dropped += 1
                continue
            return text

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._inner.close(code, reason)

    def abort(self) -> None:
        self._inner.abort()

    @property
    def closed(self) -> bool:
        return self._inner.closed

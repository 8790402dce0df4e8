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
from mockpoint.transport.base import Receiver, Transport


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
        #: frames written and waiting out their latency, in order
        self._delayed: list[str] = []
        self._sender: asyncio.Task[None] | None = None
        self._injected: InjectedDisconnect | None = None
        self._closing: asyncio.Task[None] | None = None

    def start(self, receiver: Receiver) -> None:
        self._inner.start(_Arrivals(self, receiver))

    def write(self, text: str) -> None:
        if self._injected is not None:
            raise self._injected
        if self._faults.latency is None:
            self._deliver(text)
            return
        self._delayed.append(text)
        if self._sender is None:
            self._sender = asyncio.ensure_future(self._send_delayed())

    async def _send_delayed(self) -> None:
        latency = self._faults.latency
        assert latency is not None
        try:
            while self._delayed and self._injected is None:
                await asyncio.sleep(self._rng.uniform(*latency))
                text = self._delayed.pop(0)
                try:
                    self._deliver(text)
                except ConnectionLost:
                    self._delayed.clear()
        finally:
            self._sender = None

    def _deliver(self, text: str) -> None:
        faults, rng = self._faults, self._rng
        if faults.disconnect and rng.random() < faults.disconnect:
            self._injected = InjectedDisconnect("connection dropped by fault injection")
            self._closing = asyncio.ensure_future(self._inner.close(1001, "fault injection"))
            raise self._injected
        if faults.drop and rng.random() < faults.drop:
            self.dropped += 1
            return
        self._inner.write(text)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._inner.close(code, reason)

    def abort(self) -> None:
        self._inner.abort()

    @property
    def closed(self) -> bool:
        return self._inner.closed


class _Arrivals:
    """The receiver between the inner transport and the real one: loses frames at random,
    and names a loss fault injection caused as such."""

    def __init__(self, owner: FaultyTransport, receiver: Receiver) -> None:
        self._owner = owner
        self._receiver = receiver

    def received(self, text: str) -> None:
        owner = self._owner
        if owner._faults.drop and owner._rng.random() < owner._faults.drop:
            owner.dropped += 1
            return
        self._receiver.received(text)

    def connection_lost(self, reason: ConnectionLost) -> None:
        owner = self._owner
        if not isinstance(reason, InjectedDisconnect) and (
            owner._injected is not None
            or (owner._inner.closed and "fault injection" in str(reason))
        ):
            reason = InjectedDisconnect(str(reason))
        self._receiver.connection_lost(reason)

"""An in-memory transport pair: what one end sends, the other receives, in order.

For unit tests of anything above the transport, and for users' own tests (it is public).
"""

from __future__ import annotations

import asyncio

from mockpoint.errors import ConnectionLost
from mockpoint.transport.base import Receiver


class _Closed:
    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason


class MemoryTransport:
    def __init__(self) -> None:
        self._inbox: asyncio.Queue[str | _Closed] = asyncio.Queue()
        self._peer: MemoryTransport | None = None
        self._closed: _Closed | None = None
        self._pump: asyncio.Task[None] | None = None

    async def send(self, text: str) -> None:
        self.write(text)

    def write(self, text: str) -> None:
        if self._closed is not None or self._peer is None:
            raise ConnectionLost("the in-memory connection is closed")
        self._peer._inbox.put_nowait(text)

    def start(self, receiver: Receiver) -> None:
        """Hand every message to ``receiver`` from a task reading :meth:`receive`."""
        self._pump = asyncio.ensure_future(self._deliver(receiver))

    async def _deliver(self, receiver: Receiver) -> None:
        while True:
            try:
                text = await self.receive()
            except ConnectionLost as exc:
                receiver.connection_lost(exc)
                return
            receiver.received(text)

    async def receive(self) -> str:
        item = await self._inbox.get()
        if isinstance(item, _Closed):
            self._inbox.put_nowait(item)  # every later receive fails the same way
            self._closed = item
            raise ConnectionLost(f"connection closed ({item.code} {item.reason})".strip())
        return item

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self._closed is not None:
            return
        closed = _Closed(code, reason)
        self._closed = closed
        self._inbox.put_nowait(closed)
        if self._peer is not None and self._peer._closed is None:
            self._peer._closed = closed
            self._peer._inbox.put_nowait(closed)

    def abort(self) -> None:
        """Both ends see the connection gone with 1006 (RFC 6455 §7.1.5: no close frame)."""
        if self._closed is None:
            closed = _Closed(1006, "")
            self._closed = closed
            self._inbox.put_nowait(closed)
            if self._peer is not None and self._peer._closed is None:
                self._peer._closed = closed
                self._peer._inbox.put_nowait(closed)

    @property
    def closed(self) -> bool:
        return self._closed is not None


def memory_pair() -> tuple[MemoryTransport, MemoryTransport]:
    """Two connected ends: (charge point side, central system side)."""
    left, right = MemoryTransport(), MemoryTransport()
    left._peer, right._peer = right, left
    return left, right

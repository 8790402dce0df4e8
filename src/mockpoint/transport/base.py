"""What the runners need of a connection: text messages in and out, and closing.

The connection pushes what arrives: :meth:`Transport.start` hands every message to a
:class:`Receiver` as it comes, in order, then the loss of the connection
(:meth:`Receiver.connection_lost`), once; nothing waits in a task to receive.
:meth:`Transport.write` queues a text to send without waiting.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from mockpoint.errors import ConnectionLost


class Receiver(Protocol):
    """What a transport hands its connection's messages to."""

    def received(self, text: str) -> None:
        """One whole text message arrived (a binary one as a
        :class:`~mockpoint.rpc.frames.BinaryText`)."""

    def connection_lost(self, reason: ConnectionLost) -> None:
        """The connection is gone; nothing more arrives. Told once."""


class Transport(Protocol):
    """One open OCPP-J connection.

    Every exception of the underlying library is translated at this edge into
    :class:`mockpoint.errors.ConnectionLost`.
    """

    def start(self, receiver: Receiver) -> None:
        """From now on hand every message to ``receiver``, in order, then the loss."""

    def write(self, text: str) -> None:
        """Send ``text`` after everything written before it; raises ConnectionLost once the
        connection is gone."""

    async def close(self, code: int = 1000, reason: str = "") -> None: ...

    def abort(self) -> None:
        """Drop the connection at once, without a closing handshake (RFC 6455 §7.1.7): what
        the peer sees of a cut cable or a power loss."""

    @property
    def closed(self) -> bool: ...


class Inbox:
    """A :class:`Receiver` that keeps what arrives for a coroutine to take: a connection
    read by hand, one :meth:`receive` at a time (tests, tools)::

        inbox = Inbox(transport)
        await inbox.send('[2,"1","Heartbeat",{}]')
        answer = await inbox.receive()
    """

    def __init__(self, transport: Transport) -> None:
        self._transport = transport
        self._queue: asyncio.Queue[str | ConnectionLost] = asyncio.Queue()
        transport.start(self)

    def received(self, text: str) -> None:
        self._queue.put_nowait(text)

    def connection_lost(self, reason: ConnectionLost) -> None:
        self._queue.put_nowait(reason)

    async def receive(self) -> str:
        """The next message; raises ConnectionLost once the connection is gone (and on every
        call after that)."""
        item = await self._queue.get()
        if isinstance(item, ConnectionLost):
            self._queue.put_nowait(item)
            raise item
        return item

    async def send(self, text: str) -> None:
        self._transport.write(text)

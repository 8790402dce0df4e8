"""What the runners need of a connection: text messages in and out, and closing."""

from __future__ import annotations

from typing import Protocol


class Transport(Protocol):
    """One open OCPP-J connection.

    ``receive`` raises :class:`mockpoint.errors.ConnectionLost` once the connection is gone;
    every other exception of the underlying library is translated at this edge.
    """

    async def send(self, text: str) -> None: ...

    async def receive(self) -> str: ...

    async def close(self, code: int = 1000, reason: str = "") -> None: ...

    def abort(self) -> None:
        """Drop the connection at once, without a closing handshake (RFC 6455 §7.1.7): what
        the peer sees of a cut cable or a power loss."""

    @property
    def closed(self) -> bool: ...

"""The WebSocket transport, on the ``websockets`` library.

OCPP-J 1.6 §3: the charge point connects to ``<csms url>/<charge point identity>`` and
offers the subprotocol ``ocpp1.6``; a server that does not select it is refused. Every
exception of the library is translated here: failing to connect raises
:class:`~mockpoint.errors.ConnectError` with a message for humans, losing an open
connection raises :class:`~mockpoint.errors.ConnectionLost`.
"""

from __future__ import annotations

import base64
import ssl
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import (
    ConnectionClosed,
    InvalidHandshake,
    InvalidStatus,
    InvalidURI,
)
from websockets.typing import Subprotocol

from mockpoint.errors import ConnectError, ConnectionLost

SUBPROTOCOL = Subprotocol("ocpp1.6")


class WebSocketTransport:
    """An open WebSocket, client or server side, as a :class:`~mockpoint.transport.Transport`."""

    def __init__(self, connection: ClientConnection | ServerConnection) -> None:
        self._connection = connection

    async def send(self, text: str) -> None:
        try:
            await self._connection.send(text)
        except ConnectionClosed as exc:
            raise ConnectionLost(_describe_close(exc)) from exc

    async def receive(self) -> str:
        try:
            message = await self._connection.recv()
        except ConnectionClosed as exc:
            raise ConnectionLost(_describe_close(exc)) from exc
        if isinstance(message, bytes):
            # OCPP-J uses text frames only; hand the bytes up so the RPC layer reports them.
            return message.decode("utf-8", errors="replace")
        return message

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self._connection.close(code, reason)

    @property
    def closed(self) -> bool:
        return self._connection.state is websockets.State.CLOSED

    @property
    def subprotocol(self) -> str | None:
        return self._connection.subprotocol


def charge_point_url(url: str, charge_point_id: str) -> str:
    """``url`` with the charge point identity appended as the last path segment."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/") + "/" + quote(charge_point_id, safe="")
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


async def connect(
    url: str,
    charge_point_id: str,
    *,
    open_timeout: float = 10.0,
    ping_interval: float | None = None,
    basic_auth_password: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> WebSocketTransport:
    """Open the charge point's connection to the CSMS at ``url``.

    ``basic_auth_password`` sends HTTP Basic authentication with the identity as user name
    (security profiles 1 and 2); ``ssl_context`` configures TLS for ``wss://`` URLs.
    """
    target = charge_point_url(url, charge_point_id)
    headers: dict[str, str] = {}
    if basic_auth_password is not None:
        token = base64.b64encode(f"{charge_point_id}:{basic_auth_password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    options: dict[str, Any] = {
        "subprotocols": [SUBPROTOCOL],
        "open_timeout": open_timeout,
        "ping_interval": ping_interval,
        "additional_headers": headers,
        # Frames carry their own size limits in the schemas; accept what a CSMS may send.
        "max_size": 2**22,
        "compression": None,
    }
    if ssl_context is not None:
        options["ssl"] = ssl_context
    try:
        connection = await ws_connect(target, **options)
    except InvalidURI as exc:
        raise ConnectError(f"invalid CSMS URL {url!r}: {exc}") from exc
    except InvalidStatus as exc:
        status = exc.response.status_code
        raise ConnectError(
            f"{target}: the CSMS refused the WebSocket upgrade with HTTP {status}"
            + (" (authentication failed?)" if status in (401, 403) else "")
        ) from exc
    except InvalidHandshake as exc:
        raise ConnectError(f"{target}: WebSocket handshake failed: {exc}") from exc
    except ssl.SSLError as exc:
        raise ConnectError(f"{target}: TLS handshake failed: {exc.reason or exc}") from exc
    except TimeoutError as exc:
        raise ConnectError(f"{target}: no answer within {open_timeout:g} s") from exc
    except OSError as exc:
        raise ConnectError(f"{target}: {exc.strerror or exc}") from exc
    if connection.subprotocol != SUBPROTOCOL:
        await connection.close(1002, "subprotocol ocpp1.6 required")
        chosen = connection.subprotocol or "none"
        raise ConnectError(
            f"{target}: the server did not select the WebSocket subprotocol ocpp1.6 "
            f"(it selected {chosen})"
        )
    return WebSocketTransport(connection)


def _describe_close(exc: ConnectionClosed) -> str:
    close = exc.rcvd or exc.sent
    if close is None:
        return "connection lost without a closing handshake"
    reason = f" {close.reason}" if close.reason else ""
    return f"connection closed with code {close.code}{reason}"

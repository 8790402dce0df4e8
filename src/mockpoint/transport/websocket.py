"""The WebSocket transport, on the ``websockets`` library.

OCPP-J 1.6 §3: the charge point connects to ``<csms url>/<charge point identity>`` (or puts
the identity where the URL says ``{id}``, :func:`charge_point_url`) and offers the
subprotocol ``ocpp1.6``; a server that does not select it is refused. A URL that is not
``ws://`` or ``wss://`` is a usage error, never retried (:func:`check_csms_url`). Every
exception of the library is translated here: failing to connect raises
:class:`~mockpoint.errors.ConnectError` with a message for humans, losing an open
connection raises :class:`~mockpoint.errors.ConnectionLost`.

The OCPP 1.6 security whitepaper's profiles live at this level: HTTP Basic authentication
(profiles 1 and 2: user name = the identity, password = the AuthorizationKey), TLS with the
server's certificate verified (2 and 3) and a client certificate (3). The messages say which
of them failed — refused credentials (HTTP 401), a server certificate that could not be
verified, a server that closed the TLS connection because it wanted a client certificate —
and never carry the password: neither the Authorization header nor credentials in the URL
appear in an error message, and websockets' debug log of the handshake headers goes
through :class:`RedactCredentials`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import re
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
    InvalidMessage,
    InvalidStatus,
    InvalidURI,
)
from websockets.frames import Frame
from websockets.typing import Subprotocol

from mockpoint.errors import ConnectError, ConnectionLost, UsageError
from mockpoint.ocpp16.secrets import REDACTED
from mockpoint.rpc.frames import BinaryText
from mockpoint.transport.base import Receiver

SUBPROTOCOL = Subprotocol("ocpp1.6")


class RedactCredentials(logging.Filter):
    """Masks credentials in websockets' debug log of a connection.

    websockets logs every handshake header at DEBUG (``"> %s: %s"`` on the client, ``"< %s:
    %s"`` on the server), the Authorization header too, whose Basic-auth password is merely
    base64-encoded; and it logs every frame, a ChangeConfiguration of AuthorizationKey (the
    new password) too. The OCPP 1.6 security whitepaper says never to log a password.
    Attached to the logger a connection logs to, this rewrites such records instead of
    dropping them, so the log still shows that credentials went by.
    """

    _SECRET_HEADERS = frozenset({"authorization", "proxy-authorization"})

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not isinstance(args, tuple):
            return True
        if len(args) == 2 and isinstance(args[0], str):
            if args[0].lower() in self._SECRET_HEADERS:
                scheme = str(args[1]).split(" ", 1)[0]
                record.args = (args[0], f"{scheme} {REDACTED}")
        elif len(args) == 1 and isinstance(args[0], Frame):
            if b"authorizationkey" in bytes(args[0].data).lower():
                record.args = (f"{args[0].opcode.name} [{REDACTED}: it holds an AuthorizationKey]",)
        return True


#: websockets' log of the charge point's connections (handshake details at DEBUG).
wire_logger = logging.getLogger("mockpoint.transport.wire")
wire_logger.addFilter(RedactCredentials())


#: Written at once below this many bytes waiting in the socket's buffer; past it, through
#: websockets' send(), which waits for the buffer to drain.
_WRITE_AT_ONCE = 64 * 1024
#: websockets' (13+) asyncio connection writes what its protocol queued with this method.
_SEND_DATA = getattr(ClientConnection, "send_data", None)


class WebSocketTransport:
    """An open WebSocket, client or server side, as a :class:`~mockpoint.transport.Transport`.

    ``websockets`` hands messages to a coroutine, so one task reads them and pushes each to
    the receiver, and one writes what :meth:`write` queued, in order (while there is any).
    """

    def __init__(self, connection: ClientConnection | ServerConnection) -> None:
        self._connection = connection
        self._outbox: list[str] = []
        self._writer: asyncio.Task[None] | None = None
        self._reader: asyncio.Task[None] | None = None
        self._lost: ConnectionLost | None = None

    def start(self, receiver: Receiver) -> None:
        self._reader = asyncio.ensure_future(self._read(receiver))

    async def _read(self, receiver: Receiver) -> None:
        connection = self._connection
        while True:
            try:
                message = await connection.recv()
            except ConnectionClosed as exc:
                self._lost = self._lost or ConnectionLost(_describe_close(exc))
                break
            except asyncio.CancelledError:
                self._lost = self._lost or ConnectionLost("connection closed")
                break
            if isinstance(message, bytes):
                # OCPP-J uses text frames only; hand the bytes up so the RPC layer reports them.
                message = BinaryText(message.decode("utf-8", errors="replace"))
            try:
                receiver.received(message)
            except Exception:  # a bug above must not stop the connection's reading
                logging.getLogger(__name__).exception("handling a received message failed")
        receiver.connection_lost(self._lost)

    def write(self, text: str) -> None:
        if self._lost is not None:
            raise ConnectionLost(str(self._lost))
        connection = self._connection
        if connection.state is not websockets.State.OPEN:
            raise ConnectionLost("connection closed")
        if (
            self._writer is None
            and connection.transport.get_write_buffer_size() < _WRITE_AT_ONCE
            and _SEND_DATA is not None
        ):
            # What send() does but its wait for the buffer to drain, which a buffer this
            # small never needs: no task, no turn of the loop, for a frame that goes at once.
            connection.protocol.send_text(text.encode())
            _SEND_DATA(connection)
            return
        self._outbox.append(text)
        if self._writer is None:
            self._writer = asyncio.ensure_future(self._write())

    async def _write(self) -> None:
        try:
            while self._outbox:
                text = self._outbox.pop(0)
                try:
                    await self._connection.send(text)
                except ConnectionClosed as exc:
                    self._lost = self._lost or ConnectionLost(_describe_close(exc))
                    self._outbox.clear()
        finally:
            self._writer = None

    async def close(self, code: int = 1000, reason: str = "") -> None:
        writer = self._writer
        if writer is not None:  # what was written goes out before the close
            with contextlib.suppress(Exception):
                await asyncio.shield(writer)
        await self._connection.close(code, reason)

    def abort(self) -> None:
        self._connection.transport.abort()

    @property
    def closed(self) -> bool:
        return self._connection.state is websockets.State.CLOSED

    @property
    def subprotocol(self) -> str | None:
        return self._connection.subprotocol


#: Where a CSMS URL says the charge point identity goes (``ws://host/ocpp/{id}/``).
ID_PLACEHOLDER = "{id}"

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(//)?")
_NOT_IN_URL = re.compile(r"[\x00-\x20\x7f]")
#: What a WebSocket URL was probably meant to be, by the scheme it has (RFC 6455 §3).
_WEBSOCKET_SCHEMES = {"ws": "ws", "wss": "wss", "http": "ws", "https": "wss"}


def charge_point_url(url: str, charge_point_id: str) -> str:
    """``url`` with the charge point identity, percent-encoded, where the URL says
    ``{id}`` (in its path or query: ``ws://host/ocpp/{id}/``, ``ws://host/{id}?token=x``),
    else appended as the last path segment (OCPP-J 1.6 §3.1.1)."""
    identity = quote(charge_point_id, safe="")
    parts = urlsplit(url)
    if ID_PLACEHOLDER in parts.path or ID_PLACEHOLDER in parts.query:
        path = parts.path.replace(ID_PLACEHOLDER, identity)
        query = parts.query.replace(ID_PLACEHOLDER, identity)
        return urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment))
    path = parts.path.rstrip("/") + "/" + identity
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def check_csms_url(url: str, source: str) -> None:
    """Raise :class:`~mockpoint.errors.UsageError` unless ``url`` is a ``ws://`` or
    ``wss://`` URL with a host (OCPP-J 1.6 §3: the charge point opens a WebSocket).

    ``source`` says where the URL came from (``--csms``, ``scenario.yaml: csms``) and starts
    the message. A URL another scheme, or none, is a mistake retrying cannot mend, so it is
    refused before anything connects, with what it was probably meant to be: ``http`` →
    ``ws``, ``https`` → ``wss``, no scheme → ``ws://``.
    """
    if not url.strip():
        raise UsageError(f"{source}: the CSMS URL is empty, e.g. ws://127.0.0.1:9000/ocpp")
    shown = without_credentials(url)
    found = _SCHEME.match(url)
    scheme = found.group(1).lower() if found else None
    if found is not None and scheme in ("ws", "wss") and found.group(2):
        try:
            parts = urlsplit(url)
            host, _ = parts.hostname, parts.port  # .port raises for a port that is not one
        except ValueError as exc:
            raise UsageError(f"{source}: {shown!r} is not a valid URL: {exc}") from None
        if not host:
            raise UsageError(f"{source}: {shown!r} names no host, e.g. ws://127.0.0.1:9000/ocpp")
        if parts.fragment or url.endswith("#"):
            raise UsageError(f"{source}: {shown!r}: a #fragment means nothing to a WebSocket")
        if _NOT_IN_URL.search(url):
            raise UsageError(f"{source}: {shown!r} holds a space or a control character")
        return
    if found is not None and found.group(2):  # scheme://rest
        rest = shown[found.end() :]
        meant = f"{_WEBSOCKET_SCHEMES.get(scheme or '', 'ws')}://{rest}"
    elif found is not None and scheme in _WEBSOCKET_SCHEMES:  # ws:host, http:/host
        rest = shown[found.end() :].lstrip("/")
        meant = f"{_WEBSOCKET_SCHEMES[scheme]}://{rest}"
    else:  # 127.0.0.1:9000/ocpp, localhost:9000 (whose "localhost:" reads as a scheme)
        meant = f"ws://{shown}"
    raise UsageError(
        f"{source}: {shown!r} is not a WebSocket URL (ws:// or wss://); did you mean {meant}?"
    )


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
    (security profiles 1 and 2); ``ssl_context`` configures TLS for ``wss://`` URLs (profile
    2, and 3 when it holds a client certificate).
    """
    check_csms_url(url, "CSMS URL")
    target = charge_point_url(url, charge_point_id)
    shown = without_credentials(target)
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
        "logger": wire_logger,
    }
    if ssl_context is not None:
        options["ssl"] = ssl_context
    try:
        connection = await ws_connect(target, **options)
    except InvalidURI as exc:
        raise ConnectError(f"invalid CSMS URL {without_credentials(url)!r}: {exc.msg}") from exc
    except InvalidStatus as exc:
        status = exc.response.status_code
        raise ConnectError(f"{shown}: {refusal(status)}", permanent=status in (401, 403)) from exc
    except InvalidMessage as exc:
        raise ConnectError(f"{shown}: {_no_answer(exc, tls=ssl_context is not None)}") from exc
    except InvalidHandshake as exc:
        raise ConnectError(f"{shown}: WebSocket handshake failed: {exc}") from exc
    except OSError as exc:
        raise socket_failure(exc, shown, open_timeout) from exc
    if connection.subprotocol != SUBPROTOCOL:
        await connection.close(1002, "subprotocol ocpp1.6 required")
        chosen = connection.subprotocol or "none"
        raise ConnectError(
            f"{shown}: the server did not select the WebSocket subprotocol ocpp1.6 "
            f"(it selected {chosen})"
        )
    return WebSocketTransport(connection)


def socket_failure(exc: OSError, shown: str, open_timeout: float) -> ConnectError:
    """What failed below the WebSocket (TLS, no answer in time, the socket) as a
    ConnectError for ``shown`` (the URL without credentials); both transports use it.
    An unverifiable certificate is permanent: retrying cannot help."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ConnectError(
            f"{shown}: the CSMS's certificate could not be verified: "
            f"{exc.verify_message or exc.reason or exc} (give csms.ca, or insecure: true)",
            permanent=True,
        )
    if isinstance(exc, ssl.SSLError):
        return ConnectError(f"{shown}: {tls_failure(exc)}")
    if isinstance(exc, TimeoutError):
        return ConnectError(f"{shown}: no answer within {open_timeout:g} s")
    return ConnectError(f"{shown}: {exc.strerror or exc}")


def refusal(status: int) -> str:
    """What an HTTP answer other than 101 to the upgrade means (OCPP-J 1.6 §3.1)."""
    if status == 401:
        # Security whitepaper: the CSMS checks the identity and the AuthorizationKey.
        return (
            "the CSMS refused the credentials (HTTP 401, authentication failed): "
            "check the password / AuthorizationKey"
        )
    if status == 403:
        return (
            "the CSMS refused the WebSocket upgrade with HTTP 403 (authentication failed? "
            "check the password / AuthorizationKey, or the client certificate)"
        )
    return f"the CSMS refused the WebSocket upgrade with HTTP {status}"


def _no_answer(exc: InvalidMessage, *, tls: bool) -> str:
    """The server closed the connection, or sent no HTTP, instead of answering the upgrade."""
    cause = exc.__cause__
    if isinstance(cause, ssl.SSLError):
        return tls_failure(cause)
    if isinstance(cause, EOFError | ConnectionError) and tls:
        # TLS 1.3: the client's side of the handshake ends before the server has checked the
        # client's certificate; a server that wanted one (security profile 3) then closes the
        # connection, and the client first notices while reading the HTTP answer.
        return (
            "the CSMS closed the TLS connection during the handshake, before answering the "
            "WebSocket upgrade: it probably requires a client certificate (security profile "
            "3: give csms.cert and csms.key) or refused the one given"
        )
    return f"WebSocket handshake failed: {exc}" + (f" ({cause})" if cause else "")


def tls_failure(exc: ssl.SSLError) -> str:
    reason = str(exc.reason or exc)
    lowered = reason.lower()
    if "certificate_required" in lowered or "certificate required" in lowered:
        return (
            f"TLS handshake failed: the CSMS requires a client certificate (TLS alert: "
            f"{reason}; security profile 3: give csms.cert and csms.key)"
        )
    if "alert" in lowered and ("certificate" in lowered or "handshake" in lowered):
        return (
            f"TLS handshake failed: the CSMS sent the TLS alert {reason} (does it require a "
            "client certificate, security profile 3, or refuse the one given?)"
        )
    return f"TLS handshake failed: {reason}"


def without_credentials(url: str) -> str:
    """``url`` without a password in its user-info part, for messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"{parts.username}:{REDACTED}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _describe_close(exc: ConnectionClosed) -> str:
    close = exc.rcvd or exc.sent
    if close is None:
        return "connection lost without a closing handshake"
    reason = f" {close.reason}" if close.reason else ""
    return f"connection closed with code {close.code}{reason}"

"""The load runner's WebSocket transport, on ``picows``.

The scenario runner's connections go through ``websockets`` (:mod:`.websocket`); a load
run holds thousands of them, and there ``picows`` (a Cython WebSocket) did 3-4 times the
round trips per core and took about a third of the memory per idle connection (numbers in
benchmarks/README.md). The contract is the same :class:`~mockpoint.transport.Transport`,
and so are the failure messages: OCPP-J 1.6 §3 (the ``ocpp1.6`` subprotocol must be
selected), HTTP Basic authentication and TLS of the security profiles, a refused upgrade
named by its HTTP status, and never a password in a message.

picows hands over frames in a callback; :class:`PicowsTransport` reassembles fragmented
messages, hands each whole one to its receiver from that callback (no task waits to
receive), and ends the connection with 1007 on text that is not UTF-8 (RFC 6455 §8.1).

A load run of more charge points than one source address can connect from (the ephemeral
port range) gives each connection a ``local_addr`` (:mod:`mockpoint.load.addresses`,
docs/load-limits.md).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import socket
import ssl
from collections.abc import Awaitable, Callable

from picows import (
    WSCloseCode,
    WSError,
    WSFrame,
    WSHandshakeError,
    WSInvalidURL,
    WSListener,
    WSMsgType,
    WSTransport,
    ws_connect,
)
from picows.url import WSParsedURL

from mockpoint.errors import ConnectError, ConnectionLost
from mockpoint.rpc.frames import BinaryText
from mockpoint.transport.base import Receiver
from mockpoint.transport.websocket import (
    SUBPROTOCOL,
    charge_point_url,
    check_csms_url,
    refusal,
    socket_failure,
    without_credentials,
)

#: Initial read buffer per connection: OCPP frames of an idle charge point are small, and
#: picows grows the buffer for a bigger one. 16 KiB (its default) costs ~14 KiB more per
#: connection than this.
READ_BUFFER = 2048
MAX_MESSAGE = 2**22
#: Linux: bind() takes the address only and connect() picks the port, unique per
#: (source, destination) pair, so each source address has the whole ephemeral range for
#: each CSMS endpoint (docs/load-limits.md).
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)


class PicowsTransport(WSListener):
    """One open picows connection as a :class:`~mockpoint.transport.Transport`: each whole
    message goes from picows's callback straight to the receiver."""

    def __init__(self) -> None:
        self._ws: WSTransport | None = None
        self._receiver: Receiver | None = None
        #: what arrived before :meth:`start` (rarely anything: a list, not a deque)
        self._early: list[str] = []
        self._lost: ConnectionLost | None = None
        self._told = False
        self._fragments: list[bytes] | None = None
        self._fragment_type = WSMsgType.TEXT

    # --- picows's side ---------------------------------------------------------------------

    def on_ws_connected(self, transport: WSTransport) -> None:
        self._ws = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind is WSMsgType.TEXT or kind is WSMsgType.BINARY:
            if frame.fin:
                self._message(kind, frame.get_payload_as_bytes())
            else:
                self._fragments = [frame.get_payload_as_bytes()]
                self._fragment_type = kind
        elif kind is WSMsgType.CONTINUATION:
            if self._fragments is None:
                self._fail(WSCloseCode.PROTOCOL_ERROR, "continuation frame without a start")
                return
            self._fragments.append(frame.get_payload_as_bytes())
            if frame.fin:
                data = b"".join(self._fragments)
                self._fragments = None
                self._message(self._fragment_type, data)
        elif kind is WSMsgType.CLOSE:
            code = frame.get_close_code()
            reason = frame.get_close_reason()
            number = code.value if isinstance(code, WSCloseCode) else int(code)
            text = f"connection closed with code {number}" + (f" {reason}" if reason else "")
            if self._lost is None:
                self._lost = ConnectionLost(text)
            with contextlib.suppress(Exception):
                transport.send_close(code)
            transport.disconnect()
            self._tell_lost()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if self._lost is None:
            self._lost = ConnectionLost("connection lost without a closing handshake")
        self._tell_lost()

    def _message(self, kind: WSMsgType, data: bytes) -> None:
        if self._lost is not None:
            return
        if kind is WSMsgType.BINARY:
            # OCPP-J uses text frames only; hand the bytes up so the RPC layer reports them.
            text: str = BinaryText(data.decode("utf-8", errors="replace"))
        else:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                self._fail(WSCloseCode.INVALID_TEXT, "text frame is not UTF-8")
                return
        receiver = self._receiver
        if receiver is None:
            self._early.append(text)
        else:
            receiver.received(text)

    def _fail(self, code: WSCloseCode, reason: str) -> None:
        self._lost = ConnectionLost(f"connection failed: {reason}")
        if self._ws is not None:
            with contextlib.suppress(Exception):
                self._ws.send_close(code, reason.encode())
            self._ws.disconnect()
        self._tell_lost()

    def _tell_lost(self) -> None:
        receiver = self._receiver
        if receiver is None or self._told or self._lost is None:
            return
        self._told = True
        receiver.connection_lost(self._lost)

    # --- the Transport's side --------------------------------------------------------------

    def start(self, receiver: Receiver) -> None:
        self._receiver = receiver
        early, self._early = self._early, []
        for text in early:
            if self._lost is None:
                receiver.received(text)
        self._tell_lost()

    def write(self, text: str) -> None:
        if self._lost is not None or self._ws is None:
            raise ConnectionLost(str(self._lost or "not connected"))
        self._ws.send(WSMsgType.TEXT, text.encode())

    async def close(self, code: int = 1000, reason: str = "") -> None:
        ws = self._ws
        if ws is None or ws.is_disconnected:
            return
        if self._lost is None:
            self._lost = ConnectionLost(
                f"connection closed with code {code}" + (f" {reason}" if reason else "")
            )
        with contextlib.suppress(Exception):
            ws.send_close(WSCloseCode(code), reason.encode())
        # RFC 6455 §7.1.1: the server closes the TCP connection first; don't wait forever.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2.0):
                await ws.wait_disconnected()
        ws.disconnect()
        self._tell_lost()

    def abort(self) -> None:
        ws = self._ws
        if ws is None or ws.is_disconnected:
            return
        if self._lost is None:
            self._lost = ConnectionLost("connection dropped without a closing handshake")
        ws.disconnect(graceful=False)
        self._tell_lost()

    @property
    def closed(self) -> bool:
        return self._ws is None or self._ws.is_disconnected

    @property
    def subprotocol(self) -> str | None:
        response = self._ws.response if self._ws is not None else None
        return response.headers.get("Sec-WebSocket-Protocol") if response else None


class _SourceBindError(OSError):
    """The source address could not be bound: not an address of this machine."""


def _bound_to(
    address: str, open_timeout: float
) -> Callable[[WSParsedURL], Awaitable[socket.socket]]:
    """A picows ``socket_factory``: a TCP socket bound to ``address`` (port 0), connected
    to the URL's host within ``open_timeout``."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET

    async def make(parsed: WSParsedURL) -> socket.socket:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(open_timeout):
            found = await loop.getaddrinfo(
                parsed.host, parsed.port, family=family, type=socket.SOCK_STREAM
            )
            failure: OSError | None = None
            for *_kind, peer in found:
                sock = socket.socket(family, socket.SOCK_STREAM)
                try:
                    sock.setblocking(False)
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    with contextlib.suppress(OSError):  # not Linux: bind() picks the port
                        sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
                    try:
                        sock.bind((address, 0))
                    except OSError as exc:
                        raise _SourceBindError(exc.errno, exc.strerror) from exc
                    await loop.sock_connect(sock, peer)
                    return sock
                except _SourceBindError:
                    sock.close()
                    raise
                except OSError as exc:
                    sock.close()
                    failure = exc
                except BaseException:
                    sock.close()
                    raise
        raise failure or OSError(f"no {family.name} address for {parsed.host}")

    return make


async def connect(
    url: str,
    charge_point_id: str,
    *,
    open_timeout: float = 10.0,
    basic_auth_password: str | None = None,
    ssl_context: ssl.SSLContext | None = None,
    local_addr: str | None = None,
) -> PicowsTransport:
    """Open the charge point's connection to the CSMS at ``url`` (see
    :func:`mockpoint.transport.websocket.connect`, whose behaviour this mirrors).

    ``local_addr``: the source address to connect from (IPv4 or IPv6, the port left to
    the system), e.g. one of 127.0.0.1, 127.0.0.2, ... of :mod:`mockpoint.load.addresses`;
    None lets the system choose.
    """
    check_csms_url(url, "CSMS URL")
    target = charge_point_url(url, charge_point_id)
    shown = without_credentials(target)
    headers: dict[str, str] = {"Sec-WebSocket-Protocol": SUBPROTOCOL}
    if basic_auth_password is not None:
        token = base64.b64encode(f"{charge_point_id}:{basic_auth_password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    try:
        ws, listener = await ws_connect(
            PicowsTransport,
            target,
            ssl_context=ssl_context,
            websocket_handshake_timeout=open_timeout,
            enable_auto_ping=False,
            enable_auto_pong=True,
            max_frame_size=MAX_MESSAGE,
            extra_headers=headers,
            read_buffer_init_size=READ_BUFFER,
            logger_name="mockpoint.transport.wire",
            # The event loop's own transport: a third less memory per connection and a
            # faster handshake than picows's optional aiofastnet (benchmarks/README.md).
            use_aiofastnet=False,
            socket_factory=None if local_addr is None else _bound_to(local_addr, open_timeout),
        )
    except WSInvalidURL as exc:
        raise ConnectError(f"invalid CSMS URL {without_credentials(url)!r}: {exc}") from exc
    except WSHandshakeError as exc:
        response = exc.response
        if response is not None and int(response.status) != 101:
            status = int(response.status)
            raise ConnectError(
                f"{shown}: {refusal(status)}", permanent=status in (401, 403)
            ) from exc
        raise ConnectError(f"{shown}: WebSocket handshake failed: {exc}") from exc
    except _SourceBindError as exc:
        raise ConnectError(
            f"{shown}: cannot connect from source address {local_addr}: {exc.strerror} "
            "(is it an address of this machine?)",
            permanent=True,
        ) from exc
    except OSError as exc:
        raise _limit_failure(exc, shown, local_addr) or socket_failure(
            exc, shown, open_timeout
        ) from exc
    except WSError as exc:
        raise ConnectError(f"{shown}: WebSocket handshake failed: {exc}") from exc
    if not isinstance(listener, PicowsTransport):
        raise ConnectError(f"{shown}: WebSocket handshake failed: the connection closed")
    chosen = listener.subprotocol
    if chosen != SUBPROTOCOL:
        with contextlib.suppress(Exception):
            ws.send_close(WSCloseCode.PROTOCOL_ERROR, b"subprotocol ocpp1.6 required")
        ws.disconnect()
        raise ConnectError(
            f"{shown}: the server did not select the WebSocket subprotocol ocpp1.6 "
            f"(it selected {chosen or 'none'})"
        )
    return listener


def _limit_failure(exc: OSError, shown: str, local_addr: str | None) -> ConnectError | None:
    """A connection refused by a limit of this machine, which docs/load-limits.md explains
    how to raise; None for any other failure."""
    if exc.errno == errno.EADDRNOTAVAIL:
        source = f"source address {local_addr}" if local_addr else "the default source address"
        return ConnectError(
            f"{shown}: no local port left to connect from {source}: the ephemeral port "
            "range is used up (more source addresses or a wider range: docs/load-limits.md)"
        )
    if exc.errno in (errno.EMFILE, errno.ENFILE):
        which = "this process's" if exc.errno == errno.EMFILE else "the system's"
        return ConnectError(
            f"{shown}: too many open files ({which} limit; more worker processes or a "
            "higher limit: docs/load-limits.md)"
        )
    return None

"""The WebSocket transports over real loopback connections (OCPP-J 1.6 §3): the URL, the
``ocpp1.6`` subprotocol, Basic auth, and every way of failing to connect as a ConnectError.

The scenario runner's transport (websockets) and the load runner's (picows) keep one
contract, so every test of a connection runs against both."""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from conftest import UNIT
from mockpoint.errors import ConnectError, ConnectionLost, UsageError
from mockpoint.transport import SUBPROTOCOL, WebSocketTransport, charge_point_url
from mockpoint.transport import connect as websockets_connect
from mockpoint.transport.base import Inbox
from mockpoint.transport.picows_transport import connect as picows_connect
from mockpoint.transport.security import Dial

Handler = Callable[[ServerConnection], Awaitable[None]]


@pytest.fixture(params=["websockets", "picows"])
def connect(request: pytest.FixtureRequest) -> Dial:
    dial: Dial = websockets_connect if request.param == "websockets" else picows_connect
    return dial


@asynccontextmanager
async def _server(handler: Handler, **options: Any) -> AsyncIterator[Server]:
    async with serve(handler, "127.0.0.1", 0, **options) as server:
        yield server


def _url(server: Server, path: str = "/ocpp") -> str:
    port = next(iter(server.sockets)).getsockname()[1]
    return f"ws://127.0.0.1:{port}{path}"


async def _echo(connection: ServerConnection) -> None:
    async for message in connection:
        await connection.send(message)


def _unused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# --- the URL -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ws://csms.example/ocpp", "ws://csms.example/ocpp/CP-001"),
        ("ws://csms.example/ocpp/", "ws://csms.example/ocpp/CP-001"),
        ("ws://csms.example", "ws://csms.example/CP-001"),
        ("ws://csms.example/", "ws://csms.example/CP-001"),
        ("wss://csms.example:8443/a/b", "wss://csms.example:8443/a/b/CP-001"),
        ("ws://csms.example/ocpp?token=abc&x=1", "ws://csms.example/ocpp/CP-001?token=abc&x=1"),
        ("ws://csms.example/ocpp/?token=abc", "ws://csms.example/ocpp/CP-001?token=abc"),
    ],
)
def test_charge_point_url_appends_the_identity(url: str, expected: str) -> None:
    assert charge_point_url(url, "CP-001") == expected


@pytest.mark.parametrize(
    ("identity", "segment"),
    [
        ("CP 1", "CP%201"),
        ("a/b", "a%2Fb"),
        ("x?y#z", "x%3Fy%23z"),
        ("Zähler", "Z%C3%A4hler"),
        ("100%", "100%25"),
    ],
)
def test_charge_point_url_percent_encodes_the_identity(identity: str, segment: str) -> None:
    assert charge_point_url("ws://h/ocpp?q=1", identity) == f"ws://h/ocpp/{segment}?q=1"


# --- connecting ----------------------------------------------------------------------------


async def test_connect_offers_ocpp16_and_reaches_the_identity_path(connect: Dial) -> None:
    seen: dict[str, Any] = {}

    async def handler(connection: ServerConnection) -> None:
        assert connection.request is not None
        seen["path"] = connection.request.path
        seen["offered"] = connection.request.headers.get("Sec-WebSocket-Protocol")
        seen["authorization"] = connection.request.headers.get("Authorization")
        await _echo(connection)

    async with _server(handler, subprotocols=[SUBPROTOCOL]) as server:
        async with asyncio.timeout(5 * UNIT):
            transport = await connect(_url(server), "CP 1", open_timeout=2 * UNIT)
            inbox = Inbox(transport)
            try:
                assert transport.subprotocol == "ocpp1.6"
                assert not transport.closed
                await inbox.send("ping?")
                assert await inbox.receive() == "ping?"
            finally:
                await transport.close()
            assert transport.closed
    assert seen["path"] == "/ocpp/CP%201"
    assert seen["offered"] == "ocpp1.6"
    assert seen["authorization"] is None


async def test_basic_auth_header_is_sent_with_the_identity_as_user(connect: Dial) -> None:
    headers: list[Headers] = []

    def process_request(connection: ServerConnection, request: Request) -> Response | None:
        headers.append(request.headers)
        return None

    async with _server(_echo, subprotocols=[SUBPROTOCOL], process_request=process_request) as s:
        async with asyncio.timeout(5 * UNIT):
            transport = await connect(_url(s), "CP-001", basic_auth_password="s3cr:t")
            await transport.close()
    (received,) = headers
    scheme, token = received["Authorization"].split(" ", 1)
    assert scheme == "Basic"
    assert base64.b64decode(token).decode() == "CP-001:s3cr:t"


async def test_server_that_does_not_select_ocpp16_is_refused(connect: Dial) -> None:
    closed = asyncio.Event()

    async def handler(connection: ServerConnection) -> None:
        await connection.wait_closed()
        closed.set()

    async with _server(handler) as server:  # no subprotocols: it selects none
        async with asyncio.timeout(5 * UNIT):
            with pytest.raises(ConnectError, match="ocpp1.6") as info:
                await connect(_url(server), "CP-001", open_timeout=2 * UNIT)
            await closed.wait()  # the charge point closed the connection it did not want
    assert "none" in str(info.value)


async def test_server_that_selects_a_subprotocol_not_offered_is_refused(connect: Dial) -> None:
    def select(connection: ServerConnection, offered: Sequence[str]) -> str:
        return "ocpp2.0.1"

    async with _server(_echo, subprotocols=["ocpp2.0.1"], select_subprotocol=select) as server:
        async with asyncio.timeout(5 * UNIT):
            with pytest.raises(ConnectError, match="ocpp2.0.1"):
                await connect(_url(server), "CP-001", open_timeout=2 * UNIT)


async def test_connection_refused_is_a_connect_error(connect: Dial) -> None:
    port = _unused_port()
    async with asyncio.timeout(5 * UNIT):
        with pytest.raises(ConnectError, match=f"127.0.0.1:{port}/ocpp/CP-001"):
            await connect(f"ws://127.0.0.1:{port}/ocpp", "CP-001", open_timeout=2 * UNIT)


@pytest.mark.parametrize(
    ("status", "hint"),
    [(HTTPStatus.UNAUTHORIZED, "authentication"), (HTTPStatus.BAD_REQUEST, "400")],
)
async def test_http_refusal_is_a_connect_error_naming_the_status(
    status: HTTPStatus, hint: str, connect: Dial
) -> None:
    def process_request(connection: ServerConnection, request: Request) -> Response:
        return connection.respond(status, "go away\n")

    async with _server(_echo, subprotocols=[SUBPROTOCOL], process_request=process_request) as s:
        async with asyncio.timeout(5 * UNIT):
            with pytest.raises(ConnectError) as info:
                await connect(_url(s), "CP-001", open_timeout=2 * UNIT)
    message = str(info.value)
    assert f"HTTP {status.value}" in message
    assert hint in message


async def test_server_that_never_answers_the_upgrade_is_a_connect_error(connect: Dial) -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # hold the connection open, answer nothing

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with asyncio.timeout(5 * UNIT):
            with pytest.raises(ConnectError, match="no answer within"):
                await connect(f"ws://127.0.0.1:{port}/ocpp", "CP-001", open_timeout=0.2 * UNIT)
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
    assert accepted, "the client never reached the server"


async def test_server_that_answers_garbage_is_a_connect_error(connect: Dial) -> None:
    async def rude(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(rude, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with asyncio.timeout(5 * UNIT):
            with pytest.raises(ConnectError, match="handshake"):
                await connect(f"ws://127.0.0.1:{port}/ocpp", "CP-001", open_timeout=2 * UNIT)
    finally:
        server.close()
        await server.wait_closed()


async def test_a_url_that_is_not_websocket_is_a_usage_error(connect: Dial) -> None:
    # Not retried as a connection failure would be: trying again cannot mend it.
    with pytest.raises(UsageError, match=r"did you mean ws://127\.0\.0\.1:1/ocpp\?"):
        await connect("http://127.0.0.1:1/ocpp", "CP-001")


async def test_a_url_websockets_refuses_is_a_connect_error() -> None:
    # A user name without a password: picows ignores it, websockets refuses the URL.
    with pytest.raises(ConnectError, match="invalid CSMS URL"):
        await websockets_connect("ws://user@127.0.0.1:1/ocpp", "CP-001")


# --- an open connection --------------------------------------------------------------------


async def test_text_flows_both_ways_in_order(connect: Dial) -> None:
    from_client: list[str] = []

    async def handler(connection: ServerConnection) -> None:
        for i in range(3):
            await connection.send(f'[2,"s{i}","Reset",{{"type":"Soft"}}]')
        async for message in connection:
            assert isinstance(message, str)
            from_client.append(message)
            if len(from_client) == 3:
                await connection.send("done")

    async with _server(handler, subprotocols=[SUBPROTOCOL]) as server:
        async with asyncio.timeout(5 * UNIT):
            transport = await connect(_url(server), "CP-001")
            inbox = Inbox(transport)
            received = [await inbox.receive() for _ in range(3)]
            for i in range(3):
                await inbox.send(f'[3,"s{i}",{{"status":"Accepted"}}]')
            assert await inbox.receive() == "done"
            await transport.close()
    assert received == [f'[2,"s{i}","Reset",{{"type":"Soft"}}]' for i in range(3)]
    assert from_client == [f'[3,"s{i}",{{"status":"Accepted"}}]' for i in range(3)]


async def test_binary_message_is_handed_up_as_text(connect: Dial) -> None:
    async def handler(connection: ServerConnection) -> None:
        await connection.send(b'[2,"b1","Reset",{"type":"Hard"}]')
        await connection.wait_closed()

    async with _server(handler, subprotocols=[SUBPROTOCOL]) as server:
        async with asyncio.timeout(5 * UNIT):
            transport = await connect(_url(server), "CP-001")
            inbox = Inbox(transport)
            assert await inbox.receive() == '[2,"b1","Reset",{"type":"Hard"}]'
            await transport.close()


async def test_peer_close_is_connection_lost_from_receive_and_send(connect: Dial) -> None:
    async def handler(connection: ServerConnection) -> None:
        await connection.close(4001, "maintenance")

    async with _server(handler, subprotocols=[SUBPROTOCOL]) as server:
        async with asyncio.timeout(5 * UNIT):
            transport = await connect(_url(server), "CP-001")
            inbox = Inbox(transport)
            with pytest.raises(ConnectionLost, match="4001 maintenance"):
                await inbox.receive()
            with pytest.raises(ConnectionLost):
                await inbox.receive()
            with pytest.raises(ConnectionLost):
                await inbox.send("too late")
            assert transport.closed


async def test_abort_drops_the_connection_without_a_close_frame(connect: Dial) -> None:
    seen: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def handler(connection: ServerConnection) -> None:
        try:
            await connection.recv()
        except ConnectionClosed as exc:  # the server's view of the loss
            seen.set_result(f"rcvd={exc.rcvd}")

    async with _server(handler, subprotocols=[SUBPROTOCOL]) as server:
        async with asyncio.timeout(5 * UNIT):
            transport = await connect(_url(server), "CP-001")
            inbox = Inbox(transport)
            transport.abort()
            assert "rcvd=None" in await seen  # no close frame reached the server
            with pytest.raises(ConnectionLost, match="without a closing handshake"):
                await inbox.receive()
            with pytest.raises(ConnectionLost):
                await inbox.send("too late")
            assert transport.closed


async def test_server_side_transport_wraps_a_server_connection(connect: Dial) -> None:
    server_side: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def handler(connection: ServerConnection) -> None:
        transport = WebSocketTransport(connection)
        inbox = Inbox(transport)
        assert transport.subprotocol == "ocpp1.6"
        await inbox.send("hello from the CSMS")
        server_side.set_result(await inbox.receive())
        with pytest.raises(ConnectionLost):
            await inbox.receive()
        assert transport.closed

    async with _server(handler, subprotocols=[SUBPROTOCOL]) as server:
        async with asyncio.timeout(5 * UNIT):
            transport = await connect(_url(server), "CP-001")
            inbox = Inbox(transport)
            assert await inbox.receive() == "hello from the CSMS"
            await inbox.send("hello from the charge point")
            assert await server_side == "hello from the charge point"
            await transport.close()

"""What only the load runner's transport (picows) does itself: it reassembles fragmented
messages and refuses text that is not UTF-8 (RFC 6455 §5.4, §8.1). The contract it shares
with the websockets transport is tested in test_websocket.py, against both."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from websockets.asyncio.server import ServerConnection, serve

from conftest import UNIT
from mockpoint.errors import ConnectionLost
from mockpoint.transport import SUBPROTOCOL
from mockpoint.transport.base import Inbox
from mockpoint.transport.picows_transport import connect


@asynccontextmanager
async def _serving(handler: Callable[[ServerConnection], Awaitable[None]]) -> AsyncIterator[str]:
    async with serve(handler, "127.0.0.1", 0, subprotocols=[SUBPROTOCOL]) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/ocpp"


async def test_fragmented_message_arrives_whole() -> None:
    async def handler(connection: ServerConnection) -> None:
        await connection.send(['[2,"f1",', '"Reset",', '{"type":"Soft"}]'])
        await connection.send("after")
        await connection.wait_closed()

    async with _serving(handler) as url, asyncio.timeout(5 * UNIT):
        transport = await connect(url, "CP-001")
        inbox = Inbox(transport)
        assert await inbox.receive() == '[2,"f1","Reset",{"type":"Soft"}]'
        assert await inbox.receive() == "after"
        await transport.close()


async def test_text_that_is_not_utf8_ends_the_connection_with_1007() -> None:
    closed_with: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()

    async def handler(connection: ServerConnection) -> None:
        connection.protocol.send_text(b'[2,"x","Reset",{"type":"\xff"}]')
        connection.send_data()
        await connection.wait_closed()
        closed_with.set_result(connection.close_code)

    async with _serving(handler) as url, asyncio.timeout(5 * UNIT):
        transport = await connect(url, "CP-001")
        inbox = Inbox(transport)
        with pytest.raises(ConnectionLost, match="not UTF-8"):
            await inbox.receive()
        assert await closed_with == 1007


async def test_a_peer_that_vanishes_is_connection_lost() -> None:
    async def handler(connection: ServerConnection) -> None:
        connection.transport.abort()  # no closing handshake: the TCP connection just ends

    async with _serving(handler) as url, asyncio.timeout(5 * UNIT):
        transport = await connect(url, "CP-001")
        inbox = Inbox(transport)
        with pytest.raises(ConnectionLost, match="without a closing handshake"):
            await inbox.receive()
        with pytest.raises(ConnectionLost):
            await inbox.send("too late")

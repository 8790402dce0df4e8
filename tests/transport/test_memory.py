"""The in-memory transport pair: what one end sends the other receives, in order."""

from __future__ import annotations

import asyncio

import pytest

from conftest import UNIT
from mockpoint.errors import ConnectionLost
from mockpoint.transport import MemoryTransport, memory_pair


async def test_order_is_preserved_both_ways() -> None:
    left, right = memory_pair()
    for i in range(50):
        await left.send(f"L{i}")
        await right.send(f"R{i}")
    async with asyncio.timeout(UNIT):
        assert [await right.receive() for _ in range(50)] == [f"L{i}" for i in range(50)]
        assert [await left.receive() for _ in range(50)] == [f"R{i}" for i in range(50)]


async def test_receive_waits_for_a_message() -> None:
    left, right = memory_pair()
    pending = asyncio.create_task(right.receive())
    await asyncio.sleep(0)
    assert not pending.done()
    await left.send("hello")
    async with asyncio.timeout(UNIT):
        assert await pending == "hello"


@pytest.mark.parametrize("closer", ["left", "right"])
async def test_close_propagates_connection_lost_to_both_ends(closer: str) -> None:
    left, right = memory_pair()
    ends = {"left": left, "right": right}
    assert not left.closed and not right.closed
    await ends[closer].close(4000, "bye")
    assert left.closed and right.closed
    async with asyncio.timeout(UNIT):
        for end in (left, right):
            with pytest.raises(ConnectionLost, match="4000 bye"):
                await end.receive()
            with pytest.raises(ConnectionLost):  # and every later receive too
                await end.receive()


async def test_close_wakes_a_waiting_receive() -> None:
    left, right = memory_pair()
    pending = asyncio.create_task(right.receive())
    await asyncio.sleep(0)
    await left.close()
    async with asyncio.timeout(UNIT):
        with pytest.raises(ConnectionLost):
            await pending


async def test_messages_sent_before_close_are_delivered_first() -> None:
    left, right = memory_pair()
    await left.send("one")
    await left.send("two")
    await left.close()
    async with asyncio.timeout(UNIT):
        assert await right.receive() == "one"
        assert await right.receive() == "two"
        with pytest.raises(ConnectionLost):
            await right.receive()


@pytest.mark.parametrize("closer", ["left", "right"])
async def test_send_after_close_raises(closer: str) -> None:
    left, right = memory_pair()
    await {"left": left, "right": right}[closer].close()
    for end in (left, right):
        with pytest.raises(ConnectionLost):
            await end.send("too late")


async def test_close_twice_is_harmless() -> None:
    left, right = memory_pair()
    await left.close()
    await left.close()
    await right.close()
    async with asyncio.timeout(UNIT):
        with pytest.raises(ConnectionLost):
            await right.receive()


async def test_an_unpaired_end_cannot_send() -> None:
    with pytest.raises(ConnectionLost):
        await MemoryTransport().send("nobody listens")

"""A CSMS that closes every connection soon after it opens is not hammered: the charge point
dials again at once the first time, then backs off (runtime/charge_point.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import websockets

import mockpoint


async def test_a_csms_that_closes_at_once_is_dialled_with_growing_pauses() -> None:
    opened: list[float] = []

    async def closes_at_once(websocket: Any) -> None:
        opened.append(time.monotonic())
        await websocket.close()

    async with websockets.serve(closes_at_once, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as csms:
        port = next(iter(csms.sockets)).getsockname()[1]
        async with mockpoint.charge_point(f"ws://127.0.0.1:{port}/ocpp", "CP-B", boot=False):
            await asyncio.sleep(2.0)
    gaps = [later - earlier for earlier, later in zip(opened, opened[1:], strict=False)]
    # at once, at once, then 0.1, 0.2, 0.4, 0.8 s...: some ten dials in 2 s, not hundreds
    assert 4 <= len(opened) <= 10, gaps
    assert gaps[-1] > 0.3 and gaps[-1] > 2 * gaps[1], gaps

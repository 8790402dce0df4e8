"""A load run against a CSMS that is slow, drops connections or floods the charge points:
what goes wrong is counted, the run still ends on time, and nothing grows without bound."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from websockets.asyncio.server import ServerConnection, serve

from conftest import UNIT
from mockpoint.csms.config import config_from_mapping
from mockpoint.csms.server import MockCsms
from mockpoint.load.engines import run_in_process
from mockpoint.load.shard import Shard, ShardPlan
from mockpoint.transport import SUBPROTOCOL

pytestmark = pytest.mark.slow

HEARTBEATS = """name: heartbeats
clock: {speed: 0}
timeout: 0.5s
steps:
  - send: Heartbeat
"""


def scenario(tmp_path: Path, text: str = HEARTBEATS) -> str:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


async def test_a_csms_that_stops_answering_gives_timeouts_and_the_run_ends_on_time(
    tmp_path: Path,
) -> None:
    config = config_from_mapping({"answers": {"Heartbeat": {"ignore": True}}}, "test")
    async with MockCsms(config=config) as csms:
        plan = ShardPlan(scenario(tmp_path), count=20, csms_url=csms.url, duration=2.0, loop=True)
        started = time.monotonic()
        stats = await run_in_process(plan)
        elapsed = time.monotonic() - started
    assert elapsed < 2.0 + 2 * UNIT
    heartbeat = stats.actions["Heartbeat"]
    # Each charge point waits 0.5 s per unanswered Heartbeat: at most 4 in the 2 s, at
    # least one however long booting the 20 took on a slow machine.
    assert 20 <= heartbeat.timeouts <= 20 * 4
    assert heartbeat.ok == 0
    assert heartbeat.errors == heartbeat.count == heartbeat.timeouts
    # Every timeout fails its step, but the last one of each charge point may come as the
    # run ends, before its step is counted.
    assert heartbeat.timeouts - 20 <= stats.steps_failed <= heartbeat.timeouts
    assert stats.actions["BootNotification"].ok == 20


async def test_dropped_connections_are_counted_and_charge_points_come_back(
    tmp_path: Path,
) -> None:
    async def rude(connection: ServerConnection) -> None:
        """Answers everything, and closes each connection after 0.3 s."""

        async def answer() -> None:
            async for text in connection:
                frame = json.loads(text)
                payload: dict[str, object] = {}
                if frame[2] == "BootNotification":
                    payload = {
                        "status": "Accepted",
                        "currentTime": "2025-06-01T08:00:00Z",
                        "interval": 300,
                    }
                elif frame[2] == "Heartbeat":
                    payload = {"currentTime": "2025-06-01T08:00:00Z"}
                await connection.send(json.dumps([3, frame[1], payload]))

        task = asyncio.create_task(answer())
        await asyncio.sleep(0.3)
        await connection.close(1011, "overloaded")
        task.cancel()

    async with serve(rude, "127.0.0.1", 0, subprotocols=[SUBPROTOCOL]) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        plan = ShardPlan(
            scenario(tmp_path),
            count=10,
            csms_url=f"ws://127.0.0.1:{port}/ocpp",
            duration=1.5,
            loop=True,
        )
        started = time.monotonic()
        stats = await run_in_process(plan)
        elapsed = time.monotonic() - started
    assert elapsed < 1.5 + 2 * UNIT
    assert stats.dropped >= 10  # every connection lasts 0.3 s of the 1.5
    assert stats.opened > 10  # charge points came back after a drop
    assert stats.opened >= stats.dropped
    assert stats.actions["BootNotification"].ok == 10  # a reconnection is not a reboot
    assert stats.actions["Heartbeat"].ok > 0


async def test_a_flooding_csms_does_not_make_charge_points_grow(tmp_path: Path) -> None:
    config = config_from_mapping(
        {
            "periodic": [
                {
                    "action": "TriggerMessage",
                    "payload": {"requestedMessage": "Heartbeat"},
                    "period": "50ms",
                }
            ]
        },
        "test",
    )
    async with MockCsms(config=config) as csms:
        plan = ShardPlan(scenario(tmp_path), count=10, csms_url=csms.url, duration=3.0)
        shard = Shard(plan)
        run = asyncio.create_task(shard.run())
        backlog = []
        while not run.done():
            await asyncio.sleep(0.1)
            backlog.append(shard.backlog())
        stats = await run
    triggered = stats.received.get("TriggerMessage", 0)
    assert triggered >= 10 * 20  # ~20 a second for ~2.5 s, per charge point
    # What a charge point holds is drained every second: never more than ~1.5 s worth.
    assert max(backlog) <= 10 * 30
    assert stats.actions["Heartbeat"].ok >= triggered - 10 * 2  # each trigger answered

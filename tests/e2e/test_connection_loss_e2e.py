"""A connection dropped without a closing handshake, with or without a power cut, over
loopback WebSockets: what fleet events (docs/load-fleets.md, "Events") do to each charge
point they touch. The CSMS sees the connection end with no close frame; transaction messages
queued meanwhile arrive exactly once after it; a power cut ends the transaction with reason
PowerLoss (OCPP 1.6 §7.45) behind a new boot."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from conftest import UNIT
from mockpoint.clock import VirtualClock, parse_timestamp
from mockpoint.csms.server import MockCsms
from mockpoint.ids import SeededIds
from mockpoint.runtime.charge_point import ChargePoint
from mockpoint.station.configuration import Configuration
from mockpoint.station.station import Identity, Station
from mockpoint.transport.websocket import connect

START = parse_timestamp("2025-06-01T08:00:00Z")
CP = "CP-CUT"


@pytest.fixture
async def rig() -> AsyncIterator[tuple[MockCsms, ChargePoint]]:
    clock = VirtualClock(START, speed=0)
    async with MockCsms(clock=clock) as csms:
        station = Station(Identity(CP), clock, Configuration({}, number_of_connectors=1))
        cp = ChargePoint(
            station,
            lambda: connect(csms.url, CP),
            clock=clock,
            ids=SeededIds(1),
            call_timeout=3 * UNIT,
        )
        await cp.start()
        try:
            async with asyncio.timeout(20 * UNIT):
                await cp.wait_registered(5)
                station.plug_in(1)
                await cp.outcome(station.start_transaction(1, "TAG-1"))
                yield csms, cp
        finally:
            await cp.stop()


def actions(csms: MockCsms) -> list[str]:
    return [call.action for call in csms.received(CP) if call.action != "StatusNotification"]


async def test_a_partition_drops_the_link_without_a_close_frame_and_loses_nothing(
    rig: tuple[MockCsms, ChargePoint], caplog: pytest.LogCaptureFixture
) -> None:
    csms, cp = rig
    caplog.set_level(logging.INFO, logger="mockpoint.csms.server")
    async with asyncio.timeout(20 * UNIT):
        await cp.lose_connection()
        assert not cp.connected
        while csms.connected(CP):
            await asyncio.sleep(0.01)
        stop = cp.station.stop_transaction(1)  # queued while the link is down
        await asyncio.sleep(0.05)
        assert "StopTransaction" not in actions(csms)
        await cp.reconnect()
        await cp.outcome(stop)
        await cp.wait_idle()
    assert any("without a closing handshake" in r.getMessage() for r in caplog.records)
    # Back without a boot (the power stayed on), the queued stop delivered exactly once.
    assert actions(csms) == ["BootNotification", "StartTransaction", "StopTransaction"]
    assert "reason" not in csms.received(CP)[-1].payload  # Local: the default reason
    assert cp.problems == []


async def test_a_power_cut_ends_the_transaction_with_power_loss_after_a_new_boot(
    rig: tuple[MockCsms, ChargePoint],
) -> None:
    csms, cp = rig
    transaction = cp.station.transactions[1].transaction_id
    async with asyncio.timeout(20 * UNIT):
        await cp.lose_connection(power=True)
        assert cp.station.transactions == {}
        await cp.reconnect()
        while "StopTransaction" not in actions(csms):
            await asyncio.sleep(0.01)
        await cp.wait_idle()
    assert actions(csms) == [
        "BootNotification",
        "StartTransaction",
        "BootNotification",
        "StopTransaction",
    ]
    stop = [call for call in csms.received(CP) if call.action == "StopTransaction"]
    assert stop[0].payload["reason"] == "PowerLoss"
    assert stop[0].payload["transactionId"] == transaction
    assert cp.problems == []

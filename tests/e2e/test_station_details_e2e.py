"""Station behaviour details over a real loopback WebSocket against the mock CSMS: unplugging
during a transaction (OCTT TC_005_1, §9.1.23 StopTransactionOnEVSideDisconnect, §9.1.33
UnlockConnectorOnEVSideDisconnect) and TriggerMessage's connectorId (§5.17).

The exact sequence of CALLs is asserted twice: as the charge point put them on the wire and
as the CSMS received and accepted them. Every frame the charge point sends is checked with
the independent validator.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from conftest import UNIT, oca_errors
from mockpoint.clock import VirtualClock, format_timestamp, parse_timestamp
from mockpoint.csms.server import MockCsms
from mockpoint.ids import SeededIds
from mockpoint.runtime.charge_point import ChargePoint
from mockpoint.station.configuration import Configuration
from mockpoint.station.station import Identity, Station
from mockpoint.transport.websocket import connect

START = parse_timestamp("2025-06-01T08:00:00Z")
CP = "CP-DETAILS"


class Wire:
    """The CALLs the charge point sends, in order, each checked against the OCA schemas."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.invalid: list[str] = []

    def frame(self, direction: str, text: str) -> None:
        frame = json.loads(text)
        if direction != "out" or frame[0] != 2:
            return
        self.calls.append((frame[2], frame[3]))
        self.invalid.extend(f"{text}: {problem}" for problem in oca_errors(frame[2], frame[3]))

    def violation(self, event: object) -> None:
        pass


class Rig:
    def __init__(self, csms: MockCsms, station: Station, cp: ChargePoint, wire: Wire) -> None:
        self.csms = csms
        self.station = station
        self.cp = cp
        self.wire = wire

    async def settle(self) -> None:
        async with asyncio.timeout(5 * UNIT):
            await self.cp.wait_idle()

    def mark(self) -> tuple[int, int]:
        """Where the CALLs sent and received stand now (for :meth:`since`)."""
        return len(self.wire.calls), len(self.csms.received(CP))

    def since(self, mark: tuple[int, int]) -> tuple[list[Any], list[Any]]:
        """The CALLs sent and received since ``mark``, as (action, payload) pairs."""
        sent = self.wire.calls[mark[0] :]
        received = [(c.action, c.payload) for c in self.csms.received(CP)[mark[1] :]]
        return sent, received


@asynccontextmanager
async def rig(
    overrides: dict[str, object] | None = None, connectors: int = 1
) -> AsyncIterator[Rig]:
    clock = VirtualClock(START, speed=0)
    async with MockCsms(clock=clock) as csms:
        identity = Identity(CP, vendor="Acme", model="AC22", connectors=connectors)
        station = Station(
            identity, clock, Configuration(overrides, number_of_connectors=connectors)
        )
        wire = Wire()
        cp = ChargePoint(
            station,
            lambda: connect(csms.url, CP, open_timeout=5 * UNIT),
            clock=clock,
            ids=SeededIds(7),
            call_timeout=3 * UNIT,
            connect_timeout=5 * UNIT,
            observer=wire,
        )
        await cp.start()
        the_rig = Rig(csms, station, cp, wire)
        try:
            async with asyncio.timeout(5 * UNIT):
                await cp.wait_registered(5 * UNIT)
            await the_rig.settle()
            yield the_rig
        finally:
            await cp.stop()
        assert wire.invalid == [], "frames that break the OCA schemas"
        assert cp.problems == []


async def charging(r: Rig, connector: int = 1, tag: str = "TAG-1") -> int:
    r.station.plug_in(connector)
    await r.cp.outcome(r.station.authorize(tag))
    answer = await r.cp.outcome(r.station.start_transaction(connector, tag))
    await r.settle()
    return int(answer["transactionId"])


def status(connector: int, value: str, at: float) -> tuple[str, dict[str, Any]]:
    payload = {
        "connectorId": connector,
        "errorCode": "NoError",
        "status": value,
        "timestamp": format_timestamp(START + at),
    }
    return ("StatusNotification", payload)


def stop(transaction_id: int, meter_stop: int, at: float) -> tuple[str, dict[str, Any]]:
    when = format_timestamp(START + at)
    payload = {
        "idTag": "TAG-1",
        "meterStop": meter_stop,
        "timestamp": when,
        "transactionId": transaction_id,
        "reason": "EVDisconnected",
        "transactionData": [
            {"timestamp": format_timestamp(START), "sampledValue": [energy("0", "Begin")]},
            {"timestamp": when, "sampledValue": [energy(str(meter_stop), "End")]},
        ],
    }
    return ("StopTransaction", payload)


def energy(value: str, end: str) -> dict[str, str]:
    return {
        "value": value,
        "context": f"Transaction.{end}",
        "format": "Raw",
        "measurand": "Energy.Active.Import.Register",
        "location": "Outlet",
        "unit": "Wh",
    }


# --- unplugging during a transaction (OCTT TC_005_1) ------------------------------------------


async def test_unplug_with_stop_and_unlock_on_ev_side_disconnect() -> None:
    keys = {"StopTransactionOnEVSideDisconnect": True, "UnlockConnectorOnEVSideDisconnect": True}
    async with rig(keys) as r:
        transaction_id = await charging(r)
        r.station.set_power(1, 11_000)
        await r.cp.advance(30)  # before the first sampled meter values
        mark = r.mark()
        r.station.unplug(1)
        await r.settle()

        expected = [
            status(1, "SuspendedEV", 30),
            stop(transaction_id, 92, 30),  # 11 kW for 30 s: 91.7 Wh
            status(1, "Finishing", 30),
            status(1, "Available", 30),
        ]
        sent, received = r.since(mark)
        assert sent == expected
        assert received == expected
        state = r.csms.state(CP)
        assert state.transactions == {} and list(state.stopped) == [transaction_id]
        assert state.connectors[1] == "Available"
        assert r.station.connectors[1].status == "Available"
        assert not r.station.connectors[1].plugged


async def test_unplug_with_the_cable_locked_needs_a_second_unplug() -> None:
    keys = {"StopTransactionOnEVSideDisconnect": True, "UnlockConnectorOnEVSideDisconnect": False}
    async with rig(keys) as r:
        transaction_id = await charging(r)
        await r.cp.advance(10)
        mark = r.mark()
        r.station.unplug(1)
        await r.settle()

        expected = [
            status(1, "SuspendedEV", 10),
            stop(transaction_id, 0, 10),
            status(1, "Finishing", 10),
        ]
        assert r.since(mark) == (expected, expected)
        assert r.csms.state(CP).connectors[1] == "Finishing"
        assert r.station.connectors[1].plugged  # locked in the socket

        await r.cp.advance(5)
        mark = r.mark()
        r.station.unplug(1)
        await r.settle()
        assert r.since(mark) == ([status(1, "Available", 15)], [status(1, "Available", 15)])
        assert r.csms.state(CP).connectors[1] == "Available"


async def test_unplug_without_stop_on_ev_side_disconnect_suspends_the_transaction() -> None:
    keys = {"StopTransactionOnEVSideDisconnect": False, "UnlockConnectorOnEVSideDisconnect": True}
    async with rig(keys) as r:
        transaction_id = await charging(r)
        mark = r.mark()
        r.station.unplug(1)
        await r.settle()
        assert r.since(mark) == ([status(1, "SuspendedEV", 0)], [status(1, "SuspendedEV", 0)])
        assert list(r.csms.state(CP).transactions) == [transaction_id]

        r.station.plug_in(1)
        await r.settle()
        assert r.since(mark)[1][1:] == [status(1, "Charging", 0)]


# --- TriggerMessage's connectorId (§5.17) ---------------------------------------------------


async def test_trigger_meter_values_of_connector_zero_is_the_main_meter() -> None:
    keys = {"MeterValuesSampledData": "Energy.Active.Import.Register,Power.Active.Import"}
    async with rig(keys, connectors=2) as r:
        await charging(r, 1)
        await charging(r, 2, "TAG-2")
        r.station.set_power(1, 11_000)
        r.station.set_power(2, 22_000)
        await r.cp.advance(30)
        mark = r.mark()
        trigger = {"requestedMessage": "MeterValues", "connectorId": 0}
        async with asyncio.timeout(5 * UNIT):
            answer = await r.csms.call(CP, "TriggerMessage", trigger, timeout=3 * UNIT)
        await r.settle()

        assert answer == {"status": "Accepted"}
        when = format_timestamp(START + 30)
        common = {"context": "Trigger", "format": "Raw", "location": "Inlet"}
        expected = [
            (
                "MeterValues",
                {
                    "connectorId": 0,
                    "meterValue": [
                        {
                            "timestamp": when,
                            "sampledValue": [
                                # 91.67 Wh + 183.33 Wh, and 11 kW + 22 kW
                                {
                                    "value": "275",
                                    **common,
                                    "measurand": "Energy.Active.Import.Register",
                                    "unit": "Wh",
                                },
                                {
                                    "value": "33000.0",
                                    **common,
                                    "measurand": "Power.Active.Import",
                                    "unit": "W",
                                },
                            ],
                        }
                    ],
                },
            )
        ]
        assert r.since(mark) == (expected, expected)

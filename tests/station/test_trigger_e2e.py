"""TriggerMessage for the Firmware Management notifications (§4.4, §4.5, §5.17) over a real
loopback WebSocket against the mock CSMS: Accepted, then the notification with status Idle,
which the CSMS answers; the charge point still refuses GetDiagnostics and UpdateFirmware.

Frames are asserted as they crossed the wire, each CALL the charge point sends checked with
the independent OCA validator.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from conftest import UNIT, oca_errors
from mockpoint.clock import VirtualClock, parse_timestamp
from mockpoint.csms.server import MockCsms
from mockpoint.errors import CallErrorReceived
from mockpoint.ids import SeededIds
from mockpoint.runtime.charge_point import ChargePoint
from mockpoint.station.station import Identity, Station
from mockpoint.transport.websocket import connect

START = parse_timestamp("2025-06-01T08:00:00Z")
CP = "CP-TRIGGER"


class Wire:
    """Every frame, in order, as (direction, frame); CALLs sent checked against the schemas."""

    def __init__(self) -> None:
        self.frames: list[tuple[str, list[Any]]] = []
        self.invalid: list[str] = []

    def frame(self, direction: str, text: str) -> None:
        frame = json.loads(text)
        self.frames.append((direction, frame))
        if direction == "out" and frame[0] == 2:
            self.invalid.extend(f"{text}: {p}" for p in oca_errors(frame[2], frame[3]))

    def violation(self, event: object) -> None:
        pass

    def index(self, direction: str, kind: int, key: str) -> int:
        """Where the first frame of ``kind`` going ``direction`` with action (CALL) or unique
        id (answers) ``key`` is."""
        position = 2 if kind == 2 else 1
        return next(
            i
            for i, (d, f) in enumerate(self.frames)
            if d == direction and f[0] == kind and f[position] == key
        )


@asynccontextmanager
async def booted() -> AsyncIterator[tuple[MockCsms, ChargePoint, Wire]]:
    clock = VirtualClock(START, speed=0)
    async with MockCsms(clock=clock) as csms:
        station = Station(Identity(CP, connectors=1), clock)
        wire = Wire()
        cp = ChargePoint(
            station,
            lambda: connect(csms.url, CP, open_timeout=5 * UNIT),
            clock=clock,
            ids=SeededIds(3),
            call_timeout=3 * UNIT,
            connect_timeout=5 * UNIT,
            observer=wire,
        )
        await cp.start()
        try:
            async with asyncio.timeout(5 * UNIT):
                await cp.wait_registered(5 * UNIT)
                await cp.wait_idle()
            yield csms, cp, wire
        finally:
            await cp.stop()
        assert wire.invalid == []
        assert cp.problems == []
        assert csms.violations(CP) == []


@pytest.mark.parametrize(
    "requested", ["DiagnosticsStatusNotification", "FirmwareStatusNotification"]
)
async def test_triggered_notification_follows_the_accepted_answer_and_is_answered(
    requested: str,
) -> None:
    async with booted() as (csms, cp, wire):
        before = len(csms.received(CP))
        async with asyncio.timeout(5 * UNIT):
            answer = await csms.call(CP, "TriggerMessage", {"requestedMessage": requested})
            await cp.wait_idle()
        assert answer == {"status": "Accepted"}
        assert [(c.action, c.payload) for c in csms.received(CP)[before:]] == [
            (requested, {"status": "Idle"})
        ]
        trigger_id = wire.frames[wire.index("in", 2, "TriggerMessage")][1][1]
        accepted_at = wire.index("out", 3, trigger_id)
        sent_at = wire.index("out", 2, requested)
        notification_id = wire.frames[sent_at][1][1]
        answered_at = wire.index("in", 3, notification_id)
        # OCPP-J §4.1.1: the answer to the TriggerMessage goes out before the message it
        # asks for; the CSMS answers that one with an empty payload (§6.19, §6.25).
        assert accepted_at < sent_at < answered_at
        assert wire.frames[answered_at][1][2] == {}


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("GetDiagnostics", {"location": "ftp://example.com/logs"}),
        (
            "UpdateFirmware",
            {"location": "ftp://example.com/fw", "retrieveDate": "2025-06-01T08:00:00Z"},
        ),
    ],
)
async def test_firmware_management_requests_stay_not_supported(
    action: str, payload: dict[str, Any]
) -> None:
    async with booted() as (csms, cp, _):
        before = len(csms.received(CP))
        async with asyncio.timeout(5 * UNIT):
            with pytest.raises(CallErrorReceived) as caught:
                await csms.call(CP, action, payload)
            await cp.wait_idle()
        assert caught.value.code == "NotSupported"
        assert csms.received(CP)[before:] == []  # no notification of an upload or install
        configuration = cp.station.configuration
        assert "FirmwareManagement" not in configuration.get_list("SupportedFeatureProfiles")

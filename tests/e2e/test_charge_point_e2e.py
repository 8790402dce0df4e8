"""The station model driven by ChargePoint against the mock CSMS, over real loopback
WebSockets: charging sessions, every CSMS-initiated request with its state effect, boot
retries, schema-invalid and malformed frames both ways, subprotocol refusal.

Every frame the charge point sends is checked with the independent validator.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

from conftest import UNIT, oca_errors
from mockpoint.clock import VirtualClock, parse_timestamp
from mockpoint.csms.config import config_from_mapping
from mockpoint.csms.server import MockCsms
from mockpoint.errors import CallErrorReceived, ConnectError, RemoteProtocolError
from mockpoint.ids import SeededIds
from mockpoint.runtime.charge_point import ChargePoint
from mockpoint.station.configuration import Configuration
from mockpoint.station.station import Identity, Station
from mockpoint.transport.websocket import connect

START = parse_timestamp("2025-06-01T08:00:00Z")
CP = "CP-E2E"


class CheckedFrames:
    """Records every frame and checks each one the charge point sends against the OCA
    schemas with the jsonschema library (not the validator mockpoint uses)."""

    def __init__(self) -> None:
        self.frames: list[tuple[str, Any]] = []
        #: time.monotonic() of each frame, in step with ``frames``
        self.times: list[float] = []
        self.invalid: list[str] = []
        self._requests: dict[str, str] = {}

    def frame(self, direction: str, text: str) -> None:
        try:
            frame = json.loads(text)
        except ValueError:
            frame = text
        self.frames.append((direction, frame))
        self.times.append(time.monotonic())
        if not isinstance(frame, list) or len(frame) < 3:
            return
        if direction == "in" and frame[0] == 2:
            self._requests[frame[1]] = frame[2]
        if direction != "out":
            return
        if frame[0] == 2:
            problems = oca_errors(frame[2], frame[3])
        elif frame[0] == 3 and frame[1] in self._requests:
            problems = oca_errors(self._requests[frame[1]], frame[2], response=True)
        else:
            problems = []
        self.invalid.extend(f"{text}: {problem}" for problem in problems)

    def violation(self, event: object) -> None:
        pass

    def sent(self, action: str) -> list[dict[str, Any]]:
        return [f[3] for d, f in self.frames if d == "out" and f[0] == 2 and f[2] == action]

    def sent_times(self, action: str) -> list[float]:
        """When each CALL of ``action`` went out (monotonic seconds)."""
        return [
            when
            for (d, f), when in zip(self.frames, self.times, strict=True)
            if d == "out" and isinstance(f, list) and f[0] == 2 and f[2] == action
        ]

    def sent_actions(self) -> list[str]:
        return [f[2] for d, f in self.frames if d == "out" and isinstance(f, list) and f[0] == 2]


class Rig:
    def __init__(self, csms: MockCsms, station: Station, cp: ChargePoint, frames: CheckedFrames):
        self.csms = csms
        self.station = station
        self.cp = cp
        self.frames = frames
        self.clock = station.clock

    async def settle(self) -> None:
        async with asyncio.timeout(5 * UNIT):
            await self.cp.wait_idle()

    async def request(self, action: str, payload: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """A CSMS-initiated request; returns the charge point's answer after its effects."""
        async with asyncio.timeout(5 * UNIT):
            response = await self.csms.call(CP, action, payload, timeout=3 * UNIT, **kw)
        await self.settle()
        return response

    def csms_actions(self) -> list[str]:
        return [call.action for call in self.csms.received(CP)]


@asynccontextmanager
async def rig(
    csms_config: dict[str, Any] | None = None,
    overrides: dict[str, object] | None = None,
    *,
    connectors: int = 2,
    boot: bool = True,
    log: Any = None,
) -> AsyncIterator[Rig]:
    clock = VirtualClock(START, speed=0)
    config = config_from_mapping(csms_config) if csms_config else None
    async with MockCsms(config=config, clock=clock, log=log) as csms:
        identity = Identity(CP, vendor="Acme", model="AC22", connectors=connectors)
        station = Station(
            identity, clock, Configuration(overrides, number_of_connectors=connectors)
        )
        frames = CheckedFrames()
        cp = ChargePoint(
            station,
            lambda: connect(csms.url, CP, open_timeout=5 * UNIT),
            clock=clock,
            ids=SeededIds(7),
            call_timeout=3 * UNIT,
            connect_timeout=5 * UNIT,
            observer=frames,
        )
        await cp.start()
        the_rig = Rig(csms, station, cp, frames)
        try:
            if boot:
                async with asyncio.timeout(5 * UNIT):
                    await cp.wait_registered(5 * UNIT)
                await the_rig.settle()
            yield the_rig
        finally:
            await cp.stop()
        assert frames.invalid == [], "frames that break the OCA schemas"


async def charging(r: Rig, connector: int = 1, tag: str = "TAG-1") -> int:
    r.station.plug_in(connector)
    await r.cp.outcome(r.station.authorize(tag))
    answer = await r.cp.outcome(r.station.start_transaction(connector, tag))
    await r.settle()
    return int(answer["transactionId"])


# --- sessions ------------------------------------------------------------------------------


async def test_full_charging_session_reaches_the_csms_in_order() -> None:
    async with rig(overrides={"MeterValueSampleInterval": 60}) as r:
        transaction_id = await charging(r)
        r.station.set_power(1, 11_000)
        await r.cp.advance(10 * 60)
        stop = await r.cp.outcome(r.station.stop_transaction(1))
        r.station.unplug(1)
        await r.settle()

        assert stop == {"idTagInfo": {"status": "Accepted"}}
        assert transaction_id == 1
        assert r.csms_actions().count("Heartbeat") == 2  # every 300 s of the 10 minutes
        assert [a for a in r.csms_actions() if a != "Heartbeat"] == [
            "BootNotification",
            *["StatusNotification"] * 3,
            "StatusNotification",  # Preparing
            "Authorize",
            "StartTransaction",
            "StatusNotification",  # Charging
            *["MeterValues"] * 10,
            "StopTransaction",
            "StatusNotification",  # Finishing
            "StatusNotification",  # Available
        ]
        statuses = [(p["connectorId"], p["status"]) for p in r.frames.sent("StatusNotification")]
        assert statuses[3:] == [
            (1, "Preparing"),
            (1, "Charging"),
            (1, "Finishing"),
            (1, "Available"),
        ]
        readings = [
            p["meterValue"][0]["sampledValue"][0]["value"] for p in r.frames.sent("MeterValues")
        ]
        # 11 kW: 183.33 Wh a minute, exactly integrated, rounded per sample
        assert readings == [str(round(11_000 * m / 60)) for m in range(1, 11)]
        assert {p["transactionId"] for p in r.frames.sent("MeterValues")} == {1}
        stopped = r.frames.sent("StopTransaction")[0]
        assert (stopped["meterStop"], stopped["reason"], stopped["timestamp"]) == (
            1833,
            "Local",
            "2025-06-01T08:10:00Z",
        )
        state = r.csms.state(CP)
        assert state.transactions == {} and list(state.stopped) == [1]
        assert r.cp.problems == []


async def test_heartbeats_fall_due_in_virtual_time() -> None:
    async with rig({"boot": {"interval": 120}}) as r:
        await r.cp.advance(600)
        assert r.csms_actions().count("Heartbeat") == 5
        assert r.station.configuration.get("HeartbeatInterval") == "120"


@pytest.mark.slow
async def test_pending_then_accepted_boot_is_retried_after_the_interval() -> None:
    config = {"boot": {"status": ["Pending", "Accepted"], "interval": [1, 300]}}
    async with rig(config, boot=False) as r:
        async with asyncio.timeout(5 * UNIT):
            await r.cp.wait_registered(5 * UNIT)
        await r.settle()
        assert r.csms.state(CP).boot_count == 2
        assert r.clock.now() == START + 1
        # At clock speed 0 too, the CSMS's interval holds in wall time (§4.2).
        first, second = r.frames.sent_times("BootNotification")
        assert second - first >= 1
        assert (
            r.csms_actions()
            == ["BootNotification", "BootNotification"] + ["StatusNotification"] * 3
        )


@pytest.mark.slow
async def test_rejected_boot_sends_nothing_until_accepted() -> None:
    config = {"boot": {"status": ["Rejected", "Rejected", "Accepted"], "interval": [1]}}
    async with rig(config, boot=False) as r:
        r.station.plug_in(1)
        async with asyncio.timeout(5 * UNIT):
            await r.cp.wait_registered(5 * UNIT)
        await r.settle()
        actions = r.csms_actions()
        assert actions[:3] == ["BootNotification"] * 3
        assert r.clock.now() == START + 2
        times = r.frames.sent_times("BootNotification")
        assert [b - a >= 1 for a, b in zip(times, times[1:], strict=False)] == [True, True]
        assert [(c["connectorId"], c["status"]) for c in r.frames.sent("StatusNotification")] == [
            (0, "Available"),
            (1, "Preparing"),
            (2, "Available"),
        ]


# --- CSMS-initiated requests ----------------------------------------------------------------


async def test_remote_start_with_a_cable_in_starts_a_transaction() -> None:
    async with rig() as r:
        r.station.plug_in(2)
        await r.settle()
        answer = await r.request("RemoteStartTransaction", {"idTag": "REMOTE-1"})
        assert answer == {"status": "Accepted"}
        assert r.station.transactions[2].transaction_id == 1
        assert r.station.connectors[2].status == "Charging"
        assert r.frames.sent("StartTransaction")[0]["idTag"] == "REMOTE-1"
        assert r.csms_actions()[-2:] == ["StartTransaction", "StatusNotification"]


async def test_remote_start_first_waits_for_the_cable() -> None:
    async with rig() as r:
        answer = await r.request("RemoteStartTransaction", {"idTag": "REMOTE-1", "connectorId": 1})
        assert answer == {"status": "Accepted"}
        assert r.station.connectors[1].status == "Preparing"
        assert "StartTransaction" not in r.csms_actions()
        r.station.plug_in(1)
        await r.settle()
        assert r.station.connectors[1].status == "Charging"


async def test_remote_start_lapses_after_connection_timeout() -> None:
    async with rig(overrides={"ConnectionTimeOut": 30}) as r:
        await r.request("RemoteStartTransaction", {"idTag": "REMOTE-1", "connectorId": 1})
        await r.cp.advance(31)
        assert r.station.connectors[1].status == "Available"
        assert "StartTransaction" not in r.csms_actions()


async def test_remote_start_with_authorization_required_authorizes_first() -> None:
    config = {"id_tags": {"blocked": ["BAD-1"]}}
    async with rig(config, overrides={"AuthorizeRemoteTxRequests": True}) as r:
        r.station.plug_in(1)
        await r.settle()
        assert await r.request("RemoteStartTransaction", {"idTag": "BAD-1"}) == {
            "status": "Accepted"
        }
        assert r.csms_actions()[-1] == "Authorize"
        assert r.station.transactions == {}
        await r.request("RemoteStartTransaction", {"idTag": "GOOD-1"})
        assert r.csms_actions()[-3:] == ["Authorize", "StartTransaction", "StatusNotification"]


async def test_remote_start_on_a_busy_connector_is_rejected() -> None:
    async with rig() as r:
        await charging(r, 1)
        answer = await r.request("RemoteStartTransaction", {"idTag": "X", "connectorId": 1})
        assert answer == {"status": "Rejected"}


async def test_remote_stop_stops_the_transaction_with_reason_remote() -> None:
    async with rig() as r:
        transaction_id = await charging(r)
        assert await r.request("RemoteStopTransaction", {"transactionId": 999}) == {
            "status": "Rejected"
        }
        assert await r.request("RemoteStopTransaction", {"transactionId": transaction_id}) == {
            "status": "Accepted"
        }
        stop = r.frames.sent("StopTransaction")[0]
        assert (stop["transactionId"], stop["reason"]) == (transaction_id, "Remote")
        assert r.station.transactions == {}
        assert r.station.connectors[1].status == "Finishing"


@pytest.mark.parametrize(("kind", "reason"), [("Soft", "SoftReset"), ("Hard", "HardReset")])
async def test_reset_stops_transactions_reconnects_and_boots_again(kind: str, reason: str) -> None:
    async with rig() as r:
        await charging(r)
        assert await r.request("Reset", {"type": kind}) == {"status": "Accepted"}
        async with asyncio.timeout(5 * UNIT):
            while r.csms.state(CP).boot_count < 2 or not r.station.accepted:
                await asyncio.sleep(0.01)
        await r.settle()
        assert r.frames.sent("StopTransaction")[0]["reason"] == reason
        actions = r.csms_actions()
        reboot = actions.index("BootNotification", 1)
        assert "StopTransaction" in actions[:reboot]
        assert actions[reboot + 1 :] == ["StatusNotification"] * 3
        # The cable is still in: connector 1 reports Finishing after the reboot.
        statuses = r.frames.sent("StatusNotification")[-3:]
        assert [s["status"] for s in statuses] == ["Available", "Finishing", "Available"]
        assert r.cp.problems == []


async def test_get_configuration_all_some_and_unknown_keys() -> None:
    async with rig(overrides={"AuthorizationKey": "0123456789abcdef0123"}) as r:
        everything = await r.request("GetConfiguration", {})
        keys = {item["key"]: item for item in everything["configurationKey"]}
        assert keys["NumberOfConnectors"] == {
            "key": "NumberOfConnectors",
            "readonly": True,
            "value": "2",
        }
        assert "value" not in keys["AuthorizationKey"]
        some = await r.request("GetConfiguration", {"key": ["HeartbeatInterval", "NoSuchKey"]})
        assert some == {
            "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}],
            "unknownKey": ["NoSuchKey"],
        }


async def test_change_configuration_outcomes_and_effects() -> None:
    async with rig() as r:
        change = "ChangeConfiguration"
        assert await r.request(change, {"key": "HeartbeatInterval", "value": "60"}) == {
            "status": "Accepted"
        }
        assert await r.request(change, {"key": "NumberOfConnectors", "value": "4"}) == {
            "status": "Rejected"
        }
        assert await r.request(change, {"key": "HeartbeatInterval", "value": "soon"}) == {
            "status": "Rejected"
        }
        assert await r.request(change, {"key": "NoSuchKey", "value": "1"}) == {
            "status": "NotSupported"
        }
        got = await r.request("GetConfiguration", {"key": ["HeartbeatInterval"]})
        assert got["configurationKey"][0]["value"] == "60"
        before = r.csms_actions().count("Heartbeat")
        await r.cp.advance(300)
        assert r.csms_actions().count("Heartbeat") - before == 5


async def test_change_availability_unlock_clear_cache_and_trigger() -> None:
    async with rig() as r:
        assert await r.request("ChangeAvailability", {"connectorId": 2, "type": "Inoperative"}) == {
            "status": "Accepted"
        }
        assert r.csms.state(CP).connectors[2] == "Unavailable"
        transaction_id = await charging(r, 1)
        assert await r.request("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}) == {
            "status": "Scheduled"
        }
        assert await r.request("UnlockConnector", {"connectorId": 1}) == {"status": "Unlocked"}
        stop = r.frames.sent("StopTransaction")[0]
        assert (stop["transactionId"], stop["reason"]) == (transaction_id, "UnlockCommand")
        assert r.csms.state(CP).connectors[1] == "Unavailable"  # the scheduled change
        assert await r.request("UnlockConnector", {"connectorId": 9}) == {"status": "NotSupported"}
        assert await r.request("ClearCache", {}) == {"status": "Accepted"}
        assert r.station.cache.entries == {}
        assert await r.request("TriggerMessage", {"requestedMessage": "Heartbeat"}) == {
            "status": "Accepted"
        }
        assert r.csms_actions()[-1] == "Heartbeat"
        answer = await r.request(
            "TriggerMessage", {"requestedMessage": "DiagnosticsStatusNotification"}
        )
        assert answer == {"status": "Accepted"}  # then the notification, status Idle (§4.4)
        await r.settle()
        assert r.csms_actions()[-1] == "DiagnosticsStatusNotification"


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        (
            "SetChargingProfile",
            {
                "connectorId": 1,
                "csChargingProfiles": {
                    "chargingProfileId": 1,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "TxDefaultProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": {
                        "chargingRateUnit": "A",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.1}],
                    },
                },
            },
        ),
        ("UpdateFirmware", {"location": "ftp://x", "retrieveDate": "2025-06-01T08:00:00Z"}),
        ("GetDiagnostics", {"location": "ftp://x"}),
        ("ClearChargingProfile", {}),
        ("GetCompositeSchedule", {"connectorId": 1, "duration": 60}),
        ("ExtendedTriggerMessage", {"requestedMessage": "Heartbeat"}),
    ],
)
async def test_legal_requests_mockpoint_does_not_implement_are_not_supported_and_no_problem(
    action: str, payload: dict[str, Any]
) -> None:
    async with rig() as r:
        with pytest.raises(CallErrorReceived) as caught:
            await r.request(action, payload)
        assert caught.value.code == "NotSupported"
        # A CSMS may legally send it: nothing the charge point holds against it.
        assert r.cp.problems == []
        assert [(rec.call.action, rec.not_supported) for rec in r.cp.received] == [(action, True)]


async def test_a_request_of_the_wrong_direction_is_not_supported_and_a_violation() -> None:
    async with rig() as r:
        with pytest.raises(CallErrorReceived) as caught:
            await r.request(
                "BootNotification",
                {"chargePointVendor": "a", "chargePointModel": "b"},
                validate=False,
            )
        assert caught.value.code == "NotSupported"
        assert len(r.cp.problems) == 1
        assert r.cp.problems[0].startswith("CSMS protocol violation: BootNotification")


async def test_data_transfer_from_the_csms_is_answered_unknown_vendor_id() -> None:
    async with rig() as r:
        answer = await r.request("DataTransfer", {"vendorId": "com.acme", "messageId": "x"})
        assert answer == {"status": "UnknownVendorId"}
        assert r.cp.problems == []


# --- invalid frames, both directions ---------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({}, "OccurenceConstraintViolation"),
        ({"type": 1}, "TypeConstraintViolation"),
        ({"type": "Medium"}, "PropertyConstraintViolation"),
        ({"type": "Soft", "when": "now"}, "FormationViolation"),
    ],
)
async def test_schema_invalid_csms_request_gets_the_right_callerror(
    payload: dict[str, Any], code: str
) -> None:
    async with rig() as r:
        with pytest.raises(CallErrorReceived) as caught:
            await r.request("Reset", payload, validate=False)
        assert caught.value.code == code
        assert r.station.boot_count == 1  # nothing was reset
        assert any("CSMS protocol violation" in p for p in r.cp.problems)


async def test_schema_invalid_charge_point_request_gets_a_callerror_from_the_csms() -> None:
    async with rig() as r:
        message = r.station.send("Authorize", {"idTag": 5}, validate=False)
        with pytest.raises(CallErrorReceived) as caught:
            await r.cp.outcome(message)
        assert caught.value.code == "TypeConstraintViolation"
        # the deliberately invalid frame is the only one the second validator refuses
        assert len(r.frames.invalid) == 1
        r.frames.invalid.clear()


# --- a raw peer, for what the mock CSMS never does ------------------------------------------

Handler = Callable[[ServerConnection], Awaitable[None]]


@asynccontextmanager
async def raw_server(handler: Handler, **options: Any) -> AsyncIterator[str]:
    async with serve(handler, "127.0.0.1", 0, **options) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/ocpp"


async def raw_station(url: str, frames: CheckedFrames) -> tuple[Station, ChargePoint]:
    clock = VirtualClock(START, speed=0)
    station = Station(Identity(CP), clock)
    cp = ChargePoint(
        station,
        lambda: connect(url, CP, open_timeout=2 * UNIT),
        clock=clock,
        call_timeout=1 * UNIT,
        connect_timeout=1 * UNIT,
        observer=frames,
    )
    return station, cp


async def test_malformed_and_unknown_frames_from_the_csms_are_answered_not_fatal() -> None:
    replies: list[Any] = []

    async def handler(ws: ServerConnection) -> None:
        boot = json.loads(await ws.recv())
        await ws.send(
            json.dumps(
                [
                    3,
                    boot[1],
                    {"status": "Accepted", "interval": 300, "currentTime": "2025-06-01T08:00:00Z"},
                ]
            )
        )
        for _ in range(2):  # StatusNotification of connectors 0 and 1
            status = json.loads(await ws.recv())
            await ws.send(json.dumps([3, status[1], {}]))
        await ws.send('[2,"m-1","Reset",{"type":')  # broken JSON, readable id
        await ws.send("this is not json")  # no id to answer
        await ws.send('[2,"m-2","FlyToTheMoon",{}]')  # unknown action
        await ws.send('[2,"m-3","Reset"]')  # wrong element count
        for _ in range(3):
            replies.append(json.loads(await ws.recv()))
        await ws.send('[2,"m-4","GetConfiguration",{"key":["HeartbeatInterval"]}]')
        replies.append(json.loads(await ws.recv()))
        await ws.wait_closed()

    frames = CheckedFrames()
    async with raw_server(handler, subprotocols=["ocpp1.6"]) as url:
        station, cp = await raw_station(url, frames)
        await cp.start()
        try:
            async with asyncio.timeout(5 * UNIT):
                await cp.wait_registered(5 * UNIT)
                while len(replies) < 4:
                    await asyncio.sleep(0.01)
        finally:
            await cp.stop()
    assert [r[:3] for r in replies] == [
        [4, "m-1", "FormationViolation"],
        [4, "m-2", "NotImplemented"],
        [4, "m-3", "FormationViolation"],
        [
            3,
            "m-4",
            {"configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]},
        ],
    ]
    assert len(cp.problems) == 4
    assert any("not valid JSON" in p for p in cp.problems)
    assert frames.invalid == []


async def test_an_invalid_answer_from_the_csms_fails_the_exchange_with_a_clear_report() -> None:
    async def handler(ws: ServerConnection) -> None:
        boot = json.loads(await ws.recv())
        await ws.send(json.dumps([3, boot[1], {"status": "Welcome", "interval": "300"}]))
        await ws.wait_closed()

    async with raw_server(handler, subprotocols=["ocpp1.6"]) as url:
        station, cp = await raw_station(url, CheckedFrames())
        await cp.start(auto_boot=False)
        try:
            with pytest.raises(RemoteProtocolError, match="BootNotification answer"):
                async with asyncio.timeout(5 * UNIT):
                    await cp.outcome(station.boot())
        finally:
            await cp.stop()
    assert station.registration is None
    assert any("breaks the OCA schema" in p for p in cp.problems)


async def test_a_server_that_does_not_select_ocpp16_is_unreachable() -> None:
    async def handler(ws: ServerConnection) -> None:
        await ws.wait_closed()

    async with raw_server(handler) as url:
        station, cp = await raw_station(url, CheckedFrames())
        with pytest.raises(ConnectError, match="ocpp1.6"):
            await cp.start()


async def test_a_csms_that_never_answers_times_the_call_out() -> None:
    async with rig({"answers": {"Authorize": {"ignore": True}}}) as r:
        from mockpoint.errors import CallTimeout

        with pytest.raises(CallTimeout):
            async with asyncio.timeout(5 * UNIT):
                await r.cp.outcome(r.station.authorize("TAG-1"))
        # The executor moved on: the next message is answered.
        assert (await r.cp.outcome(r.station.send("Heartbeat", {})))["currentTime"]


# --- determinism -----------------------------------------------------------------------------


async def test_two_runs_exchange_byte_identical_frames(tmp_path: Any) -> None:
    logs = []
    for run in range(2):
        path = tmp_path / f"run{run}.jsonl"
        async with rig(
            {"boot": {"interval": 600}}, {"MeterValueSampleInterval": 60}, log=str(path)
        ) as r:
            await charging(r)
            r.station.set_power(1, 7_400)
            await r.cp.advance(15 * 60)
            await r.cp.outcome(r.station.stop_transaction(1))
            r.station.unplug(1)
            await r.settle()
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        logs.append([(e["seq"], e["direction"], e["frame"]) for e in lines])
    assert len(logs[0]) > 40
    assert logs[0] == logs[1]

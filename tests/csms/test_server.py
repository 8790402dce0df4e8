"""The mock CSMS over real loopback WebSockets."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Subprotocol

from conftest import UNIT, oca_errors
from mockpoint.clock import VirtualClock, parse_timestamp
from mockpoint.csms import MockCsms, config_from_mapping
from mockpoint.errors import (
    CallErrorReceived,
    CallTimeout,
    ConnectionLost,
    RemoteProtocolError,
)
from mockpoint.ids import SeededIds
from mockpoint.ocpp16.actions import CHARGE_POINT_HANDLES
from mockpoint.rpc import Call, InvalidAnswer, RemoteViolation, RpcSession
from mockpoint.runtime import Endpoint
from mockpoint.transport import charge_point_url, connect

START = "2025-06-01T08:00:00Z"
BOOT = {"chargePointVendor": "Acme", "chargePointModel": "AC22"}
START_TX = {"connectorId": 1, "idTag": "TAG-001", "meterStart": 0, "timestamp": START}

#: What the test charge point answers to CSMS requests.
CP_ANSWERS: dict[str, dict[str, Any]] = {
    "ClearCache": {"status": "Accepted"},
    "GetConfiguration": {"configurationKey": []},
    "TriggerMessage": {"status": "Accepted"},
    "ChangeConfiguration": {"status": "Accepted"},
}


class ChargePoint:
    """A minimal charge point: an Endpoint over the real WebSocket transport."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.requests: list[tuple[float, Call]] = []
        self.arrived = asyncio.Event()
        self.task: asyncio.Task[ConnectionLost] = asyncio.create_task(endpoint.run())

    async def handle(self, call: Call) -> dict[str, Any]:
        self.requests.append((time.monotonic(), call))
        self.arrived.set()
        return CP_ANSWERS[call.action]

    async def call(self, action: str, payload: dict[str, Any], timeout: float = 2.0) -> Any:
        return await self.endpoint.call(action, payload, timeout=timeout * UNIT)

    async def wait_requests(self, count: int, timeout: float = 2.0) -> list[Call]:
        async with asyncio.timeout(timeout * UNIT):
            while len(self.requests) < count:
                self.arrived.clear()
                await self.arrived.wait()
        return [call for _, call in self.requests]


@contextlib.asynccontextmanager
async def charge_point(csms: MockCsms, cp_id: str = "CP-001") -> AsyncIterator[ChargePoint]:
    transport = await connect(csms.url, cp_id, open_timeout=2 * UNIT)
    holder: list[ChargePoint] = []

    async def handler(call: Call) -> dict[str, Any]:
        return await holder[0].handle(call)

    cp = ChargePoint(
        Endpoint(transport, RpcSession(CHARGE_POINT_HANDLES, ids=SeededIds(7)), handler)
    )
    holder.append(cp)
    try:
        yield cp
    finally:
        await cp.endpoint.close()
        async with asyncio.timeout(2 * UNIT):
            await cp.task


@contextlib.asynccontextmanager
async def mock_csms(
    config: dict[str, Any] | None = None, **options: Any
) -> AsyncIterator[MockCsms]:
    clock = VirtualClock(parse_timestamp(START))
    async with MockCsms(config_from_mapping(config or {}), clock, **options) as csms:
        yield csms


@contextlib.asynccontextmanager
async def raw_client(csms: MockCsms, cp_id: str = "RAW-1") -> AsyncIterator[ClientConnection]:
    url = charge_point_url(csms.url, cp_id)
    async with ws_connect(url, subprotocols=[Subprotocol("ocpp1.6")], open_timeout=2 * UNIT) as ws:
        yield ws


async def exchange(ws: ClientConnection, text: str) -> list[Any]:
    await ws.send(text)
    async with asyncio.timeout(2 * UNIT):
        answer = await ws.recv()
    decoded: list[Any] = json.loads(answer)
    return decoded


# --- answers over the wire --------------------------------------------------------------


async def test_boot_is_accepted_with_a_schema_valid_answer_at_virtual_time() -> None:
    async with mock_csms() as csms, charge_point(csms) as cp:
        answer = await cp.call("BootNotification", BOOT)
        assert answer == {"status": "Accepted", "currentTime": START, "interval": 300}
        assert oca_errors("BootNotification", answer, response=True) == []
        assert csms.state("CP-001").accepted
        assert [c.action for c in csms.received("CP-001")] == ["BootNotification"]


async def test_pending_then_accepted_over_the_wire() -> None:
    config = {"boot": {"status": ["Pending", "Accepted"], "interval": [1, 300]}}
    async with mock_csms(config) as csms, charge_point(csms) as cp:
        first = await cp.call("BootNotification", BOOT)
        second = await cp.call("BootNotification", BOOT)
        assert (first["status"], first["interval"]) == ("Pending", 1)
        assert (second["status"], second["interval"]) == ("Accepted", 300)


async def test_id_tags_and_transaction_ids_over_the_wire() -> None:
    config = {"id_tags": {"blocked": ["TAG-B"]}}
    async with mock_csms(config) as csms:
        async with charge_point(csms, "CP-1") as one, charge_point(csms, "CP-2") as two:
            blocked = await one.call("Authorize", {"idTag": "TAG-B"})
            assert blocked == {"idTagInfo": {"status": "Blocked"}}
            ids = [
                (await cp.call("StartTransaction", START_TX))["transactionId"]
                for cp in (one, two, one)
            ]
            assert ids == [1, 2, 3]
            stop = {"transactionId": 2, "meterStop": 500, "timestamp": START, "idTag": "TAG-B"}
            assert await two.call("StopTransaction", stop) == {"idTagInfo": {"status": "Blocked"}}
        assert sorted(csms.state("CP-1").transactions) == [1, 3]
        assert csms.state("CP-2").stopped[2].meter_stop == 500


@pytest.mark.parametrize(
    ("action", "payload", "code"),
    [
        ("Authorize", {}, "OccurenceConstraintViolation"),
        ("Authorize", {"idTag": 5}, "TypeConstraintViolation"),
        ("Authorize", {"idTag": "A", "colour": "red"}, "FormationViolation"),
        (
            "StatusNotification",
            {"connectorId": 1, "status": "Sleeping", "errorCode": "NoError"},
            "PropertyConstraintViolation",
        ),
        ("FlyToTheMoon", {}, "NotImplemented"),
        ("Reset", {"type": "Hard"}, "NotSupported"),
    ],
)
async def test_a_refused_call_gets_its_callerror_and_is_recorded(
    action: str, payload: dict[str, Any], code: str
) -> None:
    async with mock_csms() as csms, raw_client(csms) as ws:
        answer = await exchange(ws, json.dumps([2, "u-1", action, payload]))
        assert answer[:3] == [4, "u-1", code]
        assert csms.received("RAW-1") == []
        [violation] = csms.violations("RAW-1")
        assert isinstance(violation, RemoteViolation)
        assert violation.reply is not None and violation.reply.error_code == code


async def test_malformed_json_with_a_readable_id_is_a_formation_violation() -> None:
    async with mock_csms() as csms, raw_client(csms) as ws:
        answer = await exchange(ws, '[2, "u-2", "Heartbeat", {')
        assert answer[:3] == [4, "u-2", "FormationViolation"]
        # the connection survives: a valid request still gets its answer
        assert await exchange(ws, '[2, "u-3", "Heartbeat", {}]') == [
            3,
            "u-3",
            {"currentTime": START},
        ]
        assert len(csms.violations("RAW-1")) == 1


# --- answers overrides ------------------------------------------------------------------


async def test_answer_overrides_error_payload_and_ignore() -> None:
    config = {
        "answers": {
            "Heartbeat": {"error": "GenericError", "description": "not today", "times": 1},
            "DataTransfer": {"payload": {"status": "UnknownVendorId"}},
            "MeterValues": {"ignore": True},
        }
    }
    meter = {
        "connectorId": 1,
        "meterValue": [{"timestamp": START, "sampledValue": [{"value": "1"}]}],
    }
    async with mock_csms(config) as csms, charge_point(csms) as cp:
        with pytest.raises(CallErrorReceived) as info:
            await cp.call("Heartbeat", {})
        assert (info.value.code, info.value.description) == ("GenericError", "not today")
        assert await cp.call("Heartbeat", {}) == {"currentTime": START}
        assert await cp.call("DataTransfer", {"vendorId": "Acme"}) == {"status": "UnknownVendorId"}
        with pytest.raises(CallTimeout):
            await cp.call("MeterValues", meter, timeout=0.2)
        # the ignored request was received all the same
        assert csms.received("CP-001")[-1].action == "MeterValues"


# --- CSMS-initiated requests ------------------------------------------------------------


async def test_on_boot_requests_arrive_in_order_after_the_boot_with_their_delays() -> None:
    config = {
        "on_boot": [
            {"action": "ClearCache", "delay": "50ms"},
            {
                "action": "GetConfiguration",
                "payload": {"key": ["HeartbeatInterval"]},
                "delay": 0.05,
            },
        ]
    }
    async with mock_csms(config) as csms, charge_point(csms) as cp:
        booted = time.monotonic()
        await cp.call("BootNotification", BOOT)
        calls = await cp.wait_requests(2)
        assert [c.action for c in calls] == ["ClearCache", "GetConfiguration"]
        assert calls[1].payload == {"key": ["HeartbeatInterval"]}
        (first, _), (second, _) = cp.requests
        assert first - booted >= 0.05
        assert second - first >= 0.05


async def test_no_on_boot_requests_before_an_accepted_boot() -> None:
    config = {"boot": {"status": "Pending"}, "on_boot": [{"action": "ClearCache"}]}
    async with mock_csms(config) as csms, charge_point(csms) as cp:
        await cp.call("BootNotification", BOOT)
        await asyncio.sleep(0.1)
        assert cp.requests == []


async def test_periodic_requests_repeat_and_resume_when_a_registered_cp_reconnects() -> None:
    config = {
        "on_boot": [{"action": "ClearCache"}],
        "periodic": [
            {
                "action": "TriggerMessage",
                "payload": {"requestedMessage": "Heartbeat"},
                "period": 0.03,
            }
        ],
    }
    async with mock_csms(config) as csms:
        async with charge_point(csms) as cp:
            await cp.call("BootNotification", BOOT)
            calls = await cp.wait_requests(4)
            assert calls[0].action == "ClearCache"
            assert {c.action for c in calls[1:]} == {"TriggerMessage"}
            assert len({c.unique_id for c in calls}) == len(calls)
        # A lost connection is not a reboot: no new boot, no on_boot, the periodic resumes.
        async with charge_point(csms) as again:
            calls = await again.wait_requests(2)
            assert [c.action for c in calls] == ["TriggerMessage", "TriggerMessage"]
        assert csms.violations("CP-001") == []


async def test_csms_call_round_trip_and_errors() -> None:
    async with mock_csms() as csms:
        with pytest.raises(ConnectionLost):
            await csms.call("CP-001", "ClearCache", {})
        async with charge_point(csms) as cp:
            await csms.wait_connected("CP-001", timeout=2 * UNIT)
            answer = await csms.call("CP-001", "GetConfiguration", {"key": ["X"]}, timeout=2 * UNIT)
            assert answer == {"configurationKey": []}
            assert cp.requests[0][1].payload == {"key": ["X"]}
            # the test charge point answers Reset with nothing it knows: a handler failure
            with pytest.raises(CallErrorReceived) as info:
                await csms.call("CP-001", "Reset", {"type": "Soft"}, timeout=2 * UNIT)
            assert info.value.code == "InternalError"


async def test_an_invalid_answer_from_the_charge_point_is_a_violation() -> None:
    async with mock_csms() as csms, raw_client(csms) as ws:
        await csms.wait_connected("RAW-1", timeout=2 * UNIT)
        request = asyncio.create_task(csms.call("RAW-1", "ClearCache", {}, timeout=2 * UNIT))
        async with asyncio.timeout(2 * UNIT):
            frame = json.loads(await ws.recv())
        assert frame[0] == 2 and frame[2] == "ClearCache"
        await ws.send(json.dumps([3, frame[1], {"status": "Maybe"}]))
        with pytest.raises(RemoteProtocolError):
            await request
        [violation] = csms.violations("RAW-1")
        assert isinstance(violation, InvalidAnswer)


async def test_wait_for_sees_past_requests_and_times_out() -> None:
    async with mock_csms() as csms, charge_point(csms) as cp:
        await cp.call("Authorize", {"idTag": "A"})
        await cp.call("Authorize", {"idTag": "B"})
        got = await csms.wait_for(
            "CP-001", "Authorize", timeout=UNIT, predicate=lambda c: c.payload["idTag"] == "B"
        )
        assert got.payload == {"idTag": "B"}
        later = asyncio.create_task(csms.wait_for("CP-001", "Heartbeat", timeout=2 * UNIT))
        await asyncio.sleep(0)
        await cp.call("Heartbeat", {})
        assert (await later).action == "Heartbeat"
        with pytest.raises(TimeoutError, match="CP-001 sent no matching StopTransaction"):
            await csms.wait_for("CP-001", "StopTransaction", timeout=0.05)


# --- connections ------------------------------------------------------------------------


@pytest.mark.parametrize("offered", [None, [Subprotocol("ocpp2.0.1")]])
async def test_a_client_without_the_ocpp16_subprotocol_gets_http_400(
    offered: list[Subprotocol] | None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="mockpoint.csms")
    async with mock_csms() as csms:
        with pytest.raises(InvalidStatus) as info:
            async with ws_connect(
                charge_point_url(csms.url, "CP-X"), subprotocols=offered, open_timeout=2 * UNIT
            ):
                pass
        assert info.value.response.status_code == 400
        assert b"ocpp1.6" in info.value.response.body
        assert not csms.connected("CP-X")
    assert any("subprotocol ocpp1.6 is not offered" in r.message for r in caplog.records)


async def test_a_path_without_an_id_gets_http_404() -> None:
    async with mock_csms() as csms:
        with pytest.raises(InvalidStatus) as info:
            async with ws_connect(
                csms.url + "/", subprotocols=[Subprotocol("ocpp1.6")], open_timeout=2 * UNIT
            ):
                pass
        assert info.value.response.status_code == 404


async def test_a_trailing_slash_after_the_id_is_forgiven() -> None:
    async with mock_csms() as csms:
        async with ws_connect(
            csms.url + "/CP-SLASH/", subprotocols=[Subprotocol("ocpp1.6")], open_timeout=2 * UNIT
        ):
            await csms.wait_connected("CP-SLASH", timeout=2 * UNIT)
            assert csms.connected("CP-SLASH")


async def test_the_id_is_the_url_decoded_last_path_segment() -> None:
    async with mock_csms() as csms, charge_point(csms, "CP 1/ü") as cp:
        await cp.call("Heartbeat", {})
        assert csms.connected("CP 1/ü")
        assert [c.action for c in csms.received("CP 1/ü")] == ["Heartbeat"]


async def test_a_second_connection_with_the_same_id_replaces_the_first() -> None:
    async with mock_csms() as csms, charge_point(csms) as old:
        await old.call("BootNotification", BOOT)
        async with charge_point(csms) as new:
            async with asyncio.timeout(2 * UNIT):
                lost = await old.task
            assert "1000" in str(lost) and "replaced" in str(lost)
            assert csms.connected("CP-001")
            await csms.call("CP-001", "ClearCache", {}, timeout=2 * UNIT)
            assert [c.action for c in await new.wait_requests(1)] == ["ClearCache"]
            assert old.requests == []
            # the registration outlives the connection
            assert csms.state("CP-001").accepted


async def test_disconnect_closes_with_the_given_code() -> None:
    async with mock_csms() as csms, charge_point(csms) as cp:
        await csms.wait_connected("CP-001", timeout=2 * UNIT)
        await csms.disconnect("CP-001", code=4001, reason="bye")
        async with asyncio.timeout(2 * UNIT):
            lost = await cp.task
        assert "4001" in str(lost)
        assert not csms.connected("CP-001")
        await csms.disconnect("CP-001")  # not connected: nothing to do


async def test_a_client_that_leaves_before_its_answer_causes_no_error_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with mock_csms() as csms:
        for n in range(5):
            async with raw_client(csms, f"RAW-{n}") as ws:
                await ws.send('[2, "u-1", "FlyToTheMoon", {}]')
        async with asyncio.timeout(2 * UNIT):
            while any(csms.connected(f"RAW-{n}") for n in range(5)):
                await asyncio.sleep(0.01)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


# --- the frame log ----------------------------------------------------------------------


async def test_the_log_has_one_json_line_per_frame(tmp_path: Path) -> None:
    log = tmp_path / "frames.jsonl"
    async with mock_csms(log=log) as csms, charge_point(csms) as cp:
        await cp.call("BootNotification", BOOT)
        async with raw_client(csms) as ws:
            await ws.send("not json")  # unanswerable: the next answer shows it was read
            await exchange(ws, '[2, "h-1", "Heartbeat", {}]')
        lines = log.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    boot, answer = records[0], records[1]
    assert (boot["cp"], boot["direction"], boot["frame"][2:]) == (
        "CP-001",
        "in",
        ["BootNotification", BOOT],
    )
    assert (answer["direction"], answer["frame"][0], answer["frame"][1]) == (
        "out",
        3,
        boot["frame"][1],
    )
    assert answer["virtual_time"] == START
    assert answer["wall_time"].endswith("Z")
    assert {"cp": "RAW-1", "direction": "in", "frame": "not json"}.items() <= records[2].items()


async def test_two_runs_give_the_same_log_but_for_wall_time() -> None:
    async def run() -> list[dict[str, Any]]:
        stream = io.StringIO()
        config = {"on_boot": [{"action": "ClearCache"}]}
        async with mock_csms(config, log=stream) as csms, charge_point(csms) as cp:
            await cp.call("BootNotification", BOOT)
            await cp.call("StartTransaction", START_TX)
            await cp.wait_requests(1)
        records = [json.loads(line) for line in stream.getvalue().splitlines()]
        for record in records:
            del record["wall_time"]
        return records

    first, second = await run(), await run()
    assert len(first) == 6
    assert first == second

"""The mock CSMS's ``on_request`` triggers and its id-tag prefix convention, over loopback."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from conftest import UNIT
from mockpoint.csms.answers import authorization_status
from mockpoint.csms.config import IdTagConfig, config_from_mapping
from mockpoint.csms.server import MockCsms
from mockpoint.errors import UsageError
from mockpoint.ids import CounterIds
from mockpoint.ocpp16.actions import CHARGE_POINT_HANDLES
from mockpoint.rpc.frames import Call, WireFrame
from mockpoint.rpc.session import RpcSession
from mockpoint.runtime.endpoint import Endpoint
from mockpoint.transport.websocket import connect

CP = "CP-TRIG"
NOW = "2025-06-01T08:00:00Z"


@pytest.mark.parametrize(
    ("tag", "status"),
    [
        ("BLOCKED-1", "Blocked"),
        ("EXPIRED", "Expired"),
        ("INVALID-x", "Invalid"),
        ("CONCURRENT-9", "ConcurrentTx"),
        ("TAG-BLOCKED", "Accepted"),
        ("blocked-1", "Accepted"),
    ],
)
def test_tag_prefixes_give_their_status(tag: str, status: str) -> None:
    assert authorization_status(None, tag) == status


def test_a_list_outranks_the_prefix() -> None:
    assert authorization_status(IdTagConfig(expired=frozenset({"BLOCKED-1"})), "BLOCKED-1") == (
        "Expired"
    )


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ({"when": {"action": "Reset"}, "send": {"action": "ClearCache"}}, "not sent by a charge"),
        ({"when": {"action": "Heartbeat"}, "send": {"action": "Heartbeat"}}, "Central System"),
        ({"when": {"action": "Heartbeat"}, "send": {"action": "Reset", "payload": {}}}, "type"),
        ({"when": {"action": "Heartbeat"}}, "send"),
        ({"when": {"action": "Heartbeat"}, "send": {"action": "ClearCache"}, "times": 0}, "times"),
    ],
)
def test_bad_triggers_are_refused_at_load(entry: dict[str, Any], problem: str) -> None:
    with pytest.raises(UsageError, match=problem):
        config_from_mapping({"on_request": [entry]})


class Client:
    """A bare charge point: an Endpoint that records the CSMS's requests and accepts them."""

    def __init__(self) -> None:
        self.requests: list[Call] = []
        self.arrived = asyncio.Event()

    async def handle(self, call: Call) -> dict[str, Any]:
        self.requests.append(call)
        self.arrived.set()
        if call.action == "GetConfiguration":
            return {"configurationKey": []}
        return {"status": "Accepted"}


async def test_a_trigger_fires_after_the_matching_answer_with_the_transaction_id() -> None:
    config = config_from_mapping(
        {
            "on_request": [
                {
                    "when": {"action": "StatusNotification", "match": {"status": "Charging"}},
                    "send": {
                        "action": "RemoteStopTransaction",
                        "payload": {"transactionId": "${transaction_id}"},
                    },
                },
                {
                    "when": {"action": "Heartbeat"},
                    "send": {"action": "GetConfiguration"},
                    "times": 2,
                },
            ]
        }
    )
    client = Client()
    frames: list[tuple[str, str]] = []

    class Record:
        def frame(self, wire: WireFrame) -> None:
            frames.append((wire.direction, wire.text))

        def violation(self, event: object) -> None:
            pass

    async with MockCsms(config=config) as csms:
        transport = await connect(csms.url, CP)
        endpoint = Endpoint(
            transport,
            RpcSession(CHARGE_POINT_HANDLES, ids=CounterIds()),
            client.handle,
            observer=Record(),
        )
        runner = asyncio.create_task(endpoint.run())
        try:
            async with asyncio.timeout(5 * UNIT):
                await endpoint.call(
                    "BootNotification", {"chargePointVendor": "v", "chargePointModel": "m"}
                )
                start = {"connectorId": 1, "idTag": "T", "meterStart": 0, "timestamp": NOW}
                first = await endpoint.call("StartTransaction", start)
                second = await endpoint.call("StartTransaction", {**start, "connectorId": 2})
                status = {"connectorId": 2, "errorCode": "NoError", "status": "Preparing"}
                await endpoint.call("StatusNotification", status)
                assert client.requests == []  # no match: nothing sent
                await endpoint.call("StatusNotification", {**status, "status": "Charging"})
                while not client.requests:
                    await client.arrived.wait()
                    client.arrived.clear()
                for _ in range(3):
                    await endpoint.call("Heartbeat", {})
                while len(client.requests) < 3:
                    await client.arrived.wait()
                    client.arrived.clear()
                await asyncio.sleep(0.1 * UNIT)  # a third GetConfiguration would be here now
        finally:
            await endpoint.close()
            await runner
    stop = client.requests[0]
    assert (stop.action, stop.payload) == (
        "RemoteStopTransaction",
        {"transactionId": second["transactionId"]},
    )
    assert first["transactionId"] < second["transactionId"]
    assert [c.action for c in client.requests] == ["RemoteStopTransaction"] + [
        "GetConfiguration"
    ] * 2
    # The trigger's request comes right after the answer to the request that fired it.
    charging = next(i for i, (d, t) in enumerate(frames) if d == "out" and '"Charging"' in t)
    assert [d for d, _ in frames[charging : charging + 3]] == ["out", "in", "in"]
    assert frames[charging + 1][1].startswith("[3,")
    assert '"RemoteStopTransaction"' in frames[charging + 2][1]


@pytest.mark.parametrize("text", ["boot: !!int abc\n", "a: " + "[" * 2000 + "\n"])
def test_a_broken_config_file_is_a_usage_error(tmp_path: Any, text: str) -> None:
    from mockpoint.csms.config import load_config

    path = tmp_path / "csms.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError, match="csms.yaml"):
        load_config(path)

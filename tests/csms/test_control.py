"""The mock CSMS's control API (``mockpoint.csms.control``), in-process, over loopback HTTP
and real WebSockets between the mock CSMS and the charge points."""

from __future__ import annotations

import asyncio
import http.client
import json
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, NamedTuple
from urllib.parse import quote, urlsplit

import pytest

import mockpoint
from conftest import UNIT
from mockpoint.csms.control import MAX_BODY, ControlServer, is_loopback
from mockpoint.csms.server import MockCsms
from mockpoint.errors import NotSupportedAction, UsageError
from mockpoint.ocpp16.actions import CHARGE_POINT_HANDLES
from mockpoint.rpc import RpcSession
from mockpoint.rpc.frames import Call
from mockpoint.runtime import Endpoint
from mockpoint.runtime.endpoint import Unanswered
from mockpoint.transport import connect


class Reply(NamedTuple):
    status: int
    body: dict[str, Any]
    headers: Mapping[str, str]


def _exchange(
    url: str,
    method: str,
    path: str,
    body: bytes | None,
    headers: Mapping[str, str],
) -> Reply:
    address = urlsplit(url)
    assert address.hostname is not None and address.port is not None
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=20 * UNIT)
    try:
        connection.request(method, path, body=body, headers=dict(headers))
        response = connection.getresponse()
        data = response.read()
        assert response.getheader("Content-Type") == "application/json"
        return Reply(response.status, json.loads(data), dict(response.getheaders()))
    finally:
        connection.close()


async def request(
    control: ControlServer,
    method: str,
    path: str,
    payload: object = None,
    *,
    raw: bytes | None = None,
    headers: Mapping[str, str] | None = None,
) -> Reply:
    """One HTTP request to the control API, from a thread: the loop goes on serving."""
    body = raw if raw is not None else (None if payload is None else json.dumps(payload).encode())
    return await asyncio.to_thread(_exchange, control.url, method, path, body, headers or {})


async def eventually(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5 * UNIT):
        while not condition():
            await asyncio.sleep(0.01)


@asynccontextmanager
async def controlled(token: str | None = None) -> AsyncIterator[tuple[MockCsms, ControlServer]]:
    async with MockCsms() as csms:
        control = ControlServer(csms, token=token)
        control.start()
        try:
            yield csms, control
        finally:
            control.stop()


#: What the bare charge point answers; ClearCache gets a CALLERROR, Reset no answer at all.
RAW_ANSWERS: dict[str, dict[str, Any]] = {
    "GetConfiguration": {},
    "ChangeAvailability": {"status": "Accepted"},
}
#: Sent as it is, past the bare charge point's own checks: it breaks the schema.
BROKEN_ANSWER = {"UnlockConnector": {"status": "Maybe"}}


class RawChargePoint:
    """A bare charge point that records the CSMS's requests and answers as RAW_ANSWERS."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.received: list[Call] = []


@asynccontextmanager
async def raw_charge_point(csms: MockCsms, cp_id: str) -> AsyncIterator[RawChargePoint]:
    transport = await connect(csms.url, cp_id, open_timeout=5 * UNIT)

    async def handle(call: Call) -> dict[str, Any]:
        raw.received.append(call)
        if call.action == "ClearCache":
            raise NotSupportedAction("no cache here")
        if call.action == "Reset":
            await asyncio.get_running_loop().create_future()  # never answers
        if call.action in BROKEN_ANSWER:
            transport.write(json.dumps([3, call.unique_id, BROKEN_ANSWER[call.action]]))
            raise Unanswered  # by the session: it would refuse to send it
        return RAW_ANSWERS[call.action]

    raw = RawChargePoint(Endpoint(transport, RpcSession(CHARGE_POINT_HANDLES), handle))
    runner = asyncio.create_task(raw.endpoint.run())
    try:
        await csms.wait_connected(cp_id, timeout=5 * UNIT)
        yield raw
    finally:
        await raw.endpoint.close(1000, "done")
        await runner


async def test_remote_start_get_configuration_and_reset_reach_the_charge_point() -> None:
    async with controlled() as (csms, control):
        async with mockpoint.charge_point(csms.url, "CP-1") as cp:
            listed = await request(control, "GET", "/charge-points")
            assert listed.status == 200
            assert listed.body == {"charge_points": [{"id": "CP-1", "connected": True}]}

            await cp.plug_in(1)
            started = await request(
                control,
                "POST",
                "/charge-points/CP-1/RemoteStartTransaction",
                {"connectorId": 1, "idTag": "TAG-042"},
            )
            assert started == (200, {"answer": {"status": "Accepted"}}, started.headers)
            start = await csms.wait_for("CP-1", "StartTransaction", timeout=5 * UNIT)
            assert start.payload["idTag"] == "TAG-042" and start.payload["connectorId"] == 1
            # The charge point knows its transaction once the CSMS's answer is back.
            await eventually(lambda: cp.state["connectors"][1]["transaction_id"] is not None)
            transaction = cp.state["connectors"][1]["transaction_id"]
            assert transaction in csms.state("CP-1").transactions

            configuration = await request(
                control,
                "POST",
                "/charge-points/CP-1/GetConfiguration",
                {"key": ["HeartbeatInterval", "NoSuchKey"]},
            )
            assert configuration.status == 200
            answer = configuration.body["answer"]
            assert [entry["key"] for entry in answer["configurationKey"]] == ["HeartbeatInterval"]
            assert answer["unknownKey"] == ["NoSuchKey"]

            first_boot = await csms.wait_for("CP-1", "BootNotification")
            reset = await request(control, "POST", "/charge-points/CP-1/Reset", {"type": "Soft"})
            assert reset.status == 200 and reset.body == {"answer": {"status": "Accepted"}}
            # §5.14: the transaction stops (reason SoftReset), then the charge point reboots.
            stop = await csms.wait_for("CP-1", "StopTransaction", timeout=5 * UNIT)
            assert stop.payload["transactionId"] == transaction
            assert stop.payload["reason"] == "SoftReset"
            await csms.wait_for(
                "CP-1", "BootNotification", 5 * UNIT, lambda call: call is not first_boot
            )
            assert csms.state("CP-1").boot_count == 2


async def test_an_empty_body_is_an_empty_payload_and_the_path_id_is_url_decoded() -> None:
    cp_id = "CP 7/ä"
    async with controlled() as (csms, control), raw_charge_point(csms, cp_id) as raw:
        path = f"/charge-points/{quote(cp_id, safe='')}/GetConfiguration"
        reply = await request(control, "POST", path)
        assert reply.status == 200 and reply.body == {"answer": {}}
        assert [(call.action, call.payload) for call in raw.received] == [("GetConfiguration", {})]
        listed = await request(control, "GET", "/charge-points/")
        assert listed.body == {"charge_points": [{"id": cp_id, "connected": True}]}


async def test_a_charge_point_that_is_not_connected_is_404() -> None:
    async with controlled() as (csms, control):
        never = await request(control, "POST", "/charge-points/CP-9/ClearCache", {})
        assert never.status == 404
        assert never.body == {"error": "charge point 'CP-9' has not connected to this mock CSMS"}
        async with raw_charge_point(csms, "CP-2"):
            pass
        await eventually(lambda: not csms.connected("CP-2"))
        gone = await request(control, "POST", "/charge-points/CP-2/ClearCache", {})
        assert gone.status == 404 and gone.body["error"] == "charge point 'CP-2' is not connected"
        listed = await request(control, "GET", "/charge-points")
        assert listed.body == {"charge_points": [{"id": "CP-2", "connected": False}]}


@pytest.mark.parametrize(
    ("path", "body", "error"),
    [
        ("/charge-points/CP-1/Heartbeat", b"{}", "Heartbeat is not sent by a Central System"),
        ("/charge-points/CP-1/Reboot", b"{}", "'Reboot' is not an OCPP 1.6 action"),
        ("/charge-points/CP-1/Reset", b"{}", "Reset request: "),
        ("/charge-points/CP-1/Reset", b'{"type": "Gentle"}', "Reset request: "),
        ("/charge-points/CP-1/Reset", b'{"type": ', "the body is not JSON"),
        ("/charge-points/CP-1/Reset", b'["Soft"]', "the body must be a JSON object"),
        ("/charge-points/CP-1/Reset?timeout=soon", b'{"type": "Soft"}', "timeout: 'soon'"),
        ("/charge-points/CP-1/Reset?timeout=0", b'{"type": "Soft"}', "timeout: must be more"),
        ("/charge-points/CP-1/Reset?wait=5", b'{"type": "Soft"}', "unknown query parameter"),
    ],
)
async def test_a_request_the_csms_cannot_send_is_400_and_nothing_is_sent(
    path: str, body: bytes, error: str
) -> None:
    async with controlled() as (csms, control), raw_charge_point(csms, "CP-1") as raw:
        reply = await request(control, "POST", path, raw=body)
        assert reply.status == 400, reply.body
        assert set(reply.body) == {"error"} and error in reply.body["error"]
        # The connection still works, and the refused request never went out.
        ok = await request(
            control,
            "POST",
            "/charge-points/CP-1/ChangeAvailability",
            {"connectorId": 0, "type": "Operative"},
        )
        assert ok.status == 200
        assert [call.action for call in raw.received] == ["ChangeAvailability"]


async def test_a_callerror_is_502_with_its_code() -> None:
    async with controlled() as (csms, control), raw_charge_point(csms, "CP-1") as raw:
        reply = await request(control, "POST", "/charge-points/CP-1/ClearCache", {})
        assert reply.status == 502
        assert reply.body["code"] == "NotSupported"
        assert reply.body["description"] == "no cache here"
        assert "CP-1 answered ClearCache with a CALLERROR" in reply.body["error"]
        broken = await request(
            control, "POST", "/charge-points/CP-1/UnlockConnector", {"connectorId": 1}
        )
        assert broken.status == 502 and "code" not in broken.body
        assert "CP-1 answered UnlockConnector with a broken answer" in broken.body["error"]
        assert [call.action for call in raw.received] == ["ClearCache", "UnlockConnector"]


async def test_no_answer_within_the_timeout_is_504() -> None:
    async with controlled() as (csms, control), raw_charge_point(csms, "CP-1") as raw:
        began = time.monotonic()
        reply = await request(
            control, "POST", f"/charge-points/CP-1/Reset?timeout={0.3 * UNIT}", {"type": "Hard"}
        )
        waited = time.monotonic() - began
        assert reply.status == 504
        assert reply.body == {"error": f"CP-1 did not answer Reset within {0.3 * UNIT:g} s"}
        assert 0.3 * UNIT <= waited < 10 * UNIT
        assert [call.action for call in raw.received] == ["Reset"]


async def test_stopping_answers_a_waiting_request_503() -> None:
    async with controlled() as (csms, control), raw_charge_point(csms, "CP-1") as raw:
        waiting = asyncio.create_task(
            request(control, "POST", "/charge-points/CP-1/Reset", {"type": "Hard"})
        )
        await eventually(lambda: bool(raw.received))
        await asyncio.to_thread(control.stop)
        reply = await asyncio.wait_for(waiting, 10 * UNIT)
        assert reply.status == 503 and reply.body == {"error": "the mock CSMS is stopping"}


async def test_unknown_endpoints_methods_and_oversized_bodies() -> None:
    async with controlled() as (_csms, control):
        assert (await request(control, "GET", "/")).status == 404
        assert (await request(control, "GET", "/charge-points/CP-1")).status == 404
        wrong = await request(control, "GET", "/charge-points/CP-1/Reset")
        assert wrong.status == 405 and wrong.headers["Allow"] == "POST"
        assert (await request(control, "POST", "/charge-points", {})).status == 405
        assert (await request(control, "DELETE", "/charge-points")).status == 501
        big = await request(
            control, "POST", "/charge-points/CP-1/DataTransfer", raw=b" " * (4 * MAX_BODY)
        )
        assert big.status == 413 and "at most" in big.body["error"]


async def test_a_token_is_required_as_a_bearer_token() -> None:
    token = "s3cret-Token_1"
    async with controlled(token=token) as (_csms, control):
        for headers in (
            {},
            {"Authorization": "Bearer wrong-token"},
            {"Authorization": f"Bearer {token}x"},
            {"Authorization": f"Basic {token}"},
        ):
            refused = await request(control, "GET", "/charge-points", headers=headers)
            assert refused.status == 401, headers
            assert refused.headers["WWW-Authenticate"].startswith("Bearer")
            assert token not in json.dumps(refused.body)
        ok = await request(
            control, "GET", "/charge-points", headers={"Authorization": f"Bearer {token}"}
        )
        assert ok == (200, {"charge_points": []}, ok.headers)


async def test_a_network_address_needs_a_token() -> None:
    async with MockCsms() as csms:
        with pytest.raises(UsageError, match="0.0.0.0"):
            ControlServer(csms, host="0.0.0.0")
        with pytest.raises(UsageError, match="token"):
            ControlServer(csms, host="192.0.2.1")
        ControlServer(csms, host="0.0.0.0", token="t0ken")  # allowed: not started


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1.2.3", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.0.2.1", False),
        ("csms.example", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback

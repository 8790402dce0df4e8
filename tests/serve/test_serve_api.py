"""``mockpoint serve`` over real loopback HTTP and WebSockets: each endpoint, the status a
verb answers with, the event stream, tokens, runs and load runs (docs/serve.md)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import websockets

from mockpoint.csms.config import config_from_mapping
from mockpoint.csms.server import MockCsms
from mockpoint.serve.app import create_app
from mockpoint.serve.hub import Hub

EXAMPLES = Path(__file__).parent.parent.parent / "examples"

pytestmark = pytest.mark.timeout(60)


class Served:
    def __init__(self, url: str, hub: Hub) -> None:
        self.url = url
        self.hub = hub


@contextlib.asynccontextmanager
async def serving(token: str | None = None) -> AsyncIterator[Served]:
    """The API on a free loopback port, in this event loop."""
    hub = Hub()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(hub, token=token),
            log_level="warning",
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
    )
    task = asyncio.create_task(server._serve(sockets=[sock]))
    async with asyncio.timeout(10):
        while not server.started:
            await asyncio.sleep(0.01)
    try:
        yield Served(f"http://127.0.0.1:{port}", hub)
    finally:
        server.should_exit = True
        hub.events.close()
        await asyncio.wait_for(task, 10)
        sock.close()


@pytest.fixture
async def api() -> AsyncIterator[tuple[httpx.AsyncClient, Hub]]:
    async with serving() as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
            yield client, served.hub


async def create(client: httpx.AsyncClient, cp_id: str, **extra: Any) -> dict[str, Any]:
    response = await client.post(
        "/charge-points", json={"charge_point": {"id": cp_id, **extra.pop("cp", {})}, **extra}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# --- charge points ------------------------------------------------------------------------------


async def test_a_charging_session_verb_by_verb(api: tuple[httpx.AsyncClient, Hub]) -> None:
    client, _hub = api
    view = await create(client, "CP-1", cp={"connectors": 2})
    assert view["connected"] and view["registration"] == "Accepted"
    assert view["embedded_csms"] is True and view["seed"] == 0
    assert set(view["connectors"]) == {"0", "1", "2"}

    plugged = await client.post("/charge-points/CP-1/plug_in", json={"connector": 1})
    assert plugged.status_code == 200
    result = plugged.json()
    assert result["status"] == "passed" and result["step"] == "plug_in connector 1"
    sent = [f["frame"] for f in result["frames"] if f["direction"] == "out"]
    assert sent[0][2] == "StatusNotification" and sent[0][3]["status"] == "Preparing"

    started = await client.post(
        "/charge-points/CP-1/start_transaction", json={"connector": 1, "id_tag": "TAG-1"}
    )
    assert started.status_code == 200, started.text
    answer = started.json()["answer"]
    assert answer["idTagInfo"]["status"] == "Accepted"
    transaction_id = answer["transactionId"]

    charged = await client.post(
        "/charge-points/CP-1/charge", json={"connector": 1, "power": "11kW", "duration": "30m"}
    )
    assert charged.status_code == 200, charged.text
    state = (await client.get("/charge-points/CP-1")).json()
    assert state["connectors"]["1"]["energy_wh"] == 5500
    assert state["transactions"] == [
        {"connector": 1, "transaction_id": transaction_id, "id_tag": "TAG-1", "meter_start_wh": 0}
    ]

    stopped = await client.post("/charge-points/CP-1/stop_transaction", json={"connector": 1})
    assert stopped.status_code == 200
    stop_frames = [f["frame"] for f in stopped.json()["frames"] if f["direction"] == "out"]
    stop = next(frame for frame in stop_frames if frame[2] == "StopTransaction")
    assert stop[3]["transactionId"] == transaction_id and stop[3]["meterStop"] == 5500

    assert (await client.post("/charge-points/CP-1/unplug")).status_code == 200  # body optional
    state = (await client.get("/charge-points/CP-1")).json()
    assert state["connectors"]["1"]["status"] == "Available"
    assert state["transactions"] == [] and state["queue"] == []

    frames = (await client.get("/charge-points/CP-1/frames")).json()
    assert [f["seq"] for f in frames] == list(range(1, len(frames) + 1))
    assert len(frames) == state["frames"]
    later = (await client.get("/charge-points/CP-1/frames", params={"after": 10})).json()
    assert later == frames[10:]


async def test_list_read_and_delete(api: tuple[httpx.AsyncClient, Hub]) -> None:
    client, hub = api
    await create(client, "CP-A")
    await create(client, "CP-B", cp={"vendor": "Acme", "model": "Fast"})
    listed = (await client.get("/charge-points")).json()
    assert [cp["id"] for cp in listed] == ["CP-A", "CP-B"]
    again = await client.post("/charge-points", json={"charge_point": {"id": "CP-A"}})
    assert again.status_code == 409 and "CP-A" in again.json()["error"]

    assert (await client.delete("/charge-points/CP-A")).status_code == 204
    assert [cp["id"] for cp in (await client.get("/charge-points")).json()] == ["CP-B"]
    assert (await client.get("/charge-points/CP-A")).status_code == 404
    assert (await client.delete("/charge-points/CP-A")).status_code == 404
    missing = await client.post("/charge-points/CP-A/plug_in", json={"connector": 1})
    assert missing.status_code == 404 and missing.json() == {"error": "no charge point 'CP-A'"}
    assert set(hub.charge_points) == {"CP-B"}


async def test_the_status_of_a_verb_says_what_happened() -> None:
    config = config_from_mapping({"answers": {"Authorize": {"ignore": True}}}, "test")
    async with MockCsms(config=config) as csms, serving() as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
            await create(client, "CP-S", csms=csms.url, cp={"connectors": 1})
            # 409: the station's state forbids it (no cable to unplug)
            refused = await client.post("/charge-points/CP-S/unplug", json={"connector": 1})
            assert refused.status_code == 409
            assert refused.json()["cause"] == "refused"
            assert "not allowed in status Available" in refused.json()["message"]
            stop = await client.post("/charge-points/CP-S/stop_transaction")
            assert stop.status_code == 409 and "no running transaction" in stop.json()["message"]
            # 400: no such connector; a body that breaks the model names the field
            invalid = await client.post("/charge-points/CP-S/plug_in", json={"connector": 3})
            assert invalid.status_code == 400
            assert "connector 3 does not exist" in invalid.json()["message"]
            bad = await client.post("/charge-points/CP-S/charge", json={"power": "fast"})
            assert bad.status_code == 400
            assert bad.json()["fields"][0]["field"] == "power"
            broken = await client.post(
                "/charge-points/CP-S/plug_in",
                content=b"{connector: 1",
                headers={"content-type": "application/json"},
            )
            assert broken.status_code == 400 and broken.json()["fields"][0]["field"] == "body"
            unknown = await client.post("/charge-points/CP-S/plug_in", json={"connectr": 1})
            assert unknown.status_code == 400 and unknown.json()["error"].startswith("connectr")
            off_schema = await client.post(
                "/charge-points/CP-S/send",
                json={"action": "DataTransfer", "payload": {"vendorId": 5}},
            )
            assert off_schema.status_code == 400 and off_schema.json()["cause"] == "invalid"
            # 422: done, but the answer is not what the verb expected
            mismatch = await client.post(
                "/charge-points/CP-S/send",
                json={"action": "Heartbeat", "expect": {"currentTime": "never"}},
            )
            assert mismatch.status_code == 422 and mismatch.json()["cause"] == "check"
            assert "currentTime" in mismatch.json()["message"]
            # 504: the CSMS does not answer
            silent = await client.post(
                "/charge-points/CP-S/authorize", json={"id_tag": "TAG-1"}, params={"timeout": 0.5}
            )
            assert silent.status_code == 504, silent.text
            assert silent.json()["cause"] == "timeout"
            assert "no answer to Authorize within 0.5 s" in silent.json()["message"]
            # and the charge point goes on working
            beat = await client.post("/charge-points/CP-S/send", json={"action": "Heartbeat"})
            assert beat.status_code == 200 and "currentTime" in beat.json()["answer"]


async def test_a_callerror_is_the_answer_of_a_failed_verb() -> None:
    config = config_from_mapping(
        {"answers": {"DataTransfer": {"error": "NotImplemented", "description": "no"}}}, "test"
    )
    async with MockCsms(config=config) as csms, serving() as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
            await create(client, "CP-E", csms=csms.url)
            failed = await client.post(
                "/charge-points/CP-E/send",
                json={"action": "DataTransfer", "payload": {"vendorId": "acme"}},
            )
            assert failed.status_code == 422
            assert failed.json()["answer"]["code"] == "NotImplemented"
            expected = await client.post(
                "/charge-points/CP-E/send",
                json={
                    "action": "DataTransfer",
                    "payload": {"vendorId": "acme"},
                    "expect_error": "NotImplemented",
                },
            )
            assert expected.status_code == 200
            assert expected.json()["answer"]["code"] == "NotImplemented"


async def test_an_unreachable_csms_is_502_and_leaves_nothing_behind(
    api: tuple[httpx.AsyncClient, Hub],
) -> None:
    client, hub = api
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    response = await client.post(
        "/charge-points",
        json={
            "charge_point": {"id": "CP-X"},
            "csms": f"ws://127.0.0.1:{port}/ocpp",
            "connect_timeout": 0.5,
        },
    )
    assert response.status_code == 502, response.text
    assert "CP-X" not in hub.charge_points
    not_ws = await client.post(
        "/charge-points", json={"charge_point": {"id": "CP-X"}, "csms": "http://127.0.0.1:1/"}
    )
    assert not_ws.status_code == 400 and "ws://" in not_ws.json()["error"]


async def test_a_rejected_boot_is_not_an_error_of_the_api(
    api: tuple[httpx.AsyncClient, Hub],
) -> None:
    client, _hub = api
    view = await create(
        client,
        "CP-R",
        mock_csms={"boot": {"status": ["Rejected"], "interval": [60]}},
        timeout=0.5,
    )
    assert view["registration"] == "Rejected" and view["connected"] is True


async def test_the_password_appears_nowhere() -> None:
    config = config_from_mapping(
        {"auth": {"passwords": {"CP-P": "s3cret-passw0rd-for-cp-p"}}}, "test"
    )
    async with MockCsms(config=config) as csms, serving() as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
            async with client.stream("GET", "/events") as events:
                lines = events.aiter_lines()
                assert (await anext(lines)).startswith(":")
                view = await create(
                    client,
                    "CP-P",
                    csms={
                        "url": csms.url,
                        "security_profile": 1,
                        "password": "s3cret-passw0rd-for-cp-p",
                    },
                )
                assert view["registration"] == "Accepted"
                change = await client.post(
                    "/charge-points/CP-P/send",
                    json={"action": "Heartbeat"},
                )
                assert change.status_code == 200
                seen = []
                async with asyncio.timeout(5):
                    async for line in lines:
                        seen.append(line)
                        if "Heartbeat" in line:
                            break
            everything = json.dumps(
                [
                    (await client.get("/charge-points")).json(),
                    (await client.get("/charge-points/CP-P")).json(),
                    (await client.get("/charge-points/CP-P/frames")).json(),
                ]
            )
            assert view["configuration"]["AuthorizationKey"] == "***"
    assert "s3cret-passw0rd-for-cp-p" not in everything
    assert "s3cret-passw0rd-for-cp-p" not in "\n".join(seen)
    assert "s3cret-passw0rd-for-cp-p" not in json.dumps(view)


# --- waiting for the CSMS --------------------------------------------------------------------


async def test_await_a_request_of_the_csms_long_poll() -> None:
    async with MockCsms() as csms, serving() as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
            await create(client, "CP-W", csms=csms.url)
            await client.post("/charge-points/CP-W/plug_in")
            started = await client.post(
                "/charge-points/CP-W/start_transaction", json={"id_tag": "TAG-1"}
            )
            transaction_id = started.json()["answer"]["transactionId"]

            waiting = asyncio.create_task(
                client.post(
                    "/charge-points/CP-W/await",
                    json={"action": "RemoteStopTransaction", "within": 10},
                )
            )
            await asyncio.sleep(0.2)
            assert not waiting.done()
            answer = await csms.call(
                "CP-W", "RemoteStopTransaction", {"transactionId": transaction_id}
            )
            assert answer == {"status": "Accepted"}
            result = await waiting
            assert result.status_code == 200, result.text
            body = result.json()
            assert body["request"] == {"transactionId": transaction_id}
            assert body["answer"] == {"status": "Accepted"}

            # One that came before the await is the oldest not awaited yet: it is taken.
            await csms.call("CP-W", "GetConfiguration", {"key": ["HeartbeatInterval"]})
            early = await client.post(
                "/charge-points/CP-W/await", json={"action": "GetConfiguration"}
            )
            assert early.status_code == 200
            assert early.json()["answer"]["configurationKey"][0]["key"] == "HeartbeatInterval"

            # Nothing comes: 504 after `within`
            nothing = await client.post(
                "/charge-points/CP-W/await", json={"action": "Reset", "within": 0.3}
            )
            assert nothing.status_code == 504
            assert "no Reset from the CSMS within 0.3 s" in nothing.json()["message"]


async def test_await_shapes_the_reply() -> None:
    async with MockCsms() as csms, serving() as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
            await create(client, "CP-Y", csms=csms.url)
            waiting = asyncio.create_task(
                client.post(
                    "/charge-points/CP-Y/await",
                    json={"action": "DataTransfer", "reply": {"status": "Accepted", "data": "x"}},
                )
            )
            await asyncio.sleep(0.2)
            answer = await csms.call("CP-Y", "DataTransfer", {"vendorId": "acme"})
            assert answer == {"status": "Accepted", "data": "x"}
            assert (await waiting).json()["answer"] == {"status": "Accepted", "data": "x"}


async def test_steps_take_a_whole_scenario_step(api: tuple[httpx.AsyncClient, Hub]) -> None:
    client, _hub = api
    await create(client, "CP-T")
    saved = await client.post(
        "/charge-points/CP-T/steps",
        json={"send": "Heartbeat", "save": {"now": "currentTime"}, "name": "beat"},
    )
    assert saved.status_code == 200 and saved.json()["step"] == "beat"
    state = await client.post(
        "/charge-points/CP-T/steps",
        json={"expect_state": {"connectors": {"1": {"status": "Available"}}, "connected": True}},
    )
    assert state.status_code == 200, state.text
    wrong = await client.post(
        "/charge-points/CP-T/steps",
        json={"expect_state": {"connectors": {"1": {"status": "Charging"}}}},
    )
    assert wrong.status_code == 422 and wrong.json()["cause"] == "check"
    assert (await client.post("/charge-points/CP-T/steps", json={"fly": 1})).status_code == 400
    # ${NAME} reads saved variables, never the server's environment
    env = await client.post(
        "/charge-points/CP-T/send",
        json={"action": "DataTransfer", "payload": {"vendorId": "v", "data": "${HOME}"}},
    )
    assert env.status_code == 400
    assert env.json()["message"] == "${HOME} is not a saved variable"
    saved_var = await client.post(
        "/charge-points/CP-T/send",
        json={"action": "DataTransfer", "payload": {"vendorId": "v", "data": "${now}"}},
    )
    assert saved_var.status_code == 200
    sent = next(f for f in saved_var.json()["frames"] if f["direction"] == "out")
    assert sent["frame"][3]["data"].startswith("20")


async def test_fault_and_connection_verbs(api: tuple[httpx.AsyncClient, Hub]) -> None:
    client, _hub = api
    await create(client, "CP-F", timeout=5)
    fault = await client.post(
        "/charge-points/CP-F/fault", json={"connector": 1, "error_code": "GroundFailure"}
    )
    assert fault.status_code == 200
    assert (await client.get("/charge-points/CP-F")).json()["connectors"]["1"][
        "status"
    ] == "Faulted"
    assert (await client.post("/charge-points/CP-F/clear_fault")).status_code == 200
    off = await client.post(
        "/charge-points/CP-F/set_availability", json={"connector": 1, "type": "Inoperative"}
    )
    assert off.status_code == 200
    view = (await client.get("/charge-points/CP-F")).json()
    assert view["connectors"]["1"]["status"] == "Unavailable"

    assert (await client.post("/charge-points/CP-F/disconnect")).status_code == 200
    view = (await client.get("/charge-points/CP-F")).json()
    assert view["connected"] is False and view["link"] == "offline"
    queued = await client.post("/charge-points/CP-F/send", json={"action": "Heartbeat"})
    assert queued.status_code == 200 and queued.json()["answer"] is None
    assert (await client.post("/charge-points/CP-F/reconnect")).status_code == 200
    view = (await client.get("/charge-points/CP-F")).json()
    assert view["connected"] is True and view["link"] == "open"
    twice = await client.post("/charge-points/CP-F/reconnect")
    assert twice.status_code == 409

    raw = await client.post("/charge-points/CP-F/send_raw", json={"text": '[2,"x","Heartbeat"'})
    assert raw.status_code == 200
    duplicate = await client.post(
        "/charge-points/CP-F/duplicate", json={"action": "Heartbeat"}, params={"timeout": 5}
    )
    assert duplicate.status_code == 200, duplicate.text
    assert (
        await client.post("/charge-points/CP-F/wait", json={"seconds": "10m"})
    ).status_code == 200
    assert (
        await client.post("/charge-points/CP-F/ignore", json={"action": "Reset"})
    ).status_code == 200
    assert (await client.get("/health")).json()["status"] == "ok"


async def test_two_clients_drive_two_charge_points_at_once(
    api: tuple[httpx.AsyncClient, Hub],
) -> None:
    client, _hub = api

    async def session(cp_id: str) -> list[str]:
        async with httpx.AsyncClient(base_url=str(client.base_url), timeout=30) as own:
            await create(own, cp_id)
            for verb, body in [
                ("plug_in", {}),
                ("start_transaction", {"id_tag": f"TAG-{cp_id}"}),
                ("charge", {"power": "7kW", "duration": "1h"}),
                ("stop_transaction", {}),
                ("unplug", {}),
            ]:
                response = await own.post(f"/charge-points/{cp_id}/{verb}", json=body)
                assert response.status_code == 200, response.text
            frames = (await own.get(f"/charge-points/{cp_id}/frames")).json()
            return [f["frame"][2] for f in frames if f["direction"] == "out" and f["frame"][0] == 2]

    first, second = await asyncio.gather(session("CP-1"), session("CP-2"))
    assert first == second
    assert first.count("StartTransaction") == 1 and first.count("StopTransaction") == 1


# --- events ------------------------------------------------------------------------------------


async def read_events(lines: AsyncIterator[str], until: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        async for line in lines:
            if line.startswith("data: "):
                event = json.loads(line[len("data: ") :])
                events.append(event)
                if until(event):
                    return events
    return events


async def test_the_event_stream_carries_every_frame_in_order(
    api: tuple[httpx.AsyncClient, Hub],
) -> None:
    client, _hub = api
    async with client.stream("GET", "/events", params={"charge_point": "CP-E"}) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()
        await create(client, "CP-E")
        for verb, body in [
            ("plug_in", {}),
            ("start_transaction", {"id_tag": "TAG-1"}),
            ("charge", {"power": "11kW", "duration": "20m"}),
            ("stop_transaction", {}),
        ]:
            assert (await client.post(f"/charge-points/CP-E/{verb}", json=body)).status_code == 200
        frames = (await client.get("/charge-points/CP-E/frames")).json()
        last = frames[-1]["seq"]
        events = await read_events(
            lines,
            lambda e: e["type"] == "frame" and e["seq"] and e.get("frame") == frames[-1]["frame"],
        )
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    streamed = [
        {k: e[k] for k in ("direction", "frame", "virtual_time")}
        for e in events
        if e["type"] == "frame"
    ]
    assert streamed == [{k: f[k] for k in ("direction", "frame", "virtual_time")} for f in frames]
    assert last == len(frames)
    statuses = [(e["connector"], e["status"]) for e in events if e["type"] == "connector"]
    assert (1, "Preparing") in statuses and (1, "Charging") in statuses
    assert statuses.index((1, "Preparing")) < statuses.index((1, "Charging"))
    created = next(e for e in events if e["type"] == "charge_point")
    assert created["change"] == "created" and created["charge_point"] == "CP-E"


async def test_types_filter_and_websocket_stream(api: tuple[httpx.AsyncClient, Hub]) -> None:
    client, _hub = api
    ws_url = str(client.base_url).replace("http://", "ws://") + "/events/ws?types=step,charge_point"
    async with websockets.connect(ws_url) as ws:
        await create(client, "CP-V")
        await client.post("/charge-points/CP-V/plug_in")
        received = []
        async with asyncio.timeout(10):
            while len(received) < 2:
                received.append(json.loads(await ws.recv()))
    assert [e["type"] for e in received] == ["charge_point", "step"]
    assert received[1]["step"] == "plug_in connector 1" and received[1]["status"] == "passed"
    bad = await client.get("/events", params={"types": "frames"})
    assert bad.status_code == 400 and "'frames'" in bad.json()["error"]


async def test_a_reader_that_leaves_leaks_nothing(api: tuple[httpx.AsyncClient, Hub]) -> None:
    client, hub = api
    await create(client, "CP-L")
    tasks_before = len(asyncio.all_tasks())
    for _ in range(3):
        async with httpx.AsyncClient(base_url=str(client.base_url), timeout=10) as reader:
            async with reader.stream("GET", "/events") as stream:
                lines = stream.aiter_lines()
                await client.post("/charge-points/CP-L/send", json={"action": "Heartbeat"})
                await read_events(lines, lambda e: e["type"] == "frame")
                assert hub.events.subscribers == 1
        # the client is gone mid-stream
    ws_url = str(client.base_url).replace("http://", "ws://") + "/events/ws"
    async with websockets.connect(ws_url):
        async with asyncio.timeout(5):
            while hub.events.subscribers != 1:
                await asyncio.sleep(0.01)
    async with asyncio.timeout(5):
        while hub.events.subscribers or len(asyncio.all_tasks()) > tasks_before:
            await asyncio.sleep(0.02)
    assert hub.events.subscribers == 0
    assert list(hub.charge_points) == ["CP-L"]
    beat = await client.post("/charge-points/CP-L/send", json={"action": "Heartbeat"})
    assert beat.status_code == 200


async def test_a_slow_reader_gets_an_overflow_event_not_a_thinned_stream() -> None:
    from mockpoint.serve.events import EventStream

    stream = EventStream(backlog=3)
    subscription = stream.subscribe()
    for n in range(5):
        stream.publish("frame", n=n)
    got = [await subscription.next() for _ in range(4)]
    assert [e["n"] for e in got[:3] if e] == [0, 1, 2]
    assert got[3] is not None and got[3]["type"] == "overflow" and got[3]["lost_from"] == 4
    assert await subscription.next() is None


# --- security ---------------------------------------------------------------------------------


async def test_a_token_is_refused_or_accepted() -> None:
    async with serving(token="t0ken-xyz") as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=10) as client:
            none = await client.get("/health")
            assert none.status_code == 401 and none.headers["www-authenticate"] == "Bearer"
            wrong = await client.get("/health", headers={"Authorization": "Bearer t0ken-xy"})
            assert wrong.status_code == 401
            basic = await client.get("/charge-points", headers={"Authorization": "Basic t0ken-xyz"})
            assert basic.status_code == 401
            right = await client.get("/health", headers={"Authorization": "Bearer t0ken-xyz"})
            assert right.status_code == 200
            created = await client.post(
                "/charge-points",
                json={"charge_point": {"id": "CP-K"}},
                headers={"Authorization": "bearer t0ken-xyz"},
            )
            assert created.status_code == 201
            ws_url = served.url.replace("http://", "ws://") + "/events/ws"
            with pytest.raises(websockets.exceptions.InvalidStatus):
                async with websockets.connect(ws_url) as ws:
                    await ws.recv()
            async with websockets.connect(
                ws_url, additional_headers={"Authorization": "Bearer t0ken-xyz"}
            ) as ws:
                await client.post(
                    "/charge-points/CP-K/plug_in", headers={"Authorization": "Bearer t0ken-xyz"}
                )
                async with asyncio.timeout(5):
                    assert json.loads(await ws.recv())["type"] in ("frame", "connector")


async def test_only_loopback_host_names_are_answered_without_a_token() -> None:
    async with serving() as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=10) as client:
            assert (await client.get("/health")).status_code == 200
            localhost = await client.get("/health", headers={"Host": "localhost:8180"})
            assert localhost.status_code == 200
            rebound = await client.get("/health", headers={"Host": "evil.example:8180"})
            assert rebound.status_code == 400
            nowhere = await client.get("/nowhere")
            assert nowhere.status_code == 404
            assert nowhere.json() == {"error": "no such endpoint: GET /nowhere"}
            assert (await client.put("/health")).status_code == 405
            assert (await client.get("/docs")).status_code == 404
    async with serving(token="tok") as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=10) as client:
            assert (await client.get("/openapi.json")).status_code == 401
            any_host = await client.get(
                "/openapi.json", headers={"Host": "ci-runner:8180", "Authorization": "Bearer tok"}
            )
            assert any_host.status_code == 200 and "paths" in any_host.json()


async def test_the_openapi_document_describes_the_verbs(
    api: tuple[httpx.AsyncClient, Hub],
) -> None:
    client, _hub = api
    document = (await client.get("/openapi.json")).json()
    paths = document["paths"]
    for verb in ("plug_in", "start_transaction", "stop_transaction", "await", "send", "steps"):
        assert f"/charge-points/{{cp_id}}/{verb}" in paths
    assert "/events" in paths and "/runs" in paths and "/loads/{load_id}" in paths
    schemas = document["components"]["schemas"]
    assert "CreateChargePoint" in schemas and "StepResult" in schemas
    assert "ChargePointSpec" in schemas  # the scenario format's own model


# --- runs and load runs -------------------------------------------------------------------------

SCENARIO = """\
name: session over the API
charge_point: {id: CP-RUN}
clock: {speed: 0}
steps:
  - plug_in: {connector: 1}
  - start_transaction: {connector: 1, id_tag: TAG-1}
  - charge: {connector: 1, power: 11kW, duration: 10m}
  - stop_transaction: {connector: 1}
"""


async def test_a_run_of_uploaded_and_named_files(api: tuple[httpx.AsyncClient, Hub]) -> None:
    client, _hub = api
    started = await client.post(
        "/runs",
        json={
            "files": [{"name": "session.yaml", "content": SCENARIO}],
            "paths": [str(EXAMPLES / "01-cold-boot-and-heartbeat.yaml")],
        },
    )
    assert started.status_code == 202, started.text
    run_id = started.json()["id"]
    view = (await client.get(f"/runs/{run_id}", params={"wait": 30})).json()
    assert view["status"] == "passed" and view["exit_code"] == 0
    assert view["counts"] == {"passed": 2}
    names = {s["name"] for s in view["report"]["scenarios"]}
    assert names == {"session over the API", "Cold boot and heartbeat"} or len(names) == 2
    junit = await client.get(f"/runs/{run_id}/junit")
    assert junit.headers["content-type"].startswith("application/xml")
    assert junit.text.count("<testcase") == 2
    assert 'file="session.yaml"' in junit.text or "session.yaml" in junit.text
    assert "mockpoint-run" not in junit.text  # no folder of the server's
    markdown = await client.get(f"/runs/{run_id}/markdown")
    assert "session over the API" in markdown.text
    assert [r["id"] for r in (await client.get("/runs")).json()] == [run_id]


async def test_a_broken_upload_is_400_with_file_and_line(
    api: tuple[httpx.AsyncClient, Hub],
) -> None:
    client, _hub = api
    broken = SCENARIO.replace("power: 11kW", "power: fast")
    response = await client.post("/runs", json={"files": [{"name": "b.yaml", "content": broken}]})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error.startswith("b.yaml:7") and "power" in error, error  # as uploaded
    named = await client.post("/runs", json={"files": [{"name": "../x.yaml", "content": SCENARIO}]})
    assert named.status_code == 400 and "files.0.name" in named.json()["error"]
    nothing = await client.post("/runs", json={})
    assert nothing.status_code == 400
    assert (await client.get("/runs/run-99")).status_code == 404


async def test_a_failing_run_and_its_events(api: tuple[httpx.AsyncClient, Hub]) -> None:
    client, _hub = api
    failing = SCENARIO + "  - expect_state: {connectors: {1: {status: Charging}}}\n"
    async with client.stream("GET", "/events", params={"types": "run,scenario,step"}) as stream:
        lines = stream.aiter_lines()
        run_id = (
            await client.post("/runs", json={"files": [{"name": "f.yaml", "content": failing}]})
        ).json()["id"]
        events = await read_events(lines, lambda e: e["type"] == "run" and e["status"] != "running")
    assert events[0] == {**events[0], "type": "run", "run": run_id, "status": "running"}
    steps = [e for e in events if e["type"] == "step"]
    assert steps[-1]["status"] == "failed" and steps[-1]["step"] == "expect_state"
    assert steps[-1]["location"].startswith("f.yaml:")  # as uploaded, no folder of the server
    scenario_events = [e for e in events if e["type"] == "scenario"]
    assert {e["file"] for e in scenario_events} == {"f.yaml"}
    assert events[-1]["status"] == "failed" and events[-1]["exit_code"] == 1
    view = (await client.get(f"/runs/{run_id}")).json()
    assert view["status"] == "failed" and view["counts"] == {"failed": 1}


@pytest.mark.slow
async def test_a_load_run_started_and_stopped(api: tuple[httpx.AsyncClient, Hub]) -> None:
    client, hub = api
    started = await client.post(
        "/loads",
        json={
            "scenario": str(EXAMPLES / "02-plug-in-first-charging.yaml"),
            "charge_points": 5,
            "duration": "60s",
            "loop": True,
            "ramp_up": 50,
        },
    )
    assert started.status_code == 202, started.text
    load_id = started.json()["id"]
    async with asyncio.timeout(20):
        while True:
            view = (await client.get(f"/loads/{load_id}")).json()
            if view["connected"] == 5 and view["statistics"]["summary"]["calls"] > 20:
                break
            await asyncio.sleep(0.2)
    assert view["status"] == "running" and view["target"] == 5
    stopped = await client.delete(f"/loads/{load_id}")
    assert stopped.status_code == 200
    final = stopped.json()
    assert final["status"] == "stopped"
    assert final["statistics"]["summary"]["calls"] >= view["statistics"]["summary"]["calls"]
    assert (await client.delete(f"/loads/{load_id}")).status_code == 409
    assert hub.loads[load_id].task is not None and hub.loads[load_id].task.done()


async def test_a_delete_ends_the_verbs_that_wait(api: tuple[httpx.AsyncClient, Hub]) -> None:
    client, hub = api
    await create(client, "CP-D")
    waiting = asyncio.create_task(
        client.post("/charge-points/CP-D/await", json={"action": "Reset", "within": 20})
    )
    queued = asyncio.create_task(client.post("/charge-points/CP-D/plug_in"))
    await asyncio.sleep(0.3)
    assert (await client.delete("/charge-points/CP-D")).status_code == 204
    ended, after = await asyncio.wait_for(asyncio.gather(waiting, queued), 5)
    assert ended.status_code == 409 and "deleted while await Reset ran" in ended.json()["error"]
    assert after.status_code == 404
    assert hub.charge_points == {}


async def misbehaving_csms(websocket: Any) -> None:
    """Accepts the boot, then answers Heartbeat off-schema, DataTransfer with text that is
    no JSON, and closes the connection at an Authorize."""
    async for text in websocket:
        message_type, unique_id, action, _payload = json.loads(text)
        if message_type != 2:
            continue
        if action == "BootNotification":
            answer: Any = {
                "status": "Accepted",
                "currentTime": "2025-06-01T08:00:00Z",
                "interval": 300,
            }
            await websocket.send(json.dumps([3, unique_id, answer]))
        elif action == "Heartbeat":
            await websocket.send(json.dumps([3, unique_id, {"currentTime": 42}]))
        elif action == "DataTransfer":
            await websocket.send("this is not JSON")
        elif action == "Authorize":
            await websocket.close()
            return
        else:
            await websocket.send(json.dumps([3, unique_id, {}]))


async def test_a_misbehaving_csms_is_reported_and_the_server_goes_on(
    api: tuple[httpx.AsyncClient, Hub],
) -> None:
    client, _hub = api
    async with websockets.serve(misbehaving_csms, "127.0.0.1", 0, subprotocols=["ocpp1.6"]) as csms:
        port = next(iter(csms.sockets)).getsockname()[1]
        await create(client, "CP-M", csms=f"ws://127.0.0.1:{port}/ocpp", timeout=2)
        beat = await client.post("/charge-points/CP-M/send", json={"action": "Heartbeat"})
        assert beat.status_code == 422
        assert "currentTime" in beat.json()["message"]
        garbage = await client.post(
            "/charge-points/CP-M/send",
            json={"action": "DataTransfer", "payload": {"vendorId": "v"}},
        )
        assert garbage.status_code == 504, garbage.text
        assert "not valid JSON" in garbage.json()["message"]
        closed = await client.post("/charge-points/CP-M/authorize", json={"id_tag": "TAG-1"})
        assert closed.status_code == 504, closed.text
        # It backs off: a CSMS that closes at every Authorize is not hammered.
        losses = closed.json()["message"].count("connection lost")
        assert 2 <= losses <= 10, closed.json()["message"]
        assert (await client.get("/health")).json()["status"] == "ok"
        view = (await client.get("/charge-points/CP-M")).json()
        assert view["id"] == "CP-M"
    assert (await client.delete("/charge-points/CP-M")).status_code == 204


def test_serve_refuses_the_network_without_a_token(tmp_path: Path) -> None:
    from mockpoint.cli.main import main

    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    empty = tmp_path / "token"
    empty.write_text("\n")
    assert main(["serve", "--port", "0", "--token-file", str(empty)]) == 2
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        assert main(["serve", "--port", str(taken.getsockname()[1])]) == 2


# --- what the review of the first version found ---------------------------------------------


async def test_the_csms_settings_never_read_the_servers_environment(
    api: tuple[httpx.AsyncClient, Hub], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, hub = api
    monkeypatch.setenv("MOCKPOINT_TEST_SECRET", "hunter2-topsecret")
    for csms in (
        {"url": "ws://127.0.0.1:9/${MOCKPOINT_TEST_SECRET}"},
        {
            "url": "ws://127.0.0.1:9/ocpp",
            "security_profile": 1,
            "password": "${MOCKPOINT_TEST_SECRET}",
        },
    ):
        response = await client.post(
            "/charge-points", json={"charge_point": {"id": "CP-ENV"}, "csms": csms}
        )
        assert response.status_code == 400, response.text
        assert "is not a saved variable" in response.json()["error"]
        assert "hunter2" not in response.text
    assert hub.charge_points == {}


async def test_an_awaited_authorization_key_is_masked() -> None:
    secret = "0123456789abcdef0123456789abcdef"
    change = {"key": "AuthorizationKey", "value": secret}
    async with serving() as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:

            async def awaited(cp_id: str, body: dict[str, Any]) -> httpx.Response:
                # A CSMS of its own: the new key is the password it then asks for.
                async with MockCsms() as csms:
                    await create(client, cp_id, csms=csms.url)
                    waiting = asyncio.create_task(
                        client.post(f"/charge-points/{cp_id}/await", json=body)
                    )
                    await asyncio.sleep(0.2)
                    await csms.call(cp_id, "ChangeConfiguration", change)
                    return await waiting

            passed = await awaited("CP-K2", {"action": "ChangeConfiguration"})
            assert passed.status_code == 200
            assert passed.json()["request"] == {"key": "AuthorizationKey", "value": "***"}
            failed = await awaited(
                "CP-K3", {"action": "ChangeConfiguration", "expect": {"key": "HeartbeatInterval"}}
            )
            assert failed.status_code == 422
            assert failed.json()["actual"] == {"key": "AuthorizationKey", "value": "***"}
    assert secret not in failed.text + passed.text


async def test_a_create_given_up_halfway_leaves_nothing_behind() -> None:
    config = config_from_mapping({"boot": {"status": ["Pending"], "interval": [1]}}, "test")
    async with MockCsms(config=config) as csms:
        from mockpoint.serve.models import CreateChargePoint

        hub = Hub()
        body = CreateChargePoint.model_validate(
            {"charge_point": {"id": "CP-HALF"}, "csms": csms.url, "timeout": 20}
        )
        creating = asyncio.create_task(hub.create(body))
        await csms.wait_connected("CP-HALF", timeout=5)
        creating.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await creating
        async with asyncio.timeout(5):
            while csms.connected("CP-HALF"):
                await asyncio.sleep(0.02)
        assert hub.charge_points == {}
        await hub.close()


async def test_a_load_scenario_names_its_csms_with_a_variable() -> None:
    scenario = (
        "name: load with a variable\n"
        "csms: ${CSMS_URL}\n"
        "clock: {speed: 0}\n"
        "steps:\n"
        "  - send: Heartbeat\n"
    )
    async with MockCsms() as csms, serving() as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
            started = await client.post(
                "/loads",
                json={
                    "file": {"name": "v.yaml", "content": scenario},
                    "charge_points": 2,
                    "duration": "30s",
                    "variables": {"CSMS_URL": csms.url},
                },
            )
            assert started.status_code == 202, started.text
            load_id = started.json()["id"]
            async with asyncio.timeout(10):
                while len(csms.charge_points()) < 2:
                    await asyncio.sleep(0.05)
            stopped = await client.delete(f"/loads/{load_id}")
            assert stopped.json()["status"] == "stopped"
            missing = await client.post(
                "/loads",
                json={"file": {"name": "v.yaml", "content": scenario}, "charge_points": 1},
            )
            assert missing.status_code == 400 and "CSMS_URL" in missing.json()["error"]


async def test_connector_events_come_while_offline_too(api: tuple[httpx.AsyncClient, Hub]) -> None:
    client, _hub = api
    await create(client, "CP-O")
    async with client.stream(
        "GET", "/events", params={"charge_point": "CP-O", "types": "connector"}
    ) as stream:
        lines = stream.aiter_lines()
        assert (await client.post("/charge-points/CP-O/disconnect")).status_code == 200
        fault = {"connector": 1, "error_code": "GroundFailure"}
        assert (await client.post("/charge-points/CP-O/fault", json=fault)).status_code == 200
        events = await read_events(lines, lambda e: e["status"] == "Faulted")
    assert events[-1]["connector"] == 1 and events[-1]["error_code"] == "GroundFailure"

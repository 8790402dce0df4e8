"""The asyncio endpoint over an in-memory pair: calls, answers, timeouts, handler failures,
lost connections, and what the frame observer sees."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from conftest import UNIT
from mockpoint.errors import (
    OCPP_ERRORS,
    CallErrorReceived,
    CallTimeout,
    ConnectionLost,
    ErrorCode,
    LocalProtocolError,
    OcppError,
    RemoteProtocolError,
)
from mockpoint.ids import CounterIds
from mockpoint.rpc.frames import Call, WireFrame
from mockpoint.rpc.session import InvalidAnswer, RemoteViolation, RpcSession
from mockpoint.runtime.endpoint import Direction, Endpoint
from mockpoint.transport import MemoryTransport, memory_pair

TS = "2025-06-01T08:00:00Z"
BOOT = {"chargePointVendor": "Acme", "chargePointModel": "AC22"}
BOOT_ANSWER = {"status": "Accepted", "currentTime": TS, "interval": 300}
Handler = Callable[[Call], Awaitable[dict[str, Any]]]


@dataclass
class Recorder:
    """A FrameObserver that keeps everything it is told."""

    frames: list[tuple[Direction, str]] = field(default_factory=list)
    violations: list[RemoteViolation | InvalidAnswer] = field(default_factory=list)

    def frame(self, wire: WireFrame) -> None:
        self.frames.append((wire.direction, wire.text))

    def violation(self, event: RemoteViolation | InvalidAnswer) -> None:
        self.violations.append(event)

    def parsed(self) -> list[tuple[Direction, list[Any]]]:
        return [(direction, json.loads(text)) for direction, text in self.frames]


async def _csms_handler(call: Call) -> dict[str, Any]:
    if call.action == "BootNotification":
        return BOOT_ANSWER
    if call.action == "Heartbeat":
        return {"currentTime": TS}
    raise AssertionError(f"unexpected {call.action}")


async def _cp_handler(call: Call) -> dict[str, Any]:
    if call.action == "GetConfiguration":
        return {
            "configurationKey": [{"key": "HeartbeatInterval", "readonly": False, "value": "300"}]
        }
    return {"status": "Accepted"}


@dataclass
class Link:
    cp: Endpoint
    csms: Endpoint
    cp_seen: Recorder
    csms_seen: Recorder
    cp_run: asyncio.Task[ConnectionLost]
    csms_run: asyncio.Task[ConnectionLost]
    cp_transport: MemoryTransport
    csms_transport: MemoryTransport


@asynccontextmanager
async def _link(
    cp_handler: Handler = _cp_handler,
    csms_handler: Handler = _csms_handler,
    *,
    timeout: float = 2 * UNIT,
) -> AsyncIterator[Link]:
    """A charge point and a CSMS endpoint talking over an in-memory pair."""
    cp_transport, csms_transport = memory_pair()
    cp_seen, csms_seen = Recorder(), Recorder()
    cp = Endpoint(
        cp_transport,
        RpcSession(
            handles={"Reset", "RemoteStartTransaction", "GetConfiguration"},
            ids=CounterIds("cp-"),
            default_timeout=timeout,
        ),
        cp_handler,
        observer=cp_seen,
    )
    csms = Endpoint(
        csms_transport,
        RpcSession(
            handles={"BootNotification", "Heartbeat", "Authorize"},
            ids=CounterIds("cs-"),
            default_timeout=timeout,
        ),
        csms_handler,
        observer=csms_seen,
    )
    link = Link(
        cp,
        csms,
        cp_seen,
        csms_seen,
        asyncio.create_task(cp.run()),
        asyncio.create_task(csms.run()),
        cp_transport,
        csms_transport,
    )
    try:
        async with asyncio.timeout(5 * UNIT):
            yield link
    finally:
        await cp_transport.close()
        async with asyncio.timeout(5 * UNIT):
            await asyncio.gather(link.cp_run, link.csms_run, return_exceptions=True)


# --- calls ---------------------------------------------------------------------------------


async def test_call_round_trip() -> None:
    async with _link() as link:
        assert await link.cp.call("BootNotification", BOOT) == BOOT_ANSWER
        assert await link.csms.call("Reset", {"type": "Soft"}) == {"status": "Accepted"}
    assert link.cp_seen.parsed()[:2] == [
        ("out", [2, "cp-1", "BootNotification", BOOT]),
        ("in", [3, "cp-1", BOOT_ANSWER]),
    ]


async def test_call_error_raises_call_error_received_with_its_code() -> None:
    async def refuse(call: Call) -> dict[str, Any]:
        raise OCPP_ERRORS[ErrorCode.SECURITY_ERROR]("not you", {"hint": "certificate"})

    async with _link(csms_handler=refuse) as link:
        with pytest.raises(CallErrorReceived) as info:
            await link.cp.call("BootNotification", BOOT)
    assert info.value.code == "SecurityError"
    assert info.value.description == "not you"
    assert info.value.details == {"hint": "certificate"}


async def test_no_answer_raises_call_timeout() -> None:
    never = asyncio.Event()

    async def silent(call: Call) -> dict[str, Any]:
        await never.wait()
        return {}

    async with _link(csms_handler=silent) as link:
        started = time.monotonic()
        with pytest.raises(CallTimeout, match="Heartbeat"):
            await link.cp.call("Heartbeat", {}, timeout=0.1 * UNIT)
        assert time.monotonic() - started >= 0.1 * UNIT
        assert link.cp.session.in_flight is None


async def test_call_with_an_invalid_payload_raises_before_sending() -> None:
    async with _link() as link:
        with pytest.raises(LocalProtocolError):
            await link.cp.call("BootNotification", {"chargePointVendor": "Acme"})
        assert link.cp_seen.frames == []
        assert await link.cp.call("Heartbeat", {}) == {"currentTime": TS}


async def test_answer_breaking_the_schema_raises_remote_protocol_error() -> None:
    # the peer is driven by hand, so no validation of its own stops the bad answer
    cp_transport, peer = memory_pair()
    seen = Recorder()
    cp = Endpoint(
        cp_transport, RpcSession(handles=(), ids=CounterIds("cp-")), _cp_handler, observer=seen
    )
    run = asyncio.create_task(cp.run())
    async with asyncio.timeout(5 * UNIT):
        call = asyncio.create_task(cp.call("Heartbeat", {}))
        assert await peer.receive() == '[2,"cp-1","Heartbeat",{}]'
        await peer.send('[3,"cp-1",{"currentTime":"now"}]')
        with pytest.raises(RemoteProtocolError, match="currentTime"):
            await call
        await peer.close()
        assert isinstance(await run, ConnectionLost)
    (violation,) = seen.violations
    assert isinstance(violation, InvalidAnswer)
    assert violation.violation.path == "currentTime"


async def test_second_concurrent_call_waits_for_the_first() -> None:
    release = asyncio.Event()
    arrived: list[str] = []

    async def slow(call: Call) -> dict[str, Any]:
        arrived.append(call.unique_id)
        await release.wait()
        return {"currentTime": TS}

    async with _link(csms_handler=slow) as link:
        first = asyncio.create_task(link.cp.call("Heartbeat", {}))
        second = asyncio.create_task(link.cp.call("Heartbeat", {}))
        while not arrived:
            await asyncio.sleep(0.001)
        for _ in range(10):
            await asyncio.sleep(0)
        assert arrived == ["cp-1"]
        assert [frame for frame in link.cp_seen.frames if frame[0] == "out"] == [
            ("out", '[2,"cp-1","Heartbeat",{}]')
        ]
        release.set()
        assert await first == {"currentTime": TS}
        assert await second == {"currentTime": TS}
    assert link.cp_seen.parsed() == [
        ("out", [2, "cp-1", "Heartbeat", {}]),
        ("in", [3, "cp-1", {"currentTime": TS}]),
        ("out", [2, "cp-2", "Heartbeat", {}]),
        ("in", [3, "cp-2", {"currentTime": TS}]),
    ]


async def test_next_call_goes_out_after_a_timeout_and_a_late_answer_is_a_violation() -> None:
    calls: list[Call] = []
    late = asyncio.Event()

    async def first_late(call: Call) -> dict[str, Any]:
        calls.append(call)
        if len(calls) == 1:
            await late.wait()
        return {"currentTime": TS}

    async with _link(csms_handler=first_late) as link:
        with pytest.raises(CallTimeout):
            await link.cp.call("Heartbeat", {}, timeout=0.05 * UNIT)
        second = asyncio.create_task(link.cp.call("Heartbeat", {}))
        assert await second == {"currentTime": TS}
        late.set()  # now the first answer arrives, far too late
        while not link.cp_seen.violations:
            await asyncio.sleep(0.001)
    (violation,) = link.cp_seen.violations
    assert isinstance(violation, RemoteViolation)
    assert violation.reply is None
    assert "cp-1" in violation.description


async def test_queued_call_goes_out_after_the_first_times_out() -> None:
    async def silent(call: Call) -> dict[str, Any]:
        await asyncio.Event().wait()
        return {}

    async with _link(csms_handler=silent) as link:
        first = asyncio.create_task(link.cp.call("Heartbeat", {}, timeout=0.05 * UNIT))
        second = asyncio.create_task(link.cp.call("Heartbeat", {}, timeout=0.05 * UNIT))
        with pytest.raises(CallTimeout):
            await first
        with pytest.raises(CallTimeout):
            await second
    outgoing = [json.loads(text)[1] for direction, text in link.cp_seen.frames]
    assert outgoing == ["cp-1", "cp-2"]


# --- handlers ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", list(OCPP_ERRORS))
async def test_handler_raising_an_ocpp_error_answers_its_code(code: ErrorCode) -> None:
    async def refuse(call: Call) -> dict[str, Any]:
        raise OCPP_ERRORS[code](f"refused {call.action}", {"code": str(code)})

    async with _link(cp_handler=refuse) as link:
        with pytest.raises(CallErrorReceived) as info:
            await link.csms.call("Reset", {"type": "Hard"})
    assert info.value.code == code.value
    assert info.value.description == "refused Reset"
    assert info.value.details == {"code": str(code)}
    (_, frame) = link.cp_seen.parsed()[-1]
    assert frame == [4, "cs-1", code.value, "refused Reset", {"code": str(code)}]


async def test_handler_raising_a_plain_ocpp_error_answers_generic_error() -> None:
    async def refuse(call: Call) -> dict[str, Any]:
        raise OcppError("no reason")

    async with _link(cp_handler=refuse) as link:
        with pytest.raises(CallErrorReceived) as info:
            await link.csms.call("Reset", {"type": "Hard"})
    assert info.value.code == "GenericError"


async def test_handler_bug_answers_internal_error_and_the_endpoint_keeps_working() -> None:
    async def buggy(call: Call) -> dict[str, Any]:
        if call.payload["type"] == "Hard":
            raise KeyError("oops")
        return {"status": "Accepted"}

    async with _link(cp_handler=buggy) as link:
        with pytest.raises(CallErrorReceived) as info:
            await link.csms.call("Reset", {"type": "Hard"})
        assert info.value.code == "InternalError"
        assert "KeyError" in info.value.description
        assert await link.csms.call("Reset", {"type": "Soft"}) == {"status": "Accepted"}
        assert await link.cp.call("Heartbeat", {}) == {"currentTime": TS}
        assert not link.cp_run.done()


async def test_handler_returning_an_invalid_answer_answers_internal_error() -> None:
    async def wrong(call: Call) -> dict[str, Any]:
        return {"status": "Maybe"}

    async with _link(cp_handler=wrong) as link:
        with pytest.raises(CallErrorReceived) as info:
            await link.csms.call("Reset", {"type": "Soft"})
    assert info.value.code == "InternalError"
    assert "status" in info.value.description


async def test_request_for_an_unknown_action_is_refused_by_the_session() -> None:
    handled: list[Call] = []

    async def record(call: Call) -> dict[str, Any]:
        handled.append(call)
        return {"status": "Accepted"}

    async with _link(cp_handler=record) as link:
        with pytest.raises(CallErrorReceived) as info:
            await link.csms.call("MakeCoffee", {}, validate=False)
        assert info.value.code == "NotImplemented"
        with pytest.raises(CallErrorReceived) as info:
            await link.csms.call("Heartbeat", {}, validate=False)
        assert info.value.code == "NotSupported"
    assert handled == []
    assert [type(v) for v in link.cp_seen.violations] == [RemoteViolation, RemoteViolation]


async def test_raw_garbage_gets_a_formation_violation() -> None:
    async with _link() as link:
        await link.csms.send_raw('[2, "raw-1", "Reset", {')
        while len(link.csms_seen.frames) < 2:
            await asyncio.sleep(0.001)
    assert link.csms_seen.frames[1][0] == "in"
    frame = json.loads(link.csms_seen.frames[1][1])
    assert frame[:3] == [4, "raw-1", "FormationViolation"]
    # the CSMS side saw an answer to no call of its own
    assert [type(v) for v in link.csms_seen.violations] == [RemoteViolation]


# --- the connection ------------------------------------------------------------------------


async def test_connection_lost_while_a_call_is_in_flight() -> None:
    arrived = asyncio.Event()

    async def hang(call: Call) -> dict[str, Any]:
        arrived.set()
        await asyncio.Event().wait()
        return {}

    async with _link(csms_handler=hang) as link:
        in_flight = asyncio.create_task(link.cp.call("Heartbeat", {}))
        queued = asyncio.create_task(link.cp.call("Heartbeat", {}))
        await arrived.wait()
        await link.csms_transport.close(1001, "going away")
        with pytest.raises(ConnectionLost, match="Heartbeat"):
            await in_flight
        with pytest.raises(ConnectionLost):
            await queued
        lost = await link.cp_run
        assert isinstance(lost, ConnectionLost)
        assert link.cp.lost is lost
        with pytest.raises(ConnectionLost):
            await link.cp.call("Heartbeat", {})


async def test_run_returns_connection_lost_when_the_peer_closes() -> None:
    async with _link() as link:
        await link.cp.call("BootNotification", BOOT)
        await link.cp.close(4000, "bye")
        lost = await link.csms_run
        assert isinstance(lost, ConnectionLost)
        assert "4000" in str(lost)
        assert isinstance(await link.cp_run, ConnectionLost)


async def test_run_returns_connection_lost_when_its_answer_cannot_go_out() -> None:
    cp_transport, peer = memory_pair()
    seen = Recorder()
    cp = Endpoint(cp_transport, RpcSession(handles=()), _cp_handler, observer=seen)
    # the CALL is refused by the session at once, but the peer is gone by then
    await peer.send('[2,"x1","MakeCoffee",{}]')
    await peer.close()
    async with asyncio.timeout(5 * UNIT):
        lost = await cp.run()
    assert isinstance(lost, ConnectionLost)
    assert cp.lost is lost
    assert seen.frames[0] == ("in", '[2,"x1","MakeCoffee",{}]')


async def test_handler_running_when_the_connection_drops_is_cancelled() -> None:
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def hang(call: Call) -> dict[str, Any]:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return {}

    async with _link(cp_handler=hang) as link:
        request = asyncio.create_task(link.csms.call("Reset", {"type": "Soft"}))
        await started.wait()
        await link.csms.close()
        await cancelled.wait()
        with pytest.raises(ConnectionLost):
            await request


async def test_observer_sees_every_frame_in_order_on_both_sides() -> None:
    async with _link() as link:
        await link.cp.call("BootNotification", BOOT)
        await link.csms.call("GetConfiguration", {"key": ["HeartbeatInterval"]})
        await link.cp.call("Heartbeat", {})
        await link.cp.send_raw("not json")
        while len(link.csms_seen.frames) < 7:
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.01)
    cp = link.cp_seen.frames
    csms = link.csms_seen.frames
    flip = {"in": "out", "out": "in"}
    # what one side sent is what the other received, in the same order
    assert [(flip[d], t) for d, t in cp if d == "out"] == [(d, t) for d, t in csms if d == "in"]
    assert [(flip[d], t) for d, t in csms if d == "out"] == [(d, t) for d, t in cp if d == "in"]
    assert [(d, json.loads(t)[:2]) for d, t in cp[:6]] == [
        ("out", [2, "cp-1"]),
        ("in", [3, "cp-1"]),
        ("in", [2, "cs-1"]),
        ("out", [3, "cs-1"]),
        ("out", [2, "cp-2"]),
        ("in", [3, "cp-2"]),
    ]
    assert cp[6] == ("out", "not json")
    assert len(cp) == 7  # the garbage has no readable id: nothing comes back

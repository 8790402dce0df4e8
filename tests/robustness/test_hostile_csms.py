"""``mockpoint run`` against a hostile CSMS: everything a CSMS can send, over real loopback
WebSockets, becomes a clear failure (what arrived, which rule it broke) with the right exit
code (docs/behaviour.md, "Exit codes"), never a traceback or a hang.

The hostile CSMS is a raw ``websockets`` server in a thread of its own (``mockpoint run``
owns the test's thread with its own event loop). It answers the boot and the status reports
properly, then, when the charge point sends its Heartbeat, runs one scripted abuse. The
charge point is the real one: ``mockpoint.cli.main.main(["run", ...])`` in-process, on a
small scenario file.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from conftest import UNIT
from mockpoint.cli.main import main

pytestmark = pytest.mark.slow

NOW = "2025-06-01T08:00:00Z"
#: the charge point's inbound limit (transport/websocket.py: max_size)
CLIENT_MAX_SIZE = 2**22

#: answers of a well-behaved CSMS to what the charge point sends
ANSWERS: dict[str, dict[str, Any]] = {
    "BootNotification": {"status": "Accepted", "currentTime": NOW, "interval": 300},
    "Heartbeat": {"currentTime": NOW},
    "StatusNotification": {},
    "Authorize": {"idTagInfo": {"status": "Accepted"}},
    "StartTransaction": {"transactionId": 1, "idTagInfo": {"status": "Accepted"}},
    "StopTransaction": {},
    "MeterValues": {},
}

#: what the hostile server does instead of answering a CALL of the charge point:
#: ``abuse(connection, unique_id_of_the_call)``
Abuse = Callable[[ServerConnection, str], Awaitable[None]]

#: log records of this module's servers, not mockpoint's
SERVER_LOGGER = logging.getLogger("tests.hostile_csms")


def answer(unique_id: str, action: str = "Heartbeat") -> str:
    return json.dumps([3, unique_id, ANSWERS[action]])


class HostileCsms:
    """A CSMS that behaves until the charge point's first ``abused_action`` CALL, which it
    meets with ``abuse``; afterwards (a reconnection included) it behaves again."""

    def __init__(self, abuse: Abuse, abused_action: str = "Heartbeat", **options: Any) -> None:
        self.abuse = abuse
        self.abused_action = abused_action
        self.options = options
        #: every message of the charge point, parsed (a thread-safe list append)
        self.received: list[Any] = []
        self.connections = 0
        self.url = ""
        self._abused = False
        self._server: Server | None = None

    @property
    def errors_sent(self) -> list[tuple[str, str]]:
        """(unique id, code) of every CALLERROR the charge point sent."""
        return [
            (frame[1], frame[2])
            for frame in self.received
            if isinstance(frame, list) and frame[:1] == [4]
        ]

    @property
    def results_sent(self) -> dict[str, Any]:
        return {
            frame[1]: frame[2]
            for frame in self.received
            if isinstance(frame, list) and frame[:1] == [3]
        }

    async def start(self) -> str:
        options = {
            "subprotocols": ["ocpp1.6"],
            "logger": SERVER_LOGGER,
            "close_timeout": 1 * UNIT,
            **self.options,
        }
        self._server = await serve(self._handle, "127.0.0.1", 0, **options)
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/ocpp"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, connection: ServerConnection) -> None:
        self.connections += 1
        try:
            async for message in connection:
                try:
                    frame = json.loads(message)
                except ValueError:
                    frame = message
                self.received.append(frame)
                if not (isinstance(frame, list) and len(frame) == 4 and frame[0] == 2):
                    continue
                unique_id, action = frame[1], frame[2]
                if action == self.abused_action and not self._abused:
                    self._abused = True
                    await self.abuse(connection, unique_id)
                elif action in ANSWERS:
                    await connection.send(answer(unique_id, action))
        except ConnectionClosed:
            pass


@contextmanager
def in_thread(
    start: Callable[[], Coroutine[Any, Any, str]], stop: Callable[[], Coroutine[Any, Any, None]]
) -> Iterator[str]:
    """Run a server on an event loop in a thread of its own; yields what ``start`` returns."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="hostile-csms", daemon=True)
    thread.start()
    try:
        yield asyncio.run_coroutine_threadsafe(start(), loop).result(5 * UNIT)
    finally:
        try:
            asyncio.run_coroutine_threadsafe(stop(), loop).result(10 * UNIT)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(5 * UNIT)
            loop.close()


@contextmanager
def hostile(
    abuse: Abuse, abused_action: str = "Heartbeat", **options: Any
) -> Iterator[HostileCsms]:
    csms = HostileCsms(abuse, abused_action, **options)
    with in_thread(csms.start, csms.stop) as url:
        csms.url = url
        yield csms


# --- running the charge point -----------------------------------------------------------------

SCENARIO = """\
name: hostile
charge_point: {{id: CP-H, connectors: 1}}
clock: {{start: 2025-06-01T08:00:00Z, speed: 0}}
timeout: {timeout:g}s
steps:
  - send: Heartbeat
"""


@dataclass
class Run:
    code: int
    out: str
    err: str
    seconds: float
    report: dict[str, Any] | None

    @property
    def failures(self) -> str:
        """Every failure message of the JSON report, one per line."""
        assert self.report is not None
        lines = []
        for scenario in self.report["scenarios"]:
            if scenario["error"]:
                lines.append(scenario["error"])
            lines.extend(step["message"] for step in scenario["steps"] if step["message"])
        return "\n".join(lines)


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Failure messages are checked whole: no wrapping at a terminal's width."""
    monkeypatch.setenv("COLUMNS", "1000")


@pytest.fixture
def run_cp(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> Callable[..., Run]:
    """Run the scenario against ``url`` in-process; check the things every case must hold:
    no traceback anywhere, no error logged by mockpoint, and a bounded run."""

    def run_it(
        url: str,
        *,
        timeout: float = 2 * UNIT,
        connect_timeout: float = 2 * UNIT,
        scenario: str = SCENARIO,
        bound: float | None = None,
        options: tuple[str, ...] = (),
    ) -> Run:
        path = tmp_path / "hostile.yaml"
        path.write_text(scenario.format(timeout=timeout), encoding="utf-8")
        report = tmp_path / "report.json"
        report.unlink(missing_ok=True)
        caplog.clear()
        started = time.perf_counter()
        code = main(
            [
                "run",
                str(path),
                "--csms",
                url,
                "--connect-timeout",
                f"{connect_timeout:g}",
                "--json",
                str(report),
                *options,
            ]
        )
        seconds = time.perf_counter() - started
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err, out + err
        logged = [
            record
            for record in caplog.records
            if not record.name.startswith(SERVER_LOGGER.name)
            and (record.exc_info or record.levelno >= logging.ERROR)
        ]
        assert logged == [], [record.getMessage() for record in logged]
        limit = bound if bound is not None else timeout + connect_timeout + 3 * UNIT
        assert seconds < limit, f"the run took {seconds:.1f} s"
        data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else None
        if data is not None:
            assert data["exit_code"] == code
        return Run(code, out, err, seconds, data)

    return run_it


def frames_then_answer(*frames: str | bytes) -> Abuse:
    """Send ``frames`` (bytes: as binary messages), then the proper answer."""

    async def abuse(connection: ServerConnection, unique_id: str) -> None:
        for frame in frames:
            await connection.send(frame)
        await connection.send(answer(unique_id))

    return abuse


def answered_with(frame: Callable[[str], str]) -> Abuse:
    """Answer the charge point's CALL with ``frame(unique_id)`` instead."""

    async def abuse(connection: ServerConnection, unique_id: str) -> None:
        await connection.send(frame(unique_id))

    return abuse


async def silence(connection: ServerConnection, unique_id: str) -> None:
    """Never answer."""


def assert_failed_with(run: Run, *fragments: str) -> None:
    """Exit 1, and each fragment in the console and in the JSON report."""
    assert run.code == 1, run.out
    for fragment in fragments:
        assert fragment in run.failures, run.failures
        assert fragment in run.out, run.out


# --- what arrives instead of, or before, the answer ------------------------------------------

LONG_ID = "x" * 37


@pytest.mark.parametrize(
    ("frames", "rule", "answers"),
    [
        # not JSON
        (['[2,"bad-1","Reset",{"type":'], "not valid JSON", [("bad-1", "FormationViolation")]),
        (["hello, charge point"], "not valid JSON", []),
        ([""], "not valid JSON", []),
        (
            ['[2,"nan-1","ChangeConfiguration",{"key":"K","value":NaN}]'],
            "NaN is not a JSON",
            [("nan-1", "FormationViolation")],
        ),
        # JSON, not a frame
        (['{"messageTypeId":2}'], "a frame must be a JSON array, got an object", []),
        (["42"], "a frame must be a JSON array, got a number", []),
        (["[2]"], "a frame has at least 3 elements, got 1", []),
        (
            ['[2,"bad-2"]'],
            "a frame has at least 3 elements, got 2",
            [("bad-2", "FormationViolation")],
        ),
        # wrong element types
        (['[2,17,"Reset",{"type":"Soft"}]'], "the unique id must be a string", []),
        (
            [f'[2,"{LONG_ID}","Reset",{{"type":"Soft"}}]'],
            "the unique id must be a string of 1 to 36",
            [],
        ),
        (['[2,"","Reset",{"type":"Soft"}]'], "the unique id must be a string", []),
        (
            ['[2,"bad-3",42,{}]'],
            "the action of a CALL must be a non-empty string",
            [("bad-3", "FormationViolation")],
        ),
        (
            ['[2,"bad-4","Reset",["Soft"]]'],
            "the payload of a CALL must be an object, got an array",
            [("bad-4", "FormationViolation")],
        ),
        (
            ['[2,"bad-5","Reset",{"type":"Soft"},{}]'],
            "a CALL has 4 elements, got 5",
            [("bad-5", "FormationViolation")],
        ),
        (
            ['["2","bad-6","Reset",{"type":"Soft"}]'],
            "the message type must be the integer 2, 3 or 4",
            [("bad-6", "FormationViolation")],
        ),
        (
            ['[2.0,"bad-7","Reset",{"type":"Soft"}]'],
            "the message type must be the integer 2, 3 or 4",
            [("bad-7", "FormationViolation")],
        ),
        (
            ['[true,"bad-8","Reset",{"type":"Soft"}]'],
            "the message type must be the integer 2, 3 or 4",
            [("bad-8", "FormationViolation")],
        ),
        # unknown message type ids
        (
            ['[5,"type-5","Reset",{"type":"Soft"}]'],
            "unknown message type 5 (expected 2, 3 or 4)",
            [("type-5", "FormationViolation")],
        ),
        (['[0,"type-0",{}]'], "unknown message type 0", [("type-0", "FormationViolation")]),
        (['[-1,"type-m1",{}]'], "unknown message type -1", [("type-m1", "FormationViolation")]),
        (
            ['[99999999999999999999999,"type-big",{}]'],
            "unknown message type 99999999999999999999999",
            [("type-big", "FormationViolation")],
        ),
        # answers to calls never made, and broken answers (never answered back)
        (
            ['[3,"never-sent",{"currentTime":"2025-06-01T08:00:00Z"}]'],
            "CALLRESULT for unique id 'never-sent', which no CALL in flight has",
            [],
        ),
        (
            ['[4,"never-sent","InternalError","oops",{}]'],
            "CALLERROR for unique id 'never-sent', which no CALL in flight has",
            [],
        ),
        (
            ['[3,"never-sent",[]]'],
            "the payload of a CALLRESULT must be an object, got an array",
            [],
        ),
        (['[4,"never-sent","InternalError"]'], "a CALLERROR has 5 elements, got 3", []),
        (
            ['[4,"never-sent",500,"oops",{}]'],
            "the error code and description of a CALLERROR must be strings",
            [],
        ),
        (
            ['[4,"never-sent","InternalError","oops",null]'],
            "the error details of a CALLERROR must be an object, got null",
            [],
        ),
        # binary messages (OCPP-J: text only), well-formed or not
        (
            [b'[2,"bin-1","GetConfiguration",{"key":["HeartbeatInterval"]}]'],
            "a binary WebSocket message",
            [],
        ),
        ([b"\xff\xfe\x00garbage"], "a binary WebSocket message", []),
    ],
)
def test_a_frame_that_breaks_ocpp_j_fails_the_step_and_names_the_rule(
    frames: list[str | bytes], rule: str, answers: list[tuple[str, str]], run_cp: Callable[..., Run]
) -> None:
    with hostile(frames_then_answer(*frames)) as csms:
        run = run_cp(csms.url)
    assert_failed_with(run, "CSMS protocol violation", rule)
    assert csms.errors_sent == answers


def test_a_binary_call_is_still_answered_and_reported(run_cp: Callable[..., Run]) -> None:
    frame = b'[2,"bin-1","GetConfiguration",{"key":["HeartbeatInterval"]}]'
    with hostile(frames_then_answer(frame)) as csms:
        run = run_cp(csms.url)
    assert_failed_with(run, "a binary WebSocket message (OCPP-J uses text only)")
    assert csms.results_sent["bin-1"]["configurationKey"][0]["key"] == "HeartbeatInterval"


def test_strange_but_legal_json_is_answered_and_the_run_passes(run_cp: Callable[..., Run]) -> None:
    """Unicode ids, a lone surrogate (RFC 8259 §8.2 leaves it to the receiver), duplicate
    ids, whitespace: each is a CALL the station answers, in a valid UTF-8 text message."""
    frames = [
        '[2,"ünï-💥","GetConfiguration",{"key":["HeartbeatInterval"]}]',
        '[2,"\\ud800","GetConfiguration",{"key":["\\udfff"]}]',
        '[2,"dup","ClearCache",{}]',
        '[2,"dup","ClearCache",{}]',
        ' \n[ 2 , "spaced" , "GetLocalListVersion" , { } ] \t',
    ]
    with hostile(frames_then_answer(*frames)) as csms:
        run = run_cp(csms.url)
    assert run.code == 0, run.out
    answered = [frame[1] for frame in csms.received if isinstance(frame, list) and frame[0] == 3]
    assert answered[:5] == ["ünï-💥", "\ud800", "dup", "dup", "spaced"]
    assert csms.results_sent["\ud800"] == {"unknownKey": ["\udfff"]}


# --- the answer to the charge point's own call -------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        ({}, "required field missing: currentTime"),
        ({"currentTime": 1748764800}, "currentTime must be string"),
        ({"currentTime": "yesterday"}, "currentTime must be date-time"),
        ({"currentTime": NOW, "extra": True}, "unknown field: extra"),
    ],
)
def test_a_callresult_that_breaks_the_schema_fails_the_step(
    payload: dict[str, Any], rule: str, run_cp: Callable[..., Run]
) -> None:
    with hostile(answered_with(lambda unique_id: json.dumps([3, unique_id, payload]))) as csms:
        run = run_cp(csms.url)
    assert_failed_with(run, "Heartbeat answer breaks the OCA schema", rule)


def test_a_boot_answer_that_breaks_the_schema_fails_the_boot(run_cp: Callable[..., Run]) -> None:
    def maybe(unique_id: str) -> str:
        return json.dumps([3, unique_id, {**ANSWERS["BootNotification"], "status": "Maybe"}])

    with hostile(answered_with(maybe), abused_action="BootNotification") as csms:
        run = run_cp(csms.url)
    assert_failed_with(
        run, "BootNotification answer breaks the OCA schema", "status must be one of"
    )


@pytest.mark.parametrize(
    ("code", "description"),
    [
        ("InternalError", "database down"),
        ("OccurrenceConstraintViolation", "the double-r spelling"),
        ("Teapot", "not an OCPP code"),
        ("GenericError", ""),
    ],
)
def test_a_callerror_answer_fails_the_step_and_names_it(
    code: str, description: str, run_cp: Callable[..., Run]
) -> None:
    def error(unique_id: str) -> str:
        return json.dumps([4, unique_id, code, description, {}])

    with hostile(answered_with(error)) as csms:
        run = run_cp(csms.url)
    assert_failed_with(run, f"the CSMS answered Heartbeat with CALLERROR {code}")
    if description:
        assert description in run.failures


def test_a_broken_callerror_to_our_call_is_reported_and_the_call_times_out(
    run_cp: Callable[..., Run],
) -> None:
    with hostile(answered_with(lambda unique_id: f'[4,"{unique_id}","InternalError"]')) as csms:
        run = run_cp(csms.url, timeout=1 * UNIT)
    assert_failed_with(run, "a CALLERROR has 5 elements, got 3", "no answer to Heartbeat within")


def test_a_second_answer_to_one_call_is_a_violation(run_cp: Callable[..., Run]) -> None:
    async def twice(connection: ServerConnection, unique_id: str) -> None:
        await connection.send(answer(unique_id))
        await connection.send(answer(unique_id))

    # A second Heartbeat follows, so the run cannot end between the two answers: TCP keeps
    # them in order, and the duplicate comes before anything answering the second.
    with hostile(twice) as csms:
        run = run_cp(csms.url, scenario=SCENARIO + "  - send: Heartbeat\n")
    assert_failed_with(run, "which no CALL in flight has")


# --- CSMS requests the charge point must refuse -------------------------------------------------


@pytest.mark.parametrize(
    ("frame", "code", "rule"),
    [
        (
            '[2,"r-1","RemoteStartTransaction",{}]',
            "OccurenceConstraintViolation",
            "required field missing: idTag",
        ),
        (
            '[2,"r-2","RemoteStartTransaction",{"idTag":7}]',
            "TypeConstraintViolation",
            "idTag must be string",
        ),
        (
            '[2,"r-3","Reset",{"type":"Soft","when":"now"}]',
            "FormationViolation",
            "unknown field: when",
        ),
        (
            '[2,"r-4","Reset",{"type":"Medium"}]',
            "PropertyConstraintViolation",
            "type must be one of",
        ),
        (
            '[2,"r-5","RemoteStartTransaction",{"idTag":"ABCDEFGHIJKLMNOPQRSTU"}]',
            "PropertyConstraintViolation",
            "idTag must be shorter than or equal to 20 characters",
        ),
        (
            '[2,"r-6","ReserveNow",{"connectorId":1,"expiryDate":"tomorrow","idTag":"T","reservationId":1}]',
            "PropertyConstraintViolation",
            "expiryDate must be date-time",
        ),
        (
            # Not implemented here, but a CSMS may send it: only its broken payload is wrong.
            '[2,"r-7","SetChargingProfile",{"connectorId":1,"csChargingProfiles":{}}]',
            "OccurenceConstraintViolation",
            "SetChargingProfile request: required field missing: csChargingProfiles.charging",
        ),
        (
            '[2,"r-8","BootNotification",{"chargePointVendor":"V","chargePointModel":"M"}]',
            "NotSupported",
            "BootNotification is not supported here",
        ),
        ('[2,"r-9","FlyToTheMoon",{}]', "NotImplemented", "FlyToTheMoon is not an OCPP 1.6 action"),
        ('[2,"r-10","reset",{"type":"Soft"}]', "NotImplemented", "reset is not an OCPP 1.6 action"),
    ],
)
def test_a_request_that_breaks_its_schema_gets_the_callerror_and_fails_the_step(
    frame: str, code: str, rule: str, run_cp: Callable[..., Run]
) -> None:
    with hostile(frames_then_answer(frame)) as csms:
        run = run_cp(csms.url)
    unique_id = json.loads(frame)[1]
    assert csms.errors_sent == [(unique_id, code)]
    assert_failed_with(run, "CSMS protocol violation", rule, f"(answered {code})")


# --- size, and the connection going away ------------------------------------------------------


def test_a_frame_larger_than_the_limit_closes_with_1009_and_fails_the_step(
    run_cp: Callable[..., Run],
) -> None:
    huge = '[2,"huge","Reset",{"type":"' + "x" * CLIENT_MAX_SIZE + '"}]'
    with hostile(frames_then_answer(huge)) as csms:
        run = run_cp(csms.url)
    assert_failed_with(run, "connection lost", "connection closed with code 1009")


def large_frame() -> str:
    value = "9" * (CLIENT_MAX_SIZE - 200)
    return f'[2,"large","ChangeConfiguration",{{"key":"HeartbeatInterval","value":"{value}"}}]'


def test_a_large_frame_within_the_limit_is_answered(run_cp: Callable[..., Run]) -> None:
    # Requests after it push it out of the frames the console shows with the failure, whose
    # rendering of a 4 MiB frame is slow (see the xfail at the end).
    after = [f'[2,"after-{n}","ClearCache",{{}}]' for n in range(6)]
    with hostile(frames_then_answer(large_frame(), *after)) as csms:
        run = run_cp(csms.url)
    assert run.code == 1
    assert "value must be shorter than or equal to 500 characters" in run.failures
    assert csms.errors_sent == [("large", "PropertyConstraintViolation")]


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (1000, "bye"),
        (1001, "going away"),
        (1008, "policy"),
        (1011, "oops"),
        (3000, ""),
        (4000, "custom"),
        (4999, "ünïcode"),
    ],
)
def test_a_close_in_the_middle_of_a_call_fails_the_step(
    code: int, reason: str, run_cp: Callable[..., Run]
) -> None:
    async def close(connection: ServerConnection, unique_id: str) -> None:
        await connection.close(code, reason)

    with hostile(close) as csms:
        run = run_cp(csms.url)
    assert_failed_with(
        run,
        "connection lost",
        f"connection closed with code {code}{' ' + reason if reason else ''}",
    )


def test_a_connection_dropped_without_a_close_in_the_middle_of_a_call_fails_the_step(
    run_cp: Callable[..., Run],
) -> None:
    async def drop(connection: ServerConnection, unique_id: str) -> None:
        connection.transport.abort()

    with hostile(drop) as csms:
        run = run_cp(csms.url)
    assert_failed_with(run, "connection lost", "without a closing handshake")


@pytest.mark.parametrize(
    ("wire", "code"),
    [
        (b"\x81\x02\xff\xfe", 1007),  # a text message that is not UTF-8
        (b"\x83\x00", 1002),  # a reserved opcode
        (b"\xc1\x00", 1002),  # a reserved bit set
        (b"\x81\x81abcd\x00", 1002),  # a masked frame from the server
        (b"\x88\x02\x03\xe7", 1002),  # a close frame with the invalid code 999
    ],
    ids=["invalid-utf8", "opcode", "rsv", "masked", "close-code"],
)
def test_a_broken_websocket_frame_closes_the_connection_and_fails_the_step(
    wire: bytes, code: int, run_cp: Callable[..., Run]
) -> None:
    async def garbage(connection: ServerConnection, unique_id: str) -> None:
        connection.transport.write(wire)

    with hostile(garbage) as csms:
        run = run_cp(csms.url)
    assert_failed_with(run, "connection lost", f"code {code}")


# --- a CSMS that never answers ---------------------------------------------------------------


def test_a_csms_that_never_answers_a_call_fails_the_step_at_its_timeout(
    run_cp: Callable[..., Run],
) -> None:
    with hostile(silence) as csms:
        run = run_cp(csms.url, timeout=1 * UNIT)
    assert_failed_with(run, f"no answer to Heartbeat within {1 * UNIT:g} s")
    assert run.seconds >= 1 * UNIT


def test_a_csms_that_never_answers_the_boot_fails_the_boot_at_the_timeout(
    run_cp: Callable[..., Run],
) -> None:
    with hostile(silence, abused_action="BootNotification") as csms:
        run = run_cp(csms.url, timeout=1 * UNIT)
    assert_failed_with(run, f"the CSMS did not accept the boot within {1 * UNIT:g} s")


# --- a CSMS that cannot be reached -------------------------------------------------------------


def test_a_server_that_accepts_tcp_and_never_upgrades_is_exit_3_within_the_connect_timeout(
    run_cp: Callable[..., Run],
) -> None:
    with socket.socket() as listener:  # the kernel completes the TCP handshake; nobody reads
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        run = run_cp(f"ws://127.0.0.1:{port}/ocpp", connect_timeout=1 * UNIT)
    assert run.code == 3, run.out
    assert "no answer within" in run.failures
    assert run.seconds < 1 * UNIT + 3 * UNIT


Talk = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Coroutine[Any, Any, None]]


class RawServer:
    """A TCP server on 127.0.0.1 that meets every connection with ``talk``."""

    def __init__(self, talk: Talk) -> None:
        self.talk = talk
        self._server: asyncio.Server | None = None
        self._talks: set[asyncio.Task[None]] = set()

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}/ocpp"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # The talk runs as a task of its own, cancelled at stop: a cancelled connection
        # handler would make asyncio's streams log an error.
        talk = asyncio.create_task(self.talk(reader, writer))
        self._talks.add(talk)
        try:
            await asyncio.wait([talk])
            if not talk.cancelled():
                talk.exception()  # retrieved: a client that went away is no news
        finally:
            self._talks.discard(talk)
            writer.close()

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for talk in self._talks:
            talk.cancel()
        await asyncio.gather(*self._talks, return_exceptions=True)
        await self._server.wait_closed()


async def _trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    for byte in b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" * 100:
        writer.write(bytes([byte]))
        await asyncio.sleep(0.05)


async def _garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"SSH-2.0-OpenSSH_9.6\r\nProtocol mismatch.\r\n")
    await writer.drain()
    writer.close()


async def _hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


async def _http_200(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")
    await writer.drain()
    await asyncio.sleep(10)


@pytest.mark.parametrize(
    ("talk", "fragment"),
    [
        (_trickle, "no answer within"),
        (_garbage, "WebSocket handshake failed"),
        (_hang_up, "WebSocket handshake failed"),
        (_http_200, "refused the WebSocket upgrade with HTTP 200"),
    ],
    ids=["trickles-the-upgrade", "not-http", "hangs-up", "http-200"],
)
def test_a_server_that_does_not_upgrade_properly_is_exit_3_within_the_connect_timeout(
    talk: Talk,
    fragment: str,
    run_cp: Callable[..., Run],
) -> None:
    server = RawServer(talk)
    with in_thread(server.start, server.stop) as url:
        run = run_cp(url, connect_timeout=1 * UNIT)
    assert run.code == 3, run.out
    assert fragment in run.failures
    assert run.seconds < 1 * UNIT + 3 * UNIT


def test_a_server_that_does_not_select_ocpp16_is_exit_3(run_cp: Callable[..., Run]) -> None:
    with hostile(silence, subprotocols=None) as csms:
        run = run_cp(csms.url, connect_timeout=1 * UNIT)
    assert run.code == 3, run.out
    assert "did not select the WebSocket subprotocol ocpp1.6" in run.failures


# --- the real process -------------------------------------------------------------------------


def test_the_cli_process_fails_cleanly_on_a_mix_of_abuse(tmp_path: Path) -> None:
    """``python -m mockpoint run -v`` as a user runs it: every frame printed, every report
    written; exit 1, and nothing on stderr (a logged traceback would be there)."""

    async def mix(connection: ServerConnection, unique_id: str) -> None:
        for frame in [
            '[2,"\\ud800","GetConfiguration",{"key":["\\udfff"]}]',
            '[2,"nan-1","ChangeConfiguration",{"key":"K","value":-Infinity}]',
            b"\xff\xfe[2,",
            '[4,"never-sent","Teapot","\\ud800",{}]',
            '[2,"r-1","RemoteStartTransaction",{"idTag":"' + "ü" * 30 + '"}]',
        ]:
            await connection.send(frame)
        await connection.send('[2,"last","ClearCache",{}]')
        closing.append(asyncio.create_task(close_after_last(connection)))

    async def close_after_last(connection: ServerConnection) -> None:
        # Once the charge point has answered everything (bounded: the step's timeout ends
        # the run, which closes the connection).
        while not any(isinstance(f, list) and f[1:2] == ["last"] for f in csms.received):
            await asyncio.sleep(0.01)
        await connection.close(1011, "bye")

    closing: list[asyncio.Task[None]] = []

    path = tmp_path / "hostile.yaml"
    path.write_text(SCENARIO.format(timeout=2 * UNIT), encoding="utf-8")
    reports = [
        ("--json", tmp_path / "r.json"),
        ("--junit", tmp_path / "r.xml"),
        ("--markdown", tmp_path / "r.md"),
        ("--transcript", tmp_path / "t.jsonl"),
    ]
    with hostile(mix) as csms:
        command = [sys.executable, "-m", "mockpoint", "run", str(path), "-v"]
        command += ["--csms", csms.url, "--connect-timeout", f"{2 * UNIT:g}"]
        command += [str(part) for option in reports for part in option]
        done = subprocess.run(
            command,
            capture_output=True,
            encoding="utf-8",
            errors="backslashreplace",
            timeout=30 * UNIT,
            env={**os.environ, "COLUMNS": "200"},
        )
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr == ""
    assert "connection closed with code 1011 bye" in done.stdout
    for _, report in reports:
        assert report.stat().st_size > 0
    assert [f[1:3] for f in csms.received if isinstance(f, list) and f[0] == 4] == [
        ["nan-1", "FormationViolation"],
        ["r-1", "PropertyConstraintViolation"],
    ]


# --- bugs found here, in modules this suite does not own --------------------------------------


def test_a_deeply_nested_frame_is_a_violation_not_an_internal_error(
    run_cp: Callable[..., Run],
) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    with hostile(frames_then_answer(nested)) as csms:
        run = run_cp(csms.url)
    assert_failed_with(run, "not valid JSON")


def test_the_json_report_names_what_arrived(run_cp: Callable[..., Run]) -> None:
    with hostile(frames_then_answer("hello, charge point")) as csms:
        run = run_cp(csms.url)
    assert_failed_with(run, "not valid JSON", "hello, charge point")


def test_the_console_shows_a_failure_after_a_large_frame_quickly(
    run_cp: Callable[..., Run],
) -> None:
    with hostile(frames_then_answer(large_frame())) as csms:
        run = run_cp(csms.url, bound=60 * UNIT)
    assert run.code == 1
    assert run.seconds < 3 * UNIT, f"{run.seconds:.1f} s"


@pytest.mark.parametrize("options", [(), ("-v",)], ids=["default", "verbose"])
def test_a_frame_nested_500_deep_is_reported(
    options: tuple[str, ...], run_cp: Callable[..., Run]
) -> None:
    nested = "[" * 500 + "]" * 500
    with hostile(frames_then_answer(nested)) as csms:
        run = run_cp(csms.url, options=options)
    assert_failed_with(run, "a frame has at least 3 elements, got 1")

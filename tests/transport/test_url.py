"""The CSMS URL: where the charge point id goes (OCPP-J 1.6 §3.1.1, or where the URL says
``{id}``), seen by real servers over loopback WebSockets, and a URL that is not ws:// or
wss:// refused at once as a usage error (docs/reference/run.md)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from websockets.asyncio.server import ServerConnection, serve

from conftest import UNIT
from mockpoint.csms.server import MockCsms
from mockpoint.errors import UsageError
from mockpoint.transport import charge_point_url
from mockpoint.transport import connect as websockets_connect
from mockpoint.transport.base import Inbox
from mockpoint.transport.picows_transport import connect as picows_connect
from mockpoint.transport.security import Dial
from mockpoint.transport.websocket import SUBPROTOCOL, check_csms_url


@pytest.fixture(params=["websockets", "picows"])
def connect(request: pytest.FixtureRequest) -> Dial:
    dial: Dial = websockets_connect if request.param == "websockets" else picows_connect
    return dial


# --- where the id goes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("ws://h/ocpp/{id}/", "ws://h/ocpp/CP-001/"),
        ("ws://h/{id}?token=x", "ws://h/CP-001?token=x"),
        ("ws://h/{id}/ocpp", "ws://h/CP-001/ocpp"),
        ("wss://h:8443/ocpp?cp={id}&token=x", "wss://h:8443/ocpp?cp=CP-001&token=x"),
        ("ws://h/a/{id}/b/{id}", "ws://h/a/CP-001/b/CP-001"),
        # no {id}: the last path segment, as before
        ("ws://h/ocpp/", "ws://h/ocpp/CP-001"),
    ],
)
def test_the_id_goes_where_the_url_says(url: str, expected: str) -> None:
    assert charge_point_url(url, "CP-001") == expected


def test_an_id_in_braces_is_percent_encoded_too() -> None:
    assert charge_point_url("ws://h/ocpp/{id}/", "CP 1/ä") == "ws://h/ocpp/CP%201%2F%C3%A4/"
    assert charge_point_url("ws://h/x?cp={id}", "a&b=c") == "ws://h/x?cp=a%26b%3Dc"


def test_braces_in_the_credentials_are_left_alone() -> None:
    # Only the path and the query take the id.
    assert charge_point_url("ws://u:p{id}@h/ocpp", "CP-1") == "ws://u:p{id}@h/ocpp/CP-1"


@asynccontextmanager
async def _path_recorder() -> AsyncIterator[tuple[str, list[str]]]:
    """A WebSocket server that records each upgrade request's path (a CSMS that routes on
    it, with a trailing slash or a token in the query)."""
    paths: list[str] = []

    async def handler(connection: ServerConnection) -> None:
        assert connection.request is not None
        paths.append(connection.request.path)
        await connection.wait_closed()

    async with serve(handler, "127.0.0.1", 0, subprotocols=[SUBPROTOCOL]) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}", paths


@pytest.mark.parametrize(
    ("path", "seen"),
    [
        ("/ocpp/{id}/", "/ocpp/CP%207/"),
        ("/{id}?token=x", "/CP%207?token=x"),
        ("/ocpp", "/ocpp/CP%207"),
    ],
)
async def test_the_server_sees_the_id_where_the_url_put_it(
    connect: Dial, path: str, seen: str
) -> None:
    async with _path_recorder() as (base, paths):
        async with asyncio.timeout(5 * UNIT):
            transport = await connect(base + path, "CP 7", open_timeout=2 * UNIT)
            await transport.close()
    assert paths == [seen]


@pytest.mark.parametrize("path", ["/{id}?token=x", "/ocpp/{id}/"])
async def test_the_mock_csms_sees_the_id_where_the_url_put_it(connect: Dial, path: str) -> None:
    async with MockCsms() as csms:
        base = csms.url.rsplit("/", 1)[0]  # ws://127.0.0.1:PORT
        async with asyncio.timeout(5 * UNIT):
            transport = await connect(base + path, "CP-Q", open_timeout=2 * UNIT)
            inbox = Inbox(transport)
            await inbox.send('[2,"1","Heartbeat",{}]')
            answer = await inbox.receive()
            await transport.close()
    assert answer.startswith('[3,"1",{"currentTime"')
    assert [call.action for call in csms.received("CP-Q")] == ["Heartbeat"]


# --- what is not a WebSocket URL ----------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "meant"),
    [
        ("127.0.0.1:9000/ocpp", "ws://127.0.0.1:9000/ocpp"),
        ("localhost:9000", "ws://localhost:9000"),
        ("http://127.0.0.1:9000/ocpp", "ws://127.0.0.1:9000/ocpp"),
        ("HTTP://csms.example/ocpp", "ws://csms.example/ocpp"),
        ("https://csms.example/ocpp/{id}/", "wss://csms.example/ocpp/{id}/"),
        ("ftp://csms.example/ocpp", "ws://csms.example/ocpp"),
        ("ws:csms.example/ocpp", "ws://csms.example/ocpp"),
    ],
)
def test_a_url_that_is_not_websocket_says_what_was_meant(url: str, meant: str) -> None:
    with pytest.raises(UsageError) as raised:
        check_csms_url(url, "--csms")
    message = str(raised.value)
    assert message.startswith("--csms: ")
    assert message.endswith(f"did you mean {meant}?")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("", "empty"),
        ("ws:///ocpp", "names no host"),
        ("ws://127.0.0.1:99999/ocpp", "Port out of range"),
        ("ws://127.0.0.1:9000/ocpp#x", "fragment"),
        ("ws://127.0.0.1:9000/oc pp", "a space or a control character"),
    ],
)
def test_other_urls_that_cannot_work_are_refused(url: str, problem: str) -> None:
    with pytest.raises(UsageError, match=problem):
        check_csms_url(url, "csms")


@pytest.mark.parametrize(
    "url",
    ["ws://127.0.0.1:9000/ocpp", "WSS://csms.example/ocpp/{id}/", "ws://[::1]:9000/x?t=1"],
)
def test_websocket_urls_pass(url: str) -> None:
    check_csms_url(url, "--csms")


def test_the_message_never_shows_a_password() -> None:
    with pytest.raises(UsageError) as raised:
        check_csms_url("https://cp:Sesame-Profile1-Pw-7f3a@csms.example/ocpp", "--csms")
    assert "Sesame" not in str(raised.value)
    assert "did you mean wss://cp:***@csms.example/ocpp?" in str(raised.value)


async def test_both_transports_refuse_it_without_trying(connect: Dial) -> None:
    # Nothing listens on port 1: a connection attempt would be a ConnectError instead.
    with pytest.raises(UsageError, match=r"did you mean wss://127\.0\.0\.1:1/ocpp\?"):
        await connect("https://127.0.0.1:1/ocpp", "CP-001")

"""``mockpoint demo`` as a user runs it: a subprocess, its output and its exit code."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from websockets.asyncio.server import ServerConnection, serve

from conftest import UNIT

pytestmark = pytest.mark.slow


def mockpoint(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockpoint", *args],
        capture_output=True,
        text=True,
        timeout=timeout * UNIT,
        env={"COLUMNS": "160", "PATH": "", "PYTHONPATH": ""},
    )


def test_demo_runs_a_session_against_the_embedded_csms() -> None:
    result = mockpoint("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "session complete: 46 frames, 5.50 kWh" in out
    for expected in ("BootNotification", "Authorize", "StartTransaction", "MeterValues"):
        assert expected in out
    assert "#1 Charging" in out and "tx 1 meterStop=5500 Local" in out


def test_demo_output_is_the_same_every_run() -> None:
    first, second = mockpoint("demo", "-v"), mockpoint("demo", "-v")

    def frames(out: str) -> list[str]:
        return [line for line in out.splitlines() if "CP → CSMS" in line or "CSMS → CP" in line]

    assert frames(first.stdout) == frames(second.stdout)
    assert len(frames(first.stdout)) == 46


def test_demo_against_a_port_nobody_listens_on_exits_3() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = mockpoint("demo", "--csms", f"ws://127.0.0.1:{port}/ocpp", "--timeout", "0.5")
    assert result.returncode == 3
    assert "error:" in result.stderr and f"127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


@asynccontextmanager
async def server_without_subprotocol() -> AsyncIterator[int]:
    async def handler(ws: ServerConnection) -> None:
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0) as server:
        yield server.sockets[0].getsockname()[1]


async def test_demo_against_a_server_refusing_ocpp16_exits_3() -> None:
    async with server_without_subprotocol() as port:
        result = await asyncio.to_thread(
            mockpoint, "demo", "--csms", f"ws://127.0.0.1:{port}/ocpp", "--timeout", "0.5"
        )
    assert result.returncode == 3
    assert "did not select the WebSocket subprotocol ocpp1.6" in result.stderr


def test_usage_errors_exit_2() -> None:
    result = mockpoint("demo", "--timeout", "soon")
    assert result.returncode == 2
    assert "soon" in result.stderr
    assert mockpoint("no-such-command").returncode == 2


def test_version() -> None:
    result = mockpoint("--version")
    assert result.returncode == 0 and "mockpoint, version" in result.stdout

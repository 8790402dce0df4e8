"""``mockpoint run`` as a user runs it: a subprocess, its output and its exit code."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

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


EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "02-plug-in-first-charging.yaml")


def test_run_an_example_against_the_embedded_csms() -> None:
    result = mockpoint("run", "-v", EXAMPLE)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in ("BootNotification", "Authorize", "StartTransaction", "MeterValues"):
        assert expected in out
    assert "#1 Charging" in out and "tx 1 meterStop=5500 Local" in out
    assert "1 passed, 0 failed, 0 unreachable" in out
    # `make demo`: the charging session, not a coverage table (that takes -vv or --coverage).
    assert "OCPP 1.6 coverage" not in out
    assert "OCPP 1.6 coverage" in mockpoint("run", "-vv", EXAMPLE).stdout


def test_a_log_gets_whole_lines() -> None:
    # No COLUMNS, standard output a pipe: as in CI, where a cut "...yaml:18:5…" helps no one.
    result = subprocess.run(
        [sys.executable, "-m", "mockpoint", "run", "-v", EXAMPLE],
        capture_output=True,
        text=True,
        timeout=30 * UNIT,
        env={"PATH": "", "PYTHONPATH": ""},
    )
    assert result.returncode == 0, result.stderr
    assert "…" not in result.stdout
    assert f"  ✓ plug_in connector 1  {EXAMPLE}:" in result.stdout
    assert any(len(line) > 80 for line in result.stdout.splitlines())


def test_a_port_nobody_listens_on_exits_3() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = mockpoint(
        "run", EXAMPLE, "--csms", f"ws://127.0.0.1:{port}/ocpp", "--connect-timeout", "0.5"
    )
    assert result.returncode == 3
    assert f"127.0.0.1:{port}" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


@asynccontextmanager
async def server_without_subprotocol() -> AsyncIterator[int]:
    async def handler(ws: ServerConnection) -> None:
        await ws.wait_closed()

    async with serve(handler, "127.0.0.1", 0) as server:
        yield server.sockets[0].getsockname()[1]


async def test_a_server_refusing_ocpp16_exits_3() -> None:
    async with server_without_subprotocol() as port:
        result = await asyncio.to_thread(
            mockpoint,
            "run",
            EXAMPLE,
            "--csms",
            f"ws://127.0.0.1:{port}/ocpp",
            "--connect-timeout",
            "0.5",
        )
    assert result.returncode == 3
    assert "did not select the WebSocket subprotocol ocpp1.6" in result.stdout


def test_usage_errors_exit_2() -> None:
    result = mockpoint("run", EXAMPLE, "--connect-timeout", "soon")
    assert result.returncode == 2
    assert "soon" in result.stderr
    assert mockpoint("run").returncode == 2
    assert mockpoint("no-such-command").returncode == 2


def test_version() -> None:
    result = mockpoint("--version")
    assert result.returncode == 0 and "mockpoint, version" in result.stdout

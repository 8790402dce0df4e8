"""``mockpoint csms`` on the command line."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from conftest import UNIT
from mockpoint.cli.main import main
from mockpoint.errors import ExitCode
from mockpoint.ocpp16.actions import CHARGE_POINT_HANDLES
from mockpoint.rpc import RpcSession
from mockpoint.runtime import Endpoint
from mockpoint.transport import connect


@pytest.mark.slow
async def test_the_command_serves_until_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "frames.jsonl"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mockpoint",
        "csms",
        "--port",
        "0",
        "--log",
        str(log),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        async with asyncio.timeout(10 * UNIT):
            assert process.stdout is not None
            line = (await process.stdout.readline()).decode()
            match = re.fullmatch(r"mock CSMS listening on (ws://127\.0\.0\.1:\d+/ocpp)\n", line)
            assert match, line
            transport = await connect(match.group(1), "CP-CLI", open_timeout=2 * UNIT)

            async def refuse(call: object) -> dict[str, object]:
                raise AssertionError("no CSMS request expected")

            endpoint = Endpoint(transport, RpcSession(CHARGE_POINT_HANDLES), refuse)
            runner = asyncio.create_task(endpoint.run())
            answer = await endpoint.call(
                "BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"}
            )
            assert answer["status"] == "Accepted" and answer["interval"] == 300
            process.send_signal(signal.SIGTERM)
            await runner  # the server closes the connection as it stops
            stdout, stderr = await process.communicate()
            assert process.returncode == ExitCode.OK, stderr.decode()
            assert b"mock CSMS stopped" in stdout
            assert b"CP-CLI connected" in stderr
            assert b"Traceback" not in stderr
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert [line.count('"cp": "CP-CLI"') for line in log.read_text().splitlines()] == [1, 1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--command", "ClearCache", "--payload", "{oops"], "not valid JSON"),
        (["--command", "ClearCache", "--payload", "[1]"], "must be a JSON object"),
        (["--command", "Heartbeat"], "not sent by a Central System"),
        (["--command", "Reset", "--payload", "{}"], "required field missing"),
        (["--command", "ClearCache", "--period", "soon"], "not a duration"),
        (["--period", "5"], "needs --command"),
    ],
)
def test_bad_command_options_are_usage_errors(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["csms", "--port", "0", *args]) == ExitCode.USAGE
    assert message in capsys.readouterr().err


def test_a_bad_config_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "csms.yaml"
    path.write_text("boot: {status: Maybe}\n", encoding="utf-8")
    assert main(["csms", "--port", "0", "--config", str(path)]) == ExitCode.USAGE
    assert f"{path}: boot.status:" in capsys.readouterr().err

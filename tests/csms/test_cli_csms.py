"""``mockpoint csms`` on the command line."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import urllib.request
from pathlib import Path

import pytest

from conftest import UNIT
from mockpoint.cli import csms as csms_cli
from mockpoint.cli.main import main
from mockpoint.csms.config import CsmsConfig, load_csms_config
from mockpoint.errors import ExitCode, UsageError
from mockpoint.ocpp16.actions import CHARGE_POINT_HANDLES
from mockpoint.rpc import RpcSession
from mockpoint.rpc.frames import Call
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
            assert b"listening on" not in stdout + stderr  # once: the line read above
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
    assert f"{path}:1:16: boot.status:" in capsys.readouterr().err


@pytest.mark.slow
async def test_the_control_api_and_a_scenario_s_mock_csms_block(tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(
        "name: boots\nmock_csms:\n  boot: {interval: 42}\nsteps:\n  - wait: 1\n",
        encoding="utf-8",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mockpoint",
        "csms",
        "--port",
        "0",
        "--config",
        str(scenario),
        "--control-port",
        "0",
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
            line = (await process.stdout.readline()).decode()
            control = re.fullmatch(r"control API on (http://127\.0\.0\.1:\d+)\n", line)
            assert control, line
            transport = await connect(match.group(1), "CP-CLI", open_timeout=2 * UNIT)
            requests: list[tuple[str, object]] = []

            async def handle(call: Call) -> dict[str, object]:
                requests.append((call.action, call.payload))
                return {"configurationKey": [{"key": "K", "readonly": True, "value": "v"}]}

            endpoint = Endpoint(transport, RpcSession(CHARGE_POINT_HANDLES), handle)
            runner = asyncio.create_task(endpoint.run())
            answer = await endpoint.call(
                "BootNotification", {"chargePointVendor": "A", "chargePointModel": "B"}
            )
            assert answer["interval"] == 42  # the scenario's mock_csms block
            status, body = await asyncio.to_thread(
                _post, f"{control.group(1)}/charge-points/CP-CLI/GetConfiguration", {"key": ["K"]}
            )
            assert status == 200
            assert body == {
                "answer": {"configurationKey": [{"key": "K", "readonly": True, "value": "v"}]}
            }
            assert requests == [("GetConfiguration", {"key": ["K"]})]
            process.send_signal(signal.SIGTERM)
            await runner
            stdout, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == ExitCode.OK, stderr.decode()
    assert stdout.decode() == "mock CSMS stopped\n"  # the first two lines were read above
    assert b"listening on" not in stderr  # printed once, on standard output
    assert b"control API: POST /charge-points/CP-CLI/GetConfiguration: 200" in stderr
    assert b"Traceback" not in stderr


def _post(url: str, payload: object) -> tuple[int, object]:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10 * UNIT) as response:
        return response.status, json.loads(response.read())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--control-port", "0", "--control-host", "0.0.0.0"], "not a loopback address"),
        (["--control-host", "::1"], "needs --control-port"),
        (["--control-token-file", "{token}"], "needs --control-port"),
        (["--control-port", "0", "--control-token-file", "{empty}"], "token file is empty"),
        (["--control-port", "70000"], "--control-port"),
    ],
)
def test_bad_control_options_are_usage_errors(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token, empty = tmp_path / "token", tmp_path / "empty"
    token.write_text("s3cret-token\n", encoding="utf-8")
    empty.write_text("\n", encoding="utf-8")
    args = [arg.format(token=token, empty=empty) for arg in args]
    assert main(["csms", "--port", "0", *args]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert message in err
    assert "s3cret-token" not in err


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[CsmsConfig]:
    """``mockpoint csms`` stops where it would serve; the configurations it would serve."""
    configs: list[CsmsConfig] = []

    async def serve(config: CsmsConfig, *args: object) -> None:
        configs.append(config)

    monkeypatch.setattr(csms_cli, "_serve", serve)
    monkeypatch.setattr(csms_cli, "_setup_logging", lambda: None)
    return configs


def test_a_scenario_file_s_mock_csms_block_is_the_configuration(
    tmp_path: Path, served: list[CsmsConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(
        "name: s\nmock_csms:\n  boot: {status: [Pending, Accepted], interval: [5, 60]}\n"
        "  on_boot: [{action: ClearCache}]\nsteps: [{wait: 1}]\n",
        encoding="utf-8",
    )
    assert main(["csms", "--port", "0", "--config", str(path)]) == ExitCode.OK
    [config] = served
    assert [status.value for status in config.boot.status] == ["Pending", "Accepted"]
    assert config.boot.interval == (5, 60)
    assert [request.action for request in config.on_boot] == ["ClearCache"]
    assert capsys.readouterr().err == ""


def test_a_scenario_without_a_mock_csms_block_is_the_default_configuration(
    tmp_path: Path, served: list[CsmsConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text("name: s\ncharge_point: {id: CP-9}\nsteps: [{wait: 1}]\n", encoding="utf-8")
    assert main(["csms", "--port", "0", "--config", str(path)]) == ExitCode.OK
    assert served == [CsmsConfig()]
    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"{path}: a scenario without a mock_csms block: the default configuration"]


def test_a_configuration_file_is_not_taken_for_a_scenario(tmp_path: Path) -> None:
    path = tmp_path / "csms.yaml"
    path.write_text("boot: {interval: 7}\n", encoding="utf-8")
    loaded = load_csms_config(path)
    assert loaded.config.boot.interval == (7,)
    assert not loaded.scenario and not loaded.block


@pytest.mark.parametrize(
    ("block", "place", "where"),
    [
        ("  boot:\n    status: Maybe\n", "4:13", "mock_csms.boot.status: 'Maybe' is not one of"),
        ("  bot: {}\n", "3:3", "unknown key 'bot' in mock_csms; did you mean boot?"),
        (
            "  on_boot:\n    - {action: ClearCache}\n    - action: Reset\n      payload: {}\n",
            "5:7",
            "mock_csms.on_boot[1]: Reset request: ",
        ),
        (
            "  id_tags:\n    expiry_date:\n      TAG.1: tomorrow\n",
            "5:14",
            "mock_csms.id_tags.expiry_date.TAG.1: 'tomorrow' is not an RFC 3339 time",
        ),
        (
            "  periodic:\n    - action: ClearCache\n",
            "4:7",
            "missing required key 'period' in mock_csms.periodic[0]",
        ),
        # at the value that is wrong, not at its key
        ("  [1, 2]\n", "3:3", "mock_csms: expected a mapping, got a list"),
    ],
)
def test_an_error_in_a_scenario_s_mock_csms_block_names_the_line(
    tmp_path: Path, block: str, place: str, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(f"name: s\nmock_csms:\n{block}steps: [{{wait: 1}}]\n", encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        load_csms_config(path)
    assert str(caught.value).startswith(f"{path}:{place}: {where}"), str(caught.value)
    assert main(["csms", "--port", "0", "--config", str(path)]) == ExitCode.USAGE
    assert f"{path}:{place}: {where}" in capsys.readouterr().err

"""The public Python API as a user would use it, over real loopback WebSockets."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import mockpoint
from conftest import UNIT
from mockpoint.csms.config import config_from_mapping

EXAMPLES = Path(__file__).parent.parent / "examples"


class Frames:
    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def frame(self, direction: str, text: str) -> None:
        self.texts.append((direction, text))

    def violation(self, event: Any) -> None:
        pass


async def test_a_charging_session_from_python() -> None:
    frames = Frames()
    async with mockpoint.MockCsms() as csms:
        async with mockpoint.charge_point(csms.url, "CP-API", observer=frames) as cp:
            assert cp.connected and cp.id == "CP-API"
            assert cp.state["registration"] == "Accepted"
            await cp.plug_in(1)
            tx = await cp.start_transaction(1, "TAG-001")
            assert tx == 1
            answer = await cp.send("Authorize", {"idTag": "TAG-002"})
            assert answer == {"idTagInfo": {"status": "Accepted"}}
            await cp.charge(1, "11kW", "30m")
            assert cp.state["connectors"][1]["energy_wh"] == 5500
            stopped = await cp.stop_transaction(1)
            assert stopped["idTagInfo"]["status"] == "Accepted"
            await cp.unplug(1)
            assert cp.state["connectors"][1]["status"] == "Available"
    calls = [json.loads(text) for direction, text in frames.texts if direction == "out"]
    actions = [frame[2] for frame in calls if frame[0] == 2]
    assert actions[:3] == ["BootNotification", "StatusNotification", "StatusNotification"]
    assert actions[3:6] == ["StatusNotification", "StartTransaction", "StatusNotification"]
    assert actions[6] == "Authorize"
    assert "MeterValues" in actions
    # StopTransaction, then Finishing, then Available once unplugged
    assert actions[-3:] == ["StopTransaction", "StatusNotification", "StatusNotification"]


async def test_wait_for_a_csms_request() -> None:
    config = config_from_mapping(
        {
            "on_request": [
                {
                    "when": {"action": "StatusNotification", "match": {"status": "Charging"}},
                    "send": {
                        "action": "RemoteStopTransaction",
                        "payload": {"transactionId": "${transaction_id}"},
                    },
                }
            ]
        },
        "test",
    )
    async with mockpoint.MockCsms(config=config) as csms:
        async with mockpoint.charge_point(csms.url, "CP-RS") as cp:
            await cp.plug_in(1)
            tx = await cp.start_transaction(1, "TAG-001")
            request = await cp.wait_for("RemoteStopTransaction", timeout=5 * UNIT)
            assert request.call.payload == {"transactionId": tx}
            assert request.response == {"status": "Accepted"}
            with pytest.raises(TimeoutError):
                await cp.wait_for("RemoteStopTransaction", timeout=0.2)  # only one came


async def test_a_callerror_and_a_refused_verb_raise() -> None:
    config = config_from_mapping({"answers": {"DataTransfer": {"error": "NotSupported"}}}, "t")
    async with mockpoint.MockCsms(config=config) as csms:
        async with mockpoint.charge_point(csms.url) as cp:
            with pytest.raises(mockpoint.CallErrorReceived) as caught:
                await cp.send("DataTransfer", {"vendorId": "acme"})
            assert caught.value.code == "NotSupported"
            with pytest.raises(mockpoint.LocalProtocolError):
                await cp.send("Authorize", {})  # idTag missing: never sent
            with pytest.raises(mockpoint.Refused):
                await cp.stop_transaction(1)  # no transaction: the station's state refuses


async def test_no_csms_is_a_connect_error() -> None:
    with pytest.raises(mockpoint.ConnectError):
        async with mockpoint.charge_point("ws://127.0.0.1:9/none", connect_timeout=0.2):
            pass


async def test_basic_auth_with_a_password() -> None:
    async with mockpoint.MockCsms(passwords={"CP-SEC": "correct-horse-1"}) as csms:
        async with mockpoint.charge_point(
            csms.url, "CP-SEC", security_profile=1, password="correct-horse-1"
        ) as cp:
            assert cp.connected
        with pytest.raises(mockpoint.ConnectError, match="refused the credentials"):
            async with mockpoint.charge_point(
                csms.url, "CP-SEC", security_profile=1, password="wrong-password-1"
            ):
                pass


async def test_run_a_scenario_file() -> None:
    outcome = await mockpoint.run_scenario(EXAMPLES / "02-plug-in-first-charging.yaml")
    assert outcome.status.value == "passed"
    assert outcome.steps and all(step.status.value == "passed" for step in outcome.steps)
    run = await mockpoint.run_scenario_files([EXAMPLES / "failure"])
    assert [s.status.value for s in run.scenarios] == ["failed"]
    assert run.exit_code == mockpoint.ExitCode.FAILED


async def test_two_charge_points_at_once() -> None:
    async with mockpoint.MockCsms() as csms:
        async with (
            mockpoint.charge_point(csms.url, "CP-A") as a,
            mockpoint.charge_point(csms.url, "CP-B") as b,
        ):
            ta, tb = await asyncio.gather(
                a.start_transaction(1, "TAG-A"), b.start_transaction(1, "TAG-B")
            )
            assert {ta, tb} == {1, 2}


def test_the_readme_example_runs(tmp_path: Path) -> None:
    """The README's Python API example, as a user would paste it (from the project root,
    where its example path is)."""
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Python API", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=EXAMPLES.parent,
        capture_output=True,
        text=True,
        timeout=30 * UNIT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "passed"


class FramesOnly:
    """An observer with ``frame`` and nothing else: ``violation`` is optional."""

    def __init__(self) -> None:
        self.directions: list[str] = []

    def frame(self, direction: str, text: str) -> None:
        self.directions.append(direction)


async def test_an_observer_without_violation_survives_a_csms_violation() -> None:
    frames = FramesOnly()
    async with mockpoint.MockCsms() as csms:
        async with mockpoint.charge_point(csms.url, "CP-OBS", observer=frames) as cp:
            with pytest.raises(mockpoint.CallErrorReceived) as caught:
                await csms.call("CP-OBS", "Reset", {"type": "Medium"}, validate=False)
            assert caught.value.code == "PropertyConstraintViolation"
            # The connection loop lives on: the charge point still talks.
            assert "currentTime" in await cp.send("Heartbeat", {})
            assert cp.connected
    assert frames.directions.count("in") >= 2


async def test_a_background_charge_from_python() -> None:
    async with mockpoint.MockCsms() as csms:
        async with mockpoint.charge_point(csms.url, "CP-BG", connectors=2) as cp:
            for connector, tag in ((1, "TAG-1"), (2, "TAG-2")):
                await cp.plug_in(connector)
                await cp.start_transaction(connector, tag)
            await cp.charge(1, "11kW")  # no duration: goes on while connector 2 charges
            await cp.charge(2, "7.4kW", "30m")
            connectors = cp.state["connectors"]
            assert (connectors[1]["energy_wh"], connectors[2]["energy_wh"]) == (5500, 3700)

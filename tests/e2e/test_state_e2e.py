"""``mockpoint run --state FILE``: a charge point survives being killed mid-transaction, as a
real one survives a power cut (OCPP 1.6 §4.2 boot first, §4.10 queued transaction messages
delivered after), checked in the mock CSMS's own frame log."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import UNIT
from csms_process import Csms
from mockpoint.cli.main import main
from mockpoint.clock import VirtualClock, parse_timestamp
from mockpoint.csms.server import MockCsms
from mockpoint.errors import UsageError
from mockpoint.ids import SeededIds
from mockpoint.runtime.charge_point import ChargePoint
from mockpoint.runtime.state_file import StateFile
from mockpoint.station.configuration import Configuration
from mockpoint.station.station import Identity, Station
from mockpoint.transport.websocket import connect

HEADER = """name: {name}
charge_point: {{id: CP-STATE, connectors: 1, configuration: {{MeterValueSampleInterval: 60}}}}
clock: {{start: {start}, speed: 0}}
timeout: 5s
steps:
"""

# Charges online for 2 minutes, then offline for 5: five MeterValues queue up. The last
# step waits (real seconds) for a request that cannot come while offline: time to kill it.
CHARGE_THEN_HANG = """  - plug_in: {connector: 1}
  - start_transaction: {connector: 1, id_tag: TAG-1}
    expect: {idTagInfo: {status: Accepted}}
  - charge: {connector: 1, power: 7.2kW, duration: 2m}
  - disconnect: {}
  - charge: {connector: 1, power: 7.2kW, duration: 5m}
  - await: RemoteStartTransaction
    within: 600s
"""

STOP = """  - stop_transaction: {connector: 1}
    expect: {}
  - unplug: {connector: 1}
"""

TRANSACTIONAL = ("StartTransaction", "MeterValues", "StopTransaction")


def scenario(tmp_path: Path, name: str, start: str, steps: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(HEADER.format(name=name, start=start) + steps, encoding="utf-8")
    return path


def mockpoint(*args: str | Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "mockpoint", *map(str, args)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def queued(state: Path) -> list[str]:
    try:
        data = json.loads(state.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return []
    return [message["action"] for message in data["outbox"]]


def received(csms: Csms) -> list[tuple[str, str, dict[str, Any]]]:
    """(unique id, action, payload) of every CALL the CSMS received, in order."""
    return [
        (f["frame"][1], f["frame"][2], f["frame"][3])
        for f in csms.frames()
        if f["direction"] == "in" and isinstance(f["frame"], list) and f["frame"][0] == 2
    ]


@pytest.mark.slow
def test_killed_mid_transaction_it_boots_again_and_delivers_every_message_once(
    tmp_path: Path, csms: Csms
) -> None:
    state = tmp_path / "cp.state.json"
    first = scenario(tmp_path, "charge", "2025-06-01T08:00:00Z", CHARGE_THEN_HANG)
    process = mockpoint("run", first, "--state", state, "--csms", csms.url, log=tmp_path / "1.log")
    try:
        deadline = time.monotonic() + 20 * UNIT
        while queued(state).count("MeterValues") < 5:
            assert process.poll() is None, (tmp_path / "1.log").read_text()
            assert time.monotonic() < deadline, f"queued: {queued(state)}"
            time.sleep(0.02)
    finally:
        process.kill()  # a power cut: no chance to clean up
        process.wait(timeout=10 * UNIT)
    before = [action for _, action, _ in received(csms)]
    assert before.count("MeterValues") == 2  # the online ones; five wait in the file

    second = scenario(tmp_path, "stop", "2025-06-01T09:00:00Z", STOP)
    process = mockpoint("run", second, "--state", state, "--csms", csms.url, log=tmp_path / "2.log")
    try:
        assert process.wait(timeout=30 * UNIT) == 0, (tmp_path / "2.log").read_text()
    finally:
        process.kill()

    calls = received(csms)
    actions = [action for _, action, _ in calls]
    assert actions.count("BootNotification") == 2
    reboot = actions.index("BootNotification", 1)
    transactional = [(action, payload) for _, action, payload in calls if action in TRANSACTIONAL]
    assert [action for action, _ in transactional] == [
        "StartTransaction",
        *["MeterValues"] * 7,
        "StopTransaction",
    ]
    stamps = [p["meterValue"][0]["timestamp"] for a, p in transactional if a == "MeterValues"]
    assert stamps == [f"2025-06-01T08:0{minute}:00Z" for minute in range(1, 8)]  # once, in order
    registers = [
        int(p["meterValue"][0]["sampledValue"][0]["value"])
        for a, p in transactional
        if a == "MeterValues"
    ]
    assert registers == [120 * minute for minute in range(1, 8)]  # 7.2 kW: 120 Wh a minute
    # The queued ones came after the new boot, before the stop (§4.2, §4.10).
    assert actions[reboot + 1 :].count("MeterValues") == 5
    start_id = next(uid for uid, action, _ in calls if action == "StartTransaction")
    answer = next(
        f["frame"]
        for f in csms.frames()
        if f["direction"] == "out" and f["frame"][0] == 3 and f["frame"][1] == start_id
    )
    stop = transactional[-1][1]
    assert stop["transactionId"] == answer[2]["transactionId"]
    assert stop["meterStop"] == 840  # the meter went on from where it was
    assert queued(state) == []


def test_state_with_several_scenarios_is_a_usage_error(tmp_path: Path) -> None:
    one = scenario(tmp_path, "one", "2025-06-01T08:00:00Z", STOP)
    two = scenario(tmp_path, "two", "2025-06-01T08:00:00Z", STOP)
    assert main(["run", str(one), str(two), "--state", str(tmp_path / "s.json")]) == 2
    assert main(["run", str(one), "--state", str(tmp_path / "nowhere" / "s.json")]) == 2


def test_a_broken_state_file_stops_the_run_before_anything_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = scenario(tmp_path, "one", "2025-06-01T08:00:00Z", STOP)
    state = tmp_path / "s.json"
    state.write_text('{"format": "mockpoint-state/1", "charge_point": {"id": "CP-9"}}')
    assert main(["run", str(path), "--state", str(state)]) == 2
    error = capsys.readouterr().err
    assert f"state file {state}: charge_point.connectors: missing" in error.replace("\n", "")


def test_a_state_file_is_written_atomically_and_read_back(tmp_path: Path) -> None:
    state = StateFile(tmp_path / "s.json")
    assert state.load() is None  # a first start
    state.save({"a": 1})
    state.save({"a": 2})
    assert state.load() == {"a": 2}
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]  # no temporary file left
    (tmp_path / "s.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(UsageError, match="s.json: not JSON"):
        state.load()


def test_a_run_saves_the_final_state(tmp_path: Path) -> None:
    path = scenario(tmp_path, "one", "2025-06-01T08:00:00Z", CHARGE_THEN_HANG.split("  - dis")[0])
    state = tmp_path / "s.json"
    assert main(["run", str(path), "--state", str(state), "-q"]) == 0
    data = json.loads(state.read_text(encoding="utf-8"))
    assert data["registration"] == "Accepted"
    assert [t["transaction_id"] for t in data["transactions"] if t["open"]] == [1]
    assert data["meters"]["1"]["register_wh"] == "240"
    # A second run goes on from there: the transaction is still open.
    stop = scenario(tmp_path, "stop", "2025-06-01T09:00:00Z", STOP)
    assert main(["run", str(stop), "--state", str(state), "-q"]) == 0
    data = json.loads(state.read_text(encoding="utf-8"))
    assert data["transactions"] == [] and data["outbox"] == []


class _CheckOnRecord:
    """A frame observer: every CALL of the charge point must be in the state file already."""

    def __init__(self, state: Path) -> None:
        self.state = state
        self.checked: list[str] = []

    def frame(self, direction: str, text: str) -> None:
        frame = json.loads(text)
        if direction != "out" or frame[0] != 2 or frame[2] not in TRANSACTIONAL:
            return
        saved = json.loads(self.state.read_text(encoding="utf-8"))["outbox"]
        assert saved, f"{frame[2]} went out before it was on record"
        first = saved[0]  # the message being sent heads the saved queue
        assert first["action"] == frame[2]
        assert first["payload"].get("meterValue") == frame[3].get("meterValue")
        self.checked.append(frame[2])

    def violation(self, event: object) -> None:
        raise AssertionError(event)


async def test_a_message_is_on_record_before_it_goes_out_and_leaves_after_its_answer(
    tmp_path: Path,
) -> None:
    clock = VirtualClock(parse_timestamp("2025-06-01T08:00:00Z"), speed=0)
    path = tmp_path / "s.json"
    observer = _CheckOnRecord(path)
    state = StateFile(path)
    async with MockCsms(clock=clock) as csms:
        station = Station(
            Identity("CP-REC"),
            clock,
            Configuration({"MeterValueSampleInterval": 60}, number_of_connectors=1),
        )
        cp = ChargePoint(
            station,
            lambda: connect(csms.url, "CP-REC"),
            clock=clock,
            ids=SeededIds(1),
            call_timeout=3 * UNIT,
            observer=observer,
        )
        state.attach(cp)
        await cp.start()
        try:
            async with asyncio.timeout(20 * UNIT):
                await cp.wait_registered(5 * UNIT)
                station.plug_in(1)
                await cp.outcome(station.start_transaction(1, "TAG-1"))
                station.set_power(1, 7_200)
                await cp.go_offline(reconnect_after=200)
                await cp.advance(300)
                await cp.outcome(station.stop_transaction(1))
                await cp.wait_idle()
        finally:
            await cp.stop()
            state.detach()
    assert observer.checked == ["StartTransaction", *["MeterValues"] * 5, "StopTransaction"]
    saved = state.load()
    assert saved is not None and saved["outbox"] == []  # each left after its answer

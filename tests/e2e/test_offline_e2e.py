"""Offline behaviour over loopback WebSockets (OCPP 1.6 §4.7, §4.10; docs/behaviour.md,
"Charge point behaviour"): transaction messages queued while disconnected arrive exactly
once, in their original order, before newer traffic; retries after CALLERRORs; nothing
silently dropped."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import UNIT
from mockpoint.cli.main import main
from mockpoint.clock import VirtualClock, parse_timestamp
from mockpoint.csms.server import MockCsms
from mockpoint.ids import SeededIds
from mockpoint.runtime.charge_point import ChargePoint
from mockpoint.station.configuration import Configuration
from mockpoint.station.station import Identity, Station
from mockpoint.transport.websocket import connect

START = parse_timestamp("2025-06-01T08:00:00Z")
CP = "CP-OFFLINE"
TRANSACTIONAL = ("StartTransaction", "MeterValues", "StopTransaction")


def received_calls(log: Path) -> list[tuple[str, dict[str, Any]]]:
    """(action, payload) of every CALL the CSMS received, from its frame log."""
    calls = []
    for line in log.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        frame = record["frame"]
        if record["direction"] == "in" and isinstance(frame, list) and frame[0] == 2:
            calls.append((frame[2], frame[3]))
    return calls


@pytest.mark.parametrize("outages", [1, 5])
async def test_disconnects_mid_transaction_deliver_every_message_once_in_order(
    tmp_path: Path, outages: int
) -> None:
    log = tmp_path / "csms.jsonl"
    clock = VirtualClock(START, speed=0)
    async with MockCsms(clock=clock, log=str(log)) as csms:
        station = Station(
            Identity(CP),
            clock,
            Configuration({"MeterValueSampleInterval": 60}, number_of_connectors=1),
        )
        cp = ChargePoint(
            station,
            lambda: connect(csms.url, CP),
            clock=clock,
            ids=SeededIds(1),
            call_timeout=3 * UNIT,
        )
        await cp.start()
        try:
            async with asyncio.timeout(20 * UNIT):
                await cp.wait_registered(5)
                station.plug_in(1)
                await cp.outcome(station.start_transaction(1, "TAG-1"))
                station.set_power(1, 7_200)
                for _ in range(outages):
                    await cp.advance(150)  # online: samples flow
                    await cp.go_offline(reconnect_after=330)
                    await cp.advance(400)  # offline for 330 s, then back: the queue drains
                    assert cp.connected
                stop = station.stop_transaction(1)
                await cp.outcome(stop)
                await cp.wait_idle()
        finally:
            await cp.stop()
    assert cp.problems == []
    assert station.undeliverable == []
    calls = [(a, p) for a, p in received_calls(log) if a in TRANSACTIONAL]
    minutes = (outages * (150 + 400)) // 60
    assert [a for a, _ in calls] == [
        "StartTransaction",
        *["MeterValues"] * minutes,
        "StopTransaction",
    ]
    stamps = [p["meterValue"][0]["timestamp"] for a, p in calls if a == "MeterValues"]
    expected = [f"2025-06-01T{8 + m // 60:02d}:{m % 60:02d}:00Z" for m in range(1, minutes + 1)]
    assert stamps == expected  # each sample once, in the order it was taken
    values = [
        int(p["meterValue"][0]["sampledValue"][0]["value"]) for a, p in calls if a == "MeterValues"
    ]
    assert values == [120 * m for m in range(1, minutes + 1)]  # 7.2 kW = 120 Wh a minute
    # Back online without a new boot, as a real charge point: only a reboot boots again.
    assert [a for a, _ in received_calls(log)].count("BootNotification") == 1


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")


def scenario(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: offline\n"
        "charge_point: {id: CP-R, connectors: 1, configuration: "
        "{MeterValueSampleInterval: 60, TransactionMessageAttempts: 2, "
        "TransactionMessageRetryInterval: 30}}\n"
        "clock: {start: 2025-06-01T08:00:00Z, speed: 0}\n"
        "timeout: 3s\n" + body,
        encoding="utf-8",
    )
    return path


def transcript(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_callerror_on_a_transaction_message_is_retried_until_it_is_accepted(
    tmp_path: Path,
) -> None:
    body = """
mock_csms:
  answers: {MeterValues: {error: InternalError, times: 2}}
steps:
  - plug_in: {connector: 1}
  - start_transaction: {connector: 1, id_tag: TAG-1}
  - charge: {connector: 1, power: 6kW, duration: 1m}
  - stop_transaction: {connector: 1}
"""
    out = tmp_path / "t.jsonl"
    assert main(["run", str(scenario(tmp_path, body)), "--transcript", str(out)]) == 0
    records = transcript(out)
    meter_calls = [
        r
        for r in records
        if r["frame"][0] == 2
        and r["frame"][2] == "MeterValues"
        and r["frame"][3]["meterValue"][0]["timestamp"] == "2025-06-01T08:01:00Z"
    ]
    # two CALLERRORs, then accepted: three tries of the same sample, 30 s then 60 s apart
    assert len(meter_calls) == 3
    assert len({json.dumps(r["frame"][3]) for r in meter_calls}) == 1
    assert [r["virtual_time"] for r in meter_calls] == [
        "2025-06-01T08:01:00Z",
        "2025-06-01T08:01:30Z",
        "2025-06-01T08:02:30Z",
    ]
    stop = next(r for r in records if r["frame"][0] == 2 and r["frame"][2] == "StopTransaction")
    assert stop["seq"] > meter_calls[-1]["seq"]  # the queue kept its order


def test_a_transaction_message_that_cannot_be_delivered_fails_the_scenario(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = """
mock_csms:
  answers: {StopTransaction: {error: InternalError}}
steps:
  - plug_in: {connector: 1}
  - start_transaction: {connector: 1, id_tag: TAG-1}
  - stop_transaction: {connector: 1}
"""
    assert main(["run", str(scenario(tmp_path, body))]) == 1
    assert "StopTransaction not delivered after 3 attempt(s)" in capsys.readouterr().out


def test_offline_steps_queue_and_reconnect_delivers_before_newer_traffic(tmp_path: Path) -> None:
    body = """
steps:
  - plug_in: {connector: 1}
  - start_transaction: {connector: 1, id_tag: TAG-1}
  - disconnect:
  - charge: {connector: 1, power: 6kW, duration: 2m}
  - stop_transaction: {connector: 1}
  - expect_state: {connected: false}
  - reconnect:
  - send: Heartbeat
  - expect_state:
      connected: true
      connectors: {1: {status: Finishing, transaction_id: null}}
"""
    out = tmp_path / "t.jsonl"
    assert main(["run", str(scenario(tmp_path, body)), "--transcript", str(out)]) == 0
    sent = [
        r["frame"][2] for r in transcript(out) if r["direction"] == "out" and r["frame"][0] == 2
    ]
    reconnected = sent.index("MeterValues")
    assert sent[reconnected:] == [
        "MeterValues",
        "MeterValues",
        "StopTransaction",
        "StatusNotification",
        "Heartbeat",
    ]

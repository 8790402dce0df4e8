"""Requests a CSMS may legally send that mockpoint does not implement, and DataTransfer, in
scenarios run end to end against the embedded mock CSMS (docs/behaviour.md, "Charge point
behaviour"): answered NotSupported or UnknownVendorId, never failing a step; ``await`` still
sees them and ``reply`` shapes their answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mockpoint.cli.main import main

PROFILE = {
    "connectorId": 1,
    "csChargingProfiles": {
        "chargingProfileId": 7,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}],
        },
    },
}


def scenario(tmp_path: Path, mock_csms: dict[str, Any], steps: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(
        f"""name: pushed requests
charge_point: {{id: CP-U, connectors: 1}}
clock: {{speed: 0}}
timeout: 3s
mock_csms: {json.dumps(mock_csms)}
steps:
{steps}""",
        encoding="utf-8",
    )
    return path


def run(path: Path, tmp_path: Path) -> tuple[int, list[dict[str, Any]], dict[str, Any]]:
    """Exit code, transcript records and the JSON report's one scenario."""
    transcript, report = tmp_path / "t.jsonl", tmp_path / "r.json"
    code = main(["run", str(path), "-q", "--transcript", str(transcript), "--json", str(report)])
    records = [json.loads(line) for line in transcript.read_text(encoding="utf-8").splitlines()]
    (outcome,) = json.loads(report.read_text(encoding="utf-8"))["scenarios"]
    return code, records, outcome


def answer_to(records: list[dict[str, Any]], action: str) -> list[Any]:
    """The charge point's answer frames to the CSMS's requests of ``action``."""
    ids = [
        r["frame"][1]
        for r in records
        if r["direction"] == "in" and r["frame"][0] == 2 and r["frame"][2] == action
    ]
    answers = {r["frame"][1]: r["frame"] for r in records if r["direction"] == "out"}
    return [answers[unique_id] for unique_id in ids]


SESSION = """  - plug_in: {connector: 1}
  - authorize: {id_tag: TAG-001}
  - start_transaction: {connector: 1}
  - charge: {connector: 1, power: 11kW, duration: 10m}
  - stop_transaction: {connector: 1}
  - unplug: {connector: 1}
"""


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("SetChargingProfile", PROFILE),
        ("ClearChargingProfile", {}),
        ("GetCompositeSchedule", {"connectorId": 1, "duration": 3600}),
        (
            "UpdateFirmware",
            {"location": "https://fw.example/1.bin", "retrieveDate": "2030-01-01T00:00:00Z"},
        ),
        ("GetDiagnostics", {"location": "ftp://logs.example/"}),
    ],
)
def test_an_unimplemented_request_pushed_after_boot_fails_no_step(
    tmp_path: Path, action: str, payload: dict[str, Any]
) -> None:
    path = scenario(tmp_path, {"on_boot": [{"action": action, "payload": payload}]}, SESSION)
    code, records, outcome = run(path, tmp_path)
    assert code == 0, outcome
    (answer,) = answer_to(records, action)
    assert answer[0] == 4 and answer[2] == "NotSupported"
    assert outcome["not_supported"] == {action: 1}


def test_data_transfer_is_answered_unknown_vendor_id_and_fails_nothing(tmp_path: Path) -> None:
    pushed = {"action": "DataTransfer", "payload": {"vendorId": "com.example", "data": "x"}}
    code, records, outcome = run(scenario(tmp_path, {"on_boot": [pushed]}, SESSION), tmp_path)
    assert code == 0, outcome
    assert answer_to(records, "DataTransfer") == [
        [3, answer_to(records, "DataTransfer")[0][1], {"status": "UnknownVendorId"}]
    ]
    assert outcome["not_supported"] == {}


def test_await_asserts_that_the_csms_pushed_a_profile(tmp_path: Path) -> None:
    pushed = {"action": "SetChargingProfile", "payload": PROFILE}
    steps = """  - await: SetChargingProfile
    within: 2s
    expect: {csChargingProfiles: {chargingProfilePurpose: TxDefaultProfile}}
"""
    code, _, outcome = run(scenario(tmp_path, {"on_boot": [pushed]}, steps), tmp_path)
    assert code == 0, outcome
    assert outcome["not_supported"] == {"SetChargingProfile": 1}


def test_await_fails_when_the_profile_is_not_what_was_expected(tmp_path: Path) -> None:
    pushed = {"action": "SetChargingProfile", "payload": PROFILE}
    steps = """  - await: SetChargingProfile
    within: 2s
    expect: {csChargingProfiles: {chargingProfilePurpose: TxProfile}}
"""
    code, _, outcome = run(scenario(tmp_path, {"on_boot": [pushed]}, steps), tmp_path)
    assert code == 1
    (failed,) = [step for step in outcome["steps"] if step["status"] == "failed"]
    assert "SetChargingProfile request does not match" in failed["message"]


def triggered_by_heartbeat(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The mock CSMS sends ``action`` after answering the scenario's Heartbeat."""
    return {
        "on_request": [
            {"when": {"action": "Heartbeat"}, "send": {"action": action, "payload": payload}}
        ]
    }


def test_reply_shapes_the_answer_to_an_unimplemented_request(tmp_path: Path) -> None:
    steps = """  - send: Heartbeat
  - await: SetChargingProfile
    within: 2s
    reply: {status: Accepted}
"""
    mock = triggered_by_heartbeat("SetChargingProfile", PROFILE)
    code, records, outcome = run(scenario(tmp_path, mock, steps), tmp_path)
    assert code == 0, outcome
    (answer,) = answer_to(records, "SetChargingProfile")
    assert answer[0] == 3 and answer[2] == {"status": "Accepted"}
    assert outcome["not_supported"] == {}


def test_reply_shapes_a_data_transfer_answer(tmp_path: Path) -> None:
    steps = """  - send: Heartbeat
  - await: DataTransfer
    within: 2s
    expect: {vendorId: com.example}
    reply: {status: Accepted, data: "42"}
"""
    mock = triggered_by_heartbeat("DataTransfer", {"vendorId": "com.example", "messageId": "q"})
    code, records, outcome = run(scenario(tmp_path, mock, steps), tmp_path)
    assert code == 0, outcome
    (answer,) = answer_to(records, "DataTransfer")
    assert answer[2] == {"status": "Accepted", "data": "42"}

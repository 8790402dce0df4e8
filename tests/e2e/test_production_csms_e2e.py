"""mockpoint against a CSMS that behaves like production ones, over real loopback WebSockets:
it pushes a charging profile, a DataTransfer and a GetConfiguration right after the boot,
rejects or parks boots with a short interval and sends requests meanwhile, and deduplicates
by message id. What a CSMS may legally do never fails a scenario; what OCPP 1.6 forbids is
reported (docs/behaviour.md, "Time and ids" and "Charge point behaviour").

The CSMS is ``mockpoint csms`` in a process of its own; its frame log is the CSMS's view.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import UNIT
from csms_process import Csms
from mockpoint.cli.main import main

EXAMPLES = Path(__file__).parents[2] / "examples"

PROFILE = {
    "connectorId": 0,
    "csChargingProfiles": {
        "chargingProfileId": 1,
        "stackLevel": 0,
        "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {
            "chargingRateUnit": "W",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000}],
        },
    },
}


def pushes_after_boot(delay: str) -> str:
    """A CSMS configuration that pushes what production CSMSs push right after a boot."""
    return f"""
deduplicate: true
on_boot:
  - {{action: SetChargingProfile, payload: {json.dumps(PROFILE)}, delay: {delay}}}
  - {{action: DataTransfer, payload: {{vendorId: com.example.csms, messageId: hello}}}}
  - {{action: GetConfiguration, payload: {{}}}}
"""


def answers_to(csms: Csms, action: str) -> list[Any]:
    """The charge point's answers (whole frames) to each request of ``action`` the CSMS sent."""
    frames = csms.frames()
    ids = [
        f["frame"][1]
        for f in frames
        if f["direction"] == "out" and f["frame"][0] == 2 and f["frame"][2] == action
    ]
    by_id = {
        f["frame"][1]: f["frame"]
        for f in frames
        if f["direction"] == "in" and f["frame"][0] in (3, 4)
    }
    return [by_id.get(unique_id) for unique_id in ids]


def wall_times(csms: Csms, action: str) -> list[datetime]:
    """When the CSMS received each CALL of ``action``."""
    return [
        datetime.fromisoformat(f["wall_time"].replace("Z", "+00:00"))
        for f in csms.frames()
        if f["direction"] == "in" and f["frame"][0] == 2 and f["frame"][2] == action
    ]


#: A session at clock speed 1 that lasts about 1.5 s, so a push lands in the middle of it.
REAL_TIME_SESSION = """name: a session in real time
charge_point: {id: CP-PUSHED, connectors: 1, configuration: {MeterValueSampleInterval: 1}}
clock: {speed: 1}
steps:
  - plug_in: {connector: 1}
  - authorize: {id_tag: TAG-001}
    expect: {idTagInfo: {status: Accepted}}
  - start_transaction: {connector: 1}
  - charge: {connector: 1, power: 11kW, duration: 1500ms}
  - stop_transaction: {connector: 1}
  - unplug: {connector: 1}
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("scenario_text", "delay"),
    [(None, "0s"), (REAL_TIME_SESSION, "300ms"), (REAL_TIME_SESSION, "900ms")],
    ids=["example-02-at-once", "mid-session", "while-charging"],
)
def test_requests_pushed_right_after_boot_never_fail_a_scenario(
    tmp_path: Path, scenario_text: str | None, delay: str, capsys: pytest.CaptureFixture[str]
) -> None:
    csms = Csms(tmp_path, pushes_after_boot(delay))
    try:
        scenario = EXAMPLES / "02-plug-in-first-charging.yaml"
        if scenario_text is not None:
            scenario = tmp_path / "session.yaml"
            scenario.write_text(scenario_text, encoding="utf-8")
        report = tmp_path / "report.json"
        code = main(["run", str(scenario), "--csms", csms.url, "--json", str(report)])
        out = capsys.readouterr().out
        assert code == 0, out
        # Answered as OCPP 1.6 says: NotSupported, UnknownVendorId (§5.6), the keys.
        (profile,) = answers_to(csms, "SetChargingProfile")
        assert profile[0] == 4 and profile[2] == "NotSupported"
        (transfer,) = answers_to(csms, "DataTransfer")
        assert transfer[0] == 3 and transfer[2] == {"status": "UnknownVendorId"}
        (configuration,) = answers_to(csms, "GetConfiguration")
        assert configuration[0] == 3 and configuration[2]["configurationKey"]
        assert "not supported here" in out and "SetChargingProfile" in out
        (outcome,) = json.loads(report.read_text(encoding="utf-8"))["scenarios"]
        assert outcome["not_supported"] == {"SetChargingProfile": 1}
    finally:
        csms.stop()


REJECTING = """
boot: {status: [Rejected, Rejected, Accepted], interval: [1, 1, 300]}
call_timeout: 2s
on_request:
  - when: {action: BootNotification}
    send: {action: GetConfiguration, payload: {}}
  - when: {action: BootNotification}
    send: {action: RemoteStartTransaction, payload: {idTag: TAG-001, connectorId: 1}}
"""

HEARTBEAT_AT_SPEED_0 = """name: boot, then a heartbeat
charge_point: {id: CP-REJECTED, connectors: 1}
clock: {speed: 0}
timeout: 10s
steps:
  - send: Heartbeat
    expect: {currentTime: {$type: string}}
"""


@pytest.mark.slow
def test_a_rejected_boot_is_retried_no_sooner_than_its_interval_and_answers_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csms = Csms(tmp_path, REJECTING)
    try:
        scenario = tmp_path / "heartbeat.yaml"
        scenario.write_text(HEARTBEAT_AT_SPEED_0, encoding="utf-8")
        code = main(["run", str(scenario), "--csms", csms.url])
        out = capsys.readouterr().out
        assert code == 0, out
        boots = wall_times(csms, "BootNotification")
        assert len(boots) == 3
        # Clock speed 0, yet the interval the CSMS gave holds in wall time (§4.2).
        gaps = [(b - a).total_seconds() for a, b in zip(boots, boots[1:], strict=False)]
        assert all(gap >= 1 for gap in gaps), gaps
        # While Rejected the charge point answers no request and starts nothing (§4.2).
        assert answers_to(csms, "GetConfiguration") == [None]
        assert answers_to(csms, "RemoteStartTransaction") == [None]
        calls = [f["frame"][2] for f in csms.frames() if f["direction"] == "in"]
        assert "StartTransaction" not in calls
        assert "GetConfiguration" in out  # listed as not answered while Rejected
    finally:
        csms.stop()


PENDING = """
boot: {status: [Pending, Accepted], interval: [1, 300]}
on_request:
  - when: {action: BootNotification}
    send: {action: RemoteStartTransaction, payload: {idTag: TAG-001, connectorId: 1}}
"""


@pytest.mark.slow
def test_remote_start_while_pending_is_rejected_and_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csms = Csms(tmp_path, PENDING)
    try:
        scenario = tmp_path / "heartbeat.yaml"
        scenario.write_text(HEARTBEAT_AT_SPEED_0, encoding="utf-8")
        code = main(["run", str(scenario), "--csms", csms.url])
        out = capsys.readouterr().out
        assert code == 1, out
        assert "RemoteStartTransaction while the boot is Pending" in out
        (answer,) = answers_to(csms, "RemoteStartTransaction")
        assert answer[0] == 3 and answer[2] == {"status": "Rejected"}
        calls = [f["frame"][2] for f in csms.frames() if f["direction"] == "in"]
        assert "StartTransaction" not in calls
    finally:
        csms.stop()


@pytest.mark.slow
def test_runs_against_a_deduplicating_csms_are_new_messages_each_time(tmp_path: Path) -> None:
    csms = Csms(tmp_path, "deduplicate: true\n")
    try:
        scenario = EXAMPLES / "02-plug-in-first-charging.yaml"
        for _ in range(3):
            assert main(["run", str(scenario), "--csms", csms.url, "-q"]) == 0
        calls = csms.calls()
        ids = [unique_id for unique_id, _ in calls]
        assert len(ids) == len(set(ids)), "a message id was used again"
        starts = [
            f["frame"][2]["transactionId"]
            for f in csms.frames()
            if f["direction"] == "out" and f["frame"][0] == 3 and "transactionId" in f["frame"][2]
        ]
        assert starts == [1, 2, 3]
        # A production CSMS treats an 18-month-old StartTransaction as history: the clock
        # starts at the run's wall time.
        (first_start, *_) = [
            f["frame"][3]["timestamp"]
            for f in csms.frames()
            if f["direction"] == "in" and f["frame"][0] == 2 and f["frame"][2] == "StartTransaction"
        ]
        stamped = datetime.fromisoformat(first_start.replace("Z", "+00:00"))
        received = wall_times(csms, "StartTransaction")[0]
        assert abs((received - stamped).total_seconds()) < 60 * UNIT
    finally:
        csms.stop()


@pytest.mark.slow
def test_a_load_run_lists_pushed_requests_as_not_supported_and_passes(tmp_path: Path) -> None:
    csms = Csms(tmp_path, pushes_after_boot("0s"))
    try:
        scenario = EXAMPLES / "02-plug-in-first-charging.yaml"
        out = tmp_path / "load.json"
        code = main(
            ["load", str(scenario), "-n", "4", "--workers", "0", "-q", "--csms", csms.url]
            + ["--duration", "3s", "--json", str(out)]
        )
        data = json.loads(out.read_text(encoding="utf-8"))
        assert code == 0, data["steps"]
        assert data["steps"]["failed"] == 0
        assert data["not_supported"] == {"SetChargingProfile": 4}
        assert data["received"]["DataTransfer"] == 4
    finally:
        csms.stop()

"""CSMS requests mockpoint does not implement are "not supported here" in every report, and
requests left unanswered while the boot was Rejected (OCPP 1.6 §4.2) are listed too; neither
is a failure (docs/behaviour.md, "Charge point behaviour"). The embedded mock CSMS pushes them over
a loopback WebSocket, configured by the scenario's ``mock_csms``."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from mockpoint.cli.main import main
from mockpoint.scenario.outcome import RunOutcome, ScenarioOutcome, Status
from mockpoint.scenario.reports.console import ConsoleReporter

PROFILE = (
    "{connectorId: 0, csChargingProfiles: {chargingProfileId: %d, stackLevel: 0, "
    "chargingProfilePurpose: ChargePointMaxProfile, chargingProfileKind: Absolute, "
    "chargingSchedule: {chargingRateUnit: W, chargingSchedulePeriod: "
    "[{startPeriod: 0, limit: 11000}]}}}"
)

# What production CSMSs do right after a boot: a default charging profile (twice here),
# and a firmware update. The last await makes sure all three have arrived.
PUSHED = f"""name: Pushed after boot
charge_point: {{id: CP-PUSHED}}
clock: {{speed: 0}}
timeout: 5s
mock_csms:
  on_boot:
    - {{action: SetChargingProfile, payload: {PROFILE % 1}}}
    - {{action: SetChargingProfile, payload: {PROFILE % 2}}}
    - {{action: UpdateFirmware, payload: {{location: "ftp://fw.example/1.bin",
        retrieveDate: "2025-06-01T09:00:00Z"}}}}
steps:
  - await: UpdateFirmware
    within: 5s
  - send: Heartbeat
"""

# The first boot is Rejected and the CSMS asks for the configuration anyway: a charge point
# whose boot was Rejected answers nothing (§4.2). The second boot, a second later, passes.
REJECTED_FIRST = """name: Rejected first
charge_point: {id: CP-REJECTED}
clock: {speed: 0}
timeout: 10s
mock_csms:
  call_timeout: 500ms
  boot: {status: [Rejected, Accepted], interval: [1, 300]}
  on_request:
    - when: {action: BootNotification}
      send: {action: GetConfiguration, payload: {}}
steps:
  - send: Heartbeat
"""

NOT_SUPPORTED_LINE = "not supported here: SetChargingProfile ×2, UpdateFirmware ×1"
IGNORED_LINE = "not answered while the boot was Rejected (§4.2): GetConfiguration ×1"


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both scenarios run once with every report written."""
    folder = tmp_path_factory.mktemp("reports")
    (folder / "pushed.yaml").write_text(PUSHED, encoding="utf-8")
    (folder / "rejected.yaml").write_text(REJECTED_FIRST, encoding="utf-8")
    code = main(
        [
            "run",
            "-q",
            str(folder / "pushed.yaml"),
            str(folder / "rejected.yaml"),
            "--json",
            str(folder / "r.json"),
            "--junit",
            str(folder / "j.xml"),
            "--markdown",
            str(folder / "r.md"),
            "--coverage",
            str(folder / "coverage.json"),
        ]
    )
    assert code == 0  # neither is a failure
    return folder


@pytest.mark.slow
def test_json(reports: Path) -> None:
    pushed, rejected = json.loads((reports / "r.json").read_text())["scenarios"]
    assert pushed["not_supported"] == {"SetChargingProfile": 2, "UpdateFirmware": 1}
    assert pushed["ignored"] == {}
    assert rejected["not_supported"] == {}
    assert rejected["ignored"] == {"GetConfiguration": 1}
    assert pushed["status"] == rejected["status"] == "passed"


@pytest.mark.slow
def test_junit_system_out(reports: Path) -> None:
    cases = ET.parse(reports / "j.xml").getroot().findall("testsuite/testcase")
    outputs = [(case.findtext("system-out") or "").splitlines() for case in cases]
    assert NOT_SUPPORTED_LINE in outputs[0] and IGNORED_LINE not in outputs[0]
    assert IGNORED_LINE in outputs[1]
    assert all(case.find("failure") is None for case in cases)


@pytest.mark.slow
def test_markdown(reports: Path) -> None:
    lines = (reports / "r.md").read_text(encoding="utf-8").splitlines()
    assert f"- Pushed after boot: {NOT_SUPPORTED_LINE}" in lines
    assert f"- Rejected first: {IGNORED_LINE}" in lines


@pytest.mark.slow
def test_coverage_lists_them_as_not_supported_not_as_failures(
    reports: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads((reports / "coverage.json").read_text())
    assert document["not_supported"] == [
        {"action": "UpdateFirmware", "direction": "csms_to_cp", "count": 1},
        {"action": "SetChargingProfile", "direction": "csms_to_cp", "count": 2},
    ]
    entries = {(a["action"], a["direction"]): a for a in document["actions"]}
    profile = entries["SetChargingProfile", "csms_to_cp"]
    assert (profile["calls"], profile["not_supported"]) == (2, 2)
    assert profile["errors"] == {"NotSupported": 2}  # as sent
    assert entries["GetConfiguration", "csms_to_cp"]["ignored"] == 1
    untested = {(u["action"], u["direction"]) for u in document["untested"]}
    assert ("SetChargingProfile", "csms_to_cp") not in untested


@pytest.mark.slow
def test_console_and_coverage_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "pushed.yaml"
    path.write_text(PUSHED, encoding="utf-8")
    assert main(["run", "-vv", str(path)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert f"  {NOT_SUPPORTED_LINE}" in lines
    assert not any(line.startswith("  not answered") for line in lines)
    table = out[out.index("OCPP 1.6 coverage") :]
    row = next(line for line in table.splitlines() if "SetChargingProfile" in line)
    assert "NotSupported" not in row  # shown as what it is, not as an error
    assert "not supported here: UpdateFirmware ×1, SetChargingProfile ×2" in " ".join(table.split())


def test_empty_counts_print_nothing() -> None:
    stream = StringIO()
    reporter = ConsoleReporter(Console(file=stream, width=200, color_system=None))
    outcome = ScenarioOutcome("quiet", "q.yaml", "CP-1", Status.PASSED, seed=3)
    reporter.scenario_finished(outcome)
    reporter.run_finished(RunOutcome([outcome]))
    text = stream.getvalue()
    assert "seed 3 (replay with --seed 3)" in text
    assert "not supported" not in text and "not answered" not in text

"""Protocol coverage: counts per action and direction, enum values seen against the OCA
schemas, the untested actions, the JSON document and the console table.

Outcomes are built by hand: two scenarios, the first with two charge points that use the
same unique ids, the second reusing the first one's ids, as a seeded generator does.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from test_reports import ODD_FRAMES

from mockpoint.ocpp16.actions import ACTIONS
from mockpoint.ocpp16.enums import ChargePointStatus
from mockpoint.scenario.outcome import Direction, FrameRecord, RunOutcome, ScenarioOutcome, Status
from mockpoint.scenario.reports.coverage import (
    ActionCoverage,
    Coverage,
    CoverageDirection,
    compute_coverage,
    coverage_json,
    enum_fields,
    render_coverage_table,
    values_at,
    write_coverage,
)

T0 = "2025-06-01T08:00:00Z"
WALL = "2025-01-01T12:00:00.000Z"
IDTAG_STATUSES = ["Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"]


def record(seq: int, cp: str, direction: Direction, body: Any) -> FrameRecord:
    return FrameRecord(seq, cp, direction, body, T0, WALL)


def scenario(frames: list[FrameRecord], name: str = "s") -> ScenarioOutcome:
    return ScenarioOutcome(name, f"{name}.yaml", "CP-1", Status.PASSED, [], frames)


def two_charge_points() -> ScenarioOutcome:
    """CP-1 and CP-2 both use unique ids "1" and "2"; CP-2's answers arrive first."""
    boot = {"chargePointVendor": "Acme", "chargePointModel": "AC22"}
    return scenario(
        [
            record(1, "CP-1", "out", [2, "1", "BootNotification", boot]),
            record(2, "CP-2", "out", [2, "1", "Authorize", {"idTag": "BLOCKED-1"}]),
            record(3, "CP-2", "in", [3, "1", {"idTagInfo": {"status": "Blocked"}}]),
            record(4, "CP-1", "in", [3, "1", {"status": "Accepted", "interval": 300}]),
            # The CSMS's own ids may equal the charge point's: direction keeps them apart.
            record(5, "CP-1", "in", [2, "1", "Reset", {"type": "Hard"}]),
            record(6, "CP-1", "out", [4, "1", "InternalError", "reboot failed", {}]),
            record(7, "CP-2", "out", "not json {"),
            record(8, "CP-2", "out", [2, "2", "StatusNotification", status("Faulted")]),
            record(9, "CP-2", "in", [3, "2", {}]),
        ],
        "two",
    )


def status(value: Any, error_code: Any = "GroundFailure") -> dict[str, Any]:
    return {"connectorId": 1, "status": value, "errorCode": error_code}


def second_scenario() -> ScenarioOutcome:
    """Reuses the unique ids of the first scenario; includes out-of-scope and odd traffic."""
    sampled = [
        {"value": "1", "measurand": "Energy.Active.Import.Register", "context": "Sample.Periodic"},
        {"value": "2", "measurand": "Power.Active.Import", "context": "Sample.Periodic"},
    ]
    meter = {"connectorId": 1, "meterValue": [{"timestamp": T0, "sampledValue": sampled}]}
    return scenario(
        [
            record(1, "CP-1", "out", [2, "1", "Authorize", {"idTag": "TAG-1"}]),
            record(2, "CP-1", "in", [3, "1", {"idTagInfo": {"status": "Accepted"}}]),
            # A second answer to the same CALL: the CSMS's mistake, not a second result.
            record(3, "CP-1", "in", [3, "1", {"idTagInfo": {"status": "Accepted"}}]),
            record(4, "CP-1", "in", [3, "nobody", {}]),
            record(5, "CP-1", "out", [2, "2", "MeterValues", meter]),
            record(6, "CP-1", "in", [3, "2", {}]),
            record(7, "CP-1", "out", [2, "3", "StatusNotification", status("Broken", 7)]),
            record(8, "CP-1", "in", [2, "d", "DataTransfer", {"vendorId": "X"}]),
            record(9, "CP-1", "out", [4, "d", "NotSupported", "", {}]),
            record(10, "CP-1", "in", [2, "f", "FrobnicateNow", {}]),
            record(11, "CP-1", "out", [4, "f", "NotImplemented", "", {}]),
            record(12, "CP-1", "in", [2, "b", "BootNotification", {}]),
            record(13, "CP-1", "out", [4, "b", "NotSupported", "", {}]),
            record(14, "CP-1", "out", [2, "1"]),
        ],
        "second",
    )


@pytest.fixture
def coverage() -> Coverage:
    return compute_coverage(RunOutcome([two_charge_points(), second_scenario()]))


def entry(
    coverage: Coverage, action: str, direction: CoverageDirection = "cp_to_csms"
) -> ActionCoverage:
    found = coverage.find(action, direction)
    assert found is not None, (action, direction)
    return found


def seen(item: ActionCoverage, message: str, path: str) -> dict[str, int]:
    [match] = [f for f in item.fields if f.message == message and f.path == path]
    return match.seen


def missing(item: ActionCoverage, message: str, path: str) -> list[str]:
    [match] = [f for f in item.fields if f.message == message and f.path == path]
    return match.missing


# --- allowed values from the schemas ---------------------------------------------------


def test_enum_fields_come_from_the_schemas() -> None:
    assert enum_fields("BootNotification", True) == (
        ("status", ("Accepted", "Pending", "Rejected")),
    )
    assert enum_fields("BootNotification", False) == ()
    assert dict(enum_fields("Authorize", True)) == {"idTagInfo.status": tuple(IDTAG_STATUSES)}
    request = dict(enum_fields("StatusNotification", False))
    assert set(request["status"]) == set(ChargePointStatus)
    assert "GroundFailure" in request["errorCode"]
    paths = [path for path, _ in enum_fields("MeterValues", False)]
    assert "meterValue[].sampledValue[].measurand" in paths
    assert "meterValue[].sampledValue[].context" in paths
    assert dict(enum_fields("SendLocalList", False))["updateType"] == ("Differential", "Full")
    assert "requestedMessage" in dict(enum_fields("TriggerMessage", False))


def test_enum_fields_follow_local_refs_and_tolerate_unknown_actions() -> None:
    # The security whitepaper's schemas put their enums under "definitions".
    assert dict(enum_fields("GetLog", False))["logType"] == ("DiagnosticsLog", "SecurityLog")
    assert enum_fields("FrobnicateNow", False) == ()


def test_values_at_walks_arrays_and_ignores_wrong_shapes() -> None:
    payload = {"a": [{"b": [{"c": "x"}, {"c": "y"}, {}]}, {"b": "not a list"}, 5]}
    assert list(values_at(payload, "a[].b[].c")) == ["x", "y"]
    assert list(values_at({"idTagInfo": "flat"}, "idTagInfo.status")) == []
    assert list(values_at(None, "status")) == []


# --- counts ---------------------------------------------------------------------------


def test_boot_accepted(coverage: Coverage) -> None:
    boot = entry(coverage, "BootNotification")
    assert (boot.calls, boot.results, boot.errors) == (1, 1, {})
    assert seen(boot, "response", "status") == {"Accepted": 1}
    assert missing(boot, "response", "status") == ["Pending", "Rejected"]
    assert boot.in_scope


def test_authorize_paired_per_charge_point_and_per_scenario(coverage: Coverage) -> None:
    authorize = entry(coverage, "Authorize")
    # CP-2's Blocked and the second scenario's Accepted; the duplicate answer is unmatched.
    assert (authorize.calls, authorize.results, authorize.unanswered) == (2, 2, 0)
    assert seen(authorize, "response", "idTagInfo.status") == {"Accepted": 1, "Blocked": 1}
    assert missing(authorize, "response", "idTagInfo.status") == [
        "Expired",
        "Invalid",
        "ConcurrentTx",
    ]
    # CP-1's boot answer (same id "1") went to the boot, not to CP-2's Authorize.
    assert seen(entry(coverage, "BootNotification"), "response", "status") == {"Accepted": 1}


def test_csms_reset_answered_with_callerror(coverage: Coverage) -> None:
    reset = entry(coverage, "Reset", "csms_to_cp")
    assert (reset.calls, reset.results, reset.errors) == (1, 0, {"InternalError": 1})
    assert seen(reset, "request", "type") == {"Hard": 1}
    assert missing(reset, "request", "type") == ["Soft"]
    assert seen(reset, "response", "status") == {}
    assert missing(reset, "response", "status") == ["Accepted", "Rejected"]
    assert coverage.find("Reset", "cp_to_csms") is None


def test_request_values_at_depth_and_outside_the_schema(coverage: Coverage) -> None:
    notification = entry(coverage, "StatusNotification")
    assert (notification.calls, notification.results) == (2, 1)
    assert notification.unanswered == 1
    # "Broken" is no ChargePointStatus: seen, but it covers nothing.
    assert seen(notification, "request", "status") == {"Faulted": 1, "Broken": 1}
    assert "Faulted" not in missing(notification, "request", "status")
    assert len(missing(notification, "request", "status")) == len(ChargePointStatus) - 1
    assert seen(notification, "request", "errorCode") == {"GroundFailure": 1, "7": 1}
    meter = entry(coverage, "MeterValues")
    assert seen(meter, "request", "meterValue[].sampledValue[].context") == {"Sample.Periodic": 2}
    # Schema order, not arrival order.
    assert list(seen(meter, "request", "meterValue[].sampledValue[].measurand")) == [
        "Energy.Active.Import.Register",
        "Power.Active.Import",
    ]
    assert seen(meter, "request", "meterValue[].sampledValue[].unit") == {}


def test_raw_malformed_and_unmatched_frames(coverage: Coverage) -> None:
    assert coverage.raw_frames == 1
    assert coverage.malformed_frames == 1
    # The duplicate Authorize answer and the answer to "nobody".
    assert coverage.unmatched_answers == 2


def test_out_of_scope_wrong_direction_and_unknown_actions_listed_when_seen(
    coverage: Coverage,
) -> None:
    data = entry(coverage, "DataTransfer", "csms_to_cp")
    assert (data.in_scope, data.calls, data.errors) == (False, 1, {"NotSupported": 1})
    assert coverage.find("DataTransfer", "cp_to_csms") is None
    backwards = entry(coverage, "BootNotification", "csms_to_cp")
    assert (backwards.in_scope, backwards.errors) == (False, {"NotSupported": 1})
    unknown = coverage.actions[-1]
    assert (unknown.action, unknown.direction, unknown.in_scope) == (
        "FrobnicateNow",
        "csms_to_cp",
        False,
    )
    assert (unknown.errors, unknown.fields) == ({"NotImplemented": 1}, [])
    assert coverage.find("UpdateFirmware", "csms_to_cp") is None


def test_untested_actions(coverage: Coverage) -> None:
    untested = {(item.action, item.direction) for item in coverage.untested}
    assert ("ClearCache", "csms_to_cp") in untested
    assert ("Heartbeat", "cp_to_csms") in untested
    assert ("StartTransaction", "cp_to_csms") in untested
    tested = {("BootNotification", "cp_to_csms"), ("Authorize", "cp_to_csms")}
    assert not tested & untested
    assert not {action for action, _ in untested} & {"DataTransfer", "FrobnicateNow"}


def test_empty_run_leaves_every_supported_action_untested() -> None:
    coverage = compute_coverage(RunOutcome())
    expected = [name for name, info in ACTIONS.items() if info.supported]
    assert [item.action for item in coverage.untested] == expected
    assert (coverage.raw_frames, coverage.malformed_frames, coverage.unmatched_answers) == (0, 0, 0)


def test_odd_frames_are_counted_never_raised_on() -> None:
    frames = [
        record(i, "CP-1", "in" if i % 2 else "out", body) for i, body in enumerate(ODD_FRAMES)
    ]
    coverage = compute_coverage(RunOutcome([scenario(frames)]))
    total = coverage.raw_frames + coverage.malformed_frames + coverage.unmatched_answers
    # Every frame is raw, malformed, a CALL, or an answer, paired or not.
    calls = sum(item.calls + item.results + item.error_count for item in coverage.actions)
    assert total + calls == len(ODD_FRAMES)
    render_coverage_table(coverage, Console(file=io.StringIO(), width=200))


# --- JSON -----------------------------------------------------------------------------


def test_json_document(coverage: Coverage, tmp_path: Path) -> None:
    path = tmp_path / "reports" / "coverage.json"
    write_coverage(coverage, path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith('{\n  "version": 1,\n  "actions": [\n    {\n      "action"')
    document = json.loads(text)
    assert document == coverage_json(coverage)
    assert list(document) == ["version", "actions", "untested", "not_supported", "frames"]
    assert document["not_supported"] == []
    assert document["frames"] == {"raw": 1, "malformed": 1, "unmatched": 2}
    boot = document["actions"][1]
    assert boot == {
        "action": "BootNotification",
        "direction": "cp_to_csms",
        "calls": 1,
        "results": 1,
        "errors": {},
        "not_supported": 0,
        "ignored": 0,
        "fields": [
            {
                "message": "response",
                "path": "status",
                "seen": {"Accepted": 1},
                "missing": ["Pending", "Rejected"],
            }
        ],
    }
    # ACTIONS order; within an action, charge point to CSMS first; unknown actions last.
    order = list(ACTIONS)
    names = [item["action"] for item in document["actions"]]
    assert names[:2] == ["Authorize", "BootNotification"]
    assert names[2] == "BootNotification"
    assert document["actions"][2]["direction"] == "csms_to_cp"
    known = [order.index(name) for name in names if name in ACTIONS]
    assert known == sorted(known)
    assert names[-1] == "FrobnicateNow"
    assert {"action": "ClearCache", "direction": "csms_to_cp"} in document["untested"]
    for item in document["actions"]:
        for field in item["fields"]:
            assert field["message"] in ("request", "response")


def test_json_is_deterministic() -> None:
    def render() -> str:
        run = RunOutcome([two_charge_points(), second_scenario()])
        return json.dumps(coverage_json(compute_coverage(run)))

    assert render() == render()


# --- console --------------------------------------------------------------------------


def table(coverage: Coverage) -> str:
    console = Console(file=io.StringIO(), width=200, force_terminal=False)
    render_coverage_table(coverage, console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(text, str)
    return text


def test_console_table(coverage: Coverage) -> None:
    text = table(coverage)
    assert "OCPP 1.6 coverage" in text
    assert "conf status 1/3: Accepted — missing Pending, Rejected" in text
    assert (
        "conf idTagInfo.status 2/5: Accepted, Blocked — missing Expired, Invalid, ConcurrentTx"
        in text
    )
    assert "req type 1/2: Hard — missing Soft" in text
    assert "InternalError ×1" in text
    assert "not in schema: Broken" in text
    assert "CSMS → CP" in text and "CP → CSMS" in text
    assert "not exercised" in text
    # 22 measurands: the cell lists a few and says how many more.
    assert "(+12 more)" in text
    lines = text.splitlines()
    footer = lines[-1]
    assert footer.startswith("5/20 in-scope action directions exercised; 15 untested")
    assert "1 raw text frame; 1 malformed frame; 2 answers to no CALL seen" in footer


def test_console_table_prints_peer_text_literally() -> None:
    frames = [
        record(1, "CP-1", "in", [2, "x", "[bold red]Evil\x1b[31m", {}]),
        record(2, "CP-1", "out", [4, "x", "[link=x]Code", "", {}]),
    ]
    text = table(compute_coverage(RunOutcome([scenario(frames)])))
    assert "[bold red]Evil\\u001b[31m" in text
    assert "[link=x]Code ×1" in text
    assert "\x1b" not in text

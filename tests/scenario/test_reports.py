"""The file reports of ``mockpoint run``: JUnit XML, JSON summary, transcript.

The outcomes are built by hand (no runner involved) and shared with
``test_reports_markdown.py`` and ``test_reports_console.py``: a passing scenario, a failing
one with a failure tolerated by ``continue_on_failure`` before the failure that counts, an
unreachable one and one where mockpoint broke. Their frames include raw text, a CALLERROR
and malformed arrays, because a report is read most when the CSMS misbehaved.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from mockpoint.scenario.outcome import (
    Direction,
    FrameRecord,
    RunOutcome,
    ScenarioOutcome,
    Status,
    StepOutcome,
)
from mockpoint.scenario.reports import (
    TranscriptWriter,
    json_summary,
    transcript_line,
    write_json,
    write_junit,
)

T0 = "2025-06-01T08:00:00Z"
WALL = "2025-01-01T12:00:00.000Z"

#: Frames a broken CSMS or a send_raw step can produce: no report may raise on them.
ODD_FRAMES: list[Any] = [
    "not json {",
    "",
    "\x1b[31mred\x00",
    "\ud800 lone surrogate",
    [],
    [2],
    [3, "x"],
    [4],
    [2, "1", 5, {}],
    [2, 7, "Heartbeat", {}],
    [3, "1", None, "extra"],
    [4, "1", 7, "x", {}],
    [4, "1", "GenericError"],
    [9, "1", "Heartbeat", {}],
    [2, "m", "MeterValues", {"meterValue": {"not": "a list"}}],
    [2, "s", "StatusNotification", []],
    [2, "b", "BootNotification", None],
    [3, "b", "not a dict"],
    {"an": "object"},
    None,
    42,
    3.5,
]


def frame(seq: int, direction: Direction, body: Any, *, cp: str = "CP-002") -> FrameRecord:
    minute = f"{seq:02d}"
    return FrameRecord(seq, cp, direction, body, f"2025-06-01T08:{minute}:00Z", WALL)


def passing_scenario() -> ScenarioOutcome:
    frames = [
        frame(1, "out", [2, "1", "Heartbeat", {}], cp="CP-001"),
        frame(2, "in", [3, "1", {"currentTime": T0}], cp="CP-001"),
    ]
    steps = [
        StepOutcome(1, "send", "send Heartbeat", "scenarios/pass.yaml:5:5", Status.PASSED, 0.012),
        StepOutcome(2, "wait", "wait 5m", "scenarios/pass.yaml:6:5", Status.PASSED, 0.0),
    ]
    return ScenarioOutcome(
        "Ladevorgang ü ✓", "scenarios/pass.yaml", "CP-001", Status.PASSED, steps, frames, 0.25
    )


def failing_frames() -> list[FrameRecord]:
    boot = {"chargePointVendor": "Acme", "chargePointModel": "AC22"}
    bodies: list[tuple[Direction, Any]] = [
        ("out", [2, "1", "BootNotification", boot]),
        ("in", [3, "1", {"status": "Accepted", "currentTime": T0, "interval": 300}]),
        ("out", [2, "2", "Authorize", {"idTag": 'TAG;#1"<x>'}]),
        ("in", [3, "2", {"idTagInfo": {"status": "Blocked"}}]),
        ("out", "not json {"),
        ("in", [2, "c1", "DataTransfer", {"vendorId": "x"}]),
        ("out", [4, "c1", "NotSupported", "DataTransfer is out of scope", {}]),
        ("in", [2]),
    ]
    return [frame(seq, direction, body) for seq, (direction, body) in enumerate(bodies, 1)]


def failing_scenario() -> ScenarioOutcome:
    frames = failing_frames()
    file = "scenarios/fail.yaml"
    steps = [
        StepOutcome(1, "send", "send BootNotification", f"{file}:5:5", Status.PASSED, 0.02),
        StepOutcome(
            2,
            "send",
            "send Authorize",
            f"{file}:7:5",
            Status.FAILED,
            0.01,
            message="idTagInfo.status: expected Accepted, got Blocked",
            expected={"idTagInfo": {"status": "Accepted"}},
            actual={"idTagInfo": {"status": "Blocked"}},
            frames_before=frames[0:3],
            tolerated=True,
        ),
        StepOutcome(3, "send_raw", "send_raw", f"{file}:10:5", Status.PASSED, 0.001),
        StepOutcome(
            4,
            "await",
            "await RemoteStartTransaction",
            f"{file}:11:5",
            Status.FAILED,
            1.5,
            message="no RemoteStartTransaction within 1.5 s\nthe CSMS sent DataTransfer instead",
            expected="RemoteStartTransaction",
            actual=("DataTransfer", {"vendorId": "x"}),
            frames_before=frames[4:7],
        ),
        StepOutcome(5, "wait", "wait 5m", f"{file}:14:5", Status.SKIPPED),
    ]
    return ScenarioOutcome("Blocked tag", file, "CP-002", Status.FAILED, steps, frames, 1.6)


def unreachable_scenario() -> ScenarioOutcome:
    steps = [StepOutcome(1, "send", "send Heartbeat", "down.yaml:4:5", Status.SKIPPED)]
    error = "connection refused: ws://127.0.0.1:9/ocpp/CP-003"
    return ScenarioOutcome(
        "Down", "down.yaml", "CP-003", Status.UNREACHABLE, steps, [], 10.0, error=error
    )


def error_scenario() -> ScenarioOutcome:
    frames = [frame(1, "out", [2, "1", "Heartbeat", {}], cp="CP-004")]
    steps = [StepOutcome(1, "send", "send Heartbeat", "bug.yaml:4:5", Status.PASSED, 0.003)]
    error = "Traceback (most recent call last):\n  ...\nRuntimeError: boom"
    return ScenarioOutcome(
        "Bug", "bug.yaml", "CP-004", Status.ERROR, steps, frames, 0.1, error=error
    )


def full_run() -> RunOutcome:
    scenarios = [passing_scenario(), failing_scenario(), unreachable_scenario(), error_scenario()]
    return RunOutcome(scenarios, duration=3.5)


def odd_run() -> RunOutcome:
    """Every odd frame, in a scenario's frames and before a failing step."""
    frames = [
        frame(seq, "in" if seq % 2 else "out", body) for seq, body in enumerate(ODD_FRAMES, 1)
    ]
    step = StepOutcome(
        1,
        "send_raw",
        "send_raw \x1b[2J",
        "odd.yaml:3:5",
        Status.FAILED,
        message="the CSMS answered garbage \ud800",
        expected={("tuple", "key"): {1, 2}},
        actual=object(),
        frames_before=frames,
    )
    scenario = ScenarioOutcome("Odd \x00", "odd.yaml", "CP-002", Status.FAILED, [step], frames)
    return RunOutcome([scenario], 0.5)


# JUnit


def parse_junit(run: RunOutcome, tmp_path: Path) -> ET.Element:
    path = tmp_path / "reports" / "junit.xml"
    write_junit(run, path)
    assert path.read_bytes().startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ET.parse(path).getroot()


def test_junit_counts_and_attributes(tmp_path: Path) -> None:
    root = parse_junit(full_run(), tmp_path)
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert len(suites) == 1
    suite = suites[0]
    expected = {
        "name": "mockpoint",
        "tests": "4",
        "failures": "1",
        "errors": "2",
        "skipped": "0",
        "time": "3.500",
    }
    assert suite.attrib == expected
    assert root.attrib == expected
    cases = suite.findall("testcase")
    assert [(c.get("classname"), c.get("name"), c.get("time")) for c in cases] == [
        ("scenarios.pass", "Ladevorgang ü ✓", "0.250"),
        ("scenarios.fail", "Blocked tag", "1.600"),
        ("down", "Down", "10.000"),
        ("bug", "Bug", "0.100"),
    ]
    assert cases[0].get("file") == "scenarios/pass.yaml"
    assert cases[0].find("failure") is None and cases[0].find("error") is None


def test_junit_failure_names_the_first_failing_step_and_shows_the_frames(
    tmp_path: Path,
) -> None:
    case = parse_junit(full_run(), tmp_path).findall("testsuite/testcase")[1]
    failure = case.find("failure")
    assert failure is not None and case.find("error") is None
    assert failure.get("message") == (
        "scenarios/fail.yaml:7:5: idTagInfo.status: expected Accepted, got Blocked"
    )
    text = failure.text or ""
    # Every failing step, tolerated or not, with what was expected and what arrived.
    assert "step 2 send Authorize at scenarios/fail.yaml:7:5" in text
    assert "tolerated by continue_on_failure" in text
    assert "step 4 await RemoteStartTransaction at scenarios/fail.yaml:11:5" in text
    assert "the CSMS sent DataTransfer instead" in text
    assert '{"idTagInfo":{"status":"Accepted"}}' in text
    assert '["DataTransfer",{"vendorId":"x"}]' in text
    # The frames before each failure, one per line, answers named after their CALL...
    assert "BootNotification ✓" in text
    assert '"not json {"' in text
    assert "DataTransfer ✗ NotSupported" in text
    # ... and the frames just after.
    assert "frames after:" in text
    frame_lines = [line for line in text.splitlines() if "CP → CSMS" in line or "CSMS → CP" in line]
    # Step 2: three before, three after; step 4: three before, the one frame left after.
    assert len(frame_lines) == 3 + 3 + 3 + 1


def test_junit_unreachable_and_internal_errors(tmp_path: Path) -> None:
    cases = parse_junit(full_run(), tmp_path).findall("testsuite/testcase")
    unreachable = cases[2].find("error")
    assert unreachable is not None and cases[2].find("failure") is None
    assert unreachable.get("type") == "unreachable"
    assert unreachable.get("message") == "connection refused: ws://127.0.0.1:9/ocpp/CP-003"
    internal = cases[3].find("error")
    assert internal is not None
    assert internal.get("type") == "internal"
    assert internal.get("message") == "RuntimeError: boom"
    assert "RuntimeError: boom" in (internal.text or "")


def test_junit_system_out_has_a_line_per_step(tmp_path: Path) -> None:
    case = parse_junit(full_run(), tmp_path).findall("testsuite/testcase")[1]
    output = case.findtext("system-out") or ""
    lines = output.splitlines()
    assert len(lines) == 5
    assert lines[0].startswith("passed") and "scenarios/fail.yaml:5:5" in lines[0]
    assert lines[1].startswith("failed (tolerated)") and "send Authorize" in lines[1]
    assert lines[4].startswith("skipped") and "wait 5m" in lines[4]


def test_junit_parses_whatever_the_frames_held(tmp_path: Path) -> None:
    root = parse_junit(odd_run(), tmp_path)
    case = root.find("testsuite/testcase")
    assert case is not None and case.get("name") == "Odd \\u0000"
    failure = case.find("failure")
    assert failure is not None
    assert "\\u001b[31mred\\u0000" in (failure.text or "")


def test_junit_of_an_empty_run(tmp_path: Path) -> None:
    root = parse_junit(RunOutcome(), tmp_path)
    assert root.find("testsuite") is not None and root.get("tests") == "0"


# JSON


STEP_KEYS = [
    "index",
    "kind",
    "label",
    "location",
    "status",
    "duration",
    "message",
    "expected",
    "actual",
    "tolerated",
]


def test_json_report_structure(tmp_path: Path) -> None:
    path = tmp_path / "out" / "report.json"
    write_json(full_run(), path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith('{\n  "version": 1,\n  "exit_code": 4,')
    assert "Ladevorgang ü ✓" in text  # UTF-8, not \u escapes
    report = json.loads(text)
    assert list(report) == ["version", "exit_code", "duration", "summary", "scenarios"]
    assert report["duration"] == 3.5
    assert report["summary"] == {
        "passed": 1,
        "failed": 1,
        "unreachable": 1,
        "error": 1,
        "skipped": 0,
        "not_applicable": 0,
        "total": 4,
    }
    scenario_keys = [
        "name",
        "file",
        "cp",
        "status",
        "duration",
        "error",
        "reason",
        "seed",
        "not_supported",
        "ignored",
        "steps",
    ]
    assert all(list(s) == scenario_keys for s in report["scenarios"])
    assert [s["status"] for s in report["scenarios"]] == [
        "passed",
        "failed",
        "unreachable",
        "error",
    ]
    failing = report["scenarios"][1]
    assert failing["name"] == "Blocked tag" and failing["cp"] == "CP-002"
    assert all(list(step) == STEP_KEYS for step in failing["steps"])
    assert failing["steps"][1] == {
        "index": 2,
        "kind": "send",
        "label": "send Authorize",
        "location": "scenarios/fail.yaml:7:5",
        "status": "failed",
        "duration": 0.01,
        "message": "idTagInfo.status: expected Accepted, got Blocked",
        "expected": {"idTagInfo": {"status": "Accepted"}},
        "actual": {"idTagInfo": {"status": "Blocked"}},
        "tolerated": True,
    }
    assert failing["steps"][3]["actual"] == ["DataTransfer", {"vendorId": "x"}]
    assert report["scenarios"][2]["error"].startswith("connection refused")
    assert json_summary(full_run()) == report


def test_json_exit_codes() -> None:
    assert json_summary(RunOutcome([passing_scenario()]))["exit_code"] == 0
    assert json_summary(RunOutcome([passing_scenario(), failing_scenario()]))["exit_code"] == 1
    assert json_summary(RunOutcome([unreachable_scenario()]))["exit_code"] == 3


def test_json_report_of_odd_values(tmp_path: Path) -> None:
    path = tmp_path / "odd.json"
    write_json(odd_run(), path)
    step = json.loads(path.read_text(encoding="utf-8"))["scenarios"][0]["steps"][0]
    assert step["message"] == "the CSMS answered garbage \ud800"
    assert step["expected"] == {'["tuple","key"]': [1, 2]}
    assert step["actual"].startswith("<object object")


# Transcript

KEYS = ["seq", "cp", "direction", "frame", "virtual_time", "wall_time"]


def test_transcript_lines(tmp_path: Path) -> None:
    path = tmp_path / "transcript.jsonl"
    records = passing_scenario().frames + failing_frames()
    with TranscriptWriter(path) as transcript:
        for record in records:
            transcript.write(record)
        # Flushed line by line: readable while the run goes on.
        assert len(path.read_text(encoding="utf-8").splitlines()) == len(records)
    assert transcript.closed
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(records)
    for line, record in zip(lines, records, strict=True):
        parsed = json.loads(line)
        assert list(parsed) == KEYS
        assert parsed == record.to_json()
        assert line == json.dumps(parsed, separators=(",", ":"), ensure_ascii=False)
    assert lines[0] == (
        '{"seq":1,"cp":"CP-001","direction":"out","frame":[2,"1","Heartbeat",{}],'
        f'"virtual_time":"2025-06-01T08:01:00Z","wall_time":"{WALL}"}}'
    )
    # A raw text frame is a JSON string.
    assert json.loads(lines[6])["frame"] == "not json {"


def test_transcript_encoding(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    records = [
        frame(1, "in", [2, "1", "Authorize", {"idTag": "Größe"}]),
        frame(2, "in", "broken \ud800 text\n"),
    ]
    transcript = TranscriptWriter(path)
    for record in records:
        transcript.write(record)
    transcript.close()
    transcript.close()
    data = path.read_bytes()
    assert "Größe".encode() in data
    lines = data.decode("utf-8").splitlines()
    assert [json.loads(line)["frame"] for line in lines] == [record.frame for record in records]
    assert transcript_line(records[0]) == lines[0]


def test_transcript_truncates_an_old_file(tmp_path: Path) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text("old\n")
    with TranscriptWriter(path):
        pass
    assert path.read_text() == ""

"""The live console report at each verbosity, fed the way the runner feeds it."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from test_reports import ODD_FRAMES, frame, full_run, odd_run, passing_scenario

from mockpoint.scenario.outcome import RunOutcome, ScenarioOutcome, Status, StepOutcome
from mockpoint.scenario.reports import ConsoleReporter, NullReporter, Reporter

WIDTH = 120


def replay(reporter: Reporter, run: RunOutcome) -> None:
    """Drive ``reporter`` as the runner does: each step after the frames before it."""
    for scenario in run.scenarios:
        reporter.scenario_started(scenario.name, scenario.file, scenario.cp)
        shown = 0
        for step in scenario.steps:
            last = step.frames_before[-1].seq if step.frames_before else 0
            while shown < len(scenario.frames) and scenario.frames[shown].seq <= last:
                reporter.frame(scenario.frames[shown])
                shown += 1
            reporter.step_finished(step)
        for record in scenario.frames[shown:]:
            reporter.frame(record)
        reporter.scenario_finished(scenario)
    reporter.run_finished(run)


def output(run: RunOutcome, verbosity: int, *, terminal: bool = False) -> str:
    # A terminal without colours, so that the text compares as text.
    console = Console(file=io.StringIO(), width=WIDTH, force_terminal=terminal, color_system=None)
    replay(ConsoleReporter(console, verbosity), run)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(text, str)
    return text


SUMMARY = "1 passed, 1 failed, 1 unreachable, 1 error in 3.50 s"


def test_default_shows_scenarios_and_steps() -> None:
    text = output(full_run(), 0)
    lines = text.splitlines()
    assert "▶ Ladevorgang ü ✓  scenarios/pass.yaml · CP-001" in lines
    assert "  ✓ send Heartbeat  scenarios/pass.yaml:5:5  12 ms" in lines
    assert "✓ passed Ladevorgang ü ✓  2/2 steps, 250 ms" in lines
    assert "  ✗ send Authorize  scenarios/fail.yaml:7:5  10 ms  (tolerated)" in lines
    assert "  ✗ await RemoteStartTransaction  scenarios/fail.yaml:11:5  1.50 s" in lines
    assert "  - wait 5m  scenarios/fail.yaml:14:5  skipped" in lines
    assert "✗ failed Blocked tag  2/5 steps, 1.60 s" in lines
    assert "⚠ unreachable Down  no steps, 10.00 s" not in lines  # it has a (skipped) step
    assert "⚠ unreachable Down  0/1 steps, 10.00 s" in lines
    assert "      connection refused: ws://127.0.0.1:9/ocpp/CP-003" in lines
    assert SUMMARY in lines
    # No frame lines at this verbosity, except those just before a failure.
    assert "Heartbeat ✓" not in text


def test_failure_details() -> None:
    lines = output(full_run(), 0).splitlines()
    start = lines.index("  ✗ send Authorize  scenarios/fail.yaml:7:5  10 ms  (tolerated)")
    assert lines[start + 1 : start + 6] == [
        "      at scenarios/fail.yaml:7:5",
        "      idTagInfo.status: expected Accepted, got Blocked",
        '      expected: {"idTagInfo":{"status":"Accepted"}}',
        '      actual:   {"idTagInfo":{"status":"Blocked"}}',
        "      frames before:",
    ]
    frames = lines[start + 6 : start + 9]
    assert frames[0].split() == ["08:01:00", "CP", "→", "CSMS", "BootNotification", "Acme", "AC22"]
    assert frames[1].split()[:6] == ["08:02:00", "CSMS", "→", "CP", "BootNotification", "✓"]
    assert frames[2].split()[4:] == ["Authorize", 'TAG;#1"<x>']
    start = lines.index("  ✗ await RemoteStartTransaction  scenarios/fail.yaml:11:5  1.50 s")
    assert lines[start + 1 : start + 4] == [
        "      at scenarios/fail.yaml:11:5",
        "      no RemoteStartTransaction within 1.5 s",
        "      the CSMS sent DataTransfer instead",
    ]
    assert "DataTransfer ✗ NotSupported" in lines[start + 9]


def test_quiet_shows_failures_and_the_summary() -> None:
    text = output(full_run(), -1)
    lines = text.splitlines()
    assert "▶" not in text and "send Heartbeat" not in text
    assert "  ✗ Blocked tag › send Authorize  scenarios/fail.yaml:7:5  10 ms  (tolerated)" in lines
    assert "      idTagInfo.status: expected Accepted, got Blocked" in lines
    assert "⚠ Down  unreachable" in lines
    assert "‼ Bug  error" in lines and "      RuntimeError: boom" in lines
    assert lines[-4:] == [
        SUMMARY,
        "  ✗ Blocked tag  scenarios/fail.yaml:7:5: idTagInfo.status: expected Accepted, got"
        " Blocked",
        "  ⚠ Down  down.yaml: connection refused: ws://127.0.0.1:9/ocpp/CP-003",
        "  ‼ Bug  bug.yaml: RuntimeError: boom",
    ]


def test_quiet_passing_run_is_one_line() -> None:
    assert (
        output(RunOutcome([passing_scenario()], 0.25), -1)
        == "1 passed, 0 failed, 0 unreachable in 250 ms\n"
    )


def test_verbose_shows_every_frame() -> None:
    text = output(full_run(), 1)
    lines = text.splitlines()
    assert "    08:01:00  CP → CSMS  Heartbeat" in lines
    assert any(line.split()[-1] == "2025-06-01T08:00:00Z" for line in lines)  # Heartbeat ✓
    assert '    08:05:00  CP → CSMS  (raw text)                   "not json {"' in lines
    assert "    08:08:00  CSMS → CP  (malformed)                  [2]" in lines
    # The frames were just shown: a failure does not show them again.
    assert "frames before:" not in text


def test_very_verbose_shows_whole_frames() -> None:
    text = output(full_run(), 2)
    assert '[2,"1","BootNotification",{"chargePointVendor":"Acme",' in text


def long_run() -> RunOutcome:
    step = StepOutcome(1, "send", "send " + "x" * 300, "long.yaml:1:1", Status.PASSED, 0.1)
    scenario = ScenarioOutcome("Long", "long.yaml", "CP", Status.PASSED, [step])
    scenario.frames = [frame(1, "out", [2, "1", "Authorize", {"idTag": "y" * 300}])]
    return RunOutcome([scenario])


def test_in_a_terminal_long_lines_are_cut_not_wrapped() -> None:
    lines = output(long_run(), 1, terminal=True).splitlines()
    assert all(len(line) <= WIDTH for line in lines)
    assert sum(line.endswith("…") for line in lines) == 2


def test_in_a_log_nothing_is_cut() -> None:
    # CI logs: a file:line, a payload must survive whole, one line each.
    lines = output(long_run(), 1).splitlines()
    assert not any(line.endswith("…") for line in lines)
    assert any(line.endswith("x" * 300 + "  long.yaml:1:1  100 ms") for line in lines)
    assert any(("y" * 300) in line for line in lines)


def test_failure_messages_wrap() -> None:
    message = " ".join(f"word{n}" for n in range(60))
    step = StepOutcome(1, "send", "send", "w.yaml:1:1", Status.FAILED, message=message)
    scenario = ScenarioOutcome("Wrap", "w.yaml", "CP", Status.FAILED, [step])
    text = output(RunOutcome([scenario]), 0)
    assert all(f"word{n}" in text for n in range(60))


@pytest.mark.parametrize("verbosity", [-1, 0, 1, 2])
def test_odd_frames_never_raise(verbosity: int) -> None:
    text = output(odd_run(), verbosity)
    # Control characters from the peer are escaped, not sent to the terminal.
    assert "\x1b" not in text and "\x00" not in text
    if verbosity >= 1:
        assert "\\u001b[31mred\\u0000" in text
        assert len([line for line in text.splitlines() if "→" in line]) == len(ODD_FRAMES)


def test_null_reporter_does_nothing() -> None:
    replay(NullReporter(), full_run())
    replay(NullReporter(), odd_run())

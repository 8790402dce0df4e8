"""A load run is honest (docs/load.md): failed steps fail it, a CSMS that stops
answering fails it, and the live figures are what the CSMS itself counted.

Every run here goes over loopback WebSockets to a real mock CSMS: the embedded one, or
``mockpoint csms`` in a process of its own whose frame log is the CSMS's own count.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from csms_process import Csms
from mockpoint.cli.main import main
from mockpoint.errors import ExitCode

#: Three steps per charge point, the last one failing against the mock CSMS, which accepts
#: every tag.
FAILING = """name: one step in three fails
timeout: 5s
steps:
  - send: Heartbeat
  - authorize: {id_tag: TAG-001}
    expect: {idTagInfo: {status: Blocked}}
"""

#: Charge points that take one step and stay connected, heartbeating every second (the
#: CSMS's boot interval): nothing in the steps can fail.
HEARTBEATING = """name: heartbeats every second
timeout: 1s
steps:
  - send: StatusNotification
    payload: {connectorId: 0, errorCode: NoError, status: Available}
"""
EVERY_SECOND = "boot: {interval: [1]}\n"
STOPS_ANSWERING = EVERY_SECOND + "answers: {Heartbeat: {ignore: true}}\n"


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def document(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


# --- failed steps -------------------------------------------------------------------------


def test_a_failed_step_fails_the_run_and_the_report_leads_with_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write(tmp_path, FAILING)
    out = tmp_path / "r.json"
    args = ["load", str(scenario), "-n", "6", "--workers", "0", "-q", "--json", str(out)]
    assert main(args) == 1
    lines = capsys.readouterr().out.splitlines()
    # The boot and the Heartbeat pass, the authorize fails: 6 of 18 steps.
    assert lines[0].startswith("FAILED: 6 of 18 steps failed (33.33%): any failed step fails")
    assert "--threshold 'failed_steps<1%'" in lines[0]
    assert re.fullmatch(
        r" +6×  authorize TAG-001 \(.*scenario\.yaml:5:5\): Authorize answer.*", lines[1]
    )
    assert lines[2].startswith("mockpoint load  6 charge points")
    assert "  ✗ failed_steps==0  6  (default)" in lines
    data = document(out)
    assert data["thresholds"] == [
        {"expression": "failed_steps==0", "actual": "6", "passed": False, "default": True}
    ]
    assert data["lead"] == lines[:2]


def test_a_failed_steps_threshold_sets_the_tolerance(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write(tmp_path, FAILING)
    args = ["load", str(scenario), "-n", "6", "--workers", "0", "-q"]
    assert main([*args, "--threshold", "failed_steps<50%"]) == 0
    shown = capsys.readouterr().out
    assert "FAILED" not in shown
    assert "  ✓ failed_steps<50%  33.333% (6 of 18 steps)" in shown.splitlines()
    assert "failed_steps==0" not in shown  # the default gives way to the threshold given
    # A scenario's own thresholds do the same, and the lead names the one broken.
    strict = write(tmp_path, FAILING + "thresholds: ['failed_steps<=10%']\n", "strict.yaml")
    assert main(["load", str(strict), "-n", "6", "--workers", "0", "-q"]) == 1
    first = capsys.readouterr().out.splitlines()[0]
    assert first == "FAILED: 6 of 18 steps failed (33.33%): more than failed_steps<=10% allows"


def test_a_merge_fails_on_failed_steps_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write(tmp_path, FAILING)
    parts = []
    for shard in ("1/2", "2/2"):
        out = tmp_path / f"shard-{shard[0]}.json"
        args = ["load", str(scenario), "-n", "4", "--workers", "0", "-q", "--shard", shard]
        assert main([*args, "--json", str(out)]) == 1
        parts.append(str(out))
    capsys.readouterr()
    assert main(["merge", *parts]) == 1
    assert capsys.readouterr().out.startswith("FAILED: 4 of 12 steps failed (33.33%)")
    assert main(["merge", *parts, "--threshold", "failed_steps<=4"]) == 0


# --- a CSMS that stops answering ----------------------------------------------------------


def run_heartbeating(tmp_path: Path, config: str, out: Path) -> int:
    """Ten charge points heartbeating for 4 s against ``mockpoint csms --config``."""
    csms = Csms(tmp_path, config)
    try:
        scenario = write(tmp_path, HEARTBEATING)
        args = ["load", str(scenario), "-n", "10", "--workers", "0", "-q", "--csms", csms.url]
        return main([*args, "--duration", "4s", "--json", str(out)])
    finally:
        csms.stop()


@pytest.mark.slow
def test_a_csms_that_stops_answering_fails_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.json"
    assert run_heartbeating(tmp_path, STOPS_ANSWERING, out) == 1
    lines = capsys.readouterr().out.splitlines()
    data = document(out)
    # Every step passed: the CSMS answered the boots and the StatusNotifications, then
    # nothing. The Heartbeats the charge points send by themselves time out.
    assert data["steps"]["failed"] == 0
    heartbeats = data["actions"]["Heartbeat"]
    assert heartbeats["ok"] == 0 and heartbeats["timeouts"] >= 10
    match = re.fullmatch(
        r"FAILED: no call was answered in (\d+) of the (\d+) seconds since the first "
        r"connection: (\d+) calls got no answer \((\d+) timed out\)",
        lines[0],
    )
    assert match is not None, lines[0]
    silent, of, unanswered, timed_out = map(int, match.groups())
    assert of / 2 < silent < of
    assert unanswered == timed_out == heartbeats["timeouts"]
    assert data["lead"] == [lines[0]]
    assert all(t["passed"] for t in data["thresholds"])  # no threshold broke: silence did


@pytest.mark.slow
def test_a_csms_that_answers_passes_the_same_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.json"
    assert run_heartbeating(tmp_path, EVERY_SECOND, out) == 0
    assert "FAILED" not in capsys.readouterr().out
    assert document(out)["lead"] == []


# --- live figures -------------------------------------------------------------------------

#: A plain progress line: elapsed, connected, msg/s, calls.
_LINE = re.compile(r"(\d+)s  connected (\d+)/\d+  ([\d,]+|–) msg/s  calls ([\d,]+)  ")


def epoch(wall_time: str) -> float:
    return datetime.fromisoformat(wall_time.replace("Z", "+00:00")).timestamp()


class FrameCounts:
    """What the CSMS counted, from its frame log: frames and answers sent, over time."""

    def __init__(self, frames: list[dict[str, Any]]) -> None:
        self.frames = sorted(epoch(f["wall_time"]) for f in frames)
        self.answers = sorted(
            epoch(f["wall_time"])
            for f in frames
            if f["direction"] == "out" and isinstance(f["frame"], list) and f["frame"][0] in (3, 4)
        )

    @staticmethod
    def until(times: list[float], t: float) -> int:
        return bisect_right(times, t)

    @staticmethod
    def busiest_second(times: list[float], start: float, end: float) -> int:
        """The most events in any one second between ``start`` and ``end``."""
        steps = [start + i / 10 for i in range(int((end - start) * 10) + 1)]
        return max(bisect_right(times, s + 1) - bisect_right(times, s) for s in steps)


def check_live_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str], workers: str) -> None:
    csms = Csms(tmp_path, EVERY_SECOND)
    out = tmp_path / "r.json"
    try:
        scenario = write(tmp_path, HEARTBEATING)
        args = ["load", str(scenario), "-n", "40", "--workers", workers, "--csms", csms.url]
        args += ["--duration", "8s", "--progress-every", "1", "--json", str(out)]
        assert main(args) == 0
    finally:
        csms.stop()
    started = document(out)["started_at"]
    counts = FrameCounts(csms.frames())
    lines = [m for m in map(_LINE.match, capsys.readouterr().out.splitlines()) if m]
    # Once a second from the first snapshot of every worker to the end, a line for each
    # update, each in a second of its own.
    seconds = [int(m[1]) for m in lines]
    assert len(seconds) >= 5 and seconds == sorted(set(seconds))
    assert max(int(m[2]) for m in lines) == 40
    for m in lines:
        second, rate, calls = int(m[1]), m[3], int(m[4].replace(",", ""))
        at = started + second
        # Calls so far: what the CSMS answered by then, within a second's traffic and 10%.
        answered = counts.until(counts.answers, at)
        slack = counts.busiest_second(counts.answers, at - 2, at) + answered / 10
        assert abs(calls - answered) <= slack, (m[0], answered)
        # msg/s: the frames of the same window (from the line 5 s before, or the start),
        # within a second's traffic and 10%.
        since = started + second - 5 if second - 5 in seconds else started
        frames = counts.until(counts.frames, at) - counts.until(counts.frames, since)
        shown = float(rate.replace(",", "")) * (at - since)
        slack = counts.busiest_second(counts.frames, since - 1, at) + frames / 10
        assert abs(shown - frames) <= slack, (m[0], frames / (at - since))


@pytest.mark.slow
def test_live_figures_match_what_the_csms_counted_with_two_workers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    check_live_figures(tmp_path, capsys, "2")


@pytest.mark.slow
def test_live_figures_match_what_the_csms_counted_in_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    check_live_figures(tmp_path, capsys, "0")


# --- what the exit codes mean -------------------------------------------------------------


def test_the_help_and_the_module_give_the_same_exit_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import mockpoint.cli.load as module

    assert main(["load", "--help"]) == 0
    shown = capsys.readouterr().out
    codes = shown.split("Exit codes:", 1)[1].split("Options:", 1)[0]
    assert module.__doc__ is not None
    assert " ".join(codes.split()) in " ".join(module.__doc__.split())
    numbers = re.findall(r"^ +(\d)  ", codes, flags=re.MULTILINE)
    assert [int(n) for n in numbers] == [
        ExitCode.OK,
        ExitCode.FAILED,
        ExitCode.USAGE,
        ExitCode.UNREACHABLE,
    ]

"""The live console report of ``mockpoint run``: a line per step as it runs (PRODUCT.md,
"Reports"); ``-q`` shows only the result and the failures, ``-v`` every frame. Under each
scenario's result: its seed (to replay it with ``--seed``), and the CSMS requests that were
"not supported here" or not answered while the boot was Rejected, when there were any.

The runner drives a :class:`Reporter` as things happen; :class:`ConsoleReporter` prints with
rich, :class:`NullReporter` prints nothing (tests, ``load``). Peer-supplied text (payloads,
raw frames, action names) is printed as rich ``Text``, never as markup, with its control
characters escaped: a CSMS must not be able to inject markup or terminal escape codes.
"""

from __future__ import annotations

from typing import Protocol

from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from mockpoint.scenario.outcome import FrameRecord, RunOutcome, ScenarioOutcome, Status, StepOutcome
from mockpoint.scenario.reports._text import (
    FrameDescriber,
    FrameView,
    counts,
    duration,
    one_line,
    pretty,
    seed_line,
    short_reason,
    unanswered_lines,
)

#: Verbosity levels: ``-q``, the default, ``-v``; ``-vv`` prints whole frames.
QUIET, NORMAL, VERBOSE, FULL_FRAMES = -1, 0, 1, 2

_MARKS: dict[Status, tuple[str, str]] = {
    Status.PASSED: ("✓", "green"),
    Status.FAILED: ("✗", "red"),
    Status.SKIPPED: ("-", "dim"),
    Status.UNREACHABLE: ("⚠", "yellow"),
    Status.ERROR: ("‼", "bold red"),
}

#: Width of the action column of a frame line, so payloads line up.
_LABEL_WIDTH = 28
#: Where failure details start: under the step's label.
_DETAIL_INDENT = 6


class Reporter(Protocol):
    """What the runner tells a live report, in order: for each scenario
    ``scenario_started``, then ``frame`` and ``step_finished`` as they happen, then
    ``scenario_finished``; finally ``run_finished`` once."""

    def scenario_started(self, name: str, file: str, cp: str) -> None: ...

    def step_finished(self, step: StepOutcome) -> None: ...

    def frame(self, record: FrameRecord) -> None: ...

    def waiting(self, action: str, prompt: str, seconds: float) -> None:
        """An ``await`` step waits for the CSMS: ``prompt`` says what should happen there."""
        ...

    def scenario_finished(self, outcome: ScenarioOutcome) -> None: ...

    def run_finished(self, run: RunOutcome) -> None: ...


class NullReporter:
    """A :class:`Reporter` that reports nothing."""

    def scenario_started(self, name: str, file: str, cp: str) -> None:
        pass

    def step_finished(self, step: StepOutcome) -> None:
        pass

    def frame(self, record: FrameRecord) -> None:
        pass

    def waiting(self, action: str, prompt: str, seconds: float) -> None:
        pass

    def scenario_finished(self, outcome: ScenarioOutcome) -> None:
        pass

    def run_finished(self, run: RunOutcome) -> None:
        pass


class ConsoleReporter:
    """Prints a run as it happens.

    ``verbosity`` -1 (``-q``): the failures and the final summary only. 0: also a line per
    scenario start and per step. 1 (``-v``): also a line per frame with a summary of its
    payload; 2 (``-vv``): the whole frame instead of the summary.
    """

    def __init__(self, console: Console, verbosity: int = NORMAL) -> None:
        self._console = console
        self._verbosity = verbosity
        self._describer = FrameDescriber()
        self._scenario = ""

    def scenario_started(self, name: str, file: str, cp: str) -> None:
        # Unique ids are per charge point connection; a new scenario starts a new pairing.
        self._describer = FrameDescriber()
        self._scenario = name
        if self._verbosity >= NORMAL:
            self._line(
                ("▶ ", "bold"), (one_line(name), "bold"), (f"  {one_line(file)} · {cp}", "dim")
            )

    def frame(self, record: FrameRecord) -> None:
        # Described at every verbosity: the actions it remembers name the answers among
        # the frames shown with a failure.
        view = self._describer.describe(record)
        if self._verbosity >= VERBOSE:
            self._line(*_frame_parts(view, full=self._verbosity >= FULL_FRAMES, indent="    "))

    def waiting(self, action: str, prompt: str, seconds: float) -> None:
        # Shown at every verbosity: someone may have to act for the run to go on.
        self._line(
            ("  ⏳ ", "yellow"),
            (prompt, "bold yellow"),
            (f"  (waiting up to {seconds:g} s for {action})", "dim"),
        )

    def step_finished(self, step: StepOutcome) -> None:
        failed = step.status is Status.FAILED
        if self._verbosity < NORMAL and not failed:
            return
        mark, style = _MARKS.get(step.status, ("?", ""))
        if step.tolerated:
            style = "yellow"
        parts: list[tuple[str, str]] = [("  ", ""), (mark, style), (" ", "")]
        if self._verbosity < NORMAL:
            # No scenario line was printed: say which scenario this step belongs to.
            parts.append((f"{one_line(self._scenario)} › ", "bold"))
        parts.append((one_line(step.label), "red" if failed and not step.tolerated else ""))
        parts.append((f"  {step.location}", "dim"))
        if step.status is Status.SKIPPED:
            parts.append(("  skipped", "dim"))
        else:
            parts.append((f"  {duration(step.duration)}", "dim"))
        if step.tolerated:
            parts.append(("  (tolerated)", "yellow"))
        self._line(*parts)
        if failed:
            self._failure_details(step)

    def scenario_finished(self, outcome: ScenarioOutcome) -> None:
        status = outcome.status
        if self._verbosity < NORMAL:
            # -q: the step failures were shown as they happened; what is left is a problem
            # of the scenario as a whole.
            if outcome.error and (status is not Status.FAILED or not outcome.failed_steps):
                mark, style = _MARKS.get(status, ("?", ""))
                self._line(
                    (f"{mark} ", style), (one_line(outcome.name), "bold"), (f"  {status}", "")
                )
                self._detail(Text(outcome.error))
            if status is not Status.PASSED and outcome.seed is not None:
                self._detail(Text(seed_line(outcome.seed), style="dim"))
            return
        mark, style = _MARKS.get(status, ("?", ""))
        passed = sum(1 for step in outcome.steps if step.status is Status.PASSED)
        steps = f"{passed}/{len(outcome.steps)} steps" if outcome.steps else "no steps"
        self._line(
            (f"{mark} {status} ", style),
            (one_line(outcome.name), "bold"),
            (f"  {steps}, {duration(outcome.duration)}", "dim"),
        )
        if outcome.error:
            self._detail(Text(outcome.error, style=style))
        if outcome.seed is not None:
            self._line(("  ", ""), (seed_line(outcome.seed), "dim"))
        for line in unanswered_lines(outcome):
            self._line(("  ", ""), (line, "yellow"))
        self._console.print()

    def run_finished(self, run: RunOutcome) -> None:
        tally = counts(run.scenarios)
        parts = [
            (f"{tally[Status.PASSED]} passed", "green" if tally[Status.PASSED] else ""),
            (f"{tally[Status.FAILED]} failed", "red" if tally[Status.FAILED] else ""),
            (
                f"{tally[Status.UNREACHABLE]} unreachable",
                "yellow" if tally[Status.UNREACHABLE] else "",
            ),
        ]
        if tally[Status.ERROR]:
            parts.append((f"{tally[Status.ERROR]} error", "bold red"))
        if tally[Status.SKIPPED]:
            parts.append((f"{tally[Status.SKIPPED]} skipped", "dim"))
        line = Text(", ").join(Text(text, style=style) for text, style in parts)
        line.append(f" in {duration(run.duration)}")
        self._print(line)
        not_passed = [
            scenario
            for scenario in run.scenarios
            if scenario.status in (Status.FAILED, Status.UNREACHABLE, Status.ERROR)
        ]
        for scenario in not_passed:
            mark, style = _MARKS[scenario.status]
            reason = short_reason(scenario)
            # A step location already starts with the file: say it once.
            where = "" if reason.startswith(scenario.file) else f"{one_line(scenario.file)}: "
            self._line(
                (f"  {mark} ", style),
                (one_line(scenario.name), "bold"),
                ("  ", ""),
                (where, "dim"),
                (reason, ""),
            )

    def _failure_details(self, step: StepOutcome) -> None:
        """Message, expected and actual, and the frames just before: everything needed to
        see why, without opening a report file (PRODUCT.md: "Every failure names...")."""
        # The step line may be cut to the terminal's width; the location must not be.
        self._detail(Text(f"at {step.location}", style="bold"))
        if step.message:
            self._detail(Text(step.message, style="red"))
        for name, value in (("expected", step.expected), ("actual", step.actual)):
            if value is not None:
                text = Text(f"{name + ':':<10}", style="bold")
                text.append(pretty(value))
                self._detail(text)
        # With -v the frames were just printed; don't print them twice.
        if step.frames_before and self._verbosity < VERBOSE:
            self._detail(Text("frames before:", style="bold"))
            for view in self._describer.describe_all(step.frames_before):
                indent = " " * (_DETAIL_INDENT + 2)
                self._line(*_frame_parts(view, full=False, indent=indent))

    def _detail(self, text: Text) -> None:
        # Failure details wrap (the one thing that does), indented under the step. Line by
        # line, or rich pads every line to the longest, leaving trailing blanks in CI logs.
        for line in text.split("\n", allow_blank=True):
            indented = Padding(line, (0, 0, 0, _DETAIL_INDENT), expand=False)
            self._console.print(indented, highlight=False)

    def _line(self, *parts: tuple[str, str]) -> None:
        text = Text.assemble(*parts)
        # A frame with an empty summary (a Heartbeat) would end in the label's padding.
        text.rstrip()
        self._print(text)

    def _print(self, text: Text) -> None:
        # One line, cut with an ellipsis: a wrapped MeterValues would break the columns.
        self._console.print(text, no_wrap=True, overflow="ellipsis", crop=True, highlight=False)


def _frame_parts(view: FrameView, *, full: bool, indent: str) -> list[tuple[str, str]]:
    """Time, direction, label and payload of one frame line."""
    stamp = view.record.virtual_time
    # "2025-06-01T08:00:05Z" → "08:00:05": the date rarely changes within a scenario.
    if len(stamp) >= 19 and stamp[10] == "T":
        stamp = stamp[11:19]
    style = {"call": "bold", "result": "green", "error": "red"}.get(view.kind, "yellow")
    return [
        (indent, ""),
        (one_line(stamp), "dim"),
        ("  ", ""),
        (view.arrow, "cyan" if view.outgoing else "magenta"),
        ("  ", ""),
        (f"{one_line(view.label):<{_LABEL_WIDTH}}", style),
        (" ", ""),
        # A peer's frame may be megabytes; a terminal line shows a few hundred characters.
        (one_line((view.full() if full else view.summary())[:_FRAME_TEXT]), ""),
    ]


#: How much of a frame's text a console line takes (the line is cut to the terminal anyway).
_FRAME_TEXT = 1000

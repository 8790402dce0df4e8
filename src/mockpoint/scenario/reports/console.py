"""The live console report of ``mockpoint run``: a line per step as it runs (docs/behaviour.md,
"Reports"); ``-q`` shows only the result and the failures, ``-v`` every frame. Under each
scenario's result: its seed (to replay it with ``--seed``), and the CSMS requests that were
"not supported here" or not answered while the boot was Rejected, when there were any.

The runner drives a :class:`Reporter` as things happen; :class:`ConsoleReporter` prints with
rich, :class:`NullReporter` prints nothing (tests, ``load``). Peer-supplied text (payloads,
raw frames, action names) is printed as rich ``Text``, never as markup, with its control
characters escaped: a CSMS must not be able to inject markup or terminal escape codes.
"""

from __future__ import annotations

import os
import time
from typing import Protocol

from rich.console import Console
from rich.live import Live
from rich.padding import Padding
from rich.text import Text

from mockpoint.scenario.outcome import FrameRecord, RunOutcome, ScenarioOutcome, Status, StepOutcome
from mockpoint.scenario.reports.text import (
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
    Status.NOT_APPLICABLE: ("○", "cyan"),
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

    def waiting(
        self, action: str, prompt: str | None, seconds: float, *, driven: bool = False
    ) -> None:
        """An ``await`` step waits up to ``seconds`` for the CSMS to send ``action``:
        ``prompt`` says what should happen there; ``driven``: the CSMS driver was asked to
        make it happen. Until the step finishes."""
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

    def waiting(
        self, action: str, prompt: str | None, seconds: float, *, driven: bool = False
    ) -> None:
        pass

    def scenario_finished(self, outcome: ScenarioOutcome) -> None:
        pass

    def run_finished(self, run: RunOutcome) -> None:
        pass


#: The width of a console that is not a terminal (a CI log, a file): wide enough that no
#: path, location or message is wrapped or cut; a log viewer scrolls.
LOG_WIDTH = 1000


def make_console() -> Console:
    """The console of a command's report: the terminal's width in a terminal, else
    :data:`LOG_WIDTH` (unless COLUMNS says otherwise), so CI logs keep whole lines."""
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = LOG_WIDTH
    return console


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
        #: the live "waiting for ... (12 s left)" line of an ``await``, in a terminal
        self._live: Live | None = None

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

    def waiting(
        self, action: str, prompt: str | None, seconds: float, *, driven: bool = False
    ) -> None:
        # Shown at every verbosity: someone may have to act for the run to go on. A person
        # needs the prompt; a log gets one line; a terminal counts the seconds down.
        if prompt and not driven:
            self._line(("  ⏳ ", "yellow"), (one_line(prompt), "bold yellow"))
        how = " (asked the CSMS driver)" if driven else ""
        if not self._console.is_terminal:
            self._line(
                ("  ⏳ ", "yellow"),
                (f"waiting for {one_line(action)} from the CSMS (up to {seconds:g} s){how}", "dim"),
            )
            return
        self._stop_waiting()
        countdown = _Countdown(f"waiting for {one_line(action)} from the CSMS", how, seconds)
        self._live = Live(countdown, console=self._console, refresh_per_second=2, transient=True)
        self._live.start()

    def _stop_waiting(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def step_finished(self, step: StepOutcome) -> None:
        self._stop_waiting()
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
        self._stop_waiting()
        status = outcome.status
        why = outcome.error or outcome.reason
        if self._verbosity < NORMAL:
            # -q: the step failures were shown as they happened; what is left is a problem
            # of the scenario as a whole.
            if why and (status is not Status.FAILED or not outcome.failed_steps):
                mark, style = _MARKS.get(status, ("?", ""))
                self._line(
                    (f"{mark} ", style),
                    (one_line(outcome.name), "bold"),
                    (f"  {_STATUS_WORDS.get(status, status)}", ""),
                )
                self._detail(Text(why))
            if status not in _NO_SEED_LINE and outcome.seed is not None:
                self._detail(Text(seed_line(outcome.seed), style="dim"))
            return
        mark, style = _MARKS.get(status, ("?", ""))
        passed = sum(1 for step in outcome.steps if step.status is Status.PASSED)
        steps = f"{passed}/{len(outcome.steps)} steps" if outcome.steps else "no steps"
        self._line(
            (f"{mark} {_STATUS_WORDS.get(status, status)} ", style),
            (one_line(outcome.name), "bold"),
            (f"  {steps}, {duration(outcome.duration)}", "dim"),
        )
        if why:
            self._detail(Text(why, style=style))
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
        if tally[Status.NOT_APPLICABLE]:
            parts.append((f"{tally[Status.NOT_APPLICABLE]} not applicable", "cyan"))
        line = Text(", ").join(Text(text, style=style) for text, style in parts)
        line.append(f" in {duration(run.duration)}")
        self._print(line)
        # Every scenario that did not pass, with why: a skip or a feature the CSMS lacks is
        # no failure, but a CSMS team must see what went untested.
        not_passed = [
            scenario for scenario in run.scenarios if scenario.status is not Status.PASSED
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
        see why, without opening a report file (docs/behaviour.md, "Reports")."""
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
        # In a terminal one line, cut with an ellipsis: a wrapped MeterValues would break the
        # columns. In a log (CI) nothing is cut: a file:line must survive whole.
        if self._console.is_terminal:
            self._console.print(text, no_wrap=True, overflow="ellipsis", crop=True, highlight=False)
        else:
            self._console.print(text, no_wrap=True, crop=False, soft_wrap=True, highlight=False)


#: How the console says a status, where the enum's value would read oddly.
_STATUS_WORDS: dict[Status, str] = {Status.NOT_APPLICABLE: "not applicable"}
#: Under -q, no seed line for these: nothing to replay (passed), or nothing ran.
_NO_SEED_LINE = (Status.PASSED, Status.SKIPPED, Status.NOT_APPLICABLE)


class _Countdown:
    """``waiting for X from the CSMS (12 s left)``, computed each time it is drawn."""

    def __init__(self, text: str, how: str, seconds: float) -> None:
        self._text = text
        self._how = how
        self._deadline = time.monotonic() + seconds

    def __rich__(self) -> Text:
        left = max(0.0, self._deadline - time.monotonic())
        line = Text("  ⏳ ", style="yellow")
        line.append(f"{self._text} ({left:.0f} s left){self._how}", style="dim")
        return line


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

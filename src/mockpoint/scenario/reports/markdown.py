"""``--markdown FILE`` and the GitHub job summary: the run as Markdown (docs/behaviour.md,
"Reports").

A table of every scenario, a line for each scenario's CSMS requests that were "not supported
here" or not answered while the boot was Rejected, then for each scenario that did not pass
its seed, its failing steps and a Mermaid sequence diagram of its frames, which GitHub
renders on the job page. The text is
GitHub-flavoured Markdown; everything that comes from a scenario or a CSMS is escaped for
the place it lands in (a table cell, a code fence, a Mermaid message).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from mockpoint.scenario.outcome import RunOutcome, ScenarioOutcome, Status, StepOutcome
from mockpoint.scenario.reports.text import (
    FrameView,
    counts,
    describe_frames,
    display_file,
    duration,
    make_parent,
    one_line,
    pretty,
    unanswered_lines,
)

#: A diagram shows at most this many frames, the last ones: the failure is at the end, and
#: GitHub stops rendering diagrams that are too large.
MERMAID_FRAMES = 60

#: The longest message text on an arrow, before escaping.
_ARROW_TEXT = 60

#: The variable GitHub Actions sets to the file of the job's summary page.
GITHUB_STEP_SUMMARY = "GITHUB_STEP_SUMMARY"

_EMOJI: dict[Status, str] = {
    Status.PASSED: "✅",
    Status.FAILED: "❌",
    Status.UNREACHABLE: "🔌",
    Status.ERROR: "💥",
    Status.SKIPPED: "⏭️",
    Status.NOT_APPLICABLE: "➖",
}

#: Where each kind of frame points, as Mermaid arrows: CALL solid, CALLRESULT dashed,
#: CALLERROR dashed with a cross, anything unreadable an open (async) arrow.
_ARROWS = {"call": "->>", "result": "-->>", "error": "--x", "raw": "-)", "malformed": "-)"}


def _word(status: Status) -> str:
    """``not_applicable`` → ``not applicable``."""
    return str(status).replace("_", " ")


def render_markdown(run: RunOutcome) -> str:
    """The whole report as Markdown, ending with a newline."""
    tally = counts(run.scenarios)
    words = [f"{tally[status]} {_word(status)}" for status in Status if tally[status]]
    headline = ", ".join(words) if words else "no scenarios"
    lines = [
        f"## {_EMOJI[Status.PASSED] if run.exit_code == 0 else _EMOJI[Status.FAILED]} "
        f"mockpoint run: {headline} in {duration(run.duration)}",
        "",
        "| Scenario | File | Status | Steps passed | Duration |",
        "|---|---|---|---:|---:|",
    ]
    for scenario in run.scenarios:
        passed = sum(1 for step in scenario.steps if step.status is Status.PASSED)
        steps = f"{passed}/{len(scenario.steps)}" if scenario.steps else "–"
        lines.append(
            f"| {_inline(scenario.name)} | {_inline(display_file(scenario.file))} "
            f"| {_EMOJI[scenario.status]} {_word(scenario.status)} | {steps} "
            f"| {duration(scenario.duration)} |"
        )
    unanswered = [
        f"- {_inline(scenario.name)}: {_inline(line)}"
        for scenario in run.scenarios
        for line in unanswered_lines(scenario)
    ]
    if unanswered:
        lines += ["", *unanswered]
    for scenario in run.scenarios:
        if scenario.status in (Status.FAILED, Status.UNREACHABLE, Status.ERROR):
            lines += ["", *_scenario_section(scenario)]
    return "\n".join(lines) + "\n"


def write_markdown(run: RunOutcome, path: Path | str) -> None:
    """Write :func:`render_markdown` of ``run`` to ``path`` (UTF-8)."""
    path = Path(path)
    make_parent(path)
    path.write_text(render_markdown(run), encoding="utf-8", errors="backslashreplace")


def append_github_summary(run: RunOutcome, env: Mapping[str, str] = os.environ) -> Path | None:
    """Append the report to the file ``GITHUB_STEP_SUMMARY`` names; the file appended to,
    or None when the variable is not set (not on GitHub Actions).

    Appended, never overwritten: other steps of the job write their summaries there too.
    """
    name = env.get(GITHUB_STEP_SUMMARY)
    if not name:
        return None
    path = Path(name)
    with path.open("a", encoding="utf-8", errors="backslashreplace") as file:
        file.write(render_markdown(run) + "\n")
    return path


def _scenario_section(scenario: ScenarioOutcome) -> list[str]:
    seed = "" if scenario.seed is None else f", seed {_code(str(scenario.seed))}"
    lines = [
        f"### {_EMOJI[scenario.status]} {_inline(scenario.name)}",
        "",
        f"{_code(display_file(scenario.file))}, charge point {_code(scenario.cp)}: "
        f"{_word(scenario.status)}{seed}",
    ]
    if scenario.error:
        lines += ["", _fence(scenario.error, "text")]
    if scenario.reason:
        lines += ["", _fence(scenario.reason, "text")]
    for step in scenario.failed_steps:
        lines += ["", *_step_section(step)]
    if scenario.frames:
        lines += ["", "Frames:", "", _fence(mermaid_diagram(scenario), "mermaid")]
    return lines


def _step_section(step: StepOutcome) -> list[str]:
    tolerated = " (tolerated by `continue_on_failure`)" if step.tolerated else ""
    lines = [f"**Step {step.index}: {_inline(step.label)}** at {_code(step.location)}{tolerated}"]
    if step.message:
        lines += ["", _fence(step.message, "text")]
    for name, value in (("Expected", step.expected), ("Actual", step.actual)):
        if value is not None:
            lines += ["", f"{name}:", "", _fence(pretty(value), "json")]
    return lines


def mermaid_diagram(scenario: ScenarioOutcome) -> str:
    """A Mermaid ``sequenceDiagram`` of the scenario's frames, at most MERMAID_FRAMES."""
    # Described from the first frame, so answers near the end still name their CALL.
    views = describe_frames(scenario.frames)
    lines = ["sequenceDiagram", "    participant CP as Charge point", "    participant CSMS"]
    if len(views) > MERMAID_FRAMES:
        cut = len(views) - MERMAID_FRAMES
        lines.append(f"    Note over CP,CSMS: {cut} earlier frames not shown")
        views = views[cut:]
    for view in views:
        source, target = ("CP", "CSMS") if view.outgoing else ("CSMS", "CP")
        arrow = _ARROWS[view.kind]
        lines.append(f"    {source}{arrow}{target}: {mermaid_text(_arrow_text(view))}")
    return "\n".join(lines)


def _arrow_text(view: FrameView) -> str:
    if view.kind == "call":
        text = f"{view.action} {view.summary()}".strip()
    elif view.kind == "result":
        text = view.summary() or view.label
    elif view.kind == "error":
        text = f"{view.action or '?'} CALLERROR {view.code}"
    else:
        text = f"{view.kind}: {view.full()}"
    text = one_line(text)
    if len(text) > _ARROW_TEXT:
        text = text[: _ARROW_TEXT - 1] + "…"
    return text


#: Characters Mermaid reads as syntax inside a message, as its entity codes. A backtick
#: would end the Markdown fence around the diagram.
_MERMAID_ENTITIES = {
    "#": "#35;",
    ";": "#59;",
    '"': "#quot;",
    "'": "#39;",
    "<": "#lt;",
    ">": "#gt;",
    "`": "#96;",
}
_MERMAID_SPECIAL = re.compile("[" + re.escape("".join(_MERMAID_ENTITIES)) + "]")


def mermaid_text(text: str) -> str:
    """``text`` safe as a Mermaid message: one line, syntax characters as entity codes."""
    # One pass: replacing one character after another would escape the ``;`` and ``#``
    # of the codes already written.
    text = " ".join(text.splitlines())
    return _MERMAID_SPECIAL.sub(lambda match: _MERMAID_ENTITIES[match.group()], text)


def _fence(text: str, language: str) -> str:
    """A fenced code block longer than any run of backticks in ``text`` (GFM §4.5)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def _code(text: str) -> str:
    """An inline code span that holds any text (GFM §6.1)."""
    text = one_line(text)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#])")


def _inline(text: str) -> str:
    """``text`` as literal inline Markdown, in a table cell too: one line, syntax
    characters (``|`` included) backslash-escaped."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line(text))

"""The reports of a load run: the console summary, JSON, CSV and a self-contained HTML page.

A run that failed says why first: the console report, the JSON document (``lead``) and the
HTML page open with the lines of :func:`lead_lines` (a CSMS that stopped answering, failed
steps with the most frequent failures, broken thresholds), before any table.

Every report shows the same per-action numbers in the same order (actions sorted, then the
"(all)" row), so a number read in CI's log is found again in the HTML page. Text that comes
from a run (CALLERROR codes and step failures a CSMS caused, refusal reasons) is data: it is
printed as rich ``Text``, never as markup, escaped in HTML and defused in CSV.

A run of a fleet (docs/load-fleets.md) adds its breakdown by scenario, the groups' own
figures, and the fleet's events: a "By scenario" table and an "Events" list in the console,
per-scenario rows in the CSV (whose first column, ``scenario``, is "(all)" for the run's),
and in HTML both tables and each event drawn on the timeline charts. A run of one scenario
file shows none of it.
"""

from __future__ import annotations

import csv
import html
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from mockpoint.load.stats import ActionStats, EventRecord, Histogram, LoadStats, TimelinePoint
from mockpoint.load.thresholds import Silence, ThresholdResult
from mockpoint.scenario.reports.text import make_parent, one_line

__all__ = [
    "console_report",
    "lead_lines",
    "print_lead",
    "write_csv",
    "write_html",
    "write_json",
]

#: The label of the row that sums every action, and in the CSV of the rows of the whole run.
ALL = "(all)"
#: How many step failures the console and the HTML page list.
TOP_FAILURES = 5
#: At most this many points per chart line: a day's run is 86,400 seconds, which would make
#: a page of megabytes; longer runs are drawn in windows of several seconds.
MAX_POINTS = 1000

CSV_HEADER = (
    "scenario",
    "action",
    "calls",
    "ok",
    "errors",
    "callerrors",
    "timeouts",
    "lost",
    "invalid",
    "p50_ms",
    "p95_ms",
    "p99_ms",
    "max_ms",
    "mean_ms",
)


# --- shared -------------------------------------------------------------------------------


def _rows(stats: LoadStats) -> list[tuple[str, ActionStats]]:
    """Each action in name order, then ``(all)``: every action's counts added."""
    rows = [(name, stats.actions[name]) for name in sorted(stats.actions)]
    total = ActionStats()
    for _name, action in rows:
        total.merge(action)
    return [*rows, (ALL, total)]


def _ms(us: int | float) -> str:
    return f"{us / 1000:.1f}"


def _latencies(histogram: Histogram) -> list[str]:
    """p50, p95, p99 and max in ms, or dashes when nothing was answered."""
    if not histogram.count:
        return ["–"] * 4
    return [_ms(histogram.percentile(q)) for q in (50, 95, 99)] + [_ms(histogram.max)]


def _codes(callerrors: Mapping[str, int], separator: str = ", ") -> str:
    """``InternalError×1, NotImplemented×3``: CALLERROR codes by name."""
    return separator.join(f"{code}×{callerrors[code]}" for code in sorted(callerrors))


def _top_failures(stats: LoadStats) -> list[tuple[str, int]]:
    """The most frequent step failures, most first, then by text."""
    ranked = sorted(stats.step_failures.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:TOP_FAILURES]


def _seconds(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def shard_summary(stats: LoadStats) -> str | None:
    """Which shards of a ``--shard I/N`` run the statistics hold, numbered as typed, from 1:
    ``shard 2 of 4``, ``shards 1, 2, 4 of 4``, ``all 4 shards``. None for a run without
    ``--shard``, and for a result of an earlier version, which does not say."""
    of, numbers = stats.shard_of, sorted(stats.shard_numbers)
    if of is None or of == 1:
        return None
    if len(numbers) == of:
        return f"all {of} shards"
    if len(numbers) == 1:
        return f"shard {numbers[0]} of {of}"
    return f"shards {', '.join(map(str, numbers))} of {of}"


def _shards_cell(stats: LoadStats) -> str:
    summary = shard_summary(stats)
    if summary is not None:
        return summary
    return "the whole run" if stats.shard_of == 1 else "not recorded"


def _percent(part: int, whole: int) -> str:
    share = 100 * part / whole if whole else 0.0
    return "<0.01%" if 0 < share < 0.01 else f"{share:.2f}%"


def _failure_line(count: int, description: str) -> str:
    return f"  {count:>8,}×  {one_line(description)}"


def _steps_failed_the_run(results: Sequence[ThresholdResult]) -> bool:
    return any(r.metric == "failed_steps" and not r.passed for r in results)


#: The columns of the breakdown by scenario, in the console and in HTML.
SCENARIO_HEAD = (
    "Scenario",
    "Charge points",
    "Connected",
    "Calls",
    "Errors",
    "p50 ms",
    "p95 ms",
    "p99 ms",
    "Steps passed",
    "Steps failed",
    "Abandoned",
)
#: The columns of the events, in the console and in HTML.
EVENTS_HEAD = ("At", "Event", "Charge points", "Duration")


def _scenario_rows(stats: LoadStats) -> list[list[str]]:
    """A row of :data:`SCENARIO_HEAD` per scenario, by name. Connected: how many were
    connected at the end when a sample says so, else how many connections were opened."""
    rows = []
    for name in sorted(stats.scenarios):
        group = stats.scenarios[name]
        connected = _connected_at_end(group)
        rows.append(
            [
                name,
                f"{group.target:,}",
                f"{group.opened:,} opened" if connected is None else f"{connected:,}",
                f"{group.calls:,}",
                _percent(group.errors, group.calls) if group.calls else "–",
                *_latencies(group.histogram())[:3],
                f"{group.steps_passed:,}",
                f"{group.steps_failed:,}",
                f"{group.abandoned:,}",
            ]
        )
    return rows


def _connected_at_end(stats: LoadStats) -> int | None:
    """The last sample of connected charge points; None without one (a group's statistics
    read from a file keep no timeline)."""
    for second in sorted(stats.timeline, reverse=True):
        connected = stats.timeline[second].connected
        if connected is not None:
            return connected
    return None


def _event_rows(stats: LoadStats) -> list[tuple[EventRecord, list[str]]]:
    """Each event with its row of :data:`EVENTS_HEAD`: its time from the start of the run,
    its label, the charge points it touched and how long until the last was back."""
    return [
        (
            record,
            [
                _offset(record.at - stats.started_at),
                record.label,
                f"{record.charge_points:,}",
                "–" if record.duration is None else _seconds(record.duration),
            ],
        )
        for record in stats.events
    ]


def _offset(seconds: float) -> str:
    """``+2m00s``, ``+1h05m30s``: a time from the start of the run, to the second."""
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(math.floor(abs(seconds) + 0.5), 3600)
    minutes, rest = divmod(rest, 60)
    return f"{sign}{hours}h{minutes:02d}m{rest:02d}s" if hours else f"{sign}{minutes}m{rest:02d}s"


# --- the lead -----------------------------------------------------------------------------


def lead_lines(
    stats: LoadStats, results: Sequence[ThresholdResult], silence: Silence | None = None
) -> list[str]:
    """What failed the run, the likeliest cause first; empty when nothing did.

    A headline starts with ``FAILED:``; the lines under it that start with two spaces are
    its details. A list of plain lines so that a caller can add its own before printing
    them (:func:`print_lead`) or writing them (``lead`` of the JSON document).
    """
    lines: list[str] = []
    if silence is not None and silence.failed:
        kinds = [
            (stats.timeouts, "timed out"),
            (stats.lost, "lost with their connection"),
            (stats.invalid, "answered with a broken frame"),
        ]
        how = ", ".join(f"{n:,} {what}" for n, what in kinds if n)
        lines.append(
            f"FAILED: no call was answered in {silence.seconds:,} of the {silence.of:,} "
            f"seconds since the first connection: {silence.unanswered:,} "
            f"call{'s' if silence.unanswered != 1 else ''} got no answer"
            + (f" ({how})" if how else "")
        )
    steps = stats.steps_passed + stats.steps_failed
    for result in results:
        if result.passed:
            continue
        if result.metric == "failed_steps" and stats.steps_failed:
            share = _percent(stats.steps_failed, steps)
            why = (
                "any failed step fails a run without a failed_steps threshold "
                "(--threshold 'failed_steps<1%' tolerates 1%)"
                if result.default
                else f"more than {one_line(result.expression)} allows"
            )
            lines.append(
                f"FAILED: {stats.steps_failed:,} of {steps:,} steps failed ({share}): {why}"
            )
            lines += [_failure_line(n, text) for text, n in _top_failures(stats)]
        else:
            lines.append(f"FAILED: {one_line(result.expression)} broken: {one_line(result.actual)}")
    return lines


def print_lead(console: Console, lines: Sequence[str]) -> None:
    """``lines`` as :func:`lead_lines` makes them: headlines bold red, details red; each on
    one line however long, so that a log keeps it whole."""
    for line in lines:
        style = "red" if line.startswith("  ") else "bold red"
        console.print(Text(one_line(line), style=style), soft_wrap=True)


# --- console ------------------------------------------------------------------------------


def console_report(
    stats: LoadStats,
    results: Sequence[ThresholdResult],
    console: Console,
    lead: Sequence[str] | None = None,
) -> None:
    """The run's summary: what failed it (``lead``, by default :func:`lead_lines` of the
    results), then a table of actions, connections, messages, throughput, steps and the
    thresholds, each marked held (✓) or broken (✗); a default one says so."""
    print_lead(console, lead_lines(stats, results) if lead is None else lead)
    shards = shard_summary(stats)
    console.print(
        Text.assemble(
            ("mockpoint load", "bold"),
            f"  {stats.target:,} charge points"
            + (f", {shards}" if shards else "")
            + f", {stats.workers} worker{'s' if stats.workers != 1 else ''}"
            + f", {_seconds(stats.duration)}",
        )
    )
    console.print(_action_table(stats))
    failed = ", ".join(f"{one_line(r)} {n:,}" for r, n in sorted(stats.failed.items()))
    _line(
        console,
        "Connections",
        f"{stats.opened:,} opened, {stats.connect_failures:,} failed"
        + (f" ({failed})" if failed else "")
        + f", {stats.dropped:,} dropped",
    )
    _line(console, "Messages", f"{stats.messages_in:,} in, {stats.messages_out:,} out")
    _line(
        console,
        "Throughput",
        f"{stats.throughput:,.1f} calls/s answered with a CALLRESULT "
        f"({stats.ok:,} in {_seconds(stats.duration)})",
    )
    _line(
        console,
        "Steps",
        f"{stats.steps_passed:,} passed, {stats.steps_failed:,} failed, "
        f"{stats.iterations:,} iterations",
    )
    if not _steps_failed_the_run(results):  # else the lead shows them
        for description, count in _top_failures(stats):
            console.print(Text(_failure_line(count, description), style="red"))
    if stats.scenarios:
        console.print(Text("By scenario", style="bold"))
        console.print(_plain_table(SCENARIO_HEAD, _scenario_rows(stats), text_columns=1))
    if stats.events:
        console.print(Text("Events", style="bold"))
        rows = [cells for _record, cells in _event_rows(stats)]
        console.print(_plain_table(EVENTS_HEAD, rows, text_columns=2))
    if stats.received:
        received = ", ".join(f"{one_line(a)} {n:,}" for a, n in sorted(stats.received.items()))
        _line(console, "Received", received)
    if stats.not_supported:
        unsupported = ", ".join(
            f"{one_line(a)} {n:,}" for a, n in sorted(stats.not_supported.items())
        )
        _line(console, "Unsupported", f"{unsupported} (not supported here: NotSupported)")
    if results:
        console.print(Text("Thresholds", style="bold"))
        for result in results:
            mark, style = ("✓", "green") if result.passed else ("✗", "red")
            console.print(
                Text.assemble(
                    (f"  {mark} ", style),
                    (one_line(result.expression), style),
                    f"  {one_line(result.actual)}",
                    ("  (default)" if result.default else "", "dim"),
                )
            )
        broken = [result.expression for result in results if not result.passed]
        if broken:
            console.print(Text(f"broken: {one_line(', '.join(broken))}", style="bold red"))


def _line(console: Console, label: str, text: str) -> None:
    console.print(Text.assemble((f"{label:<12}", "bold"), text))


def _plain_table(head: Sequence[str], rows: list[list[str]], *, text_columns: int) -> Table:
    """A table of text cells, data printed as it is: the first ``text_columns`` to the
    left, the numbers to the right."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for position, title in enumerate(head):
        table.add_column(title, justify="left" if position < text_columns else "right")
    for cells in rows:
        table.add_row(*(Text(one_line(cell)) for cell in cells))
    return table


def _action_table(stats: LoadStats) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("Action")
    for title in ("Calls", "OK", "Errors"):
        table.add_column(title, justify="right")
    table.add_column("CALLERRORs")
    for title in ("Timeouts", "Lost", "Invalid", "p50 ms", "p95 ms", "p99 ms", "max ms"):
        table.add_column(title, justify="right")
    rows = _rows(stats)
    for position, (name, action) in enumerate(rows):
        table.add_row(
            Text(one_line(name), style="bold" if name == ALL else ""),
            f"{action.count:,}",
            f"{action.ok:,}",
            Text(f"{action.errors:,}", style="red" if action.errors else ""),
            Text(one_line(_codes(action.callerrors))),
            f"{action.timeouts:,}",
            f"{action.lost:,}",
            f"{action.invalid:,}",
            *_latencies(action.histogram),
            end_section=position == len(rows) - 2,
        )
    return table


# --- JSON and CSV -------------------------------------------------------------------------


def write_json(
    stats: LoadStats,
    results: Sequence[ThresholdResult],
    path: Path | str,
    lead: Sequence[str] | None = None,
) -> None:
    """The ``mockpoint-load/1`` document (:meth:`LoadStats.to_dict`), which ``mockpoint
    merge`` reads back, with the threshold results and ``lead``: the lines the console
    report leads with (by default :func:`lead_lines` of the results), empty for a run that
    passed."""
    path = Path(path)
    make_parent(path)
    document = stats.to_dict(thresholds=results)
    document["lead"] = list(lead_lines(stats, results) if lead is None else lead)
    text = json.dumps(document, indent=2, ensure_ascii=False)
    # A lone surrogate in a CSMS's error code cannot be UTF-8; as \\udXXXX it stays valid JSON.
    path.write_text(text + "\n", encoding="utf-8", errors="backslashreplace")


def write_csv(stats: LoadStats, path: Path | str) -> None:
    """One row per action and an ``(all)`` row, under a header (:data:`CSV_HEADER`);
    latencies in ms, empty without answered calls; CALLERRORs as ``Code=n;Code=n``. The
    first column names the scenario: ``(all)`` for the run's rows, then in a run of a fleet
    the same rows for each scenario, by name."""
    path = Path(path)
    make_parent(path)
    with path.open("w", newline="", encoding="utf-8", errors="backslashreplace") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_HEADER)
        groups = [(ALL, stats)] + [
            (name, stats.scenarios[name]) for name in sorted(stats.scenarios)
        ]
        for scenario, group in groups:
            writer.writerows(_csv_rows(scenario, group))


def _csv_rows(scenario: str, stats: LoadStats) -> list[list[str | int | float]]:
    """The rows of ``stats``'s actions and their ``(all)``, under ``scenario``."""
    rows: list[list[str | int | float]] = []
    for name, action in _rows(stats):
        histogram = action.histogram
        latencies: list[str | float] = [""] * 5
        if histogram.count:
            latencies = [histogram.percentile(q) / 1000 for q in (50, 95, 99)]
            latencies += [histogram.max / 1000, round(histogram.mean / 1000, 3)]
        rows.append(
            [
                _cell(scenario),
                _cell(name),
                action.count,
                action.ok,
                action.errors,
                _cell(";".join(f"{c}={n}" for c, n in sorted(action.callerrors.items()))),
                action.timeouts,
                action.lost,
                action.invalid,
                *latencies,
            ]
        )
    return rows


def _cell(text: str) -> str:
    """A text cell a spreadsheet will not run as a formula (OWASP "CSV injection"): a CSMS
    chooses its error codes. No OCPP action or error code starts with these characters."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# --- HTML ---------------------------------------------------------------------------------


def write_html(
    stats: LoadStats,
    path: Path | str,
    results: Sequence[ThresholdResult] = (),
    lead: Sequence[str] | None = None,
) -> None:
    """One HTML file with everything inline (styles, SVG charts; no script, no network):
    what failed the run, latency, connected charge points and calls per second over time,
    and the tables."""
    path = Path(path)
    make_parent(path)
    page = html_report(stats, results, lead)
    path.write_text(page, encoding="utf-8", errors="backslashreplace")


def html_report(
    stats: LoadStats, results: Sequence[ThresholdResult] = (), lead: Sequence[str] | None = None
) -> str:
    """The page :func:`write_html` writes."""
    lines = lead_lines(stats, results) if lead is None else lead
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>mockpoint load report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>mockpoint load report</h1>",
        *_html_lead(lines),
        _overview(stats),
    ]
    if results:
        parts.append('<h2>Thresholds</h2><ul class="thresholds">')
        for result in results:
            mark, css = ("✓", "pass") if result.passed else ("✗", "fail")
            default = " (default)" if result.default else ""
            parts.append(
                f'<li class="{css}">{mark} <code>{html.escape(result.expression)}</code> '
                f"{html.escape(result.actual)}{default}</li>"
            )
        parts.append("</ul>")
    parts += _charts(stats)
    parts += ["<h2>Actions</h2>", _html_table(stats)]
    if stats.scenarios:
        parts += ["<h2>By scenario</h2>", _html_rows(SCENARIO_HEAD, _scenario_rows(stats), 1)]
    if stats.events:
        rows = [cells for _record, cells in _event_rows(stats)]
        parts += ["<h2>Events</h2>", _html_rows(EVENTS_HEAD, rows, 2)]
    failures = _top_failures(stats)
    if failures:
        parts.append("<h2>Most frequent step failures</h2>")
        parts.append(_counts_table(failures, ("count", "failure"), count_first=True))
    for title, counts in (
        ("Connection failures", stats.failed),
        ("Requests received from the CSMS", stats.received),
        ("Not supported here (answered NotSupported, never a failure)", stats.not_supported),
    ):
        if counts:
            parts.append(f"<h2>{html.escape(title)}</h2>")
            parts.append(_counts_table(sorted(counts.items()), ("", "count")))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_lead(lines: Sequence[str]) -> list[str]:
    """The lead lines as a block: each headline a paragraph, its details a list under it."""
    if not lines:
        return []
    parts = ['<div class="lead">']
    details: list[str] = []

    def flush() -> None:
        if details:
            parts.append("<ul>" + "".join(f"<li>{d}</li>" for d in details) + "</ul>")
            details.clear()

    for line in lines:
        if line.startswith("  "):
            details.append(html.escape(line.strip()))
        else:
            flush()
            parts.append(f"<p>{html.escape(line)}</p>")
    flush()
    parts.append("</div>")
    return parts


def _overview(stats: LoadStats) -> str:
    try:
        started = datetime.fromtimestamp(stats.started_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):  # a hand-made file's date out of range
        started = f"{stats.started_at} (epoch seconds)"
    items = [
        ("Charge points", f"{stats.target:,}"),
        ("Shards", _shards_cell(stats)),
        ("Workers", f"{stats.workers}"),
        ("Started", started),
        ("Duration", _seconds(stats.duration)),
        ("Calls", f"{stats.calls:,}"),
        ("Errors", f"{stats.errors:,} ({stats.error_rate * 100:.2f} %)"),
        ("Throughput", f"{stats.throughput:,.1f} CALLRESULTs/s"),
        (
            "Connections",
            f"{stats.opened:,} opened, {stats.connect_failures:,} failed, "
            f"{stats.dropped:,} dropped",
        ),
        ("Messages", f"{stats.messages_in:,} in, {stats.messages_out:,} out"),
        (
            "Steps",
            f"{stats.steps_passed:,} passed, {stats.steps_failed:,} failed, "
            f"{stats.iterations:,} iterations",
        ),
    ]
    rows = "".join(f"<dt>{label}</dt><dd>{html.escape(value)}</dd>" for label, value in items)
    return f'<dl class="overview">{rows}</dl>'


def _charts(stats: LoadStats) -> list[str]:
    """Latency, connected charge points and calls per second, on one time axis, each
    with the fleet's events: a shaded band from when one struck until the last charge
    point was back, or a line when it has no such end."""
    windows, width = _windows(stats)
    per = "per second" if width == 1 else f"per {width} s window"
    span = (windows[0][0], windows[-1][0]) if windows else (0.0, 1.0)
    origin = _origin(stats)
    marks = [
        _Mark(
            record.at - origin,
            None if record.until is None or record.until <= record.at else record.until - origin,
            record.label,
        )
        for record in stats.events
    ]
    latency = [
        _Series(
            f"p{q}",
            color,
            [(x, w.histogram.percentile(q) / 1000) for x, w in windows if w.histogram.count],
        )
        for q, color in ((50, "#4e79a7"), (95, "#f28e2b"), (99, "#e15759"))
    ]
    connected = [
        _Series(
            "connected",
            "#59a14f",
            [(x, w.connected) for x, w in windows if w.connected is not None],
        )
    ]
    calls = [
        _Series("calls", "#4e79a7", [(x, w.calls / width) for x, w in windows]),
        _Series("errors", "#e15759", [(x, w.errors / width) for x, w in windows]),
    ]
    return [
        f"<h2>Latency of answered calls ({per})</h2>",
        _chart(latency, "ms", span, marks),
        "<h2>Connected charge points</h2>",
        _chart(connected, "charge points", span, marks),
        f"<h2>Calls per second ({per})</h2>",
        _chart(calls, "calls/s", span, marks),
    ]


def _counts_table(
    rows: Sequence[tuple[str, int]], head: tuple[str, str], *, count_first: bool = False
) -> str:
    lines = [f"<table><tr><th>{head[0]}</th><th>{head[1]}</th></tr>"]
    for text, n in rows:
        cells = [f"<td>{html.escape(text)}</td>", f'<td class="n">{n:,}</td>']
        lines.append("<tr>" + "".join(reversed(cells) if count_first else cells) + "</tr>")
    lines.append("</table>")
    return "\n".join(lines)


def _html_rows(head: Sequence[str], rows: list[list[str]], text_columns: int) -> str:
    """A table of text cells, escaped: the first ``text_columns`` as text, the rest as
    numbers."""
    e = html.escape
    lines = ["<table><tr>" + "".join(f"<th>{e(title)}</th>" for title in head) + "</tr>"]
    for cells in rows:
        lines.append(
            "<tr>"
            + "".join(
                f"<td>{e(cell)}</td>"
                if position < text_columns
                else f'<td class="n">{e(cell)}</td>'
                for position, cell in enumerate(cells)
            )
            + "</tr>"
        )
    lines.append("</table>")
    return "\n".join(lines)


def _html_table(stats: LoadStats) -> str:
    e = html.escape
    head = (
        "Action",
        "Calls",
        "OK",
        "Errors",
        "CALLERRORs",
        "Timeouts",
        "Lost",
        "Invalid",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
    )
    lines = ["<table><tr>" + "".join(f"<th>{e(title)}</th>" for title in head) + "</tr>"]
    for name, action in _rows(stats):
        cells = [
            f"{action.count:,}",
            f"{action.ok:,}",
            f"{action.errors:,}",
            _codes(action.callerrors),
            f"{action.timeouts:,}",
            f"{action.lost:,}",
            f"{action.invalid:,}",
            *_latencies(action.histogram),
        ]
        css = ' class="all"' if name == ALL else ""
        lines.append(
            f"<tr{css}><td>{e(name)}</td>"
            + "".join(f'<td class="n">{e(cell)}</td>' for cell in cells)
            + "</tr>"
        )
    lines.append("</table>")
    return "\n".join(lines)


@dataclass
class _Series:
    name: str
    color: str
    points: list[tuple[float, float]]


@dataclass
class _Mark:
    """An event on a chart, in seconds since the start: a band to ``end``, or a line."""

    at: float
    end: float | None
    label: str


def _origin(stats: LoadStats) -> int:
    """Second 0 of the charts: the start of the run, or the timeline's first second when a
    hand-made file starts later (or not at all)."""
    first = min(stats.timeline, default=int(stats.started_at))
    return int(stats.started_at) if 0 < stats.started_at <= first else first


def _windows(stats: LoadStats) -> tuple[list[tuple[float, TimelinePoint]], int]:
    """The timeline in windows of ``width`` seconds (1 unless the run is long), each merged
    exactly, with its start in seconds since the run started. Every window from the first
    second to the last is there: a second without a point had no calls."""
    if not stats.timeline:
        return [], 1
    first, last = min(stats.timeline), max(stats.timeline)
    origin = _origin(stats)
    width = max(1, math.ceil((last - first + 1) / MAX_POINTS))
    windows = [TimelinePoint() for _ in range((last - first) // width + 1)]
    for second, point in sorted(stats.timeline.items()):
        window = windows[(second - first) // width]
        window.calls += point.calls
        window.errors += point.errors
        window.histogram.merge(point.histogram)
        if point.connected is not None:
            window.connected = point.connected  # the window's last sample
    return [(first + i * width - origin, window) for i, window in enumerate(windows)], width


# Chart geometry, in SVG user units.
_W, _H = 760, 230
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 24, 44


def _chart(
    series: list[_Series],
    y_label: str,
    span: tuple[float, float],
    marks: Sequence[_Mark] = (),
) -> str:
    """An SVG line chart with labelled axes and tick values; a note when it has no data.
    ``span`` is the time axis, the same for every chart so that they line up; ``marks``
    are drawn behind the lines, cut to the span."""
    e = html.escape
    points = [point for line in series for point in line.points]
    if not points:
        return '<p class="empty">no data</p>'
    x_lo, x_hi = span
    if x_hi <= x_lo:
        x_hi = x_lo + 1
    y_ticks = _y_ticks(max(y for _x, y in points))
    y_hi = y_ticks[-1]
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM

    def sx(x: float) -> float:
        return _LEFT + (x - x_lo) / (x_hi - x_lo) * plot_w

    def sy(y: float) -> float:
        return _TOP + plot_h - y / y_hi * plot_h

    out = [
        f'<svg class="chart" viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" '
        f'role="img" aria-label="{e(y_label)} over time" xmlns="http://www.w3.org/2000/svg">'
    ]
    for tick in y_ticks:
        y = sy(tick)
        out.append(
            f'<line class="grid" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        out.append(
            f'<text class="tick" x="{_LEFT - 6}" y="{y + 4:.1f}" '
            f'text-anchor="end">{_number(tick)}</text>'
        )
    for tick in _x_ticks(x_lo, x_hi):
        x = sx(tick)
        out.append(
            f'<line class="axis" x1="{x:.1f}" x2="{x:.1f}" y1="{_TOP + plot_h}" '
            f'y2="{_TOP + plot_h + 4}"/>'
        )
        out.append(
            f'<text class="tick" x="{x:.1f}" y="{_TOP + plot_h + 17}" '
            f'text-anchor="middle">{_number(tick)}</text>'
        )
    out += [
        f'<line class="axis" x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{_TOP + plot_h}" '
        f'y2="{_TOP + plot_h}"/>',
        f'<line class="axis" x1="{_LEFT}" x2="{_LEFT}" y1="{_TOP}" y2="{_TOP + plot_h}"/>',
        f'<text class="label" x="{_LEFT + plot_w / 2:.0f}" y="{_H - 6}" '
        'text-anchor="middle">seconds since start</text>',
        f'<text class="label" transform="translate(14 {_TOP + plot_h / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle">{e(y_label)}</text>',
    ]
    out += _marks(marks, sx, x_lo, x_hi)
    legend_x = _W - _RIGHT
    for line in reversed(series):
        out.append(
            f'<text class="legend" x="{legend_x}" y="14" text-anchor="end" '
            f'fill="{line.color}">— {e(line.name)}</text>'
        )
        legend_x -= 12 + 8 * (len(line.name) + 2)
    for line in series:
        if not line.points:
            continue
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in line.points)
        out.append(
            f'<polyline class="series {e(line.name)}" fill="none" '
            f'stroke="{line.color}" points="{coords}"/>'
        )
        if len(line.points) == 1:  # a line of one point draws nothing: show a dot
            out.append(
                f'<circle cx="{coords.split(",")[0]}" cy="{coords.split(",")[1]}" '
                f'r="3" fill="{line.color}"/>'
            )
    out.append("</svg>")
    return "\n".join(out)


def _marks(
    marks: Sequence[_Mark], sx: Callable[[float], float], x_lo: float, x_hi: float
) -> list[str]:
    """Each event within the time axis: a shaded band, or a dashed line, with its label at
    the top (on one of three rows, so that events close together stay readable) and as a
    tooltip."""
    e = html.escape
    out = []
    top, bottom = _TOP, _H - _BOTTOM
    for position, mark in enumerate(marks):
        end = mark.at if mark.end is None else mark.end
        if end < x_lo or mark.at > x_hi:
            continue
        x0, x1 = sx(max(mark.at, x_lo)), sx(min(end, x_hi))
        title = f"<title>{e(mark.label)}</title>"
        if mark.end is None:
            out.append(
                f'<line class="event-line" x1="{x0:.1f}" x2="{x0:.1f}" y1="{top}" '
                f'y2="{bottom}">{title}</line>'
            )
        else:
            out.append(
                f'<rect class="event-band" x="{x0:.1f}" y="{top}" width="{max(x1 - x0, 1):.1f}" '
                f'height="{bottom - top}">{title}</rect>'
            )
        # right of its start, or left of its end once past the middle: inside the chart
        x, anchor = (x0 + 3, "start") if x0 < _LEFT + (_W - _LEFT - _RIGHT) / 2 else (x1 - 3, "end")
        out.append(
            f'<text class="event-label" x="{x:.1f}" y="{top + 11 + 12 * (position % 3)}" '
            f'text-anchor="{anchor}">{e(mark.label)}</text>'
        )
    return out


def _step(span: float, count: int = 5) -> float:
    """A round step (1, 2, 2.5 or 5 times a power of ten) cutting ``span`` in about
    ``count`` parts."""
    raw = span / count
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude * (1 + 1e-9))


def _y_ticks(top: float) -> list[float]:
    """Ticks from 0 to the first round value at or above ``top``: the top of the axis."""
    if top <= 0:
        return [0, 1]
    step = _step(top)
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def _x_ticks(lo: float, hi: float) -> list[float]:
    """Round whole seconds between ``lo`` and ``hi``."""
    step = max(1.0, _step(hi - lo))
    first = math.ceil(lo / step) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _number(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.3g}"


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#222;margin:2rem auto;
max-width:800px;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.5rem}h2{font-size:1.1rem;margin:1.6rem 0 .4rem}
dl.overview{display:grid;grid-template-columns:max-content auto;gap:.15rem 1rem;margin:0}
dt{color:#666}dd{margin:0}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
th,td{padding:.25rem .5rem;border-bottom:1px solid #e5e5e5;text-align:left}
th{font-weight:600;border-bottom:2px solid #ccc}td.n{text-align:right}
tr.all td{font-weight:600;border-top:2px solid #ccc}
ul.thresholds{list-style:none;padding:0}li.pass{color:#1a7f37}li.fail{color:#cf222e}
div.lead{color:#cf222e;border-left:4px solid #cf222e;padding:.1rem .8rem;margin:1rem 0}
div.lead p{font-weight:600;margin:.4rem 0}div.lead ul{margin:.2rem 0}
code{font-family:ui-monospace,monospace}
svg.chart{max-width:100%;height:auto;display:block}
.grid{stroke:#eee}.axis{stroke:#888}.tick{font-size:11px;fill:#666}
.label{font-size:12px;fill:#444}.legend{font-size:12px;font-weight:600}
polyline{stroke-width:1.5;stroke-linejoin:round}.empty{color:#888}
.event-band{fill:#8a8a8a;fill-opacity:.15}.event-line{stroke:#8a8a8a;stroke-dasharray:4 3}
.event-label{font-size:10px;fill:#555;paint-order:stroke;stroke:#fff;stroke-width:3px}
"""

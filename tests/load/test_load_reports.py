"""The load reports, read back: console text, CSV rows, the JSON document, the HTML charts."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from rich.console import Console

from mockpoint.load.reports import (
    CSV_HEADER,
    MAX_POINTS,
    console_report,
    html_report,
    lead_lines,
    print_lead,
    write_csv,
    write_html,
    write_json,
)
from mockpoint.load.stats import TIMEOUT, LoadStats
from mockpoint.load.thresholds import (
    Silence,
    ThresholdResult,
    evaluate_all,
    parse_threshold,
    with_defaults,
)

START = 1_700_000_000.0
#: Failure text a CSMS caused: markup and HTML that must show as text.
HOSTILE = "expected [bold]Accepted[/bold], got <script>alert(1)</script>"


def sample() -> LoadStats:
    """Seconds 0-5 of a run: calls in 0, 1, 2 and 5 (3 and 4 had none), connected sampled in
    0-3, two actions, CALLERRORs and a timeout."""
    stats = LoadStats(target=4, started_at=START)
    for second in (0, 1, 2, 5):
        for i in range(10):
            stats.call_finished("Heartbeat", 0.001 * (i + 1), None, START + second + 0.1)
    stats.call_finished("Heartbeat", 0.2, "NotImplemented", START + 1)
    stats.call_finished("Heartbeat", 0.3, "NotImplemented", START + 2)
    stats.call_finished("StartTransaction", 30, TIMEOUT, START + 5)
    stats.call_finished("Authorize", 0.05, "=cmd|' /C calc'!A0", START + 5)
    for second, connected in enumerate((1, 3, 4, 4)):
        stats.sample_connected(START + second, connected)
    for _ in range(3):
        stats.connection_opened()
    stats.connection_failed("refused")
    stats.connection_failed("refused")
    stats.connection_dropped()
    stats.messages_in, stats.messages_out = 120, 130
    stats.step_finished(True, "send Heartbeat")
    stats.step_finished(False, HOSTILE)
    stats.step_finished(False, "timeout waiting for StartTransaction")
    stats.step_finished(False, "timeout waiting for StartTransaction")
    stats.iteration_finished()
    stats.request_received("RemoteStopTransaction")
    stats.request_received("SetChargingProfile", not_supported=True)
    stats.finished_at = START + 6
    return stats


def results(stats: LoadStats) -> list[ThresholdResult]:
    return evaluate_all([parse_threshold(t) for t in ("p99<500ms", "errors<0.1%")], stats)


# --- console ------------------------------------------------------------------------------


def console_text(
    stats: LoadStats, shown: list[ThresholdResult], lead: list[str] | None = None
) -> str:
    console = Console(file=io.StringIO(), width=160, force_terminal=False)
    console_report(stats, shown, console, lead)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(text, str)
    return text


def test_console_report() -> None:
    stats = sample()
    text = console_text(stats, results(stats))
    lines = text.splitlines()
    # What failed the run first: here the one broken threshold.
    assert lines[0] == "FAILED: errors<0.1% broken: 9.091% (4 of 44 calls)"
    assert lines[1] == "mockpoint load  4 charge points, 1 worker, 6.0 s"
    rows = {line.split()[0]: line.split() for line in lines if line.split()}
    assert rows["Heartbeat"][:5] == ["Heartbeat", "42", "40", "2", "NotImplemented×2"]
    assert rows["StartTransaction"][1:5] == ["1", "0", "1", "1"]  # calls, ok, errors, timeouts
    assert rows["StartTransaction"][-4:] == ["–"] * 4  # no answers, no latency
    assert rows["(all)"][1:4] == ["44", "40", "4"]
    # Actions sorted, the total last.
    firsts = [line.split()[0] if line.split() else "" for line in lines]
    order = [firsts.index(name) for name in ("Authorize", "Heartbeat", "StartTransaction")]
    assert order == sorted(order) and order[-1] < firsts.index("(all)")
    assert "Connections 3 opened, 2 failed (refused 2), 1 dropped" in lines
    assert "Messages    120 in, 130 out" in lines
    assert any(line.startswith("Throughput  6.7 calls/s") for line in lines)
    assert "Steps       1 passed, 3 failed, 1 iterations" in lines
    # The top failure first, and peer text shown as it is, not as markup.
    failures = [line.strip() for line in lines if "×  " in line]
    assert failures == ["2×  timeout waiting for StartTransaction", f"1×  {HOSTILE}"]
    assert "Received    RemoteStopTransaction 1, SetChargingProfile 1" in lines
    assert "Unsupported SetChargingProfile 1 (not supported here: NotSupported)" in lines
    assert "  ✓ p99<500ms  300ms" in lines
    assert "  ✗ errors<0.1%  9.091% (4 of 44 calls)" in lines
    assert lines[-1] == "broken: errors<0.1%"


def test_the_report_leads_with_failed_steps_and_their_most_frequent_failures() -> None:
    stats = sample()  # 3 of 4 steps failed
    shown = evaluate_all(with_defaults([parse_threshold("p99<500ms")]), stats)
    lead = lead_lines(stats, shown)
    assert lead == [
        "FAILED: 3 of 4 steps failed (75.00%): any failed step fails a run without a "
        "failed_steps threshold (--threshold 'failed_steps<1%' tolerates 1%)",
        "         2×  timeout waiting for StartTransaction",
        f"         1×  {HOSTILE}",
    ]
    lines = console_text(stats, shown).splitlines()
    assert lines[:3] == lead
    assert lines[3].startswith("mockpoint load")
    assert "Steps       1 passed, 3 failed, 1 iterations" in lines
    assert sum(HOSTILE in line for line in lines) == 1  # shown in the lead, not again
    assert "  ✗ failed_steps==0  3  (default)" in lines
    # A failed_steps threshold given instead says how many may fail.
    shown = evaluate_all(with_defaults([parse_threshold("failed_steps<50%")]), stats)
    assert lead_lines(stats, shown)[0] == (
        "FAILED: 3 of 4 steps failed (75.00%): more than failed_steps<50% allows"
    )
    shown = evaluate_all(with_defaults([parse_threshold("failed_steps<=75%")]), stats)
    assert lead_lines(stats, shown) == []
    lines = console_text(stats, shown).splitlines()
    assert lines[0].startswith("mockpoint load")
    assert sum(HOSTILE in line for line in lines) == 1  # under Steps, as before


def test_the_report_leads_with_a_csms_that_stopped_answering() -> None:
    stats = sample()
    quiet = Silence(seconds=17, of=20, unanswered=1)
    lead = lead_lines(stats, [], quiet)
    assert lead == [
        "FAILED: no call was answered in 17 of the 20 seconds since the first connection: "
        "1 call got no answer (1 timed out)"
    ]
    assert lead_lines(stats, [], Silence(seconds=10, of=20, unanswered=1)) == []


def test_callers_add_lines_to_the_lead() -> None:
    stats = sample()
    lead = [*lead_lines(stats, results(stats)), "FAILED: 2 charge points gave up", "  CP-1"]
    console = Console(file=io.StringIO(), width=160, force_terminal=True, color_system="standard")
    print_lead(console, lead)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "\x1b[1;31mFAILED: 2 charge points gave up" in text  # a headline: bold red
    assert "\x1b[31m  CP-1" in text  # a detail: red
    assert console_text(stats, results(stats), lead).splitlines()[:3] == lead


def test_console_report_without_thresholds_or_calls() -> None:
    text = console_text(LoadStats(target=0, started_at=START), [])
    assert "Thresholds" not in text
    assert "(all)" in text
    assert "broken" not in text


# --- JSON and CSV -------------------------------------------------------------------------


def test_json_reads_back(tmp_path: Path) -> None:
    stats = sample()
    path = tmp_path / "reports" / "load.json"  # a folder not made yet
    write_json(stats, results(stats), path)
    document = json.loads(path.read_text(encoding="utf-8"))
    assert LoadStats.from_dict(document, source=str(path)).to_dict() == stats.to_dict()
    assert [t["expression"] for t in document["thresholds"]] == ["p99<500ms", "errors<0.1%"]
    assert [t["passed"] for t in document["thresholds"]] == [True, False]
    assert document["lead"] == ["FAILED: errors<0.1% broken: 9.091% (4 of 44 calls)"]
    write_json(stats, [], path, ["FAILED: given"])
    assert json.loads(path.read_text(encoding="utf-8"))["lead"] == ["FAILED: given"]


def test_csv_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "load.csv"
    write_csv(sample(), path)
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert tuple(rows[0]) == CSV_HEADER
    assert rows[0][:2] == ["scenario", "action"]
    table = {row[1]: dict(zip(CSV_HEADER, row, strict=True)) for row in rows[1:]}
    assert list(table) == ["Authorize", "Heartbeat", "StartTransaction", "(all)"]
    assert {row[0] for row in rows[1:]} == {"(all)"}  # one scenario file: the run's rows only
    heartbeat = table["Heartbeat"]
    assert (heartbeat["calls"], heartbeat["ok"], heartbeat["errors"]) == ("42", "40", "2")
    assert heartbeat["callerrors"] == "NotImplemented=2"
    assert float(heartbeat["max_ms"]) == 300.0
    assert 10.0 <= float(heartbeat["p95_ms"]) <= 10.0 * 1.01  # rank 40 of 42: 10 ms
    assert table["StartTransaction"]["timeouts"] == "1"
    assert table["StartTransaction"]["p50_ms"] == ""  # no answered calls: no latency
    assert table["(all)"]["calls"] == "44"
    # A CSMS's error code cannot become a spreadsheet formula.
    assert table["Authorize"]["callerrors"] == "'=cmd|' /C calc'!A0=1"


# --- HTML ---------------------------------------------------------------------------------


def polylines(page: str) -> dict[str, list[tuple[float, float]]]:
    found = re.findall(r'<polyline class="series ([^"]+)"[^>]*points="([^"]*)"', page)
    return {
        name: [(float(x), float(y)) for x, y in (p.split(",") for p in points.split())]
        for name, points in found
    }


def test_html_charts(tmp_path: Path) -> None:
    stats = sample()
    path = tmp_path / "load.html"
    write_html(stats, path, results(stats))
    page = path.read_text(encoding="utf-8")
    lines = polylines(page)
    # Latencies where calls were answered (4 seconds), connected where sampled (4),
    # calls and errors every second from the first to the last (6, gaps at 0).
    assert {name: len(points) for name, points in lines.items()} == {
        "p50": 4,
        "p95": 4,
        "p99": 4,
        "connected": 4,
        "calls": 6,
        "errors": 6,
    }
    calls_y = [y for _x, y in lines["calls"]]
    assert calls_y[3] == calls_y[4] == max(calls_y)  # 0 calls/s in seconds 3 and 4
    xs = [x for x, _y in lines["calls"]]
    assert xs == sorted(xs)
    # The connected line climbs: 1, 3, 4, 4 charge points (SVG y grows downwards).
    connected_y = [y for _x, y in lines["connected"]]
    assert connected_y[0] > connected_y[1] > connected_y[2] == connected_y[3]
    assert page.count("seconds since start") == 3
    for label in (">ms<", ">charge points<", ">calls/s<"):
        assert label in page


def test_html_is_self_contained_and_escapes_data() -> None:
    page = html_report(sample(), [ThresholdResult("p99<1ms", "<b>", False)])
    assert "<script" not in page
    assert re.findall(r"(?:src|href)\s*=", page) == []
    assert "url(" not in page
    assert html_escaped(HOSTILE) in page
    assert "&lt;b&gt;" in page
    # Each chart is well-formed XML: escaping and attributes are right.
    charts = re.findall(r"<svg.*?</svg>", page, flags=re.DOTALL)
    assert len(charts) == 3
    for chart in charts:
        root = ET.fromstring(chart)
        ticks = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
        assert "0" in ticks  # both axes have tick values, starting at 0


def html_escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_html_leads_with_what_failed() -> None:
    stats = sample()
    shown = evaluate_all(with_defaults([]), stats)
    page = html_report(stats, shown)
    lead = re.search(r'<div class="lead">(.*?)</div>', page, flags=re.DOTALL)
    assert lead is not None and page.index('<div class="lead">') < page.index("<dl")
    assert "<p>FAILED: 3 of 4 steps failed (75.00%): any failed step" in lead[1]
    assert f"<li>1×  {html_escaped(HOSTILE)}</li>" in lead[1]
    assert "failed_steps==0</code> 3 (default)</li>" in page
    assert '<div class="lead">' not in html_report(stats, evaluate_all([], stats))


def test_html_summary_table() -> None:
    page = html_report(sample())
    assert "<td>Heartbeat</td>" in page
    assert '<tr class="all"><td>(all)</td><td class="n">44</td>' in page
    assert "NotImplemented×2" in page
    assert "Thresholds" not in page  # none given


def test_long_runs_are_drawn_in_windows() -> None:
    stats = LoadStats(target=1, started_at=START)
    seconds = 5 * MAX_POINTS
    for second in range(seconds):
        stats.call_finished("Heartbeat", 0.001, None, START + second)
    stats.call_finished("Heartbeat", 0.5, None, START + seconds - 1)  # one slow call, last
    stats.finished_at = START + seconds
    page = html_report(stats)
    lines = polylines(page)
    assert len(lines["calls"]) == len(lines["p99"]) == MAX_POINTS
    assert "per 5 s window" in page
    # Each window merges its seconds' histograms exactly: the slow call is in the last one.
    p99 = [y for _x, y in lines["p99"]]
    assert p99[-1] == min(p99) and p99.count(min(p99)) == 1


def test_html_without_data() -> None:
    page = html_report(LoadStats(target=0, started_at=START))
    assert page.count("no data") == 3
    assert "<polyline" not in page


def test_a_hand_made_timeline_spanning_decades_is_drawn_in_bounded_work() -> None:
    stats = LoadStats(target=1, started_at=START)
    stats.call_finished("Heartbeat", 0.001, None, START)
    stats.call_finished("Heartbeat", 0.002, None, START + 10**9)
    stats.finished_at = START + 10**9
    lines = polylines(html_report(stats))
    assert len(lines["calls"]) <= MAX_POINTS
    assert len(lines["p50"]) == 2

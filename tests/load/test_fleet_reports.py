"""The reports of a run of a fleet: the breakdown by scenario and the fleet's events, in the
console, the CSV and the HTML page; and nothing of either for a run of one scenario file."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest
from rich.console import Console

from conftest import UNIT
from csms_process import Csms
from mockpoint.cli.main import main
from mockpoint.load import fleet
from mockpoint.load.reports import (
    CSV_HEADER,
    console_report,
    html_report,
    write_csv,
    write_html,
    write_json,
)
from mockpoint.load.stats import EVENT_KINDS, TIMEOUT, LoadStats

START = 1_700_000_000.0
GROUPS = ("ac-depot", "dc-highway")
#: An event's label as a hand-made result could have it: markup and HTML shown as text.
ODD_LABEL = "partition <&> [bold]of[/bold] dc-highway"
SVG = "{http://www.w3.org/2000/svg}"


def fleet_run(shards: int = 1) -> list[LoadStats]:
    """Ten seconds of a fleet's run split over ``shards``, each recording as a shard does:
    every figure into its statistics and its group's, the events into its own. ac-depot's 6
    charge points send Heartbeats, 3 of them lose power from second 2 to 5.5; dc-highway's
    2 start transactions, one of which times out, and one of them gives up."""
    runs = []
    for index in range(shards):
        run = LoadStats(target=share(8, index, shards), started_at=START)
        for name, target in zip(GROUPS, (6, 2), strict=True):
            run.scenarios[name] = LoadStats(share(target, index, shards), started_at=START)
        runs.append(run)

    def both(number: int, name: str) -> list[LoadStats]:
        run = runs[number % shards]
        return [run, run.scenarios[name]]

    for second in range(10):
        for number in range(6):
            for stats in both(number, "ac-depot"):
                stats.call_finished("Heartbeat", 0.001 * (number + 1), None, START + second + 0.1)
        for stats in both(second, "dc-highway"):
            stats.call_finished("StartTransaction", 0.02, None, START + second + 0.2)
        for index, run in enumerate(runs):
            depot = 6 if second < 2 or second > 5 else 3
            counts = {
                "ac-depot": share(depot, index, shards),
                "dc-highway": share(2, index, shards),
            }
            for name, n in counts.items():
                run.scenarios[name].sample_connected(START + second, n)
            run.sample_connected(START + second, sum(counts.values()))
    for stats in both(1, "dc-highway"):
        stats.call_finished("StartTransaction", 30, TIMEOUT, START + 9.5)
        stats.step_finished(False, "expect Accepted, got Rejected")
        stats.charge_point_abandoned("5 passes in a row failed")
    for number in range(8):
        for stats in both(number, "ac-depot" if number < 6 else "dc-highway"):
            stats.connection_opened()
            stats.step_finished(True, "send BootNotification")
    for index, run in enumerate(runs):
        touched = {n: share(n, index, shards) for n in (2, 3, 8)}
        run.event_applied("blackout", START + 2 + index / 10, START + 5.5, touched[3], BLACKOUT)
        run.event_applied("surge", START + 4, None, touched[2], "surge of 2 into ac-depot")
        run.event_applied("partition", START + 7, START + 30, touched[2], ODD_LABEL)
        run.event_applied("rolling_reboot", START + 3930, None, touched[8], "rolling reboot")
        for stats in (run, *run.scenarios.values()):
            stats.finished_at = START + 10
    return runs


BLACKOUT = "blackout of 50% for 3s"


def share(n: int, index: int, shards: int) -> int:
    """Shard ``index``'s part of ``n`` charge points."""
    return n // shards + (index < n % shards)


def console_lines(stats: LoadStats) -> list[str]:
    console = Console(file=io.StringIO(), width=160, force_terminal=False)
    console_report(stats, [], console)
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(text, str)
    return text.splitlines()


def cells(lines: list[str], first: str) -> list[str]:
    """The cells of the row that starts with ``first``, split at runs of two spaces."""
    (row,) = [line for line in lines if line.strip().startswith(first + " ")]
    return re.split(r"\s{2,}", row.strip())


# --- console ------------------------------------------------------------------------------


def test_console_shows_each_scenario_after_the_totals() -> None:
    (run,) = fleet_run()
    lines = console_lines(run)
    by_scenario, events = lines.index("By scenario"), lines.index("Events")
    assert lines.index("Steps       8 passed, 1 failed, 0 iterations") < by_scenario < events
    header = cells(lines, "Scenario")
    assert header == [
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
    ]
    # 60 Heartbeats of 1 to 6 ms; 11 StartTransactions of 20 ms, one timed out.
    depot = ["ac-depot", "6", "6", "60", "0.00%", "3.0", "6.0", "6.0", "6", "0", "0"]
    assert cells(lines, "ac-depot") == depot
    highway = ["dc-highway", "2", "2", "11", "9.09%", "20.0", "20.0", "20.0", "2", "1", "1"]
    assert cells(lines, "dc-highway") == highway
    # The run's own figures stay as they were: the totals of both.
    assert cells(lines, "(all)")[1:4] == ["71", "70", "1"]


def test_console_lists_the_events_from_the_start() -> None:
    (run,) = fleet_run()
    lines = console_lines(run)
    assert cells(lines, "At") == ["At", "Event", "Charge points", "Duration"]
    assert cells(lines, "+0m02s") == ["+0m02s", BLACKOUT, "3", "3.5 s"]
    assert cells(lines, "+0m04s") == ["+0m04s", "surge of 2 into ac-depot", "2", "–"]
    assert cells(lines, "+0m07s") == ["+0m07s", ODD_LABEL, "2", "23.0 s"]  # as text
    assert cells(lines, "+1h05m30s") == ["+1h05m30s", "rolling reboot", "8", "–"]
    order = [next(i for i, line in enumerate(lines) if at in line) for at in ("+0m02", "+1h05")]
    assert order == sorted(order)


def test_merged_shards_report_what_one_run_reports(tmp_path: Path) -> None:
    """Two shards' JSON files merged, as ``mockpoint merge`` does: the same rows, but the
    charge points connected at the end, which a file keeps no timeline of, read as the
    connections opened; an event's charge points add up over the shards."""
    paths = []
    for index, shard in enumerate(fleet_run(shards=2)):
        paths.append(tmp_path / f"shard-{index + 1}.json")
        write_json(shard, [], paths[-1])
    shards = [
        LoadStats.from_dict(json.loads(path.read_text(encoding="utf-8")), source=str(path))
        for path in paths
    ]
    merged = LoadStats.merged(shards)
    lines = console_lines(merged)
    (one,) = fleet_run()
    expected = console_lines(one)
    for name in GROUPS:
        row = cells(lines, name)
        assert row[2].endswith(" opened")
        assert row[2] == f"{cells(expected, name)[1]} opened"  # every charge point connected
        assert row[:2] + row[3:] == cells(expected, name)[:2] + cells(expected, name)[3:]
    # The blackout struck the shards 0.1 s apart: one event, at the earlier, 3 charge points.
    assert cells(lines, "+0m02s") == cells(expected, "+0m02s")
    assert [e.charge_points for e in merged.events] == [3, 2, 2, 8]


# --- CSV ----------------------------------------------------------------------------------


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        rows = list(csv.reader(file))
    assert tuple(rows[0]) == CSV_HEADER
    return [dict(zip(CSV_HEADER, row, strict=True)) for row in rows[1:]]


def test_csv_has_each_scenarios_rows_after_the_runs(tmp_path: Path) -> None:
    (run,) = fleet_run()
    path = tmp_path / "load.csv"
    write_csv(run, path)
    rows = read_csv(path)
    assert [(row["scenario"], row["action"]) for row in rows] == [
        ("(all)", "Heartbeat"),
        ("(all)", "StartTransaction"),
        ("(all)", "(all)"),
        ("ac-depot", "Heartbeat"),
        ("ac-depot", "(all)"),
        ("dc-highway", "StartTransaction"),
        ("dc-highway", "(all)"),
    ]
    table = {(row["scenario"], row["action"]): row for row in rows}
    highway = table["dc-highway", "(all)"]
    assert (highway["calls"], highway["ok"], highway["timeouts"]) == ("11", "10", "1")
    # Every figure went into the run's and a group's: the groups add up to the run.
    for column in ("calls", "ok", "errors", "timeouts"):
        groups = sum(int(table[name, "(all)"][column]) for name in GROUPS)
        assert groups == int(table["(all)", "(all)"][column])


def test_a_scenario_name_cannot_become_a_formula(tmp_path: Path) -> None:
    run = LoadStats(target=1, started_at=START)
    run.scenarios["=1+1"] = LoadStats(target=1, started_at=START)  # a hand-made file's name
    path = tmp_path / "load.csv"
    write_csv(run, path)
    assert [row["scenario"] for row in read_csv(path)] == ["(all)", "'=1+1"]


# --- HTML ---------------------------------------------------------------------------------


def charts(page: str) -> list[ET.Element]:
    return [ET.fromstring(svg) for svg in re.findall(r"<svg.*?</svg>", page, flags=re.DOTALL)]


def calls_xs(chart: ET.Element) -> list[float]:
    """The x of each second's point of the calls line: where the time axis puts seconds."""
    (line,) = [p for p in chart.iter(f"{SVG}polyline") if p.get("class") == "series calls"]
    return [float(point.split(",")[0]) for point in (line.get("points") or "").split()]


def test_html_draws_each_event_on_every_timeline_chart(tmp_path: Path) -> None:
    (run,) = fleet_run()
    path = tmp_path / "load.html"
    write_html(run, path)
    page = path.read_text(encoding="utf-8")
    drawn = charts(page)
    assert len(drawn) == 3
    xs = calls_xs(drawn[2])  # seconds 0 to 9
    for chart in drawn:
        bands = [r for r in chart.iter(f"{SVG}rect") if r.get("class") == "event-band"]
        lines = [r for r in chart.iter(f"{SVG}line") if r.get("class") == "event-line"]
        labels = [t.text for t in chart.iter(f"{SVG}text") if t.get("class") == "event-label"]
        # The rolling reboot, an hour after the timeline ends, is in the table only.
        assert labels == [BLACKOUT, "surge of 2 into ac-depot", ODD_LABEL]
        assert [b.findtext(f"{SVG}title") for b in bands] == [BLACKOUT, ODD_LABEL]
        blackout, partition = bands
        # The blackout from second 2 to 5.5; the partition from 7 to the axis' end, cut.
        assert float(blackout.get("x") or 0) == pytest.approx(xs[2], abs=0.1)
        right = float(blackout.get("x") or 0) + float(blackout.get("width") or 0)
        assert right == pytest.approx((xs[5] + xs[6]) / 2, abs=0.2)
        assert float(partition.get("x") or 0) == pytest.approx(xs[7], abs=0.1)
        end = float(partition.get("x") or 0) + float(partition.get("width") or 0)
        assert end == pytest.approx(xs[9], abs=0.2)
        (surge,) = lines
        assert float(surge.get("x1") or 0) == pytest.approx(xs[4], abs=0.1)


def test_html_tables_by_scenario_and_of_events_escape_their_text() -> None:
    (run,) = fleet_run()
    page = html_report(run)
    assert page.index("<h2>Actions</h2>") < page.index("<h2>By scenario</h2>")
    assert page.index("<h2>By scenario</h2>") < page.index("<h2>Events</h2>")
    assert (
        '<tr><td>dc-highway</td><td class="n">2</td><td class="n">2</td><td class="n">11</td>'
        '<td class="n">9.09%</td>'
    ) in page
    assert '<tr><td>+0m02s</td><td>blackout of 50% for 3s</td><td class="n">3</td>' in page
    escaped = "partition &lt;&amp;&gt; [bold]of[/bold] dc-highway"
    assert f"<td>{escaped}</td>" in page
    assert ODD_LABEL not in page  # never unescaped, in a table or on a chart
    assert page.count(f">{escaped}</text>") == 3  # a label on each chart
    assert "<script" not in page
    assert re.findall(r"(?:src|href)\s*=", page) == []


# --- a real run -------------------------------------------------------------------------

CHARGING = """\
name: charging
charge_point: {id: CP-X, connectors: 1}
clock: {speed: 1}
timeout: 5s
steps:
  - plug_in: {connector: 1}
  - start_transaction: {connector: 1, id_tag: TAG-1}
  - charge: {connector: 1, power: 11kW, duration: 10m}
  - stop_transaction: {connector: 1}
  - unplug: {connector: 1}
"""
IDLE = """\
name: idle
charge_point: {id: CP-Y, connectors: 1}
clock: {speed: 0}
steps:
  - send: Heartbeat
"""
FLEET = """\
fleet: depot and highway
groups:
  - {scenario: charging.yaml, name: depot, count: 4, loop: true, id_pattern: "DEPOT-{n:03d}"}
  - {scenario: idle.yaml, name: highway, count: 2, id_pattern: "HWY-{n:03d}"}
events:
  - {at: 1s, blackout: {fraction: 0.5, for: 1s, reconnect_within: 0.5s, group: depot}}
  - {at: 2s, surge: {count: 2, group: highway}}
"""


def test_the_reports_of_a_fleet_run_in_two_workers_match_what_the_csms_saw(
    tmp_path: Path, csms: Csms, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, text in (("charging", CHARGING), ("idle", IDLE), ("fleet", FLEET)):
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    out = {suffix: tmp_path / f"load.{suffix}" for suffix in ("json", "csv", "html")}
    args = ["load", str(tmp_path / "fleet.yaml"), "--duration", "4s", "--workers", "2"]
    args += ["--csms", csms.url, "-q"]
    for suffix, path in out.items():
        args += [f"--{suffix}", str(path)]
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    boots = Counter(cp for cp, action in csms_calls(csms) if action == "BootNotification")
    starts = Counter(cp for cp, action in csms_calls(csms) if action == "StartTransaction")
    # Half the depot lost power and booted again; the surge brought two more to the highway.
    assert sorted(boots.values()) == [1, 1, 1, 1, 1, 1, 2, 2]
    twice = sorted(cp for cp, n in boots.items() if n == 2)
    assert len(twice) == 2 and all(cp.startswith("DEPOT-") for cp in twice)
    # Each group's rows count what the CSMS received from that group's charge points.
    table = {(row["scenario"], row["action"]): row for row in read_csv(out["csv"])}
    for name, prefix in (("depot", "DEPOT-"), ("highway", "HWY-")):
        sent = sum(n for cp, n in boots.items() if cp.startswith(prefix))
        assert table[name, "BootNotification"]["calls"] == str(sent)
    assert table["depot", "StartTransaction"]["ok"] == str(sum(starts.values()))
    assert ("highway", "StartTransaction") not in table
    assert table["(all)", "BootNotification"]["calls"] == str(sum(boots.values()))
    assert cells(lines, "depot")[:2] == ["depot", "4"]
    assert cells(lines, "highway")[:2] == ["highway", "4"]  # 2, and 2 of the surge
    blackout = cells(lines, "+0m01s")
    assert blackout[1:3] == ["blackout of 50% of depot for 1s", "2"]
    assert 1.0 <= float(blackout[3].removesuffix(" s")) <= 1.5 + UNIT  # back, reconnected
    assert cells(lines, "+0m02s")[1:] == ["surge of 2 charge points of highway", "2", "–"]
    # The JSON has one record of each event, whichever worker applied it.
    document = json.loads(out["json"].read_text(encoding="utf-8"))
    assert [(e["kind"], e["charge_points"]) for e in document["events"]] == [
        ("blackout", 2),
        ("surge", 2),
    ]
    assert list(document["scenarios"]) == ["depot", "highway"]
    for chart in charts(out["html"].read_text(encoding="utf-8")):
        classes = [e.get("class") for e in chart.iter() if e.get("class", "").startswith("event-")]
        assert classes == ["event-band", "event-label", "event-line", "event-label"]


def csms_calls(csms: Csms) -> list[tuple[str, str]]:
    """(charge point, action) of every CALL the CSMS received."""
    return [
        (f["cp"], f["frame"][2])
        for f in csms.frames()
        if f["direction"] == "in" and isinstance(f["frame"], list) and f["frame"][0] == 2
    ]


# --- a run of one scenario file -----------------------------------------------------------


def one_scenario_run() -> LoadStats:
    stats = LoadStats(target=2, started_at=START)
    for second in range(3):
        stats.call_finished("Heartbeat", 0.01, None, START + second)
        stats.sample_connected(START + second, 2)
    stats.step_finished(True, "send Heartbeat")
    stats.finished_at = START + 3
    return stats


def test_a_run_of_one_scenario_file_shows_nothing_new(tmp_path: Path) -> None:
    stats = one_scenario_run()
    lines = console_lines(stats)
    assert "By scenario" not in lines and "Events" not in lines
    write_csv(stats, tmp_path / "load.csv")
    assert {row["scenario"] for row in read_csv(tmp_path / "load.csv")} == {"(all)"}
    page = html_report(stats)
    for absent in ("By scenario", "<h2>Events", 'class="event-band"', 'class="event-line"'):
        assert absent not in page
    write_json(stats, [], tmp_path / "load.json")
    document = json.loads((tmp_path / "load.json").read_text(encoding="utf-8"))
    assert document["events"] == [] and "scenarios" not in document


def test_the_kinds_of_event_are_the_fleet_files() -> None:
    assert EVENT_KINDS == fleet.EVENT_KINDS

"""Live progress: a redrawn display on a terminal, a plain line every 5 s in a log, and a
message rate over the last 5 s."""

from __future__ import annotations

import io

from rich.console import Console

from mockpoint.load.progress import PLAIN_EVERY, RATE_WINDOW, LiveProgress
from mockpoint.load.stats import TIMEOUT, LoadStats

START = 1_700_000_000.0


def console(terminal: bool) -> tuple[Console, io.StringIO]:
    file = io.StringIO()
    return Console(file=file, force_terminal=terminal, width=200, color_system=None), file


def stats_at(second: int) -> LoadStats:
    """Cumulative statistics after ``second`` seconds: 10 calls and 25 messages a second,
    one call in ten a timeout."""
    stats = LoadStats(target=50, started_at=START)
    for s in range(second):
        for i in range(10):
            outcome = TIMEOUT if i == 0 else None
            action = "Heartbeat" if i % 2 else "StatusNotification"
            stats.call_finished(action, 0.002 * (i + 1), outcome, START + s)
    stats.messages_in = stats.messages_out = 25 * second // 2
    stats.messages_out += 25 * second % 2
    return stats


def test_plain_lines_at_most_every_five_seconds() -> None:
    out, file = console(terminal=False)
    with LiveProgress(50, 60.0, out) as live:
        for second in range(1, 13):
            live.update(stats_at(second), connected=min(50, 5 * second), now=START + second)
    lines = file.getvalue().splitlines()
    # Updates every second for 12 s: lines at 1, 6 and 11 s.
    assert [line.split()[0] for line in lines] == ["1s", "6s", "11s"]
    assert PLAIN_EVERY == 5.0
    assert lines[1] == (
        "6s  connected 30/50  25 msg/s  calls 60  errors 6 (10.00%)  "
        "p95 Heartbeat 20.0ms, StatusNotification 18.0ms  left 54s"
    )
    assert "\x1b" not in file.getvalue()  # no terminal codes in a log


def test_message_rate_is_over_the_last_five_seconds() -> None:
    out, _file = console(terminal=False)
    live = LiveProgress(50, None, out)
    assert RATE_WINDOW == 5.0
    rates = {}
    for second in range(1, 13):
        stats = stats_at(second)
        if second >= 7:
            stats.messages_in += 300  # a burst of 300 messages in second 7
        rates[second] = live.measure(stats, 20, START + second).messages_per_s
    # Since the run started until 5 s have passed, then over the 5 s before each update:
    # the burst counts while it is in the window, and is gone once it left it.
    assert rates[1] == rates[5] == rates[6] == 25
    assert rates[7] == rates[11] == 25 + 300 / 5
    assert rates[12] == 25
    assert live.measure(stats, 20, START + 12).left is None  # no duration: none left


def test_an_early_update_does_not_divide_by_milliseconds() -> None:
    """Updates a little early or late, or two close together (what one update per worker's
    snapshot did: 157,274 msg/s while 500 flowed), still measure over about 5 s."""
    out, _file = console(terminal=False)
    live = LiveProgress(50, None, out)
    for second in range(1, 8):
        live.measure(stats_at(second), 20, START + second + (0.2 if second % 2 else -0.2))
    close = stats_at(8)
    close.messages_out += 12  # the second worker's snapshot, 1 ms after the first's
    live.measure(stats_at(8), 20, START + 8)
    rate = live.measure(close, 20, START + 8.001).messages_per_s
    assert rate is not None and 25 <= rate < 30  # not 12,000
    assert live.measure(close, 20, START + 8.001).messages_per_s == rate


def test_a_plain_line_every_second_when_asked() -> None:
    out, file = console(terminal=False)
    with LiveProgress(50, None, out, plain_every=1.0) as live:
        for second in range(1, 7):
            # Each update just after its second, one much later: the next still gets a line.
            late = 0.01 + (0.7 if second == 3 else 0.0)
            live.update(stats_at(second), connected=50, now=START + second + late)
    assert [line.split()[0] for line in file.getvalue().splitlines()] == [
        "1s",
        "2s",
        "3s",
        "4s",
        "5s",
        "6s",
    ]


def test_progress_line_without_calls_or_duration() -> None:
    out, file = console(terminal=False)
    with LiveProgress(10, None, out) as live:
        live.update(LoadStats(target=10, started_at=START), connected=0, now=START)
    assert file.getvalue() == "0s  connected 0/10  – msg/s  calls 0  errors 0 (0.00%)\n"


def test_time_left_never_goes_negative() -> None:
    out, _file = console(terminal=False)
    live = LiveProgress(50, 30.0, out)
    assert live.measure(stats_at(1), 1, START + 3725).left == 0.0
    line = live.measure(stats_at(1), 1, START + 3725).line()
    assert line.startswith("1h02m  connected 1/50") and line.endswith("left 0s")


def test_terminal_shows_a_live_display() -> None:
    out, file = console(terminal=True)
    with LiveProgress(50, 60.0, out) as live:
        for second in range(1, 4):
            live.update(stats_at(second), connected=10 * second, now=START + second)
        out.print("a line printed during the run")
    text = file.getvalue()
    # Redrawn at every update, not once every 5 s, and left on screen at the end.
    for second in range(1, 4):
        assert f"connected {10 * second}/50" in text
    assert "\x1b[" in text  # cursor movement: a redraw, not a log line
    assert "a line printed during the run" in text
    final = text.rsplit("connected", 1)[1]
    assert "30/50" in final and "calls 30" in final and "left 57s" in final
    assert "StatusNotification  18.0ms" in final
    assert live.last is not None and live.last.errors == 3


def test_hostile_action_names_are_text() -> None:
    out, file = console(terminal=False)
    stats = LoadStats(target=1, started_at=START)
    stats.call_finished("[bold]x[/bold]\x1b[2J", 0.001, None, START)
    LiveProgress(1, None, out).update(stats, 1, START + 1)
    text = file.getvalue()
    assert "[bold]x[/bold]\\u001b[2J 1.0ms" in text
    assert "\x1b" not in text

"""Live progress of a load run: connected charge points, message rate, calls, errors, p95.

The caller updates the view once a second with the statistics of every shard merged; calls,
errors and messages are cumulative. The message rate is the messages counted over the last
:data:`RATE_WINDOW` seconds of updates divided by the time between them, so a burst or an
update that comes early cannot make it jump.

On a terminal, a rich ``Live`` display redrawn at each update. Elsewhere (CI logs, a file),
one plain line at most every :data:`PLAIN_EVERY` seconds: a log of a one-hour run stays a
few hundred lines long instead of thousands of redraws.

The caller passes ``now``: nothing here reads a clock, so tests drive it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from types import TracebackType

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from mockpoint.load.stats import LoadStats
from mockpoint.scenario.reports.text import one_line

__all__ = ["PLAIN_EVERY", "RATE_WINDOW", "LiveProgress", "Progress"]

#: Seconds of the run (whole, as the lines show them) between plain lines.
PLAIN_EVERY = 5.0
#: Seconds of updates the message rate is measured over.
RATE_WINDOW = 5.0
#: Updates once a second each come a little late or early: the oldest update of the rate's
#: window may be this much younger than :data:`RATE_WINDOW`, so that it still spans it.
_SLACK = 0.5


@dataclass(frozen=True)
class Progress:
    """What one update shows."""

    elapsed: float
    connected: int
    target: int
    #: WebSocket messages (sent and received) per second over the last RATE_WINDOW seconds,
    #: or since the run started when it is younger; None before any time passed
    messages_per_s: float | None
    calls: int
    errors: int
    #: (action, cumulative p95 in µs or None without answers), actions sorted
    p95: tuple[tuple[str, int | None], ...]
    #: seconds until the planned end; None without a duration
    left: float | None

    @property
    def error_percent(self) -> float:
        return 100 * self.errors / self.calls if self.calls else 0.0

    def line(self) -> str:
        """The whole state in one plain line."""
        parts = [
            f"{_clock(self.elapsed)}",
            f"connected {self.connected:,}/{self.target:,}",
            f"{_rate(self.messages_per_s)} msg/s",
            f"calls {self.calls:,}",
            f"errors {self.errors:,} ({self.error_percent:.2f}%)",
        ]
        if self.p95:
            parts.append("p95 " + ", ".join(f"{a} {_ms(us)}" for a, us in self.p95))
        if self.left is not None:
            parts.append(f"left {_clock(self.left)}")
        return one_line("  ".join(parts))

    def renderable(self) -> RenderableType:
        """The live display: the headline numbers, then p95 per action."""
        head = Text.assemble(
            (f"{_clock(self.elapsed)}  ", "bold"),
            ("connected ", "dim"),
            f"{self.connected:,}/{self.target:,}  ",
            ("msg/s ", "dim"),
            f"{_rate(self.messages_per_s)}  ",
            ("calls ", "dim"),
            f"{self.calls:,}  ",
            ("errors ", "dim"),
            (f"{self.errors:,} ({self.error_percent:.2f}%)", "red" if self.errors else ""),
        )
        if self.left is not None:
            head.append(f"  left {_clock(self.left)}", style="dim")
        if not self.p95:
            return head
        table = Table(box=None, pad_edge=False, show_header=True, header_style="dim")
        table.add_column("action")
        table.add_column("p95", justify="right")
        for action, us in self.p95:
            table.add_row(Text(one_line(action)), _ms(us))
        return Group(head, table)


class LiveProgress:
    """Shows a run's progress; a context manager around the run, fed by :meth:`update`.

    ``update`` gets the cumulative statistics merged from every shard once a second: an
    update per shard's snapshot would show a partial sum, and a rate over milliseconds.
    Whatever the runner prints meanwhile should go through the same ``console``, which
    prints it above the live display.
    """

    def __init__(
        self,
        target: int,
        duration: float | None,
        console: Console,
        *,
        plain_every: float = PLAIN_EVERY,
        rate_window: float = RATE_WINDOW,
    ) -> None:
        self.target = target
        self.duration = duration
        self.console = console
        self.plain_every = plain_every
        self.rate_window = rate_window
        self._live: Live | None = None
        #: (now, cumulative messages) of the updates in the rate's window, oldest first
        self._samples: deque[tuple[float, int]] = deque()
        #: the elapsed whole seconds the last plain line showed
        self._last_line: int | None = None
        #: what the last update showed
        self.last: Progress | None = None

    def __enter__(self) -> LiveProgress:
        if self.console.is_terminal:
            self._live = Live(
                Text("starting…", style="dim"),
                console=self.console,
                auto_refresh=False,  # redrawn by update(), once a second
                transient=False,  # the last state stays on screen above the report
                # Swapping sys.stdout is global state; output goes through the console.
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def update(self, stats: LoadStats, connected: int, now: float) -> None:
        """Show ``stats`` (cumulative, all shards) and ``connected`` as of ``now``."""
        progress = self.measure(stats, connected, now)
        self.last = progress
        if self._live is not None:
            self._live.update(progress.renderable(), refresh=True)
            return
        # Counted in the whole seconds a line shows, so updates once a second, each a little
        # late or early, get a line each with plain_every=1.
        shown = int(progress.elapsed)
        if self._last_line is None or shown - self._last_line >= self.plain_every:
            self._last_line = shown
            self.console.print(progress.line(), markup=False, highlight=False, soft_wrap=True)

    def measure(self, stats: LoadStats, connected: int, now: float) -> Progress:
        """The numbers an update shows; remembers the message count for later rates."""
        elapsed = max(0.0, now - stats.started_at)
        messages = stats.messages_in + stats.messages_out
        rate = self._rate(stats.started_at, now, messages)
        p95 = tuple(
            (name, action.histogram.percentile(95) if action.histogram.count else None)
            for name, action in sorted(stats.actions.items())
        )
        left = None if self.duration is None else max(0.0, self.duration - elapsed)
        return Progress(
            elapsed=elapsed,
            connected=connected,
            target=max(self.target, stats.target),  # a surge adds to the planned
            messages_per_s=rate,
            calls=stats.calls,
            errors=stats.errors,
            p95=p95,
            left=left,
        )

    def _rate(self, started_at: float, now: float, messages: int) -> float | None:
        """Messages per second from the newest update at least :data:`RATE_WINDOW` seconds
        old (less :data:`_SLACK`), or from the start of the run, to ``now``."""
        samples = self._samples
        if not samples:
            samples.append((started_at, 0))
        samples.append((now, messages))
        while len(samples) > 2 and samples[1][0] <= now - self.rate_window + _SLACK:
            samples.popleft()
        since, before = samples[0]
        return (messages - before) / (now - since) if now > since else None


def _clock(seconds: float) -> str:
    """``45s``, ``12m05s``, ``2h03m``."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def _ms(us: int | None) -> str:
    return "–" if us is None else f"{us / 1000:.1f}ms"

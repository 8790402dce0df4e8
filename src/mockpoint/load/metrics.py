"""Live metrics of a load run for Prometheus, served over HTTP while the run goes on.

``mockpoint load --metrics-port P`` serves ``/metrics`` (docs/load-metrics.md lists every
metric). The figures are those of the live progress: the shards' latest snapshots merged into
one :class:`~mockpoint.load.stats.LoadStats`, plus how many charge points are connected now.
Each scrape reads them afresh through a ``source`` callable and builds the metric families
from them, so nothing here counts twice and a scrape never changes the statistics.

The HTTP side is ``prometheus_client``'s: its own registry (never the process-wide one, which
would add the Python process' metrics and clash with an application that embeds mockpoint),
its WSGI server on a daemon thread, and its content negotiation, which answers the OpenMetrics
text format to a scraper that asks for it and the classic text format otherwise.
"""

from __future__ import annotations

import errno
from bisect import bisect_left
from collections.abc import Callable, Iterator, Mapping
from threading import Thread
from types import TracebackType
from typing import TypeAlias
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from mockpoint.errors import UsageError
from mockpoint.load.stats import Histogram, LoadStats, bucket_bounds

__all__ = [
    "LATENCY_BUCKETS",
    "MAX_LABEL",
    "PREFIX",
    "LoadCollector",
    "MetricsServer",
    "Source",
    "metric_families",
]

#: What a :class:`MetricsServer` asks for at each scrape: the latest merged statistics and
#: how many charge points are connected now, or None before the first snapshot.
Source: TypeAlias = Callable[[], tuple[LoadStats, int] | None]

#: Every metric's name starts with this.
PREFIX = "mockpoint_load_"

#: The upper bounds (``le``) of the latency histogram's buckets, in seconds: fixed, so series
#: of different runs and shards line up, from 1 ms to 30 s.
LATENCY_BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)
_BOUNDS_US = tuple(round(le * 1_000_000) for le in LATENCY_BUCKETS)
_LE = (*(repr(le) for le in LATENCY_BUCKETS), "+Inf")  # as Prometheus writes them: 1.0

#: Label values chosen by a peer or a failure text (CALLERROR codes, refusal reasons, actions
#: a CSMS sends) are cut to this many characters. :class:`LoadStats` already keeps at most
#: ``MAX_KEYS`` of them per counter, so every label's cardinality is bounded.
MAX_LABEL = 100

#: The outcomes of a call (label ``outcome``), in the order of the report.
_OUTCOMES = ("ok", "callerror", "timeout", "lost", "invalid")


class LoadCollector(Collector):
    """A ``prometheus_client`` collector of a load run's statistics.

    ``source()`` returns the latest merged statistics and the charge points connected now,
    or None before the first snapshot: then every series without a data-chosen label is
    served as 0, so a scraper sees it from the start. The statistics are only read.
    """

    def __init__(self, source: Source) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        snapshot = self._source()
        if snapshot is None:
            snapshot = LoadStats(target=0, started_at=0.0), 0
        yield from metric_families(*snapshot)


def metric_families(stats: LoadStats, connected: int) -> list[Metric]:
    """The metric families of ``stats`` with ``connected`` charge points connected now."""
    families: list[Metric] = [
        _gauge("charge_points_connected", "Charge points connected now.", connected),
        _gauge(
            "charge_points_target",
            "Charge points the run starts (its target).",
            stats.target,
        ),
        _gauge(
            "start_time_seconds",
            "When the run started, in seconds since the Unix epoch.",
            stats.started_at,
        ),
    ]
    calls = CounterMetricFamily(
        PREFIX + "calls",
        "Calls the charge points sent that completed, by OCPP action and outcome: ok "
        "(CALLRESULT), callerror (CALLERROR), timeout, lost (the connection went away) or "
        "invalid (the answer broke the schema or OCPP-J).",
        labels=("action", "outcome"),
    )
    callerrors = CounterMetricFamily(
        PREFIX + "callerrors",
        "CALLERRORs the CSMS answered to the charge points' calls, by OCPP action and error "
        "code (OCPP-J 1.6 §4.2.3).",
        labels=("action", "code"),
    )
    latency = HistogramMetricFamily(
        PREFIX + "call_latency_seconds",
        "Time from a call sent to its answer (CALLRESULT or CALLERROR), by OCPP action. "
        "A latency less than 1% below a bucket's bound may be counted in the next bucket up.",
        labels=("action",),
        unit="seconds",
    )
    # Actions are OCPP's (the scenario's), so no two are alike once cut to MAX_LABEL.
    for action_name, action in sorted(stats.actions.items()):
        name = _label(action_name)
        callerror = action.count - action.ok - action.timeouts - action.lost - action.invalid
        values = (action.ok, callerror, action.timeouts, action.lost, action.invalid)
        for outcome, value in zip(_OUTCOMES, values, strict=True):
            calls.add_metric((name, outcome), value)
        for code, n in _labelled(action.callerrors).items():
            callerrors.add_metric((name, code), n)
        buckets, count = _cumulative(action.histogram)
        latency.add_metric(
            (name,),
            [(le, n) for le, n in zip(_LE, (*buckets, count), strict=True)],
            action.histogram.total / 1_000_000,
        )
    failures = CounterMetricFamily(
        PREFIX + "connection_failures",
        "Connection attempts that failed, by reason (refused, DNS, TLS, upgrade, timeout).",
        labels=("reason",),
    )
    for reason, n in _labelled(stats.failed).items():
        failures.add_metric((reason,), n)
    messages = CounterMetricFamily(
        PREFIX + "messages",
        "WebSocket text messages the charge points received (in) and sent (out).",
        labels=("direction",),
    )
    messages.add_metric(("in",), stats.messages_in)
    messages.add_metric(("out",), stats.messages_out)
    steps = CounterMetricFamily(
        PREFIX + "steps",
        "Scenario steps the charge points finished, by result: passed or failed.",
        labels=("result",),
    )
    steps.add_metric(("passed",), stats.steps_passed)
    steps.add_metric(("failed",), stats.steps_failed)
    requests = CounterMetricFamily(
        PREFIX + "csms_requests",
        "Requests (CALLs) the CSMS sent to the charge points, by OCPP action.",
        labels=("action",),
    )
    for action_name, n in _labelled(stats.received).items():
        requests.add_metric((action_name,), n)
    abandoned = CounterMetricFamily(
        PREFIX + "charge_points_abandoned",
        "Charge points that left the run because they could not go on, by the first line "
        'of why (docs/load.md, "Failures").',
        labels=("reason",),
    )
    for reason, n in _labelled(stats.abandoned_reasons).items():
        abandoned.add_metric((reason,), n)
    families += [
        calls,
        callerrors,
        latency,
        _counter(
            "recoveries",
            "Times a charge point whose pass failed was brought back to a clean state.",
            stats.recoveries,
        ),
        abandoned,
        _counter("connections_opened", "WebSocket connections opened.", stats.opened),
        failures,
        _counter(
            "connections_dropped",
            "Open connections lost, not closed by the scenario.",
            stats.dropped,
        ),
        messages,
        steps,
        requests,
    ]
    return families


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(PREFIX + name, documentation, value=value)


def _counter(name: str, documentation: str, value: int) -> CounterMetricFamily:
    return CounterMetricFamily(PREFIX + name, documentation, value=value)


def _labelled(counts: Mapping[str, int]) -> dict[str, int]:
    """``counts`` keyed by label values cut to :data:`MAX_LABEL` characters, in order; keys
    that become equal when cut add up, as one label set may appear only once."""
    result: dict[str, int] = {}
    for key, n in sorted(counts.items()):
        label = _label(key)
        result[label] = result.get(label, 0) + n
    return result


def _label(value: str) -> str:
    return value if len(value) <= MAX_LABEL else value[: MAX_LABEL - 1] + "…"


def _cumulative(histogram: Histogram) -> tuple[list[int], int]:
    """The cumulative counts of ``histogram`` at each of :data:`LATENCY_BUCKETS`, and the
    count of all its values (the ``+Inf`` bucket).

    A sub-bucket of ours counts at the first bound at or above its largest value, so no
    latency above a bound is counted in it; one at most one sub-bucket (0.8 %) below a bound
    may be counted in the next bucket up instead (stats.py's Histogram).
    """
    counts = [0] * len(_BOUNDS_US)
    total = 0
    for index, n in histogram.buckets.items():
        total += n
        position = bisect_left(_BOUNDS_US, bucket_bounds(index)[1])
        if position < len(counts):
            counts[position] += n
    running = 0
    for position, n in enumerate(counts):
        running += n
        counts[position] = running
    return counts, total


class MetricsServer:
    """Serves a load run's metrics at ``http://HOST:PORT/metrics`` from a daemon thread.

    ``source`` is called at each scrape, on the server's thread: it returns the latest
    merged statistics and the charge points connected now (None before the first snapshot),
    which it replaces rather than changes. ``port`` 0 picks a free port; :attr:`url` says
    which. Use it as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(self, source: Source, *, host: str = "127.0.0.1", port: int) -> None:
        if not 0 <= port <= 65535:
            raise UsageError(f"the metrics port must be between 0 and 65535, not {port}")
        self.host = host
        self.port = port
        self.registry = CollectorRegistry()
        self.registry.register(LoadCollector(source))
        self._server: WSGIServer | None = None
        self._thread: Thread | None = None

    def start(self) -> None:
        """Listen and serve; UsageError if the address cannot be had (the port is taken,
        the host is not this machine's)."""
        if self._server is not None:
            return
        try:
            self._server, self._thread = start_http_server(
                self.port, addr=self.host, registry=self.registry
            )
        except OSError as error:
            where = f"{self.host}:{self.port}"
            if error.errno == errno.EADDRINUSE:
                raise UsageError(
                    f"cannot serve metrics on {where}: the port is already in use "
                    "(choose another port, or 0 for any free one)"
                ) from None
            reason = error.strerror or str(error)
            raise UsageError(f"cannot serve metrics on {where}: {reason}") from None

    @property
    def url(self) -> str:
        """The address of the metrics, with the port actually bound."""
        if self._server is None:
            raise RuntimeError("the metrics server is not started")
        port = self._server.server_address[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{port}/metrics"

    def stop(self) -> None:
        """Stop serving and free the port (idempotent)."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> MetricsServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

"""``mockpoint load SCENARIO -n N`` and ``mockpoint merge RESULTS...`` (docs/load.md).

Exit codes of ``mockpoint load`` (:class:`~mockpoint.errors.ExitCode`), as its ``--help``
gives them (:data:`EXIT_CODES`):

  0  passed: every threshold held, no step failed, calls were answered
  1  failed: a threshold broke, a step failed (unless a failed_steps
     threshold allows it), or no call was answered for most of the run;
     the report leads with why
  2  usage error or invalid file: nothing ran
  3  no charge point could connect

``mockpoint merge`` judges the merged run the same way, failed steps included, but for the
unanswered calls, which each shard's own run judged: 0, 1 or 2.

While the run goes, the live view is updated once a second, on the run's whole seconds,
from the latest snapshot of every shard (:class:`~mockpoint.load.progress.LiveProgress`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import math
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from rich.console import Console

from mockpoint.assembly import csms_choice
from mockpoint.assembly import csms_url as embedded_or
from mockpoint.cli.main import checked_csms_url, cli
from mockpoint.cli.run import _assignments
from mockpoint.csms.config import load_config
from mockpoint.errors import ConnectError, ExitCode, UsageError
from mockpoint.load.addresses import (
    limit_warnings,
    needs,
    parse_source_addresses,
    plan_source_addresses,
    raise_fd_limit,
    read_limits,
)
from mockpoint.load.arrivals import Arrivals
from mockpoint.load.engines import Progress, plans_for, run_in_process, run_in_workers
from mockpoint.load.fleet import Fleet, load_fleet
from mockpoint.load.metrics import MetricsServer
from mockpoint.load.progress import PLAIN_EVERY, LiveProgress
from mockpoint.load.reports import (
    console_report,
    lead_lines,
    write_csv,
    write_html,
    write_json,
)
from mockpoint.load.shard import DEFAULT_ID_PATTERN, ShardPlan, check_id_pattern, run_loop
from mockpoint.load.stats import LoadStats
from mockpoint.load.thresholds import (
    Threshold,
    ThresholdError,
    ThresholdResult,
    evaluate_all,
    parse_threshold,
    silence,
    with_defaults,
)
from mockpoint.quantities import parse_duration
from mockpoint.scenario import model
from mockpoint.scenario.loader import is_fleet, load_scenario
from mockpoint.scenario.matchers import UnknownVariable, resolve
from mockpoint.transport.websocket import check_csms_url

_FILE = click.Path(dir_okay=False, writable=True, path_type=Path)

#: The exit codes as ``mockpoint load --help`` shows them; the module docstring says the same.
EXIT_CODES = """\b
Exit codes:
  0  passed: every threshold held, no step failed, calls were answered
  1  failed: a threshold broke, a step failed (unless a failed_steps
     threshold allows it), or no call was answered for most of the run;
     the report leads with why
  2  usage error or invalid file: nothing ran
  3  no charge point could connect"""

#: How long after a whole second of the run the live view is updated: a timer that fires a
#: little early must not show the second before.
_TICK_AFTER = 0.01


def _duration(value: str | None, option: str) -> float | None:
    if value is None:
        return None
    try:
        seconds = parse_duration(value)
    except (ValueError, TypeError) as exc:
        raise click.BadParameter(f"{value!r}: {exc}", param_hint=option) from None
    if seconds <= 0:
        raise click.BadParameter(f"{value!r}: must be more than 0", param_hint=option)
    return seconds


def _rate(value: str | None) -> float | None:
    """``100``, ``100/s`` or ``6000/m``: charge points started per second."""
    if value is None:
        return None
    text = value.strip().lower()
    per = 1.0
    for suffix, seconds in (("/s", 1.0), ("/m", 60.0), ("/min", 60.0)):
        if text.endswith(suffix):
            text, per = text[: -len(suffix)], seconds
            break
    try:
        rate = float(text) / per
    except ValueError:
        raise click.BadParameter(
            f"{value!r}: write charge points per second, e.g. 100 or 100/s", param_hint="--ramp-up"
        ) from None
    if not rate > 0 or rate == float("inf"):
        raise click.BadParameter(f"{value!r}: must be more than 0", param_hint="--ramp-up")
    return rate


def _shard(value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    index, slash, total = value.partition("/")
    try:
        i, n = int(index), int(total)
    except ValueError:
        i, n = 0, 0
    if not slash or not 1 <= i <= n:
        raise click.BadParameter(
            f"{value!r}: write I/N with 1 <= I <= N, e.g. 2/4", param_hint="--shard"
        )
    return i, n


def _thresholds(texts: list[str], source: str) -> list[Threshold]:
    thresholds = []
    for text in texts:
        try:
            thresholds.append(parse_threshold(text))
        except ThresholdError as exc:
            raise UsageError(f"{source}: {exc}") from None
    return thresholds


@cli.command(
    "load",
    help=f"""Run SCENARIO on N charge points at once against a CSMS. SCENARIO may be a
fleet file (docs/load-fleets.md): groups of scenarios, arrivals and events.

{EXIT_CODES}
""",
)
@click.argument("scenario", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "-n",
    "count",
    type=click.IntRange(min=1),
    help="Charge points (a fleet file may give them: charge_points, or its groups' counts).",
)
@click.option("--ramp-up", metavar="RATE", help="Charge points started per second (100 or 100/s).")
@click.option(
    "--arrivals",
    "arrivals_text",
    metavar="PROCESS",
    help="How charge points arrive: ramp:200/s, poisson:200/s (seeded) or all-at-once.",
)
@click.option("--duration", metavar="TIME", help="Stop after this long, e.g. 90s or 10m.")
@click.option("--loop", is_flag=True, help="Take the steps again and again until --duration.")
@click.option(
    "--id-pattern",
    default=DEFAULT_ID_PATTERN,
    show_default=True,
    help="Charge point ids; {n} is the number, from 1.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=0),
    help="Worker processes (default: one per core; 0: in this process).",
)
@click.option(
    "--csms",
    "csms_url",
    metavar="URL",
    callback=checked_csms_url,
    help="The CSMS (default: the scenario's); {id} in it places the charge point id.",
)
@click.option(
    "--csms-config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Configuration of the embedded mock CSMS (used when no CSMS is named).",
)
@click.option(
    "--seed",
    type=int,
    help="Seed of the run: arrivals, events, backoff (default: 0, or the fleet's).",
)
@click.option(
    "--speed", type=click.FloatRange(min=0), help="Clock speed (default: the scenario's)."
)
@click.option(
    "--threshold",
    "threshold_texts",
    multiple=True,
    metavar="EXPR",
    help="Pass/fail criterion, e.g. 'p99<500ms', 'errors<0.1%', 'StartTransaction.p95<300ms'.",
)
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE", help="Set ${NAME}.")
@click.option(
    "--connect-timeout",
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="How long each charge point keeps retrying its connection.",
)
@click.option("--shard", "shard_text", metavar="I/N", help="Run only shard I of N (1-based).")
@click.option(
    "--start-at",
    type=float,
    metavar="EPOCH",
    help="With --shard: the run's common start (Unix time), so shards' timelines line up.",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="Where the shards run.",
)
@click.option("--ray-address", metavar="ADDR", help="With --engine ray: the cluster (ray://...).")
@click.option("--json", "json_path", type=_FILE, help="Write the statistics as JSON (mergeable).")
@click.option("--csv", "csv_path", type=_FILE, help="Write one row per action as CSV.")
@click.option("--html", "html_path", type=_FILE, help="Write charts and tables as one HTML file.")
@click.option(
    "--metrics-port",
    type=click.IntRange(min=0, max=65535),
    metavar="PORT",
    help="Serve live metrics for Prometheus on this port (0: any free one) while the run goes.",
)
@click.option(
    "--metrics-host",
    default="127.0.0.1",
    show_default=True,
    metavar="HOST",
    help="The address --metrics-port listens on.",
)
@click.option(
    "--source-addresses",
    "source_text",
    metavar="ADDRESSES",
    help="Connect from these source addresses: auto (default), a count (4: 127.0.0.1-4), "
    "a range 127.0.0.1-127.0.0.8 or a list.",
)
@click.option("-q", "--quiet", is_flag=True, help="No live progress.")
@click.option(
    "--progress-every",
    type=click.FloatRange(min=0, min_open=True),
    default=PLAIN_EVERY,
    show_default=True,
    metavar="SECONDS",
    help="In a log (not a terminal): a progress line this often.",
)
def load(
    scenario: Path,
    count: int | None,
    ramp_up: str | None,
    arrivals_text: str | None,
    duration: str | None,
    loop: bool,
    id_pattern: str,
    workers: int | None,
    csms_url: str | None,
    csms_config: Path | None,
    seed: int | None,
    speed: float | None,
    threshold_texts: tuple[str, ...],
    variables: tuple[str, ...],
    connect_timeout: float,
    shard_text: str | None,
    start_at: float | None,
    engine: str,
    ray_address: str | None,
    json_path: Path | None,
    csv_path: Path | None,
    html_path: Path | None,
    metrics_port: int | None,
    metrics_host: str,
    source_text: str | None,
    quiet: bool,
    progress_every: float,
) -> int:
    # An invalid file: exit 2, nothing runs.
    fleet = load_fleet(scenario) if is_fleet(scenario) else None
    scenarios = _scenarios(fleet) if fleet is not None else [load_scenario(scenario)]
    parsed = scenarios[0]
    if fleet is not None:
        count = fleet.plan(count).total  # -n shared by the groups' counts and weights
        if id_pattern != DEFAULT_ID_PATTERN:
            raise click.UsageError("--id-pattern: a fleet's groups give their own id_pattern")
        seconds = _duration(duration, "--duration") or fleet.duration
        seed = seed if seed is not None else (fleet.seed or 0)
        arrivals_text = arrivals_text or (str(fleet.arrivals) if fleet.arrivals else None)
        looping = loop or any(group.loop for group in fleet.groups)
        file_thresholds = list(fleet.thresholds)
    else:
        if count is None:
            raise click.UsageError("give -n, the number of charge points")
        check_id_pattern(id_pattern, count)
        seconds = _duration(duration, "--duration")
        seed = seed if seed is not None else 0
        looping = loop
        file_thresholds = list(parsed.thresholds)
    if looping and seconds is None:
        raise click.UsageError("--loop needs --duration (it says when the loop ends)")
    if arrivals_text is not None and ramp_up is not None:
        raise click.UsageError("--arrivals and --ramp-up both say how charge points arrive")
    try:
        arrivals = Arrivals.parse(arrivals_text) if arrivals_text is not None else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--arrivals") from None
    thresholds = _thresholds(file_thresholds, str(scenario))
    thresholds += _thresholds(list(threshold_texts), "--threshold")
    explicit = parse_source_addresses(source_text) if source_text else None
    shard = _shard(shard_text)
    if start_at is not None and shard is None:
        raise click.UsageError("--start-at goes with --shard")
    if engine == "ray" and workers == 0:
        raise click.UsageError("--engine ray runs its shards in Ray actors: drop --workers 0")
    if ray_address and engine != "ray":
        raise click.UsageError("--ray-address goes with --engine ray")
    if (
        ray_address
        and not csms_url
        and _url_of(fleet.csms if fleet is not None else parsed.csms) is None
    ):
        raise click.UsageError(
            "--ray-address: name the CSMS with --csms (an embedded mock CSMS would listen on "
            "this machine's loopback, which the cluster's nodes cannot reach)"
        )
    if workers is None:
        workers = os.cpu_count() or 1
    workers = max(0, min(workers, count))
    target = fleet.csms if fleet is not None else parsed.csms
    config = load_config(csms_config) if csms_config else None
    mock_csms = fleet.mock_csms if fleet is not None else parsed.mock_csms
    url, config = csms_choice(
        csms_url,
        model.CsmsTarget(url=target) if isinstance(target, str) else target,
        config,
        mock_csms,
    )
    values = _assignments(variables, "--var")
    if url is not None and "${" in url:
        # Checked here, once, rather than by every charge point in its worker.
        source = "--csms" if csms_url else f"{scenario}: csms"
        try:
            check_csms_url(str(resolve(url, values)), source)
        except UnknownVariable as exc:
            raise UsageError(f"{source}: {exc}") from None
    base = ShardPlan(
        scenario=str(scenario),
        count=count,
        csms_url=url or "",
        id_pattern=id_pattern,
        ramp_up=_rate(ramp_up),
        arrivals=arrivals,
        duration=seconds,
        loop=loop,
        seed=seed,
        speed=speed,
        start_at=start_at or 0.0,
        variables=values,
        connect_timeout=connect_timeout,
    )
    console = _console()
    raise_fd_limit()  # workers inherit it
    metrics: MetricsServer | None = None
    live_figures: list[tuple[LoadStats, int]] = []
    if metrics_port is not None:
        metrics = MetricsServer(
            lambda: live_figures[-1] if live_figures else None, host=metrics_host, port=metrics_port
        )
        metrics.start()  # a port in use: exit 2 before anything runs
        console.print(f"metrics: {metrics.url}", highlight=False)
        console.file.flush()  # a log reader (or a scraper's setup) needs it now

    async def main() -> LoadStats:
        async with embedded_or(url, config) as target:
            host = urlsplit(target.replace("{id}", "x")).hostname or "127.0.0.1"
            addresses = plan_source_addresses(host, count, explicit)
            plans = [
                dataclasses.replace(plan, source_addresses=tuple(addresses or ()))
                for plan in plans_for(base, target, shard, workers)
            ]
            need = needs(count, workers=workers, target_host=host, addresses=addresses)
            for warning in limit_warnings(need, read_limits()):
                console.print(f"warning: {warning}", highlight=False, soft_wrap=True)
            latest: dict[int, dict[str, Any]] = {}

            def progress(snapshots: dict[int, dict[str, Any]]) -> None:
                latest.update(snapshots)  # shown by _redraw, once a second

            wanted = metrics is not None or not quiet
            with LiveProgress(
                count, seconds, console if not quiet else _quiet(), plain_every=progress_every
            ) as live:
                redraw = asyncio.create_task(_redraw(live, latest, len(plans), live_figures))
                try:
                    return await _execute(
                        plans, engine, ray_address, workers, progress if wanted else None
                    )
                finally:
                    redraw.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await redraw

    try:
        stats = run_loop(main())
    finally:
        if metrics is not None:
            metrics.stop()
    results = evaluate_all(with_defaults(thresholds), stats)
    unanswered = silence(stats, min(_call_timeout(s) for s in scenarios))
    lead = lead_lines(stats, results, unanswered)
    _report(stats, results, console, json_path, csv_path, html_path, lead)
    if stats.opened == 0 and stats.target > 0:
        reasons = ", ".join(sorted(stats.failed)) or "no reason recorded"
        raise ConnectError(f"no charge point could connect ({reasons})")
    failed = unanswered.failed or any(not r.passed for r in results)
    return ExitCode.FAILED if failed else ExitCode.OK


async def _redraw(
    live: LiveProgress,
    latest: dict[int, dict[str, Any]],
    shards: int,
    figures: list[tuple[LoadStats, int]],
) -> None:
    """Update ``live`` once a second, just after each whole second of the run, from the
    latest snapshot of every shard (``latest``, filled as snapshots come). Until every
    shard has sent one, nothing is shown: a partial sum would show too few connected."""
    while len(latest) < shards:
        await asyncio.sleep(0.1)
    while True:
        started = min(float(snapshot["started_at"]) for snapshot in latest.values())
        now = time.time()
        tick = started + math.floor(now - started) + 1
        await asyncio.sleep(tick - now + _TICK_AFTER)
        snapshots = list(latest.values())
        merged = LoadStats.merged(LoadStats.from_dict(s) for s in snapshots)
        connected = sum(int(s.get("connected", 0)) for s in snapshots)
        figures[:] = [(merged, connected)]  # what the metrics serve
        live.update(merged, connected, time.time())


def _scenarios(fleet: Fleet) -> list[model.Scenario]:
    """The scenarios of a fleet's groups, as loaded (with the groups' charge points)."""
    return [scenario for _path, scenario in fleet.scenarios]


def _url_of(target: str | model.CsmsTarget | None) -> str | None:
    if target is None:
        return None
    return target if isinstance(target, str) else target.url


def _call_timeout(scenario: model.Scenario) -> float:
    """The shortest time any call of the scenario waits for its answer (the scenario's
    timeout, or a step's): the unanswered seconds it implies are never too many."""
    timeouts = [step.timeout for step in scenario.steps if step.timeout is not None]
    return min([scenario.timeout, *timeouts])


def _report(
    stats: LoadStats,
    results: list[ThresholdResult],
    console: Console,
    json_path: Path | None,
    csv_path: Path | None,
    html_path: Path | None,
    lead: list[str],
) -> None:
    console_report(stats, results, console, lead)
    if json_path is not None:
        write_json(stats, results, json_path, lead)
    if csv_path is not None:
        write_csv(stats, csv_path)
    if html_path is not None:
        write_html(stats, html_path, results, lead)


def _quiet() -> Console:
    return Console(quiet=True)


def _console() -> Console:
    """The terminal's width, or 160 columns in a log (CI), where rich would assume 80 and
    squeeze the per-action table into ellipses."""
    console = Console(highlight=False)
    if not console.is_terminal and console.width < 160:
        console = Console(highlight=False, width=160)
    return console


async def _execute(
    plans: list[ShardPlan],
    engine: str,
    ray_address: str | None,
    workers: int,
    progress: Progress | None,
) -> LoadStats:
    if engine == "ray":
        from mockpoint.load.ray_engine import run_on_ray

        return await run_on_ray(plans, ray_address, progress)
    if workers == 0:
        return await run_in_process(plans[0], progress)
    return await run_in_workers(plans, progress)


@cli.command("merge")
@click.argument(
    "results", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--threshold", "threshold_texts", multiple=True, metavar="EXPR")
@click.option(
    "--partial",
    is_flag=True,
    help="Merge even when shards are missing (the report says which it holds).",
)
@click.option("--json", "json_path", type=_FILE, help="Write the merged statistics as JSON.")
@click.option("--csv", "csv_path", type=_FILE, help="Write one row per action as CSV.")
@click.option("--html", "html_path", type=_FILE, help="Write charts and tables as one HTML file.")
def merge(
    results: tuple[Path, ...],
    threshold_texts: tuple[str, ...],
    partial: bool,
    json_path: Path | None,
    csv_path: Path | None,
    html_path: Path | None,
) -> int:
    """Merge the --json results of shards (mockpoint load --shard I/N) into one, exactly.

    Every shard of the run once: shards of runs split differently, a shard given twice, or
    (without --partial) a shard missing is a usage error naming the files. Exit code 1 when
    a threshold breaks or a step failed (unless a failed_steps threshold allows it)."""
    parts: list[tuple[Path, LoadStats]] = []
    for path in results:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise UsageError(f"{path}: not a mockpoint load result: {exc}") from None
        try:
            parts.append((path, LoadStats.from_dict(data, source=str(path))))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    _check_shards(parts, partial)
    stats = LoadStats.merged(stats for _, stats in parts)
    thresholds = _thresholds(list(threshold_texts), "--threshold")
    results_ = evaluate_all(with_defaults(thresholds), stats)
    lead = lead_lines(stats, results_)
    _report(stats, results_, _console(), json_path, csv_path, html_path, lead)
    return ExitCode.FAILED if any(not r.passed for r in results_) else ExitCode.OK


def _check_shards(parts: list[tuple[Path, LoadStats]], partial: bool) -> None:
    """Raise UsageError unless the results hold the shards of one ``--shard I/N`` run, each
    once, and all of them unless ``partial``. Shards are named as typed, from 1. Results of
    earlier versions do not say which shard they hold: with one of them nothing is checked."""
    if any(stats.shard_of is None for _, stats in parts):
        return
    first_path, first = parts[0]
    total = first.shard_of
    for path, stats in parts:
        if stats.shard_of != total:
            raise UsageError(
                f"{path} holds {_shards(stats)}, but {first_path} holds {_shards(first)}: "
                "merge the shards of one run"
            )
    holders: dict[int, Path] = {}
    for path, stats in parts:
        for number in sorted(stats.shard_numbers):
            if number in holders:
                what = f"shard {number} of {total}" if total != 1 else "a whole run"
                raise UsageError(
                    f"{holders[number]} and {path} both hold {what}: merging them would count "
                    "its charge points twice"
                )
            holders[number] = path
    missing = [n for n in range(1, (total or 1) + 1) if n not in holders]
    if missing and not partial:
        held = ", ".join(map(str, sorted(holders)))
        raise UsageError(
            f"missing shard{'s' if len(missing) > 1 else ''} {', '.join(map(str, missing))} "
            f"of {total} (the files hold {held}): merge every shard's --json, or give "
            "--partial to merge these alone"
        )


def _shards(stats: LoadStats) -> str:
    if stats.shard_of == 1:
        return "a whole run (no --shard)"
    numbers = ", ".join(map(str, sorted(stats.shard_numbers)))
    plural = "s" if len(stats.shard_numbers) > 1 else ""
    return f"shard{plural} {numbers} of {stats.shard_of}"

"""Scale benchmark: tens of thousands of connected charge points on one machine.

Run with ``.venv/bin/python benchmarks/bench_scale.py --charge-points 50000``. It starts the
stand-in CSMS (``standin_csms.py``: enough processes for its open-files limit, a Heartbeat
interval of ``--interval`` seconds, 60 by default), then the charge points:

* ``--client mockpoint`` (the default): ``mockpoint load scenarios/heartbeat-only.yaml -n N
  --workers W --source-addresses auto``, W enough for the open-files limit;
* ``--client transport``: mockpoint's picows transport alone, one coroutine per charge
  point (a BootNotification, then a Heartbeat each interval), from the source addresses
  that :mod:`mockpoint.load.addresses` plans, in W processes: the kernel's and the
  transport's side without the station model.

Then, each phase timed from the stand-in's own counts: the ramp-up (until it holds N open
connections), a hold of ``--hold`` seconds (Heartbeats per second), a restart of the stand-in
on the same port (every connection closed with 1001 Going Away; the time until all N are
back), a second hold, and the end of the run. Every second it samples the CPU and RSS of
the client's and the stand-in's process trees and the kernel's TCP memory.

Messages lost: frames the charge points sent that no stand-in received, plus frames the
stand-ins answered that no charge point received, and CALLs the charge points saw go
unanswered. Everything stays on 127.0.0.x; every process is killed on the way out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import uvloop
from rich.console import Console
from rich.table import Table
from standin_csms import Counts, parse_totals, read_stats, start_standin, stop_standin

from mockpoint.errors import ConnectError, ConnectionLost
from mockpoint.load.addresses import (
    FILES_HEADROOM,
    limit_warnings,
    needs,
    parse_source_addresses,
    plan_source_addresses,
    raise_fd_limit,
    read_limits,
    source_for,
)
from mockpoint.transport import picows_transport

HERE = Path(__file__).resolve().parent
SCENARIO = HERE / "scenarios" / "heartbeat-only.yaml"
HOST = "127.0.0.1"
#: handshakes in flight per client process, as the load shard keeps them
HANDSHAKES_IN_FLIGHT = 200
#: connections a stand-in process is given, as a share of its open-files limit: the kernel
#: spreads them over the processes (SO_REUSEPORT) evenly only on average
STANDIN_SHARE = 0.75
#: a guess of the connect rate, to size the run's --duration when none is given
GUESSED_CONNECTS_PER_SECOND = 400
STATS_FRESH = 2.5  # a stand-in process whose last line is older has stopped


# --------------------------------------------------------------------------- /proc


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of ``pid``, or None if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss(pid: int) -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def process_tree(root: int) -> dict[int, float]:
    """pid: CPU seconds of ``root`` and every process below it."""
    table: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None:
                table[int(entry.name)] = stat
    tree, grew = {root}, True
    while grew:
        below = {pid for pid, (ppid, _cpu) in table.items() if ppid in tree}
        grew = not below <= tree
        tree |= below
    return {pid: table[pid][1] for pid in tree if pid in table}


def tcp_memory() -> int:
    """Bytes the kernel holds for TCP buffers (/proc/net/sockstat ``TCP: mem``, pages)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/net/sockstat").read_text().splitlines():
            if line.startswith("TCP:"):
                parts = line.split()
                return int(parts[parts.index("mem") + 1]) * os.sysconf("SC_PAGE_SIZE")
    return 0


def memory_available() -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


# --------------------------------------------------------------------------- sampling


@dataclass
class Sample:
    t: float  # seconds since the client started
    open: int  # connections the running stand-in holds
    heartbeats: int  # Heartbeats answered so far, every stand-in together
    client_cpu: float  # cores' worth of CPU over the last second, the client's process tree
    client_rss: int
    standin_cpu: float
    standin_rss: int
    tcp_memory: int
    memory_available: int


class Sampler(threading.Thread):
    """Samples once a second until stopped: the stand-in's counts (its --stats file), and
    CPU and RSS of the client's and the current stand-in's process trees."""

    def __init__(self, stats: str, clients: list[int], standin: int) -> None:
        super().__init__(daemon=True)
        self.stats, self.clients, self.standin = stats, clients, standin
        self.began = time.time()
        self.samples: list[Sample] = []
        self._halt = threading.Event()
        self._cpu: dict[str, dict[int, float]] = {"client": {}, "standin": {}}
        self._at = time.monotonic()

    def halt(self) -> None:
        self._halt.set()
        self.join(timeout=5)

    def latest(self) -> Sample | None:
        return self.samples[-1] if self.samples else None

    def _tree(self, name: str, roots: list[int], elapsed: float) -> tuple[float, int]:
        now: dict[int, float] = {}
        for root in roots:
            now.update(process_tree(root))
        before = self._cpu[name]
        used = sum(cpu - before[pid] for pid, cpu in now.items() if pid in before)
        self._cpu[name] = now
        return (used / elapsed if elapsed > 0 else 0.0), sum(_rss(pid) for pid in now)

    def run(self) -> None:
        while not self._halt.wait(1.0):
            at = time.monotonic()
            elapsed, self._at = at - self._at, at
            client_cpu, client_rss = self._tree("client", self.clients, elapsed)
            standin_cpu, standin_rss = self._tree("standin", [self.standin], elapsed)
            live = read_stats(self.stats, since=time.time() - STATS_FRESH)
            every = read_stats(self.stats)
            self.samples.append(
                Sample(
                    t=round(time.time() - self.began, 2),
                    open=live.open,
                    heartbeats=every.heartbeats,
                    client_cpu=round(client_cpu, 3),
                    client_rss=client_rss,
                    standin_cpu=round(standin_cpu, 3),
                    standin_rss=standin_rss,
                    tcp_memory=tcp_memory(),
                    memory_available=memory_available(),
                )
            )


def wait_until(sampler: Sampler, test: Callable[[Sample], bool], deadline: float) -> float | None:
    """Seconds since the client started at the first sample passing ``test``; None if none
    did before ``deadline`` (monotonic)."""
    seen = len(sampler.samples)
    while time.monotonic() < deadline:
        samples = sampler.samples
        for sample in samples[seen:]:
            if test(sample):
                return sample.t
        seen = len(samples)
        time.sleep(0.2)
    return None


# --------------------------------------------------------------------------- the transport client


async def run_transport_client(args: argparse.Namespace) -> dict[str, Any]:
    """One client process: its every ``--workers``-th charge point over mockpoint's picows
    transport, until ``--end-at``; returns its counts."""
    soft, _hard = raise_fd_limit()
    addresses = [a for a in args.sources.split(",") if a] if args.sources else []
    numbers = range(1 + args.index, 1 + args.charge_points, args.workers)
    handshakes = asyncio.Semaphore(HANDSHAKES_IN_FLIGHT)
    tally: Counter[str] = Counter()
    refusals: Counter[str] = Counter()
    open_now: dict[int, picows_transport.PicowsTransport] = {}
    ids = itertools.count(1)

    async def call(transport: picows_transport.PicowsTransport, action: str, payload: Any) -> Any:
        unique_id = str(next(ids))
        await transport.send(orjson.dumps([2, unique_id, action, payload]).decode())
        tally["out"] += 1
        tally["in_flight"] += 1
        try:
            reply = orjson.loads(await transport.receive())
        except ConnectionLost:
            tally["unanswered"] += 1
            raise
        finally:
            tally["in_flight"] -= 1
        tally["in"] += 1
        if reply[0] != 3 or reply[1] != unique_id:
            tally["bad_answers"] += 1
        return reply

    async def quiet(transport: picows_transport.PicowsTransport, seconds: float) -> None:
        """Wait ``seconds``, listening: a lost connection raises ConnectionLost at once."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(transport.receive(), left)
                tally["unexpected"] += 1  # the stand-in sends no CALL

    async def charge_point(number: int) -> None:
        delay = 0.1
        source = source_for(number, addresses) if addresses else None
        while time.time() < args.end_at:
            try:
                async with handshakes:
                    transport = await picows_transport.connect(
                        args.url, f"CP-{number:05d}", open_timeout=30.0, local_addr=source
                    )
            except ConnectError as exc:
                tally["connect_failures"] += 1
                refusals[str(exc).split(": ", 1)[-1][:120]] += 1
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            tally["connects"] += 1
            delay = 0.1
            open_now[number] = transport
            try:
                boot = await call(
                    transport,
                    "BootNotification",
                    {"chargePointVendor": "mockpoint", "chargePointModel": "bench-scale"},
                )
                interval = float(boot[2].get("interval") or 60) if boot[0] == 3 else 60.0
                while True:
                    left = args.end_at - time.time()
                    if left <= interval:
                        await quiet(transport, max(0.0, left))
                        return  # the end: no CALL left in flight
                    await quiet(transport, interval)
                    await call(transport, "Heartbeat", {})
            except ConnectionLost:
                tally["dropped"] += 1
            finally:
                open_now.pop(number, None)

    rss_baseline = _rss(os.getpid())
    rss_peak = 0

    async def watch_rss() -> None:
        nonlocal rss_peak
        while True:
            rss_peak = max(rss_peak, _rss(os.getpid()))
            await asyncio.sleep(1.0)

    watcher = asyncio.create_task(watch_rss())
    tasks = [asyncio.create_task(charge_point(n)) for n in numbers]
    await asyncio.gather(*tasks)
    watcher.cancel()
    await asyncio.gather(*(t.close() for t in list(open_now.values())), return_exceptions=True)
    return {
        "charge_points": len(numbers),
        "open_files_limit": soft,
        "rss_baseline": rss_baseline,
        "rss_peak": rss_peak,
        **tally,
        "refusals": dict(refusals.most_common(5)),
    }


def transport_worker_main(args: argparse.Namespace) -> int:
    result = uvloop.run(run_transport_client(args))
    print(json.dumps(result), flush=True)
    return 0


# --------------------------------------------------------------------------- the run


@dataclass
class Phase:
    name: str
    began: float | None = None  # seconds since the client started
    reached: float | None = None  # ... when all N were connected; None: never

    @property
    def seconds(self) -> float | None:
        if self.began is None or self.reached is None:
            return None
        return round(self.reached - self.began, 1)


@dataclass
class Result:
    settings: dict[str, Any]
    facts: dict[str, Any]
    warnings: list[str]
    phases: list[Phase] = field(default_factory=list)
    connected_peak: int = 0
    #: seconds from the stand-in's stop to its successor listening
    standin_down: float | None = None
    heartbeats_per_second: float | None = None
    heartbeats_expected: float | None = None
    client: dict[str, Any] = field(default_factory=dict)
    standin: dict[str, Any] = field(default_factory=dict)
    lost: dict[str, Any] = field(default_factory=dict)
    resources: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)


def supports_source_addresses() -> bool:
    """Whether this mockpoint's ``load`` takes ``--source-addresses``."""
    help_text = subprocess.run(
        [sys.executable, "-m", "mockpoint", "load", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return "--source-addresses" in help_text


def start_client(
    args: argparse.Namespace, url: str, duration: float, out: Path, folder: Path, result: Result
) -> list[subprocess.Popen[bytes]]:
    """The client processes: ``mockpoint load`` (one, with its workers), or the transport
    workers (one process each)."""
    if args.client == "mockpoint":
        command = [sys.executable, "-m", "mockpoint", "load", str(SCENARIO)]
        command += ["-n", str(args.charge_points), "--workers", str(args.workers)]
        command += ["--duration", f"{duration:g}s", "--csms", url, "--json", str(out), "-q"]
        # Never give up reconnecting while the stand-in restarts, nor while waiting for a
        # handshake slot in a ramp-up of 50,000.
        command += ["--connect-timeout", f"{duration:g}"]
        if supports_source_addresses():
            command += ["--source-addresses", args.source_addresses]
        else:
            result.notes.append(
                "this mockpoint load has no --source-addresses yet: every charge point "
                "connects from one source address"
            )
        result.settings["command"] = " ".join(command[1:])
        log = (folder / "load.log").open("wb")
        return [subprocess.Popen(command, stdout=log, stderr=log, stdin=subprocess.DEVNULL)]
    addresses = planned_addresses(args)
    end_at = time.time() + duration
    processes = []
    for index in range(args.workers):
        command = [sys.executable, str(Path(__file__).resolve()), "--worker", "transport"]
        command += ["--url", url, "--charge-points", str(args.charge_points)]
        command += ["--index", str(index), "--workers", str(args.workers)]
        command += ["--end-at", repr(end_at), "--sources", ",".join(addresses or [])]
        processes.append(
            subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=(folder / f"transport-{index}.log").open("wb"),
                stdin=subprocess.DEVNULL,
                start_new_session=False,
            )
        )
    return processes


def planned_addresses(args: argparse.Namespace) -> list[str] | None:
    explicit = parse_source_addresses(args.source_addresses)
    return plan_source_addresses(HOST, args.charge_points, explicit)


def run(args: argparse.Namespace, console: Console) -> Result:
    limits = read_limits()
    soft, hard = raise_fd_limit()
    addresses = planned_addresses(args)
    need = needs(args.charge_points, workers=args.workers, target_host=HOST, addresses=addresses)
    settings = {
        key: getattr(args, key)
        for key in (
            "charge_points",
            "client",
            "workers",
            "standin_processes",
            "interval",
            "hold",
            "source_addresses",
        )
    }
    settings["addresses"] = addresses or [f"{HOST} (the system's choice)"]
    facts = {
        "date": datetime.now(UTC).date().isoformat(),
        "python": platform.python_version(),
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "memory_total": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
        "limits": asdict(limits),
        "open_files_after_raise": [soft, hard],
    }
    result = Result(settings, facts, limit_warnings(need, limits))
    for warning in result.warnings:
        console.print(f"[yellow]limit:[/yellow] {warning}")
    n = args.charge_points
    duration = args.duration or (2 * 1.5 * n / GUESSED_CONNECTS_PER_SECOND + 2 * args.hold + 30)
    settings["duration"] = duration
    with tempfile.TemporaryDirectory() as folder_name:
        folder = Path(folder_name)
        stats = str(folder / "standin-stats.jsonl")
        out = folder / "load.json"
        baseline_memory = memory_available()
        baseline_tcp = tcp_memory()

        def standin() -> tuple[subprocess.Popen[bytes], int]:
            return start_standin(
                port=port,
                processes=args.standin_processes,
                interval=args.interval,
                stats=stats,
            )

        port = 0
        server, port = standin()
        url = f"ws://{HOST}:{port}"
        totals: list[Counts] = []
        processes: list[subprocess.Popen[bytes]] = []
        sampler: Sampler | None = None
        began = time.monotonic()
        end = began + duration + 90
        try:
            processes = start_client(args, url, duration, out, folder, result)
            sampler = Sampler(stats, [process.pid for process in processes], server.pid)
            sampler.start()
            console.print(f"{args.client}: {n:,} charge points against {url}, {duration:.0f} s")

            def all_open(sample: Sample) -> bool:
                return sample.open >= n

            ramp = Phase("ramp-up", began=0.0)
            with console.status("ramp-up"):
                ramp.reached = wait_until(sampler, all_open, began + duration - 2 * args.hold)
            result.phases.append(ramp)
            console.print(f"  ramp-up: {_seconds(ramp.seconds)}")
            if ramp.reached is not None:
                hold(sampler, args.hold, result, console, "hold")
                if not args.no_restart:
                    # From the moment the stand-in starts closing every connection.
                    again = Phase("reconnection", began=time.time() - sampler.began)
                    with console.status("restarting the stand-in"):
                        totals.append(_stop(server, result))
                        server, _same = standin()
                        sampler.standin = server.pid
                    result.standin_down = round(time.time() - sampler.began - again.began, 2)
                    with console.status("reconnecting"):
                        again.reached = wait_until(sampler, all_open, began + duration - 10)
                    result.phases.append(again)
                    console.print(f"  full reconnection: {_seconds(again.seconds)}")
            with console.status("until the run ends"):
                for process in processes:
                    try:
                        process.wait(timeout=max(1.0, end - time.monotonic()))
                    except subprocess.TimeoutExpired:
                        result.notes.append("the client did not end within 90 s of its run")
        finally:
            if sampler is not None:
                sampler.halt()
            for process in processes:
                if process.poll() is None:
                    process.kill()
            totals.append(_stop(server, result))
        result.samples = sampler.samples if sampler is not None else []
        read_client(args, processes, out, folder, result)
    summarize(result, totals, baseline_memory, baseline_tcp)
    return result


def hold(sampler: Sampler, seconds: float, result: Result, console: Console, name: str) -> None:
    """Wait ``seconds`` with every charge point connected; Heartbeats per second meanwhile."""
    with console.status(f"{name}: {seconds:g} s"):
        first = sampler.latest()
        time.sleep(seconds)
        last = sampler.latest()
    if first is not None and last is not None and last.t > first.t:
        rate = (last.heartbeats - first.heartbeats) / (last.t - first.t)
        result.heartbeats_per_second = round(rate, 1)
        console.print(f"  {name}: {rate:,.0f} Heartbeats/s")


def _stop(server: subprocess.Popen[bytes], result: Result) -> Counts:
    totals = parse_totals(stop_standin(server, timeout=15))
    if totals is None:
        result.notes.append("a stand-in left no totals")
        return Counts()
    return totals


def _seconds(value: float | None) -> str:
    return "not reached" if value is None else f"{value:.1f} s"


def read_client(
    args: argparse.Namespace,
    processes: list[subprocess.Popen[bytes]],
    out: Path,
    folder: Path,
    result: Result,
) -> None:
    """The client's own counts: the load's --json report, or the transport workers' lines."""
    if args.client == "mockpoint":
        if not out.exists():
            log = (folder / "load.log").read_text(errors="replace").strip().splitlines()
            result.notes.append(f"mockpoint load wrote no report: {log[-3:]}")
            return
        report = json.loads(out.read_text())
        actions = report.get("actions", {})
        timeline = report.get("timeline", [])
        resources = report.get("resources") or {}
        result.client = {
            "exit_code": processes[0].returncode,
            "rss_growth": int(resources.get("rss_bytes") or 0)
            - int(resources.get("rss_baseline_bytes") or 0),
            "messages": report.get("messages"),
            "connections": report.get("connections"),
            "summary": report.get("summary"),
            "resources": report.get("resources"),
            "heartbeats": actions.get("Heartbeat", {}).get("count"),
            "calls_unanswered": sum(
                int(action.get("lost", 0)) + int(action.get("timeouts", 0))
                for action in actions.values()
            ),
            "connected_peak": max(
                (int(s["connected"]) for s in timeline if s.get("connected") is not None),
                default=None,
            ),
        }
        return
    merged: Counter[str] = Counter()
    refusals: Counter[str] = Counter()
    for process in processes:
        assert process.stdout is not None
        line = process.stdout.read().decode(errors="replace").strip().splitlines()[-1:]
        if not line:
            result.notes.append(f"a transport worker (exit code {process.returncode}) said nothing")
            continue
        data = json.loads(line[0])
        refusals.update(data.pop("refusals", {}))
        merged.update({k: v for k, v in data.items() if isinstance(v, int)})
    result.client = {
        "messages": {"in": merged["in"], "out": merged["out"]},
        "connections": {
            "opened": merged["connects"],
            "failed": merged["connect_failures"],
            "dropped": merged["dropped"],
        },
        "calls_unanswered": merged["unanswered"],
        "bad_answers": merged["bad_answers"],
        "rss_growth": merged["rss_peak"] - merged["rss_baseline"],
        "refusals": dict(refusals.most_common(5)),
    }


def summarize(result: Result, totals: list[Counts], memory_before: int, tcp_before: int) -> None:
    n = result.settings["charge_points"]
    standin = Counts()
    for counts in totals:
        standin.add(counts)
    result.standin = {**asdict(standin), "incarnations": len(totals)}
    samples = result.samples
    result.connected_peak = max((s.open for s in samples), default=0)
    result.heartbeats_expected = round(n / result.settings["interval"], 1)
    messages = result.client.get("messages") or {}
    if messages:
        sent, received = int(messages.get("out", 0)), int(messages.get("in", 0))
        answered = standin.results_sent + standin.errors_sent
        result.lost = {
            "charge points to CSMS": sent - standin.frames_received,
            "CSMS to charge points": answered - received,
            "CALLs unanswered, as the charge points saw it": result.client.get("calls_unanswered"),
            "CALLs unanswered, as the stand-in saw it (came after its close)": standin.unanswered,
        }
    if samples:
        peak = max(samples, key=lambda s: s.client_rss)
        result.resources = {
            "client_rss_peak": peak.client_rss,
            "client_cpu_peak": max(s.client_cpu for s in samples),
            "standin_rss_peak": max(s.standin_rss for s in samples),
            "standin_cpu_peak": max(s.standin_cpu for s in samples),
            "tcp_memory_peak": max(s.tcp_memory for s in samples) - tcp_before,
            "memory_used_peak": memory_before - min(s.memory_available for s in samples),
        }
        held = [s for s in samples if s.open >= n]
        if held:
            result.resources["client_cpu_held"] = round(
                sum(s.client_cpu for s in held) / len(held), 3
            )
            result.resources["standin_cpu_held"] = round(
                sum(s.standin_cpu for s in held) / len(held), 3
            )


# --------------------------------------------------------------------------- report


def print_report(console: Console, result: Result) -> None:
    facts, settings = result.facts, result.settings
    n = settings["charge_points"]
    console.print(
        f"[bold]scale benchmark[/bold]  {facts['date']}  Python {facts['python']}  "
        f"{facts['cpu_model']} × {facts['cores']} cores, "
        f"{facts['memory_total'] / 2**30:.0f} GiB"
    )
    table = Table(
        title=(
            f"{n:,} charge points ({settings['client']}, {settings['workers']} client "
            f"processes, {len(settings['addresses'])} source address(es)), stand-in of "
            f"{settings['standin_processes']} processes, Heartbeat every {settings['interval']} s"
        ),
        title_justify="left",
    )
    table.add_column("measure")
    table.add_column("value", justify="right")
    per = result.resources
    rows: list[tuple[str, str]] = [
        ("connected peak (the stand-in's count)", f"{result.connected_peak:,}"),
    ]
    for phase in result.phases:
        if phase.name == "ramp-up":
            rows.append(("time to all connected", _seconds(phase.seconds)))
        else:
            label = "time to full reconnection, from the stand-in's stop"
            rows.append((f"{label} (down {result.standin_down} s)", _seconds(phase.seconds)))
    if result.heartbeats_per_second is not None:
        rows.append(
            (
                "Heartbeats/s while all connected (expected N / interval)",
                f"{result.heartbeats_per_second:,.0f} ({result.heartbeats_expected:,.0f})",
            )
        )
    for name, value in result.lost.items():
        rows.append((f"lost: {name}", "—" if value is None else f"{value:,}"))
    if per:
        rows += [
            ("client RSS, peak (process tree)", _mib(per["client_rss_peak"])),
            (
                "client RSS growth per charge point (its own count)",
                _kb(result.client.get("rss_growth", 0) / n),
            ),
            ("client CPU, peak (cores)", f"{per['client_cpu_peak']:.2f}"),
            ("client CPU, all connected (cores)", f"{per.get('client_cpu_held', 0):.2f}"),
            ("stand-in RSS, peak", _mib(per["standin_rss_peak"])),
            ("stand-in CPU, peak (cores)", f"{per['standin_cpu_peak']:.2f}"),
            ("stand-in CPU, all connected (cores)", f"{per.get('standin_cpu_held', 0):.2f}"),
            ("kernel TCP buffers, peak", _mib(per["tcp_memory_peak"])),
            ("memory used, peak (MemAvailable drop, machine-wide)", _mib(per["memory_used_peak"])),
            (
                "... per charge point: both ends, kernel, interpreters",
                _kb(per["memory_used_peak"] / n),
            ),
        ]
    connections = result.client.get("connections") or {}
    if connections:
        rows.append(("client: connections opened / failed / dropped", _triple(connections)))
    rows.append(
        (
            "stand-in: connections accepted / Heartbeats answered",
            f"{result.standin.get('connections', 0):,} / {result.standin.get('heartbeats', 0):,}",
        )
    )
    for label, value in rows:
        table.add_row(label, value)
    console.print(table)
    for warning in result.warnings:
        console.print(f"limit: {warning}")
    for note in result.notes:
        console.print(f"note: {note}")
    refusals = result.client.get("refusals")
    if refusals:
        console.print(f"connection failures: {refusals}")


def _mib(value: float) -> str:
    return f"{value / 2**20:,.0f} MiB"


def _kb(value: float) -> str:
    return f"{value / 1000:.1f} KB"


def _triple(connections: dict[str, Any]) -> str:
    failed = connections.get("failed", 0)
    if isinstance(failed, dict):
        failed = sum(failed.values())
    return f"{connections.get('opened', 0):,} / {failed:,} / {connections.get('dropped', 0):,}"


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--charge-points", type=int, default=50_000, help="N (default 50,000)")
    parser.add_argument(
        "--client",
        choices=["mockpoint", "transport"],
        default="mockpoint",
        help="mockpoint load (default), or mockpoint's picows transport alone",
    )
    parser.add_argument(
        "--workers", type=int, help="client processes (default: enough for the open-files limit)"
    )
    parser.add_argument(
        "--standin-processes", type=int, help="stand-in processes (default: likewise)"
    )
    parser.add_argument(
        "--interval", type=int, default=60, help="Heartbeat interval the CSMS grants (s)"
    )
    parser.add_argument(
        "--hold", type=float, help="seconds all connected, twice (default: the interval)"
    )
    parser.add_argument(
        "--duration", type=float, help="the client's run, s (default: sized from N and --hold)"
    )
    parser.add_argument(
        "--source-addresses", default="auto", help="as mockpoint load's (default auto)"
    )
    parser.add_argument(
        "--no-restart", action="store_true", help="do not restart the stand-in mid-run"
    )
    parser.add_argument("--json", type=Path, help="also write every number and sample here")
    # The transport client's worker processes.
    parser.add_argument("--worker", choices=["transport"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--index", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--end-at", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--sources", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return args
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    hard = hard if hard != resource.RLIM_INFINITY else 1_048_576
    n = args.charge_points
    if args.workers is None:
        args.workers = max(os.cpu_count() or 1, math.ceil(n / (hard - FILES_HEADROOM)))
    if args.standin_processes is None:
        args.standin_processes = max(1, math.ceil(n / (hard * STANDIN_SHARE)))
    if args.hold is None:
        args.hold = float(args.interval)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return transport_worker_main(args)
    console = Console()
    if not console.is_terminal:
        console = Console(width=120)
    began = time.perf_counter()
    result = run(args, console)
    result.facts["elapsed_s"] = round(time.perf_counter() - began, 1)
    print_report(console, result)
    console.print(f"total {result.facts['elapsed_s']:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(asdict(result), indent=2) + "\n")
    lost = [value for value in result.lost.values() if value]
    return 1 if lost or not result.phases or result.phases[0].reached is None else 0


if __name__ == "__main__":
    sys.exit(main())

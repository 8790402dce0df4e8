"""Load benchmark: Heartbeat round trips per client core, and memory per idle connection.

Run with ``make bench-load`` (or ``.venv/bin/python benchmarks/bench_load.py [--quick]``).
Everything runs side by side in one run against the stand-in CSMS (``standin_csms.py``)
pinned to CPU 1, with every client pinned to CPU 0, so each figure is per client core and
the ratios between rows hold even on a noisy machine:

* picows (callbacks): the raw ceiling; K connections, each sending a Heartbeat CALL and
  sending the next one from the callback that receives the answer (one in flight per
  connection, as OCPP-J 1.6 §4.1.1 requires). picows + uvloop + orjson.
* picows (a coroutine per CP): the same transport, awaiting a future per call, which is
  the shape an asyncio runner takes.
* websockets: the same loop on the ``websockets`` asyncio client, on uvloop.
* ocpp package: ``ocpp.v16.ChargePoint.call(call.Heartbeat())`` over websockets, with its
  default schema validation.
* mockpoint load: ``mockpoint load benchmarks/scenarios/heartbeats.yaml --loop --speed 0``.

Then memory per idle connected charge point for the raw picows client at 1k, 5k and 20k
connections, and the rate at which they connect (up to 500 handshakes in flight). A process
may hold only 20,000 open files, so 20k connections take two client processes of 10k each
and a stand-in of two processes sharing the port.

The measuring clients run as subprocesses of this script (``--worker``), so each starts from
a fresh interpreter and event loop and can be pinned and bounded by a timeout. Network
traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import platform
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson
import uvloop
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect
from rich.console import Console
from rich.table import Table
from standin_csms import raise_open_files_limit, read_lines, start_standin, stop_standin

HERE = Path(__file__).resolve().parent
HEARTBEATS_SCENARIO = HERE / "scenarios" / "heartbeats.yaml"
IDLE_SCENARIO = HERE / "scenarios" / "idle.yaml"
CHARGING_SCENARIO = HERE / "scenarios" / "charging.yaml"
#: Seconds a ``mockpoint load`` command takes to start its worker before the first arrival.
STARTUP_ALLOWANCE = 1.5
SUBPROTOCOL = "ocpp1.6"
MAX_CONNECTIONS_PER_PROCESS = 10_000  # the open-files limit is 20,000, with headroom
HANDSHAKES_IN_FLIGHT = 500
CONNECT_TIMEOUT = 30.0
IDLE_READ_BUFFER = 2048  # OCPP frames are small; picows grows the buffer when one is not
NOT_AVAILABLE = "not available"
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)  # Linux

# Row labels; README.md says what each row runs.
IMPLEMENTATIONS = {
    "picows": "picows (callbacks)",
    "picows-await": "picows (coroutine per CP)",
    "websockets": "websockets",
    "ocpp": "ocpp ChargePoint",
}
MOCKPOINT_LABEL = "mockpoint load"
T = TypeVar("T")


# --------------------------------------------------------------------------- machine facts


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def vm_rss(pid: int | str = "self") -> int:
    """Resident set size in bytes, from /proc/<pid>/status."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS line")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid`` so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def core_times() -> dict[int, tuple[int, int]]:
    """(busy, total) clock ticks of every CPU so far, from /proc/stat.

    Busy time includes softirq, where much of the loopback TCP work is done; it is charged
    to the core but not to any process.
    """
    times: dict[int, tuple[int, int]] = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name[3:].isdigit():
            ticks = [int(value) for value in values[:8]]
            idle = ticks[3] + ticks[4]
            times[int(name[3:])] = (sum(ticks) - idle, sum(ticks))
    return times


def busy_share(
    before: dict[int, tuple[int, int]], after: dict[int, tuple[int, int]], cpus: set[int]
) -> float:
    """The share of time ``cpus`` were busy between two :func:`core_times` samples."""
    busy = sum(after[cpu][0] - before[cpu][0] for cpu in cpus)
    total = sum(after[cpu][1] - before[cpu][1] for cpu in cpus)
    return busy / total if total else 0.0


def background_load(seconds: float = 1.0) -> float:
    """How busy the whole machine is, measured over ``seconds`` while this script waits."""
    before = core_times()
    time.sleep(seconds)
    return busy_share(before, core_times(), set(before))


def process_times() -> dict[int, tuple[int, float]]:
    """pid: (parent pid, CPU seconds so far) of every process, from /proc/<pid>/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    table: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                cpu = (int(fields[11]) + int(fields[12])) / ticks
                table[int(entry.name)] = (int(fields[1]), cpu)
    return table


def descendants(table: dict[int, tuple[int, float]], roots: set[int]) -> set[int]:
    """``roots`` and every process of ``table`` (:func:`process_times`) descended from them."""
    tree = set(roots)
    grew = True
    while grew:
        children = {pid for pid, (ppid, _cpu) in table.items() if ppid in tree}
        grew = not children <= tree
        tree |= children
    return tree


class OtherLoad:
    """CPU used by processes outside this benchmark while it measures, as a share of the
    machine: the other tenants of a shared machine, whose work skews every figure.

    Kernel threads are left out; a process that ends before the measurement does is missed.
    """

    def __init__(self) -> None:
        self.share: float | None = None
        self._before: dict[int, tuple[int, float]] = {}
        self._wall = 0.0

    def __enter__(self) -> OtherLoad:
        self._before, self._wall = process_times(), time.perf_counter()
        return self

    def __exit__(self, *_exc: object) -> None:
        after, wall = process_times(), time.perf_counter() - self._wall
        ours = {os.getpid()}
        for table in (self._before, after):
            ours = descendants(table, ours)
        used = 0.0
        for pid, (ppid, cpu) in after.items():
            if pid not in ours and pid != 2 and ppid != 2:
                used += max(0.0, cpu - self._before.get(pid, (0, 0.0))[1])
        self.share = used / (wall * (os.cpu_count() or 1)) if wall > 0 else None


def pinned(cpu: int | None) -> Callable[[], None] | None:
    """A ``preexec_fn`` pinning the child to ``cpu`` (its own children inherit it)."""
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def choose_cpus() -> tuple[int | None, int | None]:
    """(client CPU, stand-in CPU): 0 and 1 when both are available, else no pinning."""
    available = os.sched_getaffinity(0)
    if {0, 1} <= available:
        return 0, 1
    return None, None


# --------------------------------------------------------------------------- worker: clients


@dataclass
class Tally:
    done: int = 0
    errors: int = 0


def heartbeat_call(unique_id: str) -> bytes:
    return orjson.dumps([2, unique_id, "Heartbeat", {}])


class CallbackClient(WSListener):  # type: ignore[misc]
    """Sends the next Heartbeat from the callback that receives the previous answer."""

    def __init__(self, tally: Tally) -> None:
        super().__init__()
        self.tally = tally
        self.transport: WSTransport | None = None
        self.seq = 0
        self.pending = ""
        self.running = True

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def send_next(self) -> None:
        assert self.transport is not None
        self.seq += 1
        self.pending = str(self.seq)
        self.transport.send(WSMsgType.TEXT, heartbeat_call(self.pending))

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type != WSMsgType.TEXT:
            return
        reply = orjson.loads(frame.get_payload_as_memoryview())
        if reply[0] == 3 and reply[1] == self.pending:
            self.tally.done += 1
        else:
            self.tally.errors += 1
        if self.running:
            self.send_next()


class AwaitingClient(WSListener):  # type: ignore[misc]
    """Hands each answer to the coroutine awaiting it."""

    def __init__(self) -> None:
        super().__init__()
        self.transport: WSTransport | None = None
        self.waiter: asyncio.Future[bytes] | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.TEXT and self.waiter is not None:
            if not self.waiter.done():
                self.waiter.set_result(frame.get_payload_as_bytes())
            self.waiter = None


def cp_url(url: str, n: int) -> str:
    return f"{url.rstrip('/')}/CP-{n:05d}"


def bound_to(address: str) -> Callable[[Any], socket.socket]:
    """A picows ``socket_factory`` whose sockets leave from ``address`` (a 127.x.y.z).

    IP_BIND_ADDRESS_NO_PORT defers the choice of port to connect(), which then has a fresh
    ephemeral port range for each source address.
    """

    def make(_url: Any) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        sock.bind((address, 0))
        sock.setblocking(False)
        return sock

    return make


async def picows_connect(
    factory: Callable[[], WSListener],
    url: str,
    read_buffer: int = 16 * 1024,
    source: str | None = None,
) -> tuple[WSTransport, WSListener]:
    transport, listener = await asyncio.wait_for(
        ws_connect(
            factory,
            url,
            extra_headers={"Sec-WebSocket-Protocol": SUBPROTOCOL},
            websocket_handshake_timeout=CONNECT_TIMEOUT,
            read_buffer_init_size=read_buffer,
            socket_factory=bound_to(source) if source else None,
        ),
        CONNECT_TIMEOUT,
    )
    if transport.response.headers.get("Sec-WebSocket-Protocol") != SUBPROTOCOL:
        raise RuntimeError("the server did not accept the ocpp1.6 subprotocol")
    return transport, listener


async def open_all(
    count: int, connect_one: Callable[[int], Awaitable[Any]], in_flight: int
) -> tuple[list[Any], int]:
    """Open ``count`` connections, at most ``in_flight`` handshakes at once; (opened, failed).

    A fixed set of ``in_flight`` coroutines takes turns, so no task lingers per connection
    (that would count in the memory per connection).
    """
    opened: list[Any] = []
    failed = 0

    async def lane(start: int) -> None:
        nonlocal failed
        for n in range(start, count, in_flight):
            try:
                opened.append(await connect_one(n))
            except Exception:
                failed += 1

    await asyncio.gather(*(lane(start) for start in range(min(in_flight, count))))
    return opened, failed


async def measure_windows(
    tally: Tally, seconds: float, runs: int, warmup: float, standin_pid: int | None
) -> dict[str, Any]:
    """Round trips per second in ``runs`` consecutive windows after a warm-up."""
    await asyncio.sleep(warmup)
    client_cores = os.sched_getaffinity(0)
    standin_cores = os.sched_getaffinity(standin_pid) if standin_pid else set()
    report: dict[str, Any] = {
        "rates": [],
        "client_cpu": [],  # CPU time of this process per second
        "standin_cpu": [],  # CPU time of the stand-in process per second
        "client_core_busy": [],  # share of time its core(s) were busy, softirq included
        "standin_core_busy": [],
    }
    for _ in range(runs):
        done0, wall0, cpu0 = tally.done, time.perf_counter(), time.process_time()
        standin0 = cpu_seconds(standin_pid) if standin_pid else 0.0
        cores0 = core_times()
        await asyncio.sleep(seconds)
        wall = time.perf_counter() - wall0
        cores1 = core_times()
        report["rates"].append((tally.done - done0) / wall)
        report["client_cpu"].append((time.process_time() - cpu0) / wall)
        report["client_core_busy"].append(busy_share(cores0, cores1, client_cores))
        if standin_pid:
            report["standin_cpu"].append((cpu_seconds(standin_pid) - standin0) / wall)
            report["standin_core_busy"].append(busy_share(cores0, cores1, standin_cores))
    report["errors"] = tally.errors
    return report


async def open_or_fail(
    args: argparse.Namespace, connect_one: Callable[[int], Awaitable[T]]
) -> list[T]:
    clients, failed = await open_all(args.connections, connect_one, HANDSHAKES_IN_FLIGHT)
    if failed:
        raise RuntimeError(f"{failed} connections failed")
    return clients


async def drive(
    args: argparse.Namespace, tally: Tally, loops: Iterable[Coroutine[Any, Any, None]]
) -> dict[str, Any]:
    """Run one task per charge point while :func:`measure_windows` counts."""
    tasks = [asyncio.create_task(loop) for loop in loops]
    try:
        return await measure_windows(tally, args.seconds, args.runs, args.warmup, args.standin_pid)
    finally:
        for task in tasks:
            task.cancel()


async def run_picows(args: argparse.Namespace) -> dict[str, Any]:
    tally = Tally()
    clients = await open_or_fail(
        args, lambda n: picows_connect(lambda: CallbackClient(tally), cp_url(args.url, n))
    )
    for _transport, listener in clients:
        listener.send_next()
    return await measure_windows(tally, args.seconds, args.runs, args.warmup, args.standin_pid)


async def run_picows_await(args: argparse.Namespace) -> dict[str, Any]:
    tally = Tally()
    loop = asyncio.get_running_loop()
    clients = await open_or_fail(
        args, lambda n: picows_connect(AwaitingClient, cp_url(args.url, n))
    )

    async def charge_point(transport: WSTransport, listener: AwaitingClient) -> None:
        seq = 0
        while True:
            seq += 1
            unique_id = str(seq)
            waiter: asyncio.Future[bytes] = loop.create_future()
            listener.waiter = waiter
            transport.send(WSMsgType.TEXT, heartbeat_call(unique_id))
            reply = orjson.loads(await waiter)
            if reply[0] == 3 and reply[1] == unique_id:
                tally.done += 1
            else:
                tally.errors += 1

    return await drive(args, tally, (charge_point(t, listener) for t, listener in clients))


async def websockets_connect(url: str) -> Any:
    from websockets.asyncio.client import connect

    ws = await connect(url, subprotocols=[SUBPROTOCOL], open_timeout=CONNECT_TIMEOUT)
    if ws.subprotocol != SUBPROTOCOL:
        raise RuntimeError("the server did not accept the ocpp1.6 subprotocol")
    return ws


async def run_websockets(args: argparse.Namespace) -> dict[str, Any]:
    tally = Tally()
    clients = await open_or_fail(args, lambda n: websockets_connect(cp_url(args.url, n)))

    async def charge_point(ws: Any) -> None:
        seq = 0
        while True:
            seq += 1
            unique_id = str(seq)
            await ws.send(heartbeat_call(unique_id).decode())
            reply = orjson.loads(await ws.recv())
            if reply[0] == 3 and reply[1] == unique_id:
                tally.done += 1
            else:
                tally.errors += 1

    return await drive(args, tally, (charge_point(ws) for ws in clients))


async def run_ocpp(args: argparse.Namespace) -> dict[str, Any]:
    from ocpp.v16 import ChargePoint, call

    tally = Tally()
    clients = await open_or_fail(args, lambda n: websockets_connect(cp_url(args.url, n)))
    charge_points = [ChargePoint(f"CP-{n:05d}", ws) for n, ws in enumerate(clients)]

    async def charge_point(cp: ChargePoint) -> None:
        receiving = asyncio.create_task(cp.start())
        try:
            while True:
                result = await cp.call(call.Heartbeat())
                if result is not None and result.current_time:
                    tally.done += 1
                else:
                    tally.errors += 1
        finally:
            receiving.cancel()

    return await drive(args, tally, (charge_point(cp) for cp in charge_points))


RUNNERS: dict[str, Callable[[argparse.Namespace], Awaitable[dict[str, Any]]]] = {
    "picows": run_picows,
    "picows-await": run_picows_await,
    "websockets": run_websockets,
    "ocpp": run_ocpp,
}


async def hold_idle(args: argparse.Namespace) -> None:
    """Open ``--connections`` idle picows connections, report RSS growth, hold until EOF."""
    gc.collect()
    await asyncio.sleep(0.1)
    rss_before = vm_rss()
    start = time.monotonic()
    clients, failed = await open_all(
        args.connections,
        lambda n: picows_connect(
            WSListener, cp_url(args.url, args.first + n), IDLE_READ_BUFFER, args.source
        ),
        args.in_flight,
    )
    end = time.monotonic()
    gc.collect()
    await asyncio.sleep(0.5)
    report = {
        "connected": len(clients),
        "failed": failed,
        "rss_before": rss_before,
        "rss_after": vm_rss(),
        "start": start,
        "end": end,
    }
    print(json.dumps(report), flush=True)
    finished = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_reader(
        sys.stdin.fileno(), lambda: finished.done() or finished.set_result(None)
    )
    try:
        await asyncio.wait_for(finished, args.seconds)
    finally:
        reset_on_close(transport for transport, _listener in clients)


def reset_on_close(transports: Iterable[WSTransport]) -> None:
    """Make closing send RST, so that no client port lingers in TIME_WAIT.

    The client closes first, so TIME_WAIT (60 s) would hold its ephemeral ports; with 20k
    connections a run after run would find most of the 28k-port range taken and connect()
    would slow down searching it.
    """
    linger = struct.pack("ii", 1, 0)
    for transport in transports:
        sock = transport.underlying_transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)


def worker_main(args: argparse.Namespace) -> int:
    raise_open_files_limit()
    if args.worker == "idle":
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            return 1
        with contextlib.suppress(asyncio.TimeoutError):
            uvloop.run(hold_idle(args))
    else:
        result = uvloop.run(RUNNERS[args.impl](args))
        print(json.dumps(result), flush=True)
    # Leave without closing thousands of connections one by one: the stand-in does not care.
    sys.stdout.flush()
    os._exit(0)


# --------------------------------------------------------------------------- orchestration


@dataclass
class RoundTrips:
    label: str
    rate: float | None = None  # median round trips per second
    runs: list[float] = field(default_factory=list)
    client_cpu: float | None = None
    standin_cpu: float | None = None
    client_core_busy: float | None = None
    standin_core_busy: float | None = None
    other_load: float | None = None  # CPU share of processes outside the benchmark
    note: str = ""


@dataclass
class IdleMemory:
    client: str
    connections: int
    processes: int
    connected: int = 0
    bytes_per_connection: float | None = None
    connects_per_second: float | None = None
    other_load: float | None = None
    note: str = ""


@dataclass
class Charging:
    """The charging row: N charge points in a transaction, a MeterValues and a Heartbeat
    every 10 s each."""

    charge_points: int
    ramp: float
    connected: int = 0
    #: calls completed in the steady window, and those that did not end in a CALLRESULT
    calls: int = 0
    errors: int = 0
    window: float = 0.0
    #: CPU seconds of the load command's process tree in the window
    cpu_seconds: float | None = None
    cpu_per_1000_calls: float | None = None
    #: the tree's RSS at N charge points and at 1
    rss_bytes: int | None = None
    rss_one_bytes: int | None = None
    kb_per_cp: float | None = None
    other_load: float | None = None
    note: str = ""


def worker_command(*arguments: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *arguments]


def run_worker(command: list[str], cpu: int | None, timeout: float) -> dict[str, Any]:
    """Run a round-trip worker; return its JSON report (the last stdout line)."""
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        preexec_fn=pinned(cpu),
    )
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=5)
    if process.returncode != 0 or not out.strip():
        tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"exit code {process.returncode}: {tail[0]}")
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return report


def measure_client(
    impl: str,
    url: str,
    standin_pid: int,
    connections: int,
    seconds: float,
    runs: int,
    warmup: float,
    cpu: int | None,
) -> RoundTrips:
    row = RoundTrips(IMPLEMENTATIONS[impl])
    command = worker_command(
        "--worker", "rtt", "--impl", impl, "--url", url, "--standin-pid", str(standin_pid)
    )
    command += ["--connections", str(connections), "--seconds", str(seconds)]
    command += ["--runs", str(runs), "--warmup", str(warmup)]
    try:
        report = run_worker(command, cpu, timeout=warmup + runs * seconds + 60)
    except (RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
        row.note = f"failed: {exc}"
        return row
    row.runs = report["rates"]
    row.rate = statistics.median(row.runs)
    row.client_cpu = statistics.median(report["client_cpu"])
    row.client_core_busy = statistics.median(report["client_core_busy"])
    if report["standin_cpu"]:
        row.standin_cpu = statistics.median(report["standin_cpu"])
        row.standin_core_busy = statistics.median(report["standin_core_busy"])
    if report["errors"]:
        row.note = f"{report['errors']} unexpected answers"
    return row


def mockpoint_load(
    scenario: Path,
    url: str,
    n: int,
    duration: float,
    workers: int,
    cpu: int | None,
    extra: Sequence[str] = (),
) -> dict[str, Any] | None:
    """Run ``mockpoint load`` once and return its JSON report; None if there is no such command.

    Raises RuntimeError when the command exists but fails.
    """
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "load.json"
        command = [sys.executable, "-m", "mockpoint", "load", str(scenario), "-n", str(n)]
        command += ["--csms", url, "--workers", str(workers), "--duration", f"{duration:g}s"]
        command += ["--ramp-up", "100000", "--json", str(out), "--id-pattern", "CP-{n:05d}"]
        command += list(extra)
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            preexec_fn=pinned(cpu),
        )
        try:
            _out, err = process.communicate(timeout=duration + 60)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=5)
        message = err.decode(errors="replace")
        if process.returncode == 2 and "No such command" in message:
            return None
        if process.returncode != 0 and not out.exists():
            tail = message.strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"mockpoint load: exit code {process.returncode}: {tail[0]}")
        report: dict[str, Any] = json.loads(out.read_text())
        return report


def measure_mockpoint(
    url: str,
    n: int = 100,
    duration: float = 10.0,
    cpu: int | None = 0,
    scenario: Path = HEARTBEATS_SCENARIO,
) -> float | None:
    """Round trips per second of one ``mockpoint load`` run; None if ``load`` does not exist.

    Uses ``summary.throughput`` when the report has it, else ``summary.ok / duration``.
    """
    report = mockpoint_load(scenario, url, n, duration, 1, cpu, ["--loop", "--speed", "0"])
    if report is None:
        return None
    summary = report.get("summary", {})
    if summary.get("throughput") is not None:
        return float(summary["throughput"])
    return float(summary["ok"]) / float(report.get("duration") or duration)


def measure_mockpoint_row(
    url: str, standin_pid: int, n: int, duration: float, runs: int, cpu: int | None
) -> RoundTrips:
    """``runs`` runs of :func:`measure_mockpoint`; CPU shares span each whole run, start-up
    included, so they read a little lower than the other rows'."""
    row = RoundTrips(MOCKPOINT_LABEL)
    standin_cpu: list[float] = []
    client_busy: list[float] = []
    standin_busy: list[float] = []
    for _ in range(runs):
        before, cores0, wall0 = cpu_seconds(standin_pid), core_times(), time.perf_counter()
        try:
            rate = measure_mockpoint(url, n, duration, cpu)
        except (RuntimeError, subprocess.TimeoutExpired, ValueError, KeyError) as exc:
            row.note = f"failed: {exc}"
            break
        if rate is None:
            row.note = f"mockpoint load: {NOT_AVAILABLE}"
            break
        wall, cores1 = time.perf_counter() - wall0, core_times()
        row.runs.append(rate)
        standin_cpu.append((cpu_seconds(standin_pid) - before) / wall)
        standin_busy.append(busy_share(cores0, cores1, os.sched_getaffinity(standin_pid)))
        client_busy.append(busy_share(cores0, cores1, {cpu} if cpu is not None else set(cores0)))
    if row.runs:
        row.rate = statistics.median(row.runs)
        row.standin_cpu = statistics.median(standin_cpu)
        row.standin_core_busy = statistics.median(standin_busy)
        row.client_core_busy = statistics.median(client_busy)
    return row


def measure_mockpoint_memory(
    n: int, url: str, workers: int | None = None, duration: float = 10.0, cpu: int | None = 0
) -> IdleMemory:
    """Memory per idle charge point of ``mockpoint load scenarios/idle.yaml -n N``.

    Reads the load report's ``resources``: ``rss_bytes``, the RSS of the worker processes
    with every charge point connected (summed), ``rss_baseline_bytes``, their RSS before
    they connected, and ``connect_rate``, connections per second while ramping up.
    """
    workers = workers or math.ceil(n / MAX_CONNECTIONS_PER_PROCESS)
    row = IdleMemory("mockpoint load", n, workers)
    try:
        report = mockpoint_load(IDLE_SCENARIO, url, n, duration, workers, cpu)
    except (RuntimeError, subprocess.TimeoutExpired, ValueError) as exc:
        row.note = f"failed: {exc}"
        return row
    if report is None:
        row.note = f"mockpoint load: {NOT_AVAILABLE}"
        return row
    fields = {**report.get("summary", {}), **report.get("resources", {}), **report}
    connections = report.get("connections")
    if isinstance(connections, dict) and "opened" in connections:
        row.connected = int(connections["opened"])
    if fields.get("connect_rate") is not None:
        row.connects_per_second = float(fields["connect_rate"])
    if row.connected and row.connected < n:
        row.note = f"only {row.connected:,} connected; "
    if fields.get("rss_bytes") is None:
        row.note += "n/a (no rss_bytes in the report)"
        return row
    baseline = fields.get("rss_baseline_bytes")
    row.bytes_per_connection = (float(fields["rss_bytes"]) - float(baseline or 0)) / n
    if baseline is None:
        row.note += "includes the interpreters"
    return row


def process_tree(root: int) -> set[int]:
    """``root`` and every process descended from it, from /proc."""
    return descendants(process_times(), {root})


def tree_usage(root: int) -> tuple[float, int]:
    """(CPU seconds so far, resident bytes now) of ``root``'s process tree."""
    cpu, rss = 0.0, 0
    for pid in process_tree(root):
        with contextlib.suppress(OSError, RuntimeError, IndexError, ValueError):
            cpu += cpu_seconds(pid)
            rss += vm_rss(pid)
    return cpu, rss


def sleep_to_second(at_least: float) -> float:
    """Sleep at least ``at_least`` seconds, then to the next whole wall-clock second (the
    load report's timeline counts calls per epoch second); returns that second."""
    target = math.ceil(time.time() + at_least)
    time.sleep(max(0.0, target - time.time()))
    return float(target)


def charging_run(
    url: str, n: int, ramp: float, settle: float, steady: float, cpu: int | None
) -> tuple[dict[str, Any], float, float, float, int]:
    """One ``mockpoint load scenarios/charging.yaml -n N --ramp-up RAMP --workers 1``, its
    process tree sampled at the start and the end of the steady window (once all have
    arrived and ``settle`` seconds more): (report, window start, window end, CPU seconds
    of the tree in the window, the tree's RSS at the window's end)."""
    ramp_seconds = n / ramp
    duration = ramp_seconds + settle + steady + 3
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "load.json"
        command = [sys.executable, "-m", "mockpoint", "load", str(CHARGING_SCENARIO)]
        command += ["-n", str(n), "--csms", url, "--workers", "1", "--ramp-up", f"{ramp:g}"]
        command += ["--duration", f"{duration:g}s", "--json", str(out)]
        process = subprocess.Popen(
            command,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            preexec_fn=pinned(cpu),
        )
        try:
            began = sleep_to_second(STARTUP_ALLOWANCE + ramp_seconds + settle)
            cpu0, _rss = tree_usage(process.pid)
            ended = sleep_to_second(steady - 0.5)
            cpu1, rss = tree_usage(process.pid)
            _out, err = process.communicate(timeout=duration + 60)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate(timeout=5)
        if not out.exists():
            tail = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"mockpoint load: exit code {process.returncode}: {tail[0]}")
        report: dict[str, Any] = json.loads(out.read_text())
    return report, began, ended, cpu1 - cpu0, rss


def measure_charging(
    url: str, n: int, cpu: int | None, ramp: float = 200.0, steady: float = 60.0
) -> Charging:
    """CPU per 1,000 calls and memory per charge point of N charging charge points.

    CPU: user + system seconds of the whole ``mockpoint load`` process tree (the command
    and its worker) over a steady window of ``steady`` seconds, once every charge point has
    arrived, per 1,000 calls completed in that window (the report's per-second timeline).
    Memory: (RSS of the tree at N - RSS of the tree at 1) / (N - 1), both sampled in the
    steady window.
    """
    row = Charging(n, ramp=ramp)
    try:
        report, began, ended, cpu_used, rss = charging_run(url, n, ramp, 5.0, steady, cpu)
        timeline = report.get("timeline") or []
        row.calls = sum(p["calls"] for p in timeline if began <= p["t"] < ended)
        row.errors = sum(p["errors"] for p in timeline if began <= p["t"] < ended)
        row.window = ended - began
        row.connected = int(report.get("connections", {}).get("opened", 0))
        row.cpu_seconds = cpu_used
        row.rss_bytes = rss
        if row.calls:
            row.cpu_per_1000_calls = cpu_used / row.calls * 1000
        _report, _b, _e, _cpu, row.rss_one_bytes = charging_run(url, 1, ramp, 2.0, 3.0, cpu)
        row.kb_per_cp = (rss - row.rss_one_bytes) / (n - 1) / 1000
    except (RuntimeError, subprocess.TimeoutExpired, ValueError, KeyError, OSError) as exc:
        row.note = f"failed: {exc}"
    if row.errors:
        row.note += f"{row.errors} calls failed in the window"
    return row


def measure_idle_picows(
    url: str, n: int, cpu: int | None, spread: bool = False, hold: float = 120.0
) -> IdleMemory:
    """RSS growth per idle picows connection; ``n`` split over processes of at most 10k.

    With ``spread``, client process i connects from 127.0.0.(2 + i) rather than 127.0.0.1.
    """
    processes = math.ceil(n / MAX_CONNECTIONS_PER_PROCESS)
    row = IdleMemory("picows, one source address per process" if spread else "picows", n, processes)
    shares = [n // processes + (1 if i < n % processes else 0) for i in range(processes)]
    workers: list[subprocess.Popen[bytes]] = []
    try:
        first = 0
        for share in shares:
            command = worker_command("--worker", "idle", "--url", url)
            command += ["--connections", str(share), "--first", str(first), "--seconds", str(hold)]
            # The processes share the ~500 handshakes in flight.
            command += ["--in-flight", str(math.ceil(HANDSHAKES_IN_FLIGHT / processes))]
            if spread:
                command += ["--source", f"127.0.0.{2 + len(workers)}"]
            first += share
            workers.append(
                subprocess.Popen(
                    command,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    preexec_fn=pinned(cpu),
                )
            )
        for worker in workers:
            assert worker.stdout is not None
            if read_lines(worker.stdout.fileno(), 1, 20.0) != [b"ready"]:
                raise RuntimeError("an idle client did not start")
        for worker in workers:  # every process starts connecting at the same moment
            assert worker.stdin is not None
            worker.stdin.write(b"go\n")
            worker.stdin.flush()
        reports = []
        for worker in workers:
            assert worker.stdout is not None
            lines = read_lines(worker.stdout.fileno(), 1, CONNECT_TIMEOUT + n / 500)
            if not lines:
                raise RuntimeError("an idle client did not report")
            reports.append(json.loads(lines[0]))
        row.connected = sum(r["connected"] for r in reports)
        growth = sum(r["rss_after"] - r["rss_before"] for r in reports)
        row.bytes_per_connection = growth / max(row.connected, 1)
        elapsed = max(r["end"] for r in reports) - min(r["start"] for r in reports)
        row.connects_per_second = row.connected / elapsed if elapsed > 0 else None
        failed = sum(r["failed"] for r in reports)
        if failed:
            row.note = f"{failed} failed to connect"
    except (RuntimeError, ValueError, OSError) as exc:
        row.note = f"failed: {exc}"
    finally:
        for worker in workers:
            with contextlib.suppress(OSError):
                assert worker.stdin is not None
                worker.stdin.close()
        for worker in workers:
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait(timeout=5)
            if worker.stdout is not None:
                worker.stdout.close()
    return row


# --------------------------------------------------------------------------- report


def ratio(numerator: RoundTrips | None, denominator: RoundTrips | None) -> float | None:
    if numerator is None or denominator is None or not numerator.rate or not denominator.rate:
        return None
    return numerator.rate / denominator.rate


def percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.0f}%"


def print_report(
    console: Console,
    facts: dict[str, Any],
    rows: list[RoundTrips],
    ratios: dict[str, float | None],
    memory: list[IdleMemory],
    charging: Charging | None = None,
) -> None:
    console.print(
        f"[bold]mockpoint load benchmark[/bold]  {facts['date']}  Python {facts['python']}  "
        f"{facts['cpu_model']} × {facts['cores']} cores  "
        f"background load {percent(facts['background_load_before'])} before, "
        f"{percent(facts['background_load_after'])} after"
    )
    settings = facts["settings"]
    rtt = Table(
        title=(
            f"Heartbeat round trips per client core: {settings['connections']} connections, "
            f"one CALL in flight each, median of {settings['runs']} × {settings['seconds']:g} s"
        ),
        title_justify="left",
        caption=(
            "core busy: the share of time the client's and the stand-in's cores worked, "
            "softirq included; other load: CPU used by processes outside this benchmark, "
            "as a share of the machine"
        ),
        caption_justify="left",
    )
    rtt.add_column("client")
    rtt.add_column("round trips/s", justify="right")
    rtt.add_column("runs", justify="right")
    rtt.add_column("client core busy", justify="right")
    rtt.add_column("stand-in core busy", justify="right")
    rtt.add_column("other load", justify="right")
    rtt.add_column("note")
    for row in rows:
        rtt.add_row(
            row.label,
            f"{row.rate:,.0f}" if row.rate else "—",
            " / ".join(f"{r:,.0f}" for r in row.runs),
            percent(row.client_core_busy),
            percent(row.standin_core_busy),
            percent(row.other_load),
            row.note,
        )
    console.print(rtt)

    table = Table(title="Ratios", title_justify="left")
    table.add_column("ratio")
    table.add_column("value", justify="right")
    for name, value in ratios.items():
        table.add_row(name, "—" if value is None else f"{value:.2f}")
    console.print(table)

    mem = Table(
        title="Idle connected charge points: memory and connect rate (one client core)",
        title_justify="left",
    )
    mem.add_column("client")
    mem.add_column("connections", justify="right")
    mem.add_column("client processes", justify="right")
    mem.add_column("connected", justify="right")
    mem.add_column("KB per CP", justify="right")
    mem.add_column("connects/s", justify="right")
    mem.add_column("other load", justify="right")
    mem.add_column("note")
    for item in memory:
        mem.add_row(
            item.client,
            f"{item.connections:,}",
            str(item.processes),
            f"{item.connected:,}" if item.connected else "",
            "" if item.bytes_per_connection is None else f"{item.bytes_per_connection / 1000:.1f}",
            "" if item.connects_per_second is None else f"{item.connects_per_second:,.0f}",
            percent(item.other_load),
            item.note,
        )
    console.print(mem)

    if charging is None:
        return
    row = charging
    table = Table(
        title=(
            f"Charging charge points: a MeterValues and a Heartbeat every 10 s each, ramp-up "
            f"{row.ramp:g}/s, one client core, {row.window:g} s steady window"
        ),
        title_justify="left",
        caption="CPU and RSS of the load command's whole process tree",
        caption_justify="left",
    )
    for column in ("charge points", "connected", "calls in window", "CPU-s per 1,000 calls"):
        table.add_column(column, justify="right")
    for column in ("RSS at N", "RSS at 1", "KB per CP", "other load"):
        table.add_column(column, justify="right")
    table.add_column("note")

    def megabytes(value: int | None) -> str:
        return "" if value is None else f"{value / 1e6:,.0f} MB"

    table.add_row(
        f"{row.charge_points:,}",
        f"{row.connected:,}",
        f"{row.calls:,}",
        "" if row.cpu_per_1000_calls is None else f"{row.cpu_per_1000_calls:.3f}",
        megabytes(row.rss_bytes),
        megabytes(row.rss_one_bytes),
        "" if row.kb_per_cp is None else f"{row.kb_per_cp:.1f}",
        percent(row.other_load),
        row.note,
    )
    console.print(table)


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="shorter runs (under a minute)")
    parser.add_argument(
        "--spread-sources",
        action="store_true",
        help="also open the largest idle count with one source address per client process",
    )
    parser.add_argument("--json", type=Path, help="also write every number to this file")
    parser.add_argument(
        "--rows",
        default="rtt,idle,charging",
        help="which measurements to run (default rtt,idle,charging)",
    )
    parser.add_argument(
        "--charging",
        type=int,
        help="charge points of the charging row (default 5000, quick 1000)",
    )
    parser.add_argument("--connections", type=int, default=100, help="K (default 100)")
    parser.add_argument("--seconds", type=float, help="T, one run's length (default 10, quick 1.5)")
    parser.add_argument("--runs", type=int, default=3, help="runs per row, the median is shown")
    parser.add_argument(
        "--sizes",
        help="idle connection counts for the memory rows (default 1000,5000,20000; quick "
        "1000,5000)",
    )
    # The measuring subprocesses this script starts.
    parser.add_argument("--worker", choices=["rtt", "idle"], help=argparse.SUPPRESS)
    parser.add_argument("--impl", choices=sorted(RUNNERS), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--standin-pid", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=float, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--in-flight", type=int, default=HANDSHAKES_IN_FLIGHT, help=argparse.SUPPRESS
    )
    parser.add_argument("--source", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def settings_of(args: argparse.Namespace) -> dict[str, Any]:
    quick = args.quick
    sizes = args.sizes or ("1000,5000" if quick else "1000,5000,20000")
    client_cpu, standin_cpu = choose_cpus()
    return {
        "connections": args.connections,
        "seconds": args.seconds if args.seconds is not None else (1.5 if quick else 10.0),
        "runs": args.runs,
        "warmup": 0.5 if quick else 1.0,
        "quick": quick,
        "idle_sizes": [int(size) for size in sizes.split(",") if size.strip()],
        "spread_sources": args.spread_sources,
        "charging": args.charging if args.charging is not None else (1000 if quick else 5000),
        "steady": 15.0 if quick else 60.0,
        "rows": [row.strip() for row in args.rows.split(",") if row.strip()],
        "client_cpu": client_cpu,
        "standin_cpu": standin_cpu,
    }


def measure_round_trips(console: Console, settings: dict[str, Any]) -> list[RoundTrips]:
    """Every round-trip row, against one single-process stand-in."""
    rows: list[RoundTrips] = []
    seconds, runs = settings["seconds"], settings["runs"]
    standin, port = start_standin(cpu=settings["standin_cpu"])
    url = f"ws://127.0.0.1:{port}"
    try:
        for impl, label in [*IMPLEMENTATIONS.items(), ("mockpoint", MOCKPOINT_LABEL)]:
            with console.status(f"{label}: {runs} × {seconds:g} s"), OtherLoad() as other:
                if impl == "mockpoint":
                    row = measure_mockpoint_row(
                        url,
                        standin.pid,
                        settings["connections"],
                        seconds,
                        runs,
                        settings["client_cpu"],
                    )
                else:
                    row = measure_client(
                        impl,
                        url,
                        standin.pid,
                        settings["connections"],
                        seconds,
                        runs,
                        settings["warmup"],
                        settings["client_cpu"],
                    )
            row.other_load = other.share
            rows.append(row)
            console.print(f"  {row.label}: {row.rate or 0:,.0f} round trips/s  {row.note}")
    finally:
        stop_standin(standin)
    return rows


def measure_idle(console: Console, settings: dict[str, Any]) -> list[IdleMemory]:
    """Every idle-connection row, against a stand-in of two processes (20k connections
    exceed one process's open-files limit)."""
    memory: list[IdleMemory] = []
    cpu = settings["client_cpu"]
    standin, port = start_standin(processes=2, cpu=settings["standin_cpu"])
    url = f"ws://127.0.0.1:{port}"

    def add(item: IdleMemory, other: OtherLoad) -> None:
        item.other_load = other.share
        memory.append(item)
        console.print(f"  {item.client} × {item.connections:,}: done  {item.note}")

    try:
        for size in settings["idle_sizes"]:
            with console.status(f"idle picows connections: {size:,}"), OtherLoad() as other:
                item = measure_idle_picows(url, size, cpu)
            add(item, other)
            if settings["spread_sources"] and size > MAX_CONNECTIONS_PER_PROCESS:
                with console.status(f"idle picows connections: {size:,}"), OtherLoad() as other:
                    item = measure_idle_picows(url, size, cpu, spread=True)
                add(item, other)
        # --quick: the smallest size only.
        sizes = settings["idle_sizes"][:1] if settings["quick"] else settings["idle_sizes"]
        for size in sizes:
            with console.status(f"idle mockpoint charge points: {size:,}"), OtherLoad() as other:
                # Long enough to open them all at 1,000 a second and settle.
                item = measure_mockpoint_memory(size, url, duration=5 + size / 1000, cpu=cpu)
            add(item, other)
            if item.bytes_per_connection is None:
                break  # the next sizes would say the same, slower
    finally:
        stop_standin(standin)
    return memory


def measure_charging_row(console: Console, settings: dict[str, Any]) -> Charging:
    """The charging row, against a stand-in granting a 10 s heartbeat interval."""
    n, steady = settings["charging"], settings["steady"]
    standin, port = start_standin(cpu=settings["standin_cpu"], interval=10)
    try:
        with console.status(f"{n:,} charging charge points"), OtherLoad() as other:
            row = measure_charging(
                f"ws://127.0.0.1:{port}", n, settings["client_cpu"], 200.0, steady
            )
        row.other_load = other.share
    finally:
        stop_standin(standin)
    console.print(f"  charging × {n:,}: done  {row.note}")
    return row


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.worker:
        return worker_main(args)
    began = time.perf_counter()
    console = Console()
    if not console.is_terminal:
        console = Console(width=120)
    settings = settings_of(args)
    facts: dict[str, Any] = {
        "date": datetime.now(UTC).date().isoformat(),
        "python": platform.python_version(),
        "cpu_model": cpu_model(),
        "cores": os.cpu_count(),
        "settings": settings,
        "background_load_before": background_load(),
    }
    wanted = settings["rows"]
    rows = measure_round_trips(console, settings) if "rtt" in wanted else []
    memory = measure_idle(console, settings) if "idle" in wanted else []
    charging = measure_charging_row(console, settings) if "charging" in wanted else None

    by_label = {row.label: row for row in rows}
    picows = by_label.get(IMPLEMENTATIONS["picows"])
    mockpoint = by_label.get(MOCKPOINT_LABEL)
    ratios = {
        "mockpoint / raw picows ceiling": ratio(mockpoint, picows),
        "mockpoint / ocpp package": ratio(mockpoint, by_label.get(IMPLEMENTATIONS["ocpp"])),
        "websockets / picows": ratio(by_label.get(IMPLEMENTATIONS["websockets"]), picows),
        "picows coroutine per CP / picows callbacks": ratio(
            by_label.get(IMPLEMENTATIONS["picows-await"]), picows
        ),
    }
    facts["background_load_after"] = background_load()
    facts["elapsed_s"] = round(time.perf_counter() - began, 1)
    print_report(console, facts, rows, ratios, memory, charging)
    console.print(f"total {facts['elapsed_s']:.0f} s")
    if args.json:
        document = {
            **facts,
            "round_trips": [asdict(row) for row in rows],
            "ratios": ratios,
            "idle_memory": [asdict(item) for item in memory],
            "charging": None if charging is None else asdict(charging),
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A fast CSMS stand-in for load benchmarks: answers every CALL at once, and nothing more.

It speaks just enough OCPP-J 1.6 for a charge point to boot and run: the WebSocket handshake
must offer the ``ocpp1.6`` subprotocol (OCPP-J 1.6 §3.1.2), and every CALL
``[2, id, action, payload]`` gets a CALLRESULT ``[3, id, payload]`` (§4.2.2) whose payload is
valid per the OCA 1.6 JSON schemas, or a CALLERROR ``NotImplemented`` (§4.2.3) for an action
it does not know. There is no state besides a transaction counter: it exists to be as cheap
as possible, so that a benchmark measures the client and not the server.

Built on picows, uvloop and orjson. Run it as a script::

    python benchmarks/standin_csms.py --port 9000 --processes 2 --cpu 1

It prints ``ready <port>`` on stdout once every process listens, and the frame counts on
stderr when stopped with SIGTERM or SIGINT. With ``--processes P`` greater than one it forks
P servers that share the port through ``SO_REUSEPORT``: one process can hold only as many
connections as its open-files limit allows, so 20,000 charge points need two of them, and
50,000 four (the kernel's spread over them is even only on average).

For tens of thousands of connections each process raises its soft open-files limit to the
hard one and listens with a backlog of ``--backlog`` (65,535 by default; the kernel caps it
at ``net.core.somaxconn``), so that a burst of handshakes is not dropped. ``--stats FILE``
makes every process append its counts to FILE once a second, as one JSON line, so a
benchmark can follow connections and Heartbeats while the run goes on (docs/load-limits.md).
Stopped, it closes every connection with 1001 Going Away (RFC 6455 §7.4.1) and gives the
charge points ``STOP_GRACE`` seconds to answer, as a CSMS restarted on purpose would.

Or from Python: ``start_standin(port=0, processes=1, cpu=None)`` launches it as a subprocess
and returns ``(process, port)`` once it is ready.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import resource
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import orjson
import uvloop
from picows import (
    WSCloseCode,
    WSFrame,
    WSListener,
    WSMsgType,
    WSTransport,
    WSUpgradeRequest,
    WSUpgradeResponse,
    WSUpgradeResponseWithListener,
    ws_create_server,
)

SUBPROTOCOL = "ocpp1.6"
HOST = "127.0.0.1"
#: The listen backlog asked for; the kernel caps it at net.core.somaxconn.
BACKLOG = 65535
#: Initial read buffer per connection: a charge point's frames are small, and picows grows
#: the buffer for a bigger one (the server's memory per connection counts at 50,000).
READ_BUFFER = 2048
CALL, CALLRESULT, CALLERROR = 2, 3, 4
READY_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0
#: How long the charge points get to answer the closing handshake when the stand-in stops.
STOP_GRACE = 2.0


@dataclass
class Counts:
    """Frames and connections seen by one server process (or, summed, by all of them)."""

    #: WebSocket connections accepted so far
    connections: int = 0
    #: ... and open now
    open: int = 0
    #: ... and the most open at once (summed over processes: an upper bound)
    open_peak: int = 0
    frames_received: int = 0
    heartbeats: int = 0
    results_sent: int = 0
    errors_sent: int = 0
    #: frames that came after the stand-in's own close (stopping): RFC 6455 §5.5.1 lets
    #: nothing follow a Close frame, so they go unanswered (counted in frames_received)
    unanswered: int = 0

    def add(self, other: Counts) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)


class _UtcSecond:
    """``currentTime`` as RFC 3339 UTC, formatted once per second (it is on the hot path).

    ``heartbeat_tail`` is the end of a Heartbeat CALLRESULT after its id, cached alike.
    """

    def __init__(self) -> None:
        self._second = -1
        self._text = ""
        self._tail = b""

    def _refresh(self) -> None:
        second = int(time.time())
        if second != self._second:
            self._second = second
            self._text = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(second))
            self._tail = b'",' + orjson.dumps({"currentTime": self._text}) + b"]"

    def __call__(self) -> str:
        self._refresh()
        return self._text

    def heartbeat_tail(self) -> bytes:
        self._refresh()
        return self._tail


class Answers:
    """CALLRESULT payloads of the Central System side of OCPP 1.6 (OCPP 1.6 §4 and §6).

    Every payload is the smallest one the OCA ``*Response.json`` schema accepts.
    """

    def __init__(self, interval: int) -> None:
        self.now = _UtcSecond()
        self.interval = interval
        self.transaction_id = 0
        self._static: dict[str, dict[str, Any]] = {
            "StatusNotification": {},
            "Authorize": {"idTagInfo": {"status": "Accepted"}},
            "StopTransaction": {},
            "MeterValues": {},
            "DataTransfer": {"status": "Accepted"},
            "DiagnosticsStatusNotification": {},
            "FirmwareStatusNotification": {},
        }

    def payload(self, action: object) -> dict[str, Any] | None:
        """The answer to ``action``, or None for an action this stand-in does not know."""
        if action == "Heartbeat":
            return {"currentTime": self.now()}
        if action == "BootNotification":
            return {"status": "Accepted", "currentTime": self.now(), "interval": self.interval}
        if action == "StartTransaction":
            self.transaction_id += 1
            return {"transactionId": self.transaction_id, "idTagInfo": {"status": "Accepted"}}
        if isinstance(action, str):
            return self._static.get(action)
        return None


def _error(unique_id: object, code: str, description: str) -> bytes:
    """A CALLERROR (OCPP-J 1.6 §4.2.3); ``"-1"`` stands in for an id that could not be read."""
    if not isinstance(unique_id, str):
        unique_id = "-1"
    return orjson.dumps([CALLERROR, unique_id, code, description, {}])


# A Heartbeat CALL as clients write it, whose id needs no JSON escaping (OCPP-J 1.6 §4.1.4:
# at most 36 characters): answered without decoding or encoding JSON.
_PLAIN_HEARTBEAT = re.compile(rb'\[2,"([\x20\x21\x23-\x5b\x5d-\x7e]{1,36})","Heartbeat",\{\}\]')


def answer(answers: Answers, counts: Counts, data: bytes) -> bytes | None:
    """The frame to send back for the text frame ``data``, or None to send nothing."""
    plain = _PLAIN_HEARTBEAT.fullmatch(data)
    if plain is not None:
        counts.heartbeats += 1
        counts.results_sent += 1
        return b'[3,"' + plain.group(1) + answers.now.heartbeat_tail()
    try:
        message = orjson.loads(data)
    except orjson.JSONDecodeError:
        counts.errors_sent += 1
        return _error(None, "FormationViolation", "not JSON")
    if not isinstance(message, list) or not message:
        counts.errors_sent += 1
        return _error(None, "FormationViolation", "not an OCPP-J message array")
    kind = message[0]
    if kind in (CALLRESULT, CALLERROR):
        return None  # this server never calls, so there is nothing to match an answer to
    if kind != CALL or len(message) != 4 or not isinstance(message[1], str):
        counts.errors_sent += 1
        return _error(message[1] if len(message) > 1 else None, "FormationViolation", "bad CALL")
    if message[2] == "Heartbeat":
        counts.heartbeats += 1
    payload = answers.payload(message[2])
    if payload is None:
        counts.errors_sent += 1
        return _error(message[1], "NotImplemented", f"unknown action {message[2]!r}")
    counts.results_sent += 1
    return orjson.dumps([CALLRESULT, message[1], payload])


class _CsmsListener(WSListener):  # type: ignore[misc]
    """One charge point's connection: every text message is answered from ``Answers``."""

    def __init__(self, answers: Answers, counts: Counts, connected: set[WSTransport]) -> None:
        super().__init__()
        self.answers = answers
        self.counts = counts
        self.connected = connected
        self.fragments: list[bytes] | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        counts = self.counts
        counts.connections += 1
        counts.open += 1
        counts.open_peak = max(counts.open_peak, counts.open)
        self.connected.add(transport)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.counts.open -= 1
        self.connected.discard(transport)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind == WSMsgType.TEXT:
            if not frame.fin:
                self.fragments = [frame.get_payload_as_bytes()]
                return
            data = frame.get_payload_as_bytes()
        elif kind == WSMsgType.CONTINUATION and self.fragments is not None:
            self.fragments.append(frame.get_payload_as_bytes())
            if not frame.fin:
                return
            data, self.fragments = b"".join(self.fragments), None
        elif kind == WSMsgType.CLOSE:
            if transport in self.connected:  # not the answer to our own close
                self.connected.discard(transport)
                transport.send_close(frame.get_close_code())
            transport.disconnect()
            return
        else:
            return
        self.counts.frames_received += 1
        if transport not in self.connected:
            self.counts.unanswered += 1
            return
        reply = answer(self.answers, self.counts, data)
        if reply is not None:
            transport.send(WSMsgType.TEXT, reply)


def _offers_ocpp16(request: WSUpgradeRequest) -> bool:
    offered = ",".join(request.headers.getall("Sec-WebSocket-Protocol", []))
    return SUBPROTOCOL in (name.strip() for name in offered.split(","))


def _router(
    answers: Answers, counts: Counts, connected: set[WSTransport]
) -> Callable[[WSUpgradeRequest], Any]:
    def route(request: WSUpgradeRequest) -> WSUpgradeResponseWithListener:
        if not _offers_ocpp16(request):
            # OCPP-J 1.6 §3.1.2: a server that does not speak the offered version refuses.
            refusal = WSUpgradeResponse.create_error_response(
                400, b"the ocpp1.6 subprotocol is required\n"
            )
            return WSUpgradeResponseWithListener(refusal, None)
        accept = WSUpgradeResponse.create_101_response(
            extra_headers={"Sec-WebSocket-Protocol": SUBPROTOCOL}
        )
        return WSUpgradeResponseWithListener(accept, _CsmsListener(answers, counts, connected))

    return route


@dataclass(frozen=True)
class Settings:
    """How every server process runs."""

    interval: int = 300
    backlog: int = BACKLOG
    #: append the counts to this file once a second (None: only at the end, on stderr)
    stats: str | None = None


def _listening_socket(port: int, backlog: int = BACKLOG) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((HOST, port))
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


def _write_stats(path: str, counts: Counts) -> None:
    """One JSON line of this process's counts, appended whole (O_APPEND, one write)."""
    line = orjson.dumps({"pid": os.getpid(), "t": time.time(), **asdict(counts)}) + b"\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


async def _serve(
    sock: socket.socket, settings: Settings, counts: Counts, ready: Callable[[], None]
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    connected: set[WSTransport] = set()
    server = await ws_create_server(
        _router(Answers(settings.interval), counts, connected),
        sock=sock,
        backlog=settings.backlog,
        websocket_handshake_timeout=30,
        read_buffer_init_size=READ_BUFFER,
    )
    ready()
    if settings.stats is None:
        await stop.wait()
    else:
        while not stop.is_set():
            _write_stats(settings.stats, counts)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
    server.close()
    await _close_all(connected, counts)
    if settings.stats is not None:
        _write_stats(settings.stats, counts)


async def _close_all(connected: set[WSTransport], counts: Counts) -> None:
    """Close every connection with 1001 Going Away; wait up to STOP_GRACE for the peers."""
    closing = list(connected)
    connected.clear()  # a CLOSE that comes now answers ours
    for transport in closing:
        with contextlib.suppress(Exception):
            transport.send_close(WSCloseCode.GOING_AWAY, b"stand-in stopping")
    deadline = time.monotonic() + STOP_GRACE
    while counts.open > 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    for transport in closing:
        transport.disconnect()


def _serve_in_process(sock: socket.socket, settings: Settings, ready: Callable[[], None]) -> Counts:
    counts = Counts()
    uvloop.run(_serve(sock, settings, counts, ready))
    return counts


def raise_open_files_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; return the new soft limit."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _report(counts: Counts, processes: int) -> None:
    fields = " ".join(f"{name}={value}" for name, value in asdict(counts).items())
    print(f"standin totals: processes={processes} {fields}", file=sys.stderr, flush=True)


def _child(port: int, settings: Settings, ready_fd: int, result_fd: int) -> None:
    """The body of one forked server process; never returns."""
    code = 1
    try:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, signal.SIG_DFL)
        sock = _listening_socket(port, settings.backlog)
        counts = _serve_in_process(sock, settings, lambda: os.write(ready_fd, b"ready\n"))
        os.write(result_fd, orjson.dumps(asdict(counts)) + b"\n")
        code = 0
    finally:
        os._exit(code)


def read_lines(fd: int, count: int, timeout: float) -> list[bytes]:
    """Up to ``count`` lines from the pipe ``fd``, waiting at most ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    buffer = b""
    while buffer.count(b"\n") < count:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buffer += chunk
    return buffer.splitlines()[:count]


def _serve_forked(port: int, processes: int, settings: Settings) -> int:
    """Fork ``processes`` servers on one port (SO_REUSEPORT); wait for a signal; sum counts."""
    # Holding a bound (not listening) socket reserves the port, chosen by the kernel if 0.
    reserve = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    reserve.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    reserve.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    reserve.bind((HOST, port))
    port = reserve.getsockname()[1]
    ready_r, ready_w = os.pipe()
    result_r, result_w = os.pipe()
    stopping = False

    def on_signal(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    children: list[int] = []
    try:
        for _ in range(processes):
            pid = os.fork()
            if pid == 0:
                _child(port, settings, ready_w, result_w)
            children.append(pid)
        if len(read_lines(ready_r, processes, READY_TIMEOUT)) < processes:
            print("standin: not every process became ready", file=sys.stderr, flush=True)
            return 1
        reserve.close()
        print(f"ready {port}", flush=True)
        while not stopping:
            time.sleep(0.2)
            for pid in children:
                with contextlib.suppress(ChildProcessError):
                    if os.waitpid(pid, os.WNOHANG)[0] == pid:
                        print(f"standin: process {pid} died", file=sys.stderr, flush=True)
                        return 1
    finally:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        totals = Counts()
        for line in read_lines(result_r, len(children), STOP_TIMEOUT):
            totals.add(Counts(**orjson.loads(line)))
        for pid in children:
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
        _report(totals, len(children))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any)")
    parser.add_argument(
        "--processes", type=int, default=1, help="server processes sharing the port"
    )
    parser.add_argument("--cpu", type=int, default=None, help="pin every process to this CPU")
    parser.add_argument(
        "--interval", type=int, default=300, help="BootNotification heartbeat interval (s)"
    )
    parser.add_argument(
        "--backlog", type=int, default=BACKLOG, help="listen backlog (capped by somaxconn)"
    )
    parser.add_argument("--stats", help="append every process's counts to this file each second")
    args = parser.parse_args(argv)
    if args.processes < 1:
        parser.error("--processes must be at least 1")
    raise_open_files_limit()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    settings = Settings(interval=args.interval, backlog=args.backlog, stats=args.stats)
    if args.processes > 1:
        return _serve_forked(args.port, args.processes, settings)
    sock = _listening_socket(args.port, settings.backlog)
    port = sock.getsockname()[1]
    counts = _serve_in_process(sock, settings, lambda: print(f"ready {port}", flush=True))
    _report(counts, 1)
    return 0


def start_standin(
    port: int = 0,
    processes: int = 1,
    cpu: int | None = None,
    interval: int = 300,
    timeout: float = READY_TIMEOUT,
    stats: str | None = None,
) -> tuple[subprocess.Popen[bytes], int]:
    """Launch the stand-in as a subprocess; return it and its port once it is ready.

    The caller stops it with ``process.terminate()`` (its counts then go to stderr).
    ``stats``: a file each process appends its counts to, once a second (:func:`read_stats`).
    """
    command = [sys.executable, os.path.abspath(__file__), "--port", str(port)]
    command += ["--processes", str(processes), "--interval", str(interval)]
    if cpu is not None:
        command += ["--cpu", str(cpu)]
    if stats is not None:
        command += ["--stats", stats]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None
    try:
        lines = read_lines(process.stdout.fileno(), 1, timeout)
        if not lines or not lines[0].startswith(b"ready "):
            raise RuntimeError(f"the stand-in CSMS did not become ready: {lines!r}")
        return process, int(lines[0].split()[1])
    except BaseException:
        stop_standin(process)
        raise


def stop_standin(process: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> str:
    """Stop a stand-in started by :func:`start_standin`; return what it wrote on stderr."""
    if process.poll() is None:
        process.terminate()
    try:
        _out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _out, err = process.communicate(timeout=timeout)
    return err.decode(errors="replace")


def read_stats(path: str, since: float = 0.0) -> Counts:
    """The counts of every process writing to ``path`` (``--stats``), from each one's latest
    line written at ``since`` (epoch seconds) or later, summed."""
    latest: dict[int, dict[str, Any]] = {}
    with contextlib.suppress(FileNotFoundError), open(path, "rb") as lines:
        for line in lines:
            if line.endswith(b"\n"):  # a line being written is read next time
                record = orjson.loads(line)
                if record["t"] >= since:
                    latest[record["pid"]] = record
    totals = Counts()
    for record in latest.values():
        totals.add(Counts(**{name: record[name] for name in asdict(totals)}))
    return totals


def parse_totals(stderr: str) -> Counts | None:
    """The ``standin totals:`` line a stopped stand-in wrote, as Counts."""
    for line in stderr.splitlines():
        if line.startswith("standin totals:"):
            values = dict(item.split("=", 1) for item in line.split(":", 1)[1].split())
            return Counts(
                **{name: int(values[name]) for name in asdict(Counts()) if name in values}
            )
    return None


__all__ = [
    "Answers",
    "Counts",
    "Settings",
    "answer",
    "main",
    "parse_totals",
    "raise_open_files_limit",
    "read_lines",
    "read_stats",
    "start_standin",
    "stop_standin",
]

if __name__ == "__main__":
    sys.exit(main())

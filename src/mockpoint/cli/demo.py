"""``mockpoint demo``: one complete charging session, frame by frame.

Against the embedded mock CSMS by default (nothing else to install), or against any CSMS
with ``--csms URL``. The session: boot, status of every connector, plug in, authorize,
start, 30 minutes of charging at 11 kW with a MeterValues every 5 minutes, stop, unplug.
Virtual time at speed 0: the half hour takes no real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from mockpoint.cli.main import cli
from mockpoint.clock import VirtualClock, format_timestamp, parse_timestamp
from mockpoint.csms.server import MockCsms
from mockpoint.errors import CallFailed, ExitCode, MockpointError
from mockpoint.ids import SeededIds
from mockpoint.ocpp16.summary import summarize
from mockpoint.rpc.session import InvalidAnswer, RemoteViolation
from mockpoint.runtime.charge_point import ChargePoint
from mockpoint.runtime.endpoint import Direction
from mockpoint.station.configuration import Configuration
from mockpoint.station.station import Identity, Message, Station
from mockpoint.transport.websocket import connect

DEMO_START = "2025-06-01T08:00:00Z"


class _FramePrinter:
    """Prints each frame on one line: virtual time, direction, action, payload."""

    def __init__(self, console: Console, clock: VirtualClock, *, verbose: bool) -> None:
        self._console = console
        self._clock = clock
        self._verbose = verbose
        self._actions: dict[str, str] = {}
        self.frames = 0

    def frame(self, direction: Direction, text: str) -> None:
        self.frames += 1
        stamp = format_timestamp(self._clock.now())[11:19]
        arrow = "[cyan]CP → CSMS[/]" if direction == "out" else "[magenta]CSMS → CP[/]"
        try:
            frame = json.loads(text)
            label, payload = self._describe(frame)
        except (ValueError, TypeError, IndexError, KeyError):
            label, payload = "(unparsable)", text
        self._console.print(
            f"[dim]{stamp}[/]  {arrow}  [bold]{label:<24}[/] {escape(payload)}",
            highlight=False,
            no_wrap=True,
            overflow="ellipsis",
        )

    def _describe(self, frame: list[Any]) -> tuple[str, str]:
        kind, unique_id = frame[0], frame[1]
        if kind == 2:
            self._actions[unique_id] = frame[2]
            return frame[2], self._payload(frame[2], frame[3], response=False)
        action = self._actions.pop(unique_id, "?")
        if kind == 3:
            return f"{action} ✓", self._payload(action, frame[2], response=True)
        return f"{action} ✗ {frame[2]}", str(frame[3])

    def _payload(self, action: str, payload: Any, *, response: bool) -> str:
        if self._verbose:
            return _compact(payload)
        return summarize(action, payload, response=response)

    def violation(self, event: RemoteViolation | InvalidAnswer) -> None:
        text = event.description if isinstance(event, RemoteViolation) else event.violation.message
        self._console.print(f"[red]protocol violation by the CSMS:[/] {escape(text)}")


def _compact(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


@contextlib.asynccontextmanager
async def _target(url: str | None, clock: VirtualClock) -> AsyncIterator[str]:
    if url is not None:
        yield url
        return
    async with MockCsms(clock=clock) as csms:
        yield csms.url


async def _session(station: Station, charge_point: ChargePoint, timeout: float) -> None:
    async def exchange(message: Message) -> dict[str, Any]:
        return await charge_point.outcome(message)

    await charge_point.wait_registered(timeout)
    await charge_point.wait_idle()
    station.plug_in(1)
    answer = await exchange(station.authorize("DEMO-TAG-1"))
    if answer["idTagInfo"]["status"] != "Accepted":
        raise CallFailed(f"the CSMS did not accept DEMO-TAG-1: {answer['idTagInfo']['status']}")
    await exchange(station.start_transaction(1, "DEMO-TAG-1"))
    station.set_power(1, 11_000)
    await charge_point.advance(30 * 60)
    await exchange(station.stop_transaction(1))
    station.unplug(1)
    await charge_point.wait_idle()


async def run_demo(
    console: Console,
    url: str | None,
    charge_point_id: str,
    timeout: float,
    *,
    verbose: bool = False,
) -> int:
    clock = VirtualClock(parse_timestamp(DEMO_START), speed=0)
    identity = Identity(charge_point_id, vendor="mockpoint", model="Demo", connectors=2)
    configuration = Configuration(
        {
            "MeterValueSampleInterval": 300,
            "MeterValuesSampledData": "Energy.Active.Import.Register,Power.Active.Import",
        },
        number_of_connectors=identity.connectors,
    )
    station = Station(identity, clock, configuration)
    printer = _FramePrinter(console, clock, verbose=verbose)
    started = time.perf_counter()
    async with _target(url, clock) as target:
        console.print(f"charge point [bold]{charge_point_id}[/] → {escape(target)}\n")
        charge_point = ChargePoint(
            station,
            lambda: connect(target, charge_point_id, open_timeout=timeout),
            clock=clock,
            ids=SeededIds(0),
            call_timeout=timeout,
            connect_timeout=timeout,
            observer=printer,
        )
        await charge_point.start()
        try:
            await _session(station, charge_point, timeout)
        finally:
            await charge_point.stop()
    elapsed = time.perf_counter() - started
    energy = station.meters[1].meter_wh(clock.now())
    console.print(
        f"\n[green]session complete[/]: {printer.frames} frames, {energy / 1000:.2f} kWh in 30 "
        f"virtual minutes, {elapsed:.2f} s of real time"
    )
    if charge_point.problems:
        for problem in charge_point.problems:
            console.print(f"[red]problem:[/] {escape(problem)}")
        return ExitCode.FAILED
    return ExitCode.OK


@cli.command("demo")
@click.option("--csms", "url", metavar="URL", help="A CSMS to use instead of the embedded one.")
@click.option("--id", "charge_point_id", default="CP-DEMO", show_default=True)
@click.option("--timeout", default=10.0, show_default=True, help="Seconds to wait for answers.")
@click.option("-v", "--verbose", is_flag=True, help="Show whole payloads, not summaries.")
def demo(url: str | None, charge_point_id: str, timeout: float, verbose: bool) -> int:
    """Run one charging session and show every frame."""
    console = Console(highlight=False)
    try:
        return asyncio.run(run_demo(console, url, charge_point_id, timeout, verbose=verbose))
    except MockpointError:
        raise
    except TimeoutError:
        raise CallFailed(f"the session did not complete within {timeout:g} s") from None

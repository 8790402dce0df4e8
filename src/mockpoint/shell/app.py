"""``mockpoint shell``: one charge point, driven by hand or by a script, line by line.

The charge point is built as every other (:func:`mockpoint.assembly.assemble`) and every
station verb runs as a scenario step through :func:`run_steps`, so the shell does what a
scenario file would. Frames in both directions,
CSMS-initiated requests included, are printed as they happen: at a terminal through
prompt_toolkit's ``patch_stdout``, so they appear above the prompt without breaking what is
being typed. A bad line is one line of error, never the end of the shell.

Who types decides the exit code (README "mockpoint shell"): a person at a terminal leaves
with 0 whatever went wrong on the way (they saw it); a script (standard input not a
terminal) gets 1 when a line failed, and each error names the script's line.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mockpoint.assembly import Target, assemble, csms_choice, csms_url, new_clock
from mockpoint.errors import CommandError, ConnectError, ConnectionLost, MockpointError
from mockpoint.ids import SeededIds
from mockpoint.runtime.state_file import StateFile
from mockpoint.scenario import model
from mockpoint.scenario.loader import load_scenario
from mockpoint.scenario.outcome import Status, StepOutcome
from mockpoint.scenario.record import read_records, record_scenario, to_yaml
from mockpoint.scenario.reports.console import ConsoleReporter
from mockpoint.scenario.reports.transcript import TranscriptWriter, transcript_line
from mockpoint.scenario.runner import FrameRecorder, RunOptions, boots_by_itself
from mockpoint.scenario.stepping import run_steps, step_labels
from mockpoint.scenario.steps import StepContext, describe, station_state
from mockpoint.shell.commands import (
    HELP,
    Command,
    StepCommand,
    did_you_mean,
    parse,
)

PROMPT = "mockpoint> "


@dataclass
class ShellOptions:
    csms_url: str | None = None
    charge_point_id: str | None = None
    scenario: Path | None = None
    speed: float | None = None
    transcript: Path | None = None
    connect_timeout: float = 10.0
    #: ``--state FILE``: start from the charge point state saved there, save after changes
    state: Path | None = None
    #: the lines come from a script, not a person: errors name the line, and the exit code
    #: is 1 when one failed
    script: bool = False


#: the clock of a shell started without ``--scenario``: real time
SHELL_CLOCK = model.ClockSpec(speed=1.0)
#: how long a verb waits for the CSMS, without ``--scenario``
SHELL_TIMEOUT = 30.0


class Shell:
    def __init__(self, options: ShellOptions, console: Console) -> None:
        self.options = options
        self.console = console
        self.failures = 0
        #: the number of the line being carried out (1-based), while there is one
        self.line: int | None = None
        self._quit = False
        self.state: StateFile | None = None
        #: the seed of this session's message ids, once decided (``save`` records it)
        self.seed: int | None = None

    async def run(self, lines: AsyncIterator[str]) -> int:
        """Connect, boot (and take the scenario's steps), then carry out ``lines`` until
        they end or say quit. Returns the exit code: 0, or, for a script (see
        :attr:`ShellOptions.script`), 1 when one of its lines or the scenario's steps failed."""
        options = self.options
        path = options.scenario
        scenario = load_scenario(path) if path else None
        spec = scenario.charge_point if scenario else model.ChargePointSpec(id="CP-SHELL")
        cp_id = options.charge_point_id or spec.id
        security = scenario.target if scenario else None
        named, config = csms_choice(
            options.csms_url, security, None, scenario.mock_csms if scenario else None
        )
        # Pinned against the embedded CSMS, fresh against any other, as `mockpoint run`
        # (docs/reference/run.md): a shell against a real CSMS never repeats the message ids
        # of the last one.
        seed, clock = new_clock(
            scenario.clock if scenario else SHELL_CLOCK,
            scenario.seed if scenario else None,
            embedded=named is None,
            speed=options.speed,
        )
        self.seed = seed
        with contextlib.ExitStack() as stack:
            writer = None
            if options.transcript is not None:
                writer = stack.enter_context(TranscriptWriter(options.transcript))
            reporter = ConsoleReporter(self.console, 1)
            run_options = RunOptions(reporter=reporter, transcript=writer)
            self.recorder = FrameRecorder(cp_id, clock, run_options)
            async with csms_url(named, config, clock) as url:
                if named is None:
                    self.console.print("[dim]no CSMS named: using the embedded mock CSMS[/dim]")
                target = Target(
                    url,
                    security,
                    folder=path.parent if path else Path("."),
                    source=str(path or "shell"),
                    faults=scenario.faults if scenario else None,
                )
                cp = assemble(
                    spec,
                    cp_id,
                    clock,
                    target,
                    ids=SeededIds(seed),
                    call_timeout=scenario.timeout if scenario else SHELL_TIMEOUT,
                    connect_timeout=options.connect_timeout,
                    observer=self.recorder,
                )
                station = cp.station
                state = StateFile(options.state) if options.state is not None else None
                self.state = state
                if state is not None and state.restore(station):
                    self.console.print(f"[dim]restored from {escape(str(options.state))}[/dim]")
                cp.on_connection_lost = self._lost
                self.console.print(f"[dim]{cp_id} connecting to {url} (seed {seed})[/dim]")
                boots_itself = scenario is None or boots_by_itself(scenario)
                if state is not None:
                    await state.start(cp, auto_boot=boots_itself)
                else:
                    await cp.start(auto_boot=boots_itself)
                self.cp = cp
                self.ctx = StepContext(cp, station, cp.call_timeout, reporter=reporter)
                try:
                    # The boot first (unless the scenario sends its own), then its steps.
                    boot = (path or Path("shell")) if boots_itself else None
                    steps = scenario.steps if scenario is not None else []
                    await self._steps(steps, step_labels(steps), boot=boot)
                    number = 0
                    async for line in lines:
                        number += 1
                        self.line = number
                        await self.execute(line)
                        self.line = None
                        if self._quit:
                            break
                finally:
                    await cp.stop()
                    if state is not None:
                        state.detach()
        return 1 if self.failures and self.options.script else 0

    async def execute(self, line: str) -> None:
        """Carry out one line; whatever goes wrong is one line of error."""
        try:
            command = parse(line)
            if command is None:
                return
            if isinstance(command, StepCommand):
                await self._steps([command.step], [("shell", describe(command.step))])
                if not self.cp.connected:
                    self.console.print("[yellow]not connected:[/yellow] what it sent is queued")
            else:
                await self._command(command)
        except CommandError as exc:
            self._error(str(exc))
        except (ConnectionLost, ConnectError) as exc:
            self._error(f"the CSMS is gone: {exc}")
        except MockpointError as exc:
            self._error(str(exc))

    async def _steps(
        self,
        steps: Sequence[model.StepBase],
        labels: list[tuple[str, str]],
        *,
        boot: Path | None = None,
    ) -> None:
        def finished(result: StepOutcome) -> None:
            if self.state is not None:
                self.state.mark_changed()  # e.g. a `charge` step's power, which no event tells
            if result.status is Status.FAILED and not result.tolerated:
                first, *rest = (result.message or "failed").splitlines()
                self._error(f"{result.label}: {first}")
                for line in rest:
                    self.console.print(f"  {line}", highlight=False, markup=False)

        await run_steps(
            self.ctx,
            cast(list[model.Step], list(steps)),
            self.recorder,
            finished,
            boot=boot,
            labels=labels,
        )

    async def _command(self, command: Command) -> None:
        name, args = command.name, command.args
        cp = self.cp
        if name == "quit":
            self._quit = True
        elif name == "help":
            self._help(args)
        elif name == "status":
            self._status()
        elif name == "config":
            self._config(args)
        elif name == "disconnect":
            if cp.offline:
                raise CommandError("already offline (connect to come back)")
            await cp.go_offline()
            self.console.print("[yellow]offline[/yellow]: messages queue until connect")
        elif name == "connect":
            if cp.connected:
                raise CommandError("already connected")
            await cp.reconnect()
            self.console.print("[green]connected[/green]")
        elif name == "raw":
            await cp.send_raw(args[0])
        elif name == "save":
            self._save(args)

    def _help(self, args: tuple[str, ...]) -> None:
        table = Table(show_header=False, box=None, pad_edge=False)
        for name, (arguments, text) in HELP.items():
            if not args or args[0].lower() == name:
                table.add_row(f"[bold]{name}[/bold] {escape(arguments)}", escape(text))
        if args and not table.row_count:
            raise CommandError(f"no command {args[0]!r}{did_you_mean(args[0], HELP)}")
        self.console.print(table)

    def _status(self) -> None:
        cp, station = self.cp, self.cp.station
        state = station_state(cp)
        table = Table(title=f"{station.identity.charge_point_id}", title_justify="left")
        for column in ("connector", "status", "error", "plugged", "transaction", "id tag", "Wh"):
            table.add_column(column)
        for number, item in sorted(state["connectors"].items()):
            energy = item.get("energy_wh")
            table.add_row(
                str(number),
                item["status"],
                item["error_code"],
                "" if number == 0 else ("yes" if item["plugged"] else "no"),
                "" if item["transaction_id"] is None else str(item["transaction_id"]),
                item["id_tag"] or "",
                "" if energy is None else f"{energy:g}",
            )
        self.console.print(table)
        connection = "connected" if cp.connected else ("offline" if cp.offline else "reconnecting")
        in_flight = cp.in_flight_action
        self.console.print(
            f"connection: {connection}   registration: {state['registration'] or 'none'}   "
            f"in flight: {in_flight or 'nothing'}   "
            f"queued: {'yes' if station.has_sendable() else 'nothing'}"
        )

    def _config(self, args: tuple[str, ...]) -> None:
        values = self.cp.station.configuration.snapshot()
        if args:
            wanted = {key.lower(): key for key in values}
            key = wanted.get(args[0].lower())
            if key is None:
                raise CommandError(f"config: no key {args[0]!r}{did_you_mean(args[0], values)}")
            self.console.print(f"{key} = {values[key]}")
            return
        table = Table(show_header=False, box=None, pad_edge=False)
        for key, value in values.items():
            table.add_row(key, value)
        self.console.print(table)

    def _save(self, args: tuple[str, ...]) -> None:
        if not args:
            raise CommandError("save needs a file name")
        text = "\n".join(transcript_line(record) for record in self.recorder.records)
        records, origin = read_records(text, "this session", "transcript")
        recording = record_scenario(
            records, origin=origin, name="recorded in mockpoint shell", seed=self.seed
        )
        try:
            Path(args[0]).write_text(to_yaml(recording.scenario), encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"save: {exc}") from None
        for warning in recording.warnings:
            self.console.print(f"[yellow]warning:[/yellow] {escape(warning)}", highlight=False)
        self.console.print(f"saved this session as a scenario: {escape(args[0])}")

    def _lost(self, reason: str) -> None:
        self.console.print(
            f"[yellow]connection lost:[/yellow] {escape(reason)}; reconnecting", highlight=False
        )

    def _error(self, message: str) -> None:
        """One line of error (never wrapped: a tool reading the output takes it whole); in
        a script it starts with the script's line."""
        self.failures += 1
        if self.options.script and self.line is not None:
            message = f"line {self.line}: {message}"
        self.console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)


async def stdin_lines() -> AsyncIterator[str]:
    """Lines of standard input when it is not a terminal (a script, a pipe)."""
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        yield line.rstrip("\n")


async def prompt_lines(history: Path | None) -> AsyncIterator[str]:
    """Lines typed at the prompt, with completion and history; Ctrl-C clears the line,
    Ctrl-D leaves."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    from mockpoint.shell.completion import ShellCompleter

    session: PromptSession[str] = PromptSession(
        history=FileHistory(str(history)) if history else InMemoryHistory(),
        completer=ShellCompleter(),
        complete_while_typing=False,
    )
    while True:
        try:
            yield await session.prompt_async(PROMPT)
        except KeyboardInterrupt:
            continue
        except EOFError:
            return

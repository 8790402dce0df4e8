"""``mockpoint shell``: one charge point at a prompt (docs/reference/shell.md).

At a terminal: a prompt with completion and history, and exit code 0 however the session
went. With standard input not a terminal, commands are read line by line, so other tools
(and tests) can drive it; each error then names the line, and the exit code is 1 when a
command failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

import click
from rich.console import Console

from mockpoint.cli.main import checked_csms_url, cli
from mockpoint.shell.app import Shell, ShellOptions, prompt_lines, stdin_lines


@cli.command("shell")
@click.option(
    "--csms",
    "csms_url",
    metavar="URL",
    callback=checked_csms_url,
    help="The CSMS (default: the embedded mock); {id} in it places the charge point id.",
)
@click.option("--id", "charge_point_id", metavar="CP", help="The charge point id.")
@click.option(
    "--scenario",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Take the charge point (and its csms) from this file, and its steps first.",
)
@click.option("--speed", type=click.FloatRange(min=0), help="Clock speed (default: real time).")
@click.option(
    "--transcript",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write every frame as JSON Lines (for mockpoint record).",
)
@click.option(
    "--state",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Start from the charge point state saved in this file, and save it after changes.",
)
@click.option("--connect-timeout", default=10.0, show_default=True, metavar="SECONDS")
def shell(
    csms_url: str | None,
    charge_point_id: str | None,
    scenario: Path | None,
    speed: float | None,
    transcript: Path | None,
    state: Path | None,
    connect_timeout: float,
) -> int:
    """One charge point at a prompt: send any request, plug, start, charge, stop..."""
    options = ShellOptions(
        csms_url=csms_url,
        charge_point_id=charge_point_id,
        scenario=scenario,
        speed=speed,
        transcript=transcript,
        connect_timeout=connect_timeout,
        state=state,
        script=not sys.stdin.isatty(),
    )
    interactive = not options.script and sys.stdout.isatty()
    console = Console(highlight=False)

    async def main() -> int:
        if not interactive:
            return await Shell(options, console).run(stdin_lines())
        from prompt_toolkit.patch_stdout import patch_stdout

        console.print("mockpoint shell: [bold]help[/bold] lists the commands, Ctrl-D leaves")
        with patch_stdout(raw=True):
            history = Path.home() / ".mockpoint_history"
            with contextlib.suppress(OSError):
                history.touch()
            return await Shell(options, console).run(
                prompt_lines(history if history.exists() else None)
            )

    return asyncio.run(main())

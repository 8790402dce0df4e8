"""``mockpoint record TRANSCRIPT``: a session's frames → a scenario that replays it.

TRANSCRIPT is the ``--transcript`` of ``mockpoint run`` or ``mockpoint shell``, or the
``--log`` of ``mockpoint csms`` (told apart by the frames; ``--from`` forces it). A session
at a clock that ran (the shell at real time) is recorded as it was typed, on whole seconds.
The scenario goes to standard output, or to ``-o FILE``; what could not be reproduced
exactly is listed on standard error. See :mod:`mockpoint.scenario.record.replay` for how
frames become steps.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import click

from mockpoint.cli.main import cli
from mockpoint.errors import ExitCode, UsageError
from mockpoint.scenario.record import Origin, read_records, record_scenario, to_yaml


@cli.command("record")
@click.argument("transcript", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the scenario to this file instead of standard output.",
)
@click.option("--cp", "cp_id", metavar="ID", help="The charge point to record (when several).")
@click.option("--name", help="The scenario's name (default: Recorded session of ID).")
@click.option(
    "--from",
    "origin",
    type=click.Choice(["auto", "transcript", "csms-log"]),
    default="auto",
    show_default=True,
    help="What TRANSCRIPT is: a run's or the shell's --transcript, or the mock CSMS's --log.",
)
def record_command(
    transcript: Path, output: Path | None, cp_id: str | None, name: str | None, origin: str
) -> int:
    """Write a scenario that replays the charge point's side of a recorded session."""
    try:
        text = transcript.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(f"{transcript}: cannot read it: {reason}") from None
    forced = None if origin == "auto" else cast(Origin, origin)
    records, found = read_records(text, str(transcript), forced)
    recording = record_scenario(records, origin=found, cp=cp_id, name=name, source=transcript.name)
    for warning in recording.warnings:
        click.echo(f"warning: {warning}", err=True)
    scenario = to_yaml(recording.scenario)
    if output is None:
        click.echo(scenario, nl=False)
        return ExitCode.OK
    try:
        output.write_text(scenario, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    steps = len(recording.scenario["steps"])
    click.echo(f"recorded {steps} step(s) to {output}", err=True)
    return ExitCode.OK

"""``mockpoint validate PATH...`` and ``mockpoint schema`` (docs/reference/validate.md).

``validate`` reads scenario files as ``run`` does and fleet files as ``load`` does
(docs/load-fleets.md), without connecting to anything, and lists
every problem of every file as ``file:line:column: message`` (the form editors and CI logs
link to). ``schema`` prints the JSON Schema of the scenario format, for editors.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from mockpoint.cli.main import cli
from mockpoint.errors import ExitCode, ScenarioError, UsageError
from mockpoint.load.fleet import load_files
from mockpoint.scenario.model import json_schema


@cli.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
def validate_command(paths: tuple[Path, ...]) -> int:
    """Check scenario and fleet files (or every *.yaml under folders) without connecting."""
    try:
        loaded, fleets = load_files(paths)
    except ScenarioError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        files = len({problem.file for problem in exc.problems})
        count = len(exc.problems)
        click.echo(f"invalid: {count} problem(s) in {files} file(s)", err=True)
        return ExitCode.USAGE
    files = len(loaded) + len(fleets)
    fleet_count = f", {len(fleets)} fleet(s)" if fleets else ""
    click.echo(f"ok: {len(loaded)} scenario(s){fleet_count} in {files} file(s)")
    return ExitCode.OK


@cli.command("schema")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to this file instead of standard output.",
)
def schema_command(output: Path | None) -> int:
    """Print the JSON Schema of the scenario format (for editors)."""
    text = json.dumps(json_schema(), indent=2) + "\n"
    if output is None:
        click.echo(text, nl=False)
        return ExitCode.OK
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {output}: {exc.strerror or exc}") from None
    return ExitCode.OK

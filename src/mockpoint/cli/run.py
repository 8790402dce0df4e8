"""``mockpoint run PATH...``: run scenario files as test cases (PRODUCT.md, "Commands")."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import click
from rich.console import Console

from mockpoint.cli.main import cli
from mockpoint.csms.config import CsmsConfig, load_config
from mockpoint.scenario.loader import load_paths
from mockpoint.scenario.outcome import RunOutcome
from mockpoint.scenario.reports.console import ConsoleReporter
from mockpoint.scenario.reports.json_report import write_json
from mockpoint.scenario.reports.junit import write_junit
from mockpoint.scenario.reports.markdown import append_github_summary, write_markdown
from mockpoint.scenario.reports.transcript import TranscriptWriter
from mockpoint.scenario.runner import RunOptions, run_scenarios

_FILE = click.Path(dir_okay=False, writable=True, path_type=Path)


@cli.command("run")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--csms", "csms_url", metavar="URL", help="The CSMS to test; overrides the files.")
@click.option(
    "--csms-config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Configuration of the embedded mock CSMS (used when no CSMS is named).",
)
@click.option(
    "--connect-timeout",
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to keep retrying the connection before the CSMS counts as unreachable.",
)
@click.option("--junit", type=_FILE, help="Write a JUnit XML report.")
@click.option("--json", "json_path", type=_FILE, help="Write a JSON summary.")
@click.option("--transcript", type=_FILE, help="Write every frame as JSON Lines.")
@click.option("--markdown", type=_FILE, help="Write a Markdown summary (Mermaid diagrams).")
@click.option("-q", "--quiet", is_flag=True, help="Show only the result.")
@click.option("-v", "--verbose", is_flag=True, help="Show every frame.")
def run(
    paths: tuple[Path, ...],
    csms_url: str | None,
    csms_config: Path | None,
    connect_timeout: float,
    junit: Path | None,
    json_path: Path | None,
    transcript: Path | None,
    markdown: Path | None,
    quiet: bool,
    verbose: bool,
) -> int:
    """Run scenario files, or every *.yaml under the folders given, one after another."""
    if quiet and verbose:
        raise click.UsageError("-q and -v exclude each other")
    items = load_paths(paths)  # invalid files: exit 2, nothing runs
    config: CsmsConfig | None = load_config(csms_config) if csms_config else None
    console = Console(highlight=False)
    reporter = ConsoleReporter(console, -1 if quiet else (1 if verbose else 0))
    with contextlib.ExitStack() as stack:
        writer = stack.enter_context(TranscriptWriter(transcript)) if transcript else None
        options = RunOptions(
            csms_url=csms_url,
            csms_config=config,
            connect_timeout=connect_timeout,
            reporter=reporter,
            transcript=writer,
        )
        outcome = asyncio.run(run_scenarios(items, options))
    _write_reports(outcome, junit, json_path, markdown)
    return int(outcome.exit_code)


def _write_reports(
    outcome: RunOutcome, junit: Path | None, json_path: Path | None, markdown: Path | None
) -> None:
    if junit is not None:
        write_junit(outcome, junit)
    if json_path is not None:
        write_json(outcome, json_path)
    if markdown is not None:
        write_markdown(outcome, markdown)
    append_github_summary(outcome)

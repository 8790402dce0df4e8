"""``mockpoint run PATH...``: run scenario files as test cases (docs/reference/run.md)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from pathlib import Path

import click

from mockpoint.cli.main import checked_csms_url, cli
from mockpoint.csms.config import CsmsConfig, load_csms_config
from mockpoint.packs import EMBEDDED_DEFAULTS, INPUT_REASONS, pack_files, run_variables
from mockpoint.scenario.driver import FEATURES, feature
from mockpoint.scenario.loader import load_paths
from mockpoint.scenario.model import Scenario
from mockpoint.scenario.outcome import RunOutcome
from mockpoint.scenario.reports.console import ConsoleReporter, make_console
from mockpoint.scenario.reports.coverage import (
    compute_coverage,
    render_coverage_table,
    write_coverage,
)
from mockpoint.scenario.reports.json_report import write_json
from mockpoint.scenario.reports.junit import write_junit
from mockpoint.scenario.reports.markdown import append_github_summary, write_markdown
from mockpoint.scenario.reports.transcript import TranscriptWriter
from mockpoint.scenario.runner import RunOptions, check_state, run_scenarios

_FILE = click.Path(dir_okay=False, writable=True, path_type=Path)


@cli.command("run")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--pack",
    metavar="NAME",
    help="Run a built-in pack (ocpp16-csms: the OCTT 1.6 CSMS conformance cases).",
)
@click.option("--only", metavar="CASES", help="With --pack: the cases to run, e.g. TC_010,TC_012.")
@click.option(
    "--tag",
    "tags",
    multiple=True,
    metavar="NAME=ID",
    help="An id tag the CSMS knows: accepted, accepted2, blocked, expired, invalid.",
)
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE", help="Set ${NAME}.")
@click.option("--cp-id", metavar="ID", help="The charge point id, for every scenario.")
@click.option(
    "--wait-for-csms",
    type=float,
    metavar="SECONDS",
    help="How long an `await` with a prompt waits for a real CSMS to act (default: its "
    "within); also says something acts on the prompts, so prompted scenarios run when "
    "no one is at a terminal.",
)
@click.option(
    "--csms-driver",
    metavar="CMD|URL",
    help="Makes a real CSMS send what an `await` waits for: a command run with a JSON "
    "description on stdin, or an http(s):// URL it is POSTed to (docs/csms-driver.md). "
    "Overrides the files' csms_driver.",
)
@click.option(
    "--csms-lacks",
    metavar="FEATURES",
    help="What the CSMS lacks, comma-separated: feature profiles (reservation, "
    "local-auth-list, remote-trigger, smart-charging, firmware-management) or actions it "
    "cannot send (UnlockConnector). Scenarios that need them are not applicable.",
)
@click.option(
    "--coverage",
    type=_FILE,
    help="Write which actions and values were exercised, and print the coverage table.",
)
@click.option(
    "--csms",
    "csms_url",
    metavar="URL",
    callback=checked_csms_url,
    help="The CSMS to test (ws:// or wss://; the charge point id is appended, or put where "
    "the URL says {id}); overrides the files.",
)
@click.option(
    "--csms-config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Configuration of the embedded mock CSMS (used when no CSMS is named), or a "
    "scenario file whose mock_csms block to use.",
)
@click.option(
    "--connect-timeout",
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to keep retrying the connection before the CSMS counts as unreachable.",
)
@click.option(
    "--seed",
    type=int,
    metavar="N",
    help="The seed of every scenario's message ids (and all else random), as a report gives "
    "it: replays a run. Default: the file's seed, else 0 with the embedded mock CSMS and a "
    "fresh one per run against any other CSMS.",
)
@click.option(
    "--state",
    "state_path",
    type=_FILE,
    metavar="FILE",
    help="Start from the charge point state in FILE (if it exists) and save it there after "
    "every change; one scenario only.",
)
@click.option("--junit", type=_FILE, help="Write a JUnit XML report.")
@click.option("--json", "json_path", type=_FILE, help="Write a JSON summary.")
@click.option("--transcript", type=_FILE, help="Write every frame as JSON Lines.")
@click.option("--markdown", type=_FILE, help="Write a Markdown summary (Mermaid diagrams).")
@click.option("-q", "--quiet", is_flag=True, help="Show only the result.")
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="Show every frame (-vv: whole frames, and the coverage table).",
)
def run(
    paths: tuple[Path, ...],
    pack: str | None,
    only: str | None,
    tags: tuple[str, ...],
    variables: tuple[str, ...],
    cp_id: str | None,
    wait_for_csms: float | None,
    csms_driver: str | None,
    csms_lacks: str | None,
    coverage: Path | None,
    csms_url: str | None,
    csms_config: Path | None,
    connect_timeout: float,
    seed: int | None,
    state_path: Path | None,
    junit: Path | None,
    json_path: Path | None,
    transcript: Path | None,
    markdown: Path | None,
    quiet: bool,
    verbose: int,
) -> int:
    """Run scenario files, or every *.yaml under the folders given, one after another."""
    if quiet and verbose:
        raise click.UsageError("-q and -v exclude each other")
    if not paths and not pack:
        raise click.UsageError("name scenario files or folders, or a --pack")
    if only and not pack:
        raise click.UsageError("--only selects cases of a --pack")
    files: list[Path] = list(paths)
    if pack:
        files += pack_files(pack, only.split(",") if only else None)
    items = load_paths(files)  # invalid files: exit 2, nothing runs
    if state_path is not None and len(items) != 1:
        raise click.UsageError(
            f"--state keeps one charge point's state: name one scenario, not {len(items)}"
        )
    values = run_variables(
        _assignments(variables, "--var"),
        _assignments(tags, "--tag"),
        csms_url,
        source="--tag",
    )
    # A configuration file, or a scenario file whose mock_csms block to use.
    config: CsmsConfig | None = load_csms_config(csms_config).config if csms_config else None
    lacks = _features(csms_lacks)
    _warn_ignored_mock_csms(items, csms_url)
    console = make_console()
    reporter = ConsoleReporter(console, -1 if quiet else min(verbose, 2))
    with contextlib.ExitStack() as stack:
        writer = stack.enter_context(TranscriptWriter(transcript)) if transcript else None
        options = RunOptions(
            csms_url=csms_url,
            csms_config=config,
            connect_timeout=connect_timeout,
            reporter=reporter,
            transcript=writer,
            variables=values,
            inputs=INPUT_REASONS,
            embedded_defaults=EMBEDDED_DEFAULTS,
            charge_point_id=cp_id,
            wait_for_csms=wait_for_csms,
            state_path=state_path,
            seed=seed,
            csms_driver=csms_driver,
            csms_lacks=lacks,
            # A person at the terminal can act when an await prompts.
            interactive=sys.stdin.isatty() and console.is_terminal,
        )
        if state_path is not None:
            check_state(items[0][1], options)  # a broken state file: exit 2, nothing runs
        outcome = asyncio.run(run_scenarios(items, options))
    _write_reports(outcome, junit, json_path, markdown)
    if coverage is not None or verbose >= 2:
        measured = compute_coverage(outcome)
        if coverage is not None:
            write_coverage(measured, coverage)
        render_coverage_table(measured, console)
    reporter.run_finished(outcome)  # the verdict comes last, where a reader looks first
    return int(outcome.exit_code)


def _features(text: str | None) -> tuple[str, ...]:
    """``--csms-lacks reservation,UnlockConnector`` as canonical names."""
    if not text:
        return ()
    names = []
    for item in text.split(","):
        if not item.strip():
            continue
        try:
            names.append(feature(item))
        except ValueError:
            known = ", ".join(name for name in FEATURES if name != "local-auth-list-management")
            raise click.UsageError(
                f"--csms-lacks {item.strip()!r}: name a feature profile ({known}) or an "
                "action the CSMS sends (UnlockConnector, ReserveNow, ...)"
            ) from None
    return tuple(names)


def _warn_ignored_mock_csms(items: list[tuple[Path, Scenario]], csms_url: str | None) -> None:
    """A scenario's ``mock_csms`` configures only the embedded mock CSMS: say so, once, when
    a real CSMS is named instead."""
    ignored = [
        path
        for path, scenario in items
        if scenario.mock_csms is not None and (csms_url or scenario.target is not None)
    ]
    if not ignored:
        return
    which = str(ignored[0]) if len(ignored) == 1 else f"{len(ignored)} scenarios"
    click.echo(
        f"warning: the mock_csms block of {which} is ignored: it configures the embedded mock "
        "CSMS, and this run names a CSMS"
        + (" (--csms)" if csms_url else "")
        + "; `mockpoint csms --config FILE` serves one file's block",
        err=True,
    )


def _assignments(items: tuple[str, ...], option: str) -> dict[str, str]:
    values = {}
    for item in items:
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise click.UsageError(f"{option} {item!r}: write NAME=VALUE")
        values[name.strip()] = value
    return values


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

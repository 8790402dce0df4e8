"""Runs scenarios: one charge point per scenario, its steps in order, outcomes out.

With no CSMS named (neither ``--csms`` nor the file's ``csms``) each scenario gets a fresh
embedded mock CSMS on a free loopback port, sharing the scenario's virtual clock, so runs
against it are deterministic end to end (transaction ids count from 1 in every scenario).
Against any other CSMS a run looks like a real charge point instead: unless pinned, its
clock starts at the wall-clock time and its seed is drawn fresh
(:func:`mockpoint.assembly.seed_and_start`). The charge point is built by
:mod:`mockpoint.assembly`, its steps taken by :mod:`mockpoint.scenario.stepping`: this
module runs scenarios, and nothing else.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mockpoint.assembly import (
    Target,
    assemble,
    build_station,
    csms_choice,
    csms_url,
    new_clock,
)
from mockpoint.clock import VirtualClock, format_timestamp
from mockpoint.csms.config import CsmsConfig, config_from_mapping
from mockpoint.errors import ConnectError, UsageError
from mockpoint.ids import SeededIds
from mockpoint.ocpp16.secrets import redact_frame
from mockpoint.rpc.frames import WireFrame
from mockpoint.rpc.session import InvalidAnswer, RemoteViolation
from mockpoint.runtime.charge_point import tally
from mockpoint.runtime.state_file import StateFile
from mockpoint.scenario import model
from mockpoint.scenario.driver import CsmsDriver, lacking, mock_csms_examples, prompted
from mockpoint.scenario.outcome import (
    FrameRecord,
    RunOutcome,
    ScenarioOutcome,
    Status,
    StepOutcome,
)
from mockpoint.scenario.reports.console import NullReporter, Reporter
from mockpoint.scenario.reports.transcript import TranscriptWriter
from mockpoint.scenario.stepping import run_steps
from mockpoint.scenario.steps import StepContext
from mockpoint.variables import UnknownVariable, names_in, resolve


@dataclass
class RunOptions:
    #: overrides every scenario's target URL (its security settings stay)
    csms_url: str | None = None
    #: configuration of the embedded mock CSMS
    csms_config: CsmsConfig | None = None
    connect_timeout: float = 10.0
    reporter: Reporter = field(default_factory=NullReporter)
    transcript: TranscriptWriter | None = None
    #: ``${NAME}`` values every scenario starts with (``--var``, ``--tag``)
    variables: dict[str, Any] = field(default_factory=dict)
    #: variables a CSMS must provide; a scenario using one that is missing is skipped,
    #: with ``description`` as the reason. With the embedded CSMS, ``embedded_defaults``
    #: fill them in.
    inputs: dict[str, str] = field(default_factory=dict)
    embedded_defaults: dict[str, str] = field(default_factory=dict)
    #: overrides each scenario's charge point id
    charge_point_id: str | None = None
    #: overrides ``within`` of every ``await`` step that has a ``prompt`` (a person or an
    #: automation acts on the CSMS's side)
    wait_for_csms: float | None = None
    #: ``--state FILE``: the charge point starts from this file's state, if it exists, and
    #: saves its state there after every change (one scenario only; runtime/state_file.py)
    state_path: Path | None = None
    #: ``--seed N``: the seed of every scenario, over the files' ``seed`` (replays a run)
    seed: int | None = None
    #: ``--csms-driver``: a command, or an http(s):// URL, that makes the CSMS act when an
    #: ``await`` waits (over the files' ``csms_driver``; scenario/driver.py)
    csms_driver: str | None = None
    #: ``--csms-lacks``: what the CSMS lacks (feature profiles, CSMS-initiated actions);
    #: a scenario that needs one is not applicable
    csms_lacks: tuple[str, ...] = ()
    #: someone at a terminal may act on the CSMS when an ``await`` prompts (``run`` at a
    #: terminal); without that, or a driver, or ``wait_for_csms``, a scenario whose awaits
    #: need someone is skipped against a real CSMS instead of waiting for no one
    interactive: bool = False


class FrameRecorder:
    """Turns every frame of one charge point into a :class:`FrameRecord`."""

    def __init__(
        self, cp_id: str, clock: VirtualClock, options: RunOptions, first_seq: int = 1
    ) -> None:
        self.cp_id = cp_id
        self.clock = clock
        self.options = options
        self.records: list[FrameRecord] = []
        self._seq = first_seq

    def wire(self, wire: WireFrame) -> None:
        """A frame as the connection decoded it (the charge point's WireObserver)."""
        frame = redact_frame(wire.data())
        wall = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        record = FrameRecord(
            self._seq, self.cp_id, wire.direction, frame, format_timestamp(self.clock.now()), wall
        )
        self._seq += 1
        self.records.append(record)
        self.options.reporter.frame(record)
        if self.options.transcript is not None:
            self.options.transcript.write(record)

    def violation(self, event: RemoteViolation | InvalidAnswer) -> None:
        pass  # ChargePoint.problems has it; the step that sees it fails

    @property
    def next_seq(self) -> int:
        return self._seq


async def run_scenarios(
    items: list[tuple[Path, model.Scenario]], options: RunOptions
) -> RunOutcome:
    """Run every scenario, one after another; never raises for a scenario's failure."""
    run = RunOutcome()
    started = time.perf_counter()
    seq = 1
    for path, scenario in items:
        outcome, seq = await run_scenario(path, scenario, options, first_seq=seq)
        run.scenarios.append(outcome)
    run.duration = time.perf_counter() - started
    return run


async def run_scenario(
    path: Path, scenario: model.Scenario, options: RunOptions, *, first_seq: int = 1
) -> tuple[ScenarioOutcome, int]:
    if options.charge_point_id is not None:
        charge_point = scenario.charge_point.model_copy(update={"id": options.charge_point_id})
        scenario = scenario.model_copy(update={"charge_point": charge_point})
    spec = scenario.charge_point
    outcome = ScenarioOutcome(
        scenario.name, str(path), spec.id, Status.PASSED, description=scenario.description
    )
    options.reporter.scenario_started(scenario.name, str(path), spec.id)
    variables, missing = _variables(scenario, options)
    status, reason = _not_run(scenario, options, missing)
    if status is not None:
        outcome.status, outcome.reason = status, reason
        options.reporter.scenario_finished(outcome)
        return outcome, first_seq
    started = time.perf_counter()
    pinned = options.seed if options.seed is not None else scenario.seed
    if options.state_path is not None:
        # A restarted charge point goes on with the ids its state file saved (--state).
        saved = StateFile(options.state_path).saved_seed()
        pinned = saved if saved is not None else pinned
    seed, clock = new_clock(scenario.clock, pinned, embedded=_embedded(scenario, options))
    outcome.seed = seed
    scenario = scenario.model_copy(update={"seed": seed})  # what _run seeds its ids with
    recorder = FrameRecorder(spec.id, clock, options, first_seq)
    try:
        await _run(path, scenario, options, clock, recorder, outcome, variables)
    except ConnectError as exc:
        outcome.status = Status.UNREACHABLE
        outcome.error = str(exc)
    except UsageError as exc:  # found only when it runs, e.g. a missing certificate file
        outcome.status = Status.FAILED
        outcome.error = str(exc)
    except Exception as exc:  # a bug in mockpoint: report it, keep running the others
        outcome.status = Status.ERROR
        outcome.error = f"internal error: {type(exc).__name__}: {exc}"
    outcome.frames = recorder.records
    outcome.duration = time.perf_counter() - started
    options.reporter.scenario_finished(outcome)
    return outcome, recorder.next_seq


def _variables(scenario: model.Scenario, options: RunOptions) -> tuple[dict[str, Any], list[str]]:
    """The variables the scenario starts with, and the inputs it needs that nobody gave."""
    variables = dict(options.variables)
    if _embedded(scenario, options):
        for name, value in options.embedded_defaults.items():
            variables.setdefault(name, value)
    used = set(names_in(scenario.model_dump_json(), dots=False))
    missing = [
        f"{description} ({name})"
        for name, description in options.inputs.items()
        if name in used and name not in variables and name not in os.environ
    ]
    return variables, missing


def _not_run(
    scenario: model.Scenario, options: RunOptions, missing: list[str]
) -> tuple[Status | None, str | None]:
    """Whether the scenario is left out before it connects, and why: the CSMS lacks what it
    tests (``--csms-lacks``: not applicable), an input it needs was not given, or it needs
    someone to make a real CSMS act and nobody can (skipped)."""
    lacks = lacking(scenario, options.csms_lacks)
    if lacks:
        return Status.NOT_APPLICABLE, f"the CSMS lacks {', '.join(lacks)} (--csms-lacks)"
    if missing:
        return Status.SKIPPED, "needs " + "; ".join(missing)
    prompts = prompted(scenario)
    nobody = not (options.interactive or options.wait_for_csms is not None)
    if (
        prompts
        and nobody
        and not _embedded(scenario, options)
        and not _driver_spec(scenario, options)
    ):
        return Status.SKIPPED, (
            f"needs the CSMS to act ({prompts[0]}) and nothing can make it: give "
            "--csms-driver (docs/csms-driver.md), or run at a terminal, or --wait-for-csms "
            "if something else acts"
        )
    return None, None


def _driver_spec(scenario: model.Scenario, options: RunOptions) -> str | None:
    return options.csms_driver or scenario.csms_driver


def _driver(
    path: Path, scenario: model.Scenario, options: RunOptions, variables: dict[str, Any]
) -> CsmsDriver | None:
    """The CSMS driver of a scenario run against a real CSMS: ``--csms-driver``, else the
    file's ``csms_driver`` (``${NAME}`` expanded; run in the file's folder). None with the
    embedded mock CSMS, which acts by itself (its ``mock_csms`` block)."""
    if _embedded(scenario, options):
        return None
    examples = {}
    if scenario.mock_csms is not None:
        with contextlib.suppress(UsageError):  # checked when the file was loaded
            examples = mock_csms_examples(config_from_mapping(scenario.mock_csms, "mock_csms"))
    if options.csms_driver:
        return CsmsDriver(options.csms_driver, examples=examples)
    if not scenario.csms_driver:
        return None
    try:
        spec = str(resolve(scenario.csms_driver, variables))
    except UnknownVariable as exc:
        raise UsageError(f"{path}: csms_driver: {exc}") from None
    return CsmsDriver(spec, folder=path.parent, examples=examples)


def _embedded(scenario: model.Scenario, options: RunOptions) -> bool:
    return options.csms_url is None and scenario.target is None


async def _run(
    path: Path,
    scenario: model.Scenario,
    options: RunOptions,
    clock: VirtualClock,
    recorder: FrameRecorder,
    outcome: ScenarioOutcome,
    variables: dict[str, Any],
) -> None:
    spec = scenario.charge_point
    station = build_station(spec, spec.id, clock)
    state = None
    if options.state_path is not None:
        state = StateFile(options.state_path)
        state.restore(station)
    boots_itself = boots_by_itself(scenario)
    named, config = csms_choice(
        options.csms_url, scenario.target, options.csms_config, scenario.mock_csms
    )
    async with csms_url(named, config, clock) as url:
        target = Target(
            url,
            scenario.target,
            folder=path.parent,
            source=str(path),
            variables=variables,
            faults=scenario.faults,
        )
        cp = assemble(
            spec,
            spec.id,
            clock,
            target,
            ids=SeededIds(scenario.seed or 0),
            call_timeout=scenario.timeout,
            connect_timeout=options.connect_timeout,
            observer=recorder,
            station=station,
        )
        if state is not None:
            await state.start(cp, auto_boot=boots_itself)
        else:
            await cp.start(auto_boot=boots_itself)
        driver = _driver(path, scenario, options, variables)
        try:
            ctx = StepContext(
                cp,
                station,
                scenario.timeout,
                variables=variables,
                reporter=options.reporter,
                wait_for_csms=None if _embedded(scenario, options) else options.wait_for_csms,
                show_prompts=not _embedded(scenario, options),
                driver=driver,
                scenario_name=scenario.name,
                scenario_file=str(path),
            )

            def finished(result: StepOutcome) -> None:
                outcome.steps.append(result)
                options.reporter.step_finished(result)
                if state is not None:
                    state.mark_changed()  # e.g. a `charge` step's power, which no event tells

            outcome.status = await run_steps(
                ctx, scenario.steps, recorder, finished, boot=path if boots_itself else None
            )
            if outcome.status is Status.NOT_APPLICABLE:
                outcome.reason = next(
                    (s.message for s in outcome.steps if s.status is Status.NOT_APPLICABLE), None
                )
        finally:
            if driver is not None:
                await driver.finish()
            await cp.stop()
            outcome.not_supported, outcome.ignored = tally(cp.received)
            if state is not None:
                state.detach()


def check_state(scenario: model.Scenario, options: RunOptions) -> None:
    """Raise UsageError now if ``options.state_path`` cannot be used for ``scenario``, so
    that a broken file stops the run before anything is sent (exit 2)."""
    if options.state_path is None:
        return
    folder = options.state_path.parent
    if not folder.is_dir():
        raise UsageError(f"state file {options.state_path}: the folder {folder} does not exist")
    cp_id = options.charge_point_id or scenario.charge_point.id
    clock = VirtualClock(time.time(), 0)
    StateFile(options.state_path).restore(build_station(scenario.charge_point, cp_id, clock))


def boots_by_itself(scenario: model.Scenario) -> bool:
    """Whether the charge point sends its BootNotification by itself (the scenario does not
    start with its own)."""
    first = scenario.steps[0]
    return not (isinstance(first, model.SendStep) and first.send == "BootNotification")

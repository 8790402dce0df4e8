"""Runs scenarios: one charge point per scenario, its steps in order, outcomes out.

With no CSMS named (neither ``--csms`` nor the file's ``csms``) each scenario gets a fresh
embedded mock CSMS on a free loopback port, sharing the scenario's virtual clock, so runs
against it are deterministic end to end (transaction ids count from 1 in every scenario).
Against any other CSMS a run looks like a real charge point instead: unless pinned, its
clock starts at the wall-clock time and its seed is drawn fresh (:func:`seed_and_start`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import secrets
import ssl
import time
import warnings
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from mockpoint.clock import VirtualClock, format_timestamp
from mockpoint.csms.config import CsmsConfig, config_from_mapping
from mockpoint.csms.server import MockCsms
from mockpoint.errors import ConnectError, UsageError
from mockpoint.faults.transport import FaultyTransport, RandomFaults
from mockpoint.ids import SeededIds
from mockpoint.ocpp16.secrets import redact_frame
from mockpoint.rpc.frames import WireFrame
from mockpoint.rpc.session import InvalidAnswer, RemoteViolation
from mockpoint.runtime.charge_point import ChargePoint, Connect, tally
from mockpoint.runtime.state_file import StateFile
from mockpoint.scenario import model
from mockpoint.scenario.driver import CsmsDriver, lacking, mock_csms_examples, prompted
from mockpoint.scenario.matchers import UnknownVariable, resolve
from mockpoint.scenario.outcome import (
    FrameRecord,
    RunOutcome,
    ScenarioOutcome,
    Status,
    StepOutcome,
)
from mockpoint.scenario.reports.console import NullReporter, Reporter
from mockpoint.scenario.reports.transcript import TranscriptWriter
from mockpoint.scenario.steps import (
    RUNNERS,
    NotApplicable,
    StepContext,
    StepFailed,
    arm,
    describe,
    shapes_reply,
)
from mockpoint.station.configuration import Configuration
from mockpoint.station.station import Identity, Station
from mockpoint.transport.base import Transport
from mockpoint.transport.websocket import check_csms_url, connect


class Frames(Protocol):
    """Where a failed step finds the frames that came just before it."""

    @property
    def records(self) -> list[FrameRecord]: ...


class _NoFrames:
    @property
    def records(self) -> list[FrameRecord]:
        return []


#: For drivers that keep no frames (the load runner, the Python API): a failed step shows
#: none before it.
NO_FRAMES: Frames = _NoFrames()


class Dial(Protocol):
    """Opens a transport (:func:`mockpoint.transport.websocket.connect` or the load
    runner's)."""

    async def __call__(
        self,
        url: str,
        charge_point_id: str,
        *,
        open_timeout: float = ...,
        basic_auth_password: str | None = ...,
        ssl_context: ssl.SSLContext | None = ...,
    ) -> Transport: ...


#: How many frames a failure shows from just before it.
FRAMES_BEFORE_FAILURE = 8


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
    seed, start = seed_and_start(
        pinned, scenario.clock.start, embedded=_embedded(scenario, options)
    )
    if options.state_path is not None:
        # A restarted charge point goes on with the ids its state file saved (--state).
        saved = StateFile(options.state_path).saved_seed()
        seed = saved if saved is not None else seed
    outcome.seed = seed
    scenario = scenario.model_copy(update={"seed": seed})  # what _run seeds its ids with
    clock = VirtualClock(start, scenario.clock.speed)
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


#: Where the virtual clock starts against the embedded mock CSMS, unless the file says
#: (PRODUCT.md, "Determinism, and the CSMSs people run").
PINNED_START = datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
#: The seed against the embedded mock CSMS, unless the file or ``--seed`` says.
PINNED_SEED = 0


def seed_and_start(
    seed: int | None, start: datetime | None, *, embedded: bool
) -> tuple[int, float]:
    """The seed and the virtual start time (Unix seconds) of a run: the ones given (by the
    file, ``--seed``, an API argument), else (PRODUCT.md, "Determinism, and the CSMSs people
    run"):

    - against the embedded mock CSMS, seed 0 and :data:`PINNED_START`, so two runs give
      byte-identical transcripts;
    - against any other CSMS, a seed drawn from the operating system and the wall-clock
      time, as a real charge point: its message ids never repeat between runs (a CSMS
      deduplicates retransmissions by message id, OCPP-J 1.6 §4.1.3) and its timestamps
      are not months old (a CSMS takes an old StartTransaction for history).

    The one place that decides; the scenario runner and the Python API both ask it.
    """
    if seed is None:
        seed = PINNED_SEED if embedded else secrets.randbits(32)
    if start is not None:
        return seed, start.timestamp()
    return seed, PINNED_START.timestamp() if embedded else time.time()


@contextlib.asynccontextmanager
async def _csms_url(
    scenario: model.Scenario, options: RunOptions, clock: VirtualClock
) -> AsyncIterator[str]:
    target = scenario.target
    if options.csms_url is not None:
        yield options.csms_url
    elif target is not None:
        yield target.url
    else:
        config = options.csms_config
        if config is None and scenario.mock_csms is not None:
            config = config_from_mapping(scenario.mock_csms, "mock_csms")
        async with MockCsms(config=config, clock=clock) as csms:
            yield csms.url


_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _variables(scenario: model.Scenario, options: RunOptions) -> tuple[dict[str, Any], list[str]]:
    """The variables the scenario starts with, and the inputs it needs that nobody gave."""
    variables = dict(options.variables)
    if _embedded(scenario, options):
        for name, value in options.embedded_defaults.items():
            variables.setdefault(name, value)
    used = set(_VARIABLE.findall(scenario.model_dump_json()))
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


def connector(
    url: str,
    scenario: model.Scenario,
    path: Path,
    station: Station,
    variables: dict[str, Any],
    *,
    connect_timeout: float,
    dial: Dial = connect,
) -> Connect:
    """How the charge point connects: the URL, and the security profile's credentials
    (OCPP 1.6 security whitepaper: 1 Basic auth, 2 Basic auth over TLS, 3 mutual TLS).

    The Basic-auth password is the AuthorizationKey; a new one the CSMS sets is used from the
    next connection on. Passwords are never printed.
    """
    target = scenario.target
    profile = target.security_profile if target else 0

    def setting(value: str | None) -> str | None:
        if value is None:
            return None
        try:
            return str(resolve(value, variables))
        except UnknownVariable as exc:
            raise UsageError(f"{path}: csms: {exc}") from None

    url = str(setting(url))
    check_csms_url(url, f"{path}: csms")  # once more after ${NAME} expansion
    scheme = url.split(":", 1)[0].lower()
    if (profile >= 2 and scheme != "wss") or (profile == 1 and scheme != "ws"):
        expected = "ws://" if profile == 1 else "wss://"
        raise UsageError(
            f"{path}: security_profile {profile} needs a {expected} URL, got {scheme}://"
        )
    if target is not None and profile:
        with contextlib.suppress(UsageError):
            station.configuration.set_internal("SecurityProfile", profile)
    ssl_context = None
    if url.startswith("wss://"):
        ssl_context = _tls(target, path, setting)
    if target is not None and profile in (1, 2):
        password = setting(target.password)
        with contextlib.suppress(UsageError):  # a password the key's rules refuse is kept aside
            station.configuration.set_internal("AuthorizationKey", password)
    else:
        password = None
    cp_id = station.identity.charge_point_id
    open_timeout = min(connect_timeout, 10.0)
    spec = scenario.faults
    faults = RandomFaults(spec.seed, spec.latency, spec.drop, spec.disconnect) if spec else None
    # One generator for the whole scenario, reconnections included: reproducible. (Only
    # with faults: its state is 2.5 KB, which a load run would pay per charge point.)
    rng = random.Random(spec.seed) if spec else None

    async def make() -> Transport:
        current = None
        if profile in (1, 2):
            current = station.configuration.get("AuthorizationKey") or password
        transport: Transport = await dial(
            url,
            cp_id,
            open_timeout=open_timeout,
            basic_auth_password=current,
            ssl_context=ssl_context,
        )
        if faults is not None and rng is not None:
            transport = FaultyTransport(transport, faults, rng)
        return transport

    return make


def _tls(
    target: model.CsmsTarget | None, path: Path, setting: Callable[[str | None], str | None]
) -> ssl.SSLContext:
    """TLS for wss://: the CSMS's certificate is verified against ``ca`` or the system's
    store, unless ``insecure: true`` says otherwise (with a warning)."""

    def located(value: str | None) -> Path | None:
        # A file the scenario names is next to it; one given through a variable (--var, the
        # environment) is where the user is.
        resolved = setting(value)
        if value is None or resolved is None:
            return None
        return Path(resolved) if "${" in value else path.parent / resolved

    ca = located(target.ca) if target else None
    try:
        context = ssl.create_default_context(cafile=str(ca) if ca else None)
        if target is not None and target.cert and target.key:
            cert, key = located(target.cert), located(target.key)
            assert cert is not None and key is not None
            context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"{path}: csms TLS files: {exc}") from None
    if target is not None and target.insecure:
        warnings.warn(
            f"{path}: TLS verification of the CSMS is off (insecure: true)",
            InsecureWarning,
            stacklevel=2,
        )
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class InsecureWarning(UserWarning):
    """TLS verification was turned off by a scenario."""


async def _run(
    path: Path,
    scenario: model.Scenario,
    options: RunOptions,
    clock: VirtualClock,
    recorder: FrameRecorder,
    outcome: ScenarioOutcome,
    variables: dict[str, Any],
) -> None:
    station = build_station(scenario, scenario.charge_point.id, clock)
    state = None
    if options.state_path is not None:
        state = StateFile(options.state_path)
        state.restore(station)
    boots_itself = boots_by_itself(scenario)
    async with _csms_url(scenario, options, clock) as url:
        cp = ChargePoint(
            station,
            connector(
                url, scenario, path, station, variables, connect_timeout=options.connect_timeout
            ),
            clock=clock,
            ids=SeededIds(scenario.seed or 0),
            call_timeout=scenario.timeout,
            connect_timeout=options.connect_timeout,
            observer=recorder,
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
    StateFile(options.state_path).restore(build_station(scenario, cp_id, clock))


def build_station(scenario: model.Scenario, charge_point_id: str, clock: VirtualClock) -> Station:
    """The station the scenario describes, under ``charge_point_id``."""
    spec = scenario.charge_point
    identity = Identity(
        charge_point_id,
        vendor=spec.vendor,
        model=spec.model,
        serial_number=spec.serial_number,
        firmware_version=spec.firmware_version,
        connectors=spec.connectors,
    )
    configuration = Configuration(spec.configuration, number_of_connectors=spec.connectors)
    return Station(identity, clock, configuration)


def boots_by_itself(scenario: model.Scenario) -> bool:
    """Whether the charge point sends its BootNotification by itself (the scenario does not
    start with its own)."""
    first = scenario.steps[0]
    return not (isinstance(first, model.SendStep) and first.send == "BootNotification")


async def run_steps(
    ctx: StepContext,
    steps: list[model.Step],
    recorder: Frames,
    finished: Callable[[StepOutcome], None],
    *,
    boot: Path | None = None,
    labels: Sequence[tuple[str, str]] | None = None,
) -> Status:
    """Take ``steps`` in order on a started charge point, each outcome to ``finished``;
    after a failure the rest are skipped. With ``boot`` (the scenario's file), the
    automatic boot comes first, as step 0. The scenario and load runners share this;
    the load runner passes the steps' :func:`step_labels`, made once for all its passes.
    """
    if labels is None:
        labels = step_labels(steps)
    status = Status.PASSED
    if boot is not None:
        result = await _boot(ctx, boot, recorder)
        finished(result)
        if result.status is Status.FAILED:
            status = Status.FAILED
    for index, step in enumerate(steps, start=1):
        following = steps[index] if index < len(steps) else None
        if following is not None and shapes_reply(following) and not shapes_reply(step):
            assert isinstance(following, model.AwaitStep)
            arm(ctx, following)  # this step may trigger the request it replies to
        location, label = labels[index - 1]
        if status is not Status.PASSED:
            result = StepOutcome(index, step.kind, label, location, Status.SKIPPED)
        else:
            result = await _step(ctx, index, step, recorder, location, label)
            if result.status is Status.FAILED and not result.tolerated:
                status = Status.FAILED
            elif result.status is Status.NOT_APPLICABLE:
                status = Status.NOT_APPLICABLE
        finished(result)
    return status


async def _boot(ctx: StepContext, path: Path, recorder: Frames) -> StepOutcome:
    """The automatic boot: until Accepted (Pending / Rejected are retried), then the
    status reports."""
    started = time.perf_counter()
    result = StepOutcome(0, "boot", "boot (automatic)", f"{path}:1:1", Status.PASSED)
    try:
        async with asyncio.timeout(ctx.timeout):
            await ctx.cp.wait_registered(ctx.timeout)
            await ctx.cp.wait_idle()
    except TimeoutError:
        result.status = Status.FAILED
        if ctx.station.accepted:  # its status reports, or what followed, got no answer
            in_flight = ctx.cp.in_flight_action
            waiting = f" (waiting for the answer to {in_flight})" if in_flight else ""
            result.message = (
                f"the boot was accepted, but the station was still busy after "
                f"{ctx.timeout:g} s{waiting}"
            )
        else:
            result.message = (
                f"the CSMS did not accept the boot within {ctx.timeout:g} s "
                f"(last answer: {ctx.station.registration or 'none'})"
            )
        result.frames_before = recorder.records[-FRAMES_BEFORE_FAILURE:]
    problems = _new_problems(ctx, 0)
    if problems and result.status is Status.PASSED:
        result.status = Status.FAILED
        result.message = "\n".join(problems)
        result.frames_before = recorder.records[-FRAMES_BEFORE_FAILURE:]
    elif problems:  # they say why the boot got nowhere (an answer that broke the schema)
        result.message = "\n".join([result.message or "", *problems])
    result.duration = time.perf_counter() - started
    return result


def step_labels(steps: Sequence[model.StepBase]) -> list[tuple[str, str]]:
    """(location, label) of each step, for its outcome."""
    return [
        (str(step.location) if step.location else f"step {index}", describe(step))
        for index, step in enumerate(steps, start=1)
    ]


async def _step(
    ctx: StepContext,
    index: int,
    step: model.StepBase,
    recorder: Frames,
    location: str,
    label: str,
) -> StepOutcome:
    result = StepOutcome(index, step.kind, label, location, Status.PASSED)
    carry, ctx.problems_carry, ctx.problems_until = ctx.problems_carry, None, None
    problems_before = len(ctx.cp.problems) if carry is None else carry
    started = time.perf_counter()
    try:
        await RUNNERS[step.kind](ctx, step)
        problems = _new_problems(ctx, problems_before)
        if problems:
            raise StepFailed("\n".join(problems))
    except StepFailed as failure:
        result.status = Status.FAILED
        also = [p for p in _new_problems(ctx, problems_before) if p not in failure.message]
        result.message = "\n".join([failure.message, *also])
        result.expected = failure.expected
        result.actual = failure.actual
        result.cause = failure.cause.value
        result.frames_before = recorder.records[-FRAMES_BEFORE_FAILURE:]
        result.tolerated = step.continue_on_failure
    except NotApplicable as lacking_:
        result.status = Status.NOT_APPLICABLE
        result.message = f"the CSMS lacks this, says the CSMS driver: {lacking_.reason}"
    result.duration = time.perf_counter() - started
    return result


def _new_problems(ctx: StepContext, since: int) -> list[str]:
    """The problems a step answers for: since it started, up to the moment its condition
    was met (``ctx.problems_until``); later ones are carried to the next step."""
    problems = ctx.cp.problems
    until = ctx.problems_until
    if until is None or until >= len(problems):
        return problems[since:]
    until = max(until, since)
    ctx.problems_carry = until
    return problems[since:until]

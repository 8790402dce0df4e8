"""What ``mockpoint serve`` holds: its charge points, scenario runs and load runs, and the
event stream they all report to (docs/serve.md).

A charge point here is the one ``mockpoint run`` drives: the station and driver built by
:func:`mockpoint.assembly.assemble`, every verb a scenario step taken by
:func:`mockpoint.scenario.stepping.run_steps`. Nothing about OCPP is done here.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import dataclasses
import itertools
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockpoint.assembly import Target, assemble, build_station, csms_choice, csms_url, new_clock
from mockpoint.clock import format_timestamp
from mockpoint.errors import ConnectError, ExitCode, MockpointError, UsageError
from mockpoint.ids import SeededIds
from mockpoint.load.engines import plans_for, run_in_workers
from mockpoint.load.shard import Shard, ShardPlan, check_id_pattern
from mockpoint.load.stats import LoadStats
from mockpoint.ocpp16.secrets import redact_payload
from mockpoint.packs import EMBEDDED_DEFAULTS, INPUT_REASONS, pack_files, run_variables
from mockpoint.runtime.charge_point import ChargePoint, Received
from mockpoint.runtime.state_file import StateFile
from mockpoint.scenario import model
from mockpoint.scenario.driver import feature
from mockpoint.scenario.loader import load_paths, load_scenario
from mockpoint.scenario.outcome import (
    FrameRecord,
    RunOutcome,
    ScenarioOutcome,
    Status,
    StepOutcome,
)
from mockpoint.scenario.reports.console import NullReporter
from mockpoint.scenario.reports.json_report import json_summary
from mockpoint.scenario.runner import FrameRecorder, RunOptions, run_scenarios
from mockpoint.scenario.stepping import run_steps
from mockpoint.scenario.steps import StepContext, describe, station_state
from mockpoint.serve.events import EventStream
from mockpoint.serve.models import (
    ChargePointView,
    ConnectorView,
    CreateChargePoint,
    LoadRequest,
    LoadView,
    RunRequest,
    RunView,
    StepResult,
    TransactionView,
    UploadedFile,
)
from mockpoint.transport.websocket import check_csms_url, without_credentials
from mockpoint.variables import UnknownVariable, resolve


class NotFound(MockpointError):
    """404: no such charge point, run or load run."""


class Conflict(MockpointError):
    """409: the request contradicts what exists (an id taken, a run already stopped)."""


class EventReporter(NullReporter):
    """Reports frames, steps and scenarios to the event stream (and nothing to a
    terminal)."""

    def __init__(
        self, events: EventStream, run: str | None = None, uploads: Path | None = None
    ) -> None:
        self.events = events
        self.run = run
        #: the folder of a run's uploaded files, which events name as uploaded
        self.uploads = uploads
        self.scenario_cp: str | None = None

    def scenario_started(self, name: str, file: str, cp: str) -> None:
        self.scenario_cp = cp
        self.events.publish(
            "scenario",
            run=self.run,
            charge_point=cp,
            name=name,
            file=_shown(file, self.uploads),
            status="running",
        )

    def frame(self, record: FrameRecord) -> None:
        if not self.events.subscribers:
            self.events.publish("frame")  # numbered all the same
            return
        data = _frame(record)
        data["frame_seq"] = data.pop("seq")
        self.events.publish("frame", run=self.run, charge_point=record.cp, **data)

    def step_finished(self, step: StepOutcome, charge_point: str | None = None) -> None:
        self.events.publish(
            "step",
            run=self.run,
            charge_point=charge_point or self.scenario_cp,
            step=step.label,
            location=_shown(step.location, self.uploads),
            status=step.status.value,
            message=_shown(step.message, self.uploads),
            duration_s=round(step.duration, 6),
        )

    def scenario_finished(self, outcome: ScenarioOutcome) -> None:
        self.events.publish(
            "scenario",
            run=self.run,
            charge_point=outcome.cp,
            name=outcome.name,
            file=_shown(outcome.file, self.uploads),
            status=outcome.status.value,
            error=_shown(outcome.error, self.uploads),
        )


async def _answer_of(record: Received, seconds: float) -> Any:
    """What the charge point answered the CSMS's request ``record``: at once, in the frame's
    callback, or later when a ``delay`` fault holds it back. None when it answers nothing
    within ``seconds`` (an ``ignore`` fault) or may not answer at all (a Rejected boot)."""
    deadline = time.monotonic() + seconds
    while record.response is None and record.error is None and not record.ignored:
        if time.monotonic() >= deadline:
            return None
        await asyncio.sleep(0.01)
    error = record.error
    if error is not None:
        return {"code": error.code, "description": error.description, "details": error.details}
    return record.response


def _frame(record: FrameRecord) -> dict[str, Any]:
    data = record.to_json()
    data.pop("cp")
    return data


# --- charge points ----------------------------------------------------------------------------


@dataclass(eq=False)
class ServedChargePoint:
    id: str
    driver: ChargePoint
    ctx: StepContext
    recorder: FrameRecorder
    csms_url: str
    embedded: bool
    seed: int
    stack: contextlib.AsyncExitStack
    state: StateFile | None
    reporter: EventReporter
    #: its connectors' (status, error code) when last told (``connector`` events)
    statuses: dict[int, tuple[str, str]] = field(default_factory=dict)
    #: verbs run one at a time, in the order they came
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    #: the verbs running now (a delete cancels them)
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    closed: bool = False

    def view(self) -> ChargePointView:
        station = self.driver.station
        state = station_state(self.driver)
        transactions = [
            TransactionView(
                connector=number,
                transaction_id=tx.transaction_id,
                id_tag=tx.id_tag,
                meter_start_wh=tx.meter_start,
            )
            for number, tx in sorted(station.transactions.items())
        ]
        return ChargePointView(
            id=self.id,
            link=self.driver.link.value,
            connected=self.driver.connected,
            registration=state["registration"],
            csms_url=without_credentials(self.csms_url),
            embedded_csms=self.embedded,
            seed=self.seed,
            virtual_time=format_timestamp(station.clock.now()),
            connectors={
                number: ConnectorView(**values) for number, values in state["connectors"].items()
            },
            transactions=transactions,
            queue=station.queued(),
            in_flight=self.driver.in_flight_action,
            configuration=state["configuration"],
            frames=len(self.recorder.records),
        )

    def connectors_changed(self) -> None:
        """A ``connector`` event for each connector whose status or error code changed (the
        driver tells of every change of the station)."""
        for number, connector in self.driver.station.connectors.items():
            now = (connector.status.value, connector.error_code.value)
            if self.statuses.get(number) != now:
                self.statuses[number] = now
                self.reporter.events.publish(
                    "connector",
                    charge_point=self.id,
                    connector=number,
                    status=now[0],
                    error_code=now[1],
                )

    async def take(self, step: model.StepBase) -> StepResult:
        """Take ``step`` as a scenario would, after the verbs before it."""
        async with self.lock:
            if self.closed:
                raise NotFound(f"no charge point {self.id!r} (deleted)")
            task = asyncio.create_task(self._take(step))
            self.tasks.add(task)
            try:
                return await task
            except asyncio.CancelledError:
                if task.cancelled() and self.closed:
                    raise Conflict(
                        f"charge point {self.id!r} was deleted while {describe(step)} ran"
                    ) from None
                raise
            finally:
                self.tasks.discard(task)

    async def _take(self, step: model.StepBase) -> StepResult:
        first = len(self.recorder.records)
        self.ctx.answer = None
        outcomes: list[StepOutcome] = []
        await run_steps(
            self.ctx,
            [step],  # type: ignore[list-item]
            self.recorder,
            outcomes.append,
            labels=[("serve", describe(step))],
        )
        outcome = outcomes[0]
        self.reporter.step_finished(outcome, self.id)
        answer, request, actual = self.ctx.answer, None, outcome.actual
        if isinstance(step, model.AwaitStep):
            actual = redact_payload(step.await_, actual)
            if outcome.status is Status.PASSED:
                record = self.driver.received[self.ctx.inbox_cursor - 1]
                request = redact_payload(record.call.action, record.call.payload)
                answer = await _answer_of(record, self.ctx.timeout_of(step))
        return StepResult(
            status="passed" if outcome.status is Status.PASSED else "failed",
            step=outcome.label,
            message=outcome.message,
            cause=outcome.cause,
            expected=outcome.expected,
            actual=actual,
            answer=answer,
            request=request,
            duration_s=round(outcome.duration, 6),
            frames=[_frame(r) for r in self.recorder.records[first:]],
        )

    def frames(self, after: int = 0) -> list[dict[str, Any]]:
        records = self.recorder.records
        start = bisect.bisect_right(records, after, key=lambda r: r.seq)
        return [_frame(r) for r in records[start:]]

    async def close(self) -> None:
        """End the verbs, then the connection, the state file and the embedded CSMS (the
        exit stack holds them, in reverse order)."""
        self.closed = True
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.stack.aclose()


# --- scenario runs and load runs --------------------------------------------------------------


@dataclass(eq=False)
class RunJob:
    id: str
    task: asyncio.Task[RunOutcome]
    folder: Path | None
    outcome: RunOutcome | None = None
    #: the JSON report, made once the run ended
    report: dict[str, Any] | None = None
    error: str | None = None

    def view(self) -> RunView:
        outcome = self.outcome
        counts: dict[str, int] = {}
        if outcome is not None:
            for each in Status:
                if n := outcome.count(each):
                    counts[each.value] = n
        if self.error is not None:
            status = "error"
        elif outcome is None:
            status = "running"
        else:
            status = _RUN_STATUS[outcome.exit_code]
        return RunView(
            id=self.id,
            status=status,
            exit_code=int(outcome.exit_code) if outcome is not None else None,
            counts=counts,
            report=self.report,
            error=self.error,
        )


#: a run's status by the exit code `mockpoint run` would give it (docs/behaviour.md)
_RUN_STATUS = {
    ExitCode.OK: "passed",
    ExitCode.FAILED: "failed",
    ExitCode.UNREACHABLE: "unreachable",
    ExitCode.INTERNAL: "error",
    ExitCode.USAGE: "error",
}


@dataclass(eq=False)
class LoadJob:
    id: str
    target: int
    stack: contextlib.AsyncExitStack
    shard: Shard | None = None
    task: asyncio.Task[LoadStats] | None = None
    snapshots: dict[int, dict[str, Any]] = field(default_factory=dict)
    final: LoadStats | None = None
    stopped: bool = False
    error: str | None = None
    folder: Path | None = None
    #: publishes its figures, and takes the final ones when the run ends
    reporter: asyncio.Task[None] | None = None

    def statistics(self) -> tuple[LoadStats | None, int]:
        if self.final is not None:
            return self.final, 0
        if self.shard is not None:
            snapshots = [self.shard.snapshot()]
        else:
            snapshots = list(self.snapshots.values())
        if not snapshots:
            return None, 0
        merged = LoadStats.merged(LoadStats.from_dict(s) for s in snapshots)
        merged.finished_at = time.time()  # so far: duration and throughput up to now
        return merged, sum(int(s.get("connected", 0)) for s in snapshots)

    def view(self) -> LoadView:
        stats, connected = self.statistics()
        if self.error is not None:
            status = "error"
        elif self.task is not None and not self.task.done():
            status = "running"
        else:
            status = "stopped" if self.stopped else "finished"
        return LoadView(
            id=self.id,
            status=status,
            connected=connected,
            target=self.target,
            statistics=stats.to_dict(timeline=False) if stats is not None else None,
            error=self.error,
        )


# --- the hub ----------------------------------------------------------------------------------


class Hub:
    def __init__(self) -> None:
        self.events = EventStream()
        self.charge_points: dict[str, ServedChargePoint] = {}
        self.runs: dict[str, RunJob] = {}
        self.loads: dict[str, LoadJob] = {}
        self._creating: set[str] = set()
        self._run_ids = itertools.count(1)
        self._load_ids = itertools.count(1)
        self._reporter = EventReporter(self.events)

    # --- charge points ---------------------------------------------------------------------

    def charge_point(self, cp_id: str) -> ServedChargePoint:
        try:
            return self.charge_points[cp_id]
        except KeyError:
            raise NotFound(f"no charge point {cp_id!r}") from None

    async def create(self, body: CreateChargePoint) -> ServedChargePoint:
        cp_id = body.charge_point.id
        if cp_id in self.charge_points or cp_id in self._creating:
            raise Conflict(f"charge point {cp_id!r} exists (DELETE it first)")
        self._creating.add(cp_id)
        try:
            served = await self._connect(cp_id, body)
        finally:
            self._creating.discard(cp_id)
        self.charge_points[cp_id] = served
        self.events.publish("charge_point", charge_point=cp_id, change="created", **_brief(served))
        return served

    async def _connect(self, cp_id: str, body: CreateChargePoint) -> ServedChargePoint:
        security = None if body.csms is None or isinstance(body.csms, str) else body.csms
        override = body.csms if isinstance(body.csms, str) else None
        named, config = csms_choice(override, security, None, body.mock_csms)
        if named is not None:
            check_csms_url(named, "csms")  # ${NAME} is not read (env={} below): as written
        state = StateFile(body.state) if body.state is not None else None
        if state is not None and not Path(body.state or "").parent.is_dir():
            raise UsageError(f"state: the folder of {body.state} does not exist")
        pinned = body.seed
        if state is not None and (saved := state.saved_seed()) is not None:
            pinned = saved
        seed, clock = new_clock(body.clock, pinned, embedded=named is None)
        station = build_station(body.charge_point, cp_id, clock)
        if state is not None:
            state.restore(station)  # before the target's settings, as `run --state` does
        stack = contextlib.AsyncExitStack()
        try:
            url = await stack.enter_async_context(csms_url(named, config, clock))
            recorder = FrameRecorder(cp_id, clock, RunOptions(reporter=self._reporter))
            driver = assemble(
                body.charge_point,
                cp_id,
                clock,
                Target(url, security, source="serve", env={}),
                ids=SeededIds(seed),
                call_timeout=body.timeout,
                connect_timeout=body.connect_timeout,
                observer=recorder,
                station=station,
            )
            if state is not None:
                stack.callback(state.detach)  # after the stop below: LIFO
            stack.push_async_callback(driver.stop)
            ctx = StepContext(driver, station, body.timeout, reporter=self._reporter, env={})
            served = ServedChargePoint(
                cp_id, driver, ctx, recorder, url, named is None, seed, stack, state, self._reporter
            )
            driver.on_change.append(served.connectors_changed)
            driver.on_connected_change = lambda up: self.events.publish(
                "link", charge_point=cp_id, connected=up, link=driver.link.value
            )
            if state is not None:
                await state.start(driver, auto_boot=body.boot)
            else:
                await driver.start(auto_boot=body.boot)
            if body.boot:
                # A CSMS may keep the boot Pending or Rejected (§4.2): the charge point goes
                # on retrying, and the view says where the registration stands.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(body.timeout):
                        await driver.wait_registered(body.timeout)
                        await driver.wait_idle()
        except BaseException:
            await stack.aclose()
            raise
        return served

    async def delete(self, cp_id: str) -> None:
        served = self.charge_point(cp_id)
        del self.charge_points[cp_id]
        try:
            await served.close()
        finally:
            self.events.publish("charge_point", charge_point=cp_id, change="deleted")

    # --- scenario runs ---------------------------------------------------------------------

    def run(self, run_id: str) -> RunJob:
        try:
            return self.runs[run_id]
        except KeyError:
            raise NotFound(f"no run {run_id!r}") from None

    async def start_run(self, body: RunRequest) -> RunJob:
        if not body.paths and not body.files and not body.pack:
            raise UsageError("paths, files or pack: name what to run")
        if body.only and not body.pack:
            raise UsageError("only: it selects cases of a pack")
        if body.csms is not None:
            check_csms_url(body.csms, "csms")
        run_id = f"run-{next(self._run_ids)}"
        folder = _uploads(body.files, run_id) if body.files else None
        try:
            files = [Path(p) for p in body.paths]
            if folder is not None:
                files += sorted(folder.iterdir())
            if body.pack:
                files += pack_files(body.pack, body.only)
            try:  # off the loop: a pack is some 60 files to read and check
                items = await asyncio.to_thread(load_paths, files)
            except UsageError as exc:
                raise UsageError(_shown(str(exc), folder) or "") from None
            variables = run_variables(body.variables, body.tags, body.csms, source="tags:")
            try:
                lacks = tuple(feature(name) for name in body.csms_lacks)
            except ValueError as exc:
                raise UsageError(f"csms_lacks: unknown feature or action {exc}") from None
        except BaseException:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
            raise
        options = RunOptions(
            csms_url=body.csms,
            connect_timeout=body.connect_timeout,
            reporter=EventReporter(self.events, run=run_id, uploads=folder),
            variables=variables,
            inputs=INPUT_REASONS,
            embedded_defaults=EMBEDDED_DEFAULTS,
            charge_point_id=body.charge_point_id,
            seed=body.seed,
            csms_driver=body.csms_driver,
            csms_lacks=lacks,
        )
        job = RunJob(run_id, asyncio.create_task(run_scenarios(items, options)), folder)
        self.runs[run_id] = job
        self.events.publish("run", run=run_id, status="running", scenarios=len(items))
        job.task.add_done_callback(lambda _task: self._run_done(job))
        return job

    def _run_done(self, job: RunJob) -> None:
        task = job.task
        if task.cancelled():
            job.error = "stopped before it finished"
        elif (exc := task.exception()) is not None:
            job.error = f"internal error: {type(exc).__name__}: {exc}"
        else:
            job.outcome = task.result()
            if job.folder is not None:
                _name_uploads(job.outcome, job.folder)
            job.report = json_summary(job.outcome)
        if job.folder is not None:
            shutil.rmtree(job.folder, ignore_errors=True)
        view = job.view()
        self.events.publish(
            "run", run=job.id, status=view.status, exit_code=view.exit_code, counts=view.counts
        )

    async def wait_run(self, job: RunJob, seconds: float) -> None:
        if seconds > 0 and not job.task.done():
            await asyncio.wait([job.task], timeout=seconds)

    # --- load runs -------------------------------------------------------------------------

    def load(self, load_id: str) -> LoadJob:
        try:
            return self.loads[load_id]
        except KeyError:
            raise NotFound(f"no load run {load_id!r}") from None

    async def start_load(self, body: LoadRequest) -> LoadJob:
        if (body.scenario is None) == (body.file is None):
            raise UsageError("scenario or file: give one")
        if body.loop and body.duration is None:
            raise UsageError("loop: needs duration (it says when the loop ends)")
        check_id_pattern(body.id_pattern, body.charge_points)
        load_id = f"load-{next(self._load_ids)}"
        folder = _uploads([body.file], load_id) if body.file is not None else None
        path = next(folder.iterdir()) if folder is not None else Path(body.scenario or "")
        stack = contextlib.AsyncExitStack()
        try:
            try:
                scenario = await asyncio.to_thread(load_scenario, path)
            except UsageError as exc:
                raise UsageError(_shown(str(exc), folder) or "") from None
            named, config = csms_choice(body.csms, scenario.target, None, scenario.mock_csms)
            if named is not None:
                # checked once here, as `mockpoint load` does, with the run's variables
                # (never the server's environment)
                try:
                    check_csms_url(str(resolve(named, body.variables, {})), "csms")
                except UnknownVariable as exc:
                    raise UsageError(f"csms: {exc}") from None
            url = await stack.enter_async_context(csms_url(named, config))
        except BaseException:
            await stack.aclose()
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)
            raise
        plan = ShardPlan(
            scenario=str(path),
            count=body.charge_points,
            csms_url=url,
            id_pattern=body.id_pattern,
            ramp_up=body.ramp_up,
            duration=body.duration,
            loop=body.loop,
            seed=body.seed,
            speed=body.speed,
            variables=dict(body.variables),
        )
        job = LoadJob(load_id, body.charge_points, stack, folder=folder)
        if body.workers == 0:
            job.shard = Shard(dataclasses.replace(plan, start_at=time.time()), scenario)
            job.task = asyncio.create_task(job.shard.run())
        else:
            plans = plans_for(plan, url, None, min(body.workers, body.charge_points))
            job.task = asyncio.create_task(run_in_workers(plans, job.snapshots.update))
        self.loads[load_id] = job
        self.events.publish("load", load=load_id, status="running", target=body.charge_points)
        job.reporter = asyncio.create_task(self._report_load(job))
        return job

    async def _report_load(self, job: LoadJob) -> None:
        """A ``load`` event a second while the run goes, and one when it ends."""
        task = job.task
        assert task is not None
        while not task.done():
            await asyncio.wait([task], timeout=1.0)
            if not task.done():
                stats, connected = job.statistics()
                self.events.publish(
                    "load",
                    load=job.id,
                    status="running",
                    connected=connected,
                    target=job.target,
                    **(_load_figures(stats) if stats is not None else {}),
                )
        if task.cancelled():
            if job.shard is not None:
                job.final = job.shard.stats
            else:
                job.final, _ = job.statistics()
        elif (exc := task.exception()) is not None:
            job.error = str(exc) if isinstance(exc, MockpointError) else repr(exc)
        else:
            job.final = task.result()
        await job.stack.aclose()
        if job.folder is not None:
            shutil.rmtree(job.folder, ignore_errors=True)
        view = job.view()
        self.events.publish(
            "load",
            load=job.id,
            status=view.status,
            target=job.target,
            error=job.error,
            **(_load_figures(job.final) if job.final is not None else {}),
        )

    async def stop_load(self, job: LoadJob) -> None:
        task = job.task
        if task is None or task.done():
            raise Conflict(f"load run {job.id} has ended")
        job.stopped = True
        task.cancel()
        assert job.reporter is not None
        # it takes the final figures, closes the embedded CSMS and removes the upload
        await asyncio.gather(job.reporter, return_exceptions=True)

    # --- the end ---------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop everything (the server is shutting down)."""
        for job in list(self.loads.values()):
            if job.task is not None and not job.task.done():
                with contextlib.suppress(Conflict):
                    await self.stop_load(job)
        runs = [run.task for run in list(self.runs.values())]
        for task in runs:
            task.cancel()
        await asyncio.gather(*runs, return_exceptions=True)
        for cp_id in list(self.charge_points):
            with contextlib.suppress(Exception):
                await self.delete(cp_id)
        self.events.close()


def _brief(served: ServedChargePoint) -> dict[str, Any]:
    registration = served.driver.station.registration
    return {
        "csms_url": without_credentials(served.csms_url),
        "registration": registration.value if registration else None,
        "link": served.driver.link.value,
    }


def _load_figures(stats: LoadStats) -> dict[str, Any]:
    data = stats.to_dict(timeline=False)
    return {"summary": data["summary"], "connections": data["connections"]}


def _shown(text: str | None, folder: Path | None) -> str | None:
    """``text`` with the uploads' folder left out of file names: they are shown as uploaded."""
    if text is None or folder is None:
        return text
    return text.replace(f"{folder}{os.sep}", "")


def _name_uploads(outcome: RunOutcome, folder: Path) -> None:
    for scenario in outcome.scenarios:
        scenario.file = _shown(scenario.file, folder) or ""
        scenario.error = _shown(scenario.error, folder)
        for step in scenario.steps:
            step.location = _shown(step.location, folder) or ""
            step.message = _shown(step.message, folder)


_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\.ya?ml$")


def _uploads(files: list[UploadedFile], job: str) -> Path:
    """The uploaded scenario files, written to a folder of the job's own."""
    folder = Path(tempfile.mkdtemp(prefix=f"mockpoint-{job}-"))
    seen: set[str] = set()
    for index, upload in enumerate(files):
        if not _SAFE_NAME.match(upload.name):
            shutil.rmtree(folder, ignore_errors=True)
            raise UsageError(
                f"files.{index}.name: {upload.name!r} is not a file name ending .yaml or .yml "
                "(letters, digits, '.', '_', '-')"
            )
        if upload.name in seen:
            shutil.rmtree(folder, ignore_errors=True)
            raise UsageError(f"files.{index}.name: {upload.name!r} is uploaded twice")
        seen.add(upload.name)
        (folder / upload.name).write_text(upload.content, encoding="utf-8")
    return folder


__all__ = ["Conflict", "ConnectError", "Hub", "NotFound"]

"""mockpoint from Python: a simulated charge point as an async context manager, scenario
files run programmatically, and (re-exported from :mod:`mockpoint.csms`) the mock CSMS.

::

    async with mockpoint.MockCsms() as csms:
        async with mockpoint.charge_point(csms.url, "CP-1") as cp:   # connects and boots
            await cp.plug_in(1)
            tx = await cp.start_transaction(1, "TAG-001")
            await cp.charge(1, "11kW", "30m")
            await cp.stop_transaction(1)

The charge point is the one ``mockpoint run``, ``load`` and ``shell`` drive: the same
:class:`~mockpoint.station.Station` model and :class:`~mockpoint.runtime.ChargePoint` driver,
its frames validated both ways. Time is virtual and, by default, at speed 0: ``charge`` and
``wait`` take no real time and heartbeats fall due only as virtual time passes.

As with ``mockpoint run`` against a CSMS it names, a charge point's clock starts at the
wall-clock time and its seed is drawn fresh unless ``start`` and ``seed`` pin them
(:attr:`SimulatedChargePoint.seed` tells the one drawn, to replay a session): a CSMS sees
new message ids in every session, as from a real charge point.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pydantic

from mockpoint.assembly import Target, assemble, new_clock
from mockpoint.errors import StepError, UsageError
from mockpoint.ids import SeededIds
from mockpoint.runtime.charge_point import ChargePoint, Observer, Received, WireObserver
from mockpoint.scenario import model
from mockpoint.scenario.driver import feature
from mockpoint.scenario.loader import load_paths
from mockpoint.scenario.outcome import RunOutcome, ScenarioOutcome, Status, StepOutcome
from mockpoint.scenario.runner import RunOptions, run_scenarios
from mockpoint.scenario.stepping import NO_FRAMES, Frames, run_steps
from mockpoint.scenario.steps import StepContext, describe, station_state
from mockpoint.station.station import Message
from mockpoint.transport.websocket import check_csms_url

__all__ = [
    "SimulatedChargePoint",
    "StepError",
    "charge_point",
    "run_scenario",
    "run_scenario_files",
]

_STEP: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(model.Step)


class SimulatedChargePoint:
    """A connected charge point, driven with the verbs of the scenario format."""

    def __init__(
        self, driver: ChargePoint, timeout: float, frames: Frames, *, seed: int | None = None
    ) -> None:
        self.driver = driver
        self.station = driver.station
        self.timeout = timeout
        #: the seed of the charge point's message ids (``charge_point(seed=...)`` replays it)
        self.seed = seed
        self._frames = frames
        self._context = StepContext(driver, driver.station, timeout)
        self._inbox = 0

    @property
    def id(self) -> str:
        return self.station.identity.charge_point_id

    @property
    def connected(self) -> bool:
        return self.driver.connected

    @property
    def state(self) -> dict[str, Any]:
        """What a scenario's ``expect_state`` sees: connectors (status, error_code,
        plugged, transaction_id, id_tag, energy_wh), configuration, connected,
        registration."""
        return station_state(self.driver)

    # --- the session -------------------------------------------------------------------------

    async def boot(self) -> str:
        """Until the CSMS accepts a BootNotification (Pending and Rejected are retried as
        OCPP 1.6 §4.2 says); returns the registration status."""
        try:
            await self.driver.wait_registered(self.timeout)
        except TimeoutError:
            status = self.station.registration
            raise StepError(
                f"the CSMS did not accept the boot within {self.timeout:g} s "
                f"(last answer: {status.value if status else 'none'})"
            ) from None
        await self._settle()
        return "Accepted"

    async def send(self, action: str, payload: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Send any charge-point request; returns the CSMS's answer payload. A CALLERROR
        raises :class:`~mockpoint.errors.CallErrorReceived`."""
        message = self.station.send(action, dict(payload or {}))
        return await self._answer(message)

    async def authorize(self, id_tag: str) -> dict[str, Any]:
        return await self._answer(self.station.authorize(id_tag))

    async def start_transaction(self, connector: int = 1, id_tag: str | None = None) -> int:
        """StartTransaction (§4.8); returns the transactionId the CSMS gave."""
        answer = await self._answer(self.station.start_transaction(connector, id_tag))
        await self._settle()
        return int(answer["transactionId"])

    async def stop_transaction(self, connector: int = 1, reason: str = "Local") -> dict[str, Any]:
        answer = await self._answer(self.station.stop_transaction(connector, reason))
        await self._settle()
        return answer

    async def plug_in(self, connector: int = 1) -> None:
        await self._step({"plug_in": {"connector": connector}})

    async def unplug(self, connector: int = 1) -> None:
        await self._step({"unplug": {"connector": connector}})

    async def charge(
        self, connector: int, power: float | str, duration: float | str | None = None
    ) -> None:
        """Draw ``power`` (watts, or ``"11kW"``) for ``duration`` (seconds, or ``"30m"``)
        of virtual time; MeterValues go out as the configuration says. Without ``duration``
        the EV goes on drawing while other connectors charge and time passes (a background
        charge, as in a scenario); ``power`` 0 pauses it."""
        spec: dict[str, Any] = {"connector": connector, "power": power}
        if duration is not None:
            spec["duration"] = duration
        await self._step({"charge": spec})

    async def fault(self, connector: int, error_code: str, info: str | None = None) -> None:
        spec: dict[str, Any] = {"connector": connector, "error_code": error_code}
        if info is not None:
            spec["info"] = info
        await self._step({"fault": spec})

    async def clear_fault(self, connector: int = 1) -> None:
        await self._step({"clear_fault": {"connector": connector}})

    async def wait(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass (timers fire on the way)."""
        await self.driver.advance(seconds)

    async def wait_for(self, action: str, timeout: float = 30.0) -> Received:
        """The next request ``action`` of the CSMS (one not waited for before), once the
        charge point has answered it; raises TimeoutError after ``timeout`` real seconds."""
        async with asyncio.timeout(timeout):
            while True:
                received = self.driver.received
                for index in range(self._inbox, len(received)):
                    if received[index].call.action == action:
                        self._inbox = index + 1
                        while received[index].response is None and received[index].error is None:
                            await asyncio.sleep(0)
                        return received[index]
                self._inbox = len(received)
                await self.driver.wait_received(len(received))

    async def disconnect(self) -> None:
        """Go offline: transaction messages queue until :meth:`reconnect` (§4.7, §4.10)."""
        await self.driver.go_offline()

    async def reconnect(self) -> None:
        await self.driver.reconnect()

    # --- internals ---------------------------------------------------------------------------

    async def _answer(self, message: Message) -> dict[str, Any]:
        async with asyncio.timeout(self.timeout + 1):  # the call's own timeout fires first
            return await self.driver.outcome(message)

    async def _settle(self) -> None:
        async with asyncio.timeout(self.timeout):
            await self.driver.wait_idle()

    async def _step(self, data: dict[str, Any]) -> None:
        """One scenario step, run by the scenario runner's own code."""
        try:
            step = _STEP.validate_python(data)
        except pydantic.ValidationError as exc:
            raise UsageError(str(exc)) from None
        failures: list[StepOutcome] = []

        def finished(result: StepOutcome) -> None:
            if result.status is Status.FAILED:
                failures.append(result)

        await run_steps(
            self._context,
            [step],
            self._frames,
            finished,
            labels=[("api", describe(step))],
        )
        if failures:
            raise StepError(f"{failures[0].label}: {failures[0].message}")


@contextlib.asynccontextmanager
async def charge_point(
    url: str,
    charge_point_id: str = "CP-1",
    *,
    connectors: int = 1,
    configuration: Mapping[str, object] | None = None,
    vendor: str = "mockpoint",
    model_name: str = "Simulator",
    speed: float = 0.0,
    start: float | None = None,
    seed: int | None = None,
    timeout: float = 30.0,
    connect_timeout: float = 10.0,
    security_profile: int = 0,
    password: str | None = None,
    boot: bool = True,
    observer: Observer | WireObserver | None = None,
) -> AsyncIterator[SimulatedChargePoint]:
    """Connect a simulated charge point to the CSMS at ``url`` (its id is appended, or put
    where the URL says ``{id}``) and, with ``boot``, wait until the CSMS accepts its
    BootNotification.

    ``configuration`` sets configuration keys as a scenario's ``charge_point.configuration``
    does; ``security_profile`` 1 or 2 with ``password`` adds HTTP Basic authentication (2 and
    3 need a ``wss://`` URL). ``start`` (Unix seconds) and ``seed`` pin the virtual clock's
    start and the message ids' seed; by default the clock starts now and the seed is drawn
    fresh (the charge point's ``seed`` tells which). ``observer`` sees every frame
    (``frame(direction, text)``, and ``violation(event)`` if it has one: see
    :class:`~mockpoint.runtime.charge_point.Observer`). Raises
    :class:`~mockpoint.errors.UsageError` for a URL that is not ws:// or wss://,
    :class:`~mockpoint.errors.ConnectError` when the CSMS cannot be reached.
    """
    check_csms_url(url, "charge_point(url)")
    pinned = None if start is None else datetime.fromtimestamp(start, UTC)
    try:
        spec = model.ChargePointSpec(
            id=charge_point_id,
            connectors=connectors,
            vendor=vendor,
            model=model_name,
            configuration=dict(configuration or {}),
        )
        security = (
            model.CsmsTarget(url=url, security_profile=security_profile, password=password)
            if security_profile or password is not None
            else None
        )
    except pydantic.ValidationError as exc:
        # Not str(exc): pydantic's text repeats the input, the password with it.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
            for e in exc.errors(include_input=False)
        )
        raise UsageError(f"charge_point(): {problems}") from None
    seed, clock = new_clock(model.ClockSpec(start=pinned, speed=speed), seed, embedded=False)
    driver = assemble(
        spec,
        charge_point_id,
        clock,
        Target(url, security, source="charge_point()"),
        ids=SeededIds(seed),
        call_timeout=timeout,
        connect_timeout=connect_timeout,
        observer=observer,
    )
    await driver.start(auto_boot=boot)
    try:
        simulated = SimulatedChargePoint(driver, timeout, NO_FRAMES, seed=seed)
        if boot:
            await simulated.boot()
        yield simulated
    finally:
        await driver.stop()


async def run_scenario_files(
    paths: Sequence[str | Path],
    *,
    csms_url: str | None = None,
    variables: Mapping[str, Any] | None = None,
    charge_point_id: str | None = None,
    seed: int | None = None,
    csms_driver: str | None = None,
    csms_lacks: Sequence[str] = (),
) -> RunOutcome:
    """Run scenario files (or every ``*.yaml`` below folders) as ``mockpoint run`` does;
    an invalid file raises :class:`~mockpoint.scenario.loader.ScenarioError` before any
    runs. Without ``csms_url`` (or a ``csms`` in the file) each gets an embedded mock CSMS.
    ``seed`` pins every scenario's seed, as ``--seed`` does (each outcome's ``seed`` says
    which one it ran with). ``csms_driver`` and ``csms_lacks`` are ``--csms-driver`` and
    ``--csms-lacks`` (docs/csms-driver.md); a scenario that needs the CSMS to act on a
    prompt runs only with a driver (no one is at a terminal here).
    """
    if csms_url is not None and "${" not in csms_url:
        check_csms_url(csms_url, "csms_url")
    try:
        lacks = tuple(feature(name) for name in csms_lacks)
    except ValueError as exc:
        raise UsageError(f"csms_lacks: unknown feature or action {exc}") from None
    items = load_paths(list(paths))
    options = RunOptions(
        csms_url=csms_url,
        variables=dict(variables or {}),
        charge_point_id=charge_point_id,
        seed=seed,
        csms_driver=csms_driver,
        csms_lacks=lacks,
    )
    return await run_scenarios(items, options)


async def run_scenario(
    path: str | Path,
    *,
    csms_url: str | None = None,
    variables: Mapping[str, Any] | None = None,
    charge_point_id: str | None = None,
    seed: int | None = None,
    csms_driver: str | None = None,
    csms_lacks: Sequence[str] = (),
) -> ScenarioOutcome:
    """One scenario file's outcome (``.status``, ``.steps``, ``.frames``, ``.error``,
    ``.reason``, ``.seed``)."""
    run = await run_scenario_files(
        [path],
        csms_url=csms_url,
        variables=variables,
        charge_point_id=charge_point_id,
        seed=seed,
        csms_driver=csms_driver,
        csms_lacks=csms_lacks,
    )
    if len(run.scenarios) != 1:
        raise UsageError(f"{path}: expected one scenario file, found {len(run.scenarios)}")
    return run.scenarios[0]

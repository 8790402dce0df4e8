"""Each step kind as an async function of a :class:`StepContext`.

A step either returns (passed) or raises :class:`StepFailed` with what was expected and
what arrived. Time: ``wait`` and ``charge`` move virtual time; every wait on the CSMS is
bounded by real seconds (the step's ``timeout``, else the scenario's; ``within`` for
``await``).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockpoint.errors import (
    OCPP_ERRORS,
    CallErrorReceived,
    CallTimeout,
    ConnectionLost,
    ErrorCode,
    GenericOcppError,
    LocalProtocolError,
    MockpointError,
    NotApplicable,
    OcppError,
    Refused,
    RemoteProtocolError,
    StepFailed,
    UsageError,
)
from mockpoint.errors import StepCause as Cause
from mockpoint.ocpp16.enums import AuthorizationStatus
from mockpoint.ocpp16.secrets import redact_payload
from mockpoint.rpc.frames import Call, CallError, CallResult, readable_id
from mockpoint.runtime.charge_point import ChargePoint
from mockpoint.scenario import model
from mockpoint.scenario.driver import CsmsDriver, DriverAnswer, describe_request
from mockpoint.scenario.matchers import UnknownVariable, extract, match, resolve
from mockpoint.scenario.reports.console import NullReporter, Reporter
from mockpoint.scenario.reports.text import compact
from mockpoint.station.handlers import handle
from mockpoint.station.station import Message, Station


@dataclass(slots=True)  # a load run holds thousands
class StepContext:
    cp: ChargePoint
    station: Station
    #: the scenario's default real-time wait for the CSMS
    timeout: float
    variables: dict[str, Any] = field(default_factory=dict)
    #: index into ``cp.received`` of the first request an ``await`` may still take
    inbox_cursor: int = 0
    reporter: Reporter = field(default_factory=NullReporter)
    #: replaces ``within`` of awaits that have a prompt (someone acts on the CSMS's side)
    wait_for_csms: float | None = None
    #: show ``await`` prompts (not against the embedded CSMS, which needs no one)
    show_prompts: bool = False
    #: makes the CSMS act when an ``await`` waits (not with the embedded CSMS; driver.py)
    driver: CsmsDriver | None = None
    #: the scenario's name and file, for the driver's description
    scenario_name: str = ""
    scenario_file: str = ""
    #: the ``await`` listening for the request it replies to (see :class:`Armed`)
    armed: Armed | None = None
    #: how many of ``cp.problems`` the current step answers for, when its condition was
    #: met before the last of them came (its awaited request arrived, the station went
    #: idle); the rest belong to the steps after it (runner.py)
    problems_until: int | None = None
    #: where the next step's problems start, when the last step left some to it
    problems_carry: int | None = None
    #: the payload of the last answer an exchange step got (a CALLRESULT's, or
    #: ``{"code", "description", "details"}`` of a CALLERROR), for ``mockpoint serve``
    answer: Any = None
    #: where ``${NAME}`` looks after the saved variables (none for ``mockpoint serve``, whose
    #: clients must not read the server's environment)
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)

    def timeout_of(self, step: model.StepBase) -> float:
        return step.timeout if step.timeout is not None else self.timeout

    def resolve(self, value: Any) -> Any:
        try:
            return resolve(value, self.variables, self.env)
        except UnknownVariable as exc:
            raise StepFailed(str(exc), cause=Cause.INVALID) from None

    async def settle(self, step: model.StepBase, capture: Callable[[], Any] | None = None) -> Any:
        """Until everything the station queued is sent and answered; what ``capture``
        returned at that moment (the CSMS may have acted again since)."""
        seconds = self.timeout_of(step)
        try:
            async with asyncio.timeout(seconds):
                moment = await self.cp.wait_idle(capture)
        except TimeoutError:
            in_flight = self.cp.in_flight_action
            waiting = f" (waiting for the answer to {in_flight})" if in_flight else ""
            raise StepFailed(
                f"the station was still busy after {seconds:g} s{waiting}", cause=Cause.TIMEOUT
            ) from None
        self.problems_until = moment.problems
        return moment.captured


# --- exchanges: one request, its answer checked ---------------------------------------------


async def _exchange(ctx: StepContext, step: model._Exchange, message: Message) -> dict[str, Any]:
    """Send ``message`` and check its answer against ``expect`` / ``expect_error``."""
    seconds = ctx.timeout_of(step)
    message.timeout = seconds
    waits = step.expect is not None or step.expect_error is not None or bool(step.save)
    ctx.answer = None
    if message.response is None and not ctx.cp.connected and not waits:
        return {}  # offline: queued for delivery once back online; nothing to check now
    try:
        # The call's own timeout fires first; this one, if it was never sent.
        response = await ctx.cp.outcome(message, within=seconds + 1)
    except CallErrorReceived as exc:
        ctx.answer = {"code": exc.code, "description": exc.description, "details": exc.details}
        return _expected_error(step, message.action, exc)
    except CallTimeout:
        raise StepFailed(
            f"no answer to {message.action} within {seconds:g} s", cause=Cause.TIMEOUT
        ) from None
    except TimeoutError:
        raise StepFailed(
            f"{message.action} was not sent within {seconds:g} s", cause=Cause.TIMEOUT
        ) from None
    except RemoteProtocolError as exc:
        raise StepFailed(f"the CSMS broke the protocol: {exc}") from None
    except LocalProtocolError as exc:
        raise StepFailed(
            f"not sent: {exc} (a step that means to send it says `invalid: true`)",
            cause=Cause.INVALID,
        ) from None
    except ConnectionLost as exc:
        raise StepFailed(f"{message.action} not answered: {exc}") from None
    ctx.answer = response
    if step.expect_error is not None:
        raise StepFailed(
            f"expected CALLERROR {step.expect_error}, got a CALLRESULT",
            expected={"CALLERROR": step.expect_error},
            actual=response,
        )
    _check(ctx, step.expect, response, f"{message.action} answer")
    _save(ctx, step.save, response)
    return response


def _expected_error(step: model._Exchange, action: str, exc: CallErrorReceived) -> dict[str, Any]:
    got = ErrorCode.parse(exc.code) or exc.code
    if step.expect_error is None:
        raise StepFailed(
            f"the CSMS answered {action} with CALLERROR {exc.code}: {exc.description}",
            expected=step.expect or "a CALLRESULT",
            actual={"code": exc.code, "description": exc.description, "details": exc.details},
        )
    wanted = ErrorCode.parse(step.expect_error) or step.expect_error
    if wanted != got:
        raise StepFailed(
            f"expected CALLERROR {step.expect_error}, got CALLERROR {exc.code}",
            expected=step.expect_error,
            actual=exc.code,
        )
    return {}


def _check(ctx: StepContext, expected: Any, actual: Any, what: str, shown: Any = None) -> None:
    """Fail unless ``actual`` matches ``expected``; the failure shows ``shown`` (``actual``
    with its secrets masked) when given."""
    if expected is None:
        return
    wanted = ctx.resolve(expected)
    problems = match(wanted, actual)
    if problems:
        raise StepFailed(
            f"{what} does not match: " + "; ".join(problems),
            expected=wanted,
            actual=actual if shown is None else shown,
        )


def _save(ctx: StepContext, save: dict[str, str] | None, data: Any) -> None:
    for name, path in (save or {}).items():
        try:
            ctx.variables[name] = extract(data, path)
        except KeyError as exc:
            raise StepFailed(f"save {name}: {exc.args[0]}", actual=data) from None


def _station(call: Callable[[], Any]) -> Any:
    """Run a station operation; what the model refuses fails the step."""
    try:
        return call()
    except Refused as exc:
        raise StepFailed(str(exc), cause=Cause.REFUSED) from None
    except UsageError as exc:
        raise StepFailed(str(exc), cause=Cause.INVALID) from None
    except MockpointError as exc:
        raise StepFailed(str(exc), cause=Cause.REFUSED) from None


async def send(ctx: StepContext, step: model.SendStep) -> None:
    payload = ctx.resolve(step.payload)
    message = _station(lambda: ctx.station.send(step.send, payload, validate=not step.invalid))
    await _exchange(ctx, step, message)


async def authorize(ctx: StepContext, step: model.AuthorizeStep) -> None:
    id_tag = ctx.resolve(step.authorize.id_tag)
    await _exchange(ctx, step, _station(lambda: ctx.station.authorize(id_tag)))


async def start_transaction(ctx: StepContext, step: model.StartTransactionStep) -> None:
    spec = step.start_transaction
    id_tag = ctx.resolve(spec.id_tag) if spec.id_tag else None
    message = _station(
        lambda: ctx.station.start_transaction(
            spec.connector, id_tag, reservation_id=spec.reservation_id
        )
    )
    await _exchange(ctx, step, message)
    await ctx.settle(step)


async def stop_transaction(ctx: StepContext, step: model.StopTransactionStep) -> None:
    spec = step.stop_transaction
    message = _station(lambda: ctx.station.stop_transaction(spec.connector, spec.reason))
    await _exchange(ctx, step, message)
    await ctx.settle(step)


# --- station steps ----------------------------------------------------------------------------


async def plug_in(ctx: StepContext, step: model.PlugInStep) -> None:
    _station(lambda: ctx.station.plug_in(step.plug_in.connector))
    await ctx.settle(step)


async def unplug(ctx: StepContext, step: model.UnplugStep) -> None:
    _station(lambda: ctx.station.unplug(step.unplug.connector))
    await ctx.settle(step)


async def fault(ctx: StepContext, step: model.FaultStep) -> None:
    spec = step.fault
    _station(
        lambda: ctx.station.fault(
            spec.connector, spec.error_code, spec.info, spec.vendor_error_code
        )
    )
    await ctx.settle(step)


async def clear_fault(ctx: StepContext, step: model.ClearFaultStep) -> None:
    _station(lambda: ctx.station.clear_fault(step.clear_fault.connector))
    await ctx.settle(step)


async def set_availability(ctx: StepContext, step: model.SetAvailabilityStep) -> None:
    spec = step.set_availability
    operative = spec.type == "Operative"
    targets = list(ctx.station.connectors) if spec.connector == 0 else [spec.connector]
    _station(lambda: ctx.station.set_availability(targets, operative))
    await ctx.settle(step)


def _draw(ctx: StepContext, connector: int, watts: float) -> None:
    """The EV on ``connector`` draws ``watts`` from now on (docs/scenario-format.md,
    ``charge``)."""
    if connector not in ctx.station.transactions:
        raise StepFailed(
            f"connector {connector} has no transaction to charge in", cause=Cause.REFUSED
        )
    state = ctx.station.connectors[connector]
    if watts > 0 and not state.plugged:
        # Unplugged during a transaction that goes on (StopTransactionOnEVSideDisconnect
        # false): there is no EV to draw power until a cable is plugged in again.
        raise StepFailed(
            f"connector {connector} has no EV plugged in (plug_in first)", cause=Cause.REFUSED
        )
    if watts > 0 and state.evse_suspended:
        # OCPP 1.6 §4.10: a transaction whose id tag the Central System did not accept goes
        # on (StopTransactionOnInvalidId false), but the charge point delivers no energy.
        raise StepFailed(
            f"connector {connector} is SuspendedEVSE: it offers the EV no energy",
            cause=Cause.REFUSED,
        )
    _station(lambda: ctx.station.set_power(connector, watts))


async def _charge(
    ctx: StepContext, step: model.StepBase, connector: int, watts: float, seconds: float
) -> None:
    """A foreground charge: ``watts`` for ``seconds`` of virtual time, then nothing."""
    _draw(ctx, connector, watts)
    await ctx.cp.advance(seconds)
    # The EV draws power only during the step: what follows sees no hidden energy. Other
    # connectors' background charges go on.
    if connector in ctx.station.transactions:
        ctx.station.set_power(connector, 0)
    await ctx.settle(step)


async def charge(ctx: StepContext, step: model.ChargeStep) -> None:
    """A foreground charge with ``duration``; without it a background charge, which goes on
    drawing while later steps run until the transaction stops, the cable is unplugged or
    another ``charge`` on the connector sets a new power."""
    spec = step.charge
    if spec.duration is None:
        _draw(ctx, spec.connector, spec.power)
        await ctx.settle(step)
        return
    await _charge(ctx, step, spec.connector, spec.power, spec.duration)


async def session(ctx: StepContext, step: model.SessionStep) -> None:
    """Plug in, authorize, start, charge, stop, unplug (docs/scenario-format.md, ``session``)."""
    spec = step.session
    id_tag = ctx.resolve(spec.id_tag)
    accepted = {"idTagInfo": {"status": AuthorizationStatus.ACCEPTED.value}}
    exchange = model.AuthorizeStep(authorize=model.IdTag(id_tag=id_tag), expect=accepted)
    exchange = exchange.model_copy(update={"timeout": step.timeout})
    _station(lambda: ctx.station.plug_in(spec.connector))
    await _exchange(ctx, exchange, _station(lambda: ctx.station.authorize(id_tag)))
    start = _station(lambda: ctx.station.start_transaction(spec.connector, id_tag))
    await _exchange(ctx, exchange, start)
    await ctx.settle(step)
    await _charge(ctx, step, spec.connector, spec.power, spec.duration)
    stop = _station(lambda: ctx.station.stop_transaction(spec.connector, spec.reason))
    await _exchange(ctx, exchange.model_copy(update={"expect": None}), stop)
    _station(lambda: ctx.station.unplug(spec.connector))
    await ctx.settle(step)


async def disconnect(ctx: StepContext, step: model.DisconnectStep) -> None:
    await ctx.cp.go_offline(step.disconnect.reconnect_after)


async def reconnect(ctx: StepContext, step: model.ReconnectStep) -> None:
    if not ctx.cp.offline:
        raise StepFailed(
            "the charge point is not offline (no `disconnect` before)", cause=Cause.REFUSED
        )
    try:
        async with asyncio.timeout(ctx.timeout_of(step)):
            await ctx.cp.reconnect()
    except TimeoutError:
        raise StepFailed("could not reconnect in time", cause=Cause.TIMEOUT) from None
    await ctx.settle(step)


# --- faults -----------------------------------------------------------------------------------

RawOutcome = CallResult | CallError | ConnectionLost | None


def _describe_outcome(outcome: RawOutcome) -> str:
    if isinstance(outcome, CallError):
        return f"answered CALLERROR {outcome.error_code}: {outcome.error_description}"
    if isinstance(outcome, CallResult):
        return f"answered CALLRESULT {compact(outcome.payload)}"
    if isinstance(outcome, ConnectionLost):
        return f"closed the connection ({outcome})"
    return "did nothing"


def _check_fault(ctx: StepContext, step: model._FaultStep, outcome: RawOutcome) -> None:
    expected = step.expect
    if expected is None:
        return
    problem = None
    if expected.callerror is not None:
        wanted = ErrorCode.parse(expected.callerror) or expected.callerror
        got = ErrorCode.parse(outcome.error_code) if isinstance(outcome, CallError) else None
        if got is None or got != wanted:
            problem = f"expected CALLERROR {expected.callerror}"
    elif expected.result is not None:
        if not isinstance(outcome, CallResult):
            problem = "expected a CALLRESULT"
        elif mismatches := match(ctx.resolve(expected.result), outcome.payload):
            problem = "the CALLRESULT does not match: " + "; ".join(mismatches)
    elif expected.close not in (None, False):
        if not isinstance(outcome, ConnectionLost):
            problem = "expected the CSMS to close the connection"
        elif isinstance(expected.close, model.CloseExpectation) and expected.close.code:
            found = re.search(r"code (\d+)", str(outcome))
            if found is None or int(found.group(1)) != expected.close.code:
                problem = f"expected a close with code {expected.close.code}"
    elif expected.nothing and outcome is not None:
        problem = "expected the CSMS to do nothing"
    if problem is not None:
        raise StepFailed(
            f"{problem}; it {_describe_outcome(outcome)}",
            expected=expected.model_dump(exclude_none=True),
            actual=_describe_outcome(outcome),
        )


async def _raw(
    ctx: StepContext, step: model.StepBase, text: str, answer_id: str | None
) -> RawOutcome:
    try:
        return await ctx.cp.raw_exchange(text, answer_id, ctx.timeout_of(step))
    except ConnectionLost as exc:
        raise StepFailed(f"not sent: {exc}") from None


async def send_raw(ctx: StepContext, step: model.SendRawStep) -> None:
    await ctx.settle(step)
    text = ctx.resolve(step.send_raw)
    if step.expect is None:
        await ctx.cp.send_raw(text)
        return
    _check_fault(ctx, step, await _raw(ctx, step, text, readable_id(text)))


async def ignore(ctx: StepContext, step: model.IgnoreStep) -> None:
    ctx.cp.faults.add_ignore(step.ignore, step.count)


async def delay(ctx: StepContext, step: model.DelayStep) -> None:
    spec = step.delay
    ctx.cp.faults.add_delay(spec.action, spec.by, spec.count)


async def drop(ctx: StepContext, step: model.DropStep) -> None:
    spec = step.drop
    ctx.cp.faults.add_drop(spec.direction, spec.action, spec.count)


async def close(ctx: StepContext, step: model.CloseStep) -> None:
    await ctx.settle(step)
    try:
        async with asyncio.timeout(ctx.timeout_of(step)):
            await ctx.cp.close_connection(step.close.code, step.close.reason)
    except TimeoutError:
        raise StepFailed("could not reconnect after closing the connection") from None
    await ctx.settle(step)


async def duplicate(ctx: StepContext, step: model.DuplicateStep) -> None:
    """The same CALL twice with the same unique id, the second after the first's answer."""
    await ctx.settle(step)
    payload = ctx.station.default_payload(
        step.duplicate.action, ctx.resolve(step.duplicate.payload)
    )
    unique_id, text = ctx.cp.call_text(step.duplicate.action, payload)
    first = await _raw(ctx, step, text, unique_id)
    if isinstance(first, ConnectionLost):
        raise StepFailed(f"the CSMS {_describe_outcome(first)} at the first copy")
    _check_fault(ctx, step, await _raw(ctx, step, text, unique_id))


async def violate_one_call_rule(ctx: StepContext, step: model.ViolateOneCallRuleStep) -> None:
    """Two CALLs back to back: the second goes out before the first is answered."""
    await ctx.settle(step)
    calls = [
        ctx.cp.call_text(action, ctx.station.default_payload(action, {}))
        for action in step.violate_one_call_rule.actions
    ]
    (first_id, first_text), (second_id, second_text) = calls
    await ctx.cp.send_raw_expecting(first_text, first_id)
    _check_fault(ctx, step, await _raw(ctx, step, second_text, second_id))


async def wait(ctx: StepContext, step: model.WaitStep) -> None:
    await ctx.cp.advance(step.wait)
    await ctx.settle(step)


# --- CSMS-initiated requests -------------------------------------------------------------------


@dataclass
class Armed:
    """An ``await`` that shapes its reply, listening before its step runs: the step before it
    may trigger the request, which can then arrive before the ``await`` starts."""

    step: model.AwaitStep
    claimed: Call | None = None


def shapes_reply(step: model.StepBase) -> bool:
    return isinstance(step, model.AwaitStep) and (
        step.reply is not None or step.reply_error is not None
    )


def arm(ctx: StepContext, step: model.AwaitStep) -> None:
    """Let ``step`` claim the next request of its action from now on (see :class:`Armed`)."""
    armed = Armed(step)
    ctx.armed = armed

    def intercept(call: Call) -> dict[str, Any] | None:
        if call.action != step.await_ or armed.claimed is not None:
            return None
        armed.claimed = call
        return _shaped_reply(ctx, step, call)

    ctx.cp.interceptor = intercept


async def await_request(ctx: StepContext, step: model.AwaitStep) -> None:
    """Take the oldest matching request since the previous ``await``, or wait for one.

    With ``reply`` / ``reply_error`` the step takes the first request of its action that
    arrived since it was armed (by the runner, as the step before it started) and shapes
    its answer; one answered by the station model before that fails the step.
    """
    action = step.await_
    seconds = step.within if step.within is not None else ctx.timeout_of(step)
    if step.prompt and ctx.wait_for_csms is not None:
        seconds = ctx.wait_for_csms
    armed: Armed | None = None
    if shapes_reply(step):
        if ctx.armed is None or ctx.armed.step is not step:
            arm(ctx, step)
        armed = ctx.armed

    def find() -> int | None:
        if armed is None:
            return _find(ctx, action)
        if armed.claimed is None:
            return None
        return next(i for i, r in enumerate(ctx.cp.received) if r.call is armed.claimed)

    try:
        if armed is not None and armed.claimed is None and _find(ctx, action) is not None:
            raise StepFailed(
                f"{action} arrived before this step and the one before it, and was already "
                "answered by the station model; `reply` shapes a request that arrives later"
            )
        if (index := find()) is None:
            index = await _wait_for_request(ctx, step, find, seconds)
    finally:
        if armed is not None:
            ctx.cp.interceptor = None
            ctx.armed = None
    record = ctx.cp.received[index]
    ctx.inbox_cursor = index + 1
    ctx.problems_until = record.problems_at
    # A request mockpoint does not implement was answered NotSupported, as it must be: the
    # CSMS did send it, which is what the step asserts.
    if record.error is not None and armed is None and not record.not_supported:
        raise StepFailed(
            f"{action} was answered with CALLERROR {record.error.code}: {record.error}",
            actual=redact_payload(action, record.call.payload),
        )
    # A request's AuthorizationKey is never shown (ocpp16/secrets.py).
    shown = redact_payload(action, record.call.payload)
    _check(ctx, step.expect, record.call.payload, f"{action} request", shown)
    _save(ctx, step.save, record.call.payload)


async def _wait_for_request(
    ctx: StepContext, step: model.AwaitStep, find: Callable[[], int | None], seconds: float
) -> int:
    """Wait up to ``seconds`` for the request ``find`` finds, asking the CSMS driver (if
    any) to make the CSMS send it. A driver that fails, or says the CSMS lacks the feature,
    ends the wait at once; one that is done leaves the step waiting for the request."""
    action = step.await_
    prompt = ctx.resolve(step.prompt) if step.prompt else None
    if ctx.show_prompts:
        ctx.reporter.waiting(action, prompt, seconds, driven=ctx.driver is not None)
    driving: asyncio.Task[DriverAnswer] | None = None
    if ctx.driver is not None:
        description = describe_request(
            step,
            scenario=ctx.scenario_name,
            file=ctx.scenario_file,
            station=ctx.station,
            variables=ctx.variables,
            seconds=seconds,
            example=ctx.driver.example(action),
        )
        driving = ctx.driver.start(description, seconds)
    answer: DriverAnswer | None = None
    try:
        async with asyncio.timeout(seconds):
            while (index := find()) is None:
                arrival = asyncio.ensure_future(ctx.cp.wait_received(len(ctx.cp.received)))
                waits: set[asyncio.Future[Any]] = {arrival}
                if driving is not None:
                    waits.add(driving)
                try:
                    await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    arrival.cancel()
                if driving is not None and driving.done() and find() is None:
                    answer = driving.result()
                    driving = None
                    if answer.verdict == "not_applicable":
                        raise NotApplicable(answer.detail)
                    if answer.verdict == "failed":
                        raise StepFailed(
                            f"{answer.detail}\n(no {action} from the CSMS yet)",
                            expected=action,
                            actual=_seen(ctx) or "no request",
                        )
    except TimeoutError:
        if driving is not None:
            driving.cancel()
            why = f"; the CSMS driver had not returned after {seconds:g} s (stopped)"
        elif answer is not None:
            why = f" (the CSMS driver was done after {answer.seconds:.1f} s)"
        else:
            why = ""
        raise StepFailed(
            f"no {action} from the CSMS within {seconds:g} s{why}",
            expected=action,
            actual=_seen(ctx) or "no request",
            cause=Cause.TIMEOUT,
        ) from None
    return index


def _seen(ctx: StepContext) -> list[str]:
    return [r.call.action for r in ctx.cp.received[ctx.inbox_cursor :]]


def _find(ctx: StepContext, action: str) -> int | None:
    for index in range(ctx.inbox_cursor, len(ctx.cp.received)):
        if ctx.cp.received[index].call.action == action:
            return index
    return None


def _shaped_reply(ctx: StepContext, step: model.AwaitStep, call: Call) -> dict[str, Any]:
    """The answer ``reply`` / ``reply_error`` asks for.

    A reply whose ``status`` is Accepted (or that has no status) lets the station carry out
    the request, so that an Accepted RemoteStartTransaction does start a transaction; any
    other reply is sent without effects.
    """
    if step.reply_error is not None:
        spec = step.reply_error
        code, description = (spec, "") if isinstance(spec, str) else (spec.code, spec.description)
        known = ErrorCode.parse(code)
        error_type = OCPP_ERRORS.get(known, GenericOcppError) if known else GenericOcppError
        raise error_type(description or f"{code} (scenario reply_error)")
    reply = ctx.resolve(step.reply)
    assert isinstance(reply, dict)
    if reply.get("status", "Accepted") == "Accepted":
        try:
            handle(ctx.station, call.action, call.payload)
        except OcppError:
            pass  # the scenario's reply stands
    return reply


# --- assertions on the station -----------------------------------------------------------------


async def expect_state(ctx: StepContext, step: model.ExpectStateStep) -> None:
    actual = await ctx.settle(step, lambda: station_state(ctx.cp))
    expected = ctx.resolve(step.expect_state.model_dump(exclude_none=True))
    if "configuration" in expected:
        expected["configuration"] = {
            key: _ocpp_string(value) for key, value in expected["configuration"].items()
        }
    problems = match(expected, actual)
    if problems:
        shown = {key: actual[key] for key in expected if key in actual}
        if "configuration" in expected:
            shown["configuration"] = {
                key: actual["configuration"].get(key) for key in expected["configuration"]
            }
        raise StepFailed(
            "the station is not in the expected state: " + "; ".join(problems),
            expected=expected,
            actual=shown,
        )


def _ocpp_string(value: Any) -> Any:
    """A configuration value as GetConfiguration shows it (matchers are left alone)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ",".join(value)
    return value


def station_state(cp: ChargePoint) -> dict[str, Any]:
    """What ``expect_state`` compares against."""
    station = cp.station
    connectors: dict[int, Any] = {}
    for number, connector in station.connectors.items():
        transaction = station.transactions.get(number)
        state: dict[str, Any] = {
            "status": connector.status.value,
            "error_code": connector.error_code.value,
            "plugged": connector.plugged,
            "transaction_id": transaction.transaction_id if transaction else None,
            "id_tag": transaction.id_tag if transaction else None,
        }
        if number in station.meters:
            meter, now = station.meters[number], station.clock.now()
            state["energy_wh"] = meter.meter_wh(now)
            # What this (or the last) transaction drew: holds on every pass of a load loop,
            # where the register keeps counting.
            state["session_energy_wh"] = round(meter.session_energy_wh(now))
        connectors[number] = state
    return {
        "connectors": connectors,
        "configuration": station.configuration.snapshot(),
        "connected": cp.connected,
        "registration": station.registration.value if station.registration else None,
    }


Runner = Callable[[StepContext, Any], Awaitable[None]]

RUNNERS: dict[str, Runner] = {
    "send": send,
    "plug_in": plug_in,
    "unplug": unplug,
    "authorize": authorize,
    "start_transaction": start_transaction,
    "charge": charge,
    "stop_transaction": stop_transaction,
    "fault": fault,
    "clear_fault": clear_fault,
    "set_availability": set_availability,
    "session": session,
    "await": await_request,
    "wait": wait,
    "expect_state": expect_state,
    "disconnect": disconnect,
    "reconnect": reconnect,
    "send_raw": send_raw,
    "ignore": ignore,
    "delay": delay,
    "drop": drop,
    "close": close,
    "duplicate": duplicate,
    "violate_one_call_rule": violate_one_call_rule,
}


def describe(step: model.StepBase) -> str:
    """A short label for reports: ``send BootNotification``, ``plug_in connector 1``."""
    if step.name:
        return step.name
    match step:
        case model.SendStep():
            return f"send {step.send}"
        case model.AwaitStep():
            return f"await {step.await_}"
        case model.WaitStep():
            return f"wait {step.wait:g} s"
        case model.AuthorizeStep():
            return f"authorize {step.authorize.id_tag}"
        case model.ChargeStep():
            spec = step.charge
            if spec.duration is not None:
                return (
                    f"charge connector {spec.connector} at {spec.power:g} W for {spec.duration:g} s"
                )
            if spec.power == 0:
                return f"pause charging on connector {spec.connector}"
            return f"charge connector {spec.connector} at {spec.power:g} W in the background"
        case model.SessionStep():
            return f"session on connector {step.session.connector} with {step.session.id_tag}"
        case model.ExpectStateStep():
            return "expect_state"
        case model.FaultStep():
            return f"fault connector {step.fault.connector} {step.fault.error_code}"
        case model.SetAvailabilityStep():
            spec_a = step.set_availability
            return f"set_availability connector {spec_a.connector} {spec_a.type}"
    value = getattr(step, step.kind, None)
    connector = getattr(value, "connector", None)
    return f"{step.kind} connector {connector}" if connector is not None else step.kind

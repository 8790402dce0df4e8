"""Takes a charge point's steps in order, each to an outcome: the loop that scenario runs,
load runs, the shell, the Python API and ``mockpoint serve`` share.

A step either passes or fails with what was expected and what arrived; a failure skips the
steps after it unless ``continue_on_failure`` says otherwise. The problems of the CSMS
(protocol violations, answers that break the schema) that come while a step runs fail it
(docs/scenario-format.md, "Steps").
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from mockpoint.errors import NotApplicable, StepFailed
from mockpoint.scenario import model
from mockpoint.scenario.outcome import FrameRecord, Status, StepOutcome
from mockpoint.scenario.steps import RUNNERS, StepContext, arm, describe, shapes_reply


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


#: How many frames a failure shows from just before it.
FRAMES_BEFORE_FAILURE = 8


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

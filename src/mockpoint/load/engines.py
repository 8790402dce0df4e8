"""Where the shards of a load run execute, and how their statistics come back.

``local``: one worker process per shard on this machine (one per core by default), or, with
no workers, the shard on the caller's own event loop. Each worker sends a snapshot of its
statistics every second, for live progress, and its final statistics at the end; the parent
merges them (:meth:`LoadStats.merged`), exactly. The Ray engine (:mod:`.ray_engine`) runs the
same :func:`~mockpoint.load.shard.run_plan` in Ray actors.

Every shard of a run starts at one wall-clock instant, fixed by the parent once all workers
have loaded the scenario, so ramp-up and timelines line up.
"""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import queue
import time
from collections.abc import Callable
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event as EventType
from typing import Any

from mockpoint.errors import ExitCode, MockpointError
from mockpoint.load.shard import Shard, ShardPlan, run_plan
from mockpoint.load.stats import LoadStats

#: Snapshots of every shard, keyed by shard index, each the shard's cumulative statistics.
Progress = Callable[[dict[int, dict[str, Any]]], None]

#: How long workers get to start (spawn a Python, import mockpoint, load the scenario).
STARTUP_TIMEOUT = 60.0
#: Between the last worker being ready and the run's first charge point.
START_MARGIN = 0.2
#: How often (s) the parent looks whether its workers are alive while none says anything.
POLL = 0.5


class EngineError(MockpointError):
    """A worker could not run its part: it crashed or never started, Ray failed. The
    message names it as the user counts (:attr:`ShardPlan.label`)."""

    exit_code = ExitCode.FAILED


def plans_for(
    base: ShardPlan, url: str, shard: tuple[int, int] | None, workers: int
) -> list[ShardPlan]:
    """Shard I of N splits further over the local workers: worker w of shard I runs the
    charge points of global shard (I-1) + N*w of N*W, so every charge point of the run
    lands in exactly one plan, whatever N and W. Each plan keeps I and N as typed
    (1-based), for its statistics and its messages."""
    number, total = shard if shard else (1, 1)
    per_shard = max(1, workers)
    return [
        ShardPlan(
            **{
                **base.__dict__,
                "csms_url": url,
                "shard": number - 1 + total * w,
                "shards": total * per_shard,
                "run_shard": number,
                "run_shards": total,
            }
        )
        for w in range(per_shard)
    ]


async def run_in_process(plan: ShardPlan, progress: Progress | None = None) -> LoadStats:
    """One shard on the running loop (``--workers 0``; the tests' fast path)."""
    plan = dataclasses.replace(plan, start_at=plan.start_at or time.time())
    shard = Shard(plan)
    task = asyncio.create_task(shard.run())
    while not task.done():
        await asyncio.wait([task], timeout=1.0)
        if progress is not None and not task.done():
            progress({plan.shard: shard.snapshot()})
    stats = task.result()
    return LoadStats.from_dict(stats.to_dict())


async def run_in_workers(plans: list[ShardPlan], progress: Progress | None = None) -> LoadStats:
    """Each plan in a worker process of its own; returns the merged statistics."""
    context = multiprocessing.get_context("spawn")  # no inherited event loop or sockets
    messages: multiprocessing.Queue[tuple[str, int, Any]] = context.Queue()
    go = context.Event()
    start_at = context.Value("d", 0.0)
    workers: list[SpawnProcess] = []
    for plan in plans:
        worker = context.Process(
            target=_worker,
            args=(plan, messages, go, start_at),
            name=f"mockpoint-shard-{plan.shard}",
            daemon=True,
        )
        worker.start()
        workers.append(worker)
    try:
        return await _collect(plans, workers, messages, go, start_at, progress)
    finally:
        go.set()  # a worker still waiting for the start must not wait forever
        for worker in workers:
            worker.join(timeout=0.5)
            if worker.is_alive():
                worker.terminate()
                worker.join(timeout=5)


async def _collect(
    plans: list[ShardPlan],
    workers: list[SpawnProcess],
    messages: multiprocessing.Queue[tuple[str, int, Any]],
    go: EventType,
    start_at: Any,
    progress: Progress | None,
) -> LoadStats:
    labels = {plan.shard: plan.label for plan in plans}
    ready: set[int] = set()
    finished: dict[int, dict[str, Any]] = {}
    snapshots: dict[int, dict[str, Any]] = {}
    deadline = time.monotonic() + STARTUP_TIMEOUT
    run_end: float | None = None
    while len(finished) < len(plans):
        try:
            # Blocking in a thread rather than polling: the parent wakes for a worker's
            # message (a snapshot a second) or every half second to look at the workers.
            kind, index, data = await asyncio.to_thread(messages.get, True, POLL)
        except queue.Empty:
            _check_alive(plans, workers, finished)
            if not go.is_set() and time.monotonic() > deadline:
                raise EngineError(
                    f"{len(plans) - len(ready)} worker(s) did not start within "
                    f"{STARTUP_TIMEOUT:g} s"
                ) from None
            if run_end is not None and time.time() > run_end + 60:
                raise EngineError(
                    "workers did not finish within a minute of the run's end"
                ) from None
            continue
        if kind == "ready":
            ready.add(index)
            if len(ready) == len(plans):
                start_at.value = time.time() + START_MARGIN
                duration = plans[0].duration
                run_end = start_at.value + duration if duration is not None else None
                go.set()
        elif kind == "snapshot":
            snapshots[index] = data
            if progress is not None:
                progress(dict(snapshots))
        elif kind == "done":
            finished[index] = data
            snapshots[index] = data
        elif kind == "error":
            raise EngineError(f"{labels[index]}: {data}")
    return LoadStats.merged(LoadStats.from_dict(finished[i]) for i in sorted(finished))


def _check_alive(
    plans: list[ShardPlan], workers: list[SpawnProcess], finished: dict[int, Any]
) -> None:
    """A worker that died before its result came: ``finished`` is keyed by ``plan.shard``,
    which is not the worker's position under ``--shard``."""
    for plan, worker in zip(plans, workers, strict=True):
        dead = not worker.is_alive() and worker.exitcode not in (None, 0)
        if plan.shard not in finished and dead:
            raise EngineError(f"{plan.label}: exited with code {worker.exitcode}")


def _worker(
    plan: ShardPlan,
    messages: multiprocessing.Queue[tuple[str, int, Any]],
    go: EventType,
    start_at: Any,
) -> None:
    """A worker process: load, report ready, wait for the start, run, report."""
    try:
        Shard(plan)  # loads the scenario: a broken file fails here, before the start
        messages.put(("ready", plan.shard, None))
        if not go.wait(STARTUP_TIMEOUT + 10):
            return
        plan = dataclasses.replace(plan, start_at=plan.start_at or start_at.value)

        def snapshot(data: dict[str, Any]) -> None:
            messages.put(("snapshot", plan.shard, data))

        result = run_plan(plan, snapshot)
    except KeyboardInterrupt:
        return
    except Exception as exc:  # reported to the parent, which names the worker
        messages.put(("error", plan.shard, f"{type(exc).__name__}: {exc}"))
        return
    messages.put(("done", plan.shard, result))

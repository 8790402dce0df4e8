"""``mockpoint load --engine ray``: the shards of a load run in Ray actors, one per shard.

Each shard (:class:`~mockpoint.load.shard.ShardPlan`) runs in an async actor of its own
(:class:`ShardActor`, one CPU each), on the actor's event loop: the same
:class:`~mockpoint.load.shard.Shard` that the local engine runs in a worker process
(:mod:`.engines`), so the statistics are the same and merge exactly.

The driver (this process) does what :func:`~mockpoint.load.engines.run_in_workers` does:

1. it loads the scenario itself, so an invalid file fails before Ray starts, and puts the
   parsed scenario in Ray's object store: an actor on another machine needs no copy of the
   file, and the steps keep the file's name and lines in their failure messages;
2. it has every actor load its shard (:meth:`ShardActor.prepare`) and waits for all;
3. it fixes one wall-clock start a moment ahead and starts every shard with it, so that
   ramp-up and timelines line up across machines;
4. it asks every running actor for a snapshot about once a second, for live progress, and
   merges the final statistics (:meth:`LoadStats.merged`).

Ray is an optional dependency (``pip install 'mockpoint[ray]'``); it is imported only when
a run starts, so this module imports without it. Every Ray failure becomes an
:class:`~mockpoint.load.engines.EngineError` with a one-line message.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import logging
import os
import time
from pathlib import Path
from typing import Any

from mockpoint.errors import UsageError
from mockpoint.load.engines import EngineError, Progress
from mockpoint.load.shard import Shard, ShardPlan
from mockpoint.load.stats import LoadStats
from mockpoint.scenario.loader import load_scenario
from mockpoint.scenario.model import Scenario

__all__ = ["INSTALL_HINT", "ShardActor", "run_on_ray"]

INSTALL_HINT = "ray is not installed: pip install 'mockpoint[ray]'"

#: How long the actors get to start and load their shard. Longer than the local engine's:
#: an autoscaling cluster may have to start a node first.
STARTUP_TIMEOUT = 120.0
#: Between the last actor being ready and the run's first charge point: the start has to
#: reach every actor first, over the network.
START_MARGIN = 1.0
#: How long after a run with a duration the actors get to hand in their statistics.
FINISH_GRACE = 60.0
#: The object store of a local cluster: statistics are small, and Ray's default is 30 % of
#: the machine's memory.
OBJECT_STORE_MEMORY = 256 * 1024 * 1024


class ShardActor:
    """One shard in a Ray actor.

    ``ray.remote`` is applied when a run starts (:func:`run_on_ray`), so that this class,
    like the module, exists without Ray. Its methods are coroutines, which makes it an async
    actor: the shard runs on the actor's event loop, and :meth:`snapshot` runs on that same
    loop between two of the shard's callbacks, so it never reads statistics half updated.
    """

    def __init__(self) -> None:
        self._scenario: Scenario | None = None
        self._shard: Shard | None = None

    async def prepare(self, plan: ShardPlan, scenario: Scenario) -> None:
        """Load the shard without starting it: what fails here fails before the start."""
        Shard(plan, scenario)
        self._scenario = scenario

    async def run(self, plan: ShardPlan) -> dict[str, Any]:
        """Run the shard (``plan`` carries the common start) and return its statistics as
        :meth:`LoadStats.to_dict` data."""
        if self._scenario is None:
            raise RuntimeError("prepare() comes before run()")
        self._shard = Shard(plan, self._scenario)
        # Shard.run waits for the start only to ramp up; without a ramp-up, its charge
        # points would start as soon as the start reaches this actor, ahead of the others.
        await asyncio.sleep(max(0.0, plan.start_at - time.time()))
        stats = await self._shard.run()
        return stats.to_dict()

    async def snapshot(self) -> dict[str, Any] | None:
        """The shard's statistics so far (:meth:`Shard.snapshot`); None before it runs."""
        return self._shard.snapshot() if self._shard is not None else None


async def run_on_ray(
    plans: list[ShardPlan],
    address: str | None,
    progress: Progress | None = None,
    *,
    interval: float = 1.0,
) -> LoadStats:
    """Run each plan in a Ray actor of its own and return the merged statistics.

    ``address``: the cluster, as ``ray.init`` takes it (``ray://head:10001``, ``auto``);
    None connects to the cluster that ``RAY_ADDRESS`` names, or else starts a local cluster
    of one CPU per plan, without a dashboard, for this run only. A process already connected
    to Ray (``ray.init`` called before) runs on that connection and keeps it. ``progress``
    gets every shard's latest snapshot, keyed by shard index, every ``interval`` seconds.

    Raises :class:`~mockpoint.scenario.loader.ScenarioError` for an invalid scenario file
    (before Ray starts) and :class:`EngineError` when Ray or an actor fails.
    """
    if not plans:
        raise ValueError("run_on_ray needs at least one plan")
    scenarios = {name: load_scenario(Path(name)) for name in {plan.scenario for plan in plans}}
    ray = _import_ray()
    connected = _connect(ray, address, len(plans))
    try:
        return await _run(ray, plans, scenarios, progress, interval)
    finally:
        if connected:
            ray.shutdown()


def _import_ray() -> Any:
    # Through importlib and typed Any: the module type-checks the same with Ray installed
    # or not, and Ray's own annotations do not decide how this engine is checked.
    try:
        return importlib.import_module("ray")
    except ImportError:
        raise UsageError(INSTALL_HINT) from None


def _connect(ray: Any, address: str | None, cpus: int) -> bool:
    """Connect this process to Ray; True when this call did (and so disconnects at the end,
    which also stops a local cluster it started)."""
    if ray.is_initialized():
        return False
    # Actor output would break through the live progress; failures come back as exceptions.
    quiet: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.ERROR}
    target = address or os.environ.get("RAY_ADDRESS")
    if target:
        try:
            ray.init(address=target, **quiet)
        except Exception as exc:  # ConnectionError, a version mismatch, a missing extra...
            raise EngineError(
                f"could not reach the Ray cluster at {target}: {_first_line(exc)}"
            ) from None
        return True
    # A cluster for this run only: no usage report sent home (unless the user asks for it),
    # no dashboard, no more CPUs than shards, and "local" so that a cluster left running on
    # this machine is not joined.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        ray.init(
            address="local",
            num_cpus=cpus,
            num_gpus=0,
            include_dashboard=False,
            object_store_memory=OBJECT_STORE_MEMORY,
            **quiet,
        )
    except Exception as exc:
        raise EngineError(f"could not start a local Ray cluster: {_first_line(exc)}") from None
    return True


async def _run(
    ray: Any,
    plans: list[ShardPlan],
    scenarios: dict[str, Scenario],
    progress: Progress | None,
    interval: float,
) -> LoadStats:
    # SPREAD: on a cluster, the shards' connections leave from as many machines (addresses,
    # ephemeral ports, network cards) as there are; Ray's default packs actors together.
    actor_class = ray.remote(num_cpus=1, max_restarts=0, scheduling_strategy="SPREAD")(ShardActor)
    actors = [actor_class.remote() for _ in plans]
    try:
        shared = {name: ray.put(scenario) for name, scenario in scenarios.items()}
        refs = {
            actor.prepare.remote(plan, shared[plan.scenario]): index
            for index, (actor, plan) in enumerate(zip(actors, plans, strict=True))
        }
        await _prepare(ray, refs, plans, interval)
        start_at = time.time() + START_MARGIN
        plans = [dataclasses.replace(plan, start_at=plan.start_at or start_at) for plan in plans]
        results = await _follow(ray, actors, plans, progress, interval)
    finally:
        for actor in actors:
            with contextlib.suppress(Exception):  # already gone with its node
                ray.kill(actor)
    return LoadStats.merged(LoadStats.from_dict(results[shard]) for shard in sorted(results))


async def _prepare(ray: Any, refs: dict[Any, int], plans: list[ShardPlan], interval: float) -> None:
    """Wait for every actor's :meth:`ShardActor.prepare`; the first failure ends the run."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    pending = list(refs)
    while pending:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise EngineError(_not_started(ray, len(pending), len(plans)))
        done = await asyncio.to_thread(_poll, ray, pending, min(remaining, interval))
        for ref, (_value, error) in done.items():
            if error is not None:
                raise _shard_error(ray, plans[refs[ref]], error)
        pending = [ref for ref in pending if ref not in done]


async def _follow(
    ray: Any,
    actors: list[Any],
    plans: list[ShardPlan],
    progress: Progress | None,
    interval: float,
) -> dict[int, dict[str, Any]]:
    """Start every shard, pass snapshots to ``progress`` while they run, and return each
    shard's final statistics by shard index."""
    runs = {
        actor.run.remote(plan): index
        for index, (actor, plan) in enumerate(zip(actors, plans, strict=True))
    }
    asks: dict[Any, int] = {}  # snapshot requests in flight
    results: dict[int, dict[str, Any]] = {}
    snapshots: dict[int, dict[str, Any]] = {}
    ends = [plan.start_at + plan.duration for plan in plans if plan.duration is not None]
    run_end = max(ends) if ends else None
    next_tick = time.monotonic() + interval
    while runs:
        if run_end is not None and time.time() > run_end + FINISH_GRACE:
            raise EngineError(
                f"{len(runs)} worker(s) did not finish within {FINISH_GRACE:g} s of the run's end"
            )
        # In a thread: the driver's loop may serve the embedded mock CSMS meanwhile.
        timeout = max(0.0, next_tick - time.monotonic())
        done = await asyncio.to_thread(_poll, ray, [*runs, *asks], timeout)
        changed = False
        for ref, (value, error) in done.items():
            if ref in runs:
                plan = plans[runs.pop(ref)]
                if error is not None:
                    raise _shard_error(ray, plan, error)
                results[plan.shard] = snapshots[plan.shard] = value
                changed = True
            else:
                plan = plans[asks.pop(ref)]
                # A failed snapshot is not the run's failure: the run's own result tells.
                if error is None and value is not None and plan.shard not in results:
                    snapshots[plan.shard] = value
                    changed = True
        if changed and progress is not None and runs:
            progress(dict(snapshots))
        if time.monotonic() >= next_tick:
            next_tick = time.monotonic() + interval
            asked = set(asks.values())
            for index in runs.values():
                if index not in asked:  # a busy actor is not asked twice
                    asks[actors[index].snapshot.remote()] = index
    return results


def _poll(ray: Any, refs: list[Any], timeout: float) -> dict[Any, tuple[Any, Exception | None]]:
    """Block until every ref is ready or ``timeout`` passes; the ready ones, each with its
    value or its error. Called in a thread: Ray's waits block."""
    ready, _ = ray.wait(refs, num_returns=len(refs), timeout=timeout)
    done: dict[Any, tuple[Any, Exception | None]] = {}
    for ref in ready:
        try:
            done[ref] = (ray.get(ref), None)
        except Exception as exc:
            done[ref] = (None, exc)
    return done


def _shard_error(ray: Any, plan: ShardPlan, error: Exception) -> EngineError:
    """A one-line EngineError naming the worker (:attr:`ShardPlan.label`), from what Ray
    raised for it."""
    if isinstance(error, ray.exceptions.RayTaskError):
        cause = error.cause  # what the actor's method raised
        text = f"{type(cause).__name__}: {_first_line(cause)}"
    elif isinstance(error, ray.exceptions.RayActorError):
        # Its message opens with a generic line and ends with the cause: the exception its
        # creation raised (mockpoint missing on the node...), or why its process went away.
        text = f"its Ray actor died: {_last_line(error)}"
    else:
        text = f"{type(error).__name__}: {_first_line(error)}"
    return EngineError(f"{plan.label}: {text}")


def _not_started(ray: Any, missing: int, total: int) -> str:
    message = (
        f"{missing} of {total} Ray actor(s) did not start within {STARTUP_TIMEOUT:g} s "
        f"(each worker's actor needs 1 CPU"
    )
    with contextlib.suppress(Exception):  # the numbers are a hint; the timeout is the error
        cpus = ray.cluster_resources().get("CPU", 0)
        free = ray.available_resources().get("CPU", 0)
        message += f"; the cluster has {cpus:g} CPUs, {free:g} free"
    return message + "): lower --workers or add nodes"


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _last_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[-1].strip() if lines else type(error).__name__

"""The Ray engine on a real local Ray cluster, against the in-process mock CSMS.

Opt-in: skipped unless Ray is installed (``pip install 'mockpoint[ray]'``). Every test
starts a local cluster of its own through :func:`run_on_ray` (several seconds on two cores)
and stops it, hence the long timeouts.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mockpoint.cli.main import main
from mockpoint.csms.server import MockCsms
from mockpoint.load import ray_engine
from mockpoint.load.engines import EngineError, run_in_process
from mockpoint.load.ray_engine import run_on_ray
from mockpoint.load.shard import ShardPlan
from mockpoint.load.stats import LoadStats

ray = pytest.importorskip("ray")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

#: A boot (with its StatusNotifications) and two heartbeats per charge point, no waiting.
SCENARIO = """\
name: Boot and two heartbeats
charge_point:
  vendor: Acme
  model: AC22
clock:
  speed: 0
steps:
  - send: BootNotification
    expect: {status: Accepted}
  - send: Heartbeat
  - send: Heartbeat
"""
COUNT = 40
#: Charge points per second: 40 take about 2.6 s to start, long enough for live progress.
RAMP_UP = 15.0


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "heartbeats.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def no_ray_left() -> Iterator[None]:
    """A test that fails half way must not leave the next one a cluster to join."""
    yield
    if ray.is_initialized():
        ray.shutdown()


def counts(stats: LoadStats) -> dict[str, Any]:
    """Everything that must not depend on where the shards ran (latencies do)."""
    return {
        "actions": {
            name: (action.count, action.ok, action.timeouts, action.lost, action.invalid)
            for name, action in sorted(stats.actions.items())
        },
        "target": stats.target,
        "opened": stats.opened,
        "failed": stats.failed,
        "dropped": stats.dropped,
        "messages": (stats.messages_in, stats.messages_out),
        "steps": (stats.steps_passed, stats.steps_failed, stats.step_failures),
        "iterations": stats.iterations,
        "received": stats.received,
    }


def two_shards(plan: ShardPlan) -> list[ShardPlan]:
    return [dataclasses.replace(plan, shard=index, shards=2) for index in range(2)]


async def test_two_actors_count_what_one_process_counts(scenario: Path) -> None:
    snapshots: list[dict[int, dict[str, Any]]] = []
    async with MockCsms() as csms:
        plan = ShardPlan(str(scenario), count=COUNT, csms_url=csms.url, ramp_up=RAMP_UP)
        alone = await run_in_process(plan)
        stats = await run_on_ray(two_shards(plan), None, snapshots.append)

    assert stats.actions["BootNotification"].count == COUNT
    assert stats.actions["Heartbeat"].count == 2 * COUNT
    assert stats.opened == COUNT
    assert stats.errors == 0
    assert stats.workers == 2
    assert counts(stats) == counts(alone)
    assert snapshots, "no live progress while the shards ran"
    assert all(set(snapshot) <= {0, 1} for snapshot in snapshots)
    assert not ray.is_initialized(), "the local cluster is left running"


async def test_a_failing_shard_is_an_engine_error(scenario: Path) -> None:
    async with MockCsms() as csms:
        # A plan does not check its id pattern (the command line does): this one fails in
        # the actors, when the charge points get their ids.
        plan = ShardPlan(str(scenario), count=4, csms_url=csms.url, id_pattern="CP-{x}")
        with pytest.raises(EngineError, match=r"^worker [12] of 2: KeyError: 'x'$"):
            await run_on_ray(two_shards(plan), None, None)
    assert not ray.is_initialized()


async def test_too_few_cpus_is_an_engine_error_and_a_connection_is_kept(
    scenario: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ray_engine, "STARTUP_TIMEOUT", 3.0)
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    # The caller's own connection, to a cluster with room for one actor of two.
    ray.init(
        address="local",
        num_cpus=1,
        include_dashboard=False,
        log_to_driver=False,
        logging_level=logging.ERROR,
    )
    async with MockCsms() as csms:
        plan = ShardPlan(str(scenario), count=4, csms_url=csms.url)
        with pytest.raises(EngineError) as caught:
            await run_on_ray(two_shards(plan), None, None)
    assert str(caught.value) == (
        "1 of 2 Ray actor(s) did not start within 3 s (each worker's actor needs 1 CPU; "
        "the cluster has 1 CPUs, 0 free): lower --workers or add nodes"
    )
    assert ray.is_initialized(), "the caller's connection is closed"


def test_command_line(scenario: Path, tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    # A start later than the local cluster's few seconds to come up, and no ramp-up: the
    # shards must wait for the start all the same.
    start_at = round(time.time()) + 15
    argv = [str(scenario), "-n", str(COUNT), "--workers", "2", "--shard", "1/1"]
    argv += ["--start-at", str(start_at)]
    code = main(["load", *argv, "--engine", "ray", "-q", "--json", str(out)])

    assert code == 0
    document = json.loads(out.read_text(encoding="utf-8"))
    stats = LoadStats.from_dict(document)
    assert (stats.workers, stats.shard_of, stats.shard_numbers) == (2, 1, {1})
    assert stats.actions["BootNotification"].count == COUNT
    assert stats.actions["Heartbeat"].count == 2 * COUNT
    assert stats.opened == COUNT
    assert stats.steps_failed == 0
    assert stats.started_at == start_at
    first_call = min(second for second, point in stats.timeline.items() if point.calls)
    assert first_call >= start_at
    assert stats.finished_at > stats.started_at

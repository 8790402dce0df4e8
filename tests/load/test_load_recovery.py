"""A load run never spins: a charge point whose pass failed recovers to a clean state and
backs off before its next pass, or leaves the run; one done with its steps keeps sending
Heartbeat at the CSMS's interval in wall time until the run ends. Against a real mock CSMS
over loopback WebSockets, on the ``--workers 0`` path."""

from __future__ import annotations

import io
import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import UNIT
from mockpoint.clock import VirtualClock
from mockpoint.csms.config import config_from_mapping
from mockpoint.csms.server import MockCsms
from mockpoint.load.engines import run_in_process
from mockpoint.load.shard import (
    BACKOFF,
    BACKOFF_CAP,
    GIVE_UP_AFTER,
    JITTER,
    Backoff,
    ShardPlan,
)

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).parents[2] / "examples"

#: Fails at its expect_state on every pass, with its transaction open and its cable in:
#: taken again at once, the next pass would fail at plug_in, and so on without end.
FAILING = """name: fails every pass
charge_point: {connectors: 1}
clock: {speed: 0}
timeout: 5s
steps:
  - plug_in: {connector: 1}
  - authorize: {id_tag: TAG-001}
  - start_transaction: {connector: 1, id_tag: TAG-001}
  - expect_state:
      connectors: {1: {status: Finishing}}
  - stop_transaction: {connector: 1, reason: Local}
  - unplug: {connector: 1}
"""


def scenario(tmp_path: Path, text: str) -> str:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def transactions(csms: MockCsms, cp_id: str) -> list[tuple[str, Any]]:
    """(action, reason) of each StartTransaction and StopTransaction the CSMS received."""
    return [
        (call.action, call.payload.get("reason"))
        for call in csms.received(cp_id)
        if call.action in ("StartTransaction", "StopTransaction")
    ]


# --- recovery and backoff ------------------------------------------------------------------


async def test_a_pass_that_always_fails_recovers_and_backs_off_instead_of_spinning(
    tmp_path: Path,
) -> None:
    n, duration = 5, 3.0
    async with MockCsms() as csms:
        plan = ShardPlan(
            scenario(tmp_path, FAILING), count=n, csms_url=csms.url, duration=duration, loop=True
        )
        started = time.monotonic()
        stats = await run_in_process(plan)
        elapsed = time.monotonic() - started
        ids = [plan.charge_point_id(number) for number in plan.numbers()]
        seen = {cp_id: transactions(csms, cp_id) for cp_id in ids}
        still_open = {cp_id: len(csms.state(cp_id).transactions) for cp_id in ids}
    assert elapsed < duration + 2 * UNIT
    # Pauses of at least 0.5, 1 and 2 s after the first three failures: at most three
    # passes each in 3 s (a spinning run makes millions), and a second one within ~1 s.
    assert n * 2 <= stats.iterations <= n * 3
    assert stats.steps_failed == stats.iterations  # one failed step a pass, no more
    assert n <= stats.recoveries <= stats.iterations
    assert (stats.abandoned, stats.abandoned_reasons) == (0, {})
    for cp_id, calls in seen.items():
        # Each pass's transaction was stopped (reason Other) before the next one started;
        # only the last pass's may still be open, cut off by the end of the run.
        starts = calls[0::2]
        assert len(starts) >= 2, cp_id
        assert set(starts) == {("StartTransaction", None)}, cp_id
        assert set(calls[1::2]) == {("StopTransaction", "Other")}, cp_id
        assert still_open[cp_id] == len(calls) % 2, cp_id


async def test_a_charge_point_that_cannot_recover_leaves_the_run_and_is_counted(
    tmp_path: Path,
) -> None:
    # The CSMS refuses every StopTransaction: the recovery cannot end the transaction.
    config = config_from_mapping(
        {"answers": {"StopTransaction": {"error": "InternalError"}}}, "test"
    )
    n = 4
    async with MockCsms(config=config) as csms:
        plan = ShardPlan(
            scenario(tmp_path, FAILING),
            count=n,
            csms_url=csms.url,
            duration=10.0 * UNIT,
            loop=True,
        )
        started = time.monotonic()
        stats = await run_in_process(plan)
        elapsed = time.monotonic() - started
        ids = [plan.charge_point_id(number) for number in plan.numbers()]
        left = [cp_id for cp_id in ids if not csms.connected(cp_id)]
        starts = {
            cp_id: [call for call in csms.received(cp_id) if call.action == "StartTransaction"]
            for cp_id in ids
        }
    assert elapsed < 10.0 * UNIT  # everyone left: the run did not wait for its end
    assert left == ids
    assert (stats.abandoned, stats.recoveries, stats.iterations) == (n, 0, n)
    [(reason, count)] = stats.abandoned_reasons.items()
    assert count == n
    assert reason.startswith("could not recover: StopTransaction not delivered: ")
    assert "\n" not in reason
    assert all(len(calls) == 1 for calls in starts.values())  # no pass after leaving


async def test_a_charge_point_leaves_after_five_failed_passes_in_a_row(tmp_path: Path) -> None:
    n = 3
    async with MockCsms() as csms:
        plan = ShardPlan(
            scenario(tmp_path, FAILING),
            count=n,
            csms_url=csms.url,
            duration=10.0 * UNIT,
            loop=True,
            backoff=0.02,  # fast, for the test: 5 passes in well under a second
        )
        started = time.monotonic()
        stats = await run_in_process(plan)
        elapsed = time.monotonic() - started
    assert elapsed < 10.0 * UNIT  # everyone left: the run did not wait for its end
    assert GIVE_UP_AFTER == 5
    assert (stats.iterations, stats.steps_failed) == (n * 5, n * 5)
    assert (stats.recoveries, stats.abandoned) == (n * 5, n)
    [reason] = stats.abandoned_reasons
    assert reason.startswith("5 passes in a row failed; the last: expect_state (")
    assert "connectors.1.status: expected 'Finishing', got 'Charging'" in reason


def test_the_backoff_doubles_from_one_second_to_the_cap_with_replayable_jitter() -> None:
    backoff = Backoff(BACKOFF, BACKOFF_CAP, "0/1")
    delays = [backoff.next_delay() for _ in range(8)]
    nominal = [1, 2, 4, 8, 16, 30, 30, 30]
    for delay, top in zip(delays, nominal, strict=True):
        assert top * (1 - JITTER) <= delay <= top
    assert len(set(delays)) == len(delays)  # jittered
    assert Backoff(BACKOFF, BACKOFF_CAP, "0/1").next_delay() == delays[0]  # replays
    assert Backoff(BACKOFF, BACKOFF_CAP, "0/2").next_delay() != delays[0]  # per charge point
    backoff.reset()  # a clean pass
    assert backoff.next_delay() <= 1.0
    assert backoff.failures == 1
    for _ in range(5000):  # a long streak neither overflows nor passes the cap
        assert backoff.next_delay() <= BACKOFF_CAP


# --- loop-safe examples --------------------------------------------------------------------


async def test_example_02_loops_cleanly() -> None:
    async with MockCsms() as csms:
        plan = ShardPlan(
            str(EXAMPLES / "02-plug-in-first-charging.yaml"),
            count=3,
            csms_url=csms.url,
            duration=2.0,
            loop=True,
            speed=3600,  # the 30 minutes of charging in half a second
        )
        stats = await run_in_process(plan)
    assert stats.iterations >= 3 * 2
    assert (stats.steps_failed, stats.step_failures) == (0, {})
    assert (stats.recoveries, stats.abandoned) == (0, 0)


# --- after the steps: heartbeats in wall time -----------------------------------------------


def heartbeat_times(log: str) -> dict[str, list[float]]:
    """Per charge point, when (epoch seconds) the CSMS received each Heartbeat."""
    times: dict[str, list[float]] = {}
    for line in log.splitlines():
        record = json.loads(line)
        frame = record["frame"]
        if record["direction"] == "in" and frame[0] == 2 and frame[2] == "Heartbeat":
            wall = datetime.fromisoformat(record["wall_time"].replace("Z", "+00:00"))
            times.setdefault(record["cp"], []).append(wall.timestamp())
    return times


@pytest.mark.parametrize("speed", [0, 60])
async def test_charge_points_done_with_their_steps_keep_the_csms_heartbeat_interval(
    tmp_path: Path, speed: float
) -> None:
    config = config_from_mapping({"boot": {"interval": 1}}, "test")
    log = io.StringIO()
    n, duration = 3, 4.0
    steps = "steps:\n  - expect_state: {registration: Accepted}\n"
    async with MockCsms(config=config, log=log) as csms:
        plan = ShardPlan(
            scenario(tmp_path, f"name: idle\nclock: {{speed: {speed}}}\n{steps}"),
            count=n,
            csms_url=csms.url,
            duration=duration,
        )
        stats = await run_in_process(plan)
    times = heartbeat_times(log.getvalue())
    assert stats.steps_failed == 0
    assert sorted(times) == [plan.charge_point_id(number) for number in plan.numbers()]
    for cp_id, sent in times.items():
        # One a second of wall time after the steps, until the end: never faster, and at
        # least two in the ~3.5 s left however slow the machine (at speed 0 the clock
        # stands still after the steps, and no heartbeat would ever be due).
        assert 2 <= len(sent) <= duration + 2, cp_id
        gaps = [later - earlier for earlier, later in zip(sent, sent[1:], strict=False)]
        assert min(gaps[1:], default=1.0) >= 0.9, (cp_id, gaps)


def test_set_speed_keeps_the_time_reached_and_runs_on_at_the_new_speed() -> None:
    class Monotonic:
        now = 100.0

        def __call__(self) -> float:
            return self.now

    real = Monotonic()
    clock = VirtualClock(1_748_764_800.0, speed=0, monotonic=real)
    clock.advance(600)
    real.now += 50
    clock.set_speed(1.0)
    assert clock.now() == 1_748_764_800.0 + 600
    real.now += 2
    assert clock.now() == 1_748_764_800.0 + 602
    assert clock.real_delay(1_748_764_800.0 + 612) == 10
    clock.set_speed(60.0)
    real.now += 1
    assert clock.now() == 1_748_764_800.0 + 662
    with pytest.raises(ValueError, match=">= 0"):
        clock.set_speed(-1)

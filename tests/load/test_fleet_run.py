"""Fleets run for real (docs/load-fleets.md): groups of scenarios on their own charge point
models and ids, figures per group, and the events on the timeline (a blackout, a partition,
a rolling reboot, a surge), against the mock CSMS over loopback WebSockets. What the CSMS
received is the judge: every transaction message exactly once, the boots a power cut or a
reset brings, the connections dropped without a close frame."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from pathlib import Path

import pytest

from conftest import UNIT
from mockpoint.csms.server import MockCsms
from mockpoint.load.engines import run_in_process
from mockpoint.load.shard import ShardPlan
from mockpoint.load.stats import LoadStats

CHARGING = """\
name: charging
charge_point: {id: CP-X, connectors: 1}
clock: {speed: 1}
timeout: 5s
steps:
  - plug_in: {connector: 1}
  - start_transaction: {connector: 1, id_tag: TAG-1}
  - charge: {connector: 1, power: 11kW, duration: 10m}
  - stop_transaction: {connector: 1}
  - unplug: {connector: 1}
"""
IDLE = """\
name: idle
charge_point: {id: CP-Y, connectors: 1}
clock: {speed: 0}
steps:
  - send: Heartbeat
"""


def fleet(tmp_path: Path, events: str = "", charging: int = 4, idle: int = 2) -> Path:
    (tmp_path / "charging.yaml").write_text(CHARGING, encoding="utf-8")
    (tmp_path / "idle.yaml").write_text(IDLE, encoding="utf-8")
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "fleet: test fleet\n"
        "groups:\n"
        f"  - {{scenario: charging.yaml, name: depot, count: {charging}, loop: true,\n"
        '     id_pattern: "DEPOT-{n:03d}", charge_point: {vendor: ABB, model: Terra AC}}\n'
        f"  - {{scenario: idle.yaml, name: highway, count: {idle}, loop: false,\n"
        '     id_pattern: "HWY-{n:03d}", charge_point: {vendor: Alpitronic, model: HYC300}}\n'
        + events,
        encoding="utf-8",
    )
    return path


async def run(csms: MockCsms, path: Path, count: int, duration: float) -> LoadStats:
    plan = ShardPlan(scenario=str(path), count=count, csms_url=csms.url, duration=duration, seed=3)
    async with asyncio.timeout(duration + 30 * UNIT):
        return await run_in_process(plan)


def calls(csms: MockCsms, action: str) -> dict[str, list[dict[str, object]]]:
    """Per charge point, the payloads of its ``action`` requests the CSMS received."""
    return {
        cp: [c.payload for c in csms.received(cp) if c.action == action]
        for cp in csms.charge_points()
    }


def stopped_once(csms: MockCsms) -> Counter[object]:
    """How often each transaction id was stopped; each must be once."""
    return Counter(
        stop["transactionId"] for stops in calls(csms, "StopTransaction").values() for stop in stops
    )


async def test_groups_run_their_own_scenario_model_and_ids_with_figures_per_group(
    tmp_path: Path,
) -> None:
    async with MockCsms() as csms:
        stats = await run(csms, fleet(tmp_path), 6, 2.0)
    boots = calls(csms, "BootNotification")
    assert sorted(boots) == [
        "DEPOT-001", "DEPOT-002", "DEPOT-003", "DEPOT-004", "HWY-001", "HWY-002"
    ]  # fmt: skip
    assert {b[0]["chargePointVendor"] for cp, b in boots.items() if cp.startswith("DEPOT")} == {
        "ABB"
    }
    assert {b[0]["chargePointModel"] for cp, b in boots.items() if cp.startswith("HWY")} == {
        "HYC300"
    }
    assert set(stats.scenarios) == {"depot", "highway"}
    depot, highway = stats.scenarios["depot"], stats.scenarios["highway"]
    assert (depot.target, highway.target, stats.target) == (4, 2, 6)
    assert depot.actions["StartTransaction"].count == 4
    assert "StartTransaction" not in highway.actions
    assert highway.actions["Heartbeat"].count >= 2
    # The groups' figures add up to the run's.
    assert depot.calls + highway.calls == stats.calls
    assert depot.opened + highway.opened == stats.opened == 6
    assert stats.steps_failed == 0


async def test_a_blackout_cuts_power_and_link_then_each_comes_back_and_loses_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mockpoint.csms.server")
    events = (
        "events:\n"
        "  - {at: 1s, blackout: {fraction: 0.5, for: 1s, reconnect_within: 0.5s, group: depot}}\n"
    )
    async with MockCsms() as csms:
        stats = await run(csms, fleet(tmp_path, events), 6, 4.0)
    boots = {cp: len(b) for cp, b in calls(csms, "BootNotification").items()}
    cut = sorted(cp for cp, n in boots.items() if n == 2)
    assert len(cut) == 2 and all(cp.startswith("DEPOT") for cp in cut)  # half of the depot
    assert all(n == 1 for cp, n in boots.items() if cp not in cut)
    # Each interrupted transaction ended with PowerLoss, delivered once, after the new boot.
    for cp in cut:
        actions = [c.action for c in csms.received(cp) if c.action != "StatusNotification"]
        second_boot = actions.index("BootNotification", 1)
        assert actions[second_boot + 1] == "StopTransaction", actions
        stop = calls(csms, "StopTransaction")[cp][0]
        assert stop["reason"] == "PowerLoss"
    assert set(stopped_once(csms).values()) <= {1}
    dropped = [r for r in caplog.records if "without a closing handshake" in r.getMessage()]
    assert len(dropped) == 2
    [record] = stats.events
    assert (record.kind, record.charge_points) == ("blackout", 2)
    assert record.until is not None and record.until - record.at >= 1.0
    # Back, they charged again: a StartTransaction after the power came back.
    for cp in cut:
        actions = [c.action for c in csms.received(cp)]
        assert "StartTransaction" in actions[actions.index("BootNotification", 1) :]


async def test_a_partition_drops_links_without_a_boot_and_a_rolling_reboot_resets(
    tmp_path: Path,
) -> None:
    events = (
        "events:\n"
        "  - {at: 1s, partition: {fraction: 0.5, for: 1s, group: depot}}\n"
        "  - {at: 1s, rolling_reboot: {fraction: 1.0, over: 1s, group: highway}}\n"
    )
    async with MockCsms() as csms:
        stats = await run(csms, fleet(tmp_path, events), 6, 4.0)
    boots = {cp: len(b) for cp, b in calls(csms, "BootNotification").items()}
    assert {cp: n for cp, n in boots.items() if cp.startswith("DEPOT")} == dict.fromkeys(
        ["DEPOT-001", "DEPOT-002", "DEPOT-003", "DEPOT-004"], 1
    )  # a partition brings no boot: the power stayed on
    assert boots["HWY-001"] == boots["HWY-002"] == 2  # each reset once, then booted
    assert set(stopped_once(csms).values()) <= {1}
    kinds = sorted((r.kind, r.charge_points) for r in stats.events)
    assert kinds == [("partition", 2), ("rolling_reboot", 2)]
    assert stats.steps_failed == 0 or stats.abandoned == 0


async def test_a_surge_brings_more_charge_points_at_once(tmp_path: Path) -> None:
    events = "events:\n  - {at: 1s, surge: {count: 3, group: highway}}\n"
    async with MockCsms() as csms:
        stats = await run(csms, fleet(tmp_path, events, charging=2, idle=1), 3, 3.0)
    assert sorted(cp for cp in csms.charge_points() if cp.startswith("HWY")) == [
        "HWY-001",
        "HWY-002",
        "HWY-003",
        "HWY-004",
    ]
    assert stats.target == 6 and stats.scenarios["highway"].target == 4
    assert [(r.kind, r.charge_points) for r in stats.events] == [("surge", 3)]

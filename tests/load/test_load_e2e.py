"""``mockpoint load`` and ``mockpoint merge`` end to end, over real loopback WebSockets.

The expected counts are not written down: a load of N charge points must send exactly N
times what one ``mockpoint run`` of the same scenario sends, action by action.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from conftest import UNIT
from csms_process import Csms
from mockpoint.cli.main import main
from mockpoint.errors import UsageError
from mockpoint.load.ray_engine import INSTALL_HINT, run_on_ray
from mockpoint.load.shard import ShardPlan

CHARGING = """name: charging under load
charge_point: {connectors: 1, configuration: {MeterValueSampleInterval: 300}}
clock: {start: 2025-06-01T08:00:00Z, speed: 0}
steps:
  - plug_in: {connector: 1}
  - authorize: {id_tag: TAG-001}
    expect: {idTagInfo: {status: Accepted}}
  - start_transaction: {connector: 1, id_tag: TAG-001}
  - charge: {connector: 1, power: 11kW, duration: 30m}
  - stop_transaction: {connector: 1, reason: Local}
  - unplug: {connector: 1}
"""

HEARTBEATS = """name: heartbeats
clock: {speed: 0}
timeout: 2s
steps:
  - send: Heartbeat
  - send: Heartbeat
"""


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def result(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def counts(data: dict[str, Any]) -> dict[str, int]:
    return {action: stats["count"] for action, stats in data["actions"].items()}


def one_run_calls(tmp_path: Path, scenario: Path) -> Counter[str]:
    """What a single charge point sends running ``scenario`` once (its CALLs by action)."""
    transcript = tmp_path / "one.jsonl"
    assert main(["run", str(scenario), "-q", "--transcript", str(transcript)]) == 0
    records = [json.loads(line) for line in transcript.read_text().splitlines()]
    return Counter(
        r["frame"][2]
        for r in records
        if r["direction"] == "out" and isinstance(r["frame"], list) and r["frame"][0] == 2
    )


def test_n_charge_points_send_n_times_what_one_sends(tmp_path: Path) -> None:
    scenario = write(tmp_path, CHARGING)
    one = one_run_calls(tmp_path, scenario)
    out = tmp_path / "load.json"
    code = main(["load", str(scenario), "-n", "300", "--workers", "0", "-q", "--json", str(out)])
    assert code == 0
    data = result(out)
    assert counts(data) == {action: 300 * n for action, n in one.items()}
    for action, stats in data["actions"].items():
        assert stats["ok"] == stats["count"], action
    assert data["connections"] == {"opened": 300, "failed": {}, "dropped": 0}
    assert data["steps"]["failed"] == 0
    assert data["steps"]["passed"] == 300 * 7  # the automatic boot and the six steps
    assert data["steps"]["iterations"] == 300
    assert data["messages"]["out"] == data["messages"]["in"] == 300 * sum(one.values())


@pytest.mark.slow
def test_worker_processes_merge_to_the_same_counts(tmp_path: Path) -> None:
    scenario = write(tmp_path, CHARGING)
    one = one_run_calls(tmp_path, scenario)
    out = tmp_path / "load.json"
    code = main(["load", str(scenario), "-n", "200", "--workers", "2", "-q", "--json", str(out)])
    assert code == 0
    data = result(out)
    assert (data["workers"], data["shard"]) == (2, {"of": 1, "numbers": [1]})
    assert counts(data) == {action: 200 * n for action, n in one.items()}
    assert data["connections"]["opened"] == 200


def test_ids_follow_the_pattern_and_shards_split_them(tmp_path: Path, csms: Csms) -> None:
    scenario = write(tmp_path, HEARTBEATS)
    parts = []
    for shard in ("1/3", "2/3", "3/3"):
        out = tmp_path / f"shard-{shard[0]}.json"
        args = ["load", str(scenario), "-n", "30", "--workers", "0", "-q", "--csms", csms.url]
        args += ["--id-pattern", "EVSE-{n:03d}", "--shard", shard, "--json", str(out)]
        assert main(args) == 0
        parts.append(out)
    booted = [
        f["cp"]
        for f in csms.frames()
        if f["direction"] == "in"
        and isinstance(f["frame"], list)
        and f["frame"][2:3] == ["BootNotification"]
    ]
    assert sorted(booted) == [f"EVSE-{n:03d}" for n in range(1, 31)]  # each exactly once
    merged = tmp_path / "merged.json"
    assert main(["merge", *map(str, parts), "--json", str(merged)]) == 0
    whole = tmp_path / "whole.json"
    args = ["load", str(scenario), "-n", "30", "--workers", "0", "-q", "--csms", csms.url]
    assert main([*args, "--json", str(whole)]) == 0
    merged_data, whole_data = result(merged), result(whole)
    assert (merged_data["workers"], merged_data["shard"]) == (3, {"of": 3, "numbers": [1, 2, 3]})
    assert (
        counts(merged_data)
        == counts(whole_data)
        == {
            "BootNotification": 30,
            "StatusNotification": 60,
            "Heartbeat": 60,
        }
    )
    for key in ("connections", "messages", "steps"):
        assert merged_data[key] == whole_data[key], key
    for action, stats in merged_data["actions"].items():
        shard_histograms = [result(p)["actions"][action]["histogram"] for p in parts]
        assert stats["histogram"]["count"] == sum(h["count"] for h in shard_histograms)


def test_thresholds_decide_the_exit_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write(tmp_path, HEARTBEATS)
    base = ["load", str(scenario), "-n", "20", "--workers", "0", "-q"]
    holding = ["--threshold", "errors<1%", "--threshold", "Heartbeat.p99<10s"]
    assert main([*base, *holding]) == 0
    capsys.readouterr()
    breaking = ["--threshold", "errors<1%", "--threshold", "BootNotification.max<1us"]
    out = tmp_path / "r.json"
    assert main([*base, *breaking, "--json", str(out)]) == 1
    shown = capsys.readouterr().out
    assert "BootNotification.max<1us" in shown
    verdicts = {t["expression"]: t["passed"] for t in result(out)["thresholds"]}
    assert verdicts == {
        "errors<1%": True,
        "BootNotification.max<1us": False,
        "failed_steps==0": True,
    }


def test_thresholds_block_of_the_file(tmp_path: Path) -> None:
    scenario = write(tmp_path, HEARTBEATS + "thresholds: ['Heartbeat.calls>1000000']\n")
    assert main(["load", str(scenario), "-n", "5", "--workers", "0", "-q"]) == 1


def test_a_bad_threshold_is_a_usage_error_naming_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write(tmp_path, HEARTBEATS + "thresholds: ['p99<<5ms']\n")
    assert main(["load", str(scenario), "-n", "5", "--workers", "0", "-q"]) == 2
    assert str(scenario) in capsys.readouterr().err
    scenario = write(tmp_path, HEARTBEATS)
    args = ["load", str(scenario), "-n", "5", "--workers", "0", "-q"]
    assert main([*args, "--threshold", "Hartbeat.p95<1s"]) == 2
    assert "Heartbeat" in capsys.readouterr().err  # the closest action is suggested


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--loop"], "--loop needs --duration"),
        (["--id-pattern", "CP"], "same id"),
        (["--shard", "4/3"], "1 <= I <= N"),
        (["--ramp-up", "fast"], "per second"),
        (["--duration", "soon"], "--duration"),
    ],
)
def test_usage_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    scenario = write(tmp_path, HEARTBEATS)
    assert main(["load", str(scenario), "-n", "5", "--workers", "0", "-q", *options]) == 2
    captured = capsys.readouterr()
    assert message in captured.err + captured.out


def test_duration_stops_the_run_on_time(tmp_path: Path) -> None:
    scenario = write(tmp_path, HEARTBEATS)
    out = tmp_path / "r.json"
    args = ["load", str(scenario), "-n", "20", "--workers", "0", "-q", "--loop"]
    started = time.monotonic()
    assert main([*args, "--duration", "2s", "--json", str(out)]) == 0
    elapsed = time.monotonic() - started
    assert 2.0 <= elapsed < 2.0 + 3 * UNIT
    data = result(out)
    assert data["steps"]["iterations"] > 20  # looped
    assert 1.9 <= data["duration"] < 2.0 + 2 * UNIT
    timeline = data["timeline"]
    assert timeline and max(point["connected"] or 0 for point in timeline) == 20


def test_ramp_up_spreads_the_starts(tmp_path: Path) -> None:
    scenario = write(tmp_path, HEARTBEATS)
    out = tmp_path / "r.json"
    args = ["load", str(scenario), "-n", "20", "--workers", "0", "-q", "--ramp-up", "10/s"]
    started = time.monotonic()
    assert main([*args, "--json", str(out)]) == 0
    # 20 charge points at 10 per second: the last starts 1.9 s after the first.
    assert time.monotonic() - started >= 1.9
    assert result(out)["connections"]["opened"] == 20


def test_no_csms_to_reach_is_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scenario = write(tmp_path, HEARTBEATS)
    args = ["load", str(scenario), "-n", "3", "--workers", "0", "-q", "--connect-timeout", "0.3"]
    assert main([*args, "--csms", "ws://127.0.0.1:9/none"]) == 3
    assert "no charge point could connect" in capsys.readouterr().err


def test_merge_refuses_what_is_not_a_result(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "mockpoint-load/1", "actions": 5}', encoding="utf-8")
    assert main(["merge", str(bad)]) == 2
    assert "bad.json" in capsys.readouterr().err


# --- shards as the user types them: --shard I/N, 1-based, in load and merge alike ----------


def run_shard(tmp_path: Path, scenario: Path, url: str, shard: str) -> Path:
    """``mockpoint load --shard I/N`` of 6 charge points at speed 0, in this process; its
    --json file."""
    out = tmp_path / f"shard-{shard.replace('/', '-of-')}.json"
    args = ["load", str(scenario), "-n", "6", "--workers", "0", "--speed", "0", "-q"]
    assert main([*args, "--csms", url, "--shard", shard, "--json", str(out)]) == 0
    return out


def first_line(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out.splitlines()[0]


def test_two_shards_merge_and_are_numbered_as_typed(
    tmp_path: Path, csms: Csms, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write(tmp_path, HEARTBEATS)
    one = run_shard(tmp_path, scenario, csms.url, "1/2")
    assert first_line(capsys).startswith("mockpoint load  3 charge points, shard 1 of 2, 1 worker")
    two = run_shard(tmp_path, scenario, csms.url, "2/2")
    assert first_line(capsys).startswith("mockpoint load  3 charge points, shard 2 of 2, 1 worker")
    assert (result(one)["shard"], result(two)["shard"]) == (
        {"of": 2, "numbers": [1]},
        {"of": 2, "numbers": [2]},
    )
    # shard 1 of 2 runs numbers 1, 3, 5 (every 2nd from the 1st); shard 2 runs 2, 4, 6
    booted = [
        f["cp"]
        for f in csms.frames()
        if f["direction"] == "in" and f["frame"][0] == 2 and f["frame"][2] == "BootNotification"
    ]
    assert sorted(booted[:3]) == ["CP-00001", "CP-00003", "CP-00005"]
    assert sorted(booted[3:]) == ["CP-00002", "CP-00004", "CP-00006"]

    merged = tmp_path / "merged.json"
    assert main(["merge", str(two), str(one), "--json", str(merged)]) == 0
    assert first_line(capsys).startswith("mockpoint load  6 charge points, all 2 shards, 2 workers")
    data = result(merged)
    assert (data["shard"], data["workers"], data["target"]) == ({"of": 2, "numbers": [1, 2]}, 2, 6)
    assert counts(data) == {"BootNotification": 6, "Heartbeat": 12, "StatusNotification": 12}


def test_merge_wants_every_shard_of_one_run_once(
    tmp_path: Path, csms: Csms, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = write(tmp_path, HEARTBEATS)
    one = run_shard(tmp_path, scenario, csms.url, "1/3")
    three = run_shard(tmp_path, scenario, csms.url, "3/3")
    capsys.readouterr()

    def refused(*paths: Path) -> str:
        assert main(["merge", *map(str, paths)]) == 2
        return capsys.readouterr().err

    assert "missing shard 2 of 3 (the files hold 1, 3): merge every shard's --json" in refused(
        one, three
    )
    assert "missing shards 2, 3 of 3 (the files hold 1)" in refused(one)
    assert f"{one} and {one} both hold shard 1 of 3: merging them would count" in refused(
        one, one, three
    )
    other = tmp_path / "other-run.json"
    data = result(three)
    data["shard"] = {"of": 4, "numbers": [2]}
    other.write_text(json.dumps(data), encoding="utf-8")
    assert f"{other} holds shard 2 of 4, but {one} holds shard 1 of 3: merge the shards" in (
        refused(one, other)
    )
    # --partial merges what there is, and says which shards that is
    partial = tmp_path / "partial.json"
    assert main(["merge", str(one), str(three), "--partial", "--json", str(partial)]) == 0
    assert first_line(capsys).startswith("mockpoint load  4 charge points, shards 1, 3 of 3, ")
    assert result(partial)["shard"] == {"of": 3, "numbers": [1, 3]}
    # Results of earlier versions say "shards" for their workers and not which shard they
    # hold: they merge unchecked, as they did.
    older = tmp_path / "older.json"
    data = result(one)
    del data["shard"]
    data["shards"] = data.pop("workers")
    older.write_text(json.dumps(data), encoding="utf-8")
    assert main(["merge", str(older), str(three), "--json", str(partial)]) == 0
    assert (result(partial)["shard"], result(partial)["workers"]) == (None, 2)


def test_errors_name_the_shard_and_the_worker_from_one(tmp_path: Path) -> None:
    from mockpoint.load.engines import plans_for

    base = ShardPlan(str(write(tmp_path, HEARTBEATS)), count=24, csms_url="")
    plans = plans_for(base, "ws://127.0.0.1:9/ocpp", (2, 4), 3)
    assert [plan.label for plan in plans] == [
        "shard 2/4, worker 1 of 3",
        "shard 2/4, worker 2 of 3",
        "shard 2/4, worker 3 of 3",
    ]
    # shard 2 of 4 runs every 4th charge point from the 2nd, whatever the workers
    assert sorted(n for plan in plans for n in plan.numbers()) == list(range(2, 25, 4))
    assert [plan.label for plan in plans_for(base, "ws://x", None, 2)] == [
        "worker 1 of 2",
        "worker 2 of 2",
    ]


@pytest.mark.slow
async def test_a_worker_that_fails_is_named_as_the_user_counts(tmp_path: Path) -> None:
    from mockpoint.load.engines import EngineError, plans_for, run_in_workers

    # A plan does not check its id pattern (the command line does): this one fails in the
    # workers, when the charge points get their ids.
    base = ShardPlan(str(write(tmp_path, HEARTBEATS)), count=8, csms_url="", id_pattern="{x}")
    plans = plans_for(base, "ws://127.0.0.1:9/ocpp", (2, 2), 2)
    with pytest.raises(EngineError, match=r"^shard 2/2, worker [12] of 2: KeyError: 'x'$"):
        await run_in_workers(plans)


async def test_the_ray_engine_without_ray_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail, installed or not
    plan = ShardPlan(str(write(tmp_path, HEARTBEATS)), count=1, csms_url="ws://127.0.0.1:1")
    with pytest.raises(UsageError) as caught:
        await run_on_ray([plan], None, None)
    assert str(caught.value) == INSTALL_HINT

"""Fleet files (docs/load-fleets.md): what they load into, how ``-n`` is shared among the
groups, where each problem is reported, and which charge points the events touch."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import UNIT
from mockpoint.errors import UsageError
from mockpoint.load.arrivals import Arrivals
from mockpoint.load.fleet import (
    Blackout,
    FleetPlan,
    RollingReboot,
    Surge,
    is_fleet,
    load_files,
    load_fleet,
)
from mockpoint.scenario.loader import Problem, ScenarioError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "load" / "fleet.yaml"

#: Scenarios the fleets of these tests run: one connector and a step on it, two
#: connectors and a look at both.
ONE_CONNECTOR = """\
name: One connector
charge_point: {connectors: 1, configuration: {HeartbeatInterval: 60}}
steps:
  - send: BootNotification
  - plug_in: {connector: 1}
"""
TWO_CONNECTORS = """\
name: Two connectors
charge_point: {vendor: Acme, connectors: 2}
steps:
  - send: BootNotification
  - expect_state:
      connectors: {2: {status: Available}}
"""


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "one.yaml").write_text(ONE_CONNECTOR, encoding="utf-8")
    (tmp_path / "two.yaml").write_text(TWO_CONNECTORS, encoding="utf-8")
    return tmp_path


def write(folder: Path, text: str, name: str = "fleet.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(ScenarioError) as caught:
        load_fleet(path)
    assert str(caught.value) == "\n".join(map(str, caught.value.problems))
    return caught.value.problems


def only_problem(path: Path) -> Problem:
    problems = problems_of(path)
    assert len(problems) == 1, problems
    return problems[0]


def position(path: Path, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """The 1-based line and column of ``needle`` in the file (its ``occurrence``-th)."""
    seen = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number, line.index(needle) + 1
    raise AssertionError(f"{needle!r} is not in {path}")


def assert_at(problem: Problem, path: Path, needle: str, *words: str, occurrence: int = 1) -> None:
    assert (problem.file, (problem.line, problem.column)) == (
        str(path),
        position(path, needle, occurrence),
    ), problem
    for word in words:
        assert word in problem.message, problem


# --- what a valid fleet loads into ----------------------------------------------------------


def test_a_fleet_loads_with_its_defaults_and_its_scenarios(folder: Path) -> None:
    path = write(
        folder,
        """\
        fleet: Depot
        csms: ws://127.0.0.1:9000/ocpp
        charge_points: 8
        duration: 10m
        arrivals: poisson:6000/m
        seed: 7
        thresholds: ["p95<500ms", "failed_steps<1%"]
        groups:
          - scenario: one.yaml
            weight: 3
          - scenario: ./two.yaml
            name: highway
            weight: 1
            id_pattern: "HWY-{n:03d}"
            loop: true
        """,
    )
    fleet = load_fleet(path)
    assert (fleet.fleet, fleet.duration, fleet.seed) == ("Depot", 600.0, 7)
    assert fleet.arrivals == Arrivals("poisson", 100.0)
    assert fleet.thresholds == ["p95<500ms", "failed_steps<1%"]
    plan = fleet.plan()
    assert [(g.name, g.count, g.loop) for g in plan] == [("one", 6, None), ("highway", 2, True)]
    assert [g.scenario_path for g in plan] == [folder / "one.yaml", folder / "two.yaml"]
    assert [g.scenario.name for g in plan] == ["One connector", "Two connectors"]
    assert [plan.charge_point_id(n) for n in range(1, 9)] == [
        "one-00001",
        "one-00002",
        "HWY-001",
        "one-00003",
        "one-00004",
        "one-00005",
        "HWY-002",
        "one-00006",
    ]


def test_a_group_changes_its_scenarios_charge_point_and_keeps_the_rest(folder: Path) -> None:
    path = write(
        folder,
        """\
        fleet: Overrides
        groups:
          - scenario: one.yaml
            count: 2
            charge_point:
              vendor: ABB
              model: Terra AC
              connectors: 2
              configuration: {heartbeatinterval: 300, MeterValueSampleInterval: 30}
          - scenario: one.yaml
            name: plain
            count: 1
        """,
    )
    changed, plain = load_fleet(path).plan()
    spec = changed.scenario.charge_point
    assert (spec.vendor, spec.model, spec.connectors) == ("ABB", "Terra AC", 2)
    # the key given in another case replaces the scenario's, as the charge point matches it
    assert spec.configuration == {"heartbeatinterval": 300, "MeterValueSampleInterval": 30}
    assert plain.scenario.charge_point.connectors == 1
    assert plain.scenario.charge_point.configuration == {"HeartbeatInterval": 60}
    assert changed.scenario.steps == plain.scenario.steps


def test_the_example_fleet_loads_and_plans() -> None:
    fleet = load_fleet(EXAMPLE)
    plan = fleet.plan(400)
    assert [(g.name, g.count) for g in plan] == [("ac-depot", 300), ("dc-highway", 100)]
    assert [g.scenario.charge_point.vendor for g in plan] == ["ABB", "Alpitronic"]
    assert plan.surged == 100 and plan.charge_point_id(401) == "DEPOT-00301"
    assert [e.kind for e in plan.timeline(fleet.seed or 0)] == [
        "blackout",
        "rolling_reboot",
        "surge",
        "partition",
    ]


def test_is_fleet_tells_a_fleet_from_a_scenario(folder: Path) -> None:
    assert is_fleet(EXAMPLE)
    assert not is_fleet(folder / "one.yaml")
    assert is_fleet(write(folder, '"fleet": quoted\n', "quoted.yaml"))
    assert not is_fleet(write(folder, "name: x\ndescription: |\n  fleet: in a text\n", "s.yaml"))
    assert not is_fleet(folder / "missing.yaml")


# --- sharing -n among the groups --------------------------------------------------------


def weighted(folder: Path, *groups: str, extra: str = "") -> Callable[..., FleetPlan]:
    """The plan method of a fleet of ``groups``, each running one.yaml."""
    lines = "".join(f"  - {{scenario: one.yaml, name: g{i}, {g}}}\n" for i, g in enumerate(groups))
    return load_fleet(write(folder, f"fleet: F\n{extra}groups:\n{lines}")).plan


@pytest.mark.parametrize(
    ("groups", "total", "counts"),
    [
        (["weight: 3", "weight: 1"], 400, [300, 100]),
        (["weight: 1", "weight: 1", "weight: 1"], 10, [4, 3, 3]),  # a tie: the earlier
        (["weight: 1", "weight: 2", "weight: 1"], 5, [1, 3, 1]),
        (["weight: 0.5", "weight: 0.25", "weight: 0.25"], 7, [3, 2, 2]),
        (["count: 4", "weight: 2", "weight: 1"], 10, [4, 4, 2]),
        (["count: 3", "count: 0"], None, [3, 0]),
        (["count: 2", "count: 5"], 7, [2, 5]),
    ],
)
def test_counts_and_weights_share_the_total(
    folder: Path, groups: list[str], total: int | None, counts: list[int]
) -> None:
    plan = weighted(folder, *groups)(total)
    assert [g.count for g in plan] == counts
    assert plan.total == sum(counts)


def test_largest_remainders_decide_the_rounding(folder: Path) -> None:
    # quotas 2.6, 2.3 and 2.1 of 7: whole parts 2, 2, 2; the one left goes to the first
    plan = weighted(folder, "weight: 26", "weight: 23", "weight: 21")(7)
    assert [g.count for g in plan] == [3, 2, 2]


def test_every_stretch_of_numbers_mixes_the_groups_in_proportion(folder: Path) -> None:
    plan = weighted(folder, "weight: 5", "weight: 3", "weight: 2")(1000)
    seen = [0, 0, 0]
    for number in range(1, 1001):
        group, n = plan.member(number)
        index = [g.name for g in plan].index(group.name)
        seen[index] += 1
        assert n == seen[index]  # a group counts its charge points from 1, in order
        for i, g in enumerate(plan):
            assert abs(seen[i] - number * g.count / 1000) <= 1, (number, seen)
    for i, group in enumerate(plan):
        assert group.numbers == tuple(n for n in range(1, 1001) if plan.member(n)[0] is group)
        assert len(group.numbers) == group.count == seen[i]


def test_the_plan_refuses_a_total_the_counts_do_not_fit(folder: Path) -> None:
    counted = weighted(folder, "count: 2", "count: 3")
    with pytest.raises(UsageError, match=r"-n 9: the groups count 5 charge points"):
        counted(9)
    mixed = weighted(folder, "count: 5", "weight: 1")
    with pytest.raises(UsageError, match=r"-n 5: .* leaves none for the weighted groups \(g1\)"):
        mixed(5)
    with pytest.raises(UsageError, match="by weight: give -n"):
        mixed()
    assert [g.count for g in mixed(8)] == [5, 3]


def test_charge_points_is_the_default_total(folder: Path) -> None:
    plan = weighted(folder, "weight: 1", "weight: 1", extra="charge_points: 6\n")
    assert [g.count for g in plan()] == [3, 3]
    assert [g.count for g in plan(4)] == [2, 2]


def test_ids_that_clash_only_beyond_the_nominal_size_are_refused_by_the_plan(
    folder: Path,
) -> None:
    path = write(
        folder,
        """\
        fleet: Late clash
        groups:
          - {scenario: one.yaml, name: a, weight: 1, id_pattern: "A{n:04d}"}
          - {scenario: one.yaml, name: b, weight: 1, id_pattern: "A1{n:04d}"}
        """,
    )
    fleet = load_fleet(path)  # 1000 of each: A0001..A1000 and A10001..A11000
    assert fleet.plan(2000).charge_point_id(2000) == "A11000"
    with pytest.raises(ScenarioError) as caught:
        fleet.plan(20_002)  # A10001 is a's 10001st and b's first
    (problem,) = caught.value.problems
    assert_at(problem, path, '"A1{n:04d}"', "'A{n:04d}'", "'A10001'", "n=10001")


# --- every problem at its line ----------------------------------------------------------


def test_a_bad_weight_is_reported_at_its_line(folder: Path) -> None:
    path = write(folder, "fleet: F\ngroups:\n  - scenario: one.yaml\n    weight: 0\n")
    assert_at(only_problem(path), path, "0", "groups[0].weight", "greater than 0")


def test_count_and_weight_together_are_refused(folder: Path) -> None:
    path = write(folder, "fleet: F\ngroups:\n  - {scenario: one.yaml, count: 3, weight: 2}\n")
    assert_at(only_problem(path), path, "2}", "groups[0].weight", "count or weight, not both")


def test_an_unknown_key_is_named_with_the_close_one(folder: Path) -> None:
    path = write(folder, "fleet: F\ngroups:\n  - scenario: one.yaml\n    wieght: 2\n")
    assert_at(only_problem(path), path, "wieght", "unknown key 'wieght'", "did you mean weight")
    path = write(folder, "fleet: F\ngroup:\n  - scenario: one.yaml\n")
    problems = problems_of(path)
    assert_at(problems[0], path, "fleet", "missing required key 'groups'")
    assert_at(problems[1], path, "group:", "unknown key 'group'")


def test_a_missing_scenario_is_reported_at_the_group(folder: Path) -> None:
    path = write(folder, "fleet: F\ngroups:\n  - scenario: ../nowhere.yaml\n")
    missing = str(folder.parent / "nowhere.yaml")
    assert_at(only_problem(path), path, "../nowhere", "no such file", missing)


def test_a_scenario_with_an_error_names_the_fleet_line_and_its_own(folder: Path) -> None:
    broken = write(folder, "name: Broken\nsteps:\n  - sned: Heartbeat\n", "broken.yaml")
    path = write(
        folder,
        """\
        fleet: F
        groups:
          - {scenario: one.yaml, name: fine}
          - {scenario: broken.yaml, name: first}
          - {scenario: broken.yaml, name: again}
        """,
    )
    ours_1, ours_2, theirs = problems_of(path)  # the scenario's problem is listed once
    assert_at(ours_1, path, "broken.yaml", "does not load: 1 problem(s)", str(broken))
    assert_at(ours_2, path, "broken.yaml", occurrence=2)
    assert_at(theirs, broken, "sned", "did you mean send?")


def test_a_fleet_as_a_group_scenario_is_refused(folder: Path) -> None:
    write(folder, "fleet: Inner\ngroups: [{scenario: one.yaml}]\n", "inner.yaml")
    path = write(folder, "fleet: Outer\ngroups: [{scenario: inner.yaml}]\n")
    assert_at(only_problem(path), path, "inner.yaml", "is a fleet file, not a scenario")


def test_two_groups_of_one_name_are_refused(folder: Path) -> None:
    path = write(folder, "fleet: F\ngroups:\n  - scenario: one.yaml\n  - scenario: one.yaml\n")
    assert_at(only_problem(path), path, "one.yaml", "named 'one' (its file's name)", occurrence=2)
    path = write(
        folder,
        "fleet: F\ngroups:\n  - {scenario: one.yaml, name: x}\n  - {scenario: two.yaml, name: x}\n",
    )
    assert_at(only_problem(path), path, "x}", "two groups are named 'x'", occurrence=2)


def test_a_name_that_cannot_be_one_is_refused(folder: Path) -> None:
    (folder / "with space.yaml").write_text(ONE_CONNECTOR, encoding="utf-8")
    path = write(folder, "fleet: F\ngroups: [{scenario: with space.yaml}]\n")
    assert_at(only_problem(path), path, "with space", "name this group (name:)")
    path = write(folder, "fleet: F\ngroups: [{scenario: one.yaml, name: 'a/b'}]\n")
    assert_at(only_problem(path), path, "'a/b'", "groups[0].name", "letters, digits")


def test_id_patterns_that_collide_are_refused(folder: Path) -> None:
    path = write(
        folder,
        """\
        fleet: F
        groups:
          - {scenario: one.yaml, name: a, count: 20, id_pattern: "CP-{n}"}
          - {scenario: two.yaml, name: b, count: 20, id_pattern: "CP-1{n}"}
        """,
    )
    assert_at(only_problem(path), path, '"CP-1{n}"', "'CP-11' for n=1", "group a's")
    # names as default patterns never collide
    path = write(folder, "fleet: F\ngroups:\n  - {scenario: one.yaml}\n  - {scenario: two.yaml}\n")
    assert load_fleet(path).plan(2).charge_point_id(2) == "two-00001"


def test_an_id_pattern_without_n_is_refused(folder: Path) -> None:
    path = write(folder, 'fleet: F\ngroups: [{scenario: one.yaml, id_pattern: "CP-{m}"}]\n')
    assert_at(only_problem(path), path, '"CP-{m}"', "groups[0].id_pattern", "use {n}")
    path = write(folder, 'fleet: F\ngroups: [{scenario: one.yaml, id_pattern: "CP"}]\n')
    assert_at(only_problem(path), path, '"CP"', "the same id")


@pytest.mark.parametrize(
    ("event", "needle", "words"),
    [
        ("{at: 1m, blackot: {fraction: 0.5, for: 30s}}", "blackot", ["did you mean blackout"]),
        (
            "{at: 1m, surge: {count: 5}, partition: {fraction: 0.1, for: 5s}}",
            "{at",
            ["events[0]", "exactly one of", "surge and partition"],
        ),
        ("{at: 1m}", "{at", ["exactly one of", "found none"]),
        ("{at: 1m, blackout: {fraction: 0, for: 30s}}", "0,", ["blackout.fraction", "than 0"]),
        ("{at: 1m, partition: {fraction: 1.5, for: 3s}}", "1.5", ["partition.fraction", "1"]),
        ("{at: 1m, blackout: {fraction: 0.5, for: soon}}", "soon", ["blackout.for", "duration"]),
        ("{at: 1m, blackout: {fraction: 0.5}}", "{fraction", ["missing required key 'for'"]),
        ("{at: 1m, rolling_reboot: {over: 2m, type: Warm}}", "Warm", ["'Soft' or 'Hard'"]),
        ("{at: 1m, surge: {count: 5, group: hihgway}}", "hihgway", ["did you mean highway"]),
        ("{at: 11m, surge: {count: 5}}", "11m", ["events[0].at", "before the run ends"]),
    ],
)
def test_a_bad_event_is_reported_at_its_line(
    folder: Path, event: str, needle: str, words: list[str]
) -> None:
    path = write(
        folder,
        f"fleet: F\nduration: 10m\ngroups:\n  - {{scenario: one.yaml, name: highway}}\n"
        f"events:\n  - {event}\n",
    )
    assert_at(only_problem(path), path, needle, *words)


@pytest.mark.parametrize(
    ("line", "needle", "words"),
    [
        ("arrivals: poisson:fast", "poisson", ["arrivals", "'fast' is not a rate"]),
        ("arrivals: burst:3/s", "burst", ["not an arrival process"]),
        ("thresholds: [p95<500ms, 'p95<<3']", "'p95<<3'", ["thresholds[1]", "not a number"]),
        ("csms: http://127.0.0.1:9000", "http", ["ws:// or wss://"]),
        ("charge_points: 0", "0", ["charge_points", "greater than or equal to 1"]),
        ("duration: 0s", "0s", ["duration", "greater than 0"]),
        ("mock_csms: {boot: {status: Maybe}}", "Maybe", ["mock_csms"]),
    ],
)
def test_a_bad_header_value_is_reported_at_its_line(
    folder: Path, line: str, needle: str, words: list[str]
) -> None:
    path = write(folder, f"fleet: F\n{line}\ngroups: [{{scenario: one.yaml}}]\n")
    assert_at(only_problem(path), path, needle, *words)


def test_counts_that_contradict_charge_points_are_refused(folder: Path) -> None:
    path = write(folder, "fleet: F\ncharge_points: 10\ngroups: [{scenario: one.yaml, count: 4}]\n")
    assert_at(only_problem(path), path, "10", "charge_points: 10: the groups count 4")


def test_a_charge_point_the_steps_cannot_use_is_refused_naming_both_files(folder: Path) -> None:
    path = write(
        folder,
        """\
        fleet: F
        groups:
          - scenario: two.yaml
            charge_point: {connectors: 1}
        """,
    )
    problem = only_problem(path)
    line, column = position(folder / "two.yaml", "2: {status")
    assert_at(problem, path, "{connectors", f"{folder / 'two.yaml'}:{line}:{column}", "connector")


def test_a_bad_configuration_override_is_reported_at_its_key(folder: Path) -> None:
    path = write(
        folder,
        """\
        fleet: F
        groups:
          - scenario: one.yaml
            charge_point:
              configuration: {HeartbeatInterval: -1, NoSuchKey: 3}
        """,
    )
    first, second = problems_of(path)
    assert_at(first, path, "HeartbeatInterval", "HeartbeatInterval: must be at least 0")
    assert_at(second, path, "NoSuchKey", "unknown configuration key")


def test_a_bad_charge_point_field_is_reported_at_its_line(folder: Path) -> None:
    path = write(
        folder, "fleet: F\ngroups:\n  - {scenario: one.yaml, charge_point: {connectors: 0}}\n"
    )
    assert_at(only_problem(path), path, "0}", "groups[0].charge_point.connectors")
    path = write(folder, "fleet: F\ngroups:\n  - {scenario: one.yaml, charge_point: {id: X}}\n")
    assert_at(only_problem(path), path, "id:", "unknown key 'id'")


def test_files_that_are_not_fleets(folder: Path) -> None:
    assert_at(only_problem(folder / "one.yaml"), folder / "one.yaml", "name", "a scenario file")
    path = write(folder, "")
    assert only_problem(path).message.startswith("the file is empty: a fleet needs")
    path = write(folder, "fleet: F\ngroups: [\n")
    assert "invalid YAML" in only_problem(path).message
    path = write(folder, "fleet: F\nfleet: G\ngroups: [{scenario: one.yaml}]\n")
    assert_at(only_problem(path), path, "fleet: G", "duplicate key 'fleet'")
    assert str(only_problem(folder)) == f"{folder}: is a folder, not a fleet file"


# --- events ---------------------------------------------------------------------------------

EVENTS = """\
fleet: Events
groups:
  - {scenario: one.yaml, name: depot, weight: 3}
  - {scenario: two.yaml, name: highway, weight: 1}
events:
  - {at: 2m, blackout: {fraction: 0.5, for: 30s, reconnect_within: 20s}}
  - {at: 5m, rolling_reboot: {fraction: 0.25, over: 2m, type: Hard}}
  - {at: 90s, surge: {count: 40, group: highway}}
  - {at: 8m, partition: {fraction: 0.2, for: 45s, group: highway}}
  - {at: 9m, surge: {count: 9}}
"""


@pytest.fixture
def events_plan(folder: Path) -> FleetPlan:
    return load_fleet(write(folder, EVENTS)).plan(400)


def test_events_come_by_time_with_their_own_draws(events_plan: FleetPlan) -> None:
    timeline = events_plan.timeline(seed=7)
    assert [(e.index, e.kind) for e in timeline] == [
        (2, "surge"),
        (0, "blackout"),
        (1, "rolling_reboot"),
        (3, "partition"),
        (4, "surge"),
    ]
    assert timeline == events_plan.timeline(seed=7)
    other = events_plan.timeline(seed=8)
    assert [e.hits for e in other] != [e.hits for e in timeline]
    assert [len(e.hits) for e in other] == [len(e.hits) for e in timeline]


def test_each_event_touches_its_share_of_the_charge_points_present(
    events_plan: FleetPlan,
) -> None:
    surge, blackout, reboot, partition, spread = events_plan.timeline(seed=3)
    # the first surge (at 90 s) brings 40 highway charge points before the others
    assert [h.number for h in surge.hits] == list(range(401, 441))
    assert {events_plan.member(h.number)[0].name for h in surge.hits} == {"highway"}
    assert events_plan.charge_point_id(401) == "highway-00101"
    present = 440
    assert len(blackout.hits) == present // 2
    assert len(reboot.hits) == present // 4
    highway = [n for n in range(1, 441) if events_plan.member(n)[0].name == "highway"]
    assert len(highway) == 140
    assert len(partition.hits) == 28 and {h.number for h in partition.hits} <= set(highway)
    # the last surge is shared 3 to 1, as the run is; none of its charge points was hit before
    assert [events_plan.member(h.number)[0].name for h in spread.hits].count("depot") == 7
    assert events_plan.surged == 49 and events_plan.total == 400
    for event in (blackout, reboot, partition):
        numbers = [h.number for h in event.hits]
        assert len(set(numbers)) == len(numbers) and max(numbers) <= present


def test_a_fraction_of_few_is_rounded_half_up_and_never_none(folder: Path) -> None:
    def hit(total: int, fraction: float) -> int:
        text = EVENTS.split("events:")[0] + (
            f"events:\n  - {{at: 1m, partition: {{fraction: {fraction}, for: 5s}}}}\n"
        )
        plan = load_fleet(write(folder, text)).plan(total)
        return len(plan.timeline(0)[0].hits)

    assert [hit(4, 0.125), hit(4, 0.1), hit(10, 0.25), hit(10, 0.24), hit(7, 1.0)] == [
        1,
        1,
        3,
        2,
        7,
    ]


def test_the_times_of_each_kind(events_plan: FleetPlan) -> None:
    timeline = {e.kind: e for e in events_plan.timeline(seed=11)}
    blackout = timeline["blackout"]
    assert isinstance(blackout.event.effect, Blackout)
    backs = [h.back_at for h in blackout.hits]
    assert all(h.at == 120.0 for h in blackout.hits)
    assert all(b is not None and 150.0 <= b <= 170.0 for b in backs)
    assert len(set(backs)) == len(backs)  # jittered, not together
    reboot = timeline["rolling_reboot"]
    assert isinstance(reboot.event.effect, RollingReboot) and reboot.event.effect.type == "Hard"
    times = [h.at for h in reboot.hits]
    step = 120.0 / len(times)
    assert times == pytest.approx([300.0 + i * step for i in range(len(times))])
    assert [h.number for h in reboot.hits] != sorted(h.number for h in reboot.hits)
    partition = timeline["partition"]
    assert {(h.at, h.back_at) for h in partition.hits} == {(480.0, 525.0)}
    assert isinstance(timeline["surge"].event.effect, Surge)


def test_plans_and_timelines_are_the_same_in_another_process(events_plan: FleetPlan) -> None:
    fleet = Path(events_plan.groups[0].scenario_path).parent / "fleet.yaml"
    code = textwrap.dedent(
        f"""\
        from mockpoint.load.fleet import load_fleet
        plan = load_fleet({str(fleet)!r}).plan(400)
        print([plan.charge_point_id(n) for n in range(1, 450)])
        print(plan.timeline(5))
        """
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        timeout=60 * UNIT,
        check=True,
    )
    ids = [events_plan.charge_point_id(n) for n in range(1, 450)]
    assert done.stdout == f"{ids}\n{events_plan.timeline(5)}\n"


# --- what mockpoint validate would read -------------------------------------------------------


def test_load_files_reads_fleets_as_fleets_and_the_rest_as_scenarios(folder: Path) -> None:
    write(folder, "fleet: F\ngroups: [{scenario: one.yaml}, {scenario: two.yaml}]\n")
    scenarios, fleets = load_files([folder, folder / "one.yaml"])
    assert [path.name for path, _ in scenarios] == ["one.yaml", "two.yaml"]
    assert [(path.name, fleet.fleet) for path, fleet in fleets] == [("fleet.yaml", "F")]
    scenarios, fleets = load_files([ROOT / "examples" / "load"])
    assert [p.name for p, _ in scenarios] == ["heartbeat-only.yaml"] and len(fleets) == 1


def test_load_files_lists_each_problem_once_in_the_order_of_the_files(folder: Path) -> None:
    broken = write(folder, "name: Broken\nsteps:\n  - sned: Heartbeat\n", "broken.yaml")
    fleet = write(folder, "fleet: F\ngroups: [{scenario: broken.yaml}]\n", "z-fleet.yaml")
    with pytest.raises(ScenarioError) as caught:
        load_files([folder, folder / "missing.yaml"])
    problems = caught.value.problems
    assert [(Path(p.file).name, p.line) for p in problems] == [
        ("broken.yaml", 3),
        ("z-fleet.yaml", 2),
        ("missing.yaml", 0),
    ]
    assert problems[0].file == str(broken) and problems[1].file == str(fleet)

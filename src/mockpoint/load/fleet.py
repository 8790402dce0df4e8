"""Fleet files: many scenarios in one load run, their arrivals and the fleet's events
(docs/load-fleets.md).

A fleet file names its groups, each a scenario file run by ``count`` charge points or by a
``weight`` share of ``-n``, with its own charge point (vendor, model, connectors,
configuration), id pattern and loop flag; and events on the run's timeline: a blackout, a
rolling reboot, a surge of new charge points, a network partition.

:func:`load_fleet` checks it as the scenario loader checks a scenario, every problem at its
``file:line:column``, the groups' scenario files included. :meth:`Fleet.plan` makes the
run's plan for ``-n``: which charge point numbers each group runs, their ids, and which
charge points each event touches, when, for a seed.

Numbers. The charge points of a run are numbered 1 to ``total`` (the numbers the shards
split and the arrival process orders), then ``total + 1`` onwards for those the surges add,
in the order of the surges. The groups take turns along the numbers in proportion to their
counts, so that every stretch of arrivals mixes them as the whole run does (with counts 3
and 1: A A B A, A A B A, ...); :meth:`FleetPlan.member` says whose a number is. Within a
group the charge points count from 1 (``n`` of its ``id_pattern``) in the order of their
numbers, surges' last.
"""

from __future__ import annotations

import math
import os
import random
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    PrivateAttr,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from mockpoint.datapaths import json_path
from mockpoint.errors import ConfigurationError, ScenarioError, UsageError
from mockpoint.load.arrivals import Arrivals
from mockpoint.load.thresholds import parse_threshold
from mockpoint.modelerrors import did_you_mean
from mockpoint.quantities import Duration
from mockpoint.scenario.checks import findings
from mockpoint.scenario.loader import SUFFIXES, YamlCheck, is_fleet, load_paths, load_scenario
from mockpoint.scenario.model import ChargePointSpec, CsmsTarget, Json, Scenario
from mockpoint.station.configuration import Configuration
from mockpoint.yamlsource import Problem, Tree, read_text

__all__ = [
    "Blackout",
    "EventPlan",
    "Fleet",
    "FleetEvent",
    "FleetGroup",
    "FleetPlan",
    "GroupPlan",
    "Hit",
    "Partition",
    "RollingReboot",
    "StationOverride",
    "Surge",
    "is_fleet",
    "load_files",
    "load_fleet",
]

#: The charge points the id patterns are checked for when the fleet's size is not known
#: until ``-n`` (the plan checks the run's own ids again).
NOMINAL_TOTAL = 1000

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def _name(value: str | None) -> str | None:
    if value is not None and not _NAME.match(value):
        raise ValueError(
            f"{value!r}: a group's name is up to 40 letters, digits, '-', '_' and '.', "
            "e.g. ac-depot"
        )
    return value


def _id_pattern(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        one, two = value.format(n=1), value.format(n=2)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise ValueError(
            f"{value!r}: {exc!r}; use {{n}} for the number, e.g. CP-{{n:05d}}"
        ) from None
    if one == two:
        raise ValueError(f"{value!r} gives every charge point the same id: use {{n}} in it")
    if not one:
        raise ValueError(f"{value!r} gives an empty id")
    return value


def _arrivals(value: object) -> Arrivals:
    return value if isinstance(value, Arrivals) else Arrivals.parse(value)  # type: ignore[arg-type]


def _threshold(value: str) -> str:
    parse_threshold(value)  # its ThresholdError is a ValueError: placed at the item
    return value


ArrivalsText = Annotated[
    Arrivals,
    PlainValidator(_arrivals),
    WithJsonSchema({"type": "string", "description": "ramp:RATE, poisson:RATE or all-at-once"}),
]
GroupName = Annotated[str | None, AfterValidator(_name)]
Positive = Annotated[Duration, Field(gt=0)]
#: A share of the charge points: more than 0, at most 1.
Share = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]


# --- the file -----------------------------------------------------------------------------


class StationOverride(_Model):
    """A group's ``charge_point:``: what it changes of its scenario's charge point. The
    scenario's ``configuration`` stays but for the keys given here."""

    vendor: str | None = Field(None, min_length=1, max_length=20)
    model: str | None = Field(None, min_length=1, max_length=20)
    serial_number: str | None = Field(None, max_length=25)
    firmware_version: str | None = Field(None, max_length=50)
    connectors: int | None = Field(None, ge=1, le=100)
    configuration: dict[str, str | int | bool | list[str]] | None = None


class FleetGroup(_Model):
    """One scenario and the charge points that run it."""

    scenario: str = Field(min_length=1, description="scenario file, relative to the fleet file")
    name: GroupName = Field(None, description="default: the scenario file's name without .yaml")
    count: int | None = Field(None, ge=0, description="charge points; or weight")
    weight: float | None = Field(
        None, gt=0, allow_inf_nan=False, description="share of -n; default 1 without count"
    )
    id_pattern: str | None = Field(None, description="default: NAME-{n:05d}; n counts from 1")
    loop: bool | None = Field(None, description="take the steps again and again; default --loop")
    charge_point: StationOverride | None = None

    _check_pattern = field_validator("id_pattern")(_id_pattern)

    @model_validator(mode="after")
    def _count_or_weight(self) -> FleetGroup:
        if self.count is not None and self.weight is not None:
            raise ValueError("weight: give count or weight, not both")
        return self

    @property
    def label(self) -> str:
        """Its name, or else its scenario file's stem."""
        return self.name or Path(self.scenario).stem

    @property
    def pattern(self) -> str:
        return self.id_pattern or f"{self.label}-{{n:05d}}"


class Blackout(_Model):
    """A share of the charge points lose power and network at once; when power returns
    each reboots and reconnects at a moment drawn within ``reconnect_within``."""

    fraction: Share
    for_: Positive = Field(alias="for", description="how long the power is off")
    reconnect_within: Duration = Field(0.0, description="the spread of the reconnections")
    group: GroupName = Field(None, description="only this group's charge points")


class RollingReboot(_Model):
    """A share of the charge points reboot one after another, evenly over ``over``, as a
    Reset.req of ``type`` makes them (§5.14)."""

    fraction: Share = 1.0
    over: Positive
    type: Literal["Soft", "Hard"] = "Soft"
    group: GroupName = None


class Surge(_Model):
    """``count`` more charge points arrive at once, all in ``group``, or else shared by the
    groups as the run shares its charge points."""

    count: int = Field(ge=1)
    group: GroupName = None


class Partition(_Model):
    """A share of the charge points lose the network for ``for``: their connections drop
    without a close frame, and they reconnect once it is back."""

    fraction: Share
    for_: Positive = Field(alias="for")
    group: GroupName = None


Effect = Blackout | RollingReboot | Surge | Partition
#: The kinds of event, as the file writes them.
EVENT_KINDS = ("blackout", "rolling_reboot", "surge", "partition")


class FleetEvent(_Model):
    """What happens ``at`` seconds from the start of the run: one of the four kinds."""

    at: Duration
    blackout: Blackout | None = None
    rolling_reboot: RollingReboot | None = None
    surge: Surge | None = None
    partition: Partition | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> FleetEvent:
        given = [kind for kind in EVENT_KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            found = " and ".join(given) or "none"
            raise ValueError(
                f"an event needs exactly one of: {', '.join(EVENT_KINDS)}; found {found}"
            )
        return self

    @property
    def kind(self) -> str:
        return next(kind for kind in EVENT_KINDS if getattr(self, kind) is not None)

    @property
    def effect(self) -> Effect:
        effect: Effect = getattr(self, self.kind)
        return effect


class Fleet(_Model):
    """One fleet file. :func:`load_fleet` reads it with its groups' scenarios, which
    :meth:`plan` needs."""

    fleet: str = Field(min_length=1, description="the fleet's name")
    description: str = ""
    csms: str | CsmsTarget | None = Field(None, description="as a scenario's; --csms wins")
    mock_csms: Json | None = Field(None, description="as a scenario's, for the whole run")
    charge_points: int | None = Field(None, ge=1, description="default for -n")
    duration: Positive | None = Field(None, description="default for --duration")
    arrivals: ArrivalsText | None = Field(None, description="default for --arrivals")
    seed: int | None = Field(None, description="default for --seed")
    thresholds: list[Annotated[str, AfterValidator(_threshold)]] = Field(default_factory=list)
    groups: list[FleetGroup] = Field(min_length=1)
    events: list[FleetEvent] = Field(default_factory=list)

    #: per group: its scenario file and its scenario with the group's charge point
    _scenarios: list[tuple[Path, Scenario]] = PrivateAttr(default_factory=list)
    #: per group: where the file gives its ids (file, line, column), for the plan's problems
    _id_places: list[tuple[str, int, int]] = PrivateAttr(default_factory=list)

    @property
    def scenarios(self) -> list[tuple[Path, Scenario]]:
        """Per group: its scenario file, and its scenario with the group's charge point."""
        return list(self._scenarios)

    def plan(self, total: int | None = None) -> FleetPlan:
        """The run's plan for ``total`` charge points (``-n``; default ``charge_points:``,
        or else the groups' counts). Groups with a count take it; the weighted ones share
        the rest by their weights, the remainders of the shares rounded largest first (the
        earlier group on a tie). Raises UsageError for a total the counts do not fit and
        ScenarioError (at the file's line) for an id two charge points would share."""
        if len(self._scenarios) != len(self.groups):
            raise UsageError("the fleet's scenarios are not loaded: read it with load_fleet")
        if total is not None:
            counts = self._counts(total, f"-n {total}")
        else:
            counts = self._counts(self.charge_points, f"charge_points: {self.charge_points}")
        return FleetPlan._make(self, counts)

    def _counts(self, total: int | None, given: str) -> list[int]:
        fixed = sum(g.count for g in self.groups if g.count is not None)
        weighted = [i for i, g in enumerate(self.groups) if g.count is None]
        if not weighted:
            if total is not None and total != fixed:
                raise UsageError(
                    f"{given}: the groups count {fixed} charge points; leave it out, or give "
                    "the groups weights"
                )
            if fixed == 0:
                raise UsageError("the groups count no charge point at all")
            return [g.count or 0 for g in self.groups]
        if total is None:
            raise UsageError("the fleet shares its charge points by weight: give -n")
        left = total - fixed
        if left <= 0:
            names = ", ".join(self.groups[i].label for i in weighted)
            raise UsageError(
                f"{given}: the groups' counts take {fixed}, which leaves none for the "
                f"weighted groups ({names})"
            )
        shares = _apportion(left, [Fraction(self.groups[i].weight or 1) for i in weighted])
        counts = [g.count or 0 for g in self.groups]
        for i, share in zip(weighted, shares, strict=True):
            counts[i] = share
        return counts


# --- the plan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupPlan:
    """One group of a run: what its charge points run and which they are."""

    name: str
    #: its scenario, with the group's charge point (vendor, connectors, configuration...)
    scenario: Scenario
    scenario_path: Path
    #: charge points from the start (those of surges come on top)
    count: int
    id_pattern: str
    #: None: the command's --loop
    loop: bool | None
    #: the run's numbers of all its charge points, in order: the i-th is its n = i + 1
    numbers: tuple[int, ...]

    def charge_point_id(self, n: int) -> str:
        """The id of its ``n``-th charge point (from 1)."""
        return self.id_pattern.format(n=n)


@dataclass(frozen=True)
class Hit:
    """A charge point an event touches, and when, in seconds from the start of the run.
    ``back_at``: for a blackout, when it reconnects (power back, then its jitter); for a
    partition, when the network is back; None for the others."""

    number: int
    at: float
    back_at: float | None = None


@dataclass(frozen=True)
class EventPlan:
    """An event of the fleet, with the charge points it touches for a seed: a surge's are
    the new ones, which arrive at its ``at``."""

    #: its place among the fleet's events (0-based), as the file lists them
    index: int
    event: FleetEvent
    hits: tuple[Hit, ...]

    @property
    def kind(self) -> str:
        return self.event.kind


@dataclass(frozen=True)
class FleetPlan:
    """The groups of a run and whose each charge point number is (see the module
    docstring). Picklable; every shard may as well make it again from the fleet file and
    ``-n``, which gives the same plan."""

    groups: tuple[GroupPlan, ...]
    #: the charge points the arrival process brings: numbers 1 to total
    total: int
    #: the charge points surges add: numbers total + 1 to total + surged
    surged: int
    events: tuple[FleetEvent, ...]
    #: per number - 1: the index of its group and its n there
    _owners: tuple[tuple[int, int], ...]
    #: per event (by index): the numbers a surge adds
    _surges: tuple[tuple[int, ...], ...]

    def __iter__(self) -> Iterator[GroupPlan]:
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)

    def member(self, number: int) -> tuple[GroupPlan, int]:
        """The group of charge point ``number`` and its ``n`` there."""
        if not 1 <= number <= self.total + self.surged:
            raise IndexError(f"no charge point {number} in a plan of {len(self._owners)}")
        group, n = self._owners[number - 1]
        return self.groups[group], n

    def charge_point_id(self, number: int) -> str:
        group, n = self.member(number)
        return group.charge_point_id(n)

    def timeline(self, seed: int) -> list[EventPlan]:
        """Every event with the charge points it touches, by time (file order on a tie).
        The same for the same seed in every process; each event draws from its own
        generator, so adding one leaves the others' draws alone."""
        plans = []
        present = list(range(1, self.total + 1))
        for index in sorted(range(len(self.events)), key=lambda i: (self.events[i].at, i)):
            event = self.events[index]
            rng = random.Random(f"{seed}:event:{index}")
            effect = event.effect
            if isinstance(effect, Surge):
                added = self._surges[index]
                hits = tuple(Hit(number, event.at) for number in added)
                present.extend(added)
            else:
                hits = self._hits(event, effect, self._chosen(present, effect, rng), rng)
            plans.append(EventPlan(index, event, hits))
        return plans

    def _chosen(
        self, present: list[int], effect: Blackout | RollingReboot | Partition, rng: random.Random
    ) -> list[int]:
        """A share of the charge points present (of its group, if it names one), at least
        one of any, in the order drawn."""
        if effect.group is not None:
            group = next(i for i, g in enumerate(self.groups) if g.name == effect.group)
            present = [number for number in present if self._owners[number - 1][0] == group]
        if not present:
            return []
        size = max(1, math.floor(effect.fraction * len(present) + 0.5))
        return rng.sample(present, min(size, len(present)))

    @staticmethod
    def _hits(
        event: FleetEvent,
        effect: Blackout | RollingReboot | Partition,
        chosen: list[int],
        rng: random.Random,
    ) -> tuple[Hit, ...]:
        if isinstance(effect, RollingReboot):
            # one after another in the order drawn, evenly over the period
            step = effect.over / len(chosen) if chosen else 0.0
            return tuple(Hit(number, event.at + i * step) for i, number in enumerate(chosen))
        ordered = sorted(chosen)
        if isinstance(effect, Blackout):
            back = event.at + effect.for_
            return tuple(
                Hit(number, event.at, back + rng.uniform(0.0, effect.reconnect_within))
                for number in ordered
            )
        return tuple(Hit(number, event.at, event.at + effect.for_) for number in ordered)

    @classmethod
    def _make(cls, fleet: Fleet, counts: list[int]) -> FleetPlan:
        total = sum(counts)
        owners = _interleave(counts)
        surges: list[tuple[int, ...]] = [() for _ in fleet.events]
        for index in sorted(range(len(fleet.events)), key=lambda i: (fleet.events[i].at, i)):
            effect = fleet.events[index].effect
            if not isinstance(effect, Surge):
                continue
            if effect.group is not None:
                joining = [next(i for i, g in enumerate(fleet.groups) if g.label == effect.group)]
                shares = [effect.count]
            else:
                joining = [i for i, count in enumerate(counts) if count]
                shares = _apportion(effect.count, [Fraction(counts[i]) for i in joining])
            first = len(owners) + 1
            owners.extend(joining[k] for k in _interleave(shares))
            surges[index] = tuple(range(first, len(owners) + 1))
        numbers: list[list[int]] = [[] for _ in counts]
        members = []
        for number, group in enumerate(owners, start=1):
            numbers[group].append(number)
            members.append((group, len(numbers[group])))
        groups = tuple(
            GroupPlan(
                name=group.label,
                scenario=scenario,
                scenario_path=path,
                count=counts[i],
                id_pattern=group.pattern,
                loop=group.loop,
                numbers=tuple(numbers[i]),
            )
            for i, (group, (path, scenario)) in enumerate(
                zip(fleet.groups, fleet._scenarios, strict=True)
            )
        )
        clash = _clash(groups)
        if clash is not None:
            index, message = clash
            raise ScenarioError([Problem(*fleet._id_places[index], message)])
        return cls(
            groups, total, len(owners) - total, tuple(fleet.events), tuple(members), tuple(surges)
        )


def _apportion(total: int, weights: Sequence[Fraction]) -> list[int]:
    """``total`` shared by ``weights``: the whole part of each share, then one more to the
    largest remainders (the earlier on a tie)."""
    whole = sum(weights)
    quotas = [total * w / whole for w in weights]
    shares = [math.floor(q) for q in quotas]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - shares[i]), i))
    for i in by_remainder[: total - sum(shares)]:
        shares[i] += 1
    return shares


def _interleave(counts: Sequence[int]) -> list[int]:
    """Group indexes, ``counts[i]`` of each, spread so that every stretch holds them in
    proportion: the k-th of group i stands at (k + 1/2) / counts[i] of the way."""
    slots = [((2 * k + 1) / (2 * count), i) for i, count in enumerate(counts) for k in range(count)]
    slots.sort()
    return [i for _, i in slots]


def _clash(groups: Sequence[GroupPlan]) -> tuple[int, str] | None:
    """The first id two charge points would share: the later group's index and what to
    say, or None."""
    owners: dict[str, tuple[int, int]] = {}
    for i, group in enumerate(groups):
        for n in range(1, len(group.numbers) + 1):
            cp_id = group.charge_point_id(n)
            if cp_id in owners:
                j, m = owners[cp_id]
                other = "the same group's" if j == i else f"group {groups[j].name}'s"
                return i, (
                    f"id_pattern {group.id_pattern!r} gives {cp_id!r} for n={n}, as "
                    f"{other} {groups[j].id_pattern!r} does for n={m}: make the patterns differ"
                )
            owners[cp_id] = (i, n)
    return None


# --- loading ------------------------------------------------------------------------------


def load_fleet(path: Path) -> Fleet:
    """The fleet of one file with its groups' scenarios; raises ScenarioError with every
    problem: the fleet's at their ``file:line:column``, then those of each scenario file
    that does not load (the fleet names it at the group's line)."""
    path = Path(path)
    if path.is_dir():
        raise ScenarioError([Problem(str(path), 0, 0, "is a folder, not a fleet file")])
    text, problems = read_text(path)
    if text is None:
        raise ScenarioError(problems)
    check = _FleetCheck(path, text)
    fleet = check.run()
    problems = sorted(dict.fromkeys(check.problems), key=lambda p: (p.line, p.column))
    problems += [p for p in dict.fromkeys(check.theirs) if p not in problems]
    if fleet is None or problems:
        raise ScenarioError(problems)
    return fleet


def load_files(
    paths: Sequence[str | Path],
) -> tuple[list[tuple[Path, Scenario]], list[tuple[Path, Fleet]]]:
    """The scenarios and the fleets of ``paths`` (``mockpoint validate``): files, and
    folders for every ``*.yaml`` and ``*.yml`` below them, as ``load_paths`` reads them,
    each fleet file loaded as a fleet. Raises ScenarioError with the problems of all files,
    each problem once, in the order of the files."""
    scenarios: list[tuple[Path, Scenario]] = []
    fleets: list[tuple[Path, Fleet]] = []
    problems: list[Problem] = []
    seen: set[Path] = set()
    for given in map(Path, paths):
        files = sorted(p for p in given.rglob("*") if p.suffix in SUFFIXES and p.is_file())
        for file in files if given.is_dir() and files else [given]:
            if file.resolve() in seen:
                continue
            seen.add(file.resolve())
            try:
                if file.is_file() and is_fleet(file):
                    fleets.append((file, load_fleet(file)))
                else:  # a scenario, or what load_paths says of a path that is none
                    scenarios.extend(load_paths([file]))
            except ScenarioError as exc:
                problems.extend(exc.problems)
    if problems:
        raise ScenarioError(list(dict.fromkeys(problems)))
    return scenarios, fleets


class _FleetCheck(YamlCheck):
    empty = "the file is empty: a fleet needs at least fleet: and groups:"

    def __init__(self, path: Path, text: str) -> None:
        super().__init__(str(path), text)
        self.path = path
        #: the problems of the groups' scenario files
        self.theirs: list[Problem] = []

    def run(self) -> Fleet | None:
        decoded = self.read()
        if decoded is None:
            return None
        data, tree = decoded
        if not isinstance(data, dict):
            what = "nothing" if data is None else f"a {type(data).__name__}"
            self.add(tree.node, f"a fleet is a mapping (fleet:, groups:, ...), not {what}")
            return None
        if "fleet" not in data and "steps" in data:
            self.add(tree.node, "this is a scenario file: a fleet file starts with fleet:")
            return None
        self.check_csms(data, tree)
        fleet = self.validated(Fleet, data, tree)
        self.check_mock_csms(data, tree)
        if fleet is None:
            return None
        names = self.check_names(fleet, tree)
        self.check_events(fleet, tree, names)
        scenarios = [self.scenario(fleet, i, tree) for i in range(len(fleet.groups))]
        if self.problems or self.theirs:
            return None
        fleet._scenarios = [s for s in scenarios if s is not None]
        fleet._id_places = [
            (self.name, *_line(tree.point(["groups", i, _id_key(group)])))
            for i, group in enumerate(fleet.groups)
        ]
        self.check_plan(fleet, tree)
        return fleet

    def at(self, tree: Tree, path: Sequence[object], message: str, *, at_key: bool = False) -> None:
        """A problem of the value at ``path`` (of its key), named by its path."""
        self.add(tree.point(path, at_key=at_key), f"{json_path(path)}: {message}")

    def check_names(self, fleet: Fleet, tree: Tree) -> list[str]:
        seen: dict[str, int] = {}
        for i, group in enumerate(fleet.groups):
            name = group.label
            if group.name is None and _quiet(name) is None:
                self.at(
                    tree,
                    ["groups", i, "scenario"],
                    f"name this group (name:): its file's name {name!r} is not one (up to 40 "
                    "letters, digits, '-', '_' and '.')",
                )
            elif name in seen:
                where = ["groups", i, "name" if group.name else "scenario"]
                also = "" if group.name else " (its file's name)"
                self.at(
                    tree,
                    where,
                    f"two groups are named {name!r}{also}: the first is groups[{seen[name]}]; "
                    "give them different name:s",
                )
            seen.setdefault(name, i)
        return list(seen)

    def check_events(self, fleet: Fleet, tree: Tree, names: list[str]) -> None:
        for i, event in enumerate(fleet.events):
            group = event.effect.group
            if group is not None and group not in names:
                hint = did_you_mean(group, names) or f"; the groups: {', '.join(names)}"
                where = ["events", i, event.kind, "group"]
                self.at(tree, where, f"no group is named {group!r}{hint}")
            if fleet.duration is not None and event.at >= fleet.duration:
                self.at(
                    tree,
                    ["events", i, "at"],
                    f"{event.at:g}s is not before the run ends (duration: {fleet.duration:g}s)",
                )

    def scenario(self, fleet: Fleet, index: int, tree: Tree) -> tuple[Path, Scenario] | None:
        """The group's scenario file, loaded, with the group's charge point."""
        group = fleet.groups[index]
        where = ["groups", index, "scenario"]
        path = _beside(self.path, group.scenario)
        if not path.exists():
            self.at(tree, where, f"no such file {str(path)!r}")
            return None
        if path.is_dir():
            self.at(tree, where, f"{str(path)!r} is a folder, not a scenario file")
            return None
        if is_fleet(path):
            self.at(tree, where, f"{str(path)!r} is a fleet file, not a scenario")
            return None
        try:
            scenario = load_scenario(path)
        except ScenarioError as exc:
            count = len(exc.problems)
            self.at(
                tree,
                where,
                f"{str(path)!r} does not load: {count} problem(s) in that file",
            )
            self.theirs.extend(exc.problems)
            return None
        if group.charge_point is None:
            return path, scenario
        spec = self.station(scenario, group.charge_point, tree, index, path)
        return (path, scenario.model_copy(update={"charge_point": spec})) if spec else None

    def station(
        self,
        scenario: Scenario,
        override: StationOverride,
        tree: Tree,
        index: int,
        path: Path,
    ) -> ChargePointSpec | None:
        """The scenario's charge point with the group's changes; their problems at the
        group's ``charge_point``, those that make the scenario's own steps wrong too."""
        where: list[object] = ["groups", index, "charge_point"]
        theirs = scenario.charge_point
        configuration = _merged(theirs.configuration, override.configuration or {})
        changes = override.model_dump(exclude_none=True, exclude={"configuration"})
        spec = ChargePointSpec.model_validate(
            {**theirs.model_dump(), **changes, "configuration": configuration}
        )
        before = len(self.problems)
        try:
            Configuration(configuration, number_of_connectors=spec.connectors)
        except ConfigurationError as exc:
            ours = {key.lower() for key in override.configuration or {}}
            for key, message in exc.problems:
                if key.lower() in ours:
                    written = next(
                        k for k in override.configuration or {} if k.lower() == key.lower()
                    )
                    self.at(tree, [*where, "configuration", written], message, at_key=True)
                else:
                    self.at(
                        tree,
                        where,
                        f"{key} (the scenario's): {message}, with {spec.connectors} connector(s)",
                    )
        self.check_steps(scenario, spec, tree, where, path)
        return spec if len(self.problems) == before else None

    def check_steps(
        self, scenario: Scenario, spec: ChargePointSpec, tree: Tree, where: list[object], path: Path
    ) -> None:
        """What the scenario's steps mean for the group's charge point (``checks.py``):
        a connector it no longer has, a configuration key it no longer sets."""
        text, _ = read_text(path)
        decoded = YamlCheck(str(path), text).read() if text is not None else None
        if decoded is None or not isinstance(decoded[0], dict):
            return
        data, their_tree = decoded
        written = data.get("charge_point") if isinstance(data.get("charge_point"), dict) else {}
        changed = {
            **written,
            "connectors": spec.connectors,
            "configuration": dict(spec.configuration),
        }
        # The scenario loaded, so its own steps have no finding: each is the group's doing.
        for finding in findings({**data, "charge_point": changed}):
            line, column = _line(their_tree.point(finding.path, at_key=finding.at_key))
            self.at(
                tree,
                where,
                f"{path}:{line}:{column} would fail with this charge point: {finding.message}",
            )

    def check_plan(self, fleet: Fleet, tree: Tree) -> None:
        """The plan for the size the file gives (or, when ``-n`` will, a nominal one):
        counts that do not add up, an id two charge points would share."""
        nominal = None
        if fleet.charge_points is None and any(g.count is None for g in fleet.groups):
            nominal = max(NOMINAL_TOTAL, sum(g.count or 0 for g in fleet.groups) + 1)
        try:
            fleet.plan(nominal)
        except ScenarioError as exc:
            self.problems.extend(exc.problems)
        except UsageError as exc:
            if fleet.charge_points is None:
                self.add(tree.point(["groups"]), str(exc))
            else:
                self.add(tree.point(["charge_points"]), str(exc))


def _id_key(group: FleetGroup) -> str:
    """The key of a group that gives its ids: id_pattern, or else its name."""
    return "id_pattern" if group.id_pattern else "name" if group.name else "scenario"


def _quiet(name: str) -> str | None:
    """``name`` if it is a valid group name, else None."""
    try:
        return _name(name)
    except ValueError:
        return None


def _line(node: Any) -> tuple[int, int]:
    mark = node.start_mark
    return mark.line + 1, mark.column + 1


def _beside(fleet: Path, given: str) -> Path:
    """A scenario path as the fleet file gives it: relative to the fleet file's folder, and
    without ``..`` when that names the same file."""
    path = Path(given)
    if not path.is_absolute():
        path = fleet.parent / path
    tidy = Path(os.path.normpath(path))
    return tidy if tidy.resolve() == path.resolve() else path


def _merged(theirs: dict[str, Any], ours: dict[str, Any]) -> dict[str, Any]:
    """The scenario's configuration with the group's keys instead (keys match in any case,
    as the charge point matches them)."""
    lowered = {key.lower() for key in ours}
    return {**{k: v for k, v in theirs.items() if k.lower() not in lowered}, **ours}

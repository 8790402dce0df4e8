"""Scenario files: YAML in, validated :class:`~mockpoint.scenario.model.Scenario` out.

The loader finds every problem of every file before it gives up, each named by
``file:line:column`` (docs/reference/validate.md): an invalid file means exit code 2
and nothing run. It checks, in turn:

- the YAML itself (:mod:`mockpoint.yamlsource`): syntax, duplicate keys (PyYAML accepts
  them silently), unknown tags, nesting and aliases beyond its limits;
- the format: one kind key per step, known keys, types, durations and power, by the models
  of ``model.py``, whose errors are mapped from their ``loc`` back to the YAML node
  (:mod:`mockpoint.modelerrors`);
- what the models cannot know: the CSMS URL is ws:// or wss://; ``send`` names a request
  the charge point sends and ``await`` one the CSMS sends; the fields a ``send`` payload or
  an ``await`` reply writes agree with the OCA schema (unknown fields, types, enums,
  formats, lengths; required fields are left to run time, when the station fills them);
  ``charge_point.configuration`` builds a
  :class:`~mockpoint.station.configuration.Configuration`; ``mock_csms`` is a valid mock
  CSMS configuration (``mock_csms.<key>: ...``, as ``mockpoint csms --config`` says it);
- what the steps mean (``checks.py``): connectors the charge point has, keys
  ``expect_state`` can compare, CALLERROR codes OCPP-J 1.6 has, ``expect`` fields the OCA
  schema has.

Timestamps are not resolved by the YAML reader: ``2025-06-01T08:00:00Z`` in a payload stays
the string OCPP puts on the wire (the model parses ``clock.start`` itself). ``${name}``
strings are the runner's to expand; the schema check skips them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pydantic

from mockpoint.csms.config import MockCsmsBlock
from mockpoint.datapaths import json_path, parse_path
from mockpoint.errors import ScenarioError, UsageError
from mockpoint.modelerrors import PlacedError, TaggedList, did_you_mean, shown
from mockpoint.ocpp16.actions import ACTIONS
from mockpoint.ocpp16.schemas import load_schema
from mockpoint.rpc.validation import check_request, check_response
from mockpoint.scenario.checks import findings
from mockpoint.scenario.model import STEP_KINDS, STEP_TYPES, Location, Scenario, step_kind
from mockpoint.scenario.payloads import (
    MAX_ROUNDS,
    placeholder,
    schema_at,
    value_at,
    without_variables,
)
from mockpoint.station.configuration import Configuration, ConfigurationError
from mockpoint.transport.websocket import check_csms_url
from mockpoint.yamlsource import Problem, Tree, YamlSource, line_column, read_text, tree_at

__all__ = [
    "SUFFIXES",
    "Problem",
    "ScenarioError",
    "Tree",
    "YamlCheck",
    "load_paths",
    "load_scenario",
    "read_text",
]

#: What a folder's scenario files end with.
SUFFIXES = (".yaml", ".yml")
#: A fleet file (docs/load-fleets.md) says ``fleet:`` at its top level.
_FLEET_KEY = re.compile(r"""^["']?fleet["']?[ \t]*:""", re.MULTILINE)


def load_scenario(path: Path) -> Scenario:
    """The scenario of one file; raises :class:`ScenarioError` with all its problems."""
    path = Path(path)
    if path.is_dir():
        raise ScenarioError([Problem(str(path), 0, 0, "is a folder, not a scenario file")])
    scenario, problems = _load_file(path)
    if scenario is None:
        raise ScenarioError(problems)
    return scenario


def is_fleet(path: Path) -> bool:
    """Whether ``path`` is a fleet file rather than a scenario: a top-level ``fleet:`` key.
    Read as text, not parsed."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return False
    return _FLEET_KEY.search(text) is not None


def load_paths(paths: Sequence[str | Path]) -> list[tuple[Path, Scenario]]:
    """Every scenario of ``paths``: files, and folders for every ``*.yaml`` and ``*.yml``
    below them (recursively, sorted by path). Each file is loaded once, in the order given.

    Raises :class:`ScenarioError` with the problems of all files after reading them all.
    """
    loaded: list[tuple[Path, Scenario]] = []
    problems: list[Problem] = []
    seen: set[Path] = set()
    for given in paths:
        path = Path(given)
        if path.is_dir():
            # A folder's fleet files are for `mockpoint load`; its scenarios are run.
            files = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in SUFFIXES and p.is_file() and not is_fleet(p)
            )
            if not files:
                problems.append(Problem(str(path), 0, 0, "no *.yaml or *.yml file in this folder"))
        elif path.exists() and is_fleet(path):
            problems.append(Problem(str(path), 1, 1, "is a fleet file: run it with mockpoint load"))
            continue
        elif path.exists():
            files = [path]
        else:
            problems.append(Problem(str(path), 0, 0, "no such file or folder"))
            continue
        for file in files:
            if file.resolve() in seen:
                continue
            seen.add(file.resolve())
            scenario, found = _load_file(file)
            problems.extend(found)
            if scenario is not None:
                loaded.append((file, scenario))
    if problems:
        raise ScenarioError(problems)
    return loaded


def _load_file(path: Path) -> tuple[Scenario | None, list[Problem]]:
    text, problems = read_text(path)
    if text is None:
        return None, problems
    check = _FileCheck(str(path), text)
    scenario = check.run()
    problems = check.sorted_problems()
    return (scenario if not problems else None), problems


class YamlCheck(YamlSource):
    """Every problem of one YAML file of mockpoint's, each placed at its
    ``file:line:column``: reading and a model's validation errors
    (:class:`~mockpoint.yamlsource.YamlSource`), and the checks every file that may name a
    CSMS shares. Scenario files and fleet files (``load/fleet.py``) build on it."""

    def check_csms(self, data: dict[Any, Any], tree: Tree) -> None:
        """The CSMS URL, short form or long, is ws:// or wss:// (OCPP-J 1.6 §3), checked as
        ``--csms`` is; one with ``${NAME}`` is checked once expanded, at run time."""
        csms, found = data.get("csms"), tree.child("csms")
        if found is None:
            return
        csms_tree = found[1]
        if isinstance(csms, str):
            url, where, node = csms, "csms", csms_tree.node
        elif isinstance(csms, dict) and isinstance(csms.get("url"), str):
            url, where, node = csms["url"], "csms.url", csms_tree.point(["url"])
        else:
            return
        if "${" in url:
            return
        try:
            check_csms_url(url, where)
        except UsageError as exc:
            self.add(node, str(exc))
            # The model refuses the long form too, in words that say less: once is enough.
            self.broken.update((id(csms_tree.node), id(node)))

    def check_mock_csms(self, data: dict[Any, Any], tree: Tree) -> None:
        """The embedded mock CSMS's configuration, validated as ``mockpoint csms --config``
        validates a scenario's block: each problem at its value, as ``mock_csms.<key>``."""
        config = data.get("mock_csms")
        if not isinstance(config, dict):
            return  # the model says what it should be
        self.validated(MockCsmsBlock, {"mock_csms": config}, tree)


class _FileCheck(YamlCheck):
    """Every problem of one scenario file, found in one pass (see the module docstring)."""

    empty = "the file is empty: a scenario needs at least name: and steps:"

    def run(self) -> Scenario | None:
        decoded = self.read()
        if decoded is None:
            return None
        data, tree = decoded
        if not isinstance(data, dict):
            what = "nothing" if data is None else shown(data)
            self.add(tree.node, f"a scenario is a mapping (name:, steps:, ...), not {what}")
            return None
        self.check_steps(data, tree)
        self.check_csms(data, tree)
        configuration_checked = self.check_configuration(data, tree)
        scenario = self.validate(data, tree, configuration_checked)
        self.check_actions(data, tree)
        self.check_mock_csms(data, tree)
        self.check_meaning(data, tree)
        if scenario is None or self.problems:
            return None
        steps = tree.child("steps")
        if steps is not None:
            for step, step_tree in zip(scenario.steps, steps[1].items, strict=True):
                line, column = line_column(step_tree.node)
                step.at(Location(file=self.name, line=line, column=column))
        return scenario

    # -- the format ----------------------------------------------------------------------

    def check_steps(self, data: dict[Any, Any], tree: Tree) -> None:
        """Each step has exactly one kind key (the models cannot say which is missing)."""
        steps, steps_tree = data.get("steps"), tree.child("steps")
        if not isinstance(steps, list) or steps_tree is None:
            return
        kinds = ", ".join(STEP_KINDS)
        for step, step_tree in zip(steps, steps_tree[1].items, strict=True):
            if step_kind(step) is not None:
                continue
            if not isinstance(step, dict):
                self.add(
                    step_tree.node,
                    f"a step is a mapping with one of: {kinds}; found {shown(step)}",
                )
                continue
            found = [key for key in step if key in STEP_KINDS]
            if found:
                listed = " and ".join(found)
                self.add(step_tree.node, f"a step needs exactly one of: {kinds}; found {listed}")
                continue
            for key in step:
                close = difflib.get_close_matches(str(key), STEP_KINDS, n=1)
                if key not in _STEP_MODIFIERS and close:
                    self.add(
                        step_tree.keys[key][0],
                        f"unknown step kind {shown(key)}; did you mean {close[0]}?",
                    )
                    break
            else:
                self.add(step_tree.node, f"a step needs exactly one of: {kinds}; found none")

    def validate(
        self, data: dict[Any, Any], tree: Tree, configuration_checked: bool
    ) -> Scenario | None:
        def said(error: PlacedError) -> bool:
            if error.kind.startswith("union_tag_"):
                return True  # a step without exactly one kind: check_steps said so
            # Configuration checked every value, with better messages.
            return (
                configuration_checked
                and error.path[:2] == ("charge_point", "configuration")
                and len(error.path) > 2
            )

        return self.validated(Scenario, data, tree, said, tagged=_STEPS)

    def check_configuration(self, data: dict[Any, Any], tree: Tree) -> bool:
        """Build the charge point's Configuration as the station will
        (docs/scenario-format.md, ``charge_point.configuration``); False when the block
        could not be checked."""
        spec = data.get("charge_point")
        overrides = spec.get("configuration", {}) if isinstance(spec, dict) else None
        if not isinstance(spec, dict) or not isinstance(overrides, dict):
            return False
        try:
            connectors = pydantic.TypeAdapter(int).validate_python(spec.get("connectors", 1))
        except pydantic.ValidationError:
            return False
        if not 1 <= connectors <= 100:
            return False
        try:
            Configuration(overrides, number_of_connectors=connectors)
        except ConfigurationError as exc:
            block = tree_at(tree, ["charge_point", "configuration"]) or tree
            for key, message in exc.problems:
                written = (n for k, (n, _) in block.keys.items() if str(k).lower() == key.lower())
                self.add(next(written, block.node), f"{key}: {message}")
        return True

    # -- what the models cannot know -----------------------------------------------------

    def check_actions(self, data: dict[Any, Any], tree: Tree) -> None:
        steps, steps_tree = data.get("steps"), tree.child("steps")
        if not isinstance(steps, list) or steps_tree is None:
            return
        for step, step_tree in zip(steps, steps_tree[1].items, strict=True):
            kind = step_kind(step)
            if kind not in ("send", "await") or not isinstance(step, dict):
                continue
            action = step[kind]
            if not isinstance(action, str) or "${" in action:
                continue
            where = step_tree.point([kind])
            info = ACTIONS.get(action)
            if info is None:
                self.add(
                    where, f"{action!r} is not an OCPP 1.6 action{did_you_mean(action, ACTIONS)}"
                )
            elif kind == "send" and not info.sent_by_charge_point():
                self.add(
                    where,
                    f"{action} is a request the CSMS sends, not the charge point:"
                    f" wait for it with 'await: {action}'",
                )
            elif kind == "await" and not info.sent_by_central_system():
                self.add(
                    where,
                    f"{action} is a request the charge point sends, not the CSMS:"
                    f" send it with 'send: {action}'",
                )
            elif kind == "send" and step.get("invalid") is not True:
                self.check_payload(step, step_tree, "payload", action, f"{action} payload")
            elif kind == "await":
                self.check_payload(step, step_tree, "reply", action, f"{action} reply")

    def check_payload(
        self, step: dict[Any, Any], step_tree: Tree, key: str, action: str, what: str
    ) -> None:
        """The fields ``step[key]`` writes against the OCA schema of ``action`` (request for
        a payload, response for a reply): every unknown field, wrong type, enum, format and
        length. A missing required field is not a problem here: the station fills those of
        a request, and checks a reply as it sends it."""
        payload, found = step.get(key), step_tree.child(key)
        if not isinstance(payload, dict) or found is None:
            return
        tree, response = found[1], key == "reply"
        root = load_schema(action, response)
        check = check_response if response else check_request
        work = without_variables(payload, root, root)
        for _ in range(MAX_ROUNDS):
            violation = check(action, work)
            if violation is None:
                return
            parts = parse_path(violation.path)
            schema = schema_at(root, parts)
            target = value_at(work, parts)
            if schema is not None and isinstance(target, dict):
                properties = schema.get("properties", {})
                if violation.rule == "required":
                    missing = [k for k in schema.get("required", []) if k not in target]
                    for name in missing:  # stand-ins, so that checking goes on
                        target[name] = placeholder(properties.get(name, {}), root)
                    if missing:
                        continue
                unknown = [k for k in target if k not in properties]
                if violation.rule == "additionalProperties" and unknown:
                    for name in unknown:
                        field_path = json_path([*parts, name])
                        hint = did_you_mean(str(name), properties)
                        node = tree.point([*parts, name], at_key=True)
                        self.add(node, f"{what}: unknown field {field_path}{hint}")
                        del target[name]
                    continue
            node = tree.point(parts)
            if id(node) not in self.broken:  # a value the loader refused: said already
                self.add(node, f"{what}: {violation.message}")
            parent = value_at(work, parts[:-1])
            if schema is None or not parts or not isinstance(parent, dict | list):
                return
            parent[parts[-1]] = placeholder(schema, root)

    def check_meaning(self, data: dict[Any, Any], tree: Tree) -> None:
        """What the steps mean against the charge point and the OCA schemas (``checks.py``):
        connectors it has, keys ``expect_state`` compares, CALLERROR codes, ``expect``
        fields."""
        for finding in findings(data):
            node = tree.point(finding.path, at_key=finding.at_key)
            if id(node) not in self.broken:
                self.add(node, finding.message)


# --- the shape of a scenario, for its errors ------------------------------------------------

_STEP_TYPE = {step_type.kind: step_type for step_type in STEP_TYPES}
#: A scenario's steps: pydantic names each step's model in an error's path, the file does
#: not; a step's values are labelled from its kind on (``charge.power``).
_STEPS = TaggedList("steps", _STEP_TYPE, step_kind)
#: Every key a step may have besides its kind.
_STEP_MODIFIERS = frozenset(
    name
    for step_type in STEP_TYPES
    for key, info in step_type.model_fields.items()
    for name in (key, info.alias)
    if name and name not in STEP_KINDS
)

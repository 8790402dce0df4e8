"""Scenario files: YAML in, validated :class:`~mockpoint.scenario.model.Scenario` out.

The loader finds every problem of every file before it gives up, each named by
``file:line:column`` (PRODUCT.md, ``mockpoint validate``): an invalid file means exit code 2
and nothing run. It checks, in turn:

- the YAML itself: syntax, duplicate keys (PyYAML accepts them silently), unknown tags;
- the format: one kind key per step, known keys, types, durations and power, by the models
  of ``model.py``, whose errors are mapped from their ``loc`` back to the YAML node;
- what the models cannot know: the CSMS URL is ws:// or wss://; ``send`` names a request
  the charge point sends and ``await`` one the CSMS sends; the fields a ``send`` payload or
  an ``await`` reply writes agree with the OCA schema (unknown fields, types, enums,
  formats, lengths; required fields are left to run time, when the station fills them);
  ``charge_point.configuration`` builds a
  :class:`~mockpoint.station.configuration.Configuration`; ``mock_csms`` is a valid mock
  CSMS configuration;
- what the steps mean (``checks.py``): connectors the charge point has, keys
  ``expect_state`` can compare, CALLERROR codes OCPP-J 1.6 has, ``expect`` fields the OCA
  schema has.

Timestamps are not resolved by the YAML reader: ``2025-06-01T08:00:00Z`` in a payload stays
the string OCPP puts on the wire (the model parses ``clock.start`` itself). ``${name}``
strings are the runner's to expand; the schema check skips them.
"""

from __future__ import annotations

import codecs
import difflib
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin

import pydantic
import yaml

from mockpoint.csms.config import config_from_mapping
from mockpoint.errors import UsageError
from mockpoint.ocpp16.actions import ACTIONS
from mockpoint.ocpp16.schemas import load_schema
from mockpoint.rpc.validation import check_request, check_response
from mockpoint.scenario.checks import did_you_mean, findings
from mockpoint.scenario.model import STEP_KINDS, STEP_TYPES, Location, Scenario, step_kind
from mockpoint.scenario.payloads import (
    MAX_ROUNDS,
    NOT_THERE,
    json_path,
    key_in,
    parse_path,
    placeholder,
    schema_at,
    value_at,
    without_variables,
)
from mockpoint.station.configuration import Configuration, ConfigurationError
from mockpoint.transport.websocket import check_csms_url

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

M = TypeVar("M", bound=pydantic.BaseModel)

#: What a folder's scenario files end with.
SUFFIXES = (".yaml", ".yml")
#: A fleet file (docs/load-fleets.md) says ``fleet:`` at its top level.
_FLEET_KEY = re.compile(r"""^["']?fleet["']?[ \t]*:""", re.MULTILINE)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario file, and where: 1-based line and column, or 0 and 0
    when it is about the path itself (a file that does not exist, an empty folder)."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        if self.line == 0:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class ScenarioError(UsageError):
    """Scenario files are invalid; ``problems`` holds every problem of every file, one per
    line in the message, by file and then by position."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


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


def read_text(path: Path) -> tuple[str | None, list[Problem]]:
    """The text of a YAML file, without its UTF-8 BOM; None and the problem when it cannot
    be read or is not UTF-8."""
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(name, 0, 0, f"cannot read it: {exc.strerror or exc}")]
    bom = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[bom:].decode("utf-8"), []
    except UnicodeDecodeError as exc:  # the offset counts the BOM, as the file does
        reason = f"not UTF-8 text ({exc.reason} at byte {bom + exc.start})"
        return None, [Problem(name, 1, 1, reason)]


def _load_file(path: Path) -> tuple[Scenario | None, list[Problem]]:
    text, problems = read_text(path)
    if text is None:
        return None, problems
    check = _FileCheck(str(path), text)
    scenario = check.run()
    problems = sorted(dict.fromkeys(check.problems), key=lambda p: (p.line, p.column))
    return (scenario if not problems else None), problems


# --- YAML with positions ------------------------------------------------------------------


#: How deep mappings and lists may nest (aliases included): far more than a scenario needs,
#: far less than Python's recursion limit, which PyYAML's composer would otherwise hit.
MAX_DEPTH = 100
#: How many values aliases may repeat in all: a scenario reuses a block now and then, a
#: "billion laughs" file repeats one exponentially.
MAX_REPEATED = 10_000
#: The tags a mapping and a list may carry: others (``!!set``, ``!!python/object``...) are
#: refused, as the safe loader refuses unknown tags on scalars.
_COLLECTION_TAGS: dict[type[yaml.Node], str] = {
    yaml.MappingNode: "tag:yaml.org,2002:map",
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
}
#: Line breaks as YAML counts them (PyYAML's marks do).
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


def _position(text: str, index: int) -> tuple[int, int]:
    """The 1-based line and column of ``text[index]``, counting lines as YAML does."""
    breaks = list(_LINE_BREAK.finditer(text, 0, index))
    start = breaks[-1].end() if breaks else 0
    return len(breaks) + 1, index - start + 1


def _tag(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!", 1)


class _YamlLoader(yaml.SafeLoader):
    """SafeLoader without the YAML 1.1 timestamp resolver (timestamps stay strings), that
    refuses to nest deeper than :data:`MAX_DEPTH` (its composer is recursive)."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.depth >= MAX_DEPTH:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            problem = f"nested more than {MAX_DEPTH} levels deep"
            raise yaml.composer.ComposerError(None, None, problem, mark)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


_YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}

_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class Tree:
    """Where a decoded value stands: its node, and the nodes of its keys and items."""

    node: yaml.Node
    keys: dict[Any, tuple[yaml.Node, Tree]] = field(default_factory=dict)
    items: list[Tree] = field(default_factory=list)

    def child(self, part: object) -> tuple[yaml.Node, Tree] | None:
        """The key node (for a list item, its own node) and the tree of ``part``."""
        if isinstance(self.node, yaml.SequenceNode):
            if isinstance(part, int) and 0 <= part < len(self.items):
                return self.items[part].node, self.items[part]
            return None
        if part in self.keys:
            return self.keys[part]
        # pydantic names a dict key as validated (1 where YAML wrote "1") and the schema
        # checks name them as text.
        return next((found for key, found in self.keys.items() if str(key) == str(part)), None)

    def point(self, path: Iterable[object], *, at_key: bool = False) -> yaml.Node:
        """The node of the value at ``path`` (of its key with ``at_key``), or the deepest
        node on the way when the path goes further than the file."""
        tree, key_node = self, self.node
        for part in path:
            found = tree.child(part)
            if found is None:
                return tree.node
            key_node, tree = found
        return key_node if at_key else tree.node


def _mark(where: yaml.Node | yaml.Mark | None) -> tuple[int, int]:
    mark = where.start_mark if isinstance(where, yaml.Node) else where
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


class YamlCheck:
    """Every problem of one YAML file of mockpoint's, each placed at its
    ``file:line:column``: reading (:meth:`read`), the checks every file shares, and a
    model's validation errors (:meth:`validated`). Scenario files and fleet files
    (``load/fleet.py``) build on it."""

    #: the problem of a file with nothing in it
    empty = "the file is empty"

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        self.problems: list[Problem] = []
        #: nodes that could not be decoded: said once, not again by the models
        self.broken: set[int] = set()
        #: nodes decoded so far; one decoded again is an alias's
        self.decoded: set[int] = set()
        #: values decoded again, through aliases (at most MAX_REPEATED), and how many
        #: aliases are being decoded
        self.repeated = 0
        self.aliases = 0

    def add(self, where: yaml.Node | yaml.Mark | None, message: str) -> None:
        line, column = _mark(where)
        self.problems.append(Problem(self.name, line, column, message))

    # -- reading -------------------------------------------------------------------------

    def read(self) -> tuple[Any, Tree] | None:
        try:
            loader = _YamlLoader(self.text)
        except yaml.reader.ReaderError as exc:  # the reader checks every character first
            line, column = _position(self.text, exc.position)
            reason = f"invalid YAML: character #x{exc.character:04x} is not allowed"
            self.problems.append(Problem(self.name, line, column, reason))
            return None
        try:
            root = loader.get_single_node()
            if root is None:
                self.add(None, self.empty)
                return None
            return self.decode(loader, root, set())
        except yaml.MarkedYAMLError as exc:
            context = f" ({exc.context})" if exc.context else ""
            self.add(exc.problem_mark or exc.context_mark, f"invalid YAML: {exc.problem}{context}")
        except yaml.YAMLError as exc:
            self.add(None, f"invalid YAML: {exc}")
        finally:
            loader.dispose()
        return None

    def decode(self, loader: _YamlLoader, node: yaml.Node, active: set[int]) -> tuple[Any, Tree]:
        """The value of ``node`` as the safe loader builds it, with its positions; duplicate
        keys, unknown tags, values a tag cannot hold, numbers too large for a float, nesting
        deeper than :data:`MAX_DEPTH` and aliases that repeat more than
        :data:`MAX_REPEATED` values are problems."""
        again = id(node) in self.decoded
        self.decoded.add(id(node))
        if again or self.aliases:
            self.repeated += 1
            if self.repeated > MAX_REPEATED:
                if self.repeated == MAX_REPEATED + 1:
                    self.add(node, f"aliases repeat more than {MAX_REPEATED} values in all")
                self.broken.add(id(node))
                return None, Tree(node)
        self.aliases += again
        try:
            return self.decode_node(loader, node, active)
        finally:
            self.aliases -= again

    def decode_node(
        self, loader: _YamlLoader, node: yaml.Node, active: set[int]
    ) -> tuple[Any, Tree]:
        tree = Tree(node)
        if isinstance(node, yaml.ScalarNode):
            try:
                value = loader.construct_object(node)
            except yaml.constructor.ConstructorError as exc:
                self.add(exc.problem_mark or node, f"invalid YAML: {exc.problem}")
                self.broken.add(id(node))
                return None, tree
            except (ArithmeticError, LookupError, AttributeError, TypeError, ValueError):
                # an explicit tag on a value it cannot hold (`!!int abc`, `!!bool maybe`,
                # `!!int ""`), or an integer of more digits than Python converts
                what = f"{_shown(node.value)} as {_tag(node.tag)}"
                self.add(node, f"invalid YAML: cannot read {what}")
                self.broken.add(id(node))
                return None, tree
            if isinstance(value, set | list | dict):  # `!!set ''`, `!!omap ''`
                self.add(node, f"invalid YAML: the tag {_tag(node.tag)} is not allowed here")
                self.broken.add(id(node))
                return None, tree
            if isinstance(value, int) and abs(value) > sys.float_info.max:
                self.add(node, "this number is too large (at most about 1.8e308)")
                self.broken.add(id(node))
                return None, tree
            return value, tree
        if node.tag != _COLLECTION_TAGS.get(type(node)):
            self.add(node, f"invalid YAML: the tag {_tag(node.tag)} is not allowed here")
            self.broken.add(id(node))
            return None, tree
        if id(node) in active:
            self.add(node, "this alias contains itself")
            return None, tree
        if len(active) >= MAX_DEPTH:
            self.add(node, f"aliases nest this more than {MAX_DEPTH} levels deep")
            self.broken.add(id(node))
            return None, tree
        active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                items = []
                for item_node in node.value:
                    item, item_tree = self.decode(loader, item_node, active)
                    items.append(item)
                    tree.items.append(item_tree)
                return items, tree
            return self.decode_mapping(loader, node, tree, active), tree
        finally:
            active.discard(id(node))

    def decode_mapping(
        self, loader: _YamlLoader, node: yaml.Node, tree: Tree, active: set[int]
    ) -> dict[Any, Any]:
        value: dict[Any, Any] = {}
        merged: dict[Any, tuple[Any, yaml.Node, Tree]] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                self.merge(loader, value_node, merged, active)
                continue
            key, _ = self.decode(loader, key_node, active)
            try:
                hash(key)
            except TypeError:
                self.add(key_node, "a key must be a plain value, not a list or a mapping")
                continue
            if key in tree.keys:
                first, _ = _mark(tree.keys[key][0])
                self.add(key_node, f"duplicate key {_shown(key)} (first given on line {first})")
                continue
            value[key], item_tree = self.decode(loader, value_node, active)
            tree.keys[key] = (key_node, item_tree)
        for key, (item, key_node, item_tree) in merged.items():
            if key not in value:  # keys written in the mapping win over merged ones
                value[key] = item
                tree.keys[key] = (key_node, item_tree)
        return value

    def merge(
        self,
        loader: _YamlLoader,
        node: yaml.Node,
        merged: dict[Any, tuple[Any, yaml.Node, Tree]],
        active: set[int],
    ) -> None:
        """A ``<<`` merge key: the first mapping that has a key gives its value."""
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                self.add(source, "'<<' merges a mapping or a list of mappings")
                continue
            data, tree = self.decode(loader, source, active)
            for key, (key_node, item_tree) in tree.keys.items():
                merged.setdefault(key, (data[key], key_node, item_tree))

    # -- checks every file shares ---------------------------------------------------------

    def validated(
        self,
        model: type[M],
        data: dict[Any, Any],
        tree: Tree,
        said: Callable[[_PlacedError], bool] = lambda error: False,
    ) -> M | None:
        """``data`` as ``model``, or None with each of its errors added where the file has
        the value; ``said`` tells the errors another check reported already."""
        try:
            return model.model_validate(data)
        except pydantic.ValidationError as exc:
            errors = [
                _PlacedError.of(error, data, model) for error in exc.errors(include_url=False)
            ]
        for error in _resolve_unions(errors):
            if said(error):
                continue
            node = tree.point(error.path, at_key=error.at_key)
            if id(node) not in self.broken:
                self.add(node, error.message(data))
        return None

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
        """The embedded mock CSMS's configuration, read as the runner will read it."""
        config = data.get("mock_csms")
        if not isinstance(config, dict):
            return
        try:
            config_from_mapping(config, "mock_csms")
        except UsageError as exc:
            message = str(exc)
            _, _, rest = message.partition("mock_csms: ")
            where, _, _ = rest.partition(": ")
            found = _tree_at(tree, ["mock_csms", *parse_path(where)])
            self.add(found.node if found else tree.point(["mock_csms"]), message)


class _FileCheck(YamlCheck):
    """Every problem of one scenario file, found in one pass (see the module docstring)."""

    empty = "the file is empty: a scenario needs at least name: and steps:"

    def run(self) -> Scenario | None:
        decoded = self.read()
        if decoded is None:
            return None
        data, tree = decoded
        if not isinstance(data, dict):
            what = "nothing" if data is None else _shown(data)
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
                line, column = _mark(step_tree.node)
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
                    f"a step is a mapping with one of: {kinds}; found {_shown(step)}",
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
                        f"unknown step kind {_shown(key)}; did you mean {close[0]}?",
                    )
                    break
            else:
                self.add(step_tree.node, f"a step needs exactly one of: {kinds}; found none")

    def validate(
        self, data: dict[Any, Any], tree: Tree, configuration_checked: bool
    ) -> Scenario | None:
        def said(error: _PlacedError) -> bool:
            if error.kind.startswith("union_tag_"):
                return True  # a step without exactly one kind: check_steps said so
            # Configuration checked every value, with better messages.
            return (
                configuration_checked
                and error.path[:2] == ("charge_point", "configuration")
                and len(error.path) > 2
            )

        return self.validated(Scenario, data, tree, said)

    def check_configuration(self, data: dict[Any, Any], tree: Tree) -> bool:
        """Build the charge point's Configuration as the station will (PRODUCT.md,
        "Configuration in the scenario"); False when the block could not be checked."""
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
            block = _tree_at(tree, ["charge_point", "configuration"]) or tree
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


# --- pydantic errors, placed in the file -----------------------------------------------

_STEP_TYPE = {step_type.kind: step_type for step_type in STEP_TYPES}
#: Every key a step may have besides its kind.
_STEP_MODIFIERS = frozenset(
    name
    for step_type in STEP_TYPES
    for key, info in step_type.model_fields.items()
    for name in (key, info.alias)
    if name and name not in STEP_KINDS
)
_DATE_TIME = "a date and time, e.g. 2025-06-01T08:00:00Z"
#: What each pydantic type error expected, in the user's words.
_EXPECTED = {
    kind: text
    for kinds, text in (
        (("int_type", "int_parsing", "int_from_float"), "an integer"),
        (("float_type", "float_parsing"), "a number"),
        (("string_type",), "a string"),
        (("bool_type", "bool_parsing"), "true or false"),
        (("dict_type", "model_type", "model_attributes_type"), "a mapping"),
        (("list_type",), "a list"),
        (("datetime_type", "datetime_parsing", "datetime_from_date_parsing"), _DATE_TIME),
    )
    for kind in kinds
}
_KEY_ERRORS = frozenset({"extra_forbidden", "invalid_key"})
#: What a member of a union (other than a model: "a mapping") takes.
_BRANCHES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "true or false",
    "list[str]": "a list of strings",
}


@dataclass
class _PlacedError:
    """A pydantic error with its ``loc`` split into the path of the value as written, the
    union members it went through and, for a missing key, that key."""

    kind: str
    path: tuple[Any, ...]
    branches: tuple[str, ...]
    #: how long ``path`` was where the first union member appeared
    union_depth: int | None
    missing: object
    error: Any
    #: the error is about the last key of ``path``, not its value
    at_key: bool = False
    #: the message of a model validator, without the field it named (see ``of``)
    text: str | None = None
    #: the model of the whole file
    root: type[pydantic.BaseModel] = Scenario

    @classmethod
    def of(
        cls, error: Any, data: dict[Any, Any], root: type[pydantic.BaseModel] = Scenario
    ) -> _PlacedError:
        loc = list(error["loc"])
        if root is Scenario and len(loc) > 2 and loc[0] == "steps" and loc[2] in STEP_KINDS:
            del loc[2]  # the tag of the step union, not a key
        at_key = bool(loc) and loc[-1] == "[key]" or error["type"] in _KEY_ERRORS
        loc = loc[:-1] if loc and loc[-1] == "[key]" else loc
        path: list[Any] = []
        branches: list[str] = []
        depth: int | None = None
        current: Any = data
        for part in loc:
            key = key_in(current, part)
            if key is NOT_THERE:
                depth = len(path) if depth is None else depth
                branches.append(str(part))
            else:
                path.append(key)
                current = current[key]
        missing = branches.pop() if error["type"] == "missing" and branches else None
        depth = depth if branches else None
        kind, text = error["type"], None
        if kind == "value_error":
            # A model validator names the field to fix first ("password: ..."): the error
            # is that field's, where the file has it (else at the mapping).
            name, colon, rest = str(error["ctx"]["error"]).partition(": ")
            if colon and name in _fields_at(path, branches, data, root):
                path.append(name)
                text = rest
        return cls(kind, tuple(path), tuple(branches), depth, missing, error, at_key, text, root)

    def message(self, data: dict[Any, Any]) -> str:
        kind, error = self.kind, self.error
        if kind == "missing":
            where = _label(self.path)
            return f"missing required key {self.missing!r}" + (f" in {where}" if where else "")
        if kind == "extra_forbidden":
            key, where = self.path[-1], _label(self.path[:-1])
            known = _fields_at(self.path[:-1], self.branches, data, self.root)
            hint = did_you_mean(str(key), known)
            return f"unknown key {_shown(key)}" + (f" in {where}" if where else "") + hint
        if self.at_key:
            where, wanted = _label(self.path[:-1]), _EXPECTED.get(kind, "a string")
            text = f"a key must be {wanted}, got {_shown(self.path[-1])}"
            return f"{where}: {text}" if where else text
        if kind in _EXPECTED:
            text = f"expected {_EXPECTED[kind]}, got {_shown(error['input'])}"
        elif kind == "union":
            text = str(error["msg"])
        elif kind == "value_error":
            text = self.text or str(error["ctx"]["error"])
        elif kind in ("too_short", "string_too_short") and error["ctx"].get("min_length") == 1:
            text = "must not be empty"
        else:
            text = str(error["msg"]).replace("Input should", "should", 1)
            if not isinstance(error.get("input"), dict | list):
                text += f", got {_shown(error.get('input'))}"
        where = _label(self.path)
        return f"{where}: {text}" if where else text


def _resolve_unions(errors: list[_PlacedError]) -> list[_PlacedError]:
    """Of the errors each member of a union gave, those of the members the value took the
    shape of (that failed inside it, or else that it has the type of: a mapping is the
    long form, a string the short one); when it fits none, one error that names them all."""
    groups: dict[tuple[Any, ...], list[_PlacedError]] = {}
    result: list[_PlacedError] = []
    for error in errors:
        if error.union_depth is None:
            result.append(error)
        else:
            groups.setdefault(error.path[: error.union_depth], []).append(error)
    for path, group in groups.items():
        inside = {e.branches[0] for e in group if len(e.path) > len(path) or e.missing}
        if not inside:
            shaped = {e.branches[0] for e in group if _fits(e.branches[0], e.error["input"])}
            inside = shaped if len(shaped) == 1 else inside
        if inside:
            result.extend(e for e in group if e.branches[0] in inside)
            continue
        expected = list(dict.fromkeys(_BRANCHES.get(e.branches[0], "a mapping") for e in group))
        first = group[0]
        got = _shown(first.error["input"])
        text = f"expected {' or '.join(expected)}, got {got}"
        raw = {"type": "union", "msg": text, "input": first.error["input"]}
        result.append(_PlacedError("union", path, (), None, None, raw))
    return result


def _fits(branch: str, value: object) -> bool:
    """Whether ``value`` has the type of the union member ``branch`` (a model or a mapping
    type when it is a mapping), whatever else is wrong with it."""
    if isinstance(value, dict):
        return branch not in _BRANCHES and not branch.startswith("list")
    if isinstance(value, list):
        return branch.startswith("list")
    if isinstance(value, bool):
        return branch == "bool"
    if isinstance(value, str):
        return branch == "str"
    return isinstance(value, int | float) and branch in ("int", "float")


def _label(path: Sequence[Any]) -> str:
    """``charge_point.connectors``; a step's path starts at its kind: ``charge.power``."""
    parts = list(path[2:]) if len(path) >= 2 and path[0] == "steps" else list(path)
    return json_path(parts)


def _fields_at(
    path: Sequence[Any],
    branches: Sequence[str],
    data: dict[Any, Any],
    root: type[pydantic.BaseModel] = Scenario,
) -> list[str]:
    """The keys the model of the mapping at ``path`` knows (for a did-you-mean)."""
    model: Any = root
    rest = list(path)
    if root is Scenario and len(path) >= 2 and path[0] == "steps":
        model, rest = _STEP_TYPE.get(step_kind(data["steps"][path[1]]) or ""), rest[2:]
    listed = False  # the value is a list: the next part is an index
    for part in rest:
        if listed and isinstance(part, int):
            listed = False
            continue
        info = model.model_fields.get(part) if model is not None else None
        if info is None:
            return []
        listed = get_origin(info.annotation) is list
        models = list(_models_in(info.annotation))
        named = [m for m in models if m.__name__ in branches]
        model = next(iter(named or models), None)
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _models_in(annotation: Any) -> Iterable[type[pydantic.BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _models_in(arg)


# --- small helpers ------------------------------------------------------------------------


def _tree_at(tree: Tree, path: Sequence[Any]) -> Tree | None:
    """The tree of the value at ``path``, if the file has one."""
    for part in path:
        found = tree.child(part)
        if found is None:
            return None
        tree = found[1]
    return tree


def _shown(value: object) -> str:
    """A value as the user wrote it, shortly."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."

"""YAML files of mockpoint's, read into data with the position of every value.

Scenario files, fleet files and the mock CSMS's configuration are all read here
(:class:`YamlSource`), so that all of them refuse the same things and place every problem
at its ``file:line:column``:

- YAML 1.1's timestamps are not resolved: ``2025-06-01T08:00:00Z`` stays the string OCPP
  puts on the wire, not a ``datetime``;
- a duplicate key (PyYAML keeps the last one silently), a tag other than the safe loader's
  scalars, a plain mapping and a plain list (``!!set``, ``!!python/object``...), a value its
  tag cannot hold (``!!int abc``) and an integer too large for a float are problems;
- nesting deeper than :data:`MAX_DEPTH` levels and aliases that repeat more than
  :data:`MAX_REPEATED` values in all ("billion laughs") are problems, not a
  :class:`RecursionError` or an exhausted memory.

The :class:`Tree` beside the data finds the node of the value at a key path, which is where
a model's validation errors (:mod:`mockpoint.modelerrors`) are reported
(:meth:`YamlSource.validated`).
"""

from __future__ import annotations

import codecs
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pydantic
import yaml

from mockpoint.modelerrors import PlacedError, TaggedList, placed_errors, shown

__all__ = [
    "MAX_DEPTH",
    "MAX_REPEATED",
    "Problem",
    "Tree",
    "YamlSource",
    "line_column",
    "read_text",
    "tree_at",
]

M = TypeVar("M", bound=pydantic.BaseModel)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, and where: 1-based line and column, or 0 and 0 when it
    is about the path itself (a file that does not exist, an empty folder)."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        if self.line == 0:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


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


#: How deep mappings and lists may nest (aliases included): far more than a file needs,
#: far less than Python's recursion limit, which PyYAML's composer would otherwise hit.
MAX_DEPTH = 100
#: How many values aliases may repeat in all: a file reuses a block now and then, a
#: "billion laughs" file repeats one exponentially.
MAX_REPEATED = 10_000
#: The tags a mapping and a list may carry: others (``!!set``, ``!!python/object``...) are
#: refused, as the safe loader refuses unknown tags on scalars.
_COLLECTION_TAGS: dict[type[yaml.Node], str] = {
    yaml.MappingNode: "tag:yaml.org,2002:map",
    yaml.SequenceNode: "tag:yaml.org,2002:seq",
}
_MERGE_TAG = "tag:yaml.org,2002:merge"
#: Line breaks as YAML counts them (PyYAML's marks do).
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


def _position(text: str, index: int) -> tuple[int, int]:
    """The 1-based line and column of ``text[index]``, counting lines as YAML does."""
    breaks = list(_LINE_BREAK.finditer(text, 0, index))
    start = breaks[-1].end() if breaks else 0
    return len(breaks) + 1, index - start + 1


def _tag(tag: str) -> str:
    return tag.replace("tag:yaml.org,2002:", "!!", 1)


class _Loader(yaml.SafeLoader):
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


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


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


def tree_at(tree: Tree, path: Sequence[Any]) -> Tree | None:
    """The tree of the value at ``path``, if the file has one."""
    for part in path:
        found = tree.child(part)
        if found is None:
            return None
        tree = found[1]
    return tree


def line_column(where: yaml.Node | yaml.Mark | None) -> tuple[int, int]:
    """The 1-based line and column of a node or a mark (1, 1 without either)."""
    mark = where.start_mark if isinstance(where, yaml.Node) else where
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


class YamlSource:
    """One YAML file's text read into data (:meth:`read`) with the position of every value,
    and every problem found on the way in :attr:`problems`, each at its
    ``file:line:column``; a model's validation errors go there too (:meth:`validated`)."""

    #: the problem of a file with nothing in it; None: an empty file is no problem
    #: (:meth:`read` returns None and adds nothing)
    empty: str | None = "the file is empty"

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
        line, column = line_column(where)
        self.problems.append(Problem(self.name, line, column, message))

    def sorted_problems(self) -> list[Problem]:
        """The problems once each, by position."""
        return sorted(dict.fromkeys(self.problems), key=lambda p: (p.line, p.column))

    # -- reading -------------------------------------------------------------------------

    def read(self) -> tuple[Any, Tree] | None:
        """The document's data and tree; None when it cannot be read (the problems say why)
        or is empty."""
        try:
            loader = _Loader(self.text)
        except yaml.reader.ReaderError as exc:  # the reader checks every character first
            line, column = _position(self.text, exc.position)
            reason = f"invalid YAML: character #x{exc.character:04x} is not allowed"
            self.problems.append(Problem(self.name, line, column, reason))
            return None
        try:
            root = loader.get_single_node()
            if root is None:
                if self.empty is not None:
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

    def decode(
        self, loader: yaml.SafeLoader, node: yaml.Node, active: set[int]
    ) -> tuple[Any, Tree]:
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
        self, loader: yaml.SafeLoader, node: yaml.Node, active: set[int]
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
                what = f"{shown(node.value)} as {_tag(node.tag)}"
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
        self, loader: yaml.SafeLoader, node: yaml.Node, tree: Tree, active: set[int]
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
                first, _ = line_column(tree.keys[key][0])
                self.add(key_node, f"duplicate key {shown(key)} (first given on line {first})")
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
        loader: yaml.SafeLoader,
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

    # -- a model's errors ----------------------------------------------------------------

    def validated(
        self,
        model: type[M],
        data: Any,
        tree: Tree,
        said: Callable[[PlacedError], bool] = lambda error: False,
        *,
        tagged: TaggedList | None = None,
    ) -> M | None:
        """``data`` as ``model``, or None with each of its errors added where the file has
        the value; ``said`` tells the errors another check reported already."""
        try:
            return model.model_validate(data)
        except pydantic.ValidationError as exc:
            errors = placed_errors(exc, data, model, tagged)
        for error in errors:
            if said(error):
                continue
            node = tree.point(error.path, at_key=error.at_key)
            if id(node) not in self.broken:
                self.add(node, error.message(data))
        return None

"""A pydantic :class:`~pydantic.ValidationError` as problems in the user's words, each at the
path of the value the file wrote: ``key.path: message``.

Every YAML file of mockpoint's that a model validates (scenarios, fleets, the mock CSMS's
configuration) reports its errors through :func:`placed_errors`; a file read with positions
(:mod:`mockpoint.yamlsource`) puts each at the ``file:line:column`` of that value, and data
without positions (``config_from_mapping``) names the path alone.

A validator can say which value below the one it checks is wrong by raising
:class:`PathError`; one that names a field first (``password: ...``) is placed at that field.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, get_args, get_origin

import pydantic

from mockpoint.datapaths import NOT_THERE, json_path, key_in

__all__ = ["PathError", "PlacedError", "TaggedList", "placed_errors", "shown"]


class PathError(ValueError):
    """A validator's problem with the value at ``path`` below the one it validates (a
    mapping's key, a list's index), rather than with that value as a whole."""

    def __init__(self, path: Sequence[Any], message: str) -> None:
        super().__init__(message)
        self.path = tuple(path)
        self.message = message


@dataclass(frozen=True)
class TaggedList:
    """A list field whose items are a union of models told apart by a key each item has
    (a scenario's ``steps``, by step kind). pydantic names the member in an error's ``loc``
    where the file has nothing, and an item's values are labelled from the item on
    (``charge.power``, not ``steps[3].charge.power``)."""

    key: str
    members: Mapping[str, type[pydantic.BaseModel]]
    tag_of: Callable[[object], str | None]


#: A model whose unknown keys are reported with the keys it knows, when none is close
#: enough for a "did you mean" (set ``lists_known_keys: ClassVar[bool] = True`` on it).
_LISTS_KNOWN_KEYS = "lists_known_keys"

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


def placed_errors(
    exc: pydantic.ValidationError,
    data: Any,
    root: type[pydantic.BaseModel],
    tagged: TaggedList | None = None,
) -> list[PlacedError]:
    """The errors of validating ``data`` as ``root``, each at the path of the value as
    written; of a union's members, only those the value took the shape of."""
    errors = [PlacedError.of(error, data, root, tagged) for error in exc.errors(include_url=False)]
    return _resolve_unions(errors, tagged)


@dataclass
class PlacedError:
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
    #: the message of a validator, without the field it named (see ``of``)
    text: str | None = None
    #: the model of the whole file
    root: type[pydantic.BaseModel] = pydantic.BaseModel
    tagged: TaggedList | None = None

    @classmethod
    def of(
        cls,
        error: Any,
        data: Any,
        root: type[pydantic.BaseModel],
        tagged: TaggedList | None = None,
    ) -> PlacedError:
        loc = list(error["loc"])
        if tagged is not None and len(loc) > 2 and loc[0] == tagged.key:
            if loc[2] in tagged.members:
                del loc[2]  # the tag of the union, not a key
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
            cause = error["ctx"]["error"]
            if isinstance(cause, PathError):
                # The validator named the value below: there, as far as the file has it.
                for part in cause.path:
                    key = key_in(current, part)
                    path.append(part if key is NOT_THERE else key)
                    current = None if key is NOT_THERE else current[key]
                text = cause.message
            else:
                # A model validator names the field to fix first ("password: ..."): the
                # error is that field's, where the file has it (else at the mapping).
                name, colon, rest = str(cause).partition(": ")
                if colon and name in _fields_at(path, branches, data, root, tagged):
                    path.append(name)
                    text = rest
        return cls(
            kind, tuple(path), tuple(branches), depth, missing, error, at_key, text, root, tagged
        )

    def message(self, data: Any) -> str:
        kind, error = self.kind, self.error
        if kind == "missing":
            where = self.label(self.path)
            return f"missing required key {self.missing!r}" + (f" in {where}" if where else "")
        if kind == "extra_forbidden":
            key, where = self.path[-1], self.label(self.path[:-1])
            model = _model_at(self.path[:-1], self.branches, data, self.root, self.tagged)
            known = _fields(model)
            hint = did_you_mean(str(key), known)
            if not hint and known and getattr(model, _LISTS_KNOWN_KEYS, False):
                hint = f" (expected one of {', '.join(sorted(known))})"
            return f"unknown key {shown(key)}" + (f" in {where}" if where else "") + hint
        if self.at_key:
            where = self.label(self.path[:-1])
            if kind == "value_error":  # a validator of the keys said what is wrong
                text = self.text or str(error["ctx"]["error"])
            else:
                wanted = _EXPECTED.get(kind, "a string")
                text = f"a key must be {wanted}, got {shown(self.path[-1])}"
            return f"{where}: {text}" if where else text
        if kind in _EXPECTED:
            text = f"expected {_EXPECTED[kind]}, got {shown(error['input'])}"
        elif kind == "union":
            text = str(error["msg"])
        elif kind == "value_error":
            text = self.text or str(error["ctx"]["error"])
        elif kind in ("too_short", "string_too_short") and error["ctx"].get("min_length") == 1:
            text = "must not be empty"
        else:
            text = str(error["msg"]).replace("Input should", "should", 1)
            if not isinstance(error.get("input"), dict | list):
                text += f", got {shown(error.get('input'))}"
        where = self.label(self.path)
        return f"{where}: {text}" if where else text

    def label(self, path: Sequence[Any]) -> str:
        """``charge_point.connectors``; in a tagged list, an item's path starts at its tag:
        ``charge.power``."""
        tagged = self.tagged
        if tagged is not None and len(path) >= 2 and path[0] == tagged.key:
            return json_path(list(path[2:]))
        return json_path(list(path))


def _resolve_unions(errors: list[PlacedError], tagged: TaggedList | None) -> list[PlacedError]:
    """Of the errors each member of a union gave, those of the members the value took the
    shape of (that failed inside it, or else that it has the type of: a mapping is the
    long form, a string the short one); when it fits none, one error that names them all."""
    groups: dict[tuple[Any, ...], list[PlacedError]] = {}
    result: list[PlacedError] = []
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
        got = shown(first.error["input"])
        text = f"expected {' or '.join(expected)}, got {got}"
        raw = {"type": "union", "msg": text, "input": first.error["input"]}
        result.append(
            PlacedError("union", path, (), None, None, raw, root=first.root, tagged=tagged)
        )
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


def _fields_at(
    path: Sequence[Any],
    branches: Sequence[str],
    data: Any,
    root: type[pydantic.BaseModel],
    tagged: TaggedList | None,
) -> list[str]:
    """The keys the model of the mapping at ``path`` knows (for a did-you-mean)."""
    return _fields(_model_at(path, branches, data, root, tagged))


def _fields(model: type[pydantic.BaseModel] | None) -> list[str]:
    if model is None:
        return []
    return [info.alias or name for name, info in model.model_fields.items()]


def _model_at(
    path: Sequence[Any],
    branches: Sequence[str],
    data: Any,
    root: type[pydantic.BaseModel],
    tagged: TaggedList | None,
) -> type[pydantic.BaseModel] | None:
    """The model of the mapping at ``path``, if a model validates it."""
    model: Any = root
    rest = list(path)
    if tagged is not None and len(path) >= 2 and path[0] == tagged.key:
        kind = tagged.tag_of(data[tagged.key][path[1]]) or ""
        model, rest = tagged.members.get(kind), rest[2:]
    listed = False  # the value is a list: the next part is an index
    for part in rest:
        if listed and isinstance(part, int):
            listed = False
            continue
        info = model.model_fields.get(part) if model is not None else None
        if info is None:
            return None
        listed = get_origin(info.annotation) is list
        models = list(_models_in(info.annotation))
        named = [m for m in models if m.__name__ in branches]
        model = next(iter(named or models), None)
    return model if isinstance(model, type) and issubclass(model, pydantic.BaseModel) else None


def _models_in(annotation: Any) -> Iterable[type[pydantic.BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        yield annotation
    for arg in get_args(annotation):
        yield from _models_in(arg)


def shown(value: object) -> str:
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


def did_you_mean(word: str, known: Iterable[Any]) -> str:
    """``; did you mean X?`` with the closest of ``known``, or nothing when none is close
    (as written first, then ignoring case)."""
    names = [str(name) for name in known]
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    if not close:
        folded = {name.lower(): name for name in names}
        close = [folded[m] for m in difflib.get_close_matches(word.lower(), folded, n=1)]
    return f"; did you mean {close[0]}?" if close else ""

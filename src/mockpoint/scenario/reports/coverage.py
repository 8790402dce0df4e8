"""Protocol coverage of a run: which OCPP 1.6 actions went which way, how the CALLs were
answered, and which enumerated values were exercised against the CSMS.

What a CSMS team reads to see what its suite leaves untested. For every action mockpoint
supports (ACTIONS entries with ``supported`` true), in each direction its request can travel
(OCPP 1.6 §3.1: requests sent by the charge point, requests sent by the Central System),
and for any other action that occurred (DataTransfer, Firmware Management, an action sent
the wrong way, an unknown action):

- how many CALLs were seen, how many were answered with a CALLRESULT and how many with a
  CALLERROR, per error code (OCPP-J 1.6 §4.2);
- for every enum-typed field of the request's and of the response's OCA schema, at any
  depth (``status``, ``idTagInfo.status``, ``meterValue[].sampledValue[].measurand``), the
  values seen and the values the schema allows that never were.

A CSMS request mockpoint does not implement (SetChargingProfile, UpdateFirmware...) is
answered NotSupported and counted as "not supported here" (the runner's
``ScenarioOutcome.not_supported``), not as an error: it is out of mockpoint's scope, not a
failure of the CSMS (docs/behaviour.md, "Requests mockpoint does not implement"). A request
left unanswered because the boot was Rejected (OCPP 1.6 §4.2; ``ScenarioOutcome.ignored``)
is counted apart too.

The allowed values come from the schemas alone (:func:`enum_fields`), so nothing here
repeats them. Answers are paired with their CALL by charge point, direction and unique id
(OCPP-J 1.6 §4.2.2), afresh for each scenario, as :mod:`.text` does. Raw text frames,
malformed frames and answers to no CALL seen are counted, never raised on: a broken peer must
not break the report.

``--coverage FILE`` writes the JSON document (``version`` 1)::

    {"version": 1,
     "actions": [{"action": "BootNotification", "direction": "cp_to_csms",
                  "calls": 1, "results": 1, "errors": {},
                  "not_supported": 0, "ignored": 0,
                  "fields": [{"message": "response", "path": "status",
                              "seen": {"Accepted": 1}, "missing": ["Pending", "Rejected"]}]}],
     "untested": [{"action": "ClearCache", "direction": "csms_to_cp"}],
     "not_supported": [{"action": "SetChargingProfile", "direction": "csms_to_cp",
                        "count": 2}],
     "frames": {"raw": 0, "malformed": 0, "unmatched": 0}}

``errors`` counts every CALLERROR as sent, the NotSupported answers of ``not_supported``
included; the console table shows those as "not supported here" instead.

``actions`` follows the order of ACTIONS (unknown actions last, by name), charge point to
CSMS before CSMS to charge point; ``seen`` follows the schema's enum order, values the
schema does not allow last.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.table import Table
from rich.text import Text

from mockpoint.errors import ErrorCode
from mockpoint.ocpp16.actions import ACTIONS
from mockpoint.ocpp16.schemas import load_schema
from mockpoint.scenario.outcome import FrameRecord, RunOutcome
from mockpoint.scenario.reports.text import (
    IGNORED,
    NOT_SUPPORTED,
    FrameDescriber,
    compact,
    make_parent,
    one_line,
    tallied,
)

VERSION = 1

CoverageDirection = Literal["cp_to_csms", "csms_to_cp"]
Message = Literal["request", "response"]

#: Who sent a CALL that travelled each way (``FrameRecord.direction`` is the charge point's
#: view: ``out`` is what it sent).
_DIRECTION_OF: dict[str, CoverageDirection] = {"out": "cp_to_csms", "in": "csms_to_cp"}
_ARROWS: dict[CoverageDirection, str] = {"cp_to_csms": "CP → CSMS", "csms_to_cp": "CSMS → CP"}
#: OCPP 1.6 names a request ``.req`` and its response ``.conf``.
_MESSAGE_SUFFIX: dict[Message, str] = {"request": "req", "response": "conf"}
#: How many missing values a table cell lists before it says "+N more"; the JSON has all.
_MAX_LISTED = 8
#: Schemas nest a few levels deep; a deeper walk means a ``$ref`` cycle.
_MAX_DEPTH = 32
#: The CALLERROR code of a request that is "not supported here" (OCPP-J 1.6 §4.2.3).
NOT_SUPPORTED_CODE = ErrorCode.NOT_SUPPORTED.value


@dataclass
class FieldCoverage:
    """One enum-typed field of a request or response: the values seen against the allowed."""

    message: Message
    #: dotted path in the payload, ``[]`` after an array: ``meterValue[].sampledValue[].unit``
    path: str
    #: the values the OCA schema's ``enum`` allows, in its order
    allowed: tuple[str, ...]
    #: how often each value was seen (values outside ``allowed`` too, as compact JSON when
    #: not strings)
    seen: dict[str, int] = field(default_factory=dict)

    @property
    def covered(self) -> list[str]:
        """The allowed values that were seen, in the schema's order."""
        return [value for value in self.allowed if value in self.seen]

    @property
    def missing(self) -> list[str]:
        """The allowed values never seen, in the schema's order."""
        return [value for value in self.allowed if value not in self.seen]

    @property
    def unexpected(self) -> list[str]:
        """Values seen that the schema does not allow (a deliberately invalid message)."""
        return [value for value in self.seen if value not in self.allowed]


@dataclass
class ActionCoverage:
    """One action in one direction: its CALLs, their answers, its enum fields."""

    action: str
    direction: CoverageDirection
    #: whether mockpoint supports the action in this direction; only such entries can be
    #: untested, the others are listed because they occurred
    in_scope: bool
    calls: int = 0
    results: int = 0
    #: CALLERROR answers per error code, as sent
    errors: dict[str, int] = field(default_factory=dict)
    fields: list[FieldCoverage] = field(default_factory=list)
    #: CSMS requests answered NotSupported because mockpoint does not implement them
    not_supported: int = 0
    #: CSMS requests left unanswered because the boot was Rejected (OCPP 1.6 §4.2)
    ignored: int = 0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def unanswered(self) -> int:
        """CALLs that got no answer in the frames (timed out, or the connection went)."""
        return self.calls - self.results - self.error_count


@dataclass
class Coverage:
    """The coverage of a run: :func:`compute_coverage`'s result."""

    actions: list[ActionCoverage] = field(default_factory=list)
    #: frames that were not JSON
    raw_frames: int = 0
    #: JSON frames that are no OCPP-J CALL, CALLRESULT or CALLERROR
    malformed_frames: int = 0
    #: CALLRESULTs and CALLERRORs whose CALL was not seen (or was already answered)
    unmatched_answers: int = 0

    @property
    def untested(self) -> list[ActionCoverage]:
        """In-scope actions, per direction, of which no CALL was seen."""
        return [entry for entry in self.actions if entry.in_scope and entry.calls == 0]

    @property
    def not_supported(self) -> list[ActionCoverage]:
        """Actions a CSMS sent that mockpoint does not implement ("not supported here")."""
        return [entry for entry in self.actions if entry.not_supported]

    def find(self, action: str, direction: CoverageDirection) -> ActionCoverage | None:
        """The entry of ``action`` in ``direction``, if listed."""
        for entry in self.actions:
            if entry.action == action and entry.direction == direction:
                return entry
        return None


# --- the allowed values, from the schemas ----------------------------------------------


@functools.cache
def enum_fields(action: str, response: bool) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Every enum-typed field of ``action``'s request (or response) schema, at any depth:
    ``(path, allowed values)`` in schema order. Empty for an unknown action."""
    try:
        schema = load_schema(action, response)
    except (KeyError, OSError, ValueError):
        return ()
    found: list[tuple[str, tuple[str, ...]]] = []
    _walk_schema(schema, schema, "", found, 0)
    return tuple(found)


def _walk_schema(
    node: Any, root: dict[str, Any], path: str, found: list[tuple[str, tuple[str, ...]]], depth: int
) -> None:
    node = _resolve(node, root)
    if not isinstance(node, dict) or depth > _MAX_DEPTH:
        return
    enum = node.get("enum")
    if isinstance(enum, list) and path:
        found.append((path, tuple(str(value) for value in enum)))
        return
    properties = node.get("properties")
    if isinstance(properties, dict):
        for name, sub in properties.items():
            _walk_schema(sub, root, f"{path}.{name}" if path else name, found, depth + 1)
    items = node.get("items")
    if isinstance(items, dict):
        _walk_schema(items, root, f"{path}[]", found, depth + 1)


def _resolve(node: Any, root: dict[str, Any]) -> Any:
    """Follow a local ``$ref`` (``#/definitions/X``): the security whitepaper's schemas use
    them; the 1.6 core ones inline everything."""
    for _ in range(_MAX_DEPTH):
        if not isinstance(node, dict) or not isinstance(node.get("$ref"), str):
            return node
        ref: str = node["$ref"]
        if not ref.startswith("#/"):
            return None
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        node = target
    return None


def values_at(payload: Any, path: str) -> Iterator[Any]:
    """The values at ``path`` (as :func:`enum_fields` writes it) in ``payload``; whatever
    is missing or of the wrong shape on the way yields nothing."""
    current: list[Any] = [payload]
    for segment in path.split("."):
        many = segment.endswith("[]")
        name = segment.removesuffix("[]")
        following: list[Any] = []
        for item in current:
            if not isinstance(item, dict) or name not in item:
                continue
            value = item[name]
            if not many:
                following.append(value)
            elif isinstance(value, list):
                following.extend(value)
        current = following
    yield from current


# --- counting -----------------------------------------------------------------------------


def compute_coverage(run: RunOutcome) -> Coverage:
    """The protocol coverage of ``run``: every scenario's frames, every charge point."""
    builder = _Builder()
    for scenario in run.scenarios:
        builder.add_frames(scenario.frames)
        builder.add_unanswered(scenario.not_supported, scenario.ignored)
    return builder.finish()


class _Builder:
    def __init__(self) -> None:
        self.coverage = Coverage()
        self._entries: dict[tuple[str, CoverageDirection], ActionCoverage] = {}
        for name, info in ACTIONS.items():
            if info.supported:
                for direction in _natural_directions(name):
                    self._entry(name, direction)

    def add_frames(self, records: list[FrameRecord]) -> None:
        """Count one scenario's frames. Unique ids are only unique per connection (and a
        seeded generator repeats them in the next scenario), so pairing starts afresh."""
        describer = FrameDescriber()
        pending: dict[tuple[str, str, str], ActionCoverage] = {}
        for record in records:
            view = describer.describe(record)
            if view.kind == "raw":
                self.coverage.raw_frames += 1
                continue
            if view.kind == "malformed":
                self.coverage.malformed_frames += 1
                continue
            frame = record.frame
            if view.kind == "call":
                entry = self._entry(frame[2], _DIRECTION_OF[record.direction])
                entry.calls += 1
                self._count_values(entry, "request", frame[3])
                pending[(record.cp, record.direction, frame[1])] = entry
                continue
            # An answer travels the other way from the CALL it answers; a second answer to
            # the same CALL is the peer's mistake and counts as unmatched.
            caller = "in" if record.direction == "out" else "out"
            answered = pending.pop((record.cp, caller, frame[1]), None)
            if answered is None:
                self.coverage.unmatched_answers += 1
            elif view.kind == "result":
                answered.results += 1
                self._count_values(answered, "response", frame[2])
            else:
                code = view.code or "?"
                answered.errors[code] = answered.errors.get(code, 0) + 1

    def add_unanswered(self, not_supported: dict[str, int], ignored: dict[str, int]) -> None:
        """Count the CSMS requests the runner answered NotSupported or left unanswered."""
        for action, count in not_supported.items():
            self._entry(action, "csms_to_cp").not_supported += count
        for action, count in ignored.items():
            self._entry(action, "csms_to_cp").ignored += count

    def finish(self) -> Coverage:
        order = {name: index for index, name in enumerate(ACTIONS)}
        entries = sorted(
            self._entries.values(),
            key=lambda entry: (
                order.get(entry.action, len(order)),
                entry.action,
                entry.direction != "cp_to_csms",
            ),
        )
        for entry in entries:
            entry.errors = dict(sorted(entry.errors.items()))
            for item in entry.fields:
                item.seen = _in_schema_order(item)
        self.coverage.actions = entries
        return self.coverage

    def _entry(self, action: str, direction: CoverageDirection) -> ActionCoverage:
        key = (action, direction)
        entry = self._entries.get(key)
        if entry is None:
            info = ACTIONS.get(action)
            in_scope = info is not None and info.supported
            entry = ActionCoverage(
                action, direction, in_scope and direction in _natural_directions(action)
            )
            for message in ("request", "response"):
                for path, allowed in enum_fields(action, message == "response"):
                    entry.fields.append(FieldCoverage(message, path, allowed))
            self._entries[key] = entry
        return entry

    @staticmethod
    def _count_values(entry: ActionCoverage, message: Message, payload: Any) -> None:
        for item in entry.fields:
            if item.message != message:
                continue
            for value in values_at(payload, item.path):
                key = value if isinstance(value, str) else compact(value)
                item.seen[key] = item.seen.get(key, 0) + 1


def _natural_directions(action: str) -> tuple[CoverageDirection, ...]:
    """The directions in which ``action``'s request travels, per OCPP 1.6 §3.1."""
    info = ACTIONS.get(action)
    if info is None:
        return ()
    directions: list[CoverageDirection] = []
    if info.sent_by_charge_point():
        directions.append("cp_to_csms")
    if info.sent_by_central_system():
        directions.append("csms_to_cp")
    return tuple(directions)


def _in_schema_order(item: FieldCoverage) -> dict[str, int]:
    allowed = [(value, item.seen[value]) for value in item.allowed if value in item.seen]
    others = sorted((value, n) for value, n in item.seen.items() if value not in item.allowed)
    return dict(allowed + others)


# --- JSON ---------------------------------------------------------------------------------


def coverage_json(coverage: Coverage) -> dict[str, Any]:
    """The ``--coverage`` document as plain data, in the documented key order."""
    return {
        "version": VERSION,
        "actions": [
            {
                "action": entry.action,
                "direction": entry.direction,
                "calls": entry.calls,
                "results": entry.results,
                "errors": dict(entry.errors),
                "not_supported": entry.not_supported,
                "ignored": entry.ignored,
                "fields": [
                    {
                        "message": item.message,
                        "path": item.path,
                        "seen": dict(item.seen),
                        "missing": item.missing,
                    }
                    for item in entry.fields
                ],
            }
            for entry in coverage.actions
        ],
        "untested": [
            {"action": entry.action, "direction": entry.direction} for entry in coverage.untested
        ],
        "not_supported": [
            {"action": entry.action, "direction": entry.direction, "count": entry.not_supported}
            for entry in coverage.not_supported
        ],
        "frames": {
            "raw": coverage.raw_frames,
            "malformed": coverage.malformed_frames,
            "unmatched": coverage.unmatched_answers,
        },
    }


def write_coverage(coverage: Coverage, path: Path | str) -> None:
    """Write :func:`coverage_json` of ``coverage`` to ``path``, indented by 2, UTF-8."""
    path = Path(path)
    make_parent(path)
    text = json.dumps(coverage_json(coverage), indent=2, ensure_ascii=False)
    # A lone surrogate in a peer's action name or value cannot be UTF-8 (see json_report).
    path.write_text(text + "\n", encoding="utf-8", errors="backslashreplace")


# --- console ------------------------------------------------------------------------------


def render_coverage_table(coverage: Coverage, console: Console) -> None:
    """Print ``coverage`` as a table, one row per action and direction, then a line that
    counts the untested ones and the frames that could not be counted. Peer-supplied text (action
    names, values, error codes) goes in as ``Text``, never as markup."""
    table = Table(title="OCPP 1.6 coverage", title_justify="left", show_lines=True)
    table.add_column("Action", no_wrap=True)
    table.add_column("Direction", no_wrap=True)
    table.add_column("Calls", justify="right")
    table.add_column("Results", justify="right")
    table.add_column("Errors")
    table.add_column("Values seen / possible")
    for entry in coverage.actions:
        idle = entry.calls == 0
        table.add_row(
            Text(one_line(entry.action), style="dim" if idle else "bold"),
            Text(
                _ARROWS[entry.direction],
                style="cyan" if entry.direction == "cp_to_csms" else "magenta",
            ),
            Text(str(entry.calls), style="dim" if idle else ""),
            Text(str(entry.results), style="green" if entry.results else "dim"),
            _errors_cell(entry),
            _values_cell(entry),
        )
    console.print(table)
    console.print(_footer(coverage), highlight=False)


def _errors_cell(entry: ActionCoverage) -> Text:
    """The CALLERRORs, but those that say "not supported here" (they are no failure), and the
    requests left unanswered while the boot was Rejected."""
    errors = dict(entry.errors)
    if entry.not_supported:
        left = errors.pop(NOT_SUPPORTED_CODE, 0) - entry.not_supported
        if left > 0:
            errors[NOT_SUPPORTED_CODE] = left
    parts = [Text(f"{one_line(code)} ×{n}", "red") for code, n in errors.items()]
    if entry.not_supported:
        parts.append(Text(f"{NOT_SUPPORTED} ×{entry.not_supported}", "yellow"))
    if entry.ignored:
        parts.append(Text(f"{IGNORED} ×{entry.ignored}", "yellow"))
    if not parts:
        return Text("0", style="dim")
    return Text(", ").join(parts)


def _values_cell(entry: ActionCoverage) -> Text:
    if entry.calls == 0:
        return Text("not exercised", style="dim")
    lines = [_field_line(item) for item in entry.fields if item.seen or _answered(entry, item)]
    return Text("\n").join(lines) if lines else Text("")


def _answered(entry: ActionCoverage, item: FieldCoverage) -> bool:
    # A response field of an action never answered with a CALLRESULT says nothing new.
    return item.message == "request" or entry.results > 0


def _field_line(item: FieldCoverage) -> Text:
    """``conf status 2/3: Accepted, Pending — missing Rejected``."""
    covered, missing, unexpected = item.covered, item.missing, item.unexpected
    text = Text(f"{_MESSAGE_SUFFIX[item.message]} {item.path} ", style="bold")
    style = "green" if not missing else ("yellow" if covered else "red")
    text.append(f"{len(covered)}/{len(item.allowed)}", style=style)
    if covered:
        text.append(": " + ", ".join(covered))
    if missing:
        listed = ", ".join(missing[:_MAX_LISTED])
        more = f" (+{len(missing) - _MAX_LISTED} more)" if len(missing) > _MAX_LISTED else ""
        text.append(f" — missing {listed}{more}", style="dim")
    if unexpected:
        text.append(" — not in schema: " + ", ".join(map(one_line, unexpected)), style="red")
    return text


def _footer(coverage: Coverage) -> Text:
    in_scope = [entry for entry in coverage.actions if entry.in_scope]
    exercised = len(in_scope) - len(coverage.untested)
    text = Text(f"{exercised}/{len(in_scope)} in-scope action directions exercised")
    if coverage.untested:
        # The table's dim "not exercised" rows say which.
        text.append(f"; {len(coverage.untested)} untested", style="yellow")
    if coverage.not_supported:
        listed = tallied({entry.action: entry.not_supported for entry in coverage.not_supported})
        text.append(f"; {NOT_SUPPORTED}: {listed}", style="yellow")
    odd = [
        (coverage.raw_frames, "raw text frame", "raw text frames"),
        (coverage.malformed_frames, "malformed frame", "malformed frames"),
        (coverage.unmatched_answers, "answer to no CALL seen", "answers to no CALL seen"),
    ]
    for count, one, many in odd:
        if count:
            text.append(f"; {count} {one if count == 1 else many}", style="red")
    return text

"""Tab completion for ``mockpoint shell``: commands, actions, and a payload's field names
and enum values, read from the OCA 1.6 JSON schemas, so what is offered is what the
charge point may send."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Iterator
from typing import Any

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from mockpoint.ocpp16.configuration_keys import KEYS
from mockpoint.ocpp16.enums import ChargePointErrorCode, Reason
from mockpoint.ocpp16.schemas import load_schema
from mockpoint.shell.commands import CHARGE_POINT_ACTIONS, HELP


def candidates(line: str) -> list[str]:
    """What may complete the last word of ``line`` (before the cursor), in order."""
    try:
        words = shlex.split(line)
    except ValueError:
        return []
    if not line or line[-1].isspace():
        words.append("")
    if len(words) == 1:
        return _starting(words[0], [*HELP, "exit"])
    command, current = words[0].lower(), words[-1]
    position = len(words) - 1
    if command == "send":
        if position == 1:
            return _starting(current, CHARGE_POINT_ACTIONS)
        return _payload(words[1], words[2:-1], current)
    if command == "fault" and position == 2:
        return _starting(current, [code.value for code in ChargePointErrorCode])
    if command == "stop" and position == 2:
        return _starting(current, [reason.value for reason in Reason])
    if command == "config" and position == 1:
        return _starting(current, list(KEYS))
    if command == "help" and position == 1:
        return _starting(current, list(HELP))
    return []


def _payload(action: str, given: list[str], current: str) -> list[str]:
    try:
        schema = load_schema(action, response=False)
    except (KeyError, OSError):
        return []
    properties: dict[str, Any] = schema.get("properties", {})
    name, equals, value = current.partition("=")
    if equals:
        field = _field(properties, name)
        if field is None:
            return []
        options = [str(option) for option in field.get("enum", [])]
        if field.get("type") == "boolean":
            options = ["true", "false"]
        return [f"{name}={option}" for option in _starting(value, options)]
    used = {word.partition("=")[0] for word in given}
    required = set(schema.get("required", []))
    names = sorted(properties, key=lambda n: (n not in required, n))
    return [f"{n}=" for n in _starting(current, [n for n in names if n not in used])]


def _field(properties: dict[str, Any], dotted: str) -> dict[str, Any] | None:
    """The schema of ``a.b`` in ``properties``."""
    node: dict[str, Any] | None = None
    for part in dotted.split("."):
        node = properties.get(part)
        if node is None:
            return None
        properties = node.get("properties", {})
    return node


def _starting(prefix: str, options: Iterable[str]) -> list[str]:
    folded = prefix.lower()
    return [option for option in options if option.lower().startswith(folded)]


class ShellCompleter(Completer):
    """prompt_toolkit's side of :func:`candidates`."""

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterator[Completion]:
        before = document.text_before_cursor
        last = "" if not before or before[-1].isspace() else before.split()[-1]
        for candidate in candidates(before):
            yield Completion(candidate, start_position=-len(last))

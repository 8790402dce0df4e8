"""What a line typed at ``mockpoint shell`` means, sans I/O.

A line is either a shell command (``status``, ``config``, ``connect``, ``raw``...) or one
of the station verbs, which become scenario steps (``plug 1`` is ``plug_in: {connector:
1}``) and run through the scenario runner's own steps: the shell and ``mockpoint run``
share one code path, and a step's field errors are the scenario format's.

``send ACTION field=value ...`` builds a payload: a value that reads as JSON (``5``,
``true``, ``{"a": 1}``, ``[1, 2]``, ``"quoted"``) is that JSON, anything else a string;
``a.b=1`` nests (``{"a": {"b": 1}}``).

A name that is not known (a command, an action, a field of the action's OCA schema, a
status or error code) is an error that offers the closest known one, found by difflib: a
typo is the commonest bad line at a prompt.
"""

from __future__ import annotations

import difflib
import json
import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pydantic

from mockpoint.errors import CommandError
from mockpoint.ocpp16.actions import ACTIONS
from mockpoint.ocpp16.enums import ChargePointErrorCode, Reason
from mockpoint.ocpp16.schemas import load_schema
from mockpoint.scenario import model

#: CALLs a charge point may send (``send`` completes these).
CHARGE_POINT_ACTIONS = sorted(name for name, info in ACTIONS.items() if info.sent_by_charge_point())

#: command -> (arguments, what it does), for ``help`` and completion
HELP: dict[str, tuple[str, str]] = {
    "send": (
        "ACTION [field=value ...]",
        "send any charge-point request, e.g. send Authorize idTag=ABC",
    ),
    "plug": ("CONNECTOR", "plug a cable in"),
    "unplug": ("CONNECTOR", "unplug the cable"),
    "authorize": ("TAG", "present an id tag (Authorize)"),
    "start": ("CONNECTOR [TAG]", "start a transaction"),
    "charge": (
        "CONNECTOR POWER [DURATION]",
        "draw power, e.g. charge 1 11kW 30m; without DURATION the EV goes on drawing "
        "(charge 1 0 pauses it)",
    ),
    "stop": ("CONNECTOR [REASON]", "stop the transaction"),
    "fault": ("CONNECTOR ERROR_CODE", "report a fault, e.g. fault 1 GroundFailure"),
    "clear": ("CONNECTOR", "clear a fault"),
    "wait": ("DURATION", "let virtual time pass, e.g. wait 5m"),
    "status": ("", "connectors, transactions, queue and connection"),
    "config": ("[KEY]", "the configuration keys, or one"),
    "connect": ("", "reconnect after disconnect"),
    "disconnect": ("", "drop the connection and stay offline"),
    "raw": ("TEXT", 'send TEXT as it is, e.g. raw [2,"x","Heartbeat",{}]'),
    "save": ("FILE", "write this session as a scenario file (see mockpoint record)"),
    "help": ("[COMMAND]", "this list"),
    "quit": ("", "leave (also exit, Ctrl-D)"),
}


#: what ``stop`` and ``fault`` take: the Reason and ChargePointErrorCode values of OCPP 1.6
REASONS = [reason.value for reason in Reason]
ERROR_CODES = [code.value for code in ChargePointErrorCode]


@dataclass(frozen=True)
class Command:
    """A shell command other than a step: its name and its arguments."""

    name: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class StepCommand:
    """A station verb or ``send``: the scenario step it stands for."""

    step: model.StepBase
    text: dict[str, Any] = field(default_factory=dict)


_STEP = pydantic.TypeAdapter(model.Step)


def parse(line: str) -> Command | StepCommand | None:
    """``line`` as a command; None for an empty line or a comment. Raises CommandError."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    name, _, rest = text.partition(" ")
    name = name.lower()
    if name == "raw":
        if not rest.strip():
            raise CommandError("raw needs the text to send")
        return Command("raw", (rest.strip(),))
    try:
        words = shlex.split(rest)
    except ValueError as exc:
        raise CommandError(f"{name}: {exc}") from None
    if name in ("exit", "quit"):
        return Command("quit")
    if name in ("status", "config", "connect", "disconnect", "save", "help"):
        return Command(name, tuple(words))
    if name == "send":
        action = _action(words)
        data = payload(words[1:])
        _check_fields(action, data)
        return _step({"send": action, "payload": data}, name)
    builders: dict[str, Callable[[], dict[str, Any]]] = {
        "plug": lambda: {"plug_in": {"connector": _int(words, 0, name)}},
        "unplug": lambda: {"unplug": {"connector": _int(words, 0, name)}},
        "authorize": lambda: {"authorize": {"id_tag": _word(words, 0, name, "TAG")}},
        "start": lambda: {
            "start_transaction": {"connector": _int(words, 0, name)}
            | ({"id_tag": words[1]} if len(words) > 1 else {})
        },
        "charge": lambda: {
            "charge": {"connector": _int(words, 0, name), "power": _word(words, 1, name, "POWER")}
            | ({"duration": words[2]} if len(words) > 2 else {})
        },
        "stop": lambda: {
            "stop_transaction": {"connector": _int(words, 0, name)}
            | ({"reason": _known(words[1], REASONS, name, "reason")} if len(words) > 1 else {})
        },
        "fault": lambda: {
            "fault": {
                "connector": _int(words, 0, name),
                "error_code": _known(
                    _word(words, 1, name, "ERROR_CODE"), ERROR_CODES, name, "error code"
                ),
            }
        },
        "clear": lambda: {"clear_fault": {"connector": _int(words, 0, name)}},
        "wait": lambda: {"wait": _word(words, 0, name, "DURATION")},
    }
    if name not in builders:
        hint = did_you_mean(name, [*HELP, "exit"])
        if hint:
            raise CommandError(f"unknown command {name!r}{hint}")
        known = ", ".join(sorted(HELP))
        raise CommandError(f"unknown command {name!r}; the commands: {known}")
    return _step(builders[name](), name)


def payload(words: list[str]) -> dict[str, Any]:
    """``field=value`` words as a payload (see the module docstring)."""
    result: dict[str, Any] = {}
    for word in words:
        key, equals, raw = word.partition("=")
        if not equals or not key:
            raise CommandError(f"{word!r}: write field=value")
        value: Any
        try:
            value = json.loads(raw)
        except ValueError:
            value = raw
        target = result
        *parents, last = key.split(".")
        for part in parents:
            child = target.setdefault(part, {})
            if not isinstance(child, dict):
                raise CommandError(f"{key}: {part} is already a value")
            target = child
        target[last] = value
    return result


def _step(data: dict[str, Any], name: str) -> StepCommand:
    try:
        step = _STEP.validate_python(data)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'][1:]) or name}: {error['msg']}"
            for error in exc.errors()
        )
        raise CommandError(f"{name}: {problems}") from None
    return StepCommand(step, data)


def _action(words: list[str]) -> str:
    if not words:
        raise CommandError("send needs an action, e.g. send Heartbeat")
    action = words[0]
    if action not in ACTIONS:
        folded = {name.lower(): name for name in ACTIONS}
        if action.lower() in folded:
            return folded[action.lower()]
        raise CommandError(f"unknown action {action!r}{did_you_mean(action, CHARGE_POINT_ACTIONS)}")
    return action


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """`` (did you mean X?)`` with the option closest to ``word`` whatever its case (and
    the runner-up when it is about as close), or nothing when none is close."""
    folded = {option.lower(): option for option in options}
    scored = []
    for match in difflib.get_close_matches(word.lower(), list(folded), n=2, cutoff=0.75):
        scored.append((difflib.SequenceMatcher(None, word.lower(), match).ratio(), match))
    if not scored:
        return ""
    best = scored[0][0]
    close = [folded[match] for ratio, match in scored if ratio >= best - 0.1]
    return f" (did you mean {' or '.join(close)}?)"


def _known(value: str, options: list[str], name: str, what: str) -> str:
    """``value``, or the option it is written in another case; a typo with a close option
    is an error that names it (anything else is left to the step's own check)."""
    folded = {option.lower(): option for option in options}
    if value in options or value.lower() not in folded:
        hint = "" if value in options else did_you_mean(value, options)
        if hint:
            raise CommandError(f"{name}: unknown {what} {value!r}{hint}")
        return value
    return folded[value.lower()]


def _check_fields(action: str, data: dict[str, Any]) -> None:
    """A field the action's OCA schema does not have, or an enum value with a close
    known one, is an error offering that one; the step's validation checks the rest."""
    try:
        schema = load_schema(action, response=False)
    except (KeyError, OSError):
        return
    _check_object(action, schema, data, "")


def _check_object(action: str, schema: dict[str, Any], data: dict[str, Any], path: str) -> None:
    properties: dict[str, Any] = schema.get("properties", {})
    for key, value in data.items():
        node = properties.get(key)
        if node is None:
            if schema.get("additionalProperties") is False:
                hint = did_you_mean(key, properties)
                raise CommandError(f"send {action}: unknown field {path + key!r}{hint}")
            continue
        if isinstance(value, dict) and node.get("type") == "object":
            _check_object(action, node, value, f"{path}{key}.")
        elif isinstance(value, str) and value not in node.get("enum", [value]):
            hint = did_you_mean(value, node["enum"])
            if hint:
                raise CommandError(f"send {action}: {path + key} {value!r} is unknown{hint}")


def _word(words: list[str], index: int, name: str, what: str) -> str:
    if len(words) <= index:
        raise CommandError(f"{name} needs {what}: {name} {HELP[name][0]}")
    return words[index]


def _int(words: list[str], index: int, name: str) -> int:
    text = _word(words, index, name, "CONNECTOR")
    try:
        return int(text)
    except ValueError:
        raise CommandError(f"{name}: connector {text!r} is not a number") from None

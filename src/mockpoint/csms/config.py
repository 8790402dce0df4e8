"""What the mock CSMS answers and sends, as data: :class:`CsmsConfig` and its YAML loader.

A configuration file, every key optional::

    boot:
      status: [Pending, Accepted]     # 1st boot Pending, 2nd and later Accepted
      interval: [10, 300]             # in step with status; the last one repeats
    id_tags:
      blocked: [TAG-B]
      expired: [TAG-E]
      invalid: [TAG-I]
      concurrent_tx: [TAG-C]
      expiry_date: {TAG-001: "2030-01-01T00:00:00Z"}   # Accepted tags only
      parent_id_tag: {TAG-001: GROUP-1}                # Accepted tags only
    answers:                          # per charge-point-initiated action
      Heartbeat: {error: InternalError, description: down for maintenance, times: 1}
      MeterValues: {ignore: true}
      DataTransfer: {payload: {status: Rejected}}
    on_boot:                          # after each accepted boot, in order
      - {action: GetConfiguration, payload: {}, delay: 500ms}
    periodic:                         # every period, from the accepted boot on
      - {action: TriggerMessage, payload: {requestedMessage: Heartbeat}, period: 60s}
    on_request:                       # after answering a matching charge point request
      - when: {action: StatusNotification, match: {connectorId: 1, status: Charging}}
        send: {action: RemoteStopTransaction, payload: {transactionId: "${transaction_id}"}}
        delay: 0s                     # times: 1 (default) per charge point
    call_timeout: 30s                 # how long the CSMS waits for a charge point's answer
    deduplicate: true                 # a CALL whose unique id this charge point already
                                      # used gets the first answer again, with no new effect
    auth:                             # HTTP Basic auth (security profiles 1 and 2)
      passwords: {CP-001: "${CP001_PASSWORD}"}   # per charge point id
      any_password: "${CSMS_PASSWORD}"           # for every charge point not listed

Every request payload is checked against its OCA schema when the file is loaded, and every
``answers`` payload is checked merged over a default answer, so a broken file fails at start
(:class:`~mockpoint.errors.UsageError` naming the file and the key), never mid-run.

``auth`` turns on HTTP Basic authentication (OCPP 1.6 security whitepaper, profiles 1 and
2: the user name is the charge point identity, the password its AuthorizationKey). A
password of the form ``${NAME}`` is read from the environment variable NAME, so it need not
be written in the file; no message of the loader ever shows a password.

``mockpoint csms --config`` also takes a scenario file (docs/scenario-format.md): a mapping
with ``steps``, ``charge_point`` or ``mock_csms``, none of which a configuration has. Its
``mock_csms`` block, the same keys as above, is the configuration (:func:`load_csms_config`);
an error in it names ``<file>:<line>`` and ``mock_csms.<key>``. A scenario without the block
stands for the default configuration, as the scenario runner's embedded mock CSMS does.

The YAML is read without YAML 1.1's timestamp conversion: ``2030-01-01T00:00:00Z`` stays the
string OCPP puts on the wire instead of becoming a ``datetime``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from mockpoint.csms.answers import DEFAULT_INTERVAL, check_override
from mockpoint.errors import ErrorCode, UsageError
from mockpoint.ocpp16.actions import ACTIONS, CENTRAL_SYSTEM_HANDLES
from mockpoint.ocpp16.enums import RegistrationStatus
from mockpoint.rpc.validation import check_request, check_response

#: OCPP 1.6 §7.28 IdToken: an idTag is at most 20 characters.
MAX_ID_TAG_LENGTH = 20


@dataclass(frozen=True)
class BootConfig:
    """BootNotification answers (OCPP 1.6 §4.2): the n-th boot of a charge point gets
    ``status[n-1]`` and ``interval[n-1]``, the last entry repeating."""

    status: tuple[RegistrationStatus, ...] = (RegistrationStatus.ACCEPTED,)
    interval: tuple[int, ...] = (DEFAULT_INTERVAL,)

    def answer_for(self, boot_number: int) -> tuple[RegistrationStatus, int]:
        """Status and interval of the ``boot_number``-th boot (1-based)."""
        return _nth(self.status, boot_number), _nth(self.interval, boot_number)


@dataclass(frozen=True)
class IdTagConfig:
    """idTagInfo answers (OCPP 1.6 §7.29 AuthorizationStatus): every tag not listed is
    Accepted."""

    blocked: frozenset[str] = frozenset()
    expired: frozenset[str] = frozenset()
    invalid: frozenset[str] = frozenset()
    concurrent_tx: frozenset[str] = frozenset()
    #: expiryDate (RFC 3339) of Accepted tags
    expiry_date: Mapping[str, str] = field(default_factory=dict)
    #: parentIdTag of Accepted tags
    parent_id_tag: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class AnswerOverride:
    """How to answer one charge-point-initiated action instead of the default.

    Exactly one of ``payload`` (merged over the default answer), ``error`` (a CALLERROR) and
    ``ignore`` (no answer at all) is set; ``times`` limits it to the first N such requests of
    each charge point.
    """

    payload: Mapping[str, Any] | None = None
    error: ErrorCode | None = None
    description: str = ""
    ignore: bool = False
    times: int | None = None


@dataclass(frozen=True)
class ScriptedRequest:
    """A CSMS-initiated request sent ``delay`` seconds after the boot answer (first entry) or
    after the previous entry's answer (later entries)."""

    action: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class TriggeredRequest:
    """A CSMS-initiated request sent ``delay`` seconds after the CSMS has answered a request
    of the charge point of action ``when_action`` whose payload contains ``when_match``; at
    most ``times`` times per charge point. Keyed to the charge point's own traffic, it
    arrives at the same point of a scenario in every run.

    A payload string ``${transaction_id}`` becomes the id of the charge point's latest
    open transaction.
    """

    when_action: str
    when_match: Mapping[str, Any]
    action: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    delay: float = 0.0
    times: int = 1


@dataclass(frozen=True)
class PeriodicRequest:
    """A CSMS-initiated request sent every ``period`` seconds, from the accepted boot on."""

    action: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    period: float = 60.0


@dataclass(frozen=True, repr=False)
class AuthConfig:
    """The HTTP Basic authentication the mock CSMS demands (OCPP 1.6 security whitepaper,
    profiles 1 and 2): a charge point listed in ``passwords`` must send its own password,
    any other one ``any_password``; with neither set, no authentication is asked for.

    The representation names the charge points, never the passwords.
    """

    passwords: Mapping[str, str] = field(default_factory=dict)
    any_password: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.passwords) or self.any_password is not None

    def __repr__(self) -> str:
        listed = ", ".join(sorted(self.passwords))
        other = "set" if self.any_password is not None else "unset"
        return f"AuthConfig(passwords for [{listed}], any_password {other})"


@dataclass(frozen=True)
class CsmsConfig:
    """Everything that shapes the mock CSMS's answers and its own requests."""

    boot: BootConfig = field(default_factory=BootConfig)
    id_tags: IdTagConfig = field(default_factory=IdTagConfig)
    answers: Mapping[str, AnswerOverride] = field(default_factory=dict)
    on_boot: tuple[ScriptedRequest, ...] = ()
    periodic: tuple[PeriodicRequest, ...] = ()
    on_request: tuple[TriggeredRequest, ...] = ()
    #: real seconds the CSMS waits for the answer to each request of its own
    call_timeout: float = 30.0
    #: HTTP Basic authentication of the charge points (off by default)
    auth: AuthConfig = field(default_factory=AuthConfig)
    #: treat a CALL whose unique id the charge point already used as a retransmission, as
    #: production CSMSs do: answer it as the first time, apply nothing (off by default)
    deduplicate: bool = False


#: Top-level keys of a scenario file; a CSMS configuration has none of them.
SCENARIO_KEYS = frozenset({"steps", "charge_point", "mock_csms"})


@dataclass(frozen=True)
class LoadedConfig:
    """What :func:`load_csms_config` read."""

    config: CsmsConfig
    #: the file is a scenario: ``config`` comes from its ``mock_csms`` block
    scenario: bool = False
    #: the scenario has a ``mock_csms`` block (without one, ``config`` is the default)
    block: bool = False


def load_config(path: str | Path) -> CsmsConfig:
    """Read a YAML configuration file; raises :class:`UsageError` naming the file and key."""
    source = str(path)
    data, _ = _read_yaml(path)
    return config_from_mapping({} if data is None else data, source)


def load_csms_config(path: str | Path) -> LoadedConfig:
    """Read a configuration file or a scenario file (its ``mock_csms`` block); raises
    :class:`UsageError` naming the file and key, and for a scenario the line too."""
    data, node = _read_yaml(path)
    if not isinstance(data, dict) or not SCENARIO_KEYS.intersection(data):
        return LoadedConfig(config_from_mapping({} if data is None else data, str(path)))
    block = data.get("mock_csms")
    if block is None:
        return LoadedConfig(CsmsConfig(), scenario=True)
    reader = _Reader(str(path), block="mock_csms", node=node)
    return LoadedConfig(_config(reader, block), scenario=True, block=True)


def config_from_mapping(data: object, source: str = "<config>") -> CsmsConfig:
    """Build a :class:`CsmsConfig` from decoded YAML or JSON (the same keys as the file)."""
    return _config(_Reader(source), data)


def _read_yaml(path: str | Path) -> tuple[object, yaml.Node | None]:
    """The decoded document and its node tree (where each value stands in the file)."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(f"{source}: cannot read the CSMS configuration: {reason}") from exc
    loader = _Loader(text)  # safe: _Loader is a SafeLoader
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise UsageError(f"{source}{where}: not valid YAML: {problem}") from exc
    except (ValueError, OverflowError, RecursionError) as exc:
        # A tagged value that cannot be what its tag says (!!int abc), or nesting too deep.
        raise UsageError(f"{source}: not valid YAML: {type(exc).__name__}: {exc}") from exc
    finally:
        loader.dispose()
    return data, node


def _config(reader: _Reader, data: object) -> CsmsConfig:
    top = reader.mapping(data, "", _TOP_KEYS)
    return CsmsConfig(
        boot=_boot(reader, top.get("boot")),
        id_tags=_id_tags(reader, top.get("id_tags")),
        answers=_answers(reader, top.get("answers")),
        on_boot=tuple(
            _scripted(reader, item, f"on_boot[{n}]")
            for n, item in enumerate(reader.sequence(top.get("on_boot", []), "on_boot"))
        ),
        periodic=tuple(
            _periodic(reader, item, f"periodic[{n}]")
            for n, item in enumerate(reader.sequence(top.get("periodic", []), "periodic"))
        ),
        on_request=tuple(
            _triggered(reader, item, f"on_request[{n}]")
            for n, item in enumerate(reader.sequence(top.get("on_request", []), "on_request"))
        ),
        call_timeout=(
            reader.duration(top["call_timeout"], "call_timeout", positive=True)
            if "call_timeout" in top
            else 30.0
        ),
        auth=_auth(reader, top.get("auth")),
        deduplicate=reader.boolean(top.get("deduplicate", False), "deduplicate"),
    )


def parse_duration(value: object) -> float:
    """Seconds from a number or a string such as ``"5s"``, ``"500ms"``, ``"2m"``, ``"1h"``.

    Raises :class:`ValueError` for anything else, including negative durations.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        match = _DURATION.fullmatch(value.strip())
        if match is None:
            raise ValueError(f"{value!r} is not a duration (use e.g. 5, 1.5s, 500ms, 2m, 1h)")
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    else:
        raise ValueError(f"{value!r} is not a duration")
    if seconds < 0 or seconds != seconds or seconds == float("inf"):
        raise ValueError(f"{value!r} is not a finite, non-negative duration")
    return seconds


def check_csms_request(action: str, payload: Mapping[str, Any]) -> str | None:
    """Why the mock CSMS cannot send ``action`` with ``payload``, or None if it can."""
    info = ACTIONS.get(action)
    if info is None:
        return f"{action!r} is not an OCPP 1.6 action"
    if not info.sent_by_central_system():
        return f"{action} is not sent by a Central System"
    violation = check_request(action, dict(payload))
    if violation is not None:
        return f"{action} request: {violation.message}"
    return None


# --- internals ---------------------------------------------------------------------------

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*(ms|s|m|h)?")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}

_TOP_KEYS = frozenset(
    {
        "boot",
        "id_tags",
        "answers",
        "on_boot",
        "periodic",
        "on_request",
        "call_timeout",
        "auth",
        "deduplicate",
    }
)
_AUTH_KEYS = frozenset({"passwords", "any_password"})
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TRIGGERED_KEYS = frozenset({"when", "send", "delay", "times"})
_WHEN_KEYS = frozenset({"action", "match"})
#: placeholders of triggered payloads, and a stand-in value to check the schema with
PLACEHOLDERS: dict[str, object] = {"${transaction_id}": 1}
_BOOT_KEYS = frozenset({"status", "interval"})
_ID_TAG_LISTS = ("blocked", "expired", "invalid", "concurrent_tx")
_ID_TAG_KEYS = frozenset({*_ID_TAG_LISTS, "expiry_date", "parent_id_tag"})
_ANSWER_KEYS = frozenset({"payload", "error", "description", "ignore", "times"})
_SCRIPTED_KEYS = frozenset({"action", "payload", "delay"})
_PERIODIC_KEYS = frozenset({"action", "payload", "period"})


class _Loader(yaml.SafeLoader):
    """SafeLoader without the YAML 1.1 timestamp resolver (timestamps stay strings)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


_T = TypeVar("_T")


def _nth(values: tuple[_T, ...], number: int) -> _T:
    return values[min(max(number, 1), len(values)) - 1]


class _Reader:
    """Type checks that report ``<file>: <key path>: <problem>``.

    Reading the ``block`` of a larger file (a scenario's ``mock_csms``) whose YAML ``node``
    tree it has, they report ``<file>:<line>: <block>.<key path>: <problem>``.
    """

    def __init__(self, source: str, block: str = "", node: yaml.Node | None = None) -> None:
        self.source = source
        self.block = block
        self.node = node

    def fail(self, key: str, problem: str) -> UsageError:
        if self.block:
            path = f"{self.block}.{key}" if key else self.block
            line = _line(self.node, path) if self.node is not None else None
            where = f"{self.source}:{line}" if line is not None else self.source
            return UsageError(f"{where}: {path}: {problem}")
        return UsageError(
            f"{self.source}: {key}: {problem}" if key else f"{self.source}: {problem}"
        )

    def mapping(self, value: object, key: str, allowed: frozenset[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, got {_kind(value)}")
        for name in value:
            if not isinstance(name, str) or name not in allowed:
                where = f"{key}.{name}" if key else str(name)
                raise self.fail(
                    where, f"unknown key (expected one of {', '.join(sorted(allowed))})"
                )
        return value

    def sequence(self, value: object, key: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.fail(key, f"expected a list, got {_kind(value)}")
        return value

    def string(self, value: object, key: str) -> str:
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"expected a non-empty string, got {_kind(value)}")
        return value

    def boolean(self, value: object, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {value!r}")
        return value

    def integer(self, value: object, key: str, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(key, f"expected an integer >= {minimum}, got {value!r}")
        return value

    def duration(self, value: object, key: str, *, positive: bool = False) -> float:
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None
        if positive and seconds <= 0:
            raise self.fail(key, "must be greater than 0")
        return seconds

    def payload(self, value: object, key: str) -> dict[str, Any]:
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise self.fail(key, f"expected a mapping (a JSON object), got {_kind(value)}")
        return value

    def one_or_many(self, value: object, key: str) -> list[tuple[str, object]]:
        """``value`` as a non-empty list of (key path, item)."""
        if isinstance(value, list):
            if not value:
                raise self.fail(key, "expected a value or a non-empty list")
            return [(f"{key}[{n}]", item) for n, item in enumerate(value)]
        return [(key, value)]


def _line(node: yaml.Node, path: str) -> int | None:
    """The line (1-based) of the value a key path such as ``on_boot[0].payload`` names in
    the file: of its key inside a mapping, else of the value itself; the deepest one found
    when the path goes further than the file (a required key that is missing)."""
    line = node.start_mark.line + 1
    rest = path
    while rest:
        if isinstance(node, yaml.SequenceNode):
            index = re.match(r"\[(\d+)\]", rest)
            if index is None or int(index.group(1)) >= len(node.value):
                break
            node = node.value[int(index.group(1))]
            line = node.start_mark.line + 1
            rest = rest[index.end() :]
        elif isinstance(node, yaml.MappingNode):
            # The longest key that starts the path: an id tag may hold a dot.
            matches = [
                (key, value)
                for key, value in node.value
                if isinstance(key, yaml.ScalarNode)
                and rest.startswith(key.value)
                and rest[len(key.value) : len(key.value) + 1] in ("", ".", "[")
            ]
            if not matches:
                break
            key, node = max(matches, key=lambda match: len(match[0].value))
            line = key.start_mark.line + 1
            rest = rest[len(key.value) :].removeprefix(".")
        else:
            break
    return line


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {value!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _boot(reader: _Reader, value: object) -> BootConfig:
    if value is None:
        return BootConfig()
    boot = reader.mapping(value, "boot", _BOOT_KEYS)
    statuses: list[RegistrationStatus] = []
    for key, item in reader.one_or_many(boot.get("status", "Accepted"), "boot.status"):
        try:
            statuses.append(RegistrationStatus(str(item)))
        except ValueError:
            allowed = ", ".join(RegistrationStatus)
            raise reader.fail(key, f"{item!r} is not one of {allowed}") from None
    intervals = [
        reader.integer(item, key, 0)
        for key, item in reader.one_or_many(boot.get("interval", DEFAULT_INTERVAL), "boot.interval")
    ]
    return BootConfig(tuple(statuses), tuple(intervals))


def _id_tags(reader: _Reader, value: object) -> IdTagConfig:
    if value is None:
        return IdTagConfig()
    section = reader.mapping(value, "id_tags", _ID_TAG_KEYS)
    lists: dict[str, frozenset[str]] = {}
    seen: dict[str, str] = {}
    for name in _ID_TAG_LISTS:
        key = f"id_tags.{name}"
        tags = [
            _id_tag(reader, tag, f"{key}[{n}]")
            for n, tag in enumerate(reader.sequence(section.get(name, []), key))
        ]
        for tag in tags:
            if tag in seen and seen[tag] != name:
                raise reader.fail(key, f"{tag!r} is also listed in id_tags.{seen[tag]}")
            seen[tag] = name
        lists[name] = frozenset(tags)
    expiry = _tag_map(reader, section.get("expiry_date", {}), "id_tags.expiry_date")
    for tag, date in expiry.items():
        # The schema's date-time format is the test that matters: it is what the answer
        # must pass on the wire.
        info = {"idTagInfo": {"status": "Accepted", "expiryDate": date}}
        if check_response("Authorize", info) is not None:
            raise reader.fail(f"id_tags.expiry_date.{tag}", f"{date!r} is not an RFC 3339 time")
    parents = _tag_map(reader, section.get("parent_id_tag", {}), "id_tags.parent_id_tag")
    for tag, parent in parents.items():
        _id_tag(reader, parent, f"id_tags.parent_id_tag.{tag}")
    return IdTagConfig(
        blocked=lists["blocked"],
        expired=lists["expired"],
        invalid=lists["invalid"],
        concurrent_tx=lists["concurrent_tx"],
        expiry_date=expiry,
        parent_id_tag=parents,
    )


def _id_tag(reader: _Reader, value: object, key: str) -> str:
    tag = reader.string(value, key)
    if len(tag) > MAX_ID_TAG_LENGTH:
        raise reader.fail(key, f"an idTag has at most {MAX_ID_TAG_LENGTH} characters")
    return tag


def _tag_map(reader: _Reader, value: object, key: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise reader.fail(key, f"expected a mapping of idTag to text, got {_kind(value)}")
    return {
        _id_tag(reader, tag, key): reader.string(text, f"{key}.{tag}")
        for tag, text in value.items()
    }


def _answers(reader: _Reader, value: object) -> dict[str, AnswerOverride]:
    if value is None:
        return {}
    section = reader.mapping(value, "answers", CENTRAL_SYSTEM_HANDLES)
    return {action: _answer(reader, action, item) for action, item in section.items()}


def _answer(reader: _Reader, action: str, value: object) -> AnswerOverride:
    key = f"answers.{action}"
    entry = reader.mapping(value, key, _ANSWER_KEYS)
    kinds = [name for name in ("payload", "error", "ignore") if name in entry]
    if len(kinds) != 1:
        raise reader.fail(key, "give exactly one of payload, error, ignore")
    times = reader.integer(entry["times"], f"{key}.times", 1) if "times" in entry else None
    description = entry.get("description", "")
    if not isinstance(description, str):
        raise reader.fail(f"{key}.description", f"expected text, got {_kind(description)}")
    if "ignore" in entry:
        if entry["ignore"] is not True:
            raise reader.fail(f"{key}.ignore", "the only meaningful value is true")
        return AnswerOverride(ignore=True, times=times)
    if "error" in entry:
        code = ErrorCode.parse(str(entry["error"]))
        if code is None:
            allowed = ", ".join(ErrorCode)
            raise reader.fail(f"{key}.error", f"{entry['error']!r} is not one of {allowed}")
        return AnswerOverride(error=code, description=description, times=times)
    payload = reader.payload(entry["payload"], f"{key}.payload")
    problem = check_override(action, payload)
    if problem is not None:
        raise reader.fail(f"{key}.payload", problem)
    return AnswerOverride(payload=payload, times=times)


def _request(reader: _Reader, entry: dict[str, Any], key: str) -> tuple[str, dict[str, Any]]:
    action = reader.string(entry.get("action"), f"{key}.action")
    payload = reader.payload(entry.get("payload", {}), f"{key}.payload")
    problem = check_csms_request(action, payload)
    if problem is not None:
        raise reader.fail(key, problem)
    return action, payload


def _scripted(reader: _Reader, value: object, key: str) -> ScriptedRequest:
    entry = reader.mapping(value, key, _SCRIPTED_KEYS)
    action, payload = _request(reader, entry, key)
    delay = reader.duration(entry.get("delay", 0), f"{key}.delay")
    return ScriptedRequest(action, payload, delay)


def _triggered(reader: _Reader, value: object, key: str) -> TriggeredRequest:
    entry = reader.mapping(value, key, _TRIGGERED_KEYS)
    when = reader.mapping(entry.get("when"), f"{key}.when", _WHEN_KEYS)
    when_action = reader.string(when.get("action"), f"{key}.when.action")
    info = ACTIONS.get(when_action)
    if info is None or not info.sent_by_charge_point():
        raise reader.fail(f"{key}.when.action", f"{when_action!r} is not sent by a charge point")
    when_match = reader.payload(when.get("match", {}), f"{key}.when.match")
    request = reader.mapping(entry.get("send"), f"{key}.send", _SCRIPTED_KEYS - {"delay"})
    action = reader.string(request.get("action"), f"{key}.send.action")
    payload = reader.payload(request.get("payload", {}), f"{key}.send.payload")
    problem = check_csms_request(action, substitute(payload, PLACEHOLDERS))
    if problem is not None:
        raise reader.fail(f"{key}.send", problem)
    delay = reader.duration(entry.get("delay", 0), f"{key}.delay")
    times = reader.integer(entry.get("times", 1), f"{key}.times", 1)
    return TriggeredRequest(when_action, when_match, action, payload, delay, times)


def substitute(value: Any, values: Mapping[str, object]) -> Any:
    """``value`` with every string that is a key of ``values`` replaced by its value."""
    if isinstance(value, str):
        return values.get(value, value)
    if isinstance(value, Mapping):
        return {key: substitute(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, values) for item in value]
    return value


def _periodic(reader: _Reader, value: object, key: str) -> PeriodicRequest:
    entry = reader.mapping(value, key, _PERIODIC_KEYS)
    action, payload = _request(reader, entry, key)
    if "period" not in entry:
        raise reader.fail(f"{key}.period", "required (seconds between two requests)")
    period = reader.duration(entry["period"], f"{key}.period", positive=True)
    return PeriodicRequest(action, payload, period)


def _auth(reader: _Reader, value: object) -> AuthConfig:
    if value is None:
        return AuthConfig()
    section = reader.mapping(value, "auth", _AUTH_KEYS)
    table = section.get("passwords", {})
    if not isinstance(table, dict):
        raise reader.fail("auth.passwords", "expected a mapping of charge point id to password")
    passwords: dict[str, str] = {}
    for cp_id, password in table.items():
        if not isinstance(cp_id, str) or not cp_id:
            raise reader.fail("auth.passwords", "every charge point id must be a non-empty string")
        passwords[cp_id] = _password(reader, password, f"auth.passwords.{cp_id}")
    any_password = (
        _password(reader, section["any_password"], "auth.any_password")
        if section.get("any_password") is not None
        else None
    )
    return AuthConfig(passwords, any_password)


def _password(reader: _Reader, value: object, key: str) -> str:
    """A password, ``${NAME}`` read from the environment; messages never show the value."""
    if not isinstance(value, str) or not value:
        # Not _kind(value): that would print a password written as a number.
        raise reader.fail(key, "expected a non-empty string (quote a password made of digits)")
    reference = _ENV_REFERENCE.fullmatch(value)
    if reference is None:
        return value
    name = reference.group(1)
    resolved = os.environ.get(name)
    if not resolved:
        raise reader.fail(key, f"the environment variable {name} is not set (or empty)")
    return resolved

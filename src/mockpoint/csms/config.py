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
an error in it names ``mock_csms.<key>``. A scenario without the block stands for the
default configuration, as the scenario runner's embedded mock CSMS does.

The keys are the pydantic models :class:`CsmsConfigFile` (the file) and
:class:`MockCsmsBlock` (a scenario's or a fleet's block); :meth:`CsmsConfigFile.config`
turns one into the :class:`CsmsConfig` the mock CSMS runs on. A file is read as scenarios
are (:mod:`mockpoint.yamlsource`: no YAML 1.1 timestamps, so ``2030-01-01T00:00:00Z`` stays
the string OCPP puts on the wire; no duplicate keys, unknown tags or runaway aliases), and
its errors say where, as a scenario's do (:mod:`mockpoint.modelerrors`):
``<file>:<line>:<column>: <key path>: <problem>``, every one of them. Durations are
:mod:`mockpoint.quantities`' (``500ms``, ``30s``, ``2m``, ``1h`` or seconds).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, TypeVar

import pydantic
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    model_validator,
)

from mockpoint.csms.answers import DEFAULT_INTERVAL, check_override
from mockpoint.errors import ErrorCode, UsageError
from mockpoint.modelerrors import PathError, placed_errors
from mockpoint.ocpp16.actions import ACTIONS, CENTRAL_SYSTEM_HANDLES
from mockpoint.ocpp16.enums import RegistrationStatus
from mockpoint.quantities import Duration, PositiveDuration
from mockpoint.quantities import parse_duration as parse_duration
from mockpoint.rpc.validation import check_request, check_response
from mockpoint.variables import env_reference
from mockpoint.yamlsource import Tree, YamlSource

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
    """Read a YAML configuration file; raises :class:`UsageError` naming the file, the line
    and the key of every problem."""
    source, data, tree = _read_yaml(path)
    if tree is None or data is None:
        return _default(source)
    return _validated(source, CsmsConfigFile, data, tree).config()


def load_csms_config(path: str | Path) -> LoadedConfig:
    """Read a configuration file or a scenario file (its ``mock_csms`` block); raises
    :class:`UsageError` naming the file, the line and the key of every problem."""
    source, data, tree = _read_yaml(path)
    if tree is None or data is None:
        return LoadedConfig(_default(source))
    if not isinstance(data, dict) or not SCENARIO_KEYS.intersection(data):
        return LoadedConfig(_validated(source, CsmsConfigFile, data, tree).config())
    block = data.get("mock_csms")
    if block is None:
        return LoadedConfig(_default(source), scenario=True)
    read = _validated(source, MockCsmsBlock, {"mock_csms": block}, tree)
    return LoadedConfig(read.mock_csms.config(), scenario=True, block=True)


def config_from_mapping(data: object, source: str = "<config>") -> CsmsConfig:
    """Build a :class:`CsmsConfig` from decoded YAML or JSON (the same keys as the file);
    raises :class:`UsageError` with a ``<source>: <key path>: <problem>`` line for every
    problem."""
    try:
        return CsmsConfigFile.model_validate(data).config()
    except pydantic.ValidationError as exc:
        errors = placed_errors(exc, data, CsmsConfigFile)
    raise UsageError("\n".join(f"{source}: {error.message(data)}" for error in errors))


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


def substitute(value: Any, values: Mapping[str, object]) -> Any:
    """``value`` with every string that is a key of ``values`` replaced by its value."""
    if isinstance(value, str):
        return values.get(value, value)
    if isinstance(value, Mapping):
        return {key: substitute(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [substitute(item, values) for item in value]
    return value


#: placeholders of triggered payloads, and a stand-in value to check the schema with
PLACEHOLDERS: dict[str, object] = {"${transaction_id}": 1}


# --- reading a file ------------------------------------------------------------------------


class _ConfigSource(YamlSource):
    empty = None  # an empty file is the default configuration


def _read_yaml(path: str | Path) -> tuple[YamlSource, Any, Tree | None]:
    """The file, its decoded document and where each value stands (no tree: the file is
    empty); raises :class:`UsageError` when it cannot be read or parsed. Other problems of
    the YAML (a duplicate key, a refused tag) are in the file's ``problems``, said with
    those of the configuration."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise UsageError(f"{source}: cannot read the CSMS configuration: {reason}") from exc
    reader = _ConfigSource(source, text)
    decoded = reader.read()
    if decoded is None:
        if reader.problems:
            raise _invalid(reader)
        return reader, None, None
    data, tree = decoded
    return reader, data, tree


M = TypeVar("M", bound=BaseModel)


def _default(source: YamlSource) -> CsmsConfig:
    """The default configuration, for a file that sets none, if the file has no problem."""
    if source.problems:
        raise _invalid(source)
    return CsmsConfig()


def _validated(source: YamlSource, model: type[M], data: Any, tree: Tree) -> M:
    """``data`` as ``model``; raises :class:`UsageError` with every problem of the file."""
    read = source.validated(model, data, tree)
    if read is None or source.problems:
        raise _invalid(source)
    return read


def _invalid(source: YamlSource) -> UsageError:
    """Every problem of the file, one a line, by position."""
    return UsageError("\n".join(str(problem) for problem in source.sorted_problems()))


# --- the models ----------------------------------------------------------------------------

_T = TypeVar("_T")


def _nth(values: tuple[_T, ...], number: int) -> _T:
    return values[min(max(number, 1), len(values)) - 1]


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


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a non-empty string, got {_kind(value)}")
    return value


def _id_tag(value: object) -> str:
    tag = _text(value)
    if len(tag) > MAX_ID_TAG_LENGTH:
        raise ValueError(f"an idTag has at most {MAX_ID_TAG_LENGTH} characters")
    return tag


def _at_least(minimum: int) -> Callable[[object], int]:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"expected an integer >= {minimum}, got {value!r}")
        return value

    return check


def _payload(value: object) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(key, str) for key in value):
        raise ValueError(f"expected a mapping (a JSON object), got {_kind(value)}")
    return value


def _one_or_many(item: Callable[[object], object]) -> BeforeValidator:
    """A value or a non-empty list of them: a value alone is checked here, where it
    stands; a list's items by the list, each at its index."""

    def before(value: object) -> object:
        if isinstance(value, list):
            if not value:
                raise ValueError("expected a value or a non-empty list")
            return value
        return [item(value)]

    return BeforeValidator(before)


def _status(value: object) -> RegistrationStatus:
    try:
        return RegistrationStatus(str(value))
    except ValueError:
        allowed = ", ".join(RegistrationStatus)
        raise ValueError(f"{value!r} is not one of {allowed}") from None


def _tag_map(value: object) -> object:
    if not isinstance(value, dict):
        raise ValueError(f"expected a mapping of idTag to text, got {_kind(value)}")
    return value


def _expiry_date(value: object) -> str:
    date = _text(value)
    # The schema's date-time format is the test that matters: it is what the answer must
    # pass on the wire.
    info = {"idTagInfo": {"status": "Accepted", "expiryDate": date}}
    if check_response("Authorize", info) is not None:
        raise ValueError(f"{date!r} is not an RFC 3339 time")
    return date


def _error_code(value: object) -> ErrorCode:
    code = ErrorCode.parse(str(value))
    if code is None:
        raise ValueError(f"{value!r} is not one of {', '.join(ErrorCode)}")
    return code


def _description(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {_kind(value)}")
    return value


def _ignore(value: object) -> bool:
    if value is not True:
        raise ValueError("the only meaningful value is true")
    return True


def _charge_point_action(value: object) -> str:
    action = _text(value)
    info = ACTIONS.get(action)
    if info is None or not info.sent_by_charge_point():
        raise ValueError(f"{action!r} is not sent by a charge point")
    return action


def _auth_shape(value: object) -> object:
    # Not _kind(value): a password written in the wrong place would be shown.
    if value is not None and not isinstance(value, dict):
        raise ValueError(f"expected a mapping, got {type(value).__name__}")
    return value


def _passwords(value: object) -> object:
    if not isinstance(value, dict):
        raise ValueError("expected a mapping of charge point id to password")
    return value


def _charge_point_id(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("every charge point id must be a non-empty string")
    return value


def _password(value: object) -> str:
    """A password, ``${NAME}`` read from the environment; messages never show the value."""
    if not isinstance(value, str) or not value:
        # Not _kind(value): that would print a password written as a number.
        raise ValueError("expected a non-empty string (quote a password made of digits)")
    name = env_reference(value)
    if name is None:
        return value
    resolved = os.environ.get(name)
    if not resolved:
        raise ValueError(f"the environment variable {name} is not set (or empty)")
    return resolved


Text = Annotated[str, PlainValidator(_text)]
IdTag = Annotated[str, PlainValidator(_id_tag)]
Payload = Annotated[dict[str, Any], PlainValidator(_payload)]
Password = Annotated[str, PlainValidator(_password)]


class _Section(BaseModel):
    """A mapping of the configuration: its keys and nothing else."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    #: an unknown key's message lists the known ones when none is close (modelerrors)
    lists_known_keys: ClassVar[bool] = True


class _Boot(_Section):
    status: Annotated[
        tuple[Annotated[RegistrationStatus, PlainValidator(_status)], ...],
        _one_or_many(_status),
    ] = (RegistrationStatus.ACCEPTED,)
    interval: Annotated[
        tuple[Annotated[int, PlainValidator(_at_least(0))], ...],
        _one_or_many(_at_least(0)),
    ] = (DEFAULT_INTERVAL,)

    def config(self) -> BootConfig:
        return BootConfig(self.status, self.interval)


_ID_TAG_LISTS = ("blocked", "expired", "invalid", "concurrent_tx")


class _IdTags(_Section):
    blocked: list[IdTag] = Field(default_factory=list)
    expired: list[IdTag] = Field(default_factory=list)
    invalid: list[IdTag] = Field(default_factory=list)
    concurrent_tx: list[IdTag] = Field(default_factory=list)
    expiry_date: Annotated[
        dict[IdTag, Annotated[str, PlainValidator(_expiry_date)]], BeforeValidator(_tag_map)
    ] = Field(default_factory=dict)
    parent_id_tag: Annotated[dict[IdTag, IdTag], BeforeValidator(_tag_map)] = Field(
        default_factory=dict
    )

    @model_validator(mode="after")
    def _apart(self) -> _IdTags:
        """A tag has one status: it is in one list at most."""
        seen: dict[str, str] = {}
        for name in _ID_TAG_LISTS:
            for tag in getattr(self, name):
                if tag in seen and seen[tag] != name:
                    raise PathError([name], f"{tag!r} is also listed in id_tags.{seen[tag]}")
                seen[tag] = name
        return self

    def config(self) -> IdTagConfig:
        return IdTagConfig(
            blocked=frozenset(self.blocked),
            expired=frozenset(self.expired),
            invalid=frozenset(self.invalid),
            concurrent_tx=frozenset(self.concurrent_tx),
            expiry_date=dict(self.expiry_date),
            parent_id_tag=dict(self.parent_id_tag),
        )


class _Answer(_Section):
    """Exactly one of ``payload``, ``error`` and ``ignore``."""

    payload: Annotated[dict[str, Any] | None, PlainValidator(_payload)] = None
    error: Annotated[ErrorCode | None, PlainValidator(_error_code)] = None
    description: Annotated[str, PlainValidator(_description)] = ""
    ignore: Annotated[bool, PlainValidator(_ignore)] = False
    times: Annotated[int | None, PlainValidator(_at_least(1))] = None

    @model_validator(mode="after")
    def _one(self) -> _Answer:
        kinds = [name for name in ("payload", "error", "ignore") if name in self.model_fields_set]
        if len(kinds) != 1:
            raise PathError([], "give exactly one of payload, error, ignore")
        return self

    def config(self) -> AnswerOverride:
        if self.ignore:
            return AnswerOverride(ignore=True, times=self.times)
        if self.error is not None:
            return AnswerOverride(error=self.error, description=self.description, times=self.times)
        return AnswerOverride(payload=self.payload, times=self.times)


class _AnswersBase(_Section):
    """One optional key per action the mock CSMS answers (``_Answers`` adds them)."""

    @model_validator(mode="after")
    def _payloads_fit(self) -> _AnswersBase:
        for action in type(self).model_fields:
            answer = getattr(self, action)
            if answer is None or answer.payload is None:
                continue
            problem = check_override(action, answer.payload)
            if problem is not None:
                raise PathError([action, "payload"], problem)
        return self

    def config(self) -> dict[str, AnswerOverride]:
        return {
            action: answer.config()
            for action in type(self).model_fields
            if (answer := getattr(self, action)) is not None
        }


if TYPE_CHECKING:
    _Answers = _AnswersBase
else:
    # A null answer is refused (no Optional): only a key left out means the default.
    _Answers = pydantic.create_model(
        "_Answers",
        __base__=_AnswersBase,
        **{action: (_Answer, None) for action in sorted(CENTRAL_SYSTEM_HANDLES)},
    )


class _Request(_Section):
    action: Text
    payload: Payload = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sendable(self) -> _Request:
        problem = check_csms_request(self.action, self.payload)
        if problem is not None:
            raise PathError([], problem)
        return self


class _Scripted(_Request):
    delay: Duration = 0.0

    def config(self) -> ScriptedRequest:
        return ScriptedRequest(self.action, self.payload, self.delay)


class _Periodic(_Request):
    period: PositiveDuration

    def config(self) -> PeriodicRequest:
        return PeriodicRequest(self.action, self.payload, self.period)


class _When(_Section):
    action: Annotated[str, PlainValidator(_charge_point_action)]
    match: Payload = Field(default_factory=dict)


class _Send(_Section):
    action: Text
    payload: Payload = Field(default_factory=dict)

    @model_validator(mode="after")
    def _sendable(self) -> _Send:
        problem = check_csms_request(self.action, substitute(self.payload, PLACEHOLDERS))
        if problem is not None:
            raise PathError([], problem)
        return self


class _Triggered(_Section):
    when: _When
    send: _Send
    delay: Duration = 0.0
    times: Annotated[int, PlainValidator(_at_least(1))] = 1

    def config(self) -> TriggeredRequest:
        return TriggeredRequest(
            self.when.action,
            self.when.match,
            self.send.action,
            self.send.payload,
            self.delay,
            self.times,
        )


class _Auth(_Section):
    passwords: Annotated[
        dict[Annotated[str, PlainValidator(_charge_point_id)], Password],
        BeforeValidator(_passwords),
    ] = Field(default_factory=dict, repr=False)
    any_password: Password | None = Field(None, repr=False)

    def config(self) -> AuthConfig:
        return AuthConfig(dict(self.passwords), self.any_password)


class CsmsConfigFile(_Section):
    """A configuration file's keys (the module docstring shows them all); every one may be
    left out. :meth:`config` is the :class:`CsmsConfig` it describes."""

    boot: _Boot | None = None
    id_tags: _IdTags | None = None
    answers: _Answers | None = None
    on_boot: list[_Scripted] = Field(default_factory=list)
    periodic: list[_Periodic] = Field(default_factory=list)
    on_request: list[_Triggered] = Field(default_factory=list)
    call_timeout: PositiveDuration = 30.0
    auth: Annotated[_Auth | None, BeforeValidator(_auth_shape)] = Field(None, repr=False)
    deduplicate: StrictBool = False

    def config(self) -> CsmsConfig:
        return CsmsConfig(
            boot=self.boot.config() if self.boot is not None else BootConfig(),
            id_tags=self.id_tags.config() if self.id_tags is not None else IdTagConfig(),
            answers=self.answers.config() if self.answers is not None else {},
            on_boot=tuple(request.config() for request in self.on_boot),
            periodic=tuple(request.config() for request in self.periodic),
            on_request=tuple(request.config() for request in self.on_request),
            call_timeout=self.call_timeout,
            auth=self.auth.config() if self.auth is not None else AuthConfig(),
            deduplicate=self.deduplicate,
        )


class MockCsmsBlock(BaseModel):
    """A file's ``mock_csms`` block (a scenario's, a fleet's), validated where it stands
    so that its errors read ``mock_csms.<key path>``; the file's other keys are not its
    business."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    mock_csms: CsmsConfigFile

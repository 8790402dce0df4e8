"""The charge point's configuration: the keys of OCPP 1.6 chapter 9 and what a CSMS may do
with them (ChangeConfiguration, §5.3; GetConfiguration, §5.8).

Pure data and rules: no I/O, no clock. A ``Configuration`` is built from the scenario's
``configuration:`` block, which may set any key, read-only ones included (they are the
charger's factory settings); everything wrong with that block is reported at once as a
``ConfigurationError``. A CSMS's bad request is never an exception: ``change()`` answers it
with a ``ConfigurationStatus``.

Keys and values are CiStrings (OCPP 1.6 §2.2, "case insensitive, only printable ASCII";
ChangeConfiguration.req and GetConfiguration.req use CiString50Type keys and CiString500Type
values), so key names and enumerated CSL items match case-insensitively and are stored in
their canonical spelling. Values are held in their OCPP string form: "true"/"false",
decimal integers, CSL items joined by "," without spaces.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import NotRequired, TypedDict

from mockpoint.errors import ConfigurationError, PropertyConstraintViolation
from mockpoint.ocpp16.actions import SUPPORTED_PROFILES
from mockpoint.ocpp16.configuration_keys import (
    CONNECTOR_PHASE_ROTATION_MAX_LENGTH,
    GET_CONFIGURATION_MAX_KEYS,
    KEYS,
    NUMBER_OF_CONNECTORS,
    SECURITY_PROFILE,
    SUPPORTED_FEATURE_PROFILES,
    KeyKind,
    KeySpec,
)
from mockpoint.ocpp16.enums import ConfigurationStatus
from mockpoint.station.metering import SUPPORTED_MEASURANDS

__all__ = ["Configuration", "ConfigurationError", "ConfigurationKey"]

#: CiString50Type: the longest key GetConfiguration.req may name or the answer may carry.
KEY_MAX_LENGTH = 50
#: CiString500Type: the longest value ChangeConfiguration.req and GetConfiguration.conf carry.
VALUE_MAX_LENGTH = 500

_INTEGER = re.compile(r"[+-]?[0-9]+")
#: More digits than any 32-bit value has; checked before int() so that a huge numeral cannot
#: hit Python's integer-string conversion limit.
_MAX_DIGITS = 12
_CONNECTOR_ITEM = re.compile(r"([0-9]{1,9})\.(.*)")
_REDACTED = "***"


class ConfigurationKey(TypedDict):
    """An item of GetConfiguration.conf's ``configurationKey`` (§5.8, KeyValue type)."""

    key: str
    readonly: bool
    value: NotRequired[str]


class _Invalid(Exception):
    """A value that does not fit its key; never leaves this module."""


#: The standard table's keys by their lower-case names, and its default values (never
#: changed in place) by number of connectors.
_KEYS_FOLDED = {name.lower(): name for name in KEYS}
_DEFAULTS: dict[int, dict[str, str]] = {}
#: The same for values a scenario's configuration overrides, or a change made (all the
#: charge points a CSMS gave one HeartbeatInterval), by their text: never changed in place.
_OVERRIDDEN: dict[str, dict[str, str]] = {}


def _shared(values: dict[str, str]) -> dict[str, str]:
    """The dict of these values that charge points share (at most 256 kept)."""
    if len(_OVERRIDDEN) > 256:
        _OVERRIDDEN.clear()
    return _OVERRIDDEN.setdefault(repr(sorted(values.items())), values)


#: Keys that rules spanning keys read (see _derived_problems).
_CROSS_KEY = frozenset(
    {NUMBER_OF_CONNECTORS, CONNECTOR_PHASE_ROTATION_MAX_LENGTH, SUPPORTED_FEATURE_PROFILES}
)


class Configuration:
    """The configuration keys of one charge point and their current values.

    ``specs`` defaults to every key mockpoint knows (``configuration_keys.KEYS``); passing
    another table is for tests and vendor-specific keys.
    """

    def __init__(
        self,
        overrides: Mapping[str, object] | None = None,
        *,
        number_of_connectors: int,
        specs: Mapping[str, KeySpec] = KEYS,
    ) -> None:
        if number_of_connectors < 1:
            raise ValueError(f"a charge point has at least one connector: {number_of_connectors}")
        # The key table is shared, and so are the default values while nothing overrides
        # them: every change makes a new dict (copy on write), so a load run's thousands of
        # charge points don't each carry a copy of the same forty keys.
        self._specs = specs
        self._number_of_connectors = number_of_connectors
        shared = specs is KEYS
        self._by_folded = _KEYS_FOLDED if shared else {name.lower(): name for name in specs}
        cached = _DEFAULTS.get(number_of_connectors) if shared else None
        values = cached if cached is not None else self._defaults(number_of_connectors)

        problems: list[tuple[str, str]] = []
        given_as: dict[str, str] = {}
        if overrides:
            values = dict(values)
        for given, raw in (overrides or {}).items():
            label = str(given)
            name = self._resolve(label)
            if name is None:
                problems.append((label, self._unknown_key_message(label)))
                continue
            if name in given_as:
                problems.append((label, f"the same key as {given_as[name]!r}; give it once"))
                continue
            given_as[name] = label
            try:
                values[name] = _normalise(self._specs[name], raw)
            except _Invalid as exc:
                problems.append((label, str(exc)))
        if overrides or cached is None:
            problems.extend(self._consistency_problems(values))
        if problems:
            raise ConfigurationError(problems)
        if shared and not overrides and cached is None:
            _DEFAULTS[number_of_connectors] = values
        elif shared and overrides:
            # Charge points built from one scenario share its values too, until one changes.
            values = _shared(values)
        self._values = values

    def _defaults(self, number_of_connectors: int) -> dict[str, str]:
        values = {name: spec.default for name, spec in self._specs.items()}
        derived = {
            NUMBER_OF_CONNECTORS: str(number_of_connectors),
            CONNECTOR_PHASE_ROTATION_MAX_LENGTH: str(number_of_connectors + 1),
        }
        values.update({name: value for name, value in derived.items() if name in values})
        return values

    # -- reading -----------------------------------------------------------------------

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self._resolve(key) is not None

    def keys(self) -> list[str]:
        """Every key's canonical name, in table order."""
        return list(self._specs)

    def get(self, key: str) -> str:
        """The value of ``key`` in its OCPP string form (the AuthorizationKey too)."""
        return self._values[self._known(key)]

    def get_int(self, key: str) -> int:
        return int(self._values[self._known(key, KeyKind.INT)])

    def get_bool(self, key: str) -> bool:
        return self._values[self._known(key, KeyKind.BOOL)] == "true"

    def get_list(self, key: str) -> list[str]:
        """The items of a CSL key; [] when it is empty."""
        return _items(self._values[self._known(key, KeyKind.CSL)])

    @property
    def max_keys(self) -> int:
        """GetConfigurationMaxKeys (§9.1.9): the most keys one GetConfiguration.req may name."""
        return self.get_int(GET_CONFIGURATION_MAX_KEYS)

    def snapshot(self) -> dict[str, str]:
        """Every value, for reports; a set write-only value appears as "***"."""
        return {
            name: _REDACTED if self._specs[name].write_only and value else value
            for name, value in self._values.items()
        }

    # -- the CSMS's operations ---------------------------------------------------------

    def change(self, key: str, value: str) -> ConfigurationStatus:
        """ChangeConfiguration (OCPP 1.6 §5.3).

        NotSupported for an unknown key; Rejected for a read-only key, a value of the wrong
        type or out of range, a CSL item not allowed or repeated, a measurand the meter
        cannot produce, a CSL longer than its "...MaxLength" key, or a lower SecurityProfile
        (security whitepaper: it can only be raised); otherwise the value is stored and the
        answer is RebootRequired if the key says so, else Accepted. No standard key needs a
        reboot in mockpoint: the station reads the configuration each time it needs a value.
        """
        name = self._resolve(key)
        if name is None:
            return ConfigurationStatus.NOT_SUPPORTED
        spec = self._specs[name]
        if spec.readonly:
            return ConfigurationStatus.REJECTED
        try:
            canonical = _normalise(spec, value)
        except _Invalid:
            return ConfigurationStatus.REJECTED
        if name == SECURITY_PROFILE and int(canonical) < int(self._values[name]):
            return ConfigurationStatus.REJECTED
        candidate = {**self._values, name: canonical}
        if self._problems_after_change(name, candidate):
            return ConfigurationStatus.REJECTED
        self._values = _shared(candidate) if self._specs is KEYS else candidate
        if spec.reboot_required:
            return ConfigurationStatus.REBOOT_REQUIRED
        return ConfigurationStatus.ACCEPTED

    def get_configuration(
        self, keys: Sequence[str] | None = None
    ) -> tuple[list[ConfigurationKey], list[str]]:
        """GetConfiguration (OCPP 1.6 §5.8): (``configurationKey``, ``unknownKey``).

        No keys, or an empty list, asks for every key, in table order. Known keys come back
        under their canonical names, each once; the write-only AuthorizationKey is listed
        without a value. Enforcing GetConfigurationMaxKeys (``max_keys``) is the caller's
        choice. A key longer than CiString50Type allows cannot come from a schema-valid
        request; it raises PropertyConstraintViolation rather than produce an invalid answer.
        """
        requested = list(keys) if keys else list(self._specs)
        known: list[ConfigurationKey] = []
        listed: set[str] = set()
        unknown: list[str] = []
        for key in requested:
            if len(key) > KEY_MAX_LENGTH:
                raise PropertyConstraintViolation(
                    f"configuration key longer than {KEY_MAX_LENGTH} characters",
                    {"key": key[:KEY_MAX_LENGTH]},
                )
            name = self._resolve(key)
            if name is None:
                if key not in unknown:
                    unknown.append(key)
                continue
            if name in listed:
                continue
            listed.add(name)
            spec = self._specs[name]
            item: ConfigurationKey = {"key": name, "readonly": spec.readonly}
            if not spec.write_only:
                item["value"] = self._values[name]
            known.append(item)
        return known, unknown

    # -- the station's own updates -----------------------------------------------------

    def set_internal(self, key: str, value: object) -> None:
        """Store a value the station itself decided, e.g. the interval of an accepted
        BootNotification.conf as HeartbeatInterval (§4.2).

        Read-only keys may be set and SecurityProfile may be lowered, but the value is checked
        as a scenario's would be: a bad one raises ConfigurationError, so a caller passing a
        value that came from the CSMS must catch it.
        """
        name = self._resolve(key)
        if name is None:
            raise ConfigurationError([(key, self._unknown_key_message(key))])
        try:
            canonical = _normalise(self._specs[name], value)
        except _Invalid as exc:
            raise ConfigurationError([(name, str(exc))]) from None
        candidate = {**self._values, name: canonical}
        problems = self._problems_after_change(name, candidate)
        if problems:
            raise ConfigurationError(problems)
        self._values = _shared(candidate) if self._specs is KEYS else candidate

    # -- persistence ---------------------------------------------------------------------

    def to_state(self) -> dict[str, str]:
        """The values a Central System can change (§5.3), for a state file.

        Read-only keys are the charger's factory settings, which the scenario gives on every
        start; write-only ones (the AuthorizationKey) are secrets, kept out of files.
        """
        return {
            name: self._values[name]
            for name, spec in self._specs.items()
            if not spec.readonly and not spec.write_only
        }

    def restore_state(self, values: Mapping[str, object]) -> None:
        """Take back what :meth:`to_state` saved, checked as a scenario's block is; every
        problem is raised at once as a ConfigurationError and nothing changes."""
        problems: list[tuple[str, str]] = []
        candidate = dict(self._values)
        for given, raw in values.items():
            name = self._resolve(str(given))
            if name is None:
                problems.append((str(given), self._unknown_key_message(str(given))))
                continue
            spec = self._specs[name]
            if spec.readonly or spec.write_only:
                problems.append((name, "is not kept in a state file"))
                continue
            try:
                candidate[name] = _normalise(spec, raw)
            except _Invalid as exc:
                problems.append((name, str(exc)))
        if not problems:
            problems = self._consistency_problems(candidate)
        if problems:
            raise ConfigurationError(problems)
        self._values = _shared(candidate) if self._specs is KEYS else candidate

    # -- helpers -----------------------------------------------------------------------

    def _resolve(self, key: str) -> str | None:
        if not key.isascii():
            return None
        return self._by_folded.get(key.lower())

    def _known(self, key: str, kind: KeyKind | None = None) -> str:
        name = self._resolve(key)
        if name is None:
            raise KeyError(key)
        actual = self._specs[name].kind
        if kind is not None and actual is not kind:
            raise TypeError(f"{name} is a {actual.value} key, not a {kind.value} one")
        return name

    def _unknown_key_message(self, key: str) -> str:
        folded = difflib.get_close_matches(key.lower(), self._by_folded, n=3)
        if not folded:
            return "unknown configuration key"
        names = " or ".join(self._by_folded[f] for f in folded)
        return f"unknown configuration key; did you mean {names}?"

    def _problems_after_change(self, name: str, values: Mapping[str, str]) -> list[tuple[str, str]]:
        """:meth:`_consistency_problems` of ``values``, which differ from the (consistent)
        current values in ``name`` only. A key that no rule spanning keys reads can only be
        too long itself: the boot's HeartbeatInterval, on every boot of a load run, need not
        check all forty keys."""
        spec = self._specs[name]
        if (
            spec.kind is KeyKind.CSL
            or name in _CROSS_KEY
            or any(other.length_key == name for other in self._specs.values())
        ):
            return self._consistency_problems(values)
        if len(values[name]) > VALUE_MAX_LENGTH:
            return [(name, f"longer than {VALUE_MAX_LENGTH} characters")]
        return []

    def _consistency_problems(self, values: Mapping[str, str]) -> list[tuple[str, str]]:
        """What is wrong with ``values`` as a whole: the rules that span keys."""
        problems: list[tuple[str, str]] = []
        for name, spec in self._specs.items():
            value = values[name]
            if len(value) > VALUE_MAX_LENGTH:
                problems.append((name, f"longer than {VALUE_MAX_LENGTH} characters"))
            if spec.kind is not KeyKind.CSL:
                continue
            items = _items(value)
            if spec.length_key is not None and spec.length_key in values:
                limit = int(values[spec.length_key])
                if len(items) > limit:
                    problems.append(
                        (name, f"{len(items)} items, more than {spec.length_key} ({limit})")
                    )
            if spec.per_connector and NUMBER_OF_CONNECTORS in values:
                count = int(values[NUMBER_OF_CONNECTORS])
                for item in items:
                    match = _CONNECTOR_ITEM.fullmatch(item)
                    if match and int(match.group(1)) > count:
                        problems.append((name, f"{item!r} names a connector beyond {count}"))
        problems.extend(self._derived_problems(values))
        return problems

    def _derived_problems(self, values: Mapping[str, str]) -> list[tuple[str, str]]:
        """Keys that restate other facts must agree with them (docs/scenario-format.md,
        ChargePointSpec's ``configuration``)."""
        problems: list[tuple[str, str]] = []
        count = values.get(NUMBER_OF_CONNECTORS)
        if count is not None and int(count) != self._number_of_connectors:
            problems.append(
                (
                    NUMBER_OF_CONNECTORS,
                    f"is {count} but the charge point has {self._number_of_connectors}"
                    " connector(s)",
                )
            )
        profiles = values.get(SUPPORTED_FEATURE_PROFILES)
        if profiles is not None:
            supported = {p.value for p in SUPPORTED_PROFILES}
            listed = set(_items(profiles))
            if listed != supported:
                details = []
                if missing := sorted(supported - listed):
                    details.append(f"missing {', '.join(missing)}")
                if extra := sorted(listed - supported):
                    details.append(f"mockpoint does not support {', '.join(extra)}")
                problems.append(
                    (
                        SUPPORTED_FEATURE_PROFILES,
                        "must list exactly the profiles mockpoint supports ("
                        + ", ".join(p.value for p in SUPPORTED_PROFILES)
                        + "): "
                        + "; ".join(details),
                    )
                )
        return problems


def _items(value: str) -> list[str]:
    return value.split(",") if value else []


def _normalise(spec: KeySpec, raw: object) -> str:
    """``raw`` (a ChangeConfiguration string, or a YAML-typed scenario value) in ``spec``'s
    canonical OCPP string form; raises _Invalid with a message for the user."""
    if spec.kind is KeyKind.BOOL:
        return _normalise_bool(raw)
    if spec.kind is KeyKind.INT:
        return _normalise_int(spec, raw)
    if spec.kind is KeyKind.CSL:
        return _normalise_csl(spec, raw)
    return _normalise_string(spec, raw)


def _normalise_bool(raw: object) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower()
    raise _Invalid(f"expected true or false, got {raw!r}")


def _normalise_int(spec: KeySpec, raw: object) -> str:
    if isinstance(raw, int) and not isinstance(raw, bool):
        number = raw
    elif isinstance(raw, str) and _INTEGER.fullmatch(raw.strip()):
        digits = raw.strip().lstrip("+-").lstrip("0")
        if len(digits) > _MAX_DIGITS:
            raise _Invalid(f"{raw!r} is out of range")
        number = int(raw.strip())
    else:
        raise _Invalid(f"expected an integer, got {raw!r}")
    if spec.minimum is not None and number < spec.minimum:
        raise _Invalid(f"must be at least {spec.minimum}, got {number}")
    if spec.maximum is not None and number > spec.maximum:
        raise _Invalid(f"must be at most {spec.maximum}, got {number}")
    return str(number)


def _normalise_csl(spec: KeySpec, raw: object) -> str:
    if isinstance(raw, str):
        given = [] if not raw.strip() else raw.split(",")
    elif isinstance(raw, list | tuple) and all(isinstance(item, str) for item in raw):
        given = list(raw)
    else:
        raise _Invalid(f"expected a comma separated list or a list of strings, got {raw!r}")
    items: list[str] = []
    for text in given:
        item = _canonical_item(spec, text.strip())
        if item in items:
            raise _Invalid(f"{item!r} is listed twice")
        if spec.metered and item not in SUPPORTED_MEASURANDS:
            # A valid §7.31 measurand, but one this meter cannot read: accepting it would
            # promise readings the charge point never sends, so ChangeConfiguration answers
            # Rejected (§5.3) and a scenario's block is refused.
            raise _Invalid(
                f"{item!r} is a measurand mockpoint's meter cannot produce; it produces "
                + ", ".join(sorted(SUPPORTED_MEASURANDS))
            )
        items.append(item)
    if spec.max_items is not None and len(items) > spec.max_items:
        raise _Invalid(f"{len(items)} items, more than the {spec.max_items} possible")
    return ",".join(items)


def _canonical_item(spec: KeySpec, text: str) -> str:
    if not text:
        raise _Invalid("has an empty item")
    prefix = ""
    rest = text
    if spec.per_connector and (match := _CONNECTOR_ITEM.fullmatch(text)):
        prefix = f"{int(match.group(1))}."
        rest = match.group(2)
    if spec.allowed is None:
        return text
    if rest.isascii():
        for allowed in spec.allowed:
            if allowed.lower() == rest.lower():
                return prefix + allowed
    hint = difflib.get_close_matches(rest, spec.allowed, n=1)
    suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
    raise _Invalid(f"{text!r} is not an allowed item{suggestion}")


def _normalise_string(spec: KeySpec, raw: object) -> str:
    if not isinstance(raw, str):
        raise _Invalid(f"expected a string, got {type(raw).__name__}")
    if not all(" " <= char <= "~" for char in raw):
        raise _Invalid("must be printable ASCII")
    if spec.minimum is not None and len(raw) < spec.minimum:
        raise _Invalid(f"must be at least {spec.minimum} characters long, got {len(raw)}")
    if spec.maximum is not None and len(raw) > spec.maximum:
        raise _Invalid(f"must be at most {spec.maximum} characters long, got {len(raw)}")
    return raw

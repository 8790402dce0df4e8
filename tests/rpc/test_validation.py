"""Payload validation against the OCA 1.6 schemas and its CALLERROR codes (docs/behaviour.md,
"CALLERROR codes"), checked against an independent validator (``jsonschema``)."""

from __future__ import annotations

import copy
from datetime import UTC
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import oca_errors
from mockpoint.errors import ErrorCode
from mockpoint.rpc.validation import Violation, check_request, check_response

TS = "2025-06-01T08:00:00Z"

BOOT: dict[str, Any] = {
    "chargePointVendor": "Acme",
    "chargePointModel": "AC22",
    "chargePointSerialNumber": "SN-0001",
    "firmwareVersion": "1.4.2",
}
START: dict[str, Any] = {
    "connectorId": 1,
    "idTag": "TAG-001",
    "meterStart": 0,
    "timestamp": TS,
    "reservationId": 3,
}
METER: dict[str, Any] = {
    "connectorId": 1,
    "transactionId": 7,
    "meterValue": [
        {
            "timestamp": TS,
            "sampledValue": [
                {
                    "value": "1234",
                    "context": "Sample.Periodic",
                    "measurand": "Energy.Active.Import.Register",
                    "unit": "Wh",
                    "location": "Outlet",
                },
                {"value": "11000", "measurand": "Power.Active.Import", "unit": "W", "phase": "L1"},
            ],
        }
    ],
}


def _remote_start(limit: Any) -> dict[str, Any]:
    return {
        "connectorId": 1,
        "idTag": "TAG-002",
        "chargingProfile": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}],
            },
        },
    }


def _with(
    base: dict[str, Any], path: tuple[Any, ...], value: Any = None, *, drop: bool = False
) -> dict[str, Any]:
    payload = copy.deepcopy(base)
    target: Any = payload
    for key in path[:-1]:
        target = target[key]
    if drop:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return payload


def _violation(action: str, payload: dict[str, Any]) -> Violation:
    violation = check_request(action, payload)
    assert violation is not None, payload
    assert oca_errors(action, payload), "the independent validator accepts it"
    return violation


# --- valid payloads ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "payload"),
    [("BootNotification", BOOT), ("StartTransaction", START), ("MeterValues", METER)],
)
def test_valid_payloads_pass_both_validators(action: str, payload: dict[str, Any]) -> None:
    assert check_request(action, payload) is None
    assert oca_errors(action, payload) == []


def test_valid_response_passes() -> None:
    answer = {"transactionId": 1, "idTagInfo": {"status": "Accepted", "expiryDate": TS}}
    assert check_response("StartTransaction", answer) is None


# --- one code per kind of breach -----------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "payload", "code", "path", "named"),
    [
        # a required field missing
        (
            "StartTransaction",
            _with(START, ("idTag",), drop=True),
            ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
            "",
            "idTag",
        ),
        (
            "MeterValues",
            _with(METER, ("meterValue", 0, "sampledValue", 1, "value"), drop=True),
            ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
            "meterValue[0].sampledValue[1]",
            "meterValue[0].sampledValue[1].value",
        ),
        (
            "MeterValues",
            _with(METER, ("meterValue", 0, "timestamp"), drop=True),
            ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
            "meterValue[0]",
            "meterValue[0].timestamp",
        ),
        # a field of the wrong JSON type
        (
            "StartTransaction",
            _with(START, ("connectorId",), "1"),
            ErrorCode.TYPE_CONSTRAINT_VIOLATION,
            "connectorId",
            "connectorId",
        ),
        (
            "StartTransaction",
            _with(START, ("meterStart",), 1.5),
            ErrorCode.TYPE_CONSTRAINT_VIOLATION,
            "meterStart",
            "meterStart",
        ),
        (
            "StartTransaction",
            _with(START, ("connectorId",), True),
            ErrorCode.TYPE_CONSTRAINT_VIOLATION,
            "connectorId",
            "connectorId",
        ),
        (
            "MeterValues",
            _with(METER, ("meterValue", 0, "sampledValue", 0, "value"), 1234),
            ErrorCode.TYPE_CONSTRAINT_VIOLATION,
            "meterValue[0].sampledValue[0].value",
            "meterValue[0].sampledValue[0].value",
        ),
        (
            "MeterValues",
            _with(METER, ("meterValue",), {"timestamp": TS}),
            ErrorCode.TYPE_CONSTRAINT_VIOLATION,
            "meterValue",
            "meterValue",
        ),
        # an unknown field
        (
            "BootNotification",
            _with(BOOT, ("vendorName",), "Acme"),
            ErrorCode.FORMATION_VIOLATION,
            "",
            "vendorName",
        ),
        (
            "MeterValues",
            _with(METER, ("meterValue", 0, "sampledValue", 0, "foo"), "x"),
            ErrorCode.FORMATION_VIOLATION,
            "meterValue[0].sampledValue[0]",
            "foo",
        ),
        # a value outside its enum, length or format
        (
            "MeterValues",
            _with(METER, ("meterValue", 0, "sampledValue", 0, "unit"), "kwh"),
            ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
            "meterValue[0].sampledValue[0].unit",
            "meterValue[0].sampledValue[0].unit",
        ),
        (
            "StartTransaction",
            _with(START, ("idTag",), "x" * 21),
            ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
            "idTag",
            "idTag",
        ),
        (
            "BootNotification",
            _with(BOOT, ("chargePointVendor",), "v" * 21),
            ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
            "chargePointVendor",
            "chargePointVendor",
        ),
        (
            "StartTransaction",
            _with(START, ("timestamp",), "2025-06-01 08:00"),
            ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
            "timestamp",
            "timestamp",
        ),
        (
            "MeterValues",
            _with(METER, ("meterValue", 0, "timestamp"), "yesterday"),
            ErrorCode.PROPERTY_CONSTRAINT_VIOLATION,
            "meterValue[0].timestamp",
            "meterValue[0].timestamp",
        ),
        # an empty array where one item is required
        (
            "MeterValues",
            _with(METER, ("meterValue", 0, "sampledValue"), []),
            ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION,
            "meterValue[0].sampledValue",
            "meterValue[0].sampledValue",
        ),
    ],
)
def test_code_per_kind_of_breach(
    action: str, payload: dict[str, Any], code: ErrorCode, path: str, named: str
) -> None:
    violation = _violation(action, payload)
    assert violation.code == code
    assert violation.path == path
    assert named in violation.message


def test_missing_required_fields_are_all_named_with_their_path() -> None:
    payload = _with(_remote_start(6), ("chargingProfile",), {"chargingProfileId": 1})
    violation = _violation("RemoteStartTransaction", payload)
    assert violation.code == ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION
    assert violation.rule == "required"
    for name in ("stackLevel", "chargingProfilePurpose", "chargingProfileKind"):
        assert f"chargingProfile.{name}" in violation.message
    assert "chargingProfileId" not in violation.message


def test_missing_top_level_fields_are_named_without_a_path() -> None:
    violation = _violation("BootNotification", {})
    assert violation.message == "required field missing: chargePointVendor, chargePointModel"
    assert violation.details() == {"rule": "required"}


def test_unknown_field_is_named_with_its_path() -> None:
    payload = _with(METER, ("meterValue", 0, "sampledValue", 0, "foo"), "x")
    violation = _violation("MeterValues", payload)
    assert "meterValue[0].sampledValue[0].foo" in violation.message


def test_unknown_fields_are_listed_in_payload_order() -> None:
    # The message ends up in CALLERROR descriptions, and those must be the same on every run
    # (docs/behaviour.md, "Time and ids"): no set or hash order may leak into it.
    payload = {"idTag": "T", "zulu": 1, "alpha": 2, "mike": 3, "bravo": 4}
    violation = _violation("Authorize", payload)
    assert violation.code == ErrorCode.FORMATION_VIOLATION
    positions = [violation.message.index(name) for name in ("zulu", "alpha", "mike", "bravo")]
    assert positions == sorted(positions), violation.message


def test_details_carry_path_and_rule() -> None:
    payload = _with(METER, ("meterValue", 0, "sampledValue", 0, "value"), 1)
    violation = _violation("MeterValues", payload)
    assert violation.rule == "type"
    assert violation.details() == {"path": "meterValue[0].sampledValue[0].value", "rule": "type"}


def test_response_schema_is_checked_separately() -> None:
    violation = check_response("StartTransaction", {"transactionId": 1, "idTagInfo": {}})
    assert violation is not None
    assert violation.code == ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION
    assert "idTagInfo.status" in violation.message
    # the request schema of the same action does not apply to its answer
    assert check_response("StartTransaction", START) is not None


# --- multipleOf 0.1 ------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [6.1, 0.3, 0.7, 32.1, 16, 16.0, 0, 2.2])
def test_multiple_of_a_tenth_accepts_decimal_tenths(limit: float) -> None:
    # 6.1 / 0.1 is 60.99999999999999 in binary floating point; a naive check refuses it.
    assert check_request("RemoteStartTransaction", _remote_start(limit)) is None


@pytest.mark.parametrize("limit", [6.15, 0.05, 16.01, 1 / 3])
def test_multiple_of_a_tenth_refuses_finer_values(limit: float) -> None:
    violation = check_request("RemoteStartTransaction", _remote_start(limit))
    assert violation is not None
    assert violation.code == ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert violation.rule == "multipleOf"
    assert violation.path == "chargingProfile.chargingSchedule.chargingSchedulePeriod[0].limit"


@pytest.mark.parametrize("limit", [10**400, -(10**400), 1e308], ids=["1e400", "-1e400", "1e308"])
def test_numbers_beyond_float_range_are_a_violation_not_a_crash(limit: float) -> None:
    # A peer's mistake is a value, not a crash: dividing 10**400 by 0.1 overflows a float.
    violation = check_request("RemoteStartTransaction", _remote_start(limit))
    assert violation is not None
    assert violation.code == ErrorCode.PROPERTY_CONSTRAINT_VIOLATION


def test_big_integers_within_float_range_are_checked_exactly() -> None:
    assert check_request("RemoteStartTransaction", _remote_start(10**20 + 1)) is None


# --- date-time: RFC 3339 §5.6 --------------------------------------------------------------


@pytest.mark.parametrize(
    "timestamp",
    [
        "2025-06-01T08:00:00Z",
        "2025-06-01T08:00:00.123Z",
        "2025-06-01T08:00:00.1234567Z",
        "2025-06-01T08:00:00+02:00",
        "2025-06-01T08:00:00-09:30",
        "2025-06-01t08:00:00z",  # §5.6 NOTE: lower case "t" and "z" are allowed
        "2024-02-29T23:59:59Z",
    ],
)
def test_rfc3339_timestamps_are_accepted(timestamp: str) -> None:
    payload = _with(START, ("timestamp",), timestamp)
    assert check_request("StartTransaction", payload) is None
    assert oca_errors("StartTransaction", payload) == []


@pytest.mark.parametrize(
    "timestamp",
    [
        "2025-06-01T08:00:00",  # no offset
        "2025-06-01 08:00:00Z",  # space separator
        "2025-06-01T08:00Z",  # no seconds
        "2025-06-01T08:00:00+0200",  # time-numoffset needs the colon
        "2025-06-01T08:00:00+02",
        "2025-06-01T08:00:00,5Z",  # time-secfrac starts with "."
        "2025-06-01T08:00:00.Z",
        "2025-02-29T08:00:00Z",  # not a leap year
        "2025-04-31T08:00:00Z",
        "2025-13-01T08:00:00Z",
        "2025-06-01T24:00:00Z",
        "2025-06-01T08:00:00+05:60",
        "0000-06-01T08:00:00Z",
        "\u0662\u0660\u0662\u0665-06-01T08:00:00Z",  # DIGIT is ASCII 0-9 (RFC 5234)
        "2025-06-01T08:00:00Z ",
        "20250601T080000Z",  # ISO 8601 basic format is not RFC 3339
    ],
)
def test_non_rfc3339_timestamps_are_refused(timestamp: str) -> None:
    violation = _violation("StartTransaction", _with(START, ("timestamp",), timestamp))
    assert violation.code == ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert violation.rule == "format"


def test_a_trailing_newline_is_not_rfc3339() -> None:
    # rfc3339-validator (behind jsonschema) anchors with "$", which matches before a final
    # newline, so the independent validator lets this through; the grammar does not.
    violation = check_request("StartTransaction", _with(START, ("timestamp",), TS + "\n"))
    assert violation is not None
    assert violation.rule == "format"


def test_leap_seconds_are_refused() -> None:
    # RFC 3339 §5.7 allows 60 only at an actual leap second, which Python's datetime (and
    # so parse_timestamp) cannot represent; both validators refuse it.
    payload = _with(START, ("timestamp",), "2016-12-31T23:59:60Z")
    assert check_request("StartTransaction", payload) is not None


# --- agreement with the independent validator ---------------------------------------------

_ENUM_WORDS = ["Accepted", "Wh", "kWh", "L1", "Outlet", "Sample.Periodic", "Trigger", "Other"]
_TIMESTAMPS = st.one_of(
    st.datetimes(timezones=st.just(UTC)).map(
        lambda moment: moment.isoformat().replace("+00:00", "Z")
    ),
    st.datetimes().map(lambda moment: moment.isoformat()),
    st.sampled_from(
        [
            TS,
            "2025-06-01T08:00:00+0200",
            "2025-06-01T08:00:60Z",
            "2025-06-01t08:00:00.5z",
            "2025-02-29T08:00:00Z",
            "\u0662\u0660\u0662\u0665-06-01T08:00:00Z",
            "2025-06-01T08:00:00-23:59",
        ]
    ),
    st.from_regex(
        r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2})?(\.[0-9]{0,3})?"
        r"([Zz]|[+-][0-9]{2}:?[0-9]{2})?\Z"
    ),
)
_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.sampled_from(_ENUM_WORDS),
    _TIMESTAMPS,
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.sampled_from(["value", "unit", "x"]), st.text(max_size=3), max_size=2),
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key or index inside ``value``, outermost first."""
    found: list[tuple[Any, ...]] = []
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        found.append((*prefix, key))
        if isinstance(child, dict | list):
            found.extend(_paths(child, (*prefix, key)))
    return found


@st.composite
def _mutations(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    payload = copy.deepcopy(base)
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        paths = _paths(payload)
        kind = draw(st.sampled_from(["replace", "drop", "add", "retime"]))
        times = [p for p in paths if p[-1] in ("timestamp", "expiryDate")]
        if kind == "retime" and times:
            path = draw(st.sampled_from(times))
            _get(payload, path[:-1])[path[-1]] = draw(_TIMESTAMPS)
            continue
        if not paths or kind == "retime":
            kind = "add"
        if kind == "add":
            containers = [()] + [p for p in paths if isinstance(_get(payload, p), dict)]
            where = draw(st.sampled_from(containers))
            key = draw(st.sampled_from(["extra", "value", "unit", "idTag", "timestamp"]))
            _get(payload, where)[key] = draw(_VALUES)
            continue
        path = draw(st.sampled_from(paths))
        parent = _get(payload, path[:-1])
        if kind == "drop":
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(_VALUES)
    return payload


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        value = value[key]
    return value


@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["BootNotification", "StartTransaction", "MeterValues"]).flatmap(
        lambda action: st.tuples(
            st.just(action),
            _mutations({"BootNotification": BOOT, "StartTransaction": START}.get(action, METER)),
        )
    )
)
def test_agrees_with_the_independent_validator(case: tuple[str, dict[str, Any]]) -> None:
    action, payload = case
    violation = check_request(action, payload)
    errors = oca_errors(action, payload)
    assert (violation is None) == (errors == []), (violation, errors)
    if violation is not None and len(errors) == 1:
        # one breach: both must see the same kind of breach
        expected = [code for words, code in _CODE_BY_MESSAGE if words in errors[0]]
        assert expected == [violation.code], (violation, errors)


# What each jsonschema message means, in the CALLERROR terms of docs/behaviour.md.
_CODE_BY_MESSAGE = [
    ("is a required property", ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION),
    ("should be non-empty", ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION),
    ("is not of type", ErrorCode.TYPE_CONSTRAINT_VIOLATION),
    ("Additional properties are not allowed", ErrorCode.FORMATION_VIOLATION),
    ("is not one of", ErrorCode.PROPERTY_CONSTRAINT_VIOLATION),
    ("is too long", ErrorCode.PROPERTY_CONSTRAINT_VIOLATION),
    ("is not a 'date-time'", ErrorCode.PROPERTY_CONSTRAINT_VIOLATION),
]

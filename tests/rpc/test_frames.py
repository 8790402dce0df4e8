"""OCPP-J frames (OCPP-J 1.6 §4.1-4.2): encode/parse round trips, and every way a text can
fail to be a frame becomes a MalformedFrame value, never an exception."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockpoint.rpc.frames import (
    MAX_UNIQUE_ID_LENGTH,
    Call,
    CallError,
    CallResult,
    MalformedFrame,
    MessageType,
    encode,
    parse,
)

# --- strategies ----------------------------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
payloads = st.dictionaries(st.text(), json_values, max_size=5)
unique_ids = st.text(min_size=1, max_size=MAX_UNIQUE_ID_LENGTH)
frames = (
    st.builds(Call, unique_ids, st.text(min_size=1), payloads)
    | st.builds(CallResult, unique_ids, payloads)
    | st.builds(CallError, unique_ids, st.text(), st.text(), payloads)
)


# --- well-formed frames --------------------------------------------------------------------


def test_call_parses_into_its_parts() -> None:
    frame = parse('[2, "19223201", "BootNotification", {"chargePointVendor": "Acme"}]')
    assert frame == Call("19223201", "BootNotification", {"chargePointVendor": "Acme"})


def test_call_result_parses_into_its_parts() -> None:
    frame = parse('[3,"19223201",{"status":"Accepted","interval":300}]')
    assert frame == CallResult("19223201", {"status": "Accepted", "interval": 300})


def test_call_error_parses_into_its_parts() -> None:
    frame = parse('[4, "162376037", "NotSupported", "SetDisplayMessage not supported", {}]')
    assert frame == CallError("162376037", "NotSupported", "SetDisplayMessage not supported", {})


def test_encode_is_compact_json_in_the_spec_layout() -> None:
    assert encode(Call("a", "Heartbeat", {})) == '[2,"a","Heartbeat",{}]'
    assert encode(CallResult("a", {"currentTime": "x"})) == '[3,"a",{"currentTime":"x"}]'
    assert encode(CallError("a", "InternalError", "boom", {"k": 1})) == (
        '[4,"a","InternalError","boom",{"k":1}]'
    )


def test_encode_keeps_payload_key_order_and_non_ascii() -> None:
    text = encode(Call("id", "DataTransfer", {"z": 1, "a": "Ünïcode €"}))
    assert text == '[2,"id","DataTransfer",{"z":1,"a":"Ünïcode €"}]'


def test_call_error_defaults_to_empty_description_and_details() -> None:
    assert encode(CallError("x", "GenericError")) == '[4,"x","GenericError","",{}]'


def test_a_36_character_id_is_accepted() -> None:
    unique_id = "x" * MAX_UNIQUE_ID_LENGTH
    assert parse(f'[3, "{unique_id}", {{}}]') == CallResult(unique_id, {})


@settings(max_examples=60)
@given(frames)
def test_any_valid_frame_round_trips(frame: Call | CallResult | CallError) -> None:
    text = encode(frame)
    assert parse(text) == frame
    data = json.loads(text)
    expected = {Call: 2, CallResult: 3, CallError: 4}[type(frame)]
    assert data[0] == expected
    assert data[1] == frame.unique_id
    assert len(data) == {2: 4, 3: 3, 4: 5}[expected]


# --- malformed frames ----------------------------------------------------------------------


def _malformed(text: str) -> MalformedFrame:
    frame = parse(text)
    assert isinstance(frame, MalformedFrame), frame
    assert frame.text == text
    assert frame.reason
    return frame


def test_not_json_with_a_readable_leading_id_keeps_the_id() -> None:
    frame = _malformed('[2, "abc-1", "Heartbeat", {')
    assert frame.unique_id == "abc-1"
    assert frame.message_type == 2
    assert "JSON" in frame.reason


def test_not_json_leading_id_with_escapes_is_decoded() -> None:
    frame = _malformed('[3, "a\\"b", oops')
    assert frame.unique_id == 'a"b'
    assert frame.message_type == 3


@pytest.mark.parametrize(
    "text",
    [
        "",
        "not json at all",
        "{",
        "[2, abc",
        '[2, "',
        '["2", "abc", "Heartbeat", {',
        '[2, "' + "x" * (MAX_UNIQUE_ID_LENGTH + 1) + '", "Heartbeat", {',
        "[" * 100_000,
    ],
)
def test_not_json_without_a_readable_id_has_no_id(text: str) -> None:
    frame = _malformed(text)
    assert frame.unique_id is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("{}", "an object"),
        ('"text"', "a string"),
        ("42", "a number"),
        ("null", "null"),
        ("true", "a boolean"),
    ],
)
def test_not_an_array(text: str, kind: str) -> None:
    frame = _malformed(text)
    assert frame.unique_id is None
    assert "array" in frame.reason and kind in frame.reason


@pytest.mark.parametrize(
    ("text", "unique_id", "message_type"),
    [
        ("[]", None, None),
        ("[2]", None, 2),
        ('[2, "abc"]', "abc", 2),
        ('[4, "abc"]', "abc", 4),
    ],
)
def test_too_few_elements(text: str, unique_id: str | None, message_type: int | None) -> None:
    frame = _malformed(text)
    assert frame.unique_id == unique_id
    assert frame.message_type == message_type
    assert "at least 3" in frame.reason


@pytest.mark.parametrize(
    ("text", "message_type", "expected"),
    [
        ('[2, "abc", "Heartbeat"]', 2, "a CALL has 4 elements, got 3"),
        ('[2, "abc", "Heartbeat", {}, {}]', 2, "a CALL has 4 elements, got 5"),
        ('[3, "abc", {}, {}]', 3, "a CALLRESULT has 3 elements, got 4"),
        ('[4, "abc", "GenericError", ""]', 4, "a CALLERROR has 5 elements, got 4"),
        ('[4, "abc", "GenericError", "", {}, {}]', 4, "a CALLERROR has 5 elements, got 6"),
    ],
)
def test_wrong_element_count_per_type(text: str, message_type: int, expected: str) -> None:
    frame = _malformed(text)
    assert frame.unique_id == "abc"
    assert frame.message_type == message_type
    assert expected in frame.reason


@pytest.mark.parametrize(
    "first",
    ['"2"', "2.0", "true", "false", "null", "[2]", "{}"],
)
def test_message_type_not_an_integer(first: str) -> None:
    frame = _malformed(f'[{first}, "abc", "Heartbeat", {{}}]')
    assert frame.message_type is None
    assert frame.unique_id == "abc"
    assert "message type" in frame.reason


@pytest.mark.parametrize("message_type", [0, 1, 5, -2, 99])
def test_unknown_message_type(message_type: int) -> None:
    frame = _malformed(f'[{message_type}, "abc", "Heartbeat", {{}}]')
    assert frame.message_type == message_type
    assert frame.unique_id == "abc"
    assert str(message_type) in frame.reason


@pytest.mark.parametrize(
    "unique_id",
    ["17", "null", "true", '""', '"' + "x" * (MAX_UNIQUE_ID_LENGTH + 1) + '"', '["a"]'],
)
def test_bad_unique_id(unique_id: str) -> None:
    frame = _malformed(f'[2, {unique_id}, "Heartbeat", {{}}]')
    assert frame.unique_id is None
    assert frame.message_type == 2
    assert "unique id" in frame.reason


@pytest.mark.parametrize("action", ["17", "null", '""', "{}", '["Heartbeat"]'])
def test_action_not_a_non_empty_string(action: str) -> None:
    frame = _malformed(f'[2, "abc", {action}, {{}}]')
    assert frame.unique_id == "abc"
    assert frame.message_type == MessageType.CALL
    assert "action" in frame.reason


@pytest.mark.parametrize(
    "text",
    [
        '[2, "abc", "Heartbeat", []]',
        '[2, "abc", "Heartbeat", null]',
        '[2, "abc", "Heartbeat", "{}"]',
        '[3, "abc", []]',
        '[3, "abc", 1]',
        '[4, "abc", "GenericError", "", []]',
        '[4, "abc", "GenericError", "", null]',
    ],
)
def test_payload_not_an_object(text: str) -> None:
    frame = _malformed(text)
    assert frame.unique_id == "abc"
    assert frame.message_type == json.loads(text)[0]


@pytest.mark.parametrize(
    "text",
    ['[4, "abc", 17, "", {}]', '[4, "abc", "GenericError", null, {}]'],
)
def test_call_error_code_and_description_must_be_strings(text: str) -> None:
    frame = _malformed(text)
    assert frame.unique_id == "abc"
    assert frame.message_type == 4


def _assert_parse_total(text: str) -> None:
    frame = parse(text)
    assert isinstance(frame, Call | CallResult | CallError | MalformedFrame)
    if isinstance(frame, MalformedFrame):
        assert frame.text == text
        assert frame.unique_id is None or 0 < len(frame.unique_id) <= MAX_UNIQUE_ID_LENGTH
    else:
        assert 0 < len(frame.unique_id) <= MAX_UNIQUE_ID_LENGTH


@given(st.text())
def test_parse_never_raises_on_arbitrary_text(text: str) -> None:
    _assert_parse_total(text)


@given(json_values)
def test_parse_never_raises_on_arbitrary_json(value: Any) -> None:
    _assert_parse_total(json.dumps(value))


@settings(max_examples=30)
@given(
    st.lists(json_values, max_size=6),
    st.sampled_from([2, 3, 4]),
)
def test_parse_never_raises_on_arrays_that_start_like_frames(rest: list[Any], kind: int) -> None:
    _assert_parse_total(json.dumps([kind, "id", *rest]))


@settings(max_examples=30)
@given(frames, st.integers(min_value=0, max_value=200))
def test_parse_never_raises_on_truncated_frames(
    frame: Call | CallResult | CallError, cut: int
) -> None:
    text = encode(frame)
    _assert_parse_total(text[: min(cut, len(text) - 1)])

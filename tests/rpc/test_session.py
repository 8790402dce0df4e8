"""The sans-I/O call session (OCPP-J 1.6 §4): one CALL in flight, answers matched by id,
received requests refused with the right CALLERROR; time is passed in as plain numbers."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockpoint.errors import ErrorCode, LocalProtocolError
from mockpoint.ids import CounterIds
from mockpoint.ocpp16.actions import ACTIONS
from mockpoint.rpc.frames import Call, CallError, CallResult, encode, parse
from mockpoint.rpc.session import (
    CallReceived,
    CallTimedOut,
    ErrorReceived,
    InvalidAnswer,
    RemoteViolation,
    ResultReceived,
    RpcSession,
)

TS = "2025-06-01T08:00:00Z"
BOOT = {"chargePointVendor": "Acme", "chargePointModel": "AC22"}
BOOT_ANSWER = {"status": "Accepted", "currentTime": TS, "interval": 300}
# What a charge point answers (the CSMS-initiated actions mockpoint supports, or some).
CP_HANDLES = frozenset({"RemoteStartTransaction", "Reset", "GetConfiguration"})


def _session(**kwargs: Any) -> RpcSession:
    kwargs.setdefault("handles", CP_HANDLES)
    kwargs.setdefault("ids", CounterIds("id-"))
    kwargs.setdefault("default_timeout", 30.0)
    return RpcSession(**kwargs)


def _sent(session: RpcSession) -> list[Any]:
    """The frames queued for the wire, parsed (each must be a well-formed frame)."""
    frames = [parse(text) for text in session.data_to_send()]
    for frame in frames:
        assert isinstance(frame, Call | CallResult | CallError), frame
    return frames


def _one_error(session: RpcSession) -> CallError:
    (frame,) = _sent(session)
    assert isinstance(frame, CallError)
    return frame


# --- calling -------------------------------------------------------------------------------


def test_call_goes_on_the_wire_with_an_id_from_the_generator() -> None:
    session = _session()
    call = session.call("BootNotification", BOOT, now=0.0)
    assert call == Call("id-1", "BootNotification", BOOT)
    assert _sent(session) == [call]
    assert session.in_flight == call
    assert session.data_to_send() == []  # each text is returned once


def test_second_call_waits_until_the_first_is_answered() -> None:
    session = _session()
    first = session.call("BootNotification", BOOT, now=0.0)
    second = session.call("Heartbeat", {}, now=1.0)
    assert _sent(session) == [first]
    assert session.in_flight == first

    events = session.receive(encode(CallResult(first.unique_id, BOOT_ANSWER)), now=2.0)
    assert events == [ResultReceived(first, CallResult(first.unique_id, BOOT_ANSWER))]
    assert _sent(session) == [second]
    assert session.in_flight == second
    assert second.unique_id == "id-2"


def test_queued_calls_go_out_in_order_one_at_a_time() -> None:
    session = _session()
    calls = [session.call("Heartbeat", {}, now=0.0) for _ in range(3)]
    for call in calls:
        assert _sent(session) == [call]
        session.receive(encode(CallResult(call.unique_id, {"currentTime": TS})), now=1.0)
    assert _sent(session) == []
    assert session.in_flight is None


def test_second_call_goes_out_after_the_first_times_out() -> None:
    session = _session()
    first = session.call("Heartbeat", {}, now=0.0, timeout=5.0)
    second = session.call("Heartbeat", {}, now=1.0)
    session.data_to_send()
    assert session.expire(4.9) == []
    assert _sent(session) == []
    assert session.expire(5.0) == [CallTimedOut(first)]
    assert _sent(session) == [second]
    # the queued call's deadline counts from when it went on the wire
    assert session.next_deadline() == 35.0


def test_next_deadline_and_expire() -> None:
    session = _session(default_timeout=10.0)
    assert session.next_deadline() is None
    assert session.expire(1e9) == []
    call = session.call("Heartbeat", {}, now=100.0)
    assert session.next_deadline() == 110.0
    assert session.expire(109.999) == []
    assert session.in_flight == call
    assert session.expire(110.0) == [CallTimedOut(call)]
    assert session.in_flight is None
    assert session.next_deadline() is None
    assert session.expire(200.0) == []


def test_call_with_an_invalid_payload_raises() -> None:
    session = _session()
    with pytest.raises(LocalProtocolError, match="chargePointModel"):
        session.call("BootNotification", {"chargePointVendor": "Acme"}, now=0.0)
    with pytest.raises(LocalProtocolError, match="not an OCPP 1.6 action"):
        session.call("MakeCoffee", {}, now=0.0)
    assert _sent(session) == []
    assert session.in_flight is None


def test_call_without_validation_sends_what_it_is_given() -> None:
    session = _session()
    call = session.call("BootNotification", {"bogus": 1}, now=0.0, validate=False)
    odd = session.call("MakeCoffee", {}, now=0.0, validate=False)
    assert _sent(session) == [call]
    session.receive(encode(CallResult(call.unique_id, BOOT_ANSWER)), now=1.0)
    assert _sent(session) == [odd]
    # an answer to an action without a schema is taken as it is
    events = session.receive(encode(CallResult(odd.unique_id, {"any": "thing"})), now=2.0)
    assert isinstance(events[0], ResultReceived)


# --- answers -------------------------------------------------------------------------------


def test_answer_breaking_the_response_schema_is_an_invalid_answer() -> None:
    session = _session()
    call = session.call("BootNotification", BOOT, now=0.0)
    session.data_to_send()
    answer = CallResult(call.unique_id, {"status": "Maybe", "currentTime": TS, "interval": 1})
    (event,) = session.receive(encode(answer), now=1.0)
    assert isinstance(event, InvalidAnswer)
    assert event.call == call and event.result == answer
    assert event.violation.code == ErrorCode.PROPERTY_CONSTRAINT_VIOLATION
    assert event.violation.path == "status"
    assert _sent(session) == []  # an answer is never answered
    assert session.in_flight is None


def test_call_error_is_an_error_received() -> None:
    session = _session()
    call = session.call("BootNotification", BOOT, now=0.0)
    session.data_to_send()
    error = CallError(call.unique_id, "InternalError", "database down", {"retry": True})
    assert session.receive(encode(error), now=1.0) == [ErrorReceived(call, error)]
    assert session.in_flight is None
    assert _sent(session) == []


@pytest.mark.parametrize(
    "spelling", ["OccurenceConstraintViolation", "OccurrenceConstraintViolation"]
)
def test_both_spellings_of_occurence_are_understood(spelling: str) -> None:
    session = _session()
    call = session.call("Heartbeat", {}, now=0.0)
    (event,) = session.receive(encode(CallError(call.unique_id, spelling)), now=1.0)
    assert isinstance(event, ErrorReceived)
    assert ErrorCode.parse(event.error.error_code) == ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION


def test_error_code_parse() -> None:
    assert ErrorCode.parse("NotSupported") == ErrorCode.NOT_SUPPORTED
    assert ErrorCode.parse("notsupported") is None
    assert ErrorCode.parse("Teapot") is None


@pytest.mark.parametrize(
    "answer",
    [
        CallResult("someone-else", {"currentTime": TS}),
        CallError("someone-else", "GenericError"),
    ],
)
def test_answer_with_an_unknown_id_is_a_violation_without_reply(
    answer: CallResult | CallError,
) -> None:
    session = _session()
    call = session.call("Heartbeat", {}, now=0.0)
    session.data_to_send()
    (event,) = session.receive(encode(answer), now=1.0)
    assert isinstance(event, RemoteViolation)
    assert event.reply is None
    assert "someone-else" in event.description
    assert _sent(session) == []
    assert session.in_flight == call  # still waiting for the real answer


def test_answer_with_no_call_in_flight_is_a_violation() -> None:
    session = _session()
    (event,) = session.receive('[3,"id-1",{}]', now=0.0)
    assert isinstance(event, RemoteViolation) and event.reply is None
    assert _sent(session) == []


def test_late_answer_after_timeout_is_a_violation() -> None:
    session = _session()
    call = session.call("Heartbeat", {}, now=0.0, timeout=1.0)
    session.data_to_send()
    assert session.expire(1.5) == [CallTimedOut(call)]
    (event,) = session.receive(encode(CallResult(call.unique_id, {"currentTime": TS})), now=2.0)
    assert isinstance(event, RemoteViolation)
    assert event.reply is None
    assert _sent(session) == []


def test_answer_to_a_timed_out_call_is_not_taken_for_the_next_one() -> None:
    session = _session()
    first = session.call("Heartbeat", {}, now=0.0, timeout=1.0)
    second = session.call("Heartbeat", {}, now=0.0)
    session.expire(1.0)
    session.data_to_send()
    (event,) = session.receive(encode(CallResult(first.unique_id, {"currentTime": TS})), 2.0)
    assert isinstance(event, RemoteViolation)
    assert session.in_flight == second


# --- requests from the peer ----------------------------------------------------------------


def test_valid_request_is_handed_over_and_remembered() -> None:
    session = _session()
    text = '[2,"r1","Reset",{"type":"Soft"}]'
    (event,) = session.receive(text, now=0.0)
    assert event == CallReceived(Call("r1", "Reset", {"type": "Soft"}))
    assert session.unanswered == [event.call]
    assert _sent(session) == []


def test_reply_sends_a_call_result() -> None:
    session = _session()
    (event,) = session.receive('[2,"r1","Reset",{"type":"Hard"}]', now=0.0)
    assert isinstance(event, CallReceived)
    result = session.reply(event.call, {"status": "Accepted"})
    assert result == CallResult("r1", {"status": "Accepted"})
    assert _sent(session) == [result]
    assert session.unanswered == []


def test_reply_validates_the_response() -> None:
    session = _session()
    (event,) = session.receive('[2,"r1","Reset",{"type":"Hard"}]', now=0.0)
    assert isinstance(event, CallReceived)
    with pytest.raises(LocalProtocolError, match="status"):
        session.reply(event.call, {"status": "Sure"})
    assert _sent(session) == []
    assert session.unanswered == [event.call]
    session.reply(event.call, {"status": "Sure"}, validate=False)
    assert _sent(session) == [CallResult("r1", {"status": "Sure"})]


def test_reply_error_sends_a_call_error() -> None:
    session = _session()
    (event,) = session.receive('[2,"r1","Reset",{"type":"Hard"}]', now=0.0)
    assert isinstance(event, CallReceived)
    error = session.reply_error(event.call, ErrorCode.GENERIC_ERROR, "no", {"why": "test"})
    assert error == CallError("r1", "GenericError", "no", {"why": "test"})
    assert _sent(session) == [error]
    assert session.unanswered == []


def test_unknown_action_is_refused_with_not_implemented() -> None:
    session = _session()
    (event,) = session.receive('[2,"r1","MakeCoffee",{}]', now=0.0)
    assert isinstance(event, RemoteViolation)
    assert event.call == Call("r1", "MakeCoffee", {})
    error = _one_error(session)
    assert error.unique_id == "r1"
    assert error.error_code == "NotImplemented"
    assert event.reply == error
    assert session.unanswered == []


@pytest.mark.parametrize("action", ["BootNotification", "DataTransfer", "SetChargingProfile"])
def test_known_action_not_handled_is_refused_with_not_supported(action: str) -> None:
    session = _session()
    (event,) = session.receive(f'[2,"r1","{action}",{{}}]', now=0.0)
    assert isinstance(event, RemoteViolation)
    error = _one_error(session)
    assert (error.unique_id, error.error_code) == ("r1", "NotSupported")
    assert action in error.error_description


@pytest.mark.parametrize(
    ("payload", "code", "details"),
    [
        ({}, "OccurenceConstraintViolation", {"rule": "required"}),
        ({"type": 1}, "TypeConstraintViolation", {"path": "type", "rule": "type"}),
        ({"type": "Soft", "delay": 5}, "FormationViolation", {"rule": "additionalProperties"}),
        ({"type": "Warm"}, "PropertyConstraintViolation", {"path": "type", "rule": "enum"}),
    ],
)
def test_schema_invalid_request_gets_the_matching_call_error(
    payload: dict[str, Any], code: str, details: dict[str, Any]
) -> None:
    session = _session()
    (event,) = session.receive(encode(Call("r1", "Reset", payload)), now=0.0)
    assert isinstance(event, RemoteViolation)
    error = _one_error(session)
    assert error.unique_id == "r1"
    assert error.error_code == code
    assert error.error_details == details
    assert "Reset" in error.error_description
    assert session.unanswered == []


def test_nested_schema_breach_names_the_field_in_the_error() -> None:
    session = _session()
    payload = {
        "idTag": "T",
        "chargingProfile": {
            "chargingProfileId": 1,
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": "A",
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 6.15}],
            },
        },
    }
    session.receive(encode(Call("r1", "RemoteStartTransaction", payload)), now=0.0)
    error = _one_error(session)
    assert error.error_code == "PropertyConstraintViolation"
    path = "chargingProfile.chargingSchedule.chargingSchedulePeriod[0].limit"
    assert error.error_details == {"path": path, "rule": "multipleOf"}
    assert path in error.error_description


# --- malformed text ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        '[2, "r1", "Reset", {',  # not JSON, id readable
        '[2, "r1", "Reset"]',  # too few elements
        '[2, "r1", 17, {}]',  # action not a string
        '[2, "r1", "Reset", []]',  # payload not an object
        '[5, "r1", "Reset", {}]',  # unknown message type
        '[5, "r1", oops',
    ],
)
def test_malformed_frame_with_a_readable_id_gets_formation_violation(text: str) -> None:
    session = _session()
    (event,) = session.receive(text, now=0.0)
    assert isinstance(event, RemoteViolation)
    assert event.text == text
    error = _one_error(session)
    assert (error.unique_id, error.error_code) == ("r1", "FormationViolation")
    assert error.error_description == event.description
    assert event.reply == error


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "{}",
        "[]",
        "[2]",
        '[2, 17, "Reset", {}]',
        '["2", 17, "Reset", {}]',
        '[3, "r1", []]',  # a broken CALLRESULT
        '[3, "r1", {}, {}]',
        '[3, "r1", {',
        '[4, "r1", "GenericError", ""]',  # a broken CALLERROR
        '[4, "r1", 1, "", {}]',
        '[4, "r1", "GenericError", "',
    ],
)
def test_malformed_frame_that_cannot_be_answered_sends_nothing(text: str) -> None:
    session = _session()
    call = session.call("Heartbeat", {}, now=0.0)
    session.data_to_send()
    (event,) = session.receive(text, now=1.0)
    assert isinstance(event, RemoteViolation)
    assert event.reply is None
    assert _sent(session) == []
    assert session.in_flight == call


def test_send_raw_goes_out_as_it_is() -> None:
    session = _session()
    session.send_raw("[2, broken")
    assert session.data_to_send() == ["[2, broken"]


# --- abandon -------------------------------------------------------------------------------


def test_abandon_returns_unanswered_calls_in_order_and_forgets_everything() -> None:
    session = _session()
    calls = [session.call("Heartbeat", {}, now=0.0) for _ in range(3)]
    session.receive('[2,"r1","Reset",{"type":"Soft"}]', now=0.0)
    session.send_raw("pending")
    assert session.abandon() == calls
    assert session.in_flight is None
    assert session.unanswered == []
    assert session.data_to_send() == []
    assert session.next_deadline() is None
    assert session.abandon() == []


# --- both directions at once ---------------------------------------------------------------


def test_two_sessions_talk_to_each_other() -> None:
    charge_point = _session(ids=CounterIds("cp-"))
    csms = _session(handles={"BootNotification", "Heartbeat"}, ids=CounterIds("cs-"))
    # each side has its own CALL in flight; the directions are independent
    boot = charge_point.call("BootNotification", BOOT, now=0.0)
    reset = csms.call("Reset", {"type": "Soft"}, now=0.0)
    for text in charge_point.data_to_send():
        (event,) = csms.receive(text, now=0.0)
        assert isinstance(event, CallReceived)
        csms.reply(event.call, BOOT_ANSWER)
    for text in csms.data_to_send():
        events = charge_point.receive(text, now=0.0)
        for event in events:
            if isinstance(event, CallReceived):
                charge_point.reply(event.call, {"status": "Accepted"})
            else:
                assert event == ResultReceived(boot, CallResult(boot.unique_id, BOOT_ANSWER))
    (text,) = charge_point.data_to_send()
    assert json.loads(text) == [3, reset.unique_id, {"status": "Accepted"}]
    (event,) = csms.receive(text, now=0.0)
    assert isinstance(event, ResultReceived) and event.call == reset


# --- fuzzing -------------------------------------------------------------------------------

_numbers = st.integers() | st.sampled_from([10**400, -(10**400), 2**63]) | st.floats()
_values = st.recursive(
    st.none() | st.booleans() | _numbers | st.text(max_size=25),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_keys = st.sampled_from(
    ["idTag", "connectorId", "type", "status", "limit", "chargingProfile", "key", "timestamp"]
)


@settings(max_examples=80)
@given(
    st.sampled_from([*sorted(ACTIONS), "MakeCoffee"]),
    st.dictionaries(_keys | st.text(max_size=8), _values, max_size=4),
    st.text(min_size=1, max_size=36),
)
def test_any_received_call_is_an_event_never_an_exception(
    action: str, payload: dict[str, Any], unique_id: str
) -> None:
    session = _session(handles=frozenset(ACTIONS))
    (event,) = session.receive(json.dumps([2, unique_id, action, payload]), now=0.0)
    out = _sent(session)
    if isinstance(event, CallReceived):
        assert out == []
        assert (event.call.unique_id, event.call.action) == (unique_id, action)
        assert json.dumps(event.call.payload) == json.dumps(payload)  # NaN-safe equality
    else:
        assert isinstance(event, RemoteViolation)
        (error,) = out
        assert isinstance(error, CallError) and error.unique_id == unique_id
        assert ErrorCode.parse(error.error_code) is not None


@settings(max_examples=50)
@given(st.text() | st.lists(_values, max_size=5).map(json.dumps))
def test_any_received_text_is_an_event_never_an_exception(text: str) -> None:
    session = _session()
    session.call("Heartbeat", {}, now=0.0)
    session.data_to_send()
    events = session.receive(text, now=1.0)
    assert len(events) == 1
    for frame in _sent(session):
        assert isinstance(frame, CallError)

"""A frame is read once, into a WireFrame that names its action and the call it answers."""

from __future__ import annotations

from mockpoint.rpc.frames import Call, CallResult, MalformedFrame, MessageType
from mockpoint.rpc.session import ResultReceived, RpcSession


def test_an_answer_names_the_action_of_the_call_in_flight() -> None:
    session = RpcSession(handles=())
    call = session.call("Heartbeat", {}, 0.0)
    (sent,) = session.frames_to_send()
    assert (sent.direction, sent.kind, sent.action, sent.frame) == (
        "out",
        MessageType.CALL,
        "Heartbeat",
        call,
    )
    text = f'[3,"{call.unique_id}",{{"currentTime":"2025-06-01T08:00:00Z"}}]'
    wire = session.read(text)
    assert wire.kind is MessageType.CALLRESULT
    assert (wire.action, wire.answers) == ("Heartbeat", call)
    assert isinstance(wire.frame, CallResult)
    (event,) = session.digest(wire, 1.0)
    assert isinstance(event, ResultReceived) and event.call is call


def test_an_answer_to_no_call_in_flight_names_no_action() -> None:
    wire = RpcSession(handles=()).read('[3,"nobody",{}]')
    assert (wire.action, wire.answers) == (None, None)


def test_a_reply_names_the_request_it_answers() -> None:
    session = RpcSession(handles=("Reset",))
    wire = session.read('[2,"r1","Reset",{"type":"Soft"}]')
    assert isinstance(wire.frame, Call) and wire.action == "Reset"
    (event,) = session.digest(wire, 0.0)
    session.reply(event.call, {"status": "Accepted"})  # type: ignore[union-attr]
    (reply,) = session.frames_to_send()
    assert (reply.direction, reply.kind, reply.action) == ("out", MessageType.CALLRESULT, "Reset")
    assert reply.answers == event.call  # type: ignore[union-attr]
    assert reply.data() == [3, "r1", {"status": "Accepted"}]


def test_a_malformed_frame_keeps_its_json_or_its_text() -> None:
    session = RpcSession(handles=())
    short = session.read('[2,"x"]')
    assert isinstance(short.frame, MalformedFrame) and short.kind is None
    assert short.data() == [2, "x"]
    broken = session.read("not json")
    assert broken.data() == "not json"

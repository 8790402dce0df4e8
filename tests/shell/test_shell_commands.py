"""What a line typed at the shell means, and what Tab offers."""

from __future__ import annotations

import pytest

from mockpoint.errors import CommandError
from mockpoint.scenario import model
from mockpoint.shell.commands import Command, StepCommand, parse, payload
from mockpoint.shell.completion import candidates


def test_send_builds_the_payload_from_field_values() -> None:
    command = parse('send StartTransaction connectorId=1 idTag=ABC meterStart=0 timestamp="x"')
    assert isinstance(command, StepCommand)
    assert isinstance(command.step, model.SendStep)
    assert command.step.send == "StartTransaction"
    assert command.step.payload == {
        "connectorId": 1,
        "idTag": "ABC",
        "meterStart": 0,
        "timestamp": "x",
    }


def test_values_are_json_when_they_read_as_json_and_dots_nest() -> None:
    assert payload(['a={"b": [1, 2]}', "c=true", "d=1.5", "e=text", "f.g.h=2", "f.i=x"]) == {
        "a": {"b": [1, 2]},
        "c": True,
        "d": 1.5,
        "e": "text",
        "f": {"g": {"h": 2}, "i": "x"},
    }


def test_an_action_is_found_whatever_its_case() -> None:
    command = parse("send heartbeat")
    assert isinstance(command, StepCommand) and isinstance(command.step, model.SendStep)
    assert command.step.send == "Heartbeat"


@pytest.mark.parametrize(
    ("line", "kind", "spec"),
    [
        ("plug 2", "plug_in", {"connector": 2}),
        ("unplug 1", "unplug", {"connector": 1}),
        ("authorize TAG-1", "authorize", {"id_tag": "TAG-1"}),
        ("start 1 TAG-1", "start_transaction", {"connector": 1, "id_tag": "TAG-1"}),
        ("stop 1 Remote", "stop_transaction", {"connector": 1, "reason": "Remote"}),
        ("fault 1 GroundFailure", "fault", {"connector": 1, "error_code": "GroundFailure"}),
        ("clear 1", "clear_fault", {"connector": 1}),
    ],
)
def test_station_verbs_are_scenario_steps(line: str, kind: str, spec: dict[str, object]) -> None:
    command = parse(line)
    assert isinstance(command, StepCommand)
    assert command.step.kind == kind
    assert command.text == {kind: spec}


def test_charge_takes_power_and_duration_as_the_scenario_format_does() -> None:
    command = parse("charge 1 11kW 30m")
    assert isinstance(command, StepCommand) and isinstance(command.step, model.ChargeStep)
    assert command.step.charge.power == 11000
    assert command.step.charge.duration == 1800


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("bogus", "unknown command 'bogus'"),
        ("plug", "plug needs CONNECTOR"),
        ("plug one", "connector 'one' is not a number"),
        ("fault 1 Smoke", "fault: fault.error_code"),
        ("charge 1 11kW soon", "charge: charge.duration"),
        ("send", "send needs an action"),
        ("send Teleport", "unknown action 'Teleport'"),
        ("send Heartbeat oops", "'oops': write field=value"),
        ('send Authorize idTag="unclosed', "No closing quotation"),
        ("raw", "raw needs the text"),
    ],
)
def test_bad_lines_are_one_clear_error(line: str, message: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse(line)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("send Hearbeat", "unknown action 'Hearbeat' (did you mean Heartbeat?)"),
        (
            "send StartTransation",
            "unknown action 'StartTransation' (did you mean StartTransaction?)",
        ),
        ("staus", "unknown command 'staus' (did you mean status?)"),
        ("stat", "unknown command 'stat' (did you mean start or status?)"),
        ("qiut", "unknown command 'qiut' (did you mean quit?)"),
        ("send Authorize idTg=ABC", "send Authorize: unknown field 'idTg' (did you mean idTag?)"),
        (
            "send StatusNotification connectorId=1 errorCode=NoEror status=Available",
            "send StatusNotification: errorCode 'NoEror' is unknown (did you mean NoError?)",
        ),
        ("stop 1 Locla", "stop: unknown reason 'Locla' (did you mean Local?)"),
        (
            "fault 1 GroundFailur",
            "fault: unknown error code 'GroundFailur' (did you mean GroundFailure?)",
        ),
    ],
)
def test_a_typo_is_an_error_that_offers_the_close_name(line: str, message: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse(line)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("send Teleport", "unknown action 'Teleport'"),
        ("bogus", "unknown command 'bogus'; the commands: authorize, charge, clear"),
        ("send Authorize idTag=A nothing=1", "send Authorize: unknown field 'nothing'"),
    ],
)
def test_nothing_close_is_offered_when_nothing_is_close(line: str, message: str) -> None:
    with pytest.raises(CommandError) as caught:
        parse(line)
    assert str(caught.value).startswith(message)
    assert "did you mean" not in str(caught.value)


def test_a_field_the_schema_leaves_open_and_a_value_nothing_is_close_to_go_to_the_step() -> None:
    """DataTransfer's data is any string the schema allows, and a status nothing is close to
    is left to the step's own validation, which names every value."""
    command = parse("send DataTransfer vendorId=acme data.x=1")
    assert isinstance(command, StepCommand) and isinstance(command.step, model.SendStep)
    assert command.step.payload == {"vendorId": "acme", "data": {"x": 1}}
    command = parse("send StatusNotification connectorId=1 errorCode=NoError status=Zzz")
    assert isinstance(command, StepCommand)


def test_reasons_and_error_codes_are_found_whatever_their_case() -> None:
    assert parse("stop 1 local") == parse("stop 1 Local")
    assert parse("fault 1 groundfailure") == parse("fault 1 GroundFailure")


def test_commands_and_blank_lines() -> None:
    assert parse("") is None
    assert parse("   # a comment") is None
    assert parse("status") == Command("status")
    assert parse("config HeartbeatInterval") == Command("config", ("HeartbeatInterval",))
    assert parse('raw [2,"x","Heartbeat",{}]') == Command("raw", ('[2,"x","Heartbeat",{}]',))
    assert parse("exit") == parse("quit") == Command("quit")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("se", ["send"]),
        ("st", ["start", "stop", "status"]),
        ("send Auth", ["Authorize"]),
        ("send Start", ["StartTransaction"]),
        ("send Authorize ", ["idTag="]),
        # required fields first, then the others, each once
        (
            "send StopTransaction ",
            ["meterStop=", "timestamp=", "transactionId=", "idTag=", "reason=", "transactionData="],
        ),
        (
            "send StopTransaction meterStop=5 ",
            ["timestamp=", "transactionId=", "idTag=", "reason=", "transactionData="],
        ),
        ("send StopTransaction reason=Ev", ["reason=EVDisconnected"]),
        ("send StatusNotification status=Fa", ["status=Faulted"]),
        ("fault 1 Ground", ["GroundFailure"]),
        ("stop 1 Rem", ["Remote"]),
        ("config HeartbeatInt", ["HeartbeatInterval"]),
        ("send Teleport ", []),
    ],
)
def test_completion_candidates(line: str, expected: list[str]) -> None:
    assert candidates(line) == expected

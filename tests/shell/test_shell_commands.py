"""What a line typed at the shell means, and what Tab offers."""

from __future__ import annotations

import pytest

from mockpoint.scenario import model
from mockpoint.shell.commands import Command, CommandError, StepCommand, parse, payload
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

"""The scenario loader: YAML files in, Scenario models out, or every problem with its
file:line:column."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mockpoint.errors import ExitCode, UsageError
from mockpoint.scenario.loader import Problem, ScenarioError, load_paths, load_scenario
from mockpoint.scenario.model import (
    STEP_KINDS,
    AwaitStep,
    ChargeStep,
    CsmsTarget,
    SendStep,
    SessionStep,
    StopTransactionStep,
    WaitStep,
)

DATA = Path(__file__).parent / "data"
VALID = DATA / "valid"
INVALID = DATA / "invalid"


def problems(path: Path | str) -> list[tuple[int, int, str]]:
    """(line, column, message) of every problem of one file."""
    with pytest.raises(ScenarioError) as info:
        load_paths([path])
    assert all(p.file == str(path) for p in info.value.problems)
    return [(p.line, p.column, p.message) for p in info.value.problems]


def problems_of_text(tmp_path: Path, text: str) -> list[tuple[int, int, str]]:
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return problems(path)


def where(found: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    return [(line, column) for line, column, _ in found]


# --- valid files ---------------------------------------------------------------------------


def test_a_full_session_loads_with_its_values() -> None:
    scenario = load_scenario(VALID / "session.yaml")
    assert scenario.name == "Authorized charging session"
    assert scenario.csms == "ws://127.0.0.1:9000/ocpp"
    assert scenario.target == CsmsTarget(url="ws://127.0.0.1:9000/ocpp")
    cp = scenario.charge_point
    assert (cp.id, cp.vendor, cp.model, cp.connectors) == ("CP-001", "Acme", "AC22", 2)
    assert cp.firmware_version == "1.4.2" and cp.serial_number == "SN-0001"
    assert cp.configuration["HeartbeatInterval"] == 300
    assert scenario.clock.start == datetime(2025, 6, 1, 8, 0, tzinfo=UTC)
    assert scenario.clock.speed == 0
    assert (scenario.seed, scenario.timeout) == (7, 30.0)
    assert [step.kind for step in scenario.steps] == [
        "send",
        "plug_in",
        "authorize",
        "start_transaction",
        "charge",
        "stop_transaction",
        "unplug",
        "await",
        "wait",
        "send",
        "send",
        "expect_state",
    ]
    charge = scenario.steps[4]
    assert isinstance(charge, ChargeStep)
    assert (charge.charge.power, charge.charge.duration) == (11_000.0, 1800.0)
    awaited = scenario.steps[7]
    assert isinstance(awaited, AwaitStep)
    assert (awaited.await_, awaited.within, awaited.reply) == (
        "RemoteStartTransaction",
        60.0,
        {"status": "Accepted"},
    )
    wait = scenario.steps[8]
    assert isinstance(wait, WaitStep) and wait.wait == 300.0
    status = scenario.steps[9]
    assert isinstance(status, SendStep)
    # A timestamp in a payload stays the string that goes on the wire.
    assert status.payload["timestamp"] == "2025-06-01T08:10:00Z"


def test_every_step_knows_where_it_stands() -> None:
    scenario = load_scenario(VALID / "session.yaml")
    name = str(VALID / "session.yaml")
    locations = [step.location for step in scenario.steps]
    assert [str(location) for location in locations[:3]] == [
        f"{name}:21:5",
        f"{name}:23:5",
        f"{name}:24:5",
    ]
    assert str(locations[-1]) == f"{name}:42:5"


def test_defaults_of_a_minimal_file() -> None:
    scenario = load_scenario(VALID / "minimal.yaml")
    assert scenario.csms is None and scenario.target is None
    # seed and clock.start not pinned: the run decides (assembly.seed_and_start)
    assert scenario.description == "" and scenario.seed is None and scenario.timeout == 30.0
    assert scenario.clock.start is None
    assert scenario.clock.start is None and scenario.clock.speed == 1.0
    assert scenario.charge_point.id == "CP-001" and scenario.charge_point.connectors == 1
    assert scenario.charge_point.configuration == {}
    (step,) = scenario.steps
    assert isinstance(step, WaitStep) and step.wait == 0.5
    assert step.timeout is None and step.continue_on_failure is False


def test_long_form_csms_variables_and_invalid_messages() -> None:
    scenario = load_scenario(VALID / "more" / "long_form.yml")
    assert scenario.target == CsmsTarget(
        url="wss://csms.example/ocpp",
        security_profile=2,
        password="${CSMS_PASSWORD}",  # expanded by the runner, not the loader
        ca="certs/ca.pem",
    )
    variable = scenario.steps[1]
    assert isinstance(variable, SendStep)
    assert variable.payload["connectorId"] == "${connector}"
    deliberate = scenario.steps[2]
    assert isinstance(deliberate, SendStep) and deliberate.invalid
    assert deliberate.payload == {"connectorId": "one", "status": "Sleeping", "colour": "red"}
    session = scenario.steps[5]
    assert isinstance(session, SessionStep)
    assert (session.session.power, session.session.duration) == (7400.0, 7200.0)
    reset = scenario.steps[4]
    assert isinstance(reset, AwaitStep) and reset.continue_on_failure


def test_a_folder_means_every_yaml_and_yml_below_it_sorted() -> None:
    loaded = load_paths([VALID])
    assert [path.relative_to(VALID).as_posix() for path, _ in loaded] == [
        "meaning.yaml",
        "minimal.yaml",
        "more/long_form.yml",
        "session.yaml",
    ]
    assert [scenario.name for _, scenario in loaded] == [
        "Everything the meaning checks let through",
        "Minimal",
        "Long form",
        "Authorized charging session",
    ]


def test_a_file_given_twice_is_loaded_once() -> None:
    loaded = load_paths([VALID / "minimal.yaml", str(VALID), VALID / "minimal.yaml"])
    assert len(loaded) == 4
    assert loaded[0][0] == VALID / "minimal.yaml"


def test_yaml_anchors_and_merge_keys(tmp_path: Path) -> None:
    path = tmp_path / "anchors.yaml"
    path.write_text(
        textwrap.dedent(
            """\
            name: Anchors
            steps:
              - &stop {stop_transaction: {connector: 1}, timeout: 5s}
              - <<: *stop
                continue_on_failure: true
                timeout: 1s
            """
        ),
        encoding="utf-8",
    )
    first, second = load_scenario(path).steps
    assert isinstance(second, StopTransactionStep)
    assert (first.timeout, second.timeout, second.continue_on_failure) == (5.0, 1.0, True)
    assert str(second.location) == f"{path}:4:5"


# --- invalid files -------------------------------------------------------------------------


def test_a_yaml_syntax_error_points_where_the_parser_stopped() -> None:
    ((line, column, message),) = problems(INVALID / "syntax_error.yaml")
    assert (line, column) == (4, 4)
    assert message.startswith("invalid YAML: ")


def test_a_duplicate_key_is_an_error() -> None:
    assert problems(INVALID / "duplicate_key.yaml") == [
        (4, 1, "duplicate key 'name' (first given on line 1)")
    ]


def test_an_unknown_top_level_key_points_at_the_key() -> None:
    assert problems(INVALID / "unknown_top_key.yaml") == [
        (2, 1, "unknown key 'nmae'; did you mean name?")
    ]


def test_an_unknown_step_key_suggests_the_step_s_own_keys() -> None:
    assert problems(INVALID / "unknown_step_key.yaml") == [
        (4, 5, "unknown key 'paylod'; did you mean payload?")
    ]


def test_a_step_needs_exactly_one_kind() -> None:
    (none, two) = problems(INVALID / "step_kinds.yaml")
    assert none[:2] == (3, 5) and two[:2] == (4, 5)
    assert none[2].startswith("a step needs exactly one of: send, plug_in, unplug,")
    assert none[2].endswith("; found none")
    assert two[2].endswith("; found plug_in and unplug")


def test_a_misspelled_kind_gets_a_suggestion() -> None:
    assert problems(INVALID / "misspelled_kind.yaml") == [
        (3, 5, "unknown step kind 'plugin'; did you mean plug_in?")
    ]


def test_bad_durations_and_power() -> None:
    assert problems(INVALID / "quantities.yaml") == [
        (3, 11, "wait: '5 minutes' is not a duration: use a number and one of ms, s, m, h (30s)"),
        (4, 21, "charge.power: '11kw' is not a power: use a number and one of kW, W (11kW)"),
    ]


def test_a_wrong_type() -> None:
    assert problems(INVALID / "wrong_type.yaml") == [
        (3, 15, "charge_point.connectors: expected an integer, got 'two'")
    ]


def test_send_and_await_name_actions_of_the_right_side() -> None:
    assert problems(INVALID / "actions.yaml") == [
        (3, 11, "'BootNotifcation' is not an OCPP 1.6 action; did you mean BootNotification?"),
        (
            4,
            11,
            "RemoteStartTransaction is a request the CSMS sends, not the charge point:"
            " wait for it with 'await: RemoteStartTransaction'",
        ),
        (
            5,
            12,
            "Heartbeat is a request the charge point sends, not the CSMS:"
            " send it with 'send: Heartbeat'",
        ),
        (6, 12, "'ReserveNw' is not an OCPP 1.6 action; did you mean ReserveNow?"),
    ]


def test_payloads_and_replies_are_checked_field_by_field() -> None:
    found = problems(INVALID / "payloads.yaml")
    assert where(found) == [
        (4, 28),
        (4, 41),
        (4, 51),
        (9, 22),
        (11, 39),
        (11, 47),
        (13, 21),
        (13, 28),
    ]
    messages = [message for _, _, message in found]
    assert messages[0] == "StatusNotification payload: connectorId must be integer"
    assert messages[1].startswith("StatusNotification payload: status must be one of ['Available'")
    assert messages[2] == "StatusNotification payload: unknown field colour"
    assert messages[3] == "MeterValues payload: meterValue[0].timestamp must be date-time"
    assert messages[4].startswith("MeterValues payload: meterValue[0].sampledValue[0].measurand")
    assert messages[5] == (
        "MeterValues payload: unknown field meterValue[0].sampledValue[0].unitt; did you mean unit?"
    )
    assert (
        messages[6]
        == "RemoteStartTransaction reply: status must be one of ['Accepted', 'Rejected']"
    )
    assert messages[7] == "RemoteStartTransaction reply: unknown field note"


def test_required_fields_are_left_to_the_station(tmp_path: Path) -> None:
    path = tmp_path / "partial.yaml"
    path.write_text(
        "name: Partial\nsteps:\n"
        "  - send: StatusNotification\n    payload: {status: Faulted}\n"
        "  - send: StartTransaction\n    payload: {idTag: TAG-1}\n"
        "  - await: GetConfiguration\n    reply: {unknownKey: [Foo]}\n",
        encoding="utf-8",
    )
    assert len(load_scenario(path).steps) == 3


def test_variables_stand_for_any_valid_value_but_unknown_fields_still_count(
    tmp_path: Path,
) -> None:
    found = problems_of_text(
        tmp_path,
        """\
        name: Variables
        steps:
          - send: StatusNotification
            payload: {connectorId: "${n}", status: "${status}", nope: "${x}"}
        """,
    )
    assert found == [(4, 57, "StatusNotification payload: unknown field nope")]


def test_configuration_problems_point_at_their_keys() -> None:
    assert problems(INVALID / "configuration.yaml") == [
        (5, 5, "HeartbeatIntervl: unknown configuration key; did you mean HeartbeatInterval?"),
        (6, 5, "MeterValueSampleInterval: expected an integer, got 'often'"),
        (7, 5, "NumberOfConnectors: is 3 but the charge point has 2 connector(s)"),
    ]


def test_an_empty_file() -> None:
    assert problems(INVALID / "empty.yaml") == [
        (1, 1, "the file is empty: a scenario needs at least name: and steps:")
    ]


def test_a_list_at_the_top() -> None:
    assert problems(INVALID / "top_level_list.yaml") == [
        (1, 1, "a scenario is a mapping (name:, steps:, ...), not a list")
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("steps:\n  - wait: 1s\n", [(1, 1, "missing required key 'name'")]),
        ("name: x\nsteps: []\n", [(2, 8, "steps: must not be empty")]),
        (
            "name: x\ncsms: 5\nsteps: [{wait: 1s}]\n",
            [(2, 7, "csms: expected a string or a mapping, got 5")],
        ),
        (
            "name: x\ncsms: {url: ws://h, security_profile: 4, pass: y}\nsteps: [{wait: 1s}]\n",
            [
                (2, 39, "csms.security_profile: should be 0, 1, 2 or 3, got 4"),
                (2, 42, "unknown key 'pass' in csms; did you mean password?"),
            ],
        ),
        (
            "name: x\nclock: {start: 2025-06-01T08:00:00}\nsteps: [{wait: 1s}]\n",
            [(2, 16, "clock.start: give the time zone, e.g. 2025-06-01T08:00:00Z")],
        ),
        (
            "name: x\nsteps:\n  - set_availability: {type: Off}\n",
            # YAML 1.1: Off is false
            [(3, 30, "set_availability.type: should be 'Operative' or 'Inoperative', got false")],
        ),
        (
            "name: x\nsteps:\n  - await: Reset\n    reply_error: {cod: X}\n",
            [
                (4, 18, "missing required key 'code' in reply_error"),
                (4, 19, "unknown key 'cod' in reply_error; did you mean code?"),
            ],
        ),
        (
            "name: x\nsteps:\n  - wait: !env DELAY\n",
            [(3, 11, "invalid YAML: could not determine a constructor for the tag '!env'")],
        ),
        (
            "name: x\nsteps:\n  - wait\n",
            [
                (
                    3,
                    5,
                    f"a step is a mapping with one of: {', '.join(STEP_KINDS)}; found 'wait'",
                )
            ],
        ),
        (
            "name: x\n1: one\nsteps:\n  - expect_state: {connectors: {first: {}}}\n",
            [
                (2, 1, "a key must be a string, got 1"),
                (4, 33, "expect_state.connectors: a key must be an integer, got 'first'"),
            ],
        ),
        (
            # the security whitepaper's schemas use $ref; variables stand in for enums too
            "name: x\nsteps:\n  - send: LogStatusNotification\n"
            "    payload: {status: '${s}', requestId: 1}\n"
            "  - await: ExtendedTriggerMessage\n    reply: {status: Maybe}\n",
            [
                (
                    6,
                    21,
                    "ExtendedTriggerMessage reply: status must be one of"
                    " ['Accepted', 'Rejected', 'NotImplemented']",
                )
            ],
        ),
        ("name: x\nsteps: [{wait: 1s}]\n---\nname: y\n", None),
    ],
)
def test_more_problems(
    tmp_path: Path, text: str, expected: list[tuple[int, int, str]] | None
) -> None:
    found = problems_of_text(tmp_path, text)
    if expected is None:
        assert len(found) == 1 and found[0][2].startswith("invalid YAML: ")
    else:
        assert found == expected


def test_a_bad_mock_csms_block_is_reported_where_it_is_wrong(tmp_path: Path) -> None:
    found = problems_of_text(
        tmp_path,
        """\
        name: x
        mock_csms:
          boot: {status: [Accepted, Sure]}
        steps: [{wait: 1s}]
        """,
    )
    assert where(found) == [(3, 29)]
    # as `mockpoint csms --config` says it of the same block
    assert found[0][2].startswith("mock_csms.boot.status[1]: 'Sure' is not one of")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("name: Caf\xe9\nsteps: [{wait: 1s}]\n".encode("latin-1"))
    ((line, column, message),) = problems(path)
    assert (line, column) == (1, 1) and message.startswith("not UTF-8 text")


# --- all problems at once --------------------------------------------------------------


def test_every_problem_of_every_file_at_once() -> None:
    batch = DATA / "batch"
    with pytest.raises(ScenarioError) as info:
        load_paths([batch, batch / "missing.yaml"])
    error = info.value
    assert isinstance(error, UsageError) and error.exit_code == ExitCode.USAGE
    assert [str(problem) for problem in error.problems] == [
        f"{batch / 'b_bad.yaml'}:2:10: timeout: 'soon' is not a duration:"
        " use a number and one of ms, s, m, h (30s)",
        f"{batch / 'b_bad.yaml'}:6:15: Heartbeat payload: unknown field extra",
        f"{batch / 'c_bad.yml'}:1:1: missing required key 'name'",
        f"{batch / 'c_bad.yml'}:2:11: wait: 'never' is not a duration:"
        " use a number and one of ms, s, m, h (30s)",
        f"{batch / 'missing.yaml'}: no such file or folder",
    ]
    assert str(error) == "\n".join(str(problem) for problem in error.problems)


def test_load_scenario_raises_the_same_error() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario(INVALID / "wrong_type.yaml")
    assert len(info.value.problems) == 1
    with pytest.raises(ScenarioError, match="is a folder"):
        load_scenario(VALID)


def test_an_empty_folder_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_paths([tmp_path])
    assert info.value.problems == [
        Problem(str(tmp_path), 0, 0, "no *.yaml or *.yml file in this folder")
    ]
    assert str(info.value) == f"{tmp_path}: no *.yaml or *.yml file in this folder"

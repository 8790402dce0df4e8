"""What ``mockpoint validate`` (and loading a scenario before a run) checks beyond the
format: connectors the charge point has, keys ``expect_state`` compares, CALLERROR codes,
``expect`` fields against the OCA schemas, and ``csms`` errors at the field to fix."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

import mockpoint
from mockpoint.errors import ErrorCode
from mockpoint.scenario.checks import ERROR_CODES
from mockpoint.scenario.loader import ScenarioError, load_paths, load_scenario
from mockpoint.scenario.model import CONNECTOR_STATE_KEYS, ExpectStateStep

DATA = Path(__file__).parent / "data"
VALID = DATA / "valid"
INVALID = DATA / "invalid"

CODES = ", ".join(ErrorCode)


def problems(path: Path) -> list[tuple[int, int, str]]:
    """(line, column, message) of every problem of one file."""
    with pytest.raises(ScenarioError) as info:
        load_paths([path])
    return [(p.line, p.column, p.message) for p in info.value.problems]


def problems_of_text(tmp_path: Path, text: str) -> list[tuple[int, int, str]]:
    path = tmp_path / "scenario.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return problems(path)


# --- connectors ----------------------------------------------------------------------------


def test_a_connector_the_charge_point_lacks_is_an_error_in_every_station_step() -> None:
    has_two = "the charge point has 2 connectors (charge_point.connectors)"
    assert problems(INVALID / "connectors.yaml") == [
        (4, 26, f"plug_in.connector: connector 3: {has_two}"),
        (5, 25, f"unplug.connector: connector 3: {has_two}"),
        (6, 36, f"start_transaction.connector: connector 3: {has_two}"),
        (7, 25, f"charge.connector: connector 3: {has_two}"),
        (8, 35, f"stop_transaction.connector: connector 3: {has_two}"),
        (9, 24, f"fault.connector: connector 3: {has_two}"),
        (10, 30, f"clear_fault.connector: connector 3: {has_two}"),
        (11, 35, f"set_availability.connector: connector 3: {has_two}"),
        (12, 26, f"session.connector: connector 3: {has_two}"),
        # at the keys; 0 (the charge point as a whole) and 2 are there
        (14, 68, f"expect_state.connectors: connector 3: {has_two}"),
        (
            14,
            92,
            "expect_state.connectors: connector -1: connectors are numbered from 0"
            " (the charge point as a whole)",
        ),
    ]


def test_a_charge_point_has_one_connector_unless_it_says_otherwise(tmp_path: Path) -> None:
    found = problems_of_text(
        tmp_path,
        """\
        name: x
        steps:
          - plug_in: {connector: 1}
          - plug_in: {connector: 2}
          - expect_state: {connectors: {"2": {plugged: true}}}
        """,
    )
    assert found == [
        (
            4,
            26,
            "plug_in.connector: connector 2: the charge point has 1 connector"
            " (charge_point.connectors)",
        ),
        (
            5,
            33,
            "expect_state.connectors: connector 2: the charge point has 1 connector"
            " (charge_point.connectors)",
        ),
    ]


def test_an_invalid_number_of_connectors_is_said_once(tmp_path: Path) -> None:
    found = problems_of_text(
        tmp_path,
        """\
        name: x
        charge_point: {connectors: 0}
        steps:
          - plug_in: {connector: 5}
        """,
    )
    assert [message for _, _, message in found] == [
        "charge_point.connectors: should be greater than or equal to 1, got 0"
    ]


# --- expect_state ----------------------------------------------------------------------------


def test_unknown_keys_of_expect_state_are_errors_with_a_suggestion() -> None:
    assert problems(INVALID / "expect_state_keys.yaml") == [
        (7, 13, "unknown key 'state' in expect_state.connectors.1; did you mean status?"),
        (
            7,
            47,
            "unknown key 'transaction' in expect_state.connectors.1; did you mean transaction_id?",
        ),
        (
            9,
            9,
            "expect_state.configuration: unknown configuration key 'HeartbeatIntervl';"
            " did you mean HeartbeatInterval?",
        ),
        (
            10,
            9,
            "expect_state.configuration: the key is written MeterValueSampleInterval, not"
            " 'meterValueSampleInterval' (configuration keys are compared as the charge point"
            " names them)",
        ),
        (
            11,
            9,
            "expect_state.configuration: unknown configuration key 'VendorSpecificThing'; it"
            " compares the standard OCPP 1.6 keys and those charge_point.configuration sets",
        ),
        (12, 7, "unknown key 'conected' in expect_state; did you mean connected?"),
    ]


def test_a_key_the_charge_point_configuration_sets_is_not_reported_again(
    tmp_path: Path,
) -> None:
    found = problems_of_text(
        tmp_path,
        """\
        name: x
        charge_point:
          configuration: {VendorColour: red}
        steps:
          - expect_state: {configuration: {VendorColour: red}}
        """,
    )
    # The configuration block says the key is unknown; expect_state takes its word for it.
    assert found == [(3, 19, "VendorColour: unknown configuration key")]


async def test_the_keys_expect_state_knows_are_the_ones_the_run_compares(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.yaml"
    right = {
        "status": "Preparing",
        "error_code": "NoError",
        "plugged": True,
        "transaction_id": None,
        "id_tag": None,
        "energy_wh": 0,
        "session_energy_wh": 0,
    }
    wrong = {
        "status": "Charging",
        "error_code": "OtherError",
        "plugged": False,
        "transaction_id": 7,
        "id_tag": "TAG-X",
        "energy_wh": 1,
        "session_energy_wh": 1,
    }
    assert set(right) == set(CONNECTOR_STATE_KEYS)
    path.write_text(
        "name: state\nclock: {speed: 0}\ntimeout: 5s\nsteps:\n"
        "  - plug_in: {connector: 1}\n"
        # JSON is YAML too
        f"  - expect_state: {{connectors: {{1: {json.dumps(right)}}}}}\n"
        f"  - expect_state: {{connectors: {{1: {json.dumps(wrong)}}}}}\n",
        encoding="utf-8",
    )
    scenario = load_scenario(path)
    assert isinstance(scenario.steps[1], ExpectStateStep)
    outcome = await mockpoint.run_scenario(path)
    # the automatic boot, plug_in, and the two expect_state steps
    assert [step.status for step in outcome.steps] == ["passed", "passed", "passed", "failed"]
    message = outcome.steps[3].message or ""
    for key in CONNECTOR_STATE_KEYS:
        assert f"connectors.1.{key}: expected" in message, key


# --- CALLERROR codes -------------------------------------------------------------------------


def test_unknown_callerror_codes_are_errors_that_list_the_codes() -> None:
    not_a_code = f"is not a CALLERROR code of OCPP-J 1.6 ({CODES})"
    assert problems(INVALID / "error_codes.yaml") == [
        (4, 19, f"expect_error: 'NotSupportd' {not_a_code}; did you mean NotSupported?"),
        (6, 19, f"expect_error: 'notimplemented' {not_a_code}; did you mean NotImplemented?"),
        (8, 18, f"reply_error: 'InternalErr' {not_a_code}; did you mean InternalError?"),
        (10, 25, f"reply_error.code: 'Timeout' {not_a_code}"),
        (
            12,
            25,
            f"expect.callerror: 'FormatViolation' {not_a_code}; did you mean FormationViolation?",
        ),
    ]


def test_both_spellings_of_occurence_constraint_violation_are_codes() -> None:
    assert "OccurenceConstraintViolation" in ERROR_CODES
    assert "OccurrenceConstraintViolation" in ERROR_CODES
    assert all(ErrorCode.parse(code) is not None for code in ERROR_CODES)


# --- expect against the OCA schemas ----------------------------------------------------------


def test_expect_fields_the_payload_cannot_have_are_errors() -> None:
    assert problems(INVALID / "expect_fields.yaml") == [
        (
            4,
            14,
            "expect.transactionid: StartTransaction's answer has no field 'transactionid';"
            " did you mean transactionId?",
        ),
        (
            4,
            44,
            "expect.idTagInfo.statuss: StartTransaction's answer has no field 'statuss';"
            " did you mean status?",
        ),
        (
            6,
            44,
            "expect.idTagInfo.expiry: StartTransaction's answer has no field 'expiry';"
            " did you mean expiryDate?",
        ),
        (
            8,
            14,
            "expect.IdTagInfo: Authorize's answer has no field 'IdTagInfo';"
            " did you mean idTagInfo?",
        ),
        (10, 14, "expect.status: StopTransaction's answer has no field 'status'"),
        (
            14,
            7,
            "expect.localAuthorisationList: the SendLocalList request has no field"
            " 'localAuthorisationList'; did you mean localAuthorizationList?",
        ),
        (
            17,
            26,
            "expect.localAuthorizationList[0].idTaginfo: the SendLocalList request has no field"
            " 'idTaginfo'; did you mean idTagInfo?",
        ),
        (
            19,
            52,
            "expect.connector: the ExtendedTriggerMessage request has no field 'connector';"
            " did you mean connectorId?",
        ),
    ]


def test_an_unknown_action_is_said_once_not_again_for_its_expect(tmp_path: Path) -> None:
    found = problems_of_text(
        tmp_path,
        """\
        name: x
        steps:
          - send: StartTransactio
            expect: {transactionid: 1}
          - await: Heartbeat
            expect: {nothing: 1}
        """,
    )
    assert [message.split(";")[0] for _, _, message in found] == [
        "'StartTransactio' is not an OCPP 1.6 action",
        "Heartbeat is a request the charge point sends, not the CSMS: send it with"
        " 'send: Heartbeat'",
    ]


# --- what stays valid ------------------------------------------------------------------------


def test_matchers_variables_connector_0_and_custom_spellings_stay_valid() -> None:
    scenario = load_scenario(VALID / "meaning.yaml")
    assert len(scenario.steps) == 12
    (state,) = [step for step in scenario.steps if isinstance(step, ExpectStateStep)]
    connectors = state.expect_state.connectors or {}
    assert sorted(connectors) == [0, 2]


# --- csms ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("csms", "expected"),
    [
        (
            "{url: wss://h, security_profile: 3}",
            (2, 7, "csms.cert: security profile 3 needs a client certificate (cert and key)"),
        ),
        (
            "{url: wss://h, security_profile: 3, cert: c.pem}",
            (2, 7, "csms.key: security profile 3 needs the client certificate's private key"),
        ),
        (
            "{url: ws://h, security_profile: 1}",
            (2, 7, "csms.password: security profile 1 needs a password"),
        ),
        (
            "{url: ws://h, security_profile: 1, password: ''}",
            (2, 52, "csms.password: security profile 1 needs a password"),
        ),
        (
            "{url: ws://h, security_profile: 2, password: pw}",
            (2, 13, "csms.url: security profile 2 needs a wss:// URL"),
        ),
        (
            "{url: wss://h, security_profile: 1, password: pw}",
            (2, 13, "csms.url: security profile 1 is Basic auth over ws://; over TLS it is 2"),
        ),
        ("[ws://h]", (2, 7, "csms: expected a string or a mapping, got a list")),
    ],
)
def test_a_csms_error_names_the_field_to_fix(
    tmp_path: Path, csms: str, expected: tuple[int, int, str]
) -> None:
    text = f"name: x\ncsms: {csms}\nsteps: [{{wait: 1s}}]\n"
    assert problems_of_text(tmp_path, text) == [expected]


def test_a_csms_url_of_another_scheme_is_said_once(tmp_path: Path) -> None:
    found = problems_of_text(
        tmp_path, "name: x\ncsms: {url: http://h, security_profile: 0}\nsteps: [{wait: 1s}]\n"
    )
    assert len(found) == 1 and found[0][:2] == (2, 13)
    assert found[0][2].startswith("csms.url: ")


# --- all at once -----------------------------------------------------------------------------


def test_every_kind_of_problem_of_a_file_at_once(tmp_path: Path) -> None:
    found = problems_of_text(
        tmp_path,
        """\
        name: x
        csms: {url: ws://h, security_profile: 1}
        steps:
          - plug_in: {connector: 2}
          - send: Heartbeat
            expect: {currenttime: x}
            expect_error: Nope
          - expect_state: {connectors: {1: {state: Available}}}
          - wait: soon
        """,
    )
    assert [(line, column) for line, column, _ in found] == [
        (2, 7),
        (4, 26),
        (6, 14),
        (7, 19),
        (8, 37),
        (9, 11),
    ]

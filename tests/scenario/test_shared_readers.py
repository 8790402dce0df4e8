"""The readers scenarios share with the mock CSMS's configuration: one grammar of quantities
(``mockpoint.quantities``) and one syntax of ``${NAME}`` (``mockpoint.variables``)."""

from __future__ import annotations

from pathlib import Path

import pytest

import mockpoint.variables
from mockpoint import quantities
from mockpoint.csms import config as csms_config
from mockpoint.scenario import matchers, model
from mockpoint.scenario.loader import ScenarioError, load_scenario

# --- quantities ---------------------------------------------------------------------------


def test_one_grammar_behind_every_old_name() -> None:
    assert model.parse_duration is quantities.parse_duration
    assert csms_config.parse_duration is quantities.parse_duration
    assert model.parse_power is quantities.parse_power
    assert model.parse_energy is quantities.parse_energy
    assert (model.Duration, model.Power, model.Energy) == (
        quantities.Duration,
        quantities.Power,
        quantities.Energy,
    )


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        # what the scenario grammar took
        ("500ms", 0.5),
        ("30s", 30.0),
        ("5m", 300.0),
        ("2h", 7200.0),
        (" 1.5 s ", 1.5),
        (7, 7.0),
        # what only the mock CSMS's grammar took, now taken everywhere
        ("5.", 5.0),
        (".5", 0.5),
        (".5s", 0.5),
        ("2.m", 120.0),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    assert quantities.parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("soon", "'soon' is not a duration: use a number and one of ms, s, m, h (30s)"),
        ("5S", "'5S' is not a duration"),
        (".", "'.' is not a duration"),
        ("-1s", "'-1s' is not a duration"),
        (-1, "a duration cannot be negative"),
        (float("nan"), "a duration must be a finite number"),
        (10**400, "this duration is too large"),
        (True, "a duration is a number or a string like 30s"),
        (None, "a duration is a number or a string like 30s"),
    ],
)
def test_what_is_not_a_duration(value: object, message: str) -> None:
    with pytest.raises(ValueError) as info:
        quantities.parse_duration(value)
    assert str(info.value).startswith(message)


def test_positive_durations() -> None:
    assert quantities.parse_positive_duration("1ms") == 0.001
    with pytest.raises(ValueError, match="must be greater than 0"):
        quantities.parse_positive_duration("0s")


def test_powers_and_energies_share_the_number_grammar() -> None:
    assert quantities.parse_power("7.4kW") == 7400.0
    assert quantities.parse_power(".5kW") == 500.0
    assert quantities.parse_energy("20kWh") == 20_000.0
    with pytest.raises(ValueError, match="not a power: use a number and one of kW, W"):
        quantities.parse_power("11kw")


def test_a_scenario_takes_the_durations_the_mock_csms_took(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: s\ntimeout: .5s\nsteps: [{wait: 2.}]\n", encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.timeout == 0.5
    assert scenario.steps[0].wait == 2.0  # type: ignore[union-attr]


def test_the_schema_pattern_is_the_grammar() -> None:
    import re

    schema = model.json_schema()
    pattern = schema["properties"]["timeout"]["anyOf"][0]["pattern"]
    for text in ("500ms", " 1.5 s ", "5.", ".5s", "2h"):
        assert re.fullmatch(pattern, text), text
    for text in ("soon", "5S", ".", "-1s"):
        assert not re.fullmatch(pattern, text), text


def test_a_bad_duration_is_still_placed_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: s\ntimeout: soon\nsteps: [{wait: 1}]\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:2:10: timeout: 'soon' is not a duration: use a number and one of ms, s, m, h (30s)"
    ]


# --- variables ------------------------------------------------------------------------------


def test_the_matchers_names_are_the_variables_modules() -> None:
    assert matchers.resolve is mockpoint.variables.resolve
    assert matchers.UnknownVariable is mockpoint.variables.UnknownVariable


def test_names_in_text() -> None:
    text = "${tx} and ${tx.id} and ${CSMS_URL} but not ${1x} nor $tx"
    assert mockpoint.variables.names_in(text) == ["tx", "tx.id", "CSMS_URL"]
    # An environment variable has no dot: ${tx.id} is no reference to one.
    assert mockpoint.variables.names_in(text, dots=False) == ["tx", "CSMS_URL"]


def test_a_saved_variable_may_hold_a_dot() -> None:
    assert mockpoint.variables.resolve("${tx.id}", {"tx.id": 7}, {}) == 7


def test_env_reference_is_a_whole_reference_without_dots() -> None:
    assert mockpoint.variables.env_reference("${CP001_PASSWORD}") == "CP001_PASSWORD"
    assert mockpoint.variables.env_reference("x${CP001_PASSWORD}") is None
    assert mockpoint.variables.env_reference("${A.B}") is None


def test_a_password_with_a_dotted_reference_is_that_text() -> None:
    config = csms_config.config_from_mapping({"auth": {"any_password": "${A.B}"}})
    assert config.auth.any_password == "${A.B}"


def test_a_password_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKPOINT_TEST_SHARED_PASSWORD", "from-env-1234")
    config = csms_config.config_from_mapping(
        {"auth": {"passwords": {"CP-1": "${MOCKPOINT_TEST_SHARED_PASSWORD}"}}}
    )
    assert config.auth.passwords == {"CP-1": "from-env-1234"}

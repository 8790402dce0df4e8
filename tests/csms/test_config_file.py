"""The mock CSMS's configuration as pydantic models, read as scenarios are read: the YAML
reader's limits and every problem at its ``file:line:column``."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockpoint.csms.config import (
    AnswerOverride,
    CsmsConfig,
    CsmsConfigFile,
    PeriodicRequest,
    ScriptedRequest,
    TriggeredRequest,
    config_from_mapping,
    load_config,
    load_csms_config,
)
from mockpoint.errors import ErrorCode, UsageError
from mockpoint.ocpp16.enums import RegistrationStatus
from mockpoint.scenario.loader import ScenarioError, load_scenario

EVERY_KEY = {
    "boot": {"status": ["Pending", "Accepted"], "interval": [10, 300]},
    "id_tags": {
        "blocked": ["TAG-B"],
        "expired": ["TAG-E"],
        "invalid": ["TAG-I"],
        "concurrent_tx": ["TAG-C"],
        "expiry_date": {"TAG-001": "2030-01-01T00:00:00Z"},
        "parent_id_tag": {"TAG-001": "GROUP-1"},
    },
    "answers": {
        "Heartbeat": {"error": "InternalError", "description": "down", "times": 1},
        "MeterValues": {"ignore": True},
        "DataTransfer": {"payload": {"status": "Rejected"}},
    },
    "on_boot": [{"action": "GetConfiguration", "payload": {}, "delay": "500ms"}],
    "periodic": [
        {"action": "TriggerMessage", "payload": {"requestedMessage": "Heartbeat"}, "period": 60}
    ],
    "on_request": [
        {
            "when": {"action": "StatusNotification", "match": {"status": "Charging"}},
            "send": {
                "action": "RemoteStopTransaction",
                "payload": {"transactionId": "${transaction_id}"},
            },
            "delay": "0s",
        }
    ],
    "call_timeout": "5s",
    "auth": {"passwords": {"CP-001": "secret-0001"}, "any_password": None},
    "deduplicate": True,
}


def test_every_key_becomes_the_dataclasses_the_mock_csms_reads() -> None:
    config = config_from_mapping(EVERY_KEY)
    assert isinstance(config, CsmsConfig)
    assert config.boot.status == (RegistrationStatus.PENDING, RegistrationStatus.ACCEPTED)
    assert config.boot.interval == (10, 300)
    assert config.id_tags.blocked == frozenset({"TAG-B"})
    assert config.id_tags.concurrent_tx == frozenset({"TAG-C"})
    assert config.id_tags.expiry_date == {"TAG-001": "2030-01-01T00:00:00Z"}
    assert config.id_tags.parent_id_tag == {"TAG-001": "GROUP-1"}
    assert config.answers == {
        "DataTransfer": AnswerOverride(payload={"status": "Rejected"}),
        "Heartbeat": AnswerOverride(error=ErrorCode.INTERNAL_ERROR, description="down", times=1),
        "MeterValues": AnswerOverride(ignore=True),
    }
    assert config.on_boot == (ScriptedRequest("GetConfiguration", {}, 0.5),)
    assert config.periodic == (
        PeriodicRequest("TriggerMessage", {"requestedMessage": "Heartbeat"}, 60.0),
    )
    assert config.on_request == (
        TriggeredRequest(
            "StatusNotification",
            {"status": "Charging"},
            "RemoteStopTransaction",
            {"transactionId": "${transaction_id}"},
            0.0,
            1,
        ),
    )
    assert config.call_timeout == 5.0
    assert config.auth.passwords == {"CP-001": "secret-0001"} and config.auth.any_password is None
    assert config.deduplicate is True


def test_nothing_set_is_the_default() -> None:
    assert config_from_mapping({}) == CsmsConfig()
    assert CsmsConfigFile().config() == CsmsConfig()
    assert config_from_mapping({"boot": None, "id_tags": None, "answers": None}) == CsmsConfig()


def test_the_model_never_shows_a_password() -> None:
    read = CsmsConfigFile.model_validate({"auth": {"passwords": {"CP-1": "hidden-9876"}}})
    assert "hidden-9876" not in repr(read)
    with pytest.raises(UsageError) as info:
        config_from_mapping({"auth": "hidden-9876"})
    assert "hidden-9876" not in str(info.value)


def test_every_problem_of_a_mapping_one_a_line() -> None:
    with pytest.raises(UsageError) as info:
        config_from_mapping({"deduplicate": "x", "boot": {"interval": "y"}}, "test")
    assert str(info.value).splitlines() == [
        "test: boot.interval: expected an integer >= 0, got 'y'",
        "test: deduplicate: expected true or false, got 'x'",
    ]


def test_every_problem_of_a_file_at_its_place(tmp_path: Path) -> None:
    path = tmp_path / "csms.yaml"
    path.write_text(
        "boot: {status: Maybe}\nboot: {}\non_boot: [{action: Nope}]\nx: !!set {a}\n",
        encoding="utf-8",
    )
    with pytest.raises(UsageError) as info:
        load_config(path)
    assert str(info.value).splitlines() == [
        f"{path}:1:16: boot.status: 'Maybe' is not one of Accepted, Pending, Rejected",
        f"{path}:2:1: duplicate key 'boot' (first given on line 1)",
        f"{path}:3:11: on_boot[0]: 'Nope' is not an OCPP 1.6 action",
        f"{path}:4:1: unknown key 'x' (expected one of answers, auth, boot, call_timeout,"
        " deduplicate, id_tags, on_boot, on_request, periodic)",
        f"{path}:4:4: invalid YAML: the tag !!set is not allowed here",
    ]


def test_a_key_error_is_at_the_key(tmp_path: Path) -> None:
    path = tmp_path / "csms.yaml"
    path.write_text("id_tags:\n  expiry_date:\n    ABCDEFGHIJKLMNOPQRSTUV: 2030\n", "utf-8")
    with pytest.raises(UsageError) as info:
        load_config(path)
    assert str(info.value).splitlines()[0] == (
        f"{path}:3:5: id_tags.expiry_date: an idTag has at most 20 characters"
    )


@pytest.mark.parametrize("text", ["", "~\n", "# nothing\n"])
def test_an_empty_file_is_the_default(tmp_path: Path, text: str) -> None:
    path = tmp_path / "csms.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_config(path) == CsmsConfig()
    assert load_csms_config(path).config == CsmsConfig()


def test_aliases_that_repeat_too_much_are_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 8)]
    path = tmp_path / "csms.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(UsageError, match="aliases repeat more than 10000 values"):
        load_config(path)


def test_timestamps_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "csms.yaml"
    path.write_text("id_tags: {expiry_date: {T: 2030-01-01T00:00:00Z}}\n", encoding="utf-8")
    assert load_config(path).id_tags.expiry_date == {"T": "2030-01-01T00:00:00Z"}


def test_validate_and_csms_config_say_the_same_of_a_scenario_s_block(tmp_path: Path) -> None:
    path = tmp_path / "scenario.yaml"
    path.write_text(
        "name: s\nmock_csms:\n  answers: {Heartbeat: {error: Oops}}\nsteps: [{wait: 1}]\n",
        encoding="utf-8",
    )
    with pytest.raises(UsageError) as csms:
        load_csms_config(path)
    with pytest.raises(ScenarioError) as validate:
        load_scenario(path)
    assert [str(problem) for problem in validate.value.problems] == [str(csms.value)]
    assert str(csms.value).startswith(f"{path}:3:32: mock_csms.answers.Heartbeat.error: 'Oops'")

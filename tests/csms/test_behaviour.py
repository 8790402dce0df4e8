"""The mock CSMS's answers and memory, without any I/O."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from conftest import oca_errors
from mockpoint.clock import VirtualClock, parse_timestamp
from mockpoint.csms.behaviour import (
    CsmsBehaviour,
    Fail,
    Ignore,
    Reply,
    config_from_mapping,
    load_config,
    merge,
    parse_duration,
)
from mockpoint.errors import ErrorCode, UsageError
from mockpoint.ocpp16.actions import CENTRAL_SYSTEM_HANDLES
from mockpoint.rpc.frames import Call
from mockpoint.rpc.validation import check_request

START = "2025-06-01T08:00:00Z"
NOW = "2025-06-01T08:00:00Z"

#: A valid request of every action the mock CSMS answers.
REQUESTS: dict[str, dict[str, Any]] = {
    "BootNotification": {"chargePointVendor": "Acme", "chargePointModel": "AC22"},
    "Heartbeat": {},
    "Authorize": {"idTag": "TAG-001"},
    "StartTransaction": {
        "connectorId": 1,
        "idTag": "TAG-001",
        "meterStart": 1000,
        "timestamp": NOW,
    },
    "StopTransaction": {"transactionId": 1, "meterStop": 2000, "timestamp": NOW, "idTag": "T"},
    "StatusNotification": {"connectorId": 1, "status": "Available", "errorCode": "NoError"},
    "MeterValues": {
        "connectorId": 1,
        "meterValue": [{"timestamp": NOW, "sampledValue": [{"value": "10"}]}],
    },
    "DataTransfer": {"vendorId": "Acme"},
    "DiagnosticsStatusNotification": {"status": "Idle"},
    "FirmwareStatusNotification": {"status": "Idle"},
}

_ids = iter(range(1, 1_000_000))


def call(action: str, **fields: Any) -> Call:
    payload = {**REQUESTS[action], **fields}
    assert check_request(action, payload) is None, "the test's request must be valid"
    return Call(f"id-{next(_ids)}", action, payload)


def behaviour(config: dict[str, Any] | None = None) -> CsmsBehaviour:
    clock = VirtualClock(parse_timestamp(START))
    return CsmsBehaviour(config_from_mapping(config or {}), clock)


def reply(answer: object) -> dict[str, Any]:
    assert isinstance(answer, Reply), answer
    return answer.payload


def test_the_requests_table_covers_every_action_the_csms_answers() -> None:
    assert set(REQUESTS) == set(CENTRAL_SYSTEM_HANDLES)


@pytest.mark.parametrize("action", sorted(CENTRAL_SYSTEM_HANDLES))
def test_every_default_answer_passes_the_oca_schema(action: str) -> None:
    answer = reply(behaviour().answer("CP-1", call(action)))
    assert oca_errors(action, answer, response=True) == []


def test_default_boot_answer_is_accepted_with_interval_300_at_the_clock_time() -> None:
    answer = reply(behaviour().answer("CP-1", call("BootNotification")))
    assert answer == {"status": "Accepted", "currentTime": START, "interval": 300}


def test_current_time_follows_the_injected_clock() -> None:
    clock = VirtualClock(parse_timestamp(START))
    csms = CsmsBehaviour(clock=clock)
    clock.advance(90.5)
    assert reply(csms.answer("CP-1", call("Heartbeat"))) == {
        "currentTime": "2025-06-01T08:01:30.500Z"
    }


def test_pending_then_accepted_with_intervals_in_step_and_the_last_repeating() -> None:
    csms = behaviour({"boot": {"status": ["Pending", "Accepted"], "interval": [10, 300]}})
    answers = [reply(csms.answer("CP-1", call("BootNotification"))) for _ in range(3)]
    assert [(a["status"], a["interval"]) for a in answers] == [
        ("Pending", 10),
        ("Accepted", 300),
        ("Accepted", 300),
    ]
    state = csms.state("CP-1")
    assert state.boot_count == 3 and state.accepted
    # Each charge point counts its own boots.
    assert reply(csms.answer("CP-2", call("BootNotification")))["status"] == "Pending"


def test_rejected_boot_leaves_the_charge_point_unregistered() -> None:
    csms = behaviour({"boot": {"status": "Rejected", "interval": 60}})
    answer = reply(csms.answer("CP-1", call("BootNotification")))
    assert (answer["status"], answer["interval"]) == ("Rejected", 60)
    assert csms.state("CP-1").registration == "Rejected"
    assert not csms.state("CP-1").accepted


ID_TAGS = {
    "blocked": ["TAG-B"],
    "expired": ["TAG-E"],
    "invalid": ["TAG-I"],
    "concurrent_tx": ["TAG-C"],
    "expiry_date": {"TAG-OK": "2030-01-01T00:00:00Z"},
    "parent_id_tag": {"TAG-OK": "GROUP-1"},
}


@pytest.mark.parametrize(
    ("tag", "status"),
    [
        ("TAG-B", "Blocked"),
        ("TAG-E", "Expired"),
        ("TAG-I", "Invalid"),
        ("TAG-C", "ConcurrentTx"),
        ("ANYTHING", "Accepted"),
    ],
)
@pytest.mark.parametrize("action", ["Authorize", "StartTransaction"])
def test_id_tag_lists_decide_the_status(action: str, tag: str, status: str) -> None:
    csms = behaviour({"id_tags": ID_TAGS})
    answer = reply(csms.answer("CP-1", call(action, idTag=tag)))
    assert answer["idTagInfo"] == {"status": status}
    assert oca_errors(action, answer, response=True) == []


def test_accepted_tag_carries_its_expiry_date_and_parent() -> None:
    csms = behaviour({"id_tags": ID_TAGS})
    answer = reply(csms.answer("CP-1", call("Authorize", idTag="TAG-OK")))
    assert answer["idTagInfo"] == {
        "status": "Accepted",
        "expiryDate": "2030-01-01T00:00:00Z",
        "parentIdTag": "GROUP-1",
    }
    assert oca_errors("Authorize", answer, response=True) == []


def test_transaction_ids_count_from_one_across_charge_points() -> None:
    csms = behaviour()
    ids = [
        reply(csms.answer(cp, call("StartTransaction")))["transactionId"]
        for cp in ("CP-1", "CP-2", "CP-1")
    ]
    assert ids == [1, 2, 3]
    assert sorted(csms.state("CP-1").transactions) == [1, 3]
    transaction = csms.state("CP-2").transactions[2]
    assert (transaction.connector_id, transaction.id_tag, transaction.meter_start) == (
        1,
        "TAG-001",
        1000,
    )


def test_a_fresh_behaviour_counts_from_one_again() -> None:
    for _ in range(2):
        csms = behaviour()
        assert reply(csms.answer("CP-1", call("StartTransaction")))["transactionId"] == 1


def test_stop_transaction_answers_id_tag_info_only_when_an_id_tag_is_given() -> None:
    csms = behaviour({"id_tags": {"blocked": ["TAG-B"]}})
    reply(csms.answer("CP-1", call("StartTransaction")))
    reply(csms.answer("CP-1", call("StartTransaction")))
    with_tag = reply(csms.answer("CP-1", call("StopTransaction", transactionId=1, idTag="TAG-B")))
    stop = {k: v for k, v in REQUESTS["StopTransaction"].items() if k != "idTag"}
    without_tag = reply(
        csms.answer(
            "CP-1",
            Call("x", "StopTransaction", {**stop, "reason": "EVDisconnected", "transactionId": 2}),
        )
    )
    assert with_tag == {"idTagInfo": {"status": "Blocked"}}
    assert without_tag == {}
    state = csms.state("CP-1")
    assert state.transactions == {}
    assert state.stopped[1].meter_stop == 2000
    assert state.stopped[1].stop_reason == "Local"  # OCPP 1.6: omitted means Local
    assert state.stopped[2].stop_reason == "EVDisconnected"


def test_status_notifications_keep_the_last_status_per_connector() -> None:
    csms = behaviour()
    csms.answer("CP-1", call("StatusNotification", connectorId=0, status="Available"))
    csms.answer("CP-1", call("StatusNotification", connectorId=1, status="Preparing"))
    csms.answer("CP-1", call("StatusNotification", connectorId=1, status="Charging"))
    assert csms.state("CP-1").connectors == {0: "Available", 1: "Charging"}


def test_received_calls_are_kept_in_order() -> None:
    csms = behaviour()
    calls = [call("BootNotification"), call("Heartbeat"), call("Authorize")]
    for item in calls:
        csms.answer("CP-1", item)
    assert csms.state("CP-1").calls == calls
    assert csms.state("CP-2").calls == []


def test_data_transfer_is_accepted_by_default() -> None:
    assert reply(behaviour().answer("CP-1", call("DataTransfer"))) == {"status": "Accepted"}


# --- answers overrides ------------------------------------------------------------------


def test_error_override_applies_only_the_first_n_times() -> None:
    csms = behaviour(
        {"answers": {"Heartbeat": {"error": "InternalError", "description": "down", "times": 2}}}
    )
    answers = [csms.answer("CP-1", call("Heartbeat")) for _ in range(3)]
    assert answers[:2] == [Fail(ErrorCode.INTERNAL_ERROR, "down")] * 2
    assert isinstance(answers[2], Reply)
    # times counts per charge point
    assert isinstance(csms.answer("CP-2", call("Heartbeat")), Fail)


def test_ignore_override_never_answers() -> None:
    csms = behaviour({"answers": {"MeterValues": {"ignore": True}}})
    assert csms.answer("CP-1", call("MeterValues")) == Ignore()


def test_payload_override_merges_over_the_default() -> None:
    csms = behaviour(
        {
            "answers": {
                "DataTransfer": {"payload": {"status": "Rejected", "data": "no"}},
                "StartTransaction": {"payload": {"idTagInfo": {"status": "Blocked"}}},
            }
        }
    )
    assert reply(csms.answer("CP-1", call("DataTransfer"))) == {"status": "Rejected", "data": "no"}
    started = reply(csms.answer("CP-1", call("StartTransaction")))
    assert started == {"idTagInfo": {"status": "Blocked"}, "transactionId": 1}
    assert csms.state("CP-1").transactions[1].id_tag_status == "Blocked"


def test_an_override_can_make_a_boot_rejected() -> None:
    csms = behaviour({"answers": {"BootNotification": {"payload": {"status": "Rejected"}}}})
    reply(csms.answer("CP-1", call("BootNotification")))
    assert csms.state("CP-1").registration == "Rejected"


def test_a_failed_start_transaction_opens_nothing_and_uses_no_id() -> None:
    csms = behaviour({"answers": {"StartTransaction": {"error": "GenericError", "times": 1}}})
    assert isinstance(csms.answer("CP-1", call("StartTransaction")), Fail)
    assert csms.state("CP-1").transactions == {}
    assert reply(csms.answer("CP-1", call("StartTransaction")))["transactionId"] == 1


def test_merge_is_recursive_and_none_removes() -> None:
    base = {"idTagInfo": {"status": "Accepted", "expiryDate": NOW}, "transactionId": 1}
    assert merge(base, {"idTagInfo": {"expiryDate": None, "status": "Expired"}}) == {
        "idTagInfo": {"status": "Expired"},
        "transactionId": 1,
    }
    assert base["idTagInfo"] == {"status": "Accepted", "expiryDate": NOW}  # not mutated


# --- configuration ----------------------------------------------------------------------


def test_load_config_reads_every_section(tmp_path: Path) -> None:
    path = tmp_path / "csms.yaml"
    path.write_text(
        """
boot: {status: [Pending, Accepted], interval: [5, 120]}
id_tags:
  blocked: [TAG-B]
  expiry_date: {TAG-OK: 2030-01-01T00:00:00Z}
answers:
  Heartbeat: {error: OccurrenceConstraintViolation, times: 1}
on_boot:
  - {action: GetConfiguration, delay: 500ms}
  - {action: ChangeConfiguration, payload: {key: HeartbeatInterval, value: "60"}, delay: 1.5}
periodic:
  - {action: TriggerMessage, payload: {requestedMessage: Heartbeat}, period: 2m}
call_timeout: 5s
""",
        encoding="utf-8",
    )
    config = load_config(path)
    assert config.boot.answer_for(1) == ("Pending", 5)
    assert config.boot.answer_for(7) == ("Accepted", 120)
    assert config.id_tags.blocked == frozenset({"TAG-B"})
    # YAML 1.1 would have made a datetime of it; it must stay the wire text.
    assert config.id_tags.expiry_date == {"TAG-OK": "2030-01-01T00:00:00Z"}
    # the double-r spelling is accepted and normalised to the 1.6 one
    assert config.answers["Heartbeat"].error is ErrorCode.OCCURENCE_CONSTRAINT_VIOLATION
    assert [(r.action, r.delay) for r in config.on_boot] == [
        ("GetConfiguration", 0.5),
        ("ChangeConfiguration", 1.5),
    ]
    assert config.periodic[0].period == 120.0
    assert config.periodic[0].payload == {"requestedMessage": "Heartbeat"}
    assert config.call_timeout == 5.0


def test_an_empty_file_is_the_default_config(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    config = load_config(path)
    assert config.boot.answer_for(1) == ("Accepted", 300)
    assert config.on_boot == () and config.periodic == ()


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("bot: {}", "unknown key 'bot'; did you mean boot?"),
        ("boot: {statuses: Accepted}", "unknown key 'statuses' in boot; did you mean status?"),
        ("boot: {status: Maybe}", "boot.status: 'Maybe' is not one of"),
        ("boot: {status: [Pending, Nope]}", "boot.status[1]:"),
        ("boot: {interval: -1}", "boot.interval: expected an integer >= 0"),
        ("boot: {interval: ten}", "boot.interval:"),
        ("id_tags: {blocked: TAG}", "id_tags.blocked: expected a list"),
        ("id_tags: {blocked: [A], invalid: [A]}", "id_tags.invalid: 'A' is also listed"),
        ("id_tags: {blocked: [ABCDEFGHIJKLMNOPQRSTU]}", "id_tags.blocked[0]: an idTag has at"),
        ("id_tags: {expiry_date: {T: tomorrow}}", "id_tags.expiry_date.T:"),
        (
            "answers: {Reset: {ignore: true}}",
            "unknown key 'Reset' in answers (expected one of Authorize, BootNotification,",
        ),
        ("answers: {Heartbeat: {error: Oops}}", "answers.Heartbeat.error: 'Oops'"),
        ("answers: {Heartbeat: {ignore: true, error: GenericError}}", "answers.Heartbeat:"),
        ("answers: {Heartbeat: {ignore: true, times: 0}}", "answers.Heartbeat.times:"),
        (
            "answers: {Heartbeat: {ignore: true, later: 1}}",
            "unknown key 'later' in answers.Heartbeat (expected one of description, error,",
        ),
        (
            "answers: {BootNotification: {payload: {status: Maybe}}}",
            "answers.BootNotification.payload: the answer would break the schema",
        ),
        ("on_boot: [{action: Heartbeat}]", "on_boot[0]: Heartbeat is not sent by a Central"),
        ("on_boot: [{action: Nope}]", "on_boot[0]: 'Nope' is not an OCPP 1.6 action"),
        ("on_boot: [{action: Reset}]", "on_boot[0]: Reset request: required field missing"),
        ("on_boot: [{action: ClearCache, delay: soon}]", "on_boot[0].delay:"),
        ("on_boot: [{action: ClearCache, when: 1}]", "unknown key 'when' in on_boot[0]"),
        ("periodic: [{action: ClearCache}]", "missing required key 'period' in periodic[0]"),
        ("periodic: [{action: ClearCache, period: 0}]", "periodic[0].period: must be greater"),
        ("call_timeout: -3", "call_timeout:"),
        ("[1, 2]", "expected a mapping"),
    ],
)
def test_a_bad_config_names_the_file_and_the_key(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "csms.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as info:
        load_config(path)
    # file:line:column of the value (of the key, when the key is what is wrong)
    assert re.match(rf"{re.escape(str(path))}:1:\d+: ", str(info.value)), str(info.value)
    assert where in str(info.value)


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "csms.yaml"
    path.write_text("boot:\n  status: [Accepted\n", encoding="utf-8")
    with pytest.raises(UsageError, match=rf"^{path}:3:\d+: invalid YAML"):
        load_config(path)


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        (5, 5.0),
        (0.25, 0.25),
        ("5s", 5.0),
        ("500ms", 0.5),
        ("2m", 120.0),
        ("1h", 3600.0),
        ("3", 3.0),
    ],
)
def test_parse_duration(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "-1s", -1, True, None, "5 days", float("nan")])
def test_parse_duration_refuses(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


# --- deduplication by unique id, as production CSMSs do --------------------------------------


def test_deduplicate_answers_a_repeated_unique_id_as_the_first_time_with_no_new_effect() -> None:
    csms = behaviour({"deduplicate": True})
    first = call("StartTransaction")
    again = Call(first.unique_id, "StartTransaction", dict(first.payload))
    assert reply(csms.answer("CP-1", first))["transactionId"] == 1
    assert reply(csms.answer("CP-1", again))["transactionId"] == 1
    state = csms.state("CP-1")
    assert list(state.transactions) == [1]
    assert state.calls == [first]
    assert state.duplicates == [again]
    # The same id from another charge point is another message.
    other = Call(first.unique_id, "StartTransaction", dict(first.payload))
    assert reply(csms.answer("CP-2", other))["transactionId"] == 2


def test_without_deduplicate_a_repeated_unique_id_is_a_new_request() -> None:
    csms = behaviour()
    first = call("StartTransaction")
    csms.answer("CP-1", first)
    csms.answer("CP-1", Call(first.unique_id, "StartTransaction", dict(first.payload)))
    assert list(csms.state("CP-1").transactions) == [1, 2]


def test_deduplicate_must_be_a_boolean() -> None:
    with pytest.raises(UsageError, match="deduplicate: expected true or false, got 'yes please'"):
        config_from_mapping({"deduplicate": "yes please"}, "csms.yaml")

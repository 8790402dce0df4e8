"""Requests of the Central System answered by the station model (``handlers.handle``).

Every request and every response is checked against the independent OCA validator
(``conftest.oca_errors``), and so is every message the station queues as an effect. The
station is driven directly, sans I/O; a small :class:`CentralSystem` answers its messages.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import station_rig
from station_rig import ACCEPTED, T0, Rig, actions, statuses, ts

from conftest import oca_errors
from mockpoint.errors import NotSupportedAction, UsageError
from mockpoint.ocpp16.actions import ACTIONS, CENTRAL_SYSTEM_HANDLES, CHARGE_POINT_SENDS
from mockpoint.station.handlers import HANDLERS, handle
from mockpoint.station.station import Reboot

AUTHORIZATION_KEY = "0123456789abcdef0123"


def make_rig(overrides: dict[str, object] | None = None, *, boot: bool = True) -> Rig:
    return station_rig.make_rig(overrides, boot=boot)


# --- RemoteStartTransaction (§5.11) ----------------------------------------------------------


def test_remote_start_with_a_cable_in_starts_right_away() -> None:
    rig = make_rig()
    rig.station.plug_in(1)
    rig.csms.drain()
    assert rig.call("RemoteStartTransaction", {"idTag": "TAG-R", "connectorId": 1}) == ACCEPTED
    start = rig.csms.expect("StartTransaction")
    assert start.payload == {
        "connectorId": 1,
        "idTag": "TAG-R",
        "meterStart": 0,
        "timestamp": ts(0),
    }
    rig.csms.answer(start, {"transactionId": 11, "idTagInfo": ACCEPTED})
    assert statuses(rig.csms.drain()) == [(1, "Charging")]
    assert rig.station.transactions[1].remote


def test_remote_start_without_connector_prefers_the_plugged_one() -> None:
    rig = make_rig()
    rig.station.plug_in(2)
    rig.csms.drain()
    assert rig.call("RemoteStartTransaction", {"idTag": "TAG-R"}) == ACCEPTED
    assert rig.csms.expect("StartTransaction").payload["connectorId"] == 2


def test_remote_start_without_a_cable_prepares_and_waits_for_plug_in() -> None:
    rig = make_rig()
    assert rig.call("RemoteStartTransaction", {"idTag": "TAG-R", "connectorId": 2}) == ACCEPTED
    assert statuses(rig.csms.drain()) == [(2, "Preparing")]
    assert rig.station.remote_starts.waiting() == {2: "TAG-R"}
    assert rig.station.next_timer() == T0 + 60  # ConnectionTimeOut default

    rig.run_until(20)
    rig.station.plug_in(2)
    # Already Preparing: no second report; the transaction starts with the remote id tag.
    start = rig.csms.expect("StartTransaction")
    assert (start.payload["connectorId"], start.payload["idTag"]) == (2, "TAG-R")
    assert start.payload["timestamp"] == ts(20)
    rig.csms.answer(start)
    assert statuses(rig.csms.drain()) == [(2, "Charging")]
    assert rig.station.remote_starts.waiting() == {}
    # The ConnectionTimeOut timer went with the wait: nothing happens at 60 s.
    seen = rig.run_until(150)
    assert [(when, m.action) for when, m in seen] == [(80, "MeterValues"), (140, "MeterValues")]


def test_remote_start_lapses_after_connection_timeout() -> None:
    rig = make_rig({"ConnectionTimeOut": 30})
    assert rig.call("RemoteStartTransaction", {"idTag": "TAG-R", "connectorId": 1}) == ACCEPTED
    assert statuses(rig.csms.drain()) == [(1, "Preparing")]
    assert rig.run_until(29) == []
    seen = rig.run_until(30)
    assert [(when, m.payload["connectorId"], m.payload["status"]) for when, m in seen] == [
        (30, 1, "Available")
    ]
    assert rig.station.remote_starts.waiting() == {}
    rig.station.plug_in(1)  # too late: an ordinary plug-in, no start
    assert statuses(rig.csms.drain()) == [(1, "Preparing")]
    assert rig.station.transactions == {}


@pytest.mark.parametrize(
    "connector_id",
    [
        pytest.param(1, id="busy"),
        pytest.param(3, id="nonexistent"),
        pytest.param(0, id="charge-point"),
    ],
)
def test_remote_start_on_a_busy_or_missing_connector_is_rejected(connector_id: int) -> None:
    rig = make_rig()
    rig.charging(1, authorize=False)
    before = copy.deepcopy(rig.csms.log)
    response = rig.call("RemoteStartTransaction", {"idTag": "TAG-R", "connectorId": connector_id})
    assert response == {"status": "Rejected"}
    assert rig.station.next_item() is None
    assert rig.csms.log == before
    assert rig.station.remote_starts.waiting() == {}


def test_remote_start_is_rejected_while_a_start_awaits_its_answer() -> None:
    rig = make_rig()
    rig.station.plug_in(1)
    rig.csms.drain()
    rig.station.start_transaction(1, "TAG-001")
    start = rig.csms.expect("StartTransaction")
    assert rig.station.connectors[1].status == "Preparing"  # Charging only after the answer
    response = rig.call("RemoteStartTransaction", {"idTag": "TAG-R", "connectorId": 1})
    assert response == {"status": "Rejected"}
    rig.csms.answer(start)
    assert statuses(rig.csms.drain()) == [(1, "Charging")]


def test_remote_start_is_rejected_when_a_remote_start_already_waits_there() -> None:
    rig = make_rig()
    rig.call("RemoteStartTransaction", {"idTag": "TAG-R", "connectorId": 1})
    rig.csms.drain()
    response = rig.call("RemoteStartTransaction", {"idTag": "TAG-S", "connectorId": 1})
    assert response == {"status": "Rejected"}
    assert rig.station.remote_starts.waiting() == {1: "TAG-R"}


def test_remote_start_is_rejected_when_every_connector_is_busy() -> None:
    rig = make_rig()
    rig.charging(1, authorize=False)
    rig.charging(2, "TAG-002", authorize=False)
    assert rig.call("RemoteStartTransaction", {"idTag": "TAG-R"}) == {"status": "Rejected"}


def test_remote_start_authorizes_first_when_authorize_remote_tx_requests() -> None:
    rig = make_rig({"AuthorizeRemoteTxRequests": True})
    rig.station.plug_in(1)
    rig.csms.drain()
    assert rig.call("RemoteStartTransaction", {"idTag": "TAG-R", "connectorId": 1}) == ACCEPTED
    assert rig.csms.exchange("Authorize") == {"idTag": "TAG-R"}
    assert rig.csms.exchange("StartTransaction")["idTag"] == "TAG-R"
    assert statuses(rig.csms.drain()) == [(1, "Charging")]


def test_remote_start_without_cable_authorizes_first_then_waits() -> None:
    rig = make_rig({"AuthorizeRemoteTxRequests": True})
    rig.call("RemoteStartTransaction", {"idTag": "TAG-R", "connectorId": 1})
    assert rig.csms.exchange("Authorize") == {"idTag": "TAG-R"}
    assert statuses(rig.csms.drain()) == [(1, "Preparing")]
    rig.station.plug_in(1)
    assert rig.csms.exchange("StartTransaction")["idTag"] == "TAG-R"


def test_remote_start_without_cable_refused_by_authorize_does_not_start() -> None:
    rig = make_rig({"AuthorizeRemoteTxRequests": True})
    rig.call("RemoteStartTransaction", {"idTag": "TAG-R", "connectorId": 1})
    rig.csms.exchange("Authorize", {"idTagInfo": {"status": "Blocked"}})
    assert statuses(rig.csms.drain()) == [(1, "Preparing"), (1, "Available")]
    rig.station.plug_in(1)
    assert statuses(rig.csms.drain()) == [(1, "Preparing")]
    assert rig.station.transactions == {}


def test_remote_start_with_cable_refused_by_authorize_does_not_start() -> None:
    rig = make_rig({"AuthorizeRemoteTxRequests": True})
    rig.station.plug_in(1)
    rig.csms.drain()
    rig.call("RemoteStartTransaction", {"idTag": "TAG-R", "connectorId": 1})
    rig.csms.exchange("Authorize", {"idTagInfo": {"status": "Invalid"}})
    assert rig.station.next_item() is None
    assert rig.station.transactions == {}
    assert rig.station.connectors[1].status == "Preparing"


# --- RemoteStopTransaction (§5.12) -----------------------------------------------------------


def test_remote_stop_of_a_running_transaction() -> None:
    rig = make_rig()
    rig.charging(1, authorize=False)
    transaction_id = rig.charging(2, "TAG-002", authorize=False)
    rig.station.set_power(2, 3_600)
    rig.run_until(10)
    assert rig.call("RemoteStopTransaction", {"transactionId": transaction_id}) == ACCEPTED
    stop = rig.csms.exchange("StopTransaction")
    assert (stop["transactionId"], stop["reason"], stop["idTag"], stop["meterStop"]) == (
        transaction_id,
        "Remote",
        "TAG-002",
        10,
    )
    assert statuses(rig.csms.drain()) == [(2, "Finishing")]
    assert list(rig.station.transactions) == [1]


def test_remote_stop_of_an_unknown_transaction_is_rejected() -> None:
    rig = make_rig()
    transaction_id = rig.charging(1, authorize=False)
    assert rig.call("RemoteStopTransaction", {"transactionId": transaction_id + 100}) == {
        "status": "Rejected"
    }
    assert rig.station.next_item() is None
    assert rig.station.transactions[1].transaction_id == transaction_id


def test_remote_stop_of_a_transaction_already_stopping_is_rejected() -> None:
    rig = make_rig()
    transaction_id = rig.charging(1, authorize=False)
    rig.station.stop_transaction(1)
    assert rig.call("RemoteStopTransaction", {"transactionId": transaction_id}) == {
        "status": "Rejected"
    }
    assert actions(rig.csms.drain()) == ["StopTransaction", "StatusNotification"]


# --- Reset (§5.14) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "reason", "hard"), [("Soft", "SoftReset", False), ("Hard", "HardReset", True)]
)
def test_reset_stops_transactions_then_reboots(kind: str, reason: str, hard: bool) -> None:
    rig = make_rig()
    first = rig.charging(1, authorize=False)
    second = rig.charging(2, "TAG-002", authorize=False)
    assert rig.call("Reset", {"type": kind}) == ACCEPTED
    stops = []
    for connector_id in (1, 2):
        stops.append(rig.csms.exchange("StopTransaction"))
        assert statuses([rig.csms.expect("StatusNotification")]) == [(connector_id, "Finishing")]
    assert [(s["transactionId"], s["reason"]) for s in stops] == [(first, reason), (second, reason)]
    reboot = rig.station.next_item()
    assert isinstance(reboot, Reboot)
    assert reboot.hard is hard
    assert rig.station.next_item() is None

    rig.station.on_disconnected()
    rig.station.rebooted()
    assert rig.station.registration is None
    assert rig.station.next_timer() is None  # no heartbeat of the old registration
    rig.station.on_connected()
    assert rig.csms.expect("BootNotification").payload["chargePointVendor"] == "Acme"
    assert rig.station.next_item() is None


def test_reset_without_transactions_only_reboots() -> None:
    rig = make_rig()
    assert rig.call("Reset", {"type": "Soft"}) == ACCEPTED
    assert isinstance(rig.station.next_item(), Reboot)
    assert rig.station.next_item() is None


def test_reboot_keeps_undelivered_transaction_messages_for_after_the_new_boot() -> None:
    rig = make_rig()
    transaction_id = rig.charging(1, authorize=False)
    rig.call("Reset", {"type": "Hard"})
    # The connection drops before anything is delivered; the stop must survive the reboot.
    rig.station.rebooted()
    rig.station.on_connected()
    rig.csms.exchange("BootNotification")
    # TC_032_1_CSMS: the boot's status reports come first, then the queued stop.
    assert [m.action for m in [rig.csms.expect("StatusNotification") for _ in range(3)]] == [
        "StatusNotification"
    ] * 3
    stop = rig.csms.exchange("StopTransaction")
    assert (stop["transactionId"], stop["reason"]) == (transaction_id, "HardReset")


# --- GetConfiguration (§5.8) -----------------------------------------------------------------


def test_get_configuration_of_every_key() -> None:
    rig = make_rig({"AuthorizationKey": AUTHORIZATION_KEY})
    response = rig.call("GetConfiguration", {})
    assert "unknownKey" not in response
    listed = {item["key"]: item for item in response["configurationKey"]}
    assert list(listed) == rig.station.configuration.keys()
    assert listed["HeartbeatInterval"] == {
        "key": "HeartbeatInterval",
        "readonly": False,
        "value": "300",
    }
    assert listed["NumberOfConnectors"] == {
        "key": "NumberOfConnectors",
        "readonly": True,
        "value": "2",
    }
    assert listed["AuthorizationKey"] == {"key": "AuthorizationKey", "readonly": False}
    assert AUTHORIZATION_KEY not in repr(response)
    assert all("value" in item for name, item in listed.items() if name != "AuthorizationKey")


def test_get_configuration_of_some_keys() -> None:
    rig = make_rig({"MeterValueSampleInterval": 15})
    response = rig.call(
        "GetConfiguration", {"key": ["MeterValueSampleInterval", "NumberOfConnectors"]}
    )
    assert response == {
        "configurationKey": [
            {"key": "MeterValueSampleInterval", "readonly": False, "value": "15"},
            {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
        ]
    }


def test_get_configuration_reports_unknown_keys() -> None:
    rig = make_rig({"AuthorizationKey": AUTHORIZATION_KEY})
    response = rig.call(
        "GetConfiguration", {"key": ["AuthorizationKey", "NoSuchKey", "HeartbeatInterval"]}
    )
    assert response == {
        "configurationKey": [
            {"key": "AuthorizationKey", "readonly": False},
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
        ],
        "unknownKey": ["NoSuchKey"],
    }
    assert rig.call("GetConfiguration", {"key": ["NoSuchKey"]}) == {"unknownKey": ["NoSuchKey"]}


def test_get_configuration_shows_the_boot_interval_as_heartbeat_interval() -> None:
    rig = make_rig(boot=False)
    rig.station.on_connected()
    rig.csms.exchange(
        "BootNotification", {"status": "Accepted", "currentTime": ts(0), "interval": 77}
    )
    response = rig.call("GetConfiguration", {"key": ["HeartbeatInterval"]})
    assert response["configurationKey"][0]["value"] == "77"


# --- ChangeConfiguration (§5.3) --------------------------------------------------------------


def test_change_configuration_accepted_changes_the_value() -> None:
    rig = make_rig()
    response = rig.call("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "30"})
    assert response == ACCEPTED
    assert rig.station.configuration.get_int("MeterValueSampleInterval") == 30
    assert rig.call("GetConfiguration", {"key": ["MeterValueSampleInterval"]}) == {
        "configurationKey": [{"key": "MeterValueSampleInterval", "readonly": False, "value": "30"}]
    }


def test_change_of_meter_value_sample_interval_reschedules_sampling() -> None:
    rig = make_rig()
    rig.charging(1, authorize=False)
    rig.run_until(10)
    rig.call("ChangeConfiguration", {"key": "MeterValueSampleInterval", "value": "20"})
    seen = rig.run_until(50)
    assert [(when, m.action) for when, m in seen] == [(30, "MeterValues"), (50, "MeterValues")]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("NumberOfConnectors", "2"),  # read-only, even with its own value
        ("GetConfigurationMaxKeys", "10"),
        ("SupportedFeatureProfiles", "Core"),
        ("HeartbeatInterval", "abc"),
        ("HeartbeatInterval", "-5"),
        ("StopTransactionOnInvalidId", "maybe"),
        ("MeterValuesSampledData", "Energy.Active.Import.Register,Bogus"),
    ],
)
def test_change_configuration_rejected_for_read_only_keys_and_bad_values(
    key: str, value: str
) -> None:
    rig = make_rig()
    before = rig.station.configuration.get(key)
    assert rig.call("ChangeConfiguration", {"key": key, "value": value}) == {"status": "Rejected"}
    assert rig.station.configuration.get(key) == before
    assert rig.station.next_timer() == T0 + 300  # the heartbeat is untouched


METERED_KEYS = [
    "MeterValuesSampledData",
    "StopTxnSampledData",
    "MeterValuesAlignedData",
    "StopTxnAlignedData",
]


@pytest.mark.parametrize("key", METERED_KEYS)
@pytest.mark.parametrize(
    "value",
    [
        "Power.Reactive.Import",  # a §7.31 measurand the meter does not produce
        "Energy.Active.Import.Register,Power.Factor",
        "voltage,RPM",
    ],
)
def test_change_configuration_of_a_measurand_the_meter_cannot_produce_is_rejected(
    key: str, value: str
) -> None:
    rig = make_rig()
    before = rig.station.configuration.get(key)
    assert rig.call("ChangeConfiguration", {"key": key, "value": value}) == {"status": "Rejected"}
    assert rig.station.configuration.get(key) == before


@pytest.mark.parametrize("key", METERED_KEYS)
def test_change_configuration_of_measurands_the_meter_produces_is_accepted(key: str) -> None:
    rig = make_rig()
    value = "Energy.Active.Import.Register,power.active.import,SoC,Voltage"
    assert rig.call("ChangeConfiguration", {"key": key, "value": value}) == ACCEPTED
    assert rig.station.configuration.get(key) == (
        "Energy.Active.Import.Register,Power.Active.Import,SoC,Voltage"
    )


def test_a_rejected_measurand_never_reaches_the_meter_values() -> None:
    rig = make_rig()
    transaction_id = rig.charging(1, authorize=False)
    change = {"key": "MeterValuesSampledData", "value": "Power.Active.Import,Current.Export"}
    assert rig.call("ChangeConfiguration", change) == {"status": "Rejected"}
    [(when, sample)] = rig.run_until(60)
    assert (when, sample.payload["transactionId"]) == (60, transaction_id)
    measurands = [v["measurand"] for v in sample.payload["meterValue"][0]["sampledValue"]]
    assert measurands == ["Energy.Active.Import.Register"]


def test_change_configuration_of_an_unknown_key_is_not_supported() -> None:
    rig = make_rig()
    response = rig.call("ChangeConfiguration", {"key": "NoSuchKey", "value": "1"})
    assert response == {"status": "NotSupported"}
    assert "NoSuchKey" not in rig.station.configuration


# --- ClearCache (§5.4) -----------------------------------------------------------------------


def test_clear_cache_empties_the_authorization_cache() -> None:
    rig = make_rig()
    rig.station.authorize("TAG-001")
    rig.csms.exchange("Authorize", {"idTagInfo": {"status": "Accepted", "parentIdTag": "P"}})
    assert rig.station.cache.lookup("TAG-001") == {"status": "Accepted", "parentIdTag": "P"}
    assert rig.call("ClearCache", {}) == ACCEPTED
    assert rig.station.cache.lookup("TAG-001") is None
    assert rig.station.next_item() is None


# --- ChangeAvailability (§5.2) ---------------------------------------------------------------


def test_change_availability_of_one_connector() -> None:
    rig = make_rig()
    rig.run_until(3)
    assert rig.call("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}) == ACCEPTED
    [message] = rig.csms.drain()
    assert message.payload == {
        "connectorId": 1,
        "errorCode": "NoError",
        "status": "Unavailable",
        "timestamp": ts(3),
    }
    # Already inoperative: Accepted, nothing to report.
    assert rig.call("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}) == ACCEPTED
    assert rig.csms.drain() == []
    assert rig.call("ChangeAvailability", {"connectorId": 1, "type": "Operative"}) == ACCEPTED
    assert statuses(rig.csms.drain()) == [(1, "Available")]


def test_change_availability_during_a_transaction_is_scheduled() -> None:
    rig = make_rig()
    rig.charging(1, authorize=False)
    response = rig.call("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    assert response == {"status": "Scheduled"}
    assert rig.station.next_item() is None
    assert rig.station.connectors[1].status == "Charging"
    rig.station.stop_transaction(1)
    assert actions(rig.csms.drain()[:1]) == ["StopTransaction"]
    assert rig.station.connectors[1].status == "Unavailable"
    assert rig.station.pending_availability == {}


def test_change_availability_scheduled_applies_in_the_status_report_after_the_stop() -> None:
    rig = make_rig()
    rig.charging(1, authorize=False)
    rig.call("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    rig.station.stop_transaction(1)
    taken = rig.csms.drain()
    assert actions(taken) == ["StopTransaction", "StatusNotification"]
    assert taken[1].payload["status"] == "Unavailable"


def test_change_availability_of_connector_zero_covers_all() -> None:
    rig = make_rig()
    assert rig.call("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"}) == ACCEPTED
    assert statuses(rig.csms.drain()) == [
        (0, "Unavailable"),
        (1, "Unavailable"),
        (2, "Unavailable"),
    ]
    assert rig.call("RemoteStartTransaction", {"idTag": "TAG-R"}) == {"status": "Rejected"}
    assert rig.call("ChangeAvailability", {"connectorId": 0, "type": "Operative"}) == ACCEPTED
    assert statuses(rig.csms.drain()) == [(0, "Available"), (1, "Available"), (2, "Available")]


def test_change_availability_of_connector_zero_during_a_transaction_is_scheduled() -> None:
    rig = make_rig()
    rig.charging(2, authorize=False)
    response = rig.call("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"})
    assert response == {"status": "Scheduled"}
    # The charge point as a whole waits for its last transaction (§5.2).
    assert rig.station.connectors[1].status == "Available"
    assert rig.station.connectors[2].status == "Charging"
    rig.csms.drain()
    rig.station.stop_transaction(2)
    assert [c.status for c in rig.station.connectors.values()] == ["Unavailable"] * 3
    assert rig.station.pending_availability == {}


def test_change_availability_of_a_missing_connector_is_rejected() -> None:
    rig = make_rig()
    assert rig.call("ChangeAvailability", {"connectorId": 5, "type": "Inoperative"}) == {
        "status": "Rejected"
    }
    assert rig.station.next_item() is None


# --- UnlockConnector (§5.18) -----------------------------------------------------------------


def test_unlock_connector_stops_a_running_transaction() -> None:
    rig = make_rig()
    transaction_id = rig.charging(1, authorize=False)
    assert rig.call("UnlockConnector", {"connectorId": 1}) == {"status": "Unlocked"}
    stop = rig.csms.exchange("StopTransaction")
    assert (stop["transactionId"], stop["reason"]) == (transaction_id, "UnlockCommand")
    assert statuses(rig.csms.drain()) == [(1, "Finishing")]


def test_unlock_connector_without_a_transaction() -> None:
    rig = make_rig()
    assert rig.call("UnlockConnector", {"connectorId": 2}) == {"status": "Unlocked"}
    assert rig.station.next_item() is None


@pytest.mark.parametrize("connector_id", [3, 0])
def test_unlock_of_an_unknown_connector_is_not_supported(connector_id: int) -> None:
    rig = make_rig()
    assert rig.call("UnlockConnector", {"connectorId": connector_id}) == {"status": "NotSupported"}


# --- TriggerMessage (§5.17) ------------------------------------------------------------------


def test_trigger_heartbeat() -> None:
    rig = make_rig()
    assert rig.call("TriggerMessage", {"requestedMessage": "Heartbeat"}) == ACCEPTED
    assert rig.csms.exchange("Heartbeat") == {}
    assert rig.station.next_item() is None


def test_trigger_status_notification_for_one_connector() -> None:
    rig = make_rig()
    rig.station.plug_in(2)
    rig.csms.drain()
    rig.run_until(7)
    response = rig.call(
        "TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 2}
    )
    assert response == ACCEPTED
    assert [m.payload for m in rig.csms.drain()] == [
        {"connectorId": 2, "errorCode": "NoError", "status": "Preparing", "timestamp": ts(7)}
    ]


def test_trigger_status_notification_for_connector_zero_only() -> None:
    rig = make_rig()
    response = rig.call(
        "TriggerMessage", {"requestedMessage": "StatusNotification", "connectorId": 0}
    )
    assert response == ACCEPTED
    assert statuses(rig.csms.drain()) == [(0, "Available")]


def test_trigger_status_notification_for_all_connectors() -> None:
    rig = make_rig()
    rig.station.plug_in(1)
    rig.csms.drain()
    assert rig.call("TriggerMessage", {"requestedMessage": "StatusNotification"}) == ACCEPTED
    assert statuses(rig.csms.drain()) == [(0, "Available"), (1, "Preparing"), (2, "Available")]


def test_trigger_meter_values_has_context_trigger() -> None:
    rig = make_rig({"MeterValuesSampledData": "Energy.Active.Import.Register,Power.Active.Import"})
    transaction_id = rig.charging(1, authorize=False)
    rig.station.set_power(1, 7_200)
    rig.run_until(30)
    response = rig.call("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1})
    assert response == ACCEPTED
    payload = rig.csms.exchange("MeterValues")
    assert payload["connectorId"] == 1
    assert payload["transactionId"] == transaction_id
    [value] = payload["meterValue"]
    assert value["timestamp"] == ts(30)
    assert [(v["measurand"], v["value"], v["context"]) for v in value["sampledValue"]] == [
        ("Energy.Active.Import.Register", "60", "Trigger"),
        ("Power.Active.Import", "7200.0", "Trigger"),
    ]
    assert rig.station.next_item() is None


def test_trigger_meter_values_without_connector_covers_every_connector() -> None:
    rig = make_rig()
    rig.call("TriggerMessage", {"requestedMessage": "MeterValues"})
    taken = rig.csms.drain()
    assert [(m.action, m.payload["connectorId"], "transactionId" in m.payload) for m in taken] == [
        ("MeterValues", 1, False),
        ("MeterValues", 2, False),
    ]
    assert {v["context"] for m in taken for v in m.payload["meterValue"][0]["sampledValue"]} == {
        "Trigger"
    }


def test_trigger_meter_values_without_connector_gives_each_running_transaction() -> None:
    rig = make_rig()
    transaction_id = rig.charging(2, authorize=False)
    rig.run_until(5)
    assert rig.call("TriggerMessage", {"requestedMessage": "MeterValues"}) == ACCEPTED
    taken = rig.csms.drain()
    assert [
        (m.action, m.payload["connectorId"], m.payload.get("transactionId")) for m in taken
    ] == [
        ("MeterValues", 1, None),
        ("MeterValues", 2, transaction_id),
    ]


def test_trigger_meter_values_for_connector_zero_is_the_main_meter() -> None:
    rig = make_rig(
        {"MeterValuesSampledData": "Voltage,Power.Active.Import,SoC,Energy.Active.Import.Register"}
    )
    rig.charging(1, authorize=False)
    rig.charging(2, "TAG-002", authorize=False)
    rig.station.set_power(1, 11_000)
    rig.station.set_power(2, 7_400)
    rig.run_until(30)  # before the first periodic sample
    response = rig.call("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 0})
    assert response == ACCEPTED
    # 11 kW and 7.4 kW for 30 s: 91.67 Wh + 61.67 Wh = 153.33 Wh, summed before rounding.
    assert [(m.action, m.payload) for m in rig.csms.drain()] == [
        (
            "MeterValues",
            {
                "connectorId": 0,
                "meterValue": [
                    {
                        "timestamp": ts(30),
                        "sampledValue": [
                            {
                                "value": "18400.0",
                                "context": "Trigger",
                                "format": "Raw",
                                "measurand": "Power.Active.Import",
                                "location": "Inlet",
                                "unit": "W",
                            },
                            {
                                "value": "153",
                                "context": "Trigger",
                                "format": "Raw",
                                "measurand": "Energy.Active.Import.Register",
                                "location": "Inlet",
                                "unit": "Wh",
                            },
                        ],
                    }
                ],
            },
        )
    ]
    assert rig.station.next_item() is None


def test_main_meter_sums_each_meter_from_its_own_register() -> None:
    rig = station_rig.make_rig(register_wh=1_000.4, boot=True)
    response = rig.call("TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 0})
    assert response == ACCEPTED
    [message] = rig.csms.drain()
    assert message.payload["connectorId"] == 0
    assert "transactionId" not in message.payload
    # Two meters of 1000.4 Wh: 2000.8 Wh rounds to 2001, not to 1000 + 1000.
    assert message.payload["meterValue"][0]["sampledValue"] == [
        {
            "value": "2001",
            "context": "Trigger",
            "format": "Raw",
            "measurand": "Energy.Active.Import.Register",
            "location": "Inlet",
            "unit": "Wh",
        }
    ]


@pytest.mark.parametrize("requested", ["MeterValues", "StatusNotification"])
def test_trigger_for_connector_zero_sends_one_message(requested: str) -> None:
    rig = make_rig()
    rig.charging(1, authorize=False)
    response = rig.call("TriggerMessage", {"requestedMessage": requested, "connectorId": 0})
    assert response == ACCEPTED
    assert [(m.action, m.payload["connectorId"]) for m in rig.csms.drain()] == [(requested, 0)]


def test_trigger_boot_notification() -> None:
    rig = make_rig()
    assert rig.call("TriggerMessage", {"requestedMessage": "BootNotification"}) == ACCEPTED
    assert rig.csms.expect("BootNotification").payload == {
        "chargePointVendor": "Acme",
        "chargePointModel": "AC22",
        "chargePointSerialNumber": "SN-0001",
        "firmwareVersion": "1.4.2",
    }


FIRMWARE_NOTIFICATIONS = ["DiagnosticsStatusNotification", "FirmwareStatusNotification"]


@pytest.mark.parametrize("requested", FIRMWARE_NOTIFICATIONS)
def test_trigger_of_a_firmware_management_notification_sends_it_idle(requested: str) -> None:
    # §4.4 / §4.5: Idle is what a charge point that is not uploading diagnostics (not
    # updating firmware) sends when a TriggerMessage asks; this one never does either.
    rig = make_rig()
    assert rig.call("TriggerMessage", {"requestedMessage": requested}) == ACCEPTED
    assert [(m.action, m.payload) for m in rig.csms.drain()] == [(requested, {"status": "Idle"})]
    assert rig.station.next_item() is None


@pytest.mark.parametrize("requested", FIRMWARE_NOTIFICATIONS)
def test_trigger_of_a_firmware_management_notification_ignores_a_known_connector(
    requested: str,
) -> None:
    rig = make_rig()
    trigger = {"requestedMessage": requested, "connectorId": 2}
    assert rig.call("TriggerMessage", trigger) == ACCEPTED
    assert [(m.action, m.payload) for m in rig.csms.drain()] == [(requested, {"status": "Idle"})]
    unknown = {"requestedMessage": requested, "connectorId": 7}
    assert rig.call("TriggerMessage", unknown) == {"status": "Rejected"}
    assert rig.station.next_item() is None


@pytest.mark.parametrize("requested", FIRMWARE_NOTIFICATIONS)
def test_trigger_of_a_firmware_management_notification_while_pending_is_sent(
    requested: str,
) -> None:
    rig = make_rig(boot=False)
    rig.station.on_connected()
    rig.csms.exchange(
        "BootNotification", {"status": "Pending", "currentTime": ts(0), "interval": 60}
    )
    assert rig.call("TriggerMessage", {"requestedMessage": requested}) == ACCEPTED
    assert rig.csms.expect(requested).payload == {"status": "Idle"}


def test_only_the_firmware_management_notifications_are_sent_idle() -> None:
    rig = make_rig()
    with pytest.raises(UsageError, match="Heartbeat is not a Firmware Management"):
        rig.station.firmware_management_idle("Heartbeat")
    assert rig.station.next_item() is None


def test_firmware_management_stays_unsupported_while_its_notifications_are_sent() -> None:
    rig = make_rig()
    for action, payload in [
        ("UpdateFirmware", {"location": "ftp://x", "retrieveDate": ts(0)}),
        ("GetDiagnostics", {"location": "ftp://x"}),
    ]:
        with pytest.raises(NotSupportedAction):
            handle(rig.station, action, payload)
    profiles = rig.station.configuration.get_list("SupportedFeatureProfiles")
    assert "FirmwareManagement" not in profiles and "RemoteTrigger" in profiles
    assert rig.station.next_item() is None


@pytest.mark.parametrize(
    "requested",
    [
        "BootNotification",
        "DiagnosticsStatusNotification",
        "FirmwareStatusNotification",
        "Heartbeat",
        "MeterValues",
        "StatusNotification",
    ],
)
def test_every_triggered_message_is_one_the_charge_point_sends(requested: str) -> None:
    """Every requestedMessage of the schema is Accepted, and what it makes the station send
    is in the model of what it sends, which the embedded mock CSMS answers."""
    rig = make_rig()
    assert rig.call("TriggerMessage", {"requestedMessage": requested}) == ACCEPTED
    taken = rig.csms.drain()
    assert taken and taken[0].action == requested  # a boot is followed by status reports
    assert {m.action for m in taken} <= CHARGE_POINT_SENDS
    assert CHARGE_POINT_SENDS <= CENTRAL_SYSTEM_HANDLES


def test_the_model_of_what_the_charge_point_sends() -> None:
    assert {"DiagnosticsStatusNotification", "FirmwareStatusNotification", "DataTransfer"} <= (
        CHARGE_POINT_SENDS
    )
    # Not the security whitepaper's requests (the mock CSMS does not answer them either),
    # and none a CSMS sends.
    assert not CHARGE_POINT_SENDS & {"SecurityEventNotification", "SignCertificate"}
    assert not CHARGE_POINT_SENDS & {"UpdateFirmware", "GetDiagnostics", "Reset"}
    # The Firmware Management actions remain unsupported: out of coverage's scope, and
    # out of SupportedFeatureProfiles.
    assert not ACTIONS["DiagnosticsStatusNotification"].supported
    assert not ACTIONS["DataTransfer"].supported


@pytest.mark.parametrize("requested", ["StatusNotification", "MeterValues"])
def test_trigger_for_a_missing_connector_is_rejected(requested: str) -> None:
    rig = make_rig()
    response = rig.call("TriggerMessage", {"requestedMessage": requested, "connectorId": 7})
    assert response == {"status": "Rejected"}
    assert rig.station.next_item() is None


def test_trigger_while_pending_is_sent() -> None:
    rig = make_rig(boot=False)
    rig.station.on_connected()
    rig.csms.exchange(
        "BootNotification", {"status": "Pending", "currentTime": ts(0), "interval": 60}
    )
    assert rig.call("TriggerMessage", {"requestedMessage": "Heartbeat"}) == ACCEPTED
    assert rig.csms.expect("Heartbeat").payload == {}


# --- actions without a handler ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        (
            "SetChargingProfile",
            {
                "connectorId": 1,
                "csChargingProfiles": {
                    "chargingProfileId": 1,
                    "stackLevel": 0,
                    "chargingProfilePurpose": "TxDefaultProfile",
                    "chargingProfileKind": "Absolute",
                    "chargingSchedule": {
                        "chargingRateUnit": "W",
                        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000}],
                    },
                },
            },
        ),
        ("GetDiagnostics", {"location": "ftp://example.com/diag"}),
    ],
)
def test_action_without_handler_raises_not_supported(action: str, payload: dict[str, Any]) -> None:
    rig = make_rig()
    assert oca_errors(action, payload) == []
    assert action not in HANDLERS
    with pytest.raises(NotSupportedAction) as raised:
        handle(rig.station, action, payload)
    assert raised.value.code == "NotSupported"
    assert rig.station.next_item() is None


# --- DataTransfer (§5.6) ---------------------------------------------------------------------


def test_data_transfer_is_answered_unknown_vendor_id() -> None:
    rig = make_rig()
    payload = {"vendorId": "Acme", "messageId": "ping", "data": "{}"}
    assert "DataTransfer" in HANDLERS
    assert rig.call("DataTransfer", payload) == {"status": "UnknownVendorId"}
    assert handle(rig.station, "DataTransfer", {"vendorId": "Other"}) == {
        "status": "UnknownVendorId"
    }
    assert rig.station.next_item() is None


def test_a_remote_start_that_lapsed_while_authorizing_leaves_no_trace() -> None:
    # ConnectionTimeOut (§9.1.7) ran out while the Authorize of a remote start was unanswered:
    # once the connector is free, a later remote start and cable start as any other (§5.11).
    rig = make_rig({"AuthorizeRemoteTxRequests": True, "ConnectionTimeOut": 30})
    assert rig.call("RemoteStartTransaction", {"idTag": "TAG-R", "connectorId": 1}) == ACCEPTED
    authorize = rig.csms.expect("Authorize")
    rig.run_until(30)
    rig.csms.answer(authorize)
    rig.csms.drain()
    assert rig.station.connectors[1].status == "Available"
    assert not rig.station.remote_starts.is_authorizing(1)
    change = {"key": "AuthorizeRemoteTxRequests", "value": "false"}
    assert rig.call("ChangeConfiguration", change) == ACCEPTED
    assert rig.call("RemoteStartTransaction", {"idTag": "TAG-S", "connectorId": 1}) == ACCEPTED
    assert statuses(rig.csms.drain()) == [(1, "Preparing")]
    rig.station.plug_in(1)
    assert rig.csms.exchange("StartTransaction")["idTag"] == "TAG-S"

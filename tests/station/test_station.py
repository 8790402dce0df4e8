"""The charge point model driven directly, sans I/O: boot, heartbeats, sessions, explicit
sends. The Central System is played by ``station_rig``."""

from __future__ import annotations

from typing import Any

import pytest
from station_rig import (
    ACCEPTED,
    BOOT_PAYLOAD,
    ENERGY,
    T0,
    Rig,
    make_rig,
    sampled,
    ts,
)

from mockpoint.errors import Refused, UsageError
from mockpoint.station.connector import InvalidTransition
from mockpoint.station.handlers import handle
from mockpoint.station.station import DEFAULT_BOOT_RETRY, Identity, Message


def statuses(messages: list[Message]) -> list[tuple[int, str]]:
    assert all(m.action == "StatusNotification" for m in messages), [m.action for m in messages]
    return [(m.payload["connectorId"], m.payload["status"]) for m in messages]


# --- booting ---------------------------------------------------------------------------------


def test_on_connected_queues_one_boot_notification_from_the_identity() -> None:
    rig = make_rig()
    rig.station.on_connected()
    rig.station.on_connected()  # a second call must not queue a second boot
    assert rig.csms.expect("BootNotification").payload == BOOT_PAYLOAD
    assert rig.station.next_item() is None
    assert not rig.station.has_pending()


def test_boot_leaves_out_serial_and_firmware_when_not_configured() -> None:
    rig = make_rig(identity=Identity("CP-002", vendor="Acme", model="AC11"))
    rig.station.on_connected()
    payload = rig.csms.expect("BootNotification").payload
    assert payload == {"chargePointVendor": "Acme", "chargePointModel": "AC11"}


def test_on_connected_without_auto_boot_queues_nothing() -> None:
    rig = make_rig()
    rig.station.on_connected(auto_boot=False)
    assert rig.station.connected
    assert rig.station.next_item() is None


def test_nothing_but_the_boot_goes_out_until_it_is_accepted() -> None:
    rig = make_rig()
    rig.station.on_connected()
    rig.station.plug_in(1)
    rig.station.authorize("TAG-001")
    boot = rig.csms.expect("BootNotification")
    assert rig.station.next_item() is None
    assert rig.station.has_pending() and not rig.station.has_sendable()

    rig.csms.answer(boot, {"status": "Pending", "currentTime": ts(0), "interval": 30})
    assert rig.station.next_item() is None
    assert rig.run_until(29) == []
    seen = rig.run_until(30)  # the retry; the default answer accepts it
    # §4.2: the boot's report of every connector comes first and replaces the plug_in's
    # stale Preparing; what waited (the Authorize) follows it.
    assert [(when, m.action) for when, m in seen] == [
        (30, "BootNotification"),
        (30, "StatusNotification"),
        (30, "StatusNotification"),
        (30, "StatusNotification"),
        (30, "Authorize"),
    ]
    assert statuses([m for _, m in seen[1:4]]) == [
        (0, "Available"),
        (1, "Preparing"),
        (2, "Available"),
    ]


def test_accepted_boot_reports_every_connector_in_order_and_releases_the_queue() -> None:
    rig = make_rig()
    rig.station.on_connected()
    rig.station.authorize("TAG-001")
    rig.csms.exchange(
        "BootNotification", {"status": "Accepted", "currentTime": ts(0), "interval": 120}
    )
    taken = rig.csms.drain()
    assert [m.action for m in taken] == ["StatusNotification"] * 3 + ["Authorize"]
    assert [m.payload for m in taken[:3]] == [
        {"connectorId": n, "errorCode": "NoError", "status": "Available", "timestamp": ts(0)}
        for n in (0, 1, 2)
    ]
    assert rig.station.accepted
    assert rig.station.configuration.get("HeartbeatInterval") == "120"
    assert rig.station.next_timer() == T0 + 120


@pytest.mark.parametrize("status", ["Pending", "Rejected"])
def test_pending_or_rejected_boot_is_retried_after_the_interval(status: str) -> None:
    rig = make_rig()
    rig.station.on_connected()
    rig.csms.exchange("BootNotification", {"status": status, "currentTime": ts(0), "interval": 45})
    assert rig.station.registration == status
    assert not rig.station.accepted
    assert rig.station.next_timer() == T0 + 45
    # Nothing else is due: no heartbeat, no status report before acceptance.
    rig.station.plug_in(1)
    assert rig.station.next_item() is None

    rig.clock.advance_to(T0 + 45)
    rig.station.on_timer(T0 + 45)
    assert rig.csms.expect("BootNotification").payload == BOOT_PAYLOAD
    assert rig.station.next_item() is None
    assert rig.station.next_timer() is None  # no second retry before this one is answered


@pytest.mark.parametrize("status", ["Pending", "Rejected"])
def test_boot_retry_with_interval_zero_uses_the_default(status: str) -> None:
    rig = make_rig()
    rig.station.on_connected()
    rig.csms.exchange("BootNotification", {"status": status, "currentTime": ts(0), "interval": 0})
    assert rig.station.next_timer() == T0 + DEFAULT_BOOT_RETRY
    assert rig.run_until(DEFAULT_BOOT_RETRY - 1) == []
    assert [m.action for _, m in rig.run_until(DEFAULT_BOOT_RETRY)][:1] == ["BootNotification"]


def test_rejected_then_accepted_boot() -> None:
    rig = make_rig()
    rig.station.on_connected()
    rig.csms.exchange(
        "BootNotification", {"status": "Rejected", "currentTime": ts(0), "interval": 10}
    )
    seen = rig.run_until(10)  # the retry is answered Accepted (interval 300) by default
    assert [(when, m.action) for when, m in seen] == [(10, "BootNotification")] + [
        (10, "StatusNotification")
    ] * 3
    assert rig.station.accepted
    assert rig.station.boot_count == 2
    assert rig.station.next_timer() == T0 + 10 + 300


def test_reconnecting_after_a_lost_connection_does_not_boot_again() -> None:
    rig = make_rig()
    rig.boot()
    rig.station.on_disconnected()
    assert not rig.station.connected
    rig.station.on_connected()
    assert rig.station.next_item() is None
    assert rig.station.next_timer() == T0 + 300


def test_accepted_boot_with_an_out_of_range_interval_still_completes() -> None:
    rig = make_rig()
    rig.station.on_connected()
    answer = {"status": "Accepted", "currentTime": ts(0), "interval": 2**31}
    rig.csms.exchange("BootNotification", answer)  # must not raise
    assert statuses(rig.csms.drain()) == [(0, "Available"), (1, "Available"), (2, "Available")]
    assert rig.station.next_timer() is not None


# --- heartbeats ------------------------------------------------------------------------------


def test_heartbeats_repeat_every_heartbeat_interval() -> None:
    rig = make_rig()
    rig.boot(interval=300)
    seen = rig.run_until(1000)
    assert [(when, m.action, m.payload) for when, m in seen] == [
        (300, "Heartbeat", {}),
        (600, "Heartbeat", {}),
        (900, "Heartbeat", {}),
    ]
    assert rig.station.next_timer() == T0 + 1200


def test_changing_heartbeat_interval_reschedules_from_now() -> None:
    rig = make_rig()
    rig.boot(interval=300)
    assert rig.run_until(100) == []
    response = handle(
        rig.station, "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"}
    )
    assert response == {"status": "Accepted"}
    assert rig.station.next_timer() == T0 + 160
    seen = rig.run_until(300)
    assert [(when, m.action) for when, m in seen] == [
        (160, "Heartbeat"),
        (220, "Heartbeat"),
        (280, "Heartbeat"),
    ]


def test_heartbeat_interval_zero_stops_heartbeats() -> None:
    rig = make_rig()
    rig.boot(interval=300)
    handle(rig.station, "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "0"})
    assert rig.station.next_timer() is None
    assert rig.run_until(3600) == []


# --- a typical session ------------------------------------------------------------------------


def test_typical_session_end_to_end() -> None:
    rig = make_rig(
        {"MeterValuesSampledData": f"{ENERGY},Power.Active.Import", "MeterValueSampleInterval": 60},
        register_wh=1000.0,
    )
    station, csms = rig.station, rig.csms
    rig.boot(interval=300)

    station.plug_in(1)
    assert csms.exchange("StatusNotification") == {
        "connectorId": 1,
        "errorCode": "NoError",
        "status": "Preparing",
        "timestamp": ts(0),
    }

    station.authorize("TAG-001")
    info = {"status": "Accepted", "expiryDate": "2025-06-02T08:00:00Z", "parentIdTag": "FLEET"}
    assert csms.exchange("Authorize", {"idTagInfo": info}) == {"idTag": "TAG-001"}
    assert station.cache.lookup("TAG-001") == info
    assert station.last_authorized == "TAG-001"
    assert station.next_item() is None

    rig.run_until(10)
    station.start_transaction(1)  # the id tag defaults to the last authorized one
    start = csms.expect("StartTransaction")
    assert start.payload == {
        "connectorId": 1,
        "idTag": "TAG-001",
        "meterStart": 1000,
        "timestamp": ts(10),
    }
    assert station.next_item() is None  # Charging only once the Central System answered
    csms.answer(start, {"transactionId": 42, "idTagInfo": ACCEPTED})
    assert csms.exchange("StatusNotification")["status"] == "Charging"
    assert station.transactions[1].transaction_id == 42
    assert station.connectors[1].status == "Charging"

    station.set_power(1, 11_000)
    seen = rig.run_until(150)
    assert [(when, m.payload) for when, m in seen] == [
        (
            70,
            {
                "connectorId": 1,
                "transactionId": 42,
                "meterValue": [
                    {
                        "timestamp": ts(70),
                        "sampledValue": [
                            sampled("1183", "Sample.Periodic"),  # 11 kW x 60 s = 183.3 Wh
                            sampled("11000.0", "Sample.Periodic", "Power.Active.Import", "W"),
                        ],
                    }
                ],
            },
        ),
        (
            130,
            {
                "connectorId": 1,
                "transactionId": 42,
                "meterValue": [
                    {
                        "timestamp": ts(130),
                        "sampledValue": [
                            sampled("1367", "Sample.Periodic"),  # 366.7 Wh
                            sampled("11000.0", "Sample.Periodic", "Power.Active.Import", "W"),
                        ],
                    }
                ],
            },
        ),
    ]
    assert all(m.action == "MeterValues" for _, m in seen)

    station.stop_transaction(1, "Local")
    assert csms.exchange("StopTransaction") == {
        "idTag": "TAG-001",
        "meterStop": 1428,  # 1000 + 11 kW x 140 s = 1427.8
        "timestamp": ts(150),
        "transactionId": 42,
        "reason": "Local",
        "transactionData": [
            {"timestamp": ts(10), "sampledValue": [sampled("1000", "Transaction.Begin")]},
            {"timestamp": ts(150), "sampledValue": [sampled("1428", "Transaction.End")]},
        ],
    }
    assert csms.exchange("StatusNotification")["status"] == "Finishing"
    assert station.transactions == {}
    # No more sampling: the next timer is the heartbeat.
    assert station.next_timer() == T0 + 300
    assert station.meters[1].power_w(T0 + 150) == 0

    station.unplug(1)
    assert csms.exchange("StatusNotification") == {
        "connectorId": 1,
        "errorCode": "NoError",
        "status": "Available",
        "timestamp": ts(150),
    }
    assert station.next_item() is None
    seen = rig.run_until(300)
    assert [(when, m.action) for when, m in seen] == [(300, "Heartbeat")]


def test_stop_without_stop_txn_sampled_data_has_no_transaction_data() -> None:
    rig = make_rig({"StopTxnSampledData": ""})
    rig.boot()
    transaction_id = rig.charging()
    rig.station.set_power(1, 7_400)
    rig.run_until(30)
    rig.station.stop_transaction(1, "EmergencyStop")
    payload = rig.csms.exchange("StopTransaction")
    assert payload == {
        "idTag": "TAG-001",
        "meterStop": 62,  # 7.4 kW x 30 s = 61.7 Wh
        "timestamp": ts(30),
        "transactionId": transaction_id,
        "reason": "EmergencyStop",
    }


def test_stop_txn_sampled_data_measurands_are_the_configured_ones() -> None:
    rig = make_rig({"StopTxnSampledData": f"{ENERGY},Power.Active.Import"})
    rig.boot()
    rig.charging()
    rig.station.set_power(1, 3_600)
    rig.run_until(59)
    rig.station.stop_transaction(1)
    data = rig.csms.exchange("StopTransaction")["transactionData"]
    assert [
        [(v["measurand"], v["value"], v["context"]) for v in d["sampledValue"]] for d in data
    ] == [
        [(ENERGY, "0", "Transaction.Begin"), ("Power.Active.Import", "0.0", "Transaction.Begin")],
        # The End sample is taken as the transaction stops: the power drawn until then.
        [(ENERGY, "59", "Transaction.End"), ("Power.Active.Import", "3600.0", "Transaction.End")],
    ]


def test_meter_value_sample_interval_zero_means_no_sampled_meter_values() -> None:
    rig = make_rig({"MeterValueSampleInterval": 0})
    rig.boot()
    rig.charging()
    seen = rig.run_until(900)
    assert [(when, m.action) for when, m in seen] == [
        (300, "Heartbeat"),
        (600, "Heartbeat"),
        (900, "Heartbeat"),
    ]


def test_two_connectors_are_sampled_independently() -> None:
    rig = make_rig({"MeterValueSampleInterval": 100})
    rig.boot()
    first = rig.charging(1, "TAG-A")
    rig.run_until(50)
    second = rig.charging(2, "TAG-B")
    rig.station.set_power(1, 3_600)
    rig.station.set_power(2, 7_200)
    seen = rig.run_until(200)
    got = [
        (
            when,
            m.payload["connectorId"],
            m.payload["transactionId"],
            m.payload["meterValue"][0]["sampledValue"][0]["value"],
        )
        for when, m in seen
        if m.action == "MeterValues"
    ]
    assert (first, second) == (1, 2)
    assert got == [(100, 1, 1, "50"), (150, 2, 2, "200"), (200, 1, 1, "150")]


def test_stop_before_the_start_answer_leaves_the_connector_finishing() -> None:
    rig = make_rig()
    rig.boot()
    rig.station.plug_in(1)
    rig.csms.drain()
    rig.station.start_transaction(1, "TAG-001")
    start = rig.csms.expect("StartTransaction")
    rig.station.stop_transaction(1, "Local")
    rig.csms.answer(start, {"transactionId": 777, "idTagInfo": ACCEPTED})
    rig.csms.exchange("StopTransaction")
    assert statuses(rig.csms.drain()) == [(1, "Finishing")]
    assert rig.station.connectors[1].status == "Finishing"


def test_stop_queued_before_the_start_answer_gets_the_assigned_transaction_id() -> None:
    rig = make_rig()
    rig.boot()
    rig.station.plug_in(1)
    rig.csms.drain()
    rig.station.start_transaction(1, "TAG-001")
    start = rig.csms.expect("StartTransaction")
    stop = rig.station.stop_transaction(1, "Local")
    assert stop.payload["transactionId"] is None  # not known yet
    rig.csms.answer(start, {"transactionId": 777, "idTagInfo": ACCEPTED})
    payload = rig.csms.exchange("StopTransaction")
    assert payload["transactionId"] == 777
    assert payload["reason"] == "Local"
    assert rig.station.undeliverable == []
    assert rig.station.transactions == {}
    # Stopped before it ever charged: no Charging report, no sampling.
    assert all(m.payload.get("status") != "Charging" for m in rig.csms.drain())
    assert rig.station.next_timer() == T0 + 300


def test_start_rejected_with_stop_on_invalid_id_stops_with_deauthorized() -> None:
    rig = make_rig({"StopTransactionOnInvalidId": True})
    rig.boot()
    rig.station.plug_in(1)
    rig.csms.drain()
    rig.run_until(5)
    rig.station.start_transaction(1, "TAG-BAD")
    rig.csms.exchange("StartTransaction", {"transactionId": 9, "idTagInfo": {"status": "Invalid"}})
    assert rig.station.cache.lookup("TAG-BAD") == {"status": "Invalid"}
    stop = rig.csms.exchange("StopTransaction")
    assert {k: stop[k] for k in ("transactionId", "reason", "idTag", "meterStop")} == {
        "transactionId": 9,
        "reason": "DeAuthorized",
        "idTag": "TAG-BAD",
        "meterStop": 0,
    }
    assert statuses(rig.csms.drain()) == [(1, "Finishing")]
    assert rig.station.transactions == {}
    assert rig.station.next_timer() == T0 + 300  # no sampling of a stopped transaction


def test_start_rejected_without_stop_on_invalid_id_suspends_the_evse() -> None:
    rig = make_rig({"StopTransactionOnInvalidId": False})
    rig.boot()
    rig.station.plug_in(1)
    rig.csms.drain()
    rig.station.start_transaction(1, "TAG-BAD")
    rig.csms.exchange("StartTransaction", {"transactionId": 9, "idTagInfo": {"status": "Blocked"}})
    assert statuses(rig.csms.drain()) == [(1, "SuspendedEVSE")]
    assert rig.station.transactions[1].transaction_id == 9
    assert rig.station.connectors[1].status == "SuspendedEVSE"


def sequence(messages: list[Message]) -> list[tuple[str, Any]]:
    """(action, status or StopTransaction reason) of each message, in the order sent."""
    return [
        (m.action, m.payload.get("status", m.payload.get("reason", m.payload.get("connectorId"))))
        for m in messages
    ]


def test_unplug_during_transaction_stops_with_ev_disconnected() -> None:
    rig = make_rig(
        {"StopTransactionOnEVSideDisconnect": True, "UnlockConnectorOnEVSideDisconnect": True}
    )
    rig.boot()
    transaction_id = rig.charging()
    rig.station.set_power(1, 11_000)
    rig.run_until(30)  # before the first sample
    rig.station.unplug(1)
    # OCTT TC_005_1: SuspendedEV before the stop, Finishing after it, then Available: the
    # cable, unlocked, leaves the socket.
    assert [(m.action, m.payload) for m in rig.csms.drain()] == [
        (
            "StatusNotification",
            {
                "connectorId": 1,
                "errorCode": "NoError",
                "status": "SuspendedEV",
                "timestamp": ts(30),
            },
        ),
        (
            "StopTransaction",
            {
                "idTag": "TAG-001",
                "meterStop": 92,  # 11 kW x 30 s = 91.7 Wh
                "timestamp": ts(30),
                "transactionId": transaction_id,
                "reason": "EVDisconnected",
                "transactionData": [
                    {"timestamp": ts(0), "sampledValue": [sampled("0", "Transaction.Begin")]},
                    {"timestamp": ts(30), "sampledValue": [sampled("92", "Transaction.End")]},
                ],
            },
        ),
        (
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Finishing", "timestamp": ts(30)},
        ),
        (
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": ts(30)},
        ),
    ]
    assert rig.station.transactions == {}
    assert not rig.station.connectors[1].plugged
    assert rig.station.meters[1].power_w(T0 + 30) == 0
    assert rig.station.next_timer() == T0 + 300  # no more sampling: the heartbeat is next


def test_unplug_during_transaction_with_the_cable_locked_stays_finishing() -> None:
    rig = make_rig(
        {"StopTransactionOnEVSideDisconnect": True, "UnlockConnectorOnEVSideDisconnect": False}
    )
    rig.boot()
    transaction_id = rig.charging()
    rig.station.unplug(1)
    assert sequence(rig.csms.drain()) == [
        ("StatusNotification", "SuspendedEV"),
        ("StopTransaction", "EVDisconnected"),
        ("StatusNotification", "Finishing"),
    ]
    connector = rig.station.connectors[1]
    # The cable is out of the EV but locked in the socket until the user pulls it out.
    assert (connector.status, connector.plugged) == ("Finishing", True)
    assert rig.station.transactions == {}
    assert rig.csms.log[-2][1]["transactionId"] == transaction_id
    rig.station.unplug(1)
    assert sequence(rig.csms.drain()) == [("StatusNotification", "Available")]
    assert not rig.station.connectors[1].plugged


def test_unplug_in_suspended_evse_keeps_that_status_until_the_stop() -> None:
    rig = make_rig({"StopTransactionOnInvalidId": False})
    rig.boot()
    rig.station.plug_in(1)
    rig.csms.drain()
    rig.station.start_transaction(1, "TAG-BAD")
    rig.csms.exchange("StartTransaction", {"transactionId": 9, "idTagInfo": {"status": "Blocked"}})
    assert sequence(rig.csms.drain()) == [("StatusNotification", "SuspendedEVSE")]
    rig.station.unplug(1)
    # The EVSE suspension outranks the EV's: no SuspendedEV to report before the stop.
    assert sequence(rig.csms.drain()) == [
        ("StopTransaction", "EVDisconnected"),
        ("StatusNotification", "Finishing"),
        ("StatusNotification", "Available"),
    ]


def test_unplug_before_the_start_answer_stops_without_a_charging_status() -> None:
    rig = make_rig()
    rig.boot()
    rig.station.plug_in(1)
    rig.station.authorize("TAG-001")
    rig.csms.drain()
    start = rig.station.start_transaction(1, "TAG-001")
    rig.station.unplug(1)
    assert sequence(rig.csms.drain()) == [
        ("StartTransaction", 1),
        ("StopTransaction", "EVDisconnected"),
        ("StatusNotification", "Finishing"),
        ("StatusNotification", "Available"),
    ]
    assert start.response is not None
    assert rig.csms.log[-3][1]["transactionId"] == start.response["transactionId"]
    assert rig.station.connectors[1].status == "Available"


def test_unplug_of_a_faulted_connector_stops_behind_the_fault() -> None:
    rig = make_rig()
    rig.boot()
    rig.charging()
    rig.station.fault(1, "GroundFailure")
    assert sequence(rig.csms.drain()) == [("StatusNotification", "Faulted")]
    rig.station.unplug(1)
    assert sequence(rig.csms.drain()) == [("StopTransaction", "EVDisconnected")]
    rig.station.clear_fault(1)
    assert sequence(rig.csms.drain()) == [("StatusNotification", "Available")]  # I1


def test_unplug_with_a_scheduled_inoperative_ends_unavailable() -> None:
    rig = make_rig()
    rig.boot()
    rig.charging()
    assert rig.call("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}) == {
        "status": "Scheduled"
    }
    rig.station.unplug(1)
    # The change waited for the transaction's end (§5.2), which comes instead of Finishing.
    assert sequence(rig.csms.drain()) == [
        ("StatusNotification", "SuspendedEV"),
        ("StopTransaction", "EVDisconnected"),
        ("StatusNotification", "Unavailable"),
    ]
    assert not rig.station.connectors[1].plugged


def test_unplug_during_transaction_without_stop_on_disconnect_suspends() -> None:
    rig = make_rig({"StopTransactionOnEVSideDisconnect": False})
    rig.boot()
    transaction_id = rig.charging()
    rig.station.unplug(1)
    assert statuses(rig.csms.drain()) == [(1, "SuspendedEV")]
    assert rig.station.transactions[1].transaction_id == transaction_id
    assert not rig.station.transactions[1].stopping


def test_unplug_twice_without_stop_on_disconnect_is_refused() -> None:
    rig = make_rig({"StopTransactionOnEVSideDisconnect": False})
    rig.boot()
    rig.charging()
    rig.station.unplug(1)
    rig.csms.drain()
    with pytest.raises(InvalidTransition, match="SuspendedEV"):
        rig.station.unplug(1)
    # Switching the key on later does not stop it either: there is no cable to pull out.
    rig.call("ChangeConfiguration", {"key": "StopTransactionOnEVSideDisconnect", "value": "true"})
    with pytest.raises(InvalidTransition):
        rig.station.unplug(1)
    assert 1 in rig.station.transactions
    assert rig.station.next_item() is None


def test_replugging_after_unplug_without_stop_on_disconnect_resumes_charging() -> None:
    rig = make_rig({"StopTransactionOnEVSideDisconnect": False})
    rig.boot()
    transaction_id = rig.charging()
    rig.station.unplug(1)
    assert statuses(rig.csms.drain()) == [(1, "SuspendedEV")]
    rig.station.plug_in(1)
    assert statuses(rig.csms.drain()) == [(1, "Charging")]
    assert rig.station.transactions[1].transaction_id == transaction_id


def test_unplugged_ev_draws_no_energy() -> None:
    rig = make_rig({"StopTransactionOnEVSideDisconnect": False})
    rig.boot()
    rig.charging()
    rig.station.set_power(1, 11_000)
    rig.run_until(30)
    rig.station.unplug(1)
    rig.csms.drain()
    [(when, sample)] = rig.run_until(60)
    assert when == 60
    assert sample.payload["meterValue"][0]["sampledValue"][0]["value"] == "92"  # as at 30 s


def test_start_transaction_without_any_id_tag_is_a_usage_error() -> None:
    rig = make_rig()
    rig.boot()
    rig.station.plug_in(1)
    with pytest.raises(UsageError):
        rig.station.start_transaction(1)
    # no transaction to stop: sound, but not now (docs/serve.md answers it 409)
    with pytest.raises(Refused):
        rig.station.stop_transaction(1)
    with pytest.raises(UsageError):
        rig.station.plug_in(3)


# --- explicit sends (docs/scenario-format.md, the send step) ----------------------------------


def test_explicit_sends_go_out_before_the_boot_is_accepted() -> None:
    rig = make_rig()
    rig.station.on_connected()
    rig.station.authorize("TAG-001")  # a station message: waits for acceptance
    rig.station.send("Heartbeat", {})
    rig.csms.expect("BootNotification")  # not answered yet
    assert rig.csms.expect("Heartbeat").payload == {}
    assert rig.station.next_item() is None


def test_explicit_boot_notification_is_filled_from_the_identity() -> None:
    rig = make_rig()
    rig.station.send("BootNotification", {"firmwareVersion": "2.0.0"})
    assert rig.csms.expect("BootNotification").payload == {
        **BOOT_PAYLOAD,
        "firmwareVersion": "2.0.0",
    }
    assert not rig.station.has_pending()  # filling the defaults queued nothing else


def test_explicit_boot_answer_is_applied_like_the_station_s_own() -> None:
    rig = make_rig()
    rig.station.send("BootNotification", {})
    rig.csms.exchange(
        "BootNotification", {"status": "Accepted", "currentTime": ts(0), "interval": 90}
    )
    assert statuses(rig.csms.drain()) == [(0, "Available"), (1, "Available"), (2, "Available")]
    assert rig.station.configuration.get_int("HeartbeatInterval") == 90
    assert rig.station.next_timer() == T0 + 90
    rig.station.on_connected()  # already registered: no second boot
    assert rig.station.next_item() is None


def test_explicit_status_notification_defaults() -> None:
    rig = make_rig()
    rig.boot()
    rig.station.plug_in(1)
    rig.csms.drain()
    rig.run_until(5)
    rig.station.send("StatusNotification", {"connectorId": 1})
    assert rig.csms.expect("StatusNotification").payload == {
        "connectorId": 1,
        "errorCode": "NoError",
        "status": "Preparing",  # the connector's own status
        "timestamp": ts(5),
    }
    rig.station.send("StatusNotification", {})
    assert rig.csms.expect("StatusNotification").payload == {
        "connectorId": 0,
        "errorCode": "NoError",
        "status": "Available",
        "timestamp": ts(5),
    }
    given = {"connectorId": 2, "status": "Faulted", "errorCode": "GroundFailure"}
    rig.station.send("StatusNotification", given)
    assert rig.csms.expect("StatusNotification").payload == {**given, "timestamp": ts(5)}


def test_explicit_start_transaction_defaults_and_its_answer_opens_the_transaction() -> None:
    rig = make_rig(register_wh=250.0)
    rig.boot()
    rig.station.plug_in(1)
    rig.station.authorize("TAG-007")
    rig.csms.drain()
    rig.run_until(20)
    rig.station.send("StartTransaction", {})
    start = rig.csms.expect("StartTransaction")
    assert start.payload == {
        "connectorId": 1,
        "idTag": "TAG-007",
        "meterStart": 250,
        "timestamp": ts(20),
    }
    assert rig.station.transactions == {}
    rig.csms.answer(start, {"transactionId": 5, "idTagInfo": ACCEPTED})
    transaction = rig.station.transactions[1]
    assert (transaction.transaction_id, transaction.id_tag, transaction.meter_start) == (
        5,
        "TAG-007",
        250,
    )
    assert statuses(rig.csms.drain()) == [(1, "Charging")]
    # The opened transaction is sampled like any other.
    seen = rig.run_until(80)
    assert [(when, m.action, m.payload["transactionId"]) for when, m in seen] == [
        (80, "MeterValues", 5)
    ]


def test_explicit_stop_transaction_defaults_and_its_answer_closes_the_transaction() -> None:
    rig = make_rig()
    rig.boot()
    transaction_id = rig.charging()
    rig.station.set_power(1, 3_600)
    rig.run_until(50)
    rig.station.send("StopTransaction", {"reason": "Other"})
    stop = rig.csms.expect("StopTransaction")
    assert stop.payload == {
        "meterStop": 50,
        "timestamp": ts(50),
        "transactionId": transaction_id,
        "reason": "Other",
    }
    assert 1 in rig.station.transactions  # closed by the answer, not by sending
    rig.csms.answer(stop, {"idTagInfo": ACCEPTED})
    assert rig.station.transactions == {}
    assert statuses(rig.csms.drain()) == [(1, "Finishing")]
    assert rig.station.next_timer() == T0 + 300  # sampling stopped


def test_explicit_stop_transaction_ends_the_energy_draw() -> None:
    rig = make_rig()
    rig.boot()
    rig.charging()
    rig.station.set_power(1, 3_600)
    rig.run_until(50)
    rig.station.send("StopTransaction", {})
    assert rig.csms.exchange("StopTransaction")["meterStop"] == 50
    rig.run_until(100)
    assert rig.station.meters[1].power_w(T0 + 100) == 0
    assert rig.station.meters[1].meter_wh(T0 + 100) == 50


def test_explicit_meter_values_defaults() -> None:
    rig = make_rig({"MeterValuesSampledData": f"{ENERGY},Current.Import"})
    rig.boot()
    transaction_id = rig.charging(2, "TAG-2")
    rig.station.set_power(2, 6_900)
    rig.run_until(30)
    rig.station.send("MeterValues", {"connectorId": 2})
    payload = rig.csms.expect("MeterValues").payload
    assert payload["connectorId"] == 2
    assert payload["transactionId"] == transaction_id
    [value] = payload["meterValue"]
    assert value["timestamp"] == ts(30)
    assert [(v["measurand"], v["value"], v.get("phase")) for v in value["sampledValue"]] == [
        (ENERGY, "58", None),  # 6.9 kW x 30 s = 57.5 Wh, half to even
        ("Current.Import", "10.0", "L1"),
        ("Current.Import", "10.0", "L2"),
        ("Current.Import", "10.0", "L3"),
    ]
    # Without a connector and without a transaction: connector 1, no transactionId.
    rig.station.send("MeterValues", {})
    payload = rig.csms.expect("MeterValues").payload
    assert payload["connectorId"] == 1
    assert "transactionId" not in payload


def test_explicit_heartbeat_has_an_empty_payload() -> None:
    rig = make_rig()
    rig.boot()
    message = rig.station.send("Heartbeat", {})
    assert rig.csms.expect("Heartbeat") is message
    assert message.payload == {}


# --- determinism -----------------------------------------------------------------------------


def _drive(rig: Rig) -> list[tuple[str, dict[str, Any]]]:
    station = rig.station
    rig.boot(interval=120)
    station.plug_in(1)
    station.authorize("TAG-001")
    rig.csms.drain()
    rig.run_until(15)
    station.start_transaction(1)
    rig.csms.drain()
    station.set_power(1, 11_000)
    rig.run_until(400)
    handle(station, "TriggerMessage", {"requestedMessage": "MeterValues", "connectorId": 1})
    handle(station, "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "45"})
    rig.csms.drain()
    rig.run_until(500)
    station.stop_transaction(1)
    station.unplug(1)
    handle(station, "RemoteStartTransaction", {"idTag": "TAG-R", "connectorId": 2})
    station.plug_in(2)
    rig.csms.drain()
    rig.run_until(700)
    return rig.csms.log


def test_two_stations_driven_alike_send_identical_payloads() -> None:
    overrides: dict[str, object] = {"MeterValuesSampledData": f"{ENERGY},Power.Active.Import,SoC"}
    first = _drive(make_rig(overrides, register_wh=12_345.0))
    second = _drive(make_rig(overrides, register_wh=12_345.0))
    assert first == second
    actions = {action for action, _ in first}
    assert actions == {
        "BootNotification",
        "StatusNotification",
        "Authorize",
        "StartTransaction",
        "MeterValues",
        "Heartbeat",
        "StopTransaction",
    }
    assert len(first) > 20


def test_no_heartbeat_while_offline_but_the_schedule_goes_on() -> None:
    rig = make_rig()
    rig.boot(interval=60)
    rig.station.on_disconnected()
    rig.clock.advance_to(T0 + 60)
    rig.station.on_timer(T0 + 60)
    assert not rig.station.has_pending()
    assert rig.station.next_timer() == T0 + 120
    rig.station.on_connected()
    assert rig.run_until(120) and rig.csms.log[-1][0] == "Heartbeat"


def test_a_transaction_started_offline_charges_and_meters_before_its_answer() -> None:
    rig = make_rig({"MeterValueSampleInterval": 60})
    rig.boot()
    rig.station.plug_in(1)
    rig.csms.drain()
    rig.station.on_disconnected()
    rig.station.start_transaction(1, "TAG-001")
    assert rig.station.connectors[1].status == "Charging"
    rig.station.on_connected()
    start = rig.csms.expect("StartTransaction")
    rig.clock.advance_to(T0 + 60)
    rig.station.on_timer(T0 + 60)  # due before the answer: sampled all the same
    rig.csms.answer(start, {"transactionId": 5, "idTagInfo": ACCEPTED})
    assert rig.station.next_timer() == T0 + 120  # the grid started with the transaction
    taken = rig.csms.drain()
    assert [m.action for m in taken] == ["StatusNotification", "MeterValues"]
    assert taken[1].payload["transactionId"] == 5

"""Reservations (OCPP 1.6 §5.13 ReserveNow, §5.1 CancelReservation, §9.3): the answers, the
Reserved status, expiry in virtual time, and who may start on a reserved connector. Every
request, answer and queued message is checked against the OCA schemas by the rig."""

from __future__ import annotations

from typing import Any

import pytest
import station_rig
from station_rig import ACCEPTED, T0, Rig, actions, statuses, ts

from mockpoint.errors import UsageError


def make_rig(overrides: dict[str, object] | None = None) -> Rig:
    rig = station_rig.make_rig(overrides, boot=True)
    rig.csms.drain()
    return rig


def reserve(
    rig: Rig,
    connector_id: int = 1,
    reservation_id: int = 7,
    id_tag: str = "TAG-R",
    expiry: float = 600,
    **extra: str,
) -> str:
    payload: dict[str, Any] = {
        "connectorId": connector_id,
        "expiryDate": ts(expiry),
        "idTag": id_tag,
        "reservationId": reservation_id,
        **extra,
    }
    status: str = rig.call("ReserveNow", payload)["status"]
    return status


def cancel(rig: Rig, reservation_id: int = 7) -> str:
    status: str = rig.call("CancelReservation", {"reservationId": reservation_id})["status"]
    return status


# --- ReserveNow answers (§5.13) ---------------------------------------------------------------


def test_reserve_now_accepted_reports_reserved() -> None:
    rig = make_rig()
    assert reserve(rig) == "Accepted"
    [message] = rig.csms.drain()
    assert message.payload == {
        "connectorId": 1,
        "errorCode": "NoError",
        "status": "Reserved",
        "timestamp": ts(0),
    }
    assert rig.station.connectors[1].status == "Reserved"
    assert set(rig.station.reservations) == {7}


def test_reserve_now_on_a_faulted_connector_is_faulted() -> None:
    rig = make_rig()
    rig.station.fault(1, "GroundFailure")
    rig.csms.drain()
    assert reserve(rig) == "Faulted"
    assert rig.station.next_item() is None
    assert rig.station.reservations == {}


def test_reserve_now_on_a_faulted_charge_point_is_faulted() -> None:
    rig = make_rig()
    rig.station.fault(0, "OtherError")
    rig.csms.drain()
    assert reserve(rig, 2) == "Faulted"


def test_reserve_now_on_an_unavailable_connector_is_unavailable() -> None:
    rig = make_rig()
    rig.call("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    rig.csms.drain()
    assert reserve(rig) == "Unavailable"
    assert rig.station.next_item() is None


def test_reserve_now_on_a_connector_in_a_transaction_is_occupied() -> None:
    rig = make_rig()
    rig.charging(1, "TAG-1")
    assert reserve(rig) == "Occupied"
    assert rig.station.next_item() is None


@pytest.mark.parametrize("setup", ["plugged", "remote_start", "finishing"])
def test_reserve_now_on_a_connector_in_use_is_occupied(setup: str) -> None:
    rig = make_rig()
    if setup == "plugged":
        rig.station.plug_in(1)
    elif setup == "remote_start":
        rig.call("RemoteStartTransaction", {"idTag": "TAG-1", "connectorId": 1})
    else:
        rig.charging(1, "TAG-1")
        rig.station.stop_transaction(1)
    rig.csms.drain()
    assert reserve(rig) == "Occupied"


def test_reserve_now_on_a_connector_reserved_under_another_id_is_occupied() -> None:
    rig = make_rig()
    assert reserve(rig, reservation_id=1) == "Accepted"
    rig.csms.drain()
    # §5.13: "also returned when ... reserved for the same or another idTag".
    assert reserve(rig, reservation_id=2) == "Occupied"
    assert reserve(rig, reservation_id=2, id_tag="OTHER") == "Occupied"
    assert set(rig.station.reservations) == {1}


def test_reserve_now_on_an_unknown_connector_is_rejected() -> None:
    rig = make_rig()
    assert reserve(rig, 3) == "Rejected"


def test_reserve_now_on_connector_zero_without_support_is_rejected() -> None:
    rig = make_rig({"ReserveConnectorZeroSupported": False})
    assert reserve(rig, 0) == "Rejected"
    assert rig.station.next_item() is None


# --- replacing, expiring, cancelling ----------------------------------------------------------


def test_the_same_reservation_id_replaces_the_reservation() -> None:
    rig = make_rig()
    reserve(rig, expiry=600)
    rig.csms.drain()
    assert reserve(rig, id_tag="TAG-NEW", expiry=900) == "Accepted"
    assert rig.station.next_item() is None  # still Reserved: nothing to report
    reservation = rig.station.reservations[7]
    assert (reservation.id_tag, reservation.expiry) == ("TAG-NEW", T0 + 900)
    # The first expiry is gone with the first reservation.
    seen = rig.run_until(899)
    assert "StatusNotification" not in actions([m for _, m in seen])
    seen = rig.run_until(900)
    assert [(when, m.payload["status"]) for when, m in seen if m.payload.get("status")] == [
        (900, "Available")
    ]


def test_a_replacement_may_move_to_another_connector() -> None:
    rig = make_rig()
    reserve(rig, 1)
    rig.csms.drain()
    assert reserve(rig, 2) == "Accepted"
    assert statuses(rig.csms.drain()) == [(1, "Available"), (2, "Reserved")]
    assert rig.station.reservations[7].connectors == {2}


def test_a_refused_replacement_keeps_the_old_reservation() -> None:
    rig = make_rig()
    reserve(rig, 1)
    rig.station.plug_in(2)
    rig.csms.drain()
    assert reserve(rig, 2) == "Occupied"
    assert rig.station.next_item() is None
    assert rig.station.reservations[7].connectors == {1}
    assert rig.station.connectors[1].status == "Reserved"


def test_a_reservation_expires_in_virtual_time() -> None:
    rig = make_rig()
    reserve(rig, expiry=450)
    rig.csms.drain()
    assert rig.station.next_timer() == T0 + 300  # the heartbeat comes first
    seen = rig.run_until(500)
    assert [(when, m.action) for when, m in seen] == [
        (300, "Heartbeat"),
        (450, "StatusNotification"),
    ]
    assert seen[1][1].payload == {
        "connectorId": 1,
        "errorCode": "NoError",
        "status": "Available",
        "timestamp": ts(450),
    }
    assert rig.station.reservations == {}


def test_an_expiry_date_already_past_ends_at_the_next_tick() -> None:
    rig = make_rig()
    rig.run_until(100)
    assert reserve(rig, expiry=50) == "Accepted"
    assert statuses(rig.csms.drain()) == [(1, "Reserved")]
    seen = rig.run_until(100)
    assert statuses([m for _, m in seen]) == [(1, "Available")]


def test_cancel_reservation_frees_the_connector() -> None:
    rig = make_rig()
    reserve(rig)
    rig.csms.drain()
    assert cancel(rig) == "Accepted"
    assert statuses(rig.csms.drain()) == [(1, "Available")]
    assert rig.station.reservations == {}
    # Its expiry timer went with it.
    assert rig.station.next_timer() == T0 + 300


def test_cancel_of_an_unknown_reservation_is_rejected() -> None:
    rig = make_rig()
    reserve(rig)
    rig.csms.drain()
    assert cancel(rig, 8) == "Rejected"
    assert rig.station.next_item() is None
    assert cancel(rig) == "Accepted"
    assert cancel(rig) == "Rejected"


def test_a_fault_ends_the_reservation() -> None:
    rig = make_rig()
    reserve(rig)
    rig.csms.drain()
    rig.station.fault(1, "GroundFailure")
    assert statuses(rig.csms.drain()) == [(1, "Faulted")]
    assert rig.station.reservations == {}
    rig.station.clear_fault(1)
    assert statuses(rig.csms.drain()) == [(1, "Available")]


def test_becoming_unavailable_ends_the_reservation() -> None:
    rig = make_rig()
    reserve(rig)
    rig.csms.drain()
    assert rig.call("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"}) == ACCEPTED
    assert statuses(rig.csms.drain()) == [(1, "Unavailable")]
    assert rig.station.reservations == {}
    rig.call("ChangeAvailability", {"connectorId": 1, "type": "Operative"})
    assert statuses(rig.csms.drain()) == [(1, "Available")]


def test_a_reservation_outlives_a_reboot() -> None:
    rig = make_rig()
    reserve(rig, expiry=400)
    rig.csms.drain()
    rig.station.rebooted()
    rig.boot()
    assert rig.station.connectors[1].status == "Reserved"
    seen = rig.run_until(400)
    assert statuses([m for when, m in seen if when == 400]) == [(1, "Available")]


def test_a_claim_dropped_by_a_reboot_leaves_the_connector_reserved() -> None:
    rig = make_rig()
    reserve(rig)
    rig.call("RemoteStartTransaction", {"idTag": "TAG-R", "connectorId": 1})
    assert statuses(rig.csms.drain()) == [(1, "Reserved"), (1, "Preparing")]
    rig.station.rebooted()
    assert statuses(rig.boot()) == [(0, "Available"), (1, "Reserved"), (2, "Available")]


# --- starting on a reserved connector ---------------------------------------------------------


def test_the_reserved_tag_starts_with_the_reservation_id() -> None:
    # TC_046_CSMS: Reserved, then the Charging state with the reservationId.
    rig = make_rig()
    reserve(rig)
    rig.csms.drain()
    rig.station.plug_in(1)
    assert statuses(rig.csms.drain()) == [(1, "Preparing")]  # G2: the cable claims it
    rig.run_until(10)
    rig.station.authorize("TAG-R")
    rig.csms.exchange("Authorize")
    rig.station.start_transaction(1, "TAG-R")
    start = rig.csms.exchange("StartTransaction")
    assert start == {
        "connectorId": 1,
        "idTag": "TAG-R",
        "meterStart": 0,
        "reservationId": 7,
        "timestamp": ts(10),
    }
    assert statuses(rig.csms.drain()) == [(1, "Charging")]
    assert rig.station.reservations == {}
    assert rig.station.transactions[1].reservation_id == 7
    # The expiry timer went with the reservation.
    seen = rig.run_until(700)
    assert "StatusNotification" not in actions([m for _, m in seen])


def test_another_tag_is_refused_on_a_reserved_connector() -> None:
    rig = make_rig()
    reserve(rig)
    rig.station.plug_in(1)
    rig.csms.drain()
    with pytest.raises(UsageError, match=r"reserved for idTag 'TAG-R' \(reservation 7\)"):
        rig.station.start_transaction(1, "TAG-X")
    assert rig.station.next_item() is None
    assert rig.station.transactions == {}
    assert set(rig.station.reservations) == {7}
    # The reserved tag still can.
    rig.station.start_transaction(1, "TAG-R")
    assert rig.csms.exchange("StartTransaction")["reservationId"] == 7


def test_a_tag_with_the_reserved_parent_may_start() -> None:
    rig = make_rig()
    rig.call(
        "SendLocalList",
        {
            "listVersion": 1,
            "updateType": "Full",
            "localAuthorizationList": [
                {"idTag": "MEMBER", "idTagInfo": {"status": "Accepted", "parentIdTag": "GROUP"}}
            ],
        },
    )
    reserve(rig, id_tag="OWNER", parentIdTag="GROUP")
    rig.station.plug_in(1)
    rig.csms.drain()
    with pytest.raises(UsageError):
        rig.station.start_transaction(1, "STRANGER")
    rig.station.start_transaction(1, "MEMBER")
    assert rig.csms.exchange("StartTransaction")["reservationId"] == 7


def test_an_explicit_reservation_id_is_kept() -> None:
    rig = make_rig()
    reserve(rig)
    rig.station.plug_in(1)
    rig.csms.drain()
    rig.station.start_transaction(1, "TAG-R", reservation_id=99)
    assert rig.csms.exchange("StartTransaction")["reservationId"] == 99
    assert rig.station.reservations == {}


def test_a_hand_made_start_transaction_with_the_reservation_id_ends_it() -> None:
    rig = make_rig()
    reserve(rig)
    rig.station.plug_in(1)
    rig.csms.drain()
    rig.station.send("StartTransaction", {"connectorId": 1, "idTag": "TAG-R", "reservationId": 7})
    assert rig.csms.exchange("StartTransaction")["reservationId"] == 7
    assert rig.station.reservations == {}
    assert rig.station.next_timer() == T0 + 60  # the sampled meter values, not the expiry


def test_an_abandoned_claim_returns_to_reserved() -> None:
    rig = make_rig()
    reserve(rig)
    rig.station.plug_in(1)
    rig.csms.drain()
    rig.station.unplug(1)
    # B1 then A7: the reservation is still valid.
    assert statuses(rig.csms.drain()) == [(1, "Available"), (1, "Reserved")]
    assert set(rig.station.reservations) == {7}


def test_other_connectors_are_not_affected() -> None:
    rig = make_rig()
    reserve(rig, 1)
    rig.station.plug_in(2)
    rig.csms.drain()
    rig.station.start_transaction(2, "TAG-X")
    start = rig.csms.expect("StartTransaction")
    assert "reservationId" not in start.payload
    assert set(rig.station.reservations) == {7}


def test_remote_start_for_the_reserved_tag_uses_the_reservation() -> None:
    rig = make_rig()
    reserve(rig)
    rig.csms.drain()
    assert rig.call("RemoteStartTransaction", {"idTag": "TAG-R", "connectorId": 1}) == ACCEPTED
    assert statuses(rig.csms.drain()) == [(1, "Preparing")]
    rig.station.plug_in(1)
    start = rig.csms.exchange("StartTransaction")
    assert (start["idTag"], start["reservationId"]) == ("TAG-R", 7)


def test_remote_start_for_another_tag_on_a_reserved_connector_is_rejected() -> None:
    rig = make_rig()
    reserve(rig)
    rig.csms.drain()
    rejected = {"status": "Rejected"}
    assert rig.call("RemoteStartTransaction", {"idTag": "TAG-X", "connectorId": 1}) == rejected
    assert rig.station.next_item() is None
    # Without a connector, the free one is chosen.
    assert rig.call("RemoteStartTransaction", {"idTag": "TAG-X"}) == ACCEPTED
    assert statuses(rig.csms.drain()) == [(2, "Preparing")]


def test_a_remote_start_that_lapses_leaves_the_connector_reserved() -> None:
    rig = make_rig({"ConnectionTimeOut": 30})
    reserve(rig)
    rig.csms.drain()
    rig.call("RemoteStartTransaction", {"idTag": "TAG-R", "connectorId": 1})
    rig.csms.drain()
    seen = rig.run_until(30)
    assert statuses([m for _, m in seen]) == [(1, "Available"), (1, "Reserved")]


# --- connector 0: the charge point as a whole (§5.13, §9.3) ----------------------------------


def test_a_charge_point_reservation_holds_every_available_connector() -> None:
    # TC_049_CSMS: connectorId 0, StatusNotification Reserved, only the reserved tag charges.
    rig = make_rig()
    assert reserve(rig, 0) == "Accepted"
    assert statuses(rig.csms.drain()) == [(1, "Reserved"), (2, "Reserved")]
    for connector_id in (1, 2):
        rig.station.plug_in(connector_id)
        with pytest.raises(UsageError):
            rig.station.start_transaction(connector_id, "TAG-X")
    rig.csms.drain()
    rig.station.start_transaction(2, "TAG-R")
    assert rig.csms.exchange("StartTransaction")["reservationId"] == 7
    assert statuses(rig.csms.drain()) == [(2, "Charging")]
    assert rig.station.reservations == {}
    # Connector 1 is free again (its cable was in, so it stays Preparing).
    rig.station.start_transaction(1, "TAG-X")
    assert "reservationId" not in rig.csms.exchange("StartTransaction")


def test_a_charge_point_reservation_frees_the_other_connectors_when_used() -> None:
    rig = make_rig()
    reserve(rig, 0)
    rig.station.plug_in(1)
    rig.csms.drain()
    rig.station.start_transaction(1, "TAG-R")
    rig.csms.exchange("StartTransaction")
    assert statuses(rig.csms.drain()) == [(2, "Available"), (1, "Charging")]


def test_a_charge_point_reservation_skips_busy_connectors() -> None:
    rig = make_rig()
    rig.charging(1, "TAG-1")
    assert reserve(rig, 0) == "Accepted"
    assert statuses(rig.csms.drain()) == [(2, "Reserved")]
    assert rig.station.reservations[7].connectors == {2}


def test_a_charge_point_reservation_is_used_on_any_connector() -> None:
    rig = make_rig()
    transaction_id = rig.charging(1, "TAG-1")
    reserve(rig, 0)
    rig.call("RemoteStopTransaction", {"transactionId": transaction_id})
    rig.station.unplug(1)
    rig.csms.drain()
    # Connector 1 was busy when the reservation was made: not held, yet the reserved tag
    # starting there ends the reservation all the same.
    rig.station.plug_in(1)
    assert statuses(rig.csms.drain()) == [(1, "Preparing")]
    rig.station.start_transaction(1, "TAG-R")
    assert rig.csms.exchange("StartTransaction")["reservationId"] == 7
    assert statuses(rig.csms.drain()) == [(2, "Available"), (1, "Charging")]


@pytest.mark.parametrize(
    ("setup", "status"),
    [("busy", "Occupied"), ("inoperative", "Unavailable"), ("faulted", "Faulted")],
)
def test_a_charge_point_reservation_needs_a_free_connector(setup: str, status: str) -> None:
    rig = make_rig()
    if setup == "busy":
        rig.charging(1, "TAG-1")
        rig.charging(2, "TAG-2")
    elif setup == "inoperative":
        rig.call("ChangeAvailability", {"connectorId": 0, "type": "Inoperative"})
    else:
        rig.station.fault(0, "OtherError")
    rig.csms.drain()
    assert reserve(rig, 0) == status
    assert rig.station.next_item() is None


def test_a_charge_point_fault_ends_every_reservation() -> None:
    rig = make_rig()
    reserve(rig, 1, reservation_id=1)
    reserve(rig, 0, reservation_id=2)
    assert statuses(rig.csms.drain()) == [(1, "Reserved"), (2, "Reserved")]
    rig.station.fault(0, "OtherError")
    assert statuses(rig.csms.drain()) == [(0, "Faulted"), (1, "Available"), (2, "Available")]
    assert rig.station.reservations == {}


def test_a_held_connector_that_faults_is_let_go() -> None:
    rig = make_rig()
    reserve(rig, 0)
    rig.csms.drain()
    rig.station.fault(1, "GroundFailure")
    assert statuses(rig.csms.drain()) == [(1, "Faulted")]
    assert rig.station.reservations[7].connectors == {2}
    rig.station.clear_fault(1)
    assert statuses(rig.csms.drain()) == [(1, "Available")]

"""A station's state saved and restored (``station/persist.py``): every part survives, a
power cut reboots (OCPP 1.6 §4.2) and keeps the transaction messages (§4.10), and a broken
file is a UsageError naming the file and the field."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from station_rig import IDENTITY, T0, Rig, actions, make_rig, ts

from mockpoint.errors import UsageError
from mockpoint.station.persist import FORMAT, restore, snapshot
from mockpoint.station.station import Identity

SOURCE = "cp.state.json"
ACCEPTED = {"status": "Accepted"}


def through_json(rig: Rig) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(snapshot(rig.station)))
    return data


def mid_transaction() -> Rig:
    """Charging on connector 1, offline, with MeterValues and the StopTransaction queued; a
    local list, a cached tag, a reservation on connector 2 and a changed key."""
    rig = make_rig({"MeterValueSampleInterval": 60})
    rig.boot()
    assert rig.call("ChangeConfiguration", {"key": "HeartbeatInterval", "value": "120"}) == {
        "status": "Accepted"
    }
    local_list = {
        "listVersion": 4,
        "updateType": "Full",
        "localAuthorizationList": [{"idTag": "LOCAL-1", "idTagInfo": ACCEPTED}],
    }
    assert rig.call("SendLocalList", local_list) == {"status": "Accepted"}
    reserve = {"connectorId": 2, "expiryDate": ts(3600), "idTag": "RES-1", "reservationId": 9}
    assert rig.call("ReserveNow", reserve) == {"status": "Accepted"}
    rig.csms.drain()
    assert rig.charging(1, "TAG-001") == 1
    rig.station.set_power(1, 7_200)
    rig.run_until(90)  # one sample delivered
    rig.station.on_disconnected()
    rig.clock.advance_to(T0 + 200)
    rig.station.on_timer(T0 + 200)  # the sample due at 120 s, taken offline
    rig.station.stop_transaction(1)
    return rig


def fresh(identity: Identity = IDENTITY, offset: float = 0) -> Rig:
    rig = make_rig({"MeterValueSampleInterval": 60}, identity=identity)
    rig.clock.advance_to(T0 + offset)
    return rig


def test_every_part_survives_a_round_trip_through_json() -> None:
    rig = mid_transaction()
    saved = through_json(rig)
    assert saved["format"] == FORMAT
    queued = ["MeterValues", "StopTransaction", "StatusNotification"]
    assert [m["action"] for m in saved["outbox"]] == queued
    assert saved["configuration"]["HeartbeatInterval"] == "120"
    assert saved["local_list"] == {"version": 4, "entries": {"LOCAL-1": ACCEPTED}}
    assert saved["cache"] == {"TAG-001": ACCEPTED}
    assert [r["reservation_id"] for r in saved["reservations"]] == [9]
    assert saved["meters"]["1"]["register_wh"] == "400"  # 7.2 kW for 200 s
    other = fresh(offset=200)
    restore(other.station, copy.deepcopy(saved), source=SOURCE, power_cut=False)
    assert through_json(other) == saved
    station = other.station
    assert station.accepted
    assert station.connectors[1].status.value == "Finishing"
    assert station.connectors[2].status.value == "Reserved"
    assert station.configuration.get_int("HeartbeatInterval") == 120
    assert station.local_list.reported_version == 4
    assert station.reservations[9].id_tag == "RES-1"


def test_restored_queue_delivers_in_order_with_the_transaction_id() -> None:
    rig = mid_transaction()
    other = fresh(offset=200)
    restore(other.station, through_json(rig), source=SOURCE, power_cut=False)
    other.station.on_connected()
    sample = other.csms.exchange("MeterValues")
    assert sample["transactionId"] == 1
    assert sample["meterValue"][0]["timestamp"] == ts(200)
    stop = other.csms.exchange("StopTransaction")
    assert (stop["transactionId"], stop["meterStop"]) == (1, 400)


def test_a_power_cut_boots_first_then_delivers_the_transaction_messages() -> None:
    rig = mid_transaction()
    # Finishing's StatusNotification is queued too; not transaction-related, it is lost with
    # the power, and the accepted boot reports every connector anyway (§4.2).
    # The new run's clock starts over, before the saved instant: the meter copes.
    other = fresh()
    restore(other.station, through_json(rig), source=SOURCE)
    station = other.station
    assert station.registration is None
    station.on_connected()
    boot = other.csms.take()
    assert boot is not None and boot.action == "BootNotification"
    assert other.csms.take() is None  # nothing else before the boot is accepted (§4.2)
    other.csms.answer(boot, {"status": "Accepted", "currentTime": ts(0), "interval": 300})
    taken = other.csms.drain()
    assert actions(taken) == [
        "StatusNotification",
        "StatusNotification",
        "StatusNotification",
        "MeterValues",
        "StopTransaction",
    ]
    assert taken[-1].payload["transactionId"] == 1
    assert taken[-1].payload["meterStop"] == 400


def test_an_open_transaction_continues_metering_from_the_saved_register() -> None:
    rig = make_rig({"MeterValueSampleInterval": 60})
    rig.boot()
    rig.charging()
    rig.station.set_power(1, 7_200)
    rig.run_until(300)  # 600 Wh, every sample delivered
    other = fresh(offset=300)
    restore(other.station, through_json(rig), source=SOURCE)
    other.boot()
    assert other.station.transactions[1].transaction_id == 1
    other.station.set_power(1, 7_200)
    sampled = other.run_until(360)
    values = [m.payload["meterValue"][0]["sampledValue"][0]["value"] for _, m in sampled]
    assert values == ["720"]  # the register goes on from 600 Wh, not from 0
    stop = other.station.stop_transaction(1)
    other.csms.drain()
    assert (stop.payload["transactionId"], stop.payload["meterStop"]) == (1, 720)


def test_a_start_without_its_answer_gives_its_id_to_the_messages_queued_behind() -> None:
    rig = make_rig({"MeterValueSampleInterval": 60})
    rig.boot()
    rig.station.on_disconnected()
    rig.station.plug_in(1)
    rig.station.start_transaction(1, "TAG-001")  # offline: queued, no transaction id yet
    rig.station.set_power(1, 3_600)
    rig.clock.advance_to(T0 + 60)
    rig.station.on_timer(T0 + 60)
    rig.station.stop_transaction(1)
    saved = through_json(rig)
    assert [t["transaction_id"] for t in saved["transactions"]] == [None]
    other = fresh(offset=60)
    restore(other.station, saved, source=SOURCE)
    other.boot()
    # boot() drained the queue with the rig's answers: StartTransaction got id 1.
    sent = [(a, p.get("transactionId")) for a, p in other.csms.log if a != "StatusNotification"]
    assert sent == [
        ("BootNotification", None),
        ("StartTransaction", None),
        ("MeterValues", 1),
        ("StopTransaction", 1),
    ]


def test_a_message_being_sent_stays_first_in_the_queue_until_answered() -> None:
    rig = mid_transaction()
    rig.station.on_connected()
    in_flight = rig.csms.take()
    assert in_flight is not None and in_flight.action == "MeterValues"
    queued = ["MeterValues", "StopTransaction", "StatusNotification"]
    assert [m["action"] for m in through_json(rig)["outbox"]] == queued
    rig.csms.answer(in_flight)
    assert [m["action"] for m in through_json(rig)["outbox"]] == queued[1:]


def test_timers_and_remote_starts_are_saved_under_the_names_they_always_had() -> None:
    """mockpoint-state/1 stays as it was: each timer under its name (a file written before
    timers had a type of their own loads the same), a remote start by its connector."""
    rig = make_rig(
        {
            "MeterValueSampleInterval": 60,
            "ClockAlignedDataInterval": 900,
            "ConnectionTimeOut": 45,
            "AuthorizeRemoteTxRequests": True,
        }
    )
    rig.boot()
    reserve = {"connectorId": 2, "expiryDate": ts(3600), "idTag": "RES-1", "reservationId": 9}
    assert rig.call("ReserveNow", reserve) == {"status": "Accepted"}
    rig.csms.drain()
    assert rig.charging(1, "TAG-001") == 1
    start = {"connectorId": 2, "idTag": "RES-1"}
    assert rig.call("RemoteStartTransaction", start) == {"status": "Accepted"}
    saved = through_json(rig)
    assert saved["timers"] == {
        "aligned": T0 + 900,
        "connection_timeout:2": T0 + 45,
        "heartbeat": T0 + 300,
        "reservation:9": T0 + 3600,
        "sample:1": T0 + 60,
    }
    assert saved["pending_remote_starts"] == {"2": "RES-1"}
    assert saved["remote_starts_authorizing"] == [2]
    other = fresh()
    restore(other.station, copy.deepcopy(saved), source=SOURCE, power_cut=False)
    assert through_json(other) == saved

    pending = make_rig({})
    pending.station.on_connected()
    pending.csms.answer(
        pending.csms.expect("BootNotification"),
        {"status": "Pending", "currentTime": ts(0), "interval": 30},
    )
    assert through_json(pending)["timers"] == {"boot": T0 + 30}


def test_restored_timers_are_due_without_a_power_cut() -> None:
    """The schedule read back knows its earliest timer: it fires on time."""
    saved = through_json(mid_transaction())
    other = fresh(offset=200)
    assert other.station.next_timer() is None
    restore(other.station, saved, source=SOURCE, power_cut=False)
    assert other.station.next_timer() == min(saved["timers"].values())


def test_authorization_cache_and_pending_availability_survive() -> None:
    rig = make_rig()
    rig.boot()
    rig.charging(1, "TAG-A")
    answer = rig.call("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    assert answer == {"status": "Scheduled"}
    rig.station.fault(2, "GroundFailure", info="earth leak")
    rig.csms.drain()
    other = fresh()
    restore(other.station, through_json(rig), source=SOURCE)
    station = other.station
    assert station.cache.lookup("TAG-A") == ACCEPTED
    assert station.pending_availability == {1: False}
    assert station.connectors[2].status.value == "Faulted"
    assert station.connectors[2].error_code.value == "GroundFailure"
    assert station.connectors[2].info == "earth leak"


# --- files that cannot be used --------------------------------------------------------------


def broken(change: Any) -> str:
    """The UsageError's message for the snapshot of mid_transaction() after ``change``."""
    data = through_json(mid_transaction())
    change(data)
    other = fresh(offset=200)
    before = through_json(other)
    with pytest.raises(UsageError) as caught:
        restore(other.station, data, source=SOURCE)
    assert through_json(other) == before  # nothing was half restored
    message = str(caught.value)
    assert SOURCE in message
    return message


def test_another_format_is_refused() -> None:
    message = broken(lambda d: d.update(format="mockpoint-state/99"))
    assert "format: 'mockpoint-state/99' is not a format this mockpoint reads" in message


def test_another_charge_point_is_refused() -> None:
    message = broken(lambda d: d["charge_point"].update(id="CP-OTHER"))
    assert "charge_point.id: the file belongs to charge point 'CP-OTHER', not 'CP-001'" in message


def test_another_number_of_connectors_is_refused() -> None:
    message = broken(lambda d: d["charge_point"].update(connectors=3))
    assert "charge_point.connectors: the file's charge point has 3 connector(s)" in message


_DELETE = object()

# (where in the file, the value put there or _DELETE, the field named, part of the problem)
BROKEN_FIELDS = [
    (("outbox",), _DELETE, "outbox", "missing"),
    (("outbox", 1, "action"), 7, "outbox[1].action", "expected a string"),
    (("outbox", 0, "transaction"), 5, "outbox[0].transaction", "no transaction with key 5"),
    (("transactions", 0, "meter_start"), "0", "transactions[0].meter_start", "an integer"),
    (("connectors", 1, "status"), "Charging", "connectors[1]", "contradicts its facts"),
    (("connectors", 1, "status"), "Sleeping", "connectors[1].status", "Sleeping"),
    (("meters", "1", "register_wh"), "lots", "meters.1", "not a number"),
    (("meters", "1", "power_w"), _DELETE, "meters.1", "missing 'power_w'"),
    (("configuration", "HeartbeatInterval"), "soon", "configuration.HeartbeatInterval", "int"),
    (("configuration", "NumberOfConnectors"), "2", "configuration.NumberOfConnectors", "not kept"),
    (("local_list", "version"), None, "local_list.version", "got null"),
    (("reservations", 0, "connectors"), [7], "reservations[0].connectors[0]", "no connector 7"),
    (("registration",), "Maybe", "registration", "Maybe"),
    (("timers", "heartbeat"), "later", "timers.heartbeat", "a number"),
    (("timers", "sample:x"), 60.0, "timers.sample:x", "not a timer of this station"),
    (("timers", "soon"), 60.0, "timers.soon", "not a timer of this station"),
]


@pytest.mark.parametrize(("where", "value", "field", "problem"), BROKEN_FIELDS)
def test_a_broken_field_is_named(
    where: tuple[str | int, ...], value: object, field: str, problem: str
) -> None:
    def change(data: Any) -> None:
        *parents, last = where
        for step in parents:
            data = data[step]
        if value is _DELETE:
            del data[last]
        else:
            data[last] = value

    message = broken(change)
    assert f"state file {SOURCE}: {field}: " in message
    assert problem in message


def test_not_an_object_is_refused() -> None:
    with pytest.raises(UsageError, match=f"state file {SOURCE}: the top level: expected an obj"):
        restore(fresh().station, [1, 2], source=SOURCE)

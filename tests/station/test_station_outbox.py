"""The station's outbox (``station/outbox.py``) and the state objects it owns beside it:
remote starts waiting (``remote.RemoteStarts``, §5.11) and reservations
(``reservation.Reservations``, §5.13)."""

from __future__ import annotations

from mockpoint.station.outbox import Message, Outbox, Reboot, Reconnect
from mockpoint.station.remote import RemoteStarts
from mockpoint.station.reservation import Reservation, Reservations


def status(before_boot: bool = False) -> Message:
    return Message("StatusNotification", {}, before_boot=before_boot)


def test_before_the_boot_is_accepted_only_the_boot_and_directives_go() -> None:
    """§4.2: what may not go yet keeps its place."""
    outbox = Outbox()
    heartbeat = Message("Heartbeat", {})
    boot = Message("BootNotification", {}, before_boot=True)
    reboot = Reboot(hard=False)
    for item in (heartbeat, boot, reboot):
        outbox.enqueue(item)
    assert outbox.has_boot()
    assert outbox.has_sendable(accepted=False)
    assert outbox.take_sendable(accepted=False) is boot
    assert outbox.take_sendable(accepted=False) is reboot
    assert outbox.take_sendable(accepted=False) is None
    assert not outbox.has_sendable(accepted=False)
    assert outbox.has_pending()
    assert outbox.take_sendable(accepted=True) is heartbeat
    assert not outbox.has_pending()


def test_a_requeued_message_goes_first() -> None:
    outbox = Outbox()
    first, second = Message("MeterValues", {}), Message("StopTransaction", {})
    outbox.enqueue_all([second])
    outbox.requeue(first)
    assert outbox.messages() == [first, second]


def test_a_restart_keeps_the_transaction_messages_only() -> None:
    """§4.10: transaction-related messages survive; the rest, directives too, go."""
    outbox = Outbox()
    start = Message("StartTransaction", {}, transactional=True)
    outbox.enqueue_all([Message("Heartbeat", {}), start, Reconnect("x"), status()])
    outbox.keep_transactional()
    assert outbox.actions() == ["StartTransaction"]


def test_an_accepted_boot_drops_the_statuses_the_station_queued() -> None:
    """§4.2: every connector is reported anew; a scenario's explicit send stays."""
    outbox = Outbox()
    explicit = status(before_boot=True)
    heartbeat = Message("Heartbeat", {})
    outbox.enqueue_all([status(), heartbeat, explicit, Reboot(hard=True)])
    outbox.drop_stale_statuses()
    assert outbox.actions() == ["Heartbeat", "StatusNotification", "Reboot"]
    assert outbox.withdraw()[:2] == [heartbeat, explicit]
    assert not outbox.has_pending()


def test_remote_starts_wait_for_a_cable_and_a_verdict() -> None:
    starts = RemoteStarts()
    starts.wait(2, "TAG-A", authorizing=True)
    starts.wait(1, "TAG-A", authorizing=True)
    starts.wait(3, "TAG-B", authorizing=False)
    assert starts.is_waiting(3) and not starts.is_authorizing(3)
    assert starts.waiting() == {2: "TAG-A", 1: "TAG-A", 3: "TAG-B"}
    assert starts.authorizing() == [1, 2]
    assert starts.decided("TAG-A") == [1, 2]  # in connector order
    assert starts.authorizing() == []
    assert starts.is_waiting(1)  # still waiting for the cable
    assert starts.take(1) == "TAG-A"
    assert starts.take(1) is None
    starts.load({4: "TAG-C"}, {4, 2})
    assert (starts.waiting(), starts.authorizing()) == ({4: "TAG-C"}, [2, 4])
    starts.clear()
    assert (starts.waiting(), starts.authorizing()) == ({}, [])


def test_reservations_read_as_a_mapping_and_change_by_name() -> None:
    reservations = Reservations()
    assert reservations == {}
    seven = Reservation(7, 1, "TAG-7", None, 100.0, {1})
    nine = Reservation(9, 0, "TAG-9", "PARENT", 200.0, {2})
    assert reservations.put(seven) is None
    assert reservations.put(nine) is None
    again = Reservation(7, 1, "TAG-7", None, 300.0, {1})
    assert reservations.put(again) is seven
    assert list(reservations) == [9, 7]  # a replaced reservation goes last, as a new one
    assert reservations.holder(2) is nine and reservations.holder(3) is None
    assert reservations.for_any_connector("OTHER", "PARENT") is nine
    assert reservations.for_any_connector("TAG-7", None) is None  # not a connector 0 one
    reservations.discard(seven)  # replaced already: the one kept stays
    assert reservations[7] is again
    reservations.discard(again)
    assert set(reservations) == {9} and len(reservations) == 1

"""Reservations: ReserveNow, CancelReservation and what a reservation does to a connector.

OCPP 1.6 §5.13 Reserve Now, §5.1 Cancel Reservation, §9.3 ReserveConnectorZeroSupported.
A :class:`Reservation` *holds* connectors: they are reported Reserved (§4.9 A7) and only the
reserved idTag, or a tag whose parent matches, may start a transaction there. The
connector table (``connector.py``) lets a cable or an id claim a Reserved connector (G2,
Preparing); the reservation still holds it, so the StartTransaction that follows carries
its reservationId. If that session is abandoned (B1, back to Available) while the
reservation is still valid, the connector is reported Reserved again (A7).

A reservation ends (§5.13) when a transaction starts for it (the StartTransaction.req
carries its reservationId), when its expiryDate passes in virtual time (a station timer),
when it is cancelled, or when its connector, or the charge point, becomes Faulted or
Unavailable. Its held connectors then go back to Available.

Connector 0 (when ReserveConnectorZeroSupported is true): §5.13 asks that one connector
stays available for the reserved idTag for as long as the reservation lasts, without
reserving a specific one. mockpoint holds *every* connector that is Available when the
reservation is made, and reports each Reserved: the reserved idTag may then start on any of
them (TC_049_CSMS expects a StatusNotification Reserved and "only the idTag from the
reservation can charge, on any available connector"). Starting a transaction for the
reserved idTag on any connector ends it; a held connector that becomes Faulted or
Unavailable is only let go, the reservation ends with the charge point's (connector 0's).

:class:`Reservations` keeps a station's reservations (its ``reservations``); the functions
below decide what ReserveNow and CancelReservation answer and keep the connectors in step.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mockpoint.clock import parse_timestamp
from mockpoint.errors import UsageError
from mockpoint.ocpp16.enums import (
    CancelReservationStatus,
    ChargePointStatus,
    ReservationStatus,
)
from mockpoint.station.authorization import parent_of
from mockpoint.station.connector import Connector, ConnectorEvent
from mockpoint.station.timers import StationTimer

if TYPE_CHECKING:
    from mockpoint.station.station import Station

__all__ = [
    "Reservation",
    "Reservations",
    "admits",
    "after_transition",
    "cancel",
    "claim",
    "end",
    "expire",
    "rearm",
    "reserve_now",
]

_S = ChargePointStatus
_R = ReservationStatus
#: Statuses that end a reservation of the connector (or of the charge point) (§5.13).
_ENDING = (_S.FAULTED, _S.UNAVAILABLE)


@dataclass
class Reservation:
    """One accepted ReserveNow.req (§5.13)."""

    reservation_id: int
    #: as requested: 0 for the charge point as a whole
    connector_id: int
    id_tag: str
    parent_id_tag: str | None
    #: the expiryDate, as POSIX seconds of the station clock
    expiry: float
    #: the connectors held for it (reported Reserved, or claimed by a cable or id since)
    connectors: set[int] = field(default_factory=set)

    def admits(self, id_tag: str, parent: str | None) -> bool:
        """§5.13: the incoming idTag or its parent matches the reservation's idTag or parent."""
        mine = {self.id_tag, self.parent_id_tag} - {None}
        return bool({id_tag, parent} & mine)

    @property
    def timer(self) -> StationTimer:
        """The station timer of its expiryDate."""
        return StationTimer.reservation(self.reservation_id)


class Reservations(Mapping[int, Reservation]):
    """A station's reservations by reservationId, read as a mapping, changed by name."""

    # Slots: a load run holds thousands of these.
    __slots__ = ("_by_id",)

    def __init__(self) -> None:
        self._by_id: dict[int, Reservation] = {}

    def __getitem__(self, reservation_id: int) -> Reservation:
        return self._by_id[reservation_id]

    def __iter__(self) -> Iterator[int]:
        return iter(self._by_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def __repr__(self) -> str:
        return f"Reservations({self._by_id!r})"

    def put(self, reservation: Reservation) -> Reservation | None:
        """Keep ``reservation``, after the others; the one it replaces (the same
        reservationId, §5.13), if any, is returned."""
        old = self._by_id.pop(reservation.reservation_id, None)
        self._by_id[reservation.reservation_id] = reservation
        return old

    def discard(self, reservation: Reservation) -> None:
        """Forget ``reservation`` if it is still the one kept under its id."""
        if self._by_id.get(reservation.reservation_id) is reservation:
            del self._by_id[reservation.reservation_id]

    def holder(self, connector_id: int) -> Reservation | None:
        """The reservation holding ``connector_id``, if any."""
        for reservation in self._by_id.values():
            if connector_id in reservation.connectors:
                return reservation
        return None

    def for_any_connector(self, id_tag: str, parent: str | None) -> Reservation | None:
        """The first reservation of the charge point as a whole (connector 0) that admits
        ``id_tag`` (or its ``parent``), if any."""
        for reservation in self._by_id.values():
            if reservation.connector_id == 0 and reservation.admits(id_tag, parent):
                return reservation
        return None

    def load(self, reservations: Mapping[int, Reservation]) -> None:
        """Replace every reservation (a state file read back)."""
        self._by_id = dict(reservations)


def reserve_now(station: Station, request: dict[str, Any]) -> ReservationStatus:
    """ReserveNow.req (§5.13): reserve, or say why not.

    The same reservationId replaces its reservation: it is judged as a new one, with the
    connectors it already holds counting as free, and the old one stays if the new one
    cannot be made. An expiryDate already past is accepted and ends at the next timer
    tick, as any expiry does.
    """
    connector_id = request["connectorId"]
    reservation_id = request["reservationId"]
    if connector_id not in station.connectors:
        return _R.REJECTED
    try:
        expiry = parse_timestamp(request["expiryDate"])
    except ValueError:
        return _R.REJECTED
    if connector_id == 0:
        status, targets = _charge_point_answer(station, reservation_id)
    else:
        status = _connector_answer(station, connector_id, reservation_id)
        targets = [connector_id]
    if status is not _R.ACCEPTED:
        return status
    parent = request.get("parentIdTag")
    reservation = Reservation(
        reservation_id, connector_id, request["idTag"], parent, expiry, set(targets)
    )
    old = station.reservations.put(reservation)
    station.timers.set(reservation.timer, expiry)
    if old is not None:
        _release(station, old.connectors - reservation.connectors)
    for number in sorted(reservation.connectors):
        connector = station.connectors[number]
        if connector.status is _S.AVAILABLE:
            station.transition(connector, ConnectorEvent.RESERVE)
    return _R.ACCEPTED


def _connector_answer(station: Station, connector_id: int, reservation_id: int) -> _R:
    connector = station.connectors[connector_id]
    charge_point = station.connectors[0]
    if _S.FAULTED in (connector.status, charge_point.status):
        return _R.FAULTED
    if _S.UNAVAILABLE in (connector.status, charge_point.status):
        return _R.UNAVAILABLE
    if connector_id in station.transactions or station.remote_starts.is_waiting(connector_id):
        return _R.OCCUPIED
    current = station.reservations.holder(connector_id)
    if current is not None:
        # Held by this very reservation (Reserved, or claimed by a cable): it is replaced.
        return _R.ACCEPTED if current.reservation_id == reservation_id else _R.OCCUPIED
    # Preparing, Charging, the suspended statuses and Finishing: someone is using it.
    return _R.ACCEPTED if connector.status is _S.AVAILABLE else _R.OCCUPIED


def _charge_point_answer(station: Station, reservation_id: int) -> tuple[_R, list[int]]:
    if not station.configuration.get_bool("ReserveConnectorZeroSupported"):
        return _R.REJECTED, []  # §9.3.1: connector 0 is not reservable
    charge_point = station.connectors[0].status
    if charge_point in _ENDING:
        return (_R.FAULTED if charge_point is _S.FAULTED else _R.UNAVAILABLE), []
    answers = {n: _connector_answer(station, n, reservation_id) for n in station.meters}
    free = [n for n, answer in answers.items() if answer is _R.ACCEPTED]
    if free:
        return _R.ACCEPTED, free
    # Nothing free: busy outranks broken, since a busy connector will be free again.
    for status in (_R.OCCUPIED, _R.FAULTED):
        if status in answers.values():
            return status, []
    return _R.UNAVAILABLE, []


def cancel(station: Station, reservation_id: int) -> CancelReservationStatus:
    """CancelReservation.req (§5.1): Accepted and the connectors freed, or Rejected."""
    reservation = station.reservations.get(reservation_id)
    if reservation is None:
        return CancelReservationStatus.REJECTED
    end(station, reservation)
    return CancelReservationStatus.ACCEPTED


def expire(station: Station, reservation_id: int) -> None:
    """The reservation's expiryDate has come: it ends, its connectors are Available (§5.13)."""
    reservation = station.reservations.get(reservation_id)
    if reservation is not None:
        end(station, reservation)


def end(station: Station, reservation: Reservation) -> None:
    """Forget ``reservation`` and let its connectors go (G1: Reserved -> Available)."""
    station.reservations.discard(reservation)
    station.timers.cancel(reservation.timer)
    _release(station, reservation.connectors)


def _release(station: Station, connector_ids: set[int]) -> None:
    for number in sorted(connector_ids):
        connector = station.connectors[number]
        if connector.reserved and connector.can_apply(ConnectorEvent.RESERVATION_END):
            station.transition(connector, ConnectorEvent.RESERVATION_END)


def claim(station: Station, connector_id: int, id_tag: str) -> Reservation | None:
    """The reservation a transaction for ``id_tag`` on ``connector_id`` uses, if any.

    Raises :class:`UsageError` when the connector is held for another idTag: §5.13 has the
    charge point refuse charging for any other tag there.
    """
    parent = parent_of(station, id_tag)
    current = station.reservations.holder(connector_id)
    if current is not None:
        if not current.admits(id_tag, parent):
            raise UsageError(
                f"connector {connector_id} is reserved for idTag {current.id_tag!r} "
                f"(reservation {current.reservation_id}): {id_tag!r} may not start a "
                "transaction there (OCPP 1.6 §5.13)"
            )
        return current
    return station.reservations.for_any_connector(id_tag, parent)


def admits(station: Station, connector_id: int, id_tag: str) -> bool:
    """Whether a reservation leaves ``connector_id`` to ``id_tag`` (RemoteStartTransaction)."""
    current = station.reservations.holder(connector_id)
    return current is None or current.admits(id_tag, parent_of(station, id_tag))


def after_transition(station: Station, connector: Connector) -> None:
    """Keep the reservations in step with a connector whose status may have changed."""
    if connector.connector_id == 0:
        if connector.status in _ENDING:
            for each in list(station.reservations.values()):
                end(station, each)
        return
    reservation = station.reservations.holder(connector.connector_id)
    if reservation is None:
        return
    if connector.status in _ENDING:
        if reservation.connector_id:
            end(station, reservation)
            return
        reservation.connectors.discard(connector.connector_id)
        _release(station, {connector.connector_id})
    elif connector.status is _S.AVAILABLE:
        # The claim was abandoned (B1) while the reservation is still valid (A7).
        station.transition(connector, ConnectorEvent.RESERVE)


def rearm(station: Station) -> None:
    """The station rebooted: reservations outlive it, their timers are set again.

    A held connector whose claim the reboot dropped is Reserved again, silently: the
    accepted boot reports every connector anyway (§4.2).
    """
    for reservation in station.reservations.values():
        station.timers.set(reservation.timer, reservation.expiry)
        for number in reservation.connectors:
            connector = station.connectors[number]
            if connector.status is _S.AVAILABLE:
                connector.apply(ConnectorEvent.RESERVE)

"""What the Central System's answers to the station's own requests change, by action.

``Station.on_result`` looks the action up in :data:`APPLY`. Answers are applied from the
request payload that was actually sent, so a message a scenario sends by hand (the ``send``
step of docs/scenario-format.md) has the same effects as one the station made.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mockpoint.ocpp16.enums import AuthorizationStatus, Reason, RegistrationStatus
from mockpoint.station import aligned, remote, reservation
from mockpoint.station.configuration import ConfigurationError
from mockpoint.station.connector import ConnectorEvent
from mockpoint.station.outbox import Message
from mockpoint.station.timers import StationTimer

if TYPE_CHECKING:
    from mockpoint.station.station import Station

__all__ = ["APPLY"]


def boot_answered(station: Station, message: Message, response: dict[str, Any]) -> None:
    """BootNotification.conf (§4.2): registered, or a retry after ``interval``."""
    # Imported here: station.py imports this module.
    from mockpoint.station.station import DEFAULT_BOOT_RETRY

    status = RegistrationStatus(response["status"])
    interval = int(response.get("interval", 0))
    now = station.clock.now()
    station.registration = status
    station.boot_count += 1
    station.timers.cancel(StationTimer.BOOT)
    if status is not RegistrationStatus.ACCEPTED:
        station.retry_boot(interval if interval > 0 else DEFAULT_BOOT_RETRY, now)
        return
    if interval > 0:
        with contextlib.suppress(ConfigurationError):  # out of the key's range
            station.configuration.set_internal("HeartbeatInterval", interval)
    station.report_every_connector()
    station.schedule_heartbeat(now)
    aligned.schedule(station, now)
    for connector_id in station.transactions:
        station.schedule_sample(connector_id, now)


def authorize_answered(station: Station, message: Message, response: dict[str, Any]) -> None:
    """Authorize.conf (§4.1): cached (§3.5.1), then acted on."""
    info = response["idTagInfo"]
    id_tag = message.payload.get("idTag")
    if not isinstance(id_tag, str):
        return
    if station.configuration.get_bool("AuthorizationCacheEnabled"):
        station.cache.remember(id_tag, info)
    remote.on_verdict(station, id_tag, info)


def start_answered(station: Station, message: Message, response: dict[str, Any]) -> None:
    """StartTransaction.conf (§4.10): the transaction id, and the id tag's verdict."""
    request = message.payload
    connector_id = request.get("connectorId")
    transaction = message.transaction
    if transaction is None:
        # A scenario's hand-made StartTransaction opens the transaction it describes.
        if not isinstance(connector_id, int) or connector_id not in station.meters:
            return
        if connector_id in station.transactions:
            return
        transaction = station.open_transaction(connector_id, request, remote=False)
        message.transaction = transaction
        wanted = request.get("reservationId")
        used = station.reservations.get(wanted) if isinstance(wanted, int) else None
        if used is not None:
            reservation.end(station, used)  # §5.13: the start reports the reservation used
    transaction.transaction_id = int(response["transactionId"])
    if transaction.stopping:
        return  # stopped before the answer came: the queued stop now has its id
    connector_id = transaction.connector_id
    info = response["idTagInfo"]
    if station.configuration.get_bool("AuthorizationCacheEnabled") and transaction.id_tag:
        station.cache.remember(transaction.id_tag, info)
    connector = station.connectors[connector_id]
    now = station.clock.now()
    if info.get("status") == AuthorizationStatus.ACCEPTED:
        if not connector.in_transaction and connector.can_apply(ConnectorEvent.START):
            station.transition(connector, ConnectorEvent.START)
        if not station.is_sampling(connector_id):  # started offline: it runs
            station.schedule_sample(connector_id, now)
        return
    # §4.10: the Central System did not accept the id tag of a started transaction.
    if station.configuration.get_bool("StopTransactionOnInvalidId"):
        if connector.can_apply(ConnectorEvent.START):
            connector.apply(ConnectorEvent.START)
        station.stop(transaction, Reason.DE_AUTHORIZED)
    elif connector.can_apply(ConnectorEvent.START):
        # SuspendedEVSE: the charge point offers the EV no energy, whatever it drew before
        # the answer came (an offline start answered after reconnecting).
        station.meters[connector_id].set_power(0, now)
        station.transition(connector, ConnectorEvent.START, ConnectorEvent.EVSE_SUSPEND)


def stop_answered(station: Station, message: Message, response: dict[str, Any]) -> None:
    """StopTransaction.conf (§4.11): the optional idTagInfo is cached."""
    request = message.payload
    info = response.get("idTagInfo")
    id_tag = request.get("idTag")
    if (
        info
        and isinstance(id_tag, str)
        and station.configuration.get_bool("AuthorizationCacheEnabled")
    ):
        station.cache.remember(id_tag, info)
    if message.transaction is not None:
        return
    # A scenario's hand-made StopTransaction closes the transaction it names.
    wanted = request.get("transactionId")
    for connector_id, transaction in list(station.transactions.items()):
        if transaction.transaction_id == wanted and not transaction.stopping:
            del station.transactions[connector_id]
            station.stop_sampling(connector_id)
            station.meters[connector_id].set_power(0, station.clock.now())
            connector = station.connectors[connector_id]
            if connector.can_apply(ConnectorEvent.STOP):
                station.transition(connector, ConnectorEvent.STOP)


APPLY: dict[str, Callable[[Station, Message, dict[str, Any]], None]] = {
    "BootNotification": boot_answered,
    "Authorize": authorize_answered,
    "StartTransaction": start_answered,
    "StopTransaction": stop_answered,
}

"""Requests of the Central System, in a table keyed by action.

Each handler takes the station and the (schema-valid) request payload, applies the request's
effects to the station, and returns the response payload. Effects that are messages (the
StopTransaction after an accepted RemoteStopTransaction, the message a TriggerMessage asks
for) go to the station's outbox and therefore leave after the response, as OCPP-J requires
(OCPP-J 1.6 §4.1.1: a request is answered before the answering side's own new requests).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockpoint.errors import NotSupportedAction
from mockpoint.ocpp16.enums import (
    AvailabilityStatus,
    AvailabilityType,
    ChargePointStatus,
    ClearCacheStatus,
    ConfigurationStatus,
    DataTransferStatus,
    MessageTrigger,
    ReadingContext,
    Reason,
    RegistrationStatus,
    RemoteStartStopStatus,
    ResetStatus,
    ResetType,
    TriggerMessageStatus,
    UnlockStatus,
    UpdateStatus,
)
from mockpoint.station import reservation
from mockpoint.station.station import FIRMWARE_MANAGEMENT_NOTIFICATIONS, Message, Station

Handler = Callable[[Station, dict[str, Any]], dict[str, Any]]


def remote_start_transaction(station: Station, payload: dict[str, Any]) -> dict[str, Any]:
    """§5.11: Accepted if a connector can start a transaction for ``idTag``.

    With no ``connectorId`` the station picks one: a connector with a cable in and no
    transaction first, else the first Available one. A ``chargingProfile`` is accepted and
    not applied (Smart Charging is out of scope). Rejected while the boot is Pending (§4.2:
    the Central System may not send it then; the driver reports the violation).
    """
    if station.registration is RegistrationStatus.PENDING:
        return {"status": RemoteStartStopStatus.REJECTED.value}
    id_tag = payload["idTag"]
    wanted = payload.get("connectorId")
    if wanted is not None:
        candidates = [wanted] if _can_start(station, wanted, id_tag) else []
    else:
        free = [n for n in station.meters if _can_start(station, n, id_tag)]
        plugged = [n for n in free if station.connectors[n].plugged]
        candidates = plugged or free
    if not candidates:
        return {"status": RemoteStartStopStatus.REJECTED.value}
    station.remote_start(candidates[0], id_tag)
    return {"status": RemoteStartStopStatus.ACCEPTED.value}


def _can_start(station: Station, connector_id: int, id_tag: str) -> bool:
    """Free for ``id_tag``: a Reserved connector only for its reservation's tag (§5.13)."""
    connector = station.connectors.get(connector_id)
    return (
        connector is not None
        and connector_id > 0
        and connector_id not in station.transactions
        and not station.remote_starts.is_waiting(connector_id)
        and connector.status in _STARTABLE
        and station.connectors[0].status is not ChargePointStatus.UNAVAILABLE
        and reservation.admits(station, connector_id, id_tag)
    )


_STARTABLE = (ChargePointStatus.AVAILABLE, ChargePointStatus.PREPARING, ChargePointStatus.RESERVED)


def remote_stop_transaction(station: Station, payload: dict[str, Any]) -> dict[str, Any]:
    """§5.12: Accepted and StopTransaction (reason Remote) if the transaction runs here;
    Rejected while the boot is Pending (§4.2)."""
    if station.registration is RegistrationStatus.PENDING:
        return {"status": RemoteStartStopStatus.REJECTED.value}
    wanted = payload["transactionId"]
    for connector_id, transaction in station.transactions.items():
        if transaction.transaction_id == wanted and not transaction.stopping:
            station.stop_transaction(connector_id, Reason.REMOTE)
            return {"status": RemoteStartStopStatus.ACCEPTED.value}
    return {"status": RemoteStartStopStatus.REJECTED.value}


def reset(station: Station, payload: dict[str, Any]) -> dict[str, Any]:
    """§5.14: Accepted; transactions stop (SoftReset / HardReset), then the station reboots."""
    station.request_reboot(hard=payload["type"] == ResetType.HARD)
    return {"status": ResetStatus.ACCEPTED.value}


def get_configuration(station: Station, payload: dict[str, Any]) -> dict[str, Any]:
    """§5.8: known keys with their values (AuthorizationKey without), unknown keys listed."""
    known, unknown = station.configuration.get_configuration(payload.get("key"))
    response: dict[str, Any] = {}
    if known or not unknown:
        response["configurationKey"] = known
    if unknown:
        response["unknownKey"] = unknown
    return response


def change_configuration(station: Station, payload: dict[str, Any]) -> dict[str, Any]:
    """§5.3: Accepted / Rejected / RebootRequired / NotSupported, as the registry decides."""
    key = payload["key"]
    status = station.configuration.change(key, payload["value"])
    if status in (ConfigurationStatus.ACCEPTED, ConfigurationStatus.REBOOT_REQUIRED):
        station.configuration_changed(key)
    return {"status": status.value}


def clear_cache(station: Station, payload: dict[str, Any]) -> dict[str, Any]:
    """§5.4: the authorization cache is emptied; the Local Authorization List stays (§3.5)."""
    station.cache.clear()
    return {"status": ClearCacheStatus.ACCEPTED.value}


def change_availability(station: Station, payload: dict[str, Any]) -> dict[str, Any]:
    """§5.2: Accepted, or Scheduled where a transaction runs (applied when it ends)."""
    connector_id = payload["connectorId"]
    if connector_id not in station.connectors:
        return {"status": AvailabilityStatus.REJECTED.value}
    operative = payload["type"] == AvailabilityType.OPERATIVE
    if connector_id == 0:
        # The charge point as a whole: while any transaction runs, all of it waits.
        targets = list(station.connectors)
        if not operative and station.transactions:
            station.schedule_availability(targets, operative)
            return {"status": AvailabilityStatus.SCHEDULED.value}
    else:
        targets = [connector_id]
    scheduled = station.set_availability(targets, operative)
    status = AvailabilityStatus.SCHEDULED if scheduled else AvailabilityStatus.ACCEPTED
    return {"status": status.value}


def unlock_connector(station: Station, payload: dict[str, Any]) -> dict[str, Any]:
    """§5.18: a running transaction stops (UnlockCommand), then the cable is released."""
    connector_id = payload["connectorId"]
    if connector_id not in station.meters:
        return {"status": UnlockStatus.NOT_SUPPORTED.value}
    transaction = station.transactions.get(connector_id)
    if transaction is not None and not transaction.stopping:
        station.stop_transaction(connector_id, Reason.UNLOCK_COMMAND)
    return {"status": UnlockStatus.UNLOCKED.value}


def trigger_message(station: Station, payload: dict[str, Any]) -> dict[str, Any]:
    """§5.17 TriggerMessage: Accepted, then the requested message.

    ``connectorId`` is "only filled in when the request applies to a specific connector":
    absent, StatusNotification reports every connector, 0 included, and MeterValues every
    connector's meter (with its transactionId where one runs); 0 is the charge point's main
    controller, so StatusNotification of connector 0 only and MeterValues of the main meter
    (the total of all meters, no transactionId); n is connector n. An unknown connector is
    Rejected. DiagnosticsStatusNotification and FirmwareStatusNotification report status
    Idle (see :meth:`Station.firmware_management_idle`).
    """
    requested = payload["requestedMessage"]
    connector_id = payload.get("connectorId")
    if connector_id is not None and connector_id not in station.connectors:
        return {"status": TriggerMessageStatus.REJECTED.value}
    if requested == MessageTrigger.BOOT_NOTIFICATION:
        station.boot()
    elif requested == MessageTrigger.HEARTBEAT:
        station.send_triggered(Message("Heartbeat", {}))
    elif requested == MessageTrigger.STATUS_NOTIFICATION:
        for n in list(station.connectors) if connector_id is None else [connector_id]:
            station.status_notification(n, triggered=True)
    elif requested == MessageTrigger.METER_VALUES:
        # station.meters has connectors 1..N; connector 0 reads the main meter.
        for n in list(station.meters) if connector_id is None else [connector_id]:
            station.meter_values(n, ReadingContext.TRIGGER)
    elif requested in FIRMWARE_MANAGEMENT_NOTIFICATIONS:
        station.firmware_management_idle(requested)
    else:  # none left in the schema's list; the session refuses any other before this
        return {"status": TriggerMessageStatus.NOT_IMPLEMENTED.value}
    return {"status": TriggerMessageStatus.ACCEPTED.value}


def reserve_now(station: Station, payload: dict[str, Any]) -> dict[str, Any]:
    """§5.13: Accepted / Faulted / Occupied / Unavailable / Rejected (``reservation.py``)."""
    return {"status": reservation.reserve_now(station, payload).value}


def cancel_reservation(station: Station, payload: dict[str, Any]) -> dict[str, Any]:
    """§5.1: Accepted and the connector Available again, or Rejected for an unknown id."""
    return {"status": reservation.cancel(station, payload["reservationId"]).value}


def get_local_list_version(station: Station, payload: dict[str, Any]) -> dict[str, Any]:
    """§5.10: the list's version; 0 when it is empty, -1 with LocalAuthListEnabled false.

    -1 is the spec's "does not support Local Authorization Lists" (§5.10); TC_042_1_CS
    accepts it when the list is switched off.
    """
    if not station.configuration.get_bool("LocalAuthListEnabled"):
        return {"listVersion": -1}
    return {"listVersion": station.local_list.reported_version}


def send_local_list(station: Station, payload: dict[str, Any]) -> dict[str, Any]:
    """§5.15: Accepted / Failed / VersionMismatch; NotSupported with the list switched off.

    LocalAuthListEnabled false is answered NotSupported, which TC_043_1_CS expects of a
    charge point that does not use a list.
    """
    configuration = station.configuration
    if not configuration.get_bool("LocalAuthListEnabled"):
        return {"status": UpdateStatus.NOT_SUPPORTED.value}
    status = station.local_list.update(
        payload,
        max_send=configuration.get_int("SendLocalListMaxLength"),
        max_length=configuration.get_int("LocalAuthListMaxLength"),
    )
    return {"status": status.value}


def data_transfer(station: Station, payload: dict[str, Any]) -> dict[str, Any]:
    """§5.6: a vendor this charge point does not know is answered UnknownVendorId (it knows
    none; a scenario's ``reply`` may answer otherwise, to test a CSMS's DataTransfer path)."""
    return {"status": DataTransferStatus.UNKNOWN_VENDOR_ID.value}


HANDLERS: dict[str, Handler] = {
    "RemoteStartTransaction": remote_start_transaction,
    "RemoteStopTransaction": remote_stop_transaction,
    "Reset": reset,
    "GetConfiguration": get_configuration,
    "ChangeConfiguration": change_configuration,
    "ClearCache": clear_cache,
    "ChangeAvailability": change_availability,
    "UnlockConnector": unlock_connector,
    "TriggerMessage": trigger_message,
    "ReserveNow": reserve_now,
    "CancelReservation": cancel_reservation,
    "GetLocalListVersion": get_local_list_version,
    "SendLocalList": send_local_list,
    "DataTransfer": data_transfer,
}

#: Requests a Central System may not send while the boot is Pending (§4.2).
NOT_WHILE_PENDING = frozenset({"RemoteStartTransaction", "RemoteStopTransaction"})


def handle(station: Station, action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """Answer a Central System request; NotSupported for actions without a handler."""
    handler = HANDLERS.get(action)
    if handler is None:
        raise NotSupportedAction(f"{action} is not supported by this charge point")
    return handler(station, payload)


__all__ = ["HANDLERS", "NOT_WHILE_PENDING", "Handler", "handle"]

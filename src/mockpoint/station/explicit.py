"""Defaults for explicit sends (docs/scenario-format.md, the ``send`` step).

A scenario's ``send`` names an action and the fields it cares about; the station fills in
the rest from what it knows (its identity, a connector's status, the running transaction,
the meter), so that a hand-made message is complete and schema-valid unless the scenario
makes it otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockpoint.clock import format_timestamp
from mockpoint.ocpp16.enums import ChargePointErrorCode, ChargePointStatus, ReadingContext

if TYPE_CHECKING:
    from mockpoint.station.station import Station
    from mockpoint.station.transaction import Transaction

__all__ = ["default_payload"]


def default_payload(station: Station, action: str, given: dict[str, Any]) -> dict[str, Any]:
    """``given`` completed with what ``station`` knows; ``given`` wins where both say."""
    now = station.clock.now()
    defaults: dict[str, Any] = {}
    if action == "BootNotification":
        defaults = station.boot_payload()
    elif action == "StatusNotification":
        connector_id = given.get("connectorId", 0)
        connector = station.connectors.get(connector_id) if isinstance(connector_id, int) else None
        defaults = {
            "connectorId": 0,
            "errorCode": ChargePointErrorCode.NO_ERROR.value,
            "status": (connector.status if connector else ChargePointStatus.AVAILABLE).value,
            "timestamp": format_timestamp(now),
        }
    elif action == "StartTransaction":
        connector_id = given.get("connectorId", 1)
        if isinstance(connector_id, int) and connector_id in station.meters:
            defaults = station.start_payload(connector_id, station.last_authorized or "", None)
            if not station.last_authorized:
                del defaults["idTag"]
        defaults.setdefault("connectorId", 1)
    elif action == "StopTransaction":
        transaction = _open_transaction_for(station, given)
        if transaction is not None:
            defaults = {
                "meterStop": station.meters[transaction.connector_id].meter_wh(now),
                "timestamp": format_timestamp(now),
            }
            if transaction.transaction_id is not None:
                defaults["transactionId"] = transaction.transaction_id
    elif action == "MeterValues":
        connector_id = given.get("connectorId", 1)
        if isinstance(connector_id, int) and connector_id in station.meters:
            defaults = {"connectorId": connector_id}
            transaction = station.transactions.get(connector_id)
            if transaction is not None and transaction.transaction_id is not None:
                defaults["transactionId"] = transaction.transaction_id
            defaults["meterValue"] = [
                station.read_meter(connector_id, ReadingContext.SAMPLE_PERIODIC)
            ]
    return {**defaults, **given}


def _open_transaction_for(station: Station, payload: dict[str, Any]) -> Transaction | None:
    wanted = payload.get("transactionId")
    for transaction in station.transactions.values():
        if wanted is None or transaction.transaction_id == wanted:
            return transaction
    return None

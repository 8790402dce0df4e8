"""Clock-aligned meter data (OCPP 1.6 §4.7, §9.1.4 ClockAlignedDataInterval, §9.1.15
MeterValuesAlignedData, §9.1.26 StopTxnAlignedData).

ClockAlignedDataInterval splits every UTC day into evenly spaced intervals starting at
00:00:00; 0 turns clock-aligned data off. At the end of each interval the station reads
every connector's meter once, in context Sample.Clock, and:

- sends a MeterValues.req per connector with the MeterValuesAlignedData measurands (none
  when that key is empty), with the transactionId where a transaction runs; those are
  transaction-related messages, queued while offline (§4.7);
- keeps, for each running transaction, the StopTxnAlignedData measurands of that reading
  for StopTransaction.req's transactionData (§4.11), between its Transaction.Begin and
  Transaction.End samples.

The MeterValue's timestamp is the aligned instant itself (e.g. 08:15:00), the moment the
register was read. §9.1.4 says per-period data "bear the interval start time"; a register
reading is not per-period, and one MeterValue has one timestamp, so the reading instant is
used for all measurands (Energy.Active.Import.Interval then covers the interval that ends
there). An interval that does not divide a day restarts at midnight.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from mockpoint.ocpp16.enums import ReadingContext
from mockpoint.station.metering import SUPPORTED_MEASURANDS as SUPPORTED
from mockpoint.station.outbox import Message
from mockpoint.station.timers import StationTimer

if TYPE_CHECKING:
    from mockpoint.station.station import Station

__all__ = ["TIMER", "next_aligned", "sample", "schedule"]

#: The station timer of the next aligned reading.
TIMER = StationTimer.ALIGNED
_DAY = 86_400


def next_aligned(now: float, interval: int) -> float:
    """The first instant after ``now`` that is a multiple of ``interval`` since midnight UTC."""
    midnight = math.floor(now / _DAY) * _DAY
    step = math.floor((now - midnight) / interval) + 1
    return float(min(midnight + step * interval, midnight + _DAY))


def schedule(station: Station, now: float) -> None:
    """Arm (or disarm) the timer from ClockAlignedDataInterval; only once boot is accepted."""
    interval = station.configuration.get_int("ClockAlignedDataInterval")
    if interval > 0 and station.accepted:
        station.timers.set(TIMER, next_aligned(now, interval))
    else:
        station.timers.cancel(TIMER)


def sample(station: Station, now: float) -> None:
    """The timer fired: read every connector, send and keep what the keys ask for."""
    configuration = station.configuration
    # The keys take only measurands this meter reads (configuration.py refuses others);
    # the filter guards a key table of someone else's.
    sent = [m for m in configuration.get_list("MeterValuesAlignedData") if m in SUPPORTED]
    kept = [m for m in configuration.get_list("StopTxnAlignedData") if m in SUPPORTED]
    for connector_id, meter in station.meters.items():
        transaction = station.transactions.get(connector_id)
        if transaction is not None and transaction.stopping:
            transaction = None
        keep = kept if transaction is not None else []
        # One reading for both keys: Energy.Active.Import.Interval counts from the previous
        # reading in the same context, so reading twice would report 0 the second time.
        measurands = list(dict.fromkeys([*sent, *keep]))
        if not measurands:
            continue
        reading = meter.meter_value(now, measurands, ReadingContext.SAMPLE_CLOCK)
        if transaction is not None and keep:
            transaction.aligned_samples.append(_only(reading, keep))
        if sent:
            payload: dict[str, Any] = {"connectorId": connector_id}
            if transaction is not None:
                payload["transactionId"] = transaction.transaction_id
            payload["meterValue"] = [_only(reading, sent)]
            station.enqueue(
                Message(
                    "MeterValues",
                    payload,
                    transactional=transaction is not None,
                    transaction=transaction,
                )
            )
    schedule(station, now)


def _only(reading: dict[str, Any], measurands: list[str]) -> dict[str, Any]:
    """``reading`` with the sampled values of ``measurands`` only, in reading order."""
    wanted = set(measurands)
    values = [value for value in reading["sampledValue"] if value["measurand"] in wanted]
    return {"timestamp": reading["timestamp"], "sampledValue": values}

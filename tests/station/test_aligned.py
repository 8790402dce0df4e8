"""Clock-aligned meter data (OCPP 1.6 §4.7, §9.1.4 ClockAlignedDataInterval, §9.1.15
MeterValuesAlignedData, §9.1.26 StopTxnAlignedData), sans I/O in virtual time. Every message
is checked against the OCA schemas by the rig."""

from __future__ import annotations

import pytest
import station_rig
from station_rig import ENERGY, T0, Rig, sampled, ts

from mockpoint.clock import parse_timestamp
from mockpoint.station.aligned import next_aligned
from mockpoint.station.station import Message

CLOCK = "Sample.Clock"
INTERVAL = "Energy.Active.Import.Interval"
POWER = "Power.Active.Import"
#: 08:07:30, 450 s after T0 (08:00:00)
START = 450


def booted_at(offset: float, overrides: dict[str, object]) -> Rig:
    """A rig whose boot is accepted at T0 + ``offset``; no sampled meter values."""
    rig = station_rig.make_rig({"MeterValueSampleInterval": 0, **overrides})
    rig.clock.advance_to(T0 + offset)
    rig.boot()
    return rig


def clock_values(seen: list[tuple[float, Message]]) -> list[tuple[float, int, int | None]]:
    """(offset, connectorId, transactionId) of every MeterValues seen."""
    return [
        (when, m.payload["connectorId"], m.payload.get("transactionId"))
        for when, m in seen
        if m.action == "MeterValues"
    ]


@pytest.mark.parametrize(
    ("now", "interval", "expected"),
    [
        ("2025-06-01T08:07:30Z", 900, "2025-06-01T08:15:00Z"),
        ("2025-06-01T08:15:00Z", 900, "2025-06-01T08:30:00Z"),
        ("2025-06-01T23:59:59Z", 60, "2025-06-02T00:00:00Z"),
        # 29 250 s since midnight; 4 179 x 7 = 29 253.
        ("2025-06-01T08:07:30Z", 7, "2025-06-01T08:07:33Z"),
        # 7 hours does not divide a day: 21:00 is followed by midnight, not 04:00.
        ("2025-06-01T21:00:00Z", 25_200, "2025-06-02T00:00:00Z"),
        ("2025-06-01T22:00:00Z", 25_200, "2025-06-02T00:00:00Z"),
    ],
)
def test_next_aligned_counts_from_midnight_utc(now: str, interval: int, expected: str) -> None:
    assert next_aligned(parse_timestamp(now), interval) == parse_timestamp(expected)


def test_clock_aligned_meter_values_at_every_multiple_of_the_interval() -> None:
    rig = booted_at(START, {"ClockAlignedDataInterval": 900})
    seen = rig.run_until(2700)  # 08:45
    assert clock_values(seen) == [
        (900, 1, None),  # 08:15
        (900, 2, None),
        (1800, 1, None),  # 08:30
        (1800, 2, None),
        (2700, 1, None),  # 08:45
        (2700, 2, None),
    ]
    first = seen[[m.action for _, m in seen].index("MeterValues")][1]
    assert first.payload == {
        "connectorId": 1,
        "meterValue": [{"timestamp": ts(900), "sampledValue": [sampled("0", CLOCK)]}],
    }
    assert not first.transactional and first.transaction is None


def test_no_clock_aligned_data_with_interval_zero() -> None:
    rig = booted_at(START, {})
    assert clock_values(rig.run_until(3600)) == []


def test_no_clock_aligned_data_before_the_boot_is_accepted() -> None:
    rig = station_rig.make_rig({"ClockAlignedDataInterval": 60})
    rig.station.on_connected()
    rig.csms.exchange(
        "BootNotification", {"status": "Pending", "currentTime": ts(0), "interval": 600}
    )
    assert rig.station.next_timer() == T0 + 600  # the boot retry only


def test_a_transaction_gets_its_id_and_its_aligned_readings_in_transaction_data() -> None:
    rig = booted_at(
        START,
        {
            "ClockAlignedDataInterval": 900,
            "MeterValuesAlignedData": f"{ENERGY},{POWER}",
            "StopTxnAlignedData": f"{ENERGY},{INTERVAL}",
        },
    )
    transaction_id = rig.charging(1, "TAG-A")
    rig.station.set_power(1, 3_600)  # 1 Wh a second
    seen = rig.run_until(1900)
    assert clock_values(seen) == [
        (900, 1, transaction_id),
        (900, 2, None),
        (1800, 1, transaction_id),
        (1800, 2, None),
    ]
    charging = [m for _, m in seen if m.action == "MeterValues" and m.payload["connectorId"] == 1]
    assert all(m.transactional and m.transaction is not None for m in charging)
    assert charging[0].payload["meterValue"] == [
        {
            "timestamp": ts(900),
            "sampledValue": [
                sampled("450", CLOCK),
                sampled("3600.0", CLOCK, POWER, "W"),
            ],
        }
    ]
    rig.station.stop_transaction(1)
    stop = rig.csms.exchange("StopTransaction")
    assert stop["transactionData"] == [
        {"timestamp": ts(START), "sampledValue": [sampled("0", "Transaction.Begin")]},
        {
            "timestamp": ts(900),
            "sampledValue": [sampled("450", CLOCK), sampled("450", CLOCK, INTERVAL)],
        },
        {
            "timestamp": ts(1800),
            "sampledValue": [sampled("1350", CLOCK), sampled("900", CLOCK, INTERVAL)],
        },
        {"timestamp": ts(1900), "sampledValue": [sampled("1450", "Transaction.End")]},
    ]
    # The next transaction starts with no aligned readings of its own.
    rig.csms.drain()
    rig.station.unplug(1)
    rig.charging(1, "TAG-B")
    rig.station.stop_transaction(1)
    data = rig.csms.exchange("StopTransaction")["transactionData"]
    assert [d["sampledValue"][0]["context"] for d in data] == [
        "Transaction.Begin",
        "Transaction.End",
    ]


def test_stop_txn_aligned_data_without_meter_values_aligned_data() -> None:
    rig = booted_at(
        START,
        {
            "ClockAlignedDataInterval": 900,
            "MeterValuesAlignedData": "",
            "StopTxnAlignedData": ENERGY,
            "StopTxnSampledData": "",
        },
    )
    rig.charging(1, "TAG-A")
    rig.station.set_power(1, 3_600)
    assert clock_values(rig.run_until(1000)) == []
    rig.station.stop_transaction(1)
    assert rig.csms.exchange("StopTransaction")["transactionData"] == [
        {"timestamp": ts(900), "sampledValue": [sampled("450", CLOCK)]}
    ]


def test_a_transaction_stopping_at_an_aligned_instant_keeps_begin_aligned_end_order() -> None:
    rig = booted_at(START, {"ClockAlignedDataInterval": 900, "StopTxnAlignedData": ENERGY})
    rig.charging(1, "TAG-A")
    rig.run_until(900)
    rig.station.stop_transaction(1)
    data = rig.csms.exchange("StopTransaction")["transactionData"]
    assert [(d["timestamp"], d["sampledValue"][0]["context"]) for d in data] == [
        (ts(START), "Transaction.Begin"),
        (ts(900), CLOCK),
        (ts(900), "Transaction.End"),
    ]


def test_an_interval_measurand_in_both_keys_is_read_once() -> None:
    rig = booted_at(
        START,
        {
            "ClockAlignedDataInterval": 900,
            "MeterValuesAlignedData": INTERVAL,
            "StopTxnAlignedData": INTERVAL,
        },
    )
    rig.charging(1, "TAG-A")
    rig.station.set_power(1, 3_600)
    seen = rig.run_until(900)
    [sent] = [m for _, m in seen if m.action == "MeterValues" and m.payload["connectorId"] == 1]
    assert sent.payload["meterValue"][0]["sampledValue"] == [sampled("450", CLOCK, INTERVAL)]
    kept = rig.station.transactions[1].aligned_samples
    assert kept == [{"timestamp": ts(900), "sampledValue": [sampled("450", CLOCK, INTERVAL)]}]


def test_a_measurand_the_meter_cannot_read_is_rejected_and_the_readings_stay() -> None:
    rig = booted_at(START, {"ClockAlignedDataInterval": 900})
    change = {"key": "MeterValuesAlignedData", "value": f"Power.Reactive.Import,{ENERGY}"}
    assert rig.call("ChangeConfiguration", change) == {"status": "Rejected"}
    assert rig.station.configuration.get("MeterValuesAlignedData") == ENERGY
    seen = rig.run_until(900)
    [first, _] = [m for _, m in seen if m.action == "MeterValues"]
    assert first.payload["meterValue"][0]["sampledValue"] == [sampled("0", CLOCK)]


def test_change_configuration_reschedules_clock_aligned_data() -> None:
    rig = booted_at(START, {})
    assert clock_values(rig.run_until(600)) == []
    change = {"key": "ClockAlignedDataInterval", "value": "300"}
    assert rig.call("ChangeConfiguration", change) == {"status": "Accepted"}
    assert [when for when, _, _ in clock_values(rig.run_until(1200))] == [900, 900, 1200, 1200]
    change["value"] = "0"
    assert rig.call("ChangeConfiguration", change) == {"status": "Accepted"}
    assert clock_values(rig.run_until(3600)) == []


def test_clock_aligned_data_resumes_after_a_reboot() -> None:
    rig = booted_at(START, {"ClockAlignedDataInterval": 900})
    rig.run_until(1000)
    rig.station.rebooted()
    assert rig.station.next_timer() is None
    rig.station.on_connected()
    rig.csms.exchange("BootNotification")
    rig.csms.drain()
    assert [when for when, _, _ in clock_values(rig.run_until(1800))] == [1800, 1800]


def test_offline_transaction_meter_values_wait_for_the_connection() -> None:
    rig = booted_at(START, {"ClockAlignedDataInterval": 900})
    transaction_id = rig.charging(1, "TAG-A")
    rig.station.on_disconnected()
    rig.clock.advance_to(T0 + 900)
    rig.station.on_timer(T0 + 900)
    queued = [m for m in rig.csms.drain() if m.action == "MeterValues"]
    assert [(m.payload["connectorId"], m.payload.get("transactionId")) for m in queued] == [
        (1, transaction_id),
        (2, None),
    ]
    assert [m.transactional for m in queued] == [True, False]

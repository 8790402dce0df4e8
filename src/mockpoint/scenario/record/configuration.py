"""Guessing the charge point's configuration from a recorded session.

A replay's station must meter as the original did, or its MeterValues and StopTransactions
differ from the recorded ones. :func:`infer_configuration` reads the meter keys of OCPP 1.6
§9.1 (MeterValueSampleInterval, MeterValuesSampledData, StopTxnSampledData,
ClockAlignedDataInterval, MeterValuesAlignedData) off the recorded MeterValues (§4.7) and
StopTransactions' transactionData (§4.10), leaving out what the defaults already say.
:mod:`~mockpoint.scenario.record.replay` writes them in the scenario's
``charge_point.configuration`` (docs/scenario-format.md) and configures its shadow station
with them.
"""

from __future__ import annotations

from typing import Any

from mockpoint.scenario.record.reading import ENERGY, parse_time, payload_time


def infer_configuration(
    calls: list[tuple[int, str, dict[str, Any]]], times: list[float | None]
) -> dict[str, Any]:
    """The meter keys the recorded MeterValues and StopTransactions show (defaults left out)."""
    config: dict[str, Any] = {}
    periodic: dict[int, list[float]] = {}
    aligned: list[float] = []
    starts: dict[int, float] = {}
    gaps: list[float] = []
    sampled: list[str] | None = None
    aligned_data: list[str] | None = None
    stop_data: list[str] | None = None
    stops: dict[int, float] = {}
    last = max((time for time in times if time is not None), default=0.0)
    for index, action, payload in calls:
        when = times[index] if times[index] is not None else payload_time(action, payload)
        connector = payload.get("connectorId")
        if action == "StartTransaction" and isinstance(connector, int) and when is not None:
            starts[connector] = when
            stops.pop(connector, None)
            periodic[connector] = []
        elif action == "MeterValues" and isinstance(connector, int):
            for value in payload.get("meterValue", []):
                samples = value.get("sampledValue", []) if isinstance(value, dict) else []
                contexts = {s.get("context", "Sample.Periodic") for s in samples}
                measurands = _measurands(samples)
                stamp = parse_time(str(value.get("timestamp", "")))
                if contexts == {"Sample.Periodic"} and stamp is not None:
                    sampled = sampled if sampled is not None else measurands
                    earlier = periodic.setdefault(connector, [])
                    previous = earlier[-1] if earlier else starts.get(connector)
                    if previous is not None and stamp > previous:
                        gaps.append(stamp - previous)
                    earlier.append(stamp)
                elif contexts == {"Sample.Clock"} and stamp is not None:
                    aligned_data = aligned_data if aligned_data is not None else measurands
                    aligned.append(stamp)
        elif action == "StopTransaction":
            running = [number for number in starts if number not in stops]
            if len(running) == 1 and when is not None:
                stops[running[0]] = when
            if stop_data is not None:
                continue
            begin = [
                s
                for value in payload.get("transactionData", [])
                for s in value.get("sampledValue", [])
                if s.get("context") == "Transaction.Begin"
            ]
            stop_data = _measurands(begin)
    if gaps:
        # The key takes whole seconds; a session whose clock ran shows 60.017 s
        config["MeterValueSampleInterval"] = round(min(gaps))
    elif not any(periodic.values()) and any(
        (stops.get(connector, last) - started) >= 60 for connector, started in starts.items()
    ):
        config["MeterValueSampleInterval"] = 0  # transactions longer than the default, unsampled
    if sampled is not None and sampled != [ENERGY]:
        config["MeterValuesSampledData"] = ",".join(sampled)
    if stop_data is not None and stop_data != [ENERGY]:
        config["StopTxnSampledData"] = ",".join(stop_data)
    if len(aligned) > 1:
        interval = min(b - a for a, b in zip(aligned, aligned[1:], strict=False) if b > a)
        config["ClockAlignedDataInterval"] = round(interval)
    if aligned_data is not None and aligned_data != [ENERGY]:
        config["MeterValuesAlignedData"] = ",".join(aligned_data)
    if config.get("MeterValueSampleInterval") == 60:
        del config["MeterValueSampleInterval"]  # the default
    return config


def _measurands(samples: list[Any]) -> list[str]:
    found = [s.get("measurand", ENERGY) for s in samples if isinstance(s, dict)]
    return list(dict.fromkeys(found))

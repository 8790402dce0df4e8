"""Micro-benchmarks of the OCPP-J core: validation, the RPC session, ids, and a loopback
round trip. Run with ``make bench`` (or ``.venv/bin/python benchmarks/bench_core.py``).

Each figure is the median of several repeats, measured in one run, so ratios between rows
are meaningful even on a noisy machine; absolute numbers are not comparable across
machines. Network traffic stays on 127.0.0.1 and is bounded (a fixed number of calls).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import timeit
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema

from mockpoint.clock import VirtualClock, parse_timestamp
from mockpoint.csms.server import MockCsms
from mockpoint.ids import CounterIds, SeededIds
from mockpoint.ocpp16.actions import CENTRAL_SYSTEM_HANDLES, CHARGE_POINT_HANDLES
from mockpoint.ocpp16.schemas import load_schema
from mockpoint.rpc.session import CallReceived, ResultReceived, RpcSession
from mockpoint.rpc.validation import check_request
from mockpoint.runtime.endpoint import Endpoint
from mockpoint.scenario.model import Scenario
from mockpoint.scenario.runner import RunOptions, run_scenarios
from mockpoint.station.metering import Meter
from mockpoint.transport.websocket import connect

METER_VALUES: dict[str, Any] = {
    "connectorId": 1,
    "transactionId": 1,
    "meterValue": [
        Meter(phases=3).meter_value(
            0.0,
            ["Energy.Active.Import.Register", "Power.Active.Import", "Current.Import", "Voltage"],
            "Sample.Periodic",
        )
    ],
}
START_TRANSACTION = {
    "connectorId": 1,
    "idTag": "TAG-0001",
    "meterStart": 0,
    "timestamp": "2025-06-01T08:00:00Z",
}


def per_second(function: Callable[[], object], number: int, repeat: int) -> float:
    """Median operations per second of ``function`` over ``repeat`` runs of ``number``."""
    times = timeit.repeat(function, number=number, repeat=repeat)
    return number / statistics.median(times)


def bench_validation(repeat: int) -> list[tuple[str, float]]:
    rows = []
    for action, payload in (("MeterValues", METER_VALUES), ("StartTransaction", START_TRANSACTION)):
        check_request(action, payload)  # compile once, outside the timing
        reference = jsonschema.Draft4Validator(load_schema(action, False))
        rows.append(
            (
                f"validate {action}: fastjsonschema (mockpoint)",
                per_second(lambda a=action, p=payload: check_request(a, p), 20_000, repeat),
            )
        )
        rows.append(
            (
                f"validate {action}: jsonschema Draft4Validator",
                per_second(lambda r=reference, p=payload: r.is_valid(p), 2_000, repeat),
            )
        )
    return rows


def bench_session(repeat: int) -> list[tuple[str, float]]:
    """A full sans-I/O exchange: call, parse, validate both ways, reply, resolve."""
    cp = RpcSession(CHARGE_POINT_HANDLES, ids=CounterIds())
    cs = RpcSession(CENTRAL_SYSTEM_HANDLES, ids=CounterIds())

    def exchange() -> None:
        cp.call("MeterValues", METER_VALUES, 0.0)
        (request,) = cs.receive(cp.data_to_send()[0], 0.0)
        assert isinstance(request, CallReceived)
        cs.reply(request.call, {})
        (answer,) = cp.receive(cs.data_to_send()[0], 0.0)
        assert isinstance(answer, ResultReceived)

    return [("RPC session exchange (MeterValues, sans I/O)", per_second(exchange, 5_000, repeat))]


def bench_ids(repeat: int) -> list[tuple[str, float]]:
    seeded, counter = SeededIds(0), CounterIds()
    return [
        ("unique id: SeededIds", per_second(seeded, 100_000, repeat)),
        ("unique id: CounterIds", per_second(counter, 100_000, repeat)),
        ("unique id: uuid.uuid4 (reference)", per_second(uuid.uuid4, 100_000, repeat)),
    ]


async def _round_trips(calls: int) -> float:
    clock = VirtualClock(parse_timestamp("2025-06-01T08:00:00Z"), speed=0)
    async with MockCsms(clock=clock) as csms:
        transport = await connect(csms.url, "CP-BENCH")

        async def refuse(call: Any) -> dict[str, Any]:
            raise AssertionError("no requests expected")

        endpoint = Endpoint(transport, RpcSession(CHARGE_POINT_HANDLES, ids=CounterIds()), refuse)
        runner = asyncio.create_task(endpoint.run())
        await endpoint.call("BootNotification", {"chargePointVendor": "b", "chargePointModel": "m"})
        started = time.perf_counter()
        for _ in range(calls):
            await endpoint.call("Heartbeat", {})
        elapsed = time.perf_counter() - started
        await endpoint.close()
        await runner
    return calls / elapsed


def bench_loopback(repeat: int) -> list[tuple[str, float]]:
    rates = [asyncio.run(_round_trips(2_000)) for _ in range(repeat)]
    return [("Heartbeat round trips, one CP, loopback WebSocket", statistics.median(rates))]


def bench_ten_hour_session(repeat: int) -> list[tuple[str, float]]:
    """A 10-hour session with 60 s sampling (600 MeterValues) at clock speed 0, end to end
    against the embedded CSMS: seconds of real time (lower is better)."""
    scenario = Scenario.model_validate(
        {
            "name": "ten hours",
            "charge_point": {"configuration": {"MeterValueSampleInterval": 60}},
            "clock": {"start": "2025-06-01T08:00:00Z", "speed": 0},
            "steps": [{"session": {"id_tag": "TAG-1", "power": "11kW", "duration": "10h"}}],
        }
    )
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run = asyncio.run(run_scenarios([(Path("bench.yaml"), scenario)], RunOptions()))
        times.append(time.perf_counter() - started)
        assert run.exit_code == 0, run.scenarios[0].steps
    return [("10-hour session at speed 0 (seconds, lower is better)", statistics.median(times))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="repeats per figure (median)")
    args = parser.parse_args()
    rows = [
        *bench_validation(args.repeat),
        *bench_session(args.repeat),
        *bench_ids(args.repeat),
        *bench_loopback(args.repeat),
        *bench_ten_hour_session(args.repeat),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'benchmark':<{width}}  {'median ops/s':>14}")
    for name, rate in rows:
        print(f"{name:<{width}}  {rate:>14,.{2 if rate < 100 else 0}f}")
    by_name = dict(rows)
    for action in ("MeterValues", "StartTransaction"):
        fast = by_name[f"validate {action}: fastjsonschema (mockpoint)"]
        slow = by_name[f"validate {action}: jsonschema Draft4Validator"]
        print(f"fastjsonschema / jsonschema on {action}: {fast / slow:.1f}x")


if __name__ == "__main__":
    main()

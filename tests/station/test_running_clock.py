"""The station under a clock that runs (speed > 0, as in `mockpoint shell` or a load run):
every reading of one instant agrees, though the clock moves between two reads of it."""

from __future__ import annotations

import itertools

from station_rig import T0, CentralSystem, Rig

from mockpoint.clock import VirtualClock
from mockpoint.station.configuration import Configuration
from mockpoint.station.station import Identity, Station


def test_a_stop_with_end_readings_while_the_clock_runs() -> None:
    ticks = itertools.count()
    # Every read of the monotonic clock is 1 ms later: at speed 60, 60 ms of virtual time.
    clock = VirtualClock(T0, speed=60, monotonic=lambda: next(ticks) / 1000)
    configuration = Configuration(
        {"StopTxnSampledData": "Energy.Active.Import.Register"}, number_of_connectors=1
    )
    station = Station(Identity("CP-RUN"), clock, configuration)
    rig = Rig(clock, station, CentralSystem(station))
    station.on_connected()
    rig.csms.drain()
    station.plug_in(1)
    station.start_transaction(1, "TAG-1")
    rig.csms.drain()
    station.set_power(1, 11_000)
    stop = station.stop_transaction(1, "Remote")  # raised "time went backwards" before
    *_, end = stop.payload["transactionData"]  # after Transaction.Begin
    assert end["sampledValue"][0]["context"] == "Transaction.End"
    assert end["timestamp"] == stop.payload["timestamp"]
    assert int(end["sampledValue"][0]["value"]) == stop.payload["meterStop"]

"""mockpoint: a deterministic OCPP 1.6J charge point simulator for testing CSMS backends.

The public surface: a simulated charge point to drive from Python (:func:`charge_point`),
scenario files run programmatically (:func:`run_scenario`), the mock CSMS, the charge point
model and its driver, the clock and id generators they are built on, the transports, and
the exception tree.
"""

from mockpoint.api import (
    SimulatedChargePoint,
    StepError,
    charge_point,
    run_scenario,
    run_scenario_files,
)
from mockpoint.clock import Clock, SystemClock, VirtualClock, format_timestamp, parse_timestamp
from mockpoint.csms.config import CsmsConfig, config_from_mapping, load_config
from mockpoint.csms.server import MockCsms
from mockpoint.errors import (
    CallErrorReceived,
    CallFailed,
    CallTimeout,
    ConnectError,
    ConnectionLost,
    ErrorCode,
    ExitCode,
    LocalProtocolError,
    MockpointError,
    OcppError,
    ProtocolError,
    Refused,
    RemoteProtocolError,
    UsageError,
)
from mockpoint.ids import CounterIds, SeededIds
from mockpoint.runtime.charge_point import ChargePoint
from mockpoint.station.configuration import Configuration
from mockpoint.station.station import Identity, Station
from mockpoint.transport.memory import memory_pair
from mockpoint.transport.websocket import connect

__version__ = "0.1.0"

__all__ = [
    "CallErrorReceived",
    "CallFailed",
    "CallTimeout",
    "ChargePoint",
    "Clock",
    "Configuration",
    "ConnectError",
    "ConnectionLost",
    "CounterIds",
    "CsmsConfig",
    "ErrorCode",
    "ExitCode",
    "Identity",
    "LocalProtocolError",
    "MockCsms",
    "MockpointError",
    "OcppError",
    "ProtocolError",
    "Refused",
    "RemoteProtocolError",
    "SeededIds",
    "SimulatedChargePoint",
    "Station",
    "StepError",
    "SystemClock",
    "UsageError",
    "VirtualClock",
    "charge_point",
    "config_from_mapping",
    "connect",
    "format_timestamp",
    "load_config",
    "memory_pair",
    "parse_timestamp",
    "run_scenario",
    "run_scenario_files",
]

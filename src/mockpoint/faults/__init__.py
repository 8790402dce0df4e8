"""Fault injection: rules a scenario switches on (ignore, delay, drop) and a transport
wrapper for seeded random faults over a whole run (latency, drops, disconnects)."""

from mockpoint.faults.rules import DropRule, FaultRules
from mockpoint.faults.transport import FaultyTransport, InjectedDisconnect, RandomFaults

__all__ = [
    "DropRule",
    "FaultRules",
    "FaultyTransport",
    "InjectedDisconnect",
    "RandomFaults",
]

"""The charge point model: connectors, transactions, configuration, meter. Sans I/O."""

from mockpoint.station.configuration import Configuration, ConfigurationError
from mockpoint.station.connector import Connector, ConnectorEvent, InvalidTransition
from mockpoint.station.handlers import HANDLERS, handle
from mockpoint.station.metering import Meter
from mockpoint.station.station import Identity, Message, Reboot, Station

__all__ = [
    "HANDLERS",
    "Configuration",
    "ConfigurationError",
    "Connector",
    "ConnectorEvent",
    "Identity",
    "InvalidTransition",
    "Message",
    "Meter",
    "Reboot",
    "Station",
    "handle",
]

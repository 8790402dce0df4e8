"""Byte movers: the WebSocket adapter and an in-memory pair behind one small protocol."""

from mockpoint.transport.base import Inbox, Receiver, Transport
from mockpoint.transport.memory import MemoryTransport, memory_pair
from mockpoint.transport.websocket import (
    SUBPROTOCOL,
    WebSocketTransport,
    charge_point_url,
    connect,
)

__all__ = [
    "SUBPROTOCOL",
    "Inbox",
    "MemoryTransport",
    "Receiver",
    "Transport",
    "WebSocketTransport",
    "charge_point_url",
    "connect",
    "memory_pair",
]

"""The built-in mock CSMS: configurable answers (behaviour) and the WebSocket server."""

from mockpoint.csms.behaviour import (
    ChargePointState,
    CsmsBehaviour,
    CsmsConfig,
    Transaction,
    config_from_mapping,
    load_config,
)
from mockpoint.csms.framelog import FrameLog
from mockpoint.csms.server import MockCsms

__all__ = [
    "ChargePointState",
    "CsmsBehaviour",
    "CsmsConfig",
    "FrameLog",
    "MockCsms",
    "Transaction",
    "config_from_mapping",
    "load_config",
]

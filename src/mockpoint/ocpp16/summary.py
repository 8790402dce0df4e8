"""A few words for an OCPP 1.6 payload, for console lines and reports.

``summarize("StatusNotification", {"connectorId": 1, "status": "Preparing", ...})`` gives
``"#1 Preparing"``. Payloads it has no words for are shown as compact JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

Payload = dict[str, Any]


def _json(payload: Any) -> str:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def _status_notification(p: Payload) -> str:
    text = f"#{p.get('connectorId')} {p.get('status')}"
    if p.get("errorCode") not in (None, "NoError"):
        text += f" ({p.get('errorCode')})"
    return text


def _meter_values(p: Payload) -> str:
    parts = [f"#{p.get('connectorId')}"]
    if "transactionId" in p:
        parts.append(f"tx {p['transactionId']}")
    samples = (p.get("meterValue") or [{}])[-1].get("sampledValue", [])
    for sample in samples[:3]:
        if isinstance(sample, dict):
            unit = sample.get("unit", "Wh" if "measurand" not in sample else "")
            parts.append(f"{sample.get('value')} {unit}".strip())
    return " ".join(parts)


def _id_tag_info(p: Payload) -> str:
    info = p.get("idTagInfo")
    return str(info.get("status")) if isinstance(info, dict) else ""


_REQUESTS: dict[str, Callable[[Payload], str]] = {
    "BootNotification": lambda p: f"{p.get('chargePointVendor')} {p.get('chargePointModel')}",
    "StatusNotification": _status_notification,
    "Authorize": lambda p: str(p.get("idTag")),
    "StartTransaction": lambda p: (
        f"#{p.get('connectorId')} {p.get('idTag')} meterStart={p.get('meterStart')}"
    ),
    "StopTransaction": lambda p: (
        f"tx {p.get('transactionId')} meterStop={p.get('meterStop')} {p.get('reason', 'Local')}"
    ),
    "MeterValues": _meter_values,
    "Heartbeat": lambda p: "",
}

_RESPONSES: dict[str, Callable[[Payload], str]] = {
    "BootNotification": lambda p: f"{p.get('status')} interval={p.get('interval')}",
    "Heartbeat": lambda p: str(p.get("currentTime")),
    "Authorize": _id_tag_info,
    "StartTransaction": lambda p: f"tx {p.get('transactionId')} {_id_tag_info(p)}",
    "StopTransaction": _id_tag_info,
    "StatusNotification": lambda p: "",
    "MeterValues": lambda p: "",
}


def summarize(action: str, payload: Any, *, response: bool = False) -> str:
    """A short description of ``payload``; compact JSON where there is no better one."""
    table = _RESPONSES if response else _REQUESTS
    describe = table.get(action)
    if describe is None or not isinstance(payload, dict):
        return _json(payload)
    try:
        return describe(payload)
    except (AttributeError, TypeError, IndexError, KeyError):
        return _json(payload)

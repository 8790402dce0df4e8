"""Paths into JSON data, as messages and ``save`` name them: ``meterValue[0].timestamp``.

Shared by the scenario loader's checks, the mock CSMS configuration's errors and the payload
checks, so that every message names a place the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

#: what :func:`key_in` finds when the key is not there
NOT_THERE = object()


def key_in(container: Any, part: object) -> Any:
    if isinstance(container, dict):
        if part in container:
            return part
        return next((key for key in container if str(key) == str(part)), NOT_THERE)
    if isinstance(container, list) and isinstance(part, int) and 0 <= part < len(container):
        return part
    return NOT_THERE


_PATH_PART = re.compile(r"\[(\d+)\]|\.?([^.\[\]]+)")


def parse_path(text: str) -> list[Any]:
    """``["meterValue", 0, "timestamp"]`` from ``meterValue[0].timestamp``."""
    return [int(index) if index else name for index, name in _PATH_PART.findall(text)]


def json_path(parts: Sequence[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text

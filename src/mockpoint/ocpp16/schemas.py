"""The OCA OCPP 1.6 JSON schemas (draft-04), read from the ``ocpp`` package.

These files are the Open Charge Alliance originals; they are the authority for every payload
mockpoint sends or accepts.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from mockpoint.ocpp16.actions import ACTIONS


@functools.cache
def load_schema(action: str, response: bool) -> dict[str, Any]:
    """The schema of ``action``'s request, or of its response when ``response`` is true."""
    if action not in ACTIONS:
        raise KeyError(action)
    name = f"{action}Response.json" if response else f"{action}.json"
    text = resources.files("ocpp.v16").joinpath("schemas", name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema

"""The OCA OCPP 1.6 JSON schemas (draft-04), read from the ``ocpp`` package.

These files are the Open Charge Alliance originals; they are the authority for every payload
mockpoint sends or accepts.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path
from typing import Any

from mockpoint.ocpp16.actions import ACTIONS


@functools.cache
def schema_folder() -> Path:
    """Where the ``ocpp`` package keeps its 1.6 schemas.

    Found without importing ``ocpp.v16``, which would pull in that package's own runtime
    (a quarter of a second of start-up) for a folder of JSON files.
    """
    spec = importlib.util.find_spec("ocpp")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the ocpp package (which ships the OCA schemas) is missing")
    return Path(next(iter(spec.submodule_search_locations))) / "v16" / "schemas"


@functools.cache
def load_schema(action: str, response: bool) -> dict[str, Any]:
    """The schema of ``action``'s request, or of its response when ``response`` is true."""
    if action not in ACTIONS:
        raise KeyError(action)
    name = f"{action}Response.json" if response else f"{action}.json"
    text = (schema_folder() / name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema

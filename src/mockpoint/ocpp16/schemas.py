"""The OCA OCPP 1.6 JSON schemas (draft-04), shipped inside mockpoint.

These files are the Open Charge Alliance originals (``oca_schemas/``, copied from the ``ocpp``
package; its README says where from and under which license); they are the authority for
every payload mockpoint sends or accepts.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from importlib.resources.abc import Traversable
from typing import Any

from mockpoint.ocpp16.actions import ACTIONS


@functools.cache
def schema_folder() -> Traversable:
    """The folder of the 1.6 schemas, a resource of this package.

    A :class:`~pathlib.Path` when mockpoint is installed as files (the usual case); read it
    through the :class:`~importlib.resources.abc.Traversable` methods to work from a zip too.
    """
    return importlib.resources.files("mockpoint.ocpp16") / "oca_schemas"


@functools.cache
def load_schema(action: str, response: bool) -> dict[str, Any]:
    """The schema of ``action``'s request, or of its response when ``response`` is true."""
    if action not in ACTIONS:
        raise KeyError(action)
    name = f"{action}Response.json" if response else f"{action}.json"
    text = schema_folder().joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema

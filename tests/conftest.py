"""Shared test support.

``oca_check`` validates payloads with the ``jsonschema`` library against the OCA schemas:
a second validator, independent of the ``fastjsonschema`` one mockpoint itself uses, so a
bug in our validation cannot hide a frame that a strict CSMS would refuse.
"""

from __future__ import annotations

import decimal
import json
import os
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest

from mockpoint.ocpp16.schemas import load_schema

#: Every timeout in the tests is a multiple of this, so a slow machine can scale them all.
UNIT = float(os.environ.get("MOCKPOINT_TEST_TIMEOUT_UNIT", "1.0"))

_FORMATS = jsonschema.Draft4Validator.FORMAT_CHECKER


def oca_errors(action: str, payload: dict[str, Any], *, response: bool = False) -> list[str]:
    """Every way ``payload`` breaks the OCA schema, per the jsonschema library."""
    schema = load_schema(action, response)
    # Decimal keeps `multipleOf: 0.1` exact, as the ocpp package does for the same reason.
    instance = json.loads(json.dumps(payload), parse_float=decimal.Decimal)
    validator = jsonschema.Draft4Validator(schema, format_checker=_FORMATS)
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(instance)]


def assert_frame_valid(text: str) -> None:
    """Assert that ``text`` is a well-formed CALL whose payload passes the OCA schema."""
    frame = json.loads(text)
    assert isinstance(frame, list) and frame[0] == 2 and len(frame) == 4, text
    assert isinstance(frame[1], str) and 0 < len(frame[1]) <= 36, text
    errors = oca_errors(frame[2], frame[3])
    assert not errors, f"{frame[2]} breaks the OCA schema: {errors}"


@pytest.fixture
def oca_check() -> Callable[..., list[str]]:
    return oca_errors

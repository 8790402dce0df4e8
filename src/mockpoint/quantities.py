"""Durations, powers and energies as mockpoint's files and options write them: one grammar.

A quantity is a number, or a string of a number and a unit (docs/scenario-format.md):

- a duration is ``500ms``, ``30s``, ``5m``, ``2h`` or a number of seconds;
- a power is ``7.4kW``, ``11000W`` or a number of watts;
- an energy is ``20kWh``, ``500Wh`` or a number of watt-hours.

The number of a string is digits with an optional decimal point (``5``, ``1.5``, ``5.``,
``.5``); blanks may stand around it and between it and the unit, which is case-sensitive.
No quantity is negative, infinite or NaN.

Scenarios, fleets and the mock CSMS's configuration read quantities through the pydantic
types :data:`Duration`, :data:`Power` and :data:`Energy` (and :data:`PositiveDuration`);
options and query strings through :func:`parse_duration` and its siblings. Each raises
:class:`ValueError` with a message that names the value and what it should be.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import BeforeValidator, WithJsonSchema

__all__ = [
    "DURATION_UNITS",
    "ENERGY_UNITS",
    "POWER_UNITS",
    "Duration",
    "Energy",
    "PositiveDuration",
    "Power",
    "parse_duration",
    "parse_energy",
    "parse_positive_duration",
    "parse_power",
]

#: What each unit is worth in seconds, watts and watt-hours ("": a bare number).
DURATION_UNITS: dict[str, float] = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "": 1}
POWER_UNITS: dict[str, float] = {"kW": 1000, "W": 1, "": 1}
ENERGY_UNITS: dict[str, float] = {"kWh": 1000, "Wh": 1, "": 1}

#: The number of a quantity: ``5``, ``1.5``, ``5.`` or ``.5``.
_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_QUANTITY = re.compile(rf"\s*{_NUMBER}\s*([a-zA-Z]*)\s*")


def _quantity(value: object, units: dict[str, float], what: str, example: str) -> float:
    if isinstance(value, bool):
        raise ValueError(f"a {what} is a number or a string like {example}")
    if isinstance(value, int | float):
        try:
            number = float(value)
        except OverflowError:
            raise ValueError(f"this {what} is too large") from None
        if not math.isfinite(number):
            raise ValueError(f"a {what} must be a finite number")
        if number < 0:
            raise ValueError(f"a {what} cannot be negative")
        return number
    if not isinstance(value, str):
        raise ValueError(f"a {what} is a number or a string like {example}")
    match = _QUANTITY.fullmatch(value)
    unit = match.group(2) if match else None
    if match is None or unit not in units:
        known = ", ".join(u for u in units if u)
        raise ValueError(f"{value!r} is not a {what}: use a number and one of {known} ({example})")
    number = float(match.group(1)) * units[unit]
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is too large")
    return number


def parse_duration(value: object) -> float:
    """Seconds of ``500ms``, ``30s``, ``5m``, ``2h`` (a bare number is seconds)."""
    return _quantity(value, DURATION_UNITS, "duration", "30s")


def parse_positive_duration(value: object) -> float:
    """Seconds of a duration that must be more than 0 (a timeout, a period)."""
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError("must be greater than 0")
    return seconds


def parse_power(value: object) -> float:
    """Watts of ``7.4kW``, ``11000W`` (a bare number is watts)."""
    return _quantity(value, POWER_UNITS, "power", "11kW")


def parse_energy(value: object) -> float:
    """Watt-hours of ``20kWh``, ``500Wh`` (a bare number is watt-hours)."""
    return _quantity(value, ENERGY_UNITS, "energy", "20kWh")


def _schema(units: dict[str, float], description: str, *, positive: bool = False) -> WithJsonSchema:
    """The JSON Schema of a quantity: the grammar above, for editors."""
    names = "|".join(u for u in units if u)
    bound = {"exclusiveMinimum": 0} if positive else {"minimum": 0}
    return WithJsonSchema(
        {
            "description": description,
            "anyOf": [
                {"type": "string", "pattern": rf"^\s*(\d+(\.\d*)?|\.\d+)\s*({names})?\s*$"},
                {"type": "number", **bound},
            ],
        }
    )


Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    _schema(DURATION_UNITS, "500ms, 30s, 5m, 2h, or seconds"),
]
PositiveDuration = Annotated[
    float,
    BeforeValidator(parse_positive_duration),
    _schema(DURATION_UNITS, "500ms, 30s, 5m, 2h, or seconds; more than 0", positive=True),
]
Power = Annotated[
    float,
    BeforeValidator(parse_power),
    _schema(POWER_UNITS, "7.4kW, 11000W, or watts"),
]
Energy = Annotated[
    float,
    BeforeValidator(parse_energy),
    _schema(ENERGY_UNITS, "20kWh, 500Wh, or watt-hours"),
]

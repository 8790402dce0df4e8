"""Unique-id generators for OCPP-J CALLs (at most 36 characters, OCPP-J 1.6 §4.1.3).

Never ``uuid4()``: ids come from a seeded generator, so the same scenario and seed always
produce the same ids.
"""

from __future__ import annotations

import random
import uuid
from typing import Protocol


class IdGenerator(Protocol):
    def __call__(self) -> str: ...


class SeededIds:
    """UUID-shaped ids from a private PRNG seeded with ``seed`` (global state untouched)."""

    def __init__(self, seed: int | str = 0) -> None:
        self._random = random.Random(seed)

    def __call__(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))


class CounterIds:
    """``prefix`` followed by 1, 2, 3...: the cheapest unique ids, for load runs."""

    def __init__(self, prefix: str = "", start: int = 1) -> None:
        self._prefix = prefix
        self._next = start

    def __call__(self) -> str:
        value = f"{self._prefix}{self._next}"
        self._next += 1
        return value

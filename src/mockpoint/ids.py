"""Unique-id generators for OCPP-J CALLs (at most 36 characters, OCPP-J 1.6 §4.1.3).

Never ``uuid4()``: ids come from a seeded generator, so the same scenario and seed always
produce the same ids. Where the seed comes from is decided at the edge
(:func:`mockpoint.assembly.seed_and_start`), never here.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import Protocol


class IdGenerator(Protocol):
    def __call__(self) -> str: ...


class SeededIds:
    """UUID-shaped ids from a private PRNG seeded with ``seed`` (global state untouched).

    Its position (how many ids it has handed out) can be saved and restored, so that a
    charge point restarted from a state file goes on with its sequence instead of sending
    the ids of its first session again (runtime/state_file.py): :meth:`skip_to` restores,
    and :meth:`reserve_with` keeps a saved position ahead of every id handed out.
    """

    def __init__(self, seed: int | str = 0) -> None:
        self.seed = seed
        self._random = random.Random(seed)
        self._drawn = 0
        self._reserved = 0
        self._reserve: Callable[[int], None] | None = None
        self._block = 0

    def __call__(self) -> str:
        if self._reserve is not None and self._drawn >= self._reserved:
            self._reserved = self._drawn + self._block
            self._reserve(self._reserved)
        self._drawn += 1
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    @property
    def drawn(self) -> int:
        """How many ids were handed out, or skipped, since the seed."""
        return self._drawn

    @property
    def reserved(self) -> int:
        """The position a restart goes on from: no id at or past it has been handed out
        (:meth:`drawn` when nothing reserves ahead)."""
        return max(self._drawn, self._reserved)

    def skip_to(self, position: int) -> None:
        """Go on from ``position``: the ids before it are never handed out (they may have
        been, before a restart). Raises ValueError for a position already passed."""
        if position < self._drawn:
            raise ValueError(f"position {position} is behind the {self._drawn} ids drawn")
        for _ in range(position - self._drawn):
            self._random.getrandbits(128)
        self._drawn = position

    def reserve_with(self, reserve: Callable[[int], None] | None, block: int = 64) -> None:
        """Before handing out an id at or past :attr:`reserved`, move :attr:`reserved`
        ``block`` ids further and call ``reserve`` with it, which must put it on record
        before returning. A position saved that way is ahead of every id handed out, even
        when the process dies between two saves, at the cost of at most ``block`` ids
        skipped by a restart. ``None`` stops reserving."""
        if block < 1:
            raise ValueError("block must be at least 1")
        self._reserve = reserve
        self._block = block
        self._reserved = self._drawn


class CounterIds:
    """``prefix`` followed by 1, 2, 3...: the cheapest unique ids, for load runs."""

    # Slots: a load run holds thousands of these.
    __slots__ = ("_next", "_prefix")

    def __init__(self, prefix: str = "", start: int = 1) -> None:
        self._prefix = prefix
        self._next = start

    def __call__(self) -> str:
        value = f"{self._prefix}{self._next}"
        self._next += 1
        return value

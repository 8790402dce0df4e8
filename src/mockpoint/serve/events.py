"""The live event stream of ``mockpoint serve`` (docs/serve.md, "Events").

Every event goes to every subscriber whose filter takes it, in the order it happened, each
with a number (``seq``) one higher than the last. A subscriber that falls too far behind is
not slowed down to nor silently thinned: its stream ends with an ``overflow`` event that
says from which number it lost events, and it may subscribe again.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any

#: events a subscriber may have waiting before its stream ends with ``overflow``
BACKLOG = 10_000

#: every kind of event (docs/serve.md, "Events")
EVENT_TYPES = (
    "frame",
    "connector",
    "link",
    "step",
    "charge_point",
    "run",
    "scenario",
    "load",
    "overflow",
)


class Subscription:
    """One reader of the stream, with its own queue."""

    def __init__(
        self,
        stream: EventStream,
        charge_point: str | None,
        types: Collection[str] | None,
        backlog: int,
    ) -> None:
        self._stream = stream
        self.charge_point = charge_point
        self.types = frozenset(types) if types else None
        self._queue: collections.deque[dict[str, Any]] = collections.deque()
        self._backlog = backlog
        self._ready = asyncio.Event()
        self._lost_from: int | None = None
        self._closed = False

    def wants(self, event: dict[str, Any]) -> bool:
        if self.types is not None and event["type"] not in self.types:
            return False
        cp = event.get("charge_point")
        return self.charge_point is None or cp is None or cp == self.charge_point

    def offer(self, event: dict[str, Any]) -> None:
        if self._lost_from is not None or self._closed or not self.wants(event):
            return
        if len(self._queue) >= self._backlog:
            self._lost_from = event["seq"]
        else:
            self._queue.append(event)
        self._ready.set()

    async def next(self) -> dict[str, Any] | None:
        """The next event; after an overflow, the ``overflow`` event, then None (the end)."""
        while not self._queue:
            if self._closed:
                return None
            if self._lost_from is not None:
                self._closed = True
                return self._stream.stamp(
                    "overflow",
                    {
                        "lost_from": self._lost_from,
                        "why": f"more than {self._backlog} events waited for this reader; "
                        "subscribe again",
                    },
                )
            self._ready.clear()
            await self._ready.wait()
        return self._queue.popleft()

    def close(self) -> None:
        self._closed = True
        self._ready.set()
        self._stream.unsubscribe(self)


class EventStream:
    def __init__(self, backlog: int = BACKLOG) -> None:
        self._subscribers: set[Subscription] = set()
        self._seq = 0
        self._backlog = backlog

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def stamp(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        self._seq += 1
        now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {"seq": self._seq, "type": kind, "time": now, **data}

    def publish(self, kind: str, **data: Any) -> None:
        if not self._subscribers:
            self._seq += 1  # the numbering goes on: a late reader sees where it joined
            return
        event = self.stamp(kind, data)
        for subscriber in self._subscribers:
            subscriber.offer(event)

    def subscribe(
        self, charge_point: str | None = None, types: Collection[str] | None = None
    ) -> Subscription:
        subscription = Subscription(self, charge_point, types, self._backlog)
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    def close(self) -> None:
        for subscription in list(self._subscribers):
            subscription.close()

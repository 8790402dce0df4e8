"""What a station wants to send, in the order a real charge point would send it.

A :class:`Station` is sans-I/O: its requests (:class:`Message`) and its directives to the
driver (:class:`Reboot`, :class:`Reconnect`) wait in its :class:`Outbox` until the driver
takes them with ``Station.next_item``. The outbox keeps OCPP's ordering rules:

- until a BootNotification is accepted only the boot itself and a scenario's explicit sends
  may go (OCPP 1.6 §4.2), so :meth:`Outbox.take_sendable` skips the rest, in place;
- a message whose connection was lost goes back to the head (:meth:`Outbox.requeue`), since
  transaction-related messages are delivered in order (§4.7, §4.10);
- a restart keeps only the transaction-related messages (:meth:`Outbox.keep_transactional`,
  §4.10), and an accepted boot replaces the StatusNotifications queued before it (§4.2).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mockpoint.station.transaction import Transaction

__all__ = ["Item", "Message", "Outbox", "Reboot", "Reconnect"]


@dataclass(eq=False)
class Message:
    """A request the station wants to send."""

    action: str
    payload: dict[str, Any]
    #: may go out before the boot is accepted (the boot itself, a scenario's explicit send)
    before_boot: bool = False
    #: StartTransaction, StopTransaction and transaction MeterValues (OCPP 1.6 §4.7, §4.10)
    transactional: bool = False
    #: validate against the OCA schema before sending (a scenario may send invalid ones)
    validate: bool = True
    #: seconds to wait for the answer; None: the driver's default
    timeout: float | None = None
    #: the answer, once applied
    response: dict[str, Any] | None = None
    #: why it failed: a CALLERROR, an invalid answer, a timeout, a lost connection
    error: Exception | None = None
    #: the transaction it belongs to; its id is filled in when the message goes out, since
    #: the StartTransaction answer that assigns it may still be on its way when it is queued
    transaction: Transaction | None = None
    #: decided by the station itself (an Authorize answered from the Local Authorization
    #: List or the cache, OCPP 1.6 §3.5): ``response`` is set, it never goes out
    local: bool = False
    #: a boot retried after a Pending / Rejected / failed one: the driver holds it until
    #: :attr:`Station.boot_retry_delay` has passed in wall time too (§4.2)
    retry: bool = False


@dataclass(eq=False)
class Reboot:
    """A directive to the driver: close the connection, reconnect and boot (§5.14 Reset)."""

    hard: bool


@dataclass(eq=False)
class Reconnect:
    """A directive to the driver: close the connection and open it again, without a boot.

    OCPP 1.6 security whitepaper: after a new AuthorizationKey or a higher SecurityProfile is
    accepted, the charge point reconnects with the new credentials.
    """

    reason: str


Item = Message | Reboot | Reconnect


class Outbox:
    """The station's queue of items to send, oldest first.

    ``accepted`` (the boot was accepted) is the station's to say: the outbox only applies
    §4.2's rule with it. A directive may go at any time.
    """

    # Slots: a load run holds thousands of these. A list, not a deque: it rarely holds more
    # than a few items, and an empty deque costs 624 bytes per charge point.
    __slots__ = ("_items",)

    def __init__(self) -> None:
        self._items: list[Item] = []

    def enqueue(self, item: Item) -> None:
        """Queue ``item`` behind everything waiting."""
        self._items.append(item)

    def enqueue_all(self, items: Iterable[Item]) -> None:
        """Queue ``items``, in order, behind everything waiting."""
        self._items.extend(items)

    def take_sendable(self, accepted: bool) -> Item | None:
        """Remove and return the oldest item that may go now, or None (§4.2)."""
        for index, item in enumerate(self._items):
            if accepted or not isinstance(item, Message) or item.before_boot:
                del self._items[index]
                return item
        return None

    def has_sendable(self, accepted: bool) -> bool:
        """Whether :meth:`take_sendable` would return something now."""
        return any(
            accepted or not isinstance(item, Message) or item.before_boot for item in self._items
        )

    def has_pending(self) -> bool:
        """Whether anything waits, sendable now or not."""
        return bool(self._items)

    def has_boot(self) -> bool:
        """Whether a BootNotification waits."""
        return any(
            isinstance(item, Message) and item.action == "BootNotification" for item in self._items
        )

    def actions(self) -> list[str]:
        """What waits, oldest first: each message's action, or ``Reboot`` / ``Reconnect``."""
        return [
            item.action if isinstance(item, Message) else type(item).__name__
            for item in self._items
        ]

    def messages(self) -> list[Message]:
        """The messages that wait, oldest first (the directives left out)."""
        return [item for item in self._items if isinstance(item, Message)]

    def requeue(self, message: Message) -> None:
        """Put ``message`` back at the head: it was taken and could not be delivered."""
        self._items.insert(0, message)

    def keep_transactional(self) -> None:
        """Drop everything but the transaction-related messages (a restart, §4.10)."""
        self._items = [m for m in self._items if isinstance(m, Message) and m.transactional]

    def drop_stale_statuses(self) -> None:
        """Drop the StatusNotifications the station queued itself (not a scenario's explicit
        ones): an accepted boot reports every connector anew (§4.2)."""
        self._items = [
            item
            for item in self._items
            if not (isinstance(item, Message) and item.action == "StatusNotification")
            or item.before_boot
        ]

    def withdraw(self) -> list[Item]:
        """Take everything out, oldest first; the outbox is empty after."""
        items, self._items = self._items, []
        return items

    def load(self, messages: Iterable[Message]) -> None:
        """Replace what waits with ``messages`` (a state file read back)."""
        self._items = list(messages)

"""The charge point model: registration, heartbeats, connectors, transactions, metering.

A :class:`Station` is sans-I/O. It never sends anything itself: what it wants to send goes
into its outbox as :class:`Message` values (and :class:`Reboot` directives), in the order a
real charge point would send them; the driver takes them with :meth:`Station.next_item`,
puts them on the wire one at a time, and hands the answer back with
:meth:`Station.on_result`. Time is read from the injected clock; background work
(heartbeats, sampled meter values, boot retries, ConnectionTimeOut) is kept as timers that
the driver fires with :meth:`Station.on_timer` when virtual time reaches them. Requests of
the Central System are answered by ``handlers.handle(station, action, payload)``, through
the table in ``handlers.py``.

Answers are applied from the request payload that was actually sent, not from what the
station meant to send, so a message a scenario sends by hand has the same effects
(PRODUCT.md, "Message steps").
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mockpoint.clock import Clock, format_timestamp
from mockpoint.errors import UsageError
from mockpoint.ocpp16.enums import (
    AuthorizationStatus,
    ChargePointErrorCode,
    ChargePointStatus,
    ReadingContext,
    Reason,
    RegistrationStatus,
)
from mockpoint.station.configuration import Configuration, ConfigurationError
from mockpoint.station.connector import Connector, ConnectorEvent
from mockpoint.station.metering import Meter
from mockpoint.station.transaction import AuthorizationCache, Transaction

#: Retry delay for a Pending / Rejected boot whose answer gives no usable interval (s).
DEFAULT_BOOT_RETRY = 60


@dataclass(frozen=True)
class Identity:
    """What a charge point says about itself in BootNotification.req (OCPP 1.6 §4.2)."""

    charge_point_id: str
    vendor: str = "mockpoint"
    model: str = "Simulator"
    serial_number: str | None = None
    firmware_version: str | None = None
    connectors: int = 1

    def __post_init__(self) -> None:
        if self.connectors < 1:
            raise UsageError(f"a charge point needs at least one connector: {self.connectors}")


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


@dataclass(eq=False)
class Reboot:
    """A directive to the driver: close the connection, reconnect and boot (§5.14 Reset)."""

    hard: bool


Item = Message | Reboot
_ItemT = TypeVar("_ItemT", Message, Reboot)


@dataclass
class _Timers:
    due: dict[str, float] = field(default_factory=dict)

    def set(self, name: str, when: float) -> None:
        self.due[name] = when

    def cancel(self, name: str) -> None:
        self.due.pop(name, None)

    def next(self) -> float | None:
        return min(self.due.values(), default=None)

    def pop_due(self, now: float) -> list[str]:
        """Names of the timers due at ``now``, earliest first (ties by name: deterministic)."""
        names = sorted((when, name) for name, when in self.due.items() if when <= now)
        for _, name in names:
            del self.due[name]
        return [name for _, name in names]


class Station:
    """One OCPP 1.6 charge point's state and behaviour."""

    def __init__(
        self,
        identity: Identity,
        clock: Clock,
        configuration: Configuration | None = None,
        *,
        meter_factory: Callable[[int], Meter] | None = None,
    ) -> None:
        self.identity = identity
        self.clock = clock
        self.configuration = configuration or Configuration(
            number_of_connectors=identity.connectors
        )
        make_meter = meter_factory or (lambda _connector_id: Meter())
        self.connectors: dict[int, Connector] = {
            n: Connector(n) for n in range(identity.connectors + 1)
        }
        self.meters: dict[int, Meter] = {
            n: make_meter(n) for n in range(1, identity.connectors + 1)
        }
        self.transactions: dict[int, Transaction] = {}
        self.cache = AuthorizationCache()
        #: the last BootNotification answer's status; None before the first answer
        self.registration: RegistrationStatus | None = None
        self.boot_count = 0
        #: the id tag of the last accepted local authorization (StartTransaction's default)
        self.last_authorized: str | None = None
        #: connector -> id tag of an accepted remote start waiting for a cable (§5.11)
        self.pending_remote_starts: dict[int, str] = {}
        #: connectors whose remote start waits for its Authorize answer (§9.1.3)
        self.remote_starts_authorizing: set[int] = set()
        #: connector -> operative? for a ChangeAvailability answered Scheduled (§5.2)
        self.pending_availability: dict[int, bool] = {}
        self.connected = False
        #: messages that could not be sent (a StopTransaction whose start got no id)
        self.undeliverable: list[Message] = []
        #: called whenever the outbox or the timers change, so the driver can wake up
        self.notify: Callable[[], None] = lambda: None
        self._outbox: deque[Item] = deque()
        self._timers = _Timers()

    # --- the driver's side -----------------------------------------------------------------

    @property
    def accepted(self) -> bool:
        return self.registration is RegistrationStatus.ACCEPTED

    def next_item(self) -> Item | None:
        """Take the next item that may be sent now, or None.

        Until a boot is accepted only BootNotification and explicit sends go out
        (OCPP 1.6 §4.2: a charge point that is not accepted sends nothing else).
        """
        for index, item in enumerate(self._outbox):
            if isinstance(item, Reboot) or self.accepted or item.before_boot:
                del self._outbox[index]
                if isinstance(item, Message) and not self._finalize(item):
                    self.undeliverable.append(item)
                    return self.next_item()
                return item
        return None

    def _finalize(self, message: Message) -> bool:
        """Fill in the transaction id; False if the message cannot be sent without one."""
        transaction = message.transaction
        if transaction is None or message.action == "StartTransaction":
            return True
        if transaction.transaction_id is None:
            message.payload.pop("transactionId", None)
            return message.action != "StopTransaction"
        message.payload["transactionId"] = transaction.transaction_id
        return True

    def has_pending(self) -> bool:
        """Whether anything is waiting in the outbox (sendable now or not)."""
        return bool(self._outbox)

    def has_sendable(self) -> bool:
        """Whether :meth:`next_item` would return something now."""
        return any(
            isinstance(item, Reboot) or self.accepted or item.before_boot for item in self._outbox
        )

    def requeue(self, message: Message) -> None:
        """Put ``message`` back at the head of the outbox (its connection was lost)."""
        self._outbox.appendleft(message)
        self.notify()

    def next_timer(self) -> float | None:
        return self._timers.next()

    def on_timer(self, now: float) -> None:
        """Fire every timer due at ``now``."""
        for name in self._timers.pop_due(now):
            kind, _, arg = name.partition(":")
            if kind == "boot":
                self.boot()
            elif kind == "heartbeat":
                self._enqueue(Message("Heartbeat", {}))
                self._schedule_heartbeat(now)
            elif kind == "sample":
                self._sample(int(arg), now)
            elif kind == "connection_timeout":
                self._connection_timeout(int(arg))

    def on_connected(self, *, auto_boot: bool = True) -> None:
        """The transport is up: boot if this is a (re)start, else carry on (§4.2)."""
        self.connected = True
        if self.registration is None and auto_boot and not self._boot_queued():
            self.boot()

    def on_disconnected(self) -> None:
        self.connected = False

    def on_result(self, message: Message, response: dict[str, Any]) -> None:
        """Apply the Central System's answer to ``message``."""
        message.response = response
        apply = _APPLY.get(message.action)
        if apply is not None:
            apply(self, message, response)
        self.notify()

    def on_failure(self, message: Message, error: Exception) -> None:
        """``message`` got a CALLERROR, an invalid answer or no answer."""
        message.error = error
        if message.action == "BootNotification":
            # Treat like a rejection: retry after the interval we have (§4.2).
            self._timers.set("boot", self.clock.now() + DEFAULT_BOOT_RETRY)
        self.notify()

    # --- station operations (what a user or scenario makes happen) -------------------------

    def boot(self) -> Message:
        """BootNotification.req with the identity's vendor, model, serial and firmware."""
        payload: dict[str, Any] = {
            "chargePointVendor": self.identity.vendor,
            "chargePointModel": self.identity.model,
        }
        if self.identity.serial_number:
            payload["chargePointSerialNumber"] = self.identity.serial_number
        if self.identity.firmware_version:
            payload["firmwareVersion"] = self.identity.firmware_version
        return self._enqueue(Message("BootNotification", payload, before_boot=True))

    def rebooted(self) -> None:
        """The charge point restarted: a new boot is due, registration starts over."""
        self.registration = None
        self._timers = _Timers()
        self.pending_remote_starts.clear()
        self.remote_starts_authorizing.clear()
        self._outbox = deque(m for m in self._outbox if isinstance(m, Message) and m.transactional)
        for connector in self.connectors.values():
            if connector.connector_id and connector.authorized and not connector.plugged:
                connector.apply(ConnectorEvent.PREPARING_TIMEOUT)

    def send(self, action: str, payload: dict[str, Any], *, validate: bool = True) -> Message:
        """An explicit message (a scenario's ``send``): defaults filled, sent at once."""
        filled = self.default_payload(action, payload)
        return self._enqueue(
            Message(
                action,
                filled,
                before_boot=True,
                transactional=action in ("StartTransaction", "StopTransaction"),
                validate=validate,
            )
        )

    def plug_in(self, connector_id: int) -> None:
        """An EV's cable is connected (Available → Preparing, §4.9)."""
        connector = self.connector(connector_id)
        self._transition(connector, ConnectorEvent.PLUG_IN)
        if connector_id in self.remote_starts_authorizing:
            return  # the start follows the Authorize answer
        id_tag = self.pending_remote_starts.pop(connector_id, None)
        if id_tag is not None:
            self._timers.cancel(f"connection_timeout:{connector_id}")
            self.start_transaction(connector_id, id_tag, remote=True)

    def unplug(self, connector_id: int) -> None:
        """The cable is removed; a running transaction stops with EVDisconnected (§9.1.32)."""
        connector = self.connector(connector_id)
        transaction = self.transactions.get(connector_id)
        if transaction is not None and not transaction.stopping:
            if self.configuration.get_bool("StopTransactionOnEVSideDisconnect"):
                self._stop(transaction, Reason.EV_DISCONNECTED, unplugged=True)
                return
            # The transaction goes on without an EV to charge (SuspendedEV).
            self.meters[connector_id].set_power(0, self.clock.now())
            self._transition(connector, ConnectorEvent.EV_DISCONNECT)
            return
        self._transition(connector, ConnectorEvent.UNPLUG)

    def authorize(self, id_tag: str) -> Message:
        """Present an id tag: Authorize.req (§4.1)."""
        return self._enqueue(Message("Authorize", {"idTag": id_tag}))

    def start_transaction(
        self,
        connector_id: int,
        id_tag: str | None = None,
        *,
        reservation_id: int | None = None,
        remote: bool = False,
    ) -> Message:
        """StartTransaction.req for ``connector_id`` (§4.10)."""
        self.connector(connector_id)
        if connector_id in self.transactions:
            raise UsageError(f"connector {connector_id} already has a transaction")
        tag = id_tag or self.last_authorized
        if tag is None:
            raise UsageError("start_transaction needs an id_tag (no id tag was authorized)")
        payload = self._start_payload(connector_id, tag, reservation_id)
        transaction = self._open(connector_id, payload, remote=remote)
        return self._enqueue(
            Message("StartTransaction", payload, transactional=True, transaction=transaction)
        )

    def stop_transaction(self, connector_id: int, reason: str = Reason.LOCAL) -> Message:
        """StopTransaction.req for the connector's transaction (§4.11)."""
        transaction = self.transactions.get(connector_id)
        if transaction is None or transaction.stopping:
            raise UsageError(f"connector {connector_id} has no running transaction")
        return self._stop(transaction, Reason(reason))

    def set_power(self, connector_id: int, watts: float) -> None:
        """The EV draws ``watts`` on ``connector_id`` from now on."""
        self.connector(connector_id)
        self.meters[connector_id].set_power(watts, self.clock.now())

    def fault(
        self,
        connector_id: int,
        error_code: str,
        info: str | None = None,
        vendor_code: str | None = None,
    ) -> None:
        self._transition(
            self.connector(connector_id),
            ConnectorEvent.FAULT,
            error_code=ChargePointErrorCode(error_code),
            info=info,
            vendor_error_code=vendor_code,
        )

    def clear_fault(self, connector_id: int) -> None:
        self._transition(self.connector(connector_id), ConnectorEvent.CLEAR_FAULT)

    def connector(self, connector_id: int) -> Connector:
        try:
            return self.connectors[connector_id]
        except KeyError:
            raise UsageError(
                f"connector {connector_id} does not exist (this charge point has "
                f"{self.identity.connectors})"
            ) from None

    def status_notification(self, connector_id: int, *, triggered: bool = False) -> Message:
        """StatusNotification.req with the connector's current status (§4.9)."""
        connector = self.connectors[connector_id]
        payload: dict[str, Any] = {
            "connectorId": connector_id,
            "errorCode": connector.error_code.value,
            "status": connector.status.value,
        }
        if connector.info:
            payload["info"] = connector.info
        payload["timestamp"] = format_timestamp(self.clock.now())
        if connector.vendor_error_code:
            payload["vendorErrorCode"] = connector.vendor_error_code
        message = Message("StatusNotification", payload)
        return self.send_triggered(message) if triggered else self._enqueue(message)

    # --- defaults for explicit sends -------------------------------------------------------

    def default_payload(self, action: str, given: dict[str, Any]) -> dict[str, Any]:
        """``given`` completed with what the station knows (PRODUCT.md, "Message steps")."""
        now = self.clock.now()
        defaults: dict[str, Any] = {}
        if action == "BootNotification":
            defaults = dict(self.boot().payload)
            self._outbox.pop()  # only its payload was wanted
        elif action == "StatusNotification":
            connector_id = given.get("connectorId", 0)
            connector = self.connectors.get(connector_id) if isinstance(connector_id, int) else None
            defaults = {
                "connectorId": 0,
                "errorCode": ChargePointErrorCode.NO_ERROR.value,
                "status": (connector.status if connector else ChargePointStatus.AVAILABLE).value,
                "timestamp": format_timestamp(now),
            }
        elif action == "StartTransaction":
            connector_id = given.get("connectorId", 1)
            if isinstance(connector_id, int) and connector_id in self.meters:
                defaults = self._start_payload(connector_id, self.last_authorized or "", None)
                if not self.last_authorized:
                    del defaults["idTag"]
            defaults.setdefault("connectorId", 1)
        elif action == "StopTransaction":
            transaction = self._open_transaction_for(given)
            if transaction is not None:
                defaults = {
                    "meterStop": self.meters[transaction.connector_id].meter_wh(now),
                    "timestamp": format_timestamp(now),
                }
                if transaction.transaction_id is not None:
                    defaults["transactionId"] = transaction.transaction_id
        elif action == "MeterValues":
            connector_id = given.get("connectorId", 1)
            if isinstance(connector_id, int) and connector_id in self.meters:
                defaults = {"connectorId": connector_id}
                transaction = self.transactions.get(connector_id)
                if transaction is not None and transaction.transaction_id is not None:
                    defaults["transactionId"] = transaction.transaction_id
                defaults["meterValue"] = [
                    self._meter_value(connector_id, ReadingContext.SAMPLE_PERIODIC)
                ]
        return {**defaults, **given}

    # --- internals -------------------------------------------------------------------------

    def _enqueue(self, item: _ItemT) -> _ItemT:
        self._outbox.append(item)
        self.notify()
        return item

    def _boot_queued(self) -> bool:
        return any(
            isinstance(item, Message) and item.action == "BootNotification" for item in self._outbox
        )

    def _transition(self, connector: Connector, *events: ConnectorEvent, **fault: Any) -> None:
        """Apply ``events`` in order; report the final status once if it changed."""
        before = (connector.status, connector.error_code, connector.info)
        for event in events:
            connector.apply(event, **fault)
        operative = self.pending_availability.get(connector.connector_id)
        if operative is not None and 0 not in self.pending_availability:
            event = ConnectorEvent.SET_OPERATIVE if operative else ConnectorEvent.SET_INOPERATIVE
            if connector.can_apply(event):
                del self.pending_availability[connector.connector_id]
                connector.apply(event)
        if (connector.status, connector.error_code, connector.info) != before:
            self.status_notification(connector.connector_id)
        if 0 in self.pending_availability and not self.transactions:
            # A whole-charge-point change waited for the last transaction (§5.2).
            pending, self.pending_availability = self.pending_availability, {}
            for connector_id, operative in sorted(pending.items()):
                self.set_availability([connector_id], operative)

    def set_availability(self, connector_ids: Iterable[int], operative: bool) -> bool:
        """Make connectors (in)operative now where possible, later where a session runs.

        Returns whether any change had to be scheduled (§5.2: ChangeAvailability Scheduled).
        """
        event = ConnectorEvent.SET_OPERATIVE if operative else ConnectorEvent.SET_INOPERATIVE
        scheduled = False
        for connector_id in connector_ids:
            connector = self.connector(connector_id)
            self.pending_availability.pop(connector_id, None)
            if connector.can_apply(event):
                self._transition(connector, event)
            else:
                self.pending_availability[connector_id] = operative
                scheduled = True
        return scheduled

    def send_triggered(self, message: Message) -> Message:
        """Queue a message a TriggerMessage asked for; it may go out while Pending (§4.2)."""
        message.before_boot = self.registration is RegistrationStatus.PENDING
        return self._enqueue(message)

    def meter_values(self, connector_id: int, context: str) -> Message:
        """MeterValues.req with one sample of the configured measurands (§4.7)."""
        transaction = self.transactions.get(connector_id)
        payload: dict[str, Any] = {"connectorId": connector_id}
        if transaction is not None:
            payload["transactionId"] = transaction.transaction_id
        payload["meterValue"] = [self._meter_value(connector_id, context)]
        return self.send_triggered(Message("MeterValues", payload, transaction=transaction))

    def _start_payload(
        self, connector_id: int, id_tag: str, reservation_id: int | None
    ) -> dict[str, Any]:
        now = self.clock.now()
        payload: dict[str, Any] = {
            "connectorId": connector_id,
            "idTag": id_tag,
            "meterStart": self.meters[connector_id].meter_wh(now),
        }
        if reservation_id is not None:
            payload["reservationId"] = reservation_id
        payload["timestamp"] = format_timestamp(now)
        return payload

    def _open(self, connector_id: int, payload: dict[str, Any], *, remote: bool) -> Transaction:
        now = self.clock.now()
        meter = self.meters[connector_id]
        meter.start_session(now)
        transaction = Transaction(
            connector_id=connector_id,
            id_tag=str(payload.get("idTag", "")),
            meter_start=int(payload.get("meterStart", meter.meter_wh(now))),
            started_at=now,
            reservation_id=payload.get("reservationId"),
            remote=remote,
        )
        if self.configuration.get_list("StopTxnSampledData"):
            transaction.begin_sample = self._meter_value(
                connector_id, ReadingContext.TRANSACTION_BEGIN, "StopTxnSampledData"
            )
        self.transactions[connector_id] = transaction
        return transaction

    def _stop(
        self, transaction: Transaction, reason: Reason, *, unplugged: bool = False
    ) -> Message:
        now = self.clock.now()
        connector_id = transaction.connector_id
        meter = self.meters[connector_id]
        data = self._transaction_data(transaction)
        meter.set_power(0, now)
        transaction.stopping = True
        self._timers.cancel(f"sample:{connector_id}")
        payload: dict[str, Any] = {
            "idTag": transaction.id_tag,
            "meterStop": meter.meter_wh(now),
            "timestamp": format_timestamp(now),
            "transactionId": transaction.transaction_id,
            "reason": reason.value,
        }
        if not transaction.id_tag:
            del payload["idTag"]
        if data:
            payload["transactionData"] = data
        message = self._enqueue(
            Message("StopTransaction", payload, transactional=True, transaction=transaction)
        )
        del self.transactions[connector_id]
        connector = self.connectors[connector_id]
        events = [ConnectorEvent.UNPLUG] if unplugged else [ConnectorEvent.STOP]
        if not connector.in_transaction and connector.can_apply(ConnectorEvent.START):
            # Stopped before the StartTransaction answer came: it started all the same.
            connector.apply(ConnectorEvent.START)
        if connector.in_transaction or unplugged:
            self._transition(connector, *events)
        return message

    def _transaction_data(self, transaction: Transaction) -> list[dict[str, Any]]:
        if not self.configuration.get_list("StopTxnSampledData"):
            return []
        end = self._meter_value(
            transaction.connector_id, ReadingContext.TRANSACTION_END, "StopTxnSampledData"
        )
        return [sample for sample in (transaction.begin_sample, end) if sample]

    def _meter_value(
        self, connector_id: int, context: str, key: str = "MeterValuesSampledData"
    ) -> dict[str, Any]:
        measurands = self.configuration.get_list(key) or ["Energy.Active.Import.Register"]
        return self.meters[connector_id].meter_value(self.clock.now(), measurands, context)

    def _sample(self, connector_id: int, now: float) -> None:
        transaction = self.transactions.get(connector_id)
        if transaction is None or transaction.stopping:
            return
        payload: dict[str, Any] = {
            "connectorId": connector_id,
            "transactionId": transaction.transaction_id,
            "meterValue": [self._meter_value(connector_id, ReadingContext.SAMPLE_PERIODIC)],
        }
        self._enqueue(Message("MeterValues", payload, transactional=True, transaction=transaction))
        self._schedule_sample(connector_id, now)

    def _schedule_sample(self, connector_id: int, now: float) -> None:
        interval = self.configuration.get_int("MeterValueSampleInterval")
        if interval > 0 and connector_id in self.transactions:
            self._timers.set(f"sample:{connector_id}", now + interval)
        else:
            self._timers.cancel(f"sample:{connector_id}")

    def _schedule_heartbeat(self, now: float) -> None:
        interval = self.configuration.get_int("HeartbeatInterval")
        if interval > 0 and self.accepted:
            self._timers.set("heartbeat", now + interval)
        else:
            self._timers.cancel("heartbeat")

    def _connection_timeout(self, connector_id: int) -> None:
        """ConnectionTimeOut passed with no cable: the remote start lapses (§9.1.7)."""
        if self.pending_remote_starts.pop(connector_id, None) is not None:
            connector = self.connectors[connector_id]
            if connector.can_apply(ConnectorEvent.PREPARING_TIMEOUT):
                self._transition(connector, ConnectorEvent.PREPARING_TIMEOUT)

    def _open_transaction_for(self, payload: dict[str, Any]) -> Transaction | None:
        wanted = payload.get("transactionId")
        for transaction in self.transactions.values():
            if wanted is None or transaction.transaction_id == wanted:
                return transaction
        return None

    def configuration_changed(self, key: str) -> None:
        """A key changed at run time (ChangeConfiguration): reschedule what depends on it."""
        now = self.clock.now()
        if key == "HeartbeatInterval":
            self._schedule_heartbeat(now)
        elif key == "MeterValueSampleInterval":
            for connector_id in self.transactions:
                self._schedule_sample(connector_id, now)
        self.notify()

    def request_reboot(self, hard: bool) -> None:
        """Reset.req accepted: stop every transaction, then reboot (§5.14)."""
        reason = Reason.HARD_RESET if hard else Reason.SOFT_RESET
        for transaction in list(self.transactions.values()):
            if not transaction.stopping:
                self._stop(transaction, reason)
        self._enqueue(Reboot(hard))

    def remote_start(self, connector_id: int, id_tag: str) -> None:
        """An accepted RemoteStartTransaction (§5.11).

        With AuthorizeRemoteTxRequests the id tag is authorized first and the transaction
        starts only if it is accepted; it starts once a cable is in, or lapses after
        ConnectionTimeOut.
        """
        connector = self.connectors[connector_id]
        if self.configuration.get_bool("AuthorizeRemoteTxRequests"):
            self.remote_starts_authorizing.add(connector_id)
            self.authorize(id_tag)
        elif connector.plugged:
            self.start_transaction(connector_id, id_tag, remote=True)
            return
        self.pending_remote_starts[connector_id] = id_tag
        if connector.plugged:
            return
        self._transition(connector, ConnectorEvent.AUTHORIZE)
        timeout = self.configuration.get_int("ConnectionTimeOut")
        if timeout > 0:
            self._timers.set(f"connection_timeout:{connector_id}", self.clock.now() + timeout)

    # --- answers ---------------------------------------------------------------------------

    def _boot_answered(self, message: Message, response: dict[str, Any]) -> None:
        status = RegistrationStatus(response["status"])
        interval = int(response.get("interval", 0))
        now = self.clock.now()
        self.registration = status
        self.boot_count += 1
        self._timers.cancel("boot")
        if status is RegistrationStatus.ACCEPTED:
            if interval > 0:
                with contextlib.suppress(ConfigurationError):  # out of the key's range
                    self.configuration.set_internal("HeartbeatInterval", interval)
            # §4.2: after an accepted boot, the status of every connector; statuses queued
            # before it are stale by now and go, the others wait behind these.
            self._outbox = deque(
                item
                for item in self._outbox
                if not (isinstance(item, Message) and item.action == "StatusNotification")
                or item.before_boot
            )
            waiting = list(self._outbox)
            self._outbox.clear()
            for connector_id in self.connectors:
                self.status_notification(connector_id)
            self._outbox.extend(waiting)
            self._schedule_heartbeat(now)
            for connector_id in self.transactions:
                self._schedule_sample(connector_id, now)
        else:
            self._timers.set("boot", now + (interval if interval > 0 else DEFAULT_BOOT_RETRY))

    def _authorize_answered(self, message: Message, response: dict[str, Any]) -> None:
        info = response["idTagInfo"]
        id_tag = message.payload.get("idTag")
        if not isinstance(id_tag, str):
            return
        if self.configuration.get_bool("AuthorizationCacheEnabled"):
            self.cache.remember(id_tag, info)
        accepted = info.get("status") == AuthorizationStatus.ACCEPTED
        if accepted:
            self.last_authorized = id_tag
        for connector_id in sorted(self.remote_starts_authorizing):
            if self.pending_remote_starts.get(connector_id) != id_tag:
                continue
            self.remote_starts_authorizing.discard(connector_id)
            if not accepted:
                # A remote start whose Authorize was refused does not start (§5.11).
                del self.pending_remote_starts[connector_id]
                self._timers.cancel(f"connection_timeout:{connector_id}")
                self._connection_timeout_now(connector_id)
            elif self.connectors[connector_id].plugged:
                del self.pending_remote_starts[connector_id]
                self._timers.cancel(f"connection_timeout:{connector_id}")
                self.start_transaction(connector_id, id_tag, remote=True)

    def _connection_timeout_now(self, connector_id: int) -> None:
        connector = self.connectors[connector_id]
        if connector.can_apply(ConnectorEvent.PREPARING_TIMEOUT):
            self._transition(connector, ConnectorEvent.PREPARING_TIMEOUT)

    def _start_answered(self, message: Message, response: dict[str, Any]) -> None:
        request = message.payload
        connector_id = request.get("connectorId")
        transaction = message.transaction
        if transaction is None:
            # A scenario's hand-made StartTransaction opens the transaction it describes.
            if not isinstance(connector_id, int) or connector_id not in self.meters:
                return
            if connector_id in self.transactions:
                return
            transaction = self._open(connector_id, request, remote=False)
            message.transaction = transaction
        transaction.transaction_id = int(response["transactionId"])
        if transaction.stopping:
            return  # stopped before the answer came: the queued stop now has its id
        connector_id = transaction.connector_id
        info = response["idTagInfo"]
        if self.configuration.get_bool("AuthorizationCacheEnabled") and transaction.id_tag:
            self.cache.remember(transaction.id_tag, info)
        connector = self.connectors[connector_id]
        now = self.clock.now()
        if info.get("status") == AuthorizationStatus.ACCEPTED:
            if not connector.in_transaction and connector.can_apply(ConnectorEvent.START):
                self._transition(connector, ConnectorEvent.START)
            self._schedule_sample(connector_id, now)
            return
        # §4.10: the Central System did not accept the id tag of a started transaction.
        if self.configuration.get_bool("StopTransactionOnInvalidId"):
            if connector.can_apply(ConnectorEvent.START):
                connector.apply(ConnectorEvent.START)
            self._stop(transaction, Reason.DE_AUTHORIZED)
        elif connector.can_apply(ConnectorEvent.START):
            self._transition(connector, ConnectorEvent.START, ConnectorEvent.EVSE_SUSPEND)

    def _stop_answered(self, message: Message, response: dict[str, Any]) -> None:
        request = message.payload
        info = response.get("idTagInfo")
        id_tag = request.get("idTag")
        if (
            info
            and isinstance(id_tag, str)
            and self.configuration.get_bool("AuthorizationCacheEnabled")
        ):
            self.cache.remember(id_tag, info)
        if message.transaction is not None:
            return
        # A scenario's hand-made StopTransaction closes the transaction it names.
        wanted = request.get("transactionId")
        for connector_id, transaction in list(self.transactions.items()):
            if transaction.transaction_id == wanted and not transaction.stopping:
                del self.transactions[connector_id]
                self._timers.cancel(f"sample:{connector_id}")
                self.meters[connector_id].set_power(0, self.clock.now())
                connector = self.connectors[connector_id]
                if connector.can_apply(ConnectorEvent.STOP):
                    self._transition(connector, ConnectorEvent.STOP)


def sendable_actions(items: Iterable[Item]) -> list[str]:
    """The actions of ``items``, for messages and reports."""
    return [item.action if isinstance(item, Message) else "(reboot)" for item in items]


_APPLY: dict[str, Callable[[Station, Message, dict[str, Any]], None]] = {
    "BootNotification": Station._boot_answered,
    "Authorize": Station._authorize_answered,
    "StartTransaction": Station._start_answered,
    "StopTransaction": Station._stop_answered,
}

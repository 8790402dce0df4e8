"""The charge point model: registration, heartbeats, connectors, transactions, metering.

A :class:`Station` is sans-I/O. It never sends anything itself: what it wants to send goes
into its :class:`~mockpoint.station.outbox.Outbox` as :class:`Message` values (and
:class:`Reboot` directives), in the order a real charge point would send them; the driver
takes them with :meth:`Station.next_item`, puts them on the wire one at a time, and hands
the answer back with :meth:`Station.on_result`. Time is read from the injected clock;
background work (heartbeats, sampled meter values, boot retries, ConnectionTimeOut) is kept
as :class:`~mockpoint.station.timers.StationTimer` values in its
:class:`~mockpoint.station.timers.StationTimers`, which the driver fires with
:meth:`Station.on_timer` when virtual time reaches them; :data:`ON_TIMER` says what each
kind of timer does. Requests of the Central System are answered by
``handlers.handle(station, action, payload)``, through the table in ``handlers.py``.

Answers are applied from the request payload that was actually sent, not from what the
station meant to send, so a message a scenario sends by hand (the ``send`` step of
docs/scenario-format.md) has the same effects.

This class keeps the state and the driver's interface; behaviour with rules of its own lives
beside it, and works on the station through its public methods and the objects it owns:
``outbox.py`` (the queue, §4.2's order), ``timers.py`` (the schedule), ``answers.py`` (what
each answer changes), ``authorization.py`` (the Local Authorization List, the cache, local
decisions, §3.5), ``reservation.py`` (:class:`~mockpoint.station.reservation.Reservations`,
§5.13), ``remote.py`` (:class:`~mockpoint.station.remote.RemoteStarts`,
RemoteStartTransaction's waits, §5.11), ``aligned.py`` (clock-aligned meter data, §4.7) and
``explicit.py`` (defaults for a scenario's explicit sends).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from mockpoint.clock import Clock, format_timestamp
from mockpoint.errors import Refused, UsageError
from mockpoint.ocpp16.enums import (
    ChargePointErrorCode,
    ReadingContext,
    Reason,
    RegistrationStatus,
)
from mockpoint.station import (
    aligned,
    answers,
    authorization,
    explicit,
    remote,
    reservation,
)
from mockpoint.station.authorization import LocalAuthList
from mockpoint.station.configuration import Configuration
from mockpoint.station.connector import Connector, ConnectorEvent
from mockpoint.station.metering import (
    MAIN_METER_MEASURANDS,
    SUPPORTED_MEASURANDS,
    Meter,
    main_meter_value,
)
from mockpoint.station.outbox import Item, Message, Outbox, Reboot, Reconnect
from mockpoint.station.remote import RemoteStarts
from mockpoint.station.reservation import Reservations
from mockpoint.station.timers import StationTimer, StationTimers, TimerKind
from mockpoint.station.transaction import AuthorizationCache, Transaction

__all__ = [
    "DEFAULT_BOOT_RETRY",
    "FIRMWARE_MANAGEMENT_NOTIFICATIONS",
    "IDLE",
    "ON_TIMER",
    "Identity",
    "Item",
    "Message",
    "Reboot",
    "Reconnect",
    "Station",
]

#: Retry delay for a Pending / Rejected boot whose answer gives no usable interval (s).
DEFAULT_BOOT_RETRY = 60

#: The Firmware Management notifications this charge point sends when a TriggerMessage asks
#: (§5.17), and the one status it reports in them: it neither uploads diagnostics nor
#: updates firmware (§4.4, §4.5).
FIRMWARE_MANAGEMENT_NOTIFICATIONS = frozenset(
    {"DiagnosticsStatusNotification", "FirmwareStatusNotification"}
)
IDLE = "Idle"


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


_ItemT = TypeVar("_ItemT", Message, Reboot, Reconnect)


class Station:
    """One OCPP 1.6 charge point's state and behaviour."""

    # Slots: a load run holds thousands of these.
    __slots__ = (
        "boot_count",
        "boot_retry_delay",
        "cache",
        "clock",
        "configuration",
        "connected",
        "connectors",
        "identity",
        "last_authorized",
        "local_list",
        "meters",
        "notify",
        "outbox",
        "pending_availability",
        "registration",
        "remote_starts",
        "reservations",
        "sending",
        "timers",
        "transactions",
        "undeliverable",
    )

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
        self.local_list = LocalAuthList()
        #: reservationId -> the reservation (§5.13)
        self.reservations = Reservations()
        #: the last BootNotification answer's status; None before the first answer
        self.registration: RegistrationStatus | None = None
        #: seconds a Pending / Rejected (or failed) boot waits before its retry: the interval
        #: the CSMS gave, which holds in wall time whatever the clock speed (§4.2: "SHALL NOT
        #: send any OCPP message ... until the retry interval has expired")
        self.boot_retry_delay: float = 0.0
        self.boot_count = 0
        #: the id tag of the last accepted local authorization (StartTransaction's default)
        self.last_authorized: str | None = None
        #: accepted remote starts waiting for a cable or an authorization (§5.11, §9.1.3)
        self.remote_starts = RemoteStarts()
        #: connector -> operative? for a ChangeAvailability answered Scheduled (§5.2)
        self.pending_availability: dict[int, bool] = {}
        self.connected = False
        #: messages that could not be sent (a StopTransaction whose start got no id)
        self.undeliverable: list[Message] = []
        #: the message taken by :meth:`next_item` and not yet answered, failed or requeued:
        #: still undelivered, so a state file keeps it at the head of the queue
        self.sending: Message | None = None
        #: called whenever the outbox or the timers change, so the driver can wake up
        self.notify: Callable[[], None] = lambda: None
        #: what waits to be sent (:meth:`enqueue` puts a message there and wakes the driver)
        self.outbox = Outbox()
        #: the schedule of background work; :data:`ON_TIMER` says what each timer does
        self.timers = StationTimers()

    # --- the driver's side -----------------------------------------------------------------

    @property
    def accepted(self) -> bool:
        return self.registration is RegistrationStatus.ACCEPTED

    def next_item(self) -> Item | None:
        """Take the next item that may be sent now, or None.

        Until a boot is accepted only BootNotification and explicit sends go out
        (OCPP 1.6 §4.2: a charge point that is not accepted sends nothing else).
        """
        accepted = self.accepted
        while (item := self.outbox.take_sendable(accepted)) is not None:
            if isinstance(item, Message) and not self._finalize(item):
                self.undeliverable.append(item)
                continue
            self.sending = item if isinstance(item, Message) else None
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
        return self.outbox.has_pending()

    def queued(self) -> list[str]:
        """What waits in the outbox, oldest first: the action of each message, or
        ``Reboot`` / ``Reconnect``."""
        return self.outbox.actions()

    def has_sendable(self) -> bool:
        """Whether :meth:`next_item` would return something now."""
        return self.outbox.has_sendable(self.accepted)

    def requeue(self, message: Message) -> None:
        """Put ``message`` back at the head of the outbox (its connection was lost)."""
        self._done_sending(message)
        self.outbox.requeue(message)
        self.notify()

    def dropped(self, message: Message) -> None:
        """``message`` will not be sent after all (a Heartbeat whose connection went)."""
        self._done_sending(message)

    def _done_sending(self, message: Message) -> None:
        if self.sending is message:
            self.sending = None

    def next_timer(self) -> float | None:
        """When the next timer is due (virtual time), or None: fire it with :meth:`on_timer`."""
        return self.timers.next_due()

    def on_timer(self, now: float) -> None:
        """Fire every timer due at ``now``, earliest first (:data:`ON_TIMER`)."""
        for timer in self.timers.pop_due(now):
            ON_TIMER[timer.kind](self, timer, now)

    def _boot_due(self, timer: StationTimer, now: float) -> None:
        self.boot(retry=True)

    def _heartbeat_due(self, timer: StationTimer, now: float) -> None:
        # Offline there is no one to keep alive: skip it, keep the schedule.
        if self.connected:
            self.enqueue(Message("Heartbeat", {}))
        self.schedule_heartbeat(now)

    def _sample_due(self, timer: StationTimer, now: float) -> None:
        self._sample(timer.connector_id, now)

    def _connection_timeout_due(self, timer: StationTimer, now: float) -> None:
        remote.connection_timeout(self, timer.connector_id)

    def _reservation_due(self, timer: StationTimer, now: float) -> None:
        reservation.expire(self, timer.reservation_id)

    def _aligned_due(self, timer: StationTimer, now: float) -> None:
        aligned.sample(self, now)

    def on_connected(self, *, auto_boot: bool = True) -> None:
        """The transport is up: boot if this is a (re)start, else carry on (§4.2)."""
        self.connected = True
        if self.registration is None and auto_boot and not self.outbox.has_boot():
            self.boot()

    def on_disconnected(self) -> None:
        self.connected = False

    def on_result(self, message: Message, response: dict[str, Any]) -> None:
        """Apply the Central System's answer to ``message``."""
        message.response = response
        self._done_sending(message)
        apply = answers.APPLY.get(message.action)
        if apply is not None:
            apply(self, message, response)
        self.notify()

    def on_failure(self, message: Message, error: Exception) -> None:
        """``message`` got a CALLERROR, an invalid answer or no answer."""
        message.error = error
        self._done_sending(message)
        if message.action == "BootNotification":
            # Treat like a rejection: retry after the interval we have (§4.2).
            self.retry_boot(DEFAULT_BOOT_RETRY, self.clock.now())
        self.notify()

    # --- station operations (what a user or scenario makes happen) -------------------------

    def boot(self, *, retry: bool = False) -> Message:
        """BootNotification.req with the identity's vendor, model, serial and firmware;
        ``retry`` for the one the boot timer sends after a Pending / Rejected answer."""
        message = Message("BootNotification", self.boot_payload(), before_boot=True, retry=retry)
        return self.enqueue(message)

    def boot_payload(self) -> dict[str, Any]:
        """The payload of BootNotification.req (§4.2): vendor, model, serial, firmware."""
        payload: dict[str, Any] = {
            "chargePointVendor": self.identity.vendor,
            "chargePointModel": self.identity.model,
        }
        if self.identity.serial_number:
            payload["chargePointSerialNumber"] = self.identity.serial_number
        if self.identity.firmware_version:
            payload["firmwareVersion"] = self.identity.firmware_version
        return payload

    def retry_boot(self, delay: float, now: float) -> None:
        """A Pending / Rejected / failed boot: BootNotification again ``delay`` seconds after
        ``now`` (§4.2), a delay the driver also holds in wall time (:attr:`boot_retry_delay`)."""
        self.boot_retry_delay = delay
        self.timers.set(StationTimer.BOOT, now + delay)

    def report_every_connector(self) -> None:
        """§4.2: after an accepted boot, the status of every connector; statuses queued
        before it are stale by now and go, the others wait behind these."""
        self.outbox.drop_stale_statuses()
        waiting = self.outbox.withdraw()
        for connector_id in self.connectors:
            self.status_notification(connector_id)
        self.outbox.enqueue_all(waiting)

    def rebooted(self) -> None:
        """The charge point restarted: a new boot is due, registration starts over."""
        self.registration = None
        self.timers.clear()
        self.remote_starts.clear()
        self.outbox.keep_transactional()
        for connector in self.connectors.values():
            if connector.connector_id and connector.authorized and not connector.plugged:
                connector.apply(ConnectorEvent.PREPARING_TIMEOUT)
        reservation.rearm(self)

    def send(self, action: str, payload: dict[str, Any], *, validate: bool = True) -> Message:
        """An explicit message (a scenario's ``send``): defaults filled, sent at once."""
        filled = self.default_payload(action, payload)
        return self.enqueue(
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
        self.transition(connector, ConnectorEvent.PLUG_IN)
        remote.plugged_in(self, connector_id)  # a remote start waiting for the cable

    def unplug(self, connector_id: int) -> None:
        """The cable is removed (Preparing or Finishing → Available, §4.9).

        During a transaction it leaves the EV first (OCTT TC_005_1). With
        StopTransactionOnEVSideDisconnect true (§9.1.23): StatusNotification SuspendedEV,
        StopTransaction with reason EVDisconnected, StatusNotification Finishing; then, if
        UnlockConnectorOnEVSideDisconnect (§9.1.33) releases the cable, Available at once,
        else the cable stays locked in the socket (Finishing) until the next ``unplug``.
        With the key false the transaction goes on, SuspendedEV, the cable locked (§9.1.23
        outranks §9.1.33) until the EV is plugged in again.
        """
        connector = self.connector(connector_id)
        transaction = self.transactions.get(connector_id)
        if transaction is None or transaction.stopping or not connector.plugged:
            # With no cable in (the EV left a transaction that went on), UNPLUG is refused.
            self.transition(connector, ConnectorEvent.UNPLUG)
            return
        if not self.configuration.get_bool("StopTransactionOnEVSideDisconnect"):
            # The transaction goes on without an EV to charge (SuspendedEV).
            self.meters[connector_id].set_power(0, self.clock.now())
            self.transition(connector, ConnectorEvent.EV_DISCONNECT)
            return
        if connector.in_transaction:
            # Not before the StartTransaction answer: the connector is still Preparing then,
            # and the stop reports its end (Finishing) without a Charging in between.
            self.transition(connector, ConnectorEvent.EV_SIDE_UNPLUG)
        self.stop(transaction, Reason.EV_DISCONNECTED)
        if self.configuration.get_bool("UnlockConnectorOnEVSideDisconnect"):
            self.transition(connector, ConnectorEvent.UNPLUG)

    def authorize(self, id_tag: str) -> Message:
        """Present an id tag: Authorize.req (§4.1), unless it is decided locally (§3.5).

        A local decision (see ``authorization.decide``) is returned as a Message with
        ``local`` set and ``response`` already filled in; it is not queued.
        """
        info = authorization.decide(self, id_tag)
        if info is None:
            return self.enqueue(Message("Authorize", {"idTag": id_tag}))
        response = {"idTagInfo": info}
        message = Message("Authorize", {"idTag": id_tag}, response=response, local=True)
        remote.on_verdict(self, id_tag, info)
        self.notify()
        return message

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
            raise Refused(f"connector {connector_id} already has a transaction")
        tag = id_tag or self.last_authorized
        if tag is None:
            raise UsageError("start_transaction needs an id_tag (no id tag was authorized)")
        # §5.13: a reserved connector starts only for its tag, and the start ends the
        # reservation, which StartTransaction.req reports with the reservationId.
        used = reservation.claim(self, connector_id, tag)
        if used is not None and reservation_id is None:
            reservation_id = used.reservation_id
        payload = self.start_payload(connector_id, tag, reservation_id)
        transaction = self.open_transaction(connector_id, payload, remote=remote)
        message = self.enqueue(
            Message("StartTransaction", payload, transactional=True, transaction=transaction)
        )
        if used is not None:
            reservation.end(self, used)
        if not self.connected:
            # Offline the charge point decides alone (§4.10): it charges and meters now;
            # the StartTransaction and its MeterValues wait for the connection.
            connector = self.connectors[connector_id]
            if connector.can_apply(ConnectorEvent.START):
                self.transition(connector, ConnectorEvent.START)
            self.schedule_sample(connector_id, self.clock.now())
        return message

    def stop_transaction(self, connector_id: int, reason: str = Reason.LOCAL) -> Message:
        """StopTransaction.req for the connector's transaction (§4.11)."""
        transaction = self.transactions.get(connector_id)
        if transaction is None or transaction.stopping:
            raise Refused(f"connector {connector_id} has no running transaction")
        return self.stop(transaction, Reason(reason))

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
        self.transition(
            self.connector(connector_id),
            ConnectorEvent.FAULT,
            error_code=ChargePointErrorCode(error_code),
            info=info,
            vendor_error_code=vendor_code,
        )

    def clear_fault(self, connector_id: int) -> None:
        self.transition(self.connector(connector_id), ConnectorEvent.CLEAR_FAULT)

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
        return self.send_triggered(message) if triggered else self.enqueue(message)

    # --- defaults for explicit sends -------------------------------------------------------

    def default_payload(self, action: str, given: dict[str, Any]) -> dict[str, Any]:
        """``given`` completed with what the station knows (docs/scenario-format.md,
        the ``send`` step's ``payload``)."""
        return explicit.default_payload(self, action, given)

    # --- the station's rules, for its helper modules too -----------------------------------

    def enqueue(self, item: _ItemT) -> _ItemT:
        """Queue ``item`` behind everything waiting in the outbox, and wake the driver."""
        self.outbox.enqueue(item)
        self.notify()
        return item

    def transition(self, connector: Connector, *events: ConnectorEvent, **fault: Any) -> None:
        """Apply ``events`` to ``connector`` in order (``connector.py``'s table, §4.9);
        report the final status once if it changed, then apply a ChangeAvailability that
        waited for it (§5.2) and keep the reservations in step (§5.13)."""
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
        reservation.after_transition(self, connector)
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
                self.transition(connector, event)
            else:
                self.pending_availability[connector_id] = operative
                scheduled = True
        return scheduled

    def schedule_availability(self, connector_ids: Iterable[int], operative: bool) -> None:
        """A ChangeAvailability of the whole charge point answered Scheduled: every one of
        ``connector_ids`` changes once the last transaction ends (§5.2)."""
        self.pending_availability.update(dict.fromkeys(connector_ids, operative))

    def send_triggered(self, message: Message) -> Message:
        """Queue a message a TriggerMessage asked for; it may go out while Pending (§4.2)."""
        message.before_boot = self.registration is RegistrationStatus.PENDING
        return self.enqueue(message)

    def firmware_management_idle(self, action: str) -> Message:
        """DiagnosticsStatusNotification.req or FirmwareStatusNotification.req with status
        Idle, which a TriggerMessage asks for (§5.17).

        This charge point never uploads diagnostics nor installs firmware (it answers
        GetDiagnostics and UpdateFirmware NotSupported and leaves FirmwareManagement out of
        SupportedFeatureProfiles), so it is never busy with either: Idle, the status a
        charge point sends only when a TriggerMessage asks and it is not busy (§4.4, §4.5).
        ``ocpp16/actions.py`` lists them among the requests it sends all the same.
        """
        if action not in FIRMWARE_MANAGEMENT_NOTIFICATIONS:
            raise UsageError(f"{action} is not a Firmware Management notification")
        return self.send_triggered(Message(action, {"status": IDLE}))

    def meter_values(self, connector_id: int, context: str) -> Message:
        """MeterValues.req with one sample of the configured measurands (§4.7); connector 0
        is the main meter, the total of every connector's, with no transaction (§5.17)."""
        if connector_id == 0:
            main = {"connectorId": 0, "meterValue": [self._main_meter_value(context)]}
            return self.send_triggered(Message("MeterValues", main))
        transaction = self.transactions.get(connector_id)
        payload: dict[str, Any] = {"connectorId": connector_id}
        if transaction is not None:
            payload["transactionId"] = transaction.transaction_id
        payload["meterValue"] = [self.read_meter(connector_id, context)]
        return self.send_triggered(Message("MeterValues", payload, transaction=transaction))

    def start_payload(
        self, connector_id: int, id_tag: str, reservation_id: int | None
    ) -> dict[str, Any]:
        """The payload of StartTransaction.req on ``connector_id`` now."""
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

    def open_transaction(
        self, connector_id: int, payload: dict[str, Any], *, remote: bool
    ) -> Transaction:
        """The transaction a StartTransaction.req ``payload`` starts on ``connector_id``,
        with its Transaction.Begin sample when StopTxnSampledData asks for one."""
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
            transaction.begin_sample = self.read_meter(
                connector_id, ReadingContext.TRANSACTION_BEGIN, "StopTxnSampledData"
            )
        self.transactions[connector_id] = transaction
        return transaction

    def stop(self, transaction: Transaction, reason: Reason) -> Message:
        """StopTransaction.req for ``transaction`` with ``reason``, whoever asked (see
        :meth:`stop_transaction`); the connector's status follows (§4.9)."""
        now = self.clock.now()
        connector_id = transaction.connector_id
        meter = self.meters[connector_id]
        data = self._transaction_data(transaction, now)
        meter.set_power(0, now)
        transaction.stopping = True
        self.stop_sampling(connector_id)
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
        message = self.enqueue(
            Message("StopTransaction", payload, transactional=True, transaction=transaction)
        )
        del self.transactions[connector_id]
        connector = self.connectors[connector_id]
        if not connector.in_transaction and connector.can_apply(ConnectorEvent.START):
            # Stopped before the StartTransaction answer came: it started all the same.
            connector.apply(ConnectorEvent.START)
        if connector.in_transaction:
            self.transition(connector, ConnectorEvent.STOP)
        return message

    def _transaction_data(self, transaction: Transaction, now: float) -> list[dict[str, Any]]:
        """Transaction.Begin, the clock-aligned readings, Transaction.End (at ``now``, the
        stop's one instant: a clock that runs must not make the stop's readings disagree):
        in time order."""
        end = None
        if self.configuration.get_list("StopTxnSampledData"):
            end = self.read_meter(
                transaction.connector_id,
                ReadingContext.TRANSACTION_END,
                "StopTxnSampledData",
                now,
            )
        samples = [transaction.begin_sample, *transaction.aligned_samples, end]
        return [sample for sample in samples if sample]

    def read_meter(
        self,
        connector_id: int,
        context: str,
        key: str = "MeterValuesSampledData",
        now: float | None = None,
    ) -> dict[str, Any]:
        """One MeterValue (§4.7) of the connector's meter: the measurands configured in
        ``key`` (MeterValuesSampledData by default), at ``now`` (the clock's by default)."""
        # The configuration accepts only measurands the meter produces; a key table of a
        # test or a vendor may not say so, and a real meter leaves out what it cannot read.
        configured = [m for m in self.configuration.get_list(key) if m in SUPPORTED_MEASURANDS]
        measurands = configured or ["Energy.Active.Import.Register"]
        when = self.clock.now() if now is None else now
        return self.meters[connector_id].meter_value(when, measurands, context)

    def _main_meter_value(self, context: str) -> dict[str, Any]:
        """The main meter's reading of the MeterValuesSampledData measurands that add up
        over connectors (energy and power); the energy register when none of them does."""
        configured = self.configuration.get_list("MeterValuesSampledData")
        measurands = [m for m in configured if m in MAIN_METER_MEASURANDS]
        meters = list(self.meters.values())
        return main_meter_value(
            meters, self.clock.now(), measurands or ["Energy.Active.Import.Register"], context
        )

    def _sample(self, connector_id: int, now: float) -> None:
        transaction = self.transactions.get(connector_id)
        if transaction is None or transaction.stopping:
            return
        payload: dict[str, Any] = {
            "connectorId": connector_id,
            "transactionId": transaction.transaction_id,
            "meterValue": [self.read_meter(connector_id, ReadingContext.SAMPLE_PERIODIC)],
        }
        self.enqueue(Message("MeterValues", payload, transactional=True, transaction=transaction))
        self.schedule_sample(connector_id, now)

    def schedule_sample(self, connector_id: int, now: float) -> None:
        """The connector's next sampled MeterValues, MeterValueSampleInterval after ``now``
        while a transaction runs there; none with the interval 0 (§4.7)."""
        timer = StationTimer.sample(connector_id)
        interval = self.configuration.get_int("MeterValueSampleInterval")
        if interval > 0 and connector_id in self.transactions:
            self.timers.set(timer, now + interval)
        else:
            self.timers.cancel(timer)

    def stop_sampling(self, connector_id: int) -> None:
        """No more sampled MeterValues on the connector (its transaction ended)."""
        self.timers.cancel(StationTimer.sample(connector_id))

    def is_sampling(self, connector_id: int) -> bool:
        """Whether sampled MeterValues are scheduled on the connector."""
        return self.timers.is_set(StationTimer.sample(connector_id))

    def schedule_heartbeat(self, now: float) -> None:
        """The next Heartbeat, HeartbeatInterval after ``now`` once the boot is accepted;
        none with the interval 0 (§4.6)."""
        interval = self.configuration.get_int("HeartbeatInterval")
        if interval > 0 and self.accepted:
            self.timers.set(StationTimer.HEARTBEAT, now + interval)
        else:
            self.timers.cancel(StationTimer.HEARTBEAT)

    def configuration_changed(self, key: str) -> None:
        """A key changed at run time (ChangeConfiguration): reschedule what depends on it."""
        now = self.clock.now()
        if key == "HeartbeatInterval":
            self.schedule_heartbeat(now)
        elif key == "MeterValueSampleInterval":
            for connector_id in self.transactions:
                self.schedule_sample(connector_id, now)
        elif key == "ClockAlignedDataInterval":
            aligned.schedule(self, now)
        elif key in ("AuthorizationKey", "SecurityProfile"):
            self.enqueue(Reconnect(f"{key} changed"))
        self.notify()

    def power_lost(self) -> None:
        """The charge point lost power: every transaction ends with reason PowerLoss
        (§7.45), its StopTransaction kept for when the charge point is back, and the EVs stop
        drawing. The boot that follows is :meth:`rebooted`'s."""
        for transaction in list(self.transactions.values()):
            if not transaction.stopping:
                self.stop(transaction, Reason.POWER_LOSS)

    def request_reboot(self, hard: bool) -> None:
        """Reset.req accepted: stop every transaction, then reboot (§5.14)."""
        reason = Reason.HARD_RESET if hard else Reason.SOFT_RESET
        for transaction in list(self.transactions.values()):
            if not transaction.stopping:
                self.stop(transaction, reason)
        self.enqueue(Reboot(hard))

    def remote_start(self, connector_id: int, id_tag: str) -> None:
        """An accepted RemoteStartTransaction (§5.11): see ``remote.py``.

        With AuthorizeRemoteTxRequests the id tag is authorized first and the transaction
        starts only if it is accepted; it starts once a cable is in, or lapses after
        ConnectionTimeOut.
        """
        remote.start(self, connector_id, id_tag)


#: What each kind of timer does when it is due: the station's table for
#: :meth:`Station.on_timer`, as ``connector.py``'s is for a connector's events.
ON_TIMER: dict[TimerKind, Callable[[Station, StationTimer, float], None]] = {
    TimerKind.BOOT: Station._boot_due,  # BootNotification again (§4.2)
    TimerKind.HEARTBEAT: Station._heartbeat_due,  # §4.6
    TimerKind.SAMPLE: Station._sample_due,  # a transaction's MeterValues (§4.7)
    TimerKind.CONNECTION_TIMEOUT: Station._connection_timeout_due,  # §5.11
    TimerKind.RESERVATION: Station._reservation_due,  # the expiryDate (§5.13)
    TimerKind.ALIGNED: Station._aligned_due,  # clock-aligned meter data (§4.7)
}

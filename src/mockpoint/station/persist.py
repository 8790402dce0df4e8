"""A station's state as JSON, and back: what a charge point keeps across a power cut.

:func:`snapshot` turns a :class:`~mockpoint.station.station.Station` into plain JSON values
and :func:`restore` puts them back into a station built from the same scenario; neither
touches a file (``runtime/state_file.py`` does that). What is kept is what a real charge
point keeps in its non-volatile memory:

- the configuration keys a Central System can change (§5.3, §9);
- every connector's status, error code and the facts behind them (§4.9), availability
  included (§5.2), and ChangeAvailability changes still scheduled;
- the meter registers (§4.7), exact;
- open transactions with the transactionId the Central System gave (§4.10), and
  transactions whose StopTransaction is still queued;
- the queue of undelivered messages, the one being sent first: transaction-related
  messages must reach the Central System after a restart (§4.10 "the Charge Point SHOULD
  ... deliver ... as soon as possible"), in order, each exactly once;
- the Local Authorization List with its version (§3.5.2, §5.15) and the Authorization
  Cache (§3.5.1); reservations (§5.13);
- the registration status and the boot count, and the station's timers;
- beside the station, the position of the charge point's unique-id sequence (its seed and
  how far it went), so that a restarted charge point never sends an id of an earlier
  session again (OCPP-J 1.6 §4.1.3: a CSMS takes a repeated id for a retransmission):
  :func:`read_ids`, written by ``runtime/state_file.py``, which holds the generator.

:func:`restore` brings the station back as it was; with ``power_cut`` (the default), as
after a power cut, which is a reboot: registration starts over, so the charge point sends
BootNotification first (§4.2), and only transaction-related messages survive in the queue
(§4.10); the meters count no energy for the time the charger was off.

A file that cannot be read this way raises :class:`~mockpoint.errors.UsageError` naming
the file (``source``) and the field; nothing is half restored.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from mockpoint.clock import format_timestamp
from mockpoint.errors import UsageError
from mockpoint.ocpp16.enums import ChargePointErrorCode, ChargePointStatus, RegistrationStatus
from mockpoint.station.configuration import ConfigurationError
from mockpoint.station.connector import Connector
from mockpoint.station.metering import Meter
from mockpoint.station.outbox import Message
from mockpoint.station.reservation import Reservation
from mockpoint.station.station import Station
from mockpoint.station.timers import StationTimer
from mockpoint.station.transaction import Transaction

__all__ = ["FORMAT", "IdsPosition", "read_ids", "restore", "snapshot"]

#: The ``format`` of a state file this module writes and reads.
FORMAT = "mockpoint-state/1"

_T = TypeVar("_T")


def snapshot(station: Station) -> dict[str, Any]:
    """The station's state as JSON values (see the module docstring for what is kept)."""
    now = station.clock.now()
    queue = ([station.sending] if station.sending is not None else []) + station.outbox.messages()
    keys: dict[int, int] = {}  # id(transaction) -> its key in the file
    transactions: list[dict[str, Any]] = []

    def key_of(transaction: Transaction) -> int:
        if id(transaction) not in keys:
            keys[id(transaction)] = len(transactions)
            open_ = station.transactions.get(transaction.connector_id) is transaction
            transactions.append(_transaction_state(transaction, len(transactions), open_))
        return keys[id(transaction)]

    for transaction in station.transactions.values():
        key_of(transaction)
    outbox = []
    for message in queue:
        entry: dict[str, Any] = {
            "action": message.action,
            "payload": message.payload,
            "before_boot": message.before_boot,
            "transactional": message.transactional,
            "validate": message.validate,
            "timeout": message.timeout,
            "transaction": None if message.transaction is None else key_of(message.transaction),
        }
        outbox.append(entry)
    identity = station.identity
    return {
        "format": FORMAT,
        "charge_point": {"id": identity.charge_point_id, "connectors": identity.connectors},
        "saved_at": format_timestamp(now),
        "registration": None if station.registration is None else station.registration.value,
        "boot_count": station.boot_count,
        "configuration": station.configuration.to_state(),
        "connectors": [c.to_state() for c in station.connectors.values()],
        "meters": {str(n): meter.to_state(now) for n, meter in station.meters.items()},
        "transactions": transactions,
        "outbox": outbox,
        "local_list": {
            "version": station.local_list.version,
            "entries": station.local_list.entries,
        },
        "cache": station.cache.entries,
        "reservations": [_reservation_state(r) for r in station.reservations.values()],
        "last_authorized": station.last_authorized,
        "pending_remote_starts": {
            str(n): tag for n, tag in station.remote_starts.waiting().items()
        },
        "remote_starts_authorizing": station.remote_starts.authorizing(),
        "pending_availability": {str(n): op for n, op in station.pending_availability.items()},
        "timers": station.timers.to_state(),
    }


def _transaction_state(transaction: Transaction, key: int, open_: bool) -> dict[str, Any]:
    return {
        "key": key,
        "open": open_,
        "connector": transaction.connector_id,
        "id_tag": transaction.id_tag,
        "meter_start": transaction.meter_start,
        "started_at": transaction.started_at,
        "transaction_id": transaction.transaction_id,
        "reservation_id": transaction.reservation_id,
        "stopping": transaction.stopping,
        "begin_sample": transaction.begin_sample,
        "remote": transaction.remote,
        "aligned_samples": transaction.aligned_samples,
    }


def _reservation_state(reservation: Reservation) -> dict[str, Any]:
    return {
        "reservation_id": reservation.reservation_id,
        "connector_id": reservation.connector_id,
        "id_tag": reservation.id_tag,
        "parent_id_tag": reservation.parent_id_tag,
        "expiry": reservation.expiry,
        "connectors": sorted(reservation.connectors),
    }


@dataclass(frozen=True)
class IdsPosition:
    """Where a charge point's unique-id sequence stands: its seed, and the position the next
    id comes from (``ids`` in the file: ``{"seed": 7, "next": 64}``)."""

    seed: int | str
    next: int

    def to_state(self) -> dict[str, Any]:
        return {"seed": self.seed, "next": self.next}


def read_ids(data: object, *, source: str) -> IdsPosition | None:
    """The id sequence's position saved in ``data``, or None when the file has none (one
    written before mockpoint kept it). Raises UsageError naming the file and the field."""
    top = _Field(source, data)
    if "ids" not in top.mapping():
        return None
    ids = top["ids"]
    seed = ids["seed"].value
    if isinstance(seed, bool) or not isinstance(seed, int | str):
        ids["seed"].fail(f"expected an integer or a string, got {_kind(seed)}")
    position = ids["next"].of(int)
    if position < 0:
        ids["next"].fail(f"expected 0 or more, got {position}")
    return IdsPosition(seed, position)


# --- reading back --------------------------------------------------------------------------


class _Field:
    """A value of the file and where it is (``outbox[2].payload``), for error messages."""

    def __init__(self, source: str, value: object, path: str = "") -> None:
        self.source = source
        self.value = value
        self.path = path

    def fail(self, problem: str) -> NoReturn:
        where = self.path or "the top level"
        raise UsageError(f"state file {self.source}: {where}: {problem}")

    def _child(self, name: str | int, value: object) -> _Field:
        if isinstance(name, int):
            path = f"{self.path}[{name}]"
        else:
            path = f"{self.path}.{name}" if self.path else name
        return _Field(self.source, value, path)

    def __getitem__(self, name: str) -> _Field:
        mapping = self.mapping()
        if name not in mapping:
            self._child(name, None).fail("missing")
        return self._child(name, mapping[name])

    def mapping(self) -> dict[str, object]:
        if not isinstance(self.value, dict):
            self.fail(f"expected an object, got {_kind(self.value)}")
        return self.value

    def entries(self) -> list[tuple[str, _Field]]:
        return [(name, self._child(name, value)) for name, value in self.mapping().items()]

    def items(self) -> list[_Field]:
        if not isinstance(self.value, list):
            self.fail(f"expected a list, got {_kind(self.value)}")
        return [self._child(index, value) for index, value in enumerate(self.value)]

    def of(self, kind: type[_T], *, optional: bool = False) -> _T:
        value = self.value
        if value is None and optional:
            return value  # type: ignore[return-value]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.fail(f"expected {_KINDS.get(kind, kind.__name__)}, got {_kind(self.value)}")
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(f"expected a finite number, got {value!r}")
        return value

    def number(self) -> int:
        """A connector number written as an object key ("1") or as an integer."""
        raw = self.value
        if isinstance(raw, str) and raw.isdigit():
            return int(raw)
        return self.of(int)

    def convert(self, make: Callable[[Any], _T]) -> _T:
        """``make(value)``, its ValueError turned into this field's UsageError."""
        try:
            return make(self.value)
        except KeyError as exc:
            self.fail(f"missing {exc}")
        except (ValueError, TypeError) as exc:
            self.fail(str(exc) or type(exc).__name__)


_KINDS: dict[type, str] = {
    int: "an integer",
    float: "a number",
    str: "a string",
    bool: "true or false",
    dict: "an object",
    list: "a list",
}


def _kind(value: object) -> str:
    if value is None:
        return "null"
    for kind, name in ((bool, "true or false"), (int, "an integer"), (float, "a number")):
        if isinstance(value, kind):
            return f"{name} ({value!r})"
    if isinstance(value, str | dict | list):
        return _KINDS[type(value)]
    return type(value).__name__


@dataclass
class _Restored:
    """Everything read from the file, checked, before any of it touches the station."""

    registration: RegistrationStatus | None
    boot_count: int
    connectors: dict[int, tuple[ChargePointStatus, ChargePointErrorCode, Any, Any, Any]]
    meters: dict[int, dict[str, object]]
    transactions: dict[int, Transaction]
    open_transactions: dict[int, Transaction]
    outbox: list[Message]
    local_list: tuple[int, dict[str, dict[str, Any]]]
    cache: dict[str, dict[str, Any]]
    reservations: dict[int, Reservation]
    last_authorized: str | None
    pending_remote_starts: dict[int, str]
    remote_starts_authorizing: set[int]
    pending_availability: dict[int, bool]
    timers: dict[StationTimer, float]


def restore(station: Station, data: object, *, source: str, power_cut: bool = True) -> None:
    """Put the state :func:`snapshot` saved back into ``station``, built from the scenario.

    ``source`` names the file in error messages. A file of another format, of another
    charge point id or number of connectors, or with any field that cannot be read raises
    UsageError and leaves the station as it was (the configuration is checked before
    anything changes; the rest is read completely first). With ``power_cut`` the station
    then restarts as after a power cut (see the module docstring).
    """
    top = _Field(source, data)
    top.mapping()
    file_format = top["format"].of(str)
    if file_format != FORMAT:
        top["format"].fail(f"{file_format!r} is not a format this mockpoint reads ({FORMAT})")
    owner = top["charge_point"]
    cp_id = owner["id"].of(str)
    connectors = owner["connectors"].of(int)
    identity = station.identity
    if cp_id != identity.charge_point_id:
        owner["id"].fail(
            f"the file belongs to charge point {cp_id!r}, not {identity.charge_point_id!r}; "
            "use another state file for this one"
        )
    if connectors != identity.connectors:
        owner["connectors"].fail(
            f"the file's charge point has {connectors} connector(s), this one "
            f"{identity.connectors}; a state file cannot change the hardware"
        )
    restored = _read(top, station)
    configuration = top["configuration"]
    values = {name: field.value for name, field in configuration.entries()}
    try:
        station.configuration.restore_state(values)
    except ConfigurationError as exc:
        key, problem = exc.problems[0]
        configuration._child(key, None).fail(problem)
    _apply(station, restored, power_cut=power_cut)
    if power_cut:
        station.rebooted()


def _read(top: _Field, station: Station) -> _Restored:
    connectors: dict[int, Any] = {}
    for item in top["connectors"].items():
        number = item["id"].of(int)
        if number not in station.connectors or number in connectors:
            item["id"].fail(f"no connector {number} on this charge point, or listed twice")
        facts = {name: item[name].of(bool) for name in Connector.FACTS}
        connectors[number] = (
            item["status"].convert(ChargePointStatus),
            item["error_code"].convert(ChargePointErrorCode),
            item["info"].of(str, optional=True),
            item["vendor_error_code"].of(str, optional=True),
            facts,
        )
        saved = connectors[number]

        def check_connector(_value: object, number: int = number, saved: Any = saved) -> None:
            Connector(number).restore_state(*saved)

        item.convert(check_connector)
    if set(connectors) != set(station.connectors):
        top["connectors"].fail(f"expected connectors 0 to {station.identity.connectors}")

    meters: dict[int, dict[str, object]] = {}
    for name, item in top["meters"].entries():
        number = _Field(item.source, name, item.path).number()
        if number not in station.meters:
            item.fail(f"no connector {number} with a meter")
        meters[number] = item.mapping()

        def check_meter(value: dict[str, object]) -> None:
            Meter().restore_state(value, power_cut=True)

        item.convert(check_meter)
    if set(meters) != set(station.meters):
        top["meters"].fail(f"expected a meter for connectors 1 to {station.identity.connectors}")

    transactions: dict[int, Transaction] = {}
    open_transactions: dict[int, Transaction] = {}
    for item in top["transactions"].items():
        key = item["key"].of(int)
        connector_id = item["connector"].of(int)
        if connector_id not in station.meters:
            item["connector"].fail(f"no connector {connector_id} on this charge point")
        transaction = Transaction(
            connector_id=connector_id,
            id_tag=item["id_tag"].of(str),
            meter_start=item["meter_start"].of(int),
            started_at=item["started_at"].of(float),
            transaction_id=item["transaction_id"].of(int, optional=True),
            reservation_id=item["reservation_id"].of(int, optional=True),
            stopping=item["stopping"].of(bool),
            begin_sample=item["begin_sample"].of(dict, optional=True),
            remote=item["remote"].of(bool),
            aligned_samples=item["aligned_samples"].of(list),
        )
        if key in transactions:
            item["key"].fail(f"key {key} is used twice")
        transactions[key] = transaction
        if item["open"].of(bool):
            if connector_id in open_transactions:
                item["connector"].fail(f"connector {connector_id} has two open transactions")
            open_transactions[connector_id] = transaction

    outbox: list[Message] = []
    for item in top["outbox"].items():
        key = item["transaction"].of(int, optional=True)
        if key is not None and key not in transactions:
            item["transaction"].fail(f"no transaction with key {key}")
        outbox.append(
            Message(
                item["action"].of(str),
                item["payload"].of(dict),
                before_boot=item["before_boot"].of(bool),
                transactional=item["transactional"].of(bool),
                validate=item["validate"].of(bool),
                timeout=item["timeout"].of(float, optional=True),
                transaction=None if key is None else transactions[key],
            )
        )

    local = top["local_list"]
    entries = {tag: info.of(dict) for tag, info in local["entries"].entries()}
    cache = {tag: info.of(dict) for tag, info in top["cache"].entries()}

    reservations: dict[int, Reservation] = {}
    for item in top["reservations"].items():
        reservation_id = item["reservation_id"].of(int)
        held = set()
        for entry in item["connectors"].items():
            if entry.of(int) not in station.meters:
                entry.fail(f"no connector {entry.value} on this charge point")
            held.add(entry.of(int))
        reservations[reservation_id] = Reservation(
            reservation_id,
            item["connector_id"].of(int),
            item["id_tag"].of(str),
            item["parent_id_tag"].of(str, optional=True),
            item["expiry"].of(float),
            held,
        )

    def numbered(field: _Field, kind: type[_T]) -> dict[int, _T]:
        result = {}
        for name, value in field.entries():
            number = _Field(value.source, name, value.path).number()
            if number not in station.connectors:
                value.fail(f"no connector {number} on this charge point")
            result[number] = value.of(kind)
        return result

    registration = top["registration"].of(str, optional=True)
    return _Restored(
        registration=None
        if registration is None
        else top["registration"].convert(RegistrationStatus),
        boot_count=top["boot_count"].of(int),
        connectors=connectors,
        meters=meters,
        transactions=transactions,
        open_transactions=open_transactions,
        outbox=outbox,
        local_list=(local["version"].of(int), entries),
        cache=cache,
        reservations=reservations,
        last_authorized=top["last_authorized"].of(str, optional=True),
        pending_remote_starts=numbered(top["pending_remote_starts"], str),
        remote_starts_authorizing={n.of(int) for n in top["remote_starts_authorizing"].items()},
        pending_availability=numbered(top["pending_availability"], bool),
        timers={
            _Field(value.source, name, value.path).convert(StationTimer.parse): value.of(float)
            for name, value in top["timers"].entries()
        },
    )


def _apply(station: Station, restored: _Restored, *, power_cut: bool) -> None:
    """Everything was read and checked: now it goes into the station."""
    station.registration = restored.registration
    station.boot_count = restored.boot_count
    for number, saved in restored.connectors.items():
        station.connectors[number].restore_state(*saved)
    for number, state in restored.meters.items():
        station.meters[number].restore_state(state, power_cut=power_cut)
    station.transactions = dict(sorted(restored.open_transactions.items()))
    station.outbox.load(restored.outbox)
    station.sending = None
    station.local_list.version, station.local_list.entries = restored.local_list
    station.cache.entries = restored.cache
    station.reservations.load(restored.reservations)
    station.last_authorized = restored.last_authorized
    station.remote_starts.load(restored.pending_remote_starts, restored.remote_starts_authorizing)
    station.pending_availability = restored.pending_availability
    station.timers.load(restored.timers)

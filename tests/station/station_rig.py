"""The test rig for the sans-I/O station: a Central System played in the test.

:class:`CentralSystem` takes the station's items with ``next_item()``, checks each against
the independent OCA validator (``conftest.oca_errors``) and answers with schema-valid
responses through ``on_result()``. Virtual time moves only through :meth:`Rig.run_until`,
which fires the station's timers in ``next_timer()`` order.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass
from typing import Any

from conftest import oca_errors
from mockpoint.clock import VirtualClock, format_timestamp, parse_timestamp
from mockpoint.station.configuration import Configuration
from mockpoint.station.handlers import handle
from mockpoint.station.metering import Meter
from mockpoint.station.station import Identity, Message, Station

T0 = parse_timestamp("2025-06-01T08:00:00Z")
IDENTITY = Identity(
    "CP-001",
    vendor="Acme",
    model="AC22",
    serial_number="SN-0001",
    firmware_version="1.4.2",
    connectors=2,
)
BOOT_PAYLOAD = {
    "chargePointVendor": "Acme",
    "chargePointModel": "AC22",
    "chargePointSerialNumber": "SN-0001",
    "firmwareVersion": "1.4.2",
}
ENERGY = "Energy.Active.Import.Register"


def ts(offset: float) -> str:
    """The wire timestamp ``offset`` seconds after T0."""
    return format_timestamp(T0 + offset)


def sampled(value: str, context: str, measurand: str = ENERGY, unit: str = "Wh") -> dict[str, str]:
    return {
        "value": value,
        "context": context,
        "format": "Raw",
        "measurand": measurand,
        "location": "Outlet",
        "unit": unit,
    }


class CentralSystem:
    """Plays the Central System: takes the station's messages, validates them, answers."""

    def __init__(self, station: Station) -> None:
        self.station = station
        self.transaction_ids = itertools.count(1)
        #: (action, payload) of every message taken, as it went out
        self.log: list[tuple[str, dict[str, Any]]] = []

    def take(self) -> Message | None:
        item = self.station.next_item()
        if item is None:
            return None
        assert isinstance(item, Message), f"expected a message, got {item!r}"
        errors = oca_errors(item.action, item.payload)
        assert errors == [], f"{item.action} {item.payload} breaks the OCA schema: {errors}"
        self.log.append((item.action, copy.deepcopy(item.payload)))
        return item

    def expect(self, action: str) -> Message:
        message = self.take()
        assert message is not None, f"expected {action}, nothing is sendable"
        assert message.action == action, (message.action, message.payload)
        return message

    def answer(self, message: Message, response: dict[str, Any] | None = None) -> None:
        if response is None:
            response = self.default_answer(message)
        errors = oca_errors(message.action, response, response=True)
        assert errors == [], f"test bug: invalid {message.action} answer {response}: {errors}"
        self.station.on_result(message, response)

    def exchange(self, action: str, response: dict[str, Any] | None = None) -> dict[str, Any]:
        """Take the next message, check its action, answer it; return its payload."""
        message = self.expect(action)
        self.answer(message, response)
        return message.payload

    def drain(self) -> list[Message]:
        """Take and answer (with the default answers) everything sendable."""
        taken = []
        while (message := self.take()) is not None:
            self.answer(message)
            taken.append(message)
        return taken

    def default_answer(self, message: Message) -> dict[str, Any]:
        now = format_timestamp(self.station.clock.now())
        match message.action:
            case "BootNotification":
                return {"status": "Accepted", "currentTime": now, "interval": 300}
            case "Heartbeat":
                return {"currentTime": now}
            case "Authorize" | "StopTransaction":
                return {"idTagInfo": {"status": "Accepted"}}
            case "StartTransaction":
                return {"transactionId": next(self.transaction_ids), "idTagInfo": ACCEPTED}
            case _:
                return {}


ACCEPTED = {"status": "Accepted"}


@dataclass
class Rig:
    clock: VirtualClock
    station: Station
    csms: CentralSystem

    def call(self, action: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The Central System's request, checked both ways against the OCA schemas."""
        assert oca_errors(action, payload) == [], f"test bug: invalid {action} request"
        response = handle(self.station, action, payload)
        errors = oca_errors(action, response, response=True)
        assert errors == [], f"{action} answer {response} breaks the OCA schema: {errors}"
        return response

    def run_until(self, offset: float) -> list[tuple[float, Message]]:
        """Fire every timer due up to T0 + ``offset`` in order, answering what each queues.

        Returns (offset of the timer, message) for every message taken on the way.
        """
        seen: list[tuple[float, Message]] = []
        while (due := self.station.next_timer()) is not None and due <= T0 + offset:
            self.clock.advance_to(due)
            self.station.on_timer(due)
            seen.extend((due - T0, message) for message in self.csms.drain())
        self.clock.advance_to(T0 + offset)
        return seen

    def boot(self, interval: int = 300) -> list[Message]:
        """Connect, get Accepted, take the StatusNotifications that follow."""
        self.station.on_connected()
        answer = {"status": "Accepted", "currentTime": ts(0), "interval": interval}
        self.csms.exchange("BootNotification", answer)
        return self.csms.drain()

    def charging(
        self, connector_id: int = 1, id_tag: str = "TAG-001", *, authorize: bool = True
    ) -> int:
        """Plug in, (authorize,) start and get the transaction accepted; return its id."""
        self.station.plug_in(connector_id)
        if authorize:
            self.station.authorize(id_tag)
        self.station.start_transaction(connector_id, id_tag)
        self.csms.drain()
        transaction_id = self.station.transactions[connector_id].transaction_id
        assert transaction_id is not None
        return transaction_id


def make_rig(
    overrides: dict[str, object] | None = None,
    *,
    identity: Identity = IDENTITY,
    register_wh: float = 0.0,
    boot: bool = False,
) -> Rig:
    clock = VirtualClock(T0, speed=0)
    configuration = Configuration(overrides, number_of_connectors=identity.connectors)
    station = Station(
        identity,
        clock,
        configuration,
        meter_factory=lambda _n: Meter(register_wh=register_wh),
    )
    rig = Rig(clock, station, CentralSystem(station))
    if boot:
        station.on_connected()
        rig.csms.drain()
    return rig


def actions(messages: list[Message]) -> list[str]:
    return [m.action for m in messages]


def statuses(messages: list[Message]) -> list[tuple[int, str]]:
    assert actions(messages) == ["StatusNotification"] * len(messages), actions(messages)
    return [(m.payload["connectorId"], m.payload["status"]) for m in messages]

"""RemoteStartTransaction's wait for an authorization and a cable (OCPP 1.6 §5.11).

An accepted remote start with a cable already in starts at once. Otherwise the connector
goes Preparing and waits for the cable, for ConnectionTimeOut at most (§9.1.7); with
AuthorizeRemoteTxRequests (§9.1.3) it also waits for the id tag's authorization, which the
Local Authorization List or the cache may give at once (§3.5). :class:`RemoteStarts` keeps
the waiting starts (the station's ``remote_starts``); the functions below act on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mockpoint.ocpp16.enums import AuthorizationStatus
from mockpoint.station import authorization
from mockpoint.station.connector import ConnectorEvent
from mockpoint.station.timers import StationTimer

if TYPE_CHECKING:
    from mockpoint.station.station import Station

__all__ = ["RemoteStarts", "connection_timeout", "on_verdict", "plugged_in", "start"]


class RemoteStarts:
    """Accepted remote starts that wait, by connector (§5.11).

    A start *waits* for a cable with its id tag; with AuthorizeRemoteTxRequests (§9.1.3) it
    is also *authorizing* until the id tag's verdict comes. A start whose wait ends (it
    started, lapsed at ConnectionTimeOut, or was refused) authorizes no longer: a verdict
    that comes after it changes nothing on its connector. The state file keeps both sets.
    """

    # Slots: a load run holds thousands of these.
    __slots__ = ("_authorizing", "_waiting")

    def __init__(self) -> None:
        #: connector -> the id tag of its waiting start
        self._waiting: dict[int, str] = {}
        # A dict used as an ordered set: an empty set costs 216 bytes, an empty dict 64.
        self._authorizing: dict[int, None] = {}

    def wait(self, connector_id: int, id_tag: str, *, authorizing: bool) -> None:
        """A start for ``id_tag`` waits on ``connector_id``; ``authorizing``: for its verdict
        too."""
        self._waiting[connector_id] = id_tag
        if authorizing:
            self._authorizing[connector_id] = None

    def is_waiting(self, connector_id: int) -> bool:
        return connector_id in self._waiting

    def is_authorizing(self, connector_id: int) -> bool:
        return connector_id in self._authorizing

    def take(self, connector_id: int) -> str | None:
        """End the connector's wait, and its authorizing with it: the id tag it waited
        with, or None if none waited."""
        self._authorizing.pop(connector_id, None)
        return self._waiting.pop(connector_id, None)

    def decided(self, id_tag: str) -> list[int]:
        """The connectors whose waiting start was authorizing ``id_tag``, in order; they
        authorize no longer (they may still wait for a cable)."""
        connectors = [n for n in sorted(self._authorizing) if self._waiting.get(n) == id_tag]
        for connector_id in connectors:
            del self._authorizing[connector_id]
        return connectors

    def clear(self) -> None:
        """Forget every waiting start (the station rebooted)."""
        self._waiting.clear()
        self._authorizing.clear()

    def waiting(self) -> Mapping[int, str]:
        """Connector -> id tag of every waiting start, in the order they came."""
        return self._waiting

    def authorizing(self) -> list[int]:
        """The connectors authorizing, in order."""
        return sorted(self._authorizing)

    def load(self, waiting: Mapping[int, str], authorizing: set[int]) -> None:
        """Replace the waiting starts (a state file read back)."""
        self._waiting = dict(waiting)
        self._authorizing = dict.fromkeys(sorted(authorizing))


def start(station: Station, connector_id: int, id_tag: str) -> None:
    """An accepted RemoteStartTransaction for ``connector_id``."""
    connector = station.connectors[connector_id]
    authorize = station.configuration.get_bool("AuthorizeRemoteTxRequests")
    if not authorize and connector.plugged:
        station.start_transaction(connector_id, id_tag, remote=True)
        return
    station.remote_starts.wait(connector_id, id_tag, authorizing=authorize)
    # §5.11: authorized "as if in response to a local action", so the list and the cache
    # may decide it (§3.5); a local decision is applied once the connector waits.
    local = authorization.decide(station, id_tag) if authorize else None
    if authorize and local is None:
        station.authorize(id_tag)  # not decidable locally: Authorize.req
    if not connector.plugged:
        station.transition(connector, ConnectorEvent.AUTHORIZE)
        timeout = station.configuration.get_int("ConnectionTimeOut")
        if timeout > 0:
            when = station.clock.now() + timeout
            station.timers.set(StationTimer.connection_timeout(connector_id), when)
    if local is not None:
        on_verdict(station, id_tag, local)


def plugged_in(station: Station, connector_id: int) -> None:
    """A cable came (§5.11): a start that waited only for it starts now; one still
    authorizing starts on the verdict."""
    remote_starts = station.remote_starts
    if remote_starts.is_authorizing(connector_id):
        return
    id_tag = remote_starts.take(connector_id)
    if id_tag is not None:
        station.timers.cancel(StationTimer.connection_timeout(connector_id))
        station.start_transaction(connector_id, id_tag, remote=True)


def on_verdict(station: Station, id_tag: str, info: dict[str, Any]) -> None:
    """An id tag was decided, by the Central System or locally (§3.5): act on it.

    Accepted, it becomes the default tag of StartTransaction; the remote starts waiting for
    it start (cable in) or keep waiting for the cable; refused, they lapse (§5.11).
    """
    accepted = info.get("status") == AuthorizationStatus.ACCEPTED
    if accepted:
        station.last_authorized = id_tag
    remote_starts = station.remote_starts
    for connector_id in remote_starts.decided(id_tag):
        if not accepted:
            remote_starts.take(connector_id)
            station.timers.cancel(StationTimer.connection_timeout(connector_id))
            _lapse(station, connector_id)
        elif station.connectors[connector_id].plugged:
            remote_starts.take(connector_id)
            station.timers.cancel(StationTimer.connection_timeout(connector_id))
            station.start_transaction(connector_id, id_tag, remote=True)


def connection_timeout(station: Station, connector_id: int) -> None:
    """ConnectionTimeOut passed with no cable: the remote start lapses (§9.1.7)."""
    if station.remote_starts.take(connector_id) is not None:
        _lapse(station, connector_id)


def _lapse(station: Station, connector_id: int) -> None:
    connector = station.connectors[connector_id]
    if connector.can_apply(ConnectorEvent.PREPARING_TIMEOUT):
        station.transition(connector, ConnectorEvent.PREPARING_TIMEOUT)

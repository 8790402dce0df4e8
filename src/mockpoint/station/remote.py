"""RemoteStartTransaction's wait for an authorization and a cable (OCPP 1.6 §5.11).

An accepted remote start with a cable already in starts at once. Otherwise the connector
goes Preparing and waits for the cable, for ConnectionTimeOut at most (§9.1.7); with
AuthorizeRemoteTxRequests (§9.1.3) it also waits for the id tag's authorization, which the
Local Authorization List or the cache may give at once (§3.5). Works on the station's
internals as part of the station package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockpoint.ocpp16.enums import AuthorizationStatus
from mockpoint.station import authorization
from mockpoint.station.connector import ConnectorEvent

if TYPE_CHECKING:
    from mockpoint.station.station import Station

__all__ = ["connection_timeout", "on_verdict", "start"]


def start(station: Station, connector_id: int, id_tag: str) -> None:
    """An accepted RemoteStartTransaction for ``connector_id``."""
    connector = station.connectors[connector_id]
    authorize = station.configuration.get_bool("AuthorizeRemoteTxRequests")
    if not authorize and connector.plugged:
        station.start_transaction(connector_id, id_tag, remote=True)
        return
    station.pending_remote_starts[connector_id] = id_tag
    # §5.11: authorized "as if in response to a local action", so the list and the cache
    # may decide it (§3.5); a local decision is applied once the connector waits.
    local = authorization.decide(station, id_tag) if authorize else None
    if authorize:
        station.remote_starts_authorizing.add(connector_id)
        if local is None:
            station.authorize(id_tag)  # not decidable locally: Authorize.req
    if not connector.plugged:
        station._transition(connector, ConnectorEvent.AUTHORIZE)
        timeout = station.configuration.get_int("ConnectionTimeOut")
        if timeout > 0:
            when = station.clock.now() + timeout
            station._timers.set(f"connection_timeout:{connector_id}", when)
    if local is not None:
        on_verdict(station, id_tag, local)


def on_verdict(station: Station, id_tag: str, info: dict[str, Any]) -> None:
    """An id tag was decided, by the Central System or locally (§3.5): act on it.

    Accepted, it becomes the default tag of StartTransaction; the remote starts waiting for
    it start (cable in) or keep waiting for the cable; refused, they lapse (§5.11).
    """
    accepted = info.get("status") == AuthorizationStatus.ACCEPTED
    if accepted:
        station.last_authorized = id_tag
    for connector_id in sorted(station.remote_starts_authorizing):
        if station.pending_remote_starts.get(connector_id) != id_tag:
            continue
        station.remote_starts_authorizing.discard(connector_id)
        if not accepted:
            del station.pending_remote_starts[connector_id]
            station._timers.cancel(f"connection_timeout:{connector_id}")
            _lapse(station, connector_id)
        elif station.connectors[connector_id].plugged:
            del station.pending_remote_starts[connector_id]
            station._timers.cancel(f"connection_timeout:{connector_id}")
            station.start_transaction(connector_id, id_tag, remote=True)


def connection_timeout(station: Station, connector_id: int) -> None:
    """ConnectionTimeOut passed with no cable: the remote start lapses (§9.1.7)."""
    if station.pending_remote_starts.pop(connector_id, None) is not None:
        _lapse(station, connector_id)


def _lapse(station: Station, connector_id: int) -> None:
    connector = station.connectors[connector_id]
    if connector.can_apply(ConnectorEvent.PREPARING_TIMEOUT):
        station._transition(connector, ConnectorEvent.PREPARING_TIMEOUT)

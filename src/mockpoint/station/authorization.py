"""Local authorization: the Local Authorization List and the Authorization Cache.

OCPP 1.6 §3.5 lets a charge point decide an id tag without asking the Central System, from
two stores: the Local Authorization List, which only the Central System writes
(SendLocalList, §5.15; its version is read with GetLocalListVersion, §5.10), and the
Authorization Cache, which the charge point fills from the idTagInfo of Authorize,
StartTransaction and StopTransaction answers (§3.5.1) and ClearCache empties (§5.4).

:func:`decide` applies the §9.1 keys to them:

- online, LocalPreAuthorize (§9.1.19) true and the tag Accepted and not expired in a store:
  Accepted at once, no Authorize.req; anything else goes to the Central System;
- offline, LocalAuthorizeOffline (§9.1.18) true: a tag in a store gets its stored status
  (an Accepted one past its expiryDate: Expired); an unknown tag is Accepted only with
  AllowOfflineTxForUnknownId (§9.1.1, §3.5.3 "Unknown Offline Authorization"), else
  Invalid;
- offline, LocalAuthorizeOffline false: Invalid, nothing is decided from the stores.

A store is consulted only while its key enables it: LocalAuthListEnabled (§9.2.1),
AuthorizationCacheEnabled (§9.1.2). A tag in the Local Authorization List is decided by the
list alone, whatever the cache holds: §3.5 gives list entries priority over cache entries
for the same identifier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mockpoint.clock import parse_timestamp
from mockpoint.ocpp16.enums import AuthorizationStatus, UpdateStatus, UpdateType

if TYPE_CHECKING:
    from mockpoint.station.station import Station

__all__ = ["LocalAuthList", "decide", "expired", "parent_of"]

_ACCEPTED = AuthorizationStatus.ACCEPTED.value


@dataclass
class LocalAuthList:
    """The Local Authorization List (§3.5.2): its version and idTag -> idTagInfo."""

    version: int = 0
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def reported_version(self) -> int:
        """The version GetLocalListVersion reports: 0 for an empty list (§5.10).

        TC_042_2_CS expects 0 after a Full update that sent no entries, whatever its
        listVersion, so the version of an empty list is 0, not the last one received.
        """
        return self.version if self.entries else 0

    def update(self, request: Mapping[str, Any], *, max_send: int, max_length: int) -> UpdateStatus:
        """Apply a SendLocalList.req (§5.15); the list changes only when Accepted.

        - Differential with a listVersion not above the current version: VersionMismatch
          (§7.47 UpdateStatus: "less or equal then version number of current list");
        - more entries than SendLocalListMaxLength (§9.2.3), the same idTag twice (§5.15:
          "MUST be unique"), a Full entry without idTagInfo (§6.41: required for Full), or
          a resulting list longer than LocalAuthListMaxLength (§9.2.2): Failed.

        A Differential entry with idTagInfo adds or replaces the tag, one without removes
        it; a Full update replaces the whole list, an empty one clears it (§5.15).
        """
        update_type = UpdateType(request["updateType"])
        version = int(request["listVersion"])
        items: list[dict[str, Any]] = list(request.get("localAuthorizationList") or [])
        if update_type is UpdateType.DIFFERENTIAL and version <= self.reported_version:
            return UpdateStatus.VERSION_MISMATCH
        tags = [item["idTag"] for item in items]
        if len(items) > max_send or len(set(tags)) != len(tags):
            return UpdateStatus.FAILED
        if update_type is UpdateType.FULL:
            if any("idTagInfo" not in item for item in items):
                return UpdateStatus.FAILED
            entries: dict[str, dict[str, Any]] = {}
        else:
            entries = dict(self.entries)
        for item in items:
            if "idTagInfo" in item:
                entries[item["idTag"]] = dict(item["idTagInfo"])
            else:
                entries.pop(item["idTag"], None)
        if len(entries) > max_length:
            return UpdateStatus.FAILED
        self.entries = entries
        self.version = version
        return UpdateStatus.ACCEPTED


def expired(info: Mapping[str, Any], now: float) -> bool:
    """Whether ``info``'s expiryDate has passed at ``now`` (§7.28 IdTagInfo).

    An expiryDate that cannot be read counts as absent: a Central System's odd value must
    not make the station refuse a tag it accepted.
    """
    expiry = info.get("expiryDate")
    if not isinstance(expiry, str):
        return False
    try:
        return parse_timestamp(expiry) <= now
    except ValueError:
        return False


def _known(station: Station, id_tag: str) -> dict[str, Any] | None:
    """The tag's idTagInfo in the list or the cache, with an expired Accepted as Expired."""
    configuration = station.configuration
    info: dict[str, Any] | None = None
    from_cache = False
    if configuration.get_bool("LocalAuthListEnabled") and id_tag in station.local_list.entries:
        info = dict(station.local_list.entries[id_tag])
    elif configuration.get_bool("AuthorizationCacheEnabled"):
        cached = station.cache.lookup(id_tag)
        info, from_cache = (dict(cached), True) if cached is not None else (None, False)
    if info is None:
        return None
    if info.get("status") == _ACCEPTED and expired(info, station.clock.now()):
        info["status"] = AuthorizationStatus.EXPIRED.value
        if from_cache:
            # §3.5.1: an entry whose validity ends is changed to Expired in the cache.
            station.cache.remember(id_tag, info)
    return info


def decide(station: Station, id_tag: str) -> dict[str, Any] | None:
    """The idTagInfo for ``id_tag`` decided locally, or None: send Authorize.req (§3.5)."""
    configuration = station.configuration
    known = _known(station, id_tag)
    if station.connected:
        if configuration.get_bool("LocalPreAuthorize") and known is not None:
            if known.get("status") == _ACCEPTED:
                return known
        return None
    if not configuration.get_bool("LocalAuthorizeOffline"):
        return {"status": AuthorizationStatus.INVALID.value}
    if known is not None:
        return known
    if configuration.get_bool("AllowOfflineTxForUnknownId"):
        return {"status": _ACCEPTED}
    return {"status": AuthorizationStatus.INVALID.value}


def parent_of(station: Station, id_tag: str) -> str | None:
    """The tag's parentIdTag as the list or the cache knows it (§5.13 Reserve Now)."""
    configuration = station.configuration
    info: dict[str, Any] | None = None
    if configuration.get_bool("LocalAuthListEnabled"):
        info = station.local_list.entries.get(id_tag)
    if info is None and configuration.get_bool("AuthorizationCacheEnabled"):
        info = station.cache.lookup(id_tag)
    parent = (info or {}).get("parentIdTag")
    return parent if isinstance(parent, str) else None

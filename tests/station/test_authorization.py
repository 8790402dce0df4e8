"""Local authorization (OCPP 1.6 §3.5): the Local Authorization List (GetLocalListVersion
§5.10, SendLocalList §5.15), the Authorization Cache, and when an id tag is decided without
an Authorize.req. Every request, answer and queued message is checked against the OCA
schemas by the rig."""

from __future__ import annotations

from typing import Any

import pytest
import station_rig
from station_rig import ACCEPTED, Rig, statuses, ts

ALL_KEYS_ON = {
    "LocalAuthListEnabled": True,
    "AuthorizationCacheEnabled": True,
    "LocalPreAuthorize": True,
}


def make_rig(overrides: dict[str, object] | None = None) -> Rig:
    return station_rig.make_rig(overrides, boot=True)


def entry(id_tag: str, status: str | None = "Accepted", **info: str) -> dict[str, Any]:
    """A localAuthorizationList item; ``status`` None: no idTagInfo (a removal)."""
    if status is None:
        return {"idTag": id_tag}
    return {"idTag": id_tag, "idTagInfo": {"status": status, **info}}


def send_list(
    rig: Rig, version: int, items: list[dict[str, Any]] | None, update_type: str = "Full"
) -> str:
    payload: dict[str, Any] = {"listVersion": version, "updateType": update_type}
    if items is not None:
        payload["localAuthorizationList"] = items
    status: str = rig.call("SendLocalList", payload)["status"]
    return status


def list_version(rig: Rig) -> int:
    version: int = rig.call("GetLocalListVersion", {})["listVersion"]
    return version


# --- GetLocalListVersion (§5.10) and SendLocalList (§5.15) ------------------------------------


def test_a_new_station_reports_list_version_zero() -> None:
    rig = make_rig()
    assert list_version(rig) == 0
    assert rig.station.next_item() is None


def test_list_version_is_minus_one_with_the_list_switched_off() -> None:
    rig = make_rig({"LocalAuthListEnabled": False})
    assert list_version(rig) == -1


def test_full_update_replaces_the_list_and_sets_the_version() -> None:
    rig = make_rig()
    assert send_list(rig, 3, [entry("A"), entry("B", "Blocked")]) == "Accepted"
    assert list_version(rig) == 3
    assert send_list(rig, 4, [entry("C", expiryDate=ts(60), parentIdTag="P")]) == "Accepted"
    assert list_version(rig) == 4
    assert rig.station.local_list.entries == {
        "C": {"status": "Accepted", "expiryDate": ts(60), "parentIdTag": "P"}
    }
    assert rig.station.next_item() is None


def test_full_update_without_entries_empties_the_list_and_reports_zero() -> None:
    # TC_042_2_CS: Full, listVersion 1, no list -> Accepted, then GetLocalListVersion 0.
    rig = make_rig()
    assert send_list(rig, 5, [entry("A")]) == "Accepted"
    assert send_list(rig, 1, None) == "Accepted"
    assert rig.station.local_list.entries == {}
    assert list_version(rig) == 0


def test_full_update_may_lower_the_version() -> None:
    rig = make_rig()
    assert send_list(rig, 9, [entry("A")]) == "Accepted"
    assert send_list(rig, 2, [entry("B")]) == "Accepted"
    assert list_version(rig) == 2


def test_differential_update_adds_replaces_and_removes() -> None:
    rig = make_rig()
    assert send_list(rig, 2, [entry("A"), entry("B"), entry("C")]) == "Accepted"
    update = [entry("A", "Blocked"), entry("B", None), entry("D")]
    assert send_list(rig, 5, update, "Differential") == "Accepted"
    assert list_version(rig) == 5
    assert rig.station.local_list.entries == {
        "A": {"status": "Blocked"},
        "C": {"status": "Accepted"},
        "D": {"status": "Accepted"},
    }


def test_differential_update_without_entries_only_changes_the_version() -> None:
    rig = make_rig()
    send_list(rig, 2, [entry("A")])
    assert send_list(rig, 3, None, "Differential") == "Accepted"
    assert list_version(rig) == 3
    assert set(rig.station.local_list.entries) == {"A"}


@pytest.mark.parametrize("version", [4, 5])
def test_differential_update_not_above_the_current_version_is_a_mismatch(version: int) -> None:
    # §7 UpdateStatus: "less or equal then version number of current list".
    rig = make_rig()
    send_list(rig, 5, [entry("A")])
    assert send_list(rig, version, [entry("B")], "Differential") == "VersionMismatch"
    assert list_version(rig) == 5
    assert set(rig.station.local_list.entries) == {"A"}


def test_more_entries_than_send_local_list_max_length_fail() -> None:
    rig = make_rig({"SendLocalListMaxLength": 2})
    items = [entry("A"), entry("B"), entry("C")]
    assert send_list(rig, 1, items) == "Failed"
    assert send_list(rig, 1, items[:2]) == "Accepted"
    assert send_list(rig, 2, items[2:], "Differential") == "Accepted"
    assert set(rig.station.local_list.entries) == {"A", "B", "C"}


def test_a_list_longer_than_local_auth_list_max_length_fails() -> None:
    rig = make_rig({"LocalAuthListMaxLength": 2})
    assert send_list(rig, 1, [entry("A"), entry("B")]) == "Accepted"
    assert send_list(rig, 2, [entry("C")], "Differential") == "Failed"
    assert list_version(rig) == 1
    # Removing one makes room in the same update.
    assert send_list(rig, 2, [entry("A", None), entry("C")], "Differential") == "Accepted"
    assert set(rig.station.local_list.entries) == {"B", "C"}


def test_duplicate_id_tags_fail() -> None:
    rig = make_rig()
    assert send_list(rig, 1, [entry("A"), entry("A", "Blocked")]) == "Failed"
    assert list_version(rig) == 0


def test_a_full_update_entry_without_id_tag_info_fails() -> None:
    rig = make_rig()
    assert send_list(rig, 1, [entry("A"), entry("B", None)]) == "Failed"
    assert rig.station.local_list.entries == {}


def test_send_local_list_with_the_list_switched_off_is_not_supported() -> None:
    rig = make_rig({"LocalAuthListEnabled": False})
    assert send_list(rig, 1, [entry("A")]) == "NotSupported"
    assert rig.station.local_list.entries == {}


def test_clear_cache_keeps_the_local_list() -> None:
    rig = make_rig()
    send_list(rig, 1, [entry("LISTED")])
    rig.station.authorize("CACHED")
    rig.csms.exchange("Authorize")
    assert rig.call("ClearCache", {}) == ACCEPTED
    assert rig.station.cache.lookup("CACHED") is None
    assert set(rig.station.local_list.entries) == {"LISTED"}
    assert list_version(rig) == 1


# --- online: LocalPreAuthorize (§9.1.19) ------------------------------------------------------


def test_local_pre_authorize_accepts_a_listed_tag_without_a_request() -> None:
    rig = make_rig(ALL_KEYS_ON)
    send_list(rig, 1, [entry("TAG-L", parentIdTag="GROUP")])
    message = rig.station.authorize("TAG-L")
    assert message.local
    assert message.action == "Authorize"
    assert message.response == {"idTagInfo": {"status": "Accepted", "parentIdTag": "GROUP"}}
    assert rig.station.next_item() is None
    assert not rig.station.has_pending()
    assert rig.station.last_authorized == "TAG-L"
    # The local decision is not written to the cache: the list holds it.
    assert rig.station.cache.lookup("TAG-L") is None
    # The tag starts the transaction by default, as after an Authorize answer.
    rig.station.plug_in(1)
    rig.station.start_transaction(1)
    [start] = [m for m in rig.csms.drain() if m.action == "StartTransaction"]
    assert start.payload["idTag"] == "TAG-L"


def test_without_local_pre_authorize_a_listed_tag_is_sent() -> None:
    rig = make_rig({**ALL_KEYS_ON, "LocalPreAuthorize": False})
    send_list(rig, 1, [entry("TAG-L")])
    message = rig.station.authorize("TAG-L")
    assert not message.local and message.response is None
    assert rig.csms.exchange("Authorize") == {"idTag": "TAG-L"}


@pytest.mark.parametrize("status", ["Blocked", "Expired", "Invalid", "ConcurrentTx"])
def test_local_pre_authorize_sends_a_tag_the_list_does_not_accept(status: str) -> None:
    rig = make_rig(ALL_KEYS_ON)
    send_list(rig, 1, [entry("TAG-L", status)])
    assert not rig.station.authorize("TAG-L").local
    rig.csms.exchange("Authorize")


def test_the_list_outranks_the_cache() -> None:
    rig = make_rig(ALL_KEYS_ON)
    rig.station.authorize("TAG-X")
    rig.csms.exchange("Authorize")  # cached as Accepted
    assert rig.station.authorize("TAG-X").local
    send_list(rig, 1, [entry("TAG-X", "Blocked")])
    assert not rig.station.authorize("TAG-X").local
    rig.csms.exchange("Authorize")


def test_an_expired_list_entry_is_not_pre_authorized() -> None:
    rig = make_rig(ALL_KEYS_ON)
    send_list(rig, 1, [entry("TAG-L", expiryDate=ts(100))])
    rig.run_until(99)
    assert rig.station.authorize("TAG-L").local
    rig.run_until(100)
    assert not rig.station.authorize("TAG-L").local
    rig.csms.exchange("Authorize")


def test_local_pre_authorize_uses_the_cache_and_honours_its_expiry() -> None:
    rig = make_rig(ALL_KEYS_ON)
    rig.station.authorize("TAG-C")
    answer = {"idTagInfo": {"status": "Accepted", "expiryDate": ts(100)}}
    rig.csms.exchange("Authorize", answer)
    rig.run_until(50)
    local = rig.station.authorize("TAG-C")
    assert local.local and local.response == answer
    rig.run_until(100)
    assert not rig.station.authorize("TAG-C").local
    # §3.5.1: the lapsed entry is changed to Expired in the cache.
    assert rig.station.cache.lookup("TAG-C") == {"status": "Expired", "expiryDate": ts(100)}
    rig.csms.exchange("Authorize", {"idTagInfo": {"status": "Accepted"}})
    assert rig.station.cache.lookup("TAG-C") == {"status": "Accepted"}


def test_a_switched_off_list_is_not_consulted() -> None:
    rig = make_rig(ALL_KEYS_ON)
    send_list(rig, 1, [entry("TAG-L")])
    rig.call("ChangeConfiguration", {"key": "LocalAuthListEnabled", "value": "false"})
    assert not rig.station.authorize("TAG-L").local
    rig.csms.exchange("Authorize")


def test_a_switched_off_cache_is_neither_filled_nor_consulted() -> None:
    rig = make_rig({**ALL_KEYS_ON, "AuthorizationCacheEnabled": False})
    rig.station.authorize("TAG-C")
    rig.csms.exchange("Authorize")
    assert rig.station.cache.lookup("TAG-C") is None
    assert not rig.station.authorize("TAG-C").local


def test_start_and_stop_answers_fill_the_cache() -> None:
    rig = make_rig(ALL_KEYS_ON)
    rig.station.plug_in(1)
    rig.station.start_transaction(1, "TAG-S")
    rig.csms.drain()
    assert rig.station.cache.lookup("TAG-S") == {"status": "Accepted"}
    rig.station.stop_transaction(1)
    rig.csms.exchange("StopTransaction", {"idTagInfo": {"status": "Blocked"}})
    assert rig.station.cache.lookup("TAG-S") == {"status": "Blocked"}
    assert not rig.station.authorize("TAG-S").local


# --- offline: LocalAuthorizeOffline (§9.1.18), AllowOfflineTxForUnknownId (§9.1.1) ------------


def offline_rig(overrides: dict[str, object] | None = None) -> Rig:
    rig = make_rig({**ALL_KEYS_ON, "LocalPreAuthorize": False, **(overrides or {})})
    send_list(
        rig,
        1,
        [
            entry("LISTED"),
            entry("BLOCKED", "Blocked"),
            entry("LAPSED", expiryDate=ts(10)),
        ],
    )
    rig.station.authorize("CACHED")
    rig.csms.exchange("Authorize")
    rig.run_until(20)
    rig.station.on_disconnected()
    return rig


def offline_status(rig: Rig, id_tag: str) -> str:
    message = rig.station.authorize(id_tag)
    assert message.local and message.response is not None
    assert rig.station.next_item() is None and not rig.station.has_pending()
    status: str = message.response["idTagInfo"]["status"]
    return status


@pytest.mark.parametrize(
    ("id_tag", "status"),
    [
        ("LISTED", "Accepted"),
        ("BLOCKED", "Blocked"),
        ("LAPSED", "Expired"),
        ("CACHED", "Accepted"),
        ("UNKNOWN", "Invalid"),
    ],
)
def test_offline_the_list_and_the_cache_decide(id_tag: str, status: str) -> None:
    rig = offline_rig()
    assert offline_status(rig, id_tag) == status


def test_offline_an_unknown_tag_is_accepted_with_allow_offline_tx_for_unknown_id() -> None:
    rig = offline_rig({"AllowOfflineTxForUnknownId": True})
    assert offline_status(rig, "UNKNOWN") == "Accepted"
    assert rig.station.last_authorized == "UNKNOWN"
    # Known tags keep their stored status.
    assert offline_status(rig, "BLOCKED") == "Blocked"


@pytest.mark.parametrize("id_tag", ["LISTED", "CACHED", "UNKNOWN"])
def test_offline_without_local_authorize_offline_every_tag_is_invalid(id_tag: str) -> None:
    rig = offline_rig({"LocalAuthorizeOffline": False, "AllowOfflineTxForUnknownId": True})
    assert offline_status(rig, id_tag) == "Invalid"
    assert rig.station.last_authorized == "CACHED"  # from before: a refusal changes nothing


def test_back_online_tags_are_sent_again() -> None:
    rig = offline_rig()
    assert offline_status(rig, "LISTED") == "Accepted"
    rig.station.on_connected()
    assert not rig.station.authorize("LISTED").local
    rig.csms.exchange("Authorize")


# --- RemoteStartTransaction with AuthorizeRemoteTxRequests (§5.11) ----------------------------


def test_remote_start_is_authorized_from_the_list_when_pre_authorizing() -> None:
    rig = make_rig({**ALL_KEYS_ON, "AuthorizeRemoteTxRequests": True})
    send_list(rig, 1, [entry("TAG-R")])
    rig.station.plug_in(1)
    rig.csms.drain()
    assert rig.call("RemoteStartTransaction", {"idTag": "TAG-R", "connectorId": 1}) == ACCEPTED
    start = rig.csms.expect("StartTransaction")  # no Authorize.req
    assert start.payload["idTag"] == "TAG-R"


def test_remote_start_without_cable_authorized_locally_waits_for_the_cable() -> None:
    rig = make_rig({**ALL_KEYS_ON, "AuthorizeRemoteTxRequests": True})
    send_list(rig, 1, [entry("TAG-R")])
    assert rig.call("RemoteStartTransaction", {"idTag": "TAG-R", "connectorId": 2}) == ACCEPTED
    assert statuses(rig.csms.drain()) == [(2, "Preparing")]
    assert rig.station.remote_starts.authorizing() == []
    rig.station.plug_in(2)
    assert rig.csms.expect("StartTransaction").payload["connectorId"] == 2

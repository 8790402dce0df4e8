"""The mock CSMS's default answers to charge-point-initiated requests, as pure functions.

Each answer is a function of the request, the configuration and the few facts the caller
passes in (the current time as text, the boot number, the next transaction id), so the
same inputs always give the same payload. Every default validates against the OCA 1.6
response schema of its action (``tests/csms/test_behaviour.py`` checks each one with an
independent validator).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mockpoint.ocpp16.enums import AuthorizationStatus
from mockpoint.rpc.validation import check_response

if TYPE_CHECKING:
    from mockpoint.csms.config import BootConfig, IdTagConfig

#: The default BootNotification interval: a heartbeat every five minutes.
DEFAULT_INTERVAL = 300

#: OCPP 1.6 §6.17 DataTransfer: the mock CSMS knows no vendor extension, but answering
#: Accepted (rather than UnknownVendorId) lets a scenario that sends one carry on; an
#: ``answers.DataTransfer`` override gives any other status.
DATA_TRANSFER_STATUS = "Accepted"

# Sample requests used to check an override payload at load time (the merged answer must
# still validate); idTag is present so StopTransaction's optional idTagInfo is there too.
_SAMPLE_REQUEST: dict[str, Any] = {"idTag": "SAMPLE", "connectorId": 1, "meterStart": 0}
_SAMPLE_TIME = "2025-01-01T00:00:00Z"


#: With no list naming it, a tag that starts with one of these gets that status, so that
#: scenarios can try every outcome against the embedded CSMS with no configuration.
STATUS_PREFIXES: tuple[tuple[str, AuthorizationStatus], ...] = (
    ("BLOCKED", AuthorizationStatus.BLOCKED),
    ("EXPIRED", AuthorizationStatus.EXPIRED),
    ("INVALID", AuthorizationStatus.INVALID),
    ("CONCURRENT", AuthorizationStatus.CONCURRENT_TX),
)


def authorization_status(id_tags: IdTagConfig | None, id_tag: str) -> AuthorizationStatus:
    """The status the id-tag lists give ``id_tag`` (OCPP 1.6 §7.2 AuthorizationStatus).

    A tag on no list is Accepted, unless it starts with BLOCKED, EXPIRED, INVALID or
    CONCURRENT (:data:`STATUS_PREFIXES`).
    """
    if id_tags is not None:
        if id_tag in id_tags.blocked:
            return AuthorizationStatus.BLOCKED
        if id_tag in id_tags.expired:
            return AuthorizationStatus.EXPIRED
        if id_tag in id_tags.invalid:
            return AuthorizationStatus.INVALID
        if id_tag in id_tags.concurrent_tx:
            return AuthorizationStatus.CONCURRENT_TX
    for prefix, status in STATUS_PREFIXES:
        if id_tag.startswith(prefix):
            return status
    return AuthorizationStatus.ACCEPTED


def id_tag_info(id_tags: IdTagConfig | None, id_tag: str) -> dict[str, Any]:
    """IdTagInfo (OCPP 1.6 §7.30) for ``id_tag``: status, and for Accepted tags the
    configured expiryDate and parentIdTag."""
    status = authorization_status(id_tags, id_tag)
    info: dict[str, Any] = {"status": status.value}
    if status is AuthorizationStatus.ACCEPTED and id_tags is not None:
        if id_tag in id_tags.expiry_date:
            info["expiryDate"] = id_tags.expiry_date[id_tag]
        if id_tag in id_tags.parent_id_tag:
            info["parentIdTag"] = id_tags.parent_id_tag[id_tag]
    return info


def default_answer(
    action: str,
    request: Mapping[str, Any],
    *,
    current_time: str,
    boot: BootConfig | None = None,
    id_tags: IdTagConfig | None = None,
    boot_number: int = 1,
    transaction_id: int = 1,
) -> dict[str, Any]:
    """The default answer to a charge-point-initiated ``action`` (OCPP 1.6 chapter 6).

    ``boot`` and ``id_tags`` default to the defaults of :class:`CsmsConfig` (every boot
    Accepted with interval 300, every tag Accepted); ``boot_number`` is which boot of the
    charge point a BootNotification is (1-based); ``transaction_id`` is the id a
    StartTransaction gets.
    """
    if action == "BootNotification":  # §6.4
        status, interval = (
            boot.answer_for(boot_number) if boot is not None else ("Accepted", DEFAULT_INTERVAL)
        )
        return {"status": str(status), "currentTime": current_time, "interval": interval}
    if action == "Heartbeat":  # §6.29
        return {"currentTime": current_time}
    if action == "Authorize":  # §6.2
        return {"idTagInfo": id_tag_info(id_tags, str(request.get("idTag", "")))}
    if action == "StartTransaction":  # §6.45
        return {
            "idTagInfo": id_tag_info(id_tags, str(request.get("idTag", ""))),
            "transactionId": transaction_id,
        }
    if action == "StopTransaction":  # §6.49: idTagInfo only when the request names an idTag
        if "idTag" in request:
            return {"idTagInfo": id_tag_info(id_tags, str(request["idTag"]))}
        return {}
    if action == "DataTransfer":  # §6.17
        return {"status": DATA_TRANSFER_STATUS}
    # StatusNotification, MeterValues, DiagnosticsStatusNotification and
    # FirmwareStatusNotification have empty answers (§6.47, §6.35, §6.19, §6.25).
    return {}


def merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` merged over ``base``: mappings recursively, anything else replaced; a
    None value removes the key (so an override can drop an optional field)."""
    merged = dict(base)
    for key, value in override.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def check_override(action: str, payload: Mapping[str, Any]) -> str | None:
    """Why ``payload`` merged over a default answer to ``action`` breaks the OCA response
    schema, or None if it validates."""
    sample = default_answer(action, _SAMPLE_REQUEST, current_time=_SAMPLE_TIME)
    violation = check_response(action, merge(sample, payload))
    return None if violation is None else f"the answer would break the schema: {violation.message}"

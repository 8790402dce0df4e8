"""What must never be printed, logged or written: the charge point's Basic-auth password
(the AuthorizationKey, OCPP 1.6 security whitepaper), wherever it crosses the wire."""

from __future__ import annotations

from mockpoint.rpc.frames import MessageType

#: What stands in for a secret in logs, transcripts and reports.
REDACTED = "***"


def redact_frame(frame: object) -> object:
    """``frame`` with the secret of a CALL masked: the value of a ChangeConfiguration of
    AuthorizationKey, the charge point's Basic-auth password (security whitepaper: never
    log it). Anything else is returned as it is."""
    if (
        isinstance(frame, list)
        and len(frame) == 4
        and frame[0] == MessageType.CALL
        and frame[2] == "ChangeConfiguration"
        and isinstance(frame[3], dict)
        and str(frame[3].get("key", "")).lower() == "authorizationkey"
        and "value" in frame[3]
    ):
        return [*frame[:3], {**frame[3], "value": REDACTED}]
    return frame


def redact_payload(action: str, payload: object) -> object:
    """The payload of a request ``action``, with its secret masked as :func:`redact_frame`
    masks it in a frame."""
    masked = redact_frame([MessageType.CALL, "", action, payload])
    return masked[3] if isinstance(masked, list) else payload

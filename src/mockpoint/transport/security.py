"""The OCPP 1.6 security whitepaper's profiles, as rules for the connection: which URL
scheme a profile needs, and the TLS context of a ``wss://`` connection.

Profile 0 is plain WebSocket; 1 adds HTTP Basic authentication over ``ws://``; 2 is Basic
authentication over TLS (``wss://``); 3 is TLS with a client certificate (``wss://``). The
Basic-auth password itself travels through the transport's ``basic_auth_password``
(:mod:`mockpoint.transport.websocket`); these rules never see it.
"""

from __future__ import annotations

import ssl
import warnings
from pathlib import Path
from typing import Protocol

from mockpoint.errors import UsageError
from mockpoint.transport.base import Transport


class Dial(Protocol):
    """Opens a transport (:func:`mockpoint.transport.websocket.connect` or the load
    runner's :func:`mockpoint.transport.picows_transport.connect`)."""

    async def __call__(
        self,
        url: str,
        charge_point_id: str,
        *,
        open_timeout: float = ...,
        basic_auth_password: str | None = ...,
        ssl_context: ssl.SSLContext | None = ...,
    ) -> Transport: ...


class InsecureWarning(UserWarning):
    """TLS verification of the CSMS was turned off (``insecure: true``)."""


def check_profile(url: str, profile: int, source: str) -> None:
    """Raise :class:`UsageError` unless ``url``'s scheme suits security ``profile``: 1 needs
    ``ws://``, 2 and 3 need ``wss://`` (profile 0 takes either)."""
    scheme = url.split(":", 1)[0].lower()
    if (profile >= 2 and scheme != "wss") or (profile == 1 and scheme != "ws"):
        expected = "ws://" if profile == 1 else "wss://"
        raise UsageError(
            f"{source}: security_profile {profile} needs a {expected} URL, got {scheme}://"
        )


def uses_basic_auth(profile: int) -> bool:
    """Profiles 1 and 2 authenticate with HTTP Basic (the password is the
    AuthorizationKey)."""
    return profile in (1, 2)


def tls_context(
    *,
    ca: Path | None = None,
    cert: Path | None = None,
    key: Path | None = None,
    insecure: bool = False,
    source: str,
) -> ssl.SSLContext:
    """TLS for ``wss://``: the CSMS's certificate verified against ``ca`` or the system's
    store, and with ``cert`` and ``key`` a client certificate (profile 3). ``insecure``
    turns verification off, with an :class:`InsecureWarning`."""
    try:
        context = ssl.create_default_context(cafile=str(ca) if ca else None)
        if cert is not None and key is not None:
            context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"{source}: csms TLS files: {exc}") from None
    if insecure:
        warnings.warn(
            f"{source}: TLS verification of the CSMS is off (insecure: true)",
            InsecureWarning,
            stacklevel=3,
        )
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context

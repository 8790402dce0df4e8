"""The mock CSMS's side of the OCPP 1.6 security profiles (security whitepaper): TLS with
a server certificate (profile 2), client certificates (profile 3), HTTP Basic
authentication (profiles 1 and 2)."""

from __future__ import annotations

import base64
import binascii
import os
import ssl

from websockets.asyncio.server import ServerConnection

from mockpoint.errors import UsageError


def basic_credentials(header: str) -> tuple[str, str] | None:
    """User name and password of an ``Authorization: Basic`` header (RFC 7617), or None."""
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    return (user, password) if colon else None


def certificate_subject(connection: ServerConnection) -> str | None:
    """The CN of the client's verified certificate ("" without a CN), None without one."""
    peer = connection.transport.get_extra_info("peercert")
    if not peer:
        return None
    for rdn in peer.get("subject", ()):
        for name, value in rdn:
            if name == "commonName":
                return f"CN={value}"
    return ""


def server_tls(
    cert: str | os.PathLike[str] | None,
    key: str | os.PathLike[str] | None,
    ca: str | os.PathLike[str] | None,
    *,
    optional: bool,
) -> ssl.SSLContext | None:
    """The server's TLS context (security profiles 2 and 3), None for plain ``ws://``."""
    if cert is None:
        if key is not None or ca is not None:
            raise UsageError("the mock CSMS's TLS key and CA need its certificate (--tls-cert)")
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # security whitepaper: TLS 1.2 or above
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(
            f"cannot load the mock CSMS's certificate {os.fspath(cert)}"
            + (f" with the key {os.fspath(key)}" if key is not None else "")
            + f": {_reason(exc)}"
        ) from None
    if ca is not None:
        try:
            context.load_verify_locations(cafile=ca)
        except (OSError, ssl.SSLError) as exc:
            raise UsageError(f"cannot load the client CA {os.fspath(ca)}: {_reason(exc)}") from None
        context.verify_mode = ssl.CERT_OPTIONAL if optional else ssl.CERT_REQUIRED
    return context


def _reason(exc: OSError | ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLError):
        return str(exc.reason or exc)
    return exc.strerror or str(exc)

"""The mock CSMS's side of the OCPP 1.6 security whitepaper: Basic-auth checking (HTTP 401
before the upgrade), passwords from its configuration and the environment, TLS files, a new
AuthorizationKey taking effect, and secrets kept out of its frame log, its log lines and
every error message — the client's ConnectError and websockets' debug log included."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import logging
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from security_rig import CP_ID, ENV_PASSWORD, NEW_PASSWORD, PASSWORD, WRONG_PASSWORD, Pki, pki
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus
from websockets.frames import Frame, Opcode

from conftest import UNIT, password_leaks
from mockpoint.cli.main import main
from mockpoint.csms.config import AuthConfig, CsmsConfig, config_from_mapping, load_config
from mockpoint.csms.server import MockCsms
from mockpoint.errors import ConnectError, ExitCode, UsageError
from mockpoint.ocpp16.actions import CHARGE_POINT_HANDLES
from mockpoint.ocpp16.secrets import redact_frame
from mockpoint.rpc import Call, RpcSession
from mockpoint.runtime import Endpoint
from mockpoint.transport import connect
from mockpoint.transport.websocket import RedactCredentials

BOOT = {"chargePointVendor": "Acme", "chargePointModel": "AC22"}


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return pki(tmp_path_factory)


@contextlib.asynccontextmanager
async def serving(csms: MockCsms) -> AsyncIterator[MockCsms]:
    async with asyncio.timeout(10 * UNIT):
        await csms.start()
    try:
        yield csms
    finally:
        await csms.stop()


async def refused(csms: MockCsms, cp_id: str = CP_ID, password: str | None = None) -> str:
    """The ConnectError message of a refused connection (its cause must be an HTTP 401)."""
    with pytest.raises(ConnectError) as info:
        await connect(csms.url, cp_id, open_timeout=2 * UNIT, basic_auth_password=password)
    cause = info.value.__cause__
    assert isinstance(cause, InvalidStatus) and cause.response.status_code == 401
    assert cause.response.headers["WWW-Authenticate"].startswith("Basic realm=")
    message = str(info.value)
    assert not password_leaks(message)
    return message


async def opens(csms: MockCsms, cp_id: str = CP_ID, password: str | None = None) -> None:
    transport = await connect(csms.url, cp_id, open_timeout=2 * UNIT, basic_auth_password=password)
    await transport.close()


# --- Basic authentication -----------------------------------------------------------------


async def test_basic_auth_is_checked_before_the_upgrade(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mockpoint")
    async with serving(MockCsms(passwords={CP_ID: PASSWORD})) as csms:
        await opens(csms, password=PASSWORD)
        assert "refused the credentials (HTTP 401" in await refused(csms, password=WRONG_PASSWORD)
        await refused(csms)  # none at all
        await refused(csms, "CP-OTHER", PASSWORD)  # a charge point without a password
        assert not csms.connected(CP_ID)
    reasons = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert [reason.rsplit(": ", 1)[-1] for reason in reasons] == [
        "wrong password (HTTP 401)",
        "no Basic authentication (HTTP 401)",
        "no password registered for it (HTTP 401)",
    ]
    assert not password_leaks(caplog.text)


async def test_the_user_name_must_be_the_identity(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mockpoint")
    async with serving(MockCsms(passwords={CP_ID: PASSWORD, "CP-OTHER": PASSWORD})) as csms:
        token = base64.b64encode(f"CP-OTHER:{PASSWORD}".encode()).decode()
        with pytest.raises(InvalidStatus) as info:
            async with ws_connect(
                csms.url + "/" + CP_ID,
                subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                additional_headers={"Authorization": f"Basic {token}"},
                open_timeout=2 * UNIT,
            ):
                pass
        assert info.value.response.status_code == 401
    assert "the user name 'CP-OTHER' is not the identity" in caplog.text


@pytest.mark.parametrize("header", ["Bearer abc", "Basic !!!", "Basic " + "bm9jb2xvbg=="])
async def test_a_malformed_authorization_header_is_refused(header: str) -> None:
    async with serving(MockCsms(passwords={CP_ID: PASSWORD})) as csms:
        with pytest.raises(InvalidStatus) as info:
            async with ws_connect(
                f"{csms.url}/{CP_ID}",
                subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                additional_headers={"Authorization": header},
                open_timeout=2 * UNIT,
            ):
                pass
        assert info.value.response.status_code == 401


async def test_any_password_serves_every_charge_point_not_listed() -> None:
    config = CsmsConfig(auth=AuthConfig({"CP-LISTED": NEW_PASSWORD}, any_password=PASSWORD))
    async with serving(MockCsms(config)) as csms:
        await opens(csms, "CP-ANY-1", PASSWORD)
        await opens(csms, "CP-ANY-2", PASSWORD)
        await opens(csms, "CP-LISTED", NEW_PASSWORD)
        await refused(csms, "CP-LISTED", PASSWORD)  # a listed one needs its own


async def test_without_passwords_no_authentication_is_asked_for() -> None:
    async with serving(MockCsms()) as csms:
        assert csms.security == "none" and csms.url.startswith("ws://")
        await opens(csms)
        await opens(csms, password=WRONG_PASSWORD)  # nothing to check it against


async def test_set_password_applies_from_the_next_connection() -> None:
    async with serving(MockCsms()) as csms:
        csms.set_password(CP_ID, PASSWORD)
        assert csms.security == "Basic auth"
        await refused(csms, password=NEW_PASSWORD)
        csms.set_password(CP_ID, NEW_PASSWORD)
        await opens(csms, password=NEW_PASSWORD)
        csms.set_password(CP_ID, None)
        await opens(csms)


# --- a new AuthorizationKey, and the frame log ---------------------------------------------


@pytest.mark.parametrize(("answer", "applies"), [("Accepted", True), ("Rejected", False)])
async def test_an_accepted_authorization_key_becomes_the_password(
    answer: str, applies: bool, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("mockpoint", "mockpoint.csms.wire", "mockpoint.transport.wire"):
        caplog.set_level(logging.DEBUG, logger=name)
    frames = io.StringIO()
    async with serving(MockCsms(passwords={CP_ID: PASSWORD}, log=frames)) as csms:
        transport = await connect(
            csms.url, CP_ID, open_timeout=2 * UNIT, basic_auth_password=PASSWORD
        )

        async def handle(call: Call) -> dict[str, Any]:
            return {"status": answer}

        endpoint = Endpoint(transport, RpcSession(CHARGE_POINT_HANDLES), handle)
        runner = asyncio.create_task(endpoint.run())
        await csms.wait_connected(CP_ID, timeout=2 * UNIT)
        payload = {"key": "AuthorizationKey", "value": NEW_PASSWORD}
        reply = await csms.call(CP_ID, "ChangeConfiguration", payload, timeout=2 * UNIT)
        assert reply == {"status": answer}
        await endpoint.close()
        await runner
        if applies:
            await refused(csms, password=PASSWORD)
            await opens(csms, password=NEW_PASSWORD)
        else:
            await opens(csms, password=PASSWORD)
    records = [json.loads(line) for line in frames.getvalue().splitlines()]
    change = [r["frame"] for r in records if r["frame"][0] == 2]
    assert change and change[0][3] == {"key": "AuthorizationKey", "value": "***"}
    assert not password_leaks(frames.getvalue())
    assert not password_leaks(caplog.text)
    assert "it holds an AuthorizationKey" in caplog.text  # websockets' frame lines, masked
    assert ("accepted a new AuthorizationKey" in caplog.text) is applies


def test_redact_frame_masks_only_the_authorization_key_value() -> None:
    call = [2, "1", "ChangeConfiguration", {"key": "AuthorizationKey", "value": PASSWORD}]
    assert redact_frame(call) == [
        2,
        "1",
        "ChangeConfiguration",
        {"key": "AuthorizationKey", "value": "***"},
    ]
    assert call[3]["value"] == PASSWORD  # type: ignore[index]  # not changed in place
    other = [2, "1", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"}]
    assert redact_frame(other) is other
    assert redact_frame([3, "1", {"status": "Accepted"}]) == [3, "1", {"status": "Accepted"}]
    assert redact_frame("not a frame") == "not a frame"


def test_the_log_filter_masks_the_authorization_header_and_key_frames() -> None:
    flt = RedactCredentials()
    header = logging.LogRecord(
        "w", logging.DEBUG, __file__, 1, "> %s: %s", ("Authorization", "Basic dG9rZW4="), None
    )
    assert flt.filter(header) and header.getMessage() == "> Authorization: Basic ***"
    other = logging.LogRecord("w", logging.DEBUG, __file__, 1, "> %s: %s", ("Host", "x"), None)
    assert flt.filter(other) and other.getMessage() == "> Host: x"
    data = json.dumps(
        [2, "1", "ChangeConfiguration", {"key": "AuthorizationKey", "value": PASSWORD}]
    )
    frame = logging.LogRecord(
        "w", logging.DEBUG, __file__, 1, "> %s", (Frame(Opcode.TEXT, data.encode()),), None
    )
    assert flt.filter(frame) and PASSWORD not in frame.getMessage()
    assert "it holds an AuthorizationKey" in frame.getMessage()


# --- the client's messages ------------------------------------------------------------------


async def test_credentials_in_the_url_are_not_shown_in_messages() -> None:
    with pytest.raises(ConnectError) as info:
        await connect(f"ws://{CP_ID}:{PASSWORD}@127.0.0.1:1/ocpp", CP_ID, open_timeout=2 * UNIT)
    assert f"ws://{CP_ID}:***@127.0.0.1:1/ocpp/{CP_ID}" in str(info.value)
    assert not password_leaks(str(info.value))


# --- TLS settings ----------------------------------------------------------------------------


def test_tls_files_that_cannot_be_loaded_are_usage_errors(tmp_path: Path, certs: Pki) -> None:
    with pytest.raises(UsageError, match="cannot load the mock CSMS's certificate"):
        MockCsms(tls_cert=tmp_path / "missing.pem", tls_key=certs.server_key)
    with pytest.raises(UsageError, match="cannot load the mock CSMS's certificate"):
        MockCsms(tls_cert=certs.server_cert, tls_key=certs.client_key)  # not its key
    with pytest.raises(UsageError, match="cannot load the client CA"):
        MockCsms(tls_cert=certs.server_cert, tls_key=certs.server_key, tls_ca=tmp_path / "x.pem")
    with pytest.raises(UsageError, match="need its certificate"):
        MockCsms(tls_ca=certs.ca)


async def test_tls_server_url_and_security(certs: Pki) -> None:
    csms = MockCsms(tls_cert=certs.server_cert, tls_key=certs.server_key)
    async with serving(csms):
        assert csms.url.startswith("wss://127.0.0.1:") and csms.security == "TLS"
        context = ssl.create_default_context(cafile=str(certs.ca))
        transport = await connect(csms.url, CP_ID, open_timeout=2 * UNIT, ssl_context=context)
        await transport.close()


# --- the configuration file --------------------------------------------------------------------


def test_auth_from_the_configuration_with_passwords_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOCKPOINT_TEST_CP_PASSWORD", ENV_PASSWORD)
    path = tmp_path / "csms.yaml"
    path.write_text(
        "auth:\n"
        "  passwords: {CP-A: '${MOCKPOINT_TEST_CP_PASSWORD}', CP-B: literal-password-1234}\n"
        "  any_password: fallback-password-5678\n",
        encoding="utf-8",
    )
    auth = load_config(path).auth
    assert auth.passwords == {"CP-A": ENV_PASSWORD, "CP-B": "literal-password-1234"}
    assert auth.any_password == "fallback-password-5678" and auth.enabled
    shown = repr(load_config(path))
    assert "CP-A" in shown and ENV_PASSWORD not in shown and "literal-password" not in shown
    assert not CsmsConfig().auth.enabled


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        (
            {"passwords": {CP_ID: "${MOCKPOINT_TEST_UNSET_VARIABLE}"}},
            "MOCKPOINT_TEST_UNSET_VARIABLE is not set",
        ),
        ({"passwords": {CP_ID: 12345678901234567}}, "quote a password made of digits"),
        ({"passwords": [PASSWORD]}, "expected a mapping of charge point id to password"),
        ({"any_password": ""}, "expected a non-empty string"),
        ({"password": PASSWORD}, "unknown key"),
    ],
)
def test_broken_auth_sections_name_the_key_never_the_password(
    auth: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError, match=message) as info:
        config_from_mapping({"auth": auth})
    assert "12345678901234567" not in str(info.value) and not password_leaks(str(info.value))


# --- the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--password", PASSWORD], "write CHARGE_POINT_ID=PASSWORD"),
        (["--password", f"={PASSWORD}"], "write CHARGE_POINT_ID=PASSWORD"),
        (["--password", "CP-1="], "write CHARGE_POINT_ID=PASSWORD"),
        (["--tls-key", "{key}"], "needs --tls-cert"),
        (["--tls-ca", "{ca}"], "needs --tls-cert"),
        (["--tls-cert", "{cert}", "--tls-key", "{ca}"], "cannot load the mock CSMS's certificate"),
    ],
)
def test_csms_command_line_errors_never_show_a_password(
    args: list[str], message: str, certs: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {"key": certs.server_key, "ca": certs.ca, "cert": certs.server_cert}
    argv = [arg.format(**files) for arg in args]
    assert main(["csms", "--port", "0", *argv]) == ExitCode.USAGE
    captured = capsys.readouterr()
    assert message in " ".join((captured.out + captured.err).split())
    assert not password_leaks(captured.out + captured.err)

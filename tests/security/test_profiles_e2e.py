"""Security profiles 1 to 3 of the OCPP 1.6 security whitepaper end to end: ``mockpoint run``
against a mock CSMS that checks Basic auth, serves TLS and asks for client certificates,
with certificates minted for the session; the successes and every refusal (exit 3, a clear
message, no password anywhere in the output)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from security_rig import (
    CP_ID,
    ENV_PASSWORD,
    NEW_PASSWORD,
    PASSWORD,
    WRONG_PASSWORD,
    CsmsThread,
    Pki,
    pki,
    run,
    scenario,
)

from conftest import UNIT, password_leaks
from mockpoint.csms.config import config_from_mapping
from mockpoint.errors import ExitCode
from mockpoint.transport.security import InsecureWarning

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return pki(tmp_path_factory)


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Messages are checked whole: no wrapping at a narrow terminal's width."""
    monkeypatch.setenv("COLUMNS", "250")


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log line of mockpoint and websockets, the handshake's debug lines included."""
    caplog.set_level(logging.DEBUG)
    for name in ("mockpoint", "mockpoint.csms.wire", "mockpoint.transport.wire"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def output(capsys: pytest.CaptureFixture[str], logs: pytest.LogCaptureFixture) -> str:
    captured = capsys.readouterr()
    text = captured.out + captured.err + logs.text
    assert not password_leaks(text), "a password was printed or logged"
    return " ".join(text.split())  # the console wraps long lines


# --- profile 1: HTTP Basic auth over ws:// ---------------------------------------------------


def test_profile_1_with_the_right_password_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], logs: pytest.LogCaptureFixture
) -> None:
    with CsmsThread(passwords={CP_ID: PASSWORD}) as csms:
        path = scenario(tmp_path, {"url": csms.url, "security_profile": 1, "password": PASSWORD})
        assert run(path) == ExitCode.OK
        assert csms.csms.state(CP_ID).accepted
    text = output(capsys, logs)
    assert "1 passed" in text
    assert "Authorization: Basic ***" in text  # websockets' debug line, masked


def test_profile_1_with_a_wrong_password_is_unreachable_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], logs: pytest.LogCaptureFixture
) -> None:
    with CsmsThread(passwords={CP_ID: PASSWORD}) as csms:
        path = scenario(
            tmp_path, {"url": csms.url, "security_profile": 1, "password": WRONG_PASSWORD}
        )
        assert run(path) == ExitCode.UNREACHABLE
        assert not csms.csms.received(CP_ID)
    text = output(capsys, logs)
    assert "the CSMS refused the credentials (HTTP 401" in text
    assert "check the password / AuthorizationKey" in text
    assert f"refused {CP_ID} from 127.0.0.1" in text and "wrong password" in text


def test_no_credentials_against_a_csms_that_demands_them_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], logs: pytest.LogCaptureFixture
) -> None:
    with CsmsThread(passwords={CP_ID: PASSWORD}) as csms:
        path = scenario(tmp_path, {"url": csms.url})
        assert run(path) == ExitCode.UNREACHABLE
    text = output(capsys, logs)
    assert "HTTP 401" in text and "no Basic authentication" in text


def test_profile_1_password_from_the_environment(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    logs: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("MOCKPOINT_TEST_CSMS_PASSWORD", ENV_PASSWORD)
    with CsmsThread(passwords={CP_ID: ENV_PASSWORD}) as csms:
        path = scenario(
            tmp_path,
            {
                "url": csms.url,
                "security_profile": 1,
                "password": "${MOCKPOINT_TEST_CSMS_PASSWORD}",
            },
        )
        assert ENV_PASSWORD not in path.read_text()
        assert run(path) == ExitCode.OK
    assert "1 passed" in output(capsys, logs)


def test_a_new_authorization_key_is_used_to_reconnect_and_accepted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], logs: pytest.LogCaptureFixture
) -> None:
    """Security whitepaper: the CSMS sets a new AuthorizationKey; the charge point accepts,
    reconnects with it; the CSMS, which stored it on the Accepted answer, accepts it and
    would refuse the old one."""
    config = config_from_mapping(
        {
            "on_request": [
                {
                    "when": {"action": "Heartbeat"},
                    "send": {
                        "action": "ChangeConfiguration",
                        "payload": {"key": "AuthorizationKey", "value": NEW_PASSWORD},
                    },
                }
            ]
        }
    )
    steps = (
        "  - send: BootNotification\n"
        "    expect: {status: Accepted}\n"
        "  - send: Heartbeat\n"
        "  - await: ChangeConfiguration\n"
        "    within: 5s\n"
        "    expect: {key: AuthorizationKey}\n"
        "  - expect_state: {connected: true}\n"
        "  - send: Heartbeat\n"
        "    expect: {currentTime: {$type: string}}\n"
    )
    with CsmsThread(config, passwords={CP_ID: PASSWORD}) as csms:
        path = scenario(
            tmp_path,
            {"url": csms.url, "security_profile": 1, "password": PASSWORD},
            steps=steps,
        )
        assert run(path) == ExitCode.OK
        assert csms.csms.state(CP_ID).boot_count == 1  # a reconnect, not a reboot
        actions = [call.action for call in csms.csms.received(CP_ID)]
        assert actions.count("Heartbeat") == 2  # the second one over the new connection
        # The old password no longer opens the door.
        old = scenario(
            tmp_path, {"url": csms.url, "security_profile": 1, "password": PASSWORD}, name="old"
        )
        assert run(old) == ExitCode.UNREACHABLE
    text = output(capsys, logs)
    assert f"{CP_ID} accepted a new AuthorizationKey" in text
    assert text.count(f"{CP_ID} connected") >= 2


# --- profile 2: Basic auth over TLS -----------------------------------------------------------


def _tls_csms(certs: Pki, tls_ca: Path | None = None) -> CsmsThread:
    return CsmsThread(
        tls_cert=certs.server_cert,
        tls_key=certs.server_key,
        tls_ca=tls_ca,
        passwords={CP_ID: PASSWORD},
    )


def test_profile_2_with_the_csms_ca_passes(
    tmp_path: Path,
    certs: Pki,
    capsys: pytest.CaptureFixture[str],
    logs: pytest.LogCaptureFixture,
) -> None:
    with _tls_csms(certs) as csms:
        assert csms.url.startswith("wss://127.0.0.1:")
        path = scenario(
            tmp_path,
            {"url": csms.url, "security_profile": 2, "password": PASSWORD, "ca": certs.ca},
        )
        assert run(path) == ExitCode.OK
    assert "1 passed" in output(capsys, logs)


@pytest.mark.parametrize("trust", ["system store", "another CA"])
def test_profile_2_with_an_unknown_server_ca_is_unreachable(
    trust: str,
    tmp_path: Path,
    certs: Pki,
    capsys: pytest.CaptureFixture[str],
    logs: pytest.LogCaptureFixture,
) -> None:
    with _tls_csms(certs) as csms:
        target: dict[str, object] = {"url": csms.url, "security_profile": 2, "password": PASSWORD}
        if trust == "another CA":
            target["ca"] = certs.other_ca
        assert run(scenario(tmp_path, target)) == ExitCode.UNREACHABLE
        assert not csms.csms.received(CP_ID)
    text = output(capsys, logs)
    assert "the CSMS's certificate could not be verified" in text
    assert "(give csms.ca, or insecure: true)" in text


def test_profile_2_insecure_passes_and_warns(
    tmp_path: Path,
    certs: Pki,
    capsys: pytest.CaptureFixture[str],
    logs: pytest.LogCaptureFixture,
) -> None:
    with _tls_csms(certs) as csms:
        path = scenario(
            tmp_path,
            {"url": csms.url, "security_profile": 2, "password": PASSWORD, "insecure": True},
        )
        with pytest.warns(InsecureWarning, match="TLS verification of the CSMS is off"):
            assert run(path) == ExitCode.OK
    assert "1 passed" in output(capsys, logs)


def test_profile_2_wrong_password_is_refused_over_tls_too(
    tmp_path: Path,
    certs: Pki,
    capsys: pytest.CaptureFixture[str],
    logs: pytest.LogCaptureFixture,
) -> None:
    with _tls_csms(certs) as csms:
        path = scenario(
            tmp_path,
            {
                "url": csms.url,
                "security_profile": 2,
                "password": WRONG_PASSWORD,
                "ca": certs.ca,
            },
        )
        assert run(path) == ExitCode.UNREACHABLE
    assert "the CSMS refused the credentials (HTTP 401" in output(capsys, logs)


# --- profile 3: mutual TLS ---------------------------------------------------------------------


def _mtls_csms(certs: Pki) -> CsmsThread:
    return CsmsThread(tls_cert=certs.server_cert, tls_key=certs.server_key, tls_ca=certs.ca)


def test_profile_3_with_a_client_certificate_passes(
    tmp_path: Path,
    certs: Pki,
    capsys: pytest.CaptureFixture[str],
    logs: pytest.LogCaptureFixture,
) -> None:
    with _mtls_csms(certs) as csms:
        assert csms.csms.security == "TLS, client certificates required"
        path = scenario(
            tmp_path,
            {
                "url": csms.url,
                "security_profile": 3,
                "ca": certs.ca,
                "cert": certs.client_cert,
                "key": certs.client_key,
            },
        )
        assert run(path) == ExitCode.OK
    text = output(capsys, logs)
    assert "1 passed" in text
    assert f"{CP_ID} presented a client certificate, CN={CP_ID}" in text
    assert "Authorization" not in text  # profile 3: no Basic authentication


def test_no_client_certificate_against_a_server_that_requires_one_is_unreachable(
    tmp_path: Path,
    certs: Pki,
    capsys: pytest.CaptureFixture[str],
    logs: pytest.LogCaptureFixture,
) -> None:
    # The loader refuses profile 3 without cert and key: profile 2 settings, no certificate.
    with _mtls_csms(certs) as csms:
        path = scenario(
            tmp_path,
            {"url": csms.url, "security_profile": 2, "password": PASSWORD, "ca": certs.ca},
        )
        assert run(path) == ExitCode.UNREACHABLE
        assert not csms.csms.received(CP_ID)
    text = output(capsys, logs)
    assert "client certificate" in text
    assert "security profile 3: give csms.cert and csms.key" in text


def test_profiles_2_and_3_share_an_endpoint_when_passwords_are_set(
    tmp_path: Path,
    certs: Pki,
    capsys: pytest.CaptureFixture[str],
    logs: pytest.LogCaptureFixture,
) -> None:
    with _tls_csms(certs, tls_ca=certs.ca) as csms:
        assert csms.csms.security == "TLS, client certificates or Basic auth"
        basic = scenario(
            tmp_path,
            {"url": csms.url, "security_profile": 2, "password": PASSWORD, "ca": certs.ca},
            name="profile2",
        )
        mutual = scenario(
            tmp_path,
            {
                "url": csms.url,
                "security_profile": 3,
                "ca": certs.ca,
                "cert": certs.client_cert,
                "key": certs.client_key,
            },
            name="profile3",
        )
        wrong = scenario(
            tmp_path,
            {
                "url": csms.url,
                "security_profile": 2,
                "password": WRONG_PASSWORD,
                "ca": certs.ca,
            },
            name="wrong",
        )
        assert run(basic, mutual) == ExitCode.OK
        assert run(wrong) == ExitCode.UNREACHABLE
    assert "2 passed" in output(capsys, logs)


@pytest.mark.timeout(60 * UNIT)
def test_cases_run_back_to_back_against_one_secured_csms(
    tmp_path: Path, certs: Pki, capsys: pytest.CaptureFixture[str], logs: pytest.LogCaptureFixture
) -> None:
    """The console, the JSON summary and the CSMS agree: three runs, three charge points."""
    with _tls_csms(certs) as csms:
        paths = [
            scenario(
                tmp_path,
                {"url": csms.url, "security_profile": 2, "password": PASSWORD, "ca": certs.ca},
                name=f"run{n}",
            )
            for n in range(3)
        ]
        assert run(*paths) == ExitCode.OK
        assert csms.csms.state(CP_ID).boot_count == 3
    assert "3 passed" in output(capsys, logs)

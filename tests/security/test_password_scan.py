"""No password in anything mockpoint writes (OCPP 1.6 security whitepaper: never log the
password): every report of secured runs — passed, refused, and one where the CSMS sets a new
AuthorizationKey — plus the console at ``-v``, the CSMS's frame log and its log lines,
scanned for the test passwords. ``conftest.no_password_in_written_files`` repeats the scan
over every file the session wrote."""

from __future__ import annotations

import base64
import logging
import tempfile
from pathlib import Path

import pytest
from security_rig import (
    CP_ID,
    NEW_PASSWORD,
    PASSWORD,
    WRONG_PASSWORD,
    CsmsThread,
    Pki,
    pki,
    run,
    scenario,
)

from conftest import TEST_PASSWORDS, password_leaks, scan_for_passwords
from mockpoint.csms.config import config_from_mapping
from mockpoint.errors import ExitCode

pytestmark = pytest.mark.slow

REPORTS = ("junit.xml", "report.json", "report.md", "transcript.jsonl", "coverage.json")

#: The CSMS sets NEW_PASSWORD after the first Heartbeat; the charge point reconnects with it.
NEW_KEY_STEPS = (
    "  - send: BootNotification\n"
    "    expect: {status: Accepted}\n"
    "  - send: Heartbeat\n"
    "  - await: ChangeConfiguration\n"
    "    within: 5s\n"
    "  - expect_state: {connected: true}\n"
    "  - send: Heartbeat\n"
    "    expect: {currentTime: {$type: string}}\n"
)

#: ... and a step fails afterwards, so the failure's frames go into the reports too.
FAILING_STEPS = NEW_KEY_STEPS + "  - send: Heartbeat\n    expect: {currentTime: 'never'}\n"


def _report_options(folder: Path) -> list[str]:
    folder.mkdir()
    options = ["--junit", "--json", "--markdown", "--transcript", "--coverage"]
    return [
        item
        for pair in zip(options, REPORTS, strict=True)
        for item in (pair[0], str(folder / pair[1]))
    ]


def test_the_scan_finds_a_password_written_out_or_in_a_basic_token() -> None:
    token = base64.b64encode(f"{CP_ID}:{PASSWORD}".encode()).decode()
    # Outside the session's folders, which the session-level scan reads at the end.
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        (folder / "plain.log").write_text(f"password={PASSWORD}\n")
        (folder / "header.log").write_text(f"Authorization: Basic {token}\n")
        (folder / "clean.log").write_text("Authorization: Basic ***\n")
        (folder / "input.yaml").write_text(f"password: {PASSWORD}\n")  # an input: not read
        leaks = scan_for_passwords(folder)
    assert sorted(path.name for path in leaks) == ["header.log", "plain.log"]
    assert all(PASSWORD in found[0] for found in leaks.values())
    assert len(set(TEST_PASSWORDS)) == len(TEST_PASSWORDS)


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("mockpoint", "mockpoint.csms.wire", "mockpoint.transport.wire"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def test_reports_of_secured_runs_hold_no_password(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    logs: pytest.LogCaptureFixture,
) -> None:
    """Profiles 1 to 3, passed, failed and refused: reports, console, CSMS frames and logs."""
    monkeypatch.setenv("COLUMNS", "250")  # the console shows whole payloads
    certs: Pki = pki(tmp_path_factory)
    csms_log = tmp_path / "csms-frames.jsonl"
    with (
        CsmsThread(passwords={CP_ID: PASSWORD}, log=csms_log) as plain,
        CsmsThread(
            tls_cert=certs.server_cert,
            tls_key=certs.server_key,
            tls_ca=certs.ca,
            passwords={CP_ID: PASSWORD},
        ) as tls,
    ):
        profile1 = {"url": plain.url, "security_profile": 1, "password": PASSWORD}
        profile2 = {"url": tls.url, "security_profile": 2, "password": PASSWORD, "ca": certs.ca}
        profile3 = {
            "url": tls.url,
            "security_profile": 3,
            "ca": certs.ca,
            "cert": certs.client_cert,
            "key": certs.client_key,
        }
        failing = "  - send: Heartbeat\n    expect: {currentTime: never}\n"
        runs = {
            "passed": (
                [
                    scenario(tmp_path, profile1, name="p1"),
                    scenario(tmp_path, profile2, name="p2"),
                    scenario(tmp_path, profile3, name="p3"),
                ],
                ExitCode.OK,
            ),
            "failed": ([scenario(tmp_path, profile1, name="f1", steps=failing)], ExitCode.FAILED),
            "refused": (
                [scenario(tmp_path, {**profile2, "password": WRONG_PASSWORD}, name="r2")],
                ExitCode.UNREACHABLE,
            ),
        }
        for label, (paths, code) in runs.items():
            assert run("-v", *paths, *_report_options(tmp_path / label)) == code, label
    written = [path for path in tmp_path.rglob("*") if path.is_file() and path.suffix != ".yaml"]
    assert len(written) == len(runs) * len(REPORTS) + 1
    assert sum(path.stat().st_size == 0 for path in written) == 1  # the refused run's frames
    assert scan_for_passwords(tmp_path) == {}
    captured = capsys.readouterr()
    assert password_leaks(captured.out + captured.err) == []
    assert password_leaks(logs.text) == []
    assert "Authorization: Basic ***" in logs.text


def test_a_new_authorization_key_is_masked_in_the_reports(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    logs: pytest.LogCaptureFixture,
) -> None:
    """The CSMS sets a new AuthorizationKey, a step fails afterwards (its frames are quoted in
    the reports): the key's value is masked in every report, the console and the logs."""
    monkeypatch.setenv("COLUMNS", "250")
    new_key = config_from_mapping(
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
    # Not under the session's folders while it leaks: the session-level scan would fail.
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        csms_log = folder / "csms-frames.jsonl"
        with CsmsThread(new_key, passwords={CP_ID: PASSWORD}, log=csms_log) as csms:
            profile1 = {"url": csms.url, "security_profile": 1, "password": PASSWORD}
            path = scenario(folder, profile1, name="key-change", steps=FAILING_STEPS)
            assert run("-v", path, *_report_options(folder / "reports")) == ExitCode.FAILED
        assert '"AuthorizationKey"' in csms_log.read_text()
        transcript = (folder / "reports" / "transcript.jsonl").read_text()
        assert '"AuthorizationKey"' in transcript
        captured = capsys.readouterr()
        assert password_leaks(captured.out + captured.err) == []
        assert password_leaks(logs.text) == []
        assert scan_for_passwords(folder) == {}

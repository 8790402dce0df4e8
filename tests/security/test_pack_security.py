"""The security cases of the ocpp16-csms pack (OCTT TC_073, TC_083, TC_085, TC_086, TC_087;
OCPP 1.6 security whitepaper) against secured mock CSMSs, each scripted by its case's own
``mock_csms`` block; and skipped, with the reason, when nobody says where the CSMS is."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
import yaml
from security_rig import PASSWORD, CsmsThread, Pki, pki, run

from conftest import password_leaks
from mockpoint.cli.main import main
from mockpoint.csms.config import AuthConfig, CsmsConfig, config_from_mapping
from mockpoint.errors import ExitCode
from mockpoint.packs import PACKS

pytestmark = pytest.mark.slow

SECURITY_CASES = ("TC_073", "TC_083", "TC_085", "TC_086", "TC_087")

#: What each case needs of the CSMS: TLS, client certificates, Basic auth.
SERVERS: dict[str, dict[str, bool]] = {
    "TC_085": {"tls": False, "client_ca": False, "passwords": True},
    "TC_073": {"tls": False, "client_ca": False, "passwords": True},
    "TC_086": {"tls": True, "client_ca": False, "passwords": True},
    "TC_087": {"tls": True, "client_ca": True, "passwords": False},
    "TC_083": {"tls": True, "client_ca": True, "passwords": True},
}


def _case(case: str) -> dict[str, Any]:
    (path,) = PACKS["ocpp16-csms"].glob(f"{case}_*.yaml")
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


@pytest.mark.parametrize("case", SECURITY_CASES)
def test_the_case_passes_against_a_secured_csms(
    case: str,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="mockpoint")
    certs: Pki = pki(tmp_path_factory)
    server = SERVERS[case]
    data = _case(case)
    config = config_from_mapping(data.get("mock_csms") or {}, case)
    if server["passwords"]:
        config = CsmsConfig(**{**vars(config), "auth": AuthConfig(any_password=PASSWORD)})
    options: dict[str, Any] = {}
    if server["tls"]:
        options |= {"tls_cert": certs.server_cert, "tls_key": certs.server_key}
    if server["client_ca"]:
        options["tls_ca"] = certs.ca
    monkeypatch.setenv("CSMS_PASSWORD", PASSWORD)  # the recommended way: not on the command line
    with CsmsThread(config, **options) as csms:
        report = tmp_path / "report.json"
        code = run(
            "--pack",
            "ocpp16-csms",
            "--only",
            case,
            "--csms",
            csms.url,
            "--var",
            f"CSMS_URL={csms.url}",
            "--var",
            f"CSMS_CA={certs.ca}",
            "--var",
            f"CSMS_CLIENT_CERT={certs.client_cert}",
            "--var",
            f"CSMS_CLIENT_KEY={certs.client_key}",
            "--json",
            report,
            # The CSMS acts by itself (it serves the case's mock_csms block): tell the run
            # something acts, or its prompted awaits would be skipped for want of a driver.
            "--wait-for-csms",
            "30",
        )
        cp_id = data["charge_point"]["id"]
        assert csms.csms.state(cp_id).accepted
    captured = capsys.readouterr()
    assert code == ExitCode.OK, captured.out
    assert json.loads(report.read_text())["summary"]["passed"] == 1
    assert not password_leaks(captured.out + captured.err + caplog.text)
    if case == "TC_073":
        assert f"{cp_id} accepted a new AuthorizationKey" in caplog.text
    if case in ("TC_083", "TC_087"):
        presented = f"{cp_id} presented a client certificate"
        assert caplog.text.count(presented) == (3 if case == "TC_083" else 1)


def test_a_refusing_csms_fails_the_case_as_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.setenv("CSMS_PASSWORD", PASSWORD)
    with CsmsThread(CsmsConfig(auth=AuthConfig(any_password=PASSWORD + "-not"))) as csms:
        code = run(
            "--pack",
            "ocpp16-csms",
            "--only",
            "TC_085",
            "--csms",
            csms.url,
            "--var",
            f"CSMS_URL={csms.url}",
        )
    assert code == ExitCode.UNREACHABLE
    assert "the CSMS refused the credentials (HTTP 401" in capsys.readouterr().out


def test_without_a_csms_the_security_cases_are_skipped_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    for name in ("CSMS_URL", "CSMS_PASSWORD", "CSMS_CA", "CSMS_CLIENT_CERT", "CSMS_CLIENT_KEY"):
        monkeypatch.delenv(name, raising=False)
    report = tmp_path / "report.json"
    only = ",".join(SECURITY_CASES)
    assert main(["run", "--pack", "ocpp16-csms", "--only", only, "--json", str(report)]) == 0
    scenarios = json.loads(report.read_text())["scenarios"]
    assert [s["status"] for s in scenarios] == ["skipped"] * len(SECURITY_CASES)
    assert all("(CSMS_URL)" in s["reason"] for s in scenarios)
    assert "set --csms URL" in capsys.readouterr().out

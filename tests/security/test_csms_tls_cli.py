"""``mockpoint csms --tls-cert --tls-key --tls-ca --password`` in its own process, and
``mockpoint run`` against it under security profiles 2 and 3 (OCPP 1.6 security
whitepaper): one endpoint for both, a refusal, and no password in its output or log."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from security_rig import CP_ID, PASSWORD, WRONG_PASSWORD, Pki, pki, run, scenario

from conftest import UNIT, password_leaks
from mockpoint.errors import ExitCode

pytestmark = pytest.mark.slow


@dataclass
class CsmsProcess:
    process: subprocess.Popen[str]
    lines: queue.Queue[str]
    stderr: Path

    def line(self, timeout: float = 10.0) -> str:
        return self.lines.get(timeout=timeout * UNIT)


@pytest.fixture
def csms_process(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CsmsProcess]:
    certs: Pki = pki(tmp_path_factory)
    stderr = tmp_path / "csms-stderr.log"
    with stderr.open("w", encoding="utf-8") as sink:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mockpoint",
                "csms",
                "--port",
                "0",
                "--tls-cert",
                str(certs.server_cert),
                "--tls-key",
                str(certs.server_key),
                "--tls-ca",
                str(certs.ca),
                "--password",
                f"{CP_ID}={PASSWORD}",
                "--log",
                str(tmp_path / "csms-frames.jsonl"),
            ],
            stdout=subprocess.PIPE,
            stderr=sink,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        yield CsmsProcess(process, lines, stderr)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10 * UNIT)
        reader.join(timeout=10 * UNIT)  # it ends at the end of the output
        assert process.stdout is not None
        process.stdout.close()


def test_profiles_2_and_3_against_the_command(
    csms_process: CsmsProcess,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    certs: Pki = pki(tmp_path_factory)
    first = csms_process.line()
    match = re.fullmatch(r"mock CSMS listening on (wss://127\.0\.0\.1:\d+/ocpp)\n", first)
    assert match, first
    assert csms_process.line() == "security: TLS, client certificates or Basic auth\n"
    url = match.group(1)
    profile2 = {"url": url, "security_profile": 2, "password": PASSWORD, "ca": certs.ca}
    profile3 = {
        "url": url,
        "security_profile": 3,
        "ca": certs.ca,
        "cert": certs.client_cert,
        "key": certs.client_key,
    }
    assert (
        run(scenario(tmp_path, profile2, name="p2"), scenario(tmp_path, profile3, name="p3")) == 0
    )
    wrong = scenario(tmp_path, {**profile2, "password": WRONG_PASSWORD}, name="wrong")
    assert run(wrong) == ExitCode.UNREACHABLE
    csms_process.process.send_signal(signal.SIGTERM)
    assert csms_process.process.wait(timeout=10 * UNIT) == ExitCode.OK
    assert csms_process.line() == "mock CSMS stopped\n"
    log = csms_process.stderr.read_text(encoding="utf-8")
    assert f"{CP_ID} presented a client certificate, CN={CP_ID}" in log
    assert f"refused {CP_ID} from 127.0.0.1" in log and "wrong password (HTTP 401)" in log
    assert "Traceback" not in log
    assert not password_leaks(log)
    captured = capsys.readouterr()
    assert "2 passed" in captured.out
    assert not password_leaks(captured.out + captured.err)

"""A CSMS URL that is not ws:// or wss:// is a usage error: exit 2 at once, with where the
URL came from and what it was probably meant to be (docs/reference/run.md), from every
command that connects and from ``validate``. Before, it was retried for
``--connect-timeout`` and reported unreachable (exit 3), once per charge point by ``load``."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import UNIT

pytestmark = pytest.mark.slow

#: Far longer than a refused URL takes, far shorter than the connect timeout it used to wait.
AT_ONCE = 8.0

EXAMPLE = str(Path(__file__).resolve().parents[2] / "examples" / "01-cold-boot-and-heartbeat.yaml")

SHORT_FORM = """name: short form
csms: 127.0.0.1:9000/ocpp
steps:
  - wait: 1s
"""

LONG_FORM = """name: long form
csms:
  url: https://csms.example/ocpp
  security_profile: 2
  password: x
steps:
  - wait: 1s
"""

FROM_A_VARIABLE = """name: from a variable
csms: ${CSMS}
clock: {speed: 0}
steps:
  - wait: 1s
"""


def mockpoint(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "mockpoint", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=30 * UNIT,
        env={"COLUMNS": "200", "PATH": "", "PYTHONPATH": "", **(env or {})},
    )
    return result, time.monotonic() - started


@pytest.mark.parametrize(
    ("command", "url", "meant"),
    [
        (["run", EXAMPLE], "127.0.0.1:9000/ocpp", "ws://127.0.0.1:9000/ocpp"),
        (["load", EXAMPLE, "-n", "5", "--workers", "0"], "http://127.0.0.1:9000/ocpp", None),
        (["shell"], "localhost:9000", "ws://localhost:9000"),
        (["run", EXAMPLE], "https://csms.example/ocpp/{id}/", "wss://csms.example/ocpp/{id}/"),
    ],
)
def test_a_csms_option_that_is_not_websocket_exits_2_at_once(
    command: list[str], url: str, meant: str | None
) -> None:
    result, took = mockpoint(*command, "--csms", url, "--connect-timeout", "10", stdin="quit\n")
    assert result.returncode == 2, result.stdout + result.stderr
    assert took < AT_ONCE * UNIT
    meant = meant or "ws://" + url.removeprefix("http://")
    expected = (
        f"error: --csms: {url!r} is not a WebSocket URL (ws:// or wss://); did you mean {meant}?"
    )
    assert result.stderr.splitlines() == [expected]  # one line, for N charge points too
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("command", ["run", "validate", "load"])
def test_a_files_csms_that_is_not_websocket_is_an_invalid_file(
    command: str, tmp_path: Path
) -> None:
    short, long = tmp_path / "short.yaml", tmp_path / "long.yaml"
    short.write_text(SHORT_FORM, encoding="utf-8")
    long.write_text(LONG_FORM, encoding="utf-8")
    for path, where, message in (
        (short, "2:7: csms", "'127.0.0.1:9000/ocpp'"),
        (long, "3:8: csms.url", "'https://csms.example/ocpp'"),
    ):
        args = [command, str(path)] + (["-n", "2"] if command == "load" else [])
        result, took = mockpoint(*args)
        assert result.returncode == 2, result.stdout + result.stderr
        assert took < AT_ONCE * UNIT
        meant = "ws://127.0.0.1:9000/ocpp" if path == short else "wss://csms.example/ocpp"
        problem = (
            f"{path}:{where}: {message} is not a WebSocket URL (ws:// or wss://); "
            f"did you mean {meant}?"
        )
        assert problem in result.stderr.splitlines() or f"error: {problem}" in result.stderr
        # Said once, not again in the model's words.
        assert "expected a string or a mapping" not in result.stderr


def test_a_url_from_a_variable_is_checked_once_expanded(tmp_path: Path) -> None:
    path = tmp_path / "variable.yaml"
    path.write_text(FROM_A_VARIABLE, encoding="utf-8")
    result, took = mockpoint("validate", str(path))
    assert result.returncode == 0, result.stderr  # nothing to check before it is expanded
    result, took = mockpoint("run", str(path), env={"CSMS": "http://127.0.0.1:9/ocpp"})
    assert result.returncode == 1  # the scenario failed, without trying to connect
    assert took < AT_ONCE * UNIT
    assert f"{path}: csms: 'http://127.0.0.1:9/ocpp' is not a WebSocket URL" in result.stdout
    result, took = mockpoint("load", str(path), "-n", "3", "--var", "CSMS=localhost:9")
    assert result.returncode == 2
    assert "did you mean ws://localhost:9?" in result.stderr

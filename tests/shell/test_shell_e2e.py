"""``mockpoint shell`` driven as its users drive it: a script on standard input, and a
person at a terminal (a pseudo-terminal through pexpect), against the mock CSMS in a
process of its own whose frame log says what really went over the wire."""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pexpect
import pytest

from conftest import UNIT
from csms_process import Csms

pytestmark = pytest.mark.slow

REMOTE_STOP = """
on_request:
  - when: {action: MeterValues}
    send: {action: RemoteStopTransaction, payload: {transactionId: "${transaction_id}"}}
"""


def shell(url: str, script: str, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockpoint", "shell", "--csms", url, *options],
        input=script,
        capture_output=True,
        text=True,
        timeout=30 * UNIT,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


def terminal(url: str, *options: str) -> pexpect.spawn:
    """``mockpoint shell`` at a 200 x 50 pseudo-terminal, as a person would run it.

    A terminal answers prompt_toolkit's cursor position request; pexpect does not, and the
    prompt would wait a second for the answer after every line: it is told not to ask."""
    env = {"COLUMNS": "200", "LINES": "50", "TERM": "xterm", "PATH": "/usr/bin:/bin"}
    return pexpect.spawn(
        sys.executable,
        ["-m", "mockpoint", "shell", "--csms", url, *options],
        env=env | {"PROMPT_TOOLKIT_NO_CPR": "1"},
        encoding="utf-8",
        timeout=20 * UNIT,
        dimensions=(50, 200),
    )


def calls(csms: Csms) -> list[tuple[str, dict[str, Any]]]:
    """(action, payload) of every CALL the CSMS received, in order."""
    return [
        (f["frame"][2], f["frame"][3])
        for f in csms.frames()
        if f["direction"] == "in" and isinstance(f["frame"], list) and f["frame"][0] == 2
    ]


@pytest.fixture
def remote_stopping_csms(tmp_path: Path) -> Iterator[Csms]:
    server = Csms(tmp_path, REMOTE_STOP)
    yield server
    server.stop()


def test_a_whole_charging_session_from_a_script(csms: Csms) -> None:
    script = """
plug 1
authorize TAG-1
start 1 TAG-1
charge 1 11kW 2m
send DataTransfer vendorId=acme data=hello
stop 1
unplug 1
status
"""
    result = shell(csms.url, script, "--id", "CP-SH", "--speed", "0")
    assert result.returncode == 0, result.stdout + result.stderr
    sent = [action for action, _ in calls(csms)]
    assert sent == [
        "BootNotification",
        "StatusNotification",
        "StatusNotification",
        "StatusNotification",  # Preparing
        "Authorize",
        "StartTransaction",
        "StatusNotification",  # Charging
        "MeterValues",
        "MeterValues",
        "DataTransfer",
        "StopTransaction",
        "StatusNotification",  # Finishing
        "StatusNotification",  # Available
    ]
    assert dict(calls(csms))["DataTransfer"] == {"vendorId": "acme", "data": "hello"}
    assert {f["cp"] for f in csms.frames()} == {"CP-SH"}
    assert "Available" in result.stdout  # the status table


def test_bad_lines_are_one_line_each_naming_the_script_line_and_the_shell_goes_on(
    csms: Csms,
) -> None:
    script = (
        "bogus\nplug x\n\n# the typo next\nsend Hearbeat\nsend Authorize\n"
        "config HeartbeatIntervl\nhelp stauts\nsend Heartbeat\n"
    )
    result = shell(csms.url, script, "--speed", "0")
    assert result.returncode == 1  # a script learns that something failed
    errors = [line for line in result.stdout.splitlines() if line.startswith("error:")]
    assert len(errors) == 6, result.stdout
    assert errors[0].startswith("error: line 1: unknown command 'bogus'; the commands: ")
    assert errors[1] == "error: line 2: plug: connector 'x' is not a number"
    # blank lines and comments count: the line number is the script's
    assert errors[2] == "error: line 5: unknown action 'Hearbeat' (did you mean Heartbeat?)"
    assert errors[3].startswith("error: line 6: send Authorize: ")
    assert "required field missing: idTag" in errors[3]
    assert errors[4] == (
        "error: line 7: config: no key 'HeartbeatIntervl' (did you mean HeartbeatInterval?)"
    )
    assert errors[5] == "error: line 8: no command 'stauts' (did you mean status?)"
    assert [action for action, _ in calls(csms)][-1] == "Heartbeat"  # after the errors
    assert "Traceback" not in result.stdout + result.stderr


def test_an_error_is_one_line_however_narrow_the_output(csms: Csms) -> None:
    """A tool reading the output takes an error whole: no wrapping at 80 columns."""
    result = subprocess.run(
        [sys.executable, "-m", "mockpoint", "shell", "--csms", csms.url, "--speed", "0"],
        input="send StatusNotification connectorId=1 errorCode=NoError status=Zzz\n",
        capture_output=True,
        text=True,
        timeout=30 * UNIT,
        env={"COLUMNS": "40", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    (error,) = [line for line in result.stdout.splitlines() if line.startswith("error:")]
    assert error.startswith("error: line 1: send StatusNotification: ")
    assert "'Available', 'Preparing'" in error and error.endswith("`invalid: true`)")


@pytest.mark.parametrize("leave", ["quit", "exit", "Ctrl-D"])
def test_a_person_at_the_terminal_leaves_with_0_after_a_typo_and_a_failed_command(
    csms: Csms, leave: str
) -> None:
    """Exit code 1 tells a script that a line failed; a person saw the errors as they
    happened, and leaving is no failure (README "mockpoint shell")."""
    child = terminal(csms.url, "--speed", "0")
    child.logfile_read = seen = io.StringIO()
    try:
        child.expect("mockpoint>")
        child.sendline("send Hearbeat")
        child.expect_exact("unknown action 'Hearbeat' (did you mean Heartbeat?)")
        child.expect("mockpoint>")
        child.sendline("send Authorize")  # a step that fails: no idTag
        child.expect("required field missing: idTag")
        child.expect("mockpoint>")
        child.sendline("send Heartbeat")
        child.expect("Heartbeat ✓")
        child.expect("mockpoint>")
        if leave == "Ctrl-D":
            child.sendeof()
        else:
            child.sendline(leave)
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0, seen.getvalue()
    assert "line 1:" not in seen.getvalue()  # line numbers are for scripts
    assert [action for action, _ in calls(csms)][-1] == "Heartbeat"


def test_a_csms_that_goes_away_is_one_line(tmp_path: Path) -> None:
    server = Csms(tmp_path)
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "mockpoint", "shell", "--csms", server.url, "--speed", "0"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write("send Heartbeat\n")
        process.stdin.flush()
        while "Heartbeat ✓" not in process.stdout.readline():
            pass
    finally:
        server.stop()
    out, err = process.communicate("send Heartbeat\nstatus\n", timeout=30 * UNIT)
    assert "Traceback" not in out + err
    assert "connection lost: " in out
    assert "not connected: what it sent is queued" in out
    assert "connection: reconnecting" in out  # status still works


def test_the_csms_stops_the_transaction_while_the_user_is_typing(
    remote_stopping_csms: Csms, tmp_path: Path
) -> None:
    """At a terminal: the CSMS's RemoteStopTransaction arrives (after the first
    MeterValues) while the prompt waits for input; it is shown, the station stops the
    transaction, and the prompt still takes commands."""
    child = terminal(remote_stopping_csms.url, "--speed", "60")
    try:
        child.expect("#1 Available")  # booted: the last of the boot's frames
        child.expect("mockpoint>")
        child.sendline("start 1 TAG-9")
        child.expect("tx 1 Accepted")
        # At 60 x real time, MeterValues come every second; the CSMS answers the first
        # with a RemoteStopTransaction, which arrives with nobody typing.
        child.expect("RemoteStopTransaction")
        child.expect("meterStop=0 Remote")  # the station's StopTransaction, as it goes out
        child.send("sta")
        child.send("\t")  # completes to "start" / "status" / "stop": a menu
        child.expect("status")
        child.send("\x15")  # Ctrl-U: clear the line
        child.sendline("status")
        child.expect("registration: Accepted")
        child.expect("mockpoint>")
        child.sendeof()  # Ctrl-D at an empty prompt leaves
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    stops = [
        payload for action, payload in calls(remote_stopping_csms) if action == "StopTransaction"
    ]
    assert len(stops) == 1 and stops[0]["reason"] == "Remote"


def test_tab_completes_a_single_candidate_at_the_terminal(csms: Csms) -> None:
    child = terminal(csms.url, "--speed", "0")
    try:
        child.expect("mockpoint>")
        child.send("send Heart\t")
        child.expect("Heartbeat")
        child.send("\r")
        child.expect("Heartbeat ✓")
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert [action for action, _ in calls(csms)][-1] == "Heartbeat"


def test_state_survives_a_restart_of_the_shell(csms: Csms, tmp_path: Path) -> None:
    """A charger that was charging offline when the shell ended comes back, boots, delivers
    what it queued and can finish the transaction."""
    state = str(tmp_path / "cp.json")
    first = shell(
        csms.url,
        "plug 1\nstart 1 TAG-1\ndisconnect\ncharge 1 11kW 3m\n",
        "--speed",
        "0",
        "--state",
        state,
    )
    assert first.returncode == 0, first.stdout
    second = shell(csms.url, "stop 1\n", "--speed", "0", "--state", state)
    assert second.returncode == 0, second.stdout
    assert "restored from" in second.stdout
    sent = calls(csms)
    start = next(p for a, p in sent if a == "StartTransaction")
    transaction_id = next(
        f["frame"][2]["transactionId"]
        for f in csms.frames()
        if f["direction"] == "out" and f["frame"][0] == 3 and "transactionId" in f["frame"][2]
    )
    meter_values = [p for a, p in sent if a == "MeterValues"]
    (stop,) = [p for a, p in sent if a == "StopTransaction"]
    assert start["idTag"] == "TAG-1"
    assert [m["transactionId"] for m in meter_values] == [transaction_id] * 3
    readings = [m["meterValue"][0]["sampledValue"][0]["value"] for m in meter_values]
    assert len(set(readings)) == 3  # each sample once
    assert stop["transactionId"] == transaction_id
    assert stop["meterStop"] == int(readings[-1])
    boots = [a for a, _ in sent].count("BootNotification")
    assert boots == 2  # a restart is a power cut: it boots again

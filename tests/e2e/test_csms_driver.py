"""The CSMS driver (docs/csms-driver.md): an ``await`` that has to wait runs it to make a
real CSMS act, and its answer decides: done (the step waits for the request), not
applicable (exit 77, HTTP 501), or failed (its own words in the report).

Over loopback WebSockets: the charge point against the mock CSMS, which acts only when a
driver asks it, through its control API (``mockpoint csms --control-port``) or through a
driver endpoint of the test's own.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest

from conftest import UNIT
from csms_process import Csms
from mockpoint.api import run_scenario, run_scenario_files
from mockpoint.cli.main import main
from mockpoint.csms.control import ControlServer
from mockpoint.csms.server import MockCsms
from mockpoint.scenario.outcome import Status

ROOT = Path(__file__).resolve().parents[2]
PYTHON = shlex.quote(sys.executable)

SESSION = """name: driven remote start
charge_point: {{id: CP-DRIVEN, connectors: 1}}
clock: {{speed: 0}}
timeout: 10s
steps:
  - plug_in: {{connector: 1}}
  - await: RemoteStartTransaction
    within: {within}
    prompt: start a transaction remotely on connector 1
    expect: {{idTag: {{$type: string}}}}
  - expect_state:
      connectors: {{1: {{status: Charging}}}}
  - stop_transaction: {{connector: 1}}
  - unplug: {{connector: 1}}
"""


def session(tmp_path: Path, within: float = 10 * UNIT) -> Path:
    path = tmp_path / "driven.yaml"
    path.write_text(SESSION.format(within=f"{within:g}s"), encoding="utf-8")
    return path


def driver(tmp_path: Path, name: str, body: str) -> str:
    """A driver command: a Python script of the test's own."""
    script = tmp_path / f"{name}.py"
    script.write_text(body, encoding="utf-8")
    return f"{PYTHON} {shlex.quote(str(script))}"


# Reads the description, keeps it (and the MOCKPOINT_* variables) for the test, and asks
# the mock CSMS's control API for the remote start the step waits for.
RECORDING_DRIVER = """
import json, os, sys, urllib.request
step = json.load(sys.stdin)
folder = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(folder, "description.json"), "w") as out:
    json.dump({"step": step, "env": {k: v for k, v in os.environ.items()
                                     if k.startswith("MOCKPOINT_")}}, out)
payload = {"idTag": "DRIVER-1", "connectorId": step["connector"] or 1}
request = urllib.request.Request(
    os.environ["CSMS_CONTROL_URL"] + "/charge-points/" + step["charge_point"] + "/"
    + step["action"], data=json.dumps(payload).encode(), method="POST")
print(urllib.request.urlopen(request, timeout=10).read().decode())
"""


@pytest.fixture
async def controlled(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A mock CSMS that sends nothing by itself, with its control API."""
    async with MockCsms() as csms:
        control = ControlServer(csms)
        control.start()
        monkeypatch.setenv("CSMS_CONTROL_URL", control.url)
        try:
            yield csms
        finally:
            control.stop()


async def test_a_command_driver_makes_the_csms_act(tmp_path: Path, controlled: MockCsms) -> None:
    path = session(tmp_path)
    outcome = await run_scenario(
        path, csms_url=controlled.url, csms_driver=driver(tmp_path, "rec", RECORDING_DRIVER)
    )
    assert outcome.status is Status.PASSED, outcome.steps
    # The CSMS did send it, and the charge point acted on it.
    sent = [call for call in controlled.received("CP-DRIVEN") if call.action == "StartTransaction"]
    assert sent and sent[0].payload["idTag"] == "DRIVER-1"
    recorded = json.loads((tmp_path / "description.json").read_text())
    step, env = recorded["step"], recorded["env"]
    assert step["mockpoint"] == 1
    assert step["action"] == "RemoteStartTransaction"
    assert step["charge_point"] == "CP-DRIVEN"
    assert step["scenario"] == "driven remote start"
    assert step["file"] == str(path)
    assert step["step"]["line"] == 7 and step["step"]["location"] == f"{path}:7:5"
    assert step["expect"] == {"idTag": {"$type": "string"}}
    assert step["prompt"] == "start a transaction remotely on connector 1"
    assert step["connector"] is None and step["transaction_id"] is None
    assert step["example"] is None  # the file has no mock_csms block
    assert step["within"] == pytest.approx(10 * UNIT)
    assert env["MOCKPOINT_ACTION"] == "RemoteStartTransaction"
    assert env["MOCKPOINT_CHARGE_POINT"] == "CP-DRIVEN"
    assert env["MOCKPOINT_STEP"] == f"{path}:7:5"
    assert "MOCKPOINT_CONNECTOR" not in env  # unknown: left out, not empty


async def test_the_description_names_the_open_transaction(
    tmp_path: Path, controlled: MockCsms
) -> None:
    path = tmp_path / "stop.yaml"
    path.write_text(
        """name: driven remote stop
charge_point: {id: CP-STOP, connectors: 2}
clock: {speed: 0}
steps:
  - plug_in: {connector: 2}
  - authorize: {id_tag: TAG-9}
  - start_transaction: {connector: 2, id_tag: TAG-9}
  - await: RemoteStopTransaction
    within: 10s
  - expect_state:
      connectors: {2: {status: Finishing}}
""",
        encoding="utf-8",
    )
    stopping = RECORDING_DRIVER.replace(
        'payload = {"idTag": "DRIVER-1", "connectorId": step["connector"] or 1}',
        'payload = {"transactionId": step["transaction_id"]}',
    )
    outcome = await run_scenario(
        path, csms_url=controlled.url, csms_driver=driver(tmp_path, "stop", stopping)
    )
    assert outcome.status is Status.PASSED, outcome.steps
    step = json.loads((tmp_path / "description.json").read_text())["step"]
    started = [c for c in controlled.received("CP-STOP") if c.action == "StartTransaction"]
    assert started
    assert step["connector"] == 2 and step["id_tag"] == "TAG-9"
    assert isinstance(step["transaction_id"], int) and step["transaction_id"] >= 1


@pytest.fixture
def driver_endpoint() -> Iterator[dict[str, Any]]:
    """A driver endpoint of the test's own: POSTed descriptions are kept, and answered as
    ``state["answer"]`` says (a status and a body); with ``state["act"]``, it first has the
    CSMS send the awaited request."""
    state: dict[str, Any] = {"received": [], "answer": (200, b"{}"), "act": None}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers["Content-Length"])
            description = json.loads(self.rfile.read(length))
            state["received"].append(description)
            if state["act"] is not None:
                state["act"](description)
            status, body = state["answer"]
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state["url"] = f"http://127.0.0.1:{server.server_address[1]}/drive"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


async def test_a_url_driver_gets_the_description_posted(
    tmp_path: Path, driver_endpoint: dict[str, Any]
) -> None:
    async with MockCsms() as csms:
        loop = asyncio.get_running_loop()

        def act(description: dict[str, Any]) -> None:
            payload = {"idTag": "URL-TAG", "connectorId": 1}
            future = asyncio.run_coroutine_threadsafe(
                csms.call(description["charge_point"], description["action"], payload), loop
            )
            future.result(timeout=10 * UNIT)

        driver_endpoint["act"] = act
        outcome = await run_scenario(
            session(tmp_path), csms_url=csms.url, csms_driver=driver_endpoint["url"]
        )
        assert outcome.status is Status.PASSED, outcome.steps
        [description] = driver_endpoint["received"]
        assert description["action"] == "RemoteStartTransaction"
        started = [c for c in csms.received("CP-DRIVEN") if c.action == "StartTransaction"]
        assert started[0].payload["idTag"] == "URL-TAG"


async def test_http_501_is_not_applicable_and_500_a_failed_driver(
    tmp_path: Path, driver_endpoint: dict[str, Any]
) -> None:
    async with MockCsms() as csms:
        driver_endpoint["answer"] = (501, b'{"reason": "no remote start in this CSMS"}')
        outcome = await run_scenario(
            session(tmp_path), csms_url=csms.url, csms_driver=driver_endpoint["url"]
        )
        assert outcome.status is Status.NOT_APPLICABLE
        assert outcome.reason is not None and "no remote start in this CSMS" in outcome.reason
        assert [s.status for s in outcome.steps[-3:]] == [Status.SKIPPED] * 3

        driver_endpoint["answer"] = (500, b"database is down")
        outcome = await run_scenario(
            session(tmp_path), csms_url=csms.url, csms_driver=driver_endpoint["url"]
        )
        assert outcome.status is Status.FAILED
        [failed] = outcome.failed_steps
        assert failed.message is not None
        assert "the CSMS driver answered HTTP 500" in failed.message
        assert "database is down" in failed.message


async def test_an_unreachable_driver_url_fails_the_step_and_says_where(tmp_path: Path) -> None:
    async with MockCsms() as csms:
        outcome = await run_scenario(
            session(tmp_path), csms_url=csms.url, csms_driver="http://127.0.0.1:9/drive"
        )
    [failed] = outcome.failed_steps
    assert failed.message is not None
    assert "could not reach the CSMS driver at http://127.0.0.1:9/drive" in failed.message


async def test_a_failing_driver_is_reported_with_its_stderr(tmp_path: Path) -> None:
    failing = driver(
        tmp_path, "fail", "import sys\nprint('token expired', file=sys.stderr)\nsys.exit(3)\n"
    )
    async with MockCsms() as csms:
        outcome = await run_scenario(session(tmp_path), csms_url=csms.url, csms_driver=failing)
    assert outcome.status is Status.FAILED
    [failed] = outcome.failed_steps
    assert failed.message is not None
    assert failed.message.startswith("the CSMS driver failed (exit 3):\ntoken expired")
    assert "no RemoteStartTransaction from the CSMS yet" in failed.message
    # At once, not after the step's 10 s.
    assert failed.duration < 5 * UNIT


async def test_a_hanging_driver_is_stopped_and_reported_as_such(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    hanging = driver(
        tmp_path,
        "hang",
        f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))\ntime.sleep(60)\n",
    )
    async with MockCsms() as csms:
        outcome = await run_scenario(
            session(tmp_path, within=1.0 * UNIT), csms_url=csms.url, csms_driver=hanging
        )
    [failed] = outcome.failed_steps
    assert failed.message is not None
    assert "no RemoteStartTransaction from the CSMS within" in failed.message
    assert "the CSMS driver had not returned" in failed.message
    pid = int(pid_file.read_text())
    for _ in range(50):  # the driver and its session are gone
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail(f"the hanging driver (pid {pid}) is still running")


async def test_a_driver_that_is_done_but_the_csms_never_sends(tmp_path: Path) -> None:
    idle = driver(tmp_path, "idle", "print('asked')\n")
    async with MockCsms() as csms:
        outcome = await run_scenario(
            session(tmp_path, within=0.5 * UNIT), csms_url=csms.url, csms_driver=idle
        )
    [failed] = outcome.failed_steps
    assert failed.message is not None
    assert failed.message.startswith("no RemoteStartTransaction from the CSMS within")
    assert "(the CSMS driver was done after" in failed.message


async def test_the_embedded_csms_never_calls_the_driver(tmp_path: Path) -> None:
    path = session(tmp_path)
    path.write_text(
        path.read_text()
        + """mock_csms:
  on_request:
    - when: {action: StatusNotification, match: {connectorId: 1, status: Preparing}}
      send: {action: RemoteStartTransaction, payload: {idTag: EMBEDDED, connectorId: 1}}
"""
    )
    marker = tmp_path / "called"
    outcome = await run_scenario(
        path, csms_driver=driver(tmp_path, "mark", f"open({str(marker)!r}, 'w')\n")
    )
    assert outcome.status is Status.PASSED
    assert not marker.exists()


# --- the command line: verdicts in every report ---------------------------------------------


@pytest.mark.slow
def test_not_applicable_is_no_failure_and_every_report_says_why(
    tmp_path: Path, csms: Csms, capsys: pytest.CaptureFixture[str]
) -> None:
    lacking = driver(tmp_path, "lacks", "print('remote start is not in our API')\nexit(77)\n")
    junit, report = tmp_path / "junit.xml", tmp_path / "report.json"
    code = main(
        ["run", str(session(tmp_path)), "--csms", csms.url, "--csms-driver", lacking]
        + ["--junit", str(junit), "--json", str(report)]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "0 passed, 0 failed, 0 unreachable, 1 not applicable" in out
    assert "remote start is not in our API" in out
    data = json.loads(report.read_text())
    assert data["summary"]["not_applicable"] == 1
    [scenario] = data["scenarios"]
    assert scenario["status"] == "not_applicable"
    assert "remote start is not in our API" in scenario["reason"]
    case = ET.parse(junit).getroot().find("testsuite/testcase")
    assert case is not None
    skipped = case.find("skipped")
    assert skipped is not None
    assert skipped.get("message", "").startswith("not applicable: ")
    verdict = case.find("properties/property[@name='verdict']")
    assert verdict is not None and verdict.get("value") == "not_applicable"


@pytest.mark.slow
def test_csms_lacks_leaves_cases_out_before_they_connect(
    tmp_path: Path, csms: Csms, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.json"
    code = main(
        ["run", "--pack", "ocpp16-csms", "--only", "TC_046,TC_042_1", "--csms", csms.url]
        + ["--csms-lacks", "reservation,local-auth-list", "--json", str(report)]
    )
    assert code == 0
    statuses = {
        s["name"][:8]: (s["status"], s["reason"])
        for s in json.loads(report.read_text())["scenarios"]
    }
    assert statuses["TC_046_C"][0] == "not_applicable"
    assert "the CSMS lacks Reservation" in statuses["TC_046_C"][1]
    assert statuses["TC_042_1"][0] == "not_applicable"
    assert "LocalAuthListManagement" in statuses["TC_042_1"][1]
    assert not csms.calls()  # nothing connected
    assert main(["run", "--pack", "ocpp16-csms", "--csms-lacks", "teleportation"]) == 2
    assert "--csms-lacks 'teleportation'" in capsys.readouterr().err


@pytest.mark.slow
def test_with_nobody_to_act_a_prompted_case_is_skipped_with_its_reason(
    tmp_path: Path, csms: Csms, capsys: pytest.CaptureFixture[str]
) -> None:
    # pytest's standard input is no terminal: no one can act on the prompt.
    path = session(tmp_path)
    assert main(["run", str(path), "--csms", csms.url]) == 0
    out = capsys.readouterr().out
    assert "0 passed, 0 failed, 0 unreachable, 1 skipped" in out
    assert "needs the CSMS to act (start a transaction remotely on connector 1)" in out
    assert "--csms-driver" in out
    # --wait-for-csms says something else acts: it runs, and waits that long.
    assert main(["run", str(path), "--csms", csms.url, "--wait-for-csms", "0.3"]) == 1
    assert "no RemoteStartTransaction from the CSMS within 0.3 s" in capsys.readouterr().out


@pytest.mark.slow
def test_a_named_csms_makes_mock_csms_blocks_moot_and_says_so_once(
    tmp_path: Path, csms: Csms, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["run", "--pack", "ocpp16-csms", "--only", "TC_010,TC_013", "--csms", csms.url, "-q"]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert err.count("warning: the mock_csms block of") == 1
    assert "2 scenarios is ignored" in err


# --- the example drivers, against the mock CSMS's control API -------------------------------

DRIVEN_CASES = "TC_010,TC_012,TC_013,TC_021,TC_043_5,TC_046,TC_051,TC_054"


@pytest.mark.slow
async def test_the_python_example_driver_passes_pack_cases(controlled: MockCsms) -> None:
    example = ROOT / "examples" / "drivers" / "mock_csms_driver.py"
    from mockpoint.packs import pack_files

    files = pack_files("ocpp16-csms", DRIVEN_CASES.split(","))
    run = await run_scenario_files(
        files,
        csms_url=controlled.url,
        csms_driver=f"{PYTHON} {shlex.quote(str(example))}",
        variables={"TAG_ACCEPTED": "TAG-OF-OUR-CSMS"},  # not the pack's default
    )
    failed = {
        s.name: s.failed_steps or s.error for s in run.scenarios if s.status is not Status.PASSED
    }
    assert not failed
    assert len(run.scenarios) == len(DRIVEN_CASES.split(","))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("curl") is None, reason="the shell driver needs curl")
async def test_the_shell_example_driver_makes_the_csms_act(
    tmp_path: Path, controlled: MockCsms
) -> None:
    example = ROOT / "examples" / "drivers" / "curl_driver.sh"
    outcome = await run_scenario(
        session(tmp_path), csms_url=controlled.url, csms_driver=f"sh {shlex.quote(str(example))}"
    )
    assert outcome.status is Status.PASSED, outcome.steps
    started = [c for c in controlled.received("CP-DRIVEN") if c.action == "StartTransaction"]
    assert started[0].payload["idTag"] == "DRIVER-TAG"

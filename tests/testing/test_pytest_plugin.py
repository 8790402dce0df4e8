"""The pytest plugin: scenario files as test items, the CSMS option, the fixtures.

Each test runs pytest on a folder of its own (``pytester``), in this process: the plugin is
loaded there through its ``pytest11`` entry point, as in a user's project.
"""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from csms_process import Csms

pytest_plugins = ["pytester"]

#: The options of inner runs that look for tracebacks: no captured output, where a logging
#: handler another test left behind may print one that is not the plugin's.
BARE = ("-p", "no:cacheprovider", "--show-capture=no")

#: What every inner run's configuration says (pytest-asyncio warns when the loop scope is
#: left unset, and the outer run turns warnings into errors).
INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""

PASSING = """
name: Cold boot and heartbeats
charge_point:
  id: CP-PLUGIN-OK
  connectors: 2
clock:
  start: 2025-06-01T08:00:00Z
  speed: 0
steps:
  - send: BootNotification
    expect: {status: Accepted, interval: {$type: integer}}
  - wait: 15m
  - send: Heartbeat
    expect: {currentTime: {$type: string}}
"""

FAILING = """
name: A deliberately failing scenario
charge_point:
  id: CP-PLUGIN-FAIL
clock:
  start: 2025-06-01T08:00:00Z
  speed: 0
steps:
  - plug_in: {connector: 1}
  - authorize: {id_tag: BLOCKED-42}
    expect: {idTagInfo: {status: Accepted}}
  - start_transaction: {connector: 1}
"""

#: Not a scenario: a CI configuration, whose name and steps are not at the top level.
CI_CONFIG = """
stages:
  - test
unit:
  name: unit tests
  steps:
    - run: pytest
"""

#: Needs an input that only the embedded CSMS provides by default.
NEEDS_TAG = """
name: Blocked tag
charge_point:
  id: CP-PLUGIN-SKIP
steps:
  - authorize: {id_tag: "${TAG_BLOCKED}"}
    expect: {idTagInfo: {status: Blocked}}
"""

INVALID = """
name: Broken
steps:
  - send: BootNotification
  - plug_in: {connector: "one"}
"""

FIXTURE_TEST = """
import pytest


@pytest.mark.mockpoint_cp_id("CP-9")
async def test_session(charge_point, mockpoint_csms_url):
    assert charge_point.id == "CP-9"
    assert await charge_point.boot() == "Accepted"
    await charge_point.plug_in(1)
    transaction_id = await charge_point.start_transaction(1, "TAG-1")
    assert transaction_id >= 1
    answer = await charge_point.send("Authorize", {"idTag": "X"})
    assert answer["idTagInfo"]["status"] == "Accepted"
    assert charge_point.state["connectors"][1]["status"] == "Charging"


async def test_default_id(charge_point):
    assert charge_point.id.startswith("CP-default-id-")
    assert len(charge_point.id) <= 20
"""

UNREACHABLE_TEST = """
import pytest


@pytest.mark.mockpoint_cp_id("CP-7")
@pytest.mark.mockpoint_charge_point(connect_timeout=0.2)
async def test_never_runs(charge_point):
    raise AssertionError("connected to nothing")
"""

#: The fixture with the in-process mock CSMS: the CSMS asks, the charge point obeys.
REMOTE_STOP_TEST = """
async def test_remote_stop(charge_point, mockpoint_csms, mockpoint_csms_url):
    assert mockpoint_csms_url == mockpoint_csms.url
    await charge_point.plug_in(1)
    transaction_id = await charge_point.start_transaction(1, "TAG-1")
    answer = await mockpoint_csms.call(
        charge_point.id, "RemoteStopTransaction", {"transactionId": transaction_id}
    )
    assert answer["status"] == "Accepted"
    received = await charge_point.wait_for("RemoteStopTransaction", timeout=10)
    assert received.call.payload == {"transactionId": transaction_id}
"""


@pytest.fixture
def folder(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini(INI)
    return pytester


def write(pytester: pytest.Pytester, name: str, text: str) -> Path:
    path = pytester.path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def scenarios(pytester: pytest.Pytester) -> None:
    write(pytester, "scenarios/ok.yaml", PASSING)
    write(pytester, "scenarios/failure/fail.yml", FAILING)
    write(pytester, "scenarios/.gitlab-ci.yml", CI_CONFIG)
    write(pytester, "scenarios/settings.yaml", "name: just a name\nvalue: 1\n")


def test_scenario_files_are_test_items(folder: pytest.Pytester) -> None:
    scenarios(folder)
    result = folder.runpytest(*BARE, "scenarios", "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "scenarios/failure/fail.yml::A deliberately failing scenario FAILED*",
            "scenarios/ok.yaml::Cold boot and heartbeats PASSED*",
        ]
    )
    output = result.stdout.str()
    assert "gitlab-ci" not in output and "settings.yaml" not in output
    assert "Traceback" not in output
    # the failure: the step, where it stands, why, and the frames before it
    result.stdout.fnmatch_lines(
        [
            "*scenario: A deliberately failing scenario*",
            "step 2 authorize BLOCKED-42 at scenarios/failure/fail.yml:9:5: failed",
            "  Authorize answer does not match: idTagInfo.status: expected 'Accepted', "
            "got 'Blocked'",
            "  expected:",
            '    {"idTagInfo":{"status":"Accepted"}}',
            "  actual:",
            '    {"idTagInfo":{"status":"Blocked"}}',
            "  frames before:",
            "*CP → CSMS  Authorize *",
        ]
    )


def test_k_selects_scenarios_by_name(folder: pytest.Pytester) -> None:
    scenarios(folder)
    result = folder.runpytest("-p", "no:cacheprovider", "scenarios", "-k", "heartbeats")
    result.assert_outcomes(passed=1, deselected=1)
    result = folder.runpytest("-p", "no:cacheprovider", "scenarios", "-k", "deliberately")
    result.assert_outcomes(failed=1, deselected=1)


def test_junit_has_a_testcase_per_scenario(folder: pytest.Pytester) -> None:
    scenarios(folder)
    junit = folder.path / "junit.xml"
    # xunit1 also writes where each case stands: the scenario's name: line (0-based)
    options = ("-p", "no:cacheprovider", "-o", "junit_family=xunit1", f"--junitxml={junit}")
    result = folder.runpytest(*options, "scenarios")
    result.assert_outcomes(passed=1, failed=1)
    cases = {case.get("name"): case for case in ET.parse(junit).iter("testcase")}
    assert set(cases) == {"Cold boot and heartbeats", "A deliberately failing scenario"}
    assert cases["Cold boot and heartbeats"].find("failure") is None
    failure = cases["A deliberately failing scenario"].find("failure")
    assert failure is not None
    assert "scenarios/failure/fail.yml:9:5" in (failure.text or "")
    assert cases["A deliberately failing scenario"].get("line") == "0"
    assert cases["A deliberately failing scenario"].get("file") == "scenarios/failure/fail.yml"


def test_collection_can_be_turned_off(folder: pytest.Pytester) -> None:
    scenarios(folder)
    folder.makeini(INI + "mockpoint_scenarios = false\n")
    result = folder.runpytest("-p", "no:cacheprovider", "scenarios")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_an_invalid_scenario_is_a_collection_error(folder: pytest.Pytester) -> None:
    write(folder, "scenarios/broken.yaml", INVALID)
    write(folder, "scenarios/ok.yaml", PASSING)
    result = folder.runpytest(*BARE, "scenarios")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting scenarios/broken.yaml*",
            "scenarios/broken.yaml:4:26: plug_in.connector: expected an integer, got 'one'",
        ]
    )
    assert "Traceback" not in result.stdout.str()
    assert "loader.py" not in result.stdout.str()


def test_an_unreachable_csms_fails_the_test_with_a_message(folder: pytest.Pytester) -> None:
    folder.makepyfile(UNREACHABLE_TEST)
    # a port nothing listens on: every attempt is refused until the connect timeout
    url = "ws://127.0.0.1:9/ocpp"
    result = folder.runpytest(*BARE, "--mockpoint-csms", url)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"charge point CP-7: {url}/CP-7: *"])
    assert "Traceback" not in result.stdout.str()
    assert "exception" not in result.stdout.str()


def test_charge_point_fixture_against_the_in_process_csms(folder: pytest.Pytester) -> None:
    folder.makepyfile(test_fixture=FIXTURE_TEST, test_remote=REMOTE_STOP_TEST)
    result = folder.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


@pytest.mark.slow
def test_one_csms_url_for_scenarios_and_fixtures(folder: pytest.Pytester, csms: Csms) -> None:
    write(folder, "scenarios/ok.yaml", PASSING)
    write(folder, "scenarios/needs-tag.yaml", NEEDS_TAG)
    folder.makepyfile(test_fixture=FIXTURE_TEST)
    result = folder.runpytest("-p", "no:cacheprovider", "-rs", "--mockpoint-csms", csms.url)
    result.assert_outcomes(passed=3, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED ?1? scenarios/needs-tag.yaml:1: skipped: needs an idTag the CSMS blocks, "
            "from the environment (TAG_BLOCKED)"
        ]
    )
    seen = {frame["cp"] for frame in csms.frames()}
    assert {"CP-PLUGIN-OK", "CP-9"} <= seen
    assert any(cp.startswith("CP-default-id-") for cp in seen)
    calls = [action for _, action in csms.calls()]
    assert "Heartbeat" in calls and "StartTransaction" in calls


@pytest.mark.slow
def test_the_ini_setting_names_the_csms(folder: pytest.Pytester, csms: Csms) -> None:
    write(folder, "scenarios/ok.yaml", PASSING)
    folder.makeini(INI + f"mockpoint_csms = {csms.url}\n")
    result = folder.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert {frame["cp"] for frame in csms.frames()} == {"CP-PLUGIN-OK"}


#: Against the in-process mock CSMS the fixture's seed and clock are pinned, as `mockpoint
#: run` pins them against its embedded CSMS; a marker may still give others.
PINNED_TEST = """
import pytest


async def test_pinned(charge_point):
    assert charge_point.seed == 0
    assert charge_point.driver.clock.now() < 1748800000  # 2025-06-01T08:00:00Z and a bit


@pytest.mark.mockpoint_charge_point(seed=5)
async def test_given(charge_point):
    assert charge_point.seed == 5
"""


def test_the_fixture_is_pinned_against_the_in_process_csms(folder: pytest.Pytester) -> None:
    folder.makepyfile(test_pinned=PINNED_TEST)
    result = folder.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_a_failing_scenario_says_its_seed(folder: pytest.Pytester) -> None:
    write(folder, "scenarios/fail.yml", FAILING)
    result = folder.runpytest(*BARE, "scenarios")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["scenario 'A deliberately failing scenario' (*): failed (seed 0)"])


def test_a_csms_url_that_is_not_websocket_is_a_usage_error(folder: pytest.Pytester) -> None:
    write(folder, "scenarios/ok.yaml", PASSING)
    result = folder.runpytest("-p", "no:cacheprovider", "--mockpoint-csms", "127.0.0.1:9/ocpp")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--mockpoint-csms: *did you mean ws://127.0.0.1:9/ocpp?"])

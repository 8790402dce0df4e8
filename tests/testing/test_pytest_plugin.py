"""The pytest plugin: scenario files as test items, the CSMS option, the fixtures.

Each test runs pytest on a folder of its own (``pytester``), in this process: the plugin is
loaded there through its ``pytest11`` entry point, as in a user's project.
"""

from __future__ import annotations

import re
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mockpoint.cli.main import main
from mockpoint.scenario import runner
from mockpoint.scenario.model import Scenario
from mockpoint.scenario.outcome import ScenarioOutcome, Status
from mockpoint.scenario.runner import RunOptions

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
            "SKIPPED ?1? scenarios/needs-tag.yaml:1: needs an idTag the CSMS blocks, "
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


# --- what is a scenario file --------------------------------------------------------------

#: The scenario that passes, with the typo that made pytest say "1 passed" for a folder of two.
STEP_TYPO = PASSING.replace("steps:", "step:")

#: Not a scenario: a build pipeline (Cloud Build) whose steps are at the top level.
PIPELINE = """
steps:
  - name: gcr.io/cloud-builders/docker
    args: [build, -t, app, .]
timeout: 600s
"""

#: A charge point, but no name and a step with a field of the wrong type.
NO_NAME = """
charge_point: {id: CP-1}
steps:
  - plug_in: {connector: first}
"""

#: Top-level steps of mockpoint's kinds, in flow style and without a name.
FLOW_STEPS = """
steps: [{send: BootNotification}, {wait: 1m}]
"""


def validate_lines(path: str, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The problems ``mockpoint validate`` lists for ``path``, one a line."""
    assert main(["validate", path]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1].startswith("invalid: ")
    return lines[:-1]


def test_a_scenario_with_a_typo_is_a_collection_error_not_left_out(
    folder: pytest.Pytester, capsys: pytest.CaptureFixture[str]
) -> None:
    write(folder, "scenarios/ok.yaml", PASSING)
    write(folder, "scenarios/typo.yaml", STEP_TYPO)
    write(folder, "scenarios/no-name.yml", NO_NAME)
    write(folder, "scenarios/flow.yaml", FLOW_STEPS)
    write(folder, "scenarios/cloudbuild.yaml", PIPELINE)
    write(folder, "scenarios/.gitlab-ci.yml", CI_CONFIG)
    expected = {
        name: validate_lines(f"scenarios/{name}", capsys)
        for name in ("typo.yaml", "no-name.yml", "flow.yaml")
    }
    assert expected["typo.yaml"] == [
        "scenarios/typo.yaml:1:1: missing required key 'steps'",
        "scenarios/typo.yaml:8:1: unknown key 'step'; did you mean steps?",
    ]
    result = folder.runpytest(*BARE, "scenarios")
    result.assert_outcomes(errors=3)  # and ok.yaml does not run: collection failed
    output = result.stdout.str()
    for name, lines in expected.items():
        result.stdout.fnmatch_lines([f"*ERROR collecting scenarios/{name}*", *lines])
    assert "cloudbuild" not in output and "gitlab-ci" not in output
    assert "Traceback" not in output
    # With the typo fixed, the same folder passes: the two scenarios and nothing else.
    write(folder, "scenarios/typo.yaml", PASSING)
    for name in ("no-name.yml", "flow.yaml"):
        (folder.path / "scenarios" / name).unlink()
    folder.runpytest(*BARE, "scenarios").assert_outcomes(passed=2)


# --- the README's snippet, in pytest-asyncio's strict mode ----------------------------------

STRICT = """
[pytest]
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
"""

#: The README's test as pasted, and async tests the plugin must leave alone.
README_TEST = """
import pytest


async def test_remote_stop(charge_point, mockpoint_csms) -> None:
    await charge_point.plug_in(1)
    tx = await charge_point.start_transaction(1, "TAG-001")
    answer = await mockpoint_csms.call(
        charge_point.id, "RemoteStopTransaction", {"transactionId": tx}
    )
    assert answer["status"] == "Accepted"
    request = await charge_point.wait_for("RemoteStopTransaction", timeout=10)
    assert request.call.payload["transactionId"] == tx


class TestInAClass:
    async def test_boot(self, charge_point) -> None:
        assert charge_point.state["registration"] == "Accepted"


async def test_no_mockpoint_fixture() -> None:
    pass
"""


def test_the_fixtures_need_no_asyncio_marker_in_strict_mode(folder: pytest.Pytester) -> None:
    folder.makeini(STRICT)
    folder.makepyfile(test_readme=README_TEST)
    result = folder.runpytest("-p", "no:cacheprovider", "-W", "ignore::pytest.PytestWarning")
    # The plain async test is pytest-asyncio's business: strict mode wants its marker.
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["FAILED test_readme.py::test_no_mockpoint_fixture*"])


def test_the_mock_csms_fixture_is_skipped_when_the_charge_point_talks_elsewhere(
    folder: pytest.Pytester,
) -> None:
    folder.makepyfile(test_readme=README_TEST.replace("async def test_no_", "def test_no_"))
    # Nothing listens there: the skip comes before the charge point tries to connect.
    url = "ws://127.0.0.1:9/ocpp"
    result = folder.runpytest(*BARE, "-rs", "--mockpoint-csms", url, "-k", "remote_stop")
    result.assert_outcomes(skipped=1, deselected=2)
    result.stdout.fnmatch_lines(
        [f"SKIPPED ?1? *: drives the in-process mock CSMS, but the charge point talks to {url}"]
    )


# --- the mock CSMS's configuration ---------------------------------------------------------

#: The tag TAG-9 is blocked by the configuration only (the default accepts it).
BLOCKING = """
id_tags:
  blocked: [TAG-9]
"""

CONFIGURED_TEST = """
import pytest


async def test_from_the_options(charge_point):
    answer = await charge_point.send("Authorize", {"idTag": "TAG-9"})
    assert answer["idTagInfo"]["status"] == "Blocked"


@pytest.mark.mockpoint_csms_config({"id_tags": {"expired": ["TAG-9"]}})
async def test_from_the_marker(charge_point):
    answer = await charge_point.send("Authorize", {"idTag": "TAG-9"})
    assert answer["idTagInfo"]["status"] == "Expired"


@pytest.mark.mockpoint_csms_config(id_tags={"blocked": "TAG-9"})
async def test_a_broken_marker(charge_point):
    raise AssertionError("never runs")
"""

#: A scenario that passes only when the configuration blocks TAG-9.
BLOCKED_SCENARIO = """
name: Blocked by the configuration
charge_point: {id: CP-CONFIG}
steps:
  - authorize: {id_tag: TAG-9}
    expect: {idTagInfo: {status: Blocked}}
"""


@pytest.mark.parametrize("where", ["option", "ini"])
def test_the_mock_csms_takes_a_configuration(folder: pytest.Pytester, where: str) -> None:
    write(folder, "config/csms.yaml", BLOCKING)
    write(folder, "scenarios/blocked.yaml", BLOCKED_SCENARIO)
    folder.makepyfile(test_configured=CONFIGURED_TEST)
    if where == "option":
        options: tuple[str, ...] = ("--mockpoint-csms-config", "config/csms.yaml")
    else:
        # relative to the ini file's folder, not to where pytest starts
        folder.makeini(INI + "mockpoint_csms_config = config/csms.yaml\n")
        (folder.path / "tests").mkdir()
        folder.chdir()
        options = ()
    result = folder.runpytest(*BARE, *options)
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_a_broken_marker*",
            "test_configured.py::test_a_broken_marker: mockpoint_csms_config: "
            "id_tags.blocked: expected a list*",
        ]
    )


def test_a_configuration_that_does_not_load_is_a_usage_error(folder: pytest.Pytester) -> None:
    write(folder, "csms.yaml", "id_tags: {blocked: TAG-9}\n")
    write(folder, "scenarios/ok.yaml", PASSING)
    result = folder.runpytest("-p", "no:cacheprovider", "--mockpoint-csms-config", "csms.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*csms.yaml:1:20: id_tags.blocked: expected a list*"])


# --- the CSMS driver, what the CSMS lacks, not applicable -----------------------------------

#: Awaits a reservation: not applicable to a CSMS without the Reservation profile.
RESERVATION = """
name: Reserve a connector
charge_point: {id: CP-RESERVE}
steps:
  - await: ReserveNow
    within: 1s
    reply: {status: Accepted}
"""


@pytest.mark.parametrize(
    "options",
    [
        ("--mockpoint-csms-lacks", "reservation,SmartCharging"),
        ("--mockpoint-csms-lacks", "smart-charging", "--mockpoint-csms-lacks", "Reservation"),
        ("-o", "mockpoint_csms_lacks=reservation"),
    ],
)
def test_a_scenario_the_csms_lacks_is_skipped_as_not_applicable(
    folder: pytest.Pytester, options: tuple[str, ...]
) -> None:
    write(folder, "scenarios/reserve.yaml", RESERVATION)
    write(folder, "scenarios/ok.yaml", PASSING)
    result = folder.runpytest(*BARE, "-rs", *options, "scenarios")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        ["SKIPPED ?1? scenarios/reserve.yaml:1: the CSMS lacks Reservation*"]
    )


def test_an_unknown_lacking_feature_is_a_usage_error(folder: pytest.Pytester) -> None:
    write(folder, "scenarios/ok.yaml", PASSING)
    result = folder.runpytest("-p", "no:cacheprovider", "--mockpoint-csms-lacks", "Reservations")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--mockpoint-csms-lacks: 'Reservations' is neither a feature profile (*reservation*"]
    )


@pytest.fixture
def run_options(monkeypatch: pytest.MonkeyPatch) -> list[RunOptions]:
    """The options every scenario item runs with, in place of running it; each scenario
    then has the outcome its description names (``passed``, ``skipped``, ...)."""
    seen: list[RunOptions] = []

    async def fake(
        path: Path, scenario: Scenario, options: RunOptions, *, first_seq: int = 1
    ) -> tuple[ScenarioOutcome, int]:
        seen.append(options)
        status, _, rest = scenario.description.partition(" ")
        reason, _, error = rest.partition("|")
        outcome = ScenarioOutcome(scenario.name, str(path), "CP", Status(status))
        outcome.reason, outcome.error = reason or None, error or None
        return outcome, first_seq

    monkeypatch.setattr(runner, "run_scenario", fake)
    return seen


def outcome_scenario(name: str, description: str) -> str:
    """PASSING under another name, with ``description``."""
    rest = textwrap.dedent(PASSING).lstrip().split("\n", 1)[1]
    return f"name: {name}\ndescription: {description}\n{rest}"


@pytest.mark.parametrize("where", ["option", "ini"])
def test_the_csms_driver_reaches_the_run_options(
    folder: pytest.Pytester, run_options: list[RunOptions], where: str
) -> None:
    write(folder, "scenarios/ok.yaml", outcome_scenario("ok", "passed"))
    driver = "python drivers/my_csms.py --env staging"
    if where == "option":
        options: tuple[str, ...] = ("--mockpoint-csms-driver", driver)
    else:
        folder.makeini(INI + f"mockpoint_csms_driver = {driver}\n")
        options = ()
    folder.runpytest(*BARE, *options, "scenarios").assert_outcomes(passed=1)
    assert [(o.csms_driver, o.csms_lacks) for o in run_options] == [(driver, ())]
    run_options.clear()
    url = "https://csms.example.test/driver"
    folder.runpytest(*BARE, "--mockpoint-csms-driver", url, "--mockpoint-csms-lacks", "core")
    assert [(o.csms_driver, o.csms_lacks) for o in run_options] == [(url, ("Core",))]


def test_not_applicable_and_skipped_scenarios_are_skips_with_their_reason(
    folder: pytest.Pytester, run_options: list[RunOptions]
) -> None:
    write(folder, "a.yaml", outcome_scenario("a", "not_applicable the CSMS has no tariffs"))
    write(folder, "b.yaml", outcome_scenario("b", "skipped needs a tag|an older error"))
    write(folder, "c.yaml", outcome_scenario("c", "skipped |what went wrong"))
    write(folder, "d.yaml", outcome_scenario("d", "failed |the CSMS broke it"))
    result = folder.runpytest(*BARE, "-rs")
    result.assert_outcomes(skipped=3, failed=1)
    result.stdout.fnmatch_lines(
        [
            "SKIPPED ?1? a.yaml:1: the CSMS has no tariffs",
            "SKIPPED ?1? b.yaml:1: needs a tag",
            "SKIPPED ?1? c.yaml:1: what went wrong",
        ],
        consecutive=False,
    )
    assert len(run_options) == 4


#: The configuration file docs/pytest.md shows: its first line names the file.
DOC_CONFIG = re.compile(r"^```yaml\n# tests/csms\.yaml\n(.*?)^```", re.MULTILINE | re.DOTALL)

DOC_CONFIG_TEST = """
async def test_the_configured_csms(charge_point):
    await charge_point.plug_in(1)
    tx = await charge_point.start_transaction(1, "TAG-001")
    request = await charge_point.wait_for("RemoteStopTransaction", timeout=10)
    assert request.call.payload == {"transactionId": tx}
    answer = await charge_point.authorize("TAG-666")
    assert answer["idTagInfo"]["status"] == "Blocked"
"""


def test_the_configuration_docs_pytest_md_shows(folder: pytest.Pytester) -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "pytest.md"
    (config,) = DOC_CONFIG.findall(docs.read_text(encoding="utf-8"))
    write(folder, "tests/csms.yaml", config)
    folder.makepyfile(test_configured=DOC_CONFIG_TEST)
    result = folder.runpytest(*BARE, "--mockpoint-csms-config", "tests/csms.yaml")
    result.assert_outcomes(passed=1)

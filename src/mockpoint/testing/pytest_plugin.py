"""mockpoint's pytest plugin (entry point ``pytest11``); see README, "pytest".

Two things, both pointed at one CSMS: ``--mockpoint-csms URL`` on the command line, else the
``mockpoint_csms`` ini setting, else an in-process mock CSMS (a fresh one per test).

- Fixtures: ``mockpoint_csms`` (a :class:`~mockpoint.csms.server.MockCsms`, its ``url`` for
  your own code), ``mockpoint_csms_url`` (the URL in use) and ``charge_point`` (a connected,
  booted :class:`~mockpoint.api.SimulatedChargePoint`; its id from the ``mockpoint_cp_id``
  marker, else ``CP-`` and a slug of the test's name).
- Collection: every ``*.yaml`` / ``*.yml`` that reads as a scenario (a top-level ``name:`` and
  ``steps:``) is a file with one test item, named after the scenario, which runs it as
  ``mockpoint run`` would. ``mockpoint_scenarios = false`` in the ini turns that off.

Seed and clock as ``mockpoint run`` has them (PRODUCT.md, "Determinism, and the CSMSs people
run"): pinned against the in-process mock CSMS, fresh against a CSMS the option names; a
failing scenario's report says its seed. A CSMS URL that is not ws:// or wss:// is a usage
error before any test runs.

The mockpoint modules are imported when first needed, not when pytest loads the plugin: every
pytest run of an environment with mockpoint installed loads it, most never use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr

    from mockpoint.api import SimulatedChargePoint
    from mockpoint.csms.server import MockCsms
    from mockpoint.scenario.model import Scenario
    from mockpoint.scenario.outcome import ScenarioOutcome

__all__ = [
    "ScenarioFailed",
    "ScenarioFile",
    "ScenarioItem",
    "charge_point",
    "mockpoint_csms",
    "mockpoint_csms_url",
]

_SUFFIXES = (".yaml", ".yml")
#: What makes a YAML file a scenario, cheaply: both keys at the top level. CI configurations,
#: compose files and the like lack one of them and are never parsed.
_NAME_LINE = re.compile(r"^name[ \t]*:", re.MULTILINE)
_STEPS_LINE = re.compile(r"^steps[ \t]*:", re.MULTILINE)
#: The longest slug the default charge point id takes from a test's name.
_SLUG_LENGTH = 12


def _async_fixture(function: Callable[..., Any]) -> Any:
    """An async fixture of pytest-asyncio (in strict mode as in auto mode), or a plain one
    when it is not installed: pytest then says that an async fixture needs a plugin."""
    try:
        import pytest_asyncio
    except ImportError:  # pragma: no cover - the test suite has pytest-asyncio
        return pytest.fixture(function)
    return pytest_asyncio.fixture(function)


# --- options ------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mockpoint", "mockpoint (OCPP 1.6J charge point simulator)")
    group.addoption(
        "--mockpoint-csms",
        dest="mockpoint_csms",
        metavar="URL",
        default=None,
        help="The CSMS the charge_point fixture and scenario files connect to "
        "(default: an in-process mock CSMS per test).",
    )
    parser.addini(
        "mockpoint_csms",
        "The CSMS URL of the charge_point fixture and scenario files (--mockpoint-csms wins).",
        default="",
    )
    parser.addini(
        "mockpoint_scenarios",
        "Collect mockpoint scenario files (*.yaml, *.yml) as tests (default: true).",
        type="bool",
        default=True,
    )


def pytest_configure(config: pytest.Config) -> None:
    url = csms_url_option(config)
    if url is not None:
        from mockpoint.errors import UsageError
        from mockpoint.transport.websocket import check_csms_url

        try:
            check_csms_url(url, "--mockpoint-csms")
        except UsageError as exc:
            raise pytest.UsageError(str(exc)) from None
    config.addinivalue_line(
        "markers",
        "mockpoint_cp_id(id): the charge point id of the charge_point fixture.",
    )
    config.addinivalue_line(
        "markers",
        "mockpoint_charge_point(**options): options of the charge_point fixture, as "
        "mockpoint.api.charge_point takes them (connectors, configuration, speed, boot...).",
    )


def csms_url_option(config: pytest.Config) -> str | None:
    """The CSMS URL given by ``--mockpoint-csms`` or the ``mockpoint_csms`` ini setting."""
    value = config.getoption("mockpoint_csms") or config.getini("mockpoint_csms")
    url = str(value).strip() if value else ""
    return url or None


# --- fixtures -----------------------------------------------------------------------------


@_async_fixture
async def mockpoint_csms() -> AsyncIterator[MockCsms]:
    """An in-process mock CSMS on a free loopback port (its ``url``), for this test only."""
    from mockpoint.csms.server import MockCsms

    async with MockCsms() as csms:
        yield csms


@pytest.fixture
def mockpoint_csms_url(request: pytest.FixtureRequest) -> str:
    """The CSMS URL of this test: ``--mockpoint-csms``, else the ``mockpoint_csms`` ini
    setting, else the URL of the ``mockpoint_csms`` fixture (started only then)."""
    url = csms_url_option(request.config)
    if url is not None:
        return url
    csms: MockCsms = request.getfixturevalue("mockpoint_csms")
    return csms.url


@_async_fixture
async def charge_point(
    request: pytest.FixtureRequest, mockpoint_csms_url: str
) -> AsyncIterator[SimulatedChargePoint]:
    """A simulated charge point, connected to ``mockpoint_csms_url`` and booted.

    A CSMS that cannot be reached or refuses the boot fails the test with mockpoint's
    message, not a traceback through the plugin."""
    from mockpoint.api import charge_point as open_charge_point
    from mockpoint.errors import MockpointError
    from mockpoint.scenario.runner import seed_and_start

    node = request.node
    marker = node.get_closest_marker("mockpoint_cp_id")
    cp_id = str(marker.args[0]) if marker is not None and marker.args else default_cp_id(node)
    options_marker = node.get_closest_marker("mockpoint_charge_point")
    options = dict(options_marker.kwargs) if options_marker is not None else {}
    if csms_url_option(request.config) is None:
        # The in-process mock CSMS: pinned defaults, as `mockpoint run` has with its own.
        seed, start = seed_and_start(None, None, embedded=True)
        options.setdefault("seed", seed)
        options.setdefault("start", start)
    async with contextlib.AsyncExitStack() as stack:
        problem: str | None = None
        try:
            cp = await stack.enter_async_context(
                open_charge_point(mockpoint_csms_url, cp_id, **options)
            )
        except MockpointError as exc:
            problem = str(exc)
        if problem is not None:  # outside the except: no "during handling" chain shown
            where = "" if mockpoint_csms_url in problem else f" at {mockpoint_csms_url}"
            pytest.fail(f"charge point {cp_id}{where}: {problem}", pytrace=False)
        yield cp


def default_cp_id(node: pytest.Item) -> str:
    """``CP-`` and a slug of the test's name, then 4 hex digits of its node id: at most 20
    characters (OCPP 1.6 CiString20 identities fit), the same on every run, and distinct for
    tests that share a CSMS (two connections of one id replace each other)."""
    name = node.name.removeprefix("test_").removeprefix("test")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-")[:_SLUG_LENGTH].strip("-")
    digest = hashlib.sha1(node.nodeid.encode("utf-8")).hexdigest()[:4]
    return f"CP-{slug}-{digest}" if slug else f"CP-{digest}"


# --- scenario files -----------------------------------------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    if file_path.suffix not in _SUFFIXES or not parent.config.getini("mockpoint_scenarios"):
        return None
    if not looks_like_scenario(file_path):
        return None
    file: ScenarioFile = ScenarioFile.from_parent(parent, path=file_path)
    return file


def looks_like_scenario(path: Path) -> bool:
    """Whether ``path`` has a top-level ``name:`` and ``steps:``, without parsing it."""
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return False
    return bool(_NAME_LINE.search(text) and _STEPS_LINE.search(text))


class ScenarioFile(pytest.File):
    """A scenario file: one item, or a collection error with the loader's problems."""

    def collect(self) -> Iterator[ScenarioItem]:
        from mockpoint.scenario.loader import ScenarioError, load_scenario

        shown = _shown_path(self.path, self.config)
        try:
            scenario = load_scenario(shown)
        except ScenarioError as exc:
            # A CollectError is shown as its message alone: file:line:column, no traceback.
            raise self.CollectError(str(exc)) from None
        yield ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario, shown=shown)


class ScenarioItem(pytest.Item):
    """One scenario, run as ``mockpoint run`` runs it, against ``--mockpoint-csms`` or the
    embedded mock CSMS the runner starts for it."""

    def __init__(self, *, scenario: Scenario, shown: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        #: the path the scenario was loaded by and its reports name
        self.shown = shown

    def runtest(self) -> None:
        from mockpoint.scenario.outcome import Status

        outcome = asyncio.run(self._run())
        if outcome.status is Status.PASSED:
            return
        if outcome.status is Status.SKIPPED:
            skipped = pytest.skip.Exception(outcome.error or "skipped")
            skipped._use_item_location = True  # -rs names the scenario, not this module
            raise skipped
        raise ScenarioFailed(outcome)

    async def _run(self) -> ScenarioOutcome:
        from mockpoint.packs import EMBEDDED_DEFAULTS, INPUTS
        from mockpoint.scenario.runner import RunOptions, run_scenario

        url = csms_url_option(self.config)
        options = RunOptions(
            csms_url=url,
            variables={"CSMS_URL": url} if url is not None else {},
            # ${TAG_BLOCKED} and the like: from the environment, as pytest has no --tag
            inputs={i.variable: f"{i.description}, from the environment" for i in INPUTS},
            embedded_defaults=EMBEDDED_DEFAULTS,
        )
        # The loaded path, unless a test changed the working folder since: the runner
        # resolves the file's relative paths (certificates) from it.
        path = self.shown if self.shown.is_absolute() or self.shown.exists() else self.path
        outcome, _ = await run_scenario(path, self.scenario, options)
        return outcome

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str | TerminalRepr:
        if isinstance(excinfo.value, ScenarioFailed):
            return excinfo.value.report()
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int, str]:
        """The file and the (0-based) line of the scenario's ``name:``."""
        try:
            text = self.path.read_text(encoding="utf-8-sig", errors="replace")
        except OSError:
            return self.path, 0, f"scenario: {self.name}"
        found = _NAME_LINE.search(text)
        line = text.count("\n", 0, found.start()) if found else 0
        return self.path, line, f"scenario: {self.name}"


class ScenarioFailed(Exception):
    """A scenario did not pass: a step failed, the CSMS was unreachable, or mockpoint broke."""

    def __init__(self, outcome: ScenarioOutcome) -> None:
        super().__init__(outcome.name)
        self.outcome = outcome

    def report(self) -> str:
        """The failing steps as the JUnit report tells them: step, file:line:column, the
        message, expected and actual, and the frames around the failure."""
        from mockpoint.scenario.reports._text import failure_text

        outcome = self.outcome
        seed = "" if outcome.seed is None else f" (seed {outcome.seed})"
        lines = [
            f"scenario {outcome.name!r} ({outcome.file}, {outcome.cp}): {outcome.status}{seed}"
        ]
        if outcome.error:
            lines.append(outcome.error)
        lines += [failure_text(step, outcome) for step in outcome.failed_steps]
        return "\n".join(lines)


def _shown_path(path: Path, config: pytest.Config) -> Path:
    """``path`` relative to where pytest was started, when it is below it (as a user types
    it, and as ``mockpoint run`` reports it), else absolute."""
    try:
        return path.relative_to(config.invocation_params.dir)
    except ValueError:
        return path

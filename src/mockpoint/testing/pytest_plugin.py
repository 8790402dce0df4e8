"""mockpoint's pytest plugin (entry point ``pytest11``); docs/pytest.md tells all of it.

Two things, both pointed at one CSMS: ``--mockpoint-csms URL`` on the command line, else the
``mockpoint_csms`` ini setting, else an in-process mock CSMS (a fresh one per test, configured
by ``--mockpoint-csms-config FILE`` / ``mockpoint_csms_config`` and the
``mockpoint_csms_config`` marker).

- Fixtures: ``mockpoint_csms`` (a :class:`~mockpoint.csms.server.MockCsms`, its ``url`` for
  your own code), ``mockpoint_csms_url`` (the URL in use) and ``charge_point`` (a connected,
  booted :class:`~mockpoint.api.SimulatedChargePoint`; its id from the ``mockpoint_cp_id``
  marker, else ``CP-`` and a slug of the test's name). An async test that asks for one of
  them directly runs under pytest-asyncio without a marker, in strict mode too: the snippet
  of the README runs as pasted.
- Collection: every ``*.yaml`` / ``*.yml`` that looks like a scenario (see
  :func:`looks_like_scenario`) is a file with one test item, named after the scenario, which
  runs it as ``mockpoint run`` would; one that does not load is a collection error with the
  problems ``mockpoint validate`` lists, never left out. ``mockpoint_scenarios = false`` in
  the ini turns that off. ``--mockpoint-csms-driver`` and ``--mockpoint-csms-lacks`` are
  ``run``'s ``--csms-driver`` and ``--csms-lacks`` for these files.

Seed and clock as ``mockpoint run`` has them (docs/behaviour.md, "Time and ids"): pinned
against the in-process mock CSMS, fresh against a CSMS the option names; a failing
scenario's report says its seed. A CSMS URL that is not ws:// or wss://, a CSMS
configuration that does not load or an unknown ``--mockpoint-csms-lacks`` name is a usage
error before any test runs.

The mockpoint modules are imported when first needed, not when pytest loads the plugin: every
pytest run of an environment with mockpoint installed loads it, most never use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import inspect
import re
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr

    from mockpoint.api import SimulatedChargePoint
    from mockpoint.csms.config import CsmsConfig
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
#: A key at the top level of a YAML file (no indentation), and the keys of one that looks like
#: a scenario: ``step`` is a typo that must fail loudly, not make the file disappear.
_TOP_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)[ \t]*:", re.MULTILINE)
_STEPS_KEYS = frozenset({"steps", "step"})
_NAME_LINE = re.compile(r"^name[ \t]*:", re.MULTILINE)
#: The longest slug the default charge point id takes from a test's name.
_SLUG_LENGTH = 12
#: The fixtures that make an async test one of pytest-asyncio's without a marker.
_ASYNC_FIXTURES = frozenset({"charge_point", "mockpoint_csms"})
#: Markers of the other async test runners: a test that has one is theirs.
_OTHER_RUNNERS = frozenset({"asyncio", "anyio", "trio"})


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
    group.addoption(
        "--mockpoint-csms-config",
        dest="mockpoint_csms_config",
        metavar="FILE",
        default=None,
        help="Configuration of the in-process mock CSMS (the YAML of mockpoint csms "
        "--config), for the fixtures and the scenario files.",
    )
    group.addoption(
        "--mockpoint-csms-driver",
        dest="mockpoint_csms_driver",
        metavar="CMD|URL",
        default=None,
        help="What makes the CSMS act when a scenario file's await waits, as mockpoint run "
        "--csms-driver (docs/csms-driver.md).",
    )
    group.addoption(
        "--mockpoint-csms-lacks",
        dest="mockpoint_csms_lacks",
        metavar="NAMES",
        action="append",
        default=[],
        help="What the CSMS lacks, comma-separated (feature profiles such as reservation, "
        "or actions such as UnlockConnector): scenario files that need one are skipped as "
        "not applicable, as with mockpoint run --csms-lacks.",
    )
    parser.addini(
        "mockpoint_csms",
        "The CSMS URL of the charge_point fixture and scenario files (--mockpoint-csms wins).",
        default="",
    )
    parser.addini(
        "mockpoint_csms_config",
        "Configuration file of the in-process mock CSMS, relative to the ini file "
        "(--mockpoint-csms-config wins).",
        default="",
    )
    parser.addini(
        "mockpoint_csms_driver",
        "The CSMS driver of the scenario files (--mockpoint-csms-driver wins).",
        default="",
    )
    parser.addini(
        "mockpoint_csms_lacks",
        "What the CSMS lacks, comma- or line-separated (--mockpoint-csms-lacks wins).",
        default="",
    )
    parser.addini(
        "mockpoint_scenarios",
        "Collect mockpoint scenario files (*.yaml, *.yml) as tests (default: true).",
        type="bool",
        default=True,
    )


def pytest_configure(config: pytest.Config) -> None:
    from mockpoint.errors import UsageError

    try:
        _check_options(config)
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
    config.addinivalue_line(
        "markers",
        "mockpoint_csms_config(config): the configuration of this test's in-process mock "
        "CSMS, a mapping as the YAML file has it, instead of --mockpoint-csms-config.",
    )


def _check_options(config: pytest.Config) -> None:
    """Everything the options say that can be wrong, checked once, before any test runs;
    raises :class:`~mockpoint.errors.UsageError` naming the option."""
    url = csms_url_option(config)
    if url is not None:
        from mockpoint.transport.websocket import check_csms_url

        check_csms_url(url, "--mockpoint-csms")
    csms_lacks_option(config)
    config.stash[_CONFIG_KEY] = _csms_config_option(config)


def csms_url_option(config: pytest.Config) -> str | None:
    """The CSMS URL given by ``--mockpoint-csms`` or the ``mockpoint_csms`` ini setting."""
    value = config.getoption("mockpoint_csms") or config.getini("mockpoint_csms")
    url = str(value).strip() if value else ""
    return url or None


def csms_driver_option(config: pytest.Config) -> str | None:
    """The CSMS driver of the scenario files: ``--mockpoint-csms-driver``, else the
    ``mockpoint_csms_driver`` ini setting (``RunOptions.csms_driver``)."""
    value = config.getoption("mockpoint_csms_driver") or config.getini("mockpoint_csms_driver")
    driver = str(value).strip() if value else ""
    return driver or None


def csms_lacks_option(config: pytest.Config) -> tuple[str, ...]:
    """What the CSMS lacks (``RunOptions.csms_lacks``), each name in its canonical form:
    ``--mockpoint-csms-lacks`` (comma-separated, may be repeated), else the
    ``mockpoint_csms_lacks`` ini setting (commas or lines). An unknown name is a
    :class:`~mockpoint.errors.UsageError`."""
    from mockpoint.errors import UsageError
    from mockpoint.scenario.driver import FEATURES, feature

    given: list[str] = config.getoption("mockpoint_csms_lacks") or []
    option = "--mockpoint-csms-lacks"
    if not given:
        given, option = [str(config.getini("mockpoint_csms_lacks"))], "mockpoint_csms_lacks"
    names = [name.strip() for text in given for name in re.split(r"[,\n]", text)]
    lacks: dict[str, None] = {}
    for name in filter(None, names):
        try:
            lacks[feature(name)] = None
        except ValueError:
            raise UsageError(
                f"{option}: {name!r} is neither a feature profile ({', '.join(FEATURES)}) "
                "nor a request the CSMS sends (UnlockConnector, ReserveNow...)"
            ) from None
    return tuple(lacks)


#: The configuration of the in-process mock CSMS the options give, read once.
_CONFIG_KEY = pytest.StashKey["CsmsConfig | None"]()


def _csms_config_option(config: pytest.Config) -> CsmsConfig | None:
    """The configuration file ``--mockpoint-csms-config`` names (from where pytest was
    started), else the ``mockpoint_csms_config`` ini setting (from the ini file's folder),
    read; None without either."""
    from mockpoint.csms.config import load_config

    value = config.getoption("mockpoint_csms_config")
    base = config.invocation_params.dir
    if not value:
        value = str(config.getini("mockpoint_csms_config")).strip()
        base = config.inipath.parent if config.inipath is not None else config.rootpath
    if not value:
        return None
    path = base / Path(value).expanduser()
    # As the user wrote it where that still reads the same file: errors name file and key.
    shown = _shown_path(path, config) if Path.cwd() == config.invocation_params.dir else path
    return load_config(shown)


# --- async tests --------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(
    collector: pytest.Module | pytest.Class, name: str, obj: object
) -> None:
    """An async test that asks for ``charge_point`` or ``mockpoint_csms`` gets the
    ``asyncio`` marker, which pytest-asyncio's strict mode (its default) wants: those
    fixtures run on asyncio whatever the mode, so the test can only mean asyncio too. A test
    marked for another runner (anyio, trio) is left as it is."""
    if not inspect.iscoroutinefunction(obj) or not collector.istestfunction(obj, name):
        return None
    if not collector.config.pluginmanager.hasplugin("asyncio"):
        return None  # pytest says an async test needs a plugin; the docs say which
    marks = {mark.name for mark in getattr(obj, "pytestmark", [])}
    marks.update(mark.name for mark in collector.iter_markers())
    if marks & _OTHER_RUNNERS:
        return None
    try:
        asked = set(inspect.signature(obj).parameters)
    except (TypeError, ValueError):  # pragma: no cover - a callable without a signature
        return None
    if asked & _ASYNC_FIXTURES:
        pytest.mark.asyncio(obj)
    return None


# --- fixtures -----------------------------------------------------------------------------


@_async_fixture
async def mockpoint_csms(request: pytest.FixtureRequest) -> AsyncIterator[MockCsms]:
    """An in-process mock CSMS on a free loopback port (its ``url``), for this test only,
    configured by the test's ``mockpoint_csms_config`` marker, else by
    ``--mockpoint-csms-config`` / ``mockpoint_csms_config``.

    A test that also asks for ``charge_point`` while ``--mockpoint-csms`` names another
    CSMS is skipped: its charge point talks to that CSMS, not to this one."""
    from mockpoint.csms.server import MockCsms

    _skip_a_mock_the_charge_point_does_not_use(request)
    config = _marker_config(request.node)
    if config is None:
        config = request.config.stash.get(_CONFIG_KEY, None)
    async with MockCsms(config=config) as csms:
        yield csms


def _skip_a_mock_the_charge_point_does_not_use(request: pytest.FixtureRequest) -> None:
    """Skip a test that asks for ``charge_point`` and ``mockpoint_csms`` while
    ``--mockpoint-csms`` names another CSMS: what it does to the in-process mock would never
    reach its charge point. Called by both fixtures, so that the skip comes before the
    charge point connects, whichever is set up first."""
    url = csms_url_option(request.config)
    if url is not None and _ASYNC_FIXTURES <= set(request.fixturenames):
        pytest.skip(f"drives the in-process mock CSMS, but the charge point talks to {url}")


def _marker_config(node: pytest.Item) -> CsmsConfig | None:
    """The configuration of the ``mockpoint_csms_config`` marker: a mapping (its only
    argument, or its keyword arguments) with the keys of the YAML file. One that does not
    read fails the test with the key it does not like."""
    from mockpoint.csms.config import config_from_mapping
    from mockpoint.errors import UsageError

    marker = node.get_closest_marker("mockpoint_csms_config")
    if marker is None:
        return None
    data: object = marker.args[0] if marker.args else dict(marker.kwargs)
    problem: str | None = None
    try:
        return config_from_mapping(data, f"{node.nodeid}: mockpoint_csms_config")
    except UsageError as exc:
        problem = str(exc)
    pytest.fail(problem, pytrace=False)


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
    from mockpoint.assembly import seed_and_start
    from mockpoint.errors import MockpointError

    _skip_a_mock_the_charge_point_does_not_use(request)
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
    """Whether ``path`` looks like a scenario, read as text, without parsing it: a top-level
    ``charge_point:``, or a top-level ``steps:`` (or the typo ``step:``) with a step of a
    kind mockpoint knows (``- send:``, ``plug_in:``, ``{await: ...}``...).

    Such a file is collected, and one that then does not load is a collection error, never
    left out. A CI pipeline with top-level ``steps:`` (Cloud Build, Drone, Azure) has no step
    mockpoint knows and stays out, as do YAML files without these keys."""
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return False
    top = set(_TOP_KEY.findall(text))
    if "charge_point" in top:
        return True
    return bool(top & _STEPS_KEYS) and _step_kind_pattern().search(text) is not None


@functools.cache
def _step_kind_pattern() -> re.Pattern[str]:
    """A step kind used as a key: in a block list item (``- send:``), on a later line of
    one (``  send:``), or in flow style (``{send: ...}``)."""
    from mockpoint.scenario.model import STEP_KINDS

    kinds = "|".join(map(re.escape, STEP_KINDS))
    return re.compile(rf"(?:^[ \t]*-[ \t]+|^[ \t]+|[{{,][ \t]*)(?:{kinds})[ \t]*:", re.MULTILINE)


class ScenarioFile(pytest.File):
    """A scenario file: one item, or a collection error with the loader's problems."""

    def collect(self) -> Iterator[ScenarioItem]:
        from mockpoint.errors import UsageError
        from mockpoint.scenario.loader import load_scenario

        shown = _shown_path(self.path, self.config)
        try:
            scenario = load_scenario(shown)
        except UsageError as exc:  # ScenarioError: what `mockpoint validate` lists
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
        if outcome.status in (Status.SKIPPED, Status.NOT_APPLICABLE):
            # Not applicable (the CSMS lacks what the scenario tests) is no failure either.
            default = "not applicable" if outcome.status is Status.NOT_APPLICABLE else "skipped"
            skipped = pytest.skip.Exception(outcome.reason or outcome.error or default)
            skipped._use_item_location = True  # -rs names the scenario, not this module
            raise skipped
        raise ScenarioFailed(outcome)

    async def _run(self) -> ScenarioOutcome:
        from mockpoint.packs import EMBEDDED_DEFAULTS, INPUTS
        from mockpoint.scenario.runner import RunOptions, run_scenario

        url = csms_url_option(self.config)
        options = RunOptions(
            csms_url=url,
            csms_config=self.config.stash.get(_CONFIG_KEY, None),
            csms_driver=csms_driver_option(self.config),
            csms_lacks=csms_lacks_option(self.config),
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
        from mockpoint.scenario.reports.text import failure_text

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

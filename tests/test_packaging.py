"""Packaging: one version everywhere, the OCA schemas inside mockpoint, and a wheel that
works in a fresh virtual environment without the ``ocpp`` package."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

import mockpoint
from mockpoint.cli.main import main
from mockpoint.ocpp16.actions import ACTIONS
from mockpoint.ocpp16.schemas import load_schema, schema_folder

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "01-cold-boot-and-heartbeat.yaml"
#: A Python block docs/pytest.md marks as runnable: a test file, as a newcomer pastes it.
PYTEST_DOC = ROOT / "docs" / "pytest.md"
_RUNNABLE_PYTHON = re.compile(r"^<!-- runnable -->\n```python\n(.*?)^```", re.M | re.S)


# --- one version ----------------------------------------------------------------------


def test_the_installed_metadata_has_the_package_version() -> None:
    assert importlib.metadata.version("mockpoint") == mockpoint.__version__


def test_the_command_line_reports_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"mockpoint, version {mockpoint.__version__}\n"


def test_the_changelog_top_entry_is_the_package_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    entries = re.findall(r"^## \[([^\]]+)\]", text, flags=re.MULTILINE)
    assert entries, "CHANGELOG.md has no '## [version]' entry"
    assert entries[0] == mockpoint.__version__


# --- the schemas ship inside mockpoint ------------------------------------------------


def test_the_schemas_are_read_from_mockpoint_itself() -> None:
    package = Path(mockpoint.__file__).parent
    folder = Path(str(schema_folder()))
    assert folder == package / "ocpp16" / "oca_schemas"
    names = {path.name for path in folder.glob("*.json")}
    expected = {f"{action}{suffix}.json" for action in ACTIONS for suffix in ("", "Response")}
    assert names == expected
    assert load_schema("BootNotification", response=True)["title"] == "BootNotificationResponse"


def test_the_schemas_equal_the_ocpp_packages_copies() -> None:
    # Found without importing ocpp (the dev extra has it; a user's install need not).
    spec = importlib.util.find_spec("ocpp")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the ocpp package is not installed")
    theirs = Path(next(iter(spec.submodule_search_locations))) / "v16" / "schemas"
    ours = Path(str(schema_folder()))
    differ = [
        path.name
        for path in sorted(theirs.glob("*.json"))
        if (ours / path.name).read_bytes() != path.read_bytes()
    ]
    assert differ == []


# --- the pytest extra -------------------------------------------------------------------


def test_the_pytest_extra_brings_what_the_fixtures_need() -> None:
    with (ROOT / "pyproject.toml").open("rb") as file:
        extras = tomllib.load(file)["project"]["optional-dependencies"]
    names = {re.split(r"[<>=!~;\[ ]", requirement)[0] for requirement in extras["pytest"]}
    assert names == {"pytest", "pytest-asyncio"}
    # the fresh-environment test below runs these as they stand
    assert len(_RUNNABLE_PYTHON.findall(PYTEST_DOC.read_text(encoding="utf-8"))) >= 2


# --- the wheel in a fresh virtual environment -----------------------------------------

# Run inside the fresh environment: import every module (so nothing needs a package the
# wheel does not declare), then say where the schemas are and whether ocpp came along.
PROBE = """
import importlib, importlib.util, json, pkgutil, sys
import mockpoint
from mockpoint.ocpp16.schemas import load_schema, schema_folder
failed = {}
for module in pkgutil.walk_packages(mockpoint.__path__, "mockpoint."):
    if module.name.endswith(".__main__"):
        continue
    try:
        importlib.import_module(module.name)
    except ModuleNotFoundError as exc:
        if exc.name not in OPTIONAL:
            failed[module.name] = repr(exc)
load_schema("StopTransaction", response=False)
print(json.dumps({
    "prefix": sys.prefix,
    "schemas": str(schema_folder()),
    "failed": failed,
    "ocpp": importlib.util.find_spec("ocpp") is not None or "ocpp" in sys.modules,
}))
"""
# Packages only some modules need and the wheel rightly leaves to extras or to the user.
OPTIONAL = {"pytest", "_pytest", "ray"}


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command; fail the test with its output when it fails."""
    result = subprocess.run(
        [str(arg) for arg in args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, args))} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
        )
    return result


def pip_takes_python_option() -> bool:
    """pip 22.3 and later install into another interpreter's environment (``--python``)."""
    version = importlib.metadata.version("pip")
    return tuple(int(part) for part in re.findall(r"\d+", version)[:2]) >= (22, 3)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_wheel_installs_and_runs_in_a_fresh_environment(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", dist, ROOT)
    (wheel,) = dist.glob("mockpoint-*.whl")
    assert wheel.name.startswith(f"mockpoint-{mockpoint.__version__}-")

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(f"mockpoint-{mockpoint.__version__}.dist-info/METADATA")
    assert "mockpoint/py.typed" in names
    schemas = {name for name in names if name.startswith("mockpoint/ocpp16/oca_schemas/")}
    assert len({name for name in schemas if name.endswith(".json")}) == 2 * len(ACTIONS)
    assert "mockpoint/ocpp16/oca_schemas/README.md" in schemas
    requires = re.findall(r"^Requires-Dist: ([A-Za-z0-9_.-]+)(.*)$", metadata.decode(), re.M)
    runtime = {name.lower() for name, rest in requires if "extra ==" not in rest}
    assert "ocpp" not in runtime
    in_pytest = {name.lower() for name, rest in requires if re.search(r"extra == .pytest.", rest)}
    assert in_pytest == {"pytest", "pytest-asyncio"}

    # A fresh environment; the test's own pip installs into it (no pip bootstrap: faster).
    # With the pytest extra, as docs/pytest.md says to install it.
    venv = tmp_path / "venv"
    scripts = venv / ("Scripts" if sys.platform == "win32" else "bin")
    python = scripts / "python"
    quiet = ("--quiet", "--no-compile", "--disable-pip-version-check")
    requirement = f"{wheel}[pytest]"
    if pip_takes_python_option():
        run(sys.executable, "-m", "venv", "--without-pip", venv)
        run(sys.executable, "-m", "pip", "--python", python, "install", *quiet, requirement)
    else:
        run(sys.executable, "-m", "venv", venv)
        run(python, "-m", "pip", "install", *quiet, requirement)

    version = run(scripts / "mockpoint", "--version")
    assert version.stdout == f"mockpoint, version {mockpoint.__version__}\n"

    work = tmp_path / "work"
    work.mkdir()
    run(scripts / "mockpoint", "run", EXAMPLE, cwd=work)

    probe = run(python, "-c", f"OPTIONAL = {sorted(OPTIONAL)!r}\n{PROBE}", cwd=work)
    found = json.loads(probe.stdout)
    assert found["failed"] == {}
    assert Path(found["schemas"]).is_relative_to(Path(found["prefix"]))
    assert Path(found["prefix"]).resolve() == venv.resolve()
    assert found["ocpp"] is False

    # docs/pytest.md's tests as pasted: no ini file, so pytest-asyncio's strict mode, and
    # pytest loads the plugin by itself.
    tests = tmp_path / "newcomer"
    tests.mkdir()
    blocks = _RUNNABLE_PYTHON.findall(PYTEST_DOC.read_text(encoding="utf-8"))
    for number, block in enumerate(blocks, 1):
        (tests / f"test_pasted_{number}.py").write_text(block, encoding="utf-8")
    pasted = run(scripts / "pytest", "-p", "no:cacheprovider", cwd=tests)
    assert f"{len(blocks)} passed" in pasted.stdout

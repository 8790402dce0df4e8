"""The documentation stays true: generated pages are current, README commands run."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from conftest import UNIT, run_bash
from mockpoint.cli import reference

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

#: A shell block the README marks as runnable: the marker line, then a ```sh fence.
_RUNNABLE = re.compile(r"^<!-- runnable -->\n```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)


def runnable_blocks(text: str) -> list[str]:
    return [m.group(1) for m in _RUNNABLE.finditer(text)]


def test_generated_pages_are_current() -> None:
    stale = reference.stale(ROOT)
    assert not stale, (
        f"out of date: {', '.join(p.as_posix() for p in stale)}; "
        "run python -m mockpoint.cli.reference and commit the result"
    )


def test_every_command_has_a_reference_page_and_an_introduction() -> None:
    group = reference.command_group()
    assert set(group.commands) <= set(reference.INTROS)
    assert {
        "run",
        "load",
        "merge",
        "csms",
        "shell",
        "serve",
        "record",
        "validate",
        "schema",
    } <= set(group.commands)
    for name in group.commands:
        assert (ROOT / reference.REFERENCE_DIR / f"{name}.md").is_file()


def test_help_text_does_not_depend_on_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    group = reference.command_group()
    monkeypatch.setenv("COLUMNS", "40")
    narrow = reference.render_command("run", group.commands["run"], group)
    monkeypatch.setenv("COLUMNS", "250")
    assert reference.render_command("run", group.commands["run"], group) == narrow


def test_check_reports_a_stale_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert reference.main(["--root", str(tmp_path)]) == 0
    assert reference.main(["--check", "--root", str(tmp_path)]) == 0
    page = tmp_path / reference.REFERENCE_DIR / "run.md"
    page.write_text(page.read_text(encoding="utf-8") + "edited\n", encoding="utf-8")
    (tmp_path / reference.REFERENCE_DIR / "gone.md").write_text("# gone\n", encoding="utf-8")
    capsys.readouterr()
    assert reference.main(["--check", "--root", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert "docs/reference/run.md" in out and "docs/reference/gone.md" in out
    assert "python -m mockpoint.cli.reference" in err


def test_scenario_format_names_every_step_kind_and_top_level_key() -> None:
    from mockpoint.scenario.model import json_schema

    schema = json_schema()
    page = reference.render_scenario_format(schema)
    for key in schema["properties"]:
        assert f"| `{key}` |" in page
    for step in schema["properties"]["steps"]["items"]["oneOf"]:
        name = step["$ref"].rsplit("/", 1)[-1]
        kind = next(
            k for k in schema["$defs"][name]["required"] if k not in reference._COMMON_STEP_FIELDS
        )
        assert f"### `{kind}`" in page


def test_serve_api_names_every_operation_and_schema() -> None:
    from mockpoint.serve.app import create_app

    app = create_app()
    document = app.openapi()
    page = reference.render_serve_api(app)
    assert (ROOT / reference.SERVE_API).read_text(encoding="utf-8") == page
    for path, item in document["paths"].items():
        for method in item:
            assert f"### `{method.upper()} {path}`" in page
    assert "### `WS /events/ws`" in page
    # Every link within the page lands on a heading of it.
    headings = {reference._github_anchor(h) for h in re.findall(r"^#+ (.+)$", page, re.MULTILINE)}
    for anchor in re.findall(r"\]\(#([^)]+)\)", page):
        assert anchor in headings, f"serve-api.md links to a missing #{anchor}"
    # The step union is a link to the scenario format, not its 23 schemas again; FastAPI's
    # stock 422, which the server never gives, is left out.
    assert "(../scenario-format.md#steps)" in page
    assert "### SendStep" not in page and "HTTPValidationError" not in page.split("## Schemas")[1]
    assert "### CreateChargePoint" in page and "### StepResult" in page


def test_serve_api_does_not_change_with_the_version() -> None:
    from mockpoint.serve.app import create_app

    app = create_app()
    page = reference.render_serve_api(app)
    app.version = "99.0.0"
    app.openapi_schema = None  # FastAPI caches the document
    assert app.openapi()["info"]["version"] == "99.0.0"
    assert reference.render_serve_api(app) == page
    assert "99.0.0" not in page


def test_readme_links_resolve() -> None:
    text = README.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
        assert (ROOT / target).exists(), f"README links to a missing {target}"
    for needed in ("docs/reference/", "docs/scenario-format.md", "docs/ci/", "CHANGELOG.md"):
        assert needed in text


def test_readme_names_only_commands_that_exist() -> None:
    commands = set(reference.command_group().commands)
    text = README.read_text(encoding="utf-8")
    # A command line, or code in backquotes: not prose such as "mockpoint itself".
    named = set(re.findall(r"(?:^|`|\| )mockpoint ([a-z]+)\b", text, re.MULTILINE))
    unknown = named - commands
    assert not unknown, f"the README names commands that do not exist: {sorted(unknown)}"


def test_readme_has_runnable_blocks() -> None:
    assert len(runnable_blocks(README.read_text(encoding="utf-8"))) >= 4


@pytest.mark.slow
@pytest.mark.parametrize(
    "block", runnable_blocks(README.read_text(encoding="utf-8")), ids=lambda b: b.split()[1]
)
def test_readme_block_runs(block: str, tmp_path: Path) -> None:
    """Each runnable block, in a folder holding a copy of examples/, against loopback only."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    run_bash(block, tmp_path, env={"PROJECT": str(ROOT)}, timeout=60 * UNIT)

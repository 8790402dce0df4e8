"""The CI recipes in docs/ci/ are well formed, and their mockpoint commands work.

The commands run for real against ``mockpoint csms`` in a process of its own, standing in for
the user's CSMS service, on ``scenarios/`` made of the examples.
"""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from conftest import UNIT, run_bash

if TYPE_CHECKING:
    from csms_process import Csms

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / "docs" / "ci"

#: The URLs the recipes give the CSMS service (GitHub: a mapped port; GitLab: its alias).
_CSMS_URL = re.compile(r"ws://(localhost|csms):9000/ocpp")
_PLACEHOLDER_IMAGE = "ghcr.io/your-org/your-csms:latest"

#: The examples that pass against any CSMS that accepts everything: the others script the
#: embedded CSMS's requests (``mock_csms``) or expect its virtual clock.
_PORTABLE_EXAMPLES = (
    "02-plug-in-first-charging.yaml",
    "03-authorize-first-charging.yaml",
    "05-id-tag-outcomes.yaml",
)


def load(name: str) -> dict[Any, Any]:
    data = yaml.safe_load((CI / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def github() -> dict[Any, Any]:
    return load("github-actions.yml")


def gitlab() -> dict[Any, Any]:
    return load("gitlab-ci.yml")


def mockpoint_commands(scripts: list[str]) -> list[str]:
    """Every ``mockpoint ...`` command line of the scripts, continuation lines joined."""
    commands = []
    for script in scripts:
        for line in script.replace("\\\n", " ").splitlines():
            line = " ".join(line.split())
            if line.startswith("mockpoint "):
                commands.append(line)
    return commands


def github_scripts(job: str) -> list[str]:
    return [step["run"] for step in github()["jobs"][job]["steps"] if "run" in step]


def gitlab_scripts(job: str) -> list[str]:
    return list(gitlab()[job]["script"])


def test_github_workflow_structure() -> None:
    workflow = github()
    assert "on" in workflow or True in workflow  # YAML 1.1 reads a bare `on` as true
    jobs = workflow["jobs"]
    assert set(jobs) == {"scenarios", "load"}
    for job in jobs.values():
        service = job["services"]["csms"]
        assert service["image"] == _PLACEHOLDER_IMAGE
        assert "9000:9000" in service["ports"]
        assert "--health-cmd" in service["options"]
        assert any(step.get("run") == "pip install mockpoint" for step in job["steps"])
    steps = jobs["scenarios"]["steps"]
    report = next(s for s in steps if str(s.get("uses", "")).startswith("mikepenz/"))
    assert report["if"] == "always()" and report["with"]["report_paths"] == "junit.xml"
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"] == "always()"
    assert {"junit.xml", "summary.md"} <= set(upload["with"]["path"].split())
    assert jobs["load"]["needs"] == "scenarios"


def test_gitlab_pipeline_structure() -> None:
    pipeline = gitlab()
    assert pipeline["stages"] == ["test", "load"]
    template = pipeline[".mockpoint"]
    assert template["services"] == [{"name": _PLACEHOLDER_IMAGE, "alias": "csms"}]
    assert template["before_script"] == ["pip install mockpoint"]
    scenarios = pipeline["scenarios"]
    assert scenarios["artifacts"]["when"] == "always"
    assert scenarios["artifacts"]["reports"] == {"junit": "junit.xml"}
    assert {"junit.xml", "summary.md"} <= set(scenarios["artifacts"]["paths"])
    assert pipeline["load"]["stage"] == "load"


@pytest.mark.parametrize(
    "commands",
    [
        mockpoint_commands(github_scripts("scenarios") + github_scripts("load")),
        mockpoint_commands(gitlab_scripts("scenarios") + gitlab_scripts("load")),
    ],
    ids=["github", "gitlab"],
)
def test_recipes_run_validate_run_and_load(commands: list[str]) -> None:
    verbs = [c.split()[1] for c in commands]
    assert verbs == ["validate", "run", "load"]
    run = commands[1]
    assert _CSMS_URL.search(run) and "--junit junit.xml" in run and "--markdown summary.md" in run
    assert "--threshold" in commands[2]


def _run(command: str, folder: Path, csms: Csms, summary: Path | None) -> None:
    command = _CSMS_URL.sub(csms.url, command)
    command = re.sub(r"-n \d+", "-n 20", command)  # a smaller load, same thresholds
    env = {"GITHUB_STEP_SUMMARY": str(summary)} if summary is not None else None
    run_bash(command, folder, env=env, timeout=120 * UNIT)


@pytest.mark.slow
@pytest.mark.timeout(180)
@pytest.mark.parametrize("recipe", ["github", "gitlab"])
def test_recipe_commands_run_and_publish_their_reports(
    recipe: str, tmp_path: Path, csms: Csms
) -> None:
    folder = tmp_path / "repo"
    (folder / "scenarios").mkdir(parents=True)
    for name in _PORTABLE_EXAMPLES:
        shutil.copy(ROOT / "examples" / name, folder / "scenarios" / name)
    if recipe == "github":
        commands = mockpoint_commands(github_scripts("scenarios") + github_scripts("load"))
        summary: Path | None = tmp_path / "step-summary.md"
        published = ["junit.xml", "summary.md", "transcript.jsonl", "load.json", "load.html"]
    else:
        commands = mockpoint_commands(gitlab_scripts("scenarios") + gitlab_scripts("load"))
        summary = None
        published = [*gitlab()["scenarios"]["artifacts"]["paths"]]
        published += gitlab()["load"]["artifacts"]["paths"]
    for command in commands:
        _run(command, folder, csms, summary)

    for name in published:
        assert (folder / name).is_file(), f"the {recipe} recipe publishes {name}, not written"
    suites = ET.parse(folder / "junit.xml").getroot()
    cases = suites.findall(".//testcase")
    assert len(cases) == len(list((folder / "scenarios").glob("*.yaml")))
    assert not suites.findall(".//failure") and not suites.findall(".//error")
    assert (folder / "summary.md").read_text(encoding="utf-8").strip()
    if summary is not None:
        assert summary.read_text(encoding="utf-8").strip(), "GITHUB_STEP_SUMMARY not appended"
    assert csms.calls(), "the commands did not talk to the CSMS service"

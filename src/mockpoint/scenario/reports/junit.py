"""``--junit FILE``: the run as JUnit XML, the format every CI server reads.

One ``<testsuites>`` holding one ``<testsuite name="mockpoint">``, one ``<testcase>`` per
scenario (docs/behaviour.md, "Reports"). The layout follows the de facto schema of Jenkins and
pytest's ``--junitxml`` (there is no official one): a failed scenario has a ``<failure>``
whose message is one line (CI pages show it in lists) and whose text holds every failing
step with the frames around it; a scenario that could not run has an ``<error>`` whose
``type`` says why (``unreachable`` or ``internal``).

Each testcase carries ``<properties><property name="seed" value="..."/></properties>``, the
seed it ran with (``--seed`` replays it), and its ``<system-out>`` lists the steps, then the
CSMS requests that were "not supported here" or not answered while the boot was Rejected.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath

from mockpoint.scenario.outcome import RunOutcome, ScenarioOutcome, Status
from mockpoint.scenario.reports.text import (
    counts,
    display_file,
    failure_text,
    make_parent,
    short_reason,
    step_line,
    unanswered_lines,
    xml_safe,
)

#: The suite's name, and the ``<testsuites>`` name too.
SUITE = "mockpoint"

#: The longest ``message`` attribute: CI pages show it on one line in lists.
_MESSAGE_LIMIT = 300


def write_junit(run: RunOutcome, path: Path | str) -> None:
    """Write ``run`` as JUnit XML to ``path`` (UTF-8, with an XML declaration)."""
    path = Path(path)
    make_parent(path)
    tree = ET.ElementTree(junit_element(run))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def junit_element(run: RunOutcome) -> ET.Element:
    """The ``<testsuites>`` element of ``run``."""
    tally = counts(run.scenarios)
    attributes = {
        "name": SUITE,
        "tests": str(len(run.scenarios)),
        "failures": str(tally[Status.FAILED]),
        # Both are "the test could not run", which is what JUnit's errors count means.
        "errors": str(tally[Status.UNREACHABLE] + tally[Status.ERROR]),
        # JUnit knows no "not applicable": it is a skip with its reason (and a property).
        "skipped": str(tally[Status.SKIPPED] + tally[Status.NOT_APPLICABLE]),
        "time": _seconds(run.duration),
    }
    root = ET.Element("testsuites", attributes)
    suite = ET.SubElement(root, "testsuite", attributes)
    for scenario in run.scenarios:
        suite.append(_testcase(scenario))
    return root


def _testcase(scenario: ScenarioOutcome) -> ET.Element:
    file = display_file(scenario.file)
    case = ET.Element(
        "testcase",
        {
            "classname": _classname(file),
            "name": xml_safe(scenario.name),
            "file": xml_safe(file),
            "time": _seconds(scenario.duration),
        },
    )
    status = scenario.status
    properties = {"verdict": str(status)}
    if scenario.seed is not None:
        properties["seed"] = str(scenario.seed)
    listed = ET.SubElement(case, "properties")
    for name, value in properties.items():
        ET.SubElement(listed, "property", {"name": name, "value": value})
    details = "\n\n".join(failure_text(step, scenario) for step in scenario.failed_steps)
    if status is Status.FAILED:
        failure = ET.SubElement(case, "failure", {"message": _message(short_reason(scenario))})
        texts = [scenario.error or "", details]
        failure.text = xml_safe("\n\n".join(text for text in texts if text))
    elif status in (Status.UNREACHABLE, Status.ERROR):
        kind = "unreachable" if status is Status.UNREACHABLE else "internal"
        error = ET.SubElement(
            case, "error", {"type": kind, "message": _message(short_reason(scenario))}
        )
        # An internal error may have failed steps before it; they belong to the story.
        texts = [scenario.error or str(status), details]
        error.text = xml_safe("\n\n".join(text for text in texts if text))
    elif status is Status.SKIPPED:
        reason = scenario.reason or scenario.error or "skipped"
        ET.SubElement(case, "skipped", {"message": _message(f"skipped: {reason}")})
    elif status is Status.NOT_APPLICABLE:
        reason = scenario.reason or "the CSMS lacks a feature it tests"
        ET.SubElement(case, "skipped", {"message": _message(f"not applicable: {reason}")})
    lines = [step_line(step) for step in scenario.steps] + unanswered_lines(scenario)
    if lines:
        output = ET.SubElement(case, "system-out")
        output.text = xml_safe("\n".join(lines) + "\n")
    return case


def _classname(file: str) -> str:
    """``scenarios/boot.yaml`` → ``scenarios.boot``: Jenkins splits a classname at dots
    into package and class, so folders become packages and the file stem the class."""
    path = PurePosixPath(file)
    parts = path.with_suffix("").parts if path.suffix else path.parts
    return xml_safe(".".join(part for part in parts if part not in ("/", "..")))


def _message(text: str) -> str:
    text = xml_safe(text)
    if len(text) > _MESSAGE_LIMIT:
        return text[: _MESSAGE_LIMIT - 1] + "…"
    return text


def _seconds(value: float) -> str:
    return f"{value:.3f}"

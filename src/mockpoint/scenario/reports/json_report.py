"""``--json FILE``: the run as a machine-readable summary.

The document (``version`` 1; a change of its shape bumps it)::

    {"version": 1, "exit_code": 1, "duration": 3.21,
     "summary": {"passed": 2, "failed": 1, "unreachable": 0, "error": 0, "skipped": 0,
                 "total": 3},
     "scenarios": [{"name", "file", "cp", "status", "duration", "error", "seed",
                    "not_supported": {"SetChargingProfile": 2}, "ignored": {},
                    "steps": [{"index", "kind", "label", "location", "status", "duration",
                               "message", "expected", "actual", "tolerated"}]}]}

``seed`` is the seed the scenario ran with (``--seed`` replays it; null when it did not
run); ``not_supported`` counts the CSMS requests mockpoint does not implement, answered
NotSupported and never a failure, and ``ignored`` those left unanswered because the boot
was Rejected (OCPP 1.6 §4.2), per action. Keys keep this order, so two reports of the same
run diff cleanly. Frames are not in it: ``--transcript`` has them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mockpoint.scenario.outcome import RunOutcome, ScenarioOutcome, Status, StepOutcome
from mockpoint.scenario.reports.text import counts, make_parent, safe_jsonable

VERSION = 1


def write_json(run: RunOutcome, path: Path | str) -> None:
    """Write :func:`json_summary` of ``run`` to ``path``, indented by 2, UTF-8."""
    path = Path(path)
    make_parent(path)
    text = json.dumps(json_summary(run), indent=2, ensure_ascii=False)
    # A lone surrogate (a CSMS's broken string) cannot be UTF-8; written as \\udXXX it is
    # still a valid JSON escape of the same string.
    path.write_text(text + "\n", encoding="utf-8", errors="backslashreplace")


def json_summary(run: RunOutcome) -> dict[str, Any]:
    """The report as plain data, in the documented key order."""
    tally = counts(run.scenarios)
    return {
        "version": VERSION,
        "exit_code": int(run.exit_code),
        "duration": _seconds(run.duration),
        "summary": {
            "passed": tally[Status.PASSED],
            "failed": tally[Status.FAILED],
            "unreachable": tally[Status.UNREACHABLE],
            "error": tally[Status.ERROR],
            "skipped": tally[Status.SKIPPED],
            "not_applicable": tally[Status.NOT_APPLICABLE],
            "total": len(run.scenarios),
        },
        "scenarios": [_scenario(scenario) for scenario in run.scenarios],
    }


def _scenario(scenario: ScenarioOutcome) -> dict[str, Any]:
    return {
        "name": scenario.name,
        "file": scenario.file,
        "cp": scenario.cp,
        "status": str(scenario.status),
        "duration": _seconds(scenario.duration),
        "error": scenario.error,
        "reason": scenario.reason,
        "seed": scenario.seed,
        "not_supported": dict(scenario.not_supported),
        "ignored": dict(scenario.ignored),
        "steps": [_step(step) for step in scenario.steps],
    }


def _step(step: StepOutcome) -> dict[str, Any]:
    return {
        "index": step.index,
        "kind": step.kind,
        "label": step.label,
        "location": step.location,
        "status": str(step.status),
        "duration": _seconds(step.duration),
        "message": step.message,
        "expected": safe_jsonable(step.expected),
        "actual": safe_jsonable(step.actual),
        # Without it a failed step in a passed scenario would read as a contradiction.
        "tolerated": step.tolerated,
    }


def _seconds(value: float) -> float:
    # Milliseconds are the resolution anyone reads; more digits are noise in diffs.
    return round(value, 3)

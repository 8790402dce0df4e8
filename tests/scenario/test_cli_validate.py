"""``mockpoint validate`` and ``mockpoint schema`` on the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mockpoint.cli.main import main
from mockpoint.errors import ExitCode
from mockpoint.scenario.model import STEP_KINDS

DATA = Path(__file__).parent / "data"
PROBLEM_LINE = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<column>\d+): (?P<message>.+)$")


def test_validate_valid_files(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", str(DATA / "valid"), str(DATA / "batch" / "a_good.yaml")])
    out, err = capsys.readouterr()
    assert code == ExitCode.OK
    assert out == "ok: 5 scenario(s) in 5 file(s)\n"
    assert err == ""


def test_validate_lists_every_problem_on_stderr_and_exits_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["validate", str(DATA / "batch"), str(DATA / "invalid" / "wrong_type.yaml")])
    out, err = capsys.readouterr()
    assert code == ExitCode.USAGE
    assert out == ""
    *lines, summary = err.splitlines()
    assert summary == "invalid: 5 problem(s) in 3 file(s)"
    located = [PROBLEM_LINE.match(line) for line in lines]
    assert all(located), lines
    assert [(m["file"], m["line"], m["column"]) for m in located if m] == [
        (str(DATA / "batch" / "b_bad.yaml"), "2", "10"),
        (str(DATA / "batch" / "b_bad.yaml"), "6", "15"),
        (str(DATA / "batch" / "c_bad.yml"), "1", "1"),
        (str(DATA / "batch" / "c_bad.yml"), "2", "11"),
        (str(DATA / "invalid" / "wrong_type.yaml"), "3", "15"),
    ]
    assert lines[-1].endswith("charge_point.connectors: expected an integer, got 'two'")


def test_validate_a_path_that_does_not_exist(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing = tmp_path / "nope.yaml"
    assert main(["validate", str(missing)]) == ExitCode.USAGE
    assert capsys.readouterr().err.splitlines()[0] == f"{missing}: no such file or folder"


def test_validate_needs_a_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == ExitCode.USAGE
    assert "Missing argument" in capsys.readouterr().err


# --- schema --------------------------------------------------------------------------------


def schema_from_cli(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["schema"]) == ExitCode.OK
    out = capsys.readouterr().out
    assert out.startswith("{\n  ")  # indented
    schema: dict[str, Any] = json.loads(out)
    return schema


def test_schema_prints_a_valid_json_schema_of_every_step_kind(
    capsys: pytest.CaptureFixture[str],
) -> None:
    schema = schema_from_cli(capsys)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert "steps" in schema["properties"]
    step_refs = schema["properties"]["steps"]["items"]["oneOf"]
    kinds = set()
    for ref in step_refs:
        definition = schema["$defs"][ref["$ref"].rsplit("/", 1)[1]]
        kinds |= set(definition["required"]) & set(STEP_KINDS)
    assert kinds == set(STEP_KINDS)


SAMPLE: dict[str, Any] = {
    "name": "Sample",
    "csms": {"url": "ws://127.0.0.1:9000/ocpp", "security_profile": 1, "password": "pw"},
    "charge_point": {"id": "CP-9", "connectors": 2, "configuration": {"HeartbeatInterval": 60}},
    "clock": {"start": "2025-06-01T08:00:00Z", "speed": 0},
    "timeout": "10s",
    "steps": [
        {"send": "BootNotification", "expect": {"status": "Accepted"}},
        {"plug_in": {"connector": 1}},
        {"charge": {"connector": 1, "power": "11kW", "duration": "30m"}},
        {"await": "Reset", "within": "5s", "reply": {"status": "Accepted"}},
        {"wait": "500ms"},
    ],
}


def test_a_sample_scenario_validates_against_the_schema(
    capsys: pytest.CaptureFixture[str],
) -> None:
    validator = jsonschema.Draft202012Validator(schema_from_cli(capsys))
    assert list(validator.iter_errors(SAMPLE)) == []
    errors = list(validator.iter_errors({**SAMPLE, "colour": "blue"}))
    assert errors and "colour" in errors[0].message


def test_schema_output_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "scenario.schema.json"
    assert main(["schema", "--output", str(target)]) == ExitCode.OK
    assert capsys.readouterr().out == ""
    assert json.loads(target.read_text(encoding="utf-8"))["properties"]["steps"]


def test_schema_output_to_an_unwritable_place(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "no" / "such" / "folder" / "schema.json"
    assert main(["schema", "-o", str(target)]) == ExitCode.USAGE
    assert "cannot write" in capsys.readouterr().err


def test_validate_and_run_refuse_what_the_steps_cannot_mean(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "meaning.yaml"
    path.write_text(
        "name: x\ncharge_point: {connectors: 2}\nsteps:\n"
        "  - send: StartTransaction\n    expect: {transactionid: 1}\n"
        "  - plug_in: {connector: 3}\n",
        encoding="utf-8",
    )
    problem_lines = [
        f"{path}:5:14: expect.transactionid: StartTransaction's answer has no field"
        " 'transactionid'; did you mean transactionId?",
        f"{path}:6:26: plug_in.connector: connector 3: the charge point has 2 connectors"
        " (charge_point.connectors)",
    ]
    assert main(["validate", str(path)]) == ExitCode.USAGE
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [*problem_lines, "invalid: 2 problem(s) in 1 file(s)"]
    # run loads the file the same way, and runs nothing
    transcript = tmp_path / "t.jsonl"
    assert main(["run", str(path), "--transcript", str(transcript)]) == ExitCode.USAGE
    assert problem_lines[0] in capsys.readouterr().err
    assert not transcript.exists()


EXAMPLES = Path(__file__).parents[2] / "examples"


def test_validate_reads_fleet_files_and_run_leaves_them_to_load(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["validate", str(EXAMPLES)]) == ExitCode.OK
    out = capsys.readouterr().out
    assert re.fullmatch(r"ok: \d+ scenario\(s\), 1 fleet\(s\) in \d+ file\(s\)\n", out)
    # A folder's fleet file is not a scenario to run; named on its own, it says what it is.
    fleet = EXAMPLES / "load" / "fleet.yaml"
    assert main(["run", "-q", str(EXAMPLES / "load")]) == ExitCode.OK
    assert main(["run", "-q", str(fleet)]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert f"{fleet}:1:1: is a fleet file: run it with mockpoint load" in err
    broken = tmp_path / "fleet.yaml"
    broken.write_text("fleet: broken\ngroups:\n  - scenario: nowhere.yaml\n    wieght: 2\n")
    assert main(["validate", str(broken)]) == ExitCode.USAGE
    problem = PROBLEM_LINE.match(capsys.readouterr().err.splitlines()[0])
    assert problem is not None and (problem["file"], problem["line"]) == (str(broken), "4")
    assert "weight" in problem["message"]  # the close name of the misspelt key

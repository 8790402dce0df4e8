"""``mockpoint run`` end to end: scenario files against the embedded mock CSMS (or a CSMS
that is down, or mute) over loopback WebSockets; exit codes, reports, determinism."""

from __future__ import annotations

import json
import socket
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from conftest import UNIT, oca_errors
from mockpoint.cli.main import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
FAILING_EXAMPLE = ROOT / "examples" / "failure" / "what-a-failure-looks-like.yaml"

HEADER = """
name: {name}
charge_point: {{id: CP-T, connectors: 2}}
clock: {{start: 2025-06-01T08:00:00Z, speed: 0}}
timeout: 2s
"""


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Failure messages are checked whole: no wrapping at a narrow terminal's width."""
    monkeypatch.setenv("COLUMNS", "250")


def scenario(tmp_path: Path, body: str, name: str = "test", header: str = HEADER) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(header.format(name=name) + body, encoding="utf-8")
    return path


def run(*args: str | Path) -> int:
    return main(["run", *map(str, args)])


def transcript(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def sent(records: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [
        r["frame"][3]
        for r in records
        if r["direction"] == "out" and r["frame"][0] == 2 and r["frame"][2] == action
    ]


# --- the examples -------------------------------------------------------------------------


def test_every_example_passes_against_the_embedded_csms(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    assert len(EXAMPLES) >= 6
    assert run(*EXAMPLES, "--junit", junit, "--transcript", tmp_path / "t.jsonl") == 0
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("tests") == str(len(EXAMPLES))
    assert suite.get("failures") == "0" and suite.get("errors") == "0"
    # Every frame the charge point sent passes the independent OCA validator.
    for record in transcript(tmp_path / "t.jsonl"):
        frame = record["frame"]
        if record["direction"] == "out" and frame[0] == 2:
            assert oca_errors(frame[2], frame[3]) == [], frame


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_two_runs_of_an_example_give_byte_identical_transcripts(
    example: Path, tmp_path: Path
) -> None:
    texts = []
    for n in range(2):
        path = tmp_path / f"run{n}.jsonl"
        assert run(example, "-q", "--transcript", path) == 0
        lines = []
        for record in transcript(path):
            del record["wall_time"]
            lines.append(json.dumps(record, separators=(",", ":")))
        texts.append("\n".join(lines))
    assert texts[0] == texts[1]
    assert texts[0].count('"direction":"out"') >= 5


def test_the_failing_example_fails_with_a_useful_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junit, markdown, summary = tmp_path / "j.xml", tmp_path / "r.md", tmp_path / "summary.md"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GITHUB_STEP_SUMMARY", str(summary))
        code = run(
            FAILING_EXAMPLE, "--junit", junit, "--markdown", markdown, "--json", tmp_path / "r.json"
        )
    assert code == 1
    out = capsys.readouterr().out
    assert "what-a-failure-looks-like.yaml:11:5" in out
    assert "expected 'Accepted', got 'Blocked'" in out
    failure = ET.parse(junit).getroot().find("testsuite/testcase/failure")
    assert failure is not None
    assert "what-a-failure-looks-like.yaml:11:5" in (failure.get("message") or "")
    assert "Authorize" in (failure.text or "")
    report = markdown.read_text(encoding="utf-8")
    assert "```mermaid" in report and "sequenceDiagram" in report
    assert report.strip() in summary.read_text(encoding="utf-8")
    summary_json = json.loads((tmp_path / "r.json").read_text())
    assert summary_json["exit_code"] == 1
    steps = summary_json["scenarios"][0]["steps"]
    assert [s["status"] for s in steps] == ["passed", "passed", "failed", "skipped"]


# --- exit codes ----------------------------------------------------------------------------


def test_a_csms_that_is_down_is_exit_3_within_the_connect_timeout(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path = scenario(tmp_path, "steps:\n  - wait: 1s\n")
    started = time.perf_counter()
    code = run(path, "--csms", f"ws://127.0.0.1:{port}/ocpp", "--connect-timeout", "1")
    assert code == 3
    assert time.perf_counter() - started < 1 + 3 * UNIT


def test_a_csms_that_never_answers_fails_the_step_at_its_timeout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = """
mock_csms: {answers: {Authorize: {ignore: true}}}
steps:
  - authorize: {id_tag: TAG-1}
    timeout: 500ms
"""
    started = time.perf_counter()
    assert run(scenario(tmp_path, body)) == 1
    assert 0.5 <= time.perf_counter() - started < 0.5 + 3 * UNIT
    assert "no answer to Authorize within 0.5 s" in capsys.readouterr().out


def test_an_invalid_file_is_exit_2_and_nothing_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = scenario(tmp_path, "steps:\n  - wait: 1s\n", name="good")
    bad = scenario(tmp_path, "steps:\n  - wait: soon\n", name="bad")
    assert run(good, bad, "--transcript", tmp_path / "t.jsonl") == 2
    err = capsys.readouterr().err
    assert f"{bad}:" in err and "soon" in err
    assert not (tmp_path / "t.jsonl").exists()


def test_a_folder_runs_every_yaml_below_it_sorted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "sub").mkdir()
    scenario(tmp_path / "sub", "steps:\n  - wait: 1s\n", name="b")
    scenario(tmp_path, "steps:\n  - wait: 1s\n", name="a")
    assert run(tmp_path, "--json", tmp_path / "r.json") == 0
    names = [s["name"] for s in json.loads((tmp_path / "r.json").read_text())["scenarios"]]
    assert names == ["a", "b"]


# --- steps ---------------------------------------------------------------------------------


def test_send_fills_defaults_saves_and_uses_variables(tmp_path: Path) -> None:
    body = """
steps:
  - send: BootNotification
    payload: {chargePointModel: "${MODEL_FROM_ENV}"}
    expect: {status: Accepted}
  - plug_in: {connector: 2}
  - authorize: {id_tag: TAG-9}
  - send: StartTransaction
    payload: {connectorId: 2}
    save: {tx: transactionId}
  - send: StopTransaction
    payload: {transactionId: "${tx}", reason: Other}
  - expect_state:
      connectors: {2: {status: Finishing, transaction_id: null}}
"""
    path = scenario(tmp_path, body)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MODEL_FROM_ENV", "Model-X")
        assert run(path, "--transcript", tmp_path / "t.jsonl") == 0
    records = transcript(tmp_path / "t.jsonl")
    assert sent(records, "BootNotification")[0]["chargePointModel"] == "Model-X"
    start = sent(records, "StartTransaction")[0]
    assert start == {
        "connectorId": 2,
        "idTag": "TAG-9",
        "meterStart": 0,
        "timestamp": "2025-06-01T08:00:00Z",
    }
    stop = sent(records, "StopTransaction")[0]
    assert (stop["transactionId"], stop["reason"], stop["meterStop"]) == (1, "Other", 0)


def test_expect_error_and_deliberately_invalid_payloads(tmp_path: Path) -> None:
    body = """
steps:
  - send: Authorize
    payload: {idTag: 42}
    invalid: true
    expect_error: TypeConstraintViolation
  - send: Heartbeat
    payload: {}
    expect_error: NotImplemented
    continue_on_failure: true
  - send: Heartbeat
    expect: {currentTime: {$type: string}}
"""
    assert run(scenario(tmp_path, body), "--json", tmp_path / "r.json") == 0
    steps = json.loads((tmp_path / "r.json").read_text())["scenarios"][0]["steps"]
    assert [s["status"] for s in steps] == ["passed", "passed", "failed", "passed"]
    assert "expected CALLERROR NotImplemented, got a CALLRESULT" in steps[2]["message"]


def test_await_with_reply_shapes_the_answer_and_its_effects(tmp_path: Path) -> None:
    body = """
mock_csms:
  on_request:
    - when: {action: StatusNotification, match: {connectorId: 1, status: Preparing}}
      send: {action: RemoteStartTransaction, payload: {idTag: R-1, connectorId: 1}}
    - when: {action: StatusNotification, match: {connectorId: 2, status: Preparing}}
      send: {action: RemoteStartTransaction, payload: {idTag: R-2, connectorId: 2}}
steps:
  - plug_in: {connector: 1}
  - await: RemoteStartTransaction
    within: 3s
    reply: {status: Rejected}
  - plug_in: {connector: 2}
  - await: RemoteStartTransaction
    within: 3s
    expect: {idTag: R-2}
    reply: {status: Accepted}
  - expect_state:
      connectors:
        1: {status: Preparing, transaction_id: null}
        2: {status: Charging, id_tag: R-2}
"""
    assert run(scenario(tmp_path, body), "--transcript", tmp_path / "t.jsonl") == 0
    answers = [
        r["frame"][2]
        for r in transcript(tmp_path / "t.jsonl")
        if r["direction"] == "out" and r["frame"][0] == 3
    ]
    assert {"status": "Rejected"} in answers and {"status": "Accepted"} in answers


def test_await_takes_from_the_inbox_but_cannot_reply_to_an_answered_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = """
mock_csms:
  on_request:
    - when: {action: Heartbeat}
      send: {action: ClearCache}
steps:
  - send: Heartbeat
  - wait: 1s
  - await: ClearCache
    within: 2s
  - send: Heartbeat
  - await: ClearCache
    within: 500ms
    continue_on_failure: true
  - send: Heartbeat
  - wait: 1s
  - await: ClearCache
    reply_error: {code: InternalError}
"""
    assert run(scenario(tmp_path, body)) == 1
    out = capsys.readouterr().out
    assert "no ClearCache from the CSMS within 0.5 s" in out  # times: 1, so no second one
    assert "already answered by the station model" not in out or "ClearCache" in out


def test_await_reply_error_answers_with_a_callerror(tmp_path: Path) -> None:
    body = """
mock_csms:
  on_request:
    - when: {action: StatusNotification, match: {connectorId: 1, status: Preparing}}
      send: {action: UnlockConnector, payload: {connectorId: 1}}
steps:
  - plug_in: {connector: 1}
  - await: UnlockConnector
    within: 3s
    reply_error: {code: InternalError, description: lock jammed}
"""
    assert run(scenario(tmp_path, body), "--transcript", tmp_path / "t.jsonl") == 0
    errors = [r["frame"] for r in transcript(tmp_path / "t.jsonl") if r["frame"][0] == 4]
    assert errors[0][2:4] == ["InternalError", "lock jammed"]


def test_a_ten_hour_session_at_speed_0_takes_well_under_the_wall_time(tmp_path: Path) -> None:
    body = """
steps:
  - session: {connector: 1, id_tag: TAG-1, power: 11kW, duration: 10h}
"""
    header = HEADER.replace(
        "connectors: 2}}", "connectors: 1, configuration: {{MeterValueSampleInterval: 60}}}}"
    )
    started = time.perf_counter()
    assert (
        run(scenario(tmp_path, body, header=header), "-q", "--transcript", tmp_path / "t.jsonl")
        == 0
    )
    elapsed = time.perf_counter() - started
    records = transcript(tmp_path / "t.jsonl")
    values = sent(records, "MeterValues")
    assert len(values) == 600
    assert values[-1]["meterValue"][0]["sampledValue"][0]["value"] == "110000"
    assert values[-1]["meterValue"][0]["timestamp"] == "2025-06-01T18:00:00Z"
    assert sent(records, "StopTransaction")[0]["meterStop"] == 110_000
    assert elapsed < 30 * UNIT  # the benchmark measures it; this only catches real waiting


def test_speed_above_0_waits_in_scaled_real_time(tmp_path: Path) -> None:
    header = HEADER.replace("speed: 0", "speed: 20")
    started = time.perf_counter()
    assert run(scenario(tmp_path, "steps:\n  - wait: 10s\n", header=header), "-q") == 0
    assert 0.5 <= time.perf_counter() - started < 0.5 + 3 * UNIT


def test_expect_state_failure_names_what_differs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = """
steps:
  - plug_in: {connector: 1}
  - expect_state:
      connectors: {1: {status: Charging}}
      configuration: {HeartbeatInterval: 300}
"""
    assert run(scenario(tmp_path, body)) == 1
    assert "connectors.1.status: expected 'Charging', got 'Preparing'" in capsys.readouterr().out

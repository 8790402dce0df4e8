"""``mockpoint run --pack``: case selection, inputs and skips, prompts, coverage."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import UNIT
from mockpoint.cli.main import main
from mockpoint.errors import UsageError
from mockpoint.packs import PACKS, pack_files


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")


def test_cases_are_selected_by_number() -> None:
    every = pack_files("ocpp16-csms")
    assert len(every) >= 2 and every == sorted(every)
    assert [f.stem for f in pack_files("ocpp16-csms", ["TC_010", "tc_001_csms"])] == [
        "TC_001_CSMS",
        "TC_010_CSMS",
    ]
    with pytest.raises(UsageError, match="no case TC_999"):
        pack_files("ocpp16-csms", ["TC_999"])
    with pytest.raises(UsageError, match="unknown pack"):
        pack_files("ocpp99")


def test_every_pack_file_is_named_after_its_case() -> None:
    for path in PACKS["ocpp16-csms"].glob("*.yaml"):
        assert path.stem.startswith("TC_") and path.stem.endswith("_CSMS")
        assert path.read_text(encoding="utf-8").startswith(f"name: {path.stem} ")


def test_the_pack_passes_against_the_embedded_csms(tmp_path: Path) -> None:
    assert main(["run", "--pack", "ocpp16-csms", "-q", "--json", str(tmp_path / "r.json")]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    summary = report["summary"]
    assert summary["failed"] == 0
    assert summary["passed"] + summary["skipped"] == len(pack_files("ocpp16-csms"))
    skipped = [s["name"][:11] for s in report["scenarios"] if s["status"] == "skipped"]
    # Only the security cases need more than the embedded CSMS (a secured CSMS of your own).
    assert skipped == ["TC_073_CSMS", "TC_083_CSMS", "TC_085_CSMS", "TC_086_CSMS", "TC_087_CSMS"]


def frames_of(path: Path) -> list[tuple[str, list[Any]]]:
    """(direction, frame) of every frame in a ``--transcript`` file, in order."""
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [(r["direction"], r["frame"]) for r in records]


def answer_to(frames: list[tuple[str, list[Any]]], action: str) -> tuple[int, int, list[Any]]:
    """Where the charge point's CALL of ``action`` went out, where its answer came in, and
    the answer."""
    (call_at,) = [
        i for i, (d, f) in enumerate(frames) if d == "out" and f[:1] == [2] and f[2] == action
    ]
    unique_id = frames[call_at][1][1]
    (answer_at,) = [
        i for i, (d, f) in enumerate(frames) if d == "in" and f[0] in (3, 4) and f[1] == unique_id
    ]
    return call_at, answer_at, frames[answer_at][1]


def pack_case_with(tmp_path: Path, case: str, mock_csms: dict[str, Any]) -> Path:
    """A copy of pack case ``case`` whose ``mock_csms`` block has ``mock_csms``'s keys too."""
    (source,) = pack_files("ocpp16-csms", [case])
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    data["mock_csms"] = {**data.get("mock_csms", {}), **mock_csms}
    path = tmp_path / source.name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_tc_054_firmware_management_triggers_are_accepted_then_sent_idle(tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    args = ["run", "--pack", "ocpp16-csms", "--only", "TC_054", "-q"]
    assert main([*args, "--transcript", str(transcript)]) == 0
    frames = frames_of(transcript)
    for requested in ("DiagnosticsStatusNotification", "FirmwareStatusNotification"):
        (trigger_at,) = [
            i
            for i, (d, f) in enumerate(frames)
            if d == "in" and f[:1] == [2] and f[3] == {"requestedMessage": requested}
        ]
        trigger_id = frames[trigger_at][1][1]
        (accepted_at,) = [
            i for i, (d, f) in enumerate(frames) if d == "out" and f[:2] == [3, trigger_id]
        ]
        assert frames[accepted_at][1][2] == {"status": "Accepted"}
        sent_at, answered_at, answer = answer_to(frames, requested)
        assert frames[sent_at][1][3] == {"status": "Idle"}
        # OCPP-J §4.1.1: the TriggerMessage is answered before the message it asks for.
        assert trigger_at < accepted_at < sent_at < answered_at
        assert answer[0] == 3 and answer[2] == {}  # the embedded CSMS answers it (§6.19, §6.25)


@pytest.mark.parametrize("refused", ["DiagnosticsStatusNotification", "FirmwareStatusNotification"])
def test_tc_054_fails_a_csms_that_refuses_a_firmware_management_notification(
    refused: str, tmp_path: Path
) -> None:
    case = pack_case_with(tmp_path, "TC_054", {"answers": {refused: {"error": "NotImplemented"}}})
    assert main(["run", str(case), "-q", "--json", str(tmp_path / "r.json")]) == 1
    steps = json.loads((tmp_path / "r.json").read_text())["scenarios"][0]["steps"]
    failed = [s for s in steps if s["status"] == "failed"]
    assert [s["label"] for s in failed] == [f"the CSMS answers {refused} (status Idle)"]
    assert refused in failed[0]["message"] and "NotImplemented" in failed[0]["message"]


@pytest.mark.parametrize("status", ["Accepted", "Rejected", "UnknownMessageId", "UnknownVendorId"])
def test_tc_064_takes_any_status_a_csms_may_answer(status: str, tmp_path: Path) -> None:
    answers = {"answers": {"DataTransfer": {"payload": {"status": status}}}}
    transcript = tmp_path / "t.jsonl"
    case = pack_case_with(tmp_path, "TC_064", answers)
    assert main(["run", str(case), "-q", "--transcript", str(transcript)]) == 0
    sent_at, _, answer = answer_to(frames_of(transcript), "DataTransfer")
    assert frames_of(transcript)[sent_at][1][3]["vendorId"] == "org.mockpoint.octt.unknown-vendor"
    assert answer[2] == {"status": status}


def test_tc_064_fails_a_csms_that_answers_a_data_transfer_with_an_error(tmp_path: Path) -> None:
    answers = {"answers": {"DataTransfer": {"error": "NotImplemented"}}}
    case = pack_case_with(tmp_path, "TC_064", answers)
    assert main(["run", str(case), "-q", "--json", str(tmp_path / "r.json")]) == 1
    (step,) = [
        s
        for s in json.loads((tmp_path / "r.json").read_text())["scenarios"][0]["steps"]
        if s["status"] == "failed"
    ]
    assert step["label"] == "send DataTransfer" and "NotImplemented" in step["message"]


def test_usage_errors() -> None:
    assert main(["run", "--only", "TC_001"]) == 2
    assert main(["run"]) == 2
    assert main(["run", "--pack", "ocpp16-csms", "--tag", "vip=X"]) == 2
    assert main(["run", "--pack", "ocpp16-csms", "--var", "novalue"]) == 2


@pytest.fixture
def standalone_csms() -> Iterator[str]:
    """``mockpoint csms`` in its own process: a CSMS that nobody drives."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "mockpoint", "csms", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10 * UNIT
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"ws://127.0.0.1:{port}/ocpp"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.slow
def test_against_a_real_csms_inputs_skip_and_prompts_wait(
    tmp_path: Path, standalone_csms: str, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "needs-tags.yaml"
    scenario.write_text(
        "name: needs a blocked tag\n"
        "clock: {speed: 0}\n"
        "steps:\n"
        "  - authorize: {id_tag: '${TAG_BLOCKED}'}\n"
        "    expect: {idTagInfo: {status: Blocked}}\n",
        encoding="utf-8",
    )
    args = ["run", str(scenario), "--csms", standalone_csms, "--json", str(tmp_path / "r.json")]
    assert main(args) == 0  # skipped is not failed
    out = capsys.readouterr().out
    assert "needs an idTag the CSMS blocks: set --tag blocked=ID (TAG_BLOCKED)" in out
    assert json.loads((tmp_path / "r.json").read_text())["scenarios"][0]["status"] == "skipped"

    assert main([*args, "--tag", "blocked=BLOCKED-77"]) == 0  # the mock CSMS blocks it

    # Nobody drives this CSMS: the remote start never comes; the prompt says what to do.
    started = time.perf_counter()
    code = main(
        [
            "run",
            "--pack",
            "ocpp16-csms",
            "--only",
            "TC_010",
            "--csms",
            standalone_csms,
            "--wait-for-csms",
            "0.5",
            "--cp-id",
            "CP-DRIVEN-BY-HAND",
        ]
    )
    assert code == 1
    assert time.perf_counter() - started < 0.5 + 5 * UNIT
    out = capsys.readouterr().out
    assert "TC_010: start a transaction remotely" in out
    assert "waiting for RemoteStartTransaction from the CSMS (up to 0.5 s)" in out
    assert "CP-DRIVEN-BY-HAND" in out


def test_coverage_file_and_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "04-remote-start-and-stop.yaml"
    assert main(["run", str(example), "-v", "--coverage", str(tmp_path / "c.json")]) == 0
    coverage = json.loads((tmp_path / "c.json").read_text())
    remote_start = next(a for a in coverage["actions"] if a["action"] == "RemoteStartTransaction")
    assert remote_start["direction"] == "csms_to_cp" and remote_start["calls"] == 1
    assert any(u["action"] == "Reset" for u in coverage["untested"])
    assert "in-scope action directions exercised" in capsys.readouterr().out

"""``mockpoint run --pack``: case selection, inputs and skips, prompts, coverage."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

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
    assert "waiting up to 0.5 s for RemoteStartTransaction" in out
    assert "CP-DRIVEN-BY-HAND" in out


def test_coverage_file_and_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "04-remote-start-and-stop.yaml"
    assert main(["run", str(example), "-v", "--coverage", str(tmp_path / "c.json")]) == 0
    coverage = json.loads((tmp_path / "c.json").read_text())
    remote_start = next(a for a in coverage["actions"] if a["action"] == "RemoteStartTransaction")
    assert remote_start["direction"] == "csms_to_cp" and remote_start["calls"] == 1
    assert any(u["action"] == "Reset" for u in coverage["untested"])
    assert "in-scope action directions exercised" in capsys.readouterr().out

"""A run looks like a real charge point to a CSMS it names, and is reproducible against the
embedded one (docs/behaviour.md, "Time and ids"), over loopback
WebSockets: unless the file or the command line pins them, the clock starts at the wall-clock
time and the seed is drawn fresh against a stand-alone CSMS, so message ids never repeat
between runs; against the embedded mock CSMS both are pinned. The seed is in every report
and ``--seed`` replays it. The Python API follows the same rule."""

from __future__ import annotations

import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

import mockpoint
from csms_process import Csms
from mockpoint.assembly import PINNED_START, seed_and_start
from mockpoint.cli.main import main
from mockpoint.clock import parse_timestamp

#: Neither seed nor clock.start: the run decides both.
UNPINNED = """name: {name}
charge_point: {{id: CP-FRESH, connectors: 1}}
clock: {{speed: 0}}
timeout: 5s
steps:
  - plug_in: {{connector: 1}}
  - authorize: {{id_tag: TAG-1}}
  - start_transaction: {{connector: 1, id_tag: TAG-1}}
  - charge: {{connector: 1, power: 7kW, duration: 10m}}
  - stop_transaction: {{connector: 1}}
"""


def scenario(tmp_path: Path, extra: str = "", name: str = "fresh") -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(UNPINNED.format(name=name) + extra, encoding="utf-8")
    return path


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def sent_ids(path: Path) -> list[str]:
    """The unique ids of the CALLs the charge point sent, in order."""
    return [r["frame"][1] for r in records(path) if r["direction"] == "out" and r["frame"][0] == 2]


def run(path: Path, out: Path, *args: str) -> dict[str, Any]:
    """Run ``path`` with a transcript and the JSON and JUnit reports in ``out``; the JSON
    report's scenario."""
    out.mkdir(exist_ok=True)
    code = main(
        [
            "run",
            "-q",
            str(path),
            "--transcript",
            str(out / "t.jsonl"),
            "--json",
            str(out / "r.json"),
            "--junit",
            str(out / "j.xml"),
            *args,
        ]
    )
    assert code == 0
    scenario: dict[str, Any] = json.loads((out / "r.json").read_text())["scenarios"][0]
    return scenario


def junit_seed(out: Path) -> str | None:
    case = ET.parse(out / "j.xml").getroot().find("testsuite/testcase")
    assert case is not None
    found = case.find("properties/property[@name='seed']")
    return None if found is None else found.get("value")


# --- against a CSMS the run names ---------------------------------------------------------


@pytest.mark.slow
def test_two_runs_against_a_named_csms_never_send_the_same_message_id(
    tmp_path: Path, csms: Csms
) -> None:
    path = scenario(tmp_path)
    before = time.time()
    first = run(path, tmp_path / "1", "--csms", csms.url)
    second = run(path, tmp_path / "2", "--csms", csms.url)
    after = time.time()
    assert isinstance(first["seed"], int) and isinstance(second["seed"], int)
    assert first["seed"] != second["seed"]
    one, two = sent_ids(tmp_path / "1" / "t.jsonl"), sent_ids(tmp_path / "2" / "t.jsonl")
    assert len(one) == len(two) >= 8
    assert not set(one) & set(two)
    # What the CSMS itself received: every id once.
    received = [uid for uid, _ in csms.calls()]
    assert len(received) == len(one) + len(two) == len(set(received))
    # The seed is in the JUnit report too.
    assert junit_seed(tmp_path / "1") == str(first["seed"])
    # The clock started at the wall-clock time of the run, not in 2025.
    for out in (tmp_path / "1", tmp_path / "2"):
        started = parse_timestamp(records(out / "t.jsonl")[0]["virtual_time"])
        assert before - 1 <= started <= after + 1


@pytest.mark.slow
def test_seed_replays_the_ids_of_a_run(tmp_path: Path, csms: Csms) -> None:
    path = scenario(tmp_path)
    first = run(path, tmp_path / "1", "--csms", csms.url)
    again = run(path, tmp_path / "2", "--csms", csms.url, "--seed", str(first["seed"]))
    assert again["seed"] == first["seed"]
    assert sent_ids(tmp_path / "2" / "t.jsonl") == sent_ids(tmp_path / "1" / "t.jsonl")


@pytest.mark.slow
def test_a_files_seed_and_start_are_kept_against_a_named_csms(tmp_path: Path, csms: Csms) -> None:
    path = tmp_path / "pinned.yaml"
    text = (
        scenario(tmp_path)
        .read_text()
        .replace("clock: {speed: 0}", "seed: 42\nclock: {speed: 0, start: 2026-01-02T03:04:05Z}")
    )
    path.write_text(text, encoding="utf-8")
    first = run(path, tmp_path / "1", "--csms", csms.url)
    second = run(path, tmp_path / "2", "--csms", csms.url)
    assert first["seed"] == second["seed"] == 42
    assert sent_ids(tmp_path / "1" / "t.jsonl") == sent_ids(tmp_path / "2" / "t.jsonl")
    assert records(tmp_path / "1" / "t.jsonl")[0]["virtual_time"] == "2026-01-02T03:04:05Z"
    # --seed wins over the file's.
    assert run(path, tmp_path / "3", "--csms", csms.url, "--seed", "7")["seed"] == 7


# --- against the embedded mock CSMS --------------------------------------------------------


def test_two_runs_against_the_embedded_csms_give_byte_identical_transcripts(
    tmp_path: Path,
) -> None:
    path = scenario(tmp_path)
    texts = []
    for n in (1, 2):
        report = run(path, tmp_path / str(n))
        assert report["seed"] == 0
        assert junit_seed(tmp_path / str(n)) == "0"
        lines = []
        for record in records(tmp_path / str(n) / "t.jsonl"):
            del record["wall_time"]
            lines.append(json.dumps(record, separators=(",", ":")))
        texts.append("\n".join(lines))
    assert texts[0] == texts[1]
    assert texts[0].count('"direction":"out"') >= 8
    assert records(tmp_path / "1" / "t.jsonl")[0]["virtual_time"] == "2025-06-01T08:00:00Z"


def test_the_console_says_the_seed_and_how_to_replay_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", str(scenario(tmp_path)), "--seed", "1234567"]) == 0
    assert "  seed 1234567 (replay with --seed 1234567)" in capsys.readouterr().out.splitlines()


# --- one rule, one place ---------------------------------------------------------------------


def test_seed_and_start_decides_as_the_product_says() -> None:
    assert seed_and_start(None, None, embedded=True) == (0, PINNED_START.timestamp())
    assert PINNED_START.isoformat() == "2025-06-01T08:00:00+00:00"
    seeds = set()
    for _ in range(5):
        seed, start = seed_and_start(None, None, embedded=False)
        assert abs(start - time.time()) < 5
        seeds.add(seed)
    assert len(seeds) == 5  # drawn from the operating system every time
    assert seed_and_start(9, PINNED_START, embedded=False) == (9, PINNED_START.timestamp())


class _Ids:
    """Records the unique ids of the CALLs a charge point sends."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def frame(self, direction: str, text: str) -> None:
        frame = json.loads(text)
        if direction == "out" and frame[0] == 2:
            self.sent.append(frame[1])

    def violation(self, event: object) -> None:
        pass


async def _session(url: str, **options: Any) -> tuple[list[str], int | None]:
    ids = _Ids()
    async with mockpoint.charge_point(url, "CP-API", observer=ids, **options) as cp:
        await cp.plug_in(1)
        await cp.start_transaction(1, "TAG-1")
        await cp.stop_transaction(1)
    return ids.sent, cp.seed


async def test_the_api_draws_a_fresh_seed_unless_given_one() -> None:
    async with mockpoint.MockCsms() as csms:
        one, seed = await _session(csms.url)
        two, other = await _session(csms.url)
        assert isinstance(seed, int) and seed != other
        assert not set(one) & set(two)
        again, same = await _session(csms.url, seed=seed)
        assert (again, same) == (one, seed)


async def test_the_api_runs_a_file_with_the_runners_rule(tmp_path: Path) -> None:
    path = scenario(tmp_path)
    outcome = await mockpoint.run_scenario(path)
    assert outcome.status == "passed" and outcome.seed == 0
    assert outcome.frames[0].virtual_time == "2025-06-01T08:00:00Z"
    replayed = await mockpoint.run_scenario(path, seed=5)
    assert replayed.seed == 5
    assert replayed.frames[0].frame[1] != outcome.frames[0].frame[1]

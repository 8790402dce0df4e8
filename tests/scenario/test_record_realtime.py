"""``mockpoint record`` of a session whose clock ran by itself: the shell at real time.

Every frame of such a session goes out a few milliseconds after its cause and the station's
timers drift, so nothing lands on the whole second a scenario would say. The recording must
still read as what the person did (station verbs, whole-second waits, a charge at a plain
power) and must pass ``mockpoint validate``: its configuration too (a sample interval of
60.017 s is no integer). One test records a real shell session at clock speed 1 over a
loopback WebSocket; the others make the examples' speed-0 transcripts jittery, as a
running clock would have written them, and expect the very recording of the original.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import UNIT
from mockpoint.cli.main import main
from mockpoint.clock import format_timestamp, parse_timestamp
from mockpoint.scenario.record import read_records, record_scenario, to_yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

#: how much later a station's meter sample comes each time at real time (its timer is set
#: again when it fired, a little late)
DRIFT = 0.017


def jittery(text: str, seed: int) -> str:
    """A speed-0 transcript as a running clock would have written it: each frame a few
    milliseconds after its cause, the answer after its request, and every meter sample
    later than the one before by :data:`DRIFT`, which moves everything after it too."""
    rnd = random.Random(seed)
    drift = 0.0
    lines = []
    for line in text.splitlines():
        record = json.loads(line)
        frame = record["frame"]
        request = record["direction"] == "out" and frame[0] == 2
        if request and frame[2] == "MeterValues":
            drift += DRIFT
        late = drift + rnd.uniform(0.001, 0.004)
        record["virtual_time"] = shifted(record["virtual_time"], late)
        if request:
            frame[3] = stamped(frame[3], late - 0.0005)
        lines.append(json.dumps(record))
    return "\n".join(lines) + "\n"


def shifted(time: str, seconds: float) -> str:
    return format_timestamp(parse_timestamp(time) + seconds)


def stamped(node: Any, seconds: float) -> Any:
    """``node`` with every ``timestamp`` in it ``seconds`` later."""
    if isinstance(node, dict):
        return {
            key: shifted(value, seconds) if key == "timestamp" else stamped(value, seconds)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [stamped(item, seconds) for item in node]
    return node


def recorded(text: str) -> dict[str, Any]:
    records, origin = read_records(text, "session.jsonl")
    recording = record_scenario(records, origin=origin, source="session.jsonl")
    assert recording.warnings == []
    return recording.scenario


@pytest.mark.parametrize(
    "example",
    [
        "02-plug-in-first-charging.yaml",  # 30 samples, heartbeats between them
        "03-authorize-first-charging.yaml",  # two connectors charging at once
        "04-remote-start-and-stop.yaml",  # the CSMS's requests; sample interval 300
        "07-reset.yaml",  # a reset during a transaction; an inferred sample interval
    ],
)
def test_a_jittery_transcript_records_as_the_frozen_one_and_validates(
    example: str, tmp_path: Path
) -> None:
    frozen = tmp_path / "frozen.jsonl"
    assert main(["run", "-q", str(EXAMPLES / example), "--transcript", str(frozen)]) == 0
    text = frozen.read_text(encoding="utf-8")
    running = jittery(text, seed=len(example))
    assert running != text
    expected, got = recorded(text), recorded(running)
    assert got == expected  # the clock start, the configuration, every step
    for key, value in got["charge_point"].get("configuration", {}).items():
        assert not isinstance(value, float), key  # a float is no valid key's value here
    path = tmp_path / "recorded.yaml"
    path.write_text(to_yaml(got), encoding="utf-8")
    assert main(["validate", str(path)]) == 0


def shell_session(tmp_path: Path, script: str) -> Path:
    """``mockpoint shell`` at real time against its embedded mock CSMS, driven by
    ``script``; returns its transcript."""
    scenario = tmp_path / "cp.yaml"
    scenario.write_text(
        "name: at real time\n"
        "charge_point: {id: CP-RT, configuration: {MeterValueSampleInterval: 2}}\n"
        "clock: {speed: 1}\n"
        "steps:\n  - wait: 0s\n",
        encoding="utf-8",
    )
    transcript = tmp_path / "session.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "mockpoint", "shell", "--scenario", str(scenario)]
        + ["--transcript", str(transcript)],
        input=script,
        capture_output=True,
        text=True,
        timeout=30 * UNIT,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return transcript


def actions_sent(transcript: Path) -> list[str]:
    return [
        record["frame"][2]
        for record in map(json.loads, transcript.read_text(encoding="utf-8").splitlines())
        if record["direction"] == "out" and record["frame"][0] == 2
    ]


@pytest.mark.slow
def test_a_real_time_shell_session_records_as_it_was_typed_and_replays(tmp_path: Path) -> None:
    """About 6 s of real time: samples every 2 s during a 3 s charge, the stop 2 s later
    (each a second away from the timers, which drift by milliseconds)."""
    saved = tmp_path / "saved.yaml"
    script = "plug 1\nauthorize TAG-1\nstart 1 TAG-1\ncharge 1 11kW 3s\nwait 2\nstop 1\nunplug 1\n"
    transcript = shell_session(tmp_path, script + f"save {saved}\n")
    assert actions_sent(transcript).count("MeterValues") == 2
    output = tmp_path / "recorded.yaml"
    assert main(["record", str(transcript), "-o", str(output)]) == 0
    assert main(["validate", str(output)]) == 0
    scenario = yaml.safe_load(output.read_text(encoding="utf-8"))
    assert scenario["clock"]["start"].endswith(":00Z")  # a whole second
    assert scenario["charge_point"]["configuration"] == {"MeterValueSampleInterval": 2}
    steps = scenario["steps"]
    kinds = [next(iter(step)) for step in steps]
    # what the person did, nothing the station did by itself (status reports, samples)
    assert kinds[:4] == ["send", "plug_in", "authorize", "start_transaction"]
    assert kinds[-2:] == ["stop_transaction", "unplug"]
    assert set(kinds[4:-2]) <= {"charge", "wait"} and "charge" in kinds[4:-2]
    assert [step for step in steps if "send" in step] == steps[:1]  # the boot
    timed = [step.get("wait") or step["charge"]["duration"] for step in steps[4:-2]]
    assert all(duration.endswith("s") and duration[:-1].isdigit() for duration in timed)
    assert sum(int(duration[:-1]) for duration in timed) in (5, 6)
    # The shell's own save is the same recording.
    assert yaml.safe_load(saved.read_text(encoding="utf-8"))["steps"] == steps
    # The replay takes the same steps at speed 0: the same frames, on whole seconds.
    replay = tmp_path / "replay.jsonl"
    assert main(["run", "-q", str(output), "--transcript", str(replay)]) == 0
    assert actions_sent(replay) == actions_sent(transcript)

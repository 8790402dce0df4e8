"""``--state FILE`` keeps the unique-id sequence going across restarts: a restarted charge
point never sends an id of an earlier session, which a CSMS would take for a retransmission
(OCPP-J 1.6 §4.1.3) — not after a clean stop, not after being killed. Checked over loopback
WebSockets in the CSMS's own frame log, and on the generator itself."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import UNIT
from csms_process import Csms
from mockpoint.cli.main import main
from mockpoint.errors import UsageError
from mockpoint.ids import SeededIds
from mockpoint.station.persist import IdsPosition, read_ids

SESSION = """name: {name}
charge_point: {{id: CP-IDS, connectors: 1}}
{seed}clock: {{speed: 0}}
timeout: 5s
steps:
  - plug_in: {{connector: 1}}
  - start_transaction: {{connector: 1, id_tag: TAG-1}}
  - charge: {{connector: 1, power: 7kW, duration: 5m}}
  - stop_transaction: {{connector: 1}}
  - unplug: {{connector: 1}}
"""

# Sends a few messages, then waits (real seconds) for a request that never comes: time to
# kill it, as a power cut would.
HANG = """  - await: RemoteStartTransaction
    within: 600s
"""


def scenario(tmp_path: Path, name: str, *, seed: int | None = None, tail: str = "") -> Path:
    path = tmp_path / f"{name}.yaml"
    pinned = "" if seed is None else f"seed: {seed}\n"
    path.write_text(SESSION.format(name=name, seed=pinned) + tail, encoding="utf-8")
    return path


def sent_ids(transcript: Path) -> list[str]:
    """The unique ids of the CALLs the charge point sent, from a --transcript."""
    records = [json.loads(line) for line in transcript.read_text(encoding="utf-8").splitlines()]
    return [r["frame"][1] for r in records if r["direction"] == "out" and r["frame"][0] == 2]


def csms_ids(csms: Csms) -> list[str]:
    return [uid for uid, _ in csms.calls()]


def unplugged(csms: Csms) -> bool:
    """Whether the CSMS has received connector 1's Available after the StopTransaction."""
    actions = [
        (f["frame"][2], f["frame"][3])
        for f in csms.frames()
        if f["direction"] == "in" and isinstance(f["frame"], list) and f["frame"][0] == 2
    ]
    stops = [n for n, (action, _) in enumerate(actions) if action == "StopTransaction"]
    return bool(stops) and any(
        action == "StatusNotification"
        and payload.get("connectorId") == 1
        and payload.get("status") == "Available"
        for action, payload in actions[stops[0] + 1 :]
    )


def saved(state: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads(state.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return data


# --- the generator ---------------------------------------------------------------------------


def test_skip_to_goes_on_with_the_same_sequence() -> None:
    first = SeededIds(5)
    ids = [first() for _ in range(10)]
    restarted = SeededIds(5)
    restarted.skip_to(4)
    assert [restarted() for _ in range(6)] == ids[4:]
    assert restarted.drawn == 10
    with pytest.raises(ValueError, match="behind"):
        restarted.skip_to(3)


def test_a_reserved_position_is_on_record_before_an_id_past_it_goes_out() -> None:
    ids = SeededIds(1)
    ids.skip_to(2)
    recorded: list[tuple[int, int]] = []  # (position recorded, ids handed out then)
    ids.reserve_with(lambda position: recorded.append((position, ids.drawn)), block=3)
    assert ids.reserved == 2
    for _ in range(7):
        ids()
        assert ids.drawn <= ids.reserved == recorded[-1][0]
    # Recorded before the 1st, 4th and 7th id: always ahead of what went out.
    assert recorded == [(5, 2), (8, 5), (11, 8)]
    ids.reserve_with(None)
    for _ in range(5):
        ids()
    assert len(recorded) == 3


def test_the_position_in_a_state_file_is_checked() -> None:
    assert read_ids({"format": "x"}, source="s.json") is None  # an older file
    position = read_ids({"ids": {"seed": 7, "next": 64}}, source="s.json")
    assert position == IdsPosition(7, 64)
    with pytest.raises(UsageError, match=r"state file s\.json: ids\.next: expected 0 or more"):
        read_ids({"ids": {"seed": 7, "next": -1}}, source="s.json")
    with pytest.raises(UsageError, match=r"ids\.seed: expected an integer or a string"):
        read_ids({"ids": {"seed": True, "next": 1}}, source="s.json")


# --- restarts, over a real WebSocket ----------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3, None], ids=["pinned seed", "fresh seed"])
def test_two_runs_with_one_state_file_never_send_the_same_id(
    tmp_path: Path, csms: Csms, seed: int | None
) -> None:
    path, state = scenario(tmp_path, "session", seed=seed), tmp_path / "cp.state.json"
    seeds = []
    for n in (1, 2):
        report = tmp_path / f"{n}.json"
        args = ["run", "-q", str(path), "--state", str(state), "--csms", csms.url]
        assert main([*args, "--json", str(report)]) == 0
        seeds.append(json.loads(report.read_text())["scenarios"][0]["seed"])
        data = saved(state)
        assert data is not None and data["ids"]["seed"] == seeds[0]
    # The restarted charge point went on with the sequence of the first (--seed or not).
    assert seeds[0] == seeds[1] and (seed is None or seeds[0] == seed)
    received = csms_ids(csms)
    assert len(received) >= 2 * 8
    assert len(set(received)) == len(received)


@pytest.mark.slow
def test_with_the_embedded_csms_too(tmp_path: Path) -> None:
    path, state = scenario(tmp_path, "embedded"), tmp_path / "cp.state.json"
    runs = []
    for n in (1, 2):
        transcript = tmp_path / f"{n}.jsonl"
        args = ["run", "-q", str(path), "--state", str(state), "--transcript", str(transcript)]
        assert main(args) == 0
        runs.append(sent_ids(transcript))
    assert runs[0] and runs[1]
    assert not set(runs[0]) & set(runs[1])


@pytest.mark.slow
def test_killed_and_restarted_it_never_repeats_an_id(tmp_path: Path, csms: Csms) -> None:
    state, log = tmp_path / "cp.state.json", tmp_path / "1.log"
    first = scenario(tmp_path, "killed", seed=11, tail=HANG)
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "mockpoint", "run", str(first), "--state", str(state)]
            + ["--csms", csms.url],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 20 * UNIT
        # Killed once it is waiting: every step before the await has sent its messages, the
        # last being the unplug's StatusNotification (on record before it went out).
        while not unplugged(csms):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, csms.calls()
            time.sleep(0.02)
    finally:
        process.kill()  # no chance to save anything more
        process.wait(timeout=10 * UNIT)
    before = csms_ids(csms)
    again = scenario(tmp_path, "restarted", seed=11)
    assert main(["run", "-q", str(again), "--state", str(state), "--csms", csms.url]) == 0
    received = csms_ids(csms)
    assert len(received) > len(before) >= 5
    assert len(set(received)) == len(received)

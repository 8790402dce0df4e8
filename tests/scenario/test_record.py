"""``mockpoint record``: frames → a scenario, and the round trip run → record → run.

The unit tests build frames by hand; the end-to-end tests run examples over loopback
WebSockets, record their transcript (or the mock CSMS's frame log) and run the recording
again: it passes and its transcript equals the original frame for frame.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import UNIT
from csms_process import Csms
from mockpoint.cli.main import main
from mockpoint.clock import format_timestamp, parse_timestamp
from mockpoint.errors import UsageError
from mockpoint.ids import SeededIds
from mockpoint.scenario.loader import load_scenario
from mockpoint.scenario.record import (
    Record,
    find_seed,
    read_records,
    record_scenario,
    to_yaml,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
T0 = "2025-06-01T08:00:00Z"


class Frames:
    """A transcript written by hand: CALLs get the ids a scenario with seed 0 would use."""

    def __init__(self, cp: str = "CP-R") -> None:
        self.cp = cp
        self.lines: list[dict[str, Any]] = []
        self._ids = SeededIds(0)
        self._csms_ids = 0

    def add(self, direction: str, frame: list[Any], time: str = T0) -> None:
        self.lines.append(
            {
                "seq": len(self.lines) + 1,
                "cp": self.cp,
                "direction": direction,
                "frame": frame,
                "virtual_time": time,
                "wall_time": "2026-01-01T00:00:00.000Z",
            }
        )

    def exchange(
        self,
        action: str,
        payload: dict[str, Any],
        answer: Any,
        time: str = T0,
        answered: str | None = None,
    ) -> None:
        """A CALL of the charge point and the CSMS's answer (a payload or an error code),
        which comes at ``answered`` (at once by default: a clock at speed 0)."""
        unique_id = self._ids()
        self.add("out", [2, unique_id, action, payload], time)
        if isinstance(answer, str):
            self.add("in", [4, unique_id, answer, "", {}], answered or time)
        else:
            self.add("in", [3, unique_id, answer], answered or time)

    def request(self, action: str, payload: dict[str, Any], answer: dict[str, Any]) -> None:
        """A CSMS request and the charge point's answer."""
        self._csms_ids += 1
        unique_id = f"csms-{self._csms_ids}"
        self.add("in", [2, unique_id, action, payload])
        self.add("out", [3, unique_id, answer])

    def boot(self, connectors: int = 1, time: str = T0) -> None:
        boot = {"chargePointVendor": "Acme", "chargePointModel": "AC22"}
        answer = {"status": "Accepted", "currentTime": time, "interval": 300}
        self.exchange("BootNotification", boot, answer, time)
        for connector in range(connectors + 1):
            status = {
                "connectorId": connector,
                "errorCode": "NoError",
                "status": "Available",
                "timestamp": time,
            }
            self.exchange("StatusNotification", status, {}, time)

    def text(self) -> str:
        return "".join(json.dumps(line) + "\n" for line in self.lines)

    def records(self) -> list[Record]:
        return read_records(self.text(), "t.jsonl")[0]


def at(seconds: float) -> str:
    """The time ``seconds`` after T0, to the millisecond."""
    return format_timestamp(parse_timestamp(T0) + seconds)


def status(connector: int, state: str, seconds: float) -> dict[str, Any]:
    """A StatusNotification as the station writes it."""
    return {
        "connectorId": connector,
        "errorCode": "NoError",
        "status": state,
        "timestamp": at(seconds),
    }


def running_boot(frames: Frames, first: float = 0.008) -> None:
    """A boot at a clock that runs: every frame a few milliseconds after its cause."""
    boot = {"chargePointVendor": "Acme", "chargePointModel": "AC22"}
    answer = {"status": "Accepted", "currentTime": at(first), "interval": 300}
    frames.exchange("BootNotification", boot, answer, at(first), at(first + 0.003))
    for connector, late in ((0, 0.005), (1, 0.009)):
        frames.exchange(
            "StatusNotification",
            status(connector, "Available", first + late - 0.001),
            {},
            at(first + late),
            at(first + late + 0.002),
        )


def steps_of(frames: Frames, **options: Any) -> list[dict[str, Any]]:
    return list(record_scenario(frames.records(), **options).scenario["steps"])


# --- reading --------------------------------------------------------------------------------


def test_a_transcript_and_a_frame_log_are_told_apart_by_who_sends_the_boot() -> None:
    frames = Frames()
    frames.boot()
    records, origin = read_records(frames.text(), "t.jsonl")
    assert origin == "transcript"
    assert records[0].direction == "out"
    flipped = frames.text().replace('"out"', '"x"').replace('"in"', '"out"')
    records, origin = read_records(flipped.replace('"x"', '"in"'), "csms.jsonl")
    assert origin == "csms-log"
    assert records[0].direction == "out"  # always the charge point's point of view


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json\n", "t.jsonl:2: not a JSON object"),
        ('{"cp": "CP-R", "frame": []}\n', "t.jsonl:2: no 'direction'"),
        ('{"cp": "CP-R", "direction": "up", "frame": []}\n', "t.jsonl:2: 'direction' must"),
        ('{"cp": 7, "direction": "in", "frame": []}\n', "t.jsonl:2: 'cp' must be"),
        ("[1, 2]\n", "t.jsonl:2: expected a JSON object"),
    ],
)
def test_a_broken_record_is_a_usage_error_naming_file_and_line(text: str, problem: str) -> None:
    frames = Frames()
    frames.exchange("Heartbeat", {}, {"currentTime": T0})
    good = json.dumps(frames.lines[0]) + "\n"
    with pytest.raises(UsageError, match=problem):
        read_records(good + text, "t.jsonl")


def test_no_frames_no_boot_and_several_charge_points_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="no frames"):
        read_records("\n\n", "empty.jsonl")
    frames = Frames()
    frames.exchange("Heartbeat", {}, {"currentTime": T0})
    with pytest.raises(UsageError, match="no BootNotification of CP-R"):
        record_scenario(frames.records())
    other = Frames("CP-OTHER")
    other.boot()
    records = frames.records() + other.records()
    with pytest.raises(
        UsageError, match=r"^2 charge points in the transcript \(CP-R, CP-OTHER\); pick"
    ):
        record_scenario(records)
    with pytest.raises(UsageError, match="no frames of charge point 'CP-X'"):
        record_scenario(records, cp="CP-X")
    assert record_scenario(records, cp="CP-OTHER").scenario["charge_point"]["id"] == "CP-OTHER"


def test_a_load_transcript_names_a_few_of_its_charge_points_not_all() -> None:
    records = []
    for number in range(1, 206):
        frames = Frames(f"CP-{number:05d}")
        frames.boot()
        records += frames.records()
    with pytest.raises(UsageError) as caught:
        record_scenario(records)
    assert str(caught.value) == (
        "205 charge points in the transcript (CP-00001, CP-00002, CP-00003, ... CP-00205); "
        "pick one with --cp"
    )
    with pytest.raises(UsageError) as caught:
        record_scenario(records, cp="CP-X")
    assert str(caught.value).endswith("(there are: CP-00001, CP-00002, CP-00003, ... CP-00205)")


def test_the_seed_is_the_one_that_made_the_first_unique_id() -> None:
    assert find_seed(SeededIds(7)()) == 7
    assert find_seed("not-a-seeded-id", limit=50) is None


# --- the mapping ------------------------------------------------------------------------------


def test_the_boot_is_the_first_step_and_the_status_reports_after_it_are_the_stations() -> None:
    frames = Frames()
    frames.boot(connectors=2)
    scenario = record_scenario(frames.records()).scenario
    assert scenario["charge_point"] == {
        "id": "CP-R",
        "vendor": "Acme",
        "model": "AC22",
        "connectors": 2,
    }
    assert scenario["clock"] == {"start": T0, "speed": 0}
    assert scenario["seed"] == 0
    assert scenario["steps"] == [
        {
            "send": "BootNotification",
            "payload": {"chargePointVendor": "Acme", "chargePointModel": "AC22"},
            "expect": {"status": "Accepted", "currentTime": {"$type": "string"}, "interval": 300},
        },
        {"wait": "0s"},  # the run waits for the status reports before it ends
    ]


def test_heartbeats_on_schedule_are_a_wait_and_one_off_schedule_is_a_send() -> None:
    frames = Frames()
    frames.boot()
    frames.exchange("Heartbeat", {}, {"currentTime": "x"}, "2025-06-01T08:05:00Z")
    frames.exchange("Heartbeat", {}, {"currentTime": "x"}, "2025-06-01T08:07:30Z")
    steps = steps_of(frames)
    assert steps[1:] == [
        {"wait": "450s"},  # the 08:05 heartbeat falls due on the way
        {"send": "Heartbeat", "expect": {"currentTime": {"$type": "string"}}},
    ]


def test_answers_become_expect_and_expect_error_and_refused_tags_the_mock_csms() -> None:
    frames = Frames()
    frames.boot()
    frames.exchange("Authorize", {"idTag": "TAG-9"}, {"idTagInfo": {"status": "Blocked"}})
    frames.exchange("DataTransfer", {"vendorId": "acme"}, "NotSupported")
    recording = record_scenario(frames.records())
    assert recording.scenario["steps"][1:] == [
        # the station's own authorize makes this very frame
        {"authorize": {"id_tag": "TAG-9"}, "expect": {"idTagInfo": {"status": "Blocked"}}},
        {"send": "DataTransfer", "payload": {"vendorId": "acme"}, "expect_error": "NotSupported"},
    ]
    assert recording.scenario["mock_csms"] == {"id_tags": {"blocked": ["TAG-9"]}}


def test_a_hand_made_start_saves_the_transaction_id_and_later_payloads_use_it() -> None:
    frames = Frames()
    frames.boot()
    start = {"connectorId": 1, "idTag": "T1", "meterStart": 0, "timestamp": T0}
    frames.exchange(
        "StartTransaction", start, {"idTagInfo": {"status": "Accepted"}, "transactionId": 42}
    )
    # Not the station's own StatusNotification (Charging): a hand-made one, then a hand-made
    # StopTransaction that names the transaction.
    charging = {"connectorId": 1, "errorCode": "NoError", "status": "Charging", "timestamp": T0}
    frames.exchange("StatusNotification", charging, {})
    stop = {"transactionId": 42, "meterStop": 0, "timestamp": T0, "reason": "Other"}
    frames.exchange("StopTransaction", stop, {})
    steps = steps_of(frames)
    # The station's own start_transaction makes this very frame, so it is the step.
    start_step = next(step for step in steps if "start_transaction" in step)
    assert start_step["start_transaction"] == {"connector": 1, "id_tag": "T1"}
    assert start_step["expect"] == {
        "idTagInfo": {"status": "Accepted"},
        "transactionId": {"$type": "integer"},
    }
    assert start_step["save"] == {"tx": "transactionId"}
    stop_step = next(step for step in steps if step.get("send") == "StopTransaction")
    assert stop_step["payload"]["transactionId"] == "${tx}"


def test_a_csms_request_is_an_await_with_a_reply_only_where_the_model_would_answer_otherwise() -> (
    None
):
    frames = Frames()
    frames.boot()
    frames.request(
        "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "60"}, {"status": "Accepted"}
    )
    frames.request("RemoteStartTransaction", {"idTag": "TAG-1"}, {"status": "Rejected"})
    recording = record_scenario(frames.records())
    assert recording.scenario["steps"][1:] == [
        {"await": "ChangeConfiguration", "expect": {"key": "HeartbeatInterval", "value": "60"}},
        {
            "await": "RemoteStartTransaction",
            "expect": {"idTag": "TAG-1"},
            "reply": {"status": "Rejected"},
        },
    ]
    # The mock CSMS sends each request after the answer that came just before it.
    triggers = recording.scenario["mock_csms"]["on_request"]
    assert [t["send"]["action"] for t in triggers] == [
        "ChangeConfiguration",
        "RemoteStartTransaction",
    ]
    assert triggers[0]["when"]["action"] == "StatusNotification"


def test_a_frame_the_replay_would_not_send_is_reported() -> None:
    frames = Frames()
    frames.boot()
    # After an accepted boot the station reports every connector; here one is missing.
    del frames.lines[-2:]
    frames.exchange("Heartbeat", {}, {"currentTime": T0})
    recording = record_scenario(frames.records())
    assert any("the replay sends StatusNotification" in w for w in recording.warnings)


def test_the_yaml_is_a_valid_scenario_in_the_examples_style(tmp_path: Path) -> None:
    frames = Frames()
    frames.boot()
    frames.exchange("Heartbeat", {}, {"currentTime": T0}, "2025-06-01T08:00:01.500Z")
    text = to_yaml(record_scenario(frames.records(), name="Mine").scenario)
    assert text.startswith("name: Mine\n")
    assert "\n  - send: BootNotification\n" in text
    assert "timestamp: '2025-06-01T08:00:00Z'" not in text  # no status reports: the station's
    assert "  - wait: 1500ms\n" in text
    path = tmp_path / "mine.yaml"
    path.write_text(text, encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.name == "Mine"
    assert yaml.safe_load(text)["steps"][0]["payload"]["chargePointVendor"] == "Acme"


# --- a clock that ran -------------------------------------------------------------------------


def test_a_person_s_wait_at_a_running_clock_is_rounded_and_the_boot_s_reports_are_no_steps() -> (
    None
):
    """`wait 1m` typed in the shell, then `plug 1` a second later: 61.3 s between the frames."""
    frames = Frames()
    running_boot(frames)
    frames.exchange("StatusNotification", status(1, "Preparing", 61.325), {}, at(61.327), at(61.33))
    scenario = record_scenario(frames.records()).scenario
    assert scenario["clock"] == {"start": T0, "speed": 0}  # the whole second it began in
    assert scenario["steps"][1:] == [{"wait": "1m"}, {"plug_in": {"connector": 1}}]
    assert record_scenario(frames.records()).warnings == []


def test_a_heartbeat_that_jitter_moved_is_the_station_s_and_a_step_stays_before_it() -> None:
    """The heartbeat falls due 300 s after the boot: recorded 0.4 s late it is still the
    station's. A plug-in recorded 299.7 s after the boot is placed before it, at 299 s,
    not rounded to 5m, where the replay would send the heartbeat first."""
    frames = Frames()
    running_boot(frames)
    frames.exchange(
        "StatusNotification", status(1, "Preparing", 299.7), {}, at(299.702), at(299.71)
    )
    frames.exchange("Heartbeat", {}, {"currentTime": at(300.41)}, at(300.408), at(300.412))
    frames.exchange(
        "StatusNotification", status(1, "Available", 421.2), {}, at(421.203), at(421.21)
    )
    recording = record_scenario(frames.records())
    assert recording.scenario["steps"][1:] == [
        {"wait": "299s"},
        {"plug_in": {"connector": 1}},
        {"wait": "2m"},  # 121.5 s after the plug-in, the heartbeat on the way
        {"unplug": {"connector": 1}},
    ]
    assert recording.warnings == []


def test_a_step_of_a_running_clock_is_the_station_verb_whatever_its_timestamp() -> None:
    frames = Frames()
    running_boot(frames)
    frames.exchange("StatusNotification", status(1, "Preparing", 2.1), {}, at(2.103), at(2.106))
    frames.exchange(
        "Authorize", {"idTag": "T1"}, {"idTagInfo": {"status": "Accepted"}}, at(4.5), at(4.51)
    )
    start = {"connectorId": 1, "idTag": "T1", "meterStart": 0, "timestamp": at(6.02)}
    frames.exchange(
        "StartTransaction",
        start,
        {"idTagInfo": {"status": "Accepted"}, "transactionId": 7},
        at(6.024),
        at(6.03),
    )
    frames.exchange("StatusNotification", status(1, "Charging", 6.031), {}, at(6.034), at(6.04))
    # 11 kW for 3 s, then the EV stops; stopped 6.3 s after the start
    stop = {
        "idTag": "T1",
        "meterStop": 9,
        "timestamp": at(12.3),
        "transactionId": 7,
        "reason": "Local",
        "transactionData": [
            {
                "timestamp": at(6.02),
                "sampledValue": [
                    {
                        "value": "0",
                        "context": "Transaction.Begin",
                        "format": "Raw",
                        "measurand": "Energy.Active.Import.Register",
                        "location": "Outlet",
                        "unit": "Wh",
                    }
                ],
            },
            {
                "timestamp": at(12.3),
                "sampledValue": [
                    {
                        "value": "9",
                        "context": "Transaction.End",
                        "format": "Raw",
                        "measurand": "Energy.Active.Import.Register",
                        "location": "Outlet",
                        "unit": "Wh",
                    }
                ],
            },
        ],
    }
    frames.exchange(
        "StopTransaction", stop, {"idTagInfo": {"status": "Accepted"}}, at(12.303), at(12.31)
    )
    frames.exchange("StatusNotification", status(1, "Finishing", 12.304), {}, at(12.312), at(12.32))
    recording = record_scenario(frames.records())
    steps = recording.scenario["steps"]
    assert [next(iter(step)) for step in steps] == [
        "send",  # the boot
        "wait",
        "plug_in",
        "wait",
        "authorize",
        "wait",
        "start_transaction",
        "charge",
        "stop_transaction",
    ]
    assert [step["wait"] for step in steps if "wait" in step] == ["2s", "2s", "2s"]
    # 9 Wh in 6.3 s: the plainest power that gives the reading to the Wh, whole seconds
    assert steps[7]["charge"] == {"connector": 1, "power": "5kW", "duration": "6s"}
    assert recording.warnings == []


def test_a_transcript_of_a_frozen_clock_keeps_its_milliseconds() -> None:
    """At speed 0 the answers come at the very time of their requests: no rounding."""
    frames = Frames()
    frames.boot()
    frames.exchange("Heartbeat", {}, {"currentTime": T0}, at(1.5))
    assert steps_of(frames)[1:] == [
        {"wait": "1500ms"},
        {"send": "Heartbeat", "expect": {"currentTime": {"$type": "string"}}},
    ]


# --- the command ------------------------------------------------------------------------------


def test_the_command_names_the_file_and_line_of_broken_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text('{"cp": "CP-R", "direction": "out", "frame": [2]}\nnope\n', encoding="utf-8")
    assert main(["record", str(path)]) == 2
    assert f"{path}:2: not a JSON object" in capsys.readouterr().err
    assert main(["record", str(tmp_path / "missing.jsonl")]) == 2


def test_the_command_writes_to_stdout_or_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frames = Frames()
    frames.boot()
    path = tmp_path / "t.jsonl"
    path.write_text(frames.text(), encoding="utf-8")
    assert main(["record", str(path), "--name", "Boot only"]) == 0
    assert capsys.readouterr().out.startswith("name: Boot only\n")
    out = tmp_path / "rec.yaml"
    assert main(["record", str(path), "-o", str(out), "--cp", "CP-R"]) == 0
    assert load_scenario(out).charge_point.id == "CP-R"


# --- the round trip, over loopback WebSockets ---------------------------------------------------


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def without_wall_time(path: Path) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "wall_time"} for r in read_jsonl(path)]


ROUND_TRIP = ["02-plug-in-first-charging.yaml", "04-remote-start-and-stop.yaml"]


@pytest.mark.slow
@pytest.mark.parametrize("example", ROUND_TRIP)
def test_run_record_run_gives_the_same_transcript(example: str, tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    recorded = tmp_path / "rec.yaml"
    assert main(["run", "-q", str(EXAMPLES / example), "--transcript", str(first)]) == 0
    assert main(["record", str(first), "-o", str(recorded)]) == 0
    assert main(["run", "-q", str(recorded), "--transcript", str(second)]) == 0
    # seq, cp, direction, frame (unique ids too) and virtual_time: all equal.
    assert without_wall_time(second) == without_wall_time(first)
    # Byte for byte too, but for wall_time: same key order in every payload.
    strip = [line.rsplit(',"wall_time"', 1)[0] for line in first.read_text().splitlines()]
    again = [line.rsplit(',"wall_time"', 1)[0] for line in second.read_text().splitlines()]
    assert again == strip


def csms_config(example: str) -> str | None:
    """The example's `mock_csms` block, as the stand-alone mock CSMS's configuration."""
    data = yaml.safe_load((EXAMPLES / example).read_text(encoding="utf-8"))
    block = data.get("mock_csms")
    return yaml.safe_dump(block) if block else None


def csms_time_free(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records without wall_time and without the CSMS's currentTime, which the stand-alone
    mock CSMS takes from its own (wall) clock and the embedded one from the charge point's
    virtual clock."""
    kept = []
    for record in records:
        record = {k: v for k, v in record.items() if k != "wall_time"}
        frame = record["frame"]
        if record["direction"] == "in" and frame[0] == 3 and "currentTime" in frame[2]:
            record["frame"] = [3, frame[1], {**frame[2], "currentTime": "…"}]
        kept.append(record)
    return kept


@pytest.mark.slow
@pytest.mark.parametrize("example", ROUND_TRIP)
def test_a_recording_of_the_mock_csms_frame_log_replays_the_session(
    example: str, tmp_path: Path
) -> None:
    csms = Csms(tmp_path, csms_config(example))
    original = tmp_path / "a.jsonl"
    try:
        # The seed of a run against a CSMS it names is fresh unless given: record finds it
        # only among the seeds it tries (0 to 9,999), so this run pins one. This CSMS acts
        # by itself (the example's mock_csms block is its configuration): --wait-for-csms
        # says that something acts on the example's prompts.
        args = ["run", "-q", str(EXAMPLES / example), "--csms", csms.url, "--seed", "7"]
        args += ["--wait-for-csms", str(30 * UNIT)]
        assert main([*args, "--transcript", str(original)]) == 0
    finally:
        csms.stop()
    recorded, replay = tmp_path / "rec.yaml", tmp_path / "b.jsonl"
    assert main(["record", str(csms.log), "-o", str(recorded)]) == 0
    assert "frame log" in load_scenario(recorded).description
    assert main(["run", "-q", str(recorded), "--transcript", str(replay)]) == 0
    first, second = read_jsonl(original), read_jsonl(replay)
    # What the charge point sent is the same to the byte, virtual times included.
    assert [r for r in csms_time_free(second) if r["direction"] == "out"] == [
        r for r in csms_time_free(first) if r["direction"] == "out"
    ]
    assert csms_time_free(second) == csms_time_free(first)

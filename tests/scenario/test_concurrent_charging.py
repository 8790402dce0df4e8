"""Background charges: ``charge`` without ``duration`` keeps the EV drawing while later steps
run, so two connectors charge at the same time. Scenarios run with ``mockpoint run`` against
the embedded mock CSMS over a loopback WebSocket; energies are the deterministic meter's
exact values (11 kW for half an hour is 5500 Wh)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import UNIT, oca_errors
from csms_process import Csms
from mockpoint.cli.main import main
from mockpoint.errors import ExitCode
from mockpoint.scenario import model
from mockpoint.scenario.loader import load_scenario
from mockpoint.scenario.steps import describe
from mockpoint.shell.commands import StepCommand, parse

HEADER = """
name: {name}
charge_point:
  id: CP-T
  connectors: 2
  configuration:
    MeterValueSampleInterval: 600
    MeterValuesSampledData: Energy.Active.Import.Register,Power.Active.Import
clock: {{start: 2025-06-01T08:00:00Z, speed: 0}}
timeout: 2s
"""

#: Both connectors with a cable in and a transaction (ids 1 and 2) at 08:00.
TWO_TRANSACTIONS = """
  - plug_in: {connector: 1}
  - start_transaction: {connector: 1, id_tag: TAG-1}
  - plug_in: {connector: 2}
  - start_transaction: {connector: 2, id_tag: TAG-2}
"""


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Failure messages are checked whole: no wrapping at a narrow terminal's width."""
    monkeypatch.setenv("COLUMNS", "250")


def scenario(
    tmp_path: Path,
    steps: str,
    *,
    extra: str = "",
    name: str = "test",
    configuration: dict[str, Any] | None = None,
) -> Path:
    """A scenario file: :data:`HEADER` (its configuration extended), ``extra``, ``steps``."""
    header = HEADER.format(name=name)
    for key, value in (configuration or {}).items():
        header = header.replace(
            "  configuration:\n", f"  configuration:\n    {key}: {json.dumps(value)}\n"
        )
    path = tmp_path / f"{name}.yaml"
    path.write_text(header + extra + "steps:" + steps, encoding="utf-8")
    return path


def run(path: Path, *args: str | Path) -> tuple[int, list[list[Any]]]:
    """Run ``path``; its exit code and the frames the charge point sent (CALLs)."""
    log = path.with_suffix(".jsonl")
    code = main(["run", str(path), "--transcript", str(log), *map(str, args)])
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    calls: list[list[Any]] = [
        r["frame"] for r in records if r["direction"] == "out" and r["frame"][0] == 2
    ]
    for frame in calls:
        assert oca_errors(frame[2], frame[3]) == [], frame
    return code, calls


def payloads(calls: list[list[Any]], action: str) -> list[dict[str, Any]]:
    return [frame[3] for frame in calls if frame[2] == action]


def readings(calls: list[list[Any]], connector: int) -> list[tuple[str, str, str]]:
    """(time, Energy.Active.Import.Register, Power.Active.Import) of each of the connector's
    MeterValues, in the order sent."""
    found: list[tuple[str, str, str]] = []
    for payload in payloads(calls, "MeterValues"):
        if payload["connectorId"] != connector:
            continue
        for value in payload["meterValue"]:
            sampled = {s["measurand"]: s["value"] for s in value["sampledValue"]}
            found.append(
                (
                    value["timestamp"][11:16],
                    sampled["Energy.Active.Import.Register"],
                    sampled["Power.Active.Import"],
                )
            )
    return found


def stops(calls: list[list[Any]]) -> dict[int, tuple[int, str]]:
    """transactionId -> (meterStop, reason)."""
    return {
        p["transactionId"]: (p["meterStop"], p["reason"])
        for p in payloads(calls, "StopTransaction")
    }


# --- two connectors at once ---------------------------------------------------------------


def test_a_background_charge_goes_on_during_another_connector_s_foreground_charge(
    tmp_path: Path,
) -> None:
    steps = (
        TWO_TRANSACTIONS
        + """
  - charge: {connector: 1, power: 11kW}
  - charge: {connector: 2, power: 7.4kW, duration: 30m}
  - expect_state:
      connectors:
        1: {status: Charging, energy_wh: 5500}
        2: {status: Charging, energy_wh: 3700}
  - wait: 30m
  - expect_state:
      connectors: {1: {energy_wh: 11000}, 2: {energy_wh: 3700}}
  - stop_transaction: {connector: 1}
  - stop_transaction: {connector: 2}
"""
    )
    code, calls = run(scenario(tmp_path, steps))
    assert code == 0
    # Over the same half hour both meters went up, each at its own power.
    assert readings(calls, 1) == [
        ("08:10", "1833", "11000.0"),
        ("08:20", "3667", "11000.0"),
        ("08:30", "5500", "11000.0"),
        ("08:40", "7333", "11000.0"),
        ("08:50", "9167", "11000.0"),
        ("09:00", "11000", "11000.0"),
    ]
    assert readings(calls, 2) == [
        ("08:10", "1233", "7400.0"),
        ("08:20", "2467", "7400.0"),
        ("08:30", "3700", "7400.0"),
        ("08:40", "3700", "0.0"),  # the foreground charge is over
        ("08:50", "3700", "0.0"),
        ("09:00", "3700", "0.0"),
    ]
    # The MeterValues of both connectors went out in virtual-time order.
    order = [
        (p["meterValue"][0]["timestamp"], p["connectorId"]) for p in payloads(calls, "MeterValues")
    ]
    assert order == sorted(order)
    assert stops(calls) == {1: (11000, "Local"), 2: (3700, "Local")}


def test_two_background_charges_draw_through_a_wait(tmp_path: Path) -> None:
    steps = (
        TWO_TRANSACTIONS
        + """
  - charge: {connector: 1, power: 11kW}
  - charge: {connector: 2, power: 3.7kW}
  - wait: 30m
  - expect_state:
      connectors: {1: {energy_wh: 5500}, 2: {energy_wh: 1850}}
  - stop_transaction: {connector: 2}
  - wait: 30m
  - stop_transaction: {connector: 1}
"""
    )
    code, calls = run(scenario(tmp_path, steps))
    assert code == 0
    assert stops(calls) == {2: (1850, "Local"), 1: (11000, "Local")}
    assert [r[1] for r in readings(calls, 2)] == ["617", "1233", "1850"]


def test_background_charges_go_on_offline_and_their_meter_values_wait_in_order(
    tmp_path: Path,
) -> None:
    # OCPP 1.6 §4.10: transaction MeterValues are queued while offline and delivered in
    # order once back online.
    steps = """
  - plug_in: {connector: 1}
  - start_transaction: {connector: 1, id_tag: TAG-1}
  - charge: {connector: 1, power: 11kW}
  - disconnect: {}
  - plug_in: {connector: 2}
  - start_transaction: {connector: 2, id_tag: TAG-2}
  - charge: {connector: 2, power: 7.4kW, duration: 30m}
  - reconnect: {}
  - wait: 30m
  - stop_transaction: {connector: 1}
  - stop_transaction: {connector: 2}
"""
    code, calls = run(scenario(tmp_path, steps))
    assert code == 0
    assert [r[1] for r in readings(calls, 1)] == ["1833", "3667", "5500", "7333", "9167", "11000"]
    assert [r[1] for r in readings(calls, 2)] == ["1233", "2467", "3700", "3700", "3700", "3700"]
    order = [
        (p["meterValue"][0]["timestamp"], p["connectorId"]) for p in payloads(calls, "MeterValues")
    ]
    assert order == sorted(order)
    assert stops(calls) == {1: (11000, "Local"), 2: (3700, "Local")}


# --- pausing, replacing, ending -----------------------------------------------------------


def test_power_0_pauses_a_background_charge_and_a_new_power_resumes_it(tmp_path: Path) -> None:
    steps = """
  - plug_in: {connector: 1}
  - start_transaction: {connector: 1, id_tag: TAG-1}
  - charge: {connector: 1, power: 11kW}
  - wait: 30m
  - charge: {connector: 1, power: 0}
  - wait: 30m
  - expect_state:
      connectors: {1: {status: Charging, energy_wh: 5500}}
  - charge: {connector: 1, power: 22kW}
  - wait: 30m
  - stop_transaction: {connector: 1}
"""
    code, calls = run(scenario(tmp_path, steps))
    assert code == 0
    assert readings(calls, 1) == [
        ("08:10", "1833", "11000.0"),
        ("08:20", "3667", "11000.0"),
        ("08:30", "5500", "11000.0"),
        ("08:40", "5500", "0.0"),
        ("08:50", "5500", "0.0"),
        ("09:00", "5500", "0.0"),
        ("09:10", "9167", "22000.0"),
        ("09:20", "12833", "22000.0"),
        ("09:30", "16500", "22000.0"),
    ]
    assert stops(calls) == {1: (16500, "Local")}


def test_a_foreground_charge_on_the_same_connector_replaces_the_background_one(
    tmp_path: Path,
) -> None:
    steps = """
  - plug_in: {connector: 1}
  - start_transaction: {connector: 1, id_tag: TAG-1}
  - charge: {connector: 1, power: 11kW}
  - charge: {connector: 1, power: 3.7kW, duration: 30m}
  - wait: 30m
  - expect_state:
      connectors: {1: {energy_wh: 1850}}
"""
    code, calls = run(scenario(tmp_path, steps))
    assert code == 0
    assert [r[2] for r in readings(calls, 1)] == ["3700.0"] * 3 + ["0.0"] * 3


def test_stop_transaction_ends_a_background_charge(tmp_path: Path) -> None:
    # A new transaction on the same cable starts with the EV drawing nothing.
    steps = """
  - plug_in: {connector: 1}
  - start_transaction: {connector: 1, id_tag: TAG-1}
  - charge: {connector: 1, power: 11kW}
  - wait: 30m
  - stop_transaction: {connector: 1}
  - wait: 30m
  - expect_state:
      connectors: {1: {status: Finishing, energy_wh: 5500}}
  - start_transaction: {connector: 1, id_tag: TAG-1}
  - wait: 30m
  - stop_transaction: {connector: 1}
"""
    code, calls = run(scenario(tmp_path, steps))
    assert code == 0
    assert stops(calls) == {1: (5500, "Local"), 2: (5500, "Local")}
    assert readings(calls, 1)[3:] == [
        ("09:10", "5500", "0.0"),
        ("09:20", "5500", "0.0"),
        ("09:30", "5500", "0.0"),
    ]


def test_unplugging_ends_a_background_charge_with_its_transaction(tmp_path: Path) -> None:
    steps = (
        TWO_TRANSACTIONS
        + """
  - charge: {connector: 1, power: 11kW}
  - charge: {connector: 2, power: 7.4kW}
  - wait: 30m
  - unplug: {connector: 1}
  - wait: 30m
  - expect_state:
      connectors:
        1: {status: Available, transaction_id: null, energy_wh: 5500}
        2: {status: Charging, energy_wh: 7400}
  - stop_transaction: {connector: 2}
"""
    )
    code, calls = run(scenario(tmp_path, steps))
    assert code == 0
    assert stops(calls) == {1: (5500, "EVDisconnected"), 2: (7400, "Local")}


def test_unplugging_ends_a_background_charge_when_the_transaction_goes_on(
    tmp_path: Path,
) -> None:
    # StopTransactionOnEVSideDisconnect false: the transaction goes on without an EV
    # (SuspendedEV); plugged in again, the EV draws nothing until a charge step says so.
    steps = """
  - plug_in: {connector: 1}
  - start_transaction: {connector: 1, id_tag: TAG-1}
  - charge: {connector: 1, power: 11kW}
  - wait: 30m
  - unplug: {connector: 1}
  - wait: 30m
  - expect_state:
      connectors: {1: {status: SuspendedEV, transaction_id: 1, energy_wh: 5500}}
  - plug_in: {connector: 1}
  - wait: 30m
  - expect_state:
      connectors: {1: {status: Charging, energy_wh: 5500}}
  - charge: {connector: 1, power: 11kW}
  - wait: 30m
  - stop_transaction: {connector: 1}
"""
    path = scenario(tmp_path, steps, configuration={"StopTransactionOnEVSideDisconnect": False})
    code, calls = run(path)
    assert code == 0
    assert [r[2] for r in readings(calls, 1)] == ["11000.0"] * 3 + ["0.0"] * 6 + ["11000.0"] * 3
    assert stops(calls) == {1: (11000, "Local")}


def test_a_reset_ends_every_background_charge(tmp_path: Path) -> None:
    # The CSMS resets the charge point at the first MeterValues (08:10): both transactions
    # stop with SoftReset (OCPP 1.6 §5.14) and their EVs draw nothing after the reboot.
    extra = """
mock_csms:
  on_request:
    - when: {action: MeterValues}
      send: {action: Reset, payload: {type: Soft}}
"""
    steps = (
        TWO_TRANSACTIONS
        + """
  - charge: {connector: 1, power: 11kW}
  - charge: {connector: 2, power: 7.4kW}
  - wait: 10m
  - await: Reset
    within: 5s
  - expect_state:
      registration: Accepted
      connectors:
        1: {status: Finishing, transaction_id: null}
        2: {status: Finishing, transaction_id: null}
  - wait: 30m
  - expect_state:
      connectors: {1: {energy_wh: 1833}, 2: {energy_wh: 1233}}
"""
    )
    code, calls = run(scenario(tmp_path, steps, extra=extra))
    assert code == 0
    assert stops(calls) == {1: (1833, "SoftReset"), 2: (1233, "SoftReset")}


# --- what stays as it was -----------------------------------------------------------------


def test_a_foreground_charge_draws_only_during_its_step(tmp_path: Path) -> None:
    steps = """
  - plug_in: {connector: 1}
  - start_transaction: {connector: 1, id_tag: TAG-1}
  - charge: {connector: 1, power: 11kW, duration: 30m}
  - wait: 30m
  - expect_state:
      connectors: {1: {status: Charging, energy_wh: 5500}}
  - stop_transaction: {connector: 1}
  - session: {connector: 2, id_tag: TAG-2, power: 7.4kW, duration: 30m}
  - wait: 30m
  - expect_state:
      connectors: {1: {energy_wh: 5500}, 2: {status: Available, energy_wh: 3700}}
"""
    code, calls = run(scenario(tmp_path, steps))
    assert code == 0
    assert [r[1:] for r in readings(calls, 1)] == [
        ("1833", "11000.0"),
        ("3667", "11000.0"),
        ("5500", "11000.0"),
        ("5500", "0.0"),
        ("5500", "0.0"),
        ("5500", "0.0"),
    ]
    assert stops(calls) == {1: (5500, "Local"), 2: (3700, "Local")}


# --- refusals -----------------------------------------------------------------------------


def test_charging_needs_a_transaction_and_an_ev_plugged_in(tmp_path: Path) -> None:
    steps = """
  - charge: {connector: 1, power: 11kW}
    continue_on_failure: true
  - plug_in: {connector: 1}
  - start_transaction: {connector: 1, id_tag: TAG-1}
  - unplug: {connector: 1}
  - charge: {connector: 1, power: 11kW}
    continue_on_failure: true
  - charge: {connector: 1, power: 0}
"""
    path = scenario(tmp_path, steps, configuration={"StopTransactionOnEVSideDisconnect": False})
    code, _ = run(path, "--json", tmp_path / "r.json")
    assert code == 0  # the failing steps say continue_on_failure
    result = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    found = [(s["status"], s.get("message")) for s in result["scenarios"][0]["steps"][1:]]
    assert found == [
        ("failed", "connector 1 has no transaction to charge in"),
        ("passed", None),
        ("passed", None),
        ("passed", None),
        ("failed", "connector 1 has no EV plugged in (plug_in first)"),
        ("passed", None),  # pausing an EV that draws nothing is harmless
    ]


def test_no_charging_while_the_charge_point_offers_no_energy(tmp_path: Path) -> None:
    # OCPP 1.6 §4.10: the CSMS did not accept the id tag of the started transaction, and
    # with StopTransactionOnInvalidId false it goes on in SuspendedEVSE, without energy.
    extra = "mock_csms: {id_tags: {invalid: [TAG-I]}}\n"
    steps = """
  - plug_in: {connector: 1}
  - start_transaction: {connector: 1, id_tag: TAG-I}
    expect: {idTagInfo: {status: Invalid}}
  - expect_state:
      connectors: {1: {status: SuspendedEVSE, transaction_id: 1}}
  - charge: {connector: 1, power: 11kW}
    continue_on_failure: true
  - charge: {connector: 1, power: 11kW, duration: 10m}
    continue_on_failure: true
  - charge: {connector: 1, power: 0}
  - wait: 10m
  - expect_state:
      connectors: {1: {energy_wh: 0}}
"""
    path = scenario(
        tmp_path, steps, extra=extra, configuration={"StopTransactionOnInvalidId": False}
    )
    code, _ = run(path, "--json", tmp_path / "r.json")
    assert code == 0  # the failing steps say continue_on_failure
    result = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    messages = [s.get("message") for s in result["scenarios"][0]["steps"][4:6]]
    assert messages == ["connector 1 is SuspendedEVSE: it offers the EV no energy"] * 2


# --- the format ---------------------------------------------------------------------------


def test_validate_accepts_a_charge_without_duration_and_locates_bad_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = scenario(
        tmp_path,
        TWO_TRANSACTIONS
        + """
  - charge: {connector: 1, power: 11kW}
  - charge: {connector: 2, power: 0}
""",
        name="good",
    )
    assert main(["validate", str(good)]) == ExitCode.OK
    charges = [s for s in load_scenario(good).steps if isinstance(s, model.ChargeStep)]
    assert [(c.charge.power, c.charge.duration) for c in charges] == [(11000, None), (0, None)]
    capsys.readouterr()
    bad = scenario(
        tmp_path,
        """
  - charge: {connector: 1, power: fast}
  - charge: {connector: 1}
  - charge: {connector: 0, power: 11kW}
  - charge: {connector: 1, power: 11kW, duration: forever}
  - charge: {connector: 1, power: -1kW}
""",
        name="bad",
    )
    assert main(["validate", str(bad)]) == ExitCode.USAGE
    *lines, summary = capsys.readouterr().err.splitlines()
    assert summary == "invalid: 5 problem(s) in 1 file(s)"
    assert [line.removeprefix(f"{bad}:") for line in lines] == [
        "12:35: charge.power: 'fast' is not a power: use a number and one of kW, W (11kW)",
        "13:13: missing required key 'power' in charge",
        "14:25: charge.connector: should be greater than or equal to 1, got 0",
        "15:51: charge.duration: 'forever' is not a duration: use a number and one of ms, s, m, "
        "h (30s)",
        "16:35: charge.power: '-1kW' is not a power: use a number and one of kW, W (11kW)",
    ]


def test_the_json_schema_makes_duration_optional() -> None:
    charge = model.json_schema()["$defs"]["Charge"]
    assert charge["required"] == ["power"]
    assert "background" in charge["properties"]["duration"]["description"]


@pytest.mark.parametrize(
    ("spec", "label"),
    [
        (
            {"connector": 2, "power": "7.4kW", "duration": "30m"},
            "charge connector 2 at 7400 W for 1800 s",
        ),
        ({"connector": 1, "power": "11kW"}, "charge connector 1 at 11000 W in the background"),
        ({"connector": 1, "power": 0}, "pause charging on connector 1"),
    ],
)
def test_describe_says_which_kind_of_charge(spec: dict[str, Any], label: str) -> None:
    assert describe(model.ChargeStep(charge=model.Charge.model_validate(spec))) == label


# --- record and the shell -----------------------------------------------------------------


def test_a_recording_of_two_connectors_charging_at_once_replays_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    steps = (
        TWO_TRANSACTIONS
        + """
  - charge: {connector: 1, power: 11kW}
  - charge: {connector: 2, power: 7.4kW, duration: 30m}
  - charge: {connector: 2, power: 3kW}
  - wait: 20m
  - charge: {connector: 1, power: 0}
  - wait: 10m
  - charge: {connector: 1, power: 22kW}
  - wait: 10m
  - unplug: {connector: 1}
  - wait: 10m
  - stop_transaction: {connector: 2}
"""
    )
    original = tmp_path / "test.jsonl"
    code, _ = run(scenario(tmp_path, steps))
    assert code == 0
    recorded, replay = tmp_path / "rec.yaml", tmp_path / "replay.jsonl"
    assert main(["record", str(original), "-o", str(recorded)]) == 0
    assert "warning" not in capsys.readouterr().err
    charges = [step["charge"] for step in yaml_steps(recorded) if "charge" in step]
    assert charges == [
        {"connector": 1, "power": "11kW"},
        {"connector": 2, "power": "7400W"},
        {"connector": 2, "power": "3kW"},
        {"connector": 1, "power": 0},
        {"connector": 1, "power": "22kW"},
        # the unplugging stops connector 1's transaction; connector 2 goes on drawing
    ]
    assert main(["run", "-q", str(recorded), "--transcript", str(replay)]) == 0
    assert without_wall_time(replay) == without_wall_time(original)


@pytest.mark.parametrize("measurands", ["Energy.Active.Import.Register", None])
def test_a_recording_keeps_an_ev_that_stopped_drawing_at_0(
    tmp_path: Path, measurands: str | None
) -> None:
    # 11 kW for 50 minutes leaves the register at 9166.67 Wh, shown as 9167 only at the
    # next reading: no power is drawn in between, whether Power.Active.Import is sampled
    # (None: the header's Energy and Power) or not.
    steps = """
  - plug_in: {connector: 1}
  - start_transaction: {connector: 1, id_tag: TAG-1}
  - charge: {connector: 1, power: 11kW, duration: 50m}
  - wait: 10m
  - stop_transaction: {connector: 1}
"""
    configuration = {"MeterValuesSampledData": measurands} if measurands else None
    path = scenario(tmp_path, steps, configuration=configuration)
    if measurands:
        text = path.read_text(encoding="utf-8").replace(
            "    MeterValuesSampledData: Energy.Active.Import.Register,Power.Active.Import\n", ""
        )
        path.write_text(text, encoding="utf-8")
    code, _ = run(path)
    assert code == 0
    original, recorded = path.with_suffix(".jsonl"), tmp_path / "rec.yaml"
    assert main(["record", str(original), "-o", str(recorded)]) == 0
    timed = [step for step in yaml_steps(recorded) if {"charge", "wait"} & set(step)]
    assert timed == [
        {"charge": {"connector": 1, "power": "11kW", "duration": "50m"}},
        {"wait": "10m"},
    ]
    replay = tmp_path / "replay.jsonl"
    assert main(["run", "-q", str(recorded), "--transcript", str(replay)]) == 0
    assert without_wall_time(replay) == without_wall_time(original)


def yaml_steps(path: Path) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = load_yaml(path)["steps"]
    return steps


def load_yaml(path: Path) -> dict[str, Any]:
    import yaml

    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data


def without_wall_time(path: Path) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [{k: v for k, v in r.items() if k != "wall_time"} for r in records]


@pytest.mark.parametrize(
    ("line", "spec"),
    [
        ("charge 1 11kW 30m", {"connector": 1, "power": "11kW", "duration": "30m"}),
        ("charge 2 7.4kW", {"connector": 2, "power": "7.4kW"}),
        ("charge 2 0", {"connector": 2, "power": "0"}),
    ],
)
def test_the_shell_s_charge_takes_an_optional_duration(line: str, spec: dict[str, Any]) -> None:
    command = parse(line)
    assert isinstance(command, StepCommand) and isinstance(command.step, model.ChargeStep)
    assert command.text == {"charge": spec}
    assert (command.step.charge.duration is None) == ("duration" not in spec)


@pytest.mark.slow
def test_two_connectors_charge_at_once_from_the_shell(csms: Csms, tmp_path: Path) -> None:
    header = tmp_path / "cp.yaml"
    header.write_text(
        HEADER.format(name="shell").replace("CP-T", "CP-SH") + "steps:\n  - wait: 0s\n",
        encoding="utf-8",
    )
    script = """
plug 1
start 1 TAG-1
plug 2
start 2 TAG-2
charge 1 11kW
charge 2 7.4kW 30m
wait 30m
stop 1
stop 2
save saved.yaml
"""
    result = subprocess.run(
        [sys.executable, "-m", "mockpoint", "shell", "--csms", csms.url, "--speed", "0"]
        + ["--scenario", str(header)],
        input=script,
        capture_output=True,
        text=True,
        timeout=30 * UNIT,
        cwd=tmp_path,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning" not in result.stdout + result.stderr
    received = [
        f["frame"][3]
        for f in csms.frames()
        if f["direction"] == "in" and f["frame"][0] == 2 and f["frame"][2] == "StopTransaction"
    ]
    assert [(p["transactionId"], p["meterStop"]) for p in received] == [(1, 11000), (2, 3700)]
    saved = [step for step in yaml_steps(tmp_path / "saved.yaml") if "charge" in step]
    assert saved == [
        {"charge": {"connector": 1, "power": "11kW"}},
        {"charge": {"connector": 2, "power": "7400W"}},
        {"charge": {"connector": 2, "power": 0}},
    ]

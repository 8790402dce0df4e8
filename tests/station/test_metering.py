from __future__ import annotations

import re
from fractions import Fraction

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockpoint.ocpp16.enums import Measurand, ReadingContext
from mockpoint.ocpp16.schemas import load_schema
from mockpoint.station.metering import (
    MAIN_METER_MEASURANDS,
    SUPPORTED_MEASURANDS,
    Meter,
    main_meter_value,
)

T0 = 1_748_764_800.0  # 2025-06-01T08:00:00Z
ALL = sorted(SUPPORTED_MEASURANDS)
# Integers, or exactly one decimal: no float repr noise, no exponent.
NUMBER = re.compile(r"^-?\d+(\.\d)?$")

VALIDATOR = jsonschema.Draft4Validator(
    load_schema("MeterValues", response=False),
    format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER,
)


def by_measurand(values: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = {}
    for value in values:
        grouped.setdefault(value["measurand"], []).append(value)
    return grouped


def test_11_kw_for_30_minutes_is_exactly_5500_wh() -> None:
    meter = Meter()
    meter.set_power(11_000, T0)
    assert meter.register_wh(T0 + 1800) == 5500.0
    assert meter.meter_wh(T0 + 1800) == 5500
    [register] = meter.sample(T0 + 1800, [Measurand.ENERGY_ACTIVE_IMPORT_REGISTER])
    assert register == {
        "value": "5500",
        "context": "Sample.Periodic",
        "format": "Raw",
        "measurand": "Energy.Active.Import.Register",
        "location": "Outlet",
        "unit": "Wh",
    }


def test_register_starts_where_it_is_told() -> None:
    meter = Meter(register_wh=12_345.6)
    assert meter.register_wh(T0) == 12_345.6
    meter.set_power(3600, T0)
    assert meter.register_wh(T0 + 3600) == pytest.approx(15_945.6)
    assert meter.meter_wh(T0 + 3600) == 15_946


def test_piecewise_power_integrates_exactly() -> None:
    meter = Meter()
    meter.set_power(7_000, T0)
    meter.set_power(22_000, T0 + 900)  # 1750 Wh so far
    meter.set_power(0, T0 + 2700)  # + 11000 Wh
    assert meter.register_wh(T0 + 10_000) == 12_750.0


@settings(max_examples=50, deadline=None)
@given(
    start=st.floats(min_value=0, max_value=4e9),
    steps=st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=50_000, allow_nan=False),
            st.floats(min_value=0, max_value=7200, allow_nan=False),
        ),
        min_size=1,
        max_size=8,
    ),
)
def test_integration_is_exact_and_reading_does_not_disturb_it(
    start: float, steps: list[tuple[float, float]]
) -> None:
    quiet, chatty = Meter(), Meter()
    expected = Fraction(0)
    now = start
    for power, duration in steps:
        quiet.set_power(power, now)
        chatty.set_power(power, now)
        end = now + duration
        expected += Fraction(power) * (Fraction(end) - Fraction(now)) / 3600
        for k in range(1, 4):
            chatty.register_wh(now + (end - now) * k / 4)
        now = end
    assert quiet.register_wh(now) == chatty.register_wh(now) == float(expected)


def test_current_is_derived_from_power() -> None:
    three = Meter(phases=3, voltage=230.0)
    three.set_power(11_040, T0)
    assert three.current_a(T0) == pytest.approx(16.0)
    currents = by_measurand(three.sample(T0, [Measurand.CURRENT_IMPORT]))["Current.Import"]
    assert [(c["phase"], c["value"], c["unit"]) for c in currents] == [
        ("L1", "16.0", "A"),
        ("L2", "16.0", "A"),
        ("L3", "16.0", "A"),
    ]
    single = Meter(phases=1, voltage=230.0)
    single.set_power(7_360, T0)
    assert single.current_a(T0) == pytest.approx(32.0)
    [current] = single.sample(T0, [Measurand.CURRENT_IMPORT])
    assert current["value"] == "32.0" and "phase" not in current


def test_voltage_per_phase_and_offered_values() -> None:
    meter = Meter(phases=3, voltage=230.0, max_current=16.0)
    values = by_measurand(
        meter.sample(T0, [Measurand.VOLTAGE, Measurand.CURRENT_OFFERED, Measurand.POWER_OFFERED])
    )
    assert [(v["phase"], v["value"]) for v in values["Voltage"]] == [
        ("L1-N", "230.0"),
        ("L2-N", "230.0"),
        ("L3-N", "230.0"),
    ]
    assert [v["value"] for v in values["Current.Offered"]] == ["16.0"]
    assert [v["value"] for v in values["Power.Offered"]] == ["11040.0"]
    assert meter.offered_power_w == 11_040.0
    [voltage] = Meter(phases=1).sample(T0, [Measurand.VOLTAGE])
    assert "phase" not in voltage


def test_locations_and_units() -> None:
    meter = Meter()
    values = by_measurand(meter.sample(T0, ALL))
    assert values["SoC"][0]["location"] == "EV"
    assert values["SoC"][0]["unit"] == "Percent"
    assert values["Temperature"][0]["unit"] == "Celsius"
    assert "unit" not in values["Frequency"][0]  # §7.45 has no unit for it
    assert values["Frequency"][0]["value"] == "50.0"
    electrical = set(values) - {"SoC", "Temperature"}
    assert all(v["location"] == "Outlet" for m in electrical for v in values[m])


def test_soc_grows_with_the_session_and_clamps_at_100() -> None:
    meter = Meter(battery_capacity_wh=10_000, initial_soc=90)
    meter.start_session(T0)
    meter.set_power(3_600, T0)
    assert meter.soc(T0 + 900) == pytest.approx(99.0)
    assert not meter.ev_full(T0 + 999)
    [soc] = meter.sample(T0 + 999, [Measurand.SOC])
    assert soc["value"] == "99"  # floored: 100 only when full
    assert meter.ev_full(T0 + 1000)
    assert meter.soc(T0 + 5000) == 100.0
    [soc] = meter.sample(T0 + 5000, [Measurand.SOC])
    assert soc["value"] == "100"
    # The register keeps counting: the station, not the meter, decides to suspend.
    assert meter.register_wh(T0 + 5000) == 5000.0
    meter.start_session(T0 + 5000, soc=10)
    assert meter.soc(T0 + 5000) == 10.0


def test_energy_interval_counts_per_context_since_the_session_start() -> None:
    interval = [Measurand.ENERGY_ACTIVE_IMPORT_INTERVAL]
    meter = Meter(register_wh=1000)
    meter.set_power(10_000, T0)
    meter.start_session(T0 + 360)  # 1000 Wh in before the session: not counted
    assert meter.sample(T0 + 720, interval)[0]["value"] == "1000"
    assert meter.sample(T0 + 900, interval, "Trigger")[0]["value"] == "1500"
    assert meter.sample(T0 + 1080, interval)[0]["value"] == "1000"
    assert meter.sample(T0 + 1080, interval, "Sample.Clock")[0]["value"] == "2000"
    assert meter.sample(T0 + 1080, interval, "Sample.Clock")[0]["value"] == "0"
    # Other measurands do not move the interval marks.
    meter.sample(T0 + 1440, [Measurand.ENERGY_ACTIVE_IMPORT_REGISTER])
    assert meter.sample(T0 + 1440, interval)[0]["value"] == "1000"


def test_same_inputs_give_identical_output() -> None:
    def run() -> list[object]:
        meter = Meter(register_wh=500.25, phases=1, voltage=229.5)
        meter.start_session(T0)
        out: list[object] = []
        for i, power in enumerate([0.0, 3_333.3, 7_400.0, 1_234.5, 0.0]):
            now = T0 + 61.7 * i
            meter.set_power(power, now)
            out.append(meter.meter_value(now + 30.05, ALL, "Sample.Periodic"))
        return out

    assert run() == run()


@pytest.mark.parametrize("watts", [0.1 + 0.2, 1 / 3, 2 / 3 * 1000, 1e-9, 12_345.678_9])
def test_values_have_no_float_noise(watts: float) -> None:
    meter = Meter(voltage=229.7, phases=3)
    meter.set_power(watts, T0)
    values = meter.sample(T0 + 0.1, ALL)
    for value in values:
        assert NUMBER.match(value["value"]), value
    assert by_measurand(values)["Power.Active.Import"][0]["value"] == (
        "0.3" if watts == 0.1 + 0.2 else f"{round(Fraction(watts) * 10) / 10:.1f}"
    )


def test_meter_value_has_a_timestamp() -> None:
    meter_value = Meter().meter_value(T0 + 0.25, [Measurand.ENERGY_ACTIVE_IMPORT_REGISTER])
    assert meter_value["timestamp"] == "2025-06-01T08:00:00.250Z"
    assert isinstance(meter_value["sampledValue"], list)
    with pytest.raises(ValueError, match="at least one"):
        Meter().meter_value(T0, [])


@pytest.mark.parametrize("measurand", ["RPM", "Power.Factor", "Energy.Active.Export.Register", "x"])
def test_unsupported_measurands_raise(measurand: str) -> None:
    meter = Meter()
    with pytest.raises(ValueError, match="unsupported"):
        meter.sample(T0, [Measurand.SOC, measurand])


def test_supported_measurands_are_wire_values() -> None:
    assert SUPPORTED_MEASURANDS <= {m.value for m in Measurand}
    assert all(type(m) is str for m in SUPPORTED_MEASURANDS)
    assert len(SUPPORTED_MEASURANDS) >= 10


def test_bad_inputs_raise() -> None:
    meter = Meter()
    meter.set_power(1000, T0)
    with pytest.raises(ValueError, match="backwards"):
        meter.register_wh(T0 - 1)
    with pytest.raises(ValueError, match="backwards"):
        meter.sample(T0 - 1, [Measurand.SOC])
    with pytest.raises(ValueError, match=">= 0"):
        meter.set_power(-1, T0)
    with pytest.raises(ValueError, match="finite"):
        meter.set_power(float("nan"), T0)
    with pytest.raises(ValueError, match="context"):
        meter.sample(T0, [Measurand.SOC], "Sample.Sometimes")
    with pytest.raises(ValueError, match="phases"):
        Meter(phases=2)
    with pytest.raises(ValueError, match="initial_soc"):
        Meter(initial_soc=101)


@settings(max_examples=60, deadline=None)
@given(
    phases=st.sampled_from([1, 3]),
    register=st.floats(min_value=0, max_value=1e8),
    steps=st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=350_000),
            st.floats(min_value=0, max_value=86_400),
        ),
        min_size=1,
        max_size=5,
    ),
    measurands=st.lists(st.sampled_from(ALL), min_size=1, max_size=len(ALL), unique=True),
    context=st.sampled_from([c.value for c in ReadingContext]),
)
def test_samples_are_valid_meter_values(
    phases: int,
    register: float,
    steps: list[tuple[float, float]],
    measurands: list[str],
    context: str,
) -> None:
    meter = Meter(register, phases=phases)
    meter.start_session(T0)
    now = T0
    meter_values = []
    for power, duration in steps:
        meter.set_power(power, now)
        now += duration
        meter_values.append(meter.meter_value(now, measurands, context))
    payload = {"connectorId": 1, "transactionId": 7, "meterValue": meter_values}
    errors = sorted(VALIDATOR.iter_errors(payload), key=str)
    assert not errors, errors[0].message
    for meter_value in meter_values:
        sampled = meter_value["sampledValue"]
        assert isinstance(sampled, list)
        per_phase = 3 if phases == 3 else 1
        expected = sum(per_phase if m in ("Current.Import", "Voltage") else 1 for m in measurands)
        assert len(sampled) == expected
        for value in sampled:
            assert NUMBER.match(value["value"]), value
            assert value["context"] == context


# --- the main meter (connector 0, §5.17) ---------------------------------------------------------


def test_main_meter_adds_every_meter_exactly_before_rounding() -> None:
    first, second = Meter(100.4), Meter(200.4, phases=1)
    first.set_power(7_200, T0)
    second.set_power(3_600, T0)
    energy, power = Measurand.ENERGY_ACTIVE_IMPORT_REGISTER, Measurand.POWER_ACTIVE_IMPORT
    reading = main_meter_value([first, second], T0 + 60, [power, energy], ReadingContext.TRIGGER)
    # 100.4 + 120 + 200.4 + 60 = 480.8 Wh, where the rounded registers add up to 480
    assert reading == {
        "timestamp": "2025-06-01T08:01:00Z",
        "sampledValue": [
            {
                "value": "10800.0",
                "context": "Trigger",
                "format": "Raw",
                "measurand": "Power.Active.Import",
                "location": "Inlet",
                "unit": "W",
            },
            {
                "value": "481",
                "context": "Trigger",
                "format": "Raw",
                "measurand": "Energy.Active.Import.Register",
                "location": "Inlet",
                "unit": "Wh",
            },
        ],
    }
    # The connectors' own registers were brought to the same instant.
    assert (first.meter_wh(T0 + 60), second.meter_wh(T0 + 60)) == (220, 260)
    errors = list(VALIDATOR.iter_errors({"connectorId": 0, "meterValue": [reading]}))
    assert errors == []


def test_main_meter_refuses_what_does_not_add_up() -> None:
    meters = [Meter(), Meter()]
    with pytest.raises(ValueError, match="main meter"):
        main_meter_value(meters, T0, [Measurand.ENERGY_ACTIVE_IMPORT_REGISTER, Measurand.SOC])
    with pytest.raises(ValueError, match="at least one"):
        main_meter_value(meters, T0, [])
    with pytest.raises(ValueError, match="context"):
        main_meter_value(meters, T0, [Measurand.POWER_ACTIVE_IMPORT], "Sample.Sometimes")
    assert MAIN_METER_MEASURANDS <= SUPPORTED_MEASURANDS

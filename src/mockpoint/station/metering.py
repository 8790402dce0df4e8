"""A deterministic meter: energy, power, current, voltage and SoC over virtual time.

The model is deliberately plain so that a test can predict every value a CSMS receives:

- Power is piecewise constant; the station sets it (:meth:`Meter.set_power`), this module
  never changes it. The energy register integrates it exactly: times and powers are turned
  into :class:`fractions.Fraction` (every float is one exactly), so 11 kW for 30 minutes is
  5500 Wh to the last bit, whatever the order and number of steps.
- Current per phase is P / (phases x V); voltage, frequency and offered current are fixed.
- The EV's state of charge grows with the energy of the current session and stops at 100 %;
  :meth:`Meter.ev_full` tells the station when to suspend (EV_SUSPEND), the meter does not.
- Time never goes backwards: each call's ``now`` must be at least the latest one seen.

:meth:`Meter.sample` turns this into OCPP 1.6 §7.43 SampledValue dicts, with the wire keys
and values formatted the same way every time: energy and SoC as integers, everything else
with one decimal (``f"{x:.1f}"``), so never a float's repr noise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction

from mockpoint.clock import format_timestamp
from mockpoint.ocpp16.enums import Location, Measurand, Phase, ReadingContext, UnitOfMeasure

__all__ = [
    "FREQUENCY_HZ",
    "MAIN_METER_MEASURANDS",
    "SUPPORTED_MEASURANDS",
    "Meter",
    "main_meter_value",
]

#: The grid frequency reported for Frequency (Hz).
FREQUENCY_HZ = 50.0
#: Charge point body temperature with no load (Celsius); it rises 0.5 degree per kW drawn.
_AMBIENT_CELSIUS = Fraction(25)
_CELSIUS_PER_WATT = Fraction(1, 2000)

#: The measurands :meth:`Meter.sample` produces; any other raises ValueError.
SUPPORTED_MEASURANDS: frozenset[str] = frozenset(
    m.value
    for m in (
        Measurand.ENERGY_ACTIVE_IMPORT_REGISTER,
        Measurand.ENERGY_ACTIVE_IMPORT_INTERVAL,
        Measurand.POWER_ACTIVE_IMPORT,
        Measurand.POWER_OFFERED,
        Measurand.CURRENT_IMPORT,
        Measurand.CURRENT_OFFERED,
        Measurand.VOLTAGE,
        Measurand.FREQUENCY,
        Measurand.TEMPERATURE,
        Measurand.SOC,
    )
)

#: The measurands :func:`main_meter_value` produces: the readings that add up over connectors.
MAIN_METER_MEASURANDS: frozenset[str] = frozenset(
    m.value for m in (Measurand.ENERGY_ACTIVE_IMPORT_REGISTER, Measurand.POWER_ACTIVE_IMPORT)
)

_CONTEXTS = frozenset(ReadingContext)
_SECONDS_PER_HOUR = 3600


def _exact(value: float, name: str) -> Fraction:
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return Fraction(value)


def _fraction(value: object, name: str) -> Fraction:
    """A saved "p/q" (or integer) string back to its exact value."""
    if not isinstance(value, str):
        raise ValueError(f'{name}: expected a string like "11/2", got {value!r}')
    try:
        return Fraction(value)
    except (ValueError, ZeroDivisionError):
        raise ValueError(f"{name}: not a number: {value!r}") from None


def _one_decimal(value: Fraction) -> str:
    # Rounding the exact value (half to even) and printing the integer tenths avoids both
    # float noise and f-string double rounding.
    tenths = round(value * 10)
    sign = "-" if tenths < 0 else ""
    whole, tenth = divmod(abs(tenths), 10)
    return f"{sign}{whole}.{tenth}"


class Meter:
    """The meter of one connector (OCPP 1.6 §4.7 MeterValues, §7.43 SampledValue).

    ``register_wh`` is the energy register at the start; ``voltage`` the phase-to-neutral
    voltage; ``phases`` 1 or 3; ``battery_capacity_wh`` and ``initial_soc`` (percent)
    describe the EV of each session; ``max_current`` the current offered per phase (A).
    """

    # Slots: a load run holds thousands of these.
    __slots__ = (
        "_capacity",
        "_initial_soc",
        "_interval_marks",
        "_latest",
        "_max_current",
        "_power",
        "_register",
        "_session_soc",
        "_session_start",
        "_since",
        "_voltage",
        "phases",
    )

    def __init__(
        self,
        register_wh: float = 0.0,
        *,
        voltage: float = 230.0,
        phases: int = 3,
        battery_capacity_wh: float = 60_000.0,
        initial_soc: float = 20.0,
        max_current: float = 32.0,
    ) -> None:
        if phases not in (1, 3):
            raise ValueError(f"phases must be 1 or 3, got {phases}")
        self._register = _exact(register_wh, "register_wh")
        self._voltage = _exact(voltage, "voltage")
        self._capacity = _exact(battery_capacity_wh, "battery_capacity_wh")
        self._initial_soc = _exact(initial_soc, "initial_soc")
        self._max_current = _exact(max_current, "max_current")
        if self._register < 0:
            raise ValueError("register_wh must be >= 0")
        if self._voltage <= 0 or self._capacity <= 0:
            raise ValueError("voltage and battery_capacity_wh must be > 0")
        if not 0 <= self._initial_soc <= 100:
            raise ValueError("initial_soc must be within 0..100")
        if self._max_current < 0:
            raise ValueError("max_current must be >= 0")
        self.phases = phases
        self._power = Fraction(0)
        #: when ``_register`` was last brought up to date; None until time is first seen
        self._since: Fraction | None = None
        self._latest: Fraction | None = None
        self._session_start = self._register
        self._session_soc = self._initial_soc
        #: register at the last Energy.Active.Import.Interval sample, per reading context
        self._interval_marks: dict[str, Fraction] = {}

    # -- time and integration ------------------------------------------------------------

    def _advance(self, now: float) -> Fraction:
        """Check ``now`` against the latest time seen and integrate the register up to it."""
        moment = _exact(now, "now")
        if self._latest is not None and moment < self._latest:
            raise ValueError(f"time went backwards: {now} is before {float(self._latest)}")
        self._latest = moment
        if self._since is not None:
            self._register += self._power * (moment - self._since) / _SECONDS_PER_HOUR
        self._since = moment
        return moment

    def set_power(self, watts: float, now: float) -> None:
        """Draw ``watts`` from ``now`` on (0 when idle); the energy so far is kept exactly."""
        power = _exact(watts, "watts")
        if power < 0:
            raise ValueError(f"power must be >= 0 (import only), got {watts}")
        self._advance(now)
        self._power = power

    def start_session(self, now: float, soc: float | None = None) -> None:
        """A new EV session begins: SoC and energy intervals count from here.

        ``soc`` is the new EV's state of charge (percent); the constructor's ``initial_soc``
        when omitted.
        """
        self._advance(now)
        self._session_start = self._register
        self._session_soc = self._initial_soc if soc is None else _exact(soc, "soc")
        if not 0 <= self._session_soc <= 100:
            raise ValueError("soc must be within 0..100")
        self._interval_marks.clear()

    # -- persistence -----------------------------------------------------------------------

    def to_state(self, now: float) -> dict[str, object]:
        """The register at ``now`` and the session as JSON values, exact ("p/q" strings).

        A ``now`` before the latest reading (a clock that started over after a restart) saves
        the register as last read. The EV's and the grid's constants (voltage, phases,
        capacity, ...) are not saved: they are the scenario's, as the hardware is a real
        charge point's.
        """
        if self._latest is None or _exact(now, "now") >= self._latest:
            # Exact integration: reading at one more instant changes no later value.
            self._advance(now)
        marks = {context: str(mark) for context, mark in sorted(self._interval_marks.items())}
        return {
            "register_wh": str(self._register),
            "power_w": str(self._power),
            "at": None if self._since is None else str(self._since),
            "session_start_wh": str(self._session_start),
            "session_soc": str(self._session_soc),
            "interval_marks": marks,
        }

    def restore_state(self, state: dict[str, object], *, power_cut: bool) -> None:
        """Take back what :meth:`to_state` saved; ValueError (and no change) if it is wrong.

        ``power_cut``: the meter was off since the state was saved, so no energy counts for
        that time and time starts over at the next reading (the new run's clock may begin
        anywhere). Otherwise the register goes on integrating from the saved instant.
        """
        register = _fraction(state["register_wh"], "register_wh")
        power = _fraction(state["power_w"], "power_w")
        session_start = _fraction(state["session_start_wh"], "session_start_wh")
        soc = _fraction(state["session_soc"], "session_soc")
        at = None if state["at"] is None else _fraction(state["at"], "at")
        marks_given = state["interval_marks"]
        if not isinstance(marks_given, dict):
            raise ValueError("interval_marks: expected an object")
        marks = {str(k): _fraction(v, f"interval_marks.{k}") for k, v in marks_given.items()}
        if min(register, power, session_start) < 0 or not 0 <= soc <= 100:
            raise ValueError("a register, power or SoC out of range")
        self._register, self._power, self._session_start = register, power, session_start
        self._session_soc = soc
        self._interval_marks = marks
        self._since = self._latest = None if power_cut else at

    # -- readings --------------------------------------------------------------------------

    def register_wh(self, now: float) -> float:
        """The energy register (Wh) at ``now``."""
        self._advance(now)
        return float(self._register)

    def meter_wh(self, now: float) -> int:
        """The register as whole Wh, rounded as the samples are: use it for meterStart/Stop."""
        self._advance(now)
        return round(self._register)

    def power_w(self, now: float) -> float:
        """The active power drawn (W)."""
        self._advance(now)
        return float(self._power)

    def current_a(self, now: float) -> float:
        """The current per phase (A): P / (phases x V)."""
        self._advance(now)
        return float(self._current())

    def session_energy_wh(self, now: float) -> float:
        """Energy delivered since :meth:`start_session` (or since the meter was made)."""
        self._advance(now)
        return float(self._register - self._session_start)

    def soc(self, now: float) -> float:
        """The EV's state of charge (percent), clamped at 100."""
        self._advance(now)
        return float(self._soc())

    def ev_full(self, now: float) -> bool:
        """Whether the EV's battery is full; the station then suspends (EV_SUSPEND)."""
        self._advance(now)
        return self._soc() >= 100

    @property
    def voltage(self) -> float:
        return float(self._voltage)

    @property
    def max_current(self) -> float:
        return float(self._max_current)

    @property
    def offered_power_w(self) -> float:
        """Power.Offered: the offered current on every phase at the nominal voltage."""
        return float(self._offered_power())

    def _current(self) -> Fraction:
        return self._power / (self.phases * self._voltage)

    def _offered_power(self) -> Fraction:
        return self._max_current * self.phases * self._voltage

    def _soc(self) -> Fraction:
        delivered = self._register - self._session_start
        return min(Fraction(100), self._session_soc + 100 * delivered / self._capacity)

    # -- sampled values ------------------------------------------------------------------

    def sample(
        self,
        now: float,
        measurands: Sequence[str],
        context: str = ReadingContext.SAMPLE_PERIODIC,
    ) -> list[dict[str, str]]:
        """SampledValue dicts (§7.43) for ``measurands`` at ``now``, in the order given.

        Current.Import and Voltage give one entry per phase on a three-phase meter (phases
        L1, L2, L3 and L1-N, L2-N, L3-N), one entry without a phase on a single-phase one.
        Energy.Active.Import.Interval is the energy since the previous sample with that
        measurand *in the same context*, or since the session start: the spec ties the
        interval to the context (MeterValueSampleInterval for Sample.Periodic,
        ClockAlignedDataInterval for Sample.Clock), so a Trigger sample does not cut a
        periodic interval short. This is the one reading that changes the meter's state.
        Locations: Outlet for the electrical readings, EV for SoC, Body for Temperature.
        Frequency has no unit: §7.45 UnitOfMeasure has none for it, so "unit" is left out.
        Raises ValueError for an unsupported measurand or unknown context, before anything
        changes.
        """
        if context not in _CONTEXTS:
            raise ValueError(f"unknown reading context {context!r}")
        unsupported = [m for m in measurands if m not in SUPPORTED_MEASURANDS]
        if unsupported:
            raise ValueError(f"unsupported measurand(s): {', '.join(map(str, unsupported))}")
        self._advance(now)
        values: list[dict[str, str]] = []
        for measurand in measurands:
            values.extend(self._sampled_values(Measurand(measurand), str(context)))
        return values

    def meter_value(
        self,
        now: float,
        measurands: Sequence[str],
        context: str = ReadingContext.SAMPLE_PERIODIC,
    ) -> dict[str, object]:
        """One MeterValue (§4.7): ``{"timestamp", "sampledValue"}``."""
        if not measurands:
            raise ValueError("a MeterValue needs at least one measurand")
        return {
            "timestamp": format_timestamp(now),
            "sampledValue": self.sample(now, measurands, context),
        }

    def _sampled_values(self, measurand: Measurand, context: str) -> list[dict[str, str]]:
        def entry(
            value: str,
            unit: UnitOfMeasure | None,
            location: Location = Location.OUTLET,
            phase: Phase | None = None,
        ) -> dict[str, str]:
            sampled = {
                "value": value,
                "context": context,
                "format": "Raw",
                "measurand": str(measurand),
                "location": str(location),
            }
            if unit is not None:
                sampled["unit"] = str(unit)
            if phase is not None:
                sampled["phase"] = str(phase)
            return sampled

        three_phase = self.phases == 3
        match measurand:
            case Measurand.ENERGY_ACTIVE_IMPORT_REGISTER:
                return [entry(str(round(self._register)), UnitOfMeasure.WH)]
            case Measurand.ENERGY_ACTIVE_IMPORT_INTERVAL:
                mark = self._interval_marks.get(context, self._session_start)
                self._interval_marks[context] = self._register
                return [entry(str(round(self._register - mark)), UnitOfMeasure.WH)]
            case Measurand.POWER_ACTIVE_IMPORT:
                return [entry(_one_decimal(self._power), UnitOfMeasure.W)]
            case Measurand.POWER_OFFERED:
                return [entry(_one_decimal(self._offered_power()), UnitOfMeasure.W)]
            case Measurand.CURRENT_IMPORT:
                current = _one_decimal(self._current())
                if not three_phase:
                    return [entry(current, UnitOfMeasure.A)]
                phases = (Phase.L1, Phase.L2, Phase.L3)
                return [entry(current, UnitOfMeasure.A, phase=p) for p in phases]
            case Measurand.CURRENT_OFFERED:
                return [entry(_one_decimal(self._max_current), UnitOfMeasure.A)]
            case Measurand.VOLTAGE:
                voltage = _one_decimal(self._voltage)
                if not three_phase:
                    return [entry(voltage, UnitOfMeasure.V)]
                phases = (Phase.L1_N, Phase.L2_N, Phase.L3_N)
                return [entry(voltage, UnitOfMeasure.V, phase=p) for p in phases]
            case Measurand.FREQUENCY:
                return [entry(_one_decimal(Fraction(FREQUENCY_HZ)), None)]
            case Measurand.TEMPERATURE:
                celsius = _AMBIENT_CELSIUS + self._power * _CELSIUS_PER_WATT
                return [entry(_one_decimal(celsius), UnitOfMeasure.CELSIUS, Location.BODY)]
            case Measurand.SOC:
                # Floor, so that "100" is reported only once ev_full() is true.
                percent = str(math.floor(self._soc()))
                return [entry(percent, UnitOfMeasure.PERCENT, Location.EV)]
        raise ValueError(f"unsupported measurand {measurand}")  # pragma: no cover


def main_meter_value(
    meters: Sequence[Meter],
    now: float,
    measurands: Sequence[str],
    context: str = ReadingContext.SAMPLE_PERIODIC,
) -> dict[str, object]:
    """One MeterValue (§4.7) of the charge point's main meter, connector 0 (§5.17: "the
    main controller"): ``{"timestamp", "sampledValue"}`` with the sum of every meter.

    The exact registers and powers are added before rounding, as one meter ahead of all the
    connectors would measure them; the total register may thus differ by a watt-hour from
    the sum of the connectors' rounded ones. Location Inlet: that meter sits where the grid
    comes in. Only :data:`MAIN_METER_MEASURANDS` add up; any other raises ValueError,
    before anything changes.
    """
    if not measurands:
        raise ValueError("a MeterValue needs at least one measurand")
    if context not in _CONTEXTS:
        raise ValueError(f"unknown reading context {context!r}")
    unsupported = [m for m in measurands if m not in MAIN_METER_MEASURANDS]
    if unsupported:
        listed = ", ".join(map(str, unsupported))
        raise ValueError(f"not a main meter measurand (only energy and power add up): {listed}")
    for meter in meters:
        meter._advance(now)
    values: list[dict[str, str]] = []
    for measurand in measurands:
        if measurand == Measurand.ENERGY_ACTIVE_IMPORT_REGISTER:
            total = sum((meter._register for meter in meters), Fraction(0))
            value, unit = str(round(total)), UnitOfMeasure.WH
        else:
            total = sum((meter._power for meter in meters), Fraction(0))
            value, unit = _one_decimal(total), UnitOfMeasure.W
        values.append(
            {
                "value": value,
                "context": str(context),
                "format": "Raw",
                "measurand": str(measurand),
                "location": str(Location.INLET),
                "unit": str(unit),
            }
        )
    return {"timestamp": format_timestamp(now), "sampledValue": values}

"""Reading a recorded session: its records, and what their frames say.

The input is either a ``--transcript`` of ``mockpoint run`` or ``mockpoint shell``
(``direction`` from the charge point's point of view) or the mock CSMS's ``--log`` (the
other way round); which one is told by the frames themselves: the direction of the first
CALL whose action only a charge point sends (BootNotification, StatusNotification, ...),
unless ``--from`` says it (docs/reference/record.md). :func:`read_records` gives
:class:`Record` s, ``direction`` always from the charge point's point of view, and
:func:`charge_points` the charge points they are of.

The rest reads frames for :mod:`~mockpoint.scenario.record.replay` and
:mod:`~mockpoint.scenario.record.configuration`: the charge point's own time in a request
(the mock CSMS's log has no virtual time of the charge point, its ``virtual_time`` being the
CSMS's clock), the energy register and power a MeterValues sample reads (OCPP 1.6 §4.7),
whether a value is an RFC 3339 time, and whether the session's clock ran by itself (see
"A clock that ran" in the replay's docstring).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mockpoint.clock import parse_timestamp
from mockpoint.errors import UsageError
from mockpoint.ocpp16.actions import ACTIONS
from mockpoint.rpc.frames import MessageType

#: ``transcript``: ``mockpoint run --transcript``; ``csms-log``: ``mockpoint csms --log``.
Origin = Literal["transcript", "csms-log"]

_CALL, _RESULT, _ERROR = MessageType.CALL, MessageType.CALLRESULT, MessageType.CALLERROR
ENERGY = "Energy.Active.Import.Register"
_POWER = "Power.Active.Import"


@dataclass(frozen=True)
class Record:
    """One frame; ``direction`` is always from the charge point's point of view."""

    #: the line of the input it came from (1-based)
    line: int
    cp: str
    direction: Literal["out", "in"]
    frame: Any
    virtual_time: str | None

    @property
    def kind(self) -> int | None:
        frame = self.frame
        if isinstance(frame, list) and frame and frame[0] in (_CALL, _RESULT, _ERROR):
            return int(frame[0])
        return None

    @property
    def unique_id(self) -> str | None:
        frame = self.frame
        return frame[1] if self.kind and len(frame) > 1 and isinstance(frame[1], str) else None


def read_records(
    text: str, source: str, origin: Origin | None = None
) -> tuple[list[Record], Origin]:
    """The records of a transcript or a frame log, and which of the two it is.

    Raises :class:`UsageError` naming ``source`` and the line of the first broken record.
    """
    raw: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except (ValueError, RecursionError) as exc:
            raise UsageError(f"{source}:{number}: not a JSON object: {exc}") from None
        raw.append((number, _checked(data, source, number)))
    if not raw:
        raise UsageError(f"{source}: no frames in it")
    found = origin or _detect(raw)
    records = []
    for number, data in raw:
        direction: Literal["out", "in"] = "out" if data["direction"] == "out" else "in"
        if found == "csms-log":
            direction = "in" if direction == "out" else "out"
        time = data.get("virtual_time")
        records.append(Record(number, data["cp"], direction, data["frame"], time))
    return records, found


def _checked(data: object, source: str, number: int) -> dict[str, Any]:
    where = f"{source}:{number}"
    if not isinstance(data, dict):
        raise UsageError(f"{where}: expected a JSON object with cp, direction and frame")
    for key in ("cp", "direction", "frame"):
        if key not in data:
            raise UsageError(f"{where}: no {key!r} (is this a transcript or a frame log?)")
    if not isinstance(data["cp"], str) or not data["cp"]:
        raise UsageError(f"{where}: 'cp' must be a charge point id, got {data['cp']!r}")
    if data["direction"] not in ("in", "out"):
        raise UsageError(f'{where}: \'direction\' must be "in" or "out"')
    time = data.get("virtual_time")
    if time is not None:
        try:
            parse_timestamp(str(time))
        except ValueError:
            raise UsageError(f"{where}: 'virtual_time' is not an RFC 3339 time: {time!r}") from None
    return data


def _detect(raw: list[tuple[int, dict[str, Any]]]) -> Origin:
    """By the first CALL whose action only one side sends: who sent it."""
    for _, data in raw:
        frame = data["frame"]
        if not (isinstance(frame, list) and len(frame) >= 3 and frame[0] == _CALL):
            continue
        info = ACTIONS.get(str(frame[2]))
        if info is None or info.sent_by_charge_point() == info.sent_by_central_system():
            continue
        by_cp = data["direction"] == "out"
        return "transcript" if by_cp == info.sent_by_charge_point() else "csms-log"
    return "transcript"


def charge_points(records: Sequence[Record]) -> list[str]:
    """The charge point ids of ``records``, in order of appearance."""
    return list(dict.fromkeys(record.cp for record in records))


def parse_time(text: str) -> float | None:
    try:
        return parse_timestamp(text)
    except ValueError:
        return None


def payload_time(action: str, payload: object) -> float | None:
    """The charge point's own time in a request it sent, where it says one."""
    if not isinstance(payload, dict):
        return None
    if action in ("StatusNotification", "StartTransaction", "StopTransaction"):
        stamp = payload.get("timestamp")
        return parse_time(stamp) if isinstance(stamp, str) else None
    if action == "MeterValues":
        times = [
            parse_time(value["timestamp"])
            for value in payload.get("meterValue", [])
            if isinstance(value, dict) and isinstance(value.get("timestamp"), str)
        ]
        known = [time for time in times if time is not None]
        return max(known) if known else None
    return None


def _reading(value: object) -> tuple[float, int, float | None] | None:
    """(time, Wh, W or None) of one MeterValue (§7.17), if it reads the energy register."""
    if not isinstance(value, dict) or not isinstance(value.get("timestamp"), str):
        return None
    when = parse_time(value["timestamp"])
    energy: int | None = None
    power: float | None = None
    for sample in value.get("sampledValue", []):
        if not isinstance(sample, dict) or sample.get("phase"):
            continue
        try:
            number = float(sample.get("value", ""))
        except ValueError:
            continue
        unit = sample.get("unit", "")
        measurand = sample.get("measurand", ENERGY)
        if measurand == ENERGY and energy is None:
            energy = round(number * 1000) if unit == "kWh" else round(number)
        elif measurand == _POWER and power is None:
            power = number * 1000 if unit == "kW" else number
    if when is None or energy is None:
        return None
    return when, energy, power


def is_time(value: object) -> bool:
    if not isinstance(value, str) or len(value) < 19 or value[4] != "-" or "T" not in value:
        return False
    return parse_time(value) is not None


def _clock_ran(records: Sequence[Record], origin: Origin, times: list[float | None]) -> bool:
    """Whether the session's clock ran by itself (any speed but 0). In a transcript an
    answer then comes later in virtual time than its request (at speed 0 time stands while
    the peer answers); a frame log has only the charge point's own times, which a frozen
    clock sets whole seconds apart (as scenarios wait), a running one anywhere."""
    if origin == "transcript":
        asked: dict[tuple[str, str], str | None] = {}
        for record in records:
            if record.unique_id is None:
                continue
            if record.kind == _CALL:
                asked[(record.direction, record.unique_id)] = record.virtual_time
                continue
            other = "in" if record.direction == "out" else "out"
            sent = asked.get((other, record.unique_id))
            if sent and record.virtual_time and sent != record.virtual_time:
                return True
        return False
    known = [time for time in times if time is not None]
    first = min(known, default=0.0)
    return any(abs(t - first - round(t - first)) > 0.0005 for t in known)

"""Fuzzing the charge point with what a hostile CSMS can send: random text, random JSON,
mutations of valid frames and valid CSMS requests with mutated payloads, from a seeded
generator (``random.Random(seed)``: the same frames on every run, on every machine).

Two harnesses:

- sans I/O: every frame goes through :meth:`RpcSession.receive` on the charge point's side,
  with the station model answering the requests the session lets through. Per frame: it
  never raises; a frame whose unique id can be read and that is no answer gets exactly one
  answer, with that id; the answer is a valid text message (UTF-8, strict JSON) and a valid
  CALLRESULT (per the OCA response schema, checked with the independent ``jsonschema``
  validator) or CALLERROR (a 1.6 code); the CALLERROR codes agree with what ``jsonschema``
  says about the request; the answers to the charge point's own calls become the right event.
- over a real loopback WebSocket: a hostile server sends frames into a running
  :class:`ChargePoint`; it must stay connected, answer every well-formed CALL exactly once,
  never hang (every wait bounded), and keep its memory bounded (traced by ``tracemalloc``).

Sizes: ``MOCKPOINT_FUZZ_FRAMES`` frames through the session (default 100,000: some 20 s),
a tenth of them, at least 5,000, over the socket (10,000: some 12 s, tracemalloc slowing it
fourfold); the whole file stays under a minute on 2 cores. ``MOCKPOINT_FUZZ_SEED`` (default 1)
picks other frames. The release check runs a million (some 6 minutes), with another seed::

    MOCKPOINT_FUZZ_FRAMES=1000000 MOCKPOINT_FUZZ_SEED=2 \\
        .venv/bin/python -m pytest tests/robustness/test_fuzz_frames.py --timeout 3600 -q -s

(``-s`` shows the counts: frames, answers by kind, time, traced memory.)
"""

from __future__ import annotations

import asyncio
import contextlib
import decimal
import json
import logging
import os
import random
import re
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import jsonschema
import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from conftest import UNIT
from mockpoint.clock import VirtualClock, parse_timestamp
from mockpoint.errors import ErrorCode, OcppError
from mockpoint.ids import SeededIds
from mockpoint.ocpp16.actions import ACTIONS
from mockpoint.ocpp16.schemas import load_schema
from mockpoint.rpc.session import (
    CallReceived,
    ErrorReceived,
    InvalidAnswer,
    RemoteViolation,
    ResultReceived,
    RpcSession,
)
from mockpoint.runtime.charge_point import ChargePoint
from mockpoint.station.configuration import Configuration
from mockpoint.station.handlers import HANDLERS, handle
from mockpoint.station.station import Identity, Station
from mockpoint.transport.websocket import connect

FRAMES = int(os.environ.get("MOCKPOINT_FUZZ_FRAMES", "100000"))
SEED = int(os.environ.get("MOCKPOINT_FUZZ_SEED", "1"))
#: over the socket (slower, and traced by tracemalloc): a tenth, at least 5,000
SOCKET_FRAMES = max(5_000, FRAMES // 10)

NOW = "2025-06-01T08:00:00Z"
START = parse_timestamp(NOW)
CP = "CP-FUZZ"

# --- an independent oracle ------------------------------------------------------------------

ERROR_CODES = frozenset(
    [
        "NotImplemented",
        "NotSupported",
        "InternalError",
        "ProtocolError",
        "SecurityError",
        "FormationViolation",
        "PropertyConstraintViolation",
        "OccurenceConstraintViolation",
        "TypeConstraintViolation",
        "GenericError",
    ]
)
CONSTRAINT_CODES = frozenset(
    [
        "FormationViolation",
        "PropertyConstraintViolation",
        "OccurenceConstraintViolation",
        "TypeConstraintViolation",
    ]
)
#: docs/behaviour.md, "CALLERROR codes", for the schema keywords it names
CODE_OF_KEYWORD = {
    "required": "OccurenceConstraintViolation",
    "type": "TypeConstraintViolation",
    "additionalProperties": "FormationViolation",
    "enum": "PropertyConstraintViolation",
    "maxLength": "PropertyConstraintViolation",
    "format": "PropertyConstraintViolation",
}


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(text: str, *, exact: bool = False) -> Any:
    """``text`` decoded as RFC 8259 JSON (no NaN, no Infinity), or raises ValueError.

    ``exact``: floats as Decimal, so that ``multipleOf: 0.1`` is checked exactly."""
    try:
        return json.loads(
            text, parse_constant=_no_constant, parse_float=decimal.Decimal if exact else float
        )
    except RecursionError:
        raise ValueError("nested too deeply") from None


_VALIDATORS: dict[tuple[str, bool], jsonschema.Draft4Validator] = {}
#: verdicts by payload text: the station's answers and the valid requests repeat a lot
_VERDICTS: dict[tuple[str, bool, str], list[Any]] = {}


def oca_errors(action: str, payload: Any, *, response: bool = False) -> list[Any]:
    """The jsonschema errors of ``payload`` (floats as Decimal) against the OCA schema."""
    text = json.dumps(payload, default=lambda number: {"$decimal": str(number)})
    errors = _VERDICTS.get((action, response, text))
    if errors is None:
        if len(_VERDICTS) > 100_000:
            _VERDICTS.clear()
        errors = _VERDICTS[action, response, text] = _oca_errors(action, payload, response)
    return errors


def _oca_errors(action: str, payload: Any, response: bool) -> list[Any]:
    key = (action, response)
    validator = _VALIDATORS.get(key)
    if validator is None:
        # The schema's own numbers as Decimal too: multipleOf divides one by the other.
        schema = json.loads(json.dumps(load_schema(action, response)), parse_float=decimal.Decimal)
        checker = jsonschema.Draft4Validator.FORMAT_CHECKER
        validator = jsonschema.Draft4Validator(schema, format_checker=checker)
        _VALIDATORS[key] = validator
    return list(validator.iter_errors(payload))


def has_huge_number(value: Any) -> bool:
    """A number beyond the float range: mockpoint refuses it (validation.py), jsonschema
    with Decimal does not; no OCPP quantity is that large, so either answer is fine."""
    if isinstance(value, decimal.Decimal | float):
        return not abs(decimal.Decimal(value)) < decimal.Decimal("1e300")
    if isinstance(value, int) and not isinstance(value, bool):
        return abs(value) >= 10**300
    if isinstance(value, dict):
        return any(has_huge_number(v) for v in value.values())
    if isinstance(value, list):
        return any(has_huge_number(v) for v in value)
    return False


def well_formed_call(data: Any) -> bool:
    return (
        isinstance(data, list)
        and len(data) == 4
        and type(data[0]) is int
        and data[0] == 2
        and readable_id(data) is not None
        and isinstance(data[2], str)
        and data[2] != ""
        and isinstance(data[3], dict)
    )


def readable_id(data: Any) -> str | None:
    """The unique id of a decoded frame: a string of 1 to 36 characters in position 1."""
    if isinstance(data, list) and len(data) >= 2 and isinstance(data[1], str):
        if 0 < len(data[1]) <= 36:
            return data[1]
    return None


def is_answer_type(data: Any) -> bool:
    return isinstance(data, list) and len(data) >= 1 and type(data[0]) is int and data[0] in (3, 4)


def check_answer_text(text: str) -> list[Any]:
    """An answer the charge point sent: valid UTF-8, strict JSON, a CALLRESULT or CALLERROR."""
    text.encode("utf-8")  # a text message must be UTF-8 (RFC 6455 §5.6)
    frame = strict_json(text)
    assert isinstance(frame, list) and frame[0] in (3, 4), text
    assert isinstance(frame[1], str) and 0 < len(frame[1]) <= 36, text
    if frame[0] == 3:
        assert len(frame) == 3 and isinstance(frame[2], dict), text
    else:
        assert len(frame) == 5, text
        assert frame[2] in ERROR_CODES, text
        assert isinstance(frame[3], str) and isinstance(frame[4], dict), text
    return frame


# --- the generator ---------------------------------------------------------------------------

KEYS = [
    "AllowOfflineTxForUnknownId",
    "AuthorizationCacheEnabled",
    "AuthorizeRemoteTxRequests",
    "ClockAlignedDataInterval",
    "ConnectionTimeOut",
    "ConnectorPhaseRotation",
    "GetConfigurationMaxKeys",
    "HeartbeatInterval",
    "LocalAuthorizeOffline",
    "LocalPreAuthorize",
    "MeterValuesAlignedData",
    "MeterValuesSampledData",
    "MeterValueSampleInterval",
    "NumberOfConnectors",
    "ResetRetries",
    "StopTransactionOnEVSideDisconnect",
    "StopTransactionOnInvalidId",
    "StopTxnAlignedData",
    "StopTxnSampledData",
    "SupportedFeatureProfiles",
    "TransactionMessageAttempts",
    "TransactionMessageRetryInterval",
    "UnlockConnectorOnEVSideDisconnect",
    "WebSocketPingInterval",
    "LocalAuthListEnabled",
    "LocalAuthListMaxLength",
    "SendLocalListMaxLength",
    "ReserveConnectorZeroSupported",
    "AuthorizationKey",
    "SecurityProfile",
    "NoSuchKey",
    "heartbeatinterval",
]
#: keys whose change makes the charge point reconnect (security whitepaper): not over the socket
RECONNECTING_KEYS = frozenset({"AuthorizationKey", "SecurityProfile"})
VALUES = [
    "0",
    "1",
    "-1",
    "30",
    "300",
    "86400",
    "2147483648",
    "true",
    "false",
    "TRUE",
    "",
    " ",
    "abc",
    "1.5",
    "Energy.Active.Import.Register",
    "Energy.Active.Import.Register,Power.Active.Import",
    "Voltage,Current.Import,SoC",
    "Nonsense.Measurand",
    "0.RST,1.RST",
    "0123456789abcdef",
    "x" * 500,
]
TAGS = ["TAG-1", "TAG-2", "BLOCKED", "", "ü" * 20, "x" * 20, "x" * 21, "a b", "\u0000"]
DATES = [
    NOW,
    "2025-06-01T09:00:00Z",
    "2024-01-01T00:00:00Z",
    "2099-12-31T23:59:59.999Z",
    "2025-06-01T08:00:00+02:00",
    "2025-06-01t08:00:00z",
    "2025-06-01T08:00:00",
    "2025-06-01 08:00:00Z",
    "2025-06-01T08:00:00+0200",
    "2025-02-30T08:00:00Z",
    "2025-06-01T24:00:00Z",
    "2016-12-31T23:59:60Z",
    "0000-01-01T00:00:00Z",
    "2025-06-01T08:00:00.123456789123Z",
    "٢٠٢٥-06-01T08:00:00Z",
    "tomorrow",
    "",
]
NUMBERS: list[Any] = [
    0,
    1,
    2,
    3,
    -1,
    -0.0,
    0.1,
    1.5,
    2**31 - 1,
    2**31,
    -(2**31),
    2**53 + 1,
    2**63,
    -(2**63),
    10**30,
    1e308,
    -1e308,
    5e-324,
    1e-7,
]
STRINGS = [
    "",
    " ",
    "Soft",
    "soft",
    "Accepted",
    "\u0000",
    "\n",
    '"',
    "\\",
    "é",
    "💥",
    "\u202e",
    "\ufeff",
    "\ud800",
    "x" * 37,
    "y" * 501,
    '[2,"x","Reset",{}]',
]
TRIGGERS = [
    "BootNotification",
    "DiagnosticsStatusNotification",
    "FirmwareStatusNotification",
    "Heartbeat",
    "MeterValues",
    "StatusNotification",
]
AUTH_STATUSES = ["Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"]
UNKNOWN_ACTIONS = ["FlyToTheMoon", "reset", "RESET", "Reset ", "", "BootNotification.req", "💥"]


class FrameGenerator:
    """Seeded frames a hostile CSMS might send (see the module docstring)."""

    def __init__(self, seed: int, *, reconnects: bool = True) -> None:
        self.rng = random.Random(seed)
        #: whether requests that make the charge point reconnect (a valid Reset, a new
        #: AuthorizationKey or SecurityProfile) may be sent
        self.reconnects = reconnects
        #: how many ids ``new_id`` gave out: g1 ... g<issued>
        self.issued = 0
        self._recent_ids: list[str] = ["dup"]

    # --- ids and values ------------------------------------------------------------------

    def new_id(self) -> str:
        self.issued += 1
        unique_id = f"g{self.issued}"
        if len(self._recent_ids) > 50:
            self._recent_ids.pop(0)
        self._recent_ids.append(unique_id)
        return unique_id

    def some_id(self) -> Any:
        rng = self.rng
        roll = rng.random()
        if roll < 0.7:
            return self.new_id()
        if roll < 0.8:
            return rng.choice(self._recent_ids)  # a duplicate
        return rng.choice(
            ["", "x" * 36, "x" * 37, "ü" * 36, "\ud800", " ", 7, None, [], {}, True, 1.5]
        )

    def scalar(self) -> Any:
        rng = self.rng
        roll = rng.random()
        if roll < 0.35:
            return rng.choice(NUMBERS)
        if roll < 0.7:
            return rng.choice(STRINGS + TAGS + DATES)
        if roll < 0.8:
            return rng.choice([True, False, None])
        return "".join(rng.choice("abcxyz019 .,-_é💥") for _ in range(rng.randint(0, 12)))

    def value(self, depth: int = 0) -> Any:
        """Random JSON."""
        rng = self.rng
        roll = rng.random()
        if depth >= 3 or roll < 0.6:
            return self.scalar()
        if roll < 0.8:
            return [self.value(depth + 1) for _ in range(rng.randint(0, 4))]
        keys = rng.sample(["idTag", "type", "status", "key", "value", "connectorId", "a", ""], 3)
        return {key: self.value(depth + 1) for key in keys[: rng.randint(0, 3)]}

    # --- valid requests ------------------------------------------------------------------

    def tag(self) -> str:
        return self.rng.choice(TAGS[:3])

    def request(self) -> tuple[str, dict[str, Any]]:
        """A valid request for an action the charge point handles."""
        rng = self.rng
        action = rng.choice(sorted(HANDLERS))
        connector = rng.choice([0, 1, 2, 3])
        payload: dict[str, Any]
        if action == "ChangeAvailability":
            payload = {"connectorId": connector, "type": rng.choice(["Inoperative", "Operative"])}
        elif action == "ChangeConfiguration":
            keys = [k for k in KEYS if self.reconnects or k not in RECONNECTING_KEYS]
            payload = {"key": rng.choice(keys), "value": rng.choice(VALUES)}
        elif action == "GetConfiguration":
            payload = {"key": rng.sample(KEYS, rng.randint(0, 4))} if rng.random() < 0.7 else {}
        elif action == "RemoteStartTransaction":
            payload = {"idTag": self.tag()}
            if rng.random() < 0.5:
                payload["connectorId"] = connector
            if rng.random() < 0.2:
                payload["chargingProfile"] = self.charging_profile()
        elif action == "RemoteStopTransaction":
            payload = {"transactionId": rng.randint(-1, 4)}
        elif action == "Reset":
            if not self.reconnects:
                return "GetLocalListVersion", {}
            payload = {"type": rng.choice(["Soft", "Hard"])}
        elif action == "UnlockConnector":
            payload = {"connectorId": connector}
        elif action == "TriggerMessage":
            payload = {"requestedMessage": rng.choice(TRIGGERS)}
            if rng.random() < 0.5:
                payload["connectorId"] = connector
        elif action == "ReserveNow":
            payload = {
                "connectorId": connector,
                "expiryDate": rng.choice(DATES[:4]),
                "idTag": self.tag(),
                "reservationId": rng.randint(0, 5),
            }
            if rng.random() < 0.3:
                payload["parentIdTag"] = self.tag()
        elif action == "CancelReservation":
            payload = {"reservationId": rng.randint(0, 5)}
        elif action == "SendLocalList":
            payload = {
                "listVersion": rng.randint(-1, 10),
                "updateType": rng.choice(["Full", "Differential"]),
            }
            if rng.random() < 0.8:
                entries = []
                for _ in range(rng.randint(0, 4)):
                    entry: dict[str, Any] = {"idTag": self.tag()}
                    if rng.random() < 0.7:
                        info: dict[str, Any] = {"status": rng.choice(AUTH_STATUSES)}
                        if rng.random() < 0.3:
                            info["expiryDate"] = rng.choice(DATES[:4])
                        if rng.random() < 0.3:
                            info["parentIdTag"] = self.tag()
                        entry["idTagInfo"] = info
                    entries.append(entry)
                payload["localAuthorizationList"] = entries
        else:  # ClearCache, GetLocalListVersion
            payload = {}
        return action, payload

    def charging_profile(self) -> dict[str, Any]:
        rng = self.rng
        return {
            "chargingProfileId": rng.randint(1, 9),
            "stackLevel": 0,
            "chargingProfilePurpose": "TxProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": {
                "chargingRateUnit": rng.choice(["A", "W"]),
                "chargingSchedulePeriod": [
                    {"startPeriod": 0, "limit": rng.choice([16, 6.1, 32.5, 0.1])}
                ],
            },
        }

    def answer_payload(self, action: str) -> dict[str, Any]:
        """A valid answer to a request of the charge point."""
        rng = self.rng
        info = {"status": rng.choice(AUTH_STATUSES)}
        answers: dict[str, dict[str, Any]] = {
            "BootNotification": {
                "status": rng.choice(["Accepted", "Pending", "Rejected"]),
                "currentTime": NOW,
                "interval": rng.choice([0, 10, 300]),
            },
            "Heartbeat": {"currentTime": rng.choice(DATES[:4])},
            "Authorize": {"idTagInfo": info},
            "StartTransaction": {"transactionId": rng.randint(1, 5), "idTagInfo": info},
            "StopTransaction": {"idTagInfo": info} if rng.random() < 0.5 else {},
        }
        return answers.get(action, {})

    # --- mutations -----------------------------------------------------------------------

    def mutate_payload(self, payload: dict[str, Any]) -> dict[str, Any]:
        """One or more of: delete, add, retype, stretch a field, anywhere in the payload."""
        rng = self.rng
        payload = json.loads(json.dumps(payload))  # a deep copy
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            target, key = self._somewhere(payload)
            roll = rng.random()
            if key is None or roll < 0.15:
                name = rng.choice(["extra", "idtag", "IdTag", "", "💥", "x" * 100])
                if isinstance(target, dict):
                    target[name] = self.value()
                elif isinstance(target, list):
                    target.append(self.value())
            elif roll < 0.35:
                del target[key]
            elif roll < 0.7:
                target[key] = self.value()
            elif roll < 0.8:
                target[key] = rng.choice(NUMBERS)
            elif roll < 0.9:
                target[key] = rng.choice(STRINGS + DATES)
            else:
                target[key] = [target[key]] if rng.random() < 0.5 else {"value": target[key]}
        return payload

    def _somewhere(self, payload: dict[str, Any]) -> tuple[Any, Any]:
        """A random container inside ``payload`` and one of its keys (None: it is empty)."""
        target: Any = payload
        while True:
            keys: list[Any] = list(target) if isinstance(target, dict) else list(range(len(target)))
            if not keys:
                return target, None
            key = self.rng.choice(keys)
            if isinstance(target[key], dict | list) and target[key] and self.rng.random() < 0.5:
                target = target[key]
                continue
            return target, key

    def mutate_frame(self, frame: list[Any]) -> list[Any]:
        rng = self.rng
        frame = list(frame)
        roll = rng.random()
        index = rng.randrange(len(frame))
        if roll < 0.2:
            del frame[index]
        elif roll < 0.35:
            frame.insert(rng.randint(0, len(frame)), self.value())
        elif roll < 0.6:
            frame[index] = self.value()
        elif roll < 0.7:
            frame[0] = rng.choice([0, 1, 5, 6, -1, 2**64, 2.0, "2", True, None, 3, 4, 2])
        elif roll < 0.8:
            frame[1] = self.some_id()
        elif roll < 0.9 and len(frame) > 2:
            frame[2] = rng.choice(UNKNOWN_ACTIONS + [7, None, ["Reset"], {}])
        else:
            depth = rng.choice([2, 10, 100, 500])
            for _ in range(depth):
                frame[index] = [frame[index]]
        return frame

    def mutate_text(self, text: str) -> str:
        rng = self.rng
        if not text:
            return rng.choice(["[", "]", "{}", " "])
        roll = rng.random()
        position = rng.randrange(len(text))
        if roll < 0.3:
            return text[:position]
        if roll < 0.45:
            return text[:position] + text[position + 1 :]
        if roll < 0.6:
            return text[:position] + rng.choice('[]{}",:0\\ \u0000💥') + text[position:]
        if roll < 0.7:
            end = min(len(text), position + rng.randint(1, 20))
            return text[:end] + text[position:end] + text[end:]
        if roll < 0.8:
            return text.replace("0", rng.choice(["NaN", "Infinity", "-Infinity", "1e999"]), 1)
        if roll < 0.9:
            return (
                text[:position] + rng.choice(["\\ud800", "\\x41", "\\u00", '\\"']) + text[position:]
            )
        return rng.choice(["\ufeff", " \n\t", "\u0000"]) + text + rng.choice(["", "\n", "]", ","])

    # --- frames ------------------------------------------------------------------------------

    def random_text(self) -> str:
        rng = self.rng
        alphabet = rng.choice(['[]{}",:0123 ', "abc\u0000\x7f\n é💥\ud7ff\ue000", '[2,"x"]{}'])
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))

    def frame(self, in_flight: tuple[str, str] | None = None) -> str:
        """The next frame; ``in_flight`` is the (id, action) of the charge point's CALL
        waiting for its answer, to which some frames answer."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.30:
            action, payload = self.request()
            return json.dumps([2, self.new_id(), action, payload], ensure_ascii=rng.random() < 0.5)
        if roll < 0.45:
            action, payload = self.request()
            payload = self.mutate_payload(payload)
            return json.dumps([2, self.new_id(), action, payload])
        if roll < 0.52:
            actions = [a for a in ACTIONS if self.reconnects or a != "Reset"]
            action = rng.choice(sorted(actions) + UNKNOWN_ACTIONS)
            return json.dumps(
                [2, self.new_id(), action, self.value() if rng.random() < 0.3 else {}]
            )
        if roll < 0.62 and in_flight is not None:
            return self.answer(*in_flight)
        if roll < 0.72:
            action, payload = self.request()
            frame = self.mutate_frame([2, self.new_id(), action, payload])
            return json.dumps(frame)
        if roll < 0.82:
            action, payload = self.request()
            return self.mutate_text(json.dumps([2, self.new_id(), action, payload]))
        if roll < 0.9:
            return json.dumps(self.value())
        if roll < 0.998:
            return self.random_text()
        return rng.choice(
            [
                "[" * 100_000 + "]" * 100_000,
                '[2,"' + self.new_id() + '","Reset",{"type":"' + "S" * 200_000 + '"}]',
                '[2,"'
                + self.new_id()
                + '","GetConfiguration",{"key":'
                + json.dumps(KEYS * 50)
                + "}]",
                "[2," + "9" * 5000 + "]",
            ]
        )

    def answer(self, unique_id: str, action: str) -> str:
        """A CALLRESULT or CALLERROR for the charge point's call: valid, or mutated."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.4:
            return json.dumps([3, unique_id, self.answer_payload(action)])
        if roll < 0.6:
            payload = self.mutate_payload(self.answer_payload(action) or {"a": 1})
            return json.dumps([3, unique_id, payload])
        if roll < 0.75:
            code = rng.choice(sorted(ERROR_CODES) + ["OccurrenceConstraintViolation", "Teapot", ""])
            return json.dumps([4, unique_id, code, rng.choice(["", "oops", "é" * 300]), {}])
        frame: list[Any] = [3, unique_id, self.answer_payload(action)]
        if rng.random() < 0.5:
            frame = [4, unique_id, "InternalError", "", {}]
        return json.dumps(self.mutate_frame(frame))


# --- (a) sans I/O, through the session ---------------------------------------------------------


def new_station() -> Station:
    clock = VirtualClock(START, speed=0)
    identity = Identity(CP, vendor="Acme", model="AC22", connectors=2)
    return Station(identity, clock, Configuration(None, number_of_connectors=2))


@dataclass
class Tally:
    frames: int = 0
    calls_answered: int = 0
    results: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    own_answers: Counter[str] = field(default_factory=Counter)
    #: a request answered InternalError, or an exception out of the station: a bug
    station_bugs: list[str] = field(default_factory=list)
    #: mockpoint's and jsonschema's verdicts on a request differ
    disagreements: list[str] = field(default_factory=list)


CP_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("Heartbeat", {}),
    ("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "AC22"}),
    ("Authorize", {"idTag": "TAG-1"}),
    ("StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Available"}),
    ("StartTransaction", {"connectorId": 1, "idTag": "TAG-1", "meterStart": 0, "timestamp": NOW}),
    ("StopTransaction", {"transactionId": 1, "meterStop": 10, "timestamp": NOW}),
    (
        "MeterValues",
        {"connectorId": 1, "meterValue": [{"timestamp": NOW, "sampledValue": [{"value": "1"}]}]},
    ),
]


def fuzz_session(count: int, seed: int) -> Tally:
    """``count`` frames through a charge point's session; asserts per frame."""
    generator = FrameGenerator(seed)
    rng = random.Random(seed + 1)
    tally = Tally()
    session = RpcSession(HANDLERS.keys(), ids=SeededIds(seed))
    station = new_station()
    now = 0.0
    for n in range(count):
        if n % 500 == 0:
            station = new_station()  # bounded state: the outbox is never sent here
        if session.in_flight is None:
            action, payload = rng.choice(CP_CALLS)
            session.call(action, payload, now)
        assert len(session.data_to_send()) <= 1
        flight = session.in_flight
        assert flight is not None
        text = generator.frame((flight.unique_id, flight.action))
        now += 0.001
        events = session.receive(text, now)  # never raises
        assert events, f"no event for {text[:200]!r}"
        for event in events:
            if isinstance(event, CallReceived):
                answer_request(session, station, event.call.action, event, tally)
        sent = session.data_to_send()
        check_frame(text, events, sent, flight, tally)
        assert session.unanswered == []
        tally.frames += 1
    return tally


def answer_request(
    session: RpcSession, station: Station, action: str, event: CallReceived, tally: Tally
) -> None:
    """As the endpoint does: the station's answer, its OcppError as a CALLERROR, anything
    else an InternalError (and a station bug)."""
    try:
        payload = handle(station, action, event.call.payload)
    except OcppError as exc:
        session.reply_error(event.call, exc.code, exc.description, exc.details)
        return
    except Exception as exc:  # a bug in the station: recorded, answered
        tally.station_bugs.append(f"{action} {event.call.payload!r}: {type(exc).__name__}: {exc}")
        session.reply_error(event.call, ErrorCode.INTERNAL_ERROR, type(exc).__name__)
        return
    session.reply(event.call, payload)


def check_frame(text: str, events: list[Any], sent: list[str], flight: Any, tally: Tally) -> None:
    where = f"frame {text[:300]!r}, answered {[s[:300] for s in sent]}"
    answers = [check_answer_text(s) for s in sent]
    try:
        data = strict_json(text, exact=True)
    except ValueError:
        # Not JSON: answered only when the id could still be read (once, FormationViolation).
        assert len(answers) <= 1, where
        if answers:
            assert answers[0][0] == 4 and answers[0][2] == "FormationViolation", where
            assert text.lstrip("\ufeff \t\n\r").startswith("["), where
        tally.errors.update(a[2] for a in answers)
        return
    unique_id = readable_id(data)
    if unique_id is None or is_answer_type(data):
        assert answers == [], where
    else:
        assert len(answers) == 1, where
        assert answers[0][1] == unique_id, where
        tally.calls_answered += 1
    if answers and answers[0][0] == 3:
        tally.results += 1
    elif answers:
        tally.errors[answers[0][2]] += 1
    if well_formed_call(data):
        check_call(data, answers[0], where, tally)
    elif is_answer_type(data) and unique_id == flight.unique_id:
        check_own_answer(data, events, flight, where, tally)
    else:
        assert not any(isinstance(e, ResultReceived | ErrorReceived) for e in events), where


def check_call(data: list[Any], reply: list[Any], where: str, tally: Tally) -> None:
    """The answer to a well-formed CALL agrees with ACTIONS, HANDLERS and jsonschema."""
    action, payload = data[2], data[3]
    code = reply[2] if reply[0] == 4 else None
    if action not in ACTIONS:
        assert code == "NotImplemented", where
        return
    if action not in HANDLERS:
        assert code == "NotSupported", where
        return
    if code == "InternalError":
        tally.station_bugs.append(where)
        return
    errors = oca_errors(action, payload)
    if has_huge_number(payload):
        return
    if errors:
        if code not in CONSTRAINT_CODES:
            tally.disagreements.append(f"jsonschema: {errors[0].message}; {where}")
        elif len(errors) == 1 and errors[0].validator in CODE_OF_KEYWORD:
            if code != CODE_OF_KEYWORD[str(errors[0].validator)]:
                tally.disagreements.append(f"{errors[0].validator} -> {code}; {where}")
        return
    if code is not None:
        if code in CONSTRAINT_CODES:
            tally.disagreements.append(f"jsonschema: valid; {where}")
        return
    response = strict_json(json.dumps(reply[2]), exact=True)
    assert oca_errors(action, response, response=True) == [], where


def check_own_answer(
    data: list[Any], events: list[Any], flight: Any, where: str, tally: Tally
) -> None:
    """An answer to the charge point's call in flight: the right event, or a violation."""
    (event,) = events
    shape_ok = (data[0] == 3 and len(data) == 3 and isinstance(data[2], dict)) or (
        data[0] == 4
        and len(data) == 5
        and isinstance(data[2], str)
        and isinstance(data[3], str)
        and isinstance(data[4], dict)
    )
    if not shape_ok:
        assert isinstance(event, RemoteViolation), where
        tally.own_answers["malformed"] += 1
        return
    if data[0] == 4:
        assert isinstance(event, ErrorReceived) and event.call == flight, where
        tally.own_answers["callerror"] += 1
        return
    errors = oca_errors(flight.action, data[2], response=True)
    if has_huge_number(data[2]):
        assert isinstance(event, ResultReceived | InvalidAnswer), where
    elif errors:
        assert isinstance(event, InvalidAnswer) and event.call == flight, where
        tally.own_answers["invalid"] += 1
    else:
        assert isinstance(event, ResultReceived) and event.call == flight, where
        tally.own_answers["valid"] += 1


def test_the_generator_is_deterministic() -> None:
    """Same seed, same frames, whatever the global random state."""
    frames = []
    for global_seed in (1, 2):
        random.seed(global_seed)
        generator = FrameGenerator(SEED)
        frames.append([generator.frame(("id", "Heartbeat")) for _ in range(2000)])
    assert frames[0] == frames[1]
    assert frames[0] != [FrameGenerator(SEED + 1).frame(("id", "Heartbeat")) for _ in range(2000)]


@pytest.mark.slow
def test_fuzz_the_session_sans_io() -> None:
    started = time.perf_counter()
    tally = fuzz_session(FRAMES, SEED)
    seconds = time.perf_counter() - started
    print(
        f"\n{tally.frames} frames in {seconds:.1f} s: {tally.calls_answered} answered "
        f"({tally.results} CALLRESULT, errors {dict(tally.errors)}); "
        f"our calls' answers {dict(tally.own_answers)}"
    )
    assert tally.frames == FRAMES
    # The generator reaches every branch: a change that starved one would show here.
    assert tally.results > FRAMES // 10
    assert set(tally.errors) >= {
        "FormationViolation",
        "NotImplemented",
        "NotSupported",
        "OccurenceConstraintViolation",
        "PropertyConstraintViolation",
        "TypeConstraintViolation",
    }
    assert min(tally.own_answers.values()) > FRAMES // 1000
    assert tally.station_bugs == [], "\n".join(tally.station_bugs[:20])
    assert tally.disagreements == [], "\n".join(tally.disagreements[:20])


# --- (b) over a real loopback WebSocket, into a running charge point -----------------------------

BATCH = 250


class FuzzCsms:
    """A hostile CSMS: answers the charge point's calls (mostly properly), and sends it
    ``count`` generated frames in batches, each closed by a sync request whose answer it
    awaits (bounded) before it checks the batch: every frame whose id can be read, and
    that is no answer, answered exactly once."""

    def __init__(self, count: int, seed: int) -> None:
        self.count = count
        self.generator = FrameGenerator(seed, reconnects=False)
        self.rng = random.Random(seed + 1)
        self.connections = 0
        self.sent = 0
        self.well_formed = 0
        self.answered = 0
        self.cp_calls = 0
        self.problems: list[str] = []
        #: traced memory (current, peak) after the first batches and at the end
        self.memory: list[tuple[int, int]] = []
        self.done = asyncio.Event()
        self._booted = asyncio.Event()
        self._synced: dict[str, asyncio.Event] = {}
        #: id -> answers seen, for the batch in progress
        self._answers: Counter[str] = Counter()

    async def handle(self, connection: ServerConnection) -> None:
        self.connections += 1
        if self.connections > 1:
            self.problems.append("the charge point reconnected")
        sender = asyncio.create_task(self._send_frames(connection))
        try:
            async for message in connection:
                self._received(connection, message)
                await asyncio.sleep(0)
        except ConnectionClosed:
            pass
        finally:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)

    def _received(self, connection: ServerConnection, message: str | bytes) -> None:
        assert isinstance(message, str)
        frame = (
            check_answer_text(message)
            if message.startswith("[3") or message.startswith("[4")
            else strict_json(message)
        )
        if frame[0] == 2:
            self.cp_calls += 1
            asyncio.get_running_loop().create_task(self._answer(connection, frame[1], frame[2]))
            return
        unique_id = frame[1]
        if frame[0] == 4 and frame[2] == "InternalError":
            self.problems.append(f"InternalError for {unique_id}: {frame[3]}")
        if unique_id in self._synced:
            self._synced[unique_id].set()
            return
        self._answers[unique_id] += 1

    async def _answer(self, connection: ServerConnection, unique_id: str, action: str) -> None:
        """Mostly the proper answer; sometimes a CALLERROR or one that breaks the schema."""
        roll = self.rng.random()
        if action == "BootNotification" or roll < 0.8:
            payload = ANSWERS_TO_CP.get(action, {})
            text = json.dumps([3, unique_id, payload])
        elif roll < 0.9:
            text = json.dumps([4, unique_id, "GenericError", "hostile", {}])
        else:
            text = json.dumps([3, unique_id, {"unexpected": [1, 2, 3]}])
        with contextlib.suppress(ConnectionClosed):
            await connection.send(text)
        if action == "BootNotification":
            self._booted.set()

    async def _send_frames(self, connection: ServerConnection) -> None:
        try:
            await self._send_all(connection)
        except Exception as exc:  # reported by the test
            self.problems.append(f"sending stopped after {self.sent} frames: {exc!r}")
        finally:
            self.done.set()

    async def _send_all(self, connection: ServerConnection) -> None:
        async with asyncio.timeout(10 * UNIT):
            await self._booted.wait()
        batch: list[tuple[Any, int]] = []  # (readable id or None, 1 definite / 0 maybe)
        for n in range(self.count):
            text = self.generator.frame(None)
            batch.append(self._expectation(text))
            await connection.send(text)
            self.sent += 1
            if len(batch) == BATCH or n == self.count - 1:
                await self._sync(connection, n)
                self._check(batch)
                batch = []
                if len(self.memory) < 1 and self.sent >= self.count // 5:
                    self.memory.append(tracemalloc.get_traced_memory())
        self.memory.append(tracemalloc.get_traced_memory())

    def _expectation(self, text: str) -> tuple[str | None, int]:
        try:
            data = strict_json(text)
        except ValueError:
            # Broken JSON: answered if its id could still be read, which is mockpoint's call.
            match = SALVAGEABLE.match(text)
            try:
                return (json.loads(f'"{match.group(1)}"') if match else None), 0
            except ValueError:
                return None, 0
        unique_id = readable_id(data)
        if unique_id is None or is_answer_type(data):
            return None, 0
        if well_formed_call(data):
            self.well_formed += 1
        return unique_id, 1

    async def _sync(self, connection: ServerConnection, n: int) -> None:
        sync_id = f"sync-{n}"
        event = self._synced[sync_id] = asyncio.Event()
        await connection.send(json.dumps([2, sync_id, "GetLocalListVersion", {}]))
        try:
            async with asyncio.timeout(10 * UNIT):
                await event.wait()
        except TimeoutError:
            self.problems.append(f"no answer to {sync_id} within {10 * UNIT:g} s (a hang?)")
            raise
        finally:
            del self._synced[sync_id]

    def _check(self, batch: list[tuple[str | None, int]]) -> None:
        definite: Counter[str] = Counter()
        maybe: Counter[str] = Counter()
        for unique_id, sure in batch:
            if unique_id is not None:
                (definite if sure else maybe)[unique_id] += 1
        answers, self._answers = self._answers, Counter()
        for unique_id in definite.keys() | maybe.keys() | answers.keys():
            got, low = answers[unique_id], definite[unique_id]
            if not low <= got <= low + maybe[unique_id]:
                self.problems.append(f"{unique_id}: {got} answers, expected {low}")
            self.answered += got


# Broken JSON whose id mockpoint may still read: `[2, "id", ...` (frames.py does the same).
SALVAGEABLE = re.compile(r'^\s*\[\s*\d+\s*,\s*"((?:[^"\\]|\\.){1,36})"')

ANSWERS_TO_CP: dict[str, dict[str, Any]] = {
    "BootNotification": {"status": "Accepted", "currentTime": NOW, "interval": 300},
    "Heartbeat": {"currentTime": NOW},
    "Authorize": {"idTagInfo": {"status": "Accepted"}},
    "StartTransaction": {"transactionId": 1, "idTagInfo": {"status": "Accepted"}},
}


@pytest.mark.slow
async def test_fuzz_a_charge_point_over_a_websocket(caplog: pytest.LogCaptureFixture) -> None:
    csms = FuzzCsms(SOCKET_FRAMES, SEED + 1000)
    clock = VirtualClock(START, speed=0)
    identity = Identity(CP, vendor="Acme", model="AC22", connectors=2)
    station = Station(identity, clock, Configuration(None, number_of_connectors=2))
    tracemalloc.start()
    try:
        async with serve(
            csms.handle,
            "127.0.0.1",
            0,
            subprotocols=[Subprotocol("ocpp1.6")],
            close_timeout=1 * UNIT,
        ) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            url = f"ws://127.0.0.1:{port}/ocpp"
            cp = ChargePoint(
                station,
                lambda: connect(url, CP, open_timeout=5 * UNIT),
                clock=clock,
                ids=SeededIds(SEED),
                call_timeout=5 * UNIT,
                connect_timeout=5 * UNIT,
            )
            started = time.perf_counter()
            await cp.start()
            try:
                # Each batch is bounded on its own (10 s for its sync); this bounds the lot
                # (some 2 ms a frame are needed, traced by tracemalloc).
                async with asyncio.timeout(max(50, SOCKET_FRAMES * 0.01) * UNIT):
                    await csms.done.wait()
                assert cp.connected
            finally:
                await cp.stop()
            seconds = time.perf_counter() - started
    finally:
        memory = list(csms.memory)
        tracemalloc.stop()
    assert csms.problems == [], "\n".join(csms.problems[:20])
    (warm, _), (end, peak) = memory
    growth = (end - warm) / (csms.sent - csms.sent // 5)
    print(
        f"\n{csms.sent} frames over the socket in {seconds:.1f} s: {csms.well_formed} "
        f"well-formed CALLs, {csms.answered} answers, {csms.cp_calls} calls of the charge "
        f"point; traced memory {warm / 2**20:.1f} MiB after a fifth, {end / 2**20:.1f} MiB "
        f"at the end (peak {peak / 2**20:.1f} MiB, {growth:.0f} B per frame), "
        f"{len(cp.received)} requests and {len(cp.problems)} problems kept for the report"
    )
    assert csms.sent == SOCKET_FRAMES
    assert csms.connections == 1
    assert not [p for p in cp.problems if "connection lost" in p]
    logged = [
        r for r in caplog.records if r.name.startswith("mockpoint") and r.levelno >= logging.ERROR
    ]
    assert logged == [], [r.getMessage() for r in logged[:10]]
    assert csms.answered >= csms.well_formed > SOCKET_FRAMES // 4
    # What may stay per frame is the charge point's record of it for the report: a request
    # in `received` (~1 KiB with its answer) for a third of the frames, a violation in
    # `problems` (~200 B) for two thirds; some 600 B a frame on average. A leak of anything
    # per frame (a task, a future, a session entry: 1 KiB or more) would break 1 KiB.
    assert growth < 1024, f"{growth:.0f} bytes per frame"
    assert peak < 64 * 2**20

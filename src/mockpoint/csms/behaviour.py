"""How the mock CSMS answers, and what it remembers of each charge point; pure (no I/O).

:class:`CsmsBehaviour` turns a received request into an :class:`Answer` — a
:class:`Reply` payload, a :class:`Fail` CALLERROR or :class:`Ignore` — from the
:class:`~mockpoint.csms.config.CsmsConfig`, and keeps a :class:`ChargePointState` per
charge point id that tests and the scenario runner can inspect. It never reads the wall
clock: ``currentTime`` comes from the injected :class:`~mockpoint.clock.Clock`, transaction
ids from a counter that starts at 1, so two runs against it give the same answers.

State is kept per charge point id across connections, as a CSMS keeps its registrations:
a charge point that reconnects without booting is still Accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mockpoint.clock import Clock, SystemClock, format_timestamp
from mockpoint.csms.answers import (
    DATA_TRANSFER_STATUS,
    authorization_status,
    check_override,
    default_answer,
    id_tag_info,
    merge,
)
from mockpoint.csms.config import (
    AnswerOverride,
    BootConfig,
    CsmsConfig,
    IdTagConfig,
    PeriodicRequest,
    ScriptedRequest,
    check_csms_request,
    config_from_mapping,
    load_config,
)
from mockpoint.errors import ErrorCode
from mockpoint.ocpp16.enums import RegistrationStatus
from mockpoint.quantities import parse_duration
from mockpoint.rpc.frames import Call


@dataclass(frozen=True, slots=True)
class Reply:
    """Answer with a CALLRESULT carrying ``payload``."""

    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Fail:
    """Answer with a CALLERROR (OCPP-J 1.6 §4.2.3)."""

    code: ErrorCode
    description: str = ""


@dataclass(frozen=True, slots=True)
class Ignore:
    """Never answer (the charge point's own timeout is what is under test)."""


Answer = Reply | Fail | Ignore


@dataclass
class Transaction:
    """A transaction as the CSMS saw it (OCPP 1.6 §4.8, §4.10)."""

    transaction_id: int
    connector_id: int
    id_tag: str
    meter_start: int
    #: the StartTransaction's timestamp, as sent
    timestamp: str
    #: the idTagInfo status the CSMS answered
    id_tag_status: str
    meter_stop: int | None = None
    stop_reason: str | None = None


@dataclass
class ChargePointState:
    """What the mock CSMS knows of one charge point."""

    cp_id: str
    #: BootNotifications received, answered or not
    boot_count: int = 0
    #: the status of the last BootNotification answer, None before any
    registration: str | None = None
    #: the last status reported per connector (0 = the charge point as a whole)
    connectors: dict[int, str] = field(default_factory=dict)
    #: open transactions by id
    transactions: dict[int, Transaction] = field(default_factory=dict)
    #: stopped transactions by id
    stopped: dict[int, Transaction] = field(default_factory=dict)
    #: every valid request received, in order
    calls: list[Call] = field(default_factory=list)
    #: requests received per action, to apply ``times`` of an override
    action_counts: dict[str, int] = field(default_factory=dict)
    #: with ``deduplicate``: the answer given to each unique id, and the retransmissions
    #: answered from it
    answered: dict[str, Answer] = field(default_factory=dict)
    duplicates: list[Call] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        """Whether the last boot was Accepted (OCPP 1.6 §4.2)."""
        return self.registration == RegistrationStatus.ACCEPTED


class CsmsBehaviour:
    """The answers of one mock CSMS instance, and its memory of every charge point."""

    def __init__(self, config: CsmsConfig | None = None, clock: Clock | None = None) -> None:
        self.config = config if config is not None else CsmsConfig()
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.states: dict[str, ChargePointState] = {}
        # Per server instance, as docs/behaviour.md ("Time and ids") says: ids 1, 2, 3... across all
        # charge points, so a run's transcript is the same every time.
        self._next_transaction_id = 1

    def state(self, cp_id: str) -> ChargePointState:
        """The state of ``cp_id``, created empty the first time it is asked for."""
        state = self.states.get(cp_id)
        if state is None:
            state = self.states[cp_id] = ChargePointState(cp_id)
        return state

    @property
    def next_transaction_id(self) -> int:
        return self._next_transaction_id

    def answer(self, cp_id: str, call: Call) -> Answer:
        """Record ``call`` (a valid request from ``cp_id``) and decide its answer.

        The state follows the answer actually given: a StartTransaction answered with a
        CALLERROR opens no transaction, a boot answered Rejected by an override is Rejected.
        """
        state = self.state(cp_id)
        if self.config.deduplicate:
            earlier = state.answered.get(call.unique_id)
            if earlier is not None:
                # A retransmission, as far as a deduplicating CSMS can tell: the first
                # answer again, and no second transaction, boot or status.
                state.duplicates.append(call)
                return earlier
            answer = self._answer(state, call)
            state.answered[call.unique_id] = answer
            return answer
        return self._answer(state, call)

    def _answer(self, state: ChargePointState, call: Call) -> Answer:
        state.calls.append(call)
        count = state.action_counts.get(call.action, 0) + 1
        state.action_counts[call.action] = count
        if call.action == "BootNotification":
            state.boot_count += 1
        override = self._override(call.action, count)
        if override is not None and override.ignore:
            return Ignore()
        if override is not None and override.error is not None:
            description = override.description or f"configured answer to {call.action}"
            return Fail(override.error, description)
        payload = self._default(state, call)
        if override is not None and override.payload is not None:
            payload = merge(payload, override.payload)
        self._apply(state, call, payload)
        return Reply(payload)

    # --- internals -----------------------------------------------------------------------

    def _override(self, action: str, count: int) -> AnswerOverride | None:
        override = self.config.answers.get(action)
        if override is None or (override.times is not None and count > override.times):
            return None
        return override

    def _default(self, state: ChargePointState, call: Call) -> dict[str, Any]:
        transaction_id = self._next_transaction_id
        if call.action == "StartTransaction":
            self._next_transaction_id += 1
        return default_answer(
            call.action,
            call.payload,
            boot=self.config.boot,
            id_tags=self.config.id_tags,
            current_time=format_timestamp(self.clock.now()),
            boot_number=state.boot_count,
            transaction_id=transaction_id,
        )

    def _apply(self, state: ChargePointState, call: Call, answer: Mapping[str, Any]) -> None:
        request = call.payload
        if call.action == "BootNotification":
            state.registration = str(answer.get("status"))
        elif call.action == "StatusNotification":
            state.connectors[int(request["connectorId"])] = str(request["status"])
        elif call.action == "StartTransaction":
            transaction_id = answer.get("transactionId")
            if isinstance(transaction_id, int):
                info = answer.get("idTagInfo")
                status = info.get("status") if isinstance(info, Mapping) else None
                state.transactions[transaction_id] = Transaction(
                    transaction_id=transaction_id,
                    connector_id=int(request["connectorId"]),
                    id_tag=str(request["idTag"]),
                    meter_start=int(request["meterStart"]),
                    timestamp=str(request["timestamp"]),
                    id_tag_status=str(status),
                )
        elif call.action == "StopTransaction":
            transaction = state.transactions.pop(int(request["transactionId"]), None)
            if transaction is not None:
                transaction.meter_stop = int(request["meterStop"])
                # OCPP 1.6 §6.49: an omitted reason means Local.
                transaction.stop_reason = str(request.get("reason", "Local"))
                state.stopped[transaction.transaction_id] = transaction


__all__ = [
    "DATA_TRANSFER_STATUS",
    "Answer",
    "AnswerOverride",
    "BootConfig",
    "ChargePointState",
    "CsmsBehaviour",
    "CsmsConfig",
    "Fail",
    "IdTagConfig",
    "Ignore",
    "PeriodicRequest",
    "Reply",
    "ScriptedRequest",
    "Transaction",
    "authorization_status",
    "check_csms_request",
    "check_override",
    "config_from_mapping",
    "default_answer",
    "id_tag_info",
    "load_config",
    "merge",
    "parse_duration",
]

"""Transactions and the authorization cache (OCPP 1.6 §3.5.1, §4.8, §4.10, §5.4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Transaction:
    """A transaction on one connector, from StartTransaction.req to StopTransaction.req."""

    connector_id: int
    id_tag: str
    meter_start: int
    started_at: float
    #: assigned by the Central System in StartTransaction.conf; None until it answers
    transaction_id: int | None = None
    reservation_id: int | None = None
    #: a StopTransaction for it is queued or sent
    stopping: bool = False
    #: the Transaction.Begin sample, for StopTransaction's transactionData
    begin_sample: dict[str, Any] | None = None
    remote: bool = False
    #: the StopTxnAlignedData readings taken while it ran, for transactionData (§4.11)
    aligned_samples: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class AuthorizationCache:
    """idTagInfo of the id tags the Central System answered (OCPP 1.6 §3.5.1)."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)

    def remember(self, id_tag: str, id_tag_info: dict[str, Any]) -> None:
        self.entries[id_tag] = dict(id_tag_info)

    def lookup(self, id_tag: str) -> dict[str, Any] | None:
        return self.entries.get(id_tag)

    def clear(self) -> None:
        self.entries.clear()

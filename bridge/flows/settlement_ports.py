"""The ports the settlement flow calls. ``bridge.adapters.settlement`` implements them over the TikTok
and NetSuite clients (services ``"tiktok.finance"`` and ``"netsuite.ledger"``); tests use fakes.

Extension point: a new finance read or ledger write is added here, in the adapter and in the fakes
(``tests/settlement/fakes.py``); the flow stays free of HTTP and SQL of other systems.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol

from bridge.domain.finance import Payment, Statement, StatementSummary, Withdrawal
from bridge.mapping.settlement import OrderDocument


class TikTokFinance(Protocol):
    def statements(self, shop_id: str, *, since: datetime, until: datetime) -> Iterator[StatementSummary]:
        """Get Statements: every statement with ``since <= statement_time < until``, across pages."""
        ...

    def statement(self, shop_id: str, statement_id: str, summary: StatementSummary | None = None) -> Statement:
        """Get Transactions by Statement (the current finance version): the statement with every line
        (all pages). ``summary`` supplies the payment id/status the transaction pages lack."""
        ...

    def payments(self, shop_id: str, *, since: datetime, until: datetime) -> Iterator[Payment]:
        """Get Payments created in the window."""
        ...

    def withdrawals(self, shop_id: str, *, since: datetime, until: datetime) -> Iterator[Withdrawal]:
        """Get Withdrawals (every type) created in the window."""
        ...


@dataclass(frozen=True)
class Posted:
    """A NetSuite write's internal id and how it is known (``created``, ``written`` or ``resolved``:
    the answer was lost and the record was found by its external id)."""

    id: str
    outcome: str


DocumentKind = Literal["customerDeposit", "invoice"]


class NetSuiteLedger(Protocol):
    def upsert(self, record_type: str, external_id: str, body: Mapping[str, Any], *,
               entity: str | None = None) -> Posted:
        """Create or update the record with this external id. A timeout after NetSuite committed is
        resolved by looking the record up by external id, never by writing a second record."""
        ...

    def find(self, record_type: str, external_id: str) -> str | None:
        """The internal id of the record with this external id, if any."""
        ...

    def internal_ids(self, table: str, external_ids: Sequence[str]) -> dict[str, str]:
        """External id → internal id of the records of SuiteQL ``table`` that exist (resolves the
        ``eid:`` references of settlement.yaml)."""
        ...

    def existing_ids(self, table: str, ids: Sequence[str]) -> set[str]:
        """The internal ids among ``ids`` that exist in SuiteQL ``table`` (checks the internal-id
        references of settlement.yaml before anything is posted)."""
        ...

    def order_documents(self, kind: DocumentKind, shop_id: str, orders: Mapping[str, str], *,
                        external_id_pattern: str = "") -> dict[str, list[OrderDocument]]:
        """Open order-time documents per TikTok order id. ``orders`` maps TikTok order id → sales order
        internal id. Customer deposits are found by external id (``external_id_pattern`` with
        ``{shop_id}``/``{order_id}``), invoices by the sales order they were billed from."""
        ...


__all__ = ["DocumentKind", "NetSuiteLedger", "Posted", "TikTokFinance"]

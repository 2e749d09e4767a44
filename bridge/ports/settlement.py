"""The settlement flows' own store: imported statements with their lines and order matches, payments
and withdrawals, and the NetSuite documents posted for them (recorded before they are sent, so a
retry never posts twice). Implemented on SQL (``bridge.store.tables_settlement.SettlementStore``) and in
memory (``bridge.store.memory.MemorySettlement``); one contract suite runs both
(``tests/contract/test_store_ports.py``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from bridge.domain.finance import Line, Payment, Statement, Withdrawal

ZERO = Decimal(0)


@dataclass(frozen=True)
class StatementRow:
    """A TikTok statement as imported: its totals, the clearing components, the checks and match counts."""

    shop_id: str
    statement_id: str
    statement_time: datetime | None
    currency: str
    status: str
    check_status: str
    payment_id: str
    payment_status: str
    revenue: Decimal
    shipping: Decimal
    fee_tax: Decimal
    adjustment: Decimal
    settlement: Decimal
    reserve: Decimal
    payable: Decimal
    line_settlement: Decimal
    line_count: int
    content_hash: str
    revision: int
    components: dict[str, Decimal]
    checks: list[dict[str, Any]]
    matched: int
    unmatched: int
    variance_total: Decimal
    imported_at: datetime
    updated_at: datetime

    @property
    def blocking_checks(self) -> list[dict[str, Any]]:
        return [c for c in self.checks if c.get("blocking")]

    @property
    def clearing(self) -> Decimal:
        return sum(self.components.values(), ZERO)


@dataclass(frozen=True)
class PostingRecord:
    """One NetSuite document settlement writes (``pending`` before it is sent, ``posted`` with its id)."""

    shop_id: str
    kind: str
    source: str
    source_id: str
    seq: int
    external_id: str
    record_type: str
    amount: Decimal
    currency: str
    tran_date: str
    content_hash: str = ""
    body_hash: str = ""
    components: dict[str, Decimal] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)
    netsuite_id: str | None = None
    status: str = "pending"
    created_at: datetime | None = None
    posted_at: datetime | None = None


@dataclass(frozen=True)
class MatchRow:
    """How one statement line matched the NetSuite document of its order."""

    transaction_id: str
    kind: str
    order_id: str
    status: str
    settlement: Decimal
    netsuite_id: str | None
    tiktok_amount: Decimal | None
    netsuite_amount: Decimal | None
    variance: Decimal | None
    note: str


class SettlementRepository(Protocol):
    """Everything settlement persists (thread-safe)."""

    def save_statement(self, stmt: Statement, *, revision: int, components: Mapping[str, Decimal],
                       checks: Sequence[Mapping[str, Any]], matches: Sequence[Any], status: str | None = None,
                       content_hash: str | None = None) -> None:
        """Store a statement's current content at once: header and totals, its lines (replacing the
        previous ones), the check results and the order matches (objects with ``transaction_id``, ``kind``,
        ``order_id``, ``status``, ``netsuite_id``, ``tiktok_amount``, ``netsuite_amount``, ``variance``,
        ``note``). A new statement is ``imported`` unless ``status`` says otherwise."""
        ...

    def touch_statement(self, shop_id: str, statement_id: str, *, payment_id: str | None = None,
                        payment_status: str | None = None, status: str | None = None) -> None:
        """Change a statement's payment, payment status or status (the others stay)."""
        ...

    def statement(self, shop_id: str, statement_id: str) -> StatementRow | None:
        """One statement of a shop, or None."""
        ...

    def find_statement(self, statement_id: str) -> StatementRow | None:
        """A statement by its TikTok id alone (ids are unique across shops)."""
        ...

    def statements(self, *, shop_id: str | None = None, payment_id: str | None = None,
                   since: datetime | None = None, until: datetime | None = None, status: str | None = None,
                   limit: int = 1000, offset: int = 0) -> list[StatementRow]:
        """Statements (statement time within [since, until)), newest first."""
        ...

    def lines(self, shop_id: str, statement_id: str) -> list[Line]:
        """A statement's lines, in the order they were stored."""
        ...

    def lines_for_order(self, shop_id: str, order_id: str) -> list[tuple[str, Line]]:
        """(statement id, line) of every stored line that concerns a TikTok order."""
        ...

    def count_lines(self, shop_id: str | None = None) -> int:
        """How many statement lines are stored (of one shop)."""
        ...

    def matches(self, shop_id: str, statement_id: str, *, statuses: Iterable[str] | None = None,
                with_variance: bool = False, limit: int = 100_000) -> list[MatchRow]:
        """A statement's matches (in some statuses; only those with a variance), in stored order."""
        ...

    def match_counts(self, shop_id: str, statement_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        """(kind, status) → how many matches, over the statements."""
        ...

    def save_payment(self, p: Payment) -> bool:
        """Insert or update a payment; True when it is new or its content changed."""
        ...

    def payment(self, shop_id: str, payment_id: str) -> Payment | None:
        """One payment of a shop, or None."""
        ...

    def find_payment(self, payment_id: str) -> Payment | None:
        """A payment by its TikTok id alone."""
        ...

    def payments(self, *, shop_id: str | None = None, since: datetime | None = None, limit: int = 1000
                 ) -> list[Payment]:
        """Payments (created since ``since``), newest first."""
        ...

    def save_withdrawals(self, items: Sequence[Withdrawal]) -> int:
        """Insert or update withdrawals; returns how many were given."""
        ...

    def withdrawals(self, shop_id: str, *, limit: int = 1000) -> list[Withdrawal]:
        """A shop's withdrawals, newest first."""
        ...

    def postings(self, shop_id: str, source: str, source_id: str, *, status: str | None = None
                 ) -> list[PostingRecord]:
        """The documents posted (or pending) for one statement or payment, by ``seq``."""
        ...

    def posting(self, external_id: str) -> PostingRecord | None:
        """One posting by the NetSuite external id it carries."""
        ...

    def count_postings(self, *, kind: str | None = None, status: str | None = "posted") -> int:
        """How many postings (of a kind, in a status) there are."""
        ...

    def begin_posting(self, rec: PostingRecord) -> PostingRecord:
        """Record what is about to be sent (``pending``), or refresh the pending record of the same
        external id; a posted record is returned unchanged (it is never rewritten)."""
        ...

    def finish_posting(self, external_id: str, netsuite_id: str) -> None:
        """The document was written: ``posted`` with its NetSuite id."""
        ...


__all__ = ["ZERO", "MatchRow", "PostingRecord", "SettlementRepository", "StatementRow"]

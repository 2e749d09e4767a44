"""In-memory fakes of the settlement ports (they behave; they do not script answers)."""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from bridge.domain.finance import (
    Payment,
    Statement,
    StatementSummary,
    Withdrawal,
    parse_payment,
    parse_statement,
    parse_summary,
    parse_withdrawal,
)
from bridge.errors import WriteOutcomeUnknown
from bridge.mapping.settlement import OrderDocument
from bridge.ports.netsuite import DocumentKind, Posted


class FakeTikTokFinance:
    """Statements, payments and withdrawals per shop, as TikTok would list them."""

    def __init__(self) -> None:
        self.statements_: dict[str, dict[str, tuple[dict[str, Any], dict[str, Any]]]] = {}
        self.payments_: dict[str, dict[str, dict[str, Any]]] = {}
        self.withdrawals_: dict[str, list[dict[str, Any]]] = {}
        self.reads: list[str] = []
        self.lock = threading.Lock()

    def put_statement(self, shop_id: str, data: dict[str, Any], summary: dict[str, Any]) -> None:
        with self.lock:
            self.statements_.setdefault(shop_id, {})[str(data["id"])] = (copy.deepcopy(data), copy.deepcopy(summary))

    def put_payment(self, shop_id: str, raw: dict[str, Any]) -> None:
        with self.lock:
            self.payments_.setdefault(shop_id, {})[str(raw["id"])] = copy.deepcopy(raw)

    def put_withdrawal(self, shop_id: str, raw: dict[str, Any]) -> None:
        with self.lock:
            self.withdrawals_.setdefault(shop_id, []).append(copy.deepcopy(raw))

    def statements(self, shop_id: str, *, since: datetime, until: datetime) -> Iterator[StatementSummary]:
        with self.lock:
            rows = [parse_summary(s) for _, s in self.statements_.get(shop_id, {}).values()]
        for s in sorted(rows, key=lambda r: (r.statement_time or since, r.id)):
            if s.statement_time and since <= s.statement_time < until:
                yield s

    def statement(self, shop_id: str, statement_id: str, summary: StatementSummary | None = None) -> Statement:
        with self.lock:
            self.reads.append(statement_id)
            data, raw_summary = self.statements_[shop_id][statement_id]
        return parse_statement(shop_id, data, summary=summary or parse_summary(raw_summary))

    def payments(self, shop_id: str, *, since: datetime, until: datetime) -> Iterator[Payment]:
        with self.lock:
            rows = [parse_payment(shop_id, p) for p in self.payments_.get(shop_id, {}).values()]
        yield from (p for p in rows if p.create_time and since <= p.create_time < until)

    def withdrawals(self, shop_id: str, *, since: datetime, until: datetime) -> Iterator[Withdrawal]:
        with self.lock:
            rows = [parse_withdrawal(shop_id, w) for w in self.withdrawals_.get(shop_id, [])]
        yield from (w for w in rows if w.create_time and since <= w.create_time < until)


class FakeLedger:
    """NetSuite as the settlement flow sees it: records by (type, external id), journals must balance."""

    def __init__(self) -> None:
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        self.calls: dict[str, int] = {}
        self.refuse: dict[str, Exception] = {}
        self.lose_answer: set[str] = set()  # external ids whose first write commits but whose answer is lost
        self.documents: dict[tuple[str, str], list[OrderDocument]] = {}  # (kind, order id) -> docs
        self.external: dict[tuple[str, str], str] = {}  # (table, external id) -> internal id
        self.absent: set[tuple[str, str]] = set()  # (table, internal id) that does not exist
        self._ids = itertools.count(7000)
        self.lock = threading.Lock()

    def upsert(self, record_type: str, external_id: str, body: Mapping[str, Any], *,
               entity: str | None = None) -> Posted:
        with self.lock:
            self.calls["upsert"] = self.calls.get("upsert", 0) + 1
            if external_id in self.refuse:
                raise self.refuse[external_id]
            if record_type == "journalEntry":
                lines = body["line"]["items"]
                debit = sum((ln.get("debit", 0) for ln in lines), 0)
                credit = sum((ln.get("credit", 0) for ln in lines), 0)
                assert debit == credit, f"unbalanced journal {external_id}: {debit} != {credit}"
            key = (record_type, external_id)
            rec = self.records.get(key)
            if rec is None:
                rec = self.records[key] = {"id": str(next(self._ids)), "body": copy.deepcopy(dict(body)), "writes": 1}
                outcome = "created"
            else:
                rec["body"] = copy.deepcopy(dict(body))
                rec["writes"] += 1
                outcome = "written"
            if external_id in self.lose_answer:
                self.lose_answer.discard(external_id)
                raise WriteOutcomeUnknown(f"timeout writing {external_id}")
            return Posted(rec["id"], outcome)

    def find(self, record_type: str, external_id: str) -> str | None:
        rec = self.records.get((record_type, external_id))
        return None if rec is None else str(rec["id"])

    def internal_ids(self, table: str, external_ids: Sequence[str]) -> dict[str, str]:
        self.calls["internal_ids"] = self.calls.get("internal_ids", 0) + 1
        return {e: self.external[(table, e)] for e in external_ids if (table, e) in self.external}

    def existing_ids(self, table: str, ids: Sequence[str]) -> set[str]:
        """Every internal id exists except those listed in ``absent`` (a deleted account …)."""
        return {i for i in ids if (table, i) not in self.absent}

    def order_documents(self, kind: DocumentKind, shop_id: str, orders: Mapping[str, str], *,
                        external_id_pattern: str = "") -> dict[str, list[OrderDocument]]:
        return {oid: list(self.documents[(kind, oid)]) for oid in orders if (kind, oid) in self.documents}

    def of_type(self, record_type: str) -> dict[str, dict[str, Any]]:
        return {eid: r for (t, eid), r in self.records.items() if t == record_type}


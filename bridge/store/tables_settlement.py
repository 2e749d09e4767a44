"""Settlement tables (statements, their lines, payments, withdrawals, postings, matches) and the
repository over them.

The tables sit on the shared ``metadata`` (``bridge.store.tables.load_area_tables`` imports this
module); revision ``0002_settlement`` creates them. Money columns use ``Money`` (exact decimal text),
times ``UTCDateTime``. A statement row keeps the *current* content of the statement (a re-issue
replaces its lines); what was posted is kept in ``settlement_postings`` with the content hash and the
component amounts of each posting, so history is never rewritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Engine,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
    update,
)

from bridge.clock import Clock, SystemClock
from bridge.domain.finance import Line, Payment, Statement, Withdrawal
from bridge.ports.settlement import ZERO, MatchRow, PostingRecord, StatementRow
from bridge.store.tables import metadata
from bridge.store.types import BigId, Money, UTCDateTime

settlement_statements = Table(
    "settlement_statements",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("shop_id", String(64), nullable=False),
    Column("statement_id", String(64), nullable=False),
    Column("statement_time", UTCDateTime, nullable=True),
    Column("currency", String(8), nullable=False, default=""),
    Column("status", String(16), nullable=False, default="imported"),  # imported | held | posted | adjusted
    Column("check_status", String(16), nullable=False, default="ok"),  # ok | warning | failed
    Column("payment_id", String(64), nullable=False, default=""),
    Column("payment_status", String(16), nullable=False, default=""),
    Column("revenue", Money, nullable=False),
    Column("shipping", Money, nullable=False),
    Column("fee_tax", Money, nullable=False),
    Column("adjustment", Money, nullable=False),
    Column("settlement", Money, nullable=False),
    Column("reserve", Money, nullable=False),
    Column("payable", Money, nullable=False),
    Column("line_settlement", Money, nullable=False),  # Σ lines' settlement_amount
    Column("line_count", Integer, nullable=False, default=0),
    Column("content_hash", String(64), nullable=False),
    Column("revision", Integer, nullable=False, default=1),  # distinct contents seen for this statement id
    Column("components", JSON, nullable=False, default=dict),  # component -> amount (decimal text)
    Column("checks", JSON, nullable=False, default=list),  # failures grouped by code, with examples
    Column("matched", Integer, nullable=False, default=0),
    Column("unmatched", Integer, nullable=False, default=0),
    Column("variance_total", Money, nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("shop_id", "statement_id"),
    Index("ix_settlement_statements_payment", "shop_id", "payment_id"),
    Index("ix_settlement_statements_time", "statement_time"),
)

settlement_lines = Table(
    "settlement_lines",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("shop_id", String(64), nullable=False),
    Column("statement_id", String(64), nullable=False),
    Column("transaction_id", String(64), nullable=False),
    Column("type", String(64), nullable=False, default=""),
    Column("order_id", String(64), nullable=False, default=""),
    Column("adjustment_id", String(64), nullable=False, default=""),
    Column("related_order_id", String(64), nullable=False, default=""),  # order, adjustment or reserve order id
    Column("reserve_id", String(64), nullable=False, default=""),
    Column("order_create_time", UTCDateTime, nullable=True),
    Column("revenue", Money, nullable=False),
    Column("shipping", Money, nullable=False),
    Column("fee_tax", Money, nullable=False),
    Column("adjustment", Money, nullable=False),
    Column("settlement", Money, nullable=False),
    Column("reserve", Money, nullable=False),
    Column("breakdown", JSON, nullable=False, default=dict),  # component -> amount text (non-zero only)
    UniqueConstraint("shop_id", "statement_id", "transaction_id"),
    Index("ix_settlement_lines_order", "shop_id", "related_order_id"),
)

settlement_payments = Table(
    "settlement_payments",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("shop_id", String(64), nullable=False),
    Column("payment_id", String(64), nullable=False),
    Column("status", String(16), nullable=False, default=""),
    Column("amount", Money, nullable=False),
    Column("currency", String(8), nullable=False, default=""),
    Column("settlement_amount", Money, nullable=False),
    Column("settlement_currency", String(8), nullable=False, default=""),
    Column("reserve_amount", Money, nullable=False),
    Column("amount_before_exchange", Money, nullable=False),
    Column("before_exchange_currency", String(8), nullable=False, default=""),
    Column("exchange_rate", Money, nullable=False),
    Column("bank_account", String(16), nullable=False, default=""),  # masked, last digits only
    Column("create_time", UTCDateTime, nullable=True),
    Column("paid_time", UTCDateTime, nullable=True),
    Column("content_hash", String(64), nullable=False, default=""),
    Column("imported_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("shop_id", "payment_id"),
)

settlement_withdrawals = Table(
    "settlement_withdrawals",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("shop_id", String(64), nullable=False),
    Column("withdrawal_id", String(64), nullable=False),
    Column("type", String(16), nullable=False, default=""),
    Column("status", String(16), nullable=False, default=""),
    Column("amount", Money, nullable=False),
    Column("currency", String(8), nullable=False, default=""),
    Column("create_time", UTCDateTime, nullable=True),
    Column("imported_at", UTCDateTime, nullable=False),
    UniqueConstraint("shop_id", "withdrawal_id"),
)

settlement_postings = Table(
    "settlement_postings",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("shop_id", String(64), nullable=False),
    Column("kind", String(24), nullable=False),  # journal | adjustment | deposit | customer_payment
    Column("source", String(16), nullable=False),  # statement | payment
    Column("source_id", String(64), nullable=False),
    Column("seq", Integer, nullable=False, default=0),  # 0 the original, n the n-th adjusting entry
    Column("external_id", String(191), nullable=False),
    Column("record_type", String(32), nullable=False),
    Column("netsuite_id", String(64), nullable=True),
    Column("status", String(16), nullable=False, default="pending"),  # pending | posted
    Column("content_hash", String(64), nullable=False, default=""),  # statement/payment content it reflects
    Column("body_hash", String(64), nullable=False, default=""),
    Column("amount", Money, nullable=False),  # clearing amount (journals) or deposit total
    Column("currency", String(8), nullable=False, default=""),
    Column("tran_date", String(10), nullable=False, default=""),
    Column("components", JSON, nullable=False, default=dict),
    Column("detail", JSON, nullable=False, default=dict),
    Column("created_at", UTCDateTime, nullable=False),
    Column("posted_at", UTCDateTime, nullable=True),
    UniqueConstraint("external_id"),
    Index("ix_settlement_postings_source", "shop_id", "source", "source_id"),
)

settlement_matches = Table(
    "settlement_matches",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("shop_id", String(64), nullable=False),
    Column("statement_id", String(64), nullable=False),
    Column("transaction_id", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # order | refund | adjustment | reserve
    Column("order_id", String(64), nullable=False, default=""),
    Column("status", String(24), nullable=False),  # matched | variance | unmatched | currency_mismatch | no_order
    Column("netsuite_id", String(64), nullable=True),
    Column("settlement", Money, nullable=False),
    Column("tiktok_amount", Money, nullable=True),
    Column("netsuite_amount", Money, nullable=True),
    Column("variance", Money, nullable=True),
    Column("note", Text, nullable=False, default=""),
    UniqueConstraint("shop_id", "statement_id", "transaction_id"),
    Index("ix_settlement_matches_status", "shop_id", "statement_id", "status"),
)

CHUNK = 1000


def _money_json(data: Mapping[str, Decimal]) -> dict[str, str]:
    return {k: str(v) for k, v in sorted(data.items()) if v}


def _money_from(data: Mapping[str, Any] | None) -> dict[str, Decimal]:
    return {str(k): Decimal(str(v)) for k, v in (data or {}).items()}


class SettlementStore:
    """Everything settlement persists. Methods take an optional ``conn`` for atomic multi-writes."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()

    @contextmanager
    def _tx(self, conn: Connection | None) -> Iterator[Connection]:
        if conn is not None:
            yield conn
        else:
            with self.engine.begin() as c:
                yield c

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect().execution_options(sqlite_read_only=True) as c:
            yield c

    # -- statements ---------------------------------------------------------------------------------
    def save_statement(
        self,
        stmt: Statement,
        *,
        revision: int,
        components: Mapping[str, Decimal],
        checks: Sequence[Mapping[str, Any]],
        matches: Sequence[Any],
        status: str | None = None,
        content_hash: str | None = None,
        conn: Connection | None = None,
    ) -> None:
        """Store a statement's current content: header, lines (replacing the previous ones), the
        check results and the matches, in one transaction."""
        now = self.clock.now()
        failed = any(c.get("blocking") for c in checks)
        line_sum = sum((ln.settlement for ln in stmt.lines), ZERO)
        match_list = list(matches)
        by_tid = {ln.transaction_id: ln for ln in stmt.lines}
        matched = sum(1 for m in match_list if m.status == "matched")
        unmatched = sum(1 for m in match_list if m.status in ("unmatched", "currency_mismatch"))
        variance = sum((m.variance for m in match_list if m.variance is not None), ZERO)
        values: dict[str, Any] = {
            "statement_time": stmt.statement_time,
            "currency": stmt.currency,
            "check_status": "failed" if failed else ("warning" if checks else "ok"),
            "payment_id": stmt.payment_id,
            "payment_status": stmt.payment_status,
            "revenue": stmt.revenue,
            "shipping": stmt.shipping,
            "fee_tax": stmt.fee_tax,
            "adjustment": stmt.adjustment,
            "settlement": stmt.settlement,
            "reserve": stmt.reserve,
            "payable": stmt.payable,
            "line_settlement": line_sum,
            "line_count": len(stmt.lines),
            "content_hash": content_hash or stmt.content_hash(),
            "revision": revision,
            "components": _money_json(components),
            "checks": list(checks),
            "matched": matched,
            "unmatched": unmatched,
            "variance_total": variance,
            "updated_at": now,
        }
        with self._tx(conn) as c:
            t = settlement_statements
            res = c.execute(update(t).where(t.c.shop_id == stmt.shop_id, t.c.statement_id == stmt.id).values(
                **values, **({"status": status} if status else {})))
            if res.rowcount == 0:
                c.execute(insert(t).values(shop_id=stmt.shop_id, statement_id=stmt.id, status=status or "imported",
                                           imported_at=now, **values))
            lt = settlement_lines
            c.execute(delete(lt).where(lt.c.shop_id == stmt.shop_id, lt.c.statement_id == stmt.id))
            for i in range(0, len(stmt.lines), CHUNK):
                c.execute(insert(lt), [_line_row(stmt.shop_id, stmt.id, ln) for ln in stmt.lines[i:i + CHUNK]])
            mt = settlement_matches
            c.execute(delete(mt).where(mt.c.shop_id == stmt.shop_id, mt.c.statement_id == stmt.id))
            for i in range(0, len(match_list), CHUNK):
                c.execute(insert(mt), [{
                    "shop_id": stmt.shop_id, "statement_id": stmt.id, "transaction_id": m.transaction_id,
                    "kind": m.kind, "order_id": m.order_id, "status": m.status, "netsuite_id": m.netsuite_id,
                    "settlement": by_tid[m.transaction_id].settlement if m.transaction_id in by_tid else ZERO,
                    "tiktok_amount": m.tiktok_amount, "netsuite_amount": m.netsuite_amount, "variance": m.variance,
                    "note": m.note,
                } for m in match_list[i:i + CHUNK]])

    def touch_statement(self, shop_id: str, statement_id: str, *, payment_id: str | None = None,
                        payment_status: str | None = None, status: str | None = None,
                        conn: Connection | None = None) -> None:
        values: dict[str, Any] = {"updated_at": self.clock.now()}
        if payment_id is not None:
            values["payment_id"] = payment_id
        if payment_status is not None:
            values["payment_status"] = payment_status
        if status is not None:
            values["status"] = status
        t = settlement_statements
        with self._tx(conn) as c:
            c.execute(update(t).where(t.c.shop_id == shop_id, t.c.statement_id == statement_id).values(**values))

    def statement(self, shop_id: str, statement_id: str) -> StatementRow | None:
        t = settlement_statements
        with self._read() as c:
            row = c.execute(select(t).where(t.c.shop_id == shop_id, t.c.statement_id == statement_id)
                            ).mappings().first()
        return None if row is None else _statement(row)

    def find_statement(self, statement_id: str) -> StatementRow | None:
        """A statement by its TikTok id alone (ids are unique across shops)."""
        t = settlement_statements
        with self._read() as c:
            row = c.execute(select(t).where(t.c.statement_id == statement_id)).mappings().first()
        return None if row is None else _statement(row)

    def statements(self, *, shop_id: str | None = None, payment_id: str | None = None,
                   since: datetime | None = None, until: datetime | None = None, status: str | None = None,
                   limit: int = 1000, offset: int = 0) -> list[StatementRow]:
        t = settlement_statements
        stmt = select(t).order_by(t.c.statement_time.desc(), t.c.statement_id).limit(limit).offset(offset)
        if shop_id is not None:
            stmt = stmt.where(t.c.shop_id == shop_id)
        if payment_id is not None:
            stmt = stmt.where(t.c.payment_id == payment_id)
        if since is not None:
            stmt = stmt.where(t.c.statement_time >= since)
        if until is not None:
            stmt = stmt.where(t.c.statement_time < until)
        if status is not None:
            stmt = stmt.where(t.c.status == status)
        with self._read() as c:
            return [_statement(r) for r in c.execute(stmt).mappings()]

    def lines(self, shop_id: str, statement_id: str) -> list[Line]:
        t = settlement_lines
        with self._read() as c:
            rows = c.execute(select(t).where(t.c.shop_id == shop_id, t.c.statement_id == statement_id)
                             .order_by(t.c.id)).mappings().all()
        return [_line(r) for r in rows]

    def lines_for_order(self, shop_id: str, order_id: str) -> list[tuple[str, Line]]:
        """(statement id, line) of every stored line that concerns a TikTok order."""
        t = settlement_lines
        with self._read() as c:
            rows = c.execute(select(t).where(t.c.shop_id == shop_id, t.c.related_order_id == order_id)
                             .order_by(t.c.id)).mappings().all()
        return [(r["statement_id"], _line(r)) for r in rows]

    def count_lines(self, shop_id: str | None = None) -> int:
        t = settlement_lines
        stmt = select(func.count()).select_from(t)
        if shop_id is not None:
            stmt = stmt.where(t.c.shop_id == shop_id)
        with self._read() as c:
            return int(c.execute(stmt).scalar_one())

    # -- matches ------------------------------------------------------------------------------------
    def matches(self, shop_id: str, statement_id: str, *, statuses: Iterable[str] | None = None,
                with_variance: bool = False, limit: int = 100_000) -> list[MatchRow]:
        t = settlement_matches
        stmt = select(t).where(t.c.shop_id == shop_id, t.c.statement_id == statement_id).order_by(t.c.id).limit(limit)
        if statuses is not None:
            stmt = stmt.where(t.c.status.in_(list(statuses)))
        if with_variance:
            stmt = stmt.where(t.c.variance.is_not(None))
        with self._read() as c:
            return [MatchRow(r["transaction_id"], r["kind"], r["order_id"], r["status"], r["settlement"],
                             r["netsuite_id"], r["tiktok_amount"], r["netsuite_amount"], r["variance"], r["note"])
                    for r in c.execute(stmt).mappings()]

    def match_counts(self, shop_id: str, statement_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        """(kind, status) → count over the statements."""
        t = settlement_matches
        with self._read() as c:
            rows = c.execute(select(t.c.kind, t.c.status, func.count()).where(
                t.c.shop_id == shop_id, t.c.statement_id.in_(list(statement_ids))).group_by(t.c.kind, t.c.status)
            ).all()
        return {(str(k), str(s)): int(n) for k, s, n in rows}

    # -- payments and withdrawals ---------------------------------------------------------------------
    def save_payment(self, p: Payment, conn: Connection | None = None) -> bool:
        """Insert or update; True when it is new or its content changed."""
        now = self.clock.now()
        h = p.content_hash()
        values = {"status": p.status, "amount": p.amount, "currency": p.currency,
                  "settlement_amount": p.settlement_amount, "settlement_currency": p.settlement_currency,
                  "reserve_amount": p.reserve_amount, "amount_before_exchange": p.amount_before_exchange,
                  "before_exchange_currency": p.before_exchange_currency, "exchange_rate": p.exchange_rate,
                  "bank_account": p.bank_account, "create_time": p.create_time, "paid_time": p.paid_time,
                  "content_hash": h, "updated_at": now}
        t = settlement_payments
        with self._tx(conn) as c:
            old = c.execute(select(t.c.content_hash).where(t.c.shop_id == p.shop_id, t.c.payment_id == p.id)).scalar()
            if old is None:
                c.execute(insert(t).values(shop_id=p.shop_id, payment_id=p.id, imported_at=now, **values))
                return True
            if old != h:
                c.execute(update(t).where(t.c.shop_id == p.shop_id, t.c.payment_id == p.id).values(**values))
                return True
            return False

    def payment(self, shop_id: str, payment_id: str) -> Payment | None:
        t = settlement_payments
        with self._read() as c:
            row = c.execute(select(t).where(t.c.shop_id == shop_id, t.c.payment_id == payment_id)).mappings().first()
        return None if row is None else _payment(row)

    def find_payment(self, payment_id: str) -> Payment | None:
        t = settlement_payments
        with self._read() as c:
            row = c.execute(select(t).where(t.c.payment_id == payment_id)).mappings().first()
        return None if row is None else _payment(row)

    def payments(self, *, shop_id: str | None = None, since: datetime | None = None, limit: int = 1000
                 ) -> list[Payment]:
        t = settlement_payments
        stmt = select(t).order_by(t.c.create_time.desc()).limit(limit)
        if shop_id is not None:
            stmt = stmt.where(t.c.shop_id == shop_id)
        if since is not None:
            stmt = stmt.where(t.c.create_time >= since)
        with self._read() as c:
            return [_payment(r) for r in c.execute(stmt).mappings()]

    def save_withdrawals(self, items: Sequence[Withdrawal], conn: Connection | None = None) -> int:
        now = self.clock.now()
        t = settlement_withdrawals
        n = 0
        with self._tx(conn) as c:
            for w in items:
                values = {"type": w.type, "status": w.status, "amount": w.amount, "currency": w.currency,
                          "create_time": w.create_time}
                res = c.execute(update(t).where(t.c.shop_id == w.shop_id, t.c.withdrawal_id == w.id).values(**values))
                if res.rowcount == 0:
                    c.execute(insert(t).values(shop_id=w.shop_id, withdrawal_id=w.id, imported_at=now, **values))
                n += 1
        return n

    def withdrawals(self, shop_id: str, *, limit: int = 1000) -> list[Withdrawal]:
        t = settlement_withdrawals
        with self._read() as c:
            rows = c.execute(select(t).where(t.c.shop_id == shop_id).order_by(t.c.create_time.desc()).limit(limit)
                             ).mappings().all()
        return [Withdrawal(r["shop_id"], r["withdrawal_id"], r["type"], r["status"], r["amount"], r["currency"],
                           r["create_time"]) for r in rows]

    # -- postings -----------------------------------------------------------------------------------
    def postings(self, shop_id: str, source: str, source_id: str, *, status: str | None = None
                 ) -> list[PostingRecord]:
        t = settlement_postings
        stmt = select(t).where(t.c.shop_id == shop_id, t.c.source == source, t.c.source_id == source_id)
        if status is not None:
            stmt = stmt.where(t.c.status == status)
        with self._read() as c:
            return [_posting(r) for r in c.execute(stmt.order_by(t.c.seq, t.c.id)).mappings()]

    def posting(self, external_id: str) -> PostingRecord | None:
        t = settlement_postings
        with self._read() as c:
            row = c.execute(select(t).where(t.c.external_id == external_id)).mappings().first()
        return None if row is None else _posting(row)

    def count_postings(self, *, kind: str | None = None, status: str | None = "posted") -> int:
        t = settlement_postings
        stmt = select(func.count()).select_from(t)
        if kind is not None:
            stmt = stmt.where(t.c.kind == kind)
        if status is not None:
            stmt = stmt.where(t.c.status == status)
        with self._read() as c:
            return int(c.execute(stmt).scalar_one())

    def begin_posting(self, rec: PostingRecord, conn: Connection | None = None) -> PostingRecord:
        """Record what is about to be sent (status ``pending``), or refresh the pending record of the
        same external id. A posted record is returned unchanged (it is never rewritten)."""
        now = self.clock.now()
        t = settlement_postings
        values = {"shop_id": rec.shop_id, "kind": rec.kind, "source": rec.source, "source_id": rec.source_id,
                  "seq": rec.seq, "record_type": rec.record_type, "content_hash": rec.content_hash,
                  "body_hash": rec.body_hash, "amount": rec.amount, "currency": rec.currency,
                  "tran_date": rec.tran_date, "components": _money_json(rec.components), "detail": rec.detail}
        with self._tx(conn) as c:
            row = c.execute(select(t).where(t.c.external_id == rec.external_id)).mappings().first()
            if row is None:
                c.execute(insert(t).values(external_id=rec.external_id, status="pending", created_at=now, **values))
            elif row["status"] != "posted":
                c.execute(update(t).where(t.c.external_id == rec.external_id).values(**values))
            else:
                return _posting(row)
            out = c.execute(select(t).where(t.c.external_id == rec.external_id)).mappings().one()
        return _posting(out)

    def finish_posting(self, external_id: str, netsuite_id: str, conn: Connection | None = None) -> None:
        t = settlement_postings
        with self._tx(conn) as c:
            c.execute(update(t).where(t.c.external_id == external_id).values(
                status="posted", netsuite_id=netsuite_id, posted_at=self.clock.now()))


# ----------------------------------------------------------------------------------------- mapping
def _line_row(shop_id: str, statement_id: str, ln: Line) -> dict[str, Any]:
    return {"shop_id": shop_id, "statement_id": statement_id, "transaction_id": ln.transaction_id, "type": ln.type,
            "order_id": ln.order_id, "adjustment_id": ln.adjustment_id, "related_order_id": ln.order_ref,
            "reserve_id": ln.reserve_id, "order_create_time": ln.order_create_time, "revenue": ln.revenue,
            "shipping": ln.shipping, "fee_tax": ln.fee_tax, "adjustment": ln.adjustment,
            "settlement": ln.settlement, "reserve": ln.reserve,
            "breakdown": {**_money_json(ln.breakdown),
                          **({"_ids": {"adjustment_order_id": ln.adjustment_order_id,
                                       "associated_order_id": ln.associated_order_id,
                                       "reserve_status": ln.reserve_status}}
                             if ln.adjustment_order_id or ln.associated_order_id or ln.reserve_status else {})}}


def _line(r: Any) -> Line:
    raw = dict(r["breakdown"] or {})
    ids = raw.pop("_ids", {}) or {}
    return Line(transaction_id=r["transaction_id"], type=r["type"], order_id=r["order_id"],
                order_create_time=r["order_create_time"], adjustment_id=r["adjustment_id"],
                adjustment_order_id=str(ids.get("adjustment_order_id") or ""),
                associated_order_id=str(ids.get("associated_order_id") or ""), reserve_id=r["reserve_id"],
                reserve_status=str(ids.get("reserve_status") or ""), revenue=r["revenue"], shipping=r["shipping"],
                fee_tax=r["fee_tax"], adjustment=r["adjustment"], settlement=r["settlement"], reserve=r["reserve"],
                breakdown=_money_from(raw))


def _statement(r: Any) -> StatementRow:
    return StatementRow(
        shop_id=r["shop_id"], statement_id=r["statement_id"], statement_time=r["statement_time"],
        currency=r["currency"], status=r["status"], check_status=r["check_status"], payment_id=r["payment_id"],
        payment_status=r["payment_status"], revenue=r["revenue"], shipping=r["shipping"], fee_tax=r["fee_tax"],
        adjustment=r["adjustment"], settlement=r["settlement"], reserve=r["reserve"], payable=r["payable"],
        line_settlement=r["line_settlement"], line_count=r["line_count"], content_hash=r["content_hash"],
        revision=r["revision"], components=_money_from(r["components"]), checks=list(r["checks"] or []),
        matched=r["matched"], unmatched=r["unmatched"], variance_total=r["variance_total"],
        imported_at=r["imported_at"], updated_at=r["updated_at"])


def _payment(r: Any) -> Payment:
    return Payment(shop_id=r["shop_id"], id=r["payment_id"], status=r["status"], amount=r["amount"],
                   currency=r["currency"], create_time=r["create_time"], paid_time=r["paid_time"],
                   settlement_amount=r["settlement_amount"], settlement_currency=r["settlement_currency"],
                   reserve_amount=r["reserve_amount"], amount_before_exchange=r["amount_before_exchange"],
                   before_exchange_currency=r["before_exchange_currency"], exchange_rate=r["exchange_rate"],
                   bank_account=r["bank_account"])


def _posting(r: Any) -> PostingRecord:
    return PostingRecord(shop_id=r["shop_id"], kind=r["kind"], source=r["source"], source_id=r["source_id"],
                         seq=r["seq"], external_id=r["external_id"], record_type=r["record_type"], amount=r["amount"],
                         currency=r["currency"], tran_date=r["tran_date"], content_hash=r["content_hash"],
                         body_hash=r["body_hash"], components=_money_from(r["components"]),
                         detail=dict(r["detail"] or {}), netsuite_id=r["netsuite_id"], status=r["status"],
                         created_at=r["created_at"], posted_at=r["posted_at"])


__all__ = [
    "MatchRow",
    "PostingRecord",
    "SettlementStore",
    "StatementRow",
    "settlement_lines",
    "settlement_matches",
    "settlement_payments",
    "settlement_postings",
    "settlement_statements",
    "settlement_withdrawals",
]

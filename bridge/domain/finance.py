"""TikTok Shop finance as the bridge keeps it: statements, their transaction lines, payments, withdrawals.

Plain frozen dataclasses with slots (a big statement holds tens of thousands of lines): money is
``Decimal`` parsed from TikTok's decimal strings (floats refused), ids are strings, times aware UTC.
TikTok's sign convention is kept: money the seller receives is positive, deductions are negative.

A line's breakdowns are flattened into one mapping of *component* keys, zero amounts left out:

* ``revenue.<field>``        ``revenue_breakdown`` (sums to ``revenue_amount``)
* ``shipping.<field>``       ``shipping_cost_breakdown`` (sums to ``shipping_cost_amount``)
* ``fee.<field>``, ``tax.<field>``  ``fee_tax_breakdown.fee`` / ``.tax`` (sum to ``fee_tax_amount``)
* ``shipping_info.<field>``  ``shipping_cost_breakdown.supplementary_component`` (reference only)
* ``info.<field>``           the line's ``supplementary_component`` (reference only)

``parse_statement`` reads Get Transactions by Statement (202501) either as the raw JSON ``data`` or as
the client's merged ``StatementTransactions`` model dumped to a dict.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bridge.errors import FatalError

ZERO = Decimal(0)
POSTING_GROUPS = ("revenue", "shipping", "fee", "tax")
REFERENCE_GROUPS = ("shipping_info", "info")


class FinanceDataError(FatalError, ValueError):
    """A finance payload that cannot be read (a float amount, a malformed number …)."""


def money(value: Any, where: str = "amount") -> Decimal:
    """An exact amount from TikTok's decimal string (blank → 0); floats are refused."""
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise FinanceDataError(f"{where}: not a finite amount")
        return value
    if isinstance(value, bool | float):
        raise FinanceDataError(f"{where}: amounts must be decimal strings, got {type(value).__name__}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return ZERO
        try:
            out = Decimal(text)
        except InvalidOperation:
            raise FinanceDataError(f"{where}: not a decimal amount: {text[:40]!r}") from None
        if not out.is_finite():
            raise FinanceDataError(f"{where}: not a finite amount")
        return out
    raise FinanceDataError(f"{where}: not an amount ({type(value).__name__})")


def ident(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | float):
        raise FinanceDataError("ids must be strings")
    return str(value).strip()


def when(value: Any) -> datetime | None:
    """Unix seconds (int or digit string; milliseconds tolerated) or an aware datetime → aware UTC."""
    if value in (None, "", 0, "0"):
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise FinanceDataError("naive datetime")
        return value.astimezone(UTC)
    if isinstance(value, bool | float):
        raise FinanceDataError("times must be Unix seconds")
    if isinstance(value, str):
        if not value.strip().isdigit():
            raise FinanceDataError(f"not a Unix timestamp: {value[:20]!r}")
        value = int(value.strip())
    if isinstance(value, int | Decimal):
        seconds = int(value)
        if seconds > 10**11:
            seconds //= 1000
        return datetime.fromtimestamp(seconds, UTC)
    raise FinanceDataError(f"not a Unix timestamp: {type(value).__name__}")


def canon(amount: Decimal) -> str:
    """A canonical text of an amount ("10", "10.0" and "10.00" read the same)."""
    if amount == 0:
        return "0"
    return format(amount.normalize(), "f")


@dataclass(frozen=True, slots=True)
class Line:
    """One transaction of a statement: an order settlement, an adjustment or a reserve movement."""

    transaction_id: str
    type: str
    order_id: str = ""
    order_create_time: datetime | None = None
    adjustment_id: str = ""
    adjustment_order_id: str = ""
    associated_order_id: str = ""
    reserve_id: str = ""
    reserve_status: str = ""
    revenue: Decimal = ZERO
    shipping: Decimal = ZERO
    fee_tax: Decimal = ZERO
    adjustment: Decimal = ZERO
    settlement: Decimal = ZERO
    reserve: Decimal = ZERO
    breakdown: Mapping[str, Decimal] = field(default_factory=dict)

    @property
    def is_order(self) -> bool:
        return self.type == "ORDER"

    @property
    def is_reserve(self) -> bool:
        return self.type == "RESERVE"

    @property
    def is_adjustment(self) -> bool:
        return not (self.is_order or self.is_reserve)

    @property
    def order_ref(self) -> str:
        """The TikTok order this line concerns, if it names one."""
        return self.order_id or self.adjustment_order_id or self.associated_order_id

    def part(self, key: str) -> Decimal:
        return self.breakdown.get(key, ZERO)

    def group_sum(self, group: str) -> Decimal:
        prefix = group + "."
        return sum((v for k, v in self.breakdown.items() if k.startswith(prefix)), ZERO)

    def fingerprint(self) -> list[Any]:
        return [self.transaction_id, self.type, self.order_id, self.adjustment_id, self.adjustment_order_id,
                self.associated_order_id, self.reserve_id, canon(self.revenue), canon(self.shipping),
                canon(self.fee_tax), canon(self.adjustment), canon(self.settlement), canon(self.reserve),
                sorted((k, canon(v)) for k, v in self.breakdown.items())]


@dataclass(frozen=True, slots=True)
class Statement:
    """A daily statement with its lines (Get Transactions by Statement, every page)."""

    shop_id: str
    id: str
    currency: str
    statement_time: datetime | None = None
    status: str = ""
    revenue: Decimal = ZERO
    shipping: Decimal = ZERO
    fee_tax: Decimal = ZERO
    adjustment: Decimal = ZERO
    settlement: Decimal = ZERO
    reserve: Decimal = ZERO
    payable: Decimal = ZERO
    total_count: int | None = None
    payment_id: str = ""
    payment_status: str = ""
    lines: tuple[Line, ...] = ()

    def content_hash(self) -> str:
        """Identity of the statement's *content*: currency, totals and every line's amounts (payment
        status and line order do not count). A re-issued statement with other amounts hashes apart."""
        h = hashlib.sha256()
        h.update(json.dumps([self.currency.upper(), [canon(x) for x in (
            self.revenue, self.shipping, self.fee_tax, self.adjustment, self.settlement, self.reserve,
            self.payable)]]).encode())
        # one digest per line, sorted: the order TikTok pages lines in does not matter
        for digest in sorted(hashlib.sha256(json.dumps(ln.fingerprint(), separators=(",", ":")).encode()).hexdigest()
                             for ln in self.lines):
            h.update(digest.encode())
        return h.hexdigest()


@dataclass(frozen=True, slots=True)
class StatementSummary:
    """One entry of Get Statements (202309): the header the daily import lists."""

    id: str
    statement_time: datetime | None
    currency: str
    settlement: Decimal = ZERO
    payment_id: str = ""
    payment_status: str = ""


@dataclass(frozen=True, slots=True)
class Payment:
    """A payout (Get Payments). ``amount`` is after currency exchange, in ``currency``."""

    shop_id: str
    id: str
    status: str
    amount: Decimal
    currency: str
    create_time: datetime | None = None
    paid_time: datetime | None = None
    settlement_amount: Decimal = ZERO
    settlement_currency: str = ""
    reserve_amount: Decimal = ZERO
    amount_before_exchange: Decimal = ZERO
    before_exchange_currency: str = ""
    exchange_rate: Decimal = ZERO
    bank_account: str = ""

    @property
    def exchanged(self) -> bool:
        """Whether the payout crossed currencies (then the bank got another currency than settled)."""
        src = (self.before_exchange_currency or self.settlement_currency or self.currency).upper()
        return bool(src) and src != self.currency.upper()

    def content_hash(self) -> str:
        doc = [self.id, self.status, canon(self.amount), self.currency, canon(self.settlement_amount),
               canon(self.reserve_amount), canon(self.amount_before_exchange), canon(self.exchange_rate),
               self.paid_time.isoformat() if self.paid_time else ""]
        return hashlib.sha256(json.dumps(doc).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Withdrawal:
    shop_id: str
    id: str
    type: str
    status: str
    amount: Decimal
    currency: str
    create_time: datetime | None = None


# ------------------------------------------------------------------------------------------- parsing
def _flatten(value: Any, prefix: str, out: dict[str, Decimal], where: str) -> None:
    if not value:
        return
    if not isinstance(value, Mapping):
        raise FinanceDataError(f"{where}: breakdown is not an object")
    for key, v in value.items():
        if isinstance(v, Mapping):
            continue  # nested objects are handled by the caller (they are reference-only)
        amount = money(v, f"{where}.{key}")
        if amount:
            out[f"{prefix}{key}"] = amount


def _split_flat(value: Any, nested: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A breakdown and its nested object, whether the nesting is real or flattened as ``a.b`` keys."""
    if not isinstance(value, Mapping):
        return {}, {}
    top: dict[str, Any] = {}
    inner: dict[str, Any] = dict(value.get(nested) or {}) if isinstance(value.get(nested), Mapping) else {}
    for k, v in value.items():
        if k == nested:
            continue
        if k.startswith(nested + "."):
            inner[k[len(nested) + 1:]] = v
        else:
            top[k] = v
    return top, inner


def parse_line(raw: Mapping[str, Any]) -> Line:
    """One transaction of Get Transactions by Statement (202501)."""
    tid = ident(raw.get("id"))
    where = f"transaction {tid or '?'}"
    parts: dict[str, Decimal] = {}
    _flatten(raw.get("revenue_breakdown"), "revenue.", parts, where + ".revenue_breakdown")
    ship_top, ship_sup = _split_flat(raw.get("shipping_cost_breakdown"), "supplementary_component")
    _flatten(ship_top, "shipping.", parts, where + ".shipping_cost_breakdown")
    _flatten(ship_sup, "shipping_info.", parts, where + ".shipping_cost_breakdown.supplementary_component")
    ft = raw.get("fee_tax_breakdown") or {}
    if not isinstance(ft, Mapping):
        raise FinanceDataError(f"{where}.fee_tax_breakdown: not an object")
    fee_top, fee_inner = _split_flat(ft, "fee")
    _, tax_inner = _split_flat(fee_top, "tax")
    _flatten(fee_inner, "fee.", parts, where + ".fee_tax_breakdown.fee")
    _flatten(tax_inner, "tax.", parts, where + ".fee_tax_breakdown.tax")
    _flatten(raw.get("supplementary_component"), "info.", parts, where + ".supplementary_component")
    return Line(
        transaction_id=tid,
        type=str(raw.get("type") or "").strip(),
        order_id=ident(raw.get("order_id")),
        order_create_time=when(raw.get("order_create_time")),
        adjustment_id=ident(raw.get("adjustment_id")),
        adjustment_order_id=ident(raw.get("adjustment_order_id")),
        associated_order_id=ident(raw.get("associated_order_id")),
        reserve_id=ident(raw.get("reserve_id")),
        reserve_status=str(raw.get("reserve_status") or ""),
        revenue=money(raw.get("revenue_amount"), where + ".revenue_amount"),
        shipping=money(raw.get("shipping_cost_amount"), where + ".shipping_cost_amount"),
        fee_tax=money(raw.get("fee_tax_amount"), where + ".fee_tax_amount"),
        adjustment=money(raw.get("adjustment_amount"), where + ".adjustment_amount"),
        settlement=money(raw.get("settlement_amount"), where + ".settlement_amount"),
        reserve=money(raw.get("reserve_amount"), where + ".reserve_amount"),
        breakdown=parts,
    )


def parse_statement(shop_id: str, data: Mapping[str, Any], lines: Iterable[Mapping[str, Any]] | None = None,
                    summary: StatementSummary | None = None) -> Statement:
    """A statement from Get Transactions by Statement's ``data`` (lines from ``data.transactions``
    unless given separately, e.g. streamed page by page). ``summary`` (Get Statements) supplies the
    payment id and status, which the 202501 shape lacks."""
    sid = ident(data.get("id")) or (summary.id if summary else "")
    b = data.get("total_settlement_breakdown") or {}
    if not isinstance(b, Mapping):
        raise FinanceDataError(f"statement {sid}: total_settlement_breakdown is not an object")
    raw_lines = (data.get("transactions") or []) if lines is None else lines
    count = data.get("total_count")
    return Statement(
        shop_id=shop_id,
        id=sid,
        currency=str(data.get("currency") or (summary.currency if summary else "")).upper(),
        statement_time=when(data.get("create_time")) or (summary.statement_time if summary else None),
        status=str(data.get("status") or ""),
        revenue=money(b.get("total_revenue_amount"), "total_revenue_amount"),
        shipping=money(b.get("total_shipping_cost_amount"), "total_shipping_cost_amount"),
        fee_tax=money(b.get("total_fee_tax_amount"), "total_fee_tax_amount"),
        adjustment=money(b.get("total_adjustment_amount"), "total_adjustment_amount"),
        settlement=money(data.get("total_settlement_amount"), "total_settlement_amount"),
        reserve=money(data.get("total_reserve_amount"), "total_reserve_amount"),
        payable=money(data.get("payable_amount"), "payable_amount"),
        total_count=int(count) if isinstance(count, int | str) and str(count).strip().isdigit() else None,
        payment_id=summary.payment_id if summary else ident(data.get("payment_id")),
        payment_status=summary.payment_status if summary else str(data.get("payment_status") or ""),
        lines=tuple(parse_line(r) for r in raw_lines),
    )


def parse_summary(raw: Mapping[str, Any]) -> StatementSummary:
    """One statement of Get Statements (202309)."""
    return StatementSummary(
        id=ident(raw.get("id")),
        statement_time=when(raw.get("statement_time")),
        currency=str(raw.get("currency") or "").upper(),
        settlement=money(raw.get("settlement_amount"), "settlement_amount"),
        payment_id=ident(raw.get("payment_id")),
        payment_status=str(raw.get("payment_status") or ""),
    )


def _value(v: Any, where: str) -> tuple[Decimal, str]:
    if isinstance(v, Mapping):
        return money(v.get("value"), where), str(v.get("currency") or "").upper()
    return money(v, where), ""


def parse_payment(shop_id: str, raw: Mapping[str, Any]) -> Payment:
    """One payout of Get Payments (202309)."""
    amount, cur = _value(raw.get("amount"), "amount")
    settled, settled_cur = _value(raw.get("settlement_amount"), "settlement_amount")
    reserve, _ = _value(raw.get("reserve_amount"), "reserve_amount")
    before, before_cur = _value(raw.get("payment_amount_before_exchange"), "payment_amount_before_exchange")
    return Payment(
        shop_id=shop_id,
        id=ident(raw.get("id")),
        status=str(raw.get("status") or ""),
        amount=amount,
        currency=cur or str(raw.get("currency") or "").upper(),
        create_time=when(raw.get("create_time")),
        paid_time=when(raw.get("paid_time")),
        settlement_amount=settled,
        settlement_currency=settled_cur,
        reserve_amount=reserve,
        amount_before_exchange=before,
        before_exchange_currency=before_cur,
        exchange_rate=money(raw.get("exchange_rate"), "exchange_rate"),
        bank_account=str(raw.get("bank_account") or "")[-8:],
    )


def parse_withdrawal(shop_id: str, raw: Mapping[str, Any]) -> Withdrawal:
    return Withdrawal(
        shop_id=shop_id,
        id=ident(raw.get("id")),
        type=str(raw.get("type") or ""),
        status=str(raw.get("status") or ""),
        amount=money(raw.get("amount"), "amount"),
        currency=str(raw.get("currency") or "").upper(),
        create_time=when(raw.get("create_time")),
    )


__all__ = [
    "POSTING_GROUPS",
    "REFERENCE_GROUPS",
    "ZERO",
    "FinanceDataError",
    "Line",
    "Payment",
    "Statement",
    "StatementSummary",
    "Withdrawal",
    "canon",
    "money",
    "parse_line",
    "parse_payment",
    "parse_statement",
    "parse_summary",
    "parse_withdrawal",
]

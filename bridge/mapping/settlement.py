"""Settlement as pure functions: checks, components, matching, the journal entry, the deposit, the
adjusting entry for a corrected statement, and the reconciliation report data.

No I/O, no clock. The flow (``bridge.flows.settlement``) reads TikTok and the store, calls these, and
writes what they return.

Amounts keep TikTok's sign (money to the seller positive). A *component* is one postable amount of a
statement (``fee.referral_fee_amount``, ``adjustment.CHARGE_BACK`` …, see ``bridge.domain.finance``).
Posting rule, for every component: a positive amount is a **credit** to its account, a negative one a
**debit**; the clearing account takes the other side (debit when TikTok owes the seller). The journal
therefore balances by construction, and ``build_journal`` still proves it (debits = credits to the
cent) before anything is sent.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from bridge.domain.finance import ZERO, Line, Payment, Statement, StatementSummary, canon
from bridge.errors import Evidence, NeedsHumanError
from bridge.mapping.accounting import DEFAULT_ZONE, posting_date, statement_posting_date
from bridge.mapping.settlement_spec import REFERENCE_FEE_FIELDS, Dimensions, SettlementSettings
from bridge.mapping.vat import PREFIX as VAT_PREFIX
from bridge.mapping.vat import OrderVat, split_order_vat
from bridge.mapping.wire import json_digest


def evidence(system: str, operation: str, **details: Any) -> Evidence:
    """``Evidence`` with ``details`` (the facts a person needs), redacted on the way in."""
    return Evidence.of(system, operation, **details)


ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "IDR", "CLP", "HUF", "TWD"})
MAX_EXAMPLES = 50


def exponent(currency: str) -> Decimal:
    return Decimal("1") if currency.upper() in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")


def quantize(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(exponent(currency), rounding=ROUND_HALF_UP)


def journal_external_id(statement_id: str) -> str:
    return f"TTS-STMT-{statement_id}"


def adjusting_external_id(statement_id: str, n: int) -> str:
    return f"TTS-STMT-{statement_id}-ADJ{n}"


def deposit_external_id(payment_id: str) -> str:
    return f"TTS-PAY-{payment_id}"


# =========================================================================================== checks
@dataclass(frozen=True, slots=True)
class Failure:
    """One check that did not hold, with the numbers that show it."""

    code: str
    message: str
    blocking: bool = True
    transaction_id: str = ""
    expected: Decimal | None = None
    actual: Decimal | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message, "blocking": self.blocking}
        if self.transaction_id:
            out["transaction_id"] = self.transaction_id
        if self.expected is not None:
            out["expected"] = str(self.expected)
        if self.actual is not None:
            out["actual"] = str(self.actual)
            if self.expected is not None:
                out["difference"] = str(self.actual - self.expected)
        return out


def _fee_tax_children(line: Line) -> Decimal:
    total = ZERO
    for k, v in line.breakdown.items():
        group, _, name = k.partition(".")
        if group == "tax" or (group == "fee" and name not in REFERENCE_FEE_FIELDS):
            total += v
    return total


def _precise(amount: Decimal, currency: str) -> bool:
    return amount == amount.quantize(exponent(currency))


def check_line(line: Line, currency: str) -> list[Failure]:
    """The documented identities of one transaction line (signed amounts):
    ``settlement = revenue + shipping_cost + fee_tax + adjustment``; each parent is the sum of its
    breakdown; ``sales_tax = payment - refund``; ``retail_delivery_fee = payment + refund``."""
    tid = line.transaction_id
    out: list[Failure] = []

    def need(code: str, what: str, expected: Decimal, actual: Decimal, blocking: bool = True) -> None:
        if expected != actual:
            out.append(Failure(code, f"line {tid}: {what}", blocking, tid, expected, actual))

    if not tid:
        out.append(Failure("LINE_ID", "a transaction line has no id", True))
    if line.is_order and not line.order_id:
        out.append(Failure("LINE_ORDER_ID", f"line {tid}: ORDER transaction without order_id", False, tid))
    if line.is_adjustment and not line.adjustment_id:
        out.append(Failure("LINE_ADJUSTMENT_ID", f"line {tid}: adjustment {line.type!r} without adjustment_id",
                           False, tid))
    need("FORMULA_SETTLEMENT", "settlement_amount ≠ revenue + shipping_cost + fee_tax + adjustment",
         line.revenue + line.shipping + line.fee_tax + line.adjustment, line.settlement)
    need("FORMULA_REVENUE", "revenue_amount ≠ Σ revenue_breakdown", line.group_sum("revenue"), line.revenue)
    need("FORMULA_SHIPPING", "shipping_cost_amount ≠ Σ shipping_cost_breakdown", line.group_sum("shipping"),
         line.shipping)
    need("FORMULA_FEE_TAX", "fee_tax_amount ≠ Σ fee_tax_breakdown.fee + Σ fee_tax_breakdown.tax",
         _fee_tax_children(line), line.fee_tax)
    info = line.breakdown
    if any(k.startswith("info.sales_tax") for k in info):
        need("FORMULA_SALES_TAX", "sales_tax_amount ≠ sales_tax_payment_amount - sales_tax_refund_amount",
             line.part("info.sales_tax_payment_amount") - line.part("info.sales_tax_refund_amount"),
             line.part("info.sales_tax_amount"), blocking=False)
    if any(k.startswith("info.retail_delivery_fee") for k in info):
        need("FORMULA_RETAIL_DELIVERY_FEE",
             "retail_delivery_fee_amount ≠ retail_delivery_fee_payment_amount + retail_delivery_fee_refund_amount",
             line.part("info.retail_delivery_fee_payment_amount") + line.part("info.retail_delivery_fee_refund_amount"),
             line.part("info.retail_delivery_fee_amount"), blocking=False)
    amounts = [line.revenue, line.shipping, line.fee_tax, line.adjustment, line.settlement, line.reserve,
               *line.breakdown.values()]
    if not all(_precise(a, currency) for a in amounts):
        out.append(Failure("PRECISION", f"line {tid}: an amount has more decimals than {currency} allows", True, tid))
    return out


def check_statement(stmt: Statement, summary: StatementSummary | None = None) -> list[Failure]:
    """Every line's identities, then the statement's: lines sum to the totals, the totals sum to the
    settlement, ``payable = settlement + reserve``, the line count, and (given the Get Statements
    entry) the 202309 settlement amount equals the 202501 one."""
    out: list[Failure] = []
    seen: set[str] = set()
    sums = {"revenue": ZERO, "shipping": ZERO, "fee_tax": ZERO, "adjustment": ZERO, "settlement": ZERO,
            "reserve": ZERO}
    reserve_lines = False
    for line in stmt.lines:
        out.extend(check_line(line, stmt.currency))
        if line.transaction_id in seen:
            out.append(Failure("LINE_DUPLICATE", f"line {line.transaction_id} appears twice", True,
                               line.transaction_id))
        seen.add(line.transaction_id)
        sums["revenue"] += line.revenue
        sums["shipping"] += line.shipping
        sums["fee_tax"] += line.fee_tax
        sums["adjustment"] += line.adjustment
        sums["settlement"] += line.settlement
        sums["reserve"] += line.reserve
        reserve_lines = reserve_lines or bool(line.reserve) or line.is_reserve

    def need(code: str, what: str, expected: Decimal, actual: Decimal) -> None:
        if expected != actual:
            out.append(Failure(code, f"statement {stmt.id}: {what}", True, "", expected, actual))

    need("TOTAL_REVENUE", "total_revenue_amount ≠ Σ lines' revenue_amount", sums["revenue"], stmt.revenue)
    need("TOTAL_SHIPPING", "total_shipping_cost_amount ≠ Σ lines' shipping_cost_amount", sums["shipping"],
         stmt.shipping)
    need("TOTAL_FEE_TAX", "total_fee_tax_amount ≠ Σ lines' fee_tax_amount", sums["fee_tax"], stmt.fee_tax)
    need("TOTAL_ADJUSTMENT", "total_adjustment_amount ≠ Σ lines' adjustment_amount", sums["adjustment"],
         stmt.adjustment)
    need("TOTAL_SETTLEMENT", "total_settlement_amount ≠ Σ lines' settlement_amount", sums["settlement"],
         stmt.settlement)
    need("FORMULA_TOTAL_SETTLEMENT", "total_settlement_amount ≠ Σ total_settlement_breakdown",
         stmt.revenue + stmt.shipping + stmt.fee_tax + stmt.adjustment, stmt.settlement)
    need("FORMULA_PAYABLE", "payable_amount ≠ total_settlement_amount + total_reserve_amount",
         stmt.settlement + stmt.reserve, stmt.payable)
    if reserve_lines:
        need("TOTAL_RESERVE", "total_reserve_amount ≠ Σ lines' reserve_amount", sums["reserve"], stmt.reserve)
    if stmt.total_count is not None and stmt.total_count != len(stmt.lines):
        out.append(Failure("LINE_COUNT", f"statement {stmt.id}: total_count is {stmt.total_count} but "
                           f"{len(stmt.lines)} lines were read", True, "", Decimal(stmt.total_count),
                           Decimal(len(stmt.lines))))
    if summary is not None and summary.settlement != stmt.settlement:
        out.append(Failure("STATEMENT_LIST_MISMATCH", f"statement {stmt.id}: Get Statements says settlement "
                           f"{summary.settlement}, its transactions say {stmt.settlement}", True, "",
                           summary.settlement, stmt.settlement))
    if summary is not None and summary.currency and summary.currency != stmt.currency:
        out.append(Failure("CURRENCY", f"statement {stmt.id}: currency {stmt.currency} ≠ {summary.currency}", True))
    return out


@dataclass(frozen=True, slots=True)
class StatementTotals:
    """What a payment check needs of one stored statement."""

    statement_id: str
    currency: str
    settlement: Decimal
    reserve: Decimal
    payable: Decimal


def check_payment(payment: Payment, statements: Sequence[StatementTotals]) -> list[Failure]:
    """A payout against its statements: ``amount = settlement + reserve`` (before exchange) and the
    statements sum to it."""
    out: list[Failure] = []
    ref = f"payment {payment.id}"
    before = payment.amount_before_exchange if payment.amount_before_exchange or payment.exchanged else payment.amount
    if payment.settlement_amount + payment.reserve_amount != before:
        out.append(Failure("PAYMENT_FORMULA", f"{ref}: amount ≠ settlement_amount + reserve_amount", True, "",
                           payment.settlement_amount + payment.reserve_amount, before))
    if not statements:
        out.append(Failure("PAYMENT_NO_STATEMENTS", f"{ref}: no imported statement names this payment", True))
        return out
    settled = sum((s.settlement for s in statements), ZERO)
    payable = sum((s.payable for s in statements), ZERO)
    if settled != payment.settlement_amount:
        out.append(Failure("PAYMENT_SETTLEMENT", f"{ref}: Σ statements' settlement ≠ the payment's "
                           "settlement_amount", True, "", settled, payment.settlement_amount))
    if payable != before:
        out.append(Failure("PAYMENT_SUM", f"{ref}: Σ statements' payable_amount ≠ the payment amount", True, "",
                           payable, before))
    currencies = {s.currency for s in statements}
    src = (payment.before_exchange_currency or payment.settlement_currency or payment.currency).upper()
    if len(currencies) > 1 or (src and currencies != {src}):
        out.append(Failure("PAYMENT_CURRENCY", f"{ref}: statements in {sorted(currencies)} paid from {src}", True))
    return out


def group_failures(failures: Iterable[Failure]) -> list[dict[str, Any]]:
    """Failures by code: count, blocking, message and up to ``MAX_EXAMPLES`` examples (evidence)."""
    by: dict[str, dict[str, Any]] = {}
    for f in failures:
        g = by.setdefault(f.code, {"code": f.code, "blocking": f.blocking, "count": 0, "message": f.message,
                                   "examples": []})
        g["count"] += 1
        g["blocking"] = g["blocking"] or f.blocking
        if len(g["examples"]) < MAX_EXAMPLES:
            g["examples"].append(f.as_dict())
    return [by[k] for k in sorted(by)]


# ======================================================================================= components
def line_components(line: Line) -> dict[str, Decimal]:
    """The postable amounts of one line; they always sum to its settlement amount (what the
    breakdowns do not explain is a ``variance.*`` component, which a check has flagged)."""
    out: dict[str, Decimal] = {}
    for k, v in line.breakdown.items():
        group, _, name = k.partition(".")
        if group in ("revenue", "shipping", "tax") or (group == "fee" and name not in REFERENCE_FEE_FIELDS):
            out[k] = out.get(k, ZERO) + v
    actual = out.get("shipping.actual_shipping_fee_amount", ZERO)
    fbt = line.part("shipping_info.fbt_fulfillment_fee_amount") + line.part("shipping_info.fbt_shipping_cost_amount")
    if actual and fbt:
        fbt = -abs(fbt) if actual < 0 else abs(fbt)  # the supplementary figures' signs vary by market
        if abs(fbt) <= abs(actual):
            out["shipping.fbt_fulfillment_fee_amount"] = fbt
            rest = actual - fbt
            if rest:
                out["shipping.actual_shipping_fee_amount"] = rest
            else:
                del out["shipping.actual_shipping_fee_amount"]
    if line.adjustment:
        key = f"adjustment.{line.type or 'OTHER_ADJUSTMENT'}"
        out[key] = out.get(key, ZERO) + line.adjustment
    residuals = {
        "variance.revenue": line.revenue - line.group_sum("revenue"),
        "variance.shipping": line.shipping - line.group_sum("shipping"),
        "variance.fee_tax": line.fee_tax - _fee_tax_children(line),
        "variance.settlement": line.settlement - (line.revenue + line.shipping + line.fee_tax + line.adjustment),
    }
    for k, v in residuals.items():
        if v:
            out[k] = v
    return out


def statement_components(stmt: Statement, vat_rate: Decimal | None = None,
                         orders: Mapping[str, OrderVat] | None = None) -> dict[str, Decimal]:
    """Σ line components plus the statement's reserve movement: the amounts one summary journal posts.
    Their sum is Σ lines' settlement + total_reserve_amount (the clearing amount). ``vat_rate``: the
    shop's prices include VAT at this rate; each line's VAT-bearing components split into net and
    ``vat.*`` (``bridge.mapping.vat``), per line as each order's invoice splits them: by TikTok's own VAT
    and rates of the order (``orders``, Get Price Detail) where TikTok states them, else the rule at ``vat_rate``."""
    total: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for line in stmt.lines:
        ov = (orders or {}).get(line.order_ref) if vat_rate is not None else None
        for k, v in split_order_vat(line_components(line), ov, vat_rate, stmt.currency).items():
            total[k] += v
    if stmt.reserve:
        total["reserve"] += stmt.reserve
    return {k: v for k, v in sorted(total.items()) if v}


def components_to_json(components: Mapping[str, Decimal]) -> dict[str, str]:
    return {k: str(v) for k, v in sorted(components.items()) if v}


def components_from_json(data: Mapping[str, Any]) -> dict[str, Decimal]:
    return {str(k): Decimal(str(v)) for k, v in data.items()}


def add_components(*parts: Mapping[str, Decimal]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for p in parts:
        for k, v in p.items():
            out[k] += v
    return {k: v for k, v in sorted(out.items()) if v}


def subtract_components(a: Mapping[str, Decimal], b: Mapping[str, Decimal]) -> dict[str, Decimal]:
    return add_components(a, {k: -v for k, v in b.items()})


# ========================================================================================= matching
@dataclass(frozen=True, slots=True)
class OrderRef:
    """What the orders flow recorded for a TikTok order (``links`` kind ``order``)."""

    netsuite_id: str | None
    expected_total: Decimal | None = None
    platform_funded: Decimal | None = None
    currency: str = ""
    record_type: str = ""
    status: str = ""


MatchKind = Literal["order", "refund", "adjustment", "reserve"]
MatchStatus = Literal["matched", "variance", "unmatched", "currency_mismatch", "no_order"]


@dataclass(frozen=True, slots=True)
class Match:
    transaction_id: str
    kind: MatchKind
    order_id: str
    status: MatchStatus
    netsuite_id: str | None = None
    tiktok_amount: Decimal | None = None
    netsuite_amount: Decimal | None = None
    variance: Decimal | None = None
    note: str = ""


def sale_revenue(line: Line) -> Decimal:
    """The order's sales at settlement, refunds excluded: gross less seller discounts."""
    return line.part("revenue.subtotal_before_discount_amount") + line.part("revenue.seller_discount_amount")


def expected_revenue(line: Line, ref: OrderRef, *, tax_in_total: bool = True) -> Decimal | None:
    """The order's revenue as NetSuite holds it: the sales order's total (what the buyer paid, as the
    orders flow reconciled it) plus what TikTok funded, less the buyer-paid shipping, the platform
    shipping discount, sales tax and the retail delivery fee — which TikTok settles elsewhere."""
    if ref.expected_total is None:
        return None
    shipping_paid = (line.part("shipping_info.customer_shipping_fee") if "shipping_info.customer_shipping_fee"
                     in line.breakdown else line.part("shipping.customer_paid_shipping_fee_amount"))
    ship_platform = abs(line.part("shipping_info.platform_shipping_fee_discount_amount")
                        if "shipping_info.platform_shipping_fee_discount_amount" in line.breakdown
                        else line.part("shipping.shipping_fee_discount_amount"))
    tax = line.part("info.sales_tax_payment_amount") if tax_in_total else ZERO
    delivery_fee = line.part("info.retail_delivery_fee_payment_amount")
    return ref.expected_total + (ref.platform_funded or ZERO) - shipping_paid - ship_platform - tax - delivery_fee


def match_line(line: Line, ref: OrderRef | None, currency: str, *, tolerance: Decimal = ZERO,
               tax_in_total: bool = True) -> Match:
    tid = line.transaction_id
    order_id = line.order_ref
    if line.is_order:
        is_sale = bool(line.part("revenue.subtotal_before_discount_amount"))
        kind: MatchKind = "order" if is_sale else "refund"
    elif line.is_reserve:
        kind = "reserve"
    else:
        kind = "adjustment"
    if not order_id:
        status: MatchStatus = "unmatched" if line.is_order else "no_order"
        return Match(tid, kind, "", status, note="the line names no order")
    if ref is None or not ref.netsuite_id:
        why = "no sales order for this TikTok order" if ref is None else f"order link is {ref.status or 'pending'}"
        return Match(tid, kind, order_id, "unmatched", note=why)
    if ref.currency and ref.currency.upper() != currency.upper():
        return Match(tid, kind, order_id, "currency_mismatch", ref.netsuite_id,
                     note=f"order in {ref.currency}, statement in {currency}")
    if kind != "order":
        return Match(tid, kind, order_id, "matched", ref.netsuite_id)
    tiktok = sale_revenue(line)
    ns = expected_revenue(line, ref, tax_in_total=tax_in_total)
    if ns is None:
        return Match(tid, kind, order_id, "matched", ref.netsuite_id, tiktok, None, None,
                     "the order link carries no totals to compare")
    variance = tiktok - ns
    status = "matched" if abs(variance) <= tolerance else "variance"
    return Match(tid, kind, order_id, status, ref.netsuite_id, tiktok, ns, variance)


def match_statement(stmt: Statement, orders: Mapping[str, OrderRef], *, tolerance: Decimal = ZERO,
                    tax_in_total: bool = True) -> list[Match]:
    """Every line matched (or not) to its NetSuite sales order; nothing is dropped."""
    return [match_line(ln, orders.get(ln.order_ref), stmt.currency, tolerance=tolerance, tax_in_total=tax_in_total)
            for ln in stmt.lines]


# ===================================================================== receivable modes (coverage)
@dataclass(frozen=True, slots=True)
class OrderDocument:
    """An order-time NetSuite document the payout settles: a customer deposit, an invoice, or the
    customer payment created for an invoice."""

    id: str
    kind: Literal["customerDeposit", "invoice", "customerPayment"]
    amount: Decimal  # what it settles of the order's sale (a customer deposit: less what was refunded from it)
    customer_id: str = ""
    status: str = ""
    deposited: Decimal | None = None  # what a bank deposit takes of it, when not ``amount`` (the whole receipt)

    @property
    def receipt(self) -> Decimal:
        """The amount a bank deposit moves out of undeposited funds for this document."""
        return self.amount if self.deposited is None else self.deposited


@dataclass(frozen=True, slots=True)
class Coverage:
    """An order sale line settled against its order-time documents (modes customer_deposits and
    invoices): the buyer-paid part leaves the journal and the deposit applies the documents."""

    transaction_id: str
    order_id: str
    sales_order_id: str
    applied: Decimal
    removed: Mapping[str, Decimal]
    platform: Decimal
    tax: Decimal
    difference: Decimal
    documents: tuple[OrderDocument, ...]

    def replacement(self) -> dict[str, Decimal]:
        return {k: v for k, v in (("receivable.platform_discount", self.platform),
                                  ("receivable.sales_tax", -self.tax),
                                  ("receivable.difference", self.difference)) if v}

    def as_dict(self) -> dict[str, Any]:
        return {"transaction_id": self.transaction_id, "order_id": self.order_id,
                "sales_order_id": self.sales_order_id, "applied": str(self.applied),
                "removed": components_to_json(self.removed), "platform": str(self.platform), "tax": str(self.tax),
                "difference": str(self.difference),
                "documents": [{"id": d.id, "kind": d.kind, "amount": str(d.amount), "customer_id": d.customer_id,
                               **({"deposited": str(d.deposited)} if d.deposited is not None else {})}
                              for d in self.documents]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Coverage:
        return cls(str(d["transaction_id"]), str(d["order_id"]), str(d.get("sales_order_id") or ""),
                   Decimal(d["applied"]), components_from_json(d.get("removed") or {}), Decimal(d["platform"]),
                   Decimal(d["tax"]), Decimal(d["difference"]),
                   tuple(OrderDocument(str(x["id"]), x["kind"], Decimal(x["amount"]), str(x.get("customer_id") or ""),
                                       deposited=Decimal(x["deposited"]) if x.get("deposited") is not None else None)
                         for x in d.get("documents") or []))


def coverage_for(line: Line, sales_order_id: str, documents: Sequence[OrderDocument], *,
                 tax_in_documents: bool = True) -> Coverage | None:
    """How a sale line is settled against its documents: ``applied`` = the documents' amount (what
    the buyer paid); the sale part of revenue and buyer-paid shipping leave the journal; TikTok's
    platform discount (credit) and the sales tax it keeps (debit; only when the documents include
    tax, ``tax_in_documents``) take their place, and what is left (zero when the order reconciled)
    goes to ``receivable.difference``."""
    if not documents or not line.is_order or not line.part("revenue.subtotal_before_discount_amount"):
        return None
    ship_key = "shipping.customer_paid_shipping_fee_amount"
    ship_sale = (line.part("shipping_info.customer_shipping_fee") if "shipping_info.customer_shipping_fee"
                 in line.breakdown else line.part(ship_key))
    removed = {k: line.part(k) for k in ("revenue.subtotal_before_discount_amount", "revenue.seller_discount_amount",
                                         "revenue.cod_service_fee_amount") if line.part(k)}
    if ship_sale:
        removed[ship_key] = ship_sale
    sale = sum(removed.values(), ZERO)
    applied = sum((d.amount for d in documents), ZERO)
    platform = line.part("info.platform_discount_amount")
    tax = ((line.part("info.sales_tax_payment_amount") if tax_in_documents else ZERO)
           + line.part("info.retail_delivery_fee_payment_amount"))
    difference = sale - applied - platform + tax
    return Coverage(line.transaction_id, line.order_ref, sales_order_id, applied, removed, platform, tax, difference,
                    tuple(documents))


def apply_coverage(components: Mapping[str, Decimal], coverages: Iterable[Coverage], *,
                   vat_rate: Decimal | None = None, currency: str = "",
                   orders: Mapping[str, OrderVat] | None = None) -> dict[str, Decimal]:
    """The journal's components once the covered sale lines are taken out (sum = payout - applied).
    ``vat_rate``/``orders``: ``components`` were split by them (``statement_components``); each coverage is
    split the same way, so the sale's net and VAT both leave and TikTok's platform funding posts net + VAT."""
    parts: list[Mapping[str, Decimal]] = [components]
    for c in coverages:
        ov = (orders or {}).get(c.order_id) if vat_rate is not None else None
        parts.append({k: -v for k, v in split_order_vat(c.removed, ov, vat_rate, currency).items()})
        parts.append(split_order_vat(c.replacement(), ov, vat_rate, currency))
    return add_components(*parts)


# ========================================================================================== journal
@dataclass(frozen=True, slots=True)
class JournalLine:
    account: str
    amount: Decimal  # seller's sign: positive → credit, negative → debit
    memo: str
    components: tuple[str, ...]
    dimensions: Dimensions

    @property
    def debit(self) -> Decimal:
        return -self.amount if self.amount < 0 else ZERO

    @property
    def credit(self) -> Decimal:
        return self.amount if self.amount > 0 else ZERO


@dataclass(frozen=True)
class JournalEntry:
    external_id: str
    currency: str
    tran_date: date
    memo: str
    lines: tuple[JournalLine, ...]
    components: Mapping[str, Decimal]
    clearing: Decimal
    subsidiary: str | None = None
    currency_id: str | None = None

    @property
    def total_debit(self) -> Decimal:
        return sum((ln.debit for ln in self.lines), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((ln.credit for ln in self.lines), ZERO)

    def record(self) -> dict[str, Any]:
        """The REST ``journalEntry`` body (amounts stay ``Decimal``; the client writes them exactly)."""
        body: dict[str, Any] = {"externalId": self.external_id, "tranDate": self.tran_date.isoformat(),
                                "memo": self.memo[:999]}
        if self.subsidiary:
            body["subsidiary"] = {"id": self.subsidiary}
        if self.currency_id:
            body["currency"] = {"id": self.currency_id}
        items = []
        for ln in self.lines:
            row: dict[str, Any] = {"account": {"id": ln.account}, "memo": ln.memo[:999]}
            if ln.amount < 0:
                row["debit"] = ln.debit
            else:
                row["credit"] = ln.credit
            _dims(row, ln.dimensions)
            items.append(row)
        body["line"] = {"items": items}
        return body

    def body_hash(self) -> str:
        return body_hash(self.record())


def body_hash(body: Mapping[str, Any]) -> str:
    return json_digest(body)


def _dims(row: dict[str, Any], dims: Dimensions) -> None:
    if dims.class_:
        row["class"] = {"id": dims.class_}
    if dims.department:
        row["department"] = {"id": dims.department}
    if dims.location:
        row["location"] = {"id": dims.location}


COMPONENT_ORDER = ("revenue", "shipping", "fee", "tax", "adjustment", "reserve", "receivable", "vat", "variance")
LABELS = {
    "shipping.fbt_fulfillment_fee_amount": "Shipping: FBT fulfillment fee",
    "reserve": "Reserve withheld (-) / released (+)",
    "receivable.platform_discount": "TikTok-funded discounts on orders settled against order documents",
    "receivable.sales_tax": "Sales tax collected by TikTok on orders settled against order documents",
    "receivable.difference": "Order documents vs TikTok sale amounts (difference)",
    "variance.revenue": "Unexplained revenue (breakdown does not sum to revenue_amount)",
    "variance.shipping": "Unexplained shipping cost (breakdown does not sum to shipping_cost_amount)",
    "variance.fee_tax": "Unexplained fees/taxes (breakdown does not sum to fee_tax_amount)",
    "variance.settlement": "Unexplained settlement (settlement ≠ revenue + shipping + fees + adjustment)",
}


def label(component: str) -> str:
    if component in LABELS:
        return LABELS[component]
    if component.startswith(VAT_PREFIX):
        return "VAT in TikTok's prices: " + label(component[len(VAT_PREFIX):])
    group, _, name = component.partition(".")
    words = name.removesuffix("_amount").replace("_", " ").lower()
    prefix = {"revenue": "Revenue", "shipping": "Shipping", "fee": "Fee", "tax": "Tax withheld",
              "adjustment": "Adjustment"}.get(group, group)
    return f"{prefix}: {words}"


def _sort_key(component: str) -> tuple[int, str]:
    group = component.partition(".")[0]
    return (COMPONENT_ORDER.index(group) if group in COMPONENT_ORDER else len(COMPONENT_ORDER), component)


def account_for(component: str, settings: SettlementSettings) -> tuple[str | None, Dimensions | None]:
    """(account, dimension override) for a component; ``None`` account when the spec names none."""
    group = component.partition(".")[0]
    if component == "reserve":
        return settings.reserve_account, None
    if group == "variance":
        return settings.variance_account, None
    if group == "vat":
        return settings.vat_account, None
    if group == "receivable":
        r = settings.receivable
        acct = {"receivable.platform_discount": r.platform_discount_account,
                "receivable.sales_tax": r.sales_tax_account,
                "receivable.difference": r.difference_account}.get(component)
        return acct, None
    return settings.accounts.for_component(component)


def build_journal(
    components: Mapping[str, Decimal],
    settings: SettlementSettings,
    *,
    currency: str,
    external_id: str,
    tran_date: date,
    memo: str,
    entity: str = "",
) -> JournalEntry:
    """A balanced journal: one line per component (or per account, ``journal.lines: by_component |
    by_account``) and the clearing line for their sum. Refuses (``NeedsHumanError``) an amount the
    currency cannot hold, a component without an account, or anything that does not balance."""
    currency = currency.upper()
    evidence_base = {"external_id": external_id, "currency": currency}
    bad = [k for k, v in components.items() if not _precise(v, currency)]
    if bad:
        raise NeedsHumanError(
            f"{external_id}: amounts with more decimals than {currency} allows: {', '.join(bad[:5])}",
            code="SETTLEMENT_PRECISION", owner="finance",
            fix_hint="TikTok sent amounts NetSuite cannot hold in this currency; check the statement and the "
            "currency, then replay.", evidence=evidence("bridge", "build journal", **{
                **evidence_base, "components": components_to_json({k: components[k] for k in bad})}), entity=entity)
    base_dims = settings.dimensions
    rows: list[JournalLine] = []
    missing: list[str] = []
    for comp in sorted((k for k, v in components.items() if v), key=_sort_key):
        account, over = account_for(comp, settings)
        if not account:
            missing.append(comp)
            continue
        rows.append(JournalLine(account, components[comp], label(comp), (comp,), base_dims.merged(over)))
    if missing:
        raise NeedsHumanError(
            f"{external_id}: no GL account is mapped for {', '.join(missing)}",
            code="SETTLEMENT_UNMAPPED_ACCOUNT", owner="finance",
            fix_hint="Name an account for these components in settlement.yaml (reserve_account, vat_account for a "
            "shop whose prices include VAT, or the receivable accounts of the chosen mode), then replay.",
            evidence=evidence("bridge", "build journal", **{**evidence_base, "components": missing}),
            entity=entity)
    if settings.journal.lines == "by_account":
        grouped: dict[tuple[str, Dimensions], list[JournalLine]] = {}
        for r in rows:
            grouped.setdefault((r.account, r.dimensions), []).append(r)
        rows = []
        for (account, dims), parts in grouped.items():
            amount = sum((p.amount for p in parts), ZERO)
            if amount:
                names = tuple(c for p in parts for c in p.components)
                text = parts[0].memo if len(parts) == 1 else "; ".join(label(c) for c in names)
                rows.append(JournalLine(account, amount, text, names, dims))
    clearing = sum((r.amount for r in rows), ZERO)
    if clearing:
        rows.append(JournalLine(settings.clearing_account, -clearing,
                                "TikTok Shop clearing: due from TikTok" if clearing > 0 else
                                "TikTok Shop clearing: due to TikTok", ("clearing",), base_dims))
    je = JournalEntry(external_id, currency, tran_date, memo, tuple(rows), dict(components), clearing,
                      settings.subsidiary, settings.currencies.get(currency) if settings.currencies else None)
    if settings.currencies and je.currency_id is None:
        raise NeedsHumanError(
            f"{external_id} is in {currency}, which settlement.yaml does not map to a NetSuite currency",
            code="SETTLEMENT_UNMAPPED_CURRENCY", owner="admin",
            fix_hint=f"Add {currency}: <NetSuite currency id> under currencies in settlement.yaml, then replay.",
            entity=entity)
    if je.total_debit != je.total_credit or any(not _precise(ln.amount, currency) for ln in je.lines):
        raise NeedsHumanError(
            f"{external_id} does not balance: debits {je.total_debit} ≠ credits {je.total_credit}",
            code="SETTLEMENT_UNBALANCED", owner="finance",
            fix_hint="Nothing was posted. Report this with the evidence; it is a bug in the bridge.",
            evidence=evidence("bridge", "build journal", **{**evidence_base,
                                                                    "components": components_to_json(components)}),
            entity=entity)
    return je


def statement_date(statement_time: datetime, settings: SettlementSettings, time_zone: str = DEFAULT_ZONE) -> date:
    """The journal date of a statement closed at ``statement_time`` (docs/accounting.md, "Dates")."""
    return statement_posting_date(statement_time, time_zone, settings.journal.date)


def journal_memo(settings: SettlementSettings, statement_id: str, day: date, shop_id: str) -> str:
    return settings.journal.memo.format(statement_id=statement_id, date=day.isoformat(), shop_id=shop_id)


# ========================================================================================== deposit
@dataclass(frozen=True)
class Deposit:
    external_id: str
    account: str
    currency: str
    tran_date: date
    memo: str
    amount: Decimal
    clearing: Decimal
    documents: tuple[OrderDocument, ...]
    subsidiary: str | None = None
    currency_id: str | None = None
    dimensions: Dimensions = field(default_factory=Dimensions)
    clearing_account: str = ""

    def record(self) -> dict[str, Any]:
        """The REST ``deposit`` body: the bank account, the payout's documents (``payment``) and the
        clearing amount (``other``, or ``cashback`` when it is negative)."""
        body: dict[str, Any] = {"externalId": self.external_id, "account": {"id": self.account},
                                "tranDate": self.tran_date.isoformat(), "memo": self.memo[:999]}
        if self.subsidiary:
            body["subsidiary"] = {"id": self.subsidiary}
        if self.currency_id:
            body["currency"] = {"id": self.currency_id}
        _dims(body, self.dimensions)
        if self.documents:
            body["payment"] = {"items": [{"id": int(d.id) if d.id.isdigit() else d.id, "deposit": True,
                                          "paymentAmount": d.receipt} for d in self.documents]}
        if self.clearing > 0:
            row: dict[str, Any] = {"account": {"id": self.clearing_account}, "amount": self.clearing,
                                   "memo": "TikTok Shop clearing: payout"}
            _dims(row, self.dimensions)
            body["other"] = {"items": [row]}
        elif self.clearing < 0:
            row = {"account": {"id": self.clearing_account}, "amount": -self.clearing,
                   "memo": "TikTok Shop clearing: fees and adjustments netted from the payout"}
            _dims(row, self.dimensions)
            body["cashback"] = {"items": [row]}
        return body

    def body_hash(self) -> str:
        return body_hash(self.record())


def build_deposit(payment: Payment, settings: SettlementSettings, *, documents: Sequence[OrderDocument] = (),
                  statement_ids: Sequence[str] = (), entity: str = "", default_date: date | None = None,
                  time_zone: str = DEFAULT_ZONE) -> Deposit:
    """The bank deposit of one payout: exactly ``payment.amount`` to the bank account, taken from the
    clearing account (less the order documents it applies, in the receivable modes)."""
    if payment.exchanged:
        raise NeedsHumanError(
            f"payout {payment.id} was exchanged from {payment.before_exchange_currency or payment.settlement_currency}"
            f" to {payment.currency}; the bridge posts single-currency payouts only",
            code="SETTLEMENT_PAYOUT_EXCHANGED", owner="finance",
            fix_hint="Record this payout's deposit by hand in NetSuite (clearing account → bank with the FX "
            "difference), then resolve this exception.",
            evidence=evidence("tiktok", "payment", **{
                "payment_id": payment.id, "amount": str(payment.amount), "currency": payment.currency,
                "before_exchange": str(payment.amount_before_exchange),
                "exchange_rate": str(payment.exchange_rate)}), entity=entity)
    account = settings.deposit.account_for(payment.currency)
    if not account:
        raise NeedsHumanError(
            f"no bank account is mapped for {payment.currency} payouts", code="SETTLEMENT_UNMAPPED_BANK",
            owner="admin", fix_hint=f"Set deposit.bank_accounts.{payment.currency} in settlement.yaml, then replay.",
            entity=entity)
    currency = payment.currency.upper()
    currency_id = settings.currencies.get(currency) if settings.currencies else None
    if settings.currencies and currency_id is None:
        raise NeedsHumanError(
            f"payout {payment.id} is in {currency}, which settlement.yaml does not map to a NetSuite currency",
            code="SETTLEMENT_UNMAPPED_CURRENCY", owner="admin",
            fix_hint=f"Add {currency}: <NetSuite currency id> under currencies in settlement.yaml, then replay.",
            entity=entity)
    applied = sum((d.receipt for d in documents), ZERO)  # a deposit takes each receipt whole
    when = payment.paid_time or payment.create_time
    day = posting_date(when, time_zone) if when else default_date
    if day is None:
        raise ValueError(f"payout {payment.id} has neither a paid time nor a create time")
    memo = settings.deposit.memo.format(payment_id=payment.id, shop_id=payment.shop_id,
                                        statements=", ".join(statement_ids))
    if statement_ids and "{statements}" not in settings.deposit.memo:
        memo = f"{memo} (statements {', '.join(statement_ids)})"
    return Deposit(deposit_external_id(payment.id), account, currency, day, memo,
                   payment.amount, payment.amount - applied, tuple(documents), settings.subsidiary, currency_id,
                   settings.dimensions, settings.clearing_account)


def build_customer_payment(cov: Coverage, settings: SettlementSettings, *, shop_id: str, tran_date: date,
                           currency_id: str | None) -> dict[str, Any]:
    """Mode invoices: the REST ``customerPayment`` applying an order's invoices, left in undeposited
    funds so the payout's deposit picks it up. Property names and shapes as the record browser gives
    them (``arAcct``; ``undepFunds`` and ``apply.items[].doc`` are references, ``{"id": …}``)."""
    invoices = [d for d in cov.documents if d.kind == "invoice"]
    customer = next((d.customer_id for d in invoices if d.customer_id), "")
    body: dict[str, Any] = {
        "externalId": settings.receivable.payment_external_id.format(shop_id=shop_id, order_id=cov.order_id),
        "customer": {"id": customer},
        "tranDate": tran_date.isoformat(),
        "payment": cov.applied,
        "undepFunds": {"id": "T"},  # a select (T/F) in the record browser, not a boolean
        "memo": f"TikTok Shop order {cov.order_id} settled by TikTok",
        "apply": {"items": [{"doc": {"id": d.id}, "apply": True, "amount": d.amount} for d in invoices]},
    }
    if settings.receivable.ar_account:
        body["arAcct"] = {"id": settings.receivable.ar_account}
    if settings.receivable.payment_method:
        body["paymentOption"] = {"id": settings.receivable.payment_method}
    if settings.subsidiary:
        body["subsidiary"] = {"id": settings.subsidiary}
    if currency_id:
        body["currency"] = {"id": currency_id}
    return body


# =========================================================================================== report
@dataclass(frozen=True)
class ReportPosting:
    kind: str
    external_id: str
    netsuite_id: str | None
    amount: Decimal
    status: str
    tran_date: str


@dataclass(frozen=True)
class ReportLine:
    """One unmatched line or variance, for finance."""

    transaction_id: str
    kind: str
    order_id: str
    status: str
    settlement: Decimal
    netsuite_id: str | None = None
    tiktok_amount: Decimal | None = None
    netsuite_amount: Decimal | None = None
    variance: Decimal | None = None
    note: str = ""


@dataclass(frozen=True)
class Amount:
    """One figure of a report table (a fee type, an adjustment type …)."""

    component: str
    label: str
    amount: Decimal


@dataclass(frozen=True)
class SettlementReport:
    """The reconciliation of one statement or one payout, ready to render (build with ``make_report``).

    Every figure is a plain field so ``dataclasses.asdict`` gives the console all of it: the scalar
    amounts (``gross_sales`` … ``settlement``, ``payout``, ``variance``) for the summary and the chart,
    the lists (``fee_lines``, ``adjustment_lines``, ``unmatched``, ``variances``, ``checks``,
    ``postings``) as tables. ``waterfall()`` gives (label, amount) steps from gross sales to the payout
    for a chart; ``rows()`` is the CSV. Amounts are ``Decimal`` in ``currency`` with TikTok's sign
    (deductions negative). ``variance`` is what does not tie out: order revenue differences, amounts
    the breakdowns do not explain and, for a payout, payout minus its statements' payable — zero when
    everything reconciles.
    """

    kind: Literal["statement", "payment"]
    shop_id: str
    id: str
    statement_id: str
    payment_id: str
    statement_ids: tuple[str, ...]
    currency: str
    date: str
    status: str
    gross_sales: Decimal
    seller_discounts: Decimal
    refunds: Decimal
    revenue: Decimal
    shipping: Decimal
    fees: Decimal
    taxes: Decimal
    adjustments: Decimal
    unexplained: Decimal
    settlement: Decimal
    reserve: Decimal
    payable: Decimal
    payout: Decimal | None
    variance: Decimal
    order_variance: Decimal
    lines: int
    orders_matched: int
    orders_unmatched: int
    adjustments_matched: int
    adjustments_unmatched: int
    failed_checks: int
    components: Mapping[str, Decimal]
    revenue_lines: tuple[Amount, ...] = ()
    shipping_lines: tuple[Amount, ...] = ()
    fee_lines: tuple[Amount, ...] = ()
    tax_lines: tuple[Amount, ...] = ()
    adjustment_lines: tuple[Amount, ...] = ()
    unmatched: tuple[ReportLine, ...] = ()
    variances: tuple[ReportLine, ...] = ()
    checks: tuple[Mapping[str, Any], ...] = ()
    postings: tuple[ReportPosting, ...] = ()
    clearing_balance: Decimal | None = None

    def waterfall(self) -> list[tuple[str, Decimal]]:
        """(label, amount) steps from gross sales to the payout, for a waterfall/bar chart."""
        other_revenue = self.revenue - self.gross_sales - self.seller_discounts - self.refunds
        steps = [("Gross sales", self.gross_sales), ("Seller discounts", self.seller_discounts),
                 ("Refunds", self.refunds), ("Other revenue", other_revenue), ("Shipping", self.shipping),
                 ("Fees", self.fees), ("Taxes withheld", self.taxes), ("Adjustments", self.adjustments),
                 ("Unexplained", self.unexplained), ("Net settlement", self.settlement), ("Reserve", self.reserve)]
        if self.payout is not None:
            steps.append(("Payout", self.payout))
        return [(name, amount) for name, amount in steps if amount or name in ("Gross sales", "Net settlement")]

    def summary(self) -> dict[str, Any]:
        """One flat row (for lists and the multi-statement CSV)."""
        return {
            "kind": self.kind, "shop_id": self.shop_id, "id": self.id, "date": self.date, "currency": self.currency,
            "payment_id": self.payment_id, "status": self.status, "gross_sales": self.gross_sales,
            "seller_discounts": self.seller_discounts, "refunds": self.refunds, "revenue": self.revenue,
            "shipping": self.shipping, "fees": self.fees, "taxes": self.taxes, "adjustments": self.adjustments,
            "unexplained": self.unexplained, "settlement": self.settlement, "reserve": self.reserve,
            "payable": self.payable, "payout": self.payout if self.payout is not None else "",
            "variance": self.variance, "lines": self.lines, "orders_matched": self.orders_matched,
            "orders_unmatched": self.orders_unmatched, "adjustments_matched": self.adjustments_matched,
            "adjustments_unmatched": self.adjustments_unmatched, "failed_checks": self.failed_checks,
            "journal": next((p.netsuite_id or "" for p in self.postings if p.kind == "journal"), ""),
            "deposit": next((p.netsuite_id or "" for p in self.postings if p.kind == "deposit"), ""),
        }

    def rows(self) -> list[dict[str, Any]]:
        """The detailed CSV: one row per figure, then the unmatched lines, variances, checks, postings."""
        out: list[dict[str, Any]] = []

        def row(section: str, name: str, amount: Decimal | int | None, detail: str = "", ref: str = "") -> None:
            out.append({"section": section, "name": name, "amount": "" if amount is None else str(amount),
                        "currency": self.currency, "reference": ref, "detail": detail})

        row("summary", "statements", len(self.statement_ids), ", ".join(self.statement_ids))
        for name, amount in self.waterfall():
            row("summary", name, amount)
        row("summary", "variance", self.variance, "order differences + unexplained + payout difference")
        if self.clearing_balance is not None:
            row("summary", "clearing balance", self.clearing_balance, "journals - deposits of this payout")
        for comp, amount in sorted(self.components.items(), key=lambda kv: _sort_key(kv[0])):
            row(comp.partition(".")[0] or comp, comp, amount, label(comp))
        row("matching", "lines", self.lines)
        row("matching", "orders matched", self.orders_matched)
        row("matching", "orders unmatched", self.orders_unmatched)
        row("matching", "adjustments matched", self.adjustments_matched)
        row("matching", "adjustments unmatched", self.adjustments_unmatched)
        row("matching", "order revenue variance", self.order_variance)
        for ln in self.unmatched:
            row("unmatched", ln.kind, ln.settlement, ln.note, f"{ln.transaction_id}/{ln.order_id}")
        for ln in self.variances:
            row("variance", ln.order_id, ln.variance, f"TikTok {ln.tiktok_amount} vs NetSuite {ln.netsuite_amount}",
                f"{ln.transaction_id}/{ln.netsuite_id or ''}")
        for c in self.checks:
            row("check", str(c.get("code")), c.get("count"), str(c.get("message")))
        for p in self.postings:
            row("posting", p.kind, p.amount, f"{p.status} {p.tran_date}", f"{p.external_id}/{p.netsuite_id or ''}")
        return out


def _amounts(components: Mapping[str, Decimal], group: str) -> tuple[Amount, ...]:
    return tuple(Amount(k, label(k), v) for k, v in sorted(components.items()) if k.partition(".")[0] == group)


def make_report(
    *,
    kind: Literal["statement", "payment"],
    shop_id: str,
    id: str,
    payment_id: str,
    statement_ids: Sequence[str],
    currency: str,
    day: str,
    status: str,
    components: Mapping[str, Decimal],
    settlement: Decimal,
    reserve: Decimal,
    payable: Decimal,
    payout: Decimal | None,
    order_variance: Decimal,
    lines: int,
    counts: tuple[int, int, int, int],
    unmatched: Sequence[ReportLine] = (),
    variances: Sequence[ReportLine] = (),
    checks: Sequence[Mapping[str, Any]] = (),
    postings: Sequence[ReportPosting] = (),
    clearing_balance: Decimal | None = None,
) -> SettlementReport:
    """A report from stored figures. ``counts``: (orders matched, orders unmatched, adjustments
    matched, adjustments unmatched). Figures as TikTok reports them: the VAT a journal books apart
    (``vat.*``) is counted back in its component."""
    c = add_components(*({k[len(VAT_PREFIX):] if k.startswith(VAT_PREFIX) else k: v} for k, v in components.items()))

    def total(group: str) -> Decimal:
        return sum((v for k, v in c.items() if k.partition(".")[0] == group), ZERO)

    unexplained = total("variance")
    variance = order_variance + unexplained + ((payout - payable) if payout is not None else ZERO)
    return SettlementReport(
        kind=kind, shop_id=shop_id, id=id, statement_id=id if kind == "statement" else "", payment_id=payment_id,
        statement_ids=tuple(statement_ids), currency=currency, date=day, status=status,
        gross_sales=c.get("revenue.subtotal_before_discount_amount", ZERO),
        seller_discounts=c.get("revenue.seller_discount_amount", ZERO) + c.get("revenue.seller_discount_refund_amount",
                                                                                ZERO),
        refunds=c.get("revenue.refund_subtotal_before_discount_amount", ZERO)
        + c.get("revenue.refund_cod_service_fee_amount", ZERO),
        revenue=total("revenue"), shipping=total("shipping"), fees=total("fee"), taxes=total("tax"),
        adjustments=total("adjustment"), unexplained=unexplained, settlement=settlement, reserve=reserve,
        payable=payable, payout=payout, variance=variance, order_variance=order_variance, lines=lines,
        orders_matched=counts[0], orders_unmatched=counts[1], adjustments_matched=counts[2],
        adjustments_unmatched=counts[3], failed_checks=sum(1 for x in checks if x.get("blocking")),
        components=dict(c), revenue_lines=_amounts(c, "revenue"), shipping_lines=_amounts(c, "shipping"),
        fee_lines=_amounts(c, "fee"), tax_lines=_amounts(c, "tax"), adjustment_lines=_amounts(c, "adjustment"),
        unmatched=tuple(unmatched), variances=tuple(variances), checks=tuple(checks), postings=tuple(postings),
        clearing_balance=clearing_balance)


def canon_components(components: Mapping[str, Decimal]) -> str:
    return json.dumps({k: canon(v) for k, v in sorted(components.items()) if v}, sort_keys=True)


__all__ = [
    "Amount",
    "Coverage",
    "Deposit",
    "Failure",
    "JournalEntry",
    "JournalLine",
    "Match",
    "OrderDocument",
    "OrderRef",
    "ReportLine",
    "ReportPosting",
    "SettlementReport",
    "StatementTotals",
    "account_for",
    "add_components",
    "adjusting_external_id",
    "apply_coverage",
    "build_customer_payment",
    "build_deposit",
    "build_journal",
    "check_line",
    "check_payment",
    "check_statement",
    "components_from_json",
    "components_to_json",
    "coverage_for",
    "deposit_external_id",
    "expected_revenue",
    "group_failures",
    "journal_external_id",
    "label",
    "line_components",
    "make_report",
    "match_line",
    "match_statement",
    "quantize",
    "statement_components",
    "subtract_components",
]

"""Generated TikTok Shop settlement data for the benchmarks: daily statements of realistic ORDER lines
(discounts, shipping, referral/transaction/affiliate fees) and adjustments, with their payouts,
generated on demand from a seed (never all in memory). ``GeneratedTikTok`` is a ``TikTokFinance``
port (``bridge.ports.tiktok``, ``bridge.ports.netsuite``)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bridge.domain.finance import (
    Payment,
    Statement,
    StatementSummary,
    Withdrawal,
    parse_payment,
    parse_statement,
)
from bridge.domain.tiktok import Order, PriceDetail
from bridge.mapping.vat import net_of

SHOP = "7494049642642441621"
D = Decimal
START = datetime(2025, 1, 1, tzinfo=UTC)


def m(x: Decimal) -> str:
    return f"{x:.2f}"


def order_line(rng: random.Random, tid: str, oid: str) -> tuple[dict[str, Any], Decimal, Decimal]:
    """A realistic ORDER line (and the order's NetSuite total and TikTok-funded part)."""
    gross = D(rng.randint(500, 20000)) / 100
    seller = D(rng.choice([0, 0, 100, 250])) / 100
    platform = D(rng.choice([0, 0, 150])) / 100
    ship = D(rng.choice([0, 499, 750])) / 100
    referral = (gross - seller) * D("0.06")
    referral = referral.quantize(D("0.01"))
    tx_fee = ((gross - seller) * D("0.01")).quantize(D("0.01"))
    affiliate = ((gross - seller) * D("0.10")).quantize(D("0.01")) if rng.random() < 0.2 else D(0)
    rev = {"subtotal_before_discount_amount": m(gross), "seller_discount_amount": m(-seller),
           "refund_subtotal_before_discount_amount": "0.00", "seller_discount_refund_amount": "0.00",
           "cod_service_fee_amount": "0.00", "refund_cod_service_fee_amount": "0.00"}
    shipping = {"actual_shipping_fee_amount": "0.00", "shipping_fee_discount_amount": "0.00",
                "customer_paid_shipping_fee_amount": m(ship),
                "supplementary_component": {"customer_shipping_fee": m(ship)}}
    fee = {"referral_fee_amount": m(-referral), "transaction_fee_amount": m(-tx_fee),
           "affiliate_commission_amount": m(-affiliate), "platform_commission_amount": "0.00"}
    revenue = gross - seller
    fee_tax = -(referral + tx_fee + affiliate)
    sup = {"customer_payment_amount": m(gross - seller - platform + ship), "platform_discount_amount": m(platform),
           "sales_tax_payment_amount": "0.00"}
    line = {"id": tid, "type": "ORDER", "order_id": oid, "order_create_time": int(START.timestamp()),
            "revenue_amount": m(revenue), "revenue_breakdown": rev, "shipping_cost_amount": m(ship),
            "shipping_cost_breakdown": shipping, "fee_tax_amount": m(fee_tax),
            "fee_tax_breakdown": {"fee": fee, "tax": {"vat_amount": "0.00"}}, "adjustment_amount": "0.00",
            "settlement_amount": m(revenue + ship + fee_tax), "supplementary_component": sup}
    return line, gross - seller - platform + ship, platform


def adjustment(rng: random.Random, tid: str, oid: str) -> dict[str, Any]:
    kind, amount = rng.choice([("SHIPPING_FEE_ADJUSTMENT", D("-4.50")), ("CHARGE_BACK", D("-19.99")),
                               ("LOGISTICS_REIMBURSEMENT", D("12.00")), ("PLATFORM_PENALTY", D("-25.00"))])
    return {"id": tid, "type": kind, "adjustment_id": "A" + tid, "adjustment_order_id": oid,
            "adjustment_amount": m(amount), "settlement_amount": m(amount), "revenue_amount": "0.00",
            "shipping_cost_amount": "0.00", "fee_tax_amount": "0.00"}


class GeneratedTikTok:
    """Statements generated on demand (never all in memory), with their payouts."""

    def __init__(self, statements: int, per_statement: int, seed: int = 7, record_orders: bool = False,
                 payable: dict[str, Decimal] | None = None, currency: str = "USD") -> None:
        self.record_orders = record_orders
        self.currency = currency
        self.statements_n = statements
        self.per = per_statement
        self.seed = seed
        self.orders: dict[str, tuple[Decimal, Decimal]] = {}
        # statement id → payable: TikTok's statement list carries it without the lines; known from an earlier
        # run over the same seed, the list is served without generating every statement a second time
        self.payable: dict[str, Decimal] = dict(payable or {})
        self.generate_seconds = 0.0

    def sid(self, i: int) -> str:
        return f"7{i:018d}"

    def summary(self, i: int) -> StatementSummary:
        if self.sid(i) not in self.payable:
            t = time.perf_counter()
            self.raw(i)
            self.generate_seconds += time.perf_counter() - t
        return StatementSummary(self.sid(i), START + timedelta(days=i), self.currency, self.payable[self.sid(i)],
                                f"9{i:018d}", "PAID")

    def raw(self, i: int) -> dict[str, Any]:
        rng = random.Random(self.seed * 1_000_003 + i)
        lines = []
        for j in range(self.per):
            tid = f"{i:06d}{j:06d}"
            oid = f"5{i:06d}{j:06d}"
            if j % 50 == 49:
                lines.append(adjustment(rng, tid, f"5{i:06d}{j - 1:06d}"))
            else:
                line, total, platform = order_line(rng, tid, oid)
                if self.record_orders:
                    self.orders[oid] = (total, platform)
                lines.append(line)
        tot = {k: sum((D(ln[k]) for ln in lines), D(0)) for k in (
            "revenue_amount", "shipping_cost_amount", "fee_tax_amount", "adjustment_amount", "settlement_amount")}
        self.payable[self.sid(i)] = tot["settlement_amount"]
        return {"id": self.sid(i), "create_time": int((START + timedelta(days=i)).timestamp()), "status": "SETTLED",
                "currency": self.currency, "total_settlement_amount": m(tot["settlement_amount"]),
                "total_reserve_amount": "0.00", "payable_amount": m(tot["settlement_amount"]),
                "total_settlement_breakdown": {"total_revenue_amount": m(tot["revenue_amount"]),
                                               "total_shipping_cost_amount": m(tot["shipping_cost_amount"]),
                                               "total_fee_tax_amount": m(tot["fee_tax_amount"]),
                                               "total_adjustment_amount": m(tot["adjustment_amount"])},
                "total_count": len(lines), "transactions": lines}

    # -- the TikTokFinance port
    def statements(self, shop_id: str, *, since: datetime, until: datetime) -> Iterator[StatementSummary]:
        for i in range(self.statements_n):
            yield self.summary(i)

    def statement(self, shop_id: str, statement_id: str, summary: StatementSummary | None = None) -> Statement:
        i = int(statement_id[1:])
        t = time.perf_counter()
        raw = self.raw(i)
        self.generate_seconds += time.perf_counter() - t
        return parse_statement(shop_id, raw, summary=summary or self.summary(i))

    def payments(self, shop_id: str, *, since: datetime, until: datetime) -> Iterator[Payment]:
        for i in range(self.statements_n):
            amount = self.payable.get(self.sid(i))
            if amount is None:
                continue
            when = int((START + timedelta(days=i, hours=1)).timestamp())
            yield parse_payment(shop_id, {"id": f"9{i:018d}", "status": "PAID", "create_time": when,
                                          "paid_time": when + 86400,
                                          "amount": {"value": m(amount), "currency": self.currency},
                                          "settlement_amount": {"value": m(amount), "currency": self.currency},
                                          "reserve_amount": {"value": "0.00", "currency": self.currency}})

    def withdrawals(self, shop_id: str, *, since: datetime, until: datetime) -> Iterator[Withdrawal]:
        return iter(())


class GeneratedTikTokOrders:
    """The ``TikTokOrders`` port over the same generated statements, for a VAT-inclusive (GB) shop: Get Order Detail
    (one live line item per order) and Get Price Detail (TikTok's VAT at ``rate`` in what the buyer paid), each
    order's figures those of its statement line. Counts the calls (TikTok allows 50 a second per shop and API:
    the rate-limits page, ``settings.tiktok_qps``); answers at once, so the wall time it adds is the bridge's."""

    def __init__(self, finance: GeneratedTikTok, rate: str = "0.20") -> None:
        self.finance, self.rate = finance, D(rate)
        self.detail_calls = 0
        self.price_detail_calls = 0
        self._statement = -1
        self._figures: dict[str, tuple[Decimal, Decimal, Decimal]] = {}  # the last statement's orders
        self._lock = threading.Lock()  # the settlement flow reads price details from several threads

    def _order(self, order_id: str) -> tuple[Decimal, Decimal, Decimal] | None:
        with self._lock:
            return self._order_locked(order_id)

    def _order_locked(self, order_id: str) -> tuple[Decimal, Decimal, Decimal] | None:
        i = int(order_id[1:7])
        if i != self._statement:  # the statement's lines, generated again from its seed (one at a time)
            t = time.perf_counter()
            raw = self.finance.raw(i)
            self.finance.generate_seconds += time.perf_counter() - t
            self._figures = {
                ln["order_id"]: (D(ln["revenue_breakdown"]["subtotal_before_discount_amount"]),
                                 -D(ln["revenue_breakdown"]["seller_discount_amount"]),
                                 D(ln["supplementary_component"]["platform_discount_amount"]))
                for ln in raw["transactions"] if ln["type"] == "ORDER"}
            self._statement = i
        return self._figures.get(order_id)

    def get_orders(self, shop_id: str, order_ids: Sequence[str]) -> list[Order]:
        with self._lock:
            self.detail_calls += 1
        return [Order.model_validate({"id": oid, "status": "COMPLETED", "currency": self.finance.currency,
                                      "line_items": [{"id": f"L{oid}", "seller_sku": "BENCH", "display_status":
                                                      "COMPLETED"}]})
                for oid in order_ids if self._order(oid) is not None]

    def search_orders(self, shop_id: str, *, update_time_ge: datetime | None = None,
                      update_time_lt: datetime | None = None, create_time_ge: datetime | None = None,
                      create_time_lt: datetime | None = None) -> Iterator[tuple[str, datetime | None]]:
        return iter(())

    def price_detail(self, shop_id: str, order_id: str) -> PriceDetail:
        with self._lock:
            self.price_detail_calls += 1
        fig = self._order(order_id)
        if fig is None:
            raise KeyError(order_id)
        gross, seller, platform = fig
        paid = gross - seller - platform
        vat = paid - net_of(paid, self.rate, self.finance.currency)
        line = {"id": f"L{order_id}", "currency": self.finance.currency, "subtotal": m(paid),
                "subtotal_deduction_seller": m(seller), "subtotal_deduction_platform": m(platform),
                "subtotal_tax_amount": m(vat), "tax_amount": m(vat), "tax_rate": str(self.rate)}
        return PriceDetail.model_validate({"currency": self.finance.currency, "tax_amount": m(vat),
                                           "subtotal_tax_amount": m(vat), "line_items": [line]})


__all__ = ["SHOP", "START", "D", "GeneratedTikTok", "GeneratedTikTokOrders", "adjustment", "order_line"]

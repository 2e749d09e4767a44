"""Real-shaped finance payloads (Get Transactions by Statement 202501, Get Statements / Payments
202309): decimal strings, signed amounts (deductions negative), every documented identity holding
unless a test breaks one on purpose."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

D = Decimal


def m(x: Any) -> str:
    return f"{D(str(x)):.2f}"


def _sum(d: dict[str, Any]) -> Decimal:
    return sum((D(v) for k, v in d.items() if not isinstance(v, dict)), D(0))


def order_line(tid: str, order_id: str, *, gross: str, seller_discount: str = "0", platform_discount: str = "0",
               shipping_paid: str = "0", ship_platform: str = "0", label_cost: str = "0", fbt_fee: str = "0",
               referral: str = "0", commission: str = "0", transaction: str = "0", affiliate: str = "0",
               tax: str = "0", vat: str = "0", refund_gross: str = "0", refund_seller: str = "0",
               admin_fee: str = "0", order_create_time: int = 1760000000) -> dict[str, Any]:
    """One ORDER line: ``gross`` before discounts; fees given as positive costs are stored negative."""
    rev = {"subtotal_before_discount_amount": m(gross), "seller_discount_amount": m(-D(seller_discount)),
           "refund_subtotal_before_discount_amount": m(-D(refund_gross)),
           "seller_discount_refund_amount": m(refund_seller), "cod_service_fee_amount": "0.00",
           "refund_cod_service_fee_amount": "0.00"}
    ship_sup = {"customer_shipping_fee": m(shipping_paid), "platform_shipping_fee_discount_amount": m(ship_platform),
                "fbt_fulfillment_fee_amount": m(-D(fbt_fee)), "fbm_shipping_cost_amount": m(label_cost)}
    ship = {"actual_shipping_fee_amount": m(-D(label_cost) - D(fbt_fee)),
            "shipping_fee_discount_amount": m(ship_platform), "customer_paid_shipping_fee_amount": m(shipping_paid),
            "return_shipping_fee_amount": "0.00", "supplementary_component": ship_sup}
    fee = {"referral_fee_amount": m(-D(referral)), "platform_commission_amount": m(-D(commission)),
           "transaction_fee_amount": m(-D(transaction)), "affiliate_commission_amount": m(-D(affiliate)),
           "refund_administration_fee_amount": m(-D(admin_fee)), "affiliate_commission_amount_before_pit": "0.00"}
    taxes = {"vat_amount": m(-D(vat))}
    sale = D(gross) - D(seller_discount) - D(platform_discount)
    sup = {"customer_payment_amount": m(sale + D(shipping_paid) + D(tax)), "customer_refund_amount": "0.00",
           "platform_discount_amount": m(platform_discount), "sales_tax_payment_amount": m(tax),
           "sales_tax_refund_amount": "0.00", "sales_tax_amount": m(tax)}
    revenue, shipping = _sum(rev), _sum(ship)
    fee_tax = _sum(fee) - D(fee["affiliate_commission_amount_before_pit"]) + _sum(taxes)
    return {"id": tid, "type": "ORDER", "order_id": order_id, "order_create_time": order_create_time,
            "revenue_amount": m(revenue), "revenue_breakdown": rev, "shipping_cost_amount": m(shipping),
            "shipping_cost_breakdown": ship, "fee_tax_amount": m(fee_tax),
            "fee_tax_breakdown": {"fee": fee, "tax": taxes}, "adjustment_amount": "0.00",
            "settlement_amount": m(revenue + shipping + fee_tax), "supplementary_component": sup}


def adjustment_line(tid: str, adjustment_id: str, type_: str, amount: str, order_id: str = "") -> dict[str, Any]:
    return {"id": tid, "type": type_, "adjustment_id": adjustment_id, "adjustment_order_id": order_id,
            "adjustment_amount": m(amount), "settlement_amount": m(amount), "revenue_amount": "0.00",
            "shipping_cost_amount": "0.00", "fee_tax_amount": "0.00", "revenue_breakdown": {},
            "shipping_cost_breakdown": {}, "fee_tax_breakdown": {"fee": {}, "tax": {}}, "supplementary_component": {}}


def reserve_line(tid: str, reserve_id: str, amount: str, order_id: str = "") -> dict[str, Any]:
    return {"id": tid, "type": "RESERVE", "reserve_id": reserve_id, "reserve_amount": m(amount),
            "associated_order_id": order_id, "reserve_status": "COLLECTED" if D(amount) < 0 else "RELEASED",
            "settlement_amount": "0.00", "revenue_amount": "0.00", "shipping_cost_amount": "0.00",
            "fee_tax_amount": "0.00", "adjustment_amount": "0.00"}


def statement(sid: str, lines: list[dict[str, Any]], *, currency: str = "USD", day: str = "2025-03-02",
              reserve: str | None = None) -> dict[str, Any]:
    """Get Transactions by Statement ``data`` with totals computed from the lines."""
    tot = {k: sum((D(ln.get(k) or "0") for ln in lines), D(0)) for k in (
        "revenue_amount", "shipping_cost_amount", "fee_tax_amount", "adjustment_amount", "settlement_amount",
        "reserve_amount")}
    res = D(reserve) if reserve is not None else tot["reserve_amount"]
    ts = int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())
    return {"id": sid, "create_time": ts, "status": "SETTLED", "currency": currency,
            "total_settlement_amount": m(tot["settlement_amount"]), "total_reserve_amount": m(res),
            "payable_amount": m(tot["settlement_amount"] + res),
            "total_settlement_breakdown": {"total_revenue_amount": m(tot["revenue_amount"]),
                                           "total_shipping_cost_amount": m(tot["shipping_cost_amount"]),
                                           "total_fee_tax_amount": m(tot["fee_tax_amount"]),
                                           "total_adjustment_amount": m(tot["adjustment_amount"])},
            "total_count": len(lines), "transactions": lines}


def summary(data: dict[str, Any], payment_id: str, payment_status: str = "PAID") -> dict[str, Any]:
    """The Get Statements (202309) entry of a statement."""
    b = data["total_settlement_breakdown"]
    return {"id": data["id"], "statement_time": data["create_time"], "currency": data["currency"],
            "settlement_amount": data["total_settlement_amount"], "revenue_amount": b["total_revenue_amount"],
            "net_sales_amount": b["total_revenue_amount"], "shipping_cost_amount": b["total_shipping_cost_amount"],
            "fee_amount": b["total_fee_tax_amount"], "adjustment_amount": b["total_adjustment_amount"],
            "payment_id": payment_id, "payment_status": payment_status}


def payment(pid: str, statements: list[dict[str, Any]], *, status: str = "PAID", currency: str = "USD",
            paid_time: int | None = None) -> dict[str, Any]:
    settled = sum((D(s["total_settlement_amount"]) for s in statements), D(0))
    reserve = sum((D(s["total_reserve_amount"]) for s in statements), D(0))
    created = max(int(s["create_time"]) for s in statements) + 3600
    out: dict[str, Any] = {"id": pid, "create_time": created, "status": status,
                           "amount": {"value": m(settled + reserve), "currency": currency},
                           "settlement_amount": {"value": m(settled), "currency": currency},
                           "reserve_amount": {"value": m(reserve), "currency": currency},
                           "payment_amount_before_exchange": {"value": m(settled + reserve), "currency": currency},
                           "exchange_rate": "1.000000", "bank_account": "***********1234"}
    if status == "PAID":
        out["paid_time"] = paid_time or created + 86400
    return out

"""Daily statements (00:00 UTC), their 202501 transactions, payments and withdrawals.

Sign convention: money the seller receives is positive, deductions are negative decimal strings.
Identities that hold for every transaction line (docs/sandbox-tiktok.md):

* ``revenue_amount = Σ revenue_breakdown``
* ``shipping_cost_amount = Σ shipping_cost_breakdown`` (its ``supplementary_component`` excluded)
* ``fee_tax_amount = Σ fee_tax_breakdown.fee + Σ fee_tax_breakdown.tax``
* ``settlement_amount = revenue_amount + shipping_cost_amount + fee_tax_amount + adjustment_amount``

and, per statement, ``total_* = Σ transactions``, ``total_settlement_amount = Σ total_settlement_breakdown``,
``payable_amount = total_settlement_amount + total_reserve_amount``; per payment
``amount = settlement_amount + reserve_amount`` with ``settlement_amount = Σ statements``. The
documentation prints the formulas over magnitudes (``revenue - shipping - fee``); with signed
amounts they are the sums above.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from . import orders
from .digest import load_digest
from .errors import SandboxError
from .models import Adjustment, LineItem, Order, Payment, Statement, Transaction, Withdrawal
from .money import ZERO, allocate, dec, fmt, q
from .state import SandboxState

ADJUSTMENT_TYPES = frozenset({
    "CHARGE_BACK", "CUSTOMER_SERVICE_COMPENSATION", "DEDUCTIONS_INCURRED_BY_SELLER", "GMV_PAYMENT_FOR_ADS",
    "PLATFORM_COMMISSION_ADJUSTMENT", "PLATFORM_COMMISSION_COMPENSATION", "PLATFORM_PENALTY",
    "PROMOTION_ADJUSTMENT", "REBATE", "PLATFORM_COMPENSATION", "PLATFORM_REIMBURSEMENT",
    "COFUNDED_CREATOR_REWARDS", "FBT_WAREHOUSE_SERVICE_FEE", "LOGISTICS_REIMBURSEMENT",
    "SHIPPING_FEE_ADJUSTMENT", "SHIPPING_FEE_COMPENSATION", "SHIPPING_FEE_REBATE", "SAMPLE_SHIPPING_FEE",
    "SELLER_MISSION_REWARD", "OTHER_ADJUSTMENT",
})
REVENUE_FIELDS = ("subtotal_before_discount_amount", "seller_discount_amount",
                  "refund_subtotal_before_discount_amount", "seller_discount_refund_amount",
                  "cod_service_fee_amount", "refund_cod_service_fee_amount")
SHIPPING_FIELDS = ("actual_shipping_fee_amount", "shipping_fee_discount_amount", "customer_paid_shipping_fee_amount",
                   "return_shipping_fee_amount", "replacement_shipping_fee_amount", "exchange_shipping_fee_amount",
                   "signature_confirmation_fee_amount", "shipping_insurance_fee_amount",
                   "fbt_fulfillment_fee_reimbursement_amount", "return_shipping_label_fee_amount",
                   "seller_self_shipping_service_fee_amount", "return_shipping_fee_paid_buyer_amount",
                   "failed_delivery_subsidy_amount", "fbt_free_shipping_fee_amount", "free_return_subsidy_amount")
SHIPPING_SUPPLEMENTARY = ("platform_shipping_fee_discount_amount", "promo_shipping_incentive_amount",
                          "shipping_fee_subsidy_amount", "seller_shipping_fee_discount_amount",
                          "customer_shipping_fee_offset_amount", "fbm_shipping_cost_amount",
                          "fbt_shipping_cost_amount", "fbt_fulfillment_fee_amount",
                          "return_refund_subsidy_amount", "refunded_customer_shipping_fee_amount",
                          "customer_shipping_fee", "refund_customer_shipping_fee")
FEE_FIELDS = ("platform_commission_amount", "referral_fee_amount", "refund_administration_fee_amount",
              "transaction_fee_amount", "credit_card_handling_fee_amount", "affiliate_commission_amount",
              "affiliate_partner_commission_amount", "affiliate_ads_commission_amount", "sfp_service_fee_amount",
              "live_specials_fee_amount", "voucher_xtra_service_fee_amount", "flash_sales_service_fee_amount",
              "cofunded_promotion_service_fee_amount", "pre_order_service_fee_amount", "tsp_commission_amount",
              "epr_pob_service_fee_amount", "seller_paylater_handling_fee_amount", "fee_per_item_sold_amount")
TAX_FIELDS = ("vat_amount", "import_vat_amount", "customs_duty_amount", "customs_clearance_amount",
              "sst_amount", "gst_amount", "iva_amount", "isr_amount", "anti_dumping_duty_amount",
              "local_vat_amount", "pit_amount")
SUPPLEMENTARY = ("customer_payment_amount", "customer_refund_amount", "platform_discount_amount",
                 "platform_discount_refund_amount", "seller_cofunded_discount_amount",
                 "seller_cofunded_discount_refund_amount", "platform_cofunded_discount_amount",
                 "platform_cofunded_discount_refund_amount", "retail_delivery_fee_amount",
                 "retail_delivery_fee_payment_amount", "retail_delivery_fee_refund_amount", "sales_tax_amount",
                 "sales_tax_payment_amount", "sales_tax_refund_amount")


def statement_time_of(day: date) -> int:
    return int(datetime.combine(day, time(0, 0), tzinfo=UTC).timestamp())


def _empty_tree() -> dict[str, Any]:
    return {
        "revenue_breakdown": dict.fromkeys(REVENUE_FIELDS, ZERO),
        "shipping_cost_breakdown": {**dict.fromkeys(SHIPPING_FIELDS, ZERO),
                                    "supplementary_component": dict.fromkeys(SHIPPING_SUPPLEMENTARY, ZERO)},
        "fee_tax_breakdown": {"fee": dict.fromkeys(FEE_FIELDS, ZERO), "tax": dict.fromkeys(TAX_FIELDS, ZERO)},
        "supplementary_component": dict.fromkeys(SUPPLEMENTARY, ZERO),
        "adjustment_amount": ZERO,
    }


def totals(tree: dict[str, Any]) -> dict[str, Decimal]:
    """The parent amounts of a breakdown tree, by the identities in the module docstring."""
    revenue = sum(tree["revenue_breakdown"].values(), ZERO)
    shipping = sum((v for k, v in tree["shipping_cost_breakdown"].items() if k != "supplementary_component"), ZERO)
    fee_tax = sum(tree["fee_tax_breakdown"]["fee"].values(), ZERO) + sum(
        tree["fee_tax_breakdown"]["tax"].values(), ZERO)
    adjustment = tree.get("adjustment_amount", ZERO)
    return {"revenue_amount": revenue, "shipping_cost_amount": shipping, "fee_tax_amount": fee_tax,
            "adjustment_amount": adjustment, "settlement_amount": revenue + shipping + fee_tax + adjustment}


def _add(into: dict[str, Any], other: dict[str, Any]) -> None:
    for k, v in other.items():
        if isinstance(v, dict):
            _add(into.setdefault(k, {}), v)
        else:
            into[k] = into.get(k, ZERO) + v


def _fmt_tree(tree: dict[str, Any], cur: str) -> dict[str, Any]:
    return {k: (_fmt_tree(v, cur) if isinstance(v, dict) else fmt(v, cur)) for k, v in tree.items()}


# ------------------------------------------------------------------------- order transactions
def _rates(st: SandboxState, region: str) -> dict[str, Decimal]:
    cfg = st.config
    if region == "US":
        return {"referral": dec(cfg.referral_fee_rate), "commission": ZERO, "tx": dec(cfg.transaction_fee_rate)}
    return {"referral": ZERO, "commission": dec(cfg.commission_rate), "tx": dec(cfg.transaction_fee_rate)}


def _sku_trees(st: SandboxState, order: Order, kept: list[LineItem], refunded: list[LineItem],
               include_sale: bool, refund_shipping: bool) -> dict[str, dict[str, Any]]:
    """Per-SKU breakdown trees. ``include_sale``: the first settlement (sale + refunds so far);
    otherwise only the refund reversal of ``refunded`` units."""
    cur = order.currency
    region = st.shops[order.shop_id].region
    rates = _rates(st, region)
    admin = dec(st.config.refund_admin_fee_rate)
    sold = kept + refunded if include_sale else []
    sku_ids = sorted({li.sku_id for li in sold + refunded})
    trees = {s: _empty_tree() for s in sku_ids}
    quantities = dict.fromkeys(sku_ids, 0)
    for li in sold:
        t = trees[li.sku_id]
        t["revenue_breakdown"]["subtotal_before_discount_amount"] += li.original_price
        t["revenue_breakdown"]["seller_discount_amount"] -= li.seller_discount
        t["supplementary_component"]["platform_discount_amount"] += li.platform_discount
        t["supplementary_component"]["sales_tax_payment_amount"] += li.tax
        quantities[li.sku_id] += 1
    for li in refunded:
        t = trees[li.sku_id]
        t["revenue_breakdown"]["refund_subtotal_before_discount_amount"] -= li.original_price
        t["revenue_breakdown"]["seller_discount_refund_amount"] += li.seller_discount
        t["supplementary_component"]["sales_tax_refund_amount"] += li.tax
        t["supplementary_component"]["customer_refund_amount"] -= li.sale_price + li.tax
        if not include_sale:
            quantities[li.sku_id] -= 1
    # fees per SKU on net sales (price after seller discount); refunds reverse them less the admin fee
    for sku_id, t in trees.items():
        kept_net = sum((li.original_price - li.seller_discount for li in kept if li.sku_id == sku_id), ZERO)
        ref_net = sum((li.original_price - li.seller_discount for li in refunded if li.sku_id == sku_id), ZERO)
        fee = t["fee_tax_breakdown"]["fee"]
        key = "referral_fee_amount" if region == "US" else "platform_commission_amount"
        rate = rates["referral"] if region == "US" else rates["commission"]
        if include_sale:
            fee[key] = -q(kept_net * rate, cur)
            fee["transaction_fee_amount"] = -q(kept_net * rates["tx"], cur)
            fee["affiliate_commission_amount"] = -q(kept_net * order.affiliate_rate, cur)
        else:
            fee[key] = q(ref_net * rate, cur)
            fee["transaction_fee_amount"] = q(ref_net * rates["tx"], cur)
            fee["affiliate_commission_amount"] = q(ref_net * order.affiliate_rate, cur)
        fee["refund_administration_fee_amount"] = -q(ref_net * rate * admin, cur)
        sup = t["supplementary_component"]
        sup["sales_tax_amount"] = sup["sales_tax_payment_amount"] - sup["sales_tax_refund_amount"]
    # order-level shipping, allocated over SKUs by gross value
    pay = orders.payment_amounts(order)
    weights = [sum((li.original_price for li in sold + refunded if li.sku_id == s), ZERO) for s in sku_ids]
    parts: dict[str, Decimal] = {}
    if include_sale:
        parts["customer_paid_shipping_fee_amount"] = pay["shipping_fee"]
        parts["shipping_fee_discount_amount"] = pay["shipping_fee_platform_discount"]
        parts["sup.platform_shipping_fee_discount_amount"] = pay["shipping_fee_platform_discount"]
        parts["sup.seller_shipping_fee_discount_amount"] = -pay["shipping_fee_seller_discount"]
        parts["sup.customer_shipping_fee"] = pay["shipping_fee"]
        parts["cs.customer_payment_amount"] = pay["shipping_fee"] + pay["shipping_fee_tax"]
        parts["cs.sales_tax_payment_amount"] = pay["shipping_fee_tax"]
        if order.fulfillment_type == "FULFILLMENT_BY_TIKTOK":
            fbt_fee = q(dec(st.config.fbt_fee_per_unit) * len(sold), cur)
            parts["actual_shipping_fee_amount"] = -fbt_fee
            parts["sup.fbt_fulfillment_fee_amount"] = -fbt_fee
        elif order.shipping_type == "TIKTOK":
            parts["actual_shipping_fee_amount"] = -pay["original_shipping_fee"]
            parts["sup.fbm_shipping_cost_amount"] = pay["original_shipping_fee"]
    if refund_shipping:
        parts["customer_paid_shipping_fee_amount"] = parts.get("customer_paid_shipping_fee_amount", ZERO) - pay[
            "shipping_fee"]
        parts["sup.refund_customer_shipping_fee"] = pay["shipping_fee"]
        parts["cs.sales_tax_refund_amount"] = pay["shipping_fee_tax"]
        parts["cs.customer_refund_amount"] = -(pay["shipping_fee"] + pay["shipping_fee_tax"])
    for name, amount in parts.items():
        if not amount:
            continue
        for sku_id, share in zip(sku_ids, allocate(amount, weights, cur), strict=True):
            t = trees[sku_id]
            if name.startswith("sup."):
                t["shipping_cost_breakdown"]["supplementary_component"][name[4:]] += share
            elif name.startswith("cs."):
                t["supplementary_component"][name[3:]] += share
            else:
                t["shipping_cost_breakdown"][name] += share
    for sku_id, t in trees.items():
        sup = t["supplementary_component"]
        sup["sales_tax_amount"] = sup["sales_tax_payment_amount"] - sup["sales_tax_refund_amount"]
        if include_sale:
            sup["customer_payment_amount"] += sum(
                (li.sale_price + li.tax for li in sold if li.sku_id == sku_id), ZERO)
        t["_quantity"] = quantities[sku_id]
    return trees


def _order_transaction(st: SandboxState, order: Order, statement_id: str, include_sale: bool,
                       refunded: list[LineItem], refund_shipping: bool) -> Transaction:
    kept = [li for li in order.active_items if not li.refunded]
    trees = _sku_trees(st, order, kept, refunded, include_sale, refund_shipping)
    total = _empty_tree()
    sku_lines = []
    for sku_id, tree in trees.items():
        qty = tree.pop("_quantity")
        _add(total, {k: v for k, v in tree.items()})
        sample = next(li for li in order.line_items if li.sku_id == sku_id)
        sku_lines.append({"sku_id": sku_id, "sku_name": sample.sku_name, "product_name": sample.product_name,
                          "quantity": qty, "tree": tree})
    return Transaction(id=st.ids.next("transaction", 19), type="ORDER", statement_id=statement_id,
                       order_id=order.id, order_create_time=order.create_time, amounts=total, sku_lines=sku_lines)


def _settle_time(st: SandboxState, order: Order) -> int:
    if st.config.settle_on == "DELIVERED":
        return order.delivery_time if order.status in ("DELIVERED", "COMPLETED") else 0
    return order.completed_time if order.status == "COMPLETED" else 0


def generate_statements(st: SandboxState, day: date, shop_id: str | None = None) -> list[Statement]:
    """Close the statement of ``day`` (statement_time = ``day`` 00:00 UTC) for each shop: every
    settleable order, post-settlement refund and adjustment up to that instant. Shops with nothing
    to settle get no statement. Generating the same day twice is refused."""
    cutoff = statement_time_of(day)
    out = []
    for shop in ([st.shop(shop_id)] if shop_id else list(st.shops.values())):
        if any(s.shop_id == shop.id and s.statement_time == cutoff for s in st.statements.values()):
            raise SandboxError(f"statement for {day.isoformat()} already exists for shop {shop.id}", 409, "conflict")
        sid = st.ids.next("statement", 19)
        txs: list[Transaction] = []
        for oid in st.order_seq:
            order = st.orders[oid]
            if order.shop_id != shop.id:
                continue
            if not order.settled:
                t = _settle_time(st, order)
                if not t or t >= cutoff or not order.active_items:
                    continue
                refunds = [r for r in st.returns.values() if r.order_id == oid and r.refunded]
                refunded = [li for li in order.active_items if li.refunded]
                txs.append(_order_transaction(st, order, sid, True, refunded, any(r.refund_shipping for r in refunds)))
                order.settled = True
                for r in refunds:
                    r.finance_settled = True
        for r in st.returns.values():
            if r.shop_id != shop.id or not r.refunded or r.finance_settled or r.update_time >= cutoff:
                continue
            order = st.orders[r.order_id]
            if not order.settled:
                continue
            items = [li for li in order.line_items if li.id in r.line_item_ids]
            txs.append(_order_transaction(st, order, sid, False, items, r.refund_shipping))
            r.finance_settled = True
        for adj in st.adjustments.values():
            if adj.shop_id != shop.id or adj.settled_in or adj.create_time >= cutoff:
                continue
            tree = _empty_tree()
            tree["adjustment_amount"] = adj.amount
            txs.append(Transaction(id=st.ids.next("transaction", 19), type=adj.type, statement_id=sid,
                                   adjustment_id=adj.id, adjustment_order_id=adj.order_id, amounts=tree))
            adj.settled_in = sid
        if not txs:
            continue
        for tx in txs:
            st.transactions[tx.id] = tx
        stmt = Statement(id=sid, shop_id=shop.id, statement_time=cutoff, currency=shop.currency,
                         transaction_ids=[t.id for t in txs])
        pay = Payment(id=st.ids.next("payment", 19), shop_id=shop.id, create_time=cutoff + 3600,
                      currency=shop.currency, statement_ids=[sid], status="PAID", paid_time=cutoff + 86400)
        stmt.payment_id = pay.id
        st.statements[sid] = stmt
        st.payments[pay.id] = pay
        amount = statement_totals(st, stmt)["payable_amount"]
        wd = Withdrawal(id=st.ids.next("withdrawal", 19), shop_id=shop.id, type="SETTLE", amount=amount,
                        currency=shop.currency, status="SUCCESS", create_time=cutoff + 3600)
        st.withdrawals[wd.id] = wd
        out.append(stmt)
    return out


def add_adjustment(st: SandboxState, shop_id: str, amount: str, type_: str = "OTHER_ADJUSTMENT",
                   order_id: str = "") -> Adjustment:
    st.shop(shop_id)
    if type_ not in ADJUSTMENT_TYPES:
        raise SandboxError(f"unknown adjustment type {type_!r}")
    if order_id:
        st.order(order_id, shop_id)
    adj = Adjustment(id=st.ids.next("adjustment", 19), shop_id=shop_id, type=type_,
                     amount=q(dec(amount), st.shops[shop_id].currency), order_id=order_id, create_time=st.now())
    st.adjustments[adj.id] = adj
    return adj


def reissue_statement(st: SandboxState, statement_id: str, fee_delta: str = "-1.00",
                      transaction_id: str | None = None) -> Statement:
    """TikTok re-issues a published statement: one order line's platform fee changes by
    ``fee_delta`` (split onto its first SKU line) and every total follows."""
    stmt = st.statements.get(statement_id)
    if stmt is None:
        raise SandboxError(f"unknown statement {statement_id!r}", 404, "not_found")
    candidates = [st.transactions[t] for t in stmt.transaction_ids if st.transactions[t].type == "ORDER"]
    tx = next((t for t in candidates if t.id == transaction_id), None) if transaction_id else (
        candidates[0] if candidates else None)
    if tx is None:
        raise SandboxError("no order transaction to correct in this statement", 409, "conflict")
    delta = q(dec(fee_delta), stmt.currency)
    region = st.shops[stmt.shop_id].region
    key = "referral_fee_amount" if region == "US" else "platform_commission_amount"
    tx.amounts["fee_tax_breakdown"]["fee"][key] += delta
    tx.sku_lines[0]["tree"]["fee_tax_breakdown"]["fee"][key] += delta
    stmt.revision += 1
    for w in st.withdrawals.values():
        if w.shop_id == stmt.shop_id and w.create_time == stmt.statement_time + 3600 and w.type == "SETTLE":
            w.amount = statement_totals(st, stmt)["payable_amount"]
    return stmt


def set_reserve(st: SandboxState, statement_id: str, amount: str) -> Statement:
    """TikTok withholds (negative) or releases (positive) a reserve with a statement: its
    ``total_reserve_amount`` and its payout's ``reserve_amount`` become ``amount``, so
    ``payable_amount = total_settlement_amount + total_reserve_amount`` and the payout follows."""
    stmt = st.statements.get(statement_id)
    if stmt is None:
        raise SandboxError(f"unknown statement {statement_id!r}", 404, "not_found")
    pay = st.payments.get(stmt.payment_id)
    if pay is None or len(pay.statement_ids) != 1:
        raise SandboxError("a reserve is set on a statement paid out on its own", 409, "conflict")
    stmt.reserve_amount = q(dec(amount), stmt.currency)
    pay.reserve_amount = stmt.reserve_amount
    for w in st.withdrawals.values():
        if w.shop_id == stmt.shop_id and w.create_time == stmt.statement_time + 3600 and w.type == "SETTLE":
            w.amount = statement_totals(st, stmt)["payable_amount"]
    return stmt


# ----------------------------------------------------------------------------- serialisation
def statement_totals(st: SandboxState, stmt: Statement) -> dict[str, Decimal]:
    out = {"total_revenue_amount": ZERO, "total_shipping_cost_amount": ZERO, "total_fee_tax_amount": ZERO,
           "total_adjustment_amount": ZERO}
    for tid in stmt.transaction_ids:
        t = totals(st.transactions[tid].amounts)
        out["total_revenue_amount"] += t["revenue_amount"]
        out["total_shipping_cost_amount"] += t["shipping_cost_amount"]
        out["total_fee_tax_amount"] += t["fee_tax_amount"]
        out["total_adjustment_amount"] += t["adjustment_amount"]
    settlement = sum(out.values(), ZERO)
    return {**out, "total_settlement_amount": settlement, "total_reserve_amount": stmt.reserve_amount,
            "payable_amount": settlement + stmt.reserve_amount}


def statement_json(st: SandboxState, stmt: Statement) -> dict[str, Any]:
    t = statement_totals(st, stmt)
    cur = stmt.currency
    pay = st.payments.get(stmt.payment_id)
    return {
        "id": stmt.id,
        "statement_time": stmt.statement_time,
        "currency": cur,
        "settlement_amount": fmt(t["total_settlement_amount"], cur),
        "revenue_amount": fmt(t["total_revenue_amount"], cur),
        "net_sales_amount": fmt(t["total_revenue_amount"], cur),
        "shipping_cost_amount": fmt(t["total_shipping_cost_amount"], cur),
        "fee_amount": fmt(t["total_fee_tax_amount"], cur),
        "adjustment_amount": fmt(t["total_adjustment_amount"], cur),
        "payment_status": pay.status if pay else "PROCESSING",
        "payment_id": stmt.payment_id,
    }


def transaction_json(st: SandboxState, tx: Transaction, cur: str) -> dict[str, Any]:
    tree = tx.amounts
    t = totals(tree)
    out: dict[str, Any] = {
        "id": tx.id,
        "type": tx.type,
        "settlement_amount": fmt(t["settlement_amount"], cur),
        "revenue_amount": fmt(t["revenue_amount"], cur),
        "shipping_cost_amount": fmt(t["shipping_cost_amount"], cur),
        "fee_tax_amount": fmt(t["fee_tax_amount"], cur),
        "adjustment_amount": fmt(t["adjustment_amount"], cur),
        "revenue_breakdown": _fmt_tree(tree["revenue_breakdown"], cur),
        "shipping_cost_breakdown": _fmt_tree(tree["shipping_cost_breakdown"], cur),
        "fee_tax_breakdown": _fmt_tree(tree["fee_tax_breakdown"], cur),
        "supplementary_component": _fmt_tree(tree["supplementary_component"], cur),
    }
    if tx.type == "ORDER":
        out["order_id"] = tx.order_id
        out["order_create_time"] = tx.order_create_time
    else:
        out["adjustment_id"] = tx.adjustment_id
        out["adjustment_order_id"] = tx.adjustment_order_id
    return out


def transactions_by_statement(st: SandboxState, stmt: Statement, query: dict[str, str],
                              invalid_code: int) -> dict[str, Any]:
    cur = stmt.currency
    txs = [st.transactions[t] for t in stmt.transaction_ids]
    desc = (query.get("sort_order") or "ASC") == "DESC"
    txs.sort(key=lambda t: (t.order_create_time, t.id), reverse=desc)
    size = int(query.get("page_size") or 20)
    offset = orders.decode_token(query.get("page_token"), invalid_code, "Invalid page_token")
    page = txs[offset: offset + size]
    totals_ = statement_totals(st, stmt)
    return {
        "id": stmt.id,
        "create_time": stmt.statement_time,
        "status": "SETTLED",
        "currency": cur,
        "payable_amount": fmt(totals_["payable_amount"], cur),
        "total_reserve_amount": fmt(totals_["total_reserve_amount"], cur),
        "total_settlement_amount": fmt(totals_["total_settlement_amount"], cur),
        "total_settlement_breakdown": {k: fmt(totals_[k], cur) for k in (
            "total_revenue_amount", "total_shipping_cost_amount", "total_fee_tax_amount", "total_adjustment_amount")},
        "total_count": len(txs),
        "transactions": [transaction_json(st, t, cur) for t in page],
        "next_page_token": orders.encode_token(offset + size) if offset + size < len(txs) else "",
    }


def _prune(doc: dict[str, Any], fields: dict[str, Any]) -> dict[str, Any]:
    """Keep only the documented keys (the by-order page documents a slightly different set)."""
    out: dict[str, Any] = {}
    for k, v in doc.items():
        if k not in fields:
            continue
        sub = fields[k].get("fields")
        out[k] = _prune(v, sub) if isinstance(v, dict) and sub else v
    return out


def transactions_by_order(st: SandboxState, order: Order) -> dict[str, Any]:
    cur = order.currency
    documented = load_digest().endpoint("GET", "/finance/202501/orders/{order_id}/statement_transactions")
    sku_fields = documented.response_data_fields()["sku_transactions"]["fields"]
    lines = []
    grand = {"revenue_amount": ZERO, "shipping_cost_amount": ZERO, "fee_tax_amount": ZERO, "settlement_amount": ZERO}
    for tx in st.transactions.values():
        if tx.type != "ORDER" or tx.order_id != order.id:
            continue
        for sl in tx.sku_lines:
            t = totals(sl["tree"])
            for k in grand:
                grand[k] += t[k]
            tree = sl["tree"]
            lines.append(_prune({
                "sku_id": sl["sku_id"],
                "sku_name": sl["sku_name"],
                "product_name": sl["product_name"],
                "statement_id": tx.statement_id,
                "quantity": str(sl["quantity"]),
                "settlement_amount": fmt(t["settlement_amount"], cur),
                "revenue_amount": fmt(t["revenue_amount"], cur),
                "revenue_breakdown": _fmt_tree(tree["revenue_breakdown"], cur),
                "shipping_cost_amount": fmt(t["shipping_cost_amount"], cur),
                "shipping_cost_breakdown": _fmt_tree(tree["shipping_cost_breakdown"], cur),
                "fee_tax_amount": fmt(t["fee_tax_amount"], cur),
                "fee_tax_breakdown": _fmt_tree(tree["fee_tax_breakdown"], cur),
            }, sku_fields))
    return {
        "order_id": order.id,
        "order_create_time": order.create_time,
        "currency": cur,
        "revenue_amount": fmt(grand["revenue_amount"], cur),
        "shipping_cost_amount": fmt(grand["shipping_cost_amount"], cur),
        "fee_and_tax_amount": fmt(grand["fee_tax_amount"], cur),
        "settlement_amount": fmt(grand["settlement_amount"], cur),
        "sku_transactions": lines,
        "total_count": len(lines),
    }


def payment_json(st: SandboxState, pay: Payment) -> dict[str, Any]:
    cur = pay.currency
    settlement = sum((statement_totals(st, st.statements[s])["total_settlement_amount"] for s in pay.statement_ids),
                     ZERO)
    amount = settlement + pay.reserve_amount
    out = {
        "id": pay.id,
        "create_time": pay.create_time,
        "status": pay.status,
        "amount": {"value": fmt(amount, cur), "currency": cur},
        "settlement_amount": {"value": fmt(settlement, cur), "currency": cur},
        "reserve_amount": {"value": fmt(pay.reserve_amount, cur), "currency": cur},
        "payment_amount_before_exchange": {"value": fmt(amount, cur), "currency": cur},
        "exchange_rate": "1.000000",
        "bank_account": "***********1234",
    }
    if pay.status == "PAID":
        out["paid_time"] = pay.paid_time
    return out


def withdrawal_json(w: Withdrawal) -> dict[str, Any]:
    return {"id": w.id, "type": w.type, "amount": fmt(w.amount, w.currency), "currency": w.currency,
            "status": w.status, "create_time": w.create_time}


def parse_day(value: str | date) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise SandboxError(f"date must be YYYY-MM-DD, got {value!r}") from None

"""TikTok order → NetSuite sales order (or cash sale), as a pure function.

No I/O, no clock: the flow resolves SKUs to NetSuite items and the customer first, then calls
``map_order``. The result carries the REST record body (the same shape the batch RESTlet takes),
the customer to find or create, the line allocation (which TikTok line items each NetSuite line
holds, for fulfillment and cancellation), and the reconciliation: NetSuite lines must add up to
TikTok's ``total_amount`` to the cent, or carry the spec's explicit rounding line, or the order
becomes an exception instead of a wrong sales order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from bridge.domain.keys import order_key
from bridge.domain.tiktok import LineItem, Order, PriceDetail
from bridge.errors import Evidence, NeedsHumanError, SkippableError
from bridge.mapping.accounting import DEFAULT_ZONE, posting_date
from bridge.mapping.orders_spec import FEE_FIELDS, LINE_FEE_FIELDS, OrderSettings, resolve_dimension, vat_key
from bridge.mapping.wire import json_digest

ZERO = Decimal("0")
SOURCE_MARK = "TTNS"
# Currencies without minor units; everything else rounds to cents.
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "VND", "IDR", "CLP", "HUF", "TWD"})

LineKind = Literal["product", "discount", "shipping", "tax", "fee", "rounding"]


@dataclass(frozen=True)
class ItemRef:
    """A NetSuite item as the flow found it for a seller SKU."""

    id: str
    active: bool = True
    name: str = ""


@dataclass(frozen=True)
class MappedLine:
    kind: LineKind
    item_id: str
    quantity: int
    rate: Decimal
    amount: Decimal
    sku: str = ""
    line_item_ids: tuple[str, ...] = ()
    description: str = ""
    vat_rate: Decimal | None = None  # tax mode inclusive: the VAT rate included in the TikTok price
    vat: Decimal = ZERO  # tax mode inclusive: the VAT taken out of this line (amount is net of it)
    on_shipping: bool = False  # a discount on the shipping fee (not on the products)


@dataclass(frozen=True)
class TikTokVat:
    """The VAT TikTok itself computed for an order in a VAT-inclusive market (Get Price Detail): each
    line item's VAT and rate, and the VAT in the shipping fee. Preferred over recomputing from rates."""

    lines: Mapping[str, tuple[Decimal, Decimal]]  # line item id -> (VAT, rate)
    shipping: Decimal = ZERO


def vat_from_price_detail(detail: PriceDetail) -> TikTokVat | None:
    """TikTok's VAT figures from Get Price Detail (a line with no VAT is zero-rated by TikTok's word), or None
    when the detail lists no line items (then the spec's rates apply)."""
    if not detail.line_items:
        return None
    lines = {str(ln.id): (ln.subtotal_tax_amount, ln.tax_rate) for ln in detail.line_items if ln.id}
    return TikTokVat(lines, detail.tax_amount - detail.subtotal_tax_amount)


@dataclass(frozen=True)
class MappedOrder:
    shop_id: str
    order_id: str
    external_id: str
    record_type: str
    record: dict[str, Any]
    customer: dict[str, Any] | None
    customer_external_id: str | None
    lines: tuple[MappedLine, ...]
    expected_total: Decimal
    computed_total: Decimal
    rounding: Decimal
    platform_funded: Decimal
    staged: bool
    content_hash: str
    notes: tuple[str, ...] = field(default=())

    def body_hash(self) -> str:
        """The hash of what a body-only update writes (the lines locked once units shipped): a digest of
        the body alone, distinct from ``content_hash`` and as long (it is stored in the same 64-character
        column; a ``body:`` prefix made it 69 and PostgreSQL refused every link update of a shipped order)."""
        return json_digest({"body_only": {k: v for k, v in self.record.items() if k != "item"}})

    def vat_by_rate(self) -> dict[str, str]:
        """The VAT taken out of TikTok's prices per rate ("0.19" -> "3.40"), VAT-inclusive markets only."""
        out: dict[str, Decimal] = {}
        for ln in self.lines:
            if ln.vat_rate is not None and ln.vat:
                out[vat_key(ln.vat_rate)] = out.get(vat_key(ln.vat_rate), ZERO) + ln.vat
        return {k: str(v) for k, v in sorted(out.items())}

    def allocation(self) -> list[dict[str, Any]]:
        """Product lines with their TikTok line-item ids (and VAT rate, VAT-inclusive markets: the returns flow
        credits VAT as it was booked), in NetSuite line order."""
        return [
            {"sku": ln.sku, "item_id": ln.item_id, "quantity": ln.quantity, "line_item_ids": list(ln.line_item_ids),
             **({"vat_rate": vat_key(ln.vat_rate)} if ln.vat_rate is not None else {})}
            for ln in self.lines
            if ln.kind == "product"
        ]


def ns_ref(value: str) -> dict[str, str]:
    """A NetSuite reference from a spec value: ``"123"`` is an internal id, ``"eid:X"`` an external id
    (NetSuite's own convention), so one spec can serve a sandbox and a production account."""
    if value.startswith("eid:"):
        return {"externalId": value[4:]}
    return {"id": value}


def external_id(shop_id: str, order_id: str) -> str:
    return f"TTS-{shop_id}-{order_id}"


def quantize(amount: Decimal, currency: str) -> Decimal:
    exp = Decimal("1") if currency.upper() in ZERO_DECIMAL_CURRENCIES else Decimal("0.01")
    return amount.quantize(exp, rounding=ROUND_HALF_UP)


def split_vat(lines: list[MappedLine], shipping_cost: Decimal | None, shipping_rate: Decimal | None,
              currency: str, tiktok: Mapping[Decimal, Decimal] | None = None,
              ) -> tuple[list[MappedLine], Decimal | None, Decimal, dict[Decimal, Decimal]]:
    """Lines with a ``vat_rate`` (and a body shipping cost at ``shipping_rate``) net of the VAT their
    gross amounts include; returns the lines (``amount`` net, ``vat`` taken out), the net shipping cost,
    its VAT, and the VAT per rate. Per rate, the products and their discounts carry TikTok's own VAT when
    ``tiktok`` has that rate (Get Price Detail: the VAT in what the buyer paid for the products): each
    discount line is split by the rule and the rate's products take the rest, so they carry TikTok's VAT
    plus the discounts' (``bridge.mapping.vat.OrderVat``, the model the statement journal and the ledger
    audit follow). Everything else is split per component of the order — the products together, each
    discount line, the shipping (lines and body cost) together — each net = gross / (1 + rate) rounded
    once on the component (``bridge.mapping.vat``). Each line's net is rounded and the cents left over go
    to the group's largest product line (else its largest line), so the nets plus the VAT equal the gross
    exactly, component by component (pure)."""
    members: list[tuple[int, Decimal, Decimal]] = [  # (line index, or -1 for the body's shipping; gross; rate)
        (i, ln.amount, ln.vat_rate) for i, ln in enumerate(lines) if ln.vat_rate is not None and ln.amount]
    if shipping_cost and shipping_rate is not None:
        members.append((-1, shipping_cost, shipping_rate))
    out = list(lines)
    net_shipping, shipping_vat = shipping_cost, ZERO
    by_rate: dict[Decimal, Decimal] = {}

    def _apply_nets(group: list[tuple[int, Decimal, Decimal]], nets: list[Decimal]) -> None:
        nonlocal net_shipping, shipping_vat
        for (i, g, _r), net in zip(group, nets, strict=True):
            if i < 0:
                net_shipping, shipping_vat = net, g - net
                continue
            ln = lines[i]
            # NetSuite keeps the amount; the rate is the unit net price to six places
            out[i] = replace(ln, rate=(net / ln.quantity).quantize(Decimal("0.000001")).normalize(), amount=net,
                             vat=g - net)

    def _goods(i: int) -> bool:  # a product or a discount on products (not shipping, nor its discounts)
        return i >= 0 and (lines[i].kind == "product" or (lines[i].kind == "discount" and not lines[i].on_shipping))

    for rate in sorted({m[2] for m in members}, reverse=True):
        at_rate = [m for m in members if m[2] == rate]
        factor = 1 + rate
        by_component: dict[str, list[tuple[int, Decimal, Decimal]]] = {}
        goods = [m for m in at_rate if _goods(m[0])] if tiktok is not None and rate in tiktok else []
        for m in at_rate:
            if m in goods:
                continue
            kind = "shipping" if m[0] < 0 else lines[m[0]].kind
            by_component.setdefault(kind if kind != "discount" else f"discount:{m[0]}", []).append(m)
        parts = ([goods] if goods else []) + list(by_component.values())
        by_rate[rate] = ZERO
        for group in parts:
            gross = sum((g for _i, g, _r in group), ZERO)
            vat = (tiktok[rate] if group is goods and tiktok is not None
                   else gross - quantize(gross / factor, currency))
            nets = [quantize(g / factor, currency) for _i, g, _r in group]
            remainder = gross - vat - sum(nets, ZERO)
            if remainder:
                largest = max(range(len(group)), key=lambda k: (
                    group[k][0] >= 0 and lines[group[k][0]].kind == "product", abs(group[k][1]), -k))
                nets[largest] += remainder
            by_rate[rate] += vat
            _apply_nets(group, nets)
    return out, net_shipping, shipping_vat, by_rate


def split_inclusive(lines: list[MappedLine], shipping_cost: Decimal | None, rate: Decimal,
                    currency: str) -> tuple[list[MappedLine], Decimal | None, Decimal]:
    """``split_vat`` at one rate for every product, discount and shipping line: lines, net shipping, VAT."""
    rated = [replace(ln, vat_rate=rate) if ln.kind in ("product", "discount", "shipping") else ln for ln in lines]
    out, net_shipping, _ship_vat, by_rate = split_vat(rated, shipping_cost, rate, currency)
    return out, net_shipping, sum(by_rate.values(), ZERO)


def _tiktok_vat_by_rate(ctx: _Context, lines: list[MappedLine]) -> dict[Decimal, Decimal] | None:
    """TikTok's VAT per rate in what the buyer paid for the live lines' products (their line items'
    ``subtotal_tax_amount``), for the rates whose every line item TikTok gave a figure for. Shipping is split
    by the rule at the shipping rate."""
    if ctx.vat is None:
        return None
    out: dict[Decimal, Decimal] = {}
    complete: dict[Decimal, bool] = {}
    for ln in lines:
        if ln.kind != "product" or ln.vat_rate is None:
            continue
        known = all(i in ctx.vat.lines for i in ln.line_item_ids)
        complete[ln.vat_rate] = complete.get(ln.vat_rate, True) and known
        out[ln.vat_rate] = out.get(ln.vat_rate, ZERO) + sum((ctx.vat.lines[i][0] for i in ln.line_item_ids
                                                             if i in ctx.vat.lines), ZERO)
    return {r: v for r, v in out.items() if complete.get(r)}


def _order_attrs(order: Order) -> dict[str, Any]:
    return {
        "order_type": order.order_type,
        "fulfillment_type": order.fulfillment_type,
        "shipping_type": order.shipping_type,
        "delivery_type": order.delivery_type,
        "delivery_option_name": order.delivery_option_name,
        "warehouse_id": order.warehouse_id,
        "commerce_platform": order.commerce_platform,
        "payment_method_name": order.payment_method_name,
        "region": order.recipient_address.region_code,
        "currency": order.currency,
        "is_sample_order": order.is_sample_order,
        "is_replacement_order": order.is_replacement_order,
    }


def _body_value(source: str, order: Order, shop_id: str) -> Any:
    if source == "order_id":
        return order.id
    if source == "shop_id":
        return shop_id
    return getattr(order, source, "")


def gate(order: Order, settings: OrderSettings) -> bool:
    """Whether this order gets a NetSuite document now; raises ``SkippableError`` with the reason if
    not. Returns True when the document is *staged* (on hold, address hidden, not fulfillable)."""
    if not settings.enabled:
        raise SkippableError("the orders flow is switched off for this shop in orders.yaml")
    if order.status == "UNPAID":
        raise SkippableError("order is UNPAID: nothing to record until it is paid")
    if order.status == "CANCELLED":
        raise SkippableError("order was cancelled before a sales order existed")
    type_rule = settings.order_types.get(order.order_type or "NORMAL")
    if type_rule is not None and type_rule.skip:
        raise SkippableError(f"order_type {order.order_type} is skipped by orders.yaml")
    if order.status == "ON_HOLD":
        if settings.hold_policy == "wait":
            raise SkippableError("order is ON_HOLD; hold_policy is wait, the sales order is created on release")
        return True
    return False


BUYER_CANCEL_HOLD = "Buyer requested cancellation on TikTok: do not ship until the seller decides in Seller Center"
TIKTOK_HOLD = "TikTok ON_HOLD: the address is hidden and the order cannot be fulfilled until TikTok releases it"


def hold_reason(order: Order, staged: bool) -> str:
    """Why the sales order is held (``custbody_ttns_hold_reason``), or "" when it is not: a buyer's
    cancellation request TikTok has not decided holds it (pending approval) until TikTok decides."""
    if order.is_buyer_request_cancel and order.status in ("AWAITING_SHIPMENT", "PARTIALLY_SHIPPING", "ON_HOLD"):
        return BUYER_CANCEL_HOLD
    return TIKTOK_HOLD if staged else ""


@dataclass(frozen=True)
class _Context:
    """What every step of ``map_order`` reads: the order, its shop and spec, and its money rounding."""

    order: Order
    shop_id: str
    settings: OrderSettings
    entity: str
    live: tuple[LineItem, ...]
    cancelled: tuple[LineItem, ...]
    vat: TikTokVat | None = None
    sku_key: Callable[[str], str] = str.strip

    def q(self, amount: Decimal) -> Decimal:
        return quantize(amount, self.order.currency)

    @property
    def inclusive(self) -> bool:
        return self.settings.tax.mode == "inclusive"

    def vat_rate(self, li: LineItem) -> Decimal | None:
        """The VAT rate included in a line item's price (tax mode inclusive): TikTok's own, else the
        SKU's reduced rate, else the standard rate; None outside mode inclusive."""
        tx = self.settings.tax
        if tx.mode != "inclusive":
            return None
        if self.vat is not None and li.id in self.vat.lines:
            return self.vat.lines[li.id][1]
        key = self.sku_key(li.seller_sku)
        for sku, rate in tx.rates.items():
            if self.sku_key(sku) == key:
                return rate
        assert tx.rate is not None
        return tx.rate

    def shipping_rate(self) -> Decimal | None:
        tx = self.settings.tax
        return (tx.shipping_rate if tx.shipping_rate is not None else tx.rate) if self.inclusive else None


@dataclass(frozen=True)
class _Shipping:
    lines: tuple[MappedLine, ...]
    cost: Decimal | None  # the body's shippingCost (mode "body"); None when shipping is a line
    platform_discount: Decimal


@dataclass(frozen=True)
class _Total:
    expected: Decimal
    computed: Decimal
    rounding: Decimal


def map_order(
    order: Order,
    *,
    shop_id: str,
    settings: OrderSettings,
    items: Mapping[str, ItemRef],
    customer_id: str | None = None,
    time_zone: str = DEFAULT_ZONE,
    vat: TikTokVat | None = None,
    sku_key: Callable[[str], str] = str.strip,
) -> MappedOrder:
    """The NetSuite document for ``order`` under ``settings`` (pure; raises for human fixes).
    ``tranDate`` is the day the buyer paid (else placed) the order in ``time_zone``. In a VAT-inclusive
    market ``vat`` is TikTok's own VAT per line (``vat_from_price_detail``); ``sku_key`` is the one SKU
    rule's key, which matches ``tax.rates``' SKUs.

    The steps, in order: product lines, discount lines, shipping, tax, other buyer-paid fees, the
    reconciliation to TikTok's total, the record body, its item rows, the customer."""
    staged = gate(order, settings)
    hold = hold_reason(order, staged)
    live = tuple(li for li in order.line_items if not li.cancelled)
    if not live:
        raise SkippableError("every line item of the order is cancelled")
    if vat is not None and order.payment.tax:
        vat = None  # tax on top of the prices (cross-border): the inclusive split recomputes, the tax posts as is
    ctx = _Context(order, shop_id, settings, order_key(shop_id, order.id), live,
                   tuple(li for li in order.line_items if li.cancelled), vat, sku_key)

    lines = _product_lines(ctx, items)
    discounts, platform_disc = _discount_lines(ctx)
    shipping = _shipping(ctx)
    lines, shipping_cost, tax_total = _tax(ctx, [*lines, *discounts, *shipping.lines], shipping.cost)
    lines += _fee_lines(ctx)
    lines, pfand_on_top = _pfand_reading(ctx, lines, shipping_cost, tax_total)
    total = _reconcile(ctx, lines, shipping_cost, tax_total, pfand_on_top)
    if total.rounding:
        lines.append(MappedLine("rounding", settings.rounding.item or "", 1, total.rounding, total.rounding,
                                description="Rounding (TikTok total)"))

    record, location = _record_body(ctx, staged, hold, time_zone, shipping_cost)
    record["item"] = {"items": _item_rows(ctx, lines, location)}
    customer, cust_ext = _customer(order, shop_id, settings, staged)
    if customer_id:
        record["entity"] = {"id": customer_id}
    elif cust_ext is None:
        assert settings.customer.generic_id
        record["entity"] = ns_ref(settings.customer.generic_id)

    platform_funded = ctx.q(platform_disc + shipping.platform_discount)
    digest = json_digest({"record": record, "customer": customer, "type": settings.record_type})
    notes = []
    if ctx.inclusive:
        notes.append("VAT per line from TikTok's price detail" if ctx.vat is not None
                     else "VAT taken out at orders.yaml's rates (TikTok gave no VAT figures)")
    if not pfand_on_top:
        notes.append("pfand_fee inside TikTok's prices (its total has no room for it on top): left in the products")
    if ctx.cancelled:
        notes.append(f"{len(ctx.cancelled)} cancelled unit(s) left off")
    if platform_funded:
        notes.append(f"{platform_funded} {order.currency} funded by TikTok (reimbursed in settlement)")
    return MappedOrder(
        shop_id=shop_id,
        order_id=order.id,
        external_id=record["externalId"],
        record_type=settings.record_type,
        record=record,
        customer=customer,
        customer_external_id=cust_ext,
        lines=tuple(lines),
        expected_total=total.expected,
        computed_total=total.computed + total.rounding,
        rounding=total.rounding,
        platform_funded=platform_funded,
        staged=staged,
        content_hash=digest,
        notes=tuple(notes),
    )


def _product_lines(ctx: _Context, items: Mapping[str, ItemRef]) -> list[MappedLine]:
    """One NetSuite line per item and unit rate, quantity = units (SKUs the SKU rule joins share one
    line); an unknown or inactive item needs a person."""
    order, settings = ctx.order, ctx.settings
    seller_in_rate = settings.discounts.seller.mode == "line_rate"
    platform_in_rate = settings.discounts.platform.mode == "line_rate"
    missing: list[str] = []
    inactive: list[str] = []
    groups: dict[tuple[str, Decimal, Decimal], list[LineItem]] = {}
    for li in ctx.live:
        sku = li.seller_sku.strip()
        if not sku:
            missing.append(f"(no seller SKU on TikTok SKU {li.sku_id})")
            continue
        ref = items.get(sku)
        if ref is None:
            missing.append(sku)
            continue
        if not ref.active:
            inactive.append(sku)
            continue
        rate = li.original_price
        if seller_in_rate:
            rate -= li.seller_discount
        if platform_in_rate:
            rate -= li.platform_discount
        groups.setdefault((ref.id, rate, ctx.vat_rate(li) or ZERO), []).append(li)
    if missing:
        raise NeedsHumanError(
            f"{len(set(missing))} SKU(s) of order {order.id} have no NetSuite item: {', '.join(sorted(set(missing)))}",
            code="UNKNOWN_SKU",
            owner="ops",
            fix_hint="Create the item in NetSuite with that SKU as its name/number, or pin the SKU to an item under "
            "match.overrides in catalog.yaml (per shop under shops.<id>.match.overrides), then replay.",
            evidence=Evidence.of("bridge", "map order", details={"skus": sorted(set(missing)), "order_id": order.id}),
            entity=ctx.entity,
        )
    if inactive:
        raise NeedsHumanError(
            f"SKU(s) {', '.join(sorted(set(inactive)))} of order {order.id} map to inactive NetSuite items",
            code="INACTIVE_ITEM",
            owner="ops",
            fix_hint="Reactivate the item in NetSuite or pin the SKU to an active item under match.overrides in "
            "catalog.yaml, then replay.",
            evidence=Evidence.of("bridge", "map order", details={"skus": sorted(set(inactive))}),
            entity=ctx.entity,
        )
    lines: list[MappedLine] = []
    for (item_id, rate, _vat), units in sorted(groups.items(),
                                               key=lambda kv: (kv[1][0].seller_sku.strip(), kv[0][1], kv[0][2])):
        qty = len(units)
        first = units[0]
        desc = " - ".join(p for p in (first.product_name, first.sku_name) if p)
        lines.append(MappedLine("product", item_id, qty, rate, ctx.q(rate * qty), first.seller_sku.strip(),
                                tuple(li.id for li in units), desc[:300], vat_rate=ctx.vat_rate(first)))
    return lines


def _discount_lines(ctx: _Context) -> tuple[list[MappedLine], Decimal]:
    """The seller's and the platform's item discounts as lines (mode ``discount_line``), and the
    platform's share (TikTok funds it). In a VAT market with several rates, one line per rate (each
    discount reduces the VAT of the goods it was given on: TikTok's discounts are per line item)."""
    discounts = ctx.settings.discounts
    platform_disc = sum((li.platform_discount for li in ctx.live), ZERO)
    by_rate: dict[Decimal | None, list[LineItem]] = {}
    for li in ctx.live:
        by_rate.setdefault(ctx.vat_rate(li), []).append(li)
    several = len(by_rate) > 1
    lines: list[MappedLine] = []
    for who, spec, label in (("seller", discounts.seller, "TikTok seller discount"),
                             ("platform", discounts.platform, "TikTok platform discount (reimbursed by TikTok)")):
        if spec.mode != "discount_line":
            continue
        for rate, units in sorted(by_rate.items(), key=lambda kv: kv[0] or ZERO, reverse=True):
            amount = sum((getattr(li, f"{who}_discount") for li in units), ZERO)
            if not amount:
                continue
            assert spec.item
            desc = f"{label}, VAT {vat_key(rate * 100)}%" if several and rate is not None else label
            lines.append(MappedLine("discount", spec.item, 1, -amount, ctx.q(-amount), description=desc,
                                    vat_rate=rate))
    return lines, platform_disc


def _shipping(ctx: _Context) -> _Shipping:
    """Shipping as a line (with its discounts) or as the body's shipping cost (mode ``body``)."""
    pay, sp, q = ctx.order.payment, ctx.settings.shipping, ctx.q
    ship_paid = pay.shipping_fee
    ship_platform = pay.shipping_fee_platform_discount
    ship_original = pay.original_shipping_fee or (ship_paid + ship_platform + pay.shipping_fee_seller_discount
                                                  + pay.shipping_fee_cofunded_discount)
    # Derived so the parts always add up to what the buyer paid, whichever discount field TikTok used.
    ship_seller = ship_original - ship_platform - ship_paid
    lines: list[MappedLine] = []
    cost: Decimal | None = None
    ship_rate = ctx.shipping_rate()
    if sp.mode == "line":
        assert sp.item
        if ship_original:
            amount = ship_original
            if not sp.seller_discount_item:
                amount -= ship_seller
            if not sp.platform_discount_item:
                amount -= ship_platform
            lines.append(MappedLine("shipping", sp.item, 1, amount, q(amount), description="Shipping",
                                    vat_rate=ship_rate))
            if sp.seller_discount_item and ship_seller:
                lines.append(MappedLine("discount", sp.seller_discount_item, 1, -ship_seller, q(-ship_seller),
                                        description="TikTok shipping discount (seller)", vat_rate=ship_rate,
                                        on_shipping=True))
            if sp.platform_discount_item and ship_platform:
                lines.append(MappedLine("discount", sp.platform_discount_item, 1, -ship_platform, q(-ship_platform),
                                        description="TikTok shipping discount (platform, reimbursed)",
                                        vat_rate=ship_rate, on_shipping=True))
    else:
        cost = ship_paid + (ship_platform if sp.platform_discount_item else ZERO)
        if sp.platform_discount_item and ship_platform:
            lines.append(MappedLine("discount", sp.platform_discount_item, 1, -ship_platform, q(-ship_platform),
                                    description="TikTok shipping discount (platform, reimbursed)",
                                    vat_rate=ship_rate, on_shipping=True))
    return _Shipping(tuple(lines), cost, ship_platform)


def _tax(ctx: _Context, lines: list[MappedLine],
         shipping_cost: Decimal | None) -> tuple[list[MappedLine], Decimal | None, Decimal]:
    """Tax by the spec's mode: VAT taken out of inclusive prices, product and shipping tax lines, or
    nothing (NetSuite's tax codes); returns the lines, the shipping cost and the order's tax total."""
    pay, tx, currency = ctx.order.payment, ctx.settings.tax, ctx.order.currency
    tax_total = pay.tax
    ship_tax = pay.shipping_fee_tax
    if ctx.cancelled:
        product_tax = sum((li.tax for li in ctx.live), ZERO)
        tax_total = product_tax + ship_tax
    else:
        product_tax = pay.product_tax if pay.product_tax or not tax_total else tax_total - ship_tax
        if product_tax + ship_tax != tax_total:
            product_tax = tax_total - ship_tax
    if tx.mode == "inclusive":
        tiktok = _tiktok_vat_by_rate(ctx, lines)
        lines, shipping_cost, _ship_vat, by_rate = split_vat(lines, shipping_cost, ctx.shipping_rate(), currency,
                                                              tiktok)
        if tx.codes:
            uncoded = sorted(vat_key(r) for r in by_rate if tx.code_for(r) is None)
            if uncoded:
                raise NeedsHumanError(
                    f"order {ctx.order.id} has VAT at {', '.join(uncoded)} and orders.yaml tax.codes has no tax code "
                    "for it", code="VAT_RATE_UNMAPPED", owner="admin",
                    fix_hint="Add \"<rate>\": <NetSuite tax code> under tax.codes in orders.yaml (the rate as TikTok "
                    "gives it, e.g. \"0.07\"), then replay.",
                    evidence=Evidence.of("bridge", "map order", details={"rates": uncoded,
                                                                         "order_id": ctx.order.id}),
                    entity=ctx.entity)
        else:
            assert tx.item
            for rate, vat in by_rate.items():
                if vat:
                    lines.append(MappedLine("tax", tx.item, 1, vat, vat, description=(
                        f"VAT {vat_key(rate * 100)}% (included in TikTok's prices)")))
    if tx.mode in ("line", "inclusive") and (product_tax or ship_tax):
        if not tx.item:
            raise NeedsHumanError(
                f"order {ctx.order.id}: TikTok charged {tax_total} {currency} tax on top of the prices and "
                "orders.yaml names no tax item", code="TOTAL_MISMATCH", owner="admin",
                fix_hint="Set tax.item in orders.yaml (the item TikTok's tax on top posts to), then replay.",
                entity=ctx.entity)
        if product_tax:
            lines.append(MappedLine("tax", tx.item, 1, product_tax, ctx.q(product_tax),
                                    description="Sales tax (TikTok)"))
        if ship_tax:
            lines.append(MappedLine("tax", tx.shipping_item or tx.item, 1, ship_tax, ctx.q(ship_tax),
                                    description="Shipping tax (TikTok)"))
    return lines, shipping_cost, tax_total


def _fee_lines(ctx: _Context) -> list[MappedLine]:
    """Other buyer-paid fees (``FEE_FIELDS``) on the items orders.yaml names; an unnamed one needs a person."""
    pay, settings = ctx.order.payment, ctx.settings
    lines: list[MappedLine] = []
    unmapped_fees: dict[str, str] = {}
    for fee_field in sorted(FEE_FIELDS + LINE_FEE_FIELDS):
        if fee_field in LINE_FEE_FIELDS:
            amount = sum((getattr(li, fee_field) for li in ctx.live), ZERO)
        else:
            amount = getattr(pay, fee_field)
        if fee_field == "retail_delivery_fee" and ctx.cancelled:
            amount = sum((li.retail_delivery_fee for li in ctx.live), ZERO) or amount
        if not amount:
            continue
        fee_item = settings.fees.get(fee_field) or settings.fee_item  # type: ignore[call-overload]
        if not fee_item:
            unmapped_fees[fee_field] = str(amount)
            continue
        lines.append(MappedLine("fee", fee_item, 1, amount, ctx.q(amount), description=fee_field.replace("_", " ")))
    if unmapped_fees:
        raise NeedsHumanError(
            f"order {ctx.order.id}: the buyer paid {', '.join(f'{k} {v}' for k, v in unmapped_fees.items())} "
            f"{ctx.order.currency} and orders.yaml names no item for it",
            code="UNMAPPED_FEE", owner="admin",
            fix_hint="Set fee_item in orders.yaml (an other-charge item for buyer-paid TikTok fees; one fee can "
            "go elsewhere under fees.<field>), then replay.",
            evidence=Evidence.of("bridge", "map order", details={"fees": unmapped_fees, "order_id": ctx.order.id}),
            entity=ctx.entity)
    return lines


PFAND = "pfand fee"


def _pfand_reading(ctx: _Context, lines: list[MappedLine], shipping_cost: Decimal | None,
                   tax_total: Decimal) -> tuple[list[MappedLine], bool]:
    """TikTok's pages do not say whether a line item's ``pfand_fee`` (German deposit) is inside
    ``total_amount`` on top of the prices (its formula names neither it nor the other buyer fees) or
    inside the sale prices. Both readings are taken, explicitly: on top (a fee line, like the retail
    delivery fee) when that reconciles; inside the prices (no fee line, the deposit stays in the product
    amounts) only when that reconciles to the cent; otherwise the order stays on the fee-line reading,
    whose mismatch names the field. Returns the lines and whether the deposit is on top."""
    if not any(li.pfand_fee for li in (*ctx.live, *ctx.cancelled)):
        return lines, True
    expected, computed = _totals(ctx, lines, shipping_cost, tax_total, pfand_on_top=True)
    if expected == computed:
        return lines, True
    inside = [ln for ln in lines if not (ln.kind == "fee" and ln.description == PFAND)]
    expected, computed = _totals(ctx, inside, shipping_cost, tax_total, pfand_on_top=False)
    if expected == computed:
        return inside, False
    return lines, True


def _totals(ctx: _Context, lines: list[MappedLine], shipping_cost: Decimal | None, tax_total: Decimal,
            pfand_on_top: bool = True) -> tuple[Decimal, Decimal]:
    """TikTok's total for the live lines, and what NetSuite's lines add up to."""
    order, settings, q = ctx.order, ctx.settings, ctx.q
    pay, tx = order.payment, settings.tax
    expected = pay.total_amount
    if ctx.cancelled:
        expected -= sum((li.sale_price + li.tax + li.retail_delivery_fee
                         + (li.pfand_fee if pfand_on_top else ZERO) for li in ctx.cancelled), ZERO)
    if tx.mode == "none":
        expected -= tax_total
    expected = q(expected)
    computed = q(sum((ln.amount for ln in lines), ZERO) + (shipping_cost or ZERO))
    if tx.mode == "taxcode":
        computed += q(tax_total)  # NetSuite computes its own tax; the flow reconciles after the write
    if tx.mode == "inclusive" and tx.codes:
        computed += sum((ln.vat for ln in lines), ZERO)  # each line's VAT rides on its tax code (tax1Amt)
    return expected, computed


def _reconcile(ctx: _Context, lines: list[MappedLine], shipping_cost: Decimal | None, tax_total: Decimal,
               pfand_on_top: bool = True) -> _Total:
    """NetSuite's lines against TikTok's total to the cent: a difference within ``rounding.max`` goes on
    the rounding item, any other needs a person (never a wrong sales order)."""
    order, settings = ctx.order, ctx.settings
    pay = order.payment
    expected, computed = _totals(ctx, lines, shipping_cost, tax_total, pfand_on_top)
    diff = expected - computed
    if not diff:
        return _Total(expected, computed, ZERO)
    rs = settings.rounding
    if rs.item and abs(diff) <= rs.max:
        return _Total(expected, computed, diff)
    pfand = sum((li.pfand_fee for li in ctx.live), ZERO)
    raise NeedsHumanError(
        f"order {order.id}: NetSuite lines add up to {computed} {order.currency} but TikTok's total is {expected}"
        + (f" (the line items carry pfand_fee {pfand}: neither on top of the prices nor inside them reconciles)"
           if pfand else ""),
        code="TOTAL_MISMATCH",
        owner="admin",
        fix_hint="A buyer-paid amount is not mapped (see the breakdown): map it under fees/tax/shipping in "
        "orders.yaml, or set rounding.item and rounding.max for small differences, then replay.",
        evidence=Evidence.of("bridge", "reconcile order", details={
            "expected_total": str(expected), "computed_total": str(computed), "difference": str(diff),
            "payment": {k: str(v) for k, v in pay.model_dump().items() if isinstance(v, Decimal) and v},
            "lines": [{"kind": ln.kind, "item": ln.item_id, "amount": str(ln.amount)} for ln in lines],
            **({"pfand_fee": str(pfand)} if pfand else {}),
        }),
        entity=ctx.entity,
    )


def _record_body(ctx: _Context, staged: bool, hold: str, time_zone: str,
                 shipping_cost: Decimal | None) -> tuple[dict[str, Any], str | None]:
    """The record's body fields (everything but the item rows and the customer), and the location its
    product lines ship from."""
    order, shop_id, settings, entity = ctx.order, ctx.shop_id, ctx.settings, ctx.entity
    attrs = _order_attrs(order)
    record: dict[str, Any] = {
        "externalId": external_id(shop_id, order.id),
        "otherRefNum": order.id,
        "memo": settings.memo.format(order_id=order.id, shop_id=shop_id)[:999],
        "custbody_ttns_order_id": order.id,
        "custbody_ttns_shop_id": shop_id,
        "custbody_ttns_source": SOURCE_MARK,
        "custbody_ttns_sync_status": "ON_HOLD" if staged or hold else "SYNCED",
    }
    if hold:
        record["custbody_ttns_hold_reason"] = hold[:300]
    when = order.paid_time or order.create_time
    if when is not None:
        record["tranDate"] = posting_date(when, time_zone).isoformat()
    if settings.subsidiary:
        record["subsidiary"] = ns_ref(settings.subsidiary)
    location = settings.fbt_location if order.is_fbt and settings.fbt_location else resolve_dimension(
        settings.location, attrs)
    if order.is_fbt and not settings.fbt_location:
        raise NeedsHumanError(
            f"order {order.id} is fulfilled by TikTok but orders.yaml has no fbt_location",
            code="FBT_LOCATION_UNMAPPED", owner="admin",
            fix_hint="Set fbt_location in orders.yaml to the NetSuite location that holds stock at TikTok's "
            "warehouses, then replay.", entity=entity)
    if location:
        record["location"] = ns_ref(location)
    for name, dim in (("department", settings.department), ("class", settings.class_)):
        value = resolve_dimension(dim, attrs)
        if value:
            record[name] = ns_ref(value)
    if settings.sales_channel:
        record["salesChannel"] = ns_ref(settings.sales_channel)
    if settings.currencies:
        currency = order.currency
        cur_id = settings.currencies.get(currency.upper())
        if cur_id is None:
            raise NeedsHumanError(
                f"order {order.id} is in {currency}, which orders.yaml does not map to a NetSuite currency",
                code="UNMAPPED_CURRENCY", owner="admin",
                fix_hint=f"Add {currency}: <NetSuite currency id> under currencies in orders.yaml, then replay.",
                entity=entity)
        record["currency"] = ns_ref(cur_id)
    payment_option = resolve_dimension(settings.payment_option, attrs)
    if payment_option is None:
        raise NeedsHumanError(
            f"no NetSuite payment method is mapped for order {order.id} "
            f"(TikTok payment method {order.payment_method_name or 'unknown'})",
            code="PAYMENT_METHOD_UNMAPPED", owner="admin",
            fix_hint="Set payment_option.default (and rules for specific TikTok payment methods) in orders.yaml; "
            "NetSuite refuses an order without one. Then replay.", entity=entity)
    record["paymentOption"] = ns_ref(payment_option)
    if settings.record_type == "salesOrder":
        type_rule = settings.order_types.get(order.order_type or "NORMAL")
        held = staged or (hold and order.status == "AWAITING_SHIPMENT")  # pending approval: not fulfillable
        status = "A" if held else (type_rule.order_status if type_rule and type_rule.order_status else "B")
        record["orderStatus"] = {"id": status}
        if type_rule and type_rule.memo:
            record["memo"] = f"{record['memo']} - {type_rule.memo}"[:999]
    if order.release_date is not None and order.order_type in ("PRE_ORDER", "BACK_ORDER", "MADE_TO_ORDER"):
        record["shipDate"] = order.release_date.date().isoformat()
    if settings.shipping.ship_method:
        record["shipMethod"] = ns_ref(settings.shipping.ship_method)
    if shipping_cost is not None:
        record["shippingCost"] = ctx.q(shipping_cost)
    if not staged:
        addr = _address(order)
        if addr:
            record["shippingAddress"] = addr
    for field_id, source in sorted(settings.body_fields.items()):
        value = _body_value(source, order, shop_id)
        if value not in (None, ""):
            record[field_id] = str(value)[:4000]
    return record, location


def _item_rows(ctx: _Context, lines: list[MappedLine], location: str | None) -> list[dict[str, Any]]:
    """The record's item rows: one per mapped line, product rows with their TikTok line-item ids."""
    tx = ctx.settings.tax
    rows: list[dict[str, Any]] = []
    for ln in lines:
        row: dict[str, Any] = {
            "item": ns_ref(ln.item_id),
            "quantity": ln.quantity,
            "rate": ln.rate,
            "amount": ln.amount,
            "price": {"id": "-1"},
        }
        if ln.description:
            row["description"] = ln.description
        if ln.kind == "product":
            row["custcol_ttns_line_item_ids"] = ",".join(ln.line_item_ids)
            if location:
                row["location"] = ns_ref(location)
            if tx.mode == "taxcode" and tx.taxcode:
                row["taxCode"] = ns_ref(tx.taxcode)
        elif tx.mode == "taxcode" and tx.exempt_taxcode:
            row["taxCode"] = ns_ref(tx.exempt_taxcode)
        if tx.mode == "inclusive" and tx.codes:
            code = tx.code_for(ln.vat_rate) if ln.vat_rate is not None else tx.exempt_taxcode
            if code:
                row["taxCode"] = ns_ref(code)
            if ln.vat_rate is not None:
                row["tax1Amt"] = ln.vat  # TikTok's VAT to the cent, not NetSuite's recomputation
        rows.append(row)
    return rows


def _address(order: Order) -> dict[str, Any]:
    a = order.recipient_address
    if not (a.address_line1 or a.full_address):
        return {}
    out: dict[str, Any] = {
        "addressee": (a.name or f"{a.first_name} {a.last_name}").strip()[:150],
        "addr1": (a.address_line1 or a.full_address)[:150],
        "city": (a.district("City") or a.post_town)[:50],
        "state": a.district("State", "Province", "County")[:30],
        "zip": a.postal_code[:36],
    }
    if a.address_line2:
        out["addr2"] = a.address_line2[:150]
    extra = " ".join(p for p in (a.address_line3, a.address_line4, a.address_detail) if p)
    if extra:
        out["addr3"] = extra[:150]
    if a.region_code:
        out["country"] = {"id": a.region_code.upper()}
    if a.phone_number:
        out["addrPhone"] = a.phone_number[:32]
    return {k: v for k, v in out.items() if v not in ("", None)}


def _customer(
    order: Order, shop_id: str, settings: OrderSettings, staged: bool
) -> tuple[dict[str, Any] | None, str | None]:
    cs = settings.customer
    if cs.strategy == "generic":
        return None, None
    if not order.user_id:
        raise NeedsHumanError(
            f"order {order.id} has no buyer user id, so no per-buyer customer can be keyed",
            code="CUSTOMER_CONFLICT", owner="ops",
            fix_hint="Use customer.strategy generic for this shop, or replay once TikTok returns the buyer id.",
            entity=order_key(shop_id, order.id))
    ext = f"{cs.external_id_prefix}-{shop_id}-{order.user_id}"
    a = order.recipient_address
    first = (a.first_name or (a.name.split(" ")[0] if a.name else "")).strip()
    last = (a.last_name or " ".join(a.name.split(" ")[1:])).strip()
    if staged or not (first or last):
        first, last = cs.fallback_name, order.user_id[-6:]
    body: dict[str, Any] = {"externalId": ext, "isPerson": cs.is_person}
    if cs.is_person:
        body.update(firstName=first[:32] or "TikTok", lastName=last[:32] or "Buyer")
    else:
        body["companyName"] = f"{first} {last}".strip()[:83]
    if order.buyer_email:
        body["email"] = order.buyer_email[:254]
    sub = cs.subsidiary or settings.subsidiary
    if sub:
        body["subsidiary"] = ns_ref(sub)
    return body, ext


def deposit_external_id(shop_id: str, order_id: str) -> str:
    return f"TTS-DEP-{shop_id}-{order_id}"


def deposit_record(
    settings: OrderSettings,
    *,
    shop_id: str,
    order_id: str,
    sales_order_id: str,
    customer: str,
    amount: Decimal,
    currency: str | None,
    tran_date: str | None,
) -> dict[str, Any]:
    """The customer deposit recording what the buyer prepaid to TikTok for one sales order (the
    settlement flow's customer-deposit mode applies payouts to these)."""
    dep = settings.deposit
    record: dict[str, Any] = {
        "externalId": deposit_external_id(shop_id, order_id),
        "customer": ns_ref(customer),
        "salesOrder": {"id": sales_order_id},
        "payment": amount,
        "memo": f"TikTok Shop order {order_id} (prepaid to TikTok)",
        "custbody_ttns_order_id": order_id,
        "custbody_ttns_shop_id": shop_id,
    }
    if dep.account:
        record["account"] = ns_ref(dep.account)
    payment_option = dep.payment_option or settings.payment_option.default
    if payment_option:
        record["paymentOption"] = ns_ref(payment_option)
    if settings.subsidiary:
        record["subsidiary"] = ns_ref(settings.subsidiary)
    if currency:
        record["currency"] = ns_ref(currency)
    if tran_date:
        record["tranDate"] = tran_date
    return record


def explain(mapped: MappedOrder) -> str:
    """A short human-readable rendering of a mapped order (dry runs, spec diffs)."""
    rows = [f"{mapped.record_type} {mapped.external_id}  total {mapped.computed_total} "
            f"(TikTok {mapped.expected_total}{', staged: on hold' if mapped.staged else ''})"]
    for ln in mapped.lines:
        ids = f"  [{','.join(ln.line_item_ids)}]" if ln.line_item_ids else ""
        rows.append(f"  {ln.kind:<8} item {ln.item_id:<8} x{ln.quantity:<3} @ {ln.rate:<10} = {ln.amount}"
                    f"  {ln.sku or ln.description}{ids}")
    if "shippingCost" in mapped.record:
        rows.append(f"  shipping cost (body) {mapped.record['shippingCost']}")
    rows.extend(f"  note: {n}" for n in mapped.notes)
    return "\n".join(rows)

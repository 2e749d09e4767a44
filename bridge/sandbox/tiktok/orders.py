"""Orders: placement (one line item per unit, stock decremented or the order refused), the status
lifecycle with ON_HOLD, address updates, search and the 202507 / 202407 serialisations.

Money identity (per order, all decimal strings in the order currency):
``sub_total = original_total_product_price - seller_discount - platform_discount``,
``shipping_fee = original_shipping_fee - shipping_fee_seller_discount - shipping_fee_platform_discount``,
``tax = product_tax + shipping_fee_tax`` and ``total_amount = sub_total + shipping_fee + tax +``
the buyer fees Get Order Detail documents (``BUYER_FEES``: retail delivery fee, small order fee, …;
zero unless ``place_order`` names them); every order-level amount is the exact sum of its line items
(cancelled ones included: the payment is what was paid at checkout). The fees documented on line
items too (``LINE_FEES``) are allocated over the units by sale price.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

from . import catalog
from .auth import VAT_RATES
from .errors import ApiError, SandboxError
from .models import LineItem, Order, Package, Sku
from .money import ZERO, allocate, dec, fmt, q
from .state import SandboxState

# Payment fee fields of Get Order Detail (202507) a buyer pays on top of goods, shipping and tax.
BUYER_FEES = ("retail_delivery_fee", "small_order_fee", "buyer_service_fee", "handling_fee",
              "shipping_insurance_fee", "item_insurance_fee")
LINE_FEES = ("retail_delivery_fee", "small_order_fee", "buyer_service_fee")  # also on each line item

STATUSES = ("UNPAID", "ON_HOLD", "AWAITING_SHIPMENT", "PARTIALLY_SHIPPING", "AWAITING_COLLECTION",
            "IN_TRANSIT", "DELIVERED", "COMPLETED", "CANCELLED")
HOLD_REGIONS = ("US", "GB")
_EU_TOWNS = {"DE": ("Hamburg", "Hamburg", "20095", "Germany"), "FR": ("Lyon", "Auvergne-Rhone-Alpes", "69001",
                                                                     "France"),
             "IT": ("Milano", "Lombardia", "20121", "Italy"), "ES": ("Valencia", "Valencia", "46001", "Spain"),
             "IE": ("Cork", "Cork", "T12 X70A", "Ireland")}
_FIRST_NAMES = ("Avery", "Jordan", "Riley", "Morgan", "Casey", "Quinn", "Harper", "Rowan", "Sage", "Emerson")
_LAST_NAMES = ("Smith", "Garcia", "Chen", "Patel", "Okafor", "Novak", "Silva", "Kim", "Brown", "Rossi")


def webhook_status(status: str) -> str:
    """Webhook 1 documents ``CANCEL`` where the order API says ``CANCELLED``."""
    return "CANCEL" if status == "CANCELLED" else status


def _fake_address(st: SandboxState, region: str) -> dict[str, Any]:
    rnd = st.rng
    first, last = rnd.choice(_FIRST_NAMES), rnd.choice(_LAST_NAMES)
    n = rnd.randrange(10, 9999)
    if region == "GB":
        line1, town, postcode, state = f"{n} High Street", "Manchester", f"M{rnd.randrange(1, 99)} 1AA", "England"
        phone = f"(+44)7{rnd.randrange(100, 999)}***{rnd.randrange(100, 999)}"
    elif region in _EU_TOWNS:
        town, state, postcode, country_name = _EU_TOWNS[region]
        line1 = f"{town}er Weg {n}" if region == "DE" else f"{n} Via {town}"
        phone = f"(+{rnd.randrange(30, 49)})1{rnd.randrange(100, 999)}***{rnd.randrange(100, 999)}"
        return {
            "name": f"{first} {last}", "first_name": first, "last_name": last, "phone_number": phone,
            "address_line1": line1, "address_line2": "", "postal_code": postcode, "region_code": region,
            "full_address": f"{line1}, {postcode} {town}, {country_name}",
            "district_info": [
                {"address_level_name": "Country", "address_name": country_name, "address_level": "L0"},
                {"address_level_name": "State", "address_name": state, "address_level": "L1"},
                {"address_level_name": "City", "address_name": town, "address_level": "L3"},
            ],
        }
    else:
        line1, town, postcode, state = f"{n} Market St", "Austin", f"7870{rnd.randrange(0, 9)}", "Texas"
        phone = f"(+1)512-***-{rnd.randrange(1000, 9999)}"
    country = "United Kingdom" if region == "GB" else "United States"
    return {
        "name": f"{first} {last}",
        "first_name": first,
        "last_name": last,
        "phone_number": phone,
        "address_line1": line1,
        "address_line2": "",
        "postal_code": postcode,
        "region_code": region,
        "full_address": f"{line1}, {town}, {state} {postcode}, {country}",
        "district_info": [
            {"address_level_name": "Country", "address_name": country, "address_level": "L0"},
            {"address_level_name": "State", "address_name": state, "address_level": "L1"},
            {"address_level_name": "City", "address_name": town, "address_level": "L3"},
        ],
        **({"post_town": town} if region == "GB" else {}),
    }


def _resolve_sku(st: SandboxState, shop_id: str, item: dict[str, Any]) -> Sku:
    if item.get("sku_id"):
        sku = st.sku(str(item["sku_id"]))
        if st.products[sku.product_id].shop_id != shop_id:
            raise SandboxError(f"sku {sku.id} belongs to another shop")
        return sku
    if item.get("seller_sku"):
        return st.sku_by_seller_sku(shop_id, str(item["seller_sku"]))
    raise SandboxError("each item needs sku_id or seller_sku")


def _pick_warehouse(st: SandboxState, shop_id: str, needs: dict[str, int], requested: str | None,
                    fbt: bool) -> str:
    if requested:
        return st.warehouse(requested, shop_id).id
    candidates = [w for w in st.shop_warehouses(shop_id) if w.fbt == fbt]
    candidates.sort(key=lambda w: (not w.is_default, w.id))
    for wh in candidates:
        if all(st.skus[s].inventory.get(wh.id, 0) >= n for s, n in needs.items()):
            return wh.id
    if not candidates:
        raise SandboxError(f"shop {shop_id} has no {'FBT' if fbt else 'seller'} warehouse", 409, "conflict")
    return candidates[0].id


def place_order(st: SandboxState, shop_id: str, items: list[dict[str, Any]], **opts: Any) -> Order:
    """Create an order (see docs/sandbox-tiktok.md for every option). Refused with
    ``SandboxError(reason="insufficient_stock")`` when the warehouse lacks stock."""
    shop = st.shop(shop_id)
    if not items:
        raise SandboxError("an order needs at least one item")
    currency = str(opts.get("currency") or shop.currency)
    if currency != shop.currency:
        raise SandboxError(f"shop {shop_id} sells in {shop.currency}, not {currency}")
    fbt = bool(opts.get("fbt"))
    resolved: list[tuple[Sku, int, dict[str, Any]]] = []
    needs: dict[str, int] = {}
    for item in items:
        sku = _resolve_sku(st, shop_id, item)
        qty = int(item.get("quantity", 1))
        if qty < 1:
            raise SandboxError("quantity must be at least 1")
        product = st.products[sku.product_id]
        if product.status != "ACTIVATE":
            raise SandboxError(f"product {product.id} is not live ({product.status})", 409, "not_live")
        resolved.append((sku, qty, item))
        needs[sku.id] = needs.get(sku.id, 0) + qty
    wid = _pick_warehouse(st, shop_id, needs, opts.get("warehouse_id"), fbt)
    wh = st.warehouses[wid]
    if wh.fbt != fbt:
        raise SandboxError(f"warehouse {wid} is {'an FBT' if wh.fbt else 'a seller'} warehouse")
    short = {s: n for s, n in needs.items() if st.skus[s].inventory.get(wid, 0) < n}
    if short:
        detail = ", ".join(f"{st.skus[s].seller_sku or s}: need {n}, have {st.skus[s].inventory.get(wid, 0)}"
                           for s, n in short.items())
        raise SandboxError(f"insufficient stock in warehouse {wid}: {detail}", 409, "insufficient_stock")
    options = st.delivery_options_of(wid)
    dopt_id = str(opts.get("delivery_option_id") or (options[0].id if options else ""))
    dopt = st.delivery_options.get(dopt_id)
    if dopt is None or dopt.warehouse_id != wid:
        raise SandboxError(f"delivery option {dopt_id} is not offered by warehouse {wid}")

    # one line item per unit; per-unit discounts from the item or allocated from order totals
    lines: list[LineItem] = []
    tax_rate = dec(opts.get("tax_rate", "0"), "tax_rate")
    vat_market = shop.region in VAT_RATES
    standard_vat = dec(opts.get("vat_rate") or VAT_RATES.get(shop.region, "0"), "vat_rate")
    for sku, qty, item in resolved:
        vat_rate = dec(item.get("vat_rate") or standard_vat, "vat_rate") if vat_market else ZERO
        pfand = q(dec(item.get("pfand_fee", "0"), "pfand_fee"), currency)
        if pfand and shop.region != "DE":
            raise SandboxError("pfand_fee is only available in the Germany market (Get Order Detail)")
        if pfand < 0:
            raise SandboxError("pfand_fee must be non-negative")
        price = q(dec(item["price"], "price"), currency) if item.get("price") is not None else sku.price
        product = st.products[sku.product_id]
        for _ in range(qty):
            lines.append(LineItem(
                id=st.ids.next("line_item"), sku_id=sku.id, product_id=product.id, seller_sku=sku.seller_sku,
                product_name=product.title, sku_name=catalog.sku_name(sku), currency=currency,
                original_price=price,
                seller_discount=q(dec(item.get("seller_discount", "0")), currency),
                platform_discount=q(dec(item.get("platform_discount", "0")), currency),
                tax=ZERO, tax_rate=tax_rate, vat_rate=vat_rate, pfand_fee=pfand,
            ))
    weights = [li.original_price for li in lines]
    for key in ("seller_discount", "platform_discount"):
        total = dec(opts.get(key, "0"), key)
        if total:
            for li, share in zip(lines, allocate(total, weights, currency), strict=True):
                setattr(li, key, getattr(li, key) + share)
    for li in lines:
        if li.seller_discount < 0 or li.platform_discount < 0 or li.sale_price < 0:
            raise SandboxError("discounts must be non-negative and not exceed the item price")
        li.tax = q(li.sale_price * tax_rate, currency)
        li.vat = li.sale_price - q(li.sale_price / (1 + li.vat_rate), currency)
    if opts.get("product_tax") is not None:
        for li, share in zip(lines, allocate(dec(opts["product_tax"]), [li.sale_price for li in lines], currency),
                             strict=True):
            li.tax = share
    ship_fee = q(dec(opts.get("shipping_fee", "0"), "shipping_fee"), currency)
    ship_seller = q(dec(opts.get("shipping_fee_seller_discount", "0")), currency)
    ship_platform = q(dec(opts.get("shipping_fee_platform_discount", "0")), currency)
    if ship_fee < 0 or ship_seller < 0 or ship_platform < 0 or ship_seller + ship_platform > ship_fee:
        raise SandboxError("shipping discounts must be non-negative and not exceed the shipping fee")
    ship_tax = (q(dec(opts["shipping_fee_tax"]), currency) if opts.get("shipping_fee_tax") is not None
                else q((ship_fee - ship_seller - ship_platform) * tax_rate, currency))

    ship_vat_rate = dec(opts.get("shipping_vat_rate") or standard_vat, "shipping_vat_rate") if vat_market else ZERO
    ship_paid = ship_fee - ship_seller - ship_platform
    ship_vat = ship_paid - q(ship_paid / (1 + ship_vat_rate), currency)

    fees = {f: q(dec(opts[f], f), currency) for f in BUYER_FEES if opts.get(f) is not None}
    if any(v < 0 for v in fees.values()):
        raise SandboxError("buyer fees must be non-negative")
    fees = {f: v for f, v in fees.items() if v}
    for f in LINE_FEES:
        if fees.get(f):
            base = [li.sale_price for li in lines]
            shares = allocate(fees[f], base if any(base) else [li.original_price for li in lines], currency)
            for li, share in zip(lines, shares, strict=True):
                li.fees[f] = share

    now = st.now()
    order = Order(
        id=st.ids.next("order"), shop_id=shop_id,
        user_id=str(opts.get("buyer_user_id") or st.ids.next("user", 19)),
        status="UNPAID", currency=currency, warehouse_id=wid, delivery_option_id=dopt.id,
        delivery_option_name=dopt.name,
        shipping_type="TIKTOK" if fbt else str(opts.get("shipping_type") or "SELLER"),
        fulfillment_type="FULFILLMENT_BY_TIKTOK" if fbt else "FULFILLMENT_BY_SELLER",
        order_type=str(opts.get("order_type") or "NORMAL"),
        create_time=now, update_time=now, line_items=lines, original_shipping_fee=ship_fee,
        shipping_fee_seller_discount=ship_seller, shipping_fee_platform_discount=ship_platform,
        shipping_fee_tax=ship_tax, address=dict(opts.get("address") or _fake_address(st, shop.region)),
        buyer_email=f"buyer{st.rng.randrange(10**6, 10**7)}@scs.tiktokw.invalid",
        buyer_message=str(opts.get("buyer_message") or ""), buyer_fees=fees, shipping_vat=ship_vat,
        affiliate_rate=dec(opts.get("affiliate_rate", "0"), "affiliate_rate"),
    )
    if order.order_type not in ("NORMAL", "PRE_ORDER", "MADE_TO_ORDER", "BACK_ORDER", "ZERO_LOTTERY"):
        raise SandboxError(f"unknown order_type {order.order_type!r}")
    if order.shipping_type not in ("TIKTOK", "SELLER"):
        raise SandboxError("shipping_type must be TIKTOK or SELLER")
    for sku_id, n in needs.items():
        catalog.reserve(st.skus[sku_id], wid, n)
    st.orders[order.id] = order
    st.order_seq.append(order.id)
    _status_event(st, order)
    if opts.get("paid", True):
        pay(st, order, hold=opts.get("hold"))
    return order


def _status_event(st: SandboxState, order: Order) -> None:
    st.emit(order.shop_id, 1, {
        "order_id": order.id,
        "order_status": webhook_status(order.status),
        "is_on_hold_order": order.is_on_hold_order,
        "update_time": order.update_time,
    })


def set_status(st: SandboxState, order: Order, status: str) -> None:
    if order.status == status:
        return
    order.status = status
    if status == "ON_HOLD":
        st.on_hold.add(order.id)
    else:
        st.on_hold.discard(order.id)
    order.update_time = st.now()
    _status_event(st, order)


def pay(st: SandboxState, order: Order, hold: bool | None = None) -> Order:
    if order.status != "UNPAID":
        raise SandboxError(f"order {order.id} is {order.status}, not UNPAID", 409, "conflict")
    region = st.shops[order.shop_id].region
    hold = (region in HOLD_REGIONS) if hold is None else bool(hold)
    order.paid_time = st.now()
    if hold:
        order.is_on_hold_order = True
        order.hold_until = st.clock.now() + st.config.hold_seconds
        set_status(st, order, "ON_HOLD")
    else:
        _ready_to_ship(st, order)
    return order


def _ready_to_ship(st: SandboxState, order: Order) -> None:
    if not order.package_ids:
        pkg = Package(
            id=st.ids.next("package"), shop_id=order.shop_id, order_id=order.id,
            line_item_ids=[li.id for li in order.active_items], status="TO_FULFILL",
            shipping_type=order.shipping_type, create_time=st.now(), update_time=st.now(),
            fbt=order.fulfillment_type == "FULFILLMENT_BY_TIKTOK",
        )
        st.packages[pkg.id] = pkg
        order.package_ids.append(pkg.id)
        for li in order.active_items:
            li.package_id = pkg.id
    set_status(st, order, "AWAITING_SHIPMENT")


def release_hold(st: SandboxState, order: Order) -> Order:
    if order.status != "ON_HOLD":
        raise SandboxError(f"order {order.id} is {order.status}, not ON_HOLD", 409, "conflict")
    order.hold_until = 0.0
    _ready_to_ship(st, order)
    return order


def expire_holds(st: SandboxState) -> int:
    """Orders whose ON_HOLD window has passed on the business clock move to AWAITING_SHIPMENT."""
    now = st.clock.now()
    due = [st.orders[i] for i in sorted(st.on_hold) if 0 < st.orders[i].hold_until <= now]
    for order in due:
        release_hold(st, order)
    return len(due)


def put_on_hold(st: SandboxState, order: Order, seconds: float | None = None) -> Order:
    if order.status not in ("AWAITING_SHIPMENT",) or any(li.shipped for li in order.line_items):
        raise SandboxError(f"order {order.id} cannot be put on hold in {order.status}", 409, "conflict")
    order.is_on_hold_order = True
    order.hold_until = st.clock.now() + (st.config.hold_seconds if seconds is None else seconds)
    set_status(st, order, "ON_HOLD")
    return order


def recompute_shipping_status(st: SandboxState, order: Order) -> None:
    active = order.active_items
    if not active:
        return
    shipped = [li for li in active if li.shipped]
    if order.status in ("AWAITING_SHIPMENT", "PARTIALLY_SHIPPING", "AWAITING_COLLECTION"):
        if len(shipped) == len(active):
            order.rts_time = order.rts_time or st.now()
            set_status(st, order, "AWAITING_COLLECTION")
        elif shipped:
            set_status(st, order, "PARTIALLY_SHIPPING")


_NEXT = {"AWAITING_COLLECTION": "IN_TRANSIT", "IN_TRANSIT": "DELIVERED", "DELIVERED": "COMPLETED"}
_PKG_FOR = {"IN_TRANSIT": "FULFILLING", "DELIVERED": "COMPLETED", "COMPLETED": "COMPLETED"}


def advance(st: SandboxState, order: Order, to: str | None = None) -> Order:
    """Move an order forward like the carrier / TikTok would, one step or until ``to``."""
    if to is not None and to not in STATUSES:
        raise SandboxError(f"unknown status {to!r}")
    for _ in range(len(STATUSES)):
        if to is not None and order.status == to:
            return order
        cur = order.status
        if cur == "UNPAID":
            pay(st, order)
        elif cur == "ON_HOLD":
            release_hold(st, order)
        elif cur in _NEXT:
            nxt = _NEXT[cur]
            now = st.now()
            for pid in order.package_ids:
                pkg = st.packages[pid]
                if pkg.status not in ("CANCELLED", "TO_FULFILL"):
                    pkg.status = _PKG_FOR[nxt]
                    pkg.update_time = now
            if nxt == "IN_TRANSIT":
                order.collection_time = now
            elif nxt == "DELIVERED":
                order.delivery_time = now
            else:
                order.completed_time = now
            set_status(st, order, nxt)
        else:
            raise SandboxError(f"order {order.id} in {cur} cannot be advanced by the sandbox "
                               "(ship it through the API, or cancel it)", 409, "conflict")
        if to is None:
            return order
    return order


def update_address(st: SandboxState, order: Order, address: dict[str, Any] | None = None) -> Order:
    if order.status in ("IN_TRANSIT", "DELIVERED", "COMPLETED", "CANCELLED"):
        raise SandboxError(f"order {order.id} address cannot change in {order.status}", 409, "conflict")
    region = st.shops[order.shop_id].region
    order.address = dict(address or _fake_address(st, region))
    order.has_updated_recipient_address = True
    order.update_time = st.now()
    st.emit(order.shop_id, 3, {"order_id": order.id, "update_time": order.update_time})
    return order


# ----------------------------------------------------------------------------------- totals
def payment_amounts(order: Order) -> dict[str, Decimal]:
    """What the buyer paid at checkout (cancelled units included: refunds are recorded on the
    cancellation / return records, not by rewriting the order's payment)."""
    items = order.line_items
    original = sum((li.original_price for li in items), ZERO)
    seller = sum((li.seller_discount for li in items), ZERO)
    platform = sum((li.platform_discount for li in items), ZERO)
    product_tax = sum((li.tax for li in items), ZERO)
    # The pages do not say whether a line's pfand_fee is inside total_amount; the sandbox charges it on top
    # (docs/sandbox-tiktok.md); the bridge's mapping accepts either reading.
    pfand = sum((li.pfand_fee for li in items), ZERO)
    ship_fee, ship_seller = order.original_shipping_fee, order.shipping_fee_seller_discount
    ship_platform, ship_tax = order.shipping_fee_platform_discount, order.shipping_fee_tax
    sub_total = original - seller - platform
    shipping = ship_fee - ship_seller - ship_platform
    tax = product_tax + ship_tax
    return {
        "original_total_product_price": original,
        "seller_discount": seller,
        "platform_discount": platform,
        "sub_total": sub_total,
        "original_shipping_fee": ship_fee,
        "shipping_fee_seller_discount": ship_seller,
        "shipping_fee_platform_discount": ship_platform,
        "shipping_fee_cofunded_discount": ZERO,
        "shipping_fee": shipping,
        "product_tax": product_tax,
        "shipping_fee_tax": ship_tax,
        "tax": tax,
        **{f: order.buyer_fees.get(f, ZERO) for f in BUYER_FEES},
        "total_amount": sub_total + shipping + tax + sum(order.buyer_fees.values(), ZERO) + pfand,
    }


# ---------------------------------------------------------------------------- serialisation
def _line_display_status(st: SandboxState, order: Order, li: LineItem) -> tuple[str, str]:
    if li.cancelled:
        return "CANCELLED", "CANCELLED"
    pkg = st.packages.get(li.package_id) if li.package_id else None
    pstatus = pkg.status if pkg else "TO_FULFILL"
    if order.status in ("UNPAID",):
        return "UNPAID", pstatus
    if order.status in ("ON_HOLD", "AWAITING_SHIPMENT") or (order.status == "PARTIALLY_SHIPPING" and not li.shipped):
        return "AWAITING_SHIPMENT", pstatus
    if order.status == "PARTIALLY_SHIPPING":
        return "AWAITING_COLLECTION", pstatus
    return order.status, pstatus


def order_json(st: SandboxState, order: Order) -> dict[str, Any]:
    cur = order.currency
    region = st.shops[order.shop_id].region
    pay_amounts = payment_amounts(order)
    payment = {k: fmt(v, cur) for k, v in pay_amounts.items()}
    payment["currency"] = cur
    items = []
    for li in order.line_items:
        display, pstatus = _line_display_status(st, order, li)
        entry: dict[str, Any] = {
            "id": li.id,
            "sku_id": li.sku_id,
            "product_id": li.product_id,
            "product_name": li.product_name,
            "sku_name": li.sku_name,
            "sku_image": f"https://p16-sandbox.tiktokcdn.invalid/{li.product_id}-main~tplv-origin.jpeg",
            "seller_sku": li.seller_sku,
            "currency": cur,
            "original_price": fmt(li.original_price, cur),
            "sale_price": fmt(li.sale_price, cur),
            "seller_discount": fmt(li.seller_discount, cur),
            "platform_discount": fmt(li.platform_discount, cur),
            "display_status": display,
            "package_status": pstatus,
            "package_id": li.package_id,
            "is_gift": False,
            "sku_type": "NORMAL",
            # US sales tax only, as documented (VAT markets give each line's VAT in Get Price Detail)
            "item_tax": [{"tax_type": "SALES_TAX", "tax_amount": fmt(li.tax, cur),
                          "tax_rate": f"{li.tax_rate.normalize():f}"}] if region == "US" else [],
            "rts_time": li.rts_time,
            "tracking_number": li.tracking_number,
            "shipping_provider_id": li.provider_id,
            "shipping_provider_name": li.provider_name,
            **{f: fmt(li.fees.get(f, ZERO), cur) for f in LINE_FEES},
        }
        if region == "DE":
            entry["pfand_fee"] = fmt(li.pfand_fee, cur)
        if li.cancelled:
            entry["cancel_user"] = li.cancel_user
            entry["cancel_reason"] = li.cancel_reason
        items.append(entry)
    shipped = [li for li in order.active_items if li.tracking_number]
    out: dict[str, Any] = {
        "id": order.id,
        "status": order.status,
        "user_id": order.user_id,
        "buyer_email": order.buyer_email,
        "buyer_message": order.buyer_message,
        "create_time": order.create_time,
        "update_time": order.update_time,
        "paid_time": order.paid_time,
        "payment": payment,
        "line_items": items,
        "packages": [{"id": p} for p in order.package_ids if st.packages[p].status != "CANCELLED"],
        "warehouse_id": order.warehouse_id,
        "delivery_option_id": order.delivery_option_id,
        "delivery_option_name": order.delivery_option_name,
        "delivery_type": "HOME_DELIVERY",
        "shipping_type": order.shipping_type,
        "fulfillment_type": order.fulfillment_type,
        "order_type": "" if order.order_type == "NORMAL" else order.order_type,
        "is_on_hold_order": order.is_on_hold_order,
        "is_cod": False,
        "is_sample_order": False,
        "is_replacement_order": False,
        "is_exchange_order": False,
        "is_buyer_request_cancel": order.is_buyer_request_cancel,
        "has_updated_recipient_address": order.has_updated_recipient_address,
        "payment_method_name": "Credit card",
        "seller_note": order.seller_note,
        "commerce_platform": "TIKTOK_SHOP",
        "split_or_combine_tag": "SPLIT" if len(order.package_ids) > 1 else "",
        "rts_sla_time": (order.paid_time + 3 * 86400) if order.paid_time else 0,
        "tts_sla_time": (order.paid_time + 5 * 86400) if order.paid_time else 0,
        "cancel_order_sla_time": order.create_time + 86400 if order.status == "UNPAID" else 0,
    }
    if order.status not in ("UNPAID", "ON_HOLD"):
        out["recipient_address"] = dict(order.address)  # not available under UNPAID and ON_HOLD
    if shipped:
        out["tracking_number"] = shipped[0].tracking_number
        out["shipping_provider"] = shipped[0].provider_name
        out["shipping_provider_id"] = shipped[0].provider_id
    for name, value in (("rts_time", order.rts_time), ("collection_time", order.collection_time),
                        ("delivery_time", order.delivery_time), ("cancel_time", order.cancel_time),
                        ("request_cancel_time", order.request_cancel_time)):
        if value:
            out[name] = value
    if order.status == "CANCELLED" or order.cancel_reason:
        out["cancel_reason"] = order.cancel_reason
        out["cancellation_initiator"] = order.cancellation_initiator
    return out


def price_detail_json(order: Order) -> dict[str, Any]:
    """Get Price Detail: in VAT-inclusive markets the sale prices are shown net and each line's VAT
    is its ``subtotal_tax_amount`` (``subtotal`` = net + VAT = what the buyer paid), so ``payment``
    stays what the buyer paid; US sales tax is on top, as in Get Order Detail."""
    cur = order.currency

    def block(items: list[LineItem], ship: tuple[Decimal, Decimal, Decimal, Decimal, Decimal]) -> dict[str, Any]:
        ship_list, ship_seller, ship_platform, ship_tax, ship_vat = ship
        ded_seller = sum((li.seller_discount for li in items), ZERO)
        ded_platform = sum((li.platform_discount for li in items), ZERO)
        sub_vat = sum((li.vat for li in items), ZERO)
        sku_sale = sum((li.sale_price for li in items), ZERO) - sub_vat
        sku_list = sku_sale + ded_seller + ded_platform
        sub_tax = sum((li.tax for li in items), ZERO) + sub_vat
        ship_sale = ship_list - ship_seller - ship_platform - ship_vat
        tax = sub_tax + ship_tax + ship_vat
        first = items[0] if items else None
        rate = (first.vat_rate or first.tax_rate) if first else ZERO
        return {
            "currency": cur,
            "total": fmt(sku_list + ship_list - ship_vat, cur),
            "payment": fmt(sku_sale + ship_sale + tax, cur),
            "sku_list_price": fmt(sku_list, cur),
            "sku_sale_price": fmt(sku_sale, cur),
            "subtotal": fmt(sku_sale + sub_tax, cur),
            "subtotal_deduction_seller": fmt(ded_seller, cur),
            "subtotal_deduction_platform": fmt(ded_platform, cur),
            "subtotal_tax_amount": fmt(sub_tax, cur),
            "shipping_list_price": fmt(ship_list - ship_vat, cur),
            "shipping_sale_price": fmt(ship_sale, cur),
            "shipping_fee_deduction_seller": fmt(ship_seller, cur),
            "shipping_fee_deduction_platform": fmt(ship_platform, cur),
            "tax_amount": fmt(tax, cur),
            "tax_rate": f"{rate.normalize():f}",
            "net_price_amount": fmt(sku_sale + sub_tax, cur),
            "cod_fee": "0.00",
            "cod_fee_net_amount": "0.00",
            "sku_gift_original_price": "0.00",
            "sku_gift_net_price": "0.00",
        }

    active = order.line_items
    pay_amounts = payment_amounts(order)
    ship = (pay_amounts["original_shipping_fee"], pay_amounts["shipping_fee_seller_discount"],
            pay_amounts["shipping_fee_platform_discount"], pay_amounts["shipping_fee_tax"], order.shipping_vat)
    weights = [li.original_price for li in active]
    shares = [allocate(part, weights, cur) for part in ship] if active else []
    out = block(active, ship)
    lines = []
    for i, li in enumerate(active):
        entry = block([li], (shares[0][i], shares[1][i], shares[2][i], shares[3][i], shares[4][i]))
        entry["id"] = li.id
        entry["cod_fee_amount"] = entry.pop("cod_fee_net_amount")
        lines.append(entry)
    out["line_items"] = lines
    return out


# ----------------------------------------------------------------------------------- search
def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"sbx:{offset}".encode()).decode()


def decode_token(token: str | None, code: int, message: str) -> int:
    if not token:
        return 0
    try:
        raw = base64.urlsafe_b64decode(token.encode()).decode()
        prefix, offset = raw.split(":", 1)
        if prefix != "sbx" or int(offset) < 0:
            raise ValueError(raw)
        return int(offset)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(code, message) from None


def _in_range(value: int, ge: Any, lt: Any) -> bool:
    return (ge is None or value >= int(ge)) and (lt is None or value < int(lt))


def search_orders(st: SandboxState, shop_id: str, query: dict[str, str], body: dict[str, Any],
                  invalid_code: int) -> dict[str, Any]:
    page_size = int(query.get("page_size") or 20)
    sort_field = query.get("sort_field") or "create_time"
    desc = (query.get("sort_order") or "DESC") == "DESC"
    offset = decode_token(query.get("page_token"), invalid_code, "Invalid page_token")
    status = body.get("order_status")
    buyer = body.get("buyer_user_id")
    wh = set(body.get("warehouse_ids") or [])
    shipping_type = body.get("shipping_type")
    cancel_req = body.get("is_buyer_request_cancel")
    cge, clt = body.get("create_time_ge"), body.get("create_time_lt")
    uge, ult = body.get("update_time_ge"), body.get("update_time_lt")
    matches = []
    for oid in st.order_seq:  # creation order, i.e. create_time ascending
        o = st.orders[oid]
        if o.shop_id != shop_id:
            continue
        if status and o.status != status:
            continue
        if buyer and o.user_id != buyer:
            continue
        if wh and o.warehouse_id not in wh:
            continue
        if shipping_type and o.shipping_type != shipping_type:
            continue
        if cancel_req is not None and o.is_buyer_request_cancel != bool(cancel_req):
            continue
        if (cge is not None or clt is not None) and not _in_range(o.create_time, cge, clt):
            continue
        if (uge is not None or ult is not None) and not _in_range(o.update_time, uge, ult):
            continue
        matches.append(o)
    if sort_field == "create_time":
        if desc:
            matches.reverse()
    else:
        matches.sort(key=lambda o: (o.update_time, o.create_time), reverse=desc)
    page = matches[offset: offset + page_size]
    nxt = offset + page_size
    return {
        "orders": [order_json(st, o) for o in page],
        "next_page_token": encode_token(nxt) if nxt < len(matches) else "",
        "total_count": len(matches),
    }

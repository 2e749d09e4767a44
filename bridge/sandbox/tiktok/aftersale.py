"""Cancellations (buyer / system / seller, full or line-level) and returns / refunds, with the
refund-amount breakdown and the reject-reason lists from the digest."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from . import catalog, orders
from .digest import load_digest
from .errors import ApiError, SandboxError
from .models import Cancellation, LineItem, Order, ReturnRecord
from .money import ZERO, fmt
from .state import SandboxState

# The webhook page spells the withdrawn state CANCELLATION_REQUEST_CANCELLED; the cancel and
# search endpoints spell it CANCELLATION_REQUEST_CANCEL (docs/sandbox-tiktok.md).
_WEBHOOK_CANCEL_STATUS = {"CANCELLATION_REQUEST_CANCEL": "CANCELLATION_REQUEST_CANCELLED"}
_DEFAULT_REASONS = {
    "BUYER": "ecom_order_to_ship_canceled_reason_no_longer_needed",
    "SYSTEM": "system_cancel_order_reason_shipping_timeout",
    "SELLER": "seller_cancel_reason_out_of_stock",
    "OPERATOR": "system_cancel_order_reason_experience_related",
}


def _refuse(code: int, message: str) -> ApiError:
    return ApiError(code, message)


def reasons(kind: str, region: str, role: str) -> list[dict[str, Any]]:
    table: dict[str, Any] = load_digest().reasons.get(kind, {})
    return list(table.get(region, {}).get(role, []))


def _market_reason(kind: str, region: str, role: str, name: str) -> dict[str, Any] | None:
    return next((r for r in reasons(kind, region, role) if r["name"] == name), None)


# ------------------------------------------------------------------------------ cancellations
def _cancel_event(st: SandboxState, c: Cancellation) -> None:
    st.emit(c.shop_id, 11, {
        "order_id": c.order_id,
        "cancellations_role": c.role if c.role in ("BUYER", "SELLER", "SYSTEM") else "SYSTEM",
        "cancel_status": _WEBHOOK_CANCEL_STATUS.get(c.status, c.status),
        "cancel_id": c.id,
        "create_time": c.create_time,
    })


def _apply_cancel(st: SandboxState, order: Order, line_ids: list[str], role: str, reason: str) -> None:
    now = st.now()
    units: dict[str, int] = {}
    for li in order.line_items:
        if li.id in line_ids and not li.cancelled:
            li.cancelled = True
            li.cancel_user = role
            li.cancel_reason = reason
            if not li.shipped:
                units[li.sku_id] = units.get(li.sku_id, 0) + 1
            if li.package_id and li.package_id in st.packages:
                pkg = st.packages[li.package_id]
                pkg.line_item_ids = [x for x in pkg.line_item_ids if x != li.id]
                pkg.update_time = now
                if not pkg.line_item_ids:
                    pkg.status = "CANCELLED"
    for sku_id, n in units.items():
        if sku_id in st.skus:
            catalog.release(st.skus[sku_id], order.warehouse_id, n)
    order.is_buyer_request_cancel = False
    if not order.active_items:
        order.cancel_time = now
        order.cancel_reason = reason
        order.cancellation_initiator = role if role in ("BUYER", "SELLER", "SYSTEM") else "SYSTEM"
        orders.set_status(st, order, "CANCELLED")
    else:
        order.update_time = now
        orders.recompute_shipping_status(st, order)


def _new_cancellation(st: SandboxState, order: Order, role: str, cancel_type: str, status: str, reason: str,
                      line_ids: list[str]) -> Cancellation:
    now = st.now()
    c = Cancellation(id=st.ids.next("cancel", 19), shop_id=order.shop_id, order_id=order.id, role=role,
                     cancel_type=cancel_type, status=status, reason=reason, line_item_ids=list(line_ids),
                     create_time=now, update_time=now)
    st.cancellations[c.id] = c
    return c


def request_cancel(st: SandboxState, order_id: str, role: str = "BUYER", line_item_ids: list[str] | None = None,
                   reason: str | None = None) -> Cancellation:
    """A buyer, the system or an operator cancels (control API). Buyer cancellations of paid,
    unshipped orders wait for the seller (BUYER_CANCEL, PENDING); UNPAID and ON_HOLD ones are
    accepted by the platform at once, as are system / operator cancellations."""
    role = role.upper()
    if role not in ("BUYER", "SYSTEM", "OPERATOR", "SELLER"):
        raise SandboxError("role must be BUYER, SYSTEM, OPERATOR or SELLER")
    order = st.order(order_id)
    if order.status in ("CANCELLED", "COMPLETED", "DELIVERED"):
        raise SandboxError(f"order {order_id} is {order.status}", 409, "conflict")
    ids = [str(x) for x in line_item_ids] if line_item_ids else [li.id for li in order.active_items]
    known = {li.id: li for li in order.line_items}
    for lid in ids:
        if lid not in known or known[lid].cancelled:
            raise SandboxError(f"line item {lid} is not an active item of order {order_id}")
    if role == "BUYER" and line_item_ids and len(ids) != len(order.active_items):
        raise SandboxError("buyers cannot cancel individual line items (docs: only whole orders)")
    if any(known[lid].shipped for lid in ids) and role == "BUYER":
        raise SandboxError("shipped items cannot be cancelled by the buyer; request a refund instead", 409)
    if any(c.order_id == order.id and c.status == "CANCELLATION_REQUEST_PENDING" for c in st.cancellations.values()):
        raise SandboxError(f"order {order_id} already has a pending cancellation", 409, "conflict")
    reason = reason or _DEFAULT_REASONS[role]
    if role == "BUYER" and order.status in ("AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"):
        c = _new_cancellation(st, order, role, "BUYER_CANCEL", "CANCELLATION_REQUEST_PENDING", reason, ids)
        order.is_buyer_request_cancel = True
        order.request_cancel_time = c.create_time
        order.update_time = c.create_time
        _cancel_event(st, c)
        return c
    ctype = "BUYER_CANCEL" if role == "BUYER" and order.status == "UNPAID" else "CANCEL"
    c = _new_cancellation(st, order, role, ctype, "CANCELLATION_REQUEST_COMPLETE", reason, ids)
    _apply_cancel(st, order, ids, role, reason)
    _cancel_event(st, c)
    return c


def own_cancellation(st: SandboxState, shop_id: str, cancel_id: str) -> Cancellation:
    c = st.cancellations.get(cancel_id)
    if c is None or c.shop_id != shop_id:
        raise _refuse(25007006, "Order not found.")
    return c


def approve_cancellation(st: SandboxState, shop_id: str, cancel_id: str) -> dict[str, Any]:
    c = own_cancellation(st, shop_id, cancel_id)
    if c.status != "CANCELLATION_REQUEST_PENDING":
        raise _refuse(25020003, "decision not match reverse status")
    order = st.orders[c.order_id]
    if any(li.shipped for li in order.line_items if li.id in c.line_item_ids):
        raise _refuse(25001045, "The order has already been shipped and we are unable to cancel shipment with the "
                                "courier.")
    c.status = "CANCELLATION_REQUEST_SUCCESS"
    c.update_time = st.now()
    _cancel_event(st, c)
    _apply_cancel(st, order, c.line_item_ids, c.role, c.reason)
    c.status = "CANCELLATION_REQUEST_COMPLETE"
    _cancel_event(st, c)
    return {}


def reject_cancellation(st: SandboxState, shop_id: str, cancel_id: str, body: dict[str, Any]) -> dict[str, Any]:
    c = own_cancellation(st, shop_id, cancel_id)
    if c.status != "CANCELLATION_REQUEST_PENDING":
        raise _refuse(25020003, "decision not match reverse status")
    region = st.shops[shop_id].region
    if _market_reason("cancel", region, "seller_reject", body["reject_reason"]) is None:
        raise _refuse(25001014, "Unknown return reason. Please ensure you are passing a valid return reason.")
    c.status = "CANCELLATION_REQUEST_CANCEL"
    c.reject_reason = body["reject_reason"]
    c.update_time = st.now()
    order = st.orders[c.order_id]
    order.is_buyer_request_cancel = False
    order.update_time = c.update_time
    _cancel_event(st, c)
    return {}


def seller_cancel(st: SandboxState, shop_id: str, body: dict[str, Any]) -> dict[str, Any]:
    order = st.orders.get(str(body["order_id"]))
    if order is None or order.shop_id != shop_id:
        raise _refuse(25020005, "No permission to process this order")
    region = st.shops[shop_id].region
    if order.status in ("CANCELLED", "COMPLETED"):
        raise _refuse(25001051, "Not allowed to return or cancel since order is completed or cancelled")
    reason_name = str(body["cancel_reason"])
    reason = _market_reason("cancel", region, "seller_initiate", reason_name)
    if reason is None:
        known = any(_market_reason("cancel", region, r, reason_name)
                    for r in ("buyer_initiate", "system", "operator", "seller_reject"))
        if known:
            raise _refuse(25001015, "The provided return reason cannot be used by the seller.")
        raise _refuse(25001014, "Unknown return reason. Please ensure you are passing a valid return reason.")
    status_key = order.status if order.status != "PARTIALLY_SHIPPING" else "AWAITING_SHIPMENT"
    if reason["statuses"] and status_key not in reason["statuses"]:
        raise _refuse(25001021, "Reason not match order status")
    if any(c.order_id == order.id and c.status == "CANCELLATION_REQUEST_PENDING" for c in st.cancellations.values()):
        raise _refuse(25001011, "A return request is already in process, or the order has already been cancelled.")
    line_ids = [str(x) for x in body.get("order_line_item_ids") or []]
    for sku_req in body.get("skus") or []:
        wanted = int(sku_req["quantity"])
        pool = [li.id for li in order.active_items if li.sku_id == str(sku_req["sku_id"]) and li.id not in line_ids]
        if len(pool) < wanted:
            raise _refuse(25005011, "The requested line item(s) for return or refund exceeds the allowable limit.")
        line_ids += pool[:wanted]
    active = {li.id: li for li in order.active_items}
    if line_ids:
        if any(lid not in active for lid in line_ids):
            raise _refuse(25001001, "An invalid request parameter was passed. Unknown or cancelled line item.")
        partial = len(set(line_ids)) < len(active)
        if partial and (region not in ("US", "GB") or "out_of_stock" not in reason_name):
            raise _refuse(25005010, "Unable to cancel individual line items within this request.")
    else:
        line_ids = list(active)
    if any(active[lid].shipped for lid in line_ids):
        raise _refuse(25001045, "The order has already been shipped and we are unable to cancel shipment with the "
                                "courier.")
    c = _new_cancellation(st, order, "SELLER", "CANCEL", "CANCELLATION_REQUEST_COMPLETE", reason_name, line_ids)
    _apply_cancel(st, order, line_ids, "SELLER", reason_name)
    _cancel_event(st, c)
    return {"cancel_id": c.id, "cancel_status": c.status}


# ------------------------------------------------------------------------------------ returns
def _return_event(st: SandboxState, r: ReturnRecord) -> None:
    st.emit(r.shop_id, 12, {
        "order_id": r.order_id,
        "return_role": r.role,
        "return_type": r.return_type,
        "return_status": r.status,
        "return_id": r.id,
        "create_time": r.create_time,
        "update_time": r.update_time,
    })


def request_return(st: SandboxState, order_id: str, line_item_ids: list[str] | None = None,
                   return_type: str = "RETURN_AND_REFUND", reason: str | None = None,
                   role: str = "BUYER", refund_shipping: bool = False) -> ReturnRecord:
    """The buyer asks for a refund (REFUND, from AWAITING_COLLECTION on) or a return and refund
    (RETURN_AND_REFUND, once DELIVERED). ``line_item_ids`` defaults to every shipped unit."""
    order = st.order(order_id)
    if return_type not in ("REFUND", "RETURN_AND_REFUND"):
        raise SandboxError("return_type must be REFUND or RETURN_AND_REFUND")
    allowed = ("DELIVERED",) if return_type == "RETURN_AND_REFUND" else (
        "AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED")
    if order.status not in allowed:
        raise SandboxError(f"a {return_type} cannot be requested for an order in {order.status}", 409, "conflict")
    busy = {lid for r in st.returns.values() if r.order_id == order.id
            and r.status not in ("REFUND_OR_RETURN_REQUEST_REJECT", "RETURN_OR_REFUND_REQUEST_CANCEL")
            for lid in r.line_item_ids}
    shipped = {li.id: li for li in order.active_items if li.shipped}
    ids = [str(x) for x in line_item_ids] if line_item_ids else [i for i in shipped if i not in busy]
    if not ids:
        raise SandboxError("no returnable line items", 409, "conflict")
    for lid in ids:
        if lid not in shipped:
            raise SandboxError(f"line item {lid} is not a shipped, active item of order {order_id}")
        if lid in busy:
            raise SandboxError(f"line item {lid} already has a return request", 409, "conflict")
    region = st.shops[order.shop_id].region
    kind = "refund" if return_type == "REFUND" else "return"
    if reason is None:
        opts = [r for r in reasons(kind, region, "buyer_initiate")
                if not r["statuses"] or order.status in r["statuses"]]
        reason = opts[0]["name"] if opts else "ecom_order_delivered_refund_and_return_reason_no_need"
    now = st.now()
    rec = ReturnRecord(id=st.ids.next("return", 19), shop_id=order.shop_id, order_id=order.id, role=role.upper(),
                       return_type=return_type, status="RETURN_OR_REFUND_REQUEST_PENDING", reason=reason,
                       line_item_ids=ids, create_time=now, update_time=now, refund_shipping=refund_shipping)
    st.returns[rec.id] = rec
    _return_event(st, rec)
    return rec


def _set_return_status(st: SandboxState, r: ReturnRecord, status: str) -> None:
    r.status = status
    r.update_time = st.now()
    if status == "RETURN_OR_REFUND_REQUEST_COMPLETE":
        r.refunded = True
        order = st.orders[r.order_id]
        for li in order.line_items:
            if li.id in r.line_item_ids:
                li.refunded = True
        order.update_time = r.update_time
    _return_event(st, r)


def buyer_ships_return(st: SandboxState, return_id: str, tracking_number: str | None = None) -> ReturnRecord:
    r = st.returns.get(return_id)
    if r is None:
        raise SandboxError(f"unknown return {return_id!r}", 404, "not_found")
    if r.status != "AWAITING_BUYER_SHIP":
        raise SandboxError(f"return {return_id} is {r.status}, not AWAITING_BUYER_SHIP", 409, "conflict")
    r.return_tracking_number = tracking_number or "92" + "".join(str(st.rng.randrange(10)) for _ in range(20))
    _set_return_status(st, r, "BUYER_SHIPPED_ITEM")
    return r


def own_return(st: SandboxState, shop_id: str, return_id: str) -> ReturnRecord:
    r = st.returns.get(return_id)
    if r is None or r.shop_id != shop_id:
        raise _refuse(25007006, "Order not found.")
    return r


def approve_return(st: SandboxState, shop_id: str, return_id: str, body: dict[str, Any]) -> dict[str, Any]:
    r = own_return(st, shop_id, return_id)
    decision = body["decision"]
    if decision == "APPROVE_REFUND":
        if r.return_type != "REFUND":
            raise _refuse(25020004, "decision not match reverse type")
        if r.status != "RETURN_OR_REFUND_REQUEST_PENDING":
            raise _refuse(25011012, "reverse status cannot approve application")
        _set_return_status(st, r, "RETURN_OR_REFUND_REQUEST_COMPLETE")
    elif decision == "APPROVE_RETURN":
        if r.return_type != "RETURN_AND_REFUND":
            raise _refuse(25020004, "decision not match reverse type")
        if r.status != "RETURN_OR_REFUND_REQUEST_PENDING":
            raise _refuse(25011012, "reverse status cannot approve application")
        _set_return_status(st, r, "AWAITING_BUYER_SHIP")
    elif decision == "APPROVE_RECEIVED_PACKAGE":
        if r.status != "BUYER_SHIPPED_ITEM":
            raise _refuse(25011013, "reverse status cannot approve receive")
        _set_return_status(st, r, "RETURN_OR_REFUND_REQUEST_COMPLETE")
    else:
        raise _refuse(25020004, "decision not match reverse type")
    return {}


def reject_return(st: SandboxState, shop_id: str, return_id: str, body: dict[str, Any]) -> dict[str, Any]:
    r = own_return(st, shop_id, return_id)
    region = st.shops[shop_id].region
    kind = "refund" if r.return_type == "REFUND" else "return"
    if _market_reason(kind, region, "seller_reject", body["reject_reason"]) is None:
        raise _refuse(25001014, "Unknown return reason. Please ensure you are passing a valid return reason.")
    decision = body["decision"]
    if decision in ("REJECT_REFUND", "REJECT_RETURN"):
        expected = "REJECT_REFUND" if r.return_type == "REFUND" else "REJECT_RETURN"
        if decision != expected:
            raise _refuse(25020004, "decision not match reverse type")
        if r.status != "RETURN_OR_REFUND_REQUEST_PENDING":
            raise _refuse(25020010, "Aftersales has been approved and cannot be rejected.")
        r.reject_reason = body["reject_reason"]
        _set_return_status(st, r, "REFUND_OR_RETURN_REQUEST_REJECT")
    elif decision == "REJECT_RECEIVED_PACKAGE":
        if r.status != "BUYER_SHIPPED_ITEM":
            raise _refuse(25020012, "status can't reject receive")
        r.reject_reason = body["reject_reason"]
        _set_return_status(st, r, "REJECT_RECEIVE_PACKAGE")
    else:
        raise _refuse(25020004, "decision not match reverse type")
    return {}


def reject_reasons(st: SandboxState, shop_id: str, record_id: str) -> dict[str, Any]:
    region = st.shops[shop_id].region
    if record_id in st.cancellations and st.cancellations[record_id].shop_id == shop_id:
        kind = "cancel"
    elif record_id in st.returns and st.returns[record_id].shop_id == shop_id:
        kind = "refund" if st.returns[record_id].return_type == "REFUND" else "return"
    else:
        raise _refuse(25007006, "Order not found.")
    return {"reasons": [{"name": r["name"], "text": r["label"]} for r in reasons(kind, region, "seller_reject")]}


# ------------------------------------------------------------------------------ refund amounts
def refund_amounts(order: Order, items: list[LineItem], refund_shipping: bool) -> dict[str, Decimal]:
    """``refund_total = refund_subtotal + refund_shipping_fee + refund_tax``; the subtotal is what
    the buyer paid for the units (sale price, after seller and platform discounts)."""
    subtotal = sum((li.sale_price for li in items), ZERO)
    tax = sum((li.tax for li in items), ZERO)
    shipping = ZERO
    if refund_shipping:
        pay = orders.payment_amounts(order)
        shipping = pay["shipping_fee"]
        tax += pay["shipping_fee_tax"]
    return {"refund_subtotal": subtotal, "refund_shipping_fee": shipping, "refund_tax": tax,
            "refund_total": subtotal + shipping + tax}


def _refund_json(order: Order, amounts: dict[str, Decimal]) -> dict[str, Any]:
    cur = order.currency
    out = {k: fmt(v, cur) for k, v in amounts.items()}
    out.update({"currency": cur, "retail_delivery_fee": "0.00", "buyer_service_fee": "0.00"})
    return out


def _item_json(st: SandboxState, li: LineItem) -> dict[str, Any]:
    return {"order_line_item_id": li.id, "sku_id": li.sku_id, "seller_sku": li.seller_sku, "sku_name": li.sku_name,
            "product_name": li.product_name,
            "product_image": {"url": f"https://p16-sandbox.tiktokcdn.invalid/{li.product_id}-main~tplv-origin.jpeg",
                              "width": 800, "height": 800}}


def cancellation_json(st: SandboxState, c: Cancellation) -> dict[str, Any]:
    order = st.orders[c.order_id]
    items = [li for li in order.line_items if li.id in c.line_item_ids]
    full = len(items) == len(order.line_items)
    lines = []
    for li in items:
        entry = _item_json(st, li)
        entry["cancel_line_item_id"] = li.id
        entry["refund_amount"] = _refund_json(order, refund_amounts(order, [li], False))
        lines.append(entry)
    out: dict[str, Any] = {
        "cancel_id": c.id,
        "order_id": c.order_id,
        "role": c.role if c.role in ("BUYER", "SELLER", "SYSTEM") else "SYSTEM",
        "cancel_type": c.cancel_type,
        "cancel_status": c.status,
        "cancel_reason": c.reason,
        "cancel_reason_text": _reason_label(st, order, c.reason),
        "create_time": c.create_time,
        "update_time": c.update_time,
        "refund_amount": _refund_json(order, refund_amounts(order, items, full)),
        "cancel_line_items": lines,
    }
    if c.status == "CANCELLATION_REQUEST_PENDING":
        out["seller_next_action_response"] = [
            {"action": "SELLER_RESPOND_CANCEL", "deadline": c.create_time + 2 * 86400}]
    return out


def _reason_label(st: SandboxState, order: Order, name: str) -> str:
    region = st.shops[order.shop_id].region
    for kind in ("cancel", "return", "refund"):
        for role in ("buyer_initiate", "seller_initiate", "system", "operator", "seller_reject"):
            r = _market_reason(kind, region, role, name)
            if r:
                return str(r["label"])
    return name


def return_json(st: SandboxState, r: ReturnRecord) -> dict[str, Any]:
    order = st.orders[r.order_id]
    items = [li for li in order.line_items if li.id in r.line_item_ids]
    pay = orders.payment_amounts(order)
    cur = order.currency
    ship_disc = (pay["shipping_fee_seller_discount"], pay["shipping_fee_platform_discount"]) if r.refund_shipping \
        else (ZERO, ZERO)
    lines = []
    for li in items:
        entry = _item_json(st, li)
        entry["return_line_item_id"] = li.id[:-4] + "9" + li.id[-3:]
        entry["refund_amount"] = _refund_json(order, refund_amounts(order, [li], False))
        lines.append(entry)
    out: dict[str, Any] = {
        "return_id": r.id,
        "order_id": r.order_id,
        "role": r.role,
        "return_type": r.return_type,
        "return_status": r.status,
        "return_reason": r.reason,
        "return_reason_text": _reason_label(st, order, r.reason),
        "create_time": r.create_time,
        "update_time": r.update_time,
        "refund_amount": _refund_json(order, refund_amounts(order, items, r.refund_shipping)),
        "return_line_items": lines,
        "discount_amount": [{
            "currency": cur,
            "product_seller_discount": fmt(sum((li.seller_discount for li in items), ZERO), cur),
            "product_platform_discount": fmt(sum((li.platform_discount for li in items), ZERO), cur),
            "shipping_fee_seller_discount": fmt(ship_disc[0], cur),
            "shipping_fee_platform_discount": fmt(ship_disc[1], cur),
        }],
        "shipment_type": "PLATFORM",
        "arbitration_status": "",
        "can_buyer_keep_item": r.return_type == "REFUND",
    }
    if r.return_tracking_number:
        out["return_tracking_number"] = r.return_tracking_number
    actions = {
        "RETURN_OR_REFUND_REQUEST_PENDING": "SELLER_RESPOND_REFUND" if r.return_type == "REFUND"
        else "SELLER_RESPOND_RETURN",
        "BUYER_SHIPPED_ITEM": "SELLER_RESPOND_RECEIVE_PACKAGE",
    }
    if r.status in actions:
        out["seller_next_action_response"] = [{"action": actions[r.status], "deadline": r.update_time + 2 * 86400}]
    return out


def _paged(rows: list[Any], query: dict[str, str], invalid_code: int, default_size: int) -> tuple[list[Any], str]:
    size = int(query.get("page_size") or default_size)
    offset = orders.decode_token(query.get("page_token"), invalid_code, "Invalid page_token")
    nxt = offset + size
    return rows[offset:nxt], orders.encode_token(nxt) if nxt < len(rows) else ""


def _sorted(rows: list[Any], query: dict[str, str]) -> list[Any]:
    field = query.get("sort_field") or "create_time"
    desc = (query.get("sort_order") or "DESC") == "DESC"
    return sorted(rows, key=lambda r: (getattr(r, field), r.id), reverse=desc)


def search_cancellations(st: SandboxState, shop_id: str, query: dict[str, str], body: dict[str, Any],
                         invalid_code: int) -> dict[str, Any]:
    rows = []
    for c in st.cancellations.values():
        if c.shop_id != shop_id:
            continue
        if body.get("cancel_ids") and c.id not in body["cancel_ids"]:
            continue
        if body.get("order_ids") and c.order_id not in body["order_ids"]:
            continue
        if body.get("cancel_status") and c.status not in body["cancel_status"]:
            continue
        if body.get("cancel_types") and c.cancel_type not in body["cancel_types"]:
            continue
        if body.get("buyer_user_ids") and st.orders[c.order_id].user_id not in body["buyer_user_ids"]:
            continue
        if not orders._in_range(c.create_time, body.get("create_time_ge"), body.get("create_time_lt")):
            continue
        if not orders._in_range(c.update_time, body.get("update_time_ge"), body.get("update_time_lt")):
            continue
        rows.append(c)
    page, token = _paged(_sorted(rows, query), query, invalid_code, 10)
    return {"cancellations": [cancellation_json(st, c) for c in page], "next_page_token": token,
            "total_count": len(rows)}


def search_returns(st: SandboxState, shop_id: str, query: dict[str, str], body: dict[str, Any],
                   invalid_code: int) -> dict[str, Any]:
    rows = []
    for r in st.returns.values():
        if r.shop_id != shop_id:
            continue
        if body.get("return_ids") and r.id not in body["return_ids"]:
            continue
        if body.get("order_ids") and r.order_id not in body["order_ids"]:
            continue
        if body.get("return_status") and r.status not in body["return_status"]:
            continue
        if body.get("return_types") and r.return_type not in body["return_types"]:
            continue
        if body.get("buyer_user_ids") and st.orders[r.order_id].user_id not in body["buyer_user_ids"]:
            continue
        if not orders._in_range(r.create_time, body.get("create_time_ge"), body.get("create_time_lt")):
            continue
        if not orders._in_range(r.update_time, body.get("update_time_ge"), body.get("update_time_lt")):
            continue
        rows.append(r)
    page, token = _paged(_sorted(rows, query), query, invalid_code, 10)
    return {"return_orders": [return_json(st, r) for r in page], "next_page_token": token, "total_count": len(rows)}

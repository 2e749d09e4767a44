"""Open API handlers: one function per emulated endpoint, keyed by ``"METHOD /path/{template}"``.

Each handler gets a ``Ctx`` whose request already passed the gateway checks (signature, token,
shop cipher, digest validation) and returns the ``data`` object of the envelope, or raises
``ApiError`` with a documented code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import aftersale, auth, catalog, fbt, finance, fulfillment, orders
from .digest import Endpoint
from .errors import ApiError
from .models import App, Shop, Token
from .sandbox import upsert_subscription
from .state import SandboxState
from .webhooks import webhook_address_problem


@dataclass
class Ctx:
    st: SandboxState
    ep: Endpoint
    app: App
    token: Token
    shop: Shop | None
    query: dict[str, str]
    body: dict[str, Any]
    path: dict[str, str]
    files: dict[str, Any] = field(default_factory=dict)

    @property
    def shop_id(self) -> str:
        assert self.shop is not None  # the gateway resolved it for every shop API
        return self.shop.id

    def invalid(self, detail: str) -> ApiError:
        return ApiError(self.ep.invalid_param_code(), f"Invalid request parameters: {detail}", 400)


Handler = Callable[[Ctx], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}


def handles(key: str) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        HANDLERS[key] = fn
        return fn
    return deco


def _ids(raw: str | None) -> list[str]:
    return [x.strip() for x in (raw or "").split(",") if x.strip()]


# ------------------------------------------------------------------------------- authorization
@handles("GET /authorization/202309/shops")
def _authorized_shops(c: Ctx) -> dict[str, Any]:
    return {"shops": [{"id": s.id, "name": s.name, "region": s.region, "seller_type": s.seller_type,
                       "cipher": s.cipher, "code": s.code} for s in auth.authorized_shops(c.st, c.token)]}


@handles("GET /seller/202309/shops")
def _active_shops(c: Ctx) -> dict[str, Any]:
    return {"shops": [{"id": s.id, "region": s.region} for s in auth.authorized_shops(c.st, c.token)]}


# ------------------------------------------------------------------------------------ webhooks
@handles("GET /event/202309/webhooks")
def _get_webhooks(c: Ctx) -> dict[str, Any]:
    rows = [{"event_type": s.event_type, "address": s.address, "create_time": s.create_time,
             "update_time": s.update_time}
            for (app, shop, _), s in sorted(c.st.subscriptions.items()) if app == c.app.app_key and shop == c.shop_id]
    return {"webhooks": rows, "total_count": len(rows)}


@handles("PUT /event/202309/webhooks")
def _put_webhook(c: Ctx) -> dict[str, Any]:
    address = str(c.body["address"])
    problem = webhook_address_problem(address, c.st.config.webhook_loopback_http)
    if problem:
        raise c.invalid(f"address: {problem}")
    upsert_subscription(c.st, c.app.app_key, c.shop_id, str(c.body["event_type"]), address)
    return {}


@handles("DELETE /event/202309/webhooks")
def _delete_webhook(c: Ctx) -> dict[str, Any]:
    c.st.subscriptions.pop((c.app.app_key, c.shop_id, str(c.body["event_type"])), None)
    return {}


# -------------------------------------------------------------------------------------- orders
@handles("POST /order/202309/orders/search")
def _search_orders(c: Ctx) -> dict[str, Any]:
    return orders.search_orders(c.st, c.shop_id, c.query, c.body, c.ep.invalid_param_code())


@handles("GET /order/202507/orders")
def _order_detail(c: Ctx) -> dict[str, Any]:
    out = []
    for oid in _ids(c.query.get("ids")):
        order = c.st.orders.get(oid)
        if order is None or oid in c.st.order_detail_omitted:
            continue
        if order.shop_id != c.shop_id:
            raise ApiError(21008111, "The order or package does not belong to the current seller.")
        out.append(orders.order_json(c.st, order))
    return {"orders": out}


@handles("GET /order/202407/orders/{order_id}/price_detail")
def _price_detail(c: Ctx) -> dict[str, Any]:
    order = c.st.orders.get(c.path["order_id"])
    if order is None or order.shop_id != c.shop_id:
        raise ApiError(21001001, "Invalid parameters. Order not found.")
    return orders.price_detail_json(order)


# ------------------------------------------------------------------------------------ products
def _category_version(c: Ctx, value: str | None) -> None:
    if c.shop and c.shop.region == "US" and "12052217" in c.ep.errors and (value or "v1") != "v2":
        raise ApiError(12052217, "Incorrect category version. For US shops or global sellers with an active US "
                                 "shop, specify 'category version=v2'.")


@handles("POST /product/202502/products/search")
def _search_products(c: Ctx) -> dict[str, Any]:
    body = c.body
    status = body.get("status") or "ALL"
    seller_skus = set(body.get("seller_skus") or [])
    sku_ids = set(body.get("sku_ids") or [])
    rows = []
    for p in sorted(c.st.products.values(), key=lambda p: (p.create_time, p.id), reverse=True):
        if p.shop_id != c.shop_id:
            continue
        if p.status == "DELETED" if status == "ALL" else p.status != status:
            continue
        if seller_skus and not any(s.seller_sku in seller_skus for s in p.skus):
            continue
        if sku_ids and not any(s.id in sku_ids for s in p.skus):
            continue
        if not _between(p.create_time, body.get("create_time_ge"), body.get("create_time_le")):
            continue
        if not _between(p.update_time, body.get("update_time_ge"), body.get("update_time_le")):
            continue
        rows.append(p)
    size = int(c.query.get("page_size") or 20)
    offset = orders.decode_token(c.query.get("page_token"), 12019108, "page number is invalid")
    page = rows[offset: offset + size]
    return {"products": [catalog.product_summary_json(c.st, p) for p in page], "total_count": len(rows),
            "next_page_token": orders.encode_token(offset + size) if offset + size < len(rows) else ""}


def _between(value: int, ge: Any, le: Any) -> bool:
    return (ge is None or value >= int(ge)) and (le is None or value <= int(le))


@handles("GET /product/202309/products/{product_id}")
def _get_product(c: Ctx) -> dict[str, Any]:
    p = c.st.products.get(c.path["product_id"])
    if p is None or p.status == "DELETED" or p.shop_id != c.shop_id:
        raise ApiError(12052260, "The product ID does not exist")
    return catalog.product_json(c.st, p)


@handles("POST /product/202309/products")
def _create_product(c: Ctx) -> dict[str, Any]:
    _category_version(c, c.body.get("category_version"))
    return catalog.api_create_product(c.st, c.shop_id, c.body)


@handles("PUT /product/202509/products/{product_id}")
def _edit_product(c: Ctx) -> dict[str, Any]:
    _category_version(c, c.body.get("category_version"))
    return catalog.api_edit_product(c.st, c.shop_id, c.path["product_id"], c.body, partial=False)


@handles("POST /product/202509/products/{product_id}/partial_edit")
def _partial_edit(c: Ctx) -> dict[str, Any]:
    return catalog.api_edit_product(c.st, c.shop_id, c.path["product_id"], c.body, partial=True)


@handles("POST /product/202309/products/activate")
def _activate(c: Ctx) -> dict[str, Any]:
    return catalog.api_set_status(c.st, c.shop_id, [str(x) for x in c.body["product_ids"]], activate=True)


@handles("POST /product/202309/products/deactivate")
def _deactivate(c: Ctx) -> dict[str, Any]:
    return catalog.api_set_status(c.st, c.shop_id, [str(x) for x in c.body["product_ids"]], activate=False)


@handles("POST /product/202309/inventory/search")
def _inventory_search(c: Ctx) -> dict[str, Any]:
    product_ids = [str(x) for x in c.body.get("product_ids") or []]
    sku_ids = {str(x) for x in c.body.get("sku_ids") or []}
    if not product_ids and not sku_ids:
        raise c.invalid("product_ids or sku_ids is required")
    if len(product_ids) > 100:
        raise ApiError(12019120, "The number of provided product IDs exceeds the limit.")
    if len(sku_ids) > 600:
        raise ApiError(12019015, "The number of SKU exceed the limit")
    wanted = list(product_ids)
    for sid in sku_ids:
        sku = c.st.skus.get(sid)
        if sku and sku.product_id not in wanted:
            wanted.append(sku.product_id)
    out = []
    for pid in wanted:
        p = c.st.products.get(pid)
        if p is None or p.shop_id != c.shop_id or p.status == "DELETED":
            if pid in product_ids:
                raise ApiError(12019008, "Product id is invalid")
            continue
        out.append(catalog.inventory_json(c.st, p, sku_ids if sku_ids and pid not in product_ids else None))
    return {"inventory": out}


@handles("POST /product/202309/products/{product_id}/inventory/update")
def _update_inventory(c: Ctx) -> dict[str, Any]:
    return catalog.api_update_inventory(c.st, c.shop_id, c.path["product_id"], c.body)


@handles("POST /product/202309/products/{product_id}/prices/update")
def _update_prices(c: Ctx) -> dict[str, Any]:
    return catalog.api_update_prices(c.st, c.shop_id, c.path["product_id"], c.body)


@handles("GET /product/202309/categories")
def _categories(c: Ctx) -> dict[str, Any]:
    _category_version(c, c.query.get("category_version"))
    kw = (c.query.get("keyword") or "").lower()
    return {"categories": [
        {"id": cid, "parent_id": parent, "local_name": name, "is_leaf": leaf, "permission_statuses": ["AVAILABLE"]}
        for cid, parent, name, leaf in catalog.CATEGORIES if not kw or kw in name.lower()]}


def _leaf(c: Ctx) -> str:
    cid = c.path["category_id"]
    cat = catalog.category(cid)
    if cat is None:
        raise ApiError(12052023, "Category does not exist")
    if not cat[3]:
        raise ApiError(12052230, "The specified category ID is not a leaf category, or it does not belong to the "
                                 "specified category version.")
    return cid


@handles("GET /product/202309/categories/{category_id}/attributes")
def _attributes(c: Ctx) -> dict[str, Any]:
    _category_version(c, c.query.get("category_version"))
    _leaf(c)
    return {"attributes": [
        {"id": a["id"], "name": a["name"], "type": a["type"], "is_requried": False,
         "is_multiple_selection": a["type"] == "PRODUCT_PROPERTY", "is_customizable": a["is_customizable"],
         "values": [{"id": vid, "name": vname} for vid, vname in a["values"]]}
        for a in catalog.ATTRIBUTES]}


@handles("GET /product/202309/categories/{category_id}/rules")
def _rules(c: Ctx) -> dict[str, Any]:
    _category_version(c, c.query.get("category_version"))
    _leaf(c)
    return {"package_dimension": {"is_required": False}, "size_chart": {"is_required": False, "is_supported": True},
            "cod": {"is_supported": False}, "epr": {"is_required": False}, "manufacturer": {"is_required": False},
            "responsible_person": {"is_required": False}, "product_certifications": [], "fees": [],
            "allowed_special_product_types": ["PRE_ORDER"]}


@handles("GET /product/202309/brands")
def _brands(c: Ctx) -> dict[str, Any]:
    name = (c.query.get("brand_name") or "").lower()
    rows = [b for b in catalog.BRANDS if not name or name in b[1].lower()]
    size = int(c.query.get("page_size") or 20)
    offset = orders.decode_token(c.query.get("page_token"), c.ep.invalid_param_code(), "Invalid page_token")
    page = rows[offset: offset + size]
    return {"brands": [{"id": bid, "name": bname, "authorized_status": "AUTHORIZED", "brand_status": "AVAILABLE",
                        "is_t1_brand": False} for bid, bname in page],
            "total_count": len(rows),
            "next_page_token": orders.encode_token(offset + size) if offset + size < len(rows) else ""}


@handles("POST /product/202309/images/upload")
def _upload_image(c: Ctx) -> dict[str, Any]:
    data = c.files.get("data")
    if data is None:
        raise ApiError(12038002, "Invalid upload file.")
    raw = data.read()
    if not raw:
        raise ApiError(12038002, "Invalid upload file.")
    if len(raw) > 5 * 1024 * 1024:
        raise ApiError(12038005, "The file size exceeds the maximum allowed size.")
    use_case = c.body.get("use_case") or "MAIN_IMAGE"
    uri = f"tos-maliva-i-o3syd03w52-us/{c.st.ids.hexstr(32)}"
    c.st.images[uri] = {"size": len(raw), "use_case": use_case}
    return {"uri": uri, "url": f"https://p16-sandbox.tiktokcdn.invalid/{uri}~tplv-origin.jpeg", "width": 800,
            "height": 800, "use_case": use_case}


# ----------------------------------------------------------------------------------- logistics
@handles("GET /logistics/202309/warehouses")
def _warehouses(c: Ctx) -> dict[str, Any]:
    rows = []
    for w in c.st.warehouses.values():
        if w.shop_id != c.shop_id:
            continue
        a = w.address
        rows.append({"id": w.id, "name": w.name, "type": w.type, "sub_type": w.sub_type, "is_default": w.is_default,
                     "effect_status": w.effect_status,
                     "address": {"region": "United Kingdom" if a.get("region_code") == "GB" else "United States",
                                 "region_code": a.get("region_code", ""), "state": a.get("state", ""),
                                 "city": a.get("city", ""), "postal_code": a.get("postal_code", ""),
                                 "address_line1": a.get("address_line1", ""), "contact_person": "Warehouse desk",
                                 "full_address": f"{a.get('address_line1', '')}, {a.get('city', '')}"}})
    return {"warehouses": rows}


@handles("GET /logistics/202309/warehouses/{warehouse_id}/delivery_options")
def _delivery_options(c: Ctx) -> dict[str, Any]:
    wh = c.st.warehouses.get(c.path["warehouse_id"])
    if wh is None or wh.shop_id != c.shop_id:
        raise c.invalid("warehouse_id does not belong to the shop")
    return {"delivery_options": [
        {"id": d.id, "name": d.name, "type": d.type, "description": d.name, "platform": ["TIKTOK_SHOP"],
         "weight_limit": {"max_weight": 30000 if c.shop and c.shop.region != "US" else 1120,
                          "min_weight": 1, "unit": "GRAM" if c.shop and c.shop.region != "US" else "POUND"},
         "dimension_limit": {"max_length": 120, "max_width": 60, "max_height": 60,
                             "unit": "CM" if c.shop and c.shop.region != "US" else "INCH"}}
        for d in c.st.delivery_options_of(wh.id)]}


@handles("GET /logistics/202309/delivery_options/{delivery_option_id}/shipping_providers")
def _shipping_providers(c: Ctx) -> dict[str, Any]:
    d = c.st.delivery_options.get(c.path["delivery_option_id"])
    if d is None or c.st.warehouses[d.warehouse_id].shop_id != c.shop_id:
        raise c.invalid("delivery_option_id does not belong to the shop")
    return {"shipping_providers": [{"id": p, "name": c.st.providers[p].name} for p in d.provider_ids]}


@handles("GET /fbt/202408/warehouses")
def _fbt_warehouses(c: Ctx) -> dict[str, Any]:
    rows = []
    for w in c.st.warehouses.values():
        if w.shop_id == c.shop_id and w.fbt:
            a = w.address
            rows.append({"fbt_warehouse_id": w.id, "name": w.name, "type": "PLATFORM_WAREHOUSE", "subscribed": True,
                         "warehouse_ids": [w.id],
                         "addresses": [{"address_line_1": a.get("address_line1", ""), "city": a.get("city", ""),
                                        "state": a.get("state", ""), "postal_code": a.get("postal_code", ""),
                                        "region_code": a.get("region_code", "")}]})
    return {"warehouses": rows}


@handles("GET /fbt/202409/inbound_orders")
def _fbt_inbound_orders(c: Ctx) -> dict[str, Any]:
    ids = _ids(c.query.get("ids"))
    if not ids:
        raise c.invalid("ids is required")
    return {"inbound_orders": fbt.get_inbound_orders(c.st, c.shop_id, ids)}


@handles("POST /fbt/202410/inventory_records/search")
def _fbt_inventory_records(c: Ctx) -> dict[str, Any]:
    rows = fbt.search_records(c.st, c.shop_id, c.body)
    page, token = _page(c, rows, 50)
    return {"inventory_records": page, "next_page_token": token, "total_count": len(rows)}


# --------------------------------------------------------------------------------- fulfillment
@handles("POST /fulfillment/202309/orders/{order_id}/packages")
def _mark_shipped(c: Ctx) -> dict[str, Any]:
    return fulfillment.mark_package_as_shipped(c.st, c.shop_id, c.path["order_id"], c.body)


@handles("POST /fulfillment/202309/packages/{package_id}/ship")
def _ship_package(c: Ctx) -> dict[str, Any]:
    return fulfillment.ship_package(c.st, c.shop_id, c.path["package_id"], c.body)


@handles("POST /fulfillment/202309/orders/{order_id}/shipping_info/update")
def _update_order_shipping(c: Ctx) -> dict[str, Any]:
    return fulfillment.update_shipping_info(c.st, c.shop_id, c.body, order_id=c.path["order_id"])


@handles("POST /fulfillment/202309/packages/{package_id}/shipping_info/update")
def _update_package_shipping(c: Ctx) -> dict[str, Any]:
    return fulfillment.update_shipping_info(c.st, c.shop_id, c.body, package_id=c.path["package_id"])


@handles("POST /fulfillment/202309/packages/search")
def _search_packages(c: Ctx) -> dict[str, Any]:
    return fulfillment.search_packages(c.st, c.shop_id, c.query, c.body, c.ep.invalid_param_code())


@handles("GET /fulfillment/202309/packages/{package_id}")
def _package_detail(c: Ctx) -> dict[str, Any]:
    return fulfillment.package_json(c.st, fulfillment.own_package(c.st, c.shop_id, c.path["package_id"]))


@handles("GET /fulfillment/202309/orders/split_attributes")
def _split_attributes(c: Ctx) -> dict[str, Any]:
    ids = _ids(c.query.get("order_ids"))
    if len(ids) > 50:
        raise c.invalid("order_ids: at most 50")
    return fulfillment.split_attributes(c.st, c.shop_id, ids)


@handles("POST /fulfillment/202309/orders/{order_id}/split")
def _split(c: Ctx) -> dict[str, Any]:
    return fulfillment.split_order(c.st, c.shop_id, c.path["order_id"], c.body)


@handles("GET /fulfillment/202309/orders/{order_id}/tracking")
def _tracking(c: Ctx) -> dict[str, Any]:
    order = fulfillment.own_order(c.st, c.shop_id, c.path["order_id"])
    events = []
    milestones = (("rts_time", "Shipping label created"), ("collection_time", "Picked up by carrier"),
                  ("delivery_time", "Delivered"))
    for attr, text in milestones:
        t = getattr(order, attr)
        if t:
            events.append({"description": text, "update_time_millis": t * 1000})
    return {"tracking": list(reversed(events))}


# ---------------------------------------------------------------------------------- aftersales
@handles("POST /return_refund/202309/cancellations")
def _seller_cancel(c: Ctx) -> dict[str, Any]:
    return aftersale.seller_cancel(c.st, c.shop_id, c.body)


@handles("POST /return_refund/202309/cancellations/search")
def _search_cancellations(c: Ctx) -> dict[str, Any]:
    return aftersale.search_cancellations(c.st, c.shop_id, c.query, c.body, c.ep.invalid_param_code())


@handles("POST /return_refund/202309/cancellations/{cancel_id}/approve")
def _approve_cancel(c: Ctx) -> dict[str, Any]:
    return aftersale.approve_cancellation(c.st, c.shop_id, c.path["cancel_id"])


@handles("POST /return_refund/202309/cancellations/{cancel_id}/reject")
def _reject_cancel(c: Ctx) -> dict[str, Any]:
    return aftersale.reject_cancellation(c.st, c.shop_id, c.path["cancel_id"], c.body)


@handles("POST /return_refund/202309/returns/search")
def _search_returns(c: Ctx) -> dict[str, Any]:
    return aftersale.search_returns(c.st, c.shop_id, c.query, c.body, c.ep.invalid_param_code())


@handles("POST /return_refund/202309/returns/{return_id}/approve")
def _approve_return(c: Ctx) -> dict[str, Any]:
    return aftersale.approve_return(c.st, c.shop_id, c.path["return_id"], c.body)


@handles("POST /return_refund/202309/returns/{return_id}/reject")
def _reject_return(c: Ctx) -> dict[str, Any]:
    return aftersale.reject_return(c.st, c.shop_id, c.path["return_id"], c.body)


@handles("GET /return_refund/202309/reject_reasons")
def _reject_reasons(c: Ctx) -> dict[str, Any]:
    return aftersale.reject_reasons(c.st, c.shop_id, str(c.query.get("return_or_cancel_id")))


# ------------------------------------------------------------------------------------- finance
def _time_filter(value: int, query: dict[str, str], prefix: str) -> bool:
    ge, lt = query.get(f"{prefix}_ge"), query.get(f"{prefix}_lt")
    return (not ge or value >= int(ge)) and (not lt or value < int(lt))


def _page(c: Ctx, rows: list[Any], default: int = 20) -> tuple[list[Any], str]:
    size = int(c.query.get("page_size") or default)
    offset = orders.decode_token(c.query.get("page_token"), c.ep.invalid_param_code(), "Invalid page_token")
    nxt = offset + size
    return rows[offset:nxt], orders.encode_token(nxt) if nxt < len(rows) else ""


@handles("GET /finance/202309/statements")
def _statements(c: Ctx) -> dict[str, Any]:
    status = c.query.get("payment_status")
    rows = []
    for s in c.st.statements.values():
        if s.shop_id != c.shop_id or not _time_filter(s.statement_time, c.query, "statement_time"):
            continue
        js = finance.statement_json(c.st, s)
        if status and js["payment_status"] != status:
            continue
        rows.append(js)
    rows.sort(key=lambda r: (r["statement_time"], r["id"]), reverse=c.query.get("sort_order") == "DESC")
    page, token = _page(c, rows)
    return {"statements": page, "next_page_token": token}


@handles("GET /finance/202309/payments")
def _payments(c: Ctx) -> dict[str, Any]:
    rows = [finance.payment_json(c.st, p) for p in c.st.payments.values()
            if p.shop_id == c.shop_id and _time_filter(p.create_time, c.query, "create_time")]
    rows.sort(key=lambda r: (r["create_time"], r["id"]), reverse=c.query.get("sort_order") == "DESC")
    page, token = _page(c, rows)
    return {"payments": page, "next_page_token": token}


@handles("GET /finance/202309/withdrawals")
def _withdrawals(c: Ctx) -> dict[str, Any]:
    types = set(_ids(c.query.get("types")))
    rows = [finance.withdrawal_json(w) for w in c.st.withdrawals.values()
            if w.shop_id == c.shop_id and w.type in types and _time_filter(w.create_time, c.query, "create_time")]
    rows.sort(key=lambda r: (r["create_time"], r["id"]))
    page, token = _page(c, rows)
    return {"withdrawals": page, "next_page_token": token, "total_count": len(rows)}


@handles("GET /finance/202501/statements/{statement_id}/statement_transactions")
def _by_statement(c: Ctx) -> dict[str, Any]:
    stmt = c.st.statements.get(c.path["statement_id"])
    if stmt is None or stmt.shop_id != c.shop_id:
        raise ApiError(36009003, "Statement not found for this shop.", 200)
    return finance.transactions_by_statement(c.st, stmt, c.query, c.ep.invalid_param_code())


@handles("GET /finance/202501/orders/{order_id}/statement_transactions")
def _by_order(c: Ctx) -> dict[str, Any]:
    order = c.st.orders.get(c.path["order_id"])
    if order is None or order.shop_id != c.shop_id:
        raise ApiError(36009003, "Order not found for this shop.", 200)
    return finance.transactions_by_order(c.st, order)

"""Packages and shipping: mark package as shipped, ship package, update shipping info, split
attributes / split, FBT shipments by TikTok, the package serialisations and search."""

from __future__ import annotations

import re
from typing import Any

from . import catalog, orders
from .errors import ApiError, SandboxError
from .models import Order, Package
from .state import SandboxState

SPECIAL_CHARS = re.compile(r"[^A-Za-z0-9]")


def _refuse(code: int, message: str) -> ApiError:
    return ApiError(code, message)


def own_order(st: SandboxState, shop_id: str, order_id: str) -> Order:
    order = st.orders.get(order_id)
    if order is None or order.shop_id != shop_id:
        raise _refuse(21008111, "The order or package does not belong to the current seller.")
    return order


def own_package(st: SandboxState, shop_id: str, package_id: str) -> Package:
    pkg = st.packages.get(package_id)
    if pkg is None or pkg.shop_id != shop_id:
        raise _refuse(21011028, "The package does not belong to the current shop.")
    return pkg


def check_tracking(st: SandboxState, order: Order, tracking: str, provider_id: str,
                   package_id: str | None = None) -> str:
    """Validate a seller-provided tracking number and provider; returns the provider name."""
    option = st.delivery_options.get(order.delivery_option_id)
    provider = st.providers.get(provider_id)
    if provider is None or option is None or provider_id not in option.provider_ids:
        raise _refuse(21011022, "Invalid tracking number or provider ID. Please double check and try again.")
    if SPECIAL_CHARS.search(tracking):
        raise _refuse(21004012, "Tracking number has special characters, verify failed.")
    if tracking in st.invalid_tracking_numbers:
        raise _refuse(11028006, "This tracking number cannot be matched to any carrier, please check the "
                                        "tracking number and upload again.")
    if not re.match(provider.tracking_pattern, tracking):
        raise _refuse(21004015, "Tracking number mismatch provider.")
    other = st.used_tracking_numbers.get(tracking)
    if other and other != package_id and st.packages[other].order_id != order.id:
        raise _refuse(21011025, "Duplicate tracking number.")
    return provider.name


def _check_shippable(order: Order) -> None:
    if order.fulfillment_type == "FULFILLMENT_BY_TIKTOK":
        raise _refuse(21008025, "Seller cannot operate orders which are fulfilled by platform")
    if order.status in ("UNPAID", "ON_HOLD"):
        raise _refuse(21042057, "These orders are not in the Awaiting shipment status.")
    if order.status == "CANCELLED":
        raise _refuse(21011003, "fulfill_unit action not allowed")
    if order.status not in ("AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"):
        raise _refuse(21011006, "These orders are already shipped.")


def _ship(st: SandboxState, order: Order, pkg: Package, tracking: str, provider_id: str, provider_name: str,
          by: str) -> None:
    now = st.now()
    pkg.status = "PROCESSING"
    pkg.tracking_number = tracking
    pkg.provider_id = provider_id
    pkg.provider_name = provider_name
    pkg.shipped_by = by
    pkg.update_time = now
    st.used_tracking_numbers[tracking] = pkg.id
    units: dict[str, int] = {}
    for li in order.line_items:
        if li.id in pkg.line_item_ids and not li.cancelled:
            li.shipped = True
            li.rts_time = now
            li.tracking_number = tracking
            li.provider_id = provider_id
            li.provider_name = provider_name
            units[li.sku_id] = units.get(li.sku_id, 0) + 1
    for sku_id, n in units.items():
        sku = st.skus.get(sku_id)
        if sku is not None:
            catalog.consume(sku, order.warehouse_id, n)
    orders.recompute_shipping_status(st, order)


def _open_package(st: SandboxState, order: Order) -> list[Package]:
    return [st.packages[p] for p in order.package_ids if st.packages[p].status == "TO_FULFILL"]


def _carve(st: SandboxState, order: Order, line_ids: list[str]) -> Package:
    """Move ``line_ids`` out of their unshipped package into a new one (or reuse the package when
    it holds exactly those units)."""
    sources = {li.package_id for li in order.line_items if li.id in line_ids}
    if len(sources) == 1:
        src = st.packages[next(iter(sources))]
        if sorted(src.line_item_ids) == sorted(line_ids):
            return src
    now = st.now()
    pkg = Package(id=st.ids.next("package"), shop_id=order.shop_id, order_id=order.id,
                  line_item_ids=list(line_ids), status="TO_FULFILL", shipping_type=order.shipping_type,
                  create_time=now, update_time=now)
    for src_id in sources:
        src = st.packages[src_id]
        src.line_item_ids = [x for x in src.line_item_ids if x not in line_ids]
        src.update_time = now
        if not src.line_item_ids:
            src.status = "CANCELLED"
    st.packages[pkg.id] = pkg
    order.package_ids.append(pkg.id)
    for li in order.line_items:
        if li.id in line_ids:
            li.package_id = pkg.id
    return pkg


def mark_package_as_shipped(st: SandboxState, shop_id: str, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
    order = own_order(st, shop_id, order_id)
    _check_shippable(order)
    by_id = {li.id: li for li in order.line_items}
    requested = [str(x) for x in body.get("order_line_item_ids") or []]
    if requested:
        if len(requested) != len(set(requested)):
            raise _refuse(21001001, "Invalid parameters. Duplicate order_line_item_ids.")
        for lid in requested:
            li = by_id.get(lid)
            if li is None:
                raise _refuse(21011029, "order does not belong to fulfill unit")
            if li.cancelled:
                raise _refuse(21011007, "Package item has after-sale request, please process the after-sale "
                                        "request first.")
            if li.shipped:
                raise _refuse(21008099, "Package has been shipped. Please not ship the package again.")
    else:
        requested = [li.id for li in order.active_items if not li.shipped]
        if not requested:
            raise _refuse(21011006, "These orders are already shipped.")
    tracking, provider_id = str(body["tracking_number"]), str(body["shipping_provider_id"])
    name = check_tracking(st, order, tracking, provider_id)
    pkg = _carve(st, order, requested)
    _ship(st, order, pkg, tracking, provider_id, name, "seller")
    if len(order.package_ids) > 1:
        _package_event(st, order, "SPLIT", "ROLE_SELLER")
    return {"order_id": order.id, "order_line_item_ids": list(pkg.line_item_ids), "package_id": pkg.id}


def ship_package(st: SandboxState, shop_id: str, package_id: str, body: dict[str, Any]) -> dict[str, Any]:
    pkg = own_package(st, shop_id, package_id)
    order = st.orders[pkg.order_id]
    _check_shippable(order)
    if pkg.status != "TO_FULFILL":
        raise _refuse(21008099, "Package has been shipped. Please not ship the package again.")
    self_shipment = body.get("self_shipment")
    if self_shipment:
        tracking, provider_id = str(self_shipment["tracking_number"]), str(self_shipment["shipping_provider_id"])
        name = check_tracking(st, order, tracking, provider_id, pkg.id)
    elif order.shipping_type == "TIKTOK":
        option = st.delivery_options[order.delivery_option_id]
        provider_id = option.provider_ids[0]
        name = st.providers[provider_id].name
        tracking = tiktok_tracking_number(st, name)
    else:
        raise _refuse(21001001, "Invalid parameters. self_shipment is required for seller shipping.")
    pkg.handover_method = str(body.get("handover_method") or "DROP_OFF")
    _ship(st, order, pkg, tracking, provider_id, name, "seller")
    return {}


def tiktok_tracking_number(st: SandboxState, provider_name: str) -> str:
    digits = "".join(str(st.rng.randrange(10)) for _ in range(20))
    return {"USPS": "92" + digits, "UPS": "1Z" + digits[:16], "FedEx": digits[:12], "Royal Mail":
            f"RM{digits[:9]}GB", "DPD": digits[:14]}.get(provider_name, "TT" + digits[:14])


def update_shipping_info(st: SandboxState, shop_id: str, body: dict[str, Any], order_id: str | None = None,
                         package_id: str | None = None) -> dict[str, Any]:
    if package_id:
        pkg = own_package(st, shop_id, package_id)
        order = st.orders[pkg.order_id]
    else:
        order = own_order(st, shop_id, str(order_id))
        shipped = [st.packages[p] for p in order.package_ids
                   if st.packages[p].status not in ("TO_FULFILL", "CANCELLED")]
        if not shipped:
            raise _refuse(21011004, "This API cannot be used to update package shipping information for packages "
                                    "that are not shipped by sellers.")
        if len(shipped) > 1:
            raise _refuse(21011048, "There are multiple packages that can be shipped, please specify the order "
                                    "line that needs to be shipped.")
        pkg = shipped[0]
    if order.fulfillment_type == "FULFILLMENT_BY_TIKTOK" or pkg.shipped_by != "seller":
        raise _refuse(21011004, "This API cannot be used to update package shipping information for packages "
                                "that are not shipped by sellers.")
    if pkg.status != "PROCESSING":
        raise _refuse(21011030, "fulfillment not allow update tracking no")
    tracking, provider_id = str(body["tracking_number"]), str(body["shipping_provider_id"])
    name = check_tracking(st, order, tracking, provider_id, pkg.id)
    st.used_tracking_numbers.pop(pkg.tracking_number, None)
    pkg.tracking_number, pkg.provider_id, pkg.provider_name = tracking, provider_id, name
    pkg.tracking_updates += 1
    pkg.update_time = st.now()
    st.used_tracking_numbers[tracking] = pkg.id
    for li in order.line_items:
        if li.id in pkg.line_item_ids:
            li.tracking_number, li.provider_id, li.provider_name = tracking, provider_id, name
    order.update_time = st.now()
    return {}


def split_attributes(st: SandboxState, shop_id: str, order_ids: list[str]) -> dict[str, Any]:
    out = []
    for oid in order_ids:
        order = own_order(st, shop_id, oid)
        unshipped = [li for li in order.active_items if not li.shipped]
        can = order.status == "AWAITING_SHIPMENT" and len(unshipped) > 1 and order.shipping_type == "SELLER"
        entry: dict[str, Any] = {"order_id": order.id, "can_split": can, "must_split": False}
        if not can:
            entry["reason"] = "NOT_ALLOWED" if order.status != "AWAITING_SHIPMENT" else "ONLY_ONE_ITEM"
        out.append(entry)
    return {"split_attributes": out}


def split_order(st: SandboxState, shop_id: str, order_id: str, body: dict[str, Any]) -> dict[str, Any]:
    order = own_order(st, shop_id, order_id)
    _check_shippable(order)
    if order.status != "AWAITING_SHIPMENT":
        raise _refuse(21011046, "Order has combine, not allow split order")
    groups = body["splittable_groups"]
    unshipped = {li.id for li in order.active_items if not li.shipped}
    seen: list[str] = []
    for g in groups:
        seen += [str(x) for x in g["order_line_item_ids"]]
    if sorted(seen) != sorted(unshipped) or len(groups) < 2:
        raise _refuse(21011005, "Invalid parameters. Every unshipped line item must be in exactly one group.")
    out = []
    for g in groups:
        pkg = _carve(st, order, [str(x) for x in g["order_line_item_ids"]])
        out.append({"id": pkg.id, "splittable_group_id": str(g["id"])})
    _package_event(st, order, "SPLIT", "ROLE_SELLER")
    order.update_time = st.now()
    return {"packages": out}


def _package_event(st: SandboxState, order: Order, sc_type: str, role: str) -> None:
    st.emit(order.shop_id, 4, {
        "sc_type": sc_type,
        "role_type": role,
        "package_list": [{"package_id": p, "order_id_list": [order.id]} for p in order.package_ids
                         if st.packages[p].status != "CANCELLED"],
        "update_time": st.now(),
    })


def ship_fbt(st: SandboxState, order_id: str, tracking_number: str | None = None) -> Order:
    """TikTok's fulfillment center ships an FBT order (control API)."""
    order = st.order(order_id)
    if order.fulfillment_type != "FULFILLMENT_BY_TIKTOK":
        raise SandboxError(f"order {order_id} is not fulfilled by TikTok", 409, "conflict")
    if order.status != "AWAITING_SHIPMENT":
        raise SandboxError(f"order {order_id} is {order.status}, not AWAITING_SHIPMENT", 409, "conflict")
    option = st.delivery_options[order.delivery_option_id]
    providers = option.provider_ids or [p.id for p in st.providers.values()]
    provider = st.providers[providers[0]]
    for pkg in _open_package(st, order):
        _ship(st, order, pkg, tracking_number or tiktok_tracking_number(st, provider.name), provider.id,
              provider.name, "tiktok")
    _package_event(st, order, "SPLIT", "ROLE_SYSTEM")
    return order


# ----------------------------------------------------------------------------- serialisation
def _skus_of(st: SandboxState, order: Order, pkg: Package) -> list[dict[str, Any]]:
    counts: dict[str, int] = {}
    names: dict[str, str] = {}
    for li in order.line_items:
        if li.id in pkg.line_item_ids:
            counts[li.sku_id] = counts.get(li.sku_id, 0) + 1
            names[li.sku_id] = li.product_name
    return [{"id": s, "name": names[s], "quantity": n,
             "image_url": f"https://p16-sandbox.tiktokcdn.invalid/{s}~tplv-origin.jpeg"} for s, n in counts.items()]


def package_summary_json(st: SandboxState, pkg: Package) -> dict[str, Any]:
    order = st.orders[pkg.order_id]
    return {
        "id": pkg.id,
        "status": pkg.status,
        "create_time": pkg.create_time,
        "update_time": pkg.update_time,
        "order_line_item_ids": list(pkg.line_item_ids),
        "orders": [{"id": order.id, "skus": _skus_of(st, order, pkg)}],
        "tracking_number": pkg.tracking_number,
        "shipping_provider_id": pkg.provider_id,
        "shipping_provider_name": pkg.provider_name,
    }


def package_json(st: SandboxState, pkg: Package) -> dict[str, Any]:
    order = st.orders[pkg.order_id]
    wh = st.warehouses[order.warehouse_id]
    out: dict[str, Any] = {
        "package_id": pkg.id,
        "package_status": pkg.status,
        "create_time": pkg.create_time,
        "update_time": pkg.update_time,
        "order_line_item_ids": list(pkg.line_item_ids),
        "orders": [{"id": order.id, "skus": _skus_of(st, order, pkg)}],
        "tracking_number": pkg.tracking_number,
        "shipping_provider_id": pkg.provider_id,
        "shipping_provider_name": pkg.provider_name,
        "shipping_type": pkg.shipping_type,
        "delivery_option_id": order.delivery_option_id,
        "delivery_option_name": order.delivery_option_name,
        "split_and_combine_tag": "SPLIT" if len(order.package_ids) > 1 else "DEFAULT",
        "has_multi_skus": len({li.sku_id for li in order.line_items if li.id in pkg.line_item_ids}) > 1,
        "sender_address": {"name": wh.name, "full_address": f"{wh.address.get('address_line1', '')}, "
                           f"{wh.address.get('city', '')}", "region_code": wh.address.get("region_code", ""),
                           "postal_code": wh.address.get("postal_code", "")},
    }
    if pkg.handover_method:
        out["handover_method"] = pkg.handover_method
    if order.status not in ("UNPAID", "ON_HOLD"):
        a = order.address
        out["recipient_address"] = {k: a[k] for k in ("name", "full_address", "phone_number", "postal_code",
                                                      "region_code", "address_line1", "address_line2") if k in a}
    return out


def search_packages(st: SandboxState, shop_id: str, query: dict[str, str], body: dict[str, Any],
                    invalid_code: int) -> dict[str, Any]:
    page_size = int(query.get("page_size") or 20)
    sort_field = query.get("sort_field") or "create_time"
    desc = (query.get("sort_order") or "DESC") == "DESC"
    offset = orders.decode_token(query.get("page_token"), invalid_code, "Invalid page_token")
    status = body.get("package_status")
    rows = []
    for pkg in st.packages.values():
        if pkg.shop_id != shop_id or (status and pkg.status != status):
            continue
        if not orders._in_range(pkg.create_time, body.get("create_time_ge"), body.get("create_time_lt")):
            continue
        if not orders._in_range(pkg.update_time, body.get("update_time_ge"), body.get("update_time_lt")):
            continue
        rows.append(pkg)

    def key(p: Package) -> tuple[int, str]:
        if sort_field == "order_pay_time":
            return st.orders[p.order_id].paid_time, p.id
        return (p.update_time if sort_field == "update_time" else p.create_time), p.id

    rows.sort(key=key, reverse=desc)
    page = rows[offset: offset + page_size]
    nxt = offset + page_size
    return {"packages": [package_summary_json(st, p) for p in page],
            "next_page_token": orders.encode_token(nxt) if nxt < len(rows) else "",
            "total_count": len(rows)}

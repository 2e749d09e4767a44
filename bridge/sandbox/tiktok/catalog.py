"""Products, SKUs, per-warehouse stock, the fixed category / attribute / brand tree."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from .errors import ApiError, SandboxError
from .models import Product, Sku
from .money import dec, fmt
from .state import SandboxState

# (id, parent_id, name, is_leaf)
CATEGORIES: list[tuple[str, str, str, bool]] = [
    ("600001", "0", "Home Supplies", False),
    ("600010", "600001", "Kitchenware", True),
    ("600011", "600001", "Home Decor", True),
    ("600002", "0", "Womenswear & Underwear", False),
    ("600020", "600002", "T-shirts", True),
    ("600021", "600002", "Hoodies & Sweatshirts", True),
    ("600003", "0", "Beauty & Personal Care", False),
    ("600030", "600003", "Skincare", True),
]
ATTRIBUTES: list[dict[str, Any]] = [
    {"id": "100000", "name": "Color", "type": "SALES_PROPERTY", "is_customizable": True,
     "values": [("1000001", "Black"), ("1000002", "White"), ("1000003", "Red"), ("1000004", "Blue")]},
    {"id": "100001", "name": "Size", "type": "SALES_PROPERTY", "is_customizable": True,
     "values": [("1000011", "S"), ("1000012", "M"), ("1000013", "L"), ("1000014", "XL")]},
    {"id": "100002", "name": "Material", "type": "PRODUCT_PROPERTY", "is_customizable": True,
     "values": [("1000021", "Cotton"), ("1000022", "Polyester"), ("1000023", "Ceramic")]},
]
BRANDS: list[tuple[str, str]] = [
    ("7082427311584347905", "Sandbox Basics"),
    ("7082427311584347906", "Acme Home"),
    ("7082427311584347907", "Northwind Apparel"),
]
PRODUCT_STATUSES = ("DRAFT", "PENDING", "FAILED", "ACTIVATE", "SELLER_DEACTIVATED", "PLATFORM_DEACTIVATED",
                    "FREEZE", "DELETED")


def category(cid: str) -> tuple[str, str, str, bool] | None:
    return next((c for c in CATEGORIES if c[0] == cid), None)


def category_chain(cid: str) -> list[dict[str, Any]]:
    chain = []
    cur = category(cid)
    while cur:
        chain.append({"id": cur[0], "parent_id": cur[1], "local_name": cur[2], "is_leaf": cur[3]})
        cur = category(cur[1])
    return list(reversed(chain))


# ----------------------------------------------------------------------------------- products
def add_product(
    st: SandboxState,
    shop_id: str,
    title: str,
    skus: list[dict[str, Any]],
    category_id: str = "600010",
    description: str = "<p>Sandbox product</p>",
    status: str = "ACTIVATE",
    brand_id: str = "",
    main_images: list[dict[str, Any]] | None = None,
    external_product_id: str = "",
    emit: bool = True,
) -> Product:
    """Create a product. Each sku dict: ``seller_sku``, ``price`` (decimal string), optional
    ``currency``, ``inventory`` ({warehouse_id: quantity} or [{warehouse_id, quantity}]),
    ``sales_attributes`` and ``list_price``. Without inventory the SKU is stocked (0) in the
    shop's default warehouse."""
    shop = st.shop(shop_id)
    if status not in PRODUCT_STATUSES:
        raise SandboxError(f"unknown product status {status!r}")
    if not skus:
        raise SandboxError("a product needs at least one SKU")
    now = st.now()
    pid = st.ids.next("product", 19)
    product = Product(
        id=pid, shop_id=shop_id, title=title, description=description, category_id=category_id,
        status=status, create_time=now, update_time=now, skus=[], brand_id=brand_id,
        main_images=main_images or [{"uri": f"tos-maliva-i-sbx/{pid}-main"}],
        external_product_id=external_product_id,
    )
    for spec in skus:
        product.skus.append(_new_sku(st, product, shop.currency, spec))
    st.products[pid] = product
    for sku in product.skus:
        st.skus[sku.id] = sku
    if emit:
        st.emit(shop_id, 16, {"product_id": int(pid), "product_types": [], "update_time": now})
    return product


def _inventory_map(st: SandboxState, shop_id: str, raw: Any) -> dict[str, int]:
    if raw is None:
        return {st.default_warehouse(shop_id).id: 0}
    items = raw.items() if isinstance(raw, dict) else [(i.get("warehouse_id"), i.get("quantity")) for i in raw]
    out: dict[str, int] = {}
    for wid, qty in items:
        wh = st.warehouse(str(wid), shop_id) if wid else st.default_warehouse(shop_id)
        if wh.type != "SALES_WAREHOUSE":
            raise SandboxError(f"warehouse {wh.id} is not a sales warehouse")
        out[wh.id] = int(qty or 0)
        if out[wh.id] < 0:
            raise SandboxError("stock cannot be negative")
    return out


def _new_sku(st: SandboxState, product: Product, currency: str, spec: dict[str, Any]) -> Sku:
    price = spec.get("price")
    if isinstance(price, dict):
        price = price.get("amount") or price.get("sale_price")
    amount = dec(price if price is not None else "0", "price")
    if amount <= 0:
        raise SandboxError("SKU price must be positive")
    seller_sku = str(spec.get("seller_sku") or "")
    if seller_sku and any(
        s.seller_sku == seller_sku and st.products[s.product_id].shop_id == product.shop_id
        for s in st.skus.values()
    ):
        raise SandboxError(f"seller_sku {seller_sku!r} already exists in shop {product.shop_id}", 409, "conflict")
    sku = Sku(
        id=st.ids.next("sku", 19),
        product_id=product.id,
        seller_sku=seller_sku,
        price=amount,
        currency=str(spec.get("currency") or currency),
        sales_attributes=list(spec.get("sales_attributes") or []),
        inventory=_inventory_map(st, product.shop_id, spec.get("inventory")),
        list_price=dec(spec["list_price"]) if spec.get("list_price") else None,
        external_sku_id=str(spec.get("external_sku_id") or ""),
    )
    sku.committed = dict.fromkeys(sku.inventory, 0)
    return sku


def sku_name(sku: Sku) -> str:
    names = [str(a.get("value_name") or "") for a in sku.sales_attributes if a.get("value_name")]
    return ", ".join(names) or "Default"


def set_stock(st: SandboxState, sku_id: str, warehouse_id: str | None, quantity: int) -> Sku:
    sku = st.sku(sku_id)
    shop_id = st.products[sku.product_id].shop_id
    wh = st.warehouse(warehouse_id, shop_id) if warehouse_id else st.default_warehouse(shop_id)
    if quantity < 0:
        raise SandboxError("stock cannot be negative")
    sku.inventory[wh.id] = int(quantity)
    sku.committed.setdefault(wh.id, 0)
    return sku


def reserve(sku: Sku, warehouse_id: str, qty: int) -> None:
    sku.inventory[warehouse_id] = sku.inventory.get(warehouse_id, 0) - qty
    sku.committed[warehouse_id] = sku.committed.get(warehouse_id, 0) + qty


def release(sku: Sku, warehouse_id: str, qty: int) -> None:
    """Cancelled before shipping: the units are sellable again."""
    sku.inventory[warehouse_id] = sku.inventory.get(warehouse_id, 0) + qty
    sku.committed[warehouse_id] = max(0, sku.committed.get(warehouse_id, 0) - qty)


def consume(sku: Sku, warehouse_id: str, qty: int) -> None:
    """Shipped: the committed units leave the warehouse."""
    sku.committed[warehouse_id] = max(0, sku.committed.get(warehouse_id, 0) - qty)


# ------------------------------------------------------------------------- API: product writes
def _refuse(code: int, message: str) -> ApiError:
    return ApiError(code, message)


def own_product(st: SandboxState, shop_id: str, product_id: str) -> Product:
    product = st.products.get(product_id)
    if product is None or product.status == "DELETED":
        raise _refuse(12052032, "The product does not exist")
    if product.shop_id != shop_id:
        raise _refuse(12052048, "You cannot edit the specified product(s) as it isn't listed in your account or shop.")
    return product


def _check_category(cid: str) -> None:
    cat = category(cid)
    if cat is None:
        raise _refuse(12052023, "Category does not exist")
    if not cat[3]:
        raise _refuse(12052024, "Category is not final category")


_PLAIN_DECIMAL = re.compile(r"^\d{1,12}(\.\d{1,4})?$")


def _price_from(body_price: dict[str, Any], currency: str) -> Decimal:
    if body_price.get("currency") and body_price["currency"] != currency:
        raise _refuse(12052084, "The provided currency is not available for this shop/region.")
    raw = body_price.get("amount") or body_price.get("sale_price")
    if raw is None:
        raise _refuse(12052424, "Missing 'sale price' value")
    if not isinstance(raw, str) or not _PLAIN_DECIMAL.match(raw):  # "19.99": no sign, exponent or spaces
        raise _refuse(12052073, "The product price is invalid")
    try:
        amount = dec(raw, "price")
    except ValueError:
        raise _refuse(12052073, "The product price is invalid") from None
    if amount <= 0:
        raise _refuse(12052073, "The product price is invalid")
    return amount


def _sku_inventory_from_body(st: SandboxState, shop_id: str, inv: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in inv:
        wid = str(item.get("warehouse_id") or "")
        wh = st.warehouses.get(wid) if wid else st.default_warehouse(shop_id)
        if wh is None:
            raise _refuse(12052097, "The warehouse does not exist")
        if wh.shop_id != shop_id:
            raise _refuse(12052530, f"The warehouse '{wid}' does not belong to this shop/seller.")
        if wh.effect_status == "DISABLED":
            raise _refuse(12052531, "The warehouse is disabled.")
        out[wh.id] = int(item.get("quantity") or 0)
    return out


def api_create_product(st: SandboxState, shop_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Create Product. A repeated ``idempotency_key`` (documented: "prevent duplicate processing of the
    same request ... unique within the shop") creates nothing: it answers with the product the key
    created first, whatever the body says now."""
    shop = st.shop(shop_id)
    ikey = str(body.get("idempotency_key") or "")
    if ikey and (first := st.products.get(st.product_create_keys.get((shop_id, ikey), ""))) is not None:
        return _created_json(first)
    _check_category(str(body["category_id"]))
    if len(body["title"]) > 255:
        raise _refuse(12052051, "The product name exceed max limit characters")
    if not body.get("main_images"):
        raise _refuse(12052028, "Main product image is required")
    if body.get("brand_id") and body["brand_id"] not in {b[0] for b in BRANDS}:
        raise _refuse(12052026, "Brand does not exist")
    if len(body["skus"]) > 100:
        raise _refuse(12052050, "A single product cannot have more than 100 different SKUs")
    ext = str(body.get("external_product_id") or "")
    if ext and any(p.external_product_id == ext and p.shop_id == shop_id for p in st.products.values()):
        raise _refuse(12052996, "external_id duplicated")
    specs = []
    for s in body["skus"]:
        specs.append({
            "seller_sku": s.get("seller_sku") or "",
            "price": _price_from(s["price"], shop.currency),
            "inventory": _sku_inventory_from_body(st, shop_id, s["inventory"]),
            "sales_attributes": s.get("sales_attributes") or [],
            "external_sku_id": s.get("external_sku_id") or "",
            "list_price": (s.get("list_price") or {}).get("amount"),
        })
    seen = [s["seller_sku"] for s in specs if s["seller_sku"]]
    if len(seen) != len(set(seen)):
        raise _refuse(12052910, "Invalid input parameters. Duplicate seller_sku.")
    try:
        product = add_product(
            st, shop_id, body["title"], specs, category_id=str(body["category_id"]),
            description=body["description"],
            status="DRAFT" if body.get("save_mode") == "AS_DRAFT" else "ACTIVATE",
            brand_id=str(body.get("brand_id") or ""), main_images=list(body["main_images"]),
            external_product_id=ext,
        )
    except SandboxError as exc:
        raise _refuse(12052910, f"Invalid input parameters. {exc.message}") from None
    if product.status == "ACTIVATE":
        product.reviewed_before = False
        submit_for_review(st, product)
    if ikey:
        st.product_create_keys[(shop_id, ikey)] = product.id
    return _created_json(product)


def _created_json(product: Product) -> dict[str, Any]:
    return {
        "product_id": product.id,
        "skus": [{"id": s.id, "seller_sku": s.seller_sku, "external_sku_id": s.external_sku_id,
                  "sales_attributes": [{"id": a.get("id", ""), "value_id": a.get("value_id", "")}
                                       for a in s.sales_attributes]} for s in product.skus],
        "warnings": [],
    }


def api_edit_product(st: SandboxState, shop_id: str, product_id: str, body: dict[str, Any],
                     partial: bool) -> dict[str, Any]:
    shop = st.shop(shop_id)
    product = own_product(st, shop_id, product_id)
    changed: list[str] = []
    if "category_id" in body:
        _check_category(str(body["category_id"]))
        product.category_id = str(body["category_id"])
        changed.append("category_id")
    for fld in ("title", "description", "external_product_id", "brand_id"):
        if fld in body and body[fld] is not None:
            setattr(product, fld, str(body[fld]))
            changed.append(fld)
    if body.get("main_images"):
        product.main_images = list(body["main_images"])
        changed.append("main_images")
    if "skus" in body and body["skus"] is not None:
        _apply_sku_edits(st, shop.currency, product, body["skus"], partial)
        changed.append("skus")
    product.update_time = st.now()
    st.emit(shop_id, 15, {"product_id": product.id, "changed_fields": changed, "change_source": "SELLER",
                          "update_time": product.update_time})
    if set(changed) & REVIEWED_FIELDS and product.status in ("ACTIVATE", "PENDING", "FAILED"):
        submit_for_review(st, product)
    return {
        "product_id": product.id,
        "skus": [{"id": s.id, "seller_sku": s.seller_sku, "external_sku_id": s.external_sku_id,
                  "sales_attributes": []} for s in product.skus],
        "audit": {"status": product.audit_status},
    }


# Edits TikTok reviews again before they go live (title, description, images, category).
REVIEWED_FIELDS = frozenset({"title", "description", "main_images", "category_id"})


def submit_for_review(st: SandboxState, product: Product) -> None:
    """Without ``product_review_seconds`` the product is approved at once (status ACTIVATE);
    with it, PENDING / AUDITING until ``decide_reviews`` runs after the delay."""
    delay = st.config.product_review_seconds
    if delay is None:
        product.status, product.audit_status, product.audit_failed_reasons = "ACTIVATE", "APPROVED", []
        product.reviewed_before = True
        return
    product.status, product.audit_status, product.audit_failed_reasons = "PENDING", "AUDITING", []
    product.review_due = st.clock.now() + max(0.0, delay)
    st.emit(product.shop_id, 37, {"product_id": int(product.id), "audit": {"status": "AUDITING"},
                                  "update_time": st.now()})


def decide_reviews(st: SandboxState) -> int:
    """Decide every PENDING review that is due: FAILED when an audit rule's term is in the title or
    description (``audit_failed_reasons`` carry its reason and suggestion), else ACTIVATE."""
    now = st.clock.now()
    decided = 0
    for product in list(st.products.values()):
        if product.status != "PENDING" or product.review_due is None or product.review_due > now:
            continue
        product.review_due = None
        decided += 1
        text = f"{product.title} {product.description}".casefold()
        hit = next(((t, r, sug) for t, r, sug in st.audit_rules if t.casefold() in text), None)
        if hit is not None:
            product.status, product.audit_status = "FAILED", "FAILED"
            product.audit_failed_reasons = [{"position": "product", "reasons": [hit[1]], "suggestions": [hit[2]],
                                             "listing_platform": "TIKTOK_SHOP"}]
            st.emit(product.shop_id, 5, {"product_id": int(product.id), "status": "PRODUCT_AUDIT_FAILURE",
                                         "suspended_reason": hit[1], "update_time": st.now()})
            st.emit(product.shop_id, 37, {"product_id": int(product.id), "audit": {"status": "FAILED"},
                                          "update_time": st.now()})
            continue
        first = not product.reviewed_before
        product.status, product.audit_status, product.audit_failed_reasons = "ACTIVATE", "APPROVED", []
        product.reviewed_before = True
        st.emit(product.shop_id, 5, {"product_id": int(product.id),
                                     "status": "PRODUCT_FIRST_PASS_REVIEW" if first else "PRODUCT_STATUS_CHANGED",
                                     "suspended_reason": "", "update_time": st.now()})
        st.emit(product.shop_id, 37, {"product_id": int(product.id), "audit": {"status": "APPROVED"},
                                      "update_time": st.now()})
    return decided


def _apply_sku_edits(st: SandboxState, currency: str, product: Product, skus: list[dict[str, Any]],
                     partial: bool) -> None:
    by_id = {s.id: s for s in product.skus}
    keep: list[Sku] = []
    for s in skus:
        sid = str(s.get("id") or "")
        if sid and sid not in by_id:
            raise _refuse(12052557, "The SKU ID does not belong to the product.")
        sku = by_id.get(sid) if sid else next(
            (x for x in product.skus if s.get("seller_sku") and x.seller_sku == s.get("seller_sku")), None)
        if sku is None:
            if partial:
                raise _refuse(12019056, "sku not allow add")
            sku = _new_sku(st, product, currency, {
                "seller_sku": s.get("seller_sku") or "",
                "price": _price_from(s.get("price") or {}, currency),
                "inventory": _sku_inventory_from_body(st, product.shop_id, s.get("inventory") or []),
                "sales_attributes": s.get("sales_attributes") or [],
            })
            st.skus[sku.id] = sku
        else:
            if s.get("price"):
                sku.price = _price_from(s["price"], currency)
            if s.get("seller_sku"):
                sku.seller_sku = str(s["seller_sku"])
            if s.get("inventory"):
                new_inv = _sku_inventory_from_body(st, product.shop_id, s["inventory"])
                if set(new_inv) != set(sku.inventory):
                    raise _refuse(12052533, "Removal, addition, and change of warehouses are not permitted. "
                                            "Please specify the original warehouses for the SKUs.")
                _set_available(sku, new_inv)
        keep.append(sku)
    if not partial:
        for sku in product.skus:
            if sku not in keep:
                if any(sku.committed.values()):
                    raise _refuse(12019057, "sku not allow delete")
                st.skus.pop(sku.id, None)
        product.skus = keep


def _set_available(sku: Sku, new_inv: dict[str, int]) -> None:
    if sku.promotion_locked and any(q < sku.inventory.get(w, 0) for w, q in new_inv.items()):
        raise _refuse(12052393, "Product locked for Promotion and stock can't be updated below current stock")
    for wid, qty in new_inv.items():
        sku.inventory[wid] = qty
        sku.committed.setdefault(wid, 0)


def api_set_status(st: SandboxState, shop_id: str, product_ids: list[str], activate: bool) -> dict[str, Any]:
    if len(product_ids) > 20:
        raise _refuse(12019120, "The number of provided product IDs exceeds the limit.")
    errors: list[dict[str, Any]] = []
    now = st.now()
    for pid in product_ids:
        product = st.products.get(pid)
        if product is None or product.status == "DELETED":
            errors.append({"code": 12052032, "message": "The product does not exist", "detail": {"product_id": pid}})
            continue
        if product.shop_id != shop_id:
            errors.append({"code": 12052048, "message": "You cannot edit the specified product(s) as it isn't "
                           "listed in your account or shop.", "detail": {"product_id": pid}})
            continue
        allowed = ("SELLER_DEACTIVATED", "DRAFT") if activate else ("ACTIVATE",)
        if product.status not in allowed:
            errors.append({"code": 12052901, "message": "The product in its current status is not available for "
                           "this operation.", "detail": {"product_id": pid}})
            continue
        product.status = "ACTIVATE" if activate else "SELLER_DEACTIVATED"
        product.update_time = now
        st.emit(shop_id, 5, {"product_id": int(pid), "status": "PRODUCT_STATUS_CHANGED", "suspended_reason": "",
                             "update_time": now})
    return {"errors": errors} if errors else {}


def api_update_inventory(st: SandboxState, shop_id: str, product_id: str, body: dict[str, Any]) -> dict[str, Any]:
    product = own_product(st, shop_id, product_id)
    if product.status != "ACTIVATE":
        raise _refuse(12052901, "The product in its current status is not available for this operation. "
                                "Change the product status and try again.")
    skus = body["skus"]
    if not skus:
        raise _refuse(12052902, "The SKU list is empty.")
    ids = [str(s["id"]) for s in skus]
    if len(ids) != len(set(ids)):
        raise _refuse(12052553, "Sku id duplicate")
    planned: list[tuple[Sku, dict[str, int]]] = []
    for s in skus:
        sku = st.skus.get(str(s["id"]))
        if sku is None or sku.product_id != product.id:
            raise _refuse(12052556, "The SKU id not exist.")
        assigned = set(sku.inventory)
        new_inv: dict[str, int] = {}
        for item in s["inventory"]:
            wid = str(item.get("warehouse_id") or "")
            if not wid:
                if len(assigned) > 1:
                    raise _refuse(12019028, "Multiple warehouses detected. Include all warehouse IDs and the "
                                            "corresponding details and try again.")
                wid = next(iter(assigned))
            wh = st.warehouses.get(wid)
            if wh is None:
                raise _refuse(12052097, "The warehouse does not exist")
            if wh.shop_id != shop_id:
                raise _refuse(12052530, f"The warehouse '{wid}' does not belong to this shop/seller.")
            if wh.fbt:
                raise _refuse(12052144, "platform warehouse not support to edit")
            if wid not in assigned:
                raise _refuse(12052533, "Removal, addition, and change of warehouses are not permitted. Please "
                                        "specify the original warehouses for the SKUs.")
            new_inv[wid] = int(item["quantity"])
        missing = {w for w in assigned if not st.warehouses[w].fbt} - set(new_inv)
        if missing:
            raise _refuse(12019028, "Multiple warehouses detected. Include all warehouse IDs and the "
                                    "corresponding details and try again.")
        planned.append((sku, new_inv))
    for sku, new_inv in planned:  # all-or-nothing: validate every SKU first
        if sku.promotion_locked and any(q < sku.inventory.get(w, 0) for w, q in new_inv.items()):
            raise _refuse(12052393, "Product locked for Promotion and stock can't be updated below current stock")
    for sku, new_inv in planned:
        _set_available(sku, new_inv)
    product.update_time = st.now()
    return {}


def api_update_prices(st: SandboxState, shop_id: str, product_id: str, body: dict[str, Any]) -> dict[str, Any]:
    shop = st.shop(shop_id)
    product = own_product(st, shop_id, product_id)
    if product.status in ("FREEZE", "PLATFORM_DEACTIVATED"):
        raise _refuse(12052901, "The product in its current status is not available for this operation.")
    if not body["skus"]:
        raise _refuse(12052902, "The SKU list is empty.")
    ids = [str(s["id"]) for s in body["skus"]]
    if len(ids) != len(set(ids)):
        raise _refuse(12052553, "Sku id duplicate")
    planned = []
    for s in body["skus"]:
        sku = st.skus.get(str(s["id"]))
        if sku is None or sku.product_id != product.id:
            raise _refuse(12052557, "The SKU ID does not belong to the product.")
        planned.append((sku, _price_from(s["price"], shop.currency),
                        (s.get("list_price") or {}).get("amount")))
    for sku, price, list_price in planned:
        sku.price = price
        if list_price:
            sku.list_price = dec(list_price, "list_price")
    product.update_time = st.now()
    return {}


# ----------------------------------------------------------------------------- serialisation
def _image(img: dict[str, Any]) -> dict[str, Any]:
    uri = str(img.get("uri") or "")
    url = f"https://p16-sandbox.tiktokcdn.invalid/{uri}~tplv-origin.jpeg"
    return {"uri": uri, "urls": [url], "thumb_urls": [url], "width": 800, "height": 800}


def sku_json(st: SandboxState, sku: Sku, detail: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": sku.id,
        "seller_sku": sku.seller_sku,
        "price": {"currency": sku.currency, "sale_price": fmt(sku.price, sku.currency),
                  "tax_exclusive_price": fmt(sku.price, sku.currency)},
        "inventory": [{"warehouse_id": w, "quantity": max(0, q)} for w, q in sorted(sku.inventory.items())],
    }
    if sku.list_price is not None:
        out["list_price"] = {"amount": fmt(sku.list_price, sku.currency), "currency": sku.currency}
    if detail:
        out["sales_attributes"] = [
            {"id": str(a.get("id", "")), "name": str(a.get("name", "")), "value_id": str(a.get("value_id", "")),
             "value_name": str(a.get("value_name", ""))} for a in sku.sales_attributes
        ]
        out["external_sku_id"] = sku.external_sku_id
        out["status_info"] = {"status": "NORMAL"}
    return out


def product_json(st: SandboxState, p: Product) -> dict[str, Any]:
    brand = next((b for b in BRANDS if b[0] == p.brand_id), None)
    out: dict[str, Any] = {
        "id": p.id,
        "title": p.title,
        "description": p.description,
        "status": p.status,
        "create_time": p.create_time,
        "update_time": p.update_time,
        "category_chains": category_chain(p.category_id),
        "main_images": [_image(i) for i in p.main_images],
        "skus": [sku_json(st, s, detail=True) for s in p.skus],
        "package_weight": dict(p.package_weight),
        "product_attributes": list(p.product_attributes),
        "external_product_id": p.external_product_id,
        "audit": {"status": p.audit_status},
        "audit_failed_reasons": [dict(r) for r in p.audit_failed_reasons],
        "is_cod_allowed": False,
        "has_draft": False,
    }
    if brand:
        out["brand"] = {"id": brand[0], "name": brand[1]}
    return out


def product_summary_json(st: SandboxState, p: Product) -> dict[str, Any]:
    return {
        "id": p.id,
        "title": p.title,
        "status": p.status,
        "create_time": p.create_time,
        "update_time": p.update_time,
        "sales_regions": [st.shops[p.shop_id].region],
        "skus": [sku_json(st, s, detail=False) for s in p.skus],
        "audit": {"status": p.audit_status},
        "has_draft": False,
        "is_not_for_sale": False,
    }


def inventory_json(st: SandboxState, p: Product, sku_filter: set[str] | None) -> dict[str, Any]:
    skus = []
    for s in p.skus:
        if sku_filter and s.id not in sku_filter:
            continue
        avail = sum(max(0, q) for q in s.inventory.values())
        committed = sum(s.committed.values())
        skus.append({
            "id": s.id,
            "seller_sku": s.seller_sku,
            "total_available_quantity": avail,
            "total_committed_quantity": committed,
            "total_available_inventory_distribution": {"in_shop_inventory": {"quantity": avail}},
            "warehouse_inventory": [
                {"warehouse_id": w, "available_quantity": max(0, q), "committed_quantity": s.committed.get(w, 0)}
                for w, q in sorted(s.inventory.items())
            ],
        })
    return {"product_id": p.id, "skus": skus}

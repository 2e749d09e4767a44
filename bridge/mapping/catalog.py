"""NetSuite items and TikTok products (pure): SKU matching, the audit, and listings built from items.

Matching: a TikTok SKU matches the NetSuite item whose ``match.by`` field (``itemid`` by default)
equals its seller SKU, both normalised by the one SKU rule (``bridge.mapping.skus``: case and
whitespace as ``match.case`` / ``match.spaces`` say); ``match.overrides`` pins a seller SKU to an
item id. Matrix parents never match (their children hold the stock); an ambiguous
key (two NetSuite items) matches nothing until an override says which. Several TikTok SKUs of one
shop may sell the same item (they split its stock, see ``bridge.mapping.inventory``); the audit
lists them as duplicates.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bridge.mapping.catalog_spec import CatalogSettings, CategoryRule, MatchSpec

MATCHABLE_TYPES = frozenset({"InvtPart", "Assembly", "Kit", "NonInvtPart", ""})
STOCK_TYPES = frozenset({"InvtPart", "Assembly"})


@dataclass(frozen=True)
class NsItem:
    """A NetSuite item as SuiteQL lists it."""

    id: str
    itemid: str
    upccode: str = ""
    externalid: str = ""
    display_name: str = ""
    itemtype: str = "InvtPart"
    matrix: str = ""  # PARENT | CHILD | ""
    parent: str | None = None
    inactive: bool = False

    def key(self, by: str) -> str:
        return {"itemid": self.itemid, "upccode": self.upccode, "externalid": self.externalid}.get(by, "")

    @property
    def matchable(self) -> bool:
        return self.matrix != "PARENT" and self.itemtype in MATCHABLE_TYPES


@dataclass(frozen=True)
class TtSku:
    """A TikTok SKU as the product list shows it."""

    product_id: str
    sku_id: str
    seller_sku: str
    product_status: str = ""
    warehouses: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    title: str = ""


@dataclass(frozen=True)
class MatchRow:
    status: str  # matched | unmatched_tiktok | unmatched_netsuite | ambiguous_netsuite | override_missing
    shop_id: str
    seller_sku: str = ""
    product_id: str = ""
    sku_id: str = ""
    item_id: str = ""
    item_key: str = ""
    duplicate_tiktok: bool = False
    detail: str = ""

    CSV_FIELDS = ("shop_id", "status", "seller_sku", "product_id", "sku_id", "item_id", "item_key",
                  "duplicate_tiktok", "detail")

    def as_csv(self) -> dict[str, str]:
        return {k: str(getattr(self, k)) for k in self.CSV_FIELDS}


@dataclass
class MatchResult:
    shop_id: str
    rows: list[MatchRow] = field(default_factory=list)
    matches: dict[str, str] = field(default_factory=dict)  # TikTok sku id -> NetSuite item id
    listings: dict[str, int] = field(default_factory=dict)  # NetSuite item id -> matched TikTok SKUs in the shop
    duplicate_netsuite_keys: dict[str, list[str]] = field(default_factory=dict)  # key -> item ids

    def counts(self) -> dict[str, int]:
        c = Counter(r.status for r in self.rows)
        tiktok = sum(1 for r in self.rows if r.sku_id)
        return {
            "tiktok_skus": tiktok,
            "matched": c["matched"],
            "unmatched_tiktok": c["unmatched_tiktok"],
            "unmatched_netsuite": c["unmatched_netsuite"],
            "ambiguous_netsuite": c["ambiguous_netsuite"],
            "override_missing": c["override_missing"],
            "duplicate_tiktok_skus": sum(1 for r in self.rows if r.duplicate_tiktok),
            "duplicate_netsuite_keys": len(self.duplicate_netsuite_keys),
        }


def match_skus(shop_id: str, skus: Sequence[TtSku], items: Sequence[NsItem], spec: MatchSpec) -> MatchResult:
    """Link every TikTok SKU of one shop to a NetSuite item, and list what is left over (pure)."""
    result = MatchResult(shop_id)
    by_id = {i.id: i for i in items}
    index: dict[str, list[NsItem]] = defaultdict(list)
    for it in items:
        k = spec.key(it.key(spec.by))
        if it.matchable and k:
            index[k].append(it)
    result.duplicate_netsuite_keys = {k: sorted(i.id for i in v) for k, v in index.items() if len(v) > 1}
    seller_counts = Counter(spec.key(s.seller_sku) for s in skus if spec.key(s.seller_sku))
    matched_items: set[str] = set()
    for sku in sorted(skus, key=lambda s: (s.product_id, s.sku_id)):
        dup = bool(spec.key(sku.seller_sku)) and seller_counts[spec.key(sku.seller_sku)] > 1

        def row(status: str, sku: TtSku = sku, dup: bool = dup, **kw: str) -> MatchRow:
            return MatchRow(status, shop_id, sku.seller_sku, sku.product_id, sku.sku_id, duplicate_tiktok=dup, **kw)

        override = spec.override(sku.seller_sku)
        item: NsItem | None
        if override is not None:
            item = by_id.get(override)
            if item is None:
                result.rows.append(row("override_missing", item_id=override, detail=(
                    f"match.overrides names item {override}, which NetSuite does not list")))
                continue
            result.rows.append(row("matched", item_id=item.id, item_key=item.key(spec.by), detail="override"))
        elif not sku.seller_sku.strip():
            result.rows.append(row("unmatched_tiktok", detail="the TikTok SKU has no seller SKU"))
            continue
        else:
            found = index.get(spec.key(sku.seller_sku), [])
            if not found:
                result.rows.append(row("unmatched_tiktok", detail=f"no NetSuite item has {spec.by} {sku.seller_sku!r}"))
                continue
            if len(found) > 1:
                result.rows.append(row("ambiguous_netsuite", item_key=sku.seller_sku, detail=(
                    f"NetSuite items {', '.join(sorted(i.id for i in found))} share {spec.by} {sku.seller_sku!r}; "
                    "pin one under match.overrides")))
                continue
            item = found[0]
            result.rows.append(row("matched", item_id=item.id, item_key=item.key(spec.by)))
        assert item is not None
        result.matches[sku.sku_id] = item.id
        matched_items.add(item.id)
        result.listings[item.id] = result.listings.get(item.id, 0) + 1
    for it in sorted(items, key=lambda i: i.id):
        if it.matchable and not it.inactive and it.itemtype in STOCK_TYPES and it.id not in matched_items:
            result.rows.append(MatchRow("unmatched_netsuite", shop_id, item_id=it.id, item_key=it.key(spec.by),
                                        detail=f"no TikTok SKU of shop {shop_id} sells {it.itemid!r}"))
    return result


# --- listings from NetSuite items ------------------------------------------------------------------


@dataclass(frozen=True)
class ItemDetail:
    """A NetSuite item with the fields a listing needs (``fields`` keeps the raw REST record)."""

    id: str
    itemid: str
    display_name: str = ""
    description: str = ""
    inactive: bool = False
    matrix: str = ""
    parent: str | None = None
    klass: str = ""
    weight: Decimal | None = None
    weight_unit: str = ""
    fields: Mapping[str, Any] = field(default_factory=dict)

    def value(self, name: str | None) -> Any:
        if not name:
            return None
        v = self.fields.get(name)
        if isinstance(v, dict):
            return v.get("refName") or v.get("id")
        return v


@dataclass
class ItemGroup:
    """The items behind one TikTok product: a matrix parent and its children, or one item."""

    parent: ItemDetail | None
    children: list[ItemDetail]

    @property
    def key_item(self) -> ItemDetail:
        return self.parent or self.children[0]

    @property
    def inactive(self) -> bool:
        return self.key_item.inactive or all(c.inactive for c in self.children)


def group_items(items: Sequence[ItemDetail]) -> list[ItemGroup]:
    parents = {i.id: i for i in items if i.matrix == "PARENT"}
    kids: dict[str, list[ItemDetail]] = defaultdict(list)
    groups: list[ItemGroup] = []
    for i in items:
        if i.matrix == "PARENT":
            continue
        if i.parent and i.parent in parents:
            kids[i.parent].append(i)
        else:
            groups.append(ItemGroup(None, [i]))
    for pid, parent in parents.items():
        if kids.get(pid):
            groups.append(ItemGroup(parent, sorted(kids[pid], key=lambda c: c.id)))
    return sorted(groups, key=lambda g: g.key_item.id)


_WEIGHT_UNITS = {"lb": ("POUND", Decimal(1)), "oz": ("POUND", Decimal(1) / Decimal(16)),
                 "kg": ("KILOGRAM", Decimal(1)), "g": ("GRAM", Decimal(1))}


def _category(settings: CatalogSettings, item: ItemDetail, parent: ItemDetail | None) -> CategoryRule | None:
    for rule in settings.categories:
        ok = True
        for cond, val in rule.when.items():
            if cond == "itemid_prefix":
                ok = ok and item.itemid.upper().startswith(val.upper())
            elif cond == "class":
                ok = ok and val in (item.klass, str(item.value("class") or ""))
            elif cond == "parent":
                ok = ok and parent is not None and parent.id == val
            elif cond == "item":
                ok = ok and item.id == val
        if ok:
            return rule
    return None


@dataclass
class Listing:
    """The TikTok product one item group becomes, or why it cannot yet."""

    item_id: str  # the parent's (or single item's) NetSuite id
    body: dict[str, Any]
    sku_items: dict[str, str]  # seller SKU -> NetSuite item id
    problems: list[str] = field(default_factory=list)

    @property
    def content_hash(self) -> str:
        blob = json.dumps({k: v for k, v in self.body.items() if k != "idempotency_key"}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:24]


def seller_sku_of(item: ItemDetail, spec: MatchSpec) -> str:
    for sku, iid in spec.overrides.items():
        if iid == item.id:
            return sku
    if spec.by == "upccode":
        return str(item.fields.get("upcCode") or "")
    if spec.by == "externalid":
        return str(item.fields.get("externalId") or "")
    return item.itemid


def _strip_name(child: str, parent: str) -> str:
    out = child[len(parent):] if parent and child.lower().startswith(parent.lower()) else child
    return re.sub(r"^[\s:\-_/]+", "", out).strip() or child


def plan_listing(
    group: ItemGroup,
    settings: CatalogSettings,
    *,
    prices: Mapping[str, Decimal],
    currency: str,
    warehouse_id: str,
    images: Sequence[str],
    shop_id: str,
) -> Listing:
    """The Create/Edit Product body for one item group (pure). ``prices`` per NetSuite item id."""
    d = settings.defaults
    key = group.key_item
    first = group.children[0]
    rule = _category(settings, first, group.parent)
    problems: list[str] = []
    category_id = rule.category_id if rule else d.category_id
    if not category_id:
        problems.append(f"no TikTok category for item {key.itemid}: add a categories rule or defaults.category_id")
    title = str(key.value(d.title_field) or key.display_name or key.itemid).strip()
    raw_desc = str(key.value(d.description_field) or key.description or title).strip()
    description = d.description_template.format(description=raw_desc, title=title, itemid=key.itemid)
    skus: list[dict[str, Any]] = []
    sku_items: dict[str, str] = {}
    multi = len(group.children) > 1 or group.parent is not None
    for child in group.children:
        seller_sku = seller_sku_of(child, settings.match)
        if not seller_sku:
            problems.append(f"item {child.id} has no {settings.match.by} to use as seller SKU")
            continue
        price = prices.get(child.id)
        if price is None or price <= 0:
            problems.append(f"item {child.itemid} has no positive price at level {d.price_level} in {currency}")
            continue
        sku: dict[str, Any] = {
            "seller_sku": seller_sku,
            "external_sku_id": child.id,
            "price": {"amount": format(price, "f"), "currency": currency},
            "inventory": [{"warehouse_id": warehouse_id, "quantity": d.initial_quantity}],
        }
        if multi:
            attrs = []
            for va in d.variant_attributes:
                value = child.value(va.field)
                if value not in (None, ""):
                    a = {"name": va.name, "value_name": str(value)}
                    if va.attribute_id:
                        a["id"] = va.attribute_id
                    attrs.append(a)
            if not attrs:
                parent_name = group.parent.display_name if group.parent else ""
                attrs = [{"name": "Variant", "value_name": _strip_name(child.display_name or child.itemid,
                                                                        parent_name)}]
            sku["sales_attributes"] = attrs
        skus.append(sku)
        sku_items[seller_sku] = child.id
    body: dict[str, Any] = {
        "title": title[:255],
        "description": description,
        "category_id": category_id or "",
        "main_images": [{"uri": u} for u in images[:9]],
        "skus": skus,
        "external_product_id": key.id,
        "save_mode": d.save_mode,
    }
    brand = (rule.brand_id if rule and rule.brand_id else None) or d.brand_id
    if brand:
        body["brand_id"] = brand
    weight, unit = key.weight, key.weight_unit
    if weight is None:
        w = first.value(d.weight.field) if d.weight.field else None
        weight = Decimal(str(w)) if w not in (None, "") else None
        unit = str(first.value(d.weight.unit_field) or "") if d.weight.unit_field else ""
    if weight is not None and weight > 0:
        tt_unit, factor = _WEIGHT_UNITS.get(unit.lower(), (d.weight.unit, Decimal(1)))
        body["package_weight"] = {"value": format((weight * factor).quantize(Decimal("0.01")).normalize(), "f"),
                                  "unit": tt_unit}
    elif d.weight.default is not None:
        body["package_weight"] = {"value": format(d.weight.default, "f"), "unit": d.weight.unit}
    else:
        problems.append(f"item {key.itemid} has no weight and catalog.yaml sets no defaults.weight.default")
    dims = {}
    for name in ("length", "width", "height"):
        v = key.value(getattr(d.dimensions, f"{name}_field")) or getattr(d.dimensions, name)
        if v not in (None, ""):
            dims[name] = str(int(Decimal(str(v)).to_integral_value(rounding="ROUND_CEILING")))
    if len(dims) == 3:
        body["package_dimensions"] = {**dims, "unit": d.dimensions.unit}
    attributes = {**d.attributes, **(rule.attributes if rule else {})}
    if attributes:
        body["product_attributes"] = [{"id": aid, "values": [{"name": v} for v in vals]}
                                      for aid, vals in sorted(attributes.items())]
    if not images:
        problems.append(f"item {key.itemid} has no image and catalog.yaml sets no defaults.images.fallback_uris")
    if not skus:
        problems.append(f"item {key.itemid}: no SKU can be listed")
    # Create Product's idempotency_key is not the listing's: the catalog flow draws one per create
    # intent and keeps it while the content changes (bridge.flows.catalog, CatalogSync._create).
    return Listing(key.id, body, sku_items, problems)


@dataclass(frozen=True)
class AttributeRule:
    id: str
    name: str = ""
    required: bool = False
    customizable: bool = True
    sales: bool = False
    values: tuple[tuple[str, str], ...] = ()  # (id, name)


def check_category(body: Mapping[str, Any], attributes: Sequence[AttributeRule], *,
                   package_dimensions_required: bool = False) -> list[str]:
    """What TikTok's category rules would refuse in ``body`` (checked before sending)."""
    problems: list[str] = []
    by_id = {a.id: a for a in attributes}
    given = {str(a.get("id")): a for a in body.get("product_attributes") or []}
    for a in attributes:
        if a.required and not a.sales and a.id not in given:
            problems.append(f"category {body.get('category_id')} requires attribute {a.name or a.id} ({a.id}): add it "
                            "under defaults.attributes or the category rule in catalog.yaml")
    for aid, attr in given.items():
        rule = by_id.get(aid)
        if rule is None:
            problems.append(f"attribute {aid} does not exist in category {body.get('category_id')}")
            continue
        known_names = {n.casefold() for _, n in rule.values}
        known_ids = {i for i, _ in rule.values}
        for v in attr.get("values") or []:
            val = str(v.get("id") or v.get("name") or "")
            if not rule.customizable and val not in known_ids and val.casefold() not in known_names:
                problems.append(f"attribute {rule.name or aid} does not accept {val!r} (choose one of "
                                f"{', '.join(n for _, n in rule.values)})")
    if package_dimensions_required and "package_dimensions" not in body:
        problems.append(f"category {body.get('category_id')} requires package dimensions: set "
                        "defaults.dimensions (or the *_field names) in catalog.yaml")
    sales_names = {str(a.get("name")) for s in body.get("skus") or [] for a in s.get("sales_attributes") or []}
    if len(sales_names) > 3:
        problems.append(f"a product has at most 3 sales attributes, not {len(sales_names)}")
    if len(body.get("skus") or []) > 100:
        problems.append("a product has at most 100 SKUs")
    if not body.get("main_images"):
        problems.append("a product needs at least one main image")
    title = str(body.get("title") or "")
    if not 1 <= len(title) <= 255:
        problems.append("the title must be 1-255 characters")
    return problems


@dataclass(frozen=True)
class ExistingProduct:
    id: str
    status: str
    title: str = ""
    description: str = ""
    prices: Mapping[str, Decimal] = field(default_factory=dict)  # seller SKU -> price
    sku_ids: Mapping[str, str] = field(default_factory=dict)  # seller SKU -> TikTok sku id


def listing_changes(existing: ExistingProduct, listing: Listing) -> list[str]:
    """Human-readable differences between TikTok's product and the listing (for dry runs)."""
    body = listing.body
    out: list[str] = []
    if existing.title != body["title"]:
        out.append(f"title: {existing.title!r} -> {body['title']!r}")
    if existing.description and existing.description != body["description"]:
        out.append("description changed")
    for sku in body["skus"]:
        s = sku["seller_sku"]
        if s not in existing.sku_ids:
            out.append(f"new SKU {s}")
            continue
        new = Decimal(sku["price"]["amount"])
        old = existing.prices.get(s)
        if old is not None and old != new:
            out.append(f"{s} price {old} -> {new}")
    return out


__all__ = [
    "AttributeRule",
    "ExistingProduct",
    "ItemDetail",
    "ItemGroup",
    "Listing",
    "MatchResult",
    "MatchRow",
    "NsItem",
    "TtSku",
    "check_category",
    "group_items",
    "listing_changes",
    "match_skus",
    "plan_listing",
    "seller_sku_of",
]

"""The inventory, catalog and price ports over the real clients.

Services: ``tiktok.inventory`` / ``tiktok.catalog`` (one adapter over ``bridge.tiktok``) and
``netsuite.inventory`` (SuiteQL for locations, items and ``inventoryItemLocations``; REST record
reads for item details and price levels).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import requests

from bridge.errors import FatalError, RetriableError
from bridge.mapping.catalog import AttributeRule, ItemDetail, NsItem
from bridge.mapping.inventory import WarehouseInfo
from bridge.mapping.skus import MatchSpec
from bridge.netsuite.client import NetSuiteClient
from bridge.ports.netsuite import LocationInfo
from bridge.ports.tiktok import (
    AuditFailure,
    CreatedProduct,
    ProductInfo,
    Refusal,
    SkuInfo,
    TikTokRefused,
    WarehouseStock,
)
from bridge.tiktok.wiring import TikTok

log = logging.getLogger("bridge.adapters.inventory")

IN_CHUNK = 200
STOCK_SEARCH_MAX = 100  # Inventory Search: at most 100 product ids
ITEM_TYPES = ("InvtPart", "Assembly", "Kit", "NonInvtPart")
RECORD_TYPE = {"InvtPart": "inventoryItem", "Assembly": "assemblyItem", "Kit": "kitItem",
               "NonInvtPart": "nonInventorySaleItem"}
KEY_COLUMNS = {"itemid": "itemid", "upccode": "upccode", "externalid": "externalid", "id": "id"}
ITEM_COLUMNS = "id, itemid, upccode, externalid, displayname, itemtype, matrixtype, parent, isinactive"
IMAGE_MAX_BYTES = 5 * 1024 * 1024


def sql_literal(value: str) -> str:
    """A SuiteQL string literal (single quotes doubled); REST SuiteQL takes no bind parameters."""
    return "'" + str(value).replace("'", "''") + "'"


def _chunks(values: Sequence[str], n: int = IN_CHUNK) -> Iterator[list[str]]:
    for i in range(0, len(values), n):
        yield list(values[i:i + n])


def _ref(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("id") or "")
    return "" if value is None else str(value)


def _units(value: Any) -> int:
    """A NetSuite quantity as whole units (fractions of a unit cannot be sold): floor."""
    try:
        return math.floor(Decimal(str(value))) if value not in (None, "") else 0
    except InvalidOperation:
        return 0


def _flag(value: Any) -> bool:
    return value is True or str(value).upper() in ("T", "TRUE")


# --- TikTok ---------------------------------------------------------------------------------------


def _refusal_from(err: Exception) -> Refusal:
    code = getattr(err, "code", None)
    message = str(getattr(err, "tiktok_message", "") or err)
    return Refusal(str(code if code is not None else "REFUSED"), message)


def _batch_refusals(result: Any) -> list[Refusal]:
    out: list[Refusal] = []
    for e in getattr(result, "errors", []) or []:
        detail = e.detail or {}
        extra = detail.get("extra_errors") or []
        wh = str(extra[0].get("warehouse_id") or "") if extra and isinstance(extra[0], Mapping) else ""
        out.append(Refusal(str(e.code), e.message, str(detail.get("sku_id") or detail.get("product_id") or ""), wh))
    return out


class TikTokInventoryAdapter:
    """``TikTokInventory`` and ``TikTokCatalog`` over ``bridge.tiktok`` (the ``tiktok`` service)."""

    def __init__(self, tiktok: Callable[[], TikTok], store: Any = None, session: requests.Session | None = None
                 ) -> None:
        self._tiktok = tiktok  # built on first use (bridge.bootstrap)
        self.store = store
        self.session = session or requests.Session()

    @property
    def tiktok(self) -> TikTok:
        return self._tiktok()

    def _shop(self, shop_id: str) -> Any:
        return self.tiktok.shop(shop_id)

    def _us(self, shop_id: str) -> bool:
        shop = self.store.shops.get(shop_id) if self.store is not None else None
        return bool(shop and shop.region == "US")

    # -- inventory --------------------------------------------------------------------------------
    def warehouses(self, shop_id: str) -> list[WarehouseInfo]:
        return [WarehouseInfo(w.id, w.name, w.type or "SALES_WAREHOUSE", "FBT" in (w.sub_type or "").upper(),
                              bool(w.is_default)) for w in self._shop(shop_id).logistics.warehouses()]

    @staticmethod
    def _info(p: Any) -> ProductInfo:
        cats: list[str] = []
        for c in reversed(p.category_chains or []):  # leaf first
            for k in ("id", "local_name"):
                if c.get(k):
                    cats.append(str(c[k]))
        skus = tuple(SkuInfo(
            s.id, s.seller_sku, tuple(str(i.warehouse_id) for i in s.inventory if i.warehouse_id),
            (s.price.sale_price or s.price.amount or None), s.price.currency) for s in p.skus)
        audit = tuple(AuditFailure(str(a.get("position") or ""), tuple(str(r) for r in a.get("reasons") or ()),
                                   tuple(str(x) for x in a.get("suggestions") or ()))
                      for a in p.audit_failed_reasons or () if isinstance(a, dict))
        return ProductInfo(p.id, p.status, p.title, skus, tuple(cats), p.update_time, p.description,
                           p.external_product_id, str((p.audit or {}).get("status") or ""), audit)

    def products(self, shop_id: str) -> Iterator[ProductInfo]:
        for p in self._shop(shop_id).products.search(page_size=100):
            if p.status != "DELETED":
                yield self._info(p)

    def product(self, shop_id: str, product_id: str) -> ProductInfo | None:
        from bridge.tiktok.client import TikTokError

        try:
            return self._info(self._shop(shop_id).products.get(product_id))
        except TikTokError as exc:
            if str(exc.code) in ("12052260", "12052032", "12052048"):
                return None
            raise

    def stock(self, shop_id: str, product_ids: Sequence[str]) -> dict[str, dict[str, WarehouseStock]]:
        out: dict[str, dict[str, WarehouseStock]] = {}
        for chunk in _chunks(list(product_ids), STOCK_SEARCH_MAX):
            for rec in self._shop(shop_id).products.inventory(product_ids=chunk):
                for s in rec.skus:
                    out[s.id] = {w.warehouse_id: WarehouseStock(int(w.available_quantity), int(w.committed_quantity))
                                 for w in s.warehouse_inventory}
        return out

    def update_inventory(self, shop_id: str, product_id: str,
                         quantities: Mapping[str, Mapping[str, int]]) -> list[Refusal]:
        from bridge.tiktok.client import TikTokError

        try:
            result = self._shop(shop_id).products.update_inventory(product_id, quantities)
        except TikTokError as exc:
            return [_refusal_from(exc)]
        return _batch_refusals(result)

    # -- catalog ----------------------------------------------------------------------------------
    def _with_version(self, shop_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        out = dict(body)
        if self._us(shop_id):
            out.setdefault("category_version", "v2")  # US shops list on the v2 category tree
        return out

    def create_product(self, shop_id: str, body: Mapping[str, Any]) -> CreatedProduct:
        from bridge.tiktok.client import TikTokError

        try:
            created = self._shop(shop_id).products.create(self._with_version(shop_id, body))
        except TikTokError as exc:
            raise TikTokRefused([_refusal_from(exc)]) from exc
        return CreatedProduct(created.product_id, {s.seller_sku: s.id for s in created.skus if s.seller_sku})

    def edit_product(self, shop_id: str, product_id: str, body: Mapping[str, Any]) -> list[Refusal]:
        from bridge.tiktok.client import TikTokError

        products = self._shop(shop_id).products
        try:
            if any("inventory" in s for s in body.get("skus") or []):
                products.edit(product_id, self._with_version(shop_id, body))
            else:
                products.partial_edit(product_id, dict(body))
        except TikTokError as exc:
            return [_refusal_from(exc)]
        return []

    def set_active(self, shop_id: str, product_ids: Sequence[str], active: bool) -> list[Refusal]:
        from bridge.tiktok.client import TikTokError

        products = self._shop(shop_id).products
        out: list[Refusal] = []
        for chunk in _chunks(list(product_ids), 20):
            try:
                result = products.activate(chunk) if active else products.deactivate(chunk)
            except TikTokError as exc:
                out.append(_refusal_from(exc))
                continue
            out.extend(_batch_refusals(result))
        return out

    def category_rules(self, shop_id: str, category_id: str) -> tuple[list[AttributeRule], bool]:
        from bridge.tiktok import models as m

        api = self._shop(shop_id).api
        query = {"category_version": "v2"} if self._us(shop_id) else None
        data = api.call("products.attributes", shop_id=shop_id, path_params={"category_id": category_id}, query=query)
        attrs = [m.Attribute.model_validate(a) for a in data.get("attributes") or []]
        rules = m.CategoryRules.model_validate(api.call("products.rules", shop_id=shop_id,
                                                        path_params={"category_id": category_id}, query=query))
        out = [AttributeRule(a.id, a.name, a.is_required, a.is_customizable, a.type == "SALES_PROPERTY",
                             tuple((v.id, v.name) for v in a.values)) for a in attrs]
        return out, bool((rules.package_dimension or {}).get("is_required"))

    def upload_image(self, shop_id: str, url: str) -> str:
        try:
            resp = self.session.get(url, timeout=30)
        except requests.RequestException as exc:
            raise RetriableError(f"could not fetch image {url}: {type(exc).__name__}") from exc
        if resp.status_code != 200 or not resp.content or len(resp.content) > IMAGE_MAX_BYTES:
            raise TikTokRefused([Refusal("IMAGE", f"image {url} answered HTTP {resp.status_code} "
                                                  f"({len(resp.content)} bytes)")])
        ctype = resp.headers.get("content-type", "image/jpeg").split(";")[0]
        name = url.rsplit("/", 1)[-1] or "image.jpg"
        from bridge.tiktok.client import TikTokError

        try:
            uploaded = self._shop(shop_id).products.upload_image(resp.content, filename=name, content_type=ctype)
        except TikTokError as exc:
            raise TikTokRefused([_refusal_from(exc)]) from exc
        return str(uploaded.uri)

    def update_prices(self, shop_id: str, product_id: str, prices: Mapping[str, Decimal],
                      currency: str) -> list[Refusal]:
        from bridge.tiktok.client import TikTokError

        try:
            self._shop(shop_id).products.update_prices(product_id, prices, currency)
        except TikTokError as exc:
            return [_refusal_from(exc)]
        return []


# --- NetSuite ---------------------------------------------------------------------------------------


def _ns_item(row: Mapping[str, Any]) -> NsItem:
    return NsItem(
        id=str(row.get("id")), itemid=str(row.get("itemid") or ""), upccode=str(row.get("upccode") or ""),
        externalid=str(row.get("externalid") or ""), display_name=str(row.get("displayname") or ""),
        itemtype=str(row.get("itemtype") or ""), matrix=str(row.get("matrixtype") or "").upper(),
        parent=str(row["parent"]) if row.get("parent") not in (None, "") else None,
        inactive=_flag(row.get("isinactive")),
    )


class NetSuiteInventoryAdapter:
    """``NetSuiteInventory`` over ``bridge.netsuite.client.NetSuiteClient`` (the ``netsuite`` service)."""

    def __init__(self, client: Callable[[], NetSuiteClient]) -> None:
        self._client = client  # built on first use (bridge.bootstrap)
        self._base_currency: str | None = None
        self._no_commitments = False

    @property
    def client(self) -> NetSuiteClient:
        return self._client()

    def locations(self) -> list[LocationInfo]:
        rows = self.client.suiteql("SELECT id, name, isinactive, makeinventoryavailable FROM location", key="id")
        return [LocationInfo(str(r["id"]), str(r.get("name") or ""), _flag(r.get("isinactive")),
                             r.get("makeinventoryavailable") in (None, "") or _flag(r.get("makeinventoryavailable")))
                for r in rows]

    def items(self) -> Iterator[NsItem]:
        types = ", ".join(sql_literal(t) for t in ITEM_TYPES)
        q = f"SELECT {ITEM_COLUMNS} FROM item WHERE itemtype IN ({types})"  # noqa: S608 - constants only
        for row in self.client.iter_suiteql(q, key="id"):
            yield _ns_item(row)

    def items_by_key(self, by: str, keys: Sequence[str], rule: MatchSpec | None = None) -> list[NsItem]:
        column = KEY_COLUMNS[by]
        expr = rule.sql_key(column) if rule is not None and by != "id" else column
        wanted = {rule.key(k) if rule is not None and by != "id" else k for k in keys if k} - {""}
        out: list[NsItem] = []
        for chunk in _chunks(sorted(wanted)):
            # values quoted by sql_literal, the column from a closed list
            q = (f"SELECT {ITEM_COLUMNS} FROM item "  # noqa: S608
                 f"WHERE {expr} IN ({', '.join(sql_literal(k) for k in chunk)})")
            out.extend(_ns_item(r) for r in self.client.suiteql(q))
        return out

    def availability(self, item_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for chunk in _chunks(sorted(set(item_ids))):
            q = ("SELECT item, location, quantityavailable FROM inventoryitemlocations "  # noqa: S608
                 f"WHERE item IN ({', '.join(sql_literal(i) for i in chunk)})")
            for row in self.client.suiteql(q):
                if row.get("location") in (None, ""):
                    continue
                out[(str(row["item"]), str(row["location"]))] = _units(row.get("quantityavailable"))
        return out

    def tiktok_committed(self, shop_id: str, item_ids: Sequence[str]) -> dict[tuple[str, str], int] | None:
        if self._no_commitments:
            return None
        try:
            return self._tiktok_committed(shop_id, item_ids)
        except FatalError as exc:  # an account whose SuiteQL lacks the column: stock math without it
            self._no_commitments = True
            log.warning("NetSuite commitments to TikTok orders cannot be read; TikTok's own reservations are not "
                        "used", extra={"error": str(exc)[:300]})
            return None

    def _tiktok_committed(self, shop_id: str, item_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for chunk in _chunks(sorted(set(item_ids))):
            # values quoted by sql_literal; sales order line quantities are negative in SuiteQL, so ABS
            q = ("SELECT tl.item AS item, tl.location AS location, SUM(ABS(tl.quantitycommitted)) AS q "  # noqa: S608
                 "FROM transactionline tl INNER JOIN transaction t ON t.id = tl.transaction "
                 f"WHERE t.type = 'SalesOrd' AND t.custbody_ttns_shop_id = {sql_literal(shop_id)} "
                 f"AND tl.item IN ({', '.join(sql_literal(i) for i in chunk)}) GROUP BY tl.item, tl.location")
            for row in self.client.suiteql(q):
                if row.get("location") not in (None, ""):
                    out[(str(row["item"]), str(row["location"]))] = _units(row.get("q"))
        return out

    def _types(self, item_ids: Sequence[str], with_children: bool) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for chunk in _chunks(sorted(set(item_ids))):
            ids = ", ".join(sql_literal(i) for i in chunk)
            cond = f"id IN ({ids})" + (f" OR parent IN ({ids})" if with_children else "")
            rows.extend(self.client.suiteql(f"SELECT id, itemtype FROM item WHERE {cond}"))  # noqa: S608
        return rows

    def _record(self, item_id: str, itemtype: str) -> dict[str, Any] | None:
        rtype = RECORD_TYPE.get(itemtype, "inventoryItem")
        rec: dict[str, Any] | None = self.client.get(rtype, item_id, expand=True)
        return rec

    def item_details(self, item_ids: Sequence[str]) -> list[ItemDetail]:
        out: list[ItemDetail] = []
        seen: set[str] = set()
        for row in self._types(item_ids, with_children=True):
            iid = str(row["id"])
            if iid in seen:
                continue
            seen.add(iid)
            rec = self._record(iid, str(row.get("itemtype") or ""))
            if rec is None:
                continue
            weight = rec.get("weight")
            out.append(ItemDetail(
                id=iid, itemid=str(rec.get("itemId") or ""), display_name=str(rec.get("displayName") or ""),
                description=str(rec.get("salesDescription") or rec.get("storeDetailedDescription") or ""),
                inactive=_flag(rec.get("isInactive")), matrix=_ref(rec.get("matrixType")).upper(),
                parent=_ref(rec.get("parent")) or None, klass=_ref(rec.get("class")),
                weight=Decimal(str(weight)) if weight not in (None, "") else None,
                weight_unit=_ref(rec.get("weightUnit")) or str(rec.get("weightUnits") or ""), fields=rec))
        return out

    def base_currency(self) -> str:
        if self._base_currency is None:
            rows = self.client.suiteql("SELECT id FROM currency WHERE isbasecurrency = 'T'")
            self._base_currency = str(rows[0]["id"]) if rows else "1"
        return self._base_currency

    def item_prices(self, item_ids: Sequence[str], levels: Sequence[str], currency_id: str
                    ) -> dict[tuple[str, str], Decimal]:
        """From each item's ``price`` sublist (REST): quantity-1 lines of the wanted levels in the
        currency (lines without ``currencyPage`` are in the base currency)."""
        wanted = set(levels)
        base = self.base_currency()
        out: dict[tuple[str, str], Decimal] = {}
        for row in self._types(item_ids, with_children=False):
            rec = self._record(str(row["id"]), str(row.get("itemtype") or "")) or {}
            for line in (rec.get("price") or {}).get("items") or []:
                level = _ref(line.get("priceLevel"))
                cur = _ref(line.get("currencyPage")) or base
                qty = line.get("quantity")
                qty_v = qty.get("value") if isinstance(qty, Mapping) else qty
                if level not in wanted or cur != currency_id or _units(qty_v or 0) > 1:
                    continue
                if line.get("price") not in (None, ""):
                    out[(str(row["id"]), level)] = Decimal(str(line["price"]))
        return out



__all__ = ["NetSuiteInventoryAdapter", "TikTokInventoryAdapter", "sql_literal"]

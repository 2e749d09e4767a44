"""The inventory, catalog and price ports over the real clients.

Services: ``tiktok.inventory`` / ``tiktok.catalog`` (one adapter over ``bridge.tiktok``) and
``netsuite.inventory`` (SuiteQL for locations, items and ``inventoryItemLocations``; REST record
reads for item details and price levels)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import requests

from bridge.errors import RetriableError
from bridge.mapping.catalog import AttributeRule
from bridge.mapping.inventory import WarehouseInfo
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

IN_CHUNK = 200


STOCK_SEARCH_MAX = 100  # Inventory Search: at most 100 product ids
SELLER_SKU_SEARCH_MAX = 100  # Search Products documents no maximum of seller_skus; one product has at most 100 SKUs


IMAGE_MAX_BYTES = 5 * 1024 * 1024


def _chunks(values: Sequence[str], n: int = IN_CHUNK) -> Iterator[list[str]]:
    for i in range(0, len(values), n):
        yield list(values[i:i + n])


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

    def products_with_seller_skus(self, shop_id: str, seller_skus: Sequence[str]) -> list[str]:
        wanted = sorted({str(s) for s in seller_skus if s})
        found: set[str] = set()
        for chunk in _chunks(wanted, SELLER_SKU_SEARCH_MAX):
            for p in self._shop(shop_id).products.search(seller_skus=chunk, page_size=100):
                if p.status != "DELETED":
                    found.add(str(p.id))
        return sorted(found)

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


__all__ = ["TikTokInventoryAdapter"]

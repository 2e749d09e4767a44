"""In-memory fakes of the inventory ports. They behave like TikTok and NetSuite do (refusing what
TikTok refuses: a SKU sent without all its warehouses, an FBT warehouse, lower stock on a
promotion-locked SKU, a product that is not live), they do not script answers."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from bridge.errors import RetriableError
from bridge.mapping.catalog import AttributeRule, ItemDetail, NsItem
from bridge.mapping.inventory import WarehouseInfo
from bridge.mapping.skus import MatchSpec
from bridge.ports.netsuite import LocationInfo
from bridge.ports.tiktok import CreatedProduct, ProductInfo, Refusal, SkuInfo, TikTokRefused, WarehouseStock


@dataclass
class FakeSku:
    id: str
    seller_sku: str
    stock: dict[str, int]  # warehouse -> available
    price: Decimal = Decimal("10.00")
    committed: dict[str, int] = field(default_factory=dict)  # warehouse -> reserved by open TikTok orders
    locked: bool = False  # promotion-locked stock


@dataclass
class FakeProduct:
    id: str
    skus: list[FakeSku]
    status: str = "ACTIVATE"
    title: str = "Product"
    categories: tuple[str, ...] = ()
    description: str = ""
    external_product_id: str = ""
    body: dict[str, Any] = field(default_factory=dict)


class FakeTikTok:
    def __init__(self, shop_id: str, warehouses: Sequence[WarehouseInfo]) -> None:
        self.shop_id = shop_id
        self.whs = list(warehouses)
        self.products_: dict[str, FakeProduct] = {}
        self.updates: list[tuple[str, dict[str, dict[str, int]]]] = []  # accepted and refused update calls
        self.price_updates: list[tuple[str, dict[str, Decimal], str]] = []
        self.created: list[dict[str, Any]] = []
        self.edits: list[tuple[str, dict[str, Any]]] = []
        self.status_calls: list[tuple[list[str], bool]] = []
        self.rate_limited = 0  # answer this many calls with a rate-limit error
        self.refuse_zero = False  # answer a quantity below the documented 1 with 12052055, as a strict TikTok
        self.price_locked: set[str] = set()
        self.refused_images: dict[str, str] = {}  # image URL -> the message TikTok refuses it with
        self.attributes: dict[str, list[AttributeRule]] = {}
        self._ids = itertools.count(9000)
        self.lock = threading.Lock()

    # -- setup ----------------------------------------------------------------------------------
    def add(self, pid: str, skus: list[FakeSku], **kw: Any) -> FakeProduct:
        p = FakeProduct(pid, skus, **kw)
        self.products_[pid] = p
        return p

    def sku(self, sku_id: str) -> FakeSku:
        return next(s for p in self.products_.values() for s in p.skus if s.id == sku_id)

    def fbt(self) -> set[str]:
        return {w.id for w in self.whs if w.fbt}

    # -- TikTokInventory ------------------------------------------------------------------------
    def warehouses(self, shop_id: str) -> list[WarehouseInfo]:
        return list(self.whs)

    def _info(self, p: FakeProduct, detail: bool) -> ProductInfo:
        return ProductInfo(p.id, p.status, p.title, tuple(SkuInfo(s.id, s.seller_sku, tuple(sorted(s.stock)), s.price,
                                                                  "USD") for s in p.skus),
                           p.categories if detail else (), None, p.description, p.external_product_id)

    def products(self, shop_id: str) -> Iterator[ProductInfo]:
        for p in list(self.products_.values()):
            yield self._info(p, detail=False)

    def product(self, shop_id: str, product_id: str) -> ProductInfo | None:
        p = self.products_.get(product_id)
        return None if p is None else self._info(p, detail=True)

    def stock(self, shop_id: str, product_ids: Sequence[str]) -> dict[str, dict[str, WarehouseStock]]:
        return {s.id: {w: WarehouseStock(q, s.committed.get(w, 0)) for w, q in s.stock.items()}
                for pid in product_ids for s in self.products_[pid].skus}

    def sell(self, sku_id: str, warehouse_id: str, qty: int = 1) -> None:
        """A TikTok buyer orders: TikTok moves the units from available to committed."""
        sku = self.sku(sku_id)
        sku.stock[warehouse_id] -= qty
        sku.committed[warehouse_id] = sku.committed.get(warehouse_id, 0) + qty

    def update_inventory(self, shop_id: str, product_id: str,
                         quantities: Mapping[str, Mapping[str, int]]) -> list[Refusal]:
        with self.lock:
            self.updates.append((product_id, {k: dict(v) for k, v in quantities.items()}))
            if self.rate_limited:
                self.rate_limited -= 1
                raise RetriableError("TikTok products.inventory.update failed: HTTP 429, code 36009002")
            p = self.products_.get(product_id)
            if p is None:
                return [Refusal("12052032", "The product does not exist")]
            if p.status != "ACTIVATE":
                return [Refusal("12052901", "The product in its current status is not available for this operation.")]
            if self.refuse_zero and any(q < 1 for per_wh in quantities.values() for q in per_wh.values()):
                return [Refusal("12052055", "The SKU inventory quantity for the warehouse must be within allowed "
                                            "limits.")]
            planned = []
            for sku_id, per_wh in quantities.items():
                sku = next((s for s in p.skus if s.id == sku_id), None)
                if sku is None:
                    return [Refusal("12052556", "The SKU id not exist.")]
                if set(per_wh) & self.fbt():
                    return [Refusal("12052144", "platform warehouse not support to edit")]
                if set(per_wh) - set(sku.stock):
                    return [Refusal("12052533", "Removal, addition, and change of warehouses are not permitted.")]
                if (set(sku.stock) - self.fbt()) - set(per_wh):
                    return [Refusal("12019028", "Multiple warehouses detected. Include all warehouse IDs.")]
                planned.append((sku, per_wh))
            for sku, per_wh in planned:  # all or nothing, like TikTok
                if sku.locked and any(q < sku.stock.get(w, 0) for w, q in per_wh.items()):
                    return [Refusal("12052393", "Product locked for Promotion and stock can't be updated below "
                                                "current stock")]
            for sku, per_wh in planned:
                sku.stock.update(per_wh)
            return []

    # -- TikTokCatalog ---------------------------------------------------------------------------
    def create_product(self, shop_id: str, body: Mapping[str, Any]) -> CreatedProduct:
        with self.lock:
            self.created.append(dict(body))
            if not body.get("main_images"):
                raise TikTokRefused([Refusal("12052028", "Main product image is required")])
            pid = str(next(self._ids))
            skus = []
            for s in body["skus"]:
                wh = {i["warehouse_id"]: int(i["quantity"]) for i in s["inventory"]}
                skus.append(FakeSku(str(next(self._ids)), s["seller_sku"], wh, Decimal(s["price"]["amount"])))
            self.add(pid, skus, title=body["title"], description=body["description"],
                     external_product_id=str(body.get("external_product_id") or ""), body=dict(body))
            return CreatedProduct(pid, {s.seller_sku: s.id for s in skus})

    def products_with_seller_skus(self, shop_id: str, seller_skus: Sequence[str]) -> list[str]:
        with self.lock:
            return sorted(pid for pid, p in self.products_.items()
                          if p.status != "DELETED" and any(s.seller_sku in seller_skus for s in p.skus))

    def edit_product(self, shop_id: str, product_id: str, body: Mapping[str, Any]) -> list[Refusal]:
        with self.lock:
            self.edits.append((product_id, dict(body)))
            p = self.products_[product_id]
            p.title = body.get("title", p.title)
            p.description = body.get("description", p.description)
            for s in body.get("skus") or []:
                existing = next((x for x in p.skus if x.id == s.get("id") or x.seller_sku == s.get("seller_sku")),
                                None)
                if existing is None:
                    wh = {i["warehouse_id"]: int(i["quantity"]) for i in s.get("inventory") or []}
                    p.skus.append(FakeSku(str(next(self._ids)), s["seller_sku"], wh, Decimal(s["price"]["amount"])))
            return []

    def set_active(self, shop_id: str, product_ids: Sequence[str], active: bool) -> list[Refusal]:
        with self.lock:
            self.status_calls.append((list(product_ids), active))
            for pid in product_ids:
                self.products_[pid].status = "ACTIVATE" if active else "SELLER_DEACTIVATED"
            return []

    def category_rules(self, shop_id: str, category_id: str) -> tuple[list[AttributeRule], bool]:
        default = [AttributeRule("100000", "Color", sales=True), AttributeRule("100001", "Size", sales=True),
                   AttributeRule("100002", "Material", values=(("1000021", "Cotton"), ("1000023", "Ceramic")))]
        return self.attributes.get(category_id, default), False

    def upload_image(self, shop_id: str, url: str) -> str:
        if url in self.refused_images:
            raise TikTokRefused([Refusal("12052030", self.refused_images[url])])
        return f"uri-{url.rsplit('/', 1)[-1]}"

    def update_prices(self, shop_id: str, product_id: str, prices: Mapping[str, Decimal],
                      currency: str) -> list[Refusal]:
        with self.lock:
            self.price_updates.append((product_id, dict(prices), currency))
            if set(prices) & self.price_locked:
                return [Refusal("12052038", "Product price locked due to ongoing promotion.")]
            for sku_id, price in prices.items():
                self.sku(sku_id).price = price
            return []


class FakeNetSuite:
    def __init__(self) -> None:
        self.locs: list[LocationInfo] = []
        self.items_: dict[str, NsItem] = {}
        self.available: dict[tuple[str, str], int] = {}
        self.details: dict[str, ItemDetail] = {}
        self.prices: dict[tuple[str, str, str], Decimal] = {}  # (item, level, currency) -> price
        self.availability_calls: list[list[str]] = []
        self.committed: dict[tuple[str, str], int] = {}  # (item, location) -> committed to the shop's TikTok orders
        self.lock = threading.Lock()

    def item(self, id_: str, itemid: str, **kw: Any) -> NsItem:
        it = NsItem(id_, itemid, **kw)
        self.items_[id_] = it
        return it

    def set_inactive(self, id_: str, inactive: bool = True) -> None:
        self.items_[id_] = replace(self.items_[id_], inactive=inactive)

    def locations(self) -> list[LocationInfo]:
        return list(self.locs)

    def items(self) -> Iterator[NsItem]:
        yield from list(self.items_.values())

    def items_by_key(self, by: str, keys: Sequence[str], rule: MatchSpec | None = None) -> list[NsItem]:
        if by == "id" or rule is None:
            wanted = set(keys)
            return [i for i in self.items_.values() if (i.id if by == "id" else i.key(by)) in wanted]
        normalised = {rule.key(k) for k in keys}
        return [i for i in self.items_.values() if i.key(by) and rule.key(i.key(by)) in normalised]

    def availability(self, item_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        with self.lock:
            self.availability_calls.append(list(item_ids))
            return {k: v for k, v in self.available.items() if k[0] in set(item_ids)}

    def stock_figures(self, shop_id: str, item_ids: Sequence[str]
                      ) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
        committed = self.tiktok_committed(shop_id, item_ids)  # NetSuite answers from one moment; the fake
        return self.availability(item_ids), committed  # reads commitments first, the safe order between reads

    def tiktok_committed(self, shop_id: str, item_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        return {k: v for k, v in self.committed.items() if k[0] in set(item_ids)}

    def item_details(self, item_ids: Sequence[str]) -> list[ItemDetail]:
        ids = set(item_ids)
        return [d for d in self.details.values() if d.id in ids or (d.parent in ids)]

    def item_prices(self, item_ids: Sequence[str], levels: Sequence[str], currency_id: str
                    ) -> dict[tuple[str, str], Decimal]:
        return {(i, lv): p for (i, lv, cur), p in self.prices.items()
                if i in set(item_ids) and lv in set(levels) and cur == currency_id}

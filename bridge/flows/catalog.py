"""Catalog and prices: NetSuite items become TikTok products; NetSuite price levels become TikTok
prices, cut over at their effective time.

Catalog (``catalog.yaml``): with ``source: netsuite`` every item group (a matrix parent with its
children, or one item) is listed: created when TikTok has no product for it, edited when its
listing changed (a content hash in ``links`` kind ``product`` skips unchanged ones), deactivated
when the item is inactive — never deleted. The body is checked against the category's rules
before it is sent. With ``source: tiktok`` nothing is created: SKUs are matched and the
differences reported (``ttns skus match``).

Prices (``prices.yaml``): ``prices.push`` per product sends the SKUs whose price differs from
TikTok's; ``prices.plan`` (every 30 minutes) enqueues ``prices.cutover`` jobs that run *at* each
window boundary and re-price every product then. Promotion-locked prices and changes larger than
``max_change_pct`` become exceptions for a person.

Triggers (docs/inventory.md, "Catalog and prices follow NetSuite"): the SuiteScript user event on
inventory and assembly items sends ``item.changed`` (what changed: listing, price, status, created)
and the Map/Reduce sweep ``item.sweep`` (items modified since its last run); both become one
``catalog.changes`` job that *coalesces* per product: ``catalog.push`` keyed by the item group and
``prices.push`` keyed by the TikTok product, each deduplicated per ``catalog.yaml``
``coalesce_seconds`` window, so a burst of edits on one product is one push that reads NetSuite
when the window closes. ``catalog.full`` (the nightly stock re-assertion's cron) re-asserts every
listing and price. A created or re-reviewed product follows TikTok's review: ``catalog.review``
(after each push, on webhook 5 and nightly) reads its status; FAILED becomes ``CATALOG_AUDIT_FAILED`` with
TikTok's reasons and suggestions, and a later approval resolves it.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.clock import Clock
from bridge.errors import Evidence, NeedsHumanError, SkippableError, tiktok_refusal_codes
from bridge.mapping.catalog import (
    ExistingProduct,
    ItemDetail,
    ItemGroup,
    Listing,
    check_category,
    group_items,
    listing_changes,
    plan_listing,
)
from bridge.mapping.catalog_spec import CatalogSettings, CatalogSpec
from bridge.mapping.prices import PricedSku, PricePlan, plan_prices, round_price
from bridge.mapping.prices_spec import PricesSpec
from bridge.mapping.specs import SpecError
from bridge.ports.inventory import InventoryRepository
from bridge.ports.jobs import InboundEvent, JobContext
from bridge.ports.netsuite import NetSuiteInventory
from bridge.ports.queue import JobSpec
from bridge.ports.specs import Specs
from bridge.ports.store import Link, Repositories, Shop
from bridge.ports.tiktok import TikTokCatalog, TikTokInventory, TikTokRefused

log = logging.getLogger("bridge.flows.catalog")

KIND_CATALOG = "catalog.push"
KIND_PRICES = "prices.push"
KIND_PRICES_PLAN = "prices.plan"
KIND_CUTOVER = "prices.cutover"
KIND_CHANGES = "catalog.changes"
KIND_FULL = "catalog.full"
KIND_REVIEW = "catalog.review"
KIND_CREATE_INTENT = "product.create"  # links kind: a Create Product sent (or about to be) and not yet answered
NETSUITE_TOPICS = ("item.changed", "item.sweep")
LISTING_CHANGES = frozenset({"listing", "status", "created"})
CATALOG_FLOW = "catalog"
PRICES_FLOW = "prices"
PLAN_EVERY_SECONDS = 1800
PLAN_AHEAD = timedelta(hours=2)
PRICE_LOCKED = tiktok_refusal_codes("PRICE_LOCKED")
# TikTok shop region -> the currency it sells in
REGION_CURRENCY = {"US": "USD", "GB": "GBP", "UK": "GBP", "DE": "EUR", "FR": "EUR", "ES": "EUR", "IT": "EUR",
                   "IE": "EUR", "MX": "MXN", "BR": "BRL", "JP": "JPY", "SG": "SGD", "MY": "MYR", "PH": "PHP",
                   "TH": "THB", "VN": "VND", "ID": "IDR"}


def currency_of(shop: Shop) -> str:
    return REGION_CURRENCY.get(shop.region.upper(), "USD")


@dataclass
class CatalogChange:
    """What the push did (or, dry run, would do) for one item group."""

    item_id: str
    itemid: str
    action: str  # create | update | deactivate | activate | unchanged | skip | problem
    product_id: str = ""
    details: list[str] = field(default_factory=list)

    def line(self) -> str:
        what = f"{self.action:<10} {self.itemid} (item {self.item_id})"
        if self.product_id:
            what += f" -> product {self.product_id}"
        return what + "".join(f"\n             {d}" for d in self.details)


@dataclass
class CatalogSync:
    store: Repositories
    inv: InventoryRepository
    tiktok: TikTokCatalog
    tiktok_inv: TikTokInventory
    netsuite: NetSuiteInventory
    specs: Specs
    clock: Clock
    index_product: Callable[[Shop, str], Any] | None = None  # the inventory flow's, when wired

    def settings(self, shop: Shop) -> CatalogSettings:
        return self.specs.get("catalog", CatalogSpec).for_shop(shop.id, shop.name)

    def prices_spec(self) -> PricesSpec:
        return self.specs.get("prices", PricesSpec)

    # -- catalog ---------------------------------------------------------------------------------
    def groups(self, item_ids: Sequence[str] | None = None) -> list[ItemGroup]:
        """Item groups to list: the given items (a parent brings its children), or every parent and
        stand-alone stock item NetSuite has."""
        if item_ids is None:
            keys = [i.id for i in self.netsuite.items()
                    if i.matrix == "PARENT" or (i.matrix != "CHILD" and i.itemtype in ("InvtPart", "Assembly"))]
        else:
            keys = list(item_ids)
        return group_items(self.netsuite.item_details(keys)) if keys else []

    def _existing(self, shop: Shop, group: ItemGroup) -> str | None:
        linked = self.inv.product_for_item(shop.id, group.key_item.id)
        if linked is not None:
            return linked
        products = self.inv.products_for_items([c.id for c in group.children])
        return next((pid for sid, pid in sorted(products) if sid == shop.id), None)

    def _images(self, shop: Shop, settings: CatalogSettings, item: ItemDetail) -> list[str]:
        url = item.value(settings.defaults.images.field) if settings.defaults.images.field else None
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            return [self.tiktok.upload_image(shop.id, url)]
        return list(settings.defaults.images.fallback_uris)

    def push_group(self, shop: Shop, group: ItemGroup, *, dry_run: bool = False) -> CatalogChange:
        settings = self.settings(shop)
        key = group.key_item
        change = CatalogChange(key.id, key.itemid, "unchanged")
        pid = self._existing(shop, group)
        change.product_id = pid or ""
        if settings.source != "netsuite":
            change.action, change.details = "skip", ["catalog.yaml source is tiktok: match only (ttns skus match)"]
            return change
        current = self.tiktok_inv.product(shop.id, pid) if pid else None
        if group.inactive:
            if current is None:
                change.action, change.details = "skip", ["inactive in NetSuite and not listed on TikTok"]
            elif current.status == "ACTIVATE":
                change.action = "deactivate"
                if not dry_run:
                    self._refused(self.tiktok.set_active(shop.id, [current.id], False), key, "deactivate")
            return change
        currency = currency_of(shop)
        price_settings = self.prices_spec().for_shop(shop.id, shop.name)
        cur_id = price_settings.currencies.get(currency, "")
        level = settings.defaults.price_level
        prices = {i: round_price(p, price_settings.step(currency)) for (i, lv), p in self.netsuite.item_prices(
            [c.id for c in group.children], [level], cur_id).items() if lv == level} if cur_id else {}
        whs = [p for p in self.inv.places("warehouse", shop.id) if p.data.get("type", "SALES_WAREHOUSE") in (
            "", "SALES_WAREHOUSE") and not p.data.get("fbt")]
        warehouse = next((w.place_id for w in whs if w.data.get("is_default")), whs[0].place_id if whs else "")
        try:
            images = [] if dry_run and settings.defaults.images.field else self._images(shop, settings, key)
        except TikTokRefused as exc:
            field_name = settings.defaults.images.field
            raise NeedsHumanError(
                f"TikTok refused the image of item {key.itemid}: {exc}", code="CATALOG_IMAGE_REFUSED", owner="admin",
                entity=f"catalog:{shop.id}:{key.id}",
                fix_hint=f"Point the item's {field_name} field at an image TikTok can fetch (HTTPS, JPG/PNG/WEBP, "
                         "at most 5 MB) or clear it to use catalog.yaml defaults.images.fallback_uris; saving the "
                         "item sends it again (or replay).",
                evidence=Evidence.of("tiktok", "upload image", code=exc.refusals[0].code if exc.refusals else None,
                                     item_id=key.id, url=str(key.value(field_name) or ""),
                                     refusals=[r.__dict__ for r in exc.refusals])) from exc
        listing = plan_listing(group, settings, prices=prices, currency=currency, warehouse_id=warehouse,
                               images=images or list(settings.defaults.images.fallback_uris), shop_id=shop.id)
        if not cur_id:
            listing.problems.append(f"prices.yaml has no NetSuite currency for {currency}")
        if not warehouse:
            listing.problems.append("no TikTok sales warehouse pulled for the shop (run `ttns locations pull`)")
        if not listing.problems and listing.body.get("category_id"):
            attrs, dims = self.tiktok.category_rules(shop.id, str(listing.body["category_id"]))
            listing.problems.extend(check_category(listing.body, attrs, package_dimensions_required=dims))
        if listing.problems:
            change.action, change.details = "problem", listing.problems
            if not dry_run:
                raise NeedsHumanError(
                    f"item {key.itemid} cannot be listed on TikTok: {listing.problems[0]}",
                    code="LISTING_INVALID", owner="admin", entity=f"catalog:{shop.id}:{key.id}",
                    fix_hint="Fix the item in NetSuite or catalog.yaml (category, attributes, weight, images), "
                             "then replay.", evidence=Evidence.of("tiktok", "catalog plan", details={
                                 "problems": listing.problems}))
            return change
        link = self.store.links.get("product", shop.id, pid) if pid else None
        retried = False
        if current is None:
            change.action = "create"
            change.details = [f"{len(listing.body['skus'])} SKU(s) in category {listing.body['category_id']}"]
            if dry_run:
                return change
            change.product_id, retried = self._create(shop, key, listing)
            if not retried:
                return change
            # A retried create: the product holds what the attempt TikTok processed first sent, which
            # may be older content than this push's. Re-assert the listing through the edit path.
            current = self.tiktok_inv.product(shop.id, change.product_id)
            if current is None:  # not readable yet: the link's empty hash makes the next push edit it
                return change
            link = self.store.links.get("product", shop.id, current.id)
        if not dry_run and not retried and self.store.links.get(KIND_CREATE_INTENT, shop.id, key.id) is not None:
            # the product is linked: an intent left by a create whose worker stopped before clearing it
            # must not lend its key to a later create (TikTok would answer with this product again)
            self.store.links.delete(KIND_CREATE_INTENT, shop.id, key.id)
        existing = ExistingProduct(current.id, current.status, current.title, current.description,
                                   {s.seller_sku: s.price for s in current.skus if s.price is not None},
                                   {s.seller_sku: s.id for s in current.skus})
        diff = listing_changes(existing, listing)
        structural = [d for d in diff if " price " not in d]  # prices belong to the prices flow
        if link is not None and link.content_hash == listing.content_hash and not structural:
            if current.status != "ACTIVATE" and current.status in ("SELLER_DEACTIVATED",):
                change.action = "activate"
                if not dry_run:
                    self._refused(self.tiktok.set_active(shop.id, [current.id], True), key, "activate")
            return change
        change.action, change.details = "update", structural or ["listing fields changed"]
        if retried:
            change.action = "create"
            change.details = [f"product {current.id} was created by an earlier attempt; listing re-asserted",
                              *change.details]
        if not dry_run:
            body = self._edit_body(shop, listing.body, existing)
            self._refused(self.tiktok.edit_product(shop.id, current.id, body), key, "edit")
            self._link(shop, current.id, key.id, listing.content_hash)
            if current.status == "SELLER_DEACTIVATED":
                self._refused(self.tiktok.set_active(shop.id, [current.id], True), key, "activate")
            self.store.queue.enqueue(review_spec(shop.id, current.id, self.clock.now()))
        return change

    def _create(self, shop: Shop, key: ItemDetail, listing: Listing) -> tuple[str, bool]:
        """Create the group's TikTok product exactly once; returns (product id, retried).

        Create Product cannot be undone, and an answer can be lost (a timeout after TikTok created it)
        or come to a worker that lost its lease meanwhile. So the create *intent* is stored first (links
        kind ``product.create``, keyed by the group's NetSuite item; a fenced store write): it holds
        TikTok's ``idempotency_key``, drawn once and kept whatever the listing's content becomes. A
        later attempt (``retried``) first re-checks: TikTok's Search Products by the seller SKUs this
        intent has sent; a product found is adopted, not created again. When none is found the create
        is sent again under the same key, so one TikTok processed meanwhile answers with its product
        instead of creating a second."""
        intent = self.store.links.get(KIND_CREATE_INTENT, shop.id, key.id)
        skus = [str(s["seller_sku"]) for s in listing.body["skus"] if s.get("seller_sku")]
        retried = intent is not None
        if intent is None:
            intent = Link(KIND_CREATE_INTENT, shop.id, key.id, key.id, "item", "", "", "pending",
                          {"idempotency_key": f"ttns-{uuid.uuid4().hex}", "seller_skus": sorted(set(skus))},
                          self.clock.now())
            self.store.links.upsert(intent)
        else:
            sent = sorted(set(skus) | {str(s) for s in intent.data.get("seller_skus") or ()})
            if sent != list(intent.data.get("seller_skus") or ()):  # the SKUs this attempt sends join the re-check
                intent = replace(intent, data={**intent.data, "seller_skus": sent})
                self.store.links.upsert(intent)
            found = self.tiktok.products_with_seller_skus(shop.id, sent)
            if len(found) > 1:
                raise NeedsHumanError(
                    f"item {key.itemid}: TikTok has {len(found)} products with its seller SKUs "
                    f"({', '.join(found)}); the bridge will not pick one", code="CATALOG_DUPLICATE_PRODUCTS",
                    owner="admin", entity=f"catalog:{shop.id}:{key.id}",
                    fix_hint="Delete the duplicates in TikTok Seller Center, keep one, then replay.",
                    evidence=Evidence.of("tiktok", "search products", details={"seller_skus": sent,
                                                                               "product_ids": found}))
            if found:
                log.info("catalog create re-check found the product", extra={"entity": f"catalog:{shop.id}:{key.id}",
                                                                            "product_id": found[0]})
                self._adopt(shop, found[0], key.id)
                return found[0], True
        body = dict(listing.body, idempotency_key=str(intent.data["idempotency_key"]))
        try:
            created = self.tiktok.create_product(shop.id, body)
        except TikTokRefused as exc:
            self._refused(exc.refusals, key, "create")
            raise
        if retried:
            self._adopt(shop, created.product_id, key.id)
        else:
            self._link(shop, created.product_id, key.id, listing.content_hash)
            self._created(shop, created.product_id, key.id)
        return created.product_id, retried

    def _adopt(self, shop: Shop, product_id: str, item_id: str) -> None:
        """Link a product an earlier attempt created; its content is unknown (empty hash: edited next)."""
        self._link(shop, product_id, item_id, "")
        self._created(shop, product_id, item_id)

    def _created(self, shop: Shop, product_id: str, item_id: str) -> None:
        self.store.links.delete(KIND_CREATE_INTENT, shop.id, item_id)
        if self.index_product is not None:
            self.index_product(shop, product_id)
        self.store.queue.enqueue(review_spec(shop.id, product_id, self.clock.now()))

    def _edit_body(self, shop: Shop, body: dict[str, Any], existing: ExistingProduct) -> dict[str, Any]:
        """Existing SKUs keep their stock and price (the inventory and price flows own those): a
        partial edit; a new child item needs a full edit carrying every SKU's current stock."""
        skus = body["skus"]
        if all(s["seller_sku"] in existing.sku_ids for s in skus):
            out = {k: v for k, v in body.items() if k not in ("skus", "save_mode", "idempotency_key")}
            out["skus"] = [{"id": existing.sku_ids[s["seller_sku"]], "seller_sku": s["seller_sku"],
                            **({"sales_attributes": s["sales_attributes"]} if "sales_attributes" in s else {})}
                           for s in skus]
            return out
        stock = self.tiktok_inv.stock(shop.id, [existing.id])
        full = {k: v for k, v in body.items() if k != "idempotency_key"}
        full["skus"] = []
        for s in skus:
            sid = existing.sku_ids.get(s["seller_sku"])
            entry = dict(s)
            if sid:
                entry["id"] = sid
                # Edit Product documents quantity as [1, 99,999]: a sold-out SKU is carried at 1 and
                # the inventory push that follows applies the shop's sold-out strategy.
                entry["inventory"] = [{"warehouse_id": w, "quantity": max(1, st.available)}
                                      for w, st in sorted(stock.get(sid, {}).items())] or s["inventory"]
                if s["seller_sku"] in existing.prices:
                    entry["price"] = {"amount": format(existing.prices[s["seller_sku"]], "f"),
                                      "currency": s["price"]["currency"]}
            full["skus"].append(entry)
        return full

    def _link(self, shop: Shop, product_id: str, item_id: str, content_hash: str) -> None:
        self.store.links.upsert(Link("product", shop.id, product_id, item_id, "item", "", content_hash, "synced",
                                     {}, self.clock.now()))

    @staticmethod
    def _refused(refusals: Sequence[Any], item: ItemDetail, action: str) -> None:
        if not refusals:
            return
        r = refusals[0]
        raise NeedsHumanError(f"TikTok refused to {action} the product of item {item.itemid}: {r.code} {r.message}",
                              code="CATALOG_REFUSED", owner="admin", entity=f"catalog:{item.id}",
                              fix_hint="Read TikTok's message (category rules, attributes, images, audit), fix the "
                                       "item or catalog.yaml, then replay.",
                              evidence=Evidence.of("tiktok", f"product {action}", code=r.code,
                                                   details={"refusals": [x.__dict__ for x in refusals]}))

    # -- NetSuite item events -------------------------------------------------------------------
    def coalesce_seconds(self) -> float:
        return float(self.specs.get("catalog", CatalogSpec, needs=("coalesce_seconds",)).coalesce_seconds)

    def _coalesced(self, kind: str, key: str, payload: dict[str, Any], priority: int) -> bool:
        """One job per ``key`` per window: the job runs when the window closes and reads NetSuite
        then, so every edit inside the window is in it. True when a job was created."""
        window = max(self.coalesce_seconds(), 0.001)
        now = self.clock.now()
        bucket = math.floor(now.timestamp() / window)
        run_at = datetime.fromtimestamp((bucket + 1) * window, UTC)
        spec = JobSpec(kind=kind, key=key, payload=payload, idempotency_key=f"{kind}:{key}:{bucket}", run_at=run_at,
                       priority=priority)
        res = self.store.queue.enqueue(spec)
        if not res.created:
            job = self.store.queue.get(res.job_id)
            if job is not None and job.status != "queued":  # that window's job already started: one more
                res = self.store.queue.enqueue(JobSpec(
                    kind=kind, key=key, payload=payload, priority=priority, run_at=now + timedelta(seconds=window),
                    idempotency_key=f"{spec.idempotency_key}:after:{res.job_id}"))
        return res.created

    def on_items_changed(self, items: Sequence[ChangedItem], reason: str) -> dict[str, int]:
        """Items NetSuite reported changed → per shop, one coalesced ``catalog.push`` per item group
        (listing, status, new items; skipped for shops whose catalog source is TikTok) and one
        coalesced ``prices.push`` per TikTok product selling a changed item (price changes)."""
        listing_groups = sorted({i.group_id for i in items if i.listing})
        price_items = sorted({i.item_id for i in items if i.price} | {i.group_id for i in items if i.price})
        linked = self.inv.products_for_items(price_items) if price_items else []
        catalog_jobs = price_jobs = 0
        for shop in self.store.shops.list(status="active"):
            if listing_groups and shop.flow_enabled(CATALOG_FLOW) and self._lists(shop):
                for gid in listing_groups:
                    catalog_jobs += self._coalesced(KIND_CATALOG, catalog_key(shop.id, gid),
                                                    {"shop_id": shop.id, "item_id": gid, "reason": reason}, 50)
            if shop.flow_enabled(PRICES_FLOW):
                for pid in sorted({p for sid, p in linked if sid == shop.id}):
                    price_jobs += self._coalesced(KIND_PRICES, f"prices:{shop.id}:{pid}",
                                                  {"shop_id": shop.id, "product_id": pid, "boundary": "",
                                                   "reason": reason}, 50)
        return {"items": len(items), "catalog_jobs": catalog_jobs, "price_jobs": price_jobs}

    def _lists(self, shop: Shop) -> bool:
        """Whether the bridge lists this shop's products from NetSuite (catalog.yaml ``source``)."""
        try:
            return self.settings(shop).source == "netsuite"
        except SpecError:
            return True  # the push itself raises the spec's problem as an exception, naming the fix

    def review(self, shop: Shop, product_id: str) -> str:
        """TikTok's review of a product the bridge listed: FAILED raises ``CATALOG_AUDIT_FAILED``
        with TikTok's reasons and suggestions (a later approval's review job resolves it). Runs
        after each push, on webhook 5 and nightly (a lost webhook). Returns the product status."""
        product = self.tiktok_inv.product(shop.id, product_id)
        if product is None:
            raise SkippableError(f"TikTok has no product {product_id}")
        link = self.store.links.get("product", shop.id, product_id)
        item = (link.netsuite_id or "") if link is not None else ""
        if product.status == "FAILED" or product.audit_status == "FAILED":
            reasons = [r for a in product.audit_failed_reasons for r in a.reasons] or ["TikTok gave no reason"]
            hints = [h for a in product.audit_failed_reasons for h in a.suggestions]
            raise NeedsHumanError(
                f"TikTok's review refused product {product_id} ({product.title}): {'; '.join(reasons)}",
                code="CATALOG_AUDIT_FAILED", owner="admin", entity=f"catalog:{shop.id}:{item or product_id}",
                fix_hint=(" ".join(hints) + " " if hints else "") + "Fix the item in NetSuite (title, description, "
                         "images) or catalog.yaml (category, attributes); the next save sends it for review again.",
                evidence=Evidence.of("tiktok", "product audit", product_id=product_id, product_status=product.status,
                                     audit_status=product.audit_status, item_id=item,
                                     audit_failed_reasons=[a.__dict__ for a in product.audit_failed_reasons]))
        if product.status == "PENDING":
            # skipped, not done: an open refusal stays open until TikTok decides this review
            raise SkippableError(f"product {product_id} is in TikTok's review; webhook 5 brings the decision")
        return product.status

    # -- prices ----------------------------------------------------------------------------------
    def price_plan(self, shop: Shop, product_id: str, at: datetime | None = None) -> PricePlan:
        spec = self.prices_spec()
        currency = currency_of(shop)
        rows = [r for r in self.inv.product_skus(shop.id, product_id) if r.item_id]
        skus = [PricedSku(r.sku_id, r.seller_sku, r.item_id or "") for r in rows]
        settings = spec.for_shop(shop.id, shop.name)
        cur_id = settings.currencies.get(currency)
        if cur_id is None:
            raise NeedsHumanError(f"prices.yaml has no NetSuite currency for {currency}",
                                  code="PRICE_CURRENCY_UNMAPPED", owner="finance", entity=f"prices:{shop.id}",
                                  fix_hint=f"Add {currency}: <NetSuite currency id> under defaults.currencies in "
                                           "prices.yaml, then replay.")
        when = at or self.clock.now()
        levels = sorted({spec.level_at(shop.id, s.seller_sku, when, shop.name)[0] for s in skus})
        netsuite = self.netsuite.item_prices([s.item_id for s in skus], levels, cur_id) if skus else {}
        product = self.tiktok_inv.product(shop.id, product_id)
        current = {s.id: s.price for s in (product.skus if product else ()) if s.price is not None}
        return plan_prices(shop.id, skus, spec=spec, currency=currency, at=when, netsuite=netsuite, current=current,
                           shop_name=shop.name)

    def push_prices(self, shop: Shop, product_id: str, *, dry_run: bool = False, at: datetime | None = None,
                    force: bool = False) -> PricePlan:
        """Send the SKUs whose price differs from TikTok's; ``force`` also sends changes held by
        ``max_change_pct``."""
        plan = self.price_plan(shop, product_id, at)
        updates = plan.updates
        if force:
            updates.update({h.sku_id: h.price for h in plan.by_action("held") if h.price is not None})
        if dry_run:
            return plan
        entity = f"prices:{shop.id}:{product_id}"
        refused = self.tiktok.update_prices(shop.id, product_id, updates, plan.currency) if updates else []
        if refused:
            codes = {r.code for r in refused}
            ev = Evidence.of("tiktok", "prices update", code=refused[0].code, details={
                "product_id": product_id, "wanted": {k: str(v) for k, v in updates.items()},
                "refused": [r.__dict__ for r in refused]})
            if codes & PRICE_LOCKED:
                raise NeedsHumanError(
                    f"TikTok refuses new prices for product {product_id}: the price is locked by a promotion",
                    code="PROMOTION_LOCKED_PRICE", owner="ops", entity=entity, evidence=ev,
                    fix_hint="The NetSuite price changed while a TikTok promotion locks this product's price. End "
                             "the promotion or keep the price until it ends; then replay (a cut-over repeats it).")
            raise NeedsHumanError(f"TikTok refused the prices of product {product_id}: {refused[0].code} "
                                  f"{refused[0].message}", code="PRICE_REFUSED", owner="ops", entity=entity,
                                  evidence=ev, fix_hint="Read TikTok's message in the evidence, fix the price level "
                                                        "or the product, then replay.")
        if updates:
            self.inv.record_prices(shop.id, plan.currency, updates, plan.lines[0].level if plan.lines else "")
        held = [] if force else plan.by_action("held")
        if held:
            raise NeedsHumanError(
                f"{len(held)} price change(s) on product {product_id} exceed max_change_pct and were held: "
                + ", ".join(f"{h.seller_sku} {h.current} -> {h.price}" for h in held),
                code="PRICE_CHANGE_HELD", owner="finance", entity=entity,
                fix_hint="Check the NetSuite price level; if the change is right, raise max_change_pct in prices.yaml "
                         "(or push it with `ttns prices push --force`), then replay.",
                evidence=Evidence.of("netsuite", "price level", details={"held": [h.explain() for h in held]}))
        return plan

    # -- jobs (registered in bridge.bootstrap) ------------------------------------------------------------

    def handle_catalog(self, ctx: JobContext) -> dict[str, Any]:
        shop = _shop(self.store, str(ctx.payload["shop_id"]), CATALOG_FLOW)
        groups = self.groups([str(ctx.payload["item_id"])])
        if not groups:
            raise SkippableError(f"NetSuite has no item {ctx.payload['item_id']}")
        change = self.push_group(shop, groups[0])
        return {"action": change.action, "product_id": change.product_id, "details": change.details}

    def handle_changes(self, ctx: JobContext) -> dict[str, Any]:
        items = [ChangedItem(str(i["item_id"]), str(i.get("group_id") or i["item_id"]),
                             frozenset(str(c) for c in i.get("changed") or ()))
                 for i in ctx.payload.get("items") or [] if isinstance(i, dict) and i.get("item_id")]
        return self.on_items_changed(items, f"netsuite {ctx.payload.get('topic', '')}".strip())

    def handle_review(self, ctx: JobContext) -> dict[str, Any]:
        shop = _shop(self.store, str(ctx.payload["shop_id"]), CATALOG_FLOW)
        return {"status": self.review(shop, str(ctx.payload["product_id"]))}

    def handle_full(self, ctx: JobContext) -> dict[str, Any]:
        """Nightly: re-assert every listing (shops whose catalog source is NetSuite) and every price."""
        bucket = str(ctx.payload.get("bucket") or self.clock.now().strftime("%Y%m%d"))
        specs: list[JobSpec] = []
        groups: list[str] | None = None
        for shop in self.store.shops.list(status="active"):
            if shop.flow_enabled(CATALOG_FLOW) and self._lists(shop):
                if groups is None:
                    groups = [g.key_item.id for g in self.groups()]
                specs += [JobSpec(kind=KIND_CATALOG, key=catalog_key(shop.id, gid),
                                  payload={"shop_id": shop.id, "item_id": gid, "reason": "nightly"},
                                  idempotency_key=f"{KIND_CATALOG}:full:{shop.id}:{gid}:{bucket}", priority=110)
                          for gid in groups]
                specs += [review_spec(shop.id, link.tiktok_id, None, idempotency_key=f"{KIND_REVIEW}:full:{shop.id}:"
                                                                                     f"{link.tiktok_id}:{bucket}")
                          for link in self.store.links.list("product", shop.id, limit=1_000_000)]
            if shop.flow_enabled(PRICES_FLOW):
                specs += [replace(prices_spec_for(pid, shop.id, priority=110),
                                  idempotency_key=f"{KIND_PRICES}:full:{shop.id}:{pid}:{bucket}")
                          for pid in self.inv.products(shop.id)]
        enqueued = 0
        for i in range(0, len(specs), 500):
            ctx.check_lease()
            enqueued += sum(1 for r in self.store.queue.enqueue_many(specs[i:i + 500]) if r.created)
        return {"enqueued": enqueued}

    def handle_prices(self, ctx: JobContext) -> dict[str, Any]:
        shop = _shop(self.store, str(ctx.payload["shop_id"]), PRICES_FLOW)
        plan = self.push_prices(shop, str(ctx.payload["product_id"]))
        return {"updated": {k: str(v) for k, v in plan.updates.items()}, "currency": plan.currency,
                "rounding": str(plan.rounding_total), "missing": [ln.seller_sku for ln in plan.by_action("missing")]}

    def handle_prices_plan(self, ctx: JobContext) -> dict[str, Any]:
        """Enqueue a cut-over job *at* every window boundary in the next two hours (deduplicated by
        boundary, so every planning run may see the same boundary)."""
        now = self.clock.now()
        made = 0
        for when, name in self.prices_spec().boundaries(now - timedelta(minutes=5), now + PLAN_AHEAD):
            res = self.store.queue.enqueue(JobSpec(kind=KIND_CUTOVER, key=f"prices.cutover:{name}",
                                                  payload={"boundary": name, "at": when.isoformat()},
                                                  idempotency_key=f"{KIND_CUTOVER}:{name}:{when.isoformat()}",
                                                  run_at=max(when, now), priority=30))
            made += int(res.created)
        return {"enqueued": made}

    def handle_cutover(self, ctx: JobContext) -> dict[str, Any]:
        """At a window boundary: re-price every product of every shop (each SKU's level is decided by
        the windows in force now)."""
        boundary = str(ctx.payload.get("boundary") or "")
        made = 0
        for shop in self.store.shops.list(status="active"):
            if not shop.flow_enabled(PRICES_FLOW):
                continue
            specs = [prices_spec_for(pid, shop.id, boundary=boundary, priority=30)
                     for pid in self.inv.products(shop.id)]
            made += sum(1 for r in self.store.queue.enqueue_many(specs) if r.created)
        return {"enqueued": made, "boundary": boundary}


def _shop(store: Repositories, shop_id: str, flow: str) -> Shop:
    shop = store.shops.get(shop_id)
    if shop is None:
        raise SkippableError(f"shop {shop_id} is not connected")
    if not shop.flow_enabled(flow):
        raise SkippableError(f"the {flow} flow is off for shop {shop_id}")
    return shop


@dataclass(frozen=True)
class ChangedItem:
    """One NetSuite item an event reported: its group (matrix parent, else itself) and what changed."""

    item_id: str
    group_id: str
    changed: frozenset[str] = frozenset()  # empty: unknown (the sweep) -> listing and price

    @property
    def listing(self) -> bool:
        return not self.changed or bool(self.changed & LISTING_CHANGES)

    @property
    def price(self) -> bool:
        return not self.changed or "price" in self.changed or "created" in self.changed


def catalog_key(shop_id: str, group_item_id: str) -> str:
    return f"catalog:{shop_id}:{group_item_id}"


def review_spec(shop_id: str, product_id: str, run_at: datetime | None, *, idempotency_key: str = "") -> JobSpec:
    """A check of TikTok's review of one product (``catalog.review``), at ``run_at`` (None: now)."""
    return JobSpec(kind=KIND_REVIEW, key=f"catalog.review:{shop_id}:{product_id}",
                   payload={"shop_id": shop_id, "product_id": product_id},
                   idempotency_key=idempotency_key or f"{KIND_REVIEW}:{shop_id}:{product_id}:"
                                                      f"{run_at.isoformat() if run_at else ''}",
                   run_at=run_at, priority=70)


def changed_items(data: Any) -> list[ChangedItem]:
    """``item.changed`` data (one item) or ``item.sweep`` data (``items``: rows), as ChangedItems (pure)."""
    rows = data.get("items") if isinstance(data.get("items"), list) else [data]
    out: list[ChangedItem] = []
    for row in rows:
        if not isinstance(row, dict) or row.get("item_id") in (None, ""):
            continue
        iid = str(row["item_id"])
        parent = str(row.get("parent_id") or "")
        changed = row.get("changed")
        out.append(ChangedItem(iid, parent or iid, frozenset(str(c) for c in changed)
                               if isinstance(changed, list) else frozenset()))
    return out


def route_items(event: InboundEvent) -> list[JobSpec]:
    """``item.changed`` / ``item.sweep``: the items NetSuite reported, in one ``catalog.changes`` job."""
    data = event.data.get("data") if isinstance(event.data.get("data"), dict) else {}
    items = changed_items(data or {})
    if not items:
        return []
    return [JobSpec(kind=KIND_CHANGES, key=f"{KIND_CHANGES}:{event.event_id}"[:191],
                    payload={"items": [{"item_id": i.item_id, "group_id": i.group_id, "changed": sorted(i.changed)}
                                       for i in items], "topic": event.topic, "event_id": event.event_id},
                    idempotency_key=f"{KIND_CHANGES}:{event.source}:{event.event_id}"[:191], priority=40)]


def route_product_status(event: InboundEvent) -> list[JobSpec]:
    """Webhook 5 (the product's review or status changed): the inventory flow's re-index, and a
    review check of the product."""
    from bridge.flows.inventory import route_tiktok_product

    out = route_tiktok_product(event)
    data = event.data.get("data") or {}
    product_id = str(data.get("product_id") or "")
    shop_id = event.shop_id or str(event.data.get("shop_id") or "")
    if product_id and shop_id:
        out.append(review_spec(shop_id, product_id, None, idempotency_key=f"{KIND_REVIEW}:tiktok:{event.event_id}"))
    return out


def prices_spec_for(product_id: str, shop_id: str, *, boundary: str = "", priority: int = 90) -> JobSpec:
    return JobSpec(kind=KIND_PRICES, key=f"prices:{shop_id}:{product_id}",
                   payload={"shop_id": shop_id, "product_id": product_id, "boundary": boundary},
                   idempotency_key=f"{KIND_PRICES}:{shop_id}:{product_id}:{boundary}" if boundary else None,
                   priority=priority)


__all__ = ["KIND_CATALOG", "KIND_CHANGES", "KIND_CUTOVER", "KIND_FULL", "KIND_PRICES", "KIND_PRICES_PLAN",
           "KIND_REVIEW", "CatalogChange", "CatalogSync", "ChangedItem", "catalog_key", "changed_items", "currency_of",
           "route_items", "route_product_status"]

"""``TikTokSandbox``: the live sandbox and its Python API (the control API calls the same methods).

Every state change runs under one re-entrant lock through ``run``; the events it emits are turned
into signed webhook deliveries for every app authorized for the shop (its per-shop subscription
for the topic, else the app's default address) before the lock is released. A ticker thread
expires ON_HOLD windows on the business clock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

from . import aftersale, auth, catalog, fbt, finance, fulfillment, orders
from .clock import BusinessClock
from .config import TikTokSandboxConfig
from .digest import Digest, load_digest
from .errors import SandboxError
from .faults import FaultEngine, RateLimiter
from .ids import IdFactory
from .state import Event, SandboxState, Subscription
from .webhooks import WebhookSender, build_body

T = TypeVar("T")


class TikTokSandbox:
    def __init__(self, config: TikTokSandboxConfig | None = None) -> None:
        self.config = config or TikTokSandboxConfig()
        self.digest: Digest = load_digest()
        self.lock = threading.RLock()
        self.faults = FaultEngine(self.config.faults, self.config.seed)
        self.limiter = RateLimiter()
        self.sender = WebhookSender(self.config, self.config.seed)
        self._counters_lock = threading.Lock()
        self.counters: dict[str, dict[str, int]] = {}
        self.fault_counts: dict[str, dict[str, int]] = {}  # endpoint key -> injected fault kind -> count
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()
        self.state = self._fresh_state(self.config.seed)
        if self.config.demo_data:
            self.seed_demo()

    def _fresh_state(self, seed: int) -> SandboxState:
        import random

        clock = BusinessClock(self.config.clock_speed, self.config.clock_start)
        return SandboxState(config=self.config, clock=clock, ids=IdFactory(seed), rng=random.Random(seed))

    # --------------------------------------------------------------------------- plumbing
    def run(self, fn: Callable[[SandboxState], T]) -> T:
        """Run ``fn`` on the state under the lock and dispatch the webhooks it caused."""
        with self.lock:
            try:
                return fn(self.state)
            finally:
                self._dispatch(self.state.take_outbox())

    def _dispatch(self, events: list[Event]) -> None:
        if not self.config.webhook_enabled:
            return
        st = self.state
        for ev in events:
            topic_info = self.digest.webhooks.get(ev.type)
            topic = topic_info["topic"] if topic_info else ""
            shop = st.shops.get(ev.shop_id)
            if shop is None:
                continue
            if ev.app_key:
                app_keys = [ev.app_key]
            else:
                app_keys = sorted({app for (app, open_id) in st.grants if open_id == shop.seller_open_id
                                   and ev.shop_id in st.grants[(app, open_id)]})
            for app_key in app_keys:
                app = st.apps.get(app_key)
                if app is None:
                    continue
                sub = st.subscriptions.get((app_key, ev.shop_id, topic))
                address = sub.address if sub else app.webhook_url
                if not address:
                    self._count("webhook", "no_subscriber")
                    continue
                nid = st.ids.next("notification", 19)
                body = build_body(ev.type, nid, ev.shop_id, ev.timestamp, ev.data)
                self.sender.submit(nid, app_key, app.app_secret, ev.shop_id, ev.type, address, body)

    def _count(self, key: str, outcome: str) -> None:
        with self._counters_lock:
            bucket = self.counters.setdefault(key, {})
            bucket[outcome] = bucket.get(outcome, 0) + 1

    def count_fault(self, endpoint_key: str, kind: str) -> None:
        with self._counters_lock:
            bucket = self.fault_counts.setdefault(endpoint_key, {})
            bucket[kind] = bucket.get(kind, 0) + 1

    def count_call(self, endpoint_key: str, code: int) -> None:
        self._count(endpoint_key, "calls")
        self._count(endpoint_key, f"code_{code}")

    def start(self) -> TikTokSandbox:
        if self._ticker is None:
            self._stop.clear()
            self._ticker = threading.Thread(target=self._tick_loop, name="tiktok-sandbox-ticker", daemon=True)
            self._ticker.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
            self._ticker = None
        self.sender.stop()

    def _tick_loop(self) -> None:
        while not self._stop.wait(self.config.tick_interval):
            self.tick()

    def tick(self) -> int:
        """Expire due ON_HOLD windows and decide due product reviews now (the ticker calls this periodically)."""
        return self.run(orders.expire_holds) + self.run(catalog.decide_reviews)

    def add_audit_rule(self, term: str, reason: str, suggestion: str) -> None:
        """Product reviews fail for a title or description containing ``term`` (case ignored), with
        TikTok's ``reason`` and ``suggestion`` in ``audit_failed_reasons`` (needs ``product_review_seconds``)."""
        self.run(lambda st: st.audit_rules.append((term, reason, suggestion)))

    # ---------------------------------------------------------------------------- scenario
    def reset(self, seed: int | None = None, demo_data: bool | None = None) -> dict[str, Any]:
        with self.lock:
            if seed is not None:
                self.config.seed = seed
            self.state = self._fresh_state(self.config.seed)
            self.sender.reset()
            self.limiter.reset()
            with self._counters_lock:
                self.counters.clear()
            if self.config.demo_data if demo_data is None else demo_data:
                self.seed_demo()
            return self.describe()

    def seed_demo(self) -> dict[str, Any]:
        """One app, a US and a GB shop (the US one with an FBT warehouse), a few products."""

        def go(st: SandboxState) -> dict[str, Any]:
            cfg = self.config
            auth.add_app(st, app_key=cfg.demo_app_key, app_secret=cfg.demo_app_secret,
                         service_id=cfg.demo_service_id, redirect_uri=cfg.demo_redirect_uri,
                         name="ttns-bridge (sandbox)", webhook_url=cfg.demo_webhook_url)
            us = auth.add_shop(st, "Sandbox US Shop", "US", seller_name="Sandbox Seller US", fbt=True)
            gb = auth.add_shop(st, "Sandbox UK Shop", "GB", seller_name="Sandbox Seller UK")
            for shop, prefix in ((us, "US"), (gb, "GB")):
                whs = [w for w in st.shop_warehouses(shop.id) if not w.fbt]
                catalog.add_product(st, shop.id, "Classic Cotton T-Shirt", [
                    {"seller_sku": f"{prefix}-TEE-BLK-M", "price": "19.99",
                     "inventory": {whs[0].id: 500, whs[1].id: 200},
                     "sales_attributes": [_attr("100000", "Color", "1000001", "Black"),
                                          _attr("100001", "Size", "1000012", "M")]},
                    {"seller_sku": f"{prefix}-TEE-WHT-L", "price": "19.99",
                     "inventory": {whs[0].id: 300, whs[1].id: 100},
                     "sales_attributes": [_attr("100000", "Color", "1000002", "White"),
                                          _attr("100001", "Size", "1000013", "L")]},
                ], category_id="600020", emit=False)
                catalog.add_product(st, shop.id, "Stoneware Mug 12oz", [
                    {"seller_sku": f"{prefix}-MUG-12", "price": "12.50", "inventory": {whs[0].id: 1000}},
                ], category_id="600010", emit=False)
                catalog.add_product(st, shop.id, "Ceramic Vase", [
                    {"seller_sku": f"{prefix}-VASE-01", "price": "34.00", "inventory": {whs[0].id: 40}},
                ], category_id="600011", emit=False)
            fbt_wh = next(w for w in st.shop_warehouses(us.id) if w.fbt)
            catalog.add_product(st, us.id, "Hoodie (FBT)", [
                {"seller_sku": "US-HOODIE-FBT", "price": "39.00", "inventory": {fbt_wh.id: 250}},
            ], category_id="600021", emit=False)
            return self.describe_locked(st)

        return self.run(go)

    def describe(self) -> dict[str, Any]:
        return self.run(self.describe_locked)

    def describe_locked(self, st: SandboxState) -> dict[str, Any]:
        return {
            "apps": [{"app_key": a.app_key, "app_secret": a.app_secret, "service_id": a.service_id,
                      "redirect_uri": a.redirect_uri, "webhook_url": a.webhook_url, "name": a.name}
                     for a in st.apps.values()],
            "sellers": [{"open_id": s.open_id, "name": s.name, "base_region": s.base_region, "shop_ids": s.shop_ids}
                        for s in st.sellers.values()],
            "shops": [self._shop_dict(st, s.id) for s in st.shops.values()],
            "providers": [{"id": p.id, "name": p.name, "tracking_pattern": p.tracking_pattern}
                          for p in st.providers.values()],
            "clock": st.clock.now(),
        }

    @staticmethod
    def _shop_dict(st: SandboxState, shop_id: str) -> dict[str, Any]:
        shop = st.shops[shop_id]
        return {
            "id": shop.id, "name": shop.name, "region": shop.region, "cipher": shop.cipher, "code": shop.code,
            "currency": shop.currency, "seller_open_id": shop.seller_open_id,
            "seller_name": st.sellers[shop.seller_open_id].name,
            "warehouses": [{"id": w.id, "name": w.name, "type": w.type, "fbt": w.fbt, "is_default": w.is_default,
                            "delivery_options": [{"id": d.id, "name": d.name, "provider_ids": d.provider_ids}
                                                 for d in st.delivery_options_of(w.id)]}
                           for w in st.warehouses.values() if w.shop_id == shop_id],
        }

    # ------------------------------------------------------------------------ apps / shops
    def add_app(self, **kw: Any) -> dict[str, Any]:
        def go(st: SandboxState) -> dict[str, Any]:
            a = auth.add_app(st, **kw)
            return {"app_key": a.app_key, "app_secret": a.app_secret, "service_id": a.service_id,
                    "redirect_uri": a.redirect_uri, "webhook_url": a.webhook_url}
        return self.run(go)

    def update_app(self, app_key: str, redirect_uri: str | None = None, webhook_url: str | None = None,
                   qps: float | None = None) -> dict[str, Any]:
        def go(st: SandboxState) -> dict[str, Any]:
            a = st.app(app_key)
            if redirect_uri is not None:
                a.redirect_uri = redirect_uri
            if webhook_url is not None:
                auth.check_webhook_url(st, webhook_url or None)
                a.webhook_url = webhook_url or None
            if qps is not None:
                a.qps = float(qps)
            return {"app_key": a.app_key, "redirect_uri": a.redirect_uri, "webhook_url": a.webhook_url, "qps": a.qps}
        return self.run(go)

    def add_shop(self, **kw: Any) -> dict[str, Any]:
        return self.run(lambda st: self._shop_dict(st, auth.add_shop(st, **kw).id))

    def add_warehouse(self, shop_id: str, name: str, fbt: bool = False) -> dict[str, Any]:
        def go(st: SandboxState) -> dict[str, Any]:
            w = auth.add_warehouse(st, shop_id, name, fbt=fbt)
            return {"id": w.id, "name": w.name, "fbt": w.fbt,
                    "delivery_options": [d.id for d in st.delivery_options_of(w.id)]}
        return self.run(go)

    def shop(self, shop_id: str) -> dict[str, Any]:
        return self.run(lambda st: (st.shop(shop_id), self._shop_dict(st, shop_id))[1])

    # ----------------------------------------------------------------------- authorization
    def authorize(self, app_key: str, shop_id: str | None = None, open_id: str | None = None) -> str:
        """The merchant clicks Authorize: a single-use auth code (30 min)."""
        return self.run(lambda st: auth.create_auth_code(st, app_key, open_id=open_id, shop_id=shop_id))

    def issue_token(self, app_key: str, shop_id: str | None = None) -> dict[str, Any]:
        return self.run(lambda st: auth.token_response(st, auth.issue_token(st, app_key, shop_id=shop_id)))

    def expire_token(self, access_token: str | None = None, app_key: str | None = None, shop_id: str | None = None,
                     refresh_too: bool = False) -> int:
        return self.run(lambda st: auth.expire_tokens(st, access_token, app_key, shop_id, refresh_too))

    def revoke_token(self, access_token: str | None = None, app_key: str | None = None,
                     shop_id: str | None = None) -> int:
        return self.run(lambda st: auth.revoke_tokens(st, access_token, app_key, shop_id))

    def deauthorize(self, app_key: str, shop_id: str) -> int:
        return self.run(lambda st: auth.deauthorize(st, app_key, shop_id))

    def authorization_expiring(self, app_key: str, shop_id: str, days: int = 30) -> None:
        """Webhook 7 (UPCOMING_AUTHORIZATION_EXPIRATION) for one app and shop."""
        def go(st: SandboxState) -> None:
            st.shop(shop_id)
            when = st.now() + days * 86400
            st.emit(shop_id, 7, {"message": f"Your authorization will expire in {days} days.",
                                 "expiration_time": str(when)}, app_key=app_key)
        self.run(go)

    def subscribe(self, app_key: str, shop_id: str, event_type: str, address: str) -> dict[str, Any]:
        def go(st: SandboxState) -> dict[str, Any]:
            st.app(app_key)
            st.shop(shop_id)
            if self.digest.topic_type(event_type) is None:
                raise SandboxError(f"unknown event_type {event_type!r}")
            auth.check_webhook_url(st, address, "address")
            return upsert_subscription(st, app_key, shop_id, event_type, address)
        return self.run(go)

    # ----------------------------------------------------------------------------- catalog
    def add_product(self, shop_id: str, title: str, skus: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
        return self.run(lambda st: catalog.product_json(st, catalog.add_product(st, shop_id, title, skus, **kw)))

    def set_stock(self, sku_id: str | None = None, quantity: int = 0, warehouse_id: str | None = None,
                  seller_sku: str | None = None, shop_id: str | None = None) -> dict[str, Any]:
        def go(st: SandboxState) -> dict[str, Any]:
            sku = st.sku(sku_id) if sku_id else st.sku_by_seller_sku(str(shop_id), str(seller_sku))
            catalog.set_stock(st, sku.id, warehouse_id, int(quantity))
            return {"sku_id": sku.id, "inventory": dict(sku.inventory), "committed": dict(sku.committed)}
        return self.run(go)

    def set_promotion_lock(self, sku_id: str, locked: bool = True) -> dict[str, Any]:
        def go(st: SandboxState) -> dict[str, Any]:
            sku = st.sku(sku_id)
            sku.promotion_locked = bool(locked)
            return {"sku_id": sku.id, "promotion_locked": sku.promotion_locked}
        return self.run(go)

    def set_product_status(self, product_id: str, status: str) -> dict[str, Any]:
        def go(st: SandboxState) -> dict[str, Any]:
            p = st.products.get(product_id)
            if p is None:
                raise SandboxError(f"unknown product {product_id!r}", 404, "not_found")
            if status not in catalog.PRODUCT_STATUSES:
                raise SandboxError(f"unknown product status {status!r}")
            p.status = status
            p.update_time = st.now()
            return {"product_id": p.id, "status": p.status}
        return self.run(go)

    def inventory(self, shop_id: str | None = None) -> list[dict[str, Any]]:
        def go(st: SandboxState) -> list[dict[str, Any]]:
            rows = []
            for sku in st.skus.values():
                p = st.products[sku.product_id]
                if shop_id and p.shop_id != shop_id:
                    continue
                rows.append({"shop_id": p.shop_id, "product_id": p.id, "sku_id": sku.id, "seller_sku": sku.seller_sku,
                             "price": str(sku.price), "currency": sku.currency, "product_status": p.status,
                             "available": dict(sku.inventory), "committed": dict(sku.committed),
                             "promotion_locked": sku.promotion_locked})
            return rows
        return self.run(go)

    def products(self, shop_id: str | None = None) -> list[dict[str, Any]]:
        return self.run(lambda st: [catalog.product_json(st, p) for p in st.products.values()
                                    if not shop_id or p.shop_id == shop_id])

    # ------------------------------------------------------------------------------ orders
    def place_order(self, shop_id: str, items: list[dict[str, Any]], **opts: Any) -> dict[str, Any]:
        return self.run(lambda st: orders.order_json(st, orders.place_order(st, shop_id, items, **opts)))

    def place_orders(self, orders_spec: list[dict[str, Any]], detail: bool = False) -> dict[str, Any]:
        """Bulk placement (benchmarks): each spec is ``{"shop_id", "items", **options}``. Refusals
        (insufficient stock, …) are reported per index, never raised."""
        def go(st: SandboxState) -> dict[str, Any]:
            placed: list[Any] = []
            refused: list[dict[str, Any]] = []
            for i, raw in enumerate(orders_spec):
                spec = dict(raw)
                try:
                    order = orders.place_order(st, str(spec.pop("shop_id")), spec.pop("items"), **spec)
                except (SandboxError, KeyError, ValueError) as exc:
                    msg = exc.message if isinstance(exc, SandboxError) else str(exc)
                    reason = exc.reason if isinstance(exc, SandboxError) else "bad_request"
                    refused.append({"index": i, "reason": reason, "message": msg})
                    continue
                placed.append(orders.order_json(st, order) if detail else order.id)
            return {"orders": placed, "refused": refused, "placed_count": len(placed), "refused_count": len(refused)}
        return self.run(go)

    def order(self, order_id: str) -> dict[str, Any]:
        return self.run(lambda st: orders.order_json(st, st.order(order_id)))

    def list_orders(self, shop_id: str | None = None, status: str | None = None, limit: int = 1000,
                    offset: int = 0) -> dict[str, Any]:
        def go(st: SandboxState) -> dict[str, Any]:
            ids = [o for o in st.order_seq if (not shop_id or st.orders[o].shop_id == shop_id)
                   and (not status or st.orders[o].status == status)]
            page = ids[offset:offset + limit]
            return {"total": len(ids), "orders": [orders.order_json(st, st.orders[o]) for o in page]}
        return self.run(go)

    def pay_order(self, order_id: str, hold: bool | None = None) -> dict[str, Any]:
        return self.run(lambda st: orders.order_json(st, orders.pay(st, st.order(order_id), hold)))

    def release_hold(self, order_id: str) -> dict[str, Any]:
        return self.run(lambda st: orders.order_json(st, orders.release_hold(st, st.order(order_id))))

    def hold_order(self, order_id: str, seconds: float | None = None) -> dict[str, Any]:
        return self.run(lambda st: orders.order_json(st, orders.put_on_hold(st, st.order(order_id), seconds)))

    def advance_order(self, order_id: str, to: str | None = None) -> dict[str, Any]:
        return self.run(lambda st: orders.order_json(st, orders.advance(st, st.order(order_id), to)))

    def update_address(self, order_id: str, address: dict[str, Any] | None = None) -> dict[str, Any]:
        return self.run(lambda st: orders.order_json(st, orders.update_address(st, st.order(order_id), address)))

    def cancel_order(self, order_id: str, role: str = "BUYER", line_item_ids: list[str] | None = None,
                     reason: str | None = None) -> dict[str, Any]:
        return self.run(lambda st: aftersale.cancellation_json(
            st, aftersale.request_cancel(st, order_id, role, line_item_ids, reason)))

    def request_return(self, order_id: str, line_item_ids: list[str] | None = None,
                       return_type: str = "RETURN_AND_REFUND", reason: str | None = None,
                       refund_shipping: bool = False) -> dict[str, Any]:
        return self.run(lambda st: aftersale.return_json(st, aftersale.request_return(
            st, order_id, line_item_ids, return_type, reason, refund_shipping=refund_shipping)))

    def buyer_ships_return(self, return_id: str, tracking_number: str | None = None) -> dict[str, Any]:
        return self.run(lambda st: aftersale.return_json(
            st, aftersale.buyer_ships_return(st, return_id, tracking_number)))

    def receive_inbound_order(self, shop_id: str, warehouse_id: str, lines: list[dict[str, Any]],
                              complete: bool = True) -> dict[str, Any]:
        """An FBT warehouse receives a merchant's inbound order (``lines``: ``seller_sku`` or ``sku_id``,
        ``normal``, ``defective``): TikTok's stock there rises, with ``INBOUND_ORDER`` records
        (PARTIALLY_RECEIVED unless ``complete``)."""
        return self.run(lambda st: fbt.inbound_order_json(
            st, fbt.receive_inbound(st, shop_id, warehouse_id, lines, bool(complete))))

    def receive_inbound_batches(self, inbound_order_id: str, lines: list[dict[str, Any]],
                                complete: bool = True) -> dict[str, Any]:
        """More of a partially received inbound order put away."""
        return self.run(lambda st: fbt.inbound_order_json(
            st, fbt.receive_more(st, inbound_order_id, lines, bool(complete))))

    def ship_fbt_order(self, order_id: str, tracking_number: str | None = None) -> dict[str, Any]:
        return self.run(lambda st: orders.order_json(st, fulfillment.ship_fbt(st, order_id, tracking_number)))

    def mark_tracking_invalid(self, tracking_number: str, invalid: bool = True) -> None:
        def go(st: SandboxState) -> None:
            if invalid:
                st.invalid_tracking_numbers.add(tracking_number)
            else:
                st.invalid_tracking_numbers.discard(tracking_number)
        self.run(go)

    def omit_from_order_detail(self, order_id: str, omit: bool = True) -> None:
        """Get Order Detail answers without this order (or with it again: ``omit=False``) while every other
        endpoint still knows it: an order a statement names that the orders API does not return."""
        def go(st: SandboxState) -> None:
            if order_id not in st.orders:
                raise SandboxError(f"unknown order {order_id!r}", 404, "not_found")
            if omit:
                st.order_detail_omitted.add(order_id)
            else:
                st.order_detail_omitted.discard(order_id)
        self.run(go)

    def packages(self, order_id: str | None = None, shop_id: str | None = None) -> list[dict[str, Any]]:
        return self.run(lambda st: [
            {**fulfillment.package_json(st, p), "shipped_by": p.shipped_by, "fbt": p.fbt}
            for p in st.packages.values()
            if (not order_id or p.order_id == order_id) and (not shop_id or p.shop_id == shop_id)])

    def shipments(self, shop_id: str | None = None) -> list[dict[str, Any]]:
        """Every shipped package with its tracking number and provider (what the seller told TikTok)."""
        return [p for p in self.packages(shop_id=shop_id) if p["tracking_number"]]

    def cancellations(self, order_id: str | None = None) -> list[dict[str, Any]]:
        return self.run(lambda st: [aftersale.cancellation_json(st, c) for c in st.cancellations.values()
                                    if not order_id or c.order_id == order_id])

    def returns(self, order_id: str | None = None) -> list[dict[str, Any]]:
        return self.run(lambda st: [aftersale.return_json(st, r) for r in st.returns.values()
                                    if not order_id or r.order_id == order_id])

    # ----------------------------------------------------------------------------- finance
    def generate_statements(self, day: str | date, shop_id: str | None = None) -> list[dict[str, Any]]:
        d = finance.parse_day(day)
        return self.run(lambda st: [finance.statement_json(st, s) for s in finance.generate_statements(st, d, shop_id)])

    def close_next_day(self, shop_id: str | None = None) -> tuple[list[dict[str, Any]], datetime]:
        """TikTok closes a day's statement at 00:00 UTC with every order completed before then: move the business
        clock to half past the next midnight and close that day's statements. Returns them and that midnight: the
        payout is created an hour after it and paid a day after it, so a window that imports and audits them must
        reach past midnight + 1 day, whatever the wall clock's hour."""
        now = datetime.fromtimestamp(int(self.now()), UTC)
        next_day = (now + timedelta(days=1)).date()
        midnight = datetime(next_day.year, next_day.month, next_day.day, tzinfo=UTC)
        self.advance_clock((midnight - now).total_seconds() + 1800)
        return self.generate_statements(next_day, shop_id=shop_id), midnight

    def add_adjustment(self, shop_id: str, amount: str, type: str = "OTHER_ADJUSTMENT",
                       order_id: str = "") -> dict[str, Any]:
        def go(st: SandboxState) -> dict[str, Any]:
            a = finance.add_adjustment(st, shop_id, amount, type, order_id)
            return {"id": a.id, "type": a.type, "amount": str(a.amount), "order_id": a.order_id}
        return self.run(go)

    def reissue_statement(self, statement_id: str, fee_delta: str = "-1.00",
                          transaction_id: str | None = None) -> dict[str, Any]:
        return self.run(lambda st: finance.statement_json(
            st, finance.reissue_statement(st, statement_id, fee_delta, transaction_id)))

    def set_reserve(self, statement_id: str, amount: str) -> dict[str, Any]:
        """Withhold (negative) or release (positive) a reserve with a statement and its payout."""
        return self.run(lambda st: finance.statement_json(st, finance.set_reserve(st, statement_id, amount)))

    def set_payment_status(self, payment_id: str, status: str) -> dict[str, Any]:
        def go(st: SandboxState) -> dict[str, Any]:
            pay = st.payments.get(payment_id)
            if pay is None:
                raise SandboxError(f"unknown payment {payment_id!r}", 404, "not_found")
            if status not in ("PAID", "FAILED", "PROCESSING"):
                raise SandboxError("status must be PAID, FAILED or PROCESSING")
            pay.status = status
            return finance.payment_json(st, pay)
        return self.run(go)

    def statements(self, shop_id: str | None = None) -> list[dict[str, Any]]:
        def go(st: SandboxState) -> list[dict[str, Any]]:
            out = []
            for s in st.statements.values():
                if shop_id and s.shop_id != shop_id:
                    continue
                out.append({**finance.statement_json(st, s), "shop_id": s.shop_id, "revision": s.revision,
                            "transactions": finance.transactions_by_statement(
                                st, s, {"page_size": "100000"}, 0)["transactions"]})
            return out
        return self.run(go)

    # -------------------------------------------------------------------------- clock/faults
    def advance_clock(self, seconds: float) -> float:
        with self.lock:
            now = self.state.clock.advance(float(seconds))
        self.tick()
        return now

    def set_clock_speed(self, speed: float) -> None:
        self.state.clock.set_speed(float(speed))

    def now(self) -> float:
        return self.state.clock.now()

    def set_faults(self, **knobs: Any) -> dict[str, Any]:
        try:
            return self.faults.update(**knobs)
        except ValueError as exc:
            raise SandboxError(str(exc)) from None

    # ------------------------------------------------------------------------------ reads
    def webhook_deliveries(self, shop_id: str | None = None, type: int | None = None,
                           state: str | None = None) -> list[dict[str, Any]]:
        return self.sender.deliveries(shop_id, type, state)

    def wait_webhooks(self, timeout: float = 10.0, include_retries: bool = False) -> bool:
        return self.sender.wait_idle(timeout, include_retries)

    def counters_snapshot(self) -> dict[str, Any]:
        with self._counters_lock:
            calls = {k: dict(v) for k, v in self.counters.items()}
            faults = {k: dict(v) for k, v in self.fault_counts.items()}
        return {"api": calls, "faults": faults, "webhooks": self.sender.stats()}

    def reset_counters(self) -> None:
        with self._counters_lock:
            self.counters.clear()
            self.fault_counts.clear()


def _attr(attr_id: str, name: str, value_id: str, value_name: str) -> dict[str, str]:
    return {"id": attr_id, "name": name, "value_id": value_id, "value_name": value_name}


def upsert_subscription(st: SandboxState, app_key: str, shop_id: str, event_type: str, address: str) -> dict[str, Any]:
    key = (app_key, shop_id, event_type)
    now = st.now()
    sub = st.subscriptions.get(key)
    if sub is None:
        sub = Subscription(app_key=app_key, shop_id=shop_id, event_type=event_type, address=address,
                           create_time=now, update_time=now)
        st.subscriptions[key] = sub
    else:
        sub.address = address
        sub.update_time = now
    return {"event_type": sub.event_type, "address": sub.address, "create_time": sub.create_time,
            "update_time": sub.update_time}


"""Both sandboxes and a running bridge, wired like production: the TikTok Shop sandbox (connected
through the real OAuth code exchange, webhooks to the bridge), the NetSuite sandbox running the
project's real SuiteScript (its user events POST signed events to the bridge over HTTP), the
bridge's web app on a port-0 server and a worker thread."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bridge.bootstrap import App, build
from bridge.flows import inventory as flow
from bridge.sandbox.tiktok import TikTokSandbox, TikTokSandboxConfig
from bridge.sandbox.tiktok import create_app as tiktok_app
from bridge.serving import BackgroundServer
from bridge.store.repos import Shop
from bridge.tiktok import wiring
from bridge.tiktok.oauth import connect
from bridge.web import create_app
from tests.netsuite.sandbox_support import Sandbox as NsSandbox
from tests.netsuite.sandbox_support import running_sandbox
from tests.tiktok.conftest import Sandbox as TtSandbox
from tests.tiktok.conftest import make_settings

EVENTS_SECRET = secrets.token_hex(24)


@dataclass
class Stack:
    c: App
    ns: NsSandbox
    tt: TikTokSandbox
    tt_url: str
    bridge_url: str
    shop: Shop
    warehouses: dict[str, str]  # name -> id
    items: dict[str, str]  # NetSuite itemid -> internal id

    @property
    def svc(self) -> flow.InventorySync:
        return self.c.flows.inventory

    # -- NetSuite side (control API: the UI context, so the real user events fire) ---------------
    def ns_control(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        import requests

        resp = requests.post(f"{self.ns.url}/_sandbox/{path}", json=body, timeout=30)
        assert resp.status_code == 200, resp.text
        out: dict[str, Any] = resp.json()
        return out

    def receive(self, itemid: str, location: str, qty: int) -> None:
        self.ns_control("stock/receive", {"item": self.items[itemid], "location": location, "quantity": qty})

    def sell_elsewhere(self, itemid: str, location: str, qty: int) -> dict[str, Any]:
        return self.ns_control("sales/other-channel", {"lines": [{"item": self.items[itemid], "quantity": qty}],
                                                      "location": location, "fulfill": True})

    def ns_stock(self, itemid: str, location: str) -> dict[str, str]:
        rows = self.ns.sb.stock_levels(self.items[itemid], location)
        return rows[0] if rows else {"onHand": "0", "available": "0", "committed": "0", "backOrdered": "0"}

    # -- TikTok side ------------------------------------------------------------------------------
    def tt_stock(self, seller_sku: str) -> dict[str, int]:
        row = next(r for r in self.tt.inventory(self.shop.id) if r["seller_sku"] == seller_sku)
        return {w: int(q) for w, q in row["available"].items()}

    def tt_order(self, seller_sku: str, qty: int = 1, **opts: Any) -> str:
        order = self.tt.place_order(self.shop.id, [{"seller_sku": seller_sku, "quantity": qty}], hold=False, **opts)
        return str(order["id"])


def ns_ids(ns: NsSandbox, table: str, key: str) -> dict[str, str]:
    items, _ = ns.sb.suiteql(f"SELECT id, {key} AS k FROM {table}")  # noqa: S608 - test constants
    return {str(r["k"]): str(r["id"]) for r in items}


def orders_spec(ns: NsSandbox) -> dict[str, Any]:
    """orders.yaml for the sandbox account (ids looked up, not guessed)."""
    customers = ns_ids(ns, "customer", "externalid")
    methods = ns_ids(ns, "paymentmethod", "externalid")
    return {"version": 1, "defaults": {
        "subsidiary": "1", "location": {"default": "1"}, "currencies": {"USD": "1"},
        "customer": {"strategy": "generic", "generic_id": customers["CUST-TTS"]},
        "payment_option": {"default": methods["PM-TTS"]}, "hold_policy": "stage",
        "discounts": {"seller": {"mode": "line_rate"}, "platform": {"mode": "line_rate"}},
        "tax": {"mode": "none"}, "shipping": {"mode": "body"}, "rounding": {"max": "0.05"},
    }}


def write_specs(directory: Path, ns: NsSandbox, inventory: dict[str, Any],
                catalog: dict[str, Any] | None = None) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    docs = {
        "locations": {"version": 1, "shops": {"Sandbox US Shop": {"warehouses": [
            {"warehouse": "Sandbox US Shop warehouse 1", "locations": ["1"]},
            {"warehouse": "Sandbox US Shop warehouse 2", "locations": ["2"]},
            {"warehouse": "FBT US fulfillment center", "tiktok_managed": True, "locations": ["3"]}]}}},
        "inventory": {"version": 1, "coalesce_seconds": 0.2, **inventory},
        "catalog": catalog or {"version": 1, "source": "tiktok", "match": {"by": "itemid"}},
        "prices": {"version": 1, "defaults": {"price_level": "1", "currencies": {"USD": "1"}}},
        "orders": orders_spec(ns),
    }
    for name, doc in docs.items():
        (directory / f"{name}.yaml").write_text(yaml.safe_dump(doc), encoding="utf-8")
    return directory


@contextmanager
def running_stack(tmp_path: Path, sqlite_url: str, *, inventory: dict[str, Any],
                  products: list[tuple[str, list[dict[str, Any]]]],
                  catalog: dict[str, Any] | None = None, zero_quantity: bool = False,
                  review_seconds: float | None = None) -> Iterator[Stack]:
    """``products``: (title, skus) created in the US shop, each sku ``{seller_sku, inventory: {warehouse
    name: qty}}``; then locations and the SKU index are pulled. ``zero_quantity`` turns on the TikTok
    sandbox's ``inventory_zero_quantity`` knob (0 accepted below the documented [1, 99,999]);
    ``review_seconds`` its ``product_review_seconds`` (products go PENDING until TikTok's review decides)."""
    (tmp_path / "ns-keys").mkdir(exist_ok=True)
    tt_app = tiktok_app(TikTokSandboxConfig(seed=11, webhook_time_scale=0.0001, tick_interval=0.05,
                                            inventory_zero_quantity=zero_quantity, webhook_loopback_http=True,
                                            product_review_seconds=review_seconds))
    tt: TikTokSandbox = tt_app.extensions["tiktok_sandbox"]
    with BackgroundServer(tt_app, name="tiktok-sandbox") as tt_server, \
            running_sandbox(tmp_path / "ns-keys", run_scripts=True, api_secrets={
                "custsecret_ttns_events": EVENTS_SECRET}) as ns:
        state = tt.reset()
        app = state["apps"][0]
        us = next(s for s in state["shops"] if s["region"] == "US")
        sandbox = TtSandbox(tt_server.url, tt, app["app_key"], app["app_secret"], app["service_id"], {"US": us})
        specs = write_specs(tmp_path / "specs", ns, inventory, catalog)
        ns_settings = ns.settings().model_dump()
        ns_keys = {k: v for k, v in ns_settings.items() if k.startswith("netsuite_") and v is not None}
        ns_keys["netsuite_events_secret"] = EVENTS_SECRET
        c = build(make_settings(sqlite_url, sandbox, specs_dir=specs, worker_poll_interval=0.02,
                                retry_base_seconds=0.05, retry_cap_seconds=0.5, **ns_keys))
        try:
            c = c.with_clients(tiktok=wiring.build(c.settings, c.store, c.clock,
                                                   sleep=lambda s: time.sleep(min(s, 0.05))))
            with BackgroundServer(create_app(root=c), name="bridge") as bridge:
                ns.sb.config.script_parameters["custscript_ttns_bridge_url"] = bridge.url
                ns.sb.config.script_parameters["custscript_ttns_mr_bridge_url"] = bridge.url
                c = c.with_settings(public_url=bridge.url)
                code = tt.authorize(sandbox.app_key, shop_id=us["id"])
                tiktok = c.tiktok()
                connect(auth_code=code, oauth=tiktok.oauth, api=tiktok.api, store=c.store, public_url=bridge.url,
                        subscribe=True)
                shop = c.store.shops.get(us["id"])
                assert shop is not None
                whs = {w["name"]: w["id"] for w in us["warehouses"]}
                for title, skus in products:
                    tt.add_product(shop.id, title, [
                        {"seller_sku": s["seller_sku"], "price": s.get("price", "10.00"),
                         "inventory": {whs[n]: q for n, q in s["inventory"].items()}} for s in skus],
                        category_id="600010", emit=False)
                stack = Stack(c, ns, tt, tt_server.url, bridge.url, shop, whs, ns_ids(ns, "item", "itemid"))
                stack.svc.pull_places()
                stack.svc.refresh(shop)
                yield stack
        finally:
            c.close()
            tt.close()


class Worker:
    """The bridge's worker on a thread (several job threads, like `ttns worker`)."""

    def __init__(self, c: App, threads: int = 4) -> None:
        self.w = c.worker(threads=threads, name="inventory-it")
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.w.run, args=(self.stop,), daemon=True)

    def __enter__(self) -> Worker:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(15)


def wait_for(pred: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what or pred}")


def inventory_idle(c: App) -> bool:
    """No inventory job queued or running: every stock event so far has been pushed."""
    from sqlalchemy import func, select

    from bridge.store.tables import jobs

    with c.store.engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(jobs).where(
            jobs.c.kind.in_([flow.KIND_CHANGES, flow.KIND_PUSH]), jobs.c.status.in_(["queued", "running"]))).scalar()
    return not n


def quiet(c: App, settle: float = 0.6, timeout: float = 30.0) -> None:
    """Wait until the queue has had nothing queued or running for ``settle`` seconds."""
    deadline = time.monotonic() + timeout
    calm_since: float | None = None
    while time.monotonic() < deadline:
        counts = c.store.queue.counts()
        busy = counts.get("queued", 0) + counts.get("running", 0)
        now = time.monotonic()
        if busy:
            calm_since = None
        elif calm_since is None:
            calm_since = now
        elif now - calm_since >= settle:
            return
        time.sleep(0.05)
    raise AssertionError(f"the queue did not settle: {c.store.queue.counts()}")

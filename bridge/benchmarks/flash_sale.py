"""The flash-sale benchmark (``scripts/bench`` → ``ttns bench flash-sale``).

The bridge runs as it would in production — ``ttns web`` under gunicorn and ``ttns worker``
processes, on SQLite or PostgreSQL — against both sandboxes in this process, with the NetSuite
latency model and concurrency limit set from the options. Phases:

1. warm-up: a few orders (tokens, caches);
2. webhook acknowledgement: signed webhooks at a fixed rate, latency measured by the sender;
3. steady state: orders at a low rate, order → sales order latency;
4. burst: N orders at once; sales orders per second against the ceiling the NetSuite model
   allows, NetSuite calls per order, duplicates and missing sales orders;
5. stock changes (when the inventory flow is present): NetSuite receipt → TikTok stock latency
   and TikTok inventory calls per change;
6. fulfillments (when the fulfillment flow is present): NetSuite fulfillment → TikTok tracking;
7. oversell (when the inventory flow is present): TikTok and another channel sell the same
   scarce SKU; units TikTok accepted beyond NetSuite's stock. Three SKUs, one after the other: one
   with the shipped spec (the dynamic buffer), one with a fixed buffer of 1 (the spec's floor, the
   dynamic buffer off) and one with a fixed hand-set hot-SKU buffer (``--hot-buffer``); for each,
   the units oversold and the units the buffer held back from TikTok at its peak (the price of safety).

Figures go to ``OUT/bench.json`` and charts to ``OUT/*.png``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import requests

from bridge.benchmarks.harness import REPO, database, free_port, percentile, spawn, wait_http
from bridge.domain.order_memory import OrderMemory
from bridge.sandbox.netsuite import NetSuiteSandboxConfig
from bridge.sandbox.netsuite.config import LatencyModel
from bridge.sandbox.tiktok.config import TikTokSandboxConfig
from bridge.sandbox.world import DEMO_CATALOG, CatalogItem, SandboxWorld

SKUS = ("TSHIRT-RED-M", "TSHIRT-BLUE-L", "MUG-001", "CAP-001")
STOCK_SKU = "BENCH-STOCK-1"  # moved by NetSuite receipts in the stock phase
# Sold on TikTok and in the web store at once in the oversell phase: one SKU with the shipped spec
# (dynamic buffer), one with a fixed buffer of 1, one with the livestream buffer a merchant sets on a
# hot SKU (``--hot-buffer``), both fixed ones with the dynamic buffer off.
SCARCE_SKU = "BENCH-SCARCE-1"
HOT_SKU = "BENCH-HOT-1"
FIXED_SKU = "BENCH-FIXED-1"
BENCH_CATALOG = (*DEMO_CATALOG, CatalogItem(STOCK_SKU, "Bench stock item", "9.99", {"LOC-MAIN": 100}, 0),
                 CatalogItem(SCARCE_SKU, "Bench scarce item", "29.99", {"LOC-MAIN": 60}, 0),
                 CatalogItem(HOT_SKU, "Bench livestream item", "29.99", {"LOC-MAIN": 60}, 0),
                 CatalogItem(FIXED_SKU, "Bench fixed-buffer item", "29.99", {"LOC-MAIN": 60}, 0))


@dataclass
class BenchOptions:
    orders: int = 10_000
    steady_orders: int = 90
    steady_rate: float = 1.5
    webhook_rate: float = 200.0
    webhook_seconds: float = 15.0
    netsuite_concurrency: int = 5
    latency_scale: float = 1.0
    write_path: str = "rest"
    database: str = "sqlite"
    pg_admin_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    worker_processes: int = 1
    worker_threads: int = 16
    web_workers: int = 2
    run_scripts: bool = True
    stock_changes: int = 20
    price_changes: int = 20
    fulfillments: int = 20
    hot_buffer: int = 20
    phases: tuple[str, ...] = ()  # empty: all; warm-up always runs
    out: Path = Path("bench-out")
    seed: int = 2026


@dataclass
class Phase:
    name: str
    figures: dict[str, Any] = field(default_factory=dict)
    skipped: str = ""


def pct(values: list[float], p: float) -> float | None:
    value = percentile(values, p)
    return None if value is None else round(value, 4)


def summary(values: list[float]) -> dict[str, Any]:
    return {"n": len(values), "p50": pct(values, 50), "p95": pct(values, 95), "p99": pct(values, 99),
            "mean": round(statistics.fmean(values), 4) if values else None, "max": round(max(values), 4)
            if values else None}


class Bench:
    def __init__(self, options: BenchOptions, log: Callable[[str], None] = print) -> None:
        self.o = options
        self.log = log
        self.out = options.out
        self.out.mkdir(parents=True, exist_ok=True)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.phases: list[Phase] = []
        self.rng = random.Random(options.seed)
        self.placed_at: dict[str, float] = {}
        self.series: dict[str, Any] = {}

    # -- set-up ------------------------------------------------------------------------------
    @contextmanager
    def running(self) -> Iterator[None]:
        from bridge.bootstrap import build
        from bridge.store.db import upgrade

        port = free_port()
        bridge_url = f"http://127.0.0.1:{port}"
        ns_cfg = NetSuiteSandboxConfig(concurrency_limit=self.o.netsuite_concurrency, https_allow_http=True,
                                       latency=LatencyModel(scale=self.o.latency_scale))
        tk_cfg = TikTokSandboxConfig(webhook_time_scale=0.01, webhook_workers=16, qps=1000.0,
                                     inventory_zero_quantity=True, webhook_loopback_http=True)
        work = self.out / "work"
        world = SandboxWorld(work, tiktok=tk_cfg, netsuite=ns_cfg, run_scripts=self.o.run_scripts,
                             bridge_url=bridge_url, catalog=BENCH_CATALOG)
        with database(self.o.database, work, "bench", self.o.pg_admin_url) as url:
            world.start()
            self.world = world
            upgrade(url)
            overrides = {"netsuite_concurrency": self.o.netsuite_concurrency, "specs_dir": str(self._specs(work)),
                         "netsuite_write_path": self.o.write_path, "log_level": "WARNING",
                         "web_bind": f"127.0.0.1:{port}", "web_workers": self.o.web_workers}
            self.env = {**os.environ, **world.env(url, **overrides), "PYTHONPATH": str(REPO)}
            self.container = build(world.settings(url, **overrides))
            try:
                self._spawn(["web"], "web")
                wait_http(f"{bridge_url}/healthz")
                for i in range(self.o.worker_processes):
                    self._spawn(["worker", "--threads", str(self.o.worker_threads), "--name", f"bench-{i}"],
                                f"worker-{i}")
                world.connect_shop(self.container)
                self._link_catalog()
                for sku in SKUS:
                    world.tiktok_sb.set_stock(seller_sku=sku, shop_id=world.shop_id, quantity=1_000_000,
                                              warehouse_id=world.seller_warehouse)
                    world.netsuite_sb.receive_stock(world.netsuite_item_id(sku), world.netsuite_location("LOC-MAIN"),
                                                    1_000_000)
                yield
            finally:
                for p in self.procs:
                    p.send_signal(signal.SIGTERM)
                for p in self.procs:
                    try:
                        p.wait(30)
                    except subprocess.TimeoutExpired:
                        p.kill()
                self.container.close()
                world.close()

    def _specs(self, work: Path) -> Path:
        """The shipped mapping specs with the sandbox overlay; fixed buffers (dynamic off) on the hot and
        the fixed SKU, the hot one the livestream buffer."""
        import shutil

        import yaml

        from bridge.sandbox.specs import sandbox_specs

        specs = work / "specs"
        shutil.rmtree(specs, ignore_errors=True)
        sandbox_specs(specs)
        inv = yaml.safe_load((specs / "inventory.yaml").read_text())
        inv.setdefault("skus", {})[HOT_SKU] = {"buffer": self.o.hot_buffer, "dynamic_buffer": False}
        inv["skus"][FIXED_SKU] = {"buffer": 1, "dynamic_buffer": False}
        (specs / "inventory.yaml").write_text(yaml.safe_dump(inv, sort_keys=False))
        return specs

    def _link_catalog(self) -> None:
        """Locations, SKU index and a first full stock push (what `ttns locations pull`, `ttns skus
        match` and `ttns inventory push --all` do when a merchant sets up)."""

        self.container.flows.inventory.first_sync("bench set-up")

    def _spawn(self, args: list[str], name: str) -> None:
        self.procs.append(spawn(args, self.out / f"{name}.log", self.env))

    # -- helpers -----------------------------------------------------------------------------
    def order_spec(self) -> dict[str, Any]:
        rng = self.rng
        items = [{"seller_sku": s, "quantity": rng.choice([1, 1, 1, 2])} for s in rng.sample(SKUS, rng.randint(1, 2))]
        return {"shop_id": self.world.shop_id, "items": items, "hold": False,
                "shipping_fee": rng.choice(["0", "4.99"]), "seller_discount": rng.choice(["0", "0", "1.00"]),
                "tax_rate": rng.choice(["0", "0.0825"])}

    def place(self, n: int) -> list[str]:
        placed = self.world.tiktok_sb.place_orders([self.order_spec() for _ in range(n)])
        now = time.time()
        ids = [str(i) for i in placed["orders"]]
        for oid in ids:
            self.placed_at[oid] = now
        return ids

    def synced_times(self, ids: list[str]) -> dict[str, float]:
        links = self.container.store.links.get_many("order", self.world.shop_id, ids)
        return {oid: ln.synced_at.timestamp() for oid, ln in links.items()
                if ln.netsuite_id and ln.synced_at is not None}

    def wait_synced(self, ids: list[str], timeout: float) -> dict[str, float]:
        deadline = time.monotonic() + timeout
        done: dict[str, float] = {}
        while time.monotonic() < deadline:
            done = self.synced_times(ids)
            if len(done) >= len(ids):
                break
            time.sleep(0.5)
        return done

    def netsuite_calls(self) -> int:
        counts = self.container.store.calls.counts()
        return sum(n for (system, _o), n in counts.items() if system == "netsuite")

    # -- phases ------------------------------------------------------------------------------
    def warm_up(self) -> Phase:
        ids = self.place(20)
        done = self.wait_synced(ids, 120)
        self.warm_ids = ids
        return Phase("warm-up", {"orders": len(ids), "synced": len(done)})

    def webhook_ack(self) -> Phase:
        """Signed order-status webhooks at a fixed rate from a separate process (as TikTok sends them:
        each names an order the bridge knows, with its current update time), latency as the sender
        sees it."""
        out = self.out / "webhook_load.json"
        orders = []
        for oid in self.warm_ids:
            o = self.world.tiktok_sb.order(oid)
            orders.append([oid, int(o.get("update_time") or 0)])
        env = {**self.env, "TTNS_BENCH_APP_SECRET": self.world.tiktok_config.demo_app_secret}
        proc = subprocess.run(
            [sys.executable, "-m", "bridge.benchmarks.webhook_load", f"{self.world.bridge_url}/webhooks/tiktok",
             self.world.app_key, str(self.o.webhook_rate), str(self.o.webhook_seconds), str(out)],
            input=json.dumps({"orders": orders, "shop_id": self.world.shop_id}).encode(), env=env, cwd=REPO,
            capture_output=True, timeout=self.o.webhook_seconds * 4 + 60, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"the webhook load generator failed: {proc.stderr.decode()[-500:]}")
        data = json.loads(out.read_text())
        latencies = data["latencies_ms"]
        self.series["webhook_ack_ms"] = latencies
        return Phase("webhook acknowledgement", {
            "target_rate": self.o.webhook_rate, "achieved_rate": round(data["achieved_rate"], 1),
            "sent": len(latencies), "statuses": data["statuses"], "latency_ms": summary(latencies),
            "in_bridge_ms": summary(data.get("server_ms") or [])})

    def steady(self) -> Phase:
        ids: list[str] = []
        n, rate = self.o.steady_orders, self.o.steady_rate
        start = time.monotonic()
        for i in range(n):
            due = start + i / rate
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            ids += self.place(1)
        done = self.wait_synced(ids, 120)
        lat = [done[i] - self.placed_at[i] for i in ids if i in done]
        self.series["steady_latency_s"] = lat
        return Phase("steady state", {"orders": n, "rate_per_s": rate, "synced": len(done),
                                      "order_to_sales_order_s": summary(lat)})

    def burst(self) -> Phase:
        calls_before = self.netsuite_calls()
        since = datetime.now(UTC)
        ids: list[str] = []
        t0 = time.time()
        for chunk in range(0, self.o.orders, 1000):
            ids += self.place(min(1000, self.o.orders - chunk))
        placing = time.time() - t0
        ceiling = self._ceiling()
        # generous: a slow run should report its rate, not stop early and call the rest missing
        timeout = max(900.0, 3 * self.o.orders / max(ceiling, 0.1))
        self.log(f"burst: {len(ids)} orders placed in {placing:.1f}s; modelled ceiling {ceiling:.2f} SO/s; "
                 f"waiting up to {timeout:.0f}s")
        done: dict[str, float] = {}
        deadline = time.monotonic() + timeout
        progress_at = 0.0
        while time.monotonic() < deadline:
            done = self.synced_times(ids)
            if time.monotonic() - progress_at > 30:
                self.log(f"  {len(done)}/{len(ids)} sales orders")
                progress_at = time.monotonic()
            if len(done) >= len(ids):
                break
            time.sleep(1.0)
        finish = sorted(done.values())
        lat = [done[i] - self.placed_at[i] for i in ids if i in done]
        # sustained rate over the middle 80% of completions (start-up and tail excluded)
        sustained = None
        if len(finish) >= 10:
            a, b = finish[len(finish) // 10], finish[(len(finish) * 9) // 10]
            sustained = (len(finish) * 8 // 10) / max(b - a, 1e-9)
        calls = self.netsuite_calls() - calls_before
        rows, _ = self.world.netsuite_sb.suiteql(
            "SELECT externalid, COUNT(*) AS n FROM transaction WHERE recordtype = 'salesorder' "
            "AND externalid LIKE 'TTS-%' GROUP BY externalid")
        per_eid = {r["externalid"]: int(r["n"]) for r in rows}
        wanted = {f"TTS-{self.world.shop_id}-{i}" for i in ids}
        self.series["burst_completions"] = [t - t0 for t in finish]
        self.series["burst_latency_s"] = lat
        return Phase("burst", {
            "orders": len(ids), "placing_seconds": round(placing, 1), "synced": len(done),
            "sales_orders_per_s_sustained": round(sustained, 2) if sustained else None,
            "modelled_ceiling_per_s": round(ceiling, 2),
            "share_of_ceiling": round(sustained / ceiling, 3) if sustained and ceiling else None,
            "netsuite_calls": calls, "netsuite_calls_per_order": round(calls / max(len(done), 1), 3),
            "duplicate_sales_orders": sum(n - 1 for e, n in per_eid.items() if e in wanted and n > 1),
            "missing_sales_orders": len(wanted - set(per_eid)),
            "order_to_sales_order_s": summary(lat),
            "netsuite_slots": self.slot_breakdown(since, len(done)),
            # the share of the account's concurrency the bridge kept busy from the first order placed to the
            # last sales order: below 1, NetSuite waited for the bridge (its CPU, its database, its queue)
            "netsuite_slots_busy": self.slots_busy(since, (finish[-1] - t0) if finish else 0.0),
        })

    def slots_busy(self, since: datetime, seconds: float) -> float | None:
        if seconds <= 0:
            return None
        held = sum(int(r["ms"]) for r in self.container.store.calls.breakdown("netsuite", since)) / 1000
        return round(held / (seconds * self.o.netsuite_concurrency), 3)

    def slot_breakdown(self, since: datetime, orders: int) -> list[dict[str, Any]]:
        """Where the burst's NetSuite concurrency went: per operation and job kind, calls per order,
        mean duration (a call holds one slot for its duration) and share of all the slot time."""
        rows = self.container.store.calls.breakdown("netsuite", since)
        total = sum(r["ms"] for r in rows) or 1
        return [{"operation": r["operation"], "job": r["job"], "calls": r["calls"],
                 "per_order": round(r["calls"] / max(orders, 1), 3), "mean_ms": round(r["ms"] / r["calls"]),
                 "share_of_slot_time": round(r["ms"] / total, 3)} for r in rows]

    def _ceiling(self) -> float:
        """Sales orders per second the NetSuite model allows for the write path: concurrency ÷ mean
        per-call latency (times the batch size for the RESTlet)."""
        lat = self.world.netsuite_sb.config.latency
        if lat.scale <= 0:
            return float("inf")
        lines = 2.0  # product lines + a discount line on average in this scenario
        if self.o.write_path == "restlet":
            batch = 25
            per_call = (float(lat.base["restlet"]) + lat.per_line * lines * batch) * lat.scale
            return float(self.o.netsuite_concurrency / per_call * batch)
        per_call = (float(lat.base["upsert"]) + lat.per_line * lines) * lat.scale
        return float(self.o.netsuite_concurrency / per_call)

    def tiktok_quantity(self, sku: str) -> int:
        wh = self.world.seller_warehouse
        for row in self.world.tiktok_sb.inventory(shop_id=self.world.shop_id):
            if row["seller_sku"] == sku:
                return int(row["available"].get(wh, 0))
        return 0

    def tiktok_calls(self, fragment: str) -> int:
        from sqlalchemy import func, select

        from bridge.store.tables import api_calls

        with self.container.store.engine.connect() as c:
            return int(c.execute(select(func.count()).select_from(api_calls).where(
                api_calls.c.system == "tiktok", api_calls.c.operation.like(f"%{fragment}%"))).scalar_one())

    def stock_changes(self) -> Phase:
        """NetSuite receipts (the SuiteScript user event posts each) until TikTok shows the new number."""
        name = "stock change → TikTok"
        if not self.o.run_scripts:
            return Phase(name, skipped="needs the SuiteScript user events (run without --no-scripts)")
        world = self.world
        item, loc = world.netsuite_item_id(STOCK_SKU), world.netsuite_location("LOC-MAIN")
        calls_before = self.tiktok_calls("inventory.update")
        latencies: list[float] = []
        timeouts = 0
        for _ in range(self.o.stock_changes):
            before = self.tiktok_quantity(STOCK_SKU)
            t0 = time.time()
            world.netsuite_sb.receive_stock(str(item), loc, 5)
            deadline = t0 + 30
            while time.time() < deadline and self.tiktok_quantity(STOCK_SKU) == before:
                time.sleep(0.02)
            if self.tiktok_quantity(STOCK_SKU) == before:
                timeouts += 1
            else:
                latencies.append(time.time() - t0)
            time.sleep(0.3)
        calls = self.tiktok_calls("inventory.update") - calls_before
        self.series["stock_latency_s"] = latencies
        return Phase(name, {"stock_changes": self.o.stock_changes, "reached_tiktok": len(latencies),
                            "timeouts": timeouts, "latency_s": summary(latencies),
                            "tiktok_inventory_calls_per_change": round(calls / max(self.o.stock_changes, 1), 2)})

    def tiktok_price(self, sku: str) -> str:
        for p in self.world.tiktok_sb.products(self.world.shop_id):
            for k in p["skus"]:
                if k["seller_sku"] == sku:
                    return str(k["price"]["sale_price"])
        return ""

    def price_changes(self) -> Phase:
        """Price edits saved on the NetSuite item (the SuiteScript user event posts ``item.changed``)
        until TikTok shows the new price: the item event → coalesced ``prices.push`` path."""
        from bridge.sandbox.netsuite import ExecContext

        name = "price change → TikTok"
        if not self.o.run_scripts:
            return Phase(name, skipped="needs the SuiteScript user events (run without --no-scripts)")
        world = self.world
        item = str(world.netsuite_item_id(STOCK_SKU))
        calls_before = self.tiktok_calls("prices.update")
        latencies: list[float] = []
        timeouts = 0
        base = Decimal("9.99")
        for i in range(self.o.price_changes):
            price = base + Decimal(i + 1) / 100
            t0 = time.time()
            world.netsuite_sb.update("inventoryItem", item, {"price": {"items": [
                {"priceLevel": {"id": "1"}, "price": format(price, "f")}]}},
                ExecContext(context_type="USERINTERFACE"), {"price"})
            deadline = t0 + 30
            while time.time() < deadline and self.tiktok_price(STOCK_SKU) != format(price, "f"):
                time.sleep(0.02)
            if self.tiktok_price(STOCK_SKU) == format(price, "f"):
                latencies.append(time.time() - t0)
            else:
                timeouts += 1
            time.sleep(0.3)
        calls = self.tiktok_calls("prices.update") - calls_before
        self.series["price_latency_s"] = latencies
        return Phase(name, {"price_changes": self.o.price_changes, "reached_tiktok": len(latencies),
                            "timeouts": timeouts, "latency_s": summary(latencies),
                            "tiktok_price_calls_per_change": round(calls / max(self.o.price_changes, 1), 2)})

    def fulfillments(self) -> Phase:
        """NetSuite fulfillments with tracking (the user event posts them) until TikTok shows the package
        shipped."""
        name = "fulfillment → TikTok"
        if not self.o.run_scripts:
            return Phase(name, skipped="needs the SuiteScript user events (run without --no-scripts)")
        store, shop = self.container.store, self.world.shop_id
        links = [ln for ln in store.links.list("order", shop, limit=100_000)
                 if ln.status == "synced" and ln.netsuite_id
                 and not OrderMemory.parse(ln.data).fulfilled][:self.o.fulfillments]
        latencies: list[float] = []
        timeouts = 0
        for n, ln in enumerate(links):
            tracking = f"94001112025559{n:08d}"
            t0 = time.time()
            r = requests.post(f"{self.world.netsuite_url}/_sandbox/fulfillments", timeout=30, json={
                "salesOrder": ln.netsuite_id, "packages": [{"trackingNumber": tracking, "weight": "1.0"}]})
            if r.status_code != 200:
                timeouts += 1
                continue
            deadline = t0 + 30
            shipped = False
            while time.time() < deadline and not shipped:
                shipped = any(p.get("tracking_number") == tracking
                              for p in self.world.tiktok_sb.packages(order_id=ln.tiktok_id))
                if not shipped:
                    time.sleep(0.02)
            if shipped:
                latencies.append(time.time() - t0)
            else:
                timeouts += 1
        self.series["fulfillment_latency_s"] = latencies
        return Phase(name, {"fulfillments": len(links), "on_tiktok": len(latencies), "timeouts": timeouts,
                            "latency_s": summary(latencies)})

    def oversell(self) -> Phase:
        """TikTok buyers and the web store sell one scarce SKU at the same time; afterwards, units
        NetSuite cannot supply are oversold. Once with the default buffer, once with the hot-SKU buffer."""
        name = "oversell"
        if not self.o.run_scripts:
            return Phase(name, skipped="needs the SuiteScript user events (run without --no-scripts)")
        import yaml

        spec = yaml.safe_load((Path(self.container.settings.specs_dir) / "inventory.yaml").read_text())
        defaults = spec.get("defaults", {})
        label = (f"dynamic [{defaults.get('buffer')}, {defaults.get('buffer_max')}]"
                 if defaults.get("dynamic_buffer") else defaults.get("buffer"))
        shipped = {"buffer": label, **self._sell_out(SCARCE_SKU)}
        fixed = {"buffer": 1, **self._sell_out(FIXED_SKU, fixed=1)}
        hot = {"buffer": self.o.hot_buffer, **self._sell_out(HOT_SKU, fixed=self.o.hot_buffer)}
        return Phase(name, {"shipped_spec": shipped, "fixed_buffer_1": fixed, "hot_sku_buffer": hot})

    def buffers_applied(self, sku: str, since: datetime) -> list[int]:
        """The buffers the inventory flow applied to ``sku`` since ``since``, in order: at each push (its
        observations of the free stock record them) and at each raise a TikTok sale caused."""
        from sqlalchemy import select

        from bridge.store.tables_inventory import inventory_observations as o
        from bridge.store.tables_inventory import inventory_skus

        with self.container.store.engine.connect() as c:
            sku_ids = [r[0] for r in c.execute(select(inventory_skus.c.sku_id).where(
                inventory_skus.c.shop_id == self.world.shop_id, inventory_skus.c.seller_sku == sku))]
            rows = c.execute(select(o.c.kind, o.c.value, o.c.buffer).where(
                o.c.shop_id == self.world.shop_id, o.c.kind.in_(("free", "raise")), o.c.sku_id.in_(sku_ids),
                o.c.at >= since).order_by(o.c.at))
            return [int(b if kind == "free" else v) for kind, v, b in rows if kind == "raise" or b is not None]

    def _sell_out(self, sku: str, fixed: int | None = None) -> dict[str, Any]:
        world = self.world
        item, loc = str(world.netsuite_item_id(sku)), world.netsuite_location("LOC-MAIN")
        on_hand = int(Decimal(str(world.netsuite_sb.stock_levels(item=item, location=loc)[0]["onHand"])))
        tiktok_units = web_units = refused = 0
        stop = threading.Event()

        def buyers() -> None:
            nonlocal tiktok_units, refused
            while not stop.is_set():
                r = world.tiktok_sb.place_orders([{"shop_id": world.shop_id, "hold": False,
                                                   "items": [{"seller_sku": sku, "quantity": 1}]}])
                tiktok_units += r["placed_count"]
                refused += r["refused_count"]
                time.sleep(0.05)

        t = threading.Thread(target=buyers)
        started = datetime.now(UTC)
        t0 = time.time()
        t.start()
        try:
            for _ in range(40):
                level = world.netsuite_sb.stock_levels(item=item, location=loc)[0]
                if int(Decimal(str(level["available"]))) < 2:
                    break
                try:
                    world.netsuite_sb.other_channel_sale([{"item": item, "quantity": 2}], location=loc)
                    web_units += 2
                except Exception:  # noqa: S112 - the web store could not take it: not sold
                    continue
                time.sleep(0.3)
        finally:
            stop.set()
            t.join()
        seconds = time.time() - t0
        time.sleep(3)
        level = world.netsuite_sb.stock_levels(item=item, location=loc)[0]
        backordered = int(Decimal(str(level.get("backOrdered") or 0)))
        sold = tiktok_units + web_units
        applied = self.buffers_applied(sku, started)
        return {"buffer_peak": max(applied, default=fixed), "buffers_applied": applied,
                "units_held_back_at_peak": fixed if fixed is not None else max(applied, default=0),
                "unsold_units": max(0, on_hand - sold),
                "sku": sku, "netsuite_on_hand_at_start": on_hand, "seconds": round(seconds, 1),
                "tiktok_units_accepted": tiktok_units, "web_store_units": web_units,
                "web_store_units_per_s": round(web_units / max(seconds, 1e-9), 1),
                "tiktok_orders_refused": refused, "oversold_units": max(0, sold - on_hand),
                "netsuite_backordered": backordered}

    # -- run ---------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        started = datetime.now(UTC)
        with self.running():
            for step in (self.warm_up, self.webhook_ack, self.steady, self.burst, self.stock_changes,
                         self.price_changes, self.fulfillments, self.oversell):
                if self.o.phases and step.__name__ != "warm_up" and step.__name__ not in self.o.phases:
                    continue
                self.log(f"phase: {step.__name__}")
                phase = step()
                self.phases.append(phase)
                self.log(f"  {json.dumps(phase.figures or phase.skipped, default=str)[:400]}")
        result = {
            "started_at": started.isoformat(),
            "finished_at": datetime.now(UTC).isoformat(),
            "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self.o).items()},
            "command": " ".join(["scripts/bench", *sys.argv[3:]]) if sys.argv[1:3] == ["bench", "flash-sale"] else None,
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
            "phases": {p.name: (p.figures if not p.skipped else {"skipped": p.skipped}) for p in self.phases},
        }
        (self.out / "bench.json").write_text(json.dumps(result, indent=2, default=str))
        (self.out / "series.json").write_text(json.dumps(self.series))
        self.charts()
        return result

    def charts(self) -> None:
        write_charts(self.out, self.log)


def run_bench(options: BenchOptions, log: Callable[[str], None] = print) -> dict[str, Any]:
    return Bench(options, log).run()


def _get(d: dict[str, Any], *path: str) -> Any:
    for k in path:
        if not isinstance(d, dict):
            return None
        d = d.get(k)  # type: ignore[assignment]
    return d


def write_charts(out: Path, log: Callable[[str], None] = print) -> list[Path]:
    """PNG charts from ``OUT/bench.json`` (and ``OUT/series.json`` when the run saved it). Needs matplotlib
    (the ``dev`` extra); without it this raises with that fix rather than leave the charts out."""
    if importlib.util.find_spec("matplotlib") is None:
        raise RuntimeError("the benchmark charts need matplotlib: install the dev extra (pip install -e '.[dev]')")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    result = json.loads((out / "bench.json").read_text())
    phases: dict[str, Any] = result["phases"]
    opts: dict[str, Any] = result.get("options", {})
    series: dict[str, Any] = json.loads((out / "series.json").read_text()) if (out / "series.json").exists() else {}
    written: list[Path] = []

    def save(fig: Any, name: str) -> None:
        fig.tight_layout()
        fig.savefig(out / name)
        plt.close(fig)
        written.append(out / name)

    if series.get("webhook_ack_ms"):
        fig, ax = plt.subplots(figsize=(7, 4))
        ax.hist(series["webhook_ack_ms"], bins=60)
        ax.set_xlabel("webhook acknowledgement (ms)")
        ax.set_ylabel("webhooks")
        ax.set_title(f"webhook acknowledgement at {float(opts.get('webhook_rate', 0)):.0f}/s")
        save(fig, "webhook_ack.png")
    if series.get("burst_completions"):
        fig, ax = plt.subplots(figsize=(7, 4))
        done = series["burst_completions"]
        ax.plot(done, range(1, len(done) + 1), label="sales orders written")
        ceiling = _get(phases, "burst", "modelled_ceiling_per_s")
        if ceiling:
            ax.plot([0, len(done) / ceiling], [0, len(done)], "--", label=f"model ceiling {ceiling:.1f}/s")
        ax.set_xlabel("seconds since the burst started")
        ax.set_ylabel("sales orders")
        ax.legend()
        ax.set_title(f"{len(done)}-order burst, NetSuite concurrency {opts.get('netsuite_concurrency')}, "
                     f"{opts.get('write_path')} path")
        save(fig, "burst_throughput.png")
    cdfs = [(k, series.get(k)) for k in ("steady_latency_s", "burst_latency_s", "stock_latency_s",
                                          "fulfillment_latency_s")]
    if any(v for _k, v in cdfs):
        fig, ax = plt.subplots(figsize=(7, 4))
        for k, v in cdfs:
            if v:
                ordered = sorted(v)
                ax.plot(ordered, [i / len(ordered) for i in range(1, len(ordered) + 1)],
                        label=k.removesuffix("_s").replace("_", " "))
        ax.set_xscale("log")
        ax.set_xlabel("seconds (order → sales order, NetSuite → TikTok)")
        ax.set_ylabel("share")
        ax.legend()
        save(fig, "latency_cdf.png")

    # One page with every headline figure, from bench.json alone.
    fig, axes = plt.subplots(2, 2, figsize=(11, 7))
    lat_rows = [("webhook ack (ms)", _get(phases, "webhook acknowledgement", "latency_ms"), 50.0),
                ("order → SO steady (s)", _get(phases, "steady state", "order_to_sales_order_s"), 5.0),
                ("stock → TikTok (s)", _get(phases, "stock change → TikTok", "latency_s"), 1.0),
                ("fulfillment → TikTok (s)", _get(phases, "fulfillment → TikTok", "latency_s"), 5.0)]
    ax = axes[0][0]
    names, p50s, p9xs, targets = [], [], [], []
    for label, stats, target in lat_rows:
        if stats and stats.get("p50") is not None:
            names.append(label)
            p50s.append(stats["p50"])
            p9xs.append(stats.get("p99") if "ms" in label else stats.get("p95"))
            targets.append(target)
    if names:
        xs = range(len(names))
        ax.bar([x - 0.2 for x in xs], p50s, 0.4, label="p50")
        ax.bar([x + 0.2 for x in xs], p9xs, 0.4, label="p99 (ack) / p95")
        ax.scatter(list(xs), targets, marker="_", s=600, color="red", label="target", zorder=3)
        ax.set_xticks(list(xs), names, rotation=15, fontsize=8)
        if min(p50s + p9xs) > 0:
            ax.set_yscale("log")
        ax.set_title("latencies against the targets")
        ax.legend(fontsize=8)
    else:
        ax.set_axis_off()
    ax = axes[0][1]
    burst = phases.get("burst") or {}
    ax.bar(["sustained", "modelled ceiling"], [burst.get("sales_orders_per_s_sustained") or 0,
                                               burst.get("modelled_ceiling_per_s") or 0], color=["C0", "C7"])
    share = burst.get("share_of_ceiling")
    ax.set_title(f"burst of {burst.get('orders')}: SO/s, {share:.1%} of ceiling" if share else "burst: SO/s",
                 fontsize=10)
    ax = axes[1][0]
    per = {"NetSuite calls / order": burst.get("netsuite_calls_per_order"),
           "TikTok inventory calls / stock change": _get(phases, "stock change → TikTok",
                                                          "tiktok_inventory_calls_per_change"),
           "duplicate SOs": burst.get("duplicate_sales_orders"), "missing SOs": burst.get("missing_sales_orders")}
    per = {k: v for k, v in per.items() if v is not None}
    ax.barh(list(per), list(per.values()))
    for i, v in enumerate(per.values()):
        ax.text(v, i, f" {v}", va="center", fontsize=8)
    ax.set_title("calls and correctness")
    ax = axes[1][1]
    over = phases.get("oversell") or {}
    rows = [(f"buffer {v.get('buffer')}" + (f"\npeak {v['buffer_peak']}" if "dynamic" in str(v.get("buffer"))
                                             and v.get("buffer_peak") is not None else ""), v)
            for v in over.values() if isinstance(v, dict)]
    if rows:
        ax.bar([r[0] for r in rows], [r[1].get("oversold_units", 0) for r in rows], color="C3")
        ax.set_ylabel("units oversold")
        ax.set_title(f"oversold units (web store {rows[0][1].get('web_store_units_per_s')} units/s)", fontsize=10)
    else:
        ax.set_axis_off()
    fig.suptitle(f"flash sale on {result.get('machine', {}).get('cpus')} CPUs, {opts.get('database')}, "
                 f"{opts.get('worker_processes')} worker process(es), {opts.get('write_path')} path")
    save(fig, "summary.png")
    return written


__all__ = ["BenchOptions", "run_bench", "write_charts"]

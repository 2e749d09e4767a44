"""The chaos run (``scripts/chaos`` → ``ttns chaos``): the scenario with faults everywhere, then an
audit of both sandboxes against what must be true.

Faults: NetSuite 429/5xx bursts and timeouts after commit; TikTok 429s; dropped, duplicated and
reordered webhooks; worker processes killed with SIGKILL several times; on PostgreSQL, the
bridge's database connections terminated mid-run. Healing comes from the product itself: retries
with backoff, lookups after lost writes, leases, the polling backstop. The audit then requires:
every paid TikTok order has exactly one NetSuite sales order with the right total and lines, every
cancellation before the sales order left none open, every shipment made in NetSuite carries its
tracking on TikTok (with ``--scripts``: the SuiteScript user events report them), TikTok's stock
equals what the bridge computes from NetSuite for every SKU and warehouse, the day's statement is posted
and the ledger audit finds NetSuite's GL equal to TikTok's figures to the cent (``ttns ledger audit``),
and every injected failure either healed or is an open exception. Any difference
makes the run fail.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bridge.benchmarks.harness import REPO, database, free_port, spawn, wait_http
from bridge.domain.keys import parse_order_key
from bridge.sandbox.netsuite import NetSuiteSandboxConfig
from bridge.sandbox.netsuite.config import Faults, LatencyModel
from bridge.sandbox.tiktok.config import FaultConfig, TikTokSandboxConfig
from bridge.sandbox.world import SandboxWorld

SKUS = ("TSHIRT-RED-M", "TSHIRT-BLUE-L", "MUG-001", "CAP-001")


@dataclass
class ChaosOptions:
    orders: int = 1000
    waves: int = 10
    kills: int = 4
    cancellations: int = 20
    holds: float = 0.15
    database: str = "sqlite"
    pg_admin_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    drop_db_connections: int = 2  # PostgreSQL only
    worker_threads: int = 8
    netsuite_429: float = 0.05
    netsuite_5xx: float = 0.03
    netsuite_timeout_after_commit: float = 0.03
    tiktok_429: float = 0.03
    webhook_drop: float = 0.10
    webhook_duplicate: float = 0.10
    webhook_reorder: float = 0.10
    run_scripts: bool = False
    shipments: int = 20  # with run_scripts: orders fulfilled in NetSuite while faults are on
    statement: bool = True
    deadline_seconds: float = 600.0
    out: Path = Path("chaos-out")
    seed: int = 99


@dataclass
class Audit:
    ok: bool
    checks: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


class Chaos:
    def __init__(self, options: ChaosOptions, log: Callable[[str], None] = print) -> None:
        self.o = options
        self.log = log
        self.rng = random.Random(options.seed)
        self.out = options.out
        self.out.mkdir(parents=True, exist_ok=True)
        self.workers: list[subprocess.Popen[bytes]] = []
        self.others: list[subprocess.Popen[bytes]] = []
        self.injected: Counter[str] = Counter()
        self.shipped: dict[str, str] = {}  # TikTok order id -> tracking number shipped in NetSuite
        self.statements: list[Any] = []
        self.window: tuple[datetime, datetime] = (datetime.now(UTC), datetime.now(UTC))
        self.placed: list[str] = []
        self.cancelled: list[str] = []

    def run(self) -> Audit:
        from bridge.bootstrap import build
        from bridge.store.db import upgrade

        port = free_port()
        work = self.out / "work"
        ns = NetSuiteSandboxConfig(latency=LatencyModel(scale=0.05), https_allow_http=True, faults=Faults(
            rate_429=self.o.netsuite_429, rate_5xx=self.o.netsuite_5xx,
            rate_timeout_after_commit=self.o.netsuite_timeout_after_commit, timeout_mode="hang", hang_seconds=4.0))
        tk = TikTokSandboxConfig(webhook_time_scale=0.005, webhook_workers=8, inventory_zero_quantity=True,
                                 webhook_loopback_http=True, faults=FaultConfig(
            rate_429=self.o.tiktok_429, webhook_drop=self.o.webhook_drop,
            webhook_duplicate=self.o.webhook_duplicate, webhook_reorder=self.o.webhook_reorder))
        world = SandboxWorld(work, tiktok=tk, netsuite=ns, run_scripts=self.o.run_scripts,
                             bridge_url=f"http://127.0.0.1:{port}")
        with database(self.o.database, work, "chaos", self.o.pg_admin_url) as url:
            world.start()
            self.world = world
            upgrade(url)
            overrides = {"web_bind": f"127.0.0.1:{port}", "web_workers": 2, "log_level": "WARNING",
                         "netsuite_timeout_seconds": 2.0, "lease_seconds": 5.0, "retry_base_seconds": 0.5,
                         "retry_cap_seconds": 5.0, "max_attempts": 12, "order_poll_seconds": 5,
                         "order_poll_overlap_seconds": 600}
            self.url = url
            self.env = {**os.environ, **world.env(url, **overrides), "PYTHONPATH": str(REPO)}
            self.container = build(world.settings(url, **overrides))
            try:
                self.others.append(self._spawn(["web"], "web"))
                wait_http(f"http://127.0.0.1:{port}/healthz")
                self.others.append(self._spawn(["scheduler"], "scheduler"))
                self.workers.append(self._spawn(["worker", "--threads", str(self.o.worker_threads)], "worker-0"))
                world.connect_shop(self.container)
                for sku in SKUS:
                    world.tiktok_sb.set_stock(seller_sku=sku, shop_id=world.shop_id, quantity=100_000,
                                              warehouse_id=world.seller_warehouse)
                    world.netsuite_sb.receive_stock(world.netsuite_item_id(sku), world.netsuite_location("LOC-MAIN"),
                                                    100_000)
                self._link_catalog()
                self.scenario()
                self.ship()
                self.stop_faults()
                healed = self.settle()
                self.settle_statement()
                healed = self.settle() and healed
                return self.audit(healed)
            finally:
                for p in self.workers + self.others:
                    if p.poll() is None:
                        p.send_signal(signal.SIGTERM)
                for p in self.workers + self.others:
                    try:
                        p.wait(20)
                    except subprocess.TimeoutExpired:
                        p.kill()
                self.container.close()
                world.close()

    # -- processes ---------------------------------------------------------------------------
    def _spawn(self, args: list[str], name: str) -> subprocess.Popen[bytes]:
        return spawn(args, self.out / f"{name}.log", self.env)

    def kill_a_worker(self) -> None:
        victim = self.workers[-1]
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        self.injected["worker_sigkill"] += 1
        self.workers.append(self._spawn(["worker", "--threads", str(self.o.worker_threads)],
                                        f"worker-{len(self.workers)}"))

    def drop_db_connections(self) -> None:
        if self.o.database != "postgresql":
            return
        from sqlalchemy.engine import make_url

        from bridge.store.db import make_engine

        name = make_url(self.url).database
        admin = make_engine(self.o.pg_admin_url, pool_size=1).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            n = c.execute(text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                               "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": name}).scalar()
        admin.dispose()
        self.injected["db_connections_dropped"] += int(n or 0)

    # -- the scenario ------------------------------------------------------------------------
    def _link_catalog(self) -> None:
        """Locations, SKU matching and a first stock push, as a merchant sets up (so stock is audited)."""

        tiktok = self.world.tiktok_sb
        tiktok.set_faults(rate_429=0.0)  # set-up runs in this process, without the workers' retries
        try:
            self.container.flows.inventory.first_sync("chaos set-up")
        finally:
            tiktok.set_faults(rate_429=self.o.tiktok_429)

    def ship(self) -> None:
        """The warehouse ships some synced orders in NetSuite while the faults are still on."""
        if not (self.o.run_scripts and self.o.shipments):
            return
        import requests

        store, shop = self.container.store, self.world.shop_id
        cancelled = set(self.cancelled)
        deadline = time.monotonic() + 120
        links: list[Any] = []
        while time.monotonic() < deadline:
            links = [ln for ln in store.links.list("order", shop, limit=100_000)
                     if ln.status == "synced" and ln.netsuite_id and ln.tiktok_id not in cancelled]
            if len(links) >= self.o.shipments:
                break
            time.sleep(1)
        for n, ln in enumerate(self.rng.sample(links, min(self.o.shipments, len(links)))):
            tracking = f"94001112025557{n:08d}"
            r = requests.post(f"{self.world.netsuite_url}/_sandbox/fulfillments", timeout=30, json={
                "salesOrder": ln.netsuite_id, "packages": [{"trackingNumber": tracking, "weight": "1.0"}]})
            if r.status_code == 200:
                self.shipped[ln.tiktok_id] = tracking
            else:
                self.log(f"the NetSuite sandbox refused fulfilling {ln.netsuite_id}: {r.text[:160]}")
        self.log(f"{len(self.shipped)} orders shipped in NetSuite")

    def settle_statement(self) -> None:
        """Shipped orders complete; TikTok issues the day's statement; the bridge imports and posts it."""
        if not (self.o.statement and self.shipped):
            return
        from datetime import UTC, datetime, timedelta

        from bridge.flows import settlement

        world = self.world
        for oid in self.shipped:
            try:
                world.tiktok_sb.advance_order(oid, to="COMPLETED")
            except Exception as exc:  # reported; the audit then finds the order unmatched
                self.log(f"order {oid} did not complete: {exc}")
        now = datetime.fromtimestamp(int(world.tiktok_sb.describe()["clock"]), UTC)
        next_day = (now + timedelta(days=1)).date()
        midnight = datetime(next_day.year, next_day.month, next_day.day, tzinfo=UTC)
        world.tiktok_sb.advance_clock((midnight - now).total_seconds() + 1800)
        self.statements = world.tiktok_sb.generate_statements(next_day.isoformat(), shop_id=world.shop_id)
        c = self.container
        wall = c.clock.now()
        self.window = (wall - timedelta(days=3), wall + timedelta(days=1))
        imported = c.flows.settlement.import_window(world.shop_id, *self.window)
        # the workers post each journal (then the payout's deposit), as the daily import's jobs would
        c.store.queue.enqueue_many([settlement.post_job(world.shop_id, r["statement_id"], f"{r['content_hash']}:chaos")
                                    for r in imported["results"]])

    def scenario(self) -> None:
        world, rng = self.world, self.rng
        per_wave = max(1, self.o.orders // self.o.waves)
        kill_at = set(rng.sample(range(self.o.waves), min(self.o.kills, self.o.waves)))
        drop_at = set(rng.sample(range(self.o.waves), min(self.o.drop_db_connections, self.o.waves)))
        for wave in range(self.o.waves):
            specs = []
            for _ in range(per_wave):
                items = [{"seller_sku": s, "quantity": rng.randint(1, 2)} for s in rng.sample(SKUS, rng.randint(1, 3))]
                specs.append({"shop_id": world.shop_id, "items": items, "hold": rng.random() < self.o.holds,
                              "shipping_fee": rng.choice(["0", "5.99"]),
                              "seller_discount": rng.choice(["0", "1.00"]), "tax_rate": rng.choice(["0", "0.08"])})
            placed = world.tiktok_sb.place_orders(specs)
            self.placed += [str(i) for i in placed["orders"]]
            time.sleep(1.0)
            if wave in kill_at:
                self.kill_a_worker()
            if wave in drop_at:
                self.drop_db_connections()
            self.log(f"wave {wave + 1}/{self.o.waves}: {len(self.placed)} orders placed")
        # buyers cancel some orders (some before, some after their sales order exists)
        for oid in rng.sample(self.placed, min(self.o.cancellations, len(self.placed))):
            try:
                world.tiktok_sb.cancel_order(oid, role="SYSTEM")
                self.cancelled.append(oid)
            except Exception as exc:  # an order TikTok will not cancel (e.g. already shipped)
                self.log(f"cancel {oid} refused: {exc}")
        for o in world.tiktok_sb.list_orders(shop_id=world.shop_id, status="ON_HOLD", limit=100_000)["orders"]:
            world.tiktok_sb.release_hold(o["id"])

    def stop_faults(self) -> None:
        """Stop injecting faults and count what was injected."""
        world = self.world
        world.tiktok_sb.set_faults(rate_429=0.0, webhook_drop=0.0, webhook_duplicate=0.0, webhook_reorder=0.0)
        for k in ("rate_429", "rate_5xx", "rate_timeout_after_commit"):
            setattr(world.netsuite_sb.config.faults, k, 0.0)
        counts = world.netsuite_sb.counters.snapshot().get("counts", {})
        self.injected.update({f"netsuite_{k}": int(v) for k, v in counts.items() if k.startswith("faults.")})
        webhooks = world.tiktok_sb.counters_snapshot().get("webhooks", {})
        self.injected.update({f"tiktok_webhooks_{k}": int(v) for k, v in webhooks.items()
                              if k in ("dropped", "delivered", "failed", "rejected")})
        deliveries = world.tiktok_sb.webhook_deliveries(shop_id=world.shop_id)
        self.injected["tiktok_webhooks_duplicated"] = sum(1 for d in deliveries if d.get("duplicate"))
        self.injected["tiktok_webhooks_reordered"] = sum(1 for d in deliveries if d.get("reordered"))

    def settle(self) -> bool:
        """Let the bridge heal (retries, backstop); True if it went quiet with every sales order there."""
        deadline = time.monotonic() + self.o.deadline_seconds
        quiet_since = None
        while time.monotonic() < deadline:
            counts = self.container.store.queue.counts()
            busy = counts.get("queued", 0) + counts.get("running", 0)
            expected = self._expected_with_so()
            have = self._have_so(expected)
            if busy == 0 and have >= len(expected):
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since > 8:  # a poll tick or two with nothing new
                    return True
            else:
                quiet_since = None
            time.sleep(1)
        return False

    def _expected_with_so(self) -> list[str]:
        return [o["id"] for o in self._tiktok_orders() if o["status"] not in ("UNPAID", "CANCELLED")]

    def _tiktok_orders(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.world.tiktok_sb.list_orders(shop_id=self.world.shop_id,
                                                                     limit=100_000)["orders"]
        return rows

    def _have_so(self, ids: list[str]) -> int:
        links = self.container.store.links.get_many("order", self.world.shop_id, ids)
        return sum(1 for ln in links.values() if ln.netsuite_id and ln.status in ("synced", "staged"))

    # -- the audit ---------------------------------------------------------------------------
    def _audit_shipments(self, explained: set[str]) -> dict[str, Any]:
        """Every package shipped in NetSuite is on TikTok with its tracking number (or explained)."""
        if not self.shipped:
            return {"checked": False, "why": "no shipment made (run with --scripts)" if not self.o.run_scripts else
                    "no order shipped"}
        missing = []
        for oid, tracking in self.shipped.items():
            if not any(p.get("tracking_number") == tracking for p in self.world.tiktok_sb.packages(order_id=oid)):
                missing.append(oid)
        unexplained = [m for m in missing if m not in explained]
        out: dict[str, Any] = {"checked": True, "shipped_in_netsuite": len(self.shipped),
                               "on_tiktok": len(self.shipped) - len(missing), "missing_explained": len(missing) - len(
                                   unexplained)}
        if unexplained:
            out["problems"] = [f"{len(unexplained)} shipments are not on TikTok and have no exception, e.g. "
                               f"{unexplained[:3]}"]
        return out

    def _audit_stock(self) -> dict[str, Any]:
        """TikTok's number for every SKU and warehouse equals what the bridge computes from NetSuite now."""

        rows = self.container.flows.inventory.drift(limit=100_000, only_drift=False)
        off = [r for r in rows if r["diff"] != 0]
        out: dict[str, Any] = {"checked": True, "sku_warehouses": len(rows), "differing": len(off)}
        if not rows:
            out["problems"] = ["no TikTok SKU is linked: stock could not be audited"]
        elif off:
            out["problems"] = [f"{len(off)} SKU/warehouse stock numbers differ on TikTok, e.g. "
                               + "; ".join(f"{r['sku']}@{r['warehouse_id']}: TikTok {r['tiktok']} != {r['sellable']}"
                                           for r in off[:3])]
        return out

    def _audit_statement(self) -> dict[str, Any]:
        """The ledger audit: TikTok's statements and payouts beside NetSuite's GL read through SuiteQL
        (not the bridge's own figures)."""
        if not self.statements:
            return {"checked": False, "why": "no statement issued (nothing shipped and completed)"}

        [rep] = self.container.flows.ledger_audit.audit_shops(*self.window, [self.world.shop_id])
        summary = rep.summary()
        out: dict[str, Any] = {"checked": True, "statements_issued": len(self.statements),
                               "statements_audited": len(rep.statements), "payouts_audited": len(rep.payouts),
                               "difference": summary["difference"], "totals": summary["totals"],
                               "account_groups": summary["account_groups"], "findings": summary["findings"]}
        problems = []
        if len(rep.statements) < len(self.statements):
            problems.append(f"{len(self.statements)} statements issued, {len(rep.statements)} audited")
        if not rep.ok:
            problems.append(f"the ledger audit finds a difference of {summary['difference']}: "
                            + "; ".join(f.message for f in rep.findings[:3]))
        if problems:
            out["problems"] = problems
        return out

    def audit(self, healed: bool) -> Audit:
        world = self.world
        problems: list[str] = []
        rows, _ = world.netsuite_sb.suiteql(
            "SELECT id, externalid, foreigntotal FROM transaction WHERE recordtype = 'salesorder' "
            "AND externalid LIKE 'TTS-%'")
        per_eid = Counter(r["externalid"] for r in rows)
        totals = {r["externalid"]: Decimal(str(r["foreigntotal"])) for r in rows}
        closed_rows, _ = world.netsuite_sb.suiteql(
            "SELECT t.externalid AS eid, MIN(tl.isclosed) AS allclosed FROM transaction t JOIN transactionline tl "
            "ON tl.transaction = t.id WHERE t.recordtype = 'salesorder' AND tl.mainline = 'F' GROUP BY t.externalid")
        all_closed = {r["eid"]: r["allclosed"] == "T" for r in closed_rows}
        dupes = [e for e, n in per_eid.items() if n > 1]
        if dupes:
            problems.append(f"{len(dupes)} duplicate sales orders, e.g. {dupes[:3]}")
        orders = {o["id"]: o for o in self._tiktok_orders()}
        missing, wrong, open_cancelled = [], [], []
        for oid, o in orders.items():
            eid = f"TTS-{world.shop_id}-{oid}"
            if o["status"] == "CANCELLED":
                if eid in per_eid and not all_closed.get(eid, False):
                    open_cancelled.append(oid)
                continue
            if o["status"] == "UNPAID":
                continue
            if eid not in per_eid:
                missing.append(oid)
                continue
            want = Decimal(o["payment"]["total_amount"]) - Decimal(o["payment"]["tax"])
            if totals[eid] != want:
                wrong.append(f"{oid}: {totals[eid]} != {want}")
        exceptions = self.container.store.exceptions.list(status="open", limit=100_000)
        explained = {ids[1] for e in exceptions if (ids := parse_order_key(e.entity)) is not None}
        missing_unexplained = [m for m in missing if m not in explained]
        cancelled_unexplained = [m for m in open_cancelled if m not in explained]
        if missing_unexplained:
            problems.append(f"{len(missing_unexplained)} paid orders have no sales order and no exception, e.g. "
                            f"{missing_unexplained[:3]}")
        if wrong:
            problems.append(f"{len(wrong)} sales orders with a wrong total, e.g. {wrong[:3]}")
        if cancelled_unexplained:
            problems.append(f"{len(cancelled_unexplained)} cancelled orders still open in NetSuite, e.g. "
                            f"{cancelled_unexplained[:3]}")
        if not healed:
            problems.append("the bridge did not settle before the deadline")
        shipments = self._audit_shipments(explained)
        stock = self._audit_stock()
        statement = self._audit_statement()
        for part in (shipments, stock, statement):
            problems += part.pop("problems", [])
        checks = {
            "tiktok_orders": len(orders),
            "paid_orders": sum(1 for o in orders.values() if o["status"] not in ("UNPAID", "CANCELLED")),
            "cancelled_orders": sum(1 for o in orders.values() if o["status"] == "CANCELLED"),
            "sales_orders": len(per_eid),
            "duplicates": len(dupes),
            "missing": len(missing),
            "missing_explained_by_exceptions": len(missing) - len(missing_unexplained),
            "wrong_totals": len(wrong),
            "cancelled_left_open": len(open_cancelled),
            "shipments": shipments,
            "stock": stock,
            "statement": statement,
            "open_exceptions": [{"code": e.code, "entity": e.entity, "title": e.title[:120]} for e in exceptions],
            "injected": dict(self.injected),
            "jobs": self.container.store.queue.counts(),
        }
        audit = Audit(ok=not problems, checks=checks, problems=problems)
        (self.out / "chaos.json").write_text(json.dumps({"options": {k: str(v) for k, v in asdict(self.o).items()},
                                                         "ok": audit.ok, "problems": problems, "checks": checks},
                                                        indent=2, default=str))
        return audit


def run_chaos(options: ChaosOptions, log: Callable[[str], None] = print) -> Audit:
    return Chaos(options, log).run()


__all__ = ["Audit", "ChaosOptions", "run_chaos"]

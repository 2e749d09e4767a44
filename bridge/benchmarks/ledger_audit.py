"""Benchmark: `ttns ledger audit` over N settlement transactions (default 100,000).

Setup (not timed): both sandboxes run in this process; the settlement flow imports the generated
statements (``bridge.benchmarks.settlement_data``) and posts every journal and deposit to the
NetSuite sandbox over HTTP. The timed run is a fresh process (so its peak memory is its own): the
ledger audit reads the same statements through the TikTok finance port and NetSuite's GL through
SuiteQL over HTTP, and compares them. Reports wall time, peak RSS and the audit's verdict.
"""

from __future__ import annotations

import multiprocessing
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bridge.benchmarks.settlement_data import START, GeneratedTikTok, GeneratedTikTokOrders


def _ports(statements: int, per: int, region: str, payable: dict[str, Decimal] | None = None
           ) -> tuple[GeneratedTikTok, GeneratedTikTokOrders | None]:
    """TikTok's finance API (and, for a VAT-inclusive GB shop, its orders API: each order's VAT, read per
    order) over the generated statements."""
    finance = GeneratedTikTok(statements, per, payable=payable, currency="GBP" if region == "GB" else "USD")
    return finance, GeneratedTikTokOrders(finance) if region == "GB" else None


def _orders_port(orders: GeneratedTikTokOrders | None) -> dict[str, Any]:
    return {"tiktok_orders": orders} if orders is not None else {}


def _timed_audit(values: dict[str, Any], shop_id: str, statements: int, per: int, payable: dict[str, Decimal],
                 queue: Any, region: str = "US") -> None:
    """The timed part, in its own process: wire a bridge, audit, report figures. TikTok's statement list
    is served with the payables the setup generated (as TikTok's API lists statements without their
    lines); each statement's lines are generated when the audit reads it (``generate_seconds``)."""
    from bridge.bootstrap import build
    from bridge.clock import ManualClock
    from bridge.settings import Settings

    clock = ManualClock(START + timedelta(days=statements + 2))
    tiktok, orders = _ports(statements, per, region, payable)
    c = build(Settings(**values), clock=clock, areas=("system", "settlement", "ledger_audit"), tiktok_finance=tiktok,
              **_orders_port(orders))
    t0 = time.perf_counter()
    rep = c.flows.ledger_audit.run(shop_id, START, clock.now())
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    rss = usage.ru_maxrss / 1024
    # CPU seconds of the whole child (imports and wiring included): the figure a busy machine does not inflate
    queue.put({"seconds": seconds, "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1), "peak_rss_mib": rss,
               "ok": rep.ok, "difference": str(rep.difference),
               "statements": len(rep.statements), "payouts": len(rep.payouts), "orders": len(rep.order_figures),
               "gl_lines": rep.gl_lines, "findings": len(rep.findings),
               "generate_seconds": round(tiktok.generate_seconds, 2), "region": region,
               "order_detail_calls": orders.detail_calls if orders else 0,
               "price_detail_calls": orders.price_detail_calls if orders else 0})
    c.close()


def run(transactions: int = 100_000, per_statement: int = 1000, log: Callable[[str], None] = print,
        region: str = "US") -> dict[str, Any]:
    """``region``: ``US`` (prices without VAT) or ``GB`` (prices include 20 % VAT: the journal and the audit read
    each order's VAT from TikTok's orders API, one Get Price Detail per order, one Get Order Detail per 50)."""
    from bridge.bootstrap import build
    from bridge.clock import ManualClock
    from bridge.ports.store import Shop
    from bridge.sandbox.netsuite import NetSuiteSandboxConfig
    from bridge.sandbox.world import SandboxWorld
    from bridge.store.db import upgrade

    statements = max(1, transactions // per_statement)
    tmp = tempfile.TemporaryDirectory(prefix="ttns-bench-audit-")
    work = Path(tmp.name)
    world = SandboxWorld(work, run_scripts=False, netsuite=NetSuiteSandboxConfig(run_scripts=False))
    world.start()
    try:
        url = f"sqlite:///{work / 'bridge.db'}"
        upgrade(url)
        values = world.settings_values(url, log_level="WARNING")
        clock = ManualClock(START + timedelta(days=statements + 2))
        from bridge.settings import Settings

        generated, orders = _ports(statements, per_statement, region)
        c = build(Settings(**values), clock=clock, areas=("system", "settlement"), tiktok_finance=generated,
                  **_orders_port(orders))
        shop = "7494049642642441621"
        c.store.shops.upsert(Shop(id=shop, name="bench", region=region))
        svc = c.flows.settlement
        t0 = time.perf_counter()
        log(f"setup: importing and posting {statements} statements of {per_statement} transactions ...")
        res = svc.import_window(shop, START, clock.now())
        posted = [svc.post_statement(shop, r["statement_id"]) for r in res["results"]]
        deposits = [svc.post_payout(shop, str(p["payment_id"])) for p in posted]
        assert all(p["action"] == "posted" for p in posted), posted[:2]
        assert all(d["action"] == "posted" for d in deposits), deposits[:2]
        setup = time.perf_counter() - t0
        lines = svc.repo.count_lines(shop)
        c.close()
        log(f"setup done in {setup:.1f} s: {lines:,} transactions, {len(posted)} journals, {len(deposits)} deposits")
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        child = ctx.Process(target=_timed_audit, args=(values, shop, statements, per_statement,
                                                       dict(generated.payable), queue, region))
        child.start()
        out: dict[str, Any] = queue.get(timeout=1800)
        child.join()
        out.update(transactions=lines, setup_seconds=round(setup, 1), per_statement=per_statement)
        # TikTok answers at most ``tiktok_qps`` calls a second per shop and API (the rate-limits page: 50):
        # the audit's per-order reads can take no less against the real API, whatever this machine does
        qps = float(values.get("tiktok_qps") or 50.0)
        out["tiktok_rate_floor_seconds"] = round(max(out["price_detail_calls"], out["order_detail_calls"]) / qps, 1)
        return out
    finally:
        world.close()
        tmp.cleanup()


__all__ = ["run"]

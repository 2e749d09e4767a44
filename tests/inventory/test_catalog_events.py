"""Catalog and prices follow NetSuite by themselves, through both sandboxes over HTTP: an item saved
in the NetSuite sandbox runs the project's real user event, which posts a signed ``item.changed``
to the running bridge; the worker coalesces per product and pushes to the TikTok sandbox, whose
product review (PENDING → ACTIVATE or FAILED) comes back through webhook 5."""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bridge.flows import catalog as cat
from bridge.sandbox.netsuite import ExecContext
from bridge.sandbox.netsuite.harness import sb_run_map_reduce
from bridge.store.tables import jobs
from tests.inventory.sandboxes import Stack, Worker, running_stack, wait_for

pytestmark = pytest.mark.e2e

UI = ExecContext(context_type="USERINTERFACE")
CATALOG = {"version": 1, "source": "netsuite", "match": {"by": "itemid"}, "coalesce_seconds": 2.0, "defaults": {
    "category_id": "600010", "images": {"fallback_uris": ["tos-maliva-i-sbx/ttns-placeholder"]},
    "weight": {"default": "1"}}, "categories": [{"when": {"itemid_prefix": "TSHIRT"}, "category_id": "600020"}]}


@pytest.fixture
def stack(tmp_path: Path, sqlite_url: str) -> Iterator[Stack]:
    with running_stack(tmp_path, sqlite_url, inventory={"defaults": {"buffer": 0}}, products=[], catalog=CATALOG,
                       review_seconds=0.2, zero_quantity=True) as s:
        svc = s.c.flows.catalog
        for g in svc.groups():
            svc.push_group(s.shop, g)  # the first full push (`ttns catalog push`)
        s.tt.tick()
        yield s


def product_of(s: Stack, itemid: str) -> dict[str, Any]:
    pid = s.c.flows.catalog.inv.product_for_item(s.shop.id, s.items[itemid])
    return next(p for p in s.tt.products(s.shop.id) if p["id"] == pid)


def price_of(s: Stack, itemid: str, seller_sku: str) -> str:
    return str(next(k for k in product_of(s, itemid)["skus"] if k["seller_sku"] == seller_sku)["price"]["sale_price"])


def item_events(s: Stack) -> list[dict[str, Any]]:
    return [json.loads(e.body) for e in s.c.store.inbox.recent(source="netsuite", limit=1000)
            if e.topic in ("item.changed", "item.sweep")]


def jobs_of(s: Stack, kind: str, key: str, *, after_only: bool = False) -> int:
    """Jobs of ``kind`` and ``key``; ``after_only``: those enqueued because their window's job had
    already started (idempotency key ``…:after:<job>``)."""
    with s.c.store.engine.connect() as conn:
        rows = conn.execute(select(jobs.c.idempotency_key).where(jobs.c.kind == kind, jobs.c.key == key)).all()
    return len([r for r in rows if not after_only or ":after:" in r[0]])


def catalog_exceptions(s: Stack) -> list[Any]:
    """Open exceptions of the catalog and price flows (the TikTok sandbox's demo products, which no
    NetSuite item backs, raise UNMATCHED_TIKTOK_SKUS for the inventory flow)."""
    return [e for e in s.c.store.exceptions.list() if e.code.startswith(("CATALOG_", "LISTING_", "PRICE"))]


def change_windows(s: Stack, item_id: str) -> set[int]:
    """The coalescing windows the ``catalog.changes`` jobs naming ``item_id`` ran in (each job picks
    the window of the moment it runs, between its start and its finish)."""
    window = float(CATALOG["coalesce_seconds"])
    with s.c.store.engine.connect() as conn:
        rows = conn.execute(select(jobs.c.started_at, jobs.c.finished_at, jobs.c.payload).where(
            jobs.c.kind == cat.KIND_CHANGES)).all()
    out: set[int] = set()
    for started, finished, payload in rows:
        if any(i["item_id"] == item_id for i in payload["items"]):
            out.update(range(math.floor(started.timestamp() / window), math.floor(finished.timestamp() / window) + 1))
    return out


def set_price(s: Stack, itemid: str, amount: str, ctx: ExecContext = UI) -> None:
    s.ns.sb.update("inventoryItem", s.items[itemid], {"price": {"items": [
        {"priceLevel": {"id": "1"}, "price": amount}]}}, ctx, {"price"})


def test_edits_in_netsuite_reach_tiktok_coalesced_per_product(stack: Stack) -> None:
    s = stack
    mug = product_of(s, "MUG-001")["id"]
    with Worker(s.c):
        # a title edit on the matrix parent: one signed event, the product re-listed under review, then live
        s.ns.sb.update("inventoryItem", s.items["TSHIRT"], {"displayName": "Logo T-Shirt (organic)"}, UI)
        wait_for(lambda: product_of(s, "TSHIRT")["title"] == "Logo T-Shirt (organic)", what="title on TikTok")
        wait_for(lambda: product_of(s, "TSHIRT")["status"] == "ACTIVATE", what="review passed")
        (ev,) = [e for e in item_events(s) if e["data"]["item_id"] == s.items["TSHIRT"]]
        assert ev["type"] == "item.changed" and ev["data"]["changed"] == ["listing"]
        # a price edit on a matrix child: its product's price, not a re-listing
        set_price(s, "TSHIRT-RED-M", "18.49")
        wait_for(lambda: price_of(s, "TSHIRT", "TSHIRT-RED-M") == "18.49", what="child price on TikTok")
        assert price_of(s, "TSHIRT", "TSHIRT-BLUE-L") == "21.99"
    # a burst of five price edits on one product while the worker is busy elsewhere (here: stopped):
    # five events, one coalesced push per window the five jobs ran in, and TikTok ends at the last price
    before = jobs_of(s, cat.KIND_PRICES, f"prices:{s.shop.id}:{mug}")
    before_after = jobs_of(s, cat.KIND_PRICES, f"prices:{s.shop.id}:{mug}", after_only=True)
    for amount in ("12.60", "12.70", "12.80", "12.90", "13.00"):
        set_price(s, "MUG-001", amount)
    assert len([e for e in item_events(s) if e["data"].get("item_id") == s.items["MUG-001"]]) == 5
    with Worker(s.c):
        wait_for(lambda: price_of(s, "MUG-001", "MUG-001") == "13.00", what="last price of the burst")
        time.sleep(2 * CATALOG["coalesce_seconds"])  # a straggling window would have run by now
        assert price_of(s, "MUG-001", "MUG-001") == "13.00"
        pushes = jobs_of(s, cat.KIND_PRICES, f"prices:{s.shop.id}:{mug}") - before
        later = jobs_of(s, cat.KIND_PRICES, f"prices:{s.shop.id}:{mug}", after_only=True) - before_after
        windows = change_windows(s, s.items["MUG-001"])
        # one push per window the changes ran in, plus one where a window's push had already started
        assert 1 <= pushes <= len(windows) + later and pushes < 5, (pushes, windows, later)
        # a save that changes nothing a listing shows pushes nothing
        n = len(item_events(s))
        s.ns.sb.update("inventoryItem", s.items["MUG-001"], {"cost": "3.40"}, UI)
        assert len(item_events(s)) == n
    assert not catalog_exceptions(s)


def test_the_sweep_catches_an_edit_no_event_reported(stack: Stack) -> None:
    s = stack
    sb_run_map_reduce(s.ns.sb, "customscript_ttns_mr_sweep")  # first run: records the item cursor
    quiet_ctx = ExecContext(context_type="CSVIMPORT", fire_user_events=False)  # e.g. a CSV import in an ignored context
    set_price(s, "CAP-001", "16.25", quiet_ctx)
    assert not item_events(s)
    with Worker(s.c):
        sb_run_map_reduce(s.ns.sb, "customscript_ttns_mr_sweep")
        wait_for(lambda: price_of(s, "CAP-001", "CAP-001") == "16.25", what="swept price on TikTok")
    (ev,) = item_events(s)
    assert ev["type"] == "item.sweep" and s.items["CAP-001"] in [i["item_id"] for i in ev["data"]["items"]]


def test_a_listing_tiktok_refuses_in_review_is_one_exception_with_its_reason_and_others_flow(stack: Stack) -> None:
    s = stack
    s.tt.add_audit_rule("miracle", "Product title contains prohibited claims",
                        "Remove medical or miracle claims from the title and resubmit.")
    with Worker(s.c):
        s.ns.sb.update("inventoryItem", s.items["MUG-001"], {"displayName": "Miracle Mug"}, UI)
        wait_for(lambda: bool(catalog_exceptions(s)), what="the refusal as an exception")
        (exc,) = catalog_exceptions(s)
        assert exc.code == "CATALOG_AUDIT_FAILED" and exc.owner == "admin"
        assert "Product title contains prohibited claims" in exc.title
        assert "Remove medical or miracle claims" in exc.fix_hint
        assert exc.evidence["details"]["audit_failed_reasons"][0]["reasons"] == [
            "Product title contains prohibited claims"]
        # other products keep flowing meanwhile
        set_price(s, "CAP-001", "15.50")
        wait_for(lambda: price_of(s, "CAP-001", "CAP-001") == "15.50", what="another product's price")
        # the fix in NetSuite sends it for review again; approval resolves the exception
        s.ns.sb.update("inventoryItem", s.items["MUG-001"], {"displayName": "Stoneware Mug"}, UI)
        wait_for(lambda: not catalog_exceptions(s), what="the exception resolved by the approval")
        assert product_of(s, "MUG-001")["status"] == "ACTIVATE"
        assert product_of(s, "MUG-001")["title"] == "Stoneware Mug"
    assert Decimal(price_of(s, "MUG-001", "MUG-001")) == Decimal("12.50")

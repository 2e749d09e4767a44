"""Create Product cannot be undone: a create whose answer was lost, followed by a change of the item
and a retry, leaves exactly one TikTok product (issue 21 point 4). Both sandboxes over HTTP: the
TikTok sandbox handles the create and holds its answer back past the client's timeout."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from bridge.errors import WriteOutcomeUnknown
from bridge.flows import catalog as cat
from bridge.sandbox.netsuite import ExecContext
from bridge.tiktok import wiring
from tests.inventory.sandboxes import running_stack

pytestmark = pytest.mark.e2e

CATALOG = {"version": 1, "source": "netsuite", "match": {"by": "itemid"}, "defaults": {
    "category_id": "600010", "images": {"fallback_uris": ["tos-maliva-i-sbx/ttns-placeholder"]},
    "weight": {"default": "1"}}}
CREATE = "POST /product/202309/products"


def test_a_lost_create_answer_then_a_content_change_and_a_retry_make_exactly_one_tiktok_product(
        tmp_path: Path, sqlite_url: str) -> None:
    with running_stack(tmp_path, sqlite_url, inventory={"defaults": {"buffer": 0}}, products=[],
                       catalog=CATALOG) as s:
        # a client that gives up after 0.3 s; the sandbox creates the product, then answers after 1 s
        settings = s.c.settings.model_copy(update={"tiktok_timeout_seconds": 0.3})
        c = s.c.with_clients(tiktok=wiring.build(settings, s.c.store, s.c.clock, sleep=lambda _s: None))
        svc = c.flows.catalog

        def mug() -> cat.ItemGroup:
            return next(g for g in svc.groups() if g.key_item.itemid == "MUG-001")

        def mugs_on_tiktok() -> list[dict[str, object]]:
            return [p for p in s.tt.products(s.shop.id)
                    if any(k["seller_sku"] == "MUG-001" for k in p["skus"])]  # type: ignore[index]

        s.tt.set_faults(timeout_seconds=1.0, per_endpoint={CREATE: {"rate_timeout": 1.0}})
        with pytest.raises(WriteOutcomeUnknown):
            svc.push_group(s.shop, mug())
        s.tt.set_faults(per_endpoint={})
        time.sleep(1.0)  # the held-back answer is gone; TikTok did create the product
        first = mugs_on_tiktok()
        assert len(first) == 1
        intent = c.store.links.get(cat.KIND_CREATE_INTENT, s.shop.id, s.items["MUG-001"])
        assert intent is not None and intent.data["seller_skus"] == ["MUG-001"]
        assert c.store.links.list("product", s.shop.id) == []  # the bridge never heard the answer

        # the item changes in NetSuite before the retry: another body, another content hash
        s.ns.sb.update("inventoryItem", s.items["MUG-001"], {"displayName": "Ceramic Mug, 350 ml"},
                       ExecContext(context_type="USERINTERFACE"), {"displayName"})
        change = svc.push_group(s.shop, mug())

        now = mugs_on_tiktok()
        assert [p["id"] for p in now] == [first[0]["id"]], now  # exactly one product, the first one
        assert now[0]["title"] == "Ceramic Mug, 350 ml"  # ... carrying the changed content
        assert change.action == "create" and change.product_id == first[0]["id"]
        link = c.store.links.get("product", s.shop.id, change.product_id)
        assert link is not None and link.netsuite_id == s.items["MUG-001"] and link.content_hash
        assert c.store.links.get(cat.KIND_CREATE_INTENT, s.shop.id, s.items["MUG-001"]) is None
        assert svc.push_group(s.shop, mug()).action == "unchanged"
        assert len(mugs_on_tiktok()) == 1


def test_a_worker_paused_past_its_lease_mid_create_lands_nothing_and_the_next_one_adopts_the_product(
        tmp_path: Path, sqlite_url: str) -> None:
    """The stale-worker case: worker A sends Create Product (TikTok creates it) and is paused before it
    hears the answer, past its lease; worker B takes the job, finds the product by its seller SKUs and
    links it; A wakes and its link write is refused (fenced). One product, one link, B's."""
    import threading
    from dataclasses import replace

    from bridge.store.queue import JobSpec

    lease_seconds = 3.0
    with running_stack(tmp_path, sqlite_url, inventory={"defaults": {"buffer": 0}}, products=[],
                       catalog=CATALOG) as s:
        svc = s.c.flows.catalog
        real = svc.tiktok
        paused, go = threading.Event(), threading.Event()
        created: list[str] = []

        class PausesAfterSending:
            def __getattr__(self, name: str) -> object:
                return getattr(real, name)

            def create_product(self, shop_id: str, body: Any) -> Any:
                got = real.create_product(shop_id, body)  # TikTok has created it
                created.append(got.product_id)
                if len(created) == 1:  # the first worker stops here, the answer in its hands
                    paused.set()
                    assert go.wait(60)
                return got

        c = s.c.with_flows(catalog=replace(svc, tiktok=PausesAfterSending()))
        item = s.items["MUG-001"]
        jid = c.store.queue.enqueue(JobSpec(kind=cat.KIND_CATALOG, key=cat.catalog_key(s.shop.id, item),
                                            payload={"shop_id": s.shop.id, "item_id": item})).job_id
        stale, fresh = c.worker(threads=1, name="stale"), c.worker(threads=1, name="fresh")
        (job,) = c.store.queue.claim(stale.name, lease_seconds, 1)
        outcome: list[str] = []
        t = threading.Thread(target=lambda: outcome.append(stale.process(job)), daemon=True)
        t.start()
        assert paused.wait(60)
        time.sleep(lease_seconds + 0.5)  # the pause outlasts the lease
        deadline = time.monotonic() + 10
        again: list[Any] = []
        while not again and time.monotonic() < deadline:
            again = c.store.queue.claim(fresh.name, 60.0, 1)
            time.sleep(0.2)
        assert [j.id for j in again] == [jid]
        assert fresh.process(again[0]) == "ok"
        go.set()
        t.join(60)
        assert outcome == ["lease_lost"]

        mugs = [p for p in s.tt.products(s.shop.id) if any(k["seller_sku"] == "MUG-001" for k in p["skus"])]
        assert [p["id"] for p in mugs] == created[:1] and len(created) == 1  # B sent no second create
        links = c.store.links.list("product", s.shop.id)
        assert [(lk.tiktok_id, lk.netsuite_id) for lk in links] == [(created[0], item)]
        assert c.store.links.get(cat.KIND_CREATE_INTENT, s.shop.id, item) is None
        done = c.store.queue.get(jid)
        assert done is not None and done.status == "done" and done.result["product_id"] == created[0]

"""Create Product cannot be undone: a create whose answer was lost, followed by a change of the item
and a retry, leaves exactly one TikTok product (issue 21 point 4). Both sandboxes over HTTP: the
TikTok sandbox handles the create and holds its answer back past the client's timeout."""

from __future__ import annotations

import time
from pathlib import Path

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

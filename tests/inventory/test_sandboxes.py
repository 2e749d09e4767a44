"""Inventory through both sandboxes over HTTP: NetSuite's real SuiteScript user events post signed
events to the running bridge; the worker pushes to the TikTok sandbox; TikTok orders come back
through signed webhooks and the orders flow."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.inventory.sandboxes import Stack, Worker, quiet, running_stack, wait_for

pytestmark = pytest.mark.e2e

MAIN, EAST = "1", "2"
WH1, WH2 = "Sandbox US Shop warehouse 1", "Sandbox US Shop warehouse 2"


@pytest.fixture
def stack(tmp_path: Path, sqlite_url: str) -> Iterator[Stack]:
    with running_stack(tmp_path, sqlite_url, inventory={"defaults": {"buffer": 2}},
                       products=[("Ceramic Mug", [{"seller_sku": "MUG-001", "inventory": {WH1: 0, WH2: 0}}])]) as s:
        yield s


def test_receipt_other_channel_sale_and_tiktok_order_each_move_tiktok_stock(stack: Stack) -> None:
    wh1, wh2 = stack.warehouses[WH1], stack.warehouses[WH2]
    with Worker(stack.c):
        stack.receive("MUG-001", MAIN, 20)  # an item receipt in NetSuite
        wait_for(lambda: stack.tt_stock("MUG-001") == {wh1: 18, wh2: 0}, what="receipt on TikTok")
        stack.sell_elsewhere("MUG-001", MAIN, 3)  # another channel sells and ships 3
        wait_for(lambda: stack.tt_stock("MUG-001")[wh1] == 15, what="other-channel sale on TikTok")
        stack.receive("MUG-001", EAST, 5)
        wait_for(lambda: stack.tt_stock("MUG-001") == {wh1: 15, wh2: 3}, what="second location")
        order_id = stack.tt_order("MUG-001", 2, warehouse_id=wh1)  # a TikTok buyer takes 2
        wait_for(lambda: stack.c.store.links.get("order", stack.shop.id, order_id) is not None
                 and stack.c.store.links.get("order", stack.shop.id, order_id).status == "synced",  # type: ignore[union-attr]
                 what="the TikTok order in NetSuite")
        quiet(stack.c)
    assert stack.ns_stock("MUG-001", MAIN)["committed"] == "2"
    assert stack.tt_stock("MUG-001") == {wh1: 13, wh2: 3}  # 17 on hand - 2 committed - buffer 2
    assert stack.c.store.exceptions.list(status="open") == []

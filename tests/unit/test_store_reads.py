"""The flow stores' reads do not take SQLite's write lock: a push's, an order's or a shipment lookup's reads do
not queue behind the writers (another process, another thread)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bridge.bootstrap import build
from bridge.settings import Settings
from bridge.store.tables_fulfillment import FulfillmentStore
from bridge.store.tables_inventory import InventoryStore

ROOT = Path(__file__).resolve().parents[2]


def inventory_reads(engine: Engine) -> list[object]:
    inv = InventoryStore(engine)
    return [inv.products_for_seller_skus("S1", ["MUG"]), inv.products_for_items(["101"]), inv.pending_units("S1")]


def fulfillment_reads(engine: Engine) -> list[object]:
    store = FulfillmentStore(engine)
    return [store.shipments("S1", "O1"), store.get(1), store.units("S1", "O1"),
            store.unshipped(older_than=datetime(2026, 12, 7, tzinfo=UTC)), store.counts(),
            store.sla_levels("S1", ["O1"])]


@pytest.mark.parametrize(("reads", "expected"), [
    (inventory_reads, [set(), set(), {}]),
    (fulfillment_reads, [[], None, {}, [], {}, {}]),
], ids=["inventory", "fulfillment"])
def test_reads_go_on_while_another_connection_holds_the_write_lock(
    sqlite_url: str, reads: Callable[[Engine], list[object]], expected: list[object],
) -> None:
    c = build(Settings(database_url=sqlite_url, specs_dir=ROOT / "tests/fixtures/specs"))
    writer = c.store.engine.raw_connection()
    try:
        writer.cursor().execute("BEGIN IMMEDIATE")  # a long write elsewhere
        answers: list[Any] = []
        t = threading.Thread(target=lambda: answers.append(reads(c.store.engine)), daemon=True)
        t.start()
        t.join(3.0)
        finished = not t.is_alive()
        writer.rollback()
        t.join(70)
        assert finished, "the reads waited for the write lock"
        assert answers == [expected]
    finally:
        writer.close()
        c.close()

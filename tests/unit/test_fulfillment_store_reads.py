"""The fulfillment store's reads do not take SQLite's write lock (a shipment lookup does not queue
behind the writers), as the inventory store's do (tests/unit/test_inventory_store_reads.py)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from bridge.bootstrap import build
from bridge.settings import Settings
from bridge.store.tables_fulfillment import FulfillmentStore

ROOT = Path(__file__).resolve().parents[2]


def test_reads_go_on_while_another_connection_holds_the_write_lock(sqlite_url: str) -> None:
    c = build(Settings(database_url=sqlite_url, specs_dir=ROOT / "tests/fixtures/specs"))
    store = FulfillmentStore(c.store.engine)
    writer = c.store.engine.raw_connection()
    try:
        writer.cursor().execute("BEGIN IMMEDIATE")  # a long write elsewhere (another process, another thread)
        answers: list[object] = []

        def read() -> None:
            answers.append(store.shipments("S1", "O1"))
            answers.append(store.get(1))
            answers.append(store.units("S1", "O1"))
            answers.append(store.unshipped(older_than=datetime(2026, 12, 7, tzinfo=UTC)))
            answers.append(store.counts())
            answers.append(store.sla_levels("S1", ["O1"]))

        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(3.0)
        finished = not t.is_alive()
        writer.rollback()
        t.join(70)
        assert finished, "the reads waited for the write lock"
        assert answers == [[], None, {}, [], {}, {}]
    finally:
        writer.close()
        c.close()

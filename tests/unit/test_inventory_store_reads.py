"""The inventory store's reads do not take SQLite's write lock (a push's and an order's reads do not
queue behind the writers)."""

from __future__ import annotations

import threading
from pathlib import Path

from bridge.bootstrap import build
from bridge.settings import Settings
from bridge.store.tables_inventory import InventoryStore

ROOT = Path(__file__).resolve().parents[2]


def test_reads_go_on_while_another_connection_holds_the_write_lock(sqlite_url: str) -> None:
    c = build(Settings(database_url=sqlite_url, specs_dir=ROOT / "tests/fixtures/specs"))
    inv = InventoryStore(c.store.engine)
    writer = c.store.engine.raw_connection()
    try:
        writer.cursor().execute("BEGIN IMMEDIATE")  # a long write elsewhere (another process, another thread)
        answers: list[object] = []

        def read() -> None:
            answers.append(inv.products_for_seller_skus("S1", ["MUG"]))
            answers.append(inv.products_for_items(["101"]))
            answers.append(inv.pending_units("S1"))

        t = threading.Thread(target=read, daemon=True)
        t.start()
        t.join(3.0)
        finished = not t.is_alive()
        writer.rollback()
        t.join(70)
        assert finished, "the reads waited for the write lock"
        assert answers == [set(), set(), {}]
    finally:
        writer.close()
        c.close()

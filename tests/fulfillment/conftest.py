"""Both sandboxes with the real SuiteScript user events and the bridge served on the world's port;
one world per test module (each test uses its own orders), the worker drained synchronously."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from bridge.bootstrap import App, build
from bridge.domain.keys import order_key
from bridge.sandbox.world import SandboxWorld
from bridge.store.db import upgrade
from bridge.store.repos import ExceptionRecord
from bridge.store.tables_fulfillment import FulfillmentStore
from bridge.tiktok import wiring
from bridge.web import create_app
from bridge.worker.runner import Worker

USPS = "9400111202555842761234"
UPS = "1Z999AA10123456784"


@dataclass
class Bridge:
    world: SandboxWorld
    c: App
    worker: Worker

    @property
    def shop(self) -> str:
        return self.world.shop_id

    @property
    def tt(self) -> Any:
        return self.world.tiktok_sb

    @property
    def ns(self) -> Any:
        return self.world.netsuite_sb

    @contextmanager
    def swapped(self, **flows: Any) -> Iterator[None]:
        """Run with some flows replaced (over a fake port, or other specs), then the original ones again."""
        c, worker = self.c, self.worker
        self.c = c.with_flows(**flows)
        self.worker = self.c.worker(threads=2, name="fulfillment-test")
        try:
            yield
        finally:
            self.c, self.worker = c, worker

    def drain(self) -> int:
        """Let webhooks arrive and run every job until nothing is left (jobs cause webhooks cause jobs)."""
        total = 0
        for _ in range(20):
            self.tt.wait_webhooks(5)
            n = self.worker.drain()
            total += n
            if n == 0:
                time.sleep(0.05)
                self.tt.wait_webhooks(5)
                if self.worker.drain() == 0:
                    return total
        return total

    def order(self, items: list[tuple[str, int]], **opts: Any) -> dict[str, Any]:
        """A paid TikTok order that the orders flow turned into a sales order."""
        o = self.tt.place_order(self.shop, [{"seller_sku": s, "quantity": q} for s, q in items],
                                **{"hold": False, **opts})
        self.drain()
        link = self.c.store.links.get("order", self.shop, o["id"])
        assert link is not None and link.netsuite_id, f"no sales order for {o['id']}"
        return dict(self.tt.order(o["id"]))

    def so(self, order_id: str) -> str:
        link = self.c.store.links.get("order", self.shop, order_id)
        assert link is not None and link.netsuite_id
        return link.netsuite_id

    def so_lines(self, order_id: str) -> list[dict[str, Any]]:
        return list(self.ns.get("salesOrder", self.so(order_id)).data["item"])

    def line_of(self, order_id: str, sku: str) -> int:
        item = self.world.netsuite_item_id(sku)
        return next(int(ln["line"]) for ln in self.so_lines(order_id) if ln["item"]["id"] == item)

    def fulfill(self, order_id: str, lines: list[dict[str, Any]] | None, tracking: list[str], **kw: Any) -> str:
        """A warehouse person ships in the NetSuite UI (control API: the user event runs)."""
        resp = requests.post(f"{self.world.netsuite_url}/_sandbox/fulfillments", timeout=30, json={
            "salesOrder": self.so(order_id), **({"lines": lines} if lines else {}),
            "packages": [{"trackingNumber": t, "weight": "1.0"} for t in tracking], **kw})
        assert resp.status_code == 200, resp.text
        self.drain()
        return str(resp.json()["id"])

    def packages(self, order_id: str) -> list[dict[str, Any]]:
        return [p for p in self.tt.packages(order_id=order_id) if p["package_status"] != "CANCELLED"]

    def exceptions(self, order_id: str, status: str = "open") -> list[ExceptionRecord]:
        return self.c.store.exceptions.list(status=status, entity=order_key(self.shop, order_id))

    def link(self, order_id: str) -> dict[str, Any]:
        link = self.c.store.links.get("order", self.shop, order_id)
        assert link is not None
        return link.data

    @property
    def shipments(self) -> FulfillmentStore:
        return FulfillmentStore(self.c.store.engine, self.c.clock)

    def tiktok_calls(self, endpoint: str) -> int:
        counts = self.tt.counters_snapshot()["api"]
        return int(sum(v.get("calls", 0) for k, v in counts.items() if endpoint in k))


@pytest.fixture(scope="module")
def bridge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Bridge]:
    tmp: Path = tmp_path_factory.mktemp("fulfillment-world")
    world = SandboxWorld(tmp, run_scripts=True).start()
    db = f"sqlite:///{tmp / 'bridge.db'}"
    upgrade(db)
    c = build(world.settings(db, retry_base_seconds=0.05, retry_cap_seconds=0.2, worker_poll_interval=0.02))
    c = c.with_clients(tiktok=wiring.build(c.settings, c.store, c.clock, sleep=lambda s: time.sleep(min(s, 0.05))))
    world.serve(create_app(root=c))
    world.connect_shop(c)
    try:
        yield Bridge(world, c, c.worker(threads=2, name="fulfillment-test"))
    finally:
        c.close()
        world.close()

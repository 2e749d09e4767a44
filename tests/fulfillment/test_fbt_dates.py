"""An FBT fulfillment is dated the local day TikTok shipped it, in the shop's market zone (settlement.yaml
markets / subsidiaries), not the day the webhook or the poll reached the bridge. The flow over in-memory
stores and fakes of TikTok and NetSuite."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from bridge.clock import ManualClock
from bridge.domain.tiktok import Order
from bridge.flows.fulfillment.fbt import FbtShipments
from bridge.mapping.specs import SpecSet
from bridge.ports.netsuite import NsDocument, SoLine, Written
from bridge.ports.store import Link, Shop
from bridge.store.memory import MemoryRepositories, MemoryShipments
from tests.support.specs import sandbox_specs_dir
from tests.support.tiktok_orders import order, unit


@dataclass
class TikTok:
    orders: dict[str, Order]

    def get_order(self, shop_id: str, order_id: str) -> Order | None:
        return self.orders.get(order_id)


@dataclass
class NetSuite:
    documents: list[NsDocument] = field(default_factory=list)

    def order_lines(self, record_type: str, record_id: str) -> list[SoLine]:
        return [SoLine(1, "101", 1, line_item_ids=("a1",))]

    def create_document(self, doc: NsDocument) -> Written:
        self.documents.append(doc)
        return Written(str(len(self.documents)), True)


class Completion:
    def maybe_fulfilled(self, shop_id: str, order: Order, extra: Any = ()) -> bool:
        return False


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("case", "region", "shipped", "now", "expected"), [
    ("US: shipped 21:30 in Los Angeles, read by the poll after midnight", "US", "2026-12-08T05:30", "2026-12-08T09:00",
     "2026-12-07"),
    ("DE: shipped 00:30 in Berlin, the market's zone (not the default's)", "DE", "2026-12-07T23:30",
     "2026-12-07T23:35", "2026-12-08"),
    ("GB: shipped 23:50 in London", "GB", "2026-12-07T23:50", "2026-12-08T00:10", "2026-12-07"),
    ("TikTok gave no ship time: the day it reached the bridge, local", "US", None, "2026-12-08T06:00", "2026-12-07"),
])
def test_an_fbt_fulfillment_is_dated_the_local_day_tiktok_shipped_it(case: str, region: str, shipped: str | None,
                                                                     now: str, expected: str) -> None:
    clock = ManualClock(at(now))
    store = MemoryRepositories(clock)
    store.shops.upsert(Shop("S1", name="shop", region=region))
    li = unit("a1", "MUG", "12.50") | {"tracking_number": "TT123456789", "package_id": "P1",
                                       "rts_time": int(at(shipped).timestamp()) if shipped else 0}
    o = Order.model_validate(order("O1", [li], status="IN_TRANSIT", fulfillment_type="FULFILLMENT_BY_TIKTOK"))
    store.links.upsert(Link("order", "S1", "O1", "SO-1", "salesOrder", "TTS-S1-O1", "", "synced", {}, clock.now()))
    netsuite = NetSuite()
    flow = FbtShipments(store=store, shipments=MemoryShipments(clock), tiktok=TikTok({"O1": o}),  # type: ignore[arg-type]
                        netsuite=netsuite, specs=SpecSet.load(sandbox_specs_dir()),  # type: ignore[arg-type]
                        clock=clock, completion=Completion())  # type: ignore[arg-type]
    result = flow.tiktok_shipped("S1", "O1")
    assert result["action"] == "fbt_fulfilled", case
    (doc,) = netsuite.documents
    assert doc.body["tranDate"] == expected, case

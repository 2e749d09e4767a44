"""The polling backstops' one loop (bridge.flows.backstop), over the memory store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bridge.clock import ManualClock
from bridge.domain.keys import order_key
from bridge.flows.backstop import poll_shops
from bridge.ports.queue import JobSpec
from bridge.ports.store import Shop
from bridge.store.memory import MemoryRepositories

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_one_poll_per_active_shop_with_the_flow_on_from_its_cursor_less_the_overlap() -> None:
    clock = ManualClock(T0)
    store = MemoryRepositories(clock)
    store.shops.upsert(Shop(id="A"))
    store.shops.upsert(Shop(id="B", flows={"returns": False}))  # the flow off
    store.shops.upsert(Shop(id="C", status="disconnected"))
    searched: list[tuple[str, datetime, datetime]] = []

    def jobs_since(shop: Shop, since: datetime, now: datetime) -> list[JobSpec]:
        searched.append((shop.id, since, now))
        return [JobSpec(kind="returns.sync", key=order_key(shop.id, "1"), idempotency_key=f"r:{shop.id}:1")]

    def poll() -> dict[str, int]:
        return poll_shops(store, clock, flow="returns", cursor="returns.poll", first_window=timedelta(hours=24),
                          overlap=timedelta(minutes=15), jobs_since=jobs_since)

    assert poll() == {"enqueued": 1}
    assert searched == [("A", T0 - timedelta(hours=24, minutes=15), T0)]  # first run: the default window
    assert store.cursors.get("returns.poll:A") == T0.isoformat() and store.cursors.get("returns.poll:B") is None
    clock.advance(60)
    assert poll() == {"enqueued": 0}  # the same job is already waiting: not counted again
    assert searched[-1] == ("A", T0 - timedelta(minutes=15), T0 + timedelta(minutes=1))  # cursor less overlap
    assert store.cursors.get("returns.poll:A") == (T0 + timedelta(minutes=1)).isoformat()


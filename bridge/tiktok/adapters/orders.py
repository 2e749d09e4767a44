"""The orders ports over the real clients: ``tiktok.orders``, ``netsuite.orders``, ``netsuite.lookup``."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from bridge.domain.tiktok import Order, PriceDetail
from bridge.tiktok.wiring import TikTok


class TikTokOrdersAdapter:
    def __init__(self, tiktok: Callable[[], TikTok]) -> None:
        self._tiktok = tiktok  # built on first use (bridge.bootstrap)

    @property
    def tiktok(self) -> TikTok:
        return self._tiktok()

    def get_orders(self, shop_id: str, order_ids: Sequence[str]) -> list[Order]:
        found: list[Order] = self.tiktok.shop(shop_id).orders.get_details(list(order_ids))
        return found

    def search_orders(
        self,
        shop_id: str,
        *,
        update_time_ge: datetime | None = None,
        update_time_lt: datetime | None = None,
        create_time_ge: datetime | None = None,
        create_time_lt: datetime | None = None,
    ) -> Iterator[tuple[str, datetime | None]]:
        for o in self.tiktok.shop(shop_id).orders.search(
            update_time_ge=update_time_ge, update_time_lt=update_time_lt,
            create_time_ge=create_time_ge, create_time_lt=create_time_lt,
        ):
            yield str(o.id), o.update_time

    def price_detail(self, shop_id: str, order_id: str) -> PriceDetail:
        detail: PriceDetail = self.tiktok.shop(shop_id).orders.price_detail(order_id)
        return detail


__all__ = ["TikTokOrdersAdapter"]

"""The fulfillment, cancellation and returns ports over the real clients: ``tiktok.shipping``,
``tiktok.aftersale``, ``netsuite.fulfillment``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from bridge.domain.tiktok import Cancellation, CancellationCreated, Order, Package, Return, Warehouse
from bridge.errors import WriteOutcomeUnknown
from bridge.mapping.fulfillment import Provider
from bridge.ports.tiktok import FbtInboundOrder, FbtInventoryRecord, FbtReceivedBatch, FbtStock, TikTokRefusal
from bridge.tiktok.wiring import TikTok

PROTOCOL_CODES = frozenset({"105001", "105002", "106001", "36009004", "36009002", "36009003"})


PROVIDER_CACHE_SECONDS = 3600.0


def _refusal(exc: Exception) -> Exception:
    """A TikTok business refusal as the port's ``TikTokRefusal``; anything else unchanged."""
    code = getattr(exc, "code", None)
    if code is None or str(code) in PROTOCOL_CODES or not hasattr(exc, "tiktok_message"):
        return exc
    return TikTokRefusal(str(code), str(exc.tiktok_message), getattr(exc, "evidence", None))


class TikTokShippingAdapter:
    def __init__(self, tiktok: Callable[[], TikTok]) -> None:
        self._tiktok = tiktok  # built on first use (bridge.bootstrap)
        self._providers: dict[tuple[str, str], tuple[float, list[Provider]]] = {}
        self._lock = threading.Lock()

    @property
    def tiktok(self) -> TikTok:
        return self._tiktok()

    def _shop(self, shop_id: str) -> Any:
        return self.tiktok.shop(shop_id)

    def get_order(self, shop_id: str, order_id: str) -> Order | None:
        found = self._shop(shop_id).orders.get_details([order_id])
        return next((Order.model_validate(o.model_dump()) for o in found if str(o.id) == order_id), None)

    def search_orders(self, shop_id: str, *, status: str, update_time_ge: datetime | None = None) -> Iterator[Order]:
        for o in self._shop(shop_id).orders.search(order_status=status, update_time_ge=update_time_ge):
            yield Order.model_validate(o.model_dump())

    def shipping_providers(self, shop_id: str, delivery_option_id: str) -> list[Provider]:
        key = (shop_id, delivery_option_id)
        with self._lock:
            hit = self._providers.get(key)
            if hit and time.monotonic() - hit[0] < PROVIDER_CACHE_SECONDS:
                return hit[1]
        got = [Provider(str(p.id), p.name)
               for p in self._shop(shop_id).logistics.shipping_providers(delivery_option_id)]
        with self._lock:
            self._providers[key] = (time.monotonic(), got)
        return got

    def mark_package_shipped(self, shop_id: str, order_id: str, *, tracking_number: str, provider_id: str,
                             line_item_ids: Sequence[str]) -> str:
        try:
            res = self._shop(shop_id).fulfillment.mark_package_shipped(
                order_id, tracking_number=tracking_number, shipping_provider_id=provider_id,
                line_item_ids=list(line_item_ids))
        except WriteOutcomeUnknown:
            raise
        except Exception as exc:
            raise _refusal(exc) from exc
        return str(res.package_id)

    def split(self, shop_id: str, order_id: str, groups: Mapping[str, Sequence[str]]) -> dict[str, str]:
        try:
            got = self._shop(shop_id).fulfillment.split(order_id, {g: list(ids) for g, ids in groups.items()})
        except WriteOutcomeUnknown:
            raise
        except Exception as exc:
            raise _refusal(exc) from exc
        return {str(p.splittable_group_id): str(p.id) for p in got}

    def ship_package(self, shop_id: str, package_id: str, *, tracking_number: str | None = None,
                     provider_id: str | None = None) -> None:
        try:
            if tracking_number:
                self._shop(shop_id).fulfillment.ship_package(package_id, tracking_number=tracking_number,
                                                             shipping_provider_id=provider_id)
            else:
                self._shop(shop_id).fulfillment.ship_package(package_id, handover_method="DROP_OFF")
        except WriteOutcomeUnknown:
            raise
        except Exception as exc:
            raise _refusal(exc) from exc

    def update_package_shipping_info(self, shop_id: str, package_id: str, *, tracking_number: str,
                                     provider_id: str) -> None:
        try:
            self._shop(shop_id).fulfillment.update_package_shipping_info(
                package_id, tracking_number=tracking_number, shipping_provider_id=provider_id)
        except WriteOutcomeUnknown:
            raise
        except Exception as exc:
            raise _refusal(exc) from exc

    def get_package(self, shop_id: str, package_id: str) -> Package:
        pkg: Package = self._shop(shop_id).fulfillment.get_package(package_id)
        return pkg

    def search_packages(self, shop_id: str, *, update_time_ge: datetime | None = None,
                        update_time_lt: datetime | None = None) -> Iterator[Package]:
        yield from self._shop(shop_id).fulfillment.search_packages(update_time_ge=update_time_ge,
                                                                   update_time_lt=update_time_lt)

    def warehouses(self, shop_id: str) -> list[Warehouse]:
        return list(self._shop(shop_id).logistics.warehouses())

    def fbt_stock(self, shop_id: str, warehouse_ids: Sequence[str]) -> FbtStock:
        """Search FBT Inventory when the client knows the endpoint and TikTok answers it; else the
        FBT warehouses' stock from the products inventory search (the TikTok sandbox emulates no
        FBT inventory API)."""
        api = self.tiktok.api
        try:
            on_hand: dict[str, int] = {}
            per_wh: dict[str, dict[str, int]] = {}
            skus = self._fbt_inventory(api, shop_id, warehouse_ids)
            if skus is not None:
                by_id = self._seller_skus(shop_id)
                for (wh, sku_id), qty in skus.items():
                    seller = by_id.get(sku_id, sku_id)
                    on_hand[seller] = on_hand.get(seller, 0) + qty
                    per_wh.setdefault(wh, {})[seller] = per_wh.get(wh, {}).get(seller, 0) + qty
                return FbtStock("fbt_inventory", on_hand, tuple(warehouse_ids), by_warehouse=per_wh)
        except Exception as exc:  # not offered to this app/market (501, scope): the fallback below
            note = f"Search FBT Inventory unavailable ({type(exc).__name__}); read the FBT warehouse stock instead"
        else:
            note = "Search FBT Inventory is not in the client's endpoint table; read the FBT warehouse stock instead"
        wanted = set(warehouse_ids)
        totals: dict[str, int] = {}
        per_wh = {}
        products = [p.id for p in self._shop(shop_id).products.search()]
        for i in range(0, len(products), 100):
            for rec in self._shop(shop_id).products.inventory(product_ids=products[i:i + 100]):
                for sku in rec.skus:
                    for wh in sku.warehouse_inventory:
                        if wh.warehouse_id in wanted:
                            qty = int(wh.available_quantity) + int(wh.committed_quantity)
                            totals[sku.seller_sku] = totals.get(sku.seller_sku, 0) + qty
                            at = per_wh.setdefault(str(wh.warehouse_id), {})
                            at[sku.seller_sku] = at.get(sku.seller_sku, 0) + qty
        return FbtStock("products_inventory", totals, tuple(warehouse_ids), note, per_wh)

    def fbt_inventory_records(self, shop_id: str, warehouse_ids: Sequence[str], *,
                              since: datetime | None = None) -> list[FbtInventoryRecord]:
        rows = self._shop(shop_id).logistics.fbt_inventory_records(
            fbt_warehouse_ids=list(warehouse_ids), create_time_ge=int(since.timestamp()) if since else None)
        return [FbtInventoryRecord(
            warehouse_id=str(r.get("fbt_warehouse_id") or ""), goods_id=str((r.get("goods") or {}).get("id") or ""),
            reference_code=str((r.get("goods") or {}).get("reference_code") or ""),
            order_id=str((r.get("order") or {}).get("id") or ""), order_type=str((r.get("order") or {}).get("type")
                                                                                  or ""),
            goods_type=str(r.get("inventory_goods_type") or ""), changed=int(r.get("changed_quantity") or 0),
            created=datetime.fromtimestamp(int(r.get("create_time") or 0), UTC)) for r in rows]

    def fbt_inbound_orders(self, shop_id: str, order_ids: Sequence[str]) -> list[FbtInboundOrder]:
        if not order_ids:
            return []
        found = self._shop(shop_id).logistics.fbt_inbound_orders(list(order_ids))
        by_id = self._seller_skus(shop_id) if found else {}
        codes = {str(g.get("id")): str(g.get("reference_code") or "") for o in found
                 for g in o.get("planned_goods") or []}
        out: list[FbtInboundOrder] = []
        for o in found:
            logs = sorted(o.get("order_operation_logs") or [], key=lambda x: int(x.get("operate_time") or 0))
            batches = tuple(FbtReceivedBatch(
                goods_id=str(b.get("goods_id") or ""),
                seller_sku=next((by_id[str(s)] for s in b.get("sku_ids") or [] if str(s) in by_id),
                                codes.get(str(b.get("goods_id")), "")),
                normal=int(b.get("normal_quantity") or 0), defective=int(b.get("defective_quantity") or 0))
                for b in o.get("received_batches") or [])
            out.append(FbtInboundOrder(id=str(o.get("id") or ""),
                                       warehouse_id=str((o.get("warehouse") or {}).get("fbt_warehouse_id") or ""),
                                       status=str(logs[-1].get("order_status") or "") if logs else "",
                                       received=batches))
        return out

    @staticmethod
    def _fbt_inventory(api: Any, shop_id: str, warehouse_ids: Sequence[str]
                       ) -> dict[tuple[str, str], int] | None:
        """(FBT warehouse id, SKU id) -> units on hand, from Search FBT Inventory (each inventory row
        is one warehouse's, ``fbt_warehouse_id``)."""
        from bridge.tiktok.endpoints import ENDPOINTS

        if "fbt.inventory.search" not in ENDPOINTS:
            return None
        out: dict[tuple[str, str], int] = {}
        token = ""
        while True:
            data = api.call("fbt.inventory.search", shop_id=shop_id,
                            query={"page_size": 100, **({"page_token": token} if token else {})},
                            body={"fbt_warehouse_ids": list(warehouse_ids)} if warehouse_ids else {})
            for row in data.get("inventory") or []:
                wh = str(row.get("fbt_warehouse_id") or "")
                for sku in (row.get("goods") or {}).get("skus") or []:
                    detail = sku.get("on_hand_detail") or {}
                    qty = int(detail.get("total_quantity") or 0)
                    key = (wh, str(sku.get("id")))
                    out[key] = out.get(key, 0) + qty
            token = str(data.get("next_page_token") or "")
            if not token:
                return out

    def _seller_skus(self, shop_id: str) -> dict[str, str]:
        out: dict[str, str] = {}
        for p in self._shop(shop_id).products.search():
            for s in p.skus:
                out[str(s.id)] = s.seller_sku
        return out


class TikTokAftersaleAdapter:
    def __init__(self, tiktok: Callable[[], TikTok]) -> None:
        self._tiktok = tiktok  # built on first use (bridge.bootstrap)

    @property
    def tiktok(self) -> TikTok:
        return self._tiktok()

    def cancellations(self, shop_id: str, *, cancel_ids: Sequence[str] = (), order_ids: Sequence[str] = (),
                      update_time_ge: datetime | None = None,
                      update_time_lt: datetime | None = None) -> Iterator[Cancellation]:
        yield from self.tiktok.shop(shop_id).returns.search_cancellations(
            cancel_ids=list(cancel_ids), order_ids=list(order_ids), update_time_ge=update_time_ge,
            update_time_lt=update_time_lt)

    def cancel_order(self, shop_id: str, order_id: str, reason: str,
                     line_item_ids: Sequence[str] = ()) -> CancellationCreated:
        try:
            got: CancellationCreated = self.tiktok.shop(shop_id).returns.cancel_order(
                order_id, reason, line_item_ids=list(line_item_ids))
        except WriteOutcomeUnknown:
            raise
        except Exception as exc:
            raise _refusal(exc) from exc
        return got

    def returns(self, shop_id: str, *, return_ids: Sequence[str] = (), order_ids: Sequence[str] = (),
                update_time_ge: datetime | None = None, update_time_lt: datetime | None = None) -> Iterator[Return]:
        yield from self.tiktok.shop(shop_id).returns.search_returns(
            return_ids=list(return_ids), order_ids=list(order_ids), update_time_ge=update_time_ge,
            update_time_lt=update_time_lt)


__all__ = ["TikTokAftersaleAdapter", "TikTokShippingAdapter"]

"""The fulfillment, cancellation and returns ports over the real clients: ``tiktok.shipping``,
``tiktok.aftersale``, ``netsuite.fulfillment``."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from bridge.domain.tiktok import Cancellation, CancellationCreated, Order, Package, Return, Warehouse
from bridge.errors import WriteOutcomeUnknown
from bridge.mapping.fulfillment import Provider, split_ids
from bridge.netsuite.client import NetSuiteClient
from bridge.ports.netsuite import LineChange, NsDocument, SoLine, Written
from bridge.ports.tiktok import FbtStock, TikTokRefusal
from bridge.tiktok.wiring import TikTok

# TikTok codes that are the protocol's, not a business refusal (they stay the client's own errors).
PROTOCOL_CODES = frozenset({"105001", "105002", "106001", "36009004", "36009002", "36009003"})
PROVIDER_CACHE_SECONDS = 3600.0
SUITEQL_IN_CHUNK = 200
REFERENCE_TABLES = frozenset({"item", "location", "account", "paymentmethod"})


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
            skus = self._fbt_inventory(api, shop_id, warehouse_ids)
            if skus is not None:
                by_id = self._seller_skus(shop_id)
                for sku_id, qty in skus.items():
                    on_hand[by_id.get(sku_id, sku_id)] = on_hand.get(by_id.get(sku_id, sku_id), 0) + qty
                return FbtStock("fbt_inventory", on_hand, tuple(warehouse_ids))
        except Exception as exc:  # not offered to this app/market (501, scope): the fallback below
            note = f"Search FBT Inventory unavailable ({type(exc).__name__}); read the FBT warehouse stock instead"
        else:
            note = "Search FBT Inventory is not in the client's endpoint table; read the FBT warehouse stock instead"
        wanted = set(warehouse_ids)
        totals: dict[str, int] = {}
        products = [p.id for p in self._shop(shop_id).products.search()]
        for i in range(0, len(products), 100):
            for rec in self._shop(shop_id).products.inventory(product_ids=products[i:i + 100]):
                for sku in rec.skus:
                    for wh in sku.warehouse_inventory:
                        if wh.warehouse_id in wanted:
                            qty = int(wh.available_quantity) + int(wh.committed_quantity)
                            totals[sku.seller_sku] = totals.get(sku.seller_sku, 0) + qty
        return FbtStock("products_inventory", totals, tuple(warehouse_ids), note)

    @staticmethod
    def _fbt_inventory(api: Any, shop_id: str, warehouse_ids: Sequence[str]) -> dict[str, int] | None:
        from bridge.tiktok.endpoints import ENDPOINTS

        if "fbt.inventory.search" not in ENDPOINTS:
            return None
        out: dict[str, int] = {}
        token = ""
        while True:
            data = api.call("fbt.inventory.search", shop_id=shop_id,
                            query={"page_size": 100, **({"page_token": token} if token else {})},
                            body={"fbt_warehouse_ids": list(warehouse_ids)} if warehouse_ids else {})
            for row in data.get("inventory") or []:
                for sku in (row.get("goods") or {}).get("skus") or []:
                    detail = sku.get("on_hand_detail") or {}
                    qty = int(detail.get("total_quantity") or 0)
                    out[str(sku.get("id"))] = out.get(str(sku.get("id")), 0) + qty
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


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


def _qty(value: Any) -> int:
    d = _dec(value)
    return 0 if d is None else int(d)


class NetSuiteFulfillmentAdapter:
    def __init__(self, client: Callable[[], NetSuiteClient]) -> None:
        self._client = client  # built on first use (bridge.bootstrap)

    @property
    def client(self) -> NetSuiteClient:
        return self._client()

    def get(self, record_type: str, record_id: str) -> dict[str, Any] | None:
        rec: dict[str, Any] | None = self.client.get(record_type, record_id, expand=True)
        return rec

    def order_lines(self, record_type: str, record_id: str) -> list[SoLine]:
        rec = self.get(record_type, record_id) or {}
        item = rec.get("item") or {}
        rows = item.get("items") if isinstance(item, dict) else item
        out = []
        for ln in rows or []:
            loc = ln.get("location")
            out.append(SoLine(
                line=int(ln.get("line") or 0), item_id=str((ln.get("item") or {}).get("id") or ""),
                quantity=_qty(ln.get("quantity")), fulfilled=_qty(ln.get("quantityFulfilled")),
                closed=bool(ln.get("isClosed")), line_item_ids=split_ids(ln.get("custcol_ttns_line_item_ids")),
                rate=_dec(ln.get("rate")), amount=_dec(ln.get("amount")),
                location_id=str(loc.get("id") or "") if isinstance(loc, dict) else "",
                billed=_qty(ln.get("quantityBilled")), received=_qty(ln.get("quantityReceived"))))
        return out

    def change_order_lines(self, record_type: str, record_id: str, changes: Sequence[LineChange]) -> int:
        rows: list[dict[str, Any]] = []
        for ch in changes:
            if ch.close:
                rows.append({"line": ch.line, "isClosed": True})
            else:
                row: dict[str, Any] = {"line": ch.line, "quantity": ch.quantity,
                                       "custcol_ttns_line_item_ids": ",".join(ch.line_item_ids)}
                if ch.amount is not None:
                    row["amount"] = ch.amount
                rows.append(row)
        if rows:
            self.client.patch(record_type, record_id, {"item": {"items": rows}, "custbody_ttns_source": "TTNS"})
        return len(rows)

    def find(self, record_type: str, external_id: str) -> str | None:
        rec = self.client.get_by_external_id(record_type, external_id, fields=("id",))
        return None if rec is None else str(rec.get("id"))

    def create_document(self, doc: NsDocument) -> Written:
        found = self.find(doc.record_type, doc.external_id)
        if found:
            return Written(found, False)
        if not doc.source_type:
            body = {**doc.body, "externalId": doc.external_id}
            return Written(str(self.client.create(doc.record_type, body).id), True)
        new_id = self._transform(doc)
        append = doc.extra.get("append_lines")
        if append:  # lines with no source line (refunded shipping/tax) are added after the transform
            self.client.patch(doc.record_type, new_id, {"item": {"items": list(append)}})
        return Written(new_id, True)

    def _transform(self, doc: NsDocument) -> str:
        """``!transform`` with ``replace=item`` when only the body's lines belong on the new record."""
        replace = ("item",) if doc.replace_items else ()
        return str(self.client.transform(doc.source_type, doc.source_id, doc.record_type, doc.body,
                                         external_id=doc.external_id, replace=replace).id)

    def on_hand(self, location_ids: Sequence[str]) -> dict[str, int]:
        from bridge.adapters.orders import sql_literal

        out: dict[str, int] = {}
        if not location_ids:
            return out
        locs = ", ".join(sql_literal(x) for x in location_ids)
        q = ("SELECT i.itemid AS sku, il.quantityonhand AS qty FROM inventoryitemlocations il "  # noqa: S608
             f"JOIN item i ON i.id = il.item WHERE il.location IN ({locs})")
        for row in self.client.suiteql(q):
            sku = str(row.get("sku") or "")
            out[sku] = out.get(sku, 0) + _qty(row.get("qty"))
        return out

    def item_ids(self, itemids: Sequence[str]) -> dict[str, str]:
        from bridge.adapters.orders import sql_literal

        out: dict[str, str] = {}
        names = sorted(set(itemids))
        for i in range(0, len(names), SUITEQL_IN_CHUNK):
            chunk = ", ".join(sql_literal(n) for n in names[i:i + SUITEQL_IN_CHUNK])
            q = f"SELECT id, itemid FROM item WHERE itemid IN ({chunk})"  # noqa: S608 - values quoted
            out.update({str(r["itemid"]): str(r["id"]) for r in self.client.suiteql(q)})
        return out

    def internal_ids(self, table: str, external_ids: Sequence[str]) -> dict[str, str]:
        from bridge.adapters.orders import sql_literal

        if table not in REFERENCE_TABLES:
            raise ValueError(f"not a reference table: {table}")
        out: dict[str, str] = {}
        eids = sorted(set(external_ids))
        for i in range(0, len(eids), SUITEQL_IN_CHUNK):
            chunk = ", ".join(sql_literal(e) for e in eids[i:i + SUITEQL_IN_CHUNK])
            q = f"SELECT id, externalid FROM {table} WHERE externalid IN ({chunk})"  # noqa: S608 - closed table list
            out.update({str(r["externalid"]): str(r["id"]) for r in self.client.suiteql(q)})
        return out

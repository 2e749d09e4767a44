"""Fulfilled by TikTok inbound stock: a merchant's inbound order received into an FBT warehouse
(control API), Get Inbound Order and Search FBT Inventory Record. Normal units join the SKU's
stock at the FBT warehouse; defective ones are kept apart (never sellable)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .errors import SandboxError
from .models import FbtInventoryRecord, InboundBatch, InboundOrder
from .state import SandboxState

INBOUND_PREFIX = "IBR"


def receive_inbound(st: SandboxState, shop_id: str, warehouse_id: str, lines: Sequence[Mapping[str, Any]],
                    complete: bool = True) -> InboundOrder:
    """The warehouse receives an inbound order: each line ``{seller_sku | sku_id, normal, defective}``
    is one put-away batch; TikTok's on-hand rises by the normal units and an ``INBOUND_ORDER``
    inventory record is written per goods type. ``complete=False`` leaves it PARTIALLY_RECEIVED
    (``receive_more`` adds batches)."""
    wh = st.warehouse(warehouse_id, shop_id)
    if not wh.fbt:
        raise SandboxError(f"warehouse {wh.id} is not an FBT warehouse")
    order = InboundOrder(id=st.ids.next("inbound_order", 14), shop_id=shop_id, warehouse_id=wh.id,
                         create_time=st.now(), logs=[(st.now(), "TO_BE_RECEIVED")])
    st.inbound_orders[order.id] = order
    return receive_more(st, order.id, lines, complete)


def receive_more(st: SandboxState, inbound_order_id: str, lines: Sequence[Mapping[str, Any]],
                 complete: bool = True) -> InboundOrder:
    """More batches of an inbound order put away (RECEIVED when ``complete``)."""
    order = st.inbound_orders.get(inbound_order_id.removeprefix(INBOUND_PREFIX))
    if order is None:
        raise SandboxError(f"unknown inbound order {inbound_order_id!r}", 404, "not_found")
    if order.logs and order.logs[-1][1] == "RECEIVED":
        raise SandboxError(f"inbound order {inbound_order_id} is already RECEIVED", 409, "conflict")
    if not lines:
        raise SandboxError("an inbound receipt needs at least one line")
    shop_id, wh = order.shop_id, st.warehouses[order.warehouse_id]
    now = st.now()
    for ln in lines:
        sku = st.sku(str(ln["sku_id"])) if ln.get("sku_id") else st.sku_by_seller_sku(shop_id, str(ln["seller_sku"]))
        normal, defective = int(ln.get("normal", 0)), int(ln.get("defective", 0))
        if normal < 0 or defective < 0 or normal + defective == 0:
            raise SandboxError("inbound quantities must be non-negative and not both zero")
        order.planned[sku.id] = order.planned.get(sku.id, 0) + int(ln.get("planned", normal + defective))
        order.batches.append(InboundBatch(st.ids.next("inbound_batch", 12), sku.id, normal, defective))
        ref = INBOUND_PREFIX + order.id
        if normal:
            before = sku.inventory.get(wh.id, 0) + sku.committed.get(wh.id, 0)
            sku.inventory[wh.id] = sku.inventory.get(wh.id, 0) + normal
            sku.committed.setdefault(wh.id, 0)
            st.fbt_records.append(FbtInventoryRecord(sku.id, wh.id, ref, "INBOUND_ORDER", now, "NORMAL", before,
                                                     before + normal))
        if defective:
            key = (wh.id, sku.id)
            before = st.fbt_defective.get(key, 0)
            st.fbt_defective[key] = before + defective
            st.fbt_records.append(FbtInventoryRecord(sku.id, wh.id, ref, "INBOUND_ORDER", now, "DEFECTIVE", before,
                                                     before + defective))
    order.logs.append((now, "RECEIVED" if complete else "PARTIALLY_RECEIVED"))
    return order


def _goods(st: SandboxState, sku_id: str) -> dict[str, Any]:
    sku = st.skus[sku_id]
    return {"id": sku.id, "reference_code": sku.seller_sku, "name": st.products[sku.product_id].title}


def inbound_order_json(st: SandboxState, o: InboundOrder) -> dict[str, Any]:
    wh = st.warehouses[o.warehouse_id]
    shop = st.shops[o.shop_id]
    return {
        "id": INBOUND_PREFIX + o.id, "type": "REPLENISHMENT",
        "merchant": {"id": shop.id, "name": shop.name},
        "create_time": o.create_time, "ship_time": o.create_time, "expect_arrive_time": o.create_time,
        "actual_arrive_time": o.logs[-1][0] if o.logs else 0,
        "warehouse": {"fbt_warehouse_id": wh.id, "warehouse_ids": [wh.id], "name": wh.name,
                      "type": "PLATFORM_WAREHOUSE"},
        "planned_goods": [{**_goods(st, sid), "quantity": q, "sku_ids": [sid]} for sid, q in o.planned.items()],
        "received_batches": [{"id": b.id, "goods_id": b.sku_id, "normal_quantity": b.normal,
                              "defective_quantity": b.defective, "product_ids": [st.skus[b.sku_id].product_id],
                              "sku_ids": [b.sku_id], "total_quantity": b.normal + b.defective}
                             for b in o.batches],
        "order_operation_logs": [{"operate_time": t, "order_status": s} for t, s in o.logs],
        "carriers": [],
    }


def get_inbound_orders(st: SandboxState, shop_id: str, ids: Sequence[str]) -> list[dict[str, Any]]:
    """Get Inbound Order: the shop's orders among ``ids`` (numbers without the ``IBR`` prefix)."""
    return [inbound_order_json(st, st.inbound_orders[i]) for i in ids
            if i in st.inbound_orders and st.inbound_orders[i].shop_id == shop_id]


def search_records(st: SandboxState, shop_id: str, body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Search FBT Inventory Record, newest first, filtered as documented."""
    goods = {str(g) for g in body.get("goods_ids") or []}
    whs = {str(w) for w in body.get("fbt_warehouse_ids") or []}
    ge = int(body.get("create_time_ge") or 0)
    le = int(body.get("create_time_le") or st.now())
    rows = []
    for r in reversed(st.fbt_records):
        if st.warehouses[r.warehouse_id].shop_id != shop_id or (goods and r.sku_id not in goods):
            continue
        if (whs and r.warehouse_id not in whs) or not ge <= r.create_time <= le:
            continue
        rows.append({"goods": _goods(st, r.sku_id), "fbt_warehouse_id": r.warehouse_id,
                     "order": {"id": r.order_id, "type": r.order_type}, "create_time": r.create_time,
                     "inventory_goods_type": r.goods_type, "initial_on_hand_quantity": r.initial,
                     "final_on_hand_quantity": r.final, "changed_quantity": r.final - r.initial})
    return rows

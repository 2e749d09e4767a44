"""Cancellations TikTok → NetSuite: close what was cancelled, or say clearly why it cannot be."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bridge.domain.tiktok import Order
from bridge.errors import Evidence, NeedsHumanError
from bridge.store.repos import Link

if TYPE_CHECKING:
    from bridge.flows.orders import OrderSync


def handle_cancelled_order(svc: OrderSync, shop_id: str, order: Order, link: Link) -> dict[str, Any]:
    """A whole order cancelled on TikTok after its sales order exists: close the sales order if
    nothing shipped; if something did, a person must stop or recover the shipment."""
    assert link.netsuite_id is not None
    if link.status == "cancelled":
        return {"action": "unchanged", "netsuite_id": link.netsuite_id}
    fulfilled = svc.netsuite.fulfilled_quantities(link.netsuite_type or "salesOrder", link.netsuite_id)
    shipped = {ids: q for ids, q in fulfilled.items() if q > 0}
    if shipped:
        raise NeedsHumanError(
            f"TikTok order {order.id} was cancelled after NetSuite fulfilled part of it",
            code="CANCELLED_TOO_LATE",
            owner="ops",
            fix_hint="Intercept or recall the shipment with the carrier; if it cannot be stopped, handle it as a "
            "return when it comes back. Resolve this exception once dealt with.",
            evidence=Evidence.of("netsuite", "cancelled order", details={
                "sales_order": link.netsuite_id, "fulfilled_lines": shipped, "cancel_reason": order.cancel_reason}),
            entity=f"order:{shop_id}:{order.id}",
        )
    closed = svc.netsuite.close_order_lines(link.netsuite_type or "salesOrder", link.netsuite_id, None)
    svc.store.links.upsert(Link(link.kind, link.shop_id, link.tiktok_id, link.netsuite_id, link.netsuite_type,
                                link.external_id, link.content_hash, "cancelled",
                                {**link.data, "tiktok_status": order.status, "cancel_reason": order.cancel_reason},
                                svc.clock.now()))
    svc.store.audit.record("worker", "order.cancelled", entity=f"order:{shop_id}:{order.id}",
                           detail={"sales_order": link.netsuite_id, "lines_closed": closed})
    return {"action": "closed", "netsuite_id": link.netsuite_id, "lines_closed": closed}

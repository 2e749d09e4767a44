"""The business summary of a TikTok order that the console shows (pure: no I/O, no clock).

The orders flow keeps it in the order link's ``data["summary"]`` at every sync, so the order page
shows what the merchant sees in TikTok Shop Seller Center — lines with SKU, quantity, prices,
discounts and tax, the totals with their currency, packages with carrier and tracking, and the
cancellation — without calling TikTok when a person opens the page. Amounts are decimal strings
(exact, JSON-safe); times are ISO 8601 in UTC.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from bridge.domain.tiktok import LineItem, Order

ZERO = Decimal(0)


def _money(value: Decimal) -> str:
    return str(value)


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _line_key(li: LineItem) -> tuple[str, str, Decimal, Decimal]:
    return (li.sku_id or li.seller_sku, li.seller_sku, li.original_price, li.sale_price)


def order_summary(order: Order) -> dict[str, Any]:
    """Lines (one per SKU and price; TikTok sends one line item per unit), totals, packages and the
    cancellation of ``order``."""
    groups: dict[tuple[str, str, Decimal, Decimal], list[LineItem]] = {}
    for li in order.line_items:
        groups.setdefault(_line_key(li), []).append(li)
    lines = []
    for (_, sku, original, sale), items in groups.items():
        live = [li for li in items if not li.cancelled]
        first = items[0]
        lines.append({
            "sku": sku,
            "name": first.product_name,
            "variant": first.sku_name,
            "quantity": len(live),
            "cancelled": len(items) - len(live),
            "unit_price": _money(original),
            "sale_price": _money(sale),
            "seller_discount": _money(sum((li.seller_discount for li in live), ZERO)),
            "platform_discount": _money(sum((li.platform_discount for li in live), ZERO)),
            "tax": _money(sum((li.tax for li in live), ZERO)),
            "amount": _money(sum((li.sale_price for li in live), ZERO)),
        })
    packages: dict[str, dict[str, Any]] = {}
    for li in order.line_items:
        if not (li.package_id or li.tracking_number):
            continue
        key = li.package_id or li.tracking_number
        pkg = packages.setdefault(key, {"package_id": li.package_id, "carrier": li.shipping_provider_name,
                                        "tracking_number": li.tracking_number, "status": li.package_status,
                                        "skus": []})
        if li.seller_sku and li.seller_sku not in pkg["skus"]:
            pkg["skus"].append(li.seller_sku)
    if not packages and order.tracking_number:
        packages[order.tracking_number] = {"package_id": "", "carrier": order.shipping_provider,
                                          "tracking_number": order.tracking_number, "status": "", "skus": []}
    p = order.payment
    cancelled_lines = [{"sku": li.seller_sku, "reason": li.cancel_reason, "by": li.cancel_user}
                       for li in order.line_items if li.cancelled]
    cancellation = None
    if order.status == "CANCELLED" or order.cancel_reason or cancelled_lines:
        cancellation = {"reason": order.cancel_reason, "by": order.cancellation_initiator,
                        "at": _time(order.cancel_time), "whole_order": order.status == "CANCELLED",
                        "lines": cancelled_lines}
    return {
        "status": order.status,
        "currency": order.currency,
        "created_at": _time(order.create_time),
        "paid_at": _time(order.paid_time),
        "delivered_at": _time(order.delivery_time),
        "fulfillment": "Fulfilled by TikTok" if order.fulfilled_by_tiktok else "Shipped by the seller",
        "delivery_option": order.delivery_option_name,
        "lines": lines,
        "totals": {
            "subtotal": _money(p.original_total_product_price or p.sub_total),
            "seller_discount": _money(p.seller_discount),
            "platform_discount": _money(p.platform_discount),
            "shipping": _money(p.shipping_fee),
            "tax": _money(p.tax),
            "total": _money(p.total_amount),
        },
        "packages": list(packages.values()),
        "cancellation": cancellation,
    }


__all__ = ["order_summary"]

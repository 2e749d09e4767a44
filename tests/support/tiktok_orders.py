"""Build real-shaped TikTok order payloads (202507 detail) whose amounts obey TikTok's identities:
sub_total = original − seller discount − platform discount; shipping_fee = original shipping −
seller − platform shipping discounts; total = sub_total + shipping + tax + retail delivery fee."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

D = Decimal


def unit(line_id: str, sku: str, price: str, *, seller: str = "0", platform: str = "0", tax: str = "0",
         name: str = "Product", status: str = "AWAITING_SHIPMENT", currency: str = "USD") -> dict[str, Any]:
    sale = D(price) - D(seller) - D(platform)
    li: dict[str, Any] = {
        "id": line_id, "sku_id": f"sku-{sku}", "product_id": f"p-{sku}", "product_name": name, "sku_name": sku,
        "seller_sku": sku, "original_price": price, "sale_price": str(sale), "seller_discount": seller,
        "platform_discount": platform, "currency": currency, "display_status": status,
        "item_tax": [{"tax_type": "SALES_TAX", "tax_amount": tax, "tax_rate": "0.0825"}] if D(tax) else [],
    }
    return li


def order(order_id: str, units: list[dict[str, Any]], *, status: str = "AWAITING_SHIPMENT", currency: str = "USD",
          shipping: str = "0", ship_seller: str = "0", ship_platform: str = "0", ship_tax: str = "0",
          rdf: str = "0", user_id: str = "7021436810468230477", **extra: Any) -> dict[str, Any]:
    original = sum((D(u["original_price"]) for u in units), D(0))
    seller = sum((D(u["seller_discount"]) for u in units), D(0))
    platform = sum((D(u["platform_discount"]) for u in units), D(0))
    product_tax = sum((D(t["tax_amount"]) for u in units for t in u["item_tax"]), D(0))
    sub_total = original - seller - platform
    ship_fee = D(shipping) - D(ship_seller) - D(ship_platform)
    tax = product_tax + D(ship_tax)
    total = sub_total + ship_fee + tax + D(rdf)
    payload: dict[str, Any] = {
        "id": order_id, "status": status, "user_id": user_id, "buyer_message": "please gift wrap",
        "create_time": 1760000000, "paid_time": 1760000100, "update_time": 1760000200,
        "fulfillment_type": "FULFILLMENT_BY_SELLER", "order_type": "NORMAL", "warehouse_id": "WH1",
        "delivery_option_id": "D1", "delivery_option_name": "Standard shipping", "shipping_type": "SELLER",
        "payment_method_name": "CCDC",
        "payment": {
            "currency": currency, "sub_total": str(sub_total), "shipping_fee": str(ship_fee),
            "seller_discount": str(seller), "platform_discount": str(platform), "total_amount": str(total),
            "original_total_product_price": str(original), "original_shipping_fee": shipping,
            "shipping_fee_seller_discount": ship_seller, "shipping_fee_platform_discount": ship_platform,
            "tax": str(tax), "product_tax": str(product_tax), "shipping_fee_tax": ship_tax,
            "retail_delivery_fee": rdf,
        },
        "recipient_address": {
            "name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace", "phone_number": "(+1)213-***-1234",
            "address_line1": "1199 Coleman Ave", "address_line2": "Suite 100", "postal_code": "95110",
            "region_code": "US", "full_address": "1199 Coleman Ave, San Jose, CA 95110",
            "district_info": [
                {"address_level_name": "Country", "address_name": "United States", "address_level": "L0"},
                {"address_level_name": "State", "address_name": "California", "address_level": "L1"},
                {"address_level_name": "City", "address_name": "San Jose", "address_level": "L3"},
            ],
        },
        "line_items": units,
        "packages": [{"id": f"pkg-{order_id}"}],
    }
    payload.update(extra)
    return payload

"""TikTok Shop payloads the flows read, as typed models (order detail 202507 and friends).

Money arrives as decimal strings and becomes ``Decimal`` (an empty string or a missing field is
zero); ids stay strings; Unix seconds become aware UTC datetimes. Unknown fields are kept (TikTok
adds fields without notice) but never relied on.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field


def _money(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal("0")
    if isinstance(value, float | bool):
        raise ValueError("money must be a decimal string, not a float")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal amount: {value!r}") from exc


def _ts(value: Any) -> datetime | None:
    if value in (None, "", 0):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromtimestamp(int(value), UTC)


def _id(value: Any) -> str:
    if isinstance(value, float):
        raise ValueError("ids must be strings, never floats")
    return "" if value is None else str(value)


Money = Annotated[Decimal, BeforeValidator(_money)]
Timestamp = Annotated[datetime | None, BeforeValidator(_ts)]
Id = Annotated[str, BeforeValidator(_id)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class ItemTax(_Model):
    tax_type: str = ""
    tax_amount: Money = Decimal("0")
    tax_rate: str = ""


class LineItem(_Model):
    """One unit of one SKU: TikTok line items carry no quantity."""

    id: Id
    sku_id: Id = ""
    product_id: Id = ""
    product_name: str = ""
    sku_name: str = ""
    seller_sku: str = ""
    original_price: Money = Decimal("0")
    sale_price: Money = Decimal("0")
    seller_discount: Money = Decimal("0")
    platform_discount: Money = Decimal("0")
    currency: str = ""
    display_status: str = ""
    package_id: Id = ""
    package_status: str = ""
    tracking_number: str = ""
    shipping_provider_id: Id = ""
    shipping_provider_name: str = ""
    cancel_user: str = ""
    cancel_reason: str = ""
    is_gift: bool = False
    sku_type: str = ""
    item_tax: list[ItemTax] = Field(default_factory=list)
    retail_delivery_fee: Money = Decimal("0")

    @property
    def tax(self) -> Decimal:
        return sum((t.tax_amount for t in self.item_tax), Decimal("0"))

    @property
    def cancelled(self) -> bool:
        return self.display_status == "CANCELLED"


class Payment(_Model):
    currency: str = ""
    sub_total: Money = Decimal("0")
    shipping_fee: Money = Decimal("0")
    seller_discount: Money = Decimal("0")
    platform_discount: Money = Decimal("0")
    total_amount: Money = Decimal("0")
    original_total_product_price: Money = Decimal("0")
    original_shipping_fee: Money = Decimal("0")
    shipping_fee_seller_discount: Money = Decimal("0")
    shipping_fee_platform_discount: Money = Decimal("0")
    shipping_fee_cofunded_discount: Money = Decimal("0")
    tax: Money = Decimal("0")
    product_tax: Money = Decimal("0")
    shipping_fee_tax: Money = Decimal("0")
    retail_delivery_fee: Money = Decimal("0")
    small_order_fee: Money = Decimal("0")
    buyer_service_fee: Money = Decimal("0")
    handling_fee: Money = Decimal("0")
    shipping_insurance_fee: Money = Decimal("0")
    item_insurance_fee: Money = Decimal("0")
    item_insurance_tax: Money = Decimal("0")


class DistrictInfo(_Model):
    address_level_name: str = ""
    address_name: str = ""
    address_level: str = ""


class Address(_Model):
    full_address: str = ""
    phone_number: str = ""
    name: str = ""
    first_name: str = ""
    last_name: str = ""
    region_code: str = ""
    postal_code: str = ""
    post_town: str = ""
    address_line1: str = ""
    address_line2: str = ""
    address_line3: str = ""
    address_line4: str = ""
    address_detail: str = ""
    district_info: list[DistrictInfo] = Field(default_factory=list)

    def level(self, *names: str) -> str:
        """The district entry whose level name is one of ``names`` (e.g. 'State', 'City')."""
        wanted = {n.lower() for n in names}
        for d in self.district_info:
            if d.address_level_name.lower() in wanted:
                return d.address_name
        return ""


class PackageRef(_Model):
    id: Id


ORDER_STATUSES = (
    "UNPAID",
    "ON_HOLD",
    "AWAITING_SHIPMENT",
    "PARTIALLY_SHIPPING",
    "AWAITING_COLLECTION",
    "IN_TRANSIT",
    "DELIVERED",
    "COMPLETED",
    "CANCELLED",
)


class Order(_Model):
    """An order as Get Order Detail (202507) returns it."""

    id: Id
    status: str
    user_id: Id = ""
    buyer_email: str = ""
    buyer_message: str = ""
    seller_note: str = ""
    create_time: Timestamp = None
    update_time: Timestamp = None
    paid_time: Timestamp = None
    rts_sla_time: Timestamp = None
    tts_sla_time: Timestamp = None
    shipping_due_time: Timestamp = None
    cancel_time: Timestamp = None
    release_date: Timestamp = None
    payment: Payment = Field(default_factory=Payment)
    recipient_address: Address = Field(default_factory=Address)
    line_items: list[LineItem] = Field(default_factory=list)
    packages: list[PackageRef] = Field(default_factory=list)
    fulfillment_type: str = ""
    shipping_type: str = ""
    delivery_type: str = ""
    delivery_option_id: Id = ""
    delivery_option_name: str = ""
    shipping_provider_id: Id = ""
    shipping_provider: str = ""
    warehouse_id: Id = ""
    order_type: str = ""
    is_on_hold_order: bool = False
    is_sample_order: bool = False
    is_cod: bool = False
    is_replacement_order: bool = False
    is_exchange_order: bool = False
    payment_method_name: str = ""
    payment_method_code: str = ""
    commerce_platform: str = ""
    cancel_reason: str = ""
    cancellation_initiator: str = ""
    tracking_number: str = ""

    @property
    def is_fbt(self) -> bool:
        return self.fulfillment_type == "FULFILLMENT_BY_TIKTOK"

    @property
    def currency(self) -> str:
        return self.payment.currency or next((li.currency for li in self.line_items if li.currency), "")

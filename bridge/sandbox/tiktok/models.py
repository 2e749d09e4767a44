"""In-memory records of the sandbox. Money is ``Decimal``; ids are strings; times are Unix seconds
of the business clock (that is what the API prints)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .money import ZERO


@dataclass
class App:
    app_key: str
    app_secret: str
    service_id: str
    redirect_uri: str
    name: str = "Sandbox app"
    webhook_url: str | None = None  # the Partner Center default address (all topics)
    qps: float | None = None


@dataclass
class Seller:
    open_id: str
    name: str
    base_region: str
    shop_ids: list[str] = field(default_factory=list)


@dataclass
class Shop:
    id: str
    name: str
    region: str
    cipher: str
    code: str
    seller_open_id: str
    currency: str
    seller_type: str = "LOCAL"


@dataclass
class AuthCode:
    code: str
    app_key: str
    open_id: str
    expires_at: float
    used: bool = False


@dataclass
class Token:
    access_token: str
    refresh_token: str
    app_key: str
    open_id: str
    access_expires_at: int
    refresh_expires_at: int
    revoked: bool = False
    granted_scopes: list[str] = field(default_factory=list)


@dataclass
class Provider:
    id: str
    name: str
    tracking_pattern: str


@dataclass
class DeliveryOption:
    id: str
    warehouse_id: str
    name: str
    type: str
    provider_ids: list[str]


@dataclass
class Warehouse:
    id: str
    shop_id: str
    name: str
    type: str  # SALES_WAREHOUSE | RETURN_WAREHOUSE
    sub_type: str
    is_default: bool
    fbt: bool
    address: dict[str, str]
    effect_status: str = "ENABLED"


@dataclass
class Sku:
    id: str
    product_id: str
    seller_sku: str
    price: Decimal
    currency: str
    sales_attributes: list[dict[str, Any]] = field(default_factory=list)
    inventory: dict[str, int] = field(default_factory=dict)  # warehouse id -> available quantity
    committed: dict[str, int] = field(default_factory=dict)  # warehouse id -> units in open orders
    list_price: Decimal | None = None
    promotion_locked: bool = False
    external_sku_id: str = ""


@dataclass
class Product:
    id: str
    shop_id: str
    title: str
    description: str
    category_id: str
    status: str
    create_time: int
    update_time: int
    skus: list[Sku]
    brand_id: str = ""
    main_images: list[dict[str, Any]] = field(default_factory=list)
    package_weight: dict[str, str] = field(default_factory=lambda: {"unit": "POUND", "value": "1"})
    package_dimensions: dict[str, str] | None = None
    product_attributes: list[dict[str, Any]] = field(default_factory=list)
    external_product_id: str = ""
    audit_status: str = "APPROVED"
    audit_failed_reasons: list[dict[str, Any]] = field(default_factory=list)
    review_due: float | None = None  # business-clock seconds when a PENDING review is decided
    reviewed_before: bool = True  # False until the first review passed (PRODUCT_FIRST_PASS_REVIEW)


@dataclass
class LineItem:
    id: str
    sku_id: str
    product_id: str
    seller_sku: str
    product_name: str
    sku_name: str
    currency: str
    original_price: Decimal
    seller_discount: Decimal
    platform_discount: Decimal
    tax: Decimal
    tax_rate: Decimal
    package_id: str = ""
    cancelled: bool = False
    cancel_user: str = ""
    cancel_reason: str = ""
    shipped: bool = False
    rts_time: int = 0
    tracking_number: str = ""
    provider_id: str = ""
    provider_name: str = ""
    refunded: bool = False
    fees: dict[str, Decimal] = field(default_factory=dict)  # this unit's share of LINE_FEES
    vat_rate: Decimal = Decimal("0")  # VAT-inclusive markets: the rate included in sale_price
    vat: Decimal = Decimal("0")  # the VAT included in sale_price (Get Price Detail's subtotal_tax_amount)
    pfand_fee: Decimal = Decimal("0")  # Germany only: the unit's bottle/can deposit, charged on top of sale_price

    @property
    def sale_price(self) -> Decimal:
        return self.original_price - self.seller_discount - self.platform_discount


@dataclass
class Order:
    id: str
    shop_id: str
    user_id: str
    status: str
    currency: str
    warehouse_id: str
    delivery_option_id: str
    delivery_option_name: str
    shipping_type: str  # TIKTOK | SELLER
    fulfillment_type: str  # FULFILLMENT_BY_SELLER | FULFILLMENT_BY_TIKTOK
    order_type: str
    create_time: int
    update_time: int
    line_items: list[LineItem]
    original_shipping_fee: Decimal
    shipping_fee_seller_discount: Decimal
    shipping_fee_platform_discount: Decimal
    shipping_fee_tax: Decimal
    address: dict[str, Any]
    buyer_email: str
    buyer_message: str = ""
    paid_time: int = 0
    hold_until: float = 0.0
    is_on_hold_order: bool = False
    rts_time: int = 0
    collection_time: int = 0
    delivery_time: int = 0
    completed_time: int = 0
    cancel_time: int = 0
    cancel_reason: str = ""
    cancellation_initiator: str = ""
    is_buyer_request_cancel: bool = False
    request_cancel_time: int = 0
    has_updated_recipient_address: bool = False
    package_ids: list[str] = field(default_factory=list)
    stock_reserved: bool = True
    settled: bool = False
    seller_note: str = ""
    buyer_fees: dict[str, Decimal] = field(default_factory=dict)  # BUYER_FEES the buyer paid (order level)
    shipping_vat: Decimal = Decimal("0")  # VAT-inclusive markets: the VAT included in the shipping fee paid
    affiliate_rate: Decimal = Decimal("0")  # a creator's commission on net sales (finance: affiliate_commission_amount)

    @property
    def active_items(self) -> list[LineItem]:
        return [li for li in self.line_items if not li.cancelled]


@dataclass
class Package:
    id: str
    shop_id: str
    order_id: str
    line_item_ids: list[str]
    status: str  # TO_FULFILL | PROCESSING | FULFILLING | COMPLETED | CANCELLED
    shipping_type: str
    create_time: int
    update_time: int
    tracking_number: str = ""
    provider_id: str = ""
    provider_name: str = ""
    handover_method: str = ""
    fbt: bool = False
    shipped_by: str = ""  # seller | tiktok
    tracking_updates: int = 0


@dataclass
class Cancellation:
    id: str
    shop_id: str
    order_id: str
    role: str  # BUYER | SELLER | SYSTEM
    cancel_type: str  # BUYER_CANCEL | CANCEL
    status: str
    reason: str
    line_item_ids: list[str]
    create_time: int
    update_time: int
    reject_reason: str = ""


@dataclass
class ReturnRecord:
    id: str
    shop_id: str
    order_id: str
    role: str
    return_type: str  # REFUND | RETURN_AND_REFUND | REPLACEMENT
    status: str
    reason: str
    line_item_ids: list[str]
    create_time: int
    update_time: int
    refund_shipping: bool = False
    reject_reason: str = ""
    return_tracking_number: str = ""
    refunded: bool = False
    finance_settled: bool = False


@dataclass
class Adjustment:
    id: str
    shop_id: str
    type: str
    amount: Decimal
    order_id: str = ""
    create_time: int = 0
    settled_in: str = ""


@dataclass
class Transaction:
    """One statement transaction (202501 shape) plus, for orders, its per-SKU breakdown."""

    id: str
    type: str
    statement_id: str
    order_id: str = ""
    order_create_time: int = 0
    adjustment_id: str = ""
    adjustment_order_id: str = ""
    amounts: dict[str, Any] = field(default_factory=dict)  # the serialised money tree (Decimal leaves)
    sku_lines: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Statement:
    id: str
    shop_id: str
    statement_time: int
    currency: str
    transaction_ids: list[str]
    payment_id: str = ""
    revision: int = 1
    reserve_amount: Decimal = ZERO


@dataclass
class Payment:
    id: str
    shop_id: str
    create_time: int
    currency: str
    statement_ids: list[str]
    status: str = "PAID"
    paid_time: int = 0
    reserve_amount: Decimal = ZERO


@dataclass
class Withdrawal:
    id: str
    shop_id: str
    type: str
    amount: Decimal
    currency: str
    status: str
    create_time: int


@dataclass
class InboundBatch:
    """One put-away batch of an FBT inbound order (one goods item, normal and defective units)."""

    id: str
    sku_id: str
    normal: int
    defective: int


@dataclass
class InboundOrder:
    """A merchant's replenishment shipment into an FBT warehouse (Get Inbound Order). ``id`` is the
    number TikTok's query takes; the documents show it with the ``IBR`` prefix."""

    id: str
    shop_id: str
    warehouse_id: str
    create_time: int
    planned: dict[str, int] = field(default_factory=dict)  # sku id -> planned units
    batches: list[InboundBatch] = field(default_factory=list)
    logs: list[tuple[int, str]] = field(default_factory=list)  # (operate_time, order_status)


@dataclass
class FbtInventoryRecord:
    """One FBT inventory change (Search FBT Inventory Record), naming the order that caused it."""

    sku_id: str
    warehouse_id: str
    order_id: str
    order_type: str
    create_time: int
    goods_type: str  # NORMAL | DEFECTIVE
    initial: int
    final: int

"""Typed views of the TikTok Shop payloads the flows read (pydantic v2): the domain models the
client returns and the mapping consumes (``bridge.tiktok.models`` re-exports them).

Conventions, for every model here:
- money is ``Decimal`` parsed from TikTok's decimal strings (an absent or empty amount reads as
  ``0``; a JSON float is refused — the client parses numbers as ``Decimal`` so none arrive);
- ids are ``str`` (a numeric id is turned into its digits, never a float);
- times are aware UTC ``datetime`` from Unix seconds (``0`` or absent → ``None``);
- unknown fields are kept (``model_extra``) and never an error, so a new TikTok field does not
  break a flow.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

ZERO = Decimal("0")


def parse_money(value: Any) -> Decimal:
    if value is None or value == "":
        return ZERO
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError("a boolean is not an amount")
    if isinstance(value, float):
        raise ValueError("amounts must arrive as decimal strings, not floats")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            out = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a decimal amount: {value[:40]!r}") from None
        if not out.is_finite():
            raise ValueError("amounts must be finite")
        return out
    raise ValueError(f"not an amount: {type(value).__name__}")


def parse_time(value: Any) -> datetime | None:
    if value is None or value in ("", 0, "0"):
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)
    if isinstance(value, bool):
        raise ValueError("a boolean is not a time")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int | Decimal):
        seconds = int(value)
        if seconds > 10**11:  # milliseconds, seen on a few TikTok fields
            seconds //= 1000
        return datetime.fromtimestamp(seconds, UTC)
    raise ValueError(f"not a Unix timestamp: {value!r}")


def parse_id(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | float):
        raise ValueError("ids must be strings")
    if isinstance(value, int | str):
        return str(value)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return str(int(value))
    raise ValueError(f"not an id: {type(value).__name__}")


def parse_int(value: Any) -> int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str | Decimal):
        return int(Decimal(str(value).strip()))
    raise ValueError(f"not an integer: {type(value).__name__}")


def _money_map(value: Any, prefix: str = "") -> dict[str, Decimal]:
    """A breakdown object as ``{field: Decimal}``; nested objects flatten to ``outer.inner``."""
    out: dict[str, Decimal] = {}
    if not value:
        return out
    if not isinstance(value, dict):
        raise ValueError("breakdown is not an object")
    for key, v in value.items():
        if isinstance(v, dict):
            out.update(_money_map(v, f"{prefix}{key}."))
        elif isinstance(v, str | int | Decimal) and not isinstance(v, bool):
            out[f"{prefix}{key}"] = parse_money(v)
    return out


Money = Annotated[Decimal, BeforeValidator(parse_money)]
Time = Annotated[datetime | None, BeforeValidator(parse_time)]
Id = Annotated[str, BeforeValidator(parse_id)]
Int = Annotated[int, BeforeValidator(parse_int)]
MoneyMap = Annotated[dict[str, Decimal], BeforeValidator(_money_map)]


class TTModel(BaseModel):
    """Base of every TikTok payload model: tolerant of fields TikTok adds later."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Amount(TTModel):
    amount: Money = ZERO
    currency: str = ""


class ValueAmount(TTModel):
    value: Money = ZERO
    currency: str = ""


# --------------------------------------------------------------------------- authorization
class TokenGrant(TTModel):
    """``/api/v2/token/get`` and ``/token/refresh``: expiry fields are absolute Unix times."""

    access_token: str
    refresh_token: str
    access_token_expire_in: Time = None
    refresh_token_expire_in: Time = None
    open_id: str = ""
    seller_name: str = ""
    seller_base_region: str = ""
    user_type: Int = 0
    granted_scopes: list[str] = Field(default_factory=list)

    def __repr__(self) -> str:  # never show the tokens
        return f"TokenGrant(open_id={self.open_id!r}, seller_name={self.seller_name!r})"

    def __str__(self) -> str:
        return self.__repr__()


class AuthorizedShop(TTModel):
    id: Id
    name: str = ""
    region: str = ""
    cipher: str = ""
    code: str = ""
    seller_type: str = ""


class WebhookSubscription(TTModel):
    event_type: str
    address: str = ""
    create_time: Time = None
    update_time: Time = None


# --------------------------------------------------------------------------- orders
class ItemTax(TTModel):
    tax_type: str = ""
    tax_amount: Money = ZERO
    tax_rate: str = ""  # kept as sent ("0.0725"); ``rate`` is the number

    @property
    def rate(self) -> Decimal:
        return parse_money(self.tax_rate)


class CombinedListingSku(TTModel):
    sku_id: Id = ""
    product_id: Id = ""
    seller_sku: str = ""
    sku_count: Int = 0


class LineItem(TTModel):
    """One unit of one SKU (TikTok line items carry no quantity)."""

    id: Id
    sku_id: Id = ""
    product_id: Id = ""
    product_name: str = ""
    sku_name: str = ""
    seller_sku: str = ""
    sku_image: str = ""
    sku_type: str = ""
    currency: str = ""
    original_price: Money = ZERO
    sale_price: Money = ZERO
    seller_discount: Money = ZERO
    platform_discount: Money = ZERO
    small_order_fee: Money = ZERO
    retail_delivery_fee: Money = ZERO
    buyer_service_fee: Money = ZERO
    pfand_fee: Money = ZERO  # German deposit on bottles and cans (Get Order Detail: Germany only)
    gift_retail_price: Money = ZERO
    item_tax: list[ItemTax] = Field(default_factory=list)
    display_status: str = ""
    package_id: Id = ""
    package_status: str = ""
    tracking_number: str = ""
    shipping_provider_id: Id = ""
    shipping_provider_name: str = ""
    rts_time: Time = None
    cancel_reason: str = ""
    cancel_user: str = ""
    is_gift: bool = False
    is_dangerous_good: bool = False
    combined_listing_skus: list[CombinedListingSku] = Field(default_factory=list)

    @property
    def tax(self) -> Decimal:
        return sum((t.tax_amount for t in self.item_tax), ZERO)

    @property
    def cancelled(self) -> bool:
        return self.display_status == "CANCELLED"


class OrderPayment(TTModel):
    currency: str = ""
    sub_total: Money = ZERO
    shipping_fee: Money = ZERO
    seller_discount: Money = ZERO
    platform_discount: Money = ZERO
    total_amount: Money = ZERO
    original_total_product_price: Money = ZERO
    original_shipping_fee: Money = ZERO
    shipping_fee_seller_discount: Money = ZERO
    shipping_fee_platform_discount: Money = ZERO
    shipping_fee_cofunded_discount: Money = ZERO
    tax: Money = ZERO
    product_tax: Money = ZERO
    shipping_fee_tax: Money = ZERO
    small_order_fee: Money = ZERO
    retail_delivery_fee: Money = ZERO
    buyer_service_fee: Money = ZERO
    handling_fee: Money = ZERO
    shipping_insurance_fee: Money = ZERO
    item_insurance_fee: Money = ZERO
    item_insurance_tax: Money = ZERO


class DistrictInfo(TTModel):
    address_level: str = ""
    address_level_name: str = ""
    address_name: str = ""


class RecipientAddress(TTModel):
    name: str = ""
    first_name: str = ""
    last_name: str = ""
    first_name_local_script: str = ""
    last_name_local_script: str = ""
    phone_number: str = ""
    full_address: str = ""
    address_detail: str = ""
    address_line1: str = ""
    address_line2: str = ""
    address_line3: str = ""
    address_line4: str = ""
    postal_code: str = ""
    post_town: str = ""
    region_code: str = ""
    district_info: list[DistrictInfo] = Field(default_factory=list)
    delivery_preferences: dict[str, Any] = Field(default_factory=dict)

    def district(self, *level_names: str) -> str:
        """The first of the named levels (``Country``, ``State``, ``County``, ``City`` …) present,
        case-insensitive."""
        for wanted in (n.lower() for n in level_names):
            for d in self.district_info:
                if d.address_level_name.lower() == wanted:
                    return d.address_name
        return ""


class PackageRef(TTModel):
    id: Id


class Order(TTModel):
    """Get Order Detail (202507) — also the shape of each order in Order Search."""

    id: Id
    status: str = ""
    order_type: str = ""
    fulfillment_type: str = ""
    is_on_hold_order: bool = False
    create_time: Time = None
    update_time: Time = None
    paid_time: Time = None
    rts_time: Time = None
    rts_sla_time: Time = None
    tts_sla_time: Time = None
    shipping_due_time: Time = None
    delivery_time: Time = None
    cancel_time: Time = None
    collection_time: Time = None
    user_id: Id = ""
    buyer_email: str = ""
    buyer_message: str = ""
    seller_note: str = ""
    payment: OrderPayment = Field(default_factory=OrderPayment)
    payment_method_name: str = ""
    recipient_address: RecipientAddress = Field(default_factory=RecipientAddress)
    line_items: list[LineItem] = Field(default_factory=list)
    packages: list[PackageRef] = Field(default_factory=list)
    warehouse_id: Id = ""
    delivery_option_id: Id = ""
    delivery_option_name: str = ""
    delivery_type: str = ""
    shipping_type: str = ""
    shipping_provider: str = ""
    shipping_provider_id: Id = ""
    tracking_number: str = ""
    cancel_reason: str = ""
    cancellation_initiator: str = ""
    is_buyer_request_cancel: bool = False
    is_cod: bool = False
    is_sample_order: bool = False
    is_replacement_order: bool = False
    is_exchange_order: bool = False
    replaced_order_id: Id = ""
    exchange_source_order_id: Id = ""
    split_or_combine_tag: str = ""
    has_updated_recipient_address: bool = False
    commerce_platform: str = ""
    payment_method_code: str = ""
    release_date: Time = None

    @property
    def currency(self) -> str:
        return self.payment.currency or next((li.currency for li in self.line_items if li.currency), "")

    @property
    def on_hold(self) -> bool:
        """ON_HOLD orders hide the address and cannot be fulfilled yet."""
        return self.status == "ON_HOLD"

    @property
    def fulfilled_by_tiktok(self) -> bool:
        return self.fulfillment_type == "FULFILLMENT_BY_TIKTOK"

    @property
    def is_fbt(self) -> bool:
        return self.fulfilled_by_tiktok

    def lines_by_sku(self) -> dict[str, list[LineItem]]:
        """Line items grouped by SKU id (quantity = number of line items), in first-seen order."""
        out: dict[str, list[LineItem]] = defaultdict(list)
        for li in self.line_items:
            out[li.sku_id].append(li)
        return dict(out)


class PriceDetailLine(TTModel):
    id: Id = ""
    currency: str = ""
    sku_list_price: Money = ZERO
    sku_sale_price: Money = ZERO
    subtotal: Money = ZERO
    subtotal_deduction_platform: Money = ZERO
    subtotal_deduction_seller: Money = ZERO
    subtotal_tax_amount: Money = ZERO
    shipping_list_price: Money = ZERO
    shipping_sale_price: Money = ZERO
    tax_amount: Money = ZERO
    tax_rate: Money = ZERO
    total: Money = ZERO
    net_price_amount: Money = ZERO
    payment: Money = ZERO
    voucher_deduction_platform: Money = ZERO
    voucher_deduction_seller: Money = ZERO


class PriceDetail(PriceDetailLine):
    line_items: list[PriceDetailLine] = Field(default_factory=list)


# --------------------------------------------------------------------------- products & inventory
class SkuPrice(TTModel):
    currency: str = ""
    sale_price: Money = ZERO
    tax_exclusive_price: Money = ZERO
    amount: Money = ZERO  # some responses name the price ``amount``


class SkuInventory(TTModel):
    warehouse_id: Id = ""
    quantity: Int = 0


class Sku(TTModel):
    id: Id
    seller_sku: str = ""
    external_sku_id: str = ""
    price: SkuPrice = Field(default_factory=SkuPrice)
    list_price: Amount | None = None
    inventory: list[SkuInventory] = Field(default_factory=list)
    sales_attributes: list[dict[str, Any]] = Field(default_factory=list)
    status_info: dict[str, Any] = Field(default_factory=dict)


class Product(TTModel):
    """A product from Get Product or a row of Product Search (fewer fields are filled)."""

    id: Id
    title: str = ""
    status: str = ""
    description: str = ""
    create_time: Time = None
    update_time: Time = None
    skus: list[Sku] = Field(default_factory=list)
    audit: dict[str, Any] = Field(default_factory=dict)
    audit_failed_reasons: list[dict[str, Any]] = Field(default_factory=list)
    category_chains: list[dict[str, Any]] = Field(default_factory=list)
    brand: dict[str, Any] = Field(default_factory=dict)
    external_product_id: str = ""


class ProductCreated(TTModel):
    product_id: Id
    skus: list[Sku] = Field(default_factory=list)
    warnings: list[dict[str, Any]] = Field(default_factory=list)


class WarehouseInventory(TTModel):
    warehouse_id: Id = ""
    available_quantity: Int = 0
    committed_quantity: Int = 0


class InventorySku(TTModel):
    id: Id
    seller_sku: str = ""
    total_available_quantity: Int = 0
    total_committed_quantity: Int = 0
    warehouse_inventory: list[WarehouseInventory] = Field(default_factory=list)


class InventoryRecord(TTModel):
    product_id: Id
    skus: list[InventorySku] = Field(default_factory=list)


class ItemError(TTModel):
    code: Int = 0
    message: str = ""
    detail: dict[str, Any] = Field(default_factory=dict)


class BatchResult(TTModel):
    """Writes that answer ``code 0`` with per-item ``errors`` (inventory update, activate …)."""

    errors: list[ItemError] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class Category(TTModel):
    id: Id
    parent_id: Id = ""
    local_name: str = ""
    is_leaf: bool = False
    permission_statuses: list[str] = Field(default_factory=list)


class AttributeValue(TTModel):
    id: Id = ""
    name: str = ""


class Attribute(TTModel):
    id: Id
    name: str = ""
    type: str = ""
    is_required: bool = Field(False, alias="is_requried")  # TikTok's spelling on the wire
    is_customizable: bool = False
    is_multiple_selection: bool = False
    values: list[AttributeValue] = Field(default_factory=list)


class CategoryRules(TTModel):
    allowed_special_product_types: list[str] = Field(default_factory=list)
    product_certifications: list[dict[str, Any]] = Field(default_factory=list)
    size_chart: dict[str, Any] = Field(default_factory=dict)
    package_dimension: dict[str, Any] = Field(default_factory=dict)


class Brand(TTModel):
    id: Id
    name: str = ""
    authorized_status: str = ""
    brand_status: str = ""


class UploadedImage(TTModel):
    uri: str = ""
    url: str = ""
    width: Int = 0
    height: Int = 0
    use_case: str = ""


# --------------------------------------------------------------------------- logistics
class WarehouseAddress(TTModel):
    region: str = ""
    region_code: str = ""
    state: str = ""
    city: str = ""
    distict: str = ""  # TikTok's spelling on the wire
    town: str = ""
    postal_code: str = ""
    address_line1: str = ""
    address_line2: str = ""
    full_address: str = ""
    contact_person: str = ""
    phone_number: str = ""


class Warehouse(TTModel):
    id: Id
    name: str = ""
    type: str = ""  # SALES_WAREHOUSE | RETURN_WAREHOUSE
    sub_type: str = ""
    effect_status: str = ""
    is_default: bool = False
    address: WarehouseAddress = Field(default_factory=WarehouseAddress)


class DeliveryOption(TTModel):
    id: Id
    name: str = ""
    type: str = ""
    description: str = ""
    platform: list[str] = Field(default_factory=list)


class ShippingProvider(TTModel):
    id: Id
    name: str = ""


# --------------------------------------------------------------------------- fulfillment
class PackageSku(TTModel):
    id: Id = ""
    name: str = ""
    image_url: str = ""
    quantity: Int = 0


class PackageOrder(TTModel):
    id: Id
    skus: list[PackageSku] = Field(default_factory=list)


class Package(TTModel):
    """A package from Search Package or Get Package Detail (``package_id`` aliases ``id``)."""

    id: Id
    status: str = ""
    tracking_number: str = ""
    shipping_provider_id: Id = ""
    shipping_provider_name: str = ""
    order_line_item_ids: list[Id] = Field(default_factory=list)
    orders: list[PackageOrder] = Field(default_factory=list)
    create_time: Time = None
    update_time: Time = None
    shipping_type: str = ""
    split_and_combine_tag: str = ""
    handover_method: str = ""
    delivery_option_id: Id = ""
    delivery_option_name: str = ""

    @classmethod
    def from_detail(cls, data: dict[str, Any]) -> Package:
        """Get Package Detail names the fields ``package_id`` / ``package_status``."""
        d = dict(data)
        if "id" not in d and "package_id" in d:
            d["id"] = d.pop("package_id")
        if "status" not in d and "package_status" in d:
            d["status"] = d.pop("package_status")
        return cls.model_validate(d)


class MarkShippedResult(TTModel):
    package_id: Id = ""
    order_id: Id = ""
    order_line_item_ids: list[Id] = Field(default_factory=list)
    warning: dict[str, Any] = Field(default_factory=dict)


class SplitAttribute(TTModel):
    order_id: Id
    can_split: bool = False
    must_split: bool = False
    reason: str = ""


class SplitPackage(TTModel):
    id: Id
    splittable_group_id: str = ""


# --------------------------------------------------------------------------- returns & refunds
class RefundAmount(TTModel):
    currency: str = ""
    refund_total: Money = ZERO
    refund_subtotal: Money = ZERO
    refund_shipping_fee: Money = ZERO
    refund_tax: Money = ZERO
    retail_delivery_fee: Money = ZERO
    buyer_service_fee: Money = ZERO


class CancelLineItem(TTModel):
    cancel_line_item_id: Id = ""
    order_line_item_id: Id = ""
    sku_id: Id = ""
    seller_sku: str = ""
    product_name: str = ""
    sku_name: str = ""
    refund_amount: RefundAmount = Field(default_factory=RefundAmount)


class Cancellation(TTModel):
    cancel_id: Id
    order_id: Id = ""
    cancel_status: str = ""
    cancel_type: str = ""
    cancel_reason: str = ""
    cancel_reason_text: str = ""
    role: str = ""
    create_time: Time = None
    update_time: Time = None
    refund_amount: RefundAmount = Field(default_factory=RefundAmount)
    cancel_line_items: list[CancelLineItem] = Field(default_factory=list)


class CancellationCreated(TTModel):
    cancel_id: Id
    cancel_status: str = ""


class ReturnLineItem(TTModel):
    return_line_item_id: Id = ""
    order_line_item_id: Id = ""
    sku_id: Id = ""
    seller_sku: str = ""
    product_name: str = ""
    sku_name: str = ""
    refund_amount: RefundAmount = Field(default_factory=RefundAmount)


class Return(TTModel):
    return_id: Id
    order_id: Id = ""
    return_status: str = ""
    return_type: str = ""
    return_reason: str = ""
    return_reason_text: str = ""
    role: str = ""
    arbitration_status: str = ""
    create_time: Time = None
    update_time: Time = None
    refund_amount: RefundAmount = Field(default_factory=RefundAmount)
    partial_refund: Amount | None = None
    return_line_items: list[ReturnLineItem] = Field(default_factory=list)
    return_tracking_number: str = ""
    return_provider_name: str = ""
    can_buyer_keep_item: bool = False
    seller_next_action_response: list[dict[str, Any]] = Field(default_factory=list)


class RejectReason(TTModel):
    name: str
    text: str = ""


# --------------------------------------------------------------------------- finance (202501)
class Statement(TTModel):
    """A daily statement: ``settlement = revenue + fee + adjustment + shipping_cost`` (fees negative)."""

    id: Id
    statement_time: Time = None
    currency: str = ""
    revenue_amount: Money = ZERO
    net_sales_amount: Money = ZERO
    fee_amount: Money = ZERO
    shipping_cost_amount: Money = ZERO
    adjustment_amount: Money = ZERO
    settlement_amount: Money = ZERO
    payment_id: Id = ""
    payment_status: str = ""


class Payment(TTModel):
    id: Id
    status: str = ""
    create_time: Time = None
    paid_time: Time = None
    amount: ValueAmount = Field(default_factory=ValueAmount)
    settlement_amount: ValueAmount = Field(default_factory=ValueAmount)
    reserve_amount: ValueAmount = Field(default_factory=ValueAmount)
    payment_amount_before_exchange: ValueAmount = Field(default_factory=ValueAmount)
    exchange_rate: Money = ZERO
    bank_account: str = ""


class Withdrawal(TTModel):
    id: Id
    type: str = ""
    status: str = ""
    amount: Money = ZERO
    currency: str = ""
    create_time: Time = None


class FeeTaxBreakdown(TTModel):
    fee: MoneyMap = Field(default_factory=dict)
    tax: MoneyMap = Field(default_factory=dict)


class StatementTransaction(TTModel):
    id: Id
    type: str = ""
    order_id: Id = ""
    order_create_time: Time = None
    adjustment_id: Id = ""
    adjustment_order_id: Id = ""
    associated_order_id: Id = ""
    revenue_amount: Money = ZERO
    fee_tax_amount: Money = ZERO
    shipping_cost_amount: Money = ZERO
    adjustment_amount: Money = ZERO
    settlement_amount: Money = ZERO
    reserve_amount: Money = ZERO
    reserve_id: Id = ""
    reserve_status: str = ""
    estimated_release_time: Time = None
    revenue_breakdown: MoneyMap = Field(default_factory=dict)
    fee_tax_breakdown: FeeTaxBreakdown = Field(default_factory=FeeTaxBreakdown)
    shipping_cost_breakdown: MoneyMap = Field(default_factory=dict)
    supplementary_component: MoneyMap = Field(default_factory=dict)


class SettlementBreakdown(TTModel):
    total_revenue_amount: Money = ZERO
    total_fee_tax_amount: Money = ZERO
    total_shipping_cost_amount: Money = ZERO
    total_adjustment_amount: Money = ZERO


class StatementTransactions(TTModel):
    """Get Transactions by Statement, every page merged."""

    id: Id = ""
    status: str = ""
    currency: str = ""
    create_time: Time = None
    payable_amount: Money = ZERO
    total_settlement_amount: Money = ZERO
    total_reserve_amount: Money = ZERO
    total_settlement_breakdown: SettlementBreakdown = Field(default_factory=SettlementBreakdown)
    total_count: Int = 0
    transactions: list[StatementTransaction] = Field(default_factory=list)


class SkuTransaction(TTModel):
    sku_id: Id = ""
    sku_name: str = ""
    product_name: str = ""
    quantity: Int = 0
    statement_id: Id = ""
    revenue_amount: Money = ZERO
    fee_tax_amount: Money = ZERO
    shipping_cost_amount: Money = ZERO
    settlement_amount: Money = ZERO
    revenue_breakdown: MoneyMap = Field(default_factory=dict)
    fee_tax_breakdown: FeeTaxBreakdown = Field(default_factory=FeeTaxBreakdown)
    shipping_cost_breakdown: MoneyMap = Field(default_factory=dict)


class OrderTransactions(TTModel):
    order_id: Id = ""
    currency: str = ""
    order_create_time: Time = None
    revenue_amount: Money = ZERO
    fee_and_tax_amount: Money = ZERO
    shipping_cost_amount: Money = ZERO
    settlement_amount: Money = ZERO
    sku_transactions: list[SkuTransaction] = Field(default_factory=list)


class UnsettledTransaction(TTModel):
    id: Id
    order_id: Id = ""
    currency: str = ""
    order_create_time: Time = None
    order_delivery_time: Time = None
    est_revenue_amount: Money = ZERO
    est_fee_tax_amount: Money = ZERO
    est_shipping_cost_amount: Money = ZERO
    est_adjustment_amount: Money = ZERO
    est_settlement_amount: Money = ZERO

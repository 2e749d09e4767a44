"""The TikTok Shop side as the flows see it: one Protocol per area, implemented over the real client by
``bridge.tiktok.adapters`` and by in-memory fakes in the tests.

Extension point: a flow that needs a new TikTok read or write adds one narrow method here (with its
docstring), implements it in the adapter and in the fakes, and stays free of HTTP. TikTok business
refusals come back as ``Refusal`` values or ``TikTokRefusal``/``TikTokRefused``; transient failures are
raised as ``bridge.errors.RetriableError`` so the queue backs off.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from bridge.domain.finance import Payment, Statement, StatementSummary, Withdrawal
from bridge.domain.tiktok import Cancellation, CancellationCreated, Order, Package, PriceDetail, Return, Warehouse
from bridge.errors import Evidence, FatalError
from bridge.mapping.catalog import AttributeRule
from bridge.mapping.fulfillment import Provider
from bridge.mapping.inventory import WarehouseInfo

# The exception code and fix of a shop whose authorization is gone (the shops flow, the OAuth client, doctor).
REAUTHORIZE_CODE = "TIKTOK_REAUTHORIZE"
REAUTHORIZE_HINT = (
    "Re-authorize the shop: open {public_url}/connect/tiktok and click \"Connect TikTok Shop\" (or run "
    "`ttns shops connect --auth-code CODE` with a fresh code from the TikTok Shop app store)."
)


class TikTokOrders(Protocol):
    """Order reads for the orders flow (the job re-reads the order; events are only hints)."""

    def get_orders(self, shop_id: str, order_ids: Sequence[str]) -> list[Order]:
        """Order details for up to 50 ids (missing ids are simply absent)."""
        ...

    def search_orders(
        self,
        shop_id: str,
        *,
        update_time_ge: datetime | None = None,
        update_time_lt: datetime | None = None,
        create_time_ge: datetime | None = None,
        create_time_lt: datetime | None = None,
    ) -> Iterator[tuple[str, datetime | None]]:
        """(order id, update time) of every order in the window, across pages."""
        ...

    def price_detail(self, shop_id: str, order_id: str) -> PriceDetail:
        """Get Price Detail: each line item's tax and rate (the VAT of VAT-inclusive markets)."""
        ...


@dataclass(frozen=True)
class Refusal:
    """TikTok said no: its code and message, and the SKU/warehouse when it named one."""

    code: str
    message: str
    sku_id: str = ""
    warehouse_id: str = ""


class TikTokRefused(FatalError):
    """A write refused as a whole (create product …), carrying TikTok's refusals."""

    def __init__(self, refusals: Sequence[Refusal]) -> None:
        self.refusals = list(refusals)
        super().__init__("; ".join(f"{r.code}: {r.message}" for r in self.refusals))


@dataclass(frozen=True)
class SkuInfo:
    """One SKU of a TikTok product: its seller SKU, warehouses and price."""

    id: str
    seller_sku: str = ""
    warehouses: tuple[str, ...] = ()
    price: Decimal | None = None
    currency: str = ""


@dataclass(frozen=True)
class AuditFailure:
    """One entry of Get Product's ``audit_failed_reasons``: where, why, and TikTok's suggested fix."""

    position: str = ""
    reasons: tuple[str, ...] = ()
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProductInfo:
    """A TikTok product with its SKUs (the detail read adds categories and description)."""

    id: str
    status: str = ""
    title: str = ""
    skus: tuple[SkuInfo, ...] = ()
    categories: tuple[str, ...] = ()  # category chain ids and names, leaf first (detail reads only)
    update_time: datetime | None = None
    description: str = ""
    external_product_id: str = ""
    audit_status: str = ""  # Get Product's audit.status: AUDITING | FAILED | PRE_APPROVED | APPROVED | NONE
    audit_failed_reasons: tuple[AuditFailure, ...] = ()  # why TikTok's review refused it (detail reads only)


@dataclass(frozen=True)
class CreatedProduct:
    """What Create Product answered: the product id and the SKU id of each seller SKU."""

    product_id: str
    sku_ids: dict[str, str] = field(default_factory=dict)  # seller SKU -> TikTok sku id


@dataclass(frozen=True)
class WarehouseStock:
    """TikTok's numbers for one SKU in one warehouse."""

    available: int
    committed: int = 0  # reserved by TikTok orders not yet shipped


class TikTokInventory(Protocol):
    """Products, warehouses and stock for the inventory flow."""

    def warehouses(self, shop_id: str) -> list[WarehouseInfo]:
        """Every warehouse of the shop (sales and return), FBT ones flagged when TikTok says so."""
        ...

    def products(self, shop_id: str) -> Iterator[ProductInfo]:
        """Every product of the shop with its SKUs and their warehouses (across pages)."""
        ...

    def product(self, shop_id: str, product_id: str) -> ProductInfo | None:
        """One product's detail, including its category chain; None when it does not exist."""
        ...

    def stock(self, shop_id: str, product_ids: Sequence[str]) -> dict[str, dict[str, WarehouseStock]]:
        """TikTok's available and committed quantities now, per SKU id and warehouse."""
        ...

    def update_inventory(self, shop_id: str, product_id: str,
                         quantities: Mapping[str, Mapping[str, int]]) -> list[Refusal]:
        """Set absolute quantities for SKUs of one product (each with all its warehouses)."""
        ...

    def set_active(self, shop_id: str, product_ids: Sequence[str], active: bool) -> list[Refusal]:
        """Activate or deactivate products (the sold-out strategy ``deactivate``)."""
        ...


class TikTokCatalog(Protocol):
    """Listing writes for the catalog and price flows."""

    def create_product(self, shop_id: str, body: Mapping[str, Any]) -> CreatedProduct:
        """Create Product; raises ``TikTokRefused`` when TikTok refuses it. ``body["idempotency_key"]``
        is TikTok's: a repeated key creates nothing and answers with the product the key created."""
        ...

    def products_with_seller_skus(self, shop_id: str, seller_skus: Sequence[str]) -> list[str]:
        """Ids of the shop's products (any status but DELETED) carrying any of ``seller_skus`` (Search
        Products by seller SKU): the re-check before a create is sent again."""
        ...

    def edit_product(self, shop_id: str, product_id: str, body: Mapping[str, Any]) -> list[Refusal]:
        """Edit Product (the whole listing body); TikTok's refusals, empty when it was accepted."""
        ...

    def set_active(self, shop_id: str, product_ids: Sequence[str], active: bool) -> list[Refusal]:
        """Activate or deactivate (never delete) products."""
        ...

    def category_rules(self, shop_id: str, category_id: str) -> tuple[list[AttributeRule], bool]:
        """The category's attributes and whether it requires package dimensions."""
        ...

    def upload_image(self, shop_id: str, url: str) -> str:
        """Fetch an image from ``url`` and upload it; returns TikTok's image URI."""
        ...

    def update_prices(self, shop_id: str, product_id: str, prices: Mapping[str, Decimal],
                      currency: str) -> list[Refusal]:
        """Set the sale price of SKUs of one product (sku id → price in ``currency``); TikTok's refusals."""
        ...


class TikTokRefusal(FatalError):
    """TikTok refused a write for a business reason (its ``code`` and message): a person's matter,
    never retried. Adapters raise it instead of their client's own error type."""

    def __init__(self, code: str, message: str, evidence: Evidence | None = None) -> None:
        super().__init__(f"TikTok refused ({code}): {message}",
                         evidence or Evidence.of("tiktok", "", code=code, body=message))
        self.code = code
        self.tiktok_message = message


@dataclass(frozen=True)
class FbtStock:
    """TikTok's FBT stock per seller SKU: on hand (available + reserved) and where it was read."""

    source: str  # "fbt_inventory" (Search FBT Inventory) | "products_inventory" (the FBT warehouse's stock)
    on_hand: dict[str, int]
    warehouses: tuple[str, ...] = ()
    note: str = ""
    by_warehouse: dict[str, dict[str, int]] = field(default_factory=dict)  # warehouse id -> seller SKU -> on hand

    def at(self, warehouse_id: str) -> dict[str, int]:
        """On hand per seller SKU in one FBT warehouse (all of ``on_hand`` when only one was read)."""
        if warehouse_id in self.by_warehouse:
            return self.by_warehouse[warehouse_id]
        return dict(self.on_hand) if self.warehouses == (warehouse_id,) else {}


@dataclass(frozen=True)
class FbtInventoryRecord:
    """One change of TikTok's FBT stock (Search FBT Inventory Record) and the order that caused it."""

    warehouse_id: str
    goods_id: str
    reference_code: str  # the merchant's code for the goods
    order_id: str
    order_type: str  # INBOUND_ORDER, CUSTOMER_RETURN, DISPOSAL, ...
    goods_type: str  # NORMAL | DEFECTIVE
    changed: int
    created: datetime


@dataclass(frozen=True)
class FbtReceivedBatch:
    """Units TikTok's warehouse put away for one goods item of an inbound order."""

    goods_id: str
    seller_sku: str  # from TikTok's SKU id, else the goods' reference code; "" when neither is known
    normal: int
    defective: int


@dataclass(frozen=True)
class FbtInboundOrder:
    """A merchant's inbound order into an FBT warehouse (Get Inbound Order)."""

    id: str  # as TikTok shows it (``IBR…``)
    warehouse_id: str
    status: str  # the latest operation log status (RECEIVED, PARTIALLY_RECEIVED, ...)
    received: tuple[FbtReceivedBatch, ...] = ()


class TikTokShipping(Protocol):
    """Orders, packages and shipping for the fulfillment flows."""

    def get_order(self, shop_id: str, order_id: str) -> Order | None:
        """One order's detail; None when TikTok does not know it."""
        ...

    def search_orders(self, shop_id: str, *, status: str, update_time_ge: datetime | None = None) -> Iterator[Order]:
        """Orders in ``status`` (every page)."""
        ...

    def shipping_providers(self, shop_id: str, delivery_option_id: str) -> list[Provider]:
        """The carriers TikTok accepts for this delivery option (cached by the adapter)."""
        ...

    def mark_package_shipped(self, shop_id: str, order_id: str, *, tracking_number: str, provider_id: str,
                             line_item_ids: Sequence[str]) -> str:
        """Mark Package As Shipped for exactly these line items; returns the TikTok package id."""
        ...

    def split(self, shop_id: str, order_id: str, groups: Mapping[str, Sequence[str]]) -> dict[str, str]:
        """Split an order's unshipped units into packages; group id → package id."""
        ...

    def ship_package(self, shop_id: str, package_id: str, *, tracking_number: str | None = None,
                     provider_id: str | None = None) -> None:
        """Ship Package: ``self_shipment`` with a tracking number, or (none given) TikTok shipping."""
        ...

    def update_package_shipping_info(self, shop_id: str, package_id: str, *, tracking_number: str,
                                     provider_id: str) -> None:
        """Correct the tracking number or carrier of a package already shipped."""
        ...

    def get_package(self, shop_id: str, package_id: str) -> Package:
        """One package with its status, tracking and line items."""
        ...

    def search_packages(self, shop_id: str, *, update_time_ge: datetime | None = None,
                        update_time_lt: datetime | None = None) -> Iterator[Package]:
        """Packages updated in the window (every page)."""
        ...

    def warehouses(self, shop_id: str) -> list[Warehouse]:
        """The shop's warehouses (FBT ones flagged)."""
        ...

    def fbt_stock(self, shop_id: str, warehouse_ids: Sequence[str]) -> FbtStock:
        """Units TikTok holds in its FBT warehouses per seller SKU, and where they were read."""
        ...

    def fbt_inventory_records(self, shop_id: str, warehouse_ids: Sequence[str], *,
                              since: datetime | None = None) -> list[FbtInventoryRecord]:
        """TikTok's FBT stock changes in these warehouses (created at or after ``since``), newest first."""
        ...

    def fbt_inbound_orders(self, shop_id: str, order_ids: Sequence[str]) -> list[FbtInboundOrder]:
        """Inbound orders by id (``IBR…`` or the bare number), with what TikTok received."""
        ...


class TikTokAftersale(Protocol):
    """Cancellations and returns for the after-sale flows."""

    def cancellations(self, shop_id: str, *, cancel_ids: Sequence[str] = (), order_ids: Sequence[str] = (),
                      update_time_ge: datetime | None = None,
                      update_time_lt: datetime | None = None) -> Iterator[Cancellation]:
        """Cancellations by id, by order or updated in the window (every page)."""
        ...

    def cancel_order(self, shop_id: str, order_id: str, reason: str,
                     line_item_ids: Sequence[str] = ()) -> CancellationCreated:
        """Seller cancellation of the whole order (no ids) or of these line items."""
        ...

    def returns(self, shop_id: str, *, return_ids: Sequence[str] = (), order_ids: Sequence[str] = (),
                update_time_ge: datetime | None = None, update_time_lt: datetime | None = None) -> Iterator[Return]:
        """Returns and refunds by id, by order or updated in the window (every page)."""
        ...


class TikTokFinance(Protocol):
    """Statements, payments and withdrawals for the settlement flow and the ledger audit."""

    def statements(self, shop_id: str, *, since: datetime, until: datetime) -> Iterator[StatementSummary]:
        """Get Statements: every statement with ``since <= statement_time < until``, across pages."""
        ...

    def statement(self, shop_id: str, statement_id: str, summary: StatementSummary | None = None) -> Statement:
        """Get Transactions by Statement (the current finance version): the statement with every line
        (all pages). ``summary`` supplies the payment id/status the transaction pages lack."""
        ...

    def payments(self, shop_id: str, *, since: datetime, until: datetime) -> Iterator[Payment]:
        """Get Payments created in the window."""
        ...

    def withdrawals(self, shop_id: str, *, since: datetime, until: datetime) -> Iterator[Withdrawal]:
        """Get Withdrawals (every type) created in the window."""
        ...


class TikTokTokens(Protocol):
    """The connected shops' OAuth tokens, for the shops flow."""

    def refresh(self, shop_id: str, stale_token: str | None = None) -> str:
        """Refresh the shop's access token now and return it (a no-op returning the stored token when
        another thread or process already replaced ``stale_token``). ``NeedsHumanError`` when the seller
        must authorize again; ``RetriableError`` on a transient failure."""
        ...

"""The ports of the fulfillment, cancellation and returns flows (implemented over the real clients
in ``bridge.adapters.fulfillment``; tests may pass fakes). Flows never import an adapter.

Services: ``tiktok.shipping`` (``TikTokShipping``), ``tiktok.aftersale`` (``TikTokAftersale``),
``netsuite.fulfillment`` (``NetSuiteFulfillment``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from bridge.domain.tiktok import Cancellation, CancellationCreated, Order, Package, Return, Warehouse
from bridge.errors import Evidence, FatalError
from bridge.mapping.fulfillment import Provider


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


class TikTokShipping(Protocol):
    def get_order(self, shop_id: str, order_id: str) -> Order | None: ...

    def search_orders(self, shop_id: str, *, status: str, update_time_ge: datetime | None = None) -> Iterator[Order]:
        """Orders in ``status`` (every page)."""
        ...

    def shipping_providers(self, shop_id: str, delivery_option_id: str) -> list[Provider]: ...

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
                                     provider_id: str) -> None: ...

    def get_package(self, shop_id: str, package_id: str) -> Package: ...

    def search_packages(self, shop_id: str, *, update_time_ge: datetime | None = None,
                        update_time_lt: datetime | None = None) -> Iterator[Package]: ...

    def warehouses(self, shop_id: str) -> list[Warehouse]: ...

    def fbt_stock(self, shop_id: str, warehouse_ids: Sequence[str]) -> FbtStock: ...


class TikTokAftersale(Protocol):
    def cancellations(self, shop_id: str, *, cancel_ids: Sequence[str] = (), order_ids: Sequence[str] = (),
                      update_time_ge: datetime | None = None,
                      update_time_lt: datetime | None = None) -> Iterator[Cancellation]: ...

    def cancel_order(self, shop_id: str, order_id: str, reason: str,
                     line_item_ids: Sequence[str] = ()) -> CancellationCreated:
        """Seller cancellation of the whole order (no ids) or of these line items."""
        ...

    def returns(self, shop_id: str, *, return_ids: Sequence[str] = (), order_ids: Sequence[str] = (),
                update_time_ge: datetime | None = None, update_time_lt: datetime | None = None) -> Iterator[Return]:
        ...


@dataclass(frozen=True)
class SoLine:
    """One line of a sales order (or return authorization) as NetSuite holds it."""

    line: int
    item_id: str
    quantity: int
    fulfilled: int = 0
    closed: bool = False
    line_item_ids: tuple[str, ...] = ()
    rate: Decimal | None = None
    amount: Decimal | None = None
    location_id: str = ""
    billed: int = 0
    received: int = 0


@dataclass(frozen=True)
class LineChange:
    """Close a line, or reduce it to ``quantity`` units holding ``line_item_ids``."""

    line: int
    close: bool = False
    quantity: int | None = None
    line_item_ids: tuple[str, ...] = ()
    amount: Decimal | None = None


@dataclass(frozen=True)
class Written:
    id: str
    created: bool  # False: it existed already (found by external id)


@dataclass
class NsDocument:
    """A NetSuite record to create by transform (or standalone when ``source_type`` is empty)."""

    record_type: str
    external_id: str
    body: dict[str, Any]
    source_type: str = ""
    source_id: str = ""
    replace_items: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


class NetSuiteFulfillment(Protocol):
    def order_lines(self, record_type: str, record_id: str) -> list[SoLine]: ...

    def change_order_lines(self, record_type: str, record_id: str, changes: Sequence[LineChange]) -> int:
        """Apply the changes (a bridge write: marked ``custbody_ttns_source``); returns lines changed."""
        ...

    def find(self, record_type: str, external_id: str) -> str | None: ...

    def create_document(self, doc: NsDocument) -> Written:
        """Create ``doc`` once: found by its external id first; a lost answer is resolved by lookup."""
        ...

    def get(self, record_type: str, record_id: str) -> dict[str, Any] | None: ...

    def on_hand(self, location_ids: Sequence[str]) -> dict[str, int]:
        """Units on hand per item name (``itemid``) at these locations, summed."""
        ...

    def item_ids(self, itemids: Sequence[str]) -> dict[str, str]:
        """Internal id per item name (``itemid``), for the names NetSuite has."""
        ...

    def internal_ids(self, table: str, external_ids: Sequence[str]) -> dict[str, str]: ...


__all__ = [
    "FbtStock",
    "LineChange",
    "NetSuiteFulfillment",
    "NsDocument",
    "SoLine",
    "TikTokAftersale",
    "TikTokRefusal",
    "TikTokShipping",
    "Written",
]

"""The ports the inventory, catalog and price flows call.

``bridge.adapters.inventory`` implements them over the TikTok and NetSuite clients; tests use the
in-memory fakes in ``tests/inventory/fakes.py``. TikTok business refusals come back as ``Refusal``
values (a write may be refused for one SKU and not another); transient failures are raised as
``bridge.errors.RetriableError`` so the queue backs off.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from bridge.errors import FatalError
from bridge.mapping.catalog import AttributeRule, ItemDetail, NsItem
from bridge.mapping.inventory import WarehouseInfo
from bridge.mapping.skus import MatchSpec


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
    product_id: str
    sku_ids: dict[str, str] = field(default_factory=dict)  # seller SKU -> TikTok sku id


@dataclass(frozen=True)
class WarehouseStock:
    """TikTok's numbers for one SKU in one warehouse."""

    available: int
    committed: int = 0  # reserved by TikTok orders not yet shipped


@dataclass(frozen=True)
class LocationInfo:
    id: str
    name: str = ""
    inactive: bool = False
    make_inventory_available: bool = True


class TikTokInventory(Protocol):
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
    def create_product(self, shop_id: str, body: Mapping[str, Any]) -> CreatedProduct:
        """Create Product; raises ``TikTokRefused`` when TikTok refuses it."""
        ...

    def edit_product(self, shop_id: str, product_id: str, body: Mapping[str, Any]) -> list[Refusal]: ...

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
                      currency: str) -> list[Refusal]: ...


class NetSuiteInventory(Protocol):
    def locations(self) -> list[LocationInfo]: ...

    def items(self) -> Iterator[NsItem]:
        """Every item that can be sold (inventory, assembly, kit, non-inventory; matrix parents too)."""
        ...

    def items_by_key(self, by: str, keys: Sequence[str], rule: MatchSpec | None = None) -> list[NsItem]:
        """Items whose ``by`` field (``itemid`` / ``upccode`` / ``externalid`` / ``id``) is one of ``keys``;
        with ``rule``, compared after the SKU rule's normalisation on both sides (not for ``id``)."""
        ...

    def availability(self, item_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        """Available units (on hand - committed) per (item id, location id)."""
        ...

    def tiktok_committed(self, shop_id: str, item_ids: Sequence[str]) -> dict[tuple[str, str], int] | None:
        """Units committed per (item id, location) on open sales orders of this TikTok shop
        (``custbody_ttns_shop_id``); None when the account cannot answer (then TikTok's own
        reservations are not used)."""
        ...

    def item_details(self, item_ids: Sequence[str]) -> list[ItemDetail]:
        """Items with the fields a listing needs (matrix children of a parent included)."""
        ...

    def item_prices(self, item_ids: Sequence[str], levels: Sequence[str], currency_id: str
                    ) -> dict[tuple[str, str], Decimal]:
        """Price per (item id, price level) in a NetSuite currency (quantity-1 price)."""
        ...


__all__ = [
    "CreatedProduct",
    "LocationInfo",
    "NetSuiteInventory",
    "ProductInfo",
    "Refusal",
    "SkuInfo",
    "TikTokCatalog",
    "TikTokInventory",
    "TikTokRefused",
    "WarehouseStock",
]

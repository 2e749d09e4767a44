"""The ports flows call. Adapters over the real clients implement them (``bridge.tiktok.ports``,
``bridge.netsuite.ports``); tests use in-memory fakes. Flows never import an adapter.

Extension point: a new flow adds the narrow methods it needs here, implements them in both
adapters and in the fakes, and stays free of HTTP and SQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from bridge.domain.tiktok import Order
from bridge.mapping.orders import ItemRef
from bridge.mapping.skus import MatchSpec


class TikTokOrders(Protocol):
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


@dataclass(frozen=True)
class OrderWrite:
    """One order document to upsert by external id."""

    record_type: str
    external_id: str
    record: dict[str, Any]
    customer: dict[str, Any] | None = None


@dataclass(frozen=True)
class WriteResult:
    external_id: str
    id: str | None
    status: str  # created | updated | unchanged | error | deferred
    customer_id: str | None = None
    error: dict[str, Any] = field(default_factory=dict)


class NetSuiteOrders(Protocol):
    def resolve_items(self, keys: Sequence[str], rule: MatchSpec) -> dict[str, ItemRef]:
        """NetSuite items for normalised SKU keys (``rule.key``), compared on ``rule.by``; keyed by the key.
        Matrix parents and non-sale item types never match; a key matching two items needs a human."""
        ...

    def upsert_customer(self, customer: dict[str, Any]) -> str:
        """Find-or-create a customer by its ``externalId``; returns its internal id."""
        ...

    def upsert_order(self, write: OrderWrite) -> WriteResult:
        """Create or update one order by external id (REST). A timeout after NetSuite committed is
        resolved by looking the record up, never by writing again."""
        ...

    def upsert_orders(self, writes: Sequence[OrderWrite]) -> list[WriteResult]:
        """Many orders in one call (the batch RESTlet), one result per write, in order."""
        ...

    def find_order(self, record_type: str, external_id: str) -> str | None: ...

    def get_order(self, record_type: str, netsuite_id: str) -> dict[str, Any] | None:
        """The sales order as NetSuite holds it now (body and expanded ``item`` lines with their ``line``
        numbers), to merge with what people changed; None when it no longer exists."""
        ...

    def upsert_record(self, record_type: str, external_id: str, body: dict[str, Any]) -> str:
        """Create or update any record by external id (e.g. the order's customer deposit)."""
        ...

    def close_order_lines(self, record_type: str, netsuite_id: str, line_item_ids: Sequence[str] | None) -> int:
        """Close the lines holding these TikTok line items (all lines when None) unless fulfilled.
        Returns how many lines were closed."""
        ...

    def fulfilled_quantities(self, record_type: str, netsuite_id: str) -> dict[str, int]:
        """Units already fulfilled per TikTok line-item-ids string (``custcol_ttns_line_item_ids``)."""
        ...


class NetSuiteLookup(Protocol):
    def existing_ids(self, table: str, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` exist in SuiteQL table ``table`` (item, location, subsidiary …); ``eid:X``
        values are looked up by external id."""
        ...

    def internal_ids(self, wanted: Mapping[str, Sequence[str]]) -> dict[tuple[str, str], str]:
        """(table, external id) → internal id for every wanted record that exists (one round trip)."""
        ...

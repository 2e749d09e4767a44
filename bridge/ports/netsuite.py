"""The NetSuite side as the flows see it: one Protocol per area, implemented over the REST/SuiteQL/RESTlet
client by ``bridge.netsuite.adapters`` and by in-memory fakes in the tests.

Extension point: a flow that needs a new NetSuite read or write adds one narrow method here (with its
docstring), implements it in the adapter and in the fakes, and stays free of HTTP and SuiteQL. Every
write is by external id, so a lost answer is resolved by looking the record up, never by writing twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Literal, Protocol

from bridge.mapping.catalog import ItemDetail, NsItem
from bridge.mapping.ledger_audit import GlLine, Period
from bridge.mapping.orders import ItemRef
from bridge.mapping.settlement import OrderDocument
from bridge.mapping.skus import MatchSpec


@dataclass(frozen=True)
class OrderWrite:
    """One order document to upsert by external id."""

    record_type: str
    external_id: str
    record: dict[str, Any]
    customer: dict[str, Any] | None = None


@dataclass(frozen=True)
class WriteResult:
    """What one order upsert did: the internal id and ``status`` (``error`` carries NetSuite's error)."""

    external_id: str
    id: str | None
    # created | updated | unchanged | error | deferred | resolved (the answer was lost and NetSuite's record
    # shows this write) | unknown (the answer was lost and nothing proves the write applied: send it again)
    status: str
    customer_id: str | None = None
    error: dict[str, Any] = field(default_factory=dict)


class OrderBatchWriter(Protocol):
    """Orders written through the batch RESTlet as one call for many (``bridge.netsuite.batch_writer``)."""

    def submit(self, write: OrderWrite) -> Future[WriteResult]:
        """Hand in one order without waiting: the future holds its result once its batch is answered."""
        ...

    def write(self, write: OrderWrite) -> WriteResult:
        """Hand in one order and wait for its result from the batch it went out in."""
        ...

    def close(self) -> None:
        """Stop taking orders (a process shutting down)."""
        ...


class NetSuiteOrders(Protocol):
    """Sales orders, their customers and deposits for the orders and cancellations flows."""

    def resolve_items(self, keys: Sequence[str], rule: MatchSpec) -> dict[str, ItemRef]:
        """NetSuite items for normalised SKU keys (``rule.key``), compared on ``rule.by``; keyed by the key.
        Matrix parents and non-sale item types never match; a key matching two items needs a human."""
        ...

    def upsert_customer(self, customer: dict[str, Any]) -> str:
        """Find-or-create a customer by its ``externalId``; returns its internal id."""
        ...

    def upsert_order(self, write: OrderWrite) -> WriteResult:
        """Create or update one order by external id (REST). A lost answer is settled by looking the record
        up, never by writing again: ``resolved`` only when the record shows this write, else a
        ``RetriableError`` (the caller reads, merges and writes again)."""
        ...

    def upsert_orders(self, writes: Sequence[OrderWrite]) -> list[WriteResult]:
        """Many orders in one call (the batch RESTlet), one result per write, in order; a lost answer
        leaves the orders found ``unknown`` (send them again), any order not found raises."""
        ...

    def find_order(self, record_type: str, external_id: str) -> str | None:
        """The internal id of the order with this external id, if NetSuite has it."""
        ...

    def get_order(self, record_type: str, netsuite_id: str) -> dict[str, Any] | None:
        """The sales order as NetSuite holds it now (body and expanded ``item`` lines with their ``line``
        numbers), to merge with what people changed; None when it no longer exists."""
        ...

    def upsert_record(self, record_type: str, external_id: str, body: dict[str, Any]) -> str:
        """Create or update any record by external id (e.g. the order's customer deposit); a lost answer
        counts only when the record shows ``body``, else a ``RetriableError``."""
        ...

    def close_order_lines(self, record_type: str, netsuite_id: str, line_item_ids: Sequence[str] | None) -> int:
        """Close the lines holding these TikTok line items (all lines when None) unless fulfilled.
        Returns how many lines were closed."""
        ...

    def fulfilled_quantities(self, record_type: str, netsuite_id: str) -> dict[str, int]:
        """Units already fulfilled per TikTok line-item-ids string (``custcol_ttns_line_item_ids``)."""
        ...

    def document_numbers(self, netsuite_ids: Sequence[str]) -> dict[str, str]:
        """NetSuite's document number (``tranid``) of each transaction, by internal id, in one round trip
        for any number of ids (absent ids are left out)."""
        ...


class NetSuiteLookup(Protocol):
    """Which records exist, for the ``eid:`` and internal-id references of the mapping specs."""

    def existing_ids(self, table: str, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` exist in SuiteQL table ``table`` (item, location, subsidiary …); ``eid:X``
        values are looked up by external id."""
        ...

    def internal_ids(self, wanted: Mapping[str, Sequence[str]]) -> dict[tuple[str, str], str]:
        """(table, external id) → internal id for every wanted record that exists (one round trip)."""
        ...

    def account_types(self, ids: Sequence[str]) -> dict[str, str]:
        """``accttype`` (NetSuite's ids: ``Bank``, ``OthCurrAsset`` …) of the accounts among ``ids`` that
        exist, keyed as given (``eid:X`` looked up by external id)."""
        ...

    def account_currencies(self, ids: Sequence[str]) -> dict[str, str]:
        """The currency (its symbol, ``USD``) of the accounts among ``ids`` that have one (a bank account holds
        one currency), keyed as given (``eid:X`` looked up by external id)."""
        ...


@dataclass(frozen=True)
class LocationInfo:
    """A NetSuite location and whether its stock counts as available."""

    id: str
    name: str = ""
    inactive: bool = False
    make_inventory_available: bool = True


class NetSuiteInventory(Protocol):
    """Items, locations, availability and prices for the inventory, catalog and price flows."""

    def locations(self) -> list[LocationInfo]:
        """Every location (inactive ones flagged)."""
        ...

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

    def stock_figures(self, shop_id: str, item_ids: Sequence[str]
                      ) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int] | None]:
        """(``availability``, ``tiktok_committed``) read together, in one request where the account
        allows: a stock push's NetSuite reads."""
        ...

    def item_details(self, item_ids: Sequence[str]) -> list[ItemDetail]:
        """Items with the fields a listing needs (matrix children of a parent included)."""
        ...

    def item_prices(self, item_ids: Sequence[str], levels: Sequence[str], currency_id: str
                    ) -> dict[tuple[str, str], Decimal]:
        """Price per (item id, price level) in a NetSuite currency (quantity-1 price)."""
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
    """A document created once: its internal id and whether this call created it."""

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
    """Order lines, fulfillments, returns and stock for the fulfillment, cancellation and returns flows."""

    def order_lines(self, record_type: str, record_id: str) -> list[SoLine]:
        """The lines of a sales order or return authorization as NetSuite holds them now."""
        ...

    def change_order_lines(self, record_type: str, record_id: str, changes: Sequence[LineChange]) -> int:
        """Apply the changes (a bridge write: marked ``custbody_ttns_source``); returns lines changed."""
        ...

    def find(self, record_type: str, external_id: str) -> str | None:
        """The internal id of the record with this external id, if any."""
        ...

    def create_document(self, doc: NsDocument) -> Written:
        """Create ``doc`` once: found by its external id first; a lost answer is resolved by lookup."""
        ...

    def get(self, record_type: str, record_id: str) -> dict[str, Any] | None:
        """One record as NetSuite holds it; None when it does not exist."""
        ...

    def on_hand(self, location_ids: Sequence[str]) -> dict[str, int]:
        """Units on hand per item name (``itemid``) at these locations, summed."""
        ...

    def item_ids(self, itemids: Sequence[str]) -> dict[str, str]:
        """Internal id per item name (``itemid``), for the names NetSuite has."""
        ...

    def internal_ids(self, table: str, external_ids: Sequence[str]) -> dict[str, str]:
        """External id → internal id of the records of SuiteQL ``table`` that exist."""
        ...


@dataclass(frozen=True)
class Posted:
    """A NetSuite write's internal id and how it is known (``created``, ``written`` or ``resolved``:
    the answer was lost and the record found by its external id shows what was sent)."""

    id: str
    outcome: str


DocumentKind = Literal["customerDeposit", "invoice"]


class NetSuiteLedger(Protocol):
    """Journals, deposits and payments for the settlement flow."""

    def upsert(self, record_type: str, external_id: str, body: Mapping[str, Any], *,
               entity: str | None = None) -> Posted:
        """Create or update the record with this external id. A lost answer is settled by looking the
        record up by external id, never by writing a second record: it counts only when the record shows
        ``body`` (its replaced sublists holding exactly the lines sent), else a ``RetriableError``."""
        ...

    def find(self, record_type: str, external_id: str) -> str | None:
        """The internal id of the record with this external id, if any."""
        ...

    def internal_ids(self, table: str, external_ids: Sequence[str]) -> dict[str, str]:
        """External id → internal id of the records of SuiteQL ``table`` that exist (resolves the
        ``eid:`` references of settlement.yaml)."""
        ...

    def existing_ids(self, table: str, ids: Sequence[str]) -> set[str]:
        """The internal ids among ``ids`` that exist in SuiteQL ``table`` (checks the internal-id
        references of settlement.yaml before anything is posted)."""
        ...

    def order_documents(self, kind: DocumentKind, shop_id: str, orders: Mapping[str, str], *,
                        external_id_pattern: str = "") -> dict[str, list[OrderDocument]]:
        """Open order-time documents per TikTok order id. ``orders`` maps TikTok order id → sales order
        internal id. Customer deposits are found by external id (``external_id_pattern`` with
        ``{shop_id}``/``{order_id}``), invoices by the sales order they were billed from."""
        ...


class NetSuiteTotals(Protocol):
    """Order totals for the monitoring flow's ``order_totals`` check."""

    def order_totals(self, external_ids: Sequence[str]) -> dict[str, Decimal]:
        """The document total (transaction currency) of each sales order / cash sale by external id;
        ids NetSuite does not know are absent."""
        ...

class NetSuiteGl(Protocol):
    """The general ledger, read through SuiteQL, for the ledger audit (the GL is the judge)."""

    def accounts(self) -> dict[str, dict[str, str]]:
        """The chart of accounts: internal id → ``number``, ``name`` and ``type`` (NetSuite's accttype)."""
        ...

    def periods(self) -> list[Period]:
        """Every accounting period with its start and end date."""
        ...

    def lines(self, shop_id: str, since: date, until: date, clearing: Sequence[str], *,
              orders: Sequence[str] = (), on_window: Callable[[date, int], None] | None = None) -> list[GlLine]:
        """Every GL line of the window (primary book), plus the order documents of ``orders`` whatever
        their date, each with the TikTok order it belongs to; ``on_window(end, lines)`` reports progress."""
        ...

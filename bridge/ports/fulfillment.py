"""The fulfillment flows' own store: one row per package shipped (or being shipped) and the units it
holds, so each TikTok unit ships once across every fulfillment of an order, and the ship-by alerts
already raised. Implemented on SQL (``bridge.store.tables_fulfillment.FulfillmentStore``) and in
memory (``bridge.store.memory.MemoryShipments``); one contract suite runs both
(``tests/contract/test_store_ports.py``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bridge.errors import FatalError


@dataclass(frozen=True)
class Shipment:
    """One package of a NetSuite item fulfillment (or a TikTok FBT package) and how far it got: ``status``
    is ``sending`` (recorded before TikTok is called), ``shipped``, ``refused`` or ``deleted``."""

    id: int
    shop_id: str
    order_id: str
    fulfillment_id: str
    package_index: int
    seq: int
    tracking_number: str
    carrier: str
    provider_id: str
    provider_name: str
    line_item_ids: tuple[str, ...]
    method: str
    tiktok_package_id: str
    status: str
    attempts: int
    last_error: str
    shipped_at: datetime | None
    tracking_updated_at: datetime | None
    created_at: datetime
    updated_at: datetime


class UnitConflict(FatalError):
    """Some of the units are already recorded for another shipment (each unit ships once)."""

    def __init__(self, taken: dict[str, str]) -> None:
        super().__init__(f"units already shipped: {sorted(taken)}")
        self.taken = taken  # line item id -> fulfillment id holding it


class ShipmentRepository(Protocol):
    """Shipments and their units (thread-safe)."""

    def shipments(self, shop_id: str, order_id: str, fulfillment_id: str | None = None) -> list[Shipment]:
        """The order's shipments (of one fulfillment), by fulfillment, package and ``seq``."""
        ...

    def get(self, shipment_id: int) -> Shipment | None:
        """One shipment, or None."""
        ...

    def begin(self, *, shop_id: str, order_id: str, fulfillment_id: str, package_index: int, seq: int,
              tracking_number: str, carrier: str, provider_id: str, provider_name: str,
              line_item_ids: Sequence[str], method: str) -> Shipment:
        """Record a shipment about to be sent (``sending``) and reserve its units, atomically: the row of the
        same package and ``seq`` is reused (one more attempt), units it no longer carries are freed.
        ``UnitConflict`` (and nothing written) when a unit is held by another shipment."""
        ...

    def shipped(self, shipment_id: int, *, tiktok_package_id: str, tracking_number: str | None = None,
                provider_id: str | None = None, provider_name: str | None = None) -> None:
        """TikTok shipped it: ``shipped`` with its package (``shipped_at`` set the first time only)."""
        ...

    def refused(self, shipment_id: int, error: str) -> None:
        """TikTok refused it: ``refused`` with the error, and its units free for a corrected attempt."""
        ...

    def tracking_updated(self, shipment_id: int, *, tracking_number: str, provider_id: str, provider_name: str,
                         carrier: str) -> None:
        """TikTok took a corrected tracking number (the error cleared)."""
        ...

    def note_error(self, shipment_id: int, error: str) -> None:
        """Keep the last error on the shipment without changing its status."""
        ...

    def mark_deleted(self, shop_id: str, order_id: str, fulfillment_id: str) -> list[Shipment]:
        """A fulfillment deleted in NetSuite: its unsent shipments become ``deleted`` (units freed); returns
        the shipped ones (TikTok cannot un-ship them)."""
        ...

    def record_external(self, *, shop_id: str, order_id: str, fulfillment_id: str, package_index: int,
                        tracking_number: str, provider_id: str, provider_name: str, line_item_ids: Sequence[str],
                        method: str, tiktok_package_id: str) -> Shipment:
        """A shipment made elsewhere (TikTok shipped an FBT package): recorded shipped with its units held,
        idempotent per package."""
        ...

    def units(self, shop_id: str, order_id: str) -> dict[str, str]:
        """Line item id → fulfillment id, for every unit of the order shipped or being shipped."""
        ...

    def unshipped(self, *, older_than: datetime, limit: int = 1000) -> list[Shipment]:
        """Shipments not on TikTok (``sending`` or ``refused``) last touched before ``older_than``, oldest
        first."""
        ...

    def counts(self) -> dict[str, int]:
        """How many shipments there are per status."""
        ...

    def claim_sla_alert(self, shop_id: str, order_id: str, level: str, deadline: datetime) -> bool:
        """True the first time (order, level) is claimed: that ship-by alert is raised once."""
        ...

    def sla_levels(self, shop_id: str, order_ids: Iterable[str]) -> dict[str, set[str]]:
        """The alert levels already claimed, per order (any number of orders)."""
        ...


__all__ = ["Shipment", "ShipmentRepository", "UnitConflict"]

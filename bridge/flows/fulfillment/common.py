"""What the fulfillment flows share: the area switch, the shop guard, the carrier settings and when
TikTok counts a unit as shipped."""

from __future__ import annotations

from bridge.domain.tiktok import LineItem
from bridge.errors import SkippableError
from bridge.mapping.carriers_spec import CarrierSettings, CarriersSpec
from bridge.mapping.specs import SpecError
from bridge.ports.specs import Specs
from bridge.ports.store import Repositories, Shop

FLOW = "fulfillment"
SHIPPED_BY_TIKTOK = "TIKTOK"
SHIPPED_DISPLAY = frozenset({"AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED", "COMPLETED"})
SHIPPED_PACKAGE = frozenset({"PROCESSING", "FULFILLING", "COMPLETED"})


def shipped_on_tiktok(li: LineItem) -> bool:
    """The unit left the seller on TikTok's records (a tracking number, or a shipped status)."""
    return not li.cancelled and (bool(li.tracking_number) or li.display_status in SHIPPED_DISPLAY
                                 or li.package_status in SHIPPED_PACKAGE)


def carriers(specs: Specs, shop: Shop) -> CarrierSettings:
    """The shop's carrier, shipping and SLA settings from ``carriers.yaml`` (defaults without it)."""
    try:
        spec = specs.get("carriers", CarriersSpec)
    except SpecError:
        return CarrierSettings()
    return spec.for_shop(shop.id, shop.name)


def active_shop(store: Repositories, shop_id: str) -> Shop:
    """The connected shop with the fulfillment flow on; a job for any other is skipped."""
    shop = store.shops.get(shop_id)
    if shop is None:
        raise SkippableError(f"shop {shop_id} is not connected")
    if not shop.flow_enabled(FLOW):
        raise SkippableError(f"the fulfillment flow is off for shop {shop_id}")
    return shop

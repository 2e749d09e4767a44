"""The shop's accounting policy read from the specs (``bridge.mapping.accounting.AccountingPolicy``):
the one place the orders, fulfillment, returns and settlement flows learn the settlement mode and
the time zone documents are dated in. docs/accounting.md describes the model."""

from __future__ import annotations

from typing import Any

from bridge.mapping.accounting import DEFAULT_ZONE, AccountingPolicy
from bridge.mapping.settlement_spec import SettlementSpec
from bridge.mapping.specs import SpecError
from bridge.ports.specs import Specs


def policy_for(specs: Specs, shop_id: str, shop: Any = None) -> AccountingPolicy:
    """The policy of ``shop_id``. Without a settlement.yaml the bridge posts no statements
    (``settles`` false, UTC dates); a shop whose settlement flow is switched off (``shop``, a
    ``bridge.store.repos.Shop``) does not settle either."""
    try:
        spec = specs.get("settlement", SettlementSpec)
    except SpecError:
        return AccountingPolicy(settles=False, time_zone=DEFAULT_ZONE)
    region = str(getattr(shop, "region", "") or "")  # the shop's market (settlement.yaml markets.<region>)
    settings = spec.for_shop(shop_id, region)
    settles = settings.enabled and (shop is None or bool(shop.flow_enabled("settlement")))
    return AccountingPolicy(mode=settings.mode, settles=settles, time_zone=spec.time_zone(shop_id, region))


__all__ = ["policy_for"]

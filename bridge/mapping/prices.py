"""TikTok SKU prices from NetSuite price levels (pure).

For each SKU: the price level in force (``prices.yaml``: the default level or an effective-dated
window), NetSuite's price of that level in the shop's currency, rounded half-up to the currency's
step on TikTok (the rounding difference is kept on the line so a report can reconcile NetSuite's
price with TikTok's to the cent). Unchanged prices are not sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from bridge.mapping.prices_spec import PricesSpec

TIKTOK_MIN_PRICE = Decimal("0.01")


def round_price(amount: Decimal, step: Decimal) -> Decimal:
    """``amount`` rounded half-up to a multiple of ``step`` (0.01, 1 …), never below one step."""
    if step <= 0:
        raise ValueError("rounding step must be positive")
    units = (amount / step).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(units * step, step).quantize(step)


@dataclass(frozen=True)
class PricedSku:
    sku_id: str
    seller_sku: str
    item_id: str


@dataclass(frozen=True)
class PriceLine:
    sku_id: str
    seller_sku: str
    item_id: str
    currency: str
    level: str
    why: str
    netsuite: Decimal | None
    price: Decimal | None
    rounding: Decimal  # price - netsuite (reconciled per line)
    current: Decimal | None
    action: str  # update | unchanged | missing | held

    def explain(self) -> str:
        return (f"{self.seller_sku}: level {self.level} ({self.why}) NetSuite {self.netsuite} {self.currency} -> "
                f"{self.price} (rounding {self.rounding:+}) TikTok now {self.current}: {self.action}")


@dataclass
class PricePlan:
    currency: str
    lines: list[PriceLine] = field(default_factory=list)

    @property
    def updates(self) -> dict[str, Decimal]:
        return {ln.sku_id: ln.price for ln in self.lines if ln.action == "update" and ln.price is not None}

    def by_action(self, action: str) -> list[PriceLine]:
        return [ln for ln in self.lines if ln.action == action]

    @property
    def rounding_total(self) -> Decimal:
        return sum((ln.rounding for ln in self.lines if ln.price is not None), Decimal(0))


def plan_prices(
    shop_id: str,
    skus: Sequence[PricedSku],
    *,
    spec: PricesSpec,
    currency: str,
    at: datetime,
    netsuite: Mapping[tuple[str, str], Decimal],
    current: Mapping[str, Decimal],
    shop_name: str = "",
) -> PricePlan:
    """Prices to send for one product's SKUs. ``netsuite`` maps (item id, price level) to NetSuite's
    price in ``currency``; ``current`` is TikTok's price per SKU id."""
    settings = spec.for_shop(shop_id, shop_name)
    step = settings.step(currency)
    plan = PricePlan(currency)
    for sku in skus:
        level, why = spec.level_at(shop_id, sku.seller_sku, at, shop_name)
        ns = netsuite.get((sku.item_id, level))
        now = current.get(sku.sku_id)
        if ns is None or ns <= 0:
            plan.lines.append(PriceLine(sku.sku_id, sku.seller_sku, sku.item_id, currency, level, why, ns, None,
                                        Decimal(0), now, "missing"))
            continue
        price = round_price(ns, step)
        action = "unchanged" if now is not None and now == price else "update"
        if (action == "update" and now and settings.max_change_pct is not None
                and abs(price - now) / now * 100 > settings.max_change_pct):
            action = "held"
        plan.lines.append(PriceLine(sku.sku_id, sku.seller_sku, sku.item_id, currency, level, why, ns, price,
                                    price - ns, now, action))
    return plan


__all__ = ["PriceLine", "PricePlan", "PricedSku", "plan_prices", "round_price"]

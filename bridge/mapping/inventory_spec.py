"""`mapping_specs/inventory.yaml`: how much of NetSuite's available stock TikTok may sell.

Per TikTok SKU and warehouse the bridge offers::

    floor(available across the linked locations * allocation / listings) - buffer - pending TikTok units

floored at 0 and capped at ``max`` (TikTok accepts at most 99,999). ``defaults`` hold the values
for everything; ``categories.<key>`` (a TikTok category id or name anywhere in the product's
category chain, leaf first) and ``skus.<seller SKU>`` override any of them; ``shops.<shop>`` (a
shop id or the shop's name) holds the same three sections for one shop. The most specific setting
wins, in this order (later wins): defaults, shop defaults, category, shop category, SKU, shop SKU.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator

from bridge.mapping.specs import SpecModel, spec_model

TIKTOK_MAX_QUANTITY = 99_999  # Update Inventory: quantity "Valid range: [1, 99,999]"
TIKTOK_MIN_QUANTITY = 1  # the documented minimum: a 0 is sent only where the shop's sold-out strategy allows


class StockRule(SpecModel):
    """Any subset of the stock settings; unset keys fall through to the less specific level."""

    allocation: Decimal | None = Field(None, ge=0, le=1, description="share of available stock offered (0..1)")
    buffer: int | None = Field(None, ge=0, description="units held back per SKU and warehouse (with dynamic_buffer: "
                               "the floor of the dynamic buffer)")
    buffer_max: int | None = Field(None, ge=0, description="the most the dynamic buffer holds back per SKU and "
                                   "warehouse")
    dynamic_buffer: bool | None = Field(None, description="hold back what the SKU sells across channels while a "
                                        "sale propagates (velocity x latency, docs/inventory.md); false: buffer only")
    max: int | None = Field(None, ge=0, le=TIKTOK_MAX_QUANTITY, description="cap per SKU and warehouse")
    enabled: bool | None = Field(None, description="false: the bridge never pushes this SKU's stock")

    @field_validator("allocation", mode="before")
    @classmethod
    def _no_float(cls, v: object) -> object:
        if isinstance(v, float):
            return str(v)  # YAML reads 0.8 as a float; its text is what the merchant wrote
        return v


SoldOutStrategy = Literal["auto", "zero", "deactivate", "keep_one"]


class SoldOut(SpecModel):
    """What the bridge sends TikTok for a SKU with nothing to sell (docs/inventory.md, "Sold out").

    Update Inventory documents ``quantity`` as "Valid range: [1, 99,999]"; whether the live API
    takes 0 is not documented either way, so the merchant chooses per shop."""

    strategy: SoldOutStrategy = Field(
        "auto", description="auto: send 0, and if TikTok refuses it (12052055) remember that for the shop and "
        "use deactivate from then on; zero: always send 0 (a refusal is an exception for the admin); "
        "deactivate: never send 0 - a product whose every SKU is sold out is deactivated (and activated "
        "again when stock returns), a sold-out SKU of a product still selling is held at 1 with an "
        "exception; keep_one: hold every sold-out SKU at 1 (the documented minimum) with an exception")


UnmatchedPolicy = Literal["leave", "zero", "deactivate"]
UNMATCHED_DESCRIPTION = (
    "TikTok SKUs with no NetSuite item (catalog.yaml match): leave: TikTok keeps its own number; zero: "
    "shown as sold out, sent the way sold_out.strategy says; deactivate: a product none of whose SKUs has an "
    "item is deactivated, the unmatched SKUs of other products are shown as sold out. Applied at the first sync, "
    "on every full re-match and whenever a new product appears; each re-match lists them in one exception")


class ShopInventory(SpecModel):
    defaults: StockRule = Field(default_factory=StockRule)
    categories: dict[str, StockRule] = Field(default_factory=dict)
    skus: dict[str, StockRule] = Field(default_factory=dict)
    sold_out: SoldOut | None = Field(None, description="this shop's sold-out strategy (else the top-level one)")
    unmatched: UnmatchedPolicy | None = Field(None, description="this shop's unmatched-SKU policy (else the "
                                              "top-level one)")


@dataclass(frozen=True)
class ResolvedRule:
    """The stock settings one SKU is computed with, and the spec keys they came from."""

    allocation: Decimal = Decimal(1)
    buffer: int = 0
    cap: int = TIKTOK_MAX_QUANTITY
    enabled: bool = True
    sources: tuple[str, ...] = ("defaults",)
    buffer_max: int = 50
    dynamic: bool = False  # off unless inventory.yaml turns it on (the shipped spec does)

    def merged(self, rule: StockRule | None, source: str) -> ResolvedRule:
        if rule is None:
            return self
        return ResolvedRule(
            allocation=self.allocation if rule.allocation is None else rule.allocation,
            buffer=self.buffer if rule.buffer is None else rule.buffer,
            cap=self.cap if rule.max is None else rule.max,
            enabled=self.enabled if rule.enabled is None else rule.enabled,
            sources=(*self.sources, source),
            buffer_max=self.buffer_max if rule.buffer_max is None else rule.buffer_max,
            dynamic=self.dynamic if rule.dynamic_buffer is None else rule.dynamic_buffer,
        )


@spec_model("inventory")
class InventorySpec(SpecModel):
    version: Literal[1] = 1
    defaults: StockRule = Field(default_factory=StockRule)
    categories: dict[str, StockRule] = Field(default_factory=dict)
    skus: dict[str, StockRule] = Field(default_factory=dict)
    shops: dict[str, ShopInventory] = Field(default_factory=dict)
    coalesce_seconds: float = Field(
        0.5, ge=0.05, le=300, description="a product's first stock move in a window is pushed at once; later ones "
        "join one push when the window closes (at most two pushes per product per window)")
    count_staged_orders: bool = Field(
        True, description="ON_HOLD orders staged as Pending Approval commit no NetSuite stock: count them as pending")
    sold_out: SoldOut = Field(default_factory=SoldOut, description="what a SKU with no sellable stock shows on TikTok")
    velocity_window_seconds: float = Field(
        60.0, gt=0, le=86_400, description="the dynamic buffer's sales velocity is measured over this window; "
        "a SKU that sold nothing in it is back at its floor")
    fallback_latency_seconds: float = Field(
        2.0, ge=0, le=3600, description="latency assumed per leg (order -> sales order, stock -> TikTok) while none "
        "has been observed")
    unmatched: UnmatchedPolicy = Field("leave", description=UNMATCHED_DESCRIPTION)

    def unmatched_for(self, shop_id: str, shop_name: str = "") -> UnmatchedPolicy:
        key = self.shop_key(shop_id, shop_name)
        shop = self.shops[key] if key is not None else None
        if shop is not None and shop.unmatched is not None:
            return shop.unmatched
        return self.unmatched

    def sold_out_for(self, shop_id: str, shop_name: str = "") -> SoldOutStrategy:
        key = self.shop_key(shop_id, shop_name)
        shop = self.shops[key] if key is not None else None
        if shop is not None and shop.sold_out is not None:
            return shop.sold_out.strategy
        return self.sold_out.strategy

    def shop_key(self, shop_id: str, shop_name: str = "") -> str | None:
        if shop_id in self.shops:
            return shop_id
        return shop_name if shop_name and shop_name in self.shops else None

    def rule_for(self, shop_id: str, seller_sku: str, categories: Sequence[str] = (),
                 shop_name: str = "") -> ResolvedRule:
        """The settings for one SKU (pure). ``categories`` is the product's chain, leaf first."""
        key = self.shop_key(shop_id, shop_name)
        shop = self.shops[key] if key is not None else None
        r = ResolvedRule(sources=()).merged(self.defaults, "defaults")
        if shop is not None:
            r = r.merged(shop.defaults, f"shops.{key}.defaults")
        cat = next((c for c in categories if c in self.categories), None)
        if cat is not None:
            r = r.merged(self.categories[cat], f"categories.{cat}")
        if shop is not None:
            scat = next((c for c in categories if c in shop.categories), None)
            if scat is not None:
                r = r.merged(shop.categories[scat], f"shops.{key}.categories.{scat}")
        r = r.merged(self.skus.get(seller_sku), f"skus.{seller_sku}")
        if shop is not None:
            r = r.merged(shop.skus.get(seller_sku), f"shops.{key}.skus.{seller_sku}")
        return r

    def has_category_rules(self) -> bool:
        return bool(self.categories) or any(s.categories for s in self.shops.values())


__all__ = ["TIKTOK_MAX_QUANTITY", "TIKTOK_MIN_QUANTITY", "InventorySpec", "ResolvedRule", "ShopInventory", "SoldOut",
           "SoldOutStrategy", "StockRule"]

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

TIKTOK_MAX_QUANTITY = 99_999  # Update Inventory: quantity "Valid range: [1, 99,999]" (0 clears stock)


class StockRule(SpecModel):
    """Any subset of the stock settings; unset keys fall through to the less specific level."""

    allocation: Decimal | None = Field(None, ge=0, le=1, description="share of available stock offered (0..1)")
    buffer: int | None = Field(None, ge=0, description="units held back per SKU and warehouse")
    max: int | None = Field(None, ge=0, le=TIKTOK_MAX_QUANTITY, description="cap per SKU and warehouse")
    enabled: bool | None = Field(None, description="false: the bridge never pushes this SKU's stock")

    @field_validator("allocation", mode="before")
    @classmethod
    def _no_float(cls, v: object) -> object:
        if isinstance(v, float):
            return str(v)  # YAML reads 0.8 as a float; its text is what the merchant wrote
        return v


class ShopInventory(SpecModel):
    defaults: StockRule = Field(default_factory=StockRule)
    categories: dict[str, StockRule] = Field(default_factory=dict)
    skus: dict[str, StockRule] = Field(default_factory=dict)


@dataclass(frozen=True)
class ResolvedRule:
    """The stock settings one SKU is computed with, and the spec keys they came from."""

    allocation: Decimal = Decimal(1)
    buffer: int = 0
    cap: int = TIKTOK_MAX_QUANTITY
    enabled: bool = True
    sources: tuple[str, ...] = ("defaults",)

    def merged(self, rule: StockRule | None, source: str) -> ResolvedRule:
        if rule is None:
            return self
        return ResolvedRule(
            allocation=self.allocation if rule.allocation is None else rule.allocation,
            buffer=self.buffer if rule.buffer is None else rule.buffer,
            cap=self.cap if rule.max is None else rule.max,
            enabled=self.enabled if rule.enabled is None else rule.enabled,
            sources=(*self.sources, source),
        )


@spec_model("inventory")
class InventorySpec(SpecModel):
    version: Literal[1] = 1
    defaults: StockRule = Field(default_factory=StockRule)
    categories: dict[str, StockRule] = Field(default_factory=dict)
    skus: dict[str, StockRule] = Field(default_factory=dict)
    shops: dict[str, ShopInventory] = Field(default_factory=dict)
    coalesce_seconds: float = Field(
        2.0, ge=0.05, le=300, description="stock moves of one product within this window become one update")
    count_staged_orders: bool = Field(
        True, description="ON_HOLD orders staged as Pending Approval commit no NetSuite stock: count them as pending")

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


__all__ = ["TIKTOK_MAX_QUANTITY", "InventorySpec", "ResolvedRule", "ShopInventory", "StockRule"]

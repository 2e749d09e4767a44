"""`mapping_specs/prices.yaml`: which NetSuite price level TikTok sells at, per currency, and when.

``defaults.price_level`` is the level in force; ``defaults.currencies`` maps each TikTok currency
to the NetSuite currency whose price of that level is read. ``windows`` are effective-dated
cut-overs: a price level in force from ``start`` (and back to the default level at ``end``); the
bridge runs a job at each boundary. ``rounding`` is the currency's smallest unit on TikTok (prices
are rounded half-up to it and the difference is reported). ``shops.<shop_id>`` overrides
``defaults`` for one shop (keyed by shop id or shop name).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from bridge.mapping.specs import SpecModel, SpecProblem, deep_merge, shop_problems, spec_model

NsId = str
# The smallest price step per currency on TikTok Shop (ISO 4217 minor units).
DEFAULT_ROUNDING: dict[str, Decimal] = {
    "USD": Decimal("0.01"), "GBP": Decimal("0.01"), "EUR": Decimal("0.01"), "MXN": Decimal("0.01"),
    "BRL": Decimal("0.01"), "SGD": Decimal("0.01"), "MYR": Decimal("0.01"), "PHP": Decimal("0.01"),
    "THB": Decimal("0.01"), "JPY": Decimal("1"), "IDR": Decimal("1"), "VND": Decimal("1"),
}


class PriceSettings(SpecModel):
    price_level: NsId = Field("1", description="NetSuite price level TikTok sells at")
    list_price_level: NsId | None = Field(None, description="optional level sent as list price (MSRP)")
    currencies: dict[str, NsId] = Field(default_factory=dict, description="TikTok currency -> NetSuite currency id")
    rounding: dict[str, Decimal] = Field(default_factory=dict, description="currency -> smallest step, e.g. '0.01'")
    max_change_pct: Decimal | None = Field(
        None, gt=0, description="a change larger than this (percent) is held as an exception for a person")

    @field_validator("rounding", mode="before")
    @classmethod
    def _no_float(cls, v: object) -> object:
        if isinstance(v, dict):
            return {k: str(x) if isinstance(x, float) else x for k, x in v.items()}
        return v

    def step(self, currency: str) -> Decimal:
        return self.rounding.get(currency) or DEFAULT_ROUNDING.get(currency) or Decimal("0.01")


class PriceWindow(SpecModel):
    """A price level in force from ``start`` until ``end`` (UTC; give the offset or a trailing Z)."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    price_level: NsId
    start: datetime
    end: datetime | None = None
    shops: list[str] = Field(default_factory=list, description="empty: every shop")
    skus: list[str] = Field(default_factory=list, description="seller SKUs; empty: every SKU")

    @field_validator("start", "end")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("the time has no UTC offset | fix: write it like 2025-11-28T05:00:00Z")
        return None if v is None else v.astimezone(UTC)

    @model_validator(mode="after")
    def _ordered(self) -> PriceWindow:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"window {self.name} ends before it starts | fix: make end later than start")
        return self

    def applies(self, shop_id: str, seller_sku: str, at: datetime, shop_name: str = "") -> bool:
        if self.shops and shop_id not in self.shops and (not shop_name or shop_name not in self.shops):
            return False
        if self.skus and seller_sku not in self.skus:
            return False
        return self.start <= at and (self.end is None or at < self.end)


@spec_model("prices")
class PricesSpec(SpecModel):
    version: Literal[1] = 1
    defaults: PriceSettings = Field(default_factory=PriceSettings)
    windows: list[PriceWindow] = Field(default_factory=list)
    shops: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def extra_problems(self, file: str) -> list[SpecProblem]:
        out: list[SpecProblem] = []
        names = [w.name for w in self.windows]
        for name in sorted({n for n in names if names.count(n) > 1}):
            out.append(SpecProblem(file, "windows", f"window name {name!r} is used twice", "give each window a "
                                   "unique name (it keys the cut-over jobs)"))
        return out + shop_problems(file, PriceSettings, self.shops, self.for_shop)

    def for_shop(self, shop_id: str, shop_name: str = "") -> PriceSettings:
        """Settings for one shop (``shops`` keyed by shop id or shop name)."""
        override = self.shops.get(shop_id) or (self.shops.get(shop_name) if shop_name else None)
        if not override:
            return self.defaults
        base = self.defaults.model_dump(mode="json", exclude_unset=True)
        return PriceSettings.model_validate(deep_merge(base, override))

    def level_at(self, shop_id: str, seller_sku: str, at: datetime, shop_name: str = "") -> tuple[NsId, str]:
        """(price level, why) in force for one SKU at ``at``: the latest-starting window that applies,
        else the shop's default level (pure)."""
        live = [w for w in self.windows if w.applies(shop_id, seller_sku, at, shop_name)]
        if live:
            w = max(live, key=lambda x: x.start)
            return w.price_level, f"window {w.name}"
        return self.for_shop(shop_id, shop_name).price_level, "default"

    def boundaries(self, after: datetime, until: datetime) -> list[tuple[datetime, str]]:
        """Every window start/end in ``(after, until]``: when prices must be cut over."""
        out: list[tuple[datetime, str]] = []
        for w in self.windows:
            for t, edge in ((w.start, "start"), (w.end, "end")):
                if t is not None and after < t <= until:
                    out.append((t, f"{w.name}:{edge}"))
        return sorted(out)


__all__ = ["DEFAULT_ROUNDING", "PriceSettings", "PriceWindow", "PricesSpec"]

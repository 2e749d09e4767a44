"""`mapping_specs/carriers.yaml`: how a NetSuite shipment reaches TikTok.

``providers`` names TikTok shipping providers (by their TikTok name, e.g. ``USPS``) and the
NetSuite words that mean them: ``aliases`` (ship method names, carrier names, package carriers),
an optional ``tracking_pattern`` that recognises the provider's tracking numbers when the NetSuite
carrier is ambiguous (NetSuite's ``FedEx/USPS/More``), and an optional pinned ``provider_id``.
``ship_methods`` maps NetSuite ship item ids straight to a provider. ``shipping`` chooses the API
(Mark Package As Shipped where TikTok offers it, else Ship Package), how long a tracking number may
still be corrected, and ``sla`` when an unshipped order raises an alert.

``defaults`` apply to every shop; ``shops.<shop id or name>`` overrides any part for one shop.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from bridge.mapping.specs import SpecModel, SpecProblem, deep_merge, shop_problems, spec_model

# Markets where TikTok documents Mark Package As Shipped (its page: "exclusive to the following
# markets"); elsewhere the seller ships a package with Ship Package (self_shipment).
MARK_SHIPPED_MARKETS = ("US", "GB", "UK", "ES", "IE", "IT", "DE", "FR", "JP")


class ProviderSpec(SpecModel):
    """One TikTok shipping provider and the NetSuite names that mean it."""

    aliases: list[str] = Field(default_factory=list, description="NetSuite ship method / carrier names")
    tracking_pattern: str | None = Field(None, description="regular expression of its tracking numbers")
    provider_id: str | None = Field(None, description="TikTok provider id (else found by name)")

    @field_validator("tracking_pattern")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"not a regular expression ({exc}) | fix: quote it in single quotes and "
                                 "escape backslashes once, e.g. '^1Z[0-9A-Z]{16}$'") from None
        return v


class ShippingSpec(SpecModel):
    """Which TikTok API ships a seller-shipped package."""

    api: Literal["auto", "mark_package_shipped", "ship_package"] = "auto"
    mark_shipped_markets: list[str] = Field(default_factory=lambda: list(MARK_SHIPPED_MARKETS))
    tracking_update_hours: int = Field(72, ge=0, description="an edited tracking number is sent this long")
    only_shipped_status: bool = Field(True, description="push fulfillments only once their status is Shipped (C)")


class SlaSpec(SpecModel):
    """Alerts for orders approaching their ship-by time without a fulfillment."""

    enabled: bool = True
    warn_hours: float = Field(12, gt=0, description="alert this long before the deadline")
    critical_hours: float = Field(2, ge=0, description="alert again (critical) this long before it")
    deadline: Literal["rts_sla_time", "shipping_due_time", "tts_sla_time"] = Field(
        "rts_sla_time", description="the TikTok order time the alert counts down to (first of it, then the others)")


class CarrierSettings(SpecModel):
    providers: dict[str, ProviderSpec] = Field(default_factory=dict, description="TikTok provider name → spec")
    ship_methods: dict[str, str] = Field(default_factory=dict, description="NetSuite ship item id → provider name")
    match_tracking_numbers: bool = True
    default_provider: str | None = Field(None, description="provider when nothing else names one")
    shipping: ShippingSpec = Field(default_factory=ShippingSpec)
    sla: SlaSpec = Field(default_factory=SlaSpec)

    @model_validator(mode="after")
    def _known_names(self) -> CarrierSettings:
        known = set(self.providers)
        bad = sorted({v for v in self.ship_methods.values() if v not in known})
        if self.default_provider and self.default_provider not in known:
            bad.append(self.default_provider)
        if bad:
            raise ValueError(f"provider(s) {', '.join(bad)} are not listed under providers | fix: add them under "
                             "providers (the TikTok provider name) or correct the spelling")
        return self


@spec_model("carriers")
class CarriersSpec(SpecModel):
    version: Literal[1] = 1
    defaults: CarrierSettings = Field(default_factory=CarrierSettings)
    shops: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def extra_problems(self, file: str) -> list[SpecProblem]:
        return shop_problems(file, CarrierSettings, self.shops, self.for_shop)

    def for_shop(self, shop_id: str, shop_name: str = "") -> CarrierSettings:
        override = self.shops.get(shop_id) or (self.shops.get(shop_name) if shop_name else None)
        if not override:
            return self.defaults
        base = self.defaults.model_dump(exclude_unset=True, mode="json")
        return CarrierSettings.model_validate(deep_merge(base, override))


__all__ = ["MARK_SHIPPED_MARKETS", "CarrierSettings", "CarriersSpec", "ProviderSpec", "ShippingSpec", "SlaSpec"]

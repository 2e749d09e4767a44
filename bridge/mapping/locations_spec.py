"""`mapping_specs/locations.yaml`: which NetSuite locations stock each TikTok warehouse.

A TikTok warehouse is fed by one or more NetSuite locations (their *available* quantities add
up). FBT warehouses are marked ``tiktok_managed``: TikTok holds and counts that stock, the bridge
never pushes a quantity to them, and a location listed under one (the NetSuite mirror of FBT
stock) can never feed a merchant warehouse of the same shop.

``shops.<shop>`` lists one shop's warehouses (the key is the shop id or the shop's name);
``shops."*"`` applies to every shop without its own entry. A warehouse is named by its TikTok
id or its exact name (``ttns locations pull`` lists both; ``ttns locations link`` writes ids).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, field_validator, model_validator

from bridge.mapping.specs import SpecModel, SpecProblem, spec_model

NsId = str
ANY_SHOP = "*"


class WarehouseLinkSpec(SpecModel):
    """One TikTok warehouse and the NetSuite locations whose stock it sells."""

    warehouse: str = Field(min_length=1, description="TikTok warehouse id or its exact name")
    locations: list[NsId] = Field(default_factory=list, description="NetSuite location ids (quote them)")
    tiktok_managed: bool = Field(False, description="an FBT warehouse: TikTok counts its stock, never pushed")

    @model_validator(mode="after")
    def _needs_locations(self) -> WarehouseLinkSpec:
        if not self.tiktok_managed and not self.locations:
            raise ValueError(f"warehouse {self.warehouse!r} has no NetSuite location | fix: list the location ids "
                             "whose available stock it sells, or mark it tiktok_managed: true (FBT)")
        if len(set(self.locations)) != len(self.locations):
            raise ValueError(f"warehouse {self.warehouse!r} lists a location twice | fix: list each location once")
        return self


class ShopLocations(SpecModel):
    warehouses: list[WarehouseLinkSpec] = Field(default_factory=list)

    def problems(self, file: str, prefix: str) -> list[SpecProblem]:
        out: list[SpecProblem] = []
        seen: dict[str, int] = {}
        merchant: dict[str, str] = {}
        managed: dict[str, str] = {}
        for i, link in enumerate(self.warehouses):
            key = f"{prefix}.warehouses[{i}]"
            if link.warehouse in seen:
                out.append(SpecProblem(file, key, f"warehouse {link.warehouse!r} is listed twice",
                                       f"merge it with warehouses[{seen[link.warehouse]}]"))
            seen.setdefault(link.warehouse, i)
            for loc in link.locations:
                target = managed if link.tiktok_managed else merchant
                other = target.get(loc)
                if other is not None and not link.tiktok_managed:
                    out.append(SpecProblem(
                        file, key, f"location {loc} already feeds warehouse {other!r}; its stock would be sold twice",
                        "link each location to one merchant warehouse per shop (use allocation shares in "
                        "inventory.yaml to split stock between shops)"))
                target.setdefault(loc, link.warehouse)
        for loc, wh in merchant.items():
            if loc in managed:
                out.append(SpecProblem(
                    file, prefix, f"location {loc} is FBT stock (warehouse {managed[loc]!r}) and also feeds merchant "
                    f"warehouse {wh!r}", "FBT stock is never sellable from merchant warehouses: remove the location "
                    "from one of them"))
        return out


class FbtAdjustments(SpecModel):
    """How TikTok's FBT stock becomes NetSuite's truth at the FBT locations (``ttns fulfillment
    fbt-stock``, daily and on webhook 24). ``report``: differences are one exception for a person.
    ``adjust``: a SKU whose difference is within both ``max_units`` and ``max_percent`` (of TikTok's
    figure) is corrected by an inventory adjustment at the FBT location, posted to ``account``;
    larger differences stay an exception for a person."""

    policy: Literal["report", "adjust"] = "report"
    max_units: int = Field(5, ge=0, description="largest difference (units) adjusted without a person")
    max_percent: Decimal = Field(Decimal("10"), ge=0, description="largest difference (percent of TikTok's on-hand) "
                                 "adjusted without a person")
    account: NsId | None = Field(None, description="NetSuite account the adjustments post to (inventory shrinkage)")
    subsidiary: NsId | None = Field(None, description="subsidiary of the adjustments (OneWorld accounts)")

    @field_validator("max_percent", mode="before")
    @classmethod
    def _no_float(cls, v: object) -> object:
        return str(v) if isinstance(v, float) else v

    @model_validator(mode="after")
    def _account(self) -> FbtAdjustments:
        if self.policy == "adjust" and not self.account:
            raise ValueError("fbt_adjustments.policy is adjust but no account is named | fix: set "
                             "fbt_adjustments.account to the NetSuite account FBT adjustments post to")
        return self

    def within(self, difference: int, tiktok: int) -> bool:
        """Whether a difference (TikTok minus NetSuite) is corrected without a person (pure)."""
        d = abs(difference)
        return d <= self.max_units and (tiktok > 0 and Decimal(d) * 100 <= self.max_percent * tiktok)


class FbtTransfers(SpecModel):
    """Stock the merchant ships into TikTok's FBT warehouses (``ttns fulfillment fbt-stock``).
    ``off``: nothing is recorded (the FBT check sees the arrival as a difference). ``record``: each
    inbound order TikTok received is one NetSuite inventory transfer of its *normal* units from the
    merchant location named here for the FBT warehouse (``from_locations``: warehouse id or name as
    in ``shops`` → location id) to that warehouse's first FBT location. Defective units are not
    transferred as sellable stock."""

    policy: Literal["off", "record"] = "off"
    from_locations: dict[str, NsId] = Field(default_factory=dict, description="FBT warehouse (id or name) -> "
                                            "the NetSuite location merchant stock leaves from")
    lookback_days: int = Field(30, ge=1, le=365, description="how far back TikTok's inventory records are read")
    subsidiary: NsId | None = Field(None, description="subsidiary of the transfers (OneWorld accounts)")

    @field_validator("policy", mode="before")
    @classmethod
    def _yaml_off(cls, v: object) -> object:
        return "off" if v is False else v  # an unquoted YAML `off` reads as false

    @model_validator(mode="after")
    def _sources(self) -> FbtTransfers:
        if self.policy == "record" and not self.from_locations:
            raise ValueError("fbt_transfers.policy is record but no from_locations are named | fix: map each FBT "
                             "warehouse to the NetSuite location its stock is shipped from")
        return self

    def source_for(self, warehouse_id: str, warehouse_name: str, listed_as: str) -> NsId | None:
        """The merchant location stock for this FBT warehouse leaves from (pure)."""
        for key in (listed_as, warehouse_id, warehouse_name):
            if key in self.from_locations:
                return self.from_locations[key]
        return None



@spec_model("locations")
class LocationsSpec(SpecModel):
    version: Literal[1] = 1
    shops: dict[str, ShopLocations] = Field(default_factory=dict)
    ignore_locations: list[NsId] = Field(
        default_factory=list, description="NetSuite locations deliberately not sold on TikTok (doctor stays quiet)")
    ignore_warehouses: list[str] = Field(
        default_factory=list, description="TikTok warehouses deliberately not fed by the bridge (ids or names)")
    fbt_adjustments: FbtAdjustments = Field(default_factory=FbtAdjustments)
    fbt_transfers: FbtTransfers = Field(default_factory=FbtTransfers)

    def extra_problems(self, file: str) -> list[SpecProblem]:
        out: list[SpecProblem] = []
        for shop_id, shop in self.shops.items():
            out.extend(shop.problems(file, f"shops.{shop_id}"))
        managed = {w.warehouse: w for s in self.shops.values() for w in s.warehouses if w.tiktok_managed}
        fbt_locs = {loc for w in managed.values() for loc in w.locations}
        for wh, loc in self.fbt_transfers.from_locations.items():
            key = f"fbt_transfers.from_locations.{wh}"
            if wh not in managed:
                out.append(SpecProblem(file, key, f"{wh!r} is not a tiktok_managed warehouse under shops",
                                       "name the FBT warehouse exactly as it is listed under shops"))
            elif not managed[wh].locations:
                out.append(SpecProblem(file, key, f"FBT warehouse {wh!r} lists no NetSuite location to receive "
                                       "the transfer", f"add its FBT location under shops (warehouse {wh!r})"))
            if loc in fbt_locs:
                out.append(SpecProblem(file, key, f"location {loc} is an FBT location, not where merchant stock "
                                       "leaves from", "name the merchant location the inbound shipment is "
                                       "packed at"))
        return out

    def for_shop(self, shop_id: str, shop_name: str = "") -> ShopLocations:
        """The shop's own entry (by id, else by name), else the ``"*"`` entry, else no warehouses."""
        return (self.shops.get(shop_id) or (self.shops.get(shop_name) if shop_name else None)
                or self.shops.get(ANY_SHOP) or ShopLocations())


__all__ = ["ANY_SHOP", "FbtAdjustments", "FbtTransfers", "LocationsSpec", "ShopLocations", "WarehouseLinkSpec"]

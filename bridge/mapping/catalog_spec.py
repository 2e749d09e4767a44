"""`mapping_specs/catalog.yaml`: how NetSuite items and TikTok SKUs are matched, and how items
become TikTok products.

``source: netsuite`` — NetSuite is the catalog master: ``ttns catalog push`` creates and updates
TikTok products from NetSuite items (matrix parents become multi-SKU products, their children the
SKUs); inactive items deactivate their product, never delete it. ``source: tiktok`` — match only:
TikTok SKUs are linked to NetSuite items by seller SKU and the differences reported; nothing is
created.

``match`` is the one SKU rule every flow uses (``bridge.mapping.skus``): ``match.by`` names the NetSuite
item field that equals the TikTok seller SKU, ``match.case`` / ``match.spaces`` the normalisation and
``match.overrides`` maps a seller SKU to a NetSuite item id where the two differ. ``shops.<shop_id>`` overrides any of
``source``, ``match`` and ``defaults`` for one shop, keyed by shop id or name (mappings merge key by key).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from bridge.mapping.skus import MatchSpec
from bridge.mapping.specs import SpecModel, SpecProblem, deep_merge, shop_problems, spec_model

NsId = str
WeightUnit = Literal["KILOGRAM", "POUND", "GRAM"]
DimensionUnit = Literal["CENTIMETER", "INCH"]


class ImagesSpec(SpecModel):
    field: str | None = Field(None, description="NetSuite item field holding an image URL (downloaded, uploaded)")
    fallback_uris: list[str] = Field(default_factory=list, description="TikTok image URIs used when an item has none")


class WeightSpec(SpecModel):
    field: str | None = "weight"
    unit_field: str | None = "weightUnit"
    default: Decimal | None = Field(None, gt=0, description="used when the item has no weight")
    unit: WeightUnit = "POUND"

    @field_validator("default", mode="before")
    @classmethod
    def _no_float(cls, v: object) -> object:
        return str(v) if isinstance(v, float) else v


class DimensionsSpec(SpecModel):
    """Package dimensions: NetSuite has no standard dimension fields, so custom fields or defaults."""

    length_field: str | None = None
    width_field: str | None = None
    height_field: str | None = None
    length: int | None = Field(None, gt=0)
    width: int | None = Field(None, gt=0)
    height: int | None = Field(None, gt=0)
    unit: DimensionUnit = "INCH"


class VariantAttribute(SpecModel):
    """A TikTok sales attribute of matrix children, read from a NetSuite item field."""

    name: str = Field(min_length=1, description="TikTok sales attribute name, e.g. Color")
    field: str | None = Field(None, description="NetSuite child item field holding the value")
    attribute_id: str | None = Field(None, description="TikTok attribute id (built-in attribute)")


class CategoryRule(SpecModel):
    """Items matching ``when`` (every condition) go to ``category_id`` with these attributes."""

    when: dict[Literal["itemid_prefix", "class", "parent", "item"], str]
    category_id: str
    attributes: dict[str, list[str]] = Field(default_factory=dict)
    brand_id: str | None = None


class ProductDefaults(SpecModel):
    category_id: str | None = Field(None, description="TikTok leaf category when no rule matches")
    brand_id: str | None = None
    title_field: str = "displayName"
    description_field: str = "salesDescription"
    description_template: str = "<p>{description}</p>"
    images: ImagesSpec = Field(default_factory=ImagesSpec)
    weight: WeightSpec = Field(default_factory=WeightSpec)
    dimensions: DimensionsSpec = Field(default_factory=DimensionsSpec)
    attributes: dict[str, list[str]] = Field(default_factory=dict, description="attribute id -> values (ids or names)")
    variant_attributes: list[VariantAttribute] = Field(default_factory=list)
    save_mode: Literal["LISTING", "AS_DRAFT"] = "LISTING"
    price_level: NsId = Field("1", description="NetSuite price level of the listing price (see prices.yaml)")
    initial_quantity: int = Field(
        1, ge=1, le=99_999, description="stock a new SKU starts with until the inventory push (Create Product "
        "documents quantity as [1, 99,999])")


class CatalogSettings(SpecModel):
    source: Literal["netsuite", "tiktok"] = "netsuite"
    match: MatchSpec = Field(default_factory=MatchSpec)
    defaults: ProductDefaults = Field(default_factory=ProductDefaults)
    categories: list[CategoryRule] = Field(default_factory=list)
    include_inactive: bool = Field(True, description="inactive items deactivate their product")

    @model_validator(mode="after")
    def _category_needed(self) -> CatalogSettings:
        if self.source == "netsuite" and not self.defaults.category_id and not self.categories:
            raise ValueError("source is netsuite but no TikTok category is named | fix: set defaults.category_id "
                             "(a leaf category id from `ttns catalog categories`) or add categories rules")
        return self


@spec_model("catalog")
class CatalogSpec(SpecModel):
    version: Literal[1] = 1
    source: Literal["netsuite", "tiktok"] = "netsuite"
    match: MatchSpec = Field(default_factory=MatchSpec)
    defaults: ProductDefaults = Field(default_factory=ProductDefaults)
    categories: list[CategoryRule] = Field(default_factory=list)
    include_inactive: bool = True
    coalesce_seconds: float = Field(
        1.0, gt=0, le=60, description="NetSuite item and price edits within this window become one push per product")
    shops: dict[str, dict[str, Any]] = Field(default_factory=dict)

    def extra_problems(self, file: str) -> list[SpecProblem]:
        return shop_problems(file, CatalogSettings, ("", *self.shops), self.for_shop)

    def for_shop(self, shop_id: str, shop_name: str = "") -> CatalogSettings:
        """Settings for one shop (``shops`` keyed by shop id or shop name)."""
        base = self.model_dump(mode="json", exclude={"version", "shops", "coalesce_seconds"}, exclude_unset=False)
        override = self.shops.get(shop_id) or (self.shops.get(shop_name) if shop_name else None) or {}
        return CatalogSettings.model_validate(deep_merge(base, override))


__all__ = ["CatalogSettings", "CatalogSpec", "CategoryRule", "MatchSpec", "ProductDefaults", "VariantAttribute"]

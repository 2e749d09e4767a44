"""The one SKU rule (pure): how a TikTok seller SKU finds its NetSuite item.

It lives in ``catalog.yaml`` under ``match`` (per shop under ``shops.<id>.match``) and every flow
reads it from there: ``ttns skus match``, orders, stock, returns and the catalog push. ``by`` names
the NetSuite item field compared with the seller SKU; ``case`` and ``spaces`` say how both sides are
normalised before comparing; ``overrides`` pins a seller SKU (normalised the same way) to an item id.
So what ``skus match`` reports matched is exactly what an order resolves.

SuiteQL cannot casefold, so case-insensitive keys are upper-cased on both sides (``UPPER`` in the
query, ``str.upper`` here); the query only narrows candidates and ``sku_key`` decides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal

from pydantic import Field, model_validator

from bridge.mapping.specs import SpecModel

NsId = str
LookupField = Literal["itemid", "upccode", "externalid"]
_SPACE = re.compile(r"\s+")


class MatchSpec(SpecModel):
    """The SKU rule: the NetSuite field compared, the normalisation, the overrides."""

    by: LookupField = Field("itemid", description="NetSuite item field that equals the TikTok seller SKU")
    case: Literal["ignore", "exact"] = Field(
        "ignore", description="ignore: LAMP-01 and Lamp-01 are one SKU; exact: they differ")
    spaces: Literal["trim", "ignore", "exact"] = Field(
        "trim", description="trim: surrounding whitespace is dropped; ignore: all whitespace is dropped; "
        "exact: whitespace counts")
    overrides: dict[str, NsId] = Field(
        default_factory=dict, description="seller SKU -> NetSuite internal item id (keys normalised like SKUs)")

    @model_validator(mode="after")
    def _overrides_distinct(self) -> MatchSpec:
        seen: dict[str, tuple[str, str]] = {}
        for raw, item in self.overrides.items():
            k = self.key(raw)
            if not k:
                raise ValueError(f"overrides has an empty seller SKU {raw!r} | fix: remove it")
            if k in seen and seen[k][1] != item:
                raise ValueError(
                    f"overrides {seen[k][0]!r} and {raw!r} are the same SKU under case={self.case}, "
                    f"spaces={self.spaces} but name different items ({seen[k][1]}, {item}) | fix: keep one of them")
            seen[k] = (raw, item)
        return self

    def key(self, raw: str) -> str:
        """The normalised form two SKUs are compared in."""
        return sku_key(raw, case=self.case, spaces=self.spaces)

    def override(self, seller_sku: str) -> NsId | None:
        """The item id ``overrides`` pins this seller SKU to, if any."""
        k = self.key(seller_sku)
        if not k:
            return None
        for raw, item in self.overrides.items():
            if self.key(raw) == k:
                return item
        return None

    def sql_key(self, column: str) -> str:
        """A SuiteQL expression over ``column`` that narrows to the rows whose key can equal ours."""
        return sql_key(column, case=self.case, spaces=self.spaces)


def sku_key(raw: str, *, case: str = "ignore", spaces: str = "trim") -> str:
    out = raw
    if spaces == "trim":
        out = out.strip()
    elif spaces == "ignore":
        out = _SPACE.sub("", out)
    if case == "ignore":
        out = out.upper()
    return out


def sql_key(column: str, *, case: str = "ignore", spaces: str = "trim") -> str:
    expr = column
    if spaces == "trim":
        expr = f"TRIM({expr})"
    elif spaces == "ignore":
        expr = f"REPLACE({expr}, ' ', '')"
    if case == "ignore":
        expr = f"UPPER({expr})"
    return expr


def group_by_key(skus: Mapping[str, str] | list[str], rule: MatchSpec) -> dict[str, list[str]]:
    """Seller SKUs grouped by their normalised key (empty keys dropped)."""
    out: dict[str, list[str]] = {}
    for s in skus:
        k = rule.key(s)
        if k:
            out.setdefault(k, []).append(s)
    return out


__all__ = ["LookupField", "MatchSpec", "group_by_key", "sku_key", "sql_key"]

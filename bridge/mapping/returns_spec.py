"""`mapping_specs/returns.yaml`: what TikTok cancellations, returns and refunds become in NetSuite.

* ``return_authorization`` — a return request becomes a return authorization transformed from the
  sales order (``create_on: requested`` at the request, ``approved`` once the seller approved it);
  a rejected or cancelled request closes it.
* ``refund`` — a completed refund becomes a ``credit_memo`` or a ``cash_refund`` with TikTok's refund
  amounts (per unit subtotal, shipping, tax as configured). From the return authorization when
  there is one; a refund without a return (``REFUND``) uses ``refund_only``: a return authorization
  whose lines are closed once credited (nothing to receive), or a standalone document on ``item``.
* ``cancellations`` — how lines closed in NetSuite ask TikTok to cancel (reasons, markets).
* ``enabled`` switches the whole returns flow off per shop (``shops.<id or name>.enabled: false``).

References are NetSuite internal ids or ``eid:EXTERNAL_ID`` (resolved once per process).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from bridge.mapping.specs import (
    SpecModel,
    SpecProblem,
    layered,
    market_keys,
    market_problems,
    shop_problems,
    spec_model,
)

NsId = str
LINE_LEVEL_MARKETS = ("US", "GB", "UK")


class ReturnAuthorizationSpec(SpecModel):
    enabled: bool = True
    create_on: Literal["requested", "approved"] = "requested"
    order_status: Literal["A", "B"] = Field("B", description="A pending approval, B pending receipt")
    location: NsId | None = Field(None, description="receiving location (default: the sales order line's)")


class RefundSpec(SpecModel):
    enabled: bool = True
    document: Literal["credit_memo", "cash_refund"] = "credit_memo"
    refund_only: Literal["return_authorization", "standalone"] = "return_authorization"
    item: NsId | None = Field(None, description="non-inventory item for standalone refunds")
    shipping: Literal["body", "line", "none"] = Field("body", description="refunded shipping: shippingCost, a line")
    shipping_item: NsId | None = None
    tax: Literal["none", "line"] = Field("none", description="refunded tax: left out (marketplace facilitator)")
    tax_item: NsId | None = None
    account: NsId | None = Field(None, description="cash refund: the account the refund is paid from")
    payment_option: NsId | None = Field(None, description="cash refund: payment method")

    @model_validator(mode="after")
    def _items(self) -> RefundSpec:
        need = []
        if self.refund_only == "standalone" and not self.item:
            need.append("refund.item")
        if self.shipping == "line" and not self.shipping_item:
            need.append("refund.shipping_item")
        if self.tax == "line" and not self.tax_item:
            need.append("refund.tax_item")
        if need:
            raise ValueError(f"the modes chosen need items to post to | fix: set {', '.join(need)}")
        return self


class CancellationSpec(SpecModel):
    enabled: bool = Field(True, description="close NetSuite lines for TikTok cancellations")
    request_on_tiktok: bool = Field(True, description="lines closed in NetSuite ask TikTok to cancel them")
    reasons: dict[str, str] = Field(default_factory=dict,
                                    description="NetSuite cancel reason text → TikTok seller cancel reason name")
    default_reasons: dict[str, str] = Field(
        default_factory=lambda: {"US": "seller_cancel_reason_out_of_stock",
                                 "GB": "seller_cancel_reason_out_of_stock_uk",
                                 "UK": "seller_cancel_reason_out_of_stock_uk",
                                 "*": "seller_cancel_reason_out_of_stock"},
        description="shop region → TikTok reason when the NetSuite reason is not in reasons ('*': any other)")

    def reason_for(self, text: str, region: str) -> str:
        """The TikTok seller cancel reason for NetSuite's reason text in a shop of ``region``."""
        wanted = text.strip().casefold()
        for k, v in self.reasons.items():
            if k.strip().casefold() == wanted and wanted:
                return v
        return self.default_reasons.get(region.upper()) or self.default_reasons.get("*") or \
            "seller_cancel_reason_out_of_stock"
    line_level_markets: list[str] = Field(default_factory=lambda: list(LINE_LEVEL_MARKETS))
    line_level_reason_contains: str = Field("out_of_stock", description="TikTok allows line-level cancels only "
                                            "for out-of-stock reasons")


class ReturnSettings(SpecModel):
    enabled: bool = True
    return_authorization: ReturnAuthorizationSpec = Field(default_factory=ReturnAuthorizationSpec)
    refund: RefundSpec = Field(default_factory=RefundSpec)
    cancellations: CancellationSpec = Field(default_factory=CancellationSpec)
    memo: str = "TikTok Shop {kind} {id} (order {order_id})"

    @model_validator(mode="after")
    def _refund_only_needs_ra(self) -> ReturnSettings:
        if (self.refund.enabled and self.refund.refund_only == "return_authorization"
                and not self.return_authorization.enabled and not self.refund.item):
            raise ValueError("refunds without a return are credited through a return authorization, but return "
                             "authorizations are off | fix: set refund.refund_only: standalone with refund.item, "
                             "or enable return_authorization")
        return self


@spec_model("returns")
class ReturnsSpec(SpecModel):
    version: Literal[1] = 1
    defaults: ReturnSettings = Field(default_factory=ReturnSettings)
    markets: dict[str, dict[str, Any]] = Field(default_factory=dict, description=(
        "TikTok shop region (US, GB, DE, …) → settings over defaults for every shop of that market (receiving "
        "location, refund items, cash refund account …), as in orders.yaml; shops.<id> overrides them"))
    shops: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("markets")
    @classmethod
    def _region_codes(cls, v: dict[str, Any]) -> dict[str, Any]:
        return market_keys(v)

    def extra_problems(self, file: str) -> list[SpecProblem]:
        return (market_problems(file, ReturnSettings, self.markets, lambda s, r: self.for_shop(s, region=r))
                + shop_problems(file, ReturnSettings, self.shops, self.for_shop))

    def netsuite_refs(self) -> dict[tuple[str, str], dict[str, set[str]]]:
        """Every NetSuite reference in use, for `ttns specs check`: (table, label) → {value: {where}}."""
        out: dict[tuple[str, str], dict[str, set[str]]] = {}
        for where, settings in ([("defaults", self.defaults)]
                                + [(f"markets.{m}", self.for_shop("", region=m)) for m in self.markets]
                                + [(f"shops.{s}", self.for_shop(s)) for s in self.shops]):
            for path, table, value in references(settings):
                label = _LABELS.get(table, table)
                out.setdefault((table, label), {}).setdefault(value, set()).add(f"{where}.{path}")
        return out

    def for_shop(self, shop_id: str, shop_name: str = "", region: str = "") -> ReturnSettings:
        """Defaults, then the shop's market (``markets.<region>``, its TikTok region), then the shop's own."""
        override = self.shops.get(shop_id) or (self.shops.get(shop_name) if shop_name else None)
        return layered(ReturnSettings, self.defaults, self.markets.get(region.upper()) if region else None, override)


# Settings that are NetSuite references and the SuiteQL table each lives in (for eid: resolution).
REFERENCE_PATHS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("return_authorization", "location"), "location"),
    (("refund", "item"), "item"),
    (("refund", "shipping_item"), "item"),
    (("refund", "tax_item"), "item"),
    (("refund", "account"), "account"),
    (("refund", "payment_option"), "paymentmethod"),
)


_LABELS = {"location": "location", "item": "item", "account": "account", "paymentmethod": "payment method"}


def _in_use(settings: ReturnSettings, path: tuple[str, ...]) -> bool:
    """Whether the modes chosen use the reference at ``path`` (unused ones are never looked up)."""
    r = settings.refund
    cash = r.document == "cash_refund"
    uses: dict[tuple[str, ...], bool] = {
        ("refund", "account"): cash, ("refund", "payment_option"): cash,
        ("refund", "shipping_item"): r.shipping == "line", ("refund", "tax_item"): r.tax == "line"}
    return uses.get(path, True)


def references(settings: ReturnSettings) -> list[tuple[str, str, str]]:
    """(dotted path, table, value) of every reference set and in use."""
    out = []
    dumped = settings.model_dump(mode="json")
    for path, table in REFERENCE_PATHS:
        if not _in_use(settings, path):
            continue
        node: Any = dumped
        for p in path:
            node = node.get(p) if isinstance(node, dict) else None
        if isinstance(node, str) and node:
            out.append((".".join(path), table, node))
    return out


def with_references(settings: ReturnSettings, resolved: dict[tuple[str, str], str]) -> ReturnSettings:
    dumped = settings.model_dump(mode="json")
    for path, table in REFERENCE_PATHS:
        node: Any = dumped
        for p in path[:-1]:
            node = node[p]
        value = node.get(path[-1])
        if isinstance(value, str) and (table, value) in resolved:
            node[path[-1]] = resolved[(table, value)]
    return ReturnSettings.model_validate(dumped)


__all__ = ["CancellationSpec", "RefundSpec", "ReturnAuthorizationSpec", "ReturnSettings", "ReturnsSpec",
           "references", "with_references"]

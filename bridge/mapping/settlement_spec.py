"""`mapping_specs/settlement.yaml`: where each TikTok Shop settlement amount is posted in NetSuite.

``defaults`` holds the settings for every shop; ``shops.<shop_id>`` overrides any part of them for one
shop (mappings merge key by key). ``SettlementSpec.for_shop(shop_id)`` gives the merged, validated
settings one statement is posted with.

Every amount of a statement line is a *component*: a field of ``revenue_breakdown``,
``shipping_cost_breakdown``, ``fee_tax_breakdown.fee`` / ``.tax`` (Get Transactions by Statement,
202501), or the type of an adjustment line. ``accounts.<group>`` maps each component to a GL account;
``default`` catches the fields not named (and any field TikTok adds later). The field names below
are the documented response fields (facts; a test checks them against the API digest).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, create_model, field_validator, model_validator

from bridge.mapping.accounting import check_zone, resolve_zone
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

REVENUE_FIELDS = (
    "subtotal_before_discount_amount", "refund_subtotal_before_discount_amount", "seller_discount_amount",
    "seller_discount_refund_amount", "cod_service_fee_amount", "refund_cod_service_fee_amount",
)
SHIPPING_FIELDS = (
    "actual_shipping_fee_amount", "shipping_fee_discount_amount", "customer_paid_shipping_fee_amount",
    "return_shipping_fee_amount", "replacement_shipping_fee_amount", "exchange_shipping_fee_amount",
    "signature_confirmation_fee_amount", "shipping_insurance_fee_amount", "fbt_fulfillment_fee_reimbursement_amount",
    "return_shipping_label_fee_amount", "seller_self_shipping_service_fee_amount",
    "return_shipping_fee_paid_buyer_amount", "failed_delivery_subsidy_amount", "shipping_fee_guarantee_reimbursement",
    "fbt_free_shipping_fee_amount", "free_return_subsidy_amount",
)
FEE_FIELDS = (
    "platform_commission_amount", "referral_fee_amount", "refund_administration_fee_amount", "transaction_fee_amount",
    "credit_card_handling_fee_amount", "affiliate_commission_amount", "affiliate_partner_commission_amount",
    "affiliate_ads_commission_amount", "sfp_service_fee_amount", "live_specials_fee_amount",
    "bonus_cashback_service_fee_amount", "mall_service_fee_amount", "voucher_xtra_service_fee_amount",
    "flash_sales_service_fee_amount", "cofunded_promotion_service_fee_amount", "pre_order_service_fee_amount",
    "tsp_commission_amount", "dt_handling_fee_amount", "epr_pob_service_fee_amount",
    "seller_paylater_handling_fee_amount", "fee_per_item_sold_amount", "cofunded_creator_bonus_amount",
    "dynamic_commission_amount", "external_affiliate_marketing_fee_amount", "vn_fix_infrastructure_fee",
    "affiliate_commission_deposit", "affiliate_commission_release", "tap_shop_ads_commission",
    "shipping_fee_guarantee_service_fee", "installation_service_fee", "campaign_resource_fee",
)
# Not a breakdown field of its own: the FBT part of actual_shipping_fee_amount, read from its
# supplementary_component (fbt_fulfillment_fee_amount, fbt_shipping_cost_amount) so FBT fees can
# be posted apart from shipping labels.
SHIPPING_DERIVED = ("fbt_fulfillment_fee_amount",)
# Documented in fee_tax_breakdown.fee but a reference figure (the commission before personal income
# tax withholding, whose parts are affiliate_commission_amount and tax.pit_amount): never summed, never posted.
REFERENCE_FEE_FIELDS = ("affiliate_commission_amount_before_pit",)
TAX_FIELDS = (
    "vat_amount", "import_vat_amount", "customs_duty_amount", "customs_clearance_amount", "sst_amount", "gst_amount",
    "iva_amount", "isr_amount", "anti_dumping_duty_amount", "local_vat_amount", "pit_amount",
)
ADJUSTMENT_TYPES = (
    "CHARGE_BACK", "CUSTOMER_SERVICE_COMPENSATION", "DEDUCTIONS_INCURRED_BY_SELLER", "GMV_PAYMENT_FOR_ADS",
    "PLATFORM_COMMISSION_ADJUSTMENT", "PLATFORM_COMMISSION_COMPENSATION", "PLATFORM_PENALTY", "PROMOTION_ADJUSTMENT",
    "REBATE", "PLATFORM_COMPENSATION", "PLATFORM_REIMBURSEMENT", "COFUNDED_CREATOR_REWARDS",
    "FBT_WAREHOUSE_SERVICE_FEE", "LOGISTICS_REIMBURSEMENT", "SHIPPING_FEE_ADJUSTMENT", "SHIPPING_FEE_COMPENSATION",
    "SHIPPING_FEE_REBATE", "SAMPLE_SHIPPING_FEE", "SELLER_MISSION_REWARD", "OTHER_ADJUSTMENT",
)
GROUP_FIELDS: dict[str, tuple[str, ...]] = {
    "revenue": REVENUE_FIELDS,
    "shipping": SHIPPING_FIELDS + SHIPPING_DERIVED,
    "fee": FEE_FIELDS,
    "tax": TAX_FIELDS,
    "adjustment": ADJUSTMENT_TYPES,
}


class Dimensions(SpecModel):
    """NetSuite segments put on journal lines (and the deposit)."""

    model_config = {**SpecModel.model_config, "populate_by_name": True}

    class_: NsId | None = Field(None, alias="class")
    department: NsId | None = None
    location: NsId | None = None

    def merged(self, over: Dimensions | None) -> Dimensions:
        if over is None:
            return self
        return Dimensions(class_=over.class_ or self.class_, department=over.department or self.department,
                          location=over.location or self.location)


def _group_model(group: str, fields: tuple[str, ...]) -> type[SpecModel]:
    spec: dict[str, Any] = {
        "default": (NsId, Field(description=f"account for every {group} component not named here")),
        "dimensions": (Dimensions | None, None),
    }
    for name in fields:
        spec[name] = (NsId | None, None)
    model: type[SpecModel] = create_model(f"{group.title()}Accounts", __base__=SpecModel, **spec)
    return model


RevenueAccounts = _group_model("revenue", REVENUE_FIELDS)
ShippingAccounts = _group_model("shipping", SHIPPING_FIELDS + SHIPPING_DERIVED)
FeeAccounts = _group_model("fee", FEE_FIELDS)
TaxAccounts = _group_model("tax", TAX_FIELDS)
AdjustmentAccounts = _group_model("adjustment", ADJUSTMENT_TYPES)


class Accounts(SpecModel):
    revenue: RevenueAccounts  # type: ignore[valid-type]
    shipping: ShippingAccounts  # type: ignore[valid-type]
    fee: FeeAccounts  # type: ignore[valid-type]
    tax: TaxAccounts  # type: ignore[valid-type]
    adjustment: AdjustmentAccounts  # type: ignore[valid-type]

    def for_component(self, component: str) -> tuple[str, Dimensions | None]:
        """(account, dimension override) of a component key such as ``fee.referral_fee_amount``."""
        group, _, name = component.partition(".")
        section = getattr(self, group, None)
        if section is None:
            raise KeyError(component)
        account = getattr(section, name, None) if name in GROUP_FIELDS[group] else None
        return str(account or section.default), section.dimensions


def _placeholders(text: str, allowed: tuple[str, ...]) -> str:
    import string

    used = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    bad = sorted(used - set(allowed))
    if bad:
        raise ValueError(f"unknown placeholder(s) {', '.join('{' + b + '}' for b in bad)} | fix: use "
                         + ", ".join("{" + a + "}" for a in allowed))
    return text


class JournalSpec(SpecModel):
    lines: Literal["by_component", "by_account"] = Field(
        "by_component", description="one journal line per component (each fee type visible) or per account")
    memo: str = "TikTok Shop statement {statement_id} ({date})"
    date: Literal["statement", "previous_day"] = Field(
        "statement", description="tranDate: the local day (time_zone) of the statement's close at 00:00 UTC — in the "
        "Americas the day its transactions happened — or the local day before it")

    @field_validator("memo")
    @classmethod
    def _memo(cls, v: str) -> str:
        return _placeholders(v, ("statement_id", "date", "shop_id"))


class DepositSpec(SpecModel):
    enabled: bool = True
    bank_account: NsId | None = None
    bank_accounts: dict[str, NsId] = Field(default_factory=dict, description="payout currency → bank account")
    memo: str = "TikTok Shop payout {payment_id}"

    @field_validator("memo")
    @classmethod
    def _memo(cls, v: str) -> str:
        return _placeholders(v, ("payment_id", "shop_id", "statements"))

    def account_for(self, currency: str) -> NsId | None:
        return self.bank_accounts.get(currency.upper()) or self.bank_account


class ChecksSpec(SpecModel):
    on_failure: Literal["hold", "post"] = Field(
        "hold", description="hold: a statement failing a check is not posted until fixed or forced")


class MatchingSpec(SpecModel):
    tolerance: Decimal = Field(Decimal("0.00"), ge=0, description="order revenue differences up to this are matched")


class ReceivableSpec(SpecModel):
    """Modes customer_deposits / invoices: the payout is applied to order-time documents."""

    platform_discount_account: NsId | None = None
    sales_tax_account: NsId | None = None
    difference_account: NsId | None = None
    deposit_external_id: str = "TTS-DEP-{shop_id}-{order_id}"
    payment_external_id: str = "TTS-PMT-{shop_id}-{order_id}"
    ar_account: NsId | None = None
    payment_method: NsId | None = None


class PostingSpec(SpecModel):
    auto: bool = Field(True, description="post each statement after import (else `ttns settlement post`)")


class SettlementSettings(SpecModel):
    enabled: bool = True
    mode: Literal["summary", "customer_deposits", "invoices"] = "summary"
    subsidiary: NsId | None = None
    time_zone: str | None = Field(
        None, description="IANA zone every document of this shop is dated in (default: the subsidiary's, "
        "subsidiaries.<ref>.time_zone; docs/accounting.md)")
    currencies: dict[str, NsId] = Field(default_factory=dict, description="TikTok currency code → NetSuite id")
    dimensions: Dimensions = Field(default_factory=Dimensions)
    clearing_account: NsId
    reserve_account: NsId | None = None
    variance_account: NsId
    vat_account: NsId | None = Field(
        None, description="VAT payable: where the journal books the VAT inside TikTok's prices (shops whose "
        "orders.yaml tax.mode is inclusive, e.g. UK): the account of orders.yaml tax.item, so the journal and "
        "the invoices split VAT the same way (docs/accounting.md, \"VAT\")")
    accounts: Accounts
    journal: JournalSpec = Field(default_factory=JournalSpec)
    deposit: DepositSpec = Field(default_factory=DepositSpec)
    checks: ChecksSpec = Field(default_factory=ChecksSpec)
    matching: MatchingSpec = Field(default_factory=MatchingSpec)
    receivable: ReceivableSpec = Field(default_factory=ReceivableSpec)
    posting: PostingSpec = Field(default_factory=PostingSpec)

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        return check_zone(v)

    @model_validator(mode="after")
    def _mode_needs(self) -> SettlementSettings:
        need = []
        if self.deposit.enabled and not (self.deposit.bank_account or self.deposit.bank_accounts):
            need.append("deposit.bank_account (or deposit.bank_accounts per currency)")
        if self.mode != "summary":
            r = self.receivable
            for name in ("platform_discount_account", "sales_tax_account", "difference_account"):
                if not getattr(r, name):
                    need.append(f"receivable.{name}")
            if self.mode == "invoices" and not r.ar_account:
                need.append("receivable.ar_account")
        if need:
            raise ValueError(f"the settings chosen need accounts to post to | fix: set {', '.join(need)}")
        return self


# Keys whose values are NetSuite references, by SuiteQL table ("account" also covers every key under
# ``accounts.<group>`` and ``deposit.bank_accounts``).
_REF_KEYS = {"subsidiary": ("subsidiary", "subsidiary"), "class": ("classification", "class"),
             "department": ("department", "department"), "location": ("location", "location"),
             "payment_method": ("paymentmethod", "payment method")}


def _ref_kind(path: tuple[str, ...]) -> tuple[str, str] | None:
    key = path[-1]
    if key in _REF_KEYS:
        return _REF_KEYS[key]
    if len(path) >= 2 and path[-2] == "currencies":
        return ("currency", "currency")
    if key.endswith("_account") or (len(path) >= 2 and path[-2] == "bank_accounts"):
        return ("account", "account")
    if len(path) == 3 and path[0] == "accounts" and key != "dimensions":
        return ("account", "account")
    return None


def references(settings: SettlementSettings) -> list[tuple[str, str, str, str]]:
    """(path, SuiteQL table, label, value) of every NetSuite reference the settings name."""
    out: list[tuple[str, str, str, str]] = []

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, (*path, str(k)))
        elif isinstance(node, str) and node and path:
            kind = _ref_kind(path)
            if kind is not None:
                out.append((".".join(path), kind[0], kind[1], node))

    walk(settings.model_dump(by_alias=True, mode="json"), ())
    return out


def with_references(settings: SettlementSettings, resolved: dict[tuple[str, str], str]) -> SettlementSettings:
    """``settings`` with every ``eid:`` reference replaced by its internal id (``resolved`` is keyed by
    (table, "eid:…")); references not in ``resolved`` stay as they are."""

    def walk(node: Any, path: tuple[str, ...]) -> Any:
        if isinstance(node, dict):
            return {k: walk(v, (*path, str(k))) for k, v in node.items()}
        if isinstance(node, str) and node.startswith("eid:"):
            kind = _ref_kind(path)
            if kind is not None:
                return resolved.get((kind[0], node), node)
        return node

    return SettlementSettings.model_validate(walk(settings.model_dump(by_alias=True, mode="json"), ()))


class SubsidiarySpec(SpecModel):
    """What NetSuite's REST subsidiary record does not expose: the zone the subsidiary keeps its books in."""

    time_zone: str = Field(description="IANA zone, e.g. America/Los_Angeles")

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, v: str) -> str:
        check_zone(v)
        return v


@spec_model("settlement")
class SettlementSpec(SpecModel):
    version: Literal[1] = 1
    defaults: SettlementSettings
    markets: dict[str, dict[str, Any]] = Field(default_factory=dict, description=(
        "TikTok shop region (US, GB, DE, …) → settings over defaults for every shop of that market (subsidiary, "
        "currencies, bank accounts, time zone …), as in orders.yaml; shops.<id> overrides them for one shop"))
    shops: dict[str, dict[str, Any]] = Field(default_factory=dict)
    subsidiaries: dict[str, SubsidiarySpec] = Field(
        default_factory=dict, description="subsidiary reference (as under `subsidiary`) → its time zone")

    @field_validator("markets")
    @classmethod
    def _region_codes(cls, v: dict[str, Any]) -> dict[str, Any]:
        return market_keys(v)

    def time_zone(self, shop_id: str, region: str = "") -> str:
        """The zone a shop's documents are dated in: ``time_zone`` of the shop (or its market's, or
        defaults), else its subsidiary's, else UTC."""
        settings = self.for_shop(shop_id, region)
        return resolve_zone(settings.time_zone, settings.subsidiary,
                            {k: v.time_zone for k, v in self.subsidiaries.items()})

    def extra_problems(self, file: str) -> list[SpecProblem]:
        return (market_problems(file, SettlementSettings, self.markets, self.for_shop)
                + shop_problems(file, SettlementSettings, self.shops, self.for_shop))

    def netsuite_refs(self) -> dict[tuple[str, str], dict[str, set[str]]]:
        """Every NetSuite reference, for `ttns specs check`: (table, label) → {value: {where}}."""
        out: dict[tuple[str, str], dict[str, set[str]]] = {}
        for where, settings in ([("defaults", self.defaults)]
                                + [(f"markets.{m}", self.for_shop("", m)) for m in self.markets]
                                + [(f"shops.{s}", self.for_shop(s)) for s in self.shops]):
            for path, table, label, value in references(settings):
                out.setdefault((table, label), {}).setdefault(value, set()).add(f"{where}.{path}")
        return out

    def for_shop(self, shop_id: str, region: str = "") -> SettlementSettings:
        """Defaults, then the shop's market (``markets.<region>``, its TikTok region), then the shop's own."""
        return layered(SettlementSettings, self.defaults, self.markets.get(region.upper()) if region else None,
                       self.shops.get(shop_id))


__all__ = [
    "ADJUSTMENT_TYPES",
    "FEE_FIELDS",
    "GROUP_FIELDS",
    "REFERENCE_FEE_FIELDS",
    "REVENUE_FIELDS",
    "SHIPPING_DERIVED",
    "SHIPPING_FIELDS",
    "TAX_FIELDS",
    "Accounts",
    "Dimensions",
    "SettlementSettings",
    "SettlementSpec",
    "SubsidiarySpec",
    "references",
    "with_references",
]

"""`mapping_specs/orders.yaml`: how a TikTok Shop order becomes a NetSuite sales order (or cash sale).

``defaults`` holds the settings for every shop; ``shops.<shop_id>`` overrides any part of them for
one shop (mappings merge key by key). ``OrdersSpec.for_shop(shop_id)`` gives the merged, validated
settings one order is mapped with.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal, get_args

from pydantic import Field, ValidationError, field_validator, model_validator

from bridge.mapping.specs import (
    SpecError,
    SpecModel,
    SpecProblem,
    deep_merge,
    problems_from,
    shop_problems,
    spec_model,
)

NsId = str  # NetSuite internal ids are strings in specs (quote them in YAML)

# Order attributes a rule may test: a closed vocabulary, each a plain field of the TikTok order.
RULE_FIELDS = (
    "order_type",
    "fulfillment_type",
    "shipping_type",
    "delivery_type",
    "delivery_option_name",
    "warehouse_id",
    "commerce_platform",
    "payment_method_name",
    "region",
    "currency",
    "is_sample_order",
    "is_replacement_order",
)
RuleField = Literal[
    "order_type",
    "fulfillment_type",
    "shipping_type",
    "delivery_type",
    "delivery_option_name",
    "warehouse_id",
    "commerce_platform",
    "payment_method_name",
    "region",
    "currency",
    "is_sample_order",
    "is_replacement_order",
]

# Values a custom body field may take from the order (closed vocabulary).
BODY_SOURCES = Literal[
    "order_id",
    "shop_id",
    "buyer_message",
    "seller_note",
    "user_id",
    "buyer_email",
    "order_type",
    "fulfillment_type",
    "delivery_option_name",
    "warehouse_id",
    "payment_method_name",
    "status",
    # the order's source as Get Order Detail documents it (TikTok has no creator/affiliate on an order:
    # the affiliate commission per order is in the finance statement transactions, see settlement.yaml)
    "commerce_platform",
    "replaced_order_id",
    "exchange_source_order_id",
]


class Rule(SpecModel):
    """``when`` every listed attribute equals its value, use ``value``."""

    when: dict[RuleField, str | bool]
    value: NsId | None


class Dimension(SpecModel):
    """A NetSuite segment (class, department, location …): a default plus first-match rules."""

    default: NsId | None = None
    rules: list[Rule] = Field(default_factory=list)


class CustomerSpec(SpecModel):
    strategy: Literal["generic", "per_buyer"] = "generic"
    generic_id: NsId | None = Field(None, description="the one customer every order uses (strategy generic)")
    external_id_prefix: str = "TTS-CUST"
    subsidiary: NsId | None = None
    is_person: bool = True
    fallback_name: str = "TikTok Shop buyer"

    @model_validator(mode="after")
    def _needs_generic(self) -> CustomerSpec:
        if self.strategy == "generic" and not self.generic_id:
            raise ValueError("customer.strategy is generic but no customer is named | fix: set customer.generic_id "
                             "to the NetSuite customer id every order uses")
        return self


class DiscountSpec(SpecModel):
    mode: Literal["discount_line", "line_rate"] = "discount_line"
    item: NsId | None = Field(None, description="discount item for mode discount_line")


class Discounts(SpecModel):
    seller: DiscountSpec = Field(default_factory=DiscountSpec)
    platform: DiscountSpec = Field(default_factory=DiscountSpec)


class ShippingSpec(SpecModel):
    mode: Literal["body", "line"] = "body"
    ship_method: NsId | None = None
    item: NsId | None = Field(None, description="shipping charge item for mode line")
    seller_discount_item: NsId | None = None
    platform_discount_item: NsId | None = None


class TaxSpec(SpecModel):
    """``line``: TikTok's tax as charge lines (product and shipping tax), exact to the cent;
    ``taxcode``: a tax code per line and NetSuite computes (legacy tax; RESTlet path), the difference
    goes to the rounding line; ``none``: tax is not recorded (marketplace facilitator collects it) and
    the order reconciles to TikTok's total minus tax; ``inclusive``: prices include VAT (UK, EU): each
    product, discount and shipping amount posts net and net + VAT equals TikTok's total to the cent.
    The VAT of each line is TikTok's own figure (Get Price Detail, per line item) when TikTok gives one,
    else taken out at the line's rate: ``rates`` (reduced-rate SKUs) or ``rate``; shipping at
    ``shipping_rate`` (default ``rate``). VAT posts to ``item`` (one line per rate), or, with ``codes``,
    each line carries the tax code of its rate and its VAT (``taxCode`` and ``tax1Amt``, as a UK/EU
    NetSuite account's lines do) and no VAT item is needed. Tax TikTok reports on top also posts to ``item``."""

    mode: Literal["line", "taxcode", "none", "inclusive"] = "line"
    rate: Decimal | None = Field(None, ge=0, lt=1, description="VAT rate of mode inclusive, e.g. 0.20 for 20%")
    rates: dict[str, Decimal] = Field(default_factory=dict, description=(
        "mode inclusive: seller SKU -> VAT rate of a reduced-rate good, e.g. BOOK-01: 0.07 (matched by the one SKU "
        "rule, catalog.yaml match)"))
    shipping_rate: Decimal | None = Field(None, ge=0, lt=1, description="mode inclusive: VAT rate of shipping "
                                          "(default: rate)")
    codes: dict[str, NsId] = Field(default_factory=dict, description=(
        "mode inclusive: VAT rate -> NetSuite tax code (e.g. \"0.19\": \"eid:VAT-DE-19\"); lines then carry their "
        "code and VAT instead of VAT item lines"))
    item: NsId | None = None
    shipping_item: NsId | None = None
    taxcode: NsId | None = None
    exempt_taxcode: NsId | None = Field(None, description="tax code for charge lines in taxcode mode (and for fee "
                                        "and rounding lines in inclusive mode with codes)")

    @field_validator("rates")
    @classmethod
    def _rates_in_range(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        bad = [k for k, r in v.items() if not (0 <= r < 1)]
        if bad:
            raise ValueError(f"rates of {bad} are not VAT rates | fix: write each as a fraction, e.g. 0.07 for 7%")
        return v

    @field_validator("codes")
    @classmethod
    def _code_keys_are_rates(cls, v: dict[str, str]) -> dict[str, str]:
        out = {}
        for k, code in v.items():
            try:
                rate = Decimal(str(k))
            except ArithmeticError:
                rate = Decimal(-1)
            if not (0 <= rate < 1):
                raise ValueError(f"codes key {k!r} is not a VAT rate | fix: key each tax code by its rate as a "
                                 "fraction, e.g. \"0.19\"")
            out[vat_key(rate)] = code
        return out

    def code_for(self, rate: Decimal) -> str | None:
        return self.codes.get(vat_key(rate))

    def used_rates(self) -> set[Decimal]:
        """Every VAT rate this spec itself names (TikTok may send others, checked per order)."""
        named = {r for r in (self.rate, self.shipping_rate) if r is not None}
        return named | set(self.rates.values())


def vat_key(rate: Decimal) -> str:
    """A VAT rate as a key ("0.19", "0.07", "0"): equal rates, equal keys, however they were written."""
    return f"{rate.normalize():f}"


class RoundingSpec(SpecModel):
    item: NsId | None = None
    max: Decimal = Decimal("0.05")


class OrderTypeSpec(SpecModel):
    skip: bool = False
    order_status: Literal["A", "B"] | None = None
    memo: str | None = None


class DepositSpec(SpecModel):
    enabled: bool = False
    account: NsId | None = None
    payment_option: NsId | None = None


FeeField = Literal["retail_delivery_fee", "small_order_fee", "buyer_service_fee", "handling_fee",
                   "shipping_insurance_fee", "item_insurance_fee", "pfand_fee"]
LINE_FEE_FIELDS: tuple[str, ...] = ("pfand_fee",)  # on the line items only (Get Order Detail), summed per order
FEE_FIELDS: tuple[str, ...] = tuple(f for f in get_args(FeeField) if f not in LINE_FEE_FIELDS)  # payment fields

ITEMS_MOVED = ("SKU lookup and overrides are the one SKU rule in catalog.yaml `match`, shared by `ttns skus match`, "
               "orders, stock, returns and catalog | fix: move items.lookup to catalog.yaml match.by and "
               "items.overrides to match.overrides (internal item ids; per shop under shops.<id>.match), then "
               "delete items from orders.yaml")


class OrderSettings(SpecModel):
    enabled: bool = True
    record_type: Literal["salesOrder", "cashSale"] = "salesOrder"
    subsidiary: NsId | None = None
    location: Dimension = Field(default_factory=Dimension)
    fbt_location: NsId | None = None
    department: Dimension = Field(default_factory=Dimension)
    class_: Dimension = Field(default_factory=Dimension, alias="class")
    sales_channel: NsId | None = None
    currencies: dict[str, NsId] = Field(default_factory=dict, description="TikTok currency code → NetSuite id")
    customer: CustomerSpec = Field(default_factory=lambda: CustomerSpec(strategy="per_buyer"))
    payment_option: Dimension = Field(default_factory=Dimension)
    hold_policy: Literal["wait", "stage"] = "wait"
    hold_minutes: int = Field(0, ge=0, le=1440, description=(
        "merchant hold window: a new order reaches NetSuite this many minutes after it was paid (on top of "
        "TikTok's ON_HOLD), so edits made in TikTok's edit window settle first; 0 = at once"))
    order_types: dict[str, OrderTypeSpec] = Field(default_factory=dict)
    discounts: Discounts = Field(default_factory=Discounts)
    shipping: ShippingSpec = Field(default_factory=ShippingSpec)
    tax: TaxSpec = Field(default_factory=TaxSpec)
    fee_item: NsId | None = Field(
        None, description="the item (e.g. an other-charge item) every buyer-paid fee of the order detail posts to: "
        "retail_delivery_fee, small_order_fee, buyer_service_fee, handling_fee, shipping_insurance_fee, "
        "item_insurance_fee, and the line items' pfand_fee (German deposit); `fees` names another item for one of "
        "them")
    fees: dict[FeeField, NsId] = Field(default_factory=dict, description="fee field -> item, over fee_item")
    rounding: RoundingSpec = Field(default_factory=RoundingSpec)
    body_fields: dict[str, BODY_SOURCES] = Field(
        default_factory=dict, description="custom body field id -> order field of Get Order Detail (an order has no "
        "creator or affiliate: the affiliate commission is in the statement transactions, settlement.yaml)")
    memo: str = "TikTok Shop order {order_id}"
    deposit: DepositSpec = Field(default_factory=DepositSpec)

    model_config = {**SpecModel.model_config, "populate_by_name": True}

    @model_validator(mode="before")
    @classmethod
    def _items_moved(cls, data: Any) -> Any:
        if isinstance(data, dict) and "items" in data:
            raise ValueError(f"items: {ITEMS_MOVED}")
        return data

    @field_validator("body_fields")
    @classmethod
    def _custom_only(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [k for k in v if not k.startswith(("custbody", "custbody_"))]
        if bad:
            raise ValueError(f"body_fields may only set custom body fields, not {bad} | fix: use custbody_… field ids")
        return v

    @model_validator(mode="after")
    def _items_needed_by_modes(self) -> OrderSettings:
        need = []
        if self.discounts.seller.mode == "discount_line" and not self.discounts.seller.item:
            need.append("discounts.seller.item")
        if self.discounts.platform.mode == "discount_line" and not self.discounts.platform.item:
            need.append("discounts.platform.item")
        if self.shipping.mode == "line" and not self.shipping.item:
            need.append("shipping.item")
        if self.tax.mode == "line" and not self.tax.item:
            need.append("tax.item")
        if self.tax.mode == "inclusive" and not (self.tax.item or self.tax.codes):
            need.append("tax.item (or tax.codes)")
        if self.tax.mode == "inclusive" and self.tax.rate is None:
            need.append("tax.rate")
        if self.tax.mode == "taxcode" and not self.tax.taxcode:
            need.append("tax.taxcode")
        if need:
            raise ValueError(f"the modes chosen need items to post to | fix: set {', '.join(need)}")
        if self.tax.mode == "inclusive" and self.tax.codes:
            uncoded = sorted(vat_key(r) for r in self.tax.used_rates() if self.tax.code_for(r) is None)
            if uncoded:
                raise ValueError(f"tax.codes has no tax code for VAT rate(s) {', '.join(uncoded)} | fix: add "
                                 f"\"<rate>\": <NetSuite tax code> under tax.codes for each")
            if self.shipping.mode == "body":
                raise ValueError("tax.codes puts VAT on each line, but shipping.mode body has no line to carry "
                                 "shipping's VAT | fix: set shipping.mode: line and shipping.item")
        return self


@spec_model("orders")
class OrdersSpec(SpecModel):
    version: Literal[1] = 1
    defaults: OrderSettings
    markets: dict[str, dict[str, Any]] = Field(default_factory=dict, description=(
        "TikTok shop region (US, GB, DE, FR, …) → settings over defaults for every shop of that market "
        "(subsidiary, currencies, location, tax …); shops.<id> overrides them for one shop"))
    shops: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @field_validator("markets")
    @classmethod
    def _region_codes(cls, v: dict[str, Any]) -> dict[str, Any]:
        bad = [k for k in v if len(k) != 2 or not k.isalpha() or not k.isupper()]
        if bad:
            raise ValueError(f"markets keys are TikTok shop regions, not {bad} | fix: use two upper-case letters "
                             "as TikTok names the shop's region (US, GB, DE, FR, …)")
        return v

    def extra_problems(self, file: str) -> list[SpecProblem]:
        """Each market's and each shop's merged settings must be valid too; keys are named under
        ``markets.<region>`` and ``shops.<id>``."""
        out: list[SpecProblem] = []
        for region in self.markets:
            try:
                self.for_shop("", region)
            except ValidationError as exc:
                out += [SpecProblem(file, f"markets.{region}.{p.key}".rstrip("."), p.problem, p.fix)
                        for p in problems_from(file, OrderSettings, exc)]
        return out + shop_problems(file, OrderSettings, self.shops, self.for_shop)

    def for_shop(self, shop_id: str, region: str = "") -> OrderSettings:
        """The settings one shop's orders are mapped with: defaults, then its market's (``markets.<region>``,
        the shop's TikTok region), then the shop's own overrides."""
        market = self.markets.get(region.upper()) if region else None
        override = self.shops.get(shop_id)
        if not override and not market:
            return self.defaults
        merged = self.defaults.model_dump(by_alias=True, exclude_unset=True, mode="json")
        for layer in (market, override):
            if layer:
                merged = deep_merge(merged, layer)
        return OrderSettings.model_validate(merged)


def resolve_dimension(dim: Dimension, attrs: dict[str, Any]) -> str | None:
    """The first rule whose conditions all hold, else the default (pure)."""
    for rule in dim.rules:
        if all(attrs.get(k) == v for k, v in rule.when.items()):
            return rule.value
    return dim.default


__all__ = ["RULE_FIELDS", "OrderSettings", "OrdersSpec", "SpecError", "resolve_dimension"]


# Which settings are NetSuite references, and the SuiteQL table each lives in. `*` matches any key
# of a mapping, `[]` every element of a list. One table serves `ttns specs check` and the resolution
# of `eid:` references to internal ids before mapping.
REFERENCE_PATHS: tuple[tuple[str, str, str], ...] = (
    ("subsidiary", "subsidiary", "subsidiary"),
    ("location.default", "location", "location"),
    ("location.rules[].value", "location", "location"),
    ("fbt_location", "location", "location"),
    ("department.default", "department", "department"),
    ("department.rules[].value", "department", "department"),
    ("class.default", "classification", "class"),
    ("class.rules[].value", "classification", "class"),
    ("currencies.*", "currency", "currency"),
    ("payment_option.default", "paymentmethod", "payment method"),
    ("payment_option.rules[].value", "paymentmethod", "payment method"),
    ("customer.generic_id", "customer", "customer"),
    ("customer.subsidiary", "subsidiary", "subsidiary"),
    ("discounts.seller.item", "item", "item"),
    ("discounts.platform.item", "item", "item"),
    ("shipping.ship_method", "shipitem", "ship method"),
    ("shipping.item", "item", "item"),
    ("shipping.seller_discount_item", "item", "item"),
    ("shipping.platform_discount_item", "item", "item"),
    ("tax.item", "item", "item"),
    ("tax.shipping_item", "item", "item"),
    ("tax.taxcode", "salestaxitem", "tax code"),
    ("tax.exempt_taxcode", "salestaxitem", "tax code"),
    ("tax.codes.*", "salestaxitem", "tax code"),
    ("rounding.item", "item", "item"),
    ("fee_item", "item", "item"),
    ("fees.*", "item", "item"),
)


def _walk(node: Any, parts: list[str], path: str) -> Any:
    """(concrete path, value) for every value matching the pattern ``parts`` under ``node``."""
    if not parts:
        yield path, node
        return
    head, rest = parts[0], parts[1:]
    if head.endswith("[]"):
        seq = node.get(head[:-2]) if isinstance(node, dict) else None
        for i, el in enumerate(seq or []):
            yield from _walk(el, rest, f"{path}.{head[:-2]}[{i}]".lstrip("."))
    elif head == "*":
        for k, v in (node or {}).items():
            yield from _walk(v, rest, f"{path}.{k}".lstrip("."))
    elif isinstance(node, dict) and head in node:
        yield from _walk(node[head], rest, f"{path}.{head}".lstrip("."))


def references(settings: OrderSettings) -> list[tuple[str, str, str, str]]:
    """(path, table, label, value) of every NetSuite reference set in ``settings``."""
    dumped = settings.model_dump(by_alias=True, mode="json")
    out = []
    for pattern, table, label in REFERENCE_PATHS:
        for path, value in _walk(dumped, pattern.split("."), ""):
            if isinstance(value, str) and value:
                out.append((path, table, label, value))
    return out


def with_references(settings: OrderSettings, resolved: dict[tuple[str, str], str]) -> OrderSettings:
    """``settings`` with each ``eid:`` reference replaced by the internal id in ``resolved``
    (keyed by (table, "eid:…")); references not in ``resolved`` are left as they are."""
    dumped = settings.model_dump(by_alias=True, mode="json")
    for pattern, table, _label in REFERENCE_PATHS:
        for path, value in list(_walk(dumped, pattern.split("."), "")):
            new = resolved.get((table, value)) if isinstance(value, str) else None
            if new is not None:
                _set(dumped, path, new)
    return OrderSettings.model_validate(dumped)


def _set(root: dict[str, Any], path: str, value: str) -> None:
    import re

    node: Any = root
    tokens = [t for t in re.split(r"\.|(\[\d+\])", path) if t]
    while tokens:
        tok = tokens.pop(0)
        if tok.startswith("["):
            key: Any = int(tok[1:-1])
        else:
            key = tok
            while isinstance(node, dict) and key not in node and tokens and not tokens[0].startswith("["):
                key = f"{key}.{tokens.pop(0)}"  # a key with a dot in it (tax.codes "0.19")
        if not tokens:
            node[key] = value
            return
        node = node[key]

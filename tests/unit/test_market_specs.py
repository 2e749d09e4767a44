"""`markets` in settlement.yaml and returns.yaml, as in orders.yaml: a shop's TikTok region picks the
settings of its market (subsidiary, currency, time zone, accounts, receiving location) over the defaults,
and the shop's own settings override its market."""

from __future__ import annotations

from typing import Any

import pytest

from bridge.flows.accounting import policy_for
from bridge.mapping.returns_spec import ReturnsSpec
from bridge.mapping.settlement_spec import SettlementSpec
from bridge.mapping.specs import load_spec
from tests.support.specs import sandbox_specs_dir

SETTLEMENT = load_spec(sandbox_specs_dir() / "settlement.yaml", SettlementSpec)


@pytest.mark.parametrize(("shop", "region", "subsidiary", "currency", "zone", "clearing", "bank"), [
    pytest.param("us1", "US", "eid:SUB-US", ("USD", "eid:CUR-USD"), "America/Los_Angeles", "eid:ACCT-1250",
                 "eid:ACCT-1000", id="us-takes-the-defaults"),
    pytest.param("gb1", "GB", "eid:SUB-UK", ("GBP", "eid:CUR-GBP"), "Europe/London", "eid:ACCT-1251", "eid:ACCT-1010",
                 id="gb-market"),
    pytest.param("de1", "de", "eid:SUB-DE", ("EUR", "eid:CUR-EUR"), "Europe/Berlin", "eid:ACCT-1252", "eid:ACCT-1020",
                 id="de-market-any-case"),
    pytest.param("x1", "", "eid:SUB-US", ("USD", "eid:CUR-USD"), "America/Los_Angeles", "eid:ACCT-1250",
                 "eid:ACCT-1000", id="no-region-defaults"),
])
def test_settlement_takes_the_shops_market(shop: str, region: str, subsidiary: str, currency: tuple[str, str],
                                           zone: str, clearing: str, bank: str) -> None:
    s = SETTLEMENT.for_shop(shop, region)
    assert s.subsidiary == subsidiary and s.currencies.get(currency[0]) == currency[1]
    assert SETTLEMENT.time_zone(shop, region) == zone
    # a bank account holds one currency: each market's clearing account and bank are in its currency
    assert s.clearing_account == clearing and s.deposit.account_for(currency[0]) == bank
    assert s.variance_account == SETTLEMENT.defaults.variance_account  # what the market leaves alone stays


def test_a_shop_overrides_its_market_and_the_accounting_policy_dates_in_the_markets_zone() -> None:
    raw = SETTLEMENT.model_dump(by_alias=True, exclude_unset=True, mode="json")
    spec = SettlementSpec.model_validate({**raw, "shops": {"gb-outlet": {"time_zone": "Europe/Dublin"}}})
    assert spec.for_shop("gb-outlet", "GB").subsidiary == "eid:SUB-UK"
    assert spec.time_zone("gb-outlet", "GB") == "Europe/Dublin"

    class Specs:
        def get(self, name: str, model: Any, **_: Any) -> Any:
            return spec

    class Shop:
        region = "DE"

        def flow_enabled(self, flow: str) -> bool:
            return True

    assert policy_for(Specs(), "de1", Shop()).time_zone == "Europe/Berlin"  # type: ignore[arg-type]


def test_returns_take_the_shops_market() -> None:
    spec = ReturnsSpec.model_validate({
        "defaults": {"refund": {"account": "eid:ACCT-1250"}},
        "markets": {"GB": {"return_authorization": {"location": "eid:LOC-UK"}, "refund": {"account": "eid:BANK-UK"}}},
        "shops": {"gb-outlet": {"refund": {"account": "eid:BANK-OUTLET"}}},
    })
    us, gb, outlet = spec.for_shop("us1", region="US"), spec.for_shop("gb1", region="GB"), spec.for_shop(
        "gb-outlet", region="GB")
    assert (us.return_authorization.location, us.refund.account) == (None, "eid:ACCT-1250")
    assert (gb.return_authorization.location, gb.refund.account) == ("eid:LOC-UK", "eid:BANK-UK")
    assert (outlet.return_authorization.location, outlet.refund.account) == ("eid:LOC-UK", "eid:BANK-OUTLET")
    refs = spec.netsuite_refs()
    assert any("markets.GB" in w for where in refs.values() for ws in where.values() for w in ws)


@pytest.mark.parametrize(("model", "raw", "key"), [
    pytest.param(SettlementSpec, {"markets": {"UK ": {}}}, "two upper-case letters", id="settlement-bad-key"),
    pytest.param(ReturnsSpec, {"markets": {"gb": {}}}, "two upper-case letters", id="returns-bad-key"),
])
def test_market_keys_are_regions(model: Any, raw: dict[str, Any], key: str) -> None:
    base = {"defaults": SETTLEMENT.model_dump(by_alias=True, exclude_unset=True, mode="json")["defaults"]} \
        if model is SettlementSpec else {}
    with pytest.raises(ValueError, match=key):
        model.model_validate({**base, **raw})


def test_a_markets_invalid_settings_are_named_under_the_market() -> None:
    spec = ReturnsSpec.model_validate({"markets": {"GB": {"refund": {"tax": "line"}}}})
    problems = spec.extra_problems("returns.yaml")
    assert problems and problems[0].key.startswith("markets.GB") and "refund.tax_item" in problems[0].fix

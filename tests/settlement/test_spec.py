"""settlement.yaml: the closed vocabulary is TikTok's documented fields, errors name file, key and fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bridge.mapping import load_all_specs
from bridge.mapping.settlement_spec import (
    ADJUSTMENT_TYPES,
    FEE_FIELDS,
    REFERENCE_FEE_FIELDS,
    REVENUE_FIELDS,
    SHIPPING_FIELDS,
    TAX_FIELDS,
    SettlementSpec,
)
from bridge.mapping.specs import SpecError, load_spec
from bridge.sandbox.tiktok.digest import load_digest
from tests.settlement.specs import settings_dict
from tests.support.specs import sandbox_specs_dir

ROOT = Path(__file__).resolve().parents[2]


def test_field_vocabulary_is_the_documented_202501_response() -> None:
    ep = load_digest().endpoint("GET", "/finance/202501/statements/{statement_id}/statement_transactions")
    tx = ep.response_data_fields()["transactions"]["fields"]

    def names(fields: dict[str, Any]) -> set[str]:
        return {k for k, v in fields.items() if not v.get("fields")}

    assert set(REVENUE_FIELDS) == names(tx["revenue_breakdown"]["fields"])
    assert set(SHIPPING_FIELDS) == names(tx["shipping_cost_breakdown"]["fields"])
    assert set(FEE_FIELDS) | set(REFERENCE_FEE_FIELDS) == names(tx["fee_tax_breakdown"]["fields"]["fee"]["fields"])
    assert set(TAX_FIELDS) == names(tx["fee_tax_breakdown"]["fields"]["tax"]["fields"])
    assert len(ADJUSTMENT_TYPES) == 20 and all(t.isupper() for t in ADJUSTMENT_TYPES)


def test_the_shipped_default_spec_loads() -> None:
    specs = load_all_specs(sandbox_specs_dir())
    s = specs.get("settlement", SettlementSpec).for_shop("any")
    assert s.mode == "summary" and s.clearing_account and s.deposit.account_for("USD")


def write(tmp_path: Path, doc: dict[str, Any]) -> Path:
    p = tmp_path / "settlement.yaml"
    p.write_text(yaml.safe_dump(doc))
    return p


def test_a_misspelt_fee_field_is_named_with_a_suggestion(tmp_path: Path) -> None:
    d = settings_dict()
    d["accounts"]["fee"]["referal_fee_amount"] = "6111"
    with pytest.raises(SpecError) as exc:
        load_spec(write(tmp_path, {"version": 1, "defaults": d}), SettlementSpec)
    text = str(exc.value)
    assert "defaults.accounts.fee.referal_fee_amount: unknown key" in text and "referral_fee_amount" in text


def test_modes_need_their_accounts_and_shops_override(tmp_path: Path) -> None:
    d = settings_dict(receivable={}, mode="invoices")
    with pytest.raises(SpecError) as exc:
        load_spec(write(tmp_path, {"version": 1, "defaults": d}), SettlementSpec)
    assert "receivable.platform_discount_account" in str(exc.value) and "receivable.ar_account" in str(exc.value)
    spec = load_spec(write(tmp_path, {"version": 1, "defaults": settings_dict(), "shops": {
        "GB1": {"deposit": {"bank_accounts": {"GBP": "1010"}}, "accounts": {"fee": {"default": "6199"}}}}}),
        SettlementSpec)
    gb = spec.for_shop("GB1")
    assert gb.deposit.account_for("GBP") == "1010" and gb.deposit.account_for("USD") == "1000"
    assert gb.accounts.for_component("fee.mall_service_fee_amount") == ("6199", None)
    assert gb.accounts.for_component("fee.referral_fee_amount")[0] == "6111"  # merged, not replaced
    with pytest.raises(SpecError) as exc:
        load_spec(write(tmp_path, {"version": 1, "defaults": settings_dict(), "shops": {
            "X": {"checks": {"on_failure": "ignore"}}}}), SettlementSpec)
    assert "shops.X.checks.on_failure" in str(exc.value)


def test_references_are_listed_for_specs_check() -> None:
    from bridge.flows.spec_check import referenced_ids

    refs = referenced_ids(load_all_specs(sandbox_specs_dir()))
    accounts = refs[("account", "account")]
    assert {"settlement.yaml: defaults.clearing_account", "settlement.yaml: defaults.reserve_account"} <= accounts[
        "eid:ACCT-1250"]
    assert "settlement.yaml: defaults.accounts.fee.default" in accounts["eid:ACCT-6100"]
    assert "settlement.yaml: defaults.currencies.GBP" in refs[("currency", "currency")]["eid:CUR-GBP"]


def test_memo_placeholders_are_checked(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as exc:
        load_spec(write(tmp_path, {"version": 1, "defaults": settings_dict(journal={"memo": "TT {statment_id}"})}),
                  SettlementSpec)
    assert "defaults.journal.memo" in str(exc.value) and "{statement_id}" in str(exc.value)

"""The shipped mapping specs name no account's records: each record a merchant must name is a
``"<SET ME: …>"`` placeholder that loads, but that `ttns specs check` (offline and online), `ttns doctor`
and the flows refuse with the file, the key and the fix. The sandbox overlay fills every one of them."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from bridge.bootstrap import build
from bridge.cli import main
from bridge.doctor import Check
from bridge.errors import NeedsHumanError
from bridge.flows.doctor_specs import doctor_checks
from bridge.flows.spec_check import referenced_ids
from bridge.mapping import load_all_specs
from bridge.mapping.catalog_spec import CatalogSpec
from bridge.mapping.inventory_spec import InventorySpec
from bridge.mapping.orders_spec import OrdersSpec
from bridge.mapping.settlement_spec import SettlementSpec
from bridge.mapping.specs import SPEC_MODELS, SpecNotReadyError, is_placeholder, placeholder_problems
from bridge.sandbox.specs import OVERLAY
from bridge.settings import Settings
from tests.support.specs import SHIPPED_SPECS, sandbox_specs_dir


def strings(node: Any, keys: bool = True) -> list[str]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in [*([str(k)] if keys else []), *strings(v, keys)]]
    if isinstance(node, list):
        return [s for v in node for s in strings(v, keys)]
    return [node] if isinstance(node, str) else []


def shipped(name: str) -> Any:
    return yaml.safe_load((SHIPPED_SPECS / name).read_text(encoding="utf-8"))


def test_every_spec_file_is_shipped_and_loads_with_its_placeholders() -> None:
    specs = load_all_specs(SHIPPED_SPECS)
    assert set(dict(specs)) == set(SPEC_MODELS)
    unfilled = specs.unfilled()
    keys = {(p.file, p.key) for p in unfilled}
    assert ("mapping_specs/orders.yaml", "defaults.subsidiary") in keys
    assert ("mapping_specs/settlement.yaml", "defaults.clearing_account") in keys
    assert ("mapping_specs/catalog.yaml", "defaults.category_id") in keys
    assert all(p.problem == "placeholder not filled in" and p.fix.startswith("replace it with ") and
               "<SET ME" not in p.fix for p in unfilled)


def test_the_shipped_specs_hold_no_sandbox_only_value() -> None:
    overlay_values = {s for path in OVERLAY.glob("*.yaml")
                      for s in strings(yaml.safe_load(path.read_text()), keys=False) if len(s) > 2}
    for path in SHIPPED_SPECS.glob("*.yaml"):
        values = strings(yaml.safe_load(path.read_text(encoding="utf-8")))
        for value in values:
            assert not value.startswith("eid:"), (path.name, value)
            assert "sbx" not in value and "Sandbox" not in value, (path.name, value)
            assert value not in overlay_values, (path.name, value)


def test_the_overlay_fills_every_placeholder_and_changes_only_records() -> None:
    specs = load_all_specs(sandbox_specs_dir())
    assert specs.unfilled() == []
    assert set(dict(specs)) == set(SPEC_MODELS)
    # the shipped settings (modes, policies) are what the sandbox runs: the overlay only names records
    orders = specs.get("orders", OrdersSpec).defaults
    assert orders.subsidiary == "eid:SUB-US" and orders.hold_policy == shipped("orders.yaml")["defaults"]["hold_policy"]
    settlement = specs.get("settlement", SettlementSpec).for_shop("any")
    assert settlement.clearing_account == "eid:ACCT-1250"
    assert settlement.mode == shipped("settlement.yaml")["defaults"]["mode"]
    assert specs.get("catalog", CatalogSpec).for_shop("x").defaults.images.fallback_uris == [
        "tos-maliva-i-sbx/ttns-placeholder"]
    assert specs.get("inventory", InventorySpec).shops["Sandbox US Shop"].defaults.allocation is not None
    for path in OVERLAY.glob("*.yaml"):
        assert (SHIPPED_SPECS / path.name).exists(), f"{path.name}: the overlay of a spec that is not shipped"


def test_a_flow_asking_for_a_spec_with_placeholders_is_refused_for_the_admin() -> None:
    specs = load_all_specs(SHIPPED_SPECS)
    with pytest.raises(SpecNotReadyError) as err:
        specs.get("orders", OrdersSpec)
    assert isinstance(err.value, NeedsHumanError) and err.value.owner == "admin"
    assert err.value.code == "spec_placeholder" and "mapping_specs/orders.yaml: defaults.subsidiary" in str(err.value)
    assert "ttns specs check" in err.value.fix_hint
    assert specs.get("carriers", type(specs.specs["carriers"]))  # a spec without placeholders is served



def test_a_caller_reading_part_of_a_spec_is_refused_only_for_placeholders_in_that_part() -> None:
    specs = load_all_specs(SHIPPED_SPECS)
    with pytest.raises(SpecNotReadyError):
        specs.get("catalog", CatalogSpec)  # pushing products needs the TikTok category
    # the inventory flow reads only `match`: stock sync is not held by an unfilled product category
    assert specs.get("catalog", CatalogSpec, needs=("match",)).for_shop("S1").match.by == "itemid"
    # settlement reads only the orders' tax mode
    assert specs.get("orders", OrdersSpec, needs=("tax",)).for_shop("S1").tax.mode == "none"
    with pytest.raises(SpecNotReadyError) as err:
        specs.get("orders", OrdersSpec, needs=("tax", "subsidiary"))
    assert [p.key for p in err.value.problems] == ["defaults.subsidiary"]


def test_placeholders_are_found_anywhere_with_their_key() -> None:
    raw = {"shops": {"S1": {"accounts": [{"id": "<SET ME: the fee account>"}, "12"]}}, "x": "SET ME"}
    (found,) = placeholder_problems(raw, "f.yaml")
    assert found.key == "shops.S1.accounts[0].id" and found.fix.startswith("replace it with the fee account")
    assert is_placeholder("<SET ME>") and is_placeholder(" <SET ME: x> ") and not is_placeholder("eid:SET-ME")


def run(args: list[str], specs_dir: Path, sqlite_url: str) -> Any:
    return CliRunner().invoke(main, args, env={"TTNS_DATABASE_URL": sqlite_url, "TTNS_SPECS_DIR": str(specs_dir)})


def test_specs_check_offline_refuses_placeholders_with_file_key_and_fix(sqlite_url: str) -> None:
    res = run(["specs", "check", "--offline"], SHIPPED_SPECS, sqlite_url)
    assert res.exit_code == 1, res.output
    assert "mapping_specs/settlement.yaml: defaults.variance_account: placeholder not filled in" in res.output
    assert "fix: replace it with the account for amounts a statement's own breakdowns do not explain" in res.output
    assert "placeholder(s) to replace" in res.output
    res = run(["specs", "check", "--offline"], sandbox_specs_dir(), sqlite_url)
    assert res.exit_code == 0, res.output


def test_a_filled_in_spec_passes_offline(tmp_path: Path, sqlite_url: str) -> None:
    specs = tmp_path / "mapping_specs"
    shutil.copytree(SHIPPED_SPECS, specs)
    for name in ("orders.yaml", "settlement.yaml", "catalog.yaml", "prices.yaml"):
        path = specs / name
        text = path.read_text(encoding="utf-8")
        while "<SET ME" in text:
            start = text.index('"<SET ME')
            text = text[:start] + '"123"' + text[text.index('>"', start) + 2:]
        path.write_text(text, encoding="utf-8")
    res = run(["specs", "check", "--offline"], specs, sqlite_url)
    assert res.exit_code == 0, res.output
    assert "placeholder" not in res.output


def doctor(specs_dir: Path, sqlite_url: str) -> list[Check]:
    c = build(Settings(database_url=sqlite_url, specs_dir=specs_dir), areas=())
    try:
        return list(doctor_checks(c))
    finally:
        c.close()


def test_doctor_fails_each_placeholder_and_passes_the_sandbox_specs(sqlite_url: str) -> None:
    got = doctor(SHIPPED_SPECS, sqlite_url)
    failed = [c for c in got if not c.ok and c.name != "spec references"]
    assert len(failed) == len(load_all_specs(SHIPPED_SPECS).unfilled()) > 10
    first = next(c for c in failed if c.name == "spec mapping_specs/orders.yaml")
    assert first.detail.startswith("defaults.") and first.fix.startswith("replace it with")
    got = doctor(sandbox_specs_dir(), sqlite_url)
    assert got[0].name == "mapping specs" and all(c.ok for c in got[:-1])
    # without NetSuite the references cannot be looked up: that is a failed check, not a silent skip
    assert got[-1].name == "spec references" and not got[-1].ok and "not checked" in got[-1].detail


def test_doctor_names_a_broken_spec_file(tmp_path: Path, sqlite_url: str) -> None:
    specs = tmp_path / "mapping_specs"
    specs.mkdir()
    (specs / "orders.yaml").write_text("version: 1\ndefaults:\n  hold_polcy: wait\n")
    (check,) = [c for c in doctor(specs, sqlite_url) if not c.ok]
    assert check.name == "spec mapping_specs/orders.yaml" and "hold_polcy" in check.detail
    assert "hold_policy" in check.fix


def test_placeholders_are_never_looked_up_in_netsuite() -> None:
    refs = referenced_ids(load_all_specs(SHIPPED_SPECS))
    assert not any(is_placeholder(ref) for ids in refs.values() for ref in ids)


def test_ttns_doctor_without_connections_lists_the_placeholders_and_crashes_nowhere(sqlite_url: str) -> None:
    res = run(["doctor"], SHIPPED_SPECS, sqlite_url)
    assert res.exit_code == 1
    assert "check crashed" not in res.output, res.output
    line = "[FAIL] spec mapping_specs/settlement.yaml: defaults.clearing_account: placeholder not filled in"
    assert line in res.output
    assert "fix: replace it with your TikTok Shop clearing account" in res.output

"""`ttns orders sync --dry-run`, `ttns specs check`, `ttns backfill orders` on a wired bridge with fakes."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bridge.bootstrap import App, build
from bridge.cli import Obj, main
from bridge.mapping.orders import ItemRef
from bridge.settings import Settings
from bridge.store.repos import Shop
from tests.support.fakes import FakeNetSuiteLookup, FakeNetSuiteOrders, FakeTikTokOrders
from tests.support.tiktok_orders import order, unit

ROOT = Path(__file__).resolve().parents[2]
SHOP = "S1"


@pytest.fixture
def wired(sqlite_url: str) -> Iterator[tuple[App, FakeTikTokOrders, FakeNetSuiteOrders]]:
    c = build(Settings(database_url=sqlite_url, specs_dir=ROOT / "tests/fixtures/specs"))
    tiktok, netsuite = FakeTikTokOrders(), FakeNetSuiteOrders({"MUG": ItemRef("103")})
    c = c.with_ports(tiktok_orders=tiktok)
    c = c.with_ports(netsuite_orders=netsuite)
    c.store.shops.upsert(Shop(id=SHOP, name="Demo"))
    yield c, tiktok, netsuite
    c.close()


def run(c: App, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), obj=Obj(c), catch_exceptions=False)
    return result.exit_code, result.output


def test_dry_run_prints_the_payload_and_writes_nothing(wired) -> None:  # type: ignore[no-untyped-def]
    c, tiktok, netsuite = wired
    tiktok.put(SHOP, order("42", [unit("a1", "MUG", "5.00"), unit("a2", "MUG", "5.00")]))
    code, out = run(c, "orders", "sync", "42", "--dry-run")
    assert code == 0, out
    assert "TTS-S1-42" in out and "x2" in out
    payload = json.loads(out[out.index("{"):])
    assert payload["record"]["externalId"] == "TTS-S1-42" and payload["record"]["item"]["items"][0]["quantity"] == 2
    assert netsuite.so_count() == 0 and c.store.links.get("order", SHOP, "42") is None


def test_dry_run_explains_a_mapping_problem(wired) -> None:  # type: ignore[no-untyped-def]
    c, tiktok, _ = wired
    tiktok.put(SHOP, order("43", [unit("a1", "UNKNOWN", "5.00")]))
    code, out = run(c, "orders", "sync", "43", "--dry-run")
    assert code == 1 and "UNKNOWN_SKU" in out and "fix:" in out


def test_sync_one_order_now(wired) -> None:  # type: ignore[no-untyped-def]
    c, tiktok, netsuite = wired
    tiktok.put(SHOP, order("44", [unit("a1", "MUG", "5.00")]))
    code, out = run(c, "orders", "sync", "44")
    assert code == 0 and json.loads(out)["action"] == "created" and netsuite.so_count() == 1


def test_specs_check_names_missing_ids(wired) -> None:  # type: ignore[no-untyped-def]
    c, _, _ = wired
    everything = {"subsidiary": {"1"}, "location": {"1", "9"}, "classification": {"1", "2"},
                  "currency": {"1", "2", "3"}, "paymentmethod": {"7"},
                  "item": {"501", "502", "503", "701", "702", "703", "704"}, "shipitem": {"601"}}
    c = c.with_ports(netsuite_lookup=FakeNetSuiteLookup(everything))
    code, out = run(c, "specs", "check")
    assert code == 0 and "every NetSuite id" in out
    everything["item"].discard("704")
    code, out = run(c, "specs", "check")
    assert code == 1 and "missing item '704'" in out and "defaults.rounding.item" in out


def test_backfill_queues_each_order_once(wired) -> None:  # type: ignore[no-untyped-def]
    c, tiktok, _ = wired
    for i in range(3):
        tiktok.put(SHOP, order(f"h{i}", [unit("a1", "MUG", "5.00")]))
    code, out = run(c, "backfill", "orders", "--since", "2025-01-01", "--no-wait")
    assert code == 0, out
    code, _ = run(c, "backfill", "orders", "--since", "2025-01-01", "--no-wait")
    assert c.store.queue.counts() == {"queued": 3}
    code, out = run(c, "backfill", "orders", "--since", "2030-01-01", "--until", "2029-01-01")
    assert code == 2 and "--since must be before --until" in out


def test_specs_diff_shows_payload_changes(wired, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    c, tiktok, _ = wired
    repo = tmp_path / "repo"
    (repo / "mapping_specs").mkdir(parents=True)
    spec = (ROOT / "tests/fixtures/specs/orders.yaml").read_text()
    (repo / "mapping_specs/orders.yaml").write_text(spec)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qam", "x", "--allow-empty"],
                   cwd=repo, check=True)
    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "spec"], cwd=repo, check=True)
    (repo / "mapping_specs/orders.yaml").write_text(spec.replace('memo: "pre-order', 'memo: "PRE').replace(
        "max: \"0.05\"", "max: \"0.10\"").replace('    default: "1"                   # storefront',
                                                    '    default: "5"'))
    c = c.with_settings(specs_dir=repo / "mapping_specs")
    c = c.with_ports(tiktok_orders=tiktok)
    c = c.with_ports(netsuite_orders=FakeNetSuiteOrders({"MUG": ItemRef("103")}))
    tiktok.put(SHOP, order("d1", [unit("a1", "MUG", "5.00")]))
    assert run(c, "orders", "sync", "d1")[0] == 0
    code, out = run(c, "specs", "diff", "--from", "HEAD")
    assert code == 0, out
    assert '-  "class": {' in out or '"id": "5"' in out
    assert "1 of 1 recent order(s) would change" in out


def test_specs_diff_outside_git_compares_with_the_deployed_snapshot(wired, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The production layout: specs in a plain folder (no git). The processes record the specs they start
    with; `specs diff` without --from compares the edited folder with that snapshot."""
    from bridge.cli import preflight

    c, tiktok, _ = wired
    folder = tmp_path / "etc" / "mapping_specs"  # not in any git repository
    folder.mkdir(parents=True)
    spec = (ROOT / "tests/fixtures/specs/orders.yaml").read_text()
    (folder / "orders.yaml").write_text(spec)
    c = c.with_settings(specs_dir=folder)
    c = c.with_ports(tiktok_orders=tiktok)
    c = c.with_ports(netsuite_orders=FakeNetSuiteOrders({"MUG": ItemRef("103")}))

    code, out = run(c, "specs", "diff")
    assert code == 1 and "no deployed snapshot" in out and "--from" in out
    code, out = run(c, "specs", "diff", "--from", "HEAD")  # git cannot help here: one line, not a traceback
    assert code == 65 and "cannot be read at git revision" in out and "Traceback" not in out

    preflight(Obj(c), "worker")  # what `ttns worker` does before it starts
    tiktok.put(SHOP, order("d1", [unit("a1", "MUG", "5.00")]))
    assert run(c, "orders", "sync", "d1")[0] == 0
    code, out = run(c, "specs", "diff")
    assert code == 0 and "0 of 1 recent order(s) would change" in out, out

    (folder / "orders.yaml").write_text(spec.replace('    default: "1"                   # storefront',
                                                     '    default: "5"'))
    c = c.with_settings()  # the specs read again, the flows rebuilt
    c = c.with_ports(tiktok_orders=tiktok)
    c = c.with_ports(netsuite_orders=FakeNetSuiteOrders({"MUG": ItemRef("103")}))
    code, out = run(c, "specs", "diff")
    assert code == 0, out
    assert "1 of 1 recent order(s) would change" in out and "--- order d1" in out and "deployed " in out


def test_specs_check_and_doctor_name_a_clearing_account_that_is_not_a_bank_account(wired, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A deposit into the clearing account and a customer refund paid from it need a Bank account (NetSuite
    offers no other type there): the key, the account, its type and the fix are named; a Bank one passes."""
    import shutil

    import yaml

    from bridge.flows.doctor_specs import doctor_checks
    from tests.settlement.specs import ACCOUNTS, settings_dict

    c, _, _ = wired
    specs = tmp_path / "specs"
    specs.mkdir()
    shutil.copy(ROOT / "tests/fixtures/specs/orders.yaml", specs / "orders.yaml")
    (specs / "settlement.yaml").write_text(yaml.safe_dump({
        "version": 1, "defaults": settings_dict(), "shops": {"7494": {"clearing_account": "1251"}}}))
    everything = {"subsidiary": {"1"}, "location": {"1", "9"}, "classification": {"1", "2", "7"},
                  "department": {"8", "9"}, "currency": {"1", "2", "3"}, "paymentmethod": {"7"},
                  "item": {"501", "502", "503", "701", "702", "703", "704"}, "shipitem": {"601"},
                  "account": {*ACCOUNTS.values(), "1251", "4030", "2200", "6901", "1100"}}
    c = c.with_settings(specs_dir=specs).with_settings(netsuite_account="TSTDRV1")
    wrong = c.with_ports(netsuite_lookup=FakeNetSuiteLookup(everything, {"1251": "OthCurrAsset"}))
    code, out = run(wrong, "specs", "check")
    assert code == 1, out
    assert ("settlement.yaml: shops.7494.clearing_account '1251' is a NetSuite account of type OthCurrAsset, "
            "not Bank") in out and "fix: make the TikTok Shop clearing account a Bank-type account" in out
    assert "defaults.clearing_account" not in out  # 1250 is a Bank account
    [check] = [x for x in doctor_checks(wrong) if x.name == "settlement clearing account"]
    assert not check.ok and "shops.7494.clearing_account '1251'" in check.detail and "Bank-type" in check.fix
    right = c.with_ports(netsuite_lookup=FakeNetSuiteLookup(everything))
    code, out = run(right, "specs", "check")
    assert code == 0 and "every NetSuite id" in out, out
    assert not [x for x in doctor_checks(right) if x.name == "settlement clearing account"]


def test_specs_check_and_doctor_name_a_shops_clearing_account_in_another_currency(wired, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A bank account holds one currency: a GBP shop whose clearing account is the USD one has its deposits into
    clearing and its customer refunds refused. The key that sets it, the account, both currencies and the fix
    (one clearing account per currency) are named; with a GBP clearing account of its own it passes."""
    import shutil

    import yaml

    from bridge.flows.doctor_specs import doctor_checks
    from tests.settlement.specs import ACCOUNTS, settings_dict

    c, _, _ = wired
    c.store.shops.upsert(Shop(id="7494", name="US shop", region="US"))
    c.store.shops.upsert(Shop(id="7495", name="UK shop", region="GB"))
    specs = tmp_path / "specs"
    specs.mkdir()
    shutil.copy(ROOT / "tests/fixtures/specs/orders.yaml", specs / "orders.yaml")
    everything = {"subsidiary": {"1"}, "location": {"1", "9"}, "classification": {"1", "2", "7"},
                  "department": {"8", "9"}, "currency": {"1", "2", "3"}, "paymentmethod": {"7"},
                  "item": {"501", "502", "503", "701", "702", "703", "704"}, "shipitem": {"601"},
                  "account": {*ACCOUNTS.values(), "1251", "4030", "2200", "6901", "1100"}}
    lookup = FakeNetSuiteLookup(everything, account_currencies={ACCOUNTS["clearing"]: "USD", "1251": "GBP"})
    c = c.with_settings(specs_dir=specs).with_settings(netsuite_account="TSTDRV1").with_ports(netsuite_lookup=lookup)

    (specs / "settlement.yaml").write_text(yaml.safe_dump({"version": 1, "defaults": settings_dict()}))
    code, out = run(c, "specs", "check")
    assert code == 1, out
    assert (f"settlement.yaml: defaults.clearing_account '{ACCOUNTS['clearing']}' is a NetSuite bank account in USD, "
            "but shop 7495 sells in GBP") in out
    assert "fix: create a Bank account in GBP" in out and "shops.7495.clearing_account" in out
    assert "one clearing account per currency" in out and "shop 7494" not in out  # the US shop's is right
    [check] = [x for x in doctor_checks(c) if x.name == "settlement clearing account"]
    assert not check.ok and "shop 7495 sells in GBP" in check.detail and "Bank account in GBP" in check.fix

    # the UK market's key named when that is where it is set
    (specs / "settlement.yaml").write_text(yaml.safe_dump({"version": 1, "defaults": settings_dict(),
                                                           "markets": {"GB": {"clearing_account": "1250"}}}))
    code, out = run(c, "specs", "check")
    assert code == 1 and "markets.GB.clearing_account '1250' is a NetSuite bank account in USD" in out, out

    (specs / "settlement.yaml").write_text(yaml.safe_dump({
        "version": 1, "defaults": settings_dict(), "shops": {"7495": {"clearing_account": "1251"}}}))
    code, out = run(c, "specs", "check")
    assert code == 0 and "every NetSuite id" in out, out
    assert not [x for x in doctor_checks(c) if x.name == "settlement clearing account"]

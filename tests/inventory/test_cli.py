"""`ttns inventory|locations|skus|catalog|prices …` and the doctor checks, on a wired bridge with fakes."""

from __future__ import annotations

import csv
from pathlib import Path

import yaml
from click.testing import CliRunner

from bridge.cli import Obj, main
from bridge.flows.doctor_inventory import doctor_checks
from bridge.mapping.inventory import WarehouseInfo
from bridge.store.repos import Shop
from tests.inventory.fakes import FakeSku
from tests.inventory.test_inventory_flow import SHOP, W1, W2, World


def run(w: World, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), obj=Obj(w.c), catch_exceptions=False)
    return result.exit_code, result.output


def test_skus_match_counts_and_writes_the_audit_csv(world: World, tmp_path: Path) -> None:
    world.tiktok.add("P9", [FakeSku("S-X", "NOPE", {W1: 0}), FakeSku("S-Y", "MUG-BLK", {W1: 0})])
    out_csv = tmp_path / "audit.csv"
    code, out = run(world, "skus", "match", "--csv", str(out_csv))
    assert code == 0, out
    assert "matched 5" in out and "unmatched tiktok 1" in out and "unmatched netsuite 1" in out
    assert "duplicate tiktok skus 2" in out
    rows = list(csv.DictReader(out_csv.open(encoding="utf-8")))
    by = {(r["status"], r["seller_sku"] or r["item_key"]) for r in rows}
    assert ("unmatched_tiktok", "NOPE") in by and ("unmatched_netsuite", "SPARE") in by
    assert {r["sku_id"] for r in rows if r["duplicate_tiktok"] == "True"} == {"S-BLK", "S-Y"}
    assert world.svc.inv.counts(SHOP) == {"skus": 6, "matched": 5, "products": 4}


def test_inventory_push_all_sends_every_product_and_dry_run_sends_nothing(world: World) -> None:
    code, out = run(world, "inventory", "push", "--all", "--dry-run")
    assert code == 0, out
    assert "MUG-BLK @ " in out and "dry_run 3" in out and world.tiktok.updates == []
    code, out = run(world, "inventory", "push", "--all")
    assert code == 0, out
    assert "sent 3" in out and sorted(p for p, _ in world.tiktok.updates) == ["P1", "P2", "P3"]
    code, out = run(world, "inventory", "push", "--all")  # a re-assertion resends, zeros included
    assert "sent 3" in out and len(world.tiktok.updates) == 6


def test_inventory_show_explains_a_sku(world: World) -> None:
    code, out = run(world, "inventory", "show", "MUG-BLK")
    assert code == 0, out
    assert f"MUG-BLK @ {W1}: available 10 (locations 1) * 1 - buffer 1 - pending 0 -> 9" in out


def test_locations_list_link_and_doctor(world: World) -> None:
    world.tiktok.whs.append(WarehouseInfo("7068000000000000077", "New DC"))
    from bridge.ports.netsuite import LocationInfo

    world.netsuite.locs.extend([LocationInfo("1", "Main"), LocationInfo("2", "East"), LocationInfo("3", "FBT"),
                                LocationInfo("7", "Outlet")])
    code, out = run(world, "locations", "pull")
    assert code == 0, out
    assert "New DC" in out and "NOT LINKED" in out and "NetSuite location 7 Outlet feeds no TikTok warehouse" in out
    checks = {c.name: c for c in doctor_checks(world.c)}
    bad = checks["warehouses of Demo shop"]
    assert not bad.ok and not bad.warning and "7068000000000000077 (New DC)" in bad.detail
    assert checks["NetSuite locations"].warning and "7 (Outlet)" in checks["NetSuite locations"].detail
    code, out = run(world, "locations", "link", "New DC", "7")
    assert code == 0, out
    doc = yaml.safe_load((Path(world.c.settings.specs_dir) / "locations.yaml").read_text(encoding="utf-8"))
    assert {"warehouse": "New DC", "locations": ["7"]} in doc["shops"]["*"]["warehouses"]
    checks = {c.name: c for c in doctor_checks(world.c)}
    assert checks["warehouses of Demo shop"].ok and checks["NetSuite locations"].ok
    code, out = run(world, "locations", "link", "Main", "2")  # East already feeds a warehouse: refused
    assert code != 0 and "sold twice" in out


def test_catalog_and_prices_dry_runs(catalog_world: World) -> None:
    w = catalog_world
    code, out = run(w, "catalog", "push", "--dry-run")
    assert code == 0, out
    assert "create     TSHIRT (item 107)" in out and "create 2" in out and w.tiktok.created == []
    w.tiktok.add("PM", [FakeSku("S-MUG", "MUG-001", {W2: 0})])
    w.svc.refresh(w.c.store.shops.get(SHOP))  # type: ignore[arg-type]
    w.netsuite.prices[("110", "1", "1")] = __import__("decimal").Decimal("12.499")
    code, out = run(w, "prices", "push", "--dry-run")
    assert code == 0, out
    assert "MUG-001: level 1 (default) NetSuite 12.499 USD -> 12.50 (rounding +0.001)" in out
    assert "would send 1 price(s)" in out and w.tiktok.price_updates == []


def test_commands_need_a_connected_shop(world: World) -> None:
    world.c.store.shops.upsert(Shop(id=SHOP, name="Demo shop", status="disconnected"))
    code, out = run(world, "inventory", "push", "--all")
    assert code != 0 and "no active shop" in out

"""Sold-out SKUs (inventory.yaml ``sold_out``): Update Inventory documents ``quantity`` as
[1, 99,999] and whether the live API takes 0 is not known, so every strategy is run against a TikTok
that accepts 0 and one that refuses it with 12052055 (``FakeTikTok.refuse_zero``; the same against
the TikTok sandbox's ``inventory_zero_quantity`` knob is in test_sandboxes.py)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bridge.bootstrap import build
from bridge.clock import ManualClock
from bridge.errors import NeedsHumanError
from bridge.flows import inventory as flow
from bridge.mapping.inventory import WarehouseInfo
from bridge.settings import Settings
from bridge.store.repos import Shop
from tests.inventory.fakes import FakeNetSuite, FakeSku, FakeTikTok
from tests.inventory.test_inventory_flow import EAST, INVENTORY, MAIN, SHOP, W1, W2, World, write_specs

STRATEGIES = ["auto", "zero", "deactivate", "keep_one"]
ZERO = [pytest.param(False, id="zero-accepted"), pytest.param(True, id="zero-refused")]


def make_world(sqlite_url: str, tmp_path: Path, strategy: str, refuse_zero: bool) -> World:
    clock = ManualClock(datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC))
    inventory = {**INVENTORY, "shops": {"Demo shop": {"sold_out": {"strategy": strategy}}}}
    specs = write_specs(tmp_path / "specs", inventory=inventory)
    c = build(Settings(database_url=sqlite_url, specs_dir=specs, retry_base_seconds=0.01, retry_cap_seconds=0.01),
              clock=clock)
    tiktok = FakeTikTok(SHOP, [WarehouseInfo(W1, "Main"), WarehouseInfo(W2, "East")])
    tiktok.refuse_zero = refuse_zero
    # TikTok shows stock from before: the products sell out in NetSuite in the tests
    tiktok.add("P1", [FakeSku("S-BLK", "MUG-BLK", {W1: 5, W2: 5}), FakeSku("S-WHT", "MUG-WHT", {W1: 5})])
    tiktok.add("P3", [FakeSku("S-CAP", "CAP", {W1: 5})])
    netsuite = FakeNetSuite()
    for iid, sku in (("101", "MUG-BLK"), ("102", "MUG-WHT"), ("104", "CAP")):
        netsuite.item(iid, sku)
    netsuite.available.update({("101", MAIN): 10, ("101", EAST): 4, ("102", MAIN): 0, ("104", MAIN): 0})
    c = c.with_ports(tiktok_inventory=tiktok)
    c = c.with_ports(netsuite_inventory=netsuite)
    c.store.shops.upsert(Shop(id=SHOP, name="Demo shop", region="US", cipher="ROW_x"))
    w = World(c, tiktok, netsuite, clock)
    w.svc.pull_places()
    w.svc.refresh(c.store.shops.get(SHOP))  # type: ignore[arg-type]
    return w


@pytest.fixture
def world_for(sqlite_url: str, tmp_path: Path) -> Iterator[object]:
    made: list[World] = []

    def make(strategy: str, refuse_zero: bool) -> World:
        w = make_world(sqlite_url, tmp_path, strategy, refuse_zero)
        made.append(w)
        return w

    yield make
    for w in made:
        w.c.close()


def _open(w: World, code: str) -> list[object]:
    return [e for e in w.c.store.exceptions.list(status="open") if e.code == code]


def _zeros_sent(w: World) -> bool:
    return any(q == 0 for _, body in w.tiktok.updates for per in body.values() for q in per.values())


@pytest.mark.parametrize("refuse_zero", ZERO)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_product_whose_every_sku_sold_out(world_for: object, strategy: str, refuse_zero: bool) -> None:
    w = world_for(strategy, refuse_zero)  # type: ignore[operator]
    product = w.tiktok.products_["P3"]
    if strategy == "zero" and refuse_zero:
        with pytest.raises(NeedsHumanError) as err:
            w.svc.push_product(SHOP, "P3", mode="force")
        assert err.value.code == "SOLD_OUT_ZERO_REFUSED" and err.value.owner == "admin"
        assert w.tt("S-CAP") == {W1: 5} and product.status == "ACTIVATE"  # nothing changed on TikTok
        return
    result = w.svc.push_product(SHOP, "P3", mode="force")
    if strategy in ("zero", "auto") and not refuse_zero:
        assert result.action == "sent" and w.tt("S-CAP") == {W1: 0} and product.status == "ACTIVATE"
        return
    if strategy == "keep_one":
        assert result.action == "sent" and w.tt("S-CAP") == {W1: 1} and product.status == "ACTIVATE"
        assert not _zeros_sent(w)
        held = _open(w, "SOLD_OUT_HELD_AT_ONE")
        assert len(held) == 1 and "CAP" in held[0].title  # type: ignore[attr-defined]
        return
    # deactivate, or auto once TikTok refused a 0 (it learns that for the shop)
    assert result.action == "deactivated" and product.status == "SELLER_DEACTIVATED"
    assert w.tt("S-CAP") == {W1: 5}  # never sent a 0 that TikTok would refuse; offline instead
    assert (w.c.store.cursors.get(flow.zero_refused_cursor(SHOP)) is not None) == (strategy == "auto")
    assert _open(w, "SOLD_OUT_HELD_AT_ONE") == []
    # quiet while it stays sold out
    again = w.svc.push_product(SHOP, "P3")
    assert again.action == "skipped" and product.status == "SELLER_DEACTIVATED"
    # stock comes back in NetSuite: the bridge activates what it deactivated and sends the number
    w.netsuite.available[("104", MAIN)] = 9
    back = w.svc.push_product(SHOP, "P3")
    assert back.action == "sent" and product.status == "ACTIVATE"
    assert w.tt("S-CAP") == {W1: 4}  # allocation 0.5, buffer 0
    assert w.tiktok.status_calls == [(["P3"], False), (["P3"], True)]


@pytest.mark.parametrize("refuse_zero", ZERO)
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_one_sold_out_sku_of_a_product_still_selling(world_for: object, strategy: str, refuse_zero: bool) -> None:
    w = world_for(strategy, refuse_zero)  # type: ignore[operator]
    if strategy == "zero" and refuse_zero:
        with pytest.raises(NeedsHumanError) as err:
            w.svc.push_product(SHOP, "P1", mode="force")
        assert err.value.code == "SOLD_OUT_ZERO_REFUSED"
        return
    result = w.svc.push_product(SHOP, "P1", mode="force")
    assert result.action == "sent" and w.tiktok.products_["P1"].status == "ACTIVATE"
    assert w.tt("S-BLK") == {W1: 9, W2: 3}
    if strategy in ("zero", "auto") and not refuse_zero:
        assert w.tt("S-WHT") == {W1: 0}
        assert _open(w, "SOLD_OUT_HELD_AT_ONE") == []
        return
    # the product keeps selling its other SKU: the sold-out one shows the documented minimum, and
    # since no unit in NetSuite covers it, a person hears about it
    assert w.tt("S-WHT") == {W1: 1}
    held = _open(w, "SOLD_OUT_HELD_AT_ONE")
    assert [e.evidence["held"][0]["seller_sku"] for e in held] == ["MUG-WHT"]  # type: ignore[attr-defined]
    assert w.tiktok.status_calls == []
    sent = len(w.tiktok.updates)
    assert w.svc.push_product(SHOP, "P1", mode="check").action in ("sent", "unchanged")
    assert "S-WHT" not in {s for _, b in w.tiktok.updates[sent:] for s in b}  # already held at 1: not re-sent


@pytest.mark.parametrize("refuse_zero", ZERO)
def test_keep_one_within_the_buffer_raises_nothing(world_for: object, refuse_zero: bool) -> None:
    """One unit in NetSuite, buffer 1: the computed 0 goes out as 1, and the unit shown exists."""
    w = world_for("keep_one", refuse_zero)  # type: ignore[operator]
    w.netsuite.available[("102", MAIN)] = 1
    w.svc.push_product(SHOP, "P1", mode="force")
    assert w.tt("S-WHT") == {W1: 1}
    assert _open(w, "SOLD_OUT_HELD_AT_ONE") == []


def test_dry_run_of_deactivate_changes_nothing(world_for: object) -> None:
    w = world_for("deactivate", True)  # type: ignore[operator]
    result = w.svc.push_product(SHOP, "P3", mode="force", dry_run=True)
    assert result.action == "dry_run" and "deactivate" in result.reason
    assert w.tiktok.status_calls == [] and w.tiktok.products_["P3"].status == "ACTIVATE"

"""The four specs refuse what would be wrong, naming file, key and fix; the shipped defaults load."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bridge.mapping import load_all_specs
from bridge.mapping.catalog_spec import CatalogSpec
from bridge.mapping.inventory_spec import InventorySpec
from bridge.mapping.locations_spec import LocationsSpec
from bridge.mapping.prices_spec import PricesSpec
from bridge.mapping.specs import SpecError, load_spec
from tests.support.specs import sandbox_specs_dir

ROOT = Path(__file__).resolve().parents[2]


def problems(tmp_path: Path, model: type, doc: object) -> str:
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    with pytest.raises(SpecError) as err:
        load_spec(path, model)
    return str(err.value)


@pytest.mark.parametrize(
    ("model", "doc", "expected"),
    [
        pytest.param(LocationsSpec, {"shops": {"*": {"warehouses": [{"warehouse": "A"}]}}},
                     "has no NetSuite location", id="merchant-warehouse-without-location"),
        pytest.param(LocationsSpec, {"shops": {"*": {"warehouses": [{"warehouse": "A", "locations": ["1"]},
                                                                    {"warehouse": "B", "locations": ["1"]}]}}},
                     "sold twice", id="location-feeding-two-warehouses"),
        pytest.param(LocationsSpec, {"shops": {"*": {"warehouses": [
            {"warehouse": "A", "locations": ["3"]}, {"warehouse": "F", "tiktok_managed": True, "locations": ["3"]}]}}},
            "FBT stock is never sellable", id="fbt-location-in-a-merchant-warehouse"),
        pytest.param(InventorySpec, {"defaults": {"allocation": "1.5"}}, "defaults.allocation", id="allocation-over-1"),
        pytest.param(InventorySpec, {"skus": {"X": {"max": 100000}}}, "skus.X.max", id="max-over-tiktok-limit"),
        pytest.param(InventorySpec, {"defaults": {"bufer": 1}}, "did you mean 'buffer'", id="typo"),
        pytest.param(CatalogSpec, {"source": "netsuite"}, "no TikTok category is named", id="no-category"),
        pytest.param(PricesSpec, {"windows": [{"name": "w", "price_level": "5", "start": "2026-11-27T00:00:00"}]},
                     "no UTC offset", id="naive-window-time"),
        pytest.param(PricesSpec, {"windows": [{"name": "w", "price_level": "5", "start": "2026-11-27T00:00:00Z",
                                               "end": "2026-11-26T00:00:00Z"}]}, "ends before it starts",
                     id="window-ends-before-start"),
    ],
)
def test_bad_specs_are_refused_with_a_fix(tmp_path: Path, model: type, doc: object, expected: str) -> None:
    text = problems(tmp_path, model, doc)
    assert expected in text and "fix:" in text


def test_shipped_specs_load() -> None:
    specs = load_all_specs(sandbox_specs_dir())
    inv = specs.get("inventory", InventorySpec)
    assert inv.rule_for("any", "MUG-001", shop_name="Sandbox UK Shop").allocation == inv.shops[
        "Sandbox UK Shop"].defaults.allocation
    assert specs.get("locations", LocationsSpec).for_shop("x", "Sandbox US Shop").warehouses[2].tiktok_managed
    assert specs.get("catalog", CatalogSpec).for_shop("x").source == "netsuite"
    assert specs.get("prices", PricesSpec).for_shop("x").currencies["USD"] == "1"

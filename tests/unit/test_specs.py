"""Spec errors name the file, the key and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.mapping import load_all_specs
from bridge.mapping.orders_spec import OrdersSpec
from bridge.mapping.specs import SpecError, SpecSet, load_spec
from tests.support.specs import sandbox_specs_dir

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str, name: str = "orders.yaml") -> Path:
    d = tmp_path / "mapping_specs"
    d.mkdir(exist_ok=True)
    p = d / name
    p.write_text(text)
    return p


def problems(path: Path) -> list[str]:
    with pytest.raises(SpecError) as err:
        load_spec(path, OrdersSpec, display_root=path.parent.parent)
    return [str(p) for p in err.value.problems]


@pytest.mark.parametrize(
    ("yaml_text", "key", "fix"),
    [
        pytest.param("version: 1\ndefaults:\n  discounts:\n    seller: {mode: percent, item: '5'}\n",
                     "defaults.discounts.seller.mode", "use one of 'discount_line' or 'line_rate'", id="bad-enum"),
        pytest.param("version: 1\ndefaults:\n  hold_polcy: wait\n", "defaults.hold_polcy",
                     "did you mean 'hold_policy'?", id="typo-suggests"),
        pytest.param("version: 1\ndefaults:\n  tax: {mode: line}\n", "defaults",
                     "tax.item", id="mode-needs-its-item"),
        pytest.param("version: 1\ndefaults:\n  rounding: {max: lots}\n", "defaults.rounding.max",
                     "write a number", id="not-a-number"),
        pytest.param("version: 2\n", "version", "use one of 1", id="wrong-version"),
        pytest.param("version: 1\ndefaults:\n  body_fields: {memo: buyer_message}\n", "defaults.body_fields",
                     "custbody", id="body-fields-only-custom"),
        pytest.param("version: 1\ndefaults:\n  customer: {strategy: generic}\n", "defaults.customer",
                     "generic_id", id="generic-needs-an-id"),
        pytest.param("version: 1\ndefaults:\n  items: {overrides: {A: '1'}}\n", "defaults",
                     "catalog.yaml match.by", id="items-moved-to-the-one-sku-rule"),
    ],
)
def test_errors_name_file_key_and_fix(tmp_path: Path, yaml_text: str, key: str, fix: str) -> None:
    base = ("defaults:\n  discounts: {seller: {mode: line_rate}, platform: {mode: line_rate}}\n"
            "  tax: {mode: none}\n  customer: {strategy: per_buyer}\n")
    # start from a valid minimal spec and let the case's keys win
    text = yaml_text if "defaults:" not in yaml_text else yaml_text.replace("defaults:\n", base, 1)
    found = problems(write(tmp_path, text))
    assert any(p.startswith(f"mapping_specs/orders.yaml: {key}") and fix in p for p in found), found


def test_shop_override_errors_are_named_under_the_shop(tmp_path: Path) -> None:
    text = ("version: 1\ndefaults:\n  tax: {mode: none}\n  discounts: {seller: {mode: line_rate}, platform: "
            "{mode: line_rate}}\nshops:\n  '7494':\n    record_type: invoice\n")
    found = problems(write(tmp_path, text))
    assert any("shops.7494.record_type" in p and "salesOrder" in p for p in found), found


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    found = problems(write(tmp_path, "version: 1\ndefaults:\n  tax: {mode: line\n"))
    assert "not valid YAML" in found[0] and "line" in found[0]


def test_unknown_spec_file_is_reported(tmp_path: Path) -> None:
    write(tmp_path, "version: 1\n", name="order.yaml")
    with pytest.raises(SpecError) as err:
        SpecSet.load(tmp_path / "mapping_specs")
    assert "rename it to orders.yaml" in str(err.value)


def test_the_sandbox_specs_are_valid() -> None:
    specs = load_all_specs(sandbox_specs_dir())
    orders = specs.get("orders", OrdersSpec)
    assert orders.defaults.customer.generic_id == "eid:CUST-TTS"
    assert orders.for_shop("any-shop") == orders.defaults


def test_shop_overrides_merge_onto_defaults(tmp_path: Path) -> None:
    text = ("version: 1\ndefaults:\n  tax: {mode: none}\n  subsidiary: '1'\n  discounts: {seller: {mode: line_rate},"
            " platform: {mode: line_rate}}\n  currencies: {USD: '1'}\nshops:\n  S2:\n    subsidiary: '2'\n"
            "    currencies: {GBP: '2'}\n")
    spec = load_spec(write(tmp_path, text), OrdersSpec)
    s2 = spec.for_shop("S2")
    assert s2.subsidiary == "2" and s2.currencies == {"USD": "1", "GBP": "2"} and s2.tax.mode == "none"
    assert spec.for_shop("S1").subsidiary == "1"

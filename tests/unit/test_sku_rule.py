"""The one SKU rule (catalog.yaml `match`): one normalisation and one override list, and what
`ttns skus match` links is exactly what an order resolves."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from bridge.mapping.catalog import NsItem, TtSku, match_skus
from bridge.mapping.orders import ItemRef
from bridge.mapping.skus import MatchSpec
from tests.support.fakes import FakeNetSuiteOrders


@pytest.mark.parametrize(
    ("rule", "a", "b", "same"),
    [
        pytest.param({}, "LAMP-01", "Lamp-01", True, id="default-ignores-case"),
        pytest.param({}, " LAMP-01\t", "LAMP-01", True, id="default-trims"),
        pytest.param({}, "LAMP 01", "LAMP01", False, id="default-keeps-inner-spaces"),
        pytest.param({"spaces": "ignore"}, "LAMP 01", "lamp01", True, id="spaces-ignore"),
        pytest.param({"case": "exact"}, "LAMP-01", "Lamp-01", False, id="case-exact"),
        pytest.param({"spaces": "exact"}, "LAMP-01 ", "LAMP-01", False, id="spaces-exact"),
    ],
)
def test_normalisation(rule: dict[str, Any], a: str, b: str, same: bool) -> None:
    spec = MatchSpec.model_validate(rule)
    assert (spec.key(a) == spec.key(b)) is same


@pytest.mark.parametrize(
    ("rule", "sql"),
    [
        pytest.param({}, "UPPER(TRIM(itemid))", id="default"),
        pytest.param({"case": "exact", "spaces": "exact"}, "itemid", id="exact"),
        pytest.param({"spaces": "ignore"}, "UPPER(REPLACE(itemid, ' ', ''))", id="spaces-ignore"),
    ],
)
def test_the_query_uses_the_same_rule(rule: dict[str, Any], sql: str) -> None:
    assert MatchSpec.model_validate(rule).sql_key("itemid") == sql


def test_overrides_are_normalised_like_skus() -> None:
    spec = MatchSpec(overrides={"lamp-01": "77"})
    assert spec.override(" LAMP-01 ") == "77" and spec.override("LAMP-02") is None
    assert MatchSpec(case="exact", overrides={"lamp-01": "77"}).override("LAMP-01") is None


def test_overrides_colliding_under_the_rule_are_a_spec_error() -> None:
    with pytest.raises(ValidationError, match="same SKU"):
        MatchSpec(overrides={"LAMP-01": "1", "lamp-01": "2"})


ITEMS = [NsItem("1", "LAMP-01"), NsItem("2", "Mug 02"), NsItem("3", "CAP")]
TT = ["Lamp-01", " lamp-01 ", "mug02", "MUG 02", "cap", "CAP", "PIN"]


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param({}, id="default"),
        pytest.param({"spaces": "ignore"}, id="spaces-ignore"),
        pytest.param({"case": "exact"}, id="case-exact"),
        pytest.param({"overrides": {"pin": "3"}}, id="override"),
    ],
)
def test_skus_match_reports_exactly_what_orders_resolve(rule: dict[str, Any]) -> None:
    spec = MatchSpec.model_validate(rule)
    skus = [TtSku("p", f"s{i}", s) for i, s in enumerate(TT)]
    matched = match_skus("shop", skus, ITEMS, spec).matches
    reported = {s.seller_sku: matched.get(s.sku_id) for s in skus}
    # what the orders flow does: overrides first, then the NetSuite lookup by normalised key
    netsuite = FakeNetSuiteOrders({i.itemid: ItemRef(i.id) for i in ITEMS})
    found = netsuite.resolve_items(sorted({spec.key(s) for s in TT}), spec)
    resolved = {s: spec.override(s) or (found[spec.key(s)].id if spec.key(s) in found else None) for s in TT}
    assert resolved == reported
    assert any(v for v in reported.values())

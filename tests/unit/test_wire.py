"""The bridge's one Decimal → JSON rule (``bridge.mapping.wire``): exact JSON numbers, never floats,
used by the NetSuite client and the TikTok client alike."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.mapping import wire
from bridge.netsuite import client as ns_client
from bridge.tiktok import signing


def test_decimals_are_exact_json_numbers_with_their_digits() -> None:
    body = {"debit": Decimal("53.90"), "credit": Decimal("-0.10"), "big": Decimal("12345678901234567.891"),
            "whole": Decimal("1E+2"), "label": "53.90"}
    text = wire.dumps(body)
    assert text == '{"debit":53.90,"credit":-0.10,"big":12345678901234567.891,"whole":100,"label":"53.90"}'
    back = wire.loads(text)
    assert back["big"] == Decimal("12345678901234567.891") and isinstance(back["debit"], Decimal)
    assert back["label"] == "53.90"  # a string stays a string


@pytest.mark.parametrize("bad", [Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity")])
def test_non_finite_amounts_are_refused(bad: Decimal) -> None:
    with pytest.raises(ValueError):
        wire.dumps({"x": bad})
    with pytest.raises(ValueError):
        wire.jsonable({"x": [bad]})


def test_floats_are_refused_money_must_be_decimal() -> None:
    with pytest.raises(TypeError):
        wire.dumps({"amount": 53.99})
    with pytest.raises(TypeError):
        wire.jsonable({"lines": [{"amount": 0.1}]})


def test_jsonable_keeps_decimals_and_normalises_containers() -> None:
    out = wire.jsonable({"a": (Decimal("1.10"), 2), 3: {"b": None}})
    assert out == {"a": [Decimal("1.10"), 2], "3": {"b": None}}
    assert isinstance(out["a"][0], Decimal)


def test_both_clients_use_the_same_rule() -> None:
    body = {"amount": Decimal("19.990"), "qty": 3, "name": "Thé"}
    assert ns_client.dumps(body) == wire.dumps(body)
    expected = '{"amount":19.990,"qty":3,"name":"Thé"}'.encode()
    assert signing.encode_body(body) == wire.dumps(body).encode("utf-8") == expected


_scalars = st.none() | st.booleans() | st.integers() | st.text()
_values = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4), max_leaves=20)


# No deadline or generation-speed check: on a loaded 2-core machine a recursive example can take longer than
# hypothesis's 200 ms default, which says nothing about the rule under test.
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_values)
def test_without_decimals_it_writes_what_json_would(value: Any) -> None:
    assert wire.dumps(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert wire.dumps(value, indent=2, sort_keys=True, ensure_ascii=True) == json.dumps(value, indent=2,
                                                                                         sort_keys=True)

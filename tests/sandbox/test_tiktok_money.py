"""Money allocation in the TikTok sandbox: shares sum to the total and never take the wrong sign."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge.sandbox.tiktok.money import allocate


def test_a_tiny_total_over_many_units_never_makes_a_negative_share() -> None:
    # half-up shares would be 0.01 x 4 = 0.04 for a total of 0.02, leaving -0.02 for the last unit
    assert allocate(D("0.02"), [D("0.50")] * 4, "USD") == [D("0.00"), D("0.00"), D("0.01"), D("0.01")]
    assert [str(x) for x in allocate(D("-0.02"), [D("0.50")] * 4, "USD")] == ["0.00", "0.00", "-0.01", "-0.01"]


@pytest.mark.parametrize(("total", "weights", "expected"), [
    ("10", ["1", "2"], ["3.33", "6.67"]),
    ("0.03", ["1", "1"], ["0.02", "0.01"]),  # the usual rule (remainder on the last share) stays
])
def test_ordinary_splits_keep_the_remainder_on_the_last_share(total: str, weights: list[str],
                                                               expected: list[str]) -> None:
    assert allocate(D(total), [D(w) for w in weights], "USD") == [D(x) for x in expected]


@given(cents=st.integers(-10_000, 10_000), weights=st.lists(st.integers(1, 5_000), min_size=1, max_size=12))
def test_shares_sum_to_the_total_and_keep_its_sign(cents: int, weights: list[int]) -> None:
    total = D(cents) / 100
    shares = allocate(total, [D(w) / 100 for w in weights], "USD")
    assert sum(shares) == total
    assert all(s * total >= 0 for s in shares)

"""One spelling of the per-order key: one order's jobs run one at a time and in order only because every
flow names the order the same way (``bridge.domain.keys``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bridge.domain.keys import order_key, order_key_prefix, parse_order_key, shop_key, sku_key

ROOT = Path(__file__).resolve().parents[2]
KEYS_MODULE = ROOT / "bridge" / "domain" / "keys.py"

# Ways to spell an order key by hand: an f-string "order:{shop}:…", a concatenation "order:" + …, or
# taking one apart by hand (parts[0] == "order", startswith("order:")).
OTHER_SPELLINGS = re.compile(
    r"""f["']order:\{[^}]*\}:"""
    r"""|["']order:["']\s*\+"""
    r"""|\[0\]\s*==\s*["']order["']"""
    r"""|startswith\(\s*["']order:"""
)


def _sources() -> list[Path]:
    return [p for top in ("bridge", "tests", "scripts") for p in sorted((ROOT / top).rglob("*.py")) if p != KEYS_MODULE]


def test_no_other_spelling_of_the_order_key_exists() -> None:
    found = [f"{p.relative_to(ROOT)}:{n}: {line.strip()}" for p in _sources()
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if OTHER_SPELLINGS.search(line) and p.name != Path(__file__).name]
    assert found == []


def test_the_check_would_catch_a_hand_spelled_key() -> None:
    for line in ('key = f"order:{shop_id}:{order_id}"', "k = 'order:' + shop", 'if parts[0] == "order":',
                 'if e.entity.startswith("order:"):'):
        assert OTHER_SPELLINGS.search(line), line


@pytest.mark.parametrize(
    ("key", "parsed"),
    [
        pytest.param(order_key("7494049642642441621", "576486316948490001"),
                     ("7494049642642441621", "576486316948490001"), id="round-trip"),
        pytest.param("order:S1:O1", ("S1", "O1"), id="the-stored-format"),
        pytest.param("order:S1", None, id="too-short"),
        pytest.param("order::O1", None, id="no-shop"),
        pytest.param("shop:S1", None, id="another-kind"),
        pytest.param("order:S1:O1:x", None, id="too-long"),
    ],
)
def test_parse_order_key(key: str, parsed: tuple[str, str] | None) -> None:
    assert parse_order_key(key) == parsed


def test_the_formats_stay_as_stored() -> None:
    # queued jobs, exceptions and audit rows already hold these: changing them would split an order's jobs
    assert order_key("S1", "O1") == "order:S1:O1"
    assert order_key_prefix("S1") == "order:S1:" and order_key("S1", "O1").startswith(order_key_prefix("S1"))
    assert order_key_prefix() == "order:"
    assert shop_key("S1") == "shop:S1" and sku_key("S1", "MUG") == "sku:S1:MUG"

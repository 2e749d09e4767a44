"""The generated TikTok API digest: reproducible from the specs, facts only, and covering every
endpoint the sandbox emulates."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bridge.sandbox.tiktok.api import HANDLERS
from bridge.sandbox.tiktok.digest import load_digest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "bridge" / "sandbox" / "tiktok" / "digest.json"
SPECS = ROOT.parent / "shared" / "specs" / "tiktok"


def _strings(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in [k, *_strings(v)]]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return [node] if isinstance(node, str) else []


def test_digest_regenerates_byte_for_byte(tmp_path: Path) -> None:
    # fails, never skips, without its input: a stale digest must not pass unseen
    assert SPECS.is_dir(), f"{SPECS} is missing: the freshness check needs the official TikTok spec pages"
    outs = []
    for name in ("a.json", "b.json"):
        out = tmp_path / name
        subprocess.run([sys.executable, str(ROOT / "scripts" / "gen_tiktok_digest.py"), str(SPECS), "--out", str(out)],
                       check=True, capture_output=True)
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == SHIPPED.read_bytes()


def test_digest_is_facts_only() -> None:
    raw = json.loads(SHIPPED.read_text())
    assert max(len(s) for s in _strings(raw)) <= 120  # names, types, enums, codes, short labels: no prose


def test_digest_facts_used_by_the_sandbox() -> None:
    d = load_digest()
    detail = d.endpoint("GET", "/order/202507/orders")
    assert detail.version == "202507" and detail.shop_cipher
    assert detail.query["ids"] == {"type": "[]string", "required": True, "max_count": 50}
    assert "payment" in detail.response_data_fields()["orders"]["fields"]
    inv = d.endpoint("POST", "/product/202309/products/{product_id}/inventory/update")
    assert inv.body["skus"]["fields"]["inventory"]["required"] is True
    assert "12052393" in inv.errors
    assert not d.endpoint("GET", "/authorization/202309/shops").shop_cipher
    assert d.endpoint("PUT", "/event/202309/webhooks").body["event_type"]["enum"][0] == "CANCELLATION_STATUS_CHANGE"
    assert d.topic_type("ORDER_STATUS_CHANGE") == 1 and d.topic_type("RETURN_STATUS_CHANGE") == 12
    assert d.webhooks[1]["data"]["order_status"]["type"] == "string"
    seller = [r["name"] for r in d.reasons["cancel"]["US"]["seller_initiate"]]
    assert "seller_cancel_reason_out_of_stock" in seller
    ep, params, _ = d.match("POST", "/product/202309/products/activate")
    assert ep is not None and ep.path.endswith("/activate") and params == {}
    ep, params, _ = d.match("GET", "/product/202309/products/1729")
    assert ep is not None and params == {"product_id": "1729"}


def test_every_emulated_endpoint_is_documented() -> None:
    d = load_digest()
    keys = {ep.key for ep in d.endpoints}
    assert set(HANDLERS) <= keys
    assert len(HANDLERS) >= 45

#!/usr/bin/env python3
"""Generate the TikTok signing test data the tests of ``bridge.tiktok`` reproduce.

Reads ``test-vectors/signing.json`` (official and cross-checked request-signing and webhook
vectors) and writes ``tests/tiktok/signing_vectors.json`` with the facts only: inputs and expected
signatures (no prose, no provenance text).

Usage: python scripts/gen_tiktok_vectors.py [SPECS_DIR] [--out PATH]
SPECS_DIR defaults to ../shared/specs/tiktok (relative to the repository root).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPECS = ROOT.parent / "shared" / "specs" / "tiktok"
DEFAULT_OUT = ROOT / "tests" / "tiktok" / "signing_vectors.json"


def digest(raw: dict[str, Any]) -> dict[str, Any]:
    requests = [
        {
            "id": v["id"],
            "app_secret": v["app_secret"],
            "method": v["method"],
            "path": v["path"],
            "query": {str(k): str(x) for k, x in v["query"].items()},
            "body": v.get("body"),
            "string_to_sign": v.get("string_to_sign_before_wrapping"),
            "expected_sign": v["expected_sign"],
        }
        for v in raw["request_signing"]
    ]
    webhooks = [
        {
            "id": v["id"],
            "app_key": v["app_key"],
            "app_secret": v["app_secret"],
            "raw_body": v["raw_body"],
            "expected_authorization": v["expected_authorization_header"],
        }
        for v in raw["webhook_signing"]
    ]
    return {"request_signing": requests, "webhook_signing": webhooks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="?", type=Path, default=DEFAULT_SPECS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    raw = json.loads((args.specs / "test-vectors" / "signing.json").read_text(encoding="utf-8"))
    out = digest(raw)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {len(out['request_signing'])} request vectors, "
          f"{len(out['webhook_signing'])} webhook vectors")


if __name__ == "__main__":
    main()

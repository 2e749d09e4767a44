"""Extract the official example payloads from the TikTok Partner Center spec pages into test fixtures.

    python scripts/gen_tiktok_fixtures.py [../shared/specs/tiktok]

Only the example request/response bodies of the endpoints the tests use are written (as data, to
`tests/fixtures/tiktok/official/<endpoint>.json`); no documentation prose is copied.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ENDPOINTS = {
    "order_detail_202507": "orders/get-order-detail.spec.json",
    "order_list_202309": "orders/get-order-list.spec.json",
    "price_detail_202407": "orders/get-price-detail.spec.json",
    "statements_202309": "finance/get-statements.spec.json",
    "payments_202309": "finance/get-payments.spec.json",
    "withdrawals_202309": "finance/get-withdrawals.spec.json",
    "statement_transactions_202501": "finance/get-transactions-by-statement.spec.json",
    "order_transactions_202501": "finance/get-transactions-by-order.spec.json",
    "returns_search_202309": "return-and-refund/search-returns.spec.json",
    "cancellations_search_202309": "return-and-refund/search-cancellations.spec.json",
    "package_detail_202309": "fulfillment/get-package-detail.spec.json",
}


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/specs/tiktok") / "partner-center-docs/api-reference"
    out = Path(__file__).resolve().parents[1] / "tests/fixtures/tiktok/official"
    out.mkdir(parents=True, exist_ok=True)
    for name, rel in ENDPOINTS.items():
        path = root / rel
        if not path.exists():
            print(f"skip {name}: {rel} not found")
            continue
        doc = json.loads(path.read_text())
        meta = doc.get("data", doc)["document_api_meta"]
        body = meta.get("response_body")
        if not body:
            print(f"skip {name}: no example")
            continue
        example = json.loads(body)
        (out / f"{name}.json").write_text(json.dumps(example, indent=1, sort_keys=True) + "\n")
        print(f"wrote {name}")


if __name__ == "__main__":
    main()

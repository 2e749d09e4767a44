"""SuiteQL over REST: NetSuite's paging rules, response shape and the SuiteQL-isms the sandbox runs."""

from __future__ import annotations

from typing import Any

import requests

from .test_netsuite_support import NS, ns, ns_keys

__all__ = ["ns", "ns_keys"]

SUITEQL = "/services/rest/query/v1/suiteql"


def _code(r: requests.Response) -> str:
    detail: dict[str, Any] = r.json()["o:errorDetails"][0]
    return str(detail["o:errorCode"])


def _customers(ns: NS, n: int) -> None:
    ns.sb.seed({"customer": [{"externalId": f"BULK-{i:03d}", "companyName": f"Bulk {i:03d}"} for i in range(n)]})


def test_prefer_transient_is_required(ns: NS) -> None:
    r = requests.post(ns.url + SUITEQL, json={"q": "SELECT id FROM customer"}, headers=ns.headers, timeout=10)
    assert r.status_code == 400 and r.json()["o:errorDetails"][0]["o:errorHeader"] == "Prefer"


def test_limit_and_offset_rules(ns: NS) -> None:
    q = "SELECT id FROM customer"
    assert ns.suiteql(q, limit=1001).status_code == 400
    assert ns.suiteql(q, limit=0).status_code == 400
    bad = ns.suiteql(q, limit=10, offset=5)
    assert bad.status_code == 400 and _code(bad) == "INVALID_PARAMETER"
    assert bad.json()["o:errorDetails"][0]["o:errorQueryParam"] == "offset"
    assert ns.suiteql(q, limit=1000, offset=100_000).status_code == 400
    assert ns.suiteql(q, limit=10, offset=20).status_code == 200


def test_paging_shape_and_totals(ns: NS) -> None:
    _customers(ns, 23)
    q = "SELECT id, companyname FROM customer WHERE companyname LIKE 'Bulk%' ORDER BY companyname"
    first = ns.suiteql(q, limit=10).json()
    assert first["count"] == 10 and first["hasMore"] is True and first["totalResults"] == 23 and first["offset"] == 0
    assert {link["rel"] for link in first["links"]} >= {"self", "next", "last"}
    last = ns.suiteql(q, limit=10, offset=20).json()
    assert last["count"] == 3 and last["hasMore"] is False
    names = [i["companyname"] for i in first["items"]] + [i["companyname"] for i in last["items"]]
    assert names[:2] == ["Bulk 000", "Bulk 001"] and names[-1] == "Bulk 022"
    assert all(isinstance(v, str) for item in first["items"] for k, v in item.items() if k != "links")


def test_values_are_strings_nulls_are_omitted_dates_in_user_format(ns: NS) -> None:
    ids = ns.ids()
    ns.post(
        "/services/rest/record/v1/salesOrder",
        {
            "entity": {"id": ids["customer"]},
            "tranDate": "2024-01-05",
            "externalId": "TTS-Q-1",
            "item": {"items": [{"item": {"id": ids["item"]}, "quantity": 2, "rate": 10.25}]},
        },
    )
    body = ns.suiteql(
        "SELECT t.id, t.tranid, t.trandate, t.foreigntotal, t.memo, BUILTIN.DF(t.status) AS status, "
        "BUILTIN.DF(t.entity) AS customer FROM transaction t WHERE t.externalid = 'TTS-Q-1'"
    ).json()
    row = body["items"][0]
    assert row["trandate"] == "1/5/2024" and row["foreigntotal"] == "20.5"
    assert "memo" not in row  # NULL columns are left out
    assert row["status"] == "Sales Order : Pending Fulfillment" and row["customer"] == "TikTok Shop Customers"
    lines = ns.suiteql(
        "SELECT tl.quantity, tl.netamount, BUILTIN.DF(tl.item) item FROM transactionline tl "
        "JOIN transaction t ON t.id = tl.transaction WHERE t.externalid = 'TTS-Q-1' AND tl.mainline = 'F'"
    ).json()["items"]
    assert lines[0]["quantity"] == "-2" and lines[0]["netamount"] == "-20.5" and lines[0]["item"] == "MUG-001"


def test_oracle_isms_are_translated(ns: NS) -> None:
    _customers(ns, 5)
    fetch = ns.suiteql("SELECT id FROM customer ORDER BY id FETCH FIRST 2 ROWS ONLY").json()
    assert fetch["totalResults"] == 2
    rownum = ns.suiteql("SELECT id FROM customer WHERE ROWNUM <= 3").json()
    assert rownum["totalResults"] == 3
    fn = ns.suiteql(
        "SELECT NVL(email, 'none') e, TO_CHAR(TO_DATE('2024-03-09', 'YYYY-MM-DD'), 'YYYY/MM/DD') d "
        "FROM customer WHERE externalid = 'BULK-001'"
    ).json()["items"][0]
    assert fn == {"links": [], "e": "none", "d": "2024/03/09"}


def test_writes_and_unknown_tables_are_refused(ns: NS) -> None:
    for q in (
        "DELETE FROM customer",
        "SELECT * FROM nosuchtable",
        "SELECT id FROM customer; DROP TABLE customer",
        "SELECT BUILTIN.CONSOLIDATE(x) FROM customer",
    ):
        r = ns.suiteql(q)
        assert r.status_code == 400 and _code(r) == "INVALID_PARAMETER", q
    assert ns.suiteql("SELECT COUNT(*) c FROM customer").status_code == 200


def test_sqlite_only_constructs_are_refused_in_the_rest_error_shape(ns: NS) -> None:
    for q, fragment in (
        ("SELECT id FROM customer LIMIT 5", "LIMIT is not supported"),
        ("SELECT IFNULL(email, 'x') FROM customer", "Unknown function 'IFNULL'"),
        ("SELECT id FROM customer WHERE id == 1", "'=='"),
        ("SELECT id, nosuchfield FROM customer", "Unknown identifier 'nosuchfield'"),
        ("SELECT c.nosuchfield FROM customer c", "Field 'nosuchfield' for record 'customer' was not found"),
    ):
        r = ns.suiteql(q)
        assert r.status_code == 400, q
        body = r.json()
        assert body["status"] == 400 and body["title"] == "Bad Request"
        detail = body["o:errorDetails"][0]
        assert detail["o:errorCode"] == "INVALID_PARAMETER"
        assert detail["detail"].startswith("Invalid search query. Detailed unprocessed description follows.")
        assert fragment in detail["detail"], (q, detail["detail"])


def test_dates_compare_in_the_account_date_format(ns: NS) -> None:
    ids = ns.ids()
    ns.post(
        "/services/rest/record/v1/salesOrder",
        {
            "entity": {"id": ids["customer"]},
            "tranDate": "2024-01-05",
            "externalId": "TTS-Q-D",
            "item": {"items": [{"item": {"id": ids["item"]}, "quantity": 1, "rate": 1}]},
        },
    )
    base = "SELECT COUNT(*) AS n FROM transaction WHERE externalid = 'TTS-Q-D' AND "
    assert ns.suiteql(base + "trandate < '01/06/2024'").json()["items"][0]["n"] == "1"
    # as strings '01/06/2024' < '1/5/2024' would hold; as dates Jan 5 is not after Jan 6
    assert ns.suiteql(base + "trandate > '01/06/2024'").json()["items"][0]["n"] == "0"
    assert ns.suiteql(base + "trandate >= SYSDATE + 3650").json()["items"][0]["n"] == "0"
    assert ns.suiteql(base + "trandate > '2024-01-01'").status_code == 400  # not the account's format


def test_df_of_a_custom_select_field_names_the_record_it_points_at() -> None:
    from bridge.sandbox.netsuite.schema import CustomField
    from bridge.sandbox.netsuite.store import Store
    from bridge.sandbox.netsuite.suiteql import Mirror

    mirror = Mirror({"custbody_pick": CustomField("custbody_pick", "SELECT", "customer")}, [], Store())
    mirror._insert("customer", {"id": 7, "entityid": "Ada Lovelace"})
    mirror._insert("transaction", {"id": 1, "type": "SalesOrd", "custbody_pick": 7})
    columns, rows, total = mirror.execute(
        "SELECT t.custbody_pick AS raw, BUILTIN.DF(t.custbody_pick) AS who FROM transaction t"
    )
    assert columns == ["raw", "who"] and rows == [(7, "Ada Lovelace")] and total == 1

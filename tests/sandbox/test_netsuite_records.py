"""REST record API of the NetSuite sandbox: create/get/upsert/patch/transform, validation against
the record browser digest, NetSuite's error shape, and the accounting behaviour behind it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import requests

from .test_netsuite_support import NS, RECORD, ns, ns_keys

__all__ = ["ns", "ns_keys"]


ERROR = {"X-NetSuite-PropertyNameValidation": "Error"}


def _detail(r: Any) -> dict[str, Any]:
    body = r.json()
    assert set(body) >= {"type", "title", "status", "o:errorDetails"}, body
    detail: dict[str, Any] = body["o:errorDetails"][0]
    return detail


def _so(ids: dict[str, str], qty: int = 2, **extra: Any) -> dict[str, Any]:
    return {
        "entity": {"id": ids["customer"]},
        "location": {"id": ids["location"]},
        "item": {"items": [{"item": {"id": ids["item"]}, "quantity": qty, "rate": 12.5}]},
        **extra,
    }


def test_create_answers_204_with_location_and_get_returns_the_record(ns: NS) -> None:
    ids = ns.ids()
    r = ns.post(RECORD + "/salesOrder", _so(ids, externalId="TTS-1-1", shippingCost=4.99))
    assert r.status_code == 204, r.text
    assert r.content == b""
    location = r.headers["Location"]
    assert location.startswith(ns.url + RECORD + "/salesOrder/")
    new_id = location.rsplit("/", 1)[1]
    got = ns.get(RECORD + f"/salesOrder/{new_id}").json()
    assert got["id"] == new_id and got["externalId"] == "TTS-1-1"
    assert got["entity"]["id"] == ids["customer"] and got["entity"]["refName"]
    assert got["total"] == 29.99 and got["subtotal"] == 25.0
    assert got["status"] == {"id": "B", "refName": "Pending Fulfillment"}
    assert "items" not in got["item"]  # sublists are links unless expandSubResources
    expanded = ns.get(RECORD + "/salesOrder/eid:TTS-1-1", params={"expandSubResources": "true"}).json()
    line = expanded["item"]["items"][0]
    assert line["amount"] == 25.0 and line["quantity"] == 2 and line["item"]["refName"] == "MUG-001"


def test_upsert_by_external_id_twice_keeps_one_record(ns: NS) -> None:
    ids = ns.ids()
    first = ns.put(RECORD + "/salesOrder/eid:TTS-9-77", _so(ids, memo="first"))
    second = ns.put(RECORD + "/salesOrder/eid:TTS-9-77", {"memo": "second"})
    assert first.status_code == second.status_code == 204
    assert first.headers["Location"] == second.headers["Location"]
    count = ns.suiteql("SELECT COUNT(*) AS n FROM transaction WHERE externalid = 'TTS-9-77'").json()
    assert count["items"][0]["n"] == "1"
    got = ns.get(RECORD + "/salesOrder/eid:TTS-9-77").json()
    assert got["memo"] == "second"
    # POST with an external id that exists is a duplicate, not an upsert
    dup = ns.post(RECORD + "/salesOrder", _so(ids, externalId="TTS-9-77"))
    assert dup.status_code == 400 and _detail(dup)["o:errorCode"] == "USER_ERROR"


def test_unknown_property_is_invalid_content_with_its_path(ns: NS) -> None:
    ids = ns.ids()
    body = _so(ids)
    body["item"]["items"][0]["colour"] = "red"
    r = ns.post(RECORD + "/salesOrder", body, headers=ERROR)
    assert r.status_code == 400
    d = _detail(r)
    assert d["o:errorCode"] == "INVALID_CONTENT" and d["o:errorPath"] == "item.items[0].colour"
    # NetSuite's header relaxes property-name validation; without it the record browser's default,
    # Warning, applies: the unknown property is left out and the record saved
    relaxed = ns.post(RECORD + "/salesOrder", body, headers={"X-NetSuite-PropertyNameValidation": "Ignore"})
    assert relaxed.status_code == 204
    default = ns.post(RECORD + "/salesOrder", body)
    assert default.status_code == 204, default.text
    got = ns.get(RECORD + "/salesOrder/" + default.headers["Location"].rsplit("/", 1)[1],
                 params={"expandSubResources": "true"}).json()
    assert "colour" not in got["item"]["items"][0]


def test_property_name_validation_header_value_is_case_insensitive(ns: NS) -> None:
    ids = ns.ids()
    body = _so(ids)
    body["item"]["items"][0]["colour"] = "red"
    for value in ("ignore", "IGNORE", "iGnOrE"):
        r = ns.post(RECORD + "/salesOrder", body, headers={"X-NetSuite-PropertyNameValidation": value})
        assert r.status_code == 204, (value, r.text)
    strict = ns.post(RECORD + "/salesOrder", body, headers={"X-NetSuite-PropertyNameValidation": "error"})
    assert strict.status_code == 400 and _detail(strict)["o:errorPath"] == "item.items[0].colour"
    bogus = ns.post(RECORD + "/salesOrder", _so(ids), headers={"X-NetSuite-PropertyNameValidation": "loose"})
    assert bogus.status_code == 400 and _detail(bogus)["o:errorCode"] == "INVALID_HEADER"


def test_json_types_follow_the_schema_numbers_are_numbers_and_strings_strings(ns: NS) -> None:
    ids = ns.ids()
    as_text = _so(ids)
    as_text["item"]["items"][0]["rate"] = "12.50"  # number in the 2026.1 schema
    r = ns.post(RECORD + "/salesOrder", as_text)
    assert r.status_code == 400 and _detail(r)["o:errorCode"] == "INVALID_CONTENT"
    assert _detail(r)["o:errorPath"] == "item.items[0].rate"
    qty_text = _so(ids)
    qty_text["item"]["items"][0]["quantity"] = "2"
    assert _detail(ns.post(RECORD + "/salesOrder", qty_text))["o:errorPath"] == "item.items[0].quantity"
    memo_number = ns.post(RECORD + "/salesOrder", _so(ids, memo=42))  # string in the schema
    assert memo_number.status_code == 400 and _detail(memo_number)["o:errorPath"] == "memo"
    exact = ns.post(RECORD + "/salesOrder", _so(ids, memo="42", shippingCost=4.99))
    assert exact.status_code == 204, exact.text


@pytest.mark.parametrize(("quantity", "rate", "code", "path"), [
    ("1", "NaN", "INVALID_CONTENT", None),  # not JSON
    ("1", "-Infinity", "INVALID_CONTENT", None),
    ("NaN", "1", "INVALID_CONTENT", None),
    ("1", "1e999", "INVALID_CONTENT", "item.items[0].rate"),
    ("1", "9007199254740992", "INVALID_CONTENT", "item.items[0].rate"),  # beyond an exact double
    ("1e400", "1", "INVALID_CONTENT", "item.items[0].quantity"),
    ("9007199254740991", "9007199254740991", "USER_ERROR", None),  # each fits, their product does not
])
def test_out_of_range_numbers_are_refused_in_netsuites_shape_never_a_500(
        ns: NS, quantity: str, rate: str, code: str, path: str | None) -> None:
    ids = ns.ids()
    line = f'{{"item":{{"id":"{ids["item"]}"}},"quantity":{quantity},"rate":{rate}}}'
    head = f'"entity":{{"id":"{ids["customer"]}"}},"location":{{"id":"{ids["location"]}"}}'
    raw = f'{{{head},"item":{{"items":[{line}]}}}}'
    r = requests.post(ns.url + RECORD + "/salesOrder", data=raw, timeout=30,
                      headers={**ns.headers, "Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    detail = _detail(r)
    assert detail["o:errorCode"] == code
    if path:
        assert detail["o:errorPath"] == path


def test_custom_fields_from_the_project_are_accepted_only_where_they_apply(ns: NS) -> None:
    ids = ns.ids()
    ok = ns.post(RECORD + "/salesOrder", _so(ids, custbody_ttns_order_id="5770001"))
    assert ok.status_code == 204, ok.text
    bad = ns.post(RECORD + "/salesOrder", _so(ids, custbody_not_defined="x"), headers=ERROR)
    assert bad.status_code == 400 and _detail(bad)["o:errorPath"] == "custbody_not_defined"
    col_on_body = ns.post(RECORD + "/salesOrder", _so(ids, custcol_ttns_package="1"), headers=ERROR)
    assert col_on_body.status_code == 400


def test_property_value_validation_header_relaxes_json_types(ns: NS) -> None:
    """X-NetSuite-PropertyValueValidation (documented default Error): Warning or Ignore read a numeric
    string as the number, as a SuiteScript setValue would."""
    ids = ns.ids()
    body = _so(ids)
    body["item"]["items"][0]["rate"] = "12.50"
    strict = ns.post(RECORD + "/salesOrder", body, headers={"X-NetSuite-PropertyValueValidation": "Error"})
    assert strict.status_code == 400 and _detail(strict)["o:errorPath"] == "item.items[0].rate"
    for mode in ("Warning", "ignore"):
        r = ns.post(RECORD + "/salesOrder", body, headers={"X-NetSuite-PropertyValueValidation": mode})
        assert r.status_code == 204, (mode, r.text)
    got = ns.get(RECORD + "/salesOrder/" + r.headers["Location"].rsplit("/", 1)[1]).json()
    assert got["subtotal"] == 25.0
    bogus = ns.post(RECORD + "/salesOrder", body, headers={"X-NetSuite-PropertyValueValidation": "Lenient"})
    assert bogus.status_code == 400 and _detail(bogus)["o:errorCode"] == "INVALID_HEADER"


def test_references_must_exist_and_values_match_their_types(ns: NS) -> None:
    ids = ns.ids()
    body = _so(ids)
    body["item"]["items"][0]["item"] = {"id": "999999"}
    r = ns.post(RECORD + "/salesOrder", body)
    assert r.status_code == 400
    d = _detail(r)
    assert d["o:errorCode"] == "INVALID_CONTENT" and d["o:errorPath"] == "item.items[0].item"
    by_eid = _so(ids)
    by_eid["entity"] = {"externalId": "CUST-TTS"}
    assert ns.post(RECORD + "/salesOrder", by_eid).status_code == 204
    wrong_type = ns.post(RECORD + "/salesOrder", _so(ids, tranDate="15/01/2024"))
    assert wrong_type.status_code == 400 and _detail(wrong_type)["o:errorPath"] == "tranDate"
    not_a_sublist = ns.post(RECORD + "/salesOrder", {**_so(ids), "item": [{"item": {"id": ids["item"]}}]})
    assert not_a_sublist.status_code == 400 and _detail(not_a_sublist)["o:errorPath"] == "item"


def test_missing_records_are_404_nonexistent_id(ns: NS) -> None:
    for path in ("/salesOrder/424242", "/salesOrder/eid:NOPE"):
        r = ns.get(RECORD + path)
        assert r.status_code == 404 and _detail(r)["o:errorCode"] == "NONEXISTENT_ID"
    assert ns.patch(RECORD + "/salesOrder/424242", {"memo": "x"}).status_code == 404


def test_sales_order_commits_stock_and_fulfillment_relieves_it(ns: NS) -> None:
    ids = ns.ids()
    ns.sb.receive_stock(ids["item"], ids["location"], 10, "3.00")
    so = ns.post(RECORD + "/salesOrder", _so(ids, qty=4)).headers["Location"].rsplit("/", 1)[1]

    def levels() -> dict[str, str]:
        q = ns.suiteql(
            f"SELECT quantityonhand, quantitycommitted, quantityavailable FROM inventoryItemLocations "
            f"WHERE item = {ids['item']} AND location = {ids['location']}"
        ).json()
        row: dict[str, str] = q["items"][0]
        return row

    assert levels() == {"links": [], "quantityonhand": "10", "quantitycommitted": "4", "quantityavailable": "6"}
    t = ns.post(
        RECORD + f"/salesOrder/{so}/!transform/itemFulfillment",
        {
            "item": {"items": [{"orderLine": 1, "quantity": 3, "itemReceive": True}]},
            "package": {"items": [{"packageTrackingNumber": "1Z999", "packageWeight": 1.5}]},
        },
        params={"replace": "item"},
    )
    assert t.status_code == 204, t.text
    assert "/itemFulfillment/" in t.headers["Location"]
    assert levels() == {"links": [], "quantityonhand": "7", "quantitycommitted": "1", "quantityavailable": "6"}
    got = ns.get(RECORD + f"/salesOrder/{so}").json()
    assert got["status"]["refName"] == "Partially Fulfilled"
    over = ns.post(
        RECORD + f"/salesOrder/{so}/!transform/itemFulfillment", {"item": {"items": [{"orderLine": 1, "quantity": 2}]}}
    )
    assert over.status_code == 400 and _detail(over)["o:errorCode"] == "USER_ERROR"
    rest = ns.post(RECORD + f"/salesOrder/{so}/!transform/itemFulfillment", {})
    assert rest.status_code == 204
    assert ns.get(RECORD + f"/salesOrder/{so}").json()["status"]["refName"] == "Pending Billing"
    direct = ns.post(RECORD + "/itemFulfillment", {"entity": {"id": ids["customer"]}})
    assert direct.status_code == 400


def test_a_closed_line_commits_nothing_in_suiteql_either(ns: NS) -> None:
    """Closing a sales order line (as a cancellation does) frees its stock, and SuiteQL's transactionline says
    so too: the bridge sums quantitycommitted there to learn what NetSuite holds for TikTok orders."""
    ids = ns.ids()
    ns.sb.receive_stock(ids["item"], ids["location"], 10, "3.00")
    so = ns.post(RECORD + "/salesOrder", _so(ids, qty=3)).headers["Location"].rsplit("/", 1)[1]

    def committed() -> tuple[str, str]:
        line = ns.suiteql(f"SELECT quantitycommitted FROM transactionline WHERE transaction = {so} "
                          f"AND item = {ids['item']}").json()["items"][0]
        level = ns.suiteql(f"SELECT quantitycommitted FROM inventoryItemLocations WHERE item = {ids['item']} "
                           f"AND location = {ids['location']}").json()["items"][0]
        return str(line.get("quantitycommitted", "0")), str(level.get("quantitycommitted", "0"))

    assert committed() == ("3", "3")
    r = ns.patch(RECORD + f"/salesOrder/{so}", {"item": {"items": [{"line": 1, "isClosed": True}]}})
    assert r.status_code == 204, r.text
    assert committed() == ("0", "0")


def test_fulfillment_cannot_ship_more_than_on_hand(ns: NS) -> None:
    ids = ns.ids()
    ns.sb.receive_stock(ids["item"], ids["location"], 1)
    so = ns.post(RECORD + "/salesOrder", _so(ids, qty=3)).headers["Location"].rsplit("/", 1)[1]
    r = ns.post(RECORD + f"/salesOrder/{so}/!transform/itemFulfillment", {})
    assert r.status_code == 400 and "on hand" in _detail(r)["detail"]
    assert ns.sb.stock_levels(ids["item"], ids["location"])[0]["onHand"] == "1"


def test_sales_order_totals_discounts_shipping_and_tax(ns: NS) -> None:
    ids = ns.ids()
    disc = ns.sb.get("discountItem", "eid:DISC-SELLER").id
    tax = ns.sb.get("salesTaxItem", "eid:TAX-CA").id
    body = {
        "entity": {"id": ids["customer"]},
        "location": {"id": ids["location"]},
        "shippingCost": 5,
        "item": {
            "items": [
                {"item": {"id": ids["item"]}, "quantity": 3, "rate": 19.99, "taxCode": {"id": tax}},
                {"item": {"id": disc}, "rate": -6.00},
            ]
        },
    }
    r = ns.post(RECORD + "/salesOrder", body)
    assert r.status_code == 204, r.text
    got = ns.sb.get("salesOrder", r.headers["Location"].rsplit("/", 1)[1]).data
    assert got["subtotal"] == Decimal("53.97")  # 59.97 - 6.00
    assert got["taxTotal"] == Decimal("4.35")  # 7.25 % of 59.97, rounded half-up
    assert got["total"] == Decimal("63.32")


def test_legacy_tax_accounts_refuse_tax_fields_over_rest(ns: NS) -> None:
    ids = ns.ids()
    ns.sb.config.legacy_tax = True
    tax = ns.sb.get("salesTaxItem", "eid:TAX-CA").id
    body = _so(ids)
    body["item"]["items"][0]["taxCode"] = {"id": tax}
    r = ns.post(RECORD + "/salesOrder", body)
    assert r.status_code == 400 and _detail(r)["o:errorPath"] == "item.items[0].taxCode"
    assert ns.post(RECORD + "/salesOrder", _so(ids)).status_code == 204


def test_journal_entries_must_balance_and_closed_periods_refuse_postings(ns: NS) -> None:
    accts = ns.sb.special_accounts
    sub = ns.sb.list_ids("subsidiary")[0]

    def je(debit: str, credit: str, date: str = "2024-03-31") -> dict[str, Any]:
        return {
            "subsidiary": {"id": sub},
            "tranDate": date,
            "externalId": f"TTS-STMT-{debit}-{date}",
            "line": {
                "items": [
                    {"account": {"id": accts["tiktok_clearing"]}, "debit": float(debit)},
                    {"account": {"id": accts["marketplace_fees"]}, "credit": float(credit)},
                ]
            },
        }

    unbalanced = ns.post(RECORD + "/journalEntry", je("100.00", "99.99"))
    assert unbalanced.status_code == 400 and _detail(unbalanced)["o:errorCode"] == "USER_ERROR"
    assert ns.post(RECORD + "/journalEntry", je("100.00", "100.00")).status_code == 204
    gl = ns.suiteql(
        "SELECT SUM(tal.debit) d, SUM(tal.credit) c FROM transactionaccountingline tal "
        "JOIN transaction t ON t.id = tal.transaction WHERE t.type = 'Journal'"
    ).json()["items"][0]
    assert gl["d"] == gl["c"] == "100"
    ns.sb.close_period("2024-02")
    closed = ns.post(RECORD + "/journalEntry", je("5.00", "5.00", "2024-02-10"))
    assert closed.status_code == 400 and "closed" in _detail(closed)["detail"]
    no_sub = je("1.00", "1.00")
    del no_sub["subsidiary"]
    assert ns.post(RECORD + "/journalEntry", no_sub).status_code == 400


def test_patch_merges_sublist_lines_unless_replace(ns: NS) -> None:
    ids = ns.ids()
    so = ns.post(RECORD + "/salesOrder", _so(ids)).headers["Location"].rsplit("/", 1)[1]
    add = {"item": {"items": [{"item": {"id": ids["item2"]}, "quantity": 1}]}}
    assert ns.patch(RECORD + f"/salesOrder/{so}", add).status_code == 204
    assert len(ns.sb.get("salesOrder", so).lines("item")) == 2
    assert ns.patch(RECORD + f"/salesOrder/{so}", add, params={"replace": "item"}).status_code == 204
    lines = ns.sb.get("salesOrder", so).lines("item")
    assert [ln["item"]["id"] for ln in lines] == [ids["item2"]]
    assert lines[0]["amount"] == Decimal("15.00")  # the base price level sources the rate


def test_matrix_parent_cannot_be_sold(ns: NS) -> None:
    ids = ns.ids()
    body = _so(ids)
    body["item"]["items"][0]["item"] = {"id": ids["parent"]}
    assert ns.post(RECORD + "/salesOrder", body).status_code == 400


def test_return_authorization_credit_memo_and_receipt(ns: NS) -> None:
    ids = ns.ids()
    ns.sb.receive_stock(ids["item"], ids["location"], 5)
    so = ns.post(RECORD + "/salesOrder", _so(ids, qty=2)).headers["Location"].rsplit("/", 1)[1]
    assert ns.post(RECORD + f"/salesOrder/{so}/!transform/itemFulfillment", {}).status_code == 204
    ra = ns.post(RECORD + f"/salesOrder/{so}/!transform/returnAuthorization", {}).headers["Location"].rsplit("/", 1)[1]
    cm = ns.post(RECORD + f"/returnAuthorization/{ra}/!transform/creditMemo", {"externalId": "TTS-RET-1"})
    assert cm.status_code == 204
    ir = ns.post(RECORD + f"/returnAuthorization/{ra}/!transform/itemReceipt", {})
    assert ir.status_code == 204
    assert ns.sb.stock_levels(ids["item"], ids["location"])[0]["onHand"] == "5"
    assert ns.sb.get("creditMemo", "eid:TTS-RET-1").data["total"] == Decimal("25.00")

"""The NetSuite sandbox's general ledger: every transaction type, created through the REST API as the
bridge creates it, posts its GL impact, read back through SuiteQL as on a real account
(``transactionaccountingline`` joined to ``account``). Amounts are checked to the cent, line by line.

Seeded costs: MUG-001 is received at 3.10 and CAP-001 at 4.00, so a shipped mug costs 3.10.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import requests

from .test_netsuite_support import NS, RECORD, ns, ns_keys

__all__ = ["ns", "ns_keys"]

Line = tuple[str, str, str]  # (account number, debit, credit) — "" for an empty side


def _id(resp: Any) -> str:
    assert resp.status_code == 204, resp.text
    return str(resp.headers["Location"].rsplit("/", 1)[1])


def _detail(resp: Any) -> dict[str, Any]:
    body: dict[str, Any] = resp.json()["o:errorDetails"][0]
    return body


def _money(value: Any) -> str:
    return "" if value in (None, "") else str(Decimal(str(value)).quantize(Decimal("0.01")))


def gl(ns: NS, tran: str) -> list[Line]:
    rows = ns.suiteql(
        "SELECT a.acctnumber, tal.debit, tal.credit, tal.amount, tal.posting, tal.accountingbook "
        "FROM transactionaccountingline tal JOIN account a ON a.id = tal.account "
        f"WHERE tal.transaction = {int(tran)} ORDER BY tal.transactionline, a.acctnumber"
    ).json()["items"]
    for r in rows:
        assert r["posting"] == "T" and r["accountingbook"] == "1"
        assert Decimal(r["amount"]) == Decimal(r.get("debit") or 0) - Decimal(r.get("credit") or 0)
    return sorted((r["acctnumber"], _money(r.get("debit")), _money(r.get("credit"))) for r in rows)


@dataclass
class World:
    ns: NS

    def __post_init__(self) -> None:
        g = self.ns.sb.get
        self.mug = g("inventoryItem", "eid:ITEM-MUG").id
        self.cap = g("inventoryItem", "eid:ITEM-CAP").id
        self.main = g("location", "eid:LOC-MAIN").id
        self.east = g("location", "eid:LOC-EAST").id
        self.customer = g("customer", "eid:CUST-TTS").id
        self.tax_ca = g("salesTaxItem", "eid:TAX-CA").id
        self.ship_std = g("shipItem", "eid:SHIP-STD").id
        self.disc = g("discountItem", "eid:DISC-SELLER").id
        self.gbp = g("currency", "eid:CUR-GBP").id
        self.acct = {n: g("account", f"eid:ACCT-{n}").id for n in ("1000", "1250", "4000", "5100", "6100")}
        self.ns.sb.receive_stock(self.mug, self.main, 10, "3.10")
        self.ns.sb.receive_stock(self.cap, self.main, 10, "4.00")

    def post(self, rec_type: str, body: dict[str, Any]) -> str:
        return _id(self.ns.post(RECORD + f"/{rec_type}", body))

    def transform(self, src: str, key: str, to: str, body: dict[str, Any] | None = None) -> str:
        return _id(self.ns.post(RECORD + f"/{src}/{key}/!transform/{to}", body or {}))

    def order(self, qty: int = 2, **extra: Any) -> str:
        lines: list[dict[str, Any]] = [{"item": {"id": self.mug}, "quantity": qty, "rate": 12.50}]
        lines += extra.pop("more_lines", [])
        body = {"entity": {"id": self.customer}, "location": {"id": self.main}, "item": {"items": lines}, **extra}
        return self.post("salesOrder", body)

    def shipped_order(self, qty: int = 2, **extra: Any) -> str:
        so = self.order(qty, **extra)
        self.transform("salesOrder", so, "itemFulfillment")
        return so

    def returned(self) -> str:
        """A return authorization for a shipped order of two mugs."""
        return self.transform("salesOrder", self.shipped_order(), "returnAuthorization")


# -- one builder per transaction type: (world) -> (transaction id, expected GL lines) ---------------
def sales_order(w: World) -> tuple[str, list[Line]]:
    return w.order(), []


def invoice_from_shipped_order(w: World) -> tuple[str, list[Line]]:
    so = w.shipped_order(
        more_lines=[{"item": {"id": w.disc}, "amount": -2.00}],
        shippingCost=4.99,
        shipMethod={"id": w.ship_std},
    )
    inv = w.transform("salesOrder", so, "invoice", {"item": {"items": [{"orderLine": 1, "taxCode": {"id": w.tax_ca}}]}})
    # 2 x 12.50 = 25.00 income; -2.00 seller discount; 4.99 shipping; 7.25 % of 25.00 = 1.81 tax
    return inv, [("1100", "29.80", ""), ("2200", "", "1.81"), ("4000", "", "25.00"), ("4050", "2.00", ""),
                 ("4100", "", "4.99")]


def item_fulfillment(w: World) -> tuple[str, list[Line]]:
    so = w.order(3)
    return w.transform("salesOrder", so, "itemFulfillment"), [("1300", "", "9.30"), ("5000", "9.30", "")]


def cash_sale_standalone(w: World) -> tuple[str, list[Line]]:
    body = {
        "entity": {"id": w.customer},
        "item": {"items": [{"item": {"id": w.cap}, "quantity": 1, "rate": 15.00, "location": {"id": w.main},
                            "taxCode": {"id": w.tax_ca}}]},
    }
    # no fulfillment moved the cap: the cash sale posts its cost too; the money waits in Undeposited Funds
    return w.post("cashSale", body), [("1200", "16.09", ""), ("1300", "", "4.00"), ("2200", "", "1.09"),
                                      ("4000", "", "15.00"), ("5000", "4.00", "")]


def cash_sale_to_bank(w: World) -> tuple[str, list[Line]]:
    so = w.shipped_order(1)
    body = {"account": {"id": w.acct["1000"]}, "undepFunds": {"id": "F"}}
    return w.transform("salesOrder", so, "cashSale", body), [("1000", "12.50", ""), ("4000", "", "12.50")]


def cash_sale_in_foreign_currency(w: World) -> tuple[str, list[Line]]:
    body = {
        "entity": {"id": w.customer},
        "currency": {"id": w.gbp},
        "item": {"items": [{"item": {"id": w.cap}, "quantity": 1, "rate": 10.00, "location": {"id": w.main}}]},
    }
    # GBP 10.00 at the currency's 1.27 -> USD 12.70; the cost is already in the base currency
    return w.post("cashSale", body), [("1200", "12.70", ""), ("1300", "", "4.00"), ("4000", "", "12.70"),
                                      ("5000", "4.00", "")]


def item_receipt_on_return(w: World) -> tuple[str, list[Line]]:
    ra = w.returned()
    # back into stock at the cost it shipped at (3.10), not at the 12.50 it sold for
    return w.transform("returnAuthorization", ra, "itemReceipt"), [("1300", "6.20", ""), ("5000", "", "6.20")]


def credit_memo(w: World) -> tuple[str, list[Line]]:
    ra = w.returned()
    return w.transform("returnAuthorization", ra, "creditMemo"), [("1100", "", "25.00"), ("4000", "25.00", "")]


def cash_refund(w: World) -> tuple[str, list[Line]]:
    ra = w.returned()
    body = {"account": {"id": w.acct["1000"]}}
    return w.transform("returnAuthorization", ra, "cashRefund", body), [("1000", "", "25.00"), ("4000", "25.00", "")]


def customer_deposit(w: World) -> tuple[str, list[Line]]:
    so = w.order()
    body = {"customer": {"id": w.customer}, "salesOrder": {"id": so}, "payment": 30.00}
    return w.post("customerDeposit", body), [("1200", "30.00", ""), ("2100", "", "30.00")]


def customer_refund(w: World) -> tuple[str, list[Line]]:
    cd = w.post("customerDeposit", {"customer": {"id": w.customer}, "payment": 30.00})
    body = {
        "customer": {"id": w.customer},
        "account": {"id": w.acct["1000"]},
        "deposit": {"items": [{"doc": {"id": cd}, "apply": True, "amount": 30.00}]},
    }
    return w.post("customerRefund", body), [("1000", "", "30.00"), ("2100", "30.00", "")]


def deposit(w: World) -> tuple[str, list[Line]]:
    cd = w.post("customerDeposit", {"customer": {"id": w.customer}, "payment": 30.00})
    body = {
        "account": {"id": w.acct["1000"]},
        "payment": {"items": [{"id": int(cd), "deposit": True}]},
        "other": {"items": [{"account": {"id": w.acct["6100"]}, "amount": -2.50}]},
        "cashback": {"items": [{"account": {"id": w.acct["1250"]}, "amount": 1.00}]},
    }
    return w.post("deposit", body), [("1000", "26.50", ""), ("1200", "", "30.00"), ("1250", "1.00", ""),
                                     ("6100", "2.50", "")]


def journal_entry(w: World) -> tuple[str, list[Line]]:
    body = {
        "subsidiary": {"id": w.ns.sb.list_ids("subsidiary")[0]},
        "line": {"items": [
            {"account": {"id": w.acct["1250"]}, "debit": 100.00},
            {"account": {"id": w.acct["6100"]}, "debit": 5.25},
            {"account": {"id": w.acct["1000"]}, "credit": 105.25},
        ]},
    }
    return w.post("journalEntry", body), [("1000", "", "105.25"), ("1250", "100.00", ""), ("6100", "5.25", "")]


def inventory_adjustment(w: World) -> tuple[str, list[Line]]:
    body = {
        "account": {"id": w.acct["5100"]},
        "adjLocation": {"id": w.main},
        "inventory": {"items": [
            {"item": {"id": w.mug}, "location": {"id": w.main}, "adjustQtyBy": 2, "unitCost": 3.40},
            {"item": {"id": w.cap}, "location": {"id": w.main}, "adjustQtyBy": -1},
        ]},
    }
    # +2 mugs at 3.40 = 6.80; one cap out at its 4.00 average
    return w.post("inventoryAdjustment", body), [("1300", "", "4.00"), ("1300", "6.80", ""), ("5100", "", "6.80"),
                                                 ("5100", "4.00", "")]


def inventory_transfer(w: World) -> tuple[str, list[Line]]:
    body = {
        "location": {"id": w.main},
        "transferLocation": {"id": w.east},
        "inventory": {"items": [{"item": {"id": w.mug}, "adjustQtyBy": 2}]},
    }
    return w.post("inventoryTransfer", body), [("1300", "", "6.20"), ("1300", "6.20", "")]


def _invoice(w: World, qty: int = 2) -> str:
    return w.transform("salesOrder", w.shipped_order(qty), "invoice")


def _payment(w: World, invoice: str, amount: float | None = None, **extra: Any) -> dict[str, Any]:
    line: dict[str, Any] = {"doc": {"id": invoice}, "apply": True}
    if amount is not None:
        line["amount"] = amount
    return {"customer": {"id": w.customer}, "apply": {"items": [line]}, **extra}


def customer_payment(w: World) -> tuple[str, list[Line]]:
    inv = _invoice(w)
    pay = w.post("customerPayment", _payment(w, inv, 25.00, undepFunds={"id": "T"}))
    return pay, [("1100", "", "25.00"), ("1200", "25.00", "")]


def deposit_of_a_payment(w: World) -> tuple[str, list[Line]]:
    pay = w.post("customerPayment", _payment(w, _invoice(w)))
    body = {"account": {"id": w.acct["1000"]}, "payment": {"items": [{"id": int(pay), "deposit": True}]}}
    return w.post("deposit", body), [("1000", "25.00", ""), ("1200", "", "25.00")]


def _transfer_order(w: World) -> str:
    body = {"location": {"id": w.main}, "transferLocation": {"id": w.east},
            "item": {"items": [{"item": {"id": w.mug}, "quantity": 2}]}}
    return w.post("transferOrder", body)


def transfer_order_fulfillment(w: World) -> tuple[str, list[Line]]:
    to = _transfer_order(w)
    return w.transform("transferOrder", to, "itemFulfillment"), [("1300", "", "6.20"), ("1310", "6.20", "")]


def transfer_order_receipt(w: World) -> tuple[str, list[Line]]:
    to = _transfer_order(w)
    w.transform("transferOrder", to, "itemFulfillment")
    w.ns.sb.receive_stock(w.mug, w.main, 10, "3.50")  # the average moves on; the goods in transit do not
    return w.transform("transferOrder", to, "itemReceipt"), [("1300", "6.20", ""), ("1310", "", "6.20")]


def item_receipt_standalone(w: World) -> tuple[str, list[Line]]:
    rec = w.ns.sb.receive_stock(w.cap, w.east, 3, "4.25")
    return rec.rec.id, [("1300", "12.75", ""), ("2400", "", "12.75")]


CASES: dict[str, Callable[[World], tuple[str, list[Line]]]] = {
    "salesOrder-posts-nothing": sales_order,
    "invoice-AR-income-discount-shipping-tax": invoice_from_shipped_order,
    "itemFulfillment-COGS-at-average-cost": item_fulfillment,
    "cashSale-standalone-undeposited-funds-with-cost": cash_sale_standalone,
    "cashSale-to-bank-account": cash_sale_to_bank,
    "cashSale-GBP-in-base-currency": cash_sale_in_foreign_currency,
    "itemReceipt-on-return-at-shipped-cost": item_receipt_on_return,
    "creditMemo-reverses-income-against-AR": credit_memo,
    "cashRefund-from-bank": cash_refund,
    "customerDeposit-undeposited-funds-vs-liability": customer_deposit,
    "customerRefund-of-a-deposit": customer_refund,
    "customerPayment-undeposited-funds-vs-AR": customer_payment,
    "deposit-of-a-customer-payment": deposit_of_a_payment,
    "deposit-payments-other-and-cashback": deposit,
    "journalEntry-lines-as-entered": journal_entry,
    "inventoryAdjustment-in-at-cost-out-at-average": inventory_adjustment,
    "inventoryTransfer-asset-to-asset": inventory_transfer,
    "itemReceipt-without-source-received-not-billed": item_receipt_standalone,
    "transferOrder-fulfillment-into-transit": transfer_order_fulfillment,
    "transferOrder-receipt-out-of-transit-at-shipped-cost": transfer_order_receipt,
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_each_transaction_type_posts_its_gl_impact(ns: NS, case: str) -> None:
    w = World(ns)
    tran, expected = CASES[case](w)
    assert gl(ns, tran) == sorted(expected)
    assert_every_transaction_balances(ns)


def assert_every_transaction_balances(ns: NS) -> None:
    rows = ns.suiteql(
        "SELECT t.id, t.type, SUM(tal.debit) AS d, SUM(tal.credit) AS c, COUNT(*) AS n "
        "FROM transaction t JOIN transactionaccountingline tal ON tal.transaction = t.id GROUP BY t.id, t.type"
    ).json()["items"]
    assert rows
    for r in rows:
        assert _money(r.get("d") or 0) == _money(r.get("c") or 0), r


def test_gl_is_readable_with_account_numbers_names_and_types(ns: NS) -> None:
    w = World(ns)
    tran, _ = invoice_from_shipped_order(w)
    rows = ns.suiteql(
        "SELECT a.acctnumber, a.fullname, a.accountsearchdisplayname, a.accttype, BUILTIN.DF(tal.account) AS df, "
        "t.postingperiod, BUILTIN.DF(t.postingperiod) AS period FROM transactionaccountingline tal "
        "JOIN account a ON a.id = tal.account JOIN transaction t ON t.id = tal.transaction "
        f"WHERE tal.transaction = {int(tran)} AND a.acctnumber IN ('1100', '4000', '2200')"
    ).json()["items"]
    by_number = {r["acctnumber"]: r for r in rows}
    assert {n: (r["fullname"], r["accttype"]) for n, r in by_number.items()} == {
        "1100": ("Accounts Receivable", "AcctRec"),
        "4000": ("Sales", "Income"),
        "2200": ("Sales Tax Payable", "OthCurrLiab"),
    }
    assert by_number["1100"]["accountsearchdisplayname"] == by_number["1100"]["df"] == "1100 Accounts Receivable"
    today = ns.sb.now().date()
    assert {r["postingperiod"] for r in rows} == {today.strftime("%Y-%m")}
    assert {r["period"] for r in rows} == {today.strftime("%b %Y")}


def test_items_carry_income_cogs_and_asset_accounts(ns: NS) -> None:
    mug = ns.get(RECORD + "/inventoryItem/" + ns.sb.get("inventoryItem", "eid:ITEM-MUG").id).json()
    acct = {n: ns.sb.get("account", f"eid:ACCT-{n}").id for n in ("4000", "5000", "1300", "4050", "4100")}
    assert (mug["incomeAccount"]["id"], mug["cogsAccount"]["id"], mug["assetAccount"]["id"]) == (
        acct["4000"], acct["5000"], acct["1300"])
    # an item created without accounts takes the account-wide defaults, as NetSuite's preferences do
    new = _id(ns.post(RECORD + "/inventoryItem", {"itemId": "SOCK-001", "displayName": "Socks"}))
    sock = ns.get(RECORD + f"/inventoryItem/{new}").json()
    assert (sock["incomeAccount"]["id"], sock["cogsAccount"]["id"], sock["assetAccount"]["id"]) == (
        acct["4000"], acct["5000"], acct["1300"])
    disc = ns.sb.get("discountItem", "eid:DISC-PLATFORM").data["account"]["id"]
    ship = ns.sb.get("shipItem", "eid:SHIP-TTS").data["account"]["id"]
    assert (disc, ship) == (acct["4050"], acct["4100"])
    bad = ns.post(RECORD + "/inventoryItem", {"itemId": "HAT-001", "incomeAccount": {"id": "999999"}})
    assert bad.status_code == 400 and _detail(bad)["o:errorPath"] == "incomeAccount"


def test_item_income_account_decides_where_revenue_posts(ns: NS) -> None:
    w = World(ns)
    other = _id(ns.post(RECORD + "/account", {"acctNumber": "4010", "acctName": "Sales - TikTok Shop",
                                              "acctType": {"id": "Income"}}))
    assert ns.patch(RECORD + f"/inventoryItem/{w.mug}", {"incomeAccount": {"id": other}}).status_code == 204
    inv = w.transform("salesOrder", w.shipped_order(1), "invoice")
    assert gl(ns, inv) == [("1100", "12.50", ""), ("4010", "", "12.50")]


def test_picked_fulfillment_posts_nothing_until_shipped(ns: NS) -> None:
    w = World(ns)
    so = w.order(1)
    f = w.transform("salesOrder", so, "itemFulfillment", {"shipStatus": {"id": "A"}})
    assert gl(ns, f) == []
    assert ns.suiteql(f"SELECT posting FROM transaction WHERE id = {int(f)}").json()["items"] == [
        {"links": [], "posting": "F"}]
    ns.sb.set_ship_status(f, "C")
    assert gl(ns, f) == [("1300", "", "3.10"), ("5000", "3.10", "")]


def test_cost_follows_the_average_after_receipts_at_another_cost(ns: NS) -> None:
    w = World(ns)
    ns.sb.receive_stock(w.mug, w.main, 10, "3.50")  # 10 at 3.10 + 10 at 3.50 -> average 3.30
    f = w.transform("salesOrder", w.order(3), "itemFulfillment")
    assert gl(ns, f) == [("1300", "", "9.90"), ("5000", "9.90", "")]


# -- refusals ------------------------------------------------------------------------------------
def _journal(w: World, lines: list[dict[str, Any]], eid: str, date: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"externalId": eid, "subsidiary": {"id": w.ns.sb.list_ids("subsidiary")[0]},
                            "line": {"items": lines}}
    if date:
        body["tranDate"] = date
    return body


def _nothing_posted(ns: NS, eid: str) -> None:
    rows = ns.suiteql(f"SELECT COUNT(*) AS n FROM transaction WHERE externalid = '{eid}'").json()["items"]
    assert rows[0]["n"] == "0"


def test_journal_with_an_account_that_does_not_exist_is_refused_whole(ns: NS) -> None:
    w = World(ns)
    before = ns.suiteql("SELECT COUNT(*) AS n FROM transactionaccountingline").json()["items"][0]["n"]
    r = ns.post(RECORD + "/journalEntry", _journal(w, [
        {"account": {"id": w.acct["1250"]}, "debit": 10.00},
        {"account": {"id": "987654"}, "credit": 10.00},
    ], "TTS-STMT-BADACCT"))
    assert r.status_code == 400
    d = _detail(r)
    assert d["o:errorCode"] == "INVALID_CONTENT" and d["o:errorPath"] == "line.items[1].account"
    assert "Invalid Field Value 987654" in d["detail"]
    _nothing_posted(ns, "TTS-STMT-BADACCT")
    assert ns.suiteql("SELECT COUNT(*) AS n FROM transactionaccountingline").json()["items"][0]["n"] == before


def test_unbalanced_journal_is_refused(ns: NS) -> None:
    w = World(ns)
    r = ns.post(RECORD + "/journalEntry", _journal(w, [
        {"account": {"id": w.acct["1250"]}, "debit": 10.00},
        {"account": {"id": w.acct["6100"]}, "credit": 9.99},
    ], "TTS-STMT-UNBAL"))
    assert r.status_code == 400 and _detail(r)["o:errorCode"] == "USER_ERROR"
    assert "not in balance" in _detail(r)["detail"]
    _nothing_posted(ns, "TTS-STMT-UNBAL")


@pytest.mark.parametrize("how", ["tranDate", "postingPeriod"])
def test_posting_into_a_closed_period_is_refused(ns: NS, how: str) -> None:
    w = World(ns)
    ns.sb.close_period("2024-02")
    lines = [{"account": {"id": w.acct["1250"]}, "debit": 5.00},
             {"account": {"id": w.acct["6100"]}, "credit": 5.00}]
    body = _journal(w, lines, f"TTS-STMT-CLOSED-{how}", "2024-02-10" if how == "tranDate" else "2024-03-01")
    if how == "postingPeriod":
        body["postingPeriod"] = {"id": "2024-02"}
    r = ns.post(RECORD + "/journalEntry", body)
    assert r.status_code == 400
    d = _detail(r)
    assert d["o:errorCode"] == "USER_ERROR" and d["o:errorPath"] == "postingPeriod"
    assert "accounting period 2024-02 of this transaction is closed" in d["detail"]
    _nothing_posted(ns, f"TTS-STMT-CLOSED-{how}")
    periods = ns.suiteql("SELECT closed, alllocked FROM accountingperiod WHERE id = '2024-02'").json()["items"]
    assert periods == [{"links": [], "closed": "T", "alllocked": "T"}]


def test_a_closed_period_keeps_its_postings(ns: NS) -> None:
    w = World(ns)
    so = w.shipped_order(1)
    inv = w.transform("salesOrder", so, "invoice", {"tranDate": "2024-05-20"})
    before = gl(ns, inv)
    ns.sb.close_period("2024-05")
    edit = ns.patch(RECORD + f"/invoice/{inv}", {"tranDate": "2024-06-03"})
    assert edit.status_code == 400 and "2024-05" in _detail(edit)["detail"]
    delete = requests.delete(ns.url + RECORD + f"/invoice/{inv}", headers=ns.headers, timeout=30)
    assert delete.status_code == 400 and "closed" in _detail(delete)["detail"]
    assert gl(ns, inv) == before
    ns.sb.close_period("2024-05", closed=False)
    assert ns.patch(RECORD + f"/invoice/{inv}", {"tranDate": "2024-06-03"}).status_code == 204


def test_unknown_posting_period_is_invalid_content(ns: NS) -> None:
    w = World(ns)
    lines = [{"account": {"id": w.acct["1250"]}, "debit": 5.00},
             {"account": {"id": w.acct["6100"]}, "credit": 5.00}]
    body = _journal(w, lines, "TTS-STMT-BADPERIOD")
    body["postingPeriod"] = {"id": "2024-13"}
    r = ns.post(RECORD + "/journalEntry", body)
    assert r.status_code == 400 and _detail(r)["o:errorCode"] == "INVALID_CONTENT"
    assert _detail(r)["o:errorPath"] == "postingPeriod"
    _nothing_posted(ns, "TTS-STMT-BADPERIOD")


def test_foreign_currency_journal_gets_a_rounding_line(ns: NS) -> None:
    w = World(ns)
    body = _journal(w, [
        {"account": {"id": w.acct["1250"]}, "debit": 0.01},
        {"account": {"id": w.acct["1250"]}, "debit": 0.01},
        {"account": {"id": w.acct["1250"]}, "debit": 0.01},
        {"account": {"id": w.acct["6100"]}, "credit": 0.03},
    ], "TTS-STMT-GBP")
    body.update({"currency": {"id": w.gbp}, "exchangeRate": 1.27})
    je = _id(ns.post(RECORD + "/journalEntry", body))
    # each GBP 0.01 is USD 0.0127 -> 0.01; GBP 0.03 is USD 0.0381 -> 0.04: one cent to rounding
    assert gl(ns, je) == [("1250", "0.01", ""), ("1250", "0.01", ""), ("1250", "0.01", ""), ("6100", "", "0.04"),
                          ("6900", "0.01", "")]


def test_a_refused_posting_moves_no_stock(ns: NS) -> None:
    w = World(ns)
    so = w.order(2)
    ns.sb.close_period("2024-02")
    r = ns.post(RECORD + f"/salesOrder/{so}/!transform/itemFulfillment", {"tranDate": "2024-02-14"})
    assert r.status_code == 400 and "closed" in _detail(r)["detail"]
    level = ns.sb.stock_levels(w.mug, w.main)[0]
    assert (level["onHand"], level["committed"]) == ("10", "2")
    assert ns.suiteql("SELECT COUNT(*) AS n FROM transaction WHERE type = 'ItemShip'").json()["items"][0]["n"] == "0"


def _status(ns: NS, rec_type: str, rid: str) -> str:
    return str(ns.get(RECORD + f"/{rec_type}/{rid}").json()["status"]["id"])


def test_payments_settle_invoices_and_deposits_settle_payments(ns: NS) -> None:
    w = World(ns)
    inv = _invoice(w)
    def open_amounts() -> dict[str, Any]:
        q = f"SELECT foreigntotal, foreignamountpaid, foreignamountunpaid FROM transaction WHERE id = {int(inv)}"
        row: dict[str, Any] = ns.suiteql(q).json()["items"][0]
        return row

    assert open_amounts() == {"links": [], "foreigntotal": "25", "foreignamountpaid": "0", "foreignamountunpaid": "25"}
    first = w.post("customerPayment", _payment(w, inv, 10.00))
    invoice = ns.get(RECORD + f"/invoice/{inv}").json()
    assert (invoice["status"]["id"], invoice["amountPaid"], invoice["amountRemaining"]) == ("A", 10, 15)
    assert (open_amounts()["foreignamountpaid"], open_amounts()["foreignamountunpaid"]) == ("10", "15")
    second = w.post("customerPayment", _payment(w, inv))  # no amount: what is still due
    assert ns.get(RECORD + f"/customerPayment/{second}").json()["payment"] == 15
    assert _status(ns, "invoice", inv) == "B"  # Paid In Full
    assert (_status(ns, "customerPayment", first), _status(ns, "customerPayment", second)) == ("B", "B")
    dep = {"account": {"id": w.acct["1000"]},
           "payment": {"items": [{"id": int(first), "deposit": True}, {"id": int(second), "deposit": True}]}}
    w.post("deposit", dep)
    assert (_status(ns, "customerPayment", first), _status(ns, "customerPayment", second)) == ("C", "C")
    balances = ns.suiteql(
        "SELECT a.acctnumber, SUM(tal.amount) AS balance FROM transactionaccountingline tal "
        "JOIN account a ON a.id = tal.account WHERE a.acctnumber IN ('1100', '1200') GROUP BY a.acctnumber"
    ).json()["items"]
    # the invoice's receivable is cleared and nothing waits in undeposited funds
    assert {r["acctnumber"]: _money(r["balance"]) for r in balances} == {"1100": "0.00", "1200": "0.00"}


@pytest.mark.parametrize("case", ["over-applied", "not-an-invoice", "other-customers-invoice"])
def test_a_payment_that_cannot_apply_is_refused(ns: NS, case: str) -> None:
    w = World(ns)
    inv = _invoice(w)
    body = _payment(w, inv, 25.01)
    if case == "not-an-invoice":
        body = _payment(w, w.order(), 5.00)
    elif case == "other-customers-invoice":
        body["customer"] = {"id": ns.sb.get("customer", "eid:CUST-WALKIN").id}
        body["apply"]["items"][0]["amount"] = 5.00
    body["externalId"] = f"TTS-PMT-{case}"
    r = ns.post(RECORD + "/customerPayment", body)
    assert r.status_code == 400, r.text
    assert _detail(r)["o:errorPath"] in ("apply.items[0].amount", "apply.items[0].doc")
    _nothing_posted(ns, f"TTS-PMT-{case}")
    assert _status(ns, "invoice", inv) == "A"


def test_a_credit_memo_applied_to_its_invoice_clears_the_receivable(ns: NS) -> None:
    w = World(ns)
    so = w.shipped_order()
    inv = w.transform("salesOrder", so, "invoice")
    ra = w.transform("salesOrder", so, "returnAuthorization")
    too_much = ns.post(RECORD + f"/returnAuthorization/{ra}/!transform/creditMemo",
                       {"apply": {"items": [{"doc": {"id": inv}, "apply": True, "amount": 30.00}]}})
    assert too_much.status_code == 400 and _detail(too_much)["o:errorPath"] == "apply.items[0].amount"
    apply = {"apply": {"items": [{"doc": {"id": inv}, "apply": True}]}}
    cm = w.transform("returnAuthorization", ra, "creditMemo", apply)
    memo = ns.get(RECORD + f"/creditMemo/{cm}").json()
    assert (memo["status"]["id"], memo["applied"], memo["unapplied"]) == ("B", 25, 0)  # Fully Applied
    assert _status(ns, "invoice", inv) == "B"
    ar = ns.suiteql("SELECT SUM(tal.amount) AS balance FROM transactionaccountingline tal "
                    "JOIN account a ON a.id = tal.account WHERE a.acctnumber = '1100'").json()["items"][0]
    assert _money(ar["balance"]) == "0.00"


def test_billing_an_order_applies_its_customer_deposit(ns: NS) -> None:
    """customer_deposits mode: deposit at order time, invoice at shipment, payout deposit — NetSuite
    applies the order's deposit to the invoice, so nothing is left in A/R or Customer Deposits."""
    w = World(ns)
    so = w.order()  # 2 x 12.50
    cd = w.post("customerDeposit", {"customer": {"id": w.customer}, "salesOrder": {"id": so}, "payment": 25.00,
                                    "externalId": "TTS-DEP-1-ORDER"})
    w.transform("salesOrder", so, "itemFulfillment")
    inv = w.transform("salesOrder", so, "invoice")
    assert _status(ns, "invoice", inv) == "B"
    assert _status(ns, "customerDeposit", cd) == "C"  # Fully Applied
    apps = ns.suiteql("SELECT id, foreigntotal, BUILTIN.DF(type) AS label FROM transaction WHERE type = 'DepAppl'"
                      ).json()["items"]
    assert [(a["foreigntotal"], a["label"]) for a in apps] == [("25", "Deposit Application")]
    assert gl(ns, apps[0]["id"]) == [("1100", "", "25.00"), ("2100", "25.00", "")]
    w.post("deposit", {"account": {"id": w.acct["1000"]}, "payment": {"items": [{"id": int(cd), "deposit": True}]}})
    assert _status(ns, "customerDeposit", cd) == "B"  # Deposited
    balances = ns.suiteql(
        "SELECT a.acctnumber, SUM(tal.amount) AS balance FROM transactionaccountingline tal "
        "JOIN account a ON a.id = tal.account WHERE a.acctnumber IN ('1100', '1200', '2100') GROUP BY a.acctnumber"
    ).json()["items"]
    assert {r["acctnumber"]: _money(r["balance"]) for r in balances} == {"1100": "0.00", "1200": "0.00",
                                                                         "2100": "0.00"}
    refused = requests.delete(ns.url + RECORD + f"/invoice/{inv}", headers=ns.headers, timeout=30)
    assert refused.status_code == 400 and "dependent records" in _detail(refused)["detail"]


def test_a_deposit_larger_than_the_invoice_stays_partly_unapplied(ns: NS) -> None:
    w = World(ns)
    so = w.order()
    cd = w.post("customerDeposit", {"customer": {"id": w.customer}, "salesOrder": {"id": so}, "payment": 30.00})
    w.transform("salesOrder", so, "itemFulfillment")
    inv = w.transform("salesOrder", so, "invoice")
    assert (_status(ns, "invoice", inv), _status(ns, "customerDeposit", cd)) == ("B", "A")
    liability = ns.suiteql("SELECT SUM(tal.amount) AS balance FROM transactionaccountingline tal "
                           "JOIN account a ON a.id = tal.account WHERE a.acctnumber = '2100'").json()["items"][0]
    assert _money(liability["balance"]) == "-5.00"  # 5.00 of the deposit is still owed to the customer


def test_the_bridges_customer_payment_body_is_accepted_and_settles_the_invoice(ns: NS) -> None:
    """The body ``build_customer_payment`` writes in mode invoices, sent as the client sends it."""
    from types import SimpleNamespace

    from bridge.mapping.settlement import Coverage, OrderDocument, build_customer_payment
    from bridge.mapping.wire import encode

    w = World(ns)
    so = w.shipped_order()
    inv = w.transform("salesOrder", so, "invoice")
    ar = ns.sb.get("account", "eid:ACCT-1100").id
    cov = Coverage("t1", "o1", so, Decimal("25.00"), {}, Decimal(0), Decimal(0), Decimal(0),
                   (OrderDocument(inv, "invoice", Decimal("25.00"), customer_id=w.customer),))
    settings = SimpleNamespace(subsidiary=None, receivable=SimpleNamespace(
        payment_external_id="TTS-PMT-{shop_id}-{order_id}", ar_account=ar, payment_method=None))
    body = build_customer_payment(cov, settings, shop_id="7", tran_date=ns.sb.now().date(),  # type: ignore[arg-type]
                                  currency_id=None)
    r = requests.post(ns.url + RECORD + "/customerPayment", data=encode(body),
                      headers={**ns.headers, "Content-Type": "application/json"}, timeout=30)
    pay = _id(r)
    assert gl(ns, pay) == [("1100", "", "25.00"), ("1200", "25.00", "")]
    assert _status(ns, "invoice", inv) == "B"


def _balance(ns: NS, trans: list[str], acct: str) -> Decimal:
    rows = ns.suiteql(
        "SELECT tal.debit, tal.credit FROM transactionaccountingline tal JOIN account a ON a.id = tal.account "
        f"WHERE a.acctnumber = '{acct}' AND tal.transaction IN ({', '.join(str(int(t)) for t in trans)})"
    ).json()["items"]
    return sum((Decimal(str(r.get("debit") or 0)) - Decimal(str(r.get("credit") or 0)) for r in rows), Decimal(0))


def test_a_customer_refund_takes_a_cancelled_units_share_off_the_deposit_and_the_invoice_gets_the_rest(ns: NS) -> None:
    # an order of two mugs (25.00) prepaid by a customer deposit; one mug is cancelled: the refund gives back
    # 12.50 from the deposit (paid out of the clearing account: TikTok refunds the buyer), the invoice of the
    # shipped mug takes the 12.50 left, and the payout's bank deposit takes the whole receipt
    w = World(ns)
    so = w.order(2)
    cd = w.post("customerDeposit", {"customer": {"id": w.customer}, "salesOrder": {"id": so}, "payment": 25.00})
    refund = {"customer": {"id": w.customer}, "account": {"id": w.acct["1250"]},
              "deposit": {"items": [{"doc": {"id": cd}, "apply": True, "amount": 12.50}]}}
    too_much = ns.post(RECORD + "/customerRefund", {**refund, "deposit": {"items": [
        {"doc": {"id": cd}, "apply": True, "amount": 30.00}]}})
    assert too_much.status_code == 400 and "is left on it" in too_much.text
    crf = w.post("customerRefund", refund)
    assert gl(ns, crf) == [("1250", "", "12.50"), ("2100", "12.50", "")]
    w.transform("salesOrder", so, "itemFulfillment", {"item": {"items": [{"orderLine": 1, "quantity": 1}]}})
    inv = w.transform("salesOrder", so, "invoice", {"item": {"items": [{"orderLine": 1, "quantity": 1}]}})
    [appl] = [r["id"] for r in ns.suiteql(
        f"SELECT t.id FROM transaction t JOIN transactionline tl ON tl.transaction = t.id WHERE t.type = 'DepAppl' "
        f"AND tl.mainline = 'T' AND tl.createdfrom = {int(cd)}").json()["items"]]
    assert gl(ns, str(appl)) == [("1100", "", "12.50"), ("2100", "12.50", "")]  # only what the refund left
    dep = w.post("deposit", {"account": {"id": w.acct["1000"]},
                             "payment": {"items": [{"id": int(cd), "deposit": True, "paymentAmount": 25.00}]},
                             "cashback": {"items": [{"account": {"id": w.acct["1250"]}, "amount": 12.50}]}})
    docs = [cd, crf, inv, str(appl), dep]
    for acct in ("1200", "2100", "1100", "1250"):  # undeposited funds, customer deposits, A/R, clearing
        assert _balance(ns, docs, acct) == 0, acct
    assert_every_transaction_balances(ns)


def test_a_deposit_of_an_order_cancelled_whole_is_refunded_and_deposited_into_clearing(ns: NS) -> None:
    w = World(ns)
    so = w.order(2)
    cd = w.post("customerDeposit", {"customer": {"id": w.customer}, "salesOrder": {"id": so}, "payment": 25.00})
    crf = w.post("customerRefund", {"customer": {"id": w.customer}, "account": {"id": w.acct["1250"]},
                                    "deposit": {"items": [{"doc": {"id": cd}, "apply": True, "amount": 25.00}]}})
    into = w.post("deposit", {"account": {"id": w.acct["1250"]},
                              "payment": {"items": [{"id": int(cd), "deposit": True, "paymentAmount": 25.00}]}})
    assert gl(ns, into) == [("1200", "", "25.00"), ("1250", "25.00", "")]
    for acct in ("1200", "2100", "1250"):
        assert _balance(ns, [cd, crf, into], acct) == 0, acct
    status = ns.suiteql(f"SELECT status FROM transaction WHERE id = {int(cd)}").json()["items"][0]["status"]
    assert status == "B"  # deposited (and fully refunded)


@pytest.mark.parametrize("record", ["deposit", "customerRefund"])
def test_a_deposit_or_customer_refund_takes_only_a_bank_account_as_netsuite_does(ns: NS, record: str) -> None:
    """NetSuite lists only Bank accounts in a deposit's and a customer refund's ``account``: 1200 Undeposited
    Funds (Other Current Asset) is refused as an invalid value, nothing posted; 1250 TikTok Shop Clearing
    (seeded as Bank) is taken."""
    w = World(ns)
    so = w.order(2)
    cd = w.post("customerDeposit", {"customer": {"id": w.customer}, "salesOrder": {"id": so}, "payment": 25.00})
    undeposited = ns.sb.get("account", "eid:ACCT-1200").id

    def body(account: str) -> dict[str, Any]:
        if record == "deposit":
            return {"account": {"id": account},
                    "payment": {"items": [{"id": int(cd), "deposit": True, "paymentAmount": 25.00}]}}
        return {"customer": {"id": w.customer}, "account": {"id": account},
                "deposit": {"items": [{"doc": {"id": cd}, "apply": True, "amount": 25.00}]}}

    before = len(ns.sb.list_ids(record))
    refused = ns.post(RECORD + f"/{record}", body(undeposited))
    assert refused.status_code == 400, refused.text
    detail = _detail(refused)
    assert detail["o:errorCode"] == "INVALID_CONTENT" and "Invalid Field Value" in detail["detail"]
    assert "only Bank accounts" in detail["detail"] and detail["o:errorPath"] == "account"
    assert len(ns.sb.list_ids(record)) == before
    assert w.post(record, body(w.acct["1250"]))


@pytest.mark.parametrize("record", ["deposit", "customerRefund"])
def test_a_bank_account_holds_one_currency_and_refuses_a_deposit_or_refund_in_another(ns: NS, record: str) -> None:
    """A bank account has one currency (the account record's ``currency``): the seeded 1250 TikTok Shop
    Clearing is a USD account, so a GBP deposit into it or a GBP customer refund paid from it is refused as an
    invalid value of ``account`` (NetSuite's error shape), nothing posted; a GBP bank account takes them."""
    w = World(ns)
    ns.sb.seed({"account": [{"externalId": "ACCT-1251", "acctNumber": "1251", "acctName": "TikTok Shop Clearing GBP",
                             "acctType": {"id": "Bank"}, "currency": {"externalId": "CUR-GBP"}}]})
    gbp_clearing = ns.sb.get("account", "eid:ACCT-1251").id
    usd = ns.suiteql("SELECT currency FROM account WHERE externalid = 'ACCT-1250'").json()["items"][0]["currency"]
    gbp = ns.suiteql("SELECT currency FROM account WHERE externalid = 'ACCT-1251'").json()["items"][0]["currency"]
    assert (str(usd), str(gbp)) == ("1", str(w.gbp))  # read through SuiteQL as on a real account
    so = w.order(2)
    cd = w.post("customerDeposit", {"customer": {"id": w.customer}, "salesOrder": {"id": so}, "payment": 25.00})

    def body(account: str) -> dict[str, Any]:
        if record == "deposit":
            return {"account": {"id": account}, "currency": {"id": w.gbp}, "exchangeRate": 1.27,
                    "other": {"items": [{"account": {"id": w.acct["6100"]}, "amount": 10.00}]}}
        return {"customer": {"id": w.customer}, "account": {"id": account}, "currency": {"id": w.gbp},
                "exchangeRate": 1.27, "deposit": {"items": [{"doc": {"id": cd}, "apply": True, "amount": 10.00}]}}

    before = len(ns.sb.list_ids(record))
    refused = ns.post(RECORD + f"/{record}", body(w.acct["1250"]))
    assert refused.status_code == 400, refused.text
    detail = _detail(refused)
    assert detail["o:errorCode"] == "INVALID_CONTENT" and "Invalid Field Value" in detail["detail"]
    assert "is in USD; this transaction is in GBP" in detail["detail"] and detail["o:errorPath"] == "account"
    assert len(ns.sb.list_ids(record)) == before
    assert w.post(record, body(gbp_clearing))
    # the USD clearing account still takes a USD one (no currency named: the account's)
    if record == "deposit":
        assert w.post(record, {"account": {"id": w.acct["1250"]},
                               "other": {"items": [{"account": {"id": w.acct["6100"]}, "amount": 5.00}]}})

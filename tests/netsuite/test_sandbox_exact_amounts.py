"""Money out of the NetSuite sandbox is exact: REST record views write each stored ``Decimal`` as the
JSON number it holds (not rounded through a binary float), and SuiteQL's ``SUM`` adds exactly, as
Oracle does over NUMBER (not SQLite's sum of doubles). Through the bridge's client, over HTTP."""

from __future__ import annotations

from decimal import Decimal

from tests.netsuite.sandbox_support import MUG, TTS_CUSTOMER, Sandbox

LINES = [Decimal("12113874.13"), Decimal("5343037.07"), Decimal("60848876.79")]  # as doubles: 78305787.99000001


def order(rates: list[Decimal]) -> dict[str, object]:
    return {"entity": {"id": TTS_CUSTOMER},
            "item": {"items": [{"item": {"id": MUG}, "quantity": 1, "rate": r} for r in rates]}}


def test_a_suiteql_sum_of_amounts_is_exact(ns: Sandbox) -> None:
    c = ns.client()
    so = c.upsert("salesOrder", "TTS-EXACT-1", order(LINES))
    rows = c.suiteql(f"SELECT SUM(foreignamount) AS total, SUM(rate) AS rates, COUNT(*) AS n FROM transactionline "  # noqa: S608
                     f"WHERE transaction = {int(so.id)} AND mainline = 'F'")
    assert rows == [{"total": "-78305787.99", "rates": "78305787.99", "n": "3"}]
    assert Decimal(rows[0]["total"]) == -sum(LINES)
    assert sum(float(x) for x in LINES) != float(sum(LINES))  # what adding doubles gives (78305787.99000001)
    running = c.suiteql(f"SELECT id, SUM(rate) OVER (ORDER BY id) AS upto FROM transactionline "  # noqa: S608
                        f"WHERE transaction = {int(so.id)} AND mainline = 'F' ORDER BY id")
    assert [r["upto"] for r in running] == ["12113874.13", "17456911.2", "78305787.99"]


def test_a_record_answers_the_digits_it_holds(ns: Sandbox) -> None:
    c = ns.client()
    rates = [Decimal("0.1234567890123456789"), Decimal("12.50")]  # a double keeps 17 digits, and drops the 0
    so = c.upsert("salesOrder", "TTS-EXACT-2", order(rates))
    got = c.get("salesOrder", so.id, expand=True)
    assert got is not None
    back = [ln["rate"] for ln in got["item"]["items"]]
    assert [str(r) for r in back] == ["0.1234567890123456789", "12.50"] and all(type(r) is Decimal for r in back)
    assert [ln["amount"] for ln in got["item"]["items"]] == [Decimal("0.12"), Decimal("12.50")]
    assert got["total"] == Decimal("12.62") and type(got["total"]) is Decimal
    assert [ln["quantity"] for ln in got["item"]["items"]] == [1, 1]  # integral quantities stay int


def test_fulfilled_quantities_are_whole_units_read_without_a_float(ns: Sandbox) -> None:
    """``NetSuiteOrdersAdapter.fulfilled_quantities`` (the cancellations flow's check) over the sandbox:
    each line's ``quantityFulfilled`` as an int, read through ``Decimal``."""
    from bridge.netsuite.adapters.orders import NetSuiteOrdersAdapter

    c = ns.client()
    lines = [{"item": {"id": MUG}, "quantity": 3, "rate": Decimal("19.99"), "custcol_ttns_line_item_ids": "L1,L2,L3"},
             {"item": {"id": MUG}, "quantity": 2, "rate": Decimal("19.99"), "custcol_ttns_line_item_ids": "L4,L5"}]
    so = c.upsert("salesOrder", "TTS-EXACT-3", {"entity": {"id": TTS_CUSTOMER}, "item": {"items": lines}})
    first = c.get("salesOrder", so.id, expand=True)["item"]["items"][0]["line"]  # type: ignore[index]
    c.transform("salesOrder", so.id, "itemFulfillment",
                {"shipStatus": {"id": "C"}, "item": {"items": [{"orderLine": first, "quantity": 2}]}},
                replace=("item",))
    got = NetSuiteOrdersAdapter(lambda: c).fulfilled_quantities("salesOrder", so.id)
    assert got == {"L1,L2,L3": 2, "L4,L5": 0} and all(type(q) is int for q in got.values())

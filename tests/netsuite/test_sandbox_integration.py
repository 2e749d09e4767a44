"""The client against the NetSuite sandbox over real HTTP: auth, records, SuiteQL, the governor, faults."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge.errors import ConfigurationError, FatalError, NeedsHumanError, RetriableError
from bridge.mapping.ownership import carries
from bridge.netsuite.governor import Governor
from bridge.netsuite.wiring import build_client
from tests.netsuite.sandbox_support import MUG, TBA, TTS_CUSTOMER, Sandbox, run_threads


def order_body(memo: str = "", quantity: int = 1) -> dict[str, Any]:
    return {"entity": {"id": TTS_CUSTOMER}, "memo": memo,
            "item": {"items": [{"item": {"id": MUG}, "quantity": quantity, "rate": Decimal("12.50")}]}}


def test_oauth2_ps256_es256_and_tba_all_authenticate(ns: Sandbox) -> None:
    rsa = ns.client()
    ec = build_client(ns.ec_settings(), governor=Governor(5))
    tba = ns.client(netsuite_auth="tba", netsuite_consumer_key=TBA.consumer_key,
                    netsuite_consumer_secret=TBA.consumer_secret, netsuite_token_id=TBA.token_id,
                    netsuite_token_secret=TBA.token_secret)
    for client in (rsa, ec, tba):
        page = client.suiteql_page("SELECT id FROM currency", limit=1)
        assert page.count == 1 and page.has_more
    assert rsa.auth.describe()["algorithm"] == "PS256" and ec.auth.describe()["algorithm"] == "ES256"
    assert ns.sb.counters.snapshot()["counts"]["auth.token_requests"] == 2


def test_credentials_netsuite_refuses_fail_clearly(ns: Sandbox) -> None:
    with pytest.raises(ConfigurationError, match="CERTIFICATE_ID"):
        ns.client(netsuite_certificate_id="kid-unknown").get("customer", TTS_CUSTOMER)
    bad_tba = ns.client(netsuite_auth="tba", netsuite_consumer_key=TBA.consumer_key,
                        netsuite_consumer_secret="wrong", netsuite_token_id=TBA.token_id,
                        netsuite_token_secret=TBA.token_secret)
    with pytest.raises(ConfigurationError, match="INVALID_LOGIN"):
        bad_tba.get("customer", TTS_CUSTOMER)


def test_create_get_upsert_and_transform(ns: Sandbox) -> None:
    c = ns.client()
    created = c.create("customer", {"companyName": "Buyer One", "isPerson": False, "externalId": "TTS-CUST-1"})
    assert created.outcome == "created" and created.id.isdigit()
    assert c.get("customer", created.id)["companyName"] == "Buyer One"  # type: ignore[index]
    first = c.upsert("salesOrder", "TTS-S1-1001", order_body("first"))
    # without replace=item NetSuite appends the lines again: an upsert re-sends the whole sublist
    second = c.upsert("salesOrder", "TTS-S1-1001", order_body("second", quantity=2), replace=("item",))
    assert first.id == second.id
    assert ns.count("transaction", "TTS-S1-1001") == 1
    so = c.get_by_external_id("salesOrder", "TTS-S1-1001", expand=True)
    assert so is not None and so["memo"] == "second" and so["id"] == first.id
    assert [line["quantity"] for line in so["item"]["items"]] == [2]
    fulfilled = c.transform("salesOrder", first.id, "itemFulfillment", {"shipStatus": {"id": "C"}},
                            external_id="TTS-IF-1001")
    itf = c.get("itemFulfillment", fulfilled.id)
    assert itf is not None and itf["createdFrom"]["id"] == first.id
    assert c.get_by_external_id("itemFulfillment", "TTS-IF-1001")["id"] == fulfilled.id  # type: ignore[index]
    assert c.get("salesOrder", "999999") is None
    assert c.delete("customer", created.id) is True and c.get("customer", created.id) is None


def test_refusals_map_to_the_error_tree(ns: Sandbox) -> None:
    c = ns.client()
    with pytest.raises(FatalError) as info:
        c.upsert("salesOrder", "TTS-S1-BAD", {**order_body(), "memoo": "typo"})
    assert not isinstance(info.value, NeedsHumanError) and "memoo" in str(info.value)
    so = c.upsert("salesOrder", "TTS-S1-P", order_body())
    today = ns.sb.now().date().isoformat()
    ns.sb.close_period(today[:7])
    with pytest.raises(NeedsHumanError) as human:
        c.transform("salesOrder", so.id, "itemFulfillment", {"shipStatus": {"id": "C"}, "tranDate": today})
    assert human.value.code == "NS_PERIOD_CLOSED" and human.value.owner == "finance"
    with pytest.raises(NeedsHumanError) as ref:
        c.upsert("salesOrder", "TTS-S1-X", {"entity": {"id": TTS_CUSTOMER},
                                            "item": {"items": [{"item": {"id": "987654"}, "quantity": 1}]}})
    assert ref.value.code == "NS_INVALID_REFERENCE"


def test_suiteql_offset_and_key_paging(ns: Sandbox) -> None:
    c = ns.client()
    everything = c.suiteql_page("SELECT id, itemid FROM item ORDER BY id", limit=1000).items
    assert len(everything) > 6
    by_offset = c.suiteql("SELECT id, itemid FROM item ORDER BY id", page_size=2)
    by_key = c.suiteql("SELECT id, itemid FROM item", page_size=2, key="id", ceiling=4)  # small ceiling: 4 windows
    assert by_offset == everything
    assert [r["id"] for r in by_key] == [r["id"] for r in everything]


def test_twenty_threads_stay_inside_a_pool_of_five(ns: Sandbox) -> None:
    ns.sb.config.latency.scale = 0.04  # each call holds its slot ~10-20 ms
    c = ns.client(limit=5)

    def work(i: int) -> None:
        for j in range(3):
            c.upsert("customer", f"TTS-CUST-{i}-{j}", {"companyName": f"Buyer {i}-{j}", "isPerson": False})
            c.suiteql_page(f"SELECT id FROM customer WHERE externalid = 'TTS-CUST-{i}-{j}'", limit=1)

    assert run_threads(20, work) == []
    counts = ns.sb.counters.snapshot()["counts"]
    assert ns.sb.pool.peak <= 5 and not any(k.startswith("concurrency.rejected") for k in counts)
    assert counts["rest.upsert"] == 60 and c.governor.stats().waited > 0


def test_when_the_pool_is_shared_the_governor_retries_and_shrinks(ns: Sandbox) -> None:
    ns.sb.config.latency.scale = 0.04
    ns.sb.config.faults.spurious_invalid_login_rate = 0.5  # NetSuite's INVALID_LOGIN under load
    gov = Governor(10, shrink_cooldown=0.05, grow_after=3600)  # a share bigger than the account's 5
    c = ns.client(governor=gov)

    def work(i: int) -> None:
        for j in range(3):
            c.upsert("customer", f"TTS-CUST-{i}-{j}", {"companyName": f"Buyer {i}-{j}", "isPerson": False})

    assert run_threads(20, work) == []
    counts = ns.sb.counters.snapshot()["counts"]
    rejected = counts.get("concurrency.rejected.rest", 0)
    assert rejected > 0 and counts["rest.upsert"] == 60
    assert counts.get("faults.spurious_invalid_login", 0) > 0  # retried, not taken for bad credentials
    assert ns.sb.pool.peak <= 5
    st = gov.stats()
    assert st.pool_full > 0 and st.retries >= st.pool_full and st.effective < 10
    assert ns.count("customer", "TTS-CUST-19-2") == 1


@pytest.mark.parametrize("mode", ["drop", "hang"])
def test_timeout_after_commit_on_upsert_resolves_by_lookup(ns: Sandbox, mode: str) -> None:
    ns.sb.config.faults.timeout_mode = mode  # type: ignore[assignment]
    ns.sb.config.faults.hang_seconds = 2.5
    c = ns.client(netsuite_timeout_seconds=1.0)
    c.get("customer", TTS_CUSTOMER)  # fetch the token before the fault is armed
    ns.sb.chaos.script_fault({"kind": "timeout_after_commit", "op": "upsert"})
    body = order_body("once")
    result = c.upsert("salesOrder", "TTS-S1-T", body, replace=("item",),
                      verify=lambda found: carries(found, body, replace=("item",)))
    assert result.outcome == "resolved" and result.record is not None
    assert ns.count("transaction", "TTS-S1-T") == 1
    counts = ns.sb.counters.snapshot()["counts"]
    assert counts["rest.upsert"] == 1 and counts["faults.timeout_after_commit"] >= 1  # one PUT, never two
    assert c.get_by_external_id("salesOrder", "TTS-S1-T")["id"] == result.id  # type: ignore[index]


@pytest.mark.parametrize("op", ["create", "transform"])
def test_a_documents_lost_answer_is_resolved_by_its_external_id_never_posted_twice(ns: Sandbox, op: str) -> None:
    """The write path of every document the flows create (create_document: customer refunds, deposits,
    item fulfillments, invoices, return authorizations, credit memos, inventory adjustments): NetSuite
    commits, the answer is lost; the client looks the external id up and never sends the write again."""
    ns.sb.config.faults.timeout_mode = "hang"  # type: ignore[assignment]
    ns.sb.config.faults.hang_seconds = 2.5
    c = ns.client(netsuite_timeout_seconds=1.0)
    so = c.upsert("salesOrder", f"TTS-S1-LOST-{op}", order_body("lost"))
    before = ns.sb.counters.snapshot()["counts"].get(f"rest.{op}", 0)
    ns.sb.chaos.script_fault({"kind": "timeout_after_commit", "op": op})
    if op == "create":
        got = c.create("customer", {"companyName": "Lost Answer", "isPerson": False, "externalId": "TTS-CUST-LOST"})
        assert ns.count("customer", "TTS-CUST-LOST") == 1
    else:
        got = c.transform("salesOrder", so.id, "itemFulfillment", {"shipStatus": {"id": "C"}},
                          external_id="TTS-IF-LOST")
        assert ns.count("transaction", "TTS-IF-LOST") == 1
    assert got.outcome == "resolved" and got.id.isdigit()
    counts = ns.sb.counters.snapshot()["counts"]
    assert counts[f"rest.{op}"] == before + 1 and counts["faults.timeout_after_commit"] >= 1  # sent once


def test_a_lost_answer_to_an_update_counts_only_when_the_record_shows_it(ns: Sandbox) -> None:
    """An update whose answer was lost before it applied leaves a sales order that exists (it did before):
    finding it proves nothing. The old client answered ``resolved`` here; the update was never written."""
    c = ns.client()
    c.upsert("salesOrder", "TTS-S1-U", order_body("old", quantity=1), replace=("item",))
    new = order_body("new", quantity=3)

    def shows(found: dict[str, Any]) -> bool:
        return carries(found, new, replace=("item",))

    for verify in (None, shows):
        ns.sb.chaos.script_fault({"kind": "5xx", "op": "upsert"})  # refused before it applied: a 503
        with pytest.raises(RetriableError) as info:
            c.upsert("salesOrder", "TTS-S1-U", new, replace=("item",), verify=verify)
        assert info.value.evidence is not None and info.value.evidence.code == "WRITE_OUTCOME_UNKNOWN"
        so = c.get_by_external_id("salesOrder", "TTS-S1-U", expand=True)
        assert so is not None and so["memo"] == "old" and so["item"]["items"][0]["quantity"] == 1
    # the same update lost after it applied: the record shows it, no second PUT
    puts = ns.sb.counters.snapshot()["counts"]["rest.upsert"]
    ns.sb.config.faults.timeout_mode = "drop"
    ns.sb.chaos.script_fault({"kind": "timeout_after_commit", "op": "upsert"})
    result = c.upsert("salesOrder", "TTS-S1-U", new, replace=("item",), verify=shows)
    assert result.outcome == "resolved" and ns.sb.counters.snapshot()["counts"]["rest.upsert"] == puts + 1
    so = c.get_by_external_id("salesOrder", "TTS-S1-U", expand=True)
    assert so is not None and so["memo"] == "new" and [ln["quantity"] for ln in so["item"]["items"]] == [3]


def test_timeout_after_commit_on_create_with_external_id(ns: Sandbox, tmp_path: Path) -> None:
    ns.sb.config.faults.timeout_mode = "drop"
    c = ns.client()
    ns.sb.chaos.script_fault({"kind": "timeout_after_commit", "op": "create"})
    result = c.create("customer", {"companyName": "Dropped", "isPerson": False, "externalId": "TTS-CUST-D"})
    assert result.outcome == "resolved" and ns.count("customer", "TTS-CUST-D") == 1


def _journal(memo: str, amount: str) -> dict[str, Any]:
    return {"subsidiary": {"id": "1"}, "currency": {"id": "1"}, "tranDate": "2026-12-07", "memo": memo,
            "line": {"items": [{"account": {"id": "1"}, "debit": Decimal(amount), "memo": "bank"},
                               {"account": {"id": "2"}, "credit": Decimal(amount), "memo": "receivable"}]}}


def test_settlements_lost_answer_counts_only_when_the_journal_shows_its_lines(ns: Sandbox) -> None:
    """The ledger port (journals, deposits, payments): a re-posted journal whose update was refused before it
    applied keeps its old lines; the old adapter answered ``resolved`` and the posting was recorded."""
    from bridge.netsuite.adapters.settlement import NetSuiteLedgerAdapter

    c = ns.client()
    ledger = NetSuiteLedgerAdapter(lambda: c)
    assert ledger.upsert("journalEntry", "TTS-JE-L", _journal("first", "10.00")).outcome == "written"
    ns.sb.chaos.script_fault({"kind": "5xx", "op": "upsert", "recordType": "journalEntry"})
    with pytest.raises(RetriableError, match="does not show this write"):
        ledger.upsert("journalEntry", "TTS-JE-L", _journal("second", "12.00"))
    je = c.get_by_external_id("journalEntry", "TTS-JE-L", expand=True)
    assert je is not None and [Decimal(str(ln.get("debit") or 0)) for ln in je["line"]["items"]] == [
        Decimal("10.00"), Decimal(0)]
    ns.sb.config.faults.timeout_mode = "drop"
    ns.sb.chaos.script_fault({"kind": "timeout_after_commit", "op": "upsert", "recordType": "journalEntry"})
    posted = ledger.upsert("journalEntry", "TTS-JE-L", _journal("second", "12.00"))
    assert posted.outcome == "resolved" and posted.id == je["id"]
    je = c.get_by_external_id("journalEntry", "TTS-JE-L", expand=True)
    assert je is not None and je["memo"] == "second" and len(je["line"]["items"]) == 2


def test_a_refunds_appended_lines_lost_before_they_applied_are_added_on_the_retry(ns: Sandbox) -> None:
    """A credit memo is transformed from its return authorization, then its lines without a source line
    (refunded shipping, fees) are added by a PATCH. That PATCH's answer lost before it applied left the old
    adapter a credit memo that exists, taken as done on the retry: the refund lacked those lines."""
    from bridge.errors import WriteOutcomeUnknown
    from bridge.netsuite.adapters.fulfillment import NetSuiteFulfillmentAdapter
    from bridge.ports.netsuite import NsDocument

    c = ns.client()
    so = c.upsert("salesOrder", "TTS-SO-CM", order_body("cm"), replace=("item",))
    c.transform("salesOrder", so.id, "itemFulfillment", {}, external_id="TTS-IF-CM")
    ra = c.transform("salesOrder", so.id, "returnAuthorization", {}, external_id="TTS-RA-CM")
    fees = "112"  # seeded discount item "TikTok Buyer Fees"
    doc = NsDocument("creditMemo", "TTS-RET-CM", {"memo": "refund"}, "returnAuthorization", ra.id,
                     extra={"append_lines": [{"item": {"id": fees}, "quantity": 1, "rate": Decimal("4.99")}]})
    adapter = NetSuiteFulfillmentAdapter(lambda: c)
    ns.sb.chaos.script_fault({"kind": "5xx", "op": "update", "recordType": "creditMemo"})
    with pytest.raises(WriteOutcomeUnknown):
        adapter.create_document(doc)

    def lines() -> list[tuple[str, Decimal]]:
        cm = c.get_by_external_id("creditMemo", "TTS-RET-CM", expand=True)
        assert cm is not None
        return [(str(ln["item"]["id"]), Decimal(str(ln["rate"]))) for ln in cm["item"]["items"]]

    assert lines() == [(MUG, Decimal("12.50"))]  # the credit memo exists without its appended line
    for _ in range(2):  # the retry adds it; a further retry finds it there and adds nothing
        written = adapter.create_document(doc)
        assert not written.created
        assert lines() == [(MUG, Decimal("12.50")), (fees, Decimal("4.99"))]

"""The client against the NetSuite sandbox over real HTTP: auth, records, SuiteQL, the governor, faults."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge.errors import ConfigurationError, FatalError, NeedsHumanError
from bridge.netsuite.governor import Governor
from bridge.netsuite.wiring import build_client
from tests.netsuite.sandbox_support import MUG, TBA, TTS_CUSTOMER, Sandbox, run_threads, running_sandbox


@pytest.fixture(scope="module")
def _sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path_factory.mktemp("netsuite-keys")) as sandbox:
        yield sandbox


@pytest.fixture
def ns(_sandbox: Sandbox) -> Sandbox:
    _sandbox.reset()
    return _sandbox


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
    result = c.upsert("salesOrder", "TTS-S1-T", order_body("once"))
    assert result.outcome == "resolved" and result.record is not None
    assert ns.count("transaction", "TTS-S1-T") == 1
    counts = ns.sb.counters.snapshot()["counts"]
    assert counts["rest.upsert"] == 1 and counts["faults.timeout_after_commit"] >= 1  # one PUT, never two
    assert c.get_by_external_id("salesOrder", "TTS-S1-T")["id"] == result.id  # type: ignore[index]


def test_timeout_after_commit_on_create_with_external_id(ns: Sandbox, tmp_path: Path) -> None:
    ns.sb.config.faults.timeout_mode = "drop"
    c = ns.client()
    ns.sb.chaos.script_fault({"kind": "timeout_after_commit", "op": "create"})
    result = c.create("customer", {"companyName": "Dropped", "isPerson": False, "externalId": "TTS-CUST-D"})
    assert result.outcome == "resolved" and ns.count("customer", "TTS-CUST-D") == 1

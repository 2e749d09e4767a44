"""The client over real HTTP against a small fake (``fake_netsuite``): retries, resolution, paging."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge.bootstrap import build
from bridge.errors import ConfigurationError, FatalError, NeedsHumanError, RetriableError, WriteOutcomeUnknown
from bridge.logs import correlation, job_scope
from bridge.mapping.wire import dumps, loads
from bridge.netsuite.client import BatchOutcomeUnknown, NetSuiteClient, RetryPolicy
from bridge.netsuite.governor import Governor
from bridge.netsuite.wiring import build_client
from bridge.settings import Settings
from tests.netsuite.fake_netsuite import FakeState
from tests.netsuite.keys import rsa_key, write_private_key


def settings_for(url: str, tmp_path: Path, **extra: Any) -> Settings:
    base: dict[str, Any] = dict(
        netsuite_account="1234567_SB1", netsuite_auth="oauth2", netsuite_client_id="client-fake",
        netsuite_certificate_id="kid-fake", netsuite_private_key_file=write_private_key(rsa_key(), tmp_path),
        netsuite_rest_base=url, netsuite_restlet_base=url, netsuite_concurrency=5, netsuite_timeout_seconds=5.0,
    )
    base.update(extra)
    return Settings(**base)


def client_for(url: str, tmp_path: Path, *, limit: int = 5, calls: Any = None, **extra: Any) -> NetSuiteClient:
    return build_client(settings_for(url, tmp_path, **extra), governor=Governor(limit), calls=calls,
                        retry=RetryPolicy(max_attempts=10, base=0.005, cap=0.05))


def test_decimals_travel_exactly() -> None:
    text = dumps({"rate": Decimal("19.99"), "lines": [{"amount": Decimal("-0.10")}], "n": 3, "s": "x"})
    assert text == '{"rate":19.99,"lines":[{"amount":-0.10}],"n":3,"s":"x"}'
    assert loads(text)["rate"] == Decimal("19.99")
    with pytest.raises(ValueError):
        dumps({"x": Decimal("NaN")})


def test_create_get_patch_upsert_delete_transform(fake: tuple[FakeState, str], tmp_path: Path) -> None:
    state, url = fake
    c = client_for(url, tmp_path)
    created = c.create("customer", {"companyName": "Acme", "externalId": "C-1"})
    assert created.outcome == "created" and created.id.isdigit()
    assert c.get("customer", created.id)["companyName"] == "Acme"  # type: ignore[index]
    assert c.get_by_external_id("customer", "C-1")["id"] == created.id  # type: ignore[index]
    assert c.get("customer", "999999") is None and c.get_by_external_id("customer", "nope") is None
    c.patch("customer", created.id, {"email": "a@example.test"})
    assert c.get("customer", created.id)["email"] == "a@example.test"  # type: ignore[index]
    first = c.upsert("salesOrder", "TTS-S-1", {"memo": "one", "total": Decimal("10.50")})
    second = c.upsert("salesOrder", "TTS-S-1", {"memo": "two", "externalId": "TTS-S-1"})
    assert first.id == second.id and first.outcome == second.outcome == "written"
    assert len(state.records["salesOrder"]) == 1 and state.records["salesOrder"][first.id]["memo"] == "two"
    with pytest.raises(ValueError):
        c.upsert("salesOrder", "TTS-S-1", {"externalId": "other"})
    fulfilled = c.transform("salesOrder", first.id, "itemFulfillment", {"shipStatus": "C"})
    assert state.records["itemFulfillment"][fulfilled.id]["createdFrom"] == {"id": first.id}
    assert c.delete("customer", created.id) is True and c.delete("customer", created.id) is False


def test_invalid_content_is_fatal_and_names_the_path(fake: tuple[FakeState, str], tmp_path: Path) -> None:
    _, url = fake
    with pytest.raises(FatalError) as info:
        client_for(url, tmp_path).create("salesOrder", {"memoo": "typo"})
    assert "memoo" in str(info.value) and not isinstance(info.value, NeedsHumanError)


def test_suiteql_pages_by_offset_then_key(fake: tuple[FakeState, str], tmp_path: Path) -> None:
    state, url = fake
    state.rows = [{"id": str(i), "itemid": f"SKU-{i}"} for i in range(1, 48)]
    c = client_for(url, tmp_path)
    page = c.suiteql_page("SELECT id, itemid FROM item", limit=10, offset=20)
    assert [r["id"] for r in page.items] == [str(i) for i in range(21, 31)] and page.has_more
    assert "links" not in page.items[0] and page.total == 47
    rows = c.suiteql("SELECT id, itemid FROM item", page_size=10, key="id", ceiling=20)
    assert [r["id"] for r in rows] == [str(i) for i in range(1, 48)]
    keyed = [q for m, q in state.requests if "suiteql" in q]
    assert len(keyed) == 1 + 5  # the single page above, then 2+2+1 pages in three key windows
    with pytest.raises(ValueError):
        c.suiteql_page("SELECT id FROM item", limit=10, offset=15)


def test_oauth2_token_is_reused_and_refetched_after_a_401(fake: tuple[FakeState, str], tmp_path: Path) -> None:
    state, url = fake
    c = client_for(url, tmp_path)
    c.get("customer", "1")
    c.get("customer", "2")
    assert state.token_requests == 1
    state.tokens.clear()  # NetSuite revoked it (or it expired early)
    assert c.get("customer", "3") is None
    assert state.token_requests == 2


def test_a_certificate_netsuite_does_not_know_fails_clearly(fake: tuple[FakeState, str], tmp_path: Path) -> None:
    _, url = fake
    c = client_for(url, tmp_path, netsuite_certificate_id="kid-unknown")
    with pytest.raises(ConfigurationError, match="TTNS_NETSUITE_CERTIFICATE_ID"):
        c.get("customer", "1")


def test_tba_realm_is_sent(fake: tuple[FakeState, str], tmp_path: Path) -> None:
    _, url = fake
    c = client_for(url, tmp_path, netsuite_auth="tba", netsuite_consumer_key="ck", netsuite_consumer_secret="cs",
                   netsuite_token_id="ti", netsuite_token_secret="ts", netsuite_account="1234567-sb1")
    assert c.get("customer", "1") is None  # authenticated (404), not 401


def test_governor_keeps_twenty_threads_inside_the_pool(fake: tuple[FakeState, str], tmp_path: Path) -> None:
    state, url = fake
    state.limit, state.hold = 3, 0.01
    c = client_for(url, tmp_path, limit=3)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(3):
                c.upsert("salesOrder", f"TTS-G-{i}-{j}", {"memo": str(j)})
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(state.records["salesOrder"]) == 60
    assert state.peak <= 3 and state.rejected == 0


def test_pool_full_refusals_are_retried_and_shrink_the_governor(fake: tuple[FakeState, str], tmp_path: Path) -> None:
    state, url = fake
    state.limit, state.hold = 2, 0.01  # someone else uses part of the pool: our share of 6 is too big
    gov = Governor(6, shrink_cooldown=0.0, grow_after=3600)
    c = build_client(settings_for(url, tmp_path), governor=gov, retry=RetryPolicy(max_attempts=30, base=0.005,
                                                                                  cap=0.05))
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(3):
                c.upsert("salesOrder", f"TTS-P-{i}-{j}", {"memo": "x"})
                c.restlet("GET", params={"external_ids": f"TTS-P-{i}-{j}"})
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(state.records["salesOrder"]) == 36
    st = gov.stats()
    assert state.rejected > 0 and st.pool_full == state.rejected and st.retries >= state.rejected
    assert st.effective < 6


def test_timeout_after_commit_on_upsert_resolves_by_lookup(fake: tuple[FakeState, str], tmp_path: Path,
                                                           sqlite_url: str) -> None:
    state, url = fake
    container = build(Settings(database_url=sqlite_url), areas=())
    c = client_for(url, tmp_path, calls=container.store.calls, netsuite_timeout_seconds=1.0)
    state.faults.append({"kind": "timeout_after_commit", "method": "PUT"})
    with correlation("cid-upsert-1"), job_scope(42, "order:S:1"):
        result = c.upsert("salesOrder", "TTS-S-T1", {"memo": "once"}, verify=lambda rec: rec.get("memo") == "once")
    assert result.outcome == "resolved" and result.record is not None and result.record["memo"] == "once"
    assert len(state.records["salesOrder"]) == 1
    assert [m for m, q in state.requests if "TTS-S-T1" in q] == ["PUT", "GET"]  # never a second PUT
    calls = container.store.calls.recent(entity="order:S:1")
    assert [(r["operation"], r["outcome"]) for r in reversed(calls)] == [
        ("oauth2.token", "ok"), ("record.upsert salesOrder", "unknown"), ("record.get_eid salesOrder", "ok")]
    assert [r["method"] for r in reversed(calls)] == ["POST", "PUT", "GET"]
    assert all(r["job_id"] == 42 and r["correlation_id"] == "cid-upsert-1" for r in calls)
    container.close()


def test_a_lost_upsert_without_verify_stays_unknown_even_when_found(fake: tuple[FakeState, str],
                                                                     tmp_path: Path) -> None:
    """A PUT by external id may update a record that existed: finding it proves nothing without ``verify``."""
    state, url = fake
    c = client_for(url, tmp_path, netsuite_timeout_seconds=1.0)
    state.faults.append({"kind": "timeout_after_commit", "method": "PUT"})
    with pytest.raises(RetriableError, match="does not say whether this write applied") as info:
        c.upsert("salesOrder", "TTS-S-T3", {"memo": "x"})
    assert info.value.evidence.code == "WRITE_OUTCOME_UNKNOWN"
    assert [m for m, q in state.requests if "TTS-S-T3" in q] == ["PUT", "GET"]  # looked up, never sent again


def test_timeout_before_commit_is_a_retriable_error_not_a_rewrite(fake: tuple[FakeState, str], tmp_path: Path) -> None:
    state, url = fake
    c = client_for(url, tmp_path)
    state.faults.append({"kind": "500", "method": "PUT"})  # refused before anything was written
    with pytest.raises(RetriableError) as info:
        c.upsert("salesOrder", "TTS-S-T2", {"memo": "x"})
    assert not isinstance(info.value, WriteOutcomeUnknown)
    assert [m for m, q in state.requests if "TTS-S-T2" in q] == ["PUT", "GET"]
    assert "salesOrder" not in state.records or not state.records["salesOrder"]


def test_a_lost_create_without_external_id_is_left_to_the_caller(fake: tuple[FakeState, str],
                                                                 tmp_path: Path) -> None:
    state, url = fake
    state.faults.append({"kind": "timeout_after_commit", "method": "POST"})
    with pytest.raises(WriteOutcomeUnknown):
        client_for(url, tmp_path, netsuite_timeout_seconds=1.0).create("customer", {"companyName": "NoEid"})
    assert len(state.records["customer"]) == 1
    state.faults.append({"kind": "timeout_after_commit", "method": "POST"})
    res = client_for(url, tmp_path, netsuite_timeout_seconds=1.0).create("customer", {"companyName": "Eid",
                                                                                  "externalId": "C-T"})
    assert res.outcome == "resolved" and len(state.records["customer"]) == 2


def test_verify_can_refuse_a_resolution(fake: tuple[FakeState, str], tmp_path: Path) -> None:
    state, url = fake
    c = client_for(url, tmp_path)
    c.upsert("salesOrder", "TTS-S-V", {"memo": "old"})
    state.faults.append({"kind": "500", "method": "PUT"})
    with pytest.raises(RetriableError, match="does not show this write"):
        c.upsert("salesOrder", "TTS-S-V", {"memo": "new"}, verify=lambda rec: rec.get("memo") == "new")


def test_batch_restlet_results_and_timeout_resolution(fake: tuple[FakeState, str], tmp_path: Path) -> None:
    state, url = fake
    c = client_for(url, tmp_path, netsuite_timeout_seconds=1.0)
    orders = [{"external_id": f"TTS-B-{i}", "record": {"memo": str(i)}, "record_type": "salesOrder"} for i in range(3)]
    results = c.upsert_orders(orders)
    assert [r.status for r in results] == ["created"] * 3 and all(r.ok for r in results)
    state.faults.append({"kind": "timeout_after_commit", "method": "POST"})
    more = orders + [{"external_id": "TTS-B-3", "record": {}, "record_type": "salesOrder"}]
    # committed, answer lost: the GET by external ids finds all four, which proves no update (three existed):
    # each is unknown, not ok, for the caller to send again
    found = c.upsert_orders(more)
    assert [r.status for r in found] == ["unknown"] * 4 and not any(r.ok for r in found)
    assert all(r.id for r in found) and len(state.records["salesOrder"]) == 4
    posts = [q for m, q in state.requests if m == "POST" and "restlet" in q]
    assert len(posts) == 2
    state.faults.append({"kind": "500", "method": "POST"})  # nothing written, answer is a 5xx
    with pytest.raises(BatchOutcomeUnknown) as info:
        c.upsert_orders([{"external_id": "TTS-B-9", "record": {}}])
    assert [r.status for r in info.value.results] == ["deferred"]
    failed = c.upsert_orders([{"external_id": "TTS-B-F", "record": {"fail": True}}])
    err = failed[0].exception()
    assert isinstance(err, NeedsHumanError) and err.code == "NS_PERIOD_CLOSED" and err.owner == "finance"


def test_lookup_orders_chunks_by_200(fake: tuple[FakeState, str], tmp_path: Path) -> None:
    state, url = fake
    c = client_for(url, tmp_path)
    found = c.lookup_orders([f"X-{i}" for i in range(450)])
    assert len(found) == 450 and set(found.values()) == {None}
    assert len([q for m, q in state.requests if m == "GET" and "restlet" in q]) == 3

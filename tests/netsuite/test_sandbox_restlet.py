"""The batch orders RESTlet (the project's own SuiteScript, run by the sandbox's Node harness)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bridge.errors import FatalError
from bridge.netsuite.client import BatchOutcomeUnknown
from bridge.netsuite.governor import Governor
from tests.netsuite.sandbox_support import MUG, Sandbox, run_threads, running_sandbox


@pytest.fixture(scope="module")
def _sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path_factory.mktemp("netsuite-keys"), run_scripts=True) as sandbox:
        yield sandbox


@pytest.fixture
def ns(_sandbox: Sandbox) -> Sandbox:
    _sandbox.reset()
    return _sandbox


def order(n: int, quantity: int = 1) -> dict[str, Any]:
    return {
        "external_id": f"TTS-S1-R{n}",
        "record_type": "salesOrder",
        "customer": {"externalId": f"TTS-CUST-R{n}", "companyName": f"Buyer {n}"},
        "record": {"item": {"items": [{"item": {"id": MUG}, "quantity": quantity, "rate": "12.50"}]}},
    }


def test_batch_upsert_then_unchanged(ns: Sandbox) -> None:
    c = ns.client()
    first = c.upsert_orders([order(1), order(2)])
    assert [r.status for r in first] == ["created", "created"] and all(r.id and r.customer_id for r in first)
    again = c.upsert_orders([order(1), order(2)])
    assert [r.status for r in again] == ["unchanged", "unchanged"]
    assert [r.id for r in again] == [r.id for r in first]
    assert c.lookup_orders(["TTS-S1-R1", "TTS-S1-R9"]) == {"TTS-S1-R1": first[0].id, "TTS-S1-R9": None}


def test_a_mapping_refusal_is_an_order_result_not_a_batch_failure(ns: Sandbox) -> None:
    bad = {**order(3), "record": {"item": {"items": [{"item": {"externalId": "ITEM-MUG"}, "quantity": 1}]}}}
    results = ns.client().upsert_orders([bad, order(4)])
    assert [r.status for r in results] == ["error", "created"]
    err = results[0].exception()
    assert isinstance(err, FatalError) and "orders[0].record.item.items[0].item" in str(err)


def test_a_timed_out_batch_is_looked_up_and_its_orders_left_unknown(ns: Sandbox) -> None:
    ns.sb.config.faults.timeout_mode = "drop"
    c = ns.client()
    c.lookup_orders(["warm-up"])  # token and harness ready before the fault is armed
    ns.sb.chaos.script_fault({"kind": "timeout_after_commit", "op": "restlet"})
    results = c.upsert_orders([order(5), order(6)])
    # found, which does not say this write applied (an order may have existed): unknown, with its id
    assert [r.status for r in results] == ["unknown", "unknown"] and all(r.id and not r.ok for r in results)
    assert ns.count("transaction", "TTS-S1-R5") == 1 and ns.count("transaction", "TTS-S1-R6") == 1
    counts = ns.sb.counters.snapshot()["counts"]
    assert counts["restlet.restlet"] == 3  # warm-up GET, the POST, the looking-up GET: never a second POST
    again = c.upsert_orders([order(5), order(6)])  # the caller sends them again: they carry it, nothing saved
    assert [r.status for r in again] == ["unchanged", "unchanged"] and [r.id for r in again] == [
        r.id for r in results]


def test_a_batch_update_refused_before_it_applied_is_unknown_not_resolved(ns: Sandbox) -> None:
    """The old client answered ``resolved`` for an order found after a lost batch: an update that never
    applied counted as written."""
    c = ns.client()
    (first,) = c.upsert_orders([order(8)])
    ns.sb.chaos.script_fault({"kind": "5xx", "op": "restlet"})  # refused before anything was written
    (lost,) = c.upsert_orders([order(8, quantity=3)])
    assert lost.status == "unknown" and lost.id == first.id and not lost.ok
    so = c.get("salesOrder", first.id, expand=True)
    assert so is not None and [ln["quantity"] for ln in so["item"]["items"]] == [1]
    (again,) = c.upsert_orders([order(8, quantity=3)])
    assert again.status == "updated"
    so = c.get("salesOrder", first.id, expand=True)
    assert so is not None and [ln["quantity"] for ln in so["item"]["items"]] == [3]


def test_a_batch_refused_before_writing_is_retriable_with_nothing_written(ns: Sandbox) -> None:
    c = ns.client()
    c.lookup_orders(["warm-up"])
    ns.sb.chaos.script_fault({"kind": "5xx", "op": "restlet"})
    with pytest.raises(BatchOutcomeUnknown) as info:
        c.upsert_orders([order(7)])
    assert [r.status for r in info.value.results] == ["deferred"] and info.value.retry_after
    assert ns.count("transaction", "TTS-S1-R7") == 0


def test_restlet_pool_refusals_are_retried(ns: Sandbox) -> None:
    ns.sb.config.latency.scale = 0.1
    ns.sb.pool.set_limit(2)
    c = ns.client(governor=Governor(6, shrink_cooldown=0.05, grow_after=3600))

    def work(i: int) -> None:
        assert c.lookup_orders([f"TTS-S1-L{i}"]) == {f"TTS-S1-L{i}": None}

    assert run_threads(12, work) == []
    counts = ns.sb.counters.snapshot()["counts"]
    assert counts.get("concurrency.rejected.restlet", 0) > 0 and counts["restlet.restlet"] == 12
    assert c.governor.stats().pool_full > 0

"""The account's one concurrency pool across REST, SuiteQL and RESTlets, and the fault knobs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from bridge.sandbox.netsuite.errors import NsError

from .test_netsuite_support import FIXTURE_PROJECT, NS, RECORD, Keys, ns, ns_keys, start

__all__ = ["ns", "ns_keys"]
RESTLET = "/app/site/hosting/restlet.nl"


@pytest.fixture
def ns_scripts(ns_keys: Keys) -> Iterator[NS]:
    yield from start(ns_keys, suitecloud_dir=FIXTURE_PROJECT, run_scripts=True, concurrency_limit=2)


def _code(r: requests.Response) -> Any:
    return r.json()["o:errorDetails"][0]["o:errorCode"]


def test_rest_over_the_limit_is_429_concurrency_limit_exceeded(ns: NS) -> None:
    ns.sb.pool.set_limit(1)
    with ns.sb.pool.slot():  # another integration holds the account's only slot
        r = ns.get(RECORD + "/customer/eid:CUST-TTS")
        q = ns.suiteql("SELECT id FROM customer")
    assert r.status_code == 429 and _code(r) == "CONCURRENCY_LIMIT_EXCEEDED"
    assert q.status_code == 429 and _code(q) == "CONCURRENCY_LIMIT_EXCEEDED"
    assert ns.get(RECORD + "/customer/eid:CUST-TTS").status_code == 200
    counts = ns.sb.counters.snapshot()["counts"]
    assert counts["concurrency.rejected.rest"] == 1 and counts["concurrency.rejected.suiteql"] == 1


def test_restlet_over_the_limit_is_400_sss_request_limit_exceeded(ns_scripts: NS) -> None:
    ns = ns_scripts
    with ns.sb.pool.slot(), ns.sb.pool.slot():
        r = requests.get(
            ns.url + RESTLET,
            params={"script": "customscript_fx_rl", "deploy": "customdeploy_fx_rl"},
            headers=ns.headers,
            timeout=30,
        )
    assert r.status_code == 400
    assert r.json() == {"error": {"code": "SSS_REQUEST_LIMIT_EXCEEDED", "message": "Request limit exceeded."}}


def test_spurious_invalid_login_under_load(ns: NS) -> None:
    ns.sb.pool.set_limit(1)
    ns.sb.config.faults.spurious_invalid_login_rate = 1.0
    with ns.sb.pool.slot():
        r = ns.get(RECORD + "/customer/eid:CUST-TTS")
    assert r.status_code == 401 and _code(r) == "INVALID_LOGIN"


def test_scripted_faults_and_timeout_after_commit(ns: NS) -> None:
    ids = ns.ids()
    ns.sb.chaos.script_fault({"kind": "5xx", "op": "upsert"})
    body = {"entity": {"id": ids["customer"]}, "item": {"items": [{"item": {"id": ids["item"]}, "quantity": 1}]}}
    r = ns.put(RECORD + "/salesOrder/eid:TTS-F-1", body)
    assert r.status_code == 503
    with pytest.raises(NsError):  # a 5xx before the work commits nothing
        ns.sb.get("salesOrder", "eid:TTS-F-1")
    ns.sb.config.faults.hang_seconds = 2.0
    ns.sb.chaos.script_fault({"kind": "timeout_after_commit", "op": "upsert"})
    with pytest.raises(requests.exceptions.Timeout):
        requests.put(ns.url + RECORD + "/salesOrder/eid:TTS-F-1", json=body, headers=ns.headers, timeout=0.5)
    # the write was committed although the client saw a timeout: look it up, never write again
    assert ns.sb.get("salesOrder", "eid:TTS-F-1").data["externalId"] == "TTS-F-1"
    ns.sb.config.faults.timeout_mode = "drop"
    ns.sb.chaos.script_fault({"kind": "timeout_after_commit", "op": "create"})
    with pytest.raises(requests.exceptions.ConnectionError):
        ns.post(RECORD + "/customer", {"companyName": "Dropped Co", "externalId": "DROP-1"})
    assert ns.sb.get("customer", "eid:DROP-1").data["companyName"] == "Dropped Co"


def test_latency_model_and_counters(ns: NS) -> None:
    lat = ns.sb.config.latency
    assert ns.sb.chaos.delay("create", 10) == 0.0  # scale 0: tests run at full speed
    lat.scale, lat.jitter = 1.0, 0.0
    assert ns.sb.chaos.delay("create", 10) == pytest.approx(lat.base["create"] + 10 * lat.per_line)
    lat.scale = 0.0
    ns.get(RECORD + "/customer/eid:CUST-TTS")
    ns.suiteql("SELECT id FROM customer")
    counts = requests.get(ns.url + "/_sandbox/counters", timeout=10).json()["counts"]
    assert counts["rest.get"] >= 1 and counts["suiteql.suiteql"] == 1


def test_a_call_takes_the_modelled_latency_with_the_sandboxs_own_work_inside_it(ns: NS) -> None:
    """The benchmarks' ceiling is concurrency ÷ modelled latency: the sandbox's processing of a call
    (its SuiteQL engine, the SuiteScript it runs) counts within that time, not on top of it."""
    import time

    lat = ns.sb.config.latency
    lat.scale, lat.jitter = 1.0, 0.0
    lat.base["get"] = 0.3
    try:
        for work, expected in ((0.2, 0.3), (0.0, 0.3), (0.45, 0.45)):
            started = time.monotonic()
            with ns.sb.slot("rest", "get"):
                time.sleep(work)  # the sandbox's own processing of the call
            took = time.monotonic() - started
            assert expected - 0.01 <= took < expected + 0.08, (work, took)
    finally:
        lat.scale = 0.0

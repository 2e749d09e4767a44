"""The control API (/_sandbox/…) and the concurrency safety of writes."""

from __future__ import annotations

import threading
from typing import Any

import requests

from .test_netsuite_support import NS, RECORD, ns, ns_keys

__all__ = ["ns", "ns_keys"]


def _post(ns: NS, path: str, body: dict[str, Any]) -> dict[str, Any]:
    r = requests.post(ns.url + "/_sandbox" + path, json=body, timeout=30)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def test_scenario_endpoints(ns: NS) -> None:
    ids = ns.ids()
    receipt = _post(
        ns, "/stock/receive", {"item": ids["item"], "location": ids["location"], "quantity": 6, "unitCost": "3.10"}
    )
    assert receipt["type"] == "itemReceipt"
    sale = _post(
        ns, "/sales/other-channel", {"lines": [{"item": ids["item"], "quantity": 2}], "location": ids["location"]}
    )
    assert set(sale) == {"salesOrder", "itemFulfillment"}
    so = ns.sb.create(
        "salesOrder",
        {
            "entity": {"id": ids["customer"]},
            "location": {"id": ids["location"]},
            "item": {
                "items": [{"item": {"id": ids["item"]}, "quantity": 3}, {"item": {"id": ids["item2"]}, "quantity": 1}]
            },
        },
    ).rec.id
    f = _post(
        ns,
        "/fulfillments",
        {
            "salesOrder": so,
            "lines": [{"orderLine": 1, "quantity": 2}],
            "shipStatus": "B",
            "packages": [{"trackingNumber": "TRK-1", "weight": 2}],
        },
    )
    stock = requests.get(ns.url + "/_sandbox/stock", params={"item": ids["item"]}, timeout=10).json()["items"]
    assert stock[0]["onHand"] == "4"  # packed, not shipped yet: still on hand
    _post(ns, f"/fulfillments/{f['id']}/status", {"shipStatus": "C"})
    stock = requests.get(ns.url + "/_sandbox/stock", params={"item": ids["item"]}, timeout=10).json()["items"]
    assert stock[0] == {**stock[0], "onHand": "2", "committed": "1", "available": "1"}
    _post(ns, f"/sales-orders/{so}/close", {"lines": [1, 2]})
    assert ns.sb.get("salesOrder", so).data["status"]["id"] == "H"
    assert ns.sb.stock_levels(ids["item"])[0]["committed"] == "0"
    view = requests.get(ns.url + f"/_sandbox/records/itemFulfillment/{f['id']}", timeout=10).json()
    assert view["package"]["items"][0]["packageTrackingNumber"] == "TRK-1"
    assert view["shipStatus"]["refName"] == "Shipped"


def test_knobs_periods_clock_and_reset(ns: NS) -> None:
    _post(ns, "/concurrency", {"limit": 7})
    assert ns.sb.pool.limit == 7
    _post(ns, "/latency", {"scale": 0.5, "base": {"create": 0.2}})
    assert ns.sb.config.latency.scale == 0.5 and ns.sb.config.latency.base["create"] == 0.2
    _post(ns, "/latency", {"scale": 0})
    _post(ns, "/faults", {"rate_429": 0.0, "scripted": [{"kind": "429", "op": "get"}]})
    r = ns.get(RECORD + "/customer/eid:CUST-TTS")
    assert r.status_code == 429
    assert ns.get(RECORD + "/customer/eid:CUST-TTS").status_code == 200
    bad = requests.post(ns.url + "/_sandbox/faults", json={"no_such_knob": 1}, timeout=10)
    assert bad.status_code == 400
    _post(ns, "/periods/close", {"period": "2024-01"})
    periods = ns.suiteql("SELECT periodname, closed FROM accountingperiod WHERE id = '2024-01'").json()["items"]
    assert periods == [{"links": [], "periodname": "Jan 2024", "closed": "T"}]
    before = ns.sb.now()
    _post(ns, "/clock/advance", {"seconds": 86400})
    assert (ns.sb.now() - before).days == 1
    _post(ns, "/seed", {"customer": [{"externalId": "SEEDED-1", "companyName": "Seeded"}]})
    assert ns.sb.get("customer", "eid:SEEDED-1")
    _post(ns, "/reset", {})
    assert ns.sb.suiteql("SELECT COUNT(*) n FROM customer WHERE externalid = 'SEEDED-1'")[0][0]["n"] == "0"
    state = requests.get(ns.url + "/_sandbox/state", timeout=10).json()
    assert state["account"] == "TSTDRV123_SB1" and state["records"]["customer"] == 2


def test_concurrent_upserts_of_one_external_id_make_one_record(ns: NS) -> None:
    ids = ns.ids()
    ns.sb.pool.set_limit(8)
    body = {"entity": {"id": ids["customer"]}, "item": {"items": [{"item": {"id": ids["item"]}, "quantity": 1}]}}
    statuses: list[int] = []
    lock = threading.Lock()

    def put() -> None:
        r = ns.put(RECORD + "/salesOrder/eid:TTS-RACE-1", body, params={"replace": "item"})
        with lock:
            statuses.append(r.status_code)

    threads = [threading.Thread(target=put) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses.count(204) >= 1 and all(s in (204, 400) for s in statuses)
    rows = ns.sb.suiteql("SELECT COUNT(*) n FROM transaction WHERE externalid = 'TTS-RACE-1'")[0]
    assert rows[0]["n"] == "1"
    assert len(ns.sb.get("salesOrder", "eid:TTS-RACE-1").lines("item")) == 1


def test_settlement_records_post_balanced_gl(ns: NS) -> None:
    sa = ns.sb.special_accounts
    ids = ns.ids()
    cd = ns.post(
        RECORD + "/customerDeposit", {"customer": {"id": ids["customer"]}, "payment": 30, "externalId": "TTS-CD-1"}
    )
    assert cd.status_code == 204, cd.text
    cd_id = cd.headers["Location"].rsplit("/", 1)[1]
    dep = ns.post(
        RECORD + "/deposit",
        {
            "account": {"id": sa["bank"]},
            "externalId": "TTS-PAYOUT-1",
            "payment": {"items": [{"id": int(cd_id), "deposit": True}]},
            "other": {"items": [{"account": {"id": sa["marketplace_fees"]}, "amount": -2.5}]},
        },
    )
    assert dep.status_code == 204, dep.text
    assert ns.sb.get("customerDeposit", cd_id).data["status"]["id"] == "B"
    gl = ns.suiteql(
        "SELECT SUM(tal.debit) d, SUM(tal.credit) c FROM transactionaccountingline tal "
        "JOIN transaction t ON t.id = tal.transaction WHERE t.externalid = 'TTS-PAYOUT-1'"
    ).json()["items"][0]
    assert gl == {"links": [], "d": "30", "c": "30"}


def test_standalone_config_from_toml(tmp_path: Any, ns_keys: Any, monkeypatch: Any) -> None:
    from bridge.sandbox.netsuite.config import config_from_toml

    from .test_netsuite_support import Keys

    (tmp_path / "cert.pem").write_text(Keys.public_pem(ns_keys.ec))
    monkeypatch.setenv("FX_EVENTS_SECRET", "from-the-environment")
    (tmp_path / "sandbox.toml").write_text(
        'account_id = "1234567-sb1"\nconcurrency_limit = 3\n'
        '[[oauth2_clients]]\nclient_id = "cid"\n[oauth2_clients.certificates]\n"kid-1" = "cert.pem"\n'
        '[api_secrets]\ncustsecret_ttns_events = "env:FX_EVENTS_SECRET"\n[latency]\nscale = 1.0\n'
    )
    cfg = config_from_toml(tmp_path / "sandbox.toml")
    assert cfg.realm == "1234567_SB1" and cfg.concurrency_limit == 3 and cfg.latency.scale == 1.0
    assert cfg.api_secrets["custsecret_ttns_events"] == "from-the-environment"
    assert "BEGIN PUBLIC KEY" in cfg.oauth2_clients[0].certificates["kid-1"]


def test_faults_on_writes_are_counted_apart_from_faults_on_reads(ns: NS) -> None:
    ns.sb.counters.reset()
    _post(ns, "/faults", {"scripted": [{"kind": "429", "op": "get"}, {"kind": "5xx", "op": "create"}]})
    assert ns.get(RECORD + "/customer/eid:CUST-TTS").status_code == 429
    refused = ns.post(RECORD + "/customer", {"companyName": "Faulted", "externalId": "FAULTED-1"})
    assert refused.status_code == 503
    assert ns.sb.suiteql("SELECT COUNT(*) n FROM customer WHERE externalid = 'FAULTED-1'")[0][0]["n"] == "0"
    counts = ns.sb.counters.snapshot()["counts"]
    assert counts["faults.429"] == 1 and counts["faults.5xx"] == 1
    assert counts["faults_on_writes.5xx"] == 1 and "faults_on_writes.429" not in counts


def test_a_scripted_timeout_after_commit_drops_the_connection_in_its_own_mode(ns: NS) -> None:
    ns.sb.counters.reset()
    _post(ns, "/faults", {"timeout_mode": "hang", "scripted": [
        {"kind": "timeout_after_commit", "op": "create", "mode": "drop"}]})
    try:
        answer = ns.post(RECORD + "/customer", {"companyName": "Dropped", "externalId": "DROPPED-1"})
    except requests.ConnectionError:
        pass  # the connection was closed without an answer
    else:
        assert answer.status_code == 502 and not answer.content
    # the write stayed committed; the fault is counted once, as a dropped connection on a write
    assert ns.sb.suiteql("SELECT COUNT(*) n FROM customer WHERE externalid = 'DROPPED-1'")[0][0]["n"] == "1"
    counts = ns.sb.counters.snapshot()["counts"]
    assert counts["faults.timeout_after_commit"] == 1 and counts["faults_on_writes.drop"] == 1
    assert "faults_on_writes.timeout" not in counts

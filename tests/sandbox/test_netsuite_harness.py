"""The SuiteScript harness: the sandbox runs SuiteScript 2.1 (fixture SDF project) in Node —
RESTlets on request, user events on record saves making real signed HTTP calls, Map/Reduce."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask, request

from bridge.serving import BackgroundServer

from .test_netsuite_support import FIXTURE_PROJECT, NS, RECORD, Keys, ns_keys, start, tba_auth

__all__ = ["ns_keys"]
RESTLET = "/app/site/hosting/restlet.nl"
REPO_PROJECT = Path(__file__).resolve().parents[2] / "suitecloud"


class Receiver:
    """A stand-in for the bridge's event endpoint."""

    def __init__(self, status: int = 202) -> None:
        self.status = status
        self.calls: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        app = Flask("receiver")

        @app.post("/events")
        @app.post("/netsuite/events")
        def events() -> tuple[str, int]:
            with self.lock:
                self.calls.append((dict(request.headers), request.get_data()))
            return "", self.status

        self.server = BackgroundServer(app, port=0, name="receiver")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.server.start()
    try:
        yield r
    finally:
        r.server.stop()


@pytest.fixture
def ns_fx(ns_keys: Keys, receiver: Receiver) -> Iterator[NS]:
    yield from start(
        ns_keys,
        suitecloud_dir=FIXTURE_PROJECT,
        run_scripts=True,
        script_parameters={"custscript_fx_url": receiver.server.url},
    )


def _restlet(ns: NS, method: str, body: Any = None, **params: str) -> requests.Response:
    q = {"script": "customscript_fx_rl", "deploy": "customdeploy_fx_rl", **params}
    return requests.request(method, ns.url + RESTLET, params=q, json=body, headers=ns.headers, timeout=60)


def test_restlet_runs_and_reads_parameters_and_runtime(ns_fx: NS) -> None:
    r = _restlet(ns_fx, "GET", shop="7")
    assert r.status_code == 200, r.text
    assert r.json() == {
        "echo": {"shop": "7"},
        "account": "TSTDRV123_SB1",
        "greeting": "hello",
        "limit": 3,
        "context": "RESTLET",
    }
    scripts = requests.get(ns_fx.url + "/_sandbox/scripts", timeout=10).json()["scripts"]
    rl = next(s for s in scripts if s["scriptId"] == "customscript_fx_rl")
    internal = {"script": rl["internalId"], "deploy": rl["deployments"][0]["internalId"]}
    by_internal_id = requests.get(
        ns_fx.url + RESTLET,
        params=internal,
        auth=tba_auth(ns_fx.creds),
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert by_internal_id.status_code == 200 and by_internal_id.json()["greeting"] == "hello"
    assert _restlet(ns_fx, "GET", script="customscript_nope").json()["error"]["code"] == "SSS_INVALID_SCRIPTLET_ID"


def test_restlet_writes_through_n_record_and_queries_through_n_query(ns_fx: NS, receiver: Receiver) -> None:
    ids = ns_fx.ids()
    body = {
        "action": "create_so",
        "customer": ids["customer"],
        "location": ids["location"],
        "externalId": "FX-1",
        "lines": [{"item": ids["item"], "quantity": 3, "rate": 2.5}],
    }
    r = _restlet(ns_fx, "POST", body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["total"] == 7.5 and out["status"] == "Pending Fulfillment" and out["trandate"] is True
    assert out["context"] == "RESTLET"
    assert out["remaining"] == 5000 - 10 - 20 - 10  # create + save + load of a transaction
    so = ns_fx.sb.get("salesOrder", "eid:FX-1")
    assert so.data["tranDate"] == "2024-05-15" and so.data["custbody_fx_note"] == "from-restlet"
    assert so.lines("item")[0]["custcol_fx_ref"] == "ref-0"
    rows = _restlet(
        ns_fx,
        "POST",
        {"action": "query", "query": "SELECT id, externalid FROM transaction WHERE externalid = ?", "params": ["FX-1"]},
    ).json()
    assert rows == [{"id": int(so.id), "externalid": "FX-1"}]


def test_restlet_errors_use_netsuites_restlet_shape(ns_fx: NS) -> None:
    r = _restlet(ns_fx, "POST", {"action": "fail"})
    assert r.status_code == 400 and r.json() == {"error": {"code": "FX_BAD_REQUEST", "message": "nope"}}
    js = _restlet(ns_fx, "POST", {"action": "typeerror"})
    assert js.status_code == 400 and js.json()["error"]["code"] == "JS_EXCEPTION"
    ids = ns_fx.ids()
    burn = _restlet(ns_fx, "POST", {"action": "burn", "customer": ids["customer"]})
    assert burn.status_code == 400 and burn.json()["error"]["code"] == "SSS_USAGE_LIMIT_EXCEEDED"
    assert ns_fx.sb.counters.snapshot()["governance"]["customscript_fx_rl"] >= 5000
    bad_type = requests.post(
        ns_fx.url + RESTLET,
        params={"script": "customscript_fx_rl", "deploy": "customdeploy_fx_rl"},
        data="<x/>",
        headers={**ns_fx.headers, "Content-Type": "application/xml"},
        timeout=30,
    )
    assert bad_type.status_code == 415


def _verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    ts = headers["X-Fx-Timestamp"]
    expected = hmac.new(secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-Fx-Signature"])


def test_user_event_on_fulfillment_posts_a_signed_event(ns_fx: NS, receiver: Receiver) -> None:
    ids = ns_fx.ids()
    ns_fx.sb.receive_stock(ids["item"], ids["location"], 10)
    so = (
        ns_fx.post(
            RECORD + "/salesOrder",
            {
                "entity": {"id": ids["customer"]},
                "location": {"id": ids["location"]},
                "custbody_fx_note": "n-1",
                "item": {"items": [{"item": {"id": ids["item"]}, "quantity": 2, "custcol_fx_ref": "L-9"}]},
            },
        )
        .headers["Location"]
        .rsplit("/", 1)[1]
    )
    r = ns_fx.post(
        RECORD + f"/salesOrder/{so}/!transform/itemFulfillment",
        {"package": {"items": [{"packageTrackingNumber": "1ZFX"}]}},
    )
    assert r.status_code == 204, r.text
    assert len(receiver.calls) == 1
    headers, raw = receiver.calls[0]
    assert _verify(ns_fx.creds.secret, headers, raw)
    event = json.loads(raw)
    assert event["type"] == "create" and event["context"] == "RESTWEBSERVICES"
    assert event["memo"] == "fx-before:RESTWEBSERVICES"  # beforeSubmit changed the record before the save
    assert event["packages"] == ["1ZFX"] and event["lines"] == 1 and event["lineref"] == "L-9"
    assert event["note"] == "n-1" and event["customer"] == "TikTok Shop Customers"
    assert event["salesorder"].startswith("SO") and event["shipstatus"] == "C"
    if_id = r.headers["Location"].rsplit("/", 1)[1]
    assert ns_fx.sb.get("itemFulfillment", if_id).data["memo"] == "fx-before:RESTWEBSERVICES"
    # control API saves run in the UI context
    so2 = ns_fx.sb.other_channel_sale([{"item": ids["item"], "quantity": 1}], location=ids["location"])
    assert json.loads(receiver.calls[-1][1])["context"] == "USERINTERFACE"
    assert so2["itemFulfillment"]
    assert ns_fx.sb.counters.snapshot()["counts"]["scripts.https_calls"] == 2


def test_failed_push_is_recorded_and_the_map_reduce_sweeps_it(ns_fx: NS, receiver: Receiver) -> None:
    ids = ns_fx.ids()
    ns_fx.sb.receive_stock(ids["item"], ids["location"], 5)
    receiver.status = 503
    ns_fx.sb.other_channel_sale([{"item": ids["item"], "quantity": 1}], location=ids["location"])
    logs = ns_fx.sb.suiteql("SELECT id, custrecord_fx_done FROM customrecord_fx_log")[0]
    assert len(logs) == 1 and logs[0]["custrecord_fx_done"] == "F"
    r = requests.post(ns_fx.url + "/_sandbox/mapreduce/run", json={"scriptId": "customscript_fx_mr"}, timeout=60)
    assert r.status_code == 200, r.text
    summary = r.json()["summary"]
    assert summary["inputCount"] == 1 and summary["mapErrors"] == [] and summary["outputCount"] == 1
    assert ns_fx.sb.suiteql("SELECT custrecord_fx_done FROM customrecord_fx_log")[0][0]["custrecord_fx_done"] == "T"
    audit = [e for e in ns_fx.sb.script_log if e.get("title") == "fx sweep"]
    assert audit and audit[-1]["details"] == "done=1 context=MAPREDUCE"


def test_real_project_restlet_upserts_orders_idempotently(ns_keys: Keys) -> None:
    """The SuiteCloud project's own RESTlet runs unmodified."""
    assert (REPO_PROJECT / "src" / "Objects" / "customscript_ttns_rl_orders.xml").is_file()
    for ns in start(ns_keys, suitecloud_dir=REPO_PROJECT, run_scripts=True):
        ids = ns.ids()
        order = {
            "external_id": "TTS-1-900",
            "record": {
                "location": {"id": ids["location"]},
                "custbody_ttns_order_id": "900",
                "item": {"items": [{"item": {"id": ids["item"]}, "quantity": 1, "rate": 12.5}]},
            },
            "customer": {"externalId": "TTS-BUYER-1", "companyName": "Buyer One"},
        }
        q = {"script": "customscript_ttns_rl_orders", "deploy": "customdeploy_ttns_rl_orders"}
        results = []
        for _ in range(2):
            r = requests.post(ns.url + RESTLET, params=q, json={"orders": [order]}, headers=ns.headers, timeout=60)
            assert r.status_code == 200, r.text
            results.append(json.loads(r.text)["results"][0]["status"])
        assert results == ["created", "unchanged"]
        assert ns.sb.get("salesOrder", "eid:TTS-1-900").data["custbody_ttns_order_id"] == "900"


def test_restlet_save_fires_user_events_in_the_same_runtime(ns_fx: NS, receiver: Receiver) -> None:
    ids = ns_fx.ids()
    ns_fx.sb.receive_stock(ids["item"], ids["location"], 5)
    so = ns_fx.sb.create(
        "salesOrder",
        {
            "entity": {"id": ids["customer"]},
            "location": {"id": ids["location"]},
            "item": {"items": [{"item": {"id": ids["item"]}, "quantity": 3}]},
        },
    ).rec.id
    r = _restlet(ns_fx, "POST", {"action": "fulfill", "salesOrder": so, "tracking": "1ZNEST"})
    assert r.status_code == 200, r.text
    event = json.loads(receiver.calls[-1][1])
    assert event["context"] == "RESTLET" and event["packages"] == ["1ZNEST"]
    assert ns_fx.sb.get("salesOrder", so).data["status"]["id"] == "D"  # partially fulfilled: 1 of 3
    assert r.json()["remaining"] == 5000 - 10 - 20  # transform + save; the user event has its own budget


def test_dynamic_mode_subrecords_search_and_small_modules(ns_fx: NS) -> None:
    ids = ns_fx.ids()
    r = _restlet(
        ns_fx,
        "POST",
        {"action": "dynamic", "customer": ids["customer"], "item": ids["item2"], "externalId": "FX-DYN-1"},
    )
    assert r.status_code == 200, r.text
    out = r.json()
    so = ns_fx.sb.get("salesOrder", "eid:FX-DYN-1")
    assert so.data["shippingAddress"]["city"] == "Austin" and so.lines("item")[0]["quantity"] == 4
    assert out["found"] == [{"id": so.id, "tranid": so.data["tranId"], "entity": "TikTok Shop Customers"}]
    assert out["lookup"] == {
        "entity": [{"value": ids["customer"], "text": "TikTok Shop Customers"}],
        "total": 60.0,
        "externalid": "FX-DYN-1",
    }
    assert out["date"] == "1/5/2024" and out["b64"] == "aGk="


def test_real_project_user_event_pushes_a_signed_fulfillment(ns_keys: Keys, receiver: Receiver) -> None:
    """The project's own user event, unmodified: a fulfillment saved in the UI reaches the bridge
    endpoint signed with X-TTNS-Timestamp / X-TTNS-Signature (HMAC over timestamp + "." + body)."""
    assert (REPO_PROJECT / "src" / "Objects" / "customscript_ttns_ue_events.xml").is_file()
    for ns in start(
        ns_keys,
        suitecloud_dir=REPO_PROJECT,
        run_scripts=True,
        script_parameters={"custscript_ttns_bridge_url": receiver.server.url},
    ):
        ids = ns.ids()
        ns.sb.receive_stock(ids["item"], ids["location"], 4)
        so = ns.sb.create(
            "salesOrder",
            {
                "entity": {"id": ids["customer"]},
                "location": {"id": ids["location"]},
                "custbody_ttns_order_id": "5770000001",
                "custbody_ttns_shop_id": "7001",
                "item": {
                    "items": [{"item": {"id": ids["item"]}, "quantity": 2, "custcol_ttns_line_item_ids": "a1,a2"}]
                },
            },
        ).rec.id
        receiver.calls.clear()
        ns.sb.fulfill(so, packages=[{"trackingNumber": "1ZREAL"}])
        events = {}
        for headers, raw in receiver.calls:
            ts = headers["X-Ttns-Timestamp"]
            expected = hmac.new(ns.creds.secret.encode(), ts.encode() + b"." + raw, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(expected, headers["X-Ttns-Signature"])
            body = json.loads(raw)
            events[body["type"]] = body
        assert set(events) >= {"item_fulfillment.saved", "inventory.changed"}, list(events)
        data = events["item_fulfillment.saved"]["data"]
        assert data["tiktok_order_id"] == "5770000001" and data["packages"][0]["tracking_number"] == "1ZREAL"
        assert data["lines"][0]["tiktok_line_item_ids"] == "a1,a2" and data["lines"][0]["sku"] == "MUG-001"


def test_scripts_follow_the_sandbox_clock(ns_fx: NS, receiver: Receiver) -> None:
    ids = ns_fx.ids()
    ns_fx.sb.receive_stock(ids["item"], ids["location"], 2)
    ns_fx.sb.advance_clock(7200)
    ns_fx.sb.other_channel_sale([{"item": ids["item"], "quantity": 1}], location=ids["location"])
    sent = int(receiver.calls[-1][0]["X-Fx-Timestamp"])
    assert abs(sent - ns_fx.sb.epoch()) < 60  # two hours ahead of the wall clock, like the account


def test_n_https_refuses_plain_http_unless_the_knob_allows_it(ns_keys: Keys, receiver: Receiver) -> None:
    """NetSuite's N/https requests HTTPS URLs only; ``https_allow_http`` (the tests and the demo set
    it by name, their bridge listens on loopback over HTTP) relaxes that."""
    for ns in start(ns_keys, suitecloud_dir=FIXTURE_PROJECT, run_scripts=True, https_allow_http=False,
                    script_parameters={"custscript_fx_url": receiver.server.url}):
        ids = ns.ids()
        ns.sb.receive_stock(ids["item"], ids["location"], 5)
        ns.sb.other_channel_sale([{"item": ids["item"], "quantity": 1}], location=ids["location"])
        assert receiver.calls == []  # nothing left the account
        assert ns.sb.counters.snapshot()["counts"].get("scripts.https_calls", 0) == 0
        logs = ns.sb.suiteql("SELECT id, custrecord_fx_done FROM customrecord_fx_log")[0]
        assert len(logs) == 1 and logs[0]["custrecord_fx_done"] == "F"  # recorded as a failed push
        assert "SSS_INVALID_URL" in json.dumps(ns.sb.script_log)

"""End to end: an item fulfillment saved in the NetSuite sandbox runs the project's real user event
script (Node harness), which POSTs a signed event to the bridge's ``/netsuite/events`` over HTTP;
the event lands in the inbox exactly once — also when the bridge's answer is lost and the
Map/Reduce sweep delivers the same event again."""

from __future__ import annotations

import io
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.wrappers import Request

from bridge.bootstrap import App, build
from bridge.netsuite.client import NetSuiteClient
from bridge.sandbox.netsuite import ExecContext
from bridge.sandbox.netsuite.harness import sb_run_map_reduce
from bridge.serving import BackgroundServer
from bridge.settings import Settings
from bridge.store.repos import InboxEvent
from bridge.web import create_app
from tests.netsuite.sandbox_support import MUG, TTS_CUSTOMER, Sandbox, running_sandbox

pytestmark = pytest.mark.e2e

SECRET = secrets.token_hex(24)
PUSH = "customrecord_ttns_push"


@dataclass
class Tap:
    """WSGI middleware in front of the bridge: records each event POST's (type, status) and can
    hold back the answer to the next fulfillment event."""

    app: Callable[..., Iterable[bytes]]
    seen: list[tuple[str, str]] = field(default_factory=list)
    delay_next_fulfillment: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != "/netsuite/events":
            return self.app(environ, start_response)
        raw = Request(environ).get_data()  # Node sends it chunked: let werkzeug read it
        environ.update({"wsgi.input": io.BytesIO(raw), "CONTENT_LENGTH": str(len(raw)), "wsgi.input_terminated": False})
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        try:
            kind = str(json.loads(raw).get("type"))
        except ValueError:
            kind = "?"
        statuses: list[str] = []

        def spy(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            statuses.append(status)
            return start_response(status, headers, exc_info)

        body = list(self.app(environ, spy))  # the bridge has committed and answered by now
        delay = 0.0
        with self.lock:
            self.seen.append((kind, statuses[0] if statuses else "?"))
            if kind == "item_fulfillment.saved":
                delay, self.delay_next_fulfillment = self.delay_next_fulfillment, 0.0
        if delay:
            time.sleep(delay)  # ... but the answer reaches SuiteScript too late
        return body

    def statuses(self, kind: str = "item_fulfillment.saved") -> list[str]:
        with self.lock:
            return [status for k, status in self.seen if k == kind]


@dataclass
class World:
    ns: Sandbox
    bridge_url: str
    container: App
    tap: Tap
    client: NetSuiteClient

    def fulfillment_events(self) -> list[InboxEvent]:
        return [e for e in self.container.store.inbox.recent(source="netsuite", limit=1000)
                if e.topic == "item_fulfillment.saved"]


@pytest.fixture
def world(tmp_path: Path, sqlite_url: str) -> Iterator[World]:
    container = build(Settings(database_url=sqlite_url, netsuite_events_secret=SECRET,
                               netsuite_account="1234567_SB1", environment="test"), areas=())
    tap = Tap(create_app(root=container))
    with BackgroundServer(tap, name="bridge") as bridge, running_sandbox(
        tmp_path, run_scripts=True,
        script_parameters={"custscript_ttns_bridge_url": bridge.url, "custscript_ttns_mr_bridge_url": bridge.url},
        api_secrets={"custsecret_ttns_events": SECRET},
        https_total_timeout_seconds=2.0,
    ) as ns:
        yield World(ns, bridge.url, container, tap, ns.client())
    container.close()


def tiktok_order(w: World, order_id: str) -> str:
    """A TikTok order as the bridge writes it: REST upsert by external id (its user events see a bridge write)."""
    body = {
        "entity": {"id": TTS_CUSTOMER},
        "custbody_ttns_order_id": order_id,
        "custbody_ttns_shop_id": "S1",
        "item": {"items": [{"item": {"id": MUG}, "quantity": 2, "rate": Decimal("12.50"),
                            "custcol_ttns_line_item_ids": f"{order_id}-L1,{order_id}-L2"}]},
    }
    return w.client.upsert("salesOrder", f"TTS-S1-{order_id}", body).id


def ship(w: World, so_id: str, tracking: str) -> str:
    """A warehouse person ships it in the NetSuite UI (control API, USERINTERFACE context)."""
    resp = requests.post(f"{w.ns.url}/_sandbox/fulfillments", timeout=30,
                         json={"salesOrder": so_id, "packages": [{"trackingNumber": tracking, "weight": "1.2"}]})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["id"])


def test_a_shipped_fulfillment_lands_in_the_inbox_exactly_once(world: World) -> None:
    so_id = tiktok_order(world, "5761")
    fid = ship(world, so_id, "1Z999AA10123456784")
    (event,) = world.fulfillment_events()
    envelope = json.loads(event.body)
    assert envelope["account"] == "1234567_SB1" and envelope["type"] == "item_fulfillment.saved"
    data = envelope["data"]
    assert data["fulfillment_id"] == fid and data["sales_order_id"] == so_id
    assert (data["tiktok_shop_id"], data["tiktok_order_id"]) == ("S1", "5761")
    assert [p["tracking_number"] for p in data["packages"]] == ["1Z999AA10123456784"]
    assert [line["tiktok_line_item_ids"] for line in data["lines"]] == ["5761-L1,5761-L2"]
    assert event.entity == "order:S1:5761" and event.shop_id == "S1"
    assert world.tap.statuses() == ["202 ACCEPTED"]
    assert not [r for r in world.ns.sb.store.all(PUSH)]  # delivered at once: nothing queued for retry


def test_a_lost_answer_is_delivered_again_by_the_sweep_and_still_lands_once(world: World) -> None:
    so_id = tiktok_order(world, "5762")
    world.tap.delay_next_fulfillment = 2.8  # past the 2 s total timeout the harness applies to N/https
    fid = ship(world, so_id, "9400111899223100000000")
    assert len(world.fulfillment_events()) == 1  # the bridge committed the event...
    (push,) = world.ns.sb.store.all(PUSH)  # ...but SuiteScript never saw the answer: it queued a retry
    assert push.data["custrecord_ttns_push_status"] == "pending"
    # the retry is due in 5 minutes; make it due now (advancing the sandbox clock would also age the
    # script's signature timestamps past the bridge's 5-minute window, as it would in NetSuite)
    world.ns.sb.update(PUSH, push.id, {"custrecord_ttns_push_next_at": "2000-01-01T00:00:00.000Z"},
                       ExecContext(context_type="USERINTERFACE"))
    sb_run_map_reduce(world.ns.sb, "customscript_ttns_mr_sweep")
    events = world.fulfillment_events()
    assert len(events) == 1 and json.loads(events[0].body)["data"]["fulfillment_id"] == fid
    assert world.tap.statuses() == ["202 ACCEPTED", "200 OK"]  # the second delivery was recognised
    assert world.ns.sb.get(PUSH, push.id).data["custrecord_ttns_push_status"] == "sent"
    sb_run_map_reduce(world.ns.sb, "customscript_ttns_mr_sweep")  # nothing left to send
    assert len(world.fulfillment_events()) == 1 and len(world.tap.statuses()) == 2


def test_a_forged_event_is_refused_and_not_stored(world: World) -> None:
    body = json.dumps({"event_id": "if:forged", "type": "item_fulfillment.saved", "account": "1234567_SB1",
                       "occurred_at": "2026-11-22T10:00:00Z", "data": {}})
    ts = str(int(time.time()))
    resp = requests.post(f"{world.bridge_url}/netsuite/events", data=body, timeout=10,
                         headers={"Content-Type": "application/json", "X-TTNS-Timestamp": ts,
                                  "X-TTNS-Signature": "0" * 64})
    assert resp.status_code == 401 and world.container.store.inbox.find("netsuite", "if:forged") is None

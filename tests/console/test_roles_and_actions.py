"""Roles enforced on the server, the console's actions (sync now, edit and retry, re-run a monitor,
users) with their audit trail, and the states the pages must tell truthfully."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from html import unescape
from typing import Any

import pytest

from bridge.bootstrap import App
from bridge.domain.keys import order_key
from bridge.flows import monitoring
from bridge.mapping.orders import ItemRef
from bridge.web import create_app
from tests.console.conftest import _CSRF, PASSWORD, SHOP, Console, Orders, login
from tests.support.tiktok_orders import order, unit


def _as(container: App, username: str, role: str) -> Console:
    container.store.users.add(username, PASSWORD, role)
    app = create_app(root=container)
    client = app.test_client()
    assert login(client, username, PASSWORD).status_code == 303
    return Console(container, app, client, container.settings)


def _token(con: Console) -> str:
    m = _CSRF.search(con.client.get("/console/").get_data(as_text=True))
    assert m
    return m.group(1)


def _world(con: Console) -> Orders:
    w = Orders(con.container)
    con.use(w.c)  # the pages and monitors see the fakes too
    w.place("576", "MUG")
    w.webhook("576")
    w.place("577", "NEW-SKU", "9.00")  # not in NetSuite: an exception for ops
    w.webhook("577")
    assert w.drain() == 2
    return w


def _exception(c: App) -> Any:
    (exc,) = c.store.exceptions.list(status="open")
    return exc


def test_a_viewer_reads_every_page_but_every_action_answers_403_and_is_audited(console: Console) -> None:
    _world(console)
    c = console.container
    exc = _exception(c)
    viewer = _as(c, "vera", "viewer")
    for path in ("/console/", "/console/exceptions", f"/console/exceptions/{exc.id}", "/console/orders",
                 f"/console/orders/{SHOP}/576", "/console/monitors", "/console/flows/orders", "/console/audit",
                 "/console/settlement", "/console/inventory", "/console/connections"):
        assert viewer.client.get(path).status_code == 200, path
    page = viewer.client.get(f"/console/exceptions/{exc.id}").get_data(as_text=True)
    assert 'data-action="replay"' not in page and "can read, not act" in page  # no buttons for a viewer …
    token = _token(viewer)
    queued = c.store.queue.counts()
    actions = [f"/console/exceptions/{exc.id}/replay", f"/console/exceptions/{exc.id}/resolve",
               f"/console/exceptions/{exc.id}/ignore", "/console/exceptions/bulk", f"/console/exceptions/{exc.id}/edit",
               f"/console/orders/{SHOP}/576/sync", "/console/monitors/run", "/console/settlement/ST1/repost",
               "/console/users", "/console/users/ops/remove", "/connect/tiktok/start"]
    for path in actions:  # … and the server refuses the request anyway
        resp = viewer.client.post(path, data={"csrf_token": token, "ids": [str(exc.id)], "action": "resolve",
                                              "payload": "{}", "username": "vera", "role": "admin"})
        assert resp.status_code == 403, path
    api = viewer.client.post(f"/api/console/exceptions/{exc.id}/resolve", json={"note": "x"},
                             headers={"X-CSRF-Token": token})
    assert api.status_code == 403 and "operator" in api.get_json()["error"]
    for path in ("/console/users", "/connect/tiktok"):
        assert viewer.client.get(path).status_code == 403, path
    assert _exception(c).status == "open" and c.store.queue.counts() == queued
    assert c.store.users.get("vera").role == "viewer"  # type: ignore[union-attr]
    refused = [a for a in c.store.audit.list(limit=100) if a["action"] == "auth.forbidden"]
    assert len(refused) == len(actions) + 3 and all(a["actor"] == "user:vera" for a in refused)
    assert {a["detail"]["needs"] for a in refused} == {"operator", "admin"}


def test_an_operator_acts_on_the_work_but_cannot_manage_users_or_connections(console: Console) -> None:
    w = _world(console)
    c = console.container
    exc = _exception(c)
    op = _as(c, "otto", "operator")
    token = _token(op)
    w.netsuite.items["NEW-SKU"] = ItemRef("105")
    assert op.client.post(f"/console/exceptions/{exc.id}/replay", data={"csrf_token": token}).status_code == 303
    assert w.drain() == 1 and _exception_status(c, exc.id) == "resolved"
    for path in ("/console/users", "/console/users/ops/remove", "/connect/tiktok/start"):
        assert op.client.post(path, data={"csrf_token": token, "username": "x", "role": "admin"}).status_code == 403
    assert op.client.get("/console/users").status_code == 403
    assert "otto" in op.html("/console/") and 'href="/console/users"' not in op.html("/console/")


def _exception_status(c: App, exc_id: int) -> str:
    got = c.store.exceptions.get(exc_id)
    assert got is not None
    return got.status


def test_an_admin_manages_users_in_the_console_and_every_change_is_in_the_audit_log(console: Console) -> None:
    c = console.container  # "ops" is an admin (users from before roles were admins)
    assert console.post("/console/users", {"username": "fin", "password": "short", "role": "viewer"}).status_code == 400
    assert console.post("/console/users", {"username": "fin", "role": "viewer"}).status_code == 400  # needs a password
    created = console.post("/console/users", {"username": "fin", "password": PASSWORD, "role": "viewer"})
    assert created.status_code == 303
    assert c.store.users.get("fin").role == "viewer"  # type: ignore[union-attr]
    assert console.post("/console/users", {"username": "fin", "role": "operator"}).status_code == 303
    assert c.store.users.get("fin").role == "operator"  # type: ignore[union-attr]
    assert console.post("/console/users", {"username": "ops", "role": "viewer"}).status_code == 409  # the last admin
    assert console.post("/console/users/ops/remove").status_code == 409  # not yourself
    fin = create_app(root=c).test_client()
    assert login(fin, "fin", PASSWORD).status_code == 303
    assert console.post("/console/users/fin/remove").status_code == 303
    assert c.store.users.get("fin") is None and fin.get("/console/").status_code == 302  # session gone at once
    page = console.html("/console/users")
    assert 'data-user="ops"' in page and 'data-user="fin"' not in page
    audit = console.html("/console/audit")
    for action in ("user.created", "user.changed", "user.removed"):
        assert action in audit
    rows = [a for a in c.store.audit.list(limit=50) if a["action"].startswith("user.")]
    assert {a["actor"] for a in rows} == {"user:ops"}
    changed = next(a for a in rows if a["action"] == "user.changed")
    assert changed["detail"] == {"role": "operator", "from_role": "viewer", "password_set": False}


def test_edit_a_failed_payload_then_retry_keeps_the_original_beside_the_edit(console: Console) -> None:
    w = _world(console)
    c = console.container
    exc = _exception(c)
    form = console.html(f"/console/exceptions/{exc.id}/edit")
    assert '"order_id": "577"' in unescape(form)
    queued = c.store.queue.counts().get("queued", 0)
    assert console.post(f"/console/exceptions/{exc.id}/edit", {"payload": "{not json"}).status_code == 400
    assert console.post(f"/console/exceptions/{exc.id}/edit", {"payload": "[1, 2]"}).status_code == 400
    assert c.store.queue.counts().get("queued", 0) == queued  # a refused edit queues nothing
    edited = {**exc.job_payload, "order_id": "578"}  # the webhook named the wrong order; TikTok knows 578
    w.place("578", "MUG")
    resp = console.post(f"/console/exceptions/{exc.id}/edit", {"payload": json.dumps(edited)})
    assert resp.status_code == 303
    assert w.drain() == 1
    assert c.store.links.get("order", SHOP, "578").netsuite_id  # type: ignore[union-attr]
    after = c.store.exceptions.get(exc.id)
    assert after is not None and after.status == "resolved"  # the edited retry succeeded
    assert after.job_payload["order_id"] == "577"  # the original stays on the exception
    (entry,) = [a for a in c.store.audit.list(entity=exc.entity) if a["action"] == "exception.replay"]
    assert entry["actor"] == "user:ops" and entry["detail"]["payload_edited"] is True
    assert entry["detail"]["original_payload"]["order_id"] == "577"
    assert entry["detail"]["edited_payload"]["order_id"] == "578"
    page = unescape(console.html(f"/console/exceptions/{exc.id}"))
    assert "Original input" in page and "Edited input (retried)" in page and '"578"' in page


def test_sync_now_queues_the_order_and_the_page_shows_tiktoks_current_status(console: Console) -> None:
    w = _world(console)
    c = console.container
    link = c.store.links.get("order", SHOP, "576")
    assert link is not None and link.data["tiktok_status"] == "AWAITING_SHIPMENT"
    # the order shipped and was fulfilled in NetSuite; TikTok then completed it
    c.store.links.upsert(replace(link, data={**link.data, "fulfilled": True}))
    w.tiktok.put(SHOP, order("576", [unit("576-1", "MUG", "12.50", status="COMPLETED")], status="COMPLETED",
                             update_time=1760009999))
    resp = console.post(f"/console/orders/{SHOP}/576/sync")
    assert resp.status_code == 303
    assert c.store.queue.counts() and w.drain() == 1
    assert c.store.links.get("order", SHOP, "576").data["tiktok_status"] == "COMPLETED"  # type: ignore[union-attr]
    html = console.html(f"/console/orders/{SHOP}/576")
    assert 'id="tiktok-status"><span class="pill">COMPLETED</span>' in html
    assert any(a["action"] == "order.sync_now" and a["actor"] == "user:ops"
               for a in c.store.audit.list(entity=order_key(SHOP, "576")))


def test_a_newer_webhook_status_shows_before_the_sync_reads_it(console: Console) -> None:
    from bridge.web.ingest import ingest

    _world(console)
    c = console.container
    body = json.dumps({"type": 1, "tts_notification_id": "n-late", "shop_id": SHOP, "timestamp": 1760050000,
                       "data": {"order_id": "576", "order_status": "IN_TRANSIT", "update_time": 1760050000}}).encode()
    ingest(c, source="tiktok", event_id="n-late", topic="1", body=body, shop_id=SHOP, entity=order_key(SHOP, "576"))
    html = console.html(f"/console/orders/{SHOP}/576")
    status = html[html.index('id="tiktok-status"'):html.index("</dd>", html.index('id="tiktok-status"'))]
    assert "IN_TRANSIT" in status and "from TikTok's event" in status and "2025-10-09" in status
    listed = console.html("/console/orders")  # the list follows the same rule
    row = listed[listed.index('data-order="576"'):]
    row = row[:row.index("</tr>")]
    assert "IN_TRANSIT" in row and "(event)" in row and "AWAITING_SHIPMENT" not in row


def test_the_orders_list_reads_every_rows_events_in_one_query(console: Console) -> None:
    from sqlalchemy import event

    from bridge.web.ingest import ingest

    w = _world(console)
    c = console.container
    for n in range(3):
        w.place(f"60{n}", "MUG")
        w.webhook(f"60{n}")
    w.drain()
    for n, status in enumerate(("IN_TRANSIT", "DELIVERED")):
        body = json.dumps({"type": 1, "tts_notification_id": f"n-{n}", "shop_id": SHOP, "timestamp": 1760050000 + n,
                           "data": {"order_id": f"60{n}", "order_status": status}}).encode()
        ingest(c, source="tiktok", event_id=f"n-{n}", topic="1", body=body, shop_id=SHOP,
               entity=order_key(SHOP, f"60{n}"))
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "inbox" in statement:
            seen.append(statement)

    event.listen(c.store.engine, "before_cursor_execute", count)
    try:
        listed = console.html("/console/orders")
    finally:
        event.remove(c.store.engine, "before_cursor_execute", count)
    rows = {m.group(1): m.group(2) for m in re.finditer(r'data-order="(\d+)">(.*?)</tr>', listed, re.S)}
    assert "IN_TRANSIT" in rows["600"] and "DELIVERED" in rows["601"] and "AWAITING_SHIPMENT" in rows["602"]
    # the unlinked-orders list and every row's newest events: two reads of the inbox, whatever the rows
    assert len(seen) == 2 and sum("row_number" in s.lower() for s in seen) == 1, seen


def test_unknown_order_and_correlation_ids_answer_404(console: Console) -> None:
    _world(console)
    assert console.client.get(f"/console/orders/{SHOP}/999999").status_code == 404
    assert console.client.get("/console/orders/1/576").status_code == 404  # the order of another shop
    assert console.client.get("/console/trace/no-such-id").status_code == 404
    assert console.client.get(f"/console/orders/{SHOP}/576").status_code == 200


def test_an_expected_not_found_is_not_an_api_error(console: Console) -> None:
    c = console.container
    c.store.calls.record(system="netsuite", operation="record.get_eid salesOrder", method="GET",
                         path="/record/v1/salesOrder/eid:TTS-1", status=404, code="NONEXISTENT_ID", duration_ms=40,
                         outcome="not_found")
    c.store.calls.record(system="netsuite", operation="record.upsert salesOrder", method="PUT",
                         path="/record/v1/salesOrder/eid:TTS-2", status=400, code="USER_ERROR", duration_ms=40,
                         outcome="fatal")
    metrics = console.client.get("/metrics").get_data(as_text=True)
    errors = [ln for ln in metrics.splitlines() if ln.startswith("ttns_api_errors_total")]
    assert len(errors) == 1 and 'status="400"' in errors[0] and errors[0].endswith(" 1.0")
    dash = console.html("/console/")
    row = dash[dash.index("API calls (last hour)"):dash.index("Inbound events")]
    cells = re.findall(r'<td class="num[^"]*" data-label="[^"]*">([^<]*)</td>', row)
    assert cells[:2] == ["2", "1"]  # two calls, one error (the 404 lookup is an answer)
    assert "NONEXISTENT_ID" not in row and "USER_ERROR" in row


@pytest.fixture
def inventory_flow() -> dict[str, Any]:
    """The inventory flow's documented measurement (``drift``), with nothing drifting."""
    return {"drift": []}


def test_inventory_says_not_evaluated_yet_until_its_monitor_ran(console: Console,
                                                                inventory_flow: dict[str, Any]) -> None:
    class Inventory:
        def drift(self, **kw: Any) -> list[dict[str, Any]]:
            return list(inventory_flow["drift"])

    c = console.container
    mon = replace(c.flows.monitoring, inventory=Inventory())
    console.use(replace(c, flows=replace(c.flows, monitoring=mon)))
    before = console.html("/console/inventory")
    assert "Not evaluated yet" in before and "No drift" not in before
    mon.evaluate(alert=False, only=["inventory_drift"])
    after = console.html("/console/inventory")
    assert "No drift" in after and "Not evaluated yet" not in after


def test_rerun_one_monitor_and_the_flow_history(console: Console) -> None:
    w = _world(console)
    w.settle()  # the document-number read of the new sales order, due a second later, is a run of the flow too
    c = console.container
    assert console.post("/console/monitors/run", {"only": "nope"}).status_code == 400
    assert console.post("/console/monitors/run", {"only": "exceptions_open"}).status_code == 303
    assert w.drain() == 1
    assert set(monitoring.latest_readings(c.store)) == {"exceptions_open"}
    assert any(a["action"] == "monitoring.run" and a["detail"].get("only") == "exceptions_open"
               for a in c.store.audit.list(entity="monitor:exceptions_open"))
    page = console.html("/console/flows/orders")
    assert "<strong>3</strong> runs, <strong>2</strong> done" in page and 'id="flow-chart"' in page
    runs = page[page.index('id="flow-runs"'):]
    assert "order 576" in runs and "order 577" in runs and "needs_human" in runs
    assert console.client.get("/console/flows/nosuchflow").status_code == 404


def test_the_document_number_is_read_right_after_creation_one_call_for_many(console: Console) -> None:
    w = _world(console)
    c = console.container
    link = c.store.links.get("order", SHOP, "576")
    assert link is not None and "tranid" not in link.data
    before = console.html(f"/console/orders/{SHOP}/576")
    assert f"Sales order (internal id {link.netsuite_id})" in before  # never an internal id posing as the number
    for n in range(4):  # more orders created in the same second share the read
        w.place(f"58{n}", "MUG")
        w.webhook(f"58{n}")
    assert w.drain() == 4
    w.settle()
    assert w.netsuite.calls["document_numbers"] == 1  # one read served all five new sales orders
    for oid in ("576", "580", "583"):
        got = c.store.links.get("order", SHOP, oid)
        assert got is not None and got.data["tranid"] == f"SO{got.netsuite_id}"
    html = console.html(f"/console/orders/{SHOP}/576")
    assert f">Sales order SO{link.netsuite_id}</a>" in html
    assert f"Sales order SO{link.netsuite_id}" in console.html("/console/orders")
    # a later update still follows NetSuite (a person may renumber the document)
    w.netsuite.records[link.external_id]["record"]["tranId"] = "SO-RENUMBERED"
    w.tiktok.put(SHOP, order("576", [unit("576-1", "MUG", "12.50"), unit("576-2", "CAP", "8.00")],
                             update_time=1760005000))
    w.webhook("576")
    assert w.settle() == 1 and w.netsuite.calls["document_numbers"] == 1
    assert c.store.links.get("order", SHOP, "576").data["tranid"] == "SO-RENUMBERED"  # type: ignore[union-attr]

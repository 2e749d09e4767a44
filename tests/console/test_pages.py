"""Console pages with real data: exceptions inbox and its actions, the order timeline, the empty and
"not configured" states, pagination, and that no secret ever reaches a page."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from html import unescape

from bridge.alerts import Alert, Alerter
from bridge.domain.keys import order_key
from bridge.flows import monitoring
from bridge.store.tables import exceptions as exceptions_table
from bridge.web.console import LEAKS_KEY, scrub, secret_values
from tests.console.conftest import SHOP, Console, Orders
from tests.support.specs import sandbox_specs_dir


def _world(console: Console) -> Orders:
    w = Orders(console.container)
    console.use(w.c)  # the pages and monitors see the fakes too
    w.place("576", "MUG")
    w.webhook("576")
    w.place("577", "NEW-SKU", "9.00")  # not in NetSuite: an exception for ops
    w.webhook("577")
    assert w.drain() == 2
    c = console.container
    c.store.calls.record(system="tiktok", operation="order.detail", method="GET",
                         path="/order/202507/orders?ids=576&access_token=tok-secret-in-url", status=200,
                         duration_ms=87, outcome="ok", request_id="req-1", entity=order_key(SHOP, "576"))
    c.flows.monitoring.evaluate(alert=False)
    Alerter(c.store.engine, c.settings, channels=[]).fire(
        Alert(key="monitor:queue_stalled", title="Stalled jobs: 3 jobs", severity="critical", value=Decimal(3),
              threshold=Decimal(0), path="/console/monitors#queue_stalled"))
    return w


def test_no_page_ever_shows_a_configured_secret(console: Console) -> None:
    w = _world(console)
    c = console.container
    (exc,) = c.store.exceptions.list(status="open")
    pages = ["/console/", "/console/?partial=1", "/console/connections", "/console/exceptions",
             "/console/exceptions?status=all", f"/console/exceptions/{exc.id}", "/console/orders",
             f"/console/orders/{SHOP}/576", f"/console/orders/{SHOP}/577", "/console/inventory",
             "/console/settlement", "/console/monitors", "/console/specs", "/connect/tiktok",
             "/api/console/summary", "/api/console/exceptions", "/metrics"]
    timeline = console.html(f"/console/orders/{SHOP}/576")
    cids = set(re.findall(r"/console/trace/([0-9a-f]+)", timeline))
    assert cids
    pages += [f"/console/trace/{cid}" for cid in cids]
    values = secret_values(console.settings)
    assert len(values) >= 8  # both Fernet keys, the list, and every other secret setting
    values += [w.access_token, w.refresh_token, "should-never-show", "tok-secret-in-url"]
    for path in pages:
        resp = console.client.get(path)
        assert resp.status_code == 200, path
        body = resp.get_data(as_text=True)
        for v in values:
            assert v not in body, f"{path} shows a secret"
    assert console.app.extensions.get(LEAKS_KEY, 0) == 0  # the last-resort scrubber never had to act


def test_the_scrubber_catches_a_secret_a_bug_would_show(console: Console) -> None:
    secret = console.settings.tiktok_app_secret.get_secret_value()  # type: ignore[union-attr]
    c = console.container
    with c.store.engine.begin() as conn:  # a bug writes the secret where redaction cannot see it
        conn.execute(exceptions_table.insert().values(
            code="BUG", owner="admin", status="open", title=f"oops {secret}", fix_hint="", evidence={}, entity="",
            fingerprint="bug", occurrences=1, replays=0, first_seen=c.clock.now(), last_seen=c.clock.now(),
            correlation_id=""))
    html = console.html("/console/exceptions")
    assert secret not in html and "oops [redacted]" in html
    assert console.app.extensions[LEAKS_KEY] >= 1
    assert scrub("a SECRET b", ["SECRET"]) == ("a [redacted] b", 1)


def test_exceptions_are_grouped_by_owner_with_evidence_hint_and_actions(console: Console) -> None:
    c = console.container
    c.store.exceptions.raise_(code="CLOSED_PERIOD", owner="finance", title="Period Oct 2025 is closed",
                              fix_hint="Reopen the period or post to the next one, then retry.",
                              evidence={"system": "netsuite", "body": "Period closed", "token": "t0k"},
                              entity="statement:77")
    c.store.exceptions.raise_(code="UNKNOWN_SKU", owner="ops", title="SKU NEW-SKU is not in NetSuite",
                              fix_hint="Create the item or map it in orders.yaml items.overrides.",
                              entity=order_key(SHOP, "900"))
    html = console.html("/console/exceptions")
    ops, finance = html.index('id="owner-ops"'), html.index('id="owner-finance"')
    assert ops < finance
    assert "Period Oct 2025 is closed" in html[finance:] and "SKU NEW-SKU" in html[ops:finance]
    assert "Reopen the period" in html and "Evidence" in html and "Period closed" in html and "t0k" not in html
    assert html.count('data-action="resolve"') == 2 and html.count('data-action="ignore"') == 2
    assert 'data-action="replay"' not in html  # no job behind these: nothing to retry, only resolve / ignore
    assert f'href="/console/orders/{SHOP}/900"' in html
    only_fin = console.html("/console/exceptions?owner=finance")
    assert "Period Oct 2025" in only_fin and "SKU NEW-SKU" not in only_fin


def test_retry_replays_the_job_and_heals_the_exception_after_the_fix(console: Console) -> None:
    w = _world(console)
    c = console.container
    (exc,) = c.store.exceptions.list(status="open")
    assert exc.code == "UNKNOWN_SKU" and exc.owner == "ops"
    from bridge.mapping.orders import ItemRef

    w.netsuite.items["NEW-SKU"] = ItemRef("555")  # ops creates the item in NetSuite
    resp = console.post(f"/console/exceptions/{exc.id}/replay", {"next": "/console/exceptions"})
    assert resp.status_code == 303 and resp.headers["Location"] == "/console/exceptions"
    flash = console.html("/console/exceptions")
    assert f"Exception #{exc.id} replayed as job" in flash
    assert w.drain() == 1
    assert c.store.exceptions.get(exc.id).status == "resolved"  # type: ignore[union-attr]
    assert c.store.links.get("order", SHOP, "577").netsuite_id  # type: ignore[union-attr]
    audit = [a for a in c.store.audit.list() if a["action"] == "exception.replay"]
    assert audit and audit[0]["actor"] == "user:ops"


def test_resolve_ignore_and_bulk_actions(console: Console) -> None:
    c = console.container
    ids = [c.store.exceptions.raise_(code=f"C{i}", owner="admin", title=f"problem {i}", entity=f"x:{i}")
           for i in range(4)]
    assert console.post(f"/console/exceptions/{ids[0]}/resolve", {"note": "fixed by hand"}).status_code == 303
    assert console.post(f"/console/exceptions/{ids[1]}/ignore").status_code == 303
    e0, e1 = c.store.exceptions.get(ids[0]), c.store.exceptions.get(ids[1])
    assert e0 and e0.status == "resolved" and e0.resolution == "fixed by hand" and e0.resolved_by == "user:ops"
    assert e1 and e1.status == "ignored"
    again = console.post(f"/console/exceptions/{ids[0]}/resolve")
    assert again.status_code == 303 and "already resolved" in console.html("/console/exceptions")
    resp = console.post("/console/exceptions/bulk", {"ids": [str(ids[2]), str(ids[3])], "action": "resolve"})
    assert resp.status_code == 303
    assert {c.store.exceptions.get(i).status for i in ids[2:]} == {"resolved"}  # type: ignore[union-attr]
    assert console.post("/console/exceptions/bulk", {"ids": ["x"], "action": "resolve"}).status_code == 400
    assert console.post("/console/exceptions/999999/resolve").status_code == 303  # flashed, not a 500
    assert console.post(f"/console/exceptions/{ids[2]}/explode").status_code == 404
    history = {a["action"] for a in c.store.audit.list()}
    assert {"exception.resolve", "exception.ignore"} <= history


def test_exceptions_are_paginated(console: Console) -> None:
    c = console.container
    for i in range(60):
        c.store.exceptions.raise_(code="MANY", owner="ops", title=f"item {i:02d}", entity=f"e:{i}")
    first = console.html("/console/exceptions")
    assert first.count('class="exception"') == 50 and "Page 1 of 2" in first and 'rel="next"' in first
    second = console.html("/console/exceptions?page=2")
    assert second.count('class="exception"') == 10 and 'rel="prev"' in second
    assert console.client.get("/console/exceptions?page=0").status_code == 400


def test_order_timeline_joins_webhooks_jobs_attempts_and_calls(console: Console) -> None:
    _world(console)
    c = console.container
    html = console.html(f"/console/orders/{SHOP}/576")
    kinds = re.findall(r'data-kind="(\w+)"', html)
    assert {"webhook", "job", "attempt", "call"} <= set(kinds)
    assert kinds.index("webhook") < kinds.index("job") < kinds.index("attempt")
    assert "order.detail" in html and "req-1" in html and "access_token=***" in html
    assert "should-never-show" not in html and '"access_token": "***"' in unescape(html)
    assert "synced" in html
    link = c.store.links.get("order", SHOP, "576")
    assert link is not None and link.netsuite_id
    # the business view: shop by name, the NetSuite document with a deep link, the lines and totals with currency
    assert "Demo shop" in html
    assert (f'href="https://1234567-sb1.app.netsuite.com/app/accounting/transactions/salesord.nl?id={link.netsuite_id}"'
            in html)
    lines = html[html.index('id="order-lines"'):html.index('id="order-totals"')]
    assert "MUG" in lines and "12.50&nbsp;USD" in lines
    # the timeline in words, the raw JSON only behind a toggle
    assert "TikTok: order status changed to AWAITING_SHIPMENT" in html
    assert "Queued: sync the order to NetSuite" in html and "Sync the order to NetSuite: done" in html
    assert "topic 1" not in html and '<details id="raw">' in html
    ev = c.store.inbox.recent(entity=order_key(SHOP, "576"))[0]
    trace = console.html(f"/console/trace/{ev.correlation_id}")
    assert "orders.sync" in trace and "order status changed" in trace
    failing = console.html(f"/console/orders/{SHOP}/577")
    assert "UNKNOWN_SKU" in failing and "no record in NetSuite yet" in failing


def test_orders_page_lists_synced_orders_and_finds_one(console: Console) -> None:
    _world(console)
    html = console.html("/console/orders")
    assert 'data-order="576"' in html and "12.50" in html
    assert "577" in html  # heard about, not synced: linked to its timeline
    found = console.html("/console/orders?q=576")
    assert 'data-order="576"' in found
    none = console.html("/console/orders?q=123456")
    assert "No synced or waiting order matches" in none


def test_dashboard_shows_flows_monitors_and_exceptions(console: Console) -> None:
    _world(console)
    html = console.html("/console/")
    assert 'id="flow-orders"' in html and 'id="monitor-orders_missing"' in html
    assert "Operations" in html and "SKU" in html
    assert "tiktok" in html  # API calls of the last hour
    partial = console.html("/console/?partial=1")
    assert "<html" not in partial and 'id="flow-orders"' in partial
    summary = console.client.get("/api/console/summary").get_json()
    assert summary["exceptions_open"] == {"ops": 1} and summary["alerts_firing"] == 1
    assert summary["flows"]["orders"]["open_exceptions"] == 1
    assert set(summary["monitors"]) == set(monitoring.MONITORS)


def test_connections_show_shops_countdowns_and_netsuite_without_secrets(console: Console) -> None:
    console.use(Orders(console.container).c)
    html = console.html("/console/connections")
    assert 'data-shop="7494049642642441621"' in html and "Demo shop" in html
    assert re.search(r'class="countdown[^"]*" data-expires="[^"]+">\s*(5|6) d', html)
    assert 'action="/connect/tiktok/start"' in html and "Connect a TikTok Shop" in html
    assert "1234567_SB1" in html and "Token-based (TBA)" in html and "token secret: set" in html


def test_areas_not_set_up_say_so(console: Console) -> None:
    c = console.container  # built without the settlement and inventory areas
    assert "settlement" not in c.areas and "inventory" not in c.areas
    mon = replace(c.flows.monitoring, fulfillment=None, totals=None)  # nor fulfillment, nor the NetSuite totals
    console.use(replace(c, flows=replace(c.flows, monitoring=mon)))
    assert "settlement: not configured" in console.html("/console/settlement")
    assert "settlement: not configured" in console.html("/console/settlement/ST1")
    assert "inventory: not configured" in console.html("/console/inventory")
    console.container.flows.monitoring.evaluate(alert=False)
    mon = console.html("/console/monitors")
    assert "settlement: not configured" in mon and "fulfillment: not configured" in mon
    assert "inventory: not configured" in mon and "needs the NetSuite totals reader" in mon


def test_specs_page_renders_every_loaded_spec(console: Console) -> None:
    html = console.html("/console/specs")
    assert 'id="spec-orders"' in html and 'id="spec-monitoring"' in html
    assert "renotify_minutes: 240" in html and "record_type: salesOrder" in html
    assert "fingerprint" in html


def test_monitors_page_and_run_now(console: Console) -> None:
    _world(console)
    html = console.html("/console/monitors")
    assert 'id="orders_missing"' in html and "Stalled jobs: 3 jobs" in html and "<svg" in html
    resp = console.post("/console/monitors/run")
    assert resp.status_code == 303
    assert any(j == "monitoring.run" for j in _queued_kinds(console))


def _queued_kinds(console: Console) -> list[str]:
    from sqlalchemy import select

    from bridge.store.tables import jobs

    with console.container.store.engine.connect() as conn:
        return [r[0] for r in conn.execute(select(jobs.c.kind).where(jobs.c.status == "queued"))]


def test_json_api_validates_and_acts(console: Console) -> None:
    c = console.container
    exc_id = c.store.exceptions.raise_(code="X", owner="finance", title="needs a look", entity="statement:9",
                                       evidence={"password": "p4ss", "body": "ok"})
    page = console.client.get("/api/console/exceptions?owner=finance").get_json()
    assert page["total"] == 1 and page["items"][0]["evidence"]["password"] == "***"
    assert console.client.get("/api/console/exceptions?owner=boss").status_code == 400
    assert console.client.get("/api/console/exceptions?page=0").status_code == 400
    token = {"X-CSRF-Token": console.csrf()}
    assert console.client.post("/api/console/exceptions/999/resolve", json={}, headers=token).status_code == 404
    assert console.client.post(f"/api/console/exceptions/{exc_id}/replay", json={}, headers=token).status_code == 409
    ok = console.client.post(f"/api/console/exceptions/{exc_id}/ignore", json={"note": "dup"}, headers=token)
    assert ok.status_code == 200 and c.store.exceptions.get(exc_id).status == "ignored"  # type: ignore[union-attr]


def test_specs_page_shows_problems_and_the_specs_that_load(console: Console, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    specs = tmp_path / "specs"
    specs.mkdir()
    shutil.copy(sandbox_specs_dir() / "orders.yaml", specs)
    (specs / "monitoring.yaml").write_text("version: 1\nmonitors:\n  exceptions_open:\n    after_minute: 5\n")
    console.use(console.container.with_settings(specs_dir=specs))  # the web process loads the specs again
    html = unescape(console.html("/console/specs"))
    assert "monitoring.yaml: monitors.exceptions_open.after_minute: unknown key" in html
    assert "did you mean 'after_minutes'?" in html and 'id="spec-orders"' in html


def test_specs_page_lists_the_placeholders_left(console: Console) -> None:
    from tests.support.specs import SHIPPED_SPECS

    console.use(console.container.with_settings(specs_dir=SHIPPED_SPECS))
    html = unescape(console.html("/console/specs"))
    assert "mapping_specs/orders.yaml: defaults.subsidiary: placeholder not filled in" in html
    assert "fix: replace it with the subsidiary that sells on TikTok Shop" in html and 'id="spec-settlement"' in html

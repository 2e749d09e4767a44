"""Every console page and action in headless Chromium at three widths (desktop 1400 px, a small
laptop 1024 px, a phone 390 px): no horizontal scroll in the main tables, labelled controls, text
contrast, keyboard access, roles refused on the server, unknown ids answered 404. One browser for the
session, one seeded server for the module, one logged-in context per user and width (logged in once
per user); nothing sleeps: every wait is on a condition. A full-page screenshot of each step goes to
``test-artifacts/console/<width>/`` (gitignored; ``TTNS_SCREENSHOTS`` overrides the directory).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bridge.bootstrap import App, build
from bridge.domain.keys import order_key
from bridge.mapping.settlement import Amount, ReportLine, ReportPosting, SettlementReport
from bridge.serving import BackgroundServer
from bridge.web import create_app
from tests.browser.conftest import screenshot
from tests.console.conftest import PASSWORD, SHOP, NoNetSuiteTotals, Orders, console_settings
from tests.support.databases import fresh_sqlite
from tests.support.tiktok_orders import order, unit

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
WIDTHS = (1400, 1024, 390)
D = Decimal


def _shots(width: int) -> Path:
    base = Path(os.environ.get("TTNS_SCREENSHOTS") or ROOT / "test-artifacts" / "console")
    out = base / str(width)
    out.mkdir(parents=True, exist_ok=True)
    return out


def _statement() -> SettlementReport:
    return SettlementReport(
        kind="statement", shop_id=SHOP, id="ST-7001", statement_id="ST-7001", payment_id="PAY-9", statement_ids=(
            "ST-7001",), currency="USD", date="2026-12-06", status="posted", gross_sales=D("1250.00"),
        seller_discounts=D("-50.00"), refunds=D("-25.00"), revenue=D("1175.00"), shipping=D("-30.00"),
        fees=D("-96.40"), taxes=D("-12.00"), adjustments=D("5.00"), unexplained=D("0.00"), settlement=D("1041.60"),
        reserve=D("0.00"), payable=D("1041.60"), payout=None, variance=D("0.00"), order_variance=D("0.00"), lines=14,
        orders_matched=12, orders_unmatched=1, adjustments_matched=1, adjustments_unmatched=0, failed_checks=0,
        components={}, fee_lines=(Amount("fee.commission", "Referral fee", D("-78.40")),
                                  Amount("fee.transaction", "Transaction fee", D("-18.00"))),
        adjustment_lines=(Amount("adj.logistics", "Logistics reimbursement", D("5.00")),),
        unmatched=(ReportLine("T-14", "order", "576999", "unmatched", D("12.00"), note="no sales order"),),
        postings=(ReportPosting("journal", "TTS-ST-7001", "4411", D("1041.60"), "posted", "2026-12-06"),))


@dataclass
class Site:
    url: str
    container: App
    orders: Orders


@pytest.fixture(scope="module")
def site(_sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = fresh_sqlite(_sqlite_template, tmp_path_factory.mktemp("console-layout"))
    c = build(console_settings(url), areas=("system", "orders", "monitoring"))
    c = c.with_ports(netsuite_totals=NoNetSuiteTotals())
    report = _statement()
    payout = replace(report, kind="payment", id="PAY-9", payout=D("1041.60"), postings=(
        ReportPosting("deposit", "TTS-PAY-9", "4412", D("1041.60"), "posted", "2026-12-07"),))

    class Settlement:  # the settlement flow's reports, as the pages read them
        def report(self, **kw: Any) -> Any:
            return report if "ST-7001" in kw.values() else payout if "PAY-9" in kw.values() else None

        def list_reports(self, **kw: Any) -> list[Any]:
            return [report] if kw.get("kind") != "payment" else [payout]

    class LedgerAudit:
        def verdict(self, kind: str, shop: str, ident: str) -> dict[str, Any]:
            return {"ok": True, "at": "2026-12-07T03:00:00+00:00", "difference": "0.00", "findings": []}

    class Inventory:  # the inventory flow's documented measurement, nothing drifting
        def drift(self, **kw: Any) -> list[dict[str, Any]]:
            return []

    for name, role in (("ada", "admin"), ("otto", "operator"), ("vera", "viewer")):
        c.store.users.add(name, PASSWORD, role)
    w = Orders(c)
    mon = replace(w.c.flows.monitoring, settlement=Settlement(), inventory=Inventory())
    c = replace(w.c, areas=(*w.c.areas, "settlement"), flows=replace(
        w.c.flows, settlement=Settlement(), ledger_audit=LedgerAudit(), monitoring=mon))
    shipped = unit("576-1", "MUG", "24.00", seller="2.00", tax="1.82", name="Stoneware mug 12 oz")
    shipped.update({"package_id": "PK-1", "tracking_number": "1Z999AA10123456784",
                    "shipping_provider_name": "UPS", "package_status": "SHIPPED"})
    w.tiktok.put(SHOP, order("576", [shipped, unit("576-2", "CAP", "18.00", name="Logo cap")], shipping="4.99"))
    w.webhook("576")
    w.place("577", "NEW-SKU", "9.00")  # an exception for ops
    w.webhook("577")
    w.place("578", "CAP", "18.00")
    w.webhook("578")
    w.settle()  # the syncs, then the read of the new sales orders' document numbers a second later
    # an expected "not found yet" lookup is an answer, not an API error
    c.store.calls.record(system="netsuite", operation="record.get_eid salesOrder", method="GET",
                         path="/record/v1/salesOrder/eid:TTS-1", status=404, code="NONEXISTENT_ID", duration_ms=40,
                         outcome="not_found")
    # TikTok says 578 is in transit; no sync has read it yet (the list and the page show the newer event)
    body = json.dumps({"type": 1, "tts_notification_id": "n-578-transit", "shop_id": SHOP, "timestamp": 1900000000,
                       "data": {"order_id": "578", "order_status": "IN_TRANSIT", "update_time": 1900000000}})
    c.store.inbox.record("tiktok", "n-578-transit", body.encode(), topic="1", shop_id=SHOP,
                         entity=order_key(SHOP, "578"))
    with BackgroundServer(create_app(root=c), port=0, name="console-layout") as server:
        try:
            yield Site(server.url, c, w)
        finally:
            c.close()


@pytest.fixture(scope="module")
def pages(browser: Any, site: Site) -> Iterator[Any]:
    """``pages(width, user)``: a page logged in as ``user`` at ``width``, made once for the module (each
    user logs in once; the other widths reuse the session cookie)."""
    made: dict[tuple[int, str], Any] = {}
    states: dict[str, Any] = {}

    def get(width: int, user: str) -> Any:
        if (width, user) not in made:
            ctx = browser.new_context(viewport={"width": width, "height": 900 if width > 500 else 800},
                                      storage_state=states.get(user))
            page = ctx.new_page()
            page.set_default_timeout(10000)
            if user not in states:
                _login(page, site, user)
                states[user] = ctx.storage_state()
            made[(width, user)] = page
        return made[(width, user)]

    try:
        yield get
    finally:
        for page in made.values():
            page.context.close()


def _login(page: Any, site: Site, user: str) -> None:
    page.goto(site.url + "/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#login")
    page.wait_for_url(site.url + "/console/")


def _page(browser: Any, site: Site, width: int, user: str) -> Any:
    """A fresh context for a user made during the test (its own login)."""
    ctx = browser.new_context(viewport={"width": width, "height": 900 if width > 500 else 800})
    page = ctx.new_page()
    page.set_default_timeout(10000)
    _login(page, site, user)
    return page


_LAYOUT = """() => {
  const vw = document.documentElement.clientWidth;
  const wide = [];
  for (const t of document.querySelectorAll('main table')) {
    const r = t.getBoundingClientRect();
    if (r.right > vw + 1 || t.scrollWidth > t.clientWidth + 1) {
      wide.push((t.id || t.className || 'table') + ':' + Math.round(r.right));
    }
  }
  const unlabelled = [];
  for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
    if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label')) unlabelled.push(el.name || el.id);
  }
  function rgb(s) { const m = s.match(/[\\d.]+/g); return m ? m.map(Number) : [0, 0, 0, 0]; }
  function lum(c) {
    const a = c.slice(0, 3).map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2];
  }
  function bg(el) { for (let e = el; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
    if (c.length < 4 || c[3] > 0.5) return c; } return [255, 255, 255]; }
  const poor = [];
  const texts = 'main a, main td, main th, main p, main dd, main dt, main label, main button, main span, main li, '
    + 'header a';
  for (const el of document.querySelectorAll(texts)) {
    if (!el.offsetParent || !el.textContent.trim() || el.closest('svg') || el.closest('.sr-only')) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const st = getComputedStyle(el);
    const l1 = lum(rgb(st.color)), l2 = lum(bg(el));
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(st.fontSize);
    const large = size >= 24 || (size >= 18.66 && parseInt(st.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      poor.push(el.tagName + '.' + el.className + ' "' + el.textContent.trim().slice(0, 30) + '" ' + ratio.toFixed(2));
    }
  }
  const over = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.right > vw + 1 && ![...el.children].some(ch => ch.getBoundingClientRect().right > vw + 1)) {
      over.push(el.tagName + '.' + el.className + '#' + el.id + ':' + Math.round(r.right));
    }
  }
  return {scroll: document.documentElement.scrollWidth - vw, wide, unlabelled, poor: poor.slice(0, 10),
          over: over.slice(0, 8)};
}"""


def _check(page: Any, width: int, name: str) -> None:
    screenshot(page, _shots(width) / f"{name}.png")
    got = page.evaluate(_LAYOUT)
    assert got["scroll"] <= 0, f"{name} at {width}px scrolls sideways by {got['scroll']}px: {got['over']}"
    assert got["wide"] == [], f"{name} at {width}px: tables wider than the screen {got['wide']}"
    assert got["unlabelled"] == [], f"{name} at {width}px: controls without a label {got['unlabelled']}"
    assert got["poor"] == [], f"{name} at {width}px: text below WCAG AA contrast {got['poor']}"


PAGES = {
    "dashboard": "/console/",
    "exceptions": "/console/exceptions",
    "orders": "/console/orders",
    "order": f"/console/orders/{SHOP}/576",
    "order-failing": f"/console/orders/{SHOP}/577",
    "flow-orders": "/console/flows/orders",
    "inventory": "/console/inventory",
    "settlement": "/console/settlement",
    "statement": "/console/settlement/ST-7001",
    "payout": "/console/settlement/payout/PAY-9",
    "monitors": "/console/monitors",
    "connections": "/console/connections",
    "specs": "/console/specs",
    "users": "/console/users",
    "audit": "/console/audit",
    "settings": "/console/settings",
}


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_fits_is_labelled_and_readable(pages: Any, site: Site, width: int) -> None:
    from playwright.sync_api import expect

    page = pages(width, "ada")
    for name, path in PAGES.items():
        page.goto(site.url + path)
        expect(page.locator("h1")).to_be_visible()
        _check(page, width, name)
    exc = site.container.store.exceptions.list(status="open")[0]
    page.goto(site.url + f"/console/exceptions/{exc.id}")
    _check(page, width, "exception")
    page.goto(site.url + f"/console/exceptions/{exc.id}/edit")
    _check(page, width, "exception-edit")


UNKNOWN = {
    "order": f"/console/orders/{SHOP}/999999",
    "order-other-shop": "/console/orders/1/576",
    "exception": "/console/exceptions/999999",
    "statement": "/console/settlement/ST-NOPE",
    "flow": "/console/flows/nosuchflow",
    "trace": "/console/trace/no-such-id",
}


@pytest.mark.parametrize("width", WIDTHS)
def test_unknown_ids_answer_404_with_a_page_that_says_so(pages: Any, site: Site, width: int) -> None:
    from playwright.sync_api import expect

    page = pages(width, "vera")
    for name, path in UNKNOWN.items():
        resp = page.goto(site.url + path)
        assert resp is not None and resp.status == 404, (name, resp and resp.status)
        expect(page.locator("h1")).to_contain_text("No such")
    _check(page, width, "not-found")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_order_page_reads_like_the_order(pages: Any, site: Site, width: int) -> None:
    from playwright.sync_api import expect

    page = pages(width, "vera")
    link = site.container.store.links.get("order", SHOP, "576")
    assert link is not None and link.netsuite_id and link.data.get("tranid")
    page.goto(site.url + f"/console/orders/{SHOP}/576")
    expect(page.locator("h1")).to_have_text("Order 576")
    facts = page.locator("#order-facts")
    expect(facts).to_contain_text("Demo shop")
    doc = page.locator("#netsuite-doc a")
    expect(doc).to_have_attribute(
        "href", f"https://1234567-sb1.app.netsuite.com/app/accounting/transactions/salesord.nl?id={link.netsuite_id}")
    expect(doc).to_have_text(f"Sales order {link.data['tranid']}")  # the document number, known since creation
    lines = page.locator("#order-lines")
    expect(lines).to_contain_text("MUG")
    expect(lines).to_contain_text("Stoneware mug 12 oz")
    expect(lines).to_contain_text("2.00")  # the seller discount
    expect(lines).to_contain_text("1.82")  # the tax
    expect(page.locator("#order-totals")).to_contain_text("USD")
    expect(page.locator("#order-totals .grand").last).to_contain_text("46.81")  # 24 - 2 + 18 + 4.99 + 1.82
    expect(page.locator("#shipments")).to_contain_text("UPS")
    expect(page.locator("#shipments")).to_contain_text("1Z999AA10123456784")
    expect(page.locator("#timeline")).to_contain_text("TikTok: order status changed to AWAITING_SHIPMENT")
    expect(page.locator("#timeline")).to_contain_text("Sync the order to NetSuite: done")
    raw = page.locator("#raw pre")
    expect(raw).to_be_hidden()  # the raw JSON only behind the toggle
    page.locator("#raw summary").click()
    expect(raw).to_be_visible()
    expect(page.locator("#sync-now")).to_have_count(0)  # a viewer has no action buttons
    _check(page, width, "order-viewer")
    # true states: the inventory monitor has not run; the expected 404 lookup is no API error
    page.goto(site.url + "/console/inventory")
    expect(page.locator("#drift-verdict")).to_contain_text("Not evaluated yet")
    page.goto(site.url + "/console/")
    expect(page.locator("#apis")).not_to_contain_text("NONEXISTENT_ID")
    expect(page.locator("#apis tr", has_text="netsuite").locator('td[data-label="Errors"]')).to_have_text("0")
    # the orders list: document numbers, and TikTok's newest status even before a sync read it
    page.goto(site.url + "/console/orders")
    expect(page.locator('tr[data-order="576"]')).to_contain_text(f"Sales order {link.data['tranid']}")
    moving = page.locator('tr[data-order="578"]')
    expect(moving).to_contain_text("IN_TRANSIT")
    expect(moving).to_contain_text("(event)")
    when = page.locator('tr[data-order="576"] time')  # absolute time with its zone, and how long ago
    expect(when).to_contain_text(" UTC ")
    expect(when).to_contain_text(" ago)")
    page.goto(site.url + f"/console/orders/{SHOP}/578")
    expect(page.locator("#tiktok-status")).to_contain_text("IN_TRANSIT")
    expect(page.locator("#tiktok-status")).to_contain_text("from TikTok's event")
    # the statement page: grouped like a statement, currency, the ledger audit's verdict, a chart with axes
    page.goto(site.url + "/console/settlement/ST-7001")
    expect(page.locator("#variance")).to_contain_text("Reconciled")
    statement = page.locator("#statement")
    expect(statement.locator("tr.group-title")).to_have_count(5)
    expect(statement).to_contain_text("Referral fee")
    expect(statement.locator("tr.subtotal", has_text="Net settlement")).to_contain_text("1,041.60")
    expect(page.locator("#postings")).to_contain_text("journal 4411")
    page.goto(site.url + "/console/settlement/payout/PAY-9")
    expect(page.locator("h1")).to_contain_text("PAY-9")
    expect(page.locator("#statement tr.subtotal", has_text="Paid to the bank")).to_contain_text("1,041.60")
    expect(page.locator("#statement")).to_contain_text("USD")
    expect(page.locator("#postings")).to_contain_text("deposit 4412")
    _check(page, width, "payout-viewer")
    page.goto(site.url + "/console/settlement")
    chart = page.locator("figure svg.chart")
    expect(chart.locator("text.unit")).to_have_text("USD")
    assert chart.locator("text.tick").count() >= 3
    expect(chart.locator("text.value")).to_have_text(["1,041.60"])
    expect(page.locator("#statements")).to_contain_text("Demo shop")


@pytest.mark.parametrize("width", WIDTHS)
def test_operator_actions_in_the_browser(pages: Any, site: Site, width: int) -> None:
    from playwright.sync_api import expect

    c, w = site.container, site.orders
    oid = f"9{width}"
    w.place(oid, "NEW-SKU", "9.00")
    w.webhook(oid)
    w.drain()
    (exc,) = [e for e in c.store.exceptions.list(status="open") if e.entity == order_key(SHOP, oid)]
    page = pages(width, "otto")
    # sync this order now
    page.goto(site.url + f"/console/orders/{SHOP}/576")
    page.click("#sync-now")
    expect(page.locator(".flash.ok")).to_contain_text("queued to sync now")
    _check(page, width, "action-sync-now")
    assert w.drain() >= 1
    # edit the failed payload (the webhook named an order TikTok does not have; the right one is known)
    fixed = f"8{width}"
    w.place(fixed, "MUG")
    page.goto(site.url + f"/console/exceptions/{exc.id}")
    page.click("#edit-payload")
    page.fill("#payload", "{not json")
    page.click("#retry-edited")
    expect(page.locator("#payload-error")).to_contain_text("not valid JSON")
    page.fill("#payload", json.dumps({**exc.job_payload, "order_id": fixed}))
    _check(page, width, "action-edit-payload")
    page.click("#retry-edited")
    expect(page.locator(".flash.ok")).to_contain_text("edited payload")
    assert w.drain() == 1
    page.reload()
    expect(page.locator("#history")).to_contain_text("Original input")
    expect(page.locator("#history")).to_contain_text("Edited input (retried)")
    expect(page.locator("h1 .pill")).to_have_text("resolved")
    _check(page, width, "action-edit-history")
    # re-run one monitor
    page.goto(site.url + "/console/monitors")
    page.click('button[data-monitor="exceptions_open"]')
    expect(page.locator(".flash.ok")).to_contain_text("Exceptions waiting monitor runs")
    w.drain()  # a re-run within 10 s of the previous width's is the same job (a double click queues once)
    assert _monitor_runs(c, "exceptions_open") >= 1
    # re-post a statement
    page.goto(site.url + "/console/settlement/ST-7001")
    page.click("#repost")
    expect(page.locator("p.flash.ok[role=status]")).to_contain_text("queued to post again")
    queued = [a for a in c.store.audit.list(entity=f"statement:{SHOP}:ST-7001") if a["action"] == "settlement.repost"]
    assert queued and queued[0]["actor"] == "user:otto"
    # the run history of the orders flow: counts, latency, the runs of this width's orders
    page.goto(site.url + "/console/flows/orders")
    expect(page.locator("#flow-chart")).to_be_visible()
    runs = page.locator("#flow-runs tr", has_text=f"order {oid}")  # the failed run, then the edited retry
    expect(runs.locator(".pill.needs_human").first).to_be_visible()
    expect(runs.locator(".pill.ok").first).to_be_visible()
    assert page.locator("table").first.locator("td[data-label=p50]").count() >= 1
    _check(page, width, "action-run-history")
    # the audit log shows who did what
    page.goto(site.url + "/console/audit?actor=user:otto")
    for what in ("order.sync_now", "exception.replay", "monitoring.run", "settlement.repost"):
        expect(page.locator("#audit")).to_contain_text(what)
    _check(page, width, "action-audit")
    # an operator does not manage users nor settings: the server answers 403 even to a hand-made request
    token = page.locator("input[name=csrf_token]").first.input_value()
    resp = page.request.post(site.url + "/console/users", form={"username": "x", "role": "admin"},
                             headers={"X-CSRF-Token": token})
    assert resp.status == 403
    resp = page.request.post(site.url + f"/console/settings/shops/{SHOP}/flows", form={"flow-orders": "on"},
                             headers={"X-CSRF-Token": token})
    assert resp.status == 403
    expect(page.locator('nav a[href="/console/settings"]')).to_have_count(0)
    assert page.goto(site.url + "/console/settings").status == 403
    expect(page.locator("h1")).to_have_text("Not allowed")


@pytest.mark.parametrize("width", WIDTHS)
def test_admin_settings_change_a_shop_and_check_the_specs(pages: Any, site: Site, width: int) -> None:
    from playwright.sync_api import expect

    c = site.container
    page = pages(width, "ada")
    page.goto(site.url + "/console/settings")
    expect(page.locator("h1")).to_have_text("Settings")
    body = page.locator("main").inner_text()
    for secret in ("tiktok_app_secret", "netsuite_token_secret", "smtp_password", "metrics_token"):
        assert getattr(c.settings, secret).get_secret_value() not in body
        expect(page.locator(f'tr[data-setting="{secret}"] td[data-label="Value"]')).to_have_text("set")
    expect(page.locator('tr[data-setting="netsuite_account"]')).to_contain_text("1234567_SB1")
    shop = page.locator(f'section[data-shop="{SHOP}"]')
    expect(shop.locator("tr", has_text="Time zone documents are dated in")).to_contain_text("settlement.yaml")
    expect(shop.locator("tr", has_text="Hold window, minutes")).to_contain_text("orders.yaml defaults.hold_minutes")
    expect(shop.locator("tr", has_text="Sold-out strategy")).to_contain_text("inventory.yaml")
    _check(page, width, "settings")
    # switch the shop's returns off, then on again: both changes audited, the database holds the switch
    returns = shop.locator('input[name="flow-returns"]')
    expect(returns).to_be_checked()
    returns.uncheck()
    shop.locator("button[type=submit]").click()
    expect(page.locator(".flash.ok")).to_contain_text("returns off")
    got = c.store.shops.get(SHOP)
    assert got is not None and not got.flow_enabled("returns") and got.flow_enabled("orders")
    shop = page.locator(f'section[data-shop="{SHOP}"]')
    expect(shop.locator('input[name="flow-returns"]')).not_to_be_checked()
    shop.locator('input[name="flow-returns"]').check()
    shop.locator("button[type=submit]").click()
    expect(page.locator(".flash.ok")).to_contain_text("returns on")
    assert c.store.shops.get(SHOP).flow_enabled("returns")  # type: ignore[union-attr]
    # the specs, checked against NetSuite on demand
    page.click("#check-specs")
    expect(page.locator(".flash.ok")).to_contain_text("passed every check")
    expect(page.locator("#specs-check")).to_contain_text("by user:ada")
    expect(page.locator("#specs-check")).to_contain_text("spec references")
    _check(page, width, "settings-changed")
    page.goto(site.url + "/console/audit?actor=user:ada")
    expect(page.locator("#audit")).to_contain_text("shop.flows")
    expect(page.locator("#audit")).to_contain_text("specs.check")


@pytest.mark.parametrize("width", WIDTHS)
def test_admin_manages_users_and_a_viewer_is_refused(browser: Any, pages: Any, site: Site, width: int) -> None:
    from playwright.sync_api import expect

    name = f"fin{width}"
    admin = pages(width, "ada")
    admin.goto(site.url + "/console/users")
    admin.fill("#new-username", name)
    admin.fill("#new-password", PASSWORD)
    admin.select_option("#new-role", "viewer")
    admin.click("#save-user")
    expect(admin.locator(f'tr[data-user="{name}"]')).to_contain_text("viewer")
    _check(admin, width, "users-added")
    viewer = _page(browser, site, width, name)
    try:
        expect(viewer.locator("#role")).to_have_text("viewer")
        expect(viewer.locator('nav a[href="/console/users"]')).to_have_count(0)
        expect(viewer.locator('nav a[href="/console/settings"]')).to_have_count(0)
        token = viewer.locator("input[name=csrf_token]").first.input_value()
        viewer.goto(site.url + "/console/users")
        expect(viewer.locator("h1")).to_have_text("Not allowed")
        assert viewer.goto(site.url + "/console/settings").status == 403
        expect(viewer.locator("h1")).to_have_text("Not allowed")
        resp = viewer.request.post(site.url + f"/console/orders/{SHOP}/576/sync", headers={"X-CSRF-Token": token})
        assert resp.status == 403
        resp = viewer.request.post(site.url + "/console/settings/specs/check", headers={"X-CSRF-Token": token})
        assert resp.status == 403
        refused = [a for a in site.container.store.audit.list(entity=f"user:{name}") if a["action"] == "auth.forbidden"]
        assert len(refused) == 4
        # keyboard: the first Tab reaches the skip link, Enter moves to the content
        viewer.goto(site.url + "/console/orders")
        viewer.keyboard.press("Tab")
        assert viewer.evaluate("document.activeElement.className") == "skip"
        viewer.keyboard.press("Enter")
        assert viewer.evaluate("document.activeElement.id") == "main"
        _check(viewer, width, "viewer-orders")
    finally:
        viewer.context.close()


def _monitor_runs(c: Any, only: str) -> int:
    """Finished manual runs of one monitor, read from the queue itself."""
    from sqlalchemy import select

    from bridge.store.tables import jobs

    with c.store.engine.connect() as conn:
        rows = conn.execute(select(jobs.c.payload).where(jobs.c.kind == "monitoring.run", jobs.c.status == "done"))
        return sum(1 for (payload,) in rows if only in str(payload))

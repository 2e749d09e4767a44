"""The console in headless Chromium, against the bridge and the TikTok Shop sandbox over HTTP.

An operator logs in, connects a shop through the sandbox's OAuth pages, sees an order the sandbox
placed arrive (signed webhook → inbox → worker; NetSuite faked at its port), fixes and retries one
failed order, resolves another exception, and opens a settlement report built from the sandbox's
statement. The session's Chromium is ``tests/browser/conftest.py``'s.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bridge.bootstrap import App, Area, build
from bridge.mapping.orders import ItemRef
from bridge.sandbox.tiktok import TikTokSandbox, TikTokSandboxConfig, create_app
from bridge.sandbox.tiktok import fulfillment as sfulfillment
from bridge.sandbox.tiktok import orders as sorders
from bridge.serving import BackgroundServer
from bridge.web import create_app as create_bridge
from tests.browser.conftest import screenshot
from tests.console.conftest import PASSWORD, EveryRecordExists, drain_work
from tests.settlement.fakes import FakeLedger
from tests.support.fakes import FakeNetSuiteOrders
from tests.support.specs import sandbox_specs_dir
from tests.tiktok.conftest import Sandbox, make_settings, wire_fast

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
AREAS: tuple[Area, ...] = ("system", "shops", "orders", "settlement", "monitoring")


class AnyLedger(FakeLedger):
    """The NetSuite ledger faked at its port; every record settlement.yaml names exists."""

    def internal_ids(self, table: str, external_ids: Any) -> dict[str, str]:
        return {e: f"{abs(hash((table, e))) % 10**6}" for e in external_ids}


@dataclass
class Rig:
    url: str
    container: App
    sandbox: Sandbox
    netsuite: FakeNetSuiteOrders

    def drain(self) -> int:
        return drain_work(self.container, self.container.worker(threads=2, name="browser-test"))


@pytest.fixture
def rig(sqlite_url: str) -> Iterator[Rig]:
    sb_app = create_app(TikTokSandboxConfig(seed=23, webhook_time_scale=0.0001, tick_interval=0.05,
                                            settle_on="DELIVERED", webhook_loopback_http=True))
    sb: TikTokSandbox = sb_app.extensions["tiktok_sandbox"]
    holder: dict[str, Callable[..., Any]] = {}

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return holder["app"](environ, start_response)

    with BackgroundServer(sb_app, port=0, name="tiktok-sandbox") as sb_server, \
            BackgroundServer(dispatch, port=0, name="bridge") as server:
        state = sb.describe()
        app_info = state["apps"][0]
        sandbox = Sandbox(sb_server.url, sb, app_info["app_key"], app_info["app_secret"], app_info["service_id"],
                          {s["region"]: s for s in state["shops"]})
        c = build(make_settings(sqlite_url, sandbox, public_url=server.url, specs_dir=sandbox_specs_dir(),
                                retry_base_seconds=0.01, retry_cap_seconds=0.01), areas=AREAS)
        c = wire_fast(c)
        netsuite = FakeNetSuiteOrders({"US-MUG-12": ItemRef("103")})
        c = c.with_ports(netsuite_orders=netsuite)
        c = c.with_ports(netsuite_lookup=EveryRecordExists())
        c = c.with_ports(netsuite_ledger=AnyLedger())
        c.store.users.add("ops", PASSWORD)
        holder["app"] = create_bridge(root=c)
        sb.update_app(sandbox.app_key, redirect_uri=server.url + "/oauth/tiktok/callback")
        try:
            yield Rig(server.url, c, sandbox, netsuite)
        finally:
            sb.close()
            c.close()


def _ship_and_deliver(sb: TikTokSandbox, order_id: str) -> None:
    def go(st: Any) -> None:
        order = st.orders[order_id]
        option = st.delivery_options[order.delivery_option_id]
        pid = option.provider_ids[0]
        tracking = sfulfillment.tiktok_tracking_number(st, st.providers[pid].name)
        sfulfillment.mark_package_as_shipped(st, order.shop_id, order.id,
                                             {"tracking_number": tracking, "shipping_provider_id": pid})
        sorders.advance(st, order, to="DELIVERED")

    sb.run(go)


def _statement(rig: Rig, shop_id: str) -> str:
    """Close tomorrow's statement in the sandbox and import it through the settlement flow's job."""
    from bridge.flows.settlement import statement_job

    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date()
    (made,) = rig.sandbox.sb.generate_statements(tomorrow.isoformat(), shop_id=shop_id)
    finance = rig.container.ports.tiktok_finance
    now = datetime.now(UTC)
    (summary,) = [s for s in finance.statements(shop_id, since=now - timedelta(days=2), until=now + timedelta(days=2))
                  if s.id == made["id"]]
    rig.container.store.queue.enqueue(statement_job(shop_id, summary, bucket="browser-test"))
    rig.drain()
    return str(summary.id)


def _shot(page: Any, name: str) -> None:
    """``TTNS_SCREENSHOTS=DIR`` saves a full-page PNG of each step (for docs and reviews)."""
    directory = os.environ.get("TTNS_SCREENSHOTS")
    if directory:
        screenshot(page, Path(directory) / f"{name}.png")


def test_operator_connects_a_shop_sees_orders_handles_exceptions_and_reads_settlement(rig: Rig,
                                                                                       browser: Any) -> None:
    from playwright.sync_api import expect

    sb = rig.sandbox.sb
    us = rig.sandbox.shop("US")
    page = browser.new_page()
    try:
        page.set_default_timeout(10000)

        # log in (anonymous → login page → back to the console)
        page.goto(rig.url + "/console/connections")
        expect(page).to_have_url(rig.url + "/login?next=/console/connections")
        page.fill("#username", "ops")
        page.fill("#password", PASSWORD)
        page.click("#login")
        expect(page.locator("h1")).to_have_text("Connections")
        expect(page.locator("body")).to_contain_text("No shop is connected yet")

        # connect the US shop through the sandbox's authorize page
        page.click("#connect-tiktok")
        expect(page).to_have_url(re.compile(re.escape(rig.sandbox.url + "/open/authorize")))
        page.select_option("select[name=open_id]", us["seller_open_id"])
        page.click("#authorize")
        expect(page.locator("body")).to_contain_text("Connected: Sandbox US Shop")
        page.goto(rig.url + "/console/connections")
        row = page.locator(f'tr[data-shop="{us["id"]}"]')
        expect(row).to_contain_text("Sandbox US Shop")
        expect(row.locator(".countdown").first).to_contain_text(" d ")  # the live countdown ticks
        assert rig.container.store.shops.get(us["id"]).webhooks_subscribed_at  # type: ignore[union-attr]

        # the sandbox sells: one mapped SKU, two SKUs NetSuite does not know yet
        mug = sb.place_order(us["id"], [{"seller_sku": "US-MUG-12", "quantity": 2}], hold=False)
        assert sb.wait_webhooks(timeout=10)
        assert rig.drain() >= 1
        vase = sb.place_order(us["id"], [{"seller_sku": "US-VASE-01"}], hold=False)
        tee = sb.place_order(us["id"], [{"seller_sku": "US-TEE-WHT-L"}], hold=False)
        assert sb.wait_webhooks(timeout=10)
        assert rig.drain() >= 2

        page.goto(rig.url + "/console/orders")
        order_row = page.locator(f'tr[data-order="{mug["id"]}"]')
        expect(order_row).to_contain_text("synced")
        order_row.locator("a").first.click()
        expect(page.locator("h1")).to_have_text(f"Order {mug['id']}")
        timeline = page.locator("#timeline")
        expect(timeline.locator('li[data-kind="webhook"]').first).to_be_visible()
        expect(timeline.locator('li[data-kind="call"]').first).to_contain_text("TikTok")
        expect(timeline.locator('li[data-kind="attempt"]').first).to_contain_text("ok")
        _shot(page, "order-timeline")

        # the exceptions inbox: fix the vase and retry it; resolve the tee by hand
        page.click("nav >> text=Exceptions")
        ops = page.locator("#owner-ops")
        expect(ops.locator("article.exception")).to_have_count(2)
        by_vase = ops.locator("article.exception", has_text="US-VASE-01")
        expect(by_vase).to_contain_text("Fix:")
        _shot(page, "exceptions")
        rig.netsuite.items["US-VASE-01"] = ItemRef("105")  # ops creates the item in NetSuite
        by_vase.locator('button[data-action="replay"]').click()
        expect(page.locator(".flash.ok")).to_contain_text("replayed as job")
        assert rig.drain() == 1
        by_tee = page.locator("article.exception", has_text="US-TEE-WHT-L")
        by_tee.locator('input[name="note"]').fill("Sold from another channel; entered by hand")
        by_tee.locator('button[data-action="resolve"]').click()
        expect(page.locator(".flash.ok")).to_contain_text("resolved")
        page.reload()
        expect(page.locator("body")).to_contain_text("No open exception")
        closed = rig.container.store.exceptions.list(status="resolved")
        assert sorted((e.entity.rsplit(":", 1)[-1], e.resolved_by) for e in closed) == sorted(
            [(vase["id"], "auto"), (tee["id"], "user:ops")])  # the retry healed one, a person the other
        page.goto(rig.url + "/console/orders")
        expect(page.locator(f'tr[data-order="{vase["id"]}"]')).to_contain_text("synced")

        # settlement: the mug and the vase are delivered; tomorrow's statement is imported
        for oid in (mug["id"], vase["id"]):
            _ship_and_deliver(sb, oid)
        statement_id = _statement(rig, us["id"])
        page.click("nav >> text=Settlement")
        expect(page.locator(f'tr[data-statement="{statement_id}"]')).to_be_visible()
        expect(page.locator("figure svg.chart")).to_be_visible()
        page.click(f'tr[data-statement="{statement_id}"] a')
        expect(page.locator("h1")).to_have_text(f"Statement {statement_id}")
        chart = page.locator("#statement-chart svg")
        expect(chart).to_be_visible()
        expect(chart.locator("text", has_text="Gross sales")).to_be_visible()
        expect(page.locator("#variance")).to_be_visible()
        expect(page.locator("#statement")).to_contain_text("Net settlement")
        _shot(page, "settlement-report")
        # re-post the statement from the console: the real posting job runs and changes nothing posted
        postings = rig.container.store.audit.list(limit=500)
        page.click("#repost")
        flash = page.locator("p.flash.ok[role=status]")
        expect(flash).to_contain_text("queued to post again")
        job_id = int(re.search(r"job #(\d+)", flash.inner_text()).group(1))  # type: ignore[union-attr]
        assert rig.drain() >= 1
        job = rig.container.store.queue.get(job_id)
        assert job is not None and job.status == "done", job
        assert job.result and job.result["action"] in ("posted", "unchanged", "held"), job.result
        assert len(rig.container.store.audit.list(limit=500)) > len(postings)

        # the dashboard shows the flows that ran
        page.click("nav >> text=Dashboard")
        expect(page.locator("#flow-orders")).to_be_visible()
        expect(page.locator("#flow-settlement")).to_be_visible()
        _shot(page, "dashboard")
        page.goto(rig.url + "/console/connections")
        _shot(page, "connections")
        # the drift monitors, run now from the console (a job the worker picks up)
        page.goto(rig.url + "/console/monitors")
        page.click("text=Run the monitors now")
        expect(page.locator(".flash.ok")).to_contain_text("monitors run")
        assert rig.drain() == 1
        page.reload()
        expect(page.locator("#orders_missing .tile .value")).to_have_text("0")
        expect(page.locator("#settlement_variances .tile .value")).to_have_text("0")
        _shot(page, "monitors")
    finally:
        page.context.close()

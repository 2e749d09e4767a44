"""``/metrics``: Prometheus text computed from the database, parsed back with prometheus_client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import update

from bridge.alerts import Alert, Alerter
from bridge.bootstrap import build
from bridge.domain.keys import order_key
from bridge.store.queue import JobSpec
from bridge.store.tables import jobs
from bridge.web import create_app
from tests.console.conftest import SHOP, Console, NoNetSuiteTotals, Orders, console_settings


def scrape(client: object, **headers: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Scrape like Prometheus: with the configured bearer token unless other headers are given."""
    if not headers:
        token = client.application.extensions["ttns"].settings.metrics_token  # type: ignore[attr-defined]
        if token is not None:
            headers = {"Authorization": f"Bearer {token.get_secret_value()}"}
    resp = client.get("/metrics", headers=headers)  # type: ignore[attr-defined]
    assert resp.status_code == 200 and resp.content_type.startswith("text/plain")
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(resp.get_data(as_text=True)):
        for s in family.samples:
            out.setdefault(s.name, []).append((dict(s.labels), float(s.value)))
    return out


def value(m: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    hits = [v for lab, v in m[name] if all(lab.get(k) == x for k, x in labels.items())]
    assert len(hits) == 1, (name, labels, m.get(name))
    return hits[0]


def _seed(console: Console) -> None:
    w = Orders(console.container)
    console.use(w.c)  # the pages and monitors see the fakes too
    w.place("576", "MUG")
    w.webhook("576")
    w.place("577", "NEW-SKU", "9.00")
    w.webhook("577")
    assert w.drain() == 2
    c = console.container
    c.store.queue.enqueue(JobSpec(kind="orders.poll", key="orders.poll"))
    c.store.queue.enqueue(JobSpec(kind="orders.poll", key="orders.poll:later",
                                  run_at=c.clock.now() + timedelta(hours=1)))
    for ms, outcome, status in ((40, "ok", 200), (700, "ok", 200), (3000, "retry", 429)):
        c.store.calls.record(system="tiktok", operation="order.detail", method="GET", path="/order/202507/orders",
                             status=status, duration_ms=ms, outcome=outcome, entity=order_key(SHOP, "576"))
    c.store.calls.record(system="netsuite", operation="salesOrder.upsert", method="PUT", path="/record/v1/x",
                         status=None, duration_ms=30000, outcome="retry")
    c.flows.monitoring.evaluate(alert=False)
    Alerter(c.store.engine, c.settings, channels=[]).fire(Alert(key="k", title="t", value=Decimal(1)))


def test_metrics_expose_queue_jobs_api_calls_latencies_and_drift(console: Console) -> None:
    _seed(console)
    m = scrape(console.app.test_client())
    assert value(m, "ttns_queue_depth", kind="orders.poll", state="due") == 1
    assert value(m, "ttns_queue_depth", kind="orders.poll", state="scheduled") == 1
    assert value(m, "ttns_queue_oldest_due_seconds", kind="orders.poll") >= 0
    assert value(m, "ttns_jobs_stopped_total", kind="orders.sync", status="failed") == 1
    assert value(m, "ttns_job_attempts_total", kind="orders.sync", outcome="ok") == 1
    assert value(m, "ttns_job_attempts_total", kind="orders.sync", outcome="needs_human") == 1
    assert value(m, "ttns_job_duration_seconds_count", kind="orders.sync") == 2
    inf = value(m, "ttns_job_duration_seconds_bucket", kind="orders.sync", le="+Inf")
    assert inf == 2
    assert value(m, "ttns_api_calls_total", system="tiktok", outcome="ok") == 2
    assert value(m, "ttns_api_calls_total", system="tiktok", outcome="retry") == 1
    assert value(m, "ttns_api_errors_total", system="tiktok", status="429") == 1
    assert value(m, "ttns_api_errors_total", system="netsuite", status="none") == 1
    assert value(m, "ttns_api_call_duration_seconds_bucket", system="tiktok", le="0.05") == 1
    assert value(m, "ttns_api_call_duration_seconds_bucket", system="tiktok", le="1") == 2
    assert value(m, "ttns_api_call_duration_seconds_bucket", system="tiktok", le="+Inf") == 3
    assert value(m, "ttns_api_call_duration_seconds_sum", system="tiktok") == pytest.approx(3.74)
    assert value(m, "ttns_inbound_events_total", source="tiktok", status="routed") == 2
    assert value(m, "ttns_exceptions", owner="ops", status="open") == 1
    assert value(m, "ttns_drift", monitor="exceptions_open") == 0
    assert value(m, "ttns_drift_threshold", monitor="orders_missing") == 0
    assert value(m, "ttns_drift_alerting", monitor="queue_stalled") == 0
    assert not [lab for lab, _ in m["ttns_drift"] if lab["monitor"] == "settlement_variances"]  # cannot measure
    assert value(m, "ttns_alerts_firing") == 1
    assert value(m, "ttns_shops", status="active") == 1
    expiry = value(m, "ttns_shop_access_token_expiry_timestamp_seconds", shop_id=SHOP)
    assert expiry > console.container.clock.now().timestamp()


def test_every_process_answers_from_the_database(console: Console) -> None:
    """Two apps (two gunicorn workers, two machines) over one database give the same numbers."""
    _seed(console)
    # A job due a second from now (the document numbers' read) must not turn due between the two scrapes.
    now = console.container.clock.now()
    with console.container.store.transaction() as conn:
        conn.execute(update(jobs).where(jobs.c.run_at > now).values(run_at=now + timedelta(days=1)))
    # The same flows, as every web process of one deployment has (idle job kinds are reported at zero).
    other = create_app(root=build(console.settings, areas=("system", "orders", "monitoring")))
    a, b = scrape(console.app.test_client()), scrape(other.test_client())
    for name in ("ttns_queue_depth", "ttns_job_attempts_total", "ttns_api_calls_total", "ttns_exceptions"):
        assert sorted(map(repr, a[name])) == sorted(map(repr, b[name]))
    other.extensions["ttns"].close()


@pytest.fixture
def guarded(sqlite_url: str) -> Iterator[object]:
    from pydantic import SecretStr

    s = console_settings(sqlite_url)
    # TTNS_METRICS_TOKEN is requested from the settings owner; until it exists, set the attribute.
    object.__setattr__(s, "metrics_token", SecretStr("scrape-token-fake"))
    c = build(s, areas=())
    yield create_app(root=c).test_client()
    c.close()


def test_metrics_are_protected_by_default(console: Console) -> None:
    """No anonymous scrape, even without a token configured: the console login or the bearer token."""
    settings = console.settings.model_copy(update={"metrics_token": None})
    c = build(settings, areas=())
    try:
        app = create_app(root=c)
        anonymous = app.test_client().get("/metrics")
        assert anonymous.status_code == 401 and "TTNS_METRICS_TOKEN" in anonymous.get_data(as_text=True)
        assert "ttns_shop" not in anonymous.get_data(as_text=True)
        assert console.client.get("/metrics").status_code == 200  # a logged-in console user may look
        public = create_app(root=build(settings.model_copy(update={"metrics_public": True}), areas=()))
        assert public.test_client().get("/metrics").status_code == 200  # only when asked for explicitly
        public.extensions["ttns"].close()
    finally:
        c.close()


def test_metrics_token_when_configured(guarded: object) -> None:
    assert guarded.get("/metrics").status_code == 401  # type: ignore[attr-defined]
    assert guarded.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401  # type: ignore[attr-defined]
    assert scrape(guarded, Authorization="Bearer scrape-token-fake")["ttns_alerts_firing"] == [({}, 0.0)]


@pytest.mark.postgres
def test_metrics_on_postgres(pg_url: str) -> None:
    # no NetSuite here, as in the SQLite fixture: without the reader the totals monitor calls a NetSuite
    # that does not exist and backs off for ~19 s
    c = build(console_settings(pg_url), areas=("system", "orders", "monitoring"), netsuite_totals=NoNetSuiteTotals())
    try:
        app = create_app(root=c)
        console = Console(c, app, app.test_client(), c.settings)
        _seed(console)
        m = scrape(app.test_client())
        assert value(m, "ttns_queue_depth", kind="orders.poll", state="due") == 1
        assert value(m, "ttns_api_call_duration_seconds_bucket", system="tiktok", le="1") == 2
        assert value(m, "ttns_job_attempts_total", kind="orders.sync", outcome="needs_human") == 1
    finally:
        c.close()

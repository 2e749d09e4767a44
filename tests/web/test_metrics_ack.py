"""`/metrics`: every gauge is present at zero on an idle bridge, and the webhook acknowledgement latency is a
histogram that every gunicorn worker of `ttns web` reports in full."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from bridge.benchmarks.harness import free_port, wait_http
from bridge.bootstrap import build
from bridge.settings import Settings
from bridge.tiktok.webhooks import sign
from bridge.web import create_app

Samples = dict[str, list[tuple[dict[str, str], float]]]


def parse(text: str) -> Samples:
    out: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out.setdefault(s.name, []).append((dict(s.labels), float(s.value)))
    return out


def value(m: Samples, name: str, **labels: str) -> float:
    hits = [v for lab, v in m.get(name, []) if all(lab.get(k) == x for k, x in labels.items())]
    assert len(hits) == 1, (name, labels, m.get(name))
    return hits[0]


def webhook(n: int) -> bytes:
    return json.dumps({"type": 99, "tts_notification_id": f"n-{n}", "shop_id": "S1", "timestamp": 1764547200,
                       "data": {}}).encode()


def test_an_idle_bridge_reports_zeros_and_the_ack_histogram(sqlite_url: str) -> None:
    c = build(Settings(database_url=sqlite_url, tiktok_app_key="k", tiktok_app_secret="s",
                       metrics_token="scrape-token-fake"))
    client = create_app(root=c).test_client()
    auth = {"Authorization": "Bearer scrape-token-fake"}
    m = parse(client.get("/metrics", headers=auth).get_data(as_text=True))
    for kind in ("orders.sync", "orders.poll"):
        assert kind in c.registry.kinds()
        for state in ("due", "scheduled", "running"):
            assert value(m, "ttns_queue_depth", kind=kind, state=state) == 0
        assert value(m, "ttns_queue_oldest_due_seconds", kind=kind) == 0
        assert value(m, "ttns_jobs_stopped_total", kind=kind, status="dead") == 0
    for owner in ("ops", "finance", "admin"):
        assert value(m, "ttns_exceptions", owner=owner, status="open") == 0
    assert value(m, "ttns_shops", status="active") == 0
    assert value(m, "ttns_alerts_firing") == 0
    assert value(m, "ttns_api_calls_total", system="netsuite", outcome="ok") == 0
    for source in ("tiktok", "netsuite"):
        assert value(m, "ttns_webhook_ack_seconds_count", source=source) == 0
        assert value(m, "ttns_webhook_ack_seconds_bucket", source=source, le="3.0") == 0

    for n in range(3):
        body = webhook(n)
        assert client.post("/webhooks/tiktok", data=body, headers={"Authorization": sign("k", "s", body)}
                           ).status_code == 200
    assert client.post("/webhooks/tiktok", data=b"{}", headers={"Authorization": "0" * 64}).status_code == 401
    m = parse(client.get("/metrics", headers=auth).get_data(as_text=True))
    assert value(m, "ttns_webhook_ack_seconds_count", source="tiktok") == 4  # refusals are answers too
    assert value(m, "ttns_webhook_ack_seconds_bucket", source="tiktok", le="3.0") == 4
    assert 0 < value(m, "ttns_webhook_ack_seconds_sum", source="tiktok") < 12
    assert value(m, "ttns_webhook_ack_seconds_count", source="netsuite") == 0
    c.close()


def test_every_gunicorn_worker_reports_every_acknowledgement(sqlite_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TTNS_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update(TTNS_DATABASE_URL=sqlite_url, TTNS_TIKTOK_APP_KEY="k", TTNS_TIKTOK_APP_SECRET="s",
               TTNS_LOG_LEVEL="WARNING", TTNS_METRICS_TOKEN="scrape-token-fake")
    proc = subprocess.Popen([sys.executable, "-m", "bridge.cli", "web", "--bind", f"127.0.0.1:{port}", "--workers",
                             "2"], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/healthz", timeout=60)
        n = 30
        with requests.Session() as s:
            for i in range(n):
                body = webhook(i)
                assert s.post(f"{base}/webhooks/tiktok", data=body, timeout=10,
                              headers={"Authorization": sign("k", "s", body)}).status_code == 200
        # Fresh connections land on either worker: each scrape has all n.
        for _ in range(6):
            headers = {"Connection": "close", "Authorization": "Bearer scrape-token-fake"}
            m = parse(requests.get(f"{base}/metrics", timeout=10, headers=headers).text)
            assert value(m, "ttns_webhook_ack_seconds_count", source="tiktok") == n
            assert value(m, "ttns_inbound_events_total", source="tiktok", status="skipped") == n
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    lines = [ln for ln in err.decode().splitlines() if ln.strip()]
    assert all(ln.startswith("{") for ln in lines), lines  # gunicorn's own lines are JSON too

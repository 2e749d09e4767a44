"""Every log line of a request carries its correlation id, and the event it stores keeps the same id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bridge.bootstrap import build
from bridge.logs import configure_logging
from bridge.settings import Settings
from bridge.tiktok.webhooks import sign
from bridge.web import create_app


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    configure_logging("INFO", "json", stream=stream)
    yield stream
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_event_stored_lines_carry_the_request_correlation_id(sqlite_url: str, json_logs: io.StringIO) -> None:
    c = build(Settings(database_url=sqlite_url, tiktok_app_key="k", tiktok_app_secret="s"), areas=())
    app = create_app(root=c)
    body = json.dumps({"type": 99, "tts_notification_id": "n-1", "shop_id": "S1", "timestamp": 1764547200,
                       "data": {}}).encode()
    res = app.test_client().post("/webhooks/tiktok", data=body, headers={
        "Authorization": sign("k", "s", body), "Content-Type": "application/json", "X-Correlation-Id": "req-42"})
    assert res.status_code == 200 and res.headers["X-Correlation-Id"] == "req-42"
    lines = [json.loads(ln) for ln in json_logs.getvalue().splitlines()]
    stored = [ln for ln in lines if ln["msg"].startswith("event stored")]
    assert stored and all(ln.get("correlation_id") == "req-42" for ln in stored), lines
    ev = c.store.inbox.recent(limit=1)[0]
    assert ev.correlation_id == "req-42"
    # After the request the id is gone: the next line logged outside a request has none.
    logging.getLogger("bridge.test").info("outside")
    assert "correlation_id" not in json.loads(json_logs.getvalue().splitlines()[-1])
    c.close()

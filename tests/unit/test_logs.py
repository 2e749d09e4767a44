from __future__ import annotations

import io
import json
import logging

from bridge.logs import configure_logging, correlation


def test_json_logs_carry_the_correlation_id_and_hide_secrets() -> None:
    buf = io.StringIO()
    configure_logging("INFO", "json", stream=buf)
    log = logging.getLogger("bridge.test")
    with correlation("cid-123"):
        log.info("calling /api?access_token=tok-999&x=1", extra={"order_id": "576", "app_secret": "s3cr3t"})
    line = json.loads(buf.getvalue().strip().splitlines()[-1])
    assert line["correlation_id"] == "cid-123" and line["order_id"] == "576"
    assert "tok-999" not in buf.getvalue() and "s3cr3t" not in buf.getvalue()
    configure_logging("WARNING", "text")

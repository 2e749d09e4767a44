"""Fixtures for the sandbox tests. TikTok fixtures are prefixed ``tiktok_``.

``TikTokClient`` is a deliberately tiny signing client local to the tests (it does not import the
bridge's client nor the sandbox's signing module), so the sandbox is checked against an
independent implementation of the documented algorithm.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from bridge.sandbox.tiktok import TikTokSandbox, TikTokSandboxConfig, create_app
from bridge.sandbox.tiktok.digest import load_digest
from bridge.serving import BackgroundServer


def tts_sign(secret: str, path: str, query: dict[str, str], body: bytes | None) -> str:
    base = path + "".join(k + str(query[k]) for k in sorted(query) if k not in ("sign", "access_token"))
    msg = secret.encode() + base.encode() + (body or b"") + secret.encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()


@dataclass
class TikTokClient:
    base: str
    app_key: str
    app_secret: str
    access_token: str
    shops: dict[str, dict[str, Any]]  # region -> {"id", "cipher"}
    session: requests.Session = field(default_factory=requests.Session)

    def call(self, method: str, path: str, query: dict[str, Any] | None = None, body: Any = None, *,
             region: str | None = "US", secret: str | None = None, token: str | None = None,
             timestamp: int | None = None, raw_body: bytes | None = None, cipher: str | None = None,
             files: dict[str, Any] | None = None, extra_headers: dict[str, str] | None = None) -> requests.Response:
        q: dict[str, str] = {"app_key": self.app_key, "timestamp": str(timestamp or int(time.time()))}
        for k, v in (query or {}).items():
            q[k] = ",".join(v) if isinstance(v, list) else str(v).lower() if isinstance(v, bool) else str(v)
        if cipher is not None:
            q["shop_cipher"] = cipher
        elif region is not None:
            q["shop_cipher"] = self.shops[region]["cipher"]
        data: bytes | None = raw_body
        if data is None and body is not None:
            data = json.dumps(body, separators=(",", ":")).encode()
        default_token = self.shops[region]["token"] if region else self.access_token
        headers = {"x-tts-access-token": default_token if token is None else token}
        if files is None:
            headers["content-type"] = "application/json"
        headers.update(extra_headers or {})
        q["sign"] = tts_sign(secret or self.app_secret, path, q, None if files else data)
        return self.session.request(method, self.base + path, params=q, data=None if files else data,
                                    files=files, headers=headers, timeout=10)

    def ok(self, method: str, path: str, query: dict[str, Any] | None = None, body: Any = None,
           **kw: Any) -> dict[str, Any]:
        """Call, expect success, and check every field of ``data`` is documented for the endpoint."""
        resp = self.call(method, path, query, body, **kw)
        doc = resp.json()
        assert resp.status_code == 200 and doc["code"] == 0, (resp.status_code, doc)
        assert set(doc) == {"code", "message", "request_id", "data"}
        ep, _, _ = load_digest().match(method, path)
        assert ep is not None
        undocumented = undocumented_fields(doc["data"], ep.response_data_fields())
        assert not undocumented, f"{method} {path} answers undocumented fields: {undocumented}"
        data: dict[str, Any] = doc["data"]
        return data

    def err(self, method: str, path: str, query: dict[str, Any] | None = None, body: Any = None,
            **kw: Any) -> tuple[int, int, str]:
        """(http status, code, message) of a refused call."""
        resp = self.call(method, path, query, body, **kw)
        doc = resp.json()
        assert doc["code"] != 0, doc
        assert set(doc) == {"code", "message", "request_id", "data"}
        return resp.status_code, doc["code"], doc["message"]


def undocumented_fields(data: Any, tree: dict[str, Any], prefix: str = "") -> list[str]:
    out: list[str] = []
    if isinstance(data, list):
        for item in data:
            out += undocumented_fields(item, tree, prefix)
        return out
    if not isinstance(data, dict):
        return out
    for key, value in data.items():
        fact = tree.get(key)
        if fact is None:
            out.append(prefix + key)
        elif isinstance(value, (dict, list)) and fact.get("fields"):
            out += undocumented_fields(value, fact["fields"], f"{prefix}{key}.")
    return sorted(set(out))


@dataclass
class TikTokEnv:
    url: str
    sandbox: TikTokSandbox
    client: TikTokClient


def _env(config: TikTokSandboxConfig) -> Iterator[TikTokEnv]:
    app = create_app(config)
    sb: TikTokSandbox = app.extensions["tiktok_sandbox"]
    with BackgroundServer(app, port=0, name="tiktok-sandbox-test") as server:
        state = sb.describe()
        app_info = state["apps"][0]
        # one token per seller (the US and the GB shop belong to different sellers)
        shops = {s["region"]: {"id": s["id"], "cipher": s["cipher"], "detail": s,
                               "token": sb.issue_token(app_info["app_key"], shop_id=s["id"])["access_token"]}
                 for s in state["shops"]}
        client = TikTokClient(server.url, app_info["app_key"], app_info["app_secret"], shops["US"]["token"], shops)
        try:
            yield TikTokEnv(server.url, sb, client)
        finally:
            sb.close()


@pytest.fixture
def tiktok_config() -> TikTokSandboxConfig:
    # the webhook receiver listens on loopback over http with a port (a named knob)
    return TikTokSandboxConfig(seed=7, webhook_time_scale=0.0001, tick_interval=0.05, webhook_loopback_http=True)


@pytest.fixture
def tiktok(tiktok_config: TikTokSandboxConfig) -> Iterator[TikTokEnv]:
    yield from _env(tiktok_config)


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        server: Any = self.server
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        with server.lock:
            server.received.append({"at": time.time(), "headers": dict(self.headers), "body": raw})
            status = server.script.pop(0) if server.script else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


@dataclass
class WebhookReceiver:
    url: str
    server: Any

    @property
    def received(self) -> list[dict[str, Any]]:
        with self.server.lock:
            return list(self.server.received)

    def script(self, *statuses: int) -> None:
        """Answer the next requests with these statuses (then 200)."""
        with self.server.lock:
            self.server.script.extend(statuses)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received
            if len(got) >= count:
                return got
            time.sleep(0.01)
        return self.received


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.daemon_threads = True
    server.received = []  # type: ignore[attr-defined]
    server.script = []  # type: ignore[attr-defined]
    server.lock = threading.Lock()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield WebhookReceiver(f"http://127.0.0.1:{server.server_port}/webhooks/tiktok", server)
    finally:
        server.shutdown()
        server.server_close()

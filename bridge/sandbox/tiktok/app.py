"""The Flask app: the Open API gateway (every documented path), the token endpoints, the merchant
authorize page and the control API, all on one base URL.

Gateway order for an Open API call: path / method → injected latency and 429 / 5xx faults →
``app_key`` → ``sign`` present → ``timestamp`` window (real wall clock) → signature →
``x-tts-access-token`` → ``shop_cipher`` rules → rate limit (app + shop + API) → request format →
parameters and body against the digest → handler.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import time
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, redirect, request
from markupsafe import escape

from . import api, auth
from .config import TikTokSandboxConfig
from .control import control_blueprint
from .digest import QUANTITY_OUT_OF_RANGE, ZERO_QUANTITY_RELAXATION, Endpoint, range_problem
from .errors import (
    BAD_SIGN,
    CIPHER_MISMATCH,
    CIPHER_MISSING,
    INTERNAL_ERROR,
    INVALID_CREDENTIALS,
    INVALID_FORMAT,
    INVALID_METHOD,
    INVALID_MULTIPART,
    INVALID_PATH,
    INVALID_VERSION,
    RATE_LIMITED,
    TOKEN_EXPIRED,
    TOKEN_INVALID,
    ApiError,
    SandboxError,
)
from .ids import IdFactory
from .sandbox import TikTokSandbox
from .signing import verify_request_sign
from .state import SandboxState

EXTENSION = "tiktok_sandbox"
_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


log = logging.getLogger("bridge.sandbox.tiktok")

def create_app(config: TikTokSandboxConfig | None = None, sandbox: TikTokSandbox | None = None) -> Flask:
    """The sandbox as a WSGI app. ``app.extensions["tiktok_sandbox"]`` is the live ``TikTokSandbox``."""
    sb = sandbox or TikTokSandbox(config)
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
    app.extensions[EXTENSION] = sb
    sb.start()

    @app.get("/")
    def index() -> Response:
        return _json({"service": "ttns-bridge TikTok Shop sandbox", "control_api": "/_sandbox/state",
                      "authorize": "/open/authorize?service_id=…&state=…"})

    app.add_url_rule("/open/authorize", "authorize", lambda: _authorize(sb), methods=["GET", "POST"])
    app.add_url_rule("/api/v2/token/get", "token_get", lambda: _token(sb, refresh=False), methods=["GET"])
    app.add_url_rule("/api/v2/token/refresh", "token_refresh", lambda: _token(sb, refresh=True), methods=["GET"])
    app.register_blueprint(control_blueprint(sb))
    app.add_url_rule("/<path:subpath>", "open_api", lambda subpath: _open_api(sb), methods=_METHODS)
    return app


# ----------------------------------------------------------------------------------- responses
def _json(doc: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), status=status,
                    mimetype="application/json", headers=headers or {})


def _envelope(sb: TikTokSandbox, code: int, message: str, data: Any, status: int) -> Response:
    rid = IdFactory.request_id()
    if code != 0 and sb.config.errors_as_http_200 and status < 500 and status != 429:
        status = 200
    doc: dict[str, Any] = {"code": code, "message": message, "request_id": rid}
    doc["data"] = data if data is not None else {}
    return _json(doc, status, {"X-Tt-Logid": rid})


# ------------------------------------------------------------------------------------- gateway
def _open_api(sb: TikTokSandbox) -> Response:
    ep, path_params, other_method = sb.digest.match(request.method, request.path)
    if ep is None:
        if (named := sb.digest.version_not_served(request.method, request.path)) is not None:
            sb.count_call(named.key, INVALID_VERSION)
            return _envelope(sb, INVALID_VERSION, "The version name is invalid, please check and retry.", None, 404)
        sb.count_call("unknown", INVALID_METHOD if other_method else INVALID_PATH)
        if other_method:
            return _envelope(sb, INVALID_METHOD, "Invalid method. The HTTP method used is not supported by this "
                             "endpoint.", None, 405)
        return _envelope(sb, INVALID_PATH, "Invalid path. The specified path does not match any available endpoint.",
                         None, 404)
    knobs = sb.faults.knobs_for(ep.key, request.path)
    delay = sb.faults.latency_seconds(knobs)
    if delay:
        time.sleep(delay)
    injected = sb.faults.draw(knobs)
    if injected is not None:
        sb.count_fault(ep.key, injected)
    if injected == "drop":
        return _drop_connection()
    try:
        if injected == "429":
            raise ApiError(RATE_LIMITED, "Too many requests. You've made too many requests in a short period of time.",
                           429)
        if injected == "5xx":
            raise ApiError(INTERNAL_ERROR, "Internal error. Please try again.", sb.faults.pick_5xx())
        data = sb.run(lambda st: _gateway(sb, st, ep, path_params, knobs))
    except ApiError as err:
        sb.count_call(ep.key, err.code)
        return _envelope(sb, err.code, err.message, err.data, err.http_status)
    except SandboxError as err:  # a handler tripped over scenario state: still answer in the envelope
        sb.count_call(ep.key, INTERNAL_ERROR)
        return _envelope(sb, ep.invalid_param_code(), err.message, None, 400)
    except Exception:  # a sandbox bug: still TikTok's envelope and code, never an HTML error page
        log.exception("TikTok sandbox handler failed", extra={"endpoint": ep.key})
        sb.count_call(ep.key, INTERNAL_ERROR)
        return _envelope(sb, INTERNAL_ERROR, "Internal error. Please try again.", None, 500)
    sb.count_call(ep.key, 0)
    if injected == "timeout":  # done, but the answer comes after the client gave up
        time.sleep(sb.config.faults.timeout_seconds)
    return _envelope(sb, 0, "Success", data, 200)


def _drop_connection() -> Response:
    """Close the client's connection without an answer (a connection reset, as a flaky network does)."""
    sock = request.environ.get("werkzeug.socket") or request.environ.get("gunicorn.socket")
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    return Response(b"", status=502)


def _gateway(sb: TikTokSandbox, st: SandboxState, ep: Endpoint, path_params: dict[str, str],
             knobs: dict[str, float]) -> dict[str, Any]:
    cfg = sb.config
    # A repeated key (``ids=A&ids=B``) means what the documented array form ``ids=A,B`` means.
    query = {k: ",".join(vs) for k, vs in request.args.lists()}
    pairs = list(request.args.items(multi=True))
    app_key = query.get("app_key", "")
    app = st.apps.get(app_key)
    if app is None:
        raise ApiError(INVALID_CREDENTIALS, "Invalid credentials. Invalid `app_key` query parameter.", 401)
    sign = query.get("sign", "")
    if not sign:
        raise ApiError(INVALID_CREDENTIALS, "Missing credentials. The request does not include a required signature "
                                            "in the query.", 401)
    _check_timestamp(query.get("timestamp", ""), cfg)
    multipart = (request.content_type or "").startswith("multipart/")
    raw = request.get_data(cache=True)
    if not verify_request_sign(app.app_secret, request.path, pairs, raw, sign, multipart=multipart):
        raise ApiError(BAD_SIGN, "Invalid credentials. The `sign` query parameter is invalid.", 401)
    token = _check_token(st, app_key, request.headers.get("x-tts-access-token", ""))
    shop = _check_cipher(st, ep, token, query)
    qps = knobs.get("qps") or app.qps or cfg.qps
    if not sb.limiter.allow((app_key, shop.id if shop else "-", ep.key), float(qps)):
        raise ApiError(RATE_LIMITED, "Too many requests. You've made too many requests in a short period of time.", 429)
    body, files = _parse_body(ep, raw, multipart)
    problems = sb.digest.validate_query(ep, query)
    for name, value in path_params.items():
        if not value.strip():
            problems.append(f"{name}: path parameter is empty")
    if not ep.multipart:
        problems += sb.digest.validate_body(ep, body, ZERO_QUANTITY_RELAXATION if cfg.inventory_zero_quantity else None)
    if problems:
        if all(range_problem(p) for p in problems) and str(QUANTITY_OUT_OF_RANGE) in ep.errors:
            # The endpoint's own code for a quantity outside [1, 99,999] (Update Inventory, Create Product …)
            raise ApiError(QUANTITY_OUT_OF_RANGE, ep.error_message(QUANTITY_OUT_OF_RANGE) + " "
                           + "; ".join(problems[:10]), 400)
        raise ApiError(ep.invalid_param_code(), "Invalid request parameters: " + "; ".join(problems[:10]), 400)
    handler = api.HANDLERS.get(ep.key)
    if handler is None:
        raise ApiError(INTERNAL_ERROR, f"The sandbox does not emulate {ep.key}; the request passed every check.", 501)
    return handler(api.Ctx(st=st, ep=ep, app=app, token=token, shop=shop, query=query, body=body,
                           path=path_params, files=files))


def _check_timestamp(raw: str, cfg: TikTokSandboxConfig) -> None:
    try:
        ts = int(raw)
    except ValueError:
        raise ApiError(INVALID_CREDENTIALS, "Invalid timestamp. The `timestamp` query parameter is missing or not an "
                                            "integer.", 401) from None
    if ts < 0:
        raise ApiError(INVALID_CREDENTIALS, "Invalid timestamp. The value of the `timestamp` query parameter must not "
                                            "be lesser than 0.", 401)
    now = time.time()
    if ts < now - cfg.timestamp_past_seconds:
        raise ApiError(INVALID_CREDENTIALS, "Invalid timestamp. The value of the `timestamp` query parameter must not "
                                            "be earlier than 5 minutes before the current time.", 401)
    if ts > now + cfg.timestamp_future_seconds:
        raise ApiError(INVALID_CREDENTIALS, "Invalid timestamp. The value of the `timestamp` query parameter must not "
                                            "exceed the current time by more than 30 seconds.", 401)


def _check_token(st: SandboxState, app_key: str, access_token: str) -> Any:
    tok = st.tokens.get(access_token) if access_token else None
    if tok is None or tok.app_key != app_key:
        raise ApiError(INVALID_CREDENTIALS, "Invalid credentials. The `x-tts-access-token` header is invalid.", 401)
    if tok.revoked:
        raise ApiError(TOKEN_INVALID, "access token is invalid; detail:your token has been deauthorized", 401)
    if tok.access_expires_at < st.now():
        raise ApiError(TOKEN_EXPIRED, "Expired credentials. The `x-tts-access-token` header has expired.", 401)
    return tok


def _check_cipher(st: SandboxState, ep: Endpoint, token: Any, query: dict[str, str]) -> Any:
    cipher = query.get("shop_cipher", "")
    if ep.module in ("authorization", "seller"):
        if "shop_cipher" in query:
            raise ApiError(INVALID_CREDENTIALS, "Unexpected identifier. The `shop_cipher` query parameter is not "
                                                "required for this request.", 400)
        return None
    if not ep.shop_cipher:
        return None
    if not cipher:
        raise ApiError(CIPHER_MISSING, "Missing identifier. The `shop_cipher` query parameter is required to identify "
                                       "the target shop.", 400)
    shop = st.shop_by_cipher(cipher)
    granted = st.grants.get((token.app_key, token.open_id), set())
    if shop is None or shop.id not in granted or shop.seller_open_id != token.open_id:
        raise ApiError(CIPHER_MISMATCH, "Invalid query or header. The token is not associated with a shop, or the "
                                        "associated shop does not match the provided shop_cipher.", 401)
    return shop


def _parse_body(ep: Endpoint, raw: bytes, multipart: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    if ep.multipart:
        if request.method in ("POST", "PUT") and not multipart:
            raise ApiError(INVALID_MULTIPART, "Invalid request format. The value of the `content-type` header must be "
                                              "`multipart/form-data`.", 400)
        return {k: request.form.get(k) for k in request.form}, dict(request.files)
    if not raw:
        return {}, {}
    if multipart or "json" not in (request.content_type or "application/json").lower():
        raise ApiError(INVALID_FORMAT, "Invalid request format. The request body format must be `application/json` "
                                       "for structured data or `multipart/form-data` for binary files.", 400)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(INVALID_FORMAT, "Invalid request format. The request body is not valid JSON.", 400) from None
    if not isinstance(body, dict):
        raise ApiError(ep.invalid_param_code(), "Invalid request parameters: body: must be a JSON object", 400)
    return body, {}


# ------------------------------------------------------------------------------------ tokens
def _token(sb: TikTokSandbox, refresh: bool) -> Response:
    q = request.args
    missing = [k for k in ("app_key", "app_secret", "grant_type", "refresh_token" if refresh else "auth_code")
               if not q.get(k)]
    if missing:
        sb.count_call("token", INVALID_CREDENTIALS)
        return _envelope(sb, INVALID_CREDENTIALS, f"Missing parameter(s): {', '.join(missing)}", None, 400)

    def go(st: SandboxState) -> dict[str, Any]:
        if refresh:
            tok = auth.refresh(st, q["app_key"], q["app_secret"], q["refresh_token"], q["grant_type"])
        else:
            tok = auth.exchange_code(st, q["app_key"], q["app_secret"], q["auth_code"], q["grant_type"])
        return auth.token_response(st, tok)

    try:
        data = sb.run(go)
    except ApiError as err:
        sb.count_call("token", err.code)
        return _envelope(sb, err.code, err.message, None, err.http_status)
    sb.count_call("token", 0)
    return _envelope(sb, 0, "success", data, 200)


# --------------------------------------------------------------------------------- authorize
_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Authorize {app} — TikTok Shop sandbox</title>
<style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;color:#161823}}
button{{font-size:1rem;padding:.6rem 1.4rem;margin-right:.6rem;border-radius:6px;border:0;cursor:pointer}}
.ok{{background:#fe2c55;color:#fff}} .no{{background:#e3e3e4}} select{{font-size:1rem;padding:.3rem}}</style>
</head><body><h1>TikTok Shop (sandbox)</h1>
<p><strong>{app}</strong> asks to access your shop data: orders, products, fulfillment, returns and finance.</p>
<form method="post" action="/open/authorize">
<input type="hidden" name="service_id" value="{service_id}"><input type="hidden" name="state" value="{state}">
<p><label>Log in as seller <select name="open_id">{options}</select></label></p>
<button class="ok" type="submit" name="action" value="authorize" id="authorize">Authorize</button>
<button class="no" type="submit" name="action" value="deny" id="deny">Cancel</button>
</form></body></html>"""


def _with_query(uri: str, params: dict[str, str]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


def _authorize(sb: TikTokSandbox) -> Any:
    src = request.form if request.method == "POST" else request.args
    service_id = src.get("service_id", "")
    state = src.get("state", "")

    def go(st: SandboxState) -> Any:
        app = next((a for a in st.apps.values() if a.service_id == service_id), None)
        if app is None:
            return Response(f"<!doctype html><h1>Invalid authorization link</h1><p>Unknown service_id "
                            f"{escape(service_id)}.</p>", status=400, mimetype="text/html")
        auto = request.method == "GET" and src.get("auto") in ("1", "true")
        if request.method == "GET" and not auto:
            options = "".join(
                f'<option value="{escape(s.open_id)}">{escape(s.name)} ({escape(s.base_region)}: '
                f'{escape(", ".join(st.shops[x].name for x in s.shop_ids))})</option>'
                for s in st.sellers.values())
            return Response(_PAGE.format(app=escape(app.name), service_id=escape(service_id), state=escape(state),
                                         options=options), mimetype="text/html")
        if src.get("action") == "deny" or src.get("deny") in ("1", "true"):
            return redirect(_with_query(app.redirect_uri, {"code": "null", "error": "auth_denied", "state": state}))
        open_id = src.get("open_id") or None
        shop_id = src.get("shop_id") or None
        try:
            code = auth.create_auth_code(st, app.app_key, open_id=open_id, shop_id=shop_id)
        except SandboxError as err:
            return Response(f"<!doctype html><h1>Authorization failed</h1><p>{escape(err.message)}</p>", status=400,
                            mimetype="text/html")
        return redirect(_with_query(app.redirect_uri, {"code": code, "state": state}))

    return sb.run(go)

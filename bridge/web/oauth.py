"""Connecting a TikTok shop from the browser.

``GET  /connect/tiktok``             the page with the "Connect TikTok Shop" button (and the shops
                                     already connected);
``POST /connect/tiktok/start``       issues a fresh signed single-use ``state`` (stored in
                                     ``oauth_states``) and redirects to TikTok's authorize link;
``GET  /oauth/tiktok/callback``      TikTok sends the merchant back with ``code`` and ``state``: a bad,
                                     expired or replayed state is refused (400, a clear page); else
                                     the code is exchanged, tokens stored encrypted, shops and
                                     ciphers discovered, webhooks subscribed, and it is audited.

The views are wrapped in the console's ``login_required`` (``bridge.web.auth``).
"""

from __future__ import annotations

import base64
import hashlib
import logging

from flask import Blueprint, Flask, Response, current_app, g, redirect, request
from markupsafe import escape
from werkzeug.wrappers import Response as BaseResponse

from bridge.bootstrap import App
from bridge.errors import BridgeError, ConfigurationError, RetriableError
from bridge.tiktok.oauth import OAuthError, connect, consume_state, new_state, state_key, state_keys
from bridge.web.auth import login_required

log = logging.getLogger("bridge.web.oauth")


def session_binding() -> str | None:
    """The console session's binding for an OAuth ``state`` (None when the console has no sessions)."""
    from bridge.web import auth

    return auth.session_binding()


bp = Blueprint("tiktok_oauth", __name__)

_STYLE = """body{font-family:system-ui,-apple-system,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;
color:#161823;line-height:1.5}h1{font-size:1.5rem}.btn{display:inline-block;background:#fe2c55;color:#fff;
border:0;border-radius:6px;padding:.7rem 1.4rem;font-size:1rem;cursor:pointer;text-decoration:none}
.ok{background:#e8f7ee;border-left:4px solid #1a7f37;padding:.6rem 1rem}.err{background:#fdecee;
border-left:4px solid #cf222e;padding:.6rem 1rem}table{border-collapse:collapse;margin:1rem 0}
td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left}code{background:#f3f3f3;padding:0 .2rem}"""


# The app's policy, with this page's one inline stylesheet allowed by its hash (nothing else inline).
_CSP = ("default-src 'self'; img-src 'self' data:; "
        f"style-src 'self' 'sha256-{base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()}'; "
        "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")


def _page(title: str, body: str, status: int = 200) -> Response:
    """A small HTML page; ``body`` is HTML whose dynamic parts the caller escaped."""
    html = (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)} — ttns-bridge</title>"
            f"<meta name=viewport content='width=device-width,initial-scale=1'><style>{_STYLE}</style></head>"
            f"<body><h1>{escape(title)}</h1>{body}</body></html>")
    resp = Response(html, status=status, mimetype="text/html")
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["Content-Security-Policy"] = _CSP
    return resp


def _container() -> App:
    c: App = current_app.extensions["ttns"]
    return c


def _missing_settings(c: App) -> list[str]:
    s = c.settings
    missing = []
    if not s.tiktok_app_key:
        missing.append("TTNS_TIKTOK_APP_KEY")
    if s.tiktok_app_secret is None or not s.tiktok_app_secret.get_secret_value():
        missing.append("TTNS_TIKTOK_APP_SECRET")
    if not s.tiktok_service_id:
        missing.append("TTNS_TIKTOK_SERVICE_ID")
    if s.secret_key is None or not s.secret_key.get_secret_value():
        missing.append("TTNS_SECRET_KEY")
    return missing


def _actor() -> str:
    user = getattr(g, "user", None)
    name = getattr(user, "username", None) or (user if isinstance(user, str) else None)
    return f"user:{name}" if name else "oauth"


@bp.get("/connect/tiktok")
@login_required
def connect_page() -> Response:
    c = _container()
    parts: list[str] = []
    connected = [s for s in request.args.get("connected", "").split(",") if s]
    if connected:
        names = [escape((c.store.shops.get(s) or _Named(s)).name or s) for s in connected[:20]]
        parts.append(f"<p class=ok>Connected: {', '.join(str(n) for n in names)}.</p>")
        if request.args.get("webhooks") == "failed":
            parts.append("<p class=err>The shop is connected but its webhooks could not all be subscribed; the "
                         "order poll still picks changes up. Run <code>ttns shops resubscribe</code> to retry.</p>")
    missing = _missing_settings(c)
    if missing:
        parts.append(f"<p class=err>The bridge is not configured for TikTok yet: set "
                     f"{', '.join(f'<code>{m}</code>' for m in missing)} and restart.</p>")
    else:
        parts.append("<p>Authorize the bridge on TikTok Shop. You will sign in with your seller account and come "
                     "back here; orders, products, fulfillment, returns and finance then sync with NetSuite.</p>"
                     "<form method=post action='/connect/tiktok/start'>"
                     "<button class=btn type=submit id=connect>Connect TikTok Shop</button></form>")
    shops = c.store.shops.list()
    if shops:
        rows = "".join(
            f"<tr><td>{escape(s.name)}</td><td><code>{escape(s.id)}</code></td><td>{escape(s.region)}</td>"
            f"<td>{escape(s.status)}</td><td>{escape(s.access_expires_at.isoformat() if s.access_expires_at else '')}"
            "</td></tr>" for s in shops)
        parts.append("<h2>Connected shops</h2><table><tr><th>Shop</th><th>Id</th><th>Region</th><th>Status</th>"
                     f"<th>Token expires</th></tr>{rows}</table>")
    return _page("Connect TikTok Shop", "".join(parts), 503 if missing else 200)


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name


@bp.post("/connect/tiktok/start")
@login_required
def connect_start() -> BaseResponse:
    c = _container()
    missing = _missing_settings(c)
    if missing:
        return _page("TikTok is not configured",
                     f"<p class=err>Set {escape(', '.join(missing))} first.</p>", 503)
    state = new_state(c.store, state_key(c.settings), created_by=_actor(), session_hash=session_binding())
    url = c.tiktok().oauth.authorize_url(state)
    return redirect(url, code=303)


@bp.get("/oauth/tiktok/callback")
@login_required
def callback() -> BaseResponse:
    c = _container()
    again = "<p><a class=btn href='/connect/tiktok'>Start again</a></p>"
    error = request.args.get("error")
    code = request.args.get("code", "")
    state = request.args.get("state", "")
    if error or not code or code == "null":
        log.info("TikTok authorization not granted", extra={"error": (error or "no code")[:64]})
        return _page("Authorization cancelled",
                     f"<p class=err>TikTok Shop did not authorize the bridge ({escape(error or 'no code')}).</p>"
                     + again, 400)
    try:
        keys = state_keys(c.settings)
    except ConfigurationError as exc:
        return _page("TikTok is not configured", f"<p class=err>{escape(str(exc))}</p>", 503)
    if not consume_state(c.store, keys, state, session_hash=session_binding()):
        log.warning("TikTok OAuth callback refused: bad, expired, replayed state or another session's state")
        return _page("This authorization link is not valid",
                     "<p class=err>The link you came back with is invalid, has expired or was already used, or it was "
                     "started from another browser session. For your security each connection link works once, "
                     "for 15 minutes, in the session that started it.</p>" + again, 400)
    tiktok = c.tiktok()
    try:
        result = connect(auth_code=code, oauth=tiktok.oauth, api=tiktok.api, store=c.store,
                         public_url=c.settings.public_url, actor=_actor())
    except OAuthError as exc:
        return _page("Could not connect", f"<p class=err>{escape(exc.message)}</p>" + again, 400)
    except ConfigurationError as exc:
        return _page("TikTok is not configured", f"<p class=err>{escape(exc.message)}</p>", 503)
    except RetriableError as exc:
        log.warning("TikTok OAuth exchange failed transiently: %s", exc)
        return _page("TikTok Shop is not reachable",
                     "<p class=err>TikTok Shop could not be reached to complete the connection. Please try "
                     "again in a minute.</p>" + again, 502)
    except BridgeError as exc:
        log.warning("TikTok OAuth connect failed: %s", exc)
        return _page("Could not connect", f"<p class=err>{escape(exc.message)}</p>" + again, 502)
    for problem in result.problems:
        log.warning("TikTok connect: %s", problem)
    ids = ",".join(s.id for s in result.shops)
    warn = "&webhooks=failed" if result.problems else ""
    return redirect(f"/connect/tiktok?connected={ids}{warn}", code=303)


def init_app(app: Flask, container: App) -> None:
    app.register_blueprint(bp)

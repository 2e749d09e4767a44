"""Console login: sessions, ``login_required`` for pages *and* actions, CSRF on every POST.

* Users are the ``users`` table (``ttns users add NAME``); passwords are hashed by werkzeug (scrypt).
* Sessions are server-side (``console_sessions``, ``bridge.store.security``): the cookie (``HttpOnly``,
  ``SameSite=Lax``, ``Secure`` always in production) carries only a random token and the CSRF token.
  The row holds the user, a fingerprint of the password hash (changing the password ends every
  session), the expiry (``SESSION_MAX`` after login) and the last activity (idle sessions end after
  ``SESSION_IDLE``). Logout deletes the row: a copied cookie stops working at once.
* ``login_required`` wraps a view: an anonymous GET of a page is redirected to ``/login``; an
  anonymous action (POST …) or API call gets 401. Every non-GET request behind it must carry the
  session's CSRF token (form field ``csrf_token`` or header ``X-CSRF-Token``), else 403. The login
  form itself is CSRF-protected too.
* Forms rendered by other blueprints (the TikTok connect page) get the token injected into every
  ``<form method=post>`` of their HTML, so every state-changing form of the app carries one.
* Login attempts are throttled per (user name, address) and per address, counted atomically in the
  database *before* the password is checked (so parallel guesses cannot race past the limit), with
  progressive delays instead of a lock: 5 free failures per user and address, 30 per address, then
  waits of 1 s, 2 s, 4 s … up to 15 minutes. Guesses from one address never delay the same user
  elsewhere, so nobody can lock a real user out. Behind a reverse proxy set ``TTNS_TRUSTED_PROXIES``
  so the address is the client's, not the proxy's.
* Roles (``users.role``): **viewer** reads every page but Users and Settings; **operator** also acts on the work
  (retry, resolve, ignore, sync an order now, re-run monitors, re-post a statement, edit a failed
  payload); **admin** also manages users, connections and settings. ``login_required`` enforces them
  on the server from one table (``REQUIRED_ROLE``, by endpoint): every state-changing request to an
  endpoint not in the table needs an admin (deny by default), and a refused request answers 403 and
  is audited.
  Exception owners (ops, finance, admin) stay queues, not permissions.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import math
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from markupsafe import Markup, escape
from sqlalchemy import Connection, Engine, select
from werkzeug.wrappers import Response as BaseResponse

from bridge.bootstrap import App
from bridge.store.security import PER_ADDRESS, PER_USER_ADDRESS, address_key, user_address_key
from bridge.store.tables import users

log = logging.getLogger("bridge.web.auth")

F = TypeVar("F", bound=Callable[..., Any])

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_IDLE = timedelta(hours=8)
SESSION_MAX = timedelta(hours=24)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

bp = Blueprint("auth", __name__)


ROLES = ("viewer", "operator", "admin")
ROLE_LABELS = {"viewer": "Viewer (reads everything)",
               "operator": "Operator (retry, resolve, sync now, re-run, re-post, edit payloads)",
               "admin": "Admin (also users, connections and settings)"}

#: The least role an endpoint needs. GET pages not listed are open to every logged-in user; any other
#: method on an endpoint not listed needs an admin.
REQUIRED_ROLE: dict[str, str] = {
    "auth.logout": "viewer",
    "console.exception_action": "operator",
    "console.exceptions_bulk": "operator",
    "console.exception_edit": "operator",
    "console.order_sync": "operator",
    "console.monitors_run": "operator",
    "console.settlement_repost": "operator",
    "console_api.exception_action": "operator",
    "console.users": "admin",
    "console.user_save": "admin",
    "console.user_remove": "admin",
    "console.settings_page": "admin",
    "console.settings_shop_flows": "admin",
    "console.settings_specs_check": "admin",
    "tiktok_oauth.connect_page": "admin",
    "tiktok_oauth.connect_start": "admin",
    "tiktok_oauth.callback": "admin",
}


def role_at_least(role: str, needed: str) -> bool:
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def required_role(endpoint: str | None, method: str) -> str:
    """The least role for this request (``REQUIRED_ROLE``; unknown actions need an admin)."""
    found = REQUIRED_ROLE.get(endpoint or "")
    if found is not None:
        return found
    return "viewer" if method in SAFE_METHODS else "admin"


@dataclass(frozen=True)
class ConsoleUser:
    id: int
    username: str
    role: str = "viewer"

    def __str__(self) -> str:
        return self.username

    def can(self, needed: str) -> bool:
        return role_at_least(self.role, needed)


def _container() -> App:
    c: App = current_app.extensions["ttns"]
    return c


def _now() -> datetime:
    return _container().clock.now()


# --- CSRF ------------------------------------------------------------------------------------------


def csrf_token() -> str:
    """The session's CSRF token (created on first use)."""
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_field() -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, csrf_token())


def csrf_valid() -> bool:
    expected = session.get("csrf")
    supplied = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    return isinstance(expected, str) and bool(supplied) and hmac.compare_digest(expected, supplied)


def _csrf_refused() -> tuple[Response, int]:
    log.warning("request refused: missing or wrong CSRF token", extra={"path": request.path})
    if _wants_html():
        return _small_page("Form expired", "<p>This form has expired or did not come from the console. "
                           "Go back, reload the page and try again.</p>"), 403
    return jsonify(error="CSRF token missing or invalid; send the X-CSRF-Token header"), 403


_POST_FORM = re.compile(r"<form\b(?=[^>]*\bmethod\s*=\s*[\"']?post\b)[^>]*>", re.IGNORECASE)


def inject_csrf(html: str, token: str) -> str:
    """Add the hidden CSRF field to every POST form of ``html`` that lacks one."""
    field = f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">'

    def add(m: re.Match[str]) -> str:
        rest = html[m.end():m.end() + 4000]
        close = rest.lower().find("</form")
        if CSRF_FIELD in (rest if close < 0 else rest[:close]):
            return m.group(0)
        return m.group(0) + field

    return _POST_FORM.sub(add, html)


# --- sessions --------------------------------------------------------------------------------------


def current_user() -> ConsoleUser | None:
    """The logged-in user of this request, or None (the session is checked against the database)."""
    if "_ttns_user" in g:
        return cast(ConsoleUser | None, g._ttns_user)
    user = _load_user()
    g._ttns_user = user
    return user


def _load_user() -> ConsoleUser | None:
    sid = session.get("sid")
    if not isinstance(sid, str) or not sid:
        return None
    found = _container().store.sessions.load(sid, idle=SESSION_IDLE)
    if found is None:
        session.clear()
        return None
    return ConsoleUser(found.user_id, found.username, found.role)


def _start_session(user_id: int, password_hash: str) -> None:
    session.clear()  # a fresh session (and CSRF token) at every login: no session fixation
    session.permanent = True
    session["sid"] = _container().store.sessions.create(user_id, password_hash, address=_client_address(),
                                                         max_age=SESSION_MAX)
    csrf_token()


def session_binding() -> str:
    """A digest of this request's console session, to bind values (an OAuth ``state``) to it; "" when
    there is no session (the connect views require a login, so in the app there always is one)."""
    sid = session.get("sid")
    if not isinstance(sid, str) or not sid:
        return ""
    return hashlib.sha256(b"ttns-binding:" + sid.encode("utf-8")).hexdigest()


def _client_address() -> str:
    return (request.remote_addr or "")[:64]


def _wants_html() -> bool:
    if request.path.startswith("/api/") or request.path == "/metrics":
        return False
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best != "application/json"


def login_required(fn: F) -> F:
    """Pages redirect anonymous users to the login; actions and API calls get 401; every non-GET
    request must carry the session's CSRF token (403 otherwise)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None:
            if request.method in SAFE_METHODS and _wants_html():
                return redirect(url_for("auth.login", next=_next_target()), code=302)
            return jsonify(error="login required"), 401
        if request.method not in SAFE_METHODS and not csrf_valid():
            return _csrf_refused()
        needed = required_role(request.endpoint, request.method)
        if not user.can(needed):
            return _forbidden(user, needed)
        g.user = user
        return fn(*args, **kwargs)

    return cast(F, wrapper)


def _forbidden(user: ConsoleUser, needed: str) -> tuple[Response, int]:
    _container().store.audit.record(f"user:{user.username}", "auth.forbidden", entity=f"user:{user.username}",
                                    detail={"method": request.method, "path": request.path[:300],
                                            "role": user.role, "needs": needed})
    log.warning("console request refused: role too low",
                extra={"username": user.username, "role": user.role, "needs": needed, "path": request.path})
    text = f"This needs the {needed} role; you are {user.role}. Ask an admin of the console."
    if _wants_html():
        return _small_page("Not allowed", f"<p>{escape(text)}</p>"), 403
    return jsonify(error=text), 403


def _next_target() -> str:
    full = request.full_path if request.query_string else request.path
    return full.rstrip("?")


def safe_next(target: str | None) -> str:
    """Only same-site relative paths (no ``//host``, no scheme, no control characters such as CR/LF,
    which could split the ``Location`` header) are followed after login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/console/"
    if len(target) > 2000 or not target.isprintable():
        return "/console/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/console/"
    return target


# --- login / logout ----------------------------------------------------------------------------------


def _render_login(error: str = "", status: int = 200, username: str = "") -> tuple[str, int]:
    store = _container().store
    return render_template("console/login.html", error=error, username=username,
                           no_users=store.users.count() == 0,
                           next=safe_next(request.values.get("next"))), status


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "GET":
        if current_user() is not None:
            return redirect(safe_next(request.args.get("next")))
        return _render_login()
    if not csrf_valid():
        return _render_login("The login form expired. Please try again.", 403)
    username = (request.form.get("username") or "").strip()[:128]
    password = request.form.get("password") or ""
    if not username or not password or not username.isprintable():
        return _render_login("Enter your user name and password.", 400, "" if not username.isprintable() else username)
    c = _container()
    address = _client_address()
    ua_key, addr_key = user_address_key(username, address), address_key(address)
    verdict = c.store.throttles.attempt({ua_key: PER_USER_ADDRESS, addr_key: PER_ADDRESS})
    if not verdict.allowed:
        wait = max(1, math.ceil(verdict.retry_after))
        log.warning("console login throttled", extra={"username": username, "ip": address, "retry_after": wait})
        page, status = _render_login(f"Too many failed attempts. Wait {_duration(wait)} and try again.", 429,
                                     username)
        return Response(page, status=status, mimetype="text/html", headers={"Retry-After": str(wait)})
    if not c.store.users.check(username, password):
        c.store.audit.record("anonymous", "auth.login_failed", entity=f"user:{username}"[:255],
                             detail={"ip": address})
        log.info("console login failed", extra={"username": username})
        return _render_login("Wrong user name or password.", 401, username)
    with _read(c.store.engine) as conn:
        row = conn.execute(select(users.c.id, users.c.password_hash).where(users.c.username == username)).first()
    if row is None:  # deleted between the check and now
        return _render_login("Wrong user name or password.", 401, username)
    c.store.throttles.succeeded(clear=[ua_key], uncount=[addr_key])
    _start_session(int(row.id), str(row.password_hash))
    c.store.audit.record(f"user:{username}", "auth.login", entity=f"user:{username}"[:255],
                         detail={"ip": address})
    return redirect(safe_next(request.form.get("next")), code=303)


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    return f"{math.ceil(seconds / 60)} minutes"


@bp.post("/logout")
@login_required
def logout() -> BaseResponse:
    user = current_user()
    sid = session.get("sid")
    if isinstance(sid, str):
        _container().store.sessions.revoke(sid)  # server-side: the cookie is worthless from now on
    session.clear()
    if user is not None:
        _container().store.audit.record(f"user:{user.username}", "auth.logout", entity=f"user:{user.username}")
    return redirect(url_for("auth.login"), code=303)


def _small_page(title: str, body: str) -> Response:
    html = (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{escape(title)}</title>"
            f"<link rel=stylesheet href='/console/static/console.css'></head><body class=narrow>"
            f"<main><h1>{escape(title)}</h1>{body}<p><a href='/console/'>Back to the console</a></p></main>"
            "</body></html>")
    return Response(html, mimetype="text/html")


# --- wiring ------------------------------------------------------------------------------------------


def _inject(resp: Response) -> Response:
    if resp.mimetype != "text/html" or resp.is_streamed or resp.direct_passthrough:
        return resp
    body = resp.get_data(as_text=True)
    if "<form" not in body.lower():
        return resp
    changed = inject_csrf(body, csrf_token())
    if changed != body:
        resp.set_data(changed)
    return resp


def init_app(app: Flask, container: App) -> None:
    """Register the login routes and the cookie settings (idempotent; the console calls it)."""
    if "auth" in app.blueprints:
        return
    s = container.settings
    app.config.update(
        SESSION_COOKIE_SECURE=bool(s.session_cookie_secure or s.environment == "production"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=SESSION_MAX,
        SESSION_REFRESH_EACH_REQUEST=False,
    )
    app.register_blueprint(bp)
    app.after_request(_inject)
    app.jinja_env.globals.update(csrf_token=csrf_token, csrf_field=csrf_field)


def _read(engine: Engine) -> Connection:
    """A connection for reads (on SQLite it does not take the write lock)."""
    return engine.connect().execution_options(sqlite_read_only=True)


__all__ = [
    "REQUIRED_ROLE",
    "ROLES",
    "ConsoleUser",
    "csrf_field",
    "csrf_token",
    "csrf_valid",
    "current_user",
    "init_app",
    "inject_csrf",
    "login_required",
    "required_role",
    "role_at_least",
    "safe_next",
]

"""The console: server-rendered pages behind the login, for the ops, finance and admin users.

``init_app(app, container)`` registers the login (``bridge.web.auth``), this module-level blueprint
(pages under ``/console/``, static files under ``/console/static/``) and a redirect from ``/``.
Views find the wiring with ``current_app.extensions["ttns"]``. Every page works without
JavaScript; the small script only refreshes the dashboard and ticks the token countdowns.

Pages degrade gracefully: an area whose flow has not been set up (settlement, inventory,
fulfillment) shows "not configured" instead of failing.

Defence in depth: responses carry a strict Content-Security-Policy, are never cached, and every
HTML page is checked for the configured secret values before it leaves (a hit is replaced and
logged as an error: it is a bug to fix).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import Blueprint, Flask, Response, current_app, redirect
from markupsafe import Markup, escape
from pydantic import SecretStr
from werkzeug.wrappers import Response as BaseResponse

from bridge.bootstrap import App
from bridge.mapping.orders import ZERO_DECIMAL_CURRENCIES
from bridge.settings import Settings

log = logging.getLogger("bridge.web.console")

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'")
MIN_SECRET_CHARS = 6
LEAKS_KEY = "ttns_console_secret_hits"


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret value (each Fernet key of a rotation list separately)."""
    out: set[str] = set()
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            raw = value.get_secret_value()
            if not raw:
                continue
            out.add(raw)
            if name == "secret_key":
                out.update(p.strip() for p in raw.split(",") if p.strip())
    return sorted((s for s in out if len(s) >= MIN_SECRET_CHARS), key=len, reverse=True)


def scrub(html: str, secrets: list[str]) -> tuple[str, int]:
    hits = 0
    for s in secrets:
        if s in html:
            hits += html.count(s)
            html = html.replace(s, "[redacted]")
    return html, hits


@bp.after_request
def _console_headers(resp: Response) -> Response:
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["X-Frame-Options"] = "DENY"
    if not resp.headers.get("Cache-Control"):
        resp.headers["Cache-Control"] = "no-store"
    if resp.mimetype == "text/html" and not resp.direct_passthrough and not resp.is_streamed:
        container: App = current_app.extensions["ttns"]
        html, hits = scrub(resp.get_data(as_text=True), secret_values(container.settings))
        if hits:
            current_app.extensions[LEAKS_KEY] = current_app.extensions.get(LEAKS_KEY, 0) + hits
            log.error("a configured secret value was about to be shown on a console page; it was replaced",
                      extra={"hits": hits})
            resp.set_data(html)
    return resp


# --- template filters ---------------------------------------------------------------------------------


def _dt(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _span(seconds: float) -> str:
    s = abs(seconds)
    if s < 60:
        return f"{s:.0f} s"
    if s < 3600:
        return f"{s / 60:.0f} min"
    if s < 86400 * 2:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} days"


def ago(value: datetime | None, now: datetime | None = None) -> str:
    if value is None:
        return "never"
    now = now or datetime.now(UTC)
    delta = (now - value).total_seconds()
    return f"{_span(delta)} ago" if delta >= 0 else f"in {_span(delta)}"


def countdown(value: datetime | None, now: datetime | None = None) -> str:
    if value is None:
        return "unknown"
    now = now or datetime.now(UTC)
    delta = (value - now).total_seconds()
    if delta <= 0:
        return f"expired {_span(delta)} ago"
    days, rem = divmod(int(delta), 86400)
    hours, rem = divmod(rem, 3600)
    minutes = rem // 60
    return f"{days} d {hours} h {minutes} min" if days else f"{hours} h {minutes} min"


def when(value: datetime | str | None, now: datetime | None = None) -> Markup:
    """An absolute time with its zone and, beside it, how long ago: ``2026-12-07 14:31 UTC (5 min ago)``."""
    if value is None or value == "":
        return Markup("—")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return escape(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    absolute = value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return Markup('<time datetime="{}">{} <span class="muted">({})</span></time>').format(
        value.isoformat(), absolute, ago(value, now))


def money(value: Any, currency: str = "") -> Markup:
    """An amount with its currency (``1,234.50 USD``); negative amounts carry the class ``neg``."""
    if value is None or value == "":
        return Markup("—")
    try:
        d = Decimal(str(value))
    except ArithmeticError:
        return escape(str(value))
    if d.as_tuple().exponent > -2 and currency.upper() not in ZERO_DECIMAL_CURRENCIES:  # type: ignore[operator]
        d = d.quantize(Decimal("0.01"))
    text = f"{d:,}"
    return Markup('<span class="money{}">{}{}</span>').format(
        " neg" if d < 0 else "", text, Markup("&nbsp;") + currency if currency else "")


def _ms(value: float | int | None) -> str:
    if value is None:
        return "—"
    return f"{value:.0f} ms" if value < 1000 else f"{value / 1000:.2f} s"


def _secs(value: float | None) -> str:
    return "—" if value is None else _span(value) if value >= 60 else f"{value:.1f} s"


def _num(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, Decimal):
        return f"{value.normalize():,f}" if value == value.to_integral_value() else f"{value:,}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# --- wiring ----------------------------------------------------------------------------------------


def _root() -> BaseResponse:
    return redirect("/console/", code=302)


def init_app(app: Flask, container: App) -> None:
    from bridge.web import auth
    from bridge.web.console import views  # noqa: F401  (registers the routes on ``bp``)

    auth.init_app(app, container)
    app.register_blueprint(bp)
    if not any(r.rule == "/" for r in app.url_map.iter_rules()):
        app.add_url_rule("/", endpoint="console_root", view_func=_root)
    app.jinja_env.filters.update(dt=_dt, ago=ago, countdown=countdown, ms=_ms, secs=_secs, num=_num, when=when,
                                 money=money)
    app.jinja_env.globals.update(timedelta=timedelta)


__all__ = ["bp", "countdown", "init_app", "scrub", "secret_values"]

"""Login, sessions and CSRF: pages and actions refuse anonymous users, every POST needs the token."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from flask import Flask

from bridge.bootstrap import App, build
from bridge.cli import Obj, main
from bridge.clock import ManualClock
from bridge.web import create_app
from bridge.web.auth import inject_csrf, safe_next
from tests.console.conftest import PASSWORD, Console, console_settings, login

PAGES = ("/console/", "/console/connections", "/console/exceptions", "/console/exceptions/1", "/console/orders",
         "/console/orders/S1/O1", "/console/trace/abc", "/console/inventory", "/console/settlement",
         "/console/settlement/ST1", "/console/settlement/payout/P1", "/console/monitors", "/console/specs",
         "/connect/tiktok", "/oauth/tiktok/callback?code=c&state=s", "/console/exceptions/1/edit",
         "/console/flows/abc", "/console/users", "/console/audit", "/console/settings")
ACTIONS = ("/console/exceptions/1/replay", "/console/exceptions/1/resolve", "/console/exceptions/1/ignore",
           "/console/exceptions/bulk", "/console/monitors/run", "/logout", "/connect/tiktok/start",
           "/api/console/exceptions/1/resolve", "/console/exceptions/1/edit", "/console/orders/S1/O1/sync",
           "/console/settlement/ST1/repost", "/console/users", "/console/users/abc/remove",
           "/console/settings/shops/S1/flows", "/console/settings/specs/check")
APIS = ("/api/console/summary", "/api/console/exceptions")


def _console_rules(app: Flask) -> set[str]:
    return {r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith(("console.", "console_api."))
            and r.endpoint != "console.static"}


def test_every_console_route_is_covered_by_these_tests(console: Console) -> None:
    covered = {re.sub(r"\d+|S1|O1|P1|abc|ST1|replay|resolve|ignore", "X", p.split("?")[0]) for p in
               PAGES + ACTIONS + APIS}
    rules = {re.sub(r"<[^>]+>", "X", r) for r in _console_rules(console.app)}
    assert rules <= covered | {"/console/exceptions/X/X", "/api/console/exceptions/X/X"}, rules - covered


def test_anonymous_pages_redirect_to_login_and_actions_get_401(container: App) -> None:
    client = create_app(root=container).test_client()
    for path in PAGES:
        resp = client.get(path, headers={"Accept": "text/html"})
        assert resp.status_code == 302, path
        assert resp.headers["Location"].startswith("/login?next="), path
    for path in ACTIONS:
        resp = client.post(path, data={"note": "x"})
        assert resp.status_code == 401, path
    for path in APIS:
        assert client.get(path).status_code == 401, path
    assert container.store.queue.counts() == {}  # nothing was enqueued by the refused "run monitors"


def test_login_then_pages_open_and_logout_ends_the_session(container: App) -> None:
    client = create_app(root=container).test_client()
    assert login(client, "ops", "wrong password!!").status_code == 401
    resp = login(client, "ops", PASSWORD)
    assert resp.status_code == 303 and resp.headers["Location"] == "/console/"
    assert client.get("/console/").status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/").get_data(as_text=True))
    assert token
    assert client.post("/logout").status_code == 403  # logout is an action too: CSRF required
    assert client.post("/logout", data={"csrf_token": token.group(1)}).status_code == 303
    assert client.get("/console/").status_code == 302
    actions = [a["action"] for a in container.store.audit.list()]
    assert actions.count("auth.login") == 1 and "auth.login_failed" in actions and "auth.logout" in actions


def test_every_post_needs_the_csrf_token(console: Console) -> None:
    c = console.container
    exc_id = c.store.exceptions.raise_(code="UNKNOWN_SKU", owner="ops", title="t", entity="order:S:1")
    paths = [f"/console/exceptions/{exc_id}/resolve", f"/console/exceptions/{exc_id}/ignore",
             f"/console/exceptions/{exc_id}/replay", "/console/exceptions/bulk", "/console/monitors/run", "/logout",
             "/connect/tiktok/start", f"/api/console/exceptions/{exc_id}/resolve"]
    for path in paths:
        assert console.client.post(path, data={"ids": [str(exc_id)], "action": "resolve"}).status_code == 403, path
        bad = console.client.post(path, data={"csrf_token": "x" * 43, "ids": [str(exc_id)], "action": "resolve"})
        assert bad.status_code == 403, path
    assert c.store.exceptions.get(exc_id).status == "open"  # type: ignore[union-attr]
    ok = console.client.post(f"/api/console/exceptions/{exc_id}/resolve", json={"note": "done"},
                             headers={"X-CSRF-Token": console.csrf()})
    assert ok.status_code == 200 and ok.get_json()["ok"] is True


def test_the_login_form_is_csrf_protected_and_next_never_leaves_the_site(container: App) -> None:
    client = create_app(root=container).test_client()
    client.get("/login")
    resp = client.post("/login", data={"username": "ops", "password": PASSWORD})
    assert resp.status_code == 403 and client.get("/console/").status_code == 302
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)"):
        assert safe_next(target) == "/console/"
    assert safe_next("/console/orders?q=1") == "/console/orders?q=1"


def test_repeated_failures_make_that_user_and_address_wait(container: App) -> None:
    client = create_app(root=container).test_client()
    for _ in range(5):
        assert login(client, "ops", "not the password").status_code == 401
    refused = login(client, "ops", PASSWORD)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert "Too many failed attempts" in refused.get_data(as_text=True)


def test_session_ends_when_the_password_changes_or_after_idle_time(sqlite_url: str) -> None:
    clock = ManualClock()
    c = build(console_settings(sqlite_url), clock=clock, areas=())
    try:
        c.store.users.add("fin", PASSWORD)
        client = create_app(root=c).test_client()
        assert login(client, "fin", PASSWORD).status_code == 303
        assert client.get("/console/").status_code == 200
        c.store.users.add("fin", PASSWORD + "-new")  # password reset
        assert client.get("/console/").status_code == 302
        assert login(client, "fin", PASSWORD + "-new").status_code == 303
        clock.advance(hours=9)  # idle longer than 8 hours
        assert client.get("/console/").status_code == 302
    finally:
        c.close()


def test_session_cookie_is_secure_httponly_and_samesite(sqlite_url: str) -> None:
    c = build(console_settings(sqlite_url, environment="production", session_cookie_secure=False), areas=())
    try:
        app = create_app(root=c)
        assert app.config["SESSION_COOKIE_SECURE"] is True  # production insists, whatever the setting
        resp = app.test_client().get("/login")
        cookie = resp.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    finally:
        c.close()


def test_users_add_command_creates_a_user_who_can_log_in(sqlite_url: str) -> None:
    c = build(console_settings(sqlite_url), areas=())
    try:
        result = CliRunner().invoke(main, ["users", "add", "finance-lead"], obj=Obj(c),
                                    input=f"{PASSWORD}\n{PASSWORD}\n")
        assert result.exit_code == 0, result.output
        client = create_app(root=c).test_client()
        assert login(client, "finance-lead", PASSWORD).status_code == 303
    finally:
        c.close()


def test_login_page_explains_how_to_create_the_first_user(sqlite_url: str) -> None:
    c = build(console_settings(sqlite_url), areas=())
    try:
        page = create_app(root=c).test_client().get("/login").get_data(as_text=True)
        assert "ttns users add" in page
    finally:
        c.close()


def test_post_forms_of_other_pages_get_the_token_injected(console: Console) -> None:
    html = console.html("/connect/tiktok")
    forms = re.findall(r"<form[^>]*method=['\"]?post[^>]*>.*?</form>", html, re.S | re.I)
    assert forms and all('name="csrf_token"' in f for f in forms)
    assert inject_csrf("<form method=post action='/a'><button></button></form>", "tok").count('value="tok"') == 1
    already = '<form method="post"><input type="hidden" name="csrf_token" value="t"></form>'
    assert inject_csrf(already, "other") == already
    assert inject_csrf("<form method=get></form>", "tok") == "<form method=get></form>"


@pytest.mark.parametrize("path", ["/console/exceptions?page=abc", "/console/exceptions?owner=boss",
                                  "/console/orders?status=weird", "/console/orders/bad%20id/1",
                                  "/console/trace/%3Cscript%3E"])
def test_bad_input_is_a_clear_400(console: Console, path: str) -> None:
    resp = console.client.get(path)
    assert resp.status_code == 400 and "<h1>" in resp.get_data(as_text=True)

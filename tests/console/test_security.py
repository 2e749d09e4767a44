"""Console security: server-side sessions revoked on logout, login throttles that cannot be raced or used
to lock a real user out (per user and address, and per address, counted atomically on both engines)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from bridge.bootstrap import App, build
from bridge.clock import ManualClock
from bridge.web import create_app
from tests.console.conftest import PASSWORD, console_settings

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def _bridge(url: str, clock: ManualClock) -> Iterator[App]:
    c = build(console_settings(url), clock=clock, areas=())
    c.store.users.add("ops", PASSWORD)
    yield c
    c.close()


@pytest.fixture
def bridge(db_url: str, clock: ManualClock) -> Iterator[App]:
    """On SQLite and PostgreSQL: revocation and the atomic counting are the database's job."""
    yield from _bridge(db_url, clock)


@pytest.fixture
def one_engine(sqlite_url: str, clock: ManualClock) -> Iterator[App]:
    """For the throttle's arithmetic, the same on both engines (each wrong password costs a scrypt)."""
    yield from _bridge(sqlite_url, clock)


def client_at(c: App, address: str) -> FlaskClient:
    client = create_app(root=c).test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def form_token(client: FlaskClient) -> str:
    m = _CSRF.search(client.get("/login").get_data(as_text=True))
    assert m
    return m.group(1)


def attempt(client: FlaskClient, username: str, password: str, token: str | None = None) -> Any:
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token or form_token(client), "next": "/console/"})


def session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("ttns_session")
    assert cookie is not None
    return cookie.value


def test_logout_revokes_the_session_server_side_so_a_copied_cookie_is_worthless(bridge: App) -> None:
    browser = client_at(bridge, "10.0.0.1")
    assert attempt(browser, "ops", PASSWORD).status_code == 303
    stolen = session_cookie(browser)
    thief = client_at(bridge, "10.6.6.6")
    thief.set_cookie("ttns_session", stolen)
    assert thief.get("/console/").status_code == 200  # the copy is the session, until logout
    token = _CSRF.search(browser.get("/console/").get_data(as_text=True))
    assert token
    assert bridge.store.sessions.count() == 1
    assert browser.post("/logout", data={"csrf_token": token.group(1)}).status_code == 303
    assert bridge.store.sessions.count() == 0
    assert thief.get("/console/").status_code == 302  # revoked: back to the login
    assert thief.post("/api/console/exceptions/1/resolve", json={},
                      headers={"X-CSRF-Token": token.group(1)}).status_code == 401


def test_sessions_end_for_every_device_when_the_user_is_revoked(one_engine: App) -> None:
    a, b = client_at(one_engine, "10.0.0.1"), client_at(one_engine, "10.0.0.2")
    assert attempt(a, "ops", PASSWORD).status_code == 303 and attempt(b, "ops", PASSWORD).status_code == 303
    uid = one_engine.store.sessions.load(_sid(a), idle=__import__("datetime").timedelta(hours=1))
    assert uid is not None
    assert one_engine.store.sessions.revoke_user(uid.user_id) == 2
    assert a.get("/console/").status_code == 302 and b.get("/console/").status_code == 302


def _sid(client: FlaskClient) -> str:
    with client.session_transaction() as s:
        sid = s.get("sid")
    assert isinstance(sid, str)
    return sid


def test_parallel_wrong_passwords_cannot_race_past_the_throttle(bridge: App) -> None:
    """96 guesses at once from one address (the tester's attack): exactly 5 are checked, the rest refused
    without a check."""
    n = 96
    clients = [client_at(bridge, "10.0.0.9") for _ in range(n)]
    tokens = [form_token(cl) for cl in clients]
    barrier = threading.Barrier(n)
    codes: list[int] = []
    lock = threading.Lock()

    def guess(i: int) -> None:
        barrier.wait()
        code = attempt(clients[i], "ops", f"wrong-guess-{i:04d}", tokens[i]).status_code
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(set(codes)) == [401, 429] and codes.count(401) == 5, codes
    checked = [a for a in bridge.store.audit.list() if a["action"] == "auth.login_failed"]
    assert len(checked) == 5


def test_guesses_from_one_address_never_lock_the_user_out_elsewhere(bridge: App, clock: ManualClock) -> None:
    attacker = client_at(bridge, "203.0.113.7")
    for i in range(5):
        assert attempt(attacker, "ops", f"guess-{i}-wrong").status_code == 401
    assert attempt(attacker, "ops", PASSWORD).status_code == 429  # waiting: not even the right one is checked
    for _ in range(20):  # refused attempts do not count and do not extend the wait
        assert attempt(attacker, "ops", "guess-more-wrong").status_code == 429
    assert attempt(client_at(bridge, "198.51.100.4"), "ops", PASSWORD).status_code == 303  # the real user
    clock.advance(seconds=1)
    assert attempt(attacker, "ops", "guess-6-wrong").status_code == 401  # the wait doubles each time
    clock.advance(seconds=1)
    assert attempt(attacker, "ops", "guess-7-wrong").status_code == 429
    clock.advance(seconds=1)
    assert attempt(attacker, "ops", "guess-7-wrong").status_code == 401
    clock.advance(minutes=16)  # a quiet quarter of an hour forgets the counter
    for i in range(5):
        assert attempt(attacker, "ops", f"late-{i}-wrong").status_code == 401


def test_one_address_spraying_many_user_names_is_throttled_per_address(one_engine: App) -> None:
    sprayer = client_at(one_engine, "203.0.113.8")
    for i in range(30):
        assert attempt(sprayer, f"user{i}", "spray-password-1").status_code == 401
    assert attempt(sprayer, "someone-new", "spray-password-1").status_code == 429
    assert attempt(client_at(one_engine, "198.51.100.5"), "ops", PASSWORD).status_code == 303


def test_a_successful_login_clears_its_own_counter(one_engine: App) -> None:
    browser = client_at(one_engine, "10.0.0.3")
    for i in range(4):
        assert attempt(browser, "ops", f"typo-{i}-password").status_code == 401
    assert attempt(browser, "ops", PASSWORD).status_code == 303
    other = client_at(one_engine, "10.0.0.3")
    for i in range(4):  # the typos were forgiven: four more without a wait
        assert attempt(other, "ops", f"typo-{i}-again-pw").status_code == 401


def test_users_logout_command_ends_every_session_of_a_user(one_engine: App) -> None:
    from click.testing import CliRunner

    from bridge.cli import Obj, main

    a, b = client_at(one_engine, "10.0.0.1"), client_at(one_engine, "10.0.0.2")
    assert attempt(a, "ops", PASSWORD).status_code == 303 and attempt(b, "ops", PASSWORD).status_code == 303
    result = CliRunner().invoke(main, ["users", "logout", "ops"], obj=Obj(one_engine))
    assert result.exit_code == 0 and "ended 2 session(s)" in result.output, result.output
    assert a.get("/console/").status_code == 302 and b.get("/console/").status_code == 302
    unknown = CliRunner().invoke(main, ["users", "logout", "nobody"], obj=Obj(one_engine))
    assert unknown.exit_code != 0 and "no console user" in unknown.output


def test_counters_left_by_a_spray_are_swept_by_the_next_successful_login(one_engine: App,
                                                                        clock: ManualClock) -> None:
    from bridge.store.security import address_key, user_address_key

    sprayer = client_at(one_engine, "203.0.113.9")
    for i in range(3):
        assert attempt(sprayer, f"spray{i}", "spray-password-1").status_code == 401
    assert one_engine.store.throttles.failures(user_address_key("spray0", "203.0.113.9")) == 1
    clock.advance(minutes=31)
    assert attempt(client_at(one_engine, "198.51.100.9"), "ops", PASSWORD).status_code == 303
    assert one_engine.store.throttles.failures(user_address_key("spray0", "203.0.113.9")) == 0
    assert one_engine.store.throttles.failures(address_key("203.0.113.9")) == 0

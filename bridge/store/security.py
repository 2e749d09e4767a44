"""Console sessions kept server-side, and login throttles that hold across processes and machines.

Sessions: the browser holds a random token; the database holds its sha256 with the user, a
fingerprint of the password hash and the expiry times. Deleting the row (logout, ``revoke_user``)
ends the session everywhere at once: a copied cookie is worth nothing afterwards.

Throttles: every login attempt is *counted before the password is checked*, inside one transaction
that holds the counters' rows (``BEGIN IMMEDIATE`` on SQLite, ``SELECT … FOR UPDATE`` on PostgreSQL),
so a burst of parallel guesses cannot all slip past a check made before any of them was recorded.
Two counters apply to each attempt: per (user name, address) and per address. Beyond a free allowance
each further failure makes the key wait longer (1 s, 2 s, 4 s … up to 15 minutes); attempts made while
a key waits are refused without checking the password and without counting. A counter is forgotten
after 15 minutes without failures. There is no account-wide lock: guesses from one address never
delay the same user at another address.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bridge.clock import Clock, SystemClock
from bridge.store.tables import console_sessions, login_throttles, users


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "backslashreplace")).hexdigest()


def password_fingerprint(password_hash: str) -> str:
    return _sha256("pw:" + password_hash)


@dataclass(frozen=True)
class SessionUser:
    user_id: int
    username: str
    created_at: datetime
    role: str = "viewer"


class ConsoleSessions:
    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()

    def create(self, user_id: int, password_hash: str, *, address: str = "", max_age: timedelta) -> str:
        """A new session for the user; returns the token for the cookie (only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        with self.engine.begin() as c:
            c.execute(delete(console_sessions).where(console_sessions.c.expires_at <= now))
            c.execute(console_sessions.insert().values(
                id_hash=_sha256(token), user_id=user_id, password_fp=password_fingerprint(password_hash),
                address=address[:64], created_at=now, seen_at=now, expires_at=now + max_age))
        return token

    def load(
        self, token: str, *, idle: timedelta, touch_after: timedelta = timedelta(seconds=60)
    ) -> SessionUser | None:
        """The session's user while the session exists, has not expired or idled out, and the password
        has not changed since it began; otherwise None (and an ended session is deleted)."""
        if not token or len(token) > 128:
            return None
        now = self.clock.now()
        key = _sha256(token)
        with self.engine.connect().execution_options(sqlite_read_only=True) as c:
            row = c.execute(
                select(console_sessions.c.user_id, console_sessions.c.password_fp, console_sessions.c.seen_at,
                       console_sessions.c.expires_at, console_sessions.c.created_at, users.c.username,
                       users.c.password_hash, users.c.role)
                .select_from(console_sessions.join(users, users.c.id == console_sessions.c.user_id))
                .where(console_sessions.c.id_hash == key)
            ).first()
        if row is None:
            return None
        fresh = row.expires_at > now and now - row.seen_at <= idle
        if not fresh or not secrets.compare_digest(row.password_fp, password_fingerprint(row.password_hash)):
            self.revoke(token)
            return None
        if now - row.seen_at > touch_after:
            with self.engine.begin() as c:
                c.execute(update(console_sessions).where(console_sessions.c.id_hash == key).values(seen_at=now))
        return SessionUser(int(row.user_id), str(row.username), row.created_at, str(row.role))

    def revoke(self, token: str) -> bool:
        with self.engine.begin() as c:
            return bool(c.execute(delete(console_sessions).where(console_sessions.c.id_hash == _sha256(token)))
                        .rowcount)

    def revoke_user(self, user_id: int) -> int:
        """End every session of a user (password reset, removal); returns how many."""
        with self.engine.begin() as c:
            return int(c.execute(delete(console_sessions).where(console_sessions.c.user_id == user_id)).rowcount)

    def revoke_username(self, username: str) -> int | None:
        """End every session of the user named ``username``; None when there is no such user."""
        with self.engine.begin() as c:
            uid = c.execute(select(users.c.id).where(users.c.username == username)).scalar()
            if uid is None:
                return None
            return int(c.execute(delete(console_sessions).where(console_sessions.c.user_id == uid)).rowcount)

    def count(self, user_id: int | None = None) -> int:
        from sqlalchemy import func

        stmt = select(func.count()).select_from(console_sessions)
        if user_id is not None:
            stmt = stmt.where(console_sessions.c.user_id == user_id)
        with self.engine.connect().execution_options(sqlite_read_only=True) as c:
            return int(c.execute(stmt).scalar_one())


# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Limit:
    """A throttle: ``free`` failures without delay, then waits doubling from 1 s up to ``cap``."""

    free: int
    cap: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(minutes=15)

    def delay(self, failures: int) -> timedelta:
        if failures < self.free:
            return timedelta(0)
        return min(self.cap, timedelta(seconds=2 ** min(failures - self.free, 20)))


PER_USER_ADDRESS = Limit(free=5)
PER_ADDRESS = Limit(free=30)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: float = 0.0  # seconds, when refused


def user_address_key(username: str, address: str) -> str:
    return _sha256(f"ua\x1f{username.casefold()}\x1f{address}")


def address_key(address: str) -> str:
    return _sha256(f"a\x1f{address}")


class LoginThrottles:
    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self._pg = engine.dialect.name == "postgresql"

    def _insert_ignore(self) -> Any:
        if self._pg:
            return postgresql.insert(login_throttles).on_conflict_do_nothing()
        return sqlite.insert(login_throttles).on_conflict_do_nothing()

    def attempt(self, keys: dict[str, Limit]) -> Verdict:
        """Count one login attempt against every key, atomically, before the password is checked.

        Refused (``allowed=False``, nothing counted) while any key waits out its delay."""
        now = self.clock.now()
        ordered = sorted(keys)  # one lock order for every caller: no deadlock between two attempts
        with self.engine.begin() as c:
            for k in ordered:
                c.execute(self._insert_ignore(), {"key": k, "failures": 0, "last_failure_at": now,
                                                  "blocked_until": None})
            stmt = select(login_throttles).where(login_throttles.c.key.in_(ordered)).order_by(login_throttles.c.key)
            if self._pg:
                stmt = stmt.with_for_update()
            rows = {r.key: r for r in c.execute(stmt)}
            state: dict[str, tuple[int, datetime | None]] = {}
            for k in ordered:
                r = rows[k]
                failures, blocked = int(r.failures), r.blocked_until
                if now - r.last_failure_at > keys[k].forget_after:
                    failures, blocked = 0, None
                state[k] = (failures, blocked)
            waits = [(b - now).total_seconds() for _, b in state.values() if b is not None and b > now]
            if waits:
                return Verdict(False, max(waits))
            for k in ordered:
                failures = state[k][0] + 1
                delay = keys[k].delay(failures)
                c.execute(update(login_throttles).where(login_throttles.c.key == k).values(
                    failures=failures, last_failure_at=now, blocked_until=now + delay if delay else None))
        return Verdict(True)

    def succeeded(self, clear: list[str], uncount: list[str]) -> None:
        """The password was right: forget ``clear`` keys, take the attempt back from ``uncount`` keys.

        Also sweeps counters nobody has touched for longer than any wait lasts (a spray of guesses leaves
        one row per user name and address); only a successful login pays for it, never a guess."""
        stale = self.clock.now() - max(lim.forget_after + lim.cap for lim in (PER_USER_ADDRESS, PER_ADDRESS))
        with self.engine.begin() as c:
            c.execute(delete(login_throttles).where(login_throttles.c.last_failure_at < stale))
            if clear:
                c.execute(delete(login_throttles).where(login_throttles.c.key.in_(clear)))
            for k in uncount:
                row = c.execute(select(login_throttles.c.failures).where(login_throttles.c.key == k)).first()
                if row is None:
                    continue
                c.execute(update(login_throttles).where(login_throttles.c.key == k).values(
                    failures=max(0, int(row.failures) - 1), blocked_until=None))

    def failures(self, key: str) -> int:
        with self.engine.connect().execution_options(sqlite_read_only=True) as c:
            return int(c.execute(select(login_throttles.c.failures).where(login_throttles.c.key == key)).scalar() or 0)


__all__ = [
    "PER_ADDRESS",
    "PER_USER_ADDRESS",
    "ConsoleSessions",
    "Limit",
    "LoginThrottles",
    "SessionUser",
    "Verdict",
    "address_key",
    "password_fingerprint",
    "user_address_key",
]

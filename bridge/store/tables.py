"""The schema, one definition for SQLite and PostgreSQL. Alembic migrations are written from it."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from bridge.store.types import BigId, UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# TikTok shops the merchant connected, with their (encrypted) OAuth tokens.
shops = Table(
    "shops",
    metadata,
    Column("id", String(64), primary_key=True),  # TikTok shop_id
    Column("name", String(255), nullable=False, default=""),
    Column("region", String(8), nullable=False, default=""),
    Column("cipher", String(255), nullable=False, default=""),
    Column("seller_name", String(255), nullable=False, default=""),
    Column("status", String(16), nullable=False, default="active"),  # active | disabled | deauthorized
    Column("access_token", Text, nullable=True),  # Fernet ciphertext
    Column("refresh_token", Text, nullable=True),  # Fernet ciphertext
    Column("access_expires_at", UTCDateTime, nullable=True),
    Column("refresh_expires_at", UTCDateTime, nullable=True),
    Column("open_id", String(128), nullable=False, default=""),
    Column("granted_scopes", JSON, nullable=False, default=list),
    Column("flows", JSON, nullable=False, default=dict),  # {"orders": true, "inventory": false, …}
    Column("webhooks_subscribed_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Single-use OAuth `state` values (signed; stored so a replay is refused).
oauth_states = Table(
    "oauth_states",
    metadata,
    Column("state", String(128), primary_key=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime, nullable=True),
    Column("created_by", String(64), nullable=False, default=""),
    # sha256 of the console session that started the connection: the callback must come back in it
    Column("session_hash", String(64), nullable=True),
)

# Every inbound event, committed before it is acknowledged. Raw body kept for replay and audit.
inbox = Table(
    "inbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", String(16), nullable=False),  # tiktok | netsuite | poll | manual
    Column("event_id", String(191), nullable=False),  # tts_notification_id for TikTok
    Column("topic", String(64), nullable=False, default=""),
    Column("shop_id", String(64), nullable=True),
    Column("entity", String(255), nullable=True),  # e.g. order:SHOP:ORDER
    Column("received_at", UTCDateTime, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("headers", JSON, nullable=False, default=dict),  # non-secret subset
    Column("status", String(16), nullable=False, default="received"),  # received|routed|skipped|failed
    Column("jobs_created", Integer, nullable=False, default=0),
    Column("note", Text, nullable=False, default=""),
    Column("correlation_id", String(64), nullable=False, default=""),
    UniqueConstraint("source", "event_id"),
    Index("ix_inbox_received_at", "received_at"),
    Index("ix_inbox_entity", "entity"),
)

# The durable queue. `id` doubles as the enqueue sequence that orders jobs sharing a key.
jobs = Table(
    "jobs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),
    Column("key", String(255), nullable=False),
    Column("payload", JSON, nullable=False, default=dict),
    Column("idempotency_key", String(255), nullable=False),
    # queued | running | done | failed (needs a human) | dead | skipped | cancelled
    Column("status", String(16), nullable=False, default="queued"),
    Column("priority", SmallInteger, nullable=False, default=100),
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False, default=8),
    Column("run_at", UTCDateTime, nullable=False),
    Column("lease_owner", String(128), nullable=True),
    Column("lease_token", String(64), nullable=True),
    Column("lease_expires_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("result", JSON, nullable=True),
    Column("correlation_id", String(64), nullable=False, default=""),
    Column("exception_id", BigId, nullable=True),  # the exception this job raised or replays
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime, nullable=True),
    Column("finished_at", UTCDateTime, nullable=True),
    UniqueConstraint("idempotency_key"),
    Index("ix_jobs_status_run_at", "status", "run_at"),
    # Partial indexes over the live jobs only (migration 0010), so the claim costs the same with a day
    # of finished jobs in the table: the claim's ORDER BY (a claim under a backlog of thousands never
    # sorts while holding the lock), the head-of-key check, and the sweep for expired leases.
    Index("ix_jobs_queued_order", "priority", "run_at", "id",
          sqlite_where=text("status = 'queued'"), postgresql_where=text("status = 'queued'")),
    Index("ix_jobs_active_key", "key", "id", sqlite_where=text("status IN ('queued', 'running')"),
          postgresql_where=text("status IN ('queued', 'running')")),
    Index("ix_jobs_running_lease", "lease_expires_at",
          sqlite_where=text("status = 'running'"), postgresql_where=text("status = 'running'")),
    Index("ix_jobs_key_id", "key", "id"),
    Index("ix_jobs_kind_status", "kind", "status"),
)

job_attempts = Table(
    "job_attempts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("job_id", BigId, ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("worker", String(128), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("duration_ms", Integer, nullable=False),
    # ok | retry | db_lost (not counted) | needs_human | fatal | dead | skipped | lease_lost | lease_expired |
    # released
    Column("outcome", String(16), nullable=False),
    Column("error", Text, nullable=True),  # redacted excerpt
    Column("correlation_id", String(64), nullable=False, default=""),
    Index("ix_job_attempts_job_id", "job_id"),
    Index("ix_job_attempts_finished_at", "finished_at"),
)

# TikTok id <-> NetSuite id per entity kind, with the hash of the content last written.
links = Table(
    "links",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),  # order | customer | item | sku | location | fulfillment …
    Column("shop_id", String(64), nullable=False, default=""),  # "" for account-wide links
    Column("tiktok_id", String(191), nullable=False),
    Column("netsuite_id", String(64), nullable=True),
    Column("netsuite_type", String(64), nullable=False, default=""),
    Column("external_id", String(191), nullable=False, default=""),
    Column("content_hash", String(64), nullable=False, default=""),
    Column("status", String(32), nullable=False, default=""),
    Column("data", JSON, nullable=False, default=dict),
    Column("synced_at", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("kind", "shop_id", "tiktok_id"),
    Index("ix_links_kind_netsuite_id", "kind", "netsuite_id"),
    Index("ix_links_kind_shop_id_status", "kind", "shop_id", "status"),  # pending orders per shop
)

cursors = Table(
    "cursors",
    metadata,
    Column("name", String(191), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

# Failures a retry cannot fix, each with evidence, an owner and a fix hint; replayable.
exceptions = Table(
    "exceptions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("code", String(64), nullable=False),
    Column("owner", String(16), nullable=False),  # ops | finance | admin
    Column("status", String(16), nullable=False, default="open"),  # open | resolved | ignored
    Column("title", Text, nullable=False),
    Column("fix_hint", Text, nullable=False, default=""),
    Column("evidence", JSON, nullable=False, default=dict),
    Column("entity", String(255), nullable=False, default=""),
    Column("shop_id", String(64), nullable=True),
    Column("fingerprint", String(255), nullable=False),
    Column("job_id", BigId, nullable=True),
    Column("job_kind", String(64), nullable=True),
    Column("job_key", String(255), nullable=True),
    Column("job_payload", JSON, nullable=True),
    Column("occurrences", Integer, nullable=False, default=1),
    Column("replays", Integer, nullable=False, default=0),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("resolved_by", String(64), nullable=True),
    Column("resolution", Text, nullable=True),
    Column("correlation_id", String(64), nullable=False, default=""),
    Index(
        "ix_exceptions_open_fingerprint",
        "fingerprint",
        unique=True,
        sqlite_where=text("status = 'open'"),
        postgresql_where=text("status = 'open'"),
    ),
    Index("ix_exceptions_status_owner", "status", "owner"),
    Index("ix_exceptions_entity", "entity"),
    Index("ix_exceptions_job_kind_job_key", "job_kind", "job_key"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(64), nullable=False),  # user name, "worker", "scheduler", "system"
    Column("action", String(64), nullable=False),
    Column("entity", String(255), nullable=False, default=""),
    Column("detail", JSON, nullable=False, default=dict),
    Column("correlation_id", String(64), nullable=False, default=""),
    Index("ix_audit_log_at", "at"),
    Index("ix_audit_log_entity", "entity"),
)

# Every outbound API call, for the order timeline, latencies and the metrics.
api_calls = Table(
    "api_calls",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("system", String(16), nullable=False),  # tiktok | netsuite
    Column("operation", String(128), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", String(500), nullable=False),  # redacted, no query secrets
    Column("status", Integer, nullable=True),
    Column("code", String(64), nullable=True),
    Column("duration_ms", Integer, nullable=False),
    Column("outcome", String(16), nullable=False),  # ok | retry | fatal | needs_human | error
    Column("request_id", String(128), nullable=True),
    Column("entity", String(255), nullable=True),
    Column("job_id", BigId, nullable=True),
    Column("correlation_id", String(64), nullable=False, default=""),
    Index("ix_api_calls_at", "at"),
    Index("ix_api_calls_entity", "entity"),
    Index("ix_api_calls_correlation_id", "correlation_id"),
)

users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("username", String(128), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_login_at", UTCDateTime, nullable=True),
    # viewer | operator | admin (bridge.web.auth.ROLES); users from before roles existed are admins
    Column("role", String(16), nullable=False, default="admin", server_default="admin"),
    UniqueConstraint("username"),
)

# Console sessions, server-side: the cookie carries a random token, this row (keyed by its sha256) is
# the session. Logout deletes the row, so a copied cookie stops working at once.
console_sessions = Table(
    "console_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("password_fp", String(64), nullable=False),  # sha256 of the password hash: a reset ends it
    Column("address", String(64), nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_console_sessions_user_id", "user_id"),
    Index("ix_console_sessions_expires_at", "expires_at"),
)

# Failed-login counters per (user name, address) and per address, keyed by a sha256: progressive
# delays, counted before the password is checked, inside one locked row per key.
login_throttles = Table(
    "login_throttles",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("last_failure_at", UTCDateTime, nullable=False),
    Column("blocked_until", UTCDateTime, nullable=True),
)

# Live worker processes, so they can split the NetSuite concurrency share between them.
worker_processes = Table(
    "worker_processes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(191), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("seen_at", UTCDateTime, nullable=False),
)


# Each area keeps its own tables in its own module on this same ``metadata`` (so areas developed in
# parallel never edit one file). ``load_area_tables`` imports them all (they import this module, hence
# the late import); the migrations, the store and the tests call it so every table is known.
AREA_TABLE_MODULES: tuple[str, ...] = (
    "bridge.store.tables_settlement",
    "bridge.store.tables_monitoring",
    "bridge.store.tables_inventory",
    "bridge.store.tables_fulfillment",
)


def load_area_tables() -> MetaData:
    import importlib

    for name in AREA_TABLE_MODULES:
        importlib.import_module(name)
    return metadata

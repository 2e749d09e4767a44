"""Monitoring tables: drift monitor readings (history for the dashboard) and alerts (de-duplication).

Both live on the shared ``metadata`` (``bridge.store.tables.load_area_tables`` imports this module);
the schema is created by Alembic revision ``0003_monitoring``.
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, Integer, String, Table, Text, UniqueConstraint

from bridge.store.tables import metadata
from bridge.store.types import BigId, Money, UTCDateTime

# One row per monitor per evaluation: the number the dashboard shows and the history it charts.
monitor_readings = Table(
    "monitor_readings",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("monitor", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # ok | alert | unavailable | error
    Column("value", Money, nullable=True),  # None when the monitor could not measure
    Column("threshold", Money, nullable=True),
    Column("unit", String(16), nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Column("samples", JSON, nullable=False, default=list),  # [{entity, label, detail, href}], redacted
    Index("ix_monitor_readings_monitor_at", "monitor", "at"),
    Index("ix_monitor_readings_at", "at"),
)

# One row per alert key. The key is the alert's identity: it is not re-sent while it keeps firing
# until the re-notify interval passes, and is sent again (as new) after it cleared.
alerts = Table(
    "alerts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("key", String(191), nullable=False),
    Column("monitor", String(64), nullable=False, default=""),
    Column("severity", String(16), nullable=False, default="warning"),  # info | warning | critical
    Column("status", String(16), nullable=False, default="firing"),  # firing | resolved
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False, default=""),
    Column("link", String(500), nullable=False, default=""),
    Column("value", Money, nullable=True),
    Column("threshold", Money, nullable=True),
    Column("detail", JSON, nullable=False, default=dict),
    Column("first_seen", UTCDateTime, nullable=False),
    Column("last_seen", UTCDateTime, nullable=False),
    Column("last_sent_at", UTCDateTime, nullable=True),
    Column("sends", Integer, nullable=False, default=0),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("delivery", JSON, nullable=False, default=dict),  # channel -> "ok" | error text (last attempt)
    UniqueConstraint("key"),
    Index("ix_alerts_status_last_seen", "status", "last_seen"),
)

__all__ = ["alerts", "monitor_readings"]

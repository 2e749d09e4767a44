"""Alerts: something a person should look at, fired and cleared by key (de-duplicated, delivered to
the configured channels). Implemented by ``bridge.alerts.Alerter`` (the ``alerts`` table, email and
webhook channels)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True)
class Alert:
    """Something a person should look at. ``path`` is the console page (``/console/…``)."""

    key: str
    title: str
    text: str = ""
    severity: str = "warning"
    monitor: str = ""
    path: str = "/console/"
    value: Decimal | None = None
    threshold: Decimal | None = None
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """What became of one ``fire`` or ``clear``."""

    key: str
    sent: bool  # a message went out (or was attempted) this time
    reason: str  # new | refired | renotify | duplicate | below_min_severity | resolved | no_channels
    results: dict[str, str] = field(default_factory=dict)  # channel -> "ok" | error


class Alerts(Protocol):
    """Fire and clear alerts by key. ``renotify``, ``notify_resolved`` and ``min_severity`` are the settings
    ``monitoring.yaml`` applies: the reminder interval, whether a cleared alert is announced, and the
    lowest severity sent."""

    renotify: timedelta
    notify_resolved: bool
    min_severity: str

    def fire(self, alert: Alert) -> Delivery:
        """Raise ``alert`` (or keep it firing): sent when new, fired again after being cleared, or due for a
        reminder; a repeat within the reminder interval is recorded and not sent."""
        ...

    def clear(self, key: str) -> Delivery | None:
        """The condition behind ``key`` is gone; returns the delivery when it had been firing."""
        ...


__all__ = ["Alert", "Alerts", "Delivery"]

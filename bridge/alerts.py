"""Alerts: e-mail (SMTP) and a generic JSON webhook (Slack/Teams-compatible), de-duplicated.

An alert is identified by its ``key`` (``monitor:orders_missing``). ``Alerter.fire`` records it in
the ``alerts`` table and sends it only when it is new, when it fired again after it had cleared,
or when it kept firing for longer than the re-notify interval; the decision is one conditional
UPDATE, so several workers or machines never send the same alert twice. ``Alerter.clear`` marks
it resolved (and says so once, if configured). Every message links to the console page that
shows the problem (``TTNS_PUBLIC_URL`` + the alert's path).

The webhook body is ``{"text": …}`` (what Slack and Teams incoming webhooks display) plus the
structured fields (``status``, ``key``, ``title``, ``severity``, ``value``, ``threshold``, ``url``,
``fields`` …) for anything that parses JSON. Delivery failures are recorded on the alert and the
send is retried on the next evaluation; they never raise into the caller.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from typing import Any, Literal, Protocol

import requests
from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bridge.clock import Clock, SystemClock
from bridge.errors import RetriableError, redact_mapping, redact_text
from bridge.ports.alerts import Alert, Delivery
from bridge.settings import Settings
from bridge.store.tables_monitoring import alerts

log = logging.getLogger("bridge.alerts")

SEVERITIES = ("info", "warning", "critical")
Status = Literal["firing", "resolved", "test"]


@dataclass(frozen=True)
class Message:
    status: Status
    alert: Alert
    url: str
    at: datetime

    @property
    def subject(self) -> str:
        label = "RESOLVED" if self.status == "resolved" else "TEST" if self.status == "test" else \
            self.alert.severity.upper()
        return f"[ttns-bridge {label}] {self.alert.title}"

    @property
    def text(self) -> str:
        lines = [self.subject]
        if self.status != "resolved" and self.alert.text:
            lines.append(self.alert.text)
        if self.alert.value is not None and self.status != "resolved":
            lines.append(f"Value {self.alert.value} (alerts over {self.alert.threshold}).")
        lines.append(f"Open the console: {self.url}")
        return redact_text("\n".join(lines), 4000)

    def payload(self) -> dict[str, Any]:
        a = self.alert
        return {
            "text": self.text,
            "status": self.status,
            "key": a.key,
            "title": a.title,
            "severity": a.severity,
            "monitor": a.monitor,
            "value": None if a.value is None else str(a.value),
            "threshold": None if a.threshold is None else str(a.threshold),
            "url": self.url,
            "at": self.at.isoformat(),
            "fields": redact_mapping(_jsonable(a.fields)),
        }


class AlertDeliveryError(RetriableError):
    """A channel could not deliver (the message never holds the channel's secret)."""


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> None:
        """Deliver ``message`` or raise ``AlertDeliveryError``."""
        ...


class EmailChannel:
    """SMTP: implicit TLS on port 465, STARTTLS when the server offers it, login when a user is set."""

    name = "email"

    def __init__(self, host: str, port: int, sender: str, recipients: Sequence[str], *, user: str = "",
                 password: str = "", timeout: float = 15.0, require_tls: bool = False) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.recipients = [r for r in recipients if r]
        self.user = user
        self._password = password
        self.timeout = timeout
        self.require_tls = require_tls

    def __repr__(self) -> str:
        return f"EmailChannel({self.host}:{self.port} -> {len(self.recipients)} recipient(s))"

    def build(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["Subject"] = message.subject
        mail["From"] = self.sender
        mail["To"] = ", ".join(self.recipients)
        mail["X-TTNS-Alert-Key"] = message.alert.key
        mail.set_content(message.text)
        return mail

    def send(self, message: Message) -> None:
        if not self.recipients:
            raise AlertDeliveryError("no recipients (TTNS_ALERT_EMAIL_TO)")
        mail = self.build(message)
        context = ssl.create_default_context()
        try:
            smtp: smtplib.SMTP
            if self.port == 465:
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                smtp.ehlo()
                if self.port != 465 and smtp.has_extn("starttls"):
                    smtp.starttls(context=context)
                    smtp.ehlo()
                elif self.port != 465 and (self.require_tls or self.user):
                    # Never send a password in clear text.
                    raise AlertDeliveryError(f"{self.host}:{self.port} does not offer STARTTLS")
                if self.user:
                    smtp.login(self.user, self._password)
                smtp.send_message(mail)
        except AlertDeliveryError:
            raise
        except (OSError, smtplib.SMTPException) as exc:
            raise AlertDeliveryError(f"SMTP {self.host}:{self.port}: {type(exc).__name__}: "
                                     f"{redact_text(str(exc), 200)}") from None


class WebhookChannel:
    """POST the JSON payload; any 2xx is delivered. The URL embeds a token, so it is never shown."""

    name = "webhook"

    def __init__(self, url: str, *, session: requests.Session | None = None, timeout: float = 10.0) -> None:
        self._url = url
        self.session = session or requests.Session()
        self.timeout = timeout

    def __repr__(self) -> str:
        return "WebhookChannel(<url hidden>)"

    def send(self, message: Message) -> None:
        try:
            resp = self.session.post(self._url, json=message.payload(), timeout=self.timeout)
        except requests.RequestException as exc:
            raise AlertDeliveryError(f"webhook: {type(exc).__name__}") from None
        if not 200 <= resp.status_code < 300:
            raise AlertDeliveryError(f"webhook answered HTTP {resp.status_code}")


def channels_from(settings: Settings) -> list[Channel]:
    """The channels the settings configure (none is fine: alerts then show in the console only)."""
    out: list[Channel] = []
    recipients = [r.strip() for r in settings.alert_email_to.split(",") if r.strip()]
    if settings.smtp_host and recipients:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
        out.append(EmailChannel(settings.smtp_host, settings.smtp_port, settings.smtp_from, recipients,
                                user=settings.smtp_user, password=password))
    if settings.alert_webhook_url is not None and settings.alert_webhook_url.get_secret_value():
        out.append(WebhookChannel(settings.alert_webhook_url.get_secret_value()))
    return out


# --- persistence ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertRecord:
    id: int
    key: str
    monitor: str
    severity: str
    status: str
    title: str
    body: str
    link: str
    value: Decimal | None
    threshold: Decimal | None
    detail: dict[str, Any]
    first_seen: datetime
    last_seen: datetime
    last_sent_at: datetime | None
    sends: int
    resolved_at: datetime | None
    delivery: dict[str, Any]


class AlertStore:
    """The ``alerts`` table. ``claim`` decides atomically whether this evaluation sends."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record_and_claim(self, alert: Alert, now: datetime, renotify: timedelta, *, may_send: bool,
                         link: str) -> tuple[str, datetime | None]:
        """Upsert ``alert`` as firing; returns (decision, previous last_sent_at). ``decision`` is
        ``new``/``refired``/``renotify`` when this caller must send, else why not."""
        content = {"title": alert.title[:2000], "body": alert.text[:8000], "severity": alert.severity,
                   "monitor": alert.monitor, "link": link[:500], "value": alert.value,
                   "threshold": alert.threshold, "detail": redact_mapping(_jsonable(alert.fields)),
                   "last_seen": now}
        with self.engine.begin() as c:
            row = c.execute(select(alerts.c.status, alerts.c.last_sent_at).where(alerts.c.key == alert.key)).first()
            if row is None:
                ins = (postgresql.insert(alerts) if self.engine.dialect.name == "postgresql" else
                       sqlite.insert(alerts)).on_conflict_do_nothing()
                new_id = c.execute(ins.values(key=alert.key, status="firing", first_seen=now,
                                              sends=1 if may_send else 0, last_sent_at=now if may_send else None,
                                              delivery={}, **content).returning(alerts.c.id)).scalar()
                if new_id is not None:
                    return ("new" if may_send else "below_min_severity"), None
                row = c.execute(select(alerts.c.status, alerts.c.last_sent_at)
                                .where(alerts.c.key == alert.key)).first()
                assert row is not None
            previous = row.last_sent_at
            if row.status != "firing":
                values: dict[str, Any] = {"status": "firing", "first_seen": now, "resolved_at": None, **content}
                if may_send:
                    values.update(last_sent_at=now, sends=alerts.c.sends + 1)
                res = c.execute(update(alerts).where(alerts.c.key == alert.key, alerts.c.status != "firing")
                                .values(**values))
                if res.rowcount == 1:
                    return ("refired" if may_send else "below_min_severity"), previous
            c.execute(update(alerts).where(alerts.c.key == alert.key).values(**content))
            if not may_send:
                return "below_min_severity", previous
            res = c.execute(
                update(alerts)
                .where(alerts.c.key == alert.key, alerts.c.status == "firing",
                       (alerts.c.last_sent_at.is_(None)) | (alerts.c.last_sent_at <= now - renotify))
                .values(last_sent_at=now, sends=alerts.c.sends + 1)
            )
            return ("renotify" if res.rowcount == 1 else "duplicate"), previous

    def delivered(self, key: str, results: dict[str, str], *, failed_all: bool,
                  previous_sent: datetime | None) -> None:
        values: dict[str, Any] = {"delivery": results}
        if failed_all:
            values["last_sent_at"] = previous_sent  # retry on the next evaluation
        with self.engine.begin() as c:
            c.execute(update(alerts).where(alerts.c.key == key).values(**values))

    def resolve(self, key: str, now: datetime) -> AlertRecord | None:
        """Mark a firing alert resolved; returns it (as it was) when it was firing."""
        with self.engine.begin() as c:
            row = c.execute(select(alerts).where(alerts.c.key == key, alerts.c.status == "firing")).mappings().first()
            if row is None:
                return None
            res = c.execute(update(alerts).where(alerts.c.key == key, alerts.c.status == "firing")
                            .values(status="resolved", resolved_at=now, last_seen=now))
            return AlertRecord(**dict(row)) if res.rowcount == 1 else None

    def get(self, key: str) -> AlertRecord | None:
        with _read(self.engine) as c:
            row = c.execute(select(alerts).where(alerts.c.key == key)).mappings().first()
        return None if row is None else AlertRecord(**dict(row))

    def list(self, *, status: str | None = None, limit: int = 50, offset: int = 0) -> list[AlertRecord]:
        stmt = select(alerts).order_by(alerts.c.last_seen.desc(), alerts.c.id.desc()).limit(limit).offset(offset)
        if status:
            stmt = stmt.where(alerts.c.status == status)
        with _read(self.engine) as c:
            return [AlertRecord(**dict(r)) for r in c.execute(stmt).mappings()]

    def count(self, status: str | None = None) -> int:
        stmt = select(func.count()).select_from(alerts)
        if status:
            stmt = stmt.where(alerts.c.status == status)
        with _read(self.engine) as c:
            return int(c.execute(stmt).scalar_one())

    def firing_keys(self, prefix: str = "") -> set[str]:
        stmt = select(alerts.c.key).where(alerts.c.status == "firing")
        if prefix:
            stmt = stmt.where(alerts.c.key.startswith(prefix, autoescape=True))
        with _read(self.engine) as c:
            return {str(k) for k in c.execute(stmt).scalars()}


# --- the service ---------------------------------------------------------------------------------


class Alerter:
    """Fire and clear alerts; de-duplicated in the database, delivered to every channel."""

    def __init__(self, engine: Engine, settings: Settings, *, channels: Sequence[Channel] | None = None,
                 clock: Clock | None = None, renotify: timedelta = timedelta(hours=4),
                 notify_resolved: bool = True, min_severity: str = "warning") -> None:
        self.store = AlertStore(engine)
        self.public_url = settings.public_url.rstrip("/")
        self.channels: list[Channel] = list(channels if channels is not None else channels_from(settings))
        self.clock = clock or SystemClock()
        self.renotify = renotify
        self.notify_resolved = notify_resolved
        self.min_severity = min_severity

    def url(self, path: str) -> str:
        return self.public_url + (path if path.startswith("/") else "/" + path)

    def _sendable(self, severity: str) -> bool:
        rank = {s: i for i, s in enumerate(SEVERITIES)}
        return rank.get(severity, 1) >= rank.get(self.min_severity, 1)

    def fire(self, alert: Alert) -> Delivery:
        now = self.clock.now()
        link = self.url(alert.path)
        decision, previous = self.store.record_and_claim(alert, now, self.renotify,
                                                         may_send=self._sendable(alert.severity), link=link)
        if decision not in ("new", "refired", "renotify"):
            return Delivery(alert.key, False, decision)
        results = self._deliver(Message("firing", alert, link, now))
        failed_all = bool(self.channels) and all(v != "ok" for v in results.values())
        self.store.delivered(alert.key, results, failed_all=failed_all, previous_sent=previous)
        return Delivery(alert.key, True, decision if self.channels else "no_channels", results)

    def clear(self, key: str) -> Delivery | None:
        """The condition behind ``key`` is gone. Returns the delivery when it had been firing."""
        now = self.clock.now()
        was = self.store.resolve(key, now)
        if was is None:
            return None
        if not self.notify_resolved or was.last_sent_at is None:
            return Delivery(key, False, "resolved")
        alert = Alert(key=key, title=was.title, severity=was.severity, monitor=was.monitor,
                      path=_path_of(was.link, self.public_url))
        results = self._deliver(Message("resolved", alert, was.link or self.url("/console/"), now))
        self.store.delivered(key, results, failed_all=False, previous_sent=was.last_sent_at)
        return Delivery(key, True, "resolved", results)

    def test(self, path: str = "/console/alerts") -> dict[str, str]:
        """Send a test message to every channel (not recorded, not de-duplicated)."""
        alert = Alert(key="test", title="Test alert from ttns-bridge", text="If you read this, alerts reach you.",
                      severity="info", path=path)
        return self._deliver(Message("test", alert, self.url(path), self.clock.now()))

    def _deliver(self, message: Message) -> dict[str, str]:
        results: dict[str, str] = {}
        for ch in self.channels:
            try:
                ch.send(message)
                results[ch.name] = "ok"
            except AlertDeliveryError as exc:
                results[ch.name] = str(exc)[:300]
                log.warning("alert delivery failed", extra={"channel": ch.name, "key": message.alert.key,
                                                           "error": str(exc)[:300]})
            except Exception as exc:  # a channel bug must not stop the other channels or the monitors
                results[ch.name] = f"{type(exc).__name__}"
                log.exception("alert channel %s failed", ch.name)
        if results:
            log.info("alert sent", extra={"key": message.alert.key, "status": message.status, "results": results})
        return results


def _path_of(link: str, base: str) -> str:
    return link[len(base):] if base and link.startswith(base) else "/console/"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal | datetime):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _read(engine: Engine) -> Connection:
    """A connection for reads (on SQLite it does not take the write lock)."""
    return engine.connect().execution_options(sqlite_read_only=True)


__all__ = [
    "Alert",
    "AlertDeliveryError",
    "AlertRecord",
    "AlertStore",
    "Alerter",
    "Channel",
    "Delivery",
    "EmailChannel",
    "Message",
    "WebhookChannel",
    "channels_from",
]

"""Alerts over real sockets: a tiny SMTP server and a JSON webhook receiver on port 0; de-duplication,
re-notify, resolve, delivery failures, and the console link in every message."""

from __future__ import annotations

import email
import json
import socketserver
import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from email.message import Message as MailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bridge.alerts import Alert, Alerter, AlertStore, EmailChannel, WebhookChannel, channels_from
from bridge.bootstrap import App, build
from bridge.clock import ManualClock
from tests.console.conftest import console_settings

# --- a minimal SMTP server (RFC 5321 subset: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) --------------


class _SMTPHandler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self) -> None:
        server: Any = self.server
        self.reply("220 fake-smtp ready")
        sender, rcpts = "", []
        while True:
            raw = self.rfile.readline()
            if not raw:
                return
            cmd = raw.decode().rstrip("\r\n")
            verb = cmd.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-fake-smtp")
                self.reply("250 SIZE 1000000")
            elif verb == "HELO":
                self.reply("250 fake-smtp")
            elif verb == "MAIL":
                sender, rcpts = cmd.split(":", 1)[1].split(">")[0].strip(" <"), []
                self.reply("250 ok")
            elif verb == "RCPT":
                rcpts.append(cmd.split(":", 1)[1].split(">")[0].strip(" <"))
                self.reply("250 ok")
            elif verb == "DATA":
                if server.refuse:
                    self.reply("554 no thanks")
                    continue
                self.reply("354 end with .")
                lines = []
                while True:
                    line = self.rfile.readline().decode()
                    if line in (".\r\n", ".\n"):
                        break
                    lines.append(line[1:] if line.startswith("..") else line)
                with server.lock:
                    server.messages.append((sender, rcpts, email.message_from_string("".join(lines))))
                self.reply("250 queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 ok")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")


class FakeSMTP(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.messages: list[tuple[str, list[str], MailMessage]] = []
        self.lock = threading.Lock()
        self.refuse = False


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        server: Any = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with server.lock:
            server.received.append((self.path, self.headers.get("Content-Type"), json.loads(body)))
        self.send_response(server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        return


class FakeHook(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Hook)
        self.received: list[tuple[str, str | None, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.status = 200


@pytest.fixture
def smtp() -> Iterator[FakeSMTP]:
    server = FakeSMTP()
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def hook() -> Iterator[FakeHook]:
    server = FakeHook()
    t = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def wired(sqlite_url: str, smtp: FakeSMTP, hook: FakeHook) -> Iterator[tuple[App, ManualClock]]:
    clock = ManualClock()
    s = console_settings(sqlite_url, smtp_host="127.0.0.1", smtp_port=smtp.server_address[1], smtp_user="",
                         smtp_password=None, smtp_from="bridge@example.invalid",
                         alert_email_to="ops@example.invalid, finance@example.invalid",
                         alert_webhook_url=f"http://127.0.0.1:{hook.server_address[1]}/hooks/fake-token",
                         public_url="https://bridge.example.invalid")
    c = build(s, clock=clock, areas=())
    yield c, clock
    c.close()


def _alert(n: int = 3) -> Alert:
    return Alert(key="monitor:orders_missing", title=f"Orders missing in NetSuite: {n} orders",
                 text=f"{n} orders have no sales order after 30 min.", severity="warning", monitor="orders_missing",
                 path="/console/monitors#orders_missing", value=Decimal(n), threshold=Decimal(0),
                 fields={"samples": [{"entity": "order:S:1"}]})


def test_an_alert_reaches_email_and_webhook_with_the_console_link(wired: tuple[App, ManualClock],
                                                                   smtp: FakeSMTP, hook: FakeHook) -> None:
    c, _ = wired
    alerter = Alerter(c.store.engine, c.settings, clock=c.clock)
    assert [ch.name for ch in alerter.channels] == ["email", "webhook"]
    d = alerter.fire(_alert())
    assert d.sent and d.reason == "new" and d.results == {"email": "ok", "webhook": "ok"}
    (sender, rcpts, mail), = smtp.messages
    assert sender == "bridge@example.invalid" and rcpts == ["ops@example.invalid", "finance@example.invalid"]
    assert mail["Subject"] == "[ttns-bridge WARNING] Orders missing in NetSuite: 3 orders"
    body = mail.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "https://bridge.example.invalid/console/monitors#orders_missing" in body
    assert "Value 3 (alerts over 0)." in body
    (path, ctype, payload), = hook.received
    assert path == "/hooks/fake-token" and ctype == "application/json"
    assert payload["text"].startswith("[ttns-bridge WARNING] Orders missing")
    assert "https://bridge.example.invalid/console/monitors#orders_missing" in payload["text"]
    assert payload["url"] == "https://bridge.example.invalid/console/monitors#orders_missing"
    assert payload["status"] == "firing" and payload["key"] == "monitor:orders_missing" and payload["value"] == "3"
    assert payload["fields"]["samples"] == [{"entity": "order:S:1"}]


def test_alerts_are_de_duplicated_until_renotify_or_after_they_clear(wired: tuple[App, ManualClock],
                                                                      smtp: FakeSMTP, hook: FakeHook) -> None:
    c, clock = wired
    alerter = Alerter(c.store.engine, c.settings, clock=c.clock, renotify=timedelta(hours=4))
    assert alerter.fire(_alert(3)).sent
    for n in (4, 5, 6):  # still firing on the next runs: recorded, not re-sent
        clock.advance(seconds=300)
        d = alerter.fire(_alert(n))
        assert not d.sent and d.reason == "duplicate"
    assert len(hook.received) == 1 and len(smtp.messages) == 1
    rec = AlertStore(c.store.engine).get("monitor:orders_missing")
    assert rec is not None and rec.value == Decimal(6) and rec.sends == 1 and rec.status == "firing"
    clock.advance(hours=4)
    assert alerter.fire(_alert(7)).reason == "renotify"
    assert len(hook.received) == 2
    cleared = alerter.clear("monitor:orders_missing")
    assert cleared is not None and cleared.reason == "resolved"
    assert hook.received[-1][2]["status"] == "resolved" and "RESOLVED" in smtp.messages[-1][2]["Subject"]
    assert alerter.clear("monitor:orders_missing") is None  # clearing twice says nothing
    clock.advance(seconds=60)
    assert alerter.fire(_alert(1)).reason == "refired"  # back again: sent at once, not held by renotify
    assert len(hook.received) == 4


def test_two_processes_send_an_alert_once(wired: tuple[App, ManualClock], hook: FakeHook) -> None:
    c, _ = wired
    a = Alerter(c.store.engine, c.settings, clock=c.clock, channels=[WebhookChannel(
        f"http://127.0.0.1:{hook.server_address[1]}/a")])
    b = Alerter(c.store.engine, c.settings, clock=c.clock, channels=[WebhookChannel(
        f"http://127.0.0.1:{hook.server_address[1]}/b")])
    results = []
    threads = [threading.Thread(target=lambda x=x: results.append(x.fire(_alert()))) for x in (a, b) * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(1 for r in results if r.sent) == 1 and len(hook.received) == 1


def test_a_failed_delivery_is_recorded_and_retried_next_time(wired: tuple[App, ManualClock],
                                                             smtp: FakeSMTP, hook: FakeHook) -> None:
    c, clock = wired
    smtp.refuse = True
    hook.status = 500
    alerter = Alerter(c.store.engine, c.settings, clock=c.clock)
    d = alerter.fire(_alert())
    assert d.sent and d.results["webhook"] == "webhook answered HTTP 500" and "SMTP" in d.results["email"]
    assert "fake-token" not in json.dumps(d.results)  # the webhook URL (a secret) never shows
    rec = AlertStore(c.store.engine).get("monitor:orders_missing")
    assert rec is not None and rec.last_sent_at is None and rec.delivery["webhook"] == "webhook answered HTTP 500"
    smtp.refuse, hook.status = False, 200
    clock.advance(seconds=300)
    again = alerter.fire(_alert())
    assert again.sent and again.results == {"email": "ok", "webhook": "ok"}
    assert len(smtp.messages) == 1


def test_unreachable_channels_do_not_raise(wired: tuple[App, ManualClock]) -> None:
    c, _ = wired
    dead = Alerter(c.store.engine, c.settings, clock=c.clock,
                   channels=[EmailChannel("127.0.0.1", 1, "a@example.invalid", ["b@example.invalid"], timeout=2),
                             WebhookChannel("http://127.0.0.1:1/x", timeout=2)])
    d = dead.fire(_alert())
    assert d.results["webhook"] == "webhook: ConnectionError" and d.results["email"].startswith("SMTP 127.0.0.1:1")


def test_a_password_is_never_sent_without_tls(smtp: FakeSMTP) -> None:
    from datetime import UTC, datetime

    from bridge.alerts import AlertDeliveryError, Message

    ch = EmailChannel("127.0.0.1", smtp.server_address[1], "a@example.invalid", ["b@example.invalid"],
                      user="u", password="fake-password")
    with pytest.raises(AlertDeliveryError, match="does not offer STARTTLS"):
        ch.send(Message("test", _alert(), "https://x.invalid/", datetime.now(UTC)))
    assert smtp.messages == []


def test_channels_come_from_the_settings(sqlite_url: str) -> None:
    assert channels_from(console_settings(sqlite_url, smtp_host="", alert_webhook_url=None)) == []
    chans = channels_from(console_settings(sqlite_url, smtp_host="smtp.example.invalid",
                                           alert_email_to="ops@example.invalid"))
    assert [c.name for c in chans] == ["email", "webhook"]
    assert "fake-" not in repr(chans)


def test_below_min_severity_is_recorded_not_sent(wired: tuple[App, ManualClock], hook: FakeHook) -> None:
    c, _ = wired
    alerter = Alerter(c.store.engine, c.settings, clock=c.clock, min_severity="critical")
    d = alerter.fire(_alert())
    assert not d.sent and d.reason == "below_min_severity" and hook.received == []
    assert AlertStore(c.store.engine).count("firing") == 1

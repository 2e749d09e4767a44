"""Monitoring commands: ``ttns monitor run|status`` and ``ttns alerts list|test``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from bridge.bootstrap import App


def _app(ctx: click.Context) -> App:
    from bridge.cli.app import Obj

    obj = ctx.find_object(Obj)
    assert obj is not None
    return obj.app()


def _value(v: Any) -> str:
    return "—" if v is None else str(v)


def register(main: click.Group) -> None:
    from bridge.flows.monitoring import MONITORS

    names = click.Choice(sorted(MONITORS))

    @main.group()
    def monitor() -> None:
        """Drift monitors (thresholds in mapping_specs/monitoring.yaml)."""

    @monitor.command("run")
    @click.option("--only", "only", multiple=True, type=names, help="Only these monitors.")
    @click.option("--alerts/--no-alerts", default=True, show_default=True, help="Send and clear alerts.")
    @click.option("--json", "as_json", is_flag=True, help="Print the readings as JSON.")
    @click.pass_context
    def monitor_run(ctx: click.Context, only: tuple[str, ...], alerts: bool, as_json: bool) -> None:
        """Evaluate the monitors now, store the readings and (by default) alert. Exit code 3 when one alerts."""
        c = _app(ctx)
        readings = c.flows.monitoring.evaluate(alert=alerts, only=only)
        if as_json:
            click.echo(json.dumps([{"monitor": r.monitor, "status": r.status, "value": _value(r.value),
                                    "threshold": str(r.threshold), "unit": r.unit, "note": r.note,
                                    "samples": [s.__dict__ for s in r.samples]} for r in readings], indent=2))
        else:
            for r in readings:
                mark = {"alert": "ALERT", "ok": "ok", "unavailable": "n/a", "error": "ERROR",
                        "disabled": "off"}.get(r.status, r.status)
                click.echo(f"{mark:>6}  {r.monitor:<24} {_value(r.value):>10} {r.unit:<12} {r.note}")
                for s in r.samples[:5]:
                    click.echo(f"{'':>8}- {s.label}: {s.detail}")
        if any(r.status == "alert" for r in readings):
            ctx.exit(3)

    @monitor.command("status")
    @click.pass_context
    def monitor_status(ctx: click.Context) -> None:
        """The latest reading of every monitor (what the dashboard shows)."""
        from bridge.flows.monitoring import latest_readings

        c = _app(ctx)
        latest = latest_readings(c.store)
        if not latest:
            click.echo("No monitor has run yet: `ttns monitor run`, or start the scheduler and a worker.")
            return
        for name, r in latest.items():
            click.echo(f"{r.status:>11}  {name:<24} {_value(r.value):>10} {r.unit:<12} {r.at:%Y-%m-%d %H:%M} UTC  "
                       f"{r.note}")

    @main.group()
    def alerts() -> None:
        """Alerts sent to e-mail and the alert webhook."""

    @alerts.command("list")
    @click.option("--all", "show_all", is_flag=True, help="Include resolved alerts.")
    @click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 1000))
    @click.pass_context
    def alerts_list(ctx: click.Context, show_all: bool, limit: int) -> None:
        """Firing alerts (and with --all the resolved ones), newest first."""
        from bridge.alerts import AlertStore

        c = _app(ctx)
        rows = AlertStore(c.store.engine).list(status=None if show_all else "firing", limit=limit)
        if not rows:
            click.echo("No alert is firing." if not show_all else "No alert yet.")
            return
        for a in rows:
            sent = f"sent {a.sends}x, last {a.last_sent_at:%Y-%m-%d %H:%M}" if a.last_sent_at else "not sent"
            failed = "; ".join(f"{k}: {v}" for k, v in a.delivery.items() if v != "ok")
            click.echo(f"{a.status:>8}  {a.severity:<8} {a.title}  ({sent}{'; ' + failed if failed else ''})")
            click.echo(f"{'':>10}{a.link}")

    @alerts.command("test")
    @click.pass_context
    def alerts_test(ctx: click.Context) -> None:
        """Send a test alert to every configured channel (e-mail, webhook)."""
        from bridge.alerts import Alerter

        c = _app(ctx)
        alerter = Alerter(c.store.engine, c.settings, clock=c.clock)
        if not alerter.channels:
            raise click.ClickException("no alert channel is configured: set TTNS_SMTP_HOST and TTNS_ALERT_EMAIL_TO, "
                                       "or TTNS_ALERT_WEBHOOK_URL")
        results = alerter.test()
        for name, result in results.items():
            click.echo(f"{name}: {result}")
        if any(v != "ok" for v in results.values()):
            ctx.exit(1)

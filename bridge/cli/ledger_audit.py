"""`ttns ledger audit`: TikTok's figures beside NetSuite's general ledger (docs/ledger-audit.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from bridge.cli.settlement import _day


def register(main: click.Group) -> None:
    @main.group()
    def ledger() -> None:
        """NetSuite's general ledger against TikTok Shop's finance figures."""

    @ledger.command("audit")
    @click.option("--since", default=None, help="First statement day (UTC), YYYY-MM-DD; default 7 days ago.")
    @click.option("--until", default=None, help="Day after the last statement (UTC); default today.")
    @click.option("--shop", "shop_ids", multiple=True, help="Only these shops (default every active shop).")
    @click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON (totals, groups, findings).")
    @click.option("--orders/--no-orders", "show_orders", default=False, help="List every order's figures too.")
    @click.option("--no-exceptions", is_flag=True, help="Report only; raise no finance exceptions.")
    @click.pass_context
    def audit_(ctx: click.Context, since: str | None, until: str | None, shop_ids: tuple[str, ...], as_json: bool,
               show_orders: bool, no_exceptions: bool) -> None:
        """Read the GL (SuiteQL transactionaccountingline) and TikTok's statements and payouts; report per
        statement, payout and order, name double counts, missing postings and wrong periods. Exit 1 when
        anything differs."""
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from bridge.cli.app import Obj
        from bridge.flows import ledger_audit as la

        obj = ctx.find_object(Obj)
        assert obj is not None
        c = obj.app()
        now = c.clock.now()
        end = _day(until, "--until") if until else datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(
            days=1)
        start = _day(since, "--since") if since else end - timedelta(days=c.settings.settlement_lookback_days + 1)
        if start >= end:
            raise click.BadParameter("--since must be before --until")
        err = Console(stderr=True)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, transient=as_json) as pr:

            def progress(shop_id: str) -> la.Progress:
                task = pr.add_task(f"shop {shop_id}: TikTok statements", total=None)
                gl_task: list[Any] = []

                def listed(n: int) -> None:
                    pr.update(task, total=n, description=f"shop {shop_id}: reading {n} TikTok statements")

                def read(_sid: str) -> None:
                    pr.advance(task)

                def gl(day: Any, rows: int) -> None:
                    if not gl_task:
                        gl_task.append(pr.add_task(f"shop {shop_id}: NetSuite GL", total=None))
                    pr.update(gl_task[0], advance=rows, description=f"shop {shop_id}: NetSuite GL up to {day}")

                return la.Progress(listed, read, gl)

            reports = c.flows.ledger_audit.audit_shops(start, end, shop_ids, surface=not no_exceptions,
                                                       progress=progress)
        if not reports:
            raise click.ClickException("no active shop with settlement to audit (connect one with `ttns shops "
                                       "connect`)")
        if as_json:
            click.echo(json.dumps({"since": start.date().isoformat(), "until": end.date().isoformat(),
                                   "shops": [r.summary() for r in reports]}, indent=2, default=str))
        else:
            _print(reports, start, end, show_orders)
        if any(not r.ok for r in reports):
            ctx.exit(1)


def _print(reports: list[Any], start: datetime, end: datetime, show_orders: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for rep in reports:
        t = Table(title=f"Ledger audit, shop {rep.shop_id} ({rep.mode}), {start.date()} .. {end.date()}")
        for col in ("figure", "TikTok", "NetSuite GL", "difference"):
            t.add_column(col, justify="left" if col == "figure" else "right")
        for r in rep.totals:
            t.add_row(r.figure.replace("_", " "), str(r.tiktok), str(r.netsuite), str(r.difference))
        console.print(t)
        g = Table(title="Per account")
        for col in ("account", "figures", "TikTok", "NetSuite GL", "difference"):
            g.add_column(col, justify="right" if col in ("TikTok", "NetSuite GL", "difference") else "left")
        for a in rep.groups:
            g.add_row(a.name, ", ".join(a.figures), str(a.tiktok), str(a.netsuite), str(a.difference))
        console.print(g)
        s = Table(title="Per statement and payout")
        for col in ("kind", "id", "compared in", "documents", "difference", "findings"):
            s.add_column(col)
        for x in (*rep.statements, *rep.payouts, *(rep.all_orders() if show_orders else
                                                   [o for o in rep.orders if not o.ok])):
            s.add_row(x.kind, x.id, x.basis or x.currency, ", ".join(x.documents) or "-", str(x.difference),
                      ", ".join(sorted({f.code for f in x.findings})) or "ok")
        console.print(s)
        console.print(f"clearing: balance {rep.clearing_balance}, TikTok still owes {rep.clearing_expected}, residue "
                      f"{rep.clearing_residue}; receivable residue {rep.receivable_residue}")
        for f in rep.findings[:200]:
            console.print(f"[bold]{f.code}[/bold] {f.subject}: {f.message}")
        console.print(f"difference {rep.summary()['difference']}: " + ("[green]the ledger matches TikTok[/green]"
                                                                        if rep.ok else "[red]differences found[/red]"))

"""`ttns settlement …`: import statements on demand (with a progress bar), post them, and the
reconciliation report (table or CSV)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from bridge.bootstrap import App

from bridge.errors import BridgeError


def _app(ctx: click.Context) -> App:
    from bridge.cli.app import Obj

    obj = ctx.find_object(Obj)
    assert obj is not None
    return obj.app()


def _day(value: str, name: str) -> datetime:
    try:
        day = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD (UTC)", param_hint=name) from None
    return day if day.tzinfo else day.replace(tzinfo=UTC)


def _json(doc: Any) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, default=lambda v: str(v) if isinstance(v, Decimal) else repr(v))


def _write_csv(rows: Iterable[dict[str, Any]], target: str) -> int:
    rows = list(rows)
    fields: list[str] = []
    for r in rows:
        fields.extend(k for k in r if k not in fields)
    out: IO[str]
    if target == "-":
        out = sys.stdout
        close = False
    else:
        out = open(target, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed below
        close = True
    try:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        for r in rows:
            writer.writerow({k: "" if v is None else str(v) for k, v in r.items()})
    finally:
        if close:
            out.close()
    return len(rows)


def register(main: click.Group) -> None:
    @main.group()
    def settlement() -> None:
        """TikTok Shop settlement: statements, payouts and the general ledger."""

    @settlement.command("import")
    @click.option("--since", required=True, help="First statement day (UTC), YYYY-MM-DD.")
    @click.option("--until", default=None, help="Day after the last (UTC); default now.")
    @click.option("--shop", "shop_ids", multiple=True, help="Only these shops (default every active shop).")
    @click.option("--post/--no-post", "post", default=None,
                  help="Post journals and deposits now (default: settlement.yaml posting.auto).")
    @click.pass_context
    def import_(ctx: click.Context, since: str, until: str | None, shop_ids: tuple[str, ...],
                post: bool | None) -> None:
        """Import statements (every line, current finance version), payments and withdrawals; check,
        match and (optionally) post them. Re-running is safe: unchanged statements post nothing."""
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
        from rich.table import Table


        c = _app(ctx)
        start, end = _day(since, "--since"), _day(until, "--until") if until else c.clock.now()
        if start >= end:
            raise click.BadParameter("--since must be before --until")
        shops = [s for s in c.store.shops.list(status="active") if not shop_ids or s.id in shop_ids]
        if not shops:
            raise click.ClickException("no active shop to import (connect one with `ttns shops connect`)")
        svc = c.flows.settlement
        results: list[tuple[str, dict[str, Any]]] = []
        problems: list[str] = []
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as pr:
            for shop in shops:
                task = pr.add_task(f"shop {shop.id}: listing statements", total=None)

                def listed(n: int, task: Any = task, shop_id: str = shop.id) -> None:
                    pr.update(task, total=n, description=f"shop {shop_id}: importing {n} statements")

                def done(res: dict[str, Any], task: Any = task, shop_id: str = shop.id) -> None:
                    results.append((shop_id, res))
                    pr.advance(task)

                out = svc.import_window(shop.id, start, end, on_statements=listed, on_statement=done)
                pr.update(task, description=f"shop {shop.id}: {out['statements']} statements, {out['payments']} "
                          f"payments, {out['withdrawals']} withdrawals")
            to_post = [(shop_id, r) for shop_id, r in results
                       if post or (post is None and svc.settings_for(shop_id).posting.auto)]
            if to_post:
                task = pr.add_task("posting", total=len(to_post))
                payouts: set[tuple[str, str]] = set()
                for shop_id, r in to_post:
                    try:
                        posted = svc.post_statement(shop_id, r["statement_id"])
                        r["posted"] = posted["action"]
                        if posted.get("payment_id"):
                            payouts.add((shop_id, str(posted["payment_id"])))
                    except BridgeError as exc:
                        r["posted"] = "error"
                        problems.append(f"statement {r['statement_id']}: {exc}")
                    pr.advance(task)
                for shop_id, pid in sorted(payouts):
                    try:
                        svc.post_payout(shop_id, pid)
                    except BridgeError as exc:
                        problems.append(f"payout {pid}: {exc}")
        table = Table(title=f"Settlement import {start.date()} .. {end.date()}")
        for col in ("shop", "statement", "lines", "import", "failed checks", "unmatched", "posting"):
            table.add_column(col)
        for shop_id, r in results:
            table.add_row(shop_id, r["statement_id"], str(r.get("lines", "")), r["action"],
                          ", ".join(r.get("failed_checks") or []) or "-", str(r.get("unmatched", "-")),
                          str(r.get("posted", "-")))
        Console().print(table)
        for p in problems:
            click.echo(f"error: {p}", err=True)
        if problems:
            ctx.exit(1)

    @settlement.command("report")
    @click.option("--statement", "statement_id", default=None, help="One statement's reconciliation.")
    @click.option("--payment", "payment_id", default=None, help="One payout's reconciliation.")
    @click.option("--shop", "shop_id", default=None, help="Only this shop (lists).")
    @click.option("--since", default=None, help="Lists: statements/payouts from this day (UTC).")
    @click.option("--kind", type=click.Choice(["statement", "payment"]), default="statement", show_default=True,
                  help="Lists: one row per statement or per payout.")
    @click.option("--limit", type=click.IntRange(1, 10000), default=100, show_default=True)
    @click.option("--csv", "csv_file", default=None, help="Write CSV to this file ('-' for stdout).")
    @click.pass_context
    def report_(ctx: click.Context, statement_id: str | None, payment_id: str | None, shop_id: str | None,
                since: str | None, kind: str, limit: int, csv_file: str | None) -> None:
        """The reconciliation report: gross, each fee, adjustments, net, payout, matched/unmatched, variances."""
        from rich.console import Console
        from rich.table import Table

        if statement_id and payment_id:
            raise click.UsageError("give --statement or --payment, not both")
        c = _app(ctx)
        console = Console()
        if statement_id or payment_id:
            rep = c.flows.settlement.report(statement_id=statement_id, payment_id=payment_id, shop_id=shop_id)
            if rep is None:
                raise click.ClickException(f"no imported {'statement' if statement_id else 'payment'} "
                                           f"{statement_id or payment_id} (run `ttns settlement import`)")
            if csv_file:
                n = _write_csv(rep.rows(), csv_file)
                if csv_file != "-":
                    click.echo(f"wrote {n} rows to {csv_file}")
                return
            title = (f"{rep.kind.title()} {rep.id} ({rep.date}, {rep.currency}, {rep.status})"
                     + (f" - statements {', '.join(rep.statement_ids)}" if rep.kind == "payment" else ""))
            t = Table(title=title)
            t.add_column("figure")
            t.add_column("amount", justify="right")
            for name, amount in rep.waterfall():
                t.add_row(name, str(amount))
            t.add_row("Variance", str(rep.variance))
            if rep.clearing_balance is not None:
                t.add_row("Clearing balance", str(rep.clearing_balance))
            console.print(t)
            detail = Table(title="By type")
            for col in ("component", "amount"):
                detail.add_column(col, justify="right" if col == "amount" else "left")
            for a in (*rep.fee_lines, *rep.tax_lines, *rep.shipping_lines, *rep.adjustment_lines):
                detail.add_row(a.label, str(a.amount))
            console.print(detail)
            console.print(f"lines {rep.lines}: orders matched {rep.orders_matched}, unmatched {rep.orders_unmatched}; "
                          f"adjustments matched {rep.adjustments_matched}, unmatched {rep.adjustments_unmatched}; "
                          f"failed checks {rep.failed_checks}")
            for u in rep.unmatched[:50]:
                console.print(f"  unmatched {u.kind} {u.transaction_id} order {u.order_id or '-'}: {u.settlement} "
                              f"({u.note})")
            for v in rep.variances[:50]:
                console.print(f"  variance order {v.order_id}: TikTok {v.tiktok_amount} vs NetSuite {v.netsuite_amount}"
                              f" = {v.variance}")
            for p in rep.postings:
                console.print(f"  {p.kind} {p.external_id} -> NetSuite {p.netsuite_id or '-'} ({p.status}) {p.amount}")
            return
        reports = c.flows.settlement.list_reports(shop_id=shop_id, since=_day(since, "--since") if since else None,
                                                 kind=kind, limit=limit)
        if csv_file:
            n = _write_csv((r.summary() for r in reports), csv_file)
            if csv_file != "-":
                click.echo(f"wrote {n} rows to {csv_file}")
            return
        t = Table(title=f"Settlement reports ({kind})")
        cols = ("id", "date", "currency", "gross_sales", "fees", "adjustments", "settlement", "payout", "variance",
                "orders_unmatched", "failed_checks", "status")
        for col in cols:
            t.add_column(col.replace("_", " "))
        for r in reports:
            s = r.summary()
            t.add_row(*(str(s.get(k, "")) for k in cols))
        console.print(t)

    @settlement.command("post")
    @click.option("--statement", "statement_id", default=None, help="Post this statement's journal.")
    @click.option("--payment", "payment_id", default=None, help="Post this payout's deposit.")
    @click.option("--pending", is_flag=True, help="Post every imported statement and paid payout not posted yet.")
    @click.option("--force", is_flag=True, help="Post despite failed checks (differences go to the variance account).")
    @click.option("--dry-run", is_flag=True, help="Print what would be posted; write nothing.")
    @click.pass_context
    def post_(ctx: click.Context, statement_id: str | None, payment_id: str | None, pending: bool, force: bool,
              dry_run: bool) -> None:
        """Post journals (TTS-STMT-…) and deposits (TTS-PAY-…); idempotent by external id."""

        if sum(bool(x) for x in (statement_id, payment_id, pending)) != 1:
            raise click.UsageError("give exactly one of --statement, --payment or --pending")
        c = _app(ctx)
        svc = c.flows.settlement
        targets: list[tuple[str, str, str]] = []
        if statement_id:
            row = svc.repo.find_statement(statement_id)
            if row is None:
                raise click.ClickException(f"statement {statement_id} is not imported (run `ttns settlement import`)")
            targets.append(("statement", row.shop_id, statement_id))
        elif payment_id:
            pay = svc.repo.find_payment(payment_id)
            if pay is None:
                raise click.ClickException(f"payment {payment_id} is not imported (run `ttns settlement import`)")
            targets.append(("payment", pay.shop_id, payment_id))
        else:
            for row in svc.repo.statements(status="imported", limit=100_000):
                targets.append(("statement", row.shop_id, row.statement_id))
            seen = {(r.shop_id, r.payment_id) for r in svc.repo.statements(limit=100_000) if r.payment_id}
            for shop_id, pid in sorted(seen):
                targets.append(("payment", shop_id, pid))
        failed = 0
        for kind, shop_id, ident in targets:
            try:
                if dry_run:
                    if kind == "statement":
                        action, je, detail = svc.plan_statement(shop_id, ident, force=force)
                        click.echo(f"statement {ident}: {action} {_json(detail) if not je else ''}".rstrip())
                        if je is not None:
                            click.echo(f"  debits {je.total_debit} = credits {je.total_credit}")
                            click.echo(_json(je.record()))
                    else:
                        action, dep, detail = svc.plan_payout(shop_id, ident, force=force)
                        extra = {k: v for k, v in detail.items() if k not in ("coverage", "failures")}
                        click.echo(f"payment {ident}: {action} {_json(extra) if dep is None else ''}".rstrip())
                        if dep is not None:
                            click.echo(_json(dep.record()))
                    continue
                res = (svc.post_statement(shop_id, ident, force=force) if kind == "statement"
                       else svc.post_payout(shop_id, ident, force=force))
                nid = res.get("netsuite_id")
                ref = f" {res.get('external_id')} -> NetSuite {nid}" if nid else ""
                why = f" ({res['reason']})" if res.get("reason") else ""
                click.echo(f"{kind} {ident}: {res['action']}{ref}{why}")
            except BridgeError as exc:
                failed += 1
                code = getattr(exc, "code", "")
                click.echo(f"{kind} {ident}: error {code}: {exc}".replace("error : ", "error: "), err=True)
                hint = getattr(exc, "fix_hint", "")
                if hint:
                    click.echo(f"  fix: {hint}", err=True)
        if failed:
            ctx.exit(1)

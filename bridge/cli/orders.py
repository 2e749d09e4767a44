"""Flow commands: backfill, one-order sync (with a dry run), and the mapping-spec tools."""

from __future__ import annotations

import difflib
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from bridge.bootstrap import App
from bridge.domain.keys import order_key


def _app(ctx: click.Context) -> App:
    from bridge.cli.app import Obj

    obj = ctx.find_object(Obj)
    assert obj is not None
    return obj.app()


def _parse_day(value: str) -> datetime:
    try:
        day = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD (UTC)") from None
    return day if day.tzinfo else day.replace(tzinfo=UTC)


def register(main: click.Group) -> None:
    @main.group()
    def backfill() -> None:
        """Import history."""

    @backfill.command("orders")
    @click.option("--since", required=True, help="First day (UTC), YYYY-MM-DD.")
    @click.option("--until", default=None, help="Day after the last (UTC); default now.")
    @click.option("--shop", "shop_ids", multiple=True, help="Only these shops (default every active shop).")
    @click.option("--wait/--no-wait", default=True, show_default=True, help="Watch the jobs complete.")
    @click.pass_context
    def backfill_orders(ctx: click.Context, since: str, until: str | None, shop_ids: tuple[str, ...],
                        wait: bool) -> None:
        """Queue a sync of every order created in the window (idempotent: reruns queue nothing new)."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from bridge.flows.orders import KIND_SYNC, sync_spec

        c = _app(ctx)
        start, end = _parse_day(since), _parse_day(until) if until else c.clock.now()
        if start >= end:
            raise click.BadParameter("--since must be before --until")
        shops = [s for s in c.store.shops.list(status="active") if not shop_ids or s.id in shop_ids]
        if not shops:
            raise click.ClickException("no active shop to backfill (connect one with `ttns shops connect`)")
        tiktok = c.ports.tiktok_orders
        keys: list[str] = []
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as pr:
            task = pr.add_task("finding orders", total=None)
            for shop in shops:
                batch = []
                for oid, updated in tiktok.search_orders(shop.id, create_time_ge=start, create_time_lt=end):
                    ts = int(updated.timestamp()) if updated else 0
                    batch.append(sync_spec(shop.id, oid, idempotency_key=f"{KIND_SYNC}:backfill:{shop.id}:{oid}:{ts}",
                                           reason="backfill", priority=150))
                    keys.append(order_key(shop.id, oid))
                    pr.advance(task)
                    if len(batch) >= 500:
                        c.store.queue.enqueue_many(batch)
                        batch = []
                if batch:
                    c.store.queue.enqueue_many(batch)
            pr.update(task, total=len(keys), completed=len(keys), description=f"queued {len(keys)} orders")
            if not wait or not keys:
                return
            done_task = pr.add_task("syncing (run `ttns worker` to process)", total=len(keys))
            while True:
                synced = sum(c.store.links.count("order", s.id, status=st) for s in shops
                             for st in ("synced", "staged", "cancelled"))
                pr.update(done_task, completed=min(synced, len(keys)))
                counts = c.store.queue.counts()
                if counts.get("queued", 0) + counts.get("running", 0) == 0:
                    break
                time.sleep(1)
        failed = c.store.exceptions.counts()
        click.echo(f"backfill finished; open exceptions by owner: {failed or 'none'}")

    @main.group()
    def orders() -> None:
        """Orders."""

    @orders.command("sync")
    @click.argument("order_id")
    @click.option("--shop", "shop_id", default=None, help="Shop id (default: the only connected shop).")
    @click.option("--dry-run", is_flag=True, help="Print the NetSuite payload; write nothing.")
    @click.pass_context
    def orders_sync(ctx: click.Context, order_id: str, shop_id: str | None, dry_run: bool) -> None:
        """Sync one order now, or show what it would write (--dry-run)."""
        from bridge.errors import BridgeError, NeedsHumanError
        from bridge.mapping import wire
        from bridge.mapping.orders import explain
        from bridge.mapping.wire import jsonable

        c = _app(ctx)
        shop_id = shop_id or _only_shop(c)
        svc = c.flows.orders
        if dry_run:
            order = next(iter(svc.tiktok.get_orders(shop_id, [order_id])), None)
            if order is None:
                raise click.ClickException(f"TikTok has no order {order_id} in shop {shop_id}")
            try:
                mapped = svc.plan(shop_id, order)
            except NeedsHumanError as exc:
                raise click.ClickException(f"{exc.code}: {exc}\nfix: {exc.fix_hint}") from exc
            except BridgeError as exc:
                raise click.ClickException(str(exc)) from exc
            click.echo(explain(mapped))
            click.echo(wire.dumps({"record_type": mapped.record_type, "record": jsonable(mapped.record),
                                   "customer": jsonable(mapped.customer)}, indent=2, sort_keys=True))
            return
        try:
            result = svc.sync(shop_id, order_id, not_before=c.clock.now())
        except BridgeError as exc:
            hint = getattr(exc, "fix_hint", "")
            raise click.ClickException(f"{exc}" + (f"\nfix: {hint}" if hint else "")) from exc
        click.echo(json.dumps(result, indent=2, default=str))

    @main.group()
    def specs() -> None:
        """Mapping specs."""

    @specs.command("check")
    @click.option("--offline", is_flag=True, help="Only validate the files; do not ask NetSuite.")
    @click.pass_context
    def specs_check(ctx: click.Context, offline: bool) -> None:
        """Validate every spec, and that every NetSuite id it names exists in the account."""
        from bridge.cli.app import Obj, require_specs
        from bridge.flows.spec_check import clearing_account_problems, clearing_currency_problems, referenced_ids

        obj = ctx.find_object(Obj)
        assert obj is not None
        spec_set = require_specs(obj.settings)  # an invalid spec: each problem with file, key and fix; exit 65
        click.echo(f"{len(spec_set.specs)} spec file(s) in {obj.settings.specs_dir} valid: "
                   f"{', '.join(n for n, _ in spec_set)}")
        unfilled = spec_set.unfilled()
        for problem in unfilled:
            click.echo(str(problem), err=True)
        not_ready = (f"{len(unfilled)} placeholder(s) to replace with your account's records (the shipped specs "
                     "name none)") if unfilled else ""
        if offline:
            if unfilled:
                raise click.ClickException(not_ready)
            return
        c = _app(ctx)
        lookup = c.ports.netsuite_lookup
        missing_total = 0
        for (table, label), refs in sorted(referenced_ids(spec_set).items()):
            found = lookup.existing_ids(table, sorted(refs))
            for ref_id in sorted(set(refs) - found):
                missing_total += 1
                where = ", ".join(sorted(refs[ref_id]))
                click.echo(f"missing {label} {ref_id!r} in NetSuite (used at {where})", err=True)
        wrong_type = clearing_account_problems(spec_set, lookup)
        for text in wrong_type:
            click.echo(text, err=True)
        wrong_currency = clearing_currency_problems(spec_set, lookup, c.store.shops.list(status="active"))
        for text in wrong_currency:
            click.echo(text, err=True)
        if missing_total or unfilled or wrong_type or wrong_currency:
            missing = (f"{missing_total} id(s) not found: create them in NetSuite or correct the spec"
                       if missing_total else "")
            typed = f"{len(wrong_type)} clearing account(s) not of type Bank" if wrong_type else ""
            currencies = (f"{len(wrong_currency)} shop(s) whose clearing account is in another currency"
                          if wrong_currency else "")
            raise click.ClickException("; ".join(m for m in (not_ready, missing, typed, currencies) if m))
        click.echo("every NetSuite id the specs name exists")

    @specs.command("reference")
    @click.option("--write", "write_to", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="Replace the generated part of this Markdown file (between the reference markers).")
    def specs_reference(write_to: Path | None) -> None:
        """Every key each mapping spec accepts, as Markdown generated from the spec models."""
        from bridge.mapping.reference import reference_markdown, with_reference

        text = reference_markdown()
        if write_to is None:
            click.echo(text, nl=False)
            return
        write_to.write_text(with_reference(write_to.read_text(), text))
        click.echo(f"{write_to}: reference regenerated", err=True)

    @specs.command("init")
    @click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
    def specs_init(directory: Path) -> None:
        """Copy the mapping specs shipped with this version into DIRECTORY (to edit them there)."""
        import shutil

        from bridge.resources import default_specs_dir

        source = default_specs_dir()
        directory.mkdir(parents=True, exist_ok=True)
        existing = sorted(p.name for p in source.glob("*.yaml") if (directory / p.name).exists())
        if existing:
            raise click.ClickException(f"{directory} already has {', '.join(existing)}: not overwritten")
        for p in sorted(source.glob("*.yaml")):
            shutil.copyfile(p, directory / p.name)
            click.echo(f"{directory / p.name}")
        click.echo(f"set TTNS_SPECS_DIR={directory.absolute()} (or specs_dir in the config file)", err=True)

    @specs.command("diff")
    @click.option("--from", "ref", default=None,
                  help="Git revision holding the spec in effect (e.g. HEAD); default: the deployed snapshot the "
                       "bridge recorded when its processes last started.")
    @click.option("--last", "last_n", default=20, show_default=True, help="How many recently synced orders.")
    @click.option("--shop", "shop_id", default=None)
    @click.pass_context
    def specs_diff(ctx: click.Context, ref: str | None, last_n: int, shop_id: str | None) -> None:
        """How the NetSuite payloads of recent orders change under the edited orders.yaml."""
        from bridge.flows.spec_check import spec_at_revision
        from bridge.mapping import deployed, wire
        from bridge.mapping.orders import map_order
        from bridge.mapping.orders_spec import OrdersSpec
        from bridge.mapping.wire import jsonable

        c = _app(ctx)
        path = Path(c.settings.specs_dir) / "orders.yaml"
        if ref is None:
            snapshot = deployed.load_snapshot(c.store)
            if snapshot is None:
                raise click.ClickException("no deployed snapshot of the specs yet (web, worker and scheduler record "
                                           "one when they start); compare with a git revision: --from HEAD")
            old_spec = deployed.spec_from_snapshot(snapshot, "orders", OrdersSpec)
            ref = f"deployed {snapshot.at}"
        else:
            old_spec = spec_at_revision(ref, path, OrdersSpec)
        svc = c.flows.orders
        new_spec = svc.specs.get("orders", OrdersSpec)
        shops = [shop_id] if shop_id else [s.id for s in c.store.shops.list()]
        changed = 0
        seen = 0
        for sid in shops:
            recent = [ln for ln in c.store.links.list("order", sid, limit=100000) if ln.netsuite_id][-last_n:]
            ids = [ln.tiktok_id for ln in recent]
            for i in range(0, len(ids), 50):
                for order in svc.tiktok.get_orders(sid, ids[i:i + 50]):
                    seen += 1
                    items = svc.resolve_items(sid, [li.seller_sku for li in order.line_items])
                    texts = []
                    for spec in (old_spec, new_spec):
                        try:
                            region = shop.region if (shop := c.store.shops.get(sid)) is not None else ""
                            settings = spec.for_shop(sid, region)
                            m = map_order(order, shop_id=sid, settings=settings, items=items,
                                          vat=svc.tiktok_vat(sid, order, settings), sku_key=svc.sku_rule(sid).key)
                            texts.append(wire.dumps(jsonable(m.record), indent=1, sort_keys=True).splitlines())
                        except Exception as exc:
                            texts.append([f"! {type(exc).__name__}: {exc}"])
                    if texts[0] != texts[1]:
                        changed += 1
                        click.echo(f"--- order {order.id} ({sid})")
                        for line in difflib.unified_diff(texts[0], texts[1], f"{ref}:orders.yaml", "orders.yaml",
                                                         lineterm="", n=1):
                            click.echo(line)
        click.echo(f"{changed} of {seen} recent order(s) would change")


def _only_shop(c: App) -> str:
    shops = c.store.shops.list()
    if not shops:
        raise click.ClickException("no shop is connected (connect one with `ttns shops connect`)")
    if len(shops) != 1:
        raise click.UsageError("several shops are connected: pass --shop")
    shop_id: str = shops[0].id
    return shop_id


"""Commands for stock, locations, SKU matching, catalog and prices.

``ttns inventory push --all``   re-assert every SKU now (zeros too), with a progress bar
``ttns inventory show SKU``     how one SKU's numbers come about, warehouse by warehouse
``ttns locations pull|list|link``  NetSuite locations and TikTok warehouses, and locations.yaml
``ttns skus match [--csv F]``   match TikTok SKUs to NetSuite items: counts, duplicates, unmatched
``ttns catalog push [--dry-run]``  NetSuite items → TikTok products
``ttns prices push [--dry-run]``   NetSuite price levels → TikTok prices
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

if TYPE_CHECKING:
    from bridge.bootstrap import App
    from bridge.ports.store import Shop
import yaml


def _app(ctx: click.Context) -> App:
    from bridge.cli.app import Obj

    obj = ctx.find_object(Obj)
    assert obj is not None
    return obj.app()


def _shops(c: App, shop_ids: tuple[str, ...]) -> list[Shop]:
    shops = [s for s in c.store.shops.list(status="active") if not shop_ids or s.id in shop_ids or s.name in shop_ids]
    if not shops:
        raise click.ClickException("no active shop (connect one with `ttns shops connect`)")
    return shops


@contextmanager
def _progress(enabled: bool = True) -> Iterator[Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  disable=not enabled, transient=False) as pr:
        yield pr


def _error_line(exc: Exception) -> str:
    code = getattr(exc, "code", "")
    hint = getattr(exc, "fix_hint", "")
    return f"{code + ': ' if code else ''}{exc}" + (f"\n      fix: {hint}" if hint else "")


def register(main: click.Group) -> None:
    # ------------------------------------------------------------------------------------ inventory
    @main.group()
    def inventory() -> None:
        """Stock on TikTok from NetSuite."""

    @inventory.command("push")
    @click.option("--all", "all_", is_flag=True, help="Every product of every shop (the nightly re-assertion).")
    @click.option("--shop", "shop_ids", multiple=True, help="Only these shops (id or name).")
    @click.option("--product", "products", multiple=True, help="Only these TikTok product ids.")
    @click.option("--dry-run", is_flag=True, help="Compute and show; send nothing.")
    @click.option("--changed-only", is_flag=True, help="Send only numbers that differ from what TikTok shows.")
    @click.pass_context
    def inventory_push(ctx: click.Context, all_: bool, shop_ids: tuple[str, ...], products: tuple[str, ...],
                       dry_run: bool, changed_only: bool) -> None:
        """Push stock now, in this process (zeros included unless --changed-only)."""
        from bridge.errors import BridgeError

        if not all_ and not products:
            raise click.UsageError("give --all or one or more --product")
        c = _app(ctx)
        svc = c.flows.inventory
        mode: Literal["delta", "force"] = "delta" if changed_only else "force"
        todo = [(shop, pid) for shop in _shops(c, shop_ids)
                for pid in (products or svc.all_products(shop.id))]
        if not todo:
            raise click.ClickException("the SKU index is empty: run `ttns skus match` first")
        totals = {"sent": 0, "unchanged": 0, "skipped": 0, "dry_run": 0, "failed": 0}
        failures: list[str] = []
        with _progress() as pr:
            task = pr.add_task("pushing stock", total=len(todo))
            for shop, pid in todo:
                try:
                    res = svc.push_product(shop.id, pid, mode=mode, dry_run=dry_run, reason="cli")
                    totals[res.action] = totals.get(res.action, 0) + 1
                    if dry_run and res.plan is not None:
                        for line in res.plan.lines:
                            click.echo(f"  {line.explain()}")
                except BridgeError as exc:
                    totals["failed"] += 1
                    failures.append(f"{shop.id}/{pid}: {_error_line(exc)}")
                pr.advance(task)
        click.echo(", ".join(f"{k} {v}" for k, v in totals.items() if v) or "nothing to do")
        for f in failures:
            click.echo(f"  FAILED {f}")
        if failures:
            ctx.exit(1)

    @inventory.command("show")
    @click.argument("seller_sku")
    @click.option("--shop", "shop_ids", multiple=True)
    @click.pass_context
    def inventory_show(ctx: click.Context, seller_sku: str, shop_ids: tuple[str, ...]) -> None:
        """How SELLER_SKU's numbers come about in each warehouse (reads, sends nothing)."""

        c = _app(ctx)
        svc = c.flows.inventory
        found = False
        for shop in _shops(c, shop_ids):
            for pid in sorted(svc.inv.products_for_seller_skus(shop.id, [seller_sku])):
                found = True
                plan, buffers = svc.plan_with_buffers(shop, pid)
                click.echo(f"shop {shop.name or shop.id}, product {pid}:")
                for line in plan.lines:
                    if line.seller_sku == seller_sku:
                        click.echo(f"  {line.explain()}")
                window = svc.spec().velocity_window_seconds
                for sku_id in sorted({ln.sku_id for ln in plan.lines if ln.seller_sku == seller_sku}):
                    d = buffers.get(sku_id)
                    if d is None:
                        continue
                    click.echo(f"  {d.explain()}")
                    if d.bound != "fixed":
                        click.echo(f"    velocity {d.velocity:.2f} units/s ({d.sold_in_window} sold across channels "
                                   f"in the last {window:g} s); latency p95: order -> sales order "
                                   f"{d.order_latency:.2f} s, stock -> TikTok {d.push_latency:.2f} s; bounds "
                                   f"[{d.floor}, {d.ceiling}] (buffer, buffer_max)")
                for p in plan.problems:
                    click.echo(f"  {p.code} {p.sku_id} {p.warehouse_id} {p.detail}")
        if not found:
            raise click.ClickException(f"no TikTok SKU {seller_sku!r} in the index (run `ttns skus match`)")

    # ------------------------------------------------------------------------------------ locations
    @main.group()
    def locations() -> None:
        """NetSuite locations and TikTok warehouses (mapping_specs/locations.yaml)."""

    @locations.command("pull")
    @click.pass_context
    def locations_pull(ctx: click.Context) -> None:
        """Read NetSuite locations and every shop's TikTok warehouses, then list them."""

        c = _app(ctx)
        counts = c.flows.inventory.pull_places()
        click.echo(f"pulled {counts['locations']} NetSuite locations, {counts['warehouses']} TikTok warehouses")
        ctx.invoke(locations_list)

    @locations.command("list")
    @click.pass_context
    def locations_list(ctx: click.Context) -> None:
        """Every warehouse with the locations it sells, and what is not linked."""
        from bridge.mapping.specs import SpecError

        c = _app(ctx)
        svc = c.flows.inventory
        try:
            spec = svc.locations_spec()
        except SpecError as exc:
            raise click.ClickException(str(exc)) from exc
        locs = {p.place_id: p for p in svc.inv.places("location")}
        linked: set[str] = set()
        for shop in c.store.shops.list(status="active"):
            m = svc.location_map(shop)
            click.echo(f"shop {shop.name or shop.id} ({shop.id})")
            for w in svc.inv.places("warehouse", shop.id):
                link = m.link(w.place_id)
                kind = str(w.data.get("type") or "")
                if m.is_tiktok_managed(w.place_id):
                    text = "FBT (TikTok-managed, never pushed)"
                elif link is not None:
                    text = " + ".join(f"{loc} {locs[loc].name if loc in locs else '(not in NetSuite)'}"
                                      for loc in link.locations)
                elif kind not in ("", "SALES_WAREHOUSE"):
                    text = f"{kind.lower()} (not sold from)"
                else:
                    text = "NOT LINKED"
                linked |= set(link.locations) if link else set()
                click.echo(f"  {w.place_id}  {w.name:<36} <- {text}")
            for ref in m.unknown:
                click.echo(f"  locations.yaml names warehouse {ref!r}, which TikTok does not list for this shop")
        loose = [p for p in locs.values() if p.place_id not in linked and p.place_id not in spec.ignore_locations
                 and not p.data.get("inactive")]
        for p in loose:
            click.echo(f"NetSuite location {p.place_id} {p.name} feeds no TikTok warehouse")

    @locations.command("link")
    @click.argument("warehouse")
    @click.argument("location_ids", nargs=-1)
    @click.option("--shop", "shop_key", default="*", show_default=True, help="Shop id or name the link is for.")
    @click.option("--tiktok-managed", is_flag=True, help="An FBT warehouse: TikTok counts its stock.")
    @click.pass_context
    def locations_link(ctx: click.Context, warehouse: str, location_ids: tuple[str, ...], shop_key: str,
                       tiktok_managed: bool) -> None:
        """Link WAREHOUSE (TikTok id or name) to NetSuite LOCATION_IDS in locations.yaml."""
        from bridge.mapping.locations_spec import LocationsSpec
        from bridge.mapping.specs import SpecError, load_spec

        if not location_ids and not tiktok_managed:
            raise click.UsageError("give the NetSuite location ids, or --tiktok-managed for an FBT warehouse")
        c = _app(ctx)
        path = Path(c.settings.specs_dir) / "locations.yaml"
        doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {}
        doc = doc or {"version": 1}
        doc.setdefault("version", 1)
        shops = doc.setdefault("shops", {})
        entries = shops.setdefault(shop_key, {}).setdefault("warehouses", [])
        entries[:] = [e for e in entries if e.get("warehouse") != warehouse]
        entry: dict[str, Any] = {"warehouse": warehouse, "locations": list(location_ids)}
        if tiktok_managed:
            entry["tiktok_managed"] = True
        entries.append(entry)
        text = ("# Which NetSuite locations stock each TikTok warehouse (edited by `ttns locations link`).\n"
                "# Reference: docs/inventory.md.\n" + yaml.safe_dump(doc, sort_keys=False))
        tmp = path.with_suffix(".yaml.tmp")
        tmp.write_text(text, encoding="utf-8")
        try:
            load_spec(tmp, LocationsSpec)
        except SpecError as exc:
            tmp.unlink()
            raise click.ClickException(f"not written:\n{exc}") from exc
        tmp.replace(path)
        c.specs.forget()  # the next read in this process sees the new file
        click.echo(f"linked {warehouse} <- {', '.join(location_ids) or 'TikTok-managed'} for shop {shop_key}")

    # ------------------------------------------------------------------------------------ skus
    @main.group()
    def skus() -> None:
        """TikTok SKUs ↔ NetSuite items."""

    @skus.command("match")
    @click.option("--shop", "shop_ids", multiple=True)
    @click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="Write every row (matched, unmatched, ambiguous, duplicates) to this CSV file.")
    @click.pass_context
    def skus_match(ctx: click.Context, shop_ids: tuple[str, ...], csv_path: Path | None) -> None:
        """Match every TikTok SKU to a NetSuite item by seller SKU and rebuild the SKU index."""
        from bridge.mapping.catalog import MatchRow

        c = _app(ctx)
        svc = c.flows.inventory
        rows: list[MatchRow] = []
        with _progress() as pr:
            tasks: dict[str, Any] = {}

            def tick(what: str, n: int, total: int | None) -> None:
                label = {"tiktok": "TikTok SKUs' products", "netsuite": "NetSuite items",
                         "categories": "product categories"}[what]
                if what not in tasks:
                    tasks[what] = pr.add_task(label, total=total)
                pr.update(tasks[what], completed=n, total=total)

            items = None
            for shop in _shops(c, shop_ids):
                result = svc.refresh(shop, progress=tick, items=items)
                if items is None:
                    items = list(svc.netsuite.items())
                rows.extend(result.rows)
                counts = result.counts()
                click.echo(f"shop {shop.name or shop.id}: " + ", ".join(f"{k.replace('_', ' ')} {v}"
                                                                              for k, v in counts.items()))
        problems = [r for r in rows if r.status != "matched" or r.duplicate_tiktok]
        for r in problems[:50]:
            click.echo(f"  {r.status:<18} {r.seller_sku or '-':<24} {r.detail}"
                       + (" (duplicate seller SKU on TikTok)" if r.duplicate_tiktok else ""))
        if len(problems) > 50:
            click.echo(f"  … {len(problems) - 50} more (write them all with --csv)")
        if csv_path is not None:
            with csv_path.open("w", newline="", encoding="utf-8") as fh:
                writer = csv.DictWriter(fh, fieldnames=list(MatchRow.CSV_FIELDS))
                writer.writeheader()
                for r in rows:
                    writer.writerow(r.as_csv())
            click.echo(f"wrote {len(rows)} rows to {csv_path}")

    # ------------------------------------------------------------------------------------ catalog
    @main.group()
    def catalog() -> None:
        """TikTok products from NetSuite items (catalog.yaml)."""

    @catalog.command("push")
    @click.option("--shop", "shop_ids", multiple=True)
    @click.option("--item", "item_ids", multiple=True, help="Only these NetSuite item ids (a parent brings its "
                                                                "children).")
    @click.option("--dry-run", is_flag=True, help="List what would change; send nothing.")
    @click.pass_context
    def catalog_push(ctx: click.Context, shop_ids: tuple[str, ...], item_ids: tuple[str, ...], dry_run: bool) -> None:
        """Create, update or deactivate TikTok products from NetSuite items."""
        from bridge.errors import BridgeError

        c = _app(ctx)
        svc = c.flows.catalog
        groups = svc.groups(list(item_ids) or None)
        shops = _shops(c, shop_ids)
        counts: dict[str, int] = {}
        failed = 0
        with _progress() as pr:
            task = pr.add_task("dry run" if dry_run else "listing items", total=len(groups) * len(shops))
            for shop in shops:
                for g in groups:
                    try:
                        change = svc.push_group(shop, g, dry_run=dry_run)
                        counts[change.action] = counts.get(change.action, 0) + 1
                        if change.action != "unchanged":
                            click.echo(f"  {change.line()}")
                    except BridgeError as exc:
                        failed += 1
                        click.echo(f"  FAILED {g.key_item.itemid}: {_error_line(exc)}")
                    pr.advance(task)
        click.echo(", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + (f", failed {failed}" if failed else ""))
        if failed:
            ctx.exit(1)

    # ------------------------------------------------------------------------------------ prices
    @main.group()
    def prices() -> None:
        """TikTok prices from NetSuite price levels (prices.yaml)."""

    @prices.command("push")
    @click.option("--shop", "shop_ids", multiple=True)
    @click.option("--product", "products", multiple=True)
    @click.option("--dry-run", is_flag=True, help="Show every SKU's price, rounding and action; send nothing.")
    @click.option("--force", is_flag=True, help="Also send changes larger than max_change_pct.")
    @click.pass_context
    def prices_push(ctx: click.Context, shop_ids: tuple[str, ...], products: tuple[str, ...], dry_run: bool,
                    force: bool) -> None:
        """Send NetSuite's prices (the level in force now) to TikTok."""
        from decimal import Decimal

        from bridge.errors import BridgeError

        c = _app(ctx)
        svc = c.flows.catalog
        todo = [(shop, pid) for shop in _shops(c, shop_ids) for pid in (products or svc.inv.products(shop.id))]
        sent, rounding, failed = 0, Decimal(0), 0
        with _progress() as pr:
            task = pr.add_task("prices", total=len(todo))
            for shop, pid in todo:
                try:
                    plan = svc.push_prices(shop, pid, dry_run=dry_run, force=force)
                    sent += len(plan.updates)
                    rounding += plan.rounding_total
                    for line in plan.lines:
                        if dry_run or line.action != "unchanged":
                            click.echo(f"  {line.explain()}")
                except BridgeError as exc:
                    failed += 1
                    click.echo(f"  FAILED {shop.id}/{pid}: {_error_line(exc)}")
                pr.advance(task)
        verb = "would send" if dry_run else "sent"
        click.echo(f"{verb} {sent} price(s); rounding to TikTok's currency steps {rounding:+} in total"
                   + (f"; failed {failed}" if failed else ""))
        if failed:
            ctx.exit(1)


__all__ = ["register"]

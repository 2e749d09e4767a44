"""``ttns fulfillment …``: what was shipped to TikTok for an order, push a fulfillment again, run
the SLA watch, the FBT checks and the after-sale backstops now."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from bridge.bootstrap import App

from bridge.errors import BridgeError


def _app(ctx: click.Context) -> App:
    from bridge.cli.app import Obj

    obj = ctx.find_object(Obj)
    assert obj is not None
    return obj.app()


def _json(doc: Any) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, default=lambda v: str(v) if isinstance(v, Decimal) else repr(v))


def _shop_of(c: App, shop: str | None) -> str:
    if shop:
        return shop
    shops = c.store.shops.list(status="active")
    if len(shops) != 1:
        raise click.UsageError("several shops are connected: pass --shop")
    return str(shops[0].id)


def _run(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except BridgeError as exc:
        hint = getattr(exc, "fix_hint", "")
        raise click.ClickException(f"{exc}" + (f"\n  fix: {hint}" if hint else "")) from None


def register(main: click.Group) -> None:
    @main.group()
    def fulfillment() -> None:
        """Shipments to TikTok, FBT, the ship-by (SLA) watch, cancellations and returns."""

    @fulfillment.command("show")
    @click.argument("order_id")
    @click.option("--shop", help="TikTok shop id (default: the only connected shop).")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def show(ctx: click.Context, order_id: str, shop: str | None, as_json: bool) -> None:
        """Every package a NetSuite fulfillment shipped for ORDER_ID and what TikTok was told."""
        c = _app(ctx)
        shop_id = _shop_of(c, shop)
        rows = c.flows.fulfillment.shipments.shipments(shop_id, order_id)
        link = c.store.links.get("order", shop_id, order_id)
        if as_json:
            click.echo(_json({"order": link.data if link else None,
                              "shipments": [r.__dict__ for r in rows]}))
            return
        if link is not None:
            click.echo(f"order {order_id}: sales order {link.netsuite_id or '-'} ({link.status}), "
                       f"fulfilled: {'yes' if link.data.get('fulfilled') else 'no'}")
        if not rows:
            click.echo("No shipment recorded for this order.")
        for r in rows:
            pkg = f"{r.package_index}.{r.seq}" if r.seq else str(r.package_index)
            click.echo(f"  fulfillment {r.fulfillment_id} package {pkg}: {r.status:<8} {r.method:<21} "
                       f"{r.provider_name or '-':<10} {r.tracking_number or '-':<24} "
                       f"TikTok package {r.tiktok_package_id or '-'}  units {','.join(r.line_item_ids)}"
                       + (f"\n    last error: {r.last_error[:200]}" if r.last_error else ""))

    @fulfillment.command("push")
    @click.argument("fulfillment_id")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def push(ctx: click.Context, fulfillment_id: str, as_json: bool) -> None:
        """Push NetSuite item fulfillment FULFILLMENT_ID again from the event the bridge last received
        for it (after a fix; what was shipped already is not shipped again)."""

        c = _app(ctx)
        event = None
        for e in c.store.inbox.recent(source="netsuite", limit=5000):
            if e.topic == "item_fulfillment.saved":
                body = json.loads(e.body)
                if str((body.get("data") or {}).get("fulfillment_id")) == fulfillment_id:
                    event = body
                    break
        if event is None:
            raise click.ClickException(f"no item_fulfillment.saved event for fulfillment {fulfillment_id} in the "
                                       "inbox; save the fulfillment in NetSuite to send one")
        data = event["data"]
        result = _run(c.flows.fulfillment.push, {"shop_id": data.get("tiktok_shop_id"),
                                                 "order_id": data.get("tiktok_order_id"),
                                                 "fulfillment": data, "topic": "item_fulfillment.saved"})
        if as_json:
            click.echo(_json(result))
        elif result.get("shipments"):
            click.echo(f"{result.get('action')}: " + ", ".join(
                f"package {s.get('package')} {s.get('status')}" for s in result["shipments"]))
        else:
            click.echo(f"{result.get('action')}: nothing new to ship (TikTok has every package of it)")

    @fulfillment.command("sla")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def sla(ctx: click.Context, as_json: bool) -> None:
        """Check unshipped orders against their ship-by time now (raises the alerts that are due)."""

        result = _run(_app(ctx).flows.fulfillment.sla_scan)
        if as_json:
            click.echo(_json(result))
            return
        click.echo(f"{result['watched']} unshipped order(s) watched, {len(result['alerts'])} new alert(s)")
        for a in result["alerts"]:
            click.echo(f"  {a['level']:<8} order {a['order_id']} ship by {a['deadline']}")

    @fulfillment.command("fbt-stock")
    @click.option("--shop", help="Only this shop.")
    @click.option("--json", "as_json", is_flag=True)
    @click.pass_context
    def fbt_stock(ctx: click.Context, shop: str | None, as_json: bool) -> None:
        """Compare the FBT locations' NetSuite stock with TikTok's FBT stock (exit code 3 on differences)."""

        report = _run(_app(ctx).flows.fulfillment.fbt_stock, shop)
        if as_json:
            click.echo(_json(report))
        else:
            for shop_id, r in report.items():
                click.echo(f"shop {shop_id}: {r['status']}" + (f" ({r.get('note')})" if r.get("note") else ""))
                for d in r.get("differences", []):
                    click.echo(f"  {d['sku']:<24} NetSuite {d['netsuite']:>6}  TikTok {d['tiktok']:>6}  "
                               f"difference {d['difference']:>+6}")
        if any(r.get("differences") for r in report.values()):
            ctx.exit(3)

    @fulfillment.command("fbt-sync")
    @click.argument("order_id")
    @click.option("--shop", help="TikTok shop id (default: the only connected shop).")
    @click.pass_context
    def fbt_sync(ctx: click.Context, order_id: str, shop: str | None) -> None:
        """Record what TikTok shipped of FBT order ORDER_ID as NetSuite fulfillments now."""

        c = _app(ctx)
        click.echo(_json(_run(c.flows.fulfillment.tiktok_shipped, _shop_of(c, shop), order_id)))

    @fulfillment.command("poll")
    @click.pass_context
    def poll(ctx: click.Context) -> None:
        """Run the backstops now: FBT package search, cancellations and returns search."""

        c = _app(ctx)
        for name, fn in (("fbt packages", c.flows.fulfillment.fbt_poll), ("cancellations", c.flows.cancellations.poll),
                         ("returns", c.flows.returns.poll)):
            click.echo(f"{name}: {_run(fn)['enqueued']} job(s) enqueued")

    @fulfillment.command("return")
    @click.argument("return_id")
    @click.argument("order_id")
    @click.option("--shop", help="TikTok shop id (default: the only connected shop).")
    @click.pass_context
    def sync_return(ctx: click.Context, return_id: str, order_id: str, shop: str | None) -> None:
        """Bring TikTok return RETURN_ID of ORDER_ID into NetSuite now (return authorization, refund)."""

        c = _app(ctx)
        click.echo(_json(_run(c.flows.returns.sync, _shop_of(c, shop), order_id, return_id)))

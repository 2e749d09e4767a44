"""``ttns shops …``: connect, list and configure TikTok shops from the command line.

``ttns shops connect --auth-code CODE`` completes an authorization without the browser callback
(TikTok's app-store authorizations arrive without a ``state``; scripted set-ups need it): the same
code exchange, shop and cipher discovery, encrypted token storage and webhook subscription.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from bridge.bootstrap import App
from bridge.domain.keys import shop_key

FLOWS: tuple[str, ...] = ("orders", "inventory", "catalog", "fulfillment", "returns", "settlement", "monitoring")


def _app(ctx: click.Context) -> App:
    from bridge.cli.app import Obj

    obj = ctx.find_object(Obj)
    if obj is None:
        obj = ctx.ensure_object(Obj)
    return obj.app()


def countdown(when: datetime | None, now: datetime) -> str:
    """``6d 23h`` / ``3h 12m`` / ``expired 2h ago`` / ``-``."""
    if when is None:
        return "-"
    secs = int((when - now).total_seconds())
    if secs <= 0:
        ago = -secs
        return f"expired {_span(ago)} ago" if ago else "expired"
    return _span(secs)


def _span(secs: int) -> str:
    days, rest = divmod(secs, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


def register(main: click.Group) -> None:
    @main.group()
    def shops() -> None:
        """Connected TikTok shops: connect, list, flows."""

    @shops.command("connect")
    @click.option("--auth-code", required=True, help="The one-time code from TikTok's authorize redirect "
                  "(valid 30 minutes, single use).")
    @click.option("--no-webhooks", is_flag=True, help="Do not subscribe the shop's webhooks.")
    @click.pass_context
    def connect_cmd(ctx: click.Context, auth_code: str, no_webhooks: bool) -> None:
        """Exchange an authorization code: store tokens, discover shops and subscribe webhooks."""
        from bridge.errors import BridgeError
        from bridge.tiktok.oauth import connect

        c = _app(ctx)
        tiktok = c.tiktok()
        try:
            result = connect(auth_code=auth_code.strip(), oauth=tiktok.oauth, api=tiktok.api, store=c.store,
                             public_url=c.settings.public_url, actor="cli", subscribe=not no_webhooks)
        except BridgeError as exc:
            raise click.ClickException(exc.message) from None
        for shop in result.shops:
            hooks = result.subscribed.get(shop.id, [])
            line = f"connected {shop.id}  {shop.name} ({shop.region})"
            if hooks:
                line += f"  webhooks: {len(hooks)} event types → {c.settings.public_url}/webhooks/tiktok"
            click.echo(line)
        for problem in result.problems:
            click.echo(f"warning: {problem}", err=True)
        if result.problems:
            click.echo("retry the subscriptions with `ttns shops resubscribe`", err=True)

    @shops.command("list")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @click.pass_context
    def list_cmd(ctx: click.Context, as_json: bool) -> None:
        """Shops with region, status and token expiry."""
        c = _app(ctx)
        now = c.clock.now()
        rows = c.store.shops.list()
        if as_json:
            click.echo(json.dumps([
                {"id": s.id, "name": s.name, "region": s.region, "status": s.status, "seller": s.seller_name,
                 "access_expires_at": s.access_expires_at.isoformat() if s.access_expires_at else None,
                 "refresh_expires_at": s.refresh_expires_at.isoformat() if s.refresh_expires_at else None,
                 "webhooks_subscribed_at": s.webhooks_subscribed_at.isoformat() if s.webhooks_subscribed_at
                 else None, "flows": {f: s.flow_enabled(f) for f in FLOWS}}
                for s in rows], indent=2))
            return
        if not rows:
            click.echo(f"no shop connected: open {c.settings.public_url}/connect/tiktok or run "
                       "`ttns shops connect --auth-code CODE`")
            return
        header = f"{'id':<22} {'name':<28} {'region':<6} {'status':<13} {'token expires in':<18} reauthorize in"
        click.echo(header)
        for s in rows:
            click.echo(f"{s.id:<22} {s.name[:28]:<28} {s.region:<6} {s.status:<13} "
                       f"{countdown(s.access_expires_at, now):<18} {countdown(s.refresh_expires_at, now)}")

    @shops.command("flows")
    @click.argument("shop_id")
    @click.option("--enable", "enable", multiple=True, type=click.Choice(FLOWS), help="Flow to switch on.")
    @click.option("--disable", "disable", multiple=True, type=click.Choice(FLOWS), help="Flow to switch off.")
    @click.pass_context
    def flows_cmd(ctx: click.Context, shop_id: str, enable: tuple[str, ...], disable: tuple[str, ...]) -> None:
        """Show, or switch on/off, the flows of one shop."""
        c = _app(ctx)
        shop = c.store.shops.get(shop_id)
        if shop is None:
            raise click.ClickException(f"no shop {shop_id} (see `ttns shops list`)")
        both = set(enable) & set(disable)
        if both:
            raise click.ClickException(f"both enabled and disabled: {', '.join(sorted(both))}")
        if enable or disable:
            flows = dict(shop.flows)
            flows.update({f: True for f in enable})
            flows.update({f: False for f in disable})
            c.store.shops.set_flows(shop_id, flows)
            c.store.audit.record("cli", "shop.flows", entity=shop_key(shop_id),
                                 detail={"enabled": list(enable), "disabled": list(disable)})
            shop = c.store.shops.get(shop_id)
            assert shop is not None
        if shop.status != "active":
            click.echo(f"shop {shop_id} is {shop.status}: no flow runs until it is connected again")
        for f in FLOWS:
            click.echo(f"{f:<12} {'on' if shop.flows.get(f, True) else 'off'}")

    @shops.command("resubscribe")
    @click.argument("shop_id", required=False)
    @click.pass_context
    def resubscribe_cmd(ctx: click.Context, shop_id: str | None) -> None:
        """Subscribe the webhooks of one shop (or every active shop) to TTNS_PUBLIC_URL again."""
        from bridge.errors import BridgeError
        from bridge.tiktok.oauth import subscribe_webhooks, webhook_address

        c = _app(ctx)
        ids = [shop_id] if shop_id else [s.id for s in c.store.shops.list(status="active")]
        address = webhook_address(c.settings.public_url)
        failed = 0
        for sid in ids:
            try:
                done = subscribe_webhooks(c.tiktok().api, c.store, sid, address)
            except BridgeError as exc:
                failed += 1
                click.echo(f"{sid}: failed: {exc.message}", err=True)
                continue
            click.echo(f"{sid}: {len(done)} event types → {address}")
        if failed:
            ctx.exit(1)

    @shops.command("refresh")
    @click.argument("shop_id")
    @click.pass_context
    def refresh_cmd(ctx: click.Context, shop_id: str) -> None:
        """Refresh a shop's access token now."""
        from bridge.errors import BridgeError

        c = _app(ctx)
        try:
            c.tiktok().tokens.refresh(shop_id)
        except BridgeError as exc:
            raise click.ClickException(exc.message) from None
        shop = c.store.shops.get(shop_id)
        expires = shop.access_expires_at if shop else None
        click.echo(f"{shop_id}: token refreshed, expires in {countdown(expires, c.clock.now())}")

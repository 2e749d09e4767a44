"""Shop lifecycle: tokens refreshed well before they expire, deauthorization and expiring
authorizations turned into something an admin sees.

- ``shops.refresh_tokens`` (hourly): refreshes every active shop whose access token expires within
  ``REFRESH_WITHIN`` (once per seller: one authorization covers all of a seller's shops) and raises
  an admin exception when the refresh token itself is about to expire.
- webhook 6 ``SELLER_DEAUTHORIZATION`` → ``shops.deauthorized``: the shop is marked
  ``deauthorized`` (every flow stops for it), audited, and an admin exception explains how to
  reconnect.
- webhook 7 ``UPCOMING_AUTHORIZATION_EXPIRATION`` → ``shops.authorization_expiring``: an admin
  exception with the expiry date and the fix (authorize again).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bridge.domain.keys import shop_key
from bridge.domain.tiktok import parse_time
from bridge.errors import NeedsHumanError, RetriableError, SkippableError
from bridge.logs import correlation_id
from bridge.ports.clock import Clock
from bridge.ports.jobs import InboundEvent, JobContext
from bridge.ports.queue import JobSpec
from bridge.ports.store import Repositories
from bridge.ports.tiktok import REAUTHORIZE_CODE, REAUTHORIZE_HINT, TikTokTokens

log = logging.getLogger("bridge.flows.shops")

KIND_REFRESH = "shops.refresh_tokens"
KIND_DEAUTHORIZED = "shops.deauthorized"
KIND_EXPIRING = "shops.authorization_expiring"
REFRESH_WITHIN = timedelta(hours=24)
REAUTHORIZE_WARNING = timedelta(days=14)


# --------------------------------------------------------------------------- routers (pure)
def route_deauthorization(ev: InboundEvent) -> list[JobSpec]:
    shop_id = ev.shop_id or ""
    if not shop_id:
        return []
    data = ev.data.get("data") or {}
    return [JobSpec(kind=KIND_DEAUTHORIZED, key=shop_key(shop_id),
                    payload={"shop_id": shop_id, "message": str(data.get("message") or "")[:500],
                             "event_id": ev.event_id},
                    idempotency_key=f"{KIND_DEAUTHORIZED}:{ev.event_id}", priority=10)]


def route_expiring(ev: InboundEvent) -> list[JobSpec]:
    shop_id = ev.shop_id or ""
    if not shop_id:
        return []
    data = ev.data.get("data") or {}
    return [JobSpec(kind=KIND_EXPIRING, key=shop_key(shop_id),
                    payload={"shop_id": shop_id, "expiration_time": str(data.get("expiration_time") or ""),
                             "message": str(data.get("message") or "")[:500], "event_id": ev.event_id},
                    idempotency_key=f"{KIND_EXPIRING}:{ev.event_id}")]


@dataclass
class ShopLifecycle:
    """Token refresh, deauthorization and expiring authorizations of the connected shops."""

    store: Repositories
    clock: Clock
    tokens: TikTokTokens
    public_url: str = ""

    def hint(self) -> str:
        """How a seller authorizes the bridge again."""
        return REAUTHORIZE_HINT.format(public_url=self.public_url)

    def handle_deauthorized(self, ctx: JobContext) -> dict[str, Any]:
        shop_id = str(ctx.payload["shop_id"])
        shop = self.store.shops.get(shop_id)
        if shop is None:
            raise SkippableError(f"deauthorization for unknown shop {shop_id}")
        if shop.status != "deauthorized":
            self.store.shops.set_status(shop_id, "deauthorized")
        self.store.audit.record("tiktok", "shop.deauthorized", entity=shop_key(shop_id),
                             detail={"name": shop.name, "previous_status": shop.status,
                                     "message": ctx.payload.get("message", "")},
                             correlation_id=ctx.job.correlation_id or correlation_id())
        self.store.exceptions.raise_(
            code="TIKTOK_SHOP_DEAUTHORIZED", owner="admin", shop_id=shop_id, entity=shop_key(shop_id),
            title=f"TikTok shop {shop.name or shop_id} removed the bridge's authorization; its flows are stopped",
            fix_hint="If this was intended, resolve this exception. Otherwise the seller must authorize again: "
                     + self.hint(),
            evidence={"message": ctx.payload.get("message", ""), "event_id": ctx.payload.get("event_id", "")},
            correlation_id=ctx.job.correlation_id,
        )
        log.warning("TikTok shop deauthorized", extra={"shop_id": shop_id})
        return {"shop_id": shop_id, "status": "deauthorized"}


    def handle_expiring(self, ctx: JobContext) -> dict[str, Any]:
        shop_id = str(ctx.payload["shop_id"])
        shop = self.store.shops.get(shop_id)
        try:
            when = parse_time(ctx.payload.get("expiration_time") or None)
        except ValueError:
            when = None
        label = when.strftime("%Y-%m-%d %H:%M UTC") if when else "soon"
        name = shop.name if shop is not None and shop.name else shop_id
        self.store.exceptions.raise_(
            code="TIKTOK_AUTHORIZATION_EXPIRING", owner="admin", shop_id=shop_id, entity=shop_key(shop_id),
            title=f"TikTok authorization of shop {name} expires {label}",
            fix_hint="Authorize again before it expires (the flows stop when it does): " + self.hint(),
            evidence={"expiration_time": ctx.payload.get("expiration_time", ""),
                      "message": ctx.payload.get("message", "")},
            correlation_id=ctx.job.correlation_id,
        )
        return {"shop_id": shop_id, "expires": when.isoformat() if when else None}


    def handle_refresh(self, ctx: JobContext) -> dict[str, Any]:
        """Refresh the tokens that expire within ``REFRESH_WITHIN`` (one refresh per seller)."""
        now = self.clock.now()
        refreshed: list[str] = []
        failed: list[str] = []
        transient: RetriableError | None = None
        done_sellers: set[str] = set()
        for shop in self.store.shops.list(status="active"):
            ctx.check_lease()
            seller = shop.open_id or shop.id
            if shop.refresh_expires_at is not None and shop.refresh_expires_at - REAUTHORIZE_WARNING <= now:
                self.store.exceptions.raise_(
                    code="TIKTOK_AUTHORIZATION_EXPIRING", owner="admin", shop_id=shop.id, entity=shop_key(shop.id),
                    title=f"TikTok authorization of shop {shop.name or shop.id} expires "
                          f"{shop.refresh_expires_at:%Y-%m-%d}",
                    fix_hint="Authorize again before it expires: " + self.hint(),
                    evidence={"refresh_expires_at": shop.refresh_expires_at.isoformat()},
                    correlation_id=ctx.job.correlation_id,
                )
            if seller in done_sellers:
                continue
            if shop.access_expires_at is not None and shop.access_expires_at - REFRESH_WITHIN > now:
                continue
            try:
                self.tokens.refresh(shop.id)
            except NeedsHumanError as exc:
                failed.append(shop.id)
                self.store.exceptions.raise_(
                    code=exc.code or REAUTHORIZE_CODE, owner=exc.owner, shop_id=shop.id, entity=shop_key(shop.id),
                    title=f"TikTok token of shop {shop.name or shop.id} cannot be refreshed",
                    fix_hint=exc.fix_hint or self.hint(), evidence=exc.evidence.as_dict(),
                    correlation_id=ctx.job.correlation_id,
                )
                continue
            except RetriableError as exc:
                failed.append(shop.id)
                transient = exc
                continue
            done_sellers.add(seller)
            refreshed.append(shop.id)
        if transient is not None:
            raise RetriableError(f"token refresh failed for {len(failed)} shop(s): {transient.message}",
                                 transient.evidence, retry_after=transient.retry_after)
        return {"refreshed": refreshed, "failed": failed}

"""Building the TikTok side from ``Settings`` (``bridge.bootstrap`` calls ``build`` on first use).

``App.tiktok()`` is a ``TikTok``: ``.shop(shop_id)`` gives the typed per-shop client
(``.orders``, ``.products``, ``.logistics``, ``.fulfillment``, ``.returns``, ``.finance``,
``.events``), ``.api`` the signed low-level client, ``.oauth`` the token endpoints and
``.tokens`` the per-shop token source.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import requests

from bridge.tiktok.client import ShopClient, TikTokApi
from bridge.tiktok.oauth import OAuthClient, ShopTokens
from bridge.tiktok.ratelimit import RateLimiter

if TYPE_CHECKING:
    from bridge.clock import Clock
    from bridge.settings import Settings
    from bridge.store import Store

class TikTok:
    """The TikTok side as the flows, the web tier and the CLI see it."""

    def __init__(self, api: TikTokApi, oauth: OAuthClient, tokens: ShopTokens, settings: Settings) -> None:
        self.api = api
        self.oauth = oauth
        self.tokens = tokens
        self.settings = settings
        self._shops: dict[str, ShopClient] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TikTok(app_key={self.api.app_key!r}, base_url={self.api.base_url!r})"

    def shop(self, shop_id: str) -> ShopClient:
        """The typed client for one connected shop (cheap; cached)."""
        shop_id = str(shop_id)
        with self._lock:
            client = self._shops.get(shop_id)
            if client is None:
                client = self._shops[shop_id] = ShopClient(self.api, shop_id)
            return client

    def close(self) -> None:
        self.api.close()
        self.oauth.session.close()


def build(settings: Settings, store: Store, clock: Clock | None = None, *,
          session: requests.Session | None = None, **api_options: Any) -> TikTok:
    """A ``TikTok`` from settings (tests pass ``sleep=`` / ``rand=`` / ``limiter=`` through ``api_options``)."""
    secret = settings.tiktok_app_secret.get_secret_value() if settings.tiktok_app_secret else ""
    session = session or requests.Session()
    oauth = OAuthClient(
        app_key=settings.tiktok_app_key, app_secret=secret, service_id=settings.tiktok_service_id,
        auth_base=settings.tiktok_auth_base, authorize_url=settings.tiktok_authorize_url, session=session,
        timeout=settings.tiktok_timeout_seconds, calls=store.calls,
    )
    tokens = ShopTokens(store, oauth, clock=clock, public_url=settings.public_url)
    api_options.setdefault("limiter", RateLimiter(settings.tiktok_qps))
    api = TikTokApi(
        app_key=settings.tiktok_app_key, app_secret=secret, base_url=settings.tiktok_api_base, tokens=tokens,
        calls=store.calls, session=session, timeout=settings.tiktok_timeout_seconds, **api_options,
    )
    return TikTok(api, oauth, tokens, settings)


__all__ = ["TikTok", "build"]

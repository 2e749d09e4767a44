"""Merchant OAuth: the authorize link with a signed single-use ``state``, the code exchange, token
refresh, and connecting a shop (tokens stored encrypted, shops and ciphers discovered, webhooks
subscribed).

Token endpoints (unsigned GETs on the auth host):
``/api/v2/token/get?app_key&app_secret&auth_code&grant_type=authorized_code`` and
``/api/v2/token/refresh?app_key&app_secret&refresh_token&grant_type=refresh_token``;
``access_token_expire_in`` / ``refresh_token_expire_in`` are absolute Unix times.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import requests
from pydantic import ValidationError

from bridge.clock import Clock, SystemClock
from bridge.domain.keys import shop_key
from bridge.errors import ConfigurationError, Evidence, FatalError, NeedsHumanError, RetriableError
from bridge.logs import correlation_id, current_job
from bridge.mapping.wire import NonFiniteNumber, loads_strict
from bridge.ports.tiktok import REAUTHORIZE_CODE, REAUTHORIZE_HINT
from bridge.tiktok.models import AuthorizedShop, TokenGrant
from bridge.tiktok.webhooks import SUBSCRIBED_EVENT_TYPES

if TYPE_CHECKING:
    from bridge.ports.store import Shop
    from bridge.settings import Settings
    from bridge.store import Store
    from bridge.store.repos import ApiCalls
    from bridge.tiktok.client import TikTokApi

log = logging.getLogger("bridge.tiktok.oauth")

STATE_TTL_SECONDS = 15 * 60


class OAuthError(FatalError):
    """The authorization could not be completed; ``str()`` is safe to show the merchant."""


# --------------------------------------------------------------------------- state
def state_key(settings: Settings) -> bytes:
    """The HMAC key new ``state`` values are signed with (from the first TTNS_SECRET_KEY, else the app secret)."""
    return state_keys(settings)[0]


def state_keys(settings: Settings) -> list[bytes]:
    """Every key a ``state`` may be signed with: one per TTNS_SECRET_KEY during a rotation, so a state
    issued by a process still on the old key list is accepted by one already on the new one."""
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        seeds = [k.strip().encode() for k in settings.secret_key.get_secret_value().split(",") if k.strip()]
    elif settings.tiktok_app_secret is not None and settings.tiktok_app_secret.get_secret_value():
        seeds = [settings.tiktok_app_secret.get_secret_value().encode()]
    else:
        seeds = []
    if not seeds:
        raise ConfigurationError("set TTNS_SECRET_KEY (`ttns keys generate`) before connecting a TikTok shop")
    return [hashlib.sha256(b"ttns-oauth-state:" + seed).digest() for seed in seeds]


def _mac(key: bytes, nonce: str) -> str:
    return hmac.new(key, nonce.encode("ascii"), hashlib.sha256).hexdigest()[:32]


def new_state(store: Store, key: bytes, *, ttl_seconds: float = STATE_TTL_SECONDS, created_by: str = "",
              session_hash: str | None = None) -> str:
    """A fresh ``nonce.mac`` state, stored so it can be used exactly once before it expires — and, with
    ``session_hash``, only by the console session that started the connection."""
    nonce = secrets.token_urlsafe(24)
    state = f"{nonce}.{_mac(key, nonce)}"
    store.oauth_states.create(state, ttl_seconds, created_by=created_by, session_hash=session_hash)
    return state


def consume_state(store: Store, key: bytes | Sequence[bytes], state: str | None, *,
                  session_hash: str | None = None) -> bool:
    """True exactly once for a state we issued, untampered, unexpired, and bound to ``session_hash``
    (the session that started the connection; None only for a state issued without one)."""
    if not state or len(state) > 128 or state.count(".") != 1 or not state.isascii():
        return False
    nonce, mac = state.split(".")
    keys = [key] if isinstance(key, bytes) else list(key)
    if not nonce or not any(hmac.compare_digest(_mac(k, nonce), mac) for k in keys):
        return False
    return store.oauth_states.consume(state, session_hash=session_hash)


# --------------------------------------------------------------------------- token endpoints
class OAuthClient:
    """The authorize link and the (unsigned) token endpoints of the auth host."""

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        service_id: str,
        auth_base: str,
        authorize_url: str,
        session: requests.Session | None = None,
        timeout: float = 20.0,
        calls: ApiCalls | None = None,
    ) -> None:
        self.app_key = app_key
        self._secret = app_secret
        self.service_id = service_id
        self.auth_base = auth_base.rstrip("/")
        self.authorize_base = authorize_url
        self.session = session or requests.Session()
        self.timeout = timeout
        self.calls = calls

    def __repr__(self) -> str:
        return f"OAuthClient(app_key={self.app_key!r}, auth_base={self.auth_base!r})"

    def authorize_url(self, state: str) -> str:
        if not self.service_id:
            raise ConfigurationError("TTNS_TIKTOK_SERVICE_ID is not set (Partner Center → your app → service id)")
        sep = "&" if "?" in self.authorize_base else "?"
        return f"{self.authorize_base}{sep}{urlencode({'service_id': self.service_id, 'state': state})}"

    def exchange(self, auth_code: str) -> TokenGrant:
        """Trade a one-time ``auth_code`` for the seller's tokens."""
        if not auth_code or auth_code == "null":
            raise OAuthError("TikTok did not send an authorization code (was the authorization cancelled?)")
        return self._token("/api/v2/token/get", "token.get",
                           {"auth_code": auth_code, "grant_type": "authorized_code"})

    def refresh(self, refresh_token: str) -> TokenGrant:
        return self._token("/api/v2/token/refresh", "token.refresh",
                           {"refresh_token": refresh_token, "grant_type": "refresh_token"})

    def _token(self, path: str, operation: str, params: dict[str, str]) -> TokenGrant:
        if not self.app_key or not self._secret:
            raise ConfigurationError("set TTNS_TIKTOK_APP_KEY and TTNS_TIKTOK_APP_SECRET")
        query = {"app_key": self.app_key, "app_secret": self._secret, **params}
        started = time.monotonic()
        try:
            resp = self.session.get(self.auth_base + path, params=query, timeout=self.timeout)
        except requests.RequestException as exc:
            self._record(operation, path, None, started, "error", None, None)
            raise RetriableError(f"TikTok {operation}: cannot reach {self.auth_base}: {type(exc).__name__}",
                                 Evidence.of("tiktok", f"GET {path}", error=type(exc).__name__)) from None
        try:
            doc = loads_strict(resp.content)
        except NonFiniteNumber as exc:
            self._record(operation, path, resp.status_code, started, "error", None, None)
            ev = Evidence.of("tiktok", f"GET {path}", resp.status_code, None, None, resp.content)
            text = f"TikTok {operation}: {exc} (GET {path}, HTTP {resp.status_code})"
            if resp.status_code >= 500 or resp.status_code == 429:
                raise RetriableError(text, ev) from None
            raise FatalError(text, ev) from None
        except (ValueError, UnicodeDecodeError):
            doc = None
        code = str(doc.get("code")) if isinstance(doc, dict) and "code" in doc else None
        message = str(doc.get("message") or "") if isinstance(doc, dict) else ""
        request_id = (str(doc.get("request_id") or "") or None) if isinstance(doc, dict) else None
        ok = resp.status_code == 200 and code == "0" and isinstance(doc, dict) and isinstance(doc.get("data"), dict)
        outcome = "ok" if ok else ("retry" if resp.status_code >= 500 or resp.status_code == 429 else "fatal")
        self._record(operation, path, resp.status_code, started, outcome, code, request_id)
        ev = Evidence.of("tiktok", f"GET {path}", resp.status_code, code, request_id, resp.content)
        if ok:
            assert isinstance(doc, dict)
            try:
                return TokenGrant.model_validate(doc["data"])
            except ValidationError as exc:
                raise FatalError(f"TikTok {operation}: unexpected token answer ({exc.error_count()} problems)",
                                 ev) from None
        text = f"TikTok {operation} refused: HTTP {resp.status_code}, code {code}: {message}"
        if outcome == "retry":
            raise RetriableError(text, ev)
        if code == "36009004":
            raise ConfigurationError(text + " — check TTNS_TIKTOK_APP_KEY / TTNS_TIKTOK_APP_SECRET", ev)
        if operation == "token.get":
            raise OAuthError("TikTok refused the authorization code: it is invalid, expired (codes live 30 "
                             f"minutes) or already used (code {code}: {message}). Start the connection again.", ev)
        # A refused refresh (expired or revoked grant) is only fixed by the seller authorizing again.
        raise NeedsHumanError(text, code=REAUTHORIZE_CODE, owner="admin", evidence=ev,
                              fix_hint=REAUTHORIZE_HINT.format(public_url=""))

    def _record(self, operation: str, path: str, status: int | None, started: float, outcome: str,
                code: str | None, request_id: str | None) -> None:
        if self.calls is None:
            return
        job_id, entity = current_job()
        try:
            self.calls.record(system="tiktok", operation=operation, method="GET", path=path, status=status,
                              duration_ms=int((time.monotonic() - started) * 1000), outcome=outcome, code=code,
                              request_id=request_id, entity=entity, job_id=job_id, correlation_id=correlation_id())
        except Exception:
            log.exception("could not record a TikTok token call")


# --------------------------------------------------------------------------- shop tokens
class ShopTokens:
    """The client's token source: reads a shop's tokens from the store (decrypting them), refreshes
    them before they expire and on 105002 — once per shop at a time, and for every shop of the same
    seller, since one authorization covers all of them."""

    def __init__(self, store: Store, oauth: OAuthClient, *, clock: Clock | None = None,
                 refresh_margin: timedelta = timedelta(minutes=5), public_url: str = "") -> None:
        self.store = store
        self.oauth = oauth
        self.clock = clock or SystemClock()
        self.refresh_margin = refresh_margin
        self.public_url = public_url
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _lock(self, shop_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(shop_id, threading.Lock())

    def _not_connected(self, shop_id: str) -> NeedsHumanError:
        return NeedsHumanError(
            f"TikTok shop {shop_id} is not connected (no tokens stored)", code="TIKTOK_SHOP_NOT_CONNECTED",
            owner="admin", entity=shop_key(shop_id), fix_hint=REAUTHORIZE_HINT.format(public_url=self.public_url))

    def cipher(self, shop_id: str) -> str:
        shop = self.store.shops.get(shop_id)
        if shop is None or not shop.cipher:
            raise self._not_connected(shop_id)
        return shop.cipher

    def access_token(self, shop_id: str) -> str:
        tokens = self.store.shops.tokens(shop_id)
        if tokens is None or not tokens.access_token:
            raise self._not_connected(shop_id)
        exp = tokens.access_expires_at
        if exp is not None and exp - self.refresh_margin <= self.clock.now():
            return self.refresh(shop_id, stale_token=tokens.access_token)
        return tokens.access_token

    def refresh(self, shop_id: str, stale_token: str | None = None) -> str:
        """Refresh the shop's token; a no-op returning the stored token when another thread or
        process already replaced ``stale_token``."""
        from bridge.ports.store import Tokens

        with self._lock(shop_id):
            tokens = self.store.shops.tokens(shop_id)
            if tokens is None or not tokens.refresh_token:
                raise self._not_connected(shop_id)
            if stale_token is not None and tokens.access_token != stale_token:
                exp = tokens.access_expires_at
                if exp is None or exp - self.refresh_margin > self.clock.now():
                    return tokens.access_token
            try:
                grant = self.oauth.refresh(tokens.refresh_token)
            except NeedsHumanError as exc:
                raise NeedsHumanError(
                    f"TikTok refused to refresh the token of shop {shop_id}: the seller must authorize again "
                    f"({exc.message})", code=REAUTHORIZE_CODE, owner="admin", evidence=exc.evidence,
                    entity=shop_key(shop_id), fix_hint=REAUTHORIZE_HINT.format(public_url=self.public_url),
                ) from None
            new = Tokens(grant.access_token, grant.refresh_token or tokens.refresh_token,
                         grant.access_token_expire_in, grant.refresh_token_expire_in)
            for sid in self._same_seller(shop_id):
                self.store.shops.set_tokens(sid, new)
            self.store.audit.record("system", "shop.token_refreshed", entity=shop_key(shop_id),
                                    detail={"expires_at": _iso(grant.access_token_expire_in)},
                                    correlation_id=correlation_id())
            log.info("tiktok token refreshed", extra={"shop_id": shop_id})
            return grant.access_token

    def _same_seller(self, shop_id: str) -> list[str]:
        shop = self.store.shops.get(shop_id)
        if shop is None or not shop.open_id:
            return [shop_id]
        ids = [s.id for s in self.store.shops.list() if s.open_id == shop.open_id and s.status != "deauthorized"]
        return ids or [shop_id]


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


# --------------------------------------------------------------------------- connecting
@dataclass
class Connected:
    """What one authorization connected."""

    seller_name: str
    open_id: str
    shops: list[Shop] = field(default_factory=list)
    subscribed: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def webhook_address(public_url: str) -> str:
    return f"{public_url.rstrip('/')}/webhooks/tiktok"


def subscribe_webhooks(api: TikTokApi, store: Store, shop_id: str, address: str,
                       event_types: tuple[str, ...] = SUBSCRIBED_EVENT_TYPES) -> list[str]:
    """Point every event type the flows use at ``address`` for one shop (PUT is an upsert)."""
    from bridge.tiktok.client import ShopClient

    events = ShopClient(api, shop_id).events
    done: list[str] = []
    for et in event_types:
        events.subscribe(et, address)
        done.append(et)
    store.shops.mark_webhooks_subscribed(shop_id)
    return done


def connect(
    *,
    auth_code: str,
    oauth: OAuthClient,
    api: TikTokApi,
    store: Store,
    public_url: str,
    actor: str = "oauth",
    subscribe: bool = True,
    on_shop: Callable[[Shop], None] | None = None,
) -> Connected:
    """Exchange ``auth_code``, store the tokens (encrypted) for every authorized shop with its cipher,
    subscribe each shop's webhooks and audit it. Used by the OAuth callback and ``ttns shops connect``."""
    from bridge.ports.store import Shop, Tokens

    store.shops.box  # noqa: B018 - fail before the one-time code is spent when TTNS_SECRET_KEY is missing
    grant = oauth.exchange(auth_code)
    data = api.call("authorization.shops", access_token=grant.access_token)
    authorized = [AuthorizedShop.model_validate(s) for s in data.get("shops") or []]
    if not authorized:
        raise OAuthError("The authorization succeeded but TikTok lists no shop for it: authorize with a seller "
                         "account that owns a shop.")
    result = Connected(seller_name=grant.seller_name, open_id=grant.open_id)
    tokens = Tokens(grant.access_token, grant.refresh_token, grant.access_token_expire_in,
                    grant.refresh_token_expire_in)
    for a in authorized:
        shop = store.shops.upsert(Shop(id=a.id, name=a.name, region=a.region, cipher=a.cipher,
                                       seller_name=grant.seller_name, status="active", open_id=grant.open_id,
                                       granted_scopes=list(grant.granted_scopes)))
        store.shops.set_tokens(a.id, tokens)
        result.shops.append(shop)
        if on_shop is not None:
            on_shop(shop)
    address = webhook_address(public_url)
    for shop in result.shops:
        if not subscribe:
            break
        try:
            result.subscribed[shop.id] = subscribe_webhooks(api, store, shop.id, address)
        except Exception as exc:  # the shop is connected; the subscription can be retried
            log.warning("webhook subscription failed", extra={"shop_id": shop.id, "error": type(exc).__name__})
            result.problems.append(f"shop {shop.id}: webhook subscription failed: {exc}")
    for shop in result.shops:
        store.audit.record(actor, "shop.connected", entity=shop_key(shop.id),
                           detail={"name": shop.name, "region": shop.region, "seller": grant.seller_name,
                                   "webhooks": result.subscribed.get(shop.id, []),
                                   "access_expires_at": _iso(grant.access_token_expire_in)},
                           correlation_id=correlation_id())
    result.shops = [store.shops.get(s.id) or s for s in result.shops]
    return result


__all__ = [
    "REAUTHORIZE_CODE",
    "REAUTHORIZE_HINT",
    "STATE_TTL_SECONDS",
    "Connected",
    "OAuthClient",
    "OAuthError",
    "ShopTokens",
    "connect",
    "consume_state",
    "new_state",
    "state_key",
    "subscribe_webhooks",
    "webhook_address",
]

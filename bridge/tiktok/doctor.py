"""``ttns doctor`` checks for TikTok Shop: settings present, and ``GET /authorization/202309/shops``
for every connected shop with a plain explanation and fix when it fails."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bridge.check import Check
from bridge.crypto import KeyRotationPending
from bridge.errors import BridgeError, ConfigurationError, NeedsHumanError, RetriableError
from bridge.tiktok.client import TikTokError
from bridge.tiktok.oauth import REAUTHORIZE_HINT

if TYPE_CHECKING:
    from bridge.bootstrap import App

_EXPLAIN: dict[int, tuple[str, str]] = {
    105001: ("the access token was revoked or is invalid (the seller removed the app, or it was authorized again "
             "elsewhere)", "reauthorize"),
    105002: ("the access token expired and could not be refreshed", "reauthorize"),
    106001: ("TikTok says the request signature is wrong: TTNS_TIKTOK_APP_SECRET does not belong to "
             "TTNS_TIKTOK_APP_KEY", "set the app secret shown in Partner Center → App & Service → your app"),
    36009004: ("TikTok refused the credentials (app key, secret or token)",
               "check TTNS_TIKTOK_APP_KEY / TTNS_TIKTOK_APP_SECRET, then reauthorize the shop if it persists"),
}


def settings_check(container: App) -> Check:
    s = container.settings
    missing = [name for name, ok in (
        ("TTNS_TIKTOK_APP_KEY", bool(s.tiktok_app_key)),
        ("TTNS_TIKTOK_APP_SECRET", s.tiktok_app_secret is not None and bool(s.tiktok_app_secret.get_secret_value())),
        ("TTNS_TIKTOK_SERVICE_ID", bool(s.tiktok_service_id)),
    ) if not ok]
    if missing:
        return Check("tiktok settings", False, f"missing {', '.join(missing)}",
                     "copy them from TikTok Shop Partner Center → App & Service → your app (docs/tiktok.md)")
    return Check("tiktok settings", True, f"app {s.tiktok_app_key} at {s.tiktok_api_base}")


def public_url_check(container: App) -> Check:
    s = container.settings
    url = s.public_url
    if s.environment == "production" and not url.startswith("https://"):
        return Check("tiktok webhook address", False, f"{url}/webhooks/tiktok is not HTTPS",
                     "set TTNS_PUBLIC_URL to the bridge's public https:// address", warning=True)
    return Check("tiktok webhook address", True, f"{url}/webhooks/tiktok")


def shop_check(container: App, shop_id: str, name: str) -> Check:
    label = f"tiktok shop {name or shop_id} ({shop_id})"
    reauth = REAUTHORIZE_HINT.format(public_url=container.settings.public_url)
    try:
        shops = container.tiktok().shop(shop_id).authorized_shops()
    except TikTokError as exc:
        detail, fix = _EXPLAIN.get(exc.code or 0, (f"TikTok refused: code {exc.code}: {exc.tiktok_message}", ""))
        return Check(label, False, detail, reauth if fix == "reauthorize" else (fix or reauth))
    except NeedsHumanError as exc:
        return Check(label, False, exc.message, exc.fix_hint or reauth)
    except ConfigurationError as exc:
        return Check(label, False, exc.message, "see docs/tiktok.md, 'Going live'")
    except KeyRotationPending as exc:
        return Check(label, False, exc.message, "finish the key rotation: docs/security.md, 'Rotating keys'")
    except RetriableError as exc:
        return Check(label, False, f"TikTok is not reachable or busy: {exc.message}",
                     f"check network access to {container.settings.tiktok_api_base} and try again")
    except BridgeError as exc:
        return Check(label, False, exc.message, reauth)
    if not any(s.id == shop_id for s in shops):
        return Check(label, False, "the token works but TikTok no longer lists this shop for the authorization",
                     reauth)
    return Check(label, True, "authorized")


def expiry_check(container: App, shop: Any) -> Check | None:
    exp = shop.refresh_expires_at
    if exp is None:
        return None
    left = exp - container.clock.now()
    if left <= timedelta(days=14):
        return Check(f"tiktok shop {shop.name or shop.id} authorization", False,
                     f"expires {exp:%Y-%m-%d}" if left.total_seconds() > 0 else f"expired {exp:%Y-%m-%d}",
                     REAUTHORIZE_HINT.format(public_url=container.settings.public_url),
                     warning=left.total_seconds() > 0)
    return None


def doctor_checks(container: App) -> Iterator[Check]:
    settings_ok = settings_check(container)
    yield settings_ok
    yield public_url_check(container)
    shops = container.store.shops.list()
    if not shops:
        yield Check("tiktok shops", False, "no shop connected",
                    f"open {container.settings.public_url}/connect/tiktok or run "
                    "`ttns shops connect --auth-code CODE`", warning=True)
        return
    for shop in shops:
        if shop.status != "active":
            yield Check(f"tiktok shop {shop.name or shop.id} ({shop.id})", False, f"status {shop.status}",
                        REAUTHORIZE_HINT.format(public_url=container.settings.public_url), warning=True)
            continue
        if not settings_ok.ok:
            yield Check(f"tiktok shop {shop.name or shop.id} ({shop.id})", False, "not checked: settings missing")
            continue
        yield shop_check(container, shop.id, shop.name)
        warn = expiry_check(container, shop)
        if warn is not None:
            yield warn

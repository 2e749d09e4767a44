"""Apps, sellers and shops (with their warehouses, delivery options and providers), the
one-time authorization codes and the access / refresh tokens."""

from __future__ import annotations

from typing import Any

from .errors import (
    AUTH_RECORD_NOT_FOUND,
    INVALID_CREDENTIALS,
    REFRESH_TOKEN_EXPIRED,
    ApiError,
    SandboxError,
)
from .models import App, AuthCode, DeliveryOption, Provider, Seller, Shop, Token, Warehouse
from .state import SandboxState
from .webhooks import webhook_address_problem

REGION_CURRENCY = {"US": "USD", "GB": "GBP", "UK": "GBP", "DE": "EUR", "FR": "EUR", "IT": "EUR", "ES": "EUR",
                   "IE": "EUR"}
# Standard VAT rate of the VAT-inclusive markets (prices include VAT; Get Order Detail's item_tax
# documents US sales tax only, Get Price Detail gives each line's tax and rate).
VAT_RATES = {"GB": "0.20", "DE": "0.19", "FR": "0.20", "IT": "0.22", "ES": "0.21", "IE": "0.23"}
GRANTED_SCOPES = [
    "seller.authorization.info",
    "seller.order.info",
    "seller.fulfillment.basic",
    "seller.logistics",
    "seller.product.basic",
    "seller.product.write",
    "seller.return_refund.basic",
    "seller.finance.info",
]
# Providers per region with a tracking-number sanity pattern (docs/sandbox-tiktok.md).
_PROVIDERS = {
    "US": [
        ("USPS", r"^(94|93|92|95)\d{18,20}$|^[A-Z]{2}\d{9}US$"),
        ("UPS", r"^1Z[0-9A-Z]{16}$"),
        ("FedEx", r"^\d{12}$|^\d{15}$|^\d{20}$"),
    ],
    "GB": [
        ("Royal Mail", r"^[A-Z]{2}\d{9}GB$"),
        ("DPD", r"^\d{14}$"),
        ("Evri", r"^[A-Z0-9]{16}$"),
    ],
    **{eu: [("DHL", r"^\d{10,20}$"), ("DPD", r"^\d{14}$"), ("GLS", r"^[0-9A-Z]{8,14}$")]
       for eu in ("DE", "FR", "IT", "ES", "IE")},
}
_ADDRESSES = {
    "US": {"region_code": "US", "state": "California", "city": "San Jose", "postal_code": "95110",
           "address_line1": "1199 Coleman Ave"},
    "GB": {"region_code": "GB", "state": "England", "city": "London", "postal_code": "EC1A 1BB",
           "address_line1": "1 Sandbox Street"},
    "DE": {"region_code": "DE", "state": "Berlin", "city": "Berlin", "postal_code": "10115",
           "address_line1": "Sandboxstrasse 1"},
    "FR": {"region_code": "FR", "state": "Ile-de-France", "city": "Paris", "postal_code": "75001",
           "address_line1": "1 rue du Bac a Sable"},
    "IT": {"region_code": "IT", "state": "Lazio", "city": "Roma", "postal_code": "00118",
           "address_line1": "Via Sandbox 1"},
    "ES": {"region_code": "ES", "state": "Madrid", "city": "Madrid", "postal_code": "28001",
           "address_line1": "Calle Sandbox 1"},
    "IE": {"region_code": "IE", "state": "Dublin", "city": "Dublin", "postal_code": "D02 X285",
           "address_line1": "1 Sandbox Quay"},
}


def check_webhook_url(st: SandboxState, address: str | None, field: str = "webhook_url") -> None:
    """Refuse a webhook address the configuration guide's URL requirements rule out (unless the
    ``webhook_loopback_http`` knob lets a loopback one through)."""
    if address is not None:
        problem = webhook_address_problem(address, st.config.webhook_loopback_http)
        if problem:
            raise SandboxError(f"{field}: {problem}")


def add_app(
    st: SandboxState,
    app_key: str | None = None,
    app_secret: str | None = None,
    service_id: str | None = None,
    redirect_uri: str = "http://127.0.0.1/oauth/callback",
    name: str = "Sandbox app",
    webhook_url: str | None = None,
) -> App:
    check_webhook_url(st, webhook_url)
    key = app_key or "sbx" + st.ids.hexstr(10)
    if key in st.apps:
        raise SandboxError(f"app_key {key!r} already exists", 409, "conflict")
    app = App(
        app_key=key,
        app_secret=app_secret or st.ids.hexstr(40),
        service_id=service_id or st.ids.next("service", 19),
        redirect_uri=redirect_uri,
        name=name,
        webhook_url=webhook_url,
    )
    st.apps[key] = app
    return app


def add_shop(
    st: SandboxState,
    name: str,
    region: str = "US",
    seller_name: str | None = None,
    shop_id: str | None = None,
    cipher: str | None = None,
    fbt: bool = False,
    warehouses: int = 2,
) -> Shop:
    region = region.upper()
    if region == "UK":
        region = "GB"
    if region not in REGION_CURRENCY:
        raise SandboxError(f"region {region!r} is not emulated ({', '.join(sorted(set(REGION_CURRENCY) - {'UK'}))})",
                           400)
    seller_name = seller_name or f"{name} seller"
    seller = next((s for s in st.sellers.values() if s.name == seller_name), None)
    if seller is None:
        seller = Seller(open_id=st.ids.next("open_id", 19), name=seller_name, base_region=region)
        st.sellers[seller.open_id] = seller
    sid = shop_id or st.ids.next("shop", 19)
    if sid in st.shops:
        raise SandboxError(f"shop {sid!r} already exists", 409, "conflict")
    shop = Shop(
        id=sid,
        name=name,
        region=region,
        cipher=cipher or ("ROW_" if region != "US" else "TTP_") + st.ids.token("", 28),
        code=region + st.ids.hexstr(8).upper(),
        seller_open_id=seller.open_id,
        currency=REGION_CURRENCY[region],
    )
    st.shops[sid] = shop
    seller.shop_ids.append(sid)
    _setup_logistics(st, shop, warehouses, fbt)
    return shop


def _providers_for(st: SandboxState, region: str) -> list[Provider]:
    out = []
    for pname, pattern in _PROVIDERS[region]:
        existing = next((p for p in st.providers.values() if p.name == pname), None)
        if existing is None:
            existing = Provider(id=st.ids.next("provider", 19), name=pname, tracking_pattern=pattern)
            st.providers[existing.id] = existing
        out.append(existing)
    return out


def _setup_logistics(st: SandboxState, shop: Shop, count: int, fbt: bool) -> None:
    providers = _providers_for(st, shop.region)
    base = _ADDRESSES[shop.region]
    for i in range(max(1, count)):
        add_warehouse(st, shop.id, f"{shop.name} warehouse {i + 1}", is_default=(i == 0), _providers=providers,
                      _address=base)
    ret = Warehouse(
        id=st.ids.next("warehouse", 19), shop_id=shop.id, name=f"{shop.name} returns",
        type="RETURN_WAREHOUSE", sub_type="DOMESTIC_WAREHOUSE", is_default=True, fbt=False,
        address=dict(base),
    )
    st.warehouses[ret.id] = ret
    if fbt:
        add_warehouse(st, shop.id, f"FBT {shop.region} fulfillment center", fbt=True, _providers=providers,
                      _address=base)


def add_warehouse(
    st: SandboxState,
    shop_id: str,
    name: str,
    is_default: bool = False,
    fbt: bool = False,
    _providers: list[Provider] | None = None,
    _address: dict[str, str] | None = None,
) -> Warehouse:
    shop = st.shop(shop_id)
    providers = _providers or _providers_for(st, shop.region)
    wh = Warehouse(
        id=st.ids.next("warehouse", 19), shop_id=shop_id, name=name, type="SALES_WAREHOUSE",
        sub_type="DOMESTIC_WAREHOUSE", is_default=is_default, fbt=fbt,
        address=dict(_address or _ADDRESSES[shop.region]),
    )
    st.warehouses[wh.id] = wh
    if fbt:
        opt = DeliveryOption(id=st.ids.next("delivery_option", 19), warehouse_id=wh.id,
                             name="Fulfilled by TikTok", type="STANDARD", provider_ids=[])
        st.delivery_options[opt.id] = opt
        return wh
    for oname, otype, provs in (("Standard shipping", "STANDARD", providers),
                                ("Express shipping", "EXPRESS", providers[1:] or providers)):
        opt = DeliveryOption(id=st.ids.next("delivery_option", 19), warehouse_id=wh.id, name=oname,
                             type=otype, provider_ids=[p.id for p in provs])
        st.delivery_options[opt.id] = opt
    return wh


# ------------------------------------------------------------------------------ authorization
def create_auth_code(st: SandboxState, app_key: str, open_id: str | None = None, shop_id: str | None = None) -> str:
    """What the merchant's click on "Authorize" does: a single-use code for the seller's shops."""
    st.app(app_key)
    if shop_id:
        open_id = st.shop(shop_id).seller_open_id
    if not open_id:
        open_id = next(iter(st.sellers), None)
    if open_id is None or open_id not in st.sellers:
        raise SandboxError("no seller to authorize", 404, "not_found")
    code = st.ids.token("TTP_", 22)
    st.auth_codes[code] = AuthCode(code=code, app_key=app_key, open_id=open_id,
                                   expires_at=st.clock.now() + st.config.auth_code_ttl)
    return code


def _check_app(st: SandboxState, app_key: str, app_secret: str) -> App:
    app = st.apps.get(app_key)
    if app is None or app.app_secret != app_secret:
        raise ApiError(INVALID_CREDENTIALS, "Invalid credentials. Invalid app_key or app_secret.", 401)
    return app


def _issue(st: SandboxState, app_key: str, open_id: str, refresh: tuple[str, int] | None = None) -> Token:
    now = st.now()
    refresh_token, refresh_exp = refresh or (st.ids.token("TTP_", 44), now + st.config.refresh_token_ttl)
    tok = Token(
        access_token=st.ids.token("TTP_", 60),
        refresh_token=refresh_token,
        app_key=app_key,
        open_id=open_id,
        access_expires_at=now + st.config.access_token_ttl,
        refresh_expires_at=refresh_exp,
        granted_scopes=list(GRANTED_SCOPES),
    )
    st.tokens[tok.access_token] = tok
    st.refresh_index[tok.refresh_token] = tok.access_token
    st.grants.setdefault((app_key, open_id), set()).update(st.sellers[open_id].shop_ids)
    return tok


def token_response(st: SandboxState, tok: Token) -> dict[str, Any]:
    seller = st.sellers[tok.open_id]
    return {
        "access_token": tok.access_token,
        "access_token_expire_in": tok.access_expires_at,
        "refresh_token": tok.refresh_token,
        "refresh_token_expire_in": tok.refresh_expires_at,
        "open_id": tok.open_id,
        "seller_name": seller.name,
        "seller_base_region": seller.base_region,
        "user_type": 0,
        "granted_scopes": list(tok.granted_scopes),
    }


def exchange_code(st: SandboxState, app_key: str, app_secret: str, auth_code: str, grant_type: str) -> Token:
    _check_app(st, app_key, app_secret)
    if grant_type != "authorized_code":
        raise ApiError(INVALID_CREDENTIALS, "Invalid grant_type: only authorized_code is accepted.", 400)
    rec = st.auth_codes.get(auth_code)
    if rec is None or rec.used or rec.app_key != app_key or rec.expires_at < st.clock.now():
        raise ApiError(AUTH_RECORD_NOT_FOUND, "can not find related auth record", 400)
    rec.used = True
    return _issue(st, app_key, rec.open_id)


def refresh(st: SandboxState, app_key: str, app_secret: str, refresh_token: str, grant_type: str) -> Token:
    _check_app(st, app_key, app_secret)
    if grant_type != "refresh_token":
        raise ApiError(INVALID_CREDENTIALS, "Invalid grant_type: only refresh_token is accepted.", 400)
    access = st.refresh_index.get(refresh_token)
    old = st.tokens.get(access) if access else None
    if old is None or old.app_key != app_key or old.revoked:
        raise ApiError(AUTH_RECORD_NOT_FOUND, "can not find related auth record", 400)
    if old.refresh_expires_at < st.now():
        raise ApiError(REFRESH_TOKEN_EXPIRED, "rt has expired", 400)
    return _issue(st, app_key, old.open_id, refresh=(old.refresh_token, old.refresh_expires_at))


def issue_token(st: SandboxState, app_key: str, shop_id: str | None = None, open_id: str | None = None) -> Token:
    """Headless shortcut: authorize and exchange in one step."""
    code = create_auth_code(st, app_key, open_id=open_id, shop_id=shop_id)
    st.auth_codes[code].used = True
    return _issue(st, app_key, st.auth_codes[code].open_id)


def _tokens_matching(st: SandboxState, access_token: str | None, app_key: str | None,
                     shop_id: str | None) -> list[Token]:
    if access_token:
        tok = st.tokens.get(access_token)
        if tok is None:
            raise SandboxError("unknown access token", 404, "not_found")
        return [tok]
    out = []
    for tok in st.tokens.values():
        if app_key and tok.app_key != app_key:
            continue
        if shop_id and shop_id not in st.sellers[tok.open_id].shop_ids:
            continue
        out.append(tok)
    return out


def expire_tokens(st: SandboxState, access_token: str | None = None, app_key: str | None = None,
                  shop_id: str | None = None, refresh_too: bool = False) -> int:
    toks = _tokens_matching(st, access_token, app_key, shop_id)
    past = st.now() - 1
    for tok in toks:
        tok.access_expires_at = past
        if refresh_too:
            tok.refresh_expires_at = past
    return len(toks)


def revoke_tokens(st: SandboxState, access_token: str | None = None, app_key: str | None = None,
                  shop_id: str | None = None) -> int:
    toks = _tokens_matching(st, access_token, app_key, shop_id)
    for tok in toks:
        tok.revoked = True
    return len(toks)


def deauthorize(st: SandboxState, app_key: str, shop_id: str) -> int:
    """The seller removes the app: tokens revoked, grant dropped, webhook 6 sent."""
    shop = st.shop(shop_id)
    n = revoke_tokens(st, app_key=app_key, shop_id=shop_id)
    st.grants.pop((app_key, shop.seller_open_id), None)
    st.emit(shop_id, 6, {"message": f"Shop_id {shop_id} is deauthorized from your APP by merchant."},
            app_key=app_key)
    return n


def authorized_shops(st: SandboxState, tok: Token) -> list[Shop]:
    ids = st.grants.get((tok.app_key, tok.open_id), set())
    return [st.shops[s] for s in sorted(ids) if s in st.shops]

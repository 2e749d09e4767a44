"""The TikTok Shop Open API client.

Two layers:

``TikTokApi.call(name, …)``  one signed request for an endpoint of ``bridge.tiktok.endpoints``:
    the body is serialized once and those bytes are signed and sent; ``x-tts-access-token``
    header; ``shop_cipher`` only where the table says so; the ``{code, message, request_id,
    data}`` envelope checked and mapped with ``bridge.errors.classify_http``; HTTP 429 / 36009002
    retried in the call with jittered backoff honouring ``Retry-After``; 105002 → the shop's token
    refreshed once and the call retried; every attempt recorded in ``store.calls`` tagged with the
    running job. ``pages(…)`` follows ``next_page_token``.

``TikTok.shop(shop_id)``  the typed facade the flows use:
    ``.orders``, ``.products``, ``.logistics``, ``.fulfillment``, ``.returns``, ``.finance``,
    ``.events`` — methods take plain Python values and return ``bridge.tiktok.models``.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import requests
from pydantic import BaseModel

from bridge import lease
from bridge.errors import (
    BridgeError,
    Evidence,
    FatalError,
    PolicyOutcome,
    RetriableError,
    TokenExpiredError,
    WriteOutcomeUnknown,
    classify_http,
    error_for,
)
from bridge.logs import correlation_id, current_job
from bridge.mapping.wire import NonFiniteNumber, loads_strict
from bridge.retry import backoff_delay
from bridge.tiktok import models as m
from bridge.tiktok.endpoints import Endpoint, endpoint
from bridge.tiktok.ratelimit import RateLimiter
from bridge.tiktok.signing import canonical_query, encode_body, sign

if TYPE_CHECKING:
    from bridge.store.repos import ApiCalls

log = logging.getLogger("bridge.tiktok")

SYSTEM = "tiktok"
ORDER_DETAIL_BATCH = 50  # Get Order Detail: "Max count: 50"
_T = TypeVar("_T", bound=BaseModel)


class TikTokError(FatalError):
    """TikTok refused the request for good (bad sign, bad credentials, a business rule …).

    ``code`` is TikTok's code (``None`` when the answer was not an envelope) and ``tiktok_message``
    its message, so flows can turn specific refusals into exceptions for people.
    """

    def __init__(self, message: str, evidence: Evidence, *, code: int | None, tiktok_message: str) -> None:
        super().__init__(message, evidence)
        self.code = code
        self.tiktok_message = tiktok_message


class TokenSource(Protocol):
    """Where the client gets a shop's access token and cipher, and how it refreshes the token."""

    def access_token(self, shop_id: str) -> str: ...

    def refresh(self, shop_id: str, stale_token: str | None = None) -> str: ...

    def cipher(self, shop_id: str) -> str: ...


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); ``None`` when absent or junk."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _epoch(value: datetime | int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware UTC time")
        return int(value.timestamp())
    return int(value)


def _clean(d: Mapping[str, Any]) -> dict[str, Any]:
    """Drop ``None`` and empty sequences (TikTok treats an empty filter as a filter)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if v is None:
            continue
        if isinstance(v, list | tuple | set | frozenset) and not v:
            continue
        if isinstance(v, datetime):
            out[k] = _epoch(v)
        elif isinstance(v, set | frozenset):
            out[k] = sorted(v)
        elif isinstance(v, tuple):
            out[k] = list(v)
        else:
            out[k] = v
    return out


class TikTokApi:
    """Signed, rate-limited, retrying calls to the Open API (one instance per app, thread-safe)."""

    def __init__(
        self,
        *,
        app_key: str,
        app_secret: str,
        base_url: str,
        tokens: TokenSource | None = None,
        calls: ApiCalls | None = None,
        limiter: RateLimiter | None = None,
        session: requests.Session | None = None,
        timeout: float = 20.0,
        max_attempts: int = 4,
        backoff_base: float = 0.5,
        backoff_cap: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.app_key = app_key
        self._secret = app_secret
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.calls = calls
        self.limiter = limiter
        self.session = session or requests.Session()
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.sleep = sleep
        self.rand = rand
        self.now = now

    def __repr__(self) -> str:
        return f"TikTokApi(app_key={self.app_key!r}, base_url={self.base_url!r})"

    def close(self) -> None:
        self.session.close()

    # ------------------------------------------------------------------------------- one call
    def call(
        self,
        name: str,
        *,
        shop_id: str | None = None,
        access_token: str | None = None,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        files: Mapping[str, Any] | None = None,
        form: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Call endpoint ``name`` and return the envelope's ``data`` (``{}`` when absent).

        Give ``shop_id`` (token and cipher come from the token source, 105002 refreshes it) or an
        explicit ``access_token`` (used as is: the OAuth flow before the shop is stored).
        """
        ep = endpoint(name)
        if not self.app_key or not self._secret:
            raise FatalError("TikTok app key / secret are not configured: set TTNS_TIKTOK_APP_KEY and "
                             "TTNS_TIKTOK_APP_SECRET")
        path = ep.path(**dict(path_params or {}))
        if access_token is None:
            if shop_id is None or self.tokens is None:
                raise ValueError("call() needs shop_id (with a token source) or access_token")
            token = self.tokens.access_token(shop_id)
            refreshable = True
        else:
            token = access_token
            refreshable = False
        base_query = canonical_query(_clean(query or {}))
        if ep.shop_cipher:
            if shop_id is None or self.tokens is None:
                raise ValueError(f"{ep.name} needs the shop's cipher: pass shop_id")
            base_query["shop_cipher"] = self.tokens.cipher(shop_id)
        else:
            base_query.pop("shop_cipher", None)
        body_bytes = None if ep.multipart or body is None else encode_body(body)
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            if self.limiter is not None:
                self.limiter.acquire(shop_id or "-", ep.name)
            q = dict(base_query, app_key=self.app_key, timestamp=str(int(self.now())))
            q["sign"] = sign(self._secret, path, q, body_bytes)
            outcome, data, err = self._attempt(ep, path, q, token, body_bytes, files, form, shop_id)
            if outcome == "ok":
                return data
            assert err is not None
            if outcome == "refresh_token" and refreshable and not refreshed and self.tokens is not None:
                assert shop_id is not None
                token = self.tokens.refresh(shop_id, stale_token=token)
                refreshed = True
                attempt -= 1  # the refresh retry is not a backoff attempt
                continue
            if outcome == "retry" and attempt < self.max_attempts and self._may_repeat(ep, err):
                delay = backoff_delay(attempt, base=self.backoff_base, cap=self.backoff_cap, rand=self.rand(),
                                      retry_after=getattr(err, "retry_after", None))
                log.info("tiktok call retried", extra={"operation": ep.name, "attempt": attempt,
                                                       "delay": round(delay, 3), "code": err.evidence.code})
                self.sleep(delay)
                continue
            raise err

    @staticmethod
    def _may_repeat(ep: Endpoint, err: BridgeError) -> bool:
        """Rate-limit refusals are never processed, so any call may repeat them; other transient
        failures repeat in the call only for reads and idempotent writes."""
        if isinstance(err, WriteOutcomeUnknown):
            return False
        if isinstance(err, RetriableError) and err.evidence.code in ("36009002", "36009006"):
            return True
        if isinstance(err, RetriableError) and err.evidence.status == 429:
            return True
        return ep.idempotent

    def _attempt(
        self,
        ep: Endpoint,
        path: str,
        query: dict[str, str],
        token: str,
        body_bytes: bytes | None,
        files: Mapping[str, Any] | None,
        form: Mapping[str, str] | None,
        shop_id: str | None,
    ) -> tuple[PolicyOutcome, dict[str, Any], BridgeError | None]:
        if ep.method != "GET":  # a worker that lost its lease sends no more writes (bridge.lease)
            lease.recheck(f"TikTok {ep.name}")
        headers = {"x-tts-access-token": token}
        if not ep.multipart:
            headers["content-type"] = "application/json"
        started = time.monotonic()
        status: int | None = None
        try:
            resp = self.session.request(
                ep.method, self.base_url + path, params=query, data=body_bytes if not ep.multipart else form,
                files=files if ep.multipart else None, headers=headers, timeout=self.timeout,
            )
        except requests.RequestException as exc:
            ms = int((time.monotonic() - started) * 1000)
            ev = Evidence.of(SYSTEM, f"{ep.method} {path}", None, None, None, None,
                             endpoint=ep.name, error=type(exc).__name__, shop_id=shop_id)
            sent = not isinstance(exc, requests.ConnectTimeout | requests.exceptions.InvalidURL)
            err: BridgeError
            if sent and not ep.idempotent:
                err = WriteOutcomeUnknown(
                    f"TikTok {ep.name}: {type(exc).__name__} after sending; the write may have happened", ev)
                outcome: PolicyOutcome = "retry"
            else:
                err = RetriableError(f"TikTok {ep.name}: {type(exc).__name__}: cannot reach {self.base_url}", ev)
                outcome = "retry"
            self._record(ep, path, None, ms, "error", None, None)
            return outcome, {}, err
        ms = int((time.monotonic() - started) * 1000)
        status = resp.status_code
        raw = resp.content
        request_id = resp.headers.get("X-Tt-Logid")
        code: int | None = None
        message = ""
        data: dict[str, Any] = {}
        envelope_ok = False
        non_finite: NonFiniteNumber | None = None
        try:
            doc = loads_strict(raw) if raw else None
        except NonFiniteNumber as exc:
            doc, non_finite = None, exc
        except (ValueError, UnicodeDecodeError):
            doc = None
        if isinstance(doc, dict) and "code" in doc:
            envelope_ok = True
            try:
                code = int(doc.get("code"))  # type: ignore[arg-type]
            except (TypeError, ValueError):
                code = None
                envelope_ok = False
            message = str(doc.get("message") or "")
            request_id = str(doc.get("request_id") or request_id or "") or None
            d = doc.get("data")
            data = d if isinstance(d, dict) else {}
        if envelope_ok and status < 500:
            outcome = classify_http(SYSTEM, status, code)
            if outcome == "ok" and not 200 <= status < 300:
                outcome = classify_http(SYSTEM, status, None)
        else:
            # An HTTP 5xx is transient whatever code rides in it (TikTok sends 36009003 "internal
            # error, please try again" with it); a 2xx that is not an envelope is a fault.
            outcome = classify_http(SYSTEM, status, None)
            if non_finite is not None:
                # Not JSON: refused like any answer that is not the envelope. Under a 5xx it stays
                # transient; under a 2xx it is a fault of TikTok's that repeating will not cure.
                message = f"{non_finite} ({ep.method} {path})"
            if outcome == "ok":
                outcome = "fatal"
                message = message or "the answer is not TikTok's {code, message, data} envelope"
        self._record(ep, path, status, ms, outcome, code, request_id)
        if outcome == "ok":
            return outcome, data, None
        ev = Evidence.of(SYSTEM, f"{ep.method} {path}", status, code, request_id, raw, endpoint=ep.name,
                         shop_id=shop_id)
        text = f"TikTok {ep.name} failed: HTTP {status}, code {code}: {message or resp.reason}"
        if outcome == "retry":
            retry_after = parse_retry_after(resp.headers.get("Retry-After"), self.now())
            if not ep.idempotent and status != 429 and code not in (36009002, 36009006):
                # a 5xx or "internal error" after a write was sent: it may have been applied
                return outcome, {}, WriteOutcomeUnknown(text + " (the write may have happened)", ev)
            return outcome, {}, RetriableError(text, ev, retry_after=retry_after)
        if outcome == "refresh_token":
            return outcome, {}, TokenExpiredError(text, ev)
        if outcome == "fatal":
            return outcome, {}, TikTokError(text, ev, code=code, tiktok_message=message)
        return outcome, {}, error_for(outcome, text, ev)

    def _record(self, ep: Endpoint, path: str, status: int | None, ms: int, outcome: str, code: int | None,
                request_id: str | None) -> None:
        if self.calls is None:
            return
        job_id, entity = current_job()
        try:
            self.calls.record(system=SYSTEM, operation=ep.name, method=ep.method, path=path, status=status,
                              duration_ms=ms, outcome=outcome, code=None if code is None else str(code),
                              request_id=request_id, entity=entity, job_id=job_id, correlation_id=correlation_id())
        except Exception:  # the call log must never fail the call
            log.exception("could not record a TikTok call")

    # ------------------------------------------------------------------------------- paging
    def pages(
        self,
        name: str,
        *,
        shop_id: str,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        path_params: Mapping[str, str] | None = None,
        page_size: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every page's ``data`` of a paginated endpoint, following ``next_page_token``."""
        ep = endpoint(name)
        size = page_size or ep.page_size or 50
        if ep.page_size:
            size = min(size, ep.page_size)
        token = ""
        seen: set[str] = set()
        while True:
            q = dict(query or {}, page_size=size)
            if token:
                q["page_token"] = token
            data = self.call(name, shop_id=shop_id, query=q, body=body, path_params=path_params)
            yield data
            token = str(data.get("next_page_token") or "")
            if not token or token in seen:
                return
            seen.add(token)

    def items(
        self,
        name: str,
        key: str,
        model: type[_T],
        *,
        shop_id: str,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        path_params: Mapping[str, str] | None = None,
        page_size: int | None = None,
    ) -> Iterator[_T]:
        """The items under ``key`` of every page, validated as ``model``."""
        for data in self.pages(name, shop_id=shop_id, query=query, body=body, path_params=path_params,
                               page_size=page_size):
            for raw in data.get(key) or []:
                yield model.model_validate(raw)


def _chunks(ids: Iterable[str], size: int) -> Iterator[list[str]]:
    seen: set[str] = set()
    batch: list[str] = []
    for i in ids:
        s = str(i)
        if not s or s in seen:
            continue
        seen.add(s)
        batch.append(s)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _list(data: Mapping[str, Any], key: str, model: type[_T]) -> list[_T]:
    return [model.model_validate(x) for x in data.get(key) or []]


# =========================================================================== the facade
class _Section:
    def __init__(self, api: TikTokApi, shop_id: str) -> None:
        self.api = api
        self.shop_id = shop_id

    def _call(self, name: str, **kw: Any) -> dict[str, Any]:
        return self.api.call(name, shop_id=self.shop_id, **kw)


class Orders(_Section):
    def search(
        self,
        *,
        update_time_ge: datetime | int | None = None,
        update_time_lt: datetime | int | None = None,
        create_time_ge: datetime | int | None = None,
        create_time_lt: datetime | int | None = None,
        order_status: str | None = None,
        warehouse_ids: Sequence[str] = (),
        sort_field: str = "update_time",
        sort_order: str = "ASC",
        page_size: int = 100,
    ) -> Iterator[m.Order]:
        """Orders matching the filters, every page (the polling backstop uses ``update_time_ge``)."""
        body = _clean({"update_time_ge": update_time_ge, "update_time_lt": update_time_lt,
                       "create_time_ge": create_time_ge, "create_time_lt": create_time_lt,
                       "order_status": order_status, "warehouse_ids": list(warehouse_ids)})
        return self.api.items("orders.search", "orders", m.Order, shop_id=self.shop_id,
                              query={"sort_field": sort_field, "sort_order": sort_order}, body=body,
                              page_size=page_size)

    def get_details(self, ids: Iterable[str]) -> list[m.Order]:
        """Get Order Detail for any number of ids (batched by 50), in the order asked for."""
        wanted = [str(i) for i in ids]
        found: dict[str, m.Order] = {}
        for batch in _chunks(wanted, ORDER_DETAIL_BATCH):
            data = self._call("orders.detail", query={"ids": batch})
            for o in _list(data, "orders", m.Order):
                found[o.id] = o
        out: list[m.Order] = []
        for i in dict.fromkeys(wanted):
            if i in found:
                out.append(found[i])
        return out

    def get(self, order_id: str) -> m.Order | None:
        got = self.get_details([order_id])
        return got[0] if got else None

    def price_detail(self, order_id: str) -> m.PriceDetail:
        return m.PriceDetail.model_validate(self._call("orders.price_detail", path_params={"order_id": order_id}))


class Products(_Section):
    def search(
        self,
        *,
        status: str | None = None,
        seller_skus: Sequence[str] = (),
        sku_ids: Sequence[str] = (),
        update_time_ge: datetime | int | None = None,
        update_time_le: datetime | int | None = None,
        page_size: int = 100,
    ) -> Iterator[m.Product]:
        body = _clean({"status": status, "seller_skus": list(seller_skus), "sku_ids": list(sku_ids),
                       "update_time_ge": update_time_ge, "update_time_le": update_time_le})
        return self.api.items("products.search", "products", m.Product, shop_id=self.shop_id, body=body,
                              page_size=page_size)

    def get(self, product_id: str) -> m.Product:
        return m.Product.model_validate(self._call("products.get", path_params={"product_id": product_id}))

    def create(self, product: Mapping[str, Any]) -> m.ProductCreated:
        """Create Product; ``product`` is the documented request body."""
        return m.ProductCreated.model_validate(self._call("products.create", body=dict(product)))

    def edit(self, product_id: str, product: Mapping[str, Any]) -> dict[str, Any]:
        """Edit Product (full replacement of the listing)."""
        return self._call("products.edit", path_params={"product_id": product_id}, body=dict(product))

    def partial_edit(self, product_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        return self._call("products.partial_edit", path_params={"product_id": product_id}, body=dict(changes))

    def activate(self, product_ids: Sequence[str]) -> m.BatchResult:
        return m.BatchResult.model_validate(self._call("products.activate", body={"product_ids": list(product_ids)}))

    def deactivate(self, product_ids: Sequence[str]) -> m.BatchResult:
        return m.BatchResult.model_validate(
            self._call("products.deactivate", body={"product_ids": list(product_ids)}))

    def inventory(self, *, product_ids: Sequence[str] = (), sku_ids: Sequence[str] = ()) -> list[m.InventoryRecord]:
        """Inventory Search: available and committed quantity per SKU and warehouse."""
        if not product_ids and not sku_ids:
            raise ValueError("inventory search needs product_ids or sku_ids")
        data = self._call("products.inventory.search",
                          body=_clean({"product_ids": list(product_ids), "sku_ids": list(sku_ids)}))
        return _list(data, "inventory", m.InventoryRecord)

    def update_inventory(self, product_id: str, quantities: Mapping[str, Mapping[str, int]]) -> m.BatchResult:
        """Set absolute quantities: ``{sku_id: {warehouse_id: quantity}}`` for SKUs of one product."""
        skus = [
            {"id": sku, "inventory": [{"warehouse_id": wh, "quantity": int(q)} for wh, q in per_wh.items()]}
            for sku, per_wh in quantities.items()
        ]
        if not skus:
            raise ValueError("no SKU quantities to update")
        data = self._call("products.inventory.update", path_params={"product_id": product_id}, body={"skus": skus})
        return m.BatchResult.model_validate(data)

    def update_prices(self, product_id: str, prices: Mapping[str, Decimal], currency: str) -> dict[str, Any]:
        """Set SKU sale prices: ``{sku_id: Decimal}`` in ``currency`` (sent as decimal strings)."""
        skus = [{"id": sku, "price": {"amount": format(Decimal(p), "f"), "currency": currency}}
                for sku, p in prices.items()]
        if not skus:
            raise ValueError("no SKU prices to update")
        return self._call("products.prices.update", path_params={"product_id": product_id}, body={"skus": skus})

    def categories(self, *, keyword: str | None = None, locale: str | None = None,
                   category_version: str | None = None) -> list[m.Category]:
        """``category_version="v2"`` for US shops (their category tree)."""
        data = self._call("products.categories", query={"keyword": keyword, "locale": locale,
                                                        "category_version": category_version})
        return _list(data, "categories", m.Category)

    def attributes(self, category_id: str, *, category_version: str | None = None) -> list[m.Attribute]:
        data = self._call("products.attributes", path_params={"category_id": category_id},
                          query={"category_version": category_version})
        return _list(data, "attributes", m.Attribute)

    def rules(self, category_id: str, *, category_version: str | None = None) -> m.CategoryRules:
        return m.CategoryRules.model_validate(
            self._call("products.rules", path_params={"category_id": category_id},
                       query={"category_version": category_version}))

    def brands(self, *, category_id: str | None = None, brand_name: str | None = None,
               category_version: str | None = None) -> Iterator[m.Brand]:
        return self.api.items("products.brands", "brands", m.Brand, shop_id=self.shop_id,
                              query={"category_id": category_id, "brand_name": brand_name,
                                     "category_version": category_version})

    def upload_image(self, data: bytes, filename: str = "image.jpg", use_case: str = "MAIN_IMAGE",
                     content_type: str = "image/jpeg") -> m.UploadedImage:
        """Upload Product Image (multipart; the body is not signed)."""
        got = self._call("products.images.upload", files={"data": (filename, data, content_type)},
                         form={"use_case": use_case})
        return m.UploadedImage.model_validate(got)


class Logistics(_Section):
    def warehouses(self) -> list[m.Warehouse]:
        return _list(self._call("logistics.warehouses"), "warehouses", m.Warehouse)

    def delivery_options(self, warehouse_id: str) -> list[m.DeliveryOption]:
        data = self._call("logistics.delivery_options", path_params={"warehouse_id": warehouse_id})
        return _list(data, "delivery_options", m.DeliveryOption)

    def shipping_providers(self, delivery_option_id: str) -> list[m.ShippingProvider]:
        data = self._call("logistics.shipping_providers", path_params={"delivery_option_id": delivery_option_id})
        return _list(data, "shipping_providers", m.ShippingProvider)

    def fbt_warehouses(self) -> list[dict[str, Any]]:
        """TikTok's fulfillment centres holding this seller's FBT stock (Get FBT Warehouse List)."""
        return list((self._call("fbt.warehouses") or {}).get("warehouses") or [])

    def fbt_inventory(self, *, fbt_warehouse_ids: Sequence[str] = (), sku_ids: Sequence[str] = ()
                      ) -> Iterator[dict[str, Any]]:
        """FBT inventory records (Search FBT Inventory), every page."""
        body = _clean({"fbt_warehouse_ids": list(fbt_warehouse_ids), "sku_ids": list(sku_ids)})
        for page in self.api.pages("fbt.inventory.search", shop_id=self.shop_id, body=body):
            yield from page.get("inventory") or []

    def fbt_inventory_records(self, *, fbt_warehouse_ids: Sequence[str] = (), goods_ids: Sequence[str] = (),
                              create_time_ge: int | None = None, create_time_le: int | None = None
                              ) -> Iterator[dict[str, Any]]:
        """FBT inventory changes, each naming the order that caused it (Search FBT Inventory Record),
        every page."""
        body = _clean({"fbt_warehouse_ids": list(fbt_warehouse_ids), "goods_ids": list(goods_ids),
                       "create_time_ge": create_time_ge, "create_time_le": create_time_le})
        for page in self.api.pages("fbt.inventory_records.search", shop_id=self.shop_id, body=body):
            yield from page.get("inventory_records") or []

    def fbt_inbound_orders(self, ids: Sequence[str]) -> list[dict[str, Any]]:
        """Inbound orders by id (Get Inbound Order); TikTok's query takes the number without ``IBR``."""
        numbers = [i[3:] if i.upper().startswith("IBR") else i for i in ids]
        out: list[dict[str, Any]] = []
        for i in range(0, len(numbers), 50):
            data = self._call("fbt.inbound_orders.get", query={"ids": numbers[i:i + 50]})
            out += list((data or {}).get("inbound_orders") or [])
        return out


class Fulfillment(_Section):
    def mark_package_shipped(self, order_id: str, *, tracking_number: str, shipping_provider_id: str,
                             line_item_ids: Sequence[str] = ()) -> m.MarkShippedResult:
        """Mark Package As Shipped (seller-shipped orders; all lines unless ``line_item_ids``)."""
        body = _clean({"tracking_number": tracking_number, "shipping_provider_id": shipping_provider_id,
                       "order_line_item_ids": list(line_item_ids)})
        data = self._call("fulfillment.mark_package_shipped", path_params={"order_id": order_id}, body=body)
        return m.MarkShippedResult.model_validate(data)

    def ship_package(self, package_id: str, *, tracking_number: str | None = None,
                     shipping_provider_id: str | None = None, handover_method: str | None = None,
                     pickup_slot: Mapping[str, int] | None = None) -> dict[str, Any]:
        """Ship Package: self-shipment with a tracking number, or TikTok shipping (handover method)."""
        body: dict[str, Any] = _clean({"handover_method": handover_method,
                                       "pickup_slot": dict(pickup_slot) if pickup_slot else None})
        if tracking_number or shipping_provider_id:
            body["self_shipment"] = {"tracking_number": tracking_number or "",
                                     "shipping_provider_id": shipping_provider_id or ""}
        return self._call("fulfillment.ship_package", path_params={"package_id": package_id}, body=body)

    def batch_ship(self, packages: Sequence[Mapping[str, Any]]) -> m.BatchResult:
        data = self._call("fulfillment.batch_ship", body={"packages": [dict(p) for p in packages]})
        return m.BatchResult.model_validate(data)

    def update_shipping_info(self, order_id: str, *, tracking_number: str, shipping_provider_id: str) -> None:
        self._call("fulfillment.update_shipping_info", path_params={"order_id": order_id},
                   body={"tracking_number": tracking_number, "shipping_provider_id": shipping_provider_id})

    def update_package_shipping_info(self, package_id: str, *, tracking_number: str,
                                     shipping_provider_id: str) -> None:
        self._call("fulfillment.update_package_shipping_info", path_params={"package_id": package_id},
                   body={"tracking_number": tracking_number, "shipping_provider_id": shipping_provider_id})

    def search_packages(self, *, update_time_ge: datetime | int | None = None,
                        update_time_lt: datetime | int | None = None, package_status: str | None = None,
                        sort_field: str = "update_time", sort_order: str = "ASC") -> Iterator[m.Package]:
        body = _clean({"update_time_ge": update_time_ge, "update_time_lt": update_time_lt,
                       "package_status": package_status})
        return self.api.items("fulfillment.packages.search", "packages", m.Package, shop_id=self.shop_id,
                              query={"sort_field": sort_field, "sort_order": sort_order}, body=body)

    def get_package(self, package_id: str) -> m.Package:
        data = self._call("fulfillment.packages.get", path_params={"package_id": package_id})
        return m.Package.from_detail(data)

    def shipping_document(self, package_id: str, document_type: str = "SHIPPING_LABEL",
                          document_format: str = "PDF") -> dict[str, Any]:
        """The label (or packing slip) TikTok issues for a TikTok-shipped package: ``{doc_url, …}``."""
        return self._call("fulfillment.shipping_documents", path_params={"package_id": package_id},
                          query={"document_type": document_type, "document_format": document_format})

    def split_attributes(self, order_ids: Sequence[str]) -> list[m.SplitAttribute]:
        data = self._call("fulfillment.split_attributes", query={"order_ids": list(order_ids)})
        return _list(data, "split_attributes", m.SplitAttribute)

    def split(self, order_id: str, groups: Mapping[str, Sequence[str]]) -> list[m.SplitPackage]:
        """Split Order into packages: ``{group_id: [line_item_id, …]}``."""
        body = {"splittable_groups": [{"id": g, "order_line_item_ids": list(ids)} for g, ids in groups.items()]}
        data = self._call("fulfillment.split", path_params={"order_id": order_id}, body=body)
        return _list(data, "packages", m.SplitPackage)


class Returns(_Section):
    """Return & refund: cancellations and returns."""

    def search_cancellations(self, *, order_ids: Sequence[str] = (), cancel_ids: Sequence[str] = (),
                             cancel_status: Sequence[str] = (), update_time_ge: datetime | int | None = None,
                             update_time_lt: datetime | int | None = None, sort_field: str = "update_time",
                             sort_order: str = "ASC") -> Iterator[m.Cancellation]:
        body = _clean({"order_ids": list(order_ids), "cancel_ids": list(cancel_ids),
                       "cancel_status": list(cancel_status), "update_time_ge": update_time_ge,
                       "update_time_lt": update_time_lt})
        return self.api.items("returns.cancellations.search", "cancellations", m.Cancellation,
                              shop_id=self.shop_id, query={"sort_field": sort_field, "sort_order": sort_order},
                              body=body)

    def cancel_order(self, order_id: str, cancel_reason: str, *, line_item_ids: Sequence[str] = (),
                     skus: Mapping[str, int] | None = None) -> m.CancellationCreated:
        """Seller-initiated cancellation, whole order or some line items / SKU quantities."""
        body = _clean({"order_id": order_id, "cancel_reason": cancel_reason,
                       "order_line_item_ids": list(line_item_ids),
                       "skus": [{"sku_id": s, "quantity": int(q)} for s, q in (skus or {}).items()]})
        return m.CancellationCreated.model_validate(self._call("returns.cancellations.create", body=body))

    def approve_cancellation(self, cancel_id: str, *, idempotency_key: str | None = None) -> None:
        self._call("returns.cancellations.approve", path_params={"cancel_id": cancel_id},
                   query={"idempotency_key": idempotency_key})

    def reject_cancellation(self, cancel_id: str, reject_reason: str, *, comment: str | None = None,
                            idempotency_key: str | None = None) -> None:
        self._call("returns.cancellations.reject", path_params={"cancel_id": cancel_id},
                   query={"idempotency_key": idempotency_key},
                   body=_clean({"reject_reason": reject_reason, "comment": comment}))

    def search_returns(self, *, order_ids: Sequence[str] = (), return_ids: Sequence[str] = (),
                       return_status: Sequence[str] = (), update_time_ge: datetime | int | None = None,
                       update_time_lt: datetime | int | None = None, sort_field: str = "update_time",
                       sort_order: str = "ASC") -> Iterator[m.Return]:
        body = _clean({"order_ids": list(order_ids), "return_ids": list(return_ids),
                       "return_status": list(return_status), "update_time_ge": update_time_ge,
                       "update_time_lt": update_time_lt})
        return self.api.items("returns.search", "return_orders", m.Return, shop_id=self.shop_id,
                              query={"sort_field": sort_field, "sort_order": sort_order}, body=body)

    def approve_return(self, return_id: str, decision: str, *, buyer_keep_item: bool | None = None,
                       partial_refund: m.Amount | None = None, idempotency_key: str | None = None) -> None:
        body = _clean({"decision": decision, "buyer_keep_item": buyer_keep_item,
                       "partial_refund": None if partial_refund is None else {
                           "amount": format(partial_refund.amount, "f"), "currency": partial_refund.currency}})
        self._call("returns.approve", path_params={"return_id": return_id},
                   query={"idempotency_key": idempotency_key}, body=body)

    def reject_return(self, return_id: str, decision: str, reject_reason: str, *, comment: str | None = None,
                      idempotency_key: str | None = None) -> None:
        self._call("returns.reject", path_params={"return_id": return_id},
                   query={"idempotency_key": idempotency_key},
                   body=_clean({"decision": decision, "reject_reason": reject_reason, "comment": comment}))

    def reject_reasons(self, return_or_cancel_id: str, *, locale: str | None = None) -> list[m.RejectReason]:
        data = self._call("returns.reject_reasons",
                          query={"return_or_cancel_id": return_or_cancel_id, "locale": locale})
        return _list(data, "reasons", m.RejectReason)


class Finance(_Section):
    def statements(self, *, statement_time_ge: datetime | int | None = None,
                   statement_time_lt: datetime | int | None = None, payment_status: str | None = None,
                   sort_order: str = "ASC") -> Iterator[m.Statement]:
        q = {"sort_field": "statement_time", "sort_order": sort_order, "payment_status": payment_status,
             "statement_time_ge": _epoch(statement_time_ge), "statement_time_lt": _epoch(statement_time_lt)}
        return self.api.items("finance.statements", "statements", m.Statement, shop_id=self.shop_id, query=q)

    def payments(self, *, create_time_ge: datetime | int | None = None,
                 create_time_lt: datetime | int | None = None, sort_order: str = "ASC") -> Iterator[m.Payment]:
        q = {"sort_field": "create_time", "sort_order": sort_order, "create_time_ge": _epoch(create_time_ge),
             "create_time_lt": _epoch(create_time_lt)}
        return self.api.items("finance.payments", "payments", m.Payment, shop_id=self.shop_id, query=q)

    def withdrawals(self, *, types: Sequence[str] = ("WITHDRAW", "SETTLE", "TRANSFER", "REVERSE"),
                    create_time_ge: datetime | int | None = None,
                    create_time_lt: datetime | int | None = None) -> Iterator[m.Withdrawal]:
        q = {"types": list(types), "create_time_ge": _epoch(create_time_ge), "create_time_lt": _epoch(create_time_lt)}
        return self.api.items("finance.withdrawals", "withdrawals", m.Withdrawal, shop_id=self.shop_id, query=q)

    def iter_statement_transactions(self, statement_id: str, *, sort_order: str = "ASC"
                                    ) -> Iterator[m.StatementTransaction]:
        return self.api.items("finance.statement_transactions", "transactions", m.StatementTransaction,
                              shop_id=self.shop_id, path_params={"statement_id": statement_id},
                              query={"sort_field": "order_create_time", "sort_order": sort_order})

    def statement_transactions(self, statement_id: str) -> m.StatementTransactions:
        """Get Transactions by Statement (202501), every page merged under the statement's totals."""
        header: dict[str, Any] = {}
        rows: list[Any] = []
        for data in self.api.pages("finance.statement_transactions", shop_id=self.shop_id,
                                   path_params={"statement_id": statement_id},
                                   query={"sort_field": "order_create_time", "sort_order": "ASC"}):
            if not header:
                header = {k: v for k, v in data.items() if k not in ("transactions", "next_page_token")}
            rows.extend(data.get("transactions") or [])
        return m.StatementTransactions.model_validate({**header, "transactions": rows})

    def order_transactions(self, order_id: str) -> m.OrderTransactions:
        """Get Transactions by Order (202501)."""
        data = self._call("finance.order_transactions", path_params={"order_id": order_id})
        return m.OrderTransactions.model_validate(data)

    def unsettled(self, *, search_time_ge: datetime | int | None = None,
                  search_time_lt: datetime | int | None = None) -> Iterator[m.UnsettledTransaction]:
        q = {"sort_field": "order_create_time", "sort_order": "ASC", "search_time_ge": _epoch(search_time_ge),
             "search_time_lt": _epoch(search_time_lt)}
        return self.api.items("finance.unsettled", "transactions", m.UnsettledTransaction, shop_id=self.shop_id,
                              query=q)


class Events(_Section):
    """The shop's webhook subscriptions."""

    def list(self) -> list[m.WebhookSubscription]:
        return _list(self._call("events.webhooks.get"), "webhooks", m.WebhookSubscription)

    def subscribe(self, event_type: str, address: str) -> None:
        self._call("events.webhooks.update", body={"address": address, "event_type": event_type})

    def unsubscribe(self, event_type: str) -> None:
        self._call("events.webhooks.delete", body={"event_type": event_type})


class ShopClient:
    """Everything the flows call for one shop: ``tiktok.shop(shop_id).orders.search(…)``."""

    def __init__(self, api: TikTokApi, shop_id: str) -> None:
        self.api = api
        self.shop_id = shop_id
        self.orders = Orders(api, shop_id)
        self.products = Products(api, shop_id)
        self.logistics = Logistics(api, shop_id)
        self.fulfillment = Fulfillment(api, shop_id)
        self.returns = Returns(api, shop_id)
        self.finance = Finance(api, shop_id)
        self.events = Events(api, shop_id)

    def __repr__(self) -> str:
        return f"ShopClient(shop_id={self.shop_id!r})"

    def authorized_shops(self) -> list[m.AuthorizedShop]:
        """Get Authorized Shops with this shop's token (no cipher): the connection check."""
        data = self.api.call("authorization.shops", shop_id=self.shop_id)
        return _list(data, "shops", m.AuthorizedShop)


__all__ = [
    "ORDER_DETAIL_BATCH",
    "Events",
    "Finance",
    "Fulfillment",
    "Logistics",
    "Orders",
    "Products",
    "Returns",
    "ShopClient",
    "TikTokApi",
    "TikTokError",
    "TokenSource",
    "parse_retry_after",
]

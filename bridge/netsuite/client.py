"""The NetSuite client: REST record, SuiteQL and RESTlets, under the concurrency governor.

Every request takes a governor slot, is signed by the configured authentication, is timed and
recorded (``store.calls``, tagged with the running job), and fails as one of the project's errors.
Calls NetSuite refused at the door (pool full, spurious ``INVALID_LOGIN`` under load, a connection
that never opened) are retried inside the call with ``bridge.retry.backoff_delay``; reads also retry
timeouts and 5xx. A write whose answer never came (timeout, dropped connection, 5xx) may have
committed: it is **never sent again** here — ``create``/``upsert``/``transform`` with an external id
and the batch RESTlet settle it by looking the record up by external id. Finding the record proves a
create (``create``, ``transform``); an upsert may have updated a record that existed, so finding it
proves nothing unless the caller's ``verify`` sees this write in it — otherwise the outcome stays
unknown (a retriable error: the caller reads, merges and writes again).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, Protocol
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from bridge import lease
from bridge.errors import (
    BridgeError,
    Evidence,
    FatalError,
    RetriableError,
    WriteOutcomeUnknown,
    netsuite_order_error,
    redact_text,
)
from bridge.logs import correlation_id, current_job
from bridge.mapping.wire import NonFiniteNumber, dumps, loads_strict
from bridge.netsuite import errors as ns_errors
from bridge.netsuite.account import Account
from bridge.netsuite.auth import NetSuiteAuth
from bridge.netsuite.governor import Governor
from bridge.netsuite.suiteql import MAX_LIMIT, OFFSET_CEILING, Pager, PageRequest, check_page
from bridge.retry import backoff_delay

log = logging.getLogger("bridge.netsuite")

Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
WriteOutcome = Literal["created", "written", "resolved"]
LOOKUP_CHUNK = 200  # the orders RESTlet's GET takes at most 200 external ids


class CallRecorder(Protocol):
    """``store.calls`` (``bridge.store.repos.ApiCalls``) or anything with the same ``record``."""

    def record(
        self, *, system: str, operation: str, method: str, path: str, status: int | None, duration_ms: int,
        outcome: str, code: str | None = None, request_id: str | None = None, entity: str | None = None,
        job_id: int | None = None, correlation_id: str = "",
    ) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    """In-call retries of requests NetSuite refused at the door (and of reads that failed)."""

    max_attempts: int = 8
    base: float = 0.25
    cap: float = 8.0


@dataclass(frozen=True)
class Response:
    status: int
    headers: Mapping[str, str]
    text: str

    def json(self) -> Any:
        """The answer parsed strictly (``loads_strict``): numbers with a fraction as ``Decimal``;
        ``NaN`` / ``Infinity`` raise ``NonFiniteNumber`` (``_request`` refuses such an answer first)."""
        return self._doc

    @cached_property
    def _doc(self) -> Any:
        return loads_strict(self.text) if self.text.strip() else None

    def non_finite(self) -> NonFiniteNumber | None:
        """The ``NaN`` / ``Infinity`` / ``-Infinity`` the answer holds, if any (a body that is not JSON
        at all is not this check's business: the callers that need JSON say so themselves)."""
        try:
            self.json()
        except NonFiniteNumber as exc:
            return exc
        except (ValueError, UnicodeDecodeError):
            return None
        return None


@dataclass(frozen=True)
class WriteResult:
    """A write's internal id and how we know it.

    ``outcome``: ``created`` (POST answered), ``written`` (PUT/transform answered), ``resolved`` (the
    answer was lost and the lookup by external id proved the write: the record a create made, or for an
    upsert a record its ``verify`` saw the write in).
    """

    id: str
    outcome: WriteOutcome
    record: dict[str, Any] | None = None


@dataclass(frozen=True)
class SuiteQLPage:
    items: list[dict[str, Any]]
    has_more: bool
    offset: int
    count: int
    total: int | None


@dataclass(frozen=True)
class OrderResult:
    """One order of the batch RESTlet: status created|updated|unchanged|error|deferred, or ``unknown``
    (the batch's answer was lost and the order exists, which does not say whether this write applied)."""

    external_id: str
    status: str
    id: str | None = None
    customer_id: str | None = None
    error: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("created", "updated", "unchanged")

    def exception(self) -> BridgeError | None:
        """The error to raise for an ``error`` result (None otherwise)."""
        if self.status != "error":
            return None
        return order_error(self.external_id, self.error or {})


class BatchOutcomeUnknown(WriteOutcomeUnknown):
    """A batch timed out and some of its orders are not in NetSuite (yet): retry the batch later."""

    def __init__(self, message: str, evidence: Evidence, results: list[OrderResult]) -> None:
        super().__init__(message, evidence, retry_after=30.0)
        self.results = results


# JSON with exact decimals both ways: the bridge's one rule (``bridge.mapping.wire``).


def _id_from_location(location: str | None) -> str | None:
    if not location:
        return None
    tail = urlsplit(location).path.rstrip("/").rsplit("/", 1)[-1]
    return tail if tail.isdigit() else None


def _sent(exc: requests.RequestException) -> bool:
    """Whether the request may have reached NetSuite (False only when the connection never opened)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason: Any = exc.args[0] if exc.args else None
        reason = getattr(reason, "reason", reason)
        if isinstance(reason, NewConnectionError | ConnectTimeoutError):
            return False
    return True


# ---------------------------------------------------------------------------------------------
class NetSuiteClient:
    """REST record, SuiteQL and RESTlet calls for one account. Thread-safe; share one per process."""

    def __init__(
        self,
        *,
        account: Account,
        auth: NetSuiteAuth,
        governor: Governor,
        calls: CallRecorder | None = None,
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        retry: RetryPolicy = RetryPolicy(),
        restlet_script: str = "customscript_ttns_rl_orders",
        restlet_deploy: str = "customdeploy_ttns_rl_orders",
        property_validation: str | None = "Error",
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.account = account
        self.auth = auth
        self.governor = governor
        self.calls = calls
        self.timeout = (min(connect_timeout, timeout), timeout)
        self.retry = retry
        self.restlet_script = restlet_script
        self.restlet_deploy = restlet_deploy
        self.property_validation = property_validation
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(10, governor.limit * 2))
            session.mount("https://", adapter)
            session.mount("http://", adapter)
        self.session = session
        self._sleep = sleep
        self._rand = rand

    def close(self) -> None:
        self.session.close()

    # =========================================================================================
    # REST record
    # =========================================================================================
    def create(self, record_type: str, body: Mapping[str, Any], *, entity: str | None = None) -> WriteResult:
        """POST a new record; its id comes from ``Location`` (201 or 204).

        When ``body`` has an ``externalId`` a lost answer is resolved by looking it up; without one
        it raises ``WriteOutcomeUnknown`` (the caller must find out, never post again blindly).
        """
        op = f"record.create {record_type}"
        eid = body.get("externalId")
        try:
            resp = self._request("POST", self._record_url(record_type), op, body=body, write=True, entity=entity)
        except WriteOutcomeUnknown:
            if not eid:
                raise
            return self._resolve(record_type, str(eid), op, entity, proves_write=True)
        return WriteResult(self._written_id(resp, record_type, eid, op, entity), "created")

    def get(
        self, record_type: str, record_id: str, *, expand: bool = False, fields: Sequence[str] = (),
        entity: str | None = None,
    ) -> dict[str, Any] | None:
        """The record, or None when it does not exist."""
        return self._get(self._record_url(record_type, str(record_id)), f"record.get {record_type}", expand, fields,
                         entity)

    def get_by_external_id(
        self, record_type: str, external_id: str, *, expand: bool = False, fields: Sequence[str] = (),
        entity: str | None = None,
    ) -> dict[str, Any] | None:
        """``GET /record/v1/{type}/eid:{externalId}``, or None when no record has that external id."""
        return self._get(self._record_url(record_type, _eid(external_id)), f"record.get_eid {record_type}", expand,
                         fields, entity)

    def patch(
        self, record_type: str, record_id: str, body: Mapping[str, Any], *, replace: Sequence[str] = (),
        entity: str | None = None,
    ) -> None:
        """PATCH fields of a record; sublists named in ``replace`` are replaced, not merged."""
        params = {"replace": ",".join(replace)} if replace else None
        self._request("PATCH", self._record_url(record_type, str(record_id)), f"record.patch {record_type}",
                      body=body, params=params, write=True, entity=entity)

    def upsert(
        self, record_type: str, external_id: str, body: Mapping[str, Any], *, replace: Sequence[str] = (),
        verify: Callable[[dict[str, Any]], bool] | None = None, entity: str | None = None,
    ) -> WriteResult:
        """Create or update the record with this external id (``PUT …/eid:X``): never a second record.

        A lost answer is looked up by ``GET …/eid:X`` (sublists expanded): not found → ``RetriableError``
        (retry later; the PUT by external id cannot duplicate); found → ``outcome="resolved"`` only when
        ``verify(found)`` says the record shows this write (``bridge.mapping.ownership.carries``), else a
        ``RetriableError`` coded ``WRITE_OUTCOME_UNKNOWN``: the PUT may have updated a record that existed,
        and finding it says nothing about this write. Without ``verify`` a found record is always unknown.
        """
        op = f"record.upsert {record_type}"
        payload = dict(body)
        if "externalId" in payload:
            if str(payload["externalId"]) != external_id:
                raise ValueError("body.externalId differs from the external id of the upsert")
            del payload["externalId"]
        params = {"replace": ",".join(replace)} if replace else None
        try:
            resp = self._request("PUT", self._record_url(record_type, _eid(external_id)), op, body=payload,
                                 params=params, write=True, entity=entity)
        except WriteOutcomeUnknown:
            return self._resolve(record_type, external_id, op, entity, verify=verify)
        return WriteResult(self._written_id(resp, record_type, external_id, op, entity), "written")

    upsert_by_external_id = upsert

    def delete(self, record_type: str, record_id: str, *, entity: str | None = None) -> bool:
        """Delete a record; False when it was already gone."""
        op = f"record.delete {record_type}"
        url = self._record_url(record_type, str(record_id))
        try:
            self._request("DELETE", url, op, write=True, entity=entity)
        except ns_errors.RecordNotFound:
            return False
        except WriteOutcomeUnknown:
            if self._get(url, op + " (lookup)", False, (), entity) is None:
                return True
            raise
        return True

    def transform(
        self, record_type: str, record_id: str, target: str, body: Mapping[str, Any] | None = None, *,
        external_id: str | None = None, replace: Sequence[str] = (), entity: str | None = None,
    ) -> WriteResult:
        """``POST /record/v1/{type}/{id}/!transform/{target}`` (e.g. salesOrder → itemFulfillment).

        Give ``external_id`` so a lost answer can be resolved by looking the new record up; sublists
        named in ``replace`` hold only the body's lines (e.g. ship some lines of an order).
        """
        op = f"record.transform {record_type}->{target}"
        payload = dict(body or {})
        if external_id:
            payload["externalId"] = external_id
        url = self._record_url(record_type, str(record_id)) + f"/!transform/{quote(target, safe='')}"
        params = {"replace": ",".join(replace)} if replace else None
        try:
            resp = self._request("POST", url, op, body=payload, params=params, write=True, entity=entity)
        except WriteOutcomeUnknown:
            if not external_id:
                raise
            return self._resolve(target, external_id, op, entity, proves_write=True)
        return WriteResult(self._written_id(resp, target, external_id, op, entity), "written")

    # =========================================================================================
    # SuiteQL
    # =========================================================================================
    def suiteql_page(self, query: str, *, limit: int = MAX_LIMIT, offset: int = 0,
                     entity: str | None = None) -> SuiteQLPage:
        """One page of a SuiteQL query (``Prefer: transient``; limit ≤ 1000, offset a multiple of it)."""
        check_page(limit, offset)
        resp = self._request(
            "POST", self.account.suiteql_url, "suiteql", body={"q": query},
            params={"limit": str(limit), "offset": str(offset)}, headers={"Prefer": "transient"},
            write=False, entity=entity,
        )
        data = resp.json() or {}
        items = [{k: v for k, v in row.items() if k != "links"} for row in data.get("items") or []]
        total = data.get("totalResults")
        return SuiteQLPage(
            items=items,
            has_more=bool(data.get("hasMore")),
            offset=int(data.get("offset") or offset),
            count=len(items) if data.get("count") is None else int(data["count"]),
            total=None if total is None else int(total),
        )

    def iter_suiteql(
        self, query: str, *, page_size: int = MAX_LIMIT, key: str | None = None, entity: str | None = None,
        ceiling: int = OFFSET_CEILING,
    ) -> Iterator[dict[str, Any]]:
        """Every row of ``query``: by offset, and by ``key`` (e.g. ``"id"``) past 100,000 rows.

        With ``key`` the rows come ordered by it (the query is wrapped:
        ``SELECT * FROM (query) WHERE key > :last ORDER BY key``); without it a result over the
        ceiling raises ``TooManyRows``.
        """
        pager = Pager(query, page_size=page_size, key=key, ceiling=ceiling)
        req: PageRequest | None = pager.first()
        while req is not None:
            page = self.suiteql_page(req.query, limit=req.limit, offset=req.offset, entity=entity)
            yield from page.items
            req = pager.next(req, page.items, page.has_more)

    def suiteql(self, query: str, **kwargs: Any) -> list[dict[str, Any]]:
        """All rows of ``query`` as a list (see ``iter_suiteql``)."""
        return list(self.iter_suiteql(query, **kwargs))

    # =========================================================================================
    # RESTlets
    # =========================================================================================
    def restlet(
        self, method: Method, *, script: str | None = None, deploy: str | None = None,
        params: Mapping[str, str] | None = None, body: Any = None, write: bool | None = None,
        entity: str | None = None,
    ) -> Any:
        """Call a RESTlet (``restlet.nl?script=…&deploy=…``) and return its parsed JSON answer."""
        script = script or self.restlet_script
        deploy = deploy or self.restlet_deploy
        query = {"script": script, "deploy": deploy, **(params or {})}
        resp = self._request(
            method, self.account.restlet_url, f"restlet.{method.lower()} {script}", body=body, params=query,
            write=(method != "GET") if write is None else write, entity=entity,
        )
        value = resp.json()
        if isinstance(value, str):  # a RESTlet returning JSON.stringify(...) under text/plain
            try:
                value = loads_strict(value)
            except NonFiniteNumber as exc:
                path = redact_text(urlsplit(self.account.restlet_url).path, 400)
                raise FatalError(f"NetSuite restlet.{method.lower()} {script}: {exc} ({method} {path})",
                                 Evidence.of("netsuite", f"restlet {script}", resp.status, body=resp.text)) from None
            except ValueError:
                pass
        if isinstance(value, Mapping) and isinstance(value.get("error"), Mapping):
            raise ns_errors.to_error(400, resp.text, operation=f"restlet {script}", under_load=False, entity=entity)
        return value

    def upsert_orders(self, orders: Sequence[Mapping[str, Any]], *, entity: str | None = None) -> list[OrderResult]:
        """Upsert a batch of orders through the orders RESTlet (``{orders: [{external_id, record,
        customer, record_type}]}``) and return one result per order, in order.

        A batch whose answer was lost is looked up with the RESTlet's GET by external ids: any order
        missing → ``BatchOutcomeUnknown`` (retriable; carries the partial results); every order found →
        status ``unknown`` with its id: an order that existed before may or may not carry this write, and
        the lookup cannot tell, so the caller sends it again (the RESTlet compares before it saves: an
        order that already carries the write answers ``unchanged``, nothing is saved).
        """
        ids = [str(o.get("external_id") or "") for o in orders]
        if not all(ids):
            raise ValueError("every order of a batch needs an external_id")
        try:
            answer = self.restlet("POST", body={"orders": list(orders)}, entity=entity)
        except WriteOutcomeUnknown as exc:
            found = self.lookup_orders(ids, record_type=_common_type(orders), entity=entity)
            results = [OrderResult(eid, "unknown" if found.get(eid) else "deferred", found.get(eid)) for eid in ids]
            missing = [r.external_id for r in results if r.status != "unknown"]
            if missing:
                raise BatchOutcomeUnknown(
                    f"the orders batch timed out and {len(missing)} of {len(ids)} orders are not in NetSuite yet; "
                    "retry the batch later", exc.evidence, results,
                ) from None
            return results
        return _order_results(answer, ids)

    def lookup_orders(
        self, external_ids: Sequence[str], *, record_type: str | None = None, entity: str | None = None,
    ) -> dict[str, str | None]:
        """External id → internal id (None when absent), through the orders RESTlet's GET."""
        out: dict[str, str | None] = {}
        unique = list(dict.fromkeys(external_ids))
        for i in range(0, len(unique), LOOKUP_CHUNK):
            chunk = unique[i:i + LOOKUP_CHUNK]
            params = {"external_ids": ",".join(chunk)}
            if record_type:
                params["record_type"] = record_type
            answer = self.restlet("GET", params=params, entity=entity)
            for row in (answer or {}).get("results") or []:
                eid = str(row.get("external_id"))
                out[eid] = str(row["id"]) if row.get("found") and row.get("id") is not None else None
        return {eid: out.get(eid) for eid in unique}

    # =========================================================================================
    # plumbing
    # =========================================================================================
    def _record_url(self, record_type: str, key: str | None = None) -> str:
        url = f"{self.account.record_base}/{quote(record_type, safe='')}"
        return url if key is None else f"{url}/{key}"

    def _get(self, url: str, op: str, expand: bool, fields: Sequence[str], entity: str | None) -> dict[str, Any] | None:
        params: dict[str, str] = {}
        if expand:
            params["expandSubResources"] = "true"
        if fields:
            params["fields"] = ",".join(fields)
        try:
            resp = self._request("GET", url, op, params=params or None, write=False, entity=entity)
        except ns_errors.RecordNotFound:
            return None
        data = resp.json()
        return data if isinstance(data, dict) else None

    def _written_id(self, resp: Response, record_type: str, external_id: Any, op: str, entity: str | None) -> str:
        rid = _id_from_location(resp.headers.get("Location"))
        if rid is None and resp.text.strip():
            data = resp.json()
            if isinstance(data, Mapping) and data.get("id") is not None:
                rid = str(data["id"])
        if rid is None and external_id:
            found = self.get_by_external_id(record_type, str(external_id), fields=("id",), entity=entity)
            rid = None if found is None or found.get("id") is None else str(found["id"])
        if rid is None:
            raise FatalError(f"NetSuite {op}: HTTP {resp.status} without a Location header naming the new record",
                             Evidence.of("netsuite", op, resp.status, body=resp.text))
        return rid

    def _resolve(
        self, record_type: str, external_id: str, op: str, entity: str | None, *,
        verify: Callable[[dict[str, Any]], bool] | None = None, proves_write: bool = False,
    ) -> WriteResult:
        """The answer to a write was lost: look the record up by external id, never write again.

        ``proves_write``: the write could only create the record (a POST with an external id, a
        transform), so finding it proves the write. Otherwise (an upsert) only ``verify`` can."""
        log.warning("NetSuite write outcome unknown; looking the record up by external id",
                    extra={"operation": op, "external_id": external_id})
        found = self.get_by_external_id(record_type, external_id, expand=verify is not None and not proves_write,
                                        entity=entity)
        evidence = Evidence.of("netsuite", op, None, "WRITE_OUTCOME_UNKNOWN", external_id=external_id)
        if found is None or found.get("id") is None:
            raise RetriableError(
                f"NetSuite {op}: the answer was lost and no {record_type} has external id {external_id} (yet); "
                "retry later", evidence, retry_after=30.0,
            )
        if proves_write:
            return WriteResult(str(found["id"]), "resolved", found)
        if verify is None:
            raise RetriableError(
                f"NetSuite {op}: the answer was lost; {record_type} {found['id']} exists, which does not say "
                "whether this write applied (nothing checks it): not known; read, merge and write again later",
                evidence, retry_after=30.0,
            )
        if not verify(found):
            raise RetriableError(
                f"NetSuite {op}: the answer was lost and {record_type} {found['id']} does not show this write "
                "(yet): not known whether it applied; read, merge and write again later", evidence, retry_after=30.0,
            )
        return WriteResult(str(found["id"]), "resolved", found)

    def _request(
        self, method: Method, url: str, operation: str, *, body: Any = None, params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None, write: bool, entity: str | None = None,
    ) -> Response:
        """Send one logical request: governor slot, auth, in-call retries, recording, error mapping."""
        job_id, job_entity = current_job()
        entity = entity or job_entity
        hdrs = {"Accept": "application/json", **(headers or {})}
        data: bytes | None = None
        if body is not None:
            data = dumps(body).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
            if self.property_validation and "/record/" in url:
                hdrs["X-NetSuite-PropertyNameValidation"] = self.property_validation
        path = redact_text(urlsplit(url).path, 400)
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            final = attempt >= self.retry.max_attempts
            if write:  # a worker that lost its lease sends no more writes (bridge.lease)
                lease.recheck(f"NetSuite {operation}")
            started = time.monotonic()
            with self.governor.slot():
                try:
                    used = self.auth.requests_auth()
                    started = time.monotonic()
                    raw = self.session.request(method, url, params=params, data=data, headers=hdrs, auth=used,
                                               timeout=self.timeout, allow_redirects=False)
                except requests.RequestException as exc:
                    sent = _sent(exc)
                    outcome = "unknown" if (write and sent) else "retry"
                    self._record(operation, method, path, None, started, outcome, type(exc).__name__, None, entity,
                                 job_id)
                    evidence = Evidence.of("netsuite", operation, None, type(exc).__name__)
                    if write and sent:
                        raise WriteOutcomeUnknown(
                            f"NetSuite {operation}: {type(exc).__name__} after the request was sent; the write may "
                            "have committed", evidence,
                        ) from None
                    if final:
                        raise RetriableError(f"NetSuite {operation}: {type(exc).__name__}", evidence) from None
                    self._backoff(attempt, None)
                    continue
            resp = Response(raw.status_code, raw.headers, raw.text)
            request_id = raw.headers.get("X-N-OperationId") or raw.headers.get("X-Request-Id")
            # NaN / Infinity / -Infinity are not JSON (Python's parser would read them as floats into an
            # amount or a quantity): such an answer is refused, naming the method and path.
            non_finite = resp.non_finite()
            note = f"; {non_finite} ({method} {path})" if non_finite is not None else ""
            if 200 <= resp.status < 300:
                self.governor.success()
                if non_finite is not None:
                    # Under a 2xx it is a fault of the answer that repeating will not cure.
                    self._record(operation, method, path, resp.status, started, "fatal", None, request_id, entity,
                                 job_id)
                    raise FatalError(f"NetSuite {operation}: {non_finite} ({method} {path})",
                                     Evidence.of("netsuite", operation, resp.status, None, request_id, resp.text))
                self._record(operation, method, path, resp.status, started, "ok", None, request_id, entity, job_id)
                return resp
            parsed = ns_errors.parse(resp.status, resp.text)
            retry_after = _retry_after(raw.headers.get("Retry-After"))
            if ns_errors.is_pool_full(resp.status, parsed):
                self.governor.pool_full()
                self._record(operation, method, path, resp.status, started, "retry", parsed.code, request_id, entity,
                             job_id)
                if final:
                    raise _noted(ns_errors.to_error(resp.status, resp.text, operation=operation,
                                                    request_id=request_id, retry_after=retry_after,
                                                    entity=entity), note)
                self.governor.retried()
                self._backoff(attempt, retry_after)
                continue
            # A 401 is either an access token NetSuite no longer accepts (fetch a new one, once) or
            # the spurious INVALID_LOGIN of a saturated pool (retried below): under load, refresh only
            # once retrying alone has not helped.
            if (resp.status == 401 and not refreshed and (attempt >= 3 or not self.governor.under_load())
                    and self.auth.unauthorized(used)):
                refreshed = True
                self._record(operation, method, path, resp.status, started, "refresh_token", parsed.code, request_id,
                             entity, job_id)
                continue
            err = _noted(ns_errors.to_error(resp.status, resp.text, operation=operation, request_id=request_id,
                                            retry_after=retry_after, under_load=self.governor.under_load(),
                                            entity=entity), note)
            ambiguous = write and resp.status >= 500
            # A lookup that finds nothing is an answer, not a failure: not counted as an API error.
            outcome = "unknown" if ambiguous else "not_found" if (
                isinstance(err, ns_errors.RecordNotFound) and method in ("GET", "DELETE")) else err.outcome
            self._record(operation, method, path, resp.status, started, outcome, parsed.code, request_id, entity,
                         job_id)
            if ambiguous:
                raise WriteOutcomeUnknown(
                    f"NetSuite {operation}: HTTP {resp.status} on a write; it may have committed{note}", err.evidence,
                    retry_after=retry_after,
                )
            if isinstance(err, RetriableError) and not final:
                self.governor.retried()
                self._backoff(attempt, retry_after)
                continue
            raise err

    def _backoff(self, attempt: int, retry_after: float | None) -> None:
        self._sleep(backoff_delay(attempt, base=self.retry.base, cap=self.retry.cap, rand=self._rand(),
                                  retry_after=retry_after))

    def _record(
        self, operation: str, method: str, path: str, status: int | None, started: float, outcome: str,
        code: str | None, request_id: str | None, entity: str | None, job_id: int | None,
    ) -> None:
        if self.calls is None:
            return
        try:
            self.calls.record(
                system="netsuite", operation=operation, method=method, path=path, status=status,
                duration_ms=int((time.monotonic() - started) * 1000), outcome=outcome, code=code,
                request_id=request_id, entity=entity, job_id=job_id, correlation_id=correlation_id(),
            )
        except Exception:  # the call log must never break a call
            log.exception("recording a NetSuite call failed")


def _noted(err: BridgeError, note: str) -> BridgeError:
    """``err`` with ``note`` (what made the answer unreadable) added to its message."""
    if note:
        err.message = redact_text(err.message + note, 1000)
        err.args = (err.message,)
    return err


def _eid(external_id: str) -> str:
    if not external_id:
        raise ValueError("an external id is required")
    return "eid:" + quote(str(external_id), safe="")


def _retry_after(value: str | None) -> float | None:
    try:
        return None if value is None else max(0.0, float(value))
    except ValueError:
        return None


def _common_type(orders: Sequence[Mapping[str, Any]]) -> str | None:
    types = {str(o.get("record_type") or "salesOrder") for o in orders}
    return types.pop() if len(types) == 1 else None


def _order_results(answer: Any, ids: list[str]) -> list[OrderResult]:
    rows = answer.get("results") if isinstance(answer, Mapping) else None
    if not isinstance(rows, list) or len(rows) != len(ids):
        raise FatalError("the orders RESTlet answered without one result per order",
                         Evidence.of("netsuite", "restlet orders", 200, body=json.dumps(answer, default=str)[:2000]))
    out = []
    for eid, row in zip(ids, rows, strict=True):
        out.append(OrderResult(
            external_id=str(row.get("external_id") or eid),
            status=str(row.get("status") or "error"),
            id=None if row.get("id") is None else str(row["id"]),
            customer_id=None if row.get("customer_id") is None else str(row["customer_id"]),
            error=row.get("error") if isinstance(row.get("error"), dict) else None,
        ))
    return out


def order_error(external_id: str, error: Mapping[str, Any]) -> BridgeError:
    """A per-order error of the orders RESTlet as one of the project's errors
    (``bridge.errors.netsuite_order_error``)."""
    code = str(error.get("code") or "UNEXPECTED_ERROR")
    evidence = Evidence.of("netsuite", "restlet orders", 200, code, body=json.dumps(dict(error), default=str),
                           external_id=external_id)
    path = error.get("path")
    return netsuite_order_error(external_id, code, str(error.get("message") or ""), evidence,
                                path=str(path) if path else None, entity=external_id)

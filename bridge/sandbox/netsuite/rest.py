"""REST web services: token endpoint, record API (``/services/rest/record/v1``) and SuiteQL."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, request

from .auth import TokenError
from .errors import NsError, invalid_content
from .http import after_commit, authenticate, json_body, json_response, rest_slot, sandbox
from .sandbox import REST, ExecContext
from .schema import sublists_of

bp = Blueprint("netsuite_rest", __name__)
RECORD_BASE = "/services/rest/record/v1"
MAX_SUITEQL_ROWS = 100_000
_VALIDATION_MODES = {m.lower(): m for m in ("Error", "Warning", "Ignore")}


def _base() -> str:
    return request.host_url.rstrip("/") + RECORD_BASE


def _validation_header(name: str) -> str | None:
    """``Error`` / ``Warning`` / ``Ignore`` from a validation header, read case-insensitively (clients send
    ``error`` as often as ``Error``); None when absent."""
    raw = request.headers.get(name)
    if raw is None:
        return None
    mode = _VALIDATION_MODES.get(raw.strip().lower())
    if mode is None:
        raise NsError(400, "INVALID_HEADER", f"{name} must be Error, Warning or Ignore.", header=name)
    return mode


def _ctx() -> ExecContext:
    return ExecContext(context_type=REST, via_rest=True,
                       property_validation=_validation_header("X-NetSuite-PropertyNameValidation"),
                       value_validation=_validation_header("X-NetSuite-PropertyValueValidation"))


def _replace() -> set[str]:
    raw = request.args.get("replace", "")
    return {s.strip() for s in raw.split(",") if s.strip()}


def _lines(body: Any) -> int:
    if not isinstance(body, dict):
        return 0
    n = 0
    for value in body.values():
        if isinstance(value, dict) and isinstance(value.get("items"), list):
            n += len(value["items"])
    return n


def _written(rec_type: str, rid: str) -> Response:
    return Response(status=204, headers={"Location": f"{_base()}/{rec_type}/{rid}"})


# -- OAuth 2.0 token endpoint ---------------------------------------------------------------------
@bp.post("/services/rest/auth/oauth2/v1/token")
def token() -> Response:
    sb = sandbox()
    sb.counters.inc("auth.token_requests")
    form = {k: v for k, v in request.form.items()}
    try:
        sb.chaos.work("token")
        issued = sb.auth.issue_token(form, request.url)
    except TokenError as exc:
        sb.counters.inc("auth.token_refused")
        return json_response(exc.body(), exc.status)
    return json_response(issued)


# -- the service-wide probe --------------------------------------------------------------------------
@bp.route("/services/rest/*", methods=["OPTIONS"])
def probe() -> Response:
    """``OPTIONS /services/rest/*``: 204 with no body for an authenticated caller. netsuite-rest's README
    calls it the "test request", and that package's own tests, run against a live account, expect 204."""
    authenticate("rest_webservices")
    return Response(status=204)


# -- records ----------------------------------------------------------------------------------------
@bp.post(f"{RECORD_BASE}/<rec_type>")
def create(rec_type: str) -> Response:
    authenticate("rest_webservices")
    body = json_body()
    sb = sandbox()
    sb.check_type(rec_type)
    with rest_slot("create", _lines(body), rec_type):
        result = sb.create(rec_type, body, _ctx(), _replace())
    return after_commit(lambda: _written(rec_type, result.rec.id))


@bp.get(f"{RECORD_BASE}/<rec_type>")
def list_records(rec_type: str) -> Response:
    authenticate("rest_webservices")
    sb = sandbox()
    sb.check_type(rec_type)
    limit = _int_param("limit", 1000, 1, 1000)
    offset = _int_param("offset", 0, 0, None)
    with rest_slot("list", 0, rec_type):
        ids = sb.list_ids(rec_type)
        q = request.args.get("q")
        if q:
            ids = _filter_q(rec_type, ids, q)
    page = ids[offset : offset + limit]
    base = f"{_base()}/{rec_type}"
    return json_response(
        {
            "links": [{"rel": "self", "href": request.url}],
            "count": len(page),
            "hasMore": offset + len(page) < len(ids),
            "items": [{"links": [{"rel": "self", "href": f"{base}/{rid}"}], "id": rid} for rid in page],
            "offset": offset,
            "totalResults": len(ids),
        }
    )


_Q = re.compile(r'^\s*(\w+)\s+IS\s+"?([^"]*)"?\s*$', re.IGNORECASE)


def _filter_q(rec_type: str, ids: list[str], q: str) -> list[str]:
    m = _Q.match(q)
    if not m:
        raise NsError(400, "INVALID_PARAMETER", "The sandbox supports q=<field> IS <value> only.", query_param="q")
    sb = sandbox()
    field, value = m.group(1), m.group(2)
    out = []
    for rid in ids:
        data = sb.get(rec_type, rid).data
        current = data.get(field)
        if isinstance(current, dict):
            current = current.get("id")
        if current is not None and str(current) == value:
            out.append(rid)
    return out


@bp.get(f"{RECORD_BASE}/<rec_type>/<key>")
def get(rec_type: str, key: str) -> Response:
    authenticate("rest_webservices")
    sb = sandbox()
    expand = request.args.get("expandSubResources", "false").lower() == "true"
    fields = {f.strip() for f in request.args.get("fields", "").split(",") if f.strip()} or None
    with rest_slot("get", 0, rec_type):
        rec = sb.get(rec_type, key)
        view = sb.rest_view(rec, _base(), expand=expand, fields=fields)
    return json_response(view)


@bp.get(f"{RECORD_BASE}/<rec_type>/<key>/<sublist>")
def get_sublist(rec_type: str, key: str, sublist: str) -> Response:
    authenticate("rest_webservices")
    sb = sandbox()
    with rest_slot("get", 0, rec_type):
        rec = sb.get(rec_type, key)
        if sublist not in sublists_of(rec_type):
            raise NsError(404, "NONEXISTENT_ID", f"The sublist {sublist} does not exist on {rec_type}.")
        with sb.lock:
            view = sb.renderer.sublist(rec, sublist, _base())
    return json_response(view)


@bp.patch(f"{RECORD_BASE}/<rec_type>/<key>")
def update(rec_type: str, key: str) -> Response:
    authenticate("rest_webservices")
    body = json_body()
    sb = sandbox()
    with rest_slot("update", _lines(body), rec_type):
        result = sb.update(rec_type, key, body, _ctx(), _replace())
    return after_commit(lambda: _written(rec_type, result.rec.id))


@bp.put(f"{RECORD_BASE}/<rec_type>/<key>")
def upsert(rec_type: str, key: str) -> Response:
    authenticate("rest_webservices")
    body = json_body()
    sb = sandbox()
    with rest_slot("upsert", _lines(body), rec_type):
        result = sb.upsert(rec_type, key, body, _ctx(), _replace())
    return after_commit(lambda: _written(rec_type, result.rec.id))


@bp.delete(f"{RECORD_BASE}/<rec_type>/<key>")
def delete(rec_type: str, key: str) -> Response:
    authenticate("rest_webservices")
    sb = sandbox()
    with rest_slot("delete", 0, rec_type):
        sb.delete(rec_type, key, _ctx())
    return after_commit(lambda: Response(status=204))


@bp.post(f"{RECORD_BASE}/<rec_type>/<key>/!transform/<to_type>")
def transform(rec_type: str, key: str, to_type: str) -> Response:
    authenticate("rest_webservices")
    body = json_body(required=False)
    sb = sandbox()
    with rest_slot("transform", _lines(body), to_type):
        result = sb.transform(rec_type, key, to_type, body, _ctx(), _replace())
    return after_commit(lambda: _written(to_type, result.rec.id))


# -- SuiteQL -----------------------------------------------------------------------------------------
def _int_param(name: str, default: int, low: int, high: int | None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise NsError(
            400, "INVALID_PARAMETER", f"Invalid value for the query parameter {name}.", query_param=name
        ) from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise NsError(400, "INVALID_PARAMETER", f"The query parameter {name} must be {bound}.", query_param=name)
    return value


@bp.post("/services/rest/query/v1/suiteql")
def suiteql() -> Response:
    authenticate("rest_webservices")
    prefer = request.headers.get("Prefer", "")
    if "transient" not in [p.strip().lower() for p in prefer.split(",")]:
        raise NsError(
            400, "INVALID_HEADER", "The request must contain the header 'Prefer: transient'.", header="Prefer"
        )
    limit = _int_param("limit", 1000, 1, 1000)
    offset = _int_param("offset", 0, 0, None)
    if offset % limit != 0:
        raise NsError(
            400,
            "INVALID_PARAMETER",
            "Invalid offset: the offset must be a multiple of the limit.",
            query_param="offset",
        )
    if offset >= MAX_SUITEQL_ROWS:
        raise NsError(
            400,
            "INVALID_PARAMETER",
            f"Invalid offset: at most {MAX_SUITEQL_ROWS} results can be reached by paging; page by key.",
            query_param="offset",
        )
    body = json_body()
    q = body.get("q") if isinstance(body, dict) else None
    if not isinstance(q, str) or not q.strip():
        raise invalid_content('The request body must be {"q": "<SuiteQL query>"}.', "q")
    sb = sandbox()
    with rest_slot("suiteql", 0, None, api="suiteql"):
        items, total = sb.suiteql(q, None, min(limit, MAX_SUITEQL_ROWS - offset), offset)
    reachable = min(total, MAX_SUITEQL_ROWS)
    has_more = offset + len(items) < reachable
    url = request.base_url
    links = [{"rel": "self", "href": f"{url}?limit={limit}&offset={offset}"}]
    if offset > 0:
        links.append({"rel": "previous", "href": f"{url}?limit={limit}&offset={max(0, offset - limit)}"})
        links.append({"rel": "first", "href": f"{url}?limit={limit}&offset=0"})
    if has_more:
        links.append({"rel": "next", "href": f"{url}?limit={limit}&offset={offset + limit}"})
        last = ((reachable - 1) // limit) * limit
        links.append({"rel": "last", "href": f"{url}?limit={limit}&offset={last}"})
    return json_response(
        {
            "links": links,
            "count": len(items),
            "hasMore": has_more,
            "items": items,
            "offset": offset,
            "totalResults": total,
        }
    )

"""HTTP plumbing shared by the blueprints: JSON bodies (decimals kept exact), authentication,
the concurrency slot with the per-API refusal, fault injection, and NetSuite-shaped responses."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from flask import Response, current_app, request

from .auth import Principal
from .errors import NsError, concurrency_exceeded, invalid_content, invalid_login, restlet_error
from .pool import PoolFull
from .sandbox import NetSuiteSandbox

EXTENSION = "netsuite_sandbox"


def sandbox() -> NetSuiteSandbox:
    sb: NetSuiteSandbox = current_app.extensions[EXTENSION]
    return sb


class _HoldsDecimal(Exception):
    pass


def _no_decimal(value: Any) -> Any:
    if isinstance(value, Decimal):
        raise _HoldsDecimal
    raise TypeError(type(value).__name__)


def _exact(value: Any) -> str:
    """JSON text of ``value`` with each ``Decimal`` written as the exact number it holds (``53.90``, never
    through a binary float, which would round a value of more than 15 significant digits)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        return format(value, "f")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {_exact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_exact(v) for v in value) + "]"
    return json.dumps(value)


def dumps_exact(payload: Any) -> str:
    """The JSON text of an answer: amounts and quantities (``Decimal``) as exact JSON numbers."""
    try:
        return json.dumps(payload, default=_no_decimal)  # no Decimal (SuiteQL pages: strings): the fast path
    except _HoldsDecimal:
        return _exact(payload)


def json_response(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(dumps_exact(payload), status=status, headers=headers, mimetype="application/json")


def ns_error_response(err: NsError) -> Response:
    return json_response(err.body(), err.status)


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN / Infinity: Python's parser takes them, JSON does not


def json_body(required: bool = True) -> Any:
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise invalid_content("The request body is empty; a JSON object is expected.")
        return {}
    try:
        return json.loads(raw, parse_float=Decimal, parse_constant=_not_json)
    except (ValueError, UnicodeDecodeError):
        raise invalid_content("The request body is not valid JSON.") from None


def form_params() -> list[tuple[str, str]]:
    if (request.mimetype or "") == "application/x-www-form-urlencoded":
        return [(k, v) for k, vs in request.form.lists() for v in vs]
    return []


def authenticate(scope: str) -> Principal:
    sb = sandbox()
    return sb.auth.authenticate(request.headers.get("Authorization"), request.method, request.url, form_params(), scope)


@contextmanager
def rest_slot(op: str, lines: int = 0, record_type: str | None = None, api: str = "rest") -> Iterator[None]:
    """The account's concurrency slot for a REST/SuiteQL call, with the faults that precede work."""
    sb = sandbox()
    try:
        with sb.slot(api, op, lines, record_type):
            _pre_faults(sb, op, record_type, restlet=False)
            yield
    except PoolFull:
        if sb.chaos.roll(sb.config.faults.spurious_invalid_login_rate):
            sb.counters.inc("faults.spurious_invalid_login")
            raise invalid_login() from None
        raise concurrency_exceeded() from None


class RestletRefusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> Response:
        return json_response(restlet_error(self.code, self.message), self.status)


@contextmanager
def restlet_slot(lines: int = 0) -> Iterator[None]:
    sb = sandbox()
    try:
        with sb.slot("restlet", "restlet", lines):
            _pre_faults(sb, "restlet", None, restlet=True)
            yield
    except PoolFull:
        if sb.chaos.roll(sb.config.faults.spurious_invalid_login_rate):
            sb.counters.inc("faults.spurious_invalid_login")
            raise RestletRefusal(401, "INVALID_LOGIN_ATTEMPT", "Invalid login attempt.") from None
        raise RestletRefusal(400, "SSS_REQUEST_LIMIT_EXCEEDED", "Request limit exceeded.") from None


# Operations that change the account: faults injected on them are also counted as ``faults_on_writes.<kind>``
# (a RESTlet call counts as a write unless it is a GET).
WRITE_OPS = frozenset({"create", "update", "upsert", "delete", "transform", "restlet"})


def _is_write(op: object) -> bool:
    return op in WRITE_OPS and not (op == "restlet" and request.method == "GET")


def _pre_faults(sb: NetSuiteSandbox, op: str, record_type: str | None, *, restlet: bool) -> None:
    request.environ["ns.op"] = op
    kind = sb.chaos.take_scripted(op, record_type)
    if kind is None:
        if sb.chaos.roll(sb.config.faults.rate_429):
            kind = "429"
        elif sb.chaos.roll(sb.config.faults.rate_5xx):
            kind = "5xx"
    if kind is None:
        if sb.chaos.roll(sb.config.faults.rate_timeout_after_commit):
            request.environ["ns.timeout_after_commit"] = True
        return
    kind, _, mode = kind.partition(":")
    if kind == "timeout_after_commit":
        request.environ["ns.timeout_after_commit"] = True
        if mode:
            request.environ["ns.timeout_mode"] = mode
        return  # counted when it strikes (after_commit)
    sb.counters.inc(f"faults.{kind}")
    if _is_write(op):
        sb.counters.inc(f"faults_on_writes.{kind}")
    if kind == "429":
        if restlet:
            raise RestletRefusal(400, "SSS_REQUEST_LIMIT_EXCEEDED", "Request limit exceeded.")
        raise concurrency_exceeded()
    elif kind == "5xx":
        if restlet:
            raise RestletRefusal(500, "UNEXPECTED_ERROR", "An unexpected error occurred.")
        raise NsError(503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable. Try again later.")
    elif kind == "invalid_login":
        if restlet:
            raise RestletRefusal(401, "INVALID_LOGIN_ATTEMPT", "Invalid login attempt.")
        raise invalid_login()


def after_commit(respond: Callable[[], Response]) -> Response:
    """Answer, unless a "timeout after commit" fault is armed: then hang past the client's timeout
    or drop the connection — the write stays committed either way."""
    if not request.environ.get("ns.timeout_after_commit"):
        return respond()
    sb = sandbox()
    mode = request.environ.get("ns.timeout_mode") or sb.config.faults.timeout_mode
    sb.counters.inc("faults.timeout_after_commit")
    if _is_write(request.environ.get("ns.op")):
        sb.counters.inc(f"faults_on_writes.{'drop' if mode == 'drop' else 'timeout'}")
    if mode == "drop":
        sock = request.environ.get("werkzeug.socket") or request.environ.get("gunicorn.socket")
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        return Response(b"", status=502)
    time.sleep(sb.config.faults.hang_seconds)
    return respond()

"""NetSuite's error answers, read into the project's error tree.

Three shapes arrive: REST record/SuiteQL ``{type, title, status, "o:errorDetails": [{detail,
"o:errorCode", "o:errorPath"}]}``, RESTlets ``{"error": {"code", "message"}}`` and the OAuth 2.0 token
endpoint ``{"error", "error_description"}``. The outcome comes from ``bridge.errors.classify_http``;
this module adds what only NetSuite's wording tells: the pool is full, the login failure is the
spurious one NetSuite gives under load, or the refusal is business data a person must fix (closed
period, inactive item …) — those become ``NeedsHumanError`` with a code, an owner and a fix hint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bridge.errors import (
    BridgeError,
    ConfigurationError,
    Evidence,
    FatalError,
    NeedsHumanError,
    Owner,
    RetriableError,
    classify_http,
    error_for,
    netsuite_refusal,
)
from bridge.mapping.wire import loads_strict

SYSTEM = "netsuite"
POOL_FULL_CODES = frozenset({"CONCURRENCY_LIMIT_EXCEEDED", "SSS_REQUEST_LIMIT_EXCEEDED"})
LOGIN_CODES = frozenset({"INVALID_LOGIN", "INVALID_LOGIN_ATTEMPT", "INVALID_LOGIN_CREDENTIALS"})


@dataclass(frozen=True)
class ErrorDetail:
    detail: str
    code: str
    path: str | None = None


@dataclass(frozen=True)
class ParsedError:
    """What NetSuite said, whatever the shape."""

    status: int
    title: str = ""
    details: tuple[ErrorDetail, ...] = field(default_factory=tuple)

    @property
    def code(self) -> str | None:
        return self.details[0].code if self.details else None

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(d.code for d in self.details if d.code)

    @property
    def path(self) -> str | None:
        return next((d.path for d in self.details if d.path), None)

    @property
    def message(self) -> str:
        text = "; ".join(d.detail for d in self.details if d.detail)
        return text or self.title or f"HTTP {self.status}"


class RecordNotFound(FatalError):
    """The record (or external id) does not exist."""


def parse(status: int, body: str | bytes | None) -> ParsedError:
    """Read any of NetSuite's error bodies; unknown bodies keep their status and a short excerpt."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    try:
        data: Any = loads_strict(text) if text.strip() else None
    except ValueError:  # not JSON, or NaN / Infinity in it (NonFiniteNumber): kept as an excerpt
        data = None
    if isinstance(data, Mapping):
        raw = data.get("o:errorDetails")
        if isinstance(raw, list):
            details = tuple(
                ErrorDetail(
                    detail=str(d.get("detail") or ""),
                    code=str(d.get("o:errorCode") or ""),
                    path=str(d["o:errorPath"]) if d.get("o:errorPath") else None,
                )
                for d in raw
                if isinstance(d, Mapping)
            )
            return ParsedError(status, str(data.get("title") or ""), details)
        err = data.get("error")
        if isinstance(err, Mapping):  # RESTlet
            return ParsedError(status, "", (ErrorDetail(str(err.get("message") or ""), str(err.get("code") or "")),))
        if isinstance(err, str):  # OAuth 2.0 token endpoint (RFC 6749 §5.2)
            return ParsedError(status, "", (ErrorDetail(str(data.get("error_description") or err), err),))
    return ParsedError(status, "", (ErrorDetail(text.strip()[:300], ""),) if text.strip() else ())


def is_pool_full(status: int, parsed: ParsedError) -> bool:
    """NetSuite refused the call because the account's concurrency pool is full (nothing was done)."""
    return status == 429 or bool(parsed.codes & POOL_FULL_CODES)


def is_login_failure(status: int, parsed: ParsedError) -> bool:
    return bool(parsed.codes & LOGIN_CODES) or (status == 401 and not parsed.codes)


def needs_human(parsed: ParsedError) -> tuple[str, Owner, str] | None:
    """(code, owner, fix hint) when NetSuite's refusal is one a person must fix
    (``bridge.errors.NETSUITE_REFUSALS``)."""
    for d in parsed.details:
        human = netsuite_refusal(d.code, d.detail)
        if human is not None:
            return human
    return None


def to_error(
    status: int,
    body: str | bytes | None,
    *,
    operation: str,
    request_id: str | None = None,
    retry_after: float | None = None,
    under_load: bool = False,
    entity: str | None = None,
) -> BridgeError:
    """The error to raise for a failed NetSuite answer."""
    parsed = parse(status, body)
    code = parsed.code or None
    evidence = Evidence.of(
        SYSTEM, operation, status, code, request_id, body, **({"error_path": parsed.path} if parsed.path else {})
    )
    where = f" at {parsed.path}" if parsed.path else ""
    message = f"NetSuite {operation}: HTTP {status} {code or ''}{where}: {parsed.message}".replace("  ", " ")
    if is_pool_full(status, parsed):
        return RetriableError(f"NetSuite concurrency pool full ({operation})", evidence, retry_after=retry_after)
    if is_login_failure(status, parsed):
        if under_load:
            return RetriableError(f"NetSuite {operation}: INVALID_LOGIN while the pool is saturated (spurious "
                                  "under load); retrying", evidence, retry_after=retry_after)
        return ConfigurationError(
            f"NetSuite refused the credentials ({code or status}) for {operation}: check TTNS_NETSUITE_ACCOUNT, "
            "TTNS_NETSUITE_AUTH and its credentials, the integration record and the role (Login Audit Trail in "
            "NetSuite shows why)",
            evidence,
        )
    human = needs_human(parsed)
    if human is not None and status < 500:
        hcode, owner, hint = human
        return NeedsHumanError(message, code=hcode, owner=owner, fix_hint=hint, evidence=evidence, entity=entity)
    if status == 404 or "NONEXISTENT_ID" in parsed.codes or "RCRD_DSNT_EXIST" in parsed.codes:
        return RecordNotFound(message, evidence)
    outcome = classify_http(SYSTEM, status, code)
    if outcome == "ok":  # a 2xx carrying an error body: treat as a refusal, never as success
        outcome = "fatal"
    if outcome == "needs_human":
        return NeedsHumanError(
            message, code=f"NS_{code or 'REFUSED'}", owner="ops", evidence=evidence, entity=entity,
            fix_hint="Read NetSuite's message above, correct the record or the mapping, then replay.",
        )
    return error_for(outcome, message, evidence, retry_after)

"""Errors named by what the caller should do.

``RetriableError``  try again later (the queue backs off; ``retry_after`` is honoured);
``FatalError``      a bug or a permanent refusal: do not retry, record it for an admin;
``NeedsHumanError`` data or setup a person must fix (unknown SKU, closed period …): becomes an
                    exception with an owner and a fix hint, replayable after the fix;
``SkippableError``  nothing to do for this input (unknown topic, UNPAID order): record and move on.

Every error carries ``Evidence``: which system, what was called, the status, the request id and
a redacted excerpt of the body, so an exception page can show why without leaking secrets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

Owner = Literal["ops", "finance", "admin"]

_SECRET_WORDS = ("token", "secret", "password", "authorization", "signature", "assertion", "api_key")
_NOT_SECRET = frozenset({"token_type", "sign_type", "sign_method"})
_JSON_SECRET = re.compile(
    r'("(?:[a-z0-9_\-]*?)(?:access_token|refresh_token|secret|password|assertion|signature|'
    r'authorization|sign)(?:[a-z0-9_\-]*?)"\s*:\s*)"[^"]*"',
    re.IGNORECASE,
)
_QUERY_SECRET = re.compile(
    r"((?:access_token|refresh_token|app_secret|client_secret|sign|signature|password|code|"
    r"client_assertion)=)[^&\s\"']+",
    re.IGNORECASE,
)
_BEARER = re.compile(r"((?:Bearer|OAuth)\s+)[A-Za-z0-9._~+/=\-,\"]+", re.IGNORECASE)
EXCERPT_CHARS = 2000


def redact_text(text: str, limit: int = EXCERPT_CHARS) -> str:
    """Mask tokens, secrets and signatures in free text (bodies, URLs, headers) and cut it short."""
    out = _JSON_SECRET.sub(r'\1"***"', text)
    out = _QUERY_SECRET.sub(r"\1***", out)
    out = _BEARER.sub(r"\1***", out)
    if len(out) > limit:
        out = out[:limit] + f"… [{len(text) - limit} more chars]"
    return out


def is_secret_key(key: str) -> bool:
    k = key.lower().replace("-", "_")
    if k in _NOT_SECRET:
        return False
    return k == "sign" or any(w in k for w in _SECRET_WORDS)


def redact_mapping(data: Any) -> Any:
    """Deep copy of JSON-like data with the string values of secret-looking keys masked."""
    if isinstance(data, dict):
        return {
            k: "***" if isinstance(k, str) and isinstance(v, str) and is_secret_key(k) else redact_mapping(v)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [redact_mapping(v) for v in data]
    return data


@dataclass(frozen=True)
class Evidence:
    """What happened, for people: never holds a secret (bodies are redacted on the way in)."""

    system: str = ""
    operation: str = ""
    status: int | None = None
    code: str | None = None
    request_id: str | None = None
    body: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        system: str,
        operation: str = "",
        status: int | None = None,
        code: str | int | None = None,
        request_id: str | None = None,
        body: str | bytes | None = None,
        **details: Any,
    ) -> Evidence:
        if isinstance(body, bytes):
            body = body.decode("utf-8", "replace")
        return cls(
            system=system,
            operation=redact_text(operation, 300),
            status=status,
            code=None if code is None else str(code),
            request_id=request_id,
            body=redact_text(body or ""),
            details=redact_mapping(details),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "system": self.system,
            "operation": self.operation,
            "status": self.status,
            "code": self.code,
            "request_id": self.request_id,
            "body": self.body,
            "details": self.details,
        }


class BridgeError(Exception):
    """Base of every error the bridge raises on purpose."""

    outcome: str = "error"

    def __init__(self, message: str, evidence: Evidence | None = None) -> None:
        super().__init__(redact_text(message, 1000))
        self.message = redact_text(message, 1000)
        self.evidence = evidence or Evidence()

    def __str__(self) -> str:
        return self.message


class RetriableError(BridgeError):
    """Transient: rate limit, timeout, 5xx, concurrency pool full. Try again after a backoff."""

    outcome = "retry"

    def __init__(self, message: str, evidence: Evidence | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, evidence)
        self.retry_after = retry_after


class FatalError(BridgeError):
    """Will fail the same way every time: a bug, a bad signature, a refused request. Do not retry."""

    outcome = "fatal"


class NeedsHumanError(BridgeError):
    """Data or setup a person must fix. Becomes an exception with an owner and a fix hint."""

    outcome = "needs_human"

    def __init__(
        self,
        message: str,
        *,
        code: str,
        owner: Owner = "ops",
        fix_hint: str = "",
        evidence: Evidence | None = None,
        entity: str | None = None,
    ) -> None:
        super().__init__(message, evidence)
        self.code = code
        self.owner: Owner = owner
        self.fix_hint = fix_hint
        self.entity = entity


class SkippableError(BridgeError):
    """Nothing to do for this input; record why and move on."""

    outcome = "skipped"


class ConfigurationError(FatalError):
    """The bridge is not configured for this: says which setting to set."""


class TokenExpiredError(RetriableError):
    """The access token is expired or revoked (TikTok 105002): refresh once, then retry."""


class WriteOutcomeUnknown(RetriableError):
    """A write timed out or the connection dropped after sending: it may have committed.

    The caller must resolve it by looking the record up by its external id, never by writing again
    blindly.
    """


class LeaseLost(BridgeError):
    """This worker no longer owns the job (its lease expired and another worker took it)."""

    outcome = "lease_lost"


# ---------------------------------------------------------------------------------------------
# HTTP failure policy: one table, read top to bottom, first match wins.
# (system, http status or None for any, platform code or None for any) -> outcome
# ---------------------------------------------------------------------------------------------

PolicyOutcome = Literal["retry", "refresh_token", "fatal", "needs_human", "ok"]

HTTP_FAILURE_POLICY: tuple[tuple[str, int | None, str | None, PolicyOutcome], ...] = (
    # TikTok Shop Open API: business codes inside the envelope matter more than HTTP status.
    ("tiktok", None, "0", "ok"),
    ("tiktok", None, "36009002", "retry"),  # rate limited
    ("tiktok", None, "105002", "refresh_token"),  # access token expired
    ("tiktok", None, "105001", "fatal"),  # access token invalid
    ("tiktok", None, "106001", "fatal"),  # bad sign: a bug, never retried
    ("tiktok", None, "36009004", "fatal"),  # invalid credentials / app
    ("tiktok", 501, None, "fatal"),  # not implemented for this app or market: retrying cannot help
    ("tiktok", None, "36009003", "retry"),  # "internal error, please try again"
    ("tiktok", None, "36004005", "needs_human"),  # token endpoint: authorization gone, re-authorize
    ("tiktok", None, "36004001", "needs_human"),
    ("tiktok", None, "36009006", "retry"),  # system busy
    ("tiktok", None, "36009007", "retry"),  # request timeout
    ("tiktok", 429, None, "retry"),
    ("tiktok", 500, None, "retry"),
    ("tiktok", 502, None, "retry"),
    ("tiktok", 503, None, "retry"),
    ("tiktok", 504, None, "retry"),
    # NetSuite REST / RESTlet / SuiteQL
    ("netsuite", 429, None, "retry"),  # CONCURRENCY_LIMIT_EXCEEDED
    ("netsuite", None, "CONCURRENCY_LIMIT_EXCEEDED", "retry"),
    ("netsuite", None, "SSS_REQUEST_LIMIT_EXCEEDED", "retry"),  # RESTlet over the pool
    # Spurious under load; the NetSuite client retries it only while the pool looks saturated and
    # otherwise raises a ConfigurationError naming the settings to check.
    ("netsuite", None, "INVALID_LOGIN", "retry"),
    ("netsuite", None, "INVALID_LOGIN_ATTEMPT", "retry"),
    ("netsuite", None, "RCRD_HAS_BEEN_CHANGED", "retry"),  # saved by someone else between read and write
    ("netsuite", None, "SSS_USAGE_LIMIT_EXCEEDED", "retry"),
    ("netsuite", None, "SSS_TIME_LIMIT_EXCEEDED", "retry"),
    ("netsuite", None, "UNEXPECTED_ERROR", "retry"),
    ("netsuite", None, "INSUFFICIENT_PERMISSION", "needs_human"),
    ("netsuite", None, "NONEXISTENT_ID", "fatal"),
    ("netsuite", None, "SSS_INVALID_SCRIPTLET_ID", "fatal"),
    ("netsuite", None, "INVALID_CONTENT", "fatal"),
    ("netsuite", None, "USER_ERROR", "needs_human"),
    ("netsuite", 401, None, "fatal"),
    ("netsuite", 403, None, "fatal"),
    ("netsuite", 500, None, "retry"),
    ("netsuite", 502, None, "retry"),
    ("netsuite", 503, None, "retry"),
    ("netsuite", 504, None, "retry"),
    # Anything else from any system
    ("*", 408, None, "retry"),
    ("*", 429, None, "retry"),
    ("*", 500, None, "retry"),
    ("*", 502, None, "retry"),
    ("*", 503, None, "retry"),
    ("*", 504, None, "retry"),
)


def classify_http(system: str, status: int | None, code: str | int | None = None) -> PolicyOutcome:
    """Look an HTTP failure up in ``HTTP_FAILURE_POLICY`` (first match wins; default fatal)."""
    code_s = None if code is None else str(code)
    for sys_, st, cd, outcome in HTTP_FAILURE_POLICY:
        if sys_ not in (system, "*"):
            continue
        if st is not None and st != status:
            continue
        if cd is not None and cd != code_s:
            continue
        return outcome
    if status is not None and 200 <= status < 300 and code_s in (None, "0"):
        return "ok"
    return "fatal"


def error_for(
    outcome: PolicyOutcome,
    message: str,
    evidence: Evidence,
    retry_after: float | None = None,
) -> BridgeError:
    """The error to raise for a policy outcome (``ok`` is not an error: callers check first)."""
    if outcome == "retry":
        return RetriableError(message, evidence, retry_after=retry_after)
    if outcome == "refresh_token":
        return TokenExpiredError(message, evidence)
    if outcome == "needs_human":
        return NeedsHumanError(message, code=evidence.code or "REFUSED", owner="ops", evidence=evidence)
    return FatalError(message, evidence)

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
# One classification per platform error code, one table per service, each with why.
# A code decides first; without a known code the HTTP status does; else fatal (a 2xx is ok).
# ---------------------------------------------------------------------------------------------

PolicyOutcome = Literal["retry", "refresh_token", "fatal", "needs_human", "ok"]


@dataclass(frozen=True)
class Rule:
    """What the bridge does with one platform error code, and why (from the platform's docs)."""

    outcome: PolicyOutcome
    why: str
    refusal: str = ""  # a business refusal: what it means to the flow that asked (see TIKTOK_REFUSALS)


# TikTok Shop Open API: the business ``code`` inside the {code, message, data} envelope (the error tables
# of TikTok's Partner Center API pages) matters more than the HTTP status.
TIKTOK_CODES: dict[str, Rule] = {
    "0": Rule("ok", "success"),
    "36009002": Rule("retry", "too many requests: wait and try again (rate limits page)"),
    "105002": Rule("refresh_token", "expired credentials: refresh the access token, then call again"),
    "105001": Rule("fatal", "access token invalid or deauthorized: refreshing cannot help, the shop re-authorizes"),
    "106001": Rule("fatal", "the sign parameter is invalid: a signing bug, never fixed by retrying"),
    "36009004": Rule("fatal", "invalid or missing credentials, version, timestamp or identifier in the request: "
                              "the same request fails the same way"),
    "36009003": Rule("retry", "internal error: the page says try again"),
    "36009006": Rule("retry", "system busy (not in the spec pages; observed with 5xx): try again"),
    "36009007": Rule("retry", "request timeout: the page says try again"),
    "36004005": Rule("needs_human", "token endpoint: the authorization is gone (not in the spec pages): "
                                    "the merchant re-authorizes"),
    "36004001": Rule("needs_human", "token endpoint: the authorization is invalid (not in the spec pages): "
                                    "the merchant re-authorizes"),
}

# TikTok's business refusals: the request was understood and refused (the call is final: fatal, as an
# unknown code would be), and the flow that asked decides what follows from what the refusal means (an
# exception for a person with its fix, a re-read and one retry, nothing to do). Each ``why`` is the
# message of the Partner Center page(s) named; ``refusal`` is the bridge's name the flows test for.
TIKTOK_REFUSALS: dict[str, tuple[str, ...]] = {
    # Fulfillment (Mark Package As Shipped, Ship Package, Batch Ship Packages, Create Packages)
    "ORDER_ON_HOLD": ("21042057", "21011012"),
    "INVALID_TRACKING": ("21004012", "21004015", "11028006", "21011022", "21004016"),
    "DUPLICATE_TRACKING": ("21011025", "21034012", "21011026"),
    "ALREADY_SHIPPED": ("21008099", "21011006", "21011020", "21042056", "11006021", "21011040", "21011027"),
    "SHIPPED_CANCELLED_UNITS": ("21011003", "21011041", "21011007", "21008044"),
    "FBT_ORDER": ("21008025",),
    # Products and inventory (Update Inventory, Edit Product, Activate/Deactivate Products, Update Price)
    "WAREHOUSES_CHANGED": ("12019028", "12052533", "12052037", "12019022"),
    "PROMOTION_LOCKED": ("12052393",),
    "NOT_LIVE": ("12052901",),
    "QUANTITY_OUT_OF_RANGE": ("12052055",),
    "PRODUCT_GONE": ("12052032", "12052260", "12052556", "12052031"),
    "PRICE_LOCKED": ("12052038", "12019045"),
}
_TIKTOK_REFUSAL_WHY: dict[str, str] = {
    "21042057": "These orders are not in the Awaiting shipment status (mark-package-as-shipped)",
    "21011012": "not match trade rule (create-packages, mark-package-as-shipped): the order is on hold",
    "21004012": "Tracking number has special characters, verify failed (mark-package-as-shipped)",
    "21004015": "Tracking number mismatch provider (mark-package-as-shipped)",
    "11028006": "This tracking number cannot be matched to any carrier (mark-package-as-shipped, create-packages)",
    "21011022": "Invalid tracking number or provider ID (ship-package, mark-package-as-shipped)",
    "21004016": "Tracking number verify, not available logistics service or provider (mark-package-as-shipped)",
    "21011025": "Duplicate tracking number (ship-package, mark-package-as-shipped)",
    "21034012": "tracking no has been used (ship-package, mark-package-as-shipped)",
    "21011026": "fulfillment tracking no used times over limit (ship-package, mark-package-as-shipped)",
    "21008099": "Package has been shipped. Please not ship the package again (ship-package)",
    "21011006": "These orders are already shipped (mark-package-as-shipped, create-packages)",
    "21011020": "These orders are already shipped (batch-ship-packages, mark-package-as-shipped)",
    "21042056": "These orders are already shipped (mark-package-as-shipped)",
    "11006021": "Package has been shipped. Please not ship the package again (ship-package)",
    "21011040": "Package has already been shipped (ship-package)",
    "21011027": "Package has already been delivered (ship-package)",
    "21011003": "fulfill_unit action not allowed (mark-package-as-shipped, create-packages)",
    "21011041": "Cannot complete the operation when order is cancelled (ship-package, update-shipping-info)",
    "21011007": "Package item has after-sale request, please process the after-sale request first "
                "(mark-package-as-shipped)",
    "21008044": "Package item has after-sale request (ship-package); SellerFulfillUnitInReverseCannotOperate "
                "(mark-package-as-shipped)",
    "21008025": "Seller cannot operate orders which are fulfilled by platform (ship-package, mark-package-as-shipped)",
    "12019028": "Multiple warehouses detected. Include all warehouse IDs (update-inventory)",
    "12052533": "Removal, addition, and change of warehouses are not permitted (update-global-inventory, edit-product)",
    "12052037": "Couldn't update inventory: allocated automatically, or warehouse ids wrong or missing "
                "(update-inventory)",
    "12019022": "SKU must contain a valid warehouse (edit-product, inventory-search)",
    "12052393": "Product locked for Promotion and stock can't be updated below current stock (update-inventory)",
    "12052901": "The product in its current status is not available for this operation (deactivate-products, "
                "activate-product)",
    "12052055": "The SKU inventory quantity for the warehouse must be within allowed limits (edit-product)",
    "12052032": "The product does not exist (deactivate-products, edit-product)",
    "12052260": "The product ID does not exist (edit-product)",
    "12052556": "The SKU id not exist (update-inventory)",
    "12052031": "Invalid product ID(s) found (update-inventory, partial-edit-product)",
    "12052038": "Product price locked due to ongoing promotion (update-price)",
    "12019045": "price is locked (update-price)",
}
TIKTOK_CODES.update({code: Rule("fatal", _TIKTOK_REFUSAL_WHY[code], refusal=name)
                     for name, codes in TIKTOK_REFUSALS.items() for code in codes})


def tiktok_refusal(code: str | int | None) -> str:
    """What a TikTok business refusal means (a ``TIKTOK_REFUSALS`` name), or "" for any other code."""
    rule = TIKTOK_CODES.get(str(code)) if code is not None else None
    return rule.refusal if rule is not None else ""


def tiktok_refusal_codes(*names: str) -> frozenset[str]:
    """The TikTok codes of these refusals (a flow testing a set of refused codes against them)."""
    return frozenset(c for n in names for c in TIKTOK_REFUSALS[n])


# NetSuite: REST ``o:errorCode`` (Error Handling in REST Web Services: "the error category"), SuiteScript
# error names a RESTlet reports, and the codes of this project's own orders RESTlet (suitecloud/ …
# lib/restmap.js), which validates a body against the record's definition before saving anything.
_NS_OUR_RESTLET = ("the orders RESTlet refused the request's shape before saving anything (restmap.js): the same "
                   "class as INVALID_CONTENT on the REST path; the bridge's code built that body, so it is a bug")
NETSUITE_CODES: dict[str, Rule] = {
    "CONCURRENCY_LIMIT_EXCEEDED": Rule("retry", "the account's concurrency pool was full: nothing was done"),
    "SSS_REQUEST_LIMIT_EXCEEDED": Rule("retry", "a RESTlet call over the concurrency pool: nothing was done"),
    "INVALID_LOGIN": Rule("retry", "spurious under load; the client retries it only while the pool looks "
                                   "saturated and otherwise raises a ConfigurationError naming the settings"),
    "INVALID_LOGIN_ATTEMPT": Rule("retry", "as INVALID_LOGIN"),
    "RCRD_HAS_BEEN_CHANGED": Rule("retry", "saved by someone else between read and write: read again and retry"),
    "SSS_USAGE_LIMIT_EXCEEDED": Rule("retry", "the script's governance units ran out: a new call starts afresh"),
    "SSS_TIME_LIMIT_EXCEEDED": Rule("retry", "the script ran out of time: a new call starts afresh"),
    "UNEXPECTED_ERROR": Rule("retry", "NetSuite's own unexpected error: transient until it repeats"),
    "INSUFFICIENT_PERMISSION": Rule("needs_human", "the integration role lacks a permission: an admin grants it"),
    "USER_ERROR": Rule("needs_human", "a business validation (closed period, credit limit …): data a person "
                                      "fixes; the wording rules below name the common ones"),
    "NONEXISTENT_ID": Rule("fatal", "the record does not exist: asking again cannot create it"),
    "SSS_INVALID_SCRIPTLET_ID": Rule("fatal", "the RESTlet script/deployment ids are wrong: configuration"),
    "INVALID_CONTENT": Rule("fatal", "the body does not fit the record's definition (an unknown field, a wrong "
                                     "type). The bridge's mapping code builds that body (specs only name records "
                                     "and custbody_* fields; a bad record reference is told by its wording, "
                                     "'Invalid Field Value … for the following field', which the wording rules "
                                     "below make NS_INVALID_REFERENCE first): a bug, never retried"),
    "UNKNOWN_FIELD": Rule("fatal", _NS_OUR_RESTLET + " (a standard property the record does not have; custbody_* "
                                                     "fields from the specs pass through unchecked)"),
    "INVALID_SHAPE": Rule("fatal", _NS_OUR_RESTLET),
    "UNSUPPORTED_RECORD": Rule("fatal", _NS_OUR_RESTLET),
    "UNSUPPORTED_REFERENCE": Rule("fatal", _NS_OUR_RESTLET),
    "UNSUPPORTED_FIELD": Rule("fatal", _NS_OUR_RESTLET),
    "READ_ONLY_FIELD": Rule("fatal", _NS_OUR_RESTLET),
    "TTNS_INVALID_REQUEST": Rule("fatal", _NS_OUR_RESTLET),
}

CODE_TABLES: dict[str, dict[str, Rule]] = {"tiktok": TIKTOK_CODES, "netsuite": NETSUITE_CODES}

# HTTP statuses, read top to bottom when the code is unknown or absent: (system or "*", status, outcome).
# Two statuses decide whatever code rides along: NetSuite's 429 is its pool being full, TikTok's 501 is
# "not implemented for this app or market" (retrying cannot help, even with 36009003 "try again").
STATUS_FIRST: tuple[tuple[str, int, PolicyOutcome], ...] = (("netsuite", 429, "retry"), ("tiktok", 501, "fatal"))
STATUS_POLICY: tuple[tuple[str, int, PolicyOutcome], ...] = (
    ("netsuite", 401, "fatal"),
    ("netsuite", 403, "fatal"),
    ("*", 408, "retry"),
    ("*", 429, "retry"),
    ("*", 500, "retry"),
    ("*", 502, "retry"),
    ("*", 503, "retry"),
    ("*", 504, "retry"),
)


def classify_http(system: str, status: int | None, code: str | int | None = None) -> PolicyOutcome:
    """The outcome of a failed call: ``STATUS_FIRST``, then the system's code table, then
    ``STATUS_POLICY``; a 2xx without a code is ok; anything else fatal."""
    code_s = None if code is None else str(code)
    for sys_, st, outcome in STATUS_FIRST:
        if sys_ in (system, "*") and st == status:
            return outcome
    rule = CODE_TABLES.get(system, {}).get(code_s) if code_s is not None else None
    if rule is not None:
        return rule.outcome
    for sys_, st, outcome in STATUS_POLICY:
        if sys_ in (system, "*") and st == status:
            return outcome
    if status is not None and 200 <= status < 300 and code_s in (None, "0"):
        return "ok"
    return "fatal"


# NetSuite puts most business refusals under USER_ERROR (REST) or a SuiteScript error name (RESTlets),
# so the wording identifies them: (pattern on "code detail", our code, owner, fix hint).
NETSUITE_REFUSALS: tuple[tuple[str, str, Owner, str], ...] = (
    (r"PERIOD_CLOSED|CLOSED_TRAN_PRD|period .{0,40}\bclosed\b|closed period", "NS_PERIOD_CLOSED", "finance",
     "Reopen the accounting period (or allow posting to it) in NetSuite, or move the transaction date "
     "into an open period, then replay."),
    (r"\binactive\b", "NS_INACTIVE_RECORD", "ops",
     "A referenced record (item, customer, location …) is inactive in NetSuite: reactivate it or change "
     "the mapping, then replay."),
    (r"Invalid Field Value .{0,80}for the following field|Invalid \w+ reference key|INVALID_KEY_OR_REF",
     "NS_INVALID_REFERENCE", "ops",
     "A referenced record does not exist or is not available to this subsidiary/role: check the mapping "
     "spec (SKU, location, payment method …), then replay."),
    (r"legacy tax", "NS_LEGACY_TAX", "admin",
     "This account uses legacy tax, which REST record writes cannot set: set TTNS_NETSUITE_WRITE_PATH=restlet "
     "(deploy the SuiteCloud project) or enable SuiteTax."),
    (r"matrix parent item", "NS_MATRIX_PARENT", "ops",
     "A matrix parent item cannot be sold: map the TikTok SKU to the child item, then replay."),
    (r"Please enter value\(s\) for", "NS_MISSING_FIELD", "admin",
     "The NetSuite form requires a field the bridge does not send: add it to the mapping spec (or make it "
     "optional on the form), then replay."),
    (r"INSUFFICIENT_PERMISSION|Permission Violation|you do not have permission", "NS_PERMISSION", "admin",
     "The integration role lacks a permission: see docs/netsuite.md (role permissions), then replay."),
    (r"credit limit", "NS_CREDIT_LIMIT", "finance",
     "The customer is over its credit limit: raise it or turn off the credit-limit hold for this customer."),
    (r"more than the remaining quantity|already been fulfilled|cannot be less than the quantity already",
     "NS_ALREADY_FULFILLED", "ops",
     "The order was already (partly) fulfilled or received in NetSuite; reconcile it by hand, then resolve."),
    (r"no lines left to|You cannot transform this", "NS_NOTHING_TO_TRANSFORM", "ops",
     "The source transaction has nothing left to fulfill/bill or is closed: check it in NetSuite."),
    (r"DUP_ITEM|DUP_RCRD|already exists", "NS_DUPLICATE", "ops",
     "A record with the same unique name/number exists in NetSuite: rename one or map to the existing one."),
)
_NETSUITE_REFUSALS = tuple((re.compile(p, re.IGNORECASE), c, o, h) for p, c, o, h in NETSUITE_REFUSALS)


def netsuite_refusal(code: str, detail: str) -> tuple[str, Owner, str] | None:
    """(our code, owner, fix hint) when NetSuite's wording says a person must fix the data."""
    text = f"{code} {detail}"
    for pattern, our_code, owner, hint in _NETSUITE_REFUSALS:
        if pattern.search(text):
            return our_code, owner, hint
    return None


def netsuite_order_error(external_id: str, code: str, message: str, evidence: Evidence, *,
                         path: str | None = None, entity: str | None = None) -> BridgeError:
    """One order NetSuite refused (a per-order error of the orders RESTlet, or a failed write result):
    retry when ``NETSUITE_CODES`` says so, a person's matter when the wording says so, a bug when the
    table says fatal, and a person's matter for any other code (a business refusal under its own name)."""
    code = code or "UNEXPECTED_ERROR"
    where = f" at {path}" if path else ""
    text = f"NetSuite refused order {external_id}: {code}{where}: {message}"
    outcome = classify_http("netsuite", None, code)
    if outcome == "retry":
        return RetriableError(text, evidence, retry_after=30.0)
    human = netsuite_refusal(code, message)
    if human is not None:
        our_code, owner, hint = human
        return NeedsHumanError(text, code=our_code, owner=owner, fix_hint=hint, evidence=evidence, entity=entity)
    if outcome == "fatal" and code in NETSUITE_CODES:
        return FatalError(text, evidence)
    return NeedsHumanError(text, code=f"NS_{code}", owner="ops", evidence=evidence, entity=entity,
                           fix_hint="Read NetSuite's message, fix the order or the mapping, then replay.")


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

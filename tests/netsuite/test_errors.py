from __future__ import annotations

import json

import pytest

from bridge.errors import ConfigurationError, FatalError, NeedsHumanError, RetriableError
from bridge.netsuite import errors as ns


def rest_body(status: int, code: str, detail: str, path: str | None = None) -> str:
    d = {"detail": detail, "o:errorCode": code}
    if path:
        d["o:errorPath"] = path
    return json.dumps({"type": "https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html", "title": "Bad Request",
                       "status": status, "o:errorDetails": [d]})


def restlet_body(code: str, message: str) -> str:
    return json.dumps({"error": {"code": code, "message": message}})


@pytest.mark.parametrize(
    ("status", "body", "under_load", "cls", "code"),
    [
        (429, rest_body(429, "CONCURRENCY_LIMIT_EXCEEDED", "Concurrent request limit exceeded."), False,
         RetriableError, None),
        (400, restlet_body("SSS_REQUEST_LIMIT_EXCEEDED", "Request limit exceeded"), False, RetriableError, None),
        (401, rest_body(401, "INVALID_LOGIN", "Invalid login attempt."), True, RetriableError, None),
        (401, rest_body(401, "INVALID_LOGIN", "Invalid login attempt."), False, ConfigurationError, None),
        (400, rest_body(400, "INVALID_CONTENT", "unknown property 'memoo'.", "memoo"), False, FatalError, None),
        (400, rest_body(400, "USER_ERROR", "Error while accessing a resource. The accounting period for this "
                        "transaction is closed.", "postingPeriod"), False, NeedsHumanError, "NS_PERIOD_CLOSED"),
        (400, rest_body(400, "USER_ERROR", "Item SKU-1 is inactive.", "item.items[0].item"), False,
         NeedsHumanError, "NS_INACTIVE_RECORD"),
        (400, rest_body(400, "INVALID_CONTENT", "You have entered an Invalid Field Value 999 for the following "
                        "field: item", "item.items[0].item"), False, NeedsHumanError, "NS_INVALID_REFERENCE"),
        (400, rest_body(400, "INVALID_CONTENT", "The field taxCode cannot be set through REST web services in an "
                        "account that uses legacy tax", "taxCode"), False, NeedsHumanError, "NS_LEGACY_TAX"),
        (400, rest_body(400, "USER_ERROR", "Please enter value(s) for: Department", "department"), False,
         NeedsHumanError, "NS_MISSING_FIELD"),
        (400, rest_body(400, "USER_ERROR", "Something new went wrong."), False, NeedsHumanError, "NS_USER_ERROR"),
        (400, restlet_body("PERIOD_CLOSED", "closed"), False, NeedsHumanError, "NS_PERIOD_CLOSED"),
        (400, restlet_body("CLOSED_TRAN_PRD", "Cannot save."), False, NeedsHumanError, "NS_PERIOD_CLOSED"),
        (404, rest_body(404, "NONEXISTENT_ID", "The record instance does not exist."), False, ns.RecordNotFound,
         None),
        (503, "<html>Service Unavailable</html>", False, RetriableError, None),
        (403, rest_body(403, "INSUFFICIENT_PERMISSION", "Permission Violation: you need Sales Order."), False,
         NeedsHumanError, "NS_PERMISSION"),
    ],
)
def test_error_table(status: int, body: str, under_load: bool, cls: type, code: str | None) -> None:
    err = ns.to_error(status, body, operation="record.upsert salesOrder", under_load=under_load)
    assert type(err) is cls
    if code is not None:
        assert isinstance(err, NeedsHumanError) and err.code == code and err.fix_hint


def test_invalid_content_names_the_error_path() -> None:
    err = ns.to_error(400, rest_body(400, "INVALID_CONTENT", "Invalid value for the field item.items[2].quantity",
                                     "item.items[2].quantity"), operation="record.create salesOrder")
    assert isinstance(err, FatalError) and not isinstance(err, NeedsHumanError)
    assert "item.items[2].quantity" in str(err)
    assert err.evidence.details["error_path"] == "item.items[2].quantity"
    assert err.evidence.status == 400 and err.evidence.code == "INVALID_CONTENT"


def test_pool_full_keeps_retry_after() -> None:
    err = ns.to_error(429, rest_body(429, "CONCURRENCY_LIMIT_EXCEEDED", "x"), operation="suiteql", retry_after=3.0)
    assert isinstance(err, RetriableError) and err.retry_after == 3.0


def test_parse_all_three_shapes() -> None:
    rest = ns.parse(400, rest_body(400, "INVALID_CONTENT", "bad", "a.b"))
    assert (rest.code, rest.path, rest.message) == ("INVALID_CONTENT", "a.b", "bad")
    rl = ns.parse(400, restlet_body("SSS_REQUEST_LIMIT_EXCEEDED", "busy"))
    assert rl.codes == {"SSS_REQUEST_LIMIT_EXCEEDED"}
    tok = ns.parse(400, json.dumps({"error": "invalid_grant", "error_description": "nope"}))
    assert (tok.code, tok.message) == ("invalid_grant", "nope")
    junk = ns.parse(502, b"<html>bad gateway</html>")
    assert junk.code is None or junk.code == "" and "bad gateway" in junk.message


def test_evidence_is_redacted() -> None:
    body = json.dumps({"error": {"code": "X", "message": "m"}, "access_token": "secret-value-123"})
    err = ns.to_error(500, body, operation="restlet")
    assert "secret-value-123" not in err.evidence.body

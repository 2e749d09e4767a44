"""NetSuite's error shapes: REST (``nsError``), RESTlet (``{"error": {code, message}}``), SuiteScript."""

from __future__ import annotations

from typing import Any

_TYPES = {
    400: ("https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.1", "Bad Request"),
    401: ("https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.2", "Unauthorized"),
    403: ("https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.4", "Forbidden"),
    404: ("https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.5", "Record Not Found"),
    405: ("https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.6", "Method Not Allowed"),
    409: ("https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.10", "Conflict"),
    415: ("https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.4.16", "Unsupported Media Type"),
    429: ("https://www.rfc-editor.org/rfc/rfc6585.html#section-4", "Too Many Requests"),
    500: ("https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.1", "Internal Server Error"),
    503: ("https://www.w3.org/Protocols/rfc2616/rfc2616-sec10.html#sec10.5.4", "Service Unavailable"),
}

INVALID_LOGIN_DETAIL = (
    "Invalid login attempt. For more details, see the Login Audit Trail in the NetSuite UI at "
    "Setup > Users/Roles > User Management > View Login Audit Trail."
)


class NsError(Exception):
    """A NetSuite error: rendered as ``nsError`` on REST and as a SuiteScript error in scripts.

    ``code`` is the ``o:errorCode`` (REST) or the SuiteScript error name (scripts).
    """

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        path: str | None = None,
        header: str | None = None,
        query_param: str | None = None,
        script_code: str | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.path = path
        self.header = header
        self.query_param = query_param
        self.script_code = script_code or code

    def body(self) -> dict[str, Any]:
        typ, title = _TYPES.get(self.status, _TYPES[400])
        detail: dict[str, Any] = {"detail": self.detail, "o:errorCode": self.code}
        if self.path is not None:
            detail["o:errorPath"] = self.path
        if self.header is not None:
            detail["o:errorHeader"] = self.header
        if self.query_param is not None:
            detail["o:errorQueryParam"] = self.query_param
        return {"type": typ, "title": title, "status": self.status, "o:errorDetails": [detail]}


def invalid_content(detail: str, path: str | None = None) -> NsError:
    return NsError(400, "INVALID_CONTENT", detail, path=path)


def user_error(detail: str, path: str | None = None, script_code: str | None = None) -> NsError:
    return NsError(400, "USER_ERROR", f"Error while accessing a resource. {detail}", path=path, script_code=script_code)


def nonexistent(record_type: str, key: str) -> NsError:
    return NsError(
        404,
        "NONEXISTENT_ID",
        f"The record instance does not exist. Provide a valid record instance ID. ({record_type} {key})",
        script_code="RCRD_DSNT_EXIST",
    )


def invalid_login() -> NsError:
    return NsError(401, "INVALID_LOGIN", INVALID_LOGIN_DETAIL)


def concurrency_exceeded() -> NsError:
    return NsError(429, "CONCURRENCY_LIMIT_EXCEEDED", "Concurrent request limit exceeded. Request blocked.")


def restlet_error(code: str, message: str) -> dict[str, Any]:
    """The body NetSuite answers for a failed RESTlet call."""
    return {"error": {"code": code, "message": message}}

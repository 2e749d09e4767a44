"""Errors the sandbox answers with: the documented TikTok codes in the ``{code, message,
request_id, data}`` envelope (``ApiError``) and refusals of the control API (``SandboxError``)."""

from __future__ import annotations

# Gateway codes from the "Common errors" developer-guide page.
RATE_LIMITED = 36009002
INVALID_PATH = 36009009
INVALID_METHOD = 36009010
INVALID_VERSION = 36009014  # "The version name is invalid, please check and retry." (API versioning page)
INVALID_FORMAT = 36009022
INVALID_MULTIPART = 36009023
INVALID_CREDENTIALS = 36009004  # missing sign, bad app_key, bad token, timestamp window, cipher not allowed
INTERNAL_ERROR = 36009003
TOKEN_EXPIRED = 105002
TOKEN_INVALID = 105001  # a revoked / deauthorized token (authorization guides)
BAD_SIGN = 106001
CIPHER_MISSING = 106013
CIPHER_MISMATCH = 101000
# Token endpoint codes: not in the reference pages; these are the codes the live service is
# reported to return (see docs/sandbox-tiktok.md, "Assumptions").
AUTH_RECORD_NOT_FOUND = 36004005
REFRESH_TOKEN_EXPIRED = 36004001


class ApiError(Exception):
    """A refusal in TikTok's envelope. ``http_status`` follows docs/sandbox-tiktok.md."""

    def __init__(self, code: int, message: str, http_status: int = 200, data: object | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status
        self.data = data


class SandboxError(Exception):
    """A control-API or Python-API refusal (bad scenario input, unknown id, insufficient stock …)."""

    def __init__(self, message: str, status: int = 400, reason: str = "bad_request") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason

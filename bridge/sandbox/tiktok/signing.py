"""The sandbox's own implementation of TikTok Shop request and webhook signatures (DESIGN §4).

Request ``sign`` = lower-hex HMAC-SHA256(key=app_secret, msg=app_secret + path + Σ sorted(key + value)
over the query parameters except ``sign`` and ``access_token`` + raw body (unless multipart or
empty) + app_secret). Webhook ``Authorization`` = lower-hex HMAC-SHA256(key=app_secret,
msg=app_key + raw body).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

EXCLUDED_QUERY_KEYS = frozenset({"sign", "access_token"})


def string_to_sign(path: str, query: Mapping[str, str], body: bytes | None = None) -> bytes:
    """The bytes wrapped by the app secret: path, sorted key+value pairs, then the raw body."""
    parts = [path.encode("utf-8")]
    for key in sorted(k for k in query if k not in EXCLUDED_QUERY_KEYS):
        parts.append(key.encode("utf-8") + str(query[key]).encode("utf-8"))
    if body:
        parts.append(body)
    return b"".join(parts)


def request_sign(
    app_secret: str, path: str, query: Mapping[str, str], body: bytes | None = None, multipart: bool = False
) -> str:
    secret = app_secret.encode("utf-8")
    payload = secret + string_to_sign(path, query, None if multipart else body) + secret
    return hmac.new(secret, payload, hashlib.sha256).hexdigest()


def verify_request_sign(
    app_secret: str,
    path: str,
    query: Mapping[str, str],
    body: bytes | None,
    sign: str,
    multipart: bool = False,
) -> bool:
    expected = request_sign(app_secret, path, query, body, multipart)
    return hmac.compare_digest(expected, (sign or "").strip().lower())


def webhook_signature(app_key: str, app_secret: str, raw_body: bytes) -> str:
    return hmac.new(app_secret.encode("utf-8"), app_key.encode("utf-8") + raw_body, hashlib.sha256).hexdigest()

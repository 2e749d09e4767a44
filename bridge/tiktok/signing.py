"""TikTok Shop Open API request signing (the official algorithm, DESIGN §4).

``sign`` = lower-hex HMAC-SHA256(key=app_secret, msg = app_secret + path + Σ sorted(key + value)
over the query parameters except ``sign`` and ``access_token`` + the exact body bytes + app_secret).
Multipart bodies and empty bodies are not signed. The rule the client follows: serialize the body
once (``encode_body``), sign those bytes, send those bytes.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from typing import Any

from bridge.mapping import wire

EXCLUDED_QUERY_KEYS = frozenset({"sign", "access_token"})


def query_value(value: Any) -> str:
    """The wire form of one query value: arrays comma-joined, booleans lower-case, the rest ``str``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence):
        return ",".join(query_value(v) for v in value)
    return str(value)


def canonical_query(params: Mapping[str, Any]) -> dict[str, str]:
    """Query parameters as the strings that are both signed and sent (``None`` values dropped)."""
    return {k: query_value(v) for k, v in params.items() if v is not None}


def string_to_sign(path: str, query: Mapping[str, Any], body: bytes | None = None) -> bytes:
    """Path, then the sorted key+value pairs (minus ``sign`` and ``access_token``), then the body."""
    parts = [path.encode("utf-8")]
    q = canonical_query(query)
    for key in sorted(k for k in q if k not in EXCLUDED_QUERY_KEYS):
        parts.append(key.encode("utf-8") + q[key].encode("utf-8"))
    if body:
        parts.append(body)
    return b"".join(parts)


def sign(app_secret: str, path: str, query: Mapping[str, Any], body_bytes: bytes | None = None) -> str:
    """The ``sign`` query parameter for a request (pass ``body_bytes=None`` for multipart)."""
    secret = app_secret.encode("utf-8")
    msg = secret + string_to_sign(path, query, body_bytes) + secret
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()


def verify(app_secret: str, path: str, query: Mapping[str, Any], body_bytes: bytes | None, signature: str) -> bool:
    """Constant-time check of a request ``sign`` (the sandbox and tests use it)."""
    return hmac.compare_digest(sign(app_secret, path, query, body_bytes), (signature or "").strip().lower())


def encode_body(body: Any) -> bytes:
    """Serialize a JSON body once, compactly, UTF-8 (the bytes that are signed and sent).

    The bridge's one rule (``bridge.mapping.wire``): a ``Decimal`` is an exact JSON number. TikTok's
    money fields are decimal *strings*; the mappings format them (``wire.decimal_text``) themselves.
    """
    return wire.encode(body)


__all__ = ["EXCLUDED_QUERY_KEYS", "canonical_query", "encode_body", "query_value", "sign", "string_to_sign", "verify"]

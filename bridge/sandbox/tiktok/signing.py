"""The sandbox's own implementation of TikTok Shop request and webhook signatures (DESIGN §4).

Request ``sign`` = lower-hex HMAC-SHA256(key=app_secret, msg=app_secret + path + Σ sorted(key + value)
over the query parameters except ``sign`` and ``access_token`` + raw body (unless multipart or
empty) + app_secret). Webhook ``Authorization`` = lower-hex HMAC-SHA256(key=app_secret,
msg=app_key + raw body).

**Repeated query keys** (``ids=A&ids=B``). The "Sign your API request" page describes the step as
"concatenate all the parameters in the format {key}{value}" and prints three samples that read a
repeated key three ways: the text (every pair, keys sorted, values in request order: ``idsAidsB``),
the Go and Java samples (each key once with its first value, ``url.Values.Get`` /
``HttpUrl.queryParameter``: ``idsA``), and the Node sample (the key's value as the array it was
given, which JavaScript joins with commas: ``idsA,B``). Where a key repeats, the sandbox accepts a
signature under any of these documented readings; for every other request they are one string.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping

EXCLUDED_QUERY_KEYS = frozenset({"sign", "access_token"})

Pairs = Iterable[tuple[str, str]]


def _pairs(query: Mapping[str, str] | Pairs) -> list[tuple[str, str]]:
    items = query.items() if isinstance(query, Mapping) else query
    return [(str(k), str(v)) for k, v in items if k not in EXCLUDED_QUERY_KEYS]


def string_to_sign(path: str, query: Mapping[str, str] | Pairs, body: bytes | None = None) -> bytes:
    """The bytes wrapped by the app secret: path, every key+value pair sorted by key (a repeated key's
    values in request order), then the raw body."""
    parts = [path.encode("utf-8")]
    for key, value in sorted(_pairs(query), key=lambda kv: kv[0]):  # stable: request order within a key
        parts.append(key.encode("utf-8") + value.encode("utf-8"))
    if body:
        parts.append(body)
    return b"".join(parts)


def documented_readings(query: Mapping[str, str] | Pairs) -> list[list[tuple[str, str]]]:
    """The query as each documented reading signs it (one reading when no key repeats)."""
    pairs = _pairs(query)
    grouped: dict[str, list[str]] = {}
    for k, v in pairs:
        grouped.setdefault(k, []).append(v)
    if all(len(vs) == 1 for vs in grouped.values()):
        return [pairs]
    first = [(k, vs[0]) for k, vs in grouped.items()]
    joined = [(k, ",".join(vs)) for k, vs in grouped.items()]
    return [pairs, first, joined]


def request_sign(
    app_secret: str, path: str, query: Mapping[str, str] | Pairs, body: bytes | None = None, multipart: bool = False
) -> str:
    secret = app_secret.encode("utf-8")
    payload = secret + string_to_sign(path, query, None if multipart else body) + secret
    return hmac.new(secret, payload, hashlib.sha256).hexdigest()


def verify_request_sign(
    app_secret: str,
    path: str,
    query: Mapping[str, str] | Pairs,
    body: bytes | None,
    sign: str,
    multipart: bool = False,
) -> bool:
    given = (sign or "").strip().lower()
    ok = False
    for reading in documented_readings(query):
        ok |= hmac.compare_digest(request_sign(app_secret, path, reading, body, multipart), given)
    return ok


def webhook_signature(app_key: str, app_secret: str, raw_body: bytes) -> str:
    return hmac.new(app_secret.encode("utf-8"), app_key.encode("utf-8") + raw_body, hashlib.sha256).hexdigest()

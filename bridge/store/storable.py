"""Text that both engines store the same way.

SQLite keeps whatever a column is given; PostgreSQL refuses a NUL byte in text, a string longer than
its ``VARCHAR(n)``, and psycopg cannot encode a lone UTF-16 surrogate (which JSON's ``\\ud800`` escape
produces). A signed event carrying such a value is still an event: the fields derived from it for
lookups (event id, topic, shop, entity, job keys) are made storable here, deterministically, so a
retry of the same event maps to the same row and dedupes. The raw body is kept byte for byte.
"""

from __future__ import annotations

import hashlib
from typing import Any

_DIGEST_CHARS = 16


def storable(value: str) -> str:
    """``value`` with lone surrogates and NUL written as backslash escapes (unchanged otherwise)."""
    if "\x00" not in value:
        try:
            value.encode("utf-8")
            return value
        except UnicodeEncodeError:
            pass
    return value.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


def fit(value: str, limit: int) -> str:
    """``storable(value)``, and when longer than ``limit`` characters its head plus a digest of the
    whole: distinct long values stay distinct, equal ones stay equal."""
    v = storable(value)
    if len(v) <= limit:
        return v
    digest = hashlib.sha256(v.encode("utf-8")).hexdigest()[:_DIGEST_CHARS]
    return f"{v[: limit - _DIGEST_CHARS - 1]}~{digest}"


def fit_optional(value: str | None, limit: int) -> str | None:
    return None if value is None else fit(value, limit)


def storable_json(value: Any) -> Any:
    """A JSON value whose strings (keys too) are ``storable``."""
    if isinstance(value, str):
        return storable(value)
    if isinstance(value, dict):
        return {storable(str(k)): storable_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable_json(v) for v in value]
    return value


__all__ = ["fit", "fit_optional", "storable", "storable_json"]

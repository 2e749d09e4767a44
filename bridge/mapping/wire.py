"""Payloads on the wire: JSON with exact money.

Mapped records keep amounts as ``Decimal``. NetSuite expects JSON numbers, so they are written as
the shortest float that reads back as the same decimal (exact for amounts of up to 15 significant
digits, which covers every currency amount NetSuite stores); anything longer is refused rather than
silently rounded.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        as_float = float(value)
        if Decimal(repr(as_float)) != value:
            raise ValueError(f"amount {value} cannot be sent exactly as a JSON number")
        return as_float
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def json_digest(value: Any) -> str:
    """A stable SHA-256 of ``value`` as canonical JSON (keys sorted; Decimals and dates as text): the
    content hashes that tell a changed record from an unchanged one."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()

"""Payloads on the wire: the one Decimal → JSON rule of the bridge.

Every body the bridge sends — NetSuite REST records, RESTlet batches, TikTok Open API requests — is
serialized here. A ``Decimal`` is written as an **exact JSON number** with the digits it holds
(``Decimal("53.90")`` → ``53.90``), never through a float and never as a string. Where an API
documents a decimal *string* (TikTok's money fields: ``"price": {"amount": "19.99"}``), the mapping
formats it with :func:`decimal_text` itself, so a stray ``Decimal`` in a string field goes out as a
number and the receiving service (and both sandboxes) refuses it instead of it passing by accident.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bridge.errors import FatalError

_encode_string = json.encoder.encode_basestring
_encode_string_ascii = json.encoder.encode_basestring_ascii


def decimal_text(value: Decimal) -> str:
    """The plain decimal digits of ``value`` (no exponent): the JSON number, or a decimal string."""
    if not value.is_finite():
        raise ValueError(f"amount {value} is not a finite number and cannot be sent")
    text = format(value, "f")
    return text


def dumps(value: Any, *, sort_keys: bool = False, indent: int | None = None, ensure_ascii: bool = False) -> str:
    """JSON text of ``value``; ``Decimal`` values become exact JSON numbers.

    Compact (``,`` and ``:`` without spaces) unless ``indent`` is given. Floats are refused: money in
    the bridge is ``Decimal``, and a float on the wire is a rounding bug waiting to happen.
    """
    out: list[str] = []
    enc = _encode_string_ascii if ensure_ascii else _encode_string
    _write(value, out, enc, sort_keys, indent, 0)
    return "".join(out)


def encode(value: Any) -> bytes:
    """The UTF-8 bytes of :func:`dumps` (compact): what is signed and sent."""
    return dumps(value).encode("utf-8")


def loads(text: str | bytes) -> Any:
    """Parse JSON; non-integer numbers become ``Decimal`` (exact, as they were written)."""
    return json.loads(text, parse_float=Decimal)


class NonFiniteNumber(FatalError, ValueError):
    """A JSON answer holds ``NaN``, ``Infinity`` or ``-Infinity``: RFC 8259 has no such numbers, and one
    that reached a quantity or an amount would poison the arithmetic downstream. Fatal where it escapes (the
    API clients catch it and decide by the answer's status)."""

    def __init__(self, constant: str) -> None:
        super().__init__(f"the answer holds {constant}, which JSON does not allow")
        self.constant = constant


def _refuse_constant(constant: str) -> Any:
    raise NonFiniteNumber(constant)


def loads_strict(text: str | bytes) -> Any:
    """:func:`loads` (non-integer numbers as ``Decimal``) refusing ``NaN`` / ``Infinity`` / ``-Infinity``
    with ``NonFiniteNumber``, where Python's parser would turn them into floats: for API answers."""
    return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


def loads_inbound(text: str | bytes) -> Any:
    """Parse a body another system sent as strict JSON (RFC 8259): Python's ``NaN``/``Infinity``
    extensions, and numbers beyond a float's range (which Python reads as infinity), raise ValueError.
    They are not JSON, no sender of ours writes them, and PostgreSQL's JSON refuses them in the job
    payloads an event's data flows into, so such a body is refused (400) on both engines alike."""
    return json.loads(text, parse_constant=_not_json, parse_float=_finite)


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON containers (dicts, lists) with every ``Decimal`` kept exact.

    Checks what :func:`dumps` would refuse (non-finite amounts, floats) early, at the mapping.
    """
    if isinstance(value, Decimal):
        decimal_text(value)
        return value
    if isinstance(value, float):
        raise TypeError(f"float {value!r} in a payload: money must be a Decimal")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def json_digest(value: Any) -> str:
    """A stable SHA-256 of ``value`` as canonical JSON (keys sorted; Decimals and dates as text): the
    content hashes that tell a changed record from an unchanged one."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _write(v: Any, out: list[str], enc: Any, sort_keys: bool, indent: int | None, level: int) -> None:
    if v is None:
        out.append("null")
    elif v is True:
        out.append("true")
    elif v is False:
        out.append("false")
    elif isinstance(v, str):
        out.append(enc(v))
    elif isinstance(v, Decimal):
        out.append(decimal_text(v))
    elif isinstance(v, int):
        out.append(int.__repr__(v))
    elif isinstance(v, float):
        raise TypeError(f"float {v!r} in a payload: money must be a Decimal")
    elif isinstance(v, Mapping):
        items = [(str(k), x) for k, x in v.items()]
        if sort_keys:
            items.sort(key=lambda kv: kv[0])
        if not items:
            out.append("{}")
            return
        out.append("{")
        for i, (k, x) in enumerate(items):
            if i:
                out.append(",")
            _newline(out, indent, level + 1)
            out.append(enc(k))
            out.append(": " if indent is not None else ":")
            _write(x, out, enc, sort_keys, indent, level + 1)
        _newline(out, indent, level)
        out.append("}")
    elif isinstance(v, list | tuple):
        if not v:
            out.append("[]")
            return
        out.append("[")
        for i, x in enumerate(v):
            if i:
                out.append(",")
            _newline(out, indent, level + 1)
            _write(x, out, enc, sort_keys, indent, level + 1)
        _newline(out, indent, level)
        out.append("]")
    else:
        raise TypeError(f"cannot serialize {type(v).__name__} in a request body")


def _newline(out: list[str], indent: int | None, level: int) -> None:
    if indent is not None:
        out.append("\n" + " " * (indent * level))


__all__ = ["NonFiniteNumber", "decimal_text", "dumps", "encode", "json_digest", "jsonable", "loads", "loads_inbound",
           "loads_strict"]

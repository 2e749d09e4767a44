"""Decimal helpers: money is parsed from strings, rounded per currency, printed as strings."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ZERO = Decimal("0")
_EXPONENTS = {"JPY": 0, "IDR": 0, "VND": 0}


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-_EXPONENTS.get(currency.upper(), 2))


def q(value: Decimal, currency: str) -> Decimal:
    return value.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def dec(value: object, field: str = "amount") -> Decimal:
    """Parse a decimal from a string or int (never a float)."""
    if isinstance(value, (bool, float)):
        raise ValueError(f"{field} must be a decimal string, not {type(value).__name__}")
    try:
        out = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(f"{field} is not a decimal: {value!r}") from exc
    if not out.is_finite():
        raise ValueError(f"{field} is not a finite decimal")
    return out


def fmt(value: Decimal, currency: str) -> str:
    v = q(value, currency)
    if v == 0:
        v = abs(v)  # never print "-0.00"
    return f"{v:f}"


def allocate(total: Decimal, weights: list[Decimal], currency: str) -> list[Decimal]:
    """Split ``total`` over ``weights`` proportionally, rounding per currency; the last share
    takes the remainder so the shares sum exactly to ``total``."""
    if not weights:
        return []
    total = q(total, currency)
    wsum = sum(weights, ZERO)
    shares: list[Decimal] = []
    if wsum == 0:
        even = [ZERO] * len(weights)
        shares = [q(total / len(weights), currency) for _ in even]
    else:
        shares = [q(total * w / wsum, currency) for w in weights]
    shares[-1] = total - sum(shares[:-1], ZERO)
    if wsum > 0 and (shares[-1] * total < 0 or abs(shares[-1]) > abs(total)):
        # Half-up shares overshot (four units sharing 0.02: 0.01 each, the last -0.01): split by largest
        # remainder instead, so no share has the wrong sign and they still sum to ``total``.
        return _largest_remainder(total, weights, wsum, currency)
    return shares


def _largest_remainder(total: Decimal, weights: list[Decimal], wsum: Decimal, currency: str) -> list[Decimal]:
    unit = quantum(currency)
    sign = -1 if total < 0 else 1
    exact = [abs(total) * w / wsum for w in weights]
    shares = [(x // unit) * unit for x in exact]
    left = int((abs(total) - sum(shares, ZERO)) / unit)
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), -i))  # ties: the later unit
    for i in order[:left]:
        shares[i] += unit
    return [ZERO + sign * x for x in shares]  # ZERO + : no "-0.00"

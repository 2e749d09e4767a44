"""Deterministic TikTok-looking identifiers (numeric strings, tokens, ciphers) from a seeded RNG."""

from __future__ import annotations

import hashlib
import random
import string
import threading
import uuid

# Leading digits resembling the live service's id families; the rest is a per-kind counter
# scrambled with a seeded offset so ids look unordered yet never collide.
_PREFIX = {
    "order": "5764",
    "line_item": "5770",
    "package": "1152",
    "product": "1729",
    "sku": "1730",
    "warehouse": "7068",
    "delivery_option": "7091",
    "provider": "6617",
    "shop": "7494",
    "user": "7021",
    "cancel": "4035",
    "return": "4036",
    "statement": "7238",
    "transaction": "1636",
    "payment": "3458",
    "withdrawal": "3459",
    "adjustment": "7239",
    "notification": "7327",
    "category": "6000",
    "attribute": "1000",
    "brand": "7082",
    "service": "7369",
    "open_id": "7010",
    "group": "1234",
}


class IdFactory:
    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._counters: dict[str, int] = {}

    def next(self, kind: str, digits: int = 18) -> str:
        prefix = _PREFIX.get(kind, "9000")
        with self._lock:
            n = self._counters.get(kind, 0) + 1
            self._counters[kind] = n
        digest = hashlib.sha256(f"{self._seed}:{kind}".encode()).hexdigest()
        offset = int(digest[:12], 16)
        body_len = digits - len(prefix)
        # a prime step keeps consecutive ids visibly different yet unique within 10**body_len
        value = (offset + n * 7919) % (10**body_len)
        return f"{prefix}{value:0{body_len}d}"

    def token(self, prefix: str = "TTP_", length: int = 40) -> str:
        alphabet = string.ascii_letters + string.digits + "-_"
        with self._lock:
            return prefix + "".join(self._rng.choice(alphabet) for _ in range(length))

    def hexstr(self, length: int = 32) -> str:
        with self._lock:
            return "".join(self._rng.choice("0123456789abcdef") for _ in range(length))

    @staticmethod
    def request_id() -> str:
        return uuid.uuid4().hex.upper() + "01"

    def rand(self) -> random.Random:
        return self._rng

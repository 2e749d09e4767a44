"""Signatures of the events our SuiteScript posts to ``/netsuite/events``.

Header ``X-TTNS-Timestamp`` is Unix seconds; ``X-TTNS-Signature`` is lower-hex
HMAC-SHA256(key = the shared secret, message = timestamp + "." + raw body). The timestamp must be
within ``tolerance`` seconds of now (either way), so a captured request cannot be replayed later;
within the window, replays are caught by the inbox's ``(netsuite, event_id)`` uniqueness.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass

TIMESTAMP_HEADER = "X-TTNS-Timestamp"
SIGNATURE_HEADER = "X-TTNS-Signature"
TOLERANCE_SECONDS = 300
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def sign(secret: str | bytes, timestamp: int | str, body: bytes) -> str:
    """The signature SuiteScript sends for ``body`` at ``timestamp``."""
    return hmac.new(_key(secret), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""  # why not, for the log (never the secret or the expected signature)
    skew: float | None = None  # seconds the signed timestamp is behind now, when only the window failed

    def __bool__(self) -> bool:
        return self.ok


def verify(
    secret: str | bytes,
    timestamp: str | None,
    body: bytes,
    signature: str | None,
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> Verdict:
    """Check the signature in constant time and the timestamp against ``now`` (Unix seconds)."""
    if not secret:
        return Verdict(False, "no events secret configured")
    if not timestamp or not _TIMESTAMP.match(timestamp.strip()):
        return Verdict(False, "missing or malformed timestamp")
    if not signature or not _HEX64.match(signature.strip()):
        return Verdict(False, "missing or malformed signature")
    expected = sign(secret, timestamp.strip(), body)
    good = hmac.compare_digest(expected, signature.strip().lower())
    if not good:
        return Verdict(False, "signature mismatch")
    skew = now - int(timestamp.strip())
    if abs(skew) > tolerance:
        return Verdict(False, f"stale timestamp ({int(skew)} s off, tolerance {tolerance} s)", skew=skew)
    return Verdict(True)

"""What every answer of the web tier carries, whichever layer makes it (Flask's hooks, ``webhooks.FastPath``)."""

from __future__ import annotations

import re
import time

from bridge.logs import new_correlation_id

_CID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")

# The Content-Security-Policy of every response that does not set a stricter one (the console does).
DEFAULT_CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
               "base-uri 'none'; frame-ancestors 'none'")


def request_correlation_id(supplied: str | None) -> str:
    """The caller's ``X-Correlation-Id`` when it is a plain token, else a new one."""
    return supplied if supplied and _CID.match(supplied) else new_correlation_id()


def response_headers(present: set[str], correlation_id: str, started: float | None) -> list[tuple[str, str]]:
    """The headers to add to an answer that already has the (lower-case) header names ``present``."""
    defaults = (
        ("X-Correlation-Id", correlation_id),
        # time spent in the bridge, apart from queueing in front of it
        ("Server-Timing", f"app;dur={(time.perf_counter() - started) * 1000:.1f}" if started is not None else None),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        # Every page, the login and connect pages too: no framing (clickjacking), no foreign scripts.
        ("Content-Security-Policy", DEFAULT_CSP),
        ("X-Frame-Options", "DENY"),
    )
    return [(name, value) for name, value in defaults if value is not None and name.lower() not in present]

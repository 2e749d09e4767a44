"""The retry decision and the backoff schedule, as pure functions (no clock, no randomness inside)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bridge.errors import BridgeError, FatalError, LeaseLost, NeedsHumanError, RetriableError, SkippableError

Decision = Literal["retry", "dead", "needs_human", "fatal", "skipped", "lease_lost"]


def backoff_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    rand: float,
    jitter: float = 0.5,
    retry_after: float | None = None,
) -> float:
    """Seconds to wait before attempt ``attempt + 1`` after ``attempt`` failed (``attempt`` ≥ 1).

    Exponential (``base · 2^(attempt-1)``, capped at ``cap``) with the top ``jitter`` fraction
    randomised by ``rand`` ∈ [0, 1), so a herd of failed jobs spreads out. A server's
    ``Retry-After`` is a floor: we never come back sooner than it asked.
    """
    if attempt < 1:
        raise ValueError("attempt starts at 1")
    if not 0.0 <= rand < 1.0:
        raise ValueError("rand must be in [0, 1)")
    if not 0.0 <= jitter <= 1.0:
        raise ValueError("jitter must be in [0, 1]")
    exp = min(cap, base * (2.0 ** min(attempt - 1, 62)))
    delay = exp * (1.0 - jitter) + exp * jitter * rand
    if retry_after is not None and retry_after > delay:
        delay = float(retry_after)
    return delay


@dataclass(frozen=True)
class RetryDecision:
    decision: Decision
    delay: float = 0.0


def decide(
    error: BaseException,
    attempt: int,
    max_attempts: int,
    *,
    base: float,
    cap: float,
    rand: float,
) -> RetryDecision:
    """What the queue does with a job whose attempt number ``attempt`` raised ``error``."""
    if isinstance(error, LeaseLost):
        return RetryDecision("lease_lost")
    if isinstance(error, SkippableError):
        return RetryDecision("skipped")
    if isinstance(error, NeedsHumanError):
        return RetryDecision("needs_human")
    if isinstance(error, RetriableError):
        if attempt >= max_attempts:
            return RetryDecision("dead")
        return RetryDecision(
            "retry", backoff_delay(attempt, base=base, cap=cap, rand=rand, retry_after=error.retry_after)
        )
    if isinstance(error, FatalError | BridgeError):
        return RetryDecision("fatal")
    # An unexpected exception is a bug until proven otherwise, but it may be transient (a dropped
    # database connection surfaces as one); retry it a few times, then it dies with its traceback.
    if attempt >= min(max_attempts, 3):
        return RetryDecision("dead")
    return RetryDecision("retry", backoff_delay(attempt, base=base, cap=cap, rand=rand))

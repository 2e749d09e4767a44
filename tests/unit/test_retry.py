from __future__ import annotations

import pytest

from bridge.errors import (
    Evidence,
    FatalError,
    LeaseLost,
    NeedsHumanError,
    RetriableError,
    SkippableError,
    classify_http,
)
from bridge.retry import backoff_delay, decide


@pytest.mark.parametrize(
    ("attempt", "rand", "retry_after", "expected"),
    [
        pytest.param(1, 0.0, None, 1.0, id="first-retry-lowest-jitter"),
        pytest.param(1, 0.999999, None, 2.0, id="first-retry-highest-jitter"),
        pytest.param(3, 0.5, None, 6.0, id="third-retry-mid-jitter"),
        pytest.param(20, 0.0, None, 30.0, id="capped-then-jittered"),
        pytest.param(1, 0.0, 7.5, 7.5, id="retry-after-is-a-floor"),
        pytest.param(4, 0.999999, 1.0, 16.0, id="retry-after-below-backoff-ignored"),
    ],
)
def test_backoff_delay(attempt: int, rand: float, retry_after: float | None, expected: float) -> None:
    got = backoff_delay(attempt, base=2.0, cap=60.0, rand=rand, retry_after=retry_after)
    assert got == pytest.approx(expected, rel=1e-5)


def test_backoff_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        backoff_delay(0, base=1, cap=1, rand=0)
    with pytest.raises(ValueError):
        backoff_delay(1, base=1, cap=1, rand=1.0)


def test_backoff_grows_monotonically_until_the_cap() -> None:
    delays = [backoff_delay(a, base=1.0, cap=100.0, rand=0.5) for a in range(1, 12)]
    assert delays == sorted(delays) and max(delays) == pytest.approx(75.0)


@pytest.mark.parametrize(
    ("error", "attempt", "decision"),
    [
        pytest.param(RetriableError("429"), 1, "retry", id="retriable-retries"),
        pytest.param(RetriableError("429"), 5, "dead", id="retriable-dies-at-max"),
        pytest.param(NeedsHumanError("sku", code="UNKNOWN_SKU"), 1, "needs_human", id="needs-human"),
        pytest.param(FatalError("bad sign"), 1, "fatal", id="fatal"),
        pytest.param(SkippableError("unpaid"), 1, "skipped", id="skippable"),
        pytest.param(LeaseLost("gone"), 1, "lease_lost", id="lease-lost"),
        pytest.param(KeyError("bug"), 1, "retry", id="unexpected-retries-a-little"),
        pytest.param(KeyError("bug"), 3, "dead", id="unexpected-dies-early"),
    ],
)
def test_decide(error: Exception, attempt: int, decision: str) -> None:
    assert decide(error, attempt, 5, base=1, cap=10, rand=0.5).decision == decision


@pytest.mark.parametrize(
    ("system", "status", "code", "outcome"),
    [
        ("tiktok", 200, "0", "ok"),
        ("tiktok", 429, None, "retry"),
        ("tiktok", 200, "36009002", "retry"),
        ("tiktok", 200, "105002", "refresh_token"),
        ("tiktok", 200, "106001", "fatal"),
        ("tiktok", 200, "36009004", "fatal"),
        ("tiktok", 503, None, "retry"),
        ("tiktok", 503, "36009003", "retry"),
        ("tiktok", 200, "36009003", "retry"),
        ("tiktok", 501, "36009003", "fatal"),
        ("tiktok", 200, "36004005", "needs_human"),
        ("netsuite", 429, "CONCURRENCY_LIMIT_EXCEEDED", "retry"),
        ("netsuite", 400, "SSS_REQUEST_LIMIT_EXCEEDED", "retry"),
        ("netsuite", 401, "INVALID_LOGIN", "retry"),
        ("netsuite", 400, "INVALID_CONTENT", "fatal"),
        ("netsuite", 400, "USER_ERROR", "needs_human"),
        ("netsuite", 403, None, "fatal"),
        ("other", 504, None, "retry"),
        ("other", 404, None, "fatal"),
    ],
)
def test_http_failure_policy(system: str, status: int, code: str | None, outcome: str) -> None:
    assert classify_http(system, status, code) == outcome


def test_evidence_is_redacted_on_the_way_in() -> None:
    ev = Evidence.of("tiktok", "GET /x?access_token=abc&sign=def", 401, "105001", "req-1",
                     body='{"access_token":"abc","message":"expired"}', headers={"x-tts-access-token": "abc"})
    text = str(ev.as_dict())
    assert "abc" not in text and "def" not in text and "expired" in text and "req-1" in text

"""NetSuite answers are read strictly: numbers with a fraction as ``Decimal``, ``NaN`` / ``Infinity`` /
``-Infinity`` refused naming the method and path (fatal under a 2xx; under a 5xx reads are retried and
writes are ``WriteOutcomeUnknown``). Over real HTTP against the small fake (``fake_netsuite``)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from bridge.errors import ConfigurationError, FatalError, RetriableError, WriteOutcomeUnknown
from bridge.netsuite.client import NetSuiteClient, RetryPolicy
from bridge.netsuite.governor import Governor
from bridge.netsuite.wiring import build_client
from tests.netsuite.fake_netsuite import FakeState
from tests.netsuite.test_client import settings_for

RECORD = "/services/rest/record/v1/"
SUITEQL = "/services/rest/query/v1/suiteql"
RESTLET = "/app/site/hosting/restlet.nl"
TOKEN = "/services/rest/auth/oauth2/v1/token"


def client(url: str, tmp_path: Path, *, attempts: int = 10) -> NetSuiteClient:
    return build_client(settings_for(url, tmp_path), governor=Governor(5),
                        retry=RetryPolicy(max_attempts=attempts, base=0.005, cap=0.05))


def answer(state: FakeState, method: str, path: str, body: str, status: int = 200) -> None:
    state.answers.append({"method": method, "path": path, "status": status, "body": body})


def served(state: FakeState, path: str) -> int:
    return sum(1 for _m, p in state.requests if path in p)


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_number_under_a_2xx_is_refused_for_good_naming_method_and_path(
    fake: tuple[FakeState, str], tmp_path: Path, constant: str,
) -> None:
    state, url = fake
    c = client(url, tmp_path)
    answer(state, "GET", RECORD + "salesOrder/7", '{"id": "7", "item": {"items": [{"rate": ' + constant + "}]}}")
    with pytest.raises(FatalError) as err:
        c.get("salesOrder", "7")
    assert not isinstance(err.value, RetriableError)
    assert f"holds {constant}" in str(err.value) and "GET /services/rest/record/v1/salesOrder/7" in str(err.value)
    assert err.value.evidence.status == 200 and constant in err.value.evidence.body
    assert served(state, RECORD + "salesOrder/7") == 1  # not repeated

    answer(state, "POST", SUITEQL, '{"items": [{"amount": ' + constant + '}], "hasMore": false, "count": 1}')
    with pytest.raises(FatalError) as err:
        c.suiteql_page("SELECT amount FROM transactionline")
    assert f"holds {constant}" in str(err.value) and f"POST {SUITEQL}" in str(err.value)
    assert served(state, SUITEQL) == 1

    answer(state, "GET", RESTLET, '{"results": [{"external_id": "A", "found": true, "id": ' + constant + "}]}")
    with pytest.raises(FatalError) as err:
        c.lookup_orders(["A"])
    assert f"holds {constant}" in str(err.value) and f"GET {RESTLET}" in str(err.value)


def test_a_restlet_answer_stringified_twice_is_read_strictly_too(fake: tuple[FakeState, str], tmp_path: Path) -> None:
    """A RESTlet that returns ``JSON.stringify(...)`` under text/plain: the inner text is parsed as strictly."""
    state, url = fake
    inner = '{"results": [{"external_id": "A", "found": true, "id": 5, "total": NaN}]}'
    answer(state, "GET", RESTLET, json.dumps(inner))
    with pytest.raises(FatalError) as err:
        client(url, tmp_path).lookup_orders(["A"])
    assert "holds NaN" in str(err.value) and f"GET {RESTLET}" in str(err.value)


def test_a_non_finite_number_under_a_5xx_read_is_retried_and_named_when_the_attempts_run_out(
    fake: tuple[FakeState, str], tmp_path: Path,
) -> None:
    state, url = fake
    state.rows = [{"id": "1", "amount": "19.99"}]
    answer(state, "POST", SUITEQL, '{"title": "busy", "o:errorDetails": [{"detail": "x", "amount": NaN}]}', 503)
    rows = client(url, tmp_path).suiteql("SELECT id, amount FROM transactionline")
    assert rows == [{"id": "1", "amount": "19.99"}] and served(state, SUITEQL) == 2  # a read: retried
    answer(state, "POST", SUITEQL, '{"items": [], "total": Infinity}', 503)
    with pytest.raises(RetriableError) as err:
        client(url, tmp_path, attempts=1).suiteql_page("SELECT id FROM transactionline")
    assert "holds Infinity" in str(err.value) and f"POST {SUITEQL}" in str(err.value)


def test_a_non_finite_number_under_a_5xx_write_leaves_the_outcome_unknown(
    fake: tuple[FakeState, str], tmp_path: Path,
) -> None:
    state, url = fake
    state.records["salesOrder"] = {"7": {"id": "7", "memo": "x"}}
    answer(state, "PATCH", RECORD + "salesOrder/7", '{"o:errorDetails": [{"detail": "x"}], "n": -Infinity}', 502)
    with pytest.raises(WriteOutcomeUnknown) as err:
        client(url, tmp_path).patch("salesOrder", "7", {"memo": "y"})
    assert "holds -Infinity" in str(err.value) and "PATCH /services/rest/record/v1/salesOrder/7" in str(err.value)
    assert served(state, RECORD + "salesOrder/7") == 1  # a write is never sent again


def test_the_token_endpoint_refuses_a_non_finite_number_for_good(fake: tuple[FakeState, str], tmp_path: Path) -> None:
    state, url = fake
    answer(state, "POST", TOKEN, '{"access_token": "tok-x", "expires_in": Infinity, "token_type": "bearer"}')
    with pytest.raises(FatalError) as err:
        client(url, tmp_path).get("customer", "1")
    assert not isinstance(err.value, RetriableError | ConfigurationError)
    assert "holds Infinity" in str(err.value) and f"POST {TOKEN}" in str(err.value)
    assert state.token_requests == 0 and served(state, TOKEN) == 1  # the canned answer; not asked again


def test_amounts_in_an_answer_are_exact_decimals(fake: tuple[FakeState, str], tmp_path: Path) -> None:
    """Three lines of ``10.10``, ``20.20`` and ``30.30`` sum to exactly ``60.60``; read as floats (Python's
    default, and what ``requests``' ``.json()`` does) they sum to 60.599999999999994."""
    state, url = fake
    lines = ["10.10", "20.20", "30.30"]
    text = '{"items": [' + ", ".join(f'{{"id": "{i}", "amount": {a}, "quantity": 2}}' for i, a in enumerate(lines)) + \
        '], "hasMore": false, "count": 3, "offset": 0, "totalResults": 3}'
    answer(state, "POST", SUITEQL, text)
    page = client(url, tmp_path).suiteql_page("SELECT id, amount, quantity FROM transactionline")
    amounts = [r["amount"] for r in page.items]
    assert all(type(a) is Decimal for a in amounts) and [str(a) for a in amounts] == lines
    assert sum(amounts) == Decimal("60.60")
    assert [r["quantity"] for r in page.items] == [2, 2, 2] and all(type(r["quantity"]) is int for r in page.items)
    as_floats = [r["amount"] for r in json.loads(text)["items"]]
    assert sum(as_floats) == 60.599999999999994  # what the float reading would have handed on

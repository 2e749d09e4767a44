"""The NetSuite sandbox answers a client nobody here wrote: jacobsvante's ``netsuite`` package (PyPI
``netsuite``: ``NetSuite(Config(account=…, auth=TokenAuth(…)))``, then ``rest_api.get/post/put``,
``rest_api.suiteql`` and ``restlet.get/post``, all async, TBA signed with authlib's OAuth 1.0a
HMAC-SHA256 and ``realm`` = the account id as given), over real HTTP on loopback.

The package builds its host from the account (``https://<account>.suitetalk.api.netsuite.com`` and
``….restlets.api.netsuite.com``) with no setting to change it, so these tests subclass its two API
classes to put the sandbox's address where DNS would; everything else is the package's own code."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from netsuite import Config, NetSuite, TokenAuth
from netsuite.exceptions import NetsuiteAPIRequestError
from netsuite.rest_api import NetSuiteRestApi
from netsuite.restlet import NetSuiteRestlet

from tests.netsuite.sandbox_support import ACCOUNT, MUG, TBA, TTS_CUSTOMER, Sandbox, running_sandbox


@pytest.fixture(scope="module")
def _sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path_factory.mktemp("netsuite-keys"), run_scripts=True) as sandbox:
        yield sandbox


@pytest.fixture
def ns(_sandbox: Sandbox) -> Sandbox:
    _sandbox.reset()
    return _sandbox


def client(sandbox: Sandbox, **auth: str) -> NetSuite:
    base = sandbox.url

    class RestApi(NetSuiteRestApi):
        def _make_url(self, subpath: str) -> str:
            return f"{base}/services/rest{subpath}"

    class Restlet(NetSuiteRestlet):
        def _make_url(self, subpath: str) -> str:
            return f"{base}/app/site/hosting/restlet.nl{subpath}"

    token = {"consumer_key": TBA.consumer_key, "consumer_secret": TBA.consumer_secret, "token_id": TBA.token_id,
             "token_secret": TBA.token_secret, **auth}
    config = Config(account=ACCOUNT, auth=TokenAuth(**token))
    ns = NetSuite(config)
    ns.__dict__["rest_api"] = RestApi(config, default_timeout=10)
    ns.__dict__["restlet"] = Restlet(config, default_timeout=30)
    return ns


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_signed_get_of_a_record(ns: Sandbox) -> None:
    got = run(client(ns).rest_api.get(f"/record/v1/customer/{TTS_CUSTOMER}"))
    assert got["id"] == TTS_CUSTOMER and got["companyName"] == "TikTok Shop Customers"
    by_eid = run(client(ns).rest_api.get("/record/v1/customer/eid:CUST-TTS"))
    assert by_eid["id"] == TTS_CUSTOMER


def test_a_wrong_token_secret_is_refused(ns: Sandbox) -> None:
    with pytest.raises(NetsuiteAPIRequestError) as err:
        run(client(ns, token_secret="not-the-secret").rest_api.get(f"/record/v1/customer/{TTS_CUSTOMER}"))
    assert err.value.status_code == 401 and "INVALID_LOGIN" in err.value.response_text


def test_signed_writes_create_and_upsert(ns: Sandbox) -> None:
    api = client(ns).rest_api
    body = {"companyName": "Third-party client Ltd", "subsidiary": {"id": "1"}}
    assert run(api.put("/record/v1/customer/eid:TP-CLIENT-1", json=body)) is None  # 204, no body
    assert ns.count("customer", "TP-CLIENT-1") == 1
    run(api.put("/record/v1/customer/eid:TP-CLIENT-1", json={**body, "companyName": "Renamed Ltd"}))
    assert ns.count("customer", "TP-CLIENT-1") == 1  # an upsert, not a second record
    assert run(api.get("/record/v1/customer/eid:TP-CLIENT-1"))["companyName"] == "Renamed Ltd"
    # the package sends X-NetSuite-PropertyNameValidation: error, so a misspelt field is refused
    with pytest.raises(NetsuiteAPIRequestError) as err:
        run(api.post("/record/v1/customer", json={"companyNmae": "Typo Ltd", "subsidiary": {"id": "1"}}))
    assert err.value.status_code == 400 and "companyNmae" in err.value.response_text


def test_suiteql_pages(ns: Sandbox) -> None:
    api = client(ns).rest_api
    page = run(api.suiteql("SELECT id, itemid FROM item ORDER BY id", limit=2, offset=0))
    assert page["count"] == 2 and page["hasMore"] and page["offset"] == 0 and len(page["items"]) == 2
    nxt = run(api.suiteql("SELECT id, itemid FROM item ORDER BY id", limit=2, offset=2))
    assert nxt["offset"] == 2 and {r["id"] for r in nxt["items"]}.isdisjoint({r["id"] for r in page["items"]})
    mug = run(api.suiteql(f"SELECT itemid FROM item WHERE id = {MUG}", limit=5))  # noqa: S608 - a constant
    assert mug["items"][0]["itemid"] == "MUG-001"
    # NetSuite's paging rule holds for this client too: offset must be a multiple of limit
    with pytest.raises(NetsuiteAPIRequestError) as err:
        run(api.suiteql("SELECT id FROM item", limit=2, offset=3))
    assert err.value.status_code == 400


def test_restlet_call(ns: Sandbox) -> None:
    restlet = client(ns).restlet
    answer = run(restlet.get("customscript_ttns_rl_orders", deploy="customdeploy_ttns_rl_orders",  # type: ignore[arg-type]
                             params={"external_ids": "TTS-NOPE-1"}))
    assert answer == {"results": [{"external_id": "TTS-NOPE-1", "found": False, "id": None, "record_type": None}]}
    with pytest.raises(NetsuiteAPIRequestError) as err:  # an unknown deployment is NetSuite's error, not a crash
        run(restlet.get("customscript_ttns_rl_orders", deploy="customdeploy_nope",  # type: ignore[arg-type]
                        params={"external_ids": "TTS-NOPE-1"}))
    assert err.value.status_code >= 400


def test_restlet_signed_write(ns: Sandbox) -> None:
    restlet = client(ns).restlet
    order = {"external_id": "TTS-PY-1", "record_type": "salesOrder",
             "customer": {"externalId": "TTS-CUST-PY-1", "companyName": "Python buyer"},
             "record": {"item": {"items": [{"item": {"id": MUG}, "quantity": 1, "rate": 12.5}]}}}
    answer = run(restlet.post("customscript_ttns_rl_orders", deploy="customdeploy_ttns_rl_orders",  # type: ignore[arg-type]
                              json={"orders": [order]}))
    (result,) = answer["results"]
    assert result["status"] == "created" and result["id"] and ns.count("transaction", "TTS-PY-1") == 1

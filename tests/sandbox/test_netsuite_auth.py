"""OAuth 2.0 client credentials (JWT assertion) and TBA as the NetSuite sandbox verifies them."""

from __future__ import annotations

import time

import requests

from bridge.sandbox.netsuite.auth import rfc5849_encode, tba_base_string

from .test_netsuite_support import ACCOUNT, NS, RECORD, Keys, assertion, ns, ns_keys, request_token, tba_auth

__all__ = ["ns", "ns_keys"]


def _get_customer(url: str, headers: dict[str, str] | None = None, auth: object = None) -> requests.Response:
    return requests.get(url + RECORD + "/customer/eid:CUST-TTS", headers=headers or {}, auth=auth, timeout=10)  # type: ignore[arg-type]


def test_ps256_and_es256_assertions_get_a_token_that_opens_rest(ns: NS) -> None:
    for alg, kid in (("PS256", "cert-ps"), ("ES256", "cert-es")):
        r = request_token(ns.url, assertion(ns.creds, ns.url, alg=alg, kid=kid))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["expires_in"] == "3600" and body["token_type"].lower() == "bearer"
        got = _get_customer(ns.url, {"Authorization": "Bearer " + body["access_token"]})
        assert got.status_code == 200 and got.json()["externalId"] == "CUST-TTS"


def test_rs256_is_refused_like_netsuite_since_2025(ns: NS) -> None:
    r = request_token(ns.url, assertion(ns.creds, ns.url, alg="RS256"))
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"


def test_assertion_signed_with_the_wrong_key_is_refused(ns: NS, ns_keys: Keys) -> None:
    r = request_token(ns.url, assertion(ns.creds, ns.url, key=ns_keys.other_rsa))
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert request_token(ns.url, assertion(ns.creds, ns.url, kid="no-such-cert")).status_code == 400


def test_assertion_claims_are_checked(ns: NS) -> None:
    bad = [
        assertion(ns.creds, ns.url, aud="https://elsewhere.example/token"),
        assertion(ns.creds, ns.url, iss="someone-else"),
        assertion(ns.creds, ns.url, lifetime=3700),  # exp more than 60 minutes after iat
        assertion(ns.creds, ns.url, iat=time.time() - 600, lifetime=300),  # expired
        assertion(ns.creds, ns.url, scope="suite_analytics,erp_everything"),
    ]
    for a in bad:
        r = request_token(ns.url, a)
        assert r.status_code == 400, r.text
    r = requests.post(ns.url + "/services/rest/auth/oauth2/v1/token", data={"grant_type": "password"}, timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


def test_access_token_expires_after_an_hour(ns: NS) -> None:
    assert _get_customer(ns.url, ns.headers).status_code == 200
    ns.sb.advance_clock(3601)
    r = _get_customer(ns.url, ns.headers)
    assert r.status_code == 401
    assert r.json()["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"


def test_missing_or_garbage_credentials_get_invalid_login(ns: NS) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic Zm9vOmJhcg=="}):
        r = _get_customer(ns.url, headers)
        assert r.status_code == 401
        body = r.json()
        assert body["status"] == 401 and body["o:errorDetails"][0]["o:errorCode"] == "INVALID_LOGIN"


def test_tba_signature_is_verified(ns: NS) -> None:
    ok = _get_customer(ns.url, auth=tba_auth(ns.creds))
    assert ok.status_code == 200, ok.text
    assert _get_customer(ns.url, auth=tba_auth(ns.creds, secret="wrong-secret")).status_code == 401
    assert _get_customer(ns.url, auth=tba_auth(ns.creds, realm="TSTDRV123")).status_code == 401
    # query parameters and the JSON body path are covered by the signature too
    q = requests.get(
        ns.url + RECORD + "/customer/eid:CUST-TTS",
        params={"expandSubResources": "true"},
        auth=tba_auth(ns.creds),
        timeout=10,
    )
    assert q.status_code == 200
    post = requests.post(
        ns.url + RECORD + "/customer", json={"companyName": "Signed Co"}, auth=tba_auth(ns.creds), timeout=10
    )
    assert post.status_code == 204, post.text


def test_tba_nonce_cannot_be_replayed(ns: NS) -> None:
    prepared = requests.Request("GET", ns.url + RECORD + "/customer/eid:CUST-TTS", auth=tba_auth(ns.creds)).prepare()
    with requests.Session() as s:
        assert s.send(prepared, timeout=10).status_code == 200
        assert s.send(prepared, timeout=10).status_code == 401


def test_tba_stale_timestamp_is_refused(ns: NS) -> None:
    ns.sb.advance_clock(600)
    assert _get_customer(ns.url, auth=tba_auth(ns.creds)).status_code == 401


def test_base_string_matches_rfc5849_example() -> None:
    # RFC 5849 §3.4.1.1 example request (signature-method agnostic part)
    params = [
        ("oauth_consumer_key", "9djdj82h48djs9d2"),
        ("oauth_token", "kkk9d7dh3k39sjv7"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", "137131201"),
        ("oauth_nonce", "7d8f3e4a"),
        ("b5", "=%3D"),
        ("a3", "a"),
        ("c@", ""),
        ("a2", "r b"),
        ("c2", ""),
        ("a3", "2 q"),
    ]
    base = tba_base_string("post", "http://example.com/request", params)
    expected = (
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D"
        "%26c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26"
        "oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7"
    )
    assert base == expected
    assert rfc5849_encode("a b/~") == "a%20b%2F~"


def test_realm_is_the_upper_case_sb1_form() -> None:
    from bridge.sandbox.netsuite.config import NetSuiteSandboxConfig

    assert NetSuiteSandboxConfig(account_id="tstdrv123-sb1").realm == ACCOUNT

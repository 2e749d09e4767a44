"""Shared helpers for the NetSuite sandbox tests (no tests here).

Credentials are generated per run; the JWT assertions are minted with PyJWT and TBA requests are
signed with requests-oauthlib, so the sandbox is checked against independent implementations.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from requests_oauthlib import OAuth1

from bridge.sandbox.netsuite import NetSuiteSandbox, NetSuiteSandboxConfig, OAuth2Client, TbaToken, create_app
from bridge.serving import BackgroundServer

FIXTURE_PROJECT = Path(__file__).parent / "fixtures" / "suitecloud"
ACCOUNT = "TSTDRV123_SB1"
TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"
RECORD = "/services/rest/record/v1"


@dataclass
class Keys:
    rsa: rsa.RSAPrivateKey
    ec: ec.EllipticCurvePrivateKey
    other_rsa: rsa.RSAPrivateKey

    @staticmethod
    def public_pem(key: Any) -> str:
        return (
            key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )


@pytest.fixture(scope="session")
def ns_keys() -> Keys:
    return Keys(
        rsa=rsa.generate_private_key(public_exponent=65537, key_size=2048),
        ec=ec.generate_private_key(ec.SECP256R1()),
        other_rsa=rsa.generate_private_key(public_exponent=65537, key_size=2048),
    )


@dataclass
class Creds:
    client_id: str
    tba: TbaToken
    secret: str
    keys: Keys
    extra: dict[str, Any] = field(default_factory=dict)


def make_config(keys: Keys, **overrides: Any) -> tuple[NetSuiteSandboxConfig, Creds]:
    client_id = "test-client-" + uuid.uuid4().hex[:8]
    tba = TbaToken(
        consumer_key="ck-" + secrets.token_hex(16),
        consumer_secret="cs-" + secrets.token_hex(16),
        token_id="tk-" + secrets.token_hex(16),
        token_secret="ts-" + secrets.token_hex(16),
    )
    secret = "fake-events-key-" + secrets.token_hex(8)
    cfg = NetSuiteSandboxConfig(
        account_id=ACCOUNT,
        oauth2_clients=[
            OAuth2Client(
                client_id,
                {
                    "cert-ps": Keys.public_pem(keys.rsa),
                    "cert-es": Keys.public_pem(keys.ec),
                },
            )
        ],
        tba_tokens=[tba],
        api_secrets={"custsecret_fx_key": secret, "custsecret_ttns_events": secret},
        run_scripts=False,
        https_allow_http=True,  # scripts reach test servers on loopback over HTTP (a named knob)
    )
    for k, v in overrides.items():
        setattr(cfg, k, v)
    return cfg, Creds(client_id, tba, secret, keys)


def assertion(
    creds: Creds,
    url: str,
    *,
    alg: str = "PS256",
    kid: str = "cert-ps",
    key: Any = None,
    iat: float | None = None,
    lifetime: int = 300,
    scope: Any = "rest_webservices,restlets",
    iss: str | None = None,
    aud: str | None = None,
) -> str:
    now = int(time.time() if iat is None else iat)
    signing_key = key if key is not None else (creds.keys.ec if alg.startswith("ES") else creds.keys.rsa)
    claims = {
        "iss": iss or creds.client_id,
        "scope": scope,
        "aud": aud or url + TOKEN_PATH,
        "iat": now,
        "exp": now + lifetime,
    }
    return jwt.encode(claims, signing_key, algorithm=alg, headers={"kid": kid, "typ": "JWT"})


def request_token(url: str, client_assertion: str) -> requests.Response:
    return requests.post(
        url + TOKEN_PATH,
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": client_assertion,
        },
        timeout=10,
    )


def bearer(url: str, creds: Creds, **kw: Any) -> dict[str, str]:
    r = request_token(url, assertion(creds, url, **kw))
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def tba_auth(creds: Creds, *, secret: str | None = None, realm: str = ACCOUNT) -> OAuth1:
    t = creds.tba
    return OAuth1(
        t.consumer_key,
        client_secret=t.consumer_secret,
        resource_owner_key=t.token_id,
        resource_owner_secret=secret or t.token_secret,
        realm=realm,
        signature_method="HMAC-SHA256",
    )


@dataclass
class NS:
    url: str
    sb: NetSuiteSandbox
    creds: Creds
    headers: dict[str, str]

    def ids(self) -> dict[str, str]:
        g = self.sb.get
        return {
            "item": g("inventoryItem", "eid:ITEM-MUG").id,
            "item2": g("inventoryItem", "eid:ITEM-CAP").id,
            "location": g("location", "eid:LOC-MAIN").id,
            "location2": g("location", "eid:LOC-EAST").id,
            "customer": g("customer", "eid:CUST-TTS").id,
            "parent": g("inventoryItem", "eid:ITEM-TSHIRT").id,
        }

    def post(self, path: str, body: Any, **kw: Any) -> requests.Response:
        return requests.post(
            self.url + path,
            json=body,
            headers={**self.headers, **kw.pop("headers", {})},
            timeout=kw.pop("timeout", 30),
            **kw,
        )

    def put(self, path: str, body: Any, **kw: Any) -> requests.Response:
        return requests.put(self.url + path, json=body, headers=self.headers, timeout=30, **kw)

    def patch(self, path: str, body: Any, **kw: Any) -> requests.Response:
        return requests.patch(self.url + path, json=body, headers=self.headers, timeout=30, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return requests.get(self.url + path, headers=self.headers, timeout=30, **kw)

    def suiteql(self, q: str, limit: int | None = None, offset: int | None = None) -> requests.Response:
        params = {k: v for k, v in {"limit": limit, "offset": offset}.items() if v is not None}
        return requests.post(
            self.url + "/services/rest/query/v1/suiteql",
            json={"q": q},
            params=params,
            headers={**self.headers, "Prefer": "transient"},
            timeout=30,
        )


def start(keys: Keys, **overrides: Any) -> Iterator[NS]:
    cfg, creds = make_config(keys, **overrides)
    app = create_app(cfg)
    sb: NetSuiteSandbox = app.extensions["netsuite_sandbox"]
    server = BackgroundServer(app, port=0, name="ns-sandbox").start()
    try:
        yield NS(server.url, sb, creds, bearer(server.url, creds))
    finally:
        server.stop()
        sb.close()


@pytest.fixture
def ns(ns_keys: Keys) -> Iterator[NS]:
    """A sandbox without scripts, served over HTTP, with a bearer token for REST."""
    yield from start(ns_keys)

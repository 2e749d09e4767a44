from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from bridge.errors import ConfigurationError, RetriableError
from bridge.netsuite.auth import CLIENT_ASSERTION_TYPE, OAuth2ClientCredentials, TokenBasedAuth, load_private_key
from tests.netsuite.keys import ec_key, private_pem, public_pem, rsa_key

TOKEN_URL = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"


class FakeResponse:
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        import json

        self.status_code = status
        self.text = json.dumps(body)
        self._body = body

    def json(self) -> Any:
        return self._body


class FakeTokenEndpoint:
    """Stands in for requests.Session: records the forms posted, answers with numbered tokens."""

    def __init__(self, status: int = 200, ttl: int = 3600) -> None:
        self.forms: list[dict[str, str]] = []
        self.status = status
        self.ttl = ttl
        self.lock = threading.Lock()

    def post(self, url: str, data: dict[str, str], **_: Any) -> FakeResponse:
        with self.lock:
            self.forms.append(dict(data, url=url))
            n = len(self.forms)
        if self.status != 200:
            return FakeResponse(self.status, {"error": "invalid_grant", "error_description": "refused"})
        return FakeResponse(200, {"access_token": f"token-{n}", "expires_in": str(self.ttl), "token_type": "bearer"})


def oauth2(key: Any, endpoint: FakeTokenEndpoint, clock: list[float]) -> OAuth2ClientCredentials:
    return OAuth2ClientCredentials(
        token_url=TOKEN_URL, client_id="client-abc", certificate_id="cert-kid-1", private_key=key,
        session=endpoint,  # type: ignore[arg-type]
        clock=lambda: clock[0],
    )


@pytest.mark.parametrize(("key_fn", "alg", "key_type"), [(rsa_key, "PS256", rsa.RSAPrivateKey),
                                                          (ec_key, "ES256", ec.EllipticCurvePrivateKey)])
def test_jwt_assertion_headers_claims_and_signature(key_fn: Any, alg: str, key_type: type) -> None:
    key = key_fn()
    assert isinstance(key, key_type)
    auth = oauth2(key, FakeTokenEndpoint(), [1_700_000_000.0])
    token = auth.assertion()
    header = jwt.get_unverified_header(token)
    assert header == {"alg": alg, "kid": "cert-kid-1", "typ": "JWT"}
    claims = jwt.decode(token, public_pem(key), algorithms=[alg], audience=TOKEN_URL, issuer="client-abc",
                        options={"verify_exp": False, "verify_iat": False})
    assert claims["scope"] == "rest_webservices,restlets"
    assert claims["iat"] == 1_700_000_000 and 0 < claims["exp"] - claims["iat"] <= 3600
    # the signature is really the key's: another key of the same kind does not verify it
    other = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if alg == "PS256"
             else ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, public_pem(other), algorithms=[alg], audience=TOKEN_URL,
                   options={"verify_exp": False, "verify_iat": False})


def test_token_request_form_and_cache_until_shortly_before_expiry() -> None:
    endpoint = FakeTokenEndpoint(ttl=3600)
    clock = [1_700_000_000.0]
    auth = oauth2(rsa_key(), endpoint, clock)
    assert auth.token().value == "token-1"
    form = endpoint.forms[0]
    assert form["grant_type"] == "client_credentials"
    assert form["client_assertion_type"] == CLIENT_ASSERTION_TYPE
    assert form["url"] == TOKEN_URL
    clock[0] += 3000
    assert auth.token().value == "token-1"  # still fresh
    clock[0] += 500  # within the refresh margin of the 60-minute expiry
    assert auth.token().value == "token-2"
    assert len(endpoint.forms) == 2


def test_token_is_fetched_once_for_many_threads() -> None:
    endpoint = FakeTokenEndpoint()
    auth = oauth2(rsa_key(), endpoint, [1_700_000_000.0])
    values: list[str] = []
    threads = [threading.Thread(target=lambda: values.append(auth.token().value)) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(values) == {"token-1"} and len(endpoint.forms) == 1


def test_unauthorized_drops_only_the_token_that_failed() -> None:
    endpoint = FakeTokenEndpoint()
    auth = oauth2(rsa_key(), endpoint, [1_700_000_000.0])
    first = auth.requests_auth()
    assert auth.unauthorized(first) is True
    second = auth.requests_auth()
    assert getattr(second, "token").value == "token-2"
    auth.unauthorized(first)  # a late 401 for the old token does not throw away the new one
    assert auth.token().value == "token-2"


def test_a_refused_grant_is_a_configuration_error_without_secrets() -> None:
    auth = oauth2(rsa_key(), FakeTokenEndpoint(status=400), [1_700_000_000.0])
    with pytest.raises(ConfigurationError) as info:
        auth.token()
    assert "invalid_grant" in str(info.value) and "TTNS_NETSUITE_CERTIFICATE_ID" in str(info.value)


def test_a_token_endpoint_outage_is_retriable() -> None:
    auth = oauth2(rsa_key(), FakeTokenEndpoint(status=503), [1_700_000_000.0])
    with pytest.raises(RetriableError):
        auth.token()


def test_weak_or_unsupported_keys_are_refused(tmp_path: Path) -> None:
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ConfigurationError, match="2048"):
        oauth2(small, FakeTokenEndpoint(), [0.0])
    with pytest.raises(ConfigurationError, match="P-256"):
        oauth2(ec.generate_private_key(ec.SECP384R1()), FakeTokenEndpoint(), [0.0])
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_private_key(tmp_path / "missing.pem")
    (tmp_path / "junk.pem").write_text("not a key")
    with pytest.raises(ConfigurationError, match="not an unencrypted PEM"):
        load_private_key(tmp_path / "junk.pem")
    (tmp_path / "ok.pem").write_bytes(private_pem(ec_key()))
    assert isinstance(load_private_key(tmp_path / "ok.pem"), ec.EllipticCurvePrivateKey)


# ---------------------------------------------------------------------------------------------
def _enc(s: str) -> str:
    return quote(s, safe="-._~")


def test_tba_header_shape_realm_and_hmac_sha256_signature() -> None:
    auth = TokenBasedAuth(realm="1234567_SB1", consumer_key="ck-test", consumer_secret="cs-test",
                          token_id="tk-test", token_secret="ts-test")
    url = "https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql?limit=10&offset=0"
    req = requests.Request("POST", url, data=b'{"q": "SELECT id FROM item"}',
                           headers={"Content-Type": "application/json"}, auth=auth.requests_auth()).prepare()
    raw = req.headers["Authorization"]
    header = raw.decode() if isinstance(raw, bytes) else raw  # requests-oauthlib may set bytes
    assert header.startswith('OAuth realm="1234567_SB1"')
    params = {}
    for part in header[len("OAuth "):].split(","):
        k, _, v = part.strip().partition("=")
        params[unquote(k)] = unquote(v.strip('"'))
    assert params["oauth_signature_method"] == "HMAC-SHA256"
    assert params["oauth_version"] == "1.0"
    assert (params["oauth_consumer_key"], params["oauth_token"]) == ("ck-test", "tk-test")
    assert params["oauth_nonce"] and params["oauth_timestamp"].isdigit()
    # recompute the RFC 5849 signature independently: query params are signed, the JSON body is not
    signed = [(k, v) for k, v in params.items() if k not in ("realm", "oauth_signature")]
    signed += parse_qsl("limit=10&offset=0")
    norm = "&".join(f"{k}={v}" for k, v in sorted((_enc(k), _enc(v)) for k, v in signed))
    base = "&".join(["POST", _enc("https://1234567-sb1.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql"),
                     _enc(norm)])
    expected = base64.b64encode(hmac.new(b"cs-test&ts-test", base.encode(), hashlib.sha256).digest()).decode()
    assert params["oauth_signature"] == expected
    # every request gets a fresh nonce
    again = requests.Request("GET", url, auth=auth.requests_auth()).prepare().headers["Authorization"]
    again_text = again.decode() if isinstance(again, bytes) else again
    assert "oauth_nonce" in again_text and again_text != header


def test_tba_names_what_is_missing() -> None:
    with pytest.raises(ConfigurationError, match="TTNS_NETSUITE_TOKEN_SECRET"):
        TokenBasedAuth(realm="1", consumer_key="a", consumer_secret="b", token_id="c", token_secret="")

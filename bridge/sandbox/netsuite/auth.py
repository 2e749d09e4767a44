"""Authentication as NetSuite verifies it: OAuth 2.0 client credentials (JWT assertion) and TBA.

* Token endpoint: the JWT assertion must be signed PS256/PS384/PS512/ES256/ES384/ES512 (NetSuite
  refuses RSA PKCS#1 v1.5 — RS256 — since March 2025) with the private key of a certificate mapped
  to the integration; ``kid`` = certificate id, ``iss`` = client id, ``aud`` = the token endpoint,
  ``exp - iat`` ≤ 60 minutes, ``scope`` ⊆ the integration's scopes. Access tokens live 60 minutes.
* TBA: OAuth 1.0a, HMAC-SHA256, the RFC 5849 base string computed here; ``realm`` = account id in
  upper case with ``_SB1``; timestamp within ±5 minutes; a nonce is single-use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import jwt
from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from .config import NetSuiteSandboxConfig, OAuth2Client, TbaToken, account_host_prefix
from .errors import invalid_login

JWT_ALGORITHMS = ("PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_PATH = "/services/rest/auth/oauth2/v1/token"  # noqa: S105 - a URL path, not a secret


@dataclass(frozen=True)
class Principal:
    """Who a request runs as."""

    method: str  # "oauth2" | "tba"
    client: str
    scopes: frozenset[str]
    role: str
    entity: str


class TokenError(Exception):
    """An OAuth 2.0 token-endpoint error (RFC 6749 §5.2 shape)."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def _public_key(pem: str) -> Any:
    data = pem.encode()
    if b"BEGIN CERTIFICATE" in data:
        return x509.load_pem_x509_certificate(data).public_key()
    return load_pem_public_key(data)


def rfc5849_encode(value: str) -> str:
    return quote(value, safe="-._~")


def tba_base_string(method: str, url: str, params: list[tuple[str, str]]) -> str:
    """RFC 5849 §3.4.1 signature base string; ``params`` excludes ``realm`` and ``oauth_signature``."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    base_uri = f"{scheme}://{netloc}{parts.path or '/'}"
    encoded = sorted((rfc5849_encode(k), rfc5849_encode(v)) for k, v in params)
    normalized = "&".join(f"{k}={v}" for k, v in encoded)
    return "&".join([method.upper(), rfc5849_encode(base_uri), rfc5849_encode(normalized)])


def tba_signature(base_string: str, consumer_secret: str, token_secret: str) -> str:
    key = f"{rfc5849_encode(consumer_secret)}&{rfc5849_encode(token_secret)}".encode()
    return base64.b64encode(hmac.new(key, base_string.encode(), hashlib.sha256).digest()).decode()


def parse_oauth_header(header: str) -> dict[str, str]:
    if not header[:6].lower() == "oauth ":
        raise ValueError("not an OAuth header")
    out: dict[str, str] = {}
    for raw in header[6:].split(","):
        part = raw.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            raise ValueError("malformed OAuth header")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        out[unquote(key.strip())] = unquote(value)
    return out


class Authenticator:
    """Issues and checks credentials for one sandbox account. Thread-safe."""

    def __init__(self, config: NetSuiteSandboxConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[Principal, float]] = {}
        self._nonces: dict[tuple[str, str, str], float] = {}

    # -- OAuth 2.0 -----------------------------------------------------------------------------
    def token_audiences(self, request_url: str) -> list[str]:
        host = account_host_prefix(self.config.account_id)
        return [f"https://{host}.suitetalk.api.netsuite.com{TOKEN_PATH}", request_url.split("?", maxsplit=1)[0]]

    def issue_token(self, form: dict[str, str], request_url: str) -> dict[str, str]:
        if form.get("grant_type") != "client_credentials":
            raise TokenError("unsupported_grant_type", "grant_type must be client_credentials")
        if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
            raise TokenError("invalid_request", "client_assertion_type must be the JWT bearer type")
        assertion = form.get("client_assertion") or ""
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise TokenError("invalid_request", "client_assertion is not a JWT") from None
        alg = header.get("alg")
        if alg not in JWT_ALGORITHMS:
            raise TokenError("invalid_grant", f"unsupported signature algorithm {alg!r}; use PS256/ES256 family")
        client, key = self._certificate(str(header.get("kid") or ""))
        now = self.clock()
        try:
            claims = jwt.decode(
                assertion,
                key=key,
                algorithms=[alg],
                audience=self.token_audiences(request_url),
                issuer=client.client_id,
                options={"require": ["exp", "iat", "iss", "aud"]},
                leeway=0,
            )
        except jwt.ExpiredSignatureError:
            raise TokenError("invalid_grant", "the assertion has expired") from None
        except jwt.PyJWTError as exc:
            raise TokenError("invalid_grant", f"the assertion was refused: {type(exc).__name__}") from None
        iat, exp = float(claims["iat"]), float(claims["exp"])
        if exp - iat > 3600 or iat > now + 60:
            raise TokenError("invalid_grant", "exp must be at most 60 minutes after iat, iat not in the future")
        if exp <= now:
            raise TokenError("invalid_grant", "the assertion has expired")
        raw_scope = claims.get("scope")
        scopes = self._scopes(raw_scope)
        if not scopes or not scopes <= set(client.scopes):
            raise TokenError("invalid_scope", "scope must be a non-empty subset of the integration's scopes")
        token = secrets.token_urlsafe(48)
        principal = Principal("oauth2", client.client_id, frozenset(scopes), client.role, client.entity)
        ttl = self.config.token_ttl_seconds
        with self._lock:
            self._tokens[token] = (principal, now + ttl)
            for t, (_, expires) in list(self._tokens.items()):
                if expires <= now:
                    del self._tokens[t]
        return {"access_token": token, "expires_in": str(ttl), "token_type": "bearer"}

    @staticmethod
    def _scopes(raw: Any) -> set[str]:
        if isinstance(raw, list):
            return {str(s).strip() for s in raw if str(s).strip()}
        if isinstance(raw, str):
            return {s.strip() for s in raw.replace(" ", ",").split(",") if s.strip()}
        return set()

    def _certificate(self, kid: str) -> tuple[OAuth2Client, Any]:
        for client in self.config.oauth2_clients:
            pem = client.certificates.get(kid)
            if pem is not None:
                return client, _public_key(pem)
        raise TokenError("invalid_grant", "unknown certificate id (kid)")

    def bearer(self, token: str, scope: str) -> Principal:
        with self._lock:
            found = self._tokens.get(token)
        if found is None:
            raise invalid_login()
        principal, expires = found
        if expires <= self.clock() or scope not in principal.scopes:
            raise invalid_login()
        return principal

    # -- TBA -----------------------------------------------------------------------------------
    def tba(self, header: str, method: str, url: str, form: list[tuple[str, str]]) -> Principal:
        try:
            params = parse_oauth_header(header)
        except ValueError:
            raise invalid_login() from None
        required = (
            "oauth_consumer_key",
            "oauth_token",
            "oauth_signature_method",
            "oauth_timestamp",
            "oauth_nonce",
            "oauth_signature",
        )
        if any(not params.get(k) for k in required):
            raise invalid_login()
        if params.get("realm") != self.config.realm:
            raise invalid_login()
        if params["oauth_signature_method"] != "HMAC-SHA256" or params.get("oauth_version", "1.0") != "1.0":
            raise invalid_login()
        cred = self._tba_token(params["oauth_consumer_key"], params["oauth_token"])
        try:
            ts = int(params["oauth_timestamp"])
        except ValueError:
            raise invalid_login() from None
        now = self.clock()
        tolerance = self.config.tba_timestamp_tolerance_seconds
        if abs(now - ts) > tolerance:
            raise invalid_login()
        query = parse_qsl(urlsplit(url).query, keep_blank_values=True)
        signed = [(k, v) for k, v in params.items() if k not in ("realm", "oauth_signature")]
        base = tba_base_string(method, url, signed + query + form)
        expected = tba_signature(base, cred.consumer_secret, cred.token_secret)
        if not hmac.compare_digest(expected, params["oauth_signature"]):
            raise invalid_login()
        nonce_key = (cred.consumer_key, cred.token_id, params["oauth_nonce"])
        with self._lock:
            if nonce_key in self._nonces:
                raise invalid_login()
            self._nonces[nonce_key] = now
            if len(self._nonces) > 10000:
                for k, seen in list(self._nonces.items()):
                    if seen < now - 2 * tolerance:
                        del self._nonces[k]
        scopes = frozenset({"rest_webservices", "restlets", "suite_analytics"})
        return Principal("tba", cred.consumer_key, scopes, cred.role, cred.entity)

    def _tba_token(self, consumer_key: str, token_id: str) -> TbaToken:
        for cred in self.config.tba_tokens:
            if hmac.compare_digest(cred.consumer_key, consumer_key) and hmac.compare_digest(cred.token_id, token_id):
                return cred
        raise invalid_login()

    # -- dispatch ------------------------------------------------------------------------------
    def authenticate(
        self, authorization: str | None, method: str, url: str, form: list[tuple[str, str]], scope: str
    ) -> Principal:
        if not authorization:
            raise invalid_login()
        if authorization[:7].lower() == "bearer ":
            return self.bearer(authorization[7:].strip(), scope)
        if authorization[:6].lower() == "oauth ":
            return self.tba(authorization, method, url, form)
        raise invalid_login()

"""NetSuite authentication: OAuth 2.0 client credentials (M2M) and token-based authentication (TBA).

* OAuth 2.0 (the primary path; Oracle stops new TBA integrations from 2027.1): a JWT assertion signed
  PS256 (RSA key) or ES256 (EC P-256 key) with the private key of the certificate mapped on the
  "OAuth 2.0 Client Credentials (M2M) Setup" page, header ``kid`` = that certificate id; claims
  ``iss`` = client id, ``scope`` = ``rest_webservices,restlets``, ``aud`` = the token endpoint,
  ``iat``/``exp``. The access token (60 minutes, no refresh token) is cached until shortly before it
  expires, shared by every thread, and fetched again when NetSuite answers 401.
* TBA (OAuth 1.0a, HMAC-SHA256, ``realm`` = account id upper case with ``_SB1``) via
  requests-oauthlib, for accounts that already have an integration on it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from requests.auth import AuthBase

from bridge.errors import ConfigurationError, Evidence, FatalError, RetriableError
from bridge.mapping.wire import NonFiniteNumber, loads_strict
from bridge.netsuite import errors as ns_errors

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEFAULT_SCOPES = ("rest_webservices", "restlets")
ASSERTION_LIFETIME = 300  # seconds; NetSuite allows at most 60 minutes
REFRESH_MARGIN = 120  # fetch a new access token this long before the old one expires

Algorithm = Literal["PS256", "ES256"]


class NetSuiteAuth(Protocol):
    """What the client needs from an authentication method."""

    mode: str

    def requests_auth(self) -> AuthBase:
        """A requests auth object that signs one request (call it per attempt: nonces are single use)."""
        ...

    def unauthorized(self, used: AuthBase) -> bool:
        """NetSuite answered 401 to a request signed with ``used``; True if a retry may succeed."""
        ...

    def describe(self) -> dict[str, str]:
        """Non-secret facts for ``ttns doctor``."""
        ...


# ---------------------------------------------------------------------------------------------
# OAuth 2.0 client credentials
# ---------------------------------------------------------------------------------------------
def load_private_key(path: Path | str) -> Any:
    """Read a PEM private key (RSA or EC), with a clear error when it is missing or not a key."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ConfigurationError(
            f"TTNS_NETSUITE_PRIVATE_KEY_FILE {p} cannot be read ({type(exc).__name__})"
        ) from None
    try:
        return load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise ConfigurationError(
            f"TTNS_NETSUITE_PRIVATE_KEY_FILE {p} is not an unencrypted PEM private key ({type(exc).__name__})"
        ) from None


def algorithm_for(key: Any) -> Algorithm:
    if isinstance(key, rsa.RSAPrivateKey):
        if key.key_size < 2048:
            raise ConfigurationError("the certificate's RSA key must be at least 2048 bits (NetSuite refuses less)")
        return "PS256"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        if key.curve.name != "secp256r1":
            raise ConfigurationError(
                f"the certificate's EC key is on {key.curve.name}; ES256 needs P-256 (secp256r1)"
            )
        return "ES256"
    raise ConfigurationError("the certificate's private key must be RSA (PS256) or EC P-256 (ES256)")


@dataclass(frozen=True)
class AccessToken:
    value: str
    expires_at: float  # clock seconds
    refresh_at: float  # a little earlier, so no request leaves with a token about to expire

    @classmethod
    def issued(cls, value: str, now: float, ttl: float) -> AccessToken:
        return cls(value, now + ttl, now + ttl - min(REFRESH_MARGIN, ttl / 4))

    def fresh(self, now: float) -> bool:
        return now < self.refresh_at


class _Bearer(AuthBase):
    def __init__(self, token: AccessToken) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token.value}"
        return r


TokenRecorder = Callable[[int | None, float, str, str | None], None]  # status, seconds, outcome, code


class OAuth2ClientCredentials:
    """Client-credentials grant with a JWT assertion; one cached access token per instance."""

    mode = "oauth2"

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        certificate_id: str,
        private_key: Any,
        scopes: tuple[str, ...] = DEFAULT_SCOPES,
        audience: str | None = None,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = 30.0,
        record: TokenRecorder | None = None,
    ) -> None:
        if not client_id:
            raise ConfigurationError("TTNS_NETSUITE_CLIENT_ID is not set (the integration record's client id)")
        if not certificate_id:
            raise ConfigurationError(
                "TTNS_NETSUITE_CERTIFICATE_ID is not set (from Setup > Integration > OAuth 2.0 Client Credentials "
                "(M2M) Setup)"
            )
        self.token_url = token_url
        self.client_id = client_id
        self.certificate_id = certificate_id
        self.algorithm: Algorithm = algorithm_for(private_key)
        self._key = private_key
        self.scopes = scopes
        self.audience = audience or token_url
        self._session = session or requests.Session()
        self._clock = clock
        self._timeout = timeout
        self._record = record
        self._lock = threading.Lock()
        self._token: AccessToken | None = None
        self.fetches = 0

    def assertion(self, now: float | None = None) -> str:
        """The signed JWT sent to the token endpoint."""
        iat = int(self._clock() if now is None else now)
        claims = {
            "iss": self.client_id,
            "scope": ",".join(self.scopes),
            "aud": self.audience,
            "iat": iat,
            "exp": iat + ASSERTION_LIFETIME,
        }
        headers = {"kid": self.certificate_id, "typ": "JWT", "alg": self.algorithm}
        return jwt.encode(claims, self._key, algorithm=self.algorithm, headers=headers)

    def token(self) -> AccessToken:
        """The cached access token, fetched when missing or about to expire (one fetch at a time)."""
        with self._lock:
            if self._token is not None and self._token.fresh(self._clock()):
                return self._token
            self._token = self._fetch()
            return self._token

    def invalidate(self, token: AccessToken | None = None) -> None:
        """Forget ``token`` (or whatever is cached) so the next call fetches a new one."""
        with self._lock:
            if token is None or self._token == token:
                self._token = None

    def requests_auth(self) -> AuthBase:
        return _Bearer(self.token())

    def unauthorized(self, used: AuthBase) -> bool:
        token = used.token if isinstance(used, _Bearer) else None
        self.invalidate(token)
        return True

    def describe(self) -> dict[str, str]:
        return {
            "auth": "oauth2 (client credentials, M2M)",
            "client_id": _abbrev(self.client_id),
            "certificate_id": self.certificate_id,
            "algorithm": self.algorithm,
            "scopes": ",".join(self.scopes),
        }

    def role(self) -> str | None:
        """The role id NetSuite put in the access token (``sub`` = role;entity), when it is a JWT."""
        tok = self.token()
        try:
            claims = jwt.decode(tok.value, options={"verify_signature": False})
        except jwt.PyJWTError:
            return None
        sub = str(claims.get("sub") or "")
        return sub.split(";", maxsplit=1)[0] or None

    def _fetch(self) -> AccessToken:
        started = time.monotonic()
        now = self._clock()
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": self.assertion(now),
        }
        try:
            resp = self._session.post(self.token_url, data=form, timeout=self._timeout,
                                      headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            self._note(None, started, "retry", None)
            raise RetriableError(
                f"NetSuite token endpoint unreachable: {type(exc).__name__}",
                Evidence.of("netsuite", "oauth2.token", None),
            ) from None
        if resp.status_code != 200:
            parsed = ns_errors.parse(resp.status_code, resp.text)
            self.fetches += 1
            evidence = Evidence.of("netsuite", "oauth2.token", resp.status_code, parsed.code, None, resp.text)
            if resp.status_code >= 500 or resp.status_code == 429:
                self._note(resp.status_code, started, "retry", parsed.code)
                raise RetriableError(f"NetSuite token endpoint: HTTP {resp.status_code}", evidence)
            self._note(resp.status_code, started, "fatal", parsed.code)
            raise ConfigurationError(
                f"NetSuite refused the OAuth 2.0 client-credentials grant ({parsed.code or resp.status_code}: "
                f"{parsed.message}). Check TTNS_NETSUITE_CLIENT_ID, TTNS_NETSUITE_CERTIFICATE_ID and that the "
                "certificate is mapped to this integration and role (docs/netsuite.md)",
                evidence,
            )
        self.fetches += 1
        try:
            data = loads_strict(resp.text)
        except NonFiniteNumber as exc:
            # NaN / Infinity are not JSON: a fault of the answer that asking again will not cure.
            self._note(resp.status_code, started, "fatal", None)
            raise FatalError(
                f"NetSuite token endpoint: {exc} (POST {urlsplit(self.token_url).path})",
                Evidence.of("netsuite", "oauth2.token", resp.status_code),
            ) from None
        except ValueError:
            data = None
        try:
            value = str(data["access_token"])
            ttl = float(data.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError):
            self._note(resp.status_code, started, "fatal", None)
            raise RetriableError(
                "NetSuite token endpoint answered without an access token",
                Evidence.of("netsuite", "oauth2.token", resp.status_code),
            ) from None
        self._note(resp.status_code, started, "ok", None)
        return AccessToken.issued(value, now, ttl)

    def _note(self, status: int | None, started: float, outcome: str, code: str | None) -> None:
        if self._record is not None:
            self._record(status, time.monotonic() - started, outcome, code)


# ---------------------------------------------------------------------------------------------
# TBA
# ---------------------------------------------------------------------------------------------
class TokenBasedAuth:
    """OAuth 1.0a HMAC-SHA256 with ``realm`` = the normalised account id."""

    mode = "tba"

    def __init__(
        self, *, realm: str, consumer_key: str, consumer_secret: str, token_id: str, token_secret: str
    ) -> None:
        missing = [
            name for name, value in (
                ("TTNS_NETSUITE_CONSUMER_KEY", consumer_key), ("TTNS_NETSUITE_CONSUMER_SECRET", consumer_secret),
                ("TTNS_NETSUITE_TOKEN_ID", token_id), ("TTNS_NETSUITE_TOKEN_SECRET", token_secret),
            ) if not value
        ]
        if missing:
            raise ConfigurationError(f"TBA needs {', '.join(missing)} (from the integration record and access token)")
        self.realm = realm
        self.consumer_key = consumer_key
        self._consumer_secret = consumer_secret
        self.token_id = token_id
        self._token_secret = token_secret

    def requests_auth(self) -> AuthBase:
        from requests_oauthlib import OAuth1

        auth: AuthBase = OAuth1(
            client_key=self.consumer_key,
            client_secret=self._consumer_secret,
            resource_owner_key=self.token_id,
            resource_owner_secret=self._token_secret,
            signature_method="HMAC-SHA256",
            signature_type="AUTH_HEADER",
            realm=self.realm,
        )
        return auth

    def unauthorized(self, used: AuthBase) -> bool:
        return False  # a TBA signature does not expire; a 401 is the credentials or the load

    def describe(self) -> dict[str, str]:
        return {"auth": "tba (OAuth 1.0a HMAC-SHA256)", "realm": self.realm,
                "consumer_key": _abbrev(self.consumer_key), "token_id": _abbrev(self.token_id)}


def _abbrev(value: str) -> str:
    """Enough of an identifier to recognise it, not enough to matter."""
    return value if len(value) <= 8 else f"{value[:4]}…{value[-4:]}"

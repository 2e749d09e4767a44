"""The NetSuite account id and the URLs derived from it.

NetSuite writes one account in two ways: the TBA ``realm`` (and ``runtime.accountId``) is upper
case with an underscore (``1234567_SB1``); host names are lower case with a hyphen
(``1234567-sb1.suitetalk.api.netsuite.com``). Admins paste either, so both are accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bridge.errors import ConfigurationError

REST_PREFIX = "/services/rest"
TOKEN_PATH = f"{REST_PREFIX}/auth/oauth2/v1/token"
RECORD_PREFIX = f"{REST_PREFIX}/record/v1"
SUITEQL_PATH = f"{REST_PREFIX}/query/v1/suiteql"
RESTLET_PATH = "/app/site/hosting/restlet.nl"

# 1234567, 1234567_SB1, 1234567-sb2, TSTDRV1234567, 1234567_RP (release preview)
_ACCOUNT = re.compile(r"^[A-Za-z0-9]+(?:[_-][A-Za-z]+[0-9]*)?$")


def realm_of(account: str) -> str:
    """``1234567-sb1`` → ``1234567_SB1`` (the TBA realm and ``runtime.accountId``)."""
    return account.strip().upper().replace("-", "_")


def host_of(account: str) -> str:
    """``1234567_SB1`` → ``1234567-sb1`` (the host-name form)."""
    return account.strip().lower().replace("_", "-")


@dataclass(frozen=True)
class Account:
    """One NetSuite account: its realm, host prefix and base URLs."""

    realm: str
    host: str
    rest_base: str  # origin serving /services/rest/…, no trailing slash
    restlet_url: str  # full URL of restlet.nl

    @classmethod
    def parse(cls, account: str, *, rest_base: str = "", restlet_base: str = "") -> Account:
        """Normalise ``account`` and derive the base URLs (``rest_base``/``restlet_base`` override them)."""
        raw = (account or "").strip()
        if not raw:
            raise ConfigurationError("TTNS_NETSUITE_ACCOUNT is not set (e.g. 1234567 or 1234567_SB1)")
        if not _ACCOUNT.match(raw):
            raise ConfigurationError(
                f"TTNS_NETSUITE_ACCOUNT {raw!r} is not a NetSuite account id (e.g. 1234567 or 1234567_SB1)"
            )
        host = host_of(raw)
        return cls(
            realm=realm_of(raw),
            host=host,
            rest_base=_rest_origin(rest_base) or f"https://{host}.suitetalk.api.netsuite.com",
            restlet_url=_restlet_url(restlet_base) or f"https://{host}.restlets.api.netsuite.com{RESTLET_PATH}",
        )

    @property
    def token_url(self) -> str:
        return self.rest_base + TOKEN_PATH

    @property
    def record_base(self) -> str:
        return self.rest_base + RECORD_PREFIX

    @property
    def suiteql_url(self) -> str:
        return self.rest_base + SUITEQL_PATH

    def same_account(self, other: str) -> bool:
        """Whether ``other`` (either spelling) names this account."""
        return bool(other) and realm_of(other) == self.realm


def _rest_origin(value: str) -> str:
    """Accept an override with or without ``/services/rest`` at its end."""
    v = (value or "").strip().rstrip("/")
    if v.endswith(REST_PREFIX):
        v = v[: -len(REST_PREFIX)]
    return v


def _restlet_url(value: str) -> str:
    """Accept an origin or the full ``…/restlet.nl`` URL."""
    v = (value or "").strip().rstrip("/")
    if not v or v.endswith(".nl"):
        return v
    return v + RESTLET_PATH

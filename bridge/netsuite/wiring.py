"""Building the NetSuite client from ``Settings`` (``bridge.bootstrap`` calls ``build_client`` on first use;
missing settings raise the ``ConfigurationError`` that names them, then)."""

from __future__ import annotations

import logging
from typing import Any

import requests

from bridge.errors import ConfigurationError
from bridge.netsuite.account import TOKEN_PATH, Account
from bridge.netsuite.auth import NetSuiteAuth, OAuth2ClientCredentials, TokenBasedAuth, load_private_key
from bridge.netsuite.client import CallRecorder, NetSuiteClient, RetryPolicy
from bridge.netsuite.governor import Governor, shared_governor
from bridge.settings import Settings

log = logging.getLogger("bridge.netsuite")


def account_of(settings: Settings) -> Account:
    return Account.parse(settings.netsuite_account, rest_base=settings.netsuite_rest_base,
                         restlet_base=settings.netsuite_restlet_base)


def build_auth(
    settings: Settings, account: Account, *, session: requests.Session | None = None,
    calls: CallRecorder | None = None,
) -> NetSuiteAuth:
    """The configured authentication (``TTNS_NETSUITE_AUTH``), with a clear error for what is missing."""
    if settings.netsuite_auth == "tba":
        return TokenBasedAuth(
            realm=account.realm,
            consumer_key=settings.netsuite_consumer_key,
            consumer_secret=_secret(settings.netsuite_consumer_secret),
            token_id=settings.netsuite_token_id,
            token_secret=_secret(settings.netsuite_token_secret),
        )
    if settings.netsuite_private_key_file is None:
        raise ConfigurationError(
            "TTNS_NETSUITE_PRIVATE_KEY_FILE is not set (the PEM private key of the certificate mapped for OAuth 2.0 "
            "client credentials)"
        )

    def record_token(status: int | None, seconds: float, outcome: str, code: str | None) -> None:
        if calls is None:
            return
        from bridge.logs import correlation_id, current_job

        job_id, entity = current_job()
        try:
            calls.record(system="netsuite", operation="oauth2.token", method="POST", path=TOKEN_PATH,
                         status=status, duration_ms=int(seconds * 1000), outcome=outcome, code=code, entity=entity,
                         job_id=job_id, correlation_id=correlation_id())
        except Exception:  # the call log must never break authentication
            log.exception("recording the NetSuite token call failed")

    return OAuth2ClientCredentials(
        token_url=account.token_url,
        client_id=settings.netsuite_client_id,
        certificate_id=settings.netsuite_certificate_id,
        private_key=load_private_key(settings.netsuite_private_key_file),
        session=session,
        timeout=min(30.0, settings.netsuite_timeout_seconds),
        record=record_token,
    )


def build_client(
    settings: Settings,
    *,
    calls: CallRecorder | None = None,
    governor: Governor | None = None,
    session: requests.Session | None = None,
    retry: RetryPolicy | None = None,
    **kwargs: Any,
) -> NetSuiteClient:
    """A client for the configured account; every client of one account in the process shares a governor."""
    account = account_of(settings)
    auth = build_auth(settings, account, session=session, calls=calls)
    return NetSuiteClient(
        account=account,
        auth=auth,
        governor=governor or shared_governor(account.realm, settings.netsuite_concurrency),
        calls=calls,
        timeout=settings.netsuite_timeout_seconds,
        retry=retry or RetryPolicy(),
        restlet_script=settings.netsuite_restlet_script,
        restlet_deploy=settings.netsuite_restlet_deploy,
        session=session,
        **kwargs,
    )


def _secret(value: Any) -> str:
    return "" if value is None else str(value.get_secret_value())

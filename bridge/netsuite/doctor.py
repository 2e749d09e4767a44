"""``ttns doctor``'s NetSuite checks: configuration, authentication, a SuiteQL probe, the RESTlet."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bridge.check import Check
from bridge.errors import BridgeError, ConfigurationError

if TYPE_CHECKING:
    from bridge.bootstrap import App

PROBE = "SELECT id FROM currency"


def doctor_checks(container: App) -> Iterator[Check]:
    from bridge.netsuite.wiring import account_of

    s = container.settings
    if not s.netsuite_account:
        yield Check("netsuite", False, "TTNS_NETSUITE_ACCOUNT is not set",
                    "set TTNS_NETSUITE_ACCOUNT and the credentials (docs/netsuite.md)")
        return
    try:
        account = account_of(s)
        client = container.netsuite()
    except ConfigurationError as exc:
        yield Check("netsuite config", False, str(exc), "see docs/netsuite.md (going live)")
        return
    facts = client.auth.describe()
    yield Check(
        "netsuite config", True,
        f"account {account.realm} ({account.rest_base}); auth {facts.get('auth', s.netsuite_auth)}; "
        f"concurrency share {s.netsuite_concurrency}; write path {s.netsuite_write_path}",
    )
    role = _role(client)
    try:
        page = client.suiteql_page(PROBE, limit=1)
    except BridgeError as exc:
        yield Check("netsuite suiteql", False, f"{type(exc).__name__}: {exc}", _fix_for(exc))
        return
    yield Check("netsuite suiteql", True, f"probe answered ({page.count} row); role {role or 'unknown'}")
    if s.netsuite_write_path == "restlet":
        try:
            client.lookup_orders(["TTNS-DOCTOR-PROBE"])
        except BridgeError as exc:
            yield Check("netsuite restlet", False, f"{s.netsuite_restlet_script}/{s.netsuite_restlet_deploy}: {exc}",
                        "deploy the SuiteCloud project (suitecloud/) and give the role access to the RESTlet "
                        "deployment")
            return
        yield Check("netsuite restlet", True, f"{s.netsuite_restlet_script}/{s.netsuite_restlet_deploy} answers")
    if not s.netsuite_events_secret:
        yield Check("netsuite events", False, "TTNS_NETSUITE_EVENTS_SECRET is not set: /netsuite/events refuses "
                    "everything", "set it to the value of the custsecret_ttns_events API secret", warning=True)


def _role(client: Any) -> str | None:
    role = getattr(client.auth, "role", None)
    if not callable(role):
        return None
    try:
        value = role()
    except BridgeError:
        return None
    return None if value is None else str(value)


def _fix_for(exc: BridgeError) -> str:
    if isinstance(exc, ConfigurationError):
        return ("check the credentials, that the integration record is enabled, the certificate is mapped (OAuth 2.0) "
                "or the token is active (TBA), and the role has 'REST Web Services' and 'Log in using Access Tokens' "
                "/ OAuth 2.0 permissions")
    return "the SuiteQL probe failed: check the role's permissions (Lists > Currency, SuiteAnalytics Workbook)"

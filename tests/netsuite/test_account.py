from __future__ import annotations

import pytest

from bridge.errors import ConfigurationError
from bridge.netsuite.account import Account


@pytest.mark.parametrize(
    ("given", "realm", "host"),
    [
        ("1234567", "1234567", "1234567"),
        ("1234567_SB1", "1234567_SB1", "1234567-sb1"),
        ("1234567-sb1", "1234567_SB1", "1234567-sb1"),
        ("1234567_sb2", "1234567_SB2", "1234567-sb2"),
        (" 1234567-SB1 ", "1234567_SB1", "1234567-sb1"),
        ("TSTDRV1234567", "TSTDRV1234567", "tstdrv1234567"),
        ("1234567_RP", "1234567_RP", "1234567-rp"),
    ],
)
def test_account_is_normalised_for_realm_and_hosts(given: str, realm: str, host: str) -> None:
    a = Account.parse(given)
    assert (a.realm, a.host) == (realm, host)
    assert a.rest_base == f"https://{host}.suitetalk.api.netsuite.com"
    assert a.token_url == f"https://{host}.suitetalk.api.netsuite.com/services/rest/auth/oauth2/v1/token"
    assert a.record_base.endswith("/services/rest/record/v1")
    assert a.suiteql_url == f"https://{host}.suitetalk.api.netsuite.com/services/rest/query/v1/suiteql"
    assert a.restlet_url == f"https://{host}.restlets.api.netsuite.com/app/site/hosting/restlet.nl"


@pytest.mark.parametrize("bad", ["", "   ", "1234567 SB1", "https://1234567.app.netsuite.com", "12_34_56", "a/b"])
def test_a_bad_account_is_a_configuration_error(bad: str) -> None:
    with pytest.raises(ConfigurationError, match="TTNS_NETSUITE_ACCOUNT"):
        Account.parse(bad)


@pytest.mark.parametrize(
    ("rest", "restlet", "rest_base", "restlet_url"),
    [
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000",
         "http://127.0.0.1:9000", "http://127.0.0.1:9000/app/site/hosting/restlet.nl"),
        ("http://h:1/services/rest/", "http://h:2/app/site/hosting/restlet.nl",
         "http://h:1", "http://h:2/app/site/hosting/restlet.nl"),
    ],
)
def test_base_urls_can_be_overridden(rest: str, restlet: str, rest_base: str, restlet_url: str) -> None:
    a = Account.parse("1234567_SB1", rest_base=rest, restlet_base=restlet)
    assert (a.rest_base, a.restlet_url) == (rest_base, restlet_url)
    assert a.token_url == rest_base + "/services/rest/auth/oauth2/v1/token"
    assert a.realm == "1234567_SB1"


def test_same_account_accepts_either_spelling() -> None:
    a = Account.parse("1234567-sb1")
    assert a.same_account("1234567_SB1") and a.same_account("1234567-SB1")
    assert not a.same_account("1234567") and not a.same_account("")

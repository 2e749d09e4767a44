"""``ttns doctor``'s NetSuite checks and ``ttns netsuite …`` against the sandbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner

from bridge.bootstrap import build
from bridge.cli import main
from bridge.doctor import Check
from bridge.netsuite.doctor import doctor_checks
from bridge.sandbox.netsuite.seed import eu_seed, uk_seed
from bridge.settings import Settings
from tests.netsuite.sandbox_support import Sandbox, running_sandbox


@pytest.fixture(scope="module")
def _sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with running_sandbox(tmp_path_factory.mktemp("netsuite-keys"), run_scripts=True) as sandbox:
        yield sandbox


@pytest.fixture
def ns(_sandbox: Sandbox) -> Sandbox:
    _sandbox.reset()
    # as the sandbox world does: the overlay's orders.yaml markets.GB and markets.DE name them
    _sandbox.sb.seed(uk_seed())
    _sandbox.sb.seed(eu_seed())
    return _sandbox


def checks(settings: Settings, sqlite_url: str) -> dict[str, Check]:
    container = build(settings.model_copy(update={"database_url": sqlite_url}), areas=())
    try:
        return {c.name: c for c in doctor_checks(container)}
    finally:
        container.close()


def test_doctor_reports_account_auth_role_and_concurrency(ns: Sandbox, sqlite_url: str) -> None:
    got = checks(ns.settings(netsuite_concurrency=4, netsuite_write_path="restlet"), sqlite_url)
    cfg = got["netsuite config"]
    assert cfg.ok and "1234567_SB1" in cfg.detail and "oauth2" in cfg.detail and "concurrency share 4" in cfg.detail
    assert got["netsuite suiteql"].ok and "role" in got["netsuite suiteql"].detail
    assert got["netsuite restlet"].ok
    assert not got["netsuite events"].ok and got["netsuite events"].warning  # secret not set: a warning


def test_doctor_fails_clearly_on_refused_credentials(ns: Sandbox, sqlite_url: str) -> None:
    got = checks(ns.settings(netsuite_certificate_id="kid-unknown"), sqlite_url)
    probe = got["netsuite suiteql"]
    assert not probe.ok and not probe.warning and "CERTIFICATE_ID" in probe.detail and probe.fix


def test_doctor_without_configuration(sqlite_url: str, tmp_path: Any) -> None:
    got = checks(Settings(), sqlite_url)
    assert not got["netsuite"].ok and "TTNS_NETSUITE_ACCOUNT" in got["netsuite"].detail
    got = checks(Settings(netsuite_account="1234567", netsuite_client_id="x", netsuite_certificate_id="y",
                          netsuite_private_key_file=tmp_path / "missing.pem"), sqlite_url)
    assert not got["netsuite config"].ok and "cannot be read" in got["netsuite config"].detail


def env_for(settings: Settings, sqlite_url: str) -> dict[str, str]:
    out = {"TTNS_DATABASE_URL": sqlite_url}
    for name in ("netsuite_account", "netsuite_auth", "netsuite_client_id", "netsuite_certificate_id",
                 "netsuite_private_key_file", "netsuite_rest_base", "netsuite_restlet_base"):
        out[f"TTNS_{name.upper()}"] = str(getattr(settings, name))
    return out


def test_cli_query_and_get(ns: Sandbox, sqlite_url: str) -> None:
    runner = CliRunner()
    env = env_for(ns.settings(), sqlite_url)
    res = runner.invoke(main, ["netsuite", "query", "SELECT id, itemid FROM item ORDER BY id", "--json",
                               "--limit", "3"], env=env)
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.output.splitlines()]
    assert len(rows) == 3 and {"id", "itemid"} <= set(rows[0])
    res = runner.invoke(main, ["netsuite", "get", "customer", "CUST-TTS", "--eid"], env=env)
    assert res.exit_code == 0 and json.loads(res.output)["companyName"] == "TikTok Shop Customers"
    res = runner.invoke(main, ["netsuite", "get", "customer", "999999"], env=env)
    assert res.exit_code == 1 and "no customer 999999" in res.output
    res = runner.invoke(main, ["netsuite", "query", "SELECT nonsense FROM nowhere"], env=env)
    assert res.exit_code == 1 and "Error" in res.output

# a filled-in returns.yaml naming an account the sandbox does not have
MISSING_ACCOUNT = ("version: 1\ndefaults:\n  refund: {document: cash_refund, account: 'eid:ACCT-NOPE', "
                   "payment_option: 'eid:PM-TTS'}\n")


def test_specs_check_online_refuses_placeholders_and_looks_up_the_rest(ns: Sandbox, sqlite_url: str,
                                                                       tmp_path: Any) -> None:
    from tests.support.specs import SHIPPED_SPECS, sandbox_specs_dir

    runner = CliRunner()
    env = env_for(ns.settings(), sqlite_url)
    res = runner.invoke(main, ["specs", "check"], env={**env, "TTNS_SPECS_DIR": str(SHIPPED_SPECS)})
    assert res.exit_code == 1, res.output
    assert "mapping_specs/orders.yaml: defaults.subsidiary: placeholder not filled in" in res.output
    assert "missing" not in res.output  # placeholders are reported, never looked up in NetSuite
    res = runner.invoke(main, ["specs", "check"], env={**env, "TTNS_SPECS_DIR": str(sandbox_specs_dir())})
    assert res.exit_code == 0 and "every NetSuite id the specs name exists" in res.output, res.output
    # a filled-in spec naming a record the account lacks is refused with where it is used
    specs = tmp_path / "mapping_specs"
    specs.mkdir()
    (specs / "returns.yaml").write_text(MISSING_ACCOUNT)
    res = runner.invoke(main, ["specs", "check"], env={**env, "TTNS_SPECS_DIR": str(specs)})
    assert res.exit_code == 1 and "missing account 'eid:ACCT-NOPE'" in res.output and "refund.account" in res.output


def test_doctor_looks_up_the_spec_references(ns: Sandbox, sqlite_url: str, tmp_path: Any) -> None:
    from bridge.flows.doctor_specs import doctor_checks as spec_checks
    from tests.support.specs import sandbox_specs_dir

    def run(specs_dir: Any) -> dict[str, Check]:
        c = build(ns.settings(database_url=sqlite_url, specs_dir=specs_dir), areas=())
        try:
            return {ch.name: ch for ch in spec_checks(c)}
        finally:
            c.close()

    got = run(sandbox_specs_dir())
    assert got["spec references"].ok and got["mapping specs"].ok, got
    specs = tmp_path / "mapping_specs"
    specs.mkdir()
    (specs / "returns.yaml").write_text(MISSING_ACCOUNT)
    ref = run(specs)["spec references"]
    assert not ref.ok and "eid:ACCT-NOPE" in ref.detail and "refund.account" in ref.detail and ref.fix


def test_specs_check_reads_each_clearing_accounts_currency_from_netsuite(ns: Sandbox, sqlite_url: str,
                                                                         tmp_path: Any) -> None:
    """The clearing account's currency read through SuiteQL (``account.currency`` → ``currency.symbol``): the
    sandbox overlay gives the GB market its GBP clearing account (1251) and passes with a US and a GB shop; the
    GB shop on the USD 1250 (the market's key removed) is named with the key and the fix."""
    import shutil

    import yaml

    from bridge.store.db import upgrade
    from bridge.store.repos import Shop
    from tests.support.specs import sandbox_specs_dir

    upgrade(sqlite_url)
    c = build(ns.settings(database_url=sqlite_url), areas=())
    try:
        c.store.shops.upsert(Shop(id="us-1", name="US", region="US"))
        c.store.shops.upsert(Shop(id="gb-1", name="UK", region="GB"))
    finally:
        c.close()
    runner = CliRunner()
    env = env_for(ns.settings(), sqlite_url)
    res = runner.invoke(main, ["specs", "check"], env={**env, "TTNS_SPECS_DIR": str(sandbox_specs_dir())})
    assert res.exit_code == 0 and "every NetSuite id the specs name exists" in res.output, res.output
    specs = tmp_path / "specs"
    shutil.copytree(sandbox_specs_dir(), specs)
    spec = yaml.safe_load((specs / "settlement.yaml").read_text())
    del spec["markets"]["GB"]["clearing_account"]
    (specs / "settlement.yaml").write_text(yaml.safe_dump(spec))
    res = runner.invoke(main, ["specs", "check"], env={**env, "TTNS_SPECS_DIR": str(specs)})
    assert res.exit_code == 1, res.output
    assert ("settlement.yaml: defaults.clearing_account 'eid:ACCT-1250' is a NetSuite bank account in USD, but shop "
            "gb-1 sells in GBP") in res.output and "shops.gb-1.clearing_account" in res.output
    assert "shop us-1" not in res.output

"""The admin's Settings page: the settings in effect with secrets only as set / not set, the specs and
their check, each shop's values with the file and key that set them, the flow switches (the one
per-shop setting in the database) changed from the console and audited; viewers and operators get 403."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from bridge.domain.keys import shop_key
from bridge.settings import Settings, setting_sources
from bridge.web.console import LEAKS_KEY
from tests.console.conftest import PASSWORD, SHOP, Console, Orders, login


def _as(con: Console, username: str, role: str) -> Console:
    con.container.store.users.add(username, PASSWORD, role)
    client = con.app.test_client()
    assert login(client, username, PASSWORD).status_code == 303
    return Console(con.container, con.app, client, con.settings)


def _row(html: str, attr: str) -> str:
    start = html.index(attr)
    return html[start:html.index("</tr>", start)]


def test_the_settings_in_effect_show_secrets_only_as_set_or_not_set(console: Console) -> None:
    s = console.settings
    html = console.html("/console/settings")
    for name in ("tiktok_app_secret", "netsuite_token_secret", "secret_key", "metrics_token", "alert_webhook_url"):
        secret = getattr(s, name).get_secret_value()
        assert secret not in html and secret.split(",")[0] not in html
        assert '<span class="pill ok">set</span>' in _row(html, f'data-setting="{name}"')
    assert "not set" in _row(html, 'data-setting="tiktok_app_secret_previous"')
    assert "1234567_SB1" in _row(html, 'data-setting="netsuite_account"')
    assert "TTNS_NETSUITE_ACCOUNT" in html and "TTNS_WORKER_THREADS" in html
    assert "no configuration file is in use" in html  # the tests set values in code, not in a file
    assert _row(html, 'data-setting="worker_threads"').endswith('<td data-label="From">default</td>')
    assert _row(html, 'data-setting="netsuite_account"').endswith('<td data-label="From">given</td>')
    assert console.app.extensions.get(LEAKS_KEY, 0) == 0  # not scrubbed: the page never held a secret


def test_each_shop_shows_its_values_with_the_file_and_key_and_its_flows_switch_here(console: Console) -> None:
    Orders(console.container)
    c = console.container
    html = unescape(console.html("/console/settings"))
    shop = html[html.index(f'id="shop-{SHOP}"'):]
    assert "Demo shop" in shop[:400]
    for label, where in (("Time zone documents are dated in", "settlement.yaml"),
                         ("Hold window, minutes", "orders.yaml defaults.hold_minutes"),
                         ("Sold-out strategy", "inventory.yaml"), ("Orders written as", "orders.yaml")):
        row = shop[shop.index(label):shop.index("</tr>", shop.index(label))]
        assert where in row, (label, row)
    assert 'name="flow-returns" id="flow-5-' in shop and "checked" in shop[shop.index('name="flow-returns"'):][:60]
    form = {f"flow-{f}": "on" for f in ("orders", "inventory", "catalog", "fulfillment", "settlement", "monitoring")}
    resp = console.post(f"/console/settings/shops/{SHOP}/flows", form)  # returns unticked: off
    assert resp.status_code == 303
    got = c.store.shops.get(SHOP)
    assert got is not None and not got.flow_enabled("returns") and got.flow_enabled("orders")
    (entry,) = [a for a in c.store.audit.list(entity=shop_key(SHOP)) if a["action"] == "shop.flows"]
    assert entry["actor"] == "user:ops" and entry["detail"] == {"enabled": [], "disabled": ["returns"]}
    after = console.html("/console/settings")
    assert 'checked' not in after[after.index(f'name="flow-returns" id="flow-5-{SHOP}"'):][:80]
    assert console.post("/console/settings/shops/nope/flows", form).status_code == 404


def test_the_specs_are_listed_with_their_check_and_checked_against_netsuite_on_demand(console: Console) -> None:
    w = Orders(console.container)  # NetSuite lookups faked: every record the specs name exists
    console.use(w.c)
    html = console.html("/console/settings")
    files = html[html.index('id="spec-files"'):html.index("</table>", html.index('id="spec-files"'))]
    for name in ("orders", "settlement", "inventory"):
        assert f'data-spec="{name}"' in files
    assert "Not checked against NetSuite from the console yet" in html
    assert console.post("/console/settings/specs/check").status_code == 303
    page = unescape(console.html("/console/settings"))
    check = page[page.index('id="specs-check"'):]
    assert "by user:ops" in check and "spec references" in check and "passed" in check[:400]
    (entry,) = [a for a in w.c.store.audit.list(entity="specs") if a["action"] == "specs.check"]
    assert entry["actor"] == "user:ops" and entry["detail"]["ok"] is True


def test_viewers_and_operators_are_refused_on_the_server_and_audited(console: Console) -> None:
    Orders(console.container)
    for name, role in (("vic", "viewer"), ("olga", "operator")):
        other = _as(console, name, role)
        assert other.client.get("/console/settings").status_code == 403
        token = re.search(r'name="csrf_token" value="([^"]+)"', other.client.get("/console/").get_data(as_text=True))
        assert token
        for path in (f"/console/settings/shops/{SHOP}/flows", "/console/settings/specs/check"):
            assert other.client.post(path, data={"csrf_token": token.group(1)}).status_code == 403
        assert 'href="/console/settings"' not in other.client.get("/console/").get_data(as_text=True)
        refused = [a for a in console.container.store.audit.list(entity=f"user:{name}")
                   if a["action"] == "auth.forbidden"]
        assert len(refused) == 3 and {a["detail"]["needs"] for a in refused} == {"admin"}
    got = console.container.store.shops.get(SHOP)
    assert got is not None and got.flows == {}  # nothing changed


def test_where_each_setting_comes_from(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "ttns.toml"
    cfg.write_text("worker_threads = 3\n")
    monkeypatch.setenv("TTNS_CONFIG", str(cfg))
    monkeypatch.setenv("TTNS_LOG_LEVEL", "DEBUG")
    s = Settings(database_url=f"sqlite:///{tmp_path / 'x.db'}")
    got = setting_sources(s)
    assert (s.worker_threads, s.log_level) == (3, "DEBUG")
    assert got["log_level"] == "environment" and got["worker_threads"] == "file"
    assert got["database_url"] == "given" and got["smtp_port"] == "default"

"""A merchant's world in sandboxes: both emulators running, one catalog on both sides, and the
settings that point a bridge at them.

The demo, the integration tests, the benchmark and the chaos run all start here, so they exercise
the same set-up a merchant evaluating the product gets from ``ttns sandbox``. Credentials (the
NetSuite certificate key, the SuiteScript events secret, the Fernet key) are generated per world
and never written anywhere but the world's own work directory.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse, urlunparse

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bridge.crypto import generate_key
from bridge.private_files import write_private
from bridge.resources import project_dir
from bridge.sandbox.netsuite import NetSuiteSandboxConfig, OAuth2Client
from bridge.sandbox.netsuite import create_app as create_netsuite
from bridge.sandbox.specs import sandbox_specs
from bridge.sandbox.tiktok import create_app as create_tiktok
from bridge.sandbox.tiktok.config import TikTokSandboxConfig
from bridge.serving import BackgroundServer
from bridge.settings import Settings

CLIENT_ID = "ttns-sandbox-integration"
CERTIFICATE_ID = "ttns-sandbox-certificate"
EVENTS_SECRET_ID = "custsecret_ttns_events"  # noqa: S105 - the API secret's id, not its value


@dataclass(frozen=True)
class CatalogItem:
    """One product sold on TikTok and kept in NetSuite: ``sku`` is TikTok's seller SKU and the
    NetSuite item name/number (``itemId``), which is how the bridge matches them."""

    sku: str
    title: str
    price: str
    netsuite_stock: dict[str, int] = field(default_factory=dict)  # NetSuite location external id → on hand
    tiktok_stock: int = 0  # units TikTok starts with in the shop's seller warehouse


DEMO_CATALOG: tuple[CatalogItem, ...] = (
    CatalogItem("TSHIRT-RED-M", "Logo T-Shirt Red M", "19.99", {"LOC-MAIN": 400, "LOC-EAST": 100}, 400),
    CatalogItem("TSHIRT-BLUE-L", "Logo T-Shirt Blue L", "21.99", {"LOC-MAIN": 300}, 300),
    CatalogItem("MUG-001", "Ceramic Mug", "12.50", {"LOC-MAIN": 500}, 500),
    CatalogItem("CAP-001", "Baseball Cap", "15.00", {"LOC-MAIN": 200, "LOC-EAST": 50}, 200),
)


class LateApp:
    """A WSGI app whose target is plugged in after the server is bound (the bridge's URL must be known
    before the sandboxes and the bridge's own settings can be written)."""

    def __init__(self) -> None:
        self.app: Callable[..., Any] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.app is None:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
            return [b"starting"]
        return self.app(environ, start_response)


class SandboxWorld:
    """Both sandboxes on local ports with ``catalog`` on both sides, plus a bound (not yet wired)
    port for the bridge. Use as a context manager, or ``start()`` / ``close()``."""

    def __init__(
        self,
        workdir: Path,
        *,
        catalog: Iterable[CatalogItem] = DEMO_CATALOG,
        tiktok: TikTokSandboxConfig | None = None,
        netsuite: NetSuiteSandboxConfig | None = None,
        run_scripts: bool = True,
        host: str = "127.0.0.1",
        ports: tuple[int, int, int] = (0, 0, 0),
        bridge_url: str | None = None,
    ) -> None:
        """``bridge_url``: a bridge running in its own processes (``ttns web``); by default the world
        binds a port for an in-process bridge (``serve(app)``)."""
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.catalog = tuple(catalog)
        self.host = host
        self.ports = ports
        self.events_secret = secrets.token_hex(24)
        self.secret_key = generate_key()
        # The demo's bridge receives webhooks on loopback over plain HTTP with a port (a named knob).
        self.tiktok_config = tiktok or TikTokSandboxConfig(webhook_time_scale=0.01, hold_seconds=3600,
                                                           inventory_zero_quantity=True, webhook_loopback_http=True)
        # The demo's bridge listens on loopback over plain HTTP: N/https may call it (a named knob).
        self.netsuite_config = netsuite or NetSuiteSandboxConfig(https_allow_http=True)
        self.run_scripts = run_scripts
        self.bridge_app = LateApp()
        self.external_bridge_url = bridge_url.rstrip("/") if bridge_url else None
        self._servers: list[BackgroundServer] = []
        self.key_file = self.workdir / "netsuite-certificate-key.pem"
        # the shipped specs with the sandbox overlay on top (bridge/sandbox/specs/): the records seeded here
        self.specs_dir = sandbox_specs(self.workdir / "mapping_specs")
        self.shop_id = ""
        self.tiktok_sb: Any = None
        self.netsuite_sb: Any = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> SandboxWorld:
        if self.external_bridge_url is None:
            self.bridge_server = BackgroundServer(self.bridge_app, self.host, self.ports[2], name="bridge").start()
            self._servers.append(self.bridge_server)
        key = ec.generate_private_key(ec.SECP256R1())
        write_private(self.key_file, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
        public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()

        tk = self.tiktok_config
        tk.demo_redirect_uri = f"{self.bridge_url}/oauth/tiktok/callback"
        tiktok_app = create_tiktok(tk)
        self.tiktok_sb = tiktok_app.extensions["tiktok_sandbox"]
        self.tiktok_server = BackgroundServer(tiktok_app, self.host, self.ports[0], name="tiktok-sandbox").start()
        self._servers.append(self.tiktok_server)

        ns = self.netsuite_config
        ns.oauth2_clients = [*ns.oauth2_clients, OAuth2Client(client_id=CLIENT_ID,
                                                              certificates={CERTIFICATE_ID: public_pem})]
        ns.suitecloud_dir = ns.suitecloud_dir or project_dir("suitecloud")
        ns.run_scripts = self.run_scripts
        ns.api_secrets = {**ns.api_secrets, EVENTS_SECRET_ID: self.events_secret}
        ns.script_parameters = {
            **ns.script_parameters,
            "custscript_ttns_bridge_url": self.bridge_url,
            "custscript_ttns_mr_bridge_url": self.bridge_url,
        }
        netsuite_app = create_netsuite(ns)
        self.netsuite_sb = netsuite_app.extensions["netsuite_sandbox"]
        self.netsuite_server = BackgroundServer(netsuite_app, self.host, self.ports[1],
                                                name="netsuite-sandbox").start()
        self._servers.append(self.netsuite_server)

        shops = [s for s in self.tiktok_sb.describe()["shops"] if s.get("region") == "US"]
        if not shops:
            raise RuntimeError("the TikTok sandbox has no US shop (demo_data off?)")
        self.shop_id = str(shops[0]["id"])
        from bridge.sandbox.netsuite.seed import eu_seed, uk_seed

        self.netsuite_sb.seed(uk_seed())  # the UK business the overlay's orders.yaml markets.GB names
        self.netsuite_sb.seed(eu_seed())  # and the German one markets.DE names (VAT by tax code per line)
        self.seed_catalog(self.catalog)
        return self

    def close(self) -> None:
        for server in reversed(self._servers):
            with contextlib.suppress(Exception):  # best effort on shutdown
                server.stop()
        for sb in (self.tiktok_sb, self.netsuite_sb):
            if sb is not None:
                sb.close()

    def __enter__(self) -> SandboxWorld:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- addresses ---------------------------------------------------------------------------
    @property
    def bridge_url(self) -> str:
        return self.external_bridge_url or self.bridge_server.url

    @property
    def tiktok_url(self) -> str:
        return self.tiktok_server.url

    @property
    def netsuite_url(self) -> str:
        return self.netsuite_server.url

    @property
    def app_key(self) -> str:
        return self.tiktok_config.demo_app_key

    # -- catalog -----------------------------------------------------------------------------
    def seed_catalog(self, catalog: Iterable[CatalogItem]) -> None:
        """Create each product on TikTok (seller SKU = NetSuite item name) with its TikTok stock, make
        sure NetSuite has the item, and receive its NetSuite stock at each location."""
        shop = self.tiktok_sb.shop(self.shop_id)
        seller_wh = next(w["id"] for w in shop["warehouses"] if not w.get("fbt") and w.get("type", "SALES_WAREHOUSE")
                         != "RETURN_WAREHOUSE")
        self.seller_warehouse = str(seller_wh)
        for item in catalog:
            self.tiktok_sb.add_product(self.shop_id, item.title, [{
                "seller_sku": item.sku, "price": item.price, "inventory": {seller_wh: item.tiktok_stock}}])
            ns_id = self.netsuite_item_id(item.sku)
            if ns_id is None:
                self.netsuite_sb.seed({"inventoryItem": [{
                    "externalId": f"ITEM-{item.sku}", "itemId": item.sku, "displayName": item.title,
                    "price": {"items": [{"priceLevel": {"id": "1"}, "price": item.price}]}}]})
                ns_id = self.netsuite_item_id(item.sku)
            for loc_eid, qty in item.netsuite_stock.items():
                if qty:
                    self.netsuite_sb.receive_stock(str(ns_id), self.netsuite_location(loc_eid), qty)

    def shop_of_region(self, region: str) -> str:
        """The id of the TikTok sandbox's shop in ``region`` (US, GB)."""
        return next(str(s["id"]) for s in self.tiktok_sb.describe()["shops"] if s.get("region") == region)

    def netsuite_item_id(self, sku: str) -> str | None:
        rows, _ = self.netsuite_sb.suiteql(f"SELECT id FROM item WHERE itemid = '{sku}'")  # noqa: S608 - sandbox
        return str(rows[0]["id"]) if rows else None

    def netsuite_location(self, external_id: str) -> str:
        rows, _ = self.netsuite_sb.suiteql(
            f"SELECT id FROM location WHERE externalid = '{external_id}'")  # noqa: S608 - sandbox data
        if not rows:
            raise KeyError(f"no NetSuite sandbox location {external_id}")
        return str(rows[0]["id"])

    # -- the bridge's configuration ----------------------------------------------------------
    def settings_values(self, database_url: str | None = None, **overrides: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "database_url": database_url or f"sqlite:///{self.workdir / 'bridge.db'}",
            "secret_key": self.secret_key,
            "public_url": self.bridge_url,
            "environment": "demo",
            "session_cookie_secure": False,
            "specs_dir": str(self.specs_dir),
            "tiktok_app_key": self.app_key,
            "tiktok_app_secret": self.tiktok_config.demo_app_secret,
            "tiktok_service_id": self.tiktok_config.demo_service_id,
            "tiktok_api_base": self.tiktok_url,
            "tiktok_auth_base": self.tiktok_url,
            "tiktok_authorize_url": f"{self.tiktok_url}/open/authorize",
            "netsuite_account": self.netsuite_config.account_id,
            "netsuite_auth": "oauth2",
            "netsuite_client_id": CLIENT_ID,
            "netsuite_certificate_id": CERTIFICATE_ID,
            "netsuite_private_key_file": str(self.key_file),
            "netsuite_rest_base": self.netsuite_url,
            "netsuite_restlet_base": self.netsuite_url,
            "netsuite_events_secret": self.events_secret,
            "netsuite_concurrency": self.netsuite_config.concurrency_limit,
        }
        values.update(overrides)
        return values

    def settings(self, database_url: str | None = None, **overrides: Any) -> Settings:
        return Settings(**self.settings_values(database_url, **overrides))

    def env(self, database_url: str | None = None, **overrides: Any) -> dict[str, str]:
        """The same configuration as ``TTNS_*`` environment variables (for worker subprocesses)."""
        return {f"TTNS_{k.upper()}": str(v) for k, v in self.settings_values(database_url, **overrides).items()}

    def serve(self, app: Any) -> None:
        """Plug the bridge's WSGI app into the bound bridge port."""
        if self.external_bridge_url is not None:
            raise RuntimeError("this world points at an external bridge")
        self.bridge_app.app = app

    # -- connecting a shop -------------------------------------------------------------------
    def connect_shop(self, container: Any, shop_id: str | None = None) -> Any:
        """Authorize a shop (the US shop unless ``shop_id`` names another) for the bridge's app (a one-time
        code from the sandbox's authorize step) and run the bridge's own connect: token exchange, shop
        discovery, webhook subscription."""
        from bridge.tiktok.oauth import connect

        code = self.tiktok_sb.authorize(self.app_key, shop_id=shop_id or self.shop_id)
        tiktok = container.tiktok()
        return connect(auth_code=code, oauth=tiktok.oauth, api=tiktok.api, store=container.store,
                       public_url=container.settings.public_url, actor="sandbox-world")

    def connect_via_browserless_oauth(self, session: Any) -> str:
        """The merchant's OAuth journey over HTTP, without a browser: the bridge's connect button, the
        sandbox's authorize page (auto-approved), the bridge's callback. Returns the final page URL."""
        start = session.post(f"{self.bridge_url}/connect/tiktok/start", allow_redirects=False, timeout=10)
        if start.status_code not in (302, 303):
            raise RuntimeError(f"connect start answered {start.status_code}: {start.text[:200]}")
        url = urlparse(start.headers["Location"])
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        query["auto"] = "1"
        authorize = session.get(urlunparse(url._replace(query=urlencode(query))), allow_redirects=False, timeout=10)
        if authorize.status_code not in (302, 303):
            raise RuntimeError(f"authorize answered {authorize.status_code}: {authorize.text[:200]}")
        callback = session.get(authorize.headers["Location"], allow_redirects=True, timeout=30)
        if callback.status_code != 200:
            raise RuntimeError(f"OAuth callback answered {callback.status_code}: {callback.text[:300]}")
        return str(callback.url)

    # -- convenience for scenarios ------------------------------------------------------------
    def netsuite_available(self, sku: str, location_eid: str = "LOC-MAIN") -> Decimal:
        item = self.netsuite_item_id(sku)
        loc = self.netsuite_location(location_eid)
        levels = self.netsuite_sb.stock_levels(item=item, location=loc)
        return Decimal(str(levels[0]["available"])) if levels else Decimal(0)

"""Configuration of the NetSuite sandbox: the account, the integration's credentials, the knobs.

Everything is plain data so tests build it in code (keys generated at run time, never committed)
and the control API can change the knobs at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Literal

PropertyValidation = Literal["Error", "Warning", "Ignore"]


@dataclass
class OAuth2Client:
    """An integration record with the client-credentials grant and its certificate mappings.

    ``certificates`` maps certificate id (the JWT ``kid``) to the PEM of the certificate or of its
    public key, as uploaded on the OAuth 2.0 Client Credentials (M2M) Setup page.
    """

    client_id: str
    certificates: dict[str, str] = field(default_factory=dict)
    scopes: tuple[str, ...] = ("rest_webservices", "restlets", "suite_analytics")
    role: str = "3"
    entity: str = "-5"


@dataclass
class TbaToken:
    """A TBA consumer (integration record) plus one access token of a user/role."""

    consumer_key: str
    consumer_secret: str
    token_id: str
    token_secret: str
    role: str = "3"
    entity: str = "-5"


@dataclass
class LatencyModel:
    """Simulated work per operation in seconds: ``(base + per_line * lines) * (1 ± jitter) * scale``.

    ``scale`` 0 (the default) makes the sandbox answer as fast as it can (tests); benchmarks set 1.
    A call holds its concurrency slot for this long in all, the sandbox's own processing of it
    included (it sleeps only the rest), so a benchmark's ceiling (concurrency ÷ latency) is what the
    sandbox really allows, however busy the machine running it is.
    """

    base: dict[str, float] = field(
        default_factory=lambda: {
            "create": 0.45,
            "update": 0.40,
            "upsert": 0.50,
            "get": 0.12,
            "delete": 0.30,
            "transform": 0.60,
            "suiteql": 0.25,
            "restlet": 0.15,
            "token": 0.05,
        }
    )
    per_line: float = 0.03
    jitter: float = 0.2
    scale: float = 0.0


@dataclass
class Faults:
    """Fault knobs; rates are probabilities per request (0..1)."""

    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_timeout_after_commit: float = 0.0
    timeout_mode: Literal["hang", "drop"] = "hang"
    hang_seconds: float = 65.0
    spurious_invalid_login_rate: float = 0.0  # only applied while the pool is saturated


@dataclass
class NetSuiteSandboxConfig:
    """All settings of one sandbox account."""

    account_id: str = "TSTDRV123_SB1"
    oauth2_clients: list[OAuth2Client] = field(default_factory=list)
    tba_tokens: list[TbaToken] = field(default_factory=list)
    token_ttl_seconds: int = 3600
    tba_timestamp_tolerance_seconds: int = 300
    concurrency_limit: int = 5
    latency: LatencyModel = field(default_factory=LatencyModel)
    faults: Faults = field(default_factory=Faults)
    legacy_tax: bool = False
    # X-NetSuite-PropertyNameValidation when a request sends none: the record browser documents Warning.
    property_name_validation: PropertyValidation = "Warning"
    suiteql_date_format: Literal["M/D/YYYY", "ISO"] = "M/D/YYYY"
    # SuiteCloud project: custom fields/records and scripts are read from <suitecloud_dir>/src.
    suitecloud_dir: Path | None = None
    extra_custom_fields: dict[str, str] = field(default_factory=dict)  # scriptid -> field type
    run_scripts: bool = True
    node_binary: str = "node"
    harness_dir: Path | None = None  # default: <suitecloud_dir>/harness, else the repo's
    harness_processes: int = 0  # 0: concurrency_limit + 1
    api_secrets: dict[str, str] = field(default_factory=dict)  # custsecret_… -> value
    script_parameters: dict[str, str] = field(default_factory=dict)  # custscript_… -> value
    https_connect_timeout_seconds: float = 5.0
    # Leniency, off by default (docs/sandbox-netsuite.md, "Knobs"): N/https takes http:// URLs. NetSuite
    # requests HTTPS only; tests and the demo reach a bridge on loopback over plain HTTP.
    https_allow_http: bool = False
    https_total_timeout_seconds: float = 45.0
    seed_defaults: bool = True
    base_currency_precision: int = 2
    default_tax_rate: Decimal = Decimal("0")

    @property
    def realm(self) -> str:
        """TBA realm: account id upper case with ``_SB1`` (never the host form ``-sb1``)."""
        return normalise_account(self.account_id)


def normalise_account(account: str) -> str:
    """``1234567-sb1`` / ``1234567_sb1`` / ``1234567_SB1`` -> ``1234567_SB1``."""
    return account.strip().upper().replace("-", "_")


def account_host_prefix(account: str) -> str:
    """``1234567_SB1`` -> ``1234567-sb1`` (the host form)."""
    return normalise_account(account).lower().replace("_", "-")


def config_from_toml(path: Path) -> NetSuiteSandboxConfig:
    """Build a config from a TOML file (standalone runs). String values ``env:NAME`` are read from
    the environment, so secrets need not sit in the file; certificate values are PEM file paths.

    Keys are the field names of ``NetSuiteSandboxConfig``; ``[[oauth2_clients]]`` with a
    ``certificates`` table (id = PEM path), ``[[tba_tokens]]``, ``[latency]``, ``[faults]``,
    ``[api_secrets]`` and ``[script_parameters]`` tables.
    """
    import os
    import tomllib

    def resolve(value: object) -> object:
        if isinstance(value, str) and value.startswith("env:"):
            return os.environ.get(value[4:], "")
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [resolve(v) for v in value]
        return value

    raw = resolve(tomllib.loads(path.read_text(encoding="utf-8")))
    assert isinstance(raw, dict)
    base = path.parent
    cfg = NetSuiteSandboxConfig()
    for client in raw.pop("oauth2_clients", []):
        certs = {
            kid: (base / str(pem)).read_text(encoding="utf-8") for kid, pem in client.pop("certificates", {}).items()
        }
        cfg.oauth2_clients.append(OAuth2Client(certificates=certs, **client))
    cfg.tba_tokens = [TbaToken(**t) for t in raw.pop("tba_tokens", [])]
    for key, value in raw.pop("latency", {}).items():
        setattr(cfg.latency, key, value)
    for key, value in raw.pop("faults", {}).items():
        setattr(cfg.faults, key, value)
    for key in ("suitecloud_dir", "harness_dir"):
        if key in raw:
            raw[key] = (base / str(raw[key])).resolve()
    for key, value in raw.items():
        if not hasattr(cfg, key):
            raise ValueError(f"unknown sandbox setting {key!r} in {path}")
        setattr(cfg, key, value)
    return cfg

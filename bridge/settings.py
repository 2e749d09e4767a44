"""The one typed configuration of the bridge.

Every value comes from an environment variable prefixed ``TTNS_`` or from an optional TOML file
named by ``TTNS_CONFIG`` (environment wins over the file). Secrets are ``SecretStr`` so they never
print. ``Settings`` is passed into ``create_app``, the worker and the scheduler; nothing reads the
environment anywhere else.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bridge.resources import default_specs_dir, state_dir

ENV_PREFIX = "TTNS_"


class Settings(BaseSettings):
    """Effective configuration. Field docs are the README's env-var table (``ttns config vars``)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", validate_default=True)

    # --- core -------------------------------------------------------------------------------
    database_url: str = Field(
        "",
        description="SQLAlchemy URL. SQLite file (WAL) by default: `ttns.db` in the state directory (systemd's "
        "`$STATE_DIRECTORY`, else `~/.local/state/ttns`); `postgresql+psycopg://…` to scale out.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Fernet key(s) encrypting tokens at rest; comma-separated, newest first, to rotate "
        "(`ttns keys generate`).",
    )
    public_url: str = Field(
        "http://127.0.0.1:8700",
        description="Public base URL of the bridge (webhook and OAuth callback addresses are built from it).",
    )
    specs_dir: Path = Field(
        default_factory=default_specs_dir,
        description="Directory of the mapping specs (YAML). Default: the specs shipped with the installed version "
        "(copy them with `ttns specs init DIR` to edit).",
    )
    log_level: str = Field("INFO", description="Log level.")
    log_format: Literal["json", "text"] = Field("json", description="`json` (default) or `text` logs.")
    environment: Literal["production", "development", "demo", "test"] = Field(
        "production", description="Deployment kind; only `production` insists on secure cookies."
    )

    # --- web --------------------------------------------------------------------------------
    web_bind: str = Field("127.0.0.1:8700", description="gunicorn bind address for `ttns web`.")
    web_workers: int = Field(2, ge=1, description="gunicorn worker processes for `ttns web`.")
    web_threads: int = Field(8, ge=1, description="Threads per gunicorn worker.")
    session_cookie_secure: bool = Field(True, description="Mark the console session cookie Secure.")
    metrics_token: SecretStr | None = Field(
        None, description="Bearer token for `/metrics` (`Authorization: Bearer <token>`); without it only a "
        "logged-in console session can read `/metrics`."
    )
    metrics_public: bool = Field(
        False, description="Serve `/metrics` to anyone who can reach it, without the token (it names shops and "
        "token expiries: only on a network that keeps it private)."
    )
    trusted_proxies: int = Field(
        0, ge=0, le=5, description="Reverse proxies in front of `ttns web` whose `X-Forwarded-For` / "
        "`X-Forwarded-Proto` are trusted (0: none). Set it behind a proxy, or every client has the proxy's "
        "address and the login throttle's per-address limit applies to everyone at once."
    )

    # --- worker / queue ---------------------------------------------------------------------
    worker_threads: int = Field(
        8, ge=1, description="Default `ttns worker --threads`: jobs run at once per worker process. 8 = NetSuite's "
        "default account concurrency (5, `TTNS_NETSUITE_CONCURRENCY`) plus 3 threads for jobs busy with TikTok or the "
        "database meanwhile, so one worker keeps every NetSuite slot busy; threads beyond the slots wait at the "
        "governor, which costs only memory. Raise it with the concurrency share."
    )
    worker_poll_interval: float = Field(0.2, gt=0, description="Seconds an idle worker waits between claims.")
    lease_seconds: float = Field(60.0, gt=0, description="Job lease; an expired lease is reclaimed by another worker.")
    max_attempts: int = Field(8, ge=1, description="Attempts before a job is dead (and becomes an exception).")
    retry_base_seconds: float = Field(2.0, gt=0, description="First retry delay (exponential, jittered).")
    retry_cap_seconds: float = Field(900.0, gt=0, description="Longest retry delay.")
    shutdown_grace_seconds: float = Field(30.0, ge=0, description="SIGTERM: time to finish running jobs.")
    worker_nice: int = Field(
        5, ge=0, le=19, description="CPU niceness of `ttns worker`: on a shared machine the web tier, which must "
        "answer TikTok's webhooks at once, gets the CPU first."
    )

    # --- scheduler --------------------------------------------------------------------------
    order_poll_seconds: int = Field(60, ge=5, description="Polling backstop for orders (`orders/search`).")
    order_sync_delay_seconds: float = Field(
        0.5, ge=0, description="An order's sync waits this long after its webhook, so the burst of events "
        "TikTok sends for one order (placed, paid, retried) becomes one job."
    )
    order_poll_overlap_seconds: int = Field(300, ge=0, description="Overlap window of the order poll.")
    inventory_full_push_cron: str = Field(
        "15 3 * * *", description="UTC crontab of the nightly full stock re-assertion (every SKU, zeros too)."
    )
    settlement_import_cron: str = Field("20 1 * * *", description="UTC crontab of the daily statement import.")
    settlement_lookback_days: int = Field(7, ge=1, description="Days of statements each import re-reads.")
    queue_retention_days: int = Field(
        14, ge=0, description="Finished jobs (done, skipped, cancelled) and their attempts are deleted this many "
        "days after they finish. Failed and dead jobs, and every job an exception refers to, are kept as its "
        "evidence. 0 keeps everything."
    )
    queue_prune_cron: str = Field("40 2 * * *", description="UTC crontab of the queue's retention sweep.")

    # --- TikTok Shop ------------------------------------------------------------------------
    tiktok_app_key: str = Field("", description="TikTok Shop app key.")
    tiktok_app_secret: SecretStr | None = Field(None, description="TikTok Shop app secret.")
    tiktok_app_secret_previous: SecretStr | None = Field(
        None, description="During an app-secret rotation only: the previous app secret. Webhooks signed with "
        "either secret are accepted; API calls sign with `TTNS_TIKTOK_APP_SECRET`. Remove it once the rotation "
        "is done (docs/security.md)."
    )
    tiktok_service_id: str = Field("", description="TikTok Shop service id (authorize link).")
    tiktok_api_base: str = Field(
        "https://open-api.tiktokglobalshop.com", description="TikTok Shop Open API base URL."
    )
    tiktok_auth_base: str = Field("https://auth.tiktok-shops.com", description="TikTok token endpoint base URL.")
    tiktok_authorize_url: str = Field(
        "https://services.tiktokshop.com/open/authorize", description="Merchant authorize page."
    )
    tiktok_qps: float = Field(50.0, gt=0, description="Requests per second per shop and API.")
    tiktok_timeout_seconds: float = Field(20.0, gt=0, description="HTTP timeout for TikTok calls.")

    # --- NetSuite ---------------------------------------------------------------------------
    netsuite_account: str = Field("", description="Account id, `1234567` or `1234567_SB1` / `1234567-sb1`.")
    netsuite_auth: Literal["oauth2", "tba"] = Field("oauth2", description="`oauth2` (client credentials) or `tba`.")
    netsuite_client_id: str = Field("", description="OAuth 2.0 client id of the integration record.")
    netsuite_certificate_id: str = Field("", description="Certificate id (JWT `kid`).")
    netsuite_private_key_file: Path | None = Field(None, description="PEM private key of that certificate.")
    netsuite_consumer_key: str = Field("", description="TBA consumer key.")
    netsuite_consumer_secret: SecretStr | None = Field(None, description="TBA consumer secret.")
    netsuite_token_id: str = Field("", description="TBA token id.")
    netsuite_token_secret: SecretStr | None = Field(None, description="TBA token secret.")
    netsuite_rest_base: str = Field("", description="REST base URL override (default from the account).")
    netsuite_restlet_base: str = Field("", description="RESTlet base URL override (default from the account).")
    netsuite_concurrency: int = Field(
        5, ge=1,
        description="The bridge's share of the account concurrency limit; worker processes split it between them.",
    )
    netsuite_events_secret: SecretStr | None = Field(
        None, description="Shared HMAC key SuiteScript signs `/netsuite/events` calls with."
    )
    netsuite_write_path: Literal["rest", "restlet"] = Field(
        "rest", description="Sales-order writes through REST upserts or the batch RESTlet."
    )
    netsuite_restlet_script: str = Field("customscript_ttns_rl_orders", description="Batch RESTlet script id.")
    netsuite_restlet_deploy: str = Field("customdeploy_ttns_rl_orders", description="Batch RESTlet deployment id.")
    netsuite_timeout_seconds: float = Field(60.0, gt=0, description="HTTP timeout for NetSuite calls.")

    # --- alerts -----------------------------------------------------------------------------
    smtp_host: str = Field("", description="SMTP host for alert e-mail (empty: no e-mail).")
    smtp_port: int = Field(587, description="SMTP port.")
    smtp_user: str = Field("", description="SMTP user.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_from: str = Field("ttns-bridge@localhost", description="Sender address of alert e-mail.")
    alert_email_to: str = Field("", description="Comma-separated alert recipients.")
    alert_webhook_url: SecretStr | None = Field(
        None, description="Generic JSON webhook for alerts (Slack/Teams compatible); secret, it embeds a token."
    )

    @field_validator("public_url", "tiktok_api_base", "tiktok_auth_base", "netsuite_rest_base", "netsuite_restlet_base")
    @classmethod
    def _strip_slash(cls, v: str) -> str:
        return v.rstrip("/")

    @model_validator(mode="after")
    def _absolute_paths(self) -> Settings:
        """Relative paths are relative to the configuration file's folder (the current directory only when
        no file is in use, and then made absolute at once), so no later step depends on where it runs."""
        cfg = config_file()
        base = cfg.parent if cfg is not None else Path.cwd()
        if not self.database_url:
            self.database_url = f"sqlite:///{state_dir() / 'ttns.db'}"
        else:
            self.database_url = _absolute_sqlite_url(self.database_url, base)
        self.specs_dir = _absolute(self.specs_dir, base)
        if self.netsuite_private_key_file is not None:
            self.netsuite_private_key_file = _absolute(self.netsuite_private_key_file, base)
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = config_file()
        if path is not None:
            if not path.is_file():
                raise FileNotFoundError(f"TTNS_CONFIG names {path}, which is not a file")
            _refuse_unknown_keys(path, set(settings_cls.model_fields))
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    # --- derived ----------------------------------------------------------------------------
    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def redacted(self) -> dict[str, Any]:
        """The effective configuration with every secret replaced by a marker (for display)."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "********" if value.get_secret_value() else ""
            elif name == "database_url":
                value = redact_url(value)
            elif isinstance(value, Path):
                value = str(value)
            out[name] = value
        return out


DEFAULT_CONFIG_FILE = Path("/etc/ttns/ttns.toml")


def config_file() -> Path | None:
    """The configuration file in use: ``TTNS_CONFIG``, else ``/etc/ttns/ttns.toml`` when it exists, else none."""
    named = os.environ.get(f"{ENV_PREFIX}CONFIG", "")
    if named:
        return Path(named).expanduser().absolute()
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def _refuse_unknown_keys(path: Path, known: set[str]) -> None:
    """A key the bridge does not know (a typo) would be ignored in silence: refuse it, naming the closest."""
    import difflib
    import tomllib

    from bridge.errors import ConfigurationError

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path} is not valid TOML: {exc}") from None
    for key in sorted(data):
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else " (`ttns config vars` lists the settings)"
            raise ConfigurationError(f"{path}: unknown setting {key!r}{hint}")


def _absolute(path: Path, base: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else (base / path).absolute()


def _absolute_sqlite_url(url: str, base: Path) -> str:
    """A SQLite URL whose file path is relative becomes absolute against ``base``; other URLs are unchanged."""
    from sqlalchemy.engine import make_url

    try:
        u = make_url(url)
    except Exception:
        return url
    if u.get_backend_name() != "sqlite" or u.database in (None, "", ":memory:") or \
            str(u.database).startswith("file:"):
        return url
    db = Path(str(u.database)).expanduser()
    if db.is_absolute():
        return url
    return u.set(database=str((base / db).absolute())).render_as_string(hide_password=False)


def redact_url(url: str) -> str:
    """Hide the password of a database URL."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def setting_sources(settings: Settings) -> dict[str, str]:
    """Where each setting's value comes from: ``environment`` (``TTNS_<NAME>``), ``file`` (the
    configuration file), ``given`` (passed in by the program that built the settings) or ``default``,
    for the console's settings page."""
    import tomllib

    path = config_file()
    in_file: set[str] = set()
    if path is not None and path.is_file():
        try:
            in_file = set(tomllib.loads(path.read_text(encoding="utf-8")))
        except (OSError, tomllib.TOMLDecodeError):
            in_file = set()
    out = {}
    for name in Settings.model_fields:
        if f"{ENV_PREFIX}{name.upper()}" in os.environ:
            out[name] = "environment"
        elif name in in_file:
            out[name] = "file"
        elif name in settings.model_fields_set:
            out[name] = "given"
        else:
            out[name] = "default"
    return out


def env_var_table() -> list[tuple[str, str, str]]:
    """(variable, default, description) for every setting, for the README and `ttns config vars`."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = field.default if field.default_factory is None else ""
        if isinstance(default, Path):
            default = str(default)
        shown = "" if default in (None, "") else str(default)
        rows.append((f"{ENV_PREFIX}{name.upper()}", shown, field.description or ""))
    return rows


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)


__all__ = ["DEFAULT_CONFIG_FILE", "ENV_PREFIX", "Settings", "config_file", "env_var_table", "load_settings",
           "redact_url", "setting_sources"]

"""Configuration of the TikTok Shop sandbox (every knob has a sensible default)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FaultConfig:
    """Fault knobs; all rates are probabilities in [0, 1]. ``per_endpoint`` maps an endpoint key
    (``"GET /order/202507/orders"``) or a path prefix (``"/finance/"``) to overrides of
    ``latency_ms`` / ``jitter_ms`` / ``rate_429`` / ``rate_5xx`` / ``rate_drop`` / ``rate_timeout`` / ``qps``.
    Every injected fault is counted per endpoint (``counters_snapshot()["faults"]``)."""

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    rate_429: float = 0.0
    rate_5xx: float = 0.0
    # The connection is closed before the request is handled (nothing happens) …
    rate_drop: float = 0.0
    # … or the request is handled and the answer held back ``timeout_seconds`` (past the client's timeout).
    rate_timeout: float = 0.0
    timeout_seconds: float = 3.0
    webhook_drop: float = 0.0
    webhook_duplicate: float = 0.0
    webhook_reorder: float = 0.0
    webhook_reorder_delay: float = 0.5  # seconds a reordered webhook is held back (real time)
    webhook_delay: float = 0.0  # extra seconds before every first attempt (real time)
    per_endpoint: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass
class TikTokSandboxConfig:
    """How the sandbox behaves.

    ``seed`` makes ids, tokens and fault draws reproducible. ``demo_data`` seeds one app, a US and
    a GB shop with warehouses, delivery options, providers and a small catalog.
    ``webhook_time_scale`` multiplies the documented retry schedule (2 min, 30 min, 3 h, 12 h):
    0.001 turns it into 0.12 s, 1.8 s, 10.8 s, 43.2 s. ``clock_speed`` runs business time faster
    than the wall clock (hold expiry, token expiry); the signature window always uses real time.
    """

    seed: int = 20240601
    demo_data: bool = True
    demo_app_key: str = "sandbox_app_key"
    demo_app_secret: str = "sandbox-app-secret-not-real"  # noqa: S105 (a public, obviously fake sandbox value)
    demo_service_id: str = "7300000000000000001"
    demo_redirect_uri: str = "http://127.0.0.1/oauth/callback"
    demo_webhook_url: str | None = None  # the demo app's default webhook address (all topics)
    qps: float = 50.0
    timestamp_past_seconds: int = 300
    timestamp_future_seconds: int = 30
    access_token_ttl: int = 7 * 86400
    refresh_token_ttl: int = 365 * 86400
    auth_code_ttl: int = 30 * 60
    hold_seconds: int = 3600
    clock_speed: float = 1.0
    clock_start: float | None = None
    webhook_time_scale: float = 1.0
    webhook_retry_delays: tuple[float, ...] = (120.0, 1800.0, 10800.0, 43200.0)
    webhook_timeout: float = 3.0
    webhook_workers: int = 4
    webhook_enabled: bool = True
    tick_interval: float = 0.2
    settle_on: str = "COMPLETED"  # order status after which an order is settled in a statement
    referral_fee_rate: str = "0.06"  # US referral fee on net sales (docs/sandbox-tiktok.md)
    commission_rate: str = "0.09"  # GB platform commission
    transaction_fee_rate: str = "0.0"
    refund_admin_fee_rate: str = "0.20"
    fbt_fee_per_unit: str = "3.50"
    errors_as_http_200: bool = False  # answer every refusal with HTTP 200 (code in the envelope only)
    # Leniencies, each off by default (docs/sandbox-tiktok.md, "Knobs"): the sandbox follows the pages.
    inventory_zero_quantity: bool = False  # accept quantity 0 where the pages document [1, 99,999]
    # accept http:// and a port on a loopback webhook address (the guide: https, a domain name, no port)
    webhook_loopback_http: bool = False
    # Product review: None approves a created or edited product at once (status ACTIVATE). A number of
    # seconds puts a product whose title, description, images or category changed into PENDING (audit
    # AUDITING) until the tick after that delay decides it: FAILED with ``audit_failed_reasons`` when
    # an audit rule matches (``TikTokSandbox.add_audit_rule``), else ACTIVATE; webhooks 5 and 37 say so.
    product_review_seconds: float | None = None
    faults: FaultConfig = field(default_factory=FaultConfig)

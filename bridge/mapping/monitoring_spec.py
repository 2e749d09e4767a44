"""`mapping_specs/monitoring.yaml`: drift monitor thresholds and how alerts are sent.

Every monitor produces one number per run; it alerts when the number is **over** its
``threshold`` (a count of records, or an amount for settlement variances). A monitor that cannot
measure (its flow has not been set up) shows as *unavailable* and never alerts.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field

from bridge.mapping.specs import SpecModel, spec_model

Severity = Literal["info", "warning", "critical"]


class MonitorBase(SpecModel):
    enabled: bool = True
    threshold: Decimal = Field(Decimal("0"), ge=0)
    severity: Severity = "warning"


class OrdersMissing(MonitorBase):
    """TikTok orders awaiting shipment with no NetSuite sales order after ``after_minutes``."""

    after_minutes: int = Field(30, ge=1)
    lookback_hours: int = Field(24, ge=1, le=24 * 60)  # TikTok is searched over this window every run
    ask_tiktok: bool = True  # also search TikTok for orders the bridge never heard of
    statuses: tuple[str, ...] = ("AWAITING_SHIPMENT", "AWAITING_COLLECTION")


class OrderTotals(MonitorBase):
    """Sales orders whose NetSuite total differs from TikTok's by more than ``tolerance``."""

    tolerance: Decimal = Field(Decimal("0.00"), ge=0)
    lookback_hours: int = Field(72, ge=1, le=24 * 60)
    max_orders: int = Field(2000, ge=1, le=100000)


class FulfillmentsUnshipped(MonitorBase):
    """Fulfillments shipped in NetSuite but not on TikTok after ``after_minutes``."""

    after_minutes: int = Field(60, ge=1)


class InventoryDrift(MonitorBase):
    """SKUs whose TikTok stock differs from the computed sellable quantity by more than ``tolerance_units``."""

    tolerance_units: int = Field(0, ge=0)


class SettlementVariances(MonitorBase):
    """Sum of absolute unexplained settlement variances over the last ``lookback_days`` (an amount)."""

    lookback_days: int = Field(14, ge=1, le=400)
    severity: Severity = "critical"


class LedgerAudit(MonitorBase):
    """The last daily ledger audit's difference between NetSuite's GL and TikTok's figures (an amount)."""

    severity: Severity = "critical"


class AuthExpiring(MonitorBase):
    """Shops whose TikTok authorization expires within ``within_days`` (or was revoked)."""

    within_days: int = Field(14, ge=1, le=365)
    severity: Severity = "critical"


class ExceptionsOpen(MonitorBase):
    """Exceptions still open ``after_minutes`` after they first appeared."""

    after_minutes: int = Field(60, ge=1)


class QueueStalled(MonitorBase):
    """Jobs due for more than ``after_minutes`` that no worker has picked up (workers down?)."""

    after_minutes: int = Field(15, ge=1)
    severity: Severity = "critical"


class Monitors(SpecModel):
    orders_missing: OrdersMissing = Field(default_factory=OrdersMissing)
    order_totals: OrderTotals = Field(default_factory=OrderTotals)
    fulfillments_unshipped: FulfillmentsUnshipped = Field(default_factory=FulfillmentsUnshipped)
    inventory_drift: InventoryDrift = Field(default_factory=InventoryDrift)
    settlement_variances: SettlementVariances = Field(default_factory=SettlementVariances)
    ledger_audit: LedgerAudit = Field(default_factory=LedgerAudit)
    auth_expiring: AuthExpiring = Field(default_factory=AuthExpiring)
    exceptions_open: ExceptionsOpen = Field(default_factory=ExceptionsOpen)
    queue_stalled: QueueStalled = Field(default_factory=QueueStalled)


class Alerting(SpecModel):
    renotify_minutes: int = Field(240, ge=1)  # a firing alert is sent again after this long
    notify_resolved: bool = True  # send a "resolved" message when a firing alert clears
    min_severity: Severity = "warning"  # alerts below this severity are shown, not sent


@spec_model("monitoring")
class MonitoringSpec(SpecModel):
    version: Literal[1] = 1
    every_seconds: int = Field(300, ge=30, le=86400)
    keep_days: int = Field(30, ge=1, le=3650)  # reading history kept for the charts
    alerts: Alerting = Field(default_factory=Alerting)
    monitors: Monitors = Field(default_factory=Monitors)


DEFAULT = MonitoringSpec()

__all__ = [
    "DEFAULT",
    "AuthExpiring",
    "ExceptionsOpen",
    "FulfillmentsUnshipped",
    "InventoryDrift",
    "LedgerAudit",
    "MonitorBase",
    "MonitoringSpec",
    "Monitors",
    "OrderTotals",
    "OrdersMissing",
    "QueueStalled",
    "SettlementVariances",
]

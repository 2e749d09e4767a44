"""Drift monitors: on a schedule, each yields one number for the dashboard and alerts over its threshold.

``monitoring.run`` (scheduled every ``every_seconds`` of ``monitoring.yaml``, key ``monitoring`` so two
runs never overlap) evaluates every enabled monitor, stores a reading per monitor
(``monitor_readings``), fires an alert for each monitor over its threshold and clears the alerts of
monitors back to normal (``bridge.alerts``, de-duplicated). ``ttns monitor run`` does the same now.

Monitors read the store first; some also need a port:

* ``orders_missing``  orders the bridge is trying to sync (``orders.sync`` jobs) that have no NetSuite
  sales order after N minutes; plus, when ``ask_tiktok`` is on, orders
  TikTok lists as awaiting shipment that the bridge never heard of;
* ``order_totals``    needs ``bridge.ports.netsuite.NetSuiteTotals``: the NetSuite total of
  each synced sales order against TikTok's (``links.data.expected_total``);
* ``fulfillments_unshipped``, ``inventory_drift``, ``settlement_variances``: the fulfillment,
  inventory and settlement flows' data (unavailable until those flows are set up);
* ``auth_expiring``, ``exceptions_open``, ``queue_stalled``: the store alone.

Extension point: add a function ``(MonitorContext, config) -> Measure`` to ``MONITORS`` and a model
field to ``bridge.mapping.monitoring_spec.Monitors``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from bridge.clock import Clock
from bridge.domain.keys import order_key, parse_order_key, shop_key, sku_key
from bridge.domain.order_memory import OrderMemory
from bridge.errors import redact_text
from bridge.flows.fulfillment import FulfillmentSync
from bridge.flows.inventory import InventorySync
from bridge.flows.ledger_audit import LedgerAuditService
from bridge.flows.settlement import SettlementService
from bridge.mapping.monitoring_spec import DEFAULT, MonitorBase, MonitoringSpec
from bridge.mapping.specs import load_spec
from bridge.ports.alerts import Alert, Alerts
from bridge.ports.jobs import JobContext
from bridge.ports.monitoring import ReadingRow
from bridge.ports.netsuite import NetSuiteTotals
from bridge.ports.specs import Specs
from bridge.ports.store import Repositories
from bridge.ports.tiktok import TikTokOrders

log = logging.getLogger("bridge.flows.monitoring")

KIND_RUN = "monitoring.run"
ALERT_PREFIX = "monitor:"
MAX_SAMPLES = 20
ORDERS_SYNC = "orders.sync"




@dataclass(frozen=True)
class Sample:
    """One record behind a number: what it is, why it counts, where the console shows it."""

    entity: str
    label: str
    detail: str = ""
    href: str = ""


@dataclass(frozen=True)
class Measure:
    """What a monitor function returns. ``value`` None means it could not measure (see ``note``)."""

    value: Decimal | None
    note: str = ""
    samples: list[Sample] = field(default_factory=list)
    unit: str = ""


@dataclass(frozen=True)
class Reading:
    monitor: str
    title: str
    status: str  # ok | alert | unavailable | error | disabled
    value: Decimal | None
    threshold: Decimal
    unit: str
    severity: str
    note: str
    samples: list[Sample]
    path: str
    at: datetime

    @property
    def alerting(self) -> bool:
        return self.status == "alert"


@dataclass
class MonitorContext:
    monitoring: Monitoring
    store: Repositories
    now: datetime
    spec: MonitoringSpec


@dataclass(frozen=True)
class MonitorInfo:
    title: str
    unit: str
    path: str
    fn: Callable[[MonitorContext, Any], Measure]
    describe: Callable[[Any], str]


def order_href(shop_id: str, order_id: str) -> str:
    return f"/console/orders/{shop_id}/{order_id}"


def entity_href(entity: str) -> str:
    ids = parse_order_key(entity)
    if ids is not None:
        return order_href(*ids)
    return f"/console/exceptions?entity={entity}"


# --- orders ---------------------------------------------------------------------------------------



def orders_missing(ctx: MonitorContext, cfg: Any) -> Measure:
    now = ctx.now
    cutoff = now - timedelta(minutes=cfg.after_minutes)
    start = now - timedelta(hours=cfg.lookback_hours)
    by_shop: dict[str, dict[str, tuple[datetime, bool]]] = {}
    for p in ctx.store.monitoring.pending_keys(ORDERS_SYNC, created_since=start, first_before=cutoff):
        ids = parse_order_key(p.key)
        if ids:
            by_shop.setdefault(ids[0], {})[ids[1]] = (p.since, p.failed)
    missing: dict[tuple[str, str], Sample] = {}
    for shop_id, orders in by_shop.items():
        known = ctx.store.links.get_many("order", shop_id, list(orders))
        for order_id, (since, failed) in orders.items():
            link = known.get(order_id)
            if link is not None and (link.netsuite_id or link.status == "cancelled"):
                continue
            if link is not None and link.status.startswith("pending:") and \
                    link.status.removeprefix("pending:") in cfg.statuses:
                continue  # deliberately not synced (flow off for the shop, order type skipped)
            minutes = int((now - since).total_seconds() // 60)
            why = "the sync is failing (see the exception)" if failed else "the sync has not finished"
            missing[(shop_id, order_id)] = Sample(order_key(shop_id, order_id), f"order {order_id}",
                                                  f"{why}; first tried {minutes} min ago",
                                                  order_href(shop_id, order_id))
    note = ""
    tiktok = ctx.monitoring.tiktok if cfg.ask_tiktok else None
    if tiktok is not None:
        try:
            for s in _orders_tiktok_lists(ctx, cfg, tiktok, start, cutoff, set(missing)):
                ids = parse_order_key(s.entity)
                if ids is not None:
                    missing[ids] = s
        except Exception as exc:
            note = f"TikTok could not be searched ({type(exc).__name__}); only orders the bridge knows are counted"
            log.warning("orders_missing: TikTok search failed: %s", redact_text(str(exc), 300))
    elif cfg.ask_tiktok:
        note = "TikTok is not wired: only orders the bridge heard about are counted"
    samples = sorted(missing.values(), key=lambda s: s.entity)
    return Measure(Decimal(len(samples)), note, samples[:MAX_SAMPLES], "orders")


def _orders_tiktok_lists(ctx: MonitorContext, cfg: Any, tiktok: TikTokOrders, start: datetime, cutoff: datetime,
                         already: set[tuple[str, str]]) -> Iterable[Sample]:
    budget = 500  # order details fetched per run, at most
    active = [s.id for s in ctx.store.shops.list(status="active") if s.flow_enabled("orders")]
    for shop_id in active:
        ids = [oid for oid, _ in tiktok.search_orders(shop_id, create_time_ge=start, create_time_lt=cutoff)]
        known = ctx.store.links.get_many("order", shop_id, ids)
        unknown = [i for i in ids if (shop_id, i) not in already and not (
            (lk := known.get(i)) is not None and (lk.netsuite_id or lk.status.startswith("pending:")
                                                  or lk.status == "cancelled"))]
        for i in range(0, min(len(unknown), budget), 50):
            batch = unknown[i:i + 50]
            budget -= len(batch)
            for order in tiktok.get_orders(shop_id, batch):
                if order.status in cfg.statuses:
                    yield Sample(order_key(shop_id, order.id), f"order {order.id}",
                                 f"TikTok says {order.status}; the bridge has no record of it",
                                 order_href(shop_id, str(order.id)))


def decimal_or_none(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def order_totals(ctx: MonitorContext, cfg: Any) -> Measure:
    reader = ctx.monitoring.totals
    if reader is None:
        return Measure(None, "needs the NetSuite totals reader (bridge.ports.netsuite.NetSuiteTotals)", unit="orders")
    start = ctx.now - timedelta(hours=cfg.lookback_hours)
    rows = [r for r in ctx.store.monitoring.synced_orders(updated_since=start, limit=cfg.max_orders) if r.external_id]
    if not rows:
        return Measure(Decimal(0), "no synced order in the window", unit="orders")
    # An order still in flight (a sync or cancellation job queued or running for it, or a buyer's
    # cancellation request TikTok has not decided) is not compared: its totals are about to move.
    keys = [order_key(r.shop_id, r.tiktok_id) for r in rows]
    busy = ctx.store.monitoring.busy_keys(keys)
    in_flight = {r.external_id for r in rows if order_key(r.shop_id, r.tiktok_id) in busy
                 or OrderMemory.parse(r.data).hold_reason}
    rows = [r for r in rows if r.external_id not in in_flight]
    if not rows:
        return Measure(Decimal(0), f"{len(in_flight)} order(s) in flight, none to compare", unit="orders")
    totals: dict[str, Decimal] = {}
    eids = [r.external_id for r in rows]
    for i in range(0, len(eids), 200):
        totals.update(reader.order_totals(eids[i:i + 200]))
    samples: list[Sample] = []
    count = 0
    for r in rows:
        expected = OrderMemory.parse(r.data).expected_total
        actual = totals.get(r.external_id)
        if expected is None:
            continue
        if actual is None:
            detail = f"TikTok {expected}; NetSuite has no document {r.external_id}"
        elif abs(actual - expected) > cfg.tolerance:
            detail = f"TikTok {expected}, NetSuite {actual} (difference {actual - expected})"
        else:
            continue
        count += 1
        if len(samples) < MAX_SAMPLES:
            samples.append(Sample(order_key(r.shop_id, r.tiktok_id), f"order {r.tiktok_id}", detail,
                                  order_href(r.shop_id, r.tiktok_id)))
    note = f"{len(rows)} sales orders compared" + (f", {len(in_flight)} in flight skipped" if in_flight else "")
    return Measure(Decimal(count), note, samples, "orders")


# --- fulfillment, inventory, settlement (their flows' data) ----------------------------------------



def fulfillments_unshipped(ctx: MonitorContext, cfg: Any) -> Measure:
    flow = ctx.monitoring.fulfillment
    if flow is None:
        return Measure(None, "fulfillment: not configured (the fulfillment flow has not been set up)",
                       unit="fulfillments")
    cutoff = ctx.now - timedelta(minutes=cfg.after_minutes)
    rows = list(flow.unshipped(older_than=cutoff, limit=1000))
    samples = [_sample_of(r) for r in rows[:MAX_SAMPLES]]
    return Measure(Decimal(len(rows)), "", samples, "fulfillments")


def _sample_of(row: Any) -> Sample:
    if isinstance(row, Sample):
        return row
    d = as_dict(row)
    entity = str(d.get("entity") or d.get("id") or "")
    return Sample(entity, str(d.get("label") or entity), str(d.get("detail") or ""),
                  str(d.get("href") or (entity_href(entity) if entity else "")))


def as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return dict(obj)
    if is_dataclass(obj) and not isinstance(obj, type):
        return asdict(obj)
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        out: dict[str, Any] = dump()
        return out
    return {k: v for k, v in vars(obj).items() if not k.startswith("_")} if hasattr(obj, "__dict__") else {}


def inventory_rows(monitoring: Monitoring, *, limit: int = 200, offset: int = 0, only_drift: bool = True,
                   tolerance: int = 0) -> tuple[list[dict[str, Any]], int] | None:
    """SKUs with TikTok stock vs the computed sellable quantity: (rows, total), or None when this build
    leaves the inventory flow out (``InventorySync.drift`` is the measurement).
    Rows: shop_id, sku, tiktok, sellable, diff, detail, at."""
    flow = monitoring.inventory
    if flow is None:
        return None
    rows = [as_dict(r) for r in flow.drift(limit=limit, offset=offset, only_drift=only_drift)]
    return rows, len(rows) + offset


def inventory_drift(ctx: MonitorContext, cfg: Any) -> Measure:
    got = inventory_rows(ctx.monitoring, limit=MAX_SAMPLES, tolerance=cfg.tolerance_units)
    if got is None:
        return Measure(None, "inventory: not configured (the inventory flow has not been set up)", unit="SKUs")
    rows, total = got
    samples = [Sample(sku_key(r.get('shop_id', ''), r.get('sku', '')), f"SKU {r.get('sku', '')}",
                      f"TikTok {r.get('tiktok')}, sellable {r.get('sellable')}", "/console/inventory") for r in rows]
    fbt = ctx.monitoring.fulfillment.fbt_drift() if ctx.monitoring.fulfillment is not None else []
    fbt = [r for r in fbt if abs(int(r["difference"])) > cfg.tolerance_units]
    samples += [Sample(f"fbt:{r['shop_id']}:{r.get('warehouse', '')}:{r['sku']}", f"FBT SKU {r['sku']}",
                       f"TikTok FBT warehouse {r.get('warehouse', '')} {r['tiktok']}, NetSuite location "
                       f"{r.get('location', '')} {r['netsuite']}", "/console/inventory")
                for r in fbt[:MAX_SAMPLES]]
    return Measure(Decimal(total + len(fbt)), "", samples, "SKUs")


def report_row(report: Any) -> dict[str, Any]:
    """One flat row of a settlement report (``SettlementReport.summary()``, else its fields)."""
    summary = getattr(report, "summary", None)
    row = dict(summary()) if callable(summary) else as_dict(report)
    row.setdefault("statement_id", row.get("id", ""))
    return row


def settlement_reports(monitoring: Monitoring, **kw: Any) -> list[dict[str, Any]] | None:
    """Rows of the settlement flow's reports (``SettlementService.list_reports``), newest first, or None
    when this build has no settlement flow."""
    if monitoring.settlement is None:
        return None
    return [report_row(r) for r in monitoring.settlement.list_reports(**kw)]


VARIANCE_KEYS = ("variance", "unexplained_variance", "difference")


def report_variance(report: dict[str, Any]) -> Decimal | None:
    for key in VARIANCE_KEYS:
        v = decimal_or_none(report.get(key))
        if v is not None:
            return v
    return None


def settlement_variances(ctx: MonitorContext, cfg: Any) -> Measure:
    since = ctx.now - timedelta(days=cfg.lookback_days)
    statements = settlement_reports(ctx.monitoring, since=since, limit=1000)
    if statements is None:
        return Measure(None, "settlement: not configured (the settlement flow has not been set up)", unit="amount")
    payouts = settlement_reports(ctx.monitoring, since=since, limit=1000, kind="payment") or []
    total = Decimal(0)
    by_currency: dict[str, Decimal] = {}
    samples: list[Sample] = []
    for kind, reports in (("statement", statements), ("payout", payouts)):
        for r in reports:
            v = report_variance(r)
            if v is None or v == 0:
                continue
            total += abs(v)
            cur = str(r.get("currency") or "")
            by_currency[cur] = by_currency.get(cur, Decimal(0)) + abs(v)
            rid = str(r.get("id") or r.get("statement_id") or "")
            href = f"/console/settlement/{rid}" if kind == "statement" else f"/console/settlement/payout/{rid}"
            if len(samples) < MAX_SAMPLES:
                samples.append(Sample(f"{kind}:{rid}", f"{kind} {rid}", f"variance {v} {cur}".strip(), href))
    note = f"{len(statements)} statements and {len(payouts)} payouts checked"
    if len(by_currency) > 1:
        note += "; " + ", ".join(f"{v} {k}" for k, v in sorted(by_currency.items()))
    return Measure(total, note, samples, "amount")


def ledger_audit(ctx: MonitorContext, cfg: Any) -> Measure:
    """The daily ledger audit's difference (NetSuite's GL against TikTok's figures), summed over shops."""
    flow = ctx.monitoring.ledger_audit
    if flow is None:
        return Measure(None, "ledger audit: not configured (the settlement flow has not been set up)", unit="amount")
    results = flow.latest()
    if not results:
        return Measure(None, "the ledger audit has not run yet (daily at 02:40 UTC; now: ttns ledger audit)",
                       unit="amount")
    total = Decimal(0)
    samples: list[Sample] = []
    for r in results:
        total += decimal_or_none(r.get("difference")) or Decimal(0)
        for f in r.get("findings") or []:
            if len(samples) < MAX_SAMPLES:
                kind, _, ident = str(f.get("subject") or "").partition(":")
                href = {"statement": f"/console/settlement/{ident}",
                        "payout": f"/console/settlement/payout/{ident}"}.get(kind, "/console/exceptions")
                samples.append(Sample(f"ledger:{r.get('shop_id')}:{f.get('subject')}", str(f.get("code")),
                                      redact_text(str(f.get("message") or ""))[:200], href))
    findings = sum(len(r.get("findings") or []) for r in results)
    when = max(str(r.get("at") or "") for r in results)
    return Measure(total, f"{len(results)} shop(s) audited, {findings} finding(s); last run {when[:16]}", samples,
                   "amount")


# --- store-only monitors ----------------------------------------------------------------------------


def auth_expiring(ctx: MonitorContext, cfg: Any) -> Measure:
    horizon = ctx.now + timedelta(days=cfg.within_days)
    rows = ctx.store.shops.list()
    samples = []
    for s in rows:
        if s.status == "disabled":
            continue
        if s.status == "deauthorized":
            detail = "authorization revoked: reconnect the shop"
        elif s.refresh_expires_at is not None and s.refresh_expires_at <= horizon:
            days = (s.refresh_expires_at - ctx.now).total_seconds() / 86400
            detail = (f"authorization expired {abs(days):.0f} days ago" if days < 0
                      else f"authorization expires in {days:.1f} days")
        else:
            continue
        samples.append(Sample(shop_key(s.id), s.name or s.id, detail, "/console/connections"))
    note = "" if rows else "no shop connected"
    return Measure(Decimal(len(samples)), note, samples[:MAX_SAMPLES], "shops")


def exceptions_open(ctx: MonitorContext, cfg: Any) -> Measure:
    cutoff = ctx.now - timedelta(minutes=cfg.after_minutes)
    n, rows = ctx.store.monitoring.open_exceptions(first_seen_before=cutoff, limit=MAX_SAMPLES)
    samples = [Sample(r.entity or f"exception:{r.id}", f"#{r.id} {r.code} ({r.owner})", redact_text(r.title, 200),
                      f"/console/exceptions/{r.id}") for r in rows]
    return Measure(Decimal(n), "", samples, "exceptions")


def queue_stalled(ctx: MonitorContext, cfg: Any) -> Measure:
    cutoff = ctx.now - timedelta(minutes=cfg.after_minutes)
    rows = ctx.store.monitoring.stalled_jobs(before=cutoff)
    samples = [Sample(f"jobs:{r.kind}", r.kind, f"{r.count} job(s), due since {r.oldest:%Y-%m-%d %H:%M} UTC",
                      "/console/") for r in rows]
    return Measure(Decimal(sum(r.count for r in rows)), "", samples[:MAX_SAMPLES], "jobs")


def _describe(template: str) -> Callable[[Any], str]:
    def render(cfg: Any) -> str:
        return template.format(**cfg.model_dump())

    return render


MONITORS: dict[str, MonitorInfo] = {
    "orders_missing": MonitorInfo(
        "Orders missing in NetSuite", "orders", "/console/monitors#orders_missing", orders_missing,
        _describe("TikTok orders awaiting shipment with no NetSuite sales order after {after_minutes} min")),
    "order_totals": MonitorInfo(
        "Order totals differ", "orders", "/console/monitors#order_totals", order_totals,
        _describe("Sales orders whose NetSuite total differs from TikTok's by more than {tolerance}")),
    "fulfillments_unshipped": MonitorInfo(
        "Fulfillments not on TikTok", "fulfillments", "/console/monitors#fulfillments_unshipped",
        fulfillments_unshipped,
        _describe("Fulfillments shipped in NetSuite but not on TikTok after {after_minutes} min")),
    "inventory_drift": MonitorInfo(
        "Inventory drift", "SKUs", "/console/inventory", inventory_drift,
        _describe("SKUs whose TikTok stock differs from the sellable quantity by more than {tolerance_units}")),
    "settlement_variances": MonitorInfo(
        "Settlement variances", "amount", "/console/settlement", settlement_variances,
        _describe("Unexplained settlement variance over the last {lookback_days} days")),
    "ledger_audit": MonitorInfo(
        "Ledger audit", "amount", "/console/exceptions", ledger_audit,
        _describe("NetSuite's general ledger against TikTok's figures (the daily `ttns ledger audit`): any "
                  "difference over {threshold}")),
    "auth_expiring": MonitorInfo(
        "TikTok authorizations expiring", "shops", "/console/connections", auth_expiring,
        _describe("Shops whose TikTok authorization expires within {within_days} days or was revoked")),
    "exceptions_open": MonitorInfo(
        "Exceptions waiting", "exceptions", "/console/exceptions", exceptions_open,
        _describe("Exceptions still open {after_minutes} min after they appeared")),
    "queue_stalled": MonitorInfo(
        "Stalled jobs", "jobs", "/console/", queue_stalled,
        _describe("Jobs due for more than {after_minutes} min that no worker picked up")),
}


# --- evaluation ------------------------------------------------------------------------------------


@dataclass
class Monitoring:
    """The monitors of one deployment: what they read (the store, the ports, the flows they measure; a
    flow left out is reported "not configured") and where alerts go."""

    store: Repositories
    specs: Specs
    clock: Clock
    alerter: Alerts
    tiktok: TikTokOrders | None = None
    totals: NetSuiteTotals | None = None
    fulfillment: FulfillmentSync | None = None
    inventory: InventorySync | None = None
    settlement: SettlementService | None = None
    ledger_audit: LedgerAuditService | None = None

    def spec(self) -> MonitoringSpec:
        """``monitoring.yaml`` when present and valid, else the defaults (a broken unrelated spec must not
        switch monitoring off; ``ttns doctor`` reports it)."""
        try:
            return self.specs.get("monitoring", MonitoringSpec)
        except Exception as exc:
            log.info("monitoring.yaml not loaded (%s); using the defaults", type(exc).__name__)
            return DEFAULT

    def configured_alerter(self, spec: MonitoringSpec) -> Alerts:
        """The alerter with ``monitoring.yaml``'s alert settings applied."""
        alerter = self.alerter
        alerter.renotify = timedelta(minutes=spec.alerts.renotify_minutes)
        alerter.notify_resolved = spec.alerts.notify_resolved
        alerter.min_severity = spec.alerts.min_severity
        return alerter

    def measure(self, spec: MonitoringSpec | None = None, *, only: Sequence[str] = ()) -> list[Reading]:
        """Evaluate the monitors (all enabled ones, or ``only``) without storing or alerting."""
        spec = spec or self.spec()
        ctx = MonitorContext(self, self.store, self.clock.now(), spec)
        out: list[Reading] = []
        for name, info in MONITORS.items():
            if only and name not in only:
                continue
            cfg: MonitorBase = getattr(spec.monitors, name)
            if not cfg.enabled:
                out.append(Reading(name, info.title, "disabled", None, cfg.threshold, info.unit, cfg.severity,
                                   "switched off in monitoring.yaml", [], info.path, ctx.now))
                continue
            try:
                m = info.fn(ctx, cfg)
            except Exception as exc:
                log.exception("monitor %s failed", name)
                out.append(Reading(name, info.title, "error", None, cfg.threshold, info.unit, cfg.severity,
                                   f"the monitor failed: {type(exc).__name__}: {redact_text(str(exc), 300)}", [],
                                   info.path, ctx.now))
                continue
            status = "unavailable" if m.value is None else "alert" if m.value > cfg.threshold else "ok"
            note = m.note or info.describe(cfg)
            out.append(Reading(name, info.title, status, m.value, cfg.threshold, m.unit or info.unit, cfg.severity,
                               note, m.samples, info.path, ctx.now))
        return out

    def evaluate(self, *, alert: bool = True, only: Sequence[str] = ()) -> list[Reading]:
        """Measure, store the readings, and fire / clear alerts. What the scheduled job runs."""
        spec = self.spec()
        readings = self.measure(spec, only=only)
        record_readings(self.store, readings)
        prune_readings(self.store, self.clock.now() - timedelta(days=spec.keep_days))
        if alert:
            alerter = self.configured_alerter(spec)
            for r in readings:
                key = ALERT_PREFIX + r.monitor
                if r.status == "alert":
                    alerter.fire(alert_for(r, spec))
                elif r.status in ("ok", "disabled"):
                    alerter.clear(key)
        return readings

    def handle_run(self, ctx: JobContext) -> dict[str, Any]:
        """``monitoring.run``: evaluate every monitor (or the ``only`` ones: a re-run from the console),
        store the readings, alert."""
        only = [str(m) for m in (ctx.payload or {}).get("only") or [] if str(m) in MONITORS]
        readings = self.evaluate(only=only)
        return {r.monitor: {"status": r.status, "value": None if r.value is None else str(r.value)}
                for r in readings}


def run_every(specs_dir: Path) -> int:
    """The interval of ``monitoring.run`` (the one setting read at start-up; a bad file falls back to the
    default)."""
    every = DEFAULT.every_seconds
    try:
        path = specs_dir / "monitoring.yaml"
        if path.exists():
            every = load_spec(path, MonitoringSpec).every_seconds
    except Exception:
        log.warning("monitoring.yaml could not be read at start-up; monitors run every %s s", every)
    return every


def alert_for(r: Reading, spec: MonitoringSpec) -> Alert:
    value = _fmt(r.value)
    examples = "; ".join(f"{s.label}: {s.detail}" if s.detail else s.label for s in r.samples[:5])
    text = f"{r.title}: {value} {r.unit} (alerts over {_fmt(r.threshold)}). {r.note}".strip()
    if examples:
        text += f"\nExamples: {examples}"
    return Alert(key=ALERT_PREFIX + r.monitor, title=f"{r.title}: {value} {r.unit}", text=text,
                 severity=r.severity, monitor=r.monitor, path=r.path, value=r.value, threshold=r.threshold,
                 fields={"monitor": r.monitor, "unit": r.unit,
                         "samples": [{"entity": s.entity, "label": s.label, "detail": s.detail} for s in
                                     r.samples[:10]]})


def _fmt(v: Decimal | None) -> str:
    if v is None:
        return "n/a"
    return str(v.quantize(Decimal(1))) if v == v.to_integral_value() else str(v)


# --- readings storage -------------------------------------------------------------------------------


def record_readings(store: Repositories, readings: Sequence[Reading]) -> None:
    store.monitoring.record_readings([
        ReadingRow(r.monitor, r.at, r.status, r.value, r.threshold, r.unit, r.note[:2000],
                   [asdict(s) for s in r.samples[:MAX_SAMPLES]]) for r in readings])


def prune_readings(store: Repositories, before: datetime) -> int:
    return store.monitoring.prune_readings(before)


@dataclass(frozen=True)
class StoredReading:
    monitor: str
    at: datetime
    status: str
    value: Decimal | None
    threshold: Decimal | None
    unit: str
    note: str
    samples: list[dict[str, Any]]

    @property
    def title(self) -> str:
        info = MONITORS.get(self.monitor)
        return info.title if info else self.monitor

    @property
    def path(self) -> str:
        info = MONITORS.get(self.monitor)
        return info.path if info else "/console/monitors"


def latest_readings(store: Repositories) -> dict[str, StoredReading]:
    """The newest reading of every monitor (one query)."""
    out = {r.monitor: _stored(r) for r in store.monitoring.latest_readings()}
    return {k: out[k] for k in sorted(out, key=lambda m: list(MONITORS).index(m) if m in MONITORS else 99)}


def history(store: Repositories, since: datetime, monitors: Sequence[str] = ()) -> dict[str, list[StoredReading]]:
    """Readings since ``since`` per monitor, oldest first (one query)."""
    out: dict[str, list[StoredReading]] = {}
    for r in store.monitoring.reading_history(since=since, monitors=monitors):
        out.setdefault(r.monitor, []).append(_stored(r))
    return out


def _stored(r: ReadingRow) -> StoredReading:
    return StoredReading(r.monitor, r.at, r.status, r.value, r.threshold, r.unit, r.note, list(r.samples))


__all__ = [
    "KIND_RUN",
    "MONITORS",
    "Measure",
    "MonitorContext",
    "Monitoring",
    "Reading",
    "Sample",
    "StoredReading",
    "alert_for",
    "as_dict",
    "decimal_or_none",
    "entity_href",
    "history",
    "inventory_rows",
    "latest_readings",
    "report_row",
    "report_variance",
    "run_every",
    "settlement_reports",
]

"""``GET /metrics``: Prometheus text format, computed from the database at scrape time.

Every number comes from the shared tables (jobs, job_attempts, api_calls, inbox, exceptions,
shops, monitor_readings, alerts), so any gunicorn worker on any machine answers the same, and
nothing is lost when a process restarts. Counters are totals over the rows the database holds (a
retention purge looks like a counter reset to Prometheus, which it handles). One scrape runs a
fixed handful of aggregate queries; the result is cached for a few seconds so several scrapers
do not multiply the load.

Protected by default (it names shops and token expiries): a scrape sends ``Authorization: Bearer
<TTNS_METRICS_TOKEN>``, or comes from a logged-in console session. ``TTNS_METRICS_PUBLIC=true`` opens it
to anyone who can reach it (only for a network that keeps it private).
"""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from sqlalchemy import Connection, Engine, case, func, select

from bridge.bootstrap import App
from bridge.store.tables import api_calls, exceptions, inbox, job_attempts, jobs, shops

bp = Blueprint("metrics", __name__)

#: Call outcomes that are answers, not errors: success, and an expected "no such record" (HTTP 404 on a
#: lookup, e.g. NetSuite ``NONEXISTENT_ID`` before the bridge created the record).
NOT_ERRORS = frozenset({"ok", "not_found"})

CACHE_SECONDS = 5.0
JOB_BUCKETS_MS: tuple[int, ...] = (10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000)
API_BUCKETS_MS: tuple[int, ...] = (25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000)
REGISTRY_KEY = "ttns_metrics_registry"


def _read(engine: Engine) -> Connection:
    return engine.connect().execution_options(sqlite_read_only=True)


def _histogram(name: str, doc: str, label: str, rows: Sequence[Any], buckets_ms: Sequence[int]) -> Metric:
    """``rows``: (label value, count ≤ each bucket…, total count, sum of ms)."""
    h = HistogramMetricFamily(name, doc, labels=[label])
    for row in rows:
        value = str(row[0])
        counts = [int(c or 0) for c in row[1:1 + len(buckets_ms)]]
        total, total_ms = int(row[1 + len(buckets_ms)] or 0), float(row[2 + len(buckets_ms)] or 0)
        buckets = [(_le(b), float(c)) for b, c in zip(buckets_ms, counts, strict=True)] + [("+Inf", float(total))]
        h.add_metric([value], buckets, sum_value=total_ms / 1000.0)
    return h


def _le(ms: int) -> str:
    return f"{ms / 1000:g}"


def _bucket_columns(column: Any, buckets_ms: Sequence[int]) -> list[Any]:
    return [func.sum(case((column <= b, 1), else_=0)) for b in buckets_ms] + [func.count(), func.sum(column)]


class DatabaseCollector:
    """A prometheus_client collector reading the store (cached ``CACHE_SECONDS``)."""

    def __init__(self, container: App, cache_seconds: float = CACHE_SECONDS) -> None:
        self.container = container
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Metric]] | None = None

    def describe(self) -> list[Metric]:
        return []  # no describe-time database access (registration must not connect)

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            if self._cached is None or time.monotonic() - self._cached[0] > self.cache_seconds:
                self._cached = (time.monotonic(), self._compute())
            yield from self._cached[1]

    def _compute(self) -> list[Metric]:
        t0 = time.perf_counter()
        c = self.container
        now = c.clock.now()
        out: list[Metric] = []
        with _read(c.store.engine) as conn:
            out += self._queue(conn, now)
            out += self._jobs(conn)
            out += self._api(conn)
            out += self._inbox_and_exceptions(conn)
            out += self._shops(conn)
            out += self._netsuite_clock(conn)
        out += self._monitors()
        scrape = GaugeMetricFamily("ttns_metrics_scrape_duration_seconds", "Time spent computing these metrics.")
        scrape.add_metric([], time.perf_counter() - t0)
        out.append(scrape)
        return out

    def _queue(self, conn: Connection, now: Any) -> list[Metric]:
        depth = GaugeMetricFamily("ttns_queue_depth", "Jobs waiting or running, by kind and state "
                                  "(due: runnable now; scheduled: a retry or a later run).", labels=["kind", "state"])
        oldest = GaugeMetricFamily("ttns_queue_oldest_due_seconds", "Age of the oldest runnable job, by kind.",
                                   labels=["kind"])
        stuck = CounterMetricFamily("ttns_jobs_stopped", "Jobs that stopped without succeeding (failed: raised an "
                                    "exception for a person; dead: retries exhausted or fatal), by kind. A replay is "
                                    "a new job; open exceptions are ttns_exceptions.", labels=["kind", "status"])
        due = jobs.c.run_at <= now
        rows = conn.execute(
            select(jobs.c.kind, jobs.c.status, func.count(), func.sum(case((due, 1), else_=0)),
                   func.min(case((due, jobs.c.run_at), else_=None)))
            .where(jobs.c.status.in_(("queued", "running", "failed", "dead")))
            .group_by(jobs.c.kind, jobs.c.status)
        ).all()
        # Every registered job kind is present, at zero when idle (an absent series cannot alert).
        for kind in self.container.registry.kinds():
            if kind not in {r[0] for r in rows if r[1] == "queued"}:
                depth.add_metric([kind, "due"], 0)
                depth.add_metric([kind, "scheduled"], 0)
                oldest.add_metric([kind], 0.0)
            if kind not in {r[0] for r in rows if r[1] == "running"}:
                depth.add_metric([kind, "running"], 0)
            for status in ("failed", "dead"):
                if (kind, status) not in {(r[0], r[1]) for r in rows}:
                    stuck.add_metric([kind, status], 0)
        for kind, status, raw_n, raw_due, first in rows:
            n, n_due = int(raw_n), int(raw_due or 0)
            if status == "queued":
                depth.add_metric([kind, "due"], n_due)
                depth.add_metric([kind, "scheduled"], n - n_due)
                oldest.add_metric([kind], max(0.0, (now - first).total_seconds()) if first is not None else 0.0)
            elif status == "running":
                depth.add_metric([kind, "running"], n)
            else:
                stuck.add_metric([kind, status], n)
        return [depth, oldest, stuck]

    def _jobs(self, conn: Connection) -> list[Metric]:
        outcomes = CounterMetricFamily("ttns_job_attempts", "Job attempts by kind and outcome (ok, retry, "
                                       "needs_human, fatal, dead, skipped, lease_lost …).", labels=["kind", "outcome"])
        joined = job_attempts.join(jobs, jobs.c.id == job_attempts.c.job_id)
        for kind, outcome, n in conn.execute(select(jobs.c.kind, job_attempts.c.outcome, func.count())
                                             .select_from(joined)
                                             .group_by(jobs.c.kind, job_attempts.c.outcome)).all():
            outcomes.add_metric([kind, outcome], int(n))
        rows = conn.execute(select(jobs.c.kind, *_bucket_columns(job_attempts.c.duration_ms, JOB_BUCKETS_MS))
                            .select_from(joined).group_by(jobs.c.kind)).all()
        hist = _histogram("ttns_job_duration_seconds", "Run time of job attempts, by kind.", "kind", rows,
                          JOB_BUCKETS_MS)
        return [outcomes, hist]

    def _api(self, conn: Connection) -> list[Metric]:
        calls = CounterMetricFamily("ttns_api_calls", "Outbound API calls by system and outcome.",
                                    labels=["system", "outcome"])
        errors = CounterMetricFamily("ttns_api_errors", "Outbound API calls that did not succeed, by system and "
                                     "HTTP status (none: no answer).", labels=["system", "status"])
        by_outcome: dict[tuple[str, str], int] = {}
        by_status: dict[tuple[str, str], int] = {}
        for system, outcome, status, n in conn.execute(
            select(api_calls.c.system, api_calls.c.outcome, api_calls.c.status, func.count())
            .group_by(api_calls.c.system, api_calls.c.outcome, api_calls.c.status)
        ).all():
            k = (str(system), str(outcome))
            by_outcome[k] = by_outcome.get(k, 0) + int(n)
            if outcome not in NOT_ERRORS:
                k = (str(system), str(status) if status is not None else "none")
                by_status[k] = by_status.get(k, 0) + int(n)
        for system in ("netsuite", "tiktok"):
            by_outcome.setdefault((system, "ok"), 0)
        for labels, n in sorted(by_outcome.items()):
            calls.add_metric(list(labels), n)
        for labels, n in sorted(by_status.items()):
            errors.add_metric(list(labels), n)
        rows = conn.execute(select(api_calls.c.system, *_bucket_columns(api_calls.c.duration_ms, API_BUCKETS_MS))
                            .group_by(api_calls.c.system)).all()
        hist = _histogram("ttns_api_call_duration_seconds", "Latency of outbound API calls, by system.", "system",
                          rows, API_BUCKETS_MS)
        return [calls, errors, hist]

    def _inbox_and_exceptions(self, conn: Connection) -> list[Metric]:
        events = CounterMetricFamily("ttns_inbound_events", "Inbound events stored (webhooks, NetSuite events), by "
                                     "source and routing status.", labels=["source", "status"])
        seen = {("tiktok", "routed"): 0, ("netsuite", "routed"): 0}
        for source, status, n in conn.execute(select(inbox.c.source, inbox.c.status, func.count())
                                              .group_by(inbox.c.source, inbox.c.status)).all():
            seen[(str(source), str(status))] = int(n)
        for (source, status), n in sorted(seen.items()):
            events.add_metric([source, status], n)
        excs = GaugeMetricFamily("ttns_exceptions", "Exceptions by owner and status (open ones wait for a person).",
                                 labels=["owner", "status"])
        counts = {("ops", "open"): 0, ("finance", "open"): 0, ("admin", "open"): 0}
        for owner, status, n in conn.execute(select(exceptions.c.owner, exceptions.c.status, func.count())
                                             .group_by(exceptions.c.owner, exceptions.c.status)).all():
            counts[(str(owner), str(status))] = int(n)
        for (owner, status), n in sorted(counts.items()):
            excs.add_metric([owner, status], n)
        return [events, excs]

    def _shops(self, conn: Connection) -> list[Metric]:
        access = GaugeMetricFamily("ttns_shop_access_token_expiry_timestamp_seconds",
                                   "When each shop's TikTok access token expires (refreshed automatically).",
                                   labels=["shop_id"])
        auth = GaugeMetricFamily("ttns_shop_authorization_expiry_timestamp_seconds",
                                 "When each shop's TikTok authorization expires (the shop must reconnect).",
                                 labels=["shop_id"])
        active = GaugeMetricFamily("ttns_shops", "Connected shops by status.", labels=["status"])
        counts: dict[str, int] = {}
        for sid, status, a, r in conn.execute(select(shops.c.id, shops.c.status, shops.c.access_expires_at,
                                                     shops.c.refresh_expires_at)).all():
            counts[status] = counts.get(status, 0) + 1
            if a is not None:
                access.add_metric([sid], a.timestamp())
            if r is not None:
                auth.add_metric([sid], r.timestamp())
        counts.setdefault("active", 0)
        for status, n in sorted(counts.items()):
            active.add_metric([status], n)
        return [access, auth, active]

    def _netsuite_clock(self, conn: Connection) -> list[Metric]:
        """How far NetSuite's event timestamps are behind this bridge's clock: from the latest accepted
        event (received minus signed timestamp) or the latest refused one, whichever is newer."""
        import json
        from datetime import datetime

        from bridge.web.netsuite_events import CLOCK_SKEW_CODE, CLOCK_SKEW_CURSOR

        gauge = GaugeMetricFamily("ttns_netsuite_clock_skew_seconds", "Seconds NetSuite's signed event timestamps "
                                  "are behind this bridge's clock (negative: ahead), from the latest event; beyond "
                                  "the 300 s window events are refused.")
        refused = CounterMetricFamily("ttns_netsuite_events_refused_clock_skew", "Correctly signed NetSuite events "
                                      "refused because the clocks are too far apart.")
        latest: tuple[datetime, float] | None = None
        row = conn.execute(select(inbox.c.received_at, inbox.c.headers).where(inbox.c.source == "netsuite")
                           .order_by(inbox.c.id.desc()).limit(1)).first()
        if row is not None:
            ts = str((row.headers or {}).get("X-TTNS-Timestamp", ""))
            if ts.isdigit():
                latest = (row.received_at, row.received_at.timestamp() - int(ts))
        from bridge.store.tables import cursors

        raw = conn.execute(select(cursors.c.value).where(cursors.c.name == CLOCK_SKEW_CURSOR)).scalar()
        if raw:
            try:
                seen = json.loads(raw)
                at = datetime.fromisoformat(seen["at"])
                if latest is None or at > latest[0]:
                    latest = (at, float(seen["offset_seconds"]))
            except (ValueError, KeyError, TypeError):
                pass
        if latest is not None:
            gauge.add_metric([], latest[1])
        n = conn.execute(select(func.coalesce(func.sum(exceptions.c.occurrences), 0))
                         .where(exceptions.c.code == CLOCK_SKEW_CODE)).scalar()
        refused.add_metric([], float(n or 0))
        return [gauge, refused]

    def _monitors(self) -> list[Metric]:
        from bridge.alerts import AlertStore
        from bridge.flows.monitoring import latest_readings

        drift = GaugeMetricFamily("ttns_drift", "Latest value of each drift monitor (absent when it cannot measure).",
                                  labels=["monitor"])
        threshold = GaugeMetricFamily("ttns_drift_threshold", "Each drift monitor alerts over this value.",
                                      labels=["monitor"])
        alerting = GaugeMetricFamily("ttns_drift_alerting", "1 when the monitor's latest value is over its threshold.",
                                     labels=["monitor"])
        last = GaugeMetricFamily("ttns_drift_measured_timestamp_seconds", "When each monitor last ran.",
                                 labels=["monitor"])
        for name, r in latest_readings(self.container.store).items():
            if r.value is not None:
                drift.add_metric([name], float(r.value))
            if r.threshold is not None:
                threshold.add_metric([name], float(r.threshold))
            alerting.add_metric([name], 1.0 if r.status == "alert" else 0.0)
            last.add_metric([name], r.at.timestamp())
        firing = GaugeMetricFamily("ttns_alerts_firing", "Alerts currently firing.")
        firing.add_metric([], AlertStore(self.container.store.engine).count("firing"))
        return [drift, threshold, alerting, last, firing]


def _token(container: App) -> str:
    raw = container.settings.metrics_token
    if raw is None:
        return ""
    value = raw.get_secret_value() if hasattr(raw, "get_secret_value") else str(raw)
    return str(value)


def _allowed(container: App) -> bool:
    if container.settings.metrics_public:
        return True
    expected = _token(container)
    supplied = request.headers.get("Authorization", "")
    if expected and hmac.compare_digest(supplied.encode(), f"Bearer {expected}".encode()):
        return True
    from bridge.web.auth import current_user

    return current_user() is not None


@bp.get("/metrics")
def metrics() -> Response:
    container: App = current_app.extensions["ttns"]
    if not _allowed(container):
        hint = "send Authorization: Bearer <TTNS_METRICS_TOKEN>" if _token(container) else \
            "set TTNS_METRICS_TOKEN and send it as Authorization: Bearer <token>"
        return Response(f"/metrics is protected: {hint}\n", status=401, mimetype="text/plain",
                        headers={"WWW-Authenticate": "Bearer", "Cache-Control": "no-store"})
    registry: CollectorRegistry = current_app.extensions[REGISTRY_KEY]
    body = generate_latest(registry)
    return Response(body, content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})


# Webhook acknowledgement: from the request reaching the bridge to its answer (verify, store, answer). Kept in
# the process, not the database: under `ttns web` the gunicorn workers share it through prometheus_client's
# multiprocess files (PROMETHEUS_MULTIPROC_DIR, set by `ttns web`), so any worker's scrape has every worker's.
ACK_BUCKETS_S: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
ACK_PATHS = {"/webhooks/tiktok": "tiktok", "/netsuite/events": "netsuite"}
ACK_KEY = "ttns_webhook_ack"


def _ack_histogram(registry: CollectorRegistry | None) -> Any:
    from prometheus_client import Histogram

    hist = Histogram("ttns_webhook_ack_seconds", "Time from a webhook (TikTok) or NetSuite event reaching the bridge "
                     "to its answer, by source (TikTok wants 200 within 3 s).", labelnames=["source"],
                     buckets=ACK_BUCKETS_S, registry=registry)
    for source in ACK_PATHS.values():  # present at zero before the first webhook
        hist.labels(source)
    return hist


def multiprocess_dir() -> str:
    import os

    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


def init_app(app: Flask, container: App) -> None:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(container))
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        hist = _ack_histogram(None)  # values go to the shared files the collector reads
    else:
        hist = _ack_histogram(registry)
    app.extensions[REGISTRY_KEY] = registry
    app.extensions[ACK_KEY] = hist

    @app.after_request
    def _observe_ack(resp: Response) -> Response:
        from flask import g

        source = ACK_PATHS.get(request.path)
        started = getattr(g, "started", None)
        if source is not None and started is not None and request.method == "POST":
            hist.labels(source).observe(time.perf_counter() - started)
        return resp

    app.register_blueprint(bp)


__all__ = ["DatabaseCollector", "init_app"]

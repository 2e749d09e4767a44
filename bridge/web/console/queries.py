"""Read models of the console: a fixed, small number of queries per page (no N+1), paginated.

Everything here reads the shared tables through SQLAlchemy Core on read-only connections; writes
go through the store's repositories in the views.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, case, func, or_, select

from bridge.domain.keys import order_key, order_key_prefix
from bridge.domain.order_memory import OrderMemory
from bridge.errors import redact_mapping, redact_text
from bridge.store.tables import api_calls, audit_log, exceptions, inbox, job_attempts, jobs, links

PAYLOAD_CHARS = 20000
LATENCY_SAMPLE = 20000


def read(engine: Engine) -> Connection:
    """A connection for reads (on SQLite it does not take the write lock)."""
    return engine.connect().execution_options(sqlite_read_only=True)


def percentile(sorted_values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile of an ascending sequence (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def flow_of(kind: str) -> str:
    return kind.split(".", 1)[0]


# --- pagination ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    number: int
    size: int
    total: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


# --- dashboard -------------------------------------------------------------------------------------


@dataclass
class FlowStat:
    flow: str
    kinds: set[str] = field(default_factory=set)
    queued_due: int = 0
    queued_later: int = 0
    running: int = 0
    failed: int = 0  # jobs stopped for a person (historical: a replay is a new job)
    dead: int = 0
    open_exceptions: int = 0  # what waits for a person now
    done_hour: int = 0
    done_day: int = 0
    attempts_hour: int = 0
    errors_hour: int = 0
    oldest_due_seconds: float | None = None
    run_ms: dict[str, float | None] = field(default_factory=dict)  # p50/p95/p99 of attempt durations
    e2e_s: dict[str, float | None] = field(default_factory=dict)  # enqueue → done, seconds

    @property
    def backlog(self) -> int:
        return self.queued_due + self.running


def flow_stats(engine: Engine, now: datetime, known_kinds: Iterable[str] = ()) -> list[FlowStat]:
    """Throughput, backlog and latency percentiles per flow (job kind prefix). Six queries."""
    hour, day = now - timedelta(hours=1), now - timedelta(days=1)
    stats: dict[str, FlowStat] = {}

    def st(kind: str) -> FlowStat:
        s = stats.setdefault(flow_of(kind), FlowStat(flow_of(kind)))
        s.kinds.add(kind)
        return s

    for k in known_kinds:
        st(k)
    with read(engine) as c:
        due = jobs.c.run_at <= now
        for kind, status, raw_n, raw_due, oldest in c.execute(
            select(jobs.c.kind, jobs.c.status, func.count(), func.sum(case((due, 1), else_=0)),
                   func.min(case((due, jobs.c.run_at), else_=None)))
            .where(jobs.c.status.in_(("queued", "running", "failed", "dead")))
            .group_by(jobs.c.kind, jobs.c.status)
        ).all():
            s = st(str(kind))
            n, n_due = int(raw_n), int(raw_due or 0)
            if status == "queued":
                s.queued_due += n_due
                s.queued_later += n - n_due
                age = (now - oldest).total_seconds() if oldest else None
                if age is not None and (s.oldest_due_seconds is None or age > s.oldest_due_seconds):
                    s.oldest_due_seconds = age
            elif status == "running":
                s.running += n
            elif status == "failed":
                s.failed += n
            else:
                s.dead += n
        for kind, n in c.execute(
            select(exceptions.c.job_kind, func.count())
            .where(exceptions.c.status == "open", exceptions.c.job_kind.is_not(None))
            .group_by(exceptions.c.job_kind)
        ).all():
            st(str(kind)).open_exceptions += int(n)
        for kind, outcome, n in c.execute(
            select(jobs.c.kind, job_attempts.c.outcome, func.count())
            .select_from(job_attempts.join(jobs, jobs.c.id == job_attempts.c.job_id))
            .where(job_attempts.c.finished_at >= hour)
            .group_by(jobs.c.kind, job_attempts.c.outcome)
        ).all():
            s = st(str(kind))
            s.attempts_hour += int(n)
            if outcome == "ok":
                s.done_hour += int(n)
            elif outcome not in ("skipped", "released"):
                s.errors_hour += int(n)
        for kind, n in c.execute(
            select(jobs.c.kind, func.count())
            .select_from(job_attempts.join(jobs, jobs.c.id == job_attempts.c.job_id))
            .where(job_attempts.c.finished_at >= day, job_attempts.c.outcome == "ok")
            .group_by(jobs.c.kind)
        ).all():
            st(str(kind)).done_day += int(n)
        durations: dict[str, list[float]] = {}
        e2e: dict[str, list[float]] = {}
        for kind, ms, outcome, created, finished in c.execute(
            select(jobs.c.kind, job_attempts.c.duration_ms, job_attempts.c.outcome, jobs.c.created_at,
                   job_attempts.c.finished_at)
            .select_from(job_attempts.join(jobs, jobs.c.id == job_attempts.c.job_id))
            .where(job_attempts.c.finished_at >= hour)
            .order_by(job_attempts.c.id.desc())
            .limit(LATENCY_SAMPLE)
        ).all():
            f = flow_of(str(kind))
            durations.setdefault(f, []).append(float(ms))
            if outcome == "ok" and created is not None:
                e2e.setdefault(f, []).append(max(0.0, (finished - created).total_seconds()))
    for f, s in stats.items():
        d = sorted(durations.get(f, []))
        s.run_ms = {p: percentile(d, q) for p, q in (("p50", 50), ("p95", 95), ("p99", 99))}
        e = sorted(e2e.get(f, []))
        s.e2e_s = {p: percentile(e, q) for p, q in (("p50", 50), ("p95", 95), ("p99", 99))}
    return sorted(stats.values(), key=lambda s: s.flow)


@dataclass(frozen=True)
class ApiStat:
    system: str
    calls: int
    errors: int
    p50_ms: float | None
    p95_ms: float | None
    last_at: datetime | None
    last_error: str


def api_stats(engine: Engine, since: datetime) -> list[ApiStat]:
    """Calls, errors and latency per system since ``since`` (two queries)."""
    out: dict[str, list[Any]] = {}
    with read(engine) as c:
        for system, outcome, ms, at, status, code, op in c.execute(
            select(api_calls.c.system, api_calls.c.outcome, api_calls.c.duration_ms, api_calls.c.at,
                   api_calls.c.status, api_calls.c.code, api_calls.c.operation)
            .where(api_calls.c.at >= since).order_by(api_calls.c.id.desc()).limit(LATENCY_SAMPLE)
        ).all():
            rec = out.setdefault(str(system), [0, 0, [], None, ""])
            rec[0] += 1
            rec[2].append(float(ms))
            if rec[3] is None or at > rec[3]:
                rec[3] = at
            if outcome not in ("ok", "not_found"):  # a lookup answering "no such record" is not an error
                rec[1] += 1
                if not rec[4]:
                    rec[4] = f"{op}: HTTP {status or '-'} {code or ''}".strip()
    stats = []
    for system, (calls, errors, ms, last_at, last_error) in sorted(out.items()):
        ms.sort()
        stats.append(ApiStat(system, calls, errors, percentile(ms, 50), percentile(ms, 95), last_at, last_error))
    return stats


def inbox_stats(engine: Engine, since: datetime) -> dict[tuple[str, str], int]:
    with read(engine) as c:
        rows = c.execute(select(inbox.c.source, inbox.c.status, func.count()).where(inbox.c.received_at >= since)
                         .group_by(inbox.c.source, inbox.c.status)).all()
    return {(str(s), str(st)): int(n) for s, st, n in rows}


# --- exceptions ------------------------------------------------------------------------------------


OWNERS = ("ops", "finance", "admin")


def exception_counts(engine: Engine) -> dict[str, dict[str, int]]:
    """{status: {owner: n}} (one query)."""
    out: dict[str, dict[str, int]] = {}
    with read(engine) as c:
        for status, owner, n in c.execute(select(exceptions.c.status, exceptions.c.owner, func.count())
                                          .group_by(exceptions.c.status, exceptions.c.owner)).all():
            out.setdefault(str(status), {})[str(owner)] = int(n)
    return out


def exceptions_page(engine: Engine, *, status: str | None, owner: str | None, entity: str | None,
                    code: str | None, page: int, size: int) -> tuple[list[dict[str, Any]], Page]:
    conds = []
    if status:
        conds.append(exceptions.c.status == status)
    if owner:
        conds.append(exceptions.c.owner == owner)
    if entity:
        conds.append(exceptions.c.entity == entity)
    if code:
        conds.append(exceptions.c.code == code)
    where = and_(*conds) if conds else and_(exceptions.c.id.is_not(None))
    with read(engine) as c:
        total = int(c.execute(select(func.count()).select_from(exceptions).where(where)).scalar_one())
        p = Page(page, size, total)
        rows = [dict(r) for r in c.execute(
            select(exceptions).where(where).order_by(exceptions.c.last_seen.desc(), exceptions.c.id.desc())
            .limit(size).offset(p.offset)).mappings()]
    return rows, p


# --- orders ----------------------------------------------------------------------------------------


def orders_page(engine: Engine, *, q: str, status: str, page: int, size: int) -> tuple[list[dict[str, Any]], Page]:
    conds = [links.c.kind == "order"]
    if q:
        conds.append(or_(links.c.tiktok_id == q, links.c.netsuite_id == q, links.c.external_id == q))
    if status == "synced":
        conds.append(links.c.netsuite_id.is_not(None))
    elif status == "pending":
        conds.append(links.c.netsuite_id.is_(None))
    where = and_(*conds)
    with read(engine) as c:
        total = int(c.execute(select(func.count()).select_from(links).where(where)).scalar_one())
        p = Page(page, size, total)
        rows = [dict(r) for r in c.execute(
            select(links).where(where).order_by(links.c.updated_at.desc(), links.c.id.desc())
            .limit(size).offset(p.offset)).mappings()]
    return rows, p


def recent_order_entities(engine: Engine, q: str, limit: int = 20) -> list[str]:
    """Order entities the bridge heard about but holds no link for (the sync never got far)."""
    with read(engine) as c:
        rows = c.execute(select(inbox.c.entity, func.max(inbox.c.id)).where(
            inbox.c.entity.like(order_key("%", _like(q)) if q else order_key_prefix() + "%", escape="\\"))
            .group_by(inbox.c.entity).order_by(func.max(inbox.c.id).desc()).limit(limit)).all()
    return [str(r[0]) for r in rows]


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- timelines -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # webhook | job | attempt | call | exception | audit
    title: str
    detail: str = ""
    status: str = ""
    correlation_id: str = ""
    payload: str = ""
    href: str = ""
    ms: int | None = None


@dataclass
class Timeline:
    entity: str
    events: list[Event]
    link: dict[str, Any] | None
    exceptions: list[dict[str, Any]]
    correlation_ids: list[str]
    truncated: bool = False


def pretty_payload(raw: bytes | str | dict[str, Any] | list[Any] | None) -> str:
    """JSON pretty-printed with secret-looking keys masked; anything else redacted as text."""
    if raw is None:
        return ""
    data: Any = raw
    if isinstance(raw, bytes | str):
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        try:
            data = json.loads(text)
        except ValueError:
            return redact_text(text, PAYLOAD_CHARS)
    out = json.dumps(redact_mapping(data), indent=2, sort_keys=True, default=str, ensure_ascii=False)
    return redact_text(out, PAYLOAD_CHARS)


def order_timeline(engine: Engine, entity: str, shop_id: str, order_id: str, limit: int = 500) -> Timeline:
    """Every webhook (inbox), job, attempt, API call, exception and audit entry for one order, joined
    by entity and by the correlation ids its events carried. Seven queries, whatever the size."""
    with read(engine) as c:
        inbox_rows = c.execute(select(inbox).where(inbox.c.entity == entity).order_by(inbox.c.id)
                               .limit(limit)).mappings().all()
        cids = sorted({r["correlation_id"] for r in inbox_rows if r["correlation_id"]})
        job_cond = jobs.c.key == entity
        if cids:  # jobs the order's webhooks caused under other keys (a package, a return …)
            job_cond = or_(job_cond, jobs.c.correlation_id.in_(cids))
        job_rows = c.execute(select(jobs).where(job_cond).order_by(jobs.c.id).limit(limit)).mappings().all()
        job_ids = [int(r["id"]) for r in job_rows]
        attempts = c.execute(select(job_attempts).where(job_attempts.c.job_id.in_(job_ids))
                             .order_by(job_attempts.c.id).limit(limit * 4)).mappings().all() if job_ids else []
        call_cond = api_calls.c.entity == entity
        if job_ids:
            call_cond = or_(call_cond, api_calls.c.job_id.in_(job_ids))
        calls = c.execute(select(api_calls).where(call_cond).order_by(api_calls.c.id).limit(limit * 2)).mappings().all()
        excs = [dict(r) for r in c.execute(select(exceptions).where(exceptions.c.entity == entity)
                                           .order_by(exceptions.c.id)).mappings()]
        audits = c.execute(select(audit_log).where(audit_log.c.entity == entity).order_by(audit_log.c.id)
                           .limit(limit)).mappings().all()
        link = c.execute(select(links).where(links.c.kind == "order", links.c.shop_id == shop_id,
                                             links.c.tiktok_id == order_id)).mappings().first()
    events = _events(inbox_rows, job_rows, attempts, calls, excs, audits)
    all_cids = sorted(set(cids) | {str(r["correlation_id"]) for r in job_rows if r["correlation_id"]})
    truncated = len(inbox_rows) >= limit or len(job_rows) >= limit or len(calls) >= limit * 2
    return Timeline(entity, events, dict(link) if link else None, excs, all_cids, truncated)


def trace(engine: Engine, cid: str, limit: int = 500) -> Timeline:
    """Everything that carried correlation id ``cid`` (one inbound event and what it caused)."""
    with read(engine) as c:
        inbox_rows = c.execute(select(inbox).where(inbox.c.correlation_id == cid).order_by(inbox.c.id)
                               .limit(limit)).mappings().all()
        job_rows = c.execute(select(jobs).where(jobs.c.correlation_id == cid).order_by(jobs.c.id)
                             .limit(limit)).mappings().all()
        job_ids = [int(r["id"]) for r in job_rows]
        attempts = c.execute(select(job_attempts).where(job_attempts.c.job_id.in_(job_ids))
                             .order_by(job_attempts.c.id).limit(limit * 4)).mappings().all() if job_ids else []
        calls = c.execute(select(api_calls).where(api_calls.c.correlation_id == cid).order_by(api_calls.c.id)
                          .limit(limit * 2)).mappings().all()
        excs = [dict(r) for r in c.execute(select(exceptions).where(exceptions.c.correlation_id == cid)
                                           .order_by(exceptions.c.id)).mappings()]
        audits = c.execute(select(audit_log).where(audit_log.c.correlation_id == cid).order_by(audit_log.c.id)
                           .limit(limit)).mappings().all()
    events = _events(inbox_rows, job_rows, attempts, calls, excs, audits)
    return Timeline(f"correlation {cid}", events, None, excs, [cid], len(calls) >= limit * 2)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _events(inbox_rows: Sequence[Any], job_rows: Sequence[Any], attempts: Sequence[Any], calls: Sequence[Any],
            excs: Sequence[dict[str, Any]], audits: Sequence[Any]) -> list[Event]:
    from bridge.web.console.words import attempt_words, call_words, job_words, webhook_words

    ev: list[Event] = []
    kinds = {int(j["id"]): str(j["kind"]) for j in job_rows}
    for r in inbox_rows:
        ev.append(Event(r["received_at"], "webhook", webhook_words(str(r["source"]), str(r["topic"] or ""), r["body"]),
                        f"event {r['event_id']}" + (f" · {r['note']}" if r["note"] else ""), str(r["status"]),
                        str(r["correlation_id"]), pretty_payload(r["body"])))
    for j in job_rows:
        payload = pretty_payload(j["payload"])
        if j["result"]:
            payload += "\n\nresult:\n" + pretty_payload(j["result"])
        ev.append(Event(j["created_at"], "job", f"Queued: {job_words(str(j['kind']))}",
                        f"job #{j['id']} ({j['kind']}); now {j['status']} after {j['attempts']} attempt(s)",
                        str(j["status"]), str(j["correlation_id"]), payload))
    for a in attempts:
        kind = kinds.get(int(a["job_id"]), "")
        ev.append(Event(a["started_at"], "attempt",
                        f"{_sentence(job_words(kind))}: {attempt_words(str(a['outcome']))}"
                        + (f" (try {a['attempt']})" if int(a["attempt"]) > 1 else ""),
                        redact_text(a["error"] or "", 2000) or f"job #{a['job_id']}, worker {a['worker']}",
                        str(a["outcome"]), str(a["correlation_id"]), ms=int(a["duration_ms"])))
    for call in calls:
        ev.append(Event(call["at"], "call",
                        call_words(str(call["system"]), str(call["operation"]), call["status"], str(call["outcome"])),
                        f"{call['method']} {redact_text(call['path'], 500)}"
                        + (f" · request id {call['request_id']}" if call["request_id"] else "")
                        + (f" · code {call['code']}" if call["code"] else ""),
                        "" if call["outcome"] in ("ok", "not_found") else str(call["outcome"]),
                        str(call["correlation_id"]), ms=int(call["duration_ms"])))
    for e in excs:
        ev.append(Event(e["first_seen"], "exception", f"Needs a person: {e['code']} (queue: {e['owner']})",
                        redact_text(str(e["title"]), 500), str(e["status"]), str(e["correlation_id"]),
                        href=f"/console/exceptions/{e['id']}"))
    for a in audits:
        who = str(a["actor"]).removeprefix("user:")
        ev.append(Event(a["at"], "audit", f"{who}: {str(a['action']).replace('.', ' ').replace('_', ' ')}",
                        pretty_payload(a["detail"]), "", str(a["correlation_id"])))
    order = {"webhook": 0, "job": 1, "attempt": 2, "call": 3, "exception": 4, "audit": 5}
    ev.sort(key=lambda e: (e.at, order.get(e.kind, 9)))
    return ev


# --- what the order page shows beside the timeline ------------------------------------------------


WEBHOOK_STATUS_ROWS = 20


def webhook_status(engine: Engine, entity: str) -> tuple[str, datetime] | None:
    """The order status the newest TikTok order event for ``entity`` carried, and when TikTok
    changed it (the event's ``update_time``, else its ``timestamp``, else when it arrived)."""
    return webhook_statuses(engine, [entity]).get(entity)


def webhook_statuses(engine: Engine, entities: Sequence[str]) -> dict[str, tuple[str, datetime]]:
    """``webhook_status`` for many orders in one query (the orders list): the newest events of each
    entity, ranked per entity in SQL so a busy order cannot crowd out the others."""
    wanted = sorted(set(entities))
    if not wanted:
        return {}
    ranked = select(inbox.c.entity, inbox.c.body, inbox.c.received_at, func.row_number().over(
        partition_by=inbox.c.entity, order_by=inbox.c.id.desc()).label("n")).where(
        inbox.c.entity.in_(wanted), inbox.c.source == "tiktok").subquery()
    with read(engine) as c:
        rows = c.execute(select(ranked.c.entity, ranked.c.body, ranked.c.received_at)
                         .where(ranked.c.n <= WEBHOOK_STATUS_ROWS)).all()
    best: dict[str, tuple[str, datetime]] = {}
    for entity, body, received in rows:
        found = _event_status(body, received)
        if found is not None and (entity not in best or found[1] > best[entity][1]):
            best[str(entity)] = found
    return best


def _event_status(body: bytes | str | None, received: datetime) -> tuple[str, datetime] | None:
    try:
        doc = json.loads(bytes(body).decode("utf-8") if isinstance(body, bytes | bytearray | memoryview)
                         else str(body or ""))
    except ValueError:
        return None
    data = doc.get("data") if isinstance(doc, dict) else None
    status = data.get("order_status") if isinstance(data, dict) else None
    if not isinstance(status, str) or not status:
        return None
    raw = data.get("update_time") or doc.get("timestamp")  # type: ignore[union-attr]
    at = datetime.fromtimestamp(int(raw), UTC) if isinstance(raw, int | float) or (
        isinstance(raw, str) and raw.isdigit()) else received
    return status, at


def tiktok_status(link: dict[str, Any] | None, event: tuple[str, datetime] | None) -> dict[str, Any]:
    """The current TikTok status: the newer of what the last sync or poll read (the link) and what the
    newest order event said, with where it came from and when TikTok changed it."""
    memory = OrderMemory.parse((link or {}).get("data"))
    synced = memory.tiktok_status
    ts = memory.tiktok_update_time
    synced_at = datetime.fromtimestamp(ts, UTC) if ts else None
    if event is not None and (not synced or synced_at is None or event[1] > synced_at):
        return {"status": event[0], "at": event[1], "source": "webhook"}
    if synced:
        return {"status": str(synced), "at": synced_at, "source": "sync"}
    return {"status": "", "at": None, "source": ""}


def order_related(engine: Engine, shop_id: str, order_id: str) -> dict[str, list[dict[str, Any]]]:
    """Fulfillments and returns linked to the order, and its settlement lines with the statement
    journals they were posted in (four queries)."""
    from bridge.store.tables import load_area_tables

    md = load_area_tables()
    out: dict[str, list[dict[str, Any]]] = {"fulfillments": [], "returns": [], "settlement": []}
    with read(engine) as c:
        for kind, key in (("fulfillment", "fulfillments"), ("return", "returns")):
            rows = c.execute(select(links).where(links.c.kind == kind, links.c.shop_id == shop_id,
                                                 links.c.data["order_id"].as_string() == order_id)
                             .order_by(links.c.id).limit(50)).mappings().all()
            out[key] = [dict(r) for r in rows]
        lines_t = md.tables.get("settlement_lines")
        postings_t = md.tables.get("settlement_postings")
        if lines_t is None or postings_t is None:
            return out
        lines = c.execute(select(lines_t).where(lines_t.c.shop_id == shop_id, lines_t.c.related_order_id == order_id)
                          .order_by(lines_t.c.id).limit(100)).mappings().all()
        sids = sorted({str(r["statement_id"]) for r in lines})
        postings: dict[str, list[dict[str, Any]]] = {}
        if sids:
            for r in c.execute(select(postings_t).where(postings_t.c.shop_id == shop_id,
                                                        postings_t.c.source == "statement",
                                                        postings_t.c.source_id.in_(sids))
                               .order_by(postings_t.c.seq)).mappings():
                postings.setdefault(str(r["source_id"]), []).append(dict(r))
        out["settlement"] = [{**dict(r), "postings": postings.get(str(r["statement_id"]), [])} for r in lines]
    return out


def shop_names(engine: Engine) -> dict[str, str]:
    from bridge.store.tables import shops

    with read(engine) as c:
        return {str(i): str(n or i) for i, n in c.execute(select(shops.c.id, shops.c.name)).all()}


# --- per-flow run history --------------------------------------------------------------------------


@dataclass
class HourStat:
    hour: datetime
    attempts: int = 0
    ok: int = 0
    errors: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None


def flow_history(engine: Engine, flow: str, now: datetime, hours: int = 24,
                 recent: int = 50) -> tuple[list[HourStat], list[dict[str, Any]]]:
    """Attempts of one flow per hour (counts, errors, p50/p95 run time) over ``hours``, and its
    latest attempts (two queries)."""
    start = (now - timedelta(hours=hours - 1)).replace(minute=0, second=0, microsecond=0)
    buckets = {start + timedelta(hours=i): HourStat(start + timedelta(hours=i)) for i in range(hours)}
    kind_cond = or_(jobs.c.kind == flow, jobs.c.kind.like(f"{_like(flow)}.%", escape="\\"))
    durations: dict[datetime, list[float]] = {}
    with read(engine) as c:
        for outcome, ms, finished in c.execute(
            select(job_attempts.c.outcome, job_attempts.c.duration_ms, job_attempts.c.finished_at)
            .select_from(job_attempts.join(jobs, jobs.c.id == job_attempts.c.job_id))
            .where(kind_cond, job_attempts.c.finished_at >= start).limit(LATENCY_SAMPLE)
        ).all():
            hour = finished.replace(minute=0, second=0, microsecond=0)
            b = buckets.get(hour)
            if b is None:
                continue
            b.attempts += 1
            if outcome == "ok":
                b.ok += 1
            elif outcome not in ("skipped", "released"):
                b.errors += 1
            durations.setdefault(hour, []).append(float(ms))
        latest = [dict(r) for r in c.execute(
            select(job_attempts.c.id, job_attempts.c.job_id, job_attempts.c.attempt, job_attempts.c.outcome,
                   job_attempts.c.duration_ms, job_attempts.c.started_at, job_attempts.c.finished_at,
                   job_attempts.c.error, jobs.c.kind, jobs.c.key)
            .select_from(job_attempts.join(jobs, jobs.c.id == job_attempts.c.job_id))
            .where(kind_cond).order_by(job_attempts.c.id.desc()).limit(recent)).mappings()]
    for hour, values in durations.items():
        values.sort()
        buckets[hour].p50_ms = percentile(values, 50)
        buckets[hour].p95_ms = percentile(values, 95)
    for r in latest:
        r["error"] = redact_text(r["error"] or "", 300)
    return sorted(buckets.values(), key=lambda b: b.hour), latest


# --- audit -------------------------------------------------------------------------------------------


def audit_page(engine: Engine, *, actor: str | None, page: int, size: int) -> tuple[list[dict[str, Any]], Page]:
    where = audit_log.c.actor == actor if actor else audit_log.c.id.is_not(None)
    with read(engine) as c:
        total = int(c.execute(select(func.count()).select_from(audit_log).where(where)).scalar_one())
        p = Page(page, size, total)
        rows = [dict(r) for r in c.execute(select(audit_log).where(where).order_by(audit_log.c.id.desc())
                                           .limit(size).offset(p.offset)).mappings()]
    for r in rows:
        r["detail_text"] = pretty_payload(r["detail"]) if r["detail"] else ""
    return rows, p


__all__ = [
    "ApiStat",
    "Event",
    "FlowStat",
    "Page",
    "Timeline",
    "api_stats",
    "audit_page",
    "exception_counts",
    "exceptions_page",
    "flow_history",
    "flow_stats",
    "inbox_stats",
    "order_related",
    "order_timeline",
    "orders_page",
    "percentile",
    "pretty_payload",
    "read",
    "shop_names",
    "tiktok_status",
    "trace",
    "webhook_status",
    "webhook_statuses",
]

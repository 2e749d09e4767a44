"""In-memory doubles of the store ports (``bridge.ports.store`` and the area stores' ports), beside the
queue's ``MemoryJobQueue``:
the same contract (``tests/contract/test_store_ports.py`` runs them and the SQL repositories through one
suite), for fast tests of flows. Thread-safe."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bridge.clock import Clock, SystemClock
from bridge.domain.finance import Line, Payment, Statement, Withdrawal
from bridge.domain.order_memory import OrderMemory
from bridge.errors import redact_mapping
from bridge.ports.fulfillment import Shipment, UnitConflict
from bridge.ports.inventory import Place, SkuRow, units_of
from bridge.ports.monitoring import PendingKey, ReadingRow, StalledKind, SyncedOrder
from bridge.ports.queue import Job
from bridge.ports.settlement import ZERO, MatchRow, PostingRecord, StatementRow
from bridge.ports.store import DOCUMENT_NUMBER, ExceptionRecord, Link, Shop, Tokens
from bridge.store.queue import MemoryJobQueue


class MemoryLinks:
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._rows: dict[tuple[str, str, str], Link] = {}  # insertion order is creation order
        self._created: dict[tuple[str, str, str], datetime] = {}
        self._updated: dict[tuple[str, str, str], datetime] = {}

    def get(self, kind: str, shop_id: str, tiktok_id: str) -> Link | None:
        with self._lock:
            return self._rows.get((kind, shop_id, tiktok_id))

    def get_many(self, kind: str, shop_id: str, tiktok_ids: Sequence[str]) -> dict[str, Link]:
        with self._lock:
            return {t: link for t in tiktok_ids if (link := self._rows.get((kind, shop_id, t))) is not None}

    def by_netsuite(self, kind: str, netsuite_id: str) -> Link | None:
        with self._lock:
            return next((lk for lk in self._rows.values() if lk.kind == kind and lk.netsuite_id == netsuite_id), None)

    def upsert(self, link: Link) -> None:
        key = (link.kind, link.shop_id, link.tiktok_id)
        with self._lock:
            data = dict(link.data)
            old = self._rows.get(key)
            if (link.kind == "order" and link.netsuite_id and not data.get(DOCUMENT_NUMBER) and old is not None
                    and old.netsuite_id == link.netsuite_id and old.data.get(DOCUMENT_NUMBER)):
                data[DOCUMENT_NUMBER] = old.data[DOCUMENT_NUMBER]
            self._rows[key] = replace(link, data=data)
            self._created.setdefault(key, self.clock.now())
            self._updated[key] = self.clock.now()

    def with_updated(self, kind: str) -> list[tuple[Link, datetime]]:
        """(link, when it was last stored) of one kind: what the monitoring double reads."""
        with self._lock:
            return [(lk, self._updated[k]) for k, lk in self._rows.items() if k[0] == kind]

    def with_created(self, kind: str, shop_id: str) -> list[tuple[Link, datetime]]:
        """(link, when it was first stored) of one kind and shop: what the inventory double reads."""
        with self._lock:
            return [(lk, self._created[k]) for k, lk in self._rows.items() if k[:2] == (kind, shop_id)]

    def newest(self, kind: str, *, limit: int = 200) -> list[Link]:
        with self._lock:
            return [lk for lk in reversed(self._rows.values()) if lk.kind == kind][:limit]

    def set_document_numbers(self, kind: str, numbers: Mapping[str, str]) -> int:
        done = 0
        with self._lock:
            for key, lk in list(self._rows.items()):
                number = numbers.get(lk.netsuite_id or "") if lk.kind == kind else None
                if number and not lk.data.get(DOCUMENT_NUMBER):
                    self._rows[key] = replace(lk, data={**lk.data, DOCUMENT_NUMBER: number})
                    done += 1
        return done

    def list(self, kind: str, shop_id: str | None = None, *, limit: int = 1000, offset: int = 0) -> list[Link]:
        with self._lock:
            rows = [lk for lk in self._rows.values() if lk.kind == kind and shop_id in (None, lk.shop_id)]
        return rows[offset:offset + limit]

    def count(self, kind: str, shop_id: str | None = None, status: str | None = None) -> int:
        with self._lock:
            return sum(1 for lk in self._rows.values()
                       if lk.kind == kind and shop_id in (None, lk.shop_id) and status in (None, lk.status))

    def delete(self, kind: str, shop_id: str, tiktok_id: str) -> None:
        with self._lock:
            self._rows.pop((kind, shop_id, tiktok_id), None)
            self._created.pop((kind, shop_id, tiktok_id), None)
            self._updated.pop((kind, shop_id, tiktok_id), None)


class MemoryCursors:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: dict[str, str] = {}

    def get(self, name: str) -> str | None:
        with self._lock:
            return self._values.get(name)

    def set(self, name: str, value: str) -> None:
        with self._lock:
            self._values[name] = value


class MemoryShops:
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._shops: dict[str, Shop] = {}
        self._tokens: dict[str, Tokens] = {}

    def upsert(self, shop: Shop) -> Shop:
        now = self.clock.now()
        with self._lock:
            old = self._shops.get(shop.id)
            if old is None:
                stored = replace(shop, flows=dict(shop.flows), granted_scopes=list(shop.granted_scopes),
                                 access_expires_at=None, refresh_expires_at=None, webhooks_subscribed_at=None,
                                 created_at=now, updated_at=now)
            else:
                stored = replace(old, name=shop.name, region=shop.region, cipher=shop.cipher,
                                 seller_name=shop.seller_name, status=shop.status, open_id=shop.open_id,
                                 granted_scopes=list(shop.granted_scopes), updated_at=now)
            self._shops[shop.id] = stored
            return stored

    def get(self, shop_id: str) -> Shop | None:
        with self._lock:
            return self._shops.get(shop_id)

    def list(self, *, status: str | None = None) -> list[Shop]:
        with self._lock:
            return [s for _, s in sorted(self._shops.items()) if not status or s.status == status]

    def set_tokens(self, shop_id: str, tokens: Tokens) -> None:
        with self._lock:
            shop = self._shops.get(shop_id)
            if shop is None:
                return
            self._tokens[shop_id] = tokens
            self._shops[shop_id] = replace(shop, access_expires_at=tokens.access_expires_at,
                                           refresh_expires_at=tokens.refresh_expires_at, updated_at=self.clock.now())

    def tokens(self, shop_id: str) -> Tokens | None:
        with self._lock:
            return self._tokens.get(shop_id)

    def set_status(self, shop_id: str, status: str) -> None:
        self._change(shop_id, status=status)

    def set_flows(self, shop_id: str, flows: dict[str, bool]) -> None:
        self._change(shop_id, flows=dict(flows))

    def _change(self, shop_id: str, **fields: object) -> None:
        with self._lock:
            shop = self._shops.get(shop_id)
            if shop is not None:
                self._shops[shop_id] = replace(shop, updated_at=self.clock.now(), **fields)  # type: ignore[arg-type]


class MemoryExceptions:
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._rows: dict[int, ExceptionRecord] = {}

    def raise_(self, *, code: str, owner: str, title: str, fix_hint: str = "", evidence: dict[str, Any] | None = None,
               entity: str = "", shop_id: str | None = None, job: Job | None = None,
               correlation_id: str = "") -> int:
        now = self.clock.now()
        fingerprint = f"{code}:{entity or (job.key if job else '')}"[:255]
        ev = redact_mapping(evidence or {})
        with self._lock:
            old = next((e for e in self._rows.values() if e.fingerprint == fingerprint and e.status == "open"), None)
            if old is not None:
                jobs: dict[str, Any] = {} if job is None else {
                    "job_id": job.id, "job_kind": job.kind, "job_key": job.key, "job_payload": job.payload}
                self._rows[old.id] = replace(old, occurrences=old.occurrences + 1, last_seen=now, evidence=ev,
                                             title=title, fix_hint=fix_hint, **jobs)
                return old.id
            new_id = len(self._rows) + 1
            self._rows[new_id] = ExceptionRecord(
                id=new_id, code=code, owner=owner, status="open", title=title, fix_hint=fix_hint, evidence=ev,
                entity=entity, shop_id=shop_id, fingerprint=fingerprint, job_id=job.id if job else None,
                job_kind=job.kind if job else None, job_key=job.key if job else None,
                job_payload=job.payload if job else None, occurrences=1, replays=0, first_seen=now, last_seen=now,
                resolved_at=None, resolved_by=None, resolution=None, correlation_id=correlation_id)
            return new_id

    def get(self, exc_id: int) -> ExceptionRecord | None:
        with self._lock:
            return self._rows.get(exc_id)

    def list(self, *, status: str | None = "open", owner: str | None = None, entity: str | None = None,
             limit: int = 200) -> list[ExceptionRecord]:
        with self._lock:
            rows = [e for e in self._rows.values()
                    if (not status or e.status == status) and (not owner or e.owner == owner)
                    and (not entity or e.entity == entity)]
        return sorted(rows, key=lambda e: (e.last_seen, e.id), reverse=True)[:limit]

    def close(self, exc_id: int, *, status: str, by: str, note: str = "") -> bool:
        if status not in ("resolved", "ignored"):
            raise ValueError("status must be resolved or ignored")
        with self._lock:
            old = self._rows.get(exc_id)
            if old is None or old.status != "open":
                return False
            self._rows[exc_id] = replace(old, status=status, resolved_at=self.clock.now(), resolved_by=by,
                                         resolution=note)
            return True


class MemoryAudit:
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._rows: list[dict[str, Any]] = []

    def record(self, actor: str, action: str, *, entity: str = "", detail: dict[str, Any] | None = None,
               correlation_id: str = "") -> None:
        with self._lock:
            self._rows.append({"id": len(self._rows) + 1, "at": self.clock.now(), "actor": actor, "action": action,
                               "entity": entity, "detail": redact_mapping(detail or {}),
                               "correlation_id": correlation_id})

    def list(self, *, entity: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        with self._lock:
            rows = [dict(r) for r in reversed(self._rows) if not entity or r["entity"] == entity]
        return rows[:limit]


class MemoryShipments:
    """``bridge.ports.fulfillment.ShipmentRepository`` in memory."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self._lock = threading.RLock()
        self._rows: dict[int, Shipment] = {}
        self._units: dict[tuple[str, str, str], tuple[int, str]] = {}  # (shop, order, line item) -> shipment, fid
        self._sla: set[tuple[str, str, str]] = set()

    def shipments(self, shop_id: str, order_id: str, fulfillment_id: str | None = None) -> list[Shipment]:
        with self._lock:
            rows = [r for r in self._rows.values() if (r.shop_id, r.order_id) == (shop_id, order_id)
                    and fulfillment_id in (None, r.fulfillment_id)]
        return sorted(rows, key=lambda r: (r.fulfillment_id, r.package_index, r.seq))

    def get(self, shipment_id: int) -> Shipment | None:
        with self._lock:
            return self._rows.get(shipment_id)

    def begin(self, *, shop_id: str, order_id: str, fulfillment_id: str, package_index: int, seq: int,
              tracking_number: str, carrier: str, provider_id: str, provider_name: str,
              line_item_ids: Sequence[str], method: str) -> Shipment:
        now = self.clock.now()
        ids = tuple(line_item_ids)
        with self._lock:
            old = next((r for r in self._rows.values() if (r.shop_id, r.order_id, r.fulfillment_id, r.package_index,
                                                            r.seq) == (shop_id, order_id, fulfillment_id,
                                                                       package_index, seq)), None)
            sid = old.id if old is not None else max(self._rows, default=0) + 1
            held = {lid: self._units[(shop_id, order_id, lid)] for lid in ids
                    if (shop_id, order_id, lid) in self._units}
            taken = {lid: fid for lid, (holder, fid) in held.items() if holder != sid}
            if taken:
                raise UnitConflict(taken)
            values = {"tracking_number": tracking_number, "carrier": carrier[:100], "provider_id": provider_id,
                      "provider_name": provider_name[:100], "line_item_ids": ids, "method": method,
                      "status": "sending", "updated_at": now}
            if old is None:
                row = Shipment(id=sid, shop_id=shop_id, order_id=order_id, fulfillment_id=fulfillment_id,
                               package_index=package_index, seq=seq, tracking_number=tracking_number,
                               carrier=carrier[:100], provider_id=provider_id, provider_name=provider_name[:100],
                               line_item_ids=ids, method=method, tiktok_package_id="", status="sending", attempts=1,
                               last_error="", shipped_at=None, tracking_updated_at=None, created_at=now,
                               updated_at=now)
            else:
                row = replace(old, attempts=old.attempts + 1, **values)  # type: ignore[arg-type]
            self._rows[sid] = row
            for key, (holder, _) in list(self._units.items()):
                if holder == sid and key[2] not in ids:
                    del self._units[key]
            for lid in ids:
                self._units.setdefault((shop_id, order_id, lid), (sid, fulfillment_id))
            return row

    def _update(self, shipment_id: int, **values: Any) -> None:
        with self._lock:
            row = self._rows.get(shipment_id)
            if row is not None:
                self._rows[shipment_id] = replace(row, **values)

    def _free(self, shipment_id: int) -> None:
        for key, (holder, _) in list(self._units.items()):
            if holder == shipment_id:
                del self._units[key]

    def shipped(self, shipment_id: int, *, tiktok_package_id: str, tracking_number: str | None = None,
                provider_id: str | None = None, provider_name: str | None = None) -> None:
        now = self.clock.now()
        with self._lock:
            row = self._rows.get(shipment_id)
            if row is None:
                return
            values: dict[str, Any] = {"status": "shipped", "tiktok_package_id": tiktok_package_id, "last_error": "",
                                      "updated_at": now, "shipped_at": row.shipped_at or now}
            if tracking_number is not None:
                values["tracking_number"] = tracking_number
            if provider_id is not None:
                values["provider_id"] = provider_id
            if provider_name is not None:
                values["provider_name"] = provider_name[:100]
            self._update(shipment_id, **values)

    def refused(self, shipment_id: int, error: str) -> None:
        with self._lock:
            self._update(shipment_id, status="refused", last_error=error[:2000], updated_at=self.clock.now())
            self._free(shipment_id)

    def tracking_updated(self, shipment_id: int, *, tracking_number: str, provider_id: str, provider_name: str,
                         carrier: str) -> None:
        now = self.clock.now()
        self._update(shipment_id, tracking_number=tracking_number, provider_id=provider_id,
                     provider_name=provider_name[:100], carrier=carrier[:100], tracking_updated_at=now, last_error="",
                     updated_at=now)

    def note_error(self, shipment_id: int, error: str) -> None:
        self._update(shipment_id, last_error=error[:2000], updated_at=self.clock.now())

    def mark_deleted(self, shop_id: str, order_id: str, fulfillment_id: str) -> list[Shipment]:
        with self._lock:
            rows = self.shipments(shop_id, order_id, fulfillment_id)
            for r in rows:
                if r.status != "shipped":
                    self._update(r.id, status="deleted", updated_at=self.clock.now())
                    self._free(r.id)
        return [r for r in rows if r.status == "shipped"]

    def record_external(self, *, shop_id: str, order_id: str, fulfillment_id: str, package_index: int,
                        tracking_number: str, provider_id: str, provider_name: str, line_item_ids: Sequence[str],
                        method: str, tiktok_package_id: str) -> Shipment:
        with self._lock:
            ship = self.begin(shop_id=shop_id, order_id=order_id, fulfillment_id=fulfillment_id,
                              package_index=package_index, seq=0, tracking_number=tracking_number, carrier="",
                              provider_id=provider_id, provider_name=provider_name, line_item_ids=line_item_ids,
                              method=method)
            self.shipped(ship.id, tiktok_package_id=tiktok_package_id)
            return self._rows[ship.id]

    def units(self, shop_id: str, order_id: str) -> dict[str, str]:
        with self._lock:
            return {k[2]: fid for k, (_, fid) in self._units.items() if k[:2] == (shop_id, order_id)}

    def unshipped(self, *, older_than: datetime, limit: int = 1000) -> list[Shipment]:
        with self._lock:
            rows = [r for r in self._rows.values() if r.status in ("sending", "refused") and r.updated_at <= older_than]
        return sorted(rows, key=lambda r: r.updated_at)[:limit]

    def counts(self) -> dict[str, int]:
        with self._lock:
            out: dict[str, int] = {}
            for r in self._rows.values():
                out[r.status] = out.get(r.status, 0) + 1
            return out

    def claim_sla_alert(self, shop_id: str, order_id: str, level: str, deadline: datetime) -> bool:
        with self._lock:
            if (shop_id, order_id, level) in self._sla:
                return False
            self._sla.add((shop_id, order_id, level))
            return True

    def sla_levels(self, shop_id: str, order_ids: Iterable[str]) -> dict[str, set[str]]:
        wanted = set(order_ids)
        out: dict[str, set[str]] = {}
        with self._lock:
            for shop, order, level in self._sla:
                if shop == shop_id and order in wanted:
                    out.setdefault(order, set()).add(level)
        return out


class MemorySettlement:
    """``bridge.ports.settlement.SettlementRepository`` in memory."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self._lock = threading.RLock()
        self._statements: dict[tuple[str, str], StatementRow] = {}
        self._lines: dict[tuple[str, str], list[Line]] = {}
        self._matches: dict[tuple[str, str], list[MatchRow]] = {}
        self._payments: dict[tuple[str, str], tuple[Payment, str]] = {}  # with its content hash
        self._withdrawals: dict[tuple[str, str], Withdrawal] = {}
        self._postings: dict[str, tuple[int, PostingRecord]] = {}  # external id -> (insertion order, record)

    def save_statement(self, stmt: Statement, *, revision: int, components: Mapping[str, Decimal],
                       checks: Sequence[Mapping[str, Any]], matches: Sequence[Any], status: str | None = None,
                       content_hash: str | None = None) -> None:
        now = self.clock.now()
        key = (stmt.shop_id, stmt.id)
        by_tid = {ln.transaction_id: ln for ln in stmt.lines}
        match_list = list(matches)
        with self._lock:
            old = self._statements.get(key)
            self._statements[key] = StatementRow(
                shop_id=stmt.shop_id, statement_id=stmt.id, statement_time=stmt.statement_time,
                currency=stmt.currency, status=status or (old.status if old else "imported"),
                check_status="failed" if any(c.get("blocking") for c in checks) else ("warning" if checks else "ok"),
                payment_id=stmt.payment_id, payment_status=stmt.payment_status, revenue=stmt.revenue,
                shipping=stmt.shipping, fee_tax=stmt.fee_tax, adjustment=stmt.adjustment, settlement=stmt.settlement,
                reserve=stmt.reserve, payable=stmt.payable, line_settlement=sum((ln.settlement for ln in stmt.lines),
                                                                                ZERO),
                line_count=len(stmt.lines), content_hash=content_hash or stmt.content_hash(), revision=revision,
                components={k: v for k, v in sorted(components.items()) if v}, checks=[dict(c) for c in checks],
                matched=sum(1 for m in match_list if m.status == "matched"),
                unmatched=sum(1 for m in match_list if m.status in ("unmatched", "currency_mismatch")),
                variance_total=sum((m.variance for m in match_list if m.variance is not None), ZERO),
                imported_at=old.imported_at if old else now, updated_at=now)
            self._lines[key] = [replace(ln, breakdown={k: v for k, v in ln.breakdown.items() if v})
                                for ln in stmt.lines]
            self._matches[key] = [MatchRow(m.transaction_id, m.kind, m.order_id, m.status,
                                           by_tid[m.transaction_id].settlement if m.transaction_id in by_tid else ZERO,
                                           m.netsuite_id, m.tiktok_amount, m.netsuite_amount, m.variance, m.note)
                                  for m in match_list]

    def touch_statement(self, shop_id: str, statement_id: str, *, payment_id: str | None = None,
                        payment_status: str | None = None, status: str | None = None) -> None:
        with self._lock:
            old = self._statements.get((shop_id, statement_id))
            if old is None:
                return
            changes: dict[str, Any] = {"updated_at": self.clock.now()}
            if payment_id is not None:
                changes["payment_id"] = payment_id
            if payment_status is not None:
                changes["payment_status"] = payment_status
            if status is not None:
                changes["status"] = status
            self._statements[(shop_id, statement_id)] = replace(old, **changes)

    def statement(self, shop_id: str, statement_id: str) -> StatementRow | None:
        with self._lock:
            return self._statements.get((shop_id, statement_id))

    def find_statement(self, statement_id: str) -> StatementRow | None:
        with self._lock:
            return next((r for (_, sid), r in self._statements.items() if sid == statement_id), None)

    def statements(self, *, shop_id: str | None = None, payment_id: str | None = None,
                   since: datetime | None = None, until: datetime | None = None, status: str | None = None,
                   limit: int = 1000, offset: int = 0) -> list[StatementRow]:
        with self._lock:
            rows = [r for r in self._statements.values()
                    if shop_id in (None, r.shop_id) and payment_id in (None, r.payment_id)
                    and status in (None, r.status)
                    and (since is None or (r.statement_time is not None and r.statement_time >= since))
                    and (until is None or (r.statement_time is not None and r.statement_time < until))]
        rows.sort(key=lambda r: r.statement_id)
        rows.sort(key=lambda r: r.statement_time or datetime.min.replace(tzinfo=UTC), reverse=True)
        return rows[offset:offset + limit]

    def lines(self, shop_id: str, statement_id: str) -> list[Line]:
        with self._lock:
            return list(self._lines.get((shop_id, statement_id), []))

    def lines_for_order(self, shop_id: str, order_id: str) -> list[tuple[str, Line]]:
        with self._lock:
            return [(sid, ln) for (shop, sid), lines in self._lines.items() if shop == shop_id
                    for ln in lines if ln.order_ref == order_id]

    def count_lines(self, shop_id: str | None = None) -> int:
        with self._lock:
            return sum(len(lines) for (shop, _), lines in self._lines.items() if shop_id in (None, shop))

    def matches(self, shop_id: str, statement_id: str, *, statuses: Iterable[str] | None = None,
                with_variance: bool = False, limit: int = 100_000) -> list[MatchRow]:
        wanted = None if statuses is None else set(statuses)
        with self._lock:
            rows = [m for m in self._matches.get((shop_id, statement_id), [])
                    if (wanted is None or m.status in wanted) and (not with_variance or m.variance is not None)]
        return rows[:limit]

    def match_counts(self, shop_id: str, statement_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        with self._lock:
            for sid in statement_ids:
                for m in self._matches.get((shop_id, sid), []):
                    out[(m.kind, m.status)] = out.get((m.kind, m.status), 0) + 1
        return out

    def save_payment(self, p: Payment) -> bool:
        h = p.content_hash()
        with self._lock:
            old = self._payments.get((p.shop_id, p.id))
            if old is not None and old[1] == h:
                return False
            self._payments[(p.shop_id, p.id)] = (p, h)
            return True

    def payment(self, shop_id: str, payment_id: str) -> Payment | None:
        with self._lock:
            got = self._payments.get((shop_id, payment_id))
        return got[0] if got else None

    def find_payment(self, payment_id: str) -> Payment | None:
        with self._lock:
            return next((p for (_, pid), (p, _) in self._payments.items() if pid == payment_id), None)

    def payments(self, *, shop_id: str | None = None, since: datetime | None = None, limit: int = 1000
                 ) -> list[Payment]:
        with self._lock:
            rows = [p for p, _ in self._payments.values() if shop_id in (None, p.shop_id)
                    and (since is None or (p.create_time is not None and p.create_time >= since))]
        return sorted(rows, key=lambda p: p.create_time or datetime.min.replace(tzinfo=UTC), reverse=True)[:limit]

    def save_withdrawals(self, items: Sequence[Withdrawal]) -> int:
        with self._lock:
            for w in items:
                self._withdrawals[(w.shop_id, w.id)] = w
        return len(items)

    def withdrawals(self, shop_id: str, *, limit: int = 1000) -> list[Withdrawal]:
        with self._lock:
            rows = [w for (shop, _), w in self._withdrawals.items() if shop == shop_id]
        return sorted(rows, key=lambda w: w.create_time or datetime.min.replace(tzinfo=UTC), reverse=True)[:limit]

    def postings(self, shop_id: str, source: str, source_id: str, *, status: str | None = None
                 ) -> list[PostingRecord]:
        with self._lock:
            rows = [(n, r) for n, r in self._postings.values()
                    if (r.shop_id, r.source, r.source_id) == (shop_id, source, source_id)
                    and status in (None, r.status)]
        return [r for _, r in sorted(rows, key=lambda nr: (nr[1].seq, nr[0]))]

    def posting(self, external_id: str) -> PostingRecord | None:
        with self._lock:
            got = self._postings.get(external_id)
        return got[1] if got else None

    def count_postings(self, *, kind: str | None = None, status: str | None = "posted") -> int:
        with self._lock:
            return sum(1 for _, r in self._postings.values() if kind in (None, r.kind) and status in (None, r.status))

    def begin_posting(self, rec: PostingRecord) -> PostingRecord:
        values = replace(rec, components={k: v for k, v in sorted(rec.components.items()) if v},
                         detail=dict(rec.detail))
        with self._lock:
            old = self._postings.get(rec.external_id)
            if old is None:
                stored = replace(values, status="pending", netsuite_id=None, created_at=self.clock.now(),
                                 posted_at=None)
                self._postings[rec.external_id] = (len(self._postings), stored)
                return stored
            n, current = old
            if current.status == "posted":
                return current
            stored = replace(values, status=current.status, netsuite_id=current.netsuite_id,
                             created_at=current.created_at, posted_at=current.posted_at)
            self._postings[rec.external_id] = (n, stored)
            return stored

    def finish_posting(self, external_id: str, netsuite_id: str) -> None:
        with self._lock:
            old = self._postings.get(external_id)
            if old is not None:
                self._postings[external_id] = (old[0], replace(old[1], status="posted", netsuite_id=netsuite_id,
                                                               posted_at=self.clock.now()))


class MemoryInventory:
    """``bridge.ports.inventory.InventoryRepository`` in memory; the order and product links it reads are
    those of ``links`` (as the SQL store reads the links table)."""

    def __init__(self, links: MemoryLinks, clock: Clock | None = None) -> None:
        self.links = links
        self.clock = clock or SystemClock()
        self._lock = threading.RLock()
        self._skus: dict[tuple[str, str], SkuRow] = {}
        self._pushed: dict[tuple[str, str], dict[str, int]] = {}  # (shop, sku) -> warehouse -> quantity
        self._places: dict[tuple[str, str], list[Place]] = {}
        self._prices: dict[tuple[str, str], tuple[str, Decimal]] = {}
        self._observations: list[tuple[str, str, str, datetime, float, int | None]] = []

    def replace_shop(self, shop_id: str, rows: Sequence[SkuRow]) -> int:
        keep = {r.sku_id for r in rows}
        with self._lock:
            for key in [k for k in self._skus if k[0] == shop_id and k[1] not in keep]:
                del self._skus[key]
                self._pushed.pop(key, None)
            self.upsert(rows)
        return len(rows)

    def upsert(self, rows: Sequence[SkuRow]) -> None:
        with self._lock:
            for r in rows:
                self._skus[(r.shop_id, r.sku_id)] = replace(r, title=r.title[:255])

    def product_skus(self, shop_id: str, product_id: str) -> list[SkuRow]:
        with self._lock:
            return sorted((r for r in self._skus.values() if (r.shop_id, r.product_id) == (shop_id, product_id)),
                          key=lambda r: r.sku_id)

    def shop_skus(self, shop_id: str | None = None) -> list[SkuRow]:
        with self._lock:
            return sorted((r for r in self._skus.values() if shop_id in (None, r.shop_id)),
                          key=lambda r: (r.shop_id, r.product_id, r.sku_id))

    def products(self, shop_id: str) -> list[str]:
        with self._lock:
            return sorted({r.product_id for r in self._skus.values() if r.shop_id == shop_id})

    def products_for_items(self, item_ids: Iterable[str]) -> set[tuple[str, str]]:
        ids = {str(i) for i in item_ids if i}
        with self._lock:
            return {(r.shop_id, r.product_id) for r in self._skus.values() if r.item_id in ids}

    def products_for_seller_skus(self, shop_id: str, seller_skus: Iterable[str]) -> set[str]:
        skus = {s for s in seller_skus if s}
        with self._lock:
            return {r.product_id for r in self._skus.values() if r.shop_id == shop_id and r.seller_sku in skus}

    def counts(self, shop_id: str | None = None) -> dict[str, int]:
        skus = self.shop_skus(shop_id)
        return {"skus": len(skus), "matched": sum(1 for s in skus if s.item_id),
                "products": len({(s.shop_id, s.product_id) for s in skus})}

    def last_pushed(self, shop_id: str, sku_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        with self._lock:
            return {(sku, wh): q for sku in sku_ids for wh, q in self._pushed.get((shop_id, sku), {}).items()}

    def record_pushed(self, shop_id: str, product_id: str, quantities: Mapping[str, Mapping[str, int]]) -> None:
        with self._lock:
            for sku, per_wh in quantities.items():
                self._pushed[(shop_id, sku)] = {wh: int(q) for wh, q in per_wh.items()}

    def forget_pushed(self, shop_id: str, sku_ids: Sequence[str]) -> None:
        with self._lock:
            for sku in sku_ids:
                self._pushed.pop((shop_id, sku), None)

    def save_places(self, kind: str, shop_id: str, places: Sequence[Place]) -> None:
        now = self.clock.now()
        with self._lock:
            self._places[(kind, shop_id)] = [Place(kind, shop_id, p.place_id, p.name[:255], dict(p.data), now)
                                             for p in places]

    def places(self, kind: str, shop_id: str | None = None) -> list[Place]:
        with self._lock:
            rows = [p for (k, shop), ps in self._places.items() if k == kind and shop_id in (None, shop) for p in ps]
        return sorted(rows, key=lambda p: (p.shop_id, p.place_id))

    def last_prices(self, shop_id: str, sku_ids: Sequence[str]) -> dict[str, tuple[str, Decimal]]:
        with self._lock:
            return {sku: self._prices[(shop_id, sku)] for sku in sku_ids if (shop_id, sku) in self._prices}

    def record_prices(self, shop_id: str, currency: str, prices: Mapping[str, Decimal], level: str) -> None:
        with self._lock:
            for sku, price in prices.items():
                self._prices[(shop_id, sku)] = (currency, Decimal(price))

    def product_for_item(self, shop_id: str, item_id: str) -> str | None:
        return next((lk.tiktok_id for lk, _ in self.links.with_created("product", shop_id)
                     if lk.netsuite_id == item_id), None)

    def observe(self, shop_id: str, kind: str, values: Mapping[str, tuple[float, int | None]], at: datetime,
                keep_since: datetime) -> None:
        with self._lock:
            self._observations = [o for o in self._observations
                                  if not (o[0] == shop_id and o[1] == kind and o[3] < keep_since)]
            self._observations += [(shop_id, kind, sku, at, float(v), b) for sku, (v, b) in values.items()]

    def first_sight(self, shop_id: str, order_ids: Sequence[str], at: datetime, keep_since: datetime,
                    sales: Mapping[str, Mapping[str, int]] | None = None,
                    sales_keep_since: datetime | None = None) -> list[str]:
        with self._lock:
            self._observations = [o for o in self._observations
                                  if not (o[0] == shop_id and o[1] == "order" and o[3] < keep_since)]
            seen = {o[2] for o in self._observations if o[0] == shop_id and o[1] == "order"}
            new = [oid for oid in dict.fromkeys(order_ids) if oid and oid not in seen]
            units = units_of(new, sales)
            if units:
                keep = sales_keep_since or keep_since
                self._observations = [o for o in self._observations
                                      if not (o[0] == shop_id and o[1] == "sale" and o[3] < keep)]
                self._observations += [(shop_id, "sale", sku, at, float(n), None) for sku, n in units.items()]
            self._observations += [(shop_id, "order", oid, at, 0.0, None) for oid in new]
            return new

    def observations(self, shop_id: str, kind: str, sku_ids: Sequence[str], since: datetime
                     ) -> dict[str, list[tuple[datetime, float, int | None]]]:
        out: dict[str, list[tuple[datetime, float, int | None]]] = {s: [] for s in sku_ids}
        wanted = set(sku_ids)
        with self._lock:
            rows = [o for o in self._observations if o[0] == shop_id and o[1] == kind and o[2] in wanted
                    and o[3] >= since]
        for _, _, sku, at, value, buffer in sorted(rows, key=lambda o: o[3]):  # stable: stored order within a time
            out[sku].append((at, value, buffer))
        return out

    def order_latencies(self, shop_id: str, since: datetime, limit: int = 200) -> list[float]:
        start = since.timestamp()
        rows = [lk for lk, _ in self.links.with_created("order", shop_id)
                if lk.synced_at is not None and lk.synced_at >= since and lk.netsuite_id is not None]
        rows.sort(key=lambda lk: lk.synced_at or since, reverse=True)
        out: list[float] = []
        for lk in rows[:limit]:
            memory = OrderMemory.parse(lk.data)
            if memory.first_synced_at is None or memory.created_at is None or memory.first_synced_at < start:
                continue
            out.append(max(0.0, memory.first_synced_at - (memory.created_at + 0.5)))
        return out

    def pending_units(self, shop_id: str, *, include_staged: bool = True) -> dict[str, dict[str | None, int]]:
        out: dict[str, dict[str | None, int]] = {}
        for lk, _ in self.links.with_created("order", shop_id):
            if not (lk.status.startswith("pending:") or (include_staged and lk.status == "staged")):
                continue
            memory = OrderMemory.parse(lk.data)
            if lk.status == "pending:CANCELLED" or memory.is_fbt:
                continue
            wh = memory.warehouse_id or None
            for sku, n in (memory.units or {}).items():
                per = out.setdefault(str(sku), {})
                per[wh] = per.get(wh, 0) + int(n)
        return out


class MemoryMonitoring:
    """``bridge.ports.monitoring.MonitorReads`` in memory, reading the jobs of ``queue``, the links of
    ``links`` and the exceptions of ``exceptions`` (as the SQL one reads their tables)."""

    def __init__(self, queue: MemoryJobQueue, links: MemoryLinks, exceptions: MemoryExceptions) -> None:
        self.queue, self.links, self.exceptions = queue, links, exceptions
        self._lock = threading.Lock()
        self._readings: list[ReadingRow] = []  # stored order is id order

    def pending_keys(self, kind: str, *, created_since: datetime, first_before: datetime) -> list[PendingKey]:
        by_key: dict[str, list[Job]] = {}
        for job in self.queue.snapshot():
            if job.kind == kind and job.created_at is not None and job.created_at >= created_since:
                by_key.setdefault(job.key, []).append(job)
        out: list[PendingKey] = []
        for key, group in by_key.items():
            started = [j.created_at for j in group if j.status != "skipped" and j.created_at is not None]
            if any(j.status == "done" for j in group) or not started or min(started) > first_before:
                continue
            out.append(PendingKey(key, min(started), any(j.status in ("failed", "dead") for j in group)))
        return out

    def synced_orders(self, *, updated_since: datetime, limit: int) -> list[SyncedOrder]:
        rows = [(lk, at) for lk, at in self.links.with_updated("order")
                if lk.netsuite_id is not None and at >= updated_since and lk.status in ("synced", "staged")]
        rows.sort(key=lambda la: la[1], reverse=True)
        return [SyncedOrder(lk.shop_id, lk.tiktok_id, lk.external_id, dict(lk.data)) for lk, _ in rows[:limit]]

    def busy_keys(self, keys: Sequence[str]) -> set[str]:
        wanted = set(keys)
        return {j.key for j in self.queue.snapshot() if j.key in wanted and j.status in ("queued", "running")}

    def open_exceptions(self, *, first_seen_before: datetime, limit: int) -> tuple[int, list[ExceptionRecord]]:
        rows = [e for e in self.exceptions.list(status="open", limit=1_000_000) if e.first_seen <= first_seen_before]
        rows.sort(key=lambda e: (e.first_seen, e.id))
        return len(rows), rows[:limit]

    def stalled_jobs(self, *, before: datetime) -> list[StalledKind]:
        per: dict[str, list[Job]] = {}
        for j in self.queue.snapshot():
            if (j.status == "queued" and j.run_at <= before) or (
                    j.status == "running" and j.lease_expires_at is not None and j.lease_expires_at <= before):
                per.setdefault(j.kind, []).append(j)
        return [StalledKind(kind, len(js), min(j.run_at for j in js)) for kind, js in sorted(per.items())]

    def record_readings(self, rows: Sequence[ReadingRow]) -> None:
        with self._lock:
            self._readings += [replace(r, samples=[dict(x) for x in r.samples]) for r in rows]

    def prune_readings(self, before: datetime) -> int:
        with self._lock:
            kept = [r for r in self._readings if r.at >= before]
            gone, self._readings = len(self._readings) - len(kept), kept
            return gone

    def latest_readings(self) -> list[ReadingRow]:
        with self._lock:
            newest: dict[str, ReadingRow] = {}
            for r in self._readings:
                newest[r.monitor] = r
            return list(newest.values())

    def reading_history(self, *, since: datetime, monitors: Sequence[str] = (), limit: int = 20000
                        ) -> list[ReadingRow]:
        with self._lock:
            rows = [r for r in self._readings if r.at >= since and (not monitors or r.monitor in monitors)]
        return sorted(rows, key=lambda r: r.at)[:limit]  # stable: stored order within one time


class MemoryRepositories:
    """``bridge.ports.store.Repositories`` in memory, over one clock, with the memory job queue and the
    monitors' reads over them."""

    def __init__(self, clock: Clock | None = None, queue: MemoryJobQueue | None = None) -> None:
        self.clock = clock or SystemClock()
        self.links = MemoryLinks(self.clock)
        self.cursors = MemoryCursors()
        self.shops = MemoryShops(self.clock)
        self.exceptions = MemoryExceptions(self.clock)
        self.audit = MemoryAudit(self.clock)
        self.queue: MemoryJobQueue = queue or MemoryJobQueue(self.clock)
        self.monitoring = MemoryMonitoring(self.queue, self.links, self.exceptions)


__all__ = [
    "MemoryAudit",
    "MemoryCursors",
    "MemoryExceptions",
    "MemoryInventory",
    "MemoryLinks",
    "MemoryMonitoring",
    "MemoryRepositories",
    "MemorySettlement",
    "MemoryShipments",
    "MemoryShops",
]

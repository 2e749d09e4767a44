"""In-memory doubles of the store ports (``bridge.ports.store`` and the area stores' ports), beside the
queue's ``MemoryJobQueue``:
the same contract (``tests/contract/test_store_ports.py`` runs them and the SQL repositories through one
suite), for fast tests of flows. Thread-safe."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from bridge.clock import Clock, SystemClock
from bridge.errors import redact_mapping
from bridge.ports.queue import Job, JobQueue
from bridge.ports.store import DOCUMENT_NUMBER, ExceptionRecord, Link, Shop, Tokens
from bridge.store.queue import MemoryJobQueue


class MemoryLinks:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[tuple[str, str, str], Link] = {}  # insertion order is creation order

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
        with self._lock:
            key = (link.kind, link.shop_id, link.tiktok_id)
            data = dict(link.data)
            old = self._rows.get(key)
            if (link.kind == "order" and link.netsuite_id and not data.get(DOCUMENT_NUMBER) and old is not None
                    and old.netsuite_id == link.netsuite_id and old.data.get(DOCUMENT_NUMBER)):
                data[DOCUMENT_NUMBER] = old.data[DOCUMENT_NUMBER]
            self._rows[key] = replace(link, data=data)

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


class MemoryRepositories:
    """``bridge.ports.store.Repositories`` in memory, over one clock, with the memory job queue."""

    def __init__(self, clock: Clock | None = None, queue: JobQueue | None = None) -> None:
        self.clock = clock or SystemClock()
        self.links = MemoryLinks()
        self.cursors = MemoryCursors()
        self.shops = MemoryShops(self.clock)
        self.exceptions = MemoryExceptions(self.clock)
        self.audit = MemoryAudit(self.clock)
        self.queue: JobQueue = queue or MemoryJobQueue(self.clock)


__all__ = ["MemoryAudit", "MemoryCursors", "MemoryExceptions", "MemoryLinks", "MemoryRepositories", "MemoryShops"]

"""The store's repositories as the flows use them: what the bridge remembers about TikTok and NetSuite
records (``links``), named positions (``cursors``), the connected shops (``shops``), the exceptions a
person must look at (``exceptions``) and the audit log (``audit``); ``Repositories`` is the set a flow
is given, with the job queue and the monitors' reads (``bridge.ports.monitoring``). Their records
(``Link``, ``Shop``, ``Tokens``, ``ExceptionRecord``) are defined here, so flows and the store both
import them from the port.

Implemented on SQL (``bridge.store.repos``: SQLite and PostgreSQL) and in memory
(``bridge.store.memory``); one contract suite runs on all three (``tests/contract/test_store_ports.py``),
as the queue's does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from bridge.ports.queue import Job, JobQueue

if TYPE_CHECKING:
    from bridge.ports.monitoring import MonitorReads

DOCUMENT_NUMBER = "tranid"  # an order link's NetSuite document number, in its data


@dataclass(frozen=True)
class Link:
    """What the bridge remembers of one TikTok record and the NetSuite record it became (``data``: see
    ``bridge.domain.order_memory`` for an order's)."""

    kind: str
    shop_id: str
    tiktok_id: str
    netsuite_id: str | None
    netsuite_type: str = ""
    external_id: str = ""
    content_hash: str = ""
    status: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    synced_at: datetime | None = None


@dataclass(frozen=True)
class ExceptionRecord:
    """A failure a person must look at: one open record per fingerprint (code + entity)."""

    id: int
    code: str
    owner: str
    status: str
    title: str
    fix_hint: str
    evidence: dict[str, Any]
    entity: str
    shop_id: str | None
    fingerprint: str
    job_id: int | None
    job_kind: str | None
    job_key: str | None
    job_payload: dict[str, Any] | None
    occurrences: int
    replays: int
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None
    correlation_id: str


@dataclass(frozen=True)
class Shop:
    """A connected TikTok shop and its per-flow switches (its tokens are read apart: ``ShopRepository``)."""

    id: str
    name: str = ""
    region: str = ""
    cipher: str = ""
    seller_name: str = ""
    status: str = "active"
    access_expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    open_id: str = ""
    granted_scopes: list[str] = field(default_factory=list)
    flows: dict[str, bool] = field(default_factory=dict)
    webhooks_subscribed_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def flow_enabled(self, flow: str) -> bool:
        """Flows are on unless the shop switched them off."""
        return self.status == "active" and bool(self.flows.get(flow, True))


@dataclass(frozen=True)
class Tokens:
    """A shop's access and refresh tokens with their expiry."""

    access_token: str
    refresh_token: str
    access_expires_at: datetime | None
    refresh_expires_at: datetime | None


class LinkRepository(Protocol):
    """One row per TikTok record the bridge wrote to (or read from) NetSuite, by ``(kind, shop, tiktok id)``."""

    def get(self, kind: str, shop_id: str, tiktok_id: str) -> Link | None:
        """The link of one TikTok record, or None."""
        ...

    def get_many(self, kind: str, shop_id: str, tiktok_ids: Sequence[str]) -> dict[str, Link]:
        """The links that exist among ``tiktok_ids``, by TikTok id (any number of ids)."""
        ...

    def by_netsuite(self, kind: str, netsuite_id: str) -> Link | None:
        """The link whose NetSuite record is ``netsuite_id``, or None."""
        ...

    def upsert(self, link: Link) -> None:
        """Create the link or replace every field of the existing one (its key stays). An order link's
        known NetSuite document number (``data["tranid"]``) is kept when the new data names none and the
        NetSuite record is the same (a writer that read the link before the number arrived)."""
        ...

    def newest(self, kind: str, *, limit: int = 200) -> list[Link]:
        """The ``limit`` most recently created links of ``kind``, newest first."""
        ...

    def set_document_numbers(self, kind: str, numbers: Mapping[str, str]) -> int:
        """Record NetSuite's document number (NetSuite internal id → number) in each link of ``kind`` that
        has none yet, without touching the rest of its data; returns how many links changed."""
        ...

    def list(self, kind: str, shop_id: str | None = None, *, limit: int = 1000, offset: int = 0) -> list[Link]:
        """Links of ``kind`` (of one shop), oldest first."""
        ...

    def count(self, kind: str, shop_id: str | None = None, status: str | None = None) -> int:
        """How many links of ``kind`` there are (of one shop, in one status)."""
        ...

    def delete(self, kind: str, shop_id: str, tiktok_id: str) -> None:
        """Forget one link (nothing happens when it does not exist)."""
        ...


class CursorRepository(Protocol):
    """Named string values: poll positions, last-run summaries, verdicts."""

    def get(self, name: str) -> str | None:
        """The value of ``name``, or None when it was never set."""
        ...

    def set(self, name: str, value: str) -> None:
        """Set ``name`` to ``value`` (create or replace)."""
        ...


class ShopRepository(Protocol):
    """The connected TikTok shops. Tokens are kept apart (encrypted on SQL) and read only through ``tokens``."""

    def upsert(self, shop: Shop) -> Shop:
        """Create the shop or update its name, region, cipher, seller, status, open id and scopes (its
        per-flow switches are set at creation only); returns it as stored."""
        ...

    def get(self, shop_id: str) -> Shop | None:
        """One shop, or None."""
        ...

    def list(self, *, status: str | None = None) -> list[Shop]:
        """Every shop (in one status), by id."""
        ...

    def set_tokens(self, shop_id: str, tokens: Tokens) -> None:
        """Store the shop's access and refresh tokens with their expiry."""
        ...

    def tokens(self, shop_id: str) -> Tokens | None:
        """The shop's tokens, or None when it has none."""
        ...

    def set_status(self, shop_id: str, status: str) -> None:
        """``active``, ``deauthorized`` or ``disabled``: every flow stops for a shop that is not active."""
        ...

    def set_flows(self, shop_id: str, flows: dict[str, bool]) -> None:
        """Switch flows on or off for one shop (a flow missing from ``flows`` is on)."""
        ...


class ExceptionRepository(Protocol):
    """Failures a person must look at (the console's queue of work). One open exception per fingerprint:
    the code and the entity (or the job's key)."""

    def raise_(self, *, code: str, owner: str, title: str, fix_hint: str = "", evidence: dict[str, Any] | None = None,
               entity: str = "", shop_id: str | None = None, job: Job | None = None,
               correlation_id: str = "") -> int:
        """Open an exception, or update the open one with the same fingerprint (one more occurrence, the
        latest title, hint and evidence, redacted); returns its id."""
        ...

    def get(self, exc_id: int) -> ExceptionRecord | None:
        """One exception, or None."""
        ...

    def list(self, *, status: str | None = "open", owner: str | None = None, entity: str | None = None,
             limit: int = 200) -> list[ExceptionRecord]:
        """Exceptions (open by default; ``status=None`` for all), most recently seen first."""
        ...

    def close(self, exc_id: int, *, status: str, by: str, note: str = "") -> bool:
        """Mark an open exception ``resolved`` or ``ignored`` (anything else is a ValueError); False when it
        was not open."""
        ...


class AuditLog(Protocol):
    """Who did what, when: operators' actions and the bridge's own decisions worth a trace."""

    def record(self, actor: str, action: str, *, entity: str = "", detail: dict[str, Any] | None = None,
               correlation_id: str = "") -> None:
        """Append one entry (``detail`` redacted)."""
        ...

    def list(self, *, entity: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Entries (of one entity), newest first: ``actor``, ``action``, ``entity``, ``detail``, ``at`` …"""
        ...


class Repositories(Protocol):
    """What a flow is given of the store: the repositories above and the job queue
    (``bridge.store.Store`` on SQL, ``bridge.store.memory.MemoryRepositories`` in memory)."""

    @property
    def links(self) -> LinkRepository:
        """The TikTok ↔ NetSuite links."""
        ...

    @property
    def cursors(self) -> CursorRepository:
        """Named positions and values."""
        ...

    @property
    def shops(self) -> ShopRepository:
        """The connected shops."""
        ...

    @property
    def exceptions(self) -> ExceptionRepository:
        """What a person must look at."""
        ...

    @property
    def audit(self) -> AuditLog:
        """The audit log."""
        ...

    @property
    def queue(self) -> JobQueue:
        """The durable job queue."""
        ...

    @property
    def monitoring(self) -> MonitorReads:
        """What the drift monitors read, and their readings."""
        ...


__all__ = ["DOCUMENT_NUMBER", "AuditLog", "CursorRepository", "ExceptionRecord", "ExceptionRepository", "Link",
           "LinkRepository", "Repositories", "Shop", "ShopRepository", "Tokens"]

"""The store's repositories as the flows use them: what the bridge remembers about TikTok and NetSuite
records (``links``), named positions (``cursors``) and the connected shops (``shops``).

Implemented on SQL (``bridge.store.repos``: SQLite and PostgreSQL) and in memory
(``bridge.store.memory``); one contract suite runs on all three (``tests/contract/test_store_ports.py``),
as the queue's does. The records (``Link``, ``Shop``, ``Tokens``) are re-exported from here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from bridge.store.repos import Link, Shop, Tokens


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


__all__ = ["CursorRepository", "Link", "LinkRepository", "Shop", "ShopRepository", "Tokens"]

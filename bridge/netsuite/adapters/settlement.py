"""Settlement ports over the real clients: ``"tiktok.finance"`` (``TikTokFinance`` over the TikTok
client's finance section) and ``"netsuite.ledger"`` (``NetSuiteLedger`` over the NetSuite client:
upsert by external id, SuiteQL lookups)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from bridge.mapping.ownership import carries
from bridge.mapping.settlement import OrderDocument
from bridge.netsuite.client import NetSuiteClient
from bridge.ports.netsuite import DocumentKind, Posted

OWNED_SUBLISTS: dict[str, tuple[str, ...]] = {
    "journalEntry": ("line",),
    "deposit": ("payment", "other", "cashback"),
    "customerPayment": ("apply",),
}


IN_CHUNK = 200


LOOKUP_TABLES = frozenset({"account", "subsidiary", "currency", "classification", "department", "location",
                           "paymentmethod"})


SETTLED_STATUSES = {"customerDeposit": ("B",), "invoice": ("B",)}


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _chunks(items: Sequence[str], size: int = IN_CHUNK) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _status_letter(value: Any) -> str:
    text = str(value or "")
    return text.rsplit(":", 1)[-1].strip()


class NetSuiteLedgerAdapter:
    """``NetSuiteLedger`` over ``bridge.netsuite.client.NetSuiteClient``."""

    def __init__(self, client: Callable[[], NetSuiteClient]) -> None:
        self._client = client  # built on first use (bridge.bootstrap)

    @property
    def client(self) -> NetSuiteClient:
        return self._client()

    def upsert(self, record_type: str, external_id: str, body: Mapping[str, Any], *,
               entity: str | None = None) -> Posted:
        replace = tuple(s for s in OWNED_SUBLISTS.get(record_type, ()) if s in body)
        # A lost answer counts only when the record shows the body and its owned sublists exactly the lines
        # sent (a re-posted journal whose update never applied keeps its old lines: unknown, written again).
        res = self.client.upsert(record_type, external_id, body, replace=replace, entity=entity,
                                 verify=lambda found: carries(found, body, replace=replace))
        return Posted(str(res.id), str(res.outcome))

    def find(self, record_type: str, external_id: str) -> str | None:
        rec = self.client.get_by_external_id(record_type, external_id, fields=("id",))
        return None if rec is None else str(rec.get("id"))

    def internal_ids(self, table: str, external_ids: Sequence[str]) -> dict[str, str]:
        if table not in LOOKUP_TABLES:
            raise ValueError(f"not a lookup table: {table}")
        out: dict[str, str] = {}
        for chunk in _chunks(sorted(set(external_ids))):
            query = (f"SELECT id, externalid FROM {table} "  # noqa: S608 - closed table list, quoted values
                     f"WHERE externalid IN ({', '.join(_quote(e) for e in chunk)})")
            out.update({str(r["externalid"]): str(r["id"]) for r in self.client.suiteql(query)})
        return out

    def existing_ids(self, table: str, ids: Sequence[str]) -> set[str]:
        if table not in LOOKUP_TABLES:
            raise ValueError(f"not a lookup table: {table}")
        out: set[str] = set()
        for chunk in _chunks(sorted({i for i in ids if i.isdigit()})):
            query = f"SELECT id FROM {table} WHERE id IN ({', '.join(chunk)})"  # noqa: S608 - digits only
            out.update(str(r["id"]) for r in self.client.suiteql(query))
        return out

    def _deposit_refunds(self, shop_id: str, orders: Mapping[str, str]) -> dict[str, Decimal]:
        """What customer refunds gave back from the orders' customer deposits (cancelled units)."""
        if not re.fullmatch(r"[0-9A-Za-z_]+", shop_id):
            raise ValueError(f"not a TikTok shop id: {shop_id[:40]!r}")
        out: dict[str, Decimal] = {}
        query = ("SELECT externalid, foreigntotal FROM transaction "  # noqa: S608 - the shop id is checked above
                 f"WHERE type = 'CustRfnd' AND externalid LIKE 'TTS-CRF-{shop_id}-%'")
        for row in self.client.suiteql(query):
            oid = _refund_order(str(row.get("externalid") or ""), shop_id)
            if oid in orders:
                out[oid] = out.get(oid, Decimal(0)) + abs(Decimal(str(row.get("foreigntotal") or "0")))
        return out

    def order_documents(self, kind: DocumentKind, shop_id: str, orders: Mapping[str, str], *,
                        external_id_pattern: str = "") -> dict[str, list[OrderDocument]]:
        out: dict[str, list[OrderDocument]] = {}
        settled = SETTLED_STATUSES[kind]
        if kind == "customerDeposit":
            pattern = external_id_pattern or "TTS-DEP-{shop_id}-{order_id}"
            by_eid = {pattern.format(shop_id=shop_id, order_id=oid): oid for oid in orders}
            refunded = self._deposit_refunds(shop_id, orders)
            for chunk in _chunks(sorted(by_eid)):
                query = ("SELECT id, externalid, foreigntotal, entity, status FROM transaction "  # noqa: S608
                         f"WHERE type = 'CustDep' AND externalid IN ({', '.join(_quote(e) for e in chunk)})")
                for row in self.client.suiteql(query):
                    oid = by_eid.get(str(row.get("externalid") or ""))
                    if oid is None or _status_letter(row.get("status")) in settled:
                        continue
                    total = abs(Decimal(str(row.get("foreigntotal") or "0")))
                    back = refunded.get(oid, Decimal(0))
                    out.setdefault(oid, []).append(OrderDocument(
                        str(row["id"]), "customerDeposit", total - back, str(row.get("entity") or ""),
                        _status_letter(row.get("status")), deposited=total if back else None))
            return out
        by_so = {so: oid for oid, so in orders.items() if str(so).isdigit()}
        for chunk in _chunks(sorted(by_so)):
            query = ("SELECT DISTINCT t.id AS id, t.foreigntotal AS foreigntotal, t.entity AS entity, "  # noqa: S608
                     "t.status AS status, tl.createdfrom AS createdfrom FROM transaction t "
                     "INNER JOIN transactionline tl ON tl.transaction = t.id "
                     f"WHERE t.type = 'CustInvc' AND tl.createdfrom IN ({', '.join(_quote(x) for x in chunk)})")
            seen: set[str] = set()
            for row in self.client.suiteql(query):
                oid = by_so.get(str(row.get("createdfrom") or ""))
                rid = str(row["id"])
                if oid is None or rid in seen or _status_letter(row.get("status")) in settled:
                    continue
                seen.add(rid)
                out.setdefault(oid, []).append(OrderDocument(
                    rid, "invoice", abs(Decimal(str(row.get("foreigntotal") or "0"))), str(row.get("entity") or ""),
                    _status_letter(row.get("status"))))
        return out


def _refund_order(external_id: str, shop_id: str) -> str:
    """The order of a customer refund ``TTS-CRF-{shop}-{order}[-R{n}]`` (cancelled units' deposits)."""
    prefix = f"TTS-CRF-{shop_id}-"
    if not external_id.startswith(prefix):
        return ""
    return re.sub(r"-R[0-9]+$", "", external_id[len(prefix):])


__all__ = ["NetSuiteLedgerAdapter"]

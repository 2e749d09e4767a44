"""The monitoring ports over the NetSuite client: ``netsuite.monitoring``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from bridge.netsuite.adapters.orders import SUITEQL_IN_CHUNK, sql_literal
from bridge.netsuite.client import NetSuiteClient


class NetSuiteTotalsAdapter:
    def __init__(self, client: Callable[[], NetSuiteClient]) -> None:
        self._client = client  # built on first use (bridge.bootstrap)

    @property
    def client(self) -> NetSuiteClient:
        return self._client()

    def order_totals(self, external_ids: Sequence[str]) -> dict[str, Decimal]:
        out: dict[str, Decimal] = {}
        ids = sorted(set(external_ids))
        for i in range(0, len(ids), SUITEQL_IN_CHUNK):
            chunk = ids[i:i + SUITEQL_IN_CHUNK]
            values = ", ".join(sql_literal(e) for e in chunk)  # quoted: the REST SuiteQL endpoint has no binds
            q = f"SELECT externalid, foreigntotal FROM transaction WHERE type IN ('SalesOrd', 'CashSale') AND externalid IN ({values})"  # noqa: S608, E501
            for row in self.client.suiteql(q):
                if row.get("foreigntotal") is not None:
                    out[str(row["externalid"])] = Decimal(str(row["foreigntotal"]))
        return out


__all__ = ["NetSuiteTotalsAdapter"]

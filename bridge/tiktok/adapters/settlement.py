"""Settlement ports over the real clients: ``"tiktok.finance"`` (``TikTokFinance`` over the TikTok
client's finance section) and ``"netsuite.ledger"`` (``NetSuiteLedger`` over the NetSuite client:
upsert by external id, SuiteQL lookups)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from bridge.domain.finance import (
    Payment,
    Statement,
    StatementSummary,
    Withdrawal,
    parse_payment,
    parse_statement,
    parse_summary,
    parse_withdrawal,
)
from bridge.tiktok.wiring import TikTok


def _dump(model: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = model.model_dump() if hasattr(model, "model_dump") else dict(model)
    return dumped


class TikTokFinanceAdapter:
    """``TikTokFinance`` over ``bridge.tiktok.wiring.TikTok`` (``.shop(id).finance``)."""

    def __init__(self, tiktok: Callable[[], TikTok]) -> None:
        self._tiktok = tiktok  # built on first use (bridge.bootstrap)

    @property
    def tiktok(self) -> TikTok:
        return self._tiktok()

    def _finance(self, shop_id: str) -> Any:
        return self.tiktok.shop(shop_id).finance

    def statements(self, shop_id: str, *, since: datetime, until: datetime) -> Iterator[StatementSummary]:
        for m in self._finance(shop_id).statements(statement_time_ge=since, statement_time_lt=until):
            yield parse_summary(_dump(m))

    def statement(self, shop_id: str, statement_id: str, summary: StatementSummary | None = None) -> Statement:
        data = _dump(self._finance(shop_id).statement_transactions(statement_id))
        if not data.get("id"):
            data["id"] = statement_id
        return parse_statement(shop_id, data, summary=summary)

    def payments(self, shop_id: str, *, since: datetime, until: datetime) -> Iterator[Payment]:
        for m in self._finance(shop_id).payments(create_time_ge=since, create_time_lt=until):
            yield parse_payment(shop_id, _dump(m))

    def withdrawals(self, shop_id: str, *, since: datetime, until: datetime) -> Iterator[Withdrawal]:
        for m in self._finance(shop_id).withdrawals(create_time_ge=since, create_time_lt=until):
            yield parse_withdrawal(shop_id, _dump(m))


__all__ = ["TikTokFinanceAdapter"]

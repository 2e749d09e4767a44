"""NetSuite's general ledger read for the ledger audit (service ``"netsuite.gl"``).

Every query is plain Oracle-dialect SuiteQL, the same on a real account as in the sandbox: no
``LIMIT`` (the client pages with ``limit``/``offset``), dates compared with ``TO_DATE`` and read
with ``TO_CHAR`` (the account's date format preference does not matter), ids in ``IN`` lists of at
most ``IN_CHUNK``. The GL is read from ``transactionaccountingline`` (posting lines of the primary
accounting book) joined to its ``transaction`` and ``transactionline`` (for the line memo)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from bridge.mapping.ledger_audit import GlLine, Period
from bridge.netsuite.client import NetSuiteClient

IN_CHUNK = 200


WINDOW_DAYS = 31  # the GL is read a month of transaction dates at a time (each query well under 100,000 rows)


PRIMARY_BOOK = "1"


BRIDGE_DOCS = ("TTS-STMT-", "TTS-PAY-")  # statement journals and payout deposits: never an order's


_DIGITS = re.compile(r"^[0-9]+$")


def _money(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValueError(f"SuiteQL returned a non-numeric amount: {str(value)[:40]!r}") from None


def _rate(value: Any) -> Decimal:
    """A document's exchange rate (1 when NetSuite gives none)."""
    if value is None or value == "":
        return Decimal(1)
    try:
        rate = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"SuiteQL returned a non-numeric exchange rate: {str(value)[:40]!r}") from None
    return rate if rate > 0 else Decimal(1)


def _day(value: Any) -> date | None:
    text = str(value or "").strip()
    if not text:
        return None
    return date.fromisoformat(text[:10])


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ids(values: Sequence[str]) -> str:
    bad = [v for v in values if not _DIGITS.match(v)]
    if bad:
        raise ValueError(f"not NetSuite internal ids: {bad[:3]}")
    return ", ".join(values)


_GL_LINES = (
    "SELECT tal.transaction AS transaction, tal.transactionline AS line, tal.account AS account, "
    "tal.debit AS debit, tal.credit AS credit, tal.accountingbook AS book, t.externalid AS externalid, "
    "t.type AS type, TO_CHAR(t.trandate, 'YYYY-MM-DD') AS trandate, t.postingperiod AS postingperiod, "
    "tl.memo AS memo, tl.createdfrom AS createdfrom, t.currency AS currency, t.exchangerate AS exchangerate "
    "FROM transactionaccountingline tal "
    "INNER JOIN transaction t ON t.id = tal.transaction "
    "LEFT OUTER JOIN transactionline tl ON tl.transaction = tal.transaction AND tl.id = tal.transactionline "
)


def gl_query(since: date, until: date, clearing: Sequence[str], shop_id: str = "") -> str:
    """The GL lines of the bridge's documents (external id ``TTS-…``) dated in [since, until), every
    line on the clearing account(s) in that window (a hand-made entry counts too), and the invoices
    and cash sales made from the shop's TikTok sales orders by anyone (an admin's billing run: the
    double-revenue guard must see them although they carry no external id of the bridge)."""
    on_clearing = f" OR tal.account IN ({_ids(list(clearing))})" if clearing else ""
    if shop_id:
        _ids([shop_id])  # TikTok shop ids are digits: nothing caller-typed is spliced in
        on_clearing += (
            " OR (t.type IN ('CustInvc', 'CashSale') AND tal.transaction IN (SELECT h.transaction "  # noqa: S608 - shop id checked to be digits
            "FROM transactionline h INNER JOIN transaction so ON so.id = h.createdfrom "
            f"WHERE h.mainline = 'T' AND so.externalid LIKE 'TTS-{shop_id}-%'))")
    # dates are ISO dates and the account ids are checked to be digits: nothing caller-typed is spliced in
    where = (
        f"WHERE tal.posting = 'T' AND t.trandate >= TO_DATE('{since.isoformat()}', 'YYYY-MM-DD') "
        f"AND t.trandate < TO_DATE('{until.isoformat()}', 'YYYY-MM-DD') "
        f"AND (t.externalid LIKE 'TTS-%'{on_clearing})"
    )
    return _GL_LINES + where


def documents_query(external_ids: Sequence[str]) -> str:
    """The GL lines of the documents with these external ids, whatever their date (an order's
    customer deposit or invoice can be older than the window its settlement falls in)."""
    quoted = ", ".join(_quote(e) for e in external_ids)
    return _GL_LINES + f"WHERE tal.posting = 'T' AND t.externalid IN ({quoted})"


def derived_documents_query(ids: Sequence[str]) -> str:
    """The GL lines of the transactions made from these ones (``createdfrom`` on the header): NetSuite's
    own deposit application of an order's customer deposit — made when the order is billed, carrying
    no external id of the bridge, dated whenever that was — moves the deposit into A/R against the
    invoice, so it is one of the order's documents."""
    where = (
        "WHERE tal.posting = 'T' AND tal.transaction IN (SELECT h.transaction FROM transactionline h "  # noqa: S608 - internal ids checked to be digits
        f"WHERE h.mainline = 'T' AND h.createdfrom IN ({_ids(list(ids))}))"
    )
    return _GL_LINES + where


ORDER_DOCUMENTS = ("TTS-DEP-{shop}-{order}", "TTS-INV-{shop}-{order}", "TTS-PMT-{shop}-{order}")


def header_query(ids: Sequence[str]) -> str:
    """External id and source document of transactions (to follow a credit memo back to its order)."""
    return ("SELECT t.id AS id, t.externalid AS externalid, tl.createdfrom AS createdfrom FROM transaction t "  # noqa: S608
            "INNER JOIN transactionline tl ON tl.transaction = t.id "
            f"WHERE tl.mainline = 'T' AND t.id IN ({_ids(list(ids))})")


ACCOUNTS_QUERY = "SELECT id, acctnumber, fullname, accttype FROM account"


CURRENCIES_QUERY = "SELECT id, symbol FROM currency"


PERIODS_QUERY = ("SELECT id, TO_CHAR(startdate, 'YYYY-MM-DD') AS startdate, TO_CHAR(enddate, 'YYYY-MM-DD') AS enddate "
                 "FROM accountingperiod WHERE isquarter = 'F' AND isyear = 'F' AND isadjust = 'F'")


def order_of(external_id: str, shop_id: str) -> str:
    """The TikTok order an order-level document belongs to, from its external id
    (``TTS-{shop}-{order}``, ``TTS-DEP-…``, ``TTS-PMT-…``, ``TTS-CRF-…`` and ``TTS-CXL-…`` of a cancelled
    order's customer deposit)."""
    for prefix in (f"TTS-DEP-{shop_id}-", f"TTS-PMT-{shop_id}-", f"TTS-CXL-{shop_id}-", f"TTS-{shop_id}-"):
        if external_id.startswith(prefix):
            return external_id[len(prefix):]
    if external_id.startswith(f"TTS-CRF-{shop_id}-"):  # a cancelled order's deposit refund (-R2 … for later ones)
        return re.sub(r"-R[0-9]+$", "", external_id[len(f"TTS-CRF-{shop_id}-"):])
    return ""


class NetSuiteGlReader:
    """Reads GL lines, accounts and accounting periods through the bridge's SuiteQL client."""

    def __init__(self, client: Callable[[], NetSuiteClient]) -> None:
        self._client = client  # built on first use (bridge.bootstrap)

    @property
    def client(self) -> NetSuiteClient:
        return self._client()

    def _rows(self, query: str) -> Iterator[dict[str, Any]]:
        rows: Iterator[dict[str, Any]] = iter(self.client.iter_suiteql(query)) if hasattr(
            self.client, "iter_suiteql") else iter(self.client.suiteql(query))
        return rows

    def accounts(self) -> dict[str, dict[str, str]]:
        return {str(r["id"]): {"number": str(r.get("acctnumber") or ""), "name": str(r.get("fullname") or ""),
                               "type": str(r.get("accttype") or "")} for r in self._rows(ACCOUNTS_QUERY)}

    def currencies(self) -> dict[str, str]:
        """Currency internal id → ISO code (``symbol``)."""
        return {str(r["id"]): str(r.get("symbol") or "").upper() for r in self._rows(CURRENCIES_QUERY)}

    def periods(self) -> list[Period]:
        out = []
        for r in self._rows(PERIODS_QUERY):
            start, end = _day(r.get("startdate")), _day(r.get("enddate"))
            if start and end:
                out.append(Period(str(r["id"]), start, end))
        return out

    def lines(self, shop_id: str, since: date, until: date, clearing: Sequence[str], *,
              orders: Sequence[str] = (), on_window: Callable[[date, int], None] | None = None) -> list[GlLine]:
        """Every GL line of the window (primary book), plus the order documents (customer deposit,
        invoice, customer payment) of ``orders`` whatever their date, with the TikTok order of order
        documents resolved through their external ids and source documents."""
        raw: list[dict[str, Any]] = []
        start = since
        while start < until:
            end = min(until, start + timedelta(days=WINDOW_DAYS))
            before = len(raw)
            raw.extend(r for r in self._rows(gl_query(start, end, clearing, shop_id if _DIGITS.match(shop_id) else ""))
                       if str(r.get("book") or PRIMARY_BOOK) == PRIMARY_BOOK)
            if on_window:
                on_window(end, len(raw) - before)
            start = end
        seen = {str(r.get("externalid") or "") for r in raw}
        wanted = sorted({p.format(shop=shop_id, order=o) for o in orders for p in ORDER_DOCUMENTS} - seen)
        for i in range(0, len(wanted), IN_CHUNK):
            raw.extend(r for r in self._rows(documents_query(wanted[i:i + IN_CHUNK]))
                       if str(r.get("book") or PRIMARY_BOOK) == PRIMARY_BOOK)
        # what NetSuite made from the orders' customer deposits (deposit applications, customer refunds)
        deposits = sorted({str(r["transaction"]) for r in raw
                           if str(r.get("externalid") or "").startswith(f"TTS-DEP-{shop_id}-")})
        have = {str(r["transaction"]) for r in raw}
        for i in range(0, len(deposits), IN_CHUNK):
            raw.extend(r for r in self._rows(derived_documents_query(deposits[i:i + IN_CHUNK]))
                       if str(r.get("book") or PRIMARY_BOOK) == PRIMARY_BOOK and str(r["transaction"]) not in have)
        by_order = self._orders(shop_id, raw)
        symbols = self.currencies() if any(r.get("currency") for r in raw) else {}
        out = []
        for r in raw:
            tid = str(r["transaction"])
            out.append(GlLine(tid, str(r.get("externalid") or ""), str(r.get("type") or ""), _day(r.get("trandate")),
                              str(r.get("postingperiod") or ""), str(r["account"]), _money(r.get("debit")),
                              _money(r.get("credit")), by_order.get(tid, ""), str(r.get("memo") or ""),
                              symbols.get(str(r.get("currency") or ""), ""), _rate(r.get("exchangerate"))))
        return out

    def _orders(self, shop_id: str, raw: Sequence[dict[str, Any]]) -> dict[str, str]:
        """Transaction id → TikTok order id: by external id, else following the header's
        ``createdfrom`` (credit memo → return authorization → sales order) up to three steps."""
        eid: dict[str, str] = {}
        for r in raw:
            eid[str(r["transaction"])] = str(r.get("externalid") or "")
        source: dict[str, str] = {}
        todo = sorted(t for t, e in eid.items() if not order_of(e, shop_id) and not e.startswith(BRIDGE_DOCS))
        for _ in range(3):
            for i in range(0, len(todo), IN_CHUNK):
                for r in self._rows(header_query(todo[i:i + IN_CHUNK])):
                    sid = str(r["id"])
                    eid[sid] = str(r.get("externalid") or "")
                    if r.get("createdfrom"):
                        source[sid] = str(r["createdfrom"])
            todo = sorted({src for t in todo if (src := source.get(t)) and src not in eid})
            if not todo:
                break
        out: dict[str, str] = {}
        for r in raw:
            tid = str(r["transaction"])
            if eid.get(tid, "").startswith(BRIDGE_DOCS):
                continue
            cur, steps = tid, 0
            while cur and steps < 4:
                oid = order_of(eid.get(cur, ""), shop_id)
                if oid:
                    out[tid] = oid
                    break
                cur, steps = source.get(cur, ""), steps + 1
        return out


__all__ = ["NetSuiteGlReader"]

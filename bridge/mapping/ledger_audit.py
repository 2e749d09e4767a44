"""The ledger audit as one pure comparison: TikTok's figures + NetSuite's general ledger → a report.

No I/O. The readers (``bridge.netsuite.adapters.ledger_audit`` for NetSuite's GL through SuiteQL
``transactionaccountingline``, the settlement port for TikTok's finance API) build the inputs; the
flow (``bridge.flows.ledger_audit``) turns the findings into finance exceptions.

What it compares, for every statement and payout TikTok reports in the window:

* **per account** (the judge): what TikTok's figures say each GL account must hold — every component
  of the statement on the account ``settlement.yaml`` maps it to, the clearing account for the
  payable, the bank for the payout — against the lines of the NetSuite documents of that statement
  (``TTS-STMT-{id}`` and its adjusting journals) and payout (``TTS-PAY-{id}``), read back from the GL;
* **per figure** (what finance reads): gross sales, discounts, refunds, shipping, fees, taxes,
  adjustments, reserve and payout, TikTok's figure beside the GL lines of the same documents
  (a line is attributed to a figure by its account, or by its memo where one account carries
  several figures);
* **per order**: the order's figures in TikTok's statements beside the GL of the order's own
  NetSuite documents (sales order, invoice/cash sale, customer deposit, credit memo …) on the
  accounts the settlement posts to — which must be empty in ``summary`` mode (the journal recognises
  the sale), and never carry a refund in any mode (refunds post with the statement);
* **residue**: what stays in the clearing account beyond the payable TikTok has not paid out yet,
  and on the receivable accounts for orders already paid out.

Findings name the documents: ``MISSING_POSTING`` (a statement or paid payout without its NetSuite
document), ``DOUBLE_COUNT`` (an amount in the GL twice: a second document for the same figure),
``WRONG_PERIOD`` (a document posted in another accounting period than its date calls for),
``DIFFERENCE`` (an account that does not match and no simpler finding explains), ``RESIDUE``,
``VAT_UNREAD`` (a VAT-inclusive shop's order whose VAT TikTok's orders API did not give: compared by the
rule, unverified).

Sign convention: TikTok's (money to the seller positive). A GL line's ``amount`` is ``credit -
debit``, so a credit to Sales equals TikTok's positive gross sales and a debit to the bank equals
minus the payout.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any, Literal

ZERO = Decimal(0)
FIGURES = ("gross_sales", "discounts", "refunds", "shipping", "fees", "taxes", "vat", "adjustments", "reserve",
           "payout")
FIGURE_LABELS = {
    "gross_sales": "Gross sales", "discounts": "Discounts", "refunds": "Refunds", "shipping": "Shipping",
    "fees": "Fees", "taxes": "Taxes", "vat": "VAT in prices", "adjustments": "Adjustments", "reserve": "Reserve",
    "payout": "Payout",
    "other": "Other (variance, receivable)", "clearing": "Clearing", "unattributed": "Unattributed",
}
REFUND_TYPES = frozenset({"CustCred", "CashRfnd", "CustRfnd"})
REVENUE_TYPES = frozenset({"CustInvc", "CashSale"})
SALE_COMPONENTS = frozenset({"revenue.subtotal_before_discount_amount", "revenue.seller_discount_amount",
                             "revenue.cod_service_fee_amount", "shipping.customer_paid_shipping_fee_amount"})
COMPOSITE = "sales+receivables"
COMPOSITE_NAME = "Sales, receivables and clearing (settled against order documents)"
Mode = Literal["summary", "customer_deposits", "invoices"]
FindingCode = Literal["MISSING_POSTING", "DOUBLE_COUNT", "WRONG_PERIOD", "DIFFERENCE", "RESIDUE", "VAT_UNREAD"]

_STMT = re.compile(r"^TTS-STMT-(?P<sid>.+?)(?:-ADJ(?P<n>[0-9]+))?$")
_PAY = re.compile(r"^TTS-PAY-(?P<pid>.+)$")


def figure_of(component: str) -> str:
    """The report figure a settlement component belongs to."""
    group, _, name = component.partition(".")
    if component == "reserve":
        return "reserve"
    if group == "vat":  # the VAT inside VAT-inclusive prices, booked apart (bridge.mapping.vat)
        return "vat"
    if group == "receivable":  # receivable modes: the journal's lines beside the order documents
        return {"platform_discount": "discounts", "sales_tax": "taxes"}.get(name, "other")
    if group == "revenue":
        if name.startswith("refund_"):
            return "refunds"
        if name.startswith(("seller_discount", "platform_discount")):
            return "discounts"
        return "gross_sales"
    return {"shipping": "shipping", "fee": "fees", "tax": "taxes", "adjustment": "adjustments"}.get(group, "other")


def _q(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))


# ============================================================================================ inputs
@dataclass(frozen=True, slots=True)
class GlLine:
    """One posting line of NetSuite's GL (``transactionaccountingline``) with its document."""

    transaction: str
    external_id: str
    type: str
    tran_date: date | None
    period: str
    account: str
    debit: Decimal
    credit: Decimal
    order_id: str = ""
    memo: str = ""
    currency: str = ""  # the document's currency (ISO code); "" when the reader does not know it
    rate: Decimal = Decimal(1)  # the document's exchange rate to the subsidiary's base currency

    @property
    def amount(self) -> Decimal:
        """Seller's sign: a credit is positive."""
        return self.credit - self.debit

    def in_document_currency(self) -> GlLine:
        """The line in its document's currency: ``transactionaccountingline`` holds the subsidiary's base
        currency; NetSuite's own exchange rate on the document converts it back (to the cent)."""
        if self.rate == 1 or self.rate <= 0:
            return self
        return replace(self, debit=_q(self.debit / self.rate), credit=_q(self.credit / self.rate), rate=Decimal(1))


@dataclass(frozen=True, slots=True)
class TikTokStatement:
    """A statement as TikTok's finance API reports it, reduced to postable components."""

    shop_id: str
    id: str
    currency: str
    day: date | None
    expected_date: date | None
    payment_id: str
    payable: Decimal
    components: Mapping[str, Decimal]
    orders: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)  # order id → figure → amount
    # VAT-inclusive shop: the orders whose VAT TikTok's orders API did not give (Get Order Detail left them out);
    # their figures are split by the rule, each named by a VAT_UNREAD finding
    vat_unread: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TikTokPayout:
    shop_id: str
    id: str
    status: str
    amount: Decimal
    currency: str
    paid_date: date | None
    exchanged: bool = False


@dataclass(frozen=True, slots=True)
class Period:
    id: str
    start: date
    end: date


@dataclass(frozen=True)
class AuditAccounts:
    """Where ``settlement.yaml`` says each amount goes (NetSuite internal ids)."""

    component_account: Mapping[str, str]
    clearing: str
    bank: Mapping[str, str]
    receivable: frozenset[str] = frozenset()
    names: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)  # component → the journal line memo it is posted with
    vat: str = ""  # the VAT payable account of a shop whose prices include VAT (its invoices' VAT line)

    def name(self, account: str) -> str:
        return self.names.get(account, account)


# =========================================================================================== results
@dataclass(frozen=True, slots=True)
class FigureRow:
    figure: str
    tiktok: Decimal
    netsuite: Decimal

    @property
    def difference(self) -> Decimal:
        return self.netsuite - self.tiktok


@dataclass(frozen=True, slots=True)
class AccountRow:
    account: str
    name: str
    figures: tuple[str, ...]
    tiktok: Decimal
    netsuite: Decimal
    documents: tuple[str, ...] = ()

    @property
    def difference(self) -> Decimal:
        return self.netsuite - self.tiktok


@dataclass(frozen=True, slots=True)
class Finding:
    code: FindingCode
    subject: str  # "statement:<id>", "payout:<id>", "order:<id>", "account:<id>"
    message: str
    documents: tuple[str, ...] = ()
    amount: Decimal = ZERO
    account: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "subject": self.subject, "message": self.message,
                "documents": list(self.documents), "amount": str(self.amount), "account": self.account}


@dataclass(frozen=True)
class SubjectAudit:
    """One statement, payout or order: figures and accounts, TikTok beside NetSuite."""

    kind: Literal["statement", "payout", "order"]
    id: str
    currency: str
    documents: tuple[str, ...]
    figures: tuple[FigureRow, ...]
    accounts: tuple[AccountRow, ...]
    findings: tuple[Finding, ...] = ()
    basis: str = ""  # in which currency TikTok's figures and NetSuite's GL were compared, and how

    @property
    def difference(self) -> Decimal:
        return sum((abs(a.difference) for a in self.accounts), ZERO)

    @property
    def ok(self) -> bool:
        return not self.findings and self.difference == 0


@dataclass(frozen=True)
class AuditReport:
    shop_id: str
    mode: str
    statements: tuple[SubjectAudit, ...]
    payouts: tuple[SubjectAudit, ...]
    orders: tuple[SubjectAudit, ...]
    groups: tuple[AccountRow, ...]
    totals: tuple[FigureRow, ...]
    clearing_balance: Decimal
    clearing_expected: Decimal
    receivable_residue: Decimal
    findings: tuple[Finding, ...]
    gl_lines: int = 0
    # every settled order's TikTok figures (``orders`` holds only the orders with NetSuite documents
    # of their own or a finding; ``order()`` gives any order's row)
    order_figures: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)
    order_currency: Mapping[str, str] = field(default_factory=dict)

    def order(self, order_id: str) -> SubjectAudit | None:
        for o in self.orders:
            if o.id == order_id:
                return o
        tk = self.order_figures.get(order_id)
        if tk is None:
            return None
        return SubjectAudit("order", order_id, self.order_currency.get(order_id, ""), (),
                            tuple(FigureRow(f, v, ZERO) for f, v in tk.items() if v), ())

    def all_orders(self) -> Iterator[SubjectAudit]:
        """Every order's row: TikTok's figures, NetSuite's from the order's own documents."""
        own = {o.id for o in self.orders}
        yield from self.orders
        for oid in sorted(self.order_figures):
            if oid not in own:
                row = self.order(oid)
                if row is not None:
                    yield row

    @property
    def clearing_residue(self) -> Decimal:
        return self.clearing_balance - self.clearing_expected

    @property
    def difference(self) -> Decimal:
        """Σ |NetSuite - TikTok| over every account, plus the residues: 0.00 when the ledger is right."""
        return (sum((abs(g.difference) for g in self.groups), ZERO) + abs(self.clearing_residue)
                + abs(self.receivable_residue))

    @property
    def ok(self) -> bool:
        return not self.findings and self.difference == 0

    def summary(self) -> dict[str, Any]:
        """The figures for ``--json`` and the demo: totals per figure and per account group, the difference."""
        return {
            "shop_id": self.shop_id, "mode": self.mode, "ok": self.ok,
            "statements": len(self.statements), "payouts": len(self.payouts), "orders": len(self.order_figures),
            "orders_with_documents": len(self.orders),
            "gl_lines": self.gl_lines,
            "totals": {r.figure: {"tiktok": str(r.tiktok), "netsuite": str(r.netsuite),
                                  "difference": str(r.difference)} for r in self.totals},
            "account_groups": [{"account": g.account, "name": g.name, "figures": list(g.figures),
                                "tiktok": str(g.tiktok), "netsuite": str(g.netsuite),
                                "difference": str(g.difference)} for g in self.groups],
            "clearing": {"balance": str(self.clearing_balance), "expected": str(self.clearing_expected),
                         "residue": str(self.clearing_residue)},
            "receivable_residue": str(self.receivable_residue),
            "currencies": sorted({s.currency for s in (*self.statements, *self.payouts) if s.currency}),
            "comparison": [{"kind": s.kind, "id": s.id, "currency": s.currency, "basis": s.basis}
                           for s in (*self.statements, *self.payouts)],
            "difference": str(_q(self.difference)),
            "findings": [f.as_dict() for f in self.findings],
        }


# ============================================================================================ audit
@dataclass
class _Doc:
    transaction: str
    external_id: str
    type: str
    tran_date: date | None
    period: str
    order_id: str
    lines: list[GlLine] = field(default_factory=list)
    rates: tuple[Decimal, ...] = ()


def period_of(day: date | None, periods: Sequence[Period]) -> str:
    """The accounting period holding ``day`` (non-adjusting periods), else its calendar month."""
    if day is None:
        return ""
    for p in periods:
        if p.start <= day <= p.end:
            return p.id
    return day.strftime("%Y-%m")


def _docs(gl: Iterable[GlLine]) -> dict[str, _Doc]:
    docs: dict[str, _Doc] = {}
    for ln in gl:
        d = docs.get(ln.transaction)
        if d is None:
            d = docs[ln.transaction] = _Doc(ln.transaction, ln.external_id, ln.type, ln.tran_date, ln.period,
                                            ln.order_id)
        d.lines.append(ln)
    return docs


def _label(doc: _Doc) -> str:
    return f"{doc.type} {doc.external_id or '#' + doc.transaction} (id {doc.transaction})"


def _name(doc: _Doc) -> str:
    """How a finding names a document: its external id, else (made outside the bridge) type and internal id."""
    return doc.external_id or f"{doc.type} #{doc.transaction}"


def _basis(currency: str, docs: Sequence[_Doc], converted: set[str]) -> tuple[str, list[_Doc]]:
    """In which currency one statement or payout is compared, and the documents in another currency
    (never mixed in: each is named instead)."""
    cur = currency.upper()
    foreign = [d for d in docs if d.lines and d.lines[0].currency and d.lines[0].currency.upper() != cur]
    if not docs:
        return f"{cur}: TikTok's figures (NetSuite holds no document for it)", foreign
    rates = sorted({str(r) for d in docs if d.transaction in converted for r in d.rates})
    if rates:
        return (f"{cur}: NetSuite's GL converted from the subsidiary's base currency at the documents' own "
                f"exchange rate ({', '.join(rates)})"), foreign
    return f"{cur}: NetSuite's GL as posted (the documents' currency is the subsidiary's base currency)", foreign


class _Figures:
    """Attribute a document's GL lines to report figures."""

    def __init__(self, accounts: AuditAccounts) -> None:
        self.by_account: dict[str, set[str]] = defaultdict(set)
        self.primary: dict[str, set[str]] = defaultdict(set)  # from TikTok's own components only
        for comp, acct in accounts.component_account.items():
            self.by_account[acct].add(figure_of(comp))
            if not comp.startswith("receivable."):
                self.primary[acct].add(figure_of(comp))
        self.by_memo = {memo: figure_of(comp) for comp, memo in accounts.labels.items()}
        self.accounts = accounts

    def of(self, ln: GlLine) -> str:
        if ln.account == self.accounts.clearing and "reserve" not in self.by_account.get(ln.account, ()):
            return "clearing"
        if ln.account in set(self.accounts.bank.values()):
            return "payout"
        figs = self.by_account.get(ln.account, set())
        if ln.account == self.accounts.clearing:  # clearing shared with the reserve: the memo tells them apart
            return self.by_memo.get(ln.memo, "clearing")
        if len(figs) == 1:
            return next(iter(figs))
        if ln.memo in self.by_memo:
            return self.by_memo[ln.memo]
        primary = self.primary.get(ln.account, set())
        return next(iter(primary)) if len(primary) == 1 else "unattributed"


def audit(
    statements: Sequence[TikTokStatement],
    payouts: Sequence[TikTokPayout],
    gl: Iterable[GlLine],
    accounts: AuditAccounts,
    *,
    shop_id: str = "",
    mode: str = "summary",
    periods: Sequence[Period] = (),
) -> AuditReport:
    """Compare TikTok's statements and payouts with NetSuite's GL lines (see the module docstring).

    Where the shop's prices include VAT, TikTok's figures come net of it with the VAT as its own
    figure (``vat.*`` components, ``bridge.mapping.vat``), as the journal and the invoices book them;
    an invoice's line on ``accounts.vat`` is that VAT."""
    gl = list(gl)
    converted = {ln.transaction: ln.rate for ln in gl if ln.rate != 1 and ln.rate > 0}
    if converted:  # compare in the documents' own currency, converted at NetSuite's exchange rate
        gl = [ln.in_document_currency() for ln in gl]
    docs = _docs(gl)
    for tid, rate in converted.items():
        docs[tid].rates = (rate,)
    figs = _Figures(accounts)
    settlement_accounts = set(accounts.component_account.values())
    by_statement: dict[str, list[_Doc]] = defaultdict(list)
    by_payout: dict[str, list[_Doc]] = defaultdict(list)
    by_order: dict[str, list[_Doc]] = defaultdict(list)
    for d in docs.values():
        m = _STMT.match(d.external_id or "")
        if m:
            by_statement[m.group("sid")].append(d)
            continue
        pm = _PAY.match(d.external_id or "")
        if pm:
            by_payout[pm.group("pid")].append(d)
            continue
        if d.order_id:
            by_order[d.order_id].append(d)
    # Receivable modes: a settled order's sale moves through its order documents (invoice, customer
    # deposit, customer payment) and the deposit's undeposited funds instead of the journal, so those
    # accounts and the clearing account are one composite, exact over the window (every document in it
    # balances), while every other account stays exact per statement and payout.
    composite: set[str] = set()
    if mode != "summary":
        composite = {a for c, a in accounts.component_account.items() if c in SALE_COMPONENTS
                     or c.startswith("receivable.")} | set(accounts.receivable) | {accounts.clearing}
        composite |= {ln.account for ds in by_order.values() for d in ds for ln in d.lines}
        accounts = replace(accounts, names={**accounts.names, COMPOSITE: COMPOSITE_NAME})

    def key(account: str) -> str:
        return COMPOSITE if account in composite else account

    findings: list[Finding] = []
    expected_total: dict[str, Decimal] = defaultdict(lambda: ZERO)
    actual_total: dict[str, Decimal] = defaultdict(lambda: ZERO)
    docs_on: dict[str, set[str]] = defaultdict(set)
    fig_tiktok: dict[str, Decimal] = defaultdict(lambda: ZERO)
    fig_netsuite: dict[str, Decimal] = defaultdict(lambda: ZERO)
    audited_docs: set[str] = set()

    # -- statements ---------------------------------------------------------------------------------
    stmt_out: list[SubjectAudit] = []
    posted_statements: set[str] = set()
    order_statements: dict[str, list[str]] = defaultdict(list)
    for s in statements:
        subject = f"statement:{s.id}"
        expected: dict[str, Decimal] = defaultdict(lambda: ZERO)
        tk_fig: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for comp, amount in s.components.items():
            acct = accounts.component_account.get(comp)
            if acct is None:
                findings.append(Finding("DIFFERENCE", subject, f"statement {s.id}: no GL account is mapped for "
                                        f"{comp} ({amount} {s.currency})", amount=amount))
                continue
            expected[key(acct)] += amount
            tk_fig[figure_of(comp)] += amount
        expected[key(accounts.clearing)] -= s.payable
        for oid in s.orders:
            order_statements[oid].append(s.id)
        mine = sorted(by_statement.get(s.id, []), key=lambda d: (len(d.external_id), d.external_id))
        basis, foreign = _basis(s.currency, mine, set(converted))
        s_findings: list[Finding] = [_foreign(subject, d, f"statement {s.id}", s.currency) for d in foreign]
        s_findings += [Finding("VAT_UNREAD", f"order:{oid}", f"TikTok order {oid} (statement {s.id}): Get Order "
                               "Detail did not return it, so its VAT was not read from TikTok; its net sales and "
                               "VAT are the rule's, unverified", (f"TTS-STMT-{s.id}",)) for oid in s.vat_unread]
        mine = [d for d in mine if d not in foreign]
        base = [d for d in mine if not _STMT.match(d.external_id).group("n")]  # type: ignore[union-attr]
        if base:
            posted_statements.add(s.id)
        if not base and any(expected.values()):
            s_findings.append(Finding("MISSING_POSTING", subject, f"statement {s.id} ({s.day}, payable {s.payable} "
                                      f"{s.currency}) has no journal TTS-STMT-{s.id} in NetSuite's GL",
                                      (f"TTS-STMT-{s.id}",), s.payable))
        want = period_of(s.expected_date, periods)
        for d in base:
            if want and d.period and d.period != want:
                s_findings.append(Finding("WRONG_PERIOD", subject, f"{_label(d)} posts in period {d.period}; "
                                          f"statement {s.id} of {s.expected_date} belongs in {want}",
                                          (d.external_id,)))
        actual: dict[str, Decimal] = defaultdict(lambda: ZERO)
        ns_fig: dict[str, Decimal] = defaultdict(lambda: ZERO)
        doc_accounts: dict[str, set[str]] = defaultdict(set)
        for d in mine:
            audited_docs.add(d.transaction)
            for ln in d.lines:
                actual[key(ln.account)] += ln.amount
                doc_accounts[key(ln.account)].add(d.external_id)
                f = figs.of(ln)
                if f != "clearing":
                    ns_fig[f] += ln.amount
        rows = _account_rows(expected, actual, accounts, figs, doc_accounts)
        s_findings += _explain(subject, rows, mine, s.currency)
        for r in rows:
            expected_total[r.account] += r.tiktok
            actual_total[r.account] += r.netsuite
            docs_on[r.account].update(r.documents)
        fig_rows = tuple(FigureRow(f, tk_fig.get(f, ZERO), ns_fig.get(f, ZERO)) for f in FIGURES[:-1]
                         if tk_fig.get(f) or ns_fig.get(f)) + tuple(
            FigureRow(f, ZERO, ns_fig[f]) for f in ("other", "unattributed") if ns_fig.get(f))
        for fr in fig_rows:
            fig_tiktok[fr.figure] += fr.tiktok
            fig_netsuite[fr.figure] += fr.netsuite
        findings += s_findings
        stmt_out.append(SubjectAudit("statement", s.id, s.currency, tuple(d.external_id for d in mine), fig_rows,
                                     rows, tuple(s_findings), basis))

    # -- payouts ------------------------------------------------------------------------------------
    pay_out: list[SubjectAudit] = []
    paid_payouts: set[str] = set()
    for p in payouts:
        subject = f"payout:{p.id}"
        mine = by_payout.get(p.id, [])
        basis, foreign = _basis(p.currency, mine, set(converted))
        p_findings: list[Finding] = [_foreign(subject, d, f"payout {p.id}", p.currency) for d in foreign]
        mine = [d for d in mine if d not in foreign]
        expected = defaultdict(lambda: ZERO)
        bank = accounts.bank.get(p.currency.upper(), "")
        due = p.status == "PAID" and not p.exchanged and p.amount > 0
        if due:
            expected[key(bank)] -= p.amount
            expected[key(accounts.clearing)] += p.amount
            if not mine:
                p_findings.append(Finding("MISSING_POSTING", subject, f"payout {p.id} ({p.amount} {p.currency}, paid "
                                          f"{p.paid_date}) has no deposit TTS-PAY-{p.id} in NetSuite's GL",
                                          (f"TTS-PAY-{p.id}",), p.amount))
        want = period_of(p.paid_date, periods)
        for d in mine:
            if want and d.period and d.period != want:
                p_findings.append(Finding("WRONG_PERIOD", subject, f"{_label(d)} posts in period {d.period}; payout "
                                          f"{p.id} paid {p.paid_date} belongs in {want}", (d.external_id,)))
        actual = defaultdict(lambda: ZERO)
        doc_accounts = defaultdict(set)
        for d in mine:
            audited_docs.add(d.transaction)
            for ln in d.lines:
                actual[key(ln.account)] += ln.amount
                doc_accounts[key(ln.account)].add(d.external_id)
        if due:
            paid_payouts.add(p.id)
        rows = _account_rows(expected, actual, accounts, figs, doc_accounts)
        p_findings += _explain(subject, rows, mine, p.currency)
        for r in rows:
            expected_total[r.account] += r.tiktok
            actual_total[r.account] += r.netsuite
            docs_on[r.account].update(r.documents)
        ns_payout = -sum((ln.amount for d in mine for ln in d.lines if ln.account == bank), ZERO) if bank else ZERO
        tk_payout = p.amount if due else ZERO
        fig_tiktok["payout"] += tk_payout
        fig_netsuite["payout"] += ns_payout
        findings += p_findings
        pay_out.append(SubjectAudit("payout", p.id, p.currency, tuple(d.external_id for d in mine),
                                    (FigureRow("payout", tk_payout, ns_payout),), rows, tuple(p_findings), basis))

    # -- orders -------------------------------------------------------------------------------------
    order_out: list[SubjectAudit] = []
    tk_orders: dict[str, Mapping[str, Decimal]] = {}
    currency_of: dict[str, str] = {}
    for s in statements:
        for oid, figures in s.orders.items():
            currency_of[oid] = s.currency
            seen = tk_orders.get(oid)
            if seen is None:
                tk_orders[oid] = figures  # most orders settle on one statement: share its mapping
            else:
                merged = dict(seen)
                for f, amount in figures.items():
                    merged[f] = merged.get(f, ZERO) + amount
                tk_orders[oid] = merged
    for oid in sorted(set(tk_orders) | set(by_order)):
        subject = f"order:{oid}"
        mine = by_order.get(oid, [])
        o_findings: list[Finding] = []
        ns_fig = defaultdict(lambda: ZERO)
        actual = defaultdict(lambda: ZERO)
        doc_accounts = defaultdict(set)
        revenue_docs = [d for d in mine if d.type in REVENUE_TYPES
                        and any(ln.account in settlement_accounts and ln.amount > 0 for ln in d.lines)]
        if mode != "summary" and len(revenue_docs) > 1:
            o_findings.append(Finding("DOUBLE_COUNT", subject, f"TikTok order {oid} is billed {len(revenue_docs)} "
                                      f"times: {', '.join(_label(d) for d in revenue_docs)}",
                                      tuple(_name(d) for d in revenue_docs)))
        tk_sale = tk_orders.get(oid, {}).get("gross_sales", ZERO)
        settled_sale = tk_sale > 0
        if mode != "summary" and mine and tk_sale > 0 and not any(d.type in REVENUE_TYPES for d in mine):
            stmts = order_statements.get(oid, [])
            o_findings.append(Finding(
                "MISSING_POSTING", subject, f"TikTok order {oid} settled its sale ({tk_sale}) against its order "
                f"documents ({', '.join(_label(d) for d in mine)}), but no invoice recognises the revenue",
                (f"TTS-INV-{shop_id}-{oid}", *(f"TTS-STMT-{x}" for x in stmts)), tk_sale))
        for d in mine:
            if mode != "summary":  # the order's documents are part of the composite money trail
                audited_docs.add(d.transaction)
                for ln in d.lines:
                    actual_total[key(ln.account)] += ln.amount
                    docs_on[key(ln.account)].add(_name(d))
                    if d.type in REVENUE_TYPES and ln.account in settlement_accounts and settled_sale:
                        # the invoice's part of the sale TikTok settled in the window
                        f = "vat" if accounts.vat and ln.account == accounts.vat else figs.of(ln)
                        ns_fig[f] += ln.amount
            flagged = []
            for ln in d.lines:
                if ln.account not in settlement_accounts:
                    continue
                audited_docs.add(d.transaction)
                f = figs.of(ln)
                if mode == "summary" or d.type in REFUND_TYPES:
                    flagged.append(ln)
                    ns_fig[f] += ln.amount
                    actual[key(ln.account)] += ln.amount
                    doc_accounts[key(ln.account)].add(_name(d))
            stmts = order_statements.get(oid, [])
            where = (f"already in the settlement journal of statement {', '.join(stmts)}" if stmts
                     else "which the settlement journal posts")
            if mode == "summary" and d.type in REVENUE_TYPES:
                # revenue comes from the statement: any invoice or cash sale of a TikTok order (the bridge
                # never bills in this mode; an admin's billing run does) recognises it a second time
                billed = sum((ln.amount for ln in d.lines if ln.amount > 0 or ln.account not in accounts.receivable),
                             ZERO)
                who = "" if d.external_id.startswith("TTS-") else " (billed outside the bridge)"
                o_findings.append(Finding(
                    "DOUBLE_COUNT", subject, f"{_label(d)}{who} bills TikTok order {oid} for {billed} of revenue; "
                    f"in {mode} mode the statement recognises it, {where}",
                    (_name(d), *(f"TTS-STMT-{x}" for x in stmts)), billed))
                continue
            if not flagged:
                continue
            amount = sum((ln.amount for ln in flagged), ZERO)
            hit = ", ".join(accounts.name(a) for a in sorted({ln.account for ln in flagged}))
            o_findings.append(Finding("DOUBLE_COUNT", subject, f"{_label(d)} for TikTok order {oid} posts {amount} "
                                      f"to {hit}, {where}", (_name(d), *(f"TTS-STMT-{x}" for x in stmts)),
                                      amount))
        rows = _account_rows(defaultdict(lambda: ZERO), actual, accounts, figs, doc_accounts)
        for r in rows if mode == "summary" else ():
            actual_total[r.account] += r.netsuite
            docs_on[r.account].update(r.documents)
        for f, v in ns_fig.items():
            fig_netsuite[f] += v
        if not mine and not o_findings:
            continue  # TikTok's figures alone: kept in order_figures, rendered on demand
        tk = tk_orders.get(oid, {})
        fig_rows = tuple(FigureRow(f, tk.get(f, ZERO), ns_fig.get(f, ZERO)) for f in FIGURES[:-1]
                         if tk.get(f) or ns_fig.get(f))
        findings += o_findings
        order_out.append(SubjectAudit("order", oid, currency_of.get(oid, ""), tuple(_name(d) for d in mine),
                                      fig_rows, rows, tuple(o_findings)))

    # -- residue ------------------------------------------------------------------------------------
    # the clearing account as the audited documents and any hand-made entry (not the bridge's) leave it
    on_clearing = [ln for ln in gl if ln.account == accounts.clearing and (
        ln.transaction in audited_docs or not ln.external_id.startswith("TTS-"))]
    clearing_balance = -sum((ln.amount for ln in on_clearing), ZERO)
    reserve_on_clearing = "reserve" in figs.by_account.get(accounts.clearing, set())
    # what TikTok still owes for the statements NetSuite has a journal for (a missing journal is named above)
    journaled = [s for s in statements if s.id in posted_statements]
    reserve_held = -sum((s.components.get("reserve", ZERO) for s in journaled), ZERO) if reserve_on_clearing else ZERO
    unpaid = sum((s.payable for s in journaled if s.payment_id not in paid_payouts), ZERO)
    # TikTok closed these payouts (a payout of nothing included): their orders' receivables must be empty
    closed_payouts = paid_payouts | {p.id for p in payouts if p.status == "PAID" and not p.exchanged}
    settled_orders = {oid for s in statements if s.payment_id in closed_payouts for oid in s.orders}
    # receivable modes: the sale of an order on a statement not paid out yet waits in the order's receivable
    # (its invoice's A/R, or its customer deposit's undeposited funds) until the payout's deposit collects it,
    # not in clearing (the journal left the sale out): TikTok owes it through those documents
    awaiting = ZERO
    if mode != "summary":
        for oid in sorted({oid for s in journaled if s.payment_id not in paid_payouts for oid in s.orders}
                          - settled_orders):
            awaiting -= sum((ln.amount for d in by_order.get(oid, []) for ln in d.lines
                             if ln.account in accounts.receivable), ZERO)
        # a payout of nothing (its statements net to zero or less) deposits its orders' documents into the
        # clearing account instead of the bank: they no longer wait in receivables
        for pid in sorted({s.payment_id for s in journaled if s.payment_id not in closed_payouts}):
            awaiting -= sum((ln.amount for d in by_payout.get(pid, []) for ln in d.lines
                             if ln.account in accounts.receivable), ZERO)
    clearing_expected = unpaid + reserve_held - awaiting
    extra = [ln for ln in on_clearing if ln.transaction not in audited_docs]
    if clearing_balance != clearing_expected:
        findings.append(Finding(
            "RESIDUE", f"account:{accounts.clearing}",
            f"{accounts.name(accounts.clearing)} holds {clearing_balance}; TikTok still owes {clearing_expected} "
            f"(statements not paid out{', reserve held' if reserve_held else ''}"
            f"{f', less {awaiting} their orders receivable' if awaiting else ''}): "
            f"{clearing_balance - clearing_expected} left in clearing",
            tuple(sorted({ln.external_id or ln.transaction for ln in extra}))[:50],
            clearing_balance - clearing_expected, accounts.clearing))
    receivable_residue = ZERO
    rec_docs: set[str] = set()
    for oid in settled_orders:
        for d in by_order.get(oid, []):
            for ln in d.lines:
                if ln.account in accounts.receivable:
                    receivable_residue -= ln.amount
                    rec_docs.add(d.external_id)
    for pid in sorted(closed_payouts):
        for d in by_payout.get(pid, []):
            for ln in d.lines:
                if ln.account in accounts.receivable:
                    receivable_residue -= ln.amount
    if receivable_residue:
        findings.append(Finding("RESIDUE", "account:receivable",
                                f"the receivable accounts hold {receivable_residue} for orders TikTok has paid out",
                                tuple(sorted(rec_docs))[:50], receivable_residue))

    groups = tuple(
        AccountRow(a, accounts.name(a), tuple(sorted(figs.by_account.get(a, set()) or {_role(a, accounts)})),
                   expected_total.get(a, ZERO), actual_total.get(a, ZERO), tuple(sorted(docs_on.get(a, set()))))
        for a in sorted(set(expected_total) | set(actual_total), key=accounts.name)
        if expected_total.get(a) or actual_total.get(a))
    totals = tuple(FigureRow(f, fig_tiktok.get(f, ZERO), fig_netsuite.get(f, ZERO)) for f in (*FIGURES, "other",
                                                                                                "unattributed")
                   if f in FIGURES or fig_netsuite.get(f))
    return AuditReport(shop_id, mode, tuple(stmt_out), tuple(pay_out), tuple(order_out), groups, totals,
                       clearing_balance, clearing_expected, receivable_residue, tuple(findings), len(gl),
                       tk_orders, currency_of)


def _foreign(subject: str, doc: _Doc, what: str, currency: str) -> Finding:
    cur = doc.lines[0].currency if doc.lines else ""
    return Finding("DIFFERENCE", subject, f"{_label(doc)} is in {cur}, {what} in {currency}: the audit does not mix "
                   "currencies (NetSuite's exchange rate on a document converts only to its own currency), so it is "
                   "left out of the comparison", (_name(doc),), ZERO)


def _role(account: str, accounts: AuditAccounts) -> str:
    if account == COMPOSITE:
        return "sales_and_receivables"
    if account == accounts.clearing:
        return "clearing"
    if account in set(accounts.bank.values()):
        return "payout"
    if account in accounts.receivable:
        return "receivable"
    return "other"


def _account_rows(expected: Mapping[str, Decimal], actual: Mapping[str, Decimal], accounts: AuditAccounts,
                  figs: _Figures, doc_accounts: Mapping[str, set[str]]) -> tuple[AccountRow, ...]:
    out = []
    for a in sorted(set(expected) | set(actual)):
        e, n = expected.get(a, ZERO), actual.get(a, ZERO)
        if not e and not n:
            continue
        out.append(AccountRow(a, accounts.name(a), tuple(sorted(figs.by_account.get(a, set()) or {_role(a, accounts)})),
                              e, n, tuple(sorted(doc_accounts.get(a, set())))))
    return tuple(out)


def _explain(subject: str, rows: Sequence[AccountRow], docs: Sequence[_Doc], currency: str) -> list[Finding]:
    """Name what makes the accounts differ: a document whose lines on the account are exactly the
    excess is a double count; the rest is a difference."""
    out: list[Finding] = []
    for r in rows:
        diff = r.difference
        if not diff or r.account == COMPOSITE:  # the composite is exact over the window, not per document
            continue
        culprit = None
        for d in docs if len(docs) > 1 else ():
            on = sum((ln.amount for ln in d.lines if ln.account == r.account), ZERO)
            if on and on == diff:
                culprit = d
        if culprit is not None:
            out.append(Finding("DOUBLE_COUNT", subject, f"{r.name}: NetSuite holds {r.netsuite}, TikTok {r.tiktok} "
                               f"{currency}; {_label(culprit)} posts the {diff} again", (culprit.external_id,), diff,
                               r.account))
        elif r.netsuite == 0 and r.tiktok and not docs:
            continue  # the missing document is already named
        else:
            out.append(Finding("DIFFERENCE", subject, f"{r.name}: NetSuite holds {r.netsuite}, TikTok says {r.tiktok} "
                               f"{currency} (difference {diff})", tuple(r.documents), diff, r.account))
    return out


__all__ = [
    "FIGURES",
    "AccountRow",
    "AuditAccounts",
    "AuditReport",
    "FigureRow",
    "Finding",
    "GlLine",
    "Period",
    "SubjectAudit",
    "TikTokPayout",
    "TikTokStatement",
    "audit",
    "figure_of",
    "period_of",
]

"""Settlement: every TikTok Shop payout posted to the NetSuite general ledger and tied out to the cent.

Jobs (``register``):

* ``settlement.import`` — scheduled daily after TikTok closes statements (00:00 UTC): lists the
  statements, payments and withdrawals of the last ``TTNS_SETTLEMENT_LOOKBACK_DAYS`` of every shop, stores payments
  and withdrawals, and enqueues one ``settlement.statement`` job per statement and one
  ``settlement.payout`` job per paid payout.
* ``settlement.statement`` (key ``statement:{shop}:{id}``) — reads the statement's transactions,
  stores each line with TikTok's ids, runs the checks and the order matching, surfaces every failed
  check as a finance exception, then enqueues ``settlement.post`` under the same key.
* ``settlement.post`` (same key, so never concurrent with its import) — posts the statement's summary
  journal ``TTS-STMT-{id}``, or, when TikTok re-issued the statement after it was posted, exactly
  one adjusting journal ``TTS-STMT-{id}-ADJ{n}`` for the difference. Posted entries are never
  changed. Then enqueues the payout.
* ``settlement.payout`` (key ``payout:{shop}:{id}``) — once every statement of a paid payout is
  posted, the deposit ``TTS-PAY-{id}`` moves exactly the payout from clearing to the bank.

The console and the CLI read ``SettlementService.report(statement_id=…)`` / ``.report(payment_id=…)``
and ``.list_reports(…)`` (``bridge.mapping.settlement.SettlementReport``).
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bridge.clock import Clock
from bridge.domain.finance import ZERO, Payment, Statement, StatementSummary
from bridge.domain.order_memory import OrderMemory
from bridge.errors import FatalError, NeedsHumanError, RetriableError
from bridge.logs import correlation_id
from bridge.mapping.accounting import posting_date, statement_posting_date
from bridge.mapping.attribution import affiliate_commission, orders_with_affiliate
from bridge.mapping.settlement import (
    Coverage,
    Deposit,
    JournalEntry,
    Match,
    OrderDocument,
    OrderRef,
    ReportLine,
    ReportPosting,
    SettlementReport,
    StatementTotals,
    add_components,
    adjusting_external_id,
    apply_coverage,
    build_customer_payment,
    build_deposit,
    build_journal,
    check_payment,
    check_statement,
    coverage_for,
    evidence,
    group_failures,
    journal_external_id,
    journal_memo,
    make_report,
    match_statement,
    statement_components,
    subtract_components,
)
from bridge.mapping.settlement_spec import SettlementSettings, SettlementSpec, references, with_references
from bridge.mapping.specs import SpecError, SpecNotReadyError
from bridge.mapping.vat import OrderVat, order_vat
from bridge.ports.jobs import JobContext
from bridge.ports.netsuite import DocumentKind, NetSuiteLedger
from bridge.ports.queue import Job, JobSpec
from bridge.ports.settlement import PostingRecord, SettlementRepository, StatementRow
from bridge.ports.specs import Specs
from bridge.ports.store import Repositories
from bridge.ports.tiktok import TikTokFinance, TikTokOrders

log = logging.getLogger("bridge.flows.settlement")

KIND_IMPORT = "settlement.import"
KIND_STATEMENT = "settlement.statement"
KIND_POST = "settlement.post"
KIND_PAYOUT = "settlement.payout"
KIND_RECHECK = "settlement.recheck"
CHECK_PREFIX = "SETTLEMENT_CHECK_"
POSTED = ("posted", "adjusted")
# Get Price Detail reads in flight at once for a VAT-inclusive shop's statement (one call per order): enough to
# reach TikTok's 50 calls a second per shop and API (rate-limits page) at a round trip of up to 160 ms
VAT_READERS = 8


def statement_key(shop_id: str, statement_id: str) -> str:
    return f"statement:{shop_id}:{statement_id}"


def payout_key(shop_id: str, payment_id: str) -> str:
    return f"payout:{shop_id}:{payment_id}"


def _summary_json(s: StatementSummary) -> dict[str, Any]:
    return {"id": s.id, "statement_time": int(s.statement_time.timestamp()) if s.statement_time else None,
            "currency": s.currency, "settlement": str(s.settlement), "payment_id": s.payment_id,
            "payment_status": s.payment_status}


def _summary_from(d: Mapping[str, Any] | None) -> StatementSummary | None:
    if not d:
        return None
    ts = d.get("statement_time")
    return StatementSummary(str(d["id"]), datetime.fromtimestamp(int(ts), UTC) if ts else None,
                            str(d.get("currency") or ""), Decimal(str(d.get("settlement") or "0")),
                            str(d.get("payment_id") or ""), str(d.get("payment_status") or ""))


def statement_job(shop_id: str, summary: StatementSummary, *, bucket: str, priority: int = 60) -> JobSpec:
    return JobSpec(kind=KIND_STATEMENT, key=statement_key(shop_id, summary.id),
                   payload={"shop_id": shop_id, "statement_id": summary.id, "summary": _summary_json(summary),
                            "bucket": bucket},
                   idempotency_key=f"{KIND_STATEMENT}:{shop_id}:{summary.id}:{bucket}", priority=priority)


def post_job(shop_id: str, statement_id: str, content_hash: str, *, force: bool = False) -> JobSpec:
    return JobSpec(kind=KIND_POST, key=statement_key(shop_id, statement_id),
                   payload={"shop_id": shop_id, "statement_id": statement_id, "force": force},
                   idempotency_key=f"{KIND_POST}:{shop_id}:{statement_id}:{content_hash}{':force' if force else ''}",
                   priority=70)


def payout_job(shop_id: str, payment_id: str, *, reason: str) -> JobSpec:
    return JobSpec(kind=KIND_PAYOUT, key=payout_key(shop_id, payment_id),
                   payload={"shop_id": shop_id, "payment_id": payment_id},
                   idempotency_key=f"{KIND_PAYOUT}:{shop_id}:{payment_id}:{reason}", priority=80)


# ============================================================================================ service
@dataclass
class SettlementService:
    store: Repositories
    repo: SettlementRepository
    tiktok: TikTokFinance
    netsuite: NetSuiteLedger
    specs: Specs
    clock: Clock
    lookback_days: int = 7  # TTNS_SETTLEMENT_LOOKBACK_DAYS: how far back each import re-reads
    # Called with (shop id, {TikTok order id: affiliate commission over every stored statement}) for the
    # orders a new statement names an affiliate commission for (``OrderSync.queue_attribution``, bootstrap).
    on_attribution: Callable[[str, Mapping[str, Decimal]], object] | None = None
    # TikTok's orders (Get Price Detail, Get Order Detail): each order's own VAT for a VAT-inclusive shop
    orders: TikTokOrders | None = None
    _refs: dict[tuple[str, str], str] = field(default_factory=dict)
    _verified: set[tuple[str, str]] = field(default_factory=set)

    def settings_for(self, shop_id: str) -> SettlementSettings:
        """The shop's settlement.yaml settings: defaults, its market's (``markets.<region>``), its own."""
        return self.specs.get("settlement", SettlementSpec).for_shop(shop_id, self._region(shop_id))

    def zone(self, shop_id: str) -> str:
        """The zone the shop's journals and deposits are dated in (docs/accounting.md, "Dates")."""
        return self.specs.get("settlement", SettlementSpec).time_zone(shop_id, self._region(shop_id))

    def posting_settings(self, shop_id: str) -> SettlementSettings:
        """The shop's settings with every ``eid:`` reference resolved to a NetSuite internal id and
        every internal id checked to exist (looked up once per process): a journal naming an account
        NetSuite does not have is never sent."""
        settings = self._resolved_settings(shop_id)
        internal = [(path, table, value) for path, table, _label, value in references(settings)
                    if not value.startswith("eid:")]
        unknown = [(p, t, v) for p, t, v in internal if (t, v) not in self._verified]
        if unknown:
            by_table: dict[str, set[str]] = {}
            for _p, t, v in unknown:
                by_table.setdefault(t, set()).add(v)
            for table, ids in by_table.items():
                self._verified.update((table, i) for i in self.netsuite.existing_ids(table, sorted(ids)))
            absent = sorted({(p, v) for p, t, v in unknown if (t, v) not in self._verified})
            self._check_references(
                absent, "internal id {v} (at {p})", "check spec references",
                "Nothing was posted. Create the accounts (docs/settlement.md lists them) or correct "
                "settlement.yaml (`ttns specs check`), then run `ttns settlement post --pending` (the next daily "
                "import also posts what waits).")
        return settings

    def _check_references(self, absent: list[tuple[str, str]], shown: str, step: str, fix_hint: str) -> None:
        """Refuse (an admin exception naming each missing record) or resolve a stale refusal."""
        if absent:
            raise NeedsHumanError(
                "settlement.yaml names NetSuite records that do not exist: "
                + ", ".join(shown.format(p=p, v=v) for p, v in absent[:20]),
                code="SPEC_REFERENCE_MISSING", owner="admin", fix_hint=fix_hint,
                evidence=evidence("bridge", step, missing=[list(a) for a in absent]), entity="spec:settlement")
        self._resolve_stale("spec:settlement", set(), prefixes=("SPEC_REFERENCE_MISSING",))

    def _resolved_settings(self, shop_id: str) -> SettlementSettings:
        settings = self.settings_for(shop_id)
        wanted = [(path, table, value) for path, table, _label, value in references(settings)
                  if value.startswith("eid:")]
        if not wanted:
            return settings
        missing = [(p, t, v) for p, t, v in wanted if (t, v) not in self._refs]
        if missing:
            by_table: dict[str, set[str]] = {}
            for _p, t, v in missing:
                by_table.setdefault(t, set()).add(v[4:])
            for table, eids in by_table.items():
                for eid, iid in self.netsuite.internal_ids(table, sorted(eids)).items():
                    self._refs[(table, f"eid:{eid}")] = iid
            absent = sorted({(p, v) for p, t, v in missing if (t, v) not in self._refs})
            self._check_references(
                absent, "{v} (at {p})", "resolve spec references",
                "Create the accounts (docs/settlement.md lists them) with those external ids in NetSuite, "
                "or correct settlement.yaml (`ttns specs check`), then run `ttns settlement post --pending` (the "
                "next daily import also posts what waits).")
            self._verified.update((t, iid) for (t, _eid), iid in self._refs.items())  # found, so they exist
        return with_references(settings, dict(self._refs))

    def _one_revenue_document(self, shop_id: str, entity: str) -> None:
        """A cash sale recognises revenue when the order is placed; the statement journal would do it
        again (every mode posts the statement's revenue or settles it against invoices the bridge
        bills). Refused before anything is posted (docs/accounting.md, "Not covered yet")."""
        from bridge.mapping.orders_spec import OrdersSpec

        try:
            record_type = self.specs.get("orders", OrdersSpec).for_shop(shop_id, self._region(shop_id)).record_type
        except SpecError:
            return
        if record_type == "cashSale":
            raise NeedsHumanError(
                "orders.yaml writes TikTok orders as cash sales, which recognise revenue when the order is placed; "
                "the statement journal would recognise it a second time",
                code="ACCOUNTING_MODEL_CONFLICT", owner="admin", entity=entity,
                fix_hint="Set orders.yaml record_type: salesOrder for this shop (docs/accounting.md), or switch "
                "settlement off for it (settlement.yaml shops.<shop>.enabled: false); nothing was posted. Then replay.",
                evidence=evidence("bridge", "accounting model", shop_id=shop_id, record_type=record_type))

    def _region(self, shop_id: str) -> str:
        """The shop's TikTok region, which picks its market (``markets.<region>``) in orders.yaml and
        settlement.yaml."""
        shop = self.store.shops.get(shop_id)
        return shop.region if shop is not None else ""

    def _tax_in_order_total(self, shop_id: str) -> bool:
        from bridge.mapping.orders_spec import OrdersSpec

        try:
            spec = self.specs.get("orders", OrdersSpec, needs=("tax",))
            return spec.for_shop(shop_id, self._region(shop_id)).tax.mode != "none"
        except Exception:  # no orders spec: the orders flow's default records tax on the order
            return True

    def vat_rate(self, shop_id: str) -> Decimal | None:
        """The VAT rate inside the shop's TikTok prices (orders.yaml ``tax.mode: inclusive`` for its shop or
        market), else None: the journal books such prices net and their VAT on ``vat_account``, as the
        orders flow's invoices do (docs/accounting.md, "VAT")."""
        from bridge.mapping.orders_spec import OrdersSpec

        try:
            spec = self.specs.get("orders", OrdersSpec, needs=("tax",))
        except (SpecError, SpecNotReadyError):
            return None  # no (finished) orders spec: no order carries tax inside its prices
        tax = spec.for_shop(shop_id, self._region(shop_id)).tax
        return tax.rate if tax.mode == "inclusive" else None

    def shipping_vat_rate(self, shop_id: str) -> Decimal | None:
        """The VAT rate inside the shop's shipping fees (orders.yaml ``tax.shipping_rate``, else ``tax.rate``), as
        the order's invoice splits its shipping; None outside ``tax.mode: inclusive``."""
        from bridge.mapping.orders_spec import OrdersSpec

        try:
            spec = self.specs.get("orders", OrdersSpec, needs=("tax",))
        except (SpecError, SpecNotReadyError):
            return None
        tax = spec.for_shop(shop_id, self._region(shop_id)).tax
        if tax.mode != "inclusive":
            return None
        return tax.shipping_rate if tax.shipping_rate is not None else tax.rate

    def read_order_vats(self, shop_id: str, order_ids: Iterable[str]) -> tuple[dict[str, OrderVat], list[str]]:
        """Each order's VAT as TikTok states it, read from TikTok (Get Order Detail for its live line items, Get
        Price Detail for their VAT and rate): what the statement journal and the ledger audit split a
        VAT-inclusive shop's statement lines by (docs/accounting.md, "VAT"), and the orders Get Order Detail did
        not return (their VAT could not be read: never split by the rule in silence). Empty for a shop whose
        prices exclude VAT; an order TikTok reports no tax for is left out of the figures (the rule at the
        shop's rate applies, as on the order's invoice)."""
        ids = sorted({o for o in order_ids if o})
        if not ids or self.vat_rate(shop_id) is None:
            return {}, []
        if self.orders is None:
            raise FatalError("the settlement flow needs TikTok's orders API to split a VAT-inclusive shop's "
                             "statements by TikTok's own VAT (bridge.bootstrap wires it)")
        ship_rate = self.shipping_vat_rate(shop_id)
        orders = self.orders
        out: dict[str, OrderVat] = {}
        returned: set[str] = set()
        # Get Price Detail takes one order a call: VAT_READERS calls in flight, so the reads run at TikTok's rate
        # limit (the client's limiter holds them to settings.tiktok_qps per shop and API) rather than one
        # network round trip at a time
        with ThreadPoolExecutor(max_workers=VAT_READERS, thread_name_prefix="ttns-vat") as pool:
            for start in range(0, len(ids), 50):  # Get Order Detail takes 50 ids a call
                found = orders.get_orders(shop_id, ids[start:start + 50])
                details = [pool.submit(contextvars.copy_context().run, orders.price_detail, shop_id, o.id)
                           for o in found]
                for order, detail in zip(found, details, strict=True):
                    returned.add(order.id)
                    live = {li.id for li in order.line_items if not li.cancelled}
                    ov = order_vat(detail.result(), live, ship_rate)
                    if ov is not None:
                        out[order.id] = ov
        return out, [o for o in ids if o not in returned]

    def order_vats(self, shop_id: str, order_ids: Iterable[str], *, statement_id: str) -> dict[str, OrderVat]:
        """``read_order_vats`` for a journal of statement ``statement_id``: an order Get Order Detail did not
        return is refused (a finance exception naming the orders, nothing stored or posted), never split by the
        rule in its place."""
        vats, unread = self.read_order_vats(shop_id, order_ids)
        if unread:
            raise NeedsHumanError(
                f"Statement {statement_id}: TikTok's Get Order Detail did not return {len(unread)} order(s) it "
                f"settles ({', '.join(unread[:10])}{' …' if len(unread) > 10 else ''}), so their VAT cannot be "
                "read from TikTok (Get Price Detail); the statement's journal is not posted (nor, on import, its "
                "lines stored)",
                code="SETTLEMENT_VAT_UNREAD", owner="finance", entity=statement_key(shop_id, statement_id),
                fix_hint="Look the orders up in Seller Center (`ttns orders sync <order id> --dry-run` reads one "
                "through the same API): when TikTok's orders API returns them again, replay (the next daily "
                "import also retries the statement). If TikTok no longer serves an order, ask TikTok's partner "
                "support; nothing posts by the rule in its place.",
                evidence=evidence("tiktok", "Get Order Detail (GET /order/202507/orders)", statement_id=statement_id,
                                  shop_id=shop_id, unread=unread[:200], count=len(unread)))
        return vats

    # -- import ------------------------------------------------------------------------------------
    def import_window(
        self, shop_id: str, since: datetime, until: datetime, *,
        on_statements: Callable[[int], None] | None = None,
        on_statement: Callable[[dict[str, Any]], None] | None = None,
        job: Job | None = None,
    ) -> dict[str, Any]:
        """Import (inline) every statement of the window with its lines, then payments and withdrawals."""
        summaries = list(self.tiktok.statements(shop_id, since=since, until=until))
        if on_statements:
            on_statements(len(summaries))
        results = []
        for s in summaries:
            res = self.import_statement(shop_id, s.id, summary=s, job=job)
            results.append(res)
            if on_statement:
                on_statement(res)
        pays = self.import_payments(shop_id, since, until)
        actions: dict[str, int] = {}
        for r in results:
            actions[r["action"]] = actions.get(r["action"], 0) + 1
        return {"statements": len(summaries), "actions": actions, "payments": pays["payments"],
                "withdrawals": pays["withdrawals"], "results": results}

    def import_payments(self, shop_id: str, since: datetime, until: datetime) -> dict[str, Any]:
        payments = list(self.tiktok.payments(shop_id, since=since, until=until))
        changed = [p.id for p in payments if self.repo.save_payment(p)]
        # read before writing: the client records each call, and SQLite has one writer at a time
        withdrawals = self.repo.save_withdrawals(list(self.tiktok.withdrawals(shop_id, since=since, until=until)))
        return {"payments": len(payments), "changed": changed, "withdrawals": withdrawals,
                "paid": [p.id for p in payments if p.status == "PAID"]}

    def import_statement(self, shop_id: str, statement_id: str, *, summary: StatementSummary | None = None,
                         job: Job | None = None, recheck: bool = False) -> dict[str, Any]:
        """Read one statement, store its lines, check and match it. A statement whose content hash
        is unchanged only refreshes its payment status (and is re-matched if lines were unmatched, or
        with ``recheck``); a changed one (re-issued) is stored as a new revision and its posting job
        posts the difference."""
        stmt = self.tiktok.statement(shop_id, statement_id, summary)
        row = self.repo.statement(shop_id, statement_id)
        if not stmt.payment_id and row is not None:
            stmt = replace(stmt, payment_id=row.payment_id, payment_status=row.payment_status)
        digest = stmt.content_hash()
        unchanged = row is not None and row.content_hash == digest
        if row is not None and unchanged and not (recheck or row.unmatched or row.check_status != "ok"
                                                  or row.variance_total):
            self.repo.touch_statement(shop_id, statement_id, payment_id=stmt.payment_id,
                                      payment_status=stmt.payment_status)
            return {"action": "unchanged", "statement_id": statement_id, "content_hash": digest,
                    "payment_id": stmt.payment_id, "lines": len(stmt.lines), "status": row.status}
        settings = self.settings_for(shop_id)
        failures = group_failures(check_statement(stmt, summary))
        components = statement_components(stmt, self.vat_rate(shop_id), self.order_vats(
            shop_id, (ln.order_ref for ln in stmt.lines), statement_id=statement_id))
        orders = self._order_refs(shop_id, {ln.order_ref for ln in stmt.lines if ln.order_ref})
        matches = match_statement(stmt, orders, tolerance=settings.matching.tolerance,
                                  tax_in_total=self._tax_in_order_total(shop_id))
        revision = (row.revision if unchanged else row.revision + 1) if row else 1
        self.repo.save_statement(stmt, revision=revision, components=components, checks=failures, matches=matches,
                                 content_hash=digest)
        self._surface_checks(shop_id, stmt, failures, matches, job)
        self._attribution(shop_id, stmt)
        if unchanged and row is not None:
            return {"action": "rechecked", "statement_id": statement_id, "content_hash": digest,
                    "payment_id": stmt.payment_id, "lines": len(stmt.lines), "status": row.status,
                    "failed_checks": [f["code"] for f in failures if f["blocking"]],
                    "unmatched": sum(1 for m in matches if m.status in ("unmatched", "currency_mismatch"))}
        blocking = [f["code"] for f in failures if f["blocking"]]
        log.info("settlement statement %s imported (%s lines, revision %s, %s failed checks)", statement_id,
                 len(stmt.lines), revision, len(blocking))
        return {"action": "corrected" if row else "imported", "statement_id": statement_id, "content_hash": digest,
                "revision": revision, "payment_id": stmt.payment_id, "lines": len(stmt.lines),
                "failed_checks": blocking, "unmatched": sum(1 for m in matches if m.status in (
                    "unmatched", "currency_mismatch")),
                "status": row.status if row else "imported"}

    def _attribution(self, shop_id: str, stmt: Statement) -> None:
        """Hand the orders flow each affiliate-paid order's commission, summed over every statement
        stored for it (a refund's reversal in a later statement lowers it)."""
        if self.on_attribution is None:
            return
        totals = {}
        for order_id in sorted(orders_with_affiliate(stmt.lines)):
            total = affiliate_commission(ln for _sid, ln in self.repo.lines_for_order(shop_id, order_id))
            if total is not None:
                totals[order_id] = total
        if totals:
            self.on_attribution(shop_id, totals)

    def _order_refs(self, shop_id: str, order_ids: Iterable[str]) -> dict[str, OrderRef]:
        ids = sorted(set(order_ids))
        out: dict[str, OrderRef] = {}
        for i in range(0, len(ids), 500):
            links = self.store.links.get_many("order", shop_id, ids[i:i + 500])
            for oid, link in links.items():
                memory = OrderMemory.parse(link.data)
                out[oid] = OrderRef(
                    netsuite_id=link.netsuite_id, expected_total=memory.expected_total,
                    platform_funded=memory.platform_funded, currency=memory.currency or "",
                    record_type=link.netsuite_type, status=link.status)
        return out

    def _surface_checks(self, shop_id: str, stmt: Statement, failures: Sequence[Mapping[str, Any]],
                        matches: Sequence[Match], job: Job | None) -> None:
        """One finance exception per failed check (with its evidence) and for unmatched lines and
        variances; exceptions of checks that now hold are resolved."""
        entity = statement_key(shop_id, stmt.id)
        job = self._recheck_job(shop_id, stmt.id, job)
        raised: set[str] = set()
        for f in failures:
            code = CHECK_PREFIX + str(f["code"])
            raised.add(code)
            ev = evidence("tiktok", "statement checks", **{
                "statement_id": stmt.id, "currency": stmt.currency, "count": f["count"], "blocking": f["blocking"],
                "examples": f["examples"]})
            hold = " It is not posted until fixed (or forced)." if f["blocking"] else ""
            self.store.exceptions.raise_(
                code=code, owner="finance", title=f"Statement {stmt.id}: {f['message']}"
                + (f" (and {f['count'] - 1} more)" if f["count"] > 1 else "") + "." + hold,
                fix_hint="Compare the figures in the evidence with Seller Center. If TikTok corrects the statement, "
                "the next import resolves this; to post it as it is (differences to the variance account) run "
                f"`ttns settlement post --statement {stmt.id} --force`.",
                evidence=ev.as_dict(), entity=entity, shop_id=shop_id, job=job, correlation_id=correlation_id())
        unmatched = [m for m in matches if m.status in ("unmatched", "currency_mismatch")]
        if unmatched:
            raised.add("SETTLEMENT_UNMATCHED")
            ev = evidence("bridge", "match statement", **{
                "statement_id": stmt.id, "count": len(unmatched),
                "lines": [{"transaction_id": m.transaction_id, "kind": m.kind, "order_id": m.order_id,
                           "status": m.status, "note": m.note} for m in unmatched[:50]]})
            self.store.exceptions.raise_(
                code="SETTLEMENT_UNMATCHED", owner="finance",
                title=f"Statement {stmt.id}: {len(unmatched)} line(s) match no NetSuite sales order",
                fix_hint="The lines are posted in the summary journal all the same. Sync the missing orders (`ttns "
                "orders sync <order id>`), then replay to refresh the matching; `ttns settlement report --statement "
                f"{stmt.id}` lists them.", evidence=ev.as_dict(), entity=entity, shop_id=shop_id, job=job,
                correlation_id=correlation_id())
        variances = [m for m in matches if m.status == "variance"]
        if variances:
            raised.add("SETTLEMENT_VARIANCE")
            total = sum((m.variance or ZERO for m in variances), ZERO)
            ev = evidence("bridge", "match statement", **{
                "statement_id": stmt.id, "count": len(variances), "total": str(total),
                "lines": [{"transaction_id": m.transaction_id, "order_id": m.order_id, "netsuite_id": m.netsuite_id,
                           "tiktok": str(m.tiktok_amount), "netsuite": str(m.netsuite_amount),
                           "variance": str(m.variance)} for m in variances[:50]]})
            self.store.exceptions.raise_(
                code="SETTLEMENT_VARIANCE", owner="finance",
                title=f"Statement {stmt.id}: {len(variances)} order(s) settled at another revenue than their "
                f"sales order ({total} {stmt.currency} in total)",
                fix_hint="TikTok's revenue for the order differs from the NetSuite sales order (price change, "
                "partial cancellation, unmapped fee). Correct the order or record the difference, then resolve.",
                evidence=ev.as_dict(), entity=entity, shop_id=shop_id, job=job, correlation_id=correlation_id())
        self._resolve_stale(entity, raised, prefixes=(CHECK_PREFIX, "SETTLEMENT_UNMATCHED", "SETTLEMENT_VARIANCE"))

    def _recheck_job(self, shop_id: str, statement_id: str, origin: Job | None) -> Job:
        """The job a statement's check exceptions replay: a re-check under the statement's key. (Not
        the import job itself: its success would mark the exceptions resolved while they still hold.)"""
        return Job(id=origin.id if origin else 0, kind=KIND_RECHECK, key=statement_key(shop_id, statement_id),
                   payload={"shop_id": shop_id, "statement_id": statement_id}, idempotency_key="", status="open",
                   attempts=0, max_attempts=1, run_at=self.clock.now(),
                   correlation_id=origin.correlation_id if origin else "")

    def open_issues(self, shop_id: str, statement_id: str) -> list[tuple[str, str]]:
        """(code, title) of the statement's open check/matching exceptions."""
        return [(e.code, e.title) for e in self.store.exceptions.list(status="open", entity=statement_key(
            shop_id, statement_id)) if e.code.startswith((CHECK_PREFIX, "SETTLEMENT_UNMATCHED", "SETTLEMENT_VARIANCE"))]

    def _resolve_stale(self, entity: str, keep: set[str], prefixes: tuple[str, ...]) -> None:
        for exc in self.store.exceptions.list(status="open", entity=entity):
            if exc.code.startswith(prefixes) and exc.code not in keep:
                self.store.exceptions.close(exc.id, status="resolved", by="auto",
                                            note="the statement passes this check now")

    # -- posting statements ------------------------------------------------------------------------
    def plan_statement(self, shop_id: str, statement_id: str, *, force: bool = False
                       ) -> tuple[str, JournalEntry | None, dict[str, Any]]:
        """What posting this statement would send now: (action, journal or None, detail). Reads
        NetSuite only in the receivable modes (order documents); never writes."""
        row = self.repo.statement(shop_id, statement_id)
        if row is None:
            raise RetriableError(f"statement {statement_id} is not imported yet")
        settings = self.posting_settings(shop_id)
        if not settings.enabled:
            return "skipped", None, {"reason": "settlement is switched off for this shop in settlement.yaml"}
        blocking = [str(c["code"]) for c in row.blocking_checks]
        if blocking and settings.checks.on_failure == "hold" and not force:
            return "held", None, {"reason": "failed checks", "checks": blocking}
        entity = statement_key(shop_id, statement_id)
        self._one_revenue_document(shop_id, entity)
        zone = self.zone(shop_id)
        posted = self.repo.postings(shop_id, "statement", statement_id, status="posted")
        if not posted:
            coverages = self._coverage(shop_id, statement_id, settings) if settings.mode != "summary" else []
            components = apply_coverage(row.components, coverages, vat_rate=self.vat_rate(shop_id),
                                        currency=row.currency,
                                        orders=self.order_vats(shop_id, (c.order_id for c in coverages),
                                                               statement_id=statement_id))
            tran_date = statement_posting_date(row.statement_time or self.clock.now(), zone, settings.journal.date)
            je = build_journal(components, settings, currency=row.currency, external_id=journal_external_id(
                statement_id), tran_date=tran_date, memo=journal_memo(settings, statement_id, tran_date, shop_id),
                entity=entity)
            return "post", je, {"kind": "journal", "seq": 0, "coverage": [c.as_dict() for c in coverages]}
        if posted[-1].content_hash == row.content_hash:
            return "unchanged", None, {"netsuite_id": posted[-1].netsuite_id}
        coverages = [Coverage.from_dict(c) for c in posted[0].detail.get("coverage") or []]
        target = apply_coverage(row.components, coverages, vat_rate=self.vat_rate(shop_id), currency=row.currency,
                                orders=self.order_vats(shop_id, (c.order_id for c in coverages),
                                                       statement_id=statement_id))
        done = add_components(*(p.components for p in posted))
        delta = subtract_components(target, done)
        if not delta:
            return "unchanged", None, {"reason": "the statement was re-issued without a change in amounts"}
        seq = len(posted)
        today = posting_date(self.clock.now(), zone)
        memo = (f"Adjustment {seq}: TikTok re-issued statement {statement_id} (revision {row.revision}); "
                "difference to the amounts already posted")
        je = build_journal(delta, settings, currency=row.currency, external_id=adjusting_external_id(statement_id, seq),
                           tran_date=today, memo=memo, entity=entity)
        return "adjust", je, {"kind": "adjustment", "seq": seq, "revision": row.revision}

    def post_statement(self, shop_id: str, statement_id: str, *, force: bool = False) -> dict[str, Any]:
        """Post the statement's journal (or the one adjusting journal for a re-issued statement)."""
        action, je, detail = self.plan_statement(shop_id, statement_id, force=force)
        row = self.repo.statement(shop_id, statement_id)
        assert row is not None
        out: dict[str, Any] = {"action": action, "statement_id": statement_id, "payment_id": row.payment_id,
                               "content_hash": row.content_hash, **{k: v for k, v in detail.items()
                                                                    if k != "coverage"}}
        if action == "held":
            self.repo.touch_statement(shop_id, statement_id, status="held")
            return out
        if je is None:
            if action == "unchanged" and row.status not in POSTED:
                self.repo.touch_statement(shop_id, statement_id, status="posted")
            return out
        rec = PostingRecord(shop_id=shop_id, kind=str(detail["kind"]), source="statement", source_id=statement_id,
                            seq=int(detail["seq"]), external_id=je.external_id, record_type="journalEntry",
                            amount=je.clearing, currency=je.currency, tran_date=je.tran_date.isoformat(),
                            content_hash=row.content_hash, body_hash=je.body_hash(), components=dict(je.components),
                            detail={k: v for k, v in detail.items() if k in ("coverage", "revision", "forced")}
                            | ({"forced": True} if force and row.blocking_checks else {}))
        netsuite_id = self._write(rec, je.record(), statement_key(shop_id, statement_id))
        self.repo.touch_statement(shop_id, statement_id, status="posted" if action == "post" else "adjusted")
        if force and row.blocking_checks:
            self._resolve_stale(statement_key(shop_id, statement_id), set(), prefixes=(CHECK_PREFIX,))
        out.update(action="posted" if action == "post" else "adjusted", external_id=je.external_id,
                   netsuite_id=netsuite_id, debit=str(je.total_debit), credit=str(je.total_credit),
                   clearing=str(je.clearing))
        return out

    def _write(self, rec: PostingRecord, body: Mapping[str, Any], entity: str) -> str:
        current = self.repo.begin_posting(rec)
        if current.status == "posted" and current.netsuite_id:
            return current.netsuite_id
        res = self.netsuite.upsert(rec.record_type, rec.external_id, body, entity=entity)
        self.repo.finish_posting(rec.external_id, res.id)
        self.store.audit.record(actor="worker", action=f"settlement.{rec.kind}", entity=entity, detail={
            "external_id": rec.external_id, "netsuite_id": res.id, "amount": str(rec.amount),
            "currency": rec.currency, "outcome": res.outcome}, correlation_id=correlation_id())
        return res.id

    def _coverage(self, shop_id: str, statement_id: str, settings: SettlementSettings) -> list[Coverage]:
        """Receivable modes: the sale lines of matched orders and the order-time documents they settle."""
        matches = {m.transaction_id: m for m in self.repo.matches(shop_id, statement_id, statuses=(
            "matched", "variance"))}
        lines = [ln for ln in self.repo.lines(shop_id, statement_id)
                 if ln.is_order and ln.transaction_id in matches and ln.part("revenue.subtotal_before_discount_amount")]
        orders = {ln.order_id: str(matches[ln.transaction_id].netsuite_id) for ln in lines}
        if not orders:
            return []
        kind: DocumentKind = "customerDeposit" if settings.mode == "customer_deposits" else "invoice"
        docs = self.netsuite.order_documents(kind, shop_id, orders,
                                             external_id_pattern=settings.receivable.deposit_external_id)
        tax = self._tax_in_order_total(shop_id)
        out = []
        for ln in lines:
            cov = coverage_for(ln, orders[ln.order_id], docs.get(ln.order_id) or [], tax_in_documents=tax)
            if cov is not None:
                out.append(cov)
        self._billed_but_uncovered(shop_id, statement_id, settings, lines, {c.transaction_id for c in out})
        return out

    def _billed_but_uncovered(self, shop_id: str, statement_id: str, settings: SettlementSettings,
                              lines: Sequence[Any], covered: set[str]) -> None:
        """Receivable modes: an order the bridge billed at shipment already carries its revenue on the
        invoice; posting its sale line as in summary mode (no open order document to settle it
        against) would recognise the revenue a second time. Nothing is posted; finance decides."""
        links = self.store.links.get_many("order", shop_id, sorted({ln.order_id for ln in lines}))
        billed = [(ln, links[ln.order_id]) for ln in lines if ln.transaction_id not in covered
                  and ln.order_id in links and OrderMemory.parse(links[ln.order_id].data).invoice_id]
        if not billed:
            return
        document = "customer deposit" if settings.mode == "customer_deposits" else "open invoice"
        raise NeedsHumanError(
            f"Statement {statement_id}: {len(billed)} order(s) billed at shipment have no {document} to settle "
            "against; posting their sale lines would recognise their revenue twice",
            code="SETTLEMENT_DOCUMENT_MISSING", owner="finance", entity=statement_key(shop_id, statement_id),
            fix_hint=("Record the order's customer deposit (replay the order's `orders.deposit` job) "
                      if settings.mode == "customer_deposits" else
                      "Reverse whatever paid the invoice outside the bridge ")
            + "so the payout can settle it, then replay; nothing of this statement was posted.",
            evidence=evidence("bridge", "settle order documents", statement_id=statement_id, mode=settings.mode,
                              orders=[{"order_id": ln.order_id, "transaction_id": ln.transaction_id,
                                       "sales_order": link.netsuite_id,
                                       "invoice": OrderMemory.parse(link.data).invoice_id}
                                      for ln, link in billed[:50]]))

    # -- posting payouts ---------------------------------------------------------------------------
    def plan_payout(self, shop_id: str, payment_id: str, *, force: bool = False
                    ) -> tuple[str, Deposit | None, dict[str, Any]]:
        pay = self.repo.payment(shop_id, payment_id)
        if pay is None:
            return "waiting", None, {"reason": "the payment is not imported yet"}
        settings = self.posting_settings(shop_id)
        if not settings.enabled or not settings.deposit.enabled:
            return "skipped", None, {"reason": "deposits are switched off in settlement.yaml"}
        if pay.status != "PAID":
            return "waiting", None, {"reason": f"the payout is {pay.status or 'not paid'} at TikTok"}
        rows = self.repo.statements(shop_id=shop_id, payment_id=payment_id)
        if not rows:
            return "waiting", None, {"reason": "no imported statement names this payment yet"}
        unposted = [r.statement_id for r in rows if r.status not in POSTED]
        if unposted:
            return "waiting", None, {"reason": "statements not posted yet", "statements": unposted}
        done = [p for p in self.repo.postings(shop_id, "payment", payment_id, status="posted") if p.kind == "deposit"]
        if done:
            return "unchanged", None, {"netsuite_id": done[0].netsuite_id, "posted_amount": str(done[0].amount),
                                       "amount": str(pay.amount)}
        failures = check_payment(pay, [StatementTotals(r.statement_id, r.currency, r.settlement, r.reserve,
                                                       r.payable) for r in rows])
        if failures and settings.checks.on_failure == "hold" and not force:
            return "held", None, {"reason": "failed checks", "checks": sorted({f.code for f in failures})}
        documents: list[OrderDocument] = []
        coverages: list[Coverage] = []
        for r in rows:
            first = self.repo.postings(shop_id, "statement", r.statement_id, status="posted")[:1]
            for c in (first[0].detail.get("coverage") or []) if first else []:
                coverages.append(Coverage.from_dict(c))
        if settings.mode == "customer_deposits":
            documents = [d for c in coverages for d in c.documents if d.kind == "customerDeposit"]
        if pay.amount <= 0 and not coverages:
            return "skipped", None, {"reason": f"nothing paid out ({pay.amount} {pay.currency})"}
        zone = self.zone(shop_id)
        dep = build_deposit(replace(pay, amount=max(pay.amount, ZERO)), settings, documents=documents,
                            statement_ids=[r.statement_id for r in rows], entity=payout_key(shop_id, payment_id),
                            default_date=posting_date(self.clock.now(), zone), time_zone=zone)
        if pay.amount <= 0:
            # TikTok settled these orders' sales in a statement that nets to nothing paid: no money reaches
            # the bank, yet the order documents must leave undeposited funds — deposited into the clearing
            # account, where the statement's journal left what TikTok owes for them (docs/accounting.md)
            dep = replace(dep, account=str(settings.clearing_account), amount=sum(
                (d.receipt for d in documents), ZERO), clearing=ZERO)
        return "post", dep, {"coverage": coverages, "statements": [r.statement_id for r in rows],
                             "failures": failures}

    def post_payout(self, shop_id: str, payment_id: str, *, force: bool = False) -> dict[str, Any]:
        """Post the payout's deposit once every statement it pays is posted."""
        entity = payout_key(shop_id, payment_id)
        pay = self.repo.payment(shop_id, payment_id)
        if pay is not None:
            rows = self.repo.statements(shop_id=shop_id, payment_id=payment_id)
            self._surface_payment(shop_id, pay, rows)
        action, dep, detail = self.plan_payout(shop_id, payment_id, force=force)
        out: dict[str, Any] = {"action": action, "payment_id": payment_id,
                               **{k: v for k, v in detail.items() if k not in ("coverage", "failures")}}
        if action == "unchanged" and pay is not None and Decimal(detail["posted_amount"]) != pay.amount:
            self.store.exceptions.raise_(
                code="SETTLEMENT_PAYOUT_CHANGED", owner="finance",
                title=f"Payout {payment_id} changed at TikTok after its deposit was posted "
                f"({detail['posted_amount']} → {pay.amount} {pay.currency})",
                fix_hint="The posted deposit is kept (history is not rewritten). Check the bank statement; if the bank "
                "received the new amount, record the difference between the clearing account and the bank by hand.",
                evidence=evidence("tiktok", "payment", **{"payment_id": payment_id, **detail}).as_dict(),
                entity=entity, shop_id=shop_id, correlation_id=correlation_id())
        if action == "held":
            codes = list(detail.get("checks") or [])
            raise NeedsHumanError(
                f"Payout {payment_id} does not tie out to its statements ({', '.join(codes)}); its deposit is held",
                code=CHECK_PREFIX + (codes[0] if codes else "PAYMENT"), owner="finance", entity=entity,
                fix_hint="Compare the payout with its statements in Seller Center (a statement may be missing: "
                f"`ttns settlement import --since …`). To post the deposit as paid: `ttns settlement post --payment "
                f"{payment_id} --force`.")
        if dep is None or pay is None:
            return out
        settings = self.posting_settings(shop_id)
        documents = list(dep.documents)
        if settings.mode == "invoices":
            documents = self._customer_payments(shop_id, pay, settings, detail["coverage"], dep.tran_date,
                                                dep.currency_id)
            applied = sum((d.amount for d in documents), ZERO)
            dep = replace(dep, documents=tuple(documents), clearing=pay.amount - applied) if pay.amount > 0 else \
                replace(dep, documents=tuple(documents), amount=applied, clearing=ZERO)
        rec = PostingRecord(shop_id=shop_id, kind="deposit", source="payment", source_id=payment_id, seq=0,
                            external_id=dep.external_id, record_type="deposit",
                            amount=dep.amount if pay.amount > 0 else pay.amount,  # what TikTok paid
                            currency=dep.currency, tran_date=dep.tran_date.isoformat(),
                            content_hash=pay.content_hash(), body_hash=dep.body_hash(),
                            detail={"statements": detail["statements"], "clearing": str(dep.clearing),
                                    "documents": [d.id for d in documents],
                                    **({"forced": True} if detail["failures"] else {})})
        netsuite_id = self._write(rec, dep.record(), entity)
        out.update(action="posted", external_id=dep.external_id, netsuite_id=netsuite_id, amount=str(dep.amount),
                   clearing=str(dep.clearing))
        return out

    def _customer_payments(self, shop_id: str, pay: Payment, settings: SettlementSettings,
                           coverages: Sequence[Coverage], tran_date: date, currency_id: str | None
                           ) -> list[OrderDocument]:
        """Mode invoices: one customer payment per covered order, applying its invoices."""
        out = []
        for cov in coverages:
            if not any(d.kind == "invoice" for d in cov.documents):
                continue
            body = build_customer_payment(cov, settings, shop_id=shop_id, tran_date=tran_date, currency_id=currency_id)
            rec = PostingRecord(shop_id=shop_id, kind="customer_payment", source="payment", source_id=pay.id,
                                seq=0, external_id=str(body["externalId"]), record_type="customerPayment",
                                amount=cov.applied, currency=pay.currency, tran_date=tran_date.isoformat(),
                                detail={"order_id": cov.order_id})
            nid = self._write(rec, body, payout_key(shop_id, pay.id))
            out.append(OrderDocument(nid, "customerPayment", cov.applied))
        return out

    def _surface_payment(self, shop_id: str, pay: Payment, rows: Sequence[StatementRow]) -> None:
        entity = payout_key(shop_id, pay.id)
        failures = check_payment(pay, [StatementTotals(r.statement_id, r.currency, r.settlement, r.reserve,
                                                       r.payable) for r in rows]) if rows else []
        raised = set()
        for g in group_failures(failures):
            code = CHECK_PREFIX + str(g["code"])
            raised.add(code)
            self.store.exceptions.raise_(
                code=code, owner="finance", title=f"Payout {pay.id}: {g['message']}",
                fix_hint="Compare the payout with its statements in Seller Center (a statement may be missing: "
                "`ttns settlement import --since …`). To post the deposit as paid: `ttns settlement post --payment "
                f"{pay.id} --force`.",
                evidence=evidence("tiktok", "payment checks", **{
                    "payment_id": pay.id, "amount": str(pay.amount), "currency": pay.currency,
                    "statements": [r.statement_id for r in rows], "examples": g["examples"]}).as_dict(),
                entity=entity, shop_id=shop_id, correlation_id=correlation_id())
        self._resolve_stale(entity, raised, prefixes=(CHECK_PREFIX,))

    # -- reports -----------------------------------------------------------------------------------
    def statement_report(self, row: StatementRow, *, details: bool = True) -> SettlementReport:
        counts = _counts(self.repo.match_counts(row.shop_id, [row.statement_id]))
        postings = self.repo.postings(row.shop_id, "statement", row.statement_id)
        unmatched: tuple[ReportLine, ...] = ()
        variances: tuple[ReportLine, ...] = ()
        if details:
            unmatched, variances = self._detail_lines(row.shop_id, [row.statement_id])
        return make_report(
            kind="statement", shop_id=row.shop_id, id=row.statement_id, payment_id=row.payment_id,
            statement_ids=(row.statement_id,), currency=row.currency,
            day=row.statement_time.date().isoformat() if row.statement_time else "", status=row.status,
            components=row.components, settlement=row.line_settlement, reserve=row.reserve, payable=row.payable,
            payout=None, order_variance=row.variance_total, lines=row.line_count, counts=counts, unmatched=unmatched,
            variances=variances, checks=row.checks, postings=[_report_posting(p) for p in postings])

    def payment_report(self, pay: Payment, *, details: bool = True) -> SettlementReport:
        rows = sorted(self.repo.statements(shop_id=pay.shop_id, payment_id=pay.id),
                      key=lambda r: r.statement_time or datetime.min.replace(tzinfo=UTC))
        ids = [r.statement_id for r in rows]
        counts = _counts(self.repo.match_counts(pay.shop_id, ids) if ids else {})
        postings = [p for sid in ids for p in self.repo.postings(pay.shop_id, "statement", sid)]
        postings += self.repo.postings(pay.shop_id, "payment", pay.id)
        unmatched: tuple[ReportLine, ...] = ()
        variances: tuple[ReportLine, ...] = ()
        if details:
            unmatched, variances = self._detail_lines(pay.shop_id, ids)
        posted = [p for p in postings if p.status == "posted"]
        journals = sum((p.amount for p in posted if p.kind in ("journal", "adjustment")), ZERO)
        deposits = sum((Decimal(str(p.detail.get("clearing", p.amount))) for p in posted if p.kind == "deposit"), ZERO)
        checks = [*(c for r in rows for c in r.checks),
                  *group_failures(check_payment(pay, [StatementTotals(r.statement_id, r.currency, r.settlement,
                                                                      r.reserve, r.payable) for r in rows]))]
        status = "posted" if any(p.kind == "deposit" for p in posted) else (
            "waiting" if pay.status != "PAID" else "pending")
        when = pay.paid_time or pay.create_time
        return make_report(
            kind="payment", shop_id=pay.shop_id, id=pay.id, payment_id=pay.id, statement_ids=ids,
            currency=pay.currency, day=when.date().isoformat() if when else "", status=status,
            components=add_components(*(r.components for r in rows)),
            settlement=sum((r.line_settlement for r in rows), ZERO), reserve=sum((r.reserve for r in rows), ZERO),
            payable=sum((r.payable for r in rows), ZERO), payout=pay.amount,
            order_variance=sum((r.variance_total for r in rows), ZERO), lines=sum(r.line_count for r in rows),
            counts=counts, unmatched=unmatched, variances=variances, checks=checks,
            postings=[_report_posting(p) for p in postings],
            clearing_balance=journals - deposits if any(p.kind == "deposit" for p in posted) else None)

    def _detail_lines(self, shop_id: str, statement_ids: Sequence[str]) -> tuple[tuple[ReportLine, ...],
                                                                                    tuple[ReportLine, ...]]:
        unmatched: list[ReportLine] = []
        variances: list[ReportLine] = []
        for sid in statement_ids:
            for m in self.repo.matches(shop_id, sid, statuses=("unmatched", "currency_mismatch", "variance")):
                line = ReportLine(m.transaction_id, m.kind, m.order_id, m.status, m.settlement, m.netsuite_id,
                                  m.tiktok_amount, m.netsuite_amount, m.variance, m.note)
                (variances if m.status == "variance" else unmatched).append(line)
        return tuple(unmatched), tuple(variances)

    # -- jobs (registered in bridge.bootstrap) ------------------------------------------------------------

    def report(self, *, statement_id: str | None = None, payment_id: str | None = None,
               shop_id: str | None = None) -> SettlementReport | None:
        """The reconciliation report of one statement or one payout (``None`` when not imported).

        For the console: render ``waterfall()`` as the chart, ``fees``/``adjustments`` by type, the
        ``unmatched`` lines and ``variances`` as tables, ``postings`` with their NetSuite ids;
        ``summary()`` is one flat row. Exactly one of ``statement_id`` / ``payment_id``.
        """
        if (statement_id is None) == (payment_id is None):
            raise ValueError("give exactly one of statement_id or payment_id")
        if statement_id is not None:
            row = self.repo.statement(shop_id, statement_id) if shop_id else self.repo.find_statement(statement_id)
            return None if row is None else self.statement_report(row)
        assert payment_id is not None
        pay = self.repo.payment(shop_id, payment_id) if shop_id else self.repo.find_payment(payment_id)
        return None if pay is None else self.payment_report(pay)

    def list_reports(self, *, shop_id: str | None = None, since: datetime | None = None,
                     until: datetime | None = None, kind: str = "statement", limit: int = 100, offset: int = 0
                     ) -> list[SettlementReport]:
        """Reports of the most recent statements (``kind="statement"``) or payouts (``kind="payment"``),
        newest first, without the per-line detail (``unmatched``/``variances`` empty; counts are set)."""
        if kind == "payment":
            pays = [p for p in self.repo.payments(shop_id=shop_id, since=since, limit=limit + offset)
                    if until is None or (p.create_time and p.create_time < until)]
            return [self.payment_report(p, details=False) for p in pays[offset:offset + limit]]
        rows = self.repo.statements(shop_id=shop_id, since=since, until=until, limit=limit, offset=offset)
        return [self.statement_report(r, details=False) for r in rows]

    def handle_import(self, ctx: JobContext) -> dict[str, Any]:
        """The daily import: enqueue a job per statement of the lookback window and per paid payout."""
        now = self.clock.now()
        days = int(ctx.payload.get("lookback_days") or self.lookback_days)
        since = now - timedelta(days=days)
        bucket = str(ctx.payload.get("bucket") or now.strftime("%Y%m%d%H%M"))
        out = {"shops": 0, "statements": 0, "payments": 0}
        for shop in self.store.shops.list(status="active"):
            if not shop.flow_enabled("settlement"):
                continue
            out["shops"] += 1
            specs = [statement_job(shop.id, s, bucket=bucket)
                     for s in self.tiktok.statements(shop.id, since=since, until=now)]
            pays = self.import_payments(shop.id, since, now)
            specs += [payout_job(shop.id, pid, reason=bucket) for pid in pays["paid"]]
            for i in range(0, len(specs), 500):
                self.store.queue.enqueue_many(specs[i:i + 500])
            out["statements"] += sum(1 for s in specs if s.kind == KIND_STATEMENT)
            out["payments"] += pays["payments"]
            self.store.cursors.set(f"settlement.import:{shop.id}", now.isoformat())
        return out

    def handle_statement(self, ctx: JobContext) -> dict[str, Any]:
        p = ctx.payload
        shop_id, statement_id = str(p["shop_id"]), str(p["statement_id"])
        res = self.import_statement(shop_id, statement_id, summary=_summary_from(p.get("summary")), job=ctx.job)
        settings = self.settings_for(shop_id)
        if settings.enabled and settings.posting.auto:
            # one posting job per import run: a run after a failed posting (say, a fixed spec) tries again
            ctx.enqueue(post_job(shop_id, statement_id, f"{res['content_hash']}:{p.get('bucket') or ctx.job.id}"))
        return {k: v for k, v in res.items() if k != "content_hash"}

    def handle_recheck(self, ctx: JobContext) -> dict[str, Any]:
        """Replay of a statement's check exception: re-read, re-check, re-match; post if it was held.
        Fails (keeping the exception open) while an issue remains."""
        p = ctx.payload
        shop_id, statement_id = str(p["shop_id"]), str(p["statement_id"])
        res = self.import_statement(shop_id, statement_id, recheck=True, job=ctx.job)
        issues = self.open_issues(shop_id, statement_id)
        if issues:
            code, title = issues[0]
            raise NeedsHumanError(title, code=code, owner="finance", entity=statement_key(shop_id, statement_id),
                                  fix_hint="The statement still fails this check; see the exception's evidence.")
        settings = self.settings_for(shop_id)
        if settings.enabled and settings.posting.auto:
            ctx.enqueue(post_job(shop_id, statement_id, f"{res['content_hash']}:recheck:{ctx.job.id}"))
        return {k: v for k, v in res.items() if k != "content_hash"}

    def handle_post(self, ctx: JobContext) -> dict[str, Any]:
        p = ctx.payload
        shop_id, statement_id = str(p["shop_id"]), str(p["statement_id"])
        res = self.post_statement(shop_id, statement_id, force=bool(p.get("force")))
        if res["action"] in ("posted", "adjusted", "unchanged") and res.get("payment_id"):
            ctx.enqueue(payout_job(shop_id, str(res["payment_id"]),
                                   reason=f"after:{statement_id}:{res.get('content_hash', '')}"))
        return res

    def handle_payout(self, ctx: JobContext) -> dict[str, Any]:
        p = ctx.payload
        return self.post_payout(str(p["shop_id"]), str(p["payment_id"]), force=bool(p.get("force")))


def _counts(counts: Mapping[tuple[str, str], int]) -> tuple[int, int, int, int]:
    """(orders matched, orders unmatched, adjustments matched, adjustments unmatched)."""

    def n(kinds: tuple[str, ...], statuses: tuple[str, ...]) -> int:
        return sum(v for (k, s), v in counts.items() if k in kinds and s in statuses)

    return (n(("order", "refund"), ("matched", "variance")), n(("order", "refund"), ("unmatched", "currency_mismatch")),
            n(("adjustment", "reserve"), ("matched", "variance")),
            n(("adjustment", "reserve"), ("unmatched", "currency_mismatch")))


def _report_posting(p: PostingRecord) -> ReportPosting:
    return ReportPosting(p.kind, p.external_id, p.netsuite_id, p.amount, p.status, p.tran_date)






__all__ = [
    "KIND_IMPORT",
    "KIND_PAYOUT",
    "KIND_POST",
    "KIND_STATEMENT",
    "SettlementService",
    "payout_job",
    "post_job",
    "statement_job",
    "statement_key",
]

"""The live state of one sandbox account and its Python API (the control API mirrors it).

Every write goes through one pipeline, whatever its origin (REST, RESTlet/script, control API):
validate the body against the digest → resolve references → prepare the record (defaults, totals,
statuses) → user event ``beforeSubmit`` (may change the record) → commit under the lock (version
check, stock and source-order effects, SuiteQL mirror) → user event ``afterSubmit``.
User events run outside the lock; a user event's own saves fire no user events.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from . import rules, seed
from .auth import Authenticator
from .config import NetSuiteSandboxConfig
from .customizations import Project, load_project
from .errors import NsError, invalid_content, nonexistent, user_error
from .ledger import POSTING_TYPES, Ledger, cents, stored
from .pool import Chaos, ConcurrencyPool, Counters
from .render import SYSTEM_BODY_FIELDS, SYSTEM_LINE_FIELDS, Renderer
from .rules import Effects, Env, Patch, dec, ref
from .schema import (
    TRANSACTION_TYPES,
    CustomField,
    Validator,
    check_external_id,
    has_definition,
    served_records,
    sublists_of,
)
from .stock import ZERO, Pair, StockBook
from .store import Rec, Store
from .suiteql import Mirror, accounting_periods, format_value, page_items

UI = "USERINTERFACE"
REST = "RESTWEBSERVICES"


@dataclass
class ExecContext:
    """Who is writing: the execution context user events see, and whether they fire at all."""

    context_type: str = UI
    fire_user_events: bool = True
    session: Any = None  # harness session executing the calling script (nested user events run there)
    via_rest: bool = False
    allow_standalone: bool = False
    property_validation: str | None = None
    value_validation: str | None = None  # X-NetSuite-PropertyValueValidation (REST; documented default Error)
    event_type: str | None = None  # override of the user event type (ship, pack, xedit …)


class ScriptHost(Protocol):
    """Runs the project's SuiteScript (the Node harness); see ``harness.py``."""

    def user_event(
        self,
        script: Any,
        deployment: Any,
        entry: str,
        event_type: str,
        new_record: dict[str, Any] | None,
        old_record: dict[str, Any] | None,
        ctx: ExecContext,
    ) -> dict[str, Any] | None: ...

    def close(self) -> None: ...


@dataclass
class WriteResult:
    rec: Rec
    created: bool
    warnings: list[str] = field(default_factory=list)


class NetSuiteSandbox:
    """One emulated NetSuite account (thread-safe)."""

    def __init__(self, config: NetSuiteSandboxConfig | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config or NetSuiteSandboxConfig()
        self._real_clock = clock
        self.clock_offset = 0.0
        self.lock = threading.RLock()
        self.project: Project = load_project(self.config.suitecloud_dir, self.config.extra_custom_fields)
        self.custom_fields: dict[str, CustomField] = self.project.custom_fields
        self.auth = Authenticator(self.config, clock=self.epoch)
        self.pool = ConcurrencyPool(self.config.concurrency_limit)
        self.counters = Counters()
        self.chaos = Chaos(self.config.latency, self.config.faults)
        self.scripts: ScriptHost | None = None
        self.script_log: list[dict[str, Any]] = []
        self.outbound: list[dict[str, Any]] = []
        self.tasks: dict[str, dict[str, Any]] = {}
        self._reset_state()
        if self.config.seed_defaults:
            self.seed(seed.default_seed())

    # -- clock ---------------------------------------------------------------------------------------
    def epoch(self) -> float:
        return self._real_clock() + self.clock_offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.epoch(), tz=UTC)

    def advance_clock(self, seconds: float) -> datetime:
        with self.lock:
            self.clock_offset += float(seconds)
            return self.now()

    # -- state ---------------------------------------------------------------------------------------
    def _reset_state(self) -> None:
        self.store = Store()
        self.stock = StockBook()
        self._allocated: dict[Pair, dict[Any, tuple[Decimal, Decimal]]] = {}
        self.closed_periods: set[str] = set()
        self.special_accounts: dict[str, str] = {}
        self.ledger = Ledger(self.store, self.special_accounts)
        self.mirror = Mirror(self.custom_fields, list(self.project.custom_records), self.store)
        self.mirror.now = lambda: self.now().replace(tzinfo=None)
        self.renderer = Renderer(self.store, self.custom_fields)
        self._refresh_periods()

    def reset(self, *, seed_defaults: bool = True) -> None:
        with self.lock:
            self._reset_state()
            self.counters.reset()
            self.script_log.clear()
            self.outbound.clear()
            self.tasks.clear()
            if seed_defaults:
                self.seed(seed.default_seed())

    def _refresh_periods(self) -> None:
        today = self.now().date()
        start = date(today.year - 2, 1, 1)
        self.mirror.set_periods(accounting_periods(start, 12 * 4, self.closed_periods))

    def env(self, ctx: ExecContext) -> Env:
        return Env(
            store=self.store,
            stock=self.stock,
            now=self.now,
            legacy_tax=self.config.legacy_tax,
            closed_periods=self.closed_periods,
            precision=self.config.base_currency_precision,
            allow_standalone=ctx.allow_standalone,
            via_rest=ctx.via_rest,
            custom_applies=self._custom_applies,
            special_accounts=self.special_accounts,
        )

    def _custom_applies(self, field_id: str, record_type: str) -> bool:
        cf = self.custom_fields.get(field_id)
        return cf is not None and cf.applies(record_type)

    # -- reads ---------------------------------------------------------------------------------------
    def check_type(self, rec_type: str) -> None:
        if rec_type in self.project.custom_records:
            return
        if rec_type not in served_records() and rec_type != "salesTaxItem":
            raise NsError(
                404,
                "INVALID_ID" if has_definition(rec_type) else "NONEXISTENT_ID",
                f"The record type [{rec_type}] is not supported by this sandbox or does not exist.",
            )

    def resolve(self, rec_type: str, key: str) -> Rec:
        """``123`` or ``eid:EXT`` -> the record (404 NONEXISTENT_ID otherwise)."""
        self.check_type(rec_type)
        with self.lock:
            rec = self._find(rec_type, key)
            if rec is None:
                raise nonexistent(rec_type, key)
            return rec.clone()

    def _find(self, rec_type: str, key: str) -> Rec | None:
        if key.startswith("eid:"):
            return self.store.by_external_id(rec_type, key[4:])
        if not key.isdigit():
            raise NsError(400, "INVALID_ID", f"The record id '{key}' is not valid.", script_code="INVALID_RCRD_ID")
        return self.store.get(rec_type, key)

    def get(self, rec_type: str, key: str) -> Rec:
        return self.resolve(rec_type, key)

    def list_ids(self, rec_type: str) -> list[str]:
        with self.lock:
            return sorted((r.id for r in self.store.all(rec_type)), key=int)

    # -- writes --------------------------------------------------------------------------------------
    def create(
        self, rec_type: str, body: dict[str, Any], ctx: ExecContext | None = None, replace: set[str] | None = None
    ) -> WriteResult:
        ctx = ctx or ExecContext()
        self.check_type(rec_type)
        patch, warnings = self._patch(rec_type, body, ctx, replace)
        result = self._write(rec_type, None, patch, ctx, "create")
        result.warnings = warnings
        return result

    def update(
        self,
        rec_type: str,
        key: str,
        body: dict[str, Any],
        ctx: ExecContext | None = None,
        replace: set[str] | None = None,
    ) -> WriteResult:
        ctx = ctx or ExecContext()
        self.check_type(rec_type)
        patch, warnings = self._patch(rec_type, body, ctx, replace)
        with self.lock:
            old = self._find(rec_type, key)
            if old is None:
                raise nonexistent(rec_type, key)
            old = old.clone()
        result = self._write(rec_type, old, patch, ctx, ctx.event_type or "edit")
        result.warnings = warnings
        return result

    def upsert(
        self,
        rec_type: str,
        key: str,
        body: dict[str, Any],
        ctx: ExecContext | None = None,
        replace: set[str] | None = None,
    ) -> WriteResult:
        """``PUT /<type>/eid:X``: create with that external id, or update the record holding it."""
        ctx = ctx or ExecContext()
        self.check_type(rec_type)
        if not key.startswith("eid:"):
            raise NsError(
                400, "INVALID_ID", "Upsert needs an external id in the URL (eid:…).", script_code="INVALID_RCRD_ID"
            )
        eid = check_external_id(key[4:], "id")
        if "externalId" in body and str(body["externalId"]) != eid:
            raise invalid_content("The externalId in the body differs from the one in the URL.", "externalId")
        body = dict(body)
        body["externalId"] = eid
        patch, warnings = self._patch(rec_type, body, ctx, replace)
        with self.lock:
            found = self.store.by_external_id(rec_type, eid)
            old = found.clone() if found is not None else None
        result = self._write(
            rec_type, old, patch, ctx, "create" if old is None else (ctx.event_type or "edit"), upsert_eid=eid
        )
        result.warnings = warnings
        return result

    def delete(self, rec_type: str, key: str, ctx: ExecContext | None = None) -> None:
        ctx = ctx or ExecContext()
        self.check_type(rec_type)
        with self.lock:
            old = self._find(rec_type, key)
            if old is None:
                raise nonexistent(rec_type, key)
            old = old.clone()
        self._user_events(rec_type, "beforeSubmit", "delete", None, old, ctx)
        with self.lock:
            current = self.store.get(rec_type, old.id)
            if current is None:
                raise nonexistent(rec_type, key)
            for t in TRANSACTION_TYPES:
                for r in self.store.all(t):
                    if ref(r.data.get("createdFrom")) == current.id:
                        raise user_error(
                            "This record cannot be deleted because it has dependent records.",
                            script_code="THIS_RECORD_CANNOT_BE_DELETED_BECAUSE_IT_HAS_DEPENDENT_RECORDS",
                        )
            env = self.env(ctx)
            if current.type == "invoice" and current.data.get("_paidBy"):
                raise user_error(
                    "This record cannot be deleted because it has dependent records (payments, credits or "
                    "deposits applied to it).",
                    script_code="THIS_RECORD_CANNOT_BE_DELETED_BECAUSE_IT_HAS_DEPENDENT_RECORDS",
                )
            if current.type in POSTING_TYPES and current.data.get("_gl"):
                self._check_open(current)
            self._apply_effects(env, current, None)
            self.store.remove(current)
            self.mirror.remove(current)
            self.mirror.conn.commit()
            self._update_demand(current.type, current.id, None)
        self._user_events(rec_type, "afterSubmit", "delete", None, old, ctx)

    def transform(
        self,
        src_type: str,
        key: str,
        to_type: str,
        body: dict[str, Any] | None = None,
        ctx: ExecContext | None = None,
        replace: set[str] | None = None,
    ) -> WriteResult:
        ctx = ctx or ExecContext()
        self.check_type(src_type)
        self.check_type(to_type)
        body_patch, warnings = self._patch(to_type, body or {}, ctx, replace)
        with self.lock:
            src = self._find(src_type, key)
            if src is None:
                raise nonexistent(src_type, key)
            draft = rules.transform_draft(self.env(ctx), src, to_type)
        patch = rules.apply_transform_body(draft, body_patch)
        result = self._write(to_type, None, patch, ctx, "create")
        result.warnings = warnings
        return result

    def transform_draft(self, src_type: str, key: str, to_type: str) -> dict[str, Any]:
        """The unsaved record ``record.transform`` returns to a script (script view)."""
        with self.lock:
            src = self._find(src_type, key)
            if src is None:
                raise nonexistent(src_type, key)
            draft = rules.transform_draft(self.env(ExecContext()), src, to_type)
            data = rules.prepare(
                self.env(ExecContext(allow_standalone=True)), to_type, None, rules.apply_transform_body(draft, Patch())
            )
            return self.renderer.script(to_type, None, data)

    def new_record_view(self, rec_type: str, defaults: dict[str, Any] | None = None) -> dict[str, Any]:
        self.check_type(rec_type)
        with self.lock:
            view = self.renderer.script(rec_type, None, {})
        view["fields"].update(defaults or {})
        return view

    # -- pipeline ------------------------------------------------------------------------------------
    def _patch(
        self, rec_type: str, body: dict[str, Any], ctx: ExecContext, replace: set[str] | None
    ) -> tuple[Patch, list[str]]:
        mode = ctx.property_validation or self.config.property_name_validation
        # JSON types as the schema says on REST unless X-NetSuite-PropertyValueValidation relaxes value
        # validation (Warning / Ignore: a numeric string is read as a number, as SuiteScript does).
        strict_types = ctx.via_rest and (ctx.value_validation or "Error") == "Error"
        validator = Validator(self.custom_fields, mode, strict_types=strict_types)
        validated = validator.body(rec_type, body, is_transaction=rec_type in TRANSACTION_TYPES)
        with self.lock:
            for check in validated.refs:
                target = check.target
                if check.path.endswith("taxCode") or check.path.endswith("taxItem"):
                    target = "salesTaxItem"
                if not self._storable(target):
                    if "externalId" in check.key:
                        raise invalid_content(
                            f"References by externalId are not supported for the field {check.path}.", check.path
                        )
                    continue
                found = self.store.find_any(target, check.key)
                if found is None:
                    wanted = check.key.get("id") or check.key.get("externalId")
                    raise invalid_content(
                        f"Error while accessing resource: You have entered an Invalid Field Value {wanted} for the "
                        f"following field: {check.path.rsplit('.', 1)[-1]}",
                        check.path,
                    )
                check.key.clear()
                check.key["id"] = found.id
        value = validated.value
        for name in SYSTEM_BODY_FIELDS:
            value.pop(name, None)
        subs = set(sublists_of(rec_type))
        for name in subs:
            for line in value.get(name) or []:
                for f in SYSTEM_LINE_FIELDS:
                    line.pop(f, None)
        return Patch.from_body(value, subs, set(replace or ())), validated.warnings

    def _storable(self, target: str) -> bool:
        if target in ("kitItem", "item", "customer", "entity", "transaction", "salesTaxItem"):
            return True
        return target in served_records() or target in self.project.custom_records

    def _write(
        self, rec_type: str, old: Rec | None, patch: Patch, ctx: ExecContext, event: str, upsert_eid: str | None = None
    ) -> WriteResult:
        old_snapshot = old
        with self.lock:
            env = self.env(ctx)
            env.preview = True
            preview = rules.prepare(env, rec_type, old_snapshot, patch)
        ue_patch = self._user_events(rec_type, "beforeSubmit", event, preview, old_snapshot, ctx)
        if ue_patch is not None:
            patch = patch.merged_with(ue_patch)
        with self.lock:
            current = self.store.get(rec_type, old_snapshot.id) if old_snapshot else None
            if old_snapshot is not None:
                if current is None:
                    raise nonexistent(rec_type, old_snapshot.id)
                if current.version != old_snapshot.version:
                    raise user_error(
                        "Record has been changed since you loaded it; reload and try again.",
                        script_code="RCRD_HAS_BEEN_CHANGED",
                    )
            elif upsert_eid is not None:
                current = self.store.by_external_id(rec_type, upsert_eid)
            env = self.env(ctx)
            data = rules.prepare(env, rec_type, current, patch)
            rec = self._commit(env, rec_type, current, data)
            result = WriteResult(rec.clone(), created=current is None)
        self.counters.inc(f"records.{'created' if result.created else 'updated'}")
        after_event = "edit" if (event == "create" and not result.created) else event
        self._user_events(
            rec_type, "afterSubmit", after_event, result.rec.data, old_snapshot, ctx, rec_id=result.rec.id
        )
        return result

    def _commit(self, env: Env, rec_type: str, old: Rec | None, data: dict[str, Any]) -> Rec:
        now = self.now()
        eid = data.get("externalId")
        if eid:
            other = self.store.by_external_id(rec_type, str(eid))
            if other is not None and (old is None or other.id != old.id):
                raise user_error(
                    f"A {rec_type} record with the external ID {eid} already exists.",
                    "externalId",
                    script_code="DUP_RCRD",
                )
        posting = rec_type in POSTING_TYPES
        if posting:
            if old is not None and old.data.get("_gl"):
                self._check_open(old)  # the postings of a closed period cannot change
            # every account the postings need must exist before anything moves (all or nothing)
            self.ledger.entries(rec_type, data, validate=True)
            for sub in ("item", "inventory"):
                for line in data.get(sub) or []:
                    line.pop("_cost", None)
                    line.pop("_unitCost", None)
        rid = old.id if old else self.store.next_id(rec_type)
        rec = Rec(rec_type, rid, data, old.created if old else now, now, (old.version + 1) if old else 1)
        self._apply_effects(env, old, rec)
        if posting:
            data["_gl"] = stored(self.ledger.entries(rec_type, data))
        self.store.put(rec, old)
        self.mirror.sync(rec)
        self._update_demand(rec_type, rid, rec)
        if rec_type == "invoice" and old is None:
            self._apply_order_deposits(rec)
        if rec_type == "customerRefund" and old is None:
            self._refund_deposits(rec)
        return rec

    def _refund_deposits(self, refund: Rec) -> None:
        """A customer refund's Deposits sublist takes what it refunds off each customer deposit: the
        deposit has that much less left to apply to the order's invoice (C Fully Applied when nothing is
        left and it is not deposited), as NetSuite does when a deposit of a cancelled order is refunded."""
        for line in refund.data.get("deposit") or []:
            deposit = self.store.get("customerDeposit", ref(line.get("doc")) or "")
            if deposit is None or not line.get("apply", True):
                continue
            dep = deposit.clone()
            dep.data.setdefault("_appliedBy", {})[refund.id] = dec(line.get("amount"))
            applied = sum((dec(v) for v in dep.data["_appliedBy"].values()), ZERO)
            if applied >= dec(dep.data.get("payment")) and ref(dep.data.get("status")) == "A":
                dep.data["status"] = {"id": "C"}
            self.store.put(dep, deposit)
            self.mirror.sync(dep)

    def _apply_order_deposits(self, invoice: Rec) -> None:
        """Billing a sales order applies the customer deposits recorded against it (``salesOrder``):
        one deposit application per deposit, ``Dr Customer Deposits / Cr A/R``, for what the deposit has
        left and the invoice still owes — as NetSuite does when an order with deposits is billed."""
        order = ref(invoice.data.get("createdFrom"))
        if not order or self.store.get("salesOrder", order) is None:
            return
        deposits = sorted(
            (d for d in self.store.all("customerDeposit") if ref(d.data.get("salesOrder")) == order),
            key=lambda d: int(d.id),
        )
        for deposit in deposits:
            left = dec(deposit.data.get("payment")) - sum(
                (dec(v) for v in (deposit.data.get("_appliedBy") or {}).values()), ZERO
            )
            amount = min(left, rules.invoice_due(invoice))
            if amount <= 0:
                continue
            now = self.now()
            data: dict[str, Any] = {
                "tranId": f"DA{self.store.next_tran_number('depositApplication')}",
                "tranDate": invoice.data.get("tranDate"),
                "postingPeriod": invoice.data.get("postingPeriod"),
                "customer": invoice.data.get("entity"),
                "subsidiary": invoice.data.get("subsidiary"),
                "currency": deposit.data.get("currency"),
                "exchangeRate": deposit.data.get("exchangeRate"),
                "deposit": {"id": deposit.id},
                # made from the customer deposit (NetSuite transforms the deposit into its application)
                "createdFrom": {"id": deposit.id},
                "apply": [{"line": 1, "doc": {"id": invoice.id}, "apply": True, "amount": amount}],
                "total": amount,
            }
            data["_gl"] = stored(self.ledger.entries("depositApplication", data))
            app = Rec("depositApplication", self.store.next_id("depositApplication"), data, now, now)
            self.store.put(app)
            self.mirror.sync(app)
            dep = deposit.clone()
            dep.data.setdefault("_appliedBy", {})[app.id] = amount
            if left - amount <= 0 and ref(dep.data.get("status")) == "A":
                dep.data["status"] = {"id": "C"}  # Fully Applied (a deposit taking it makes it Deposited)
            self.store.put(dep, deposit)
            self.mirror.sync(dep)
            invoice.data.setdefault("_paidBy", {})[app.id] = amount
            paid = sum((dec(v) for v in invoice.data["_paidBy"].values()), ZERO)
            total = dec(invoice.data.get("total"))
            invoice.data["amountPaid"] = paid
            invoice.data["amountRemaining"] = total - paid
            invoice.data["status"] = {"id": "B" if paid >= total > 0 else "A"}
            self.mirror.sync(invoice)

    def _apply_effects(self, env: Env, old: Rec | None, new: Rec | None) -> None:
        """Undo the old version's effects, apply the new one's; refuse (and change nothing) when stock
        would go negative or a source line would be over-fulfilled/received/billed."""
        before = rules.effects(env, old.type, old.data) if old else Effects()
        after = rules.effects(env, new.type, new.data) if new else Effects()
        net: dict[Pair, Decimal] = {}
        for pair, qty, _ in before.moves:
            net[pair] = net.get(pair, ZERO) - qty
        for pair, qty, _ in after.moves:
            net[pair] = net.get(pair, ZERO) + qty
        for pair, delta in net.items():
            if delta < 0 and self.stock.balance(pair).on_hand + delta < 0:
                item = self.store.find_item(pair[0])
                raise user_error(
                    f"You cannot fulfill or remove more of item {item.data.get('itemId') if item else pair[0]} than "
                    f"is on hand at location {pair[1]} ({self.stock.balance(pair).on_hand} on hand).",
                    script_code="NEGATIVE_INVENTORY",
                )
        sources: dict[tuple[str, str], Rec] = {}
        for sign, eff in ((-1, before), (1, after)):
            for s_type, s_id, line_no, fld, qty in eff.source:
                key = (s_type, s_id)
                if key not in sources:
                    src = self.store.get(s_type, s_id)
                    if src is None:
                        continue
                    sources[key] = src.clone()
                for line in sources[key].lines("item"):
                    if int(line.get("line") or 0) == line_no:
                        line[fld] = dec(line.get(fld)) + sign * qty
        rules.validate_source_limits(env, sources)
        payer = new or old
        invoices = self._apply_payments(before, after, payer.id if payer else "")
        now = self.now()
        touched: set[Pair] = set()
        for pair, qty, cost in before.moves:
            self.stock.move(pair, -qty, cost, now)
            touched.add(pair)
        for (pair, qty, cost), line in zip(after.moves, after.move_lines, strict=True):
            unit = self.stock.move(pair, qty, cost, now)
            touched.add(pair)
            if "_cost" not in line:  # what the move was valued at: the ledger posts it
                line["_unitCost"] = unit
                line["_cost"] = cents(abs(qty) * unit)
        for dep_id in before.deposits:
            self._set_deposit_status(dep_id, deposited=False)
        for dep_id in after.deposits:
            self._set_deposit_status(dep_id, deposited=True)
        for inv in invoices:
            inv.modified = now
            inv.version += 1
            self.store.put(inv, self.store.get(inv.type, inv.id))
            self.mirror.sync(inv)
        for src in sources.values():
            rules.set_status(src.type, src.data)
            src.modified = now
            src.version += 1
            self.store.put(src, self.store.get(src.type, src.id))
            self.mirror.sync(src)
            touched |= self._set_demand(src.type, src.id, src.data)
        self._allocate(touched, force=set(sources))

    def _check_open(self, rec: Rec) -> None:
        """A posted transaction whose period is closed keeps its postings (edits and deletes refused)."""
        for key in (ref(rec.data.get("postingPeriod")), str(rec.data.get("tranDate") or "")[:7]):
            if key and key in self.closed_periods:
                raise rules.closed_period_error(key)

    def _apply_payments(self, before: Effects, after: Effects, payment_id: str) -> list[Rec]:
        """What a customer payment applies to invoices (``_paidBy``), their amount paid/remaining and
        status (A Open, B Paid In Full); refuses applying more than an invoice's total. Returns the
        changed invoices, not yet stored."""
        changed: dict[str, Rec] = {}
        for inv_id, _ in before.payments + after.payments:
            current = self.store.get("invoice", inv_id)
            if current is not None and inv_id not in changed:
                changed[inv_id] = current.clone()
                changed[inv_id].data.setdefault("_paidBy", {}).pop(payment_id, None)
        for inv_id, amount in after.payments:
            inv = changed.get(inv_id)
            if inv is None:
                raise invalid_content(f"The invoice {inv_id} does not exist.", "apply")
            paid_by = inv.data["_paidBy"]
            paid_by[payment_id] = dec(paid_by.get(payment_id)) + amount
        for inv in changed.values():
            total = dec(inv.data.get("total"))
            paid = sum((dec(v) for v in inv.data["_paidBy"].values()), ZERO)
            if paid > total:
                raise user_error(
                    f"You cannot apply more than the amount due on invoice {inv.data.get('tranId')} (total {total}, "
                    f"applied {paid}).",
                    "apply",
                )
            inv.data["amountPaid"] = paid
            inv.data["amountRemaining"] = total - paid
            inv.data["status"] = {"id": "B" if paid >= total > 0 else "A"}
        return list(changed.values())

    def _set_deposit_status(self, dep_id: str, *, deposited: bool) -> None:
        """A deposit marks the payments it takes (customer deposit B Deposited / A Not Deposited or C
        Fully Applied; customer payment and cash sale C Deposited / B Not Deposited)."""
        rec = self.store.get("customerDeposit", dep_id)
        status = "B" if deposited else "A"
        if rec is not None and not deposited:
            applied = sum((dec(v) for v in (rec.data.get("_appliedBy") or {}).values()), ZERO)
            if applied >= dec(rec.data.get("payment")) > 0:
                status = "C"  # Fully Applied
        if rec is None:
            rec = self.store.get("customerPayment", dep_id) or self.store.get("cashSale", dep_id)
            status = "C" if deposited else "B"
        if rec is not None:
            rec.data["status"] = {"id": status}
            self.mirror.sync(rec)

    def _set_demand(self, rec_type: str, rid: str, data: dict[str, Any] | None) -> set[Pair]:
        touched: set[Pair] = set()
        if data is None:
            for pair, lines in list(self.stock.demand.items()):
                for key in [k for k in lines if k[0] == rec_type and k[1] == rid]:
                    del lines[key]
                    touched.add(pair)
            return touched
        for key, at, remaining in rules.demand(rec_type, rid, data):
            touched |= self.stock.set_demand(key, at, remaining)
        return touched

    def _update_demand(self, rec_type: str, rid: str, rec: Rec | None) -> None:
        touched = self._set_demand(rec_type, rid, rec.data if rec else None)
        self._allocate(touched, force={(rec_type, rid)})

    def _allocate(self, pairs: set[Pair], force: set[tuple[str, str]] | None = None) -> None:
        """Commit stock to open lines; ``force``: records just written, whose lines are always set."""
        now = self.now()
        changed: dict[tuple[str, str], Rec] = {}
        for pair in pairs:
            allocation = self.stock.allocate(pair, now)
            previous = self._allocated.setdefault(pair, {})
            for key, (committed, back) in allocation.items():
                # Only lines whose commitment moved are rewritten: with thousands of open orders on an
                # item, re-mirroring every one of them on each write would make the sandbox quadratic.
                r_type, r_id, line_no = key
                if previous.get(key) == (committed, back) and (r_type, r_id) not in (force or ()):
                    continue
                rec = self.store.get(r_type, r_id)
                if rec is None:
                    continue
                for line in rec.lines("item"):
                    if int(line.get("line") or 0) == line_no:
                        line["quantityCommitted"] = committed
                        line["quantityBackOrdered"] = back
                changed[(r_type, r_id)] = rec
            self._allocated[pair] = allocation
            self.mirror.sync_stock(pair, self.stock.balance(pair))
        if pairs:
            # The records just written were mirrored before their demand was computed: a line that left the
            # demand (closed, shipped) had its commitment zeroed on the record after that, and nothing above
            # re-mirrors it, so SuiteQL kept showing the old quantitycommitted of a closed line.
            for r_type, r_id in force or ():
                if (rec := self.store.get(r_type, r_id)) is not None:
                    changed[(r_type, r_id)] = rec
        # lines that left the demand (closed/shipped) commit nothing any more
        for rec in changed.values():
            self.mirror.sync(rec)

    # -- user events -------------------------------------------------------------------------------
    def _user_events(
        self,
        rec_type: str,
        entry: str,
        event: str,
        new_data: dict[str, Any] | None,
        old: Rec | None,
        ctx: ExecContext,
        rec_id: str | None = None,
    ) -> Patch | None:
        if not ctx.fire_user_events or self.scripts is None or not self.config.run_scripts:
            return None
        deployments = [
            (s, d)
            for s, d in self.project.user_events(rec_type)
            if (d.contexts is None or ctx.context_type in d.contexts)
            and (not d.event_type or d.event_type.lower() == event)
        ]
        if not deployments:
            return None
        with self.lock:
            current = self.store.get(rec_type, rec_id) if rec_id else None
            if current is not None:
                new_view: dict[str, Any] | None = self.script_view(current)
            elif new_data is not None:
                new_view = self.renderer.script(rec_type, old.id if old else None, new_data)
            else:
                new_view = None
            old_view = self.script_view(old) if old is not None else None
        patch: Patch | None = None
        for script, dep in deployments:
            self.counters.inc("userevents.fired")
            changed = self.scripts.user_event(script, dep, entry, event, new_view, old_view, ctx)
            if entry == "beforeSubmit" and changed:
                with self.lock:
                    body, replaced = self.renderer.body_from_script(rec_type, changed)
                inner = ExecContext(context_type=ctx.context_type, property_validation="Ignore")
                p, _ = self._patch(rec_type, body, inner, replaced)
                patch = p if patch is None else patch.merged_with(p)
        return patch

    # -- SuiteQL ----------------------------------------------------------------------------------
    def suiteql(
        self, query: str, params: list[Any] | None = None, limit: int | None = None, offset: int = 0
    ) -> tuple[list[dict[str, Any]], int]:
        """Run a query; returns (items with lower-case string values, total rows)."""
        with self.lock:
            columns, rows, total = self.mirror.execute(
                query, params or [], limit, offset, self.config.suiteql_date_format
            )
        return page_items(columns, rows, self.config.suiteql_date_format), total

    def suiteql_raw(self, query: str, params: list[Any] | None = None) -> tuple[list[str], list[list[Any]]]:
        """For scripts (N/query): native values, columns lower-case."""
        with self.lock:
            columns, rows, _ = self.mirror.execute(query, params or [], None, 0, self.config.suiteql_date_format)
        fmt = self.config.suiteql_date_format
        return columns, [[format_value(v, fmt) if isinstance(v, str) else v for v in r] for r in rows]

    # -- seed & scenario helpers (the control API calls these) ---------------------------------------
    def seed(self, data: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
        """Create list records (subsidiaries, currencies, locations, items, customers, accounts …).

        Each entry is a REST-shaped body; ``externalId`` makes the call idempotent (existing
        records with that external id are updated). Returns the ids per record type.
        """
        created: dict[str, list[str]] = {}
        ctx = ExecContext(context_type=UI, fire_user_events=False, property_validation="Error")
        entries = [(t, e) for t in seed.SEED_ORDER for e in data.get(t, [])]
        # ``_late`` entries come last, so a record added to the seed later does not shift the ids of the rest
        entries.sort(key=lambda te: bool(te[1].get("_late")))
        for rec_type, entry in entries:
            body = copy.deepcopy(entry)
            body.pop("_late", None)
            special = body.pop("_special", None)
            if body.get("externalId"):
                res = self.upsert(rec_type, f"eid:{body['externalId']}", body, ctx)
            else:
                res = self.create(rec_type, body, ctx)
            created.setdefault(rec_type, []).append(res.rec.id)
            if special:
                self.special_accounts[str(special)] = res.rec.id
        return created

    def receive_stock(
        self,
        item: str,
        location: str,
        quantity: Decimal | str | int,
        unit_cost: Decimal | str | None = None,
        *,
        tran_date: str | None = None,
    ) -> WriteResult:
        """An item receipt adding stock at a location (user events fire in the UI context)."""
        line: dict[str, Any] = {
            "item": {"id": str(item)},
            "location": {"id": str(location)},
            "quantity": str(quantity),
            "itemReceive": True,
        }
        if unit_cost is not None:
            line["rate"] = str(unit_cost)
        body: dict[str, Any] = {"location": {"id": str(location)}, "item": {"items": [line]}}
        if tran_date:
            body["tranDate"] = tran_date
        return self.create("itemReceipt", body, ExecContext(context_type=UI, allow_standalone=True))

    def adjust_stock(
        self, item: str, location: str, adjust_by: Decimal | str | int, account: str | None = None
    ) -> WriteResult:
        acct = account or self.special_accounts.get("adjustment")
        body = {
            "account": {"id": acct},
            "adjLocation": {"id": str(location)},
            "inventory": {
                "items": [{"item": {"id": str(item)}, "location": {"id": str(location)}, "adjustQtyBy": str(adjust_by)}]
            },
        }
        return self.create("inventoryAdjustment", body, ExecContext(context_type=UI))

    def fulfill(
        self,
        sales_order: str,
        *,
        lines: list[dict[str, Any]] | None = None,
        packages: list[dict[str, Any]] | None = None,
        ship_status: str = "C",
        ship_method: str | None = None,
        carrier: str | None = None,
        memo: str | None = None,
        extra: dict[str, Any] | None = None,
        context_type: str = UI,
    ) -> WriteResult:
        """Item fulfillment for a sales (or transfer) order, through the record layer (UEs fire)."""
        with self.lock:
            src = self._find("salesOrder", sales_order) or self._find("transferOrder", sales_order)
            if src is None:
                raise nonexistent("salesOrder", sales_order)
            src_type, src_id = src.type, src.id
        body: dict[str, Any] = {"shipStatus": {"id": ship_status}}
        if packages:
            body["package"] = {
                "items": [
                    {
                        k: v
                        for k, v in {
                            "packageTrackingNumber": p.get("trackingNumber") or p.get("packageTrackingNumber"),
                            "packageWeight": str(p.get("weight", p.get("packageWeight", "1"))),
                            "packageDescr": p.get("description") or p.get("packageDescr"),
                        }.items()
                        if v is not None
                    }
                    for p in packages
                ]
            }
        if ship_method:
            body["shipMethod"] = {"id": str(ship_method)}
        if carrier:
            body["shipCarrier"] = {"id": carrier}
        if memo:
            body["memo"] = memo
        body.update(extra or {})
        replace: set[str] = set()
        if lines:
            items = []
            for ln in lines:
                entry: dict[str, Any] = {
                    "orderLine": int(ln["orderLine"]) if "orderLine" in ln else int(ln["line"]),
                    "itemReceive": True,
                }
                if ln.get("quantity") is not None:
                    entry["quantity"] = str(ln["quantity"])
                entry.update({k: v for k, v in ln.items() if k.startswith("custcol")})
                items.append(entry)
            body["item"] = {"items": items}
            replace.add("item")
        return self.transform(
            src_type, src_id, "itemFulfillment", body, ExecContext(context_type=context_type), replace=replace
        )

    def set_ship_status(self, fulfillment: str, status: str) -> WriteResult:
        """Mark packed (B) / shipped (C): fires user events of type ``pack`` / ``ship``."""
        event = {"B": "pack", "C": "ship"}.get(status, "edit")
        return self.update(
            "itemFulfillment",
            fulfillment,
            {"shipStatus": {"id": status}},
            ExecContext(context_type=UI, event_type=event),
        )

    def close_sales_order_lines(
        self, sales_order: str, lines: list[int] | None = None, context_type: str = UI
    ) -> WriteResult:
        rec = self.resolve("salesOrder", sales_order)
        items = [
            {"line": int(ln["line"]), "isClosed": True}
            for ln in rec.lines("item")
            if lines is None or int(ln["line"]) in lines
        ]
        return self.update("salesOrder", rec.id, {"item": {"items": items}}, ExecContext(context_type=context_type))

    def other_channel_sale(
        self,
        lines: list[dict[str, Any]],
        *,
        customer: str | None = None,
        location: str | None = None,
        fulfill: bool = True,
        external_id: str | None = None,
    ) -> dict[str, str]:
        """A sale from another channel: a sales order (+ its shipped fulfillment) in the UI context."""
        cust = customer or self.special_accounts.get("walkin_customer") or self._first("customer")
        body: dict[str, Any] = {
            "entity": {"id": cust},
            "item": {
                "items": [
                    {
                        "item": {"id": str(ln["item"])},
                        "quantity": str(ln.get("quantity", 1)),
                        **({"rate": str(ln["rate"])} if ln.get("rate") is not None else {}),
                        **(
                            {"location": {"id": str(ln.get("location") or location)}}
                            if (ln.get("location") or location)
                            else {}
                        ),
                    }
                    for ln in lines
                ]
            },
        }
        if location:
            body["location"] = {"id": str(location)}
        if external_id:
            body["externalId"] = external_id
        so = self.create("salesOrder", body, ExecContext(context_type=UI))
        out = {"salesOrder": so.rec.id}
        if fulfill:
            out["itemFulfillment"] = self.fulfill(so.rec.id).rec.id
        return out

    def _first(self, rec_type: str) -> str:
        ids = self.list_ids(rec_type)
        if not ids:
            raise user_error(f"No {rec_type} exists in the sandbox; seed one first.")
        return ids[0]

    def close_period(self, period: str, closed: bool = True) -> None:
        """``period`` is ``YYYY-MM``; postings dated in a closed period are refused."""
        if len(period) != 7 or period[4] != "-":
            raise invalid_content("period must be YYYY-MM", "period")
        with self.lock:
            if closed:
                self.closed_periods.add(period)
            else:
                self.closed_periods.discard(period)
            self._refresh_periods()

    def stock_levels(self, item: str | None = None, location: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            out = []
            for (i, loc), bal in sorted(self.stock.balances.items()):
                if (item and i != str(item)) or (location and loc != str(location)):
                    continue
                out.append(
                    {
                        "item": i,
                        "location": loc,
                        "onHand": str(bal.on_hand),
                        "committed": str(bal.committed),
                        "available": str(bal.available),
                        "backOrdered": str(bal.back_ordered),
                        "averageCost": str(bal.average_cost),
                    }
                )
            return out

    def rest_view(self, rec: Rec, base: str, *, expand: bool = False, fields: set[str] | None = None) -> dict[str, Any]:
        with self.lock:
            return self.renderer.rest(rec, base, expand=expand, fields=fields)

    def script_view(self, rec: Rec) -> dict[str, Any]:
        with self.lock:
            view = self.renderer.script(rec.type, rec.id, rec.data)
        stamp = "%Y-%m-%dT%H:%M:%SZ"
        view["fields"].setdefault("createddate", rec.created.strftime(stamp))
        view["fields"].setdefault("lastmodifieddate", rec.modified.strftime(stamp))
        return view

    def log_script(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.script_log.append(entry)
            del self.script_log[:-2000]

    def log_outbound(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.outbound.append(entry)
            del self.outbound[:-2000]

    def state(self) -> dict[str, Any]:
        with self.lock:
            records = {t: len(v) for t, v in self.store.records.items() if v}
        return {
            "account": self.config.account_id,
            "now": self.now().isoformat(),
            "records": records,
            "closedPeriods": sorted(self.closed_periods),
            "concurrency": {"limit": self.pool.limit, "inFlight": self.pool.in_flight, "peak": self.pool.peak},
            "chaos": self.chaos.describe(),
            "legacyTax": self.config.legacy_tax,
            **self.counters.snapshot(),
        }

    @contextmanager
    def slot(self, api: str, op: str, lines: int = 0, record_type: str | None = None) -> Iterator[None]:
        """Hold one of the account's concurrency slots while the operation "works": the call takes the
        modelled latency (``LatencyModel``) in all, the sandbox's own processing of it included, so the
        model is what a client sees however slow this process is; when the processing takes longer, the
        call takes that long."""
        from .pool import PoolFull

        try:
            with self.pool.slot():
                self.counters.inc(f"{api}.{op}")
                seconds = self.chaos.delay(op, lines)
                started = time.monotonic()
                try:
                    yield
                finally:
                    rest = seconds - (time.monotonic() - started)
                    if rest > 0:
                        time.sleep(rest)
        except PoolFull:
            self.counters.inc(f"concurrency.rejected.{api}")
            raise

    def close(self) -> None:
        if self.scripts is not None:
            self.scripts.close()


def iso_today(now: datetime) -> str:
    return now.date().isoformat()


def days_ago(now: datetime, days: int) -> str:
    return (now - timedelta(days=days)).date().isoformat()

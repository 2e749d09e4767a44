"""Returns and refunds TikTok → NetSuite (webhook 12 ``RETURN_STATUS_CHANGE`` → ``returns.sync``;
the ``returns.poll`` backstop over Search Returns).

* A return request (``RETURN_AND_REFUND``) becomes a return authorization transformed from the
  sales order — at the request or once approved (``returns.yaml``); a rejected or cancelled request
  closes it.
* A completed refund becomes a credit memo or a cash refund with TikTok's refund amounts: from the
  return authorization when there is one; a refund without a return (``REFUND``) through a return
  authorization whose lines are closed once credited, or standalone on a non-inventory item.
* Idempotent per return id: the documents carry external ids ``TTS-RA-{return_id}`` and
  ``TTS-RET-{return_id}`` and are looked up before they are created.
* Switchable per shop: ``ttns shops flows SHOP --disable returns`` or ``returns.yaml``
  ``shops.<shop>.enabled: false`` (refunds alone: ``refund.enabled: false``).

This module also registers the cancellations flow (``bridge.flows.cancellations``).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bridge.clock import Clock
from bridge.domain.keys import order_key
from bridge.domain.order_memory import OrderMemory
from bridge.domain.tiktok import Return
from bridge.errors import Evidence, NeedsHumanError, RetriableError, SkippableError
from bridge.flows.accounting import policy_for
from bridge.flows.backstop import poll_shops
from bridge.mapping.accounting import AccountingPolicy
from bridge.mapping.fulfillment import split_ids
from bridge.mapping.orders_spec import OrdersSpec
from bridge.mapping.returns import (
    RefundVat,
    credits_by_line,
    ra_body,
    ra_external_id,
    refund_external_id,
    refund_from_ra_body,
    refund_total,
    returned_ids,
    standalone_ra_body,
    standalone_refund_body,
    unit_amounts,
    with_vat,
)
from bridge.mapping.returns_spec import ReturnSettings, ReturnsSpec, references, with_references
from bridge.mapping.specs import SpecError
from bridge.ports.jobs import InboundEvent, JobContext
from bridge.ports.netsuite import LineChange, NetSuiteFulfillment, NsDocument
from bridge.ports.queue import JobSpec
from bridge.ports.specs import Specs
from bridge.ports.store import Link, Repositories, Shop
from bridge.ports.tiktok import TikTokAftersale

log = logging.getLogger("bridge.flows.returns")

FLOW = "returns"
KIND_SYNC = "returns.sync"
KIND_POLL = "returns.poll"
POLL_SECONDS = 900
POLL_OVERLAP = timedelta(minutes=15)
REQUESTED = frozenset({"RETURN_OR_REFUND_REQUEST_PENDING", "AWAITING_BUYER_RESPONSE"})
APPROVED = frozenset({"AWAITING_BUYER_SHIP", "BUYER_SHIPPED_ITEM", "RETURN_OR_REFUND_REQUEST_SUCCESS"})
CLOSED = frozenset({"REFUND_OR_RETURN_REQUEST_REJECT", "RETURN_OR_REFUND_REQUEST_CANCEL", "REJECT_RECEIVE_PACKAGE"})
REFUNDED = frozenset({"RETURN_OR_REFUND_REQUEST_COMPLETE", "REPLACEMENT_REQUEST_REFUND_SUCCESS"})
DOCUMENT = {"credit_memo": "creditMemo", "cash_refund": "cashRefund"}



def route_return(event: InboundEvent) -> list[JobSpec]:
    """Webhook 12: the job re-reads the return; the status is a hint."""
    data = event.data.get("data") or {}
    shop = event.shop_id or str(event.data.get("shop_id") or "")
    order = str(data.get("order_id") or "")
    return_id = str(data.get("return_id") or "")
    if not shop or not order or not return_id:
        return []
    return [JobSpec(kind=KIND_SYNC, key=order_key(shop, order),
                    payload={"shop_id": shop, "order_id": order, "return_id": return_id,
                             "status": str(data.get("return_status") or "")},
                    idempotency_key=f"{KIND_SYNC}:{event.source}:{event.event_id}"[:191], priority=40)]


@dataclass
class ReturnSync:
    store: Repositories
    aftersale: TikTokAftersale
    netsuite: NetSuiteFulfillment
    specs: Specs
    clock: Clock
    _refs: dict[tuple[str, str], str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def settings(self, shop: Shop) -> ReturnSettings:
        """The shop's settings with ``eid:`` references resolved (once per process)."""
        try:
            settings = self.specs.get("returns", ReturnsSpec).for_shop(shop.id, shop.name, shop.region)
        except SpecError:
            settings = ReturnSettings()
        wanted = [(p, t, v) for p, t, v in references(settings) if v.startswith("eid:")]
        with self._lock:
            missing = [(p, t, v) for p, t, v in wanted if (t, v) not in self._refs]
        if missing:
            by_table: dict[str, list[str]] = {}
            for _p, t, v in missing:
                by_table.setdefault(t, []).append(v[4:])
            found = {(t, f"eid:{e}"): i for t, eids in by_table.items()
                     for e, i in self.netsuite.internal_ids(t, eids).items()}
            absent = [(p, v) for p, t, v in missing if (t, v) not in found]
            if absent:
                raise NeedsHumanError(
                    "returns.yaml names NetSuite records that do not exist: "
                    + ", ".join(f"{v} (at {p})" for p, v in absent),
                    code="SPEC_REFERENCE_MISSING", owner="admin",
                    fix_hint="Create the records with those external ids in NetSuite or correct returns.yaml, then "
                    "replay.", entity="spec:returns",
                    evidence=Evidence.of("bridge", "resolve spec references", details={"missing": absent}))
            with self._lock:
                self._refs.update(found)
        with self._lock:
            return with_references(settings, dict(self._refs)) if wanted else settings

    def refund_vat(self, shop: Shop, order_link: Link) -> RefundVat | None:
        """How the sales order booked VAT (orders.yaml ``tax.mode: inclusive``), None where prices exclude it."""
        try:
            tx = self.specs.get("orders", OrdersSpec).for_shop(shop.id, shop.region).tax
        except SpecError:
            return None
        if tx.mode != "inclusive":
            return None
        memory = OrderMemory.parse(order_link.data)
        rates = {i: Decimal(str(row["vat_rate"])) for row in memory.allocation or [] if row.get("vat_rate") is not None
                 for i in split_ids(row.get("line_item_ids"))}
        # orders synced before each line's rate was recorded: only a one-rate order's rate is certain
        booked = list(memory.vat or {})
        default = Decimal(booked[0]) if len(booked) == 1 else (tx.rate if memory.vat is None and not tx.rates
                                                              else None)
        return RefundVat(rates, default, tx.shipping_rate if tx.shipping_rate is not None else tx.rate,
                         tx.item, dict(tx.codes), tx.exempt_taxcode)

    def _shop(self, shop_id: str) -> Shop:
        shop = self.store.shops.get(shop_id)
        if shop is None:
            raise SkippableError(f"shop {shop_id} is not connected")
        if not shop.flow_enabled(FLOW):
            raise SkippableError(f"the returns flow is off for shop {shop_id}")
        return shop

    def sync(self, shop_id: str, order_id: str, return_id: str) -> dict[str, Any]:
        shop = self._shop(shop_id)
        settings = self.settings(shop)
        if not settings.enabled:
            raise SkippableError("returns.yaml switches returns off for this shop")
        ret = next(iter(self.aftersale.returns(shop_id, return_ids=[return_id])), None)
        if ret is None:
            raise RetriableError(f"TikTok did not return return {return_id}",
                                 Evidence.of("tiktok", "search returns", details={"return_id": return_id}))
        if ret.return_type == "REPLACEMENT":
            return {"action": "skipped", "reason": "a replacement is a new TikTok order (the orders flow)"}
        entity = order_key(shop_id, ret.order_id or order_id)
        order_link = self.store.links.get("order", shop_id, ret.order_id or order_id)
        if order_link is None or not order_link.netsuite_id:
            raise NeedsHumanError(
                f"TikTok return {return_id} belongs to order {ret.order_id or order_id}, which has no sales order in "
                "NetSuite", code="RETURN_ORDER_MISSING", owner="ops",
                fix_hint="Sync the order first (`ttns backfill orders` or replay its exception), then replay this.",
                entity=entity)
        link = self.store.links.get("return", shop_id, return_id)
        state: dict[str, Any] = dict(link.data) if link else {}
        status = ret.return_status
        currency = OrderMemory.parse(order_link.data).currency or ret.refund_amount.currency or "USD"
        actions: list[str] = []
        ra = settings.return_authorization
        wants_ra = ra.enabled and ret.return_type == "RETURN_AND_REFUND" and (
            status in APPROVED or status in REFUNDED or (status in REQUESTED and ra.create_on == "requested"))
        policy = policy_for(self.specs, shop_id, shop)
        vat = self.refund_vat(shop, order_link)
        if wants_ra and not state.get("ra_id"):
            state["ra_id"] = self._return_authorization(ret, order_link, settings, currency, policy, vat)
            actions.append("return_authorization")
        if status in CLOSED and state.get("ra_id") and not state.get("ra_closed"):
            self._close_ra(state["ra_id"])
            state["ra_closed"] = True
            actions.append("return_authorization_closed")
        if status in REFUNDED and settings.refund.enabled and not state.get("refund_id") \
                and not state.get("refund_by"):
            if policy.refund_document:
                state.update(self._refund(ret, order_link, settings, currency, state, policy, vat))
                actions.append(DOCUMENT[settings.refund.document])
            else:
                # settlement posts this shop's statements: the statement's refund line reverses the
                # revenue (docs/accounting.md, "Returns and refunds"); a credit memo would do it twice
                state.update({"refund_by": "statement", "refund_mode": policy.mode})
                actions.append("refund_left_to_statement")
        state.update({"order_id": ret.order_id or order_id, "return_type": ret.return_type, "status": status,
                      "refund_total": str(ret.refund_amount.refund_total), "units": list(returned_ids(ret))})
        self.store.links.upsert(Link("return", shop_id, return_id, state.get("refund_id") or state.get("ra_id"),
                                     DOCUMENT[settings.refund.document] if state.get("refund_id") else
                                     "returnAuthorization" if state.get("ra_id") else "",
                                     refund_external_id(return_id), "", status, state, self.clock.now()))
        if actions:
            self.store.audit.record("worker", "return.synced", entity=entity,
                                    detail={"return_id": return_id, "status": status, "actions": actions})
        return {"action": ",".join(actions) or "unchanged", "status": status, "ra_id": state.get("ra_id"),
                "refund_id": state.get("refund_id")}

    def _return_authorization(self, ret: Return, order_link: Link, settings: ReturnSettings, currency: str,
                              policy: AccountingPolicy, vat: RefundVat | None) -> str:
        assert order_link.netsuite_id is not None
        lines = self.netsuite.order_lines(order_link.netsuite_type or "salesOrder", order_link.netsuite_id)
        credits, missing = credits_by_line(lines, unit_amounts(ret, currency))
        if missing or not credits:
            raise NeedsHumanError(
                f"TikTok return {ret.return_id} names unit(s) {', '.join(missing) or '(none)'} that no line of sales "
                f"order {order_link.netsuite_id} holds", code="RETURN_LINES_MISSING", owner="ops",
                fix_hint="Check the sales order's lines (TikTok line item ids) against the TikTok order; fix the sales "
                "order, then replay.", entity=order_key(order_link.shop_id, order_link.tiktok_id),
                evidence=Evidence.of("bridge", "return authorization", details={"missing": missing}))
        entity = order_key(order_link.shop_id, order_link.tiktok_id)
        if vat is not None and vat.codes:  # each line carries its tax code: net + its VAT, as on the sales order
            credits = with_vat(credits, vat, currency, entity)
        day = policy.date_of(ret.create_time or self.clock.now())
        closed = {ln.line for ln in lines if ln.closed}
        if any(c.line in closed for c in credits):
            # a closed line (the bridge closes fulfilled orders whose revenue comes from the statement,
            # docs/accounting.md) cannot be transformed: the authorization is written on its own
            header = self.netsuite.get(order_link.netsuite_type or "salesOrder", order_link.netsuite_id) or {}
            items = {ln.line: (ln.item_id, ln.location_id) for ln in lines}
            written = self.netsuite.create_document(NsDocument(
                "returnAuthorization", ra_external_id(ret.return_id),
                standalone_ra_body(ret, credits, items, header, settings, day, vat)))
            return written.id
        written = self.netsuite.create_document(NsDocument(
            "returnAuthorization", ra_external_id(ret.return_id), ra_body(ret, credits, settings, day, vat),
            order_link.netsuite_type or "salesOrder", order_link.netsuite_id))
        return written.id

    def _close_ra(self, ra_id: str) -> None:
        lines = self.netsuite.order_lines("returnAuthorization", ra_id)
        changes = [LineChange(ln.line, close=True) for ln in lines if not ln.closed and ln.received < ln.quantity]
        if changes:
            self.netsuite.change_order_lines("returnAuthorization", ra_id, changes)

    def _refund(self, ret: Return, order_link: Link, settings: ReturnSettings, currency: str,
                state: dict[str, Any], policy: AccountingPolicy, vat: RefundVat | None) -> dict[str, Any]:
        record_type = DOCUMENT[settings.refund.document]
        out: dict[str, Any] = {}
        ra_id = state.get("ra_id")
        refund_only = ret.return_type == "REFUND"
        if refund_only and not ra_id and settings.refund.refund_only == "return_authorization" \
                and settings.return_authorization.enabled:
            ra_id = out["ra_id"] = self._return_authorization(ret, order_link, settings, currency, policy, vat)
        amounts = unit_amounts(ret, currency)
        day = policy.date_of(ret.update_time or self.clock.now())
        if ra_id:
            lines = self.netsuite.order_lines("returnAuthorization", ra_id)
            credits, _missing = credits_by_line(lines, amounts)
            credits = with_vat(credits, vat, currency, order_key(order_link.shop_id, order_link.tiktok_id))
            body = refund_from_ra_body(ret, credits, settings, currency, day, vat)
            extra = [ln for ln in body["item"]["items"] if "orderLine" not in ln]
            body["item"]["items"] = [ln for ln in body["item"]["items"] if "orderLine" in ln]
            written = self.netsuite.create_document(NsDocument(
                record_type, refund_external_id(ret.return_id), body, "returnAuthorization", ra_id,
                extra={"append_lines": extra} if extra else {}))
            if refund_only:  # nothing comes back: the authorization is settled by the credit
                self._close_ra(ra_id)
                out["ra_closed"] = True
        else:
            if not settings.refund.item:
                raise NeedsHumanError(
                    f"TikTok refunded return {ret.return_id} but there is no return authorization to credit and "
                    "returns.yaml names no refund.item", code="REFUND_ITEM_MISSING", owner="admin",
                    fix_hint="Set refund.item in returns.yaml (a non-inventory item for refunds), or enable return "
                    "authorizations, then replay.", entity=order_key(order_link.shop_id, order_link.tiktok_id))
            assert order_link.netsuite_id is not None
            header = self.netsuite.get(order_link.netsuite_type or "salesOrder", order_link.netsuite_id) or {}
            body = standalone_refund_body(ret, header, settings, currency, day, vat)
            written = self.netsuite.create_document(NsDocument(record_type, refund_external_id(ret.return_id), body))
        out.update({"refund_id": written.id, "refund_type": record_type,
                    "credited": str(refund_total(ret, settings, currency)), "refund_created": written.created})
        return out

    def poll(self) -> dict[str, Any]:
        def jobs_since(shop: Shop, since: datetime, now: datetime) -> list[JobSpec]:
            specs = []
            for r in self.aftersale.returns(shop.id, update_time_ge=since):
                ts = int(r.update_time.timestamp()) if r.update_time else 0
                specs.append(JobSpec(kind=KIND_SYNC, key=order_key(shop.id, r.order_id),
                                     payload={"shop_id": shop.id, "order_id": r.order_id, "return_id": r.return_id,
                                              "status": r.return_status},
                                     idempotency_key=f"{KIND_SYNC}:poll:{shop.id}:{r.return_id}:{r.return_status}:"
                                     f"{ts}"[:191], priority=70))
            return specs

        return poll_shops(self.store, self.clock, flow=FLOW, cursor=KIND_POLL, first_window=timedelta(hours=24),
                          overlap=POLL_OVERLAP, jobs_since=jobs_since)

    # -- jobs (registered in bridge.bootstrap) ------------------------------------------------------------

    def handle_sync(self, ctx: JobContext) -> dict[str, Any]:
        p = ctx.payload
        return self.sync(str(p["shop_id"]), str(p["order_id"]), str(p["return_id"]))

    def handle_poll(self, ctx: JobContext) -> dict[str, Any]:
        return self.poll()


__all__ = ["KIND_POLL", "KIND_SYNC", "ReturnSync", "route_return"]

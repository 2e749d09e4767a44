"""Cancellations, both ways.

TikTok → NetSuite (webhook 11 ``CANCELLATION_STATUS_CHANGE`` → ``cancellations.sync``, and the
``cancellations.poll`` backstop over Search Cancellations): a completed cancellation closes the
sales order lines of the cancelled units, or reduces a line that keeps other units (quantity,
amount and ``custcol_ttns_line_item_ids``). A full cancellation closes the whole order. Units that
NetSuite already fulfilled (or the bridge already shipped on TikTok) cannot be cancelled: the rest
is applied and a ``CANCELLED_TOO_LATE`` exception says what to do. The orders flow calls
``CancellationSync.order_cancelled`` when it sees a CANCELLED order whose sales order exists.

NetSuite → TikTok (``sales_order.lines_closed`` from the SuiteScript → ``cancellations.request``):
lines a person closed in NetSuite (e.g. out of stock) ask TikTok to cancel those units — the whole
order, or line items where TikTok allows it (US/UK, out-of-stock reason); otherwise, and for units
already shipped, an exception says why and what to do.

Statuses: the cancellation APIs spell the withdrawn state ``CANCELLATION_REQUEST_CANCEL``, the
webhook and the search response ``CANCELLATION_REQUEST_CANCELLED``; webhook 1 says ``CANCEL`` for the
order status ``CANCELLED``. Both spellings are accepted everywhere (``normalize_status``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from bridge.clock import Clock
from bridge.domain.keys import order_key
from bridge.domain.order_memory import OrderMemory
from bridge.domain.tiktok import Order
from bridge.errors import Evidence, NeedsHumanError, RetriableError, SkippableError
from bridge.flows.backstop import poll_shops
from bridge.mapping.fulfillment import split_ids
from bridge.mapping.returns_spec import ReturnSettings, ReturnsSpec
from bridge.mapping.specs import SpecError
from bridge.ports.fulfillment import ShipmentRepository
from bridge.ports.jobs import InboundEvent, JobContext
from bridge.ports.netsuite import LineChange, NetSuiteFulfillment, NsDocument
from bridge.ports.queue import JobSpec
from bridge.ports.specs import Specs
from bridge.ports.store import Link, Repositories, Shop
from bridge.ports.tiktok import TikTokAftersale, TikTokRefusal, TikTokShipping

if TYPE_CHECKING:
    from bridge.flows.orders import OrderSync

log = logging.getLogger("bridge.flows.cancellations")

KIND_SYNC = "cancellations.sync"
KIND_REQUEST = "cancellations.request"
KIND_POLL = "cancellations.poll"
POLL_SECONDS = 600
POLL_OVERLAP = timedelta(minutes=10)
DONE = frozenset({"CANCELLATION_REQUEST_SUCCESS", "CANCELLATION_REQUEST_COMPLETE"})
WITHDRAWN = "CANCELLATION_REQUEST_CANCEL"
PENDING = "CANCELLATION_REQUEST_PENDING"
CANCELLABLE_ORDER = frozenset({"UNPAID", "ON_HOLD", "AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"})
_SPELLINGS = {"CANCELLATION_REQUEST_CANCELLED": WITHDRAWN, "CANCEL": "CANCELLED"}
TOO_LATE_HINT = ("The units left the warehouse before TikTok cancelled them. Intercept or recall the parcel with the "
                 "carrier; if it cannot be stopped, handle it as a return when it comes back (the buyer was "
                 "refunded by TikTok). Resolve this exception once dealt with.")


def normalize_status(status: str) -> str:
    """One spelling per state: the webhook pages' ``…_CANCELLED`` / ``CANCEL`` become the API's."""
    s = (status or "").strip().upper()
    return _SPELLINGS.get(s, s)



# --- routing (pure) -------------------------------------------------------------------------------


def route_cancellation(event: InboundEvent) -> list[JobSpec]:
    """Webhook 11: the job re-reads the cancellation; the status is a hint."""
    data = event.data.get("data") or {}
    shop = event.shop_id or str(event.data.get("shop_id") or "")
    order = str(data.get("order_id") or "")
    if not shop or not order:
        return []
    return [JobSpec(kind=KIND_SYNC, key=order_key(shop, order),
                    payload={"shop_id": shop, "order_id": order, "cancel_id": str(data.get("cancel_id") or ""),
                             "status": normalize_status(str(data.get("cancel_status") or ""))},
                    idempotency_key=f"{KIND_SYNC}:{event.source}:{event.event_id}"[:191], priority=30)]


def route_lines_closed(event: InboundEvent) -> list[JobSpec]:
    """``sales_order.lines_closed`` from NetSuite: ask TikTok to cancel those units."""
    data = event.data.get("data") if isinstance(event.data.get("data"), dict) else {}
    shop = str((data or {}).get("tiktok_shop_id") or "")
    order = str((data or {}).get("tiktok_order_id") or "")
    if not shop or not order:
        return []
    return [JobSpec(kind=KIND_REQUEST, key=order_key(shop, order),
                    payload={"shop_id": shop, "order_id": order, "closed": data, "event_id": event.event_id},
                    idempotency_key=f"{KIND_REQUEST}:{event.source}:{event.event_id}"[:191], priority=30)]


# --- the service ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Applied:
    changed: int
    removed: tuple[str, ...]
    too_late: tuple[str, ...]


def plan_line_changes(lines: Sequence[Any], ids: Sequence[str], pushed: set[str], *, full: bool = False
                      ) -> tuple[list[LineChange], list[str], list[str]]:
    """(changes, removed ids, too-late ids) to take ``ids`` off the sales order lines (pure).

    A line loses the cancelled units that are neither fulfilled in NetSuite nor shipped on TikTok:
    closed when nothing is left on it, else reduced (quantity, ids, amount = rate * quantity). A
    ``full`` cancellation with nothing too late also closes the lines that hold no units (discounts,
    shipping, tax and fee charges), so the whole sales order closes."""
    wanted = set(ids)
    changes: list[LineChange] = []
    removed: list[str] = []
    late: list[str] = []
    for ln in lines:
        hit = [i for i in ln.line_item_ids if i in wanted]
        if ln.closed or not hit:
            continue
        cancellable = [i for i in hit if i not in pushed]
        late += [i for i in hit if i in pushed]
        n = max(0, min(len(cancellable), ln.quantity - ln.fulfilled))
        late += cancellable[n:]
        gone = cancellable[:n]
        if not gone:
            continue
        removed += gone
        new_qty = ln.quantity - n
        if new_qty == 0:
            changes.append(LineChange(ln.line, close=True))
        else:
            keep = tuple(i for i in ln.line_item_ids if i not in gone)
            amount = (ln.rate * new_qty).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if ln.rate is not None \
                else None
            changes.append(LineChange(ln.line, quantity=new_qty, line_item_ids=keep, amount=amount))
    if full and not late:
        changes += [LineChange(ln.line, close=True) for ln in lines if not ln.closed and not ln.line_item_ids]
    return changes, removed, late


def reduced_allocation(allocation: Sequence[dict[str, Any]], removed: set[str]) -> tuple[list[dict[str, Any]],
                                                                                         dict[str, int]]:
    """The order link's allocation without ``removed`` units, and its units per SKU."""
    out = []
    units: dict[str, int] = {}
    for row in allocation:
        ids = [i for i in split_ids(row.get("line_item_ids")) if i not in removed]
        out.append({**row, "quantity": len(ids), "line_item_ids": ids})
        if ids and row.get("sku"):
            units[str(row["sku"])] = units.get(str(row["sku"]), 0) + len(ids)
    return out, units


@dataclass
class CancellationSync:
    store: Repositories
    shipments: ShipmentRepository
    tiktok: TikTokShipping
    aftersale: TikTokAftersale
    netsuite: NetSuiteFulfillment
    specs: Specs
    clock: Clock
    # The orders flow (when wired): a partial cancellation is written by its merged update, so product,
    # discount, shipping and tax lines change in one write and the sales order total is right at once.
    orders: Callable[[], OrderSync] | None = None

    def settings(self, shop: Shop) -> ReturnSettings:
        try:
            return self.specs.get("returns", ReturnsSpec).for_shop(shop.id, shop.name, shop.region)
        except SpecError:
            return ReturnSettings()

    def _shop(self, shop_id: str) -> Shop:
        shop = self.store.shops.get(shop_id)
        if shop is None:
            raise SkippableError(f"shop {shop_id} is not connected")
        if not shop.flow_enabled("orders"):
            raise SkippableError(f"the orders flow is off for shop {shop_id}: cancellations are not applied")
        return shop

    # -- TikTok → NetSuite -------------------------------------------------------------------------
    def sync(self, shop_id: str, order_id: str, cancel_id: str) -> dict[str, Any]:
        shop = self._shop(shop_id)
        if not self.settings(shop).cancellations.enabled:
            raise SkippableError("cancellations are switched off in returns.yaml for this shop")
        found = list(self.aftersale.cancellations(shop_id, cancel_ids=[cancel_id] if cancel_id else [],
                                                  order_ids=[] if cancel_id else [order_id]))
        if not found:
            raise RetriableError(f"TikTok did not return cancellation {cancel_id or 'of order ' + order_id}",
                                 Evidence.of("tiktok", "search cancellations", details={"cancel_id": cancel_id}))
        results = [self._sync_one(shop, order_id, c.cancel_id, normalize_status(c.cancel_status),
                                  [li.order_line_item_id or li.cancel_line_item_id for li in c.cancel_line_items])
                   for c in found if c.order_id in ("", order_id)]
        return results[0] if len(results) == 1 else {"action": "several", "results": results}

    def _sync_one(self, shop: Shop, order_id: str, cancel_id: str, status: str, ids: list[str]) -> dict[str, Any]:
        link = self.store.links.get("order", shop.id, order_id)
        if status not in DONE:
            if link is not None:
                self._note(link, cancel_id, {"status": status})
                if link.netsuite_id:
                    # A pending buyer request holds the sales order, a withdrawn or rejected one releases
                    # it: the orders flow re-reads the order (is_buyer_request_cancel) and writes the hold.
                    from bridge.flows.orders import sync_spec

                    self.store.queue.enqueue(sync_spec(shop.id, order_id, reason=f"cancellation {status}",
                                                       idempotency_key=f"orders.sync:cancel:{cancel_id}:{status}"))
            return {"action": "noted", "status": status,
                    "reason": "pending: the seller decides in Seller Center" if status == PENDING else ""}
        if link is None or not link.netsuite_id:
            return {"action": "nothing in NetSuite", "status": status}
        done = (OrderMemory.parse(link.data).cancellations or {}).get(cancel_id) or {}
        if done.get("applied"):
            return {"action": "unchanged", "netsuite_id": link.netsuite_id}
        order = self.tiktok.get_order(shop.id, order_id)
        full = order is not None and order.status == "CANCELLED"
        if not ids and order is not None:
            ids = [li.id for li in order.line_items if li.cancelled]
        applied = self.apply(shop.id, order_id, link, ids, full=full, cancel_id=cancel_id, status=status)
        refund = self.refund_deposit(shop.id, order_id, full=full and not applied.too_late,
                                     cancel_id=cancel_id) if applied.removed or full else {}
        if applied.too_late:
            raise self._too_late(shop.id, order_id, link, applied)
        return {"action": "closed" if full else "reduced", "netsuite_id": link.netsuite_id,
                "lines_changed": applied.changed, "units": list(applied.removed), **refund}

    def refund_deposit(self, shop_id: str, order_id: str, *, full: bool, cancel_id: str = "") -> dict[str, Any]:
        """The order's customer deposit (orders.yaml ``deposit.enabled``) gives back what the buyer paid for
        the cancelled units, as NetSuite does (docs/accounting.md, "Cancelled orders"): a customer refund
        ``TTS-CRF-{shop}-{order}`` applied to the deposit, paid from the clearing account (TikTok, holding
        the buyer's money, refunds it); a deposit cancelled whole is also deposited into the clearing
        account ``TTS-CXL-{shop}-{order}`` (TikTok received it), so undeposited funds, customer deposits and
        clearing are empty for the order. The rest of a partly cancelled deposit applies to the invoice."""
        from bridge.flows.accounting import policy_for
        from bridge.mapping.orders import deposit_external_id

        dep_id = self.netsuite.find("customerDeposit", deposit_external_id(shop_id, order_id))
        link = self.store.links.get("order", shop_id, order_id)
        if not dep_id or link is None:
            return {}
        dep = self.netsuite.get("customerDeposit", dep_id) or {}
        paid = Decimal(str(dep.get("payment") or dep.get("total") or "0"))
        done = list(link.data.get("deposit_refunds") or [])
        refunded = sum((Decimal(str(r["amount"])) for r in done), Decimal(0))
        keep = Decimal(0) if full else Decimal(str(link.data.get("expected_total") or paid))
        amount = paid - keep - refunded
        if amount <= 0:
            return {}
        clearing = self._clearing_account(shop_id)
        policy = policy_for(self.specs, shop_id, self.store.shops.get(shop_id))
        day = policy.date_of(self.clock.now()).isoformat()
        header: dict[str, Any] = {k: dep[k] for k in ("subsidiary", "currency") if isinstance(dep.get(k), dict)}
        external_id = f"TTS-CRF-{shop_id}-{order_id}" + (f"-R{len(done) + 1}" if done else "")
        written = self.netsuite.create_document(NsDocument("customerRefund", external_id, {
            **header, "customer": dep.get("customer"), "account": {"id": clearing}, "tranDate": day,
            "memo": f"TikTok Shop order {order_id}: {'cancelled' if full else 'units cancelled'}, refunded by TikTok",
            "deposit": {"items": [{"doc": {"id": dep_id}, "apply": True, "amount": amount}]}}))
        out: dict[str, Any] = {"customer_refund": written.id, "refunded": str(amount)}
        if full:
            into = self.netsuite.create_document(NsDocument("deposit", f"TTS-CXL-{shop_id}-{order_id}", {
                **header, "account": {"id": clearing}, "tranDate": day,
                "memo": f"TikTok Shop order {order_id} cancelled: the prepayment TikTok received and refunded",
                "payment": {"items": [{"id": int(dep_id) if dep_id.isdigit() else dep_id, "deposit": True,
                                       "paymentAmount": paid}]}}))
            out["deposit"] = into.id
        fresh = self.store.links.get("order", shop_id, order_id) or link
        self.store.links.upsert(Link(fresh.kind, fresh.shop_id, fresh.tiktok_id, fresh.netsuite_id,
                                     fresh.netsuite_type, fresh.external_id, fresh.content_hash, fresh.status,
                                     {**fresh.data, "deposit_refunds": [*done, {
                                         "id": written.id, "amount": str(amount), "cancel_id": cancel_id,
                                         "external_id": external_id}]}, self.clock.now()))
        return out

    def _clearing_account(self, shop_id: str) -> str:
        """The settlement clearing account (settlement.yaml), as a NetSuite internal id."""
        from bridge.mapping.settlement_spec import SettlementSpec

        try:
            shop = self.store.shops.get(shop_id)
            ref = self.specs.get("settlement", SettlementSpec).for_shop(
                shop_id, shop.region if shop is not None else "").clearing_account
        except SpecError:
            ref = None
        if ref and str(ref).startswith("eid:"):
            ref = self.netsuite.internal_ids("account", [str(ref)[4:]]).get(str(ref)[4:])
        if not ref:
            raise NeedsHumanError(
                f"a cancelled TikTok order's customer deposit needs refunding, but settlement.yaml names no clearing "
                f"account (found: {ref!r})", code="DEPOSIT_REFUND_ACCOUNT", owner="finance",
                fix_hint="Set clearing_account in settlement.yaml (the account TikTok's money is held in), then "
                "replay; or refund the deposit in NetSuite by hand (customer refund applied to it).",
                entity=order_key(shop_id, ""))
        return str(ref)

    def apply(self, shop_id: str, order_id: str, link: Link, ids: Sequence[str], *, full: bool, cancel_id: str = "",
              status: str = "") -> Applied:
        """Take ``ids`` off the sales order (see ``plan_line_changes``) and update the order link."""
        assert link.netsuite_id is not None
        record_type = link.netsuite_type or "salesOrder"
        lines = self.netsuite.order_lines(record_type, link.netsuite_id)
        pushed = set(self.shipments.units(shop_id, order_id))
        changes, removed, late = plan_line_changes(lines, ids, pushed, full=full)
        changed = 0
        locked = OrderMemory.parse(link.data).lines_locked
        if changes and not full and not late and self.orders is not None and not locked:
            # One write re-prorates the discount and charge lines with the product lines (the orders
            # flow maps the order TikTok now has, without the cancelled units).
            self.orders().sync(shop_id, order_id, not_before=self.clock.now())
            changed = len(changes)
        elif changes:
            changed = self.netsuite.change_order_lines(record_type, link.netsuite_id, changes)
        fresh = self.store.links.get("order", shop_id, order_id) or link
        memory = OrderMemory.parse(fresh.data)
        allocation, units = reduced_allocation(memory.allocation or [], set(removed))
        record = {"status": status, "applied": True, "units": list(removed), "too_late": late,
                  "at": self.clock.now().isoformat()}
        memory = memory.with_(allocation=allocation, units=units,
                              cancellations={**(memory.cancellations or {}), cancel_id or "order": record})
        if full:
            memory = memory.with_(tiktok_status="CANCELLED")
        self.store.links.upsert(Link(fresh.kind, fresh.shop_id, fresh.tiktok_id, fresh.netsuite_id,
                                     fresh.netsuite_type, fresh.external_id, fresh.content_hash,
                                     "cancelled" if full and not late else fresh.status, memory.dump(),
                                     self.clock.now()))
        self.store.audit.record("worker", "order.cancellation_applied", entity=order_key(shop_id, order_id),
                                detail={"sales_order": link.netsuite_id, "cancel_id": cancel_id, "lines": changed,
                                        "units": removed, "too_late": late})
        return Applied(changed, tuple(removed), tuple(late))

    def _too_late(self, shop_id: str, order_id: str, link: Link, applied: Applied) -> NeedsHumanError:
        return NeedsHumanError(
            f"TikTok cancelled {len(applied.too_late)} unit(s) of order {order_id} that were already fulfilled in "
            "NetSuite" + (f" ({applied.changed} line(s) of the rest were closed or reduced)"
                          if applied.changed else ""),
            code="CANCELLED_TOO_LATE", owner="ops", fix_hint=TOO_LATE_HINT,
            evidence=Evidence.of("netsuite", "apply cancellation", details={
                "sales_order": link.netsuite_id, "units": list(applied.too_late), "applied": list(applied.removed)}),
            entity=order_key(shop_id, order_id))

    def _note(self, link: Link, cancel_id: str, record: dict[str, Any]) -> None:
        memory = OrderMemory.parse(link.data)
        data = memory.with_(cancellations={**(memory.cancellations or {}),
                                           cancel_id: {**record, "at": self.clock.now().isoformat()}}).dump()
        self.store.links.upsert(Link(link.kind, link.shop_id, link.tiktok_id, link.netsuite_id, link.netsuite_type,
                                     link.external_id, link.content_hash, link.status, data, link.synced_at))

    # -- NetSuite → TikTok -------------------------------------------------------------------------
    def request(self, shop_id: str, order_id: str, closed: dict[str, Any]) -> dict[str, Any]:
        shop = self._shop(shop_id)
        cfg = self.settings(shop).cancellations
        if not cfg.request_on_tiktok:
            raise SkippableError("returns.yaml: cancellations.request_on_tiktok is off for this shop")
        ids = [i for ln in closed.get("lines") or [] if isinstance(ln, dict)
               for i in split_ids(ln.get("tiktok_line_item_ids"))]
        entity = order_key(shop_id, order_id)
        order = self.tiktok.get_order(shop_id, order_id)
        if order is None:
            raise RetriableError(f"TikTok did not return order {order_id}")
        from bridge.flows.fulfillment import shipped_on_tiktok

        active = {li.id: li for li in order.line_items if not li.cancelled}
        targets = [i for i in dict.fromkeys(ids) if i in active]
        if not targets:
            return {"action": "nothing to cancel", "reason": "the units are cancelled on TikTok already"}
        pushed = set(self.shipments.units(shop_id, order_id))
        shipped = [i for i in targets if shipped_on_tiktok(active[i]) or i in pushed]
        cancellable = [i for i in targets if i not in shipped]
        if cancellable and order.status not in CANCELLABLE_ORDER:
            raise NeedsHumanError(
                f"Lines of TikTok order {order_id} were closed in NetSuite but the order is {order.status}",
                code="CANCEL_NOT_ALLOWED", owner="ops",
                fix_hint="TikTok only cancels orders that have not shipped. Reopen the lines in NetSuite and ship "
                "them, or settle it with the buyer in Seller Center; then resolve this exception.",
                evidence=Evidence.of("tiktok", "cancel order", details={"status": order.status,
                                                                        "units": cancellable}), entity=entity)
        result: dict[str, Any] = {"action": "nothing to cancel"}
        if cancellable:
            full = set(cancellable) == set(active)
            reason = cfg.reason_for(str(closed.get("reason") or ""), shop.region)
            if not full and (shop.region.upper() not in {m.upper() for m in cfg.line_level_markets}
                             or cfg.line_level_reason_contains not in reason):
                raise NeedsHumanError(
                    f"{len(cancellable)} of {len(active)} unit(s) of TikTok order {order_id} were closed in NetSuite, "
                    f"but TikTok cancels single lines only in {', '.join(cfg.line_level_markets)} and only for "
                    "out-of-stock reasons",
                    code="CANCEL_NOT_ALLOWED", owner="ops",
                    fix_hint="Either ship the closed lines after all (reopen them), or cancel the whole order (close "
                    "every line in NetSuite, or cancel in Seller Center). Then resolve this exception.",
                    evidence=Evidence.of("bridge", "cancel lines", details={"region": shop.region, "reason": reason,
                                                                            "units": cancellable}), entity=entity)
            try:
                created = self.aftersale.cancel_order(shop_id, order_id, reason, [] if full else cancellable)
            except TikTokRefusal as r:
                raise NeedsHumanError(
                    f"TikTok refused to cancel {len(cancellable)} unit(s) of order {order_id}: {r.tiktok_message} "
                    f"({r.code})", code="CANCEL_REFUSED", owner="ops",
                    fix_hint="Read TikTok's reason in the evidence. Reopen and ship the lines, or cancel in Seller "
                    "Center with a reason TikTok accepts; then resolve.", evidence=r.evidence, entity=entity) from None
            result = {"action": "requested", "cancel_id": created.cancel_id, "status": created.cancel_status,
                      "full": full, "units": cancellable, "reason": reason}
            link = self.store.links.get("order", shop_id, order_id)
            if link is not None:
                self._note(link, created.cancel_id, {"status": normalize_status(created.cancel_status),
                                                     "requested_by": "netsuite", "units": cancellable})
            self.store.audit.record("worker", "order.cancel_requested", entity=entity, detail=result)
        if shipped:
            raise NeedsHumanError(
                f"{len(shipped)} unit(s) closed in NetSuite are already shipped on TikTok (order {order_id})"
                + (" — the others were cancelled" if cancellable else ""),
                code="CANNOT_CANCEL_SHIPPED", owner="ops",
                fix_hint="Shipped units cannot be cancelled on TikTok: if the parcel comes back it is a return. "
                "Reopen the lines in NetSuite if they did ship. Resolve this exception.",
                evidence=Evidence.of("bridge", "cancel lines", details={"shipped": shipped, "result": result}),
                entity=entity)
        return result

    # -- the backstop ---------------------------------------------------------------------------------
    def poll(self) -> dict[str, Any]:
        def jobs_since(shop: Shop, since: datetime, now: datetime) -> list[JobSpec]:
            specs = []
            # No upper bound: TikTok's times are whole seconds, so "< now" would skip this second's updates;
            # the cursor is this poll's start and the next poll re-reads the overlap.
            for c in self.aftersale.cancellations(shop.id, update_time_ge=since):
                status = normalize_status(c.cancel_status)
                if status not in DONE:
                    continue
                ts = int(c.update_time.timestamp()) if c.update_time else 0
                specs.append(JobSpec(kind=KIND_SYNC, key=order_key(shop.id, c.order_id),
                                     payload={"shop_id": shop.id, "order_id": c.order_id, "cancel_id": c.cancel_id,
                                              "status": status},
                                     idempotency_key=f"{KIND_SYNC}:poll:{shop.id}:{c.cancel_id}:{status}:{ts}"[:191],
                                     priority=70))
            return specs

        # cancellations follow the orders flow's switch (they change its sales orders)
        return poll_shops(self.store, self.clock, flow="orders", cursor=KIND_POLL, first_window=timedelta(hours=24),
                          overlap=POLL_OVERLAP, jobs_since=jobs_since)

    def order_cancelled(self, orders: OrderSync, shop_id: str, order: Order, link: Link) -> dict[str, Any]:
        """The orders flow saw a whole order cancelled after its sales order was written."""
        return handle_cancelled_order(orders, shop_id, order, link, self.shipments)

    # -- jobs (registered in bridge.bootstrap) ------------------------------------------------------------

    def handle_sync(self, ctx: JobContext) -> dict[str, Any]:
        p = ctx.payload
        return self.sync(str(p["shop_id"]), str(p["order_id"]), str(p.get("cancel_id") or ""))

    def handle_request(self, ctx: JobContext) -> dict[str, Any]:
        p = ctx.payload
        return self.request(str(p["shop_id"]), str(p["order_id"]), dict(p.get("closed") or {}))

    def handle_poll(self, ctx: JobContext) -> dict[str, Any]:
        return self.poll()


# --- the orders flow's hook --------------------------------------------------------------------------


def handle_cancelled_order(svc: OrderSync, shop_id: str, order: Order, link: Link,
                           shipments: ShipmentRepository) -> dict[str, Any]:
    """A whole order cancelled on TikTok after its sales order exists (the orders flow calls this):
    close every line that nothing was fulfilled from; units already fulfilled in NetSuite or shipped
    on TikTok become a ``CANCELLED_TOO_LATE`` exception."""
    assert link.netsuite_id is not None
    if link.status == "cancelled":
        return {"action": "unchanged", "netsuite_id": link.netsuite_id}
    record_type = link.netsuite_type or "salesOrder"
    fulfilled = svc.netsuite.fulfilled_quantities(record_type, link.netsuite_id)
    pushed = set(shipments.units(shop_id, order.id))
    shipped = {ids: q for ids, q in fulfilled.items() if q > 0}
    late = sorted({i for ids in shipped for i in split_ids(ids)} | pushed)
    if not late:
        closed = svc.netsuite.close_order_lines(record_type, link.netsuite_id, None)
    else:  # close only the lines nothing left from; the shipped units are for a person
        open_ids = [i for ids in fulfilled if ids not in shipped and not set(split_ids(ids)) & pushed
                    for i in split_ids(ids)]
        closed = svc.netsuite.close_order_lines(record_type, link.netsuite_id, open_ids) if open_ids else 0
    svc.store.links.upsert(Link(link.kind, link.shop_id, link.tiktok_id, link.netsuite_id, link.netsuite_type,
                                link.external_id, link.content_hash, "cancelled" if not late else link.status,
                                OrderMemory.parse(link.data).with_(tiktok_status=order.status,
                                                                   cancel_reason=order.cancel_reason).dump(),
                                svc.clock.now()))
    svc.store.audit.record("worker", "order.cancelled", entity=order_key(shop_id, order.id),
                           detail={"sales_order": link.netsuite_id, "lines_closed": closed, "too_late": late})
    if not late and svc.settings_for(shop_id).deposit.enabled:
        # the cancellation's own job refunds what a customer deposit holds for the order
        svc.store.queue.enqueue(JobSpec(kind=KIND_SYNC, key=order_key(shop_id, order.id),
                                        payload={"shop_id": shop_id, "order_id": order.id, "cancel_id": "",
                                                 "status": ""},
                                        idempotency_key=f"{KIND_SYNC}:cancelled-order:{shop_id}:{order.id}"))
    if late:
        raise NeedsHumanError(
            f"TikTok order {order.id} was cancelled after NetSuite fulfilled part of it"
            + (f" ({closed} unfulfilled line(s) closed)" if closed else ""),
            code="CANCELLED_TOO_LATE", owner="ops", fix_hint=TOO_LATE_HINT,
            evidence=Evidence.of("netsuite", "cancelled order", details={
                "sales_order": link.netsuite_id, "fulfilled_lines": shipped, "units": late,
                "cancel_reason": order.cancel_reason}),
            entity=order_key(shop_id, order.id))
    return {"action": "closed", "netsuite_id": link.netsuite_id, "lines_closed": closed}


# --- jobs -------------------------------------------------------------------------------------------


__all__ = [
    "KIND_POLL",
    "KIND_REQUEST",
    "KIND_SYNC",
    "CancellationSync",
    "handle_cancelled_order",
    "normalize_status",
    "plan_line_changes",
    "route_cancellation",
    "route_lines_closed",
]

"""The console's pages and actions (routes on ``bridge.web.console.bp``)."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import yaml
from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from bridge.alerts import AlertStore
from bridge.bootstrap import App
from bridge.domain.keys import order_key, parse_order_key
from bridge.domain.order_memory import OrderMemory
from bridge.errors import redact_mapping
from bridge.flows import monitoring as mon
from bridge.flows import settlement as settlement_flow
from bridge.store.queue import JobSpec
from bridge.web.auth import current_user, login_required, safe_next
from bridge.web.console import bp, charts
from bridge.web.console import queries as q

log = logging.getLogger("bridge.web.console")

PAGE_SIZE = 50
_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


def _c() -> App:
    c: App = current_app.extensions["ttns"]
    return c


def _actor() -> str:
    user = current_user()
    return f"user:{user.username}" if user else "console"


def _page_arg() -> int | tuple[str, int]:
    raw = request.args.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 100000:
        return _error(400, "Bad page number", "The page number must be a positive whole number.")
    return int(raw)


def _error(status: int, title: str, message: str) -> tuple[str, int]:
    return render_template("console/error.html", title=title, message=message), status


@bp.context_processor
def _nav() -> dict[str, Any]:
    if current_user() is None:
        return {}
    c = _c()
    counts = q.exception_counts(c.store.engine).get("open", {})
    firing = AlertStore(c.store.engine).count("firing")
    names = q.shop_names(c.store.engine)
    return {"nav_open": counts, "nav_open_total": sum(counts.values()), "nav_firing": firing,
            "user": current_user(), "now": c.clock.now(), "shop_names": names,
            "shop_name": lambda shop_id: names.get(str(shop_id), str(shop_id)) if shop_id else "—",
            "entity_label": lambda entity: entity_label(entity, names)}


def entity_label(entity: str | None, names: dict[str, str]) -> str:
    """``order:<shop id>:576`` → ``order 576 (Demo shop)``: records named as people know them."""
    if not entity:
        return "—"
    parts = str(entity).split(":")
    if len(parts) == 3 and parts[1] in names:
        return f"{parts[0]} {parts[2]} ({names[parts[1]]})"
    return str(entity)


# --- dashboard -------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def dashboard() -> Any:
    c = _c()
    now = c.clock.now()
    flows = q.flow_stats(c.store.engine, now, c.registry.kinds())
    apis = q.api_stats(c.store.engine, now - timedelta(hours=1))
    inbox = q.inbox_stats(c.store.engine, now - timedelta(hours=1))
    readings = mon.latest_readings(c.store)
    recent, _ = q.exceptions_page(c.store.engine, status="open", owner=None, entity=None, code=None, page=1, size=5)
    ctx = {"flows": flows, "apis": apis, "inbox": inbox, "readings": readings, "recent": recent,
           "monitors": mon.MONITORS}
    if request.args.get("partial") == "1":
        return render_template("console/_dashboard_body.html", **ctx)
    return render_template("console/dashboard.html", **ctx)


# --- connections -----------------------------------------------------------------------------------


@bp.get("/connections")
@login_required
def connections() -> Any:
    c = _c()
    s = c.settings
    now = c.clock.now()
    shops = c.store.shops.list()
    apis = {a.system: a for a in q.api_stats(c.store.engine, now - timedelta(hours=24))}
    tiktok = {
        "configured": bool(s.tiktok_app_key and s.tiktok_app_secret and s.tiktok_service_id),
        "app_key": s.tiktok_app_key,
        "api_base": s.tiktok_api_base,
        "oauth": "tiktok_oauth" in current_app.blueprints,
        "webhook_url": f"{s.public_url}/webhooks/tiktok",
    }
    if s.netsuite_auth == "tba":
        creds = {"consumer key": bool(s.netsuite_consumer_key),
                 "consumer secret": s.netsuite_consumer_secret is not None,
                 "token id": bool(s.netsuite_token_id), "token secret": s.netsuite_token_secret is not None}
    else:
        creds = {"client id": bool(s.netsuite_client_id), "certificate id": bool(s.netsuite_certificate_id),
                 "private key file": s.netsuite_private_key_file is not None}
    netsuite = {
        "account": s.netsuite_account,
        "auth": s.netsuite_auth,
        "credentials": creds,
        "concurrency": s.netsuite_concurrency,
        "write_path": s.netsuite_write_path,
        "rest_base": s.netsuite_rest_base,
        "events_secret": s.netsuite_events_secret is not None,
    }
    return render_template("console/connections.html", shops=shops, tiktok=tiktok, netsuite=netsuite, apis=apis,
                           soon=now + timedelta(days=14))


# --- exceptions ------------------------------------------------------------------------------------

OWNER_LABELS = {"ops": "Operations", "finance": "Finance", "admin": "Admin"}


@bp.get("/exceptions")
@login_required
def exceptions() -> Any:
    page = _page_arg()
    if not isinstance(page, int):
        return page
    status = request.args.get("status", "open")
    if status not in ("open", "resolved", "ignored", "all"):
        return _error(400, "Unknown status", "Status must be open, resolved, ignored or all.")
    owner = request.args.get("owner") or None
    if owner is not None and owner not in q.OWNERS:
        return _error(400, "Unknown owner", "Owner must be ops, finance or admin.")
    entity = (request.args.get("entity") or "")[:255] or None
    code = (request.args.get("code") or "")[:64] or None
    c = _c()
    rows, pg = q.exceptions_page(c.store.engine, status=None if status == "all" else status, owner=owner,
                                 entity=entity, code=code, page=page, size=PAGE_SIZE)
    counts = q.exception_counts(c.store.engine)
    groups: dict[str, list[dict[str, Any]]] = {o: [] for o in q.OWNERS}
    for r in rows:
        r["evidence_text"] = q.pretty_payload(r["evidence"])
        r["href"] = mon.entity_href(r["entity"]) if r["entity"] else ""
        groups.setdefault(r["owner"], []).append(r)
    return render_template("console/exceptions.html", groups=groups, page=pg, status=status, owner=owner,
                           entity=entity, code=code, counts=counts, labels=OWNER_LABELS)


@bp.get("/exceptions/<int:exc_id>")
@login_required
def exception_detail(exc_id: int) -> Any:
    c = _c()
    exc = c.store.exceptions.get(exc_id)
    if exc is None:
        return _error(404, "No such exception", f"There is no exception #{exc_id}.")
    job = c.store.queue.get(exc.job_id) if exc.job_id else None
    attempts = c.store.queue.attempts(exc.job_id) if exc.job_id else []
    audit = c.store.audit.list(entity=exc.entity, limit=20) if exc.entity else []
    return render_template("console/exception.html", exc=exc, evidence=q.pretty_payload(exc.evidence),
                           payload=q.pretty_payload(exc.job_payload) if exc.job_payload else "", job=job,
                           attempts=attempts, audit=[redact_mapping(a) for a in audit],
                           href=mon.entity_href(exc.entity) if exc.entity else "", labels=OWNER_LABELS)


def _back(default: str) -> BaseResponse:
    target = request.form.get("next") or default
    return redirect(safe_next(target), code=303)


def apply_action(exc_id: int, action: str, note: str) -> tuple[bool, str]:
    """Replay, resolve or ignore one exception as the logged-in user: (done, message for the user)."""
    c = _c()
    exc = c.store.exceptions.get(exc_id)
    if exc is None:
        return False, f"Exception #{exc_id} does not exist."
    actor = _actor()
    if action == "replay":
        if not exc.job_kind or exc.job_key is None:
            return False, f"Exception #{exc_id} has no job to replay; fix the cause and resolve it."
        job_id = c.store.exceptions.replay(exc_id, c.store.queue, by=actor)
        return True, f"Exception #{exc_id} replayed as job #{job_id}; it resolves itself when the job succeeds."
    status = "resolved" if action == "resolve" else "ignored"
    if not c.store.exceptions.close(exc_id, status=status, by=actor, note=note):
        return False, f"Exception #{exc_id} was already {exc.status}."
    c.store.audit.record(actor, f"exception.{action}", entity=exc.entity,
                         detail={"exception_id": exc_id, "note": note}, correlation_id=exc.correlation_id)
    return True, f"Exception #{exc_id} {status}."


@bp.post("/exceptions/<int:exc_id>/<action>")
@login_required
def exception_action(exc_id: int, action: str) -> Any:
    if action not in ("replay", "resolve", "ignore"):
        return _error(404, "Unknown action", "Actions are replay, resolve and ignore.")
    note = (request.form.get("note") or "").strip()[:500]
    ok, message = apply_action(exc_id, action, note)
    flash(message, "ok" if ok else "err")
    return _back(f"/console/exceptions/{exc_id}")


MAX_PAYLOAD_CHARS = 65536


@bp.route("/exceptions/<int:exc_id>/edit", methods=["GET", "POST"])
@login_required
def exception_edit(exc_id: int) -> Any:
    """Correct a failed job's input, then retry with it (the original stays on the exception; both go
    to the audit log)."""
    import json

    c = _c()
    exc = c.store.exceptions.get(exc_id)
    if exc is None:
        return _error(404, "No such exception", f"There is no exception #{exc_id}.")
    if exc.status != "open" or not exc.job_kind or exc.job_key is None:
        return _error(409, "Nothing to retry", f"Exception #{exc_id} is {exc.status} or has no job to retry.")
    original = json.dumps(exc.job_payload or {}, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    if request.method == "GET":
        return render_template("console/exception_edit.html", exc=exc, text=original, error="")
    text = request.form.get("payload") or ""
    error = ""
    edited: Any = None
    if len(text) > MAX_PAYLOAD_CHARS:
        error = f"The payload is longer than {MAX_PAYLOAD_CHARS} characters."
    else:
        try:
            edited = json.loads(text)
        except ValueError as bad:
            error = f"This is not valid JSON: {bad}."
        else:
            if not isinstance(edited, dict):
                error = "The payload must be a JSON object ({ … })."
    if error:
        return render_template("console/exception_edit.html", exc=exc, text=text, error=error), 400
    if edited == (exc.job_payload or {}):
        flash("The payload is unchanged; use Retry to run it as it was.", "err")
        return render_template("console/exception_edit.html", exc=exc, text=text, error=""), 400
    job_id = c.store.exceptions.replay(exc_id, c.store.queue, by=_actor(), payload=edited)
    flash(f"Exception #{exc_id} retried with the edited payload as job #{job_id}; the original is kept beside it "
          "in the audit log.", "ok")
    return redirect(url_for("console.exception_detail", exc_id=exc_id), code=303)


@bp.post("/exceptions/bulk")
@login_required
def exceptions_bulk() -> Any:
    action = request.form.get("action", "")
    if action not in ("replay", "resolve", "ignore"):
        return _error(400, "Unknown action", "Choose replay, resolve or ignore.")
    raw = request.form.getlist("ids")
    if not raw or not all(r.isdigit() for r in raw) or len(raw) > 500:
        return _error(400, "Nothing selected", "Select up to 500 exceptions first.")
    note = (request.form.get("note") or "").strip()[:500]
    done = 0
    problems = []
    for exc_id in sorted({int(r) for r in raw}):
        ok, message = apply_action(exc_id, action, note)
        done += ok
        if not ok:
            problems.append(message)
    flash(f"{action}: {done} exception(s) done." + (" " + " ".join(problems[:5]) if problems else ""),
          "ok" if not problems else "err")
    return _back("/console/exceptions")


# --- orders ----------------------------------------------------------------------------------------


@bp.get("/orders")
@login_required
def orders() -> Any:
    page = _page_arg()
    if not isinstance(page, int):
        return page
    text = (request.args.get("q") or "").strip()[:64]
    status = request.args.get("status", "")
    if status not in ("", "synced", "pending"):
        return _error(400, "Unknown status", "Status must be synced or pending.")
    c = _c()
    rows, pg = q.orders_page(c.store.engine, q=text, status=status, page=page, size=PAGE_SIZE)
    linked = {order_key(r['shop_id'], r['tiktok_id']) for r in rows}
    events = q.webhook_statuses(c.store.engine, sorted(linked))  # one query: newer webhooks beat the last sync
    for r in rows:
        r["tt"] = q.tiktok_status(r, events.get(order_key(r["shop_id"], r["tiktok_id"])))
    unlinked = [e for e in q.recent_order_entities(c.store.engine, text) if e not in linked] if (
        text or page == 1) else []
    if text and not rows:
        unlinked = [e for e in unlinked if e.endswith(f":{text}")]
    return render_template("console/orders.html", rows=rows, page=pg, q=text, status=status,
                           unlinked=[("order", *ids) for e in unlinked if (ids := parse_order_key(e))][:20])


@bp.get("/orders/<shop_id>/<order_id>")
@login_required
def order_timeline(shop_id: str, order_id: str) -> Any:
    if not _ID.match(shop_id) or not _ID.match(order_id):
        return _error(400, "Bad order reference", "Shop and order ids are letters, digits, '.', '_' or '-'.")
    c = _c()
    entity = order_key(shop_id, order_id)
    tl = q.order_timeline(c.store.engine, entity, shop_id, order_id)
    link = tl.link
    if link is None and not tl.events:
        return _error(404, "No such order", f"The bridge has no record of order {order_id} in this shop: no event, "
                      "job or sync. Check the number, or wait for TikTok's webhook (the poll also finds it).")
    data = (link or {}).get("data") or {}
    related = q.order_related(c.store.engine, shop_id, order_id)
    status = q.tiktok_status(link, q.webhook_status(c.store.engine, entity))
    return render_template("console/timeline.html", tl=tl, shop_id=shop_id, order_id=order_id, link=link,
                           link_data=q.pretty_payload(data) if link else "", summary=OrderMemory.parse(data).summary,
                           tt=status, related=related,
                           ns_url=netsuite_url(c.settings.netsuite_account, link.get("netsuite_type") or "",
                                               link.get("netsuite_id")) if link else "",
                           ns_base=netsuite_base(c.settings.netsuite_account))


def netsuite_base(account: str | None) -> str:
    """``https://<account>.app.netsuite.com`` (``1234567_SB1`` → ``1234567-sb1``), or "" without an account."""
    if not account:
        return ""
    return f"https://{account.strip().lower().replace('_', '-')}.app.netsuite.com"


NS_PAGES = {
    "salesOrder": "accounting/transactions/salesord.nl",
    "cashSale": "accounting/transactions/cashsale.nl",
    "invoice": "accounting/transactions/custinvc.nl",
    "itemFulfillment": "accounting/transactions/itemship.nl",
    "returnAuthorization": "accounting/transactions/rtnauth.nl",
    "creditMemo": "accounting/transactions/custcred.nl",
    "cashRefund": "accounting/transactions/cashrfnd.nl",
    "customerRefund": "accounting/transactions/custrfnd.nl",
    "customerDeposit": "accounting/transactions/custdep.nl",
    "journalEntry": "accounting/transactions/journal.nl",
    "deposit": "accounting/transactions/deposit.nl",
    "customerPayment": "accounting/transactions/custpymt.nl",
}


def netsuite_url(account: str | None, record_type: str, internal_id: Any) -> str:
    """The NetSuite UI page of a transaction (``…/app/accounting/transactions/salesord.nl?id=123``)."""
    base = netsuite_base(account)
    if not base or not internal_id or not str(internal_id).isdigit():
        return ""
    page = NS_PAGES.get(record_type, "accounting/transactions/transaction.nl")
    return f"{base}/app/{page}?id={internal_id}"


@bp.post("/orders/<shop_id>/<order_id>/sync")
@login_required
def order_sync(shop_id: str, order_id: str) -> Any:
    """Sync this order now: an ``orders.sync`` job through the queue, like a webhook would queue."""
    from bridge.flows.orders import sync_spec

    if not _ID.match(shop_id) or not _ID.match(order_id):
        return _error(400, "Bad order reference", "Shop and order ids are letters, digits, '.', '_' or '-'.")
    c = _c()
    if c.store.shops.get(shop_id) is None:
        return _error(404, "No such shop", f"Shop {shop_id} is not connected.")
    now = c.clock.now()
    spec = sync_spec(shop_id, order_id, idempotency_key=f"orders.sync:console:{shop_id}:{order_id}:"
                     f"{int(now.timestamp())}", reason="console: sync now", priority=10)
    got = c.store.queue.enqueue(spec)
    c.store.audit.record(_actor(), "order.sync_now", entity=order_key(shop_id, order_id),
                         detail={"job_id": got.job_id})
    flash(f"Order {order_id} is queued to sync now (job #{got.job_id}); reload in a moment.", "ok")
    return redirect(url_for("console.order_timeline", shop_id=shop_id, order_id=order_id), code=303)


@bp.get("/trace/<cid>")
@login_required
def trace(cid: str) -> Any:
    if not _ID.match(cid):
        return _error(400, "Bad correlation id", "Correlation ids are letters, digits, '.', '_' or '-'.")
    tl = q.trace(_c().store.engine, cid)
    if not tl.events:
        return _error(404, "No such correlation id", f"Nothing recorded carries correlation id {cid}.")
    return render_template("console/timeline.html", tl=tl, shop_id="", order_id="", link=None, link_data="",
                           cid=cid, summary=None, tt=None, related=None, ns_url="", ns_base="")


# --- inventory -------------------------------------------------------------------------------------


@bp.get("/inventory")
@login_required
def inventory() -> Any:
    page = _page_arg()
    if not isinstance(page, int):
        return page
    show_all = request.args.get("all") == "1"
    c = _c()
    got = mon.inventory_rows(c.flows.monitoring, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
                             only_drift=not show_all)
    reading = mon.latest_readings(c.store).get("inventory_drift")
    hist = mon.history(c.store, c.clock.now() - timedelta(days=7), ["inventory_drift"]).get("inventory_drift", [])
    spark = charts.sparkline([h.value for h in hist], title="SKUs drifting, last 7 days",
                             threshold=reading.threshold if reading else None, width=360, height=60)
    if got is None:
        return render_template("console/inventory.html", configured=False, rows=[], page=None, reading=reading,
                               spark=spark, show_all=show_all)
    rows, total = got
    pg = q.Page(page, PAGE_SIZE, total)
    chart = charts.bars([(f"{r.get('sku')}", r.get("diff")) for r in rows[:15]],
                        title="TikTok minus sellable, per SKU") if rows else ""
    return render_template("console/inventory.html", configured=True, rows=rows, page=pg, reading=reading,
                           spark=spark, chart=chart, show_all=show_all)


# --- settlement ------------------------------------------------------------------------------------

REPORT_TABLES = ("fee_lines", "adjustment_lines", "revenue_lines", "shipping_lines", "tax_lines", "unmatched",
                 "variances", "checks", "postings")
SUMMARY_SKIP = frozenset({"kind", "statement_id"})
TOTALS = frozenset({"Gross sales", "Net settlement", "Payout"})


def _not_configured() -> Any:
    return render_template("console/settlement.html", configured=False, rows=[], chart="", kind="statement",
                           page=None)


@bp.get("/settlement")
@login_required
def settlement() -> Any:
    page = _page_arg()
    if not isinstance(page, int):
        return page
    kind = request.args.get("kind", "statement")
    if kind not in ("statement", "payment"):
        return _error(400, "Unknown report kind", "Kind must be statement or payment.")
    c = _c()
    rows = mon.settlement_reports(c.flows.monitoring, kind=kind, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE)
    if rows is None:
        return _not_configured()
    has_next = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    amount_key = "payout" if kind == "payment" else "settlement"
    series = [(str(r.get("date") or r.get("id"))[:10], mon.decimal_or_none(r.get(amount_key))) for r in reversed(rows)]
    flags = [bool(mon.report_variance(r)) for r in reversed(rows)]
    what = "payout" if kind == "payment" else "statement"
    currencies = {str(r.get("currency") or "") for r in rows} - {""}
    unit = currencies.pop() if len(currencies) == 1 else ("mixed currencies" if currencies else "")
    chart = charts.columns(series, title=f"{amount_key.capitalize()} per {what} (red: variance)", highlight=flags,
                           unit=unit)
    total = (page - 1) * PAGE_SIZE + len(rows) + (1 if has_next else 0)
    return render_template("console/settlement.html", configured=True, rows=rows, chart=chart, kind=kind,
                           page=q.Page(page, PAGE_SIZE, total), amount_key=amount_key)


def _settlement_report(kind: str, ident: str) -> Any:
    if not _ID.match(ident):
        return _error(400, "Bad id", "Statement and payout ids are letters, digits, '.', '_' or '-'.")
    c = _c()
    if "settlement" not in c.areas:
        return _not_configured()
    svc = c.flows.settlement
    got = svc.report(statement_id=ident) if kind == "statement" else svc.report(payment_id=ident)
    if got is None:
        return _error(404, f"No such {kind}", f"There is no settlement report for {kind} {ident} (not imported yet?).")
    row = mon.report_row(got)
    steps_fn = getattr(got, "waterfall", None)
    steps = list(steps_fn()) if callable(steps_fn) else _money_items(row)
    chart = charts.waterfall(steps, title=f"From gross sales to the {'payout' if kind == 'payment' else 'settlement'}",
                             totals=TOTALS) if steps else ""
    tables: dict[str, list[dict[str, Any]]] = {}
    for name in REPORT_TABLES:
        items = getattr(got, name, None)
        if items is None and isinstance(got, dict):
            items = got.get(name)
        if items:
            tables[name] = [redact_mapping(_flat(mon.as_dict(x))) for x in list(items)[:500]]
    fields = [(k, v) for k, v in redact_mapping(row).items()
              if k not in SUMMARY_SKIP and not isinstance(v, dict | list)]
    postings = [{**mon.as_dict(p), "url": netsuite_url(c.settings.netsuite_account, _POSTING_TYPES.get(
        str(mon.as_dict(p).get("kind")), ""), mon.as_dict(p).get("netsuite_id"))}
        for p in (getattr(got, "postings", None) or [])]
    return render_template("console/settlement_report.html", kind=kind, ident=ident, row=row, fields=fields,
                           chart=chart, tables=tables, variance=mon.report_variance(row),
                           ledger=_ledger_verdict(c, kind, row), sections=statement_sections(got, row),
                           postings=postings)


_POSTING_TYPES = {"journal": "journalEntry", "adjustment": "journalEntry", "deposit": "deposit",
                  "customer_payment": "customerPayment"}


def statement_sections(report: Any, row: dict[str, Any]) -> list[dict[str, Any]]:
    """The report as a statement: groups of lines, each with a subtotal, from gross sales down to
    the payout (amounts in the report's currency, TikTok's signs: deductions negative)."""
    def amt(key: str) -> Decimal | None:
        return mon.decimal_or_none(row.get(key))

    def detail(name: str) -> list[tuple[str, Any]]:
        items = getattr(report, name, None) or []
        return [(str(mon.as_dict(x).get("label") or mon.as_dict(x).get("component")), mon.as_dict(x).get("amount"))
                for x in items]

    gross, discounts, refunds, revenue = amt("gross_sales"), amt("seller_discounts"), amt("refunds"), amt("revenue")
    other = None
    if None not in (gross, discounts, refunds, revenue):
        other = revenue - gross - discounts - refunds  # type: ignore[operator]
    groups: list[dict[str, Any]] = [
        {"title": "Sales", "lines": [("Gross sales", gross, []), ("Seller discounts", discounts, []),
                                     ("Refunds", refunds, []), ("Other revenue", other, detail("revenue_lines"))],
         "total": ("Revenue", revenue)},
        {"title": "Shipping", "lines": [("Shipping", amt("shipping"), detail("shipping_lines"))], "total": None},
        {"title": "Fees and taxes", "lines": [("TikTok fees", amt("fees"), detail("fee_lines")),
                                              ("Taxes withheld", amt("taxes"), detail("tax_lines"))], "total": None},
        {"title": "Adjustments", "lines": [("Adjustments", amt("adjustments"), detail("adjustment_lines")),
                                           ("Unexplained", amt("unexplained"), [])], "total": None},
        {"title": "Settlement", "lines": [("Reserve held", amt("reserve"), [])],
         "total": ("Net settlement", amt("settlement"))},
    ]
    if row.get("payout") not in (None, ""):
        groups.append({"title": "Payout", "lines": [("Payable", amt("payable"), [])],
                       "total": ("Paid to the bank", amt("payout"))})
    for g in groups:
        g["lines"] = [ln for ln in g["lines"] if ln[1] or ln[2]]
    return [g for g in groups if g["lines"] or g["total"]]


def _ledger_verdict(c: App, kind: str, row: dict[str, Any]) -> dict[str, Any]:
    """Whether the page may say "Reconciled": the journal (and, for a payout, the deposit) posted in
    NetSuite and the last ledger audit found no difference on them (``bridge.flows.ledger_audit``)."""
    missing = [what for what, key in (("journal", "journal"), ("deposit", "deposit"))
               if (key == "journal" or kind == "payment") and not row.get(key)]
    audit = c.flows.ledger_audit.verdict("payout" if kind == "payment" else "statement",
                                         str(row.get("shop_id") or ""), str(row.get("id") or ""))
    reconciled = not missing and audit is not None and bool(audit.get("ok"))
    return {"reconciled": reconciled, "missing": missing, "audit": audit}


def _flat(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (", ".join(map(str, v)) if isinstance(v, list | tuple) else v) for k, v in d.items()}


def _money_items(report: dict[str, Any]) -> list[tuple[str, Decimal]]:
    out: list[tuple[str, Decimal]] = []
    for key in ("gross_sales", "revenue", "shipping", "fees", "taxes", "adjustments", "settlement", "payout"):
        v = mon.decimal_or_none(report.get(key))
        if v is not None:
            out.append((key.replace("_", " ").capitalize(), v))
    return out


@bp.post("/settlement/<statement_id>/repost")
@login_required
def settlement_repost(statement_id: str) -> Any:
    """Post the statement to NetSuite again (``settlement.post`` through the queue): posts what is
    missing, adjusts what changed, leaves a posted statement that still matches unchanged."""
    if not _ID.match(statement_id):
        return _error(400, "Bad id", "Statement ids are letters, digits, '.', '_' or '-'.")
    c = _c()
    shop_id = request.form.get("shop_id") or ""
    if "settlement" not in c.areas:
        return _not_configured()
    if not _ID.match(shop_id) or c.store.shops.get(shop_id) is None:
        return _error(400, "Unknown shop", "Re-post needs the statement's shop.")
    now = c.clock.now()
    got = c.store.queue.enqueue(settlement_flow.post_job(shop_id, statement_id, f"console:{int(now.timestamp())}"))
    c.store.audit.record(_actor(), "settlement.repost", entity=f"statement:{shop_id}:{statement_id}",
                         detail={"job_id": got.job_id})
    flash(f"Statement {statement_id} is queued to post again (job #{got.job_id}); reload in a moment.", "ok")
    return redirect(url_for("console.settlement_report", statement_id=statement_id), code=303)


@bp.get("/settlement/<statement_id>")
@login_required
def settlement_report(statement_id: str) -> Any:
    return _settlement_report("statement", statement_id)


@bp.get("/settlement/payout/<payment_id>")
@login_required
def settlement_payout(payment_id: str) -> Any:
    return _settlement_report("payment", payment_id)


# --- monitors and alerts ---------------------------------------------------------------------------


@bp.get("/monitors")
@login_required
def monitors() -> Any:
    c = _c()
    now = c.clock.now()
    latest = mon.latest_readings(c.store)
    hist = mon.history(c.store, now - timedelta(days=7))
    sparks = {name: charts.sparkline([h.value for h in hist.get(name, [])][-200:], title=info.title,
                                     threshold=latest[name].threshold if name in latest else None)
              for name, info in mon.MONITORS.items()}
    store = AlertStore(c.store.engine)
    firing = store.list(status="firing", limit=100)
    resolved = store.list(status="resolved", limit=20)
    return render_template("console/monitors.html", latest=latest, sparks=sparks, monitors=mon.MONITORS,
                           firing=firing, resolved=resolved)


@bp.post("/monitors/run")
@login_required
def monitors_run() -> Any:
    c = _c()
    now = c.clock.now()
    only = request.form.get("only") or ""
    if only and only not in mon.MONITORS:
        return _error(400, "Unknown monitor", f"There is no monitor {only!r}.")
    payload = {"only": [only]} if only else {}
    got = c.store.queue.enqueue(JobSpec(kind=mon.KIND_RUN, key="monitoring", priority=20, payload=payload,
                                        idempotency_key=f"monitoring.run:manual:{only}:{int(now.timestamp()) // 10}"))
    c.store.audit.record(_actor(), "monitoring.run", entity=f"monitor:{only}" if only else "monitoring",
                         detail={"job_id": got.job_id, **({"only": only} if only else {})})
    what = f"The {mon.MONITORS[only].title} monitor runs" if only else "The monitors run"
    flash(f"{what} as soon as a worker is free; reload this page in a moment.", "ok")
    return redirect(url_for("console.monitors") + (f"#{only}" if only else ""), code=303)


# --- flows: run history ------------------------------------------------------------------------------


@bp.get("/flows/<flow>")
@login_required
def flow_history(flow: str) -> Any:
    if not re.match(r"^[a-z_]{1,32}$", flow):
        return _error(400, "Bad flow", "Flow names are lower-case letters.")
    c = _c()
    known = {q.flow_of(k) for k in c.registry.kinds()}
    if flow not in known:
        return _error(404, "No such flow", f"There is no flow {flow!r}.")
    hours, recent = q.flow_history(c.store.engine, flow, c.clock.now())
    chart = charts.stacked_hours([(h.hour, h.ok, h.errors) for h in hours],
                                 title=f"{flow}: runs per hour, last 24 hours (UTC)")
    totals = {"attempts": sum(h.attempts for h in hours), "ok": sum(h.ok for h in hours),
              "errors": sum(h.errors for h in hours)}
    return render_template("console/flow.html", flow=flow, hours=hours, recent=recent, chart=chart, totals=totals)


# --- users and the audit log ---------------------------------------------------------------------------

_USERNAME = re.compile(r"^[A-Za-z0-9_.@\-]{1,64}$")


@bp.get("/users")
@login_required
def users() -> Any:
    from bridge.web.auth import ROLE_LABELS

    return render_template("console/users.html", users=_c().store.users.list(), roles=ROLE_LABELS)


@bp.post("/users")
@login_required
def user_save() -> Any:
    """Create a user or change one's role (and password when given)."""
    from bridge.store.repos import USER_ROLES

    c = _c()
    username = (request.form.get("username") or "").strip()
    role = request.form.get("role") or ""
    password = request.form.get("password") or ""
    if not _USERNAME.match(username):
        return _error(400, "Bad user name", "User names are 1 to 64 letters, digits, '.', '_', '-' or '@'.")
    if role not in USER_ROLES:
        return _error(400, "Unknown role", "Choose viewer, operator or admin.")
    existing = c.store.users.get(username)
    if existing is None and not password:
        return _error(400, "Password needed", "A new user needs a password (at least 12 characters).")
    if existing is not None and existing.role == "admin" and role != "admin" and c.store.users.admins() <= 1:
        return _error(409, "Last admin", "This is the only admin; make another user admin first.")
    try:
        if password:
            c.store.users.add(username, password, role)
        else:
            c.store.users.set_role(username, role)
    except ValueError as bad:
        return _error(400, "Not saved", str(bad))
    if password and existing is not None:
        c.store.sessions.revoke_username(username)
    c.store.audit.record(_actor(), "user.created" if existing is None else "user.changed", entity=f"user:{username}",
                         detail={"role": role, **({"from_role": existing.role} if existing else {}),
                                 "password_set": bool(password)})
    flash(f"User {username} saved as {role}.", "ok")
    return redirect(url_for("console.users"), code=303)


@bp.post("/users/<username>/remove")
@login_required
def user_remove(username: str) -> Any:
    c = _c()
    user = current_user()
    found = c.store.users.get(username)
    if found is None:
        return _error(404, "No such user", f"There is no user {username!r}.")
    if user is not None and user.username == username:
        return _error(409, "Not yourself", "You cannot remove yourself; ask another admin.")
    if found.role == "admin" and c.store.users.admins() <= 1:
        return _error(409, "Last admin", "This is the only admin.")
    c.store.users.remove(username)
    c.store.audit.record(_actor(), "user.removed", entity=f"user:{username}", detail={"role": found.role})
    flash(f"User {username} removed; their sessions ended.", "ok")
    return redirect(url_for("console.users"), code=303)


@bp.get("/audit")
@login_required
def audit() -> Any:
    page = _page_arg()
    if not isinstance(page, int):
        return page
    actor = (request.args.get("actor") or "")[:64] or None
    rows, pg = q.audit_page(_c().store.engine, actor=actor, page=page, size=PAGE_SIZE)
    return render_template("console/audit.html", rows=rows, page=pg, actor=actor)


# --- specs -----------------------------------------------------------------------------------------


@bp.get("/specs")
@login_required
def specs() -> Any:
    from bridge.mapping import load_all_specs
    from bridge.mapping.specs import SpecError, fingerprint

    c = _c()
    problems: list[Any] = []
    try:
        loaded = c.specs.loaded()
    except SpecError as exc:
        problems = exc.problems
        loaded = load_all_specs(c.settings.specs_dir, strict=False)
    except Exception as exc:
        problems = [f"{type(exc).__name__}: the specs could not be loaded"]
        loaded = None
    unfilled = getattr(loaded, "unfilled", None)
    if callable(unfilled):
        problems = [*problems, *unfilled()]  # "<SET ME: …>" values: loaded, but flows refuse them
    items = []
    for name, model in (loaded or []):
        data = redact_mapping(model.model_dump(mode="json"))
        items.append({"name": name, "file": f"{c.settings.specs_dir.name}/{name}.yaml",
                      "fingerprint": fingerprint(model),
                      "yaml": yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)})
    return render_template("console/specs.html", items=items, problems=problems,
                           directory=str(c.settings.specs_dir))



# --- settings (admin) ------------------------------------------------------------------------------

SPECS_CHECK_CURSOR = "console:specs_check"


def _spec_models(c: App) -> tuple[dict[str, Any], list[Any]]:
    """The loaded spec models by name, and every problem (invalid files, ``<SET ME>`` placeholders)."""
    from bridge.mapping import load_all_specs
    from bridge.mapping.specs import SpecError

    problems: list[Any] = []
    try:
        loaded = c.specs.loaded()
    except SpecError as exc:
        problems = list(exc.problems)
        loaded = load_all_specs(c.settings.specs_dir, strict=False)
    unfilled = getattr(loaded, "unfilled", None)
    if callable(unfilled):
        problems += list(unfilled())
    return dict(loaded or []), problems


@bp.get("/settings")
@login_required
def settings_page() -> Any:
    """What the bridge runs with: settings, specs and their check, each shop's values (admins only)."""
    import json

    from bridge.mapping.specs import fingerprint
    from bridge.web.console import settings_page as sp

    c = _c()
    models, problems = _spec_models(c)
    files = []
    for name, model in sorted(models.items()):
        mine = [p for p in problems if str(getattr(p, "file", "")).endswith(f"{name}.yaml")]
        files.append({"name": name, "file": f"{c.settings.specs_dir.name}/{name}.yaml", "fingerprint":
                      fingerprint(model), "problems": [str(p) for p in mine]})
    loaded_names = set(models)
    other = [str(p) for p in problems if not any(str(getattr(p, "file", "")).endswith(f"{n}.yaml")
                                                  for n in loaded_names)]
    raw = c.store.cursors.get(SPECS_CHECK_CURSOR)
    last_check = json.loads(raw) if raw else None
    return render_template("console/settings.html", groups=sp.effective_settings(c.settings),
                           config_file=sp.configuration_file(), specs_dir=str(c.settings.specs_dir), files=files,
                           other_problems=other, last_check=last_check,
                           shops=sp.shop_settings(c.store.shops.list(), models, c.settings.specs_dir),
                           flow_names=sp.SHOP_FLOWS)


@bp.post("/settings/shops/<shop_id>/flows")
@login_required
def settings_shop_flows(shop_id: str) -> Any:
    """Switch a shop's flows on or off (the one per-shop setting kept in the database; audited)."""
    from bridge.domain.keys import shop_key
    from bridge.web.console.settings_page import SHOP_FLOWS

    c = _c()
    shop = c.store.shops.get(shop_id) if _ID.match(shop_id) else None
    if shop is None:
        return _error(404, "No such shop", f"There is no connected shop {shop_id!r}.")
    wanted = {f: request.form.get(f"flow-{f}") == "on" for f in SHOP_FLOWS}
    before = {f: bool(shop.flows.get(f, True)) for f in SHOP_FLOWS}
    changed = {f: v for f, v in wanted.items() if v != before[f]}
    if changed:
        c.store.shops.set_flows(shop_id, {**shop.flows, **wanted})
        c.store.audit.record(_actor(), "shop.flows", entity=shop_key(shop_id),
                             detail={"enabled": sorted(f for f, v in changed.items() if v),
                                     "disabled": sorted(f for f, v in changed.items() if not v)})
        on = ", ".join(f"{f} {'on' if v else 'off'}" for f, v in sorted(changed.items()))
        flash(f"{shop.name or shop_id}: {on}.", "ok")
    else:
        flash(f"{shop.name or shop_id}: nothing changed.", "ok")
    return redirect(url_for("console.settings_page") + f"#shop-{shop_id}", code=303)


@bp.post("/settings/specs/check")
@login_required
def settings_specs_check() -> Any:
    """Run the spec checks of ``ttns doctor`` now (files load, no placeholder, every NetSuite id the
    specs name exists in the account); the result and who asked are kept for the page and audited."""
    import json

    from bridge.flows.doctor_specs import doctor_checks

    c = _c()
    now = c.clock.now()
    checks = [{"name": ch.name, "ok": bool(ch.ok), "warning": bool(ch.warning), "detail": str(ch.detail)[:2000],
               "fix": str(ch.fix or "")[:500]} for ch in doctor_checks(c)]
    ok = all(ch["ok"] or ch["warning"] for ch in checks)
    c.store.cursors.set(SPECS_CHECK_CURSOR, json.dumps({"at": now.isoformat(), "by": _actor(), "ok": ok,
                                                        "checks": checks}))
    failed = [ch["name"] for ch in checks if not ch["ok"] and not ch["warning"]]
    c.store.audit.record(_actor(), "specs.check", entity="specs", detail={"ok": ok, "failed": failed})
    flash("The specs passed every check." if ok else f"{len(failed)} spec check(s) failed; see below.",
          "ok" if ok else "err")
    return redirect(url_for("console.settings_page") + "#specs", code=303)

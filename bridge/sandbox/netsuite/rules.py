"""Business rules of the records the sandbox serves: defaults, line amounts and totals, statuses,
transform drafts, and the effects a saved transaction has on stock and on its source order.

Everything here works on plain data under the sandbox lock; ``Env`` gives read access to the rest
of the account. Errors are ``NsError`` with the codes NetSuite uses (see docs/sandbox-netsuite.md).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .errors import NsError, invalid_content, user_error
from .ledger import DEFAULT_ITEM_ACCOUNTS, POSTING_TYPES
from .schema import TRANSACTION_TYPES
from .stock import ZERO, DemandKey, Pair, StockBook
from .store import Rec, Store

SALES_LINE_TYPES = ("salesOrder", "invoice", "cashSale", "returnAuthorization", "creditMemo", "cashRefund")
ORDER_TYPES = ("salesOrder", "transferOrder")
TRAN_PREFIX = {
    "salesOrder": "SO",
    "itemFulfillment": "IF",
    "returnAuthorization": "RMA",
    "creditMemo": "CM",
    "cashRefund": "CR",
    "customerDeposit": "CD",
    "customerRefund": "CRF",
    "cashSale": "CS",
    "invoice": "INV",
    "journalEntry": "JE",
    "deposit": "DEP",
    "inventoryAdjustment": "ADJ",
    "inventoryTransfer": "IT",
    "itemReceipt": "IR",
    "transferOrder": "TO",
    "customerPayment": "PYMT",
    "depositApplication": "DA",
}
STATUS_LABELS: dict[str, dict[str, str]] = {
    "salesOrder": {
        "A": "Pending Approval",
        "B": "Pending Fulfillment",
        "C": "Cancelled",
        "D": "Partially Fulfilled",
        "E": "Pending Billing/Partially Fulfilled",
        "F": "Pending Billing",
        "G": "Billed",
        "H": "Closed",
    },
    "returnAuthorization": {
        "A": "Pending Approval",
        "B": "Pending Receipt",
        "C": "Cancelled",
        "D": "Partially Received",
        "E": "Pending Refund/Partially Received",
        "F": "Pending Refund",
        "G": "Refunded",
        "H": "Closed",
    },
    "transferOrder": {
        "A": "Pending Approval",
        "B": "Pending Fulfillment",
        "C": "Rejected",
        "D": "Partially Fulfilled",
        "E": "Pending Receipt/Partially Fulfilled",
        "F": "Pending Receipt",
        "G": "Received",
        "H": "Closed",
    },
    "itemFulfillment": {"A": "Picked", "B": "Packed", "C": "Shipped"},
    "customerDeposit": {"A": "Not Deposited", "B": "Deposited", "C": "Fully Applied", "D": "Unapproved Payment"},
    "invoice": {"A": "Open", "B": "Paid In Full"},
    "creditMemo": {"A": "Open", "B": "Fully Applied"},
    "cashSale": {"A": "Unapproved Payment", "B": "Not Deposited", "C": "Deposited"},
    "customerPayment": {"A": "Unapproved Payment", "B": "Not Deposited", "C": "Deposited"},
}
LEGACY_TAX_BODY = (
    "taxItem",
    "taxRate",
    "taxDetails",
    "taxDetailsOverride",
    "isTaxable",
    "shippingTaxCode",
    "handlingTaxCode",
    "shippingTax1Rate",
    "taxTotal",
    "tax2Total",
)
LEGACY_TAX_LINE = ("taxCode", "taxRate1", "taxRate2", "tax1Amt", "taxAmount", "isTaxable")


def q(value: Decimal, places: int = 2) -> Decimal:
    try:
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:  # quantity x rate (or a sum) beyond what an amount can hold: bad input, not a 500
        raise user_error(f"The amount {value:.6E} is out of range.") from None


def dec(value: Any, default: Decimal = ZERO) -> Decimal:
    if value is None or value == "":
        return default
    return value if isinstance(value, Decimal) else Decimal(str(value))


def ref(value: Any) -> str | None:
    if isinstance(value, dict) and value.get("id") is not None:
        return str(value["id"])
    return None


@dataclass
class SublistPatch:
    lines: list[dict[str, Any]]
    replace: bool = False


@dataclass
class Patch:
    fields: dict[str, Any] = field(default_factory=dict)
    sublists: dict[str, SublistPatch] = field(default_factory=dict)

    @classmethod
    def from_body(cls, body: dict[str, Any], sublists: set[str], replace: set[str]) -> Patch:
        p = cls()
        for k, v in body.items():
            if k in sublists and isinstance(v, list):
                p.sublists[k] = SublistPatch(v, k in replace)
            else:
                p.fields[k] = v
        return p

    def merged_with(self, other: Patch) -> Patch:
        out = Patch(dict(self.fields), dict(self.sublists))
        out.fields.update(other.fields)
        out.sublists.update(other.sublists)
        return out


@dataclass
class Effects:
    moves: list[tuple[Pair, Decimal, Decimal | None]] = field(default_factory=list)  # pair, qty, unit cost
    # the record line each move comes from (the sandbox notes the cost it moved at there: ``_cost``)
    move_lines: list[dict[str, Any]] = field(default_factory=list)
    source: list[tuple[str, str, int, str, Decimal]] = field(default_factory=list)  # type, id, line, field, qty
    deposits: list[str] = field(default_factory=list)  # customer deposits marked deposited
    payments: list[tuple[str, Decimal]] = field(default_factory=list)  # (invoice id, amount a payment applies)

    def add_move(self, pair: Pair, qty: Decimal, unit_cost: Decimal | None, line: dict[str, Any] | None) -> None:
        self.moves.append((pair, qty, unit_cost))
        self.move_lines.append(line if line is not None else {})


@dataclass
class Env:
    store: Store
    stock: StockBook
    now: Callable[[], datetime]
    legacy_tax: bool = False
    closed_periods: set[str] = field(default_factory=set)
    precision: int = 2
    allow_standalone: bool = False
    via_rest: bool = False
    preview: bool = False  # building the record user events see before the save: consume no numbers
    custom_applies: Callable[[str, str], bool] = lambda field, record_type: True
    special_accounts: dict[str, str] = field(default_factory=dict)  # account-wide default accounts


# -- sublist merging ------------------------------------------------------------------------------
def merge(old: dict[str, Any] | None, patch: Patch) -> dict[str, Any]:
    data = copy.deepcopy(old) if old else {}
    data.update(copy.deepcopy(patch.fields))
    for name, sp in patch.sublists.items():
        existing: list[dict[str, Any]] = data.get(name) or []
        by_line = {ln.get("line"): ln for ln in existing if ln.get("line") is not None}
        result: list[dict[str, Any]] = [] if sp.replace else list(existing)
        next_line = max([int(k) for k in by_line if k is not None] + [0]) + 1
        for line in copy.deepcopy(sp.lines):
            key = line.get("line")
            if key is not None and key in by_line:
                merged = dict(by_line[key])
                merged.update(line)
                if sp.replace:
                    result.append(merged)
                else:
                    result[result.index(by_line[key])] = merged
            else:
                if key is not None and not sp.replace:
                    raise invalid_content(f"The line {key} does not exist on the sublist {name}.", f"{name}.items")
                line["line"] = next_line
                next_line += 1
                result.append(line)
        data[name] = result
    return data


# -- shared helpers -------------------------------------------------------------------------------
def period_key(d: str) -> str:
    return d[:7]


_PERIOD_ID = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def closed_period_error(period: str) -> NsError:
    """NetSuite refuses a posting dated in (or edited in) a closed period: ``CLOSED_TRAN_PRD``."""
    return user_error(
        f"The accounting period {period} of this transaction is closed. You cannot post to, or change the "
        "postings of, a closed period; reopen it or date the transaction in an open period.",
        "postingPeriod",
        script_code="CLOSED_TRAN_PRD",
    )


def check_period(env: Env, rec_type: str, data: dict[str, Any]) -> None:
    if rec_type not in POSTING_TYPES:
        return
    tran_date = str(data.get("tranDate") or "")
    key = ref(data.get("postingPeriod")) or period_key(tran_date)
    if not _PERIOD_ID.match(key):
        raise invalid_content(
            f"Error while accessing resource: You have entered an Invalid Field Value {key} for the following "
            "field: postingPeriod",
            "postingPeriod",
        )
    for period in (key, period_key(tran_date)):
        if period in env.closed_periods:
            raise closed_period_error(period)


def check_legacy_tax(env: Env, data_patch: Patch) -> None:
    if not (env.legacy_tax and env.via_rest):
        return
    for name in LEGACY_TAX_BODY:
        if name in data_patch.fields or name in data_patch.sublists:
            raise invalid_content(
                f"The field {name} cannot be set through REST web services in an account that uses legacy "
                "tax; use SuiteTax or the RESTlet write path.",
                name,
            )
    for sub, sp in data_patch.sublists.items():
        for i, line in enumerate(sp.lines):
            for name in LEGACY_TAX_LINE:
                if name in line:
                    raise invalid_content(
                        f"The field {name} cannot be set through REST web services in an account that uses "
                        "legacy tax; use SuiteTax or the RESTlet write path.",
                        f"{sub}.items[{i}].{name}",
                    )


def item_rec(env: Env, line: dict[str, Any], path: str) -> Rec:
    iid = ref(line.get("item"))
    if iid is None:
        raise user_error("Please enter value(s) for: Item", path + ".item", script_code="USER_ERROR")
    item = env.store.find_item(iid)
    if item is None:
        raise invalid_content(
            f"Error while accessing resource: You have entered an Invalid Field Value {iid} for the following "
            "field: item",
            path + ".item",
        )
    return item


def is_stock_item(item: Rec) -> bool:
    if item.type != "inventoryItem":
        return False
    mt = item.data.get("matrixType")
    return not (isinstance(mt, dict) and mt.get("id") == "PARENT")


def base_price(item: Rec) -> Decimal:
    """The item's base price level (price level 1) — what NetSuite sources as the line rate."""
    for line in item.data.get("price") or []:
        if ref(line.get("priceLevel")) in ("1", None) and line.get("price") is not None:
            return dec(line.get("price"))
    return ZERO


def line_location(data: dict[str, Any], line: dict[str, Any]) -> str | None:
    return ref(line.get("location")) or ref(line.get("inventorylocation")) or ref(data.get("location"))


def defaults(env: Env, rec_type: str, data: dict[str, Any], old: Rec | None) -> None:
    today = env.now().date().isoformat()
    if rec_type in TRANSACTION_TYPES:
        data.setdefault("tranDate", today)
        if old is None and not data.get("tranId") and not env.preview:
            data["tranId"] = f"{TRAN_PREFIX[rec_type]}{env.store.next_tran_number(rec_type)}"
        entity_id = ref(data.get("entity")) or ref(data.get("customer"))
        entity = env.store.get("customer", entity_id) if entity_id else None
        if not data.get("subsidiary") and rec_type != "journalEntry":  # a journal names its subsidiary
            sub = (entity.data.get("subsidiary") if entity else None) or _first_ref(env, "subsidiary")
            if sub:
                data["subsidiary"] = copy.deepcopy(sub)
        if not data.get("currency"):
            cur = entity.data.get("currency") if entity else None
            if not cur and ref(data.get("subsidiary")):
                sub_rec = env.store.get("subsidiary", ref(data.get("subsidiary")) or "")
                cur = sub_rec.data.get("currency") if sub_rec else None
            cur = cur or _first_ref(env, "currency")
            if cur:
                data["currency"] = copy.deepcopy(cur)
        if data.get("exchangeRate") is None:
            data["exchangeRate"] = default_exchange_rate(env, data)
        data["postingPeriod"] = data.get("postingPeriod") or {"id": period_key(str(data["tranDate"]))}
    if rec_type == "customer" and not data.get("entityId"):
        name = data.get("companyName") or " ".join(str(x) for x in (data.get("firstName"), data.get("lastName")) if x)
        data["entityId"] = name or f"Customer {env.store.sequences.get('entity', 0)}"
        if not data.get("subsidiary"):
            sub = _first_ref(env, "subsidiary")
            if sub:
                data["subsidiary"] = sub


def default_exchange_rate(env: Env, data: dict[str, Any]) -> Decimal:
    """Transaction currency -> the subsidiary's base currency: the currencies' rates (each against the
    account's base currency), 1 when the transaction is in the subsidiary's currency."""
    cur_id = ref(data.get("currency"))
    sub = env.store.get("subsidiary", ref(data.get("subsidiary")) or "")
    base_id = ref(sub.data.get("currency")) if sub else None
    if not cur_id or not base_id or cur_id == base_id:
        return Decimal("1")
    cur, base = env.store.get("currency", cur_id), env.store.get("currency", base_id)
    if cur is None or base is None:
        return Decimal("1")
    base_rate = dec(base.data.get("exchangeRate"), Decimal("1")) or Decimal("1")
    return dec(cur.data.get("exchangeRate"), Decimal("1")) / base_rate


def item_account_defaults(env: Env, rec_type: str, data: dict[str, Any]) -> None:
    """Items without GL accounts take the account-wide defaults (NetSuite's accounting preferences)."""
    for field_name, special in DEFAULT_ITEM_ACCOUNTS.get(rec_type, {}).items():
        acct = env.special_accounts.get(special)
        if not data.get(field_name) and acct is not None and env.store.get("account", acct) is not None:
            data[field_name] = {"id": acct}


def _first_ref(env: Env, rec_type: str) -> dict[str, str] | None:
    recs = env.store.all(rec_type)
    if not recs:
        return None
    return {"id": sorted(recs, key=lambda r: int(r.id))[0].id}


# -- amounts -------------------------------------------------------------------------------------
def compute_sales(env: Env, rec_type: str, data: dict[str, Any]) -> None:
    """Line amounts (quantity x rate, discount lines), subtotal, discount, shipping, tax, total."""
    places = env.precision
    lines: list[dict[str, Any]] = data.get("item") or []
    subtotal = ZERO
    discount_lines = ZERO
    taxable = ZERO
    line_tax = ZERO
    for i, line in enumerate(lines):
        path = f"item.items[{i}]"
        item = item_rec(env, line, path)
        if item.type == "discountItem":
            rate = line.get("rate")
            if rate is None and line.get("amount") is None:
                rate = dec(item.data.get("rate"))
            amount = dec(line.get("amount")) if line.get("amount") is not None else None
            if amount is None:  # a discount item's rate is the (negative) amount
                amount = q(dec(rate), places)
            line["rate"] = dec(rate) if rate is not None else amount
            line["amount"] = amount
            discount_lines += amount
        else:
            if item.type == "inventoryItem" and not is_stock_item(item):
                raise user_error(
                    f"You cannot sell the matrix parent item {item.data.get('itemId')}; use a child item.",
                    path + ".item",
                )
            qty = dec(line.get("quantity"), Decimal("1"))
            if qty <= 0 and rec_type in ("salesOrder", "transferOrder"):
                raise invalid_content("The quantity must be greater than zero.", path + ".quantity")
            line["quantity"] = qty
            rate = line.get("rate")
            amount = line.get("amount")
            if rate is None and amount is None:
                rate = base_price(item)
            if amount is None:
                amount = q(qty * dec(rate), places)
            elif rate is None:
                rate = (dec(amount) / qty) if qty else dec(amount)
            line["rate"] = dec(rate)
            line["amount"] = dec(amount)
            subtotal += dec(amount)
        if line.get("isClosed") is None and rec_type == "salesOrder":
            line["isClosed"] = False
        if line.get("taxAmount") is not None or line.get("tax1Amt") is not None:
            line_tax += dec(line.get("taxAmount", line.get("tax1Amt")))
        elif line.get("taxRate1") is not None:
            t = q(dec(line["amount"]) * dec(line["taxRate1"]) / 100, places)
            line["tax1Amt"] = t
            line_tax += t
        elif line.get("taxCode"):
            code = env.store.get("salesTaxItem", ref(line["taxCode"]) or "")
            if code is not None:
                t = q(dec(line["amount"]) * dec(code.data.get("rate")) / 100, places)
                line["tax1Amt"] = t
                line_tax += t
        if line.get("isTaxable"):
            taxable += dec(line["amount"])
    # header discount (discountItem + discountRate: negative amount or percentage of the subtotal)
    header_discount = ZERO
    if data.get("discountItem"):
        disc = env.store.get("discountItem", ref(data["discountItem"]) or "")
        rate = data.get("discountRate")
        if rate is None and disc is not None:
            rate = disc.data.get("rate")
        header_discount = q(dec(rate), places)
        data["discountRate"] = dec(rate)
    shipping = dec(data.get("shippingCost"))
    handling = dec(data.get("handlingCost"))
    if data.get("taxDetailsOverride") and data.get("taxDetails"):
        tax = sum((dec(t.get("taxAmount")) for t in data["taxDetails"]), ZERO)
    elif data.get("taxRate") is not None and taxable:
        tax = q(taxable * dec(data["taxRate"]) / 100, places)
    else:
        tax = line_tax
    tax += dec(data.get("shippingTaxAmount")) + dec(data.get("handlingTaxAmount"))
    data["subtotal"] = q(subtotal + discount_lines, places)
    data["discountTotal"] = q(header_discount, places)
    data["taxTotal"] = q(tax, places)
    data["total"] = q(subtotal + discount_lines + header_discount + shipping + handling + tax, places)


def compute_journal(env: Env, data: dict[str, Any]) -> None:
    lines: list[dict[str, Any]] = data.get("line") or []
    if not data.get("subsidiary"):
        raise user_error("Please enter value(s) for: Subsidiary", "subsidiary", script_code="USER_ERROR")
    if len(lines) < 2:
        raise user_error("A journal entry needs at least two lines.", "line", script_code="USER_ERROR")
    debit = credit = ZERO
    for i, line in enumerate(lines):
        path = f"line.items[{i}]"
        if not line.get("account"):
            raise user_error("Please enter value(s) for: Account", path + ".account")
        d, c = dec(line.get("debit")), dec(line.get("credit"))
        if d < 0 or c < 0 or (d and c) or not (d or c):
            raise user_error("Each line needs either a debit or a credit amount, not both.", path)
        if q(d, env.precision) != d or q(c, env.precision) != c:
            raise invalid_content("Amounts cannot have more decimals than the currency allows.", path)
        debit += d
        credit += c
    if debit != credit:
        raise user_error(
            f"The transaction is not in balance: debits {debit} and credits {credit} differ.",
            "line",
            script_code="UNBALANCED_JOURNAL",
        )
    data["total"] = debit
    data.setdefault("approvalStatus", {"id": "2"})


def compute_deposit(env: Env, data: dict[str, Any]) -> None:
    if not data.get("account"):
        raise user_error("Please enter value(s) for: Account", "account")
    total = ZERO
    for i, line in enumerate(data.get("payment") or []):
        if not line.get("deposit", True):
            continue
        pid = str(line.get("id") or "")
        src = env.store.get("customerDeposit", pid) or env.store.find_transaction(pid)
        if src is None:
            raise invalid_content(f"The payment {pid} does not exist.", f"payment.items[{i}].id")
        amount = dec(line.get("paymentAmount"), dec(src.data.get("payment") or src.data.get("total")))
        line["paymentAmount"] = amount
        total += amount
    for line in data.get("other") or []:
        total += dec(line.get("amount"))
    for line in data.get("cashBack") or data.get("cashback") or []:
        total -= dec(line.get("amount"))
    if total < 0:
        raise user_error("The deposit total cannot be negative.", "total")
    data["total"] = q(total, env.precision)


def compute_customer_refund(env: Env, data: dict[str, Any]) -> None:
    """The refund's Deposits sublist: each customer deposit must exist and have the amount left (what
    invoices, deposit applications and earlier refunds have not taken); the total is what it refunds."""
    if not data.get("customer"):
        raise user_error("Please enter value(s) for: Customer", "customer")
    total = ZERO
    for i, line in enumerate(data.get("deposit") or []):
        if not line.get("apply", True):
            continue
        dep = env.store.get("customerDeposit", ref(line.get("doc")) or "")
        if dep is None:
            raise invalid_content(f"The customer deposit {ref(line.get('doc'))} does not exist.",
                                  f"deposit.items[{i}].doc")
        left = dec(dep.data.get("payment")) - sum((dec(v) for v in (dep.data.get("_appliedBy") or {}).values()), ZERO)
        amount = dec(line.get("amount"), left)
        if amount <= 0 or amount > left:
            raise user_error(f"You cannot refund {amount} of customer deposit {dep.data.get('tranId') or dep.id}: "
                             f"{left} is left on it.", f"deposit.items[{i}].amount")
        line["amount"] = amount
        total += amount
    for line in data.get("apply") or []:
        if line.get("apply", True):
            total += dec(line.get("amount"))
    if total <= 0:
        raise user_error("Please enter value(s) for: Refund Amount (apply a deposit or a credit)", "total")
    data["total"] = q(total, env.precision)


def undeposited(data: dict[str, Any]) -> bool:
    """Does a receipt of money (cash sale, customer deposit/payment) go to Undeposited Funds?"""
    value = data.get("undepFunds")
    value = value.get("id") if isinstance(value, dict) else value
    if value is None or value == "":
        return ref(data.get("account")) is None
    return str(value).strip().upper() in ("T", "TRUE")


def invoice_due(invoice: Rec, excluding: str | None = None) -> Decimal:
    """What is still owed on an invoice, leaving out what payment ``excluding`` applies to it."""
    paid = sum((dec(v) for k, v in (invoice.data.get("_paidBy") or {}).items() if k != excluding), ZERO)
    return dec(invoice.data.get("total")) - paid


def apply_to_invoices(env: Env, data: dict[str, Any], old: Rec | None, customer: str) -> Decimal:
    """The ``apply`` lines of a payment or credit memo (``doc`` = an invoice of the customer, ``apply``,
    ``amount`` — the amount due when omitted, never more): checked and completed; returns their total."""
    applied = ZERO
    for i, line in enumerate(data.get("apply") or []):
        path = f"apply.items[{i}]"
        if not line.get("apply", True):
            continue
        doc = ref(line.get("doc"))
        invoice = env.store.get("invoice", doc or "")
        if invoice is None:
            raise invalid_content(
                f"Error while accessing resource: You have entered an Invalid Field Value {doc} for the following "
                "field: doc",
                path + ".doc",
            )
        if ref(invoice.data.get("entity")) != customer:
            raise user_error(f"Invoice {invoice.data.get('tranId')} belongs to another customer.", path + ".doc")
        due = invoice_due(invoice, old.id if old else None)
        amount = dec(line.get("amount"), due) if line.get("amount") is not None else due
        if amount <= 0 or amount > due:
            raise user_error(
                f"You cannot apply {amount} to invoice {invoice.data.get('tranId')}: the amount due is {due}.",
                path + ".amount",
            )
        line["amount"] = amount
        line["due"] = due
        line["total"] = dec(invoice.data.get("total"))
        line["type"] = "Invoice"
        line["refNum"] = invoice.data.get("tranId")
        applied += amount
    return applied


def compute_payment(env: Env, data: dict[str, Any], old: Rec | None) -> None:
    """A customer payment: the invoices it applies to, ``payment`` (the applied total when omitted),
    ``applied``/``unapplied``; status B Not Deposited (undeposited funds) or C Deposited."""
    customer = ref(data.get("customer"))
    if not customer:
        raise user_error("Please enter value(s) for: Customer", "customer")
    applied = apply_to_invoices(env, data, old, customer)
    payment = dec(data.get("payment")) if data.get("payment") is not None else applied
    if payment <= 0:
        raise user_error("Please enter value(s) for: Payment Amount", "payment")
    if q(payment, env.precision) != payment:
        raise invalid_content("Amounts cannot have more decimals than the currency allows.", "payment")
    if applied > payment:
        raise user_error(f"The amount applied ({applied}) is more than the payment ({payment}).", "apply")
    data["payment"] = payment
    data["applied"] = applied
    data["unapplied"] = payment - applied
    data["total"] = payment
    if old is None or ref(data.get("status")) not in ("B", "C"):
        data["status"] = {"id": "B" if undeposited(data) else "C"}


def compute_credit_applications(env: Env, data: dict[str, Any], old: Rec | None) -> None:
    """A credit memo applied to the customer's invoices: ``applied``/``unapplied``; status A Open,
    B Fully Applied."""
    applied = apply_to_invoices(env, data, old, ref(data.get("entity")) or "")
    total = dec(data.get("total"))
    if applied > total:
        raise user_error(f"The amount applied ({applied}) is more than the credit ({total}).", "apply")
    data["applied"] = applied
    data["unapplied"] = total - applied
    data["status"] = {"id": "B" if applied >= total > 0 else "A"}


# -- statuses -----------------------------------------------------------------------------------
def order_status(rec_type: str, data: dict[str, Any]) -> str:
    if ref(data.get("orderStatus")) == "A":
        return "A"
    lines = [ln for ln in data.get("item") or [] if ln.get("_stock") or ln.get("quantity") is not None]
    if not lines:
        return "B"
    open_lines = [ln for ln in lines if not ln.get("isClosed")]
    done_field = "quantityReceived" if rec_type == "returnAuthorization" else "quantityFulfilled"
    done = sum((dec(ln.get(done_field)) for ln in lines), ZERO)
    billed = sum((dec(ln.get("quantityBilled")) for ln in lines), ZERO)
    if not open_lines:
        return "H"
    need = sum((dec(ln.get("quantity")) for ln in open_lines), ZERO)
    done_open = sum((dec(ln.get(done_field)) for ln in open_lines), ZERO)
    billed_open = sum((dec(ln.get("quantityBilled")) for ln in open_lines), ZERO)
    if rec_type == "transferOrder":
        received = sum((dec(ln.get("quantityReceived")) for ln in open_lines), ZERO)
        if received >= need:
            return "G"
        if done_open >= need:
            return "F"
        return "D" if done > 0 else "B"
    if billed_open >= need > 0:
        return "G"
    if done_open >= need:
        return "F"
    if done > 0:
        return "E" if billed > 0 else "D"
    return "B"


def set_status(rec_type: str, data: dict[str, Any]) -> None:
    if rec_type in ("salesOrder", "returnAuthorization", "transferOrder"):
        data["status"] = {"id": order_status(rec_type, data)}
    elif rec_type == "itemFulfillment":
        ship = ref(data.get("shipStatus")) or "C"
        data["shipStatus"] = {"id": ship}
        data["status"] = {"id": ship}
    elif rec_type == "customerDeposit" or rec_type in ("invoice", "creditMemo"):
        data.setdefault("status", {"id": "A"})
    elif rec_type == "cashSale":
        data.setdefault("status", {"id": "B"})


# -- preparation --------------------------------------------------------------------------------
def prepare(env: Env, rec_type: str, old: Rec | None, patch: Patch) -> dict[str, Any]:
    """The record as it would be saved: merged, defaulted, computed and validated."""
    check_legacy_tax(env, patch)
    data = merge(old.data if old else None, patch)
    if old is not None:
        _check_order_line_edits(rec_type, old, data)
    defaults(env, rec_type, data, old)
    if rec_type in SALES_LINE_TYPES:
        if not (data.get("entity")):
            raise user_error("Please enter value(s) for: Customer", "entity", script_code="USER_ERROR")
        compute_sales(env, rec_type, data)
        for line in data.get("item") or []:
            item = env.store.find_item(ref(line.get("item")) or "")
            line["_stock"] = bool(item and is_stock_item(item))
        if rec_type == "creditMemo":
            compute_credit_applications(env, data, old)
    elif rec_type == "transferOrder":
        for key in ("location", "transferLocation"):
            if not data.get(key):
                raise user_error(f"Please enter value(s) for: {key}", key)
        compute_sales(env, rec_type, data)
        for line in data.get("item") or []:
            line["_stock"] = True
    elif rec_type == "journalEntry":
        compute_journal(env, data)
    elif rec_type == "deposit":
        compute_deposit(env, data)
    elif rec_type == "customerPayment":
        compute_payment(env, data, old)
    elif rec_type == "customerRefund":
        compute_customer_refund(env, data)
    elif rec_type == "customerDeposit":
        if not data.get("customer"):
            raise user_error("Please enter value(s) for: Customer", "customer")
        if dec(data.get("payment")) <= 0:
            raise user_error("Please enter value(s) for: Payment Amount", "payment")
        data["total"] = dec(data.get("payment"))
    elif rec_type in ("itemFulfillment", "itemReceipt"):
        if old is None and not data.get("createdFrom") and not env.allow_standalone:
            raise user_error(
                f"A {rec_type} can only be created by transforming its source transaction (POST …/!transform/…).",
                "createdFrom",
            )
    elif rec_type in ("inventoryAdjustment", "inventoryTransfer"):
        if rec_type == "inventoryAdjustment" and not data.get("account"):
            raise user_error("Please enter value(s) for: Adjustment Account", "account")
        if rec_type == "inventoryTransfer" and not (data.get("location") and data.get("transferLocation")):
            raise user_error("Please enter value(s) for: From Location, To Location", "location")
        for i, line in enumerate(data.get("inventory") or []):
            item_rec(env, line, f"inventory.items[{i}]")
            if line.get("adjustQtyBy") is None:
                raise user_error("Please enter value(s) for: Adjust Qty. By", f"inventory.items[{i}].adjustQtyBy")
    elif rec_type == "customer":
        if not (data.get("companyName") or data.get("lastName") or data.get("firstName")):
            raise user_error("Please enter value(s) for: Company Name", "companyName")
    elif rec_type == "inventoryItem":
        if not data.get("itemId"):
            raise user_error("Please enter value(s) for: Item Name/Number", "itemId")
        for other in env.store.all("inventoryItem"):
            if other.data.get("itemId") == data["itemId"] and (old is None or other.id != old.id):
                raise user_error(
                    "This record already exists: the item name/number must be unique.",
                    "itemId",
                    script_code="DUP_ITEM",
                )
    item_account_defaults(env, rec_type, data)
    set_status(rec_type, data)
    check_period(env, rec_type, data)
    return data


def _check_order_line_edits(rec_type: str, old: Rec, data: dict[str, Any]) -> None:
    if rec_type not in (*ORDER_TYPES, "returnAuthorization"):
        return
    new_by_line = {ln.get("line"): ln for ln in data.get("item") or []}
    for ln in old.lines("item"):
        done = dec(ln.get("quantityFulfilled")) + dec(ln.get("quantityReceived") if rec_type != "transferOrder" else 0)
        if done <= 0:
            continue
        new = new_by_line.get(ln.get("line"))
        if new is None:
            raise user_error(
                f"You cannot remove line {ln.get('line')} because it has already been fulfilled or received.",
                "item",
            )
        if dec(new.get("quantity")) < done:
            raise user_error(
                f"The quantity on line {ln.get('line')} cannot be less than the quantity already fulfilled ({done}).",
                "item",
            )


# -- effects -------------------------------------------------------------------------------------
def effects(env: Env, rec_type: str, data: dict[str, Any]) -> Effects:
    """What the saved record does to stock and to its source transaction."""
    eff = Effects()
    src_type, src_id = _source(env, data)
    if rec_type == "itemFulfillment":
        shipped = ref(data.get("shipStatus")) == "C"
        for line in data.get("item") or []:
            if not line.get("itemReceive", True):
                continue
            qty = dec(line.get("quantity"))
            loc = ref(line.get("location")) or ref(data.get("location"))
            iid = ref(line.get("item"))
            if src_type and line.get("orderLine") is not None:
                eff.source.append((src_type, src_id or "", int(line["orderLine"]), "quantityFulfilled", qty))
                if shipped:
                    eff.source.append((src_type, src_id or "", int(line["orderLine"]), "_shipped", qty))
            if shipped and iid and loc and _stock(env, iid):
                eff.add_move((iid, loc), -qty, _unit_cost(line), line)
    elif rec_type == "itemReceipt":
        for line in data.get("item") or []:
            if not line.get("itemReceive", True):
                continue
            qty = dec(line.get("quantity"))
            loc = ref(line.get("location")) or ref(data.get("location"))
            iid = ref(line.get("item"))
            if src_type and line.get("orderLine") is not None:
                eff.source.append((src_type, src_id or "", int(line["orderLine"]), "quantityReceived", qty))
            if iid and loc and _stock(env, iid):
                cost = line.get("rate")
                eff.add_move((iid, loc), qty, dec(cost) if cost is not None else None, line)
    elif rec_type == "inventoryAdjustment":
        for line in data.get("inventory") or []:
            loc = ref(line.get("location")) or ref(data.get("adjLocation")) or ref(data.get("location"))
            iid = ref(line.get("item"))
            if iid and loc:
                cost = line.get("unitCost")
                if cost is None and dec(line.get("adjustQtyBy")) < 0:
                    cost = line.get("_unitCost")  # undoing a removal puts the stock back at its cost
                eff.add_move((iid, loc), dec(line.get("adjustQtyBy")), dec(cost) if cost is not None else None, line)
    elif rec_type == "inventoryTransfer":
        src_loc, dst_loc = ref(data.get("location")), ref(data.get("transferLocation"))
        for line in data.get("inventory") or []:
            iid = ref(line.get("item"))
            qty = dec(line.get("adjustQtyBy"))
            if iid and src_loc and dst_loc:
                cost = _unit_cost(line) or env.stock.balance((iid, src_loc)).average_cost
                eff.add_move((iid, src_loc), -qty, cost, line)
                eff.add_move((iid, dst_loc), qty, cost, None)
    elif rec_type in ("invoice", "cashSale", "creditMemo", "cashRefund"):
        field_name = "quantityBilled"
        sign = Decimal(-1) if rec_type in ("invoice", "cashSale") else Decimal(1)
        for line in data.get("item") or []:
            qty = dec(line.get("quantity"))
            if src_type and line.get("orderLine") is not None:
                eff.source.append((src_type, src_id or "", int(line["orderLine"]), field_name, qty))
            elif not src_type:
                iid, loc = ref(line.get("item")), line_location(data, line)
                if iid and loc and _stock(env, iid):
                    eff.add_move((iid, loc), sign * qty, _unit_cost(line) if sign < 0 else None, line)
    elif rec_type == "deposit":
        for line in data.get("payment") or []:
            if line.get("deposit", True) and line.get("id") is not None:
                eff.deposits.append(str(line["id"]))
    if rec_type in ("customerPayment", "creditMemo"):
        for line in data.get("apply") or []:
            if line.get("apply", True) and ref(line.get("doc")):
                eff.payments.append((ref(line.get("doc")) or "", dec(line.get("amount"))))
    return eff


def _unit_cost(line: dict[str, Any]) -> Decimal | None:
    """The unit cost a line moved stock at when it was saved (undoing the move restores that value)."""
    cost = line.get("_unitCost")
    return dec(cost) if cost is not None else None


def _stock(env: Env, item_id: str) -> bool:
    item = env.store.find_item(item_id)
    return bool(item and is_stock_item(item))


def _source(env: Env, data: dict[str, Any]) -> tuple[str | None, str | None]:
    sid = ref(data.get("createdFrom"))
    if not sid:
        return None, None
    src = env.store.find_transaction(sid)
    return (src.type, src.id) if src else (None, None)


def demand(rec_type: str, rec_id: str, data: dict[str, Any]) -> list[tuple[DemandKey, Pair | None, Decimal]]:
    """Open quantities of an order's lines per (item, location), for commitment."""
    if rec_type not in ORDER_TYPES:
        return []
    out: list[tuple[DemandKey, Pair | None, Decimal]] = []
    closed_order = ref(data.get("status")) in ("A", "C", "H")
    for line in data.get("item") or []:
        key: DemandKey = (rec_type, rec_id, int(line.get("line") or 0))
        iid = ref(line.get("item"))
        loc = ref(line.get("location")) or ref(data.get("location"))
        if not line.get("_stock") or not iid:
            continue
        remaining = dec(line.get("quantity")) - dec(line.get("_shipped"))
        if closed_order or line.get("isClosed") or remaining <= 0 or not loc:
            line["quantityCommitted"] = ZERO
            line["quantityBackOrdered"] = ZERO
            out.append((key, (iid, loc) if loc else None, ZERO))
        else:
            out.append((key, (iid, loc), remaining))
    return out


# -- transforms ---------------------------------------------------------------------------------
SUPPORTED_TRANSFORMS: dict[str, tuple[str, ...]] = {
    "salesOrder": ("itemFulfillment", "invoice", "cashSale", "returnAuthorization"),
    "returnAuthorization": ("itemReceipt", "creditMemo", "cashRefund"),
    "transferOrder": ("itemFulfillment", "itemReceipt"),
    "customer": ("salesOrder", "invoice", "cashSale"),
}
_COPY_HEADER = ("entity", "subsidiary", "currency", "exchangeRate", "department", "class", "otherRefNum")


def transform_draft(env: Env, src: Rec, to_type: str) -> dict[str, Any]:
    """The new record NetSuite pre-fills when transforming ``src`` to ``to_type`` (not saved)."""
    if to_type not in SUPPORTED_TRANSFORMS.get(src.type, ()):
        raise user_error(f"The transformation from {src.type} to {to_type} is not supported.", None)
    if src.type == "customer":
        return {"entity": {"id": src.id}}
    status = ref(src.data.get("status"))
    if status in ("A", "C", "H"):
        raise user_error(
            f"You cannot transform this {src.type}: its status is "
            f"{STATUS_LABELS.get(src.type, {}).get(status or '', status)}.",
            None,
        )
    data: dict[str, Any] = {k: copy.deepcopy(src.data[k]) for k in _COPY_HEADER if k in src.data}
    data["createdFrom"] = {"id": src.id}
    for key, value in src.data.items():
        if key.startswith("custbody") and env.custom_applies(key, to_type):
            data[key] = copy.deepcopy(value)
    lines: list[dict[str, Any]] = []
    for sl in src.lines("item"):
        if sl.get("isClosed"):
            continue
        qty = dec(sl.get("quantity"))
        if to_type == "itemFulfillment":
            if not sl.get("_stock"):
                continue
            remaining = qty - dec(sl.get("quantityFulfilled"))
        elif to_type == "itemReceipt":
            if not sl.get("_stock"):
                continue
            base = dec(sl.get("quantityFulfilled")) if src.type == "transferOrder" else qty
            remaining = base - dec(sl.get("quantityReceived"))
        elif to_type == "returnAuthorization":
            remaining = dec(sl.get("quantityFulfilled")) if sl.get("_stock") else qty
        else:  # billing / crediting
            basis = dec(sl.get("quantityFulfilled")) if (sl.get("_stock") and src.type == "salesOrder") else qty
            remaining = basis - dec(sl.get("quantityBilled"))
        if remaining <= 0 and sl.get("quantity") is not None:
            continue
        line: dict[str, Any] = {
            "item": copy.deepcopy(sl.get("item")),
            "orderLine": int(sl.get("line") or 0),
        }
        if sl.get("quantity") is not None:
            line["quantity"] = remaining
        loc = ref(sl.get("location")) or ref(src.data.get("location"))
        if src.type == "transferOrder" and to_type == "itemReceipt":
            loc = ref(src.data.get("transferLocation"))
        if loc:
            line["location"] = {"id": loc}
        if to_type in ("itemFulfillment", "itemReceipt"):
            line["itemReceive"] = True
            line["quantityRemaining"] = remaining
            if to_type == "itemReceipt" and src.type == "transferOrder" and loc:
                from_loc = ref(src.data.get("location")) or ""
                shipped = shipped_unit_cost(env, src.id, ref(sl.get("item")))
                if shipped is None:
                    shipped = env.stock.balance((ref(sl.get("item")) or "", from_loc)).average_cost
                line["rate"] = shipped
            elif to_type == "itemReceipt" and src.type == "returnAuthorization":
                # a returned item comes back at the cost it was shipped at (not at the sales price)
                order = ref(src.data.get("createdFrom"))
                shipped = shipped_unit_cost(env, order, ref(sl.get("item"))) if order else None
                if shipped is not None:
                    line["rate"] = shipped
        else:
            line["rate"] = sl.get("rate")
            if sl.get("quantity") is None:
                line["amount"] = sl.get("amount")
        for key, value in sl.items():
            if key.startswith("custcol") and env.custom_applies(key, to_type):
                line[key] = copy.deepcopy(value)
        lines.append(line)
    if not lines:
        raise user_error(f"There are no lines left to {to_type} on this {src.type}.", None)
    data["item"] = lines
    if to_type in ("itemFulfillment", "itemReceipt"):
        data["orderType"] = TRANSACTION_TYPES[src.type]
    if to_type == "itemFulfillment":
        data["shipStatus"] = {"id": "C"}
        for key in ("shipMethod", "shipCarrier", "shippingAddress"):
            if key in src.data:
                data[key] = copy.deepcopy(src.data[key])
        if src.type == "transferOrder":
            data["transferLocation"] = copy.deepcopy(src.data.get("transferLocation"))
    if to_type in ("invoice", "cashSale"):
        for key in ("shippingCost", "handlingCost", "discountItem", "discountRate", "shipMethod"):
            if key in src.data and not _billed_before(src):
                data[key] = copy.deepcopy(src.data[key])
    if src.type == "transferOrder" and to_type == "itemReceipt":
        data["location"] = copy.deepcopy(src.data.get("transferLocation"))
    return data


def shipped_unit_cost(env: Env, order_id: str | None, item_id: str | None) -> Decimal | None:
    """The average unit cost an order's fulfillments shipped an item at (None when none did)."""
    qty = value = ZERO
    for rec in env.store.all("itemFulfillment"):
        if ref(rec.data.get("createdFrom")) != order_id:
            continue
        for line in rec.lines("item"):
            if ref(line.get("item")) == item_id and line.get("_unitCost") is not None:
                qty += dec(line.get("quantity"))
                value += dec(line.get("quantity")) * dec(line.get("_unitCost"))
    return (value / qty).quantize(Decimal("0.0001")) if qty > 0 else None


def _billed_before(src: Rec) -> bool:
    return any(dec(ln.get("quantityBilled")) > 0 for ln in src.lines("item"))


def apply_transform_body(draft: dict[str, Any], body: Patch) -> Patch:
    """Overlay the request body on the draft: lines are matched to draft lines by ``orderLine``.

    Without ``replace=item`` unmatched draft lines keep their defaults; with it, only the lines in
    the body are kept (fulfillments/receipts: the others are set ``itemReceive: false``).
    """
    if "item" not in draft:  # e.g. customer -> salesOrder: the body brings its own lines
        return Patch(fields={**draft, **body.fields}, sublists=dict(body.sublists))
    fields = dict(draft)
    draft_lines: list[dict[str, Any]] = fields.pop("item", [])
    fields.update(body.fields)
    sp = body.sublists.get("item")
    result: list[dict[str, Any]] = [dict(ln) for ln in draft_lines]
    if sp is not None:
        by_order = {ln.get("orderLine"): ln for ln in result}
        touched: set[int] = set()
        for i, line in enumerate(sp.lines):
            key = line.get("orderLine")
            if key is None and line.get("line") is not None:
                key = line.get("line")
            if key not in by_order:
                raise invalid_content(
                    f"The line with orderLine {key} is not a line of the source transaction that can be transformed.",
                    f"item.items[{i}].orderLine",
                )
            target = by_order[key]
            target.update({k: v for k, v in line.items() if k != "line"})
            touched.add(int(str(key)))
        if sp.replace:
            if any("itemReceive" in ln for ln in result):
                for ln in result:
                    if ln.get("orderLine") not in touched:
                        ln["itemReceive"] = False
            else:
                result = [ln for ln in result if ln.get("orderLine") in touched]
    out = Patch(fields=fields)
    out.sublists["item"] = SublistPatch(result, replace=True)
    for name, sub in body.sublists.items():
        if name != "item":
            out.sublists[name] = sub
    return out


def validate_source_limits(env: Env, touched: dict[tuple[str, str], Rec]) -> None:
    """After effects: no order line fulfilled/received/billed beyond its quantity."""
    for rec in touched.values():
        for line in rec.lines("item"):
            qty = dec(line.get("quantity"))
            checks = (("quantityFulfilled", "fulfill"), ("quantityReceived", "receive"), ("quantityBilled", "bill"))
            for fld, label in checks:
                if dec(line.get(fld)) > qty and line.get("quantity") is not None:
                    if rec.type == "salesOrder" and fld == "quantityReceived":
                        continue
                    raise user_error(
                        f"You cannot {label} more than the remaining quantity of line {line.get('line')} "
                        f"({qty} ordered) on {rec.type} {rec.data.get('tranId')}.",
                        "item",
                        script_code="USER_ERROR",
                    )


def today_iso(now: datetime) -> str:
    return date(now.year, now.month, now.day).isoformat()

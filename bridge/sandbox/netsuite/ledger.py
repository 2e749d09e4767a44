"""The general ledger: the GL impact of every transaction type the sandbox serves.

``Ledger.entries`` turns a transaction (as it is about to be saved) into posting entries
``(transaction line, account, amount)`` in the subsidiary's base currency, debits positive and
credits negative; every transaction's entries sum to zero to the cent. The sandbox computes them
once, when the transaction is committed, and keeps them on the record (``_gl``), so the ledger
records what was true at save time (item accounts and average costs may change later, postings do
not). ``gl_lines`` renders them as rows of SuiteQL's ``transactionaccountingline``.

The rules per type, the accounts and the conventions are documented in docs/sandbox-netsuite.md
("General ledger").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .errors import NsError, user_error
from .store import Rec, Store

ZERO = Decimal(0)
CENT = Decimal("0.01")

# Transaction types with a GL impact (sales orders, return authorizations and transfer orders have none).
POSTING_TYPES = (
    "invoice",
    "cashSale",
    "creditMemo",
    "cashRefund",
    "itemFulfillment",
    "itemReceipt",
    "customerDeposit",
    "customerRefund",
    "customerPayment",
    "depositApplication",
    "deposit",
    "journalEntry",
    "inventoryAdjustment",
    "inventoryTransfer",
)
# Where the sandbox falls back when a record names no account: the account-wide defaults NetSuite
# takes from its accounting preferences (special account keys of the seed, see seed.py).
DEFAULT_ITEM_ACCOUNTS = {
    "inventoryItem": {"incomeAccount": "sales", "cogsAccount": "cogs", "assetAccount": "inventory"},
    "discountItem": {"account": "discounts"},
    "shipItem": {"account": "shipping_income", "accountHandling": "shipping_income"},
}
_SALES_SIGN = {"invoice": 1, "cashSale": 1, "creditMemo": -1, "cashRefund": -1}


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _dec(value: Any) -> Decimal:
    if value is None or value == "":
        return ZERO
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _ref(value: Any) -> str | None:
    if isinstance(value, dict) and value.get("id") is not None:
        return str(value["id"])
    return None


def _flag(value: Any) -> bool | None:
    """A checkbox-like select (``undepFunds``): ``{"id": "T"}``, ``True`` …; ``None`` when unset."""
    if isinstance(value, dict):
        value = value.get("id")
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().upper() in ("T", "TRUE", "Y", "YES", "1")


@dataclass(frozen=True)
class Entry:
    line: int  # transactionline id: 0 = the header (main line), else the sublist line number
    account: str
    amount: Decimal  # base currency: + debit, - credit


class Ledger:
    """Posting rules over the record store. ``accounts`` are the account-wide defaults (special accounts)."""

    def __init__(self, store: Store, accounts: Mapping[str, str]) -> None:
        self.store = store
        self.accounts = accounts
        self._validating = False  # resolve the accounts of every line that could move stock

    # -- accounts --------------------------------------------------------------------------------
    def special(self, key: str, what: str, path: str | None = None) -> str:
        acct = self.accounts.get(key)
        if acct is None or self.store.get("account", acct) is None:
            raise user_error(f"Please enter value(s) for: {what}", path, script_code="USER_ERROR")
        return acct

    def account(self, value: Any, fallback: str, what: str, path: str | None = None) -> str:
        """The account a reference names (it must exist), else the default for ``fallback``."""
        acct = _ref(value)
        if acct is None:
            return self.special(fallback, what, path)
        if self.store.get("account", acct) is None:
            raise NsError(
                400,
                "INVALID_CONTENT",
                f"Error while accessing resource: You have entered an Invalid Field Value {acct} for the "
                f"following field: {(path or 'account').rsplit('.', 1)[-1]}",
                path=path,
                script_code="INVALID_FLD_VALUE",
            )
        return acct

    def _currency(self, value: Any) -> Rec | None:
        """The currency record a reference names (by internal or external id), if any."""
        if not isinstance(value, dict):
            return None
        if value.get("id") is not None:
            return self.store.get("currency", str(value["id"]))
        if value.get("externalId"):
            return self.store.by_external_id("currency", str(value["externalId"]))
        return None

    def bank_account(self, value: Any, what: str, path: str = "account", currency: Any = None) -> str:
        """The account of a field whose list holds Bank accounts only (a deposit's or a customer refund's
        ``account``): NetSuite refuses any other type as an invalid value of the field, and a bank account
        in another currency than the transaction's (a bank account holds one currency; NetSuite lists only
        the accounts in the transaction's currency there)."""
        acct = self.account(value, "bank", what, path)
        rec = self.store.get("account", acct)
        name = rec.data.get("acctName") if rec is not None else acct

        def invalid(why: str) -> NsError:
            return NsError(
                400,
                "INVALID_CONTENT",
                f"Error while accessing resource: You have entered an Invalid Field Value {acct} for the following "
                f"field: {path.rsplit('.', 1)[-1]} (account {name} {why})",
                path=path,
                script_code="INVALID_FLD_VALUE",
            )

        acct_cur = self._currency(rec.data.get("currency")) if rec is not None else None
        tran_cur = self._currency(currency)
        if acct_cur is not None and tran_cur is not None and acct_cur.id != tran_cur.id:
            raise invalid(f"is in {acct_cur.data.get('symbol')}; this transaction is in {tran_cur.data.get('symbol')}: "
                          "choose a bank account in its currency")
        kind = rec.data.get("acctType") if rec is not None else None
        kind = kind.get("id") if isinstance(kind, dict) else kind
        if kind != "Bank":
            raise invalid(f"is of type {kind or 'unknown'}; only Bank accounts can be chosen here")
        return acct

    def item_account(self, item_id: str | None, field: str, path: str) -> str:
        item = self.store.find_item(item_id or "") if item_id else None
        default = DEFAULT_ITEM_ACCOUNTS.get(item.type if item else "inventoryItem", {}).get(field, "sales")
        label = {
            "incomeAccount": "Income Account",
            "cogsAccount": "COGS Account",
            "assetAccount": "Asset Account",
            "account": "Account",
            "accountHandling": "Handling Account",
        }[field]
        value = item.data.get(field) if item else None
        if value is None and field == "accountHandling" and item is not None:
            value = item.data.get("account")
        return self.account(value, default, f"{label} of item {item_id}", path)

    def cash_account(self, data: Mapping[str, Any], path: str = "account") -> str:
        """Where a receipt of money lands: Undeposited Funds unless an account is chosen (``undepFunds`` F)."""
        undep = _flag(data.get("undepFunds"))
        if undep is True or (undep is None and _ref(data.get("account")) is None):
            return self.special("undeposited", "Account (Undeposited Funds)", path)
        return self.account(data.get("account"), "undeposited", "Account", path)

    def holding_account(self, src: Rec) -> str:
        """The account a payment sits in until it is deposited (the account its receipt debited)."""
        if src.type in ("customerDeposit", "customerPayment", "cashSale"):
            return self.cash_account(src.data)
        if src.type == "invoice":  # leniency: depositing an invoice settles its receivable (see docs)
            return self.account(src.data.get("account"), "receivables", "Account")
        return self.special("undeposited", "Account (Undeposited Funds)")

    # -- entries ---------------------------------------------------------------------------------
    def entries(self, rec_type: str, data: Mapping[str, Any], *, validate: bool = False) -> list[Entry]:
        """The posting entries of a transaction; raises ``NsError`` when an account cannot be found.

        Stock lines post the cost the sandbox noted when it moved the stock (``_cost``);
        ``validate`` resolves the accounts of every stock line before anything moved."""
        rule = self._rules().get(rec_type)
        if rule is None:
            return []
        self._validating = validate
        try:
            out = [e for e in rule(data) if e.amount]
        finally:
            self._validating = False
        total = sum((e.amount for e in out), ZERO)
        if total:  # conversion to the base currency left a cent over: NetSuite's rounding line
            out.append(Entry(0, self.special("rounding", "Rounding Gain/Loss account"), -total))
        return out

    def _rules(self) -> dict[str, Callable[[Mapping[str, Any]], list[Entry]]]:
        return {
            "invoice": lambda d: self._sales("invoice", d),
            "cashSale": lambda d: self._sales("cashSale", d),
            "creditMemo": lambda d: self._sales("creditMemo", d),
            "cashRefund": lambda d: self._sales("cashRefund", d),
            "itemFulfillment": self._fulfillment,
            "itemReceipt": self._receipt,
            "customerDeposit": self._customer_deposit,
            "customerRefund": self._customer_refund,
            "customerPayment": self._customer_payment,
            "depositApplication": self._deposit_application,
            "deposit": self._deposit,
            "journalEntry": self._journal,
            "inventoryAdjustment": self._adjustment,
            "inventoryTransfer": self._transfer,
        }

    @staticmethod
    def _rate(data: Mapping[str, Any]) -> Decimal:
        rate = _dec(data.get("exchangeRate"))
        return rate if rate > 0 else Decimal(1)

    def _sales(self, rec_type: str, d: Mapping[str, Any]) -> list[Entry]:
        """Invoice / cash sale (sign +1) and credit memo / cash refund (sign -1)."""
        sign = _SALES_SIGN[rec_type]
        rate = self._rate(d)
        body: list[Entry] = []  # the credit side of a sale (income, discounts, shipping, tax)

        def credit(line: int, account: str, amount: Decimal) -> None:
            body.append(Entry(line, account, -sign * cents(amount * rate)))

        standalone = _ref(d.get("createdFrom")) is None and self._validating
        for i, ln in enumerate(d.get("item") or []):
            path = f"item.items[{i}]"
            line_no = int(ln.get("line") or 0)
            item_id = _ref(ln.get("item"))
            item = self.store.find_item(item_id or "")
            field = "account" if item is not None and item.type in ("discountItem", "shipItem") else "incomeAccount"
            credit(line_no, self.item_account(item_id, field, path + ".item"), _dec(ln.get("amount")))
            if item is not None and item.type == "inventoryItem" and ("_cost" in ln or standalone):
                # no fulfillment/receipt moved this stock: the document itself posts the cost
                cost = _dec(ln.get("_cost"))
                cogs = self.item_account(item_id, "cogsAccount", path + ".item")
                asset = self.item_account(item_id, "assetAccount", path + ".item")
                body.append(Entry(line_no, cogs, sign * cost))
                body.append(Entry(line_no, asset, -sign * cost))
        if _dec(d.get("discountTotal")):
            disc = _ref(d.get("discountItem"))
            credit(0, self.item_account(disc, "account", "discountItem"), _dec(d.get("discountTotal")))
        ship = _ref(d.get("shipMethod"))
        if _dec(d.get("shippingCost")):
            acct = self.item_account(ship, "account", "shipMethod") if ship else None
            credit(0, acct or self.special("shipping_income", "Shipping Income account"), _dec(d.get("shippingCost")))
        if _dec(d.get("handlingCost")):
            acct = self.item_account(ship, "accountHandling", "shipMethod") if ship else None
            credit(0, acct or self.special("shipping_income", "Shipping Income account"), _dec(d.get("handlingCost")))
        if _dec(d.get("taxTotal")):
            credit(0, self.special("sales_tax", "Sales Tax Payable account"), _dec(d.get("taxTotal")))
        if rec_type in ("invoice", "creditMemo"):
            header = self.account(d.get("account"), "receivables", "Account (Accounts Receivable)", "account")
        else:
            header = self.cash_account(d)
        # the header line takes the sum of the converted lines, so the transaction balances exactly
        total = -sum((e.amount for e in body), ZERO)
        return [Entry(0, header, total), *body]

    def _cost_pair(
        self,
        d: Mapping[str, Any],
        debit_of: Callable[[str | None, str], str],
        credit_of: Callable[[str | None, str], str],
    ) -> list[Entry]:
        out: list[Entry] = []
        for i, ln in enumerate(d.get("item") or []):
            if "_cost" not in ln and not self._validating:
                continue
            path = f"item.items[{i}].item"
            item_id = _ref(ln.get("item"))
            line_no = int(ln.get("line") or 0)
            cost = _dec(ln.get("_cost"))
            out.append(Entry(line_no, debit_of(item_id, path), cost))
            out.append(Entry(line_no, credit_of(item_id, path), -cost))
        return out

    def _source_type(self, d: Mapping[str, Any]) -> str | None:
        src = self.store.find_transaction(_ref(d.get("createdFrom")) or "")
        return src.type if src is not None else None

    def _fulfillment(self, d: Mapping[str, Any]) -> list[Entry]:
        """Shipped lines: Dr COGS (transfer orders: Inventory In Transit), Cr the item's asset account."""
        if self._source_type(d) == "transferOrder":
            return self._cost_pair(
                d,
                lambda _i, p: self.special("in_transit", "Inventory In Transit account", p),
                lambda i, p: self.item_account(i, "assetAccount", p),
            )
        return self._cost_pair(
            d,
            lambda i, p: self.item_account(i, "cogsAccount", p),
            lambda i, p: self.item_account(i, "assetAccount", p),
        )

    def _receipt(self, d: Mapping[str, Any]) -> list[Entry]:
        """Dr the item's asset account; Cr COGS (a return), In Transit (a transfer order) or
        Inventory Received Not Billed (a receipt without a return or transfer)."""
        source = self._source_type(d)

        def credit_of(item_id: str | None, path: str) -> str:
            if source == "returnAuthorization":
                return self.item_account(item_id, "cogsAccount", path)
            if source == "transferOrder":
                return self.special("in_transit", "Inventory In Transit account", path)
            return self.special("received_not_billed", "Inventory Received Not Billed account", path)

        return self._cost_pair(d, lambda i, p: self.item_account(i, "assetAccount", p), credit_of)

    def _customer_deposit(self, d: Mapping[str, Any]) -> list[Entry]:
        amount = cents(_dec(d.get("payment")) * self._rate(d))
        liability = self.special("customer_deposits", "Customer Deposits account")
        return [Entry(0, self.cash_account(d), amount), Entry(0, liability, -amount)]

    def _customer_payment(self, d: Mapping[str, Any]) -> list[Entry]:
        """Dr Undeposited Funds (or ``account`` when ``undepFunds`` is F), Cr ``arAcct`` (default A/R)."""
        amount = cents(_dec(d.get("payment")) * self._rate(d))
        receivable = self.account(d.get("arAcct"), "receivables", "A/R Account", "arAcct")
        return [Entry(0, self.cash_account(d), amount), Entry(0, receivable, -amount)]

    def _deposit_application(self, d: Mapping[str, Any]) -> list[Entry]:
        """A customer deposit applied to an invoice: Dr Customer Deposits, Cr the invoice's A/R account."""
        rate = self._rate(d)
        out: list[Entry] = []
        for ln in d.get("apply") or []:
            invoice = self.store.get("invoice", _ref(ln.get("doc")) or "")
            receivable = self.account(invoice.data.get("account") if invoice else None, "receivables", "A/R Account")
            amount = cents(_dec(ln.get("amount")) * rate)
            out.append(Entry(0, self.special("customer_deposits", "Customer Deposits account"), amount))
            out.append(Entry(0, receivable, -amount))
        return out

    def _customer_refund(self, d: Mapping[str, Any]) -> list[Entry]:
        """Dr Customer Deposits (refunded deposits) / A/R (applied credits), Cr the refund account."""
        rate = self._rate(d)
        out: list[Entry] = []
        for ln in d.get("deposit") or []:
            if ln.get("apply", True) and _dec(ln.get("amount")):
                acct = self.special("customer_deposits", "Customer Deposits account")
                out.append(Entry(0, acct, cents(_dec(ln.get("amount")) * rate)))
        for ln in d.get("apply") or []:
            if ln.get("apply", True) and _dec(ln.get("amount")):
                acct = self.special("receivables", "Accounts Receivable account")
                out.append(Entry(0, acct, cents(_dec(ln.get("amount")) * rate)))
        if not out and _dec(d.get("total")):
            out.append(
                Entry(0, self.special("receivables", "Accounts Receivable account"), cents(_dec(d["total"]) * rate))
            )
        paid = sum((e.amount for e in out), ZERO)
        customer = self.store.get("customer", _ref(d.get("customer")) or "")
        # a customer refund is in the customer's currency unless it names one
        currency = d.get("currency") or (customer.data.get("currency") if customer is not None else None)
        account = self.bank_account(d.get("account"), "Account", currency=currency)
        return [Entry(0, account, -paid), *out]

    def _deposit(self, d: Mapping[str, Any]) -> list[Entry]:
        """Dr the bank account; Cr each deposited payment's holding account; other lines Cr (a negative
        amount Dr) their account; cash back Dr its account."""
        rate = self._rate(d)
        out: list[Entry] = []
        for ln in d.get("payment") or []:
            if not ln.get("deposit", True):
                continue
            src = self.store.find_transaction(str(ln.get("id") or ""))
            acct = self.holding_account(src) if src is not None else self.special("undeposited", "Undeposited Funds")
            out.append(Entry(0, acct, -cents(_dec(ln.get("paymentAmount")) * rate)))
        for i, ln in enumerate(d.get("other") or []):
            acct = self.account(ln.get("account"), "undeposited", "Account", f"other.items[{i}].account")
            out.append(Entry(int(ln.get("line") or 0), acct, -cents(_dec(ln.get("amount")) * rate)))
        for i, ln in enumerate(d.get("cashback") or d.get("cashBack") or []):
            acct = self.account(ln.get("account"), "undeposited", "Account", f"cashback.items[{i}].account")
            out.append(Entry(int(ln.get("line") or 0), acct, cents(_dec(ln.get("amount")) * rate)))
        bank = self.bank_account(d.get("account"), "Account", currency=d.get("currency"))
        return [Entry(0, bank, -sum((e.amount for e in out), ZERO)), *out]

    def _journal(self, d: Mapping[str, Any]) -> list[Entry]:
        rate = self._rate(d)
        out: list[Entry] = []
        for i, ln in enumerate(d.get("line") or []):
            acct = self.account(ln.get("account"), "", "Account", f"line.items[{i}].account")
            amount = _dec(ln.get("debit")) - _dec(ln.get("credit"))
            out.append(Entry(int(ln.get("line") or 0), acct, cents(amount * rate)))
        return out

    def _adjustment(self, d: Mapping[str, Any]) -> list[Entry]:
        """Per line: Dr/Cr the item's asset account by the value moved, against the adjustment account."""
        out: list[Entry] = []
        for i, ln in enumerate(d.get("inventory") or []):
            path = f"inventory.items[{i}].item"
            item_id = _ref(ln.get("item"))
            value = _dec(ln.get("_cost")) * (1 if _dec(ln.get("adjustQtyBy")) >= 0 else -1)
            line_no = int(ln.get("line") or 0)
            asset = self.item_account(item_id, "assetAccount", path)
            out.append(Entry(line_no, asset, value))
            out.append(
                Entry(line_no, self.account(d.get("account"), "adjustment", "Adjustment Account", "account"), -value)
            )
        return out

    def _transfer(self, d: Mapping[str, Any]) -> list[Entry]:
        """Per line: Cr the asset account at the source location, Dr it at the destination."""
        out: list[Entry] = []
        for i, ln in enumerate(d.get("inventory") or []):
            asset = self.item_account(_ref(ln.get("item")), "assetAccount", f"inventory.items[{i}].item")
            value = _dec(ln.get("_cost"))
            line_no = int(ln.get("line") or 0)
            out.extend((Entry(line_no, asset, -value), Entry(line_no, asset, value)))
        return out


def stored(entries: list[Entry]) -> list[list[Any]]:
    """The form kept on the record (``_gl``)."""
    return [[e.line, e.account, e.amount] for e in entries]


def gl_lines(rec: Rec) -> list[dict[str, Any]]:
    """``transactionaccountingline`` rows of a committed transaction (from its stored postings)."""
    rid = int(rec.id)
    out: list[dict[str, Any]] = []
    for line, account, amount in rec.data.get("_gl") or []:
        amt = _dec(amount)
        out.append(
            {
                "transaction": rid,
                "transactionline": int(line),
                "account": account,
                "debit": float(amt) if amt > 0 else None,
                "credit": float(-amt) if amt < 0 else None,
                "amount": float(amt),
                "netamount": float(amt),
                "posting": "T",
                "accountingbook": "1",
                "exchangerate": float(_dec(rec.data.get("exchangeRate")) or 1),
            }
        )
    return out

# ruff: noqa: S608 - SQL is built from the sandbox's own table names, and clients' SuiteQL runs by
# design, read-only under an SQLite authorizer.
"""SuiteQL on SQLite: tables shaped like NetSuite's analytics data source, kept in sync with the
record store. Queries are parsed, checked and compiled by ``suiteql_engine`` (Oracle-dialect SuiteQL:
unknown syntax, functions, tables and columns are refused with NetSuite's ``INVALID_PARAMETER`` search
error) and run read-only under an SQLite authorizer.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from .errors import NsError
from .ledger import POSTING_TYPES, gl_lines
from .oracle_fns import ACCOUNT_DATE_MODELS, Functions
from .rules import STATUS_LABELS, dec, ref
from .schema import TRANSACTION_TYPES, CustomField
from .stock import Balance, Pair
from .store import Rec, Store
from .suiteql_engine import Catalog, Refused, compile_suiteql

SALES_NEGATIVE = {"SalesOrd", "CustInvc", "CashSale", "ItemShip"}
TYPE_TO_RECORD = {v: k for k, v in TRANSACTION_TYPES.items()}
_TRAN_LABEL = {
    "SalesOrd": "Sales Order",
    "ItemShip": "Item Fulfillment",
    "RtnAuth": "Return Authorization",
    "CustCred": "Credit Memo",
    "CashRfnd": "Cash Refund",
    "CustDep": "Customer Deposit",
    "CustRfnd": "Customer Refund",
    "CashSale": "Cash Sale",
    "CustInvc": "Invoice",
    "Journal": "Journal",
    "Deposit": "Deposit",
    "InvAdjst": "Inventory Adjustment",
    "InvTrnfr": "Inventory Transfer",
    "ItemRcpt": "Item Receipt",
    "TrnfrOrd": "Transfer Order",
    "CustPymt": "Payment",
    "DepAppl": "Deposit Application",
}

# BUILTIN.DF of item.itemtype / transactionline.itemtype and account.accttype: the display names.
ITEM_TYPE_LABELS = {
    "InvtPart": "Inventory Item",
    "NonInvtPart": "Non-inventory Item",
    "Service": "Service",
    "Kit": "Kit/Package",
    "Assembly": "Assembly/Bill of Materials",
    "Group": "Item Group",
    "Discount": "Discount",
    "Markup": "Markup",
    "OthCharge": "Other Charge",
    "Payment": "Payment",
    "Subtotal": "Subtotal",
    "Description": "Description",
    "GiftCert": "Gift Certificate",
    "ShipItem": "Shipping Cost Item",
    "TaxItem": "Sales Tax Item",
}
ACCOUNT_TYPE_LABELS = {
    "Bank": "Bank",
    "AcctRec": "Accounts Receivable",
    "OthCurrAsset": "Other Current Asset",
    "FixedAsset": "Fixed Asset",
    "OthAsset": "Other Asset",
    "AcctPay": "Accounts Payable",
    "CredCard": "Credit Card",
    "OthCurrLiab": "Other Current Liability",
    "LongTermLiab": "Long Term Liability",
    "Equity": "Equity",
    "Income": "Income",
    "COGS": "Cost of Goods Sold",
    "Expense": "Expense",
    "OthIncome": "Other Income",
    "OthExpense": "Other Expense",
    "DeferRevenue": "Deferred Revenue",
    "DeferExpense": "Deferred Expense",
    "UnbilledRec": "Unbilled Receivable",
    "NonPosting": "Non Posting",
    "Stat": "Statistical",
}

TABLES: dict[str, list[str]] = {
    "transaction": [
        "id INTEGER PRIMARY KEY",
        "tranid",
        "trandate",
        "type",
        "recordtype",
        "status",
        "entity",
        "externalid",
        "memo",
        "otherrefnum",
        "currency",
        "exchangerate REAL",
        "postingperiod",
        "createddate",
        "lastmodifieddate",
        "foreigntotal REAL",
        "foreignamountpaid REAL",
        "foreignamountunpaid REAL",
        "shipdate",
        "shipmethod",
        "posting",
        "voided",
        "approvalstatus",
    ],
    "transactionline": [
        "id INTEGER",
        "transaction INTEGER",
        "linesequencenumber INTEGER",
        "uniquekey INTEGER",
        "item",
        "quantity REAL",
        "rate REAL",
        "netamount REAL",
        "foreignamount REAL",
        "location",
        "subsidiary",
        "department",
        "class",
        "isclosed",
        "mainline",
        "taxline",
        "itemtype",
        "createdfrom",
        "quantityshiprecv REAL",
        "quantitybilled REAL",
        "quantitycommitted REAL",
        "quantitybackordered REAL",
        "memo",
        "entity",
        "isinventoryaffecting",
        "expenseaccount",
        "linelastmodifieddate",
    ],
    "transactionaccountingline": [
        "transaction INTEGER",
        "transactionline INTEGER",
        "account",
        "debit REAL",
        "credit REAL",
        "amount REAL",
        "netamount REAL",
        "posting",
        "accountingbook",
        "exchangerate REAL",
    ],
    "nexttransactionlinelink": [
        "previousdoc INTEGER",
        "previousline INTEGER",
        "previoustype",
        "nextdoc INTEGER",
        "nextline INTEGER",
        "nexttype",
        "linktype",
        "foreignamount REAL",
    ],
    "previoustransactionlinelink": [
        "previousdoc INTEGER",
        "previousline INTEGER",
        "previoustype",
        "nextdoc INTEGER",
        "nextline INTEGER",
        "nexttype",
        "linktype",
        "foreignamount REAL",
    ],
    "nexttransactionlink": ["previousdoc INTEGER", "nextdoc INTEGER", "linktype"],
    "previoustransactionlink": ["previousdoc INTEGER", "nextdoc INTEGER", "linktype"],
    "item": [
        "id INTEGER PRIMARY KEY",
        "itemid",
        "displayname",
        "description",
        "itemtype",
        "upccode",
        "parent",
        "matrixtype",
        "isinactive",
        "externalid",
        "fullname",
        "cost REAL",
        "averagecost REAL",
        "subsidiary",
        "createddate",
        "lastmodifieddate",
    ],
    "shipitem": ["id INTEGER PRIMARY KEY", "itemid", "displayname", "isinactive", "externalid"],
    "salestaxitem": ["id INTEGER PRIMARY KEY", "itemid", "rate REAL", "isinactive", "externalid"],
    "location": [
        "id INTEGER PRIMARY KEY",
        "name",
        "fullname",
        "subsidiary",
        "parent",
        "isinactive",
        "makeinventoryavailable",
        "locationtype",
        "externalid",
        "lastmodifieddate",
    ],
    "customer": [
        "id INTEGER PRIMARY KEY",
        "entityid",
        "companyname",
        "firstname",
        "lastname",
        "email",
        "phone",
        "isperson",
        "externalid",
        "subsidiary",
        "currency",
        "isinactive",
        "datecreated",
        "lastmodifieddate",
    ],
    "account": [
        "id INTEGER PRIMARY KEY",
        "acctnumber",
        "accountsearchdisplayname",
        "accountsearchdisplaynamecopy",
        "displaynamewithhierarchy",
        "fullname",
        "accttype",
        "parent",
        "issummary",
        "description",
        "isinactive",
        "currency",
        "externalid",
    ],
    "subsidiary": [
        "id INTEGER PRIMARY KEY",
        "name",
        "fullname",
        "currency",
        "country",
        "isinactive",
        "parent",
        "iselimination",
        "externalid",
    ],
    "currency": [
        "id INTEGER PRIMARY KEY",
        "name",
        "symbol",
        "exchangerate REAL",
        "isbasecurrency",
        "currencyprecision INTEGER",
        "isinactive",
        "externalid",
    ],
    "classification": [
        "id INTEGER PRIMARY KEY",
        "name",
        "fullname",
        "isinactive",
        "parent",
        "subsidiary",
        "externalid",
    ],
    "department": ["id INTEGER PRIMARY KEY", "name", "fullname", "isinactive", "parent", "subsidiary", "externalid"],
    "paymentmethod": ["id INTEGER PRIMARY KEY", "name", "isinactive", "account", "methodtype", "externalid"],
    "accountingperiod": [
        "id",
        "periodname",
        "startdate",
        "enddate",
        "closed",
        "isquarter",
        "isyear",
        "isadjust",
        "alllocked",
        "arlocked",
        "aplocked",
    ],
    "inventoryitemlocations": [
        "item INTEGER",
        "location INTEGER",
        "quantityonhand REAL",
        "quantityavailable REAL",
        "quantitycommitted REAL",
        "quantitybackordered REAL",
        "quantityonorder REAL",
        "quantityintransit REAL",
        "averagecostmli REAL",
        "onhandvaluemli REAL",
        "lastquantityavailablechange",
    ],
    "aggregateitemlocation": [
        "item INTEGER",
        "location INTEGER",
        "quantityonhand REAL",
        "quantityavailable REAL",
        "quantitycommitted REAL",
        "quantitybackordered REAL",
        "quantityonorder REAL",
        "quantityintransit REAL",
        "averagecostmli REAL",
        "lastquantityavailablechange",
    ],
}
RECORD_TABLE = {
    "inventoryItem": "item",
    "discountItem": "item",
    "shipItem": "shipitem",
    "salesTaxItem": "salestaxitem",
    "location": "location",
    "customer": "customer",
    "account": "account",
    "subsidiary": "subsidiary",
    "currency": "currency",
    "classification": "classification",
    "department": "department",
    "paymentMethod": "paymentmethod",
}
DF_TARGET = {
    "entity": ("customer", "entityid"),
    "customer": ("customer", "entityid"),
    "item": ("item", "itemid"),
    "location": ("location", "name"),
    "subsidiary": ("subsidiary", "name"),
    "currency": ("currency", "name"),
    "department": ("department", "name"),
    "class": ("classification", "name"),
    "account": ("account", "accountsearchdisplayname"),
    "expenseaccount": ("account", "accountsearchdisplayname"),
    "shipmethod": ("shipitem", "itemid"),
    "paymentmethod": ("paymentmethod", "name"),
    "parent": ("item", "itemid"),
    "postingperiod": ("accountingperiod", "periodname"),
}
MAX_ROWS = 100_000
# Dates and date-times are stored in one sortable form with 6-digit fractions, so the output can
# tell a stored date (answered in the user's date format) from a string a query built (TO_CHAR).
_STORED_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2}) \d{2}:\d{2}:\d{2}\.\d{6}$")
STORED_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def tf(value: Any) -> str:
    return "T" if value else "F"


def _num(value: Any) -> float | None:
    return None if value is None or value == "" else float(dec(value))


def _signed(value: Any, sign: float) -> float | None:
    n = _num(value)
    return None if n is None else n * sign


def _ts(d: datetime) -> str:
    return d.strftime(STORED_FORMAT)


def _d(value: Any) -> str | None:
    """A record's ``YYYY-MM-DD`` date in the stored form."""
    if not value:
        return None
    return f"{str(value)[:10]} 00:00:00.000000"


class SuiteQLError(NsError):
    def __init__(self, message: str) -> None:
        super().__init__(
            400,
            "INVALID_PARAMETER",
            f"Invalid search query. Detailed unprocessed description follows. Search error occurred: {message}",
            script_code="SSS_SEARCH_ERROR_OCCURRED",
        )


class Mirror:
    """The SQLite copy of the account. Callers hold the sandbox lock."""

    def __init__(self, custom_fields: dict[str, CustomField], custom_records: Sequence[str], store: Store) -> None:
        self.conn = sqlite3.connect(":memory:", check_same_thread=False)
        self.store = store
        self.custom_fields = custom_fields
        self.custom_records = list(custom_records)
        self._column_cache: dict[str, list[str]] = {}
        self._catalog: Catalog | None = None
        self._date_model = ACCOUNT_DATE_MODELS["M/D/YYYY"]
        self.now: Callable[[], datetime] = datetime.utcnow  # the sandbox sets its own clock
        self._create()
        self._register_functions()

    # -- schema ------------------------------------------------------------------------------------
    def _create(self) -> None:
        cur = self.conn.cursor()
        extra = {
            "transaction": [f for f in self.custom_fields if f.startswith("custbody")],
            "transactionline": [f for f in self.custom_fields if f.startswith("custcol")],
            "customer": [f for f in self.custom_fields if f.startswith("custentity")],
            "item": [f for f in self.custom_fields if f.startswith("custitem")],
        }
        for table, cols in TABLES.items():
            all_cols = [_reference_typed(c) for c in cols] + extra.get(table, [])
            cur.execute(f'CREATE TABLE "{table}" ({", ".join(_quote_col(c) for c in all_cols)})')
        custrecord_cols = [f for f in self.custom_fields if f.startswith("custrecord")]
        for name in self.custom_records:
            cols = ["id INTEGER PRIMARY KEY", "name", "externalid", "isinactive", "created", "lastmodified", "owner"]
            cur.execute(f'CREATE TABLE "{name}" ({", ".join(_quote_col(c) for c in cols + custrecord_cols)})')
        cur.execute('CREATE INDEX tl_tran ON transactionline("transaction")')
        cur.execute("CREATE INDEX iil_pair ON inventoryitemlocations(item, location)")
        cur.execute("CREATE INDEX ail_pair ON aggregateitemlocation(item, location)")
        cur.execute('CREATE INDEX tal_tran ON transactionaccountingline("transaction")')
        self.conn.commit()

    def _columns(self, table: str) -> list[str]:
        cols = self._column_cache.get(table)
        if cols is None:
            cols = self._column_cache[table] = [row[1] for row in self.conn.execute(f'PRAGMA table_info("{table}")')]
        return cols

    def _insert(self, table: str, row: dict[str, Any]) -> None:
        for fid, cf in self.custom_fields.items():
            if cf.fieldtype.upper() == "CHECKBOX" and fid not in row:
                row[fid] = "F"  # a NetSuite checkbox is never empty
        cols = [c for c in self._columns(table) if c in row]
        placeholders = ",".join("?" for _ in cols)
        quoted = ",".join(f'"{c}"' for c in cols)
        self.conn.execute(f'INSERT INTO "{table}" ({quoted}) VALUES ({placeholders})', [row[c] for c in cols])

    # -- sync --------------------------------------------------------------------------------------
    def sync(self, rec: Rec) -> None:
        self.remove(rec)
        if rec.type in TRANSACTION_TYPES:
            self._sync_transaction(rec)
        elif rec.type in RECORD_TABLE:
            self._insert(RECORD_TABLE[rec.type], self._list_row(rec))
        elif rec.type in self.custom_records:
            row = {
                "id": int(rec.id),
                "name": rec.data.get("name"),
                "externalid": rec.data.get("externalId"),
                "isinactive": tf(rec.data.get("isInactive")),
                "created": _ts(rec.created),
                "lastmodified": _ts(rec.modified),
                "owner": ref(rec.data.get("owner")),
            }
            row.update({k: _custom_sql(v) for k, v in rec.data.items() if k.startswith("custrecord")})
            self._insert(rec.type, row)
        self.conn.commit()

    def remove(self, rec: Rec) -> None:
        rid = int(rec.id)
        if rec.type in TRANSACTION_TYPES:
            for table in ("transaction",):
                self.conn.execute(f'DELETE FROM "{table}" WHERE id = ?', (rid,))
            for table in ("transactionline", "transactionaccountingline"):
                self.conn.execute(f'DELETE FROM "{table}" WHERE "transaction" = ?', (rid,))
            for table in (
                "nexttransactionlinelink",
                "previoustransactionlinelink",
                "nexttransactionlink",
                "previoustransactionlink",
            ):
                self.conn.execute(f'DELETE FROM "{table}" WHERE nextdoc = ?', (rid,))
        elif rec.type in RECORD_TABLE:
            self.conn.execute(f'DELETE FROM "{RECORD_TABLE[rec.type]}" WHERE id = ?', (rid,))
        elif rec.type in self.custom_records:
            self.conn.execute(f'DELETE FROM "{rec.type}" WHERE id = ?', (rid,))

    def sync_stock(self, pair: Pair, bal: Balance) -> None:
        item, loc = int(pair[0]), int(pair[1])
        change = _ts(bal.last_available_change) if bal.last_available_change else None
        row = {
            "item": item,
            "location": loc,
            "quantityonhand": float(bal.on_hand),
            "quantityavailable": float(bal.available),
            "quantitycommitted": float(bal.committed),
            "quantitybackordered": float(bal.back_ordered),
            "quantityonorder": float(bal.on_order),
            "quantityintransit": float(bal.in_transit),
            "averagecostmli": float(bal.average_cost),
            "onhandvaluemli": float(bal.value),
            "lastquantityavailablechange": change,
        }
        for table in ("inventoryitemlocations", "aggregateitemlocation"):
            self.conn.execute(f'DELETE FROM "{table}" WHERE item = ? AND location = ?', (item, loc))
            self._insert(table, row)
        self.conn.commit()

    def set_periods(self, periods: list[dict[str, Any]]) -> None:
        self.conn.execute("DELETE FROM accountingperiod")
        for p in periods:
            self._insert("accountingperiod", p)
        self.conn.commit()

    def _list_row(self, rec: Rec) -> dict[str, Any]:
        d = rec.data
        base = {"id": int(rec.id), "externalid": d.get("externalId"), "isinactive": tf(d.get("isInactive"))}
        t = rec.type
        if t in ("inventoryItem", "discountItem"):
            mt = d.get("matrixType")
            base.update(
                {
                    "itemid": d.get("itemId"),
                    "displayname": d.get("displayName"),
                    "description": d.get("salesDescription") or d.get("description"),
                    "itemtype": "InvtPart" if t == "inventoryItem" else "Discount",
                    "upccode": d.get("upcCode"),
                    "parent": ref(d.get("parent")),
                    "matrixtype": mt.get("id") if isinstance(mt, dict) else None,
                    "fullname": d.get("itemId"),
                    "cost": _num(d.get("cost")),
                    "averagecost": _num(d.get("averageCost")),
                    "subsidiary": ref(d.get("subsidiary")),
                    "createddate": _ts(rec.created),
                    "lastmodifieddate": _ts(rec.modified),
                }
            )
            base.update({k: _custom_sql(v) for k, v in d.items() if k.startswith("custitem")})
        elif t in ("shipItem", "salesTaxItem"):
            base.update({"itemid": d.get("itemId"), "displayname": d.get("displayName"), "rate": _num(d.get("rate"))})
        elif t == "location":
            lt = d.get("locationType")
            base.update(
                {
                    "name": d.get("name"),
                    "fullname": d.get("fullName") or d.get("name"),
                    "subsidiary": ref(d.get("subsidiary")),
                    "parent": ref(d.get("parent")),
                    "makeinventoryavailable": tf(d.get("makeInventoryAvailable", True)),
                    "locationtype": lt.get("id") if isinstance(lt, dict) else None,
                    "lastmodifieddate": _ts(rec.modified),
                }
            )
        elif t == "customer":
            base.update(
                {
                    "entityid": d.get("entityId"),
                    "companyname": d.get("companyName"),
                    "firstname": d.get("firstName"),
                    "lastname": d.get("lastName"),
                    "email": d.get("email"),
                    "phone": d.get("phone"),
                    "isperson": tf(d.get("isPerson")),
                    "subsidiary": ref(d.get("subsidiary")),
                    "currency": ref(d.get("currency")),
                    "datecreated": _ts(rec.created),
                    "lastmodifieddate": _ts(rec.modified),
                }
            )
            base.update({k: _custom_sql(v) for k, v in d.items() if k.startswith("custentity")})
        elif t == "account":
            at = d.get("acctType")
            name, number = d.get("acctName"), d.get("acctNumber")
            # fullname: the name with its parents' ("Parent : Child"); the display names lead with the number
            chain: list[Rec] = [rec]
            parent = self.store.get("account", ref(d.get("parent")) or "")
            while parent is not None and parent.id not in {a.id for a in chain} and len(chain) < 10:
                chain.insert(0, parent)
                parent = self.store.get("account", ref(parent.data.get("parent")) or "")
            base.update(
                {
                    "acctnumber": number,
                    "accountsearchdisplayname": f"{number} {name}" if number else name,
                    "accountsearchdisplaynamecopy": name,
                    "displaynamewithhierarchy": " : ".join(
                        f"{a.data['acctNumber']} {a.data.get('acctName')}"
                        if a.data.get("acctNumber")
                        else str(a.data.get("acctName"))
                        for a in chain
                    ),
                    "fullname": " : ".join(str(a.data.get("acctName")) for a in chain),
                    "accttype": at.get("id") if isinstance(at, dict) else None,
                    "parent": ref(d.get("parent")),
                    "issummary": tf(d.get("isSummary")),
                    "description": d.get("description"),
                    "currency": ref(d.get("currency")),
                }
            )
        elif t == "subsidiary":
            c = d.get("country")
            base.update(
                {
                    "name": d.get("name"),
                    "fullname": d.get("fullName") or d.get("name"),
                    "currency": ref(d.get("currency")),
                    "country": c.get("id") if isinstance(c, dict) else c,
                    "parent": ref(d.get("parent")),
                    "iselimination": tf(d.get("isElimination")),
                }
            )
        elif t == "currency":
            base.update(
                {
                    "name": d.get("name"),
                    "symbol": d.get("symbol"),
                    "exchangerate": _num(d.get("exchangeRate")) or 1.0,
                    "isbasecurrency": tf(d.get("isBaseCurrency")),
                    "currencyprecision": int(d.get("currencyPrecision") or 2),
                }
            )
        elif t in ("classification", "department"):
            base.update(
                {
                    "name": d.get("name"),
                    "fullname": d.get("fullName") or d.get("name"),
                    "parent": ref(d.get("parent")),
                    "subsidiary": ref(d.get("subsidiary")),
                }
            )
        elif t == "paymentMethod":
            mt = d.get("methodType")
            base.update(
                {
                    "name": d.get("name"),
                    "account": ref(d.get("account")),
                    "methodtype": mt.get("id") if isinstance(mt, dict) else None,
                }
            )
        return base

    def _sync_transaction(self, rec: Rec) -> None:
        d = rec.data
        code = TRANSACTION_TYPES[rec.type]
        status = ref(d.get("status"))
        entity = ref(d.get("entity")) or ref(d.get("customer"))
        tran = {
            "id": int(rec.id),
            "tranid": d.get("tranId"),
            "trandate": _d(d.get("tranDate")),
            "type": code,
            "recordtype": rec.type.lower(),
            "status": status,
            "entity": entity,
            "externalid": d.get("externalId"),
            "memo": d.get("memo"),
            "otherrefnum": d.get("otherRefNum"),
            "currency": ref(d.get("currency")),
            "exchangerate": _num(d.get("exchangeRate")) or 1.0,
            "postingperiod": ref(d.get("postingPeriod")),
            "createddate": _ts(rec.created),
            "lastmodifieddate": _ts(rec.modified),
            "foreigntotal": _num(d.get("total")),
            # an invoice's payments, credits and deposit applications, and what is still owed
            "foreignamountpaid": _num(d.get("amountPaid", 0)) if rec.type == "invoice" else None,
            "foreignamountunpaid": _num(d.get("amountRemaining", d.get("total"))) if rec.type == "invoice" else None,
            "shipdate": _d(d.get("shipDate")),
            "shipmethod": ref(d.get("shipMethod")),
            # a picked or packed fulfillment does not post until it is shipped
            "posting": tf(rec.type in POSTING_TYPES and (rec.type != "itemFulfillment" or status == "C")),
            "voided": "F",
            "approvalstatus": ref(d.get("approvalStatus")),
        }
        tran.update({k: _custom_sql(v) for k, v in d.items() if k.startswith("custbody")})
        self._insert("transaction", tran)
        sign = -1.0 if code in SALES_NEGATIVE else 1.0
        sub = ref(d.get("subsidiary"))
        created_from = ref(d.get("createdFrom"))
        self._insert(
            "transactionline",
            {
                "id": 0,
                "transaction": int(rec.id),
                "linesequencenumber": 0,
                "uniquekey": int(rec.id) * 1000,
                "mainline": "T",
                "taxline": "F",
                "isclosed": "F",
                "entity": entity,
                "subsidiary": sub,
                "location": ref(d.get("location")),
                "foreignamount": (_num(d.get("total")) or 0.0) * sign,
                "netamount": (_num(d.get("total")) or 0.0) * sign,
                "createdfrom": created_from,
                "memo": d.get("memo"),
                "linelastmodifieddate": _ts(rec.modified),
            },
        )
        sublist = {
            "journalEntry": "line",
            "inventoryAdjustment": "inventory",
            "inventoryTransfer": "inventory",
            "deposit": "other",
        }.get(rec.type, "item")
        for ln in d.get(sublist) or []:
            line_no = int(ln.get("line") or 0)
            item = self.store.find_item(ref(ln.get("item")) or "") if ln.get("item") else None
            qty = ln.get("quantity", ln.get("adjustQtyBy"))
            amount = ln.get("amount")
            if rec.type == "journalEntry":
                amount = dec(ln.get("debit")) - dec(ln.get("credit"))
            if rec.type == "itemFulfillment" and not ln.get("itemReceive", True):
                continue
            row = {
                "id": line_no,
                "transaction": int(rec.id),
                "linesequencenumber": line_no,
                "uniquekey": int(rec.id) * 1000 + line_no,
                "item": ref(ln.get("item")),
                "quantity": _signed(qty, sign),
                "rate": _num(ln.get("rate")),
                "netamount": _signed(amount, sign),
                "foreignamount": _signed(amount, sign),
                "location": ref(ln.get("location")) or ref(d.get("location")),
                "subsidiary": sub,
                "department": ref(ln.get("department")),
                "class": ref(ln.get("class")),
                "isclosed": tf(ln.get("isClosed")),
                "mainline": "F",
                "taxline": "F",
                "itemtype": _item_type(item),
                "createdfrom": created_from,
                "quantityshiprecv": _num(
                    ln.get("quantityFulfilled")
                    if rec.type in ("salesOrder", "transferOrder")
                    else ln.get("quantityReceived")
                ),
                "quantitybilled": _num(ln.get("quantityBilled")),
                "quantitycommitted": _num(ln.get("quantityCommitted")),
                "quantitybackordered": _num(ln.get("quantityBackOrdered")),
                "memo": ln.get("memo") or ln.get("description"),
                "entity": ref(ln.get("entity")) or entity,
                "isinventoryaffecting": tf(item and item.type == "inventoryItem"),
                "expenseaccount": ref(ln.get("account")),
                "linelastmodifieddate": _ts(rec.modified),
            }
            row.update({k: _custom_sql(v) for k, v in ln.items() if k.startswith("custcol")})
            self._insert("transactionline", row)
            order_line = ln.get("orderLine")
            if created_from and order_line is not None:
                src = self.store.find_transaction(created_from)
                link = {
                    "previousdoc": int(created_from),
                    "previousline": int(order_line),
                    "previoustype": TRANSACTION_TYPES.get(src.type) if src else None,
                    "nextdoc": int(rec.id),
                    "nextline": line_no,
                    "nexttype": code,
                    "linktype": _link_type(code),
                    "foreignamount": _num(amount),
                }
                self._insert("nexttransactionlinelink", link)
                self._insert("previoustransactionlinelink", link)
        if created_from:
            for table in ("nexttransactionlink", "previoustransactionlink"):
                self._insert(
                    table, {"previousdoc": int(created_from), "nextdoc": int(rec.id), "linktype": _link_type(code)}
                )
        for gl in gl_lines(rec):
            self._insert("transactionaccountingline", gl)

    # -- SQL functions -------------------------------------------------------------------------------
    def _register_functions(self) -> None:
        self.conn.create_function("ns_df", 3, self._df)
        self.conn.create_function("ns_df_status", 2, _df_status)
        self._functions = Functions(lambda: self.now(), lambda: self._date_model)  # noqa: PLW0108 - now is reassigned
        self._functions.register(self.conn)

    def catalog(self) -> Catalog:
        """Every table and column a query may name, read from the mirror itself (so tables, columns and
        custom fields added anywhere are covered), typed for the engine's date and number rules."""
        if self._catalog is None:
            names = [r[0] for r in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            tables: dict[str, dict[str, str]] = {}
            for name in names:
                cols: dict[str, str] = {}
                for row in self.conn.execute(f'PRAGMA table_info("{name}")'):
                    cf = self.custom_fields.get(row[1])
                    cols[row[1]] = Catalog.column_type(row[1], row[2] or "", cf.fieldtype if cf else None)
                tables[name.lower()] = cols
            self._catalog = Catalog(tables)
        return self._catalog

    def _df(self, table: str, column: str, value: Any) -> Any:
        if value is None:
            return None
        col = column.lower()
        if col == "type" and table in ("transaction", ""):
            return _TRAN_LABEL.get(str(value), value)
        if col == "itemtype":
            return ITEM_TYPE_LABELS.get(str(value), value)
        if col == "accttype":
            return ACCOUNT_TYPE_LABELS.get(str(value), value)
        if col in ("createdfrom", "transaction", "previousdoc", "nextdoc"):
            row = self.conn.execute('SELECT type, tranid FROM "transaction" WHERE id = ?', (value,)).fetchone()
            return f"{_TRAN_LABEL.get(row[0], row[0])} #{row[1]}" if row else value
        if col in ("isclosed", "mainline", "isinactive"):
            return "Yes" if value == "T" else "No"
        target = DF_TARGET.get(col) or self._custom_select_target(col)
        if target is None:
            return value
        table, name_col = target
        row = self.conn.execute(f'SELECT "{name_col}" FROM "{table}" WHERE id = ?', (value,)).fetchone()
        if row is None and table == "item":
            row = self.conn.execute("SELECT itemid FROM shipitem WHERE id = ?", (value,)).fetchone()
        return row[0] if row else value

    def _custom_select_target(self, column: str) -> tuple[str, str] | None:
        """BUILTIN.DF of a custom list/record field: the name of the record it points at."""
        cf = self.custom_fields.get(column)
        target = cf.select_record if cf is not None else None
        if not target:
            return None
        if target in self.custom_records:
            return target, "name"
        table = RECORD_TABLE.get(target)
        if table is None:
            return None
        names = {"customer": "entityid", "item": "itemid", "shipitem": "itemid", "salestaxitem": "itemid",
                 "account": "fullname"}
        return table, names.get(table, "name")

    # -- execution ---------------------------------------------------------------------------------
    def execute(
        self,
        query: str,
        params: Sequence[Any] = (),
        limit: int | None = None,
        offset: int = 0,
        date_format: str = "M/D/YYYY",
    ) -> tuple[list[str], list[tuple[Any, ...]], int]:
        """Run a SuiteQL query; returns (lower-case columns, rows of the page, total rows)."""
        self._date_model = ACCOUNT_DATE_MODELS.get(date_format, "MM/DD/YYYY")
        try:
            compiled = compile_suiteql(query, self.catalog(), date_format, len(params))
        except Refused as exc:
            raise SuiteQLError(str(exc)) from None
        sql = compiled.sql
        self._functions.last_error = None
        self.conn.set_authorizer(_read_only)
        try:
            total_row = self.conn.execute(f"SELECT COUNT(*) FROM ({sql})", tuple(params)).fetchone()
            total = int(total_row[0]) if total_row else 0
            page_sql = f"SELECT * FROM ({sql})"
            if limit is not None:
                page_sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
            cur = self.conn.execute(page_sql, tuple(params))
            rows = cur.fetchall()
        except sqlite3.Error as exc:
            reason = self._functions.last_error if "user-defined function" in str(exc) else None
            raise SuiteQLError(reason or _friendly(str(exc))) from None
        finally:
            self.conn.set_authorizer(None)
        return _column_names(compiled.columns), rows, total


# Columns holding another record's internal id: numbers in NetSuite. Declared INTEGER so a stored
# '110' and a query's 110 or '110' compare equal in joins, IN lists, MINUS and UNION, as they do there.
REFERENCE_COLUMNS = frozenset(
    {"item", "location", "entity", "subsidiary", "department", "class", "createdfrom", "currency", "account",
     "expenseaccount", "parent", "shipmethod", "transaction", "accountingbook", "owner"}
)


def _reference_typed(spec: str) -> str:
    return f"{spec} INTEGER" if spec in REFERENCE_COLUMNS else spec


def _quote_col(spec: str) -> str:
    name, _, rest = spec.partition(" ")
    return f'"{name}" {rest}'.strip()


def _item_type(item: Rec | None) -> str | None:
    if item is None:
        return None
    return {"inventoryItem": "InvtPart", "discountItem": "Discount", "shipItem": "ShipItem"}.get(item.type)


def _link_type(code: str) -> str:
    return {
        "ItemShip": "ShipRcpt",
        "ItemRcpt": "ShipRcpt",
        "CustInvc": "OrdBill",
        "CashSale": "OrdBill",
        "CustCred": "OrdBill",
        "CashRfnd": "OrdBill",
        "RtnAuth": "RetnAuth",
    }.get(code, "OrdBill")


def _custom_sql(value: Any) -> Any:
    if isinstance(value, bool):
        return tf(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return value.get("id")
    if isinstance(value, list):
        return ",".join(str(v.get("id") if isinstance(v, dict) else v) for v in value)
    return value


def _df_status(type_code: Any, status: Any) -> Any:
    if status is None:
        return None
    rec_type = TYPE_TO_RECORD.get(str(type_code))
    label = STATUS_LABELS.get(rec_type or "", {}).get(str(status))
    if label is None:
        return status
    return f"{_TRAN_LABEL.get(str(type_code), type_code)} : {label}"


_READ_ACTIONS = {
    sqlite3.SQLITE_SELECT,
    sqlite3.SQLITE_READ,
    sqlite3.SQLITE_FUNCTION,
    getattr(sqlite3, "SQLITE_RECURSIVE", 33),
}


def _read_only(action: int, *_: Any) -> int:
    return sqlite3.SQLITE_OK if action in _READ_ACTIONS else sqlite3.SQLITE_DENY


def _column_names(names: list[str]) -> list[str]:
    out: list[str] = []
    n = 0
    for name in names:
        clean = name.strip().lower()
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", clean):
            n += 1
            clean = f"expr{n}"
        out.append(clean)
    return out


def _friendly(message: str) -> str:
    m = re.match(r"no such table: (\w+)", message)
    if m:
        return f"Record '{m.group(1)}' was not found."
    m = re.match(r"no such column: (?:\w+\.)?(\w+)", message)
    if m:
        return f"Field '{m.group(1)}' was not found."
    if "not authorized" in message:
        return "Only SELECT statements are supported."
    return message


def format_value(value: Any, date_format: str) -> str:
    """NetSuite answers SuiteQL values as strings; dates in the user's date format (date part only)."""
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(repr(round(value, 8))).normalize(), "f")
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if date_format != "ISO":
        m = _STORED_DATE.match(text)
        if m:
            return f"{int(m.group(2))}/{int(m.group(3))}/{m.group(1)}"
    return text


def page_items(columns: list[str], rows: list[tuple[Any, ...]], date_format: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for row in rows:
        item: dict[str, Any] = {"links": []}
        for col, value in zip(columns, row, strict=False):
            if value is not None:
                item[col] = format_value(value, date_format)
        items.append(item)
    return items


def accounting_periods(start: date, months: int, closed: set[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    y, m = start.year, start.month
    for _ in range(months):
        first = date(y, m, 1)
        nxt = date(y + (m == 12), m % 12 + 1, 1)
        key = first.strftime("%Y-%m")
        flag = "T" if key in closed else "F"
        out.append(
            {
                "id": key,
                "periodname": first.strftime("%b %Y"),
                "startdate": _d(first.isoformat()),
                "enddate": _d((nxt - timedelta(days=1)).isoformat()),
                "closed": flag,
                "isquarter": "F",
                "isyear": "F",
                "isadjust": "F",
                "alllocked": flag,
                "arlocked": flag,
                "aplocked": flag,
            }
        )
        y, m = nxt.year, nxt.month
    return out


RowFormatter = Callable[[list[str], list[tuple[Any, ...]]], list[dict[str, Any]]]

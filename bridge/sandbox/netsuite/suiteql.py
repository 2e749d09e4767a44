# ruff: noqa: S608 - SQL is built from the sandbox's own table names, and clients' SuiteQL runs by
# design, read-only under an SQLite authorizer.
"""SuiteQL on SQLite: tables shaped like NetSuite's analytics data source, kept in sync with the
record store, and a small translator for the Oracle-isms SuiteQL queries use.

Supported: ``BUILTIN.DF(alias.column)``, ``FETCH FIRST/NEXT n ROWS ONLY``, ``OFFSET n ROWS``,
``WHERE ROWNUM <= n``, ``SYSDATE``, ``MINUS``, ``TO_DATE``, ``TO_CHAR``, ``TO_NUMBER``, ``NVL``,
``NVL2``, ``DECODE``, ``TRUNC``, ``ADD_MONTHS``, ``FLOOR``, ``CEIL``. Anything else SQLite cannot run
is refused with NetSuite's ``INVALID_PARAMETER`` search error. Only SELECT/WITH statements run,
under an SQLite authorizer that allows reads only.
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
from .rules import STATUS_LABELS, dec, ref
from .schema import TRANSACTION_TYPES, CustomField
from .stock import Balance, Pair
from .store import Rec, Store

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
            all_cols = cols + extra.get(table, [])
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
        c = self.conn
        c.create_function("ns_df", 2, self._df)
        c.create_function("ns_df_status", 2, _df_status)
        c.create_function("to_date", -1, _to_date)
        c.create_function("to_timestamp", -1, _to_date)
        c.create_function("to_char", -1, _to_char)
        c.create_function("to_number", 1, lambda v: None if v is None else float(Decimal(str(v))))
        c.create_function("nvl", 2, lambda a, b: b if a is None else a)
        c.create_function("nvl2", 3, lambda a, b, x: x if a is None else b)
        c.create_function("decode", -1, _decode)
        c.create_function("trunc", -1, _trunc)
        c.create_function("add_months", 2, _add_months)
        c.create_function(
            "floor", 1, lambda v: None if v is None else int(Decimal(str(v)).to_integral_value("ROUND_FLOOR"))
        )
        c.create_function(
            "ceil", 1, lambda v: None if v is None else int(Decimal(str(v)).to_integral_value("ROUND_CEILING"))
        )
        c.create_function("ns_sysdate", 0, lambda: _ts(datetime.utcnow()))  # noqa: DTZ003 - SQL has no tz

    def _df(self, column: str, value: Any) -> Any:
        if value is None:
            return None
        col = column.lower()
        if col in ("type",):
            return _TRAN_LABEL.get(str(value), value)
        if col in ("createdfrom", "transaction", "previousdoc", "nextdoc"):
            row = self.conn.execute('SELECT type, tranid FROM "transaction" WHERE id = ?', (value,)).fetchone()
            return f"{_TRAN_LABEL.get(row[0], row[0])} #{row[1]}" if row else value
        if col in ("isclosed", "mainline", "isinactive"):
            return "Yes" if value == "T" else "No"
        target = DF_TARGET.get(col)
        if target is None:
            return value
        table, name_col = target
        row = self.conn.execute(f'SELECT "{name_col}" FROM "{table}" WHERE id = ?', (value,)).fetchone()
        if row is None and table == "item":
            row = self.conn.execute("SELECT itemid FROM shipitem WHERE id = ?", (value,)).fetchone()
        return row[0] if row else value

    # -- execution ---------------------------------------------------------------------------------
    def execute(
        self, query: str, params: Sequence[Any] = (), limit: int | None = None, offset: int = 0
    ) -> tuple[list[str], list[tuple[Any, ...]], int]:
        """Run a SuiteQL query; returns (lower-case columns, rows of the page, total rows)."""
        sql = translate(query)
        self.conn.set_authorizer(_read_only)
        try:
            total_row = self.conn.execute(f"SELECT COUNT(*) FROM ({sql})", tuple(params)).fetchone()
            total = int(total_row[0]) if total_row else 0
            page_sql = f"SELECT * FROM ({sql})"
            if limit is not None:
                page_sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
            cur = self.conn.execute(page_sql, tuple(params))
            rows = cur.fetchall()
            columns = _column_names([d[0] for d in cur.description or []])
        except sqlite3.Error as exc:
            raise SuiteQLError(_friendly(str(exc))) from None
        finally:
            self.conn.set_authorizer(None)
        return columns, rows, total


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


_ORACLE_FMT = [
    ("YYYY", "%Y"),
    ("MM", "%m"),
    ("DD", "%d"),
    ("HH24", "%H"),
    ("HH", "%I"),
    ("MI", "%M"),
    ("SS", "%S"),
    ("MON", "%b"),
    ("YY", "%y"),
    ("AM", "%p"),
    ("PM", "%p"),
]


def _oracle_to_strftime(fmt: str) -> str:
    out = ""
    i = 0
    upper = fmt.upper()
    while i < len(fmt):
        if fmt[i] == '"':
            j = fmt.find('"', i + 1)
            j = len(fmt) if j < 0 else j
            out += fmt[i + 1 : j]
            i = j + 1
            continue
        for token, repl in _ORACLE_FMT:
            if upper.startswith(token, i):
                out += repl
                i += len(token)
                break
        else:
            out += fmt[i]
            i += 1
    return out


def _parse_any_date(value: Any) -> datetime | None:
    if value is None:
        return None
    text = str(value).strip()
    for fmt in (
        STORED_FORMAT,
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%SZ",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y",
    ):
        try:
            return datetime.strptime(text, fmt)  # noqa: DTZ007 - SuiteQL dates are naive account-time values
        except ValueError:
            continue
    return None


def _to_date(*args: Any) -> str | None:
    if not args or args[0] is None:
        return None
    value = args[0]
    if len(args) > 1 and args[1]:
        try:
            parsed = datetime.strptime(str(value), _oracle_to_strftime(str(args[1])))  # noqa: DTZ007
        except ValueError:
            raise sqlite3.OperationalError(f"date {value!r} does not match format {args[1]!r}") from None
    else:
        parsed = _parse_any_date(value)  # type: ignore[assignment]
        if parsed is None:
            raise sqlite3.OperationalError(f"invalid date {value!r}")
    return _ts(parsed)


def _to_char(*args: Any) -> str | None:
    if not args or args[0] is None:
        return None
    value = args[0]
    if len(args) == 1:
        return str(value)
    parsed = _parse_any_date(value)
    if parsed is None:
        return str(value)
    return parsed.strftime(_oracle_to_strftime(str(args[1])))


def _decode(*args: Any) -> Any:
    if len(args) < 3:
        raise sqlite3.OperationalError("DECODE needs at least three arguments")
    value, rest = args[0], list(args[1:])
    while len(rest) >= 2:
        if rest[0] == value:
            return rest[1]
        rest = rest[2:]
    return rest[0] if rest else None


def _trunc(*args: Any) -> Any:
    value = args[0] if args else None
    if value is None:
        return None
    if isinstance(value, int | float):
        return int(value)
    parsed = _parse_any_date(value)
    if parsed is None:
        return value
    fmt = str(args[1]).upper() if len(args) > 1 else "DD"
    d = parsed.date()
    if fmt in ("MM", "MONTH", "MON"):
        d = d.replace(day=1)
    elif fmt in ("YYYY", "YEAR", "YY"):
        d = d.replace(month=1, day=1)
    return _d(d.isoformat())


def _add_months(value: Any, months: Any) -> str | None:
    parsed = _parse_any_date(value)
    if parsed is None:
        return None
    m = parsed.month - 1 + int(months)
    year, month = parsed.year + m // 12, m % 12 + 1
    day = min(
        parsed.day,
        [31, 29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][
            month - 1
        ],
    )
    return _d(date(year, month, day).isoformat())


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


_DF = re.compile(r"BUILTIN\.DF\s*\(\s*(?:([A-Za-z_]\w*)\s*\.\s*)?([A-Za-z_]\w*)\s*\)", re.IGNORECASE)
_FETCH = re.compile(r"\bFETCH\s+(?:FIRST|NEXT)\s+(\d+)\s+ROWS?\s+ONLY\b", re.IGNORECASE)
_OFFSET_ROWS = re.compile(r"\bOFFSET\s+(\d+)\s+ROWS?\b", re.IGNORECASE)
_ROWNUM = re.compile(r"\b(WHERE|AND)\s+ROWNUM\s*(<=|<)\s*(\d+)\s*(AND\b)?", re.IGNORECASE)


_KEYWORD_IDS = re.compile(r'(?<!")\btransaction\b(?!")', re.IGNORECASE)


def _outside_strings(sql: str, fn: Callable[[str], str]) -> str:
    parts = re.split(r"('(?:[^']|'')*')", sql)
    return "".join(p if i % 2 else fn(p) for i, p in enumerate(parts))


def translate(query: str) -> str:
    """SuiteQL -> SQLite. Raises ``SuiteQLError`` for what the sandbox cannot run."""
    sql = query.strip().rstrip(";").strip()
    if not re.match(r"^(SELECT|WITH)\b", sql, re.IGNORECASE):
        raise SuiteQLError("Only SELECT statements are supported.")
    if ";" in sql:
        raise SuiteQLError("Only one statement is allowed.")

    def df(m: re.Match[str]) -> str:
        alias, col = m.group(1), m.group(2)
        expr = f"{alias}.{col}" if alias else col
        if col.lower() == "status":
            type_expr = f"{alias}.type" if alias else "type"
            return f"ns_df_status({type_expr}, {expr})"
        return f"ns_df('{col.lower()}', {expr})"

    sql = _outside_strings(sql, lambda part: _KEYWORD_IDS.sub(lambda m: f'"{m.group(0).lower()}"', part))
    sql = _DF.sub(df, sql)
    if re.search(r"\bBUILTIN\.", sql, re.IGNORECASE):
        raise SuiteQLError("Only BUILTIN.DF(column) is supported by the sandbox.")
    limit: int | None = None
    m = _ROWNUM.search(sql)
    if m:
        n = int(m.group(3)) - (1 if m.group(2) == "<" else 0)
        limit = n
        replacement = (m.group(1).upper() + " ") if m.group(4) else ""
        sql = sql[: m.start()] + " " + replacement + sql[m.end() :]
    if re.search(r"\bROWNUM\b", sql, re.IGNORECASE):
        raise SuiteQLError("ROWNUM is only supported as WHERE ROWNUM <= n.")
    offset = None
    mo = _OFFSET_ROWS.search(sql)
    if mo:
        offset = int(mo.group(1))
        sql = sql[: mo.start()] + sql[mo.end() :]
    mf = _FETCH.search(sql)
    if mf:
        limit = int(mf.group(1)) if limit is None else min(limit, int(mf.group(1)))
        sql = sql[: mf.start()] + sql[mf.end() :]
    sql = re.sub(r"\b(SYSDATE|CURRENT_DATE|CURRENT_TIMESTAMP|SYSTIMESTAMP)\b", "ns_sysdate()", sql, flags=re.IGNORECASE)
    sql = re.sub(r"\bMINUS\b", "EXCEPT", sql, flags=re.IGNORECASE)
    sql = sql.strip()
    if limit is not None:
        sql += f" LIMIT {limit}"
        if offset:
            sql += f" OFFSET {offset}"
    elif offset:
        sql += f" LIMIT -1 OFFSET {offset}"
    return sql


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
